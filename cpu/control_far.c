/*
 * control_far.c - far JMP, far CALL, far RET and IRET.
 *
 * In real mode a far transfer just loads CS (base = selector * 16) and EIP.
 * In protected mode the selector names a descriptor, and what happens
 * depends on its kind (SDM Vol. 3A 5.8, Vol. 2A CALL / JMP):
 *
 *   code segment   -> same privilege only (conforming: DPL <= CPL; else
 *                     DPL == CPL and RPL <= CPL); CPL never changes
 *   call gate      -> JMP: same privilege; CALL: may go to an inner ring,
 *                     switching to the stack the TSS holds for that ring and
 *                     copying the gate's parameter count of words/dwords
 *   task gate, TSS -> a task switch (task.c)
 *
 * RET far and IRET go the other way: same ring, or outward with SS:ESP
 * popped from the inner stack, and data segment registers the outer ring
 * may not use are nulled.
 *
 * Worked example, CALL FAR 0x1B:0 through a 32-bit call gate at CPL 3 whose
 * target is a DPL 0 code segment, two parameters:
 *
 *   ring 3 stack          ring 0 stack (SS0:ESP0 from the TSS)
 *   [esp+4] param 1       old SS      <- ESP0 - 4
 *   [esp+0] param 0       old ESP
 *                         param 1
 *                         param 0
 *                         old CS
 *                         old EIP     <- new ESP
 *
 * Every check and every memory write is done before any register changes,
 * because a fault unwinds (longjmp) and must leave the old state intact
 * (SDM Vol. 3A 6.6).  The stacks are built through struct stack_frame for
 * that reason: the inner stack is written while SS still holds the outer one.
 */
#include "cpu/log_cpu.h"
#include "cpu/transfer.h"

/* EFLAGS bits IRET may write (SDM Vol. 2A IRET: 257FD5H for 32-bit, low word for 16). */
#define IRET_MASK32 0x00257FD5u
#define IRET_MASK16 0x00007FD5u

static _Noreturn void vm86_unsupported(struct cpu *cpu)
{
    cpu_exit_now(cpu, (struct cpu_exit){ .reason = CPU_EXIT_UNSUPPORTED,
                                         .message = "virtual-8086 mode is not modelled yet" });
}

/* Load CS from a checked descriptor with RPL = 'cpl'; #GP(0) when EIP > limit. */
static void enter_code_segment(struct cpu *cpu, uint16_t sel, struct x86_descriptor d,
                               uint32_t eip, unsigned cpl)
{
    struct x86_segment cs;
    cpu_segment_from_descriptor(&cs, (uint16_t)((sel & 0xFFFC) | cpl), d);
    /* The target must lie inside the new CS (Vol. 2A JMP/CALL: #GP(0)). */
    if (eip > cs.limit) cpu_fault_err(cpu, X86_GP, 0);
    cpu_set_descriptor_accessed(cpu, sel, &d);
    cs.attr |= SEG_ATTR_A;
    commit_cs(cpu, &cs, cpl, eip);
}

/* Direct JMP/CALL to a code segment: the privilege rules (Vol. 3A 5.8.1). */
static void check_direct_code(struct cpu *cpu, uint16_t sel, struct x86_descriptor d)
{
    unsigned cpl = cpu->s.cpl;
    uint32_t err = sel_error(sel, 0);
    if (!desc_is_code(d)) cpu_fault_err(cpu, X86_GP, err);
    if (desc_conforming(d)) {
        if (desc_dpl(d) > cpl) cpu_fault_err(cpu, X86_GP, err);
    } else if (sel_rpl(sel) > cpl || desc_dpl(d) != cpl) {
        cpu_fault_err(cpu, X86_GP, err);
    }
    if (!desc_present(d)) cpu_fault_err(cpu, X86_NP, err);
}

