/*
 * exec_fast.c - specialized handlers for the hottest instruction forms.
 *
 * The table's handlers serve every form of an opcode (8/16/32-bit, register
 * or memory, LOCK checks, the ALU operation from the opcode bits).  When a
 * block is decoded, fast_specialize() looks at the decoded instruction and,
 * for a few forms that dominate real code - 32-bit register-register ALU
 * operations, ALU with an immediate, MOV between registers and memory,
 * shifts by a constant, INC/DEC, NEG/NOT, Jcc - installs a handler that
 * does exactly the same thing without the dispatching.
 *
 * Each fast handler must be indistinguishable from the generic one: the
 * differential test (tests/difftest) runs through this path too, since it
 * executes instructions through decoded blocks.
 *
 * Worked example: 01 D8 (ADD EAX, EBX) decodes to op_alu_EvGv; with no
 * LOCK, mod = 3 and a 32-bit operand size it gets fast_add_EdGd_r, which
 * is four loads, an add and the lazy-flags record.
 */
#include "cpu/cpu_internal.h"
#include "cpu/fast.h"

/* ---- ALU, register destination, 32 bits ---- */

#define ALU_RR(name, lf, expr, writes) \
    static void fast_##name##_EdGd_r(struct cpu *cpu, const struct x86_insn *i) \
    { \
        uint32_t a = cpu->s.regs[i->rm], b = cpu->s.regs[i->reg], r = (expr); \
        flags_set(cpu, lf, 4, r, a, b); \
        if (writes) cpu->s.regs[i->rm] = r; \
    } \
    static void fast_##name##_GdEd_r(struct cpu *cpu, const struct x86_insn *i) \
    { \
        uint32_t a = cpu->s.regs[i->reg], b = cpu->s.regs[i->rm], r = (expr); \
        flags_set(cpu, lf, 4, r, a, b); \
        if (writes) cpu->s.regs[i->reg] = r; \
    } \
    static void fast_##name##_EdId_r(struct cpu *cpu, const struct x86_insn *i) \
    { \
        uint32_t a = cpu->s.regs[i->rm], b = i->imm, r = (expr); \
        flags_set(cpu, lf, 4, r, a, b); \
        if (writes) cpu->s.regs[i->rm] = r; \
    }

ALU_RR(add, LF_ADD, a + b, 1)
ALU_RR(or, LF_LOGIC, a | b, 1)
ALU_RR(and, LF_LOGIC, a & b, 1)
ALU_RR(sub, LF_SUB, a - b, 1)
ALU_RR(xor, LF_LOGIC, a ^ b, 1)
ALU_RR(cmp, LF_SUB, a - b, 0)

/* ALU op numbers (opcode bits 5:3, group-1 ModRM.reg): ADD OR ADC SBB AND SUB XOR CMP. */
static const x86_handler alu_EdGd_r[8] = { fast_add_EdGd_r, fast_or_EdGd_r, NULL, NULL,
                                           fast_and_EdGd_r, fast_sub_EdGd_r, fast_xor_EdGd_r, fast_cmp_EdGd_r };
static const x86_handler alu_GdEd_r[8] = { fast_add_GdEd_r, fast_or_GdEd_r, NULL, NULL,
                                           fast_and_GdEd_r, fast_sub_GdEd_r, fast_xor_GdEd_r, fast_cmp_GdEd_r };
static const x86_handler alu_EdId_r[8] = { fast_add_EdId_r, fast_or_EdId_r, NULL, NULL,
                                           fast_and_EdId_r, fast_sub_EdId_r, fast_xor_EdId_r, fast_cmp_EdId_r };

/* ---- MOV, 32 bits ---- */

static void fast_mov_EdGd_r(struct cpu *cpu, const struct x86_insn *i) { cpu->s.regs[i->rm] = cpu->s.regs[i->reg]; }
static void fast_mov_GdEd_r(struct cpu *cpu, const struct x86_insn *i) { cpu->s.regs[i->reg] = cpu->s.regs[i->rm]; }
static void fast_mov_GdEd_m(struct cpu *cpu, const struct x86_insn *i)
{
    cpu->s.regs[i->reg] = cpu_read(cpu, i->seg, cpu_ea(cpu, i), 4);
}
static void fast_mov_EdGd_m(struct cpu *cpu, const struct x86_insn *i)
{
    cpu_write(cpu, i->seg, cpu_ea(cpu, i), cpu->s.regs[i->reg], 4);
}
static void fast_mov_ZdId(struct cpu *cpu, const struct x86_insn *i) { cpu->s.regs[i->op & 7] = i->imm; }

/* ---- INC/DEC r32, NEG/NOT r32 ---- */

