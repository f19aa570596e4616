/*
 * engine_tae.c - the tae engine: a trap-and-emulate VMM on the software CPU.
 *
 * The run loop (vmm/README.md "The tae engine" has the picture):
 *
 *   guest compressible? --no--> interpret on the virtual CPU (an emu engine)
 *        | yes
 *   hw runs the deprivileged guest until it exits:
 *     #PF             shadow paging: hidden (fill, resume), true (reflect
 *                     #PF with the guest's error code and CR2), or emulate
 *     #GP #NP #SS #TS naming an unfilled shadow descriptor: fill, resume
 *     INT n           reflect through the guest's IDT (the virtual CPU
 *                     checks the gate's DPL at the guest's CPL)
 *     interrupt       only arrives with virtual IF = 1: reflect
 *     #DB             reflect (guest TF, guest debug registers)
 *     anything else   the virtual CPU runs the instruction at the guest's
 *                     true privilege: a privileged instruction emulated, or
 *                     the guest's own fault delivered through its IDT
 *
 * Either CPU holds the guest's registers at a time: after hw ran, the
 * virtual CPU is stale until something needs it (tae_need_vcpu); after the
 * virtual CPU changed, hw is rebuilt before it runs again.  A hidden page
 * fault touches neither.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "machine/machine.h"
#include "vmm/engine.h"
#include "vmm/engine_emu.h"
#include "translator/translator.h"
#include "vmm/tae.h"

/* Interpretation runs in slices so a mode hw can run is noticed soon. */
#define TAE_INTERPRET_SLICE 4096

void tae_need_vcpu(struct tae *t)
{
    if (t->vcpu_stale) tae_sync_from_hw(t);
}

/* For the views: hw as it will run the guest next (after an emulated
 * instruction it is rebuilt only when it runs again). */
static void views_need_hw(struct tae *t)
{
    tae_need_vcpu(t);
    if (t->hw_stale && tae_compressible(t)) tae_sync_to_hw(t);
}

/* hw takes interrupts only when the guest's virtual IF allows them. */
static bool gated_pending(void *opaque)
{
    struct tae *t = opaque;
    /* Under bt, translated code keeps the virtual IF in the VMM's data page
     * and takes interrupts only between guest instructions. */
    if (t->bt && t->hw.in_run && bt_hw_in_tc(t))
        return t->board_irq.pending && t->board_irq.pending(t->board_irq.opaque) && bt_irq_window(t);
    return (t->vcpu->s.eflags & EFLAGS_IF) && t->board_irq.pending && t->board_irq.pending(t->board_irq.opaque);
}

static int gated_acknowledge(void *opaque)
{
    struct tae *t = opaque;
    return t->board_irq.acknowledge(t->board_irq.opaque);
}

static uint64_t tae_instructions(void *opaque)
{
    struct tae *t = opaque;
    return t->hw.stats.instructions + t->vcpu->stats.instructions;
}

static void tae_request_stop(void *opaque)
{
    struct tae *t = opaque;
    t->external_stop = true;
    cpu_request_exit(&t->hw);
    cpu_request_exit(t->vcpu);
}

static void tae_reset(struct engine *e)
{
    struct tae *t = e->priv;
    t->virt.ops->reset(&t->virt);
    cpu_hard_reset(&t->hw);
    t->vcpu_stale = false;
    t->hw_stale = true;
    tae_shadow_reset(t);
    tae_desc_check_tables(t);
    if (t->bt) bt_vmm_reset(t);
}

static void tae_destroy(struct engine *e);

