/*
 * test_vga.c - the VGA's registers against the IBM VGA Technical Reference
 * (IBM PS/2 Hardware Interface Technical Reference, "Video Subsystem") and
 * FreeVGA, written out here: CRTC cursor registers, the attribute
 * controller's index/data flip-flop, Input Status 1 timing, Miscellaneous
 * Output's I/O address select, the DAC's auto-incrementing indices, and
 * what the text screen shows.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/vga.h"
#include "devices/vga_font.h"
#include "base/clock.h"
#include "base/snapshot.h"
#include "mmu/bus.h"
#include "tests/test.h"

struct harness {
    struct bus bus;
    struct vclock clock;
    struct vga vga;
};

/* icount, shift 0: one instruction is one nanosecond; the test sets the count. */
static uint64_t fake_instructions;
static uint64_t fake_counter(void *opaque) { return fake_instructions; }

static struct harness *setup(void)
{
    struct harness *h = calloc(1, sizeof *h);
    if (!h || bus_init(&h->bus, 2u << 20) < 0)
        abort();
    fake_instructions = 0;
    vclock_init(&h->clock, true, 0);
    vclock_set_counter(&h->clock, fake_counter, NULL);
    vga_init(&h->vga, &h->bus, &h->clock);
    if (bus_add_ports(&h->bus, "vga", VGA_PORT_BASE, VGA_PORT_COUNT, &vga_io_ops, &h->vga) < 0)
        abort();
    return h;
}

static void teardown(struct harness *h)
{
    bus_destroy(&h->bus);
    free(h);
}

static uint8_t in8(struct harness *h, uint16_t port) { return (uint8_t)bus_port_read(&h->bus, port, 1); }
static void out8(struct harness *h, uint16_t port, uint8_t v) { bus_port_write(&h->bus, port, v, 1); }

/* ---------------------------------------------------------------- CRTC */

TEST(crtc_cursor_location_and_shape_read_back)
{
    struct harness *h = setup();
    out8(h, 0x3D4, 0x0E); out8(h, 0x3D5, 0x12);   /* Cursor Location High */
    out8(h, 0x3D4, 0x0F); out8(h, 0x3D5, 0x34);   /* Cursor Location Low */
    out8(h, 0x3D4, 0x0A); out8(h, 0x3D5, 0x2B);   /* Cursor Start: Cursor Off + row 11 */
    out8(h, 0x3D4, 0x0B); out8(h, 0x3D5, 0x0C);   /* Cursor End */
    out8(h, 0x3D4, 0x0C); out8(h, 0x3D5, 0x01);   /* Start Address High */
    out8(h, 0x3D4, 0x0D); out8(h, 0x3D5, 0x40);   /* Start Address Low */
    CHECK_EQ(vga_cursor_location(&h->vga), 0x1234);
    CHECK_EQ(vga_start_address(&h->vga), 0x0140);
    out8(h, 0x3D4, 0x0E); CHECK_EQ(in8(h, 0x3D5), 0x12);
    out8(h, 0x3D4, 0x0F); CHECK_EQ(in8(h, 0x3D5), 0x34);
    out8(h, 0x3D4, 0x0A); CHECK_EQ(in8(h, 0x3D5), 0x2B);
    CHECK_EQ(in8(h, 0x3D4), 0x0A);                 /* the address register reads back */
    /* A word OUT to the index port writes index then data (low byte first). */
    bus_port_write(&h->bus, 0x3D4, 0x560F, 2);
    CHECK_EQ(vga_cursor_location(&h->vga), 0x1256);
    teardown(h);
}

TEST(crtc_protect_bit_guards_registers_0_to_7)
{
    struct harness *h = setup();
    /* Mode 3 sets Vertical Retrace End = 8Eh: Protect (bit 7) on. */
    out8(h, 0x3D4, 0x00); out8(h, 0x3D5, 0x11);
    CHECK_EQ(in8(h, 0x3D5), 0x5F);                 /* Horizontal Total unchanged */
    out8(h, 0x3D4, 0x07); out8(h, 0x3D5, 0x00);    /* Overflow: only bit 4 (LC8) takes */
    CHECK_EQ(in8(h, 0x3D5), 0x1F & ~0x10);
    out8(h, 0x3D4, 0x11); out8(h, 0x3D5, 0x0E);    /* Protect off */
    out8(h, 0x3D4, 0x00); out8(h, 0x3D5, 0x11);
    CHECK_EQ(in8(h, 0x3D5), 0x11);
    teardown(h);
}

