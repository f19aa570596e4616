#!/bin/sh
# tests/guests/monitor_fixes.sh - the monitor and GDB-stub behaviours of
# issue 12 that a newcomer tripped over, each against a value from outside
# trapeze: nasm's listings (offsets, bytes), the guests' sources, nm, the
# SDM's RESET values, and gdb itself.
#
#   step-over      continuing or stepping from a breakpoint that a step
#                  (not the engine) stopped on runs the instruction
#   numbers        addresses in the forms the monitor prints (0000:7c00,
#                  00007c36, fffffff0, 40401000) are read back as hex
#   real-mode      info gdt / info idt at RESET, disas SEL:OFF labels,
#                  step -1, mov ds, ax
#   vector-stop    break vector 6 stops when #UD is raised although its
#                  delivery triple-faults
#   gdb            $cr0-$cr4 and `monitor CMD` (qRcmd) with Debian's gdb
#
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"
BOOT=$G/boot_hello.img
PMODE=$G/pmode.elf
ROM=$G/realmode.rom
require "monitor-fixes: $TRAPEZE or the guests are not built" "$TRAPEZE" "$BOOT" "$PMODE" "$ROM"
skip_without nasm "nasm is not installed (the listings give the addresses)" monitor-fixes
skip_without nm "nm (binutils) is not installed" monitor-fixes

# check NAME FILE PATTERN: the fixed string PATTERN is in FILE.
check() {
    if grep -qF -- "$3" "$2"; then echo "PASS $1"; else fail "$1: no \"$3\" in the output ($(wc -l < "$2") lines)"; fi
}
# check_not NAME FILE PATTERN: it is not.
check_not() {
    if grep -qF -- "$3" "$2"; then fail "$1: \"$3\" in the output"; else echo "PASS $1"; fi
}
# session NAME ARGS... -- LINES...: a -monitor-script session, output in $tmp/NAME.out.
session() {
    name=$1
    shift
    args=""
    while [ "$1" != "--" ]; do args="$args $1"; shift; done
    shift
    printf '%s\n' "$@" > "$tmp/$name.cmd"
    # shellcheck disable=SC2086
    timeout 30 "$TRAPEZE" $args -display none -serial "file:$tmp/$name.serial" \
        -monitor-script "$tmp/$name.cmd" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err"
    echo $? > "$tmp/$name.rc"
}
hex8() { printf '%08x' "$(( $1 ))"; }
sym() { nm "$1" | awk -v n="$2" '$3 == n { print $1; exit }'; }

# ---- boot_hello_floppy.asm's listing: puts's loop, msg_hello ----
nasm -f bin -I. -l "$tmp/boot.lst" -o "$tmp/boot.img" guests/boot_hello_floppy.asm ||
    { fail "monitor-fixes-listing: nasm failed"; exit 1; }
# "N OFFSET BYTES insn": the line after `call putc` in puts is `jmp puts`.
off_of() { awk -v w="$1" '$0 ~ w { print $2; exit }' "$tmp/boot.lst"; }
JMP=$(awk '/call putc/ { getline; print $2; exit }' "$tmp/boot.lst")   # jmp puts
MSG=$(off_of "msg_hello:")
PUTS=$(off_of "puts: *lodsb")
jmp=$(hex8 0x7c00+0x$JMP)
puts=$(hex8 0x7c00+0x$PUTS)
msg=$((0x7c00 + 0x$MSG))

# ---- step-over: the loop prints one character of msg_hello per pass ----
# break at `jmp puts`; the first stop has read one character (SI = msg + 1).
# A `step 100` stops on the breakpoint again, one pass later (msg + 2).  A
# `step` there must run the JMP (to puts), and then `c` one more pass
# (msg + 3).  Before the fix both did nothing: the breakpoint fired again
# at once.
session so -fda "$BOOT" -- "break 0x$jmp" "c" "print si" "step 100" "print si" "step" "print eip" "c" "print si" \
    "quit"
sis=$(grep -A1 '^(trapeze) print si' "$tmp/so.out" | awk '/^0x/ { print $2 }' | tr '\n' ' ')
# shellcheck disable=SC2086
set -- $sis
if [ "$1" = $((msg + 1)) ] && [ "$2" = $((msg + 2)) ] && [ "$3" = $((msg + 3)) ]; then
    echo "PASS monitor-continue-from-step-breakpoint"
else
    fail "monitor-continue-from-step-breakpoint: SI after each stop: $sis, want $((msg + 1)) $((msg + 2)) $((msg + 3))"
fi
# The issue's own session: `c` right after the `step 100` that stopped on
# the breakpoint (SI msg + 2) runs one pass (msg + 3).
session so2 -fda "$BOOT" -- "break 0x$jmp" "c" "step 100" "print si" "c" "print si" "quit"
sis=$(grep -A1 '^(trapeze) print si' "$tmp/so2.out" | awk '/^0x/ { print $2 }' | tr '\n' ' ')
[ "$sis" = "$((msg + 2)) $((msg + 3)) " ] && echo "PASS monitor-c-after-step-on-breakpoint" ||
    fail "monitor-c-after-step-on-breakpoint: SI $sis, want $((msg + 2)) $((msg + 3))"
