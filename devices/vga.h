/*
 * vga.h - the IBM VGA in alphanumeric (text) mode 3: 80x25, 16 colours.
 *
 * Reference: IBM Personal System/2 Hardware Interface Technical Reference,
 * "Video Subsystem" (1988; the "VGA technical reference"): the register
 * names and bits below are its names.  FreeVGA (Joshua Neal, "Hardware
 * Level VGA and SVGA Video Programming Information Page") restates the same
 * registers and is cited where it is clearer.
 *
 *   0x3C0      Attribute Controller: index / data write (one port, a flip-flop
 *              chooses; reading Input Status 1 sets it back to "index")
 *   0x3C1      Attribute Controller data read
 *   0x3C2      write: Miscellaneous Output; read: Input Status 0
 *   0x3C3      Video Subsystem Enable
 *   0x3C4/3C5  Sequencer index / data
 *   0x3C6      PEL Mask
 *   0x3C7      write: PEL Address (read mode); read: DAC State
 *   0x3C8      PEL Address (write mode)
 *   0x3C9      PEL Data: three accesses (red, green, blue), then the
 *              address moves on by one
 *   0x3CA      read: Feature Control;  0x3CC read: Miscellaneous Output
 *   0x3CE/3CF  Graphics Controller index / data
 *   0x3D4/3D5  CRT Controller index / data   (0x3B4/3B5 when Miscellaneous
 *   0x3DA      read: Input Status 1;          Output bit 0 = 0, monochrome
 *              write: Feature Control         addressing: 0x3BA)
 *
 * The text buffer: in mode 3 the Graphics Controller's Miscellaneous
 * register maps video memory at 0xB8000-0xBFFFF, character/attribute byte
 * pairs (odd/even addressing).  trapeze keeps those bytes in guest RAM
 * (the bus's RAM array), not behind an MMIO region: guests write text at
 * the speed of RAM under every engine (KVM maps it directly), and the
 * renderer reads it when it draws a frame.  The planar memory (the font in
 * plane 2, graphics planes) is not modelled: the font is the built-in 8x16
 * code page 437 one (vga_font.c), and a guest that programs a graphics mode
 * is told once on stderr that graphics modes are not modelled yet.
 *
 * Timing: Input Status 1's Display Enable and Vertical Retrace bits follow
 * the virtual clock (base/clock.h) with mode 3's timing: a 28.322 MHz dot
 * clock, 900 dots a line (100 character clocks of 9 dots, 720 shown),
 * 449 lines a frame (400 shown), vertical retrace on lines 412 and 413
 * (CRTC Vertical Retrace Start 0x9C + Overflow bit 2, End 0xE) - a frame
 * every 14.27 ms, 70.09 Hz.
 */
#ifndef TRAPEZE_VGA_H
#define TRAPEZE_VGA_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/clock.h"
#include "mmu/bus.h"

/* Ports (IBM VGA Tech Ref, "Register Ports"). */
#define VGA_PORT_BASE      0x3B0   /* the device claims 0x3B0-0x3DF */
#define VGA_PORT_COUNT     0x30
#define VGA_AC_INDEX       0x3C0
#define VGA_AC_READ        0x3C1
#define VGA_MISC_WRITE     0x3C2   /* read: Input Status 0 */
#define VGA_SUBSYS_ENABLE  0x3C3
#define VGA_SEQ_INDEX      0x3C4
#define VGA_SEQ_DATA       0x3C5
#define VGA_PEL_MASK       0x3C6
#define VGA_PEL_ADDR_READ  0x3C7   /* read: DAC State */
#define VGA_PEL_ADDR_WRITE 0x3C8
#define VGA_PEL_DATA       0x3C9
#define VGA_FEATURE_READ   0x3CA
#define VGA_MISC_READ      0x3CC
#define VGA_GC_INDEX       0x3CE
#define VGA_GC_DATA        0x3CF
#define VGA_CRTC_INDEX_MONO  0x3B4
#define VGA_CRTC_DATA_MONO   0x3B5
#define VGA_STATUS1_MONO     0x3BA /* write: Feature Control (mono) */
#define VGA_CRTC_INDEX_COLOR 0x3D4
#define VGA_CRTC_DATA_COLOR  0x3D5
#define VGA_STATUS1_COLOR    0x3DA /* write: Feature Control (color) */

