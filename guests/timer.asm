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
%include "guests/irq.inc"

bits 32

extern serial_puts, serial_dec32, serial_hex32, exit_pass, exit_fail

TICKS       equ 100
PIT_COUNT   equ 1193              ; 1 kHz
IRQ_BASE    equ 0x20

section .text
global main
main:
        ; The IDT: every vector to 'unexpected', IRQ0 (0x20) to 'tick'.
        IDT_FILL idt, unexpected, IRQ_BASE, tick
        PIC_REMAP IRQ_BASE        ; vectors 0x20-0x2F, only IRQ0 open
        PIT_RATE PIT_COUNT        ; counter 0: mode 2, 1 kHz

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

        TICK_HANDLERS             ; tick (IRQ0) and unexpected (irq.inc)

section .data
        TICK_DATA                 ; idt_descriptor, ticks (irq.inc)
msg_done:       db "timer: ", 0
msg_ticks:      db " ticks", 10, 0
msg_unexpected: db "FAIL unexpected interrupt or exception", 10, 0

section .bss
align 8
idt:    resb 256 * 8
