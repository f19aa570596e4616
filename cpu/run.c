/*
 * run.c - the run loop, and how guest faults unwind to it.
 *
 *   cpu_run
 *     setjmp  <------------------------------------------+
 *     loop:                                              |
 *       external interrupt / NMI pending? deliver        |
 *       block = block_lookup(CS:EIP)                     |
 *       for each instruction: eip += len; exec()  --- cpu_fault() (longjmp)
 *                                                         with the event
 *
 * A fault restores EIP to the faulting instruction, then either exits to
 * the VMM that owns the vector (exit_on_exception) or is delivered through
 * the guest's IDT.  If delivering it faults again, the SDM's double-fault
 * rules apply (Vol. 3A 6.15, table 6-5):
 *
 *   first \ second   benign    contributory   page fault
 *   benign           serial    serial         serial
 *   contributory     serial    #DF            serial
 *   page fault       serial    #DF            #DF
 *   double fault     serial    shutdown       shutdown
 *
 *   contributory = #DE #TS #NP #SS #GP; benign = the rest (but #PF).
 * Shutdown (a triple fault) ends cpu_run with CPU_EXIT_TRIPLE_FAULT and
 * the chain of faults in cpu->fault_chain, the first with its full state.
 */
#include <string.h>

#include "cpu/block.h"
#include "cpu/cpu_internal.h"
#include "cpu/log_cpu.h"

enum unwind_kind { UNWIND_EVENT = 1, UNWIND_EXIT = 2 };

struct pending_event {
    int vector;
    enum event_kind kind;
    bool has_error;
    uint32_t error;
    uint8_t len;      /* length of the instruction that raised it, or 0 */
};

/* The longest instruction, prefixes included (SDM Vol. 2A 2.3.11). */
#define MAX_INSN_LEN 15

/* The event being unwound to the run loop (one CPU runs per thread). */
static _Thread_local struct pending_event unwinding;

/* Which exceptions push an error code (SDM Vol. 3A table 6-1). */
static bool vector_has_error(int v)
{
    return v == X86_DF || v == X86_TS || v == X86_NP || v == X86_SS || v == X86_GP ||
           v == X86_PF || v == X86_AC;
}

_Noreturn static void unwind(struct cpu *cpu, int vector, enum event_kind kind, bool has_error,
                             uint32_t error, unsigned len)
{
    unwinding = (struct pending_event){ vector, kind, has_error, error, (uint8_t)len };
    longjmp(cpu->fault_jmp, UNWIND_EVENT);
}

/*
 * The length of the instruction raising an event from its handler: the
 * run loop advanced EIP past it before calling the handler, and handlers
 * change no register before they fault (cpu_internal.h), so it is EIP -
 * insn_eip.  0 when no instruction is executing: a code fetch fault (EIP
 * not advanced yet), a fault while delivering an event, or after a task
 * switch made the new task's EIP the instruction's (task.c).
 */
static unsigned raising_insn_len(const struct cpu *cpu)
{
    if (cpu->delivering) return 0;
    uint32_t n = cpu->s.eip - cpu->insn_eip;
    return n <= MAX_INSN_LEN ? n : 0;
}

_Noreturn void cpu_fault(struct cpu *cpu, int vector)
{
    unwind(cpu, vector, EVENT_FAULT, vector_has_error(vector), 0, raising_insn_len(cpu));
}

_Noreturn void cpu_fault_err(struct cpu *cpu, int vector, uint32_t error_code)
{
    unwind(cpu, vector, EVENT_FAULT, true, error_code, raising_insn_len(cpu));
}

_Noreturn void cpu_page_fault(struct cpu *cpu, uint32_t lin, uint32_t error_code)
{
    cpu->s.cr2 = lin;
    unwind(cpu, X86_PF, EVENT_FAULT, true, error_code, raising_insn_len(cpu));
}

/* Raised after the instruction completed (debug.c, on the per-instruction
 * path, where cpu->insn is the instruction that ran): EIP may be a branch
 * target, so its length comes from the decoded instruction. */
_Noreturn void cpu_trap(struct cpu *cpu, int vector)
{
    unwind(cpu, vector, EVENT_TRAP, false, 0, cpu->insn ? cpu->insn->len : 0);
}

