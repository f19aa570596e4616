/*
 * test_paging.c - the 32-bit page walk and the TLB (mmu/paging.c), checked
 * against the SDM's rules written out here independently, as tables.
 *
 *   make build/tests/unit/test_paging && build/tests/unit/test_paging [name]
 *
 * Memory layout of every test:
 *   0x1000 page directory (CR3)   0x2000 page table for lin 0x00400000-0x007FFFFF
 *   0x5000 the 4 KiB data page    0x00800000 the 4 MiB page
 */
#include "mmu/mmu.h"
#include "tests/test.h"

#define PD      0x1000u
#define PT      0x2000u
#define PAGE    0x5000u
#define LIN     0x00400123u   /* PDE 1, PTE 0 */
#define BIG     0x00800000u   /* 4 MiB frame */
#define LIN_BIG 0x00C12345u   /* PDE 3 */

static struct bus bus;
static struct mmu mmu;
static struct paging_regs st;   /* CR0, CR3, CR4 as the walk sees them */

static void put(uint32_t paddr, uint32_t value) { bus_write(&bus, paddr, value, 4); }
static uint32_t get(uint32_t paddr) { return bus_read(&bus, paddr, 4); }

/* A fresh machine: 16 MiB, paging on, tables empty. */
static void rig(void)
{
    CHECK_EQ(bus_init(&bus, 16u << 20), 0);
    mmu_init(&mmu, &bus);
    memset(&st, 0, sizeof st);
    st.cr0 = CR0_PE | CR0_PG;
    st.cr3 = PD;
}

static void unrig(void) { bus_destroy(&bus); }

/* The map of LIN: PDE[1] -> PT, PTE[0] -> PAGE, with the given low bits. */
static void map_4k(uint32_t pde_bits, uint32_t pte_bits)
{
    put(PD + 1 * 4, PT | pde_bits);
    put(PT + 0 * 4, PAGE | pte_bits);
}

static struct tlb_entry *tlb_of(uint32_t lin, bool user)
{
    return &mmu.tlb[user][(lin >> 12) % TLB_ENTRIES];
}

/*
 * SDM Vol. 3A 4.6 (and the combined-protection table of the 80386 manual,
 * 6.4.1.3), written out by hand for every U/S and R/W pair of a PDE and a
 * PTE: may a user read, may a user write, may a supervisor write with
 * CR0.WP = 1.  Supervisor reads, and supervisor writes with WP = 0, are
 * always allowed (no SMAP, no SMEP on this CPU).
 */
static const struct {
    bool pde_u, pde_w, pte_u, pte_w;
    bool user_read, user_write, sup_write_wp1;
} rights_table[16] = {
    /* PDE       PTE        user rd  user wr  sup wr (WP=1) */
    { 1, 0,     1, 0,      1,       0,       0 },
    { 1, 0,     1, 1,      1,       0,       0 },
    { 1, 1,     1, 0,      1,       0,       0 },
    { 1, 1,     1, 1,      1,       1,       1 },
    { 1, 0,     0, 0,      0,       0,       0 },
    { 1, 0,     0, 1,      0,       0,       0 },
    { 1, 1,     0, 0,      0,       0,       0 },
    { 1, 1,     0, 1,      0,       0,       1 },
    { 0, 0,     1, 0,      0,       0,       0 },
    { 0, 0,     1, 1,      0,       0,       0 },
    { 0, 1,     1, 0,      0,       0,       0 },
    { 0, 1,     1, 1,      0,       0,       1 },
    { 0, 0,     0, 0,      0,       0,       0 },
    { 0, 0,     0, 1,      0,       0,       0 },
    { 0, 1,     0, 0,      0,       0,       0 },
    { 0, 1,     0, 1,      0,       0,       1 },
};

/* Expected verdict from a row: allowed or not. */
static bool table_allows(bool user_read, bool user_write, bool sup_write_wp1,
                         bool user, enum mmu_access access, bool wp)
{
    bool write = access == MMU_WRITE;
    if (user)
        return write ? user_write : user_read;
    if (!write)
        return true;
    return wp ? sup_write_wp1 : true;
}

