/*
 * board_line.h - a device's wires to the board: reset, A20, power-off,
 * debug exit, window closed.
 *
 * Some devices do more than interrupt the CPU: port 0x92 and the 8042
 * drive the CPU's RESET pin and the A20 gate, the debug ports end the run,
 * the SDL window can be closed.  A device does not know the board that
 * acts on it (devices/ may not include machine/, DESIGN.md's layers): as
 * with an IRQ pin (irq.h), it holds a struct board_line the board filled
 * in and drives it with board_line_signal(line, value).  A line the
 * device also reads back (the A20 gate: port 0x92 bit 1 and the 8042's
 * output port bit 1 read the gate as it is, whoever set it last) is read
 * with board_line_sense().
 *
 * Worked example: port 0x92, wired in machine/pc.c:
 *   port92_init(p, machine_board_line(m, BOARD_RESET), machine_board_line(m, BOARD_A20));
 * A write of 0x03 to port 0x92 calls board_line_signal(&p->a20, 1) (the
 * board sets the bus's A20 gate) and, on bit 0's 0 -> 1 edge,
 * board_line_signal(&p->reset, 1) (the board files MACHINE_RESET_REQUEST
 * and the run loop resets it).  A unit test hands the device lines of
 * its own and counts the signals instead.
 */
#ifndef TRAPEZE_BOARD_LINE_H
#define TRAPEZE_BOARD_LINE_H

#include <stdint.h>

/* What a line carries; the value board_line_signal passes means: */
enum board_signal {
    BOARD_RESET,          /* (ignored) reset the machine: the CPU's RESET pin asserted */
    BOARD_A20,            /* 0 or 1: the A20 gate forced low / passing */
    BOARD_POWER_OFF,      /* (ignored) the machine powers off (Bochs "Shutdown") */
    BOARD_DEBUG_EXIT,     /* the byte written to isa-debug-exit: exit status (value << 1) | 1 */
    BOARD_WINDOW_CLOSED,  /* (ignored) the user closed the display's window */
};

struct board_line {
    /* NULL: the line is not connected (the signal goes nowhere). */
    void (*signal)(void *opaque, enum board_signal what, uint32_t value);
    /* The line's level as the board has it; NULL: reads 0. */
    uint32_t (*sense)(void *opaque, enum board_signal what);
    void *opaque;
    enum board_signal what;
};

/* Signal the board on 'line'; an unconnected line does nothing. */
static inline void board_line_signal(const struct board_line *line, uint32_t value)
{
    if (line->signal) line->signal(line->opaque, line->what, value);
}

/* The level the board has on 'line' (0 when it cannot say). */
static inline uint32_t board_line_sense(const struct board_line *line)
{
    return line->sense ? line->sense(line->opaque, line->what) : 0;
}

#endif
