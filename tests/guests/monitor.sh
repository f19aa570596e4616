#!/bin/sh
# tests/guests/monitor.sh - the monitor shell (-monitor-script) on the test
# guests, each answer checked against a value from outside trapeze: symbol
# addresses from the ELF (nm), instruction offsets from nasm's listing
# (nasm -l), and the guests' sources (guests/lib.asm, hello.asm, pmode.asm,
# paging.asm) for what each instruction and table entry must hold.
#
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"
HELLO=$G/hello.elf
PMODE=$G/pmode.elf
PAGING=$G/paging.elf
# check NAME FILE PATTERN: the fixed string PATTERN is a line of FILE (or in one).
check() {
    if grep -qF -- "$3" "$2"; then echo "PASS $1"; else fail "$1: no \"$3\" in the output ($(wc -l < "$2") lines)"; fi
}
sym() { nm "$1" | awk -v n="$2" '$3 == n { print $1; exit }'; }
hex() { printf '%08x' "$(( $1 ))"; }

require "monitor: $TRAPEZE or the guests are not built" "$TRAPEZE" "$HELLO" "$PMODE"
skip_without nm "nm (binutils) is not installed" monitor
# run NAME GUEST SCRIPT-LINES...: run a session, output in $tmp/NAME.out, status in $tmp/NAME.rc
run() {
    name=$1 guest=$2
    shift 2
    printf '%s\n' "$@" > "$tmp/$name.cmd"
    timeout 20 "$TRAPEZE" -kernel "$guest" -display none -serial "file:$tmp/$name.serial" \
        -monitor-script "$tmp/$name.cmd" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err"
    echo $? > "$tmp/$name.rc"
}

# ---- stepping hello.elf from its entry (guests/lib.asm _start) ----
start=$(sym "$HELLO" _start)
stack=$(sym "$HELLO" boot_stack_top)
main=$(sym "$HELLO" main)
run step "$HELLO" "step 3" "print esp" "break main" "c" "print eax" "x/s greeting" "c"
check monitor-starts-at-entry "$tmp/step.out" ":$start ($start)  fa"
# _start: cli; mov esp, boot_stack_top; push 0 (lib.asm)
check monitor-step-shows-insn "$tmp/step.out" "mov esp, 0x$(printf '%x' 0x$stack)"
check monitor-step-changed-regs "$tmp/step.out" "esp 00000000 -> $stack"
check monitor-step-push "$tmp/step.out" "esp $stack -> $(hex 0x$stack-4)"
check monitor-print "$tmp/step.out" "0x$(hex 0x$stack-4)"
check monitor-break-symbol "$tmp/step.out" "Breakpoint 1, linear $main"
# Multiboot 3.2: EAX = 0x2BADB002 at entry; main has not changed it yet.
check monitor-print-magic "$tmp/step.out" "0x2badb002"
check monitor-x-string "$tmp/step.out" '"Hello from trapeze!\x0a"'
check monitor-guest-exit-reported "$tmp/step.out" "isa-debug-exit with value 0x10 (exit status 33)"
[ "$(cat "$tmp/step.rc")" = 33 ] && echo "PASS monitor-script-exit-status" ||
    fail "monitor-script-exit-status: got $(cat "$tmp/step.rc"), want 33 (the guest's)"

# ---- next over a CALL: the first `call serial_puts` of hello.asm (nasm listing) ----
nasm -f elf32 -I. -l "$tmp/hello.lst" -o "$tmp/hello.o" guests/hello.asm
off=$(awk '/call serial_puts/ { print $2; exit }' "$tmp/hello.lst")
call=$(hex 0x$main+0x$off)
after=$(hex 0x$main+0x$off+5)     # E8 rel32 is 5 bytes (SDM Vol. 2A CALL)
run next "$HELLO" "until 0x$call" "next" "quit"
check monitor-until "$tmp/next.out" ":$call ($call)  e8"
check monitor-next-over-call "$tmp/next.out" ":$after ($after)"
tr -d "\r" < "$tmp/next.serial" | grep -qx "Hello from trapeze!" && echo "PASS monitor-next-ran-the-call" ||
    fail "monitor-next-ran-the-call: the greeting is not on COM1"
[ "$(cat "$tmp/next.rc")" = 0 ] && echo "PASS monitor-quit-status" || fail "monitor-quit-status: got $(cat "$tmp/next.rc")"

