/*
 * pit8254.c - the 8254 interval timer (see pit8254.h).
 *
 * "Data sheet" is the Intel 8254 Programmable Interval Timer data sheet
 * (231164), section "Modes" and figures 12-17 (the waveforms).
 *
 * Time: CLK ticks since the machine started, tick = floor(ns * 1193182 /
 * 1e9).  A counter is not decremented by anything: it remembers the CLK
 * at which CE was loaded with n (start_tick, t = 0) and computes CE and
 * OUT at any later tick t from the mode's waveform:
 *
 *   mode 0  OUT low, high from t = n on;          CE = n - t (wrapping)
 *   mode 1  after a GATE trigger: as mode 0, but OUT was high before
 *   mode 2  OUT low during t = n-1 (mod n), one CLK; CE = n - (t mod n)
 *   mode 3  OUT high for ceil(n/2) CLKs, low for floor(n/2); CE counts by 2
 *           (odd n: n-1 is loaded, the high half lasts one CLK longer)
 *   mode 4  OUT low during t = n, one CLK;        CE = n - t (wrapping)
 *   mode 5  as mode 4, after a GATE trigger
 *
 * A count written is moved into CE "on the next CLK pulse" (data sheet
 * "Operation"): start_tick = tick + 1.  Modes 2 and 3 take a new count at
 * the end of the current period / half-cycle (switch_*).  GATE low stops
 * counting in modes 0, 2, 3, 4 (2, 3 also force OUT high); a GATE rising
 * edge (re)starts modes 1, 2, 3, 5.
 *
 * IRQ0 follows OUT0 through a vtimer armed at OUT0's next edge.  The one-CLK
 * low pulses of modes 2, 4 and 5 (838 ns) are given to the PIC as a fall
 * and rise at the end of the pulse: an edge-triggered PIC sees the same.
 */
#include "devices/pit8254.h"

#include <errno.h>
#include <string.h>

#include "base/snapshot.h"

#define NS_PER_S 1000000000ull

uint64_t pit_tick_of_ns(uint64_t ns)
{
    /* Split so nothing overflows 64 bits: ns = q s + r ns. */
    uint64_t q = ns / NS_PER_S, r = ns % NS_PER_S;
    return q * PIT_HZ + r * PIT_HZ / NS_PER_S;
}

uint64_t pit_ns_of_tick(uint64_t tick)
{
    /* The first ns at which pit_tick_of_ns reaches 'tick' (rounded up). */
    uint64_t q = tick / PIT_HZ, r = tick % PIT_HZ;
    return q * NS_PER_S + (r * NS_PER_S + PIT_HZ - 1) / PIT_HZ;
}

static uint64_t pit_now_tick(struct pit8254 *p)
{
    return pit_tick_of_ns(vclock_now(p->clock));
}

static bool counter_bcd(const struct pit_counter *c) { return c->control & 1; }
static int counter_rw(const struct pit_counter *c) { return (c->control >> 4) & 3; }

/* The count CR holds, as a number of CLKs: 0 means 2^16 (binary) or 10^4
 * (BCD), data sheet "Counter ... maximum initial count". */
static uint32_t counter_initial(const struct pit_counter *c)
{
    uint32_t v = c->cr;
    if (counter_bcd(c))
        v = ((v >> 12) & 15) * 1000 + ((v >> 8) & 15) * 100 + ((v >> 4) & 15) * 10 + (v & 15);
    if (v == 0) v = counter_bcd(c) ? 10000 : 65536;
    return v;
}

static uint16_t counter_encode(const struct pit_counter *c, uint32_t v)
{
    if (!counter_bcd(c)) return (uint16_t)v;
    v %= 10000;
    return (uint16_t)(((v / 1000) << 12) | (((v / 100) % 10) << 8) | (((v / 10) % 10) << 4) | (v % 10));
}

/* A new count for modes 2 and 3 takes over at its switch tick. */
static void counter_catch_up(struct pit_counter *c, uint64_t tick)
{
    if (c->switch_pending && tick >= c->switch_tick) {
        c->switch_pending = false;
        c->n = c->next_n;
        c->start_tick = c->switch_tick;
        c->start_low = c->switch_start_low;
    }
}

