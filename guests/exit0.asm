; exit0.asm - the start-up benchmark guest: exits at once.
;
; Run:   build/trapeze -kernel build/guests/exit0.elf -nographic
;        qemu-system-i386 -kernel build/guests/exit0.elf -nographic \
;            -device isa-debug-exit,iobase=0xf4,iosize=0x04
; Prints nothing, exits with status 33 (pass).  What a run costs is then the
; emulator's own start-up and shut-down (bench/run.sh times it).

bits 32

extern exit_pass

section .text
global main
main:
        jmp exit_pass
