#!/bin/sh
# tests/guests/loaders.sh - what -kernel, -bios, -initrd, -hda and
# -monitor-script do with files that are not what they should be, each
# against QEMU where QEMU has a say (qemu-system-i386 is the oracle; its
# verdict is checked here too, so a QEMU that changes its mind shows up):
#
#   a FIFO                    refused at once, one line (it used to hang in open())
#   -bios of 1, 100, 65537 B  refused, as QEMU refuses them ("could not load
#                             PC BIOS"): a whole number of 64 KiB
#   a kernel at 0, 0x400      runs with its own bytes intact, as under QEMU
#   or over the EBDA          (they used to be overwritten by the BIOS's POST)
#   overlapping segments      refused, as QEMU refuses them
#   an entry outside them     runs, as under QEMU, after one warning line
#   a 200 GiB -hda            refused (LBA28 reaches 128 GiB; QEMU has LBA48)
#   -monitor-script DIR       refused (it used to run nothing and exit 0)
#   isa-debug-exit,iobase=    the port moves there, as under QEMU (this one
#                             worked already: a guard, not a fix)
#
# The kernels are made here (python3): a.out-kludge and ELF images whose
# code sends a byte to isa-debug-exit, a byte read from their own image
# where POST would have written, so status 33 means "my bytes are intact".
#
# Run: BUILD=build sh tests/guests/loaders.sh   (tests/run.sh does it)
. "$(dirname "$0")/lib.shinc"
require "loaders: $TRAPEZE is not built (make)" "$TRAPEZE"
skip_without python3 "python3 makes this test's kernels" loaders

QUIET_STDOUT=1
QEMU_ARGS="-display none -monitor none -serial none -nodefaults $QEMU_EXIT"

# qemu_status NAME ARGS...: QEMU's exit status in $qrc (10 s at most).
qemu_status() {
    # shellcheck disable=SC2086
    timeout 10 qemu-system-i386 $QEMU_ARGS "$@" </dev/null >"$tmp/qout" 2>"$tmp/qerr"
    qrc=$?
}

python3 - "$tmp" <<'EOF'
import struct, sys
d = sys.argv[1]
MB = 0x1BADB002
def cksum(flags): return (-(MB + flags)) & 0xFFFFFFFF
def probe_code(addr):
    # mov al, [addr]; out 0xF4, al; hlt; jmp $
    return b'\xA0' + struct.pack('<I', addr) + b'\xE6\xF4\xF4\xEB\xFE'
def kludge(load, size=0x200):
    f = bytearray([0x10]) * size          # 0x10: isa-debug-exit -> status 33
    f[0:32] = struct.pack('<8I', MB, 0x10000, cksum(0x10000), load, load, 0, 0, load + 0x20)
    probe = load + 0x6C                   # IVT vector 1Bh at 0, the BDA's tick count at 0x400
    f[0x20:0x2A] = probe_code(probe)
    return bytes(f)
def elf(entry, segs):
    # segs: (paddr, data, memsz); the Multiboot header opens the first one.
    off, layout = 0x1000, []
    for pa, data, memsz in segs:
        layout.append((off, pa, data, memsz))
        off += (len(data) + 0xFFF) & ~0xFFF
    f = bytearray(off)
    f[0:16] = b'\x7fELF\x01\x01\x01' + bytes(9)
    struct.pack_into('<HHIIIIIHHHHHH', f, 16, 2, 3, 1, entry, 52, 0, 0, 52, 32, len(segs), 40, 0, 0)
    for i, (o, pa, data, memsz) in enumerate(layout):
        struct.pack_into('<8I', f, 52 + 32 * i, 1, o, pa, pa, len(data), memsz, 7, 0x1000)
        f[o:o + len(data)] = data
    return bytes(f)
def text(probe):
    b = bytearray([0x10]) * 0x400
    b[0:12] = struct.pack('<3I', MB, 3, cksum(3))
    b[0x20:0x2A] = probe_code(probe)
    return bytes(b)
def w(name, data): open(d + '/' + name, 'wb').write(data)
w('k0.bin', kludge(0))
w('k400.bin', kludge(0x400))
w('k1m.bin', kludge(0x100000))
w('ebda.elf', elf(0x9FA20, [(0x9FA00, text(0x9FD00), 0x400)]))   # probes inside the EBDA
w('overlap.elf', elf(0x100020, [(0x100000, text(0x100040), 0x400), (0x100200, b'\xCC' * 16, 16)]))
w('entry_out.elf', elf(0x300000, [(0x100000, text(0x100040), 0x400)]))
for n in (1, 100, 65537):
    w('bios%d.rom' % n, bytes(n))
