/*
 * pc.c - the PC board: RAM, the devices at their ISA ports, the loaders.
 *
 * Everything the machine has is wired here, in machine_init, where a
 * reader can see it (STYLE.md 6).  Today's board:
 *
 *   ports 0x0020-21   master 8259A PIC, IRQ 0-7                      devices/pic8259.c
 *   ports 0x0040-43   8254 PIT, counter 0 OUT on IRQ 0              devices/pit8254.c
 *   port 0x0061       port B: PIT GATE2, speaker data, OUT2          devices/pit8254.c
 *   ports 0x0060,64   8042 keyboard controller, IRQ 1 (aux IRQ 12)   devices/i8042.c
 *   ports 0x0070-71   MC146818A RTC and CMOS RAM, IRQ 8 (-rtc)      devices/cmos_rtc.c
 *   port 0x0092       System Control Port A (A20 gate, fast reset)   devices/port92.c
 *   ports 0x00A0-A1   slave 8259A PIC, IRQ 8-15, on master IR2       devices/pic8259.c
 *   ports 0x04D0-4D1  PIIX ELCR: edge/level per IRQ                  devices/pic8259.c
 *   ports 0x02F8-2FF  COM2, 16550A, IRQ 3 (-serial, second)         devices/uart16550.c
 *   ports 0x03F8-3FF  COM1, 16550A, IRQ 4 (-serial, default stdio)  devices/uart16550.c
 *   ports 0x01F0-1F7  primary IDE channel (+ 0x3F6), IRQ 14          machine/pc_disks.c
 *   ports 0x03F0-3F7  floppy controller: absent, says so (-fda: BIOS)  machine/pc_disks.c
 *   ports 0x03B0-3DF  VGA, text buffer 0xB8000 in RAM; SDL window     machine/pc_vga.c
 *   port 0x00E9       debug console (-debugcon, default none)        devices/debugport.c
 *   ports 0x00F4-F7   isa-debug-exit                                 devices/debugport.c
 *   port 0x8900       Bochs shutdown port                            devices/debugport.c
 *   ports 0x0530-537  the built-in BIOS's service ports             machine/bios/bios.c
 *   memory            RAM from 0 (-m); the built-in BIOS ROM at 0xF0000 and
 *                     0xFFFF0000 (machine/bios/), or the -bios ROM below
 *                     4 GiB and its last 128 KiB below 1 MiB
 *
 * Every device's IRQ line goes to the PIC pair (pc_irq_line); the PIC's
 * INTR/INTA side is m->irq_source, which the engine gives its CPU.  All
 * device time comes from m->clock (-icount shift=N: instruction counting).
 */
#include "machine/machine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/debugport.h"
#include "devices/ide.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/cmos_rtc.h"
#include "devices/i8042.h"
#include "devices/kbd_terminal.h"
#include "devices/port92.h"
#include "devices/uart16550.h"
#include "machine/bios/bios.h"
#include "machine/multiboot.h"
#include "machine/pc_disks.h"
#include "machine/pc_vga.h"
#include "base/snapshot.h"

#define PC_DEFAULT_RAM   (128u << 20)
#define PC_COM1_BASE     0x3F8
#define PC_COM1_IRQ      4
#define PC_COM2_BASE     0x2F8
#define PC_COM2_IRQ      3
#define PC_ISA_BIOS_MAX  (128u << 10)   /* the BIOS window 0xE0000-0xFFFFF */
#define PC_BIOS_MAX      (16u << 20)    /* largest -bios image we map below 4 GiB */
#define PC_BIOS_UNIT     (64u << 10)    /* a -bios image is a whole number of these (QEMU's rule) */

/* ISA IRQ 'irq' of the board: an input of the 8259A pair. */
static struct irq_line pc_irq_line(struct machine *m, int irq)
{
    return (struct irq_line){ .raise = pic_raise_irq, .lower = pic_lower_irq, .opaque = m->pic, .irq = irq };
}

/*
 * What the devices' board lines (devices/board_line.h) do on this board:
 * the A20 gate is the bus's, the rest file a stop for the run loop (the
 * first stop filed wins, machine_stop).
 */
