/*
 * exec_string.c - the string instructions MOVS CMPS STOS LODS SCAS INS OUTS
 * and their REP/REPE/REPNE forms (SDM Vol. 1 7.3.9, Vol. 2B "REP/REPE/
 * REPZ/REPNE/REPNZ").
 *
 * Operands: the source is seg:eSI, seg being DS unless a prefix overrides
 * it; the destination is always ES:eDI (no override).  The address size
 * picks SI/DI/CX (16-bit, wrapping at 0xFFFF) or ESI/EDI/ECX.  After each
 * element the index registers move by the element size, down when DF = 1.
 *
 * REP is interruptible (SDM Vol. 2B REP: "a repeating string operation
 * can be suspended by an exception or interrupt ... the registers are
 * updated so that the instruction can be restarted").  One call of a
 * handler does at most STRING_CHUNK iterations; when work remains it
 * points EIP back at the instruction and ends the block, so the run loop
 * can take an interrupt, count the budget, and then simply run it again.
 * Each iteration does its memory accesses first and only then moves
 * eSI/eDI and decrements eCX, so a fault part-way leaves the registers as
 * of the iterations that completed, and the restarted instruction goes on
 * from there.
 *
 * Worked example: REP MOVSB with ECX = 3000 runs 1024 bytes, leaves
 * ECX = 1976 and EIP at the REP prefix; two more calls finish the copy.
 */
#include "cpu/cpu_internal.h"

/* Iterations one call runs before yielding to the run loop. */
#define STRING_CHUNK 1024

enum string_op { STR_MOVS, STR_CMPS, STR_STOS, STR_LODS, STR_SCAS, STR_INS, STR_OUTS };

/* eSI / eDI / eCX by the address size. */
static uint32_t addr_reg(const struct cpu *cpu, const struct x86_insn *i, int r)
{
    return i->as32 ? cpu->s.regs[r] : (uint16_t)cpu->s.regs[r];
}

static void addr_reg_set(struct cpu *cpu, const struct x86_insn *i, int r, uint32_t v)
{
    if (i->as32)
        cpu->s.regs[r] = v;
    else
        reg_write(cpu, r, 2, v);
}

/* Move eSI or eDI one element in the direction DF says. */
static void advance(struct cpu *cpu, const struct x86_insn *i, int r, unsigned size)
{
    uint32_t delta = (cpu->s.eflags & EFLAGS_DF) ? (uint32_t)-size : size;
    addr_reg_set(cpu, i, r, addr_reg(cpu, i, r) + delta);
}

/* One element of the operation; registers move only after the accesses. */
static void string_once(struct cpu *cpu, const struct x86_insn *i, enum string_op op, unsigned size)
{
    int src_seg = i->seg_override ? i->seg : SEG_DS;
    uint32_t si = addr_reg(cpu, i, R_ESI), di = addr_reg(cpu, i, R_EDI);
    uint32_t a, b;

    switch (op) {
    case STR_MOVS:
        a = cpu_read(cpu, src_seg, si, size);
        cpu_write(cpu, SEG_ES, di, a, size);
        advance(cpu, i, R_ESI, size);
        advance(cpu, i, R_EDI, size);
        break;
    case STR_CMPS:
        /* SDM Vol. 2A CMPS: temp := SRC1 - SRC2 with SRC1 = seg:eSI, SRC2 = ES:eDI. */
        a = cpu_read(cpu, src_seg, si, size);
        b = cpu_read(cpu, SEG_ES, di, size);
        advance(cpu, i, R_ESI, size);
        advance(cpu, i, R_EDI, size);
        flags_set(cpu, LF_SUB, size, a - b, a, b);
        break;
    case STR_STOS:
        cpu_write(cpu, SEG_ES, di, reg_read(cpu, R_EAX, size), size);
        advance(cpu, i, R_EDI, size);
        break;
    case STR_LODS:
        a = cpu_read(cpu, src_seg, si, size);
        reg_write(cpu, R_EAX, size, a);
        advance(cpu, i, R_ESI, size);
        break;
    case STR_SCAS:
        /* SDM Vol. 2B SCAS: accumulator - ES:eDI. */
        a = reg_read(cpu, R_EAX, size);
        b = cpu_read(cpu, SEG_ES, di, size);
        advance(cpu, i, R_EDI, size);
        flags_set(cpu, LF_SUB, size, a - b, a, b);
        break;
    case STR_INS: {
        uint16_t port = (uint16_t)cpu->s.regs[R_EDX];
        cpu_check_io(cpu, port, size);
        /*
         * Probe the destination for writing before reading the port: a
         * port read has side effects (a disk controller's data FIFO), so a
         * #PF on the buffer must not happen after the data left the device,
         * or the restarted instruction would lose it.
         */
        (void)cpu_read_rmw(cpu, SEG_ES, di, size);
        a = cpu_port_in(cpu, port, size);
        cpu_write(cpu, SEG_ES, di, a, size);
        advance(cpu, i, R_EDI, size);
        break;
    }
    case STR_OUTS: {
        uint16_t port = (uint16_t)cpu->s.regs[R_EDX];
        cpu_check_io(cpu, port, size);
        a = cpu_read(cpu, src_seg, si, size);
        cpu_port_out(cpu, port, a, size);
        advance(cpu, i, R_ESI, size);
        break;
    }
    }
}