/*
 * A software interrupt leaves cpu_run as an exit: remember where its INT
 * was, so that cpu_inject_event reflecting it can point a fault raised
 * while delivering it (the gate DPL check) at the INT, as hardware does.
 */
static void remember_soft_int(struct cpu *cpu)
{
    cpu->soft_int_known = true;
    cpu->soft_int_cs = cpu->s.seg[SEG_CS].selector;
    cpu->soft_int_eip = cpu->insn_eip;
    cpu->soft_int_next = cpu->s.eip;
}

_Noreturn void cpu_soft_interrupt(struct cpu *cpu, int vector, bool dpl_check)
{
    /* INT n, INT3, INTO, INT1 complete before their event is delivered:
     * they count as retired, like any instruction (the run loop's count
     * happens after the handler returns, which these never do). */
    cpu->stats.instructions++;
    unsigned len = raising_insn_len(cpu);
    if (dpl_check && cpu->exit_on_soft_int) {
        /* The instruction is done: what completing it clears, it clears
         * (RF, SDM Vol. 3B 17.3.1.1; the MOV SS interrupt shadow). */
        cpu->s.eflags &= ~EFLAGS_RF;
        cpu->s.interrupt_shadow = 0;
        remember_soft_int(cpu);
        cpu_exit_now(cpu, (struct cpu_exit){ .reason = CPU_EXIT_EXCEPTION, .vector = vector & 0xFF,
                                             .event_kind = CPU_EVENT_SOFT_INT,
                                             .insn_len = (uint8_t)len });
    }
    unwind(cpu, vector, dpl_check ? EVENT_SOFT_INT : EVENT_TRAP, false, 0, len);
}

_Noreturn void cpu_exit_now(struct cpu *cpu, struct cpu_exit exit)
{
    cpu->pending_exit = exit;
    longjmp(cpu->fault_jmp, UNWIND_EXIT);
}

void cpu_request_exit(struct cpu *cpu)
{
    cpu->exit_requested = true;
    cpu->end_block = true;
}

enum fault_class { CLASS_BENIGN, CLASS_CONTRIBUTORY, CLASS_PAGE_FAULT, CLASS_DOUBLE };

static enum fault_class classify(int v)
{
    switch (v) {
    case X86_DE: case X86_TS: case X86_NP: case X86_SS: case X86_GP: return CLASS_CONTRIBUTORY;
    case X86_PF: return CLASS_PAGE_FAULT;
    case X86_DF: return CLASS_DOUBLE;
    default: return CLASS_BENIGN;
    }
}

static void record_fault(struct cpu *cpu, int vector, bool has_error, uint32_t error)
{
    if (cpu->fault_chain_len >= CPU_FAULT_CHAIN_MAX) return;
    struct cpu_fault_record *r = &cpu->fault_chain[cpu->fault_chain_len++];
    r->vector = vector;
    r->has_error_code = has_error;
    r->error_code = error;
    r->cr2 = cpu->s.cr2;
    cpu_get_state(cpu, &r->state);
}

/*
 * Handle an event that unwound to the run loop.  Returns true when cpu_run
 * must return 'exit' (owned exception, triple fault).  'injected': the
 * event comes from cpu_inject_event - a VMM reflecting what it already
 * received (and counted) - so it is delivered whoever owns its vector;
 * faults raised while delivering it go to their owners as usual.
 */
