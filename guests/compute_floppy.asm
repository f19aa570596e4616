; compute_floppy.asm - the compute benchmark as a 1.44 MB boot floppy, for
; Bochs (which has no -kernel) or any PC emulator that boots floppies.
;
; Build: nasm -f bin -I. -o build/guests/compute.img guests/compute_floppy.asm
; Run:   bochs -q -f bench/bochsrc 'floppya: 1_44=build/guests/compute.img, status=inserted'
;        qemu-system-i386 -fda build/guests/compute.img -display none \
;            -debugcon stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04
;        build/trapeze -fda build/guests/compute.img -display none -debugcon stdio
; The boot sector (BIOS loads it at 0x7C00) reads the following sectors with
; int 13h, enters 32-bit protected mode with flat segments and runs the loop
; of compute_loop.inc (499,986,253 instructions).  It prints
; "compute: checksum 2c8159ab" on port 0xE9 and powers off by writing
; "Shutdown" to port 0x8900 (Bochs), then writes the pass value to
; isa-debug-exit (port 0xF4: status 33 under QEMU and trapeze) and halts.

bits 16
org 0x7C00

%include "guests/common.inc"

LOAD_SECTORS equ (image_end - boot - 512 + 511) / 512   ; after the boot sector
STACK_TOP    equ 0x90000
compute_buf    equ 0x20000        ; work area below 640 KiB, pages away from the code
compute_sum    equ 0x21000
compute_passes equ 0x21004

boot:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7C00
        ; int 13h AH=02h: read AL sectors from cylinder CH, head DH, sector CL
        ; (1-based) of drive DL (as the BIOS left it) to ES:BX.
        mov ax, 0x0200 | LOAD_SECTORS
        mov cx, 0x0002
        xor dh, dh
        mov bx, 0x7E00
        int 0x13
        jc disk_error
        lgdt [gdtr]
        mov eax, cr0
        or eax, 1                 ; CR0.PE
        mov cr0, eax
        jmp 0x08:pm32             ; load CS from the GDT: 32-bit code

disk_error:
        mov si, msg_disk
.next:  lodsb
        test al, al
        jz .halt
        out E9_PORT, al
        jmp .next
.halt:  hlt
        jmp .halt

align 8
gdt:    dq 0
        dq 0x00CF9A000000FFFF     ; 0x08 flat code, 32-bit
        dq 0x00CF92000000FFFF     ; 0x10 flat data
gdtr:   dw gdtr - gdt - 1
        dd gdt
msg_disk: db "compute: disk read failed", 10, 0

        times 510 - ($ - $$) db 0
        dw 0xAA55                 ; boot signature

bits 32
pm32:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, STACK_TOP
        call compute_run
        mov ebx, eax
        mov esi, msg_checksum
        call e9_puts
        mov ecx, 8
.digit: rol ebx, 4
        mov eax, ebx
        and eax, 0xF
        mov al, [hex_digits + eax]
        out E9_PORT, al
        loop .digit
        mov al, 10
        out E9_PORT, al
        mov esi, msg_shutdown
        mov dx, BOCHS_SHUTDOWN
.off:   lodsb                     ; "Shutdown", a byte at a time
        test al, al
        jz .exit
        out dx, al
        jmp .off
.exit:  mov al, EXIT_PASS         ; for emulators with isa-debug-exit instead
        out DEBUG_EXIT_PORT, al
.halt:  cli
        hlt
        jmp .halt

e9_puts:
        lodsb
        test al, al
        jz .done
        out E9_PORT, al
        jmp e9_puts
.done:  ret

%include "guests/compute_loop.inc"

msg_checksum:   db "compute: checksum ", 0
msg_shutdown:   db "Shutdown", 0
hex_digits:     db "0123456789abcdef"
image_end:
%if LOAD_SECTORS > 17
%error "the loader reads track 0 only: sectors 2-18"
%endif
        times 1474560 - ($ - $$) db 0   ; a full 1.44 MB floppy image
