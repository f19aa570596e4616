#!/bin/sh
# tests/guests/gdb.sh - the GDB stub (monitor/gdbstub.c) driven by Debian's
# gdb in batch mode, on the real-to-protected-mode guest guests/realmode.asm.
#
# Expected values come from the guest's source and nasm's listing of it
# (nasm -l: addresses and instruction bytes), never from a trapeze run:
#   - after RESET, CS:IP = F000:FFF0 with CS.base FFFF0000, so the PC the
#     stub shows (linear, CS.base + EIP) is FFFFFFF0 (SDM Vol. 3A 9.1.4);
#   - the ROM's offset N is linear F0000 + N in real mode (CS = F000) and
#     in protected mode (flat code segment 08h, base 0);
#   - AX = 1234h + 5678h after rm_break's three instructions;
#   - a write watchpoint on 0:0500 stops right after rm_store, at rm_stored;
#   - the 32-bit code runs with CS = 08h; EAX = CAFEBABEh after pm_break;
#   - the guest exits through isa-debug-exit with 10h: status 33, which gdb
#     prints as "exited with code 041" (octal).
# Also: the guest's own output under trapeze and under QEMU (the oracle),
# Ctrl-C (0x03) stopping a running guest, and bad -gdb devices.
#
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"     # $pids: stubs that cleanup kills at exit
ROM=$G/realmode.rom
SRC=guests/realmode.asm
require "gdb-guest: $TRAPEZE or $ROM is missing (make)" "$TRAPEZE" "$ROM"

# ---- the guest itself, under trapeze and QEMU ----
printf 'realmode: real mode\nrealmode: protected mode\n' > "$tmp/want"
run_trapeze 20 -bios "$ROM" -nographic
if [ $rc -eq $PASS_STATUS ] && cmp -s "$tmp/got" "$tmp/want"; then
    echo "PASS realmode-guest"
else
    fail "realmode-guest: status $rc, output '$(tr '\n' '|' < "$tmp/got")', stderr: $(head -n 1 "$tmp/err")"
fi
if have_qemu; then
    run_qemu 20 -bios "$ROM"
    if [ $qrc -eq $PASS_STATUS ] && cmp -s "$tmp/qgot" "$tmp/want"; then
        echo "PASS realmode-guest-matches-qemu"
    else
        fail "realmode-guest-matches-qemu: QEMU: status $qrc, output '$(tr '\n' '|' < "$tmp/qgot")'"
    fi
else
    echo "SKIP realmode-guest-matches-qemu: qemu-system-i386 is not installed"
fi

# ---- bad -gdb devices: one clear line, status 2 ----
for dev in "udp::1234" "tcp::99999" "tcp:nohostport" "tcp::1234,telnet"; do
    timeout 10 "$TRAPEZE" -bios "$ROM" -nographic -gdb "$dev" </dev/null >/dev/null 2>"$tmp/bad"
    brc=$?
    if [ $brc -eq 2 ] && [ "$(wc -l < "$tmp/bad")" -eq 1 ] && grep -q "^trapeze: -gdb" "$tmp/bad"; then
        echo "PASS gdb-bad-device-$(echo "$dev" | tr -c 'a-z0-9\n' '_')"
    else
        fail "gdb-bad-device-$dev: status $brc, stderr '$(head -n 2 "$tmp/bad" | tr '\n' '|')'"
    fi
done
timeout 10 "$TRAPEZE" -bios "$ROM" -nographic -S </dev/null >/dev/null 2>"$tmp/bad"
brc=$?
if [ $brc -eq 2 ] && grep -q "^trapeze: -S" "$tmp/bad"; then
    echo "PASS gdb-S-without-debugger"
else
    fail "gdb-S-without-debugger: status $brc, stderr '$(head -n 1 "$tmp/bad")'"
fi

# ---- addresses and bytes from nasm's listing ----
if ! command -v nasm >/dev/null 2>&1; then
    echo "SKIP gdb-session: nasm is not installed (the listing gives the addresses)"
    exit $failed
