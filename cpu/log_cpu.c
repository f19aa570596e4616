/*
 * log_cpu.c - the software CPU's log lines (see log_cpu.h).  The formats
 * are qemu-system-i386 7.2's, read from its logs of the same guests:
 *
 *   -d int        check_exception old: 0xffffffff new 0xd
 *                      2: v=0d e=1000 i=0 cpl=0 IP=0008:001000d5 pc=001000d5 SP=0010:00109964 env->regs[R_EAX]=00101000
 *                 EAX=00101000 EBX=...          (the register dump)
 *   -d in_asm     ----------------
 *                 IN:
 *                 0x00100070:  fa                       cli
 *   -d exec       Trace 0: [00000000/00100070/00000002]
 *
 * Differences, on purpose: in_asm is in Intel syntax (the monitor's
 * capstone, main sets log_disassemble) where QEMU writes AT&T; exec has no
 * host address of a translation block (trapeze has none) and its third
 * field is EFLAGS, not QEMU's internal hflags.
 */
#include "cpu/log_cpu.h"

#include "cpu/block.h"
#include "cpu/cpu_internal.h"
#include "cpu/state_dump.h"

void cpu_log_state(struct cpu *cpu)
{
    struct x86_state s;
    cpu_get_state(cpu, &s);
    x86_state_dump(&s, log_stream());
    fflush(log_stream());
}

void cpu_log_check_exception(struct cpu *cpu, int old, int vector)
{
    log_printf("check_exception old: 0x%x new 0x%x\n", (unsigned)old, (unsigned)vector);
}

void cpu_log_interrupt(struct cpu *cpu, int vector, bool soft, uint32_t error, uint32_t ip)
{
    const struct x86_state *s = &cpu->s;
    log_printf("%6u: v=%02x e=%04x i=%d cpl=%u IP=%04x:%08x pc=%08x SP=%04x:%08x",
               cpu->log_event_count++, (unsigned)vector, error, soft ? 1 : 0, s->cpl,
               s->seg[SEG_CS].selector, ip, s->seg[SEG_CS].base + ip,
               s->seg[SEG_SS].selector, s->regs[R_ESP]);
    if (vector == X86_PF)
        log_printf(" CR2=%08x\n", s->cr2);
    else
        log_printf(" env->regs[R_EAX]=%08x\n", s->regs[R_EAX]);
    struct x86_state now;
    cpu_get_state(cpu, &now);
    now.eip = ip;   /* an INT n has already moved EIP on; QEMU shows the INT itself */
    x86_state_dump(&now, log_stream());
    fflush(log_stream());
}

/*
 * Up to 'len' bytes of code at physical 'paddr'.  A block lies in one page
 * (block.c), so its bytes are contiguous there; only a lone instruction
 * that crosses into the next page shows the bytes physically after it.
 */
static void read_code(struct cpu *cpu, uint32_t paddr, uint8_t *buf, unsigned len)
{
    bus_read_block(cpu->bus, paddr, buf, len);
}

void cpu_log_new_block(struct cpu *cpu, const struct decoded_block *b, uint32_t lin)
{
    int bits = b->code32 ? 32 : 16;
    uint32_t off = 0;
    log_printf("----------------\nIN: \n");
    for (unsigned k = 0; k < b->count; k++) {
        uint8_t bytes[16];
        unsigned len = b->insn[k].len;
        if (len > sizeof bytes) len = sizeof bytes;
        read_code(cpu, b->paddr + off, bytes, len);
        char hex[3 * 16 + 1] = "";
        for (unsigned n = 0, used = 0; n < len; n++)
            used += (unsigned)snprintf(hex + used, sizeof hex - used, n ? " %02x" : "%02x", bytes[n]);
        char text[224] = "";
        if (log_disassemble)
            log_disassemble(bits, lin + off, bytes, len, text, sizeof text);
        log_printf("0x%08x:  %-24s %s\n", lin + off, hex, text);
        off += b->insn[k].len;
    }
    log_printf("\n");
}

void cpu_log_exec(struct cpu *cpu)
{
    const struct x86_state *s = &cpu->s;
    if (LOG_ON(LOG_EXEC))
        log_printf("Trace 0: [%08x/%08x/%08x] \n", s->seg[SEG_CS].base, s->seg[SEG_CS].base + s->eip,
                   cpu_get_eflags(cpu));
    if (LOG_ON(LOG_CPU))
        cpu_log_state(cpu);
}
