/*
 * test_i8042.c - the keyboard controller and keyboard against the IBM
 * PC/AT Technical Reference (controller commands, status, command byte,
 * output port; keyboard commands and replies) and the published scan code
 * tables: set 2 (what the keyboard sends) and set 1 (what a PC sees after
 * the 8042's translation).  The expected codes below are copied from those
 * tables, key by key.
 */
#include <stdlib.h>

#include "devices/i8042.h"
#include "machine/machine.h"
#include "base/snapshot.h"
#include "tests/test.h"

static int irq1_high, irq12_high, irq1_edges;
static void t_raise(void *opaque, int irq)
{
    if (irq == 1) { irq1_edges += !irq1_high; irq1_high = 1; } else irq12_high = 1;
}
static void t_lower(void *opaque, int irq) { if (irq == 1) irq1_high = 0; else irq12_high = 0; }

static struct machine *m;
static struct i8042 kbc;

static void setup(void)
{
    if (!m) {
        m = calloc(1, sizeof *m);
        CHECK(m && bus_init(&m->bus, 1u << 20) == 0);
    }
    m->stop_reason = MACHINE_RUNNING;
    bus_set_a20(&m->bus, true);
    irq1_high = irq12_high = 0;
    i8042_init(&kbc, (struct irq_line){ t_raise, t_lower, NULL, 1 },
               (struct irq_line){ t_raise, t_lower, NULL, 12 },
               machine_board_line(m, BOARD_RESET), machine_board_line(m, BOARD_A20));
}

static uint8_t status(void) { return (uint8_t)i8042_command_ops.read(&kbc, 0, 1); }
static void command(uint8_t c) { i8042_command_ops.write(&kbc, 0, c, 1); }
static void data(uint8_t d) { i8042_data_ops.write(&kbc, 0, d, 1); }

/* Read the output buffer, as a driver does: only when OBF says a byte is there. */
static int next_byte(void)
{
    if (!(status() & I8042_STR_OBF)) return -1;
    return (int)i8042_data_ops.read(&kbc, 0, 1);
}

static void drain(void) { while (next_byte() >= 0) {} }

TEST(self_test_and_interface_tests)
{
    setup();
    command(0xAA);
    CHECK_EQ(next_byte(), 0x55);
    command(0xAB);
    CHECK_EQ(next_byte(), 0x00);
    command(0xA9);
    CHECK_EQ(next_byte(), 0x00);
    CHECK_EQ(next_byte(), -1);
    /* A2 tells whether the last write went to 0x64 (1) or 0x60 (0). */
    CHECK(status() & I8042_STR_A2);
}

TEST(command_byte_round_trip)
{
    setup();
    command(0x60);
    data(0x25);   /* IRQ1, SYS, keyboard enabled, aux disabled, no translation */
    command(0x20);
    CHECK_EQ(next_byte(), 0x25);
    CHECK(status() & I8042_STR_SYS);
    command(0x60);
    data(0x00);
    CHECK_EQ(status() & I8042_STR_SYS, 0);
    command(0xAD);   /* keyboard disable sets bit 4 */
    command(0xA8);   /* aux enable clears bit 5 */
    command(0x20);
    CHECK_EQ(next_byte(), 0x10);
    command(0xAE);
    command(0xA7);
    command(0x20);
    CHECK_EQ(next_byte(), 0x20);
}

TEST(a20_through_the_output_port)
{
    setup();
    command(0xD1);
    data(0xDD);   /* bit 1 = 0: A20 off; bit 0 = 1: no reset */
    CHECK(!bus_a20_enabled(&m->bus));
    command(0xD0);
    CHECK_EQ(next_byte() & I8042_OUT_A20, 0);
    command(0xD1);
    data(0xDF);
    CHECK(bus_a20_enabled(&m->bus));
    CHECK_EQ(m->stop_reason, MACHINE_RUNNING);
    /* Port 0x92 drives the same gate: the output port reads it back. */
    bus_set_a20(&m->bus, false);
    command(0xD0);
    CHECK_EQ(next_byte() & I8042_OUT_A20, 0);
}

TEST(reset_pulse)
{
    setup();
    command(0xFF);   /* pulse nothing */
    CHECK_EQ(m->stop_reason, MACHINE_RUNNING);
    command(0xFE);   /* pulse bit 0: system reset */
    CHECK_EQ(m->stop_reason, MACHINE_RESET_REQUEST);
    setup();
    command(0xD1);
    data(0xDE);      /* output port bit 0 = 0 holds the CPU in reset */
    CHECK_EQ(m->stop_reason, MACHINE_RESET_REQUEST);
}

