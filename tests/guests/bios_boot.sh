#!/bin/sh
# tests/guests/bios_boot.sh - booting floppies and hard disks through the
# built-in BIOS (machine/bios/), with QEMU + SeaBIOS as the oracle.
#
#   boot_hello   guests/boot_hello_floppy.asm: int 10h teletype; COM1 equal
#                to QEMU's, the -screendump text as the guest source says
#   boot_loader  guests/boot_loader_floppy.asm: int 13h/15h/11h/12h in real
#                mode, then protected mode, PIT ticks through the PIC, the
#                RTC, IDE PIO; every line that does not describe the BIOS
#                itself equal to QEMU's, and the rest as the references say
#   boot_hd      the boot_hello sector as sector 0 of a hard disk (-hda,
#                -boot c): DL = 80h
#   no_boot      an image without the 55 AA signature: "No bootable
#                device." on the screen, one stderr line, exit status 4
#   boot_img     build/guests/boot.img (the issue's name for boot_hello.img)
#                boots the same; a missing and an empty image: one stderr
#                line each, exit status 2; a truncated one (one sector
#                short) boots, as under QEMU
#   floppy_odd   guests/floppy_odd_floppy.asm in images of no floppy size
#                (512, 1000, 1024 bytes): QEMU boots them as 2.88 MB disks
#                padded with zeros; int 13h's geometry, reads and a write
#                past the file's end equal to QEMU's
#
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"

require_files bios-files "$TRAPEZE" "$G/boot_hello.img" "$G/boot_loader.img" "$G/boot.img" \
    "$G/floppy_odd.img"

# trapeze NAME STATUS ARGS...: run headless, want exit STATUS; output in $tmp/NAME.*
trapeze() {
    name=$1 want=$2
    shift 2
    timeout 30 "$TRAPEZE" -display none -screendump "$tmp/$name.screen" "$@" \
        </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err"
    rc=$?
    tr -d '\r' < "$tmp/$name.out" > "$tmp/$name.serial"
    if [ $rc -ne "$want" ]; then
        fail "$name: exit status $rc, want $want; stderr: $(head -n 1 "$tmp/$name.err")"
        return 1
    fi
    return 0
}

# qemu NAME ARGS...: QEMU's serial output in $tmp/NAME.qemu
qemu() {
    name=$1
    shift
    timeout 30 qemu-system-i386 -display none -serial stdio -monitor none $QEMU_EXIT "$@" \
        </dev/null 2>/dev/null | tr -d '\r' > "$tmp/$name.qemu"
}

# --- boot_hello: the screen as the guest source says, COM1 as QEMU ---
if trapeze boot_hello 33 -fda "$G/boot_hello.img"; then
    # The BIOS's banner and boot line, then the guest's two lines.
    printf 'trapeze BIOS\n\nBooting from Floppy...\nHello from the boot sector!\nboot drive 00\n' > "$tmp/want.screen"
    sed -e 's/ *$//' "$tmp/boot_hello.screen" | head -n 5 > "$tmp/got.screen"
    if ! cmp -s "$tmp/want.screen" "$tmp/got.screen"; then
        fail "boot_hello-screen: got '$(tr '\n' '|' < "$tmp/got.screen")'"
    elif [ -s "$tmp/boot_hello.err" ]; then
        fail "boot_hello-screen: stderr: $(head -n 1 "$tmp/boot_hello.err")"
    else
        echo "PASS boot_hello-screen"
    fi
    if ! have_qemu; then
        echo "SKIP boot_hello-qemu: qemu-system-i386 not installed"
    else
        qemu boot_hello -drive "file=$G/boot_hello.img,if=floppy,format=raw,readonly=on"
        if cmp -s "$tmp/boot_hello.serial" "$tmp/boot_hello.qemu" && [ -s "$tmp/boot_hello.qemu" ]; then
            echo "PASS boot_hello-qemu"
        else
            fail "boot_hello-qemu: trapeze '$(tr '\n' '|' < "$tmp/boot_hello.serial")' QEMU '$(tr '\n' '|' < "$tmp/boot_hello.qemu")'"
        fi
    fi
