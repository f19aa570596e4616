/*
 * exec_int.c - INT3, INT imm8, INTO, INT1 (ICEBP) and IRET.
 *
 * The software interrupts unwind to the run loop like a fault, which then
 * delivers the vector through the IDT (interrupt.c) with EIP already past
 * the instruction: a handler's IRET resumes after the INT (SDM Vol. 2A
 * INT n).  Only INT n, INT3 and INTO check the gate DPL against CPL
 * (Vol. 3A 6.12.1.1); INT1 behaves as a #DB trap, without the check.
 */
#include "cpu/cpu_internal.h"

/* CC: INT3, the one-byte breakpoint (Vol. 2A INT n). */
DEFINE_HANDLER(int3)
{
    (void)i;
    cpu_soft_interrupt(cpu, X86_BP, true);
}

/* CD ib: INT imm8. */
DEFINE_HANDLER(int_Ib)
{
    cpu_soft_interrupt(cpu, (int)(i->imm & 0xFF), true);
}

/* CE: INTO, #OF only when OF = 1; otherwise nothing happens (Vol. 2A INT n). */
DEFINE_HANDLER(into)
{
    (void)i;
    if (cpu_cond(cpu, 0)) cpu_soft_interrupt(cpu, X86_OF, true);
}

/* F1: INT1 / ICEBP, a #DB trap with no gate DPL check (Vol. 2A INT n, note on INT1). */
DEFINE_HANDLER(int1)
{
    (void)i;
    cpu_soft_interrupt(cpu, X86_DB, false);   /* a #DB trap, no DPL check */
}

/* CF: IRET / IRETD by operand size (Vol. 2A IRET); sensitive for a VMM at CPL > 0. */
DEFINE_HANDLER(iret)
{
    /* Where it ran, before the return (or a task switch) changes it. */
    uint32_t eip = cpu->insn_eip;
    uint16_t cs = cpu->s.seg[SEG_CS].selector;
    unsigned cpl = cpu->s.cpl;
    uint32_t image = cpu_iret(cpu, opsize(i));
    cpu->end_block = true;
    if (cpu_sensitive_reporting(cpu, cpl)) {
        uint32_t got = cpu_get_eflags(cpu);
        uint32_t wanted = opsize(i) == 2 ? (got & 0xFFFF0000u) | (image & 0xFFFFu) : image;
        cpu_note_sensitive_from(cpu, "iret", eip, cs, cpl, wanted, got);
    }
}
