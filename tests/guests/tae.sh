#!/bin/sh
# tests/guests/tae.sh - the trap-and-emulate engine (-engine tae) against the
# interpreter (-engine emu), guest by guest and tool by tool.
#
#   tae-same-NAME        every guest of guests/ (multiboot kernels, floppies,
#                        -bios ROMs; the keyboard and int 16h ones typed at
#                        through a pseudo-terminal, as kbd_echo.sh and
#                        console.sh do) prints the same serial (and 0xE9)
#                        text, leaves the same screen and exits with the
#                        same status under both engines
#   tae-differs-NAME     the guests that see through ring compression (pmode,
#                        fidelity, hostile): exactly the lines named here
#                        differ, and tae-why-NAME-LINE: -stats's fidelity
#                        section names the instruction behind each one
#   tae-virt-NAME        -cpu pentium,virtualizable=on: pmode and fidelity
#                        print emu's text; hostile keeps only the segment-load
#                        difference (MOV to a segment register is no
#                        sensitive read the switch makes trap)
#   tae-monitor-*        info vmm (virtual CPL 0, hardware CPL 1), info shadow
#                        [LIN], translate LIN (guest and shadow walk), info
#                        fidelity, bad arguments, `info vmm` under emu;
#                        breakpoints and single steps stop at emu's EIPs
#                        (paging.elf: IRET to ring 3, #PF from ring 3 and
#                        back, INT 0x80), and a vector breakpoint stops where
#                        emu's does
#   tae-snapshot-*       savevm under one engine part-way, loadvm under the
#                        other: the guest ends as an uninterrupted emu run
#   tae-gdb-*            the GDB stub shows the guest's CS 0x8, not 0x9
#   tae-cpu-*            bad -cpu arguments are refused with one line
#   tae-counters-*       nanobench's cli, pgfault and pushf: the trap and
#                        fault counters and the fidelity section of -stats
#
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"
require_files tae "$TRAPEZE" "$G/exit0.elf" "$G/pmode.elf" "$G/paging.elf" "$G/syscall.elf" \
    "$G/fidelity.elf" "$G/hostile.elf" "$G/nanobench.elf" "$G/boot_kbd.img" "$G/sercon.img"

timeout 20 "$TRAPEZE" -engine tae -kernel "$G/exit0.elf" -nographic </dev/null >/dev/null 2>&1
if [ $? -ne $PASS_STATUS ]; then
    echo "SKIP tae: -engine tae does not run guests/exit0 in this build"
    exit 0
fi

skip_without nm "nm (binutils) is not installed" tae

# ---------------------------------------------------------------- 1. guests
# run_both NAME ARGS...: the guest under emu and under tae (-stats), headless;
# $tmp/NAME.ENGINE.{out,rc,scr,e9,err}.  Serial text is stdout without CRs,
# with the host-time-dependent numbers of rtc and timerbench masked.
mask() { tr -d '\r' | sed -e 's/^rtc: .*/rtc: (time)/' -e 's/^\(timerbench: 2000 ticks, \)[0-9]*/\1N/'; }
run_both() {
    name=$1
    shift
    for e in emu tae; do
        : > "$tmp/$name.$e.e9"
        timeout 60 "$TRAPEZE" -engine $e -display none -screendump "$tmp/$name.$e.scr" \
            -debugcon "file:$tmp/$name.$e.e9" -stats "$@" </dev/null >"$tmp/$name.$e.raw" 2>"$tmp/$name.$e.err"
        echo $? > "$tmp/$name.$e.rc"
        mask < "$tmp/$name.$e.raw" > "$tmp/$name.$e.out"
    done
}
# same NAME: PASS tae-same-NAME when output, 0xE9 text, screen and status agree.
same() {
    a=$tmp/$1.emu b=$tmp/$1.tae
    if [ "$(cat "$a.rc")" = 124 ]; then
        fail "tae-same-$1: emu timed out"
    elif [ "$(cat "$a.rc")" != "$(cat "$b.rc")" ]; then
        fail "tae-same-$1: status $(cat "$b.rc") under tae, $(cat "$a.rc") under emu" \
            "($(first_difference "$b.out" "$a.out"); stderr: $(head -n 1 "$b.err"))"
    elif ! cmp -s "$a.out" "$b.out"; then
        fail "tae-same-$1: serial $(first_difference "$b.out" "$a.out")"
    elif ! cmp -s "$a.e9" "$b.e9"; then
        fail "tae-same-$1: port E9 text $(first_difference "$b.e9" "$a.e9")"
    elif ! cmp -s "$a.scr" "$b.scr"; then
        fail "tae-same-$1: the screen differs ($(first_difference "$b.scr" "$a.scr"))"
    else
        echo "PASS tae-same-$1"
    fi
}
truncate -s 2M "$tmp/hd.img"
for k in hello pmode paging compute exit0 timer rtc smc syscall vga_text ioloop timerbench fidelity hostile; do
    run_both "$k" -kernel "$G/$k.elf"
