/*
 * exec_stack.c - the stack: PUSH, POP, PUSHA, POPA, ENTER, LEAVE, and the
 * cpu_push/cpu_pop/cpu_stack_peek helpers every other handler uses.
 *
 * Two sizes meet here and must not be confused (SDM Vol. 1 6.2.3, 6.2.5):
 *   - the operand size (i->os32) says how many bytes one push moves;
 *   - the stack address size, SS.B, says whether ESP or only SP moves and
 *     where the stack pointer wraps (stack_ptr()/stack_ptr_set()).
 * A 16-bit push on a 32-bit stack moves ESP by 2; a 32-bit push on a
 * 16-bit stack moves SP by 4 and leaves ESP's upper half alone.
 *
 * Fault rule (cpu_internal.h): every memory access happens before ESP or
 * any other register changes, so a fault (#SS(0) from cpu_read/cpu_write on
 * SEG_SS, or #PF) leaves the registers as they were before the instruction.
 */
#include "cpu/cpu_internal.h"

/* The stack pointer after moving it by 'delta' bytes, wrapped to the stack width. */
static uint32_t stack_add(const struct cpu *cpu, uint32_t sp, uint32_t delta)
{
    uint32_t v = sp + delta;
    return stack32(cpu) ? v : (v & 0xFFFFu);
}

void cpu_push(struct cpu *cpu, unsigned size, uint32_t value)
{
    uint32_t sp = stack_add(cpu, stack_ptr(cpu), (uint32_t)-size);
    cpu_write(cpu, SEG_SS, sp, value & size_mask(size), size);
    stack_ptr_set(cpu, sp);
}

uint32_t cpu_pop(struct cpu *cpu, unsigned size)
{
    uint32_t sp = stack_ptr(cpu);
    uint32_t v = cpu_read(cpu, SEG_SS, sp, size);
    stack_ptr_set(cpu, stack_add(cpu, sp, size));
    return v;
}

uint32_t cpu_stack_peek(struct cpu *cpu, uint32_t depth, unsigned size)
{
    return cpu_read(cpu, SEG_SS, stack_add(cpu, stack_ptr(cpu), depth), size);
}

/*
 * PUSH r16/r32 (50+r).  PUSH ESP pushes the value ESP had before the
 * instruction (SDM Vol. 2B PUSH: "the value of the SP/ESP register as it
 * existed before the instruction was executed"), which reading the register
 * before cpu_push decrements it gives.
 */
DEFINE_HANDLER(push_Zv)
{
    unsigned size = opsize(i);
    cpu_push(cpu, size, reg_read(cpu, i->op & 7, size));
}

/*
 * POP r16/r32 (58+r).  POP ESP: ESP is incremented and then overwritten by
 * the popped value (SDM Vol. 2B POP), so the register write comes last.
 */
DEFINE_HANDLER(pop_Zv)
{
    unsigned size = opsize(i);
    uint32_t v = cpu_pop(cpu, size);
    reg_write(cpu, i->op & 7, size, v);
}

/* PUSH imm16/imm32 (68). */
DEFINE_HANDLER(push_Iv)
{
    cpu_push(cpu, opsize(i), i->imm);
}

/* PUSH imm8 (6A): the byte is sign-extended to the operand size. */
DEFINE_HANDLER(push_Ib)
{
    cpu_push(cpu, opsize(i), (uint32_t)(int32_t)(int8_t)i->imm);
}

/*
 * POP r/m (8F /0).  SDM Vol. 2B POP: "If the ESP register is used as a base
 * register for addressing a destination operand in memory, the POP
 * instruction computes the effective address of the operand after it
 * increments the ESP register."  The address is therefore computed with
 * the incremented ESP, but ESP itself is committed only after the memory
 * write succeeded, so a fault leaves it untouched.  8F /1-/7 are not POP
 * (#UD on Intel processors).
 */
DEFINE_HANDLER(pop_Ev)
{
    if (i->reg != 0)
        cpu_fault(cpu, X86_UD);
    unsigned size = opsize(i);
    uint32_t sp = stack_ptr(cpu);
    uint32_t v = cpu_read(cpu, SEG_SS, sp, size);
    uint32_t new_sp = stack_add(cpu, sp, size);
    if (i->mod == 3) {
        stack_ptr_set(cpu, new_sp);
        reg_write(cpu, i->rm, size, v);
        return;
    }
    uint32_t saved_esp = cpu->s.regs[R_ESP];
    stack_ptr_set(cpu, new_sp);
    uint32_t ea = cpu_ea(cpu, i);
    cpu->s.regs[R_ESP] = saved_esp;
    cpu_write(cpu, i->seg, ea, v, size);
    stack_ptr_set(cpu, new_sp);
}