/* t at 'tick', or -1 when CE has not been loaded yet. */
static int64_t counter_t(const struct pit_counter *c, uint64_t tick)
{
    if (c->paused) return (int64_t)c->paused_t;
    if (tick < c->start_tick) return -1;
    return (int64_t)(tick - c->start_tick);
}

static bool counter_running(const struct pit_counter *c)
{
    return c->loaded && (c->triggered || (c->mode != 1 && c->mode != 5));
}

struct counter_now { bool out; uint32_t ce; };

/* OUT and CE at 'tick' (after counter_catch_up). */
static struct counter_now counter_eval(const struct pit_counter *c, uint64_t tick)
{
    uint32_t m = counter_bcd(c) ? 10000 : 65536;
    struct counter_now r = { .out = c->mode != 0, .ce = c->ce_frozen };
    int64_t t = counter_running(c) ? counter_t(c, tick) : -1;
    uint32_t n = c->n;

    if (t < 0) {
        /* Before the first CLK of a count: OUT as the control word left it
         * (mode 0 low, all others high); a one-shot armed but not
         * triggered also keeps OUT high. */
        return r;
    }
    switch (c->mode) {
    case 0: case 1:
        r.out = (uint64_t)t >= n;
        r.ce = (uint32_t)((n + m - (uint64_t)t % m) % m);
        break;
    case 4: case 5:
        r.out = (uint64_t)t != n;
        r.ce = (uint32_t)((n + m - (uint64_t)t % m) % m);
        break;
    case 2: {
        if (c->paused) { r.out = true; r.ce = n - (uint32_t)((uint64_t)t % n); break; }
        uint32_t tm = (uint32_t)((uint64_t)t % n);
        r.out = n < 2 || tm != n - 1;
        r.ce = n - tm;
        break;
    }
    case 3: {
        uint32_t high = (n + 1) / 2;
        uint32_t u = (uint32_t)(((uint64_t)t + (c->start_low ? high : 0)) % n);
        uint32_t load = (n & 1) ? n - 1 : n;
        uint32_t k = u < high ? u : u - high;
        r.out = c->paused || u < high;
        r.ce = 2 * k >= load ? 0 : load - 2 * k;
        break;
    }
    }
    r.ce %= m;
    return r;
}

static struct counter_now counter_now(struct pit8254 *p, int n)
{
    struct pit_counter *c = &p->s.counter[n];
    uint64_t tick = pit_now_tick(p);
    counter_catch_up(c, tick);
    return counter_eval(c, tick);
}

bool pit_out(struct pit8254 *p, int n) { return counter_now(p, n).out; }

uint16_t pit_count(struct pit8254 *p, int n)
{
    return counter_encode(&p->s.counter[n], counter_now(p, n).ce);
}

/* The next tick after 'tick' at which OUT changes (for the pulse modes:
 * the end of the pulse), or UINT64_MAX. */
static uint64_t counter_next_edge(const struct pit_counter *c, uint64_t tick)
{
    if (!counter_running(c) || c->paused) return UINT64_MAX;
    int64_t t = counter_t(c, tick);
    uint64_t n = c->n;
    uint64_t start = c->start_tick;

    switch (c->mode) {
    case 0: case 1:
        return t < (int64_t)n ? start + n : UINT64_MAX;
    case 4: case 5:
        return t <= (int64_t)n ? start + n + 1 : UINT64_MAX;
    case 2: {
        if (n < 2) return UINT64_MAX;
        uint64_t k = t < 0 ? 1 : (uint64_t)t / n + 1;
        uint64_t e = start + k * n;
        return c->switch_pending && c->switch_tick < e ? c->switch_tick : e;
    }
    case 3: {
        if (n < 2) return UINT64_MAX;
        uint64_t high = (n + 1) / 2;
        uint64_t base = t < 0 ? start : tick;
        uint64_t u = ((t < 0 ? 0 : (uint64_t)t) + (c->start_low ? high : 0)) % n;
        uint64_t e = base + (u < high ? high - u : n - u);
        return c->switch_pending && c->switch_tick < e ? c->switch_tick : e;
    }
    }
    return UINT64_MAX;
}

