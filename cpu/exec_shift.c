/*
 * exec_shift.c - shifts and rotates: group 2 (C0 C1 D0-D3) and SHLD/SHRD.
 *
 * Group 2 takes its operation from ModRM.reg (SDM Vol. 2D table A-6):
 *
 *   0 ROL   1 ROR   2 RCL   3 RCR   4 SHL   5 SHR   6 SAL (= SHL)   7 SAR
 *
 * The rules, from the "Operation" sections of SDM Vol. 2B SAL/SAR/SHL/SHR
 * and RCL/RCR/ROL/ROR, which this file follows:
 *   - the count is masked to 5 bits (the 80286 and later do this; the
 *     8086 did not);
 *   - a masked count of 0 is a no-op: no flag changes, no write; a memory
 *     operand is still checked for writing, as the access happens;
 *   - ROL/ROR rotate modulo the operand width, but CF (and OF) are still
 *     updated when the masked count is a nonzero multiple of the width;
 *   - RCL/RCR rotate through CF, so 8- and 16-bit operands rotate modulo
 *     9 and 17; a count that is a multiple of 9 (or 17) changes nothing;
 *   - OF is defined only for a count of 1.  For other counts we apply the
 *     count-1 formula to the final values (the differential test masks it);
 *   - shifts set SF ZF PF from the result; their AF is undefined: we clear it.
 *
 * Worked example: C0 D0 09 is RCL AL, 9.  With AL = 0x81 and CF = 1 the
 * 9-bit quantity CF:AL is rotated 9 mod 9 = 0 places, so AL and CF stay,
 * although a plain ROL AL, 9 would have rotated one place.
 *
 * Flags are computed eagerly and stored with flags_set_arith, which takes
 * only the bits the instruction defines.
 */
#include "cpu/cpu_internal.h"

enum shift_op { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAL, SH_SAR };

/* Result and flags of one shift, applied by the caller after the write. */
struct shift_result {
    uint32_t value;
    uint32_t flags;   /* EFLAGS bits */
    uint32_t mask;    /* which arithmetic flags the instruction sets */
};

/* SF, ZF, PF of a result, as every shift (not rotate) sets them. */
static uint32_t szp_flags(uint32_t r, unsigned size)
{
    uint32_t f = 0;
    if (r == 0) f |= EFLAGS_ZF;
    if (r & sign_bit(size)) f |= EFLAGS_SF;
    if (parity8(r)) f |= EFLAGS_PF;
    return f;
}

/* Arithmetic right shift of a sign-extended value, without relying on C's
 * implementation-defined '>>' of negative numbers. */
static uint32_t sar32(uint32_t v, unsigned n)
{
    return (v & 0x80000000u) ? ~(~v >> n) : v >> n;
}

static uint32_t sign_extend(uint32_t v, unsigned size)
{
    return size == 1 ? (uint32_t)(int32_t)(int8_t)v
         : size == 2 ? (uint32_t)(int32_t)(int16_t)v : v;
}

/*
 * Shift or rotate 'v' (size bytes) by 'count' (already masked, 1..31).
 * Returns mask = 0 when nothing at all changes (RCL/RCR by a multiple of
 * 9 or 17).
 */
