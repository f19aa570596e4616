/*
 * flags.c - lazy arithmetic flags.
 *
 * Most instructions set the six arithmetic flags and the next one that
 * sets them overwrites them unread.  So an instruction records only what it
 * did (struct lazy_flags: operation, size, result and operands) and the
 * flags are computed when somebody asks (Jcc, PUSHF, an interrupt...).
 *
 * Operations (lf.op), all results and operands masked to lf.size bytes:
 *   LF_ADD  res = src1 + src2          LF_ADC  res = src1 + src2 + 1
 *   LF_SUB  res = src1 - src2          LF_SBB  res = src1 - src2 - 1
 *   LF_LOGIC res from AND/OR/XOR/TEST: CF = OF = 0 (AF undefined: 0)
 *   LF_INC/LF_DEC res = src1 +/- 1: CF is not affected, so it was put into
 *          s.eflags before the lazy record was made (flags_set_incdec).
 *   LF_SHL/LF_SHR/LF_SAR  res = src1 shifted by src2 (a masked count, 1-31):
 *          CF is the last bit shifted out; OF (defined for count 1) is
 *          MSB(res) ^ CF for SHL, the sign change of the last one-bit step
 *          for SHR, 0 for SAR; AF (undefined) is 0 (SDM Vol. 2B SAL/SAR/SHL/SHR).
 * ADC/SBB with a carry-in of 0 are recorded as ADD/SUB: the carry-in is
 * then implied by the operation, no extra field needed.
 *
 * Flag definitions: SDM Vol. 1 3.4.3.1 and appendix A; AF is the carry out
 * of bit 3, which is bit 4 of (src1 ^ src2 ^ res) for both add and subtract.
 */
#include "cpu/cpu_internal.h"

/* The value before the last one-bit step of a right shift. */
static uint32_t shr_before_last(const struct lazy_flags *lf)
{
    return lf->src1 >> (lf->src2 - 1);
}

static uint32_t sar_before_last(const struct lazy_flags *lf)
{
    uint32_t sign = sign_bit(lf->size);
    uint32_t sx = (lf->src1 ^ sign) - sign;            /* sign-extend to 32 bits */
    uint32_t n = lf->src2 - 1;
    return (sx & 0x80000000u) ? ~(~sx >> n) : sx >> n;
}

static uint32_t lazy_cf(const struct lazy_flags *lf)
{
    switch (lf->op) {
    case LF_SHL: return (uint32_t)(((uint64_t)lf->src1 << lf->src2) >> (lf->size * 8)) & 1;
    case LF_SHR: return shr_before_last(lf) & 1;
    case LF_SAR: return sar_before_last(lf) & 1;
    case LF_ADD: return lf->res < lf->src1;
    case LF_ADC: return lf->res <= lf->src1;
    case LF_SUB: return lf->src1 < lf->src2;
    case LF_SBB: return lf->src1 <= lf->src2;
    default: return 0; /* LF_LOGIC */
    }
}

static uint32_t lazy_of(const struct lazy_flags *lf)
{
    uint32_t sign = sign_bit(lf->size);
    switch (lf->op) {
    case LF_ADD: case LF_ADC: case LF_INC:
        return ((lf->src1 ^ lf->res) & (lf->src2 ^ lf->res) & sign) != 0;
    case LF_SUB: case LF_SBB: case LF_DEC:
        return ((lf->src1 ^ lf->src2) & (lf->src1 ^ lf->res) & sign) != 0;
    case LF_SHL:
        return ((lf->res & sign) != 0) ^ lazy_cf(lf);
    case LF_SHR:
        return ((shr_before_last(lf) ^ lf->res) & sign) != 0;
    default:
        return 0;
    }
}

