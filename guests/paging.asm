; paging.asm - 32-bit paging feature kernel: page tables, a 4 MiB page,
; page faults and their error codes, CR0.WP, Accessed/Dirty bits, INVLPG,
; CR3 reloads and a ring-3 task, each reported as one line on COM1.
;
; Run:   build/trapeze -kernel build/guests/paging.elf -nographic
;        qemu-system-i386 -kernel build/guests/paging.elf -nographic \
;            -device isa-debug-exit,iobase=0xf4,iosize=0x04
; Prints "paging: 32-bit paging checks", then "ok <name>" or
; "FAIL <name>: got X want Y" for each check below, and
; "paging: all 13 checks passed" (exit status 33) or
; "paging: N of 13 checks failed" (status 35).  A fault nobody expected
; prints "FAIL unexpected exception ..." and exits with status 35.
;
; Linear memory (SDM = Intel SDM Vol. 3A; 32-bit paging, 4.3):
;   0x00000000-0x003FFFFF  PDE 0 -> pt0: identity, 4 KiB pages, supervisor,
;                          except the ring-3 task's code, data and stack
;                          pages (U/S = 1)
;   0x00400000-0x007FFFFF  PDE 1: a 4 MiB page (PS = 1, CR4.PSE), identity
;   0x00800000-0x00BFFFFF  PDE 2: the same 4 MiB frame again (an alias)
;   0x40000000-0x403FFFFF  PDE 256 -> pt_demand: not present until touched;
;                          the #PF handler maps a zeroed frame (demand zero)
;   0x40400000-0x407FFFFF  PDE 257 -> pt_test: the pages the checks play with
;
; The checks:
;   pse-4mib-page            a 4 MiB page and its alias read and write the
;                            same frame; the CPU sets A, then D, in the PDE (4.8)
;   demand-zero-read         a read of a not-present page: #PF error 0, CR2 =
;                            the address; the handler maps a zeroed frame and
;                            the read restarts and returns 0
;   demand-zero-write        the same for a write: error 2 (W), the write lands
;   pf-not-present-read      #PF error code 0, CR2, saved EIP = the faulting
;                            instruction (4.7, figure 4-12)
;   pf-not-present-write     error code 2 (W/R = 1)
;   wp0-write-readonly       CR0.WP = 0: a CPL-0 write to a read-only page
;                            succeeds (4.6.1)
;   pf-protection-write-wp1  CR0.WP = 1: it faults, error code 3 (P | W)
;   accessed-dirty           a read sets A in the PDE and PTE, D stays clear;
;                            a write sets D in the PTE (4.8)
;   remap-invlpg             a PTE pointed at another frame, INVLPG, the new
;                            frame's contents read (4.10.4.1)
;   cr3-reload               MOV CR3 with the same value picks up a changed
;                            PTE; MOV CR3 to a second directory maps the page
;                            elsewhere, and back
;   user-page-ring3          a ring-3 task writes and reads its own user page
;   pf-user-read-supervisor  ring 3 reads a supervisor page: error 5 (P | U)
;   pf-user-write-supervisor ring 3 writes it: error 7 (P | W | U)

%include "guests/common.inc"
%include "guests/gdt.inc"
%include "guests/idt.inc"
%include "guests/paging.inc"
%include "guests/checks.inc"

bits 32

extern serial_puts, serial_putc, serial_hex32, exit_pass, exit_fail

NCHECKS   equ 13

TYPE_INT_GATE  equ 0x8E           ; P, DPL 0, 32-bit interrupt gate (SDM 6.11)
TYPE_INT_GATE3 equ 0xEE           ; P, DPL 3
TYPE_TSS       equ 0x89           ; P, DPL 0, 32-bit TSS, available (7.2.2)

; ---- control registers (SDM 2.5) ----
CR0_WP    equ 1 << 16             ; supervisor writes honour R/W
CR0_PG    equ 1 << 31
CR4_PSE   equ 1 << 4              ; PS = 1 in a PDE maps a 4 MiB page

; ---- paging-structure entries (SDM 4.3, tables 4-4 to 4-6) ----
PTE_P     equ 0x001
PTE_W     equ 0x002
PTE_U     equ 0x004
PTE_A     equ 0x020               ; accessed
PTE_D     equ 0x040               ; dirty (PTE, or a PDE with PS)
PTE_PS    equ 0x080               ; page size, PDE only
PAGE      equ 4096

