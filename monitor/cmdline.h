/*
 * cmdline.h - the qemu-system-i386 command line (DESIGN.md "Conventions
 * users already know"), parsed into a machine configuration and the run
 * options.
 *
 * Options take their argument as the next word ("-m 64"), and may be
 * spelled with two dashes ("--kernel"), as QEMU allows.  An option DESIGN.md
 * lists but trapeze does not have yet is named in an error that says which
 * issue brings it; an unknown one is an error too.  Nothing is silently
 * ignored.
 */
#ifndef TRAPEZE_CMDLINE_H
#define TRAPEZE_CMDLINE_H

#include <stdbool.h>
#include <stdio.h>

#include "machine/machine.h"
#include "vmm/engine.h"

struct options {
    struct machine_config machine;
    const char *engine;           /* -engine, default "emu" */
    struct engine_options engine_options;   /* -kvm-fallback on|off */
    bool stats;                   /* -stats: engine statistics on stderr at exit */
    bool help;                    /* -help: print usage and exit 0 */
    bool version;                 /* -version */
    bool headless;                /* -nographic or -display none (machine.display says it too) */
    bool nographic;               /* -nographic: also the BIOS's serial console and Ctrl-A on stdio */
    /*
     * -icount shift=N: the virtual clock counts instructions, 2^N ns each
     * (also in machine.icount / machine.icount_shift).  -1: not given.
     */
    int icount_shift;
    /*
     * -max-insns N (or TRAPEZE_MAX_INSNS when it is not given): the run ends
     * with status 8 once the engine's counters show N instructions retired
     * (monitor/runner.c).  0: no cap.  max_insns_from names where it came
     * from ("-max-insns", "TRAPEZE_MAX_INSNS"; NULL: neither).
     */
    uint64_t max_insns;
    const char *max_insns_from;
    bool reboot_on_triple_fault;  /* -action reboot=reset */
    bool monitor;                 /* -monitor [stdio], or -serial mon:stdio: start in the shell */
    bool monitor_mux;             /* -serial mon:stdio (or -nographic): COM1 and the shell share stdio (Ctrl-A c) */
    bool monitor_none;            /* -monitor none */
    const char *monitor_script;   /* -monitor-script FILE: the shell's commands from FILE */
    const char *gdb;              /* -gdb DEV, or -s ("tcp::1234"): the GDB stub; NULL: none */
    bool start_stopped;           /* -S: wait for the debugger (or the shell) before running */
    /* Logging (base/log.h): -d LIST, -D FILE; -d help lists the items and exits 0. */
    uint32_t log_mask;
    const char *log_file;
    bool log_help;
    bool no_shutdown;             /* -no-shutdown: a powered-off guest stops, trapeze stays */
    const char *cpu_model;        /* -cpu MODEL (checked against the engine); NULL: the engine's own */
    char cpu_model_buf[32];       /* -cpu MODEL,FEATURE: the model part */
    bool cpu_feature_given;       /* -cpu MODEL,virtualizable=...: only with -engine tae */
    bool cpu_help;                /* -cpu help: list the models, exit 0 */
    /* Which flags chose the engine, for the error when two disagree. */
    const char *engine_flag;      /* "-engine" when given */
    const char *accel_flag;       /* "-enable-kvm", "-accel", "-machine accel=" when given */
    const char *accel_engine;     /* the engine that one chose */
};

/*
 * Parse argv into 'o' (defaults filled in).  Returns 0, or -EINVAL after
 * printing one line "trapeze: ..." to stderr (the caller exits with 2).
 */
int cmdline_parse(struct options *o, int argc, char **argv);

/* -cpu help: the CPU models, one line each. */
void cmdline_cpu_help(FILE *out);

/* The usage text of -help. */
void cmdline_usage(FILE *out);

#endif