/* #PF error code of SDM Vol. 3A 4.7, figure 4-12, built from its bits. */
static uint32_t expected_error(bool present_violation, bool rsvd, enum mmu_access access, bool user)
{
    return (present_violation ? 1u : 0u) | (access == MMU_WRITE ? 2u : 0u) |
           (user ? 4u : 0u) | (rsvd ? 8u : 0u);
}

static const enum mmu_access accesses[3] = { MMU_READ, MMU_WRITE, MMU_FETCH };

TEST(paging_off_is_identity)
{
    rig();
    st.cr0 = CR0_PE;
    struct mmu_walk w;
    mmu_walk(&mmu, &st, 0x12345678, MMU_WRITE, true, true, &w);
    CHECK(w.ok);
    CHECK_EQ(w.levels, 0);
    CHECK_EQ(w.paddr, 0x12345678);
    uint32_t paddr = 0, error = 0;
    CHECK(mmu_fill(&mmu, &st, 0x5678, MMU_READ, false, &paddr, &error));
    CHECK_EQ(paddr, 0x5678);
    struct tlb_entry *e = tlb_of(0x5678, false);
    CHECK_EQ(e->tag_read, 0x5000);
    CHECK_EQ(e->tag_write, 0x5000);
    CHECK(e->addend + 0x5678 == (uintptr_t)(bus.ram + 0x5678));
    CHECK_EQ(mmu.stats.page_walks, 0);
    CHECK_EQ(mmu.stats.misses, 1);
    unrig();
}

TEST(rights_every_combination_4k)
{
    rig();
    int cases = 0;
    for (int row = 0; row < 16; row++)
        for (int pde_p = 0; pde_p < 2; pde_p++)
            for (int pte_p = 0; pte_p < 2; pte_p++)
                for (int user = 0; user < 2; user++)
                    for (int wp = 0; wp < 2; wp++)
                        for (int a = 0; a < 3; a++) {
                            enum mmu_access access = accesses[a];
                            uint32_t pde = (pde_p ? PTE_P : 0) |
                                           (rights_table[row].pde_w ? PTE_W : 0) |
                                           (rights_table[row].pde_u ? PTE_U : 0);
                            uint32_t pte = (pte_p ? PTE_P : 0) |
                                           (rights_table[row].pte_w ? PTE_W : 0) |
                                           (rights_table[row].pte_u ? PTE_U : 0);
                            map_4k(pde, pte);
                            st.cr0 = CR0_PE | CR0_PG | (wp ? CR0_WP : 0);
                            bool present = pde_p && pte_p;
                            bool allowed = present &&
                                table_allows(rights_table[row].user_read, rights_table[row].user_write,
                                             rights_table[row].sup_write_wp1, user, access, wp);

                            /* Without update: same verdict, tables untouched. */
                            struct mmu_walk w;
                            mmu_walk(&mmu, &st, LIN, access, user, false, &w);
                            CHECK_EQ(w.ok, allowed);
                            CHECK_EQ(get(PD + 4), PT | pde);
                            CHECK_EQ(get(PT), PAGE | pte);
                            CHECK_EQ(w.levels, pde_p ? 2 : 1);

                            uint32_t paddr = 0, error = 0;
                            bool ok = mmu_fill(&mmu, &st, LIN, access, user, &paddr, &error);
                            CHECK_EQ(ok, allowed);
                            if (!ok) {
                                CHECK_EQ(error, expected_error(present, false, access, user));
                                CHECK_EQ(w.fault_error, error);
                                /* A faulting access sets no A or D bit. */
                                CHECK_EQ(get(PD + 4), PT | pde);
                                CHECK_EQ(get(PT), PAGE | pte);
                                CHECK_EQ(tlb_of(LIN, user)->tag_read, TLB_INVALID);
                                cases++;
                                continue;
                            }
                            CHECK_EQ(paddr, PAGE | (LIN & 0xFFF));
                            CHECK_EQ(w.paddr, paddr);
                            CHECK_EQ(get(PD + 4), PT | pde | PTE_A);   /* no D in a PDE of a table */
                            CHECK_EQ(get(PT), PAGE | pte | PTE_A | (access == MMU_WRITE ? PTE_D : 0));
                            /* The TLB: readable; writable only if allowed and now dirty. */
                            struct tlb_entry *e = tlb_of(LIN, user);
                            bool may_write = table_allows(rights_table[row].user_read,
                                rights_table[row].user_write, rights_table[row].sup_write_wp1,
                                user, MMU_WRITE, wp);
                            CHECK_EQ(e->tag_read, LIN & PAGE_MASK);
                            CHECK_EQ(e->tag_write, may_write && access == MMU_WRITE ?
                                                   (LIN & PAGE_MASK) : TLB_INVALID);
                            CHECK_EQ(e->paddr, PAGE);
                            CHECK(e->addend + LIN == (uintptr_t)(bus.ram + PAGE + (LIN & 0xFFF)));
                            mmu_flush_all(&mmu);
                            cases++;
                        }
    CHECK_EQ(cases, 16 * 4 * 2 * 2 * 3);
    unrig();
}

