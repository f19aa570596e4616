#!/bin/sh
# tests/guests/screendump.sh - guests/vga_text.asm under trapeze with
# -display none -screendump FILE: the text it writes to 0xB8000 must come
# back as the 80x25 text screen, one line per row, trailing spaces trimmed,
# code page 437 as UTF-8.
#
# The expected screen is written out below from the guest's description
# (its header comment) and IBM's code page 437 chart - not from trapeze.
# Also: the option's errors (a bad path, -sdl-screenshot without a window).
. "$(dirname "$0")/lib.shinc"
KERNEL=$G/vga_text.elf
require "screendump: $TRAPEZE or $KERNEL is not built (make)" "$TRAPEZE" "$KERNEL"

# Row 4: C9 CD CD BB, B0 B1 B2 DB, 01 02 03, E0 E1 E3, C4 C4 C5 in CP437.
{
    printf 'trapeze VGA text test\n\n'
    printf 'colours:   1 2 3 4 5 6 7 8 9 A B C D E F X\n\n'
    printf '\342\225\224\342\225\220\342\225\220\342\225\227 '        # ╔══╗
    printf '\342\226\221\342\226\222\342\226\223\342\226\210 '        # ░▒▓█
    printf '\342\230\272\342\230\273\342\231\245 '                    # ☺☻♥
    printf '\316\261\303\237\317\200 '                                # αßπ
    printf '\342\224\200\342\224\200\342\224\274\n\n'                 # ──┼
    printf 'blink\n'
    i=7; while [ $i -le 23 ]; do printf '\n'; i=$((i + 1)); done
    printf '%74sbottom\n' ''
} > "$tmp/want"

run_trapeze 30 -kernel "$KERNEL" -display none -screendump "$tmp/screen.txt"
if [ $rc -eq $PASS_STATUS ] && grep -q 'vga_text: ok' "$tmp/out"; then
    echo "PASS vga-text-guest"
else
    fail "vga-text-guest: exit status $rc, want $PASS_STATUS; output: $(head -n 1 "$tmp/got");" \
        "stderr: $(head -n 1 "$tmp/err")"
fi
if [ ! -f "$tmp/screen.txt" ]; then
    fail "screendump-text: no file written"
elif cmp -s "$tmp/screen.txt" "$tmp/want"; then
    echo "PASS screendump-text"
else
    fail "screendump-text: differs from the expected screen: $(diff "$tmp/screen.txt" "$tmp/want" | head -n 4 | tr '\n' ' ')"
fi

# A -screendump path that cannot be written: one line, status 2, no run.
timeout 10 "$TRAPEZE" -kernel "$KERNEL" -display none -screendump "$tmp/no/such/dir/s.txt" \
    </dev/null >"$tmp/out2" 2>"$tmp/err2"
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l < "$tmp/err2")" -eq 1 ] && grep -q -- '-screendump' "$tmp/err2" &&
   ! grep -q 'vga_text' "$tmp/out2"; then
    echo "PASS screendump-bad-path"
else
    fail "screendump-bad-path: status $rc, stderr: $(head -n 2 "$tmp/err2" | tr '\n' ' ')"
fi

# -sdl-screenshot needs the window; -display takes sdl or none.
timeout 10 "$TRAPEZE" -kernel "$KERNEL" -display none -sdl-screenshot "$tmp/x.ppm" \
    </dev/null >/dev/null 2>"$tmp/err3"
rc=$?
timeout 10 "$TRAPEZE" -kernel "$KERNEL" -display gtk </dev/null >/dev/null 2>"$tmp/err4"
rc4=$?
if [ $rc -eq 2 ] && grep -q 'sdl-screenshot needs -display sdl' "$tmp/err3" &&
   [ $rc4 -eq 2 ] && grep -q 'display gtk' "$tmp/err4"; then
    echo "PASS display-option-errors"
else
    fail "display-option-errors: statuses $rc, $rc4: $(head -n 1 "$tmp/err3") / $(head -n 1 "$tmp/err4")"
fi
exit $failed
