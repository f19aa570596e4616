#!/bin/sh
# tests/guests/logging.sh - the log channels (base/log.h: -d LIST, -D FILE,
# -d help, the monitor's log/logfile) and the QEMU flags that came with them
# (-enable-kvm, -accel, -machine accel=, -cpu, -no-shutdown, -vga, -serial null).
#
# The oracle is qemu-system-i386 (7.2 here) run on the same guest with the
# same -d items, where QEMU prints the same thing:
#   - `-d int` on build/guests/pmode.elf: QEMU prints, for the kernel's #GP
#     of a MOV DS with a selector past the GDT limit,
#         check_exception old: 0xffffffff new 0xd
#              2: v=0d e=1000 i=0 cpl=0 IP=0008:001000d5 pc=001000d5 SP=0010:00109964 env->regs[R_EAX]=00101000
#     and every check_exception and v= line of the kernel (pc >= 0x100000),
#     with the three register lines after each, must equal trapeze's
#     (QEMU's SeaBIOS runs before the kernel and logs no v= line there);
#   - `-d in_asm` on build/guests/hello.elf: the address and byte columns
#     of the kernel's first block (0x00100070, _start) equal QEMU's (the
#     mnemonics do not: QEMU writes AT&T, trapeze Intel through capstone).
# Without qemu the literal lines above are checked.  `pcall` has no QEMU
# oracle: stock QEMU builds print nothing for it (DEBUG_PCALL is off).
#
# The probe boot sector built here calls int 13h AX=4B01h (GRUB's El Torito
# probe) and int 15h AX=5300h (APM), reads the floppy controller's status
# port and an unassigned port, writes the BIOS ROM, then exits (33): silent
# by default, its notices in `unimp` and `guest_errors`.
#
# Every run is under `timeout` (trapeze has no instruction cap option; the
# guests end by themselves in well under a second).
#
# Run: BUILD=build sh tests/guests/logging.sh   (tests/run.sh does it)
. "$(dirname "$0")/lib.shinc"
require_files logging "$TRAPEZE" "$G/pmode.elf" "$G/hello.elf" "$G/paging.elf" "$G/exit0.img" "$G/boot_hello.img"
skip_without nasm "nasm is not installed" logging-probe

ok() { echo "PASS $1"; }

# ---- -d help, bad lists ----
"$TRAPEZE" -d help > "$tmp/help" 2> "$tmp/help.err"
rc=$?
missing=""
for item in in_asm int exec cpu mmu pcall cpu_reset unimp guest_errors; do
    grep -q "^$item  *[a-z]" "$tmp/help" || missing="$missing $item"
done
if [ $rc -eq 0 ] && [ -z "$missing" ] && head -n 1 "$tmp/help" | grep -qx "Log items (comma separated):" &&
   [ ! -s "$tmp/help.err" ]; then
    ok log-help
else
    fail "log-help: status $rc, missing:$missing, stderr $(head -c 200 "$tmp/help.err")"
fi

QUIET_STDOUT=1
expect_error log-bad-item   2 "unknown log item 'bogus' (the valid ones: in_asm, int, exec, cpu, mmu, pcall, cpu_reset, unimp, guest_errors, all, none" \
    -d int,bogus -kernel "$G/hello.elf"
expect_error log-empty-item 2 "an empty item" -d int,,mmu -kernel "$G/hello.elf"
expect_error log-trace-item 2 "no trace events" -d trace:kvm_run -kernel "$G/hello.elf"
expect_error log-bad-D      2 "^trapeze: -D $tmp/no/such/dir.log: No such file or directory" \
    -D "$tmp/no/such/dir.log" -d int -kernel "$G/hello.elf"