/* tae, or with 'bt' the binary-translation VMM on the same machinery. */
static int vmm_create(struct engine *e, struct machine *m, bool bt)
{
    struct tae *t = calloc(1, sizeof *t);
    if (!t) {
        fprintf(stderr, "trapeze: tae: out of host memory for the VMM\n");
        return -ENOMEM;
    }
    t->m = m;
    t->count_in_tc = e->options.count_in_tc;
    e->priv = t;
    t->virt.ops = &engine_emu_ops;
    t->virt.machine = m;
    t->virt.options = e->options;
    int err = engine_emu_ops.create(&t->virt, m);
    if (err < 0) { free(t); e->priv = NULL; return err; }
    t->vcpu = t->virt.priv;
    err = cpu_init(&t->hw, &m->bus);
    if (err < 0) {
        fprintf(stderr, "trapeze: tae: cannot create the hardware CPU: %s\n", strerror(-err));
        engine_emu_ops.destroy(&t->virt);
        free(t);
        e->priv = NULL;
        return err;
    }
    err = tae_shadow_init(t);
    if (err == 0) err = tae_desc_setup(t);
    if (err == 0 && bt) err = bt_vmm_create(t);
    if (err == 0) err = bus_add_trace_hook(&m->bus, tae_trace_hook, t);
    if (err < 0) {
        fprintf(stderr, "trapeze: tae: cannot set up the VMM's memory: %s\n", strerror(-err));
        tae_destroy(e);
        return err;
    }
    /* hw owns no event: all of them come to the VMM. */
    t->hw.exit_on_exception = 0xFFFFFFFFu;
    t->hw.exit_on_soft_int = true;
    t->hw.exit_on_interrupt = true;
    t->board_irq = m->irq_source;
    t->hw.irq = (struct cpu_irq_source){ gated_pending, gated_acknowledge, t };
    t->hw.sensitive_hook = tae_sensitive_hook;
    t->hw.sensitive_opaque = t;
    t->hw.sensitive_traps = e->options.sensitive_traps && !bt;
    t->sensitive_traps = e->options.sensitive_traps && !bt;
    /* The virtual CPU emulates single instructions without taking
     * interrupts; it gets the board's line only while it interprets. */
    t->vcpu->irq = (struct cpu_irq_source){ 0 };
    m->request_stop = tae_request_stop;
    m->request_stop_opaque = t;
    vclock_set_counter(&m->clock, tae_instructions, t);
    tae_reset(e);
    return 0;
}

static int tae_create(struct engine *e, struct machine *m) { return vmm_create(e, m, false); }
static int bt_create(struct engine *e, struct machine *m) { return vmm_create(e, m, true); }

static void tae_destroy(struct engine *e)
{
    struct tae *t = e->priv;
    if (!t) return;
    struct machine *m = t->m;
    /* The clock reads the count one last time when it lets go of it: first,
     * while both CPUs are still there. */
    if (m->request_stop_opaque == t) { m->request_stop = NULL; m->request_stop_opaque = NULL; }
    if (m->clock.instructions_opaque == t) vclock_set_counter(&m->clock, NULL, NULL);
    bus_remove_trace_hook(&m->bus, tae_trace_hook, t);
    if (t->bt) bt_vmm_destroy(t);
    tae_shadow_destroy(t);
    cpu_destroy(&t->hw);
    if (t->vcpu) engine_emu_ops.destroy(&t->virt);
    free(t);
    e->priv = NULL;
}

static struct engine_exit exit_of(enum engine_exit_reason r)
{
    return (struct engine_exit){ .reason = r };
}

/* A cpu_exit of the virtual CPU (emulating or reflecting) that ends the run. */
static bool vcpu_exit_ends_run(struct tae *t, struct cpu_exit x, struct engine_exit *out)
{
    switch (x.reason) {
    case CPU_EXIT_TRIPLE_FAULT: *out = exit_of(ENGINE_EXIT_SHUTDOWN); return true;
    case CPU_EXIT_WATCHPOINT:
        *out = (struct engine_exit){ .reason = ENGINE_EXIT_WATCHPOINT, .address = x.address,
                                     .watch_kind = (enum engine_watch_kind)x.watch_kind,
                                     .watch_physical = x.watch_physical };
        return true;
    case CPU_EXIT_REQUEST: *out = exit_of(ENGINE_EXIT_REQUEST); return true;
    case CPU_EXIT_UNSUPPORTED:
        *out = (struct engine_exit){ .reason = ENGINE_EXIT_ERROR,
                                     .message = x.message ? x.message : "the guest needs a CPU feature trapeze does not model" };
        return true;
    default:
        (void)t;
        return false;
    }
}

static uint64_t guest_exceptions(const struct cpu *c)
{
    uint64_t n = 0;
    for (int v = 0; v < 32; v++) n += c->stats.exceptions[v];
    return n;
}

