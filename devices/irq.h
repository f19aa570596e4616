/*
 * irq.h - an interrupt request line, as a device sees it.
 *
 * A device does not know what sits at the other end of its IRQ pin (the
 * 8259 PIC on the PC board, a test, nothing yet).  It holds a struct
 * irq_line the board filled in and drives the line with irq_line_set():
 * raise when its interrupt condition appears, lower when it goes away.
 * The lines are level-style from the device's side; an edge-triggered PIC
 * reacts to the raise.
 *
 * Worked example: COM1 is wired to IRQ4 in machine/pc.c:
 *   uart_init(com1, ..., (struct irq_line){ pc_raise_irq, pc_lower_irq, m, 4 });
 * and the UART calls irq_line_set(&u->irq, true) when its IIR shows an
 * interrupt pending.
 */
#ifndef TRAPEZE_IRQ_H
#define TRAPEZE_IRQ_H

#include <stdbool.h>
#include <stddef.h>

struct irq_line {
    void (*raise)(void *opaque, int irq);   /* NULL: the pin is not connected */
    void (*lower)(void *opaque, int irq);
    void *opaque;
    int irq;                                /* the ISA IRQ number, 0-15 */
};

/* Drive the line to 'level'; an unconnected line does nothing. */
static inline void irq_line_set(const struct irq_line *line, bool level)
{
    if (level && line->raise) line->raise(line->opaque, line->irq);
    else if (!level && line->lower) line->lower(line->opaque, line->irq);
}

#endif
