/*
 * exec_alu.c - the eight two-operand integer operations, TEST, INC and DEC.
 *
 * The one-byte map gives ADD OR ADC SBB AND SUB XOR CMP a row of six
 * opcodes each (SDM Vol. 2D table A-2), and the operation is bits 5:3 of
 * the opcode; the immediate groups 80-83 (SDM Vol. 2D table A-6) take it
 * from ModRM.reg instead.  Both index the same order:
 *
 *   0 ADD   1 OR   2 ADC   3 SBB   4 AND   5 SUB   6 XOR   7 CMP
 *
 * Worked example: 11 D8 is ADC EAX, EBX (opcode 0x11 = row 2, form EvGv;
 * ModRM D8 = mod 3, reg 3 (EBX), rm 0 (EAX)).  With CF = 1 it records
 * LF_ADC with src1 = EAX, src2 = EBX, res = EAX + EBX + 1; with CF = 0 it
 * records LF_ADD, so the lazy record needs no carry-in field.
 *
 * Flags are lazy (cpu/flags.c): each operation records what it did and the
 * six arithmetic flags are computed only when read.  Flag definitions: SDM
 * Vol. 1 3.4.3.1 and the "Flags Affected" section of each instruction in
 * Vol. 2.  AND/OR/XOR/TEST clear CF and OF; their AF is undefined (the lazy
 * LF_LOGIC record gives 0).
 *
 * Memory destinations are read with rm_read_rmw(), which faults as a write
 * would, so a read-only page or segment faults before anything changes;
 * CMP and TEST only read.
 */
#include "cpu/cpu_internal.h"

enum alu_op { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };

void cpu_check_lock(struct cpu *cpu, const struct x86_insn *i, bool allowed)
{
    /* SDM Vol. 2A "LOCK": #UD for a non-lockable instruction, and for a
     * lockable one whose destination is not memory. */
    if (unlikely(i->lock) && (!allowed || i->mod == 3))
        cpu_fault(cpu, X86_UD);
}

/*
 * Compute 'a op b' at 'size' bytes, record the flags, and return the result
 * (masked to size).  The caller writes it back unless op is CMP.  The carry
 * of ADC/SBB is read before flags_set overwrites the lazy record.
 */
static uint32_t alu_compute(struct cpu *cpu, unsigned op, unsigned size, uint32_t a, uint32_t b)
{
    uint32_t m = size_mask(size);
    uint32_t r;
    bool carry;

    a &= m;
    b &= m;
    switch (op) {
    case ALU_ADD:
        r = a + b;
        flags_set(cpu, LF_ADD, size, r, a, b);
        break;
    case ALU_OR:
        r = a | b;
        flags_set(cpu, LF_LOGIC, size, r, a, b);
        break;
    case ALU_ADC:
        carry = cpu_cf(cpu);
        r = a + b + carry;
        flags_set(cpu, carry ? LF_ADC : LF_ADD, size, r, a, b);
        break;
    case ALU_SBB:
        carry = cpu_cf(cpu);
        r = a - b - carry;
        flags_set(cpu, carry ? LF_SBB : LF_SUB, size, r, a, b);
        break;
    case ALU_AND:
        r = a & b;
        flags_set(cpu, LF_LOGIC, size, r, a, b);
        break;
    case ALU_XOR:
        r = a ^ b;
        flags_set(cpu, LF_LOGIC, size, r, a, b);
        break;
    default: /* ALU_SUB, ALU_CMP */
        r = a - b;
        flags_set(cpu, LF_SUB, size, r, a, b);
        break;
    }
    return r & m;
}

/* op E, src: E is the destination (register or memory). */
static void alu_to_rm(struct cpu *cpu, const struct x86_insn *i, unsigned op, unsigned size,
                      uint32_t src)
{
    cpu_check_lock(cpu, i, op != ALU_CMP);
    if (op == ALU_CMP) {
        alu_compute(cpu, op, size, rm_read(cpu, i, size), src);
        return;
    }
    uint32_t dst = rm_read_rmw(cpu, i, size);
    rm_write(cpu, i, size, alu_compute(cpu, op, size, dst, src));
}

/* op reg, src: a register destination (never lockable). */
static void alu_to_reg(struct cpu *cpu, unsigned op, unsigned reg, unsigned size, uint32_t src)
{
    uint32_t r = alu_compute(cpu, op, size, reg_read(cpu, reg, size), src);
    if (op != ALU_CMP) reg_write(cpu, reg, size, r);
}

static unsigned alu_row_op(const struct x86_insn *i) { return (i->op >> 3) & 7; }

DEFINE_HANDLER(alu_EbGb)
{
    alu_to_rm(cpu, i, alu_row_op(i), 1, reg8_read(cpu, i->reg));
}

