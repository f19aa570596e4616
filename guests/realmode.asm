; realmode.asm - a 64 KiB -bios ROM that starts in real mode at the reset
; vector and switches to protected mode: the GDB stub's test guest
; (tests/guests/gdb.sh), and the boot-sector-style recipe of
; monitor/README.md.
;
;   build/trapeze -bios build/guests/realmode.rom -nographic
;   qemu-system-i386 -bios build/guests/realmode.rom -nographic \
;       -device isa-debug-exit,iobase=0xf4,iosize=0x04
;   build/trapeze -bios build/guests/realmode.rom -nographic -S -s   (then gdb)
;
; What it does, each step at a label the GDB test finds in nasm's listing
; (nasm -l: every label shares its line with its instruction):
;   reset vector F000:FFF0 (linear FFFFFFF0): far jump to F000:start
;   start       real mode: DS = SS = 0, SP = 7000h; prints
;               "realmode: real mode" on COM1
;   rm_break    AX = 1234h, BX = 5678h, AX += BX (68ACh)
;   rm_store    stores AX at 0000:0500 (linear 500h; a watchpoint's target)
;   rm_stored   loads the GDT, sets CR0.PE, far-jumps to 0008:pm_entry
;               (SDM Vol. 3A 9.9.1: the far JMP right after MOV CR0)
;   pm_entry    32-bit flat segments (base 0): prints
;               "realmode: protected mode" on COM1
;   pm_break    EAX = CAFEBABEh, stored at linear 504h
;   then EXIT_PASS to port 0xF4 (exit status 33)
; The ROM is mapped at F0000-FFFFF (and FFFF0000-FFFFFFFF), so the 32-bit
; code's linear addresses are F0000h + its offset in this file.
%include "guests/common.inc"

COM1_DATA equ 0x3F8
COM1_LSR  equ 0x3FD
LSR_THRE  equ 0x20                  ; transmitter holding register empty
ROM_BASE  equ 0xF0000               ; where F000:0000 is, linear

bits 16
org 0

start:      cli
            xor ax, ax
            mov ds, ax
            mov ss, ax
            mov sp, 0x7000
            mov si, msg_real
            call puts16
rm_break:   mov ax, 0x1234
            mov bx, 0x5678
            add ax, bx
rm_store:   mov [0x0500], ax
rm_stored:  o32 lgdt [cs:gdt_desc]
            mov eax, cr0
            or al, 1                        ; CR0.PE
            mov cr0, eax
            jmp dword 0x08:(ROM_BASE + pm_entry)

; puts16: the NUL-terminated string at CS:SI to COM1, polled.
puts16:     cs lodsb
            test al, al
            jz .done
            mov ah, al
            mov dx, COM1_LSR
.wait:      in al, dx
            test al, LSR_THRE
            jz .wait
            mov dx, COM1_DATA
            mov al, ah
            out dx, al
            jmp puts16
.done:      ret

bits 32
pm_entry:   mov ax, 0x10
            mov ds, ax
            mov es, ax
            mov ss, ax
            mov esp, 0x7000
            mov esi, ROM_BASE + msg_prot
            call puts32
pm_break:   mov eax, 0xCAFEBABE
pm_store:   mov [0x0504], eax
            mov al, EXIT_PASS
            out DEBUG_EXIT_PORT, al
.halt:      hlt
            jmp .halt

; puts32: the NUL-terminated string at DS:ESI to COM1, polled.
puts32:     lodsb
            test al, al
            jz .done
            mov ah, al
            mov dx, COM1_LSR
.wait:      in al, dx
            test al, LSR_THRE
            jz .wait
            mov dx, COM1_DATA
            mov al, ah
            out dx, al
            jmp puts32
.done:      ret

msg_real:   db "realmode: real mode", 13, 10, 0
msg_prot:   db "realmode: protected mode", 13, 10, 0

; The GDT (SDM Vol. 3A 3.4.5): null, 08h flat 32-bit code, 10h flat data.
align 8
gdt:        dq 0
            dq 0x00CF9A000000FFFF           ; base 0, limit FFFFFh x 4 KiB, P DPL0 code RX, D, G
            dq 0x00CF92000000FFFF           ; the same, data RW
gdt_end:
gdt_desc:   dw gdt_end - gdt - 1
            dd ROM_BASE + gdt

; The reset vector: the CPU starts at F000:FFF0 (SDM Vol. 3A 9.1.4).
            times 0xFFF0 - ($ - $$) db 0
bits 16
reset:      jmp 0xF000:start
            times 0x10000 - ($ - $$) db 0
