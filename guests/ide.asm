; ide.asm - the primary ATA channel, polled (nIEN = 1), from a Multiboot guest.
;
; Run:   build/trapeze -kernel build/guests/ide.elf -hda disk.img -nographic
;        qemu-system-i386 -kernel build/guests/ide.elf -nographic \
;            -drive file=disk.img,format=raw,if=ide,index=0,media=disk \
;            -device isa-debug-exit,iobase=0xf4,iosize=0x04
; The image (tests/guests/ide.sh makes it): sector 0 starts with the line
; "trapeze ide test: sector zero", a NUL, then filler bytes; sector 1 is
; overwritten by this guest.  Prints on COM1:
;        identify: ATA disk, LBA, <words 60-61> sectors
;        sector 0: trapeze ide test: sector zero
;        sector 0: byte sum <32-bit sum of its 512 bytes, hex>
;        sector 1: written and read back (LBA 1)
;        sector 1: read back through CHS 0/0/2
;        ide: all checks passed
; then exits with status 33; any failed step prints "FAIL ..." and exits 35.
;
; The protocols are ATA/ATAPI-6's: PIO data-in (9.5) for IDENTIFY DEVICE
; (ECh) and READ SECTORS (20h), PIO data-out (9.6) for WRITE SECTORS (30h):
; wait for BSY = 0, then DRQ = 1 (or ERR), move 256 words through Data.

%include "guests/common.inc"

bits 32

ATA_DATA     equ 0x1F0
ATA_COUNT    equ 0x1F2
ATA_LBA_LOW  equ 0x1F3
ATA_LBA_MID  equ 0x1F4
ATA_LBA_HIGH equ 0x1F5
ATA_DEVICE   equ 0x1F6
ATA_STATUS   equ 0x1F7          ; read: Status; write: Command
ATA_CONTROL  equ 0x3F6          ; write: Device Control; read: Alternate Status
ST_BSY       equ 0x80
ST_DRQ       equ 0x08
ST_ERR       equ 0x01
CTL_NIEN     equ 0x02

extern serial_puts, serial_hex32, serial_dec32, exit_pass, exit_fail

section .text
global main
main:
        mov dx, ATA_CONTROL
        mov al, CTL_NIEN          ; polled: the device keeps INTRQ to itself
        out dx, al
        mov dx, ATA_DEVICE
        mov al, 0xA0              ; device 0
        out dx, al
        call wait_not_busy

        ; ---- IDENTIFY DEVICE ----
        mov dx, ATA_STATUS
        mov al, 0xEC
        out dx, al
        mov esi, msg_identify_failed
        call wait_drq
        jc fail
        mov edi, identify
        mov ecx, 256
        mov dx, ATA_DATA
        rep insw
        mov esi, msg_not_ata
        test word [identify + 0], 0x8000  ; word 0 bit 15: 0 = ATA device
        jnz fail
        mov esi, msg_no_lba
        test word [identify + 49 * 2], 0x0200   ; word 49 bit 9: LBA
        jz fail
        mov esi, msg_identify
        call serial_puts
        mov eax, [identify + 60 * 2]      ; words 60-61: LBA28 sectors
        call serial_dec32
        mov esi, msg_sectors
        call serial_puts

        ; ---- READ SECTORS: LBA 0 ----
        xor eax, eax
        mov bl, 0x20
        call lba_command
        mov esi, msg_read0_failed
        call wait_drq
        jc fail
        mov edi, sector
        mov ecx, 256
        mov dx, ATA_DATA
        rep insw
        mov al, [sector + 511]
        mov [last_byte], al
        mov byte [sector + 511], 0        ; a NUL to stop at, whatever the image
        mov esi, msg_sector0
        call serial_puts
        mov esi, sector
        call serial_puts
        mov esi, msg_newline
        call serial_puts
        ; byte sum of the 512 bytes as read (byte 511 from its saved copy)
        xor ebx, ebx
        xor ecx, ecx
.sum:   movzx eax, byte [sector + ecx]
        add ebx, eax
        inc ecx
        cmp ecx, 511
        jb .sum
        movzx eax, byte [last_byte]
        add ebx, eax
        mov esi, msg_sum
        call serial_puts
        mov eax, ebx
        call serial_hex32
        mov esi, msg_newline
        call serial_puts

        ; ---- WRITE SECTORS: LBA 1, byte i = 3 * i + 1 ----
        xor ecx, ecx