static bool handle_event(struct cpu *cpu, struct pending_event ev, struct cpu_exit *exit, bool injected)
{
    if (ev.kind == EVENT_FAULT) cpu->s.eip = cpu->insn_eip;
    cpu->end_block = true;
    /* A faulting instruction runs again: its host watchpoint hits go. */
    if (ev.kind == EVENT_FAULT && !cpu->delivering) cpu->watch_hit = false;

    bool exception = ev.vector < 32 && ev.kind != EVENT_SOFT_INT && ev.kind != EVENT_EXTERNAL;
    if (exception && !injected) cpu->stats.exceptions[ev.vector]++;

    /* A VMM that owns the vector gets it, nothing is pushed. */
    if (!injected && ev.vector < 32 && (cpu->exit_on_exception & (1u << ev.vector)) &&
        ev.kind != EVENT_EXTERNAL) {
        cpu->delivering = 0;
        if (ev.kind == EVENT_SOFT_INT) remember_soft_int(cpu);
        *exit = (struct cpu_exit){ .reason = CPU_EXIT_EXCEPTION, .vector = ev.vector,
                                   .has_error_code = ev.has_error, .error_code = ev.error,
                                   .event_kind = (enum cpu_event_kind)ev.kind,
                                   .insn_len = ev.len };
        return true;
    }

    /* -d int: an exception raised, and what was being delivered (QEMU's check_exception). */
    if (unlikely(LOG_ON(LOG_INT)) && exception)
        cpu_log_check_exception(cpu, cpu->delivering ? cpu->first_vector : -1, ev.vector);

    if (cpu->delivering) {
        /* A fault while delivering an earlier event. */
        enum fault_class first = cpu->first_vector >= 0 ? classify(cpu->first_vector) : CLASS_BENIGN;
        enum fault_class second = classify(ev.vector);
        bool bad_second = second == CLASS_CONTRIBUTORY || second == CLASS_PAGE_FAULT;
        if (first == CLASS_DOUBLE && bad_second) {
            log_msg(LOG_CPU_RESET, "Triple fault\n");
            record_fault(cpu, ev.vector, ev.has_error, ev.error);
            cpu->delivering = 0;
            *exit = (struct cpu_exit){ .reason = CPU_EXIT_TRIPLE_FAULT };
            return true;
        }
        if ((first == CLASS_CONTRIBUTORY && second == CLASS_CONTRIBUTORY) ||
            (first == CLASS_PAGE_FAULT && bad_second)) {
            record_fault(cpu, ev.vector, ev.has_error, ev.error);
            ev = (struct pending_event){ X86_DF, EVENT_FAULT, true, 0, 0 };
            cpu->stats.exceptions[X86_DF]++;
            if (cpu->exit_on_exception & (1u << X86_DF)) {
                cpu->delivering = 0;
                *exit = (struct cpu_exit){ .reason = CPU_EXIT_EXCEPTION, .vector = X86_DF,
                                           .has_error_code = true, .error_code = 0,
                                           .event_kind = CPU_EVENT_FAULT };
                return true;
            }
        }
    } else {
        cpu->fault_chain_len = 0;
    }

    if (exception || ev.vector == X86_DF) record_fault(cpu, ev.vector, ev.has_error, ev.error);
    /* -d int, protected mode only (as QEMU): IP is the faulting instruction,
     * the INT n itself, or where an interrupt or a trap returns to. */
    if (unlikely(LOG_ON(LOG_INT)) && cpu_protected(cpu))
        cpu_log_interrupt(cpu, ev.vector, ev.kind == EVENT_SOFT_INT, ev.has_error ? ev.error : 0,
                          ev.kind == EVENT_SOFT_INT ? cpu->insn_eip : cpu->s.eip);
    /* Faults raised while delivering a trap or an interrupt report the
     * return address the event would have pushed. */
    if (ev.kind == EVENT_TRAP || ev.kind == EVENT_EXTERNAL) cpu->insn_eip = cpu->s.eip;
    cpu->delivering++;
    cpu->first_vector = exception || ev.vector == X86_DF ? ev.vector : -1;
    cpu->s.halted = false;
    cpu_deliver_event(cpu, ev.vector, ev.kind, ev.has_error, ev.error);
    cpu->delivering = 0;
    cpu->first_vector = -1;
    cpu->stats.interrupts[ev.vector]++;
    return false;
}

/*
 * A host watchpoint hit by delivering an event (its pushes, a #DB trap
 * delivered before the hit is reported: debug.c) ends the run once the
 * event is delivered.
 */
static bool take_watch_hit(struct cpu *cpu, struct cpu_exit *exit)
{
    if (likely(!cpu->watch_hit)) return false;
    cpu->watch_hit = false;
    *exit = cpu->watch_exit;
    return true;
}

