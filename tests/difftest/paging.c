/*
 * paging.c - the differential test's paging pass: memory operands through
 * 32-bit paging (SDM Vol. 3A 4.3), on trapeze and on Unicorn 2.0.1.
 *
 * Each case runs one instruction with CR0.PG = 1 and random tables over the
 * compared memory (difftest.h): PDE 0 either points to the page table or,
 * with CR4.PSE, maps one 4 MiB page; the PTEs of the code page and of the
 * two data pages 2 and 3 get random P, R/W, U/S, A and D bits (and ignored
 * ones: PWT, PCD, G, the available bits), PTE 4 is never present.  CPL is
 * 0 or 3, CR0.WP 0 or 1.  Every memory operand lies inside page 2 or 3,
 * straddles 2/3, or straddles 3/4.
 *
 * Unicorn maps every linear page onto itself (run_unicorn.c); trapeze gets
 * the same entries with other frames (dt_case.frame): half the 4 KiB pages
 * at random frames anywhere in its 16 MiB, a 4 MiB page at any of its four
 * 4 MiB frames.  A straddling operand then reaches two frames that are not
 * adjacent on trapeze and adjacent on Unicorn, and the memory read back
 * through the frames must still be the same.
 *
 * Compared with Unicorn: the exception vector; on completion the general
 * registers, EIP, EFLAGS, the selectors, the compared memory and PDE 0 and
 * PTEs 0-4 (A and D, SDM 4.8); on a #PF the same registers (faults are
 * precise: nothing changes, SDM Vol. 3A 6.5), the memory (a straddling
 * write that faults writes neither page), CR2 and the entries less A and
 * D, which the SDM does not fix for a walk that faults.
 *
 * Checked against the SDM rules written out below (expect()), on both
 * sides: whether a #PF happens, CR2 (4.7: the linear address that faulted;
 * for an operand whose first page translates, the start of the next page),
 * the A and D bits on completion (4.8); on trapeze alone, as Unicorn 2.0.1
 * reports no error code: the #PF error code's P, W, U and RSVD bits (4.7).
 * Where the SDM leaves the order of the checks open (a read-modify-write
 * may check its read before its write or the write alone; MOVS may check
 * its destination first), every order's outcome is accepted.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cpu/x86_state.h"
#include "mmu/mmu.h"
#include "tests/difftest/difftest.h"

enum kind { RD, WR, RMW };

/* One memory access: at gpr[reg] + adj, 'size' bytes. */
struct pg_access {
    int reg;
    int adj;
    enum kind kind;
};

static const struct pg_insn {
    const char *name;
    uint8_t code[8];
    unsigned len, size;
    unsigned nacc;
    struct pg_access acc[2];
} insns[] = {
    { "mov_r32_m",     { 0x8B, 0x03 }, 2, 4, 1, { { 3, 0, RD } } },
    { "mov_r16_m",     { 0x66, 0x8B, 0x03 }, 3, 2, 1, { { 3, 0, RD } } },
    { "mov_r8_m",      { 0x8A, 0x03 }, 2, 1, 1, { { 3, 0, RD } } },
    { "cmp_m32_r",     { 0x39, 0x03 }, 2, 4, 1, { { 3, 0, RD } } },
    { "mov_m32_r",     { 0x89, 0x03 }, 2, 4, 1, { { 3, 0, WR } } },
    { "mov_m16_r",     { 0x66, 0x89, 0x03 }, 3, 2, 1, { { 3, 0, WR } } },
    { "mov_m8_r",      { 0x88, 0x03 }, 2, 1, 1, { { 3, 0, WR } } },
    { "mov_m32_imm",   { 0xC7, 0x03, 0x78, 0x56, 0x34, 0x12 }, 6, 4, 1, { { 3, 0, WR } } },
    { "add_m32_r",     { 0x01, 0x03 }, 2, 4, 1, { { 3, 0, RMW } } },
    { "add_m16_r",     { 0x66, 0x01, 0x03 }, 3, 2, 1, { { 3, 0, RMW } } },
    { "not_m32",       { 0xF7, 0x13 }, 2, 4, 1, { { 3, 0, RMW } } },
    { "xchg_m32_r",    { 0x87, 0x03 }, 2, 4, 1, { { 3, 0, RMW } } },
    { "xadd_m32_r",    { 0x0F, 0xC1, 0x03 }, 3, 4, 1, { { 3, 0, RMW } } },
    { "cmpxchg_m32_r", { 0x0F, 0xB1, 0x0B }, 3, 4, 1, { { 3, 0, RMW } } },
    { "push_r32",      { 0x50 }, 1, 4, 1, { { 4, -4, WR } } },
    { "pop_r32",       { 0x59 }, 1, 4, 1, { { 4, 0, RD } } },
    { "movsd",         { 0xA5 }, 1, 4, 2, { { 6, 0, RD }, { 7, 0, WR } } },
    { "stosw",         { 0x66, 0xAB }, 2, 2, 1, { { 7, 0, WR } } },
};
#define NINSNS (sizeof insns / sizeof insns[0])

