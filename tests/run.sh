#!/bin/sh
# tests/run.sh - run every test program, in parallel, and add their lines up.
#
# A test program is any executable that prints "PASS name", "FAIL name..."
# and "SKIP name: why" lines (tests/test.h does it for C tests; guest tests
# are shell scripts in tests/guests/); "INFO what" lines (the host's KVM
# kind, say) are shown even when the program passed.  Usage: tests/run.sh PROGRAM...
# The closing line is "N passed, N failed, N skipped"; the exit status is 1
# when anything failed (or a program died without saying why).
#
# Every guest runs under a timeout (each script's own, and TEST_TIMEOUT for
# the whole program) and an instruction cap: TRAPEZE_MAX_INSNS, which
# trapeze takes as -max-insns when the flag is not given, 2e10 unless the
# caller set it (the longest guest, guests/compute, runs 5e8; 0: no cap).
# A guest that reaches it exits with status 8 and says so on stderr.
export TRAPEZE_MAX_INSNS="${TRAPEZE_MAX_INSNS-20000000000}"
jobs=${TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0
for prog in "$@"; do
    n=$((n + 1))
    printf '%s\n' "$prog" > "$out/$n.name"
done
# Each program's output goes to its own file; a program that exits non-zero
# without printing a FAIL line counts as one failure under its own name.
ls "$out" | sed -n 's/\.name$//p' | xargs -P "$jobs" -I{} sh -c '
    prog=$(cat "$1/$2.name")
    timeout "${TEST_TIMEOUT:-600}" "$prog" > "$1/$2.out" 2>&1
    rc=$?
    if [ $rc -ne 0 ] && ! grep -q "^FAIL" "$1/$2.out"; then
        echo "FAIL $prog: exited with status $rc" >> "$1/$2.out"
    fi
' sh "$out" {}
pass=0; fail=0; skip=0
for f in "$out"/*.out; do
    [ -e "$f" ] || continue
    name=$(cat "${f%.out}.name")
    if grep -q '^FAIL' "$f"; then
        echo "---- $name"
        cat "$f"
    else
        grep -e '^SKIP' -e '^INFO' "$f"
    fi
    pass=$((pass + $(grep -c '^PASS' "$f")))
    fail=$((fail + $(grep -c '^FAIL' "$f")))
    skip=$((skip + $(grep -c '^SKIP' "$f")))
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