static struct shift_result shift_compute(struct cpu *cpu, unsigned op, unsigned size,
                                         uint32_t v, unsigned count)
{
    unsigned bits = size * 8;
    uint32_t m = size_mask(size), msb = sign_bit(size);
    struct shift_result out = { 0, 0, EFLAGS_ARITH };
    uint32_t r, cf;

    v &= m;
    switch (op) {
    case SH_ROL: {
        unsigned n = count % bits;
        r = n ? ((v << n) | (v >> (bits - n))) & m : v;
        cf = r & 1;   /* CF := LSB(DEST) */
        out.value = r;
        out.flags = (cf ? EFLAGS_CF : 0) | ((((r & msb) != 0) ^ cf) ? EFLAGS_OF : 0);
        out.mask = EFLAGS_CF | EFLAGS_OF;
        return out;
    }
    case SH_ROR: {
        unsigned n = count % bits;
        r = n ? ((v >> n) | (v << (bits - n))) & m : v;
        cf = (r & msb) != 0;   /* CF := MSB(DEST) */
        out.value = r;
        /* OF := MSB(DEST) XOR MSB-1(DEST) */
        out.flags = (cf ? EFLAGS_CF : 0) | ((cf ^ ((r >> (bits - 2)) & 1)) ? EFLAGS_OF : 0);
        out.mask = EFLAGS_CF | EFLAGS_OF;
        return out;
    }
    case SH_RCL:
    case SH_RCR: {
        /* Rotate the (bits+1)-bit quantity CF:DEST. */
        unsigned width = bits + 1;
        unsigned n = count % width;   /* for 32 bits count < 33 already */
        if (n == 0) {
            out.value = v;
            out.mask = 0;
            return out;
        }
        uint64_t wmask = (1ull << width) - 1;
        uint64_t w = (uint64_t)v | ((uint64_t)cpu_cf(cpu) << bits);
        if (op == SH_RCL) w = (w << n) | (w >> (width - n));
        else w = (w >> n) | (w << (width - n));
        w &= wmask;
        r = (uint32_t)w & m;
        cf = (uint32_t)(w >> bits) & 1;
        out.value = r;
        /* Count 1: RCL OF := MSB(DEST) XOR CF (after); RCR OF := MSB(DEST)
         * XOR CF (before).  Both equal MSB(old) XOR MSB(new). */
        out.flags = (cf ? EFLAGS_CF : 0) | ((((r ^ v) & msb) != 0) ? EFLAGS_OF : 0);
        out.mask = EFLAGS_CF | EFLAGS_OF;
        return out;
    }
    case SH_SHL:
    case SH_SAL: {
        uint64_t wide = (uint64_t)v << count;
        r = (uint32_t)wide & m;
        cf = (uint32_t)(wide >> bits) & 1;   /* last bit shifted out */
        out.value = r;
        /* OF := MSB(DEST) XOR CF */
        out.flags = szp_flags(r, size) | (cf ? EFLAGS_CF : 0)
                  | ((((r & msb) != 0) ^ cf) ? EFLAGS_OF : 0);
        return out;
    }
    case SH_SHR: {
        uint32_t before_last = v >> (count - 1);
        r = v >> count;
        out.value = r;
        /* Count 1: OF := MSB(original operand); in general the sign change
         * of the last one-bit step, which is 0 for counts above 1. */
        out.flags = szp_flags(r, size) | ((before_last & 1) ? EFLAGS_CF : 0)
                  | (((before_last ^ r) & msb) ? EFLAGS_OF : 0);
        return out;
    }
    default: { /* SH_SAR: OF := 0 for count 1 (and we keep 0 for the rest) */
        uint32_t sx = sign_extend(v, size);
        r = sar32(sx, count) & m;
        out.value = r;
        out.flags = szp_flags(r, size) | ((sar32(sx, count - 1) & 1) ? EFLAGS_CF : 0);
        return out;
    }
    }
}

/* Group 2 on the r/m operand; 'count' is the raw count (imm8, 1 or CL). */
static void grp2(struct cpu *cpu, const struct x86_insn *i, unsigned size, uint32_t count)
{
    cpu_check_lock(cpu, i, false);
    count &= 0x1F;
    uint32_t v = rm_read_rmw(cpu, i, size);   /* access checks even for count 0 */
    if (count == 0) return;
    if (i->reg >= SH_SHL) {
        /* SHL SHR SAL SAR: the result now, the flags lazily (flags.c
         * computes them from value and count exactly as shift_compute). */
        static const uint8_t lazy_op[4] = { LF_SHL, LF_SHR, LF_SHL, LF_SAR };
        struct shift_result res = shift_compute(cpu, i->reg, size, v, count);
        rm_write(cpu, i, size, res.value);
        flags_set(cpu, (enum lazy_op)lazy_op[i->reg - SH_SHL], size, res.value, v, count);
        return;
    }
    struct shift_result res = shift_compute(cpu, i->reg, size, v, count);
    if (res.mask == 0) return;
    rm_write(cpu, i, size, res.value);
    /* AF (shifts only) is undefined: it is in the mask and left 0 in flags. */
    flags_set_arith(cpu, res.flags, res.mask);
}