; ---- #PF error code (SDM 4.7) ----
PF_P      equ 1                   ; protection violation (0: not present)
PF_W      equ 2                   ; write
PF_U      equ 4                   ; user-mode access

BIG_LIN   equ 0x00400000          ; PDE 1: 4 MiB page, identity
BIG_ALIAS equ 0x00800000          ; PDE 2: the same frame
DEMAND    equ 0x40000000          ; PDE 256
DEMAND_PDE equ DEMAND >> 22
TEST_LIN  equ 0x40400000          ; PDE 257
TEST_PDE  equ TEST_LIN >> 22
TP_NP     equ TEST_LIN + 0 * PAGE ; never present
TP_RO     equ TEST_LIN + 1 * PAGE ; read-only, for WP = 0
TP_RO2    equ TEST_LIN + 2 * PAGE ; read-only, for WP = 1
TP_AD     equ TEST_LIN + 3 * PAGE ; A and D start clear
TP_REMAP  equ TEST_LIN + 4 * PAGE
TP_CR3    equ TEST_LIN + 5 * PAGE
POOL_PAGES equ 2                  ; frames the demand-zero handler hands out
POOL_FILL equ 0xA5A5A5A5          ; what they hold until it zeroes them

; ---- system call (int 0x80) ----
SYS_RETURN equ 1                  ; leave ring 3 for good

; checks.inc: the frame, EXPECT, CHECK_DONE, ARM.

; EXPECT_PF error, cr2, eip: the last fault was a #PF with these.
%macro EXPECT_PF 3
        EXPECT [last_vector], 14
        EXPECT [last_error], %1
        EXPECT [last_cr2], %2
        EXPECT [last_eip], %3
%endmacro

; The ring-3 task's code comes first, alone on its page, so that page alone
; can be made a user page.
section .text align=4096
user_code:
user_main:
        mov ax, UDATA             ; IRET to ring 3 nulled DS and ES (DPL 0 < CPL)
        mov ds, ax
        mov es, ax
        mov dword [u_value], 0x600DF00D
        push dword [u_value]      ; through the user stack page too
        pop eax
        mov [u_readback], eax
        mov dword [u_resume], .r1
.f1:    mov eax, [kernel_secret]  ; a supervisor page: #PF (P | U)
.r1:    mov dword [u_resume], .r2
.f2:    mov dword [kernel_secret], 0xBAD   ; #PF (P | W | U)
.r2:    mov eax, SYS_RETURN
        int 0x80
        ud2                       ; not reached
user_f1 equ user_main.f1
user_f2 equ user_main.f2
        times PAGE - ($ - user_code) db 0xCC   ; assembly fails if it outgrows a page

global main
main:
        mov esi, msg_start
        call serial_puts
        call setup_gdt
        call setup_idt
        call setup_tables
        PAGING_ON page_dir, CR0_PG | CR0_WP ; paging.inc: paging is on; this code is identity-mapped
; ---------------------------------------------------------------- 4 MiB page
        mov dword [BIG_LIN + 0x1230], 0xCAFEF00D
        mov eax, [BIG_ALIAS + 0x1230]
        EXPECT eax, 0xCAFEF00D
        mov eax, [page_dir + 2 * 4]
        and eax, PTE_A | PTE_D
        EXPECT eax, PTE_A         ; read through the alias: A, not D
        mov dword [BIG_ALIAS + 0x1234], 0x11223344
        EXPECT [BIG_LIN + 0x1234], 0x11223344
        mov eax, [page_dir + 2 * 4]
        and eax, PTE_A | PTE_D
        EXPECT eax, PTE_A | PTE_D
        CHECK_DONE "pse-4mib-page"
; ---------------------------------------------------------------- demand zero
        mov eax, [DEMAND + PAGE + 0x234]   ; not present: the handler maps it
        EXPECT eax, 0
        EXPECT [DEMAND + PAGE + PAGE - 4], 0   ; the whole frame was zeroed
        EXPECT [demand_faults], 1
        EXPECT [demand_error], 0
        EXPECT [demand_cr2], DEMAND + PAGE + 0x234
        mov eax, [pt_demand + 1 * 4]
        and eax, 0xFFFFF000 | PTE_P
        EXPECT eax, pool + PTE_P
        CHECK_DONE "demand-zero-read"
        mov dword [DEMAND + 2 * PAGE + 8], 0x5A5A1234
        EXPECT [DEMAND + 2 * PAGE + 8], 0x5A5A1234
        EXPECT [DEMAND + 2 * PAGE + 4], 0
        EXPECT [demand_faults], 2
        EXPECT [demand_error], PF_W
        EXPECT [demand_cr2], DEMAND + 2 * PAGE + 8
        EXPECT [pool + PAGE + 8], 0x5A5A1234   ; the second frame, seen directly
        CHECK_DONE "demand-zero-write"
