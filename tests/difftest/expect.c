/*
 * expect.c - what the comparison may not hold against the CPU: the opcodes
 * that are not tested (with the reason for each), and the flags and results
 * the SDM leaves undefined.
 *
 * Undefined flags are from each instruction's "Flags Affected" section of
 * the Intel SDM Vol. 2 (order number 325383); a flag the SDM calls
 * "unaffected" is compared (it must keep its input value), only "undefined"
 * ones are masked.
 */
#include <stdio.h>

#include "cpu/cpu.h"
#include "tests/difftest/difftest.h"

/*
 * Whole opcodes not tested.  Each is either not user-level code, needs a
 * machine Unicorn does not have, or has no single right answer to compare.
 */
static const struct { uint16_t op; const char *why; } excluded[] = {
    { 0x6C, "INSB: port I/O; devices are the machine's, Unicorn has no port space (I/O is tested by guest kernels)" },
    { 0x6D, "INSW/D: port I/O, as INSB" },
    { 0x6E, "OUTSB: port I/O, as INSB" },
    { 0x6F, "OUTSW/D: port I/O, as INSB" },
    { 0x9A, "CALL ptr16:16/32: far transfer through the GDT; system-level (unit and guest tests)" },
    { 0xCA, "RETF imm16: far transfer, as CALL far" },
    { 0xCB, "RETF: far transfer, as CALL far" },
    { 0xCD, "INT n: delivered through the IDT; Unicorn only reports the number to a hook, with no IDT" },
    { 0xCF, "IRET: far transfer and EFLAGS reload, system-level" },
    { 0xD8, "x87 escape: trapeze models no FPU (no x87 state to compare); Unicorn runs a full x87" },
    { 0xD9, "x87 escape, as D8" }, { 0xDA, "x87 escape, as D8" }, { 0xDB, "x87 escape, as D8" },
    { 0xDC, "x87 escape, as D8" }, { 0xDD, "x87 escape, as D8" }, { 0xDE, "x87 escape, as D8" },
    { 0xDF, "x87 escape, as D8" },
    { 0xE4, "IN AL,imm8: port I/O, as INSB" }, { 0xE5, "IN eAX,imm8: port I/O, as INSB" },
    { 0xE6, "OUT imm8,AL: port I/O, as INSB" }, { 0xE7, "OUT imm8,eAX: port I/O, as INSB" },
    { 0xEA, "JMP ptr16:16/32: far transfer, as CALL far" },
    { 0xEC, "IN AL,DX: port I/O, as INSB" }, { 0xED, "IN eAX,DX: port I/O, as INSB" },
    { 0xEE, "OUT DX,AL: port I/O, as INSB" }, { 0xEF, "OUT DX,eAX: port I/O, as INSB" },
    { 0xF1, "INT1/ICEBP: Unicorn 2.0.1 reports #UD (6) for it, not #DB (1): QEMU raises its "
            "internal debugger exit for ICEBP (SDM Vol. 3A 6.15 'Interrupt 1': a trap #DB)" },
    { 0xF4, "HLT: privileged, stops the processor (Unicorn ends the run)" },
    { 0xFA, "CLI: IF and its IOPL rules are system-level; no interrupts here to observe" },
    { 0xFB, "STI: as CLI (and its interrupt shadow)" },
    { 0x100, "grp6 SLDT STR LLDT LTR VERR VERW: LDT/TSS state the harness does not mirror" },
    { 0x101, "grp7 SGDT SIDT LGDT LIDT SMSW LMSW INVLPG: system registers" },
    { 0x106, "CLTS: privileged" },
    { 0x108, "INVD: privileged cache control" },
    { 0x109, "WBINVD: privileged cache control" },
    { 0x120, "MOV r32,CRn: privileged; CR0 differs by design (Unicorn CR0 = PE only)" },
    { 0x121, "MOV r32,DRn: privileged" },
    { 0x122, "MOV CRn,r32: privileged, changes the mode" },
    { 0x123, "MOV DRn,r32: privileged" },
    { 0x130, "WRMSR: privileged; the MSR sets differ" },
    { 0x131, "RDTSC: time: trapeze counts instructions, Unicorn reads host time" },
    { 0x132, "RDMSR: privileged; the MSR sets differ" },
    { 0x1A2, "CPUID: trapeze and Unicorn are different processors by design" },
};

const char *dt_excluded(unsigned op)
{
    for (unsigned k = 0; k < sizeof excluded / sizeof excluded[0]; k++)
        if (excluded[k].op == op) return excluded[k].why;
    return NULL;
}

