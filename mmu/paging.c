/*
 * paging.c - the 32-bit page walk (SDM Vol. 3A 4.3) and the software TLB.
 *
 * The walk, for a linear address 'lin' with CR0.PG = 1:
 *
 *   level 0: PDE at (CR3 & ~0xFFF) + lin[31:22] * 4
 *            P = 0                         -> #PF, not present
 *            CR4.PSE = 1 and PS = 1        -> 4 MiB page, frame = PDE[31:22]
 *   level 1: PTE at (PDE & ~0xFFF) + lin[21:12] * 4
 *            P = 0                         -> #PF, not present
 *            frame = PTE[31:12]
 *
 * then the access rights of both levels combined (SDM Vol. 3A 4.6), then
 * the Accessed and Dirty bits (4.8).  Entries are read and written through
 * the bus like any other memory access (so A20 applies, and a page table
 * placed in MMIO or nowhere reads as whatever that gives: all ones).
 *
 * Worked example: CR3 = 0x1000, PDE[1] = 0x2007, PTE[0] at 0x2000 = 0x5003.
 * A supervisor write to 0x00400123 reads the PDE at 0x1004 (present, user,
 * writable), the PTE at 0x2000 (present, writable, supervisor), is allowed,
 * sets A in the PDE (0x2027) and A|D in the PTE (0x5063) and gives 0x5123.
 * The same write from CPL 3 faults with error code 0x7 (P|W|U): the PTE is
 * a supervisor page.
 *
 * The TLB (see mmu.h) caches the result per 4 KiB linear page with a host
 * pointer; a 4 MiB page fills one entry per 4 KiB page used, which is one of
 * the behaviours SDM 4.10.2.3 allows (hardware may split large pages).
 */
#include "mmu/mmu.h"

#include <string.h>

#include "base/log.h"

/*
 * Bits of a PDE mapping a 4 MiB page that must be 0 (SDM Vol. 3A 4.3,
 * table 4-4): with no PSE-36 (MAXPHYADDR = 32) the bits (M-20):13 that
 * would carry physical address bits 39:32 are reserved together with bit
 * 21, i.e. bits 21:13.  Bit 12 is PAT: we behave as a processor that has
 * the PAT (the kvm engine's hosts all do, and memory types have no effect
 * in an emulator), so it is not reserved; for the same reason bit 7 of a
 * PTE is PAT, not reserved.  With CR4.PSE = 0 no bit is reserved at all.
 */
#define PDE_4M_RSVD 0x003FE000u
#define PDE_4M_FRAME 0xFFC00000u

/* The levels of a 32-bit walk, top first: which linear bits index each table. */
static const struct {
    unsigned shift;   /* lin >> shift & 0x3FF indexes the table */
} walk_levels[2] = {
    { 22 },   /* page directory */
    { 12 },   /* page table */
};

void mmu_init(struct mmu *mmu, struct bus *bus)
{
    memset(mmu, 0, sizeof *mmu);
    mmu->bus = bus;
    for (int half = 0; half < 2; half++)
        for (int i = 0; i < TLB_ENTRIES; i++)
            mmu->tlb[half][i] = (struct tlb_entry){ TLB_INVALID, TLB_INVALID, 0, false, 0 };
}

/* Fail the walk with #PF 'error' plus the W and U bits of the access (4.7). */
static void walk_fault(struct mmu_walk *walk, uint32_t error, enum mmu_access access, bool user)
{
    walk->ok = false;
    walk->fault_error = error | (access == MMU_WRITE ? PF_W : 0) | (user ? PF_U : 0);
}

/*
 * Access rights of a translation (SDM Vol. 3A 4.6, 32-bit paging, no SMEP,
 * SMAP or NX): user accesses need U/S = 1 in every entry, user writes also
 * R/W = 1 in every entry; supervisor reads are always allowed; supervisor
 * writes need R/W = 1 in every entry only when CR0.WP = 1.  Instruction
 * fetches are reads.
 */
static bool walk_allows(const struct mmu_walk *walk, const struct paging_regs *s,
                        enum mmu_access access, bool user)
{
    if (user && !walk->user)
        return false;
    if (access != MMU_WRITE)
        return true;
    if (user || (s->cr0 & CR0_WP))
        return walk->writable;
    return true;
}