done
run_both hello-append -kernel "$G/hello.elf" -append "a b"
run_both pagebench-fault -kernel "$G/pagebench.elf" -append fault
run_both pagebench-tlb -kernel "$G/pagebench.elf" -append tlb
for b in null syscall in cli pushf pgfault divzero ptemod cr3 forkwait eoi callret compute; do
    run_both "nanobench-$b" -kernel "$G/nanobench.elf" -append "bench=$b iters=100"
done
cp "$tmp/hd.img" "$tmp/hd-emu.img"
run_both ide -kernel "$G/ide.elf" -hda "$tmp/hd.img"
for f in boot_hello boot exit0 compute floppy_odd; do
    run_both "floppy-$f" -fda "$G/$f.img"
done
truncate -s 2M "$tmp/hd2.img"
printf 'HD0!' | dd of="$tmp/hd2.img" conv=notrunc 2>/dev/null
run_both floppy-boot_loader -fda "$G/boot_loader.img" -hda "$tmp/hd2.img" -m 128
for r in realmode realmode_bios ioloop_bios; do
    run_both "rom-$r" -bios "$G/$r.rom"
done
for n in hello hello-append paging compute exit0 timer rtc smc syscall vga_text ioloop timerbench \
         pagebench-fault pagebench-tlb ide floppy-boot_hello floppy-boot floppy-exit0 floppy-compute \
         floppy-floppy_odd floppy-boot_loader rom-realmode rom-realmode_bios rom-ioloop_bios \
         nanobench-null nanobench-syscall nanobench-in nanobench-cli nanobench-pgfault \
         nanobench-divzero nanobench-ptemod nanobench-cr3 nanobench-forkwait nanobench-eoi \
         nanobench-callret nanobench-compute; do
    same "$n"
done
# nanobench's pushf differs in nothing the guest prints (it only times).
same nanobench-pushf

# -stats's exception counts (vector and number; emu also names the vector)
# are the guest's exceptions, the same under both engines.
for n in pmode paging nanobench-pgfault nanobench-divzero; do
    for e in emu tae; do
        awk '$1 == "exception" && $2 ~ /^[0-9]+$/ { print $2, $3 }' "$tmp/$n.$e.err" > "$tmp/$n.$e.exc"
    done
    if [ -s "$tmp/$n.emu.exc" ] && cmp -s "$tmp/$n.emu.exc" "$tmp/$n.tae.exc"; then
        echo "PASS tae-stats-exceptions-$n"
    else
        fail "tae-stats-exceptions-$n: tae '$(tr '\n' ';' < "$tmp/$n.tae.exc")', emu '$(tr '\n' ';' < "$tmp/$n.emu.exc")'"
    fi
done

# The guests that need input, typed as their own tests type it: a line on
# the keyboard (-display none: the terminal is the 8042's keyboard) and a
# line on -nographic's serial console.
skip_without python3 "python3 (its pty module) is not installed" tae-same-boot_kbd tae-same-sercon
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
for e in emu tae; do
    truncate -s 2M "$tmp/kbd-$e.img"
    timeout 60 python3 "$tmp/typein.py" "$tmp/kbd.$e.com1" "kbd> " "Hello, World 42! a-b.c" \
        "$TRAPEZE" -engine $e -fda "$G/boot_kbd.img" -hda "$tmp/kbd-$e.img" -display none \
        -serial "file:$tmp/kbd.$e.com1" -screendump "$tmp/kbd.$e.scr" > "$tmp/kbd.$e.pty" 2>&1
    timeout 60 python3 "$tmp/typein.py" - "type a line: " "hi" \
        "$TRAPEZE" -engine $e -fda "$G/sercon.img" -nographic > "$tmp/sercon.$e.pty" 2>&1