#define PTE_IGNORED (PTE_PWT | PTE_PCD | PTE_G | 0xE00u)   /* no effect here */
#define PDE_4M_BIT21 0x00200000u   /* reserved in a 4 MiB PDE (4.3, table 4-4) */

static bool chance(uint64_t *rng, unsigned in) { return dt_below(rng, in) == 0; }

/* ---- the SDM rules ---------------------------------------------------- */

/*
 * Translate 'lin' for one access (SDM Vol. 3A 4.3, 4.6): false with the #PF
 * error code (4.7) when it faults.  The rights combine over both levels: a
 * CPL-3 access needs U/S = 1 in both, a CPL-3 write R/W = 1 in both, a
 * supervisor write R/W = 1 in both only with CR0.WP = 1.
 */
static bool translates(const struct dt_case *c, uint32_t lin, bool write, uint32_t *error)
{
    uint32_t access = (write ? PF_W : 0) | (c->cpl == 3 ? PF_U : 0);
    uint32_t rights;
    if (!(c->pde & PTE_P)) { *error = access; return false; }
    if (c->pse && (c->pde & PTE_PS)) {
        if (c->pde & PDE_4M_BIT21) { *error = access | PF_P | PF_RSVD; return false; }
        rights = c->pde;
    } else {
        uint32_t pte = (lin >> 12) < DT_PT_ENTRIES ? c->pte[lin >> 12] : 0;
        if (!(pte & PTE_P)) { *error = access; return false; }
        rights = c->pde & pte;
    }
    bool ok = c->cpl == 3 ? (rights & PTE_U) && (!write || (rights & PTE_W))
                          : !write || !c->wp || (rights & PTE_W);
    if (!ok) *error = access | PF_P;
    return ok;
}

/* One check of the rights for 'size' bytes at 'lin': pages low to high. */
struct pg_check { uint32_t lin; unsigned size; bool write; };

struct pg_outcome { bool fault; uint32_t cr2, error; };

static struct pg_outcome run_checks(const struct dt_case *c, const struct pg_check *k, unsigned n)
{
    struct pg_outcome o = { false, 0, 0 };
    for (unsigned i = 0; i < n; i++)
        for (uint32_t page = k[i].lin >> 12; page <= (k[i].lin + k[i].size - 1) >> 12; page++) {
            uint32_t at = page == k[i].lin >> 12 ? k[i].lin : page << 12;
            if (!translates(c, at, k[i].write, &o.error)) {
                o.fault = true;
                o.cr2 = at;
                return o;
            }
        }
    return o;
}

static uint32_t access_lin(const struct dt_case *c, const struct pg_access *a)
{
    return c->in.gpr[a->reg] + (uint32_t)a->adj;
}

/*
 * The outcomes the SDM allows: the fetch of the instruction (page 1), then
 * its accesses.  A read-modify-write is checked as a read then a write, or
 * as a write alone; MOVS's two accesses in either order.  Returns how many
 * outcomes (1 or 2) it wrote to 'out'.
 */
