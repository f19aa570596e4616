/*
 * paging.c - the differential test's paging pass: memory operands through
 * 32-bit paging (SDM Vol. 3A 4.3), on trapeze and on Unicorn.
 *
 * Each case runs one instruction with CR0.PG = 1 and a page table (see
 * difftest.h) that maps linear pages 0-3 onto the same frames, with pages 2
 * and 3 (the data area) present or not, writable or not, their A and D bits
 * set or clear, and CR0.WP = 0 or 1.  The memory operand lies inside page 2,
 * inside page 3, or straddles the 2/3 boundary; linear page 4 is never
 * present, so an operand straddling 3/4 faults.  Compared: registers, the
 * compared memory (a faulting straddling write must leave both pages
 * untouched), the exception vector, CR2 on a #PF (the first faulting byte's
 * address: the page boundary for a straddle whose second page faults), and
 * the page-table entries afterwards (A set by any access, D by a write;
 * SDM 4.8) when nothing faulted.
 *
 * Unicorn 2.0.1 gives no #PF error code, so trapeze's is checked against
 * the SDM 4.7 rule written out in expected_error() instead.  Unicorn 2.0.1
 * also applies the tables only to decide faults: its loads and stores then
 * use the linear address as the physical one (tests/README.md), so every
 * mapping here is the identity and frames that are not adjacent cannot be
 * compared against it (tests/unit/test_paging.c covers them).
 */
#include <stdio.h>
#include <string.h>

#include "cpu/x86_state.h"
#include "mmu/mmu.h"
#include "tests/difftest/difftest.h"

enum kind { RD, WR, RMW };

/* The instructions: a memory operand at [EBX] (or the stack at ESP). */
static const struct pg_insn {
    const char *name;
    uint8_t code[4];
    unsigned len, size;
    enum kind kind;
    bool stack;          /* the operand is the stack: ESP = ea + size */
} insns[] = {
    { "mov_eax_mem32", { 0x8B, 0x03 }, 2, 4, RD, false },
    { "mov_ax_mem16",  { 0x66, 0x8B, 0x03 }, 3, 2, RD, false },
    { "mov_mem32_eax", { 0x89, 0x03 }, 2, 4, WR, false },
    { "mov_mem16_ax",  { 0x66, 0x89, 0x03 }, 3, 2, WR, false },
    { "add_mem32_eax", { 0x01, 0x03 }, 2, 4, RMW, false },
    { "xadd_mem32_eax", { 0x0F, 0xC1, 0x03 }, 3, 4, RMW, false },
    { "cmpxchg_mem32", { 0x0F, 0xB1, 0x0B }, 3, 4, RMW, false },
    { "push_eax",      { 0x50 }, 1, 4, WR, true },
};

/* Where the operand starts: inside page 2, straddling 2/3 at each offset,
 * inside page 3, straddling 3/4 (page 4 is never present). */
static const uint32_t eas[] = { 0x2010, 0x2FFD, 0x2FFE, 0x2FFF, 0x3004, 0x3FFE };

/* Page 2 and 3 entries (frames = identity), and CR0.WP. */
static const struct pg_map {
    uint32_t pte2, pte3;
    bool wp;
} maps[] = {
    { PTE_P | PTE_W, PTE_P | PTE_W, true },
    { PTE_P | PTE_W, 0, true },                           /* page 3 not present */
    { 0, PTE_P | PTE_W, true },                           /* page 2 not present */
    { PTE_P | PTE_W, PTE_P, true },                       /* page 3 read-only, WP = 1 */
    { PTE_P, PTE_P | PTE_W, false },                      /* page 2 read-only, WP = 0 */
    { PTE_P | PTE_W | PTE_A | PTE_D, PTE_P | PTE_W | PTE_A, true },
};

/*
 * The #PF error code the SDM gives (Vol. 3A 4.7): P = 1 when the page was
 * present (a protection violation), W = 1 for a write, U = 0 (CPL 0).  The
 * faulting page is the first byte's page if it faults, else the next.  A
 * read-modify-write is checked as a write, as trapeze does it; the SDM does
 * not say, so W is not compared for RMW forms (*mask).
 */
static bool expected_error(const struct pg_insn *in, uint32_t ea, const struct dt_case *c,
                           uint32_t *error, uint32_t *cr2, uint32_t *mask)
{
    bool write = in->kind != RD;
    uint32_t last = ea + in->size - 1;
    for (uint32_t page = ea >> 12; page <= last >> 12; page++) {
        uint32_t pte = page < DT_PT_ENTRIES ? c->pte[page] : 0;
        bool fault = !(pte & PTE_P) || (write && !(pte & PTE_W) && c->wp);
        if (!fault) continue;
        *error = ((pte & PTE_P) ? PF_P : 0) | (write ? PF_W : 0);
        *cr2 = page == ea >> 12 ? ea : page << 12;
        *mask = in->kind == RMW ? ~PF_W : ~0u;
        return true;
    }
    return false;
}