/* Counter 0: put OUT0 on IRQ0 and arm the timer for its next edge. */
static void pit_update_irq(struct pit8254 *p, uint64_t tick, bool pulse_if_same)
{
    struct pit_counter *c = &p->s.counter[0];
    counter_catch_up(c, tick);
    bool out = counter_eval(c, tick).out;
    if (out != c->out_driven) {
        irq_line_set(&p->irq0, out);
    } else if (out && pulse_if_same && (c->mode == 2 || c->mode == 4 || c->mode == 5)) {
        irq_line_set(&p->irq0, false);   /* the one-CLK low pulse just ended */
        irq_line_set(&p->irq0, true);
    }
    c->out_driven = out;
    uint64_t edge = counter_next_edge(c, tick);
    if (edge == UINT64_MAX) vtimer_cancel(&p->timer);
    else vtimer_arm(&p->timer, pit_ns_of_tick(edge));
}

static void pit_timer_fire(void *opaque, uint64_t now)
{
    struct pit8254 *p = opaque;
    uint64_t tick = pit_tick_of_ns(now);
    /* The edge we were armed for; 'now' can be later (a long slice). */
    uint64_t armed = pit_tick_of_ns(p->timer.deadline);
    pit_update_irq(p, tick > armed ? tick : armed, true);
}

static void counter_after_change(struct pit8254 *p, int n, uint64_t tick)
{
    if (n == 0) pit_update_irq(p, tick, false);
}

/* The count is complete in CR (data sheet "Write Operations"). */
static void counter_load(struct pit8254 *p, int n, uint64_t tick)
{
    struct pit_counter *c = &p->s.counter[n];
    uint32_t count = counter_initial(c);

    counter_catch_up(c, tick);
    c->null_count = true;
    switch (c->mode) {
    case 0: case 4:
        /* Loaded on the next CLK; counting only while GATE is high. */
        c->loaded = true;
        c->n = count;
        c->start_tick = tick + 1;
        c->null_clear_tick = tick + 1;
        c->paused = !c->gate;
        c->paused_t = 0;
        break;
    case 1: case 5:
        /* Armed: the next GATE rising edge loads it. */
        c->loaded = true;
        c->null_clear_tick = UINT64_MAX;
        break;
    case 2: case 3:
        if (!c->loaded || c->paused) {
            c->loaded = true;
            c->n = count;
            c->start_tick = tick + 1;
            c->start_low = false;
            c->switch_pending = false;
            c->paused = !c->gate;   /* GATE low: its rising edge loads */
            c->paused_t = 0;
            c->null_clear_tick = c->paused ? UINT64_MAX : tick + 1;
            break;
        }
        /* Counting: the new count waits for the end of the period (mode
         * 2) or of the current half-cycle (mode 3). */
        {
            int64_t t = counter_t(c, tick);
            uint64_t cur = c->n, at;
            bool low = false;
            if (t < 0) {
                at = c->start_tick;
            } else if (c->mode == 2) {
                at = c->start_tick + ((uint64_t)t / cur + 1) * cur;
            } else {
                uint64_t high = (cur + 1) / 2;
                uint64_t u = ((uint64_t)t + (c->start_low ? high : 0)) % cur;
                at = tick + (u < high ? high - u : cur - u);
                low = u < high;     /* the next half-cycle is the low one */
            }
            c->switch_pending = true;
            c->next_n = count;
            c->switch_tick = at;
            c->switch_start_low = low;
            c->null_clear_tick = at;
        }
        break;
    }
    counter_after_change(p, n, tick);
}

static void counter_write(struct pit8254 *p, int n, uint8_t v)
{
    struct pit_counter *c = &p->s.counter[n];
    uint64_t tick = pit_now_tick(p);

    switch (counter_rw(c)) {
    case 1: c->cr = v; break;
    case 2: c->cr = (uint16_t)(v << 8); break;
    case 3:
        if (!c->write_msb_next) {
            c->cr = (uint16_t)((c->cr & 0xFF00) | v);
            c->write_msb_next = true;
            if (c->mode == 0) {
                /* Mode 0: the first byte stops counting and OUT goes low. */
                counter_catch_up(c, tick);
                c->ce_frozen = (uint16_t)counter_eval(c, tick).ce;
                c->loaded = false;
                c->switch_pending = false;
                counter_after_change(p, n, tick);
            }
            return;
        }
        c->cr = (uint16_t)((c->cr & 0x00FF) | (v << 8));
        c->write_msb_next = false;
        break;
    default:
        return;   /* no control word yet: the counter ignores data */
    }
    counter_load(p, n, tick);
}