# ---- conditional breakpoint: serial_putc with AL = 'o', the 5th byte of "Hello" ----
putc=$(sym "$HELLO" serial_putc)
run cond "$HELLO" "break serial_putc if al == 'o'" "c" "print al" "info break" "quit"
check monitor-cond-break "$tmp/cond.out" "Breakpoint 1, linear $putc"
check monitor-cond-value "$tmp/cond.out" "0x0000006f"
[ "$(cat "$tmp/cond.serial")" = "Hell" ] && echo "PASS monitor-cond-skipped-four" ||
    fail "monitor-cond-skipped-four: COM1 has \"$(cat "$tmp/cond.serial")\", want \"Hell\""

# ---- pmode.elf: tables from guests/pmode.asm's gdt and setup code ----
tss=$(sym "$PMODE" main_tss)
cg=$(sym "$PMODE" callgate_same)
isr0=$(sym "$PMODE" isr0)
k0=$(sym "$PMODE" kstack0_top)
lv=$(sym "$PMODE" last_vector)
run pm "$PMODE" "break setup_idt" "c" "info gdt" "delete" "break vector 0" "c" "step" "info idt" "info tss" \
    "watch last_vector" "c" "print [last_vector]" "sregs" "quit"
# dq 0x00CFFA000000FFFF: ring 3 code; 0x00CF12000000FFFF: data with P = 0 (pmode.asm gdt)
check monitor-gdt-ring3-code "$tmp/pm.out" "0018 [00cffa00 0000ffff] code execute/read base 00000000 limit ffffffff (raw fffff G=1) DPL 3 P=1 D=1 32-bit"
check monitor-gdt-not-present "$tmp/pm.out" "0048 [00cf1200 0000ffff] data read/write base 00000000 limit ffffffff (raw fffff G=1) DPL 0 P=0"
# make_tss_desc(main_tss): TYPE_TSS 0x89, limit TSS_SIZE - 1 = 0x67
check monitor-gdt-tss "$tmp/pm.out" "32-bit TSS (available) base $tss limit 00000067 (raw 00067 G=0) DPL 0 P=1"
# make_gate(callgate_same, KCODE, 0 params, TYPE_CALL_GATE0 0x8C)
check monitor-gdt-call-gate "$tmp/pm.out" "0030 [$(printf '%04x' $((0x$cg >> 16)))8c00 0008$(printf '%04x' $((0x$cg & 0xffff)))] 32-bit call gate -> 0008:$cg params 0 DPL 0 P=1"
check monitor-break-vector "$tmp/pm.out" "Breakpoint 2, vector 0x00 #DE raised"
# The stop comes as #DE is raised, before delivery; `step` delivers it to isr0.
check monitor-vector-at-handler "$tmp/pm.out" "=> 0008:$isr0"
check monitor-idt-task-gate "$tmp/pm.out" "int 0x08 [00008500 00400000] task gate TSS selector 0040 DPL 0 P=1"
check monitor-idt-dpl3-gate "$tmp/pm.out" "int 0x80 [0010ee00"
check monitor-tss-esp0 "$tmp/pm.out" "esp0 $k0 ss0 0010"
check monitor-watch "$tmp/pm.out" "Watchpoint 3, write of linear $lv"
check monitor-watch-value "$tmp/pm.out" "0x00000000  0  0"
check monitor-sregs "$tmp/pm.out" "CS   0008 (index 1, GDT, RPL 0)  base 00000000 limit ffffffff code execute/read accessed DPL 0 P=1 32-bit G=1"

# ---- savevm / loadvm: stop in the middle, save, load in a fresh process ----
timeout 20 "$TRAPEZE" -kernel "$HELLO" -serial "file:$tmp/whole.serial" </dev/null >/dev/null 2>&1
whole_rc=$?
run save "$HELLO" "break serial_putc if al == 'f'" "c" "savevm $tmp/snap" "quit"
run load "$HELLO" "loadvm $tmp/snap" "c"
cat "$tmp/save.serial" "$tmp/load.serial" > "$tmp/joined"
if [ -s "$tmp/save.serial" ] && cmp -s "$tmp/joined" "$tmp/whole.serial"; then
    echo "PASS monitor-savevm-loadvm-output"
else
    fail "monitor-savevm-loadvm-output: \"$(cat "$tmp/save.serial")\" + \"$(cat "$tmp/load.serial")\" is not the whole run's output"
