#!/bin/sh
# tests/guests/hello.sh - the demo guest (guests/hello.asm) under trapeze,
# checked against the text it prints and against QEMU running the same guest.
#
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
# The command line a Multiboot loader passes is "<kernel path> <-append
# text>", as QEMU and GRUB do, so that is what the guest must echo.
. "$(dirname "$0")/lib.shinc"
KERNEL=$G/hello.elf
ARGS="test-arg 42"

printf 'Hello from trapeze!\ncmdline: %s %s\n' "$KERNEL" "$ARGS" > "$tmp/want"

require "hello-guest: $KERNEL is missing (make guests)" "$KERNEL"

if [ ! -x "$TRAPEZE" ]; then
    fail "hello-exit-status: $TRAPEZE is not built"
    fail "hello-output: $TRAPEZE is not built"
    rc=none
else
    run_trapeze 20 -kernel "$KERNEL" -append "$ARGS" -nographic
    if [ $rc -eq $PASS_STATUS ]; then
        echo "PASS hello-exit-status"
    else
        status=$rc
        [ $rc -eq 124 ] && status="124 (timed out after 20 s)"
        fail "hello-exit-status: exit status $status, want $PASS_STATUS;" \
            "stderr: $(head -n 1 "$tmp/err")"
    fi
    check_output hello-output
fi

matches_qemu hello-matches-qemu -kernel "$KERNEL" -append "$ARGS"
exit $failed
