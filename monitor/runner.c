/*
 * runner.c - the loop between the engine and everything else.
 *
 *   runner_run
 *     loop: engine run(slice)       slice = vclock_budget: no timer deadline
 *                                   is overshot by more than one slice
 *           fire due timers (PIT edges ...), poll host input
 *           machine stop filed?   power off / debug exit -> FINISHED
 *                                 reset -> reset board and engine, go on
 *           engine exit:          budget  -> go on
 *                                 halt    -> IF=1: let virtual time pass to
 *                                            the next timer (vclock_idle: a
 *                                            host sleep in real time, a jump
 *                                            with -icount) and go on;
 *                                            IF=0 or nothing can ever raise
 *                                            an interrupt: FINISHED
 *                                 shutdown (triple fault) -> report, FINISHED
 *                                 breakpoint / step / ... -> the caller
 *
 * The instruction cap (-max-insns) costs one counter read per slice, not a
 * test per instruction: each slice's budget is cut to what is left of the
 * cap, and the engine's run stops exactly at its budget, so the guest
 * retires the cap's count and not one instruction more.  The kvm engine
 * counts only what the software CPU runs for it (KVM itself counts
 * nothing), so a guest running on the host CPU is held by the timeout alone.
 */
#include "monitor/runner.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devices/chardev.h"
#include "base/log.h"
#include "machine/machine.h"
#include "monitor/cmd_log.h"

/* Instructions per engine slice at most (vclock_budget may give fewer). */
#define RUN_SLICE 1000000
/* A halted guest waits at most this long in one host sleep, so host input
 * (serial, Ctrl-C) is looked at 100 times a second. */
#define IDLE_WAIT_NS 10000000ull

void runner_init(struct runner *r, struct engine *e, struct machine *m, const struct options *o)
{
    r->engine = e;
    r->machine = m;
    r->options = o;
    r->status = -1;
    r->address = 0;
    r->interrupted = 0;
    r->finished = false;
    r->halted_for_good = false;
    r->finish_message = NULL;
    r->powered_off = false;
    r->last_exit = (struct engine_exit){ .reason = ENGINE_EXIT_BUDGET };
    r->poll = NULL;
    r->poll_opaque = NULL;
    r->running = 0;
    r->insn_cap = o ? o->max_insns : 0;
    r->insn_cap_from = o && o->max_insns_from ? o->max_insns_from : "-max-insns";
    if (m) vclock_stop(&m->clock);   /* time starts with the first run (tests may pass no machine) */
}

void runner_interrupt(struct runner *r)
{
    r->interrupted = 1;
    if (r->engine->ops->request_exit) r->engine->ops->request_exit(r->engine);
}

/* The runner the terminating signals reach (a host resource, like the terminal). */
static struct runner *signal_runner;
static volatile sig_atomic_t signal_caught;   /* the signal number, 0: none yet */
static volatile sig_atomic_t signal_sender;   /* its si_pid */

static void runner_signal(int sig, siginfo_t *info, void *context)
{
    (void)context;
    struct runner *r = signal_runner;
    /* A terminating signal again while the run already ends for one: the
     * clean ending is under way (as QEMU, which a second SIGTERM does not
     * cut short; `timeout` sends its TERM to the child and to its group). */
    if (signal_caught && sig != SIGINT) return;
    if (signal_caught || !r || !r->running) {
        /* Stopped (nothing to return from), or Ctrl-C twice: go now. */
        chardev_restore_terminal();
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    signal_caught = sig;
    signal_sender = info ? (sig_atomic_t)info->si_pid : 0;
    runner_interrupt(r);
}

void runner_catch_signals(struct runner *r, bool sigint)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = runner_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    signal_runner = r;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (sigint) sigaction(SIGINT, &sa, NULL);
}

/* A terminating signal came while the guest ran: finish as QEMU does (status 0). */
static bool terminated_by_signal(struct runner *r)
{
    if (!signal_caught || signal_runner != r) return false;
    fflush(stdout);
    if (signal_sender > 0)
        fprintf(stderr, "trapeze: terminating on signal %d from pid %d\n", (int)signal_caught, (int)signal_sender);
    else
        fprintf(stderr, "trapeze: terminating on signal %d\n", (int)signal_caught);
    return true;
}

