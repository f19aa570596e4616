/*
 * exec_muldiv.c - group 3 (F6/F7: TEST NOT NEG MUL IMUL DIV IDIV) and the
 * two- and three-operand IMUL forms (0F AF, 69, 6B).
 *
 * Group 3 takes its operation from ModRM.reg (SDM Vol. 2D table A-6):
 *
 *   0 TEST Ib/Iv   1 TEST (undocumented alias)   2 NOT   3 NEG
 *   4 MUL          5 IMUL                        6 DIV   7 IDIV
 *
 * The one-operand multiplies and divides use the accumulator pair:
 *
 *   size   MUL/IMUL result    DIV/IDIV dividend   quotient  remainder
 *    8     AX                 AX                  AL        AH
 *   16     DX:AX              DX:AX               AX        DX
 *   32     EDX:EAX            EDX:EAX             EAX       EDX
 *
 * Worked example: F7 F3 is DIV EBX.  With EDX = 1, EAX = 0, EBX = 1 the
 * quotient 0x100000000 does not fit EAX, so the CPU raises #DE and leaves
 * EDX, EAX and the flags as they were (SDM Vol. 2A DIV: "#DE ... if the
 * quotient is too large for the designated register").  The divide is
 * therefore computed and checked in full before any register is written.
 *
 * Flags: MUL/IMUL set CF = OF = "the upper half is significant"; their SF
 * ZF AF PF are undefined, and we set SF ZF PF from the low half of the
 * product and clear AF.  DIV/IDIV leave all six undefined: we keep them.
 */
#include "cpu/cpu_internal.h"

static int64_t sext(uint32_t v, unsigned size)
{
    return size == 1 ? (int8_t)v : size == 2 ? (int16_t)v : (int32_t)v;
}

/* Record MUL/IMUL flags: CF = OF = overflow; SF ZF PF from the low half. */
static void mul_flags(struct cpu *cpu, uint32_t low, unsigned size, bool overflow)
{
    uint32_t f = 0;
    low &= size_mask(size);
    if (overflow) f |= EFLAGS_CF | EFLAGS_OF;
    if (low == 0) f |= EFLAGS_ZF;
    if (low & sign_bit(size)) f |= EFLAGS_SF;
    if (parity8(low)) f |= EFLAGS_PF;
    flags_set_arith(cpu, f, EFLAGS_ARITH);
}

/* Store a double-width product or a quotient/remainder pair. */
static void write_pair(struct cpu *cpu, unsigned size, uint32_t low, uint32_t high)
{
    if (size == 1) {
        reg_write(cpu, R_EAX, 2, (low & 0xFF) | ((high & 0xFF) << 8));
    } else {
        reg_write(cpu, R_EAX, size, low);
        reg_write(cpu, R_EDX, size, high);
    }
}

/* The dividend AX, DX:AX or EDX:EAX, unsigned. */
static uint64_t read_dividend(struct cpu *cpu, unsigned size)
{
    if (size == 1) return reg_read(cpu, R_EAX, 2);
    return ((uint64_t)reg_read(cpu, R_EDX, size) << (size * 8)) | reg_read(cpu, R_EAX, size);
}

/* SDM Vol. 2A MUL: unsigned, CF = OF = (upper half != 0). */
static void do_mul(struct cpu *cpu, unsigned size, uint32_t src)
{
    uint64_t p = (uint64_t)reg_read(cpu, R_EAX, size) * src;
    uint32_t low = (uint32_t)p & size_mask(size);
    uint32_t high = (uint32_t)(p >> (size * 8)) & size_mask(size);
    write_pair(cpu, size, low, high);
    mul_flags(cpu, low, size, high != 0);
}

/* SDM Vol. 2A IMUL (one operand): CF = OF = (result != sign-extended low half). */
static void do_imul1(struct cpu *cpu, unsigned size, uint32_t src)
{
    int64_t p = sext(reg_read(cpu, R_EAX, size), size) * sext(src, size);
    uint32_t low = (uint32_t)p & size_mask(size);
    uint32_t high = (uint32_t)((uint64_t)p >> (size * 8)) & size_mask(size);
    write_pair(cpu, size, low, high);
    mul_flags(cpu, low, size, p != sext(low, size));
}