DEFINE_HANDLER(grp2_EbIb) { grp2(cpu, i, 1, i->imm); }
DEFINE_HANDLER(grp2_EvIb) { grp2(cpu, i, opsize(i), i->imm); }
DEFINE_HANDLER(grp2_Eb1) { grp2(cpu, i, 1, 1); }
DEFINE_HANDLER(grp2_Ev1) { grp2(cpu, i, opsize(i), 1); }
DEFINE_HANDLER(grp2_EbCL) { grp2(cpu, i, 1, cpu->s.regs[R_ECX] & 0xFF); }
DEFINE_HANDLER(grp2_EvCL) { grp2(cpu, i, opsize(i), cpu->s.regs[R_ECX] & 0xFF); }

/*
 * SHLD/SHRD Ev, Gv, count (SDM Vol. 2B SHLD, SHRD): shift DEST, filling the
 * vacated bits from SRC, which is not changed.  The count is masked to 5
 * bits; 0 is a no-op.  CF is the last bit shifted out of DEST, SF ZF PF
 * follow the result, OF (defined for count 1) is set when the sign changed,
 * AF is undefined (we clear it).
 *
 * A 16-bit operand with a count of 17-31 is undefined ("bad parameters").
 * We shift the 48-bit quantity DEST:SRC:DEST, which is what Intel parts
 * are reported to do and which gives the defined results for counts 1-16:
 *
 *   47      32 31      16 15       0
 *   +---------+----------+---------+
 *   |  DEST   |   SRC    |  DEST   |   SHLD takes bits 47-count .. 32-count
 *   +---------+----------+---------+   SHRD takes bits count+15 .. count
 */
static void shift_double(struct cpu *cpu, const struct x86_insn *i, bool left, uint32_t count)
{
    unsigned size = opsize(i);
    cpu_check_lock(cpu, i, false);
    count &= 0x1F;
    uint32_t dst = rm_read_rmw(cpu, i, size);
    if (count == 0) return;
    uint32_t src = reg_read(cpu, i->reg, size);
    uint64_t cat;
    uint32_t r, cf;

    if (size == 4) {
        if (left) {
            cat = ((uint64_t)dst << 32) | src;
            r = (uint32_t)((cat << count) >> 32);
            cf = (uint32_t)(cat >> (64 - count)) & 1;
        } else {
            cat = ((uint64_t)src << 32) | dst;
            r = (uint32_t)(cat >> count);
            cf = (uint32_t)(cat >> (count - 1)) & 1;
        }
    } else {
        cat = ((uint64_t)dst << 32) | ((uint64_t)src << 16) | dst;
        if (left) {
            r = (uint32_t)((cat << count) >> 32) & 0xFFFF;
            cf = (uint32_t)(cat >> (48 - count)) & 1;
        } else {
            r = (uint32_t)(cat >> count) & 0xFFFF;
            cf = (uint32_t)(cat >> (count - 1)) & 1;
        }
    }
    rm_write(cpu, i, size, r);
    uint32_t f = szp_flags(r, size) | (cf ? EFLAGS_CF : 0)
               | (((r ^ dst) & sign_bit(size)) ? EFLAGS_OF : 0);
    flags_set_arith(cpu, f, EFLAGS_ARITH);
}

DEFINE_HANDLER(shld_EvGvIb) { shift_double(cpu, i, true, i->imm); }
DEFINE_HANDLER(shld_EvGvCL) { shift_double(cpu, i, true, cpu->s.regs[R_ECX]); }
DEFINE_HANDLER(shrd_EvGvIb) { shift_double(cpu, i, false, i->imm); }
DEFINE_HANDLER(shrd_EvGvCL) { shift_double(cpu, i, false, cpu->s.regs[R_ECX]); }
