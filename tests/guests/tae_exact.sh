#!/bin/sh
# tests/guests/tae_exact.sh - tae emulates exactly where no fidelity break
# is involved: under -icount shift=0 (the clock counts instructions, so a
# run is deterministic) a guest that meets no sensitive instruction whose
# result differs retires exactly as many instructions under tae as under
# emu, the reference engine, and prints the same.  Every emulated
# instruction, reflected event and hidden fault must land the guest where
# its own CPU would have: one instruction too many or too few (a retried
# fault counted, an INT counted twice, a lost interrupt) shows here.
#
# Also: the counters say what the VMM did for one instruction kind (a
# CLI/STI pair traps twice: #GP at ring 1, emulated), and nothing leaks
# into a later emu run of the same machine state (savevm under tae, loadvm
# under emu: tests/guests/tae.sh).
. "$(dirname "$0")/lib.shinc"
require "tae_exact: $TRAPEZE or the guests are not built (make)" "$TRAPEZE" "$G/paging.elf"

instructions() { awk '/^  instructions/ { print $2; exit }' "$tmp/err"; }

# A fixed RTC on the virtual clock: rtc prints the date, which must not
# depend on the second the run started in.
RTC="base=2026-01-01T00:00:00,clock=vm"
for g in hello paging syscall timer rtc smc; do
    run_trapeze 60 -engine emu -icount shift=0 -rtc "$RTC" -nographic -kernel "$G/$g.elf" -stats
    erc=$rc; cp "$tmp/got" "$tmp/want"; en=$(instructions)
    run_trapeze 60 -engine tae -icount shift=0 -rtc "$RTC" -nographic -kernel "$G/$g.elf" -stats
    tn=$(instructions)
    if [ "$rc" != "$erc" ]; then
        fail "tae-exact-$g: exit status $rc under tae, $erc under emu"
    elif [ -z "$en" ] || [ "$en" != "$tn" ]; then
        fail "tae-exact-$g: $tn instructions under tae, $en under emu"
    else
        check_output "tae-exact-$g"
    fi
done

# One trap per CLI and per STI (SDM Vol. 2A CLI/STI: #GP(0) when CPL > IOPL;
# the hardware CPU runs the guest kernel at CPL 1 with IOPL 0).
run_trapeze 60 -engine tae -nographic -kernel "$G/nanobench.elf" -append "bench=cli iters=1000" -stats
cli=$(awk '$1 == "cli" { print $2 }' "$tmp/err")
sti=$(awk '$1 == "sti" { print $2 }' "$tmp/err")
if [ "$rc" = "$PASS_STATUS" ] && [ "${cli:-0}" -ge 1000 ] && [ "${cli:-0}" -le 1010 ] &&
   [ "${sti:-0}" -ge 1000 ] && [ "${sti:-0}" -le 1010 ]; then
    echo "PASS tae-cli-sti-trap-once-each"
else
    fail "tae-cli-sti-trap-once-each: status $rc, cli traps '$cli', sti traps '$sti' for 1000 pairs"
fi

# PUSHF/POPF do not trap (they are sensitive but not privileged: Robin &
# Irvine 2000), and the report names them.
run_trapeze 60 -engine tae -nographic -kernel "$G/nanobench.elf" -append "bench=pushf iters=1000" -stats
# (Traps by instruction are indented four spaces in -stats, the report's kinds two.)
if [ "$rc" = "$PASS_STATUS" ] && ! grep -Eq '^    (popf|pushf) ' "$tmp/err" &&
   grep -q "^  popf .* first: popf at" "$tmp/err"; then
    echo "PASS tae-pushf-popf-run-untrapped"
else
    fail "tae-pushf-popf-run-untrapped: status $rc; -stats: $(grep -E '^    (popf|pushf)|^  popf' "$tmp/err" | tr '\n' ' ')"
fi

# A page fault the guest's tables make is the guest's (true); the fault its
# handler's new mapping then needs in the shadow is hidden: per round one
# of each (guests/nanobench.asm, bench=pgfault).
run_trapeze 60 -engine tae -nographic -kernel "$G/nanobench.elf" -append "bench=pgfault iters=1000" -stats
true_pf=$(awk '/^  tae true faults/ { print $4 }' "$tmp/err")
hidden=$(awk '/^  tae hidden faults/ { print $4 }' "$tmp/err")
if [ "$rc" = "$PASS_STATUS" ] && [ "${true_pf:-0}" -eq 1000 ] && [ "${hidden:-0}" -ge 1000 ] && [ "${hidden:-0}" -le 1100 ]; then
    echo "PASS tae-pgfault-true-and-hidden"
else
    fail "tae-pgfault-true-and-hidden: status $rc, true faults '$true_pf', hidden '$hidden' for 1000 rounds"
fi
exit $failed