void mmu_walk(struct mmu *mmu, const struct paging_regs *s, uint32_t lin,
              enum mmu_access access, bool user, bool update, struct mmu_walk *walk)
{
    memset(walk, 0, sizeof *walk);
    if (!(s->cr0 & CR0_PG)) {
        walk->paddr = lin;   /* linear = physical; no rights to check */
        walk->writable = walk->user = true;
        walk->ok = true;
        return;
    }

    bool writable = true, user_ok = true;
    uint32_t table = s->cr3 & PTE_FRAME;
    uint32_t frame = 0;
    for (int level = 0; level < 2; level++) {
        uint32_t entry_paddr = table + ((lin >> walk_levels[level].shift) & 0x3FFu) * 4u;
        uint32_t entry = bus_read(mmu->bus, entry_paddr, 4);
        walk->level[level] = (struct mmu_walk_level){ entry_paddr, entry };
        walk->levels = level + 1;

        if (!(entry & PTE_P)) {
            walk_fault(walk, 0, access, user);
            return;
        }
        writable = writable && (entry & PTE_W);
        user_ok = user_ok && (entry & PTE_U);

        if (level == 0 && (s->cr4 & CR4_PSE) && (entry & PTE_PS)) {
            /* A reserved bit set: the entry maps nothing; P = 1 with RSVD (4.7). */
            if (entry & PDE_4M_RSVD) {
                walk_fault(walk, PF_P | PF_RSVD, access, user);
                return;
            }
            walk->large = true;
            frame = (entry & PDE_4M_FRAME) | (lin & 0x003FF000u);
            break;
        }
        table = entry & PTE_FRAME;   /* level 1: the page frame itself */
        frame = table;
    }

    walk->writable = writable;
    walk->user = user_ok;
    uint32_t final = walk->level[walk->levels - 1].entry;
    /* PTE.G or (4 MiB) PDE.G, honoured only with CR4.PGE (4.10.2.4). */
    walk->global = (s->cr4 & CR4_PGE) && (final & PTE_G);

    if (!walk_allows(walk, s, access, user)) {
        walk_fault(walk, PF_P, access, user);
        return;
    }
    walk->paddr = frame | (lin & 0xFFFu);
    walk->ok = true;

    if (update)
        mmu_walk_set_ad(mmu, walk, access == MMU_WRITE);
}

/*
 * Accessed and Dirty (SDM Vol. 3A 4.8): the processor sets A in each entry
 * it uses for a translation and D in the entry that maps the page on a
 * write.  A walk that faults produced no translation (4.3: "there is no
 * translation for a linear address whose translation would use such a
 * paging-structure entry"), so we set nothing then: software may not rely
 * on either choice, because 4.8 also allows A to be set speculatively.
 * The PDE of a 4 KiB page has no D bit (bit 6 ignored).  Hardware does
 * these as locked read-modify-writes, so the bits are ORed into the entry
 * as memory holds it now, not as the walk read it: a walk made earlier (a
 * VMM's virtual CPU walks, then emulates) must not undo what changed the
 * entry since.  An entry the walk saw with the bits set is not written.
 */
void mmu_walk_set_ad(struct mmu *mmu, const struct mmu_walk *walk, bool write)
{
    if (!walk->ok)
        return;
    for (int level = 0; level < walk->levels; level++) {
        const struct mmu_walk_level *l = &walk->level[level];
        uint32_t set = PTE_A;
        if (level == walk->levels - 1 && write)
            set |= PTE_D;
        if ((l->entry & set) != set)
            bus_write(mmu->bus, l->entry_paddr, bus_read(mmu->bus, l->entry_paddr, 4) | set, 4);
    }
}

/* Drop both halves' entries for the linear page of 'lin'. */
static void tlb_drop_page(struct mmu *mmu, uint32_t lin)
{
    uint32_t page = lin & PAGE_MASK;
    unsigned index = (page >> PAGE_SHIFT) % TLB_ENTRIES;
    for (int half = 0; half < 2; half++) {
        struct tlb_entry *e = &mmu->tlb[half][index];
        if (e->tag_read == page || e->tag_write == page)
            e->tag_read = e->tag_write = TLB_INVALID;
    }
}

