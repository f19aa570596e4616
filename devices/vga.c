/*
 * vga.c - the VGA's registers and its alphanumeric mode (see vga.h).
 *
 * Worked example, a guest printing "A" in yellow on blue at row 2,
 * column 5 and putting the cursor after it:
 *
 *   mov word [0xB8000 + (2*80+5)*2], 0x1E41   ; 'A', attribute 1Eh
 *   out 0x3D4, 0x0E ; out 0x3D5, 0x00          ; Cursor Location High
 *   out 0x3D4, 0x0F ; out 0x3D5, 2*80+6        ; Cursor Location Low
 *
 * The character and attribute land in guest RAM; vga_render reads them
 * when it draws: attribute 1Eh is foreground 0xE (through the Internal
 * Palette entry 0x0E = 3Eh and the DAC: yellow) on background 1 (blue),
 * and the cursor is drawn on scan lines Cursor Start..Cursor End of cell
 * 166 = start address + 2*80+6.
 */
#include "devices/vga.h"

#include <errno.h>
#include <string.h>

#include "devices/vga_font.h"
#include "base/log.h"
#include "base/snapshot.h"

#define VGA_SNAPSHOT_VERSION 1
#define NS_PER_S 1000000000ull
#define VGA_DOTS_PER_FRAME ((uint64_t)VGA_DOTS_PER_LINE * VGA_LINES_PER_FRAME)

/*
 * Mode 3's register values, as the IBM VGA BIOS's video parameter table
 * programs them (IBM VGA Tech Ref, "BIOS video parameter table", mode 3+:
 * 720x400, 9x16 cells, 28.322 MHz).
 */
static const uint8_t mode3_seq[VGA_SR_COUNT] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
static const uint8_t mode3_crtc[VGA_CR_COUNT] = {
    0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F,   /* 00-07: horizontal and vertical timing */
    0x00, 0x4F, 0x0D, 0x0E, 0x00, 0x00, 0x00, 0x00,   /* 08-0F: scan lines, cursor 13-14, start 0 */
    0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3,   /* 10-17: retrace 412, 400 lines, offset 40 words */
    0xFF,                                             /* 18: Line Compare */
};
static const uint8_t mode3_gc[VGA_GR_COUNT] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF };
static const uint8_t mode3_ac[VGA_AR_COUNT] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,   /* palette: EGA colours, brown = 14h */
    0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
    0x0C, 0x00, 0x0F, 0x08, 0x00,                     /* line graphics + blink, 9-dot panning 8 */
};
#define MODE3_MISC 0x67   /* 3Dx addressing, RAM on, 28.322 MHz, page 1, 400-line polarity */

/* Code page 437 as Unicode (IBM PC Technical Reference, character set). */
static const uint16_t cp437[256] = {
    0x0020, 0x263A, 0x263B, 0x2665, 0x2666, 0x2663, 0x2660, 0x2022,
    0x25D8, 0x25CB, 0x25D9, 0x2642, 0x2640, 0x266A, 0x266B, 0x263C,
    0x25BA, 0x25C4, 0x2195, 0x203C, 0x00B6, 0x00A7, 0x25AC, 0x21A8,
    0x2191, 0x2193, 0x2192, 0x2190, 0x221F, 0x2194, 0x25B2, 0x25BC,
    /* 0x20-0x7E: ASCII, filled in by vga_cp437_unicode */
    [0x7F] = 0x2302,
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7,
    0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5,
    0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,
    0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192,
    0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA,
    0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556,
    0x2555, 0x2563, 0x2551, 0x2557, 0x255D, 0x255C, 0x255B, 0x2510,
    0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F,
    0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x2567,
    0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256B,
    0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580,
    0x03B1, 0x00DF, 0x0393, 0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4,
    0x03A6, 0x0398, 0x03A9, 0x03B4, 0x221E, 0x03C6, 0x03B5, 0x2229,
    0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248,
    0x00B0, 0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x00A0,
};

uint32_t vga_cp437_unicode(uint8_t code)
{
    if (code >= 0x20 && code < 0x7F)
        return code;
    return cp437[code];
}