; ---------------------------------------------------------------- error codes
        ARM .np_read_resume
.np_read:
        mov eax, [TP_NP + 0x10]
.np_read_resume:
        EXPECT_PF 0, TP_NP + 0x10, .np_read
        CHECK_DONE "pf-not-present-read"
        ARM .np_write_resume
.np_write:
        mov byte [TP_NP + 0xFFF], 1
.np_write_resume:
        EXPECT_PF PF_W, TP_NP + 0xFFF, .np_write
        CHECK_DONE "pf-not-present-write"
; ---------------------------------------------------------------- CR0.WP
        mov eax, cr0
        and eax, ~CR0_WP
        mov cr0, eax
        ARM .wp0_resume
        mov dword [TP_RO + 0x40], 0x0BADC0DE
.wp0_resume:
        mov dword [resume_eip], 0
        EXPECT [last_vector], -1  ; no fault
        EXPECT [frame_ro + 0x40], 0x0BADC0DE
        mov eax, cr0
        or eax, CR0_WP
        mov cr0, eax
        CHECK_DONE "wp0-write-readonly"
        ARM .wp1_resume
.wp1_write:
        mov dword [TP_RO2 + 0x40], 0x0BADC0DE
.wp1_resume:
        EXPECT_PF PF_P | PF_W, TP_RO2 + 0x40, .wp1_write
        EXPECT [frame_ro2 + 0x40], 0
        CHECK_DONE "pf-protection-write-wp1"
; ---------------------------------------------------------------- A and D
        and dword [page_dir + TEST_PDE * 4], ~PTE_A
        mov eax, cr3              ; drop cached translations and directory entries
        mov cr3, eax
        mov eax, [TP_AD]
        mov eax, [pt_test + 3 * 4]
        and eax, PTE_A | PTE_D
        EXPECT eax, PTE_A
        mov eax, [page_dir + TEST_PDE * 4]
        and eax, PTE_A
        EXPECT eax, PTE_A
        mov dword [TP_AD], 7
        mov eax, [pt_test + 3 * 4]
        and eax, PTE_A | PTE_D
        EXPECT eax, PTE_A | PTE_D
        EXPECT [frame_ad], 7
        CHECK_DONE "accessed-dirty"
; ---------------------------------------------------------------- INVLPG
        EXPECT [TP_REMAP], 0x11111111      ; frame_1: now in the TLB
        mov dword [pt_test + 4 * 4], frame_2 + PTE_P + PTE_W
        invlpg [TP_REMAP]
        EXPECT [TP_REMAP], 0x22222222
        CHECK_DONE "remap-invlpg"
; ---------------------------------------------------------------- MOV CR3
        EXPECT [TP_CR3], 0x11111111
        mov dword [pt_test + 5 * 4], frame_2 + PTE_P + PTE_W
        mov eax, cr3
        mov cr3, eax
        EXPECT [TP_CR3], 0x22222222
        mov eax, page_dir2
        mov cr3, eax
        EXPECT [TP_CR3], 0x33333333        ; page_dir2 -> pt_test2 -> frame_3
        mov eax, cr3
        EXPECT eax, page_dir2
        mov eax, page_dir
        mov cr3, eax
        EXPECT [TP_CR3], 0x22222222
        CHECK_DONE "cr3-reload"
; ---------------------------------------------------------------- ring 3
        mov [kernel_esp], esp
        mov dword [last_vector], -1
        mov dword [pf_count], 0   ; the task's faults are logged from here
        push UDATA                ; SS
        push user_stack + PAGE    ; ESP
        push 0x2                  ; EFLAGS: IF = 0, IOPL = 0
        push UCODE                ; CS
        push user_main            ; EIP
        iretd