DEFINE_HANDLER(alu_EvGv)
{
    unsigned size = opsize(i);
    alu_to_rm(cpu, i, alu_row_op(i), size, reg_read(cpu, i->reg, size));
}

DEFINE_HANDLER(alu_GbEb)
{
    cpu_check_lock(cpu, i, false);
    uint32_t src = rm_read(cpu, i, 1);
    alu_to_reg(cpu, alu_row_op(i), i->reg, 1, src);
}

DEFINE_HANDLER(alu_GvEv)
{
    unsigned size = opsize(i);
    cpu_check_lock(cpu, i, false);
    uint32_t src = rm_read(cpu, i, size);
    alu_to_reg(cpu, alu_row_op(i), i->reg, size, src);
}

DEFINE_HANDLER(alu_ALIb)
{
    cpu_check_lock(cpu, i, false);
    alu_to_reg(cpu, alu_row_op(i), R_EAX, 1, i->imm & 0xFF);
}

DEFINE_HANDLER(alu_eAXIv)
{
    unsigned size = opsize(i);
    cpu_check_lock(cpu, i, false);
    alu_to_reg(cpu, alu_row_op(i), R_EAX, size, i->imm);
}

/* 80 /op ib (and its alias 82). */
DEFINE_HANDLER(grp1_EbIb)
{
    alu_to_rm(cpu, i, i->reg, 1, i->imm & 0xFF);
}

/* 81 /op iw/id. */
DEFINE_HANDLER(grp1_EvIv)
{
    alu_to_rm(cpu, i, i->reg, opsize(i), i->imm);
}

/* 83 /op ib: the byte is sign-extended to the operand size (SDM Vol. 2A ADD: "imm8 sign-extended"). */
DEFINE_HANDLER(grp1_EvIb)
{
    alu_to_rm(cpu, i, i->reg, opsize(i), (uint32_t)(int32_t)(int8_t)i->imm);
}

/* TEST: AND without writeback (SDM Vol. 2B TEST); LOCK TEST is #UD. */
static void test_values(struct cpu *cpu, unsigned size, uint32_t a, uint32_t b)
{
    uint32_t r = a & b;
    flags_set(cpu, LF_LOGIC, size, r, a, b);
}

DEFINE_HANDLER(test_EbGb)
{
    cpu_check_lock(cpu, i, false);
    test_values(cpu, 1, rm_read(cpu, i, 1), reg8_read(cpu, i->reg));
}

DEFINE_HANDLER(test_EvGv)
{
    unsigned size = opsize(i);
    cpu_check_lock(cpu, i, false);
    test_values(cpu, size, rm_read(cpu, i, size), reg_read(cpu, i->reg, size));
}

DEFINE_HANDLER(test_ALIb)
{
    cpu_check_lock(cpu, i, false);
    test_values(cpu, 1, reg8_read(cpu, R_EAX), i->imm & 0xFF);
}

DEFINE_HANDLER(test_eAXIv)
{
    unsigned size = opsize(i);
    cpu_check_lock(cpu, i, false);
    test_values(cpu, size, reg_read(cpu, R_EAX, size), i->imm);
}

/* INC/DEC r16/r32 (40+r, 48+r): CF is preserved (SDM Vol. 2A INC, DEC). */
DEFINE_HANDLER(inc_Zv)
{
    unsigned size = opsize(i), r = i->op & 7;
    cpu_check_lock(cpu, i, false);
    uint32_t v = reg_read(cpu, r, size);
    uint32_t res = v + 1;
    reg_write(cpu, r, size, res);
    flags_set_incdec(cpu, LF_INC, size, res, v);
}

DEFINE_HANDLER(dec_Zv)
{
    unsigned size = opsize(i), r = i->op & 7;
    cpu_check_lock(cpu, i, false);
    uint32_t v = reg_read(cpu, r, size);
    uint32_t res = v - 1;
    reg_write(cpu, r, size, res);
    flags_set_incdec(cpu, LF_DEC, size, res, v);
}

/* FE /0 INC Eb, FE /1 DEC Eb; FE /2-/7 are #UD (SDM Vol. 2D table A-6, group 4). */
DEFINE_HANDLER(grp4_Eb)
{
    if (i->reg > 1) cpu_fault(cpu, X86_UD);
    cpu_check_lock(cpu, i, true);
    uint32_t v = rm_read_rmw(cpu, i, 1);
    uint32_t res = i->reg == 0 ? v + 1 : v - 1;
    rm_write(cpu, i, 1, res);
    flags_set_incdec(cpu, i->reg == 0 ? LF_INC : LF_DEC, 1, res, v);
}
