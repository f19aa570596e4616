/*
 * tables.c - the system tables, decoded (see tables.h).
 *
 * A segment descriptor (SDM Vol. 3A 3.4.5, figure 3-8):
 *
 *   high dword: 31..24 base 31:24 | G D/B L AVL | limit 19:16 | P DPL S | type | base 23:16
 *   low dword:  31..16 base 15:0                | 15..0 limit 15:0
 *
 * A gate descriptor (6.11, figure 6-2; 5.8.3 figure 5-8 for call gates):
 *
 *   high dword: 31..16 offset 31:16 | P DPL 0 | type | (call gate: param count 4:0)
 *   low dword:  31..16 segment selector | 15..0 offset 15:0
 *
 * Descriptor tables live at linear addresses (GDTR.base), read through the
 * engine's debug access; page tables are walked by the engine (its
 * translate op: mmu/'s walker, the guest's tables and any of the engine's
 * own), never by hand here.
 */
#include "monitor/tables.h"

#include <string.h>

#include "mmu/mmu.h"   /* the entry bits and struct mmu_walk: the walks are the engine's */
#include "vmm/engine.h"

/* System-segment and gate types, S = 0 (SDM Vol. 3A 3.5, table 3-2). */
static const char *const system_types[16] = {
    [0x0] = "reserved",            [0x1] = "16-bit TSS (available)",
    [0x2] = "LDT",                 [0x3] = "16-bit TSS (busy)",
    [0x4] = "16-bit call gate",    [0x5] = "task gate",
    [0x6] = "16-bit interrupt gate", [0x7] = "16-bit trap gate",
    [0x8] = "reserved",            [0x9] = "32-bit TSS (available)",
    [0xA] = "reserved",            [0xB] = "32-bit TSS (busy)",
    [0xC] = "32-bit call gate",    [0xD] = "reserved",
    [0xE] = "32-bit interrupt gate", [0xF] = "32-bit trap gate",
};

static uint32_t get32(const uint8_t *b) { return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24; }
static uint16_t get16(const uint8_t *b) { return (uint16_t)(b[0] | b[1] << 8); }

/* Code/data type bits (table 3-1). */
static void describe_code_data(FILE *out, unsigned type)
{
    if (type & 8)
        fprintf(out, "code %s%s%s", (type & 2) ? "execute/read" : "execute-only",
                (type & 4) ? " conforming" : "", (type & 1) ? " accessed" : "");
    else
        fprintf(out, "data %s%s%s", (type & 2) ? "read/write" : "read-only",
                (type & 4) ? " expand-down" : "", (type & 1) ? " accessed" : "");
}

void tables_describe_descriptor(FILE *out, uint32_t lo, uint32_t hi)
{
    unsigned type = (hi >> 8) & 0xF, s = (hi >> 12) & 1, dpl = (hi >> 13) & 3, p = (hi >> 15) & 1;

    if (lo == 0 && hi == 0) {
        fprintf(out, "null (all zero)");
        return;
    }
    if (!s && (type == 0x4 || type == 0x5 || type == 0x6 || type == 0x7 ||
               type == 0xC || type == 0xE || type == 0xF)) {
        uint16_t sel = (uint16_t)(lo >> 16);
        uint32_t off = (hi & 0xFFFF0000u) | (lo & 0xFFFF);
        fprintf(out, "%s", system_types[type]);
        if (type == 0x5)
            fprintf(out, " TSS selector %04x", sel);
        else
            fprintf(out, " -> %04x:%08x", sel, off);
        if (type == 0x4 || type == 0xC)
            fprintf(out, " params %u", hi & 0x1F);
        fprintf(out, " DPL %u P=%u", dpl, p);
        return;
    }
    uint32_t base = (hi & 0xFF000000u) | ((hi & 0xFF) << 16) | (lo >> 16);
    uint32_t limit = (hi & 0x000F0000u) | (lo & 0xFFFF);
    unsigned g = (hi >> 23) & 1, db = (hi >> 22) & 1, avl = (hi >> 20) & 1;
    uint32_t bytes = g ? (limit << 12) | 0xFFF : limit;
    if (s) describe_code_data(out, type);
    else fprintf(out, "%s", system_types[type]);
    fprintf(out, " base %08x limit %08x (raw %05x G=%u) DPL %u P=%u", base, bytes, limit, g, dpl, p);
    if (s) fprintf(out, " %s", (type & 8) ? (db ? "D=1 32-bit" : "D=0 16-bit") : (db ? "B=1 32-bit" : "B=0 16-bit"));
    fprintf(out, " AVL=%u", avl);
}

