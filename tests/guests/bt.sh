#!/bin/sh
# tests/guests/bt.sh - the binary-translation engine (-engine bt) against the
# interpreter (-engine emu), guest by guest.  A translator rewrites the
# sensitive instructions (PUSHF, POPF, SGDT, SIDT, MOV from CS/SS, LAR,
# LSL, ...) into VMM callouts, so unlike tae it must show the guest exactly
# what emu shows: every guest, pmode, fidelity and hostile included, is the
# same under both.
#
#   bt-same-NAME            every guest of guests/ (multiboot kernels, the
#                           nanobench benches at iters=100, ide with its
#                           image, the floppies, the -bios ROMs, smc_bt, spin
#                           under an instruction cap; boot_kbd and sercon
#                           typed at through a pseudo-terminal as tae.sh
#                           does): the same serial text (rtc's and
#                           timerbench's host-time numbers masked), port E9
#                           text, screen and exit status
#   bt-guests-covered       every .elf, .img and .rom in build/guests is one
#                           of those (a new guest must be added here)
#   bt-fidelity-CLASS       one per "fidelity: ..." line of guests/fidelity (20)
#                           (one Robin & Irvine class each): the line under
#                           the engine is emu's
#   bt-fidelity-report-NAME pmode, fidelity, hostile, nanobench-pushf: -stats
#                           under the engine says "fidelity: no difference"
#                           (emu, the reference, runs no VMM and prints no
#                           fidelity section: there it must print none)
#   bt-smc-qemu             smc_bt under emu prints QEMU's text, QEMU's status
#                           (SKIP without qemu-system-i386)
#
# The engine under test is $BT_ENGINE (default bt): BT_ENGINE=emu must pass
# everything (emu against itself), BT_ENGINE=tae fails the fidelity cases.
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"
E=${BT_ENGINE:-bt}
BEFORE=""
require_files bt "$TRAPEZE" "$G/exit0.elf" "$G/pmode.elf" "$G/fidelity.elf" "$G/hostile.elf" \
    "$G/nanobench.elf" "$G/smc_bt.elf" "$G/boot_kbd.img" "$G/sercon.img"

timeout 60 "$TRAPEZE" -engine "$E" -kernel "$G/exit0.elf" -display none </dev/null >/dev/null 2>"$tmp/exit0.err"
if [ $? -ne $PASS_STATUS ]; then
    fail "bt: -engine $E does not run guests/exit0 ($(head -n 1 "$tmp/exit0.err"))"
    exit 1
fi

# ---------------------------------------------------------------- 1. guests
# run_both NAME ARGS...: the guest under emu and under $E (-stats), headless,
# each run after the command $BEFORE (when set);
# $tmp/NAME.{emu,bt}.{out,rc,scr,e9,err} ("bt": the engine under test, so
# that BT_ENGINE=emu runs emu twice).  Serial text is stdout without CRs,
# with the host-time-dependent numbers of rtc and timerbench masked.
mask() { tr -d '\r' | sed -e 's/^rtc: .*/rtc: (time)/' -e 's/^\(timerbench: 2000 ticks, \)[0-9]*/\1N/'; }
run_both() {
    name=$1
    shift
    for side in emu bt; do
        eng=emu
        [ $side = bt ] && eng=$E
        : > "$tmp/$name.$side.e9"
        [ -n "$BEFORE" ] && eval "$BEFORE"
        timeout 60 "$TRAPEZE" -engine "$eng" -display none -screendump "$tmp/$name.$side.scr" \
            -debugcon "file:$tmp/$name.$side.e9" -stats "$@" </dev/null >"$tmp/$name.$side.raw" 2>"$tmp/$name.$side.err"
        echo $? > "$tmp/$name.$side.rc"
        mask < "$tmp/$name.$side.raw" > "$tmp/$name.$side.out"
    done
}
# same NAME: PASS bt-same-NAME when output, 0xE9 text, screen and status agree.
same() {
    a=$tmp/$1.emu b=$tmp/$1.bt
    if [ "$(cat "$a.rc")" = 124 ]; then
        fail "bt-same-$1: emu timed out"
    elif [ "$(cat "$a.rc")" != "$(cat "$b.rc")" ]; then
        fail "bt-same-$1: status $(cat "$b.rc") under $E, $(cat "$a.rc") under emu" \
            "($(first_difference "$b.out" "$a.out"); stderr: $(head -n 1 "$b.err"))"
    elif ! cmp -s "$a.out" "$b.out"; then
        fail "bt-same-$1: serial $(first_difference "$b.out" "$a.out")"
    elif ! cmp -s "$a.e9" "$b.e9"; then
        fail "bt-same-$1: port E9 text $(first_difference "$b.e9" "$a.e9")"
    elif ! cmp -s "$a.scr" "$b.scr"; then
        fail "bt-same-$1: the screen differs ($(first_difference "$b.scr" "$a.scr"))"
    else
        echo "PASS bt-same-$1"
    fi
}
KERNELS="hello pmode paging compute exit0 timer rtc smc syscall vga_text ioloop timerbench fidelity hostile smc_bt"
BENCHES="null syscall in cli pushf pgfault divzero ptemod cr3 forkwait eoi callret compute"
FLOPPIES="boot_hello boot exit0 compute floppy_odd"
ROMS="realmode realmode_bios ioloop_bios"
names=""
for k in $KERNELS; do
    run_both "$k" -kernel "$G/$k.elf"
    names="$names $k"