/*
 * The control state an emulated instruction may change: when it did,
 * the shadows follow (new CR3: another space; LGDT/LLDT/LTR, a task
 * switch: new descriptor tables).
 */
struct control_snapshot { uint32_t cr0, cr3, cr4; struct x86_dtable gdtr; struct x86_segment ldtr, tr; };

static struct control_snapshot control_of(const struct x86_state *s)
{
    return (struct control_snapshot){ s->cr0, s->cr3, s->cr4, s->gdtr, s->ldtr, s->tr };
}

static void after_vcpu_change(struct tae *t, const struct control_snapshot *before)
{
    struct control_snapshot now = control_of(&t->vcpu->s);
    bool changed = memcmp(&now, before, sizeof now) != 0;
    if (changed) tae_desc_check_tables(t);
    if (t->bt) bt_after_vcpu_change(t, changed);
    t->hw_stale = true;
}

/* The virtual CPU runs the guest's instruction at CS:EIP: the emulation of a trap. */
bool tae_emulate_why(struct tae *t, const char *why, struct engine_exit *out)
{
    tae_need_vcpu(t);
    tae_count_trap(t, why ? why : tae_insn_name(t));
    struct control_snapshot before = control_of(&t->vcpu->s);
    uint64_t exc = guest_exceptions(t->vcpu);
    /* A host breakpoint here was already passed on hw. */
    t->vcpu->breakpoint_resume_armed = true;
    t->vcpu->breakpoint_resume_lin = t->vcpu->s.seg[SEG_CS].base + t->vcpu->s.eip;
    /* One step of the emu engine on the virtual CPU: its exception stops
     * (the monitor's `break vector`) stop a guest fault before delivery. */
    struct engine_exit x = t->virt.ops->step(&t->virt);
    t->cnt.emulated++;
    if (guest_exceptions(t->vcpu) != exc) t->cnt.reflected_exceptions++;
    after_vcpu_change(t, &before);
    switch (x.reason) {
    case ENGINE_EXIT_STEP: case ENGINE_EXIT_BUDGET: case ENGINE_EXIT_HALT:
        return false;
    case ENGINE_EXIT_BREAKPOINT:
        if (!x.exception) return false;   /* the host breakpoint hw passed */
        /* fall through */
    default:
        *out = x;
        return true;
    }
}

static bool emulate(struct tae *t, struct engine_exit *out) { return tae_emulate_why(t, NULL, out); }

/* Deliver an event to the guest through its IDT (reflection). */
bool tae_reflect(struct tae *t, int vector, enum cpu_event_kind kind, bool has_error, uint32_t error,
                    struct engine_exit *out)
{
    tae_need_vcpu(t);
    struct control_snapshot before = control_of(&t->vcpu->s);
    struct cpu_exit x = cpu_inject_event(t->vcpu, vector, kind, has_error, error);
    after_vcpu_change(t, &before);
    return vcpu_exit_ends_run(t, x, out);
}

/* One exit of hw that the VMM serves.  True: the run ends with *out. */
bool tae_serve_trap(struct tae *t, const struct cpu_exit *x, struct engine_exit *out)
{
    t->cnt.traps++;
    if (x->event_kind == CPU_EVENT_SOFT_INT) {
        /* INT n: the virtual CPU runs the INT itself, so the gate's DPL is
         * checked at the guest's CPL and a fault delivering it points at
         * the INT, as on hardware.  It retires there, not on hw. */
        t->cnt.soft_ints++;
        tae_need_vcpu(t);
        t->vcpu->s.eip -= x->insn_len;
        t->hw.stats.instructions--;
        return emulate(t, out);
    }
    if (x->vector >= 0 && x->vector < 32) t->cnt.traps_by_vector[x->vector]++;
    switch (x->vector) {
    case X86_PF: {
        uint32_t lin = t->hw.s.cr2, gerr = 0;
        switch (tae_shadow_fault(t, lin, x->error_code, &gerr)) {
        case TAE_PF_HIDDEN:
            return false;
        case TAE_PF_TRUE:
            /* The guest's own #PF: the virtual CPU runs the access and
             * faults on the guest's tables itself (its error code, CR2,
             * the double-fault rules, the monitor's exception stops). */
            (void)gerr;
            t->cnt.true_faults++;
            return tae_emulate_why(t, "#PF the guest's own", out);
        case TAE_PF_EMULATE:
            /* Counted by why, not by opcode: which MOV wrote a page table
             * says less than that a page-table write trapped. */
            return tae_emulate_why(t, tae_pf_emulation_name(t), out);
        }
        return false;
    }
    case X86_GP: case X86_NP: case X86_SS: case X86_TS:
        if (x->has_error_code && x->error_code && tae_desc_fill(t, x->error_code)) return false;
        return emulate(t, out);
    case X86_DB:
        t->cnt.reflected_exceptions++;
        return tae_reflect(t, X86_DB, x->event_kind, false, 0, out);
    default:
        return emulate(t, out);
    }
}

