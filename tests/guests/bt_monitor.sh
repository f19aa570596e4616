#!/bin/sh
# tests/guests/bt_monitor.sh - the bt engine under the monitor, the GDB-free
# tools, snapshots and real mode: what a student does with -engine bt.
#
#   bt-monitor-step-*     paging.elf, 130 single steps from its IRET to ring 3
#                         (ring 3, #PF to ring 0 and back, INT 0x80): each
#                         step stops at emu's EIP with emu's register changes
#                         and events; a step runs the instruction translated
#                         (nanobench: pushf/popf steps report "in-TC
#                         sequence", `in` a "callout to the VMM")
#   bt-monitor-break-*    breakpoints at symbols stop where emu's do, in the
#                         same order (syscall.elf under -icount); a vector
#                         breakpoint stops at the faulting instruction
#   bt-monitor-tc-*       info tc, disas-tc and their errors (bad address,
#                         no argument, under emu)
#   bt-snapshot-*         savevm under one engine part-way (in translated
#                         kernel code, in ring 3, in the #PF handler), loadvm
#                         under the other: the guest ends as one emu run
#   bt-gdb-*              the GDB stub: the guest's CS, stepi as under emu
#   bt-tc-full-*          a tiny translation cache (TRAPEZE_BT_TC_KIB=8), flushed
#                         over and over: emu's output still
#   bt-realmode-*         real mode is translated, not interpreted: a -bios
#                         ROM and a boot floppy under -stats (tae interpreted
#                         0, bt translated > 0), their output emu's
#
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"
require_files bt_monitor "$TRAPEZE" "$G/paging.elf" "$G/syscall.elf" "$G/nanobench.elf" \
    "$G/realmode_bios.rom" "$G/boot_hello.img"
skip_without nm "nm (binutils) is not installed" bt-monitor

# (sym, mon, check, snap: tests/guests/lib.shinc)

# ---------------------------------------------------------------- steps
PAGING=$G/paging.elf
bfu=$(sym "$PAGING" back_from_user)
iret=$(printf '%x' $((0x$bfu - 1)))
for e in emu bt; do
    mon "step-$e" $e "$PAGING" "break 0x$iret" "c" "step 130" "quit"
    # The step lines and what changed, without the VMM's own lines.
    grep -E '^([0-9a-f]{4}:[0-9a-f]{8} |    [a-z])' "$tmp/step-$e.out" |
        grep -vE '^    (in-TC|callout|translated|exit chained|trap to|emulated|hidden|true page|event reflected|traced|shadow)' \
        > "$tmp/step-$e.lines"
    grep -E '^[0-9a-f]{4}:[0-9a-f]{8} ' "$tmp/step-$e.out" | awk '{ print $1 }' > "$tmp/step-$e.eips"
done
if [ "$(wc -l < "$tmp/step-emu.eips")" -ne 130 ] || ! grep -q "^001b:" "$tmp/step-emu.eips"; then
    fail "bt-monitor-step-eips: emu's 130 steps from the IRET are not what the test expects ($(wc -l < "$tmp/step-emu.eips"))"
elif cmp -s "$tmp/step-emu.eips" "$tmp/step-bt.eips"; then
    echo "PASS bt-monitor-step-eips"
else
    fail "bt-monitor-step-eips: $(first_difference "$tmp/step-bt.eips" "$tmp/step-emu.eips")"
fi
if cmp -s "$tmp/step-emu.lines" "$tmp/step-bt.lines"; then
    echo "PASS bt-monitor-step-changes"
else
    fail "bt-monitor-step-changes: $(first_difference "$tmp/step-bt.lines" "$tmp/step-emu.lines")"
fi

# A step runs the instruction translated: the trace says how.
NB=$G/nanobench.elf
for b in pushf in; do
    at=$(sym "$NB" "b_$b")
    MON_EXTRA="-append bench=$b" mon "stepk-$b" bt "$NB" "break 0x$at" "c" "trace on $tmp/trace-$b.txt" "step 3" "trace off" "quit"
done
MON_EXTRA=""   # (dash keeps a function call's prefix assignment)
# b_pushf: pushfd, popfd, dec ecx.
if [ "$(grep -c '^      in-TC sequence (no VMM entry) x1$' "$tmp/trace-pushf.txt" 2>/dev/null)" = 2 ] &&
   grep -q "pushfd" "$tmp/trace-pushf.txt" && ! grep -q "callout" "$tmp/trace-pushf.txt"; then
    echo "PASS bt-monitor-step-in-tc"
else
    fail "bt-monitor-step-in-tc: $(tr '\n' '|' < "$tmp/trace-pushf.txt" 2>/dev/null | cut -c1-300)"
fi
# b_in: in al, 0x61 is a port callout; no trap.
if grep -A2 "in al, 0x61" "$tmp/trace-in.txt" 2>/dev/null | grep -q "^      callout to the VMM x1$" &&
   ! grep -q "trap to the VMM" "$tmp/trace-in.txt"; then
    echo "PASS bt-monitor-step-callout"