/* SDM Vol. 2A DIV: #DE for a zero divisor or a quotient wider than 'size'. */
static void do_div(struct cpu *cpu, unsigned size, uint32_t src)
{
    src &= size_mask(size);
    if (src == 0) cpu_fault(cpu, X86_DE);
    uint64_t n = read_dividend(cpu, size);
    uint64_t q = n / src, r = n % src;
    if (q > size_mask(size)) cpu_fault(cpu, X86_DE);
    write_pair(cpu, size, (uint32_t)q, (uint32_t)r);
}

/*
 * SDM Vol. 2A IDIV: signed, the quotient truncated toward zero and the
 * remainder taking the dividend's sign (as C99 '/' and '%').  #DE for a
 * zero divisor or a quotient outside the signed range, which includes
 * the most negative dividend divided by -1 (checked first: in C that
 * division overflows).
 */
static void do_idiv(struct cpu *cpu, unsigned size, uint32_t src)
{
    int64_t d = sext(src, size);
    if (d == 0) cpu_fault(cpu, X86_DE);
    uint64_t raw = read_dividend(cpu, size);
    int64_t n = size == 1 ? (int16_t)raw : size == 2 ? (int32_t)raw : (int64_t)raw;
    if (n == INT64_MIN && d == -1) cpu_fault(cpu, X86_DE);
    int64_t q = n / d, r = n % d;
    int64_t qmax = (int64_t)(sign_bit(size) - 1);
    if (q > qmax || q < -qmax - 1) cpu_fault(cpu, X86_DE);
    write_pair(cpu, size, (uint32_t)q, (uint32_t)r);
}

static void grp3(struct cpu *cpu, const struct x86_insn *i, unsigned size)
{
    uint32_t v, r;

    switch (i->reg) {
    case 0:
    case 1: /* TEST E, imm: the decoder fetched the immediate (D_GRP3) */
        cpu_check_lock(cpu, i, false);
        v = rm_read(cpu, i, size);
        r = v & i->imm;
        flags_set(cpu, LF_LOGIC, size, r, v, i->imm);
        return;
    case 2: /* NOT: no flags (SDM Vol. 2B NOT) */
        cpu_check_lock(cpu, i, true);
        v = rm_read_rmw(cpu, i, size);
        rm_write(cpu, i, size, ~v);
        return;
    case 3: /* NEG: flags of 0 - DEST; CF = (DEST != 0) (SDM Vol. 2B NEG) */
        cpu_check_lock(cpu, i, true);
        v = rm_read_rmw(cpu, i, size);
        r = 0u - v;
        rm_write(cpu, i, size, r);
        flags_set(cpu, LF_SUB, size, r, 0, v);
        return;
    default:
        break;
    }

    cpu_check_lock(cpu, i, false);
    v = rm_read(cpu, i, size);
    switch (i->reg) {
    case 4: do_mul(cpu, size, v); break;
    case 5: do_imul1(cpu, size, v); break;
    case 6: do_div(cpu, size, v); break;
    default: do_idiv(cpu, size, v); break;
    }
}

DEFINE_HANDLER(grp3_Eb) { grp3(cpu, i, 1); }
DEFINE_HANDLER(grp3_Ev) { grp3(cpu, i, opsize(i)); }

/*
 * IMUL Gv, Ev [, imm]: the product truncated to the operand size; CF = OF
 * = the truncation lost significant bits (SDM Vol. 2A IMUL, two- and
 * three-operand forms).
 */
static void imul_to_reg(struct cpu *cpu, const struct x86_insn *i, uint32_t a, uint32_t b)
{
    unsigned size = opsize(i);
    int64_t p = sext(a, size) * sext(b, size);
    uint32_t low = (uint32_t)p & size_mask(size);
    reg_write(cpu, i->reg, size, low);
    mul_flags(cpu, low, size, p != sext(low, size));
}

DEFINE_HANDLER(imul_GvEv)
{
    unsigned size = opsize(i);
    cpu_check_lock(cpu, i, false);
    uint32_t src = rm_read(cpu, i, size);
    imul_to_reg(cpu, i, reg_read(cpu, i->reg, size), src);
}

DEFINE_HANDLER(imul_GvEvIv)
{
    cpu_check_lock(cpu, i, false);
    imul_to_reg(cpu, i, rm_read(cpu, i, opsize(i)), i->imm);
}

/* 6B: the imm8 is sign-extended to the operand size. */
DEFINE_HANDLER(imul_GvEvIb)
{
    cpu_check_lock(cpu, i, false);
    imul_to_reg(cpu, i, rm_read(cpu, i, opsize(i)), (uint32_t)(int32_t)(int8_t)i->imm);
}