int runner_status_for_error(int err)
{
    switch (-err) {
    case ENOMEM: case EIO: case EMFILE: case ENFILE: case ENOSPC: case ENODEV:
        return STATUS_HOST;
    default:
        return STATUS_USAGE;
    }
}

static enum run_result finish(struct runner *r, int status)
{
    r->status = status;
    r->finished = true;
    return RUN_FINISHED;
}

/*
 * How many instructions the cap still allows (at least 1), or 0 after the
 * one line saying it was reached, the run then finished.
 */
static uint64_t insns_left_under_cap(struct runner *r)
{
    struct engine_counters c;
    r->engine->ops->get_counters(r->engine, &c);
    if (c.instructions < r->insn_cap) return r->insn_cap - c.instructions;
    fflush(stdout);   /* the guest's output first, as for the other last lines */
    fprintf(stderr, "trapeze: instruction cap reached: %llu instructions (%s)\n",
            (unsigned long long)r->insn_cap, r->insn_cap_from);
    finish(r, STATUS_INSN_CAP);
    return 0;
}

static int reset_machine(struct runner *r)
{
    if (LOG_ON(LOG_CPU_RESET))
        monitor_log_cpu_reset(r->engine);   /* the state before the reset, as QEMU */
    int err = machine_reset(r->machine);
    if (err < 0) return err;
    r->engine->ops->reset(r->engine);
    return 0;
}

/* A stop filed by a device.  Returns an exit status, or -1 to go on. */
static int machine_stopped(struct runner *r)
{
    struct machine *m = r->machine;
    switch (m->stop_reason) {
    case MACHINE_POWER_OFF:
        r->powered_off = true;
        return STATUS_POWER_OFF;
    case MACHINE_DEBUG_EXIT:
        /* QEMU's isa-debug-exit status; the OS keeps its low 8 bits. */
        return (((unsigned)m->debug_exit_value << 1) | 1) & 0xFF;
    case MACHINE_RESET_REQUEST:
        if (m->config.no_reboot) {
            r->powered_off = true;     /* -no-reboot: a reset is a power-off, as QEMU */
            return STATUS_POWER_OFF;
        }
        if (reset_machine(r) < 0)
            return STATUS_USAGE;
        return -1;
    case MACHINE_NO_BOOT_DEVICE:
        return STATUS_GUEST_STUCK;   /* the BIOS printed why (machine/bios/bios.c) */
    case MACHINE_RUNNING:
        break;
    }
    return -1;
}

/* The guest halted and nothing can wake it: say so, once. */
static enum run_result halted_for_good(struct runner *r)
{
    struct x86_state s;
    r->engine->ops->get_state(r->engine, &s);
    if (!(s.eflags & EFLAGS_IF))
        fprintf(stderr, "trapeze: guest halted with interrupts disabled at %04x:%08x\n",
                s.seg[SEG_CS].selector, s.eip);
    else
        fprintf(stderr, "trapeze: guest halted at %04x:%08x waiting for an interrupt, but no timer "
                        "is armed and no device can raise one\n",
                s.seg[SEG_CS].selector, s.eip);
    r->halted_for_good = true;
    return finish(r, STATUS_GUEST_STUCK);
}

/*
 * HLT with IF=1: let virtual time pass until something can interrupt.
 * Returns false when nothing ever can (the caller reports it).
 */
static bool wait_while_halted(struct runner *r)
{
    struct machine *m = r->machine;
    if (m->irq_source.pending && m->irq_source.pending(m->irq_source.opaque))
        return true;   /* the CPU takes it on its next run */
    if (vclock_idle(&m->clock, IDLE_WAIT_NS)) {
        vclock_run_timers(&m->clock);
        return true;
    }
    if (!machine_can_wake(m))
        return false;
    /* No timer, but host input may still come (serial on stdio). */
    struct timespec ts = { 0, (long)IDLE_WAIT_NS };
    nanosleep(&ts, NULL);
    machine_poll(m);
    return true;
}

