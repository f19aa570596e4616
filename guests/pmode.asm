; pmode.asm - protected-mode feature kernel: segmentation, rings, exceptions,
; gates and a task switch, each reported as one line on COM1.
;
; Run:   build/trapeze -kernel build/guests/pmode.elf -nographic
;        qemu-system-i386 -kernel build/guests/pmode.elf -nographic \
;            -device isa-debug-exit,iobase=0xf4,iosize=0x04
; Prints "pmode: protected-mode checks", then "ok <name>" or
; "FAIL <name>: got X want Y" for each check below, a line printed from ring 3
; through int 0x80, and "pmode: all 14 checks passed" (exit status 33) or
; "pmode: N of 14 checks failed" (status 35).  An exception nobody expected
; prints "FAIL unexpected exception ..." and exits with status 35.
;
; The checks (SDM = Intel SDM, Vol. 3A):
;   de-divide-by-zero      DIV by 0 -> #DE, saved EIP = the DIV (6.15, int 0)
;   ud-ud2                 UD2 -> #UD, saved EIP = the UD2
;   gp-bad-selector        MOV DS with a selector past the GDT limit -> #GP(selector)
;   np-not-present-segment MOV DS with a not-present data segment -> #NP(selector)
;   bp-int3                INT3 -> #BP, a trap: saved EIP = the next instruction
;   call-gate-ring0        far CALL through a DPL 0 call gate, RETF back
;   iret-to-ring3          IRET to a DPL 3 code segment: CPL becomes 3
;   syscall-int80-tss-esp0 INT 0x80 (DPL 3 gate) from ring 3 runs on TSS.ESP0,
;                          frame SS:ESP, EFLAGS, CS:EIP of ring 3 (6.12.1)
;   gp-cli-at-ring3        CLI with CPL > IOPL -> #GP(0), on the TSS.ESP0 stack
;   gp-io-at-ring3         IN with CPL > IOPL and no I/O bitmap -> #GP(0) (Vol. 1 19.5)
;   gp-dpl0-data-at-ring3  MOV DS with a DPL 0 data selector at CPL 3 -> #GP(selector)
;   gp-int-dpl0-gate       INT 0x40 to a DPL 0 gate from ring 3 -> #GP(0x40*8+2) (6.12.1.1)
;   call-gate-ring3-to-ring0  far CALL through a DPL 3 call gate with one
;                          parameter: stack switch to TSS.ESP0, parameter
;                          copied, RETF 4 back to ring 3 (5.8.5, 5.8.6)
;   df-task-gate           #DE whose IDT gate is not present raises #NP while
;                          it is delivered; contributory then contributory is
;                          a #DF (6.15 "Interrupt 8", table 6-5), delivered
;                          through a task gate to its own TSS (7.3), IRET with
;                          NT=1 returns to the first task.
; #PF is left for the paging guest.

%include "guests/common.inc"
%include "guests/gdt.inc"
%include "guests/checks.inc"

bits 32

extern serial_puts, serial_putc, serial_hex32, exit_pass, exit_fail

; ---- selectors past gdt.inc's (index * 8 | RPL) ----
GATE0_SEL equ 0x30                ; call gate, DPL 0, no parameter
GATE3_SEL equ 0x38 | 3            ; call gate, DPL 3, one parameter
DFTSS_SEL equ 0x40                ; the double-fault task
NP_SEL    equ 0x48                ; a data segment with P = 0
BAD_SEL   equ 0x1000              ; index 0x200: past the GDT limit

NCHECKS   equ 14

; ---- gate and TSS descriptor types (SDM Vol. 3A 3.5, table 3-2) ----
TYPE_INT_GATE   equ 0x8E          ; P, DPL 0, 32-bit interrupt gate
TYPE_INT_GATE3  equ 0xEE          ; P, DPL 3, 32-bit interrupt gate
TYPE_TASK_GATE  equ 0x85          ; P, DPL 0, task gate
TYPE_CALL_GATE0 equ 0x8C          ; P, DPL 0, 32-bit call gate
TYPE_CALL_GATE3 equ 0xEC          ; P, DPL 3, 32-bit call gate
TYPE_TSS        equ 0x89          ; P, DPL 0, 32-bit TSS, available
DESC_P          equ 0x80          ; present bit of a descriptor's type byte

