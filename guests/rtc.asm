; rtc.asm - read the MC146818A RTC the way a kernel does and print the date.
;
; Run:   build/trapeze -kernel build/guests/rtc.elf -nographic -rtc base=2024-02-29T23:59:58 \
;            -icount shift=0
;        qemu-system-i386 -kernel build/guests/rtc.elf -nographic -rtc base=2024-02-29T23:59:58 \
;            -device isa-debug-exit,iobase=0xf4,iosize=0x04
; Prints on COM1:
;        rtc: YYYY-MM-DD HH:MM:SS
; then exits with status 33 (pass); a field out of range (month 13, ...)
; prints "rtc: bad value" and exits with status 35 (fail).
;
; The reading follows the MC146818A data sheet: wait until register A's UIP
; bit is 0 (then no update comes for at least 244 us, time enough to read
; every register), read seconds ... century, then decode them as register B
; says: BCD unless DM (bit 2) is 1, 12-hour with the PM flag in bit 7 of the
; hours unless 24/12 (bit 1) is 1.  The century is CMOS byte 0x32 (PC/AT).

%include "guests/common.inc"

bits 32

CMOS_INDEX  equ 0x70
CMOS_DATA   equ 0x71
REG_A       equ 0x0A
REG_B       equ 0x0B
A_UIP       equ 0x80
B_DM        equ 0x04          ; 1 = binary, 0 = BCD
B_24H       equ 0x02          ; 1 = 24-hour mode
HOURS_PM    equ 0x80

extern serial_putc, serial_puts, exit_pass, exit_fail

section .text
global main

; cmos_read: AL = register index -> AL = value.  Bit 7 of the index (NMI
; disable) is left 0.
cmos_read:
        out CMOS_INDEX, al
        in al, CMOS_DATA
        ret

; to_binary: AL = a register value -> AL = binary, by register B (in BL).
to_binary:
        test bl, B_DM
        jnz .done
        push ecx
        mov cl, al
        shr al, 4
        mov ch, 10
        mul ch                    ; AX = tens * 10
        and cl, 0x0F
        add al, cl
        pop ecx
.done:  ret

; print2: AL = 0..99, printed as two digits.
print2:
        push eax
        movzx eax, al
        mov cl, 10
        div cl                    ; AL = tens, AH = ones
        push eax
        add al, '0'
        call serial_putc
        pop eax
        mov al, ah
        add al, '0'
        call serial_putc
        pop eax
        ret

main:
.wait_uip:
        mov al, REG_A
        call cmos_read
        test al, A_UIP
        jnz .wait_uip
        ; UIP is 0: the registers hold still for at least 244 us.
        mov al, 0x00
        call cmos_read
        mov [seconds], al
        mov al, 0x02
        call cmos_read
        mov [minutes], al
        mov al, 0x04
        call cmos_read
        mov [hours], al
        mov al, 0x07
        call cmos_read
        mov [day], al
        mov al, 0x08
        call cmos_read
        mov [month], al
        mov al, 0x09
        call cmos_read
        mov [year], al
        mov al, 0x32
        call cmos_read
        mov [century], al
        mov al, REG_B
        call cmos_read
        mov bl, al                ; BL = register B from here on

        ; Decode each field as register B says.
        mov esi, seconds
        mov ecx, 7
.decode:
        cmp esi, hours
        je .skip                  ; the hours have their PM bit: below
        mov al, [esi]
        call to_binary
        mov [esi], al
.skip:  inc esi
        loop .decode

        mov al, [hours]
        test bl, B_24H
        jnz .h24
        mov dl, al
        and al, ~HOURS_PM & 0xFF
        call to_binary            ; 1..12
        cmp al, 12
        jne .not12
        xor al, al                ; 12 AM = 0 h, 12 PM = 12 h
.not12: test dl, HOURS_PM
        jz .hdone
        add al, 12
        jmp .hdone
.h24:   call to_binary
.hdone: mov [hours], al

        ; Sanity: a kernel would not trust nonsense either.
        cmp byte [seconds], 59
        ja .bad
        cmp byte [minutes], 59
        ja .bad
        cmp byte [hours], 23
        ja .bad
        cmp byte [day], 1
        jb .bad
        cmp byte [day], 31
        ja .bad
        cmp byte [month], 1
        jb .bad
        cmp byte [month], 12
        ja .bad
        cmp byte [year], 99
        ja .bad

        mov esi, label
        call serial_puts
        mov al, [century]
        call print2
        mov al, [year]
        call print2
        mov al, '-'
        call serial_putc
        mov al, [month]
        call print2
        mov al, '-'
        call serial_putc
        mov al, [day]
        call print2
        mov al, ' '
        call serial_putc
        mov al, [hours]
        call print2
        mov al, ':'
        call serial_putc
        mov al, [minutes]
        call print2
        mov al, ':'
        call serial_putc
        mov al, [seconds]
        call print2
        mov esi, newline
        call serial_puts
        jmp exit_pass
.bad:
        mov esi, bad_value
        call serial_puts
        jmp exit_fail

section .data
; In register order 00 02 04 07 08 09 32, so one loop decodes them.
seconds:  db 0
minutes:  db 0
hours:    db 0
day:      db 0
month:    db 0
year:     db 0
century:  db 0

section .rodata
label:     db "rtc: ", 0
newline:   db 10, 0
bad_value: db "rtc: bad value", 10, 0