static unsigned expect(const struct pg_insn *in, const struct dt_case *c, struct pg_outcome out[2])
{
    struct pg_check a[4], b[4];
    unsigned na = 0, nb = 0;
    a[na++] = b[nb++] = (struct pg_check){ c->in.eip, in->len, false };
    for (unsigned i = 0; i < in->nacc; i++) {
        uint32_t lin = access_lin(c, &in->acc[i]);
        switch (in->acc[i].kind) {
        case RD: a[na++] = (struct pg_check){ lin, in->size, false }; break;
        case WR: a[na++] = (struct pg_check){ lin, in->size, true }; break;
        case RMW:
            a[na++] = (struct pg_check){ lin, in->size, false };
            a[na++] = (struct pg_check){ lin, in->size, true };
            b[nb++] = (struct pg_check){ lin, in->size, true };
            break;
        }
    }
    if (in->nacc == 2) {   /* MOVS: destination first */
        b[1] = a[2];
        b[2] = a[1];
        nb = 3;
    } else if (in->acc[0].kind != RMW) {
        nb = 0;
    }
    out[0] = run_checks(c, a, na);
    if (!nb) return 1;
    out[1] = run_checks(c, b, nb);
    if (out[1].fault == out[0].fault && out[1].cr2 == out[0].cr2 && out[1].error == out[0].error)
        return 1;
    return 2;
}

/*
 * PDE 0 and PTEs 0-4 after a completed instruction (SDM 4.8): A set in
 * every entry a translation used, D in the entry that maps a written page.
 */
static void expect_entries(const struct pg_insn *in, const struct dt_case *c,
                           uint32_t *pde, uint32_t pte[DT_PT_ENTRIES])
{
    bool large = c->pse && (c->pde & PTE_PS);
    *pde = c->pde | PTE_A;
    memcpy(pte, c->pte, sizeof c->pte);
    struct pg_check k[3];
    unsigned n = 0;
    k[n++] = (struct pg_check){ c->in.eip, in->len, false };
    for (unsigned i = 0; i < in->nacc; i++)
        k[n++] = (struct pg_check){ access_lin(c, &in->acc[i]), in->size, in->acc[i].kind != RD };
    for (unsigned i = 0; i < n; i++)
        for (uint32_t page = k[i].lin >> 12; page <= (k[i].lin + k[i].size - 1) >> 12; page++) {
            uint32_t set = PTE_A | (k[i].write ? PTE_D : 0);
            if (large) *pde |= set;
            else pte[page] |= set;
        }
}

/* ---- cases ------------------------------------------------------------ */

/* Where an operand of 'size' bytes starts: inside page 2 or 3, or
 * straddling 2/3 or 3/4. */
static uint32_t operand_address(unsigned size, uint64_t *rng)
{
    uint32_t back = size > 1 ? 1 + dt_below(rng, size - 1) : 1;
    switch (dt_below(rng, 8)) {
    case 0: case 1: return 0x2000 + dt_below(rng, 0x1000 - size + 1);
    case 2: case 3: return 0x3000 + dt_below(rng, 0x1000 - size + 1);
    case 4: case 5: case 6: return 0x3000 - back;
    default: return 0x4000 - back;
    }
}

static uint32_t random_pte(uint64_t *rng, uint32_t frame)
{
    uint32_t e = frame | (dt_rand32(rng) & PTE_IGNORED);
    if (!chance(rng, 8)) e |= PTE_P;
    if (chance(rng, 2)) e |= PTE_W;
    if (!chance(rng, 4)) e |= PTE_U;
    if (chance(rng, 2)) e |= PTE_A;
    if (chance(rng, 2)) e |= PTE_D;
    return e;
}

