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
# Fallback (vmm/README.md).  By default, where the host's KVM cannot run
# the guest - a mode it has no native support for, an instruction KVM
# fails at, no progress - the software CPU stands in; each guest must then
# give emu's output and status, and -stats must show the fallback's share.
# With -kvm-fallback off each run must end by itself within 15 s: with
# emu's output and status, or with status 6 and one line naming a limit
# this host kind really has, listed here; anything else is a failure, so a
# trapeze bug is never blamed on the host.
#   host kind | guest (* = any) | limit (host-limit id or KVM exit) | mnemonic (* = any) | why
# The facts are ../shared/KVM-HOSTS.md's, checked on such a host by
# tests/unit/test_kvm_host.c (iretd, lar, lsl, CR0.PG, the LGDT stall).
KNOWN_HOST_LIMITS='
kvm-pvm|*|unpaged-protected-mode|*|kvm-pvm has no native unpaged protected mode: KVM emulates it per instruction and fails at IRETD, LAR, LSL
kvm-pvm|*|32-bit-paging|*|kvm-pvm: MOV to CR0 setting PG without PAE raises #GP in the guest
kvm-pvm|*|no-progress|lgdt|kvm-pvm: a real-mode LGDT makes no progress under KVM_RUN
kvm-pvm|*|KVM_EXIT_INTERNAL_ERROR|iretd|kvm-pvm: emulation failure at IRETD in protected mode
kvm-pvm|*|KVM_EXIT_INTERNAL_ERROR|lar|kvm-pvm: emulation failure at LAR in protected mode
kvm-pvm|*|KVM_EXIT_INTERNAL_ERROR|lsl|kvm-pvm: emulation failure at LSL, the same emulator path as LAR
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

# The host's KVM kind, as vmm/kvm_host.c detects it.
if [ -d /sys/module/kvm_pvm ]; then host_kind=kvm-pvm
elif [ -d /sys/module/kvm_intel ]; then host_kind="VT-x (kvm-intel)"
elif [ -d /sys/module/kvm_amd ]; then host_kind="AMD-V (kvm-amd)"
else host_kind=unknown
fi
if [ -n "$no_kvm" ]; then echo "INFO kvm host: none ($no_kvm)"; else echo "INFO kvm host: $host_kind"; fi

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
# Every guest of guests/ that ends by itself with output that does not
# depend on the host's speed (timerbench prints a loop count per 2000
# timer ticks, boot_kbd waits for typed keys: neither can be compared).
GUESTS="realmode|-bios $G/realmode_bios.rom
hello|-kernel $G/hello.elf -append test-arg
pmode|-kernel $G/pmode.elf
paging|-kernel $G/paging.elf
compute|-kernel $G/compute.elf
exit0|-kernel $G/exit0.elf
ioloop|-kernel $G/ioloop.elf
ioloop-bios|-bios $G/ioloop_bios.rom
timer|-kernel $G/timer.elf
syscall|-kernel $G/syscall.elf
smc|-kernel $G/smc.elf
rtc|-kernel $G/rtc.elf -rtc base=2026-12-07T10:00:00,clock=vm
vga_text|-kernel $G/vga_text.elf
ide|-kernel $G/ide.elf -hda @DISK@
pagebench-fault|-kernel $G/pagebench.elf -append fault
pagebench-tlb|-kernel $G/pagebench.elf -append tlb
realmode-to-pmode|-bios $G/realmode.rom
boot_hello|-fda $G/boot_hello.img
boot_loader|-fda $G/boot_loader.img -hda @DISK@
compute-floppy|-fda $G/compute.img -debugcon stdio
exit0-floppy|-fda $G/exit0.img"

# A fresh disk for each run (the ide guest writes sector 1): sector 0 as
# tests/guests/ide.sh makes it.
make_disk() {
    LC_ALL=C awk 'BEGIN { s = "trapeze ide test: sector zero"; printf "%s", s; printf "%c", 0;
        for (i = length(s) + 1; i < 512; i++) printf "%c", 33 + (i % 90) }' > "$1"
    dd if=/dev/zero bs=512 count=2047 >> "$1" 2>/dev/null
}

