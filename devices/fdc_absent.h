/*
 * fdc_absent.h - the floppy disk controller's ports, claimed to say that
 * there is no controller.
 *
 * trapeze has no model of the PC's floppy controller (the Intel 82077AA /
 * NEC uPD765 at 0x3F0-0x3F5 and 0x3F7, IRQ 6, DMA channel 2): floppy
 * images (-fda, -fdb) are served by the BIOS's int 13h alone.  A guest that
 * programs the controller itself gets one clear line on stderr, the first
 * time, and reads that see no controller (all ones, as on an ISA bus with
 * nothing at the address).  0x3F6 is the IDE channel's (devices/ide.c).
 */
#ifndef TRAPEZE_FDC_ABSENT_H
#define TRAPEZE_FDC_ABSENT_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/bus.h"

#define FDC_BASE      0x3F0   /* SRA, SRB, DOR, TDR, MSR/DSR, FIFO: 0x3F0-0x3F5 */
#define FDC_BASE_SIZE 6
#define FDC_DIR       0x3F7   /* digital input (read) / configuration control (write) */

struct fdc_absent {
    bool warned;
};

/* Handlers for both ranges; 'opaque' is a struct fdc_absent. */
extern const struct io_ops fdc_absent_low_ops;    /* 0x3F0-0x3F5 */
extern const struct io_ops fdc_absent_dir_ops;    /* 0x3F7 */

#endif
