/*
 * exec_bcd.c - decimal arithmetic adjustments (DAA DAS AAA AAS AAM AAD)
 * and the undocumented SALC.
 *
 * BCD comes in two layouts: packed (two decimal digits per byte, adjusted
 * by DAA/DAS after an 8-bit ADD/SUB in AL) and unpacked (one digit per
 * byte, AL the low digit and AH the next, adjusted by AAA/AAS after
 * ADD/SUB and by AAM/AAD around MUL/DIV).  The adjustments read AF, the
 * carry out of bit 3 that the preceding ADD/SUB left.
 *
 * Worked example (SDM Vol. 2A DAA): ADD AL, BL with AL = 0x79, BL = 0x35
 * gives AL = 0xAE, AF = 0, CF = 0; DAA then adds 6 (low digit 0xE > 9)
 * and 0x60 (AL 0xAE > 0x99: the high digit is not decimal), leaving
 * AL = 0x14, CF = 1: 79 + 35 = 114.
 *
 * Each function follows the "Operation" section of the current SDM Vol. 2A
 * (AAA and AAS there adjust AX as a whole, so the carry or borrow of the
 * low byte reaches AH, as on the 486 and Pentium).  Undefined flags: DAA
 * and DAS clear OF; AAA and AAS keep OF SF ZF PF; AAM and AAD clear OF AF CF.
 */
#include "cpu/cpu_internal.h"

/* SF ZF PF of an 8-bit result. */
static uint32_t szp8(uint8_t v)
{
    return (v == 0 ? EFLAGS_ZF : 0) | ((v & 0x80) ? EFLAGS_SF : 0) | (parity8(v) ? EFLAGS_PF : 0);
}

static bool cpu_af(struct cpu *cpu) { return (cpu_get_eflags(cpu) & EFLAGS_AF) != 0; }

/* 27 DAA: SDM Vol. 2A DAA. */
DEFINE_HANDLER(daa)
{
    cpu_check_lock(cpu, i, false);
    uint8_t al = reg8_read(cpu, R_EAX), old_al = al;
    bool old_cf = cpu_cf(cpu), cf = false, af;

    if ((al & 0x0F) > 9 || cpu_af(cpu)) {
        cf = old_cf || al > 0xF9;      /* carry from AL + 6 */
        al = (uint8_t)(al + 6);
        af = true;
    } else {
        af = false;
    }
    if (old_al > 0x99 || old_cf) {
        al = (uint8_t)(al + 0x60);
        cf = true;
    } else {
        cf = false;
    }
    reg8_write(cpu, R_EAX, al);
    flags_set_arith(cpu, szp8(al) | (cf ? EFLAGS_CF : 0) | (af ? EFLAGS_AF : 0), EFLAGS_ARITH);
}

/* 2F DAS: SDM Vol. 2A DAS.  Unlike DAA, the second step has no "else CF := 0":
 * a borrow from the first step stands (AL = 03, AF = 1 gives AL = FD, CF = 1). */
DEFINE_HANDLER(das)
{
    cpu_check_lock(cpu, i, false);
    uint8_t al = reg8_read(cpu, R_EAX), old_al = al;
    bool old_cf = cpu_cf(cpu), cf = false, af;

    if ((al & 0x0F) > 9 || cpu_af(cpu)) {
        cf = old_cf || al < 6;         /* borrow from AL - 6 */
        al = (uint8_t)(al - 6);
        af = true;
    } else {
        af = false;
    }
    if (old_al > 0x99 || old_cf) {
        al = (uint8_t)(al - 0x60);
        cf = true;
    }
    reg8_write(cpu, R_EAX, al);
    flags_set_arith(cpu, szp8(al) | (cf ? EFLAGS_CF : 0) | (af ? EFLAGS_AF : 0), EFLAGS_ARITH);
}

/* 37 AAA: SDM Vol. 2A AAA: AX := AX + 106H, then AL := AL AND 0FH. */
DEFINE_HANDLER(aaa)
{
    cpu_check_lock(cpu, i, false);
    uint16_t ax = (uint16_t)reg_read(cpu, R_EAX, 2);
    bool adjust = (ax & 0x0F) > 9 || cpu_af(cpu);

    if (adjust) ax = (uint16_t)(ax + 0x106);
    ax &= 0xFF0F;
    reg_write(cpu, R_EAX, 2, ax);
    flags_set_arith(cpu, adjust ? EFLAGS_CF | EFLAGS_AF : 0, EFLAGS_CF | EFLAGS_AF);
}

/* 3F AAS: SDM Vol. 2A AAS: AX := AX - 6, AH := AH - 1, then AL := AL AND 0FH. */
DEFINE_HANDLER(aas)
{
    cpu_check_lock(cpu, i, false);
    uint16_t ax = (uint16_t)reg_read(cpu, R_EAX, 2);
    bool adjust = (ax & 0x0F) > 9 || cpu_af(cpu);

    if (adjust) ax = (uint16_t)(ax - 6 - 0x100);
    ax &= 0xFF0F;
    reg_write(cpu, R_EAX, 2, ax);
    flags_set_arith(cpu, adjust ? EFLAGS_CF | EFLAGS_AF : 0, EFLAGS_CF | EFLAGS_AF);
}

/*
 * D4 ib AAM: AH := AL / imm8, AL := AL MOD imm8 (D4 0A is the documented
 * base 10; any base works).  imm8 = 0 raises #DE (SDM Vol. 2A AAM).
 * SF ZF PF follow AL; OF AF CF are undefined: the LF_LOGIC record clears them.
 */
DEFINE_HANDLER(aam_Ib)
{
    cpu_check_lock(cpu, i, false);
    uint8_t base = (uint8_t)i->imm;
    if (base == 0) cpu_fault(cpu, X86_DE);
    uint8_t al = reg8_read(cpu, R_EAX);
    uint8_t q = al / base, r = al % base;
    reg_write(cpu, R_EAX, 2, ((uint32_t)q << 8) | r);
    flags_set(cpu, LF_LOGIC, 1, r, r, r);
}

/*
 * D5 ib AAD: AL := (AL + AH * imm8) AND FFH, AH := 0 (SDM Vol. 2A AAD).
 * Flags as AAM.
 */
DEFINE_HANDLER(aad_Ib)
{
    cpu_check_lock(cpu, i, false);
    uint8_t al = reg8_read(cpu, R_EAX), ah = reg8_read(cpu, 4 /* AH */);
    uint8_t r = (uint8_t)(al + ah * (uint8_t)i->imm);
    reg_write(cpu, R_EAX, 2, r);
    flags_set(cpu, LF_LOGIC, 1, r, r, r);
}

/* D6 SALC (undocumented, every Intel part since the 8086): AL := CF ? FFH : 0,
 * flags unchanged. */
DEFINE_HANDLER(salc)
{
    cpu_check_lock(cpu, i, false);
    reg8_write(cpu, R_EAX, cpu_cf(cpu) ? 0xFF : 0x00);
}
