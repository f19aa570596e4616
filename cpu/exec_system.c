/*
 * exec_system.c - system instructions: descriptor-table registers, control
 * and debug registers, MSRs, CPUID, flag-register moves and the privileged
 * odds and ends (HLT, CLI/STI, CLTS, INVLPG...).
 *
 * These are the instructions a trap-and-emulate VMM lives on, so each one
 * faults exactly where the SDM says it does, and no more:
 *
 *   privileged (#GP(0) at CPL > 0):  LGDT LIDT LLDT LTR LMSW CLTS INVD WBINVD
 *                                    INVLPG HLT MOV CRn MOV DRn RDMSR WRMSR
 *   IOPL-sensitive (#GP(0) at CPL > IOPL): CLI STI, and PUSHF/POPF in vm86
 *   sensitive but unprivileged (run silently at any CPL, reported through
 *   cpu_note_sensitive once done): SGDT SIDT SLDT STR SMSW LAR LSL VERR
 *   VERW PUSHF POPF - each #GP(0) at CPL > 0 instead under
 *   cpu->sensitive_traps (cpu_sensitive_trap), as CR4.UMIP makes the first
 *   five on later processors (SDM Vol. 3A 2.5)
 *
 * The last group is Popek and Goldberg's objection to x86: POPF at CPL > 0
 * neither traps nor changes IF, so a deprivileged guest kernel silently
 * loses its CLI/STI semantics.  See DESIGN.md ("tae").
 *
 * The CPU modelled is a Pentium-class IA-32 processor without an x87 FPU,
 * without VME/PVI, PAE, MCE or APIC (CPUID leaf 1 says exactly this).
 */
#include "cpu/cpu_internal.h"

/* ---------- common checks ---------- */

/* #GP(0) unless CPL is 0: virtual-8086 mode runs at CPL 3 (SDM Vol. 3A 20.2.1). */
static void require_cpl0(struct cpu *cpu)
{
    if (cpu->s.cpl != 0 || cpu_vm86(cpu))
        cpu_fault_err(cpu, X86_GP, 0);
}

/*
 * #UD outside protected mode: LAR, LSL, VERR, VERW, ARPL and group 6 "are
 * not recognized in real-address mode" nor in virtual-8086 mode (SDM Vol. 2,
 * the Real-Address and Virtual-8086 Mode Exceptions of each instruction).
 */
static void require_protected(struct cpu *cpu)
{
    if (!cpu_protected(cpu) || cpu_vm86(cpu))
        cpu_fault(cpu, X86_UD);
}

/* Offset 'ea + n' wrapped to the address size (a 16-bit EA wraps at 64 KiB). */
static uint32_t ea_plus(const struct x86_insn *i, uint32_t ea, uint32_t n)
{
    return i->as32 ? ea + n : (ea + n) & 0xFFFFu;
}

static void set_zf(struct cpu *cpu, bool zf)
{
    flags_set_arith(cpu, zf ? EFLAGS_ZF : 0, EFLAGS_ZF);
}

/*
 * Segment descriptor fields, in the high dword (SDM Vol. 3A 3.4.5, figure 3-8):
 *
 *   31      24 23 22 21 20 19   16 15 14 13 12 11   8 7       0
 *  +----------+--+--+--+--+-------+--+-----+--+------+---------+
 *  |base 31:24|G |DB|L |AV|lim19:16|P | DPL |S | type |base23:16|
 *  +----------+--+--+--+--+-------+--+-----+--+------+---------+
 */
#define DESC_TYPE(hi)   (((hi) >> 8) & 0xFu)
#define DESC_S          0x00001000u /* code/data (1) or system (0) */
#define DESC_DPL(hi)    (((hi) >> 13) & 3u)
#define DESC_P          0x00008000u
#define DESC_G          0x00800000u
#define DESC_TSS_BUSY   0x00000200u /* type bit 1 of a TSS descriptor */

/* System descriptor types (SDM Vol. 3A 3.5, table 3-2). */
enum {
    SYS_TSS16_AVAIL = 1, SYS_LDT = 2, SYS_TSS16_BUSY = 3, SYS_CALL16 = 4,
    SYS_TASK = 5, SYS_TSS32_AVAIL = 9, SYS_TSS32_BUSY = 11, SYS_CALL32 = 12,
};

/* Code/data type bits (SDM Vol. 3A 3.4.5.1, table 3-1). */
#define TYPE_CODE 0x8u
#define TYPE_CONFORMING 0x4u /* code */
#define TYPE_READABLE 0x2u   /* code */
#define TYPE_WRITABLE 0x2u   /* data */

/* A selector's error code: index and TI, with RPL replaced by EXT/IDT = 0. */
static uint32_t selector_error(uint16_t sel) { return sel & 0xFFFCu; }

/* Null selector: index 0 in the GDT; bits 2-15 clear (SDM Vol. 3A 3.4.2). */
static bool selector_null(uint16_t sel) { return (sel & 0xFFFCu) == 0; }

/*
 * Look a selector up for LAR/LSL/VERR/VERW, which never fault on a bad
 * selector: false for the null selector, an LDT selector while LDTR holds
 * none, or an index beyond the table limit.
 */