/* Interpret on the virtual CPU what hw cannot run (real mode, vm86, rings 1-2...). */
static struct engine_exit interpret(struct tae *t, uint64_t budget, bool step)
{
    uint64_t before = t->vcpu->stats.instructions;
    t->vcpu->irq = t->board_irq;
    struct engine_exit x = step ? t->virt.ops->step(&t->virt) : t->virt.ops->run(&t->virt, budget);
    t->vcpu->irq = (struct cpu_irq_source){ 0 };
    t->cnt.interpreted += t->vcpu->stats.instructions - before;
    t->hw_stale = true;
    tae_desc_check_tables(t);
    return x;
}

static struct engine_exit tae_go(struct engine *e, uint64_t budget, bool step)
{
    struct tae *t = e->priv;
    struct bus *bus = &t->m->bus;
    uint64_t start = tae_instructions(t);

    for (;;) {
        uint64_t done = tae_instructions(t) - start;
        if (!step && budget && done >= budget) return exit_of(ENGINE_EXIT_BUDGET);
        uint64_t left = budget ? budget - done : 0;

        if (!t->vcpu_stale && !tae_compressible(t)) {
            uint64_t slice = left && left < TAE_INTERPRET_SLICE ? left : TAE_INTERPRET_SLICE;
            struct engine_exit x = interpret(t, slice, step);
            if (x.reason == ENGINE_EXIT_BUDGET && !step) continue;
            return x;
        }
        if (!t->vcpu_stale && t->vcpu->s.halted) {
            /* HLT was emulated: wake on an interrupt the virtual IF takes. */
            if (!gated_pending(t)) return exit_of(ENGINE_EXIT_HALT);
            int vector = t->board_irq.acknowledge(t->board_irq.opaque);
            struct engine_exit out;
            t->cnt.reflected_interrupts++;
            if (tae_reflect(t, vector, CPU_EVENT_EXTERNAL, false, 0, &out)) return out;
            if (step) return exit_of(ENGINE_EXIT_STEP);
            continue;
        }
        if (t->bt && step && !t->vcpu_stale && t->vcpu->s.cpl == 0 && tae_compressible(t) && !t->vcpu->s.halted &&
            !bt_must_interpret(t, step))
            return bt_step(t);
        if (t->bt && !t->vcpu_stale && t->vcpu->s.cpl == 0 && bt_must_interpret(t, step)) {
            /* Single steps, host breakpoints, guest TF and 16-bit kernel
             * code run on the virtual CPU: one guest instruction at a time. */
            uint64_t slice = step ? 1 : left && left < TAE_INTERPRET_SLICE ? left : TAE_INTERPRET_SLICE;
            struct engine_exit x = interpret(t, slice, step);
            if (x.reason == ENGINE_EXIT_BUDGET && !step) continue;
            return x;
        }
        if (t->hw_stale) {
            if (t->bt && t->vcpu->s.cpl == 0) {
                if (bt_enter(t) < 0) {
                    /* The guest cannot fetch its next instruction: its own
                     * #PF or #GP, raised by the virtual CPU. */
                    struct engine_exit out;
                    if (tae_emulate_why(t, "bt: code fetch fault", &out)) return out;
                    continue;
                }
            } else {
                tae_sync_to_hw(t);
            }
        }

        bus_private_open(bus, true);
        struct cpu_exit x = cpu_run(&t->hw, step ? 1 : left, step);
        bus_private_open(bus, false);
        t->vcpu_stale = true;

        struct engine_exit out;
        switch (x.reason) {
        case CPU_EXIT_BUDGET:
            if (step) continue;
            break;
        case CPU_EXIT_STEP:
            return exit_of(ENGINE_EXIT_STEP);
        case CPU_EXIT_HALT:
            return exit_of(ENGINE_EXIT_HALT);
        case CPU_EXIT_BREAKPOINT:
            return (struct engine_exit){ .reason = ENGINE_EXIT_BREAKPOINT, .address = x.address };
        case CPU_EXIT_EXCEPTION:
            if (t->bt && bt_hw_in_tc(t)) {
                if (bt_serve(t, &x, &out)) return out;
                break;
            }
            if (tae_serve_trap(t, &x, &out)) return out;
            /* A hidden fault retries the instruction; anything else completed it. */
            if (step && t->hw_stale) return exit_of(ENGINE_EXIT_STEP);
            break;
        case CPU_EXIT_INTERRUPT:
            t->cnt.reflected_interrupts++;
            if (tae_reflect(t, x.vector, CPU_EVENT_EXTERNAL, false, 0, &out)) return out;
            if (step) return exit_of(ENGINE_EXIT_STEP);
            break;
        case CPU_EXIT_REQUEST:
            if (t->bt_smc_stop && !t->external_stop) {
                /* The guest rewrote the translated code that was running:
                 * go on from the next guest instruction, translated anew. */
                t->bt_smc_stop = false;
                tae_need_vcpu(t);
                t->hw_stale = true;
                continue;
            }
            t->bt_smc_stop = false;
            t->external_stop = false;
            return exit_of(ENGINE_EXIT_REQUEST);
        case CPU_EXIT_WATCHPOINT:
            return (struct engine_exit){ .reason = ENGINE_EXIT_WATCHPOINT, .address = x.address,
                                         .watch_kind = (enum engine_watch_kind)x.watch_kind,
                                         .watch_physical = x.watch_physical };
        case CPU_EXIT_TRIPLE_FAULT:
        case CPU_EXIT_UNSUPPORTED:
            return (struct engine_exit){ .reason = ENGINE_EXIT_ERROR,
                                         .message = "tae: the hardware CPU stopped in a way the VMM cannot serve (a VMM bug)" };
        }
    }
}