else
    fail "bt-monitor-step-callout: $(tr '\n' '|' < "$tmp/trace-in.txt" 2>/dev/null | cut -c1-300)"
fi

# ---------------------------------------------------------------- breakpoints
for e in emu bt; do
    MON_EXTRA="-icount shift=0" mon "brk-$e" $e "$G/syscall.elf" "break syscall_entry" "break user_main" "break to_user" \
        "c" "c" "c" "c" "c" "quit"
    grep -E '^=> ' "$tmp/brk-$e.out" | awk '{ print $2 }' > "$tmp/brk-$e.stops"
done
MON_EXTRA=""
if [ "$(wc -l < "$tmp/brk-emu.stops")" -ge 5 ] && cmp -s "$tmp/brk-emu.stops" "$tmp/brk-bt.stops"; then
    echo "PASS bt-monitor-break-stops"
else
    fail "bt-monitor-break-stops: bt $(tr '\n' ' ' < "$tmp/brk-bt.stops"), emu $(tr '\n' ' ' < "$tmp/brk-emu.stops")"
fi
for e in emu bt; do
    mon "vec-$e" $e "$PAGING" "break vector 14" "c" "quit"
    grep -A1 '^Breakpoint 1, vector' "$tmp/vec-$e.out" > "$tmp/vec-$e.stop"
done
if [ -s "$tmp/vec-emu.stop" ] && cmp -s "$tmp/vec-emu.stop" "$tmp/vec-bt.stop"; then
    echo "PASS bt-monitor-break-vector"
else
    fail "bt-monitor-break-vector: bt '$(tr '\n' ' ' < "$tmp/vec-bt.stop" | cut -c1-160)'," \
        "emu '$(tr '\n' ' ' < "$tmp/vec-emu.stop" | cut -c1-160)'"
fi

# ---------------------------------------------------------------- views
done_at=$(sym "$NB" bench_done)
cli_at=$(sym "$NB" b_cli)
MON_EXTRA="-append bench=cli" mon tc bt "$NB" "break 0x$done_at" "c" "info tc" "disas-tc $cli_at" "disas-tc zz" "disas-tc" "disas-tc 1" "quit"
sed -i 's/\r$//' "$tmp/tc.out"
check bt-monitor-tc-info "$tmp/tc.out" "^translation cache at ffd00000: [0-9]+ of [0-9]+ bytes used, [0-9]+ CCFs"
check bt-monitor-tc-disas-cli "$tmp/tc.out" "^$cli_at +cli +in-TC +cli$"
check bt-monitor-tc-disas-cli-tc "$tmp/tc.out" "^ +ffd[0-9a-f]{5} +mov dword ptr gs:\[0\], 0 *$"
check bt-monitor-tc-disas-chained "$tmp/tc.out" "^exit 0 to $cli_at: chained to CCF"
check bt-monitor-tc-bad "$tmp/tc.out" "^error: disas-tc zz: not a hexadecimal EIP$"
check bt-monitor-tc-usage "$tmp/tc.out" "^usage: disas-tc GUEST-EIP"
check bt-monitor-tc-none "$tmp/tc.out" "^disas-tc: no translation of 00000001"
MON_EXTRA=""
mon tcemu emu "$NB" "info tc" "disas-tc 100000" "quit"
check bt-monitor-tc-emu-info "$tmp/tcemu.out" "^error: info tc: the engine is emu, which translates nothing"
check bt-monitor-tc-emu-disas "$tmp/tcemu.out" "^error: disas-tc: the engine is emu, which translates nothing"

# ---------------------------------------------------------------- snapshots
snap bt-snapshot paging-ring3-bt-to-emu bt emu "$PAGING" user_main
snap bt-snapshot paging-ring3-emu-to-bt emu bt "$PAGING" user_main
snap bt-snapshot paging-pf-bt-to-emu bt emu "$PAGING" isr14
snap bt-snapshot paging-pf-emu-to-bt emu bt "$PAGING" isr14
snap bt-snapshot syscall-bt-to-emu bt emu "$G/syscall.elf" user_wait
snap bt-snapshot syscall-bt-to-bt bt bt "$G/syscall.elf" syscall_entry
snap bt-snapshot syscall-bt-to-tae bt tae "$G/syscall.elf" syscall_entry

# ---------------------------------------------------------------- gdb
# The GDB stub sees the guest's registers (CS 0x8, not the TC's FFF9), and
# stepi steps guest instructions: the same registers as under emu.
if ! command -v gdb >/dev/null 2>&1; then
    echo "SKIP bt-gdb-cs: gdb is not installed"
    echo "SKIP bt-gdb-stepi-as-emu: gdb is not installed"
else
    for e in emu bt; do
        timeout 60 "$TRAPEZE" -engine $e -kernel "$PAGING" -nographic -S -gdb tcp::0 \
            </dev/null >"$tmp/stub-$e.out" 2>"$tmp/stub-$e.err" &
        TPID=$!
        pids="$pids $TPID"
        PORT=""
        for _ in $(seq 50); do
            PORT=$(sed -n 's/^trapeze: gdb stub listening on [^:]*:\([0-9]*\)$/\1/p' "$tmp/stub-$e.err")
            [ -n "$PORT" ] && break
            sleep 0.1
        done
        cat > "$tmp/bt.gdb" <<EOF
