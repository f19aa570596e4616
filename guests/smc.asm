; smc.asm - self-modifying code: a loop that rewrites the immediate of one of
; its own instructions before running it, as a patching loader or a JIT does.
;
; Run:   build/trapeze -kernel build/guests/smc.elf -nographic -stats
;        qemu-system-i386 -kernel build/guests/smc.elf -nographic \
;            -device isa-debug-exit,iobase=0xf4,iosize=0x04
; Prints "smc: sum 10" (1 + 2 + 3 + 4: the value each pass wrote into the
; instruction, read back by running it) and exits with status 33; a CPU that
; ran the stale "mov eax, 0" would print "smc: sum 0" and exit 35.
; Tutorial lab 3 (tutorial/lab3-paging.md) steps through it.
;
; On x86 a store to an instruction that is about to run takes effect: the
; processor detects the write and refetches (SDM Vol. 3A 11.6, "Self-
; Modifying Code"; on a Pentium and later even when the store is the
; instruction right before the changed one, as here).  trapeze keeps decoded
; blocks, so each of the 4 stores throws away the block that holds 'patch'
; (-stats: "block invalidations 4"; cpu/block.c).  Nothing else here writes
; near code: the stack is in .bss, which link.ld puts on its own page.

%include "guests/common.inc"

bits 32

extern serial_puts, serial_dec32, exit_pass, exit_fail

PASSES equ 4

section .text
global main
main:
        xor ebx, ebx              ; the sum
        mov ecx, 1                ; the value to write into the instruction
next_pass:
        mov [patch + 1], ecx      ; B8 id: the immediate starts 1 byte in
patch:  mov eax, strict dword 0   ; B8 00 00 00 00, rewritten before each run
        add ebx, eax
        inc ecx
        cmp ecx, PASSES
        jbe next_pass
done:   mov esi, msg_sum
        call serial_puts
        mov eax, ebx
        call serial_dec32
        mov esi, msg_nl
        call serial_puts
        cmp ebx, 1 + 2 + 3 + 4
        jne exit_fail
        jmp exit_pass

section .rodata
msg_sum: db "smc: sum ", 0
msg_nl:  db 10, 0
