#!/bin/sh
# tests/guests/vga_sdl.sh - guests/vga_text.asm in the SDL window, its
# pixels compared one by one with a picture this test draws itself.
#
# trapeze runs under SDL's offscreen video driver (no display needed) with
# -display sdl -sdl-screenshot FILE.ppm, which saves the window's pixels
# at exit with the cursor and blinking characters in their visible phase.
# The expected picture is drawn below by a tiny renderer of its own, from
# the glyph bytes of devices/vga_font.c and the VGA's rules as the IBM VGA
# Technical Reference states them (not from trapeze's renderer):
#   - 9x16 cells (Clocking Mode bit 0 = 0 in mode 3), 720x400 pixels;
#   - glyph bit 7 is the leftmost dot; the 9th dot repeats the 8th for
#     C0h-DFh (Mode Control Enable Line Graphics), else background;
#   - attribute: bits 3-0 foreground, 6-4 background, 7 blink (Enable Blink);
#   - the 16 colours of mode 3's palette: 00h AAh 55h FFh levels, brown AA5500h;
#   - the cursor: foreground colour over the whole cell on scan lines
#     Cursor Start..Cursor End (12..15 here) at Cursor Location.
# SKIPs (with the reason) when SDL video does not start or python3 is missing.
. "$(dirname "$0")/lib.shinc"
KERNEL=$G/vga_text.elf
FONT=devices/vga_font.c
require "vga-sdl-screenshot: $TRAPEZE or $KERNEL is not built (make)" "$TRAPEZE" "$KERNEL"
skip_without python3 "python3 is not installed (it draws the expected picture)" vga-sdl-screenshot

# Under `make asan`: SDL's video drivers are dlopen()ed and unloaded at exit,
# and LeakSanitizer reports their allocations against unknown modules it
# cannot suppress by name; trapeze's own code is leak-checked by every
# headless test, so leak detection is off for this one run only.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
SDL_VIDEODRIVER=offscreen timeout 30 "$TRAPEZE" -kernel "$KERNEL" -display sdl \
    -sdl-screenshot "$tmp/screen.ppm" </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
if grep -q 'SDL video does not start\|cannot open the window\|no display here' "$tmp/err"; then
    echo "SKIP vga-sdl-screenshot: no SDL video driver works here: $(head -n 1 "$tmp/err")"
    exit 0
fi
if [ $rc -ne $PASS_STATUS ]; then
    echo "FAIL vga-sdl-screenshot: exit status $rc, want $PASS_STATUS; stderr: $(head -n 1 "$tmp/err")"
    exit 1
fi

python3 - "$FONT" "$tmp/screen.ppm" <<'PYEOF'
import re, sys

font_path, ppm_path = sys.argv[1], sys.argv[2]
font = {}
for line in open(font_path):
    m = re.match(r"\s*\[0x([0-9A-Fa-f]{2})\] = \{ ([^}]*) \}", line)
    if m:
        font[int(m.group(1), 16)] = [int(b, 16) for b in m.group(2).split(",")]
if len(font) != 256:
    print("FAIL vga-sdl-screenshot: %s has %d glyphs, want 256" % (font_path, len(font)))
    sys.exit(1)

PALETTE = [0x000000, 0x0000AA, 0x00AA00, 0x00AAAA, 0xAA0000, 0xAA00AA, 0xAA5500, 0xAAAAAA,
           0x555555, 0x5555FF, 0x55FF55, 0x55FFFF, 0xFF5555, 0xFF55FF, 0xFFFF55, 0xFFFFFF]
COLS, ROWS, CW, CH = 80, 25, 9, 16

# The screen the guest leaves (guests/vga_text.asm's header).
cells = [[(0x20, 0x07)] * COLS for _ in range(ROWS)]
def put(row, col, attr, data):
    for i, c in enumerate(data):
        cells[row][col + i] = (c, attr)
put(0, 0, 0x1E, b"trapeze VGA text test")
put(2, 0, 0x07, b"colours:")
for i in range(1, 16):
    put(2, 9 + 2 * i, i, b"0123456789ABCDEF"[i:i + 1])
put(2, 41, 0x70, b"X")
put(4, 0, 0x0F, bytes([0xC9, 0xCD, 0xCD, 0xBB, 0x20, 0xB0, 0xB1, 0xB2, 0xDB, 0x20,
                       0x01, 0x02, 0x03, 0x20, 0xE0, 0xE1, 0xE3, 0x20, 0xC4, 0xC4, 0xC5]))
put(6, 0, 0x8C, b"blink")
put(24, 74, 0x2F, b"bottom")
cursor_row, cursor_col, cursor_start, cursor_end = 10, 20, 12, 15

W, H = COLS * CW, ROWS * CH
want = [[0] * W for _ in range(H)]
for r in range(ROWS):
    for c in range(COLS):
        ch, attr = cells[r][c]
        fg, bg = PALETTE[attr & 15], PALETTE[(attr >> 4) & 7]   # bit 7: blink
        for y in range(CH):
            bits = font[ch][y]
            for x in range(CW):
                if x < 8:
                    on = bits & (0x80 >> x)
                else:
                    on = 0xC0 <= ch <= 0xDF and bits & 1
                want[r * CH + y][c * CW + x] = fg if on else bg
        if (r, c) == (cursor_row, cursor_col):
            for y in range(cursor_start, cursor_end + 1):
                for x in range(CW):
                    want[r * CH + y][c * CW + x] = fg

data = open(ppm_path, "rb").read()
m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", data)
if not m:
    print("FAIL vga-sdl-screenshot: %s is not a binary PPM" % ppm_path)
    sys.exit(1)
w, h = int(m.group(1)), int(m.group(2))
if (w, h) != (W, H):
    print("FAIL vga-sdl-screenshot: the window is %dx%d, want %dx%d" % (w, h, W, H))
    sys.exit(1)
px = data[m.end():]
bad = 0
first = None
for y in range(H):
    for x in range(W):
        o = (y * W + x) * 3
        got = px[o] << 16 | px[o + 1] << 8 | px[o + 2]
        if got != want[y][x]:
            bad += 1
            if first is None:
                first = (x, y, got, want[y][x])
if bad:
    x, y, got, exp = first
    print("  first difference at x=%d y=%d (row %d, column %d): got %06X, want %06X"
          % (x, y, y // CH, x // CW, got, exp))
    print("FAIL vga-sdl-screenshot: %d of %d pixels differ" % (bad, W * H))
    sys.exit(1)
print("PASS vga-sdl-screenshot")
PYEOF
