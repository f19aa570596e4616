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
 * None of them exits the process: they file a stop with the machine
 * (machine_stop), and the run loop ends the run (STYLE.md 7).
 */
#ifndef TRAPEZE_DEBUGPORT_H
#define TRAPEZE_DEBUGPORT_H

#include <stdint.h>
#include <stdio.h>

#include "devices/chardev.h"
#include "mmu/bus.h"

#define DEBUGPORT_CONSOLE   0xE9
#define DEBUGPORT_EXIT      0xF4    /* default isa-debug-exit iobase */
#define DEBUGPORT_EXIT_SIZE 4       /* default iosize */
#define DEBUGPORT_SHUTDOWN  0x8900

struct machine;

struct debugport {
    struct machine *machine;
    struct chardev console;     /* the -debugcon backend */
    unsigned shutdown_match;    /* how many bytes of "Shutdown" came in order */
};

/* Open the -debugcon backend 'spec'; 0 or -errno after one printed line. */
int debugport_init(struct debugport *d, struct machine *m, const char *spec);
void debugport_destroy(struct debugport *d);
void debugport_reset(struct debugport *d);

/* machine_device callbacks (opaque = the debugport). */
struct snapshot;
int debugport_save(void *opaque, struct snapshot *s);
int debugport_load(void *opaque, const struct snapshot *s);
void debugport_reset_device(void *opaque);
void debugport_info(void *opaque, FILE *out);

/* Port handlers (opaque = the debugport), claimed in machine_init. */
extern const struct io_ops debugport_console_ops;   /* 1 port at 0xE9 */
extern const struct io_ops debugport_exit_ops;      /* iosize ports at the iobase */
extern const struct io_ops debugport_shutdown_ops;  /* 1 port at 0x8900 */

#endif