static void pc_board_signal(void *opaque, enum board_signal what, uint32_t value)
{
    struct machine *m = opaque;
    switch (what) {
    case BOARD_RESET:
        machine_stop(m, MACHINE_RESET_REQUEST);
        break;
    case BOARD_A20:
        bus_set_a20(&m->bus, value != 0);
        break;
    case BOARD_POWER_OFF:
        machine_stop(m, MACHINE_POWER_OFF);
        break;
    case BOARD_DEBUG_EXIT:
        m->debug_exit_value = (int)(value & 0xFF);
        machine_stop(m, MACHINE_DEBUG_EXIT);
        break;
    case BOARD_WINDOW_CLOSED:
        machine_stop(m, MACHINE_POWER_OFF);   /* as QEMU quits */
        break;
    }
}

static uint32_t pc_board_sense(void *opaque, enum board_signal what)
{
    struct machine *m = opaque;
    return what == BOARD_A20 ? bus_a20_enabled(&m->bus) : 0;
}

struct board_line machine_board_line(struct machine *m, enum board_signal what)
{
    return (struct board_line){ .signal = pc_board_signal, .sense = pc_board_sense, .opaque = m, .what = what };
}

/* The board's devices in the registry (savevm/loadvm, reset, `info NAME`). */
static int pc_register_devices(struct machine *m)
{
    const struct machine_device devices[] = {
        { "pic", m->pic, pic_save, pic_load, pic_reset_device, pic_info },
        { "pit", m->pit, pit_save, pit_load, pit_reset_device, pit_info },
        { "com1", m->com1, uart_save, uart_load, uart_reset_device, uart_info },
        { "com2", m->com2, uart_save, uart_load, uart_reset_device, uart_info },
        { "debugport", m->debug, debugport_save, debugport_load, debugport_reset_device, debugport_info },
        { "port92", m->port92, port92_save, port92_load, port92_reset_device, port92_info },
        { "cmos", m->rtc, cmos_rtc_save, cmos_rtc_load, cmos_rtc_reset_device, cmos_rtc_info },
        { "i8042", m->kbd, i8042_save, i8042_load, i8042_reset_device, i8042_info },
    };
    for (size_t k = 0; k < sizeof devices / sizeof devices[0]; k++) {
        int err = machine_add_device(m, &devices[k]);
        if (err < 0) return err;
    }
    return 0;
}

/*
 * -bios FILE: the image ends at 4 GiB (where the reset vector FFFFFFF0
 * fetches), and its last 128 KiB (all of it, if smaller) also ends at
 * 1 MiB, the BIOS window real-mode code sees (QEMU's layout).  Its size is
 * a whole number of 64 KiB, as QEMU requires (qemu-system-i386 7.2 says
 * "could not load PC BIOS" for 0, 1, 100 and 65,537 bytes): a ROM of any
 * other size would leave the reset vector at no fixed offset.  O_NONBLOCK:
 * a FIFO's open() would otherwise wait for a writer forever.
 */
static int pc_load_bios(struct machine *m, const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    int err = 0;

    if (fd < 0 || fstat(fd, &st) != 0) {
        err = -errno;
        fprintf(stderr, "trapeze: -bios %s: %s\n", path, strerror(-err));
        if (fd >= 0) close(fd);
        return err;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "trapeze: -bios %s: not a regular file (a ROM image is a file of 64 KiB "
                        "to 16 MiB)\n", path);
        close(fd);
        return -EINVAL;
    }
    if (st.st_size == 0 || st.st_size % PC_BIOS_UNIT != 0 || st.st_size > PC_BIOS_MAX) {
        fprintf(stderr, "trapeze: -bios %s: a file of %lld bytes is not a ROM image (its size must be a "
                        "whole number of 64 KiB, up to 16 MiB, as QEMU requires)\n", path, (long long)st.st_size);
        close(fd);
        return -EINVAL;
    }
    uint32_t size = (uint32_t)st.st_size;
    uint8_t *rom = malloc(size);
    if (!rom) {
        close(fd);
        fprintf(stderr, "trapeze: -bios %s: out of host memory\n", path);
        return -ENOMEM;
    }
    uint32_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, rom + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = n < 0 ? -errno : -EIO;
            fprintf(stderr, "trapeze: -bios %s: read error: %s\n", path, strerror(-err));
            goto out;
        }
        done += (uint32_t)n;
    }
    uint32_t isa = size < PC_ISA_BIOS_MAX ? size : PC_ISA_BIOS_MAX;
    err = bus_add_rom(&m->bus, "bios", (uint32_t)(0x100000000ull - size), rom, size);
    if (err == 0)
        err = bus_add_rom(&m->bus, "isa-bios", 0x100000u - isa, rom + size - isa, isa);
    if (err < 0)
        fprintf(stderr, "trapeze: -bios %s: cannot map the ROM: %s\n", path, strerror(-err));
