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

bits 32

extern serial_puts, serial_dec32, serial_hex32, exit_pass, exit_fail

TICKS       equ 2000
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
msg_done:       db "timerbench: ", 0
msg_ticks:      db " ticks, ", 0
msg_iterations: db " loop iterations", 10, 0
msg_unexpected: db "FAIL unexpected interrupt or exception", 10, 0

section .bss
align 8
idt:    resb 256 * 8