done
if [ "$(tail -n 1 "$tmp/kbd.emu.pty")" != "STATUS 33" ] || ! grep -q "^kbd> Hello, World 42! a-b.c" "$tmp/kbd.emu.com1"; then
    fail "tae-same-boot_kbd: emu itself did not echo the line ($(tail -n 1 "$tmp/kbd.emu.pty"))"
elif [ "$(tail -n 1 "$tmp/kbd.tae.pty")" != "STATUS 33" ] || ! cmp -s "$tmp/kbd.emu.com1" "$tmp/kbd.tae.com1" ||
     ! cmp -s "$tmp/kbd.emu.scr" "$tmp/kbd.tae.scr"; then
    fail "tae-same-boot_kbd: tae $(tail -n 1 "$tmp/kbd.tae.pty"); COM1 $(tr -d '\r' < "$tmp/kbd.tae.com1" | tail -n 2 | tr '\n' '|')"
else
    echo "PASS tae-same-boot_kbd"
fi
if [ "$(tail -n 1 "$tmp/sercon.emu.pty")" != "STATUS 33" ] || ! grep -q "^got: 68 69" "$tmp/sercon.emu.pty"; then
    fail "tae-same-sercon: emu itself did not read the line ($(tail -n 2 "$tmp/sercon.emu.pty" | tr '\n' '|'))"
elif ! cmp -s "$tmp/sercon.emu.pty" "$tmp/sercon.tae.pty"; then
    fail "tae-same-sercon: $(first_difference "$tmp/sercon.tae.pty" "$tmp/sercon.emu.pty")"
else
    echo "PASS tae-same-sercon"
fi