static void fast_inc_Zd(struct cpu *cpu, const struct x86_insn *i)
{
    uint32_t a = cpu->s.regs[i->op & 7];
    flags_set_incdec(cpu, LF_INC, 4, a + 1, a);
    cpu->s.regs[i->op & 7] = a + 1;
}
static void fast_dec_Zd(struct cpu *cpu, const struct x86_insn *i)
{
    uint32_t a = cpu->s.regs[i->op & 7];
    flags_set_incdec(cpu, LF_DEC, 4, a - 1, a);
    cpu->s.regs[i->op & 7] = a - 1;
}
static void fast_neg_Ed_r(struct cpu *cpu, const struct x86_insn *i)
{
    uint32_t a = cpu->s.regs[i->rm];
    flags_set(cpu, LF_SUB, 4, 0 - a, 0, a);
    cpu->s.regs[i->rm] = 0 - a;
}
static void fast_not_Ed_r(struct cpu *cpu, const struct x86_insn *i) { cpu->s.regs[i->rm] = ~cpu->s.regs[i->rm]; }

/* ---- shifts of r32 by a constant count (i->imm, 1-31) ---- */

static void fast_shl_Ed_r(struct cpu *cpu, const struct x86_insn *i)
{
    uint32_t a = cpu->s.regs[i->rm], r = a << i->imm;
    flags_set(cpu, LF_SHL, 4, r, a, i->imm);
    cpu->s.regs[i->rm] = r;
}
static void fast_shr_Ed_r(struct cpu *cpu, const struct x86_insn *i)
{
    uint32_t a = cpu->s.regs[i->rm], r = a >> i->imm;
    flags_set(cpu, LF_SHR, 4, r, a, i->imm);
    cpu->s.regs[i->rm] = r;
}
static void fast_sar_Ed_r(struct cpu *cpu, const struct x86_insn *i)
{
    uint32_t a = cpu->s.regs[i->rm];
    uint32_t r = (a & 0x80000000u) ? ~(~a >> i->imm) : a >> i->imm;
    flags_set(cpu, LF_SAR, 4, r, a, i->imm);
    cpu->s.regs[i->rm] = r;
}

/* ---- Jcc rel8 / rel32 in 32-bit code (target pre-computed as a displacement) ---- */

static void fast_jcc_J_32(struct cpu *cpu, const struct x86_insn *i)
{
    if (cpu_cond(cpu, i->op & 15)) {
        uint32_t target = cpu->s.eip + i->imm;
        if (unlikely(target > cpu->s.seg[SEG_CS].limit)) cpu_fault_err(cpu, X86_GP, 0);
        cpu->s.eip = target;
    }
}

static uint32_t sext8(uint32_t v) { return (uint32_t)(int32_t)(int8_t)v; }

void fast_specialize(struct x86_insn *i)
{
    if (i->lock || !i->os32) return;
    bool reg_form = i->mod == 3;
    x86_handler h = NULL;
    unsigned op = i->op;

    if (op < 0x40 && (op & 7) <= 3 && (op & 7) != 0 && (op & 7) != 2) {
        /* 01 09 ... 39: op Ev, Gv;  03 0B ... 3B: op Gv, Ev */
        if (reg_form) h = ((op & 7) == 1 ? alu_EdGd_r : alu_GdEd_r)[(op >> 3) & 7];
    } else if ((op == 0x81 || op == 0x83) && reg_form) {
        h = alu_EdId_r[i->reg];
        if (h && op == 0x83) i->imm = sext8(i->imm);
    } else if (op == 0x89) {
        h = reg_form ? fast_mov_EdGd_r : fast_mov_EdGd_m;
    } else if (op == 0x8B) {
        h = reg_form ? fast_mov_GdEd_r : fast_mov_GdEd_m;
    } else if (op >= 0xB8 && op <= 0xBF) {
        h = fast_mov_ZdId;
    } else if (op >= 0x40 && op <= 0x47) {
        h = fast_inc_Zd;
    } else if (op >= 0x48 && op <= 0x4F) {
        h = fast_dec_Zd;
    } else if (op == 0xF7 && reg_form && (i->reg == 2 || i->reg == 3)) {
        h = i->reg == 2 ? fast_not_Ed_r : fast_neg_Ed_r;
    } else if ((op == 0xC1 || op == 0xD1) && reg_form && i->reg >= 4) {
        uint32_t count = op == 0xD1 ? 1 : (i->imm & 0x1F);
        if (count != 0) {
            static const x86_handler shifts[4] = { fast_shl_Ed_r, fast_shr_Ed_r, fast_shl_Ed_r, fast_sar_Ed_r };
            h = shifts[i->reg - 4];
            i->imm = count;
        }
    } else if (op >= 0x70 && op <= 0x7F) {
        i->imm = sext8(i->imm);
        h = fast_jcc_J_32;
    } else if (op >= 0x180 && op <= 0x18F) {
        h = fast_jcc_J_32;
    }
    if (h) i->exec = h;
}