static uint8_t counter_read(struct pit8254 *p, int n)
{
    struct pit_counter *c = &p->s.counter[n];

    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    uint16_t v = c->ol_latched ? c->ol : pit_count(p, n);
    uint8_t byte;
    switch (counter_rw(c)) {
    case 1: byte = (uint8_t)v; c->ol_latched = false; break;
    case 2: byte = (uint8_t)(v >> 8); c->ol_latched = false; break;
    case 3:
        byte = c->read_msb_next ? (uint8_t)(v >> 8) : (uint8_t)v;
        c->read_msb_next = !c->read_msb_next;
        if (!c->read_msb_next) c->ol_latched = false;   /* both bytes read */
        break;
    default:
        byte = (uint8_t)v;
        break;
    }
    return byte;
}

static void counter_latch(struct pit8254 *p, int n)
{
    struct pit_counter *c = &p->s.counter[n];
    if (c->ol_latched) return;   /* the first latch holds until read */
    c->ol = pit_count(p, n);
    c->ol_latched = true;
}

static void counter_latch_status(struct pit8254 *p, int n)
{
    struct pit_counter *c = &p->s.counter[n];
    if (c->status_latched) return;
    uint64_t tick = pit_now_tick(p);
    counter_catch_up(c, tick);
    bool out = counter_eval(c, tick).out;
    bool null = c->null_count && tick < c->null_clear_tick;
    c->status = (uint8_t)((out ? 0x80 : 0) | (null ? 0x40 : 0) | (c->control & 0x3F));
    c->status_latched = true;
}

static void pit_control(struct pit8254 *p, uint8_t v)
{
    int sc = v >> 6;
    if (sc == 3) {
        /* Read-back: D5 = 0 latches the count, D4 = 0 the status. */
        for (int n = 0; n < 3; n++) {
            if (!(v & (2 << n))) continue;
            if (!(v & 0x20)) counter_latch(p, n);
            if (!(v & 0x10)) counter_latch_status(p, n);
        }
        return;
    }
    struct pit_counter *c = &p->s.counter[sc];
    if (((v >> 4) & 3) == 0) {
        counter_latch(p, sc);   /* counter latch command */
        return;
    }
    /* A control word resets the counter's logic; OUT to its initial
     * state (mode 0 low, the others high); counting waits for a count. */
    uint64_t tick = pit_now_tick(p);
    counter_catch_up(c, tick);
    c->ce_frozen = (uint16_t)counter_eval(c, tick).ce;
    c->control = v & 0x3F;
    c->mode = (v >> 1) & 7;
    if (c->mode >= 6) c->mode -= 4;   /* x10 = 2, x11 = 3 */
    c->loaded = c->triggered = c->paused = c->switch_pending = false;
    c->start_low = false;
    c->write_msb_next = c->read_msb_next = false;
    c->ol_latched = c->status_latched = false;
    c->null_count = true;
    c->null_clear_tick = UINT64_MAX;
    counter_after_change(p, sc, tick);
}

void pit_set_gate(struct pit8254 *p, int n, bool level)
{
    struct pit_counter *c = &p->s.counter[n];
    if (c->gate == level) return;
    uint64_t tick = pit_now_tick(p);
    counter_catch_up(c, tick);
    c->gate = level;
    if (!c->loaded) return;
    switch (c->mode) {
    case 0: case 4:
        if (!level) {
            int64_t t = counter_t(c, tick);
            c->paused_t = t < 0 ? 0 : (uint64_t)t;
            c->paused = true;
        } else if (c->paused) {
            c->paused = false;
            c->start_tick = tick + 1 - c->paused_t;
        }
        break;
    case 2: case 3:
        if (!level) {
            int64_t t = counter_t(c, tick);
            c->paused_t = t < 0 ? 0 : (uint64_t)t;
            c->paused = true;
        } else {
            /* The rising edge reloads the initial count on the next CLK. */
            c->paused = false;
            c->switch_pending = false;
            c->n = counter_initial(c);
            c->start_tick = tick + 1;
            c->start_low = false;
            c->null_clear_tick = tick + 1;
        }
        break;
    case 1: case 5:
        if (level) {   /* trigger, retriggerable */
            c->triggered = true;
            c->n = counter_initial(c);
            c->start_tick = tick + 1;
            c->null_clear_tick = tick + 1;
        }
        break;
    }
    counter_after_change(p, n, tick);
}

