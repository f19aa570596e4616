/*
 * engine_emu.c - the emu engine: full-system emulation on the software CPU.
 *
 * The reference engine: the guest runs at its real privilege levels on
 * struct cpu, which delivers every exception and interrupt through the
 * guest's own IDT (cpu->exit_on_exception stays 0).  This file only
 * translates between the engine interface and cpu.h: it owns no state of
 * its own beyond the CPU.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "machine/machine.h"
#include "vmm/engine.h"
#include "vmm/engine_emu.h"

/* The engine's state: the CPU, and the monitor's exception stops. */
struct emu_engine {
    struct cpu cpu;             /* first: e->priv is also the struct cpu */
    uint32_t exception_stops;   /* set_exception_stops: bit v stops on vector v */
    uint32_t exception_held;    /* faults held at the current instruction: the next run delivers them */
};

static struct cpu *emu_cpu(struct engine *e) { return &((struct emu_engine *)e->priv)->cpu; }

/* Exception names (SDM Vol. 3A table 6-1), for fault reports and stats. */
static const char *const emu_vector_names[32] = {
    [0] = "#DE divide error",      [1] = "#DB debug",
    [2] = "NMI",                   [3] = "#BP breakpoint",
    [4] = "#OF overflow",          [5] = "#BR bound range",
    [6] = "#UD invalid opcode",    [7] = "#NM device not available",
    [8] = "#DF double fault",      [9] = "coprocessor segment overrun",
    [10] = "#TS invalid TSS",      [11] = "#NP segment not present",
    [12] = "#SS stack fault",      [13] = "#GP general protection",
    [14] = "#PF page fault",       [16] = "#MF x87 error",
    [17] = "#AC alignment check",  [18] = "#MC machine check",
    [19] = "#XM SIMD exception",
};

static const char *emu_vector_name(int v);
const char *engine_emu_vector_name(int v) { return emu_vector_name(v); }

static const char *emu_vector_name(int v)
{
    if (v >= 0 && v < 32 && emu_vector_names[v])
        return emu_vector_names[v];
    return "reserved";
}

/* The machine's stop request reaches the CPU at its next instruction boundary. */
static void emu_request_stop(void *opaque)
{
    cpu_request_exit(opaque);
}

static void emu_reset(struct engine *e)
{
    struct cpu *cpu = emu_cpu(e);
    struct machine *m = e->machine;

    ((struct emu_engine *)e->priv)->exception_held = 0;
    cpu_hard_reset(cpu);
    if (!m->boot_from_reset)
        cpu_set_state(cpu, &m->boot_state);
}

/* The virtual clock's instruction counter (-icount). */
static uint64_t emu_instructions(void *opaque)
{
    return ((struct cpu *)opaque)->stats.instructions;
}

static int emu_create(struct engine *e, struct machine *m)
{
    struct emu_engine *u = calloc(1, sizeof *u);
    struct cpu *cpu = u ? &u->cpu : NULL;
    if (!u) {
        fprintf(stderr, "trapeze: emu: out of host memory for the CPU\n");
        return -ENOMEM;
    }
    int err = cpu_init(cpu, &m->bus);
    if (err < 0) {
        fprintf(stderr, "trapeze: emu: cannot create the CPU: %s\n", strerror(-err));
        free(u);
        return err;
    }
    e->priv = u;
    emu_reset(e);
    m->request_stop = emu_request_stop;
    m->request_stop_opaque = cpu;
    /* The board's PIC drives INTR; retired instructions drive -icount time. */
    cpu->irq = m->irq_source;
    vclock_set_counter(&m->clock, emu_instructions, cpu);
    return 0;
}

static void emu_destroy(struct engine *e)
{
    struct cpu *cpu = emu_cpu(e);
    if (e->machine->request_stop_opaque == cpu) {
        e->machine->request_stop = NULL;
        e->machine->request_stop_opaque = NULL;
    }
    if (e->machine->clock.instructions_opaque == cpu)
        vclock_set_counter(&e->machine->clock, NULL, NULL);
    cpu_destroy(cpu);
    free(e->priv);
    e->priv = NULL;
}

/* struct cpu_exit -> struct engine_exit. */
static struct engine_exit emu_exit(struct cpu_exit x)
{
    struct engine_exit out = { .reason = ENGINE_EXIT_ERROR, .address = x.address };

