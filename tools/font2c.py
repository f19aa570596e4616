#!/usr/bin/env python3
"""font2c.py - turn a PSF console font into devices/vga_font.c.

The VGA's text mode draws each character code through a 256-glyph font
in plane 2 (IBM VGA Technical Reference, "Character Map Select" and
"Alphanumeric Modes").  The PC's ROM font is code page 437, so this script
picks, for each of the 256 CP437 codes, the glyph the PSF font's Unicode
table maps the code's Unicode character to.

    python3 tools/font2c.py --name NAME --license LICENSE --package PKG \
        FONT.psf.gz [MORE.psf.gz...] > devices/vga_font.c

The exact command that made devices/vga_font.c is in devices/README.md.

Reads PSF1 and PSF2 (gzip or plain), 8 pixels wide, 16 rows high.  A CP437
code whose character (and listed alternatives) the font lacks is an error
naming it: no glyph is ever invented.
"""
import argparse
import gzip
import struct
import sys

# CP437 codes 0x00-0x1F and 0x7F as IBM's ROM font draws them (IBM PC
# Technical Reference, character set), with the alternatives fonts use.
CONTROL_GLYPHS = {
    0x00: [0x0020, 0x00A0], 0x01: [0x263A], 0x02: [0x263B], 0x03: [0x2665],
    0x04: [0x2666], 0x05: [0x2663], 0x06: [0x2660], 0x07: [0x2022],
    0x08: [0x25D8], 0x09: [0x25CB], 0x0A: [0x25D9], 0x0B: [0x2642],
    0x0C: [0x2640], 0x0D: [0x266A], 0x0E: [0x266B], 0x0F: [0x263C],
    0x10: [0x25BA, 0x25B6], 0x11: [0x25C4, 0x25C0], 0x12: [0x2195],
    0x13: [0x203C], 0x14: [0x00B6], 0x15: [0x00A7], 0x16: [0x25AC],
    0x17: [0x21A8], 0x18: [0x2191], 0x19: [0x2193], 0x1A: [0x2192],
    0x1B: [0x2190], 0x1C: [0x221F], 0x1D: [0x2194], 0x1E: [0x25B2],
    0x1F: [0x25BC], 0x7F: [0x2302],
}

# Characters Python's cp437 codec gives that fonts often spell otherwise.
ALTERNATIVES = {
    0x00E1: [0x00DF],   # 0xE1: German sharp s, the usual reading of IBM's beta
    0x00DF: [0x03B2],
    0x03BC: [0x00B5],   # 0xE6 mu / micro sign
    0x00B5: [0x03BC],
    0x2208: [0x03B5],   # 0xEE epsilon / element of
    0x03B5: [0x2208],
    0x2219: [0x00B7, 0x2022],  # 0xF9 bullet operator
    0x03A9: [0x2126],
    0x00A0: [0x0020],
}


def cp437_unicode(code):
    """The Unicode characters (first choice first) of CP437 'code'."""
    if code in CONTROL_GLYPHS:
        return CONTROL_GLYPHS[code]
    u = ord(bytes([code]).decode("cp437"))
    return [u] + ALTERNATIVES.get(u, [])


def read_psf(path):
    """Return (glyphs, {unicode: glyph index}) of an 8x16 PSF font."""
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if raw[:2] == b"\x36\x04":                       # PSF1
        mode, size = raw[2], raw[3]
        count = 512 if mode & 1 else 256
        width, height, stride = 8, size, size
        offset = 4
        has_table = bool(mode & 2)
        table = raw[offset + count * size:]
        umap = {}
        if has_table:
            glyph = 0
            pos = 0
            while glyph < count and pos + 1 < len(table):
                (u,) = struct.unpack_from("<H", table, pos)
                pos += 2
                if u == 0xFFFF:
                    glyph += 1
                elif u == 0xFFFE:
                    continue          # sequences follow: skip to the end marker
                else:
                    umap.setdefault(u, glyph)
    elif raw[:4] == b"\x72\xb5\x4a\x86":              # PSF2
        (_, version, offset, flags, count, stride, height, width) = struct.unpack_from("<8I", raw, 0)
        has_table = bool(flags & 1)
        table = raw[offset + count * stride:]
        umap = {}
        if has_table:
            glyph = 0
            pos = 0
            in_seq = False
            while glyph < count and pos < len(table):
                b = table[pos]
                if b == 0xFF:
                    glyph += 1
                    in_seq = False
                    pos += 1
                    continue
                if b == 0xFE:
                    in_seq = True
                    pos += 1
                    continue
                # one UTF-8 character
                n = 1 if b < 0x80 else 2 if b < 0xE0 else 3 if b < 0xF0 else 4
                ch = table[pos:pos + n].decode("utf-8")
                pos += n
                if not in_seq:
                    umap.setdefault(ord(ch), glyph)
    else:
        sys.exit("font2c: %s: not a PSF1 or PSF2 font" % path)
    if not has_table:
        sys.exit("font2c: %s: the font has no Unicode table to map CP437 through" % path)
    if width != 8 or height != 16:
        sys.exit("font2c: %s: a %dx%d font; the VGA text mode here wants 8x16" % (path, width, height))
    glyphs = [raw[offset + i * stride: offset + (i + 1) * stride] for i in range(count)]
    return glyphs, umap


def main():
    ap = argparse.ArgumentParser(description="PSF 8x16 fonts -> devices/vga_font.c (CP437)")
    ap.add_argument("--name", required=True, help="the font's name, for the header")
    ap.add_argument("--license", required=True, help="its license, for the header")
    ap.add_argument("--package", required=True, help="the Debian package it comes from")
    ap.add_argument("fonts", nargs="+", help="PSF fonts; the first one with a glyph wins")
    args = ap.parse_args()
    fonts = [(path, read_psf(path)) for path in args.fonts]
    out = []
    missing = []
    for code in range(256):
        found = None
        for u in cp437_unicode(code):
            for path, (glyphs, umap) in fonts:
                if u in umap:
                    found = (code, u, glyphs[umap[u]], path.split("/")[-1])
                    break
            if found:
                break
        if found:
            out.append(found)
        else:
            missing.append("0x%02X (U+%04X)" % (code, cp437_unicode(code)[0]))
    if missing:
        sys.exit("font2c: the fonts lack CP437 glyphs: %s" % ", ".join(missing))

    w = sys.stdout.write
    w("/*\n * vga_font.c - generated - do not edit.\n *\n")
    w(" * Generated by tools/font2c.py from %s\n" % ", ".join(p.split("/")[-1] for p, _ in fonts))
    w(" * (first one with the glyph wins).\n")
    w(" * font: %s\n" % args.name)
    w(" * license: %s\n" % args.license)
    w(" * source package: %s (Debian)\n" % args.package)
    w(" *\n * The 256 glyphs of code page 437, 8x16, one byte per row, bit 7 the\n")
    w(" * leftmost pixel (the VGA's plane-2 font layout).  Each glyph is the\n")
    w(" * font's glyph for the code's Unicode character, named in the comment.\n */\n")
    w('#include "devices/vga_font.h"\n\n')
    w("const uint8_t vga_font_8x16[256][16] = {\n")
    for code, u, g, src in out:
        rows = ", ".join("0x%02x" % b for b in g[:16])
        w("    [0x%02X] = { %s }, /* U+%04X %s */\n" % (code, rows, u, src))
    w("};\n")


if __name__ == "__main__":
    main()
