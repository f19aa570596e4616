; floppy_odd_floppy.asm - a boot sector that reports on COM1 what int 13h
; makes of the floppy it booted from, for images of no floppy size (a bare
; boot sector, 1024 or 1000 bytes): QEMU serves them as 2.88 MB disks whose
; sectors past the file's end read as zeros.
;
; Build: nasm -f bin -I. -o build/guests/floppy_odd.img guests/floppy_odd_floppy.asm
; Run:   (pad the 512-byte image with 0x22 bytes to 1024 first)
;        build/trapeze -fda odd.img -display none
;        qemu-system-i386 -drive file=odd.img,if=floppy,format=raw -display none \
;            -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04
; COM1: "G" CF BL CH CL DH DL of int 13h AH=08h, then " R" AH AL CF BYTE for
; reads of sectors 2, 3 and 36 of track 0 (BYTE: the first byte read, 77
; when nothing was), then " W" AH CF for a write of sector 3; all in hex.
; Exit status 33.  Under qemu-system-i386 8.x with a 1024-byte image:
;     G00054F240101 R00010022 R00010000 R00010000 W2001
; (tests/guests/bios_boot.sh compares the whole line with QEMU's.)

bits 16
org 0x7C00

%include "guests/common.inc"

COM1 equ 0x3F8
BUF  equ 0x8000

boot:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7C00
        sti
        mov [drive], dl
        ; Drive parameters: BL type, CH/CL last cylinder and sector, DH last head, DL drives.
        mov ah, 0x08
        int 0x13
        pushf
        mov al, 'G'
        call putc
        pop ax
        and al, 1
        call puthex
        mov al, bl
        call puthex
        mov al, ch
        call puthex
        mov al, cl
        call puthex
        mov al, dh
        call puthex
        mov al, dl
        call puthex
        xor ax, ax
        mov es, ax              ; AH=08h left ES:DI at the diskette parameter table
        mov cl, 2
        call read
        mov cl, 3
        call read
        mov cl, 36
        call read
        ; Write sector 3 (past a 1024-byte file's end).
        mov ax, 0x0301
        mov bx, BUF
        mov cx, 0x0003
        xor dh, dh
        mov dl, [drive]
        int 0x13
        pushf
        push ax
        mov al, ' '
        call putc
        mov al, 'W'
        call putc
        pop ax
        mov al, ah
        call puthex
        pop ax
        and al, 1
        call puthex
        mov al, 13
        call putc
        mov al, 10
        call putc
        mov al, EXIT_PASS
        out DEBUG_EXIT_PORT, al
.halt:  hlt
        jmp .halt

; Read sector CL of cylinder 0, head 0 to BUF; print " R" AH AL CF [BUF].
read:   mov byte [BUF], 0x77
        mov ax, 0x0201
        mov bx, BUF
        xor ch, ch
        xor dh, dh
        mov dl, [drive]
        int 0x13
        pushf
        push ax
        mov al, ' '
        call putc
        mov al, 'R'
        call putc
        pop ax
        push ax
        mov al, ah
        call puthex
        pop ax
        call puthex
        pop ax
        and al, 1
        call puthex
        mov al, [BUF]
        ; fall through
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
        add al, 'A' - '9' - 1
        ; fall through
; One byte to COM1 (polled: LSR bit 5).
putc:   push dx
        push ax
        mov dx, COM1 + 5
.wait:  in al, dx
        test al, 0x20
        jz .wait
        pop ax
        mov dx, COM1
        out dx, al
        pop dx
        ret

drive:  db 0

        times 510 - ($ - $$) db 0
        dw 0xAA55
