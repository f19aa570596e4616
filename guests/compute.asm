; compute.asm - the compute-bound benchmark guest (Multiboot).
;
; Run:   build/trapeze -kernel build/guests/compute.elf -nographic
;        qemu-system-i386 -kernel build/guests/compute.elf -nographic \
;            -device isa-debug-exit,iobase=0xf4,iosize=0x04
; Runs the loop of compute_loop.inc: 499,986,253 instructions (about 500
; million, counted there), prints "compute: checksum 2c8159ab" on COM1 and
; exits with status 33.  bench/run.sh divides the count by the wall time.
; compute_floppy.asm runs the same loop from a boot floppy for Bochs.

bits 32

extern serial_puts, serial_hex32, exit_pass

section .text
global main
main:
        call compute_run
        mov esi, msg_checksum
        call serial_puts
        call serial_hex32
        mov esi, newline
        call serial_puts
        jmp exit_pass

%include "guests/compute_loop.inc"

section .rodata
msg_checksum:   db "compute: checksum ", 0
newline:        db 10, 0

section .bss
alignb 16
compute_buf:    resb COMPUTE_BUF_SIZE
compute_sum:    resd 1
compute_passes: resd 1
