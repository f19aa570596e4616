#!/usr/bin/env python3
"""tests/guests/tutorial_check.py - run the tutorial's sessions and compare.

Every fenced block opened with ```trapeze-session NAME in tutorial/*.md and
tutorial/answers/*.md is one step (the format is documented in
tutorial/README.md, "How the labs are checked"):

    $ SHELL COMMAND          run by sh from the repository root, in order;
                             a trapeze command with -monitor gets the
                             (trapeze) lines after it as a -monitor-script,
                             one ending in & runs in the background (gdb's
                             target), a gdb command gets the (gdb) lines
                             after it as -ex commands (gdb -batch -nx)
    (trapeze) CMD            a monitor command; the monitor echoes it, so
                             the line is also expected in the output
    (gdb) CMD                a gdb command (not expected: -batch echoes none)
    ...                      lines left out
    TEXT ...                 a line that starts with TEXT
    anything else            a line the output must have

The expected lines must appear in the output in the order given (other
output may come between them; a `...` only says so to the reader).
Port 1234 in a session is replaced by a free port; with BUILD set (make
asan), build/ in the commands becomes $BUILD/.  One PASS/FAIL line per
step (SKIP for gdb steps without gdb).  Usage: tutorial_check.py [FILE...]
"""
import glob
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile

TIMEOUT = 60


def blocks(path):
    """Yield (name, lines) for each trapeze-session block of a file."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^```trapeze-session\s+(\S+)\s*$", lines[i])
        if not m:
            if lines[i].startswith("```trapeze-session"):
                yield (f"{os.path.basename(path)}:{i + 1}", None)
            i += 1
            continue
        start = i
        body = []
        i += 1
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append(lines[i].rstrip())
            i += 1
        if i >= len(lines):
            yield (m.group(1), ["!unterminated block at line %d" % (start + 1)])
            return
        yield (m.group(1), body)
        i += 1


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def build_script(body, tmp):
    """The shell script a session's $ lines make, and its expected lines."""
    script = ["exec 2>&1 </dev/null", "bg=''", "trap 'for p in $bg; do kill $p 2>/dev/null; done' EXIT"]
    expect = []
    uses_gdb = False
    port = None
    cmds = []                       # (shell line, [(trapeze)|(gdb) lines])
    for line in body:
        if line.startswith("$ "):
            cmds.append([line[2:], []])
        elif line.startswith("(trapeze) ") or line == "(trapeze)":
            if not cmds:
                raise ValueError("a (trapeze) line before any $ command")
            cmds[-1][1].append(line[len("(trapeze) "):])
            expect.append(line)
        elif line.startswith("(gdb) "):
            if not cmds:
                raise ValueError("a (gdb) line before any $ command")
            cmds[-1][1].append(line[len("(gdb) "):])
        elif line == "..." or line == "":
            continue
        else:
            expect.append(line)
    build = os.environ.get("BUILD", "build")
    for k, (cmd, sub) in enumerate(cmds):
        if build != "build":        # make asan: the same labs on build-asan/
            cmd = re.sub(r"(^|\s)build/", r"\1" + build + "/", cmd)
            # monitor and gdb commands name files too (trace on build/...)
            sub = [re.sub(r"(^|\s)build/", r"\1" + build + "/", c) for c in sub]
        if "1234" in cmd:
            port = port or free_port()
            cmd = cmd.replace(":1234", ":%d" % port)
        words = cmd.split()
        if words and words[0] == "gdb":
            uses_gdb = True
            extra = " ".join("-ex " + shlex.quote(c) for c in sub)
            cmd = "timeout %d gdb -batch -nx %s %s" % (TIMEOUT, " ".join(words[1:]), extra)
            script.append(cmd)
            continue
        if sub:
            if "-monitor" not in words:
                raise ValueError("(trapeze) lines after a command without -monitor: " + cmd)
            f = os.path.join(tmp, "script%d" % k)
            with open(f, "w") as out:
                out.write("\n".join(sub) + "\n")
            cmd = re.sub(r"(^|\s)-monitor(\s+stdio)?(?=\s|$)", r"\1-monitor-script " + f, cmd, count=1)
        if words and words[0].endswith("/trapeze"):
            cmd = "timeout %d %s" % (TIMEOUT, cmd)
        if cmd.endswith("&"):
            script.append(cmd + " bg=\"$bg $!\"; sleep 1")
        else:
            script.append(cmd)
    if build != "build":            # the echoed commands carry the rewritten paths
        expect = [re.sub(r"(\s)build/", r"\1" + build + "/", l) if l.startswith(("(trapeze) ", "(gdb) ")) else l
                  for l in expect]
    return "\n".join(script) + "\n", expect, uses_gdb


def matches(want, got):
    if want.endswith(" ...") and len(want) > 4:
        return got.startswith(want[:-4])
    return got == want


def check(name, body, root):
    if body is None:
        return "FAIL tutorial-%s: a trapeze-session block without a step name" % name
    if body and body[0].startswith("!"):
        return "FAIL tutorial-%s: %s" % (name, body[0][1:])
    with tempfile.TemporaryDirectory() as tmp:
        try:
            script, expect, uses_gdb = build_script(body, tmp)
        except ValueError as e:
            return "FAIL tutorial-%s: %s" % (name, e)
        if uses_gdb and subprocess.call(["sh", "-c", "command -v gdb"], stdout=subprocess.DEVNULL) != 0:
            return "SKIP tutorial-%s: gdb is not installed" % name
        if not expect:
            return "FAIL tutorial-%s: the step shows no output to check" % name
        try:
            p = subprocess.run(["sh", "-c", script], cwd=root, stdout=subprocess.PIPE,
                               timeout=TIMEOUT * 3)
            out = p.stdout.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            return "FAIL tutorial-%s: the session did not end" % name
    got = [l.rstrip() for l in out.replace("\r", "").split("\n")]
    j = 0
    for w in expect:
        while j < len(got) and not matches(w, got[j]):
            j += 1
        if j == len(got):
            with open(os.path.join(root, "build", "tutorial-%s.out" % name), "w") as f:
                f.write(out)
            return "FAIL tutorial-%s: no line \"%s\" (in order) in the output (build/tutorial-%s.out)" % (name, w, name)
        j += 1
    return "PASS tutorial-%s" % name


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(root, "tutorial", "*.md")) +
                                   glob.glob(os.path.join(root, "tutorial", "answers", "*.md")))
    failed = False
    seen = set()
    for path in files:
        for name, body in blocks(path):
            if name in seen:
                line = "FAIL tutorial-%s: two steps have this name" % name
            else:
                seen.add(name)
                line = check(name, body, root)
            print(line, flush=True)
            failed |= line.startswith("FAIL")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
