; pagebench.asm - benchmark: the cost of a page fault and of a TLB miss.
;
; Run:   build/trapeze -kernel build/guests/pagebench.elf -append fault -nographic
;        build/trapeze -kernel build/guests/pagebench.elf -append tlb -nographic
;        qemu-system-i386 -kernel build/guests/pagebench.elf -append tlb \
;            -nographic -device isa-debug-exit,iobase=0xf4,iosize=0x04
; The last word of the Multiboot command line picks the loop:
;   fault  PF_COUNT times: read a not-present page; the #PF handler maps it
;          (one PTE store) and returns, the read restarts; then the PTE is
;          cleared again and INVLPG drops the translation (SDM Vol. 3A
;          4.10.4.1).  Prints "pagebench: 1000000 page faults".
;   tlb    TLB_ROUNDS times: MOV CR3 (drops every non-global translation,
;          4.10.4.1), then one read from each of the 1024 4 KiB pages of
;          0x00400000-0x007FFFFF, each a TLB miss and a page walk.  Prints
;          "pagebench: 10240000 tlb misses".
; Then exits with status 33; a wrong count, an unexpected exception or an
; unknown mode word prints a FAIL line and exits with status 35.
; bench/run.sh divides the wall time, less start-up, by the counts.

%include "guests/common.inc"
%include "guests/idt.inc"
%include "guests/print.inc"
%include "guests/paging.inc"

bits 32

extern serial_puts, serial_dec32, exit_pass, exit_fail

KCODE      equ 0x08
KDATA      equ 0x10
PF_COUNT   equ 1000000
TLB_ROUNDS equ 10000
TLB_PAGES  equ 1024

CR0_PG     equ 1 << 31
CR4_PSE    equ 1 << 4
PTE_P      equ 0x001              ; SDM Vol. 3A 4.3, tables 4-5 and 4-6
PTE_W      equ 0x002
PTE_PS     equ 0x080
PAGE       equ 4096
TLB_LIN    equ 0x00400000         ; PDE 1 -> pt_tlb: identity, 4 KiB pages
FAULT_LIN  equ 0x40000000         ; PDE 256 -> pt_fault: entry 0 toggled
MB_INFO_CMDLINE equ 1 << 2        ; Multiboot 0.6.96 3.3: flags bit 2, field at 16

section .text
global main
main:
        mov ebx, [esp + 4]        ; the Multiboot information structure
        call setup_gdt_idt
        call setup_paging
        call mode_word            ; ESI = the last word of the command line
        cmp dword [esi], "faul"
        jne .not_fault
        cmp word [esi + 4], "t"   ; "t" and its NUL
        je bench_fault
.not_fault:
        cmp dword [esi], "tlb"    ; "tlb" and its NUL
        je bench_tlb
        mov esi, msg_usage
        call serial_puts
        jmp exit_fail

; ---------------------------------------------------------------- page faults
bench_fault:
        mov ecx, PF_COUNT
.next:  mov eax, [FAULT_LIN]      ; not present: #PF, mapped, restarted
        mov dword [pt_fault], 0   ; unmap again
        invlpg [FAULT_LIN]
        dec ecx
        jnz .next
        mov eax, [pf_taken]
        cmp eax, PF_COUNT
        jne bad_count
        mov esi, msg_bench
        call serial_puts
        call serial_dec32
        mov esi, msg_faults
        call serial_puts
        jmp exit_pass

; The #PF handler (vector 14; error code on the stack): map the page, return.
pf_entry:
        mov dword [pt_fault], frame + PTE_P + PTE_W
        inc dword [pf_taken]
        add esp, 4                ; the error code
        iretd

; ---------------------------------------------------------------- TLB misses
bench_tlb:
        mov ebp, TLB_ROUNDS
        xor edx, edx              ; misses counted
.round: mov eax, cr3
        mov cr3, eax
        mov esi, TLB_LIN
        mov ecx, TLB_PAGES
.touch: mov eax, [esi]
        add esi, PAGE
        inc edx
        dec ecx
        jnz .touch
        dec ebp
        jnz .round
        mov eax, edx
        cmp eax, TLB_ROUNDS * TLB_PAGES
        jne bad_count
        mov esi, msg_bench
        call serial_puts
        call serial_dec32
        mov esi, msg_misses
        call serial_puts
        jmp exit_pass

bad_count:
        FAIL_NUMBER msg_count     ; print.inc

; Any other exception.
unexpected:
        mov ax, KDATA
        mov ds, ax
        mov esi, msg_unexpected
        call serial_puts
        jmp exit_fail

; ---------------------------------------------------------------- set-up
; mode_word: EBX = Multiboot info.  Returns ESI = the last space-separated
; word of the command line (an empty string without one).
mode_word:
        mov esi, empty
        test dword [ebx], MB_INFO_CMDLINE
        jz .done
        mov edi, [ebx + 16]
.scan:  mov al, [edi]
        test al, al
        jz .done
        inc edi
        cmp al, ' '
        je .scan
        lea esi, [edi - 1]        ; a word starts here
.word:  mov al, [edi]
        test al, al
        jz .done
        cmp al, ' '
        je .scan
        inc edi
        jmp .word
.done:  ret

setup_gdt_idt:
        lgdt [gdtr]
        jmp KCODE:.reload
.reload:
        mov ax, KDATA
        mov ds, ax
        mov es, ax
        mov ss, ax
        xor ecx, ecx              ; 32 interrupt gates (SDM Vol. 3A figure 6-2)
.gate:  mov eax, unexpected
        cmp ecx, 14
        jne .set
        mov eax, pf_entry
        GATE_LOOP_TAIL            ; idt.inc: .set
        ret

; PDE 0: a 4 MiB identity page for the kernel; PDE 1: 1024 4 KiB pages;
; PDE 256: one page that comes and goes.
setup_paging:
        mov dword [page_dir + 0 * 4], 0 + PTE_PS + PTE_P + PTE_W
        mov dword [page_dir + 1 * 4], pt_tlb + PTE_P + PTE_W
        mov dword [page_dir + 256 * 4], pt_fault + PTE_P + PTE_W
        FILL_ENTRIES .pte, pt_tlb, TLB_PAGES, 12, add, TLB_LIN + PTE_P + PTE_W ; paging.inc
        PAGING_ON page_dir        ; paging.inc
        ret

section .rodata
msg_bench:      db "pagebench: ", 0
msg_faults:     db " page faults", 10, 0
msg_misses:     db " tlb misses", 10, 0
msg_count:      db "FAIL pagebench: wrong count ", 0
msg_unexpected: db "FAIL pagebench: unexpected exception", 10, 0
msg_usage:      db "FAIL pagebench: the command line must end in 'fault' or 'tlb'", 10, 0
newline:        db 10, 0
empty:          db 0

section .data
align 8
gdt:    dq 0
        dq 0x00CF9A000000FFFF     ; 0x08 ring 0 code, flat (SDM Vol. 3A 3.4.5)
        dq 0x00CF92000000FFFF     ; 0x10 ring 0 data, flat
gdt_end:
gdtr:   dw gdt_end - gdt - 1
        dd gdt
idtr:   dw 32 * 8 - 1
        dd idt

section .bss align=4096
alignb PAGE
page_dir:       resb PAGE
pt_tlb:         resb PAGE
pt_fault:       resb PAGE
frame:          resb PAGE
idt:            resb 32 * 8
pf_taken:       resd 1
