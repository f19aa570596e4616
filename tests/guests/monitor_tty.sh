#!/bin/sh
# tests/guests/monitor_tty.sh - the monitor shell at a terminal, as a
# student types at it (monitor/shell.c), through a pseudo-terminal:
#
#   monitor-tty-echo          what is typed at the (trapeze) prompt is shown
#   monitor-tty-tab-register  Tab after a command completes a register name
#   monitor-tty-tab-info      Tab after `info` completes its topics, and
#                             offers no register names there
#   monitor-tty-ctrl-c        Ctrl-C stops a running guest, the prompt returns
#   monitor-tty-ctrl-c-line   Ctrl-C at the prompt throws the half-typed line
#                             away and gives a fresh prompt (as bash and gdb)
#   monitor-tty-ctrl-d        Ctrl-D at the prompt leaves, status 0
#   monitor-tty-mux-echo      the same echo with -serial mon:stdio, which puts
#                             the terminal in raw mode for COM1 (the guest
#                             runs first, as in QEMU: Ctrl-A c opens the shell)
#   monitor-tty-mux-ctrl-c-line  Ctrl-C at that prompt too (the terminal's
#                             signal keys are the shell's only while it has it)
#
# The oracle is the documentation (monitor/README.md, tutorial/README.md):
# readline echoes the line; `print ea` + Tab gives `print eax`, `info tl` +
# Tab gives `info tlb`, `info ea` + Tab completes nothing; Ctrl-C prints the
# next instruction and a prompt; Ctrl-D quits with status 0.  The guest
# (boot_kbd.img) waits for keys forever after "kbd> ", so `continue` only
# ends with Ctrl-C.  History goes to a temporary $TRAPEZE_HISTORY.
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"
IMG=$G/boot_kbd.img
NAMES="echo tab-register tab-info ctrl-c ctrl-c-line ctrl-d mux-echo mux-ctrl-c-line"

require_files monitor-tty "$TRAPEZE" "$IMG"
# shellcheck disable=SC2046
skip_without python3 "python3 (its pty module) not installed" $(for n in $NAMES; do echo "monitor-tty-$n"; done)

cat > "$tmp/monitor_pty.py" <<'EOF'
import os, pty, re, select, signal, sys, time

trapeze, img, hist = sys.argv[1:4]
os.environ["TRAPEZE_HISTORY"] = hist
os.environ["TERM"] = "dumb"
failed = False

def report(name, ok, why):
    global failed
    print(("PASS monitor-tty-%s" % name) if ok else ("FAIL monitor-tty-%s: %s" % (name, why)), flush=True)
    failed |= not ok