static struct engine_exit tae_run(struct engine *e, uint64_t budget) { return tae_go(e, budget, false); }

static struct engine_exit tae_step(struct engine *e)
{
    struct tae *t = e->priv;
    /* bt: a step is one guest instruction, from the guest's state (hw may
     * be inside translated code). */
    if (t->bt) tae_need_vcpu(t);
    struct engine_exit x = tae_go(e, 1, true);
    tae_need_vcpu(t);
    uint32_t lin = t->vcpu->s.seg[SEG_CS].base + t->vcpu->s.eip;
    if (t->hw.breakpoint_resume_armed && t->hw.breakpoint_resume_lin != lin) t->hw.breakpoint_resume_armed = false;
    return x;
}

static void tae_get_state(struct engine *e, struct x86_state *s)
{
    struct tae *t = e->priv;
    tae_need_vcpu(t);
    t->virt.ops->get_state(&t->virt, s);
}

static void tae_set_state(struct engine *e, const struct x86_state *s)
{
    struct tae *t = e->priv;
    tae_need_vcpu(t);
    t->virt.ops->set_state(&t->virt, s);
    uint32_t lin = s->seg[SEG_CS].base + s->eip;
    if (lin != t->hw.breakpoint_resume_lin) t->hw.breakpoint_resume_armed = false;
    /* A state from outside (the monitor, GDB, loadvm) may come with other
     * memory: build every shadow afresh. */
    tae_shadow_reset(t);
    tae_desc_check_tables(t);
}

static int tae_set_breakpoint(struct engine *e, uint32_t lin)
{
    struct tae *t = e->priv;
    int r = cpu_set_breakpoint(&t->hw, lin);
    if (r < 0) return r;
    if (t->bt) bt_breakpoints_changed(t, lin);
    return cpu_set_breakpoint(t->vcpu, lin);
}

static int tae_clear_breakpoint(struct engine *e, uint32_t lin)
{
    struct tae *t = e->priv;
    int r = cpu_clear_breakpoint(&t->hw, lin);
    (void)cpu_clear_breakpoint(t->vcpu, lin);
    if (t->bt) bt_breakpoints_changed(t, lin);
    return r;
}

