; spin.asm - a guest that never ends: interrupts off, one jump to itself.
;
; Run:   build/trapeze -kernel build/guests/spin.elf -nographic -max-insns 1M -stats
; Prints nothing and never exits on its own: only trapeze's instruction cap
; (-max-insns N: "trapeze: instruction cap reached: N instructions", exit
; status 8) or a timeout ends it.  tests/guests/insn_cap.sh runs it.  Every
; instruction it runs after Multiboot's entry is the one `jmp $`, so the
; count -stats shows is the cap itself, exactly.

bits 32
section .text
global main
main:
        cli                     ; no timer is armed, but say it: nothing interrupts
.forever:
        jmp .forever
