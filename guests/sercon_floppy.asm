; sercon_floppy.asm - a boot sector that talks only through the BIOS: int 10h
; teletype out, int 16h keys in.  Under -nographic (QEMU: SeaBIOS's serial
; console; trapeze: machine/bios/bios_serial.c) both go through COM1, so the
; line typed on the terminal is read and echoed.
;
; Build: nasm -f bin -I. -o build/guests/sercon.img guests/sercon_floppy.asm
; Run:   build/trapeze -fda build/guests/sercon.img -nographic
;        qemu-system-i386 -drive file=build/guests/sercon.img,if=floppy,format=raw \
;            -nographic -device isa-debug-exit,iobase=0xf4,iosize=0x04
; Prints "type a line: ", echoes the keys until Enter, then "got:" and each
; key's ASCII code in hex ("got: 68 69" for "hi"; Ctrl-A is 01), waits three
; timer ticks (QEMU's serial console sends its output on the tick) and exits
; through isa-debug-exit: status 33.  tests/guests/console.sh types at it.

bits 16
org 0x7C00

%include "guests/common.inc"

BDA_TICKS equ 0x046C
MAX_KEYS  equ 32

boot:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7C00
        sti
        mov si, msg_prompt
        call puts
        mov di, keys
.key:   xor ah, ah
        int 0x16                ; AL = ASCII
        cmp al, 13
        je .done
        cmp di, keys + MAX_KEYS
        jae .key
        stosb
        cmp al, ' '
        jb .key                 ; control keys are not echoed
        call putc
        jmp .key
.done:  mov si, msg_got
        call puts
        mov si, keys
.hex:   cmp si, di
        jae .end
        mov al, ' '
        call putc
        lodsb
        call puthex
        jmp .hex
.end:   mov si, msg_crlf
        call puts
        mov cx, 3               ; let three ticks pass
.tick:  mov ax, [BDA_TICKS]
.same:  hlt
        cmp ax, [BDA_TICKS]
        je .same
        loop .tick
        mov al, EXIT_PASS
        out DEBUG_EXIT_PORT, al
.halt:  hlt
        jmp .halt

; The NUL-terminated string at DS:SI.
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
        add al, 'A' - '9' - 1
        ; fall through
; One character through int 10h teletype, page 0.
putc:   push bx
        mov ah, 0x0E
        xor bx, bx
        int 0x10
        pop bx
        ret

msg_prompt: db "type a line: ", 0
msg_got:    db 13, 10, "got:", 0
msg_crlf:   db 13, 10, 0
keys:       times MAX_KEYS db 0

        times 510 - ($ - $$) db 0
        dw 0xAA55