static bool lookup_descriptor(struct cpu *cpu, uint16_t sel, struct x86_descriptor *d)
{
    if (selector_null(sel)) return false;
    if ((sel & 4) && selector_null(cpu->s.ldtr.selector)) return false;
    return cpu_read_descriptor(cpu, sel, d);
}

/*
 * The privilege test LAR, LSL, VERR and VERW share (SDM Vol. 3A 5.10.1):
 * a conforming code segment is visible from anywhere, anything else only
 * when DPL >= CPL and DPL >= RPL.
 */
static bool descriptor_visible(const struct cpu *cpu, uint16_t sel, uint32_t hi)
{
    bool conforming_code = (hi & DESC_S) && (DESC_TYPE(hi) & (TYPE_CODE | TYPE_CONFORMING))
                                             == (TYPE_CODE | TYPE_CONFORMING);
    if (conforming_code) return true;
    unsigned dpl = DESC_DPL(hi);
    return dpl >= cpu->s.cpl && dpl >= (sel & 3u);
}

/* ---------- EFLAGS ---------- */

/*
 * Bits POPF and IRET can ever write: everything but the reserved bits
 * 3, 5, 15 and 22-31 (always 0) and bit 1 (always 1), SDM Vol. 1 3.4.3.
 */
#define EFLAGS_WRITABLE (EFLAGS_ARITH | EFLAGS_TF | EFLAGS_IF | EFLAGS_DF | EFLAGS_IOPL | \
                         EFLAGS_NT | EFLAGS_RF | EFLAGS_VM | EFLAGS_AC | EFLAGS_VIF | \
                         EFLAGS_VIP | EFLAGS_ID)

void cpu_write_eflags(struct cpu *cpu, uint32_t value, uint32_t mask)
{
    uint32_t old = cpu_get_eflags(cpu);   /* lazy flags materialised */

    mask &= EFLAGS_WRITABLE;
    /* SDM Vol. 2B POPF / IRET: IOPL only at CPL 0, IF only at CPL <= IOPL.
     * Neither faults: the bits just keep their value. */
    if (cpu->s.cpl != 0)
        mask &= ~EFLAGS_IOPL;
    if (cpu->s.cpl > cpu_iopl(cpu))
        mask &= ~EFLAGS_IF;

    uint32_t new_flags = ((old & ~mask) | (value & mask)) & EFLAGS_WRITABLE;
    new_flags |= EFLAGS_FIXED1;

    /* Arithmetic bits through flags.c, so the lazy record stays coherent. */
    flags_set_arith(cpu, new_flags, EFLAGS_ARITH);
    cpu->s.eflags = (cpu->s.eflags & EFLAGS_ARITH) | (new_flags & ~EFLAGS_ARITH);

    uint32_t changed = old ^ new_flags;
    /* IF may open an interrupt window, TF starts single-stepping, VM
     * changes the mode: the block must end so the run loop sees it. */
    if (changed & (EFLAGS_IF | EFLAGS_TF | EFLAGS_VM))
        cpu->end_block = true;
    if (changed & (EFLAGS_TF | EFLAGS_RF)) {
        cpu_debug_update(cpu);
        /* Clearing TF still single-steps this instruction (the trap uses
         * TF as it was before it): keep the per-instruction checks on
         * until cpu_debug_after_insn has run and recomputes them. */
        if (old & EFLAGS_TF)
            cpu->check_each_insn = true;
    }
}

/*
 * PUSHF (SDM Vol. 2B PUSHF): the image has VM and RF cleared.  In vm86
 * mode with IOPL < 3 it is #GP(0) (no VME modelled).  At CPL > 0 it
 * reveals the real IOPL and IF to a deprivileged kernel without trapping.
 */
DEFINE_HANDLER(pushf)
{
    if (cpu_vm86(cpu) && cpu_iopl(cpu) < 3)
        cpu_fault_err(cpu, X86_GP, 0);
    cpu_sensitive_trap(cpu);
    uint32_t image = cpu_get_eflags(cpu) & ~(EFLAGS_VM | EFLAGS_RF);
    unsigned size = opsize(i);
    if (size == 2)
        image &= 0xFFFFu;
    cpu_push(cpu, size, image);
    cpu_note_sensitive(cpu, "pushf", 0, image);
}

/*
 * POPF (SDM Vol. 2B POPF, "Operation"): VM, VIP and VIF are never changed
 * by POPF (32-bit form: "unaffected"); RF is cleared; IOPL changes only at
 * CPL 0; IF only when CPL <= IOPL, otherwise it is silently kept - the
 * Popek-Goldberg violation reported to the sensitive hook.  The 16-bit form
 * writes only bits 15:0.  In vm86 mode IOPL < 3 is #GP(0) (no VME).
 */
