/*
 * snapshot_cpu.c - the checks of a CPU state read from a snapshot file.
 *
 * The state in a file is input: before the engine's set_state gets it
 * (the software CPU's cpu_set_state, KVM's SET_SREGS), every field the
 * CPU relies on is checked for a value the CPU itself could have left
 * there.  A register's contents (EAX, EIP, CR2, the descriptor tables'
 * bases) can be anything; what is checked is what no running CPU holds:
 * a bool that is not 0 or 1 (undefined behaviour to load), a CPL above 3,
 * EFLAGS with a reserved bit set or bit 1 clear, CR0.PG without CR0.PE
 * (#GP on MOV CR0, Intel SDM Vol. 3A 2.5), CR4 bits this CPU lacks (PAE),
 * a segment cache whose limit disagrees with its G bit (SDM Vol. 3A
 * 3.4.5: G scales the limit by 4 KiB, the low 12 bits read as ones), and in
 * protected mode a CS that is not a present code segment or an SS not a
 * present writable data segment of DPL = CPL (SDM Vol. 3A 5.8 and 6.12).
 */
#include "base/snapshot.h"
#include "machine/machine.h"

/* EFLAGS bits an i386/Pentium can hold (Vol. 1 3.4.3): bit 1 reads as 1,
   bits 3, 5, 15 and 22-31 read as 0. */
#define EFLAGS_DEFINED (EFLAGS_ARITH | EFLAGS_FIXED1 | EFLAGS_TF | EFLAGS_IF | EFLAGS_DF | EFLAGS_IOPL | \
                        EFLAGS_NT | EFLAGS_RF | EFLAGS_VM | EFLAGS_AC | EFLAGS_VIF | EFLAGS_VIP | EFLAGS_ID)
#define CR4_MODELLED (CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_MCE | CR4_PGE)

static const char *const seg_names[SEG_COUNT] = { "es", "cs", "ss", "ds", "fs", "gs" };

/* The limit as the descriptor's G bit leaves it (segment.c: limit << 12 | FFF). */
static int check_limit(const struct x86_segment *seg, const char *field, struct snapshot_check *c)
{
    if ((seg->attr & SEG_ATTR_G) && (seg->limit & 0xFFFu) != 0xFFFu)
        return snapshot_refuse(c, MACHINE_CPU_SECTION, field,
                               "limit %08x with G set: its low 12 bits must be ones", seg->limit);
    return 0;
}

int machine_check_cpu_state(const struct x86_state *s, struct snapshot_check *c)
{
    const char *sec = MACHINE_CPU_SECTION;
    int r = snapshot_check_bool(c, sec, "halted", &s->halted);
    if (!r) r = snapshot_check_bool(c, sec, "a20_enabled", &s->a20_enabled);
    if (!r) r = snapshot_check_range(c, sec, "interrupt_shadow", s->interrupt_shadow, 0, 1);
    if (!r) r = snapshot_check_range(c, sec, "cpl", s->cpl, 0, 3);
    if (r) return r;
    if (!(s->eflags & EFLAGS_FIXED1) || (s->eflags & ~EFLAGS_DEFINED))
        return snapshot_refuse(c, sec, "eflags", "%08x has a reserved bit set or bit 1 clear", s->eflags);
    if ((s->cr0 & CR0_PG) && !(s->cr0 & CR0_PE))
        return snapshot_refuse(c, sec, "cr0", "%08x: paging (PG) without protection (PE)", s->cr0);
    if (s->cr4 & ~CR4_MODELLED)
        return snapshot_refuse(c, sec, "cr4", "%08x sets bits this CPU does not have (PAE, ...)", s->cr4);
    for (int k = 0; k < SEG_COUNT; k++)
        if ((r = check_limit(&s->seg[k], seg_names[k], c))) return r;
    if ((r = check_limit(&s->ldtr, "ldtr", c)) || (r = check_limit(&s->tr, "tr", c))) return r;

    if (!(s->cr0 & CR0_PE)) {
        if (s->cpl != 0) return snapshot_refuse(c, sec, "cpl", "%u in real mode (must be 0)", s->cpl);
        return 0;
    }
    if (s->eflags & EFLAGS_VM) return 0;   /* virtual-8086: real-mode style segments, the run loop says it is not modelled */
    uint16_t cs = s->seg[SEG_CS].attr, ss = s->seg[SEG_SS].attr;
    unsigned cs_dpl = (cs & SEG_ATTR_DPL) >> SEG_ATTR_DPL_SHIFT, ss_dpl = (ss & SEG_ATTR_DPL) >> SEG_ATTR_DPL_SHIFT;
    if ((cs & (SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_CODE)) != (SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_CODE))
        return snapshot_refuse(c, sec, "cs", "attributes %04x are not a present code segment", cs);
    if (!(cs & SEG_ATTR_C) && cs_dpl != s->cpl)
        return snapshot_refuse(c, sec, "cs", "DPL %u of a non-conforming code segment is not CPL %u", cs_dpl, s->cpl);
    if ((ss & (SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_CODE | SEG_ATTR_W)) != (SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_W))
        return snapshot_refuse(c, sec, "ss", "attributes %04x are not a present writable data segment", ss);
    if (ss_dpl != s->cpl) return snapshot_refuse(c, sec, "ss", "DPL %u is not CPL %u", ss_dpl, s->cpl);
    return 0;
}