out:
    free(rom);
    close(fd);
    return err;
}

/* The loader: what the CPU starts with.  Run at init and at every reset. */
static int pc_load(struct machine *m)
{
    const struct machine_config *c = &m->config;

    /* A20 on: Multiboot requires it, and QEMU's chipset also resets with it on. */
    bus_set_a20(&m->bus, true);
    if (m->bios)
        bios_reset(m->bios);
    if (c->kernel) {
        /*
         * The CPU starts at the Multiboot entry (so the monitor and the GDB
         * stub begin at the kernel's first instruction), after the built-in
         * BIOS's POST has left IVT, BDA, PIC, PIT and video as a PC BIOS
         * does.  With -bios FILE that ROM cannot know the kernel: no POST.
         * POST first, the kernel after it: a kernel loaded at 0 or 0x400
         * (over the IVT and the BDA) or over the EBDA keeps its own bytes,
         * as under QEMU, whose option ROM copies the kernel after SeaBIOS's
         * POST (checked with qemu-system-i386 7.2: such kernels run there).
         */
        m->boot_from_reset = false;
        if (m->bios)
            bios_post(m->bios);
        return multiboot_load(&m->bus, c->kernel, c->append, c->initrd, &m->boot_state);
    }
    memset(&m->boot_state, 0, sizeof m->boot_state);
    m->boot_state.a20_enabled = true;
    /* The CPU starts at the reset vector: the built-in BIOS's POST, or -bios. */
    m->boot_from_reset = true;
    return 0;
}

/*
 * Frees what machine_init allocated and leaves m empty: the display and the
 * drives closed, the devices that own host resources (PIT, RTC, keyboard
 * terminal) torn down, RAM and ports gone.  The serial ports and the debug
 * ports are the caller's to destroy first: machine_init's failure path knows
 * which of them it got as far as opening.  Safe on a half-built machine.
 */
static void pc_release(struct machine *m)
{
    pc_vga_close(m);
    pc_disks_close(m);
    free(m->com1);
    free(m->com2);
    free(m->debug);
    free(m->port92);
    if (m->pit) pit_destroy(m->pit);
    free(m->pit);
    free(m->pic);
    if (m->rtc) cmos_rtc_destroy(m->rtc);
    if (m->kbd_term) kbd_terminal_destroy(m->kbd_term);
    free(m->rtc);
    free(m->kbd);
    free(m->kbd_term);
    free(m->bios);
    m->bios = NULL;
    m->com1 = m->com2 = NULL;
    m->debug = NULL;
    m->port92 = NULL;
    m->pit = NULL;
    m->pic = NULL;
    m->rtc = NULL;
    m->kbd = NULL;
    m->kbd_term = NULL;
    m->device_count = 0;
    bus_destroy(&m->bus);
}

