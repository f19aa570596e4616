/*
 * cpu.h - the software x86 CPU, as hardware: its public interface.
 *
 * cpu/ knows nothing about VMMs.  It is a faithful i386-class processor
 * (with the Pentium-era integer additions) that runs until something
 * happens, then returns an exit.  Who owns exceptions decides the rest:
 *
 *   - the emu engine leaves cpu->exit_on_exception = 0: the CPU delivers
 *     every exception and interrupt through the guest IDT itself;
 *   - a VMM (tae, bt) sets bits in exit_on_exception: those vectors come
 *     back as CPU_EXIT_EXCEPTION with vector and error code, EIP at the
 *     faulting instruction, nothing pushed on the guest stack.
 *
 * Worked example (tests/unit/test_cpu_run.c, owner_receives_gp_of_cli_at_cpl1): a VMM runs a CLI at CPL 1 with
 * exit_on_exception = 1 << X86_GP; cpu_run returns CPU_EXIT_EXCEPTION,
 * vector 13, error code 0, and EIP still points at the CLI.  An INT 0x0D
 * there would come back as vector 13 too, but with event_kind
 * CPU_EVENT_SOFT_INT and EIP after it (tests/unit/test_cpu_seams.c);
 * the VMM hands either back to the guest with cpu_inject_event.
 */
#ifndef TRAPEZE_CPU_H
#define TRAPEZE_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu/decode.h"
#include "cpu/irq_source.h"
#include "cpu/x86_state.h"
#include "mmu/bus.h"
#include "mmu/mmu.h"

/* Processor signature (CPUID.1:EAX, EDX at reset): family 5, model 2,
 * stepping 5 - a Pentium (P54C), the class of CPU modelled. */
#define CPU_SIGNATURE 0x00000525u

/* Exception vectors (SDM Vol. 3A 6.3.1, table 6-1). */
enum x86_vector {
    X86_DE = 0,  /* divide error */
    X86_DB = 1,  /* debug */
    X86_NMI = 2,
    X86_BP = 3,  /* INT3 */
    X86_OF = 4,  /* INTO */
    X86_BR = 5,  /* BOUND */
    X86_UD = 6,  /* invalid opcode */
    X86_NM = 7,  /* device not available */
    X86_DF = 8,  /* double fault */
    X86_TS = 10, /* invalid TSS */
    X86_NP = 11, /* segment not present */
    X86_SS = 12, /* stack fault */
    X86_GP = 13, /* general protection */
    X86_PF = 14, /* page fault */
    X86_MF = 16, /* x87 error */
    X86_AC = 17, /* alignment check */
    X86_MC = 18, /* machine check */
};

enum cpu_exit_reason {
    CPU_EXIT_BUDGET,     /* ran the instructions it was given */
    CPU_EXIT_HALT,       /* HLT with interrupts that cannot wake it (IF=0), or idle */
    CPU_EXIT_BREAKPOINT, /* a cpu_set_breakpoint address was reached (not executed) */
    CPU_EXIT_STEP,       /* cpu_run with step=true executed one instruction */
    CPU_EXIT_EXCEPTION,  /* an owned exception (exit_on_exception) */
    CPU_EXIT_INTERRUPT,  /* an owned external interrupt (exit_on_interrupt) */
    CPU_EXIT_TRIPLE_FAULT, /* shutdown: see cpu->fault_chain */
    CPU_EXIT_REQUEST,    /* somebody called cpu_request_exit (device, monitor) */
    CPU_EXIT_WATCHPOINT, /* a watched linear address was accessed */
    CPU_EXIT_UNSUPPORTED, /* the guest needs a feature not modelled (vm86) */
};

/*
 * What kind of event an exit (or cpu_inject_event) is about, which decides
 * where EIP points (SDM Vol. 3A 6.5, "Exception classifications"):
 *
 *   FAULT     EIP at the instruction that raised it (it can be restarted)
 *   TRAP      EIP after it (#DB single-step and data breakpoints, INT1/ICEBP)
 *   SOFT_INT  EIP after it (INT n, INT3, INTO; gate DPL checked on delivery)
 *   EXTERNAL  an interrupt or NMI between instructions
 */
enum cpu_event_kind { CPU_EVENT_FAULT, CPU_EVENT_TRAP, CPU_EVENT_SOFT_INT, CPU_EVENT_EXTERNAL };

