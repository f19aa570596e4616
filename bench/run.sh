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
#   paging   guests/pagebench: ns per page fault and per TLB miss (wall
#            time less exit0, over the guest-counted operations), best of
#            BENCH_RUNS; trapeze and QEMU only (see the section at the end)
#   I/O exit guests/ioloop: 1,000,000 OUTs to port 0x80; (best wall time -
#            exit0 median) / 1e6 is the round trip of one port write from the
#            guest to the device model and back, in us (under kvm: one
#            KVM_EXIT_IO each); trapeze and QEMU only
#   interrupts guests/timerbench: a compute loop under a 1 kHz PIT for 2000
#            IRQ0 ticks: wall time, interrupts per second, instruction rate;
#            trapeze and QEMU only
#   nanobench guests/nanobench: ns per guest operation (system call, page
#            fault, CLI, MOV CR3, ...), median wall time less the null run,
#            and per-op VMM entries from one more run with -stats (tae's
#            traps and hidden faults; bt's traps, callouts, chain exits and
#            in-TC sequences; emu's exceptions); trapeze and QEMU only
# then ratios of trapeze's figures to the other engines' from this same run.
# A run that times out, exits with the wrong status or prints the wrong
# checksum makes its engine's row say "failed (...)"; the report goes on.
#
# Environment: BUILD (build), BENCH_ENGINES (trapeze engines: "emu", with
# kvm and tae added when they work here), BENCH_SECTION (nanobench: that
# section alone, `make bench-nano`),
# BENCH_RUNS (3), BENCH_STARTS (5), BENCH_TIMEOUT (seconds a run, 300).
# No instruction cap: the runs are timed whole (tests/run.sh sets one).
unset TRAPEZE_MAX_INSNS
BUILD=${BUILD:-build}
ENGINES=${BENCH_ENGINES:-emu}
# kvm joins the default engines where this host has a usable /dev/kvm.
if [ -z "$BENCH_ENGINES" ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    ENGINES="$ENGINES kvm"
fi
# tae and bt join them once this build's -engine tae (bt) runs guests/exit0
# to its pass status, 33.
for vmm in tae bt; do
    if [ -z "$BENCH_ENGINES" ] && [ -x "$BUILD/trapeze" ] && [ -e "$BUILD/guests/exit0.elf" ]; then
        timeout 30 "$BUILD/trapeze" -engine $vmm -kernel "$BUILD/guests/exit0.elf" -nographic \
            </dev/null >/dev/null 2>&1
        [ $? -eq 33 ] && ENGINES="$ENGINES $vmm"
    fi
done
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

# BENCH_SECTION=nanobench (make bench-nano): only the last section.
if [ "${BENCH_SECTION:-all}" != nanobench ]; then
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

# ---- paging: guests/pagebench, its loop picked by the last word of the
# command line.  fault: PF_OPS page faults, each handled by mapping the page
# (then unmapped + INVLPG); tlb: TLB_OPS reads, each of a page whose
# translation a MOV CR3 just dropped.  Figure: (best wall time - that
# engine's exit0 median) / operations, in ns.  Bochs has no -kernel: not run.
PF_OPS=1000000                  # guests/pagebench.asm PF_COUNT
TLB_OPS=10240000                # TLB_ROUNDS * TLB_PAGES
: > "$tmp/paging"
# paging_measure NAME CMD...: appends "NAME ok fault-best tlb-best exit0"
# or "NAME failed why" to $tmp/paging (CMD gets "-append MODE" added).
paging_measure() {
    name=$1
    shift
    start=$(awk -v n="$name" '$1 == n && $2 == "ok" { print $4 }' "$tmp/results")
    [ -n "$start" ] || { echo "$name failed no exit0 figure" >> "$tmp/paging"; return; }
    line="$name ok"
    for mode in fault tlb; do
        want="pagebench: $PF_OPS page faults"
        [ $mode = tlb ] && want="pagebench: $TLB_OPS tlb misses"
        : > "$tmp/p.times"
        i=0
        while [ $i -lt "$RUNS" ]; do
            timed "$@" -append "$mode"
            why=$(verdict 33 "$want")
            if [ -n "$why" ]; then
                echo "$name failed $mode: $why" >> "$tmp/paging"
                return
            fi
            echo "$secs" >> "$tmp/p.times"
            i=$((i + 1))
        done
        line="$line $(sort -n "$tmp/p.times" | head -n 1)"
    done
    echo "$line $start" >> "$tmp/paging"
}
if [ -e "$G/pagebench.elf" ]; then
    echo "measuring paging (guests/pagebench, best of $RUNS):" >&2
    for e in $ENGINES; do
        [ -x "$BUILD/trapeze" ] && paging_measure "trapeze-$e" \
            "$BUILD/trapeze" -engine "$e" -kernel "$G/pagebench.elf" -nographic
    done
    command -v qemu-system-i386 >/dev/null 2>&1 && paging_measure qemu-tcg \
        qemu-system-i386 -accel tcg -display none -serial stdio -monitor none \
            $QEMU_EXIT -kernel "$G/pagebench.elf"
    awk -v pf="$PF_OPS" -v tlb="$TLB_OPS" '
    function ns(t, s, n) { return t - s > 0 ? (t - s) * 1e9 / n : 0 }
    {
        name[NR] = $1; state[NR] = $2
        if ($2 == "ok") { f[$1] = ns($3, $5, pf); m[$1] = ns($4, $5, tlb); ok[$1] = 1 }
        else { why = $0; sub(/^[^ ]+ [^ ]+ /, "", why); reason[NR] = why }
    }
    END {
        printf "\npaging: %d page faults, %d TLB misses (guests/pagebench; ", pf, tlb
        printf "wall time less exit0, per operation)\n\n"
        printf "%-12s %12s %14s\n", "engine", "ns/fault", "ns/TLB miss"
        for (i = 1; i <= NR; i++) {
            n = name[i]
            if (state[i] != "ok") { printf "%-12s %s (%s)\n", n ":", state[i], reason[i]; continue }
            printf "%-12s %12.1f %14.1f\n", n, f[n], m[n]
        }
        printf "\npaging ratios (above 1: trapeze is faster):\n"
        shown = 0
        for (i = 1; i <= NR; i++) {
            t = name[i]
            if (t !~ /^trapeze-/ || !ok[t]) continue
            for (j = 1; j <= NR; j++) {
                b = name[j]
                if (b ~ /^trapeze-/ || !ok[b]) continue
                printf "  %s / %s: page fault x%.2f, TLB miss x%.2f\n", t, b,
                    (f[t] > 0 ? f[b] / f[t] : 0), (m[t] > 0 ? m[b] / m[t] : 0)
                shown++
            }
        }
        if (!shown) printf "  none: needs a trapeze engine and QEMU measured\n"
    }' "$tmp/paging"
else
    echo "paging: skipped ($G/pagebench.elf is missing: make guests)"
fi

# ---- I/O exits: guests/ioloop, IO_OPS OUTs to port 0x80.  Figure: (best
# wall time - that engine's exit0 median) / IO_OPS, in us: under kvm the
# round trip of a KVM_EXIT_IO (guest -> KVM -> trapeze's bus -> guest),
# under the software engines the cost of emulating the OUT and its
# dispatch.  Bochs has no -kernel: not run.
IO_OPS=1000000                  # guests/ioloop.asm IOLOOP_COUNT
: > "$tmp/io"
# io_measure NAME CMD...: appends "NAME ok best exit0" or "NAME failed why".
io_measure() {
    name=$1
    shift
    start=$(awk -v n="$name" '$1 == n && $2 == "ok" { print $4 }' "$tmp/results")
    [ -n "$start" ] || { echo "$name failed no exit0 figure" >> "$tmp/io"; return; }
    : > "$tmp/io.times"
    i=0
    while [ $i -lt "$RUNS" ]; do
        timed "$@"
        why=$(verdict 33 "")
        if [ -n "$why" ]; then
            echo "$name failed $why" >> "$tmp/io"
            return
        fi
        echo "$secs" >> "$tmp/io.times"
        i=$((i + 1))
    done
    echo "$name ok $(sort -n "$tmp/io.times" | head -n 1) $start" >> "$tmp/io"
}
if [ -e "$G/ioloop.elf" ]; then
    echo "measuring I/O exits (guests/ioloop, best of $RUNS):" >&2
    for e in $ENGINES; do
        [ -x "$BUILD/trapeze" ] && io_measure "trapeze-$e" \
            "$BUILD/trapeze" -engine "$e" -kernel "$G/ioloop.elf" -nographic
    done
    command -v qemu-system-i386 >/dev/null 2>&1 && io_measure qemu-tcg \
        qemu-system-i386 -accel tcg -display none -serial stdio -monitor none \
            $QEMU_EXIT -kernel "$G/ioloop.elf"
    awk -v n_ops="$IO_OPS" '
    {
        name[NR] = $1; state[NR] = $2
        if ($2 == "ok") us[$1] = ($3 - $4) > 0 ? ($3 - $4) * 1e6 / n_ops : -1
        else { why = $0; sub(/^[^ ]+ [^ ]+ /, "", why); reason[NR] = why }
    }
    END {
        printf "\nI/O exits: %d OUTs to port 0x80 (guests/ioloop; wall time less exit0, per OUT)\n\n", n_ops
        printf "%-12s %14s\n", "engine", "us/round trip"
        for (i = 1; i <= NR; i++) {
            n = name[i]
            if (state[i] != "ok") { printf "%-12s %s (%s)\n", n ":", state[i], reason[i]; continue }
            if (us[n] < 0) printf "%-12s %14s  (the loop took less than start-up varies)\n", n, "-"
            else printf "%-12s %14.3f\n", n, us[n]
        }
        printf "\n(under kvm each OUT is a KVM_EXIT_IO served by trapeze in user space;\n"
        printf " -engine kvm -stats splits it into time in KVM_RUN and time handling the exit)\n"
    }' "$tmp/io"
else
    echo "I/O exits: skipped ($G/ioloop.elf is missing: make guests)"
fi

# ---- interrupts: guests/timerbench, a compute loop of 7-instruction
# iterations while PIT counter 0 interrupts at 1 kHz, for TIMER_TICKS IRQ0
# ticks (2 s of guest time: the wall time is about 2 s for every engine
# that keeps up).  Figures: wall time (best of RUNS), interrupts per wall
# second, and the instruction rate: (7 x iterations + 6 x ticks) / wall.
# Bochs has no -kernel: not run.
TIMER_TICKS=2000                # guests/timerbench.asm TICKS
: > "$tmp/irq"
# irq_measure NAME CMD...: appends "NAME ok best iterations" or "NAME failed why".
irq_measure() {
    name=$1
    shift
    : > "$tmp/irq.times"
    i=0
    while [ $i -lt "$RUNS" ]; do
        timed "$@"
        why=$(verdict 33 "timerbench: $TIMER_TICKS ticks")
        if [ -n "$why" ]; then
            echo "$name failed $why" >> "$tmp/irq"
            return
        fi
        iters=$(tr -d '\r' < "$tmp/out" | sed -n 's/.* ticks, \([0-9]*\) loop iterations.*/\1/p')
        echo "$secs $iters" >> "$tmp/irq.times"
        i=$((i + 1))
    done
    echo "$name ok $(sort -n "$tmp/irq.times" | head -n 1)" >> "$tmp/irq"
}
if [ -e "$G/timerbench.elf" ]; then
    echo "measuring interrupts (guests/timerbench, best of $RUNS):" >&2
    for e in $ENGINES; do
        [ -x "$BUILD/trapeze" ] && irq_measure "trapeze-$e" \
            "$BUILD/trapeze" -engine "$e" -kernel "$G/timerbench.elf" -nographic
    done
    command -v qemu-system-i386 >/dev/null 2>&1 && irq_measure qemu-tcg \
        qemu-system-i386 -accel tcg -display none -serial stdio -monitor none \
            $QEMU_EXIT -kernel "$G/timerbench.elf"
    awk -v ticks="$TIMER_TICKS" '
    {
        name[NR] = $1; state[NR] = $2
        if ($2 == "ok") { t[$1] = $3; it[$1] = $4 }
        else { why = $0; sub(/^[^ ]+ [^ ]+ /, "", why); reason[NR] = why }
    }
    END {
        printf "\ninterrupts: %d IRQ0 ticks at 1 kHz under a compute loop (guests/timerbench)\n\n", ticks
        printf "%-12s %10s %12s %9s\n", "engine", "wall s", "IRQs/s", "MIPS"
        for (i = 1; i <= NR; i++) {
            n = name[i]
            if (state[i] != "ok") { printf "%-12s %s (%s)\n", n ":", state[i], reason[i]; continue }
            printf "%-12s %10.3f %12.1f %9.1f\n", n, t[n], ticks / t[n],
                (7 * it[n] + 6 * ticks) / t[n] / 1e6
        }
        printf "\n(the guest runs for 2 s of virtual time: MIPS is how much work an engine\n"
        printf " fits between the ticks; IRQs/s below 1000 means it fell behind real time)\n"
    }' "$tmp/irq"
else
    echo "interrupts: skipped ($G/timerbench.elf is missing: make guests)"
fi

# ---- kvm on this host: what KVM really runs, and the fallback's share.
# guests/ioloop_bios.rom stays in real mode, which every KVM host runs
# (kvm-pvm through its instruction emulator), so each of its 100,000 OUTs
# is one KVM_EXIT_IO: best wall time per OUT under kvm and emu, in the same
# run, and -stats' split of the kvm figure into KVM_RUN and user space.
# Then the fallback share -stats reports for the protected-mode guests
# (on kvm-pvm the software CPU runs them: their kvm figures above are emu's).
if echo " $ENGINES " | grep -q " kvm " && [ -e "$G/ioloop_bios.rom" ]; then
    echo "measuring kvm on this host (guests/ioloop_bios.rom, best of $RUNS):" >&2
    host=unknown
    [ -d /sys/module/kvm_intel ] && host="VT-x (kvm-intel)"
    [ -d /sys/module/kvm_amd ] && host="AMD-V (kvm-amd)"
    [ -d /sys/module/kvm_pvm ] && host=kvm-pvm
    printf "\nkvm on this host (%s): 100,000 OUTs in real mode (guests/ioloop_bios.rom)\n\n" "$host"
    printf "%-12s %14s  %s\n" "engine" "us/OUT" "(best wall time / 100,000)"
    for e in emu kvm; do
        best=""
        i=0
        while [ $i -lt "$RUNS" ]; do
            timed "$BUILD/trapeze" -engine $e -bios "$G/ioloop_bios.rom" -nographic -stats
            [ -z "$(verdict 33 "")" ] || { best=failed; break; }
            best=$(printf '%s\n%s\n' "${best:-$secs}" "$secs" | sort -n | head -n 1)
            [ $e = kvm ] && cp "$tmp/err" "$tmp/kvm.stats"
            i=$((i + 1))
        done
        if [ "$best" = failed ]; then printf "%-12s %14s\n" "trapeze-$e" failed
        else awk -v n="trapeze-$e" -v t="$best" 'BEGIN { printf "%-12s %14.3f\n", n, t * 1e6 / 100000 }'
        fi
        [ $e = emu ] && emu_best=$best
        [ $e = kvm ] && kvm_best=$best
    done
    if [ -e "$tmp/kvm.stats" ]; then
        awk '/^  time in KVM_RUN/ { run = $4 } /^    KVM_EXIT_IO / { n = $2; user = $3 }
             END { if (n) printf "kvm -stats: %.3f us in KVM_RUN and %.3f us in trapeze per KVM_EXIT_IO (%d exits)\n", run * 1000 / n, user * 1000 / n, n }' "$tmp/kvm.stats"
    fi
    case "$emu_best$kvm_best" in *failed*|"") ;;
    *) awk -v a="$kvm_best" -v b="$emu_best" 'BEGIN { if (b > 0) printf "ratio: one real-mode OUT costs x%.1f under kvm against emu (same run)\n", a / b }' ;;
    esac
    printf "\nfallback share under kvm (-stats):\n"
    for g in compute ioloop timer; do
        [ -e "$G/$g.elf" ] || continue
        timeout "$LIMIT" "$BUILD/trapeze" -engine kvm -kernel "$G/$g.elf" -nographic -stats </dev/null >/dev/null 2>"$tmp/fb"
        share=$(grep -m 1 '^    share ' "$tmp/fb" | sed 's/^ *share *//')
        printf "  %-10s %s\n" "$g" "${share:-no fallback: KVM ran every instruction}"
    done