int machine_init(struct machine *m, const struct machine_config *config)
{
    int err;

    memset(m, 0, sizeof *m);
    m->config = *config;
    struct machine_config *c = &m->config;
    if (!c->ram_size) c->ram_size = PC_DEFAULT_RAM;
    if (!c->serial) c->serial = "stdio";
    if (!c->serial2) c->serial2 = "none";
    if (!c->debugcon) c->debugcon = "none";
    if (!c->debug_exit_iobase) c->debug_exit_iobase = DEBUGPORT_EXIT;
    if (!c->debug_exit_iosize) c->debug_exit_iosize = DEBUGPORT_EXIT_SIZE;

    vclock_init(&m->clock, c->icount, c->icount_shift);

    /* The images first, so a bad one is what the user hears about. */
    if ((err = pc_disks_open(m)) < 0)
        return err;
    bool any_drive = false;
    for (int r = 0; r < DISK_ROLE_COUNT; r++)
        any_drive |= c->drives[r].path != NULL;
    if (!c->kernel && !c->bios && !any_drive) {
        fprintf(stderr, "trapeze: no bootable image: use -kernel FILE, -fda FILE or -hda FILE\n");
        pc_disks_close(m);
        return -EINVAL;
    }
    err = bus_init(&m->bus, c->ram_size);
    if (err < 0) {
        pc_disks_close(m);
        fprintf(stderr, "trapeze: cannot allocate %u MiB of guest RAM: %s (try a smaller -m)\n",
                c->ram_size >> 20, strerror(-err));
        return err;
    }
    m->com1 = calloc(1, sizeof *m->com1);
    m->com2 = calloc(1, sizeof *m->com2);
    m->debug = calloc(1, sizeof *m->debug);
    m->port92 = calloc(1, sizeof *m->port92);
    m->pic = calloc(1, sizeof *m->pic);
    m->rtc = calloc(1, sizeof *m->rtc);
    m->kbd = calloc(1, sizeof *m->kbd);
    m->kbd_term = calloc(1, sizeof *m->kbd_term);
    m->pit = calloc(1, sizeof *m->pit);
    if (!m->com1 || !m->com2 || !m->debug || !m->port92 || !m->pic || !m->pit ||
        !m->rtc || !m->kbd || !m->kbd_term) {
        fprintf(stderr, "trapeze: out of host memory\n");
        err = -ENOMEM;
        goto fail;
    }

    /* The interrupt controller first: every IRQ line ends there. */
    pic_init(m->pic);
    m->irq_source = (struct cpu_irq_source){ .pending = pic_intr_pending,
                                             .acknowledge = pic_acknowledge, .opaque = m->pic };
    pit_init(m->pit, &m->clock, pc_irq_line(m, 0));
    struct rtc_base rtc_base = { .kind = RTC_BASE_UTC };
    char why[200];
    if (c->rtc && rtc_parse_option(c->rtc, &rtc_base, why, sizeof why) < 0) {
        fprintf(stderr, "trapeze: %s\n", why);
        err = -EINVAL;
        goto fail;
    }
    cmos_rtc_init(m->rtc, &m->clock, pc_irq_line(m, CMOS_IRQ), &rtc_base, c->ram_size);
    i8042_init(m->kbd, pc_irq_line(m, 1), pc_irq_line(m, 12),
               machine_board_line(m, BOARD_RESET), machine_board_line(m, BOARD_A20));
    m->kbd_term->in.in_fd = -1;   /* not reading stdin until kbd_terminal_init */

    /* The devices, at the ports a PC has them. */
    err = uart_init(m->com1, c->serial, "-serial", pc_irq_line(m, PC_COM1_IRQ));
    if (err < 0) goto fail_com1;
    err = uart_init(m->com2, c->serial2, "-serial", pc_irq_line(m, PC_COM2_IRQ));
    if (err < 0) goto fail_com2;
    err = debugport_init(m->debug, c->debugcon, c->debug_exit_iobase, c->debug_exit_iosize,
                         machine_board_line(m, BOARD_POWER_OFF), machine_board_line(m, BOARD_DEBUG_EXIT));
    if (err < 0) goto fail_debug;
    /* After the serial ports: stdin is the keyboard only if no -serial stdio took it. */
    kbd_terminal_init(m->kbd_term, m->kbd);
    port92_init(m->port92, machine_board_line(m, BOARD_RESET), machine_board_line(m, BOARD_A20));

    if ((err = bus_add_ports(&m->bus, "com1", PC_COM1_BASE, 8, &uart_io_ops, m->com1)) < 0 ||
        (err = bus_add_ports(&m->bus, "com2", PC_COM2_BASE, 8, &uart_io_ops, m->com2)) < 0 ||
        (err = bus_add_ports(&m->bus, "debugcon", DEBUGPORT_CONSOLE, 1, &debugport_console_ops, m->debug)) < 0 ||
        (err = bus_add_ports(&m->bus, "isa-debug-exit", c->debug_exit_iobase, c->debug_exit_iosize,
                             &debugport_exit_ops, m->debug)) < 0 ||
        (err = bus_add_ports(&m->bus, "bochs-shutdown", DEBUGPORT_SHUTDOWN, 1,
                             &debugport_shutdown_ops, m->debug)) < 0 ||
        (err = bus_add_ports(&m->bus, "port92", PORT92, 1, &port92_ops, m->port92)) < 0 ||
        (err = bus_add_ports(&m->bus, "pic-master", PIC_MASTER_BASE, 2, &pic_master_ops, m->pic)) < 0 ||
        (err = bus_add_ports(&m->bus, "pic-slave", PIC_SLAVE_BASE, 2, &pic_slave_ops, m->pic)) < 0 ||
        (err = bus_add_ports(&m->bus, "elcr", PIC_ELCR_BASE, 2, &pic_elcr_ops, m->pic)) < 0 ||
        (err = bus_add_ports(&m->bus, "pit", PIT_BASE, 4, &pit_io_ops, m->pit)) < 0 ||
        (err = bus_add_ports(&m->bus, "port61", PIT_PORT61, 1, &pit_port61_ops, m->pit)) < 0 ||
        (err = bus_add_ports(&m->bus, "cmos", CMOS_INDEX_PORT, 2, &cmos_rtc_ops, m->rtc)) < 0 ||
        (err = bus_add_ports(&m->bus, "i8042-data", I8042_DATA_PORT, 1, &i8042_data_ops, m->kbd)) < 0 ||
        (err = bus_add_ports(&m->bus, "i8042-command", I8042_COMMAND_PORT, 1, &i8042_command_ops, m->kbd)) < 0) {
        fprintf(stderr, "trapeze: cannot claim the I/O ports (is -device isa-debug-exit,iobase= "
                        "on another device's ports?): %s\n", strerror(-err));
        goto fail_ports;
    }

    if ((err = pc_register_devices(m)) < 0) {
        fprintf(stderr, "trapeze: too many devices for the board's registry\n");
        goto fail_ports;
    }
    if ((err = pc_disks_attach(m, pc_irq_line(m, IDE_PRIMARY_IRQ))) < 0)
        goto fail_ports;
    if ((err = pc_vga_attach(m)) < 0)
        goto fail_ports;
    if (c->bios && (err = pc_load_bios(m, c->bios)) < 0)
        goto fail_ports;
    if (!c->bios) {
        /* The built-in BIOS: POST, int 10h/13h/15h/16h/1Ah, booting -fda/-hda. */
        m->bios = calloc(1, sizeof *m->bios);
        if (!m->bios) {
            fprintf(stderr, "trapeze: out of host memory\n");
            err = -ENOMEM;
            goto fail_ports;
        }
        if ((err = bios_init(m->bios, m)) < 0)
            goto fail_ports;
    }
    if ((err = pc_load(m)) < 0)
        goto fail_ports;
    port92_reset(m->port92);   /* reads back the A20 the loader set */
    machine_display_refresh(m);   /* the window shows the screen before the first run (a -monitor prompt) */
    return 0;

fail_ports:
    debugport_destroy(m->debug);
fail_debug:
    uart_destroy(m->com2);
fail_com2:
    uart_destroy(m->com1);
fail_com1:
fail:
    pc_release(m);
    return err;
}