# ---- unimp / guest_errors: the probe boot sector ----
cat > "$tmp/probe.asm" <<'EOF'
bits 16
org 0x7c00
        xor ax, ax
        mov ds, ax
        mov ax, 0x4b01          ; int 13h AH=4Bh: El Torito status (GRUB probes it)
        mov dl, 0x00
        int 0x13
        mov ax, 0x5300          ; int 15h AX=5300h: APM installation check
        xor bx, bx
        int 0x15
        mov dx, 0x3f4           ; the floppy controller's main status register
        in al, dx
        mov dx, 0x2e0           ; nothing there
        in al, dx
        mov ax, 0xf000
        mov es, ax
        mov byte [es:0x0000], 0x55   ; the BIOS ROM
        mov al, 0x10            ; isa-debug-exit: status (0x10 << 1) | 1 = 33
        out 0xf4, al
        hlt
times 510-($-$$) db 0
dw 0xaa55
EOF
nasm -f bin -o "$tmp/probe.img" "$tmp/probe.asm" && truncate -s 1474560 "$tmp/probe.img" ||
    { fail "logging-probe: nasm failed"; exit 1; }

run_trapeze 20 -fda "$tmp/probe.img" -display none -serial null
if [ $rc -eq 33 ] && [ ! -s "$tmp/err" ]; then ok log-unimp-silent-by-default
else fail "log-unimp-silent-by-default: status $rc, stderr: $(head -c 300 "$tmp/err")"; fi

run_trapeze 20 -fda "$tmp/probe.img" -display none -serial null -d unimp
if [ $rc -eq 33 ] &&
   [ "$(grep -c '^unimp: BIOS: int 13h function AX=4b01h is not implemented (called from 0000:7c0b)' "$tmp/err")" -eq 1 ] &&
   [ "$(grep -c '^unimp: BIOS: int 15h function AX=5300h is not implemented' "$tmp/err")" -eq 1 ] &&
   [ "$(grep -c '^unimp: the guest reads the floppy controller (port 0x3F4)' "$tmp/err")" -eq 1 ] &&
   [ "$(wc -l < "$tmp/err")" -eq 3 ]; then
    ok log-unimp
else
    fail "log-unimp: status $rc, stderr: $(tr '\n' '|' < "$tmp/err" | head -c 600)"
fi

run_trapeze 20 -fda "$tmp/probe.img" -display none -serial null -d guest_errors
if [ $rc -eq 33 ] && grep -q '^guest_errors: bus: read of unassigned I/O port 0x02e0 (size 1): all ones$' "$tmp/err" &&
   grep -q "^guest_errors: bus: write of 0x55 to ROM '.*' at 000f0000 (size 1): ignored$" "$tmp/err" &&
   ! grep -q '^unimp' "$tmp/err"; then
    ok log-guest-errors
else
    fail "log-guest-errors: status $rc, stderr: $(tr '\n' '|' < "$tmp/err" | head -c 600)"
fi

# -D FILE: the log goes there, stderr stays empty; the OSDev wiki's list is accepted.
run_trapeze 20 -fda "$tmp/probe.img" -display none -serial null -d int,cpu_reset,guest_errors,unimp -D "$tmp/probe.log"
if [ $rc -eq 33 ] && [ ! -s "$tmp/err" ] && grep -q '^unimp: BIOS: int 13h function AX=4b01h' "$tmp/probe.log" &&
   grep -q '^guest_errors: bus: read of unassigned I/O port 0x02e0' "$tmp/probe.log" &&
   grep -q '^CPU Reset (CPU 0)$' "$tmp/probe.log"; then
    ok log-D-file
else
    fail "log-D-file: status $rc, stderr $(head -c 200 "$tmp/err"), log $(head -c 300 "$tmp/probe.log" 2>/dev/null)"
fi

# ---- cpu_reset: the power-on state, in QEMU's dump layout ----
run_trapeze 20 -fda "$tmp/probe.img" -display none -serial null -d cpu_reset
if [ $rc -eq 33 ] && [ "$(grep -c '^CPU Reset (CPU 0)$' "$tmp/err")" -eq 1 ] &&
   grep -q '^EIP=0000fff0 EFL=00000002 \[-------\] CPL=0 II=0 A20=1 SMM=0 HLT=0$' "$tmp/err" &&
   grep -q '^CS =f000 ffff0000 0000ffff 00009b00$' "$tmp/err"; then
    ok log-cpu-reset