struct cpu_exit {
    enum cpu_exit_reason reason;
    int vector;           /* EXCEPTION / INTERRUPT */
    bool has_error_code;
    uint32_t error_code;
    enum cpu_event_kind event_kind; /* EXCEPTION: its kind; INTERRUPT: EXTERNAL */
    uint8_t insn_len;     /* EXCEPTION: length of the instruction that raised it,
                             prefixes included; 0 when none did (a fault while
                             delivering an event, a code fetch fault) */
    uint32_t address;     /* BREAKPOINT: linear address; WATCHPOINT: the first
                             watched byte the access touched (linear, or
                             physical when watch_physical) */
    const char *message;  /* UNSUPPORTED: what */
    uint8_t watch_kind;   /* WATCHPOINT: the kind of the watchpoint hit (enum cpu_watch_kind) */
    bool watch_physical;  /* WATCHPOINT: it watches physical addresses */
};

/*
 * Host watchpoints (the monitor's `watch`, GDB's Z2/Z3/Z4): not the guest's
 * debug registers, invisible to it.  An access to any byte of
 * [addr, addr+len) of the kind watched makes cpu_run return
 * CPU_EXIT_WATCHPOINT after the accessing instruction has completed (a trap,
 * as x86 data breakpoints are, SDM Vol. 3B 17.3.1.2, and as gdb expects:
 * EIP already points to the next instruction).  A read-modify-write
 * instruction both reads and writes.  Linear watchpoints see the
 * instruction's data accesses through segments (not implicit descriptor-
 * table, IDT or TSS reads); physical ones see every CPU data access that
 * reaches that RAM (through any mapping, A20 applied), but neither
 * instruction fetches, page walks, DMA nor debugger accesses.
 */
enum cpu_watch_kind {
    CPU_WATCH_WRITE = 1,   /* gdb "watch" */
    CPU_WATCH_READ = 2,    /* gdb "rwatch" */
    CPU_WATCH_ACCESS = 3,  /* gdb "awatch": reads and writes */
};

#define CPU_MAX_WATCHPOINTS 16
struct cpu_watchpoint {
    uint32_t addr, len;    /* [addr, addr+len), len >= 1, no wrap past 4 GiB */
    uint8_t kind;          /* enum cpu_watch_kind */
    bool physical;         /* physical (RAM) rather than linear addresses */
};

/* The chain of faults that led to a double or triple fault. */
#define CPU_FAULT_CHAIN_MAX 8
struct cpu_fault_record {
    int vector;
    bool has_error_code;
    uint32_t error_code;
    uint32_t cr2;
    struct x86_state state;   /* the state when the fault was raised */
};

/* Lazy arithmetic flags: the last flag-setting operation, kept undone. */
enum lazy_op {
    LF_NONE,   /* eflags holds the arithmetic flags */
    LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC,
    LF_SHL, LF_SHR, LF_SAR,   /* src1 = value shifted, src2 = count (1-31) */
};

struct lazy_flags {
    uint32_t res, src1, src2;
    uint8_t op;       /* enum lazy_op */
    uint8_t size;     /* 1, 2 or 4 bytes */
};

struct cpu_stats {
    uint64_t instructions;
    uint64_t exceptions[32];
    uint64_t interrupts[256];   /* delivered, by vector */
    uint64_t blocks_decoded, block_invalidations;
};

/* Decoded-block cache (see cpu/block.c for the design). */
struct decoded_block;
struct block_cache;

/* Interrupt controller interface (struct cpu_irq_source): cpu/irq_source.h. */

