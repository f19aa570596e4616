/*
 * task.c - hardware task switching (SDM Vol. 3A ch. 7).
 *
 * A task is its TSS.  A switch saves the running task's registers into the
 * TSS that TR names, then loads the registers of the task the new TSS
 * describes.  Four things start one (Vol. 3A 7.3): JMP or CALL to a TSS or
 * task gate, an interrupt or exception through a task gate, and IRET with
 * EFLAGS.NT = 1.  They differ only in the bookkeeping of nesting:
 *
 *                      old busy   new busy   new NT   back link
 *   JMP                 cleared    set        -        -
 *   CALL, interrupt     kept       set        set      new TSS <- old TR
 *   IRET                cleared    kept       -        -   (old NT cleared)
 *
 * 32-bit TSS (Vol. 3A 7.2.1, fig. 7-2), offsets in hex:
 *   00 link  04 ESP0  08 SS0  0C ESP1  10 SS1  14 ESP2  18 SS2  1C CR3
 *   20 EIP   24 EFLAGS  28-44 EAX ECX EDX EBX ESP EBP ESI EDI
 *   48-5C ES CS SS DS FS GS  60 LDT  64 T (bit 0)  66 I/O map base
 * 16-bit TSS (Vol. 3A 7.6, fig. 7-11):
 *   00 link  02 SP0  04 SS0  06 SP1  08 SS1  0A SP2  0C SS2  0E IP
 *   10 FLAGS  12-20 AX CX DX BX SP BP SI DI  22 ES  24 CS  26 SS  28 DS  2A LDT
 *
 * The switch is split where the SDM splits it (Vol. 3A 7.3 steps 1-14):
 * faults found before the old state is saved leave the old task intact;
 * once TR points at the new task, the selectors are loaded first and their
 * descriptors checked afterwards, so a bad segment raises #TS/#NP/#SS in
 * the context of the new task (table 7-1).
 */
#include "cpu/log_cpu.h"
#include "cpu/transfer.h"

/* The registers a task switch loads, read from the new TSS in one go. */
struct tss_image {
    uint32_t cr3, eip, eflags;
    uint32_t regs[8];
    uint16_t sel[SEG_COUNT];
    uint16_t ldt;
    bool trap;            /* T bit: #DB on entry to the task */
};

/* Offsets of ES CS SS DS in the 16-bit TSS (FS and GS do not exist there). */
static const uint8_t tss16_sreg_offset[SEG_COUNT] = {
    [SEG_ES] = 0x22, [SEG_CS] = 0x24, [SEG_SS] = 0x26, [SEG_DS] = 0x28,
};

static uint32_t tss_read(struct cpu *cpu, uint32_t base, uint32_t off, unsigned size)
{
    return cpu_read_lin(cpu, base + off, size, false);   /* implicit supervisor access */
}

static void tss_write(struct cpu *cpu, uint32_t base, uint32_t off, uint32_t v, unsigned size)
{
    cpu_write_lin(cpu, base + off, v, size, false);
}

static void read_image(struct cpu *cpu, uint32_t base, bool is32, struct tss_image *t)
{
    memset(t, 0, sizeof *t);
    if (is32) {
        t->cr3 = tss_read(cpu, base, 0x1C, 4);
        t->eip = tss_read(cpu, base, 0x20, 4);
        t->eflags = tss_read(cpu, base, 0x24, 4);
        for (int r = 0; r < 8; r++) t->regs[r] = tss_read(cpu, base, 0x28 + 4 * (uint32_t)r, 4);
        for (int s = 0; s < SEG_COUNT; s++)
            t->sel[s] = (uint16_t)tss_read(cpu, base, 0x48 + 4 * (uint32_t)s, 2);
        t->ldt = (uint16_t)tss_read(cpu, base, 0x60, 2);
        t->trap = (tss_read(cpu, base, 0x64, 2) & 1) != 0;
    } else {
        t->eip = tss_read(cpu, base, 0x0E, 2);
        t->eflags = tss_read(cpu, base, 0x10, 2);
        for (int r = 0; r < 8; r++) t->regs[r] = tss_read(cpu, base, 0x12 + 2 * (uint32_t)r, 2);
        for (int s = SEG_ES; s <= SEG_DS; s++)
            t->sel[s] = (uint16_t)tss_read(cpu, base, tss16_sreg_offset[s], 2);
        t->ldt = (uint16_t)tss_read(cpu, base, 0x2A, 2);
    }
}

