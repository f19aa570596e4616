/*
 * cmos_rtc.c - the MC146818A real-time clock and CMOS RAM (see cmos_rtc.h).
 *
 * One number holds the time: the RTC's nanoseconds since 1970-01-01
 * 00:00:00, base_ns + the virtual clock while the divider runs.  The time
 * registers are computed from it when read, in the format register B asks
 * for (BCD or binary, 12 or 24 hours, daylight saving).  Worked example,
 * with base 2024-02-29T23:59:58 and BCD, 24-hour mode: at virtual time
 * 2.5 s the clock reads 2024-03-01 00:00:00, so register 0x07 reads 0x01
 * and register 0x08 reads 0x03; register A reads UIP = 1 from 3.499756 s
 * to 3.5 s, when the seconds become 0x01 and UF is set.
 *
 * The flags (UF, AF, PF) are brought up to date lazily, when register C is
 * read or a register changes ("catch up"); a timer runs only while an
 * enabled interrupt needs the IRQ pin raised on time.  A machine that never
 * enables an RTC interrupt so has no RTC timer, and a CPU halted for good
 * is still seen as stuck.
 */
#include "devices/cmos_rtc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/snapshot.h"

#define NS_PER_SEC        1000000000ll
#define RTC_TBUC_NS       244000ll     /* UIP is set this long before an update (t_BUC) */
#define RTC_TICKS_PER_SEC 32768ll      /* the 32.768 kHz time base */
#define RTC_START_DELAY_NS 500000000ll /* divider out of reset: first update 500 ms later */

/* ---- calendar arithmetic (proleptic Gregorian) ----------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static bool leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
    static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return days[m - 1] + (m == 2 && leap_year(y));
}

/* Leap years in [1, y]. */
static int64_t leaps_through(int64_t y)
{
    return floor_div(y, 4) - floor_div(y, 100) + floor_div(y, 400);
}

/* Days from 1970-01-01 to y-m-01 (m 1..12), then 'd - 1' more days. */
static int64_t days_from_date(int64_t y, int m, int64_t d)
{
    int64_t days = 365 * (y - 1970) + leaps_through(y - 1) - leaps_through(1969);
    for (int k = 1; k < m; k++) days += month_days(y, k);
    return days + d - 1;
}

struct rtc_time {
    int64_t year;
    int month, day, hour, minute, second;
    int weekday;             /* 1 = Sunday ... 7 = Saturday (the MC146818A's numbering) */
};

static void date_from_seconds(int64_t t, struct rtc_time *out)
{
    int64_t days = floor_div(t, 86400);
    int64_t rest = t - days * 86400;
    out->hour = (int)(rest / 3600);
    out->minute = (int)(rest / 60 % 60);
    out->second = (int)(rest % 60);
    out->weekday = (int)((days % 7 + 7 + 4) % 7) + 1;   /* 1970-01-01 was a Thursday (5) */
    int64_t y = 1970 + floor_div(days, 366);
    while (days_from_date(y + 1, 1, 1) <= days) y++;
    while (days_from_date(y, 1, 1) > days) y--;
    int m = 1;
    while (m < 12 && days_from_date(y, m + 1, 1) <= days) m++;
    out->year = y;
    out->month = m;
    out->day = (int)(days - days_from_date(y, m, 1)) + 1;
}

/* The last Sunday of month m, as days since 1970. */
static int64_t last_sunday(int64_t y, int m)
{
    int64_t last = days_from_date(y, m, month_days(y, m));
    struct rtc_time t;
    date_from_seconds(last * 86400, &t);
    return last - (t.weekday - 1);
}

/*
 * Daylight saving (register B DSE, MC146818A "Daylight savings enable"):
 * the last Sunday in April 1:59:59 AM is followed by 3:00:00 AM, and the
 * last Sunday in October, the first time 1:59:59 AM is reached, by
 * 1:00:00 AM.  In standard time: summer time runs from April's last
 * Sunday 02:00:00 to October's last Sunday 01:00:00.
 */