    switch (x.reason) {
    case CPU_EXIT_BUDGET:       out.reason = ENGINE_EXIT_BUDGET; break;
    case CPU_EXIT_HALT:         out.reason = ENGINE_EXIT_HALT; break;
    case CPU_EXIT_BREAKPOINT:   out.reason = ENGINE_EXIT_BREAKPOINT; break;
    case CPU_EXIT_WATCHPOINT:
        out.reason = ENGINE_EXIT_WATCHPOINT;
        out.watch_kind = (enum engine_watch_kind)x.watch_kind;
        out.watch_physical = x.watch_physical;
        break;
    case CPU_EXIT_STEP:         out.reason = ENGINE_EXIT_STEP; break;
    case CPU_EXIT_TRIPLE_FAULT: out.reason = ENGINE_EXIT_SHUTDOWN; break;
    case CPU_EXIT_REQUEST:      out.reason = ENGINE_EXIT_REQUEST; break;
    case CPU_EXIT_UNSUPPORTED:
        out.message = x.message ? x.message : "the guest needs a CPU feature trapeze does not model";
        break;
    case CPU_EXIT_EXCEPTION:
    case CPU_EXIT_INTERRUPT:
        /* emu owns no events: the CPU should have delivered it itself. */
        out.message = "emu: the CPU returned an event it should have delivered (a CPU bug)";
        break;
    }
    return out;
}

/*
 * Exception stops (set_exception_stops) use the CPU's VMM hook: vectors in
 * cpu->exit_on_exception come back from cpu_run before delivery, EIP at a
 * fault's instruction, nothing pushed.  A fault is held: the next run or
 * step runs its instruction again with that vector (and any held before
 * at the same instruction) passed to the guest, so the fault is raised
 * again and delivered with all its consequences (a #GP for an absent gate,
 * #DF, a triple fault), each one a stop of its own when asked for.  A trap
 * or INT n (EIP already past the instruction) cannot be re-run: it is
 * delivered at once and reported from its handler.
 */
static struct engine_exit emu_go(struct engine *e, uint64_t budget, bool step)
{
    struct emu_engine *u = e->priv;
    struct cpu *cpu = &u->cpu;
    for (;;) {
        bool passing = u->exception_held != 0;
        cpu->exit_on_exception = u->exception_stops & ~u->exception_held;
        struct cpu_exit x = cpu_run(cpu, passing ? 1 : budget, passing || step);
        cpu->exit_on_exception = 0;
        if (x.reason != CPU_EXIT_EXCEPTION) {
            u->exception_held = 0;   /* the held instruction ran (or something else happened) */
            struct engine_exit out = emu_exit(x);
            if (passing && !step && out.reason == ENGINE_EXIT_STEP) {
                /* Now the run itself, with what is left of its budget: a run
                   retires its budget and no more (the runner's -max-insns). */
                if (budget == 1) return (struct engine_exit){ .reason = ENGINE_EXIT_BUDGET };
                if (budget) budget--;
                continue;
            }
            return out;
        }
        struct engine_exit out = { .reason = ENGINE_EXIT_BREAKPOINT, .exception = true, .vector = x.vector,
                                   .has_error_code = x.has_error_code, .error_code = x.error_code };
        if (cpu->s.eip == cpu->insn_eip) {
            /* A fault: held, and counted when it is raised again. */
            u->exception_held |= 1u << x.vector;
            cpu->stats.exceptions[x.vector]--;
        } else {
            u->exception_held = 0;
            /* A trap or INT n: delivered as what it was (INT n checks its gate's DPL). */
            (void)cpu_inject_event(cpu, x.vector, x.event_kind, x.has_error_code, x.error_code);
            out.exception_delivered = true;
        }
        out.address = cpu->s.seg[SEG_CS].base + cpu->s.eip;
        return out;
    }
}

static int emu_set_exception_stops(struct engine *e, uint32_t vectors)
{
    struct emu_engine *u = e->priv;
    u->exception_stops = vectors;
    return 0;
}

static struct engine_exit emu_run(struct engine *e, uint64_t budget)
{
    return emu_go(e, budget, false);
}

/*
 * A step that leaves the instruction a breakpoint stopped on (it ran, or an
 * interrupt was taken before it) ends the continuing from that breakpoint:
 * the next time the guest gets there it stops again.  Without this a step
 * with the breakpoint lifted (the monitor steps over breakpoints as gdb
 * does) would leave the resume armed, and the next run would pass the
 * breakpoint once unseen.
 */
static struct engine_exit emu_step(struct engine *e)
{
    struct cpu *cpu = emu_cpu(e);
    struct engine_exit exit = emu_go(e, 1, true);
    if (cpu->breakpoint_resume_armed && cpu->s.seg[SEG_CS].base + cpu->s.eip != cpu->breakpoint_resume_lin)
        cpu->breakpoint_resume_armed = false;
    return exit;
}