# differs NAME STATUS CASE...: under tae, exactly the lines CASE name differ
# from emu's, in order, and tae exits STATUS (emu: 33).  Each CASE is
# "EREGEX=MNEMONIC": tae's line matches EREGEX, and the fidelity section of
# -stats names MNEMONIC among the kinds that "showed the guest what hardware
# would not" (a line "  MNEMONIC  N of M  first: ...").  MNEMONIC "-": a
# line that follows from the others (a verdict or count line).
differs() {
    name=$1 want_rc=$2
    shift 2
    diff "$tmp/$name.emu.out" "$tmp/$name.tae.out" | sed -n 's/^> //p' > "$tmp/$name.diff"
    ok=1
    n=0
    for c in "$@"; do n=$((n + 1)); done
    if [ "$(cat "$tmp/$name.emu.rc")" != 33 ] || [ "$(cat "$tmp/$name.tae.rc")" != "$want_rc" ]; then
        fail "tae-differs-$name: status $(cat "$tmp/$name.tae.rc") under tae (want $want_rc)," \
            "$(cat "$tmp/$name.emu.rc") under emu (want 33)"
        ok=0
    elif [ "$(wc -l < "$tmp/$name.diff")" -ne $n ]; then
        fail "tae-differs-$name: $(wc -l < "$tmp/$name.diff") lines differ, want $n:" \
            "$(tr '\n' '|' < "$tmp/$name.diff" | cut -c1-300)"
        ok=0
    fi
    i=0
    for c in "$@"; do
        i=$((i + 1))
        re=${c%=*} mn=${c##*=}
        line=$(sed -n "${i}p" "$tmp/$name.diff")
        if [ $ok = 1 ] && ! printf '%s\n' "$line" | grep -Eq -- "$re"; then
            fail "tae-differs-$name: line $i is '$line', want /$re/"
            ok=0
        fi
        [ "$mn" = - ] && continue
        tag=$(printf '%s' "$mn" | tr ' ' '_')
        if sed -n '/^fidelity: .*showed the guest what hardware would not/,$p' "$tmp/$name.tae.err" |
           grep -Eq "^  $mn +[0-9]+ of [0-9]+ +first: "; then
            echo "PASS tae-why-$name-$i-$tag"
        else
            fail "tae-why-$name-$i-$tag: -stats's fidelity section does not name '$mn' for '$line':" \
                "$(grep -A4 '^fidelity' "$tmp/$name.tae.err" | tr '\n' '|' | cut -c1-300)"
        fi
    done
    [ $ok = 1 ] && echo "PASS tae-differs-$name"
}
# pmode: the call gates' handlers check CS = 0008 with MOV from CS, which
# shows RPL 1 under ring compression; the verdict line follows.
differs pmode 35 \
    "^FAIL call-gate-ring0: got 0x00000009 want 0x00000008$=mov from cs" \
    "^FAIL call-gate-ring3-to-ring0: got 0x00000009 want 0x00000008$=mov from cs" \
    "^pmode: 2 of 14 checks failed$=-"
# fidelity: by design; the retf and iret classes read CS back with MOV from
# CS; user sgdt is SGDT at ring 3.  Status 33 + 2 * 13.
differs fidelity 59 \
    "^fidelity: sgdt base ffc00000 \(set [0-9a-f]{8}\) limit [0-9a-f]{4} DIFFERS$=sgdt" \
    "^fidelity: sidt base ffc20000 \(set [0-9a-f]{8}\) limit [0-9a-f]{4} DIFFERS$=sidt" \
    "^fidelity: pushf after cli: IF 1 \(set 0\) DIFFERS$=pushf" \
    "^fidelity: popf IOPL 0->3: IOPL 0 \(set 3\) DIFFERS$=popf" \
    "^fidelity: mov from cs: selector 0009 \(set 0008\) DIFFERS$=mov from cs" \
    "^fidelity: push cs: selector 0009 \(set 0008\) DIFFERS$=push cs" \
    "^fidelity: mov from ss: selector 0011 \(set 0010\) DIFFERS$=mov from ss" \
    "^fidelity: push ss: selector 0011 \(set 0010\) DIFFERS$=push ss" \
    "^fidelity: lar cs: rights 00c0ba00 \(set 00c09a00\) DPL 1 \(set 0\) ZF 1 DIFFERS$=lar" \
    "^fidelity: lsl ds: limit ffbfffff \(set ffffffff\) ZF 1 DIFFERS$=lsl" \
    "^fidelity: retf same ring: cs 0009 \(set 0008\) DIFFERS$=mov from cs" \
    "^fidelity: iret same ring: cs 0009 \(set 0008\) DIFFERS$=mov from cs" \
    "^fidelity: user sgdt base ffc00000 \(set [0-9a-f]{8}\) limit [0-9a-f]{4} DIFFERS$=sgdt" \
    "^fidelity: 13 differences$=-"
# hostile: selectors 0009 and 0011 (RPL 1, DPL 0) load at the hardware's
# CPL 1 against their DPL 1 shadows; SGDT and SIDT show the VMM's tables.
differs hostile 33 \
    "^hostile: selectors 0000-ffff into ds: 65516 #GP, 4 #NP$=mov ds" \
    "^hostile: selectors 0000-ffff into fs: 65516 #GP, 4 #NP$=mov fs" \
    "^hostile: lgdt/lidt junk and back: gdt/idt at ffc00000 ffc20000$=sgdt"
grep -q "^  sidt .*first: sidt at .*: base ffc20000 (VMM)" "$tmp/hostile.tae.err" &&
    echo "PASS tae-why-hostile-3-sidt" || fail "tae-why-hostile-3-sidt: -stats does not name sidt"

# ---------------------------------------------------------------- 2. virtualizable=on
for k in pmode fidelity hostile; do
    timeout 60 "$TRAPEZE" -engine tae -cpu pentium,virtualizable=on -kernel "$G/$k.elf" -display none -stats \
        </dev/null 2>"$tmp/$k.virt.err" | mask > "$tmp/$k.virt.out"
done
for k in pmode fidelity; do
    if cmp -s "$tmp/$k.emu.out" "$tmp/$k.virt.out"; then
        echo "PASS tae-virt-$k"
    else
        fail "tae-virt-$k: $(first_difference "$tmp/$k.virt.out" "$tmp/$k.emu.out")"
    fi
    if grep -q "^fidelity: no difference" "$tmp/$k.virt.err"; then
        echo "PASS tae-virt-$k-report-empty"
    else
        fail "tae-virt-$k-report-empty: $(grep '^fidelity' "$tmp/$k.virt.err")"
    fi
done
diff "$tmp/hostile.emu.out" "$tmp/hostile.virt.out" | sed -n 's/^> //p' > "$tmp/hostile.virt.diff"
if [ "$(wc -l < "$tmp/hostile.virt.diff")" = 2 ] && grep -q "into ds: 65516" "$tmp/hostile.virt.diff" &&
   grep -q "into fs: 65516" "$tmp/hostile.virt.diff" && grep -q "^  mov ds .*first:" "$tmp/hostile.virt.err"; then
    echo "PASS tae-virt-hostile-segment-loads-only"
else
    fail "tae-virt-hostile-segment-loads-only: $(tr '\n' '|' < "$tmp/hostile.virt.diff")"
fi

# ---------------------------------------------------------------- 3. monitor
# (mon, check: tests/guests/lib.shinc)
PAGING=$G/paging.elf
mon vmm tae "$PAGING" "break back_from_user" "c" "info vmm" "info shadow" "info shadow 401230" \
    "translate 401230" "info shadow 7fff0000" "info fidelity" "info shadow zz" "info shadow 1 2" "quit"
check tae-monitor-info-vmm-cpl "$tmp/vmm.out" "^cpl +0 +1$"
check tae-monitor-info-vmm-cs "$tmp/vmm.out" "^cs +0008 .* 0009 .*dpl 1$"
check tae-monitor-info-vmm-cr3 "$tmp/vmm.out" "^cr3 +00104000 +f[0-9a-f]{7} \(shadow\)$"
check tae-monitor-info-vmm-mode "$tmp/vmm.out" "^mode: direct"
check tae-monitor-info-shadow-space "$tmp/vmm.out" "^space +0: guest CR3 00104000 +shadow PD [0-9a-f]{8} .*<- running$"
check tae-monitor-info-shadow-total "$tmp/vmm.out" "^[0-9]+ spaces, [0-9]+ shadow page tables in use of 2048"
# 0x401230 is BIG_LIN + 0x1230: the guest's 4 MiB page (PDE 004000e3), shadowed by a 4 KiB page.
check tae-monitor-info-shadow-lin-guest "$tmp/vmm.out" "^  guest:  -> 00401230 writable supervisor$"
check tae-monitor-info-shadow-lin-shadow "$tmp/vmm.out" "^  shadow: -> 00401230 writable supervisor$"
check tae-monitor-info-shadow-lin-pde "$tmp/vmm.out" "^  pde 004000e3 @00104004 +pde [0-9a-f]{8} @[0-9a-f]{8}$"
check tae-monitor-info-shadow-unfilled "$tmp/vmm.out" "not mapped \(#PF error 0\): a true fault"
check tae-monitor-translate-guest "$tmp/vmm.out" "^guest page tables:$"
check tae-monitor-translate-guest-pde "$tmp/vmm.out" "PDE at 00104004 = 004000e3 .*PS=1"
check tae-monitor-translate-shadow "$tmp/vmm.out" "^shadow page tables:$"
check tae-monitor-translate-shadow-pte "$tmp/vmm.out" "PTE at [0-9a-f]{8} = 00401[0-9a-f]{3} .*-> page frame 00401000"
check tae-monitor-info-fidelity "$tmp/vmm.out" "^fidelity: .*sensitive instructions ran deprivileged"
check tae-monitor-info-shadow-bad "$tmp/vmm.out" "^error: info shadow zz: "
check tae-monitor-info-shadow-extra "$tmp/vmm.out" "^error: info shadow"
mon vmmemu emu "$PAGING" "info vmm" "info shadow" "info fidelity" "quit"
check tae-monitor-emu-info-vmm "$tmp/vmmemu.out" "^error: info vmm: the engine is emu, which runs no VMM"
check tae-monitor-emu-info-shadow "$tmp/vmmemu.out" "^error: info shadow: the engine is emu"

# Steps from the IRET to ring 3 (the byte before back_from_user): ring 3,
# its #PF to ring 0 and IRET back, twice, then INT 0x80 to back_from_user.
bfu=$(sym "$PAGING" back_from_user)
iret=$(printf '%x' $((0x$bfu - 1)))
eips() { grep -E '^[0-9a-f]{4}:[0-9a-f]{8} ' "$1" | awk '{ print $1 }'; }
for e in emu tae; do
    mon "step-$e" $e "$PAGING" "break 0x$iret" "c" "step 130" "quit"
    eips "$tmp/step-$e.out" > "$tmp/step-$e.eips"
done
if [ "$(wc -l < "$tmp/step-emu.eips")" -ne 130 ] || ! grep -q "int 0x80" "$tmp/step-emu.out" ||
   ! grep -q "^001b:" "$tmp/step-emu.eips"; then
    fail "tae-monitor-step-eips: emu's 130 steps from the IRET are not what the test expects" \
        "($(wc -l < "$tmp/step-emu.eips") steps)"
elif cmp -s "$tmp/step-emu.eips" "$tmp/step-tae.eips"; then
    echo "PASS tae-monitor-step-eips"
else
    fail "tae-monitor-step-eips: $(first_difference "$tmp/step-tae.eips" "$tmp/step-emu.eips")"
fi
# What a step reports happened: the same events (exceptions, interrupts).
for e in emu tae; do grep -E '^    (exception|interrupt)' "$tmp/step-$e.out" > "$tmp/step-$e.events"; done
if cmp -s "$tmp/step-emu.events" "$tmp/step-tae.events"; then
    echo "PASS tae-monitor-step-events"
else
    fail "tae-monitor-step-events: $(first_difference "$tmp/step-tae.events" "$tmp/step-emu.events")"
fi
# Breakpoints at symbols: the same stops in the same order.  Under -icount:
# syscall's timer ticks in host time otherwise, and a tick that lands on
# the breakpoint being continued from makes it stop there once more (under
# either engine, as the load of the machine decides).
for e in emu tae; do
    MON_EXTRA="-icount shift=0" mon "brk-$e" $e "$G/syscall.elf" "break syscall_entry" "break user_main" "break to_user" \
        "c" "c" "c" "c" "c" "quit"
    grep -E '^=> ' "$tmp/brk-$e.out" | awk '{ print $2 }' > "$tmp/brk-$e.stops"
done
if [ "$(wc -l < "$tmp/brk-emu.stops")" -ge 5 ] && cmp -s "$tmp/brk-emu.stops" "$tmp/brk-tae.stops"; then
    echo "PASS tae-monitor-break-stops"
else
    fail "tae-monitor-break-stops: tae $(tr '\n' ' ' < "$tmp/brk-tae.stops"), emu $(tr '\n' ' ' < "$tmp/brk-emu.stops")"
fi
# A vector breakpoint on an exception stops as the exception is raised, at
# the faulting instruction, before delivery (as under emu).
for e in emu tae; do
    mon "vec-$e" $e "$PAGING" "break vector 14" "c" "quit"
    grep -A1 '^Breakpoint 1, vector' "$tmp/vec-$e.out" > "$tmp/vec-$e.stop"
done
if [ -s "$tmp/vec-emu.stop" ] && cmp -s "$tmp/vec-emu.stop" "$tmp/vec-tae.stop"; then
    echo "PASS tae-monitor-break-vector"
else
    fail "tae-monitor-break-vector: tae stops '$(tr '\n' ' ' < "$tmp/vec-tae.stop" | cut -c1-160)'," \
        "emu '$(tr '\n' ' ' < "$tmp/vec-emu.stop" | cut -c1-160)'"
fi

# ---------------------------------------------------------------- 4. snapshots
# snap (lib.shinc): savevm part-way under one engine, loadvm under the other.
snap tae-snapshot paging-ring3-tae-to-emu tae emu "$PAGING" user_main
snap tae-snapshot paging-ring3-emu-to-tae emu tae "$PAGING" user_main
snap tae-snapshot paging-pf-tae-to-emu tae emu "$PAGING" isr14
snap tae-snapshot paging-pf-emu-to-tae emu tae "$PAGING" isr14
snap tae-snapshot syscall-tae-to-emu tae emu "$G/syscall.elf" user_wait
snap tae-snapshot syscall-emu-to-tae emu tae "$G/syscall.elf" user_wait
snap tae-snapshot syscall-tae-to-tae tae tae "$G/syscall.elf" syscall_entry

# ---------------------------------------------------------------- 5. gdb
if ! command -v gdb >/dev/null 2>&1; then
    echo "SKIP tae-gdb-cs: gdb is not installed"
    echo "SKIP tae-gdb-registers-as-emu: gdb is not installed"
else
    for e in emu tae; do
        timeout 60 "$TRAPEZE" -engine $e -kernel "$PAGING" -nographic -S -gdb tcp::0 \
            </dev/null >"$tmp/stub-$e.out" 2>"$tmp/stub-$e.err" &
        TPID=$!
        pids="$pids $TPID"
        PORT=""
        for _ in $(seq 50); do
            PORT=$(sed -n 's/^trapeze: gdb stub listening on [^:]*:\([0-9]*\)$/\1/p' "$tmp/stub-$e.err")
            [ -n "$PORT" ] && break
            sleep 0.1
        done
        cat > "$tmp/tae.gdb" <<EOF
set confirm off
set pagination off
target remote 127.0.0.1:$PORT
break *0x$bfu
continue
info registers
printf "CHECK cs=%x ss=%x\n", \$cs, \$ss
break *0x$(sym "$PAGING" user_main)
continue
printf "CHECK user cs=%x ss=%x\n", \$cs, \$ss
kill
EOF
        timeout 30 gdb -batch -nx -x "$tmp/tae.gdb" </dev/null >"$tmp/gdb-$e.out" 2>&1
        kill "$TPID" 2>/dev/null
        wait "$TPID" 2>/dev/null
    done
    # The ring-3 stop comes first (user_main runs before back_from_user).
    if grep -qx "CHECK cs=8 ss=10" "$tmp/gdb-tae.out" && grep -Eq "^cs +0x8 +8$" "$tmp/gdb-tae.out"; then
        echo "PASS tae-gdb-cs"
    else
        fail "tae-gdb-cs: $(grep -E '^CHECK|^cs ' "$tmp/gdb-tae.out" | tr '\n' '|')"
    fi
    grep -E '^[a-z0-9]+ +0x' "$tmp/gdb-emu.out" > "$tmp/gdb-emu.regs"
    grep -E '^[a-z0-9]+ +0x' "$tmp/gdb-tae.out" > "$tmp/gdb-tae.regs"
    if [ -s "$tmp/gdb-emu.regs" ] && cmp -s "$tmp/gdb-emu.regs" "$tmp/gdb-tae.regs"; then
        echo "PASS tae-gdb-registers-as-emu"
    else
        fail "tae-gdb-registers-as-emu: $(first_difference "$tmp/gdb-tae.regs" "$tmp/gdb-emu.regs")"
    fi
fi

# ---------------------------------------------------------------- 6. bad input
expect_error tae-cpu-virtualizable-needs-tae 2 "only with -engine tae" \
    -engine emu -cpu pentium,virtualizable=on -kernel "$G/exit0.elf"
expect_error tae-cpu-bogus-feature 2 "^trapeze: -cpu pentium,bogus=1: " \
    -engine tae -cpu pentium,bogus=1 -kernel "$G/exit0.elf"
expect_error tae-cpu-bogus-feature-emu 2 "^trapeze: -cpu pentium,bogus=1: " \
    -cpu pentium,bogus=1 -kernel "$G/exit0.elf"
expect_error tae-cpu-bad-value 2 "virtualizable=on|off" \
    -engine tae -cpu pentium,virtualizable=yes -kernel "$G/exit0.elf"
expect_error tae-cpu-host 2 "not with -engine tae" -engine tae -cpu host -kernel "$G/exit0.elf"

# ---------------------------------------------------------------- 7. counters
# stat NAME FILE: the number on -stats's line "  NAME  N" (traps by
# instruction: "    NAME  N"); empty when there is none.
stat() { awk -v n="$1" '{ line = $0; sub(/^ +/, "", line); v = $NF; sub(/ +[0-9]+$/, "", line)
                          if (line == n && v ~ /^[0-9]+$/) { print v; exit } }' "$2"; }
nano() {
    timeout 30 "$TRAPEZE" -engine tae -kernel "$G/nanobench.elf" -append "bench=$1 iters=1000" \
        -display none -stats </dev/null >"$tmp/nb-$1.out" 2>"$tmp/nb-$1.err"
    tr -d '\r' < "$tmp/nb-$1.out" | grep -qx "nanobench: $1 1000 done" ||
        fail "tae-counters-$1-ran: $(head -n 1 "$tmp/nb-$1.out")"
    # traps by instruction: only the lines after that header
    sed -n '/^  traps by instruction:/,/^[a-z]/p' "$tmp/nb-$1.err" > "$tmp/nb-$1.traps"
}
near() { [ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
nano cli
traps=$(stat "tae traps" "$tmp/nb-cli.err")
[ -n "$traps" ] && [ "$traps" -ge 2000 ] && echo "PASS tae-counters-cli-traps" ||
    fail "tae-counters-cli-traps: tae traps '$traps', want >= 2000"
c=$(stat cli "$tmp/nb-cli.traps") s=$(stat sti "$tmp/nb-cli.traps")
near "$c" 1000 1010 && near "$s" 1000 1010 && echo "PASS tae-counters-cli-by-insn" ||
    fail "tae-counters-cli-by-insn: cli '$c', sti '$s', want about 1000 each"
sum=$(awk '/^    / { s += $NF } END { print s + 0 }' "$tmp/nb-cli.traps")
emul=$(stat "tae emulated" "$tmp/nb-cli.err")
[ "$sum" = "$emul" ] && echo "PASS tae-counters-cli-by-insn-sum" ||
    fail "tae-counters-cli-by-insn-sum: traps by instruction add up to $sum, tae emulated is '$emul'"
nano pgfault
tf=$(stat "tae true faults" "$tmp/nb-pgfault.err")
[ -n "$tf" ] && [ "$tf" -ge 1000 ] && echo "PASS tae-counters-pgfault-true-faults" ||
    fail "tae-counters-pgfault-true-faults: '$tf', want >= 1000"
ex=$(awk '$1 == "exception" && $2 == 14 { print $3 }' "$tmp/nb-pgfault.err")
[ -n "$ex" ] && [ "$ex" -ge 1000 ] && echo "PASS tae-counters-pgfault-exception-14" ||
    fail "tae-counters-pgfault-exception-14: -stats's exception 14 is '$ex', want >= 1000 (the guest took 1000 #PF)"
nano pushf
c=$(stat cli "$tmp/nb-pushf.traps") s=$(stat sti "$tmp/nb-pushf.traps") p=$(stat popf "$tmp/nb-pushf.traps")
# lib.asm's _start has one CLI; the loop itself traps nothing.
[ "${c:-0}" -le 2 ] && [ -z "$s" ] && [ -z "$p" ] && echo "PASS tae-counters-pushf-no-traps" ||
    fail "tae-counters-pushf-no-traps: cli '$c' sti '$s' popf '$p'"
if grep -Eq "^  pushf +[0-9]+ of [0-9]+ +first: " "$tmp/nb-pushf.err" &&
   grep -Eq "^  popf +[0-9]+ of [0-9]+ +first: " "$tmp/nb-pushf.err"; then
    echo "PASS tae-counters-pushf-fidelity"
else
    fail "tae-counters-pushf-fidelity: $(grep -A3 '^fidelity' "$tmp/nb-pushf.err" | tr '\n' '|')"
fi
exit $failed