/* Compute the arithmetic flags of the lazy record (CF for INC/DEC excluded). */
static uint32_t lazy_arith(const struct lazy_flags *lf)
{
    uint32_t f = 0;
    if (lf->op != LF_INC && lf->op != LF_DEC && lazy_cf(lf)) f |= EFLAGS_CF;
    if (parity8(lf->res)) f |= EFLAGS_PF;
    bool af_defined = lf->op != LF_LOGIC && lf->op < LF_SHL;   /* add/sub/inc/dec */
    if (af_defined && ((lf->src1 ^ lf->src2 ^ lf->res) & 0x10)) f |= EFLAGS_AF;
    if (lf->res == 0) f |= EFLAGS_ZF;
    if (lf->res & sign_bit(lf->size)) f |= EFLAGS_SF;
    if (lazy_of(lf)) f |= EFLAGS_OF;
    return f;
}

void flags_materialize(struct cpu *cpu)
{
    struct lazy_flags *lf = &cpu->lf;
    if (lf->op == LF_NONE) return;
    uint32_t keep = cpu->s.eflags & ~EFLAGS_ARITH;
    if (lf->op == LF_INC || lf->op == LF_DEC) keep |= cpu->s.eflags & EFLAGS_CF;
    cpu->s.eflags = keep | lazy_arith(lf);
    lf->op = LF_NONE;
}

uint32_t cpu_get_eflags(struct cpu *cpu)
{
    flags_materialize(cpu);
    return cpu->s.eflags;
}

bool cpu_cf(struct cpu *cpu)
{
    switch (cpu->lf.op) {
    case LF_NONE: case LF_INC: case LF_DEC: return (cpu->s.eflags & EFLAGS_CF) != 0;
    default: return lazy_cf(&cpu->lf) != 0;
    }
}

bool cpu_zf(struct cpu *cpu)
{
    if (cpu->lf.op == LF_NONE) return (cpu->s.eflags & EFLAGS_ZF) != 0;
    return cpu->lf.res == 0;
}

/* SF, computed without materialising everything. */
static bool cpu_sf(struct cpu *cpu)
{
    if (cpu->lf.op == LF_NONE) return (cpu->s.eflags & EFLAGS_SF) != 0;
    return (cpu->lf.res & sign_bit(cpu->lf.size)) != 0;
}

static bool cpu_of(struct cpu *cpu)
{
    if (cpu->lf.op == LF_NONE) return (cpu->s.eflags & EFLAGS_OF) != 0;
    return lazy_of(&cpu->lf) != 0;
}

bool cpu_cond(struct cpu *cpu, unsigned cc)
{
    bool r;
    /* Fast paths for the common compare-and-branch after SUB/CMP. */
    if (cpu->lf.op == LF_SUB) {
        uint32_t a = cpu->lf.src1, b = cpu->lf.src2;
        switch (cc >> 1) {
        case 1: r = a < b; goto done;             /* B / AE */
        case 2: r = a == b; goto done;            /* E / NE */
        case 3: r = a <= b; goto done;            /* BE / A */
        default: break;
        }
    }
    switch (cc >> 1) {
    case 0: r = cpu_of(cpu); break;                           /* O */
    case 1: r = cpu_cf(cpu); break;                           /* B */
    case 2: r = cpu_zf(cpu); break;                           /* E */
    case 3: r = cpu_cf(cpu) || cpu_zf(cpu); break;            /* BE */
    case 4: r = cpu_sf(cpu); break;                           /* S */
    case 5: r = (cpu_get_eflags(cpu) & EFLAGS_PF) != 0; break; /* P */
    case 6: r = cpu_sf(cpu) != cpu_of(cpu); break;            /* L */
    default: r = cpu_zf(cpu) || (cpu_sf(cpu) != cpu_of(cpu)); break; /* LE */
    }
done:
    return (cc & 1) ? !r : r;
}

void flags_set_arith(struct cpu *cpu, uint32_t flags, uint32_t mask)
{
    mask &= EFLAGS_ARITH;
    /* Setting all six needs none of the old ones (MUL, IMUL): skip computing them. */
    if (mask == EFLAGS_ARITH) cpu->lf.op = LF_NONE;
    else flags_materialize(cpu);
    cpu->s.eflags = (cpu->s.eflags & ~mask) | (flags & mask);
}

void flags_fold_cf(struct cpu *cpu)
{
    bool cf = cpu_cf(cpu);
    cpu->s.eflags = (cpu->s.eflags & ~EFLAGS_CF) | (cf ? EFLAGS_CF : 0);
}
