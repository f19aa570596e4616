/*
 * debugport.h - the test-kernel ports every emulator agrees on.
 *
 *   0xE9    Bochs/QEMU debug console: a byte written goes to the -debugcon
 *           backend; a read returns 0xE9, so a kernel can probe for it.
 *   0xF4    QEMU isa-debug-exit (iobase 0xF4, iosize 4 by default): a write
 *           of any size to any of its ports stops the machine; the process
 *           exits with status (value << 1) | 1, value = the low byte.
 *           Always odd, so it never looks like trapeze's own statuses.
 *   0x8900  Bochs shutdown port: the bytes of "Shutdown", written one by
 *           one, power the machine off (exit status 0).
 *
 * None of them exits the process: they signal the board on a line
 * (board_line.h: BOARD_DEBUG_EXIT with the byte, BOARD_POWER_OFF), the
 * board files a stop and the run loop ends the run (STYLE.md 7).
 */
#ifndef TRAPEZE_DEBUGPORT_H
#define TRAPEZE_DEBUGPORT_H

#include <stdint.h>
#include <stdio.h>

#include "devices/board_line.h"
#include "devices/chardev.h"
#include "mmu/bus.h"

#define DEBUGPORT_CONSOLE   0xE9
#define DEBUGPORT_EXIT      0xF4    /* default isa-debug-exit iobase */
#define DEBUGPORT_EXIT_SIZE 4       /* default iosize */
#define DEBUGPORT_SHUTDOWN  0x8900

struct debugport {
    struct chardev console;     /* the -debugcon backend */
    uint16_t exit_iobase;       /* where the board put isa-debug-exit (for `info`) */
    uint16_t exit_iosize;
    struct board_line power_off;   /* "Shutdown" seen */
    struct board_line debug_exit;  /* a write to isa-debug-exit, with its low byte */
    unsigned shutdown_match;    /* how many bytes of "Shutdown" came in order */
};

/*
 * Open the -debugcon backend 'spec'; 'exit_iobase'/'exit_iosize' say where
 * the board claims isa-debug-exit's ports.  0 or -errno after one printed line.
 */
int debugport_init(struct debugport *d, const char *spec, uint16_t exit_iobase, uint16_t exit_iosize,
                   struct board_line power_off, struct board_line debug_exit);
void debugport_destroy(struct debugport *d);
void debugport_reset(struct debugport *d);

/* machine_device callbacks (opaque = the debugport). */
struct snapshot;
int debugport_save(void *opaque, struct snapshot *s);
struct snapshot_check;
int debugport_load(void *opaque, const struct snapshot *s, struct snapshot_check *c);
void debugport_reset_device(void *opaque);
void debugport_info(void *opaque, FILE *out);

/* Port handlers (opaque = the debugport), claimed in machine_init. */
extern const struct io_ops debugport_console_ops;   /* 1 port at 0xE9 */
extern const struct io_ops debugport_exit_ops;      /* iosize ports at the iobase */
extern const struct io_ops debugport_shutdown_ops;  /* 1 port at 0x8900 */

#endif
