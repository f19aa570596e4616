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
BUILD=${BUILD:-build}
if [ ! -x "$BUILD/trapeze" ] || [ ! -e "$BUILD/guests/smc.elf" ]; then
    echo "FAIL tutorial: $BUILD/trapeze or the guests are not built (make)"
    exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP tutorial: python3 is not installed"
    exit 0
fi
BUILD=$BUILD exec python3 "$(dirname "$0")/tutorial_check.py"
