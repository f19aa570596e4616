/*
 * exec_data.c - data movement: MOV in all its forms, segment-register
 * moves, pushes and pops, LEA, XCHG, the sign extensions of the
 * accumulator, XLAT, LAHF/SAHF, the flag bit instructions, the far-pointer
 * loads LxS, CMPXCHG, XADD, CMPXCHG8B and BOUND.
 *
 * Fault rule (cpu_internal.h): memory is read and written before any
 * register changes, so a fault leaves the registers as they were.
 */
#include "cpu/cpu_internal.h"

/* Default segment DS unless a prefix overrides it (non-ModRM memory forms). */
static int data_segment(const struct x86_insn *i)
{
    return i->seg_override ? i->seg : SEG_DS;
}

/* An offset plus 'delta', wrapped to the address size. */
static uint32_t addr_add(const struct x86_insn *i, uint32_t off, uint32_t delta)
{
    uint32_t v = off + delta;
    return i->as32 ? v : (v & 0xFFFFu);
}

/* ---------- MOV ---------- */

DEFINE_HANDLER(mov_EbGb) { rm_write(cpu, i, 1, reg8_read(cpu, i->reg)); }
DEFINE_HANDLER(mov_EvGv) { rm_write(cpu, i, opsize(i), reg_read(cpu, i->reg, opsize(i))); }
DEFINE_HANDLER(mov_GbEb) { reg8_write(cpu, i->reg, (uint8_t)rm_read(cpu, i, 1)); }

DEFINE_HANDLER(mov_GvEv)
{
    unsigned size = opsize(i);
    reg_write(cpu, i->reg, size, rm_read(cpu, i, size));
}

/* C6 /0 and C7 /0: the other ModRM.reg values are not MOV (#UD on the Pentium). */
DEFINE_HANDLER(mov_EbIb)
{
    if (i->reg != 0)
        cpu_fault(cpu, X86_UD);
    rm_write(cpu, i, 1, i->imm);
}

DEFINE_HANDLER(mov_EvIv)
{
    if (i->reg != 0)
        cpu_fault(cpu, X86_UD);
    rm_write(cpu, i, opsize(i), i->imm);
}

DEFINE_HANDLER(mov_ZbIb) { reg8_write(cpu, i->op & 7, (uint8_t)i->imm); }
DEFINE_HANDLER(mov_ZvIv) { reg_write(cpu, i->op & 7, opsize(i), i->imm); }

/* MOVZX / MOVSX (SDM Vol. 2B): a byte or word source extended to the
 * operand size; with a 16-bit operand size and a word source it is a move. */
DEFINE_HANDLER(movzx_GvEb) { reg_write(cpu, i->reg, opsize(i), rm_read(cpu, i, 1)); }
DEFINE_HANDLER(movzx_GvEw) { reg_write(cpu, i->reg, opsize(i), rm_read(cpu, i, 2)); }
DEFINE_HANDLER(movsx_GvEb)
{
    reg_write(cpu, i->reg, opsize(i), (uint32_t)(int32_t)(int8_t)rm_read(cpu, i, 1));
}
DEFINE_HANDLER(movsx_GvEw)
{
    reg_write(cpu, i->reg, opsize(i), (uint32_t)(int32_t)(int16_t)rm_read(cpu, i, 2));
}

/* A0-A3: moffs is an offset of the address size in i->disp. */
static uint32_t moffs(const struct x86_insn *i)
{
    return i->as32 ? i->disp : (i->disp & 0xFFFFu);
}

DEFINE_HANDLER(mov_ALOb) { reg8_write(cpu, R_EAX, cpu_read8(cpu, data_segment(i), moffs(i))); }

DEFINE_HANDLER(mov_eAXOv)
{
    unsigned size = opsize(i);
    reg_write(cpu, R_EAX, size, cpu_read(cpu, data_segment(i), moffs(i), size));
}

DEFINE_HANDLER(mov_ObAL) { cpu_write8(cpu, data_segment(i), moffs(i), reg8_read(cpu, R_EAX)); }

DEFINE_HANDLER(mov_OveAX)
{
    unsigned size = opsize(i);
    cpu_write(cpu, data_segment(i), moffs(i), reg_read(cpu, R_EAX, size), size);
}

