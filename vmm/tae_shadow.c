/*
 * tae_shadow.c - shadow page tables: what hw's CR3 points at instead of
 * the guest's page directory (nested paging before there was any).
 *
 *   guest CR3 ----> guest PD ----> guest PT ----> guest frame
 *                   (traced)       (traced)          |
 *   hw CR3 -------> shadow PD ---> shadow PT --------+  same frame: the
 *                   PDE 1023: the VMM region         guest's RAM is machine
 *                                                    memory below the window
 *
 * A space (one shadow PD) per guest CR3, kept while the guest switches
 * between address spaces (TAE_MAX_SPACES, least recently used dropped).
 * Shadow PTs start empty: the first access to a page faults on hw (a
 * *hidden* page fault); the VMM walks the guest's tables itself
 * (mmu_walk under the guest's CR0/CR3/CR4) and then either
 *   - fills the shadow entry (guest PTE rights; read-only until the guest
 *     PTE is dirty, so the first write faults again and sets D; A and D
 *     set in the guest's entries as hardware would) - hidden, or
 *   - reflects #PF to the guest with the error code its own walk gives and
 *     CR2 - a true fault, or
 *   - has the virtual CPU run the instruction (writes to the guest's page
 *     tables themselves, supervisor writes to read-only pages under guest
 *     CR0.WP = 0, accesses to the VMM's linear region or window).
 * Coherence: every guest page a shadow is made from (PDs, PTs, the GDT and
 * LDT pages) is BUS_PAGE_TRACED, and mapped read-only in the shadow; the
 * bus calls tae_trace_hook after any write to one - by the virtual CPU
 * emulating a trapped write, by hw through an older writable mapping, by
 * a device - and the entries made from the written bytes are dropped.  So
 * the shadow is never stale, and INVLPG and CR3 reloads cost only their
 * trap.  A guest with paging off runs on an identity space.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "machine/machine.h"
#include "vmm/tae.h"

static uint32_t *private_page(struct tae *t, uint32_t paddr)
{
    return (uint32_t *)bus_private_ptr(&t->m->bus, paddr);
}

int tae_shadow_init(struct tae *t)
{
    uint32_t pages = 1 + TAE_VMM_PAGES + TAE_POOL_PAGES + TAE_MAX_SPACES;
    int err = bus_private_alloc(&t->m->bus, pages * PAGE_SIZE, &t->priv_paddr);
    if (err < 0) return err;
    t->vmm_pt_paddr = t->priv_paddr;
    t->vmm_region_paddr = t->priv_paddr + PAGE_SIZE;
    uint32_t next = t->vmm_region_paddr + TAE_VMM_PAGES * PAGE_SIZE;
    for (int i = 0; i < TAE_POOL_PAGES; i++, next += PAGE_SIZE) {
        t->pool[i] = (struct tae_pt){ .space = -1, .paddr = next, .entries = private_page(t, next) };
        t->free_stack[i] = (int16_t)(TAE_POOL_PAGES - 1 - i);
    }
    t->pool_free = TAE_POOL_PAGES;
    for (int i = 0; i < TAE_MAX_SPACES; i++, next += PAGE_SIZE) {
        t->spaces[i].pd_paddr = next;
        t->spaces[i].pd = private_page(t, next);
    }
    /* The VMM region: supervisor pages, so guest user code never reaches
     * them, and the guest kernel's segments stop below them. */
    uint32_t *vpt = private_page(t, t->vmm_pt_paddr);
    memset(vpt, 0, PAGE_SIZE);
    for (uint32_t i = 0; i < TAE_VMM_PAGES; i++)
        vpt[i] = (t->vmm_region_paddr + i * PAGE_SIZE) | PTE_P | PTE_W | PTE_A | PTE_D;
    t->ram_pages = t->m->bus.ram_size >> PAGE_SHIFT;
    t->trace_users = calloc(t->ram_pages ? t->ram_pages : 1, sizeof *t->trace_users);
    t->frame_pts = malloc((t->ram_pages ? t->ram_pages : 1) * sizeof *t->frame_pts);
    if (!t->trace_users || !t->frame_pts) return -ENOMEM;
    for (uint32_t p = 0; p < t->ram_pages; p++) t->frame_pts[p] = -1;
    t->current = -1;
    return 0;
}