void tables_describe_cache(FILE *out, const struct x86_segment *sg)
{
    unsigned type = sg->attr & SEG_ATTR_TYPE_MASK;
    fprintf(out, "base %08x limit %08x ", sg->base, sg->limit);
    if (sg->attr & SEG_ATTR_S) describe_code_data(out, type);
    else fprintf(out, "%s", system_types[type]);
    fprintf(out, " DPL %u P=%u %s G=%u", (sg->attr & SEG_ATTR_DPL) >> SEG_ATTR_DPL_SHIFT,
            !!(sg->attr & SEG_ATTR_P), (sg->attr & SEG_ATTR_DB) ? "32-bit" : "16-bit",
            !!(sg->attr & SEG_ATTR_G));
}

/* Entries are labelled by selector (GDT, LDT) or vector (IDT); runs of all-zero entries are collapsed. */
static void print_table(FILE *out, struct engine *e, const char *name, uint32_t base, uint32_t limit)
{
    bool idt = strcmp(name, "IDT") == 0;
    /* 8-byte descriptors; an IDT has 256 vectors at most (SDM Vol. 3A 6.10), a
     * larger limit is allowed but reaches no more. */
    uint32_t entries = (limit + 1) / 8;
    if (idt && entries > 256) {
        fprintf(out, "%s base %08x limit %04x (256 vectors; the limit reaches %u descriptors, past the last vector)\n",
                name, base, limit, entries);
        entries = 256;
    } else {
        fprintf(out, "%s base %08x limit %04x (%u %s)\n", name, base, limit, entries, idt ? "vectors" : "entries");
    }
    for (uint32_t k = 0; k < entries; k++) {
        uint8_t b[8];
        if (!e->ops->read_linear(e, base + k * 8, b, 8)) {
            fprintf(out, "  %04x: cannot read %08x (not mapped)\n", k * 8, base + k * 8);
            return;
        }
        uint32_t lo = get32(b), hi = get32(b + 4);
        if (idt) fprintf(out, "  int 0x%02x ", k);
        else fprintf(out, "  %04x ", k * 8);
        if (lo == 0 && hi == 0 && k > 0) {
            uint32_t j = k + 1;
            for (; j < entries; j++) {
                if (!e->ops->read_linear(e, base + j * 8, b, 8) || get32(b) || get32(b + 4)) break;
            }
            if (j > k + 1) {
                if (idt) fprintf(out, "to 0x%02x: %u entries all zero (not present)\n", j - 1, j - k);
                else fprintf(out, "to %04x: %u entries all zero (not present)\n", (j - 1) * 8, j - k);
                k = j - 1;
                continue;
            }
        }
        fprintf(out, "[%08x %08x] ", hi, lo);
        tables_describe_descriptor(out, lo, hi);
        fputc('\n', out);
    }
}

void tables_print_gdt(FILE *out, struct engine *e, const struct x86_state *s)
{
    if (!(s->cr0 & CR0_PE)) {
        /* Real mode loads segments as SEL*16 and reads no descriptor (SDM
         * Vol. 3A 20.1.1).  GDTR base 0 limit FFFF is its RESET value (9.1.1,
         * table 9-1): the IVT is there, not descriptors.  A GDTR the guest
         * loaded (LGDT before setting PE) is decoded: that is the GDT to come. */
        fprintf(out, "GDTR base %08x limit %04x: real mode, no GDT in use (segment bases are selector * 16; "
                     "the GDT is read once CR0.PE is set)\n", s->gdtr.base, s->gdtr.limit);
        if (s->gdtr.base == 0 && s->gdtr.limit == 0xFFFF) return;
        fprintf(out, "the GDT that GDTR points to (loaded by LGDT):\n");
    }
    print_table(out, e, "GDT", s->gdtr.base, s->gdtr.limit);
}

void tables_print_ldt(FILE *out, struct engine *e, const struct x86_state *s)
{
    if ((s->ldtr.selector & ~3u) == 0 || !(s->ldtr.attr & SEG_ATTR_P)) {
        fprintf(out, "LDTR %04x: no LDT loaded\n", s->ldtr.selector);
        return;
    }
    fprintf(out, "LDTR %04x ", s->ldtr.selector);
    print_table(out, e, "LDT", s->ldtr.base, s->ldtr.limit > 0xFFFF ? 0xFFFF : s->ldtr.limit);
}

