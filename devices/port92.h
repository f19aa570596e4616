/*
 * port92.h - System Control Port A (I/O port 0x92), the "fast A20 and
 * fast reset" port of PS/2 and every later PC chipset.
 *
 *   bit 0  fast reset: writing 1 (from 0) resets the CPU
 *   bit 1  A20 gate: 1 = address line 20 passes, 0 = forced to 0 (8086 wrap)
 *   bits 2-7 other chipset functions (watchdog, security lock, LEDs): stored only
 *
 * Reference: IBM PS/2 Hardware Interface Technical Reference, "System
 * Control Port A"; Intel 82371 (PIIX) data sheet, port 92h.
 */
#ifndef TRAPEZE_PORT92_H
#define TRAPEZE_PORT92_H

#include <stdint.h>
#include <stdio.h>

#include "devices/board_line.h"
#include "mmu/bus.h"

#define PORT92            0x92
#define PORT92_FAST_RESET 0x01  /* write 1: reset the CPU */
#define PORT92_A20        0x02  /* A20 gate enable */

struct port92 {
    struct board_line reset;    /* the CPU's RESET: bit 0's 0 -> 1 edge */
    struct board_line a20;      /* the A20 gate: bit 1 drives it, reads sense it */
    uint8_t value;              /* the bits last written, bit 0 as written */
};

void port92_init(struct port92 *p, struct board_line reset, struct board_line a20);
/* Chipset reset: the A20 bit follows the gate (which the board set). */
void port92_reset(struct port92 *p);

/* machine_device callbacks (opaque = the port92). */
struct snapshot;
int port92_save(void *opaque, struct snapshot *s);
struct snapshot_check;
int port92_load(void *opaque, const struct snapshot *s, struct snapshot_check *c);
void port92_reset_device(void *opaque);
void port92_info(void *opaque, FILE *out);

extern const struct io_ops port92_ops;   /* 1 port at 0x92, opaque = the port92 */

#endif
