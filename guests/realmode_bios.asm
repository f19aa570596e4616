; realmode_bios.asm - a 64 KiB -bios ROM that stays in real mode: the kvm
; engine's real-mode guest (tests/guests/kvm.sh), run from the reset vector
; F000:FFF0 with no loader, under every engine and QEMU alike.
;
;   build/trapeze -bios build/guests/realmode_bios.rom -nographic
;   qemu-system-i386 -bios build/guests/realmode_bios.rom -nographic \
;       -device isa-debug-exit,iobase=0xf4,iosize=0x04
;
; Checks, one "ok NAME" line each on COM1 (polled: LSR 0x3FD bit 5), then
; "realmode: all 5 checks passed" and EXIT_PASS to port 0xF4; a failed
; check prints "FAIL NAME" and exits with EXIT_FAIL:
;   seg-arith   1000:0010 and 0000:10010 are one byte (linear = seg*16+off)
;   ivt-int     INT 60h through the real-mode IVT at 0:0180 and IRET back
;   rep-movsw   a string copy in RAM
;   a20-wrap    port 92h bit 1 clear: FFFF:0510 is linear 0500 (the 8086 wrap)
;   a20-on      port 92h bit 1 set: FFFF:0510 is linear 100500, distinct
; The ROM is mapped at F0000 and FFFF0000 (the last 64 KiB below 4 GiB).
%include "guests/common.inc"

COM1_DATA equ 0x3F8
COM1_LSR  equ 0x3FD
PORT92    equ 0x92

bits 16
org 0

start:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    mov ds, ax
    mov es, ax
    cld
    mov si, msg_banner
    call puts

    ; seg-arith: write through 1000:0010, read through 0000 + linear 10010 (as 1001:0000)
    mov ax, 0x1000
    mov es, ax
    mov byte [es:0x0010], 0x5A
    mov ax, 0x1001
    mov ds, ax
    cmp byte [0x0000], 0x5A
    mov si, name_seg
    jne fail
    xor ax, ax
    mov ds, ax
    mov es, ax
    call ok

    ; ivt-int: vector 60h -> int60 in this ROM (F000:int60)
    mov word [0x60 * 4], int60
    mov word [0x60 * 4 + 2], 0xF000
    xor dx, dx
    int 0x60
    cmp dx, 0x1234
    mov si, name_ivt
    jne fail
    call ok

    ; rep-movsw: 8 words from the ROM's pattern to 0:0800, then compare
    push cs
    pop ds
    mov si, pattern
    mov di, 0x0800
    mov cx, 8
    rep movsw
    xor ax, ax
    mov ds, ax
    mov si, pattern
    mov di, 0x0800
    mov cx, 8
.cmp:
    mov ax, [cs:si]
    cmp ax, [di]
    jne .bad
    add si, 2
    add di, 2
    loop .cmp
    jmp .good
.bad:
    mov si, name_movs
    jmp fail
.good:
    mov si, name_movs
    call ok

    ; a20-wrap: A20 off, FFFF:0510 = linear 0x100500 & ~(1 << 20) = 0x500
    in al, PORT92
    and al, ~0x03               ; bit 1 A20 off; bit 0 (reset) stays 0
    out PORT92, al
    mov byte [0x0500], 0x11
    mov ax, 0xFFFF
    mov es, ax
    mov byte [es:0x0510], 0x22
    cmp byte [0x0500], 0x22
    mov si, name_wrap
    jne fail
    call ok

    ; a20-on: A20 on, FFFF:0510 = 0x100500, a different byte from 0x500
    in al, PORT92
    or al, 0x02
    and al, ~0x01
    out PORT92, al
    mov byte [0x0500], 0x33
    mov byte [es:0x0510], 0x44
    cmp byte [0x0500], 0x33
    mov si, name_a20
    jne fail
    cmp byte [es:0x0510], 0x44
    jne fail
    call ok

    mov si, msg_done
    call puts
    mov al, EXIT_PASS
    out DEBUG_EXIT_PORT, al
.hang:
    hlt
    jmp .hang

fail:                           ; si = the check's name
    push si
    mov si, msg_fail
    call puts
    pop si
    call puts
    mov si, msg_crlf
    call puts
    mov al, EXIT_FAIL
    out DEBUG_EXIT_PORT, al
    jmp start.hang

ok:                             ; "ok NAME\r\n", si = NAME
    push si
    mov si, msg_ok
    call puts
    pop si
    call puts
    mov si, msg_crlf
    jmp puts

int60:
    mov dx, 0x1234
    iret

; puts: the NUL-terminated string at cs:si to COM1.
puts:
    push ax
    push dx
.next:
    cs lodsb
    test al, al
    jz .done
    mov ah, al
    mov dx, COM1_LSR
.wait:
    in al, dx
    test al, 0x20               ; THRE: the transmitter holding register is empty
    jz .wait
    mov al, ah
    mov dx, COM1_DATA
    out dx, al
    jmp .next
.done:
    pop dx
    pop ax
    ret

msg_banner: db "realmode: real-mode checks from the reset vector", 13, 10, 0
msg_done:   db "realmode: all 5 checks passed", 13, 10, 0
msg_ok:     db "ok ", 0
msg_fail:   db "FAIL ", 0
msg_crlf:   db 13, 10, 0
name_seg:   db "seg-arith", 0
name_ivt:   db "ivt-int", 0
name_movs:  db "rep-movsw", 0
name_wrap:  db "a20-wrap", 0
name_a20:   db "a20-on", 0
align 2
pattern:    dw 0x0102, 0x0304, 0x0506, 0x0708, 0x090A, 0x0B0C, 0x0D0E, 0x0F10

    times 0xFFF0 - ($ - $$) db 0xFF
reset_vector:                   ; F000:FFF0, linear FFFFFFF0
    jmp 0xF000:start
    times 0x10000 - ($ - $$) db 0xFF
