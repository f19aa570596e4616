/*
 * test_rtc.c - the MC146818A RTC and CMOS RAM against the Motorola data
 * sheet and the PC/AT CMOS map: BCD and binary data modes, 12/24-hour
 * mode and the PM bit, register C cleared by a read, the periodic rate
 * (table 3), the 244 us update-in-progress window, SET and a guest-set
 * time, a fixed -rtc base, the checksum, save -> load -> compare.
 *
 * The clock is an instruction-counting virtual clock driven by the test
 * (1 "instruction" = 1 ns), so every instant is exact.
 */
#include <stdlib.h>

#include "devices/cmos_rtc.h"
#include "base/clock.h"
#include "base/snapshot.h"
#include "tests/test.h"

static uint64_t fake_ns;
static uint64_t fake_count(void *opaque) { return fake_ns; }

static int irq_high, irq_raises;
static void t_raise(void *opaque, int irq) { irq_high = 1; irq_raises++; }
static void t_lower(void *opaque, int irq) { irq_high = 0; }

static struct vclock clk;
static struct cmos_rtc rtc;

/* 2024-02-29T23:59:58 UTC, worked out by hand: 19782 days from 1970-01-01
   to 2024-02-29 (54 years, 13 leap days: 54*365 + 13 = 19723, + 59 days of
   2024 before Feb 29 = 19782), then 86398 s. */
#define LEAP_EVE 1709251198ll

static void setup_at(int64_t fixed)
{
    fake_ns = 0;
    irq_high = irq_raises = 0;
    vclock_init(&clk, true, 0);
    vclock_set_counter(&clk, fake_count, NULL);
    struct rtc_base b = { .kind = RTC_BASE_FIXED, .fixed = fixed };
    cmos_rtc_init(&rtc, &clk, (struct irq_line){ t_raise, t_lower, NULL, 8 }, &b, 128u << 20);
}

static void advance(uint64_t ns)
{
    fake_ns += ns;
    vclock_run_timers(&clk);
}

static uint8_t rd(uint8_t index)
{
    cmos_rtc_ops.write(&rtc, 0, index, 1);
    return (uint8_t)cmos_rtc_ops.read(&rtc, 1, 1);
}

static void wr(uint8_t index, uint8_t v)
{
    cmos_rtc_ops.write(&rtc, 0, index, 1);
    cmos_rtc_ops.write(&rtc, 1, v, 1);
}

TEST(fixed_base_bcd_24h)
{
    setup_at(LEAP_EVE);
    CHECK_EQ(rd(RTC_SECONDS), 0x58);
    CHECK_EQ(rd(RTC_MINUTES), 0x59);
    CHECK_EQ(rd(RTC_HOURS), 0x23);
    CHECK_EQ(rd(RTC_DATE), 0x29);
    CHECK_EQ(rd(RTC_MONTH), 0x02);
    CHECK_EQ(rd(RTC_YEAR), 0x24);
    CHECK_EQ(rd(CMOS_CENTURY), 0x20);
    CHECK_EQ(rd(RTC_DAY_OF_WEEK), 5);   /* 2024-02-29 was a Thursday: Sunday = 1 */
    /* Two seconds later: midnight of March 1st (2024 is a leap year). */
    advance(2000000000ull);
    CHECK_EQ(rd(RTC_SECONDS), 0x00);
    CHECK_EQ(rd(RTC_HOURS), 0x00);
    CHECK_EQ(rd(RTC_DATE), 0x01);
    CHECK_EQ(rd(RTC_MONTH), 0x03);
    CHECK_EQ(rd(RTC_DAY_OF_WEEK), 6);
    CHECK_EQ(rd(RTC_REG_D), RTC_D_VRT);
}

