/*
 * log_cpu.h - what the software CPU writes to the log channels of
 * base/log.h (`-d int,in_asm,exec,cpu,pcall`), in QEMU's formats.
 *
 * Every function here is called behind LOG_ON(channel), so a channel that
 * is off costs the CPU one load and one test where it is looked at (per
 * event, per new block, per block run), and nothing else.
 */
#ifndef TRAPEZE_LOG_CPU_H
#define TRAPEZE_LOG_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "base/log.h"

struct cpu;
struct decoded_block;

/* The CPU's registers in QEMU's layout (cpu/state_dump.h), to the log. */
void cpu_log_state(struct cpu *cpu);

/* int: "check_exception old: 0x%x new 0x%x", an exception being raised
 * while 'old' (or none, -1) is delivered (QEMU's check_exception). */
void cpu_log_check_exception(struct cpu *cpu, int old, int vector);

/*
 * int: one event about to be delivered through the IDT, in protected mode
 * (as QEMU, which logs nothing for real mode):
 *   "     4: v=03 e=0000 i=1 cpl=0 IP=0008:00100185 pc=00100185 SP=0010:00109964 env->regs[R_EAX]=00100138"
 * then the registers.  'ip' is the EIP QEMU shows: the faulting
 * instruction, the INT n itself, or the next instruction for interrupts.
 */
void cpu_log_interrupt(struct cpu *cpu, int vector, bool soft, uint32_t error, uint32_t ip);

/* in_asm: a block just decoded at linear 'lin' ("IN:" and one line per instruction). */
void cpu_log_new_block(struct cpu *cpu, const struct decoded_block *b, uint32_t lin);

/* exec / cpu: a block about to run at the current CS:EIP. */
void cpu_log_exec(struct cpu *cpu);

#endif