DEFINE_HANDLER(popf)
{
    if (cpu_vm86(cpu) && cpu_iopl(cpu) < 3)
        cpu_fault_err(cpu, X86_GP, 0);
    cpu_sensitive_trap(cpu);
    unsigned size = opsize(i);
    uint32_t value = cpu_pop(cpu, size);
    uint32_t mask = EFLAGS_WRITABLE & ~(EFLAGS_VM | EFLAGS_RF | EFLAGS_VIP | EFLAGS_VIF);
    if (size == 2)
        mask &= 0xFFFFu;
    cpu_write_eflags(cpu, value, mask);
    cpu->s.eflags &= ~EFLAGS_RF;      /* normally already clear: see debug.c */
    cpu->end_block = true;
    if (cpu_sensitive_reporting(cpu, cpu->s.cpl)) {
        uint32_t got = cpu_get_eflags(cpu);
        uint32_t wanted = size == 2 ? (got & 0xFFFF0000u) | value : value;
        cpu_note_sensitive(cpu, "popf", wanted, got);
    }
}

/*
 * CLI / STI (SDM Vol. 2A CLI, Vol. 2B STI, table "Decision table"): in
 * protected mode (vm86 included, where CPL is 3) they need CPL <= IOPL, else
 * #GP(0); VME/PVI, which would change that, are not modelled.
 */
static void check_iopl(struct cpu *cpu)
{
    if (cpu_protected(cpu) && cpu->s.cpl > cpu_iopl(cpu))
        cpu_fault_err(cpu, X86_GP, 0);
}

DEFINE_HANDLER(cli)
{
    check_iopl(cpu);
    if (cpu->s.eflags & EFLAGS_IF) {
        cpu->s.eflags &= ~EFLAGS_IF;
        cpu->end_block = true;
    }
}

/*
 * STI: interrupts stay inhibited until after the next instruction, but only
 * when IF was 0 ("If IF = 0, maskable hardware interrupts remain inhibited
 * on the instruction boundary following an execution of STI", SDM Vol. 2B).
 */
DEFINE_HANDLER(sti)
{
    check_iopl(cpu);
    if (!(cpu->s.eflags & EFLAGS_IF)) {
        cpu->s.eflags |= EFLAGS_IF;
        cpu->s.interrupt_shadow = 1;
    }
    cpu->end_block = true;
}

/* HLT (SDM Vol. 2A HLT): privileged; the run loop waits for an interrupt. */
DEFINE_HANDLER(hlt)
{
    require_cpl0(cpu);
    cpu->s.halted = true;
    cpu->end_block = true;
}

/* ---------- group 6: 0F 00 /0-5 (SDM Vol. 2A/2B SLDT STR LLDT LTR VERR VERW) ---------- */

/*
 * SLDT/STR store a selector: 16 bits to memory whatever the operand size;
 * to a 32-bit register zero-extended ("the high-order 16 bits of the
 * register are cleared for ... P6 family processors", SDM Vol. 2B SLDT).
 */
static void store_selector(struct cpu *cpu, const struct x86_insn *i, uint16_t sel)
{
    if (i->mod == 3)
        reg_write(cpu, i->rm, opsize(i), sel);
    else
        cpu_write16(cpu, i->seg, cpu_ea(cpu, i), sel);
}

/*
 * LLDT (SDM Vol. 2A LLDT): a null selector (bits 2-15 clear) marks LDTR
 * unusable and completes silently; otherwise the selector must be in the
 * GDT (TI = 0) and name a present LDT descriptor: #GP(selector) for TI = 1,
 * an index past the GDT limit or another type, #NP(selector) when absent.
 */
static void load_ldtr(struct cpu *cpu, uint16_t sel)
{
    if (selector_null(sel)) {
        cpu->s.ldtr.selector = sel;
        cpu->s.ldtr.base = 0;
        cpu->s.ldtr.limit = 0;
        cpu->s.ldtr.attr = 0;             /* not present: unusable */
        return;
    }
    struct x86_descriptor d;
    if ((sel & 4) || !cpu_read_descriptor(cpu, sel, &d))
        cpu_fault_err(cpu, X86_GP, selector_error(sel));
    if ((d.hi & DESC_S) || DESC_TYPE(d.hi) != SYS_LDT)
        cpu_fault_err(cpu, X86_GP, selector_error(sel));
    if (!(d.hi & DESC_P))
        cpu_fault_err(cpu, X86_NP, selector_error(sel));
    cpu_segment_from_descriptor(&cpu->s.ldtr, sel, d);
}

/*
 * LTR (SDM Vol. 2A LTR): a null selector is #GP(0); the selector must be
 * in the GDT and name an available 16- or 32-bit TSS (#GP(selector)),
 * present (#NP(selector)).  The descriptor in memory is marked busy.
 */
static void load_tr(struct cpu *cpu, uint16_t sel)
{
    if (selector_null(sel))
        cpu_fault_err(cpu, X86_GP, 0);
    struct x86_descriptor d;
    if ((sel & 4) || !cpu_read_descriptor(cpu, sel, &d))
        cpu_fault_err(cpu, X86_GP, selector_error(sel));
    unsigned type = DESC_TYPE(d.hi);
    if ((d.hi & DESC_S) || (type != SYS_TSS16_AVAIL && type != SYS_TSS32_AVAIL))
        cpu_fault_err(cpu, X86_GP, selector_error(sel));
    if (!(d.hi & DESC_P))
        cpu_fault_err(cpu, X86_NP, selector_error(sel));
    d.hi |= DESC_TSS_BUSY;
    cpu_write_lin(cpu, cpu->s.gdtr.base + (sel & 0xFFF8u) + 4, d.hi, 4, false);
    cpu_segment_from_descriptor(&cpu->s.tr, sel, d);
}