else
    echo "kvm on this host: skipped (no usable /dev/kvm, or $G/ioloop_bios.rom missing)"
fi

# ---- idle: guests/timer halts between 100 IRQ0 ticks at 1 kHz (100 ms of
# virtual time); the host CPU time (user + system) it costs shows whether a
# halted guest sleeps (vclock_idle) or spins.  trapeze only; median of STARTS.
if [ -e "$G/timer.elf" ] && [ -x "$BUILD/trapeze" ] && [ -x /usr/bin/time ]; then
    echo "measuring idle cost (guests/timer, median of $STARTS):" >&2
    : > "$tmp/idle"
    i=0
    while [ $i -lt "$STARTS" ]; do
        /usr/bin/time -f "%e %U %S" -o "$tmp/idle.one" timeout "$LIMIT" \
            "$BUILD/trapeze" -kernel "$G/timer.elf" -nographic </dev/null >/dev/null 2>&1
        tail -n 1 "$tmp/idle.one" >> "$tmp/idle"   # GNU time first says "Command exited with ... 33"
        i=$((i + 1))
    done
    sort -k2,2n "$tmp/idle" | awk -v n="$STARTS" 'NR == int((n + 1) / 2) {
        printf "\nidle: guests/timer, 100 ms of halted guest at 1 kHz: wall %.3f s, host CPU %.0f ms (%.0f%% of the wall time)\n",
            $1, ($2 + $3) * 1000, ($1 > 0 ? ($2 + $3) / $1 * 100 : 0) }'