else
    fail "log-cpu-reset: status $rc, stderr: $(head -n 5 "$tmp/err" | tr '\n' '|')"
fi

# A guest reset (port 92h fast reset; RAM survives it, so the second boot
# exits): a second dump, of the state before the reset (as QEMU), CS:IP in the boot sector.
cat > "$tmp/reset.asm" <<'EOF'
bits 16
org 0x7c00
        mov ax, 0x7000
        mov ds, ax
        cmp word [0], 0x1234    ; the second boot: exit
        je .second
        mov word [0], 0x1234
        mov al, 1               ; port 92h bit 0: fast reset
        out 0x92, al
        hlt
.second:
        mov al, 0x10
        out 0xf4, al
        hlt
times 510-($-$$) db 0
dw 0xaa55
EOF
nasm -f bin -o "$tmp/reset.img" "$tmp/reset.asm" && truncate -s 1474560 "$tmp/reset.img"
run_trapeze 20 -fda "$tmp/reset.img" -display none -serial null -d cpu_reset
if [ $rc -eq 33 ] && [ "$(grep -c '^CPU Reset (CPU 0)$' "$tmp/err")" -eq 2 ] &&
   [ "$(grep '^EIP=' "$tmp/err" | sed -n 2p | cut -c1-9)" = "EIP=00007" ] &&
   [ "$(grep '^CS =' "$tmp/err" | sed -n 2p | cut -c1-8)" = "CS =0000" ]; then
    ok log-cpu-reset-guest-reset
else
    fail "log-cpu-reset-guest-reset: status $rc, $(grep -e '^CPU' -e '^EIP' "$tmp/err" | tr '\n' '|')"
fi

# ---- int: pmode.elf's exceptions and interrupts, as QEMU logs them ----
run_trapeze 20 -kernel "$G/pmode.elf" -nographic -d int -D "$tmp/int.log"
grep -A3 -e '^check_exception' -e ' v=' "$tmp/int.log" | grep -v '^--$' > "$tmp/int.trapeze"
if [ $rc -ne 33 ]; then
    fail "log-int: pmode.elf status $rc, want 33"
elif ! grep -qx 'check_exception old: 0xffffffff new 0xd' "$tmp/int.log" ||
     ! grep -qx '     2: v=0d e=1000 i=0 cpl=0 IP=0008:001000d5 pc=001000d5 SP=0010:00109964 env->regs\[R_EAX\]=00101000' "$tmp/int.log"; then
    fail "log-int: the #GP at 0008:001000d5 is not logged as QEMU logs it: $(grep -m 3 'v=' "$tmp/int.log" | tr '\n' '|')"
else
    ok log-int
fi
if have_qemu; then
    timeout 30 qemu-system-i386 -kernel "$G/pmode.elf" -display none -serial null $QEMU_EXIT \
        -d int -D "$tmp/int.qemu.log" </dev/null >/dev/null 2>&1
    # The kernel's part: from the check_exception line before its first v= line on.
    first=$(grep -n -m 1 ' v=.* pc=00[1-9]' "$tmp/int.qemu.log" | cut -d: -f1)
    if [ -n "$first" ] && [ "$first" -gt 1 ]; then
        tail -n "+$((first - 1))" "$tmp/int.qemu.log" > "$tmp/int.qemu.kernel2"
    else
        : > "$tmp/int.qemu.kernel2"
    fi
    grep -A3 -e '^check_exception' -e ' v=' "$tmp/int.qemu.kernel2" | grep -v '^--$' > "$tmp/int.qemu"
    if [ -s "$tmp/int.qemu" ] && cmp -s "$tmp/int.qemu" "$tmp/int.trapeze"; then
        ok log-int-matches-qemu
    else
        fail "log-int-matches-qemu: $(first_difference "$tmp/int.trapeze" "$tmp/int.qemu")"
    fi