void tae_shadow_destroy(struct tae *t)
{
    if (!t->trace_users) return;
    for (uint32_t p = 0; p < t->ram_pages; p++)
        if (t->trace_users[p]) bus_set_page_flags(&t->m->bus, p << PAGE_SHIFT, 0, BUS_PAGE_TRACED);
    free(t->trace_users);
    free(t->frame_pts);
    t->trace_users = NULL;
    t->frame_pts = NULL;
}

/* hw's TLB must forget what it cached from a shadow entry of the running space. */
static void hw_forget(struct tae *t, int space, bool whole, uint32_t lin)
{
    if (space != t->current) return;
    if (whole) mmu_invalidate_all(&t->hw.mmu);
    else mmu_flush_page(&t->hw.mmu, lin);
    t->hw.end_block = true;
}

/* The shadow PTs made from one guest PT, a list per guest page (frame_pts). */
static int16_t *frame_list(struct tae *t, uint32_t frame)
{
    uint32_t page = frame >> PAGE_SHIFT;
    return frame != TAE_NO_FRAME && page < t->ram_pages ? &t->frame_pts[page] : NULL;
}

static void frame_list_remove(struct tae *t, int index)
{
    int16_t *link = frame_list(t, t->pool[index].guest_frame);
    while (link && *link >= 0) {
        if (*link == index) { *link = t->pool[index].next_same_frame; return; }
        link = &t->pool[*link].next_same_frame;
    }
}

static void drop_pt(struct tae *t, int index)
{
    struct tae_pt *pt = &t->pool[index];
    frame_list_remove(t, index);
    struct tae_space *sp = &t->spaces[pt->space];
    sp->pd[pt->pde] = 0;
    sp->pt[pt->pde] = -1;
    if (pt->guest_frame != TAE_NO_FRAME) tae_trace_frame(t, pt->guest_frame, -1);
    hw_forget(t, pt->space, true, 0);
    pt->space = -1;
    t->free_stack[t->pool_free++] = (int16_t)index;
    t->cnt.shadow_dropped++;
}

static void drop_space(struct tae *t, int s)
{
    struct tae_space *sp = &t->spaces[s];
    if (!sp->used) return;
    for (int i = 0; i < 1024; i++)
        if (sp->pt[i] >= 0) drop_pt(t, sp->pt[i]);
    if (sp->key != TAE_NO_FRAME) tae_trace_frame(t, sp->key, -1);
    sp->used = false;
    if (t->current == s) t->current = -1;
}

void tae_shadow_reset(struct tae *t)
{
    for (int s = 0; s < TAE_MAX_SPACES; s++) drop_space(t, s);
    mmu_invalidate_all(&t->hw.mmu);   /* a new space may reuse a PD page: same CR3, other tables */
    t->hw.end_block = true;
    t->current = -1;
    t->hw_stale = true;
}

static uint32_t space_key(const struct x86_state *g)
{
    return (g->cr0 & CR0_PG) ? (g->cr3 & PAGE_MASK) : TAE_NO_FRAME;
}

/* The paging bits the shadows depend on: how the guest's tables read. */
#define SHADOW_CR0 (CR0_PG)
#define SHADOW_CR4 (CR4_PSE | CR4_PAE)

uint32_t tae_shadow_cr3(struct tae *t)
{
    const struct x86_state *g = &t->vcpu->s;
    if ((g->cr0 & SHADOW_CR0) != (t->shadowed_regs.cr0 & SHADOW_CR0) ||
        (g->cr4 & SHADOW_CR4) != (t->shadowed_regs.cr4 & SHADOW_CR4)) {
        tae_shadow_reset(t);
        t->shadowed_regs = (struct paging_regs){ g->cr0, g->cr3, g->cr4 };
    }
    uint32_t key = space_key(g);
    int found = -1, victim = -1;
    for (int s = 0; s < TAE_MAX_SPACES && found < 0; s++)
        if (t->spaces[s].used && t->spaces[s].key == key) found = s;
    for (int s = 0; s < TAE_MAX_SPACES && found < 0; s++) {
        if (!t->spaces[s].used) { victim = s; break; }
        if (victim < 0 || t->spaces[s].last_use < t->spaces[victim].last_use) victim = s;
    }
    if (found >= 0) {
        if (found != t->current) t->cnt.space_hits++;
    } else {
        drop_space(t, victim);
        found = victim;
        struct tae_space *sp = &t->spaces[found];
        sp->used = true;
        sp->key = key;
        for (int i = 0; i < 1024; i++) sp->pt[i] = -1;
        memset(sp->pd, 0, PAGE_SIZE);
        sp->pd[1023] = t->vmm_pt_paddr | PTE_P | PTE_W | PTE_A;
        if (key != TAE_NO_FRAME) tae_trace_frame(t, key, +1);
        t->cnt.spaces_created++;
    }
    if (found != t->current) t->cnt.space_switches++;
    t->current = found;
    t->spaces[found].last_use = ++t->use_clock;
    return t->spaces[found].pd_paddr;
}

