#!/bin/sh
# tests/guests/report.sh - bench/report.sh (`make report`) in its quick mode
# (REPORT_QUICK=1: tiny iteration counts, one run) into a directory of its
# own, then the report's shape and the counts per operation that cannot
# drift:
#   report-runs        bench/report.sh exits 0 and writes REPORT.md
#   report-headings    REPORT.md's headings, each once, in their order
#   report-machine     the Machine section's lines (CPU, cores, kernel, KVM,
#                      trapeze, command, date)
#   report-runs-tsv    runs.tsv: header "engine bench iters wall_ns", a line
#                      per run with 4 fields, wall_ns a positive integer
#   report-counts-tsv  counts.tsv: header "engine bench count per_op", 4
#                      fields a line, per_op a number
#   report-pngs        ns.png, entries.png, paper.png start with the PNG
#                      signature (SKIP without gnuplot)
#   report-tae-cli     tae: 2.00 traps per cli op (CLI and STI each trap)
#   report-bt-cli      bt: 0.00 traps and 2.00 in-TC runs per cli op
#   report-bt-compute  bt: 0 traps and 0 callouts per compute op
#   report-tae-in      tae: 1.00 trap per IN
#   report-bt-in       bt: 1.00 callout per IN
#   report-kvm-out     kvm: 1.00 KVM_EXIT_IO per OUT (bench eoi), where KVM
#                      ran it (SKIP without /dev/kvm, or where -stats shows
#                      the fallback to the software CPU ran it)
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"
require_files report "$TRAPEZE" "$G/nanobench.elf"

R=$tmp/report
BUILD=$BUILD REPORT_QUICK=1 REPORT_DIR=$R timeout 50 sh bench/report.sh >"$tmp/rout" 2>"$tmp/rerr"
rc=$?
if [ $rc -eq 0 ] && [ -s "$R/REPORT.md" ]; then
    echo "PASS report-runs"
else
    fail "report-runs: bench/report.sh exited $rc, REPORT.md $( [ -s "$R/REPORT.md" ] && echo written || echo missing): $(tail -n 1 "$tmp/rerr")"
    exit 1
fi

# ---- the headings, in order, each once
cat > "$tmp/want-h" <<'H'
# trapeze: what each virtualization technique costs
## Machine
## Measured: ns per operation
## Measured: VMM entries per operation
## Modelled: cycles per operation
## The paper's figures
## Shape: where ours differs from the paper
## Plots
## Engines that did not run
## Raw data
H
grep '^#' "$R/REPORT.md" > "$tmp/got-h"
if cmp -s "$tmp/got-h" "$tmp/want-h"; then
    echo "PASS report-headings"
else
    fail "report-headings: $(first_difference "$tmp/got-h" "$tmp/want-h")"
fi

# ---- the Machine section's lines
awk '/^## / { in_m = ($0 == "## Machine") } in_m' "$R/REPORT.md" > "$tmp/machine"
missing=""
for l in "CPU: ." "cores: [0-9][0-9]*$" "kernel: ." "KVM: \(none\|kvm-intel\|kvm-amd\|kvm-pvm\|unknown\)" \
         "trapeze: ." "command: ." "date: ."; do
    grep -q "^- $l" "$tmp/machine" || missing="$missing '- $l'"
done
[ -z "$missing" ] && echo "PASS report-machine" || fail "report-machine: no line matching$missing in ## Machine"

# ---- the TSVs
if [ -s "$R/runs.tsv" ] && [ "$(head -n 1 "$R/runs.tsv")" = "$(printf 'engine\tbench\titers\twall_ns')" ] &&
   awk -F '\t' 'NR > 1 { n++; if (NF != 4 || $4 !~ /^[1-9][0-9]*$/ || $3 !~ /^[0-9]+$/) bad = 1 }
        END { exit (bad || n < 13) }' "$R/runs.tsv"; then
    echo "PASS report-runs-tsv"
else
    fail "report-runs-tsv: runs.tsv has no 'engine bench iters wall_ns' header or a bad line: $(sed -n 2p "$R/runs.tsv" 2>/dev/null)"
fi
if [ -s "$R/counts.tsv" ] && [ "$(head -n 1 "$R/counts.tsv")" = "$(printf 'engine\tbench\tcount\tper_op')" ] &&
   awk -F '\t' 'NR > 1 { n++; if (NF != 4 || $4 !~ /^-?[0-9]+\.[0-9]+$/) bad = 1 } END { exit (bad || n < 12) }' "$R/counts.tsv"; then
    echo "PASS report-counts-tsv"
else
    fail "report-counts-tsv: counts.tsv has no 'engine bench count per_op' header or a bad line: $(sed -n 2p "$R/counts.tsv" 2>/dev/null)"
fi

# ---- the plots
if command -v gnuplot >/dev/null 2>&1; then
    bad=""
    for p in ns entries paper; do
        sig=$(od -A n -t x1 -N 8 "$R/$p.png" 2>/dev/null | tr -d ' \n')
        [ "$sig" = 89504e470d0a1a0a ] || bad="$bad $p.png(${sig:-missing})"
        grep -q "($p.png)" "$R/REPORT.md" || bad="$bad $p.png(not linked)"
    done
    [ -z "$bad" ] && echo "PASS report-pngs" || fail "report-pngs: not a PNG:$bad"
else
    echo "SKIP report-pngs: gnuplot is not installed (tools/deps.sh test installs gnuplot-nox)"
fi

# ---- counts per operation: per ENGINE BENCH COUNT, as %.2f
per() { awk -F '\t' -v e="$1" -v b="$2" -v k="$3" '$1 == e && $2 == b && $3 == k { printf "%.2f", $4; f = 1 }
    END { if (!f) printf "none" }' "$R/counts.tsv"; }
# check NAME ENGINE BENCH COUNT=WANT...: each COUNT's per-op figure is WANT.
check() {
    name=$1 e=$2 b=$3
    shift 3
    if ! grep -q "^$e	" "$R/counts.tsv"; then
        fail "$name: no $e counts (REPORT.md: $(grep "^- $e:" "$R/REPORT.md" | head -n 1))"
        return
    fi
    why=""
    for kv in "$@"; do
        got=$(per "$e" "$b" "${kv%%=*}")
        [ "$got" = "${kv#*=}" ] || why="$why ${kv%%=*} $got, want ${kv#*=};"
    done
    [ -z "$why" ] && echo "PASS $name" || fail "$name: $e $b per op:$why"
}
check report-tae-cli tae cli traps=2.00
check report-bt-cli bt cli traps=0.00 in-tc=2.00
check report-bt-compute bt compute traps=0.00 callouts=0.00
check report-tae-in tae in traps=1.00
check report-bt-in bt in callouts=1.00

if ! grep -q "^kvm	" "$R/counts.tsv"; then
    echo "SKIP report-kvm-out: kvm did not run ($(grep '^- kvm:' "$R/REPORT.md" | sed 's/^- //' | head -n 1))"
elif [ "$(per kvm eoi fallback-insns)" != 0.00 ]; then
    echo "SKIP report-kvm-out: under kvm the software CPU ran eoi (fallback; $(per kvm eoi fallback-insns) instructions per op)"
else
    check report-kvm-out kvm eoi io-exits=1.00
fi
exit $failed