# `step` on the breakpoint `step 100` stopped at runs the JMP: EIP = puts.
check monitor-step-from-step-breakpoint "$tmp/so.out" "=> 0000:$(printf '%04x' $((0x$puts & 0xffff))) ($puts)"
check monitor-step-from-step-breakpoint-eip "$tmp/so.out" "0x$puts"

# ---- numbers: what the monitor prints reads back as the same address ----
# RESET: CS:IP F000:FFF0, CS.base FFFF0000 (SDM Vol. 3A 9.1.4): the monitor
# prints "f000:fff0 (fffffff0)"; the paging guest maps 40401000 (paging.asm).
session num -fda "$BOOT" -- "break 7c00" "break 0000:7c00" "break $jmp" "break f000:fff0" "break fffffff0" \
    "break 40401000" "break 00100000" "break 100" "break 0x7c00+16" "print 7c00" "break 1ffffffff" "info break" \
    "delete" "until 0000:$(printf '%04x' $((0x$jmp & 0xffff)))" "quit"
check monitor-number-bare-hex "$tmp/num.out" "Breakpoint 1 at linear 00007c00"
check monitor-number-cs-ip "$tmp/num.out" "Breakpoint 2 at linear 00007c00"
check monitor-number-8-digits "$tmp/num.out" "Breakpoint 3 at linear $jmp"
check monitor-number-reset-cs-ip "$tmp/num.out" "Breakpoint 4 at linear fffffff0"
check monitor-number-letters-first "$tmp/num.out" "Breakpoint 5 at linear fffffff0"
check monitor-number-digits-only-8 "$tmp/num.out" "Breakpoint 6 at linear 40401000"
check monitor-number-1mib "$tmp/num.out" "Breakpoint 7 at linear 00100000"
check monitor-number-alone-is-hex "$tmp/num.out" "Breakpoint 8 at linear 00000100"
check monitor-number-decimal-in-expr "$tmp/num.out" "Breakpoint 9 at linear 00007c10"
check monitor-number-until-cs-ip "$tmp/num.out" "=> 0000:$(printf '%04x' $((0x$jmp & 0xffff))) ($jmp)"
check monitor-number-hex-letter-in-expr "$tmp/num.out" "0x00007c00  31744  31744"
check monitor-number-too-large "$tmp/num.out" "error: 1ffffffff: number too large"
# Round trip: every address `info break` printed, given back to `break`.
sed -n 's/^[0-9]* *breakpoint .* linear \([0-9a-f]*\)$/\1/p' "$tmp/num.out" > "$tmp/printed"
set --
while read -r a; do set -- "$@" "break $a"; done < "$tmp/printed"
session rt -fda "$BOOT" -- "$@" "quit"
sed -n 's/^Breakpoint [0-9]* at linear \([0-9a-f]*\)$/\1/p' "$tmp/rt.out" > "$tmp/reread"
if [ -s "$tmp/printed" ] && cmp -s "$tmp/printed" "$tmp/reread"; then
    echo "PASS monitor-number-round-trip"
else
    fail "monitor-number-round-trip: printed $(tr '\n' ' ' < "$tmp/printed"), read back $(tr '\n' ' ' < "$tmp/reread")"
fi

# ---- real mode tables, disas labels, counts, mov ds, ax ----
# GDTR and IDTR keep their RESET base 0 limit FFFF (SDM Vol. 3A 9.1.1, table
# 9-1) through the BIOS: no GDT in use; the IVT has 10000h / 4 = 16384
# slots but 256 vectors.
MOVDS=$(awk '/mov ds, ax/ { print $2; exit }' "$tmp/boot.lst")
movds=$(printf '%04x' $((0x7c00 + 0x$MOVDS)))
# After the BIOS (until 0x7c00) the IVT is filled in: the old `info gdt`
# decoded it as 8192 descriptors.  In int 10h's handler CS = F000: `disas
# 0:ADDR` is labelled 0000:, as given.
session rm -fda "$BOOT" -- "until 0x7c00" "info gdt" "info idt" "break vector 0x10" "c" \
    "print cs" "disas 0:0x$movds 1" "step -1" "next -1" "quit"