/*
 * VERR / VERW (SDM Vol. 2C VERR/VERW): ZF = 1 when the selector names a code
 * or data segment visible at CPL and RPL (conforming code always visible)
 * that is readable (VERR: data, or readable code) or writable (VERW: only
 * writable data).  Never faults on the selector; presence is not checked.
 */
static bool verify_segment(struct cpu *cpu, uint16_t sel, bool write)
{
    struct x86_descriptor d;
    if (!lookup_descriptor(cpu, sel, &d) || !(d.hi & DESC_S))
        return false;
    unsigned type = DESC_TYPE(d.hi);
    if (write) {
        if ((type & TYPE_CODE) || !(type & TYPE_WRITABLE)) return false;
    } else {
        if ((type & TYPE_CODE) && !(type & TYPE_READABLE)) return false;
    }
    return descriptor_visible(cpu, sel, d.hi);
}

DEFINE_HANDLER(grp6_Ew)
{
    require_protected(cpu);           /* all of group 6: #UD in real and vm86 mode */
    switch (i->reg) {
    case 0:                           /* SLDT Ew */
        cpu_sensitive_trap(cpu);
        store_selector(cpu, i, cpu->s.ldtr.selector);
        cpu_note_sensitive(cpu, "sldt", 0, cpu->s.ldtr.selector);
        break;
    case 1:                           /* STR Ew */
        cpu_sensitive_trap(cpu);
        store_selector(cpu, i, cpu->s.tr.selector);
        cpu_note_sensitive(cpu, "str", 0, cpu->s.tr.selector);
        break;
    case 2:                           /* LLDT Ew */
        require_cpl0(cpu);
        load_ldtr(cpu, (uint16_t)rm_read(cpu, i, 2));
        break;
    case 3:                           /* LTR Ew */
        require_cpl0(cpu);
        load_tr(cpu, (uint16_t)rm_read(cpu, i, 2));
        break;
    case 4:                           /* VERR Ew */
    case 5: {                         /* VERW Ew */
        cpu_sensitive_trap(cpu);
        uint16_t sel = (uint16_t)rm_read(cpu, i, 2);
        bool ok = verify_segment(cpu, sel, i->reg == 5);
        set_zf(cpu, ok);
        cpu_note_sensitive_selector(cpu, i->reg == 4 ? "verr" : "verw", 0, ok, sel);
        break;
    }
    default:                          /* /6 /7: JMPE (IA-64 only) and reserved */
        cpu_fault(cpu, X86_UD);
    }
}

/* ---------- group 7: 0F 01 /0-7 (SDM Vol. 2A/2B SGDT SIDT LGDT LIDT SMSW LMSW INVLPG) ---------- */

/*
 * SGDT/SIDT: limit at the operand, base after it.  With a 16-bit operand
 * size only the low 24 bits of the base are stored and the sixth byte is 0
 * (SDM Vol. 2B SGDT, "IA-32 Architecture Compatibility": processors after
 * the 286 fill the upper 8 bits with 0s; the Pentium-era manual states the
 * 24-bit store for the 16-bit form).  Unprivileged: a guest kernel at ring 1
 * reads the VMM's real GDTR/IDTR without a trap.
 */
static uint32_t store_dtable(struct cpu *cpu, const struct x86_insn *i, const struct x86_dtable *t)
{
    uint32_t ea = cpu_ea(cpu, i);
    uint32_t base = i->os32 ? t->base : t->base & 0x00FFFFFFu;
    cpu_write16(cpu, i->seg, ea, t->limit);
    cpu_write32(cpu, i->seg, ea_plus(i, ea, 2), base);
    return base;
}

/*
 * LGDT/LIDT (SDM Vol. 2A LGDT): a 16-bit operand size loads a 24-bit base
 * ("the high-order 8 bits of the six-byte data operand are not used").
 */
static void load_dtable(struct cpu *cpu, const struct x86_insn *i, struct x86_dtable *t)
{
    uint32_t ea = cpu_ea(cpu, i);
    uint16_t limit = cpu_read16(cpu, i->seg, ea);
    uint32_t base = cpu_read32(cpu, i->seg, ea_plus(i, ea, 2));
    if (!i->os32)
        base &= 0x00FFFFFFu;
    t->limit = limit;
    t->base = base;
}

