#!/bin/sh
# bench/report.sh - what each virtualization technique costs (`make report`).
#
# Runs guests/nanobench (bench=NAME iters=N) under every trapeze engine this
# host has - emu (the reference: the "native" column), tae, bt, and kvm
# where /dev/kvm is usable - and writes, in REPORT_DIR:
#   REPORT.md   the report: machine, ns per operation, VMM entries per
#               operation, modelled cycles (entries x bench/costs.tsv), the
#               paper's figures (Adams & Agesen, ASPLOS 2006, 6.1), where
#               ours differs, plots, engines that did not run, raw data
#   runs.tsv    every timed run: engine bench iters wall_ns
#   counts.tsv  engine bench count-name per-op, from one -stats run per
#               engine and benchmark, less the null benchmark's counts
#   ns.png entries.png paper.png   gnuplot's plots (bench/plot.gp), when
#               gnuplot is installed
# ns per operation = (median wall(N) - median wall(null)) / N, as
# bench/run.sh's nanobench section; the spread is (min - median(null)) / N
# to (max - median(null)) / N.  The timed runs are interleaved (run 1 of
# every engine and benchmark, then run 2, ...) so that a burst of load on
# a busy machine spreads over all the figures instead of spoiling one.
#
# Environment: BUILD (build), REPORT_DIR ($BUILD/report), REPORT_RUNS (5;
# 1 with REPORT_QUICK=1), REPORT_QUICK (1: tiny iteration counts, for the
# tests), REPORT_ENGINES ("emu tae bt kvm"), REPORT_ITERS ("cli:500000 ...":
# iterations per benchmark), REPORT_TIMEOUT (seconds a run, 60),
# REPORT_COMMAND (what to print as the command line; bench/bench.mk sets it).
unset TRAPEZE_MAX_INSNS
BUILD=${BUILD:-build}
OUT=${REPORT_DIR:-$BUILD/report}
QUICK=${REPORT_QUICK:-0}
if [ "$QUICK" = 1 ]; then RUNS=${REPORT_RUNS:-1}; else RUNS=${REPORT_RUNS:-5}; fi
LIMIT=${REPORT_TIMEOUT:-60}
ENGINES=${REPORT_ENGINES:-emu tae bt kvm}
HERE=$(cd "$(dirname "$0")" && pwd)
COSTS=$HERE/costs.tsv
TRAPEZE=$BUILD/trapeze
NANO_ELF=$BUILD/guests/nanobench.elf
# Iterations per benchmark: each emu run well under a second (0.05-0.3 s
# here), each long enough that N operations stand out of the start-up.
if [ "$QUICK" = 1 ]; then
    DEFAULT_ITERS="syscall:2000 in:20000 cli:20000 pushf:5000 pgfault:2000 divzero:2000
ptemod:5000 cr3:2000 forkwait:10 eoi:20000 callret:1000 compute:20000"
else
    DEFAULT_ITERS="syscall:200000 in:1500000 cli:1500000 pushf:1500000 pgfault:100000
divzero:200000 ptemod:1500000 cr3:300000 forkwait:200 eoi:1000000 callret:150000 compute:200000"
fi
ITERS=${REPORT_ITERS:-$DEFAULT_ITERS}
BENCHES=$(echo $ITERS | sed 's/:[0-9]*//g')

# The command line, as someone would type it again.
cmd=""
for v in BUILD REPORT_DIR REPORT_RUNS REPORT_QUICK REPORT_ENGINES REPORT_ITERS REPORT_TIMEOUT; do
    eval "val=\${$v-}"
    eval "set_=\${$v+x}"
    [ -n "$set_" ] && cmd="$cmd$v='$val' "
done
cmd="${cmd}sh $0${*:+ $*}"
[ -n "$REPORT_COMMAND" ] && cmd="$REPORT_COMMAND (runs: $cmd)"

mkdir -p "$OUT" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
: > "$tmp/skipped"
: > "$tmp/failed"
: > "$tmp/notes"