TEST(rights_every_combination_4m)
{
    rig();
    st.cr4 = CR4_PSE;
    int cases = 0;
    for (int bits = 0; bits < 8; bits++)      /* P, R/W, U/S */
        for (int user = 0; user < 2; user++)
            for (int wp = 0; wp < 2; wp++)
                for (int a = 0; a < 3; a++) {
                    enum mmu_access access = accesses[a];
                    bool p = bits & 1, w = bits & 2, u = bits & 4;
                    uint32_t pde = BIG | PTE_PS | (uint32_t)bits;
                    put(PD + 3 * 4, pde);
                    st.cr0 = CR0_PE | CR0_PG | (wp ? CR0_WP : 0);
                    /* One level: its own bits are the combined rights (4.6). */
                    bool allowed = p && table_allows(u, u && w, w, user, access, wp);
                    uint32_t paddr = 0, error = 0;
                    bool ok = mmu_fill(&mmu, &st, LIN_BIG, access, user, &paddr, &error);
                    CHECK_EQ(ok, allowed);
                    struct mmu_walk walk;
                    mmu_walk(&mmu, &st, LIN_BIG, access, user, false, &walk);
                    CHECK_EQ(walk.levels, 1);
                    CHECK_EQ(walk.large, p);
                    if (!ok) {
                        CHECK_EQ(error, expected_error(p, false, access, user));
                        CHECK_EQ(get(PD + 12), pde);
                    } else {
                        CHECK_EQ(paddr, BIG | (LIN_BIG & 0x3FFFFF));
                        CHECK_EQ(get(PD + 12), pde | PTE_A | (access == MMU_WRITE ? PTE_D : 0));
                        CHECK_EQ(tlb_of(LIN_BIG, user)->paddr, (BIG | (LIN_BIG & 0x3FFFFF)) & PAGE_MASK);
                    }
                    mmu_flush_all(&mmu);
                    cases++;
                }
    CHECK_EQ(cases, 96);
    unrig();
}

TEST(ps_without_cr4_pse_is_a_page_table)
{
    rig();
    /* PS set but CR4.PSE = 0: the PDE still points at a page table. */
    put(PD + 1 * 4, PT | PTE_PS | PTE_P | PTE_W);
    put(PT, PAGE | PTE_P | PTE_W);
    struct mmu_walk w;
    mmu_walk(&mmu, &st, LIN, MMU_READ, false, true, &w);
    CHECK(w.ok);
    CHECK(!w.large);
    CHECK_EQ(w.levels, 2);
    CHECK_EQ(w.paddr, PAGE | 0x123);
    unrig();
}