TEST(binary_mode)
{
    setup_at(LEAP_EVE);
    wr(RTC_REG_B, RTC_B_24H | RTC_B_DM);
    CHECK_EQ(rd(RTC_SECONDS), 58);
    CHECK_EQ(rd(RTC_MINUTES), 59);
    CHECK_EQ(rd(RTC_HOURS), 23);
    CHECK_EQ(rd(RTC_DATE), 29);
    CHECK_EQ(rd(RTC_YEAR), 24);
    CHECK_EQ(rd(CMOS_CENTURY), 20);
}

TEST(twelve_hour_pm_bit)
{
    setup_at(LEAP_EVE);
    wr(RTC_REG_B, 0);                        /* BCD, 12-hour */
    CHECK_EQ(rd(RTC_HOURS), 0x80 | 0x11);    /* 23h = 11 PM */
    wr(RTC_REG_B, RTC_B_DM);                 /* binary, 12-hour */
    CHECK_EQ(rd(RTC_HOURS), 0x80 | 11);
    advance(2000000000ull);                  /* 00:00:00 = 12 AM */
    CHECK_EQ(rd(RTC_HOURS), 12);
    wr(RTC_REG_B, 0);                        /* BCD, 12-hour: 12 AM = 0x12 */
    CHECK_EQ(rd(RTC_HOURS), 0x12);
    /* Noon: set the time under SET in 12-hour BCD, 12 PM = 0x92. */
    wr(RTC_REG_B, RTC_B_SET);
    wr(RTC_HOURS, 0x92);
    wr(RTC_MINUTES, 0x30);
    wr(RTC_REG_B, 0);
    wr(RTC_REG_B, RTC_B_24H);
    CHECK_EQ(rd(RTC_HOURS), 0x12);
    CHECK_EQ(rd(RTC_MINUTES), 0x30);
}

TEST(register_c_cleared_by_read)
{
    setup_at(LEAP_EVE);
    wr(RTC_REG_B, RTC_B_24H | RTC_B_UIE);
    advance(1000000000ull);   /* one update */
    CHECK(irq_high);
    uint8_t c = rd(RTC_REG_C);
    CHECK_EQ(c & (RTC_C_IRQF | RTC_C_UF), RTC_C_IRQF | RTC_C_UF);
    CHECK(!irq_high);
    CHECK_EQ(rd(RTC_REG_C) & (RTC_C_IRQF | RTC_C_UF), 0);
    /* UF is set at updates whatever UIE says, but IRQF only with UIE. */
    wr(RTC_REG_B, RTC_B_24H);
    advance(1000000000ull);
    c = rd(RTC_REG_C);
    CHECK_EQ(c & RTC_C_UF, RTC_C_UF);
    CHECK_EQ(c & RTC_C_IRQF, 0);
}

TEST(periodic_rate)
{
    setup_at(LEAP_EVE);
    /* Rate 6: 976.5625 us (1024 Hz), table 3.  Rate 15: 500 ms. */
    wr(RTC_REG_A, RTC_A_DV_32K | 6);
    wr(RTC_REG_B, RTC_B_24H | RTC_B_PIE);
    rd(RTC_REG_C);
    advance(976000);          /* just before the first edge */
    CHECK(!irq_high);
    advance(1000);            /* 977 us: past 976.5625 us */
    CHECK(irq_high);
    CHECK_EQ(rd(RTC_REG_C) & (RTC_C_PF | RTC_C_IRQF), RTC_C_PF | RTC_C_IRQF);
    /* Count edges over 1 s of 1 ms steps at 1024 Hz: 1024 of them, each
       seen as a raise of the pin between reads. */
    int edges = 0;
    for (int i = 0; i < 4096; i++) {
        advance(244140);      /* quarter of a period, 4 steps per edge; exact on average */
        if (rd(RTC_REG_C) & RTC_C_PF) edges++;
    }
    /* 4096 * 244140 ns = 0.99999744 s from 977 us: 1023 or 1024 edges. */
    CHECK(edges >= 1023 && edges <= 1024);
    wr(RTC_REG_A, RTC_A_DV_32K | 15);
    rd(RTC_REG_C);
    advance(250000000ull);
    int pf_quarter = rd(RTC_REG_C) & RTC_C_PF;
    advance(300000000ull);
    int pf_later = rd(RTC_REG_C) & RTC_C_PF;
    CHECK(!pf_quarter || !pf_later);   /* at 2 Hz at most one of two 0.25/0.3 s windows sees an edge */
    CHECK(pf_quarter || pf_later);
}

