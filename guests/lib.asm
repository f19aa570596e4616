; lib.asm - the runtime every Multiboot guest links with.
;
;   the Multiboot v1 header, _start (a stack, then main(info)), and a few
;   polled-COM1 routines: serial_putc, serial_puts, serial_hex32, serial_dec32,
;   plus exit_pass / exit_fail through the isa-debug-exit port.
;
; Calling convention of the routines: arguments in registers (given per
; routine), every register preserved, so guest code can print from anywhere
; (even from an exception handler) without saving anything first.
;
; Exit convention (guests/README.md): a byte V written to port 0xF4 makes the
; emulator exit with status (V << 1) | 1, as QEMU's isa-debug-exit does.
;   EXIT_PASS 0x10 -> status 33,  EXIT_FAIL 0x11 -> status 35.

%include "guests/common.inc"

bits 32

; ---- Multiboot v1 header (Multiboot Specification 0.6.96, section 3.1.1) ----
MB_MAGIC      equ 0x1BADB002
MB_PAGE_ALIGN equ 1 << 0          ; modules page aligned
MB_MEMORY     equ 1 << 1          ; mem_* fields of the info structure wanted
MB_FLAGS      equ MB_PAGE_ALIGN | MB_MEMORY
                                  ; bit 16 clear: the loader reads the ELF headers

section .multiboot
align 4
        dd MB_MAGIC
        dd MB_FLAGS
        dd -(MB_MAGIC + MB_FLAGS) ; checksum: the three fields add up to 0

section .bss
align 16
boot_stack:     resb 16384
boot_stack_top:

section .text
global _start
extern main
; Entry state (Multiboot 3.2): protected mode, paging off, flat CS/DS/ES/SS,
; EAX = 0x2BADB002, EBX = physical address of the Multiboot info structure,
; ESP undefined, interrupts off.
_start:
        cli
        mov esp, boot_stack_top
        push 0                    ; EFLAGS = 2: clear DF, IF, NT, IOPL
        popfd
        push eax                  ; main(info, magic), cdecl: last argument first
        push ebx
        call main
        ; main should not return; if it does the guest failed.
        jmp exit_fail

; ---- COM1, polled (8250/16550 data sheet: LSR bit 5 = THR empty) ----
COM1     equ 0x3F8
COM1_LSR equ COM1 + 5
LSR_THRE equ 1 << 5

; serial_putc: AL = the byte to send.
global serial_putc
serial_putc:
        push edx
        push eax
        mov dx, COM1_LSR
.wait:  in al, dx
        test al, LSR_THRE
        jz .wait
        pop eax
        mov dx, COM1
        out dx, al
        pop edx
        ret

; serial_puts: ESI = a NUL-terminated string; "\n" is sent as "\r\n" so the
; lines come out straight on a raw terminal (-nographic).
global serial_puts
serial_puts:
        push esi
        push eax
.next:  lodsb
        test al, al
        jz .done
        cmp al, 10
        jne .put
        mov al, 13
        call serial_putc
        mov al, 10
.put:   call serial_putc
        jmp .next
.done:  pop eax
        pop esi
        ret

; serial_hex32: EAX = a number, sent as 8 lower-case hex digits.
global serial_hex32
serial_hex32:
        push ecx
        push eax
        push ebx
        mov ebx, eax
        mov ecx, 8
.digit: rol ebx, 4
        mov eax, ebx
        and eax, 0xF
        mov al, [hex_digits + eax]
        call serial_putc
        loop .digit
        pop ebx
        pop eax
        pop ecx
        ret

; serial_dec32: EAX = an unsigned number, sent in decimal.
global serial_dec32
serial_dec32:
        pushad
        mov ebx, 10
        xor ecx, ecx              ; digits pushed
.div:   xor edx, edx
        div ebx
        push edx
        inc ecx
        test eax, eax
        jnz .div
.out:   pop eax
        add al, '0'
        call serial_putc
        loop .out
        popad
        ret

; exit_pass / exit_fail: write the verdict to isa-debug-exit.  Without that
; device the write is lost, so halt forever afterwards.
global exit_pass, exit_fail
exit_pass:
        mov al, EXIT_PASS
        jmp exit_with
exit_fail:
        mov al, EXIT_FAIL
exit_with:
        out DEBUG_EXIT_PORT, al
        cli
.halt:  hlt
        jmp .halt

section .rodata
hex_digits: db "0123456789abcdef"