# run ENGINE NAME ARGS...: output in $tmp/NAME.ENGINE.{out,err}, status in .rc
run() {
    r_engine=$1 r_name=$2
    shift 2
    make_disk "$tmp/$r_name.$r_engine.disk"
    # shellcheck disable=SC2046
    set -- $(echo "$@" | sed "s|@DISK@|$tmp/$r_name.$r_engine.disk|")
    timeout $LIMIT "$TRAPEZE" -engine "$r_engine" "$@" -nographic </dev/null \
        >"$tmp/$r_name.$r_engine.raw" 2>"$tmp/$r_name.$r_engine.err"
    echo $? > "$tmp/$r_name.$r_engine.rc"
    tr -d '\r' < "$tmp/$r_name.$r_engine.raw" > "$tmp/$r_name.$r_engine.out"
}

# host_limit FILE NAME: the KNOWN_HOST_LIMITS line for this host kind
# that the error line in FILE matches, or nothing.
host_limit() {
    line=$(grep -m 1 '^trapeze: kvm: ' "$1") || return
    case $line in
    "trapeze: kvm: host limit "*)
        limit=$(echo "$line" | sed 's/^trapeze: kvm: host limit \([a-z0-9-]*\):.*/\1/') ;;
    "trapeze: kvm: KVM_EXIT_"*)
        limit=$(echo "$line" | sed 's/^trapeze: kvm: \(KVM_EXIT_[A-Z_0-9]*\).*/\1/') ;;
    *) return ;;
    esac
    mnemonic=$(echo "$line" | sed -n 's/.*code):\( [0-9a-f][0-9a-f]\)*  \([a-z0-9]*\).*/\2/p')
    echo "$KNOWN_HOST_LIMITS" | while IFS='|' read -r h g l i why; do
        [ -n "$h" ] || continue
        if [ "$h" = "$host_kind" ] && { [ "$g" = "*" ] || [ "$g" = "$2" ]; } && [ "$l" = "$limit" ] &&
           { [ "$i" = "*" ] || [ "$i" = "$mnemonic" ]; }; then
            echo "$why ($limit at $mnemonic)"
            break
        fi
    done
}

echo "$GUESTS" | while IFS='|' read -r name args; do
    image=$(echo "$args" | awk '{ print $2 }')
    if [ ! -e "$image" ]; then
        echo "SKIP kvm-$name: $image is not built"
        echo "SKIP kvm-fallback-off-$name: $image is not built"
        continue
    fi
    if [ -n "$no_kvm" ]; then
        echo "SKIP kvm-$name: $no_kvm"
        echo "SKIP kvm-fallback-off-$name: $no_kvm"
        continue
    fi
    # shellcheck disable=SC2086
    run emu "$name" $args
    # shellcheck disable=SC2086
    run kvm "$name" $args -stats
    erc=$(cat "$tmp/$name.emu.rc") krc=$(cat "$tmp/$name.kvm.rc")
    if [ "$erc" = "$krc" ] && cmp -s "$tmp/$name.emu.out" "$tmp/$name.kvm.out" &&
       grep -q "^  host  *$host_kind" "$tmp/$name.kvm.err" &&
       grep -q '^  fallback to the software CPU: on' "$tmp/$name.kvm.err"; then
        share=$(grep -m 1 '^    share ' "$tmp/$name.kvm.err" | sed 's/^ *share *//')
        echo "PASS kvm-$name${share:+ (fallback: $share)}"
    else
        why="status emu $erc, kvm $krc"
        [ "$krc" = 124 ] && why="$why (timed out after ${LIMIT}s)"
        fail "kvm-$name: $why; kvm stderr: $(grep -m 1 -v '^trapeze: kvm: this host' "$tmp/$name.kvm.err");" \
            "first output difference: $(diff "$tmp/$name.emu.out" "$tmp/$name.kvm.out" | sed -n 2,3p | tr '\n' ' ')"
        echo 1 > "$tmp/failed"
    fi

    # -kvm-fallback off: emu's result, or a known host limit, within 15 s.
    LIMIT=15
    # shellcheck disable=SC2086
    run kvm "$name.off" $args -kvm-fallback off
    LIMIT=60
    orc=$(cat "$tmp/$name.off.kvm.rc")
    lines=$(wc -l < "$tmp/$name.off.kvm.err")
    if [ "$orc" = "$erc" ] && cmp -s "$tmp/$name.emu.out" "$tmp/$name.off.kvm.out"; then
        echo "PASS kvm-fallback-off-$name: the same as emu"
    elif [ "$orc" = 6 ] && [ "$lines" -eq 1 ] && limit=$(host_limit "$tmp/$name.off.kvm.err" "$name") &&
         [ -n "$limit" ]; then
        echo "PASS kvm-fallback-off-$name: ended by itself on a known host limit: $limit"
    else
        why="status $orc (emu $erc)"
        [ "$orc" = 124 ] && why="$why: did not end within 15 s"
        fail "kvm-fallback-off-$name: $why, $lines stderr lines: $(head -n 1 "$tmp/$name.off.kvm.err")"
        echo 1 > "$tmp/failed"
    fi