/*
 * The EGA-compatible colours the BIOS loads into DAC entries 0-63 for the
 * 16-colour modes: an entry's 6 bits are r g b R G B (bits 5..0), the
 * capitals two thirds of full intensity (2Ah), the small letters one third
 * (15h) (IBM VGA Tech Ref, "Video DAC"; the EGA's rgbRGB palette format).
 */
static void load_ega_dac(struct vga_state *st)
{
    memset(st->dac, 0, sizeof st->dac);
    for (int i = 0; i < 64; i++) {
        st->dac[i][0] = (uint8_t)((i & 0x04 ? 0x2A : 0) + (i & 0x20 ? 0x15 : 0));
        st->dac[i][1] = (uint8_t)((i & 0x02 ? 0x2A : 0) + (i & 0x10 ? 0x15 : 0));
        st->dac[i][2] = (uint8_t)((i & 0x01 ? 0x2A : 0) + (i & 0x08 ? 0x15 : 0));
    }
}

void vga_reset(struct vga *v)
{
    struct vga_state *st = &v->st;
    memset(st, 0, sizeof *st);
    st->misc_output = MODE3_MISC;
    memcpy(st->seq, mode3_seq, sizeof st->seq);
    memcpy(st->crtc, mode3_crtc, sizeof st->crtc);
    memcpy(st->gc, mode3_gc, sizeof st->gc);
    memcpy(st->ac, mode3_ac, sizeof st->ac);
    st->ac_index = VGA_AR_INDEX_PAS;   /* the BIOS leaves the palette driving the screen */
    st->subsystem_enable = 0x01;
    st->pel_mask = 0xFF;
    load_ega_dac(st);
    v->warned_graphics = false;
    v->warned_geometry = false;
}

void vga_init(struct vga *v, struct bus *bus, struct vclock *clock)
{
    memset(v, 0, sizeof *v);
    v->bus = bus;
    v->clock = clock;
    vga_reset(v);
}

/* ------------------------------------------------------------ timing */

/* Dot clocks since the machine started (no overflow for 600+ years). */
static uint64_t vga_dots(uint64_t now_ns)
{
    return now_ns / NS_PER_S * VGA_DOT_CLOCK_HZ + now_ns % NS_PER_S * VGA_DOT_CLOCK_HZ / NS_PER_S;
}

/*
 * Input Status 1 (IBM VGA Tech Ref, "Input Status Register 1"): bit 3
 * Vertical Retrace is 1 while the CRT is in vertical retrace; bit 0
 * (FreeVGA names it Display Disabled) is 1 while the raster is in a
 * horizontal or vertical blanking interval, i.e. not drawing pixels.
 * Bits 4-5 (diagnostic, colour plane outputs) read 0.
 */
static uint8_t vga_input_status1(const struct vga *v)
{
    uint64_t dot = vga_dots(vclock_now(v->clock)) % VGA_DOTS_PER_FRAME;
    unsigned line = (unsigned)(dot / VGA_DOTS_PER_LINE);
    unsigned column = (unsigned)(dot % VGA_DOTS_PER_LINE);
    uint8_t value = 0;
    if (line >= VGA_LINES_SHOWN || column >= VGA_DOTS_SHOWN)
        value |= VGA_ST1_DD;
    if (line >= VGA_VRETRACE_FIRST && line < VGA_VRETRACE_FIRST + VGA_VRETRACE_LINES)
        value |= VGA_ST1_VR;
    return value;
}

/* Cursor blink: 16 frames a period (8 on, 8 off); characters: 32 frames. */
bool vga_cursor_blink_on(uint64_t now_ns)
{
    return (vga_dots(now_ns) / VGA_DOTS_PER_FRAME / 8) % 2 == 0;
}

bool vga_char_blink_on(uint64_t now_ns)
{
    return (vga_dots(now_ns) / VGA_DOTS_PER_FRAME / 16) % 2 == 0;
}

/* ------------------------------------------------------------ modes */

static bool vga_graphics_mode(const struct vga *v)
{
    return (v->st.gc[VGA_GR_MISCELLANEOUS] & VGA_GR06_GM) || (v->st.ac[VGA_AR_MODE_CONTROL] & VGA_AR10_G);
}

