#!/bin/sh
# bench/run.sh - the cross-engine benchmark report (`make bench`).
#
# For each engine it can find - trapeze's engines, qemu-system-i386 (TCG)
# and Bochs - it measures:
#   compute  the wall time of guests/compute (499,986,253 instructions, see
#            guests/compute_loop.inc), best of BENCH_RUNS (3) runs, and the
#            emulated MIPS: instructions / best time ("MIPS"), and
#            instructions / (best time - start-up) ("net MIPS", the loop alone)
#   exit0    start-up + shut-down: the wall time of guests/exit0, median of
#            BENCH_STARTS (5) runs
# then ratios of trapeze's figures to the other engines' from this same run.
# A run that times out, exits with the wrong status or prints the wrong
# checksum makes its engine's row say "failed (...)"; the report goes on.
#
# Environment: BUILD (build), BENCH_ENGINES (trapeze engines: "emu"),
# BENCH_RUNS (3), BENCH_STARTS (5), BENCH_TIMEOUT (seconds a run, 300).
BUILD=${BUILD:-build}
ENGINES=${BENCH_ENGINES:-emu}
RUNS=${BENCH_RUNS:-3}
STARTS=${BENCH_STARTS:-5}
LIMIT=${BENCH_TIMEOUT:-300}
G=$BUILD/guests
HERE=$(dirname "$0")
INSNS=499986253                 # guests/compute_loop.inc, checked with valgrind
CHECKSUM="compute: checksum 2c8159ab"
QEMU_EXIT="-device isa-debug-exit,iobase=0xf4,iosize=0x04"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# timed CMD...: run CMD under timeout with no input; leaves its stdout in
# $tmp/out, stderr in $tmp/err, its status in $rc and the seconds in $secs.
timed() {
    t0=$(date +%s.%N)
    timeout "$LIMIT" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    t1=$(date +%s.%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
}

# Why the last run failed, in a few words; empty when it did not.
# $1 = the status a good run ends with, $2 = what its output must contain.
verdict() {
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "timed out after ${LIMIT}s"
    elif [ -n "$1" ] && [ "$rc" -ne "$1" ]; then
        why=$(grep -v '^[[:space:]]*$' "$tmp/err" | head -n 1 | cut -c 1-70)
        echo "exit status $rc${why:+: $why}"
    elif [ -n "$2" ] && ! cat "$tmp/out" "$tmp/err" | tr -d '\r' | grep -q "$2"; then
        echo "no \"$2\" in its output"
    fi
}

# measure NAME COMPUTE-STATUS EXIT0-STATUS EXIT0-TEXT COMPUTE-CMD -- EXIT0-CMD
# (a status "" = any; EXIT0-TEXT: what exit0's output must hold, "" = nothing).  Appends "NAME ok compute-best exit0-median" or
# "NAME failed why" to $tmp/results.
measure() {
    name=$1 cstatus=$2 estatus=$3 etext=$4
    shift 4
    ccmd="" ecmd="" side=c
    for a in "$@"; do
        if [ "$a" = "--" ]; then side=e; continue; fi
        if [ $side = c ]; then ccmd="$ccmd '$a'"; else ecmd="$ecmd '$a'"; fi
    done
    printf '  %-12s' "$name" >&2
    : > "$tmp/c.times"
    i=0
    while [ $i -lt "$RUNS" ]; do
        eval timed "$ccmd"
        why=$(verdict "$cstatus" "$CHECKSUM")
        if [ -n "$why" ]; then
            echo " failed" >&2
            echo "$name failed $why" >> "$tmp/results"
            return
        fi
        echo "$secs" >> "$tmp/c.times"
        printf ' %.2fs' "$secs" >&2
        i=$((i + 1))
    done
    : > "$tmp/e.times"
    i=0
    while [ $i -lt "$STARTS" ]; do
        eval timed "$ecmd"
        why=$(verdict "$estatus" "$etext")
        if [ -n "$why" ]; then
            echo " failed" >&2
            echo "$name failed exit0: $why" >> "$tmp/results"
            return
        fi
        echo "$secs" >> "$tmp/e.times"
        i=$((i + 1))
    done
    echo " done" >&2
    best=$(sort -n "$tmp/c.times" | head -n 1)
    median=$(sort -n "$tmp/e.times" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    echo "$name ok $best $median" >> "$tmp/results"
}

if [ ! -e "$G/compute.elf" ] || [ ! -e "$G/exit0.elf" ]; then
    echo "bench: no guests in $G: run make guests first" >&2
    exit 2
fi
: > "$tmp/results"
echo "measuring (compute: best of $RUNS, exit0: median of $STARTS):" >&2

for e in $ENGINES; do
    if [ ! -x "$BUILD/trapeze" ]; then
        echo "trapeze-$e failed $BUILD/trapeze is not built" >> "$tmp/results"
        continue
    fi
    measure "trapeze-$e" 33 33 "" \
        "$BUILD/trapeze" -engine "$e" -kernel "$G/compute.elf" -nographic -- \
        "$BUILD/trapeze" -engine "$e" -kernel "$G/exit0.elf" -nographic
done

if command -v qemu-system-i386 >/dev/null 2>&1; then
    measure qemu-tcg 33 33 "" \
        qemu-system-i386 -accel tcg -display none -serial stdio -monitor none \
            $QEMU_EXIT -kernel "$G/compute.elf" -- \
        qemu-system-i386 -accel tcg -display none -serial stdio -monitor none \
            $QEMU_EXIT -kernel "$G/exit0.elf"
else
    echo "qemu-tcg skipped qemu-system-i386 is not installed" >> "$tmp/results"
fi

# Bochs boots the floppies (it has no -kernel), prints on port 0xE9 and
# ends on "Shutdown" to port 0x8900, with exit status 1.  bochs.rc answers
# the built-in debugger's first prompt with "continue".
if command -v bochs >/dev/null 2>&1 && [ -e "$G/compute.img" ]; then
    BOCHS="bochs -q -rc $HERE/bochs.rc -f $HERE/bochsrc"
    measure bochs "" "" "Shutdown" \
        $BOCHS "floppya: 1_44=$G/compute.img, status=inserted" -- \
        $BOCHS "floppya: 1_44=$G/exit0.img, status=inserted"
else
    echo "bochs skipped bochs (or $G/compute.img) is missing" >> "$tmp/results"
fi

# ---- the report
awk -v insns="$INSNS" -v runs="$RUNS" -v starts="$STARTS" '
function mips(t) { return insns / t / 1e6 }
{
    name[NR] = $1; state[NR] = $2
    if ($2 == "ok") { comp[$1] = $3; start[$1] = $4; ok[$1] = 1 }
    else { why = $0; sub(/^[^ ]+ [^ ]+ /, "", why); reason[NR] = why }
}
END {
    printf "\ntrapeze benchmark: compute = %d instructions (best of %d runs), ", insns, runs
    printf "exit0 = start-up + shut-down (median of %d)\n\n", starts
    printf "%-12s %10s %9s %9s %9s\n", "engine", "compute s", "MIPS", "net MIPS", "exit0 s"
    for (i = 1; i <= NR; i++) {
        n = name[i]
        if (state[i] != "ok") { printf "%-12s %s (%s)\n", n ":", state[i], reason[i]; continue }
        net = comp[n] - start[n]
        printf "%-12s %10.3f %9.1f %9s %9.3f\n", n, comp[n], mips(comp[n]),
            (net > 0 ? sprintf("%.1f", mips(net)) : "-"), start[n]
    }
    printf "\nratios against the baselines measured in this run:\n"
    shown = 0
    for (i = 1; i <= NR; i++) {
        t = name[i]
        if (t !~ /^trapeze-/) continue
        for (j = 1; j <= NR; j++) {
            b = name[j]
            if (b ~ /^trapeze-/) continue
            if (!ok[t] || !ok[b]) {
                printf "  %s / %s: n/a (%s)\n", t, b, ok[t] ? b " did not run" : t " did not run"
                shown++; continue
            }
            printf "  %s / %s: MIPS x%.3f, start-up x%.2f\n", t, b,
                comp[b] / comp[t], start[t] / start[b]
            shown++
        }
    }
    if (!shown) printf "  none: no trapeze engine was measured\n"
    printf "\n(MIPS = instructions / best wall time; net MIPS leaves the exit0 time out;\n"
    printf " a MIPS ratio above 1 means trapeze is faster, a start-up ratio above 1 slower)\n"
}' "$tmp/results"
