#!/bin/sh
# tests/guests/tae_guests.sh - the guests written for the trap-and-emulate
# engine (guests/fidelity.asm, hostile.asm, nanobench.asm), under -engine
# emu with QEMU as the oracle now, and under -engine tae once this build
# has it (until then those cases SKIP, saying why).
#
#   fidelity-*   every class line says ok, the count line says 0 and the
#                exit status is EXIT_PASS + 0 = 33; the output equals QEMU's
#   hostile-*    "hostile: done, data intact", status 33, the selector
#                fault counts the SDM gives, and the output equals QEMU's
#   nanobench-NAME  each benchmark with a small N prints its done line, 33
#   tae-*        fidelity under tae: well-formed lines, N > 0 classes differ,
#                the status says N, -stats has a fidelity section; with
#                -cpu ...,virtualizable=on (when -cpu help lists it) none
#                differ; hostile under tae keeps its data intact
#
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"
require_files tae-guests "$TRAPEZE" "$G/exit0.elf" "$G/fidelity.elf" "$G/hostile.elf" "$G/nanobench.elf"

# The classes guests/fidelity.asm reports, in its order.
CLASSES="sgdt|sidt|sldt|str|smsw|pushf after cli:|popf IF 0->1:|popf IOPL 0->3:|mov from cs:|push cs:|mov from ss:|push ss:|lar cs:|lsl ds:|verr/verw ds:|retf same ring:|iret same ring:|user sgdt|user smsw|user pushf:"
NCLASSES=20

