; timerbench.asm - benchmark: a compute loop while the PIT interrupts at
; 1 kHz, for a fixed 2000 IRQ0 ticks (2 s of guest time), then
; "timerbench: 2000 ticks, N loop iterations" on COM1 and exit status 33.
; Each iteration is 7 instructions (LOOP_INSNS), each tick's handler 6, so
; the guest ran about 7 N + 6 * 2000 instructions.  bench/run.sh reports the
; wall time, interrupts per second and the instruction rate.
;
; Run:   build/trapeze -kernel build/guests/timerbench.elf -nographic
;        qemu-system-i386 -kernel build/guests/timerbench.elf -nographic \
;            -device isa-debug-exit,iobase=0xf4,iosize=0x04
; PIC and PIT programming as in timer.asm.

%include "guests/common.inc"
%include "guests/irq.inc"

bits 32

extern serial_puts, serial_dec32, serial_hex32, exit_pass, exit_fail

TICKS       equ 2000
PIT_COUNT   equ 1193              ; 1 kHz
IRQ_BASE    equ 0x20

section .text
global main
main:
        ; The IDT: every vector to 'unexpected', IRQ0 (0x20) to 'tick'.
        IDT_FILL idt, unexpected, IRQ_BASE, tick
        PIC_REMAP IRQ_BASE        ; vectors 0x20-0x2F, only IRQ0 open
        PIT_RATE PIT_COUNT        ; counter 0: mode 2, 1 kHz

        xor ecx, ecx              ; iterations
        mov eax, 1
        sti
.loop:  imul eax, eax, 1103515245 ; 7 instructions an iteration (LOOP_INSNS)
        add eax, 12345
        xor ebx, eax
        rol ebx, 5
        inc ecx
        cmp dword [ticks], TICKS
        jb .loop
        cli
        mov esi, msg_done
        call serial_puts
        mov eax, [ticks]
        call serial_dec32
        mov esi, msg_ticks
        call serial_puts
        mov eax, ecx
        call serial_dec32
        mov esi, msg_iterations
        call serial_puts
        jmp exit_pass

        TICK_HANDLERS             ; tick (IRQ0) and unexpected (irq.inc)

section .data
        TICK_DATA                 ; idt_descriptor, ticks (irq.inc)
msg_done:       db "timerbench: ", 0
msg_ticks:      db " ticks, ", 0
msg_iterations: db " loop iterations", 10, 0
msg_unexpected: db "FAIL unexpected interrupt or exception", 10, 0

section .bss
align 8
idt:    resb 256 * 8