void tables_print_idt(FILE *out, struct engine *e, const struct x86_state *s)
{
    if (!(s->cr0 & CR0_PE)) {
        /* Real mode: the interrupt vector table, 4-byte offset:segment pairs (SDM Vol. 3A 20.1.4). */
        uint32_t n = (s->idtr.limit + 1u) / 4u;
        if (n > 256) n = 256;   /* 256 vectors at most, whatever the limit */
        fprintf(out, "IVT (real mode) base %08x limit %04x (%u vectors)\n", s->idtr.base, s->idtr.limit, n);
        for (uint32_t v = 0; v < n; v++) {
            uint8_t b[4];
            if (!e->ops->read_linear(e, s->idtr.base + v * 4, b, 4)) break;
            fprintf(out, "  %02x -> %04x:%04x\n", v, get16(b + 2), get16(b));
        }
        return;
    }
    print_table(out, e, "IDT", s->idtr.base, s->idtr.limit);
}

int tables_code_bits(const struct x86_state *s)
{
    if (!(s->cr0 & CR0_PE) || (s->eflags & EFLAGS_VM))
        return 16;
    return (s->seg[SEG_CS].attr & SEG_ATTR_DB) ? 32 : 16;
}

bool tables_segment_base(struct engine *e, const struct x86_state *s, uint16_t sel,
                         uint32_t *base, const char **why)
{
    /* A selector a segment register holds now: its base, as CS:IP is shown
     * (the RESET CS f000 has base ffff0000, not f0000: SDM Vol. 3A 9.1.4). */
    for (int k = 0; k < SEG_COUNT; k++)
        if (s->seg[k].selector == sel) { *base = s->seg[k].base; return true; }
    if (!(s->cr0 & CR0_PE) || (s->eflags & EFLAGS_VM)) {
        *base = (uint32_t)sel << 4;
        return true;
    }
    uint32_t tbase = s->gdtr.base, tlimit = s->gdtr.limit;
    if (sel & 4) { tbase = s->ldtr.base; tlimit = s->ldtr.limit; }
    if ((sel & ~7u) + 7u > tlimit) { *why = "selector outside its descriptor table"; return false; }
    uint8_t b[8];
    if (!e->ops->read_linear(e, tbase + (sel & ~7u), b, 8)) { *why = "descriptor table not mapped"; return false; }
    uint32_t lo = get32(b), hi = get32(b + 4);
    *base = (hi & 0xFF000000u) | ((hi & 0xFF) << 16) | (lo >> 16);
    return true;
}

/* The 32-bit TSS (SDM Vol. 3A 7.2.1, figure 7-2) and 16-bit TSS (7.6, figure 7-11). */
void tables_print_tss(FILE *out, struct engine *e, const struct x86_state *s)
{
    unsigned type = s->tr.attr & SEG_ATTR_TYPE_MASK;
    if ((s->tr.selector & ~3u) == 0 && s->tr.base == 0 && s->tr.limit == 0xFFFF && (s->cr0 & CR0_PE) == 0) {
        fprintf(out, "TR %04x: no TSS (real mode)\n", s->tr.selector);
        return;
    }
    fprintf(out, "TR %04x: %s base %08x limit %08x\n", s->tr.selector, system_types[type], s->tr.base, s->tr.limit);
    uint8_t b[104];
    bool is32 = type == 0x9 || type == 0xB || (type != 0x1 && type != 0x3);
    uint32_t need = is32 ? 104 : 44;
    if (!e->ops->read_linear(e, s->tr.base, b, need)) {
        fprintf(out, "  cannot read the TSS at %08x (not mapped)\n", s->tr.base);
        return;
    }
    if (s->tr.limit + 1 < need)
        fprintf(out, "  (limit %08x is below the %u bytes of a TSS: the fields past it are shown anyway)\n",
                s->tr.limit, need);
    if (!is32) {
        static const char *const n16[] = { "link", "sp0", "ss0", "sp1", "ss1", "sp2", "ss2", "ip", "flags",
                                           "ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
                                           "es", "cs", "ss", "ds", "ldt" };
        for (int k = 0; k < 22; k++)
            fprintf(out, "  %-6s %04x%s", n16[k], get16(b + 2 * k), (k % 6 == 5) ? "\n" : "");
        fputc('\n', out);
        return;
    }
    fprintf(out, "  link %04x\n", get16(b + 0x00));
    fprintf(out, "  esp0 %08x ss0 %04x   esp1 %08x ss1 %04x   esp2 %08x ss2 %04x\n",
            get32(b + 0x04), get16(b + 0x08), get32(b + 0x0C), get16(b + 0x10), get32(b + 0x14), get16(b + 0x18));
    fprintf(out, "  cr3  %08x eip %08x eflags %08x\n", get32(b + 0x1C), get32(b + 0x20), get32(b + 0x24));
    fprintf(out, "  eax  %08x ecx %08x edx %08x ebx %08x\n",
            get32(b + 0x28), get32(b + 0x2C), get32(b + 0x30), get32(b + 0x34));
    fprintf(out, "  esp  %08x ebp %08x esi %08x edi %08x\n",
            get32(b + 0x38), get32(b + 0x3C), get32(b + 0x40), get32(b + 0x44));
    fprintf(out, "  es %04x cs %04x ss %04x ds %04x fs %04x gs %04x ldt %04x\n",
            get16(b + 0x48), get16(b + 0x4C), get16(b + 0x50), get16(b + 0x54), get16(b + 0x58),
            get16(b + 0x5C), get16(b + 0x60));
    uint16_t iomap = get16(b + 0x66);
    fprintf(out, "  T=%u (debug trap on switch)  I/O map base %04x%s\n", b[0x64] & 1, iomap,
            iomap > s->tr.limit ? " (past the limit: no I/O bitmap)" : "");
}

