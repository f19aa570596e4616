/*
 * pc_disks.h - the board's drives: the images given on the command line,
 * the primary IDE channel that holds the hard disks, and the floppy
 * controller's ports (no controller: floppies are the BIOS's, int 13h).
 * machine_init (pc.c) calls these in this order.
 */
#ifndef TRAPEZE_PC_DISKS_H
#define TRAPEZE_PC_DISKS_H

#include "devices/irq.h"

struct machine;

/* Open every image of m->config.drives into m->disks; -errno after one line. */
int pc_disks_open(struct machine *m);

/* The IDE channel (IRQ 'irq14') and the FDC ports on the bus, in the registry. */
int pc_disks_attach(struct machine *m, struct irq_line irq14);

/* Hardware reset of the channel (the images stay open). */
void pc_disks_reset(struct machine *m);

/* Close the images, free the channel; safe after a failed or partial init. */
void pc_disks_close(struct machine *m);

#endif