TEST(uip_window)
{
    setup_at(LEAP_EVE);
    /* The update is at each whole second of RTC time: here at 1 s. */
    advance(1000000000ull - 244000 - 1);
    CHECK_EQ(rd(RTC_REG_A) & RTC_A_UIP, 0);       /* 244.001 us before: clear */
    advance(2);
    CHECK_EQ(rd(RTC_REG_A) & RTC_A_UIP, RTC_A_UIP); /* 243.999 us before: set */
    CHECK_EQ(rd(RTC_SECONDS), 0x58);
    advance(244000);
    CHECK_EQ(rd(RTC_REG_A) & RTC_A_UIP, 0);       /* the update happened */
    CHECK_EQ(rd(RTC_SECONDS), 0x59);
    /* SET stops updates: no UIP. */
    wr(RTC_REG_B, RTC_B_SET | RTC_B_24H);
    advance(1000000000ull - 100000);
    CHECK_EQ(rd(RTC_REG_A) & RTC_A_UIP, 0);
}

TEST(set_moves_the_base)
{
    setup_at(LEAP_EVE);
    wr(RTC_REG_B, RTC_B_SET | RTC_B_24H);
    wr(RTC_YEAR, 0x99);
    wr(CMOS_CENTURY, 0x19);
    wr(RTC_MONTH, 0x12);
    wr(RTC_DATE, 0x31);
    wr(RTC_HOURS, 0x23);
    wr(RTC_MINUTES, 0x59);
    wr(RTC_SECONDS, 0x59);
    advance(5000000000ull);   /* held while SET */
    CHECK_EQ(rd(RTC_SECONDS), 0x59);
    wr(RTC_REG_B, RTC_B_24H);
    advance(1000000000ull);
    CHECK_EQ(rd(RTC_YEAR), 0x00);
    CHECK_EQ(rd(CMOS_CENTURY), 0x20);
    CHECK_EQ(rd(RTC_MONTH), 0x01);
    CHECK_EQ(rd(RTC_DATE), 0x01);
    CHECK_EQ(rd(RTC_SECONDS), 0x00);
    CHECK_EQ(cmos_rtc_time(&rtc), 946684800);   /* 2000-01-01T00:00:00Z */
}

TEST(alarm_interrupt)
{
    setup_at(LEAP_EVE);
    wr(RTC_SECONDS_ALARM, 0x00);
    wr(RTC_MINUTES_ALARM, 0x00);
    wr(RTC_HOURS_ALARM, RTC_ALARM_DONT_CARE);   /* any hour */
    wr(RTC_REG_B, RTC_B_24H | RTC_B_AIE);
    advance(1000000000ull);   /* 23:59:59 */
    CHECK(!irq_high);
    advance(1000000000ull);   /* 00:00:00 */
    CHECK(irq_high);
    CHECK_EQ(rd(RTC_REG_C) & (RTC_C_AF | RTC_C_IRQF), RTC_C_AF | RTC_C_IRQF);
}

