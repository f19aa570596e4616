/*
 * tae_state.c - ring compression: the guest's view (the virtual CPU) and
 * what the hardware CPU runs, and the shadow descriptor tables.
 *
 *   guest (vcpu)                         hardware (hw)
 *   CPL 0, CS 0008 RPL 0, DPL 0    ->    CPL 1, CS 0009, DPL 1
 *   CPL 3                          ->    CPL 3 as it is
 *   EFLAGS.IF, IOPL (virtual)      ->    IF = 1, IOPL = 0: CLI, STI, IN,
 *                                        OUT, HLT... trap (#GP)
 *   GDTR -> guest GDT              ->    TAE_GDT_LIN: shadow descriptors,
 *                                        filled on first use (a hidden
 *                                        #GP/#NP/#SS with the selector)
 *   segment limits                 ->    truncated below TAE_VMM_LIN
 *   CR3 -> guest page directory    ->    a shadow PD (tae_shadow.c)
 *
 * A shadow descriptor is the guest's with DPL 0 made 1 and the limit cut
 * below the VMM region, with three kinds left not present so that using
 * them traps to the VMM, which then runs the instruction on the virtual
 * CPU: system descriptors (TSS, LDT, gates: what uses them is privileged
 * or crosses rings), DPL 3 code segments (so that every transfer from the
 * guest kernel to user code - IRET, RETF, far JMP - traps, and the VMM
 * sees the virtual IF the guest returns with), and segments that lie in
 * the VMM region or cannot be cut below it (expand-down reaching the top).
 */
#include <string.h>

#include "machine/machine.h"
#include "vmm/tae.h"

/* ---------- descriptors ---------- */

#define DESC_P     (1u << 15)
#define DESC_S     (1u << 12)
#define DESC_CODE  (1u << 11)
#define DESC_EDOWN (1u << 10)   /* data: expand-down */
#define DESC_DB    (1u << 22)
#define DESC_G     (1u << 23)
#define DESC_DPL_SHIFT 13

static uint32_t desc_base(uint32_t lo, uint32_t hi)
{
    return (lo >> 16) | ((hi & 0xFFu) << 16) | (hi & 0xFF000000u);
}

static uint32_t desc_limit(uint32_t lo, uint32_t hi)
{
    uint32_t limit = (lo & 0xFFFFu) | (hi & 0x000F0000u);
    return (hi & DESC_G) ? (limit << 12) | 0xFFFu : limit;
}

/* A descriptor as the segment cache holds it (x86_state.h's layout). */
static void desc_to_segment(struct x86_segment *sg, uint16_t sel, uint32_t lo, uint32_t hi)
{
    sg->selector = sel;
    sg->base = desc_base(lo, hi);
    sg->limit = desc_limit(lo, hi);
    sg->attr = (uint16_t)((hi >> 8) & 0xF0FFu);
}

/*
 * How far a segment reaches: the highest linear address it covers, as a
 * 64-bit sum (so a wrap shows), for expand-up and expand-down data alike.
 */
static uint64_t segment_top(uint32_t base, uint32_t limit, bool expand_down, bool big)
{
    if (expand_down) return (uint64_t)base + (big ? 0xFFFFFFFFu : 0xFFFFu);
    return (uint64_t)base + limit;
}

/*
 * The limit a segment runs with on hw: cut below TAE_VMM_LIN.  Returns
 * false when it cannot be (it starts in the region, or expands down into
 * it): the guest then cannot use it on hw.
 */
static bool truncated_limit(uint32_t base, uint32_t limit, bool expand_down, bool big, uint32_t *out)
{
    if (base >= TAE_VMM_LIN) return false;
    if (segment_top(base, limit, expand_down, big) < TAE_VMM_LIN) { *out = limit; return true; }
    if (expand_down) return false;
    *out = TAE_VMM_LIN - 1 - base;
    return true;
}

