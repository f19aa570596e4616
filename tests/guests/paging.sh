#!/bin/sh
# tests/guests/paging.sh - the paging feature guest (guests/paging.asm) under
# trapeze: one line per check the guest makes, its whole output against the
# text of a fully passing run, its exit status, and QEMU's run of the same
# guest (the oracle: its output must match trapeze's).
#
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
BUILD=${BUILD:-build}
TRAPEZE=$BUILD/trapeze
KERNEL=$BUILD/guests/paging.elf
QEMU_EXIT="-device isa-debug-exit,iobase=0xf4,iosize=0x04"
PASS_STATUS=33                  # isa-debug-exit value 0x10: (0x10 << 1) | 1

# The guest's checks, in the order it makes them (guests/paging.asm).
CHECKS="pse-4mib-page demand-zero-read demand-zero-write pf-not-present-read
pf-not-present-write wp0-write-readonly pf-protection-write-wp1 accessed-dirty
remap-invlpg cr3-reload user-page-ring3 pf-user-read-supervisor
pf-user-write-supervisor"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL $*"; failed=1; }

# What a run in which every check passes prints.
{
    echo "paging: 32-bit paging checks"
    n=0
    for c in $CHECKS; do
        echo "ok $c"
        n=$((n + 1))
    done
    echo "paging: all $n checks passed"
} > "$tmp/want"

first_difference() {
    awk 'NR == FNR { a[FNR] = $0; na = FNR; next } { b[FNR] = $0; nb = FNR }
         END { n = na > nb ? na : nb
               for (i = 1; i <= n; i++) if (a[i] != b[i]) {
                   printf "line %d: got \"%s\", want \"%s\"\n", i, a[i], b[i]; exit } }' "$1" "$2"
}

if [ ! -e "$KERNEL" ]; then
    fail "paging-guest: $KERNEL is missing (make guests)"
    exit 1
fi

if [ ! -x "$TRAPEZE" ]; then
    fail "paging-exit-status: $TRAPEZE is not built"
    rc=none
else
    timeout 20 "$TRAPEZE" -kernel "$KERNEL" -nographic </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    tr -d '\r' < "$tmp/out" > "$tmp/got"
    stopped="exit status $rc"
    [ $rc -eq 124 ] && stopped="timed out after 20 s"
    for c in $CHECKS; do
        if grep -qx "ok $c" "$tmp/got"; then
            echo "PASS paging-$c"
        elif line=$(grep -m 1 "^FAIL $c" "$tmp/got"); then
            fail "paging-$c: the guest says \"$line\""
        else
            fail "paging-$c: not reported (guest stopped: $stopped;" \
                "$(grep -m 1 '^FAIL unexpected' "$tmp/got" || head -n 1 "$tmp/err"))"
        fi
    done
    if cmp -s "$tmp/got" "$tmp/want"; then
        echo "PASS paging-output"
    else
        fail "paging-output: $(first_difference "$tmp/got" "$tmp/want")"
    fi
    if [ $rc -eq $PASS_STATUS ]; then
        echo "PASS paging-exit-status"
    else
        fail "paging-exit-status: $stopped, want $PASS_STATUS;" \
            "stderr: $(head -n 1 "$tmp/err")"
    fi
fi

if ! command -v qemu-system-i386 >/dev/null 2>&1; then
    echo "SKIP paging-matches-qemu: qemu-system-i386 is not installed"
    exit $failed
fi
timeout 20 qemu-system-i386 -kernel "$KERNEL" -display none -serial stdio \
    -monitor none $QEMU_EXIT </dev/null >"$tmp/qout" 2>"$tmp/qerr"
qrc=$?
tr -d '\r' < "$tmp/qout" > "$tmp/qgot"
if [ $qrc -ne $PASS_STATUS ] || ! cmp -s "$tmp/qgot" "$tmp/want"; then
    fail "paging-matches-qemu: QEMU itself disagrees with the expected text" \
        "(status $qrc; $(first_difference "$tmp/qgot" "$tmp/want"))"
elif [ "$rc" = none ]; then
    fail "paging-matches-qemu: $TRAPEZE is not built"
elif [ "$rc" != $qrc ] || ! cmp -s "$tmp/got" "$tmp/qgot"; then
    fail "paging-matches-qemu: trapeze (status $rc) and QEMU (status $qrc) differ:" \
        "$(first_difference "$tmp/got" "$tmp/qgot")"
else
    echo "PASS paging-matches-qemu"
fi
exit $failed