check monitor-gdt-real-mode "$tmp/rm.out" "GDTR base 00000000 limit ffff: real mode, no GDT in use"
check_not monitor-gdt-real-mode-no-descriptors "$tmp/rm.out" "  0008 ["
check monitor-idt-real-mode-count "$tmp/rm.out" "IVT (real mode) base 00000000 limit ffff (256 vectors)"
n=$(grep -c '^  [0-9a-f][0-9a-f] -> ' "$tmp/rm.out")
[ "$n" = 256 ] && echo "PASS monitor-idt-real-mode-256" || fail "monitor-idt-real-mode-256: $n IVT lines, want 256"
check monitor-disas-in-bios "$tmp/rm.out" "0x0000f000  61440  61440"
check monitor-disas-segment-label "$tmp/rm.out" "   0000:$movds (0000$movds)  8e d8"
check monitor-disas-mov-sreg-16 "$tmp/rm.out" "mov ds, ax"
check monitor-step-negative "$tmp/rm.out" "error: -1: the count must be 1 to 2147483647"
# 32-bit code: pmode.asm `.gp_insn: mov ds, ax` assembles to 8E D8 (no 66):
# MOV Sreg, r/m16 reads AX (SDM Vol. 2B MOV).
session md -kernel "$PMODE" -- "disas main.gp_insn 1" "quit"
check monitor-disas-mov-sreg-32bit-code "$tmp/md.out" "8e d8                    mov ds, ax"

# ---- a vector breakpoint on a fault that cannot be delivered ----
# pmode.asm's `main.ud_insn: ud2`; IDTR.limit 2Fh leaves vectors 0-5: the
# #UD has no gate (#GP), nor #GP (#DF), nor #DF (triple fault).  The stop
# must come as the #UD is raised, EIP at the UD2.
ud=$(sym "$PMODE" main.ud_insn)
session ud -kernel "$PMODE" -- "break main.ud_insn" "c" "set idtr_limit 0x2f" "delete" "break vector 6" "c" \
    "print eip" "c"
check monitor-vector-undeliverable-stops "$tmp/ud.out" "Breakpoint 2, vector 0x06 #UD raised"
grep -A1 "^Breakpoint 2, vector 0x06" "$tmp/ud.out" > "$tmp/ud.stop"
check monitor-vector-undeliverable-eip "$tmp/ud.stop" "=> 0008:$ud ($ud)  0f 0b"
# then `c` delivers it: the triple fault the chain leads to (status 4).
[ "$(cat "$tmp/ud.rc")" = 4 ] && grep -q "triple fault" "$tmp/ud.err" && echo "PASS monitor-vector-then-delivered" ||
    fail "monitor-vector-then-delivered: status $(cat "$tmp/ud.rc"), want 4 with a triple fault"

# ---- gdb: control registers and `monitor CMD` ----
skip_without gdb "gdb is not installed" gdb-cr-registers gdb-monitor-command
nasm -f bin -I. -l "$tmp/realmode.lst" -o "$tmp/realmode.rom" guests/realmode.asm ||
    { fail "gdb-listing: nasm failed"; exit 1; }
PM_BREAK=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "pm_break:") { print $2; exit } }' "$tmp/realmode.lst")
PM_BREAK=$(printf '%x' $((0xF0000 + 0x$PM_BREAK)))
: > "$tmp/stub.err"
timeout 60 "$TRAPEZE" -bios "$ROM" -nographic -S -gdb tcp::0 </dev/null >"$tmp/stub.out" 2>"$tmp/stub.err" &
TPID=$!
pids="$pids $TPID"
PORT=""
for _ in $(seq 50); do
    PORT=$(sed -n 's/^trapeze: gdb stub listening on [^:]*:\([0-9]*\)$/\1/p' "$tmp/stub.err")
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { fail "gdb-stub: did not start: $(head -n 1 "$tmp/stub.err")"; exit 1; }
# RESET CR0 = 60000010h (SDM Vol. 3A 9.1.1: CD, NW, ET), CR2-CR4 = 0.
# realmode.asm sets PE (or al, 1) before pm_break: 60000011h.
cat > "$tmp/script.gdb" <<EOF
set confirm off
set pagination off
target remote 127.0.0.1:$PORT
printf "CHECK reset cr0=%x cr2=%x cr3=%x cr4=%x\n", \$cr0, \$cr2, \$cr3, \$cr4
monitor info gdt
monitor step
break *0x$PM_BREAK
continue
printf "CHECK pm cr0=%x\n", \$cr0
set \$cr2 = 0x1234
monitor print cr2
monitor info gdt
kill
EOF
timeout 30 gdb -batch -nx -x "$tmp/script.gdb" </dev/null >"$tmp/gdb.out" 2>&1
check gdb-cr-registers-reset "$tmp/gdb.out" "CHECK reset cr0=60000010 cr2=0 cr3=0 cr4=0"
check gdb-cr0-protected "$tmp/gdb.out" "CHECK pm cr0=60000011"
check gdb-cr2-written "$tmp/gdb.out" "0x00001234  4660  4660"
check gdb-monitor-command "$tmp/gdb.out" "GDTR base 00000000 limit ffff: real mode, no GDT in use"
# realmode.asm's gdt: null, code, data (3 * 8 - 1 = 17h) at ROM_BASE + gdt.
check gdb-monitor-command-pm "$tmp/gdb.out" "limit 0017 (3 entries)"
check gdb-monitor-refuses-run "$tmp/gdb.out" "error: \`step\` runs the guest"
exit $failed
