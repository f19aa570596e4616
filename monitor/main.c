/*
 * main.c - trapeze's entry point: parse the command line, build the
 * machine, create the engine, and run it until the guest stops.
 *
 * The run loop is where every guest-initiated end of a run lands (STYLE.md
 * 7): devices only file a stop with the machine; this loop turns it into
 * the process's exit status (DESIGN.md "Exit statuses"):
 *
 *   (V << 1) | 1   the guest wrote V to isa-debug-exit (always odd)
 *   0              the guest powered off ("Shutdown" to port 0x8900)
 *   2              bad usage or bad input (flags, images)
 *   4              triple fault, or the guest is stuck (halted for good)
 *   6              host failure (out of memory, no KVM)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine/machine.h"
#include "monitor/cmdline.h"
#include "vmm/engine.h"

enum {
    STATUS_POWER_OFF = 0,
    STATUS_USAGE = 2,
    STATUS_GUEST_STUCK = 4,
    STATUS_HOST = 6,
};

/* Instructions per engine slice: between slices the devices poll host input. */
#define RUN_SLICE 1000000

/* Set-up errors: host trouble is 6, everything else was the user's input (2). */
static int status_for_error(int err)
{
    switch (-err) {
    case ENOMEM: case EIO: case EMFILE: case ENFILE: case ENOSPC: case ENODEV:
        return STATUS_HOST;
    default:
        return STATUS_USAGE;
    }
}

/* Reset the board and the CPU (port 0x92, or a triple fault with -action reboot=reset). */
static int run_reset(struct engine *e, struct machine *m)
{
    int err = machine_reset(m);
    if (err < 0)
        return err;
    e->ops->reset(e);
    return 0;
}

/*
 * A stop the machine filed (m->stop_reason).  Returns the exit status, or
 * -1 to keep running (after a reset).
 */
static int run_machine_stop(struct engine *e, struct machine *m)
{
    switch (m->stop_reason) {
    case MACHINE_POWER_OFF:
        return STATUS_POWER_OFF;
    case MACHINE_DEBUG_EXIT:
        /* QEMU's isa-debug-exit status; the OS keeps its low 8 bits. */
        return (((unsigned)m->debug_exit_value << 1) | 1) & 0xFF;
    case MACHINE_RESET_REQUEST:
        if (m->config.no_reboot)
            return STATUS_POWER_OFF;   /* -no-reboot: a reset ends the run, as QEMU */
        if (run_reset(e, m) < 0)
            return STATUS_USAGE;
        return -1;
    case MACHINE_RUNNING:
        break;
    }
    return -1;
}

/* The guest executed HLT and nothing can wake it. */
static int run_halted(struct engine *e)
{
    struct x86_state s;
    e->ops->get_state(e, &s);
    if (!(s.eflags & EFLAGS_IF)) {
        fprintf(stderr, "trapeze: guest halted with interrupts disabled at %04x:%08x\n",
                s.seg[SEG_CS].selector, s.eip);
    } else {
        /* No device raises interrupts yet: a halt with IF = 1 would sleep forever. */
        fprintf(stderr, "trapeze: guest halted at %04x:%08x waiting for an interrupt, but no device "
                        "can raise one yet (the PIC and timers come with the PC board issue)\n",
                s.seg[SEG_CS].selector, s.eip);
    }
    return STATUS_GUEST_STUCK;
}

/* Run the guest until it stops; returns the process exit status. */
static int run_loop(struct engine *e, struct machine *m, const struct options *o)
{
    for (;;) {
        struct engine_exit x = e->ops->run(e, RUN_SLICE);
        int status;

        if (m->stop_reason != MACHINE_RUNNING) {
            if ((status = run_machine_stop(e, m)) >= 0)
                return status;
            continue;
        }
        switch (x.reason) {
        case ENGINE_EXIT_BUDGET: {
            struct x86_state s;
            e->ops->get_state(e, &s);
            if (s.halted)   /* an engine that idles through its budget when halted */
                return run_halted(e);
            machine_poll(m);
            break;
        }
        case ENGINE_EXIT_REQUEST:
            machine_poll(m);   /* an exit nobody filed a reason for: carry on */
            break;
        case ENGINE_EXIT_HALT:
            machine_poll(m);
            return run_halted(e);
        case ENGINE_EXIT_SHUTDOWN:
            if (o->reboot_on_triple_fault && !m->config.no_reboot) {
                if (run_reset(e, m) < 0)
                    return STATUS_USAGE;
                break;
            }
            e->ops->print_fault_report(e, stderr);
            return STATUS_GUEST_STUCK;
        case ENGINE_EXIT_BREAKPOINT:
        case ENGINE_EXIT_WATCHPOINT:
        case ENGINE_EXIT_STEP:
            break;   /* only the monitor (a later issue) sets these */
        case ENGINE_EXIT_ERROR:
            fprintf(stderr, "trapeze: %s\n", x.message ? x.message : "the engine cannot go on");
            return STATUS_GUEST_STUCK;
        }
    }
}

int main(int argc, char **argv)
{
    struct options o;
    struct engine e;
    int err, status;

    if (cmdline_parse(&o, argc, argv) < 0)
        return STATUS_USAGE;
    if (o.help) {
        cmdline_usage(stdout);
        return 0;
    }
    if (o.version) {
        printf("trapeze 0.1 (an educational x86 PC emulator)\n");
        return 0;
    }

    /* An engine that cannot run here is said before any image is read. */
    err = engine_available(o.engine);
    if (err < 0)
        return status_for_error(err);

    struct machine *m = calloc(1, sizeof *m);   /* large (the port table): not on the stack */
    if (!m) {
        fprintf(stderr, "trapeze: out of host memory\n");
        return STATUS_HOST;
    }
    err = machine_init(m, &o.machine);
    if (err < 0) {
        free(m);
        return status_for_error(err);
    }
    err = engine_create(&e, o.engine, m);
    if (err < 0) {
        machine_destroy(m);
        free(m);
        return status_for_error(err);
    }

    status = run_loop(&e, m, &o);

    fflush(stdout);
    if (o.stats)
        e.ops->print_stats(&e, stderr);
    engine_destroy(&e);
    machine_destroy(m);
    free(m);
    return status;
}