static void make_case(struct dt_case *c, const struct pg_insn *in, uint32_t ea,
                      const struct pg_map *m, uint64_t *rng)
{
    memset(c, 0, sizeof *c);
    c->op = 0;
    memcpy(c->code, in->code, in->len);
    c->len = in->len;
    c->os32 = c->as32 = true;
    c->osize = in->size;
    c->has_mem = true;
    c->ea = ea;
    for (unsigned k = 0; k < DT_MEM_SIZE; k += 4) {
        uint32_t v = dt_rand32(rng);
        memcpy(&c->mem[k], &v, 4);
    }
    memcpy(c->mem + DT_GDT_ADDR, dt_gdt, sizeof dt_gdt);
    memset(c->mem + DT_CODE_ADDR, 0xF4, DT_DATA_ADDR - DT_CODE_ADDR);
    memcpy(c->mem + DT_CODE_ADDR, in->code, in->len);
    for (int r = 0; r < 8; r++) c->in.gpr[r] = dt_rand32(rng);
    c->in.gpr[3] = ea;                              /* EBX */
    c->in.gpr[4] = in->stack ? ea + in->size : 0x0F00;   /* ESP: page 0 */
    if (in->code[1] == 0xB1 && ea + 4 <= DT_MEM_SIZE && (dt_rand(rng) & 1)) {
        uint32_t old;                               /* CMPXCHG: equal half the time */
        memcpy(&old, &c->mem[ea], 4);
        c->in.gpr[0] = old;
    }
    c->in.eip = DT_CODE_ADDR;
    c->in.eflags = 0x2 | (dt_rand32(rng) & 0x8D5);
    c->in.sel[SEG_CS] = DT_SEL_CODE;
    for (int s = 0; s < DT_NSEG; s++) if (s != SEG_CS) c->in.sel[s] = DT_SEL_DATA;
    c->paging = true;
    c->wp = m->wp;
    c->pte[0] = 0x0000 | PTE_P | PTE_W;
    c->pte[1] = 0x1000 | PTE_P | PTE_W;
    c->pte[2] = m->pte2 ? 0x2000 | m->pte2 : 0;
    c->pte[3] = m->pte3 ? 0x3000 | m->pte3 : 0;
    c->pte[4] = 0;
}

/* Compare one case; on a difference print it and return false. */
static bool compare(const struct pg_insn *in, const struct dt_case *c,
                    const struct dt_result *ref, const struct dt_result *got)
{
    char why[512] = "";
    size_t n = 0;
#define WHY(...) (n += (size_t)snprintf(why + n, n < sizeof why ? sizeof why - n : 0, __VA_ARGS__))
    uint32_t error = 0, cr2 = 0, mask = 0;
    bool faults = expected_error(in, c->ea, c, &error, &cr2, &mask);
    if (got->unclassified) WHY(" trapeze neither completed nor faulted;");
    if (ref->vector != got->vector)
        WHY(" vector: Unicorn %d, trapeze %d;", ref->vector, got->vector);
    else if (got->vector == 14) {
        if (ref->cr2 != got->cr2) WHY(" CR2: Unicorn %08x, trapeze %08x;", ref->cr2, got->cr2);
        if (!faults || cr2 != got->cr2) WHY(" CR2: SDM %08x;", cr2);
        if (!got->has_error || ((got->error ^ error) & mask))
            WHY(" error code: trapeze %02x, SDM 4.7 %02x;", got->error, error);
    } else if (got->vector < 0) {
        for (int r = 0; r < 8; r++)
            if (ref->out.gpr[r] != got->out.gpr[r]) WHY(" gpr%d;", r);
        if (ref->out.eip != got->out.eip) WHY(" eip;");
        if ((ref->out.eflags ^ got->out.eflags) & 0x8D5) WHY(" eflags;");
        for (unsigned k = 0; k < DT_PT_ENTRIES; k++)
            if (ref->pte[k] != got->pte[k])
                WHY(" PTE %u: Unicorn %08x, trapeze %08x;", k, ref->pte[k], got->pte[k]);
    }
    if (memcmp(ref->mem, got->mem, DT_MEM_SIZE) != 0) WHY(" memory;");
    if (faults != (ref->vector == 14)) WHY(" SDM says #PF %s;", faults ? "yes" : "no");
#undef WHY
    if (!why[0]) return true;
    printf("  paging %s ea=%04x pte2=%08x pte3=%08x wp=%d:%s\n", in->name, c->ea,
           c->pte[2], c->pte[3], c->wp, why);
    return false;
}

int dt_paging_tests(uint64_t seed)
{
    static struct dt_case c;
    static struct dt_result ref, got;
    uint64_t rng = seed ^ 0x706167696E67ull;   /* "paging" */
    int failed = 0;
    for (size_t i = 0; i < sizeof insns / sizeof insns[0]; i++) {
        unsigned cases = 0, faults = 0, differ = 0;
        for (int round = 0; round < 4; round++)
            for (size_t e = 0; e < sizeof eas / sizeof eas[0]; e++)
                for (size_t m = 0; m < sizeof maps / sizeof maps[0]; m++) {
                    make_case(&c, &insns[i], eas[e], &maps[m], &rng);
                    dt_unicorn_run(&c, &ref);
                    dt_trapeze_run(&c, &got);
                    cases++;
                    if (ref.vector == 14) faults++;
                    if (!compare(&insns[i], &c, &ref, &got) && ++differ > 4) goto done;
                }
    done:
        if (differ) {
            printf("FAIL difftest_paging_%s: %u of %u cases differ\n", insns[i].name, differ, cases);
            failed++;
        } else {
            printf("PASS difftest_paging_%s (%u cases, %u page faults)\n", insns[i].name, cases, faults);
        }
    }
    fflush(stdout);
    return failed;
}
