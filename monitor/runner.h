/*
 * runner.h - running the machine until something the user must see.
 *
 * One loop serves every front end: the plain command line (run to the
 * end), the monitor shell (continue, step, until) and the GDB stub.  It
 * owns what happens between engine slices - machine stops (power off,
 * isa-debug-exit, reset), triple faults, halts, the virtual clock's timers
 * and host input - so no front end duplicates it.
 */
#ifndef TRAPEZE_RUNNER_H
#define TRAPEZE_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "monitor/cmdline.h"
#include "vmm/engine.h"

struct machine;

/* Process exit statuses (DESIGN.md "Exit statuses"). */
enum {
    STATUS_POWER_OFF = 0,
    STATUS_USAGE = 2,
    STATUS_GUEST_STUCK = 4,
    STATUS_HOST = 6,
    STATUS_INSN_CAP = 8,      /* -max-insns: the instruction cap was reached */
};

enum run_result {
    RUN_FINISHED,     /* the machine is done: runner->status is the exit status */
    RUN_BREAKPOINT,   /* a host breakpoint: runner->address */
    RUN_WATCHPOINT,   /* a host watchpoint: runner->address */
    RUN_STEPPED,      /* the single step asked for is done */
    RUN_BUDGET,       /* ran the instructions asked for */
    RUN_INTERRUPTED,  /* runner_interrupt() was called (Ctrl-C, a debugger) */
};

struct runner {
    struct engine *engine;
    struct machine *machine;
    const struct options *options;
    int status;               /* valid after RUN_FINISHED */
    uint32_t address;         /* breakpoint / watchpoint address */
    volatile int interrupted; /* set by runner_interrupt (signal-safe) */
    bool finished;            /* the machine cannot run any more */
    bool halted_for_good;     /* finished: the guest halted and nothing can wake it */
    const char *finish_message; /* why it finished, when there is one to print */
    bool powered_off;         /* it finished by a power-off (or a reset under -no-reboot): -no-shutdown */
    /* BREAKPOINT / WATCHPOINT: the engine's exit (watchpoint kind, space). */
    struct engine_exit last_exit;
    /*
     * Called after every engine slice while runner_run runs (NULL: none):
     * a front end looks at host input here (the GDB stub: Ctrl-C from the
     * debugger, a debugger connecting) and calls runner_interrupt.
     */
    void (*poll)(void *opaque);
    void *poll_opaque;
    volatile int running;     /* inside runner_run (read by the signal handler) */
    /* -max-insns (options->max_insns): finish with STATUS_INSN_CAP once the
       engine's counters show this many instructions retired; 0: no cap. */
    uint64_t insn_cap;
    const char *insn_cap_from;   /* "-max-insns" or "TRAPEZE_MAX_INSNS", for the line */
};

void runner_init(struct runner *r, struct engine *e, struct machine *m, const struct options *o);

/*
 * Run until something to report.  'max_instructions' 0 means no limit;
 * 'step' runs one instruction.  Messages for the user (halted forever,
 * triple-fault report, the instruction cap) are printed to stderr here,
 * once.  The instruction cap (insn_cap) is final, like a triple fault:
 * reaching it is RUN_FINISHED with STATUS_INSN_CAP, whether the guest ran
 * for the command line, a monitor `continue` or gdb.
 */
enum run_result runner_run(struct runner *r, uint64_t max_instructions, bool step);

/* Make a running runner_run return RUN_INTERRUPTED soon (async-signal safe). */
void runner_interrupt(struct runner *r);

/*
 * End the run as QEMU does on SIGTERM and SIGHUP (and SIGINT when 'sigint':
 * no shell takes Ctrl-C): a signal that comes while the guest runs makes
 * runner_run return RUN_FINISHED with status 0 after one stderr line
 * "trapeze: terminating on signal N from pid P", so the front end ends
 * normally and -screendump, the terminal and the files are written and put
 * back.  A signal while the guest is stopped (a monitor prompt, a debugger
 * stop), or a second one, ends the process at once with the terminal
 * restored, as before.  One runner per process takes the signals.
 */
void runner_catch_signals(struct runner *r, bool sigint);

/* Map a -errno from set-up to an exit status (host failure or bad input). */
int runner_status_for_error(int err);

#endif