# ---- which engines run here
# probe ENGINE: empty $why when ENGINE runs nanobench's null benchmark to
# its pass status (33), else why not, in a few words.
probe() {
    why=""
    if [ "$1" = kvm ]; then
        if [ ! -e /dev/kvm ]; then why="/dev/kvm not found"; return; fi
        if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
            why="/dev/kvm is not readable and writable by $(id -un 2>/dev/null || id -u)"; return
        fi
    fi
    if [ ! -x "$TRAPEZE" ]; then why="$TRAPEZE is not built (make)"; return; fi
    if [ ! -e "$NANO_ELF" ]; then why="$NANO_ELF is missing (make guests)"; return; fi
    timeout "$LIMIT" "$TRAPEZE" -engine "$1" -kernel "$NANO_ELF" -nographic \
        -append "bench=null iters=1" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -ne 33 ]; then
        first=$(grep -v '^[[:space:]]*$' "$tmp/err" | head -n 1 | cut -c 1-100)
        why="bench=null exited with status $rc${first:+: $first}"
    fi
}
RAN=""
for e in $ENGINES; do
    probe "$e"
    if [ -n "$why" ]; then
        printf '%s\t%s\n' "$e" "$why" >> "$tmp/skipped"
        echo "report: $e: $why" >&2
    else
        RAN="$RAN $e"
    fi