/* Forms of tested opcodes the generator never produces, and why. */
static const char *const partial[] = {
    "LOCK prefix: its #UD rules (SDM Vol. 2A LOCK: only read-modify-write forms with a "
    "memory destination) are left to unit tests; LOCK changes no result here",
    "CS: segment override: QEMU's TCG does not check segment types or limits on "
    "data accesses, so a write through CS does not #GP there as the SDM (Vol. 3A 5.5) requires",
    "FF /3 and FF /5 (CALL/JMP m16:16/32): far transfers, system-level as CALL ptr16:32. "
    "Their register forms are #UD (SDM Vol. 2A CALL: 'If the operand is a register'), but "
    "Unicorn 2.0.1 aborts the whole process on them (qemu/tcg/tcg.c:3073: tcg fatal "
    "error, found by this test with bytes FF EA), so they cannot be compared either",
    "8F /1-/7, C6 /1-/7, C7 /1-/7: reserved encodings (XOP on AMD, XABORT/XBEGIN with TSX)",
    "0F C7 /0, /2-/7: RDRAND/RDSEED/VMPTRLD/VMCLEAR space, not in the i386/Pentium table",
    "LES/LDS (C4/C5) with a register operand: in 32-bit mode these bytes are the VEX "
    "prefixes on AVX processors (SDM Vol. 2A 2.3.5); Unicorn 2.0.1 decodes an AVX "
    "instruction (C5 F1 ...), trapeze raises #UD as a Pentium does",
    "F6 /1 and F7 /1: blank (reserved) in SDM Vol. 2D table A-6; Intel processors run "
    "them as TEST, QEMU's TCG (Unicorn 2.0.1) raises #UD, so there is no one answer",
    "RET imm16 (C2) with imm16 >= 0x8000: Unicorn 2.0.1 sign-extends the immediate "
    "(QEMU's x86_ldsw_code), so ESP moves down; the SDM (Vol. 2B RET) adds it unsigned. "
    "Found by this test: 67 C2 DB F7 with ESP 0x2980 gives ESP 0x215F, not 0x1215F",
    "F2/F3 on instructions other than string ops: reserved (later SSE and PAUSE meanings)",
    "BSWAP with a 16-bit operand: result undefined (SDM Vol. 2A BSWAP)",
    "SHLD/SHRD with a 16-bit operand and count (mod 32) above 16: result and flags "
    "undefined (SDM Vol. 2B SHLD)",
    "POPF popping TF = 1: the single-step trap would come after the next instruction, "
    "which the harness does not run",
};

void dt_print_partial_exclusions(void)
{
    for (unsigned k = 0; k < sizeof partial / sizeof partial[0]; k++)
        printf("  not generated: %s\n", partial[k]);
}

#define F_OSZAPC EFLAGS_ARITH
#define F_OF EFLAGS_OF
#define F_SF EFLAGS_SF
#define F_ZF EFLAGS_ZF
#define F_AF EFLAGS_AF
#define F_PF EFLAGS_PF
#define F_CF EFLAGS_CF

/* Undefined flags of the shift and rotate group (SDM Vol. 2B SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR). */
static uint32_t shift_undefined(unsigned opr, unsigned count, unsigned bits)
{
    unsigned cnt = count & 31;
    if (cnt == 0) return 0;                    /* "If the count is 0, the flags are not affected" */
    uint32_t u = 0;
    if (cnt != 1) u |= F_OF;                   /* OF defined for 1-bit shifts and rotates only */
    if (opr >= 4) {
        u |= F_AF;                             /* shifts: AF undefined for a non-zero count */
        if (opr != 7 && cnt >= bits) u |= F_CF; /* SHL/SHR: CF undefined when count >= width */
    }
    return u;
}

uint32_t dt_defined_flags(const struct dt_case *c, const struct dt_result *ref)
{
    unsigned op = c->op;
    uint32_t undef = 0;
    (void)ref;

    if (op < 0x40 && (op & 7) < 6) {
        unsigned alu = op >> 3;                /* AND OR XOR: AF undefined */
        if (alu == 4 || alu == 1 || alu == 6) undef = F_AF;
        return F_OSZAPC & ~undef;
    }
    switch (op) {
    case 0x80: case 0x81: case 0x82: case 0x83:
        if (c->reg == 4 || c->reg == 1 || c->reg == 6) undef = F_AF;
        break;
    case 0x84: case 0x85: case 0xA8: case 0xA9:   /* TEST: AF undefined */
        undef = F_AF;
        break;
    case 0x27: case 0x2F:                          /* DAA DAS: OF undefined */
        undef = F_OF;
        break;
    case 0x37: case 0x3F:                          /* AAA AAS: OF SF ZF PF undefined */
        undef = F_OF | F_SF | F_ZF | F_PF;
        break;
    case 0xD4: case 0xD5:                          /* AAM AAD: OF AF CF undefined */
        undef = F_OF | F_AF | F_CF;
        break;
    case 0x69: case 0x6B: case 0x1AF:              /* IMUL: SF ZF AF PF undefined */
        undef = F_SF | F_ZF | F_AF | F_PF;
        break;
    case 0xF6: case 0xF7:
        if (c->reg <= 1) undef = F_AF;                              /* TEST */
        else if (c->reg == 4 || c->reg == 5) undef = F_SF | F_ZF | F_AF | F_PF; /* MUL IMUL */
        else if (c->reg >= 6) undef = F_OSZAPC;                     /* DIV IDIV: all six */
        break;
    case 0xC0: case 0xC1: case 0xD0: case 0xD1: case 0xD2: case 0xD3:
        undef = shift_undefined(c->reg, c->count, c->osize * 8);
        break;
    case 0x1A4: case 0x1A5: case 0x1AC: case 0x1AD: { /* SHLD SHRD */
        unsigned cnt = c->count & 31;
        if (cnt != 0) undef = F_AF | (cnt > 1 ? F_OF : 0);
        break;
    }
    case 0x1A3: case 0x1AB: case 0x1B3: case 0x1BB: case 0x1BA: /* BT BTS BTR BTC: ZF unaffected */
        undef = F_OF | F_SF | F_AF | F_PF;
        break;
    case 0x1BC: case 0x1BD:                        /* BSF BSR: only ZF defined */
        undef = F_CF | F_OF | F_SF | F_AF | F_PF;
        break;
    default:
        break;
    }
    return F_OSZAPC & ~undef;
}

uint32_t dt_undefined_regs(const struct dt_case *c, const struct dt_result *ref)
{
    /* BSF/BSR with a zero source: "the content of the destination operand
     * is undefined" (SDM Vol. 2A BSF).  The source was zero when ZF = 1. */
    if ((c->op == 0x1BC || c->op == 0x1BD) && (ref->out.eflags & EFLAGS_ZF))
        return 1u << c->reg;
    return 0;
}