.fill:  lea eax, [ecx * 2 + ecx + 1]
        mov [pattern + ecx], al
        inc ecx
        cmp ecx, 512
        jb .fill
        mov eax, 1
        mov bl, 0x30
        call lba_command
        mov esi, msg_write_failed
        call wait_drq
        jc fail
        mov esi, pattern
        mov ecx, 256
        mov dx, ATA_DATA
        rep outsw
        call wait_not_busy
        mov dx, ATA_STATUS
        in al, dx
        mov esi, msg_write_failed
        test al, ST_ERR | ST_DRQ
        jnz fail

        ; ---- READ SECTORS: LBA 1, compare ----
        mov eax, 1
        mov bl, 0x20
        call lba_command
        call read_and_compare
        mov esi, msg_lba_back
        call serial_puts

        ; ---- READ SECTORS through CHS: cylinder 0, head 0, sector 2 = LBA 1 ----
        mov dx, ATA_DEVICE
        mov al, 0xA0              ; LBA bit clear: CHS; head 0
        out dx, al
        mov dx, ATA_COUNT
        mov al, 1
        out dx, al
        mov dx, ATA_LBA_LOW       ; Sector Number: sectors count from 1
        mov al, 2
        out dx, al
        mov dx, ATA_LBA_MID       ; Cylinder Low
        xor al, al
        out dx, al
        mov dx, ATA_LBA_HIGH      ; Cylinder High
        out dx, al
        mov dx, ATA_STATUS
        mov al, 0x20
        out dx, al
        call read_and_compare
        mov esi, msg_chs_back
        call serial_puts

        mov esi, msg_done
        call serial_puts
        jmp exit_pass

; Read one sector of the command already issued and compare it with pattern.
read_and_compare:
        mov esi, msg_readback_failed
        call wait_drq
        jc fail
        mov edi, sector
        mov ecx, 256
        mov dx, ATA_DATA
        rep insw
        mov esi, pattern
        mov edi, sector
        mov ecx, 512
        repe cmpsb
        mov esi, msg_readback_differs
        jne fail
        ret

; lba_command: EAX = LBA (28 bits), BL = command; one sector.
lba_command:
        push eax
        call wait_not_busy
        mov dx, ATA_DEVICE
        shr eax, 24
        and al, 0x0F
        or al, 0xE0               ; LBA = 1, device 0
        out dx, al
        mov dx, ATA_COUNT
        mov al, 1
        out dx, al
        mov eax, [esp]
        mov dx, ATA_LBA_LOW
        out dx, al
        shr eax, 8
        mov dx, ATA_LBA_MID
        out dx, al
        shr eax, 8
        mov dx, ATA_LBA_HIGH
        out dx, al
        mov dx, ATA_STATUS
        mov al, bl
        out dx, al
        pop eax
        ret

; Wait for BSY = 0 (bounded: about a million polls).
wait_not_busy:
        push ecx
        mov ecx, 1000000
        mov dx, ATA_STATUS
.poll:  in al, dx
        test al, ST_BSY
        jz .done
        loop .poll
.done:  pop ecx
        ret

; Wait for BSY = 0, then CF = 0 when DRQ is set and ERR clear.
wait_drq:
        call wait_not_busy
        test al, ST_ERR
        jnz .bad
        test al, ST_DRQ
        jz .bad
        clc
        ret
.bad:   stc
        ret

; fail: ESI = what went wrong.
fail:
        push esi
        mov esi, msg_fail
        call serial_puts
        pop esi
        call serial_puts
        mov dx, ATA_STATUS
        in al, dx
        movzx eax, al
        push esi
        mov esi, msg_status
        call serial_puts
        call serial_hex32
        mov esi, msg_newline
        call serial_puts
        pop esi
        jmp exit_fail

section .rodata
msg_identify:         db "identify: ATA disk, LBA, ", 0
msg_sectors:          db " sectors", 10, 0
msg_sector0:          db "sector 0: ", 0
msg_sum:              db "sector 0: byte sum ", 0
msg_lba_back:         db "sector 1: written and read back (LBA 1)", 10, 0
msg_chs_back:         db "sector 1: read back through CHS 0/0/2", 10, 0
msg_done:             db "ide: all checks passed", 10, 0
msg_newline:          db 10, 0
msg_fail:             db "FAIL ", 0
msg_status:           db ", status ", 0
msg_identify_failed:  db "IDENTIFY DEVICE gave no data", 0
msg_not_ata:          db "IDENTIFY word 0 does not say ATA", 0
msg_no_lba:           db "IDENTIFY word 49 does not say LBA", 0
msg_read0_failed:     db "READ SECTORS of LBA 0 gave no data", 0
msg_write_failed:     db "WRITE SECTORS of LBA 1 failed", 0
msg_readback_failed:  db "READ SECTORS of sector 1 gave no data", 0
msg_readback_differs: db "sector 1 reads back different from what was written", 0

section .bss
align 4
identify:  resw 256
sector:    resb 512
last_byte: resb 1
pattern:   resb 512
