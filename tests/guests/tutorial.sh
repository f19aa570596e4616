#!/bin/sh
# tests/guests/tutorial.sh - every step of the labs in tutorial/ (and of the
# exercise answers in tutorial/answers/) run as a student would run it, its
# output compared with what the lab says the student will see.  The sessions
# are the ```trapeze-session blocks; tutorial_check.py runs them (the format
# is in tutorial/README.md, "How the labs are checked").
#
# The expected outputs in the labs come from the guests' sources and nasm's
# listings (each lab says where every value comes from), not from trapeze.
# Prints one PASS / FAIL / SKIP line per step.
. "$(dirname "$0")/lib.shinc"
require "tutorial: $TRAPEZE or the guests are not built (make)" "$TRAPEZE" "$G/smc.elf"
skip_without python3 "python3 is not installed" tutorial
# Not exec: the EXIT trap removes lib.shinc's $tmp.
BUILD=$BUILD python3 "$(dirname "$0")/tutorial_check.py"
exit $?