static void rights(char *buf, uint32_t bits)
{
    buf[0] = (bits & PTE_U) ? 'u' : 's';
    buf[1] = 'r';
    buf[2] = (bits & PTE_W) ? 'w' : '-';
    buf[3] = '\0';
}

struct pt_run {
    bool open;
    uint32_t lin, phys, size, bits;
};

static void run_flush(FILE *out, struct pt_run *r)
{
    if (!r->open) return;
    char rw[4];
    rights(rw, r->bits);
    fprintf(out, "  %08x-%08x %08x -> %08x %s\n", r->lin, r->lin + r->size - 1, r->size, r->phys, rw);
    r->open = false;
}

static void run_add(FILE *out, struct pt_run *r, uint32_t lin, uint32_t phys, uint32_t size, uint32_t bits)
{
    if (r->open && r->lin + r->size == lin && r->phys + r->size == phys && r->bits == bits) {
        r->size += size;
        return;
    }
    run_flush(out, r);
    *r = (struct pt_run){ true, lin, phys, size, bits };
}

/*
 * The mappings of one of the engine's walks ('which': 0 the guest's), found
 * with the engine's translate (mmu/'s walker): one walk per 4 MiB, whose
 * page directory entry says whether the region is unmapped, one 4 MiB page,
 * or a page table whose 1024 pages are walked one by one.
 */
static void print_mappings(FILE *out, struct engine *e, int which)
{
    struct pt_run run = { 0 };
    for (uint64_t region = 0; region < 0x100000000ull; region += 1u << 22) {
        struct engine_walk w[ENGINE_MAX_WALKS];
        uint32_t lin = (uint32_t)region;
        if (e->ops->translate(e, lin, MMU_READ, false, w, ENGINE_MAX_WALKS) <= which) return;
        if (!w[which].walk.ok && w[which].walk.levels < 2) { run_flush(out, &run); continue; }
        if (w[which].walk.ok && w[which].walk.large) {
            run_add(out, &run, lin, w[which].walk.paddr, 1u << 22,
                    (w[which].walk.user ? PTE_U : 0) | (w[which].walk.writable ? PTE_W : 0));
            continue;
        }
        for (uint32_t j = 0; j < 1024; j++) {
            uint32_t page = lin | j << 12;
            if (j && e->ops->translate(e, page, MMU_READ, false, w, ENGINE_MAX_WALKS) <= which) return;
            if (!w[which].walk.ok) { run_flush(out, &run); continue; }
            run_add(out, &run, page, w[which].walk.paddr, 4096,
                    (w[which].walk.user ? PTE_U : 0) | (w[which].walk.writable ? PTE_W : 0));
        }
    }
    run_flush(out, &run);
}

