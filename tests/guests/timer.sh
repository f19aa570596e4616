#!/bin/sh
# tests/guests/timer.sh - guests/timer.asm: PIC remap, PIT counter 0 at
# 1 kHz, 100 IRQ0 ticks through STI/HLT.  Under trapeze in real time and
# with -icount shift=0, and under QEMU (the oracle) for the same output.
. "$(dirname "$0")/lib.shinc"
KERNEL=$G/timer.elf
WANT="timer: 100 ticks"
require "timer-guest: $KERNEL or $TRAPEZE is missing (make)" "$KERNEL" "$TRAPEZE"

# run NAME ARGS...: the guest under trapeze; checks status and output.
run() {
    name=$1; shift
    run_trapeze 20 -kernel "$KERNEL" -nographic "$@"
    got=$(cat "$tmp/got")
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

# At a monitor prompt the virtual clock stands still (base/clock.h): the
# PIT's count element (CE, counting down at 1.193182 MHz while time flows)
# reads the same before and after half a second of real time at the prompt.
(echo "break main.wait"; echo c; echo "info pit"; sleep 0.5; echo "info pit"; echo quit) |
    timeout 20 "$TRAPEZE" -kernel "$KERNEL" -display none -serial none -monitor >"$tmp/mon" 2>&1
ces=$(grep -o "CE [0-9a-f]*" "$tmp/mon" | head -n 2 | tr '\n' ' ')
set -- $ces
if [ $# -eq 4 ] && [ "$2" = "$4" ]; then
    echo "PASS timer-clock-stops-at-monitor-prompt"
else
    fail "timer-clock-stops-at-monitor-prompt: PIT counts read '$ces' (want two equal values)"
fi

if ! have_qemu; then
    echo "SKIP timer-matches-qemu: qemu-system-i386 is not installed"
    exit $failed
fi
run_qemu 20 -kernel "$KERNEL"
qgot=$(cat "$tmp/qgot")
if [ $qrc -ne $PASS_STATUS ] || [ "$qgot" != "$WANT" ]; then
    fail "timer-matches-qemu: QEMU itself gives status $qrc, output '$qgot'"
else
    echo "PASS timer-matches-qemu"
fi
exit $failed
