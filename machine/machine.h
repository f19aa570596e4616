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

#include "cpu/irq_source.h"
#include "cpu/x86_state.h"
#include "base/clock.h"
#include "base/disk.h"
#include "devices/board_line.h"
#include "mmu/bus.h"

struct cpu;

/* Why the machine wants the engine to stop (machine->stop_reason). */
enum machine_stop {
    MACHINE_RUNNING = 0,
    MACHINE_POWER_OFF,        /* "Shutdown" to 0x8900, exit status 0 */
    MACHINE_DEBUG_EXIT,       /* isa-debug-exit: status (value << 1) | 1 */
    MACHINE_RESET_REQUEST,    /* reset (port 0x92 bit 0, 8042 pulse) */
    MACHINE_NO_BOOT_DEVICE,   /* the BIOS found nothing to boot: exit status 4 */
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
    bool no_vga;                  /* -vga none: no VGA device, no window, no -screendump */
    /* -device isa-debug-exit,iobase=,iosize=: 0 = the default 0xF4 / 4. */
    uint16_t debug_exit_iobase;
    uint16_t debug_exit_iosize;
    /* -icount shift=N: the clock counts instructions, 2^N ns each. */
    bool icount;
    unsigned icount_shift;
    /* -rtc base=utc|localtime|DATE[,clock=vm] (checked by the command line); NULL = utc. */
    const char *rtc;
    /* Disk images by role (-fda -fdb -hda -hdb -drive); path NULL: none. */
    struct machine_drive {
        const char *path;
        bool read_only;           /* -drive ...,readonly=on */
    } drives[DISK_ROLE_COUNT];
    /* -boot: the BIOS's boot order, drive letters as QEMU takes them
       ('a' floppy, 'c' first hard disk), NUL-terminated; "" = the default. */
    char boot_order[8];
    /* -display / -nographic: AUTO opens an SDL window when a display is
       available (DISPLAY or WAYLAND_DISPLAY set and SDL video starts). */
    enum machine_display { MACHINE_DISPLAY_AUTO = 0, MACHINE_DISPLAY_NONE, MACHINE_DISPLAY_SDL } display;
    const char *screendump;       /* -screendump FILE: the text screen, written at machine_destroy */
    const char *sdl_screenshot;   /* -sdl-screenshot FILE.ppm: the window's pixels at exit (test aid) */
    bool serial_console;          /* -nographic: the BIOS's text to COM1, COM1's bytes to int 16h */
};

struct uart16550;
struct debugport;
struct port92;
struct pic8259;
struct pit8254;
struct cmos_rtc;
struct i8042;
struct kbd_terminal;
struct ide_channel;
struct fdc_absent;
struct bios;
struct vga;
struct vga_sdl;
struct snapshot;
struct snapshot_check;

/*
 * A device as the board sees it: every device registers one of these in
 * machine_init, so savevm/loadvm, reset and the monitor's `info NAME` reach
 * all devices without knowing them.  'save'/'load' write and read the
 * device's register state as snapshot sections (base/snapshot.h): 'load'
 * checks every field of its sections and changes the device only when
 * c->apply (machine_load calls every device once to check, then once to
 * apply), a refusal said in c->why; 'info' prints the state decoded,
 * named as the data sheet names it.
 */