/* ---------------------------------------------------------------- Miscellaneous Output */

TEST(misc_output_io_select_moves_crtc_and_status1)
{
    struct harness *h = setup();
    CHECK_EQ(in8(h, 0x3CC), 0x67);                 /* mode 3: colour addressing */
    out8(h, 0x3D4, 0x0F); out8(h, 0x3D5, 0x42);
    CHECK_EQ(in8(h, 0x3B4), 0xFF);                 /* mono ports are not decoded */
    CHECK_EQ(in8(h, 0x3BA), 0xFF);

    out8(h, 0x3C2, 0x66);                          /* I/O Address Select = 0: 3Bx */
    CHECK_EQ(in8(h, 0x3CC), 0x66);
    CHECK_EQ(in8(h, 0x3D4), 0xFF);
    CHECK_EQ(in8(h, 0x3D5), 0xFF);
    CHECK_EQ(in8(h, 0x3DA), 0xFF);
    out8(h, 0x3D4, 0x0F); out8(h, 0x3D5, 0x99);    /* ignored */
    out8(h, 0x3B4, 0x0F);
    CHECK_EQ(in8(h, 0x3B5), 0x42);
    out8(h, 0x3B5, 0x24);
    CHECK_EQ(vga_cursor_location(&h->vga) & 0xFF, 0x24);
    /* Input Status 1 answers at 3BA, and resets the flip-flop there. */
    out8(h, 0x3C0, 0x30);                          /* flip-flop now at "data" */
    CHECK_EQ(in8(h, 0x3BA) & 0xF6, 0x00);
    CHECK_EQ(h->vga.st.ac_flipflop, 0);
    teardown(h);
}

/* ---------------------------------------------------------------- Attribute Controller */

TEST(attribute_flipflop_index_then_data)
{
    struct harness *h = setup();
    in8(h, 0x3DA);                                 /* flip-flop to index */
    out8(h, 0x3C0, 0x20 | 0x10);                   /* index Mode Control, PAS = 1 */
    CHECK_EQ(in8(h, 0x3C0), 0x30);                 /* the address register reads back */
    out8(h, 0x3C0, 0x08);                          /* data: blink only */
    CHECK_EQ(in8(h, 0x3C1), 0x08);
    out8(h, 0x3C0, 0x20 | 0x12);                   /* an index again (flip-flop toggled) */
    CHECK_EQ(in8(h, 0x3C0), 0x32);
    CHECK_EQ(in8(h, 0x3C1), 0x0F);                 /* Color Plane Enable, mode 3 */

    /* Reading Input Status 1 puts the flip-flop back on "index". */
    in8(h, 0x3DA);
    out8(h, 0x3C0, 0x20 | 0x11);                   /* index Overscan */
    in8(h, 0x3DA);
    out8(h, 0x3C0, 0x20 | 0x13);                   /* an index, not Overscan data */
    CHECK_EQ(in8(h, 0x3C0), 0x33);
    CHECK_EQ(h->vga.st.ac[VGA_AR_OVERSCAN_COLOR], 0x00);
    teardown(h);
}

TEST(attribute_palette_writable_only_with_pas_clear)
{
    struct harness *h = setup();
    in8(h, 0x3DA);
    out8(h, 0x3C0, 0x20 | 0x01);                   /* PAS = 1: the display owns the palette */
    out8(h, 0x3C0, 0x3F);
    CHECK_EQ(in8(h, 0x3C1), 0x01);                 /* unchanged */
    out8(h, 0x3C0, 0x01);                          /* PAS = 0 */
    out8(h, 0x3C0, 0xFF);                          /* 6 bits kept */
    CHECK_EQ(in8(h, 0x3C1), 0x3F);
    out8(h, 0x3C0, 0x20);                          /* PAS back on */
    CHECK_EQ(vga_color(&h->vga, 1), 0xFFFFFF);     /* entry 1 -> DAC 3Fh, white */
    teardown(h);
}