/* Miscellaneous Output register (write 0x3C2, read 0x3CC). */
#define VGA_MISC_IOAS      0x01  /* I/O Address Select: 1 = CRTC 3Dx, Status 1 3DA; 0 = 3Bx, 3BA */
#define VGA_MISC_ERAM      0x02  /* Enable RAM: the CPU may access video memory */
#define VGA_MISC_CS        0x0C  /* Clock Select: 00 25.175 MHz, 01 28.322 MHz */
#define VGA_MISC_OE_PAGE   0x20  /* Odd/Even Page Select */
#define VGA_MISC_HSP       0x40  /* Horizontal Sync Polarity (1 = negative) */
#define VGA_MISC_VSP       0x80  /* Vertical Sync Polarity (with HSP: 400 lines) */

/* Input Status 1 (read 0x3DA / 0x3BA). */
#define VGA_ST1_DD         0x01  /* Display Enable NOT: 1 = in horizontal or vertical blanking */
#define VGA_ST1_VR         0x08  /* Vertical Retrace: 1 = in vertical retrace */

/* Sequencer registers (index at 0x3C4). */
enum {
    VGA_SR_RESET = 0x00,           /* bit 0 asynchronous, bit 1 synchronous reset (0 = reset) */
    VGA_SR_CLOCKING_MODE = 0x01,   /* bit 0 8/9 Dot Clocks (1 = 8), bit 5 Screen Off */
    VGA_SR_MAP_MASK = 0x02,
    VGA_SR_CHAR_MAP_SELECT = 0x03,
    VGA_SR_MEMORY_MODE = 0x04,     /* bit 1 Extended Memory, bit 2 Odd/Even (0 = on), bit 3 Chain 4 */
    VGA_SR_COUNT = 5,
};
#define VGA_SR01_89DC      0x01  /* 8/9 Dot Clocks: 1 = 8-dot characters */
#define VGA_SR01_SO        0x20  /* Screen Off */

/* CRT Controller registers (index at 0x3D4 / 0x3B4). */
enum {
    VGA_CR_HORIZONTAL_TOTAL = 0x00,
    VGA_CR_END_HORIZONTAL_DISPLAY = 0x01,
    VGA_CR_OVERFLOW = 0x07,
    VGA_CR_MAXIMUM_SCAN_LINE = 0x09, /* bits 4-0: character height - 1 */
    VGA_CR_CURSOR_START = 0x0A,      /* bit 5 Cursor Off, bits 4-0 Row Scan Cursor Begins */
    VGA_CR_CURSOR_END = 0x0B,        /* bits 6-5 Cursor Skew, bits 4-0 Row Scan Cursor Ends */
    VGA_CR_START_ADDRESS_HIGH = 0x0C,
    VGA_CR_START_ADDRESS_LOW = 0x0D,
    VGA_CR_CURSOR_LOCATION_HIGH = 0x0E,
    VGA_CR_CURSOR_LOCATION_LOW = 0x0F,
    VGA_CR_VERTICAL_RETRACE_START = 0x10,
    VGA_CR_VERTICAL_RETRACE_END = 0x11,  /* bit 7 Protect registers 0-7 */
    VGA_CR_VERTICAL_DISPLAY_END = 0x12,
    VGA_CR_OFFSET = 0x13,            /* words (text: characters) per row / 2 */
    VGA_CR_UNDERLINE_LOCATION = 0x14,
    VGA_CR_MODE_CONTROL = 0x17,
    VGA_CR_LINE_COMPARE = 0x18,
    VGA_CR_COUNT = 0x19,
};
#define VGA_CR0A_CO        0x20  /* Cursor Off */
#define VGA_CR0A_RSCB      0x1F  /* Row Scan Cursor Begins */
#define VGA_CR0B_RSCE      0x1F  /* Row Scan Cursor Ends */
#define VGA_CR11_PR        0x80  /* Protect Registers 0-7 (Overflow bit 4 stays writable) */