set confirm off
set pagination off
target remote 127.0.0.1:$PORT
break *0x$bfu
continue
info registers
printf "CHECK cs=%x ss=%x\n", \$cs, \$ss
stepi
stepi
stepi
stepi
stepi
info registers
kill
EOF
        timeout 30 gdb -batch -nx -x "$tmp/bt.gdb" </dev/null >"$tmp/gdb-$e.out" 2>&1
        kill "$TPID" 2>/dev/null
        wait "$TPID" 2>/dev/null
    done
    if grep -qx "CHECK cs=8 ss=10" "$tmp/gdb-bt.out" && grep -Eq "^cs +0x8 +8$" "$tmp/gdb-bt.out"; then
        echo "PASS bt-gdb-cs"
    else
        fail "bt-gdb-cs: $(grep -E '^CHECK|^cs ' "$tmp/gdb-bt.out" | tr '\n' '|')"
    fi
    grep -E '^[a-z0-9]+ +0x' "$tmp/gdb-emu.out" > "$tmp/gdb-emu.regs"
    grep -E '^[a-z0-9]+ +0x' "$tmp/gdb-bt.out" > "$tmp/gdb-bt.regs"
    if [ "$(grep -c '^eip' "$tmp/gdb-emu.regs")" = 2 ] && cmp -s "$tmp/gdb-emu.regs" "$tmp/gdb-bt.regs"; then
        echo "PASS bt-gdb-stepi-as-emu"
    else
        fail "bt-gdb-stepi-as-emu: $(first_difference "$tmp/gdb-bt.regs" "$tmp/gdb-emu.regs")"
    fi
fi

# ---------------------------------------------------------------- real mode
rm_run() {   # rm_run NAME ENGINE ARGS...
    n=$1 e=$2
    shift 2
    timeout 60 "$TRAPEZE" -engine "$e" -display none -stats "$@" </dev/null 2>"$tmp/rm-$n.$e.err" | tr -d '\r' > "$tmp/rm-$n.$e.out"
    echo $? > "$tmp/rm-$n.$e.rc"
}
for n in realmode_bios boot_hello; do
    case $n in
    realmode_bios) args="-bios $G/realmode_bios.rom";;
    boot_hello) args="-fda $G/boot_hello.img";;
    esac
    # shellcheck disable=SC2086
    rm_run $n emu $args
    # shellcheck disable=SC2086
    rm_run $n bt $args
    interp=$(awk '$1 == "tae" && $2 == "interpreted" { print $3 }' "$tmp/rm-$n.bt.err")
    made=$(awk '$1 == "bt" && $2 == "translated" { print $3 }' "$tmp/rm-$n.bt.err")
    if [ "$interp" = 0 ] && [ "${made:-0}" -gt 0 ] && cmp -s "$tmp/rm-$n.emu.out" "$tmp/rm-$n.bt.out" &&
       [ "$(cat "$tmp/rm-$n.emu.rc")" = "$(cat "$tmp/rm-$n.bt.rc")" ]; then
        echo "PASS bt-realmode-$n"
    else
        fail "bt-realmode-$n: tae interpreted '${interp:-none}', bt translated '${made:-none}'," \
            "status $(cat "$tmp/rm-$n.bt.rc") (emu $(cat "$tmp/rm-$n.emu.rc")); $(first_difference "$tmp/rm-$n.bt.out" "$tmp/rm-$n.emu.out")"
    fi
done
# ---------------------------------------------------------------- a full TC
# TRAPEZE_BT_TC_KIB=8: a translation cache that holds a few CCFs, flushed
# again and again (CCF numbers reused under a resumed callout, a chain being
# made, an adaptive retranslation): the guests still print emu's text.
for k in paging fidelity hostile smc_bt; do
    timeout 60 "$TRAPEZE" -kernel "$G/$k.elf" -display none </dev/null 2>/dev/null | tr -d '\r' > "$tmp/full-$k.emu"
    TRAPEZE_BT_TC_KIB=8 timeout 60 "$TRAPEZE" -engine bt -kernel "$G/$k.elf" -display none -stats \
        </dev/null 2>"$tmp/full-$k.err" | tr -d '\r' > "$tmp/full-$k.bt"
    n=$(awk '$1 == "bt" && $2 == "flushes" { print $3 }' "$tmp/full-$k.err")
    if [ "${n:-0}" -ge 3 ] && [ -s "$tmp/full-$k.emu" ] && cmp -s "$tmp/full-$k.emu" "$tmp/full-$k.bt"; then
        echo "PASS bt-tc-full-$k"
    else
        fail "bt-tc-full-$k: ${n:-no} flushes; $(first_difference "$tmp/full-$k.bt" "$tmp/full-$k.emu")"
    fi
done
exit $failed
