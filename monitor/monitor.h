/*
 * monitor.h - the monitor shell: a debugger for the whole machine.
 *
 * monitor/commands.c holds the command table and the parser, the cmd_*.c
 * files what the commands do (by concern); monitor/shell.c reads the lines (readline with history and
 * completion, or a -monitor-script file) and owns Ctrl-C and the
 * -serial mon:stdio switch.  The guest is driven only through the runner
 * (monitor/runner.h) and the engine interface (vmm/engine.h).
 */
#ifndef TRAPEZE_MONITOR_H
#define TRAPEZE_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "monitor/runner.h"
#include "monitor/symbols.h"
#include "vmm/engine.h"

/* What a breakpoint or watchpoint fires on. */
enum mon_bp_kind {
    BP_LINEAR,      /* executing the instruction at a linear address (CS:IP in real mode) */
    BP_PHYSICAL,    /* executing the instruction at a physical address */
    BP_VECTOR,      /* an exception or interrupt delivered through vector N */
    BP_IO,          /* IN/OUT/INS/OUTS on a port */
    WP_LINEAR,      /* data access to linear memory (the engine's watchpoints) */
    WP_PHYSICAL,    /* data access to physical memory */
};

#define MON_MAX_BPS 64
#define MON_MAX_DISPLAYS 16
#define MON_COND_MAX 160

struct mon_bp {
    int id;                  /* 0: free slot */
    enum mon_bp_kind kind;
    uint32_t addr, len;      /* address, vector or port; len for watchpoints */
    int watch_kind;          /* enum engine_watch_kind */
    bool temporary, enabled;
    char cond[MON_COND_MAX]; /* "" or an expr.h expression */
    uint64_t hits;
    bool installed;          /* set in the engine now */
};

struct mon_display {
    int id;                  /* 0: free slot */
    bool memory;             /* display/FMT ADDR, else display EXPR */
    char text[MON_COND_MAX]; /* the expression, or the address expression */
    char format, unit;       /* memory: x/d/u/c/s/i and b/h/w/g */
    int count;
};

struct monitor {
    struct runner *runner;
    struct engine *engine;
    struct machine *machine;
    FILE *out;
    struct symbols symbols;  /* the -kernel image's, for names in expressions and listings */
    struct mon_bp bps[MON_MAX_BPS];
    int next_bp_id;
    struct mon_display displays[MON_MAX_DISPLAYS];
    int next_display_id;
    FILE *trace;             /* trace on FILE */
    bool quit;               /* `quit` was given */
    volatile int interrupt;  /* Ctrl-C while the guest runs (set by the signal handler) */
    bool mux;                /* -serial mon:stdio: a `c` hands the console to the guest */
    /* Faults an exception stop left raised but not delivered (bit v). */
    uint32_t held_exceptions;
    /* `finish`: the frame the last step entered by a CALL. */
    bool call_frame_valid;
    uint32_t call_frame_esp;
    int call_frame_bits;
    /* `x` remembers its last format and where it ended, as gdb does. */
    char x_format, x_unit;
    uint32_t x_next;
    /* The selector of the last SEL:OFF address read (-1: the address had
     * none) and its base; x/i and disas label their lines with it. */
    int32_t addr_sel, x_sel;
    uint32_t addr_sel_base, x_sel_base;
};

void monitor_init(struct monitor *mon, struct runner *r, FILE *out);
void monitor_destroy(struct monitor *mon);

/* Run one command line (errors are one printed line).  False once `quit` was given. */
bool monitor_execute(struct monitor *mon, const char *line);

/* Whether the command of 'line' runs the guest (step, next, continue,
 * until, finish) or replaces its state (loadvm): gdb's qRcmd refuses those. */
bool monitor_command_runs_guest(const char *line);

/* Print where the guest stands ("=> CS:EIP bytes insn"), then the displays. */
void monitor_show_location(struct monitor *mon);

/* Run the guest until the instruction at linear 'lin' is next (the shell's
 * start: through the built-in BIOS to a -kernel's entry), then show it. */
void monitor_run_to(struct monitor *mon, uint32_t lin);

/* Names for completion: commands (NULL-terminated), and the count. */
const char *monitor_command_name(int index);

/*
 * The shell: interactive (readline on the terminal) or, with
 * o->monitor_script, the commands of a file echoed with their output.
 * Returns the process exit status.
 */
int monitor_shell(struct runner *r, const struct options *o);

#endif