/* A gate or TSS named by a JMP/CALL: DPL >= CPL and DPL >= RPL (Vol. 3A 5.8.4, 7.3). */
static void check_gate_access(struct cpu *cpu, uint16_t sel, struct x86_descriptor d)
{
    if (desc_dpl(d) < cpu->s.cpl || desc_dpl(d) < sel_rpl(sel))
        cpu_fault_err(cpu, X86_GP, sel_error(sel, 0));
    if (!desc_present(d)) cpu_fault_err(cpu, X86_NP, sel_error(sel, 0));
}

/*
 * JMP/CALL to an available TSS or through a task gate (Vol. 2A JMP/CALL
 * "TASK-GATE" and "TASK-STATE-SEGMENT", Vol. 3A 7.3).
 */
static void far_task(struct cpu *cpu, uint16_t sel, struct x86_descriptor d,
                     enum task_switch_reason reason)
{
    check_gate_access(cpu, sel, d);
    if (desc_type(d) == DESC_TASKGATE) {
        sel = gate_selector(d);
        /* The TSS descriptor must be in the GDT (Vol. 3A 7.2.2). */
        if ((sel & 4) || !cpu_read_descriptor(cpu, sel, &d))
            cpu_fault_err(cpu, X86_GP, sel_error(sel, 0));
        if (desc_type(d) != DESC_TSS16_AVAIL && desc_type(d) != DESC_TSS32_AVAIL)
            cpu_fault_err(cpu, X86_GP, sel_error(sel, 0));
        if (desc_s(d)) cpu_fault_err(cpu, X86_GP, sel_error(sel, 0));
        if (!desc_present(d)) cpu_fault_err(cpu, X86_NP, sel_error(sel, 0));
    } else if (sel & 4) {
        cpu_fault_err(cpu, X86_GP, sel_error(sel, 0));   /* a TSS lives in the GDT only */
    }
    cpu_task_switch(cpu, sel, d, reason, false, 0);
}

/*
 * The descriptor a protected-mode far JMP/CALL names (Vol. 2A JMP/CALL):
 * #GP(0) for a null selector, #GP(selector) beyond the table's limit.
 */
static struct x86_descriptor far_descriptor(struct cpu *cpu, uint16_t selector)
{
    struct x86_descriptor d;
    if (sel_is_null(selector)) cpu_fault_err(cpu, X86_GP, 0);
    if (!cpu_read_descriptor(cpu, selector, &d)) cpu_fault_err(cpu, X86_GP, sel_error(selector, 0));
    return d;
}

/*
 * JMP/CALL through the call gate 'gate' named by 'selector': the gate's
 * access rights, then the code segment it names, returned with its selector
 * in *csel (Vol. 2A CALL/JMP "CALL-GATE").  The target's privilege and
 * presence are the caller's: JMP and CALL check them differently.
 */
static struct x86_descriptor gate_code_segment(struct cpu *cpu, uint16_t selector,
                                               struct x86_descriptor gate, uint16_t *csel)
{
    struct x86_descriptor cd;
    check_gate_access(cpu, selector, gate);
    *csel = gate_selector(gate);
    if (sel_is_null(*csel)) cpu_fault_err(cpu, X86_GP, 0);
    if (!cpu_read_descriptor(cpu, *csel, &cd) || !desc_is_code(cd))
        cpu_fault_err(cpu, X86_GP, sel_error(*csel, 0));
    return cd;
}

/* Real mode: CS = selector, base = selector * 16 (Vol. 2A JMP real-address mode). */
static void real_enter(struct cpu *cpu, uint16_t selector, uint32_t eip)
{
    cpu_load_sreg_real(cpu, SEG_CS, selector);
    cpu->s.eip = eip;
    cpu->end_block = true;
}