TEST(reserved_bits_of_4m_pages)
{
    rig();
    st.cr4 = CR4_PSE;
    /* SDM Vol. 3A 4.3: bits 21:13 must be 0 without PSE-36. */
    for (int bit = 13; bit <= 21; bit++)
        for (int user = 0; user < 2; user++)
            for (int a = 0; a < 3; a++) {
                uint32_t pde = BIG | (1u << bit) | PTE_PS | PTE_U | PTE_W | PTE_P;
                put(PD + 12, pde);
                uint32_t paddr, error = 0;
                CHECK(!mmu_fill(&mmu, &st, LIN_BIG, accesses[a], user, &paddr, &error));
                CHECK_EQ(error, expected_error(true, true, accesses[a], user));
                CHECK_EQ(get(PD + 12), pde);   /* not used: no A bit */
            }
    /* Bit 12 is PAT, bits 11:9 are ignored: no fault. */
    put(PD + 12, BIG | 0x1E00u | PTE_PS | PTE_P);
    uint32_t paddr = 0, error = 0;
    CHECK(mmu_fill(&mmu, &st, LIN_BIG, MMU_READ, false, &paddr, &error));
    CHECK_EQ(paddr, BIG | (LIN_BIG & 0x3FFFFF));
    /* With CR4.PSE = 0 no bit is reserved (4.3): a PTE with bit 7 is fine too. */
    st.cr4 = 0;
    map_4k(PTE_P | (1u << 13), PTE_P | PTE_PS);
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_READ, false, &paddr, &error));
    st.cr4 = CR4_PSE;
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_READ, false, &paddr, &error));
    unrig();
}

TEST(accessed_and_dirty_bits)
{
    rig();
    map_4k(PTE_P | PTE_W, PTE_P | PTE_W);
    uint32_t paddr, error;
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_READ, false, &paddr, &error));
    CHECK_EQ(get(PD + 4), PT | PTE_P | PTE_W | PTE_A);
    CHECK_EQ(get(PT), PAGE | PTE_P | PTE_W | PTE_A);
    CHECK_EQ(tlb_of(LIN, false)->tag_write, TLB_INVALID);   /* D clear: first write must walk */
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_WRITE, false, &paddr, &error));
    CHECK_EQ(get(PT), PAGE | PTE_P | PTE_W | PTE_A | PTE_D);
    CHECK_EQ(get(PD + 4), PT | PTE_P | PTE_W | PTE_A);
    CHECK_EQ(tlb_of(LIN, false)->tag_write, LIN & PAGE_MASK);
    /* Once dirty, a read fill allows the fast write path too. */
    mmu_flush_all(&mmu);
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_READ, false, &paddr, &error));
    CHECK_EQ(tlb_of(LIN, false)->tag_write, LIN & PAGE_MASK);
    /* A not-present PTE: the PDE gets no A bit either. */
    map_4k(PTE_P, 0);
    CHECK(!mmu_fill(&mmu, &st, LIN, MMU_READ, false, &paddr, &error));
    CHECK_EQ(error, 0);
    CHECK_EQ(get(PD + 4), PT | PTE_P);
    /* An existing A bit is left alone (no needless write): values persist. */
    map_4k(PTE_P | PTE_A | 0xE00, PTE_P | PTE_A | PTE_D | 0xE00);
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_WRITE, false, &paddr, &error));
    CHECK_EQ(get(PD + 4), PT | PTE_P | PTE_A | 0xE00);
    CHECK_EQ(get(PT), PAGE | PTE_P | PTE_A | PTE_D | 0xE00);
    /* 4 MiB page: A and D on the PDE. */
    st.cr4 = CR4_PSE;
    put(PD + 12, BIG | PTE_PS | PTE_P | PTE_W);
    CHECK(mmu_fill(&mmu, &st, LIN_BIG, MMU_WRITE, false, &paddr, &error));
    CHECK_EQ(get(PD + 12), BIG | PTE_PS | PTE_P | PTE_W | PTE_A | PTE_D);
    unrig();
}

TEST(stale_translation_until_mov_cr3)
{
    rig();
    map_4k(PTE_P | PTE_W, PTE_P | PTE_W);
    uint32_t paddr, error;
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_WRITE, false, &paddr, &error));
    struct tlb_entry *e = tlb_of(LIN, false);
    CHECK_EQ(e->paddr, PAGE);
    /* The guest remaps without invalidating: the TLB may (and does) keep it. */
    put(PT, 0x6000 | PTE_P | PTE_W);
    CHECK_EQ(e->tag_read, LIN & PAGE_MASK);
    CHECK_EQ(e->paddr, PAGE);
    mmu_flush_nonglobal(&mmu);                   /* MOV to CR3 */
    CHECK_EQ(e->tag_read, TLB_INVALID);
    CHECK_EQ(e->tag_write, TLB_INVALID);
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_READ, false, &paddr, &error));
    CHECK_EQ(paddr, 0x6123);
    CHECK_EQ(e->paddr, 0x6000);
    unrig();
}