/* ---------------------------------------------------------------- Input Status 1 */

/* Mode 3 timing from the reference: 28.322 MHz, 900 dots x 449 lines,
   720 dots x 400 lines shown, vertical retrace on lines 412-413. */
static void at_dot(uint64_t dot)
{
    /* the first nanosecond at or after the dot clock's edge 'dot', plus 1 */
    fake_instructions = (dot * 1000000000ull + 28322000ull - 1) / 28322000ull + 1;
}

TEST(input_status1_display_enable_and_vertical_retrace)
{
    struct harness *h = setup();
    uint64_t line = 900, frame = 900 * 449;
    at_dot(10);                CHECK_EQ(in8(h, 0x3DA) & 0x09, 0x00);   /* drawing */
    at_dot(719);               CHECK_EQ(in8(h, 0x3DA) & 0x09, 0x00);
    at_dot(720);               CHECK_EQ(in8(h, 0x3DA) & 0x09, 0x01);   /* horizontal blanking */
    at_dot(399 * line + 5);    CHECK_EQ(in8(h, 0x3DA) & 0x09, 0x00);
    at_dot(400 * line + 5);    CHECK_EQ(in8(h, 0x3DA) & 0x09, 0x01);   /* vertical blanking */
    at_dot(411 * line + 899);  CHECK_EQ(in8(h, 0x3DA) & 0x09, 0x01);
    at_dot(412 * line);        CHECK_EQ(in8(h, 0x3DA) & 0x09, 0x09);   /* vertical retrace */
    at_dot(413 * line + 800);  CHECK_EQ(in8(h, 0x3DA) & 0x09, 0x09);
    at_dot(414 * line);        CHECK_EQ(in8(h, 0x3DA) & 0x09, 0x01);
    at_dot(frame + 3);         CHECK_EQ(in8(h, 0x3DA) & 0x09, 0x00);   /* next frame */
    at_dot(7 * frame + 412 * line + 1); CHECK_EQ(in8(h, 0x3DA) & 0x09, 0x09);

    /* About 70 retraces a second (70.09 Hz): count rising edges over 1 s. */
    int edges = 0;
    bool was = false;
    for (uint64_t ns = 0; ns < 1000000000ull; ns += 20000) {
        fake_instructions = ns;
        bool now = in8(h, 0x3DA) & 0x08;
        if (now && !was) edges++;
        was = now;
    }
    CHECK(edges == 70 || edges == 71);
    teardown(h);
}

/* ---------------------------------------------------------------- DAC */

TEST(dac_write_and_read_indices_auto_increment)
{
    struct harness *h = setup();
    out8(h, 0x3C8, 5);                             /* PEL Address write mode */
    CHECK_EQ(in8(h, 0x3C7) & 3, 0);                /* DAC State: write mode */
    const uint8_t rgb[6] = { 0x01, 0x02, 0x03, 0x3F, 0x40 | 0x11, 0x22 };
    for (int i = 0; i < 6; i++)
        out8(h, 0x3C9, rgb[i]);
    CHECK_EQ(in8(h, 0x3C8), 7);                    /* two colours written */
    out8(h, 0x3C7, 5);                             /* PEL Address read mode */
    CHECK_EQ(in8(h, 0x3C7) & 3, 3);                /* DAC State: read mode */
    CHECK_EQ(in8(h, 0x3C9), 0x01);
    CHECK_EQ(in8(h, 0x3C9), 0x02);
    CHECK_EQ(in8(h, 0x3C9), 0x03);
    CHECK_EQ(in8(h, 0x3C9), 0x3F);
    CHECK_EQ(in8(h, 0x3C9), 0x11);                 /* 6 bits per colour */
    CHECK_EQ(in8(h, 0x3C9), 0x22);
    /* Entry 255 then wraps to 0. */
    out8(h, 0x3C8, 255);
    for (int i = 0; i < 3; i++) out8(h, 0x3C9, 0x10);
    CHECK_EQ(in8(h, 0x3C8), 0);
    /* A colour takes effect only when its third value arrives. */
    out8(h, 0x3C8, 0);
    out8(h, 0x3C9, 0x3F);
    out8(h, 0x3C9, 0x3F);
    CHECK_EQ(vga_color(&h->vga, 0), 0x000000);
    out8(h, 0x3C9, 0x3F);
    CHECK_EQ(vga_color(&h->vga, 0), 0xFFFFFF);
    /* PEL Mask reads back. */
    out8(h, 0x3C6, 0x0F);
    CHECK_EQ(in8(h, 0x3C6), 0x0F);
    teardown(h);
}