done
[ -e "$tmp/failed" ] && failed=1

# ---- -stats under kvm names the exits; -icount is refused
if [ -n "$no_kvm" ]; then
    echo "SKIP kvm-stats: $no_kvm"
    echo "SKIP kvm-icount-refused: $no_kvm"
    echo "SKIP kvm-info-monitor: $no_kvm"
    echo "SKIP kvm-step-from-breakpoint: $no_kvm"
    exit $failed
fi
# The real-mode guest: KVM runs real mode on every host kind (kvm-pvm too).
timeout $LIMIT "$TRAPEZE" -engine kvm -bios "$G/realmode_bios.rom" -nographic -stats </dev/null >/dev/null 2>"$tmp/stats"
if grep -q '^engine kvm' "$tmp/stats" && grep -q 'KVM_EXIT_IO  *[1-9]' "$tmp/stats" &&
   grep -q "^  host  *$host_kind" "$tmp/stats"; then
    echo "PASS kvm-stats"
else
    fail "kvm-stats: no KVM_EXIT_IO count or host kind ($host_kind) in -stats: $(head -n 3 "$tmp/stats" | tr '\n' '|')"
fi
# The monitor steps on from a breakpoint: on kvm-pvm, KVM does not run an
# instruction stepped from a hardware breakpoint (the breakpoint fires
# again, tests/unit/test_kvm_host.c), so the no-progress detection must
# hand that step to the software CPU.  guests/realmode.asm: the LGDT at
# F000:001B (nasm -l), then MOV EAX, CR0 at F000:0022.
printf 'break 0xf001b\ncontinue\nstep\nprint eip\nquit\n' > "$tmp/step.script"
timeout 20 "$TRAPEZE" -engine kvm -bios "$G/realmode.rom" -nographic -monitor-script "$tmp/step.script" \
    </dev/null >"$tmp/step" 2>&1
if grep -q '^=> f000:0022 ' "$tmp/step"; then
    echo "PASS kvm-step-from-breakpoint"
else
    fail "kvm-step-from-breakpoint: the step from the breakpoint at f000:001b did not reach f000:0022: $(grep '^=>' "$tmp/step" | tail -n 1)"
fi

# The monitor's info kvm names the host and the fallback.
printf 'info kvm\ncontinue\ninfo kvm\nquit\n' > "$tmp/info.script"
timeout $LIMIT "$TRAPEZE" -engine kvm -kernel "$G/hello.elf" -nographic -monitor-script "$tmp/info.script" \
    </dev/null >"$tmp/info" 2>&1
if grep -q "^  host  *$host_kind" "$tmp/info" && grep -q '^  fallback to the software CPU: on' "$tmp/info"; then
    echo "PASS kvm-info-monitor"
else
    fail "kvm-info-monitor: info kvm did not name the host ($host_kind) and the fallback: $(head -n 4 "$tmp/info" | tr '\n' '|')"
fi
timeout 10 "$TRAPEZE" -engine kvm -icount shift=0 -kernel "$G/hello.elf" -nographic </dev/null >/dev/null 2>"$tmp/icount"
rc=$?
if [ $rc -eq 2 ] && grep -q -- '-icount cannot work under kvm' "$tmp/icount"; then
    echo "PASS kvm-icount-refused"
else
    fail "kvm-icount-refused: status $rc (want 2): $(head -n 1 "$tmp/icount")"
fi
exit $failed