void tables_print_pt(FILE *out, struct engine *e, const struct x86_state *s)
{
    struct engine_walk w[ENGINE_MAX_WALKS];
    if (!e->ops->translate) {
        fprintf(out, "error: the %s engine cannot walk page tables\n", e->ops->name);
        return;
    }
    int n = e->ops->translate(e, 0, MMU_READ, false, w, ENGINE_MAX_WALKS);
    for (int k = 0; k < n; k++) {
        if (!(w[k].regs.cr0 & CR0_PG)) {
            fprintf(out, "%s%spaging is off (CR0.PG = 0): linear = physical\n", n > 1 ? w[k].name : "",
                    n > 1 ? " page tables: " : "");
            continue;
        }
        fprintf(out, "%s%spage directory at %08x (CR3 %08x); linear range, size, physical, rights (combined U/S, R/W)\n",
                n > 1 ? w[k].name : "", n > 1 ? " page tables: " : "", w[k].regs.cr3 & PTE_FRAME, w[k].regs.cr3);
        print_mappings(out, e, k);
    }
}

static void describe_entry(FILE *out, uint32_t e, bool pde)
{
    fprintf(out, "P=%u R/W=%u U/S=%u PWT=%u PCD=%u A=%u", !!(e & PTE_P), !!(e & PTE_W), !!(e & PTE_U),
            !!(e & PTE_PWT), !!(e & PTE_PCD), !!(e & PTE_A));
    if (!pde || (e & PTE_PS)) fprintf(out, " D=%u", !!(e & PTE_D));
    if (pde) fprintf(out, " PS=%u", !!(e & PTE_PS));
    if (!pde || (e & PTE_PS)) fprintf(out, " G=%u", !!(e & PTE_G));
}

/* One walk of 'lin', each level, then the physical address or the #PF. */
static void print_walk(FILE *out, const struct engine_walk *ew, uint32_t lin, bool user, const char *indent)
{
    const struct mmu_walk *w = &ew->walk;
    if (!(ew->regs.cr0 & CR0_PG)) {
        fprintf(out, "%slinear %08x: paging is off (CR0.PG = 0): physical %08x\n", indent, lin, lin);
        return;
    }
    fprintf(out, "%slinear %08x = directory %03x, table %03x, offset %03x (CR3 %08x)\n",
            indent, lin, lin >> 22, (lin >> 12) & 0x3FF, lin & 0xFFF, ew->regs.cr3);
    for (int k = 0; k < w->levels; k++) {
        bool pde = k == 0;
        fprintf(out, "%s  %s at %08x = %08x  ", indent, pde ? "PDE" : "PTE", w->level[k].entry_paddr, w->level[k].entry);
        describe_entry(out, w->level[k].entry, pde);
        if (w->level[k].entry & PTE_P)
            fprintf(out, "  -> %s %08x", (pde && !w->large) ? "page table" : "page frame",
                    pde && w->large ? w->level[k].entry & 0xFFC00000u : w->level[k].entry & PTE_FRAME);
        fputc('\n', out);
    }
    if (w->ok) {
        fprintf(out, "%s  physical %08x (%s page, %s, %s%s)\n", indent, w->paddr, w->large ? "4 MiB" : "4 KiB",
                w->writable ? "writable" : "read-only", w->user ? "user" : "supervisor",
                w->global ? ", global" : "");
    } else {
        fprintf(out, "%s  #PF on a %s read: error code %x (P=%u W/R=%u U/S=%u RSVD=%u), CR2 would be %08x\n",
                indent, user ? "user" : "supervisor", w->fault_error, !!(w->fault_error & PF_P),
                !!(w->fault_error & PF_W), !!(w->fault_error & PF_U), !!(w->fault_error & PF_RSVD), lin);
    }
}

void tables_print_translate(FILE *out, struct engine *e, const struct x86_state *s, uint32_t lin)
{
    struct engine_walk w[ENGINE_MAX_WALKS];
    bool user = s->cpl == 3;
    if (!e->ops->translate) {
        fprintf(out, "error: the %s engine cannot walk page tables\n", e->ops->name);
        return;
    }
    int n = e->ops->translate(e, lin, MMU_READ, user, w, ENGINE_MAX_WALKS);
    for (int k = 0; k < n; k++) {
        if (n > 1) fprintf(out, "%s page tables:\n", w[k].name);
        print_walk(out, &w[k], lin, user, n > 1 ? "  " : "");
    }
}
