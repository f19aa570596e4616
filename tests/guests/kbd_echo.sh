#!/bin/sh
# tests/guests/kbd_echo.sh - the keyboard, end to end: keys typed on a
# terminal reach the 8042 (devices/kbd_terminal.c), the guest takes IRQ 1
# through the 8259A, translates set-1 scan codes and echoes the line to the
# VGA text buffer and COM1 (guests/boot_kbd_floppy.asm, the boot_loader
# kernel with its KBD_ECHO stage).
#
#   kbd-echo-serial   under trapeze, run on a pseudo-terminal (-display none,
#                     -serial file:, so stdin is the keyboard's): the line
#                     typed after the prompt comes back on COM1 as typed
#   kbd-echo-screen   ... and in the -screendump text, row 10, as typed
#   kbd-echo-qemu     the same keys through QEMU's monitor `sendkey`: QEMU's
#                     COM1 equal to trapeze's (less int11/e820, where the
#                     BIOSes differ by design, see bios_boot.sh)
#
# The oracle is the typed text itself.  The guest prints the prompt "kbd> "
# once it takes IRQ 1; keys are typed only after it appears.
# Prints tests/test.h-style lines: PASS / FAIL name: why / SKIP name: why.
. "$(dirname "$0")/lib.shinc"
IMG=$G/boot_kbd.img
TEXT='Hello, World 42! a-b.c'

require_files kbd-echo "$TRAPEZE" "$IMG"
skip_without python3 "python3 (its pty module) not installed" kbd-echo-serial kbd-echo-screen kbd-echo-qemu

# type.py pty SERIAL TEXT CMD...: run CMD on a new pseudo-terminal, type TEXT
# and Enter once SERIAL holds the prompt; prints the exit status.
# type.py qemu SERIAL TEXT SOCKET CMD...: run CMD, type through the monitor socket.
cat > "$tmp/type.py" <<'EOF'
import os, pty, select, socket, subprocess, sys, time
mode, serial, text = sys.argv[1], sys.argv[2], sys.argv[3]
deadline = time.time() + 40
def prompt_seen():
    try:
        with open(serial, 'rb') as f:
            return b'kbd> ' in f.read()
    except FileNotFoundError:
        return False
if mode == 'pty':
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[4], sys.argv[4:])
    def pump(t):   # read (and drop) the terminal's output so the child never blocks on it
        r, _, _ = select.select([fd], [], [], t)
        if r:
            try: os.read(fd, 4096)
            except OSError: time.sleep(t)
    while time.time() < deadline and not prompt_seen(): pump(0.05)
    os.write(fd, text.encode() + b'\r')
    while time.time() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            print(os.waitstatus_to_exitcode(status)); sys.exit(0)
        pump(0.05)
    os.kill(pid, 9); os.waitpid(pid, 0); print('timeout')
else:
    sock = sys.argv[4]
    p = subprocess.Popen(sys.argv[5:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    while time.time() < deadline and not prompt_seen() and p.poll() is None: time.sleep(0.05)
    names = {' ': 'spc', ',': 'comma', '.': 'dot', '-': 'minus', '!': 'shift-1'}
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        for ch in text + '\r':
            key = 'ret' if ch == '\r' else names.get(ch) or ('shift-' + ch.lower() if ch.isupper() else ch)
            s.sendall(('sendkey ' + key + '\n').encode())
            time.sleep(0.05)   # one key at a time, as a typist would
    except OSError as e:
        print('monitor: ' + str(e))
    try: print(p.wait(timeout=max(1, deadline - time.time())))
    except subprocess.TimeoutExpired: p.kill(); p.wait(); print('timeout')
EOF

truncate -s 2M "$tmp/hd.img"
cp "$tmp/hd.img" "$tmp/hdq.img"
rc=$(timeout 60 python3 "$tmp/type.py" pty "$tmp/com1" "$TEXT" \
    "$TRAPEZE" -fda "$IMG" -hda "$tmp/hd.img" -display none -serial "file:$tmp/com1" \
    -screendump "$tmp/screen" 2>"$tmp/err")
tr -d '\r' < "$tmp/com1" > "$tmp/serial" 2>/dev/null
if [ "$rc" != 33 ]; then
    fail "kbd-echo-serial: exit status $rc, want 33; stderr: $(head -n 1 "$tmp/err")"
elif ! grep -qxF "kbd> $TEXT" "$tmp/serial" || [ "$(tail -n 1 "$tmp/serial")" != done ]; then
    fail "kbd-echo-serial: COM1 '$(tail -n 3 "$tmp/serial" | tr '\n' '|')', want 'kbd> $TEXT|done|'"
else
    echo "PASS kbd-echo-serial"
fi
if [ "$rc" = 33 ]; then
    row=$(sed -n 11p "$tmp/screen")
    if [ "$row" = "kbd> $TEXT" ]; then
        echo "PASS kbd-echo-screen"
    else
        fail "kbd-echo-screen: row 10 reads '$row', want 'kbd> $TEXT'"
    fi
fi

if ! have_qemu; then
    echo "SKIP kbd-echo-qemu: qemu-system-i386 not installed"
else
    qrc=$(timeout 60 python3 "$tmp/type.py" qemu "$tmp/qcom1" "$TEXT" "$tmp/mon.sock" \
        qemu-system-i386 -display none -serial "file:$tmp/qcom1" \
        -monitor "unix:$tmp/mon.sock,server=on,wait=off" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -drive "file=$IMG,if=floppy,format=raw,readonly=on" \
        -drive "file=$tmp/hdq.img,if=ide,index=0,format=raw")
    tr -d '\r' < "$tmp/qcom1" 2>/dev/null | grep -v '^int11 \|^e820 ' > "$tmp/b"
    grep -v '^int11 \|^e820 ' "$tmp/serial" > "$tmp/a"
    if [ "$qrc" != 33 ]; then
        fail "kbd-echo-qemu: QEMU's exit status $qrc, want 33 (COM1 '$(tail -n 2 "$tmp/b" | tr '\n' '|')')"
    elif ! cmp -s "$tmp/a" "$tmp/b"; then
        fail "kbd-echo-qemu: $(diff "$tmp/a" "$tmp/b" | grep '^[<>]' | tr '\n' '|')"
    else
        echo "PASS kbd-echo-qemu"
    fi
fi
exit $failed