/*
 * Sensitive-but-unprivileged instructions (Popek and Goldberg's objection
 * to x86, DESIGN.md "tae"): at CPL > 0 they run without trapping yet read
 * or change what a VMM virtualizes.  cpu->sensitive_hook is called for
 * each one that completed at CPL > 0 (never for one that faulted, never at
 * CPL 0), after it ran, with what it did:
 *
 *   mnemonic      eip/cs/cpl: where and at which ring it ran (before a far
 *                 transfer changed them)
 *                 wanted / got:
 *   "pushf"       got = the image pushed (16 bits for PUSHF with o16)
 *   "popf" "iret" wanted = the EFLAGS image popped (16-bit forms: its upper
 *                 half is EFLAGS's after the instruction), got = EFLAGS
 *                 after it: wanted ^ got shows what the CPU silently kept
 *                 (IF when CPL > IOPL, IOPL when CPL > 0; also RF, VM, VIF,
 *                 VIP and the fixed bits where the image differs)
 *   "sgdt" "sidt" got = the base stored
 *   "sldt" "str"  got = the selector stored
 *   "smsw"        got = the value stored
 *   "lar" "lsl"   got = the value loaded (0 when ZF = 0: nothing loaded),
 *                 wanted = ZF (1 or 0)
 *   "verr" "verw" got = ZF
 *   "push es" .. "push gs", "mov from es" .. "mov from gs" (MOV r/m, Sreg):
 *                 got = the selector stored
 *   "pop es" "pop ss" ..., "mov es" "mov ss" ... (MOV Sreg, r/m),
 *   "lds" "les" "lfs" "lgs" "lss": got = the selector loaded
 *   "call far" "jmp far" "retf": got = the new CS selector
 *   ("iret" also changes CS: the new one is in the CPU's state)
 * Fields not listed are 0.
 */
struct cpu_sensitive {
    const char *mnemonic;
    uint32_t eip;          /* EIP (offset in CS) of the instruction */
    uint16_t cs;           /* CS selector while it ran (before a far transfer) */
    uint8_t cpl;           /* CPL while it ran */
    uint32_t wanted;       /* see above */
    uint32_t got;          /* see above */
    uint16_t selector;     /* lar lsl verr verw: the selector examined */
};
typedef void (*cpu_sensitive_hook)(void *opaque, const struct cpu_sensitive *ev);

#define CPU_MAX_BREAKPOINTS 16

struct cpu {
    struct x86_state s;          /* architectural state (eflags arith bits lazy) */
    struct lazy_flags lf;
    struct mmu mmu;
    struct bus *bus;

    /* Execution bookkeeping. */
    uint32_t insn_eip;           /* EIP of the instruction being executed */
    const struct x86_insn *insn; /* the instruction being executed (per-instruction path only) */
    bool end_block;              /* stop the current block after this insn */
    bool exit_requested;         /* cpu_request_exit was called */
    bool exit_pending;           /* an exit is filed in 'pending_exit' */
    struct cpu_exit pending_exit;
    jmp_buf fault_jmp;           /* cpu_raise unwinds to the run loop */
    bool in_run;
    int mmu_user;                /* TLB half for data accesses: CPL == 3 */

    /* Exception delivery state, for double and triple faults. */
    int delivering;              /* nesting while delivering exceptions */
    int first_vector;            /* vector of the fault being delivered, or -1 */
    unsigned log_event_count;    /* -d int: events logged so far (QEMU numbers its lines) */
    struct cpu_fault_record fault_chain[CPU_FAULT_CHAIN_MAX];
    int fault_chain_len;

    /* Who owns events. */
    uint32_t exit_on_exception;  /* bit v: exception v exits instead of delivery */
    bool exit_on_interrupt;      /* external interrupts exit (vector acknowledged) */
    /* Every INT n (any vector), INT3 and INTO (when OF = 1), at any CPL,
     * exits as CPU_EXIT_EXCEPTION, event_kind CPU_EVENT_SOFT_INT, vector n,
     * insn_len its length: before any IDT, gate or DPL check, nothing
     * pushed, EIP after the instruction, which counts as retired.  A VMM
     * that keeps the guest's IDT virtual sees each system call this way. */
    bool exit_on_soft_int;
    /* Where the last software-interrupt exit (exit_on_soft_int, or an
     * owned vector) left EIP, and where its INT was: a fault while
     * cpu_inject_event delivers that INT then points at the INT, as it
     * would on hardware (the CPU knows the length it reported). */
    bool soft_int_known;
    uint16_t soft_int_cs;
    uint32_t soft_int_next, soft_int_eip;
    cpu_sensitive_hook sensitive_hook;
    void *sensitive_opaque;
    /*
     * A "virtualizable x86": each of PUSHF POPF SGDT SIDT SLDT STR SMSW LAR
     * LSL VERR VERW, PUSH Sreg and MOV r/m, Sreg executed at CPL > 0 raises
     * #GP(0) instead (a fault: EIP at it, nothing changed), as CR4.UMIP
     * does for SGDT SIDT SLDT SMSW STR (SDM Vol. 3A 2.5) and as a
     * trap-and-emulate VMM would need for the rest.  Segment loads, far
     * CALL/JMP/RETF and IRET still run (and are reported).
     */
    bool sensitive_traps;

