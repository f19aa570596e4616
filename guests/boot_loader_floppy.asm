; boot_loader_floppy.asm - a 1.44 MB boot floppy: a boot sector that loads
; the rest of the image with int 13h, checks the BIOS services in real
; mode, enters 32-bit protected mode and runs a small kernel that drives
; the PIT through the PIC, reads the RTC and reads and writes an IDE disk.
; Everything is reported on COM1, one "name value" line each.
;
; Build: nasm -f bin -I. -o build/guests/boot_loader.img guests/boot_loader_floppy.asm
; Run:   build/trapeze -fda build/guests/boot_loader.img -hda hd.img -display none
;        qemu-system-i386 -fda build/guests/boot_loader.img -hda hd.img \
;            -display none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04
; hd.img: any raw image of 1 MiB or more whose sector 0 starts "HD0!"
; (tests/guests/bios_boot.sh makes one).  Lines (tests/guests/bios_boot.sh
; checks them against QEMU and against the values the references give):
;   int11 WORD         equipment word (bit 0 floppy, bits 5-4 video 10b)
;   int12 WORD         KiB of base memory
;   int13-08 AX BX CX DX   floppy A parameters (1.44 MB: 0000 0004 4f12 0101 or 0102)
;   int13-41 BX CX     hard disk extensions (BX aa55)
;   int13-42 DWORD     first dword of hard disk sector 0 read with LBA (HD0!)
;   int13-48 CYL HEADS SPT SECTORS   of the hard disk
;   int15-88 WORD      KiB above 1 MiB (CMOS 30h/31h)
;   int15-2402 AL      A20 state after 2401h (1)
;   e820 BASE LENGTH TYPE  one line per range
;   pm ok              32-bit protected mode reached
;   pit ticks 10       ten IRQ 0 interrupts at 1 kHz through the remapped PIC
;   rtc ok             the RTC's time registers hold valid BCD
;   ide ok             a sector written and read back over PIO
; then "done" and the pass value to isa-debug-exit (status 33).
;
; Assembled with KBD_ECHO defined (guests/boot_kbd_floppy.asm, boot_kbd.img)
; the kernel then also echoes the keyboard: IRQ 1 from the 8042, set-1 scan
; codes to US ASCII, each character into the VGA text buffer (row KBD_ROW,
; after the prompt "kbd> ") and onto COM1, until Enter:
;   kbd> TEXT          the prompt is the sign to start typing; TEXT as typed
; (tests/guests/kbd_echo.sh types through a pseudo-terminal under trapeze and
; with QEMU's monitor `sendkey`).

bits 16
org 0x7C00

%include "guests/common.inc"

COM1        equ 0x3F8
STAGE2      equ 0x7E00
STAGE2_SECTORS equ 16           ; sectors 2-17 of track 0, head 0
E820_BUF    equ 0x0600

boot:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7C00
        sti
        mov [boot_drive], dl
        ; int 13h AH=02h: AL sectors from CH cylinder, CL sector, DH head to ES:BX.
        mov ax, 0x0200 | STAGE2_SECTORS
        mov cx, 0x0002
        xor dh, dh
        mov bx, STAGE2
        int 0x13
        jc .fail
        cmp al, STAGE2_SECTORS
        jne .fail
        jmp stage2
.fail:  mov al, EXIT_FAIL
        out DEBUG_EXIT_PORT, al
        hlt

boot_drive: db 0
        times 510 - ($ - $$) db 0
        dw 0xAA55

; ---------------------------------------------------------------------------
; Stage 2, real mode: the BIOS services.
; ---------------------------------------------------------------------------
stage2:
        mov si, s_int11
        call puts
        int 0x11
        call puthex16
        call newline

        mov si, s_int12
        call puts
        int 0x12
        call puthex16
        call newline

        ; int 13h AH=08h on floppy A
        mov si, s_int13_08
        call puts
        mov ah, 0x08
        xor dl, dl
        xor di, di
        mov es, di
        int 0x13
        push dx
        push cx
        push bx
        call puthex16
        call space
        pop ax
        call puthex16
        call space
        pop ax
        call puthex16
        call space
        pop ax
        call puthex16
        call newline
        xor ax, ax
        mov es, ax

        ; int 13h AH=41h on the first hard disk
        mov si, s_int13_41
        call puts
        mov ah, 0x41
        mov bx, 0x55AA
        mov dl, 0x80
        int 0x13
        push cx
        mov ax, bx
        call puthex16
        call space
        pop ax
        and ax, 0x0001
        call puthex16
        call newline

        ; int 13h AH=42h: sector 0 of disk 80h to 0000:1000
        mov si, s_int13_42
        call puts
        mov si, dap
        mov ah, 0x42
        mov dl, 0x80
        int 0x13
        mov eax, [0x1000]
        jnc .read_ok
        mov eax, 0xEEEEEEEE
.read_ok:
        call puthex32
        call newline

        ; int 13h AH=48h
        mov si, s_int13_48
        call puts
        mov word [edd_buf], 0x1A
        mov si, edd_buf
        mov ah, 0x48
        mov dl, 0x80
        int 0x13
        mov eax, [edd_buf + 4]
        call puthex32
        call space
        mov eax, [edd_buf + 8]
        call puthex32
        call space
        mov eax, [edd_buf + 12]
        call puthex32
        call space
        mov eax, [edd_buf + 16]
        call puthex32
        call newline

        mov si, s_int15_88
        call puts
        mov ah, 0x88
        int 0x15
        call puthex16
        call newline

        mov si, s_int15_2402
        call puts
        mov ax, 0x2401
        int 0x15
        mov ax, 0x2402
        int 0x15
        xor ah, ah
        call puthex16
        call newline

        ; E820: one line per range
        xor ebx, ebx
.e820:
        mov eax, 0xE820
        mov edx, 0x534D4150
        mov ecx, 20
        mov di, E820_BUF
        int 0x15
        jc .e820_done
        push ebx
        mov si, s_e820
        call puts
        mov eax, [E820_BUF]
        call puthex32
        call space
        mov eax, [E820_BUF + 8]
        call puthex32
        call space
        mov eax, [E820_BUF + 16]
        call puthex32
        call newline
        pop ebx
        test ebx, ebx
        jnz .e820
.e820_done:

        ; Protected mode: flat GDT, no interrupts until the IDT is ours.
        cli
        lgdt [gdt_desc]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp 0x08:pm32

; --- real-mode COM1 output ---
putc:   push dx
        push ax
        mov dx, COM1 + 5
.w:     in al, dx
        test al, 0x20
        jz .w
        pop ax
        mov dx, COM1
        out dx, al
        pop dx
        ret
puts:   push ax
.l:     lodsb
        test al, al
        jz .d
        call putc
        jmp .l
.d:     pop ax
        ret
space:  push ax
        mov al, ' '
        call putc
        pop ax
        ret
newline:
        push ax
        mov al, 10
        call putc
        pop ax
        ret
puthex32:
        push eax
        shr eax, 16
        call puthex16
        pop eax
puthex16:
        push ax
        mov al, ah
        call puthex8
        pop ax
puthex8:
        push ax
        shr al, 4
        call .nib
        pop ax
        and al, 0x0F
.nib:   push ax
        add al, '0'
        cmp al, '9'
        jbe .p
        add al, 'a' - '9' - 1
.p:     call putc
        pop ax
        ret

s_int11:     db "int11 ", 0
s_int12:     db "int12 ", 0
s_int13_08:  db "int13-08 ", 0
s_int13_41:  db "int13-41 ", 0
s_int13_42:  db "int13-42 ", 0
s_int13_48:  db "int13-48 ", 0
s_int15_88:  db "int15-88 ", 0
s_int15_2402: db "int15-2402 ", 0
s_e820:      db "e820 ", 0

        align 4
dap:    db 0x10, 0
        dw 1                    ; sectors
        dw 0x1000, 0x0000       ; buffer offset, segment
        dq 0                    ; LBA
edd_buf: times 0x1E db 0

        align 8
gdt:    dq 0
        dq 0x00CF9A000000FFFF   ; 0x08 code
        dq 0x00CF92000000FFFF   ; 0x10 data
gdt_desc:
        dw 3 * 8 - 1
        dd gdt

; ---------------------------------------------------------------------------
; The kernel, 32-bit protected mode.
; ---------------------------------------------------------------------------
bits 32
PIC1 equ 0x20
PIC2 equ 0xA0
IRQ_BASE equ 0x20
IDT equ 0x2000                  ; 256 gates

pm32:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, 0x90000
        mov esi, s_pm
        call puts32

        ; IDT: every gate to 'spurious', vector 20h to the tick handler.
        mov edi, IDT
        mov ecx, 256
.gate:  mov eax, spurious
        call set_gate
        add edi, 8
        loop .gate
        mov edi, IDT + IRQ_BASE * 8
        mov eax, tick
        call set_gate
        lidt [idt_desc]

        ; Remap the PICs to 20h/28h (8259A ICW1-4); unmask IRQ 0 only.
        mov al, 0x11
        out PIC1, al
        out PIC2, al
        mov al, IRQ_BASE
        out PIC1 + 1, al
        mov al, IRQ_BASE + 8
        out PIC2 + 1, al
        mov al, 4
        out PIC1 + 1, al
        mov al, 2
        out PIC2 + 1, al
        mov al, 1
        out PIC1 + 1, al
        out PIC2 + 1, al
        mov al, 0xFE
        out PIC1 + 1, al
        mov al, 0xFF
        out PIC2 + 1, al
        ; PIT counter 0, mode 2, 1193 counts: 1 kHz (8254: control word 34h).
        mov al, 0x34
        out 0x43, al
        mov ax, 1193
        out 0x40, al
        mov al, ah
        out 0x40, al
        sti
.wait:  hlt
        cmp dword [ticks], 10
        jb .wait
        cli
        mov esi, s_ticks
        call puts32

        ; RTC: wait out an update, then the time registers must be BCD
        ; (register B bit 2 = 0) with seconds < 60, minutes < 60, hours < 24.
        mov ecx, 100000
.uip:   mov al, 0x0A
        out 0x70, al
        in al, 0x71
        test al, 0x80
        loopnz .uip
        mov bl, 0x00
        call rtc_bcd_below
        cmp al, 0x60
        jae .rtc_bad
        mov bl, 0x02
        call rtc_bcd_below
        cmp al, 0x60
        jae .rtc_bad
        mov bl, 0x04
        call rtc_bcd_below
        cmp al, 0x24
        jae .rtc_bad
        mov esi, s_rtc_ok
        call puts32
        jmp .ide
.rtc_bad:
        mov esi, s_rtc_bad
        call puts32

.ide:   ; Write sector 1 of the primary master with a pattern, read it back (ATA PIO, LBA28).
        mov edi, 0x30000
        mov ecx, 128
        mov eax, 0x5A5A0000
.fill:  mov [edi], eax
        add edi, 4
        inc eax
        loop .fill
        mov al, 0x30            ; WRITE SECTORS
        call ide_command
        call ide_wait_drq
        jc .ide_bad
        mov esi, 0x30000
        mov ecx, 256
        mov dx, 0x1F0
        rep outsw
        call ide_wait_ready
        jc .ide_bad
        mov al, 0x20            ; READ SECTORS
        call ide_command
        call ide_wait_drq
        jc .ide_bad
        mov edi, 0x31000
        mov ecx, 256
        mov dx, 0x1F0
        rep insw
        mov esi, 0x30000
        mov edi, 0x31000
        mov ecx, 128
        repe cmpsd
        jne .ide_bad
        mov esi, s_ide_ok
        call puts32
        jmp .ide_done
.ide_bad:
        mov esi, s_ide_bad
        call puts32
.ide_done:
%ifdef KBD_ECHO
        call kbd_echo
%endif
.done:
        mov esi, s_done
        call puts32
        mov al, EXIT_PASS
        out DEBUG_EXIT_PORT, al
.halt:  hlt
        jmp .halt

; BL = RTC register: AL = its value, or FFh when it is not two BCD digits.
rtc_bcd_below:
        mov al, bl
        out 0x70, al
        in al, 0x71
        mov ah, al
        and ah, 0x0F
        cmp ah, 9
        ja .bad
        mov ah, al
        shr ah, 4
        cmp ah, 9
        ja .bad
        ret
.bad:   mov al, 0xFF
        ret

ide_command:
        push eax
        mov dx, 0x1F6
        mov al, 0xE0            ; LBA, master, LBA bits 27-24 = 0
        out dx, al
        mov dx, 0x1F2
        mov al, 1
        out dx, al
        mov dx, 0x1F3
        mov al, 1               ; LBA 1
        out dx, al
        xor al, al
        mov dx, 0x1F4
        out dx, al
        mov dx, 0x1F5
        out dx, al
        pop eax
        mov dx, 0x1F7
        out dx, al
        ret

; CF = 1 on ERR or a timeout.
ide_wait_drq:
        mov ecx, 1000000
        mov dx, 0x1F7
.w:     in al, dx
        test al, 0x01
        jnz .err
        test al, 0x80
        jnz .next
        test al, 0x08
        jnz .ok
.next:  loop .w
.err:   stc
        ret
.ok:    clc
        ret
ide_wait_ready:
        mov ecx, 1000000
        mov dx, 0x1F7
.w:     in al, dx
        test al, 0x80
        jz .chk
        loop .w
        stc
        ret
.chk:   test al, 0x01
        jnz .e
        clc
        ret
.e:     stc
        ret

set_gate:                       ; EDI = gate, EAX = handler: 32-bit interrupt gate, DPL 0
        mov word [edi], ax
        mov word [edi + 2], 0x08
        mov word [edi + 4], 0x8E00
        shr eax, 16
        mov word [edi + 6], ax
        ret

tick:   push eax
        inc dword [ticks]
        mov al, 0x20
        out PIC1, al
        pop eax
        iret
spurious:
        iret

puts32: lodsb
        test al, al
        jz .d
        mov ah, al
        mov dx, COM1 + 5
.w:     in al, dx
        test al, 0x20
        jz .w
        mov al, ah
        mov dx, COM1
        out dx, al
        jmp puts32
.d:     ret

%ifdef KBD_ECHO
; ---------------------------------------------------------------------------
; Keyboard echo.  The 8042 (IBM AT Technical Reference, "Keyboard
; Controller"): status port 64h bit 0 OBF (a byte waits at 60h), bit 1 IBF
; (the controller has not taken the last write yet); command 20h reads and
; 60h writes the command byte, whose bit 0 enables IRQ 1, bit 4 disables the
; keyboard clock and bit 6 translates the keyboard's set 2 to set 1.  Set 1
; (IBM PC/AT keyboard, "Scan Codes"): a key sends its make code, its release
; the make code | 80h; E0h prefixes the extended keys.
; ---------------------------------------------------------------------------
KBD_ROW     equ 10
KBD_PROMPT_LEN equ 5            ; "kbd> "
VGA_TEXT    equ 0xB8000
KBD_RING    equ 16

kbd_echo:
        ; Drain what waits in the controller, then command byte |= IRQ 1 + XLAT, clock on.
.drain: in al, 0x64
        test al, 0x01
        jz .drained
        in al, 0x60
        jmp .drain
.drained:
        mov al, 0x20
        call kbc_command
.obf:   in al, 0x64
        test al, 0x01
        jz .obf
        in al, 0x60
        or al, 0x41
        and al, ~0x10
        mov bl, al
        mov al, 0x60
        call kbc_command
        call kbc_wait_ibf
        mov al, bl
        out 0x60, al

        ; The screen row: the prompt, the rest blank (grey on black).
        mov edi, VGA_TEXT + KBD_ROW * 160
        mov ecx, 80
        mov ax, 0x0720
        rep stosw
        mov edi, VGA_TEXT + KBD_ROW * 160
        mov esi, s_kbd_prompt
.prompt:
        lodsb
        test al, al
        jz .prompted
        mov ah, 0x07
        stosw
        jmp .prompt
.prompted:
        mov dword [kbd_col], KBD_PROMPT_LEN
        call kbd_cursor

        ; Vector 21h (IRQ 1) to the handler; unmask IRQ 1 alone.
        mov edi, IDT + (IRQ_BASE + 1) * 8
        mov eax, kbd_irq
        call set_gate
        mov al, 0xFD
        out PIC1 + 1, al
        mov esi, s_kbd_prompt
        call puts32             ; the sign to type

.next:  cli
        mov eax, [kbd_tail]
        cmp eax, [kbd_head]
        jne .byte
        sti                     ; STI's one-instruction shadow: no IRQ slips in before HLT
        hlt
        jmp .next
.byte:  movzx ebx, byte [kbd_ring + eax]
        inc eax
        and eax, KBD_RING - 1
        mov [kbd_tail], eax
        sti
        cmp bl, 0xE0            ; extended keys (arrows, right Ctrl, ...): not echoed
        jne .not_e0
        mov byte [kbd_e0], 1
        jmp .next
.not_e0:
        cmp byte [kbd_e0], 0
        je .plain
        mov byte [kbd_e0], 0
        jmp .next
.plain: mov al, bl
        and al, 0x7F
        cmp al, 0x2A            ; left Shift
        je .shift
        cmp al, 0x36            ; right Shift
        je .shift
        test bl, 0x80           ; other releases
        jnz .next
        cmp bl, 0x1C            ; Enter ends the line
        je .enter
        cmp bl, KBD_KEYS
        jae .next
        mov esi, kbd_plain
        cmp byte [kbd_shift], 0
        je .lookup
        mov esi, kbd_shifted
.lookup:
        mov al, [esi + ebx]
        cmp al, ' '             ; keys without a printable character
        jb .next
        mov ecx, [kbd_col]
        cmp ecx, 80
        jae .next               ; the row is full
        mov ah, 0x07
        mov [VGA_TEXT + KBD_ROW * 160 + ecx * 2], ax
        inc ecx
        mov [kbd_col], ecx
        call putc32
        call kbd_cursor
        jmp .next
.shift: test bl, 0x80
        setz byte [kbd_shift]
        jmp .next
.enter: mov al, 0xFF            ; mask IRQ 1 again
        out PIC1 + 1, al
        mov al, 10
        call putc32
        ret

; AL = a controller command for port 64h, once the input buffer is empty.
kbc_command:
        push eax
        call kbc_wait_ibf
        pop eax
        out 0x64, al
        ret
kbc_wait_ibf:
        in al, 0x64
        test al, 0x02
        jnz kbc_wait_ibf
        ret

; The hardware cursor after the last character (CRTC 0Eh/0Fh: Cursor Location High/Low).
kbd_cursor:
        mov ebx, KBD_ROW * 80
        add ebx, [kbd_col]
        mov dx, 0x3D4
        mov al, 0x0E
        out dx, al
        inc dx
        mov al, bh
        out dx, al
        dec dx
        mov al, 0x0F
        out dx, al
        inc dx
        mov al, bl
        out dx, al
        ret

; IRQ 1: the byte at port 60h into the ring (dropped when full), EOI.
kbd_irq:
        push eax
        push ebx
        in al, 0x60
        mov ebx, [kbd_head]
        mov [kbd_ring + ebx], al
        inc ebx
        and ebx, KBD_RING - 1
        cmp ebx, [kbd_tail]
        je .full
        mov [kbd_head], ebx
.full:  mov al, 0x20
        out PIC1, al
        pop ebx
        pop eax
        iret

; AL to COM1, polled.
putc32: push edx
        push eax
        mov dx, COM1 + 5
.w:     in al, dx
        test al, 0x20
        jz .w
        pop eax
        mov dx, COM1
        out dx, al
        pop edx
        ret

; Set 1 make codes 00h-39h to US ASCII (0: no character), plain and with Shift.
kbd_plain:   db 0, 27, "1234567890-=", 8, 9, "qwertyuiop[]", 13, 0, "asdfghjkl;'`", 0
             db "\zxcvbnm,./", 0, "*", 0, " "
KBD_KEYS equ $ - kbd_plain
kbd_shifted: db 0, 27, "!@#$%^&*()_+", 8, 9, "QWERTYUIOP{}", 13, 0, 'ASDFGHJKL:"~', 0
             db "|ZXCVBNM<>?", 0, "*", 0, " "
%if ($ - kbd_shifted) != KBD_KEYS || KBD_KEYS != 0x3A
%error "the scan code tables must cover make codes 00h-39h"
%endif
s_kbd_prompt: db "kbd> ", 0
        align 4
kbd_head:  dd 0
kbd_tail:  dd 0
kbd_col:   dd 0
kbd_shift: db 0
kbd_e0:    db 0
kbd_ring:  times KBD_RING db 0
%endif

        align 4
ticks:  dd 0
idt_desc:
        dw 256 * 8 - 1
        dd IDT
s_pm:       db "pm ok", 10, 0
s_ticks:    db "pit ticks 10", 10, 0
s_rtc_ok:   db "rtc ok", 10, 0
s_rtc_bad:  db "rtc BAD", 10, 0
s_ide_ok:   db "ide ok", 10, 0
s_ide_bad:  db "ide BAD", 10, 0
s_done:     db "done", 10, 0

%if ($ - $$) > 512 * (1 + STAGE2_SECTORS)
%error "stage 2 outgrew the sectors the boot sector loads"
%endif
        times 1474560 - ($ - $$) db 0
