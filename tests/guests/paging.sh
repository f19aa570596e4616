#!/bin/sh
# tests/guests/paging.sh - the paging feature guest (guests/paging.asm) under
# trapeze: one line per check the guest makes, its whole output against the
# text of a fully passing run, its exit status, and QEMU's run of the same
# guest (the oracle: its output must match trapeze's).
#
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"
KERNEL=$G/paging.elf

# The guest's checks, in the order it makes them (guests/paging.asm).
CHECKS="pse-4mib-page demand-zero-read demand-zero-write pf-not-present-read
pf-not-present-write wp0-write-readonly pf-protection-write-wp1 accessed-dirty
remap-invlpg cr3-reload user-page-ring3 pf-user-read-supervisor
pf-user-write-supervisor"

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

check_guest paging "$KERNEL" "$CHECKS"
exit $failed
