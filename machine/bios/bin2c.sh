#!/bin/sh
# bin2c.sh - turn the assembled BIOS ROM into a C array (STYLE.md 4: a
# checked-in generator; its output says "generated - do not edit").
#
#   sh machine/bios/bin2c.sh build/machine/bios/bios.bin > build/machine/bios/bios_rom.c
#
# The ROM is compiled into trapeze, so no file is looked up at run time.
set -eu
in=$1
size=$(wc -c < "$in")
if [ "$size" -ne 65536 ]; then
    echo "bin2c.sh: $in is $size bytes; the BIOS ROM must be exactly 65536" >&2
    exit 1
fi
echo "/* generated from machine/bios/bios.asm by machine/bios/bin2c.sh - do not edit */"
echo '#include "machine/bios/bios.h"'
echo ""
echo "const uint8_t bios_rom[BIOS_ROM_SIZE] = {"
od -An -v -tx1 "$in" | awk '{ printf "   "; for (i = 1; i <= NF; i++) printf " 0x%s,", $i; printf "\n" }'
echo "};"
