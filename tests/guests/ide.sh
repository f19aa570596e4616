#!/bin/sh
# tests/guests/ide.sh - guests/ide.asm on the primary ATA channel: IDENTIFY,
# READ SECTORS of a prepared sector 0, WRITE SECTORS of sector 1 and reading
# it back by LBA and by CHS.  Checked three ways: the text the guest prints
# (its sector 0 line and byte sum computed here from the image with od),
# sector 1 of the image file afterwards (byte i = 3i + 1, from this script),
# and QEMU running the same guest on its own copy of the image.
#
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"
KERNEL=$G/ide.elf
require "ide-guest: $KERNEL or $TRAPEZE is not built (make)" "$KERNEL" "$TRAPEZE"

# The image: 1 MiB (2048 sectors); sector 0 = a line, a NUL, printable filler.
make_image() {
    LC_ALL=C awk 'BEGIN { s = "trapeze ide test: sector zero"; printf "%s", s; printf "%c", 0;
        for (i = length(s) + 1; i < 512; i++) printf "%c", 33 + (i % 90) }' > "$1"
    truncate -s 1M "$1"
}
make_image "$tmp/disk.img"
make_image "$tmp/qemu.img"

sum=$(od -An -tu1 -v -N512 "$tmp/disk.img" | awk '{ for (i = 1; i <= NF; i++) s += $i } END { printf "%08x", s }')
cat > "$tmp/want" <<WANT
identify: ATA disk, LBA, 2048 sectors
sector 0: trapeze ide test: sector zero
sector 0: byte sum $sum
sector 1: written and read back (LBA 1)
sector 1: read back through CHS 0/0/2
ide: all checks passed
WANT

# sector1_ok IMAGE: sector 1 holds byte i = (3i + 1) mod 256.
sector1_ok() {
    od -An -tu1 -v -j512 -N512 "$1" | awk '{ for (i = 1; i <= NF; i++) { if ($i != (3 * n + 1) % 256) bad++; n++ } }
        END { exit (n == 512 && bad == 0) ? 0 : 1 }'
}

run_trapeze 30 -kernel "$KERNEL" -hda "$tmp/disk.img" -nographic
if [ $rc -eq $PASS_STATUS ] && cmp -s "$tmp/got" "$tmp/want"; then
    echo "PASS ide-guest"
else
    fail "ide-guest: status $rc; output: $(head -c 300 "$tmp/got"); stderr: $(head -c 200 "$tmp/err")"
fi
if sector1_ok "$tmp/disk.img"; then
    echo "PASS ide-write-reaches-image"
else
    fail "ide-write-reaches-image: sector 1 of the image is not the pattern the guest wrote"
fi

# Read-only (-drive ...,readonly=on): the write is refused (ABRT), the guest
# says so and fails, the image is untouched; trapeze says it once in the
# guest_errors log channel (-d guest_errors), and nothing without it (as QEMU).
make_image "$tmp/ro.img"
cp "$tmp/ro.img" "$tmp/ro.orig"
timeout 30 "$TRAPEZE" -kernel "$KERNEL" -drive "file=$tmp/ro.img,if=ide,index=0,media=disk,format=raw,readonly=on" \
    -nographic -d guest_errors </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
timeout 30 "$TRAPEZE" -kernel "$KERNEL" -drive "file=$tmp/ro.img,if=ide,index=0,media=disk,format=raw,readonly=on" \
    -nographic </dev/null >/dev/null 2>"$tmp/err_default"
if [ $rc -eq 35 ] && grep -q "FAIL WRITE SECTORS of LBA 1 failed" "$tmp/out" &&
   [ "$(grep -c "read-only" "$tmp/err")" -eq 1 ] && ! [ -s "$tmp/err_default" ] &&
   cmp -s "$tmp/ro.img" "$tmp/ro.orig"; then
    echo "PASS ide-read-only-image"
else
    fail "ide-read-only-image: status $rc (want 35); $(tr -d '\r' < "$tmp/out" | tail -n 1); stderr: $(head -c 200 "$tmp/err")"
fi

if ! have_qemu; then
    echo "SKIP ide-matches-qemu: qemu-system-i386 is not installed"
    exit $failed
fi
run_qemu 30 -kernel "$KERNEL" -drive "file=$tmp/qemu.img,format=raw,if=ide,index=0,media=disk"
if [ $qrc -ne $PASS_STATUS ] || ! cmp -s "$tmp/qgot" "$tmp/want"; then
    fail "ide-matches-qemu: QEMU itself disagrees with the expected text (status $qrc: $(head -c 300 "$tmp/qgot"))"
elif ! cmp -s "$tmp/got" "$tmp/qgot" || ! cmp -s "$tmp/disk.img" "$tmp/qemu.img"; then
    fail "ide-matches-qemu: trapeze and QEMU differ (output or the image afterwards)"
else
    echo "PASS ide-matches-qemu"
fi
exit $failed
