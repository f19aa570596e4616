/*
 * bios_video.c - int 10h in text mode 3 (80 x 25, 16 colours, 8 pages of
 * 4000 bytes in 4 KiB slots at 0xB8000), on the VGA through its memory and
 * its CRT controller ports, as IBM's VGA BIOS drives it.
 *
 * Functions (IBM VGA Technical Reference, "Video BIOS"; Ralf Brown's
 * INTERRUP.LST, int 10h):
 *   AH=00h set mode (AL = 2, 3 or 7 with bit 7 "keep memory"; only text
 *          mode 3 exists here: the others return unchanged and are reported)
 *   AH=01h cursor shape CH/CL          AH=02h set cursor BH page, DH row, DL col
 *   AH=03h get cursor and shape        AH=05h select the active page AL
 *   AH=06h/07h scroll a window up/down AL lines (0 = clear) with attribute BH
 *   AH=08h read char/attribute         AH=09h/0Ah write char (+attribute) CX times
 *   AH=0Eh teletype AL (BEL, BS, LF, CR acted on)
 *   AH=0Fh get mode: AL mode, AH columns, BH page
 *   AH=12h BL=10h EGA information      AH=1Ah AL=00h display combination
 *   AH=13h write string ES:BP, CX chars, at DH,DL; AL bit 0 move the cursor,
 *          bit 1 the string alternates character and attribute
 */
#include "machine/bios/bios_internal.h"

/* The CRT controller's ports and registers and mode 3's 80 x 25: devices/vga.h. */
#include "devices/vga.h"

#define VGA_TEXT_BASE   0xB8000u
#define TEXT_COLUMNS    ((unsigned)VGA_TEXT_COLS)
#define TEXT_ROWS       ((unsigned)VGA_TEXT_ROWS)
#define TEXT_PAGE_BYTES 0x1000u    /* BDA page size for 80x25 */
#define TEXT_PAGES      8u
#define DEFAULT_ATTR    0x07       /* light grey on black */

static void crtc_write(struct bios *b, uint8_t index, uint8_t value)
{
    bios_outb(b, VGA_CRTC_INDEX_COLOR, index);
    bios_outb(b, VGA_CRTC_DATA_COLOR, value);
}

static uint32_t cell_address(unsigned page, unsigned row, unsigned col)
{
    return VGA_TEXT_BASE + page * TEXT_PAGE_BYTES + 2 * (row * TEXT_COLUMNS + col);
}

static void get_cursor(struct bios *b, unsigned page, unsigned *row, unsigned *col)
{
    uint16_t pos = bios_read16(b, BDA_CURSOR_POS + 2 * (page & 7));
    *col = pos & 0xFF;
    *row = pos >> 8;
}

/* The CRTC's cursor follows the active page's BDA position. */
static void set_cursor(struct bios *b, unsigned page, unsigned row, unsigned col)
{
    page &= 7;
    bios_write16(b, BDA_CURSOR_POS + 2 * page, (uint16_t)(row << 8 | col));
    if (page != bios_read8(b, BDA_VIDEO_ACTIVE_PAGE))
        return;
    uint16_t cell = (uint16_t)(page * TEXT_PAGE_BYTES / 2 + row * TEXT_COLUMNS + col);
    crtc_write(b, VGA_CR_CURSOR_LOCATION_HIGH, (uint8_t)(cell >> 8));
    crtc_write(b, VGA_CR_CURSOR_LOCATION_LOW, (uint8_t)cell);
}

/* Scroll rows top..bottom, columns left..right, by 'lines' (0: blank it all). */
static void scroll(struct bios *b, unsigned page, unsigned top, unsigned left, unsigned bottom,
                   unsigned right, unsigned lines, uint8_t attr, bool up)
{
    if (right >= TEXT_COLUMNS) right = TEXT_COLUMNS - 1;
    if (bottom >= TEXT_ROWS) bottom = TEXT_ROWS - 1;
    if (top > bottom || left > right)
        return;
    unsigned height = bottom - top + 1;
    if (lines == 0 || lines > height)
        lines = height;
    for (unsigned k = 0; k < height; k++) {
        unsigned row = up ? top + k : bottom - k;
        bool blank = k + lines >= height;
        unsigned from = up ? row + lines : row - lines;
        for (unsigned col = left; col <= right; col++) {
            uint16_t v = blank ? (uint16_t)(attr << 8 | ' ') : bios_read16(b, cell_address(page, from, col));
            bios_write16(b, cell_address(page, row, col), v);
        }
    }
}

