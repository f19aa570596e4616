; timer.asm - the PC's interrupt path: 8259A PIC remapped, 8254 PIT counter 0
; at 1 kHz, 100 IRQ0 ticks counted with STI/HLT.
;
; Run:   build/trapeze -kernel build/guests/timer.elf -nographic
;        build/trapeze -kernel build/guests/timer.elf -nographic -icount shift=0
;        qemu-system-i386 -kernel build/guests/timer.elf -nographic \
;            -device isa-debug-exit,iobase=0xf4,iosize=0x04
; Prints "timer: 100 ticks" and exits with status 33; any exception, or an
; interrupt on a vector other than 0x20, prints a FAIL line (status 35).
;
; Programming (Intel 8259A data sheet, "Initialization Command Words";
; Intel 8254 data sheet, "Control Word Format"):
;   ICW1 0x11  edge triggered, cascade, ICW4 needed
;   ICW2 0x20 / 0x28  vectors of IRQ 0-7 / 8-15
;   ICW3 0x04 / 0x02  slave on master IR2 / slave ID 2
;   ICW4 0x01  8086 mode, normal EOI
;   OCW1 0xFE / 0xFF  only IRQ0 unmasked
;   PIT control word 0x34: counter 0, LSB then MSB, mode 2 (rate generator),
;   binary; count 1193 = 1193182 Hz / 1000.

%include "guests/common.inc"

bits 32

extern serial_puts, serial_dec32, serial_hex32, exit_pass, exit_fail

TICKS       equ 100
PIT_COUNT   equ 1193              ; 1 kHz
IRQ_BASE    equ 0x20
INT_GATE    equ 0x8E00            ; P, DPL 0, 32-bit interrupt gate (SDM Vol. 3A 6.11)

section .text
global main
main:
        ; The IDT: every vector to 'unexpected', IRQ0 (0x20) to 'tick'.
        mov edi, idt
        xor ecx, ecx
.fill:  mov eax, unexpected
        cmp ecx, IRQ_BASE
        jne .set
        mov eax, tick
.set:   mov [edi], ax             ; offset 15:0
        mov dx, cs
        mov [edi + 2], dx         ; selector: the loader's flat code segment
        mov word [edi + 4], INT_GATE
        shr eax, 16
        mov [edi + 6], ax         ; offset 31:16
        add edi, 8
        inc ecx
        cmp ecx, 256
        jb .fill
        lidt [idt_descriptor]

        ; Remap the PIC pair to 0x20-0x2F.
        mov al, 0x11
        out 0x20, al
        out 0xA0, al
        mov al, IRQ_BASE
        out 0x21, al
        mov al, IRQ_BASE + 8
        out 0xA1, al
        mov al, 0x04
        out 0x21, al
        mov al, 0x02
        out 0xA1, al
        mov al, 0x01
        out 0x21, al
        out 0xA1, al
        mov al, 0xFE
        out 0x21, al
        mov al, 0xFF
        out 0xA1, al

        ; PIT counter 0: mode 2, 1 kHz.
        mov al, 0x34
        out 0x43, al
        mov al, PIT_COUNT & 0xFF
        out 0x40, al
        mov al, PIT_COUNT >> 8
        out 0x40, al

        sti
.wait:  hlt                       ; sleep until the next IRQ0
        cmp dword [ticks], TICKS
        jb .wait
        cli
        mov esi, msg_done
        call serial_puts
        mov eax, [ticks]
        call serial_dec32
        mov esi, msg_ticks
        call serial_puts
        jmp exit_pass

; IRQ0: count, then a non-specific EOI (OCW2 0x20) to the master.
tick:
        push eax
        inc dword [ticks]
        mov al, 0x20
        out 0x20, al
        pop eax
        iret

unexpected:
        mov esi, msg_unexpected
        call serial_puts
        jmp exit_fail

section .data
align 8
idt_descriptor:
        dw 256 * 8 - 1
        dd idt
ticks:  dd 0
msg_done:       db "timer: ", 0
msg_ticks:      db " ticks", 10, 0
msg_unexpected: db "FAIL unexpected interrupt or exception", 10, 0

section .bss
align 8
idt:    resb 256 * 8