void machine_destroy(struct machine *m)
{
    if (m->debug) debugport_destroy(m->debug);
    if (m->com2) uart_destroy(m->com2);
    if (m->com1) uart_destroy(m->com1);
    pc_release(m);
}

void machine_stop(struct machine *m, enum machine_stop reason)
{
    if (m->stop_reason == MACHINE_RUNNING)
        m->stop_reason = reason;
    if (m->request_stop)
        m->request_stop(m->request_stop_opaque);
}

int machine_reset(struct machine *m)
{
    m->stop_reason = MACHINE_RUNNING;
    m->debug_exit_value = 0;
    uart_reset(m->com1);
    uart_reset(m->com2);
    debugport_reset(m->debug);
    pit_reset(m->pit);
    cmos_rtc_reset(m->rtc);
    i8042_reset(m->kbd);
    pic_reset(m->pic);
    pc_disks_reset(m);
    pc_vga_reset(m);
    int err = pc_load(m);
    port92_reset(m->port92);
    return err;
}

void machine_poll(struct machine *m)
{
    uart_poll(m->com1);
    uart_poll(m->com2);
    kbd_terminal_poll(m->kbd_term);
    pc_vga_poll(m);
}

bool machine_can_wake(struct machine *m)
{
    return vclock_next_deadline(&m->clock) != UINT64_MAX ||
           chardev_has_input(&m->com1->backend) || chardev_has_input(&m->com2->backend);
}