    struct cpu_irq_source irq;
    bool nmi_pending;

    /* Host breakpoints (monitor, GDB software breakpoints), linear addresses. */
    uint32_t breakpoints[CPU_MAX_BREAKPOINTS];
    int breakpoint_count;
    /* The breakpoint that last stopped a run: continuing from it executes
     * the instruction there instead of stopping again (gdb's habit). */
    bool breakpoint_resume_armed;
    uint32_t breakpoint_resume_lin;
    bool check_each_insn;        /* slow path: breakpoints, TF, DR7 execute bps */

    /* Time: the TSC counts instructions scaled by this (set by the machine). */
    uint64_t tsc_offset;

    struct block_cache *blocks;
    struct cpu_stats stats;

    /* Debug registers' data breakpoints are checked on the slow memory path. */
    bool data_breakpoints_active;
    uint32_t pending_dr6;        /* B0-B3 hits of the current instruction */

    /* Host watchpoints (cpu_set_watchpoint; checked in debug.c). */
    struct cpu_watchpoint watchpoints[CPU_MAX_WATCHPOINTS];
    int watchpoint_count;
    int linear_watchpoint_count; /* how many of them are linear */
    bool in_data_access;         /* memory.c: a data access is on the bus (physical hits count) */
    bool watch_hit;              /* a watchpoint hit by the current instruction */
    struct cpu_exit watch_exit;  /* ... and the exit it will cause */
};

/* Create/destroy: allocates the block cache; returns -errno on failure. */
int cpu_init(struct cpu *cpu, struct bus *bus);
void cpu_destroy(struct cpu *cpu);

/*
 * Power-on / RESET state (SDM Vol. 3A 9.1.1): CS:EIP = F000:FFF0, base
 * FFFF0000.  (Not named cpu_reset: libunicorn exports that symbol and the
 * differential test links both.)
 */
void cpu_hard_reset(struct cpu *cpu);

/*
 * Run until an exit, at most 'budget' instructions (0 = no limit).
 * With 'step' true exactly one instruction (or one event delivery) runs.
 */
struct cpu_exit cpu_run(struct cpu *cpu, uint64_t budget, bool step);

/* Ask a running CPU to return CPU_EXIT_REQUEST at the next instruction boundary. */
void cpu_request_exit(struct cpu *cpu);

/*
 * State in and out.  Getting materialises the lazy flags.  Setting flushes
 * only what the change needs: the TLB when CR0.PG/WP/PE, CR3, CR4.PSE/PGE
 * or A20 differ from the CPU's, or when the state's TSC is not the CPU's
 * (a state not just read with cpu_get_state: a snapshot, another engine's,
 * whose page tables may differ behind the same CR3).  A CPL change just
 * selects the TLB's user or supervisor half; decoded blocks are keyed so
 * that CS, CPL and EIP changes need no flush.  A VMM that edits page
 * tables in place without changing CR3 must flush itself:
 * cpu_state_changed (or cpu_forget_code when RAM changed behind the CPU).
 */
void cpu_get_state(struct cpu *cpu, struct x86_state *out);
void cpu_set_state(struct cpu *cpu, const struct x86_state *in);

/*
 * Cheap setters for a VMM emulating an instruction: they flush nothing and
 * keep the derived state right.
 *   cpu_set_eip      EIP; moving away from the breakpoint the last run
 *                    stopped at forgets it (as cpu_set_state)
 *   cpu_set_gpr      one general register
 *   cpu_set_eflags   all of EFLAGS (bit 1 forced to 1), lazy flags dropped;
 *                    the per-instruction debug path follows TF and RF
 *   cpu_set_segment  a segment register, selector and hidden part as given;
 *                    SEG_CS also sets CPL = selector & 3 (0 in real mode, 3
 *                    in vm86); other registers change nothing else (SS does
 *                    not change CPL either)
 */
void cpu_set_eip(struct cpu *cpu, uint32_t eip);
void cpu_set_gpr(struct cpu *cpu, enum x86_reg r, uint32_t value);
void cpu_set_eflags(struct cpu *cpu, uint32_t eflags);
void cpu_set_segment(struct cpu *cpu, enum x86_sreg r, const struct x86_segment *seg);