fi
[ "$(cat "$tmp/load.rc")" = "$whole_rc" ] && echo "PASS monitor-loadvm-exit-status" ||
    fail "monitor-loadvm-exit-status: got $(cat "$tmp/load.rc"), want $whole_rc"
# A 128 MiB guest's snapshot leaves its zero pages out (as QEMU's migration
# does): it was 134 MB (all of RAM) before.  Restored exactly: loading it in
# a fresh process and saving again gives the same file, byte for byte.
size=$(wc -c < "$tmp/snap")
if [ "$size" -lt 4000000 ]; then
    echo "PASS monitor-savevm-small"
else
    fail "monitor-savevm-small: a 128 MiB guest's snapshot is $size bytes, want under 4 MB (zero pages left out)"
fi
run resave "$HELLO" "loadvm $tmp/snap" "savevm $tmp/snap2" "quit"
if cmp -s "$tmp/snap" "$tmp/snap2"; then
    echo "PASS monitor-loadvm-exact"
else
    fail "monitor-loadvm-exact: load + save differs from the snapshot loaded ($(cmp "$tmp/snap" "$tmp/snap2" 2>&1 | head -n 1))"
fi
# The older format (section "ram" version 1: all of RAM) still loads: the
# same snapshot rewritten that way runs on to the same output.
python3 - "$tmp/snap" "$tmp/snap-v1" <<'PY'
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
out = [d[:16]]           # "TRPZSNAP", u32 format version, u32 section count
count = struct.unpack_from("<I", d, 12)[0]
at = 16
for _ in range(count):
    (nlen,) = struct.unpack_from("<H", d, at); name = d[at + 2:at + 2 + nlen]; at += 2 + nlen
    ver, size = struct.unpack_from("<II", d, at); data = d[at + 8:at + 8 + size]; at += 8 + size
    if name == b"ram" and ver == 2:
        (ram_size,) = struct.unpack_from("<I", data, 0)
        ram = bytearray(ram_size); k = 4
        while k < len(data):
            (page,) = struct.unpack_from("<I", data, k)
            n = min(4096, ram_size - page * 4096)
            ram[page * 4096:page * 4096 + n] = data[k + 4:k + 4 + n]; k += 4 + n
        ver, data = 1, bytes(ram)
    out.append(struct.pack("<H", nlen) + name + struct.pack("<II", ver, len(data)) + data)
body = b"".join(out)     # and the CRC-32 of all of it at the end
open(sys.argv[2], "wb").write(body + struct.pack("<I", zlib.crc32(body)))
PY
run loadv1 "$HELLO" "loadvm $tmp/snap-v1" "c"
if [ "$(wc -c < "$tmp/snap-v1")" -gt 134217728 ] && [ -s "$tmp/load.serial" ] &&
   cmp -s "$tmp/loadv1.serial" "$tmp/load.serial"; then
    echo "PASS monitor-loadvm-old-format"
else
    fail "monitor-loadvm-old-format: \"$(cat "$tmp/loadv1.serial")\" after loading the version-1 file: $(grep error "$tmp/loadv1.out")"
fi
run badload "$HELLO" "loadvm $tmp/no-such-file" "loadvm $HELLO" "quit"
[ "$(grep -c '^error: loadvm' "$tmp/badload.out")" = 2 ] && echo "PASS monitor-loadvm-bad-file" ||
    fail "monitor-loadvm-bad-file: $(grep loadvm "$tmp/badload.out" | tail -n 2)"

# ---- a triple fault: UD2 at the entry with an IDT limit of 0: #UD -> #GP (vector past the
# limit, SDM Vol. 3A 6.10) -> #GP again -> #DF (contributory twice, table 6-5) -> shutdown ----
run tf "$HELLO" "write eip 0x0b0f 2" "set idtr_limit 0" "c" "info fault" "step"
check monitor-triple-fault "$tmp/tf.out" "the guest stopped for good"
check monitor-info-fault "$tmp/tf.out" "#DF double fault"
check monitor-step-after-exit "$tmp/tf.out" "error: nothing to run"
[ "$(cat "$tmp/tf.rc")" = 4 ] && echo "PASS monitor-triple-fault-status" || fail "monitor-triple-fault-status: got $(cat "$tmp/tf.rc")"

