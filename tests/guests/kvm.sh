#!/bin/sh
# tests/guests/kvm.sh - the guests under -engine kvm against the same guests
# under -engine emu (the reference engine): same exit status, same output.
#
#   guest     what it exercises under kvm
#   realmode  a -bios ROM that stays in real mode (guests/realmode_bios.asm):
#             reset vector, IVT, A20 wrap through port 92h (the HMA slot)
#   hello     unpaged protected mode (Multiboot), COM1 and the command line
#   pmode     unpaged protected mode without LAR/LSL: rings, gates, TSS,
#             exceptions through the guest IDT, a task gate
#   compute   500 M instructions with no exits, then one line
#   ioloop    1 M OUT instructions: one KVM_EXIT_IO each
#   timer     PIC + PIT interrupts injected with KVM_INTERRUPT (when built)
#   realmode-to-pmode  guests/realmode.asm: reset vector, GDT, CR0.PE, far
#             jump to 32-bit code (when built)
#
# Without /dev/kvm each kvm check prints SKIP with the reason; what can be
# checked anyway is: the one line -engine kvm prints, and the real-mode
# guest's own output under emu (and QEMU, when installed).
#
# Host limits.  Some KVM implementations cannot run a guest through no
# fault of trapeze (vmm/README.md, /work/shared/KVM-HOSTS.md: kvm-pvm's
# instruction emulator stops at LAR/LSL in unpaged protected mode).  A kvm
# run that differs from emu is a failure unless it ended on the engine's
# error line with an exit reason and instruction listed here:
#   guest (* = any) | exit reason | instruction mnemonic | why
KNOWN_HOST_LIMITS='
*|KVM_EXIT_INTERNAL_ERROR|lar|kvm-pvm: emulation failure at LAR in unpaged protected mode (KVM-HOSTS.md)
*|KVM_EXIT_INTERNAL_ERROR|lsl|kvm-pvm: emulation failure at LSL, the same emulator path as LAR
'
. "$(dirname "$0")/lib.shinc"
LIMIT=60
require "kvm-tests: $TRAPEZE is not built" "$TRAPEZE"

# Why kvm cannot run here, or nothing.
no_kvm=""
if [ ! -e /dev/kvm ]; then
    no_kvm="/dev/kvm not found: this host has no KVM (needs VT-x/AMD-V and kvm-intel/kvm-amd)"
elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    no_kvm="/dev/kvm is not readable and writable by $(id -un)"
fi

# ---- the line -engine kvm prints where it cannot run
if [ -n "$no_kvm" ] && [ ! -e /dev/kvm ]; then
    timeout 10 "$TRAPEZE" -engine kvm -kernel "$G/hello.elf" -nographic </dev/null >"$tmp/o" 2>"$tmp/e"
    rc=$?
    want="trapeze: -engine kvm: /dev/kvm not found (this host has no KVM: load kvm-intel/kvm-amd, or run trapeze on a machine with VT-x/AMD-V; -engine emu works everywhere)"
    if [ $rc -eq 6 ] && [ "$(cat "$tmp/e")" = "$want" ] && [ ! -s "$tmp/o" ]; then
        echo "PASS kvm-absent-message"
    else
        fail "kvm-absent-message: status $rc (want 6), stderr: $(head -n 2 "$tmp/e")"
    fi
else
    echo "SKIP kvm-absent-message: this host has /dev/kvm"
fi

# ---- the real-mode guest's own oracle: what a passing run prints
printf '%s\n' "realmode: real-mode checks from the reset vector" "ok seg-arith" "ok ivt-int" \
    "ok rep-movsw" "ok a20-wrap" "ok a20-on" "realmode: all 5 checks passed" > "$tmp/realmode.want"
timeout 20 "$TRAPEZE" -bios "$G/realmode_bios.rom" -nographic </dev/null 2>"$tmp/e" | tr -d '\r' > "$tmp/realmode.emu"
rc=$(timeout 20 "$TRAPEZE" -bios "$G/realmode_bios.rom" -nographic </dev/null >/dev/null 2>&1; echo $?)
if [ "$rc" -eq 33 ] && cmp -s "$tmp/realmode.emu" "$tmp/realmode.want"; then
    echo "PASS realmode-emu"
else
    fail "realmode-emu: status $rc; output: $(tr '\n' '|' < "$tmp/realmode.emu" | cut -c 1-120)"
fi
if have_qemu; then
    timeout 20 qemu-system-i386 -bios "$G/realmode_bios.rom" -display none -serial stdio -monitor none \
        $QEMU_EXIT </dev/null 2>/dev/null | tr -d '\r' > "$tmp/realmode.qemu"
    if cmp -s "$tmp/realmode.qemu" "$tmp/realmode.want"; then
        echo "PASS realmode-matches-qemu"
    else
        fail "realmode-matches-qemu: QEMU printed: $(tr '\n' '|' < "$tmp/realmode.qemu" | cut -c 1-120)"
    fi
