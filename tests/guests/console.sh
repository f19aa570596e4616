#!/bin/sh
# tests/guests/console.sh - the terminal as a new user meets it, through a
# pseudo-terminal, with qemu-system-i386 (8.x, SeaBIOS 1.16) as the oracle:
# each case runs the same keys against QEMU and trapeze and checks both.
#
#   console-nographic-bios    -nographic, a boot sector that only uses int 10h
#                             and int 16h (guests/sercon_floppy.asm): its text
#                             reaches the terminal and the line typed there
#                             reaches int 16h ("got: 68 69"), exit status 33
#   console-nographic-ctrl-c  under -nographic Ctrl-C is a key for the guest (03)
#   console-ctrl-a-a          Ctrl-A Ctrl-A gives the guest one Ctrl-A (01)
#   console-ctrl-a-h          Ctrl-A h lists the keys (h, x, c, C-a lines)
#   console-ctrl-a-x          Ctrl-A x ends the emulator: "terminated", status 0
#   console-ctrl-a-c          Ctrl-A c opens the monitor; `quit` there: status 0
#   console-mon-stdio-runs    -serial mon:stdio runs the guest at once and exits
#                             with its isa-debug-exit status (boot_hello.img)
#   console-mon-stdio-ctrl-a-x  ... and Ctrl-A x ends it, status 0
#   console-ctrl-c-screendump Ctrl-C with COM1 on stdio (-display none) ends the
#                             run (status 0, as QEMU) and -screendump still
#                             holds the screen
#   console-sigterm-screendump  the same for SIGTERM ("terminating on signal
#                             15", status 0, as QEMU)
#
# The monitor prompt differs by name only: "(qemu) " / "(trapeze) ".  QEMU's
# serial console adds terminal escapes (clear screen) that are not compared.
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"
SERCON=$G/sercon.img
HELLO=$G/boot_hello.img
NAMES="nographic-bios nographic-ctrl-c ctrl-a-a ctrl-a-h ctrl-a-x ctrl-a-c mon-stdio-runs mon-stdio-ctrl-a-x ctrl-c-screendump sigterm-screendump"

require_files console "$TRAPEZE" "$SERCON" "$HELLO"
# shellcheck disable=SC2046
skip_without python3 "python3 (its pty module) not installed" $(for n in $NAMES; do echo "console-$n"; done)
if ! have_qemu; then
    for n in $NAMES; do echo "SKIP console-$n: qemu-system-i386 is not installed"; done
    exit 0
fi

cat > "$tmp/console.py" <<'PY'
import os, pty, re, select, signal, sys, time

trapeze, sercon, hello, tmp = sys.argv[1:5]
failed = False
QEXIT = ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-net", "none"]

def report(name, ok, why):
    global failed
    print(("PASS console-%s" % name) if ok else ("FAIL console-%s: %s" % (name, why)), flush=True)
    failed |= not ok

class Run:
    """One emulator on a new pseudo-terminal."""
    def __init__(self, argv):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvp(argv[0], argv)
        self.out = b""
        self.status = None

    def pump(self, secs):
        end = time.time() + secs
        while time.time() < end and self.status is None:
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    self.reap(5)
                    break
                self.out += data
            self.reap(0)

    def wait_for(self, pattern, secs=20):
        end = time.time() + secs
        while time.time() < end:
            if re.search(pattern, self.out):
                return True
            if self.status is not None:
                break
            self.pump(0.1)
        return bool(re.search(pattern, self.out))

    def type(self, keys):
        os.write(self.fd, keys)

    def reap(self, secs):
        end = time.time() + secs
        while self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                break
            if time.time() >= end:
                break
            time.sleep(0.05)
        return self.status

    def finish(self, secs=10):
        self.pump(secs) if self.status is None else None
        if self.status is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.status = "killed"
        return self.status

    def text(self):
        return self.out.decode("latin-1").replace("\r", "")

    def tail(self):
        return self.text()[-200:].replace("\n", "|")

def both(sercon_args, hello_args=None):
    """The two command lines for a floppy image."""
    return ([trapeze, "-fda", sercon_args[0]] + sercon_args[1:],
            ["qemu-system-i386", "-drive", "file=%s,if=floppy,format=raw,readonly=on" % sercon_args[0]]
            + sercon_args[1:] + QEXIT)

def each(args):
    t, q = both(args)
    return [("trapeze", t), ("QEMU", q)]

# --- -nographic: int 10h out, int 16h in, through the terminal ---
for name, keys, want, status in (("nographic-bios", b"hi\r", rb"got: 68 69\r*\n", 33),
                                 ("nographic-ctrl-c", b"a\x03\r", rb"got: 61 03\r*\n", 33),
                                 ("ctrl-a-a", b"a\x01\x01\r", rb"got: 61 01\r*\n", None)):
    ok, why = True, ""
    for who, argv in each([sercon, "-nographic"]):
        r = Run(argv)
        if not r.wait_for(rb"type a line: "):
            ok, why = False, "%s: no prompt from the guest: %s" % (who, r.tail()); r.finish(0); break
        r.type(keys)
        got = r.wait_for(want)
        st = r.finish(5 if status is not None else 0)
        if not got or (status is not None and st != status):
            ok, why = False, "%s: status %s, output %s" % (who, st, r.tail()); break
    report(name, ok, why)