done
run_both hello-append -kernel "$G/hello.elf" -append "a b"
run_both pagebench-fault -kernel "$G/pagebench.elf" -append fault
run_both pagebench-tlb -kernel "$G/pagebench.elf" -append tlb
# spin never ends: the instruction cap stops it (status 8 under both).
run_both spin -kernel "$G/spin.elf" -max-insns 1M
names="$names hello-append pagebench-fault pagebench-tlb spin"
for b in $BENCHES; do
    run_both "nanobench-$b" -kernel "$G/nanobench.elf" -append "bench=$b iters=100"
    names="$names nanobench-$b"
done
# ide writes sector 1 of its image: each engine gets a fresh one.
BEFORE='rm -f "$tmp/hd.img"; truncate -s 2M "$tmp/hd.img"'
run_both ide -kernel "$G/ide.elf" -hda "$tmp/hd.img"
BEFORE=""
names="$names ide"
for f in $FLOPPIES; do
    run_both "floppy-$f" -fda "$G/$f.img"
    names="$names floppy-$f"
done
truncate -s 2M "$tmp/hd2.img"
printf 'HD0!' | dd of="$tmp/hd2.img" conv=notrunc 2>/dev/null
run_both floppy-boot_loader -fda "$G/boot_loader.img" -hda "$tmp/hd2.img" -m 128
names="$names floppy-boot_loader"
for r in $ROMS; do
    run_both "rom-$r" -bios "$G/$r.rom"
    names="$names rom-$r"
done
for n in $names; do
    same "$n"
done

# The guests that need input, typed as tae.sh types them: a line on the
# keyboard (-display none: the terminal is the 8042's keyboard) and a line
# on -nographic's serial console.
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP bt-same-boot_kbd: python3 (its pty module) is not installed"
    echo "SKIP bt-same-sercon: python3 (its pty module) is not installed"
else
    cat > "$tmp/typein.py" <<'EOF'
# typein.py WAITFILE PROMPT TEXT CMD...: CMD on a new pseudo-terminal; once
# PROMPT is in WAITFILE ("-": in the terminal's output) type TEXT and CR.
# Prints the terminal's output without CRs, then "STATUS N".
import os, pty, select, sys, time
wait, prompt, text, argv = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode(), sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out, typed, status, deadline = b"", False, "timeout", time.time() + 40
def seen():
    if wait == "-": return prompt in out
    try:
        with open(wait, "rb") as f: return prompt in f.read()
    except OSError: return False
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try: out += os.read(fd, 65536)
        except OSError: pass
    if not typed and seen():
        os.write(fd, text + b"\r"); typed = True
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(st); break
else:
    os.kill(pid, 9); os.waitpid(pid, 0)