TEST(global_pages_survive_cr3_but_not_flush_all)
{
    rig();
    map_4k(PTE_P | PTE_W, PTE_P | PTE_W | PTE_G);
    uint32_t paddr, error;
    /* G without CR4.PGE is ignored. */
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_READ, false, &paddr, &error));
    CHECK(!tlb_of(LIN, false)->global);
    mmu_flush_nonglobal(&mmu);
    CHECK_EQ(tlb_of(LIN, false)->tag_read, TLB_INVALID);

    st.cr4 = CR4_PGE;
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_READ, false, &paddr, &error));
    CHECK(tlb_of(LIN, false)->global);
    mmu_flush_nonglobal(&mmu);
    CHECK_EQ(tlb_of(LIN, false)->tag_read, LIN & PAGE_MASK);
    mmu_flush_all(&mmu);
    CHECK_EQ(tlb_of(LIN, false)->tag_read, TLB_INVALID);

    /* The G of a PDE that points to a table means nothing. */
    map_4k(PTE_P | PTE_W | PTE_G, PTE_P | PTE_W);
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_READ, false, &paddr, &error));
    CHECK(!tlb_of(LIN, false)->global);
    /* A 4 MiB page takes G from its PDE. */
    st.cr4 = CR4_PGE | CR4_PSE;
    put(PD + 12, BIG | PTE_PS | PTE_G | PTE_P);
    CHECK(mmu_fill(&mmu, &st, LIN_BIG, MMU_READ, false, &paddr, &error));
    CHECK(tlb_of(LIN_BIG, false)->global);
    unrig();
}

TEST(invlpg_drops_one_page_in_both_halves)
{
    rig();
    st.cr4 = CR4_PGE;
    map_4k(PTE_P | PTE_W | PTE_U, PTE_P | PTE_W | PTE_U | PTE_G);
    put(PT + 4, 0x6000 | PTE_P | PTE_U);        /* LIN + 4 KiB */
    uint32_t paddr, error;
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_READ, false, &paddr, &error));
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_READ, true, &paddr, &error));
    CHECK(mmu_fill(&mmu, &st, LIN + 0x1000, MMU_READ, true, &paddr, &error));
    uint64_t flushes = mmu.stats.flushes;
    mmu_flush_page(&mmu, LIN + 0xABC);          /* any address in the page */
    CHECK_EQ(mmu.stats.flushes, flushes + 1);
    CHECK_EQ(tlb_of(LIN, false)->tag_read, TLB_INVALID);   /* global too */
    CHECK_EQ(tlb_of(LIN, true)->tag_read, TLB_INVALID);
    CHECK_EQ(tlb_of(LIN + 0x1000, true)->tag_read, (LIN + 0x1000) & PAGE_MASK);
    /* INVLPG of a page that aliases the same slot but is not cached: no harm. */
    mmu_flush_page(&mmu, LIN + 0x1000 + TLB_ENTRIES * 0x1000u);
    CHECK_EQ(tlb_of(LIN + 0x1000, true)->tag_read, (LIN + 0x1000) & PAGE_MASK);
    unrig();
}

TEST(page_fault_drops_the_stale_entry)
{
    rig();
    map_4k(PTE_P | PTE_W, PTE_P);
    uint32_t paddr, error;
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_READ, false, &paddr, &error));
    CHECK_EQ(tlb_of(LIN, false)->tag_read, LIN & PAGE_MASK);
    st.cr0 |= CR0_WP;
    CHECK(!mmu_fill(&mmu, &st, LIN, MMU_WRITE, false, &paddr, &error));
    CHECK_EQ(error, PF_P | PF_W);
    CHECK_EQ(tlb_of(LIN, false)->tag_read, TLB_INVALID);   /* SDM 4.10.4.1 */
    unrig();
}