/* The shadow of one guest descriptor (see the comment at the top). */
void tae_shadow_descriptor(uint32_t lo, uint32_t hi, uint32_t *slo, uint32_t *shi)
{
    *slo = lo;
    *shi = hi;
    if (!(hi & DESC_P)) return;                          /* the guest's own #NP */
    unsigned dpl = (hi >> DESC_DPL_SHIFT) & 3;
    bool code = (hi & DESC_CODE) != 0;
    if (!(hi & DESC_S) || (code && dpl == 3)) { *shi &= ~DESC_P; return; }
    bool edown = !code && (hi & DESC_EDOWN);
    uint32_t limit;
    if (!truncated_limit(desc_base(lo, hi), desc_limit(lo, hi), edown, (hi & DESC_DB) != 0, &limit)) {
        *shi &= ~DESC_P;
        return;
    }
    if (dpl == 0) *shi |= 1u << DESC_DPL_SHIFT;
    *shi |= 1u << 8;   /* accessed: hw never writes the shadow's A bit */
    if (limit != desc_limit(lo, hi)) {
        /* Re-encode the cut limit, in pages when it is page-granular. */
        uint32_t enc = (hi & DESC_G) ? ((limit + 1) >> 12) - 1 : limit;
        *slo = (lo & 0xFFFF0000u) | (enc & 0xFFFFu);
        *shi = (*shi & ~0x000F0000u) | (enc & 0x000F0000u);
    }
}

/* The hw cache of one guest segment cache: DPL 0 -> 1, the limit cut. */
static struct x86_segment compress_segment(const struct x86_segment *g, uint16_t selector)
{
    struct x86_segment h = *g;
    h.selector = selector;
    if (!(g->attr & SEG_ATTR_P) || !(g->attr & SEG_ATTR_S)) return h;
    bool code = (g->attr & SEG_ATTR_CODE) != 0;
    bool edown = !code && (g->attr & SEG_ATTR_E);
    uint32_t limit;
    if (truncated_limit(g->base, g->limit, edown, (g->attr & SEG_ATTR_DB) != 0, &limit)) h.limit = limit;
    if (((g->attr & SEG_ATTR_DPL) >> SEG_ATTR_DPL_SHIFT) == 0) h.attr |= 1u << SEG_ATTR_DPL_SHIFT;
    return h;
}

/* Whether a segment the guest has loaded can be given to hw. */
static bool segment_runs_on_hw(const struct x86_segment *g)
{
    if (!(g->attr & SEG_ATTR_P) || !(g->attr & SEG_ATTR_S)) return true;   /* null/unusable: faults alike */
    bool code = (g->attr & SEG_ATTR_CODE) != 0;
    uint32_t limit;
    return truncated_limit(g->base, g->limit, !code && (g->attr & SEG_ATTR_E),
                           (g->attr & SEG_ATTR_DB) != 0, &limit);
}

/*
 * Whether the guest, as the virtual CPU holds it, can run on hw: protected
 * mode, not vm86, CPL 0 or 3 (rings 1 and 2 are where the compressed guest
 * kernel lives), no nested task pending (its IRET would switch tasks on
 * the VMM's TSS), and every loaded segment representable.
 */
bool tae_compressible(struct tae *t)
{
    const struct x86_state *s = &t->vcpu->s;
    /* bt translates real mode too (as VMware's BT did): 16-bit code at
     * ring 1 on segments with the real-mode bases; tae interprets it. */
    if (!(s->cr0 & CR0_PE) && !t->bt) return false;
    if (s->eflags & (EFLAGS_VM | EFLAGS_NT)) return false;
    if (s->cpl != 0 && s->cpl != 3) return false;
    if (s->cr4 & CR4_PAE) return false;
    for (int r = 0; r < SEG_COUNT; r++) {
        /* bt's kernel code runs on the TC's own CS: the guest's CS is only
         * its fetch limit, which the translator checks (even at the reset
         * vector's FFFF0000, inside the VMM region). */
        if (r == SEG_CS && t->bt && s->cpl == 0) continue;
        if (!segment_runs_on_hw(&s->seg[r])) return false;
    }
    return true;
}

/* ---------- the shadow descriptor tables ---------- */

static uint8_t *vmm_region(struct tae *t, uint32_t lin)
{
    return bus_private_ptr(&t->m->bus, t->vmm_region_paddr + (lin - TAE_VMM_LIN));
}

static void table_clear(struct tae *t, enum tae_table table)
{
    memset(t->desc_filled[table], 0, sizeof t->desc_filled[table]);
    /* Page by page: the region's pages are consecutive private pages, but
     * bus_private_ptr promises only to the end of each page. */
    uint32_t lin = table == TAE_GDT ? TAE_GDT_LIN : TAE_LDT_LIN;
    for (uint32_t off = 0; off < 0x10000; off += PAGE_SIZE)
        memset(vmm_region(t, lin + off), 0, PAGE_SIZE);
}

