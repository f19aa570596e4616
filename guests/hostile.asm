; hostile.asm - a kernel that pokes where a VMM hides things and checks
; that its own memory survives: what a trap-and-emulate VMM (trapeze's
; -engine tae) must withstand without crashing or leaking its private state
; into the guest.  Under a plain emulator nothing here is special.
;
; Run:   build/trapeze -kernel build/guests/hostile.elf -nographic
;        qemu-system-i386 -kernel build/guests/hostile.elf -nographic \
;            -device isa-debug-exit,iobase=0xf4,iosize=0x04
; Steps, each printing one line:
;   1. fills a 64 KiB area with a known pattern and prints its checksum
;   2. paging with 4 MiB pages (CR4.PSE, SDM Vol. 3A 4.3) identity-mapping
;      all 4 GiB; reads, then writes, the first dword of every 4 MiB page
;      above RAM (RAM's end from the Multiboot mem_upper field), which takes
;      in 0xF0000000-0xF3FFFFFF, where tae keeps its private memory; then
;      reads every dword of 0xFFC00000-0xFFFFFFFF (the BIOS ROM's end).
;      What those reads return differs between machines (QEMU's PCI BARs,
;      the BIOS image), so no value is printed: only the count of pages and
;      of faults (none: every page is present).
;   3. loads each selector 0..0xFFFF into DS, then into FS; a #GP or #NP
;      handler skips the 2-byte MOV and counts the fault (Vol. 2B MOV:
;      the checks a data segment load makes, table in Vol. 3A 5.5-5.6)
;   4. LGDT and LIDT of a table of pseudo-random bytes, then back, with
;      IF = 0 and no instruction that could fault in between; SGDT/SIDT
;      must then read back the real tables
;   5. rewrites a PTE of its own page table with paging on, INVLPG (Vol. 3A
;      4.10.4.1), and reads the new frame's marker through the old address
;   6. checksums the pattern again: "hostile: done, data intact" and exit
;      status 33, or what changed and status 35
; An exception other than #GP/#NP in step 3 prints "hostile: unexpected
; exception ..." and exits 35.

%include "guests/common.inc"
%include "guests/gdt.inc"
%include "guests/idt.inc"
%include "guests/irq.inc"
%include "guests/paging.inc"

bits 32

extern serial_puts, serial_putc, serial_hex32, serial_dec32, exit_pass, exit_fail

NP_SEL     equ 0x28               ; a data segment with P = 0 (after gdt.inc's four)
PATTERN_BYTES equ 65536
JUNK_BYTES equ 4096
PAGE       equ 4096
BIG_PAGE   equ 4 << 20
TOP_LIN    equ 0xFFC00000         ; the last 4 MiB
PTE_LIN    equ 0x00400000         ; PDE 1 -> pt: its entry 0 is rewritten
MARK_A     equ 0xAAAA0001
MARK_B     equ 0xBBBB0002
PROBE_VALUE equ 0x5A5A5A5A

CR0_PG     equ 1 << 31
CR4_PSE    equ 1 << 4
PTE_P      equ 0x001              ; SDM Vol. 3A 4.3, tables 4-4 to 4-6
PTE_W      equ 0x002
PTE_PS     equ 0x080
MB_INFO_MEM equ 1 << 0            ; Multiboot 0.6.96 3.3: mem_lower/mem_upper valid

section .text
global main
main:
        mov ebx, [esp + 4]        ; the Multiboot information structure
        PIC_MASK_ALL              ; irq.inc
        call setup_tables

; ---------------------------------------------------------------- 1. pattern
        mov edi, pattern
        mov ecx, PATTERN_BYTES / 4
        mov eax, 0x12345678
.fill:  stosd
        imul eax, eax, 1103515245 ; a linear congruential sequence
        add eax, 12345
        loop .fill
        call pattern_sum
        mov [pattern_was], eax
        mov esi, msg_pattern
        call serial_puts
        call serial_hex32
        mov esi, newline
        call serial_puts

; ---------------------------------------------------------------- 2. probe
        call setup_paging
        mov eax, 128 << 20        ; without mem_upper: assume 128 MiB
        test dword [ebx], MB_INFO_MEM
        jz .have_ram
        mov eax, [ebx + 8]        ; mem_upper: KiB above 1 MiB
        shl eax, 10
        add eax, 1 << 20
.have_ram:
        add eax, BIG_PAGE - 1     ; the first 4 MiB page wholly above RAM
        and eax, ~(BIG_PAGE - 1)
        mov esi, eax
        xor ecx, ecx              ; pages probed
.probe: mov edx, [esi]            ; read ...
        mov dword [esi], PROBE_VALUE   ; ... then write
        inc ecx
        add esi, BIG_PAGE
        jnz .probe                ; until the address wraps past 4 GiB
        mov esi, msg_probed
        call serial_puts
        mov eax, ecx
        call serial_dec32
        mov esi, msg_above
        call serial_puts
        mov esi, TOP_LIN          ; every dword of the last 4 MiB
        xor edx, edx
.top:   add edx, [esi]            ; summed so no read is optimized away by
        add esi, 4                ; a reader's eye; the sum is not printed
        jnz .top
        mov esi, msg_top
        call serial_puts
        call put_faults

; ---------------------------------------------------------------- 3. selectors
        xor ecx, ecx
.ds:    mov ax, cx
        mov ds, ax                ; 2 bytes: 8E D8; a fault skips it
        mov ax, KDATA
        mov ds, ax
        inc ecx
        cmp ecx, 0x10000
        jb .ds
        mov esi, msg_ds
        call serial_puts
        call put_faults
        xor ecx, ecx
.fs:    mov ax, cx
        mov fs, ax                ; 8E E0
        inc ecx
        cmp ecx, 0x10000
        jb .fs
        xor eax, eax
        mov fs, ax
        mov esi, msg_fs
        call serial_puts
        call put_faults

; ---------------------------------------------------------------- 4. junk tables
        mov edi, junk
        mov ecx, JUNK_BYTES / 4
        mov eax, 0xDEADBEEF
.junk:  stosd
        imul eax, eax, 1103515245
        add eax, 12345
        loop .junk
        cli
        lgdt [junk_ptr]
        lidt [junk_ptr]
        lgdt [gdtr]
        lidt [idtr]
        sgdt [seen_gdtr]
        sidt [seen_idtr]
        mov esi, msg_tables
        call serial_puts
        mov eax, [seen_gdtr + 2]
        call serial_hex32
        mov al, ' '
        call serial_putc
        mov eax, [seen_idtr + 2]
        call serial_hex32
        mov esi, newline
        call serial_puts
        ; The tables are back when they work: every data segment reloads
        ; from the GDT, and a #NP goes through the IDT to the handler.  What
        ; SGDT and SIDT show is printed only: under a VMM that does not
        ; trap them (tae) they show the VMM's own tables - a fidelity
        ; break (Robin & Irvine), not a failed restore.
        mov ax, KDATA
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov gs, ax
        mov ebx, [np_count]
        mov ax, NP_SEL
        mov fs, ax                ; 2 bytes: #NP, the handler skips it
        inc ebx
        cmp ebx, [np_count]
        jne broken
        mov ax, KDATA
        mov fs, ax

; ---------------------------------------------------------------- 5. own PTE
        mov dword [frame_a], MARK_A
        mov dword [frame_b], MARK_B
        mov dword [pt], frame_a + PTE_P + PTE_W
        invlpg [PTE_LIN]
        mov ebx, [PTE_LIN]        ; frame A through the page
        mov dword [pt], frame_b + PTE_P + PTE_W
        invlpg [PTE_LIN]
        mov ecx, [PTE_LIN]        ; frame B through the same page
        mov esi, msg_pte
        call serial_puts
        mov eax, ebx
        call serial_hex32
        mov esi, msg_arrow
        call serial_puts
        mov eax, ecx
        call serial_hex32
        mov esi, newline
        call serial_puts
        cmp ebx, MARK_A
        jne broken
        cmp ecx, MARK_B
        jne broken

; ---------------------------------------------------------------- 6. verdict
        call pattern_sum
        cmp eax, [pattern_was]
        jne .changed
        mov esi, msg_intact
        call serial_puts
        jmp exit_pass
.changed:
        mov esi, msg_changed
        call serial_puts
        call serial_hex32
        mov esi, newline
        call serial_puts
        jmp exit_fail

broken:
        mov esi, msg_broken
        call serial_puts
        jmp exit_fail

; ---------------------------------------------------------------- helpers
; pattern_sum: EAX = the checksum of the pattern (rotate left 5, add each
; dword: a change anywhere, or two dwords swapped, changes it).
pattern_sum:
        push esi
        push ecx
        mov esi, pattern
        mov ecx, PATTERN_BYTES / 4
        xor eax, eax
.next:  rol eax, 5
        add eax, [esi]
        add esi, 4
        loop .next
        pop ecx
        pop esi
        ret

; put_faults: ": N #GP, M #NP, K other\n" since the last call; zeroes them.
put_faults:
        push eax
        mov esi, msg_colon
        call serial_puts
        mov eax, [gp_count]
        call serial_dec32
        mov esi, msg_gp
        call serial_puts
        mov eax, [np_count]
        call serial_dec32
        mov esi, msg_np
        call serial_puts
        mov dword [gp_count], 0
        mov dword [np_count], 0
        pop eax
        ret

; #GP and #NP: count, step over the faulting 2-byte MOV to DS or FS, return
; (the error code is dropped).  DS may be the faulting load's old value,
; which is KDATA or a flat selector: ss: needs no assumption.
gp_entry:
        inc dword [ss:gp_count]
        jmp skip
np_entry:
        inc dword [ss:np_count]
skip:   add esp, 4                ; error code
        add dword [esp], 2        ; EIP past the MOV
        iretd

; Anything else.
        UNEXPECTED_HANDLERS          ; idt.inc

; setup_tables: GDT, CS and data segments, and 32 exception gates
; (SDM Vol. 3A figure 6-2: P, DPL 0, 32-bit interrupt gate, KCODE).
setup_tables:
        RELOAD_SEGMENTS
        xor eax, eax              ; a null LDTR: every TI = 1 selector is a #GP.
        lldt ax                   ; The loader leaves LDTR's reset cache (base 0,
                                  ; limit FFFFh, Vol. 3A table 9-1): the IVT.
        xor ecx, ecx
        PICK_HANDLER ecx             ; idt.inc: .gate, .err
        cmp ecx, 11
        jne .gp
        mov eax, np_entry
.gp:    cmp ecx, 13
        jne .set
        mov eax, gp_entry
        GATE_LOOP_TAIL            ; idt.inc: .set
        ret

; setup_paging: PDE n = 4 MiB page at n * 4 MiB, except PDE 1 -> pt (4 KiB
; pages, identity but for entry 0, step 5's).
setup_paging:
        FILL_ENTRIES .pde, page_dir, 1024, 22, or, PTE_PS + PTE_P + PTE_W ; paging.inc
        mov dword [page_dir + 1 * 4], pt + PTE_P + PTE_W
        FILL_ENTRIES .pte, pt, 1024, 12, add, PTE_LIN + PTE_P + PTE_W
        PAGING_ON page_dir        ; paging.inc
        ret

section .rodata
msg_pattern:    db "hostile: pattern checksum ", 0
msg_probed:     db "hostile: read and wrote ", 0
msg_above:      db " 4 MiB pages above RAM", 10, 0
msg_top:        db "hostile: read ffc00000-ffffffff", 0
msg_ds:         db "hostile: selectors 0000-ffff into ds", 0
msg_fs:         db "hostile: selectors 0000-ffff into fs", 0
msg_colon:      db ": ", 0
msg_gp:         db " #GP, ", 0
msg_np:         db " #NP", 10, 0
msg_tables:     db "hostile: lgdt/lidt junk and back: gdt/idt at ", 0
msg_pte:        db "hostile: pte rewrite + invlpg: ", 0
msg_arrow:      db " -> ", 0
msg_intact:     db "hostile: done, data intact", 10, 0
msg_changed:    db "hostile: data changed: checksum now ", 0
msg_broken:     db "hostile: a check above failed", 10, 0
msg_unexpected: db "hostile: unexpected exception at ", 0
newline:        db 10, 0

section .data
align 8
gdt:
        FLAT_GDT                  ; 0x00-0x20 (gdt.inc)
        dq 0x00CF72000000FFFF     ; 0x28 data, DPL 3 (any RPL may load it), P = 0
gdt_end:
gdtr:   dw gdt_end - gdt - 1
        dd gdt
idtr:   dw 32 * 8 - 1
        dd idt
junk_ptr:
        dw JUNK_BYTES - 1
        dd junk

section .bss align=4096
alignb PAGE
page_dir:       resb PAGE
pt:             resb PAGE
frame_a:        resb PAGE
frame_b:        resb PAGE
pattern:        resb PATTERN_BYTES
junk:           resb JUNK_BYTES
idt:            resb 32 * 8
seen_gdtr:      resb 8
seen_idtr:      resb 8
pattern_was:    resd 1
gp_count:       resd 1
np_count:       resd 1
