/*
 * segment.c - descriptors, segment-register loads, and the stack frames
 * that far transfers build.
 *
 * A segment register has a visible selector and a hidden cache (base,
 * limit, attributes) that is filled from the GDT or LDT when the selector
 * is loaded (SDM Vol. 3A 3.4.3).  Every later access is checked against the
 * cache only, so a descriptor changed in memory has no effect until the
 * register is loaded again: the famous "unreal mode" works for that reason.
 *
 * Worked example: MOV DS, AX with AX = 0x0010 at CPL 0
 *   index 2, TI 0 (GDT), RPL 0 -> read GDT[2] at gdtr.base + 0x10;
 *   a present, readable data segment with DPL >= max(CPL, RPL) -> the cache
 *   takes base/limit/attr, and the descriptor's Accessed bit is set in memory.
 */
#include "cpu/transfer.h"

/* Linear address of the descriptor 'sel' names; false beyond the table limit. */
static bool descriptor_address(struct cpu *cpu, uint16_t sel, uint32_t *lin)
{
    uint32_t index = sel & 0xFFF8u;
    if (sel & 4) {
        /* TI = 1: the LDT, through the LDTR cache only (SDM Vol. 3A 3.5.1);
         * LLDT with a null selector leaves the cache not present. */
        const struct x86_segment *ldt = &cpu->s.ldtr;
        if (!(ldt->attr & SEG_ATTR_P)) return false;
        if (index + 7 > ldt->limit) return false;
        *lin = ldt->base + index;
    } else {
        if (index + 7 > cpu->s.gdtr.limit) return false;
        *lin = cpu->s.gdtr.base + index;
    }
    return true;
}

bool cpu_read_descriptor(struct cpu *cpu, uint16_t selector, struct x86_descriptor *d)
{
    uint32_t lin;
    if (!descriptor_address(cpu, selector, &lin)) return false;
    /* Descriptor-table reads are implicit supervisor accesses (Vol. 3A 5.5). */
    d->lo = cpu_read_lin(cpu, lin, 4, false);
    d->hi = cpu_read_lin(cpu, lin + 4, 4, false);
    return true;
}

void cpu_segment_from_descriptor(struct x86_segment *seg, uint16_t selector, struct x86_descriptor d)
{
    uint32_t limit = (d.lo & 0xFFFFu) | (d.hi & 0x000F0000u);
    seg->selector = selector;
    seg->base = (d.lo >> 16) | ((d.hi & 0xFFu) << 16) | (d.hi & 0xFF000000u);
    seg->attr = (uint16_t)(d.hi >> 8);
    /* G = 1: the limit counts 4 KiB units, low 12 bits all ones (Vol. 3A 3.4.5). */
    seg->limit = (seg->attr & SEG_ATTR_G) ? (limit << 12) | 0xFFFu : limit;
}

void cpu_set_descriptor_accessed(struct cpu *cpu, uint16_t selector, struct x86_descriptor *d)
{
    uint32_t lin;
    /* Only code/data descriptors have an Accessed bit (type bit 0, Vol. 3A 3.4.5.1). */
    if (!desc_s(*d) || (d->hi & 0x100u)) return;
    d->hi |= 0x100u;
    if (descriptor_address(cpu, selector, &lin))
        cpu_write_lin(cpu, lin + 5, (d->hi >> 8) & 0xFFu, 1, false);
}

void seg_make_unusable(struct x86_segment *seg, uint16_t selector)
{
    seg->selector = selector;
    seg->base = 0;
    seg->limit = 0;
    seg->attr = 0;   /* P = 0: any access through it is #GP(0) (Vol. 3A 3.4.2) */
}

void cpu_set_cpl(struct cpu *cpu, unsigned cpl)
{
    cpu->s.cpl = (uint8_t)cpl;
    cpu->mmu_user = cpl == 3;   /* the user half of the TLB (mmu.h) */
}

/*
 * Real mode (and vm86): base = selector * 16 (SDM Vol. 3A 20.1.1).  The
 * limit and the other hidden attributes are left as they are, which is how
 * a 4 GiB limit set in protected mode survives into real mode; the cache is
 * made present, so a register nulled in protected mode works again.
 */
void cpu_load_sreg_real(struct cpu *cpu, int sreg, uint16_t selector)
{
    struct x86_segment *seg = &cpu->s.seg[sreg];
    seg->selector = selector;
    seg->base = (uint32_t)selector << 4;
    if (!(seg->attr & SEG_ATTR_P)) {
        seg->limit = 0xFFFF;
        seg->attr = SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_A | SEG_ATTR_W;
        if (sreg == SEG_CS) seg->attr |= SEG_ATTR_CODE;
    }
    if (sreg == SEG_SS) cpu->end_block = true;   /* stack size may change */
}