static bool traced(struct tae *t, uint32_t frame)
{
    uint32_t page = frame >> PAGE_SHIFT;
    return page < t->ram_pages && t->trace_users[page] != 0;
}

static bool in_window(uint32_t paddr)
{
    return paddr >= BUS_PRIVATE_BASE && paddr - BUS_PRIVATE_BASE < BUS_PRIVATE_MAX;
}

/* The guest's own walk of 'lin' (identity when its paging is off). */
static void guest_walk(struct tae *t, uint32_t lin, enum mmu_access access, bool user, struct mmu_walk *w)
{
    const struct x86_state *g = &t->vcpu->s;
    if (!(g->cr0 & CR0_PG)) {
        memset(w, 0, sizeof *w);
        w->ok = true;
        w->paddr = lin;
        w->writable = w->user = true;
        return;
    }
    struct paging_regs pr = { g->cr0, g->cr3, g->cr4 };
    mmu_walk(&t->vcpu->mmu, &pr, lin, access, user, false, w);
}

/* Why the last TAE_PF_EMULATE was (trap names in -stats). */
const char *tae_pf_emulation_name(struct tae *t)
{
    switch (t->last_pf_emulation) {
    case TAE_PFE_TRACED: return "#PF write to a traced page";
    case TAE_PFE_READONLY: return "#PF write under CR0.WP=0";
    case TAE_PFE_REGION: return "#PF VMM region";
    case TAE_PFE_WINDOW: return "#PF GDT window";
    default: return "#PF emulated";
    }
}

/* A shadow PT for lin's PDE in the running space, from the guest's walk 'w'
 * of it; false when the pool is empty. */
static bool new_pt(struct tae *t, uint32_t lin, const struct mmu_walk *w)
{
    if (t->pool_free == 0) return false;
    struct tae_space *sp = &t->spaces[t->current];
    unsigned pde = lin >> 22;
    bool paging = (t->vcpu->s.cr0 & CR0_PG) != 0;
    int index = t->free_stack[--t->pool_free];
    struct tae_pt *pt = &t->pool[index];
    pt->space = (int16_t)t->current;
    pt->pde = (uint16_t)pde;
    pt->guest_frame = paging && !w->large ? (w->level[0].entry & PTE_FRAME) : TAE_NO_FRAME;
    if (pt->guest_frame != TAE_NO_FRAME) tae_trace_frame(t, pt->guest_frame, +1);
    int16_t *head = frame_list(t, pt->guest_frame);
    pt->next_same_frame = head ? *head : -1;
    if (head) *head = (int16_t)index;
    memset(pt->entries, 0, PAGE_SIZE);
    sp->pt[pde] = (int16_t)index;
    sp->pd[pde] = pt->paddr | PTE_P | PTE_W | PTE_U | PTE_A;
    t->cnt.shadow_built++;
    return true;
}

bool tae_shadow_map_page(struct tae *t, uint32_t lin, uint32_t pte)
{
    if (t->current < 0 || lin >= TAE_VMM_LIN) return false;
    struct tae_space *sp = &t->spaces[t->current];
    unsigned pde = lin >> 22;
    if (sp->pt[pde] < 0) {
        struct mmu_walk w;
        guest_walk(t, lin, MMU_READ, false, &w);
        if (!w.ok || !new_pt(t, lin, &w)) return false;
    }
    t->pool[sp->pt[pde]].entries[(lin >> 12) & 1023] = pte;
    hw_forget(t, t->current, false, lin);
    return true;
}

