#!/bin/sh
# tests/guests/hello.sh - the demo guest (guests/hello.asm) under trapeze,
# checked against the text it prints and against QEMU running the same guest.
#
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
# The command line a Multiboot loader passes is "<kernel path> <-append
# text>", as QEMU and GRUB do, so that is what the guest must echo.
BUILD=${BUILD:-build}
TRAPEZE=$BUILD/trapeze
KERNEL=$BUILD/guests/hello.elf
ARGS="test-arg 42"
QEMU_EXIT="-device isa-debug-exit,iobase=0xf4,iosize=0x04"
PASS_STATUS=33                  # isa-debug-exit value 0x10: (0x10 << 1) | 1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL $*"; failed=1; }

printf 'Hello from trapeze!\ncmdline: %s %s\n' "$KERNEL" "$ARGS" > "$tmp/want"

# first_difference A B: "line N: got 'X', want 'Y'" for two text files.
first_difference() {
    awk 'NR == FNR { a[FNR] = $0; na = FNR; next } { b[FNR] = $0; nb = FNR }
         END { n = na > nb ? na : nb
               for (i = 1; i <= n; i++) if (a[i] != b[i]) {
                   printf "line %d: got \"%s\", want \"%s\"\n", i, a[i], b[i]; exit } }' "$1" "$2"
}

if [ ! -e "$KERNEL" ]; then
    fail "hello-guest: $KERNEL is missing (make guests)"
    exit 1
fi

if [ ! -x "$TRAPEZE" ]; then
    fail "hello-exit-status: $TRAPEZE is not built"
    fail "hello-output: $TRAPEZE is not built"
else
    timeout 20 "$TRAPEZE" -kernel "$KERNEL" -append "$ARGS" -nographic \
        </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    tr -d '\r' < "$tmp/out" > "$tmp/got"
    if [ $rc -eq $PASS_STATUS ]; then
        echo "PASS hello-exit-status"
    else
        [ $rc -eq 124 ] && rc="124 (timed out after 20 s)"
        fail "hello-exit-status: exit status $rc, want $PASS_STATUS;" \
            "stderr: $(head -n 1 "$tmp/err")"
    fi
    if cmp -s "$tmp/got" "$tmp/want"; then
        echo "PASS hello-output"
    else
        fail "hello-output: $(first_difference "$tmp/got" "$tmp/want")"
    fi
fi

if ! command -v qemu-system-i386 >/dev/null 2>&1; then
    echo "SKIP hello-matches-qemu: qemu-system-i386 is not installed"
    exit $failed
fi
timeout 20 qemu-system-i386 -kernel "$KERNEL" -append "$ARGS" -display none \
    -serial stdio -monitor none $QEMU_EXIT </dev/null >"$tmp/qout" 2>"$tmp/qerr"
qrc=$?
tr -d '\r' < "$tmp/qout" > "$tmp/qgot"
if [ $qrc -ne $PASS_STATUS ] || ! cmp -s "$tmp/qgot" "$tmp/want"; then
    fail "hello-matches-qemu: QEMU itself disagrees with the expected text" \
        "(status $qrc; $(first_difference "$tmp/qgot" "$tmp/want"))"
elif [ ! -x "$TRAPEZE" ]; then
    fail "hello-matches-qemu: $TRAPEZE is not built"
elif [ "$rc" != $qrc ] || ! cmp -s "$tmp/got" "$tmp/qgot"; then
    fail "hello-matches-qemu: trapeze (status $rc) and QEMU (status $qrc) differ:" \
        "$(first_difference "$tmp/got" "$tmp/qgot")"
else
    echo "PASS hello-matches-qemu"
fi
exit $failed