/*
 * MOV/POP/LxS to a segment register in protected mode (SDM Vol. 2B MOV
 * "Operation", Vol. 3A 5.6).  Error codes name the selector with RPL
 * cleared and EXT = 0 (Vol. 3A 6.13).
 */
void cpu_load_sreg(struct cpu *cpu, int sreg, uint16_t selector)
{
    struct x86_descriptor d;
    unsigned cpl = cpu->s.cpl, rpl = sel_rpl(selector);
    uint32_t err = sel_error(selector, 0);

    if (!cpu_protected(cpu) || cpu_vm86(cpu)) {
        cpu_load_sreg_real(cpu, sreg, selector);
        return;
    }
    if (sel_is_null(selector)) {
        /* SS can never be null outside 64-bit mode; DS..GS can (Vol. 2B MOV). */
        if (sreg == SEG_SS) cpu_fault_err(cpu, X86_GP, 0);
        seg_make_unusable(&cpu->s.seg[sreg], selector);
        return;
    }
    if (!cpu_read_descriptor(cpu, selector, &d)) cpu_fault_err(cpu, X86_GP, err);

    if (sreg == SEG_SS) {
        /* SS: RPL = CPL, a writable data segment, DPL = CPL; else #GP(sel). */
        if (rpl != cpl || !desc_writable_data(d) || desc_dpl(d) != cpl)
            cpu_fault_err(cpu, X86_GP, err);
        if (!desc_present(d)) cpu_fault_err(cpu, X86_SS, err);
        cpu->end_block = true;   /* SS.B changes the stack width */
    } else {
        /* DS ES FS GS: data or readable code (execute-only code is #GP). */
        if (!desc_s(d) || !desc_readable(d)) cpu_fault_err(cpu, X86_GP, err);
        /* Data and non-conforming code: DPL >= CPL and DPL >= RPL. */
        if (!desc_conforming(d) && (desc_dpl(d) < cpl || desc_dpl(d) < rpl))
            cpu_fault_err(cpu, X86_GP, err);
        if (!desc_present(d)) cpu_fault_err(cpu, X86_NP, err);
    }
    cpu_set_descriptor_accessed(cpu, selector, &d);
    cpu_segment_from_descriptor(&cpu->s.seg[sreg], selector, d);
}

/* ---------- stack frames (see transfer.h) ---------- */

/*
 * Does [off, off+len) lie inside the segment?  Expand-up: up to the limit;
 * expand-down: above the limit, up to 64 KiB or 4 GiB by the B bit
 * (SDM Vol. 3A 5.3).
 */
static bool segment_fits(const struct x86_segment *seg, uint32_t off, uint32_t len)
{
    uint32_t last = off + len - 1;
    if (last < off) return false;
    if ((seg->attr & (SEG_ATTR_CODE | SEG_ATTR_E)) == SEG_ATTR_E) {
        uint32_t upper = (seg->attr & SEG_ATTR_DB) ? 0xFFFFFFFFu : 0xFFFFu;
        return off > seg->limit && last <= upper;
    }
    return last <= seg->limit;
}

static uint32_t frame_mask(const struct stack_frame *f) { return f->big ? 0xFFFFFFFFu : 0xFFFFu; }

void frame_current(struct cpu *cpu, struct stack_frame *f, uint32_t error)
{
    f->seg = cpu->s.seg[SEG_SS];
    f->big = stack32(cpu);
    f->sp = stack_ptr(cpu);
    f->user = cpu->s.cpl == 3;
    f->fault_vector = X86_SS;
    f->fault_error = error;
}

void frame_from_segment(struct stack_frame *f, const struct x86_segment *seg, uint32_t sp,
                        unsigned cpl, uint32_t error)
{
    f->seg = *seg;
    f->big = (seg->attr & SEG_ATTR_DB) != 0;
    f->sp = f->big ? sp : (sp & 0xFFFFu);
    f->user = cpl == 3;
    f->fault_vector = X86_SS;
    f->fault_error = error;
}

void frame_check_room(struct cpu *cpu, const struct stack_frame *f, uint32_t bytes)
{
    uint32_t off = (f->sp - bytes) & frame_mask(f);
    if (bytes && !segment_fits(&f->seg, off, bytes))
        cpu_fault_err(cpu, f->fault_vector, f->fault_error);
}