# ---- Ctrl-C: a guest in a `jmp $` (EB FE) loop, SIGINT, back in the shell (plain -monitor, stdin a pipe) ----
(echo "write eip 0xfeeb 2"; echo c; sleep 3; echo "print eip"; echo quit) |
    timeout 20 "$TRAPEZE" -kernel "$HELLO" -serial none -monitor >"$tmp/int.out" 2>&1 &
pid=$!
sleep 1.5
# the trapeze process is the pipeline's last child: find it by its parent
tpid=$(pgrep -P $$ -f "$HELLO -serial none -monitor" 2>/dev/null | head -n 1)
[ -z "$tpid" ] && tpid=$(pgrep -f "$HELLO -serial none -monitor" | head -n 1)
[ -n "$tpid" ] && kill -INT "$tpid"
wait $pid
check monitor-ctrl-c "$tmp/int.out" "interrupted (Ctrl-C)"
check monitor-ctrl-c-shell-goes-on "$tmp/int.out" "0x$start"

# ---- bad commands: one error line each, the session goes on ----
run bad "$HELLO" "frobnicate" "x/zz 0" "break" "set nosuch 1" "print 1/0" "step 0" "write 0xffffffff 1 3" "help step" "quit"
[ "$(grep -c '^error:' "$tmp/bad.out")" = 6 ] && echo "PASS monitor-bad-commands" ||
    fail "monitor-bad-commands: $(grep -c '^error:' "$tmp/bad.out") error lines, want 6"
check monitor-help-cmd "$tmp/bad.out" "step [N]   (short: s)"

# ---- timer.elf (guests/timer.asm): device views once the guest programmed them ----
# The expected values are the guest's own writes: ICW1 11h, ICW2 IRQ_BASE = 20h
# (slave 28h), IMR FEh / FFh, PIT control word 34h (counter 0, LSB then MSB,
# mode 2, binary) with PIT_COUNT = 1193 = 04A9h (8259A and 8254 data sheets).
TIMER=$BUILD/guests/timer.elf
run dev "$TIMER" "break main.wait" "c" "info pic" "info pit" "info uart" "info rtc" "info nosuchdevice" "quit"
check monitor-info-pic-icw2 "$tmp/dev.out" "ICW2 20: vectors 20-27"
check monitor-info-pic-imr "$tmp/dev.out" "master (0x20): IRR 00 ISR 00 IMR fe"
check monitor-info-pic-slave "$tmp/dev.out" "ICW2 28: vectors 28-2f"
check monitor-info-pit "$tmp/dev.out" "counter 0: mode 2 (rate generator), LSB then MSB, binary, CR 04a9 (1193 CLKs"
check monitor-info-uart "$tmp/dev.out" "com2:"
check monitor-info-rtc "$tmp/dev.out" "MC146818A RTC/CMOS (ports 0x70, 0x71, IRQ 8)"
check monitor-info-unknown "$tmp/dev.out" "error: info nosuchdevice: no such table or device"

# ---- paging.elf (guests/paging.asm): translate and info pt after paging is on ----
if [ ! -e "$PAGING" ]; then
    echo "SKIP monitor-translate: $PAGING is not built"
    exit $failed
fi
pd=$(sym "$PAGING" page_dir)
ptt=$(sym "$PAGING" pt_test)
fro=$(sym "$PAGING" frame_ro)
run pg "$PAGING" "break main.paged" "c" "translate 0x801234" "translate 0x40400000" "translate 0x40401000" "info pt" "quit"
# PDE 2 = BIG_LIN | PS | P | W = 0x00400083, the 4 MiB alias of 0x400000
check monitor-translate-pde "$tmp/pg.out" "PDE at $(hex 0x$pd+8) = 00400083"
check monitor-translate-4m "$tmp/pg.out" "physical 00401234 (4 MiB page, writable, supervisor)"
# PDE 257 -> pt_test | P W U; PTE 0 never present: #PF error 0 on a read
check monitor-translate-pte "$tmp/pg.out" "PTE at $ptt = 00000000"
check monitor-translate-fault "$tmp/pg.out" "#PF on a supervisor read: error code 0"
# pt_test[1] = frame_ro | P: read-only
check monitor-translate-ro "$tmp/pg.out" "physical $fro (4 KiB page, read-only, supervisor)"
check monitor-info-pt "$tmp/pg.out" "00800000-00bfffff 00400000 -> 00400000 srw"
exit $failed