static void far_jump(struct cpu *cpu, uint16_t selector, uint32_t offset, unsigned opsize)
{
    uint32_t eip = opsize == 4 ? offset : (offset & 0xFFFFu);

    if (!cpu_protected(cpu) || cpu_vm86(cpu)) {
        if (eip > cpu->s.seg[SEG_CS].limit) cpu_fault_err(cpu, X86_GP, 0);
        real_enter(cpu, selector, eip);
        return;
    }
    struct x86_descriptor d = far_descriptor(cpu, selector);

    if (desc_s(d)) {
        check_direct_code(cpu, selector, d);
        enter_code_segment(cpu, selector, d, eip, cpu->s.cpl);
        return;
    }
    switch (desc_type(d)) {
    case DESC_CALLGATE16:
    case DESC_CALLGATE32: {
        /* JMP through a call gate never changes privilege (Vol. 3A 5.8.4). */
        uint16_t csel;
        struct x86_descriptor cd = gate_code_segment(cpu, selector, d, &csel);
        unsigned cpl = cpu->s.cpl;
        if (desc_conforming(cd) ? desc_dpl(cd) > cpl : desc_dpl(cd) != cpl)
            cpu_fault_err(cpu, X86_GP, sel_error(csel, 0));
        if (!desc_present(cd)) cpu_fault_err(cpu, X86_NP, sel_error(csel, 0));
        enter_code_segment(cpu, csel, cd, gate_offset(d, desc_type(d) == DESC_CALLGATE32), cpl);
        return;
    }
    case DESC_TASKGATE:
    case DESC_TSS16_AVAIL:
    case DESC_TSS32_AVAIL:
        far_task(cpu, selector, d, TASK_JMP);
        return;
    default:   /* busy TSS, LDT, interrupt/trap gates, reserved types */
        cpu_fault_err(cpu, X86_GP, sel_error(selector, 0));
    }
}

/*
 * CALL through a call gate to a more privileged, non-conforming segment
 * (Vol. 2A CALL "MORE-PRIVILEGE", Vol. 3A 5.8.5-5.8.6).
 */
static void call_gate_inner(struct cpu *cpu, struct x86_descriptor gate,
                            uint16_t csel, struct x86_descriptor cd)
{
    bool gate32 = desc_type(gate) == DESC_CALLGATE32;
    unsigned gsize = gate32 ? 4 : 2, dpl = desc_dpl(cd);
    unsigned params = gate_param_count(gate);
    uint32_t eip = gate_offset(gate, gate32);
    uint16_t nss;
    uint32_t nsp;
    struct x86_segment ssseg, cs;
    struct stack_frame outer, inner;

    tss_inner_stack(cpu, dpl, 0, &nss, &nsp);
    load_inner_stack_segment(cpu, nss, dpl, 0, &ssseg);
    frame_from_segment(&inner, &ssseg, nsp, dpl, sel_error(nss, 0));
    /* Room for SS:ESP, CS:EIP and the parameters, else #SS(new SS). */
    frame_check_room(cpu, &inner, gsize * (4 + params));
    cpu_segment_from_descriptor(&cs, (uint16_t)((csel & 0xFFFC) | dpl), cd);
    if (eip > cs.limit) cpu_fault_err(cpu, X86_GP, 0);

    log_msg(LOG_PCALL, "new ss:esp=%04x:%08x param_count=%u env->regs[R_ESP]=%08x\n",
            nss, nsp, params, cpu->s.regs[R_ESP]);
    frame_current(cpu, &outer, 0);
    frame_push(cpu, &inner, gsize, cpu->s.seg[SEG_SS].selector);
    frame_push(cpu, &inner, gsize, cpu->s.regs[R_ESP]);
    /* Copy the parameters, deepest first, so they keep their order (fig. 5-13). */
    for (unsigned n = params; n-- > 0;) {
        struct stack_frame at = outer;
        at.sp = (outer.sp + n * gsize) & (outer.big ? 0xFFFFFFFFu : 0xFFFFu);
        frame_push(cpu, &inner, gsize, frame_pop(cpu, &at, gsize));
    }
    frame_push(cpu, &inner, gsize, cpu->s.seg[SEG_CS].selector);
    frame_push(cpu, &inner, gsize, cpu->s.eip);

    /* Nothing can fault from here on: commit. */
    cpu_set_descriptor_accessed(cpu, csel, &cd);
    cs.attr |= SEG_ATTR_A;
    cpu->s.seg[SEG_SS] = ssseg;
    frame_commit_sp(cpu, &inner);
    commit_cs(cpu, &cs, dpl, eip);
}

