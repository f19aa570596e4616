; syscall.asm - interrupts and system calls, the smallest whole picture: a
; kernel that remaps the 8259A PIC, runs the 8254 PIT at 1 kHz, counts IRQ0
; ticks, and drops to a ring-3 program that asks it for services with
; int 0x80.  The teaching guest of tutorial/lab4-interrupts.md.
;
; Run:   build/trapeze -kernel build/guests/syscall.elf -nographic
;        qemu-system-i386 -kernel build/guests/syscall.elf -nographic \
;            -device isa-debug-exit,iobase=0xf4,iosize=0x04
; Prints "kernel: to ring 3", "user: hello from ring 3" (through the write
; system call), waits in ring 3 until the kernel has counted 3 ticks, then
; "kernel: exit from ring 3 after 3 ticks" and exits with status 33.  An
; exception prints "FAIL exception N" and exits with status 35.
;
; GDT (SDM Vol. 3A 3.4.5, 5.5):     IDT (SDM Vol. 3A 6.11):
;   08 kernel code  DPL 0             0-31  exceptions -> fault_N  (DPL 0)
;   10 kernel data  DPL 0             0x20  IRQ0 -> irq0           (DPL 0)
;   18 user code    DPL 3 (1B)        0x80  -> syscall_entry       (DPL 3)
;   20 user data    DPL 3 (23)        all interrupt gates (IF cleared on entry)
;   28 the TSS: ESP0 = kstack_top, SS0 = 10 (SDM Vol. 3A 7.2.1), used by
;      the CPU on every interrupt that arrives in ring 3 (6.12.1)
; System calls: EAX = number, EBX = argument, result in EAX.
;   0 SYS_EXIT   (never returns)   1 SYS_WRITE (EBX = string)   2 SYS_TICKS

%include "guests/common.inc"
%include "guests/gdt.inc"
%include "guests/idt.inc"
%include "guests/irq.inc"

bits 32

extern serial_puts, serial_dec32, exit_pass, exit_fail

SYS_EXIT  equ 0
SYS_WRITE equ 1
SYS_TICKS equ 2
WAIT_TICKS equ 3

IRQ_BASE  equ 0x20
PIT_COUNT equ 1193                ; 1193182 Hz / 1193 = 1 kHz
INT_GATE  equ 0x8E                ; P, DPL 0, 32-bit interrupt gate
INT_GATE3 equ 0xEE                ; P, DPL 3: int 0x80 allowed from ring 3
TSS_TYPE  equ 0x89                ; P, DPL 0, 32-bit TSS, available (7.2.2)

section .text
global main
main:
        ; The GDT: fill in the TSS descriptor's base, load, reload segments.
        mov eax, tss
        mov [gdt + TSS_SEL + 2], ax
        shr eax, 16
        mov [gdt + TSS_SEL + 4], al
        mov [gdt + TSS_SEL + 7], ah
        lgdt [gdtr]
        jmp KCODE:reload_cs
reload_cs:
        mov ax, KDATA
        mov ds, ax
        mov es, ax
        mov ss, ax
        LOAD_TSS tss, kstack_top  ; idt.inc: no I/O bitmap, ring 3 gets no ports

        ; The IDT: exceptions, IRQ0, int 0x80.
        xor ecx, ecx
.fill:  mov eax, [fault_table + ecx * 4]
        mov dl, INT_GATE
        call set_gate
        inc ecx
        cmp ecx, 32
        jb .fill
        mov ecx, IRQ_BASE
        mov eax, irq0
        mov dl, INT_GATE
        call set_gate
        mov ecx, 0x80
        mov eax, syscall_entry
        mov dl, INT_GATE3
        call set_gate
        lidt [idtr]

        ; The 8259A pair (data sheet, "Initialization Command Words"): ICW1
        ; 11h edge, cascade, ICW4; ICW2 vectors 20h / 28h; ICW3 slave on IR2;
        ; ICW4 8086 mode; then OCW1, the masks: only IRQ0 open.
pic_init:
        PIC_REMAP IRQ_BASE        ; irq.inc: ICW1-ICW4, then OCW1 FEh / FFh
        ; The 8254 (data sheet, "Control Word Format"): 34h = counter 0,
        ; LSB then MSB, mode 2 (rate generator), binary.