/*
 * Segment registers and a VMM (cpu.h struct cpu_sensitive): reading CS or
 * SS at CPL > 0 reveals the CPL in the selector's RPL - the classic reason
 * plain x86 is not Popek-Goldberg virtualizable - and a deprivileged kernel
 * reads back the selectors the VMM gave it rather than its own; loading one
 * is where a VMM that rewrites descriptors must follow along.  So every
 * read (PUSH Sreg, MOV r/m, Sreg) and load (POP Sreg, MOV Sreg, LxS) is
 * reported, with these names by SEG_* number.
 */
static const char *const push_sreg_name[SEG_COUNT] = {
    "push es", "push cs", "push ss", "push ds", "push fs", "push gs" };
static const char *const mov_from_sreg_name[SEG_COUNT] = {
    "mov from es", "mov from cs", "mov from ss", "mov from ds", "mov from fs", "mov from gs" };
static const char *const pop_sreg_name[SEG_COUNT] = {
    "pop es", "pop cs", "pop ss", "pop ds", "pop fs", "pop gs" };
static const char *const mov_sreg_name[SEG_COUNT] = {
    "mov es", "mov cs", "mov ss", "mov ds", "mov fs", "mov gs" };

/*
 * MOV r/m16, Sreg (8C).  SDM Vol. 2B MOV: to a 32-bit register the selector
 * is zero-extended (P6 and later; earlier processors left the upper half
 * undefined); to memory exactly 16 bits are written whatever the operand
 * size.  Sreg 6 and 7 do not exist: #UD.
 */
DEFINE_HANDLER(mov_EwSw)
{
    if (i->reg > SEG_GS)
        cpu_fault(cpu, X86_UD);
    cpu_sensitive_trap(cpu);
    uint16_t sel = cpu->s.seg[i->reg].selector;
    if (i->mod == 3)
        reg_write(cpu, i->rm, i->os32 ? 4 : 2, sel);
    else
        cpu_write16(cpu, i->seg, cpu_ea(cpu, i), sel);
    cpu_note_sensitive(cpu, mov_from_sreg_name[i->reg], 0, sel);
}

/*
 * MOV Sreg, r/m16 (8E).  CS cannot be loaded by MOV and sreg 6/7 do not
 * exist: #UD (SDM Vol. 2B MOV).  Loading SS inhibits interrupts until after
 * the next instruction, so a following MOV ESP completes the stack switch
 * (SDM Vol. 3A 6.8.3).
 */
DEFINE_HANDLER(mov_SwEw)
{
    if (i->reg == SEG_CS || i->reg > SEG_GS)
        cpu_fault(cpu, X86_UD);
    uint16_t sel = (uint16_t)rm_read(cpu, i, 2);
    cpu_load_sreg(cpu, i->reg, sel);
    if (i->reg == SEG_SS)
        cpu->s.interrupt_shadow = 1;
    cpu_note_sensitive(cpu, mov_sreg_name[i->reg], 0, sel);
}

/* LEA (8D): the offset, computed by the address size, truncated or zero-extended to the operand size. */
DEFINE_HANDLER(lea_GvM)
{
    if (i->mod == 3)
        cpu_fault(cpu, X86_UD);
    reg_write(cpu, i->reg, opsize(i), cpu_ea(cpu, i));
}

/* ---------- XCHG, NOP ---------- */

/*
 * XCHG r/m, r (86, 87).  With a memory operand the processor asserts LOCK
 * by itself (SDM Vol. 2B XCHG); a single-CPU model has nothing to lock.
 * The memory write goes first, then the register.
 */
static void xchg_rm_reg(struct cpu *cpu, const struct x86_insn *i, unsigned size)
{
    uint32_t mem = rm_read_rmw(cpu, i, size);
    uint32_t reg = reg_read(cpu, i->reg, size);
    rm_write(cpu, i, size, reg);
    reg_write(cpu, i->reg, size, mem);
}

DEFINE_HANDLER(xchg_EbGb) { xchg_rm_reg(cpu, i, 1); }
DEFINE_HANDLER(xchg_EvGv) { xchg_rm_reg(cpu, i, opsize(i)); }

