/*
 * exec_branch.c - near and far control transfers: Jcc, JMP, CALL, RET,
 * LOOP/LOOPcc/JeCXZ, and group 5 (FF: INC DEC CALL CALLF JMP JMPF PUSH).
 *
 * On entry s.eip already points past the instruction, which is both the
 * base of relative targets and the return address CALL pushes.  A handler
 * that branches just assigns s.eip.
 *
 * Near targets (SDM Vol. 2A CALL, JMP, Jcc; Vol. 2B RET, LOOP): with a
 * 16-bit operand size the target is truncated to 16 bits ("EIP := tempEIP
 * AND 0000FFFFH"); a target beyond the CS limit is #GP(0) and nothing
 * changes, so the check comes before any push or register update.
 * Far transfers go through control_far.c (cpu_far_jump/call/return), which
 * handles code segments, call gates, task gates and privilege changes.
 */
#include "cpu/cpu_internal.h"

/* Truncate a near target to the operand size and check it against CS.limit. */
static uint32_t near_target(struct cpu *cpu, const struct x86_insn *i, uint32_t target)
{
    if (!i->os32)
        target &= 0xFFFFu;
    if (target > cpu->s.seg[SEG_CS].limit)
        cpu_fault_err(cpu, X86_GP, 0);
    return target;
}

/* rel8 sign-extended; relv is rel16 or rel32 by the operand size. */
static uint32_t rel8(const struct x86_insn *i) { return (uint32_t)(int32_t)(int8_t)i->imm; }
static uint32_t relv(const struct x86_insn *i)
{
    return i->os32 ? i->imm : (uint32_t)(int32_t)(int16_t)i->imm;
}

/* ---------- jumps and conditional jumps ---------- */

/* Jcc rel8 (70-7F) and rel16/32 (0F 80-8F): cc is the low opcode nibble. */
DEFINE_HANDLER(jcc_Jb)
{
    if (cpu_cond(cpu, i->op & 15))
        cpu->s.eip = near_target(cpu, i, cpu->s.eip + rel8(i));
}

DEFINE_HANDLER(jcc_Jv)
{
    if (cpu_cond(cpu, i->op & 15))
        cpu->s.eip = near_target(cpu, i, cpu->s.eip + relv(i));
}

DEFINE_HANDLER(jmp_Jb) { cpu->s.eip = near_target(cpu, i, cpu->s.eip + rel8(i)); }
DEFINE_HANDLER(jmp_Jv) { cpu->s.eip = near_target(cpu, i, cpu->s.eip + relv(i)); }

/* CALL rel16/32 (E8): check the target, push the return address, jump. */
DEFINE_HANDLER(call_Jv)
{
    uint32_t target = near_target(cpu, i, cpu->s.eip + relv(i));
    cpu_push(cpu, opsize(i), cpu->s.eip);
    cpu->s.eip = target;
}

/* ---------- near return ---------- */

/*
 * RET (C3) and RET imm16 (C2): pop the return address (operand size),
 * check it, then release imm16 more bytes of arguments.  ESP moves by the
 * stack width (SS.B), only after the checks passed.
 */
static void near_return(struct cpu *cpu, const struct x86_insn *i, uint32_t release)
{
    unsigned size = opsize(i);
    uint32_t target = near_target(cpu, i, cpu_stack_peek(cpu, 0, size));
    uint32_t sp = stack_ptr(cpu) + size + release;
    stack_ptr_set(cpu, sp);   /* truncates to SP on a 16-bit stack */
    cpu->s.eip = target;
}

DEFINE_HANDLER(ret) { near_return(cpu, i, 0); }
DEFINE_HANDLER(ret_Iw) { near_return(cpu, i, i->imm & 0xFFFFu); }

/* ---------- loops ---------- */

/*
 * LOOP/LOOPE/LOOPNE rel8 (E2/E1/E0) decrement CX or ECX, chosen by the
 * address size (SDM Vol. 2B LOOP/LOOPcc), without touching the flags, and
 * branch while the count is non-zero (and ZF agrees).  The target is
 * checked before the count is written back, so a #GP leaves eCX unchanged.
 * 'zf_want' is -1 for plain LOOP.
 */