void frame_push(struct cpu *cpu, struct stack_frame *f, unsigned size, uint32_t value)
{
    uint32_t off = (f->sp - size) & frame_mask(f);
    if (!segment_fits(&f->seg, off, size)) cpu_fault_err(cpu, f->fault_vector, f->fault_error);
    cpu_write_lin(cpu, f->seg.base + off, value & size_mask(size), size, f->user);
    f->sp = off;
}

uint32_t frame_pop(struct cpu *cpu, struct stack_frame *f, unsigned size)
{
    uint32_t off = f->sp & frame_mask(f);
    if (!segment_fits(&f->seg, off, size)) cpu_fault_err(cpu, f->fault_vector, f->fault_error);
    uint32_t v = cpu_read_lin(cpu, f->seg.base + off, size, f->user);
    f->sp = (off + size) & frame_mask(f);
    return v;
}

void frame_commit_sp(struct cpu *cpu, const struct stack_frame *f)
{
    if (f->big) cpu->s.regs[R_ESP] = f->sp;
    else cpu->s.regs[R_ESP] = (cpu->s.regs[R_ESP] & 0xFFFF0000u) | (f->sp & 0xFFFFu);
}

/* ---------- privilege-change helpers ---------- */

void tss_inner_stack(struct cpu *cpu, unsigned dpl, unsigned ext, uint16_t *ss, uint32_t *sp)
{
    const struct x86_segment *tr = &cpu->s.tr;
    uint32_t terr = sel_error(tr->selector, ext);
    if ((tr->attr & SEG_ATTR_TYPE_MASK) & 8) {
        /* 32-bit TSS: ESPn at 8n + 4, SSn at 8n + 8 (Vol. 3A 7.2.1, fig. 7-2). */
        uint32_t at = 8 * dpl + 4;
        if (at + 7 > tr->limit) cpu_fault_err(cpu, X86_TS, terr);
        *sp = cpu_read_lin(cpu, tr->base + at, 4, false);
        *ss = (uint16_t)cpu_read_lin(cpu, tr->base + at + 4, 2, false);
    } else {
        /* 16-bit TSS: SPn at 4n + 2, SSn at 4n + 4 (Vol. 3A 7.6, fig. 7-11);
         * the limit test is the SDM's (INT n: TSSstackAddress + 4 > limit). */
        uint32_t at = 4 * dpl + 2;
        if (at + 4 > tr->limit) cpu_fault_err(cpu, X86_TS, terr);
        *sp = cpu_read_lin(cpu, tr->base + at, 2, false);
        *ss = (uint16_t)cpu_read_lin(cpu, tr->base + at + 2, 2, false);
    }
}

void load_inner_stack_segment(struct cpu *cpu, uint16_t ss, unsigned dpl, unsigned ext,
                              struct x86_segment *seg)
{
    struct x86_descriptor d;
    uint32_t err = sel_error(ss, ext);
    if (sel_is_null(ss)) cpu_fault_err(cpu, X86_TS, ext);
    if (!cpu_read_descriptor(cpu, ss, &d) || sel_rpl(ss) != dpl)
        cpu_fault_err(cpu, X86_TS, err);
    if (desc_dpl(d) != dpl || !desc_writable_data(d)) cpu_fault_err(cpu, X86_TS, err);
    if (!desc_present(d)) cpu_fault_err(cpu, X86_SS, err);
    cpu_set_descriptor_accessed(cpu, ss, &d);
    cpu_segment_from_descriptor(seg, ss, d);
}

void commit_cs(struct cpu *cpu, const struct x86_segment *cs, unsigned cpl, uint32_t eip)
{
    cpu->s.seg[SEG_CS] = *cs;
    if (cpl != cpu->s.cpl) cpu_set_cpl(cpu, cpl);
    cpu->s.eip = eip;
    cpu->end_block = true;
}

/* EFLAGS bits that exist on this CPU (SDM Vol. 1 3.4.3); bit 1 reads as 1. */
#define EFLAGS_DEFINED 0x003F7FD5u

void set_eflags_raw(struct cpu *cpu, uint32_t value)
{
    cpu->lf.op = LF_NONE;   /* the arithmetic flags come from 'value' */
    cpu->s.eflags = (value & EFLAGS_DEFINED) | EFLAGS_FIXED1;
    cpu_debug_update(cpu);  /* TF may have changed */
}