# --- the Ctrl-A keys of -nographic (QEMU: -serial mon:stdio) ---
def at_prompt(argv):
    r = Run(argv)
    r.wait_for(rb"type a line: ")
    return r

ok, why = True, ""
for who, argv in each([sercon, "-nographic"]):
    r = at_prompt(argv)
    r.type(b"\x01h")
    lines = [rb"C-a h    print this help", rb"C-a x    exit emulator",
             rb"C-a c    switch between console and monitor", rb"C-a C-a  sends C-a"]
    got = all(r.wait_for(l, 10) for l in lines)
    r.type(b"\x01x")
    r.finish(5)
    if not got:
        ok, why = False, "%s: %s" % (who, r.tail()); break
report("ctrl-a-h", ok, why)

ok, why = True, ""
for who, argv in each([sercon, "-nographic"]):
    r = at_prompt(argv)
    r.type(b"\x01x")
    st = r.finish(10)
    if st != 0 or not re.search(rb"(?i)terminated", r.out):
        ok, why = False, "%s: status %s: %s" % (who, st, r.tail()); break
report("ctrl-a-x", ok, why)

ok, why = True, ""
for who, argv in each([sercon, "-nographic"]):
    r = at_prompt(argv)
    r.type(b"\x01c")
    got = r.wait_for(rb"\((qemu|trapeze)\) ", 10)
    r.type(b"quit\r")
    st = r.finish(10)
    if not got or st != 0:
        ok, why = False, "%s: monitor prompt %s, status %s: %s" % (who, got, st, r.tail()); break
report("ctrl-a-c", ok, why)

# --- -serial mon:stdio ---
ok, why = True, ""
for who, argv in each([hello, "-display", "none", "-serial", "mon:stdio"]):
    r = Run(argv)
    got = r.wait_for(rb"Hello from the boot sector!", 20)
    st = r.finish(10)
    if not got or st != 33:
        ok, why = False, "%s: status %s: %s" % (who, st, r.tail()); break
report("mon-stdio-runs", ok, why)

ok, why = True, ""
for who, argv in each([sercon, "-display", "none", "-serial", "mon:stdio"]):
    r = Run(argv)
    time.sleep(2)          # no sercon here: nothing is printed; the guest waits in int 16h
    r.pump(0.5)
    r.type(b"\x01x")
    st = r.finish(10)
    if st != 0:
        ok, why = False, "%s: status %s: %s" % (who, st, r.tail()); break
report("mon-stdio-ctrl-a-x", ok, why)

# --- ending the run by a signal: the screen is still dumped ---
# (-display none, COM1 on stdio: Ctrl-C is the terminal's; under -nographic it is the guest's.)
r = Run([trapeze, "-fda", sercon, "-display", "none", "-screendump", tmp + "/ctrlc.txt"])
time.sleep(2)
r.pump(0.5)
r.type(b"\x03")
st = r.finish(10)
q = Run(["qemu-system-i386", "-drive", "file=%s,if=floppy,format=raw,readonly=on" % sercon,
         "-display", "none", "-serial", "stdio"] + QEXIT)
time.sleep(2)
q.pump(0.5)
q.type(b"\x03")
qst = q.finish(10)
try:
    screen = open(tmp + "/ctrlc.txt").read()
except OSError:
    screen = ""
report("ctrl-c-screendump", st == 0 and qst == 0 and "type a line:" in screen,
       "status %s (QEMU %s), screendump %r" % (st, qst, screen[:120]))
sys.exit(1 if failed else 0)
PY
timeout 240 python3 "$tmp/console.py" "$TRAPEZE" "$SERCON" "$HELLO" "$tmp" || failed=1

# SIGTERM: no terminal needed.
timeout 30 "$TRAPEZE" -fda "$SERCON" -display none -screendump "$tmp/term.txt" </dev/null >"$tmp/term.out" 2>"$tmp/term.err" &
tpid=$!
pids="$pids $tpid"
timeout 30 qemu-system-i386 -drive "file=$SERCON,if=floppy,format=raw,readonly=on" -display none -serial none \
    -monitor none $QEMU_EXIT -net none </dev/null >"$tmp/qterm.out" 2>"$tmp/qterm.err" &
qpid=$!
pids="$pids $qpid"
sleep 3                  # both wait in int 16h by now
kill -TERM $tpid $qpid
wait $tpid; trc=$?
wait $qpid; qrc=$?
if [ $trc -eq 0 ] && [ $qrc -eq 0 ] && grep -q 'terminating on signal 15' "$tmp/term.err" &&
   grep -q 'terminating on signal 15' "$tmp/qterm.err" && grep -q '^type a line:' "$tmp/term.txt"; then
    echo "PASS console-sigterm-screendump"
else
    fail "console-sigterm-screendump: status $trc (QEMU $qrc), stderr '$(head -c 100 "$tmp/term.err")'," \
        "screendump '$(head -c 100 "$tmp/term.txt" | tr '\n' '|')'"
fi
exit $failed