fi
nasm -f bin -I. -l "$tmp/realmode.lst" -o "$tmp/realmode.rom" "$SRC" || { fail "gdb-listing: nasm failed"; exit 1; }
# The offset of the instruction that carries LABEL (its line: "N OFFSET BYTES LABEL: insn").
offset_of() { awk -v l="$1:" '{ for (i = 1; i <= NF; i++) if ($i == l) { print $2; exit } }' "$tmp/realmode.lst"; }
bytes_of() { awk -v l="$1:" '{ for (i = 1; i <= NF; i++) if ($i == l) { print $3; exit } }' "$tmp/realmode.lst"; }
lin() { printf '%x' $((0xF0000 + 0x$(offset_of "$1"))); }
RM_BREAK=$(lin rm_break)
RM_STORED=$(lin rm_stored)
PM_BREAK=$(lin pm_break)
PM_STORE=$(lin pm_store)
RM_BYTES=$(bytes_of rm_break)            # B83412: mov ax, 0x1234
PM_BYTES=$(bytes_of pm_break)            # B8BEBAFECA: mov eax, 0xCAFEBABE
AFTER_MOV_AX=$(printf '%x' $((0x$RM_BREAK + ${#RM_BYTES} / 2)))
SUM=$(printf '%x' $((0x1234 + 0x5678)))
SUM_DEC=$((0x1234 + 0x5678))
lower() { echo "$1" | tr 'A-F' 'a-f'; }
# "x/3xb" prints 0xb8 0x34 0x12: the listing's bytes, spaced.
RM_X=$(lower "$(echo "$RM_BYTES" | cut -c1-6 | sed 's/\(..\)/0x\1 /g; s/ $//')")

if ! command -v gdb >/dev/null 2>&1; then
    echo "SKIP gdb-session: gdb is not installed (apt-get install gdb)"
    exit $failed
fi

# start_stub ARGS...: trapeze -S -gdb tcp::0 in the background; sets PORT, TPID.
start_stub() {
    : > "$tmp/stub.err"
    timeout 60 "$TRAPEZE" "$@" -nographic -S -gdb tcp::0 </dev/null >"$tmp/stub.out" 2>"$tmp/stub.err" &
    TPID=$!
    pids="$pids $TPID"
    PORT=""
    for _ in $(seq 50); do
        PORT=$(sed -n 's/^trapeze: gdb stub listening on [^:]*:\([0-9]*\)$/\1/p' "$tmp/stub.err")
        [ -n "$PORT" ] && return 0
        sleep 0.1
    done
    return 1
}

if ! start_stub -bios "$ROM"; then
    fail "gdb-session: the stub did not start: $(head -n 1 "$tmp/stub.err")"
    exit 1
fi
cat > "$tmp/script.gdb" <<EOF
set confirm off
set pagination off
target remote 127.0.0.1:$PORT
printf "CHECK reset pc=%x cs=%x\n", \$pc, \$cs
break *0x$RM_BREAK
continue
printf "CHECK rm-break pc=%x cs=%x\n", \$pc, \$cs
x/1i \$pc
stepi
printf "CHECK rm-step pc=%x ax=%x\n", \$pc, \$eax & 0xffff
stepi
stepi
printf "CHECK rm-add ax=%x\n", \$eax & 0xffff
x/3xb 0x$RM_BREAK
delete
watch *(unsigned short *)0x500
continue
printf "CHECK rm-watch pc=%x\n", \$pc
printf "CHECK rm-memory %x\n", *(unsigned short *)0x500
delete
break *0x$PM_BREAK
continue
printf "CHECK pm-break pc=%x cs=%x ds=%x\n", \$pc, \$cs, \$ds
set architecture i386
x/1i \$pc
stepi
printf "CHECK pm-step pc=%x eax=%x\n", \$pc, \$eax
set \$eax = 0x600df00d
printf "CHECK pm-set eax=%x\n", \$eax
continue
EOF
timeout 30 gdb -batch -nx -x "$tmp/script.gdb" </dev/null >"$tmp/gdb.out" 2>&1
wait "$TPID"
trc=$?

expect() {   # expect NAME LINE: the gdb output holds LINE exactly
    if grep -qxF "$2" "$tmp/gdb.out"; then
        echo "PASS gdb-$1"
    else
        fail "gdb-$1: want '$2', gdb said: $(grep -m 1 "^CHECK ${1%%-*}" "$tmp/gdb.out" || tail -n 1 "$tmp/gdb.out")"
    fi
}
expect reset "CHECK reset pc=fffffff0 cs=f000"
expect rm-break "CHECK rm-break pc=$RM_BREAK cs=f000"
# target.xml: a description gdb accepts (the i386 core feature with its x87
# registers), with architecture i8086 while the CPU is in real mode: B8 34 12
# decodes as 16-bit "mov ax, 1234h" (SDM Vol. 2, MOV B8+rw iw), in gdb's AT&T.
if grep -q "rejected target-supplied description" "$tmp/gdb.out"; then
    fail "gdb-tdesc-accepted: $(grep -m 1 rejected "$tmp/gdb.out")"
else
    echo "PASS gdb-tdesc-accepted"
fi
expect rm-disas-16 "=> 0x$RM_BREAK:	mov    \$0x1234,%ax"
expect rm-step "CHECK rm-step pc=$AFTER_MOV_AX ax=1234"
expect rm-add "CHECK rm-add ax=$SUM"
expect rm-memory-read "0x$RM_BREAK:	$(echo "$RM_X" | sed 's/ /	/g')"
expect rm-watch-value "New value = $SUM_DEC"
expect rm-watch "CHECK rm-watch pc=$RM_STORED"
expect rm-memory "CHECK rm-memory $SUM"
expect pm-break "CHECK pm-break pc=$PM_BREAK cs=8 ds=10"
# After `set architecture i386`: B8 BE BA FE CA is "mov eax, CAFEBABEh" (B8+rd id).
expect pm-disas-32 "=> 0x$PM_BREAK:	mov    \$0xcafebabe,%eax"
expect pm-step "CHECK pm-step pc=$PM_STORE eax=cafebabe"
expect pm-set "CHECK pm-set eax=600df00d"
expect exit "[Inferior 1 (Remote target) exited with code 0$(printf '%o' $PASS_STATUS)]"
if [ "$trc" -eq $PASS_STATUS ] && tr -d '\r' < "$tmp/stub.out" | grep -qx "realmode: protected mode"; then
    echo "PASS gdb-guest-exit-status"
else
    fail "gdb-guest-exit-status: trapeze exited $trc, want $PASS_STATUS; stderr: $(tail -n 1 "$tmp/stub.err")"
fi

# ---- Ctrl-C: a raw client continues a long guest, sends 0x03, wants T02 ----
KERNEL=$BUILD/guests/compute.elf
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP gdb-ctrl-c: python3 is not installed"
elif [ ! -e "$KERNEL" ]; then
    fail "gdb-ctrl-c: $KERNEL is missing"
elif ! start_stub -kernel "$KERNEL"; then
    fail "gdb-ctrl-c: the stub did not start: $(head -n 1 "$tmp/stub.err")"
else
    timeout 20 python3 - "$PORT" > "$tmp/ctrlc.out" 2>&1 <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def packet(body):
    return b"$" + body + b"#" + b"%02x" % (sum(body) % 256)
def reply():
    data = b""
    while True:
        data += s.recv(4096)
        data = data.lstrip(b"+")
        if b"#" in data and len(data) >= data.index(b"#") + 3:
            return data[1:data.index(b"#")].decode()
s.sendall(packet(b"?"))
print("stopped:", reply())
s.sendall(packet(b"c"))
time.sleep(0.3)
s.sendall(b"\x03")
print("interrupted:", reply())
s.sendall(packet(b"k"))
EOF
    wait "$TPID"
    if grep -qx "interrupted: T02thread:01;" "$tmp/ctrlc.out"; then
        echo "PASS gdb-ctrl-c"
    else
        fail "gdb-ctrl-c: $(tr '\n' '|' < "$tmp/ctrlc.out")"
    fi
fi
exit $failed