back_from_user:                   ; SYS_RETURN comes here, on kernel_esp
        EXPECT [u_readback], 0x600DF00D
        EXPECT [u_value], 0x600DF00D
        CHECK_DONE "user-page-ring3"
        EXPECT [pf_count], 2
        EXPECT [pf_log + 0], PF_P | PF_U
        EXPECT [pf_log + 4], kernel_secret
        EXPECT [pf_log + 8], user_f1
        CHECK_DONE "pf-user-read-supervisor"
        EXPECT [pf_log + 12], PF_P | PF_W | PF_U
        EXPECT [pf_log + 16], kernel_secret
        EXPECT [pf_log + 20], user_f2
        EXPECT [kernel_secret], 0x5EC2E7
        CHECK_DONE "pf-user-write-supervisor"
; ---------------------------------------------------------------- verdict
        CHECKS_VERDICT msg_paging

; ---------------------------------------------------------------- set-up
; setup_tables: the directories and tables of the map at the top.
setup_tables:
        xor ecx, ecx              ; pt0: identity, supervisor, read/write
.ident: mov eax, ecx
        shl eax, 12
        or eax, PTE_P | PTE_W
        mov [pt0 + ecx * 4], eax
        inc ecx
        cmp ecx, 1024
        jb .ident
        mov eax, user_code        ; the ring-3 task's pages: U/S = 1
        call make_user_page
        mov eax, user_data
        call make_user_page
        mov eax, user_stack
        call make_user_page
        mov dword [page_dir + 0 * 4], pt0 + PTE_P + PTE_W + PTE_U
        mov dword [page_dir + 1 * 4], BIG_LIN | PTE_PS | PTE_P | PTE_W
        mov dword [page_dir + 2 * 4], BIG_LIN | PTE_PS | PTE_P | PTE_W
        mov dword [page_dir + DEMAND_PDE * 4], pt_demand + PTE_P + PTE_W + PTE_U
        mov dword [page_dir + TEST_PDE * 4], pt_test + PTE_P + PTE_W + PTE_U
        mov dword [pt_test + 1 * 4], frame_ro + PTE_P      ; R/W = 0
        mov dword [pt_test + 2 * 4], frame_ro2 + PTE_P
        mov dword [pt_test + 3 * 4], frame_ad + PTE_P + PTE_W
        mov dword [pt_test + 4 * 4], frame_1 + PTE_P + PTE_W
        mov dword [pt_test + 5 * 4], frame_1 + PTE_P + PTE_W
        mov esi, page_dir         ; page_dir2: the same, but PDE 257 -> pt_test2
        mov edi, page_dir2
        mov ecx, 1024
        rep movsd
        mov dword [page_dir2 + TEST_PDE * 4], pt_test2 + PTE_P + PTE_W + PTE_U
        mov dword [pt_test2 + 5 * 4], frame_3 + PTE_P + PTE_W
        mov dword [frame_1], 0x11111111
        mov dword [frame_2], 0x22222222
        mov dword [frame_3], 0x33333333
        mov dword [kernel_secret], 0x5EC2E7
        mov edi, pool             ; garbage the handler must clear
        mov eax, POOL_FILL
        mov ecx, POOL_PAGES * PAGE / 4
        rep stosd
        mov dword [pool_next], pool
        ret

; make_user_page: EAX = the linear (= physical) address of a page in pt0.
make_user_page:
        shr eax, 12
        or dword [pt0 + eax * 4], PTE_U
        ret

setup_gdt:
        TSS_DESC tss, TYPE_TSS    ; idt.inc: limit TSS_SIZE - 1 (figure 7-3)
        RELOAD_SEGMENTS           ; gdt.inc: LGDT, CS, then the data segments
        LOAD_TSS tss, kstack_top  ; idt.inc
        ret

; make_gate: EDI = the IDT slot, EAX = handler, CH = type byte
; (figure 6-2: offset 15:0 | selector | 0 | type | offset 31:16).
make_gate:
        MAKE_GATE                 ; idt.inc

setup_idt:
        xor ebp, ebp
.next:  mov eax, [isr_table + ebp * 4]
        lea edi, [idt + ebp * 8]
        mov ch, TYPE_INT_GATE
        call make_gate
        inc ebp
        cmp ebp, 32
        jb .next
        mov edi, idt + 0x80 * 8
        mov eax, syscall_entry
        mov ch, TYPE_INT_GATE3
        call make_gate
        lidt [idtr]
        ret

; ---------------------------------------------------------------- handlers
; int 0x80 from ring 3: the only call is SYS_RETURN.
syscall_entry:
        BACK_TO_RING0             ; idt.inc
        jmp back_from_user

        ISR_STUBS 0

