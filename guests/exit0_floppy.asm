; exit0_floppy.asm - the start-up benchmark guest as a boot floppy (Bochs).
;
; Build: nasm -f bin -I. -o build/guests/exit0.img guests/exit0_floppy.asm
; Run:   bochs -q -f bench/bochsrc 'floppya: 1_44=build/guests/exit0.img, status=inserted'
; Writes "Shutdown" to port 0x8900 as soon as the BIOS hands over, which
; powers Bochs off; then writes the pass value to isa-debug-exit (0xF4) for
; emulators that have that port instead, and halts.

bits 16
org 0x7C00

%include "guests/common.inc"

boot:
        cli
        xor ax, ax
        mov ds, ax
        mov si, msg_shutdown
        mov dx, BOCHS_SHUTDOWN
.off:   lodsb
        test al, al
        jz .exit
        out dx, al
        jmp .off
.exit:  mov al, EXIT_PASS
        out DEBUG_EXIT_PORT, al
.halt:  hlt
        jmp .halt

msg_shutdown:   db "Shutdown", 0

        times 510 - ($ - $$) db 0
        dw 0xAA55
        times 1474560 - ($ - $$) db 0
