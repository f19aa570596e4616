/*
 * pc_disks.c - the board's drives (see pc_disks.h).
 *
 *   ports 0x01F0-1F7, 0x3F6  primary ATA channel, IRQ 14: -hda (master),
 *                            -hdb (slave)                          devices/ide.c
 *   ports 0x03F0-3F5, 0x3F7  floppy controller: not modelled, says so when
 *                            the guest touches it                  devices/fdc_absent.c
 *   -fda, -fdb               opened here, served by the BIOS's int 13h
 */
#include "machine/pc_disks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/fdc_absent.h"
#include "devices/ide.h"
#include "machine/machine.h"

int pc_disks_open(struct machine *m)
{
    for (int r = 0; r < DISK_ROLE_COUNT; r++)
        m->disks[r].fd = -1;
    for (int r = 0; r < DISK_ROLE_COUNT; r++) {
        const struct machine_drive *drive = &m->config.drives[r];
        if (!drive->path) continue;
        int err = disk_open(&m->disks[r], drive->path, (enum disk_role)r, drive->read_only);
        if (err < 0) {
            pc_disks_close(m);
            return err;
        }
    }
    return 0;
}

int pc_disks_attach(struct machine *m, struct irq_line irq14)
{
    int err;
    m->ide = calloc(1, sizeof *m->ide);
    m->fdc = calloc(1, sizeof *m->fdc);
    if (!m->ide || !m->fdc) {
        fprintf(stderr, "trapeze: out of host memory\n");
        return -ENOMEM;
    }
    struct disk *master = disk_present(&m->disks[DISK_IDE_MASTER]) ? &m->disks[DISK_IDE_MASTER] : NULL;
    struct disk *slave = disk_present(&m->disks[DISK_IDE_SLAVE]) ? &m->disks[DISK_IDE_SLAVE] : NULL;
    ide_init(m->ide, master, slave, irq14);

    if ((err = bus_add_ports(&m->bus, "ide0", IDE_PRIMARY_BASE, 8, &ide_command_ops, m->ide)) < 0 ||
        (err = bus_add_ports(&m->bus, "ide0-control", IDE_PRIMARY_CONTROL, 1, &ide_control_ops, m->ide)) < 0 ||
        (err = bus_add_ports(&m->bus, "fdc", FDC_BASE, FDC_BASE_SIZE, &fdc_absent_low_ops, m->fdc)) < 0 ||
        (err = bus_add_ports(&m->bus, "fdc-dir", FDC_DIR, 1, &fdc_absent_dir_ops, m->fdc)) < 0) {
        fprintf(stderr, "trapeze: cannot claim the IDE and floppy ports (is -device isa-debug-exit,iobase= "
                        "on them?): %s\n", strerror(-err));
        return err;
    }
    const struct machine_device dev = { "ide", m->ide, ide_save, ide_load, ide_reset_device, ide_info };
    if ((err = machine_add_device(m, &dev)) < 0) {
        fprintf(stderr, "trapeze: too many devices for the board's registry\n");
        return err;
    }
    return 0;
}

void pc_disks_reset(struct machine *m)
{
    if (m->ide) ide_reset(m->ide);   /* the FDC notice stays said once per run */
}

void pc_disks_close(struct machine *m)
{
    for (int r = 0; r < DISK_ROLE_COUNT; r++)
        disk_close(&m->disks[r]);
    free(m->ide);
    free(m->fdc);
    m->ide = NULL;
    m->fdc = NULL;
}