DEFINE_HANDLER(grp7_Ms)
{
    /* /0-/3 and /7 take a memory operand only: a register form is #UD
     * (those encodings are MONITOR/MWAIT/VMX/SWAPGS... on later CPUs). */
    if (i->mod == 3 && (i->reg <= 3 || i->reg == 7))
        cpu_fault(cpu, X86_UD);
    switch (i->reg) {
    case 0:                           /* SGDT Ms */
        cpu_sensitive_trap(cpu);
        cpu_note_sensitive(cpu, "sgdt", 0, store_dtable(cpu, i, &cpu->s.gdtr));
        break;
    case 1:                           /* SIDT Ms */
        cpu_sensitive_trap(cpu);
        cpu_note_sensitive(cpu, "sidt", 0, store_dtable(cpu, i, &cpu->s.idtr));
        break;
    case 2:                           /* LGDT Ms */
        require_cpl0(cpu);
        load_dtable(cpu, i, &cpu->s.gdtr);
        break;
    case 3:                           /* LIDT Ms */
        require_cpl0(cpu);
        load_dtable(cpu, i, &cpu->s.idtr);
        break;
    case 4:                           /* SMSW Ew */
        /* SDM Vol. 2B SMSW: memory gets 16 bits; a 32-bit register gets
         * CR0 in its low half and an undefined high half - we store all of
         * CR0 there, as P6 and later processors do. */
        cpu_sensitive_trap(cpu);
        if (i->mod == 3 && i->os32) {
            reg_write(cpu, i->rm, 4, cpu->s.cr0);
            cpu_note_sensitive(cpu, "smsw", 0, cpu->s.cr0);
        } else {
            rm_write(cpu, i, 2, (uint16_t)cpu->s.cr0);
            cpu_note_sensitive(cpu, "smsw", 0, (uint16_t)cpu->s.cr0);
        }
        break;
    case 6: {                         /* LMSW Ew */
        /* SDM Vol. 2A LMSW: loads only PE, MP, EM and TS; it can set PE
         * but never clear it (only MOV CR0 leaves protected mode). */
        require_cpl0(cpu);
        uint32_t msw = rm_read(cpu, i, 2) & (CR0_PE | CR0_MP | CR0_EM | CR0_TS);
        uint32_t cr0 = (cpu->s.cr0 & ~(CR0_MP | CR0_EM | CR0_TS)) | msw;
        cpu_write_cr0(cpu, cr0);
        break;
    }
    case 7: {                         /* INVLPG M (SDM Vol. 2A INVLPG) */
        require_cpl0(cpu);
        uint32_t lin = cpu->s.seg[i->seg].base + cpu_ea(cpu, i);
        mmu_flush_page(&cpu->mmu, lin);
        cpu->end_block = true;
        break;
    }
    default:                          /* /5 */
        cpu_fault(cpu, X86_UD);
    }
}

/* ---------- LAR, LSL, ARPL ---------- */

/*
 * Descriptor types LAR and LSL accept (SDM Vol. 2A LAR table 3-52, LSL
 * table 3-59; protected mode, not IA-32e): every code/data type, and these
 * system types.  LSL refuses gates, which have no limit.
 */
static bool lar_type_ok(unsigned type)
{
    switch (type) {
    case SYS_TSS16_AVAIL: case SYS_LDT: case SYS_TSS16_BUSY: case SYS_CALL16:
    case SYS_TASK: case SYS_TSS32_AVAIL: case SYS_TSS32_BUSY: case SYS_CALL32:
        return true;
    default:                          /* reserved types and interrupt/trap gates */
        return false;
    }
}

static bool lsl_type_ok(unsigned type)
{
    switch (type) {
    case SYS_TSS16_AVAIL: case SYS_LDT: case SYS_TSS16_BUSY:
    case SYS_TSS32_AVAIL: case SYS_TSS32_BUSY:
        return true;
    default:
        return false;
    }
}

/*
 * The checks LAR and LSL share (SDM Vol. 2A LAR, LSL): #UD outside protected
 * mode; then the selector Ew must name a descriptor inside its table, of a
 * code/data type or a system type 'type_ok' accepts, visible at the CPL and
 * the selector's RPL.  True with the descriptor in *d; false means ZF = 0.
 */
static bool lar_lsl_descriptor(struct cpu *cpu, const struct x86_insn *i,
                               bool (*type_ok)(unsigned type), struct x86_descriptor *d, uint16_t *selector)
{
    require_protected(cpu);
    cpu_sensitive_trap(cpu);
    uint16_t sel = (uint16_t)rm_read(cpu, i, 2);
    *selector = sel;
    return lookup_descriptor(cpu, sel, d) &&
           ((d->hi & DESC_S) || type_ok(DESC_TYPE(d->hi))) &&
           descriptor_visible(cpu, sel, d->hi);
}

/*
 * LAR (SDM Vol. 2A LAR): ZF = 1 and the access rights into Gv - the high
 * dword masked by 00FxFF00H (x undefined: we give 0) for a 32-bit operand,
 * by FF00H for a 16-bit one; ZF = 0 and Gv untouched otherwise.
 */
DEFINE_HANDLER(lar_GvEw)
{
    struct x86_descriptor d;
    uint16_t sel;
    bool ok = lar_lsl_descriptor(cpu, i, lar_type_ok, &d, &sel);
    uint32_t rights = ok ? d.hi & (i->os32 ? 0x00F0FF00u : 0xFF00u) : 0;
    if (ok)
        reg_write(cpu, i->reg, opsize(i), rights);
    set_zf(cpu, ok);
    cpu_note_sensitive_selector(cpu, "lar", ok, rights, sel);
}