static enum run_result run_guest(struct runner *r, uint64_t max_instructions, bool step);

/*
 * Real time flows for the guest only while it runs: at a monitor prompt or
 * a debugger stop the virtual clock stands still (base/clock.h), so a
 * student stepping through a timer handler does not find a backlog of
 * ticks.  (-icount time counts instructions and needs no stopping.)
 */
enum run_result runner_run(struct runner *r, uint64_t max_instructions, bool step)
{
    vclock_resume(&r->machine->clock);
    r->running = 1;
    enum run_result result = run_guest(r, max_instructions, step);
    r->running = 0;
    vclock_stop(&r->machine->clock);
    if (result == RUN_STEPPED)
        machine_display_step(r->machine);      /* at most 50 frames a second of steps */
    else
        machine_display_refresh(r->machine);   /* the window shows where the guest stopped */
    if (result != RUN_FINISHED && terminated_by_signal(r))
        result = finish(r, STATUS_POWER_OFF);
    return result;
}

static enum run_result run_guest(struct runner *r, uint64_t max_instructions, bool step)
{
    struct engine *e = r->engine;
    struct machine *m = r->machine;
    uint64_t left = max_instructions;

    if (r->finished) return RUN_FINISHED;
    r->interrupted = 0;
    if (signal_caught && signal_runner == r) return RUN_INTERRUPTED;   /* came before the line above */
    for (;;) {
        uint64_t slice = vclock_budget(&m->clock, RUN_SLICE);
        if (max_instructions && left < slice) slice = left;
        if (r->insn_cap) {
            uint64_t cap_left = insns_left_under_cap(r);
            if (cap_left == 0) return RUN_FINISHED;
            if (cap_left < slice) slice = cap_left;   /* a step is 1 and fits */
        }
        struct engine_exit x = step ? e->ops->step(e) : e->ops->run(e, slice);
        vclock_run_timers(&m->clock);

        if (m->stop_reason != MACHINE_RUNNING) {
            int status = machine_stopped(r);
            if (status >= 0) return finish(r, status);
            continue;
        }
        switch (x.reason) {
        case ENGINE_EXIT_BUDGET:
            machine_poll(m);
            if (max_instructions) {
                left -= slice < left ? slice : left;
                if (left == 0) return RUN_BUDGET;
            }
            break;
        case ENGINE_EXIT_REQUEST:
            machine_poll(m);
            break;
        case ENGINE_EXIT_HALT: {
            machine_poll(m);
            struct x86_state s;
            e->ops->get_state(e, &s);
            if (!(s.eflags & EFLAGS_IF) || !wait_while_halted(r))
                return halted_for_good(r);
            break;
        }
        case ENGINE_EXIT_SHUTDOWN:
            if (r->options->reboot_on_triple_fault && !m->config.no_reboot) {
                if (reset_machine(r) < 0) return finish(r, STATUS_USAGE);
                break;
            }
            e->ops->print_fault_report(e, stderr);
            return finish(r, STATUS_GUEST_STUCK);
        case ENGINE_EXIT_BREAKPOINT:
            r->address = x.address;
            r->last_exit = x;
            return RUN_BREAKPOINT;
        case ENGINE_EXIT_WATCHPOINT:
            r->address = x.address;
            r->last_exit = x;
            return RUN_WATCHPOINT;
        case ENGINE_EXIT_STEP:
            return RUN_STEPPED;
        case ENGINE_EXIT_ERROR:
            fprintf(stderr, "trapeze: %s\n", x.message ? x.message : "the engine cannot go on");
            return finish(r, x.host_failure ? STATUS_HOST : STATUS_GUEST_STUCK);
        }
        if (r->poll) r->poll(r->poll_opaque);
        if (r->interrupted) {
            r->interrupted = 0;
            return RUN_INTERRUPTED;
        }
        if (step) return RUN_STEPPED;
    }
}