/* XCHG eAX, r (91-97). */
DEFINE_HANDLER(xchg_ZveAX)
{
    unsigned size = opsize(i), r = i->op & 7;
    uint32_t a = reg_read(cpu, R_EAX, size);
    reg_write(cpu, R_EAX, size, reg_read(cpu, r, size));
    reg_write(cpu, r, size, a);
}

/* NOP (90), also PAUSE (F3 90): a spin-loop hint with no architectural effect. */
DEFINE_HANDLER(nop) { (void)cpu; (void)i; }

/* ---------- accumulator conversions, XLAT ---------- */

/* CBW (16-bit): AX := sign-extend AL.  CWDE (32-bit): EAX := sign-extend AX. */
DEFINE_HANDLER(cbw_cwde)
{
    if (i->os32)
        cpu->s.regs[R_EAX] = (uint32_t)(int32_t)(int16_t)cpu->s.regs[R_EAX];
    else
        reg_write(cpu, R_EAX, 2, (uint32_t)(int32_t)(int8_t)cpu->s.regs[R_EAX]);
}

/* CWD: DX := sign of AX, repeated.  CDQ: EDX := sign of EAX, repeated. */
DEFINE_HANDLER(cwd_cdq)
{
    unsigned size = opsize(i);
    uint32_t sign = reg_read(cpu, R_EAX, size) & sign_bit(size);
    reg_write(cpu, R_EDX, size, sign ? 0xFFFFFFFFu : 0);
}

/* XLAT (D7): AL := [seg:eBX + zero-extended AL], wrapped to the address size. */
DEFINE_HANDLER(xlat)
{
    uint32_t base = i->as32 ? cpu->s.regs[R_EBX] : (uint16_t)cpu->s.regs[R_EBX];
    uint32_t off = addr_add(i, base, reg8_read(cpu, R_EAX));
    reg8_write(cpu, R_EAX, cpu_read8(cpu, data_segment(i), off));
}

/* ---------- flags ---------- */

/* LAHF: AH := SF:ZF:0:AF:0:PF:1:CF (SDM Vol. 2A LAHF). */
DEFINE_HANDLER(lahf)
{
    (void)i;
    uint32_t f = cpu_get_eflags(cpu);
    reg8_write(cpu, 4, (uint8_t)((f & (EFLAGS_SF | EFLAGS_ZF | EFLAGS_AF | EFLAGS_PF | EFLAGS_CF))
                                 | EFLAGS_FIXED1));
}

/* SAHF: SF ZF AF PF CF := AH bits 7 6 4 2 0; OF unchanged (SDM Vol. 2B SAHF). */
DEFINE_HANDLER(sahf)
{
    (void)i;
    flags_set_arith(cpu, reg8_read(cpu, 4),
                    EFLAGS_SF | EFLAGS_ZF | EFLAGS_AF | EFLAGS_PF | EFLAGS_CF);
}

DEFINE_HANDLER(cmc)
{
    (void)i;
    bool cf = cpu_cf(cpu);
    flags_set_arith(cpu, cf ? 0 : EFLAGS_CF, EFLAGS_CF);
}

DEFINE_HANDLER(clc) { (void)i; flags_set_arith(cpu, 0, EFLAGS_CF); }
DEFINE_HANDLER(stc) { (void)i; flags_set_arith(cpu, EFLAGS_CF, EFLAGS_CF); }
/* DF is not an arithmetic flag: it lives in s.eflags directly. */
DEFINE_HANDLER(cld) { (void)i; cpu->s.eflags &= ~EFLAGS_DF; }
DEFINE_HANDLER(std) { (void)i; cpu->s.eflags |= EFLAGS_DF; }

/* ---------- segment registers on the stack ---------- */

/*
 * The segment register of a PUSH/POP sreg opcode: 06/07 ES, 0E CS, 16/17
 * SS, 1E/1F DS (bits 4:3 of the one-byte opcode), 0F A0/A1 FS, 0F A8/A9 GS.
 */
static int sreg_of_opcode(uint16_t op)
{
    if (op >= 0x100)
        return SEG_FS + ((op >> 3) & 1);
    return (op >> 3) & 3;
}