static uint32_t pit_read(void *opaque, uint32_t offset, unsigned size)
{
    if (offset == 3) return 0xFF;   /* the control word register cannot be read */
    return counter_read(opaque, (int)offset);
}

static void pit_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    if (offset == 3) pit_control(opaque, (uint8_t)value);
    else counter_write(opaque, (int)offset, (uint8_t)value);
}

/* The AT's refresh request: counter 1 at count 18, every 15.085 us
 * (IBM PC/AT Technical Reference, "System Timers"); bit 4 of port 0x61
 * toggles with each one. */
#define REFRESH_NS 15085

static uint32_t port61_read(void *opaque, uint32_t offset, unsigned size)
{
    struct pit8254 *p = opaque;
    uint8_t v = p->s.port61 & PORT61_WRITABLE;
    if ((vclock_now(p->clock) / REFRESH_NS) & 1) v |= PORT61_REFRESH;
    if (pit_out(p, 2)) v |= PORT61_OUT2;
    return v;
}

static void port61_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    struct pit8254 *p = opaque;
    p->s.port61 = (uint8_t)(value & PORT61_WRITABLE);
    pit_set_gate(p, 2, (value & PORT61_GATE2) != 0);
}

const struct io_ops pit_io_ops = { .read = pit_read, .write = pit_write };
const struct io_ops pit_port61_ops = { .read = port61_read, .write = port61_write };

void pit_reset(struct pit8254 *p)
{
    /* The data sheet leaves the power-on state undefined; this is "no
     * control word written yet": OUT low, data ignored. */
    memset(&p->s, 0, sizeof p->s);
    for (int n = 0; n < 3; n++) p->s.counter[n].null_clear_tick = UINT64_MAX;
    p->s.counter[0].gate = p->s.counter[1].gate = true;   /* tied high on the PC */
    vtimer_cancel(&p->timer);
    irq_line_set(&p->irq0, false);
}

void pit_init(struct pit8254 *p, struct vclock *clock, struct irq_line irq0)
{
    memset(p, 0, sizeof *p);
    p->clock = clock;
    p->irq0 = irq0;
    vtimer_init(&p->timer, clock, "pit0", pit_timer_fire, p);
    pit_reset(p);
}

void pit_destroy(struct pit8254 *p) { vtimer_cancel(&p->timer); }

void pit_reset_device(void *opaque) { pit_reset(opaque); }

/* Saved: the counters, port 0x61, and the tick it was taken at (so the
 * timer can be armed again before the clock itself is restored). */
struct pit_saved {
    struct pit_state s;
    uint64_t tick;
};

int pit_save(void *opaque, struct snapshot *s)
{
    struct pit8254 *p = opaque;
    struct pit_saved v;
    memset(&v, 0, sizeof v);
    v.s = p->s;
    v.tick = pit_now_tick(p);
    return snapshot_put(s, "pit", 1, &v, sizeof v);
}

