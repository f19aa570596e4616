#!/bin/sh
# tests/guests/rtc.sh - the RTC read the way a kernel reads it
# (guests/rtc.asm), under trapeze and under QEMU (the oracle) with the same
# -rtc base: both must print the same date, the seconds allowed to advance
# by the time QEMU takes to boot (up to 3 s).  trapeze runs with -icount so
# its run is deterministic: the guest reads the RTC within microseconds of
# virtual time, so it must print the base itself.
#
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"
KERNEL=$G/rtc.elf
require "rtc-guest: $KERNEL or $TRAPEZE is missing (make)" "$KERNEL" "$TRAPEZE"

# check_base NAME BASE WANT: the deterministic run must print WANT.
check_base() {
    run_trapeze 20 -kernel "$KERNEL" -nographic -rtc "base=$2" -icount shift=0
    got=$(cat "$tmp/got")
    if [ $rc -ne $PASS_STATUS ]; then
        [ $rc -eq 124 ] && rc="124 (timed out after 20 s)"
        fail "$1: exit status $rc, want $PASS_STATUS; stderr: $(head -n 1 "$tmp/err")"
    elif [ "$got" != "rtc: $3" ]; then
        fail "$1: got '$got', want 'rtc: $3'"
    else
        echo "PASS $1"
    fi
}

check_base rtc-fixed-base 2024-02-29T23:59:58 "2024-02-29 23:59:58"
check_base rtc-date-only-base 2024-02-29 "2024-02-29 00:00:00"

# A bad -rtc is one clear line and status 2.
timeout 20 "$TRAPEZE" -kernel "$KERNEL" -nographic -rtc clock=host </dev/null >/dev/null 2>"$tmp/bad.err"
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l < "$tmp/bad.err")" -eq 1 ]; then
    echo "PASS rtc-bad-option"
else
    fail "rtc-bad-option: -rtc clock=host gave status $rc, stderr: $(head -n 2 "$tmp/bad.err")"
fi

if ! have_qemu; then
    echo "SKIP rtc-matches-qemu: qemu-system-i386 is not installed"
    exit $failed
fi

# to_seconds "rtc: YYYY-MM-DD HH:MM:SS" -> seconds since 1970 (UTC), or empty.
to_seconds() {
    d=${1#rtc: }
    date -u -d "$d" +%s 2>/dev/null
}

for base in 2024-02-29T23:59:58 1999-12-31T23:59:59; do
    run_qemu 20 -kernel "$KERNEL" -rtc "base=$base"
    qgot=$(cat "$tmp/qgot")
    run_trapeze 20 -kernel "$KERNEL" -nographic -rtc "base=$base" -icount shift=0
    trc=$rc
    tgot=$(cat "$tmp/got")
    qs=$(to_seconds "$qgot")
    ts=$(to_seconds "$tgot")
    if [ $qrc -ne $PASS_STATUS ] || [ -z "$qs" ]; then
        fail "rtc-matches-qemu-$base: QEMU itself did not print a date (status $qrc: '$qgot')"
    elif [ $trc -ne $PASS_STATUS ] || [ -z "$ts" ]; then
        fail "rtc-matches-qemu-$base: trapeze did not print a date (status $trc: '$tgot')"
    elif [ $((qs - ts)) -lt 0 ] || [ $((qs - ts)) -gt 3 ]; then
        fail "rtc-matches-qemu-$base: trapeze '$tgot', QEMU '$qgot'"
    else
        echo "PASS rtc-matches-qemu-$base"
    fi
done
exit $failed