/* Said once per reset: what trapeze does not draw. */
static void vga_check_mode(struct vga *v)
{
    if (LOG_ON(LOG_UNIMP) && !v->warned_graphics && vga_graphics_mode(v)) {
        v->warned_graphics = true;
        log_printf("unimp: VGA graphics modes are not modelled yet "
                   "(Graphics Controller Miscellaneous %02Xh, Attribute Mode Control %02Xh); "
                   "the display keeps showing the text buffer\n",
                   v->st.gc[VGA_GR_MISCELLANEOUS], v->st.ac[VGA_AR_MODE_CONTROL]);
    }
}

/* Text geometry other than mode 3's (80 columns, 16-line cells, 400 lines). */
static bool vga_geometry_is_mode3(const struct vga *v)
{
    const uint8_t *cr = v->st.crtc;
    unsigned vde = cr[VGA_CR_VERTICAL_DISPLAY_END] | ((cr[VGA_CR_OVERFLOW] & 0x02) << 7) |
                   ((cr[VGA_CR_OVERFLOW] & 0x40) << 3);
    return cr[VGA_CR_END_HORIZONTAL_DISPLAY] == VGA_TEXT_COLS - 1 &&
           (cr[VGA_CR_MAXIMUM_SCAN_LINE] & 0x1F) == VGA_CHAR_HEIGHT - 1 &&
           vde == VGA_LINES_SHOWN - 1;
}

void vga_warn_unmodelled(struct vga *v)
{
    vga_check_mode(v);
    if (LOG_ON(LOG_UNIMP) && !v->warned_geometry && !vga_graphics_mode(v) && !vga_geometry_is_mode3(v)) {
        v->warned_geometry = true;
        log_printf("unimp: VGA text geometry other than 80x25 with 16-line characters is not "
                   "modelled yet (CRTC End Horizontal Display %02Xh, Maximum Scan Line %02Xh); "
                   "drawn as 80x25\n",
                   v->st.crtc[VGA_CR_END_HORIZONTAL_DISPLAY], v->st.crtc[VGA_CR_MAXIMUM_SCAN_LINE]);
    }
}

/* ------------------------------------------------------------ ports */

static bool vga_color_addressing(const struct vga *v)
{
    return v->st.misc_output & VGA_MISC_IOAS;
}

/* The DAC's colour table (IBM VGA Tech Ref, "Video DAC", PEL Data Register). */
static uint8_t vga_dac_read(struct vga *v)
{
    struct vga_state *st = &v->st;
    uint8_t value = st->dac[st->dac_read_index][st->dac_read_component];
    if (++st->dac_read_component == 3) {
        st->dac_read_component = 0;
        st->dac_read_index++;          /* wraps at 256 */
    }
    return value;
}

static void vga_dac_write(struct vga *v, uint8_t value)
{
    struct vga_state *st = &v->st;
    st->dac_latch[st->dac_write_component] = value & 0x3F;   /* 6 bits per colour */
    if (++st->dac_write_component == 3) {
        /* The colour is written once its third (blue) value arrives. */
        memcpy(st->dac[st->dac_write_index], st->dac_latch, 3);
        st->dac_write_component = 0;
        st->dac_write_index++;
    }
}

static void vga_crtc_write(struct vga *v, uint8_t value)
{
    struct vga_state *st = &v->st;
    uint8_t i = st->crtc_index;
    if (i >= VGA_CR_COUNT)
        return;
    /* Protect Registers 0-7 (CR11 bit 7): all but Overflow bit 4 (Line Compare bit 8). */
    if ((st->crtc[VGA_CR_VERTICAL_RETRACE_END] & VGA_CR11_PR) && i <= VGA_CR_OVERFLOW) {
        if (i == VGA_CR_OVERFLOW)
            st->crtc[i] = (uint8_t)((st->crtc[i] & ~0x10) | (value & 0x10));
        return;
    }
    st->crtc[i] = value;
}