/* Push the return CS:EIP on the current stack and enter 'cd' at the same CPL. */
static void call_same_privilege(struct cpu *cpu, uint16_t csel, struct x86_descriptor cd,
                                uint32_t eip, unsigned size)
{
    struct stack_frame f;
    struct x86_segment cs;
    unsigned cpl = cpu->s.cpl;

    frame_current(cpu, &f, 0);
    frame_check_room(cpu, &f, 2 * size);   /* #SS(0) (Vol. 2A CALL) */
    cpu_segment_from_descriptor(&cs, (uint16_t)((csel & 0xFFFC) | cpl), cd);
    if (eip > cs.limit) cpu_fault_err(cpu, X86_GP, 0);
    frame_push(cpu, &f, size, cpu->s.seg[SEG_CS].selector);
    frame_push(cpu, &f, size, cpu->s.eip);
    cpu_set_descriptor_accessed(cpu, csel, &cd);
    cs.attr |= SEG_ATTR_A;
    frame_commit_sp(cpu, &f);
    commit_cs(cpu, &cs, cpl, eip);
}

static void far_call(struct cpu *cpu, uint16_t selector, uint32_t offset, unsigned opsize)
{
    uint32_t eip = opsize == 4 ? offset : (offset & 0xFFFFu);

    if (!cpu_protected(cpu) || cpu_vm86(cpu)) {
        struct stack_frame f;
        frame_current(cpu, &f, 0);
        if (eip > cpu->s.seg[SEG_CS].limit) cpu_fault_err(cpu, X86_GP, 0);
        frame_push(cpu, &f, opsize, cpu->s.seg[SEG_CS].selector);
        frame_push(cpu, &f, opsize, cpu->s.eip);
        frame_commit_sp(cpu, &f);
        real_enter(cpu, selector, eip);
        return;
    }
    if (unlikely(LOG_ON(LOG_PCALL))) {
        log_printf("lcall %04x:%08x s=%d\n", selector, eip, opsize == 4);
        cpu_log_state(cpu);
    }
    struct x86_descriptor d = far_descriptor(cpu, selector);

    if (desc_s(d)) {
        check_direct_code(cpu, selector, d);
        call_same_privilege(cpu, selector, d, eip, opsize);
        return;
    }
    switch (desc_type(d)) {
    case DESC_CALLGATE16:
    case DESC_CALLGATE32: {
        uint16_t csel;
        struct x86_descriptor cd = gate_code_segment(cpu, selector, d, &csel);
        /* A call gate may lead inward or level, never outward (Vol. 3A 5.8.5). */
        if (desc_dpl(cd) > cpu->s.cpl) cpu_fault_err(cpu, X86_GP, sel_error(csel, 0));
        if (!desc_present(cd)) cpu_fault_err(cpu, X86_NP, sel_error(csel, 0));
        bool gate32 = desc_type(d) == DESC_CALLGATE32;
        if (!desc_conforming(cd) && desc_dpl(cd) < cpu->s.cpl)
            call_gate_inner(cpu, d, csel, cd);
        else   /* pushes follow the gate's size, not the operand size */
            call_same_privilege(cpu, csel, cd, gate_offset(d, gate32), gate32 ? 4 : 2);
        return;
    }
    case DESC_TASKGATE:
    case DESC_TSS16_AVAIL:
    case DESC_TSS32_AVAIL:
        far_task(cpu, selector, d, TASK_CALL);
        return;
    default:
        cpu_fault_err(cpu, X86_GP, sel_error(selector, 0));
    }
}

