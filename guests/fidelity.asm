; fidelity.asm - the sensitive-but-unprivileged instructions of x86 (Robin &
; Irvine, "Analysis of the Intel Pentium's Ability to Support a Secure
; Virtual Machine Monitor", USENIX Security 2000): each one reads or
; changes state a VMM virtualizes, yet runs at any privilege level without
; a fault, so a trap-and-emulate VMM never sees it.  This kernel sets the
; state up itself and compares what each instruction reports with it.
;
; Run:   build/trapeze -kernel build/guests/fidelity.elf -nographic
;        qemu-system-i386 -kernel build/guests/fidelity.elf -nographic \
;            -device isa-debug-exit,iobase=0xf4,iosize=0x04
; Prints one line per class, "fidelity: NAME FIELD VALUE ... ok", or, where
; a value is not the one set up, "FIELD VALUE (set WANT) ... DIFFERS"; then
; "fidelity: N differences" and exits through isa-debug-exit with the value
; EXIT_PASS + N: status 33 for none, 33 + 2N for N (guests/README.md).  An
; exception nobody expected prints "fidelity: unexpected exception ..." and
; exits 35 (EXIT_FAIL, which is also what one difference gives: the lines
; tell them apart).
;
; The classes (SDM = Intel SDM; Vol. 2 = the instruction's own page):
;   sgdt / sidt / sldt / str  GDTR, IDTR, LDTR and TR as loaded (Vol. 2B)
;   smsw      bits 15:0 of CR0 (Vol. 2B SMSW), against MOV from CR0
;   pushf     IF = 0 after CLI (Vol. 2B PUSHF)
;   popf IF   IF 0 -> 1 at CPL 0 (Vol. 2B POPF: IF changes when CPL <= IOPL)
;   popf IOPL IOPL 0 -> 3 at CPL 0 (POPF: IOPL changes only at CPL 0)
;   mov cs / push cs / mov ss / push ss   the selectors, RPL = CPL (Vol. 3A 3.4.2)
;   lar / lsl / verr / verw   KCODE's access rights, KDATA's limit, KDATA
;             readable and writable from CPL 0 (Vol. 2A LAR, LSL; 2B VERR/VERW)
;   retf / iret   a far return and an IRET to the same ring (Vol. 2B RET, IRET)
;   user sgdt / user smsw / user pushf   the same from CPL 3, after an IRET
;             to a ring-3 code segment with IF = 1; int 0x80 comes back
; The 8259As are masked first: with IF = 1 no IRQ may arrive.

%include "guests/common.inc"
%include "guests/gdt.inc"
%include "guests/idt.inc"
%include "guests/irq.inc"

bits 32

extern serial_puts, serial_putc, exit_fail

LDT_SEL    equ 0x30               ; after gdt.inc's TSS at 0x28
NDESC      equ 7                  ; GDT entries: null .. LDT
GDT_LIMIT  equ NDESC * 8 - 1
IDT_LIMIT  equ 256 * 8 - 1

TYPE_TSS       equ 0x89           ; P, DPL 0, 32-bit TSS, available
TYPE_LDT       equ 0x82           ; P, DPL 0, LDT

EFLAGS_IF   equ 1 << 9            ; SDM Vol. 1 3.4.3, figure 3-8
EFLAGS_IOPL equ 3 << 12
EFLAGS_ZF   equ 1 << 6

; LAR's result for gdt.inc's ring-0 code descriptor 00CF9A00_0000FFFF: the
; descriptor's second dword masked with 00F0FF00h (Vol. 2A LAR: "access
; rights ... bits 23:8", the limit 19:16 and base bits cleared).
KCODE_AR    equ 0x00C09A00
; The accessed bit (type bit 0) is left out of the comparison: the CPU sets
; it in the GDT when it loads CS (Vol. 3A 3.4.5.1), which trapeze does and
; QEMU TCG's far JMP does not, so it tells the two oracles apart rather
; than a VMM from a CPU.
DESC_ACCESSED equ 1 << 8

; LINE "name": start a line "fidelity: name"; no field differs yet.
%macro LINE 1
[section .rodata]
%%name: db "fidelity: ", %1, 0
__SECT__
        mov esi, %%name
        call line_start
%endmacro

; FIELD "label", seen, set, digits: print " label SEEN" in digits hex
; digits, and " (set WANT)" after it where the two differ.
%macro FIELD 4
[section .rodata]
%%label: db " ", %1, " ", 0
__SECT__
        mov eax, %2
        mov edx, %3
        mov ecx, %4
        mov esi, %%label
        call field
%endmacro

; END_LINE: " ok" or " DIFFERS" (counted), and the newline.
%macro END_LINE 0
        call line_end
%endmacro

section .text
global main
main:
        PIC_MASK_ALL              ; irq.inc
        call setup_tables

; ---------------------------------------------------------------- tables
        sgdt [seen_gdtr]
        LINE "sgdt"
        FIELD "base", [seen_gdtr + 2], gdt, 8
        FIELD "limit", [seen_gdtr], GDT_LIMIT, 4
        END_LINE

        sidt [seen_idtr]
        LINE "sidt"
        FIELD "base", [seen_idtr + 2], idt, 8
        FIELD "limit", [seen_idtr], IDT_LIMIT, 4
        END_LINE

        xor eax, eax
        sldt ax
        movzx ebx, ax
        LINE "sldt"
        FIELD "selector", ebx, LDT_SEL, 4
        END_LINE

        xor eax, eax
        str ax
        movzx ebx, ax
        LINE "str"
        FIELD "selector", ebx, TSS_SEL, 4
        END_LINE

        xor eax, eax
        smsw ax
        movzx ebx, ax
        mov eax, cr0
        movzx eax, ax             ; what MOV from CR0 says (a VMM traps that one)
        mov [cr0_low], eax
        LINE "smsw"
        FIELD "msw", ebx, [cr0_low], 4
        mov eax, ebx
        and eax, 1
        FIELD "PE", eax, 1, 1
        END_LINE

; ---------------------------------------------------------------- EFLAGS
        cli
        pushfd
        pop ebx
        and ebx, EFLAGS_IF
        shr ebx, 9
        LINE "pushf after cli:"
        FIELD "IF", ebx, 0, 1
        END_LINE

        push dword 0x2 | EFLAGS_IF
        popfd
        pushfd
        pop ebx
        cli
        and ebx, EFLAGS_IF
        shr ebx, 9
        LINE "popf IF 0->1:"
        FIELD "IF", ebx, 1, 1
        END_LINE

        push dword 0x2 | EFLAGS_IOPL
        popfd
        pushfd
        pop ebx
        push dword 0x2            ; back to IOPL 0, IF 0
        popfd
        and ebx, EFLAGS_IOPL
        shr ebx, 12
        LINE "popf IOPL 0->3:"
        FIELD "IOPL", ebx, 3, 1
        END_LINE

; ---------------------------------------------------------------- selectors
        xor eax, eax
        mov ax, cs
        movzx ebx, ax
        LINE "mov from cs:"
        FIELD "selector", ebx, KCODE, 4
        END_LINE

        push cs
        pop ebx
        movzx ebx, bx             ; a pushed selector's upper half may be junk
        LINE "push cs:"
        FIELD "selector", ebx, KCODE, 4
        END_LINE

        xor eax, eax
        mov ax, ss
        movzx ebx, ax
        LINE "mov from ss:"
        FIELD "selector", ebx, KDATA, 4
        END_LINE

        push ss
        pop ebx
        movzx ebx, bx
        LINE "push ss:"
        FIELD "selector", ebx, KDATA, 4
        END_LINE

; ---------------------------------------------------------------- descriptors
        mov eax, KCODE
        xor ebx, ebx
        lar ebx, ax
        call zf_to_edi
        and ebx, ~DESC_ACCESSED
        LINE "lar cs:"
        FIELD "rights", ebx, KCODE_AR, 8
        mov eax, ebx
        shr eax, 13
        and eax, 3
        FIELD "DPL", eax, 0, 1
        FIELD "ZF", edi, 1, 1
        END_LINE

        mov eax, KDATA
        xor ebx, ebx
        lsl ebx, ax
        call zf_to_edi
        LINE "lsl ds:"
        FIELD "limit", ebx, 0xFFFFFFFF, 8   ; limit FFFFFh pages, G = 1
        FIELD "ZF", edi, 1, 1
        END_LINE

        mov eax, KDATA
        verr ax
        call zf_to_edi
        mov ebx, edi
        verw ax
        call zf_to_edi
        LINE "verr/verw ds:"
        FIELD "readable", ebx, 1, 1
        FIELD "writable", edi, 1, 1
        END_LINE

; ---------------------------------------------------------------- same-ring returns
        push cs
        push dword .after_retf
        retf
.after_retf:
        xor eax, eax
        mov ax, cs
        movzx ebx, ax
        LINE "retf same ring:"
        FIELD "cs", ebx, KCODE, 4
        END_LINE

        pushfd
        push cs
        push dword .after_iret
        iretd
.after_iret:
        xor eax, eax
        mov ax, cs
        movzx ebx, ax
        LINE "iret same ring:"
        FIELD "cs", ebx, KCODE, 4
        END_LINE

; ---------------------------------------------------------------- ring 3
        mov [kernel_esp], esp
        push dword UDATA          ; SS
        push dword user_stack_top ; ESP
        push dword 0x2 | EFLAGS_IF ; EFLAGS: IF = 1, IOPL = 0
        push dword UCODE          ; CS
        push dword user_main      ; EIP
        iretd
back_from_user:                   ; int 0x80 comes here, on kernel_esp
        LINE "user sgdt"
        FIELD "base", [user_gdtr + 2], gdt, 8
        FIELD "limit", [user_gdtr], GDT_LIMIT, 4
        END_LINE

        LINE "user smsw"
        FIELD "msw", [user_msw], [cr0_low], 4
        END_LINE

        LINE "user pushf:"
        FIELD "IF", [user_if], 1, 1
        FIELD "cs", [user_cs], UCODE, 4
        END_LINE

; ---------------------------------------------------------------- verdict
        mov esi, msg_prefix
        call serial_puts
        mov eax, [differences]
        call put_dec
        mov esi, msg_differences
        call serial_puts
        mov eax, [differences]
        add al, EXIT_PASS
        out DEBUG_EXIT_PORT, al
.halt:  hlt
        jmp .halt

; At CPL 3: no I/O (IOPL 0), so the values go to memory and ring 0 prints
; them.  The interrupt gate of 0x80 has DPL 3.
user_main:
        mov ax, UDATA             ; the IRET to ring 3 nulled DS and ES (DPL 0 < CPL)
        mov ds, ax
        mov es, ax
        sgdt [user_gdtr]
        smsw ax
        movzx eax, ax
        mov [user_msw], eax
        pushfd
        pop eax
        and eax, EFLAGS_IF
        shr eax, 9
        mov [user_if], eax
        xor eax, eax
        mov ax, cs
        mov [user_cs], eax
        int 0x80
        jmp $                     ; not reached

; int 0x80: leave ring 3 for good (the frame on TSS.ESP0 is dropped).
syscall_entry:
        BACK_TO_RING0             ; idt.inc
        jmp back_from_user

; Every exception: print its vector and EIP, exit EXIT_FAIL.  Vectors that
; push an error code (8, 10-14, 17) land in unexpected_err.
        UNEXPECTED_HANDLERS put_hex, 8 ; idt.inc

; ---------------------------------------------------------------- helpers
; zf_to_edi: EDI = ZF (0 or 1); flags and the other registers kept.
zf_to_edi:
        pushfd
        mov edi, [esp]
        and edi, EFLAGS_ZF
        shr edi, 6
        popfd
        ret

; line_start: ESI = "fidelity: name"; clears line_bad.
line_start:
        mov dword [line_bad], 0
        jmp serial_puts

; field: ESI = " label ", EAX = seen, EDX = set, ECX = hex digits; both
; are cut to ECX digits first (a 16-bit field read as a dword has junk above).
field:
        push ecx
        cmp ecx, 8
        jae .whole
        shl ecx, 2
        push ebx
        mov ebx, 1
        shl ebx, cl
        dec ebx
        and eax, ebx
        and edx, ebx
        pop ebx
.whole: pop ecx
        call serial_puts
        call put_hex
        cmp eax, edx
        je .same
        mov dword [line_bad], 1
        push esi
        mov esi, msg_set
        call serial_puts
        mov eax, edx
        call put_hex
        mov al, ')'
        call serial_putc
        pop esi
.same:  ret

line_end:
        mov esi, msg_ok
        cmp dword [line_bad], 0
        je .out
        inc dword [differences]
        mov esi, msg_differs
.out:   jmp serial_puts

; put_hex: EAX = a number, ECX = digits (1-8): its low ECX hex digits.
put_hex:
        pushad
        mov ebx, eax
        mov edx, 8
        sub edx, ecx
        shl edx, 2                ; skip the high 8 - ECX digits
        xchg ecx, edx
        rol ebx, cl
        mov ecx, edx
.digit: rol ebx, 4
        mov eax, ebx
        and eax, 0xF
        mov al, [hex_digits + eax]
        call serial_putc
        loop .digit
        popad
        ret

; put_dec: EAX = a number below 100, in decimal.
put_dec:
        pushad
        xor edx, edx
        mov ecx, 10
        div ecx
        test eax, eax
        jz .ones
        add al, '0'
        call serial_putc
.ones:  mov al, dl
        add al, '0'
        call serial_putc
        popad
        ret

; make_gate: EDI = where, EAX = offset, CH = type byte; selector KCODE.
; Layout (SDM Vol. 3A figure 6-2): offset 15:0 | selector | 0 | type | offset 31:16.
make_gate:
        MAKE_GATE                 ; idt.inc

; make_sys_desc: EDI = where, EAX = base, EDX = limit (byte granular,
; below 64 KiB), CL = type byte (SDM Vol. 3A figures 3-8 and 7-3).
make_sys_desc:
        mov [edi], dx
        mov [edi + 2], ax
        shr eax, 16
        mov [edi + 4], al
        mov [edi + 5], cl
        mov byte [edi + 6], 0
        mov [edi + 7], ah
        ret

; setup_tables: the GDT (with the TSS and LDT descriptors), CS and the data
; segments, the IDT, then LTR and LLDT.
setup_tables:
        mov edi, gdt + TSS_SEL
        mov eax, main_tss
        mov edx, TSS_SIZE - 1
        mov cl, TYPE_TSS
        call make_sys_desc
        mov edi, gdt + LDT_SEL
        mov eax, ldt
        mov edx, ldt_end - ldt - 1
        mov cl, TYPE_LDT
        call make_sys_desc
        RELOAD_SEGMENTS
        xor ebp, ebp              ; 32 exception gates
        PICK_HANDLER ebp             ; idt.inc: .gate, .err
        GATES_AND_SYSCALL .set    ; idt.inc
        lidt [idtr]
        LOAD_TSS main_tss, kstack0_top ; idt.inc
        mov ax, LDT_SEL
        lldt ax
        ret

section .rodata
hex_digits:      db "0123456789abcdef"
msg_set:         db " (set ", 0
msg_ok:          db " ok", 10, 0
msg_differs:     db " DIFFERS", 10, 0
msg_prefix:      db "fidelity: ", 0
msg_differences: db " differences", 10, 0
msg_unexpected:  db "fidelity: unexpected exception at ", 0
newline:         db 10, 0

        GDT_WITH_TSS              ; gdt.inc: section .data, gdt:, 0x00-0x28 (setup_tables fills the TSS)
        dq 0                      ; 0x30 the LDT (setup_tables)
gdt_end:
gdtr:   dw GDT_LIMIT
        dd gdt
idtr:   dw IDT_LIMIT
        dd idt
align 8
ldt:    dq 0x00CF92000000FFFF     ; one flat data segment, never loaded
ldt_end:

section .bss
alignb 16
idt:            resb 256 * 8      ; gates past 31 and but 0x80: not present
main_tss:       resb TSS_SIZE
alignb 16
kstack0:        resb 4096         ; TSS.ESP0: the stack of int 0x80 from ring 3
kstack0_top:
user_stack:     resb 4096
user_stack_top:
seen_gdtr:      resb 8
seen_idtr:      resb 8
user_gdtr:      resb 8
user_msw:       resd 1
cr0_low:        resd 1
user_if:        resd 1
user_cs:        resd 1
kernel_esp:     resd 1
line_bad:       resd 1
differences:    resd 1