static void emu_get_state(struct engine *e, struct x86_state *s) { cpu_get_state(emu_cpu(e), s); }
static void emu_set_state(struct engine *e, const struct x86_state *s)
{
    ((struct emu_engine *)e->priv)->exception_held = 0;   /* a new state: nothing held */
    cpu_set_state(emu_cpu(e), s);
}
void engine_emu_memory_changed(struct engine *e) { cpu_forget_code(emu_cpu(e)); }

void engine_emu_inject(struct engine *e, int vector, bool has_error, uint32_t error_code)
{
    cpu_inject_interrupt(emu_cpu(e), vector, has_error, error_code);
}

void engine_emu_resume_from_breakpoint(struct engine *e)
{
    struct cpu *cpu = emu_cpu(e);
    cpu->breakpoint_resume_armed = true;
    cpu->breakpoint_resume_lin = cpu->s.seg[SEG_CS].base + cpu->s.eip;
}

static void emu_print_info(struct engine *e, FILE *out)
{
    fprintf(out, "engine emu: the software CPU runs the guest at its true privilege levels "
                 "(%llu instructions so far)\n", (unsigned long long)emu_cpu(e)->stats.instructions);
}

static int emu_set_breakpoint(struct engine *e, uint32_t lin) { return cpu_set_breakpoint(emu_cpu(e), lin); }
static int emu_clear_breakpoint(struct engine *e, uint32_t lin) { return cpu_clear_breakpoint(emu_cpu(e), lin); }
static void emu_request_exit(struct engine *e) { cpu_request_exit(emu_cpu(e)); }

/* engine_watch_kind and cpu_watch_kind share their values. */
static int emu_set_watchpoint(struct engine *e, uint32_t addr, uint32_t len,
                              enum engine_watch_kind kind, bool physical)
{
    return cpu_set_watchpoint(emu_cpu(e), addr, len, (enum cpu_watch_kind)kind, physical);
}

static int emu_clear_watchpoint(struct engine *e, uint32_t addr, uint32_t len,
                                enum engine_watch_kind kind, bool physical)
{
    return cpu_clear_watchpoint(emu_cpu(e), addr, len, (enum cpu_watch_kind)kind, physical);
}

static bool emu_read_linear(struct engine *e, uint32_t lin, void *buf, uint32_t len)
{
    return cpu_read_linear(emu_cpu(e), lin, buf, len);
}

static bool emu_write_linear(struct engine *e, uint32_t lin, const void *buf, uint32_t len)
{
    return cpu_write_linear(emu_cpu(e), lin, buf, len);
}

/* The guest's tables are the only ones: the CPU walks them itself. */
static int emu_translate(struct engine *e, uint32_t lin, enum mmu_access access, bool user,
                         struct engine_walk *walks, int max)
{
    struct cpu *cpu = emu_cpu(e);
    if (max < 1)
        return 0;
    walks[0].name = "guest";
    walks[0].regs = (struct paging_regs){ cpu->s.cr0, cpu->s.cr3, cpu->s.cr4 };
    mmu_walk(&cpu->mmu, &walks[0].regs, lin, access, user, false, &walks[0].walk);
    return 1;
}

static void emu_print_segment(FILE *out, const char *name, const struct x86_segment *sg)
{
    fprintf(out, "  %-4s %04x base %08x limit %08x attr %04x\n",
            name, sg->selector, sg->base, sg->limit, sg->attr);
}

/* The registers of one state, as the fault report shows them. */
static void emu_print_registers(FILE *out, const struct x86_state *s)
{
    static const char *const sreg_names[SEG_COUNT] = { "ES", "CS", "SS", "DS", "FS", "GS" };

    fprintf(out, "  EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n",
            s->regs[R_EAX], s->regs[R_EBX], s->regs[R_ECX], s->regs[R_EDX]);
    fprintf(out, "  ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n",
            s->regs[R_ESI], s->regs[R_EDI], s->regs[R_EBP], s->regs[R_ESP]);
    fprintf(out, "  EIP=%08x EFLAGS=%08x CPL=%u\n", s->eip, s->eflags, s->cpl);
    fprintf(out, "  CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n", s->cr0, s->cr2, s->cr3, s->cr4);
    for (int r = 0; r < SEG_COUNT; r++)
        emu_print_segment(out, sreg_names[r], &s->seg[r]);
    emu_print_segment(out, "LDTR", &s->ldtr);
    emu_print_segment(out, "TR", &s->tr);
    fprintf(out, "  GDTR base %08x limit %04x   IDTR base %08x limit %04x\n",
            s->gdtr.base, s->gdtr.limit, s->idtr.base, s->idtr.limit);
}