/*
 * PUSH sreg.  With a 32-bit operand size ESP moves by 4; SDM Vol. 2B PUSH:
 * recent processors may write only the low 16 bits, while Pentium-era
 * processors write the whole doubleword with the selector zero-extended,
 * which is what this i386/Pentium model does.
 */
DEFINE_HANDLER(push_sreg)
{
    int sreg = sreg_of_opcode(i->op);
    cpu_sensitive_trap(cpu);
    uint16_t sel = cpu->s.seg[sreg].selector;
    cpu_push(cpu, opsize(i), sel);
    cpu_note_sensitive(cpu, push_sreg_name[sreg], 0, sel);
}

/*
 * POP sreg.  A 32-bit pop reads a doubleword and keeps its low 16 bits.
 * The segment is loaded (with all its checks) before ESP moves.  Loading SS
 * may change SS.B, so ESP is advanced by the stack width in force when the
 * pop read it.  POP SS inhibits interrupts for one instruction (SDM Vol. 3A
 * 6.8.3).
 */
DEFINE_HANDLER(pop_sreg)
{
    int sreg = sreg_of_opcode(i->op);
    unsigned size = opsize(i);
    bool wide = stack32(cpu);
    uint32_t sp = stack_ptr(cpu);
    uint16_t sel = (uint16_t)cpu_read(cpu, SEG_SS, sp, size);
    cpu_load_sreg(cpu, sreg, sel);
    if (wide)
        cpu->s.regs[R_ESP] = sp + size;
    else
        reg_write(cpu, R_ESP, 2, sp + size);
    if (sreg == SEG_SS)
        cpu->s.interrupt_shadow = 1;
    cpu_note_sensitive(cpu, pop_sreg_name[sreg], 0, sel);
}

/* ---------- far pointers ---------- */

/*
 * LES/LDS/LSS/LFS/LGS r, m16:16 or m16:32: the offset (operand size) then
 * the selector above it.  The segment is loaded first, with its checks, and
 * only then the general register (SDM Vol. 2A LDS/LES/LFS/LGS/LSS).  A
 * register operand is #UD.
 */
static void load_far_pointer(struct cpu *cpu, const struct x86_insn *i, int sreg, const char *name)
{
    if (i->mod == 3)
        cpu_fault(cpu, X86_UD);
    unsigned size = opsize(i);
    uint32_t ea = cpu_ea(cpu, i);
    uint32_t off = cpu_read(cpu, i->seg, ea, size);
    uint16_t sel = cpu_read16(cpu, i->seg, addr_add(i, ea, size));
    cpu_load_sreg(cpu, sreg, sel);
    reg_write(cpu, i->reg, size, off);
    cpu_note_sensitive(cpu, name, 0, sel);
}

DEFINE_HANDLER(les_GvMp) { load_far_pointer(cpu, i, SEG_ES, "les"); }
DEFINE_HANDLER(lds_GvMp) { load_far_pointer(cpu, i, SEG_DS, "lds"); }
DEFINE_HANDLER(lss_GvMp) { load_far_pointer(cpu, i, SEG_SS, "lss"); }
DEFINE_HANDLER(lfs_GvMp) { load_far_pointer(cpu, i, SEG_FS, "lfs"); }
DEFINE_HANDLER(lgs_GvMp) { load_far_pointer(cpu, i, SEG_GS, "lgs"); }

/* ---------- atomics (486+): CMPXCHG, XADD, CMPXCHG8B ---------- */

/*
 * CMPXCHG r/m, r (0F B0/B1).  SDM Vol. 2A CMPXCHG:
 *
 *   TEMP := DEST
 *   IF accumulator = TEMP THEN ZF := 1; DEST := SRC
 *   ELSE ZF := 0; accumulator := TEMP; DEST := TEMP
 *
 * "The destination operand is written back if the comparison fails", so a
 * read-only destination faults either way.  The flags are those of
 * CMP accumulator, TEMP.
 */
static void cmpxchg(struct cpu *cpu, const struct x86_insn *i, unsigned size)
{
    uint32_t temp = rm_read_rmw(cpu, i, size);
    uint32_t acc = reg_read(cpu, R_EAX, size);
    bool equal = acc == temp;
    rm_write(cpu, i, size, equal ? reg_read(cpu, i->reg, size) : temp);
    if (!equal)
        reg_write(cpu, R_EAX, size, temp);
    flags_set(cpu, LF_SUB, size, acc - temp, acc, temp);
}

