/*
 * engine.h - the one engine interface (DESIGN.md "One engine interface").
 *
 * The monitor, the GDB stub, savevm and the tests talk to engines only
 * through this, never to cpu/ internals.  emu is the first implementation
 * (vmm/engine_emu.c); tae, bt and kvm follow behind the same table.
 */
#ifndef TRAPEZE_ENGINE_H
#define TRAPEZE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/x86_state.h"
#include "mmu/mmu.h"   /* struct mmu_walk, enum mmu_access: what a translate returns */

struct machine;

enum engine_exit_reason {
    ENGINE_EXIT_BUDGET,       /* ran its budget: call run again */
    ENGINE_EXIT_HALT,         /* HLT with no interrupt that can wake the guest */
    ENGINE_EXIT_BREAKPOINT,   /* a host breakpoint (monitor/GDB) was reached */
    ENGINE_EXIT_WATCHPOINT,
    ENGINE_EXIT_STEP,         /* single step done */
    ENGINE_EXIT_SHUTDOWN,     /* triple fault / shutdown: see engine_fault_report */
    ENGINE_EXIT_REQUEST,      /* machine asked to stop (power off, debug exit, Ctrl-C) */
    ENGINE_EXIT_ERROR,        /* the engine cannot go on (message in 'message') */
};

/* Host watchpoints: what they watch (the values of cpu.h's cpu_watch_kind). */
enum engine_watch_kind {
    ENGINE_WATCH_WRITE = 1,   /* gdb "watch" */
    ENGINE_WATCH_READ = 2,    /* gdb "rwatch" */
    ENGINE_WATCH_ACCESS = 3,  /* gdb "awatch" */
};

struct engine_exit {
    enum engine_exit_reason reason;
    uint32_t address;         /* breakpoint; watchpoint: first watched byte accessed */
    const char *message;      /* ERROR: one line */
    enum engine_watch_kind watch_kind;   /* WATCHPOINT: the kind of the one hit */
    bool watch_physical;                 /* WATCHPOINT: it watches physical addresses */
    bool host_failure;        /* ERROR: the host cannot go on (KVM), not the guest: status 6 */
    /* BREAKPOINT from an exception stop (set_exception_stops): 'vector'
     * was raised.  A fault is not delivered yet (the state is as the fault
     * found it, EIP at its instruction); a trap or INT n was delivered
     * (exception_delivered: the state is the handler's first instruction). */
    bool exception;
    bool exception_delivered;
    int vector;
    bool has_error_code;
    uint32_t error_code;
};

/* Choices the command line makes for an engine (engine_create_with). */
struct engine_options {
    /* kvm: when the host cannot run the guest (a mode it has no native
       support for, an emulation failure, no progress), move the guest to
       the software CPU and back (-kvm-fallback on, the default); false:
       stop with one line naming the host limit (-kvm-fallback off). */
    bool kvm_fallback;
    /* tae: the CPU's "virtualizable x86" switch (-cpu ...,virtualizable=on):
       the sensitive-but-unprivileged instructions fault at CPL > 0, as UMIP
       and VT-x later made them, so the VMM sees and emulates each one. */
    bool sensitive_traps;
    /* bt: count the in-TC sequences as they run (-stats asks for it): each
       then carries a flags-free increment of a counter in the VMM's data,
       so timing runs (no -stats) run the sequences bare. */
    bool count_in_tc;
};

struct engine_stats_line { const char *name; uint64_t value; };

/* Event counters since the engine was created (the monitor's `stats`,
 * `info tlb`, `trace` and vector breakpoints read them). */
struct engine_counters {
    uint64_t instructions;
    uint64_t exceptions[32];     /* raised, by vector */
    uint64_t interrupts[256];    /* delivered, by vector (INT n, external, exceptions) */
    uint64_t tlb_hits, tlb_misses, tlb_flushes, page_walks;
    /* Software engines' decoded-code cache (0 where an engine has none). */
    uint64_t blocks_decoded, block_invalidations;
    /* A VMM's entries by cause (tae; 0 where an engine runs no VMM). */
    uint64_t vmm_traps;            /* exits to the VMM's trap path */
    uint64_t vmm_emulated;         /* instructions the VMM emulated */
    uint64_t vmm_hidden_faults;    /* page faults the shadow caused, served unseen */
    uint64_t vmm_true_faults;      /* page faults reflected to the guest */
    uint64_t vmm_reflected;        /* events delivered through the guest's IDT */
    uint64_t vmm_traced_writes;    /* writes to traced guest page tables / descriptor tables */
    uint64_t vmm_shadow_built;     /* shadow page tables built */
    uint64_t vmm_callouts;         /* bt: calls from translated code into the VMM (port I/O, emulation, lookup misses) */
    uint64_t vmm_in_tc;            /* bt: in-TC sequences run (CLI/STI/PUSHF/POPF; counted under -stats and in single steps) */
    uint64_t vmm_translated;       /* bt: CCFs made (not counting single steps' own) */
    uint64_t vmm_chained;          /* bt: exits patched into direct CCF-to-CCF jumps */
};