static int tae_set_watchpoint(struct engine *e, uint32_t addr, uint32_t len, enum engine_watch_kind kind, bool physical)
{
    struct tae *t = e->priv;
    int r = cpu_set_watchpoint(&t->hw, addr, len, (enum cpu_watch_kind)kind, physical);
    if (r < 0) return r;
    return cpu_set_watchpoint(t->vcpu, addr, len, (enum cpu_watch_kind)kind, physical);
}

static int tae_clear_watchpoint(struct engine *e, uint32_t addr, uint32_t len, enum engine_watch_kind kind, bool physical)
{
    struct tae *t = e->priv;
    int r = cpu_clear_watchpoint(&t->hw, addr, len, (enum cpu_watch_kind)kind, physical);
    (void)cpu_clear_watchpoint(t->vcpu, addr, len, (enum cpu_watch_kind)kind, physical);
    return r;
}

static int tae_set_exception_stops(struct engine *e, uint32_t vectors)
{
    struct tae *t = e->priv;
    return t->virt.ops->set_exception_stops(&t->virt, vectors);
}

static void tae_request_exit(struct engine *e) { tae_request_stop(e->priv); }

static bool tae_read_linear(struct engine *e, uint32_t lin, void *buf, uint32_t len)
{
    return cpu_read_linear(((struct tae *)e->priv)->vcpu, lin, buf, len);
}

static bool tae_write_linear(struct engine *e, uint32_t lin, const void *buf, uint32_t len)
{
    return cpu_write_linear(((struct tae *)e->priv)->vcpu, lin, buf, len);
}

static int tae_translate(struct engine *e, uint32_t lin, enum mmu_access access, bool user,
                         struct engine_walk *walks, int max)
{
    struct tae *t = e->priv;
    if (max < 1) return 0;
    const struct x86_state *g = &t->vcpu->s;
    walks[0].name = "guest";
    walks[0].regs = (struct paging_regs){ g->cr0, g->cr3, g->cr4 };
    mmu_walk(&t->vcpu->mmu, &walks[0].regs, lin, access, user, false, &walks[0].walk);
    if (max < 2 || lin >= TAE_VMM_LIN) return 1;
    views_need_hw(t);
    walks[1].name = "shadow";
    walks[1].regs = (struct paging_regs){ t->hw.s.cr0, t->hw.s.cr3, t->hw.s.cr4 };
    return tae_shadow_walk(t, lin, access, user, &walks[1].walk) == 0 ? 2 : 1;
}

static void tae_get_counters(struct engine *e, struct engine_counters *c)
{
    struct tae *t = e->priv;
    t->virt.ops->get_counters(&t->virt, c);   /* what the guest saw: its exceptions and interrupts */
    c->instructions = tae_instructions(t);
    c->tlb_hits += t->hw.mmu.stats.hits;
    c->tlb_misses += t->hw.mmu.stats.misses;
    c->tlb_flushes += t->hw.mmu.stats.flushes;
    c->page_walks += t->hw.mmu.stats.page_walks;
    c->blocks_decoded += t->hw.stats.blocks_decoded;
    c->block_invalidations += t->hw.stats.block_invalidations;
    c->vmm_traps = t->cnt.traps;
    c->vmm_emulated = t->cnt.emulated;
    c->vmm_hidden_faults = t->cnt.hidden_faults + t->cnt.descriptor_faults;
    c->vmm_true_faults = t->cnt.true_faults;
    c->vmm_reflected = t->cnt.reflected_exceptions + t->cnt.reflected_interrupts + t->cnt.soft_ints;
    c->vmm_traced_writes = t->cnt.traced_writes;
    c->vmm_shadow_built = t->cnt.shadow_built;
    if (t->bt) bt_get_counters(t, c);
}

static void tae_print_fault_report(struct engine *e, FILE *out)
{
    struct tae *t = e->priv;
    t->virt.ops->print_fault_report(&t->virt, out);
}

#define LINE(label, value) fprintf(out, "  %-20s %llu\n", label, (unsigned long long)(value))

