/*
 * pc.c - the PC board: RAM, the devices at their ISA ports, the loaders.
 *
 * Everything the machine has is wired here, in machine_init, where a
 * reader can see it (STYLE.md 6).  Today's board:
 *
 *   port 0x0092       System Control Port A (A20 gate, fast reset)   devices/port92.c
 *   ports 0x02F8-2FF  COM2, 16550A, IRQ 3 (-serial, second)         devices/uart16550.c
 *   ports 0x03F8-3FF  COM1, 16550A, IRQ 4 (-serial, default stdio)  devices/uart16550.c
 *   port 0x00E9       debug console (-debugcon, default none)        devices/debugport.c
 *   ports 0x00F4-F7   isa-debug-exit                                 devices/debugport.c
 *   port 0x8900       Bochs shutdown port                            devices/debugport.c
 *   memory            RAM from 0 (-m), -bios ROM below 4 GiB and its
 *                     last 128 KiB below 1 MiB
 *
 * The PIC, PIT, CMOS, keyboard controller, VGA and disks come with the PC
 * board issue; until then the IRQ lines only record their level.
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
#include "devices/port92.h"
#include "devices/uart16550.h"
#include "machine/multiboot.h"

#define PC_DEFAULT_RAM   (128u << 20)
#define PC_COM1_BASE     0x3F8
#define PC_COM1_IRQ      4
#define PC_COM2_BASE     0x2F8
#define PC_COM2_IRQ      3
#define PC_ISA_BIOS_MAX  (128u << 10)   /* the BIOS window 0xE0000-0xFFFFF */
#define PC_BIOS_MAX      (16u << 20)    /* largest -bios image we map below 4 GiB */

/* The IRQ pins' far end until the PIC exists: remember the level. */
static void pc_raise_irq(void *opaque, int irq)
{
    struct machine *m = opaque;
    m->irq_levels |= (uint16_t)(1u << irq);
}

static void pc_lower_irq(void *opaque, int irq)
{
    struct machine *m = opaque;
    m->irq_levels &= (uint16_t)~(1u << irq);
}

static struct irq_line pc_irq_line(struct machine *m, int irq)
{
    return (struct irq_line){ .raise = pc_raise_irq, .lower = pc_lower_irq, .opaque = m, .irq = irq };
}

/*
 * -bios FILE: the image ends at 4 GiB (where the reset vector FFFFFFF0
 * fetches), and its last 128 KiB (all of it, if smaller) also ends at
 * 1 MiB, the BIOS window real-mode code sees (QEMU's layout).
 */
static int pc_load_bios(struct machine *m, const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int err = 0;

    if (fd < 0 || fstat(fd, &st) != 0) {
        err = -errno;
        fprintf(stderr, "trapeze: -bios %s: %s\n", path, strerror(-err));
        if (fd >= 0) close(fd);
        return err;
    }
    if (!S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size > PC_BIOS_MAX) {
        fprintf(stderr, "trapeze: -bios %s: a ROM image must be a file of 1 byte to 16 MiB\n", path);
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
    if (c->kernel) {
        m->boot_from_reset = false;
        return multiboot_load(&m->bus, c->kernel, c->append, c->initrd, &m->boot_state);
    }
    memset(&m->boot_state, 0, sizeof m->boot_state);
    m->boot_state.a20_enabled = true;
    m->boot_from_reset = true;   /* -bios: the engine starts at the reset vector */
    return 0;
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

    if (!c->kernel && !c->bios) {
        fprintf(stderr, "trapeze: no bootable image: use -kernel FILE "
                        "(BIOS boot of -fda/-hda comes with the PC board issue)\n");
        return -EINVAL;
    }

    err = bus_init(&m->bus, c->ram_size);
    if (err < 0) {
        fprintf(stderr, "trapeze: cannot allocate %u MiB of guest RAM: %s (try a smaller -m)\n",
                c->ram_size >> 20, strerror(-err));
        return err;
    }
    m->com1 = calloc(1, sizeof *m->com1);
    m->com2 = calloc(1, sizeof *m->com2);
    m->debug = calloc(1, sizeof *m->debug);
    m->port92 = calloc(1, sizeof *m->port92);
    if (!m->com1 || !m->com2 || !m->debug || !m->port92) {
        fprintf(stderr, "trapeze: out of host memory\n");
        err = -ENOMEM;
        goto fail;
    }

    /* The devices, at the ports a PC has them. */
    err = uart_init(m->com1, c->serial, "-serial", pc_irq_line(m, PC_COM1_IRQ));
    if (err < 0) goto fail_com1;
    err = uart_init(m->com2, c->serial2, "-serial", pc_irq_line(m, PC_COM2_IRQ));
    if (err < 0) goto fail_com2;
    err = debugport_init(m->debug, m, c->debugcon);
    if (err < 0) goto fail_debug;
    port92_init(m->port92, m);

    if ((err = bus_add_ports(&m->bus, "com1", PC_COM1_BASE, 8, &uart_io_ops, m->com1)) < 0 ||
        (err = bus_add_ports(&m->bus, "com2", PC_COM2_BASE, 8, &uart_io_ops, m->com2)) < 0 ||
        (err = bus_add_ports(&m->bus, "debugcon", DEBUGPORT_CONSOLE, 1, &debugport_console_ops, m->debug)) < 0 ||
        (err = bus_add_ports(&m->bus, "isa-debug-exit", c->debug_exit_iobase, c->debug_exit_iosize,
                             &debugport_exit_ops, m->debug)) < 0 ||
        (err = bus_add_ports(&m->bus, "bochs-shutdown", DEBUGPORT_SHUTDOWN, 1,
                             &debugport_shutdown_ops, m->debug)) < 0 ||
        (err = bus_add_ports(&m->bus, "port92", PORT92, 1, &port92_ops, m->port92)) < 0) {
        fprintf(stderr, "trapeze: cannot claim the I/O ports (is -device isa-debug-exit,iobase= "
                        "on another device's ports?): %s\n", strerror(-err));
        goto fail_ports;
    }

    if (c->bios && (err = pc_load_bios(m, c->bios)) < 0)
        goto fail_ports;
    if ((err = pc_load(m)) < 0)
        goto fail_ports;
    port92_reset(m->port92);   /* reads back the A20 the loader set */
    return 0;

fail_ports:
    debugport_destroy(m->debug);
fail_debug:
    uart_destroy(m->com2);
fail_com2:
    uart_destroy(m->com1);
fail_com1:
fail:
    free(m->com1);
    free(m->com2);
    free(m->debug);
    free(m->port92);
    m->com1 = m->com2 = NULL;
    m->debug = NULL;
    m->port92 = NULL;
    bus_destroy(&m->bus);
    return err;
}

void machine_destroy(struct machine *m)
{
    if (m->debug) debugport_destroy(m->debug);
    if (m->com2) uart_destroy(m->com2);
    if (m->com1) uart_destroy(m->com1);
    free(m->com1);
    free(m->com2);
    free(m->debug);
    free(m->port92);
    m->com1 = m->com2 = NULL;
    m->debug = NULL;
    m->port92 = NULL;
    bus_destroy(&m->bus);
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
    int err = pc_load(m);
    port92_reset(m->port92);
    return err;
}

void machine_poll(struct machine *m)
{
    uart_poll(m->com1);
    uart_poll(m->com2);
}