TEST(nvram_layout_and_checksum)
{
    setup_at(LEAP_EVE);
    CHECK_EQ(rd(CMOS_BASE_MEM_LO) | rd(CMOS_BASE_MEM_HI) << 8, 640);
    /* 128 MiB: 127 MiB above 1 MiB = 130048 KiB, capped at 0xFFFF;
       112 MiB above 16 MiB = 1792 units of 64 KiB. */
    CHECK_EQ(rd(CMOS_EXT_MEM_LO) | rd(CMOS_EXT_MEM_HI) << 8, 0xFFFF);
    CHECK_EQ(rd(CMOS_EXT_MEM2_LO) | rd(CMOS_EXT_MEM2_HI) << 8, 0xFFFF);
    CHECK_EQ(rd(CMOS_HIGH_MEM_LO) | rd(CMOS_HIGH_MEM_HI) << 8, 1792);
    unsigned sum = 0;
    for (int i = 0x10; i <= 0x2D; i++) sum += rd((uint8_t)i);
    CHECK_EQ(rd(CMOS_CHECKSUM_HI) << 8 | rd(CMOS_CHECKSUM_LO), sum);
    cmos_rtc_set_nvram(&rtc, CMOS_FLOPPY_TYPES, 0x40);   /* A: 1.44 MB */
    CHECK_EQ(rd(CMOS_CHECKSUM_HI) << 8 | rd(CMOS_CHECKSUM_LO), sum + 0x40);
    /* Port 0x70 bit 7: NMI disable, the index is bits 0-6. */
    cmos_rtc_ops.write(&rtc, 0, 0x80 | CMOS_BASE_MEM_LO, 1);
    CHECK_EQ(cmos_rtc_ops.read(&rtc, 1, 1), 640 & 0xFF);
    CHECK(rtc.s.nmi_disabled);
}

TEST(small_memory_extended)
{
    fake_ns = 0;
    vclock_init(&clk, true, 0);
    vclock_set_counter(&clk, fake_count, NULL);
    cmos_rtc_init(&rtc, &clk, (struct irq_line){ 0 }, NULL, 8u << 20);
    CHECK_EQ(rd(CMOS_EXT_MEM_LO) | rd(CMOS_EXT_MEM_HI) << 8, 7 * 1024);
    CHECK_EQ(rd(CMOS_HIGH_MEM_LO) | rd(CMOS_HIGH_MEM_HI) << 8, 0);
}

TEST(rtc_option_parsing)
{
    struct rtc_base b;
    char why[160];
    CHECK_EQ(rtc_parse_option("base=2024-02-29T23:59:58", &b, why, sizeof why), 0);
    CHECK_EQ(b.kind, RTC_BASE_FIXED);
    CHECK_EQ(b.fixed, LEAP_EVE);
    CHECK_EQ(rtc_parse_option("base=2000-01-01,clock=vm", &b, why, sizeof why), 0);
    CHECK_EQ(b.fixed, 946684800);
    CHECK_EQ(rtc_parse_option("base=localtime", &b, why, sizeof why), 0);
    CHECK_EQ(b.kind, RTC_BASE_LOCALTIME);
    CHECK(rtc_parse_option("clock=host", &b, why, sizeof why) < 0);
    CHECK(rtc_parse_option("base=2023-02-29", &b, why, sizeof why) < 0);   /* not a leap year */
    CHECK(rtc_parse_option("base=yesterday", &b, why, sizeof why) < 0);
    CHECK(rtc_parse_option("driftfix=slew", &b, why, sizeof why) < 0);
}

TEST(save_load_compare)
{
    setup_at(LEAP_EVE);
    wr(RTC_REG_B, RTC_B_24H | RTC_B_DM | RTC_B_UIE);
    wr(0x40, 0xA5);
    advance(1500000000ull);
    struct snapshot snap;
    snapshot_init(&snap);
    CHECK_EQ(cmos_rtc_save(&rtc, &snap), 0);
    struct cmos_rtc_state saved = rtc.s;
    /* Change everything, then load. */
    wr(0x40, 0x00);
    wr(RTC_REG_B, RTC_B_24H);
    rd(RTC_REG_C);
    CHECK_EQ(cmos_rtc_load(&rtc, &snap, &(struct snapshot_check){ .apply = true }), 0);
    CHECK(memcmp(&rtc.s, &saved, sizeof saved) == 0);
    CHECK_EQ(rd(0x40), 0xA5);
    CHECK_EQ(rd(RTC_SECONDS), 59);   /* binary again, 1.5 s after 23:59:58 */
    snapshot_free(&snap);
    cmos_rtc_destroy(&rtc);
}

TEST_MAIN()