static void make_tables(struct dt_case *c, uint64_t *rng)
{
    c->cpl = chance(rng, 2) ? 3 : 0;
    c->wp = chance(rng, 2);
    uint32_t pde = dt_rand32(rng) & (PTE_PWT | PTE_PCD | 0xE00u);
    if (!chance(rng, 16)) pde |= PTE_P;
    if (!chance(rng, 4)) pde |= PTE_W;
    if (!chance(rng, 8)) pde |= PTE_U;
    if (chance(rng, 2)) pde |= PTE_A;
    bool ps = chance(rng, 4);
    c->pse = ps ? !chance(rng, 4) : chance(rng, 2);
    if (ps) pde |= PTE_PS;
    if (ps && c->pse) {
        /* A 4 MiB page at linear 0: frame 0 on Unicorn, one of the four
         * 4 MiB frames of trapeze's 16 MiB.  Bits 20:13 stay 0 (their
         * meaning depends on PSE-36); bit 21 is reserved in both. */
        if (chance(rng, 2)) pde |= PTE_D;
        if (chance(rng, 2)) pde |= PTE_G;
        if (chance(rng, 16)) pde |= PDE_4M_BIT21;
        uint32_t big = dt_below(rng, 4) << 22;
        for (unsigned k = 0; k < DT_PAGES; k++) c->frame[k] = big + (k << 12);
    } else {
        /* Half the pages at a random frame of 0x20000-0xFFFFFF (clear of
         * the tables at 0x10000-0x12FFF), distinct from each other. */
        pde |= DT_PT_ADDR;
        for (unsigned k = 0; k < DT_PAGES; k++) {
            c->frame[k] = k << 12;
            while (chance(rng, 2) && c->frame[k] == k << 12) {
                uint32_t f = (0x20 + dt_below(rng, 0x1000 - 0x20)) << 12;
                bool used = false;
                for (unsigned j = 0; j < k; j++) used = used || c->frame[j] == f;
                if (!used) c->frame[k] = f;
            }
        }
    }
    c->pde = pde;
    c->pte[0] = 0x0000 | PTE_P | PTE_W | PTE_U | PTE_A;   /* the GDT: not touched */
    c->pte[1] = 0x1000 | PTE_P | PTE_U | (dt_rand32(rng) & (PTE_W | PTE_A | PTE_IGNORED));
    if (chance(rng, 16)) c->pte[1] = random_pte(rng, 0x1000);   /* the fetch may fault */
    c->pte[2] = random_pte(rng, 0x2000);
    c->pte[3] = random_pte(rng, 0x3000);
    c->pte[4] = 0;
}

static void make_case(struct dt_case *c, const struct pg_insn *in, uint64_t *rng)
{
    memset(c, 0, sizeof *c);
    c->op = 0;
    memcpy(c->code, in->code, in->len);
    c->len = in->len;
    c->os32 = c->as32 = true;
    c->osize = in->size;
    c->has_mem = true;
    for (unsigned k = 0; k < DT_MEM_SIZE; k += 4) {
        uint32_t v = dt_rand32(rng);
        memcpy(&c->mem[k], &v, 4);
    }
    memcpy(c->mem + DT_GDT_ADDR, dt_gdt, sizeof dt_gdt);
    memset(c->mem + DT_CODE_ADDR, 0xF4, DT_DATA_ADDR - DT_CODE_ADDR);
    memcpy(c->mem + DT_CODE_ADDR, in->code, in->len);
    for (int r = 0; r < 8; r++) c->in.gpr[r] = dt_rand32(rng);
    c->in.gpr[4] = DT_DATA_ADDR + 0x800;   /* ESP when it is not an operand */
    for (unsigned i = 0; i < in->nacc; i++)
        c->in.gpr[in->acc[i].reg] = operand_address(in->size, rng) - (uint32_t)in->acc[i].adj;
    c->ea = access_lin(c, &in->acc[in->nacc - 1]);
    if (in->code[1] == 0xB1 && c->ea + 4 <= DT_MEM_SIZE && chance(rng, 2))
        memcpy(&c->in.gpr[0], &c->mem[c->ea], 4);   /* CMPXCHG: equal half the time */
    c->in.eip = DT_CODE_ADDR;
    c->in.eflags = 0x2 | (dt_rand32(rng) & (EFLAGS_ARITH | EFLAGS_DF));
    make_tables(c, rng);
    for (int s = 0; s < DT_NSEG; s++)
        c->in.sel[s] = c->cpl == 3 ? (s == SEG_CS ? DT_SEL_CODE3 : DT_SEL_DATA3) | 3
                                   : (s == SEG_CS ? DT_SEL_CODE : DT_SEL_DATA);
    c->paging = true;
}

/* ---- comparing -------------------------------------------------------- */

#define WHY(...) (n += (size_t)snprintf(why + n, n < size ? size - n : 0, __VA_ARGS__))