sys.stdout.write(out.decode("latin-1").replace("\r", "") + "STATUS %s\n" % status)
EOF
    for side in emu bt; do
        eng=emu
        [ $side = bt ] && eng=$E
        truncate -s 2M "$tmp/kbd-$side.img"
        timeout 60 python3 "$tmp/typein.py" "$tmp/kbd.$side.com1" "kbd> " "Hello, World 42! a-b.c" \
            "$TRAPEZE" -engine "$eng" -fda "$G/boot_kbd.img" -hda "$tmp/kbd-$side.img" -display none \
            -serial "file:$tmp/kbd.$side.com1" -screendump "$tmp/kbd.$side.scr" > "$tmp/kbd.$side.pty" 2>&1
        timeout 60 python3 "$tmp/typein.py" - "type a line: " "hi" \
            "$TRAPEZE" -engine "$eng" -fda "$G/sercon.img" -nographic > "$tmp/sercon.$side.pty" 2>&1
    done
    if [ "$(tail -n 1 "$tmp/kbd.emu.pty")" != "STATUS 33" ] || ! grep -q "^kbd> Hello, World 42! a-b.c" "$tmp/kbd.emu.com1"; then
        fail "bt-same-boot_kbd: emu itself did not echo the line ($(tail -n 1 "$tmp/kbd.emu.pty"))"
    elif [ "$(tail -n 1 "$tmp/kbd.bt.pty")" != "STATUS 33" ] || ! cmp -s "$tmp/kbd.emu.com1" "$tmp/kbd.bt.com1" ||
         ! cmp -s "$tmp/kbd.emu.scr" "$tmp/kbd.bt.scr"; then
        fail "bt-same-boot_kbd: $E $(tail -n 1 "$tmp/kbd.bt.pty"); COM1 $(tr -d '\r' < "$tmp/kbd.bt.com1" | tail -n 2 | tr '\n' '|')"
    else
        echo "PASS bt-same-boot_kbd"
    fi
    if [ "$(tail -n 1 "$tmp/sercon.emu.pty")" != "STATUS 33" ] || ! grep -q "^got: 68 69" "$tmp/sercon.emu.pty"; then
        fail "bt-same-sercon: emu itself did not read the line ($(tail -n 2 "$tmp/sercon.emu.pty" | tr '\n' '|'))"
    elif ! cmp -s "$tmp/sercon.emu.pty" "$tmp/sercon.bt.pty"; then
        fail "bt-same-sercon: $(first_difference "$tmp/sercon.bt.pty" "$tmp/sercon.emu.pty")"
    else
        echo "PASS bt-same-sercon"
    fi
fi