fi

# --- boot_img: build/guests/boot.img, and bad images in its place ---
if trapeze boot_img 33 -fda "$G/boot.img"; then
    if grep -qx 'Hello from the boot sector!' "$tmp/boot_img.serial"; then
        echo "PASS boot_img"
    else
        fail "boot_img: COM1 '$(tr '\n' '|' < "$tmp/boot_img.serial")'"
    fi
fi
head -c 1474048 "$G/boot.img" > "$tmp/short.img"
# bad_image NAME PATTERN IMAGE: exit status 2, one stderr line matching PATTERN
bad_image() {
    if trapeze "$1" 2 -fda "$3"; then
        if [ "$(wc -l < "$tmp/$1.err")" -eq 1 ] && grep -q "$2" "$tmp/$1.err"; then
            echo "PASS $1"
        else
            fail "$1: stderr '$(tr '\n' '|' < "$tmp/$1.err")', want one line saying '$2'"
        fi
    fi
}
bad_image boot_img_missing "^trapeze: $tmp/none.img: No such file or directory\$" "$tmp/none.img"
: > "$tmp/empty.img"
bad_image boot_img_empty "^trapeze: $tmp/empty.img: the file is empty" "$tmp/empty.img"
# One sector short of 1.44 MB: QEMU boots it (as a 2.88 MB disk), and so do we.
if trapeze boot_img_truncated 33 -fda "$tmp/short.img"; then
    if grep -qx 'Hello from the boot sector!' "$tmp/boot_img_truncated.serial"; then
        echo "PASS boot_img_truncated"
    else
        fail "boot_img_truncated: COM1 '$(tr '\n' '|' < "$tmp/boot_img_truncated.serial")'"
    fi
fi

# --- floppy_odd: images of no floppy size, against QEMU ---
for size in 512 1000 1024; do
    cp "$G/floppy_odd.img" "$tmp/odd$size.img"
    head -c $((size - 512)) /dev/zero | tr '\0' '"' >> "$tmp/odd$size.img"   # 0x22 bytes after the boot sector
    if trapeze "floppy_odd_$size" 33 -fda "$tmp/odd$size.img"; then
        if ! have_qemu; then
            echo "SKIP floppy_odd_$size: qemu-system-i386 not installed"
            continue
        fi
        cp "$tmp/odd$size.img" "$tmp/oddq$size.img"
        qemu "floppy_odd_$size" -drive "file=$tmp/oddq$size.img,if=floppy,format=raw"
        if [ -s "$tmp/floppy_odd_$size.qemu" ] &&
           cmp -s "$tmp/floppy_odd_$size.serial" "$tmp/floppy_odd_$size.qemu" &&
           cmp -s "$tmp/odd$size.img" "$tmp/oddq$size.img"; then
            echo "PASS floppy_odd_$size"
        else
            fail "floppy_odd_$size: trapeze '$(tr '\n' '|' < "$tmp/floppy_odd_$size.serial")'" \
                "QEMU '$(tr '\n' '|' < "$tmp/floppy_odd_$size.qemu")'"
        fi
    fi
done

# --- boot_loader ---
truncate -s 2M "$tmp/hd.img"
printf 'HD0!' | dd of="$tmp/hd.img" conv=notrunc 2>/dev/null
cp "$tmp/hd.img" "$tmp/hdq.img"
if trapeze boot_loader 33 -fda "$G/boot_loader.img" -hda "$tmp/hd.img" -m 128; then
    # The references, written out for -m 128, a 1.44 MB floppy and a 2 MiB disk:
    #  int11: bit 0 floppy, bits 5-4 = 10b 80x25 colour, bits 11-9 = 2 serial ports
    #  int13-08: 1.44 MB = 80 x 2 x 18: CX = 4F12h, DH = 1, DL = 1 drive, BL = 4
    #  int13-48: 2 MiB = 4096 sectors = 4 x 16 x 63 (base/disk.h)
    #  e820: the Multiboot map (machine/multiboot.c), 128 MiB
    cat > "$tmp/want.loader" <<'EOW'