pit_init:
        PIT_RATE PIT_COUNT        ; irq.inc: control word 34h, then the count

        ; To ring 3: IRET pops EIP, CS, EFLAGS, ESP, SS (SDM Vol. 2A IRET).
        mov esi, msg_to_user
        call serial_puts
        push UDATA                ; SS
        push user_stack_top       ; ESP
        push 0x202                ; EFLAGS: IF = 1, IOPL = 0
        push UCODE                ; CS
        push user_main            ; EIP
to_user:
        iretd

; set_gate: ECX = vector, EAX = handler, DL = type byte (figure 6-2).
set_gate:
        mov [idt + ecx * 8], ax
        mov word [idt + ecx * 8 + 2], KCODE
        mov byte [idt + ecx * 8 + 4], 0
        mov [idt + ecx * 8 + 5], dl
        shr eax, 16
        mov [idt + ecx * 8 + 6], ax
        ret

; IRQ0: count, then a non-specific EOI (OCW2 20h) to the master PIC.  It
; always interrupts ring 3, whose DS may still be the null selector the
; IRET left (before user_main loads its own): load the kernel's.
irq0:
        push ds
        push eax
        mov ax, KDATA
        mov ds, ax
        inc dword [ticks]
        mov al, 0x20
        out 0x20, al
        pop eax
        pop ds
        iretd

; int 0x80.  The CPU came here through the DPL-3 gate, switched to the
; stack in TSS.SS0:ESP0 and pushed the user's SS, ESP, EFLAGS, CS, EIP.
; The user's DS and ES are not to be trusted: the kernel's are loaded.
syscall_entry:
        push ds
        push es
        push edx
        mov dx, KDATA
        mov ds, dx
        mov es, dx
        pop edx
        cmp eax, SYS_WRITE
        je .write
        cmp eax, SYS_TICKS
        je .ticks
        cmp eax, SYS_EXIT
        je .exit
        mov eax, -1               ; unknown call
        jmp .done
.write: mov esi, ebx
        call serial_puts
        jmp .done
.ticks: mov eax, [ticks]
.done:  pop es
        pop ds
        iretd
.exit:  cli
        mov esi, msg_exit
        call serial_puts
        mov eax, [ticks]
        call serial_dec32
        mov esi, msg_ticks
        call serial_puts
        jmp exit_pass

; The ring-3 program.  It may not touch ports or the IF flag: everything
; goes through int 0x80.
user_main:
        mov ax, UDATA             ; the IRET to ring 3 nulled DS and ES: their
        mov ds, ax                ; DPL 0 is below CPL 3 (SDM Vol. 2A IRET)
        mov es, ax
        mov eax, SYS_WRITE
        mov ebx, msg_user
        int 0x80
user_wait:
        mov eax, SYS_TICKS
        int 0x80
        cmp eax, WAIT_TICKS
        jb user_wait
        mov eax, SYS_EXIT
        int 0x80

; Exceptions: say which, and fail.
fault:
        mov ax, KDATA             ; the fault may come from ring 3
        mov ds, ax
        mov es, ax
        mov esi, msg_fault
        call serial_puts
        mov eax, [esp]
        call serial_dec32
        mov esi, msg_nl
        call serial_puts
        jmp exit_fail
%assign v 0
%rep 32
fault_ %+ v:
        push v
        jmp fault
%assign v v + 1
%endrep

section .rodata
fault_table:
%assign v 0
%rep 32
        dd fault_ %+ v
%assign v v + 1
%endrep
msg_to_user: db "kernel: to ring 3", 10, 0
msg_user:    db "user: hello from ring 3", 10, 0
msg_exit:    db "kernel: exit from ring 3 after ", 0
msg_ticks:   db " ticks", 10, 0
msg_fault:   db "FAIL exception ", 0
msg_nl:      db 10, 0

section .data
align 8
gdt:    FLAT_GDT                  ; 00-20: flat code and data, DPL 0 and 3 (gdt.inc)
        dw TSS_SIZE - 1, 0        ; 28: the TSS; base filled in by main
        db 0, TSS_TYPE, 0, 0
        TABLE_POINTERS
ticks:  dd 0

section .bss
alignb 16
idt:    resb 256 * 8
tss:    resb TSS_SIZE
alignb 16
kstack: resb 4096
kstack_top:
user_stack: resb 4096
user_stack_top:
