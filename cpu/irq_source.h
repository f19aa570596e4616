/*
 * irq_source.h - the CPU's interrupt inputs as the board offers them.
 *
 * Split out of cpu.h so that code which must not see the CPU's internals
 * (the machine, the kvm engine, which includes capstone's x86 names) can
 * still hold one: the board fills it in (machine->irq_source, the 8259A
 * pair) and every engine gives it to whatever CPU it runs.
 */
#ifndef TRAPEZE_IRQ_SOURCE_H
#define TRAPEZE_IRQ_SOURCE_H

#include <stdbool.h>

/* Interrupt controller interface: the board wires the PIC here. */
struct cpu_irq_source {
    bool (*pending)(void *opaque);  /* INTR line asserted */
    int (*acknowledge)(void *opaque); /* INTA cycle: returns the vector */
    void *opaque;
};

#endif