; A #PF in the demand-zero area that found no page gets a zeroed frame and
; the instruction restarts (the CPU saved its EIP, 6.15 "Interrupt 14").
; Any other fault is recorded, and the run resumes at resume_eip (ring 0)
; or u_resume (ring 3, set by the task in its own page); a fault nobody
; armed for fails the run.
isr_common:
        ISR_SAVE
        cmp dword [last_vector], 14
        jne .resume
        mov eax, cr2
        mov [last_cr2], eax
        mov ecx, [pf_count]       ; log it (the ring-3 checks read the log)
        cmp ecx, 4
        jae .logged
        lea ecx, [ecx + ecx * 2]
        mov edx, [last_error]
        mov [pf_log + ecx * 4], edx
        mov [pf_log + ecx * 4 + 4], eax
        mov edx, [last_eip]
        mov [pf_log + ecx * 4 + 8], edx
        inc dword [pf_count]
.logged:
        mov edx, eax
        shr edx, 22
        cmp edx, DEMAND_PDE
        jne .resume
        test dword [last_error], PF_P
        jnz .resume
        ; demand zero: take a frame, clear it, map it
        mov [demand_cr2], eax
        mov edx, [last_error]
        mov [demand_error], edx
        mov edi, [pool_next]
        cmp edi, pool + POOL_PAGES * PAGE
        jae .unexpected
        add dword [pool_next], PAGE
        mov ebx, edi
        push eax
        xor eax, eax
        mov ecx, PAGE / 4
        rep stosd
        pop eax
        shr eax, 12
        and eax, 1023
        or ebx, PTE_P | PTE_W
        mov [pt_demand + eax * 4], ebx
        inc dword [demand_faults]
        mov dword [last_vector], -1
        jmp .return               ; restart the faulting instruction
.resume:
        mov eax, [resume_eip]
        test byte [esp + FRAME_CS], 3
        jz .have_resume
        mov eax, [u_resume]
        mov dword [u_resume], 0
.have_resume:
        test eax, eax
        jz .unexpected
        mov [esp + FRAME_EIP], eax
        mov dword [resume_eip], 0
.return:
        pop es
        pop ds
        popad
        add esp, 8                ; vector, error code
        iretd
.unexpected:
        ISR_UNEXPECTED
        mov eax, [last_eip]
        call serial_hex32
        mov esi, msg_cr2
        call serial_puts
        mov eax, cr2
        call serial_hex32
        mov esi, newline
        call serial_puts
        jmp exit_fail

; ---------------------------------------------------------------- helpers
        CHECK_ROUTINES

; ---------------------------------------------------------------- data
section .rodata
        ISR_TABLE
msg_start:      db "paging: 32-bit paging checks", 10, 0
        CHECK_MESSAGES msg_paging, "paging"
msg_cr2:        db " cr2 0x", 0
newline:        db 10, 0

        GDT_WITH_TSS              ; gdt.inc: section .data, gdt:, 0x00-0x28 (setup_gdt fills the TSS)
        TABLE_POINTERS
kernel_secret:  dd 0              ; on a supervisor page: ring 3 must not reach it

section .bss align=4096
alignb PAGE
page_dir:       resb PAGE
page_dir2:      resb PAGE
pt0:            resb PAGE
pt_demand:      resb PAGE
pt_test:        resb PAGE
pt_test2:       resb PAGE
pool:           resb POOL_PAGES * PAGE
frame_ro:       resb PAGE
frame_ro2:      resb PAGE
frame_ad:       resb PAGE
frame_1:        resb PAGE
frame_2:        resb PAGE
frame_3:        resb PAGE
user_data:                        ; the ring-3 task's page
u_value:        resd 1
u_readback:     resd 1
u_resume:       resd 1
                resb PAGE - 12
user_stack:     resb PAGE
kstack:         resb PAGE         ; TSS.ESP0
kstack_top:
idt:            resb 256 * 8
tss:            resb TSS_SIZE
alignb 4
resume_eip:     resd 1
last_vector:    resd 1
last_error:     resd 1
last_eip:       resd 1
last_cr2:       resd 1
pf_count:       resd 1
pf_log:         resd 3 * 4        ; error, CR2, EIP of the first 4 faults
demand_faults:  resd 1
demand_error:   resd 1
demand_cr2:     resd 1
pool_next:      resd 1
kernel_esp:     resd 1
        CHECK_STATE