class Session:
    def __init__(self, *extra):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execv(trapeze, [trapeze, "-fda", img, "-nographic", "-monitor"] + list(extra))
        self.out = b""
        self.status = None

    def read_until(self, pattern, timeout=30):
        """Read until the output (from 'start' on) matches pattern; True if it did."""
        end = time.time() + timeout
        while time.time() < end:
            if re.search(pattern, self.out[self.mark:]):
                return True
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    return bool(re.search(pattern, self.out[self.mark:]))
                if not data:
                    break
                self.out += data
        return bool(re.search(pattern, self.out[self.mark:]))

    def type(self, keys, more=False):
        """Type keys; read_until then looks at what comes after them (more: after the last mark)."""
        if not more:
            self.mark = len(self.out)
        os.write(self.fd, keys)

    def wait(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                return self.status
            try:
                r, _, _ = select.select([self.fd], [], [], 0.1)
                if r:
                    self.out += os.read(self.fd, 65536)
            except OSError:
                time.sleep(0.1)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        return None

    def tail(self):
        return self.out[self.mark:][-160:].decode("latin-1").replace("\r", "").replace("\n", "|")

# ---- plain -monitor ----
s = Session()
s.mark = 0
if not s.read_until(rb"\(trapeze\) "):
    for n in sys.argv[4].split():
        report(n, False, "no (trapeze) prompt: " + s.tail())
    sys.exit(1)

s.type(b"print eax\r")
report("echo", s.read_until(rb"print eax\r?\n") and s.read_until(rb"0x00000000"),
       "the typed line is not shown: " + s.tail())

s.type(b"print ea\t")
ok = s.read_until(rb"x")        # readline inserts the rest of the only match
s.type(b"\r", more=True)
report("tab-register", ok and s.read_until(rb"print ea.*x \r?\n"),
       "'print ea' + Tab is not 'print eax': " + s.tail())

s.type(b"info tl\t")
ok = s.read_until(rb"b")
s.type(b"\r", more=True)
ok = ok and s.read_until(rb"info tl.*b \r?\n") and s.read_until(rb"tlb hits")
s.type(b"info ea\t\t\x15\r")    # no topic or device begins with "ea": nothing offered
ok2 = s.read_until(rb"\(trapeze\) ") and b"eax" not in s.out[s.mark:]
report("tab-info", ok and ok2, "Tab after 'info': " + s.tail())

s.type(b"continue\r")
ok = s.read_until(rb"kbd> ")     # the guest waits for keys from here on
time.sleep(0.3)
s.type(b"\x03")
report("ctrl-c", ok and s.read_until(rb"=> [0-9a-f]{4}:[0-9a-f]+ .*\n.*\(trapeze\) "),
       "Ctrl-C did not stop the guest: " + s.tail())

# A half-typed line, Ctrl-C: a fresh prompt, and the next line alone is run.
s.type(b"print ea")
s.read_until(rb"print ea")
s.type(b"\x03", more=True)
# The prompt after the half line: one the last command printed late can sit
# between the mark and the echo (under load), and typing on it races Ctrl-C.
ok = s.read_until(rb"print ea[\s\S]*\(trapeze\) ")
s.type(b"print ebx\r")
ok = ok and s.read_until(rb"\(trapeze\) ")
report("ctrl-c-line", ok and re.search(rb"print ebx\r?\n[^\n]*0x[0-9a-f]{8}", s.out[s.mark:])
       and b"error" not in s.out[s.mark:],
       "after Ctrl-C the old line is still there: " + s.tail())

s.type(b"\x04")
st = s.wait()
report("ctrl-d", st == 0, "Ctrl-D at the prompt: exit status %s: %s" % (st, s.tail()))

# ---- -serial mon:stdio: the terminal is raw for COM1 ----
s = Session("-serial", "mon:stdio")
s.mark = 0
ok = s.read_until(rb"kbd> ")      # the guest runs first (QEMU: mon:stdio shows the guest's console)
s.type(b"\x01c")
if ok and s.read_until(rb"\(trapeze\) "):
    s.type(b"print eax\r")
    ok = s.read_until(rb"print eax\r?\n") and s.read_until(rb"0x[0-9a-f]{8}")
else:
    ok = False
report("mux-echo", ok, "the typed line is not shown: " + s.tail())
s.type(b"print ea")
s.read_until(rb"print ea")
s.type(b"\x03", more=True)
# The prompt after the half line: one the last command printed late can sit
# between the mark and the echo (under load), and typing on it races Ctrl-C.
ok = s.read_until(rb"print ea[\s\S]*\(trapeze\) ")
s.type(b"print ebx\r")
ok = ok and s.read_until(rb"\(trapeze\) ")
report("mux-ctrl-c-line", ok and re.search(rb"print ebx\r?\n[^\n]*0x[0-9a-f]{8}", s.out[s.mark:])
       and b"error" not in s.out[s.mark:],
       "after Ctrl-C the old line is still there: " + s.tail())
s.type(b"quit\r")
s.wait()
sys.exit(1 if failed else 0)
EOF
timeout 120 python3 "$tmp/monitor_pty.py" "$TRAPEZE" "$IMG" "$tmp/history" "$NAMES"
