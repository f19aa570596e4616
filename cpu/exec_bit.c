/*
 * exec_bit.c - bit tests (BT BTS BTR BTC), bit scans (BSF BSR), SETcc,
 * CMOVcc and BSWAP.
 *
 * The bit tests select bit 'offset' of a bit string whose bit 0 is bit 0
 * of the r/m operand, copy it to CF, then (BTS/BTR/BTC) set, clear or
 * invert it (SDM Vol. 2A BT, BTS, BTR, BTC).  How far the offset reaches
 * depends on its source:
 *
 *   register operand      offset mod 16/32, whatever the source
 *   memory, imm8 offset   offset mod 16/32: the operand itself
 *   memory, reg offset    a signed 16/32-bit index into the whole bit
 *                         string, which reaches memory far outside the
 *                         operand, in either direction
 *
 * For the last case the SDM gives the access as the operand-sized unit at
 *
 *   EA + (opsize bytes) * (offset DIV opsize bits), bit offset MOD opsize bits
 *
 * with DIV rounding toward minus infinity, so BT dword [ebx], eax with
 * EAX = -1 reads the dword at EBX - 4 and tests its bit 31.
 *
 * Flags: the bit tests set CF only (ZF is unaffected; OF SF AF PF are
 * undefined and kept).  BSF/BSR set ZF only (the others are undefined and
 * kept).
 */
#include "cpu/cpu_internal.h"

enum bit_op { BIT_TEST, BIT_SET, BIT_RESET, BIT_COMPLEMENT };

/* Arithmetic right shift without C's implementation-defined '>>' of negatives. */
static uint32_t sar32(uint32_t v, unsigned n)
{
    return (v & 0x80000000u) ? ~(~v >> n) : v >> n;
}

static uint32_t bit_apply(unsigned op, uint32_t v, uint32_t mask)
{
    switch (op) {
    case BIT_SET: return v | mask;
    case BIT_RESET: return v & ~mask;
    case BIT_COMPLEMENT: return v ^ mask;
    default: return v;
    }
}

/*
 * Run bit operation 'op' on the r/m operand.  'reg_offset' says whether
 * 'offset' came from a register (a signed index into memory) or from an
 * immediate (taken modulo the operand width).
 */
static void bit_test(struct cpu *cpu, const struct x86_insn *i, unsigned op, uint32_t offset,
                     bool reg_offset)
{
    unsigned size = opsize(i), bits = size * 8;
    uint32_t v;

    cpu_check_lock(cpu, i, op != BIT_TEST);   /* LOCK BT is #UD; BTS/BTR/BTC allow it */
    uint32_t bit = offset & (bits - 1);
    uint32_t mask = 1u << bit;

    if (i->mod == 3) {
        v = reg_read(cpu, i->rm, size);
        if (op != BIT_TEST) reg_write(cpu, i->rm, size, bit_apply(op, v, mask));
    } else {
        uint32_t ea = cpu_ea(cpu, i);
        if (reg_offset) {
            uint32_t index = size == 4 ? offset : (uint32_t)(int32_t)(int16_t)offset;
            ea += sar32(index, size == 4 ? 5 : 4) * size;   /* wraps modulo 2^32 */
            if (!i->as32) ea &= 0xFFFF;                      /* 16-bit addressing wraps */
        }
        if (op == BIT_TEST) {
            v = cpu_read(cpu, i->seg, ea, size);
        } else {
            v = cpu_read_rmw(cpu, i->seg, ea, size);
            cpu_write(cpu, i->seg, ea, bit_apply(op, v, mask), size);
        }
    }
    flags_set_arith(cpu, (v & mask) ? EFLAGS_CF : 0, EFLAGS_CF);
}

DEFINE_HANDLER(bt_EvGv) { bit_test(cpu, i, BIT_TEST, reg_read(cpu, i->reg, opsize(i)), true); }
DEFINE_HANDLER(bts_EvGv) { bit_test(cpu, i, BIT_SET, reg_read(cpu, i->reg, opsize(i)), true); }
DEFINE_HANDLER(btr_EvGv) { bit_test(cpu, i, BIT_RESET, reg_read(cpu, i->reg, opsize(i)), true); }
DEFINE_HANDLER(btc_EvGv) { bit_test(cpu, i, BIT_COMPLEMENT, reg_read(cpu, i->reg, opsize(i)), true); }

/* 0F BA group 8: /4 BT /5 BTS /6 BTR /7 BTC Ev, Ib; /0-/3 are #UD (SDM Vol. 2D table A-6). */
DEFINE_HANDLER(grp8_EvIb)
{
    if (i->reg < 4) cpu_fault(cpu, X86_UD);
    bit_test(cpu, i, i->reg - 4u, i->imm & 0xFF, false);
}

/*
 * BSF/BSR Gv, Ev (SDM Vol. 2A BSF, BSR): the index of the lowest/highest set
 * bit.  A zero source sets ZF and leaves the destination unchanged (the SDM
 * calls it undefined; every Intel part through the Pentium keeps it).
 */
static void bit_scan(struct cpu *cpu, const struct x86_insn *i, bool reverse)
{
    unsigned size = opsize(i);
    cpu_check_lock(cpu, i, false);
    uint32_t src = rm_read(cpu, i, size) & size_mask(size);
    if (src == 0) {
        flags_set_arith(cpu, EFLAGS_ZF, EFLAGS_ZF);
        return;
    }
    uint32_t index = reverse ? 31u - (uint32_t)__builtin_clz(src) : (uint32_t)__builtin_ctz(src);
    reg_write(cpu, i->reg, size, index);
    flags_set_arith(cpu, 0, EFLAGS_ZF);
}

DEFINE_HANDLER(bsf_GvEv) { bit_scan(cpu, i, false); }
DEFINE_HANDLER(bsr_GvEv) { bit_scan(cpu, i, true); }

/* 0F 90+cc SETcc Eb: 1 or 0 by condition cc (SDM Vol. 2B SETcc); ModRM.reg ignored. */
DEFINE_HANDLER(setcc_Eb)
{
    cpu_check_lock(cpu, i, false);
    rm_write(cpu, i, 1, cpu_cond(cpu, i->op & 15) ? 1 : 0);
}

/*
 * 0F 40+cc CMOVcc Gv, Ev (SDM Vol. 2A CMOVcc, P6 and later): the source
 * is read (and may fault) whatever the condition; the destination is
 * written only when it holds.  Outside 64-bit mode a false condition
 * leaves all 32 bits of the destination as they were.
 */
DEFINE_HANDLER(cmovcc_GvEv)
{
    unsigned size = opsize(i);
    cpu_check_lock(cpu, i, false);
    uint32_t src = rm_read(cpu, i, size);
    if (cpu_cond(cpu, i->op & 15)) reg_write(cpu, i->reg, size, src);
}

/*
 * 0F C8+r BSWAP r32 (SDM Vol. 2A BSWAP, 486 and later).  With a 16-bit
 * operand size the result is undefined; we do what Intel parts are observed
 * to do: the low word becomes 0 and the high word is kept.
 */
DEFINE_HANDLER(bswap_Zd)
{
    unsigned r = i->op & 7;
    cpu_check_lock(cpu, i, false);
    if (i->os32) cpu->s.regs[r] = __builtin_bswap32(cpu->s.regs[r]);
    else reg_write(cpu, r, 2, 0);
}
