/*
 * test_bios.c - the BIOS's tables against the references written out here:
 * IBM PC AT Technical Reference keyboard tables (int 16h key words for
 * set-1 scan codes) and the ROM's fixed locations (SDM 3A 9.1.4 reset
 * vector; IBM model byte at F000:FFFE; the IVT table POST reads).
 */
#include "machine/bios/bios.h"
#include "tests/test.h"

#define LSHIFT 0x02
#define CTRL   0x04
#define ALT    0x08
#define NUM    0x20
#define CAPS   0x40

TEST(keys_plain_and_shifted)
{
    CHECK_EQ(bios_scancode_to_key(0x1E, 0), 0x1E61);        /* a */
    CHECK_EQ(bios_scancode_to_key(0x1E, LSHIFT), 0x1E41);   /* A */
    CHECK_EQ(bios_scancode_to_key(0x02, 0), 0x0231);        /* 1 */
    CHECK_EQ(bios_scancode_to_key(0x02, LSHIFT), 0x0221);   /* ! */
    CHECK_EQ(bios_scancode_to_key(0x1C, 0), 0x1C0D);        /* Enter */
    CHECK_EQ(bios_scancode_to_key(0x01, 0), 0x011B);        /* Esc */
    CHECK_EQ(bios_scancode_to_key(0x0E, 0), 0x0E08);        /* Backspace */
    CHECK_EQ(bios_scancode_to_key(0x39, 0), 0x3920);        /* Space */
    CHECK_EQ(bios_scancode_to_key(0x0F, LSHIFT), 0x0F00);   /* Shift-Tab */
}

TEST(keys_caps_ctrl_alt)
{
    CHECK_EQ(bios_scancode_to_key(0x1E, CAPS), 0x1E41);          /* Caps: A */
    CHECK_EQ(bios_scancode_to_key(0x1E, CAPS | LSHIFT), 0x1E61); /* Caps+Shift: a */
    CHECK_EQ(bios_scancode_to_key(0x02, CAPS), 0x0231);          /* Caps leaves digits */
    CHECK_EQ(bios_scancode_to_key(0x1E, CTRL), 0x1E01);          /* Ctrl-A */
    CHECK_EQ(bios_scancode_to_key(0x2C, CTRL), 0x2C1A);          /* Ctrl-Z */
    CHECK_EQ(bios_scancode_to_key(0x1C, CTRL), 0x1C0A);          /* Ctrl-Enter */
    CHECK_EQ(bios_scancode_to_key(0x1E, ALT), 0x1E00);           /* Alt-A */
}

TEST(keys_function_and_keypad)
{
    CHECK_EQ(bios_scancode_to_key(0x3B, 0), 0x3B00);        /* F1 */
    CHECK_EQ(bios_scancode_to_key(0x44, 0), 0x4400);        /* F10 */
    CHECK_EQ(bios_scancode_to_key(0x3B, LSHIFT), 0x5400);   /* Shift-F1 */
    CHECK_EQ(bios_scancode_to_key(0x3B, CTRL), 0x5E00);     /* Ctrl-F1 */
    CHECK_EQ(bios_scancode_to_key(0x3B, ALT), 0x6800);      /* Alt-F1 */
    CHECK_EQ(bios_scancode_to_key(0x57, 0), 0x8500);        /* F11 */
    CHECK_EQ(bios_scancode_to_key(0x58, 0), 0x8600);        /* F12 */
    CHECK_EQ(bios_scancode_to_key(0x47, NUM), 0x4737);      /* keypad 7, Num Lock */
    CHECK_EQ(bios_scancode_to_key(0x47, 0), 0x4700);        /* Home */
    CHECK_EQ(bios_scancode_to_key(0x4E, 0), 0x4E2B);        /* keypad + */
    CHECK_EQ(bios_scancode_to_key(0x80, 0), 0);             /* not a make code */
}

TEST(rom_layout)
{
    /* F000:FFF0: JMP F000:xxxx (EA iw cs), SDM 2A "JMP" ptr16:16 form. */
    CHECK_EQ(bios_rom[0xFFF0], 0xEA);
    CHECK_EQ(bios_rom[0xFFF3] | bios_rom[0xFFF4] << 8, 0xF000);
    CHECK_EQ(bios_rom[0xFFFE], 0xFC);                       /* model: AT */
    /* The vector table POST reads: int 10h and IRQ 0 (int 08h) are in it. */
    unsigned table = bios_rom[BIOS_VECTOR_INFO] | bios_rom[BIOS_VECTOR_INFO + 1] << 8;
    unsigned count = bios_rom[BIOS_VECTOR_INFO + 2] | bios_rom[BIOS_VECTOR_INFO + 3] << 8;
    bool has10 = false, has08 = false;
    CHECK(count > 0 && table + 3 * count <= BIOS_ROM_SIZE);
    for (unsigned i = 0; i < count; i++) {
        has10 |= bios_rom[table + 3 * i] == 0x10;
        has08 |= bios_rom[table + 3 * i] == 0x08;
    }
    CHECK(has10 && has08);
    CHECK_EQ(bios_to_bcd(59), 0x59);
}

TEST_MAIN()