static bool in_summer_time(int64_t standard)
{
    struct rtc_time t;
    date_from_seconds(standard, &t);
    int64_t start = last_sunday(t.year, 4) * 86400 + 2 * 3600;
    int64_t end = last_sunday(t.year, 10) * 86400 + 1 * 3600;
    return standard >= start && standard < end;
}

/* ---- -rtc ------------------------------------------------------------ */

static bool parse_fixed_date(const char *s, size_t len, int64_t *out)
{
    char buf[32];
    unsigned y, mo, d, h = 0, mi = 0, sec = 0;
    int n = 0;
    if (len >= sizeof buf) return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (sscanf(buf, "%4u-%2u-%2uT%2u:%2u:%2u%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6 && (size_t)n == len) {
        /* date and time */
    } else if (n = 0, sscanf(buf, "%4u-%2u-%2u%n", &y, &mo, &d, &n) == 3 && (size_t)n == len) {
        h = mi = sec = 0;
    } else {
        return false;
    }
    if (y < 1970 || y > 2199 || mo < 1 || mo > 12 || d < 1 || (int)d > month_days(y, (int)mo) ||
        h > 23 || mi > 59 || sec > 59)
        return false;
    *out = days_from_date(y, (int)mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return true;
}

int rtc_parse_option(const char *arg, struct rtc_base *out, char *why_buf, size_t why_len)
{
    struct rtc_base b = { .kind = RTC_BASE_UTC };
    const char *p = arg;

    while (*p) {
        size_t len = strcspn(p, ",");
        if (len > 5 && strncmp(p, "base=", 5) == 0) {
            const char *v = p + 5;
            size_t vlen = len - 5;
            if (vlen == 3 && strncmp(v, "utc", 3) == 0) b.kind = RTC_BASE_UTC;
            else if (vlen == 9 && strncmp(v, "localtime", 9) == 0) b.kind = RTC_BASE_LOCALTIME;
            else if (parse_fixed_date(v, vlen, &b.fixed)) b.kind = RTC_BASE_FIXED;
            else {
                snprintf(why_buf, why_len, "-rtc %s: bad base '%.*s' (use utc, localtime, "
                         "YYYY-MM-DDTHH:MM:SS or YYYY-MM-DD, years 1970-2199)", arg, (int)vlen, v);
                return -EINVAL;
            }
        } else if (len == 8 && strncmp(p, "clock=vm", 8) == 0) {
            /* the virtual clock: what trapeze always does */
        } else if (len > 6 && strncmp(p, "clock=", 6) == 0) {
            snprintf(why_buf, why_len, "-rtc %s: clock=%.*s is not supported: the RTC always follows "
                     "the virtual clock (clock=vm)", arg, (int)(len - 6), p + 6);
            return -EINVAL;
        } else {
            snprintf(why_buf, why_len, "-rtc %s: unknown property '%.*s' (trapeze takes base= and clock=vm)",
                     arg, (int)len, p);
            return -EINVAL;
        }
        p += len;
        if (*p == ',') p++;
    }
    *out = b;
    return 0;
}

/* ---- the registers --------------------------------------------------- */

static bool rtc_binary(const struct cmos_rtc *r) { return r->s.cmos[RTC_REG_B] & RTC_B_DM; }

static uint8_t encode(const struct cmos_rtc *r, int v)
{
    return rtc_binary(r) ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}

static int decode(const struct cmos_rtc *r, uint8_t v)
{
    return rtc_binary(r) ? v : (v >> 4) * 10 + (v & 0x0F);
}

static uint8_t encode_hours(const struct cmos_rtc *r, int hour)
{
    if (r->s.cmos[RTC_REG_B] & RTC_B_24H) return encode(r, hour);
    int h12 = hour % 12 == 0 ? 12 : hour % 12;
    return (uint8_t)(encode(r, h12) | (hour >= 12 ? RTC_HOURS_PM : 0));
}

static int decode_hours(const struct cmos_rtc *r, uint8_t v)
{
    if (r->s.cmos[RTC_REG_B] & RTC_B_24H) return decode(r, v);
    int h = decode(r, v & (uint8_t)~RTC_HOURS_PM) % 12;
    return h + ((v & RTC_HOURS_PM) ? 12 : 0);
}

/* The RTC's time in ns at virtual time v. */
static int64_t rtc_ns_at(const struct cmos_rtc *r, uint64_t v)
{
    return r->s.running ? r->s.base_ns + (int64_t)v : r->s.held_ns;
}

/* The second the registers show for RTC time t_ns (daylight saving applied). */
static int64_t shown_seconds(const struct cmos_rtc *r, int64_t t_ns)
{
    int64_t t = floor_div(t_ns, NS_PER_SEC);
    if ((r->s.cmos[RTC_REG_B] & RTC_B_DSE) && in_summer_time(t)) t += 3600;
    return t;
}

/* Fill the time registers from the shown second 't'. */
static void registers_from_seconds(struct cmos_rtc *r, int64_t t)
{
    struct rtc_time tm;
    date_from_seconds(t, &tm);
    uint8_t *c = r->s.cmos;
    c[RTC_SECONDS] = encode(r, tm.second);
    c[RTC_MINUTES] = encode(r, tm.minute);
    c[RTC_HOURS] = encode_hours(r, tm.hour);
    c[RTC_DAY_OF_WEEK] = encode(r, (tm.weekday - 1 + r->s.dow_offset + 7) % 7 + 1);
    c[RTC_DATE] = encode(r, tm.day);
    c[RTC_MONTH] = encode(r, tm.month);
    c[RTC_YEAR] = encode(r, (int)(tm.year % 100));
    c[CMOS_CENTURY] = encode(r, (int)(tm.year / 100));
}

/*
 * The standard-time second the time registers say (guest-written values
 * included).  Out-of-range values roll over as the day arithmetic gives
 * (month 13 is clamped to 12, day 0 is the last of the month before,
 * years to 1970-2199):
 * garbage in, some time out, never a crash.
 */
static int64_t seconds_from_registers(const struct cmos_rtc *r, int *weekday_written)
{
    const uint8_t *c = r->s.cmos;
    int64_t year = decode(r, c[CMOS_CENTURY]) * 100 + decode(r, c[RTC_YEAR]);
    /* The time is kept in 64-bit nanoseconds: years 1970-2199 (a century
       byte outside 19-21 is taken as the nearest end of that range). */
    if (year < 1970) year = 1970;
    if (year > 2199) year = 2199;
    int month = decode(r, c[RTC_MONTH]);
    if (month < 1) month = 1;
    if (month > 12) month = 12;
    int64_t t = days_from_date(year, month, decode(r, c[RTC_DATE])) * 86400 +
                decode_hours(r, c[RTC_HOURS]) * 3600 + decode(r, c[RTC_MINUTES]) * 60 +
                decode(r, c[RTC_SECONDS]);
    if ((r->s.cmos[RTC_REG_B] & RTC_B_DSE) && in_summer_time(t - 3600)) t -= 3600;
    *weekday_written = decode(r, c[RTC_DAY_OF_WEEK]);
    return t;
}

/* ---- update cycle, alarm, periodic interrupt ------------------------- */

static bool alarm_byte_matches(uint8_t alarm, uint8_t value)
{
    return (alarm & RTC_ALARM_DONT_CARE) == RTC_ALARM_DONT_CARE || alarm == value;
}

/* Whether the alarm fires at the update that shows second 't'. */
static bool alarm_matches(const struct cmos_rtc *r, int64_t t)
{
    struct rtc_time tm;
    date_from_seconds(t, &tm);
    const uint8_t *c = r->s.cmos;
    return alarm_byte_matches(c[RTC_SECONDS_ALARM], encode(r, tm.second)) &&
           alarm_byte_matches(c[RTC_MINUTES_ALARM], encode(r, tm.minute)) &&
           alarm_byte_matches(c[RTC_HOURS_ALARM], encode_hours(r, tm.hour));
}

/* The periodic interrupt's period in 32.768 kHz ticks (table 3), 0 = off. */
static int64_t periodic_ticks(const struct cmos_rtc *r)
{
    unsigned rs = r->s.cmos[RTC_REG_A] & RTC_A_RS;
    if (rs == 0) return 0;
    if (rs <= 2) return 1ll << (rs + 6);    /* 1, 2: 256 Hz and 128 Hz, as 8 and 9 */
    return 1ll << (rs - 1);                 /* 3: 8192 Hz (122.070 us) ... 15: 2 Hz */
}

/* The first periodic edge after RTC time t_ns; edges line up with the seconds. */
static int64_t next_periodic_edge(int64_t t_ns, int64_t period)
{
    int64_t sec = floor_div(t_ns, NS_PER_SEC);
    int64_t sub = t_ns - sec * NS_PER_SEC;
    int64_t tick = sub * RTC_TICKS_PER_SEC / NS_PER_SEC;
    int64_t next = (tick / period + 1) * period;
    return sec * NS_PER_SEC + (next * NS_PER_SEC + RTC_TICKS_PER_SEC - 1) / RTC_TICKS_PER_SEC;
}

static void update_irq(struct cmos_rtc *r)
{
    uint8_t b = r->s.cmos[RTC_REG_B], c = r->s.cmos[RTC_REG_C];
    bool irqf = ((c & RTC_C_PF) && (b & RTC_B_PIE)) || ((c & RTC_C_AF) && (b & RTC_B_AIE)) ||
                ((c & RTC_C_UF) && (b & RTC_B_UIE));
    if (irqf) r->s.cmos[RTC_REG_C] |= RTC_C_IRQF;
    else r->s.cmos[RTC_REG_C] &= (uint8_t)~RTC_C_IRQF;
    irq_line_set(&r->irq, irqf);
}

/* Set the flags for everything that happened from 'accounted' to 'now'. */
static void catch_up(struct cmos_rtc *r, uint64_t now)
{
    struct cmos_rtc_state *s = &r->s;
    if (now <= s->accounted) return;
    if (s->running) {
        int64_t from = rtc_ns_at(r, s->accounted), to = rtc_ns_at(r, now);
        int64_t period = periodic_ticks(r);
        if (period && next_periodic_edge(from, period) <= to)
            s->cmos[RTC_REG_C] |= RTC_C_PF;
        if (!(s->cmos[RTC_REG_B] & RTC_B_SET)) {
            /* Updates at the second boundaries in (from, to]. */
            int64_t first = floor_div(from, NS_PER_SEC) + 1, last = floor_div(to, NS_PER_SEC);
            if (first <= last) {
                s->cmos[RTC_REG_C] |= RTC_C_UF;
                /* Any alarm pattern recurs within a day: look at the last day's updates at most. */
                if (last - first > 86400) first = last - 86400;
                for (int64_t sec = first; sec <= last && !(s->cmos[RTC_REG_C] & RTC_C_AF); sec++) {
                    int64_t shown = shown_seconds(r, sec * NS_PER_SEC);
                    if (alarm_matches(r, shown)) s->cmos[RTC_REG_C] |= RTC_C_AF;
                }
            }
        }
    }
    s->accounted = now;
    update_irq(r);
}

/* Arm the timer for the next event an enabled interrupt needs, after 'accounted'. */
static void arm_timer(struct cmos_rtc *r)
{
    struct cmos_rtc_state *s = &r->s;
    uint8_t b = s->cmos[RTC_REG_B];
    int64_t best = INT64_MAX;
    if (s->running) {
        int64_t from = rtc_ns_at(r, s->accounted);
        int64_t period = periodic_ticks(r);
        if ((b & RTC_B_PIE) && period)
            best = next_periodic_edge(from, period);
        if (!(b & RTC_B_SET) && (b & (RTC_B_UIE | RTC_B_AIE))) {
            int64_t boundary = (floor_div(from, NS_PER_SEC) + 1) * NS_PER_SEC;
            if (boundary < best) best = boundary;
        }
    }
    if (best == INT64_MAX) {
        vtimer_cancel(&r->timer);
        return;
    }
    int64_t v = best - s->base_ns;
    vtimer_arm(&r->timer, v < 0 ? 0 : (uint64_t)v);
}

static void rtc_timer_fire(void *opaque, uint64_t now)
{
    struct cmos_rtc *r = opaque;
    catch_up(r, now);
    arm_timer(r);
}

/* The time registers were set: the clock now shows them, the fraction of a second kept. */
static void apply_time_registers(struct cmos_rtc *r, uint64_t now)
{
    struct cmos_rtc_state *s = &r->s;
    int weekday_written;
    int64_t t = seconds_from_registers(r, &weekday_written);
    int64_t old = rtc_ns_at(r, now);
    int64_t fraction = old - floor_div(old, NS_PER_SEC) * NS_PER_SEC;
    int64_t t_ns = t * NS_PER_SEC + fraction;
    if (s->running) s->base_ns = t_ns - (int64_t)now;
    else s->held_ns = t_ns;
    struct rtc_time tm;
    date_from_seconds(t, &tm);
    s->dow_offset = (int8_t)(((weekday_written - tm.weekday) % 7 + 7) % 7);
    s->accounted = now;
}

static bool is_time_register(uint8_t index)
{
    return index == RTC_SECONDS || index == RTC_MINUTES || index == RTC_HOURS ||
           (index >= RTC_DAY_OF_WEEK && index <= RTC_YEAR) || index == CMOS_CENTURY;
}

static uint8_t rtc_read_register(struct cmos_rtc *r, uint8_t index)
{
    struct cmos_rtc_state *s = &r->s;
    uint64_t now = vclock_now(r->clock);
    bool set = s->cmos[RTC_REG_B] & RTC_B_SET;

    if (is_time_register(index)) {
        if (!set)
            registers_from_seconds(r, shown_seconds(r, rtc_ns_at(r, now)));
        return s->cmos[index];
    }
    switch (index) {
    case RTC_REG_A: {
        uint8_t a = s->cmos[RTC_REG_A] & (uint8_t)~RTC_A_UIP;
        if (s->running && !set) {
            int64_t t = rtc_ns_at(r, now);
            int64_t to_update = (floor_div(t, NS_PER_SEC) + 1) * NS_PER_SEC - t;
            if (to_update <= RTC_TBUC_NS) a |= RTC_A_UIP;
        }
        return a;
    }
    case RTC_REG_C: {
        catch_up(r, now);
        uint8_t c = s->cmos[RTC_REG_C];
        s->cmos[RTC_REG_C] = 0;   /* all flags clear when read; the IRQ pin drops */
        update_irq(r);
        arm_timer(r);
        return c;
    }
    case RTC_REG_D:
        return RTC_D_VRT;
    default:
        return s->cmos[index];
    }
}

static void rtc_write_register(struct cmos_rtc *r, uint8_t index, uint8_t value)
{
    struct cmos_rtc_state *s = &r->s;
    uint64_t now = vclock_now(r->clock);
    bool set = s->cmos[RTC_REG_B] & RTC_B_SET;

    if (is_time_register(index)) {
        catch_up(r, now);
        if (!set)   /* the other registers keep what they show now */
            registers_from_seconds(r, shown_seconds(r, rtc_ns_at(r, now)));
        s->cmos[index] = value;
        if (!set) apply_time_registers(r, now);
        arm_timer(r);
        return;
    }
    switch (index) {
    case RTC_REG_A: {
        catch_up(r, now);
        bool run = (value & RTC_A_DV) == RTC_A_DV_32K;
        if (run && !s->running) {
            /* Out of divider reset: the first update comes 500 ms later. */
            int64_t start = floor_div(s->held_ns, NS_PER_SEC) * NS_PER_SEC + RTC_START_DELAY_NS;
            s->base_ns = start - (int64_t)now;
            s->running = 1;
        } else if (!run && s->running) {
            /* Divider reset, or a time base other than the PC's 32.768 kHz crystal: stopped. */
            s->held_ns = rtc_ns_at(r, now);
            s->running = 0;
        }
        s->cmos[RTC_REG_A] = value & (uint8_t)~RTC_A_UIP;   /* UIP is read only */
        arm_timer(r);
        return;
    }
    case RTC_REG_B: {
        catch_up(r, now);
        bool new_set = value & RTC_B_SET;
        if (new_set && !set) {
            /* Freeze what the registers show; SET also clears UIE. */
            registers_from_seconds(r, shown_seconds(r, rtc_ns_at(r, now)));
            value &= (uint8_t)~RTC_B_UIE;
        }
        if (new_set) value &= (uint8_t)~RTC_B_UIE;
        s->cmos[RTC_REG_B] = value;
        if (!new_set && set)
            apply_time_registers(r, now);   /* the guest's time, in the (new) format */
        update_irq(r);
        arm_timer(r);
        return;
    }
    case RTC_REG_C:
    case RTC_REG_D:
        return;   /* read only */
    default:
        s->cmos[index] = value;   /* alarms and RAM */
        if (index == RTC_SECONDS_ALARM || index == RTC_MINUTES_ALARM || index == RTC_HOURS_ALARM)
            catch_up(r, now);
        return;
    }
}

static uint32_t cmos_read(void *opaque, uint32_t offset, unsigned size)
{
    struct cmos_rtc *r = opaque;
    if (offset == 0) return 0xFF;   /* the index port is write-only */
    return rtc_read_register(r, r->s.index);
}

static void cmos_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    struct cmos_rtc *r = opaque;
    if (offset == 0) {
        r->s.index = (uint8_t)(value & 0x7F);
        r->s.nmi_disabled = (value & CMOS_NMI_DISABLE) != 0;
        return;
    }
    rtc_write_register(r, r->s.index, (uint8_t)value);
}

const struct io_ops cmos_rtc_ops = { .read = cmos_read, .write = cmos_write };

/* ---- set-up ---------------------------------------------------------- */

static void update_checksum(struct cmos_rtc *r)
{
    unsigned sum = 0;
    for (int i = CMOS_FLOPPY_TYPES; i <= 0x2D; i++) sum += r->s.cmos[i];
    r->s.cmos[CMOS_CHECKSUM_HI] = (uint8_t)(sum >> 8);
    r->s.cmos[CMOS_CHECKSUM_LO] = (uint8_t)sum;
}

void cmos_rtc_set_nvram(struct cmos_rtc *r, uint8_t index, uint8_t value)
{
    if (index < CMOS_DIAGNOSTIC || index >= CMOS_SIZE) return;
    r->s.cmos[index] = value;
    update_checksum(r);
}

static int64_t base_seconds(const struct rtc_base *base)
{
    if (base && base->kind == RTC_BASE_FIXED) return base->fixed;
    time_t now = time(NULL);
    if (base && base->kind == RTC_BASE_LOCALTIME) {
        struct tm tm;
        if (localtime_r(&now, &tm)) return (int64_t)now + tm.tm_gmtoff;
    }
    return (int64_t)now;
}

void cmos_rtc_init(struct cmos_rtc *r, struct vclock *clock,
                   struct irq_line irq, const struct rtc_base *base, uint32_t ram_size)
{
    memset(r, 0, sizeof *r);
    r->clock = clock;
    r->irq = irq;
    vtimer_init(&r->timer, clock, "rtc", rtc_timer_fire, r);

    struct cmos_rtc_state *s = &r->s;
    uint64_t now = vclock_now(clock);
    s->running = 1;
    s->base_ns = base_seconds(base) * NS_PER_SEC - (int64_t)now;
    s->accounted = now;
    s->cmos[RTC_REG_A] = RTC_A_DV_32K | 0x06;   /* 32.768 kHz, 1024 Hz periodic rate */
    s->cmos[RTC_REG_B] = RTC_B_24H;             /* BCD, 24 hours, no interrupts */
    s->cmos[RTC_REG_D] = RTC_D_VRT;

    /* The RAM as a PC/AT POST leaves it (AT Tech Ref "CMOS RAM address map"). */
    uint32_t kib = ram_size >> 10;
    uint32_t ext = kib > 1024 ? kib - 1024 : 0;
    if (ext > 0xFFFF) ext = 0xFFFF;
    uint32_t high = ram_size > (16u << 20) ? (ram_size - (16u << 20)) >> 16 : 0;
    if (high > 0xFFFF) high = 0xFFFF;
    s->cmos[CMOS_BASE_MEM_LO] = 640 & 0xFF;
    s->cmos[CMOS_BASE_MEM_HI] = 640 >> 8;
    s->cmos[CMOS_EXT_MEM_LO] = s->cmos[CMOS_EXT_MEM2_LO] = (uint8_t)ext;
    s->cmos[CMOS_EXT_MEM_HI] = s->cmos[CMOS_EXT_MEM2_HI] = (uint8_t)(ext >> 8);
    s->cmos[CMOS_HIGH_MEM_LO] = (uint8_t)high;
    s->cmos[CMOS_HIGH_MEM_HI] = (uint8_t)(high >> 8);
    s->cmos[CMOS_FLOPPY_TYPES] = 0;   /* no drives until the disks are wired (cmos_rtc_set_nvram) */
    s->cmos[CMOS_DISK_TYPES] = 0;
    s->cmos[CMOS_EQUIPMENT] = 0;      /* no floppies, no coprocessor, EGA/VGA display (bits 4-5 = 00) */
    registers_from_seconds(r, shown_seconds(r, rtc_ns_at(r, now)));   /* incl. the century byte */
    update_checksum(r);
}

void cmos_rtc_reset(struct cmos_rtc *r)
{
    struct cmos_rtc_state *s = &r->s;
    catch_up(r, vclock_now(r->clock));
    s->cmos[RTC_REG_B] &= (uint8_t)~(RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE);
    s->cmos[RTC_REG_C] = 0;
    update_irq(r);
    arm_timer(r);
}

void cmos_rtc_destroy(struct cmos_rtc *r)
{
    vtimer_cancel(&r->timer);
}

int64_t cmos_rtc_time(struct cmos_rtc *r)
{
    return floor_div(rtc_ns_at(r, vclock_now(r->clock)), NS_PER_SEC);
}

/* ---- the board's registry -------------------------------------------- */

#define CMOS_SNAPSHOT_VERSION 1

int cmos_rtc_save(void *opaque, struct snapshot *snap)
{
    struct cmos_rtc *r = opaque;
    return snapshot_put(snap, "cmos", CMOS_SNAPSHOT_VERSION, &r->s, sizeof r->s);
}

int cmos_rtc_load(void *opaque, const struct snapshot *snap, struct snapshot_check *c)
{
    struct cmos_rtc *r = opaque;
    struct cmos_rtc_state st;
    /* The times stay within +-2^62 ns (146 years) of 1970 so that adding
       the virtual clock (itself below 2^62, "board") cannot overflow. */
    const int64_t limit = (int64_t)1 << 62;
    int err = snapshot_take(snap, "cmos", CMOS_SNAPSHOT_VERSION, &st, sizeof st, c);
    if (!err) err = snapshot_check_range(c, "cmos", "index", st.index, 0, CMOS_SIZE - 1);
    if (!err) err = snapshot_check_range(c, "cmos", "nmi_disabled", st.nmi_disabled, 0, 1);
    if (!err) err = snapshot_check_range(c, "cmos", "running", st.running, 0, 1);
    if (!err && (st.dow_offset < 0 || st.dow_offset > 6))
        err = snapshot_refuse(c, "cmos", "dow_offset", "%d is not 0-6", st.dow_offset);
    if (!err && (st.base_ns < -limit || st.base_ns > limit))
        err = snapshot_refuse(c, "cmos", "base_ns", "%lld is beyond 146 years from 1970", (long long)st.base_ns);
    if (!err && (st.held_ns < 0 || st.held_ns > limit))
        err = snapshot_refuse(c, "cmos", "held_ns", "%lld is before 1970 or beyond 146 years", (long long)st.held_ns);
    if (!err) err = snapshot_check_range(c, "cmos", "accounted", st.accounted, 0, (uint64_t)limit);
    if (err < 0 || !c->apply) return err;
    r->s = st;
    /* Deadlines follow from the saved state alone, not from the clock now
       (the board sets the clock after loading the devices). */
    irq_line_set(&r->irq, (r->s.cmos[RTC_REG_C] & RTC_C_IRQF) != 0);
    arm_timer(r);
    return 0;
}

void cmos_rtc_reset_device(void *opaque)
{
    cmos_rtc_reset(opaque);
}

void cmos_rtc_info(void *opaque, FILE *out)
{
    struct cmos_rtc *r = opaque;
    const struct cmos_rtc_state *s = &r->s;
    struct rtc_time tm;
    uint64_t now = vclock_now(r->clock);
    date_from_seconds(shown_seconds(r, rtc_ns_at(r, now)), &tm);
    uint8_t a = s->cmos[RTC_REG_A], b = s->cmos[RTC_REG_B], c = s->cmos[RTC_REG_C];
    fprintf(out, "MC146818A RTC/CMOS (ports 0x70, 0x71, IRQ 8)\n");
    fprintf(out, "  time %04lld-%02d-%02d %02d:%02d:%02d (%s)%s\n", (long long)tm.year, tm.month, tm.day,
            tm.hour, tm.minute, tm.second, s->running ? "running" : "stopped: divider reset",
            (b & RTC_B_SET) ? ", SET: registers hold the guest's values" : "");
    fprintf(out, "  A 0x%02x: DV %u%u%u, rate select %u\n", a, (a >> 6) & 1, (a >> 5) & 1, (a >> 4) & 1,
            a & RTC_A_RS);
    fprintf(out, "  B 0x%02x:%s%s%s%s%s %s %s%s\n", b, b & RTC_B_SET ? " SET" : "", b & RTC_B_PIE ? " PIE" : "",
            b & RTC_B_AIE ? " AIE" : "", b & RTC_B_UIE ? " UIE" : "", b & RTC_B_SQWE ? " SQWE" : "",
            b & RTC_B_DM ? "binary" : "BCD", b & RTC_B_24H ? "24-hour" : "12-hour", b & RTC_B_DSE ? " DSE" : "");
    fprintf(out, "  C 0x%02x:%s%s%s%s (as last brought up to date)\n", c, c & RTC_C_IRQF ? " IRQF" : "",
            c & RTC_C_PF ? " PF" : "", c & RTC_C_AF ? " AF" : "", c & RTC_C_UF ? " UF" : "");
    fprintf(out, "  D 0x%02x: VRT\n", RTC_D_VRT);
    fprintf(out, "  alarm %02x:%02x:%02x, index 0x%02x, NMI %s, checksum 0x%02x%02x\n",
            s->cmos[RTC_HOURS_ALARM], s->cmos[RTC_MINUTES_ALARM], s->cmos[RTC_SECONDS_ALARM], s->index,
            s->nmi_disabled ? "disabled" : "enabled", s->cmos[CMOS_CHECKSUM_HI], s->cmos[CMOS_CHECKSUM_LO]);
}