/*
 * PUSHA/PUSHAD (60): EAX ECX EDX EBX, the original ESP, EBP ESI EDI
 * (SDM Vol. 2B PUSHA).  All eight writes go first, ESP moves once at the end.
 */
DEFINE_HANDLER(pusha)
{
    unsigned size = opsize(i);
    uint32_t sp = stack_ptr(cpu);
    for (unsigned r = R_EAX; r <= R_EDI; r++) {
        sp = stack_add(cpu, sp, (uint32_t)-size);
        cpu_write(cpu, SEG_SS, sp, reg_read(cpu, r, size), size);
    }
    stack_ptr_set(cpu, sp);
}

/*
 * POPA/POPAD (61): the reverse of PUSHA; the saved ESP slot is read past and
 * discarded (SDM Vol. 2B POPA: "ESP ... is skipped").  All reads happen
 * before any register changes.
 */
DEFINE_HANDLER(popa)
{
    unsigned size = opsize(i);
    uint32_t sp = stack_ptr(cpu);
    uint32_t v[8];
    for (int r = R_EDI; r >= R_EAX; r--) {
        v[r] = cpu_read(cpu, SEG_SS, sp, size);
        sp = stack_add(cpu, sp, size);
    }
    for (unsigned r = R_EAX; r <= R_EDI; r++)
        if (r != R_ESP)
            reg_write(cpu, r, size, v[r]);
    stack_ptr_set(cpu, sp);
}

/*
 * ENTER imm16, imm8 (C8): i->imm = frame size, i->imm2 = nesting level.
 * SDM Vol. 2A ENTER, "Operation":
 *
 *   push EBP (or BP)                      ; operand size
 *   FrameTemp := ESP (or SP)              ; stack size
 *   for level 1 .. L-1:  EBP -= opsize; push [SS:EBP]   ; display entries
 *   if L > 0: push FrameTemp
 *   EBP := FrameTemp; ESP -= AllocSize    ; by stack size
 *
 * The walk down the caller's display uses EBP or BP by the stack size and
 * steps by the operand size.  Everything is done on local copies and the
 * registers are committed at the end, so a fault part-way leaves them
 * unchanged (SDM Vol. 2A ENTER, protected-mode exceptions).  The new stack
 * top must lie inside SS: "#SS(0) If the new value of the SP or ESP register
 * is outside the stack segment limit."
 */
DEFINE_HANDLER(enter)
{
    unsigned size = opsize(i);
    uint32_t alloc = i->imm & 0xFFFFu;
    unsigned level = i->imm2 & 31;   /* "NestingLevel := imm8 MOD 32" */

    uint32_t sp = stack_add(cpu, stack_ptr(cpu), (uint32_t)-size);
    cpu_write(cpu, SEG_SS, sp, reg_read(cpu, R_EBP, size), size);
    uint32_t frame_temp = sp;

    if (level > 0) {
        uint32_t bp = stack32(cpu) ? cpu->s.regs[R_EBP] : (uint16_t)cpu->s.regs[R_EBP];
        for (unsigned n = 1; n < level; n++) {
            bp = stack_add(cpu, bp, (uint32_t)-size);
            uint32_t link = cpu_read(cpu, SEG_SS, bp, size);
            sp = stack_add(cpu, sp, (uint32_t)-size);
            cpu_write(cpu, SEG_SS, sp, link, size);
        }
        sp = stack_add(cpu, sp, (uint32_t)-size);
        cpu_write(cpu, SEG_SS, sp, frame_temp, size);
    }

    uint32_t new_sp = stack_add(cpu, sp, (uint32_t)-alloc);
    if (alloc != 0)
        cpu_check_segment(cpu, SEG_SS, new_sp, 1, true);

    if (stack32(cpu))
        cpu->s.regs[R_EBP] = frame_temp;
    else
        reg_write(cpu, R_EBP, 2, frame_temp);
    stack_ptr_set(cpu, new_sp);
}

/*
 * LEAVE (C9): ESP := EBP (SP := BP on a 16-bit stack), then pop EBP (BP
 * with 16-bit operand size).  SDM Vol. 2B LEAVE.  The pop reads before ESP
 * is committed.
 */
DEFINE_HANDLER(leave)
{
    unsigned size = opsize(i);
    uint32_t sp = stack32(cpu) ? cpu->s.regs[R_EBP] : (uint16_t)cpu->s.regs[R_EBP];
    uint32_t v = cpu_read(cpu, SEG_SS, sp, size);
    stack_ptr_set(cpu, stack_add(cpu, sp, size));
    reg_write(cpu, R_EBP, size, v);
}