TEST(keyboard_reset_and_identify)
{
    setup();
    command(0x60);
    data(0x01);      /* no translation: the keyboard's own bytes */
    data(0xFF);
    CHECK_EQ(next_byte(), 0xFA);
    CHECK_EQ(next_byte(), 0xAA);
    data(0xF2);
    CHECK_EQ(next_byte(), 0xFA);
    CHECK_EQ(next_byte(), 0xAB);
    CHECK_EQ(next_byte(), 0x83);
    data(0xEE);
    CHECK_EQ(next_byte(), 0xEE);
    data(0x12);      /* not a command */
    CHECK_EQ(next_byte(), 0xFE);
    data(0xED);
    CHECK_EQ(next_byte(), 0xFA);
    data(0x07);
    CHECK_EQ(next_byte(), 0xFA);
    CHECK_EQ(kbc.s.kbd_leds, 7);
    data(0xF0);
    data(0x00);
    CHECK_EQ(next_byte(), 0xFA);
    CHECK_EQ(next_byte(), 0xFA);
    CHECK_EQ(next_byte(), 0x02);   /* set 2 */
    /* With translation the identify reply reads AB 41 (Brouwer 9.3). */
    command(0x60);
    data(0x41);
    data(0xF2);
    CHECK_EQ(next_byte(), 0xFA);
    CHECK_EQ(next_byte(), 0xAB);
    CHECK_EQ(next_byte(), 0x41);
}

/* Published codes: set 2 make, set 1 make, for a few keys. */
struct published { unsigned usage; uint8_t set2[2]; int n; uint8_t set1[2]; };
static const struct published keys[] = {
    { 0x04, { 0x1C }, 1, { 0x1E } },          /* A */
    { 0x28, { 0x5A }, 1, { 0x1C } },          /* Enter */
    { 0x29, { 0x76 }, 1, { 0x01 } },          /* Escape */
    { 0x40, { 0x83 }, 1, { 0x41 } },          /* F7: set 2 code above 0x7F */
    { 0x2C, { 0x29 }, 1, { 0x39 } },          /* Space */
    { 0xE1, { 0x12 }, 1, { 0x2A } },          /* Left Shift */
    { 0x52, { 0xE0, 0x75 }, 2, { 0xE0, 0x48 } }, /* Up arrow */
};

TEST(set2_raw_and_translated_to_set1)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const struct published *k = &keys[i];
        /* Raw set 2: make, then break = (E0) F0 code. */
        setup();
        command(0x60);
        data(0x01);
        drain();
        CHECK(i8042_key_event(&kbc, k->usage, true));
        for (int j = 0; j < k->n; j++) CHECK_EQ(next_byte(), k->set2[j]);
        CHECK(i8042_key_event(&kbc, k->usage, false));
        if (k->n == 2) CHECK_EQ(next_byte(), 0xE0);
        CHECK_EQ(next_byte(), 0xF0);
        CHECK_EQ(next_byte(), k->set2[k->n - 1]);
        CHECK_EQ(next_byte(), -1);
        /* Translated (the reset default): set 1, break = make | 0x80. */
        setup();
        CHECK(i8042_key_event(&kbc, k->usage, true));
        for (int j = 0; j < k->n; j++) CHECK_EQ(next_byte(), k->set1[j]);
        CHECK(i8042_key_event(&kbc, k->usage, false));
        if (k->n == 2) CHECK_EQ(next_byte(), 0xE0);
        CHECK_EQ(next_byte(), k->set1[k->n - 1] | 0x80);
        CHECK_EQ(next_byte(), -1);
        /* The keyboard in set 1 itself, no translation: the same set 1 codes. */
        setup();
        command(0x60);
        data(0x01);
        data(0xF0);
        data(0x01);
        drain();
        CHECK(i8042_key_event(&kbc, k->usage, true));
        for (int j = 0; j < k->n; j++) CHECK_EQ(next_byte(), k->set1[j]);
    }
}