else
    echo "SKIP log-int-matches-qemu: qemu-system-i386 is not installed"
fi

# ---- in_asm, exec, pcall, mmu ----
run_trapeze 20 -kernel "$G/hello.elf" -nographic -d in_asm,exec -D "$tmp/asm.log"
# _start's block: cli; mov esp, 0x105000; push 0; popfd (guests/lib.asm)
if [ $rc -eq 33 ] && grep -q '^0x00100070:  fa                       cli$' "$tmp/asm.log" &&
   grep -q '^0x00100071:  bc 00 50 10 00           mov esp, 0x105000$' "$tmp/asm.log" &&
   grep -q '^Trace 0: \[00000000/00100070/00000002\] $' "$tmp/asm.log"; then
    ok log-in-asm-exec
else
    fail "log-in-asm-exec: status $rc, $(grep -m 4 '^0x0010007' "$tmp/asm.log" | tr '\n' '|')"
fi
if have_qemu; then
    timeout 30 qemu-system-i386 -kernel "$G/hello.elf" -display none -serial null $QEMU_EXIT \
        -d in_asm -D "$tmp/asm.qemu.log" </dev/null >/dev/null 2>&1
    # Address and bytes: the first 38 columns of the block at _start.
    grep -m 4 -A0 '^0x001000[7][0-9a-f]:' "$tmp/asm.qemu.log" | cut -c1-38 | sed 's/ *$//' > "$tmp/asm.q"
    grep -m 4 '^0x001000[7][0-9a-f]:' "$tmp/asm.log" | cut -c1-38 | sed 's/ *$//' > "$tmp/asm.t"
    if [ -s "$tmp/asm.q" ] && cmp -s "$tmp/asm.q" "$tmp/asm.t"; then ok log-in-asm-matches-qemu
    else fail "log-in-asm-matches-qemu: $(first_difference "$tmp/asm.t" "$tmp/asm.q")"; fi
else
    echo "SKIP log-in-asm-matches-qemu: qemu-system-i386 is not installed"
fi

run_trapeze 20 -kernel "$G/pmode.elf" -nographic -d pcall -D "$tmp/pcall.log"
# pmode.asm: call-gate-ring3-to-ring0 (selector 0x38|3, one parameter) and df-task-gate (TSS 0x40).
if [ $rc -eq 33 ] && grep -q '^lcall 003b:00000000 s=1$' "$tmp/pcall.log" &&
   grep -q '^new ss:esp=0010:[0-9a-f]* param_count=1 ' "$tmp/pcall.log" &&
   grep -q '^lret new 001b:[0-9a-f]* s=1 addend=0x4$' "$tmp/pcall.log" &&
   grep -q '^switch_tss: sel=0x0040 type=9 src=2$' "$tmp/pcall.log"; then
    ok log-pcall
else
    fail "log-pcall: status $rc, $(grep -v '=' "$tmp/pcall.log" | head -n 5 | tr '\n' '|')"
fi

run_trapeze 20 -kernel "$G/paging.elf" -nographic -d mmu -D "$tmp/mmu.log"
if [ $rc -eq 33 ] && grep -q '^mmu: walk 40001234 read -> #PF error 0$' "$tmp/mmu.log" &&
   grep -q '^mmu: TLB flush' "$tmp/mmu.log"; then
    ok log-mmu
else
    fail "log-mmu: status $rc, $(head -n 3 "$tmp/mmu.log" | tr '\n' '|')"
fi

# ---- the monitor's log and logfile ----
cat > "$tmp/log.cmd" <<EOF
log
log bogus
logfile $tmp/mon.log
log int,pcall
log
continue
log none
log
EOF
timeout 30 "$TRAPEZE" -kernel "$G/pmode.elf" -nographic -monitor-script "$tmp/log.cmd" \
    </dev/null >"$tmp/mon.out" 2>"$tmp/mon.err"
