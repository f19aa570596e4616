#!/bin/sh
# tests/guests/cmdline_disks.sh - the disk options: -hda -hdb -fda -fdb
# -drive -boot.  Bad images and bad values get one line on stderr and exit
# status 2; good ones are accepted (with -kernel the demo guest still runs;
# without it the BIOS boot that comes next is named).
#
# Run: BUILD=build sh tests/guests/cmdline_disks.sh   (tests/run.sh does it)
. "$(dirname "$0")/lib.shinc"
HELLO=$G/hello.elf
require "cmdline_disks: $TRAPEZE or $HELLO is not built (make)" "$TRAPEZE" "$HELLO"

# runs NAME ARGS...: the demo guest boots (status 33) with these disks attached, stderr empty.
runs() {
    name=$1
    shift
    timeout 30 "$TRAPEZE" -kernel "$HELLO" -nographic "$@" > "$tmp/out" 2> "$tmp/err" < /dev/null
    rc=$?
    if [ $rc -eq 33 ] && [ ! -s "$tmp/err" ]; then
        echo "PASS $name"
    else
        echo "FAIL $name: status $rc, want 33; stderr: $(head -c 200 "$tmp/err")"
    fi
}

truncate -s 1474560 "$tmp/fd.img"
truncate -s 2M "$tmp/hd.img"
truncate -s 2M "$tmp/hd2.img"
head -c 1000 /dev/zero > "$tmp/odd.img"

expect_error disks_missing_image    2 "^trapeze: $tmp/none.img: No such file or directory\$" -kernel "$HELLO" -hda "$tmp/none.img"
# A floppy of no standard size is padded as QEMU pads it (bios_boot.sh); an empty one is refused.
: > "$tmp/empty.img"
expect_error disks_floppy_empty     2 "^trapeze: $tmp/empty.img: the file is empty (a floppy image holds at least a boot sector)\$" -kernel "$HELLO" -fda "$tmp/empty.img"
expect_error disks_not_sectors      2 "1000 bytes is not a disk image (a raw image is a whole number of 512-byte sectors" -kernel "$HELLO" -hdb "$tmp/odd.img"
expect_error disks_hda_twice        2 "the IDE master already holds" -hda "$tmp/hd.img" -hda "$tmp/hd2.img"
expect_error disks_drive_if         2 "if=virtio: trapeze has if=ide and if=floppy only" -drive "file=$tmp/hd.img,if=virtio"
expect_error disks_drive_format     2 "format=qcow2: trapeze reads raw images only" -drive "file=$tmp/hd.img,format=qcow2"
expect_error disks_drive_cdrom      2 "no CD-ROM" -drive "file=$tmp/hd.img,media=cdrom"
expect_error disks_drive_index      2 "index=2: trapeze has the primary IDE channel only" -drive "file=$tmp/hd.img,if=ide,index=2"
expect_error disks_drive_no_file    2 "file=IMAGE is missing" -drive "if=ide,index=0"
expect_error disks_drive_unknown    2 "unknown property 'cache'" -drive "file=$tmp/hd.img,cache=none"
expect_error disks_drive_readonly   2 "readonly=maybe: use on or off" -drive "file=$tmp/hd.img,readonly=maybe"
expect_error disks_boot_cdrom       2 "no CD-ROM drive" -boot d
expect_error disks_boot_network     2 "network boot" -boot n
expect_error disks_boot_unknown     2 "unknown drive letter 'x'" -boot order=ax
expect_error disks_boot_twice       2 "given twice" -boot order=cc
expect_error disks_boot_menu        2 "order=LETTERS only" -boot menu=on
expect_error disks_no_boot_sig_hd   4 "^trapeze: no bootable device (hard disk C: no 55 AA boot signature)\$" -hda "$tmp/hd.img" -boot c
expect_error disks_no_boot_sig_fd   4 "^trapeze: no bootable device (floppy A: no 55 AA boot signature)\$" -fda "$tmp/fd.img" -boot a

runs disks_hda_hdb_fda_fdb -hda "$tmp/hd.img" -hdb "$tmp/hd2.img" -fda "$tmp/fd.img" -fdb "$tmp/fd.img" -boot order=ac
runs disks_drive_xv6_style -drive "file=$tmp/hd.img,index=0,media=disk,format=raw" \
    -drive "file=$tmp/hd2.img,index=1,media=disk,format=raw"
runs disks_drive_floppy -drive "file=$tmp/fd.img,if=floppy,index=0,readonly=on" -boot a
cp "$tmp/hd.img" "$tmp/a,b.img"
runs disks_drive_comma_escape -drive "file=$tmp/a,,b.img,if=ide"

# A file the user cannot write is used read-only, without complaint (root writes anything).
if [ "$(id -u)" -ne 0 ]; then
    chmod 0444 "$tmp/hd2.img"
    runs disks_unwritable_is_read_only -hda "$tmp/hd2.img"
else
    echo "SKIP disks_unwritable_is_read_only: running as root, every file is writable"
fi