TEST(mode3_palette_is_the_ega_colours)
{
    /* The 16 text colours of mode 3: 2/3 intensity AAh, 1/3 55h; brown
       (6) is AA5500h (IBM VGA Tech Ref, default palette values). */
    static const uint32_t want[16] = {
        0x000000, 0x0000AA, 0x00AA00, 0x00AAAA, 0xAA0000, 0xAA00AA, 0xAA5500, 0xAAAAAA,
        0x555555, 0x5555FF, 0x55FF55, 0x55FFFF, 0xFF5555, 0xFF55FF, 0xFFFF55, 0xFFFFFF,
    };
    struct harness *h = setup();
    for (unsigned i = 0; i < 16; i++)
        CHECK_EQ(vga_color(&h->vga, i), want[i]);
    teardown(h);
}

/* ---------------------------------------------------------------- the screen */

TEST(render_cell_cursor_and_cursor_off)
{
    struct harness *h = setup();
    uint32_t *px = calloc(720 * 400, sizeof *px);
    CHECK(px != NULL);
    if (!px) { teardown(h); return; }
    memset(h->bus.ram + 0xB8000, 0, 4000);
    h->bus.ram[0xB8000] = 'A';
    h->bus.ram[0xB8001] = 0x1E;                    /* yellow on blue */
    /* Cursor at cell 1, scan lines 0-15, cell attribute 07h. */
    h->bus.ram[0xB8002] = ' ';
    h->bus.ram[0xB8003] = 0x07;
    out8(h, 0x3D4, 0x0E); out8(h, 0x3D5, 0);
    out8(h, 0x3D4, 0x0F); out8(h, 0x3D5, 1);
    out8(h, 0x3D4, 0x0A); out8(h, 0x3D5, 0x00);
    out8(h, 0x3D4, 0x0B); out8(h, 0x3D5, 0x0F);
    vga_render(&h->vga, px, 720, true, true);
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 8; x++)
            CHECK_EQ(px[y * 720 + x], (vga_font_8x16['A'][y] & (0x80 >> x)) ? 0xFFFF55 : 0x0000AA);
    CHECK_EQ(px[8], 0x0000AA);                     /* 9th dot of 'A': background */
    for (int y = 0; y < 16; y++)
        for (int x = 9; x < 18; x++)
            CHECK_EQ(px[y * 720 + x], 0xAAAAAA);   /* the cursor, light grey */
    /* Cursor Off (Cursor Start bit 5): the cell is plain background. */
    out8(h, 0x3D4, 0x0A); out8(h, 0x3D5, 0x20);
    vga_render(&h->vga, px, 720, true, true);
    CHECK_EQ(px[5 * 720 + 12], 0x000000);
    /* Start > End: no cursor either. */
    out8(h, 0x3D4, 0x0A); out8(h, 0x3D5, 0x0E);
    out8(h, 0x3D4, 0x0B); out8(h, 0x3D5, 0x0D);
    vga_render(&h->vga, px, 720, true, true);
    CHECK_EQ(px[14 * 720 + 12], 0x000000);
    free(px);
    teardown(h);
}