void tae_shadow_clear_page(struct tae *t, uint32_t lin)
{
    if (t->current < 0 || lin >= TAE_VMM_LIN) return;
    struct tae_space *sp = &t->spaces[t->current];
    int16_t index = sp->pt[lin >> 22];
    if (index < 0) return;
    t->pool[index].entries[(lin >> 12) & 1023] = 0;
    hw_forget(t, t->current, false, lin);
}

enum tae_pf_result tae_shadow_fault(struct tae *t, uint32_t lin, uint32_t error, uint32_t *guest_error)
{
    enum mmu_access access = (error & PF_W) ? MMU_WRITE : MMU_READ;
    bool user = (error & PF_U) != 0;
    t->last_pf_emulation = TAE_PFE_REGION;
    if (lin >= TAE_VMM_LIN) { t->cnt.vmm_region++; return TAE_PF_EMULATE; }
    if (t->current < 0) return TAE_PF_EMULATE;
    if (t->gdt_window_on && (lin >> 12) - t->gdt_window_first < t->gdt_window_count) {
        t->last_pf_emulation = TAE_PFE_WINDOW;   /* the guest's bytes there are not what hw maps */
        return TAE_PF_EMULATE;
    }

    struct mmu_walk w;
    guest_walk(t, lin, access, user, &w);
    if (!w.ok) { *guest_error = w.fault_error; return TAE_PF_TRUE; }
    uint32_t frame = w.paddr & PAGE_MASK;
    if (in_window(frame)) { t->cnt.vmm_region++; return TAE_PF_EMULATE; }
    if (access == MMU_WRITE && !w.writable) { t->last_pf_emulation = TAE_PFE_READONLY; return TAE_PF_EMULATE; }
    if (access == MMU_WRITE && traced(t, frame)) { t->last_pf_emulation = TAE_PFE_TRACED; return TAE_PF_EMULATE; }

    /* Accessed and Dirty in the guest's entries, as the hardware walk sets them. */
    bool paging = (t->vcpu->s.cr0 & CR0_PG) != 0;
    uint32_t leaf = paging ? w.level[w.levels - 1].entry : PTE_D;
    if (paging) {
        t->in_ad_update = true;
        mmu_walk_set_ad(&t->vcpu->mmu, &w, access == MMU_WRITE);
        t->in_ad_update = false;
    }

    struct tae_space *sp = &t->spaces[t->current];
    unsigned pde = lin >> 22;
    if (sp->pt[pde] < 0 && !new_pt(t, lin, &w)) {
        /* Out of shadow tables: start over (the next run rebuilds hw's CR3). */
        tae_shadow_reset(t);
        return TAE_PF_HIDDEN;
    }
    struct tae_pt *pt = &t->pool[sp->pt[pde]];
    uint32_t e = frame | PTE_P | PTE_A | (w.user ? PTE_U : 0) | (leaf & (PTE_PWT | PTE_PCD));

    if (w.writable && !traced(t, frame) && (access == MMU_WRITE || (leaf & PTE_D))) e |= PTE_W | PTE_D;
    pt->entries[(lin >> 12) & 1023] = e;
    hw_forget(t, t->current, false, lin);
    t->cnt.hidden_faults++;
    t->cnt.shadow_entries++;
    return TAE_PF_HIDDEN;
}

/*
 * The bus calls this after any write to a BUS_PAGE_TRACED page: drop the
 * shadow entries made from the bytes written (and whole shadow PTs for
 * written PDEs), and the shadow descriptor tables if it is a GDT or LDT page.
 */
void tae_trace_hook(void *opaque, uint32_t paddr, unsigned size)
{
    struct tae *t = opaque;
    uint32_t frame = paddr & PAGE_MASK;
    if (t->in_ad_update || !traced(t, frame)) return;
    t->cnt.traced_writes++;
    tae_desc_traced_write(t, frame);
    unsigned first = (paddr & 0xFFFu) >> 2;
    unsigned last = ((paddr & 0xFFFu) + (size ? size : 1) - 1) >> 2;
    if (last > 1023) last = 1023;
    for (int s = 0; s < TAE_MAX_SPACES; s++) {
        struct tae_space *sp = &t->spaces[s];
        if (!sp->used || sp->key != frame) continue;
        for (unsigned i = first; i <= last; i++)
            if (i != 1023 && sp->pt[i] >= 0) drop_pt(t, sp->pt[i]);
    }
    int16_t *head = frame_list(t, frame);
    for (int i = head ? *head : -1; i >= 0; i = t->pool[i].next_same_frame) {
        struct tae_pt *pt = &t->pool[i];
        for (unsigned k = first; k <= last; k++) {
            if (!pt->entries[k]) continue;
            pt->entries[k] = 0;
            hw_forget(t, pt->space, false, ((uint32_t)pt->pde << 22) | (k << 12));
        }
    }
}