/* Graphics Controller registers (index at 0x3CE). */
enum {
    VGA_GR_SET_RESET = 0x00,
    VGA_GR_ENABLE_SET_RESET = 0x01,
    VGA_GR_COLOR_COMPARE = 0x02,
    VGA_GR_DATA_ROTATE = 0x03,
    VGA_GR_READ_MAP_SELECT = 0x04,
    VGA_GR_GRAPHICS_MODE = 0x05,     /* bit 4 Odd/Even, bit 6 256-colour shift */
    VGA_GR_MISCELLANEOUS = 0x06,     /* bit 0 Graphics Mode, bits 3-2 Memory Map */
    VGA_GR_COLOR_DONT_CARE = 0x07,
    VGA_GR_BIT_MASK = 0x08,
    VGA_GR_COUNT = 9,
};
#define VGA_GR06_GM        0x01  /* Graphics Mode: 1 = graphics (alphanumeric off) */
#define VGA_GR06_MM_SHIFT  2     /* Memory Map: 00 A0000 128K, 01 A0000 64K, 10 B0000 32K, 11 B8000 32K */

/* Attribute Controller registers (index at 0x3C0). */
enum {
    VGA_AR_PALETTE0 = 0x00,          /* 0x00-0x0F: Internal Palette, 6 bits each */
    VGA_AR_MODE_CONTROL = 0x10,
    VGA_AR_OVERSCAN_COLOR = 0x11,
    VGA_AR_COLOR_PLANE_ENABLE = 0x12,
    VGA_AR_HORIZONTAL_PEL_PANNING = 0x13,
    VGA_AR_COLOR_SELECT = 0x14,
    VGA_AR_COUNT = 0x15,
};
#define VGA_AR_INDEX_PAS   0x20  /* Palette Address Source: 1 = the display uses the palette */
#define VGA_AR10_G         0x01  /* Graphics/Alphanumeric Mode: 1 = graphics */
#define VGA_AR10_ME        0x02  /* Monochrome Emulation */
#define VGA_AR10_ELG       0x04  /* Enable Line Graphics: 9th dot of C0-DF repeats the 8th */
#define VGA_AR10_EB        0x08  /* Enable Blink: attribute bit 7 blinks (else background intensity) */
#define VGA_AR10_PPM       0x20  /* PEL Panning Compatibility */
#define VGA_AR10_PW        0x40  /* PEL Width (256-colour mode) */
#define VGA_AR10_P54S      0x80  /* P5, P4 Select: colour bits 5-4 from Color Select bits 1-0 */

/* The text screen trapeze draws: mode 3's geometry. */
#define VGA_TEXT_COLS      80
#define VGA_TEXT_ROWS      25
#define VGA_CHAR_HEIGHT    16

/* Mode 3 timing (see the top of this file), in virtual nanoseconds. */
#define VGA_DOT_CLOCK_HZ   28322000ull
#define VGA_DOTS_PER_LINE  900
#define VGA_DOTS_SHOWN     720
#define VGA_LINES_PER_FRAME 449
#define VGA_LINES_SHOWN    400
#define VGA_VRETRACE_FIRST 412
#define VGA_VRETRACE_LINES 2

/*
 * All of the VGA's register state as plain data (no pointers): saved and
 * loaded as the snapshot section "vga".  One field per register.
 */
struct vga_state {
    uint8_t misc_output;              /* Miscellaneous Output */
    uint8_t feature_control;          /* Feature Control */
    uint8_t subsystem_enable;         /* Video Subsystem Enable (0x3C3) */
    uint8_t seq_index;                /* Sequencer Address */
    uint8_t seq[VGA_SR_COUNT];
    uint8_t crtc_index;               /* CRT Controller Address */
    uint8_t crtc[VGA_CR_COUNT];
    uint8_t gc_index;                 /* Graphics Controller Address */
    uint8_t gc[VGA_GR_COUNT];
    uint8_t ac_index;                 /* Attribute Address (bits 4-0 index, bit 5 PAS) */
    uint8_t ac_flipflop;              /* 0: next 0x3C0 write is the index; 1: the data */
    uint8_t ac[VGA_AR_COUNT];
    uint8_t pel_mask;                 /* PEL Mask */
    uint8_t dac_read_index;           /* PEL Address, read mode */
    uint8_t dac_write_index;          /* PEL Address, write mode */
    uint8_t dac_read_component;       /* 0 red, 1 green, 2 blue: the next 0x3C9 read */
    uint8_t dac_write_component;      /* the next 0x3C9 write */
    uint8_t dac_state;                /* DAC State bits 1-0: 00 write mode, 11 read mode */
    uint8_t dac_latch[3];             /* the write-mode colour being assembled */
    uint8_t dac[256][3];              /* the colour table: 6 bits each of red, green, blue */
};