static void fill_entry(struct tae *t, enum tae_table table, unsigned index, uint32_t lo, uint32_t hi)
{
    uint32_t slo, shi;
    tae_shadow_descriptor(lo, hi, &slo, &shi);
    uint8_t *at = vmm_region(t, (table == TAE_GDT ? TAE_GDT_LIN : TAE_LDT_LIN) + index * 8);
    memcpy(at, &slo, 4);
    memcpy(at + 4, &shi, 4);
    t->desc_filled[table][index / 8] |= (uint8_t)(1u << (index % 8));
}

/*
 * Fill a whole shadow table from the guest's, page by page (a page the
 * guest has not mapped stays unfilled: its entries fill on first use).
 * Eager, so that LAR, LSL, VERR and VERW - which read descriptors without
 * faulting - see each descriptor as a classic VMM's shadow GDT shows it.
 */
static void table_fill(struct tae *t, enum tae_table table, uint32_t base, uint32_t limit)
{
    uint32_t entries = (limit + 1) / 8;
    if (entries > TAE_TABLE_ENTRIES) entries = TAE_TABLE_ENTRIES;
    for (uint32_t i = (table == TAE_GDT ? 1 : 0); i < entries; i++) {
        uint32_t d[2];
        if (!cpu_read_linear(t->vcpu, base + i * 8, d, 8)) continue;
        fill_entry(t, table, i, d[0], d[1]);
    }
}

void tae_desc_reset(struct tae *t)
{
    const struct x86_state *s = &t->vcpu->s;
    table_clear(t, TAE_GDT);
    table_clear(t, TAE_LDT);
    if (s->cr0 & CR0_PE) {
        table_fill(t, TAE_GDT, s->gdtr.base, s->gdtr.limit);
        if ((s->ldtr.selector & 0xFFFCu) != 0) table_fill(t, TAE_LDT, s->ldtr.base, s->ldtr.limit);
    }
}

/* Read the guest's 8-byte descriptor for 'sel' through its own view. */
bool tae_guest_descriptor(struct tae *t, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    const struct x86_state *s = &t->vcpu->s;
    uint32_t base, limit, off = sel & 0xFFF8u;
    if (sel & 4) {
        if ((s->ldtr.selector & 0xFFFCu) == 0) return false;
        base = s->ldtr.base;
        limit = s->ldtr.limit;
    } else {
        base = s->gdtr.base;
        limit = s->gdtr.limit;
    }
    if (off + 7 > limit) return false;
    uint32_t d[2];
    if (!cpu_read_linear(t->vcpu, base + off, d, 8)) return false;
    *lo = d[0];
    *hi = d[1];
    return true;
}

/*
 * hw loaded a segment from the shadow table, whose Accessed bit is preset:
 * set it in the guest's descriptor as the guest's CPU would have (SDM Vol.
 * 3A 3.4.5.1).  A write to a traced page: the shadow table follows.
 */
static void set_guest_accessed(struct tae *t, uint16_t sel, uint32_t hi)
{
    const struct x86_state *s = &t->vcpu->s;
    uint32_t base = (sel & 4) ? s->ldtr.base : s->gdtr.base;
    uint8_t type = (uint8_t)((hi >> 8) | 1u);
    (void)cpu_write_linear(t->vcpu, base + (sel & 0xFFF8u) + 5, &type, 1);
}

/*
 * A #GP, #NP, #SS or #TS whose error code names a selector whose shadow
 * entry was never filled: fill it from the guest's table and let hw run
 * the instruction again (a hidden descriptor fault).  False when the
 * fault is the guest's own (or the entry is filled, or left not present
 * on purpose): the virtual CPU then runs the instruction.
 */
/*
 * bt's GDT window: with 'on', map the linear pages of the guest's GDT in the
 * running shadow space to private pages holding the shadow descriptors at
 * the guest's offsets (supervisor, read-only: hw reads descriptors there;
 * any other access to those pages is emulated, tae_shadow_fault), so that
 * hw can run guest user code with GDTR.base = the guest's.  False when it
 * cannot (the table reaches the VMM region, or the guest has not mapped it).
 */