else
    echo "SKIP realmode-matches-qemu: qemu-system-i386 is not installed"
fi

# ---- each guest under emu and under kvm
# NAME|trapeze arguments (the image first)
GUESTS="realmode|-bios $G/realmode_bios.rom
hello|-kernel $G/hello.elf -append test-arg
pmode|-kernel $G/pmode.elf
compute|-kernel $G/compute.elf
ioloop|-kernel $G/ioloop.elf
timer|-kernel $G/timer.elf
realmode-to-pmode|-bios $G/realmode.rom"

# run ENGINE NAME ARGS...: output in $tmp/NAME.ENGINE.{out,err}, status in .rc
run() {
    engine=$1 name=$2
    shift 2
    timeout $LIMIT "$TRAPEZE" -engine "$engine" "$@" -nographic </dev/null \
        >"$tmp/$name.$engine.raw" 2>"$tmp/$name.$engine.err"
    echo $? > "$tmp/$name.$engine.rc"
    tr -d '\r' < "$tmp/$name.$engine.raw" > "$tmp/$name.$engine.out"
}

# host_limit NAME: the KNOWN_HOST_LIMITS line the kvm run's error matches, or nothing.
host_limit() {
    line=$(grep -m 1 '^trapeze: kvm: KVM_EXIT_' "$tmp/$1.kvm.err") || return
    reason=$(echo "$line" | sed 's/^trapeze: kvm: \(KVM_EXIT_[A-Z_0-9]*\).*/\1/')
    mnemonic=$(echo "$line" | sed -n 's/.*:\( [0-9a-f][0-9a-f]\)*  \([a-z0-9]*\).*/\2/p')
    echo "$KNOWN_HOST_LIMITS" | while IFS='|' read -r g r i why; do
        [ -n "$g" ] || continue
        if { [ "$g" = "*" ] || [ "$g" = "$1" ]; } && [ "$r" = "$reason" ] && [ "$i" = "$mnemonic" ]; then
            echo "$why ($reason at $mnemonic)"
            break
        fi
    done
}

echo "$GUESTS" | while IFS='|' read -r name args; do
    image=$(echo "$args" | awk '{ print $2 }')
    if [ ! -e "$image" ]; then
        echo "SKIP kvm-$name: $image is not built"
        continue
    fi
    if [ -n "$no_kvm" ]; then
        echo "SKIP kvm-$name: $no_kvm"
        continue
    fi
    # shellcheck disable=SC2086
    run emu "$name" $args
    # shellcheck disable=SC2086
    run kvm "$name" $args
    erc=$(cat "$tmp/$name.emu.rc") krc=$(cat "$tmp/$name.kvm.rc")
    if [ "$erc" = "$krc" ] && cmp -s "$tmp/$name.emu.out" "$tmp/$name.kvm.out"; then
        echo "PASS kvm-$name"
    elif limit=$(host_limit "$name") && [ -n "$limit" ]; then
        echo "SKIP kvm-$name: a known host limit: $limit"
    else
        why="status emu $erc, kvm $krc"
        [ "$krc" = 124 ] && why="$why (timed out after ${LIMIT}s)"
        fail "kvm-$name: $why; kvm stderr: $(head -n 1 "$tmp/$name.kvm.err");" \
            "first output difference: $(diff "$tmp/$name.emu.out" "$tmp/$name.kvm.out" | sed -n 2,3p | tr '\n' ' ')"
        echo 1 > "$tmp/failed"
    fi
done
[ -e "$tmp/failed" ] && failed=1

# ---- -stats under kvm names the exits; -icount is refused
if [ -n "$no_kvm" ]; then
    echo "SKIP kvm-stats: $no_kvm"
    echo "SKIP kvm-icount-refused: $no_kvm"
    exit $failed
fi
timeout $LIMIT "$TRAPEZE" -engine kvm -kernel "$G/hello.elf" -nographic -stats </dev/null >/dev/null 2>"$tmp/stats"
if grep -q '^engine kvm' "$tmp/stats" && grep -q 'KVM_EXIT_IO  *[1-9]' "$tmp/stats"; then
    echo "PASS kvm-stats"
else
    fail "kvm-stats: no KVM_EXIT_IO count in -stats: $(head -n 3 "$tmp/stats" | tr '\n' '|')"
fi
timeout 10 "$TRAPEZE" -engine kvm -icount shift=0 -kernel "$G/hello.elf" -nographic </dev/null >/dev/null 2>"$tmp/icount"
rc=$?
if [ $rc -eq 2 ] && grep -q -- '-icount cannot work under kvm' "$tmp/icount"; then
    echo "PASS kvm-icount-refused"
else
    fail "kvm-icount-refused: status $rc (want 2): $(head -n 1 "$tmp/icount")"
fi
exit $failed
