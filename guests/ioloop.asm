; ioloop.asm - benchmark: 1,000,000 OUTs to port 0x80 (the POST port, which
; no device of trapeze's claims), then exit.  Each OUT is one I/O exit under
; kvm, so (time - exit0 time) / 1e6 is the I/O-exit round trip
; (bench/run.sh).  Unpaged protected mode, as Multiboot leaves it.
;
;   build/trapeze -kernel build/guests/ioloop.elf -nographic -engine kvm -stats
;   qemu-system-i386 -kernel build/guests/ioloop.elf -nographic \
;       -device isa-debug-exit,iobase=0xf4,iosize=0x04
%include "guests/common.inc"

IOLOOP_COUNT equ 1000000

bits 32
section .text
global main
extern exit_pass

main:
    mov ecx, IOLOOP_COUNT
.loop:
    out 0x80, al
    dec ecx
    jnz .loop
    jmp exit_pass