/*
 * LSL (SDM Vol. 2A LSL): ZF = 1 and the byte-granular limit (G scales by
 * 4 KiB) into Gv, truncated to 16 bits for a 16-bit operand.
 */
DEFINE_HANDLER(lsl_GvEw)
{
    struct x86_descriptor d;
    uint16_t sel;
    bool ok = lar_lsl_descriptor(cpu, i, lsl_type_ok, &d, &sel);
    uint32_t limit = 0;
    if (ok) {
        limit = (d.lo & 0xFFFFu) | (d.hi & 0x000F0000u);
        if (d.hi & DESC_G)
            limit = (limit << 12) | 0xFFFu;
        limit &= size_mask(opsize(i));
        reg_write(cpu, i->reg, opsize(i), limit);
    }
    set_zf(cpu, ok);
    cpu_note_sensitive_selector(cpu, "lsl", ok, limit, sel);
}

/*
 * ARPL Ew, Gw (SDM Vol. 2A ARPL): raise the destination selector's RPL to
 * the source's; ZF says whether it changed.  #UD in real and vm86 mode.
 */
DEFINE_HANDLER(arpl_EwGw)
{
    require_protected(cpu);
    uint16_t dst = (uint16_t)rm_read_rmw(cpu, i, 2);
    uint16_t src = (uint16_t)reg_read(cpu, i->reg, 2);
    bool raise = (dst & 3u) < (src & 3u);
    if (raise)
        rm_write(cpu, i, 2, (dst & 0xFFFCu) | (src & 3u));
    set_zf(cpu, raise);
}

/* ---------- cache and TLB control, UD2 ---------- */

/* CLTS (SDM Vol. 2A CLTS): privileged; clears CR0.TS. */
DEFINE_HANDLER(clts)
{
    require_cpl0(cpu);
    cpu->s.cr0 &= ~CR0_TS;
}

/* INVD / WBINVD (SDM Vol. 2A): privileged; no caches are modelled. */
DEFINE_HANDLER(invd)
{
    require_cpl0(cpu);
}

DEFINE_HANDLER(wbinvd)
{
    require_cpl0(cpu);
}

/* UD2 (SDM Vol. 2B UD): the architecturally guaranteed invalid opcode. */
DEFINE_HANDLER(ud2)
{
    cpu_fault(cpu, X86_UD);
}

/* ---------- control registers (SDM Vol. 3A 2.5, Vol. 2B MOV CR) ---------- */

/* CR0 bits that exist on this CPU; writes of the reserved ones are ignored. */
#define CR0_DEFINED (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | \
                     CR0_AM | CR0_NW | CR0_CD | CR0_PG)

/*
 * CR4 bits this CPU implements, the ones CPUID leaf 1 advertises (TSC -> TSD,
 * DE, PSE, PGE).  VME, PVI, PAE and MCE are not modelled, so on this CPU
 * they are reserved bits, and "an attempt to write a 1 to any reserved bit
 * in CR4" is #GP(0) (SDM Vol. 2B MOV CR).
 */
#define CR4_SUPPORTED (CR4_TSD | CR4_DE | CR4_PSE | CR4_PGE)

/*
 * MOV to CR0.  #GP(0) for PG = 1 with PE = 0 and for NW = 1 with CD = 0
 * (SDM Vol. 2B MOV CR, "invalid bit combinations").  ET is hardwired to 1
 * on the 486 and later (Vol. 3A 2.5).  Changing PG, WP or PE changes how
 * every linear address translates: flush the TLB (Vol. 3A 4.10.4.1) and
 * recompute the CPU's derived state.
 */
void cpu_write_cr0(struct cpu *cpu, uint32_t value)
{
    value = (value & CR0_DEFINED) | CR0_ET;
    if ((value & CR0_PG) && !(value & CR0_PE))
        cpu_fault_err(cpu, X86_GP, 0);
    if ((value & CR0_NW) && !(value & CR0_CD))
        cpu_fault_err(cpu, X86_GP, 0);
    uint32_t old = cpu->s.cr0;
    cpu->s.cr0 = value;
    if ((old ^ value) & (CR0_PG | CR0_WP | CR0_PE)) {
        mmu_flush_all(&cpu->mmu);
        cpu_state_changed(cpu);
    }
    cpu->end_block = true;
}

/*
 * MOV to CR3: the page-directory base and PWT/PCD (bits 3, 4; the others
 * are ignored, SDM Vol. 3A 4.3 table 4-4).  Flushes all non-global TLB
 * entries (Vol. 3A 4.10.4.1).
 */
void cpu_write_cr3(struct cpu *cpu, uint32_t value)
{
    cpu->s.cr3 = value & (PTE_FRAME | PTE_PWT | PTE_PCD);
    mmu_flush_nonglobal(&cpu->mmu);
    cpu->end_block = true;
}

/*
 * MOV to CR4: reserved (unmodelled) bits are #GP(0).  A change of PSE or
 * PGE invalidates all TLB entries, global ones included (Vol. 3A
 * 4.10.4.1); DE changes what DR7 R/W = 10 means.
 */
