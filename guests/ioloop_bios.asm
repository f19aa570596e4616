; ioloop_bios.asm - a 64 KiB -bios ROM that stays in real mode and does
; 100,000 `out 0x80, al`, then exits with the pass value: the I/O-exit
; benchmark for hosts whose KVM runs real mode but not protected mode
; (kvm-pvm, vmm/README.md "Host kinds"), where guests/ioloop.elf runs in
; the kvm engine's software fallback.  Under kvm each OUT is one
; KVM_EXIT_IO; bench/run.sh times it beside emu in the same run.
;
;   build/trapeze -engine kvm -bios build/guests/ioloop_bios.rom -nographic -stats
%include "guests/common.inc"

IOLOOP_BIOS_COUNT equ 100000

bits 16
org 0

start:      cli
            mov ecx, IOLOOP_BIOS_COUNT
.loop:      out 0x80, al
            dec ecx
            jnz .loop
            mov al, EXIT_PASS
            out DEBUG_EXIT_PORT, al
.halt:      hlt
            jmp .halt

            times 0xFFF0 - ($ - $$) db 0
reset:      jmp 0xF000:start            ; the reset vector, F000:FFF0
            times 0x10000 - ($ - $$) db 0