# fidelity_lines NAME: $tmp/got is a fidelity run: one line per class, each
# "fidelity: CLASS FIELD VALUE ... ok|DIFFERS", then "fidelity: N
# differences" with N the DIFFERS lines and the exit status 33 + 2N.  Sets
# $differs to N (none when it does not hold); PASS NAME or FAIL NAME: why.
fidelity_lines() {
    bad=$(awk -v classes="$CLASSES" -v want="$NCLASSES" '
        BEGIN { n = split(classes, c, "|") }
        /^fidelity: [0-9]+ differences$/ { total = $2; next }
        {
            if (++lines > n) { print "extra line: " $0; exit }
            prefix = "fidelity: " c[lines] " "
            if (index($0, prefix) != 1) { print "line " lines " is not class \"" c[lines] "\": " $0; exit }
            if ($NF == "DIFFERS") d++
            else if ($NF != "ok") { print "line " lines " ends in neither ok nor DIFFERS: " $0; exit }
        }
        END {
            if (lines != want) { print lines + 0 " class lines, want " want; exit }
            if (total == "") { print "no \"fidelity: N differences\" line"; exit }
            if (total != d + 0) { print "the count line says " total ", " d + 0 " lines say DIFFERS"; exit }
        }' "$tmp/got")
    if [ -n "$bad" ]; then fail "$1: $bad"; differs=none; return; fi
    differs=$(grep -c ' DIFFERS$' "$tmp/got")
    if [ "$rc" -ne $((PASS_STATUS + 2 * differs)) ]; then
        fail "$1: exit status $rc, want $((PASS_STATUS + 2 * differs)) for $differs differences"
        differs=none
    else
        echo "PASS $1"
    fi
}

# ---- (a) fidelity under emu: every class as the SDM says, and as QEMU does
run_trapeze 20 -kernel "$G/fidelity.elf" -nographic
fidelity_lines fidelity-lines
if [ "$differs" = 0 ]; then
    echo "PASS fidelity-emu-all-ok"
elif [ "$differs" != none ]; then
    fail "fidelity-emu-all-ok: $(grep -m 1 ' DIFFERS$' "$tmp/got")"
fi
cp "$tmp/got" "$tmp/want"
matches_qemu fidelity-matches-qemu -kernel "$G/fidelity.elf"

# ---- (b) hostile under emu
run_trapeze 60 -kernel "$G/hostile.elf" -nographic
if grep -qx "hostile: done, data intact" "$tmp/got" && [ "$rc" -eq $PASS_STATUS ]; then
    echo "PASS hostile-emu-intact"
else
    fail "hostile-emu-intact: status $rc, last line '$(tail -n 1 "$tmp/got")'"
fi
# The loads of 0..FFFFh into DS and into FS (SDM Vol. 2B MOV, "Protected
# Mode Exceptions"): the 4 null selectors, 08h and 10h (DPL 0) with RPL 0
# only, 18h-1Bh and 20h-23h (DPL 3) load; the DPL 3 not-present 28h-2Bh
# are #NP; every other one (past the GDT's limit, TI = 1 with a null LDTR,
# or RPL > DPL) is #GP: 65536 - 14 - 4 = 65518.
for r in ds fs; do
    if grep -qx "hostile: selectors 0000-ffff into $r: 65518 #GP, 4 #NP" "$tmp/got"; then
        echo "PASS hostile-selectors-$r"
    else
        fail "hostile-selectors-$r: '$(grep "into $r" "$tmp/got")', want 65518 #GP, 4 #NP"
    fi
done
cp "$tmp/got" "$tmp/want"
matches_qemu hostile-matches-qemu -kernel "$G/hostile.elf"

# ---- (c) each nanobenchmark, a few operations
for b in null syscall in cli pushf pgfault divzero ptemod cr3 forkwait eoi callret compute; do
    run_trapeze 20 -kernel "$G/nanobench.elf" -append "bench=$b iters=20" -nographic
    if [ "$rc" -eq $PASS_STATUS ] && grep -qx "nanobench: $b 20 done" "$tmp/got"; then
        echo "PASS nanobench-$b"
    else
        fail "nanobench-$b: status $rc, output '$(head -n 1 "$tmp/got")'"
    fi
done
run_trapeze 20 -kernel "$G/nanobench.elf" -append "bench=nosuch" -nographic
if [ "$rc" -eq 35 ] && grep -q "^nanobench: FAIL the command line" "$tmp/got"; then
    echo "PASS nanobench-unknown-name"
else
    fail "nanobench-unknown-name: status $rc, want 35 and the usage line"
fi

# ---- (d) under -engine tae, once it is there
TAE_CASES="tae-fidelity-lines tae-fidelity-differs tae-fidelity-stats tae-fidelity-virtualizable tae-hostile-intact"
# Available means it runs guests/exit0 to its pass status (33).
timeout 20 "$TRAPEZE" -engine tae -kernel "$G/exit0.elf" -nographic </dev/null >/dev/null 2>&1
if [ $? -ne $PASS_STATUS ]; then
    for n in $TAE_CASES; do echo "SKIP $n: -engine tae does not run guests/exit0 in this build"; done
    exit $failed
fi
run_trapeze 20 -engine tae -kernel "$G/fidelity.elf" -nographic -stats
fidelity_lines tae-fidelity-lines
if [ "$differs" != none ]; then
    if [ "$differs" -gt 0 ]; then
        echo "PASS tae-fidelity-differs"
    else
        fail "tae-fidelity-differs: every class ok under a ring-deprivileging VMM"
    fi
fi
# -stats goes to stderr; the tae engine names a section for the classes.
if grep -qi "fidelity" "$tmp/err"; then
    echo "PASS tae-fidelity-stats"
else
    fail "tae-fidelity-stats: no 'fidelity' in -engine tae -stats output"
fi
# The switch that makes the CPU virtualizable (the lead's; the model name
# is the one the plan gives): only when -cpu help mentions it.
if ! timeout 10 "$TRAPEZE" -cpu help 2>&1 | grep -q virtualizable; then
    echo "SKIP tae-fidelity-virtualizable: -cpu help does not list virtualizable"
else
    run_trapeze 20 -engine tae -cpu pentium,virtualizable=on -kernel "$G/fidelity.elf" -nographic
    fidelity_lines tae-fidelity-virtualizable
    if [ "$differs" = 0 ]; then
        echo "PASS tae-fidelity-virtualizable"
    elif [ "$differs" != none ]; then
        fail "tae-fidelity-virtualizable: $(grep -m 1 ' DIFFERS$' "$tmp/got")"
    fi
fi
run_trapeze 60 -engine tae -kernel "$G/hostile.elf" -nographic
if grep -qx "hostile: done, data intact" "$tmp/got"; then
    echo "PASS tae-hostile-intact"
else
    fail "tae-hostile-intact: status $rc, last line '$(tail -n 1 "$tmp/got")'"
fi
exit $failed
