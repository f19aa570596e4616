; hello.asm - the demo guest: a greeting and the Multiboot command line.
;
; Run:   build/trapeze -kernel build/guests/hello.elf -append "a b" -nographic
;        (`make run`), or under QEMU:
;        qemu-system-i386 -kernel build/guests/hello.elf -append "a b" -nographic \
;            -device isa-debug-exit,iobase=0xf4,iosize=0x04
; Prints on COM1:
;        Hello from trapeze!
;        cmdline: <the command line from the Multiboot info, or "(none)">
; then exits with status 33 (pass).  A loader that did not pass the Multiboot
; magic in EAX gets "bad Multiboot magic" and status 35 (fail).
;
; QEMU's loader passes "<kernel path> <-append text>" as the command line, as
; GRUB does ("<kernel path> <arguments>").

%include "guests/common.inc"

bits 32

MB_BOOT_MAGIC   equ 0x2BADB002    ; in EAX at entry (Multiboot 3.2)
MBI_FLAGS       equ 0             ; Multiboot info structure (Multiboot 3.3)
MBI_CMDLINE     equ 16
MBI_HAS_CMDLINE equ 1 << 2        ; flags bit 2: cmdline is valid

extern serial_puts, exit_pass, exit_fail

section .text
global main
; main(info, magic)
main:
        mov ebx, [esp + 4]        ; info
        mov eax, [esp + 8]        ; magic
        cmp eax, MB_BOOT_MAGIC
        jne .bad_magic
        mov esi, greeting
        call serial_puts
        mov esi, cmdline_label
        call serial_puts
        mov esi, none
        test dword [ebx + MBI_FLAGS], MBI_HAS_CMDLINE
        jz .print
        mov esi, [ebx + MBI_CMDLINE]
.print: call serial_puts
        mov esi, newline
        call serial_puts
        jmp exit_pass
.bad_magic:
        mov esi, bad_magic
        call serial_puts
        jmp exit_fail

section .rodata
greeting:       db "Hello from trapeze!", 10, 0
cmdline_label:  db "cmdline: ", 0
none:           db "(none)", 0
newline:        db 10, 0
bad_magic:      db "bad Multiboot magic", 10, 0