rc=$?
if [ $rc -eq 33 ] && grep -q '^log items on: none; the log goes to stderr$' "$tmp/mon.out" &&
   grep -q "^error: unknown log item 'bogus'" "$tmp/mon.out" &&
   grep -q "^log items on: int,pcall; the log goes to $tmp/mon.log\$" "$tmp/mon.out" &&
   grep -q '^log items on: none$' "$tmp/mon.out" &&
   grep -qx '     2: v=0d e=1000 i=0 cpl=0 IP=0008:001000d5 pc=001000d5 SP=0010:00109964 env->regs\[R_EAX\]=00101000' "$tmp/mon.log" &&
   grep -q '^switch_tss: sel=0x0040' "$tmp/mon.log" && [ ! -s "$tmp/mon.err" ]; then
    ok log-monitor-command
else
    fail "log-monitor-command: status $rc, out $(grep -e '^log' -e '^error' "$tmp/mon.out" | tr '\n' '|'), stderr $(head -c 200 "$tmp/mon.err")"
fi

# ---- accelerators ----
run_trapeze 20 -kernel "$G/hello.elf" -nographic -accel tcg
[ $rc -eq 33 ] && ok flag-accel-tcg || fail "flag-accel-tcg: status $rc: $(head -c 200 "$tmp/err")"
run_trapeze 20 -kernel "$G/hello.elf" -nographic -accel tcg,thread=single -machine pc,accel=tcg
[ $rc -eq 33 ] && ok flag-accel-tcg-thread-single || fail "flag-accel-tcg-thread-single: status $rc: $(head -c 200 "$tmp/err")"
expect_error flag-accel-unknown   2 "unknown accelerator 'hax'" -accel hax -kernel "$G/hello.elf"
expect_error flag-accel-multi     2 "one CPU on one thread" -accel tcg,thread=multi -kernel "$G/hello.elf"
expect_error flag-accel-property  2 "property 'tb-size=64' is not supported" -accel tcg,tb-size=64 -kernel "$G/hello.elf"
expect_error flag-accel-disagree  2 "-engine emu and -enable-kvm disagree" -engine emu -enable-kvm -kernel "$G/hello.elf"
expect_error flag-accel-twice     2 "trapeze takes one" -accel kvm -accel tcg -kernel "$G/hello.elf"
expect_error flag-machine-unknown 2 "unknown machine 'q35'" -machine q35 -kernel "$G/hello.elf"
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    run_trapeze 30 -kernel "$G/hello.elf" -nographic -enable-kvm
    if [ $rc -eq 33 ] && grep -q "Hello from trapeze" "$tmp/got"; then ok flag-enable-kvm
    else fail "flag-enable-kvm: status $rc: $(head -c 300 "$tmp/err")"; fi
    run_trapeze 30 -kernel "$G/hello.elf" -nographic -machine accel=kvm -cpu host
    [ $rc -eq 33 ] && ok flag-machine-accel-kvm || fail "flag-machine-accel-kvm: status $rc: $(head -c 300 "$tmp/err")"
else
    echo "SKIP flag-enable-kvm: /dev/kvm is not usable here"
    echo "SKIP flag-machine-accel-kvm: /dev/kvm is not usable here"
fi

# ---- -cpu ----
"$TRAPEZE" -cpu help > "$tmp/cpus" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^  pentium ' "$tmp/cpus" && grep -q '^  host ' "$tmp/cpus" && grep -q '^  max ' "$tmp/cpus"; then
    ok flag-cpu-help
else
    fail "flag-cpu-help: status $rc: $(head -c 200 "$tmp/cpus")"