int11 0421
int12 027f
int13-08 0000 0004 4f12 0101
int13-41 aa55 0001
int13-42 21304448
int13-48 00000004 00000010 0000003f 00001000
int15-88 fc00
int15-2402 0001
e820 00000000 0009fc00 00000001
e820 0009fc00 00000400 00000002
e820 000f0000 00010000 00000002
e820 00100000 07f00000 00000001
pm ok
pit ticks 10
rtc ok
ide ok
done
EOW
    if cmp -s "$tmp/want.loader" "$tmp/boot_loader.serial"; then
        echo "PASS boot_loader-reference"
    else
        fail "boot_loader-reference: $(diff "$tmp/want.loader" "$tmp/boot_loader.serial" | grep '^[<>]' | tr '\n' '|')"
    fi
    if ! have_qemu; then
        echo "SKIP boot_loader-qemu: qemu-system-i386 not installed"
    else
        qemu boot_loader -drive "file=$G/boot_loader.img,if=floppy,format=raw,readonly=on" \
            -drive "file=$tmp/hdq.img,if=ide,index=0,format=raw" -m 128
        # SeaBIOS's own answers differ where the BIOSes differ by design:
        # int11 (QEMU: one COM port, an LPT, FPU and mouse bits) and E820
        # (SeaBIOS reserves its tables at the top of RAM and the 4 GiB ROM).
        grep -v '^int11 \|^e820 ' "$tmp/boot_loader.serial" > "$tmp/a"
        grep -v '^int11 \|^e820 ' "$tmp/boot_loader.qemu" > "$tmp/b"
        if [ -s "$tmp/b" ] && cmp -s "$tmp/a" "$tmp/b"; then
            echo "PASS boot_loader-qemu"
        else
            fail "boot_loader-qemu: $(diff "$tmp/a" "$tmp/b" | grep '^[<>]' | tr '\n' '|')"
        fi
    fi
    # The IDE write reached the image: sector 1 starts 00 00 5A 5A (dword 5A5A0000).
    if [ "$(od -An -tx1 -j 512 -N 4 "$tmp/hd.img" | tr -d ' ')" = "00005a5a" ]; then
        echo "PASS boot_loader-ide-image"
    else
        fail "boot_loader-ide-image: sector 1 of the image was not written"
    fi
fi

# --- boot_hd: the same boot sector from a hard disk ---
cp "$G/boot_hello.img" "$tmp/hdboot.img"
truncate -s 1032192 "$tmp/hdboot.img"     # 1 x 32 x 63 sectors: a hard disk, not a floppy size
if trapeze boot_hd 33 -hda "$tmp/hdboot.img" -boot c; then
    if grep -q '^boot drive 80$' "$tmp/boot_hd.serial" && grep -q '^Booting from Hard Disk\.\.\.' "$tmp/boot_hd.screen"; then
        echo "PASS boot_hd"
    else
        fail "boot_hd: serial '$(tr '\n' '|' < "$tmp/boot_hd.serial")'"
    fi
fi

# --- no bootable device ---
truncate -s 1474560 "$tmp/blank.img"
if trapeze no_boot 4 -fda "$tmp/blank.img"; then
    if ! grep -q '^No bootable device\.' "$tmp/no_boot.screen"; then
        fail "no_boot: the screen does not say 'No bootable device.'"
    elif [ "$(wc -l < "$tmp/no_boot.err")" -ne 1 ] ||
         ! grep -q '^trapeze: no bootable device (floppy A: no 55 AA boot signature, hard disk C: no image)$' "$tmp/no_boot.err"; then
        fail "no_boot: stderr '$(tr '\n' '|' < "$tmp/no_boot.err")'"
    else
        echo "PASS no_boot"
    fi
fi

exit $failed
