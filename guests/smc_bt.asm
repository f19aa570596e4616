; smc_bt.asm - self-modifying kernel code, the ways a binary translator can
; get it wrong: translations kept after their guest bytes changed, a block
; that goes on running stale code after a store into itself, a chained
; branch whose guest jump was rewritten, code reached through a second
; linear address.
;
; Run:   build/trapeze -kernel build/guests/smc_bt.elf -display none
;        build/trapeze -engine bt -kernel build/guests/smc_bt.elf -display none
;        qemu-system-i386 -kernel build/guests/smc_bt.elf -nographic \
;            -device isa-debug-exit,iobase=0xf4,iosize=0x04
; One "ok NAME" (or "FAIL NAME: got 0xX want 0xY") line per check, then
; "smc_bt: all 12 checks passed" and exit status 33; else exit 35.  The
; same text under trapeze and QEMU (tests/guests/bt.sh: bt-smc-qemu).
;
; x86 rule (SDM Vol. 3A 11.6, "Self-Modifying Code"): a store to code takes
; effect for the next instruction fetched after it; on a Pentium and later
; even when the changed instruction is the very next one, already
; prefetched (no jump needed: Pentium Processor Family Developer's Manual,
; 2.4 / the SDM's "P6 and later" note), and whichever linear address the
; store went through (the processor snoops physical addresses).
;
;   call-rewritten      a function is called 3 times, then its mov eax, imm32
;                       gets a new immediate and a RET written over the
;                       instruction after it; the next call runs the new body
;   store-next-imm      a store rewrites the immediate of the instruction right
;                       after it, in the same straight-line run, 8 times
;   store-next-opcode   a store rewrites the opcode bytes of the next
;                       instruction (shl eax, 1 <-> inc eax; inc eax)
;   chained-jcc-cond    a loop run 3 times, then its JB patched into JBE
;   chained-jcc-target  then the same JBE's rel8 pointed at another label
;   chained-jcc-self    a loop that rewrites its own JB into JAE at its 10th
;                       iteration: the branch chained to itself must stop
;   rep-movsb-code      code copied into a buffer by REP MOVSB, called,
;                       overwritten by other code (REP MOVSB), called, and the
;                       first code copied back
;   alias-write-run     paging on: code written through a second linear page
;                       mapping the same frame runs at the original address
;   orig-write-alias-run  and written through the original, runs through the
;                       alias (the same physical bytes)
;   long-run-last       a 14-instruction straight-line run whose last
;                       instruction (add eax, imm32) becomes sub eax, imm32
;   long-run-self       a 14-instruction run whose first instruction rewrites
;                       its last one's immediate, called 4 times
;   code-next-to-counter  a function on a page whose counter (16 bytes after
;                       its code) it increments on each of 1000 calls; then
;                       its immediate is patched and 1000 more calls run it

%include "guests/common.inc"
%include "guests/checks.inc"

bits 32

extern serial_puts, serial_putc, serial_hex32, exit_pass, exit_fail

NCHECKS   equ 12

CR0_PG    equ 1 << 31
PTE_P     equ 0x001
PTE_W     equ 0x002
PAGE      equ 4096
ALIAS_LIN equ 0x00800000          ; PDE 2: one page, the frame of e_page

section .text
global main
main:
        cld

; ---------------------------------------------------------------- (a)
        xor ebx, ebx
        mov ecx, 3
.a1:    call a_func               ; 0x1234 + 1, three times
        add ebx, eax
        loop .a1
        EXPECT ebx, 3 * 0x1235
        mov dword [a_func + 1], 0xABCD   ; mov eax, imm32: B8 id
        mov byte [a_func.add], 0xC3      ; ret where the inc eax was
        call a_func
        EXPECT eax, 0xABCD
        call a_func
        EXPECT eax, 0xABCD
        CHECK_DONE "call-rewritten"

; ---------------------------------------------------------------- (b)
        xor ebx, ebx
        mov ecx, 1
.b1:    mov edx, ecx
        imul edx, edx, 0x01010101
        mov [.b1p + 1], edx       ; the next instruction's imm32
.b1p:   mov eax, strict dword 0
        add ebx, eax
        inc ecx
        cmp ecx, 8
        jbe .b1
        EXPECT ebx, 36 * 0x01010101      ; 1 + 2 + ... + 8
        CHECK_DONE "store-next-imm"

        mov eax, 1
        mov ecx, 8
.b2:    mov edx, ecx              ; odd ECX: inc eax; inc eax (40 40)
        and edx, 1                ; even ECX: shl eax, 1 (D1 E0)
        neg edx
        and edx, 0x4040 ^ 0xE0D1
        xor edx, 0xE0D1
        mov [.b2p], dx
.b2p:   shl eax, 1
        loop .b2
        ; 1 -> 2 -> 4 -> 8 -> 10 -> 20 -> 22 -> 44 -> 46 (ECX 8 down to 1)
        EXPECT eax, 46
        CHECK_DONE "store-next-opcode"

; ---------------------------------------------------------------- (c)
        xor edi, edi
        mov esi, 3
.c1:    call c_loop               ; JB: 100 iterations, 1 + ... + 100
        add edi, ebx
        dec esi
        jnz .c1
        EXPECT edi, 3 * 5050
        mov byte [c_loop.jcc], 0x76      ; JB rel8 (72) -> JBE rel8 (76)
        call c_loop
        EXPECT ebx, 5151                 ; 101 iterations
        EXPECT ecx, 101
        call c_loop
        EXPECT ebx, 5151
        CHECK_DONE "chained-jcc-cond"

        mov byte [c_loop.jcc + 1], c_loop.alt - (c_loop.jcc + 2)
        call c_loop               ; each taken JBE goes through .alt: +1000
        EXPECT ebx, 5151 + 100 * 1000
        call c_loop
        EXPECT ebx, 5151 + 100 * 1000
        CHECK_DONE "chained-jcc-target"

        mov esi, 3
.c2:    mov byte [c_self.jcc], 0x72      ; JB again, for each call
        call c_self
        EXPECT ecx, 10
        dec esi
        jnz .c2
        CHECK_DONE "chained-jcc-self"

; ---------------------------------------------------------------- (d)
        xor ebx, ebx
        mov esi, tmpl1
        call d_copy_call          ; 0x11111111 + 5, twice
        mov esi, tmpl2
        call d_copy_call          ; (5 * 2 + 0x2222) ^ 0x5A5A, twice
        mov esi, tmpl1
        call d_copy_call
        EXPECT ebx, 4 * (0x11111111 + 5) + 2 * ((5 * 2 + 0x2222) ^ 0x5A5A)
        CHECK_DONE "rep-movsb-code"

; ---------------------------------------------------------------- (f)
        call f_long
        mov ebx, eax
        mov byte [f_long.last], 0x2D     ; add eax, imm32 (05 id) -> sub (2D id)
        mov dword [f_long.last + 1], 0x40
        call f_long
        EXPECT eax, F_BODY - 0x40        ; EXPECT uses EAX: this one first
        EXPECT ebx, F_BODY + 0x100
        CHECK_DONE "long-run-last"

        xor ebx, ebx
        mov edx, 1
.f2:    call f_self               ; its first store sets its last imm32 = EDX
        add ebx, eax
        shl edx, 4
        cmp edx, 0x10000
        jb .f2
        EXPECT ebx, 4 * F_BODY + 0x1111
        CHECK_DONE "long-run-self"

; ---------------------------------------------------------------- (g)
        xor ebx, ebx
        mov ecx, 1000
.g1:    call g_func               ; 7, and the counter beside it + 1
        add ebx, eax
        loop .g1
        mov dword [g_func + 1], 9
        mov ecx, 1000
.g2:    call g_func
        add ebx, eax
        loop .g2
        EXPECT ebx, 7 * 1000 + 9 * 1000
        EXPECT [g_counter], 2000
        CHECK_DONE "code-next-to-counter"

; ---------------------------------------------------------------- (e)
        ; identity-map 0-4 MiB with 4 KiB pages; ALIAS_LIN maps e_page's frame
        xor ecx, ecx
.e0:    mov eax, ecx
        shl eax, 12
        or eax, PTE_P | PTE_W
        mov [pt0 + ecx * 4], eax
        inc ecx
        cmp ecx, 1024
        jb .e0
        mov eax, e_page
        or eax, PTE_P | PTE_W
        mov [pt_alias], eax
        mov eax, pt0
        or eax, PTE_P | PTE_W
        mov [page_dir], eax
        mov eax, pt_alias
        or eax, PTE_P | PTE_W
        mov [page_dir + (ALIAS_LIN >> 22) * 4], eax
        mov eax, page_dir
        mov cr3, eax
        mov eax, cr0
        or eax, CR0_PG
        mov cr0, eax
        jmp .paged
.paged:
        call e_func               ; 0x5A5A0001, at its own address
        mov ebx, eax
        mov eax, ALIAS_LIN + (e_func - e_page)
        call eax                  ; the same bytes through the alias
        add ebx, eax
        ; through the alias: a new imm32, and NOT EAX before the RET
        mov dword [ALIAS_LIN + (e_func - e_page) + 1], 0x00C0FFEE
        mov dword [ALIAS_LIN + (e_func - e_page) + 5], 0x90C3D0F7   ; not eax; ret
        call e_func
        EXPECT eax, ~0x00C0FFEE          ; EXPECT uses EAX: this one first
        EXPECT ebx, 2 * 0x5A5A0001
        CHECK_DONE "alias-write-run"

        mov dword [e_func + 1], 0x12345678   ; through the original address
        mov byte [e_func + 5], 0xC3          ; ret (no NOT)
        mov eax, ALIAS_LIN + (e_func - e_page)
        call eax
        EXPECT eax, 0x12345678
        call e_func
        EXPECT eax, 0x12345678
        CHECK_DONE "orig-write-alias-run"

        CHECKS_VERDICT msg_smc_bt

; ---------------------------------------------------------------- the code patched
a_func: mov eax, strict dword 0x1234
.add:   inc eax                   ; becomes RET
        ret

; c_loop: EBX = 1 + ... + ECX's last value; the JB at .jcc is patched.
c_loop: xor ecx, ecx
        xor ebx, ebx
        jmp .top
.alt:   add ebx, 1000
.top:   inc ecx
        add ebx, ecx
        cmp ecx, 100
.jcc:   jb .top                   ; 72 rel8
        ret

; c_self: counts ECX up; at 10 it turns its own JB into JAE (73), which
; ECX = 10 < 100 does not take: the loop ends with ECX = 10.
c_self: xor ecx, ecx
.top:   inc ecx
        cmp ecx, 10
        jne .go
        mov byte [.jcc], 0x73
.go:    cmp ecx, 100
.jcc:   jb .top
        ret

; d_copy_call: ESI = a template of TMPL_LEN bytes: copied to code_buf by
; REP MOVSB, then called twice with ECX = 5; EBX += each result.
d_copy_call:
        mov edi, code_buf
        mov ecx, TMPL_LEN
        rep movsb
        mov ecx, 5
        call code_buf
        add ebx, eax
        mov ecx, 5
        call code_buf
        add ebx, eax
        ret

tmpl1:  mov eax, 0x11111111
        add eax, ecx
        ret
        times 16 - ($ - tmpl1) nop
tmpl2:  lea eax, [ecx * 2 + 0x2222]
        xor eax, 0x5A5A
        ret
        times 16 - ($ - tmpl2) nop
TMPL_LEN equ 16

; f_long: 14 instructions, one straight-line run; .last is patched.
F_BODY equ ((((3 + 5) * 2 + 7) ^ 0x55) - 1 + 0x1000) * 3 + 0x21
f_long: mov eax, 3
        mov ecx, 5
        add eax, ecx
        shl eax, 1
        add eax, 7
        xor eax, 0x55
        dec eax
        mov edx, 0x1000
        add eax, edx
        lea eax, [eax + eax * 2]
        mov ecx, 0x21
        add eax, ecx
        nop
.last:  add eax, strict dword 0x100
        ret

; f_self: EDX = the value its first instruction writes into the imm32 of
; its last; returns F_BODY + EDX.  14 instructions in one run.
f_self: mov [.last + 1], edx
        mov eax, 3
        mov ecx, 5
        add eax, ecx
        shl eax, 1
        add eax, 7
        xor eax, 0x55
        dec eax
        add eax, 0x1000
        lea eax, [eax + eax * 2]
        mov ecx, 0x21
        add eax, ecx
        nop
.last:  add eax, strict dword 0
        ret

; e_page: code alone on its page, which ALIAS_LIN maps a second time.
align PAGE, db 0xCC
e_page:
e_func: mov eax, strict dword 0x5A5A0001
        ret
        times 7 nop

; g_page: code and, 16 bytes on, a counter it writes at every call.
align PAGE, db 0xCC
g_page:
g_func: mov eax, strict dword 7
        inc dword [g_counter]
        ret
align 16, db 0xCC
g_counter: dd 0
align PAGE, db 0xCC

; ---------------------------------------------------------------- helpers
        CHECK_ROUTINES

section .rodata
        CHECK_MESSAGES msg_smc_bt, "smc_bt"
newline: db 10, 0

section .bss
alignb PAGE
page_dir:  resb PAGE
pt0:       resb PAGE
pt_alias:  resb PAGE
code_buf:  resb 64
alignb 4
        CHECK_STATE
