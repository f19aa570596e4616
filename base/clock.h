/*
 * clock.h - the one virtual clock every device takes its time from.
 *
 * Time is nanoseconds since the machine started.  Two modes (DESIGN.md):
 *   - real time (default): host CLOCK_MONOTONIC, less the time the machine
 *     was stopped (monitor prompt, snapshot load);
 *   - instruction counting (-icount shift=N): each retired instruction is
 *     2^N ns, so runs are deterministic (tests, stepping in the monitor).
 *     While the CPU halts the clock jumps to the next timer deadline.
 *
 * Devices never poll the host clock: they read vclock_now() and arm a
 * struct vtimer for the moments something must happen (a PIT output edge,
 * an RTC update, a UART character time).  The engine's run loop slices
 * execution so no deadline is overshot by more than one slice
 * (vclock_budget), then calls vclock_run_timers.
 *
 * Worked example: the PIT in mode 2 with a divisor of 1193 arms a timer
 * for load_time + 1193 * 838.095 ns; when it fires it raises IRQ0 and arms
 * the next period.  In icount mode with shift=0, that is every ~1 ms of
 * guest instructions (1e6 instructions).
 */
#ifndef TRAPEZE_CLOCK_H
#define TRAPEZE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct vclock;

struct vtimer {
    uint64_t deadline;                 /* ns; valid while armed */
    bool armed;
    void (*fire)(void *opaque, uint64_t now);
    void *opaque;
    const char *name;
    struct vtimer *next;               /* the clock's list, by deadline */
    struct vclock *clock;
};

struct vclock {
    bool icount;                       /* -icount: time from instructions */
    unsigned shift;                    /* ns per instruction = 1 << shift */
    uint64_t (*instructions)(void *opaque); /* the engine's retired count */
    void *instructions_opaque;
    uint64_t icount_base;              /* instruction count at ns_base */
    uint64_t ns_base;                  /* virtual ns at icount_base / host start */
    uint64_t host_start;               /* real time: host ns at start */
    uint64_t stopped_at;               /* real time: host ns when stopped, or 0 */
    struct vtimer *timers;             /* armed timers, soonest first */
};

/* Real-time clock (icount false) or instruction-counting with 'shift'. */
void vclock_init(struct vclock *c, bool icount, unsigned shift);
/* Tell the clock where retired instructions are counted (icount mode). */
void vclock_set_counter(struct vclock *c, uint64_t (*instructions)(void *), void *opaque);

/* Virtual nanoseconds since start. */
uint64_t vclock_now(struct vclock *c);

/* Stop/start the flow of real time (monitor prompt); no effect with icount. */
void vclock_stop(struct vclock *c);
void vclock_resume(struct vclock *c);

/* Set the current virtual time (loadvm): timers keep their deadlines. */
void vclock_set_now(struct vclock *c, uint64_t ns);

void vtimer_init(struct vtimer *t, struct vclock *c, const char *name,
                 void (*fire)(void *opaque, uint64_t now), void *opaque);
void vtimer_arm(struct vtimer *t, uint64_t deadline_ns);
void vtimer_cancel(struct vtimer *t);

/* The soonest armed deadline, or UINT64_MAX. */
uint64_t vclock_next_deadline(const struct vclock *c);
/* Fire every timer whose deadline has passed (each at most once per call). */
void vclock_run_timers(struct vclock *c);

/*
 * How many instructions the engine may run before the next deadline
 * (icount), or a fixed slice in real-time mode; never more than 'max'.
 */
uint64_t vclock_budget(struct vclock *c, uint64_t max);

/*
 * The CPU halted with interrupts enabled: let time pass until the next
 * deadline (icount: jump the clock there; real time: sleep, at most
 * 'max_wait_ns').  Returns false when no timer is armed at all (nothing
 * can ever wake the CPU).
 */
bool vclock_idle(struct vclock *c, uint64_t max_wait_ns);

#endif