/* Save the dynamic fields of the running task (Vol. 3A 7.2.1): not CR3, LDT, T. */
static void save_state(struct cpu *cpu, uint32_t base, bool is32, uint32_t eflags)
{
    if (is32) {
        tss_write(cpu, base, 0x20, cpu->s.eip, 4);
        tss_write(cpu, base, 0x24, eflags, 4);
        for (int r = 0; r < 8; r++) tss_write(cpu, base, 0x28 + 4 * (uint32_t)r, cpu->s.regs[r], 4);
        for (int s = 0; s < SEG_COUNT; s++)
            tss_write(cpu, base, 0x48 + 4 * (uint32_t)s, cpu->s.seg[s].selector, 2);
    } else {
        tss_write(cpu, base, 0x0E, cpu->s.eip, 2);
        tss_write(cpu, base, 0x10, eflags, 2);
        for (int r = 0; r < 8; r++) tss_write(cpu, base, 0x12 + 2 * (uint32_t)r, cpu->s.regs[r], 2);
        for (int s = SEG_ES; s <= SEG_DS; s++)
            tss_write(cpu, base, tss16_sreg_offset[s], cpu->s.seg[s].selector, 2);
    }
}

/* Set or clear the busy bit (type bit 1) of the TSS descriptor in the GDT (Vol. 3A 7.2.2). */
static void set_busy(struct cpu *cpu, uint16_t sel, bool busy)
{
    uint32_t lin = cpu->s.gdtr.base + (sel & 0xFFF8u) + 4;
    uint32_t hi = cpu_read_lin(cpu, lin, 4, false);
    hi = busy ? (hi | (DESC_TSS_BUSY_BIT << 8)) : (hi & ~(uint32_t)(DESC_TSS_BUSY_BIT << 8));
    cpu_write_lin(cpu, lin, hi, 4, false);
}

/* LDTR from the new TSS: a present LDT descriptor in the GDT, else #TS(sel) (table 7-1). */
static void load_task_ldt(struct cpu *cpu, uint16_t sel)
{
    struct x86_descriptor d;
    uint32_t err = sel_error(sel, 0);
    if (sel_is_null(sel)) {
        seg_make_unusable(&cpu->s.ldtr, sel);
        return;
    }
    if ((sel & 4) || !cpu_read_descriptor(cpu, sel, &d)) cpu_fault_err(cpu, X86_TS, err);
    if (desc_s(d) || desc_type(d) != DESC_LDT || !desc_present(d)) cpu_fault_err(cpu, X86_TS, err);
    cpu_segment_from_descriptor(&cpu->s.ldtr, sel, d);
}

/*
 * CS, SS, DS..GS of the new task with the task-switch checks of table 7-1:
 * #TS(selector) for a bad descriptor, #NP (#SS for SS) when not present.
 */
static void load_task_segment(struct cpu *cpu, int sreg, uint16_t sel)
{
    struct x86_descriptor d;
    uint32_t err = sel_error(sel, 0);
    unsigned cpl = cpu->s.cpl, rpl = sel_rpl(sel);

    if (sel_is_null(sel)) {
        if (sreg == SEG_CS || sreg == SEG_SS) cpu_fault_err(cpu, X86_TS, err);
        seg_make_unusable(&cpu->s.seg[sreg], sel);
        return;
    }
    if (!cpu_read_descriptor(cpu, sel, &d)) cpu_fault_err(cpu, X86_TS, err);
    switch (sreg) {
    case SEG_CS:
        /* Non-conforming: DPL == RPL; conforming: DPL <= RPL (the new CPL). */
        if (!desc_is_code(d) || (desc_conforming(d) ? desc_dpl(d) > rpl : desc_dpl(d) != rpl))
            cpu_fault_err(cpu, X86_TS, err);
        if (!desc_present(d)) cpu_fault_err(cpu, X86_NP, err);
        break;
    case SEG_SS:
        if (!desc_writable_data(d) || desc_dpl(d) != cpl || rpl != cpl)
            cpu_fault_err(cpu, X86_TS, err);
        if (!desc_present(d)) cpu_fault_err(cpu, X86_SS, err);
        break;
    default:
        /* Data or readable code: a system descriptor is neither (table 7-1). */
        if (!desc_s(d) || !desc_readable(d) ||
            (!desc_conforming(d) && (desc_dpl(d) < cpl || desc_dpl(d) < rpl)))
            cpu_fault_err(cpu, X86_TS, err);
        if (!desc_present(d)) cpu_fault_err(cpu, X86_NP, err);
        break;
    }
    cpu_set_descriptor_accessed(cpu, sel, &d);
    cpu_segment_from_descriptor(&cpu->s.seg[sreg], sel, d);
}

void cpu_task_switch(struct cpu *cpu, uint16_t tss_selector, struct x86_descriptor tss_desc,
                     enum task_switch_reason reason, bool has_error, uint32_t error_code)
{
    struct tss_image t;
    struct x86_segment ntr, otr = cpu->s.tr;
    bool new32 = (desc_type(tss_desc) & 8) != 0;
    bool old32 = (otr.attr & 8) != 0;
    bool nesting = reason == TASK_CALL || reason == TASK_INT;

    /* QEMU's sources: 0 JMP, 1 IRET, 2 CALL or an interrupt through a task gate. */
    log_msg(LOG_PCALL, "switch_tss: sel=0x%04x type=%u src=%d\n", tss_selector, desc_type(tss_desc),
            reason == TASK_JMP ? 0 : reason == TASK_IRET ? 1 : 2);

