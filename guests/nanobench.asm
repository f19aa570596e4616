; nanobench.asm - nanobenchmarks in the style of Adams & Agesen, "A
; Comparison of Software and Hardware Techniques for x86 Virtualization"
; (ASPLOS 2006): one guest operation, repeated, whose cost separates a
; binary translator, a trap-and-emulate VMM and an interpreter.
;
; Run:   build/trapeze -kernel build/guests/nanobench.elf -append "bench=cli iters=100000" -nographic
;        qemu-system-i386 -kernel build/guests/nanobench.elf -append "bench=cli iters=100000" \
;            -nographic -device isa-debug-exit,iobase=0xf4,iosize=0x04
; The Multiboot command line names the benchmark (bench=NAME) and how many
; operations it does (iters=N, default 1000).  Every run sets up the same
; GDT, IDT, TSS and paging first, so (time of N ops - time of "null") / N
; is one operation (bench/run.sh, section nanobench).  One operation is:
;   null      nothing: the set-up alone
;   syscall   at ring 3, INT 0x80 to a DPL 3 interrupt gate, IRETD back
;   in        IN AL, 61h (system control port B: both trapeze and QEMU
;             model it, for the PIT's gate and speaker)
;   cli       CLI; STI
;   pushf     PUSHFD; POPFD
;   pgfault   at ring 3, a read of a not-present page; the #PF handler maps
;             it and unmaps (PTE cleared + INVLPG) the page the read before
;             touched, so the next read, of that one, faults again
;   divzero   DIV by 0 at ring 0; the #DE handler steps over the DIV
;   ptemod    a PTE store (the frame alternates) + INVLPG of its page
;   cr3       MOV CR3 to the other of two equal page directories
;   forkwait  a fork, roughly: a new page directory (copy of the parent's)
;             and page table whose 16 pages are copies of the parent's 16
;             (64 KiB copied), MOV CR3 to it, a read of each page, MOV CR3
;             back
;   eoi       OUT 20h of 20h: a non-specific EOI to the master 8259A
;   callret   a chain of 16 nested CALLs and their 16 RETs
;   compute   CRC-32 (reflected, polynomial EDB88320h) of one byte, bit by bit
; Prints "nanobench: NAME N done" and exits with status 33; an unknown
; name, a wrong fault count or an unexpected exception prints a
; "nanobench: FAIL ..." line and exits with status 35.

%include "guests/common.inc"
%include "guests/gdt.inc"
%include "guests/idt.inc"
%include "guests/irq.inc"
%include "guests/paging.inc"
%include "guests/print.inc"

bits 32

extern serial_puts, serial_putc, serial_dec32, serial_hex32, exit_pass, exit_fail

DEFAULT_ITERS equ 1000
PAGE       equ 4096
USER_LIN   equ 0x00400000         ; PDE 1: pgfault's and ptemod's pages
FORK_PAGES equ 16
MB_INFO_CMDLINE equ 1 << 2        ; Multiboot 0.6.96 3.3: flags bit 2, field at 16

CR0_PG     equ 1 << 31
CR4_PSE    equ 1 << 4
PTE_P      equ 0x001              ; SDM Vol. 3A 4.3, tables 4-4 to 4-6
PTE_W      equ 0x002
PTE_U      equ 0x004
PTE_PS     equ 0x080
PTE_URW    equ PTE_P + PTE_W + PTE_U

SYS_NOP    equ 0                  ; int 0x80, EAX = 0: return at once
SYS_LEAVE  equ 1                  ; EAX = 1: back to ring 0 for good

section .text
global main
main:
        mov ebx, [esp + 4]        ; the Multiboot information structure
        PIC_MASK_ALL              ; irq.inc
        call setup_tables
        call setup_paging
        call parse_cmdline        ; [bench] = the handler, [iters]
        mov ecx, [iters]
        jmp [bench]

; ---------------------------------------------------------------- benchmarks
; Each starts with ECX = iters (at least 1) and ends at bench_done.
b_null:
        jmp bench_done

b_syscall:
        mov dword [user_entry], u_syscall
        jmp to_ring3
u_syscall:
        mov ax, UDATA             ; the IRETD to ring 3 nulled DS and ES
        mov ds, ax
        mov es, ax
        mov ecx, [iters]
.op:    xor eax, eax              ; SYS_NOP
        int 0x80
        dec ecx
        jnz .op
        mov eax, SYS_LEAVE
        int 0x80

b_in:
.op:    in al, 0x61
        dec ecx
        jnz .op
        jmp bench_done

b_cli:
.op:    cli
        sti
        dec ecx
        jnz .op
        cli
        jmp bench_done

b_pushf:
.op:    pushfd
        popfd
        dec ecx
        jnz .op
        jmp bench_done

b_pgfault:
        mov dword [user_entry], u_pgfault
        jmp to_ring3
u_pgfault:
        mov ax, UDATA             ; the IRETD to ring 3 nulled DS and ES
        mov ds, ax
        mov es, ax
        mov ecx, [iters]
        mov esi, USER_LIN
.op:    mov eax, [esi]            ; not present: #PF, mapped, restarted
        xor esi, PAGE             ; the other page: unmapped by that #PF
        dec ecx
        jnz .op
        mov eax, SYS_LEAVE
        int 0x80

b_divzero:
        xor ebx, ebx
.op:    xor edx, edx
        mov eax, 1
        div ebx                   ; 2 bytes (F7 F3): de_entry steps over it
        dec ecx
        jnz .op
        mov eax, [de_count]
        cmp eax, [iters]
        jne bad_count
        jmp bench_done

b_ptemod:
        mov eax, frame_a + PTE_URW
        mov edx, frame_b + PTE_URW
.op:    mov [pt_user + 2 * 4], eax
        invlpg [USER_LIN + 2 * PAGE]
        xchg eax, edx             ; the other frame next time
        dec ecx
        jnz .op
        jmp bench_done

b_cr3:
        mov eax, pd_b
        mov edx, pd_a
.op:    mov cr3, eax
        xchg eax, edx
        dec ecx
        jnz .op
        mov eax, pd_a
        mov cr3, eax
        jmp bench_done

b_forkwait:
        mov ebp, ecx
.op:    mov esi, pd_a             ; the child's directory: the parent's ...
        mov edi, pd_child
        mov ecx, 1024
        rep movsd
        mov dword [pd_child + 1 * 4], pt_child + PTE_URW   ; ... but its own PDE 1
        mov edi, pt_child         ; a fresh page table: FORK_PAGES copies
        xor eax, eax
        mov ecx, 1024
        rep stosd
        mov eax, child_pages + PTE_URW
        xor ecx, ecx
.pte:   mov [pt_child + ecx * 4], eax
        add eax, PAGE
        inc ecx
        cmp ecx, FORK_PAGES
        jb .pte
        mov esi, parent_pages     ; copy the parent's pages into them
        mov edi, child_pages
        mov ecx, FORK_PAGES * PAGE / 4
        rep movsd
        mov eax, pd_child
        mov cr3, eax
        mov esi, USER_LIN         ; the child touches each page
        mov ecx, FORK_PAGES
.touch: mov eax, [esi]
        add esi, PAGE
        loop .touch
        mov eax, pd_a             ; and the parent runs again
        mov cr3, eax
        dec ebp
        jnz .op
        jmp bench_done

b_eoi:
        mov al, 0x20
.op:    out 0x20, al
        dec ecx
        jnz .op
        jmp bench_done

b_callret:
.op:    call chain_1
        dec ecx
        jnz .op
        jmp bench_done
; chain_1 .. chain_16: each calls the next; chain_16 returns.
%assign i 1
%rep 15
chain_ %+ i:
%assign i i + 1
        call chain_ %+ i
        ret
%endrep
chain_16:
        ret

b_compute:
        mov edx, 0xFFFFFFFF       ; the CRC register
        xor ebx, ebx              ; the byte: 0, 1, 2, ...
.op:    xor dl, bl
        mov edi, 8
.bit:   shr edx, 1
        jnc .next
        xor edx, 0xEDB88320
.next:  dec edi
        jnz .bit
        inc ebx
        dec ecx
        jnz .op
        jmp bench_done

; ---------------------------------------------------------------- ring 3
; to_ring3: IRETD to [user_entry] at CPL 3 with IF = 0; SYS_LEAVE comes back
; to bench_done on this stack.
to_ring3:
        mov [kernel_esp], esp
        push dword UDATA
        push dword user_stack_top
        push dword 0x2
        push dword UCODE
        push dword [user_entry]
        iretd

; int 0x80, DPL 3 interrupt gate.  SYS_NOP returns; SYS_LEAVE drops the
; ring-3 frame and goes on at ring 0.
syscall_entry:
        cmp eax, SYS_LEAVE
        je .leave
        iretd
.leave:
        BACK_TO_RING0             ; idt.inc
        cmp dword [bench], b_pgfault
        jne bench_done
        mov eax, [pf_count]
        cmp eax, [iters]
        jne bad_count
        jmp bench_done

; #PF (error code on the stack), from pgfault's ring-3 loop: map the page
; in CR2, unmap the other of the two and drop its translation.  DS is the
; ring-3 loop's flat UDATA.
pf_entry:
        push eax
        mov eax, cr2
        shr eax, 12
        and eax, 1                ; page 0 or 1 of USER_LIN
        mov dword [pt_user + eax * 4], frame_a + PTE_URW
        xor eax, 1
        mov dword [pt_user + eax * 4], 0
        shl eax, 12
        invlpg [USER_LIN + eax]
        inc dword [pf_count]
        pop eax
        add esp, 4                ; the error code
        iretd

; #DE, a fault: the saved EIP is the DIV's; step over its 2 bytes.
de_entry:
        inc dword [de_count]
        add dword [esp], 2
        iretd

; ---------------------------------------------------------------- the end
bench_done:
        mov esi, msg_bench
        call serial_puts
        mov esi, [bench_name]
        call put_word
        mov al, ' '
        call serial_putc
        mov eax, [iters]
        call serial_dec32
        mov esi, msg_done
        call serial_puts
        jmp exit_pass

bad_count:
        FAIL_NUMBER msg_count     ; print.inc

        UNEXPECTED_HANDLERS          ; idt.inc

; ---------------------------------------------------------------- command line
; parse_cmdline: EBX = Multiboot info.  Finds "bench=" and "iters=" among
; the space-separated words; sets [bench], [bench_name] and [iters].
parse_cmdline:
        mov dword [iters], DEFAULT_ITERS
        test dword [ebx], MB_INFO_CMDLINE
        jz .unknown
        mov esi, [ebx + 16]
.word:  cmp byte [esi], 0
        je .check
        cmp byte [esi], ' '
        jne .key
        inc esi
        jmp .word
.key:   cmp dword [esi], "benc"
        jne .iters
        cmp word [esi + 4], "h="
        jne .iters
        add esi, 6
        mov [bench_name], esi
        jmp .skip
.iters: cmp dword [esi], "iter"
        jne .skip
        cmp word [esi + 4], "s="
        jne .skip
        add esi, 6
        xor eax, eax
.digit: movzx edx, byte [esi]
        sub edx, '0'
        cmp edx, 9
        ja .num
        imul eax, eax, 10
        add eax, edx
        inc esi
        jmp .digit
.num:   test eax, eax
        jz .skip                  ; iters=0 keeps the default
        mov [iters], eax
.skip:  cmp byte [esi], 0         ; to the end of this word
        je .check
        cmp byte [esi], ' '
        je .word
        inc esi
        jmp .skip
.check: mov esi, [bench_name]
        test esi, esi
        jz .unknown
        mov edi, bench_table
.find:  mov edx, [edi]            ; a name in the table, NUL-terminated
        test edx, edx
        jz .unknown
        push esi
.cmp:   mov al, [edx]
        test al, al
        jz .end
        cmp al, [esi]
        jne .miss
        inc edx
        inc esi
        jmp .cmp
.end:   mov al, [esi]             ; the command line's word ends here too
        test al, al
        jz .hit
        cmp al, ' '
        je .hit
.miss:  pop esi
        add edi, 8
        jmp .find
.hit:   pop esi
        mov eax, [edi + 4]
        mov [bench], eax
        ret
.unknown:
        mov esi, msg_usage
        call serial_puts
        jmp exit_fail

; put_word: ESI = text; prints it up to a space or the NUL.
put_word:
        push esi
        push eax
.next:  mov al, [esi]
        test al, al
        jz .done
        cmp al, ' '
        je .done
        call serial_putc
        inc esi
        jmp .next
.done:  pop eax
        pop esi
        ret

; ---------------------------------------------------------------- set-up
; make_gate: EDI = where, EAX = offset, CH = type byte; selector KCODE
; (SDM Vol. 3A figure 6-2).
make_gate:
        MAKE_GATE                 ; idt.inc

; setup_tables: the TSS descriptor (SDM Vol. 3A figure 7-3), LGDT and the
; segments, 32 exception gates (#DE and #PF to their handlers), the DPL 3
; gate of 0x80, LIDT, the TSS's ring-0 stack, LTR.
setup_tables:
        TSS_DESC main_tss, 0x89   ; idt.inc: P, DPL 0, 32-bit TSS, available
        RELOAD_SEGMENTS
        xor ebp, ebp
        PICK_HANDLER ebp             ; idt.inc: .gate, .err
.set:   test ebp, ebp
        jnz .pf
        mov eax, de_entry
.pf:    cmp ebp, 14
        jne .put
        mov eax, pf_entry
        GATES_AND_SYSCALL .put    ; idt.inc
        lidt [idtr]
        LOAD_TSS main_tss, kstack0_top ; idt.inc
        ret

; setup_paging: pd_a and pd_b alike: PDE 0 a 4 MiB user page over the
; kernel (ring 3 runs the kernel's code and reads its data), PDE 1 ->
; pt_user, none present; pd_a in CR3, CR4.PSE, CR0.PG.
setup_paging:
        mov dword [pd_a], 0 + PTE_PS + PTE_URW
        mov dword [pd_a + 1 * 4], pt_user + PTE_URW
        mov esi, pd_a
        mov edi, pd_b
        mov ecx, 1024
        rep movsd
        PAGING_ON pd_a            ; paging.inc
        ret

section .rodata
; bench_table: (name, handler) pairs, then a 0.
%macro BENCH 1
[section .rodata]
%%name: db %str(%1), 0
[section .data]
        dd %%name, b_ %+ %1
__SECT__
%endmacro
msg_bench:      db "nanobench: ", 0
msg_done:       db " done", 10, 0
msg_count:      db "nanobench: FAIL wrong fault count ", 0
msg_unexpected: db "nanobench: FAIL unexpected exception at ", 0
msg_usage:      db "nanobench: FAIL the command line must name bench=null|syscall|in|cli|pushf|pgfault|divzero|ptemod|cr3|forkwait|eoi|callret|compute", 10, 0
newline:        db 10, 0

        GDT_WITH_TSS              ; gdt.inc: section .data, gdt:, 0x00-0x28 (setup_tables fills the TSS)
        TABLE_POINTERS
bench_table:
        BENCH null
        BENCH syscall
        BENCH in
        BENCH cli
        BENCH pushf
        BENCH pgfault
        BENCH divzero
        BENCH ptemod
        BENCH cr3
        BENCH forkwait
        BENCH eoi
        BENCH callret
        BENCH compute
        dd 0

section .bss align=4096
alignb PAGE
pd_a:           resb PAGE
pd_b:           resb PAGE
pd_child:       resb PAGE
pt_user:        resb PAGE
pt_child:       resb PAGE
frame_a:        resb PAGE
frame_b:        resb PAGE
parent_pages:   resb FORK_PAGES * PAGE
child_pages:    resb FORK_PAGES * PAGE
idt:            resb 256 * 8
main_tss:       resb TSS_SIZE
alignb 16
kstack0:        resb 4096
kstack0_top:
user_stack:     resb 4096
user_stack_top:
bench:          resd 1
bench_name:     resd 1
iters:          resd 1
user_entry:     resd 1
kernel_esp:     resd 1
pf_count:       resd 1
de_count:       resd 1