/* Teletype one character on 'page' (IBM VGA BIOS, WRITE_TTY). */
static void teletype(struct bios *b, unsigned page, uint8_t ch)
{
    unsigned row, col;
    bios_serial_put(b, ch);   /* -nographic: the serial console too (bios_serial.c) */
    get_cursor(b, page, &row, &col);
    switch (ch) {
    case 0x07:                       /* BEL: the speaker; we have none to sound */
        return;
    case 0x08:                       /* BS: left, not past column 0 */
        if (col > 0) col--;
        break;
    case 0x0A:                       /* LF */
        row++;
        break;
    case 0x0D:                       /* CR */
        col = 0;
        break;
    default:
        bios_write8(b, cell_address(page, row, col), ch);   /* the attribute stays */
        if (++col == TEXT_COLUMNS) {
            col = 0;
            row++;
        }
        break;
    }
    if (row == TEXT_ROWS) {
        /* Scroll up one line; the new line takes the attribute at the cursor. */
        uint8_t attr = bios_read8(b, cell_address(page, TEXT_ROWS - 1, col) + 1);
        scroll(b, page, 0, 0, TEXT_ROWS - 1, TEXT_COLUMNS - 1, 1, attr, true);
        row = TEXT_ROWS - 1;
    }
    set_cursor(b, page, row, col);
}

static void set_active_page(struct bios *b, unsigned page)
{
    page &= 7;
    bios_write8(b, BDA_VIDEO_ACTIVE_PAGE, (uint8_t)page);
    uint16_t start = (uint16_t)(page * TEXT_PAGE_BYTES);
    bios_write16(b, BDA_VIDEO_PAGE_OFF, start);
    crtc_write(b, VGA_CR_START_ADDRESS_HIGH, (uint8_t)((start / 2) >> 8));
    crtc_write(b, VGA_CR_START_ADDRESS_LOW, (uint8_t)(start / 2));
    unsigned row, col;
    get_cursor(b, page, &row, &col);
    set_cursor(b, page, row, col);
}

static void set_cursor_shape(struct bios *b, uint8_t start, uint8_t end)
{
    bios_write16(b, BDA_CURSOR_SHAPE, (uint16_t)(start << 8 | end));
    crtc_write(b, VGA_CR_CURSOR_START, start & 0x3F);
    crtc_write(b, VGA_CR_CURSOR_END, end & 0x1F);
}

/* Mode 3: the BDA's video fields, page 0, cursor home, lines 6-7 (colour). */
static void set_mode3(struct bios *b, bool clear)
{
    bios_write8(b, BDA_VIDEO_MODE, 3);
    bios_write16(b, BDA_VIDEO_COLUMNS, TEXT_COLUMNS);
    bios_write16(b, BDA_VIDEO_PAGE_SIZE, TEXT_PAGE_BYTES);
    bios_write16(b, BDA_CRTC_BASE, VGA_CRTC_INDEX_COLOR);
    bios_write8(b, BDA_VIDEO_MODE_CTL, 0x29);     /* 80x25 text, video on, blink */
    bios_write8(b, BDA_VIDEO_PALETTE, 0x30);
    bios_write8(b, BDA_VIDEO_ROWS, TEXT_ROWS - 1);
    bios_write16(b, BDA_CHAR_HEIGHT, 16);
    bios_write8(b, BDA_VIDEO_EGA_MISC, 0x60);
    bios_write8(b, BDA_VIDEO_SWITCHES, 0x09);
    bios_write8(b, BDA_VIDEO_FLAGS, 0x51);        /* VGA active, 400 lines, default palette */
    if (clear)
        for (uint32_t a = VGA_TEXT_BASE; a < VGA_TEXT_BASE + TEXT_PAGES * TEXT_PAGE_BYTES; a += 2)
            bios_write16(b, a, DEFAULT_ATTR << 8 | ' ');
    for (unsigned p = 0; p < TEXT_PAGES; p++)
        bios_write16(b, BDA_CURSOR_POS + 2 * p, 0);
    set_cursor_shape(b, 6, 7);
    set_active_page(b, 0);
}

void bios_video_init(struct bios *b)
{
    set_mode3(b, true);
}

void bios_video_puts(struct bios *b, const char *s)
{
    unsigned page = bios_read8(b, BDA_VIDEO_ACTIVE_PAGE);
    while (*s)
        teletype(b, page, (uint8_t)*s++);
}

/* AH=09h/0Ah: CX copies at the cursor, which does not move. */
static void write_repeated(struct bios *b, struct bios_frame *f, bool with_attr)
{
    unsigned page = bios_bh(f) & 7, row, col;
    get_cursor(b, page, &row, &col);
    uint32_t a = cell_address(page, row, col);
    uint32_t end = cell_address(page, 0, 0) + 2 * TEXT_COLUMNS * TEXT_ROWS;
    for (unsigned n = f->ecx & 0xFFFF; n > 0 && a < end; n--, a += 2) {
        bios_write8(b, a, bios_al(f));
        if (with_attr)
            bios_write8(b, a + 1, bios_bl(f));
    }
}