static void loop_common(struct cpu *cpu, const struct x86_insn *i, int zf_want)
{
    uint32_t count = (i->as32 ? cpu->s.regs[R_ECX] : (uint16_t)cpu->s.regs[R_ECX]) - 1;
    if (!i->as32)
        count &= 0xFFFFu;
    bool take = count != 0 && (zf_want < 0 || cpu_zf(cpu) == (zf_want != 0));
    uint32_t target = take ? near_target(cpu, i, cpu->s.eip + rel8(i)) : 0;
    if (i->as32)
        cpu->s.regs[R_ECX] = count;
    else
        reg_write(cpu, R_ECX, 2, count);
    if (take)
        cpu->s.eip = target;
}

DEFINE_HANDLER(loop_Jb) { loop_common(cpu, i, -1); }
DEFINE_HANDLER(loopz_Jb) { loop_common(cpu, i, 1); }
DEFINE_HANDLER(loopnz_Jb) { loop_common(cpu, i, 0); }

/* JCXZ / JECXZ rel8 (E3): the register by the address size. */
DEFINE_HANDLER(jcxz_Jb)
{
    uint32_t count = i->as32 ? cpu->s.regs[R_ECX] : (uint16_t)cpu->s.regs[R_ECX];
    if (count == 0)
        cpu->s.eip = near_target(cpu, i, cpu->s.eip + rel8(i));
}

/* ---------- far transfers ---------- */

/* JMP/CALL ptr16:16 / ptr16:32 (EA, 9A): offset in imm, selector in imm2. */
DEFINE_HANDLER(jmp_Ap) { cpu_far_jump(cpu, (uint16_t)i->imm2, i->imm, opsize(i)); }
DEFINE_HANDLER(call_Ap) { cpu_far_call(cpu, (uint16_t)i->imm2, i->imm, opsize(i)); }

/* RETF (CB) and RETF imm16 (CA). */
DEFINE_HANDLER(retf) { cpu_far_return(cpu, opsize(i), 0); }
DEFINE_HANDLER(retf_Iw) { cpu_far_return(cpu, opsize(i), (uint16_t)i->imm); }

/* ---------- group 5 ---------- */

/* Read an m16:16 / m16:32 far pointer: offset (operand size), then selector. */
static void read_far_pointer(struct cpu *cpu, const struct x86_insn *i, uint16_t *sel, uint32_t *off)
{
    if (i->mod == 3)
        cpu_fault(cpu, X86_UD);
    unsigned size = opsize(i);
    uint32_t ea = cpu_ea(cpu, i);
    uint32_t ea_sel = ea + size;
    if (!i->as32)
        ea_sel &= 0xFFFFu;
    *off = cpu_read(cpu, i->seg, ea, size);
    *sel = cpu_read16(cpu, i->seg, ea_sel);
}

/*
 * FF /r (SDM Vol. 2D A.4, table A-6 group 5):
 *   /0 INC Ev   /1 DEC Ev   /2 CALL Ev (near)   /3 CALL Mp (far)
 *   /4 JMP Ev (near)   /5 JMP Mp (far)   /6 PUSH Ev   /7 #UD
 * CALL and PUSH read their operand before ESP moves, so CALL [ESP] and
 * PUSH [ESP] use the old stack top (SDM Vol. 2B PUSH).
 */
DEFINE_HANDLER(grp5_Ev)
{
    unsigned size = opsize(i);
    uint32_t v, target, off;
    uint16_t sel;

    switch (i->reg) {
    case 0: /* INC */
    case 1: /* DEC */
        v = rm_read_rmw(cpu, i, size);
        target = i->reg == 0 ? v + 1 : v - 1;
        rm_write(cpu, i, size, target);
        flags_set_incdec(cpu, i->reg == 0 ? LF_INC : LF_DEC, size, target, v);
        break;
    case 2: /* CALL near indirect */
        target = near_target(cpu, i, rm_read(cpu, i, size));
        cpu_push(cpu, size, cpu->s.eip);
        cpu->s.eip = target;
        break;
    case 3: /* CALL far indirect */
        read_far_pointer(cpu, i, &sel, &off);
        cpu_far_call(cpu, sel, off, size);
        break;
    case 4: /* JMP near indirect */
        cpu->s.eip = near_target(cpu, i, rm_read(cpu, i, size));
        break;
    case 5: /* JMP far indirect */
        read_far_pointer(cpu, i, &sel, &off);
        cpu_far_jump(cpu, sel, off, size);
        break;
    case 6: /* PUSH */
        cpu_push(cpu, size, rm_read(cpu, i, size));
        break;
    default:
        cpu_fault(cpu, X86_UD);
    }
}
