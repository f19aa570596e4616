/*
 * interrupt.c - delivering an exception or interrupt through the IDT.
 *
 * Real mode: the IDT is the interrupt vector table, 4-byte IP:CS pairs at
 * IDTR.base (0 after reset); FLAGS, CS and IP are pushed and IF, TF, AC
 * cleared (SDM Vol. 2A INT n "REAL-ADDRESS-MODE").
 *
 * Protected mode: 8-byte gates (SDM Vol. 3A 6.10-6.12):
 *
 *   type 5  task gate        -> a task switch (task.c), the error code is
 *                               pushed on the new task's stack
 *   type 6/E 16/32-bit interrupt gate -> handler, IF cleared
 *   type 7/F 16/32-bit trap gate      -> handler, IF kept
 *
 * A handler in a more privileged non-conforming segment runs on the stack
 * the TSS names for its ring:
 *
 *   32-bit gate, CPL 3 -> 0       same ring
 *   ESP0 -> old SS                   EFLAGS
 *           old ESP                  CS
 *           EFLAGS                   EIP
 *           CS                       error code   <- ESP
 *           EIP
 *           error code   <- ESP
 *
 * Error codes raised while delivering carry EXT = 1 unless the event is a
 * software interrupt (INT n, INT3, INTO), and IDT entries are named with
 * IDT = 1 (error code vector*8 + 2 + EXT) (Vol. 3A 6.13).  Only software
 * interrupts check the gate's DPL against CPL (Vol. 3A 6.12.1.1), which is
 * how an OS keeps user code from calling "INT 14" to fake a page fault.
 *
 * Every check and stack write happens before any register changes, so a
 * fault while delivering (which the run loop may turn into a double fault)
 * sees the state of the interrupted instruction.
 */
#include "cpu/transfer.h"

static _Noreturn void vm86_unsupported(struct cpu *cpu)
{
    cpu_exit_now(cpu, (struct cpu_exit){ .reason = CPU_EXIT_UNSUPPORTED,
                                         .message = "virtual-8086 mode is not modelled yet" });
}

static void deliver_real(struct cpu *cpu, int vector)
{
    struct stack_frame f;
    uint32_t at = (uint32_t)vector * 4;
    /* The IVT entry must lie inside IDTR.limit, else #GP (Vol. 2A INT n). */
    if (at + 3 > cpu->s.idtr.limit) cpu_fault(cpu, X86_GP);
    uint32_t entry = cpu_read_lin(cpu, cpu->s.idtr.base + at, 4, false);
    uint32_t flags = cpu_get_eflags(cpu);

    frame_current(cpu, &f, 0);
    frame_push(cpu, &f, 2, flags);
    frame_push(cpu, &f, 2, cpu->s.seg[SEG_CS].selector);
    frame_push(cpu, &f, 2, cpu->s.eip);

    frame_commit_sp(cpu, &f);
    cpu_load_sreg_real(cpu, SEG_CS, (uint16_t)(entry >> 16));
    cpu->s.eip = entry & 0xFFFFu;
    set_eflags_raw(cpu, flags & ~(EFLAGS_IF | EFLAGS_TF | EFLAGS_AC));
    cpu->end_block = true;
}

/* Through a task gate (Vol. 2A INT n "TASK-GATE", Vol. 3A 6.12.2). */
static void deliver_task_gate(struct cpu *cpu, struct x86_descriptor gate, unsigned ext,
                              bool has_error, uint32_t error_code)
{
    struct x86_descriptor d;
    uint16_t tsel = gate_selector(gate);
    uint32_t err = sel_error(tsel, ext);
    /* The TSS must be in the GDT and available (not busy): #GP(TSS selector). */
    if ((tsel & 4) || !cpu_read_descriptor(cpu, tsel, &d)) cpu_fault_err(cpu, X86_GP, err);
    if (desc_s(d) || (desc_type(d) != DESC_TSS16_AVAIL && desc_type(d) != DESC_TSS32_AVAIL))
        cpu_fault_err(cpu, X86_GP, err);
    if (!desc_present(d)) cpu_fault_err(cpu, X86_NP, err);
    cpu_task_switch(cpu, tsel, d, TASK_INT, has_error, error_code);
}