TEST(set3_make_only_by_default)
{
    setup();
    command(0x60);
    data(0x01);
    data(0xF0);
    data(0x03);
    drain();
    /* Set 3: 'A' is 1C, Escape is 08, make only; Left Shift 12 sends F0 12. */
    i8042_key_event(&kbc, 0x04, true);
    i8042_key_event(&kbc, 0x04, false);
    CHECK_EQ(next_byte(), 0x1C);
    CHECK_EQ(next_byte(), -1);
    i8042_key_event(&kbc, 0x29, true);
    CHECK_EQ(next_byte(), 0x08);
    i8042_key_event(&kbc, 0xE1, true);
    i8042_key_event(&kbc, 0xE1, false);
    CHECK_EQ(next_byte(), 0x12);
    CHECK_EQ(next_byte(), 0xF0);
    CHECK_EQ(next_byte(), 0x12);
    /* F8: all keys make/break. */
    data(0xF8);
    CHECK_EQ(next_byte(), 0xFA);
    i8042_key_event(&kbc, 0x04, true);
    i8042_key_event(&kbc, 0x04, false);
    CHECK_EQ(next_byte(), 0x1C);
    CHECK_EQ(next_byte(), 0xF0);
    CHECK_EQ(next_byte(), 0x1C);
}

TEST(irq1_when_obf_and_enabled)
{
    setup();   /* command byte after reset: IRQ1 on */
    CHECK(!irq1_high);
    i8042_key_event(&kbc, 0x04, true);
    CHECK(irq1_high);
    CHECK(status() & I8042_STR_OBF);
    next_byte();
    CHECK(!irq1_high);
    command(0x60);
    data(0x44);   /* IRQ1 off */
    i8042_key_event(&kbc, 0x04, false);
    CHECK(status() & I8042_STR_OBF);
    CHECK(!irq1_high);
    drain();
    /* Keyboard disabled (bit 4): the byte waits in the keyboard. */
    command(0x60);
    data(0x55);
    i8042_key_event(&kbc, 0x05, true);
    CHECK_EQ(status() & I8042_STR_OBF, 0);
    command(0xAE);
    CHECK(status() & I8042_STR_OBF);
    CHECK(irq1_high);
    CHECK_EQ(next_byte(), 0x30);   /* B, set 1 */
}

TEST(aux_without_a_device)
{
    setup();
    command(0x60);
    data(0x47);   /* IRQ1 and IRQ12 on, aux enabled */
    command(0xD4);
    data(0xF4);   /* "enable" to a mouse that is not there */
    uint8_t st = status();
    CHECK(st & I8042_STR_TIMEOUT);
    CHECK(st & I8042_STR_AUX_OBF);
    CHECK(irq12_high);
    CHECK_EQ(next_byte(), 0xFE);
    CHECK(!irq12_high);
    command(0xD3);
    data(0x5A);   /* as if from the aux device */
    CHECK(status() & I8042_STR_AUX_OBF);
    CHECK_EQ(next_byte(), 0x5A);
    command(0xD2);
    data(0x5B);   /* as if from the keyboard */
    CHECK_EQ(status() & I8042_STR_AUX_OBF, 0);
    CHECK(irq1_high);
    CHECK_EQ(next_byte(), 0x5B);
}

TEST(save_load_compare)
{
    setup();
    command(0x60);
    data(0x01);
    data(0xF0);
    data(0x03);
    i8042_key_event(&kbc, 0x04, true);
    i8042_key_event(&kbc, 0x05, true);
    struct snapshot snap;
    snapshot_init(&snap);
    CHECK_EQ(i8042_save(&kbc, &snap), 0);
    struct i8042_state saved = kbc.s;
    drain();
    command(0x60);
    data(0x45);
    CHECK_EQ(i8042_load(&kbc, &snap, &(struct snapshot_check){ .apply = true }), 0);
    CHECK(memcmp(&kbc.s, &saved, sizeof saved) == 0);
    CHECK_EQ(next_byte(), 0xFA);   /* the F0 ack, then the keys, as before the save */
    CHECK_EQ(next_byte(), 0xFA);
    CHECK_EQ(next_byte(), 0x1C);
    CHECK_EQ(next_byte(), 0x32);
    snapshot_free(&snap);
}

/*
 * IRQ 1 is output port bit 4, which follows OBF (IBM AT Tech Ref, "Output
 * Port"): reading a byte empties the buffer and drops the pin, so each of
 * several queued bytes reaches an edge-triggered 8259A as its own rising edge.
 */
TEST(irq1_edge_per_byte)
{
    setup();
    i8042_key_event(&kbc, HID_KEY_A, true);
    i8042_key_event(&kbc, HID_KEY_A, false);   /* 1E, 9E in set 1 */
    irq1_edges = 0;
    CHECK(irq1_high);
    CHECK_EQ(next_byte(), 0x1E);
    CHECK_EQ(irq1_edges, 1);                    /* the second byte: a new edge */
    CHECK(irq1_high);
    CHECK_EQ(next_byte(), 0x9E);
    CHECK_EQ(irq1_edges, 1);
    CHECK(!irq1_high);                          /* empty: the pin stays low */
}

TEST_MAIN()