void cpu_write_cr4(struct cpu *cpu, uint32_t value)
{
    if (value & ~CR4_SUPPORTED)
        cpu_fault_err(cpu, X86_GP, 0);
    uint32_t old = cpu->s.cr4;
    cpu->s.cr4 = value;
    if ((old ^ value) & (CR4_PSE | CR4_PGE))
        mmu_flush_all(&cpu->mmu);
    if ((old ^ value) & CR4_DE)
        cpu_debug_update(cpu);
    cpu->end_block = true;
}

/*
 * MOV CRn: CR1, CR5, CR6 and CR7 are #UD; otherwise CPL 0 or #GP(0) (vm86
 * included).  The ModRM mod field is ignored: the operand is always the
 * general register in r/m, always 32 bits (SDM Vol. 2B MOV CR).
 */
static void check_cr(struct cpu *cpu, unsigned n)
{
    if (n != 0 && n != 2 && n != 3 && n != 4)
        cpu_fault(cpu, X86_UD);
    require_cpl0(cpu);
}

DEFINE_HANDLER(mov_RdCd)
{
    check_cr(cpu, i->reg);
    uint32_t v;
    switch (i->reg) {
    case 0: v = cpu->s.cr0 | CR0_ET; break;
    case 2: v = cpu->s.cr2; break;
    case 3: v = cpu->s.cr3; break;
    default: v = cpu->s.cr4; break;
    }
    cpu->s.regs[i->rm] = v;
}

DEFINE_HANDLER(mov_CdRd)
{
    check_cr(cpu, i->reg);
    uint32_t v = cpu->s.regs[i->rm];
    switch (i->reg) {
    case 0: cpu_write_cr0(cpu, v); break;
    case 2: cpu->s.cr2 = v; break;
    case 3: cpu_write_cr3(cpu, v); break;
    default: cpu_write_cr4(cpu, v); break;
    }
    cpu->end_block = true;
}

/* ---------- debug registers (SDM Vol. 3B 17.2, Vol. 2B MOV DR) ---------- */

/* DR6: B0-B3, BD, BS, BT writable; the rest reads as the fixed pattern. */
#define DR6_WRITABLE 0x0000E00Fu
/* DR7: L/G0-3, LE, GE, GD and the R/W, LEN fields; bit 10 reads 1,
 * bits 11, 12, 14, 15 read 0. */
#define DR7_WRITABLE 0xFFFF23FFu

/*
 * The checks every MOV DRn makes, in order: CPL 0 (#GP(0)); DR4/DR5 are
 * #UD with CR4.DE = 1 and aliases of DR6/DR7 without it (Vol. 3B 17.2.2);
 * DR7.GD makes any access a #DB fault with DR6.BD set, and the processor
 * clears GD so the handler can use the registers (Vol. 3B 17.2.4).
 * Returns the register really accessed.
 */
static unsigned check_dr(struct cpu *cpu, unsigned n)
{
    require_cpl0(cpu);
    if (n == 4 || n == 5) {
        if (cpu->s.cr4 & CR4_DE)
            cpu_fault(cpu, X86_UD);
        n += 2;
    }
    if (cpu->s.dr[7] & DR7_GD) {
        cpu->s.dr[6] |= DR6_BD;
        cpu->s.dr[7] &= ~DR7_GD;
        cpu_fault(cpu, X86_DB);
    }
    return n;
}

DEFINE_HANDLER(mov_RdDd)
{
    unsigned n = check_dr(cpu, i->reg);
    cpu->s.regs[i->rm] = cpu->s.dr[n];
}

DEFINE_HANDLER(mov_DdRd)
{
    unsigned n = check_dr(cpu, i->reg);
    uint32_t v = cpu->s.regs[i->rm];
    switch (n) {
    case 6:
        cpu->s.dr[6] = (v & DR6_WRITABLE) | DR6_FIXED1;
        break;
    case 7:
        cpu->s.dr[7] = (v & DR7_WRITABLE) | DR7_FIXED1;
        cpu_debug_update(cpu);
        break;
    default:                          /* DR0-DR3: linear addresses */
        cpu->s.dr[n] = v;
        cpu_debug_update(cpu);
        break;
    }
    cpu->end_block = true;
}

/* ---------- MSRs, TSC, CPUID (SDM Vol. 2B RDMSR WRMSR RDTSC, Vol. 2A CPUID) ---------- */

#define MSR_TSC 0x10u /* IA32_TIME_STAMP_COUNTER (Vol. 3B 17.17) */

/*
 * RDMSR/WRMSR: privileged; an MSR the CPU does not implement is #GP(0)
 * ("specifying a reserved or unimplemented MSR address in ECX will also
 * cause a general protection exception", SDM Vol. 2B RDMSR).  Only the TSC
 * is modelled.  Writing it sets the offset so that cpu_tsc() reads back
 * the written value at once and counts on from there.
 */