static uint32_t vga_port_read(void *opaque, uint32_t offset, unsigned size)
{
    struct vga *v = opaque;
    struct vga_state *st = &v->st;
    uint16_t port = (uint16_t)(VGA_PORT_BASE + offset);
    bool color = vga_color_addressing(v);

    if (size != 1) {
        /* A word read is two byte reads, low port first (the ISA bus splits it). */
        uint32_t lo = vga_port_read(opaque, offset, 1);
        uint32_t hi = vga_port_read(opaque, offset + 1, size == 4 ? 3 : 1);
        return lo | hi << 8;
    }
    if (offset >= VGA_PORT_COUNT)
        return 0xFF;
    switch (port) {
    case VGA_AC_INDEX:
        return st->ac_index;
    case VGA_AC_READ:
        return (st->ac_index & 0x1F) < VGA_AR_COUNT ? st->ac[st->ac_index & 0x1F] : 0x00;
    case VGA_MISC_WRITE:
        /* Input Status 0: bit 7 CRT interrupt (never pending: vertical
           retrace interrupts are not modelled), bit 4 switch sense (0). */
        return 0x00;
    case VGA_SUBSYS_ENABLE:
        return st->subsystem_enable;
    case VGA_SEQ_INDEX:
        return st->seq_index;
    case VGA_SEQ_DATA:
        return st->seq_index < VGA_SR_COUNT ? st->seq[st->seq_index] : 0xFF;
    case VGA_PEL_MASK:
        return st->pel_mask;
    case VGA_PEL_ADDR_READ:
        return st->dac_state;          /* DAC State: 00b write mode, 11b read mode */
    case VGA_PEL_ADDR_WRITE:
        return st->dac_write_index;
    case VGA_PEL_DATA:
        return vga_dac_read(v);
    case VGA_FEATURE_READ:
        return st->feature_control;
    case VGA_MISC_READ:
        return st->misc_output;
    case VGA_GC_INDEX:
        return st->gc_index;
    case VGA_GC_DATA:
        return st->gc_index < VGA_GR_COUNT ? st->gc[st->gc_index] : 0xFF;
    case VGA_CRTC_INDEX_COLOR: case VGA_CRTC_INDEX_MONO:
        if (color != (port == VGA_CRTC_INDEX_COLOR)) return 0xFF;   /* not decoded */
        return st->crtc_index;
    case VGA_CRTC_DATA_COLOR: case VGA_CRTC_DATA_MONO:
        if (color != (port == VGA_CRTC_DATA_COLOR)) return 0xFF;
        return st->crtc_index < VGA_CR_COUNT ? st->crtc[st->crtc_index] : 0xFF;
    case VGA_STATUS1_COLOR: case VGA_STATUS1_MONO:
        if (color != (port == VGA_STATUS1_COLOR)) return 0xFF;
        /* Reading Input Status 1 sets the attribute flip-flop to "index"
           (IBM VGA Tech Ref, "Attribute Address Register"). */
        st->ac_flipflop = 0;
        return vga_input_status1(v);
    default:
        return 0xFF;   /* an MDA/CGA/Hercules port the VGA does not decode */
    }
}