struct snapshot;

struct vga {
    struct vga_state st;
    struct bus *bus;                  /* the text buffer lives in its RAM */
    struct vclock *clock;             /* Input Status 1 timing, blink */
    bool warned_graphics;             /* said "graphics modes are not modelled" once */
    bool warned_geometry;             /* said "only 80x25 text" once */
};

/* The port handlers for 0x3B0-0x3DF (VGA_PORT_BASE, VGA_PORT_COUNT). */
extern const struct io_ops vga_io_ops;

/* Set up 'v' in mode 3 (the state a VGA BIOS leaves after int 10h AX=0003h). */
void vga_init(struct vga *v, struct bus *bus, struct vclock *clock);
/* Back to mode 3's registers (the text buffer is RAM: kept, as on a reset). */
void vga_reset(struct vga *v);

/* machine_device hooks (registered as "vga"). */
int vga_save(void *opaque, struct snapshot *s);
struct snapshot_check;
int vga_load(void *opaque, const struct snapshot *s, struct snapshot_check *c);
void vga_reset_hook(void *opaque);
void vga_info(void *opaque, FILE *out);

/*
 * Called before a frame or a text dump is drawn: says once on stderr when
 * the guest has programmed what trapeze does not draw (a graphics mode, a
 * text geometry other than 80x25 with 16-line characters).  Not checked on
 * each register write, since a mode change passes through odd states.
 */
void vga_warn_unmodelled(struct vga *v);

/* The CRTC's Start Address and Cursor Location (in characters). */
uint16_t vga_start_address(const struct vga *v);
uint16_t vga_cursor_location(const struct vga *v);
/* Physical address of the text buffer's first byte (Memory Map field). */
uint32_t vga_text_base(const struct vga *v);

/*
 * The character and attribute bytes of screen cell (row, col) as the CRTC
 * scans them out: base + (start address + row * offset * 2 + col) * 2.
 * Cells outside RAM read as 0.
 */
void vga_text_cell(const struct vga *v, int row, int col, uint8_t *ch, uint8_t *attr);

/* Width in pixels of a character cell: 9, or 8 with Clocking Mode bit 0. */
int vga_cell_width(const struct vga *v);

/*
 * The 24-bit host colour (0xRRGGBB) of 4-bit attribute colour 'index',
 * through Color Plane Enable, the Internal Palette, Color Select and the
 * DAC (IBM VGA Tech Ref, "Attribute Controller"; "Video DAC").
 */
uint32_t vga_color(const struct vga *v, unsigned index);

/*
 * Draw the text screen into 'pixels' (0x00RRGGBB, 'pitch' pixels a row),
 * VGA_TEXT_COLS * cell width by VGA_TEXT_ROWS * 16 pixels.  'cursor_on'
 * and 'blink_on' are the blink phases: true shows the cursor and the
 * characters with the blink attribute.
 */
void vga_render(const struct vga *v, uint32_t *pixels, int pitch, bool cursor_on, bool blink_on);
/* The blink phase at virtual time 'now_ns': cursor blink every 16 frames,
   character blink every 32 (IBM VGA Tech Ref, "Cursor"; FreeVGA). */
bool vga_cursor_blink_on(uint64_t now_ns);
bool vga_char_blink_on(uint64_t now_ns);

/*
 * Write the 80x25 text, one line per row, trailing spaces trimmed, each
 * code page 437 character as UTF-8 (the monitor and -screendump).
 */
void vga_dump_text(const struct vga *v, FILE *out);

/* The Unicode code point code page 437's 'code' shows. */
uint32_t vga_cp437_unicode(uint8_t code);

#endif