bool mmu_fill(struct mmu *mmu, const struct paging_regs *s, uint32_t lin,
              enum mmu_access access, bool user, uint32_t *paddr, uint32_t *error)
{
    struct mmu_walk walk;
    mmu->stats.misses++;
    if (s->cr0 & CR0_PG)
        mmu->stats.page_walks++;
    mmu_walk(mmu, s, lin, access, user, true, &walk);
    if (LOG_ON(LOG_MMU) && (s->cr0 & CR0_PG)) {
        static const char *const kind[] = { "read", "write", "fetch" };
        if (walk.ok)
            log_printf("mmu: walk %08x %s%s -> %08x\n", lin, kind[access], user ? " user" : "", walk.paddr);
        else
            log_printf("mmu: walk %08x %s%s -> #PF error %x\n", lin, kind[access], user ? " user" : "",
                       walk.fault_error);
    }
    if (!walk.ok) {
        /*
         * A page fault invalidates the TLB entries for the faulting page
         * (SDM Vol. 3A 4.10.4.1), so the fault does not recur from a stale
         * entry once the handler has fixed the tables.
         */
        tlb_drop_page(mmu, lin);
        *error = walk.fault_error;
        return false;
    }
    *paddr = walk.paddr;

    uint32_t lin_page = lin & PAGE_MASK;
    uint32_t paddr_page = walk.paddr & PAGE_MASK;
    struct tlb_entry *e = &mmu->tlb[user ? 1 : 0][(lin_page >> PAGE_SHIFT) % TLB_ENTRIES];
    *e = (struct tlb_entry){ TLB_INVALID, TLB_INVALID, paddr_page, walk.global, 0 };

    uint8_t *host = bus_host_ptr(mmu->bus, paddr_page, false);
    if (!host)
        return true;   /* MMIO or nothing: every access goes to the bus */
    e->tag_read = lin_page;
    e->addend = (uintptr_t)host - lin_page;

    /*
     * Writes may bypass the walk only if this privilege may write the page
     * and the Dirty bit is already set (or this write just set it): a later
     * first write must still come here to set D.  Paging off: no D bit.
     */
    bool dirty = !(s->cr0 & CR0_PG) || access == MMU_WRITE ||
                 (walk.level[walk.levels - 1].entry & PTE_D);
    if (walk_allows(&walk, s, MMU_WRITE, user) && dirty &&
        bus_host_ptr(mmu->bus, paddr_page, true) != NULL)
        e->tag_write = lin_page;
    return true;
}

void mmu_invalidate_all(struct mmu *mmu)
{
    mmu->epoch++;
    for (int half = 0; half < 2; half++)
        for (int i = 0; i < TLB_ENTRIES; i++)
            mmu->tlb[half][i].tag_read = mmu->tlb[half][i].tag_write = TLB_INVALID;
}

void mmu_flush_all(struct mmu *mmu)
{
    log_msg(LOG_MMU, "mmu: TLB flush, all entries\n");
    mmu->stats.flushes++;
    mmu_invalidate_all(mmu);
}

void mmu_flush_nonglobal(struct mmu *mmu)
{
    log_msg(LOG_MMU, "mmu: TLB flush, non-global entries (MOV to CR3)\n");
    mmu->stats.flushes++;
    mmu->epoch++;
    for (int half = 0; half < 2; half++)
        for (int i = 0; i < TLB_ENTRIES; i++) {
            struct tlb_entry *e = &mmu->tlb[half][i];
            if (!e->global)
                e->tag_read = e->tag_write = TLB_INVALID;
        }
}

void mmu_flush_page(struct mmu *mmu, uint32_t lin)
{
    log_msg(LOG_MMU, "mmu: TLB flush, page %08x (INVLPG)\n", lin);
    mmu->stats.flushes++;
    mmu->epoch++;
    tlb_drop_page(mmu, lin);   /* INVLPG drops global entries too (4.10.4.1) */
}

void mmu_flush_paddr(struct mmu *mmu, uint32_t paddr)
{
    /* Not a guest-visible flush (no stats): the emulator's own bookkeeping. */
    mmu->epoch++;
    /* Compare as the bus does, after A20: aliases of the page go too. */
    uint32_t mask = mmu->bus ? mmu->bus->a20_mask : 0xFFFFFFFFu;
    uint32_t page = paddr & PAGE_MASK & mask;
    for (int half = 0; half < 2; half++)
        for (int i = 0; i < TLB_ENTRIES; i++) {
            struct tlb_entry *e = &mmu->tlb[half][i];
            if ((e->paddr & mask) == page)
                e->tag_read = e->tag_write = TLB_INVALID;
        }
}
