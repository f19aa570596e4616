#!/bin/sh
# tests/guests/pmode.sh - the protected-mode feature guest (guests/pmode.asm)
# under trapeze: one line per check the guest makes, its whole output against
# the text of a fully passing run, its exit status, and QEMU's run of the
# same guest.
#
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"
KERNEL=$G/pmode.elf

# The guest's checks, in the order it makes them (guests/pmode.asm).
CHECKS="de-divide-by-zero ud-ud2 gp-bad-selector np-not-present-segment bp-int3
call-gate-ring0 iret-to-ring3 syscall-int80-tss-esp0 gp-cli-at-ring3
gp-io-at-ring3 gp-dpl0-data-at-ring3 gp-int-dpl0-gate call-gate-ring3-to-ring0
df-task-gate"

# What a run in which every check passes prints.
{
    echo "pmode: protected-mode checks"
    n=0
    for c in $CHECKS; do
        echo "ok $c"
        [ "$c" = iret-to-ring3 ] && echo "hello from ring 3 through int 0x80"
        n=$((n + 1))
    done
    echo "pmode: all $n checks passed"
} > "$tmp/want"

check_guest pmode "$KERNEL" "$CHECKS"
exit $failed