/* Host breakpoints at linear addresses. Return -ENOSPC / -ENOENT. */
int cpu_set_breakpoint(struct cpu *cpu, uint32_t lin);
int cpu_clear_breakpoint(struct cpu *cpu, uint32_t lin);

/*
 * Host watchpoints (see enum cpu_watch_kind above).  'len' >= 1 and the
 * range must not wrap past 4 GiB (-EINVAL); physical ones must lie in RAM
 * (-EINVAL); -ENOSPC when CPU_MAX_WATCHPOINTS are set.  Clearing needs the
 * same addr, len, kind and physical as setting (-ENOENT otherwise).
 * Physical watchpoints flag their RAM pages BUS_PAGE_WATCHED, so every
 * access to those pages leaves the TLB fast path.
 */
int cpu_set_watchpoint(struct cpu *cpu, uint32_t addr, uint32_t len,
                       enum cpu_watch_kind kind, bool physical);
int cpu_clear_watchpoint(struct cpu *cpu, uint32_t addr, uint32_t len,
                         enum cpu_watch_kind kind, bool physical);

/*
 * Reflect an event into the guest (a VMM handing back what it received):
 * deliver 'vector' through the CPU's current IDT (or real-mode IVT) exactly
 * as if the instruction at the current EIP raised it now, whoever owns the
 * vector in exit_on_exception:
 *
 *   FAULT     EIP is the faulting instruction; RF is pushed set as for
 *             faults; a fault raised while delivering it follows the
 *             double-fault table (SDM Vol. 3A 6.15, table 6-5): #PF or a
 *             contributory fault then a contributory one (or #PF then #PF)
 *             give #DF, and a fault delivering #DF shuts down
 *   TRAP      EIP is the instruction after (a #DB trap, INT1)
 *   SOFT_INT  INT n / INT3 / INTO: EIP already after the INT (the caller set
 *             it); the gate's DPL is checked against CPL, error codes of
 *             faults have EXT = 0; a fault points at the INT when EIP is
 *             still where the last software-interrupt exit left it
 *   EXTERNAL  an interrupt (EXT = 1 in error codes)
 *
 * Returns CPU_EXIT_STEP when the event was delivered and nothing else
 * happened (CS:EIP at the handler), CPU_EXIT_TRIPLE_FAULT on shutdown
 * (cpu->fault_chain filled), CPU_EXIT_EXCEPTION when a fault raised while
 * delivering it is one the caller owns (exit_on_exception; nothing pushed,
 * EIP as that fault leaves it), CPU_EXIT_WATCHPOINT when the pushes hit a
 * host watchpoint (the event is delivered), CPU_EXIT_UNSUPPORTED (vm86).
 * stats.interrupts[vector] counts the delivery; stats.exceptions does not
 * count the injected event again (its first raising did).
 */
struct cpu_exit cpu_inject_event(struct cpu *cpu, int vector, enum cpu_event_kind kind,
                                 bool has_error, uint32_t error_code);
/* cpu_inject_event(..., CPU_EVENT_EXTERNAL, ...), its result dropped. */
void cpu_inject_interrupt(struct cpu *cpu, int vector, bool has_error, uint32_t error_code);

/* Debug/monitor memory access through the current paging mode, no side effects on faults. */
bool cpu_read_linear(struct cpu *cpu, uint32_t lin, void *buf, uint32_t len);
bool cpu_write_linear(struct cpu *cpu, uint32_t lin, const void *buf, uint32_t len);

/* Current EFLAGS with arithmetic flags materialised. */
uint32_t cpu_get_eflags(struct cpu *cpu);

/* Code-segment mode, for the disassembler: 16 or 32. */
int cpu_code_bits(const struct cpu *cpu);

/*
 * RAM changed where the CPU could not see it - another engine (KVM) ran
 * the guest on the same RAM, so no write went through the code-page
 * hooks: forget every decoded block and every cached translation.
 */
void cpu_forget_code(struct cpu *cpu);

/* Recompute derived caches after the state was changed in place (CPL, TLB
 * half, slow checks): drops the whole TLB. */
void cpu_state_changed(struct cpu *cpu);

#endif
