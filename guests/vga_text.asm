; vga_text.asm - known text with attributes in the VGA text buffer, and the
; cursor moved through the CRT Controller.
;
; Run:   build/trapeze -kernel build/guests/vga_text.elf -display none \
;            -screendump screen.txt
;        build/trapeze -kernel build/guests/vga_text.elf -display sdl
;        qemu-system-i386 -kernel build/guests/vga_text.elf -serial stdio \
;            -device isa-debug-exit,iobase=0xf4,iosize=0x04
; Checks on the way (IBM VGA Technical Reference register behaviour):
;   - Miscellaneous Output (read at 0x3CC) selects colour addressing
;     (bit 0), so the CRTC is at 0x3D4/0x3D5;
;   - Cursor Location High/Low (CRTC 0Eh/0Fh) and Cursor Start/End
;     (0Ah/0Bh) read back what was written;
;   - Input Status 1 (0x3DA) bit 3, Vertical Retrace, goes 1 then 0 (a
;     retrace comes within 50 million polls, and ends).
; Prints "vga_text: ok" on COM1 and exits 33 (pass); a failed check prints
; "vga_text: FAIL <what>" and exits 35.
;
; The screen it leaves (tests/guests/screendump.sh and vga_sdl.sh expect
; exactly this; every other cell is 20h with attribute 07h):
;   row  0, col  0, attr 1Eh: "trapeze VGA text test"
;   row  2, col  0, attr 07h: "colours:"
;   row  2, col  9 + 2*i, attr i (i = 1..15), char '0'+i ('A'.. for >9),
;            and attr 70h 'X' at col 41 (black on light grey)
;   row  4, col  0, attr 0Fh: CP437 bytes C9 CD CD BB 20 B0 B1 B2 DB 20 01 02 03
;            20 E0 E1 E3 20 C4 C4 C5
;   row  6, col  0, attr 8Ch: "blink" (blinks: attribute bit 7 with Enable Blink)
;   row 24, col 74, attr 2Fh: "bottom"
;   cursor at row 10, column 20, scan lines 12 to 15 (Cursor Start 0Ch, End 0Fh)

%include "guests/common.inc"

bits 32

TEXT          equ 0xB8000
COLS          equ 80
ROWS          equ 25
MISC_READ     equ 0x3CC
CRTC_INDEX    equ 0x3D4
CRTC_DATA     equ 0x3D5
INPUT_STATUS1 equ 0x3DA
CURSOR_ROW    equ 10
CURSOR_COL    equ 20
CURSOR_POS    equ CURSOR_ROW * COLS + CURSOR_COL

extern serial_puts, exit_pass, exit_fail

section .text
global main

; put_text: ESI = NUL-terminated string, EDI = cell address, AH = attribute.
put_text:
        push eax
        push esi
        push edi
.next:  lodsb
        test al, al
        jz .done
        stosw
        jmp .next
.done:  pop edi
        pop esi
        pop eax
        ret

; crtc_write: AL = index, AH = value.  crtc_read: AL = index -> AL = value.
crtc_write:
        push edx
        mov dx, CRTC_INDEX
        out dx, al
        inc dx
        xchg al, ah
        out dx, al
        xchg al, ah
        pop edx
        ret
crtc_read:
        push edx
        mov dx, CRTC_INDEX
        out dx, al
        inc dx
        in al, dx
        pop edx
        ret

fail:   ; ESI = what failed
        push esi
        mov esi, msg_fail
        call serial_puts
        pop esi
        call serial_puts
        mov esi, newline
        call serial_puts
        jmp exit_fail

main:
        cld
        ; Colour addressing, or the CRTC is not at 3D4h.
        mov dx, MISC_READ
        in al, dx
        mov esi, what_misc
        test al, 1
        jz fail

        ; Clear the screen: spaces, light grey on black.
        mov edi, TEXT
        mov ecx, COLS * ROWS
        mov ax, 0x0720
        rep stosw

        mov ah, 0x1E
        mov esi, title
        mov edi, TEXT
        call put_text

        mov ah, 0x07
        mov esi, colours
        mov edi, TEXT + (2 * COLS) * 2
        call put_text
        ; attr i, char hex digit of i, at column 9 + 2i
        mov ecx, 1
.colour:
        mov al, [hex_digits + ecx]
        mov ah, cl
        mov [TEXT + (2 * COLS + 9) * 2 + ecx * 4], ax
        inc ecx
        cmp ecx, 16
        jb .colour
        mov word [TEXT + (2 * COLS + 41) * 2], 0x7058

        mov ah, 0x0F
        mov esi, cp437_line
        mov edi, TEXT + (4 * COLS) * 2
        call put_text

        mov ah, 0x8C
        mov esi, blink
        mov edi, TEXT + (6 * COLS) * 2
        call put_text

        mov ah, 0x2F
        mov esi, bottom
        mov edi, TEXT + (24 * COLS + 74) * 2
        call put_text

        ; The cursor: location and shape, then read them back.
        mov al, 0x0E
        mov ah, CURSOR_POS >> 8
        call crtc_write
        mov al, 0x0F
        mov ah, CURSOR_POS & 0xFF
        call crtc_write
        mov al, 0x0A
        mov ah, 0x0C
        call crtc_write
        mov al, 0x0B
        mov ah, 0x0F
        call crtc_write

        mov esi, what_cursor
        mov al, 0x0E
        call crtc_read
        cmp al, CURSOR_POS >> 8
        jne fail
        mov al, 0x0F
        call crtc_read
        cmp al, CURSOR_POS & 0xFF
        jne fail
        mov esi, what_shape
        mov al, 0x0A
        call crtc_read
        and al, 0x3F
        cmp al, 0x0C
        jne fail
        mov al, 0x0B
        call crtc_read
        and al, 0x1F
        cmp al, 0x0F
        jne fail

        ; Vertical retrace: wait for bit 3 to be set, then to clear.
        mov dx, INPUT_STATUS1
        mov esi, what_retrace
        mov ecx, 50000000
.in_retrace:
        in al, dx
        test al, 8
        jnz .retrace_seen
        dec ecx
        jnz .in_retrace
        jmp fail
.retrace_seen:
        mov ecx, 50000000
.out_of_retrace:
        in al, dx
        test al, 8
        jz .retrace_done
        dec ecx
        jnz .out_of_retrace
        jmp fail
.retrace_done:
        mov esi, msg_ok
        call serial_puts
        jmp exit_pass

section .rodata
title:        db "trapeze VGA text test", 0
colours:      db "colours:", 0
cp437_line:   db 0xC9, 0xCD, 0xCD, 0xBB, 0x20, 0xB0, 0xB1, 0xB2, 0xDB, 0x20
              db 0x01, 0x02, 0x03, 0x20, 0xE0, 0xE1, 0xE3, 0x20, 0xC4, 0xC4, 0xC5, 0
blink:        db "blink", 0
bottom:       db "bottom", 0
hex_digits:   db "0123456789ABCDEF"
msg_ok:       db "vga_text: ok", 13, 10, 0
msg_fail:     db "vga_text: FAIL ", 0
newline:      db 13, 10, 0
what_misc:    db "Miscellaneous Output bit 0 (I/O address select) is not colour", 0
what_cursor:  db "Cursor Location High/Low do not read back", 0
what_shape:   db "Cursor Start/End do not read back", 0
what_retrace: db "Input Status 1 vertical retrace bit never toggled", 0