/*
 * The return code segment of RET far / IRET in protected mode (Vol. 2B
 * RET, Vol. 2A IRET): not null, a code segment, RPL >= CPL, conforming
 * DPL <= RPL or non-conforming DPL == RPL, present.
 */
static struct x86_descriptor return_code_segment(struct cpu *cpu, uint16_t csel)
{
    struct x86_descriptor cd;
    uint32_t err = sel_error(csel, 0);
    unsigned rpl = sel_rpl(csel);
    if (sel_is_null(csel)) cpu_fault_err(cpu, X86_GP, 0);
    if (!cpu_read_descriptor(cpu, csel, &cd) || !desc_is_code(cd)) cpu_fault_err(cpu, X86_GP, err);
    if (rpl < cpu->s.cpl) cpu_fault_err(cpu, X86_GP, err);
    if (desc_conforming(cd) ? desc_dpl(cd) > rpl : desc_dpl(cd) != rpl)
        cpu_fault_err(cpu, X86_GP, err);
    if (!desc_present(cd)) cpu_fault_err(cpu, X86_NP, err);
    return cd;
}

/*
 * The outer SS popped by RET far / IRET to an outer ring 'rpl' (Vol. 2B
 * RET "RETURN-TO-OUTER-PRIVILEGE-LEVEL"): not null, RPL == return CS RPL,
 * writable data with DPL == RPL, present (#SS).
 */
static void return_stack_segment(struct cpu *cpu, uint16_t ss, unsigned rpl, struct x86_segment *seg)
{
    struct x86_descriptor d;
    uint32_t err = sel_error(ss, 0);
    if (sel_is_null(ss)) cpu_fault_err(cpu, X86_GP, 0);
    if (!cpu_read_descriptor(cpu, ss, &d) || sel_rpl(ss) != rpl) cpu_fault_err(cpu, X86_GP, err);
    if (!desc_writable_data(d) || desc_dpl(d) != rpl) cpu_fault_err(cpu, X86_GP, err);
    if (!desc_present(d)) cpu_fault_err(cpu, X86_SS, err);
    cpu_set_descriptor_accessed(cpu, ss, &d);
    cpu_segment_from_descriptor(seg, ss, d);
}

/*
 * After a return to an outer ring, a data segment register the new ring
 * may not use (data or non-conforming code with DPL < CPL) is nulled, so
 * an inner ring's segment does not leak outward (Vol. 2B RET, Vol. 2A IRET).
 */