/*
 * The chain behind a triple fault: each fault in the order it was raised
 * (typically the first fault, #DF, then the fault that shut down), then the
 * registers when the first one happened, which is where to start looking.
 */
static void emu_print_fault_report(struct engine *e, FILE *out)
{
    struct cpu *cpu = emu_cpu(e);
    int n = cpu->fault_chain_len;

    if (n > CPU_FAULT_CHAIN_MAX) n = CPU_FAULT_CHAIN_MAX;
    fprintf(out, "trapeze: triple fault: the CPU shut down after %d fault%s it could not deliver\n",
            n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        const struct cpu_fault_record *f = &cpu->fault_chain[i];
        fprintf(out, "  fault %d: vector %d %s", i + 1, f->vector, emu_vector_name(f->vector));
        if (f->has_error_code)
            fprintf(out, ", error code %04x", f->error_code);
        if (f->vector == X86_PF)
            fprintf(out, ", CR2=%08x", f->cr2);
        fprintf(out, ", at %04x:%08x\n", f->state.seg[SEG_CS].selector, f->state.eip);
    }
    if (n > 0) {
        fprintf(out, "  registers at fault 1:\n");
        emu_print_registers(out, &cpu->fault_chain[0].state);
    }
}

static void emu_print_stats(struct engine *e, FILE *out)
{
    struct cpu *cpu = emu_cpu(e);
    const struct cpu_stats *st = &cpu->stats;
    const struct mmu_stats *tlb = &cpu->mmu.stats;
    uint64_t interrupts = 0;

    fprintf(out, "engine emu\n");
    fprintf(out, "  instructions      %llu\n", (unsigned long long)st->instructions);
    for (int v = 0; v < 32; v++)
        if (st->exceptions[v])
            fprintf(out, "  exception %2d      %llu  (%s)\n", v,
                    (unsigned long long)st->exceptions[v], emu_vector_name(v));
    for (int v = 0; v < 256; v++)
        interrupts += st->interrupts[v];
    fprintf(out, "  interrupts        %llu\n", (unsigned long long)interrupts);
    for (int v = 0; v < 256; v++)
        if (st->interrupts[v])
            fprintf(out, "    vector 0x%02x     %llu\n", v, (unsigned long long)st->interrupts[v]);
    fprintf(out, "  tlb hits          %llu\n", (unsigned long long)tlb->hits);
    fprintf(out, "  tlb misses        %llu\n", (unsigned long long)tlb->misses);
    fprintf(out, "  tlb flushes       %llu\n", (unsigned long long)tlb->flushes);
    fprintf(out, "  page walks        %llu\n", (unsigned long long)tlb->page_walks);
    fprintf(out, "  blocks decoded    %llu\n", (unsigned long long)st->blocks_decoded);
    fprintf(out, "  block invalidations %llu\n", (unsigned long long)st->block_invalidations);
}

static void emu_get_counters(struct engine *e, struct engine_counters *c)
{
    const struct cpu *cpu = emu_cpu(e);
    memset(c, 0, sizeof *c);   /* what emu does not count (a VMM's entries) reads 0 */
    c->instructions = cpu->stats.instructions;
    memcpy(c->exceptions, cpu->stats.exceptions, sizeof c->exceptions);
    memcpy(c->interrupts, cpu->stats.interrupts, sizeof c->interrupts);
    c->tlb_hits = cpu->mmu.stats.hits;
    c->tlb_misses = cpu->mmu.stats.misses;
    c->tlb_flushes = cpu->mmu.stats.flushes;
    c->page_walks = cpu->mmu.stats.page_walks;
    c->blocks_decoded = cpu->stats.blocks_decoded;
    c->block_invalidations = cpu->stats.block_invalidations;
}

const struct engine_ops engine_emu_ops = {
    .name = "emu",
    .create = emu_create,
    .destroy = emu_destroy,
    .reset = emu_reset,
    .run = emu_run,
    .step = emu_step,
    .get_state = emu_get_state,
    .set_state = emu_set_state,
    .set_breakpoint = emu_set_breakpoint,
    .clear_breakpoint = emu_clear_breakpoint,
    .set_watchpoint = emu_set_watchpoint,
    .clear_watchpoint = emu_clear_watchpoint,
    .request_exit = emu_request_exit,
    .print_stats = emu_print_stats,
    .print_fault_report = emu_print_fault_report,
    .set_exception_stops = emu_set_exception_stops,
    .read_linear = emu_read_linear,
    .translate = emu_translate,
    .write_linear = emu_write_linear,
    .get_counters = emu_get_counters,
    .print_info = emu_print_info,
};