/* An external interrupt can be taken now (SDM Vol. 3A 6.8.1, 6.8.3). */
static bool interrupt_deliverable(struct cpu *cpu)
{
    return (cpu->s.eflags & EFLAGS_IF) && !cpu->s.interrupt_shadow &&
           cpu->irq.pending && cpu->irq.pending(cpu->irq.opaque);
}

/*
 * Run one decoded block, all of it or 'max' instructions.  This is the
 * hottest loop of the emulator: per instruction it records the start EIP
 * (for faults), advances EIP and calls the handler.  cpu->insn is only
 * kept on the per-instruction path (debug checks), where it is set before.
 */
static inline void run_block(struct cpu *cpu, const struct decoded_block *b, unsigned max)
{
    const struct x86_insn *i = b->insn, *end = b->insn + (b->count < max ? b->count : max);
    for (; i < end; i++) {
        cpu->insn_eip = cpu->s.eip;
        cpu->s.eip += i->len;
        i->exec(cpu, i);
        cpu->stats.instructions++;
        if (unlikely(cpu->end_block)) break;
    }
}

static bool at_breakpoint(struct cpu *cpu)
{
    uint32_t lin = cpu->s.seg[SEG_CS].base + cpu->s.eip;
    for (int k = 0; k < cpu->breakpoint_count; k++)
        if (cpu->breakpoints[k] == lin) return true;
    return false;
}

struct cpu_exit cpu_run(struct cpu *cpu, uint64_t budget, bool step)
{
    /* Locals that change after setjmp must be volatile (C11 7.13.2.1). */
    volatile uint64_t limit = budget ? cpu->stats.instructions + budget : UINT64_MAX;
    volatile bool stepped = false;
    struct cpu_exit exit = { .reason = CPU_EXIT_BUDGET };

    cpu->in_run = true;
    cpu->watch_hit = false;
    switch (setjmp(cpu->fault_jmp)) {
    case 0:
        break;
    case UNWIND_EXIT:
        cpu->in_run = false;
        cpu->end_block = false;
        return cpu->pending_exit;
    default: {
        struct cpu_exit ex;
        if (handle_event(cpu, unwinding, &ex, false) || take_watch_hit(cpu, &ex)) {
            cpu->in_run = false;
            cpu->end_block = false;
            return ex;
        }
        if (step) stepped = true;
        break;
    }
    }

    for (;;) {
        cpu->end_block = false;
        if (unlikely(cpu->exit_requested)) {
            cpu->exit_requested = false;
            exit.reason = CPU_EXIT_REQUEST;
            break;
        }
        if (stepped) { exit.reason = CPU_EXIT_STEP; break; }
        if (cpu->stats.instructions >= limit) { exit.reason = CPU_EXIT_BUDGET; break; }

        /* Events between instructions: NMI, then INTR (SDM Vol. 3A 6.9). */
        if (unlikely(cpu->nmi_pending) && !cpu->s.interrupt_shadow) {
            cpu->nmi_pending = false;
            cpu->insn_eip = cpu->s.eip;
            cpu->s.halted = false;
            struct pending_event ev = { X86_NMI, EVENT_EXTERNAL, false, 0, 0 };
            if (handle_event(cpu, ev, &exit, false) || take_watch_hit(cpu, &exit)) break;
            if (step) { exit.reason = CPU_EXIT_STEP; break; }
        }
        if (interrupt_deliverable(cpu)) {
            int vector = cpu->irq.acknowledge(cpu->irq.opaque);
            cpu->s.halted = false;
            if (cpu->exit_on_interrupt) {
                exit = (struct cpu_exit){ .reason = CPU_EXIT_INTERRUPT, .vector = vector,
                                          .event_kind = CPU_EVENT_EXTERNAL };
                break;
            }
            cpu->insn_eip = cpu->s.eip;
            struct pending_event ev = { vector, EVENT_EXTERNAL, false, 0, 0 };
            if (handle_event(cpu, ev, &exit, false) || take_watch_hit(cpu, &exit)) break;
            if (step) { exit.reason = CPU_EXIT_STEP; break; }
            continue;
        }
        if (cpu->s.halted) { exit.reason = CPU_EXIT_HALT; break; }

        /* Host breakpoints: stop before the instruction, unless this is the
         * breakpoint that stopped the last run and we are continuing from
         * it (then its instruction runs, as gdb and Bochs do). */
        if (unlikely(cpu->breakpoint_count) && at_breakpoint(cpu)) {
            uint32_t lin = cpu->s.seg[SEG_CS].base + cpu->s.eip;
            if (!(cpu->breakpoint_resume_armed && cpu->breakpoint_resume_lin == lin)) {
                cpu->breakpoint_resume_armed = true;
                cpu->breakpoint_resume_lin = lin;
                exit = (struct cpu_exit){ .reason = CPU_EXIT_BREAKPOINT, .address = lin };
                break;
            }
            cpu->breakpoint_resume_armed = false;
        }

        cpu->insn_eip = cpu->s.eip;
        const struct decoded_block *b = block_lookup(cpu);
        if (unlikely(log_mask & (LOG_MASK_OF(LOG_EXEC) | LOG_MASK_OF(LOG_CPU)))) cpu_log_exec(cpu);
        bool shadow = cpu->s.interrupt_shadow != 0;
        if (unlikely(cpu->check_each_insn || step || shadow)) {
            uint32_t tf_before = cpu->s.eflags & EFLAGS_TF;
            if (cpu->check_each_insn) cpu_debug_before_insn(cpu);
            if (step) stepped = true;
            cpu->insn = &b->insn[0];
            run_block(cpu, b, 1);
            if (shadow) cpu->s.interrupt_shadow = 0;
            if (cpu->check_each_insn) cpu_debug_after_insn(cpu, tf_before != 0);
        } else {
            uint64_t left = limit - cpu->stats.instructions;
            run_block(cpu, b, left < BLOCK_MAX_INSNS ? (unsigned)left : BLOCK_MAX_INSNS);
        }
    }
    cpu->in_run = false;
    cpu->end_block = false;
    return exit;
}