static void null_inaccessible_data_segments(struct cpu *cpu)
{
    static const int regs[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
    for (unsigned n = 0; n < sizeof regs / sizeof regs[0]; n++) {
        struct x86_segment *seg = &cpu->s.seg[regs[n]];
        unsigned dpl = (seg->attr & SEG_ATTR_DPL) >> SEG_ATTR_DPL_SHIFT;
        bool conforming = (seg->attr & (SEG_ATTR_CODE | SEG_ATTR_C)) == (SEG_ATTR_CODE | SEG_ATTR_C);
        if ((seg->attr & SEG_ATTR_P) && !conforming && dpl < cpu->s.cpl)
            seg_make_unusable(seg, 0);
    }
}

/*
 * Finish a protected-mode RET far / IRET once the return CS is checked:
 * same ring, or outward popping SS:ESP.  'f' is positioned after the
 * return frame (and 'pop_extra'); 'eflags'/'mask' (IRET only, mask 0 for
 * RET) are written with the old CPL's privilege rules, as the SDM's IRET
 * pseudo-code does before "CPL := CS(RPL)".
 */
static void return_to(struct cpu *cpu, struct stack_frame *f, uint16_t csel,
                      struct x86_descriptor cd, uint32_t eip, unsigned size,
                      uint16_t pop_extra, uint32_t eflags, uint32_t mask)
{
    unsigned rpl = sel_rpl(csel);
    struct x86_segment cs;
    cpu_segment_from_descriptor(&cs, csel, cd);

    if (rpl == cpu->s.cpl) {
        if (eip > cs.limit) cpu_fault_err(cpu, X86_GP, 0);
        cpu_set_descriptor_accessed(cpu, csel, &cd);
        cs.attr |= SEG_ATTR_A;
        if (mask) cpu_write_eflags(cpu, eflags, mask);
        frame_commit_sp(cpu, f);
        commit_cs(cpu, &cs, rpl, eip);
        return;
    }
    /* Outer ring: the inner stack then holds ESP and SS. */
    struct x86_segment ssseg;
    struct stack_frame nf;
    uint32_t nsp = frame_pop(cpu, f, size);
    uint16_t nss = (uint16_t)frame_pop(cpu, f, size);
    return_stack_segment(cpu, nss, rpl, &ssseg);
    if (eip > cs.limit) cpu_fault_err(cpu, X86_GP, 0);
    cpu_set_descriptor_accessed(cpu, csel, &cd);
    cs.attr |= SEG_ATTR_A;

    frame_from_segment(&nf, &ssseg, nsp, rpl, 0);
    nf.sp = (nf.sp + pop_extra) & (nf.big ? 0xFFFFFFFFu : 0xFFFFu);
    if (mask) cpu_write_eflags(cpu, eflags, mask);   /* old CPL's rules */
    cpu->s.seg[SEG_SS] = ssseg;
    frame_commit_sp(cpu, &nf);
    commit_cs(cpu, &cs, rpl, eip);
    null_inaccessible_data_segments(cpu);
}

static void far_return(struct cpu *cpu, unsigned opsize, uint16_t pop_extra)
{
    struct stack_frame f;
    frame_current(cpu, &f, 0);
    uint32_t eip = frame_pop(cpu, &f, opsize);
    uint16_t csel = (uint16_t)frame_pop(cpu, &f, opsize);
    uint32_t mask = f.big ? 0xFFFFFFFFu : 0xFFFFu;

    if (!cpu_protected(cpu) || cpu_vm86(cpu)) {
        if (eip > cpu->s.seg[SEG_CS].limit) cpu_fault_err(cpu, X86_GP, 0);
        f.sp = (f.sp + pop_extra) & mask;
        frame_commit_sp(cpu, &f);
        real_enter(cpu, csel, eip);
        return;
    }
    if (unlikely(LOG_ON(LOG_PCALL))) {
        log_printf("lret new %04x:%08x s=%d addend=0x%x\n", csel, eip, opsize == 4, pop_extra);
        cpu_log_state(cpu);
    }
    struct x86_descriptor cd = return_code_segment(cpu, csel);
    /* The immediate releases parameters on both stacks (Vol. 2B RET). */
    f.sp = (f.sp + pop_extra) & mask;
    return_to(cpu, &f, csel, cd, eip, opsize, pop_extra, 0, 0);
}

/*
 * IRET with EFLAGS.NT: return to the task named by the back link of the
 * current TSS (Vol. 2A IRET "TASK-RETURN", Vol. 3A 7.4).
 */
static void iret_task_return(struct cpu *cpu)
{
    struct x86_descriptor d;
    uint16_t link = (uint16_t)cpu_read_lin(cpu, cpu->s.tr.base, 2, false);
    uint32_t err = sel_error(link, 0);
    if ((link & 4) || !cpu_read_descriptor(cpu, link, &d)) cpu_fault_err(cpu, X86_TS, err);
    if (desc_s(d) || (desc_type(d) != DESC_TSS16_BUSY && desc_type(d) != DESC_TSS32_BUSY))
        cpu_fault_err(cpu, X86_TS, err);
    if (!desc_present(d)) cpu_fault_err(cpu, X86_NP, err);
    cpu_task_switch(cpu, link, d, TASK_IRET, false, 0);
}

uint32_t cpu_iret(struct cpu *cpu, unsigned opsize)
{
    struct stack_frame f;
    uint32_t mask = opsize == 4 ? IRET_MASK32 : IRET_MASK16;

    if (cpu_protected(cpu) && !cpu_vm86(cpu) && (cpu_get_eflags(cpu) & EFLAGS_NT)) {
        iret_task_return(cpu);
        return cpu_get_eflags(cpu);   /* what the task switch loaded */
    }
    if (cpu_vm86(cpu)) vm86_unsupported(cpu);

    frame_current(cpu, &f, 0);
    uint32_t eip = frame_pop(cpu, &f, opsize);
    uint16_t csel = (uint16_t)frame_pop(cpu, &f, opsize);
    uint32_t eflags = frame_pop(cpu, &f, opsize);

    if (!cpu_protected(cpu)) {
        /* Real mode: IOPL and IF are writable at CPL 0; VM, VIF, VIP keep (Vol. 2A IRET). */
        if (eip > cpu->s.seg[SEG_CS].limit) cpu_fault_err(cpu, X86_GP, 0);
        cpu_write_eflags(cpu, eflags, mask);
        frame_commit_sp(cpu, &f);
        real_enter(cpu, csel, eip);
        return eflags;
    }
    /* IRET at CPL 0 with VM set in the image returns to vm86 (Vol. 2A IRET). */
    if (opsize == 4 && (eflags & EFLAGS_VM) && cpu->s.cpl == 0) vm86_unsupported(cpu);

    if (unlikely(LOG_ON(LOG_PCALL))) {   /* QEMU says "lret" for IRET too */
        log_printf("lret new %04x:%08x s=%d addend=0x0\n", csel, opsize == 2 ? eip & 0xFFFFu : eip, opsize == 4);
        cpu_log_state(cpu);
    }
    struct x86_descriptor cd = return_code_segment(cpu, csel);
    if (opsize == 4 && cpu->s.cpl == 0) mask |= EFLAGS_VIF | EFLAGS_VIP;
    if (opsize == 2) eip &= 0xFFFFu;
    return_to(cpu, &f, csel, cd, eip, opsize, 0, eflags, mask);
    return eflags;
}

/*
 * The far transfers as instructions, reported to the sensitive hook once
 * done (cpu.h struct cpu_sensitive): a VMM running a guest kernel at ring 1
 * sees where it moves between segments and rings.  EIP, CS and CPL are
 * taken before the transfer, which changes them (a task switch changes
 * insn_eip too).
 */
struct far_origin { uint32_t eip; uint16_t cs; unsigned cpl; };

static struct far_origin far_origin(const struct cpu *cpu)
{
    return (struct far_origin){ cpu->insn_eip, cpu->s.seg[SEG_CS].selector, cpu->s.cpl };
}

static void note_far(struct cpu *cpu, const char *mnemonic, struct far_origin o)
{
    cpu_note_sensitive_from(cpu, mnemonic, o.eip, o.cs, o.cpl, 0, cpu->s.seg[SEG_CS].selector);
}

void cpu_far_jump(struct cpu *cpu, uint16_t selector, uint32_t offset, unsigned opsize)
{
    struct far_origin o = far_origin(cpu);
    far_jump(cpu, selector, offset, opsize);
    note_far(cpu, "jmp far", o);
}

void cpu_far_call(struct cpu *cpu, uint16_t selector, uint32_t offset, unsigned opsize)
{
    struct far_origin o = far_origin(cpu);
    far_call(cpu, selector, offset, opsize);
    note_far(cpu, "call far", o);
}

void cpu_far_return(struct cpu *cpu, unsigned opsize, uint16_t pop_extra)
{
    struct far_origin o = far_origin(cpu);
    far_return(cpu, opsize, pop_extra);
    note_far(cpu, "retf", o);
}