static void flush_hook(void *opaque, uint32_t paddr)
{
    mmu_flush_paddr(opaque, paddr);
}

TEST(code_page_loses_its_fast_write_path)
{
    rig();
    CHECK_EQ(bus_add_page_flags_hook(&bus, flush_hook, &mmu), 0);
    map_4k(PTE_P | PTE_W, PTE_P | PTE_W | PTE_D);
    put(PT + 4, PAGE | PTE_P | PTE_W | PTE_D);   /* a second linear alias of PAGE */
    uint32_t paddr, error;
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_WRITE, false, &paddr, &error));
    CHECK(mmu_fill(&mmu, &st, LIN + 0x1000, MMU_WRITE, false, &paddr, &error));
    CHECK_EQ(tlb_of(LIN, false)->tag_write, LIN & PAGE_MASK);
    bus_mark_code_page(&bus, PAGE + 0x10);
    CHECK_EQ(tlb_of(LIN, false)->tag_write, TLB_INVALID);
    CHECK_EQ(tlb_of(LIN + 0x1000, false)->tag_write, TLB_INVALID);
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_WRITE, false, &paddr, &error));
    CHECK_EQ(tlb_of(LIN, false)->tag_read, LIN & PAGE_MASK);
    CHECK_EQ(tlb_of(LIN, false)->tag_write, TLB_INVALID);
    unrig();
}

static uint32_t mmio_read(void *opaque, uint32_t offset, unsigned size) { return 0; }
static void mmio_write(void *opaque, uint32_t offset, uint32_t value, unsigned size) { }
static const struct io_ops mmio_ops = { mmio_read, mmio_write };

TEST(rom_and_mmio_pages_in_the_tlb)
{
    static uint8_t rom[4096] = { 0x42 };
    rig();
    CHECK_EQ(bus_add_rom(&bus, "rom", 0xF0000, rom, sizeof rom), 0);
    CHECK_EQ(bus_add_mmio(&bus, "dev", 0xA0000, 0x1000, &mmio_ops, NULL), 0);
    put(PD + 4, PT | PTE_P | PTE_W);
    put(PT + 0, 0xF0000 | PTE_P | PTE_W | PTE_D);
    put(PT + 4, 0xA0000 | PTE_P | PTE_W | PTE_D);
    uint32_t paddr, error;
    CHECK(mmu_fill(&mmu, &st, 0x400000, MMU_WRITE, false, &paddr, &error));
    struct tlb_entry *e = tlb_of(0x400000, false);
    CHECK_EQ(e->tag_read, 0x400000);
    CHECK_EQ(e->tag_write, TLB_INVALID);        /* ROM writes go to the bus, ignored */
    CHECK_EQ(*(uint8_t *)(e->addend + 0x400000), 0x42);
    CHECK(mmu_fill(&mmu, &st, 0x401000, MMU_READ, false, &paddr, &error));
    CHECK_EQ(paddr, 0xA0000);
    e = tlb_of(0x401000, false);
    CHECK_EQ(e->tag_read, TLB_INVALID);         /* MMIO: always the slow path */
    CHECK_EQ(e->tag_write, TLB_INVALID);
    unrig();
}

TEST(tables_in_unmapped_memory_read_as_ones)
{
    rig();
    st.cr3 = 0x80000000u;                       /* no RAM there: PDEs read ~0 */
    uint32_t paddr = 0, error = 0;
    st.cr4 = CR4_PSE;                           /* all ones: PS with reserved bits */
    CHECK(!mmu_fill(&mmu, &st, LIN, MMU_READ, true, &paddr, &error));
    CHECK_EQ(error, PF_P | PF_RSVD | PF_U);
    st.cr4 = 0;                                 /* PT at 0xFFFFF000, PTE ~0: a page */
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_WRITE, true, &paddr, &error));
    CHECK_EQ(paddr, 0xFFFFF123u);
    CHECK_EQ(tlb_of(LIN, true)->tag_read, TLB_INVALID);
    unrig();
}

/* Counts writes to traced pages (a VMM's write trace on guest tables). */
static int table_writes;
static void count_table_write(void *opaque, uint32_t paddr, unsigned size)
{
    (void)opaque;
    (void)paddr;
    (void)size;
    table_writes++;
}

