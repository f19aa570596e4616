#!/bin/sh
# tests/guests/timer.sh - guests/timer.asm: PIC remap, PIT counter 0 at
# 1 kHz, 100 IRQ0 ticks through STI/HLT.  Under trapeze in real time and
# with -icount shift=0, and under QEMU (the oracle) for the same output.
BUILD=${BUILD:-build}
TRAPEZE=$BUILD/trapeze
KERNEL=$BUILD/guests/timer.elf
QEMU_EXIT="-device isa-debug-exit,iobase=0xf4,iosize=0x04"
PASS_STATUS=33
WANT="timer: 100 ticks"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL $*"; failed=1; }

if [ ! -e "$KERNEL" ] || [ ! -x "$TRAPEZE" ]; then
    fail "timer-guest: $KERNEL or $TRAPEZE is missing (make)"
    exit 1
fi

# run NAME ARGS...: the guest under trapeze; checks status and output.
run() {
    name=$1; shift
    timeout 20 "$TRAPEZE" -kernel "$KERNEL" -nographic "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    got=$(tr -d '\r' < "$tmp/out")
    if [ $rc -eq $PASS_STATUS ] && [ "$got" = "$WANT" ]; then
        echo "PASS $name"
    else
        [ $rc -eq 124 ] && rc="124 (timed out after 20 s)"
        fail "$name: exit status $rc, output '$got', want $PASS_STATUS and '$WANT';" \
            "stderr: $(head -n 1 "$tmp/err")"
    fi
}
run timer-realtime
run timer-icount-shift0 -icount shift=0

# How little host CPU an idle (halted) guest costs is a speed figure: it is
# measured by `make bench` (bench/run.sh, "idle"), not asserted here.

if ! command -v qemu-system-i386 >/dev/null 2>&1; then
    echo "SKIP timer-matches-qemu: qemu-system-i386 is not installed"
    exit $failed
fi
timeout 20 qemu-system-i386 -kernel "$KERNEL" -display none -serial stdio -monitor none \
    $QEMU_EXIT </dev/null >"$tmp/qout" 2>"$tmp/qerr"
qrc=$?
qgot=$(tr -d '\r' < "$tmp/qout")
if [ $qrc -ne $PASS_STATUS ] || [ "$qgot" != "$WANT" ]; then
    fail "timer-matches-qemu: QEMU itself gives status $qrc, output '$qgot'"
else
    echo "PASS timer-matches-qemu"
fi
exit $failed