/* The shadow walk of 'lin', as hw makes it (the window must be open to read it). */
int tae_shadow_walk(struct tae *t, uint32_t lin, enum mmu_access access, bool user, struct mmu_walk *w)
{
    if (t->current < 0 || t->hw_stale) return -1;
    struct paging_regs pr = { t->hw.s.cr0, t->hw.s.cr3, t->hw.s.cr4 };
    bool was_open = bus_private_is_open(&t->m->bus);
    bus_private_open(&t->m->bus, true);
    mmu_walk(&t->hw.mmu, &pr, lin, access, user, false, w);
    bus_private_open(&t->m->bus, was_open);
    return 0;
}

static void print_level(FILE *out, const char *what, const struct mmu_walk *w, int level)
{
    if (level < w->levels)
        fprintf(out, "  %-3s %08x @%08x", what, w->level[level].entry, w->level[level].entry_paddr);
    else
        fprintf(out, "  %-3s %-8s %9s", what, "-", "");
}

/*
 * `info shadow`: the spaces, or for one linear address the guest's entry
 * beside the shadow's, level by level.
 */
void tae_shadow_print(struct tae *t, FILE *out, bool have_lin, uint32_t lin)
{
    if (!have_lin) {
        int spaces = 0, pts = 0;
        for (int s = 0; s < TAE_MAX_SPACES; s++) {
            const struct tae_space *sp = &t->spaces[s];
            if (!sp->used) continue;
            int n = 0;
            for (int i = 0; i < 1024; i++) n += sp->pt[i] >= 0;
            spaces++;
            pts += n;
            if (sp->key == TAE_NO_FRAME)
                fprintf(out, "space %2d: guest paging off (identity)  shadow PD %08x  %d shadow PTs%s\n",
                        s, sp->pd_paddr, n, s == t->current ? "  <- running" : "");
            else
                fprintf(out, "space %2d: guest CR3 %08x  shadow PD %08x  %d shadow PTs%s\n",
                        s, sp->key, sp->pd_paddr, n, s == t->current ? "  <- running" : "");
        }
        unsigned traced_pages = 0;
        for (uint32_t p = 0; p < t->ram_pages; p++) traced_pages += t->trace_users[p] != 0;
        fprintf(out, "%d spaces, %d shadow page tables in use of %d; %u guest pages traced\n",
                spaces, pts, TAE_POOL_PAGES, traced_pages);
        return;
    }
    struct mmu_walk g, s;
    guest_walk(t, lin, MMU_READ, false, &g);
    fprintf(out, "linear %08x\n", lin);
    fprintf(out, "        guest (CR3 %08x)             shadow (CR3 %08x)\n", t->vcpu->s.cr3, t->hw.s.cr3);
    bool have_shadow = tae_shadow_walk(t, lin, MMU_READ, false, &s) == 0;
    for (int level = 0; level < 2; level++) {
        print_level(out, level ? "pte" : "pde", &g, level);
        if (have_shadow) print_level(out, level ? "pte" : "pde", &s, level);
        fputc('\n', out);
    }
    if (g.ok) fprintf(out, "  guest:  -> %08x%s%s\n", g.paddr, g.writable ? " writable" : " read-only", g.user ? " user" : " supervisor");
    else fprintf(out, "  guest:  not mapped (#PF error %x): a true fault\n", g.fault_error);
    if (!have_shadow) fprintf(out, "  shadow: none (the guest is not running on hw)\n");
    else if (s.ok) fprintf(out, "  shadow: -> %08x%s%s\n", s.paddr, s.writable ? " writable" : " read-only", s.user ? " user" : " supervisor");
    else if (!g.ok) fprintf(out, "  shadow: empty, as it stays while the guest's own tables fault\n");
    else fprintf(out, "  shadow: not filled yet: the next access is a hidden fault\n");
}