bool tae_gdt_window(struct tae *t, bool on)
{
    if (!t->gdt_window_paddr) return false;
    if (t->gdt_window_on) {
        for (uint32_t i = 0; i < t->gdt_window_count; i++) tae_shadow_clear_page(t, (t->gdt_window_first + i) << 12);
        t->gdt_window_on = false;
    }
    if (!on) return false;
    const struct x86_state *g = &t->vcpu->s;
    uint64_t end = (uint64_t)g->gdtr.base + g->gdtr.limit;
    if (end >= TAE_VMM_LIN) return false;
    uint32_t first = g->gdtr.base >> 12, count = (uint32_t)(end >> 12) - first + 1;
    if (count > TAE_WINDOW_PAGES) return false;
    for (uint32_t k = 0; k <= g->gdtr.limit; k++) {
        uint32_t lin = g->gdtr.base + k;
        uint8_t *dst = bus_private_ptr(&t->m->bus, t->gdt_window_paddr + (((lin >> 12) - first) << 12) + (lin & 0xFFF));
        *dst = *vmm_region(t, TAE_GDT_LIN + k);
    }
    t->gdt_window_first = first;
    t->gdt_window_count = count;
    for (uint32_t i = 0; i < count; i++) {
        if (!tae_shadow_map_page(t, (first + i) << 12, (t->gdt_window_paddr + (i << 12)) | PTE_P | PTE_A)) {
            for (uint32_t j = 0; j < i; j++) tae_shadow_clear_page(t, (first + j) << 12);
            return false;
        }
    }
    t->gdt_window_on = true;
    return true;
}

bool tae_desc_fill(struct tae *t, uint32_t error_code)
{
    if (error_code & 3) return false;            /* IDT or EXT: not a descriptor load */
    uint16_t sel = (uint16_t)error_code;
    if ((sel & 0xFFF8u) == 0 && !(sel & 4)) return false;   /* the null selector */
    enum tae_table table = (sel & 4) ? TAE_LDT : TAE_GDT;
    unsigned index = sel >> 3;
    if (t->desc_filled[table][index / 8] & (1u << (index % 8))) return false;
    uint32_t lo, hi;
    if (!tae_guest_descriptor(t, sel, &lo, &hi)) return false;
    fill_entry(t, table, index, lo, hi);
    t->cnt.descriptor_faults++;
    if (t->gdt_window_on && table == TAE_GDT) (void)tae_gdt_window(t, true);
    return true;
}

/* Trace (or stop tracing) a guest page the shadows are made from. */
void tae_trace_frame(struct tae *t, uint32_t frame, int delta)
{
    uint32_t page = frame >> PAGE_SHIFT;
    if (page >= t->ram_pages) return;
    if (delta > 0) {
        if (t->trace_users[page]++ == 0) bus_set_page_flags(&t->m->bus, frame, BUS_PAGE_TRACED, 0);
    } else if (t->trace_users[page] > 0 && --t->trace_users[page] == 0) {
        bus_set_page_flags(&t->m->bus, frame, 0, BUS_PAGE_TRACED);
    }
}

/* The guest-physical pages of [base, base+limit] under the guest's paging. */
static int table_frames(struct tae *t, uint32_t base, uint32_t limit, uint32_t *frames, int max)
{
    const struct x86_state *s = &t->vcpu->s;
    struct paging_regs pr = { s->cr0, s->cr3, s->cr4 };
    int n = 0;
    uint64_t end = (uint64_t)base + limit;
    for (uint64_t lin = base & PAGE_MASK; lin <= end && n < max; lin += PAGE_SIZE) {
        struct mmu_walk w;
        mmu_walk(&t->vcpu->mmu, &pr, (uint32_t)lin, MMU_READ, false, false, &w);
        frames[n++] = w.ok ? (w.paddr & PAGE_MASK) : TAE_NO_FRAME;
    }
    return n;
}

/*
 * The GDTR, the LDTR or the paging under them may have changed (LGDT,
 * LLDT, MOV CR3, a task switch, a state set from outside): when the pages
 * behind the tables moved, start the shadow tables afresh and trace the
 * new pages, so that a guest write to its GDT or LDT is seen.
 */
