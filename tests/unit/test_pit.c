/*
 * test_pit.c - the 8254 against the Intel 8254 data sheet (231164): the
 * waveforms of figures "Mode 0" - "Mode 5", written out here by hand, at
 * virtual times from an -icount clock driven by a fake instruction
 * counter (shift 0: 1 ns per instruction).
 *
 * Times are in CLKs of 1.193182 MHz; a count written during CLK k is
 * loaded into CE by CLK k+1 (data sheet "Operation"), so with the write
 * at tick 0, CE = N at tick 1 and t = tick - 1.
 */
#include "devices/pit8254.h"
#include "base/snapshot.h"
#include "tests/test.h"

static uint64_t fake_instructions;
static uint64_t fake_counter(void *opaque) { (void)opaque; return fake_instructions; }

struct harness {
    struct vclock clock;
    struct pit8254 pit;
    int level, rises;
};

static void irq_raise(void *opaque, int irq) { struct harness *h = opaque; if (!h->level) h->rises++; h->level = 1; }
static void irq_lower(void *opaque, int irq) { struct harness *h = opaque; h->level = 0; }

static void setup(struct harness *h)
{
    memset(h, 0, sizeof *h);
    fake_instructions = 0;
    vclock_init(&h->clock, true, 0);
    vclock_set_counter(&h->clock, fake_counter, NULL);
    pit_init(&h->pit, &h->clock, (struct irq_line){ irq_raise, irq_lower, h, 0 });
}

/* Go to the first ns of CLK 'tick' (1e9 / 1193182 ns each) and fire due timers. */
static void at_tick(struct harness *h, uint64_t tick)
{
    fake_instructions = (tick * 1000000000ull + 1193181) / 1193182;
    vclock_run_timers(&h->clock);
}

static void out8(struct harness *h, uint16_t port, uint8_t v)
{
    if (port == 0x61) pit_port61_ops.write(&h->pit, 0, v, 1);
    else pit_io_ops.write(&h->pit, port - 0x40, v, 1);
}

static uint8_t in8(struct harness *h, uint16_t port)
{
    if (port == 0x61) return (uint8_t)pit_port61_ops.read(&h->pit, 0, 1);
    return (uint8_t)pit_io_ops.read(&h->pit, port - 0x40, 1);
}

static uint16_t read16(struct harness *h, uint16_t port)
{
    uint8_t lo = in8(h, port);
    return (uint16_t)(lo | in8(h, port) << 8);
}

TEST(pit_clock_conversion)
{
    CHECK_EQ(pit_tick_of_ns(1000000000ull), 1193182);
    CHECK_EQ(pit_tick_of_ns(3600ull * 1000000000ull), 3600ull * 1193182);
    CHECK_EQ(pit_tick_of_ns(pit_ns_of_tick(12345678)), 12345678);
    CHECK_EQ(pit_tick_of_ns(pit_ns_of_tick(12345678) - 1), 12345677);
}

TEST(pit_mode0_interrupt_on_terminal_count)
{
    struct harness h;
    setup(&h);
    out8(&h, 0x43, 0x30);                /* counter 0, LSB then MSB, mode 0 */
    CHECK(!pit_out(&h.pit, 0));          /* mode 0: OUT low after the control word */
    out8(&h, 0x40, 100);
    out8(&h, 0x40, 0);
    at_tick(&h, 51);                     /* t = 50 */
    CHECK_EQ(pit_count(&h.pit, 0), 50);
    CHECK(!pit_out(&h.pit, 0));
    at_tick(&h, 100);                    /* t = 99: CE = 1 */
    CHECK(!pit_out(&h.pit, 0));
    CHECK_EQ(h.level, 0);
    at_tick(&h, 101);                    /* t = 100: CE = 0, OUT high */
    CHECK(pit_out(&h.pit, 0));
    CHECK_EQ(h.level, 1);
    CHECK_EQ(h.rises, 1);
    at_tick(&h, 111);                    /* keeps counting: 0 - 10 wraps */
    CHECK_EQ(pit_count(&h.pit, 0), 0x10000 - 10);
    CHECK(pit_out(&h.pit, 0));
}