static void tae_print_stats(struct engine *e, FILE *out)
{
    struct tae *t = e->priv;
    const struct tae_counters *c = &t->cnt;
    fprintf(out, "engine %s\n", t->bt ? "bt" : "tae");
    LINE("instructions", tae_instructions(t));
    LINE("  direct (hw)", t->hw.stats.instructions);
    LINE("  emulated", t->vcpu->stats.instructions - c->interpreted);   /* retired: a step that faults retires nothing */
    LINE("  interpreted", c->interpreted);
    /* What the guest saw: the exceptions its CPU raised, the events its IDT delivered. */
    for (int v = 0; v < 32; v++)
        if (t->vcpu->stats.exceptions[v])
            fprintf(out, "  exception %2d         %llu  (%s)\n", v,
                    (unsigned long long)t->vcpu->stats.exceptions[v], engine_emu_vector_name(v));
    uint64_t delivered = 0;
    for (int v = 0; v < 256; v++) delivered += t->vcpu->stats.interrupts[v];
    LINE("interrupts", delivered);
    for (int v = 0; v < 256; v++)
        if (t->vcpu->stats.interrupts[v])
            fprintf(out, "    vector 0x%02x       %llu\n", v, (unsigned long long)t->vcpu->stats.interrupts[v]);
    LINE("tae traps", c->traps);
    LINE("tae emulated", c->emulated);
    LINE("tae hidden faults", c->hidden_faults);
    LINE("tae true faults", c->true_faults);
    LINE("tae descriptor faults", c->descriptor_faults);
    LINE("tae reflected", c->reflected_exceptions + c->reflected_interrupts + c->soft_ints);
    LINE("tae reflected irqs", c->reflected_interrupts);
    LINE("tae reflected int n", c->soft_ints);
    LINE("tae shadow built", c->shadow_built);
    LINE("tae shadow dropped", c->shadow_dropped);
    LINE("tae shadow entries", c->shadow_entries);
    LINE("tae spaces created", c->spaces_created);
    LINE("tae space switches", c->space_switches);
    LINE("tae traced writes", c->traced_writes);
    LINE("tae vmm region", c->vmm_region);
    LINE("tae interpreted", c->interpreted);
    if (t->bt) bt_print_stats(t, out);
    fprintf(out, t->bt ? "  VMM entries by instruction (traps and callouts):\n" : "  traps by instruction:\n");
    tae_print_traps(t, out);
    tae_print_fidelity(t, out);
}

static void tae_print_info(struct engine *e, FILE *out)
{
    struct tae *t = e->priv;
    fprintf(out, "engine tae: trap-and-emulate VMM on the software CPU: guest kernel at ring 1, "
                 "shadow page tables%s (%llu instructions, %llu traps so far)\n",
            t->sensitive_traps ? ", sensitive instructions trap (virtualizable=on)" : "",
            (unsigned long long)tae_instructions(t), (unsigned long long)t->cnt.traps);
}

/* `info vmm`: the virtual CPU beside the hardware one. */
static void print_vmm(struct tae *t, FILE *out)
{
    views_need_hw(t);
    const struct x86_state *g = &t->vcpu->s, *h = &t->hw.s;
    uint32_t hflags = cpu_get_eflags(&t->hw);
    static const char *const sregs[SEG_COUNT] = { "es", "cs", "ss", "ds", "fs", "gs" };
    fprintf(out, "%-8s %-30s %s\n", "", "virtual CPU (the guest's view)", "hardware CPU (what runs)");
    fprintf(out, "%-8s %-30u %u\n", "cpl", g->cpl, h->cpl);
    fprintf(out, "%-8s %08x IF=%u IOPL=%u%10s %08x IF=%u IOPL=%u\n", "eflags", cpu_get_eflags(t->vcpu),
            (g->eflags & EFLAGS_IF) ? 1 : 0, (g->eflags & EFLAGS_IOPL) >> 12, "",
            hflags, (hflags & EFLAGS_IF) ? 1 : 0, (hflags & EFLAGS_IOPL) >> 12);
    for (int r = 0; r < SEG_COUNT; r++)
        fprintf(out, "%-8s %04x base %08x lim %08x   %04x base %08x lim %08x dpl %u\n", sregs[r],
                g->seg[r].selector, g->seg[r].base, g->seg[r].limit,
                h->seg[r].selector, h->seg[r].base, h->seg[r].limit, (h->seg[r].attr >> 5) & 3);
    fprintf(out, "%-8s %08x limit %04x%11s %08x limit %04x\n", "gdtr", g->gdtr.base, g->gdtr.limit, "", h->gdtr.base, h->gdtr.limit);
    fprintf(out, "%-8s %08x limit %04x%11s %08x limit %04x\n", "idtr", g->idtr.base, g->idtr.limit, "", h->idtr.base, h->idtr.limit);
    fprintf(out, "%-8s %04x base %08x%14s %04x base %08x\n", "tr", g->tr.selector, g->tr.base, "", h->tr.selector, h->tr.base);
    fprintf(out, "%-8s %08x%22s %08x\n", "cr0", g->cr0, "", h->cr0);
    fprintf(out, "%-8s %08x%22s %08x (shadow)\n", "cr3", g->cr3, "", h->cr3);
    fprintf(out, "%-8s %08x%22s %08x\n", "cr4", g->cr4, "", h->cr4);
    fprintf(out, "mode: %s\n", tae_compressible(t) ? "direct: the guest runs deprivileged on the hardware CPU"
                                                   : "interpreted: the virtual CPU runs the guest (a mode ring compression cannot run)");
}

