; boot_kbd_floppy.asm - boot_loader_floppy.asm with the keyboard echo stage:
; the same boot sector, real-mode BIOS checks, protected mode, PIT ticks,
; RTC and IDE, then a line typed on the keyboard echoed to the VGA text
; buffer and COM1 until Enter (see the KBD_ECHO part of that file).
;
; Build: nasm -f bin -I. -o build/guests/boot_kbd.img guests/boot_kbd_floppy.asm
; Run:   build/trapeze -fda build/guests/boot_kbd.img -hda hd.img -display none \
;            -serial file:com1.txt -screendump screen.txt     (type a line, Enter)
;        qemu-system-i386 -fda build/guests/boot_kbd.img -hda hd.img -serial stdio \
;            -device isa-debug-exit,iobase=0xf4,iosize=0x04    (type in the window)
; tests/guests/kbd_echo.sh types through a pseudo-terminal and QEMU's `sendkey`.

%define KBD_ECHO
%include "guests/boot_loader_floppy.asm"