fi
run_trapeze 20 -kernel "$G/hello.elf" -nographic -cpu pentium
[ $rc -eq 33 ] && ok flag-cpu-pentium || fail "flag-cpu-pentium: status $rc: $(head -c 200 "$tmp/err")"
expect_error flag-cpu-unknown  2 "-cpu 486: unknown CPU model" -cpu 486 -kernel "$G/hello.elf"
expect_error flag-cpu-features 2 "the one CPU feature that can be changed is virtualizable" -cpu pentium,+sse -kernel "$G/hello.elf"
expect_error flag-cpu-host-emu 2 "-cpu host: not with -engine emu" -cpu host -kernel "$G/hello.elf"

# ---- -no-shutdown: a powered-off guest leaves trapeze stopped until a signal (QEMU: the same) ----
run_trapeze 20 -fda "$G/exit0.img" -display none
if [ $rc -eq 0 ]; then ok flag-no-shutdown-baseline; else fail "flag-no-shutdown-baseline: exit0.img status $rc, want 0"; fi
timeout 20 "$TRAPEZE" -fda "$G/exit0.img" -display none -no-shutdown </dev/null >/dev/null 2>"$tmp/ns.err" &
nspid=$!
pids="$pids $nspid"
sleep 2
if kill -0 "$nspid" 2>/dev/null && grep -q -- '-no-shutdown: the emulation is stopped' "$tmp/ns.err"; then
    kill -TERM "$nspid"
    wait "$nspid"
    rc=$?
    if [ $rc -eq 0 ] && grep -q '^trapeze: terminating on signal 15$' "$tmp/ns.err"; then ok flag-no-shutdown
    else fail "flag-no-shutdown: after SIGTERM status $rc, want 0: $(tr '\n' '|' < "$tmp/ns.err")"; fi
else
    wait "$nspid"
    fail "flag-no-shutdown: trapeze did not stay stopped after the power-off (status $?): $(tr '\n' '|' < "$tmp/ns.err")"
fi
printf 'continue\nregs\n' > "$tmp/ns.cmd"
timeout 20 "$TRAPEZE" -fda "$G/exit0.img" -display none -no-shutdown -monitor-script "$tmp/ns.cmd" \
    </dev/null >"$tmp/ns.out" 2>&1
rc=$?
# exit0_floppy.asm powers off with DX = 8900h (the Bochs port); the state stays readable.
if [ $rc -eq 0 ] && grep -q 'the guest powered off' "$tmp/ns.out" && grep -q 'edx 00008900' "$tmp/ns.out"; then
    ok flag-no-shutdown-monitor
else
    fail "flag-no-shutdown-monitor: status $rc: $(tail -n 4 "$tmp/ns.out" | tr '\n' '|')"
fi

# ---- -serial null, -vga ----
run_trapeze 20 -kernel "$G/hello.elf" -display none -serial null
if [ $rc -eq 33 ] && [ ! -s "$tmp/out" ] && [ ! -s "$tmp/err" ]; then ok flag-serial-null
else fail "flag-serial-null: status $rc, stdout $(head -c 100 "$tmp/out")"; fi
run_trapeze 20 -fda "$G/boot_hello.img" -display none -vga std
[ $rc -eq 33 ] && ok flag-vga-std || fail "flag-vga-std: status $rc"
# -vga none: no VGA at all, so the BIOS's CRTC writes reach no device (guest_errors says so).
run_trapeze 20 -fda "$G/boot_hello.img" -display none -vga none -d guest_errors
if [ $rc -eq 33 ] && grep -q '^guest_errors: bus: write of 0x[0-9a-f]* to unassigned I/O port 0x03d4' "$tmp/err"; then
    ok flag-vga-none
else
    fail "flag-vga-none: status $rc, $(head -n 2 "$tmp/err" | tr '\n' '|')"
fi
expect_error flag-vga-unknown    2 "-vga cirrus: trapeze has -vga std" -vga cirrus -kernel "$G/hello.elf"
expect_error flag-vga-none-dump  2 "no VGA screen to dump" -vga none -screendump "$tmp/s.txt" -kernel "$G/hello.elf"

exit $failed