/*
 * A VMM walks with update = false, then sets A/D itself once it knows the
 * access happens (SDM Vol. 3A 4.8: A on every entry used, D on the one that
 * maps the page, on a write), through the bus so its write traces fire.
 */
TEST(walk_set_ad_marks_the_entries_the_walk_used)
{
    rig();
    CHECK_EQ(bus_add_trace_hook(&bus, count_table_write, NULL), 0);
    bus_set_page_flags(&bus, PD, BUS_PAGE_TRACED, 0);
    bus_set_page_flags(&bus, PT, BUS_PAGE_TRACED, 0);
    map_4k(PTE_P | PTE_W, PTE_P | PTE_W);
    struct mmu_walk walk;
    mmu_walk(&mmu, &st, LIN, MMU_WRITE, false, false, &walk);
    CHECK(walk.ok);
    CHECK_EQ(walk.levels, 2);
    CHECK_EQ(walk.level[0].entry_paddr, PD + 4);   /* the guest's PDE and PTE */
    CHECK_EQ(walk.level[1].entry_paddr, PT);
    CHECK_EQ(get(PT), PAGE | PTE_P | PTE_W);       /* update = false: untouched */
    table_writes = 0;

    mmu_walk_set_ad(&mmu, &walk, false);
    CHECK_EQ(get(PD + 4), PT | PTE_P | PTE_W | PTE_A);
    CHECK_EQ(get(PT), PAGE | PTE_P | PTE_W | PTE_A);
    CHECK_EQ(table_writes, 2);
    mmu_walk_set_ad(&mmu, &walk, true);            /* the walk saw no A: A again, and D */
    CHECK_EQ(get(PD + 4), PT | PTE_P | PTE_W | PTE_A);   /* no D on a PDE of a 4 KiB page */
    CHECK_EQ(get(PT), PAGE | PTE_P | PTE_W | PTE_A | PTE_D);
    CHECK_EQ(table_writes, 4);

    /* ORed into the entry as it is now: what changed since the walk stays. */
    put(PT, PAGE | PTE_P | PTE_U);
    mmu_walk(&mmu, &st, LIN, MMU_READ, false, false, &walk);
    put(PT, PAGE | PTE_P | PTE_U | PTE_W);
    table_writes = 0;
    mmu_walk_set_ad(&mmu, &walk, true);
    CHECK_EQ(get(PT), PAGE | PTE_P | PTE_U | PTE_W | PTE_A | PTE_D);
    CHECK_EQ(table_writes, 1);                     /* the PDE had A already */

    /* A faulting walk, or paging off, sets nothing. */
    map_4k(PTE_P, PTE_P);
    mmu_walk(&mmu, &st, LIN, MMU_WRITE, true, false, &walk);
    CHECK(!walk.ok);
    table_writes = 0;
    mmu_walk_set_ad(&mmu, &walk, true);
    CHECK_EQ(get(PT), PAGE | PTE_P);
    CHECK_EQ(table_writes, 0);
    st.cr0 = CR0_PE;
    mmu_walk(&mmu, &st, LIN, MMU_WRITE, false, false, &walk);
    mmu_walk_set_ad(&mmu, &walk, true);
    CHECK_EQ(table_writes, 0);

    /* 4 MiB page: A and D both on the PDE. */
    st.cr0 = CR0_PE | CR0_PG;
    st.cr4 = CR4_PSE;
    put(PD + 12, BIG | PTE_PS | PTE_P | PTE_W);
    mmu_walk(&mmu, &st, LIN_BIG, MMU_WRITE, false, false, &walk);
    CHECK_EQ(walk.levels, 1);
    mmu_walk_set_ad(&mmu, &walk, true);
    CHECK_EQ(get(PD + 12), BIG | PTE_PS | PTE_P | PTE_W | PTE_A | PTE_D);
    unrig();
}

/*
 * A VMM's shadow tables live in private memory: a walk with CR3 there finds
 * them only while the window is open; closed, CR3 points at nothing (reads
 * all ones, as tables_in_unmapped_memory_read_as_ones).
 */