/*
 * Run a string instruction with its prefix.  For CMPS and SCAS, F3 is REPE
 * (stop when ZF = 0) and F2 REPNE (stop when ZF = 1), tested after each
 * element; the other instructions treat either prefix as plain REP.  The
 * count is tested before each element, so eCX = 0 does nothing at all.
 */
static void string_run(struct cpu *cpu, const struct x86_insn *i, enum string_op op, unsigned size)
{
    if (op == STR_INS || op == STR_OUTS)
        cpu->end_block = true;   /* a device may have asked for an exit or raised an IRQ */
    if (!i->rep) {
        string_once(cpu, i, op, size);
        return;
    }
    bool conditional = op == STR_CMPS || op == STR_SCAS;
    for (unsigned n = 0;; n++) {
        uint32_t count = addr_reg(cpu, i, R_ECX);
        if (count == 0)
            return;
        if (n == STRING_CHUNK) {
            cpu->s.eip = cpu->insn_eip;   /* run again from the prefix */
            cpu->end_block = true;
            return;
        }
        string_once(cpu, i, op, size);
        addr_reg_set(cpu, i, R_ECX, count - 1);
        if (conditional && cpu_zf(cpu) != (i->rep == 0xF3))
            return;
    }
}

DEFINE_HANDLER(movsb) { string_run(cpu, i, STR_MOVS, 1); }
DEFINE_HANDLER(movsv) { string_run(cpu, i, STR_MOVS, opsize(i)); }
DEFINE_HANDLER(cmpsb) { string_run(cpu, i, STR_CMPS, 1); }
DEFINE_HANDLER(cmpsv) { string_run(cpu, i, STR_CMPS, opsize(i)); }
DEFINE_HANDLER(stosb) { string_run(cpu, i, STR_STOS, 1); }
DEFINE_HANDLER(stosv) { string_run(cpu, i, STR_STOS, opsize(i)); }
DEFINE_HANDLER(lodsb) { string_run(cpu, i, STR_LODS, 1); }
DEFINE_HANDLER(lodsv) { string_run(cpu, i, STR_LODS, opsize(i)); }
DEFINE_HANDLER(scasb) { string_run(cpu, i, STR_SCAS, 1); }
DEFINE_HANDLER(scasv) { string_run(cpu, i, STR_SCAS, opsize(i)); }
DEFINE_HANDLER(insb) { string_run(cpu, i, STR_INS, 1); }
DEFINE_HANDLER(insv) { string_run(cpu, i, STR_INS, opsize(i)); }
DEFINE_HANDLER(outsb) { string_run(cpu, i, STR_OUTS, 1); }
DEFINE_HANDLER(outsv) { string_run(cpu, i, STR_OUTS, opsize(i)); }