static void bt_print_info(struct engine *e, FILE *out)
{
    struct tae *t = e->priv;
    fprintf(out, "engine bt: binary-translation VMM on the software CPU: guest kernel code translated "
                 "(translation cache at %08x), user code direct, shadow page tables "
                 "(%llu instructions, %llu traps so far)\n",
            BT_TC_LIN, (unsigned long long)tae_instructions(t), (unsigned long long)t->cnt.traps);
}

static int tae_print_topic(struct engine *e, const char *topic, const char *arg, FILE *out)
{
    struct tae *t = e->priv;
    if (t->bt) {
        int r = bt_print_topic(t, topic, arg, out);
        if (r != -ENOENT) return r;
    }
    if (!strcmp(topic, "vmm")) { print_vmm(t, out); return 0; }
    if (!strcmp(topic, "fidelity")) { tae_print_fidelity(t, out); return 0; }
    if (!strcmp(topic, "traps")) { fprintf(out, "vmm traps by instruction:\n"); tae_print_traps(t, out); return 0; }
    if (!strcmp(topic, "shadow")) {
        if (!arg || !*arg) { views_need_hw(t); tae_shadow_print(t, out, false, 0); return 0; }
        char *end;
        unsigned long lin = strtoul(arg, &end, 16);
        if (*end || end == arg || lin > 0xFFFFFFFFul) return -EINVAL;
        views_need_hw(t);
        tae_shadow_print(t, out, true, (uint32_t)lin);
        return 0;
    }
    return -ENOENT;
}

/* tae and bt: the same VMM, apart from how it is created and introduced
 * (bt: guest kernel code translated, vmm/bt_vmm.c). */
#define VMM_ENGINE_OPS(NAME, CREATE, INFO)          \
    {                                               \
        .name = NAME,                               \
        .create = CREATE,                           \
        .destroy = tae_destroy,                     \
        .reset = tae_reset,                         \
        .run = tae_run,                             \
        .step = tae_step,                           \
        .get_state = tae_get_state,                 \
        .set_state = tae_set_state,                 \
        .set_breakpoint = tae_set_breakpoint,       \
        .clear_breakpoint = tae_clear_breakpoint,   \
        .set_watchpoint = tae_set_watchpoint,       \
        .clear_watchpoint = tae_clear_watchpoint,   \
        .request_exit = tae_request_exit,           \
        .set_exception_stops = tae_set_exception_stops, \
        .print_stats = tae_print_stats,             \
        .print_fault_report = tae_print_fault_report, \
        .read_linear = tae_read_linear,             \
        .write_linear = tae_write_linear,           \
        .translate = tae_translate,                 \
        .get_counters = tae_get_counters,           \
        .print_info = INFO,                         \
        .print_topic = tae_print_topic,             \
    }

const struct engine_ops engine_tae_ops = VMM_ENGINE_OPS("tae", tae_create, tae_print_info);
const struct engine_ops engine_bt_ops = VMM_ENGINE_OPS("bt", bt_create, bt_print_info);