TEST(pit_mode2_rate_generator)
{
    struct harness h;
    setup(&h);
    out8(&h, 0x43, 0x34);                /* counter 0, LSB then MSB, mode 2 */
    CHECK(pit_out(&h.pit, 0));
    out8(&h, 0x40, 10);
    out8(&h, 0x40, 0);
    at_tick(&h, 1);
    CHECK_EQ(pit_count(&h.pit, 0), 10);
    at_tick(&h, 9);                      /* t = 8: CE = 2, OUT high */
    CHECK(pit_out(&h.pit, 0));
    at_tick(&h, 10);                     /* t = 9: CE = 1, OUT low for one CLK */
    CHECK(!pit_out(&h.pit, 0));
    CHECK_EQ(pit_count(&h.pit, 0), 1);
    at_tick(&h, 11);                     /* reloaded, OUT high again */
    CHECK(pit_out(&h.pit, 0));
    CHECK_EQ(pit_count(&h.pit, 0), 10);
    int before = h.rises;
    for (uint64_t t = 12; t <= 11 + 100; t++) at_tick(&h, t);
    CHECK_EQ(h.rises - before, 10);      /* one IRQ edge per 10 CLKs */
}

TEST(pit_mode2_new_count_at_period_end)
{
    struct harness h;
    setup(&h);
    out8(&h, 0x43, 0x34);
    out8(&h, 0x40, 10); out8(&h, 0x40, 0);
    at_tick(&h, 4);                      /* t = 3 of the first period */
    out8(&h, 0x40, 20); out8(&h, 0x40, 0);
    at_tick(&h, 10);
    CHECK(!pit_out(&h.pit, 0));          /* the current period still ends at t = 9 */
    at_tick(&h, 11);
    CHECK_EQ(pit_count(&h.pit, 0), 20);  /* then the new count */
    at_tick(&h, 30);
    CHECK(!pit_out(&h.pit, 0));          /* 20 later: t = 29 */
}

TEST(pit_mode3_square_wave_even)
{
    struct harness h;
    setup(&h);
    out8(&h, 0x43, 0x36);                /* counter 0, LSB then MSB, mode 3 */
    out8(&h, 0x40, 10); out8(&h, 0x40, 0);
    at_tick(&h, 1);
    CHECK_EQ(pit_count(&h.pit, 0), 10);
    at_tick(&h, 2);
    CHECK_EQ(pit_count(&h.pit, 0), 8);   /* decrements by two */
    for (uint64_t k = 0; k < 20; k++) {
        at_tick(&h, 1 + k);
        CHECK_EQ(pit_out(&h.pit, 0), (k % 10) < 5);   /* high 5, low 5 */
    }
    CHECK_EQ(h.rises, 2);                /* rising at t = 10 and the start */
}

TEST(pit_mode3_square_wave_odd)
{
    struct harness h;
    setup(&h);
    out8(&h, 0x43, 0x36);
    out8(&h, 0x40, 9); out8(&h, 0x40, 0);
    at_tick(&h, 1);
    CHECK_EQ(pit_count(&h.pit, 0), 8);   /* odd: N - 1 is loaded */
    for (uint64_t k = 0; k < 18; k++) {
        at_tick(&h, 1 + k);
        CHECK_EQ(pit_out(&h.pit, 0), (k % 9) < 5);    /* high (N+1)/2, low (N-1)/2 */
    }
}

TEST(pit_mode4_software_strobe)
{
    struct harness h;
    setup(&h);
    out8(&h, 0x43, 0x38);                /* mode 4 */
    out8(&h, 0x40, 5); out8(&h, 0x40, 0);
    at_tick(&h, 5);
    CHECK(pit_out(&h.pit, 0));
    at_tick(&h, 6);                      /* t = 5: CE = 0, OUT low one CLK */
    CHECK(!pit_out(&h.pit, 0));
    at_tick(&h, 7);
    CHECK(pit_out(&h.pit, 0));
    CHECK_EQ(h.rises, 1 + 1);            /* the control word's high, then the strobe's end */
}

