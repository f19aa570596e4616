/*
 * state_dump.c - the register dump of QEMU's logs (see state_dump.h).
 */
#include "cpu/state_dump.h"

/* QEMU's names of the system descriptor types (SDM Vol. 3A table 3-2). */
static const char *const system_type[16] = {
    "Reserved", "TSS16-avl", "LDT", "TSS16-busy", "CallGate16", "TaskGate", "IntGate16", "TrapGate16",
    "Reserved", "TSS32-avl", "Reserved", "TSS32-busy", "CallGate32", "Reserved", "IntGate32", "TrapGate32",
};

/* The descriptor's high dword bits 8-23, rebuilt from the cache (limit 19:16 from the limit). */
static uint32_t descriptor_flags(const struct x86_segment *sg)
{
    uint32_t raw_limit = sg->attr & SEG_ATTR_G ? sg->limit >> 12 : sg->limit;
    return ((uint32_t)(sg->attr & 0xF0FFu) << 8) | (((raw_limit >> 16) & 0xFu) << 16);
}

static void dump_segment(FILE *out, const char *name, const struct x86_segment *sg, bool protected_mode)
{
    fprintf(out, "%-3s=%04x %08x %08x %08x", name, sg->selector, sg->base, sg->limit, descriptor_flags(sg));
    if (protected_mode && (sg->attr & SEG_ATTR_P)) {
        fprintf(out, " DPL=%u ", (sg->attr & SEG_ATTR_DPL) >> SEG_ATTR_DPL_SHIFT);
        if (sg->attr & SEG_ATTR_S) {
            if (sg->attr & SEG_ATTR_CODE)
                fprintf(out, "%s [%c%c", sg->attr & SEG_ATTR_DB ? "CS32" : "CS16",
                        sg->attr & SEG_ATTR_C ? 'C' : '-', sg->attr & SEG_ATTR_R ? 'R' : '-');
            else
                fprintf(out, "%s [%c%c", sg->attr & SEG_ATTR_DB ? "DS  " : "DS16",
                        sg->attr & SEG_ATTR_E ? 'E' : '-', sg->attr & SEG_ATTR_W ? 'W' : '-');
            fprintf(out, "%c]", sg->attr & SEG_ATTR_A ? 'A' : '-');
        } else {
            fputs(system_type[sg->attr & SEG_ATTR_TYPE_MASK], out);
        }
    }
    fputc('\n', out);
}

void x86_state_dump(const struct x86_state *s, FILE *out)
{
    static const char *const seg_names[SEG_COUNT] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    const uint32_t *r = s->regs;
    uint32_t f = s->eflags;
    bool pe = (s->cr0 & CR0_PE) != 0;

    fprintf(out, "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n", r[R_EAX], r[R_EBX], r[R_ECX], r[R_EDX]);
    fprintf(out, "ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n", r[R_ESI], r[R_EDI], r[R_EBP], r[R_ESP]);
    fprintf(out, "EIP=%08x EFL=%08x [%c%c%c%c%c%c%c] CPL=%u II=%u A20=%u SMM=0 HLT=%u\n", s->eip, f,
            f & EFLAGS_DF ? 'D' : '-', f & EFLAGS_OF ? 'O' : '-', f & EFLAGS_SF ? 'S' : '-',
            f & EFLAGS_ZF ? 'Z' : '-', f & EFLAGS_AF ? 'A' : '-', f & EFLAGS_PF ? 'P' : '-',
            f & EFLAGS_CF ? 'C' : '-', s->cpl, s->interrupt_shadow ? 1u : 0u, s->a20_enabled ? 1u : 0u,
            s->halted ? 1u : 0u);
    for (int k = 0; k < SEG_COUNT; k++)
        dump_segment(out, seg_names[k], &s->seg[k], pe);
    dump_segment(out, "LDT", &s->ldtr, pe);
    dump_segment(out, "TR", &s->tr, pe);
    fprintf(out, "GDT=     %08x %08x\n", s->gdtr.base, s->gdtr.limit);
    fprintf(out, "IDT=     %08x %08x\n", s->idtr.base, s->idtr.limit);
    fprintf(out, "CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n", s->cr0, s->cr2, s->cr3, s->cr4);
    fprintf(out, "DR0=%08x DR1=%08x DR2=%08x DR3=%08x \n", s->dr[0], s->dr[1], s->dr[2], s->dr[3]);
    fprintf(out, "DR6=%08x DR7=%08x\n", s->dr[6], s->dr[7]);
}