    /* Step 3: the new TSS must be large enough for its format, else #TS (7.2.2). */
    cpu_segment_from_descriptor(&ntr, tss_selector, tss_desc);
    if (ntr.limit < (new32 ? 0x67u : 0x2Bu)) cpu_fault_err(cpu, X86_TS, sel_error(tss_selector, 0));
    if (otr.limit < (old32 ? 0x67u : 0x2Bu)) cpu_fault_err(cpu, X86_TS, sel_error(otr.selector, 0));

    /* Step 5: read the whole new TSS first, so a #PF here changes nothing. */
    read_image(cpu, ntr.base, new32, &t);
    if (new32 && (t.eflags & EFLAGS_VM))
        cpu_exit_now(cpu, (struct cpu_exit){ .reason = CPU_EXIT_UNSUPPORTED,
                                             .message = "virtual-8086 mode is not modelled yet" });

    /* Steps 6-8: the outgoing task (IRET saves its EFLAGS with NT cleared). */
    uint32_t eflags = cpu_get_eflags(cpu);
    if (reason == TASK_IRET) eflags &= ~EFLAGS_NT;
    save_state(cpu, otr.base, old32, eflags);
    if (reason == TASK_JMP || reason == TASK_IRET) set_busy(cpu, otr.selector, false);

    /* Steps 9-10: nesting links the new task back to the old one (7.4). */
    if (nesting) {
        tss_write(cpu, ntr.base, 0x00, otr.selector, 2);
        t.eflags |= EFLAGS_NT;
    }
    if (reason != TASK_IRET) {
        set_busy(cpu, tss_selector, true);
        ntr.attr |= DESC_TSS_BUSY_BIT;
    }

    /* Step 11: TR and CR0.TS (the first FPU use in the new task traps, #NM). */
    cpu->s.tr = ntr;
    cpu->s.cr0 |= CR0_TS;

    /* Step 12: the new task's registers.  CR3 only with paging on, 32-bit TSS. */
    if (new32 && (cpu->s.cr0 & CR0_PG)) cpu_write_cr3(cpu, t.cr3);
    /* Local breakpoint enables L0-L3 and LE belong to the old task (Vol. 3B 17.2.4). */
    cpu->s.dr[7] &= ~0x155u;
    cpu->s.eip = t.eip;
    /* From here faults belong to the new task and report its first
     * instruction, as if not yet executed (7.3 steps 13-14). */
    cpu->insn_eip = t.eip;
    set_eflags_raw(cpu, t.eflags);
    for (int r = 0; r < 8; r++) {
        if (new32) cpu->s.regs[r] = t.regs[r];
        else reg_write(cpu, (unsigned)r, 2, t.regs[r]);
    }
    /* Selectors first, caches unusable until checked (step 13). */
    for (int s = 0; s < SEG_COUNT; s++) seg_make_unusable(&cpu->s.seg[s], t.sel[s]);
    seg_make_unusable(&cpu->s.ldtr, t.ldt);
    cpu_set_cpl(cpu, sel_rpl(t.sel[SEG_CS]));
    cpu->end_block = true;

    /* Step 13: descriptors, with faults in the new task's context. */
    load_task_ldt(cpu, t.ldt);
    load_task_segment(cpu, SEG_CS, t.sel[SEG_CS]);
    load_task_segment(cpu, SEG_SS, t.sel[SEG_SS]);
    load_task_segment(cpu, SEG_DS, t.sel[SEG_DS]);
    load_task_segment(cpu, SEG_ES, t.sel[SEG_ES]);
    load_task_segment(cpu, SEG_FS, t.sel[SEG_FS]);
    load_task_segment(cpu, SEG_GS, t.sel[SEG_GS]);

    /* An exception through a task gate pushes its error code on the new
     * stack (6.12.2); no room is #SS(EXT), EXT = 1 for an exception
     * (Vol. 2A INT n "TASK-GATE", Vol. 3A 6.13). */
    if (has_error) {
        struct stack_frame f;
        frame_current(cpu, &f, 1);
        frame_push(cpu, &f, new32 ? 4 : 2, error_code);
        frame_commit_sp(cpu, &f);
    }
    cpu_debug_update(cpu);   /* DR7 and TF changed */
    /*
     * T bit: a #DB trap with DR6.BT before the new task's first instruction
     * (Vol. 3B 17.3.1.5).  Recorded like a data-breakpoint hit, for the
     * after-instruction debug check, which must therefore run.
     */
    if (t.trap) {
        cpu->pending_dr6 |= DR6_BT;
        cpu->check_each_insn = true;
    }
    /* The new EIP must lie inside the new CS (Vol. 2A JMP/CALL/IRET: #GP(0)). */
    if (cpu->s.eip > cpu->s.seg[SEG_CS].limit) cpu_fault_err(cpu, X86_GP, 0);
}