TEST(pit_latch_command)
{
    struct harness h;
    setup(&h);
    out8(&h, 0x43, 0x34);
    out8(&h, 0x40, 0x00); out8(&h, 0x40, 0x10);   /* 0x1000 */
    at_tick(&h, 1 + 0x100);
    out8(&h, 0x43, 0x00);                /* latch counter 0 */
    at_tick(&h, 1 + 0x200);
    CHECK_EQ(read16(&h, 0x40), 0x0F00);  /* the value at the latch */
    CHECK_EQ(read16(&h, 0x40), 0x0E00);  /* then live again */
}

TEST(pit_read_back_status)
{
    struct harness h;
    setup(&h);
    out8(&h, 0x43, 0xB4);                /* counter 2, LSB then MSB, mode 2 */
    out8(&h, 0x42, 0x34); out8(&h, 0x42, 0x12);
    out8(&h, 0x61, 0x01);                /* GATE2 high */
    out8(&h, 0x43, 0xE8);                /* read-back: status only, counter 2 */
    /* OUT 1, NULL COUNT 1 (not yet in CE), RW 11, mode 010, binary. */
    CHECK_EQ(in8(&h, 0x42), 0x80 | 0x40 | 0x34);
    at_tick(&h, 3);
    out8(&h, 0x43, 0xC8);                /* count and status of counter 2 */
    CHECK_EQ(in8(&h, 0x42), 0x80 | 0x34);   /* status first, null count clear */
    CHECK_EQ(read16(&h, 0x42), 0x1234 - 2);   /* GATE rose at tick 0: CE loaded at 1 */
}

TEST(pit_bcd_counting)
{
    struct harness h;
    setup(&h);
    out8(&h, 0x43, 0x31);                /* mode 0, BCD */
    out8(&h, 0x40, 0x00); out8(&h, 0x40, 0x01);   /* 0100 BCD = 100 */
    at_tick(&h, 2);
    CHECK_EQ(read16(&h, 0x40), 0x0099);
    at_tick(&h, 101);
    CHECK(pit_out(&h.pit, 0));
    at_tick(&h, 102);
    CHECK_EQ(read16(&h, 0x40), 0x9999);  /* BCD wraps to 9999 */
}

TEST(pit_lsb_only_and_msb_only)
{
    struct harness h;
    setup(&h);
    out8(&h, 0x43, 0x10);                /* LSB only, mode 0 */
    out8(&h, 0x40, 0x80);
    at_tick(&h, 1);
    CHECK_EQ(in8(&h, 0x40), 0x80);
    CHECK_EQ(in8(&h, 0x40), 0x80);       /* no flip-flop */
    out8(&h, 0x43, 0x20);                /* MSB only */
    out8(&h, 0x40, 0x02);
    at_tick(&h, 3);
    CHECK_EQ(in8(&h, 0x40), 0x01);       /* 0x0200 - 1 = 0x01FF */
}

TEST(pit_port61_gate_and_out2)
{
    struct harness h;
    setup(&h);
    out8(&h, 0x43, 0xB0);                /* counter 2, mode 0 */
    out8(&h, 0x42, 5); out8(&h, 0x42, 0);
    at_tick(&h, 20);
    CHECK_EQ(in8(&h, 0x61) & 0x20, 0);   /* GATE2 low: not counting, OUT2 low */
    out8(&h, 0x61, 0x03);                /* GATE2 and speaker data */
    CHECK_EQ(in8(&h, 0x61) & 0x03, 0x03);
    at_tick(&h, 24);
    CHECK_EQ(in8(&h, 0x61) & 0x20, 0);
    at_tick(&h, 26);
    CHECK_EQ(in8(&h, 0x61) & 0x20, 0x20);   /* 5 CLKs of counting */
}