static void vga_port_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    struct vga *v = opaque;
    struct vga_state *st = &v->st;
    uint16_t port = (uint16_t)(VGA_PORT_BASE + offset);
    uint8_t b = (uint8_t)value;
    bool color = vga_color_addressing(v);

    if (size != 1) {
        /* "out dx, ax" to an index port: the index, then the data at port + 1. */
        vga_port_write(opaque, offset, value & 0xFF, 1);
        vga_port_write(opaque, offset + 1, value >> 8, size == 4 ? 3 : 1);
        return;
    }
    if (offset >= VGA_PORT_COUNT)
        return;
    switch (port) {
    case VGA_AC_INDEX:
        if (!st->ac_flipflop) {
            st->ac_index = b & 0x3F;   /* bits 4-0 index, bit 5 Palette Address Source */
        } else {
            unsigned i = st->ac_index & 0x1F;
            if (i < 0x10) {
                /* The Internal Palette is writable only while PAS = 0 (the
                   processor, not the display, owns it). */
                if (!(st->ac_index & VGA_AR_INDEX_PAS))
                    st->ac[i] = b & 0x3F;
            } else if (i < VGA_AR_COUNT) {
                st->ac[i] = (i == VGA_AR_COLOR_PLANE_ENABLE) ? (b & 0x3F) :
                            (i == VGA_AR_HORIZONTAL_PEL_PANNING || i == VGA_AR_COLOR_SELECT) ? (b & 0x0F) : b;
                if (i == VGA_AR_MODE_CONTROL)
                    vga_check_mode(v);
            }
        }
        st->ac_flipflop ^= 1;
        break;
    case VGA_MISC_WRITE:
        st->misc_output = b;
        break;
    case VGA_SUBSYS_ENABLE:
        st->subsystem_enable = b & 0x01;
        break;
    case VGA_SEQ_INDEX:
        st->seq_index = b & 0x07;
        break;
    case VGA_SEQ_DATA:
        if (st->seq_index < VGA_SR_COUNT)
            st->seq[st->seq_index] = b;
        break;
    case VGA_PEL_MASK:
        st->pel_mask = b;
        break;
    case VGA_PEL_ADDR_READ:
        st->dac_read_index = b;
        st->dac_read_component = 0;
        st->dac_state = 0x03;
        break;
    case VGA_PEL_ADDR_WRITE:
        st->dac_write_index = b;
        st->dac_write_component = 0;
        st->dac_state = 0x00;
        break;
    case VGA_PEL_DATA:
        vga_dac_write(v, b);
        break;
    case VGA_GC_INDEX:
        st->gc_index = b & 0x0F;
        break;
    case VGA_GC_DATA:
        if (st->gc_index < VGA_GR_COUNT) {
            st->gc[st->gc_index] = b;
            if (st->gc_index == VGA_GR_MISCELLANEOUS)
                vga_check_mode(v);
        }
        break;
    case VGA_CRTC_INDEX_COLOR: case VGA_CRTC_INDEX_MONO:
        if (color == (port == VGA_CRTC_INDEX_COLOR))
            st->crtc_index = b & 0x1F;
        break;
    case VGA_CRTC_DATA_COLOR: case VGA_CRTC_DATA_MONO:
        if (color == (port == VGA_CRTC_DATA_COLOR))
            vga_crtc_write(v, b);
        break;
    case VGA_STATUS1_COLOR: case VGA_STATUS1_MONO:
        if (color == (port == VGA_STATUS1_COLOR))
            st->feature_control = b;   /* Feature Control, write side */
        break;
    default:
        break;
    }
}

const struct io_ops vga_io_ops = { .read = vga_port_read, .write = vga_port_write };

/* ------------------------------------------------------------ the text screen */

uint16_t vga_start_address(const struct vga *v)
{
    return (uint16_t)(v->st.crtc[VGA_CR_START_ADDRESS_HIGH] << 8 | v->st.crtc[VGA_CR_START_ADDRESS_LOW]);
}

uint16_t vga_cursor_location(const struct vga *v)
{
    return (uint16_t)(v->st.crtc[VGA_CR_CURSOR_LOCATION_HIGH] << 8 | v->st.crtc[VGA_CR_CURSOR_LOCATION_LOW]);
}

/* Memory Map Select (GR06 bits 3-2): where the CPU sees video memory. */
static const uint32_t memory_map_base[4] = { 0xA0000, 0xA0000, 0xB0000, 0xB8000 };
static const uint32_t memory_map_size[4] = { 0x20000, 0x10000, 0x8000, 0x8000 };

uint32_t vga_text_base(const struct vga *v)
{
    return memory_map_base[(v->st.gc[VGA_GR_MISCELLANEOUS] >> VGA_GR06_MM_SHIFT) & 3];
}

/* Characters per row in memory: the Offset register counts words, 2 chars each. */
static unsigned vga_row_stride(const struct vga *v)
{
    return 2u * v->st.crtc[VGA_CR_OFFSET];
}

void vga_text_cell(const struct vga *v, int row, int col, uint8_t *ch, uint8_t *attr)
{
    unsigned map = (v->st.gc[VGA_GR_MISCELLANEOUS] >> VGA_GR06_MM_SHIFT) & 3;
    uint32_t index = vga_start_address(v) + (uint32_t)row * vga_row_stride(v) + (uint32_t)col;
    uint32_t paddr = memory_map_base[map] + ((index * 2) & (memory_map_size[map] - 1));
    if (paddr + 1 < v->bus->ram_size) {
        *ch = v->bus->ram[paddr];
        *attr = v->bus->ram[paddr + 1];
    } else {
        *ch = *attr = 0;
    }
}

