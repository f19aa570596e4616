/*
 * machine.h - the PC board: memory map, devices, IRQ wiring, loaders.
 *
 * The machine owns the bus and the devices; engines own the CPU.  A device
 * never knows which engine runs: it sees port/MMIO accesses and raises IRQ
 * lines.  Setup is visible in machine_init (machine/pc.c), not hidden in
 * constructors.
 */
#ifndef TRAPEZE_MACHINE_H
#define TRAPEZE_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include <stdio.h>

#include "cpu/x86_state.h"
#include "machine/clock.h"
#include "mmu/bus.h"

struct cpu;

/* Why the machine wants the engine to stop (machine->stop_reason). */
enum machine_stop {
    MACHINE_RUNNING = 0,
    MACHINE_POWER_OFF,        /* "Shutdown" to 0x8900, exit status 0 */
    MACHINE_DEBUG_EXIT,       /* isa-debug-exit: status (value << 1) | 1 */
    MACHINE_RESET_REQUEST,    /* reset (port 0x92 bit 0, 8042 pulse) */
};

/* Options from the command line that shape the board. */
struct machine_config {
    uint32_t ram_size;            /* bytes, default 128 MiB */
    const char *kernel;           /* -kernel: Multiboot image */
    const char *append;           /* -append */
    const char *initrd;           /* -initrd: comma-separated module list */
    const char *serial;           /* -serial: stdio | file:PATH | none (default stdio) */
    const char *serial2;          /* a second -serial: COM2 (default none) */
    const char *debugcon;         /* -debugcon: stdio | file:PATH | none (default none) */
    const char *bios;             /* -bios FILE */
    bool no_reboot;
    /* -device isa-debug-exit,iobase=,iosize=: 0 = the default 0xF4 / 4. */
    uint16_t debug_exit_iobase;
    uint16_t debug_exit_iosize;
};

struct uart16550;
struct debugport;
struct port92;
struct snapshot;

/*
 * A device as the board sees it: every device registers one of these in
 * machine_init, so savevm/loadvm, reset and the monitor's `info NAME` reach
 * all devices without knowing them.  'save'/'load' write and read the
 * device's register state as snapshot sections (machine/snapshot.h);
 * 'info' prints it decoded, named as the data sheet names it.
 */
struct machine_device {
    const char *name;                               /* "pic", "pit", "com1", ... */
    void *opaque;
    int (*save)(void *opaque, struct snapshot *s);
    int (*load)(void *opaque, const struct snapshot *s);
    void (*reset)(void *opaque);
    void (*info)(void *opaque, FILE *out);
};

#define MACHINE_MAX_DEVICES 32

struct machine {
    struct machine_config config;
    struct bus bus;
    struct uart16550 *com1;       /* 0x3F8, IRQ 4 */
    struct uart16550 *com2;       /* 0x2F8, IRQ 3 */
    struct debugport *debug;
    struct port92 *port92;
    /* ISA IRQ lines 0-15 as the devices drive them (bit n = IRQ n high). The
       PIC that turns them into CPU interrupts comes with the PC board. */
    uint16_t irq_levels;
    enum machine_stop stop_reason;
    int debug_exit_value;         /* the byte written to isa-debug-exit */
    /* Called by devices to make the engine return at the next boundary. */
    void (*request_stop)(void *opaque);
    void *request_stop_opaque;
    /* The virtual clock every device takes its time from (machine/clock.h). */
    struct vclock clock;
    /* Registered devices, in the order machine_init wired them. */
    struct machine_device devices[MACHINE_MAX_DEVICES];
    int device_count;
    /* Initial CPU state set by the loader (Multiboot entry, or reset vector). */
    struct x86_state boot_state;
    /* True when there is no loader state: the engine starts the CPU from its
       RESET state (cpu_hard_reset: F000:FFF0, base FFFF0000), as with -bios. */
    bool boot_from_reset;
};

/* Build the board; prints one clear error line and returns -errno on failure. */
int machine_init(struct machine *m, const struct machine_config *config);
void machine_destroy(struct machine *m);

/*
 * Called from devices: stop the engine with 'reason'.  The first reason
 * filed wins until the run loop clears it (machine_reset); the engine is
 * told through m->request_stop.
 */
void machine_stop(struct machine *m, enum machine_stop reason);

/*
 * The board's RESET: devices back to their reset state, A20 on, RAM kept
 * (as on a real PC), the -kernel image loaded again and boot_state set
 * anew.  The caller then resets the engine (engine_ops.reset).  Returns 0
 * or -errno after one printed line (the kernel file went away).
 */
int machine_reset(struct machine *m);

/*
 * Called by the run loop between engine slices: devices with host-side
 * input (the serial ports) pull it in and update their interrupt lines.
 */
void machine_poll(struct machine *m);

/* Register a device (machine_init does it for each). -ENOSPC when full. */
int machine_add_device(struct machine *m, const struct machine_device *d);
/* The device registered under 'name', or NULL. */
const struct machine_device *machine_find_device(const struct machine *m, const char *name);

/*
 * The board's part of a snapshot: RAM, A20, the clock, every registered
 * device.  (The CPU state is the engine's: savevm adds it.)  Returns 0 or
 * -errno with a one-line reason in *why.
 */
int machine_save(struct machine *m, struct snapshot *s, const char **why);
int machine_load(struct machine *m, const struct snapshot *s, const char **why);

#endif