done
RAN=${RAN# }

# ---- timed runs (bare: no -stats), interleaved
printf 'engine\tbench\titers\twall_ns\n' > "$OUT/runs.tsv"
# one_run ENGINE BENCH N [ARGS...]: trapeze's run of it under timeout, its
# stdout in $tmp/out, stderr in $tmp/err, status in $rc, wall ns in $ns and
# in $bad why it did not pass (empty when it did).
one_run() {
    e=$1 b=$2 n=$3
    shift 3
    t0=$(date +%s%N)
    timeout "$LIMIT" "$TRAPEZE" -engine "$e" -kernel "$NANO_ELF" -nographic \
        -append "bench=$b iters=$n" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    t1=$(date +%s%N)
    ns=$((t1 - t0))
    bad=""
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        bad="timed out after ${LIMIT}s"
    elif [ $rc -ne 33 ]; then
        first=$(grep -v '^[[:space:]]*$' "$tmp/err" | head -n 1 | cut -c 1-100)
        bad="exit status $rc${first:+: $first}"
    elif ! tr -d '\r' < "$tmp/out" | grep -q "nanobench: $b $n done"; then
        bad="no \"nanobench: $b $n done\" in its output"
    fi
}
r=1
while [ -n "$RAN" ] && [ $r -le "$RUNS" ]; do
    printf 'report: run %d of %d:' "$r" "$RUNS" >&2
    for e in $RAN; do
        printf ' %s' "$e" >&2
        for pair in null:1 $ITERS; do
            b=${pair%%:*} n=${pair#*:}
            grep -q "^$e	$b	" "$tmp/failed" && continue
            one_run "$e" "$b" "$n"
            if [ -n "$bad" ]; then
                printf '%s\t%s\t%s\n' "$e" "$b" "$bad" >> "$tmp/failed"
                continue
            fi
            printf '%s\t%s\t%s\t%s\n' "$e" "$b" "$n" "$ns" >> "$OUT/runs.tsv"
        done
    done
    echo >&2
    r=$((r + 1))
done

# ---- one -stats run per engine and benchmark: counts per operation
# stats_of FILE ENGINE: "name count" lines from a -stats output, the
# names this engine's counts.tsv rows use.
stats_of() {
    tr -d '\r' < "$1" | awk -v e="$2" '
        /^  tae traps +[0-9]+/ { v["traps"] += $3 }
        /^  tae hidden faults +[0-9]+/ { v["hidden"] += $4 }
        /^  exception +[0-9]+ +[0-9]+/ { v["exceptions"] += $3 }
        /^  bt callouts +[0-9]+/ { v["callouts"] += $3 }
        /^  bt chain exits +[0-9]+/ { v["chain-exits"] += $4 }
        /^  bt in-TC runs +[0-9]+/ { v["in-tc"] += $4 }
        /^  exits +[0-9]+/ { v["exits"] += $2 }
        /^    KVM_EXIT_IO +[0-9]+/ { v["io-exits"] += $2 }
        /^    instructions +[0-9]+ run by the software CPU/ { v["fallback-insns"] += $2 }
        END {
            if (e == "emu") n = split("exceptions", k, " ")
            else if (e == "tae") n = split("traps hidden", k, " ")
            else if (e == "bt") n = split("traps hidden callouts chain-exits in-tc", k, " ")
            else n = split("exits io-exits fallback-insns", k, " ")
            for (i = 1; i <= n; i++) print k[i], v[k[i]] + 0
            if (e == "bt") print "entries", v["traps"] + v["callouts"] + v["chain-exits"]
        }'
}
printf 'engine\tbench\tcount\tper_op\n' > "$OUT/counts.tsv"
for e in $RAN; do
    printf 'report: -stats runs: %s\n' "$e" >&2
    one_run "$e" null 1 -stats
    if [ -n "$bad" ]; then
        printf '%s: the -stats run of bench=null did not pass (%s): no counts\n' "$e" "$bad" >> "$tmp/notes"
        continue
    fi
    stats_of "$tmp/err" "$e" > "$tmp/null.counts"
    # kvm: what -stats says about the fallback to the software CPU
    if [ "$e" = kvm ]; then
        host=$(tr -d '\r' < "$tmp/err" | grep -m 1 '^  host ' | sed 's/^  host *//')
        [ -n "$host" ] && printf 'kvm -stats: host %s\n' "$host" >> "$tmp/notes"
    fi
    for pair in $ITERS; do
        b=${pair%%:*} n=${pair#*:}
        one_run "$e" "$b" "$n" -stats
        if [ -n "$bad" ]; then
            printf '%s %s: the -stats run did not pass (%s): no counts\n' "$e" "$b" "$bad" >> "$tmp/notes"
            continue
        fi
        if [ "$e" = kvm ]; then
            share=$(tr -d '\r' < "$tmp/err" | grep -m 1 '^    share ' | sed 's/^ *share *//')
            [ -n "$share" ] && printf 'kvm %s: fallback to the software CPU: %s\n' "$b" "$share" >> "$tmp/notes"
        fi
        stats_of "$tmp/err" "$e" | awk -v e="$e" -v b="$b" -v n="$n" '
            NR == FNR { z[$1] = $2; next }
            { c = ($2 - z[$1]) / n; if (c < 0.00005 && c > -0.00005) c = 0
              printf "%s\t%s\t%s\t%.4f\n", e, b, $1, c }' "$tmp/null.counts" - >> "$OUT/counts.tsv"
    done
done

# ---- the figures: ns per op (median, min, max) per engine and benchmark
# $tmp/ns: engine bench median min max (ns per op), a line each.
awk -F '\t' 'NR > 1 {
        k = $1 SUBSEP $2; c = ++cnt[k]; v[k, c] = $4; it[k] = $3
        if (!(k in seen)) { seen[k] = 1; order[++no] = k } }
    function sortk(k,   i, j, t, n) {
        n = cnt[k]
        for (i = 2; i <= n; i++) for (j = i; j > 1 && v[k, j - 1] > v[k, j]; j--) {
            t = v[k, j]; v[k, j] = v[k, j - 1]; v[k, j - 1] = t }
    }
    END {
        for (i = 1; i <= no; i++) { k = order[i]; sortk(k); n = cnt[k]
            med[k] = v[k, int((n + 1) / 2)]; lo[k] = v[k, 1]; hi[k] = v[k, n] }
        for (i = 1; i <= no; i++) {
            k = order[i]; split(k, p, SUBSEP)
            if (p[2] == "null") continue
            z = p[1] SUBSEP "null"
            if (!(z in med)) continue
            n = it[k]
            printf "%s %s %.1f %.1f %.1f\n", p[1], p[2], (med[k] - med[z]) / n, (lo[k] - med[z]) / n, (hi[k] - med[z]) / n
        }
    }' "$OUT/runs.tsv" > "$tmp/ns"

# ---- the machine
cpu=$(grep -m 1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/^[^:]*: *//')
[ -n "$cpu" ] || cpu=$(uname -m)
cores=$(nproc 2>/dev/null || grep -c '^processor' /proc/cpuinfo)
# The host's KVM kind, as vmm/kvm_host.c sees it: kvm_pvm's module first
# (a nested host may also show kvm_intel's), then kvm_intel, kvm_amd.
kvm_kind=none
if [ -d /sys/module/kvm_pvm ]; then kvm_kind=kvm-pvm
elif [ -d /sys/module/kvm_intel ]; then kvm_kind=kvm-intel
elif [ -d /sys/module/kvm_amd ]; then kvm_kind=kvm-amd
elif [ -d /sys/module/kvm ]; then kvm_kind="unknown (kvm loaded, no kvm_intel, kvm_amd or kvm_pvm)"
fi
if [ -e /dev/kvm ]; then
    if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then kvm_dev="/dev/kvm usable"; else kvm_dev="/dev/kvm not accessible"; fi
else kvm_dev="/dev/kvm not found"; fi
describe=$(cd "$HERE/.." && git describe --always --dirty 2>/dev/null) || describe=""
[ -n "$describe" ] || describe=unknown

# ---- plots
have_gnuplot=0
command -v gnuplot >/dev/null 2>&1 && have_gnuplot=1

# ---- the report
awk -v out="$OUT" -v ran="$RAN" -v benches="$BENCHES" -v runs="$RUNS" -v iters="$(echo $ITERS)" \
    -v cpu="$cpu" -v cores="$cores" -v kernel="$(uname -sr)" -v kvm="$kvm_kind ($kvm_dev)" \
    -v describe="$describe" -v cmd="$cmd" -v date="$(date -u '+%Y-%m-%d %H:%M:%S UTC')" \
    -v gnuplot="$have_gnuplot" -v quick="$QUICK" '
FILENAME == ARGV[1] { ns[$1, $2] = $3; lo[$1, $2] = $4; hi[$1, $2] = $5; next }
FILENAME == ARGV[2] { if (FNR > 1) { cnt[$1, $2, $3] = $4; hascnt[$1, $2] = 1 } next }
FILENAME == ARGV[3] { if ($0 !~ /^#/ && $1 != "kind") { cost[$1] = $2; s = $0; sub(/^[^\t]*\t[^\t]*\t/, "", s); src[$1] = s; ck[++nck] = $1 } next }
FILENAME == ARGV[4] { skipped[++nsk] = "- " $1 ": " substr($0, length($1) + 2); next }
FILENAME == ARGV[5] { failed[++nfl] = "- " $1 " " $2 ": failed (" substr($0, length($1) + length($2) + 3) ")"; bad[$1, $2] = 1; next }
FILENAME == ARGV[6] { notes[++nno] = "- " $0; next }
function has(e) { return (" " ran " ") ~ (" " e " ") }
function c(e, b, k) { return ((e, b, k) in cnt) ? cnt[e, b, k] + 0 : 0 }
function cs(e, b, k) { return hascnt[e, b] ? sprintf("%.2f", c(e, b, k)) : "-" }
function nsc(e, b) {
    if ((e, b) in bad || (e, "null") in bad) return "failed"
    if (!((e, b) in ns)) return "-"
    return sprintf("%.1f (%.1f-%.1f)", ns[e, b], lo[e, b], hi[e, b])
}
# model(e, b): modelled cycles per op of engine e on bench b, "" without counts.
function model(e, b,   t, h, m) {
    if (!hascnt[e, b] || e == "emu") return ""
    if (e == "kvm") return c(e, b, "exits") * cost["vmexit"]
    t = c(e, b, "traps"); h = c(e, b, "hidden")
    m = (t - h) * cost["trap"] + h * cost["hidden-fault"]
    if (e == "bt") m += (c(e, b, "callouts") + c(e, b, "chain-exits")) * cost["callout"] + c(e, b, "in-tc") * cost["in-tc"]
    return m
}
function hwname() { return kvm_native ? "kvm" : "tae" }
function f1(x) { return sprintf("%.1f", x) }
END {
    ne = split(ran, E, " "); nb = split(benches, B, " ")
    # kvm stands in for the paper'"'"'s hardware VMM only where KVM itself ran
    # the benchmarks (no fallback to the software CPU).
    kvm_native = 0
    if (has("kvm")) { kvm_native = 1; for (j = 1; j <= nb; j++) if (c("kvm", B[j], "fallback-insns") > 0) kvm_native = 0 }
    rep = out "/REPORT.md"
    print "# trapeze: what each virtualization technique costs" > rep
    print "" > rep
    print "guests/nanobench under each trapeze engine this host has: emu (the interpreter, the reference: the paper'"'"'s \"native\" column), tae (trap-and-emulate VMM), bt (binary-translation VMM) and kvm (hardware assist, where /dev/kvm is usable)." > rep
    if (quick) print "\n**REPORT_QUICK=1: tiny iteration counts, for the tests; the figures are noise.**" > rep
    print "\n## Machine\n" > rep
    print "- CPU: " cpu > rep
    print "- cores: " cores > rep
    print "- kernel: " kernel > rep
    print "- KVM: " kvm > rep
    print "- trapeze: " describe > rep
    print "- command: `" cmd "`" > rep
    print "- date: " date > rep
    print "- engines: " (ne ? ran : "none") "; " runs " timed runs per engine and benchmark; iterations: " iters > rep

    print "\n## Measured: ns per operation\n" > rep
    print "(median wall time with iters=N - median with bench=null) / N, over " runs " runs; in parentheses the spread, (min - median(null)) / N to (max - median(null)) / N.  The timed runs are bare (no -stats)." > rep
    print "" > rep
    h = "| bench |"; s = "|---|"
    for (i = 1; i <= ne; i++) { h = h " " E[i] " ns/op |"; s = s "---:|" }
    print h > rep; print s > rep
    for (j = 1; j <= nb; j++) { l = "| " B[j] " |"; for (i = 1; i <= ne; i++) l = l " " nsc(E[i], B[j]) " |"; print l > rep }
    if (!ne) print "| (no engine ran) |" > rep
    for (i = 1; i <= nfl; i++) print failed[i] > rep
    for (i = 1; i <= nno; i++) if (notes[i] ~ /fallback/) print notes[i] > rep

    print "\n## Measured: VMM entries per operation\n" > rep
    print "(count with iters=N - count of bench=null) / N, from one more run of each with -stats.  tae traps: `tae traps` (every VMM entry of tae); tae hidden: `tae hidden faults` (shadow page-table faults, part of the traps); bt traps, callouts, in-TC: `tae traps`, `bt callouts`, `bt in-TC runs` (sensitive instructions run in the translation cache, no VMM entry); bt entries = traps + callouts + chain exits." > rep
    print "" > rep
    h = "| bench |"; s = "|---|"
    if (has("emu")) { h = h " emu exceptions |"; s = s "---:|" }
    if (has("tae")) { h = h " tae traps | tae hidden |"; s = s "---:|---:|" }
    if (has("bt")) { h = h " bt traps | bt callouts | bt in-TC | bt entries |"; s = s "---:|---:|---:|---:|" }
    if (has("kvm")) { h = h " kvm exits | kvm I/O exits | kvm fallback insns |"; s = s "---:|---:|---:|" }
    print h > rep; print s > rep
    for (j = 1; j <= nb; j++) {
        b = B[j]; l = "| " b " |"
        if (has("emu")) l = l " " cs("emu", b, "exceptions") " |"
        if (has("tae")) l = l " " cs("tae", b, "traps") " | " cs("tae", b, "hidden") " |"
        if (has("bt")) l = l " " cs("bt", b, "traps") " | " cs("bt", b, "callouts") " | " cs("bt", b, "in-tc") " | " cs("bt", b, "entries") " |"
        if (has("kvm")) l = l " " cs("kvm", b, "exits") " | " cs("kvm", b, "io-exits") " | " cs("kvm", b, "fallback-insns") " |"
        print l > rep
    }
    for (i = 1; i <= nno; i++) if (notes[i] !~ /fallback/) print notes[i] > rep

    print "\n## Modelled: cycles per operation\n" > rep
    print "Modelled, not measured: the VMM entries per operation above times what one entry of that kind cost on the paper'"'"'s Pentium 4 (bench/costs.tsv, below), that is the VMM'"'"'s overhead over native; tae = (traps - hidden) x trap + hidden x hidden-fault; bt = that + (callouts + chain exits) x callout + in-TC x in-tc; kvm = exits x vmexit.  Modelled and measured figures are never mixed: no table or plot here puts a modelled cycle count and a measured time in one figure." > rep
    print "" > rep
    h = "| bench |"; s = "|---|"; nm = 0
    for (i = 1; i <= ne; i++) if (E[i] != "emu") { h = h " " E[i] " cycles (modelled) |"; s = s "---:|"; M[++nm] = E[i] }
    print h > rep; print s > rep
    for (j = 1; j <= nb; j++) {
        l = "| " B[j] " |"
        for (i = 1; i <= nm; i++) { m = model(M[i], B[j]); l = l " " (m == "" ? "-" : sprintf("%.0f modelled", m)) " |" }
        print l > rep
    }
    print "\nThe cost table (bench/costs.tsv):\n" > rep
    print "| kind | cycles | source |" > rep
    print "|---|---:|---|" > rep
    for (i = 1; i <= nck; i++) print "| " ck[i] " | " cost[ck[i]] " | " src[ck[i]] " |" > rep

    print "\n## The paper'"'"'s figures\n" > rep
    print "Adams & Agesen, \"A Comparison of Software and Hardware Techniques for x86 Virtualization\", ASPLOS 2006, section 6.1: cycles per operation on a Pentium 4, as the paper states them; values marked *derived* are worked out here from the paper'"'"'s words, not printed in it." > rep
    print "" > rep
    print "| bench | native | software VMM (BT) | hardware VMM (VT-x) | trapeze bench |" > rep
    print "|---|---:|---:|---:|---|" > rep
    print "| syscall | (not given) | \"approximately 2000 more cycles than a native system call\" | native speed | syscall |" > rep
    print "| in | 3209 | about 214 (*derived*: 3209/15; the paper: \"fifteen times faster than native\") | 15826 | in |" > rep
    print "| cr8wr | about 140 (*derived*: 4 x 35) | 35 (\"about four times faster than native\") | similar to native | (none: no CR8 in 32-bit mode) |" > rep
    print "| call/ret | 11 | 51 | 11 | callret (16 CALLs + 16 RETs per op) |" > rep
    print "| pgfault | 1093 | 3927 | 11242 | pgfault |" > rep
    print "| divzero | 889 | 3223 | 1014 | divzero |" > rep
    print "| ptemod | \"a single cycle store\" | 391 | 12733 | ptemod |" > rep

    # paper: the BT-vs-HW order, 1 = BT faster, -1 = HW faster
    P["syscall"] = -1; Pt["syscall"] = "BT about 2000 cycles over native, HW at native speed"
    P["in"] = 1; Pt["in"] = "BT about 214 (derived) against HW 15826 cycles"
    P["callret"] = -1; Pt["callret"] = "BT 51 against HW 11 cycles"
    P["pgfault"] = 1; Pt["pgfault"] = "BT 3927 against HW 11242 cycles"
    P["divzero"] = -1; Pt["divzero"] = "BT 3223 against HW 1014 cycles"
    P["ptemod"] = 1; Pt["ptemod"] = "BT 391 against HW 12733 cycles"
    print "\n## Shape: where ours differs from the paper\n" > rep
    hw = hwname()
    if (hw == "kvm") print "The paper'"'"'s hardware VMM is compared with kvm, its software VMM with bt." > rep
    else print "The paper'"'"'s hardware VMM is compared with tae (" (has("kvm") ? "kvm fell back to the software CPU here" : "kvm did not run") "): like VT-x it runs the guest directly and enters the VMM on every sensitive operation; its software VMM with bt." > rep
    print "" > rep
    for (j = 1; j <= nb; j++) {
        b = B[j]
        if (!has("bt") || !has(hw) || !((("bt", b) in ns)) || !(((hw, b) in ns))) {
            print "- **" b "**: not compared (bt or " hw " has no figure)." > rep; continue
        }
        x = ns["bt", b]; y = ns[hw, b]
        l = "- **" b "**: bt " f1(x) " ns/op, " hw " " f1(y) " ns/op: "
        ours = 0
        if (x < y) { ours = 1; l = l "bt is faster" } else if (x > y) { ours = -1; l = l "bt is slower" } else l = l "a tie"
        if (y > 0 && x > 0) l = l sprintf(" (bt/%s %.2f)", hw, x / y)
        be = c("bt", b, "entries"); he = (hw == "kvm") ? c("kvm", b, "exits") : c("tae", b, "traps")
        l = l sprintf("; VMM entries per op: bt %.2f (%.2f traps + %.2f callouts + %.2f chain exits, %.2f in-TC runs besides), %s %.2f", be, c("bt", b, "traps"), c("bt", b, "callouts"), c("bt", b, "chain-exits"), c("bt", b, "in-tc"), hw, he)
        if (hw == "tae") l = l sprintf(" (%.2f hidden)", c("tae", b, "hidden"))
        if (be < he - 0.005) why = "bt enters the VMM less often"
        else if (be > he + 0.005) why = "bt enters the VMM more often"
        else why = "both enter the VMM equally often, so what differs is the cost of an entry (a callout or a trap) or of the translated code"
        if (ours != 0 && be < he - 0.005 && ours < 0) why = why ", yet is slower: its entries (or its translated code) cost more"
        if (ours != 0 && be > he + 0.005 && ours > 0) why = why ", yet is faster: its entries are cheaper"
        l = l ": " why "."
        if (b in P) {
            l = l " The paper (" Pt[b] ") has " (P[b] > 0 ? "BT" : "HW") " faster"
            if (ours == 0) l = l "; ours is a tie."
            else if (ours == P[b]) l = l ": the same order."
            else l = l ": **ours differs**."
        } else l = l " The paper has no such row in 6.1."
        print l > rep
    }

    print "\n## Plots\n" > rep
    if (gnuplot) {
        print "![ns per operation](ns.png)\n" > rep
        print "ns.png: measured ns per operation, engines side by side per benchmark (log scale; figures at or below 0 left out).\n" > rep
        print "![VMM entries per operation](entries.png)\n" > rep
        print "entries.png: measured VMM entries per operation by kind.\n" > rep
        print "![the paper and trapeze'"'"'s model](paper.png)\n" > rep
        print "paper.png: the paper'"'"'s Pentium 4 cycles (measured by the paper; derived values included as derived) next to trapeze'"'"'s modelled VMM cycles (counted entries x bench/costs.tsv, not measured), log scale." > rep
    } else print "No plots: gnuplot is not installed (tools/deps.sh test installs gnuplot-nox)." > rep

    print "\n## Engines that did not run\n" > rep
    if (!nsk) print "none" > rep
    for (i = 1; i <= nsk; i++) print skipped[i] > rep

    print "\n## Raw data\n" > rep
    print "- runs.tsv: every timed run: engine, bench, iters, wall_ns" > rep
    print "- counts.tsv: engine, bench, count, per_op (from the -stats runs, less bench=null)" > rep
    print "- bench/costs.tsv: the cost table of the modelled cycles" > rep
    close(rep)

    # gnuplot data: "?" where there is no figure
    d = out "/ns.dat"
    l = "bench"; for (i = 1; i <= ne; i++) l = l " " E[i]; print l > d
    for (j = 1; j <= nb; j++) { l = B[j]; for (i = 1; i <= ne; i++) { k = E[i] SUBSEP B[j]; l = l " " ((k in ns) && ns[k] > 0 && !(k in bad) ? ns[k] : "?") }; print l > d }
    close(d)
    d = out "/entries.dat"
    l = "bench"
    if (has("tae")) l = l " \"tae traps\" \"tae hidden faults\""
    if (has("bt")) l = l " \"bt traps\" \"bt callouts\" \"bt in-TC runs\""
    if (has("kvm")) l = l " \"kvm exits\""
    if (l == "bench") l = l " none"
    print l > d
    for (j = 1; j <= nb; j++) {
        b = B[j]; l = b
        if (has("tae")) l = l " " cs("tae", b, "traps") " " cs("tae", b, "hidden")
        if (has("bt")) l = l " " cs("bt", b, "traps") " " cs("bt", b, "callouts") " " cs("bt", b, "in-tc")
        if (has("kvm")) l = l " " cs("kvm", b, "exits")
        if (!has("tae") && !has("bt") && !has("kvm")) l = l " 0"
        gsub(/ -/, " ?", l); print l > d
    }
    close(d)
    d = out "/paper.dat"
    l = "bench \"paper native\" \"paper BT\" \"paper HW\""
    for (i = 1; i <= nm; i++) l = l " \"" M[i] " (modelled)\""
    print l > d
    split("in 3209 214 15826|callret 11 51 11|pgfault 1093 3927 11242|divzero 889 3223 1014|ptemod 1 391 12733", rows, "|")
    for (r = 1; r <= 5; r++) {
        split(rows[r], w, " "); l = rows[r]
        for (i = 1; i <= nm; i++) { m = model(M[i], w[1]); l = l " " (m == "" || m <= 0 ? "?" : sprintf("%.0f", m)) }
        print l > d
    }
    close(d)
}' "$tmp/ns" "$OUT/counts.tsv" "$COSTS" "$tmp/skipped" "$tmp/failed" "$tmp/notes"

if [ $have_gnuplot = 1 ]; then
    for p in ns entries paper; do
        ncol=$(head -n 1 "$OUT/$p.dat" | awk '{ n = 0; s = $0; while (match(s, /"[^"]*"|[^ "]+/)) { n++; s = substr(s, RSTART + RLENGTH) } print n }')
        gnuplot -e "plot_kind='$p'; dir='$OUT'; ncol=$ncol" "$HERE/plot.gp" 2>"$tmp/gp.err" ||
            echo "report: gnuplot failed on $p.png: $(head -n 1 "$tmp/gp.err")" >&2
    done
fi
echo "report: $OUT/REPORT.md" >&2