else
    echo "idle: skipped (needs $G/timer.elf, $BUILD/trapeze and /usr/bin/time)"
fi
fi   # BENCH_SECTION

# ---- nanobench: guests/nanobench, one guest operation repeated N times
# (Adams & Agesen, ASPLOS 2006).  For each benchmark: median wall time of
# BENCH_RUNS runs with iters=N and of "null" (the same set-up, no loop);
# ns/op = (median(N) - median(null)) / N.  These timed runs are bare (no
# -stats).  Trapeze engines run once more with -stats, and once with null,
# for per-op counts, (count(N) - count(null)) / N: the VMM's lines, under
# tae and bt ("  tae traps  N", "  tae hidden faults  N") and under bt only
# ("  bt callouts  N", "  bt chain exits  N", "  bt in-TC runs  N"), 0 when
# a line is missing; emu's exceptions ("  exception V  N  (name)", summed).
# N is picked so that one run takes 0.1-0.5 s under -engine emu.  Bochs has
# no -kernel.
NANO=${BENCH_NANO:-"syscall:500000 in:2000000 cli:2000000 pushf:2000000 pgfault:500000
divzero:500000 ptemod:2000000 cr3:300000 forkwait:500 eoi:1000000
callret:150000 compute:500000"}
# The -stats labels nano_measure reads, in the order of its count fields.
NANO_LABELS="tae traps|tae hidden faults|exception|bt callouts|bt chain exits|bt in-TC runs"
# nano_median FILE: the median of the numbers in FILE.
nano_median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# nano_stat FILE LABEL: the number after LABEL (anchored, then spaces) in a
# -stats output; 0 without that line (a longer label that starts with LABEL,
# "bt callouts port", is not LABEL's line).  LABEL "exception": every
# exception line's count, summed.
nano_stat() {
    tr -d '\r' < "$1" | awk -v l="$2" '
        l == "exception" && $1 == "exception" { n += $3; next }
        l != "exception" && index($0, "  " l " ") == 1 {
            rest = substr($0, length(l) + 3)
            if (rest ~ /^ +[0-9]+( |$)/) { sub(/^ +/, "", rest); split(rest, w, " "); n += w[1] } }
        END { print n + 0 }'
}
# nano_counts FILE NULL-FILE N: the count fields of a result line, per op:
# " traps hidden exceptions callouts chain-exits in-TC entries" (entries =
# traps + callouts + chain exits), each (FILE's count - NULL-FILE's) / N.
nano_counts() {
    deltas=""
    oifs=$IFS; IFS='|'
    for l in $NANO_LABELS; do
        IFS=$oifs
        deltas="$deltas $(( $(nano_stat "$1" "$l") - $(nano_stat "$2" "$l") ))"
    done
    IFS=$oifs
    echo $deltas | awk -v n="$3" '
        function per(c) { c /= n; return sprintf(" %.2f", (c < 0.005 && c > -0.005) ? 0 : c) }
        { printf "%s%s%s%s%s%s%s\n", per($1), per($2), per($3), per($4), per($5), per($6), per($1 + $4 + $5) }'
}
# nano_time NAME BENCH N CMD...: the median wall time of RUNS runs of CMD
# with the command line "bench=BENCH iters=N" in $nano_secs, or "failed why".
nano_time() {
    name=$1 b=$2 n=$3
    shift 3
    : > "$tmp/n.times"
    i=0
    while [ $i -lt "$RUNS" ]; do
        timed "$@" -append "bench=$b iters=$n"
        why=$(verdict 33 "nanobench: $b $n done")
        if [ -n "$why" ]; then nano_secs="failed $why"; return; fi
        echo "$secs" >> "$tmp/n.times"
        i=$((i + 1))
    done
    nano_secs=$(nano_median "$tmp/n.times")
}
# nano_measure NAME STATS CMD...: appends to $tmp/nano one line per
# benchmark, "NAME BENCH ok ns traps hidden exceptions callouts chain-exits
# in-TC entries" (per op, see nano_counts) or "NAME BENCH failed why"
# (STATS = 1: the counts from -stats, else "-"; "-" too where a -stats run
# did not end with the pass status).
nano_measure() {
    name=$1 stats=$2
    shift 2
    nano_time "$name" null 1 "$@"
    case $nano_secs in failed*) echo "$name all $nano_secs" >> "$tmp/nano"; echo " failed" >&2; return ;; esac
    base=$nano_secs
    null_rc=0
    if [ "$stats" = 1 ]; then
        timeout "$LIMIT" "$@" -append "bench=null iters=1" -stats </dev/null >/dev/null 2>"$tmp/null.stats"
        null_rc=$?
    fi
    for pair in $NANO; do
        b=${pair%%:*} n=${pair#*:}
        printf ' %s' "$b" >&2
        nano_time "$name" "$b" "$n" "$@"
        case $nano_secs in failed*) echo "$name $b $nano_secs" >> "$tmp/nano"; continue ;; esac
        counts=" - - - - - - -"
        if [ "$stats" = 1 ]; then
            timeout "$LIMIT" "$@" -append "bench=$b iters=$n" -stats </dev/null >/dev/null 2>"$tmp/b.stats"
            [ $? -eq 33 ] && [ $null_rc -eq 33 ] && counts=$(nano_counts "$tmp/b.stats" "$tmp/null.stats" "$n")
        fi
        ns=$(awk -v t="$nano_secs" -v z="$base" -v n="$n" 'BEGIN { printf "%.1f", (t - z) * 1e9 / n }')
        echo "$name $b ok $ns$counts" >> "$tmp/nano"
    done
    echo >&2
}
if [ -e "$G/nanobench.elf" ]; then
    echo "measuring nanobench (guests/nanobench, median of $RUNS):" >&2
    : > "$tmp/nano"
    cols=""
    for e in $ENGINES; do
        [ -x "$BUILD/trapeze" ] || continue
        printf '  trapeze-%s:' "$e" >&2
        nano_measure "trapeze-$e" 1 "$BUILD/trapeze" -engine "$e" -kernel "$G/nanobench.elf" -nographic
        cols="$cols trapeze-$e"
    done
    if command -v qemu-system-i386 >/dev/null 2>&1; then
        printf '  qemu-tcg:' >&2
        nano_measure qemu-tcg 0 qemu-system-i386 -accel tcg -display none -serial stdio \
            -monitor none $QEMU_EXIT -kernel "$G/nanobench.elf"
        cols="$cols qemu-tcg"
    fi
    awk -v cols="$cols" -v runs="$RUNS" -v benches="$(echo $NANO | sed 's/:[0-9]*//g')" '
    {
        key = $1 SUBSEP $2
        if ($3 == "ok") {
            ns[key] = $4; traps[key] = $5; hidden[key] = $6; exc[key] = $7
            callouts[key] = $8; chain[key] = $9; intc[key] = $10; entries[key] = $11
        } else { why = $0; sub(/^[^ ]+ [^ ]+ (failed )?/, "", why); bad[key] = why }
    }
    function cell(e, b) {
        if ((e SUBSEP "all") in bad) return "failed"
        if ((e SUBSEP b) in bad) return "failed"
        return ns[e SUBSEP b]
    }
    # count(a, e, b): engine e'"'"'s figure for bench b in a, "-" without one.
    function count(a, e, b) { return ((e SUBSEP b) in a) ? a[e SUBSEP b] : "-" }
    # ratio(x, y, b): x'"'"'s ns/op over y'"'"'s, "-" unless both are there and y'"'"'s is positive.
    function ratio(x, y, b) {
        if (!((x SUBSEP b) in ns) || !((y SUBSEP b) in ns) || ns[y SUBSEP b] + 0 <= 0) return "-"
        return sprintf("%.2f", ns[x SUBSEP b] / ns[y SUBSEP b])
    }
    # A column of the counts table: its engine (header line 1), its figure
    # (line 2), the engine and the array it shows.
    function col(top, bottom, e, what) { nk++; ktop[nk] = top; kbot[nk] = bottom; keng[nk] = e; kwhat[nk] = what }
    # wrap(s): s in parentheses, folded into lines of at most 78 characters.
    function wrap(s,    nw, w, i, line) {
        gsub(/\. /, "; ", s); sub(/\.$/, "", s); sub(/^ +/, "", s)
        nw = split(s, w, " "); line = "("
        for (i = 1; i <= nw; i++) {
            if (line != "(" && length(line) + 1 + length(w[i]) > 77) { print line; line = "" }
            line = line (line == "(" ? "" : " ") w[i]
        }
        print line ")"
    }
    END {
        nc = split(cols, c, " "); nb = split(benches, bs, " ")
        emu = "trapeze-emu"; tae = "trapeze-tae"; bt = "trapeze-bt"
        for (i = 1; i <= nc; i++) ran[c[i]] = 1

        printf "\nnanobench: ns per operation (guests/nanobench), median of %d:\n", runs
        printf "(median wall(N) - median wall(null)) / N\n\n"
        printf "%-10s", "bench"
        for (i = 1; i <= nc; i++) printf " %12s", substr(c[i], 1, 12)
        if (ran[tae] && ran[emu]) printf " %8s", "tae/emu"
        if (ran[bt] && ran[tae]) printf " %8s", "bt/tae"
        printf "\n"
        for (j = 1; j <= nb; j++) {
            b = bs[j]
            printf "%-10s", b
            for (i = 1; i <= nc; i++) printf " %12s", cell(c[i], b)
            if (ran[tae] && ran[emu]) printf " %8s", ratio(tae, emu, b)
            if (ran[bt] && ran[tae]) printf " %8s", ratio(bt, tae, b)
            printf "\n"
        }
        for (k in bad) { split(k, p, SUBSEP); printf "  %s %s: failed (%s)\n", p[1], p[2], bad[k] }
        note = "one operation per benchmark: guests/nanobench.asm; the timed runs are bare (no -stats)"
        if (ran[tae] && ran[emu]) note = note "; tae/emu: tae'"'"'s ns/op over emu'"'"'s"
        if (ran[bt] && ran[tae]) note = note "; bt/tae: bt'"'"'s ns/op over tae'"'"'s"
        if ((ran[tae] && ran[emu]) || (ran[bt] && ran[tae])) note = note ", above 1: the first engine is slower"
        printf "\n"; wrap(note)

        if (ran[emu]) col("emu", "exc/op", emu, "exc")
        if (ran[tae]) { col("tae", "entries/op", tae, "traps"); col("tae", "hidden/op", tae, "hidden") }
        if (ran[bt]) {
            col("bt", "traps/op", bt, "traps"); col("bt", "callouts/op", bt, "callouts")
            col("bt", "in-TC/op", bt, "intc"); col("bt", "entries/op", bt, "entries")
        }
        if (!nk) exit
        printf "\nnanobench: VMM entries per operation, from one more run with -stats:\n"
        printf "(count(N) - count(null)) / N\n\n"
        for (i = 1; i <= nk; i++) { kw[i] = length(kbot[i]); if (kw[i] < 7) kw[i] = 7 }
        printf "%-10s", ""
        for (i = 1; i <= nk; i++) printf " %" kw[i] "s", ktop[i]
        printf "\n%-10s", "bench"
        for (i = 1; i <= nk; i++) printf " %" kw[i] "s", kbot[i]
        printf "\n"
        for (j = 1; j <= nb; j++) {
            b = bs[j]
            printf "%-10s", b
            for (i = 1; i <= nk; i++) {
                e = keng[i]; w = kwhat[i]
                if (w == "exc") x = count(exc, e, b)
                else if (w == "traps") x = count(traps, e, b)
                else if (w == "hidden") x = count(hidden, e, b)
                else if (w == "callouts") x = count(callouts, e, b)
                else if (w == "intc") x = count(intc, e, b)
                else x = count(entries, e, b)
                printf " %" kw[i] "s", x
            }
            printf "\n"
        }
        note = ""
        if (ran[emu]) note = "emu exc/op: -engine emu'"'"'s \"exception V\" lines summed."
        if (ran[tae] || ran[bt]) {
            x = ran[tae] && ran[bt] ? "tae entries/op and bt traps/op" : ran[tae] ? "tae entries/op" : "bt traps/op"
            note = note " " x ": \"tae traps\", exits of the hardware CPU that took the trap path (exceptions, INT n, trapped instructions)."
        }
        if (ran[tae]) note = note " tae hidden/op: \"tae hidden faults\", page faults of the shadow page tables, part of the traps."
        if (ran[bt]) {
            note = note " bt callouts/op: \"bt callouts\", calls from translated code into the VMM (port I/O, emulated instructions, lookup misses)."
            note = note " bt in-TC/op: \"bt in-TC runs\", CLI/STI/PUSHF/POPF run as a few instructions inside the TC on the VMM'"'"'s data, no VMM entry; counted in the -stats run only."
            note = note " bt entries/op: traps + callouts + \"bt chain exits\" (translator continuations, each run once before it is chained: about 0 per op)."
        }
        printf "\n"; wrap(note)
    }' "$tmp/nano"
else
    echo "nanobench: skipped ($G/nanobench.elf is missing: make guests)"
fi
