; bios.asm - trapeze's system BIOS: a 64 KiB ROM at F0000-FFFFF (aliased at
; FFFF0000-FFFFFFFF), entered from the reset vector F000:FFF0.
;
; The ROM holds only what must be real-mode code: the reset path, the
; interrupt entry stubs and the timer interrupt.  (-kernel does not run
; this ROM: machine/pc.c runs the same C POST at load time and starts the
; CPU at the Multiboot entry, so the monitor and the GDB stub begin at the
; kernel's first instruction.)  Every service is written in C
; (machine/bios/*.c) and entered through two I/O ports, so the very same
; ROM works under every engine (under kvm the OUT is an I/O exit):
;
;   port 0x0530 (dword write)  BIOS_FRAME_PORT: SS << 16 | SP of the frame
;   port 0x0534 (byte write)   BIOS_CALL_PORT:  run service AL on that frame
;               (byte read)    the service's verdict: BIOS_DONE, BIOS_WAIT,
;                              BIOS_BOOT_DISK, BIOS_HALT
;
; The frame every stub builds on the caller's stack (lowest address first):
;
;   SS:SP+0   EDI ESI EBP ESP EBX EDX ECX EAX   PUSHAD (SDM 2B "PUSHA/PUSHAD")
;        +32  ES
;        +34  DS
;        +36  IP CS FLAGS                       what INT pushed (SDM 3A 20.1.4)
;
; The C service reads and writes that frame in guest memory (results in
; the saved registers, CF and ZF in the saved FLAGS); the stub pops it and
; IRETs.  A service that must wait (int 16h read key, no key yet) answers
; BIOS_WAIT: the stub enables interrupts, halts until one comes (IRQ1
; fills the keyboard buffer) and asks again, so the CPU idles.
;
; The service numbers below are the enum bios_service of machine/bios/bios.h:
; keep the two in step (tests/unit/test_bios.c checks the ROM's vectors).

bits 16
org 0                               ; CS = F000

BIOS_FRAME_PORT     equ 0x0530
BIOS_CALL_PORT      equ 0x0534

SVC_POST            equ 1
SVC_INT10           equ 2
SVC_INT11           equ 3
SVC_INT12           equ 4
SVC_INT13           equ 5
SVC_INT15           equ 6
SVC_INT16           equ 7
SVC_INT18           equ 8
SVC_INT19           equ 9
SVC_INT1A           equ 10
SVC_IRQ1            equ 11

BIOS_DONE           equ 0
BIOS_WAIT           equ 1
BIOS_BOOT_DISK      equ 2
BIOS_HALT           equ 4

PIC1_CMD            equ 0x20
PIC2_CMD            equ 0xA0
PIC_EOI             equ 0x20        ; OCW2 non-specific EOI (8259A data sheet, OCW2)

BDA_TICKS           equ 0x46C       ; timer ticks since midnight (IBM AT Tech Ref, BIOS listing)
BDA_MIDNIGHT        equ 0x470       ; set when the count passes 24 hours
TICKS_PER_DAY       equ 0x1800B0    ; 1,573,040 ticks of 65536/1193182 s

POST_STACK_SEG      equ 0x9FC0      ; the EBDA (1 KiB at 9FC00): POST's stack
POST_STACK_TOP      equ 0x0400



; ---------------------------------------------------------------------------
; Power-on self test.  The CPU comes out of RESET in real mode at F000:FFF0
; (SDM 3A 9.1.4) with interrupts off; we jump here from there.
; ---------------------------------------------------------------------------
post:
        cli
        cld
        mov ax, POST_STACK_SEG
        mov ss, ax
        mov sp, POST_STACK_TOP
        ; POST is C (machine/bios/bios.c): the IVT from vector_table, the
        ; BDA, EBDA, PIC, PIT, keyboard controller, video and tick count.
        mov al, SVC_POST
        call service_far_frame
        ; Bootstrap: int 19h loads the boot sector or enters the kernel.
        int 0x19
        ; int 19h never returns: it boots or stops the machine.
.stop:  cli
        hlt
        jmp .stop

; A frame for a service called from inside the ROM (POST): build what an
; INT would have pushed, then go through the common path.
service_far_frame:
        pop bx                      ; our return address
        pushf
        push cs
        push bx
        jmp service_entry

; ---------------------------------------------------------------------------
; Interrupt entry stubs: each builds the frame and names its service.
; ---------------------------------------------------------------------------
%macro STUB 2
%1:
        push ds
        push es
        pushad
        mov al, %2
        jmp service_common
%endmacro

        STUB int10_entry, SVC_INT10
        STUB int11_entry, SVC_INT11
        STUB int12_entry, SVC_INT12
        STUB int13_entry, SVC_INT13
        STUB int15_entry, SVC_INT15
        STUB int16_entry, SVC_INT16
        STUB int18_entry, SVC_INT18
        STUB int1a_entry, SVC_INT1A
        STUB irq1_entry,  SVC_IRQ1

; int 19h: the bootstrap loader.  Its frame is the same; what follows the
; service differs (a jump to the boot sector or the kernel, no IRET).
int19_entry:
        push ds
        push es
        pushad
        mov al, SVC_INT19
        jmp service_common

; Entered with AL = service and the IRET frame only (from POST).
service_entry:
        push ds
        push es
        pushad
        ; fall through

; AL = service number, the frame at SS:SP.
service_common:
        mov bl, al
.again:
        mov ax, ss
        shl eax, 16
        mov ax, sp
        mov dx, BIOS_FRAME_PORT
        out dx, eax
        mov al, bl
        mov dx, BIOS_CALL_PORT
        out dx, al                  ; the C service runs here
        in al, dx                   ; and says how it went
        cmp al, BIOS_WAIT
        je .wait
        cmp al, BIOS_BOOT_DISK
        je boot_disk
        cmp al, BIOS_HALT
        je .halt
        popad
        pop es
        pop ds
        iret
.wait:
        ; Nothing yet (a key): idle until an interrupt, then ask again.
        sti
        hlt
        cli
        jmp .again
.halt:
        ; The service stopped the machine (no bootable device): the run
        ; loop ends at the next boundary; stay halted until it does.
        cli
        hlt
        jmp .halt

; BIOS_BOOT_DISK: the boot sector is at 0000:7C00 and the frame's EDX holds
; the drive (DL).  Registers as the boot sector finds them: CS:IP =
; 0000:7C00, DL = drive, DS = ES = SS = 0, SP = 7C00, IF = 1.
boot_disk:
        popad
        pop es
        pop ds
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7C00
        xor ax, ax
        xor bx, bx
        xor cx, cx
        xor si, si
        xor di, di
        xor bp, bp
        and edx, 0xFF
        sti
        jmp 0x0000:0x7C00

; ---------------------------------------------------------------------------
; IRQ 0 (int 08h), the 18.2 Hz timer: count ticks in the BDA, call the
; user hook int 1Ch, acknowledge the PIC (IBM AT Tech Ref, TIMER_INT).
; ---------------------------------------------------------------------------
irq0_entry:
        push ds
        push eax
        xor ax, ax
        mov ds, ax
        mov eax, [BDA_TICKS]
        inc eax
        cmp eax, TICKS_PER_DAY
        jb .store
        xor eax, eax
        mov byte [BDA_MIDNIGHT], 1
.store:
        mov [BDA_TICKS], eax
        int 0x1C
        mov al, PIC_EOI
        out PIC1_CMD, al
        pop eax
        pop ds
        iret

; IRQ 2-7 with no handler: acknowledge the master.
irq_master_default:
        push ax
        mov al, PIC_EOI
        out PIC1_CMD, al
        pop ax
        iret

; IRQ 8-15 with no handler: acknowledge the slave, then the master (the
; cascade input IR2 is in service too: 8259A data sheet, cascade mode).
irq_slave_default:
        push ax
        mov al, PIC_EOI
        out PIC2_CMD, al
        out PIC1_CMD, al
        pop ax
        iret

default_iret:
        iret

; ---------------------------------------------------------------------------
; Tables
; ---------------------------------------------------------------------------

; The BIOS's vectors: db vector, dw handler (all in segment F000); the
; other vectors get default_iret.
vector_table:
        db 0x08
        dw irq0_entry
        db 0x09
        dw irq1_entry
%assign v 0x0A
%rep 6
        db v
        dw irq_master_default
%assign v v + 1
%endrep
        db 0x10
        dw int10_entry
        db 0x11
        dw int11_entry
        db 0x12
        dw int12_entry
        db 0x13
        dw int13_entry
        db 0x15
        dw int15_entry
        db 0x16
        dw int16_entry
        db 0x18
        dw int18_entry
        db 0x19
        dw int19_entry
        db 0x1A
        dw int1a_entry
        db 0x1E
        dw diskette_param_table      ; a data pointer, not code (IBM AT Tech Ref)
%assign v 0x70
%rep 8
        db v
        dw irq_slave_default
%assign v v + 1
%endrep
vector_table_end:

; int 15h AH=C0h: the system configuration table (IBM PS/2 and PC BIOS
; Technical Reference, INT 15h function C0h).  The C service returns
; ES:BX = F000:E6F5, the address IBM's BIOSes use.
        times 0xE6F5 - ($ - $$) db 0
config_table:
        dw 8                        ; bytes that follow
        db 0xFC                     ; model: PC/AT
        db 0x01                     ; submodel
        db 0x00                     ; BIOS revision
        db 0x64                     ; feature 1: bit 6 second 8259, bit 5 RTC, bit 2 EBDA allocated
        db 0x00, 0x00, 0x00, 0x00   ; features 2-5

; int 1Eh's target and int 13h AH=08h's ES:DI for floppies: the diskette
; parameter table (IBM AT Tech Ref, DISK_BASE), for a 1.44 MB drive, at
; F000:EFC7 as on IBM's BIOSes.
        times 0xEFC7 - ($ - $$) db 0
diskette_param_table:
        db 0xAF                     ; specify 1: step rate, head unload
        db 0x02                     ; specify 2: head load, DMA mode
        db 0x25                     ; motor off delay (ticks)
        db 0x02                     ; 512 bytes per sector
        db 18                       ; sectors per track
        db 0x1B                     ; gap length
        db 0xFF                     ; data length
        db 0x6C                     ; format gap length
        db 0xF6                     ; format fill byte
        db 0x0F                     ; head settle time (ms)
        db 0x08                     ; motor start time (1/8 s)

; Where POST (C) finds the vector table: F000:FFE0 = its offset, its entry count.
        times 0xFFE0 - ($ - $$) db 0
        dw vector_table
        dw (vector_table_end - vector_table) / 3
        dw default_iret

; ---------------------------------------------------------------------------
; The reset vector (SDM 3A 9.1.4: the first instruction is fetched from
; FFFFFFF0, CS base FFFF0000, IP FFF0), the release date and the model byte
; at F000:FFF5 and F000:FFFE where PC software looks for them.
; ---------------------------------------------------------------------------
        times 0xFFF0 - ($ - $$) db 0
reset_vector:
        jmp 0xF000:post
        db "01/01/25"               ; F000:FFF5 BIOS date
        db 0
        db 0xFC                     ; F000:FFFE model: AT
        db 0