/*
 * One page walk of a linear address, named (the monitor's `translate` and
 * `info pt`): the guest's own page tables, or tables an engine runs the
 * guest on instead (tae's shadow page table).
 */
struct engine_walk {
    const char *name;          /* "guest", "shadow", ... */
    struct paging_regs regs;   /* the CR0, CR3 and CR4 walked under */
    struct mmu_walk walk;      /* each level read, the result or the #PF */
};
#define ENGINE_MAX_WALKS 2

struct engine;

struct engine_ops {
    const char *name;
    int (*create)(struct engine *e, struct machine *m);   /* -errno, message printed */
    void (*destroy)(struct engine *e);
    /* CPU to its RESET state, then machine->boot_state unless boot_from_reset. */
    void (*reset)(struct engine *e);
    struct engine_exit (*run)(struct engine *e, uint64_t budget);
    struct engine_exit (*step)(struct engine *e);
    void (*get_state)(struct engine *e, struct x86_state *s);
    void (*set_state)(struct engine *e, const struct x86_state *s);
    int (*set_breakpoint)(struct engine *e, uint32_t lin);
    int (*clear_breakpoint)(struct engine *e, uint32_t lin);
    /*
     * Host watchpoints on [addr, addr+len), linear or physical: the run
     * returns ENGINE_EXIT_WATCHPOINT after the accessing instruction
     * completed.  -EINVAL bad range, -ENOSPC full, -ENOENT (clear) not set;
     * clear takes the same arguments as set.  NULL: the engine has none.
     */
    int (*set_watchpoint)(struct engine *e, uint32_t addr, uint32_t len,
                          enum engine_watch_kind kind, bool physical);
    int (*clear_watchpoint)(struct engine *e, uint32_t addr, uint32_t len,
                            enum engine_watch_kind kind, bool physical);
    /*
     * Stop on the exceptions in 'vectors' (bit v: vector v < 32) the moment
     * they are raised, whether or not they can be delivered: run and step
     * return ENGINE_EXIT_BREAKPOINT with .exception (see struct
     * engine_exit).  The next run or step delivers a held fault, with
     * whatever its delivery raises (#GP, #DF, a triple fault).  0 ends the
     * stops.  NULL: the engine cannot (the monitor sees vectors only after
     * their delivery).
     */
    int (*set_exception_stops)(struct engine *e, uint32_t vectors);
    void (*request_exit)(struct engine *e);               /* async-signal safe */
    void (*print_stats)(struct engine *e, FILE *out);
    /* The chain of faults behind a SHUTDOWN exit, printed for the user. */
    void (*print_fault_report)(struct engine *e, FILE *out);
    /* Debug memory access through the guest's current paging. */
    bool (*read_linear)(struct engine *e, uint32_t lin, void *buf, uint32_t len);
    bool (*write_linear)(struct engine *e, uint32_t lin, const void *buf, uint32_t len);
    /*
     * Walk linear 'lin' for an access of kind 'access' ('user': a CPL 3
     * access) with mmu/'s walker, setting no Accessed or Dirty bit:
     * walks[0] is the guest's own tables under the guest's CR0/CR3/CR4; an
     * engine that runs the guest on tables of its own adds them after it
     * (tae: "shadow").  Returns how many walks it filled, 1 to 'max'.
     */
    int (*translate)(struct engine *e, uint32_t lin, enum mmu_access access, bool user,
                     struct engine_walk *walks, int max);
    /* Copy the event counters (struct engine_counters). */
    void (*get_counters)(struct engine *e, struct engine_counters *c);
    /* What the engine runs on and how it stands now (the monitor's
       `info engine`, `info kvm`); NULL: nothing beyond its name. */
    void (*print_info)(struct engine *e, FILE *out);
    /*
     * A view of the engine's own internals by name (the monitor's `info
     * vmm`, `info shadow [LIN]`, `info fidelity` under tae): 0 printed,
     * -ENOENT no such view here, -EINVAL a bad 'arg' (NULL or "" when none
     * was given).  NULL: the engine has none.
     */
    int (*print_topic)(struct engine *e, const char *topic, const char *arg, FILE *out);
};

struct engine {
    const struct engine_ops *ops;
    struct machine *machine;
    struct engine_options options;
    void *priv;
};

/* The defaults: what engine_create uses. */
struct engine_options engine_default_options(void);

/* Whether 'name' is one of DESIGN.md's engines, built or not. */
bool engine_known(const char *name);

/*
 * Whether engine 'name' can be created on this host: 0, or -errno after
 * one printed line (-EINVAL unknown, -ENODEV no KVM).
 * The command line calls it before building the machine.
 */
int engine_available(const char *name);

/*
 * Create engine 'name' for machine 'm'; prints one clear line and returns
 * -errno on failure: -EINVAL unknown name, -ENOSYS an engine of a later
 * issue, -ENODEV no /dev/kvm, others from the engine's create (host).
 */
int engine_create(struct engine *e, const char *name, struct machine *m);
/* The same with the command line's choices. */
int engine_create_with(struct engine *e, const char *name, struct machine *m,
                       const struct engine_options *options);
void engine_destroy(struct engine *e);

#endif