int vga_cell_width(const struct vga *v)
{
    return (v->st.seq[VGA_SR_CLOCKING_MODE] & VGA_SR01_89DC) ? 8 : 9;
}

/*
 * The colour path of the Attribute Controller and DAC (IBM VGA Tech Ref,
 * "Attribute Controller Registers"):
 *   4-bit colour & Color Plane Enable -> Internal Palette[colour] (6 bits)
 *   bits 5-4 replaced by Color Select bits 1-0 when Mode Control P54S = 1
 *   bits 7-6 from Color Select bits 3-2
 *   & PEL Mask -> DAC entry -> 6-bit red, green, blue.
 */
uint32_t vga_color(const struct vga *v, unsigned index)
{
    const struct vga_state *st = &v->st;
    uint8_t c = st->ac[(index & st->ac[VGA_AR_COLOR_PLANE_ENABLE]) & 0x0F];
    if (st->ac[VGA_AR_MODE_CONTROL] & VGA_AR10_P54S)
        c = (uint8_t)((c & 0x0F) | (st->ac[VGA_AR_COLOR_SELECT] & 0x03) << 4);
    c = (uint8_t)((c & 0x3F) | (st->ac[VGA_AR_COLOR_SELECT] & 0x0C) << 4);
    c &= st->pel_mask;
    uint32_t rgb = 0;
    for (int k = 0; k < 3; k++) {
        uint32_t six = st->dac[c][k] & 0x3F;
        rgb = rgb << 8 | (six << 2 | six >> 4);   /* 6 bits to 8: 3Fh -> FFh */
    }
    return rgb;
}

static uint32_t vga_overscan_color(const struct vga *v)
{
    /* The Overscan register holds an 8-bit DAC index directly. */
    const struct vga_state *st = &v->st;
    uint8_t c = st->ac[VGA_AR_OVERSCAN_COLOR] & st->pel_mask;
    uint32_t rgb = 0;
    for (int k = 0; k < 3; k++) {
        uint32_t six = st->dac[c][k] & 0x3F;
        rgb = rgb << 8 | (six << 2 | six >> 4);
    }
    return rgb;
}

void vga_render(const struct vga *v, uint32_t *pixels, int pitch, bool cursor_on, bool blink_on)
{
    const struct vga_state *st = &v->st;
    int cw = vga_cell_width(v);
    int width = VGA_TEXT_COLS * cw, height = VGA_TEXT_ROWS * VGA_CHAR_HEIGHT;

    /* Screen Off, or the palette handed to the processor (PAS = 0): no text. */
    if ((st->seq[VGA_SR_CLOCKING_MODE] & VGA_SR01_SO) || !(st->ac_index & VGA_AR_INDEX_PAS)) {
        uint32_t fill = (st->seq[VGA_SR_CLOCKING_MODE] & VGA_SR01_SO) ? 0 : vga_overscan_color(v);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                pixels[y * pitch + x] = fill;
        return;
    }
    bool blink_enabled = st->ac[VGA_AR_MODE_CONTROL] & VGA_AR10_EB;
    bool line_graphics = st->ac[VGA_AR_MODE_CONTROL] & VGA_AR10_ELG;
    for (int row = 0; row < VGA_TEXT_ROWS; row++) {
        for (int col = 0; col < VGA_TEXT_COLS; col++) {
            uint8_t ch, attr;
            vga_text_cell(v, row, col, &ch, &attr);
            unsigned fg = attr & 0x0F, bg = attr >> 4;
            bool hidden = false;
            if (blink_enabled) {
                bg &= 0x07;                         /* bit 7 is blink, not intensity */
                hidden = (attr & 0x80) && !blink_on;
            }
            uint32_t fg_rgb = vga_color(v, fg), bg_rgb = vga_color(v, bg);
            for (int y = 0; y < VGA_CHAR_HEIGHT; y++) {
                uint8_t bits = hidden ? 0 : vga_font_8x16[ch][y];
                uint32_t *p = pixels + (row * VGA_CHAR_HEIGHT + y) * pitch + col * cw;
                for (int x = 0; x < 8; x++)
                    p[x] = (bits & (0x80 >> x)) ? fg_rgb : bg_rgb;
                if (cw == 9)   /* the 9th dot: a copy of the 8th for C0h-DFh with line graphics */
                    p[8] = (line_graphics && ch >= 0xC0 && ch <= 0xDF && (bits & 1)) ? fg_rgb : bg_rgb;
            }
        }
    }

    /* The cursor (CRTC Cursor Start/End, Cursor Location): drawn in the
       cell's foreground colour on scan lines start..end; none when Cursor
       Off is set or start > end (FreeVGA, "Cursor Start Register"). */
    unsigned start = st->crtc[VGA_CR_CURSOR_START] & VGA_CR0A_RSCB;
    unsigned end = st->crtc[VGA_CR_CURSOR_END] & VGA_CR0B_RSCE;
    unsigned stride = vga_row_stride(v);
    int loc = (int)vga_cursor_location(v) - (int)vga_start_address(v);
    if (!cursor_on || (st->crtc[VGA_CR_CURSOR_START] & VGA_CR0A_CO) || start > end || stride == 0 || loc < 0)
        return;
    int row = loc / (int)stride, col = loc % (int)stride;
    if (row >= VGA_TEXT_ROWS || col >= VGA_TEXT_COLS)
        return;
    uint8_t ch, attr;
    vga_text_cell(v, row, col, &ch, &attr);
    uint32_t rgb = vga_color(v, attr & 0x0F);
    if (end > VGA_CHAR_HEIGHT - 1)
        end = VGA_CHAR_HEIGHT - 1;
    for (unsigned y = start; y <= end; y++) {
        uint32_t *p = pixels + (row * VGA_CHAR_HEIGHT + (int)y) * pitch + col * cw;
        for (int x = 0; x < cw; x++)
            p[x] = rgb;
    }
}