/* One counter as this model can leave it; 'f' names its fields "counterN.FIELD". */
static int counter_check(const struct pit_counter *v, int n, struct snapshot_check *c)
{
    char f[40];
#define PIT_FIELD(name) (snprintf(f, sizeof f, "counter%d.%s", n, name), f)
    const bool *bools[] = { &v->ol_latched, &v->status_latched, &v->write_msb_next, &v->read_msb_next,
                            &v->gate, &v->null_count, &v->loaded, &v->triggered, &v->paused,
                            &v->start_low, &v->switch_pending, &v->switch_start_low, &v->out_driven };
    static const char *const bool_names[] = { "ol_latched", "status_latched", "write_msb_next",
                                              "read_msb_next", "gate", "null_count", "loaded", "triggered",
                                              "paused", "start_low", "switch_pending", "switch_start_low",
                                              "out_driven" };
    for (size_t k = 0; k < sizeof bools / sizeof bools[0]; k++) {
        int r = snapshot_check_bool(c, "pit", PIT_FIELD(bool_names[k]), bools[k]);
        if (r) return r;
    }
    if (v->control > 0x3F) return snapshot_refuse(c, "pit", PIT_FIELD("control"), "%02x has bits 7-6 set", v->control);
    if (v->mode > 5) return snapshot_refuse(c, "pit", PIT_FIELD("mode"), "%u is not 0-5", v->mode);
    /* M2 M1 M0 of the control word: x10 is mode 2, x11 mode 3. */
    unsigned m = (v->control >> 1) & 7;
    if (m > 5) m -= 4;
    if (v->control && m != v->mode)
        return snapshot_refuse(c, "pit", PIT_FIELD("mode"), "%u, the control word %02x says %u", v->mode,
                               v->control, m);
    if (v->control && counter_rw(v) == 0)
        return snapshot_refuse(c, "pit", PIT_FIELD("control"), "%02x: RW = 00 is a latch command", v->control);
    uint32_t lo = *(const unsigned char *)&v->loaded ? 1 : 0;
    if (v->n < lo || v->n > 65536)
        return snapshot_refuse(c, "pit", PIT_FIELD("n"), "%u is not %u-65536", v->n, lo);
    if (*(const unsigned char *)&v->switch_pending && (v->next_n < 1 || v->next_n > 65536))
        return snapshot_refuse(c, "pit", PIT_FIELD("next_n"), "%u is not 1-65536", v->next_n);
#undef PIT_FIELD
    return 0;
}

int pit_load(void *opaque, const struct snapshot *s, struct snapshot_check *c)
{
    struct pit8254 *p = opaque;
    struct pit_saved v;
    int r = snapshot_take(s, "pit", 1, &v, sizeof v, c);
    for (int n = 0; n < 3 && !r; n++) r = counter_check(&v.s.counter[n], n, c);
    if (!r && (v.s.port61 & ~PORT61_WRITABLE))
        r = snapshot_refuse(c, "pit", "port61", "%02x sets bits other than 0-3", v.s.port61);
    if (r || !c->apply) return r;
    p->s = v.s;
    /* IRQ0's level is in the PIC's saved state; only the timer is armed. */
    pit_update_irq(p, v.tick, false);
    return 0;
}

static const char *const pit_mode_names[6] = {
    "interrupt on terminal count", "hardware retriggerable one-shot", "rate generator",
    "square wave", "software triggered strobe", "hardware triggered strobe",
};

void pit_info(void *opaque, FILE *out)
{
    struct pit8254 *p = opaque;
    static const char *const rw_names[4] = { "-", "LSB", "MSB", "LSB then MSB" };
    for (int n = 0; n < 3; n++) {
        struct pit_counter *c = &p->s.counter[n];
        if (!c->control) {
            fprintf(out, "counter %d: no control word written\n", n);
            continue;
        }
        uint32_t init = counter_initial(c);
        fprintf(out, "counter %d: mode %d (%s), %s, %s, CR %04x (%u CLKs = %.3f Hz)\n", n, c->mode,
                pit_mode_names[c->mode], rw_names[counter_rw(c)], counter_bcd(c) ? "BCD" : "binary",
                c->cr, init, (double)PIT_HZ / init);
        fprintf(out, "  CE %04x OUT %d GATE %d%s%s%s\n", pit_count(p, n), pit_out(p, n), c->gate,
                c->loaded ? "" : ", no count loaded", c->ol_latched ? ", count latched" : "",
                c->status_latched ? ", status latched" : "");
    }
    fprintf(out, "port 0x61: %02x (GATE2 %d, speaker data %d; no sound output)\n",
            port61_read(p, 0, 1), p->s.port61 & PORT61_GATE2 ? 1 : 0,
            p->s.port61 & PORT61_SPEAKER ? 1 : 0);
}