static bool among(const struct pg_outcome *o, unsigned no, uint32_t cr2)
{
    for (unsigned k = 0; k < no; k++) if (o[k].fault && o[k].cr2 == cr2) return true;
    return false;
}

/* What differs, into 'why' (empty when nothing does). */
static void compare(const struct pg_insn *in, const struct dt_case *c, const struct dt_result *ref,
                    const struct dt_result *got, char *why, size_t size)
{
    size_t n = 0;
    why[0] = 0;
    struct pg_outcome o[2];
    unsigned no = expect(in, c, o);
    bool faults = o[0].fault;   /* every order agrees on whether it faults */

    if (ref->unclassified) { WHY(" Unicorn: %s;", dt_unicorn_error(ref->unclassified)); return; }
    if (got->unclassified) { WHY(" trapeze neither completed nor faulted;"); return; }
    if (ref->vector != got->vector) WHY(" vector: Unicorn %d, trapeze %d;", ref->vector, got->vector);
    if (faults != (ref->vector == 14)) WHY(" SDM: %s #PF, Unicorn %d;", faults ? "a" : "no", ref->vector);
    if (faults != (got->vector == 14)) WHY(" SDM: %s #PF, trapeze %d;", faults ? "a" : "no", got->vector);
    if (ref->vector >= 0 && ref->vector != 14) return;   /* not a paging outcome */

    for (int r = 0; r < 8; r++)
        if (ref->out.gpr[r] != got->out.gpr[r]) WHY(" gpr%d;", r);
    if (ref->out.eip != got->out.eip) WHY(" eip;");
    if (ref->out.eflags != got->out.eflags) WHY(" eflags %08x/%08x;", ref->out.eflags, got->out.eflags);
    for (int s = 0; s < DT_NSEG; s++)
        if (ref->out.sel[s] != got->out.sel[s]) WHY(" sel%d;", s);
    for (uint32_t a = 0, shown = 0; a < DT_MEM_SIZE; a++)
        if (ref->mem[a] != got->mem[a] && shown++ < 4)
            WHY(" [%04" PRIx32 "] in %02x Unicorn %02x trapeze %02x;", a, c->mem[a], ref->mem[a], got->mem[a]);

    /* The entries: flag bits only (the frames differ by design). */
    uint32_t mask = 0xFFFu & (got->vector == 14 ? ~(PTE_A | PTE_D) : ~0u);
    uint32_t want_pde, want_pte[DT_PT_ENTRIES];
    expect_entries(in, c, &want_pde, want_pte);
    if ((ref->pde ^ got->pde) & mask) WHY(" PDE: Unicorn %03x, trapeze %03x;", ref->pde & 0xFFF, got->pde & 0xFFF);
    if (got->vector < 0 && ((want_pde ^ got->pde) & 0xFFF)) WHY(" PDE: SDM 4.8 %03x;", want_pde & 0xFFF);
    for (unsigned k = 0; k < DT_PT_ENTRIES; k++) {
        if ((ref->pte[k] ^ got->pte[k]) & mask)
            WHY(" PTE %u: Unicorn %03x, trapeze %03x;", k, ref->pte[k] & 0xFFF, got->pte[k] & 0xFFF);
        if (got->vector < 0 && ((want_pte[k] ^ got->pte[k]) & 0xFFF))
            WHY(" PTE %u: SDM 4.8 %03x;", k, want_pte[k] & 0xFFF);
    }

    if (got->vector != 14 || ref->vector != 14 || !faults) return;
    /* CR2 and the error code (4.7).  With one allowed outcome the two CR2
     * must be equal; with two, each side's must be one of them. */
    if (no == 1 && ref->cr2 != got->cr2) WHY(" CR2: Unicorn %08x, trapeze %08x;", ref->cr2, got->cr2);
    if (!among(o, no, ref->cr2)) WHY(" CR2: Unicorn %08x, SDM %08x;", ref->cr2, o[0].cr2);
    if (!among(o, no, got->cr2)) WHY(" CR2: trapeze %08x, SDM %08x;", got->cr2, o[0].cr2);
    bool error_ok = false;
    for (unsigned k = 0; k < no; k++)
        error_ok = error_ok || (got->has_error && o[k].cr2 == got->cr2 && o[k].error == got->error);
    if (!error_ok)
        WHY(" error code: trapeze %s%02x, SDM 4.7 %02x%s;", got->has_error ? "" : "none ",
            got->error, o[0].error, no > 1 ? " (or the other order's)" : "");
}
#undef WHY