DEFINE_HANDLER(rdmsr)
{
    require_cpl0(cpu);
    if (cpu->s.regs[R_ECX] != MSR_TSC)
        cpu_fault_err(cpu, X86_GP, 0);
    uint64_t v = cpu_tsc(cpu);
    cpu->s.regs[R_EAX] = (uint32_t)v;
    cpu->s.regs[R_EDX] = (uint32_t)(v >> 32);
}

DEFINE_HANDLER(wrmsr)
{
    require_cpl0(cpu);
    if (cpu->s.regs[R_ECX] != MSR_TSC)
        cpu_fault_err(cpu, X86_GP, 0);
    uint64_t v = ((uint64_t)cpu->s.regs[R_EDX] << 32) | cpu->s.regs[R_EAX];
    cpu->tsc_offset = v - cpu->stats.instructions;
}

/* RDTSC: #GP(0) when CR4.TSD = 1 and CPL > 0 (SDM Vol. 2B RDTSC). */
DEFINE_HANDLER(rdtsc)
{
    if ((cpu->s.cr4 & CR4_TSD) && (cpu->s.cpl != 0 || cpu_vm86(cpu)))
        cpu_fault_err(cpu, X86_GP, 0);
    uint64_t v = cpu_tsc(cpu);
    cpu->s.regs[R_EAX] = (uint32_t)v;
    cpu->s.regs[R_EDX] = (uint32_t)(v >> 32);
}

/*
 * CPUID leaf 1 EAX: stepping 3:0, model 7:4, family 11:8 (SDM Vol. 2A
 * CPUID, figure 3-6).  Family 5 model 2: a Pentium (P54C class).
 */
#define CPUID_SIGNATURE 0x0000052Cu

/* CPUID leaf 1 EDX: only what this CPU models (SDM Vol. 2A table 3-11). */
#define CPUID_EDX_DE    (1u << 2)  /* debugging extensions: CR4.DE, I/O breakpoints */
#define CPUID_EDX_PSE   (1u << 3)  /* 4 MiB pages */
#define CPUID_EDX_TSC   (1u << 4)  /* RDTSC, CR4.TSD */
#define CPUID_EDX_MSR   (1u << 5)  /* RDMSR/WRMSR */
#define CPUID_EDX_CX8   (1u << 8)  /* CMPXCHG8B */
#define CPUID_EDX_PGE   (1u << 13) /* global pages, CR4.PGE */
#define CPUID_EDX_CMOV  (1u << 15) /* CMOVcc */
/* FPU (bit 0) is clear: no x87 is modelled.  No VME, PAE, MCE, APIC, MMX, SSE. */
#define CPUID_FEATURES (CPUID_EDX_DE | CPUID_EDX_PSE | CPUID_EDX_TSC | CPUID_EDX_MSR | \
                        CPUID_EDX_CX8 | CPUID_EDX_PGE | CPUID_EDX_CMOV)

#define CPUID_MAX_LEAF 1u

/*
 * CPUID: leaf 0 gives the highest basic leaf and the vendor string in
 * EBX, EDX, ECX; leaf 1 the signature and features.  Any higher input,
 * extended leaves 80000000H+ included, returns the highest basic leaf's
 * data, as Intel processors do ("If a value entered for CPUID.EAX is higher
 * than the maximum input value for basic or extended function for that
 * processor then the data for the highest basic information leaf is
 * returned", SDM Vol. 2A CPUID).
 */
DEFINE_HANDLER(cpuid)
{
    uint32_t leaf = cpu->s.regs[R_EAX];
    if (leaf > CPUID_MAX_LEAF)
        leaf = CPUID_MAX_LEAF;
    if (leaf == 0) {
        cpu->s.regs[R_EAX] = CPUID_MAX_LEAF;
        cpu->s.regs[R_EBX] = 0x756E6547u;  /* "Genu" */
        cpu->s.regs[R_EDX] = 0x49656E69u;  /* "ineI" */
        cpu->s.regs[R_ECX] = 0x6C65746Eu;  /* "ntel" */
    } else {
        cpu->s.regs[R_EAX] = CPUID_SIGNATURE;
        cpu->s.regs[R_EBX] = 0;
        cpu->s.regs[R_ECX] = 0;
        cpu->s.regs[R_EDX] = CPUID_FEATURES;
    }
}

/* ---------- x87 escapes without an x87 ---------- */

/*
 * D8-DF: CR0.EM = 1 or CR0.TS = 1 raise #NM (SDM Vol. 3A 2.5 and table
 * 2-2), which is how an OS emulates an FPU or switches its state lazily.
 * With both clear, the SDM expects no escape to run on a CPU without an
 * x87: software must set EM when there is no FPU (Vol. 3A 2.5, "EM").
 * We then raise #UD, so a guest that forgot EM stops at the first FPU
 * instruction instead of computing garbage.
 */
DEFINE_HANDLER(fpu_escape)
{
    if (cpu->s.cr0 & (CR0_EM | CR0_TS))
        cpu_fault(cpu, X86_NM);
    cpu_fault(cpu, X86_UD);
}

/* WAIT/FWAIT: #NM only when MP and TS are both set (SDM Vol. 3A table 2-2). */
DEFINE_HANDLER(fwait)
{
    if ((cpu->s.cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
        cpu_fault(cpu, X86_NM);
}
