/*
 * clock.c - the virtual clock and its timers (see clock.h).
 */
#include "base/clock.h"

#include <time.h>

/* Real-time mode: instructions per slice between timer checks. */
#define REALTIME_SLICE 100000

static uint64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vclock_init(struct vclock *c, bool icount, unsigned shift)
{
    *c = (struct vclock){ .icount = icount, .shift = shift };
    c->host_start = host_ns();
}

static uint64_t no_instructions(void *opaque)
{
    (void)opaque;
    return 0;
}

void vclock_set_counter(struct vclock *c, uint64_t (*instructions)(void *), void *opaque)
{
    uint64_t now = vclock_now(c);
    c->instructions = instructions ? instructions : no_instructions;
    c->instructions_opaque = opaque;
    c->icount_base = c->instructions(opaque);
    c->ns_base = now;
}

uint64_t vclock_now(struct vclock *c)
{
    if (c->icount) {
        uint64_t n = c->instructions ? c->instructions(c->instructions_opaque) : 0;
        return c->ns_base + ((n - c->icount_base) << c->shift);
    }
    uint64_t host = c->stopped_at ? c->stopped_at : host_ns();
    return c->ns_base + (host - c->host_start);
}

void vclock_stop(struct vclock *c)
{
    if (!c->icount && !c->stopped_at) c->stopped_at = host_ns();
}

void vclock_resume(struct vclock *c)
{
    if (c->icount || !c->stopped_at) return;
    /* The stopped interval does not count: move the start forward. */
    c->host_start += host_ns() - c->stopped_at;
    c->stopped_at = 0;
}

void vclock_set_now(struct vclock *c, uint64_t ns)
{
    if (c->icount) {
        c->icount_base = c->instructions ? c->instructions(c->instructions_opaque) : 0;
    } else {
        c->host_start = c->stopped_at ? c->stopped_at : host_ns();
    }
    c->ns_base = ns;
}

void vtimer_init(struct vtimer *t, struct vclock *c, const char *name,
                 void (*fire)(void *opaque, uint64_t now), void *opaque)
{
    *t = (struct vtimer){ .fire = fire, .opaque = opaque, .name = name, .clock = c };
}

void vtimer_cancel(struct vtimer *t)
{
    if (!t->armed) return;
    for (struct vtimer **pp = &t->clock->timers; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->armed = false;
    t->next = NULL;
}

void vtimer_arm(struct vtimer *t, uint64_t deadline_ns)
{
    vtimer_cancel(t);
    t->deadline = deadline_ns;
    t->armed = true;
    struct vtimer **pp = &t->clock->timers;
    while (*pp && (*pp)->deadline <= deadline_ns) pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
}

uint64_t vclock_next_deadline(const struct vclock *c)
{
    return c->timers ? c->timers->deadline : UINT64_MAX;
}

void vclock_run_timers(struct vclock *c)
{
    uint64_t now = vclock_now(c);
    /* Fire each due timer once: a timer re-armed for a time already past
     * (a too-short period) waits for the next call instead of looping. */
    struct vtimer *due = NULL, **tail = &due;
    while (c->timers && c->timers->deadline <= now) {
        struct vtimer *t = c->timers;
        c->timers = t->next;
        t->armed = false;
        t->next = NULL;
        *tail = t;
        tail = &t->next;
    }
    while (due) {
        struct vtimer *t = due;
        due = t->next;
        t->next = NULL;
        t->fire(t->opaque, now);
    }
}

uint64_t vclock_budget(struct vclock *c, uint64_t max)
{
    if (!c->icount) return max < REALTIME_SLICE ? max : REALTIME_SLICE;
    uint64_t deadline = vclock_next_deadline(c);
    if (deadline == UINT64_MAX) return max;
    uint64_t now = vclock_now(c);
    if (deadline <= now) return 1;
    uint64_t n = ((deadline - now) + (1ull << c->shift) - 1) >> c->shift;
    return n < max ? n : max;
}

bool vclock_idle(struct vclock *c, uint64_t max_wait_ns)
{
    uint64_t deadline = vclock_next_deadline(c);
    if (deadline == UINT64_MAX) return false;
    uint64_t now = vclock_now(c);
    if (deadline <= now) return true;
    if (c->icount) {
        /* Nothing runs while halted: jump to the deadline. */
        vclock_set_now(c, deadline);
        return true;
    }
    uint64_t wait = deadline - now;
    if (wait > max_wait_ns) wait = max_wait_ns;
    struct timespec ts = { (time_t)(wait / 1000000000ull), (long)(wait % 1000000000ull) };
    nanosleep(&ts, NULL);
    return true;
}