DEFINE_HANDLER(cmpxchg_EbGb) { cmpxchg(cpu, i, 1); }
DEFINE_HANDLER(cmpxchg_EvGv) { cmpxchg(cpu, i, opsize(i)); }

/*
 * XADD r/m, r (0F C0/C1): TEMP := SRC + DEST; SRC := DEST; DEST := TEMP
 * (SDM Vol. 2B XADD), flags as ADD.  The destination is written last, so
 * XADD of a register with itself leaves the sum.  With memory the write
 * goes first for the fault rule; the locations differ so order is invisible.
 */
static void xadd(struct cpu *cpu, const struct x86_insn *i, unsigned size)
{
    uint32_t dest = rm_read_rmw(cpu, i, size);
    uint32_t src = reg_read(cpu, i->reg, size);
    uint32_t sum = dest + src;
    if (i->mod == 3) {
        reg_write(cpu, i->reg, size, dest);
        reg_write(cpu, i->rm, size, sum);
    } else {
        rm_write(cpu, i, size, sum);
        reg_write(cpu, i->reg, size, dest);
    }
    flags_set(cpu, LF_ADD, size, sum, dest, src);
}

DEFINE_HANDLER(xadd_EbGb) { xadd(cpu, i, 1); }
DEFINE_HANDLER(xadd_EvGv) { xadd(cpu, i, opsize(i)); }

/*
 * CMPXCHG8B m64 (0F C7 /1, Pentium): compare EDX:EAX with m64; equal:
 * ZF := 1, m64 := ECX:EBX; else ZF := 0, EDX:EAX := m64 and m64 is written
 * back unchanged (SDM Vol. 2A CMPXCHG8B).  Only ZF changes.  Other
 * ModRM.reg values and a register operand are #UD.
 */
DEFINE_HANDLER(grp9_Mq)
{
    if (i->reg != 1 || i->mod == 3)
        cpu_fault(cpu, X86_UD);
    uint32_t ea = cpu_ea(cpu, i), ea_hi = addr_add(i, ea, 4);
    uint32_t lo = cpu_read_rmw(cpu, i->seg, ea, 4);
    uint32_t hi = cpu_read_rmw(cpu, i->seg, ea_hi, 4);
    bool equal = lo == cpu->s.regs[R_EAX] && hi == cpu->s.regs[R_EDX];
    if (equal) {
        cpu_write32(cpu, i->seg, ea, cpu->s.regs[R_EBX]);
        cpu_write32(cpu, i->seg, ea_hi, cpu->s.regs[R_ECX]);
    } else {
        cpu_write32(cpu, i->seg, ea, lo);
        cpu_write32(cpu, i->seg, ea_hi, hi);
        cpu->s.regs[R_EAX] = lo;
        cpu->s.regs[R_EDX] = hi;
    }
    flags_set_arith(cpu, equal ? EFLAGS_ZF : 0, EFLAGS_ZF);
}

/*
 * BOUND r, m16&16 / m32&32 (62): #BR when the signed index is below the
 * lower bound or above the upper bound (SDM Vol. 2A BOUND).  A register
 * operand is #UD.
 */
DEFINE_HANDLER(bound_GvMa)
{
    if (i->mod == 3)
        cpu_fault(cpu, X86_UD);
    unsigned size = opsize(i);
    uint32_t ea = cpu_ea(cpu, i);
    uint32_t lower = cpu_read(cpu, i->seg, ea, size);
    uint32_t upper = cpu_read(cpu, i->seg, addr_add(i, ea, size), size);
    uint32_t index = reg_read(cpu, i->reg, size);
    int32_t lo, hi, idx;
    if (size == 2) {
        lo = (int16_t)lower; hi = (int16_t)upper; idx = (int16_t)index;
    } else {
        lo = (int32_t)lower; hi = (int32_t)upper; idx = (int32_t)index;
    }
    if (idx < lo || idx > hi)
        cpu_fault(cpu, X86_BR);
}