static void put_utf8(uint32_t u, FILE *out)
{
    if (u < 0x80) {
        fputc((int)u, out);
    } else if (u < 0x800) {
        fputc((int)(0xC0 | u >> 6), out);
        fputc((int)(0x80 | (u & 0x3F)), out);
    } else {
        fputc((int)(0xE0 | u >> 12), out);
        fputc((int)(0x80 | ((u >> 6) & 0x3F)), out);
        fputc((int)(0x80 | (u & 0x3F)), out);
    }
}

void vga_dump_text(const struct vga *v, FILE *out)
{
    for (int row = 0; row < VGA_TEXT_ROWS; row++) {
        uint8_t chars[VGA_TEXT_COLS];
        int last = -1;
        for (int col = 0; col < VGA_TEXT_COLS; col++) {
            uint8_t attr;
            vga_text_cell(v, row, col, &chars[col], &attr);
            if (vga_cp437_unicode(chars[col]) != ' ')
                last = col;
        }
        for (int col = 0; col <= last; col++)
            put_utf8(vga_cp437_unicode(chars[col]), out);
        fputc('\n', out);
    }
}

/* ------------------------------------------------------------ registry hooks */

int vga_save(void *opaque, struct snapshot *s)
{
    struct vga *v = opaque;
    return snapshot_put(s, "vga", VGA_SNAPSHOT_VERSION, &v->st, sizeof v->st);
}

int vga_load(void *opaque, const struct snapshot *s, struct snapshot_check *c)
{
    struct vga *v = opaque;
    struct vga_state st;
    int err = snapshot_take(s, "vga", VGA_SNAPSHOT_VERSION, &st, sizeof st, c);
    /* Indices beyond the register files are masked on write; keep them so. */
    if (!err) err = snapshot_check_range(c, "vga", "seq_index", st.seq_index, 0, 7);
    if (!err) err = snapshot_check_range(c, "vga", "crtc_index", st.crtc_index, 0, 0x1F);
    if (!err) err = snapshot_check_range(c, "vga", "gc_index", st.gc_index, 0, 0x0F);
    if (!err) err = snapshot_check_range(c, "vga", "ac_index", st.ac_index, 0, 0x3F);
    if (!err) err = snapshot_check_range(c, "vga", "ac_flipflop", st.ac_flipflop, 0, 1);
    if (!err) err = snapshot_check_range(c, "vga", "dac_read_component", st.dac_read_component, 0, 2);
    if (!err) err = snapshot_check_range(c, "vga", "dac_write_component", st.dac_write_component, 0, 2);
    if (err < 0 || !c->apply)
        return err;
    v->st = st;
    v->warned_graphics = v->warned_geometry = false;
    vga_check_mode(v);
    return 0;
}

