/*
 * exec_io.c - port I/O: IN, OUT, the I/O permission check, and the port
 * access helpers the string forms (INS/OUTS in exec_string.c) share.
 *
 * Protection (SDM Vol. 1 18.5 "I/O permission", 18.5.2 "I/O permission
 * bit map"; Vol. 3A 20.2.8.1 for virtual-8086 mode):
 *
 *   real mode ............................ always allowed
 *   protected mode, CPL <= IOPL .......... allowed
 *   protected mode, CPL > IOPL, or vm86 .. the I/O permission bitmap of the
 *                                          current 32-bit TSS decides
 *
 * The bitmap: the word at TSS+0x66 is its offset from the TSS base; port
 * p's bit is bit (p mod 8) of byte (p / 8).  Every byte of a multi-byte
 * access has its own bit and all must be 0.  The processor reads two bytes
 * of the bitmap (so an access may straddle a byte boundary), and a bit that
 * lies beyond the TSS limit counts as set: that is why the SDM asks for a
 * final 0xFF byte after the map.  A 16-bit TSS has no bitmap: #GP(0).
 *
 *   TSS base +0x66: bitmap offset --.
 *   TSS base + offset:  [ports 0-7][ports 8-15] ... [0xFF]   <= TSS limit
 */
#include "cpu/cpu_internal.h"

#define TSS32_IOMAP_BASE 0x66u   /* word: I/O map base address (SDM Vol. 3A 7.2.1) */
#define TSS_TYPE_32_AVAILABLE 0x9u
#define TSS_TYPE_32_BUSY      0xBu

void cpu_check_io(struct cpu *cpu, uint16_t port, unsigned size)
{
    if (!cpu_protected(cpu))
        return;
    if (!cpu_vm86(cpu) && cpu->s.cpl <= cpu_iopl(cpu))
        return;

    const struct x86_segment *tr = &cpu->s.tr;
    unsigned type = tr->attr & SEG_ATTR_TYPE_MASK;
    if ((tr->attr & SEG_ATTR_S) ||
        (type != TSS_TYPE_32_AVAILABLE && type != TSS_TYPE_32_BUSY) ||
        tr->limit < TSS32_IOMAP_BASE + 1)
        cpu_fault_err(cpu, X86_GP, 0);

    uint32_t map = cpu_read_lin(cpu, tr->base + TSS32_IOMAP_BASE, 2, false);
    uint32_t byte = map + (port >> 3);
    if (byte + 1 > tr->limit)   /* both bytes read must be inside the TSS */
        cpu_fault_err(cpu, X86_GP, 0);
    uint32_t bits = cpu_read_lin(cpu, tr->base + byte, 2, false);
    uint32_t want = ((1u << size) - 1) << (port & 7);
    if (bits & want)
        cpu_fault_err(cpu, X86_GP, 0);
}

uint32_t cpu_port_in(struct cpu *cpu, uint16_t port, unsigned size)
{
    cpu_debug_check_io(cpu, port, size);
    return bus_port_read(cpu->bus, port, size) & size_mask(size);
}

void cpu_port_out(struct cpu *cpu, uint16_t port, uint32_t value, unsigned size)
{
    cpu_debug_check_io(cpu, port, size);
    bus_port_write(cpu->bus, port, value & size_mask(size), size);
}

/* IN accumulator from 'port': the permission check, then the access. */
static void in_acc(struct cpu *cpu, uint16_t port, unsigned size)
{
    cpu_check_io(cpu, port, size);
    reg_write(cpu, R_EAX, size, cpu_port_in(cpu, port, size));
}

static void out_acc(struct cpu *cpu, uint16_t port, unsigned size)
{
    cpu_check_io(cpu, port, size);
    cpu_port_out(cpu, port, reg_read(cpu, R_EAX, size), size);
}

/* E4-E7: the port is the imm8, zero-extended.  EC-EF: the port is DX. */
DEFINE_HANDLER(in_ALIb) { in_acc(cpu, (uint8_t)i->imm, 1); }
DEFINE_HANDLER(in_eAXIb) { in_acc(cpu, (uint8_t)i->imm, opsize(i)); }
DEFINE_HANDLER(out_IbAL) { out_acc(cpu, (uint8_t)i->imm, 1); }
DEFINE_HANDLER(out_IbeAX) { out_acc(cpu, (uint8_t)i->imm, opsize(i)); }
DEFINE_HANDLER(in_ALDX) { (void)i; in_acc(cpu, (uint16_t)cpu->s.regs[R_EDX], 1); }
DEFINE_HANDLER(in_eAXDX) { in_acc(cpu, (uint16_t)cpu->s.regs[R_EDX], opsize(i)); }
DEFINE_HANDLER(out_DXAL) { (void)i; out_acc(cpu, (uint16_t)cpu->s.regs[R_EDX], 1); }
DEFINE_HANDLER(out_DXeAX) { out_acc(cpu, (uint16_t)cpu->s.regs[R_EDX], opsize(i)); }