# Every guest the build makes is run above (boot.img: a copy of
# boot_hello.img, run as floppy-boot).
covered="$KERNELS pagebench spin nanobench ide boot_loader boot_kbd sercon $FLOPPIES $ROMS"
missing=""
for f in "$G"/*.elf "$G"/*.img "$G"/*.rom; do
    [ -e "$f" ] || continue
    base=$(basename "$f")
    base=${base%.*}
    case " $covered " in
    *" $base "*) ;;
    *) missing="$missing $(basename "$f")" ;;
    esac
done
if [ -z "$missing" ]; then
    echo "PASS bt-guests-covered"
else
    fail "bt-guests-covered: tests/guests/bt.sh does not run$missing"
fi

# ---------------------------------------------------------------- 2. fidelity
# One check per "fidelity: CLASS ..." line of guests/fidelity (the last line,
# "fidelity: N differences", is the status bt-same-fidelity compares).  The
# CLASS: the text before the line's first ':' where it has one ("pushf after
# cli"), else the words before the first field name, the word before the
# first number ("sgdt base 00101000" -> sgdt, "user smsw msw 0011" -> user
# smsw); as a test name, lower case, each run of other characters a '-'.
classes() {
    sed -n 's/^fidelity: //p' "$1" | grep -v '^[0-9]* differences$' | awk '{
        line = $0
        if (index(line, ":") > 0) cls = substr(line, 1, index(line, ":") - 1)
        else { cls = ""; for (i = 1; i <= NF && $i !~ /[0-9]/; i++) ;
               for (j = 1; j < i - 1; j++) cls = cls (j > 1 ? " " : "") $j }
        tag = tolower(cls); gsub(/[^a-z0-9]+/, "-", tag); sub(/^-/, "", tag); sub(/-$/, "", tag)
        print tag "\t" $0 }'
}
classes "$tmp/fidelity.emu.out" > "$tmp/fid.emu"
classes "$tmp/fidelity.bt.out" > "$tmp/fid.bt"
if [ "$(wc -l < "$tmp/fid.emu")" -lt 20 ]; then
    fail "bt-fidelity: emu prints $(wc -l < "$tmp/fid.emu") fidelity classes, want 20 (status $(cat "$tmp/fidelity.emu.rc"))"
fi
while IFS="$(printf '\t')" read -r tag line; do
    got=$(awk -F '\t' -v t="$tag" '$1 == t { print $2; exit }' "$tmp/fid.bt")
    if [ "$got" = "$line" ]; then
        echo "PASS bt-fidelity-$tag"
    elif [ -z "$got" ]; then
        fail "bt-fidelity-$tag: no such line under $E (want \"fidelity: $line\"; status $(cat "$tmp/fidelity.bt.rc"))"
    else
        fail "bt-fidelity-$tag: $E prints \"fidelity: $got\", emu \"fidelity: $line\""
    fi
done < "$tmp/fid.emu"

# The engine's own fidelity report (-stats): nothing the guest saw differed.
for n in pmode fidelity hostile nanobench-pushf; do
    if grep -q "^fidelity: no difference" "$tmp/$n.bt.err"; then
        echo "PASS bt-fidelity-report-$n"
    elif [ "$E" = emu ] && ! grep -q "^fidelity" "$tmp/$n.bt.err"; then
        echo "PASS bt-fidelity-report-$n"
    else
        fail "bt-fidelity-report-$n: -stats under $E says" \
            "\"$(grep -m 1 "^fidelity" "$tmp/$n.bt.err" || echo "no fidelity line")\", want \"fidelity: no difference...\""
    fi
done

# Adaptive BT: hostile reads the VMM's linear region from ring 0 over and
# over; each copied load traps and is emulated until it is retranslated as
# a callout (-stats: bt adaptive), and the guest's output stays emu's.
if [ "$E" = bt ]; then
    n=$(awk '$1 == "bt" && $2 == "adaptive" { print $3 }' "$tmp/hostile.bt.err")
    if [ "${n:-0}" -ge 1 ] && cmp -s "$tmp/hostile.emu.out" "$tmp/hostile.bt.out"; then
        echo "PASS bt-adaptive-hostile"
    else
        fail "bt-adaptive-hostile: -stats says bt adaptive '${n:-none}', want at least 1 (and emu's output)"
    fi
fi

# ---------------------------------------------------------------- 3. QEMU
# smc_bt's text is QEMU TCG's (a translator that handles self-modifying
# code) as well as emu's.
if ! have_qemu; then
    echo "SKIP bt-smc-qemu: qemu-system-i386 is not installed"
else
    run_qemu 60 -kernel "$G/smc_bt.elf"
    if [ "$qrc" != "$(cat "$tmp/smc_bt.emu.rc")" ] || ! cmp -s "$tmp/qgot" "$tmp/smc_bt.emu.out"; then
        fail "bt-smc-qemu: emu (status $(cat "$tmp/smc_bt.emu.rc")) and QEMU (status $qrc) differ:" \
            "$(first_difference "$tmp/smc_bt.emu.out" "$tmp/qgot")"
    elif [ "$qrc" != $PASS_STATUS ]; then
        fail "bt-smc-qemu: both exit $qrc, want $PASS_STATUS: $(grep -m 1 '^FAIL' "$tmp/qgot")"
    else
        echo "PASS bt-smc-qemu"
    fi
fi
exit $failed