/* AH=13h: write string. */
static void write_string(struct bios *b, struct bios_frame *f)
{
    unsigned page = bios_bh(f) & 7, old_row, old_col;
    uint8_t mode = bios_al(f);
    get_cursor(b, page, &old_row, &old_col);
    set_cursor(b, page, bios_dh(f), bios_dl(f));
    uint32_t src = bios_linear(f->es, (uint16_t)f->ebp);
    for (unsigned n = f->ecx & 0xFFFF; n > 0; n--) {
        uint8_t ch = bios_read8(b, src++);
        uint8_t attr = (mode & 2) ? bios_read8(b, src++) : bios_bl(f);
        unsigned row, col;
        get_cursor(b, page, &row, &col);
        if (ch != 0x07 && ch != 0x08 && ch != 0x0A && ch != 0x0D)
            bios_write8(b, cell_address(page, row, col) + 1, attr);
        teletype(b, page, ch);
    }
    if (!(mode & 1))
        set_cursor(b, page, old_row, old_col);
}

enum bios_verdict bios_int10(struct bios *b, struct bios_frame *f)
{
    unsigned row, col;
    switch (bios_ah(f)) {
    case 0x00: {
        uint8_t mode = bios_al(f) & 0x7F;
        if (mode == 2 || mode == 3) {
            set_mode3(b, !(bios_al(f) & 0x80));
            bios_set_lo8(&f->eax, 0x30);   /* AL = 30h: text mode set (VGA BIOS) */
        } else {
            bios_report_unimplemented(b, BIOS_WARN_INT10, 0x10, f);
        }
        break;
    }
    case 0x01:
        set_cursor_shape(b, bios_ch(f), bios_cl(f));
        break;
    case 0x02:
        set_cursor(b, bios_bh(f), bios_dh(f) < TEXT_ROWS ? bios_dh(f) : TEXT_ROWS - 1,
                   bios_dl(f) < TEXT_COLUMNS ? bios_dl(f) : TEXT_COLUMNS - 1);
        break;
    case 0x03:
        get_cursor(b, bios_bh(f), &row, &col);
        bios_set_lo16(&f->edx, (uint16_t)(row << 8 | col));
        bios_set_lo16(&f->ecx, bios_read16(b, BDA_CURSOR_SHAPE));
        break;
    case 0x05:
        set_active_page(b, bios_al(f));
        break;
    case 0x06:
    case 0x07:
        scroll(b, bios_read8(b, BDA_VIDEO_ACTIVE_PAGE), bios_ch(f), bios_cl(f), bios_dh(f), bios_dl(f),
               bios_al(f), bios_bh(f), bios_ah(f) == 0x06);
        break;
    case 0x08:
        get_cursor(b, bios_bh(f), &row, &col);
        bios_set_lo16(&f->eax, bios_read16(b, cell_address(bios_bh(f) & 7, row, col)));
        break;
    case 0x09:
    case 0x0A:
        write_repeated(b, f, bios_ah(f) == 0x09);
        break;
    case 0x0E:
        teletype(b, bios_read8(b, BDA_VIDEO_ACTIVE_PAGE), bios_al(f));
        break;
    case 0x0F:
        bios_set_lo16(&f->eax, (uint16_t)(bios_read16(b, BDA_VIDEO_COLUMNS) << 8 | bios_read8(b, BDA_VIDEO_MODE)));
        bios_set_hi8(&f->ebx, bios_read8(b, BDA_VIDEO_ACTIVE_PAGE));
        break;
    case 0x12:
        if (bios_bl(f) == 0x10) {          /* EGA info: colour, 256 KiB, switches */
            bios_set_lo16(&f->ebx, 0x0003);
            bios_set_lo16(&f->ecx, 0x0009);
        } else {
            bios_report_unimplemented(b, BIOS_WARN_INT10, 0x10, f);
        }
        break;
    case 0x13:
        write_string(b, f);
        break;
    case 0x1A:
        if (bios_al(f) == 0x00) {          /* display combination: VGA colour */
            bios_set_lo8(&f->eax, 0x1A);
            bios_set_lo16(&f->ebx, 0x0008);
        } else {
            bios_report_unimplemented(b, BIOS_WARN_INT10, 0x10, f);
        }
        break;
    default:
        /* int 10h has no error flag: the caller sees its registers unchanged. */
        bios_report_unimplemented(b, BIOS_WARN_INT10, 0x10, f);
        break;
    }
    return BIOS_DONE;
}