void tae_desc_check_tables(struct tae *t)
{
    const struct x86_state *s = &t->vcpu->s;
    uint32_t gf[17], lf[17];
    int gn = table_frames(t, s->gdtr.base, s->gdtr.limit, gf, 17);
    int ln = (s->ldtr.selector & 0xFFFCu) ? table_frames(t, s->ldtr.base, s->ldtr.limit, lf, 17) : 0;
    bool same = gn == t->gdt_frame_count && ln == t->ldt_frame_count &&
                !memcmp(gf, t->gdt_frames, sizeof gf[0] * (size_t)gn) &&
                !memcmp(lf, t->ldt_frames, sizeof lf[0] * (size_t)ln) &&
                s->gdtr.base == t->shadowed_gdtr.base && s->gdtr.limit == t->shadowed_gdtr.limit &&
                !memcmp(&s->ldtr, &t->shadowed_ldtr, sizeof s->ldtr);
    if (same) return;
    for (int i = 0; i < t->gdt_frame_count; i++) tae_trace_frame(t, t->gdt_frames[i], -1);
    for (int i = 0; i < t->ldt_frame_count; i++) tae_trace_frame(t, t->ldt_frames[i], -1);
    memcpy(t->gdt_frames, gf, sizeof gf);
    memcpy(t->ldt_frames, lf, sizeof lf);
    t->gdt_frame_count = gn;
    t->ldt_frame_count = ln;
    for (int i = 0; i < gn; i++) tae_trace_frame(t, gf[i], +1);
    for (int i = 0; i < ln; i++) tae_trace_frame(t, lf[i], +1);
    t->shadowed_gdtr = s->gdtr;
    t->shadowed_ldtr = s->ldtr;
    tae_desc_reset(t);
}

/* A write to a traced guest page: is it under the GDT or LDT?  Forget them. */
bool tae_desc_traced_write(struct tae *t, uint32_t frame)
{
    for (int i = 0; i < t->gdt_frame_count; i++)
        if (t->gdt_frames[i] == frame) { tae_desc_reset(t); return true; }
    for (int i = 0; i < t->ldt_frame_count; i++)
        if (t->ldt_frames[i] == frame) { tae_desc_reset(t); return true; }
    return false;
}

/* The real IDT stays empty and the real TSS has no I/O bitmap. */
int tae_desc_setup(struct tae *t)
{
    tae_desc_reset(t);
    memset(vmm_region(t, TAE_IDT_LIN), 0, PAGE_SIZE);
    uint8_t *tss = vmm_region(t, TAE_TSS_LIN);
    memset(tss, 0, PAGE_SIZE);
    /* I/O map base past the limit: every IN/OUT at CPL > IOPL faults (SDM Vol. 1 18.5.2). */
    uint16_t iomap = 0xFFFF;
    memcpy(tss + 102, &iomap, 2);
    return 0;
}

/* ---------- state both ways ---------- */

#define VIRTUAL_FLAGS (EFLAGS_IF | EFLAGS_IOPL | EFLAGS_VM | EFLAGS_VIF | EFLAGS_VIP)