TEST(pit_port61_refresh_toggles)
{
    struct harness h;
    setup(&h);
    fake_instructions = 0;
    uint8_t a = in8(&h, 0x61) & 0x10;
    fake_instructions = 15085;           /* one refresh period later */
    CHECK(a != (in8(&h, 0x61) & 0x10));
}

TEST(pit_mode1_one_shot_on_gate)
{
    struct harness h;
    setup(&h);
    out8(&h, 0x43, 0xB2);                /* counter 2, mode 1 */
    out8(&h, 0x42, 4); out8(&h, 0x42, 0);
    at_tick(&h, 10);
    CHECK(pit_out(&h.pit, 2));           /* waits for a trigger, OUT high */
    out8(&h, 0x61, 0x01);                /* GATE2 rising: trigger */
    at_tick(&h, 11);
    CHECK(!pit_out(&h.pit, 2));          /* OUT low from the next CLK */
    at_tick(&h, 14);
    CHECK(!pit_out(&h.pit, 2));
    at_tick(&h, 15);
    CHECK(pit_out(&h.pit, 2));           /* N = 4 CLKs low */
}

TEST(pit_mode5_hardware_strobe)
{
    struct harness h;
    setup(&h);
    out8(&h, 0x43, 0xBA);                /* counter 2, mode 5 */
    out8(&h, 0x42, 3); out8(&h, 0x42, 0);
    at_tick(&h, 10);
    out8(&h, 0x61, 0x01);
    at_tick(&h, 13);
    CHECK(pit_out(&h.pit, 2));
    at_tick(&h, 14);                     /* t = 3 = N: strobe */
    CHECK(!pit_out(&h.pit, 2));
    at_tick(&h, 15);
    CHECK(pit_out(&h.pit, 2));
}

TEST(pit_gate_low_stops_mode2)
{
    struct harness h;
    setup(&h);
    out8(&h, 0x43, 0xB4);
    out8(&h, 0x42, 10); out8(&h, 0x42, 0);
    at_tick(&h, 5);
    CHECK(pit_out(&h.pit, 2));           /* GATE low: waits, OUT high */
    out8(&h, 0x61, 0x01);                /* rising edge loads */
    at_tick(&h, 15);                     /* t = 9 */
    CHECK(!pit_out(&h.pit, 2));
    out8(&h, 0x61, 0x00);
    CHECK(pit_out(&h.pit, 2));           /* GATE low forces OUT high */
}

TEST(pit_save_restore)
{
    struct harness a, b;
    struct snapshot s;
    setup(&a);
    out8(&a, 0x43, 0x34);
    out8(&a, 0x40, 100); out8(&a, 0x40, 0);
    out8(&a, 0x43, 0xB6);
    out8(&a, 0x42, 7);
    out8(&a, 0x61, 0x03);
    at_tick(&a, 33);
    snapshot_init(&s);
    CHECK_EQ(pit_save(&a.pit, &s), 0);
    setup(&b);
    at_tick(&b, 33);
    CHECK_EQ(pit_load(&b.pit, &s, &(struct snapshot_check){ .apply = true }), 0);
    CHECK(memcmp(&a.pit.s, &b.pit.s, sizeof a.pit.s) == 0);
    at_tick(&a, 57);
    at_tick(&b, 57);
    for (int n = 0; n < 3; n++) {
        CHECK_EQ(pit_count(&a.pit, n), pit_count(&b.pit, n));
        CHECK_EQ(pit_out(&a.pit, n), pit_out(&b.pit, n));
    }
    CHECK_EQ(in8(&a, 0x61), in8(&b, 0x61));
    at_tick(&a, 101);                    /* OUT0 pulses end at t = 100, 200 */
    at_tick(&b, 101);
    at_tick(&a, 201);
    at_tick(&b, 201);
    CHECK_EQ(a.rises, 1 + 2);            /* the restored copy keeps the IRQ0 schedule */
    CHECK_EQ(b.rises, 2);
    snapshot_free(&s);
}

TEST_MAIN()