static void print_case(const struct pg_insn *in, const struct dt_case *c, const struct dt_result *ref,
                       const struct dt_result *got, const char *why)
{
    printf("  paging %s: bytes", in->name);
    for (unsigned k = 0; k < c->len; k++) printf(" %02x", c->code[k]);
    printf("  CPL %u, CR0.WP %d, CR4.PSE %d\n", c->cpl, c->wp, c->pse);
    printf("  PDE0 %08" PRIx32 ", PTE0-4", c->pde);
    for (unsigned k = 0; k < DT_PT_ENTRIES; k++) printf(" %08" PRIx32, c->pte[k]);
    printf("; trapeze frames");
    for (unsigned k = 0; k < DT_PAGES; k++) printf(" %" PRIx32, c->frame[k]);
    printf("\n  in: eax=%08" PRIx32 " ecx=%08" PRIx32 " ebx=%08" PRIx32 " esp=%08" PRIx32
           " esi=%08" PRIx32 " edi=%08" PRIx32 " eflags=%08" PRIx32 "\n",
           c->in.gpr[0], c->in.gpr[1], c->in.gpr[3], c->in.gpr[4], c->in.gpr[6], c->in.gpr[7], c->in.eflags);
    printf("  Unicorn: vector %d, CR2 %08" PRIx32 "; trapeze: vector %d, CR2 %08" PRIx32 ", error code %s%02" PRIx32 "\n",
           ref->vector, ref->cr2, got->vector, got->cr2, got->has_error ? "" : "none ", got->error);
    printf("  differs:%s\n", why);
}

static bool wanted(const char *only, const char *name)
{
    char full[64];
    snprintf(full, sizeof full, "difftest_paging_%s", name);
    return !only || strcmp(only, "paging") == 0 || strcmp(only, name) == 0 || strcmp(only, full) == 0;
}

int dt_paging_tests(uint64_t seed, unsigned ncases, const char *only, int *run)
{
    static struct dt_case c;
    static struct dt_result ref, got;
    char why[1024];
    int failed = 0;
    for (size_t i = 0; i < NINSNS; i++) {
        const struct pg_insn *in = &insns[i];
        if (!wanted(only, in->name)) continue;
        (*run)++;
        uint64_t rng = seed ^ 0x706167696E67ull ^ ((uint64_t)(i + 1) * 0x9E3779B97F4A7C15ull);
        unsigned faults = 0, differ = 0, cpl3 = 0, straddles = 0, large = 0, moved = 0;
        for (unsigned k = 0; k < ncases; k++) {
            make_case(&c, in, &rng);
            if (dt_trace) {
                printf("  paging %s case %u: ea %04" PRIx32 " PDE %08" PRIx32 "\n", in->name, k, c.ea, c.pde);
                fflush(stdout);
            }
            dt_unicorn_run(&c, &ref);
            dt_trapeze_run(&c, &got);
            compare(in, &c, &ref, &got, why, sizeof why);
            if (why[0]) {
                if (differ++ < 2) print_case(in, &c, &ref, &got, why);
                continue;
            }
            faults += ref.vector == 14;
            cpl3 += c.cpl == 3;
            straddles += (c.ea & 0xFFF) + in->size > 0x1000;
            large += c.pse && (c.pde & PTE_PS);
            moved += c.frame[2] + 0x1000 != c.frame[3];
        }
        if (differ) {
            printf("FAIL difftest_paging_%s: %u of %u cases differ (the first shown above)\n",
                   in->name, differ, ncases);
            failed++;
        } else {
            printf("PASS difftest_paging_%s (%u cases, %u page faults, %u at CPL 3, %u straddling, "
                   "%u 4 MiB pages, %u with pages 2/3 in non-adjacent frames)\n",
                   in->name, ncases, faults, cpl3, straddles, large, moved);
        }
        fflush(stdout);
    }
    return failed;
}