TEST(walk_with_cr3_in_private_memory_needs_the_window_open)
{
    rig();
    uint32_t tables;
    CHECK_EQ(bus_private_alloc(&bus, 2 * PAGE_SIZE, &tables), 0);
    uint32_t spd = tables, spt = tables + PAGE_SIZE;
    uint8_t *host = bus_private_ptr(&bus, spd);
    /* PDE 1 -> the private page table, PTE 0 -> guest page PAGE. */
    uint32_t pde = spt | PTE_P | PTE_W, pte = PAGE | PTE_P | PTE_W | PTE_D;
    memcpy(host + 4, &pde, 4);                      /* little-endian host, as x86 */
    memcpy(host + PAGE_SIZE, &pte, 4);
    st.cr3 = spd;
    struct mmu_walk walk;

    mmu_walk(&mmu, &st, LIN, MMU_READ, false, false, &walk);
    CHECK_EQ(walk.paddr, 0xFFFFF123u);              /* closed: no tables there */

    bus_private_open(&bus, true);
    mmu_walk(&mmu, &st, LIN, MMU_READ, false, true, &walk);
    CHECK(walk.ok);
    CHECK_EQ(walk.paddr, PAGE | 0x123);
    CHECK_EQ(walk.level[0].entry_paddr, spd + 4);
    CHECK_EQ(walk.level[1].entry_paddr, spt);
    memcpy(&pde, host + 4, 4);
    CHECK_EQ(pde & PTE_A, PTE_A);                   /* A set in the shadow PDE */
    /* The TLB fill gives guest RAM's fast pointer, for reads and writes. */
    uint32_t paddr, error;
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_WRITE, false, &paddr, &error));
    CHECK_EQ(paddr, PAGE | 0x123);
    CHECK_EQ(tlb_of(LIN, false)->tag_write, LIN & PAGE_MASK);
    CHECK_EQ(tlb_of(LIN, false)->addend + (LIN & PAGE_MASK), (uintptr_t)(bus.ram + PAGE));

    bus_private_open(&bus, false);
    mmu_walk(&mmu, &st, LIN, MMU_READ, false, false, &walk);
    CHECK_EQ(walk.paddr, 0xFFFFF123u);
    unrig();
}

TEST(a20_applies_to_table_reads_and_tlb_pointers)
{
    rig();
    st.cr3 = 0x101000;                          /* aliases PD when A20 is off */
    map_4k(PTE_P | PTE_W, PTE_P | PTE_W);
    bus_set_a20(&bus, false);
    uint32_t paddr, error;
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_READ, false, &paddr, &error));
    CHECK_EQ(paddr, PAGE | 0x123);
    st.cr0 = CR0_PE;                            /* paging off: 0x100000 wraps to 0 */
    CHECK(mmu_fill(&mmu, &st, 0x100010, MMU_READ, false, &paddr, &error));
    CHECK(tlb_of(0x100010, false)->addend + 0x100010 == (uintptr_t)(bus.ram + 0x10));
    unrig();
}

TEST(stats_count_misses_walks_and_flushes)
{
    rig();
    map_4k(PTE_P, PTE_P);
    uint32_t paddr, error;
    CHECK(mmu_fill(&mmu, &st, LIN, MMU_READ, false, &paddr, &error));
    CHECK(!mmu_fill(&mmu, &st, LIN, MMU_READ, true, &paddr, &error));
    CHECK_EQ(mmu.stats.misses, 2);
    CHECK_EQ(mmu.stats.page_walks, 2);
    mmu_flush_all(&mmu);
    mmu_flush_nonglobal(&mmu);
    mmu_flush_page(&mmu, LIN);
    CHECK_EQ(mmu.stats.flushes, 3);
    /* The emulator's own invalidations are not the guest's flushes, but
     * they change the epoch that linear-address caches check. */
    uint64_t epoch = mmu.epoch;
    mmu_flush_paddr(&mmu, PAGE);
    mmu_invalidate_all(&mmu);
    CHECK_EQ(mmu.stats.flushes, 3);
    CHECK_EQ(mmu.epoch, epoch + 2);
    unrig();
}

TEST_MAIN()