TEST(blink_attribute_and_line_graphics_ninth_dot)
{
    struct harness *h = setup();
    uint32_t *px = calloc(720 * 400, sizeof *px);
    CHECK(px != NULL);
    if (!px) { teardown(h); return; }
    memset(h->bus.ram + 0xB8000, 0, 4000);
    out8(h, 0x3D4, 0x0A); out8(h, 0x3D5, 0x20);    /* no cursor */
    h->bus.ram[0xB8000] = 0xDB;                    /* full block, attribute F4h: */
    h->bus.ram[0xB8001] = 0xF4;                    /* blink, background 7, fg red */
    h->bus.ram[0xB8002] = 0xDB;                    /* C0h-DFh: the 9th dot repeats the 8th */
    h->bus.ram[0xB8003] = 0x0F;
    vga_render(&h->vga, px, 720, true, true);
    CHECK_EQ(px[3 * 720 + 0], 0xAA0000);           /* shown in the "on" phase */
    CHECK_EQ(px[3 * 720 + 9 + 8], 0xFFFFFF);       /* 9th dot of DBh */
    vga_render(&h->vga, px, 720, true, false);
    CHECK_EQ(px[3 * 720 + 0], 0xAAAAAA);           /* "off": background 7, not F */
    /* Enable Blink off: bit 7 is background intensity, nothing blinks. */
    in8(h, 0x3DA);
    out8(h, 0x3C0, 0x30);
    out8(h, 0x3C0, 0x04);                          /* line graphics only */
    h->bus.ram[0xB8000] = ' ';
    vga_render(&h->vga, px, 720, true, false);
    CHECK_EQ(px[3 * 720 + 0], 0xFFFFFF);           /* background F */
    free(px);
    teardown(h);
}

TEST(dump_text_trims_and_speaks_utf8)
{
    struct harness *h = setup();
    for (int i = 0; i < 2000; i++) {
        h->bus.ram[0xB8000 + 2 * i] = ' ';
        h->bus.ram[0xB8000 + 2 * i + 1] = 0x07;
    }
    memcpy(h->bus.ram + 0xB8000, "H\x07i\x07", 4);
    h->bus.ram[0xB8000 + 160] = 0xC9;              /* U+2554 */
    h->bus.ram[0xB8000 + 162] = 0x01;              /* U+263A */
    h->bus.ram[0xB8000 + 164] = 0xE1;              /* U+00DF */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    vga_dump_text(&h->vga, f);
    fclose(f);
    const char *want_start = "Hi\n\xE2\x95\x94\xE2\x98\xBA\xC3\x9F\n\n";
    CHECK(len == strlen("Hi\n") + 8 + 1 + 23);     /* 25 lines, 23 of them empty */
    CHECK(strncmp(buf, want_start, strlen(want_start)) == 0);
    free(buf);
    teardown(h);
}

TEST(snapshot_round_trip)
{
    struct harness *h = setup();
    struct snapshot s;
    snapshot_init(&s);
    out8(h, 0x3D4, 0x0F); out8(h, 0x3D5, 0x77);
    out8(h, 0x3C8, 3); out8(h, 0x3C9, 0x05);      /* mid-colour: component 1 next */
    CHECK_EQ(vga_save(&h->vga, &s), 0);
    out8(h, 0x3D4, 0x0F); out8(h, 0x3D5, 0x00);
    out8(h, 0x3C2, 0x66);
    CHECK_EQ(vga_load(&h->vga, &s, &(struct snapshot_check){ .apply = true }), 0);
    CHECK_EQ(in8(h, 0x3CC), 0x67);
    CHECK_EQ(vga_cursor_location(&h->vga) & 0xFF, 0x77);
    out8(h, 0x3C9, 0x06); out8(h, 0x3C9, 0x07);
    out8(h, 0x3C7, 3);
    CHECK_EQ(in8(h, 0x3C9), 0x05);
    CHECK_EQ(in8(h, 0x3C9), 0x06);
    CHECK_EQ(in8(h, 0x3C9), 0x07);
    snapshot_free(&s);
    teardown(h);
}

TEST_MAIN()