struct machine_device {
    const char *name;                               /* "pic", "pit", "com1", ... */
    void *opaque;
    int (*save)(void *opaque, struct snapshot *s);
    int (*load)(void *opaque, const struct snapshot *s, struct snapshot_check *c);
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
    struct pic8259 *pic;          /* 0x20/0xA0, ELCR 0x4D0: ISA IRQ 0-15 */
    struct pit8254 *pit;          /* 0x40-0x43 and 0x61: OUT0 on IRQ 0 */
    struct cmos_rtc *rtc;         /* 0x70-0x71, IRQ 8 */
    struct i8042 *kbd;            /* 0x60, 0x64, IRQ 1 (and 12) */
    struct kbd_terminal *kbd_term;/* stdin as the keyboard, when free */
    /* The opened images by role (disks[role].fd < 0: none); the BIOS serves
       int 13h from them, the IDE channel holds the hard disks. */
    struct disk disks[DISK_ROLE_COUNT];
    struct ide_channel *ide;      /* 0x1F0-0x1F7, 0x3F6, IRQ 14 */
    struct fdc_absent *fdc;       /* 0x3F0-0x3F5, 0x3F7: no controller, says so */
    struct bios *bios;            /* the built-in BIOS (NULL with -bios FILE): machine/bios/ */
    struct vga *vga;              /* 0x3B0-0x3DF; text buffer 0xB8000 kept in RAM */
    struct vga_sdl *sdl;          /* the SDL window, or NULL (headless) */
    FILE *screendump;             /* -screendump, opened at init, written at destroy */
    /* The CPU's INTR/INTA side of the PIC: engines install it
       (engine_emu: cpu.irq = machine.irq_source). */
    struct cpu_irq_source irq_source;
    enum machine_stop stop_reason;
    int debug_exit_value;         /* the byte written to isa-debug-exit */
    /* Called by machine_stop to make the engine return at the next boundary. */
    void (*request_stop)(void *opaque);
    void *request_stop_opaque;
    /* The virtual clock every device takes its time from (base/clock.h). */
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
 * Stop the engine with 'reason' (the board's own: the BIOS, a device's
 * board line).  The first reason filed wins until the run loop clears it
 * (machine_reset); the engine is told through m->request_stop.
 */
void machine_stop(struct machine *m, enum machine_stop reason);

/*
 * The line a device signals the board on (devices/board_line.h): reset and
 * power-off, debug exit and window closed file a stop (machine_stop); A20
 * sets and senses the bus's gate.  machine_init hands them out.
 */
struct board_line machine_board_line(struct machine *m, enum board_signal what);

/*
 * The guest stopped (a monitor prompt, a breakpoint, a step, the end of a
 * run), or a front end is waiting: make the SDL window, if there is one,
 * show the screen as it is now and answer its events.  Called by the run
 * loop at every stop and by the monitor while it waits for a line.
 * No window: nothing.  (machine/pc_vga.c)
 */
void machine_display_refresh(struct machine *m);
/*
 * After one single step: machine_display_refresh, but a new frame at most
 * every 20 ms of host time (the monitor steps thousands of instructions in
 * a loop for `until`, traces and I/O breakpoints; its prompt, which calls
 * machine_display_refresh, draws the last).
 */
void machine_display_step(struct machine *m);

/*
 * The run ended because the guest 'why' (e.g. "halted"): with an SDL window,
 * keep it open, titled "trapeze - guest WHY", showing the screen, until the
 * user closes it (or SIGINT/SIGTERM, which end the wait as the close does).
 * No window: returns at once.  (machine/pc_vga.c)
 */
void machine_display_hold(struct machine *m, const char *why);

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

/*
 * Whether anything could still interrupt a halted CPU: an armed timer of
 * the virtual clock, or host input that may yet arrive on a serial port.
 * False means a guest halted with IF=1 waits forever (the run loop says so).
 */
bool machine_can_wake(struct machine *m);

/* Register a device (machine_init does it for each). -ENOSPC when full. */
int machine_add_device(struct machine *m, const struct machine_device *d);
/* The device registered under 'name', or NULL. */
const struct machine_device *machine_find_device(const struct machine *m, const char *name);

/*
 * The board's part of a snapshot: RAM, A20, the clock, every registered
 * device.  (The CPU state is the engine's: savevm adds it, as the section
 * MACHINE_CPU_SECTION.)  Returns 0 or -errno with a one-line reason in *why.
 */
#define MACHINE_CPU_SECTION "cpu"
#define MACHINE_CPU_SECTION_VERSION 1
int machine_save(struct machine *m, struct snapshot *s, const char **why);
/*
 * All or nothing: every section is checked first (the board's, RAM, each
 * device's, and the CPU's into *cpu when cpu is not NULL: the caller hands
 * it to the engine's set_state on success), and only then is the machine
 * changed.  A refusal returns -EINVAL, leaves the machine as it was and
 * says why in c->why ("section NAME: field FIELD: reason").
 */
int machine_load(struct machine *m, const struct snapshot *s, struct x86_state *cpu, struct snapshot_check *c);
/* The checks of a CPU state from a file: what cpu_set_state and the
   engines may rely on (booleans, CPL, segment attributes, EFLAGS). */
int machine_check_cpu_state(const struct x86_state *s, struct snapshot_check *c);

#endif
