#!/bin/sh
# tests/guests/vga_sdl_stopped.sh - the SDL window while the guest is not
# running (SDL's offscreen video driver: no display needed).
#
#   vga-sdl-shows-stopped-guest  guests/vga_text.elf at the monitor's first
#       prompt, stopped at a breakpoint after it wrote the first lines, then
#       stepped: at each of the three stops `info window` must say
#       the window shows the screen as it is (the frame it last presented is
#       the screen rendered now), not "nothing drawn yet" (a black window:
#       with -icount shift=0 no 1/60 s of virtual time passes, so only a
#       redraw at each stop draws anything).
#   vga-sdl-halted-headless      a ROM that does cli; hlt ends the run at once
#       with status 4 and the one line it always printed.
#   vga-sdl-halted-keeps-window  with a window, the same ROM keeps trapeze
#       (and its window, titled "trapeze - guest halted") alive until the
#       window is closed; SIGINT closes it here: status 4, the halt line,
#       the window's line, and the -sdl-screenshot written at close.
#   vga-sdl-halted-title-x11     the same under Xvfb (xvfb-run) with SDL's X11
#       driver: the X window is there, titled "trapeze - guest halted"
#       (xwininfo); SKIPs without xvfb-run or xwininfo.
# Each run is bounded by timeout(1); the halting ROM runs two instructions.
# SKIPs when SDL video does not start here.
. "$(dirname "$0")/lib.shinc"
KERNEL=$G/vga_text.elf
require "vga-sdl-shows-stopped-guest: $TRAPEZE or $KERNEL is not built (make)" "$TRAPEZE" "$KERNEL"
# SDL's dlopen()ed drivers leak at exit (see vga_sdl.sh): leak checks off for these runs.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS
SDL_VIDEODRIVER=offscreen
export SDL_VIDEODRIVER

no_video() { grep -q 'SDL video does not start\|cannot open the window\|no display here' "$1"; }

# ---- a stopped guest's screen ----
cat > "$tmp/script" <<'EOF'
info window
break main.colour
continue
info window
stepi 3
info window
EOF
run_trapeze 30 -kernel "$KERNEL" -display sdl -icount shift=0 -serial none -monitor-script "$tmp/script"
if no_video "$tmp/err"; then
    echo "SKIP vga-sdl-shows-stopped-guest: no SDL video driver works here: $(head -n 1 "$tmp/err")"
    echo "SKIP vga-sdl-halted-keeps-window: no SDL video driver works here"
    SKIP_WINDOW=1
else
    shown=$(grep -c '^SDL window .*it shows the screen as it is now$' "$tmp/got")
    if [ $rc -ne 0 ]; then
        fail "vga-sdl-shows-stopped-guest: exit status $rc; stderr: $(head -n 1 "$tmp/err")"
    elif [ "$shown" -ne 3 ]; then
        fail "vga-sdl-shows-stopped-guest: the window at the stops: $(grep '^SDL window' "$tmp/got" | tr '\n' '|')"
    else
        echo "PASS vga-sdl-shows-stopped-guest"
    fi
fi

# ---- a guest that halts for good: cli; hlt at the reset vector F000:FFF0 ----
dd if=/dev/zero of="$tmp/halt.rom" bs=1024 count=64 2>/dev/null
printf '\372\364\353\375' | dd of="$tmp/halt.rom" bs=1 seek=65520 conv=notrunc 2>/dev/null   # cli; hlt; jmp $-3
want_halt="trapeze: guest halted with interrupts disabled at f000:0000fff2"

run_trapeze 20 -bios "$tmp/halt.rom" -display none
if [ $rc -ne 4 ]; then
    fail "vga-sdl-halted-headless: exit status $rc, want 4"
elif [ "$(cat "$tmp/err")" != "$want_halt" ]; then
    fail "vga-sdl-halted-headless: stderr '$(cat "$tmp/err")', want '$want_halt'"
else
    echo "PASS vga-sdl-halted-headless"
fi

[ -n "$SKIP_WINDOW" ] && exit $failed
timeout 20 "$TRAPEZE" -bios "$tmp/halt.rom" -display sdl -sdl-screenshot "$tmp/halt.ppm" \
    </dev/null >"$tmp/out" 2>"$tmp/err" &
pid=$!
pids="$pids $pid"
sleep 2
if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid"
    fail "vga-sdl-halted-keeps-window: trapeze ended (status $?) while its window was open: $(tr '\n' '|' < "$tmp/err")"
    exit 1
fi
kill -INT "$pid"    # timeout(1) passes it on; trapeze takes it as the window's close
wait "$pid"
rc=$?
if [ $rc -ne 4 ]; then
    fail "vga-sdl-halted-keeps-window: exit status $rc after the close, want 4"
elif [ "$(head -n 1 "$tmp/err")" != "$want_halt" ]; then
    fail "vga-sdl-halted-keeps-window: first stderr line '$(head -n 1 "$tmp/err")', want '$want_halt'"
elif ! grep -q '"trapeze - guest halted"' "$tmp/err"; then
    fail "vga-sdl-halted-keeps-window: no word of the window's title: $(tr '\n' '|' < "$tmp/err")"
elif ! head -c 2 "$tmp/halt.ppm" 2>/dev/null | grep -q P6; then
    fail "vga-sdl-halted-keeps-window: no -sdl-screenshot written at the close"
else
    echo "PASS vga-sdl-halted-keeps-window"
fi

# ---- the same under Xvfb: the X window's title ----
if ! command -v xvfb-run >/dev/null 2>&1 || ! command -v xwininfo >/dev/null 2>&1; then
    echo "SKIP vga-sdl-halted-title-x11: xvfb-run or xwininfo is not installed"
    exit $failed
fi
cat > "$tmp/x11.sh" <<XEOF
"$TRAPEZE" -bios "$tmp/halt.rom" -display sdl </dev/null >/dev/null 2>"$tmp/x11.err" &
p=\$!
for i in 1 2 3 4 5 6 7 8 9 10; do
    xwininfo -root -tree 2>/dev/null | grep -q '"trapeze - guest halted"' && break
    sleep 0.5
done
xwininfo -root -tree 2>/dev/null | grep '"trapeze' > "$tmp/x11.windows"
kill -INT \$p
wait \$p
echo \$? > "$tmp/x11.rc"
XEOF
SDL_VIDEODRIVER=x11 timeout 30 xvfb-run -a sh "$tmp/x11.sh" >/dev/null 2>&1
if no_video "$tmp/x11.err" 2>/dev/null; then
    echo "SKIP vga-sdl-halted-title-x11: SDL's X11 driver does not start under Xvfb: $(head -n 1 "$tmp/x11.err")"
elif ! grep -q '"trapeze - guest halted"' "$tmp/x11.windows" 2>/dev/null; then
    fail "vga-sdl-halted-title-x11: no X window titled \"trapeze - guest halted\"" \
        "($(cat "$tmp/x11.windows" "$tmp/x11.err" 2>/dev/null | tr '\n' '|'))"
elif [ "$(cat "$tmp/x11.rc" 2>/dev/null)" != 4 ]; then
    fail "vga-sdl-halted-title-x11: exit status $(cat "$tmp/x11.rc" 2>/dev/null) after the close, want 4"
else
    echo "PASS vga-sdl-halted-title-x11"
fi
exit $failed