/*
 * Deliver an event from outside, as if the instruction at EIP raised it
 * now (cpu.h).  Delivery can fault, and the fault can fault again (#DF,
 * shutdown): each of those unwinds to this setjmp, whose handler applies
 * the double-fault table exactly as the run loop does, so the loop here is
 * the setjmp returning once per fault until one delivery completes.
 */
struct cpu_exit cpu_inject_event(struct cpu *cpu, int vector, enum cpu_event_kind kind,
                                 bool has_error, uint32_t error_code)
{
    struct cpu_exit ex;
    cpu->watch_hit = false;
    cpu->delivering = 0;
    cpu->first_vector = -1;
    switch (setjmp(cpu->fault_jmp)) {
    case 0:
        break;
    case UNWIND_EXIT:                 /* vm86 met while delivering */
        cpu->end_block = false;
        return cpu->pending_exit;
    default:
        if (handle_event(cpu, unwinding, &ex, false) || take_watch_hit(cpu, &ex)) {
            cpu->end_block = false;
            return ex;
        }
        cpu->end_block = false;
        return (struct cpu_exit){ .reason = CPU_EXIT_STEP };
    }

    /* Where a fault raised while delivering points: the instruction for a
     * fault (EIP), the return address for a trap or an interrupt (EIP, set
     * by handle_event), the INT itself for a software interrupt - known
     * when EIP is still where the last soft-int exit left it. */
    cpu->insn_eip = cpu->s.eip;
    if (kind == CPU_EVENT_SOFT_INT && cpu->soft_int_known && cpu->s.eip == cpu->soft_int_next &&
        cpu->s.seg[SEG_CS].selector == cpu->soft_int_cs)
        cpu->insn_eip = cpu->soft_int_eip;
    cpu->soft_int_known = false;
    struct pending_event ev = { vector & 0xFF, (enum event_kind)kind, has_error, error_code, 0 };
    if (handle_event(cpu, ev, &ex, true) || take_watch_hit(cpu, &ex)) {
        cpu->end_block = false;
        return ex;
    }
    cpu->end_block = false;
    return (struct cpu_exit){ .reason = CPU_EXIT_STEP };
}

void cpu_inject_interrupt(struct cpu *cpu, int vector, bool has_error, uint32_t error_code)
{
    (void)cpu_inject_event(cpu, vector, CPU_EVENT_EXTERNAL, has_error, error_code);
}