/* Through an interrupt or trap gate (Vol. 2A INT n, Vol. 3A 6.12.1). */
static void deliver_gate(struct cpu *cpu, int vector, enum event_kind kind,
                         struct x86_descriptor gate, unsigned ext,
                         bool has_error, uint32_t error_code)
{
    struct x86_descriptor cd;
    struct x86_segment cs, ssseg;
    struct stack_frame f;
    bool gate32 = (desc_type(gate) & 8) != 0;
    bool trap_gate = (desc_type(gate) & 1) != 0;
    unsigned gsize = gate32 ? 4 : 2, cpl = cpu->s.cpl, newcpl;
    uint16_t csel = gate_selector(gate);
    uint32_t eip = gate_offset(gate, gate32);
    uint32_t cerr = sel_error(csel, ext);

    /* The handler's code segment: present code with DPL <= CPL. */
    if (sel_is_null(csel)) cpu_fault_err(cpu, X86_GP, ext);
    if (!cpu_read_descriptor(cpu, csel, &cd) || !desc_is_code(cd) || desc_dpl(cd) > cpl)
        cpu_fault_err(cpu, X86_GP, cerr);
    if (!desc_present(cd)) cpu_fault_err(cpu, X86_NP, cerr);

    uint32_t flags = cpu_get_eflags(cpu);
    uint32_t pushed = flags;
    /*
     * A fault-class exception pushes RF = 1 (except an instruction-breakpoint
     * #DB), so that the handler's IRET does not re-trigger an instruction
     * breakpoint on the restarted instruction (Vol. 3B 17.3.1.1).
     */
    if (kind == EVENT_FAULT && vector != X86_DB) pushed |= EFLAGS_RF;
    unsigned words = 3 + (has_error ? 1 : 0);

    if (!desc_conforming(cd) && desc_dpl(cd) < cpl) {
        /* Inner privilege: the stack of ring DPL from the TSS (Vol. 3A 6.12.1). */
        uint16_t nss;
        uint32_t nsp;
        newcpl = desc_dpl(cd);
        tss_inner_stack(cpu, newcpl, ext, &nss, &nsp);
        load_inner_stack_segment(cpu, nss, newcpl, ext, &ssseg);
        frame_from_segment(&f, &ssseg, nsp, newcpl, sel_error(nss, ext));
        frame_check_room(cpu, &f, gsize * (words + 2));
        cpu_segment_from_descriptor(&cs, (uint16_t)((csel & 0xFFFC) | newcpl), cd);
        if (eip > cs.limit) cpu_fault_err(cpu, X86_GP, ext);
        frame_push(cpu, &f, gsize, cpu->s.seg[SEG_SS].selector);
        frame_push(cpu, &f, gsize, cpu->s.regs[R_ESP]);
    } else {
        /* Same privilege (conforming, or DPL == CPL): the current stack. */
        newcpl = cpl;
        frame_current(cpu, &f, ext);
        frame_check_room(cpu, &f, gsize * words);
        cpu_segment_from_descriptor(&cs, (uint16_t)((csel & 0xFFFC) | newcpl), cd);
        if (eip > cs.limit) cpu_fault_err(cpu, X86_GP, ext);
    }
    frame_push(cpu, &f, gsize, pushed);
    frame_push(cpu, &f, gsize, cpu->s.seg[SEG_CS].selector);
    frame_push(cpu, &f, gsize, cpu->s.eip);
    if (has_error) frame_push(cpu, &f, gsize, error_code);

    /* Commit. */
    cpu_set_descriptor_accessed(cpu, csel, &cd);
    cs.attr |= SEG_ATTR_A;
    if (newcpl != cpl) cpu->s.seg[SEG_SS] = ssseg;
    frame_commit_sp(cpu, &f);
    commit_cs(cpu, &cs, newcpl, eip);
    /* TF, NT, RF, VM cleared; IF too through an interrupt gate (Vol. 3A 6.12.1.2). */
    flags &= ~(EFLAGS_TF | EFLAGS_NT | EFLAGS_RF | EFLAGS_VM);
    if (!trap_gate) flags &= ~EFLAGS_IF;
    set_eflags_raw(cpu, flags);
}

static void deliver_protected(struct cpu *cpu, int vector, enum event_kind kind,
                              bool has_error, uint32_t error_code)
{
    struct x86_descriptor gate;
    unsigned ext = kind == EVENT_SOFT_INT ? 0 : 1;
    uint32_t at = (uint32_t)vector * 8;
    uint32_t gerr = at + 2 + ext;   /* IDT bit set: the selector names an IDT entry */

    if (at + 7 > cpu->s.idtr.limit) cpu_fault_err(cpu, X86_GP, gerr);
    gate.lo = cpu_read_lin(cpu, cpu->s.idtr.base + at, 4, false);
    gate.hi = cpu_read_lin(cpu, cpu->s.idtr.base + at + 4, 4, false);

    switch (desc_s(gate) ? 0 : desc_type(gate)) {
    case DESC_TASKGATE:
    case DESC_INTGATE16: case DESC_TRAPGATE16:
    case DESC_INTGATE32: case DESC_TRAPGATE32:
        break;
    default:
        cpu_fault_err(cpu, X86_GP, gerr);
    }
    /* INT n / INT3 / INTO: gate DPL >= CPL, else #GP with EXT = 0 (Vol. 3A 6.12.1.1). */
    if (kind == EVENT_SOFT_INT && desc_dpl(gate) < cpu->s.cpl)
        cpu_fault_err(cpu, X86_GP, at + 2);
    if (!desc_present(gate)) cpu_fault_err(cpu, X86_NP, gerr);

    if (desc_type(gate) == DESC_TASKGATE)
        deliver_task_gate(cpu, gate, ext, has_error, error_code);
    else
        deliver_gate(cpu, vector, kind, gate, ext, has_error, error_code);
}

void cpu_deliver_event(struct cpu *cpu, int vector, enum event_kind kind,
                       bool has_error, uint32_t error_code)
{
    vector &= 0xFF;
    if (!cpu_protected(cpu))
        deliver_real(cpu, vector);           /* no error codes in real mode */
    else if (cpu_vm86(cpu))
        vm86_unsupported(cpu);
    else
        deliver_protected(cpu, vector, kind, has_error, error_code);
    cpu->s.halted = false;                   /* an event resumes after HLT */
    /* cpu->stats.interrupts[] is counted by the run loop (run.c handle_event),
     * the one caller, so it is not counted again here. */
}