EOF

# ---- FIFOs: one line, at once ----
mkfifo "$tmp/fifo"
expect_error loaders_kernel_fifo  2 "fifo: not a regular file (a FIFO)" -kernel "$tmp/fifo"
expect_error loaders_initrd_fifo  2 "fifo: not a regular file (a FIFO)" -kernel "$tmp/k0.bin" -initrd "$tmp/fifo"
expect_error loaders_bios_fifo    2 "not a regular file" -bios "$tmp/fifo"
expect_error loaders_hda_fifo_ro  2 "not a disk image" -drive "file=$tmp/fifo,readonly=on" -kernel "$tmp/k0.bin"

# ---- -bios sizes: QEMU's rule ----
for n in 1 100 65537; do
    expect_error "loaders_bios_${n}_bytes" 2 "a file of $n bytes is not a ROM image" -bios "$tmp/bios$n.rom"
    if have_qemu; then
        qemu_status -bios "$tmp/bios$n.rom"
        if [ $qrc -ne 0 ] && grep -q "could not load PC BIOS" "$tmp/qerr"; then
            echo "PASS loaders_bios_${n}_bytes_qemu_refuses"
        else
            fail "loaders_bios_${n}_bytes_qemu_refuses: QEMU status $qrc, $(head -c 200 "$tmp/qerr")"
        fi
    fi
done

# ---- low kernels: their bytes win over POST's, as under QEMU ----
for k in k0.bin k400.bin ebda.elf; do
    name=loaders_low_kernel_${k%%.*}
    run_trapeze 20 -kernel "$tmp/$k" -display none -serial none
    if [ $rc -eq $PASS_STATUS ]; then
        echo "PASS $name"
    else
        fail "$name: status $rc, want $PASS_STATUS ($(head -n 1 "$tmp/err"))"
    fi
    if have_qemu; then
        qemu_status -kernel "$tmp/$k"
        if [ $qrc -eq $PASS_STATUS ]; then echo "PASS ${name}_qemu"; else fail "${name}_qemu: QEMU status $qrc"; fi
    fi
done

# ---- segments and entry ----
expect_error loaders_overlapping_segments 2 "segments at 0x00100000-0x00100400 and 0x00100200-0x00100210 overlap" \
    -kernel "$tmp/overlap.elf"
if have_qemu; then
    qemu_status -kernel "$tmp/overlap.elf"
    if [ $qrc -eq 1 ]; then echo "PASS loaders_overlapping_segments_qemu"
    else fail "loaders_overlapping_segments_qemu: QEMU status $qrc, want 1 (refused)"; fi
fi
# The entry lies in zeroed RAM: the guest runs on (add [eax], al) until killed.
run_trapeze 3 -kernel "$tmp/entry_out.elf" -display none -serial none
if [ $rc -eq 124 ] && [ "$(grep -c . "$tmp/err")" -ge 1 ] &&
   head -n 1 "$tmp/err" | grep -q "warning: the entry point 0x00300000 lies outside every loaded segment"; then
    echo "PASS loaders_entry_outside_segments_runs"
else
    fail "loaders_entry_outside_segments_runs: status $rc, stderr $(head -c 200 "$tmp/err")"
fi

# ---- disks ----
if truncate -s 200G "$tmp/big.img" 2>/dev/null; then
    expect_error loaders_hda_200g 2 "more than the IDE drive can address (LBA28" -hda "$tmp/big.img" -kernel "$tmp/k0.bin"
else
    echo "SKIP loaders_hda_200g: no sparse files in $tmp"
fi
rm -f "$tmp/big.img"

# ---- flags ----
mkdir "$tmp/dir"
expect_error loaders_monitor_script_dir 2 "-monitor-script $tmp/dir: is a directory" \
    -kernel "$tmp/k0.bin" -monitor-script "$tmp/dir"
# isa-debug-exit moved to 0x501: the kernel's OUT to 0xF4 no longer exits
# (it halts: status 4), as under QEMU, where it finds no port (it runs on).
run_trapeze 20 -kernel "$tmp/k1m.bin" -display none -serial none -device isa-debug-exit,iobase=0x501
if [ $rc -eq 4 ] && grep -q "halted" "$tmp/err"; then
    echo "PASS loaders_debug_exit_iobase_moves"
else
    fail "loaders_debug_exit_iobase_moves: status $rc, want 4 ($(head -n 1 "$tmp/err"))"
fi
exit $failed