void vga_reset_hook(void *opaque)
{
    vga_reset(opaque);
}

static void print_regs(FILE *out, const char *name, const uint8_t *r, int n)
{
    fprintf(out, "  %-9s", name);
    for (int i = 0; i < n; i++)
        fprintf(out, "%s%02x", i && i % 8 == 0 ? "  " : " ", r[i]);
    fputc('\n', out);
}

void vga_info(void *opaque, FILE *out)
{
    struct vga *v = opaque;
    struct vga_state *st = &v->st;
    uint16_t loc = vga_cursor_location(v), start = vga_start_address(v);
    unsigned stride = vga_row_stride(v);
    unsigned rel = (unsigned)(uint16_t)(loc - start);

    if (vga_graphics_mode(v))
        fprintf(out, "vga: a graphics mode (not modelled yet: the text buffer is shown)\n");
    else
        fprintf(out, "vga: text mode %s, %d-dot cells, text buffer at %05x\n",
                vga_geometry_is_mode3(v) ? "80x25 (mode 3)" : "with a geometry other than 80x25 (drawn as 80x25)",
                vga_cell_width(v), vga_text_base(v));
    fprintf(out, "  Miscellaneous Output %02x: I/O address select %s (CRTC %03x, Input Status 1 %03x), RAM %s\n",
            st->misc_output, (st->misc_output & VGA_MISC_IOAS) ? "colour" : "mono",
            (st->misc_output & VGA_MISC_IOAS) ? VGA_CRTC_INDEX_COLOR : VGA_CRTC_INDEX_MONO,
            (st->misc_output & VGA_MISC_IOAS) ? VGA_STATUS1_COLOR : VGA_STATUS1_MONO,
            (st->misc_output & VGA_MISC_ERAM) ? "enabled" : "disabled");
    fprintf(out, "  Start Address %04x, Cursor Location %04x (row %u, column %u)\n",
            start, loc, stride ? rel / stride : 0, stride ? rel % stride : 0);
    fprintf(out, "  Cursor Start %02x (scan line %u%s), Cursor End %02x (scan line %u, skew %u)\n",
            st->crtc[VGA_CR_CURSOR_START], st->crtc[VGA_CR_CURSOR_START] & VGA_CR0A_RSCB,
            (st->crtc[VGA_CR_CURSOR_START] & VGA_CR0A_CO) ? ", Cursor Off" : "",
            st->crtc[VGA_CR_CURSOR_END], st->crtc[VGA_CR_CURSOR_END] & VGA_CR0B_RSCE,
            (st->crtc[VGA_CR_CURSOR_END] >> 5) & 3);
    fprintf(out, "  Attribute Mode Control %02x: %s, blink %s, line graphics %s; address %02x (PAS %u), flip-flop at %s\n",
            st->ac[VGA_AR_MODE_CONTROL], (st->ac[VGA_AR_MODE_CONTROL] & VGA_AR10_G) ? "graphics" : "alphanumeric",
            (st->ac[VGA_AR_MODE_CONTROL] & VGA_AR10_EB) ? "on" : "off (bit 7 = background intensity)",
            (st->ac[VGA_AR_MODE_CONTROL] & VGA_AR10_ELG) ? "on" : "off",
            st->ac_index & 0x1F, (st->ac_index & VGA_AR_INDEX_PAS) ? 1 : 0,
            st->ac_flipflop ? "data" : "index");
    fprintf(out, "  DAC: PEL Mask %02x, read address %02x (+%u), write address %02x (+%u), state %s\n",
            st->pel_mask, st->dac_read_index, st->dac_read_component, st->dac_write_index,
            st->dac_write_component, st->dac_state == 3 ? "read" : "write");
    print_regs(out, "Sequencer", st->seq, VGA_SR_COUNT);
    print_regs(out, "CRTC", st->crtc, VGA_CR_COUNT);
    print_regs(out, "Graphics", st->gc, VGA_GR_COUNT);
    print_regs(out, "Attribute", st->ac, VGA_AR_COUNT);
}