; ---- 32-bit TSS layout past gdt.inc's (SDM Vol. 3A 7.2.1, figure 7-2) ----
TSS_LINK   equ 0x00
TSS_CR3    equ 0x1C
TSS_EIP    equ 0x20
TSS_EFLAGS equ 0x24
TSS_ESP    equ 0x38
TSS_ES     equ 0x48
TSS_CS     equ 0x4C
TSS_SS     equ 0x50
TSS_DS     equ 0x54
TSS_FS     equ 0x58
TSS_GS     equ 0x5C

EFLAGS_NT  equ 1 << 14

; ---- system calls (int 0x80, EAX = number) ----
SYS_WRITE      equ 1              ; ESI = string
SYS_CHECK_DONE equ 2              ; ESI = check name: report it (ring 3 can't do I/O)
SYS_RETURN     equ 3              ; leave ring 3 for good

FRAME_BYTES_FROM_RING3 equ 68     ; esp0 - esp in isr_common for a ring-3 fault
                                  ; (checks.inc: the frame, EXPECT, CHECK_DONE, ARM)

; USER_CHECK_DONE "name": CHECK_DONE at ring 3, where the printing goes
; through the system call.
%macro USER_CHECK_DONE 1
[section .rodata]
%%name: db %1, 0
__SECT__
        mov esi, %%name
        mov eax, SYS_CHECK_DONE
        int 0x80
%endmacro

section .text
global main
main:
        mov esi, msg_start
        call serial_puts
        call setup_gdt
        call setup_idt
        call setup_tss

; ---------------------------------------------------------------- ring 0
        ARM .de_resume
        mov eax, 1
        xor edx, edx
        xor ecx, ecx
.de_insn:
        div ecx
.de_resume:
        EXPECT [last_vector], 0
        EXPECT [last_eip], .de_insn
        EXPECT [last_cs], KCODE
        CHECK_DONE "de-divide-by-zero"

        ARM .ud_resume
.ud_insn:
        ud2
.ud_resume:
        EXPECT [last_vector], 6
        EXPECT [last_eip], .ud_insn
        CHECK_DONE "ud-ud2"

        ARM .gp_resume
        mov ax, BAD_SEL
.gp_insn:
        mov ds, ax
.gp_resume:
        EXPECT [last_vector], 13
        EXPECT [last_error], BAD_SEL
        EXPECT [last_eip], .gp_insn
        mov ax, ds                ; the faulting load left DS alone
        movzx eax, ax
        EXPECT eax, KDATA
        CHECK_DONE "gp-bad-selector"

        ARM .np_resume
        mov ax, NP_SEL
.np_insn:
        mov ds, ax
.np_resume:
        EXPECT [last_vector], 11
        EXPECT [last_error], NP_SEL
        EXPECT [last_eip], .np_insn
        CHECK_DONE "np-not-present-segment"

        ARM .bp_next
        int3
.bp_next:
        EXPECT [last_vector], 3
        EXPECT [last_eip], .bp_next
        CHECK_DONE "bp-int3"

        mov dword [cg0_cs], 0
        call GATE0_SEL:0          ; the offset is ignored: the gate holds it
.cg0_ret:
        EXPECT [cg0_cs], KCODE
        EXPECT [cg0_ret], .cg0_ret
        EXPECT [cg0_caller_cs], KCODE
        CHECK_DONE "call-gate-ring0"

; ---------------------------------------------------------------- ring 3
        mov [kernel_esp], esp
        push UDATA                ; SS
        push user_stack_top       ; ESP
        push 0x2                  ; EFLAGS: IF = 0, IOPL = 0
        push UCODE                ; CS
        push user_main            ; EIP
        iretd
back_from_user:                   ; SYS_RETURN comes here, on kernel_esp

; ---------------------------------------------------------------- #DF
; #DE with the gate of vector 0 not present: delivering it raises #NP
; (error code 0*8+2+EXT); #DE and #NP are both contributory, so the CPU
; raises #DF instead (SDM Vol. 3A 6.15, table 6-5), through the task gate
; of vector 8.  The #DF task patches this task's saved EIP and ESP (they are
; undefined after a #DF) and IRETs back.
        ARM df_resume            ; a plain #NP or #DE handler would land here too
        mov dword [df_entered], 0
        and byte [idt + 0 * 8 + 5], ~DESC_P
        mov [df_saved_esp], esp
        mov eax, 1
        xor edx, edx
        xor ecx, ecx
        div ecx
df_resume:
        mov dword [resume_eip], 0
        EXPECT [df_entered], 1
        EXPECT [last_vector], -1  ; no ordinary handler ran
        EXPECT [df_error], 0
        EXPECT [df_tr], DFTSS_SEL
        EXPECT [df_nt], EFLAGS_NT
        EXPECT [df_link], TSS_SEL
        EXPECT [df_esp], df_stack_top
        str ax
        movzx eax, ax
        EXPECT eax, TSS_SEL       ; back in the first task
        CHECK_DONE "df-task-gate"

; ---------------------------------------------------------------- verdict
        CHECKS_VERDICT msg_pmode

; ---------------------------------------------------------------- ring 3 code
user_main:
        mov ax, UDATA             ; IRET to ring 3 nulled DS and ES (DPL 0 < CPL)
        mov ds, ax
        mov es, ax
        mov ax, cs
        and eax, 3
        EXPECT eax, 3
        mov ax, ss
        and eax, 3
        EXPECT eax, 3
        USER_CHECK_DONE "iret-to-ring3"

        mov esi, msg_user
        mov eax, SYS_WRITE
        int 0x80
        EXPECT [sys_esp], kstack0_top - 20
        EXPECT [sys_cs], UCODE
        EXPECT [sys_ss], UDATA
        EXPECT [sys_user_esp], user_stack_top
        USER_CHECK_DONE "syscall-int80-tss-esp0"

        ARM .cli_resume
.cli_insn:
        cli
.cli_resume:
        EXPECT [last_vector], 13
        EXPECT [last_error], 0
        EXPECT [last_eip], .cli_insn
        EXPECT [last_cs], UCODE
        EXPECT [last_esp], kstack0_top - FRAME_BYTES_FROM_RING3
        USER_CHECK_DONE "gp-cli-at-ring3"

        ARM .io_resume
.io_insn:
        in al, 0x80
.io_resume:
        EXPECT [last_vector], 13
        EXPECT [last_error], 0
        EXPECT [last_eip], .io_insn
        USER_CHECK_DONE "gp-io-at-ring3"

        ARM .dpl_resume
        mov ax, KDATA
.dpl_insn:
        mov ds, ax
.dpl_resume:
        EXPECT [last_vector], 13
        EXPECT [last_error], KDATA
        EXPECT [last_eip], .dpl_insn
        USER_CHECK_DONE "gp-dpl0-data-at-ring3"

        ARM .int_resume
.int_insn:
        int 0x40
.int_resume:
        EXPECT [last_vector], 13
        EXPECT [last_error], 0x40 * 8 + 2   ; IDT bit (1 << 1) set
        EXPECT [last_eip], .int_insn
        USER_CHECK_DONE "gp-int-dpl0-gate"

        mov [cg3_user_esp], esp
        push 0x1234abcd
        call GATE3_SEL:0
.cg3_ret:
        mov [cg3_after_esp], esp
        EXPECT [cg3_cs], KCODE
        EXPECT [cg3_ret], .cg3_ret
        EXPECT [cg3_caller_cs], UCODE
        EXPECT [cg3_param], 0x1234abcd
        EXPECT [cg3_esp], kstack0_top - 20
        mov eax, [cg3_user_esp]
        sub eax, 4
        EXPECT [cg3_caller_esp], eax
        EXPECT [cg3_caller_ss], UDATA
        EXPECT [cg3_after_esp], [cg3_user_esp]   ; RETF 4 dropped the parameter
        USER_CHECK_DONE "call-gate-ring3-to-ring0"

        mov eax, SYS_RETURN
        int 0x80
        ud2                       ; not reached

; ---------------------------------------------------------------- gate targets
; Through GATE0_SEL from ring 0: no stack switch.  [esp] = EIP, [esp+4] = CS.
callgate_same:
        mov ax, cs
        movzx eax, ax
        mov [cg0_cs], eax
        mov eax, [esp]
        mov [cg0_ret], eax
        movzx eax, word [esp + 4]
        mov [cg0_caller_cs], eax
        retf

; Through GATE3_SEL from ring 3, on the TSS.ESP0 stack (5.8.5, figure 5-13):
;   [esp] EIP, [esp+4] CS, [esp+8] parameter, [esp+12] ESP, [esp+16] SS.
callgate_ring0:
        mov [cg3_esp], esp
        mov ax, cs
        movzx eax, ax
        mov [cg3_cs], eax
        mov eax, [esp]
        mov [cg3_ret], eax
        movzx eax, word [esp + 4]
        mov [cg3_caller_cs], eax
        mov eax, [esp + 8]
        mov [cg3_param], eax
        mov eax, [esp + 12]
        mov [cg3_caller_esp], eax
        movzx eax, word [esp + 16]
        mov [cg3_caller_ss], eax
        retf 4

; int 0x80, DPL 3 interrupt gate.  From ring 3 the CPU has switched to
; SS0:ESP0 of the TSS and pushed SS, ESP, EFLAGS, CS, EIP.
syscall_entry:
        mov [ss:sys_esp], esp
        push ds
        push es
        push eax
        mov ax, KDATA
        mov ds, ax
        mov es, ax
        mov eax, [esp + 12 + 16]
        mov [sys_ss], ax
        mov eax, [esp + 12 + 12]
        mov [sys_user_esp], eax
        mov eax, [esp + 12 + 4]
        mov [sys_cs], ax
        pop eax
        cmp eax, SYS_WRITE
        je .write
        cmp eax, SYS_CHECK_DONE
        je .check
        cmp eax, SYS_RETURN
        je .return
        jmp .out
.write: call serial_puts
        jmp .out
.check: call check_done
.out:   pop es
        pop ds
        iretd
.return:
        mov esp, [kernel_esp]
        jmp back_from_user

; Vector 0x40 has a DPL 0 gate: INT 0x40 from ring 3 must #GP, never get here.
int40_entry:
        mov ax, KDATA
        mov ds, ax
        mov esi, msg_int40
        call serial_puts
        jmp exit_fail

; ---------------------------------------------------------------- exceptions
; One stub per vector 0-31 (checks.inc); #CP, #VC and #SX push error codes.
        ISR_STUBS 1

; Record the exception, then resume at resume_eip (one shot); an exception
; nobody armed for fails the run.
isr_common:
        ISR_SAVE
        movzx eax, word [esp + FRAME_CS]   ; the upper half of a pushed CS may be junk
        mov [last_cs], eax
        mov [last_esp], esp
        mov eax, [resume_eip]
        test eax, eax
        jz .unexpected
        mov [esp + FRAME_EIP], eax
        mov dword [resume_eip], 0
        pop es
        pop ds
        popad
        add esp, 8                ; vector, error code
        iretd
.unexpected:
        ISR_UNEXPECTED
        mov eax, [last_cs]
        call serial_hex32
        mov al, ':'
        call serial_putc
        mov eax, [last_eip]
        call serial_hex32
        mov esi, newline
        call serial_puts
        jmp exit_fail

; The #DF task: entered by a task switch with its own registers from
; df_tss; the error code (0) is on its stack, EFLAGS.NT is set and the
; back link names the interrupted task (SDM Vol. 3A 7.4).
df_task_entry:
        pop eax
        mov [df_error], eax
        mov [df_esp], esp
        mov dword [df_entered], 1
        str ax
        movzx eax, ax
        mov [df_tr], eax
        pushfd
        pop eax
        and eax, EFLAGS_NT
        mov [df_nt], eax
        movzx eax, word [df_tss + TSS_LINK]
        mov [df_link], eax
        or byte [idt + 0 * 8 + 5], DESC_P
        mov dword [main_tss + TSS_EIP], df_resume
        mov eax, [df_saved_esp]
        mov [main_tss + TSS_ESP], eax
        iretd                     ; NT = 1: switch back to the back-linked task
        jmp df_task_entry         ; a second #DF would start here

; ---------------------------------------------------------------- helpers
        CHECK_ROUTINES

; make_gate: EDI = where, EAX = offset, BX = selector, CL = parameter count,
; CH = type byte.  Gate layout (SDM Vol. 3A figures 5-8 and 6-2):
;   offset 15:0 | selector | count | type | offset 31:16
make_gate:
        mov [edi], ax
        mov [edi + 2], bx
        mov [edi + 4], cl
        mov [edi + 5], ch
        shr eax, 16
        mov [edi + 6], ax
        ret

; make_tss_desc: EDI = where, EAX = base.  Limit TSS_SIZE - 1, byte
; granular (SDM Vol. 3A figure 7-3).
make_tss_desc:
        mov word [edi], TSS_SIZE - 1
        mov [edi + 2], ax
        shr eax, 16
        mov [edi + 4], al
        mov byte [edi + 5], TYPE_TSS
        mov byte [edi + 6], 0
        mov [edi + 7], ah
        ret

setup_gdt:
        mov edi, gdt + TSS_SEL
        mov eax, main_tss
        call make_tss_desc
        mov edi, gdt + DFTSS_SEL
        mov eax, df_tss
        call make_tss_desc
        mov edi, gdt + GATE0_SEL
        mov eax, callgate_same
        mov bx, KCODE
        mov cl, 0
        mov ch, TYPE_CALL_GATE0
        call make_gate
        mov edi, gdt + (GATE3_SEL & ~3)
        mov eax, callgate_ring0
        mov cl, 1
        mov ch, TYPE_CALL_GATE3
        call make_gate
        RELOAD_SEGMENTS           ; gdt.inc: LGDT, CS, then the data segments
        ret

setup_idt:
        xor ebp, ebp
.next:  mov eax, [isr_table + ebp * 4]
        lea edi, [idt + ebp * 8]
        mov bx, KCODE
        mov cl, 0
        mov ch, TYPE_INT_GATE
        call make_gate
        inc ebp
        cmp ebp, 32
        jb .next
        mov edi, idt + 8 * 8      ; #DF goes to its own task
        xor eax, eax
        mov bx, DFTSS_SEL
        mov ch, TYPE_TASK_GATE
        call make_gate
        mov edi, idt + 0x40 * 8
        mov eax, int40_entry
        mov bx, KCODE
        mov ch, TYPE_INT_GATE
        call make_gate
        mov edi, idt + 0x80 * 8
        mov eax, syscall_entry
        mov ch, TYPE_INT_GATE3
        call make_gate
        lidt [idtr]
        ret

setup_tss:
        mov dword [main_tss + TSS_ESP0], kstack0_top
        mov dword [main_tss + TSS_SS0], KDATA
        mov word [main_tss + TSS_IOMAP], TSS_SIZE
        mov eax, cr3
        mov [df_tss + TSS_CR3], eax
        mov dword [df_tss + TSS_EIP], df_task_entry
        mov dword [df_tss + TSS_EFLAGS], 0x2
        mov dword [df_tss + TSS_ESP], df_stack_top
        mov dword [df_tss + TSS_CS], KCODE
        mov eax, KDATA
        mov [df_tss + TSS_SS], eax
        mov [df_tss + TSS_DS], eax
        mov [df_tss + TSS_ES], eax
        mov [df_tss + TSS_FS], eax
        mov [df_tss + TSS_GS], eax
        mov word [df_tss + TSS_IOMAP], TSS_SIZE
        mov ax, TSS_SEL
        ltr ax
        ret

; ---------------------------------------------------------------- data
section .rodata
        ISR_TABLE
msg_start:      db "pmode: protected-mode checks", 10, 0
msg_user:       db "hello from ring 3 through int 0x80", 10, 0
        CHECK_MESSAGES msg_pmode, "pmode"
msg_int40:      db "FAIL gp-int-dpl0-gate: INT 0x40 from ring 3 entered a DPL 0 gate", 10, 0
newline:        db 10, 0

        GDT_WITH_TSS              ; gdt.inc: section .data, gdt:, 0x00-0x28 (setup_gdt fills the TSS)
        dq 0                      ; 0x30 call gate, DPL 0 (setup_gdt)
        dq 0                      ; 0x38 call gate, DPL 3 (setup_gdt)
        dq 0                      ; 0x40 #DF TSS (setup_gdt)
        dq 0x00CF12000000FFFF     ; 0x48 data, P = 0
        TABLE_POINTERS

section .bss
alignb 16
idt:            resb 256 * 8      ; all gates not present until setup_idt
main_tss:       resb TSS_SIZE
alignb 16
df_tss:         resb TSS_SIZE
alignb 16
kstack0:        resb 4096         ; TSS.ESP0: ring 0 stack for ring 3 entries
kstack0_top:
user_stack:     resb 4096
user_stack_top:
df_stack:       resb 4096
df_stack_top:
resume_eip:     resd 1
last_vector:    resd 1
last_error:     resd 1
last_eip:       resd 1
last_cs:        resd 1
last_esp:       resd 1
        CHECK_STATE
kernel_esp:     resd 1
sys_esp:        resd 1
sys_cs:         resd 1
sys_ss:         resd 1
sys_user_esp:   resd 1
cg0_cs:         resd 1
cg0_ret:        resd 1
cg0_caller_cs:  resd 1
cg3_user_esp:   resd 1
cg3_after_esp:  resd 1
cg3_esp:        resd 1
cg3_cs:         resd 1
cg3_ret:        resd 1
cg3_caller_cs:  resd 1
cg3_param:      resd 1
cg3_caller_esp: resd 1
cg3_caller_ss:  resd 1
df_entered:     resd 1
df_saved_esp:   resd 1
df_error:       resd 1
df_esp:         resd 1
df_tr:          resd 1
df_nt:          resd 1
df_link:        resd 1
