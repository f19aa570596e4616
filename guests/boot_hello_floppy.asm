; boot_hello_floppy.asm - a boot sector that prints with the BIOS's int 10h
; teletype (AH=0Eh), copies each character to COM1 (so the output can be
; compared with QEMU's serial), and writes the pass value to isa-debug-exit.
;
; Build: nasm -f bin -I. -o build/guests/boot_hello.img guests/boot_hello_floppy.asm
; Run:   build/trapeze -fda build/guests/boot_hello.img -display none -screendump s.txt
;        qemu-system-i386 -fda build/guests/boot_hello.img -display none -serial stdio \
;            -device isa-debug-exit,iobase=0xf4,iosize=0x04
; Screen (after the BIOS's own lines): "Hello from the boot sector!" and
; "boot drive 00"; COM1: the same two lines.  Exit status 33.

bits 16
org 0x7C00

%include "guests/common.inc"

COM1 equ 0x3F8

boot:
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7C00
        sti
        mov [drive], dl
        mov si, msg_hello
        call puts
        mov si, msg_drive
        call puts
        mov al, [drive]
        call puthex
        mov si, msg_crlf
        call puts
        mov al, EXIT_PASS
        out DEBUG_EXIT_PORT, al
.halt:  hlt
        jmp .halt

; Print the NUL-terminated string at DS:SI.
puts:   lodsb
        test al, al
        jz .done
        call putc
        jmp puts
.done:  ret

; AL as two hex digits.
puthex: push ax
        shr al, 4
        call .nibble
        pop ax
        and al, 0x0F
.nibble:
        add al, '0'
        cmp al, '9'
        jbe putc
        add al, 'a' - '9' - 1
        ; fall through
; One character: int 10h teletype on page 0, and COM1 (polled: LSR bit 5).
putc:   push ax
        mov ah, 0x0E
        xor bx, bx
        int 0x10
        mov dx, COM1 + 5
.wait:  in al, dx
        test al, 0x20
        jz .wait
        pop ax
        mov dx, COM1
        out dx, al
        ret

msg_hello: db "Hello from the boot sector!", 13, 10, 0
msg_drive: db "boot drive ", 0
msg_crlf:  db 13, 10, 0
drive:     db 0

        times 510 - ($ - $$) db 0
        dw 0xAA55
        times 1474560 - ($ - $$) db 0