/* vcpu -> hw: the compressed state hw runs.  The caller checked tae_compressible. */
void tae_sync_to_hw(struct tae *t)
{
    const struct x86_state *g = &t->vcpu->s;
    struct x86_state h;
    cpu_get_state(t->vcpu, &h);   /* materialised flags, TSC */
    unsigned hcpl = g->cpl == 0 ? 1 : 3;

    h.eflags = (h.eflags & ~VIRTUAL_FLAGS) | EFLAGS_IF;
    h.cpl = (uint8_t)hcpl;
    for (int r = 0; r < SEG_COUNT; r++) {
        uint16_t sel = g->seg[r].selector;
        if (r == SEG_CS || r == SEG_SS) sel = (uint16_t)((sel & ~3u) | hcpl);
        h.seg[r] = compress_segment(&g->seg[r], sel);
    }
    if ((g->ldtr.selector & 0xFFFCu) != 0) {
        h.ldtr.base = TAE_LDT_LIN;
        h.ldtr.limit = g->ldtr.limit > 0xFFFF ? 0xFFFF : g->ldtr.limit;
    }
    h.tr.base = TAE_TSS_LIN;
    h.tr.limit = 103;
    h.tr.attr = SEG_ATTR_P | 0xB;
    h.gdtr.base = TAE_GDT_LIN;
    h.gdtr.limit = g->gdtr.limit;
    h.idtr.base = TAE_IDT_LIN;
    h.idtr.limit = 0x7FF;
    h.cr0 = g->cr0 | CR0_PE | CR0_PG | CR0_WP;
    h.cr4 = g->cr4 & ~(CR4_PSE | CR4_PGE | CR4_VME | CR4_PVI);
    h.cr3 = tae_shadow_cr3(t);
    if (t->gdt_window_paddr) {
        /* bt: hw never reads its IDT (every event exits to the VMM), so it
         * may hold the guest's IDTR; user code sees the guest's GDTR too,
         * through the GDT window. */
        h.idtr = g->idtr;
        if (tae_gdt_window(t, g->cpl == 3)) h.gdtr.base = g->gdtr.base;
    }
    h.halted = false;
    /* The TSC: one clock for the guest, whichever CPU runs it.  Handing hw
     * its own TSC value keeps cpu_set_state from taking the state for a
     * foreign one (which drops the TLB); the offset then carries the
     * virtual CPU's count over. */
    uint64_t guest_tsc = h.tsc;
    h.tsc = t->hw.stats.instructions + t->hw.tsc_offset;
    cpu_set_state(&t->hw, &h);
    t->hw.tsc_offset = guest_tsc - t->hw.stats.instructions;
    for (int r = 0; r < SEG_COUNT; r++) t->hw_set[r] = t->hw.s.seg[r];
    t->hw_stale = false;
    t->cnt.syncs++;
}

/* hw -> vcpu: what the guest's own CPU would hold now. */
void tae_sync_from_hw(struct tae *t)
{
    struct x86_state h, g;
    /* Under bt, hw may be in translated code: brought to a guest
     * instruction boundary first, its EIP is the TC's, not the guest's. */
    bool in_tc = t->bt && bt_hw_in_tc(t);
    uint32_t guest_eip = in_tc ? bt_settle_for_sync(t) : 0;
    cpu_get_state(&t->hw, &h);
    if (in_tc) h.eip = guest_eip;
    g = t->vcpu->s;
    memcpy(g.regs, h.regs, sizeof g.regs);
    g.eip = h.eip;
    g.eflags = (h.eflags & ~VIRTUAL_FLAGS) | (t->vcpu->s.eflags & VIRTUAL_FLAGS) | EFLAGS_FIXED1;
    g.cpl = h.cpl == 1 ? 0 : h.cpl;
    g.dr[6] = h.dr[6];
    g.tsc = t->vcpu->stats.instructions + t->vcpu->tsc_offset;   /* its own: see tae_sync_to_hw */
    g.interrupt_shadow = h.interrupt_shadow;
    g.halted = false;
    g.a20_enabled = h.a20_enabled;
    /* Set the virtual CPU's state first (paging as the guest has it), then
     * read back the descriptors of segments the guest loaded on hw. */
    cpu_set_state(t->vcpu, &g);
    bool reloaded = false;
    for (int r = 0; r < SEG_COUNT; r++) {
        if (!memcmp(&h.seg[r], &t->hw_set[r], sizeof h.seg[r])) continue;
        uint16_t sel = h.seg[r].selector;
        if ((r == SEG_CS || r == SEG_SS) && h.cpl == 1 && (sel & 3) == 1) sel &= (uint16_t)~3u;
        uint32_t lo, hi;
        if ((sel & 0xFFFCu) == 0 && !(sel & 4)) {
            g.seg[r] = h.seg[r];              /* a null selector: unusable alike */
            g.seg[r].selector = sel;
        } else if (tae_guest_descriptor(t, sel, &lo, &hi)) {
            desc_to_segment(&g.seg[r], sel, lo, hi);
            g.seg[r].attr |= SEG_ATTR_A;
            if ((hi & DESC_S) && !(hi & (1u << 8))) set_guest_accessed(t, sel, hi);
        } else {
            g.seg[r] = h.seg[r];              /* cannot be: hw loaded it from the shadow */
            g.seg[r].selector = sel;
        }
        reloaded = true;
    }
    if (reloaded) cpu_set_state(t->vcpu, &g);
    t->vcpu->tsc_offset = h.tsc - t->vcpu->stats.instructions;
    t->vcpu_stale = false;
}
