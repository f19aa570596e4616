#!/bin/sh
# tests/guests/cmdline.sh - the command line's promises (DESIGN.md
# "Conventions users already know"): every bad path, bad image, unknown or
# not-yet-supported flag gets exactly one line on stderr and exit status 2;
# -help exits 0; the demo guest boots from -kernel.
#
# Run: BUILD=build sh tests/guests/cmdline.sh   (tests/run.sh does it)
# Prints PASS/FAIL/SKIP lines as tests/test.h does.
. "$(dirname "$0")/lib.shinc"
require "cmdline: $TRAPEZE is not built (make)" "$TRAPEZE"

# expect_error (lib.shinc) NAME STATUS PATTERN ARGS...: status STATUS, one
# stderr line matching PATTERN, nothing on stdout.
QUIET_STDOUT=1

printf 'this is not a kernel\n' > "$tmp/notmb.bin"
expect_error cmdline_bad_path        2 "No such file or directory" -kernel "$tmp/nonexistent.elf"
expect_error cmdline_not_multiboot   2 "not a Multiboot kernel (no header in the first 8 KiB)" -kernel "$tmp/notmb.bin"
expect_error cmdline_unknown_flag    2 "unknown option '-foo' (see trapeze -help)" -foo
: > "$tmp/empty.img"
expect_error cmdline_fda_empty       2 "the file is empty" -fda "$tmp/empty.img"
expect_error cmdline_gdb_with_monitor 2 "not supported yet" -s -monitor
expect_error cmdline_missing_arg     2 "needs an argument" -kernel
expect_error cmdline_no_image        2 "no bootable image: use -kernel FILE"
expect_error cmdline_bad_ram         2 "RAM must be" -m 1 -kernel "$tmp/notmb.bin"
# Guest RAM stays below the VMM-private window at 0xF0000000 (3840 MiB).
expect_error cmdline_ram_below_private 2 "RAM must be 2 MiB to 3072 MiB" -m 3840 -kernel "$tmp/notmb.bin"
expect_error cmdline_ram_4g          2 "RAM must be" -m 4G -kernel "$tmp/notmb.bin"
expect_error cmdline_bad_serial      2 "unknown backend" -serial tcp:1234 -kernel "$tmp/notmb.bin"
expect_error cmdline_bad_device      2 "unknown device" -device e1000
expect_error cmdline_bad_smp         2 "one CPU" -smp 2
expect_error cmdline_bt_virtualizable 2 "only with -engine tae" -engine bt -cpu pentium,virtualizable=on -kernel "$tmp/notmb.bin"
expect_error cmdline_bad_bios        2 "No such file or directory" -bios "$tmp/nonexistent.rom"

"$TRAPEZE" -help > "$tmp/out" 2> "$tmp/err"
if [ $? -eq 0 ] && grep -q -- "-kernel" "$tmp/out" && [ ! -s "$tmp/err" ]; then
    echo "PASS cmdline_help"
else
    echo "FAIL cmdline_help: -help must print usage on stdout and exit 0"
fi

# The demo guest: greets on COM1 (here a file) and passes with isa-debug-exit 16.
HELLO=$G/hello.elf
if [ -f "$HELLO" ]; then
    timeout 60 "$TRAPEZE" -kernel "$HELLO" -append "x y" -nographic -m 64M -serial "file:$tmp/com1" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 > "$tmp/out" 2> "$tmp/err" < /dev/null
    rc=$?
    if [ $rc -eq 33 ] && grep -q "Hello from trapeze!" "$tmp/com1" && grep -q "cmdline: $HELLO x y" "$tmp/com1"; then
        echo "PASS cmdline_boot_hello"
    else
        echo "FAIL cmdline_boot_hello: status $rc, COM1: $(head -c 200 "$tmp/com1" 2>/dev/null) $(head -c 200 "$tmp/err")"
    fi
else
    echo "SKIP cmdline_boot_hello: $HELLO not built"
fi
