/*
 * pit8254.h - the Intel 8254 Programmable Interval Timer of the PC (Intel
 * 8254 data sheet, order 231164), and the PC's port 0x61 around counter 2.
 *
 *   0x40 counter 0   OUT0 -> IRQ0, GATE0 tied high
 *   0x41 counter 1   (DRAM refresh on the AT), GATE1 tied high
 *   0x42 counter 2   GATE2 and the speaker through port 0x61
 *   0x43 control word (write only)
 *   0x61 write: bit 0 GATE2, bit 1 speaker data, bits 2-3 stored
 *        read:  those bits, bit 4 the refresh toggle, bit 5 OUT2
 * CLK of every counter: 1.193182 MHz, derived from the virtual clock
 * (base/clock.h): a counter's value is computed from vclock_now() when
 * read, and OUT0's edges are vtimers.
 *
 * Control word (data sheet "Control Word Format"):
 *   SC1 SC0 | RW1 RW0 | M2 M1 M0 | BCD
 *   SC  00/01/10 counter 0/1/2, 11 read-back command
 *   RW  00 counter latch command, 01 LSB only, 10 MSB only, 11 LSB then MSB
 *   M   000 mode 0 interrupt on terminal count, 001 mode 1 one-shot,
 *       x10 mode 2 rate generator, x11 mode 3 square wave,
 *       100 mode 4 software strobe, 101 mode 5 hardware strobe
 * Read-back: 1 1 | /COUNT | /STATUS | CNT2 CNT1 CNT0 | 0
 * Status byte: OUTPUT | NULL COUNT | RW1 RW0 | M2 M1 M0 | BCD
 *
 * Worked example: out 0x43,0x34 (counter 0, LSB then MSB, mode 2);
 * out 0x40,0xA9; out 0x40,0x04: count 0x04A9 = 1193, OUT0 pulses every
 * 1193 CLKs (999.85 us), each pulse an IRQ0 edge.
 */
#ifndef TRAPEZE_PIT8254_H
#define TRAPEZE_PIT8254_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/irq.h"
#include "base/clock.h"
#include "mmu/bus.h"

#define PIT_BASE      0x40
#define PIT_PORT61    0x61
#define PIT_HZ        1193182u   /* 14.31818 MHz / 12 */

/* Port 0x61 (IBM PC/AT Technical Reference, "Port B"). */
#define PORT61_GATE2    0x01     /* timer 2 gate */
#define PORT61_SPEAKER  0x02     /* speaker data (ANDed with OUT2) */
#define PORT61_WRITABLE 0x0F     /* bits 2-3: parity / channel check enables */
#define PORT61_REFRESH  0x10     /* toggles with each DRAM refresh request */
#define PORT61_OUT2     0x20     /* timer 2 output */

/* One counter: what the data sheet's block diagram holds, plus the time
 * base the virtual clock needs.  Plain data (it is saved as is). */
struct pit_counter {
    uint8_t control;           /* RW1 RW0 M2 M1 M0 BCD of the control word */
    uint8_t mode;              /* 0-5 */
    uint16_t cr;               /* count register (CR_M, CR_L) as written */
    uint16_t ol;               /* output latch (OL_M, OL_L) when latched */
    uint8_t status;            /* the latched status byte */
    bool ol_latched, status_latched;
    bool write_msb_next;       /* write flip-flop (RW = 11) */
    bool read_msb_next;        /* read flip-flop (RW = 11) */
    bool gate;                 /* GATE input */
    bool null_count;           /* CR written, not yet moved into CE ... */
    uint64_t null_clear_tick;  /* ... until this CLK (UINT64_MAX: a trigger) */
    /* The counting element, as a function of time. */
    bool loaded;               /* CE runs (or is armed, modes 1/5) */
    bool triggered;            /* modes 1/5: a GATE edge started it */
    bool paused;               /* GATE low stopped counting at t = paused_t */
    bool start_low;            /* mode 3: this run starts in the low half */
    uint32_t n;                /* the count CE was loaded with (1-65536) */
    uint64_t start_tick;       /* the CLK at which CE = n (t = 0) */
    uint64_t paused_t;
    uint16_t ce_frozen;        /* CE when not counting */
    bool switch_pending;       /* modes 2/3: a new count at the period end */
    uint32_t next_n;
    uint64_t switch_tick;
    bool switch_start_low;
    bool out_driven;           /* counter 0: the level on IRQ0 now */
};

struct pit_state {
    struct pit_counter counter[3];
    uint8_t port61;            /* bits 0-3 as written */
};

struct pit8254 {
    struct pit_state s;
    struct vclock *clock;
    struct vtimer timer;       /* counter 0's next OUT edge */
    struct irq_line irq0;
};

/* Wire to 'clock' and IRQ0; counters in their power-on state. */
void pit_init(struct pit8254 *p, struct vclock *clock, struct irq_line irq0);
void pit_destroy(struct pit8254 *p);
/* Power-on: no control word written, OUT low, GATE0/1 high, GATE2 low. */
void pit_reset(struct pit8254 *p);

extern const struct io_ops pit_io_ops;      /* 4 ports at 0x40 */
extern const struct io_ops pit_port61_ops;  /* 1 port at 0x61 */

/* OUT and CE of counter 'n' now (tests, the monitor). */
bool pit_out(struct pit8254 *p, int n);
uint16_t pit_count(struct pit8254 *p, int n);
/* Drive GATE of counter 'n' (counter 2 follows port 0x61 bit 0). */
void pit_set_gate(struct pit8254 *p, int n, bool level);

/* The virtual ns of PIT clock 'tick', and the tick at 'ns'. */
uint64_t pit_ns_of_tick(uint64_t tick);
uint64_t pit_tick_of_ns(uint64_t ns);

/* machine_device callbacks (opaque = the pit). */
void pit_info(void *opaque, FILE *out);
struct snapshot;
int pit_save(void *opaque, struct snapshot *s);
struct snapshot_check;
int pit_load(void *opaque, const struct snapshot *s, struct snapshot_check *c);
void pit_reset_device(void *opaque);

#endif
