/*
 * bios_disk.c - int 13h: the disk images of m->disks[] as BIOS drives.
 *
 * Drive numbers: 00h floppy A, 01h floppy B, 80h the first hard disk
 * present (IDE master, else slave), 81h the second.  Geometry is the
 * image's (base/disk.h: floppies by size, hard disks 16 x 63 or the
 * LBA-assisted BIOS translation).  Floppies have no controller model, so
 * this is their only path; hard disks are read from the same images the
 * IDE channel serves (as a BIOS's own IDE driver would reach them).
 *
 * Functions (IBM AT Technical Reference, DISKETTE_IO / DISK_IO; Phoenix
 * "BIOS Enhanced Disk Drive Specification" 1.1 / T13 EDD-3 for 41h-48h):
 *   00h reset            01h last status        02h read CHS
 *   03h write CHS        04h verify CHS         08h drive parameters
 *   15h drive type       41h extensions check   42h extended read
 *   43h extended write   48h extended parameters
 * CHS: CH = cylinder bits 7-0, CL bits 7-6 = cylinder bits 9-8, CL bits
 * 5-0 = sector (from 1), DH = head; AL = count; ES:BX = buffer.
 * Status codes (AH, CF = 1 when nonzero): 01h bad command, 02h address
 * mark not found, 03h write protected, 04h sector not found, 09h DMA
 * across a 64 KiB boundary (floppy), 20h controller failure, 0Ch media
 * type not found, AAh drive not ready.
 */
#include "machine/bios/bios_internal.h"

#include <errno.h>

#define ST_OK             0x00
#define ST_BAD_COMMAND    0x01
#define ST_WRITE_PROTECT  0x03
#define ST_NOT_FOUND      0x04
#define ST_DMA_BOUNDARY   0x09
#define ST_CONTROLLER     0x20
#define ST_TIMEOUT        0x80   /* floppy: drive not ready (no media) */
#define ST_NOT_READY      0xAA

/* The role behind a BIOS drive number, or -1 for none. */
int bios_disk_role(struct bios *b, uint8_t drive)
{
    struct disk *d = b->machine->disks;
    if (drive < 0x80) {
        if (drive > 1) return -1;
        int role = drive == 0 ? DISK_FLOPPY_A : DISK_FLOPPY_B;
        return disk_present(&d[role]) ? role : -1;
    }
    int n = 0x80;
    for (int role = DISK_IDE_MASTER; role <= DISK_IDE_SLAVE; role++)
        if (disk_present(&d[role]) && n++ == drive)
            return role;
    return -1;
}

static unsigned hard_disk_count(struct bios *b)
{
    return (unsigned)disk_present(&b->machine->disks[DISK_IDE_MASTER]) +
           (unsigned)disk_present(&b->machine->disks[DISK_IDE_SLAVE]);
}

static unsigned floppy_count(struct bios *b)
{
    return (unsigned)disk_present(&b->machine->disks[DISK_FLOPPY_A]) +
           (unsigned)disk_present(&b->machine->disks[DISK_FLOPPY_B]);
}

void bios_disk_init(struct bios *b)
{
    unsigned floppies = floppy_count(b);
    uint16_t eq = bios_read16(b, BDA_EQUIPMENT);
    if (floppies)   /* bit 0: diskette drives present; bits 7-6: their number - 1 */
        eq = (uint16_t)(eq | 0x0001 | ((floppies - 1) << 6));
    bios_write16(b, BDA_EQUIPMENT, eq);
    bios_write8(b, BDA_HD_COUNT, (uint8_t)hard_disk_count(b));
}

/* Move sectors between the image and guest memory (linear 'addr'). */
static uint8_t transfer(struct bios *b, struct disk *d, uint64_t lba, uint32_t count, uint32_t addr,
                        bool write)
{
    uint8_t sector[DISK_SECTOR_SIZE];
    for (uint32_t i = 0; i < count; i++, addr += DISK_SECTOR_SIZE) {
        int err;
        if (write) {
            bus_read_block(&b->machine->bus, addr, sector, DISK_SECTOR_SIZE);
            err = disk_write(d, lba + i, 1, sector);
        } else {
            err = disk_read(d, lba + i, 1, sector);
            if (err == 0)
                bus_write_block(&b->machine->bus, addr, sector, DISK_SECTOR_SIZE);
        }
        if (err == -EROFS) return ST_WRITE_PROTECT;
        if (err == -ERANGE) return ST_NOT_FOUND;
        if (err < 0) return ST_CONTROLLER;
    }
    return ST_OK;
}

int bios_disk_read_boot_sector(struct bios *b, uint8_t drive)
{
    int role = bios_disk_role(b, drive);
    if (role < 0) return -ENODEV;
    return transfer(b, &b->machine->disks[role], 0, 1, 0x7C00, false) == ST_OK ? 0 : -EIO;
}

/* AH=02h/03h/04h. Returns the status; AL = sectors done. */
static uint8_t chs_command(struct bios *b, struct bios_frame *f, struct disk *d)
{
    unsigned count = bios_al(f);
    unsigned cyl = bios_ch(f) | (unsigned)(bios_cl(f) & 0xC0) << 2;
    unsigned sector = bios_cl(f) & 0x3F, head = bios_dh(f);
    const struct disk_chs *g = &d->bios_chs;

    bios_set_lo8(&f->eax, 0);
    if (count == 0 || (d->floppy && count > g->sectors * g->heads))
        return ST_BAD_COMMAND;
    if (sector == 0 || sector > g->sectors || head >= g->heads || cyl >= g->cylinders)
        return ST_NOT_FOUND;
    uint64_t lba = ((uint64_t)cyl * g->heads + head) * g->sectors + (sector - 1);
    if (lba + count > d->sectors)
        return ST_NOT_FOUND;
    uint32_t addr = bios_linear(f->es, (uint16_t)f->ebx);
    /* The 8237 DMA cannot cross a 64 KiB page (IBM AT Tech Ref, DISKETTE_IO: error 09h). */
    if (d->floppy && bios_ah(f) != 0x04 && (addr & 0xFFFF) + count * DISK_SECTOR_SIZE > 0x10000)
        return ST_DMA_BOUNDARY;
    /* Verify (04h) checks that the sectors exist; the image has no CRC to fail. */
    uint8_t st = bios_ah(f) == 0x04 ? ST_OK : transfer(b, d, lba, count, addr, bios_ah(f) == 0x03);
    if (st == ST_OK)
        bios_set_lo8(&f->eax, (uint8_t)count);
    return st;
}

/* The disk address packet of 42h/43h at DS:SI (EDD 1.1, "Device Address Packet"). */
static uint8_t extended_command(struct bios *b, struct bios_frame *f, struct disk *d, bool write)
{
    uint32_t dap = bios_linear(f->ds, (uint16_t)f->esi);
    uint8_t size = bios_read8(b, dap);
    uint16_t count = bios_read16(b, dap + 2);
    uint16_t off = bios_read16(b, dap + 4), seg = bios_read16(b, dap + 6);
    uint64_t lba = bios_read32(b, dap + 8) | (uint64_t)bios_read32(b, dap + 12) << 32;
    uint32_t addr = bios_linear(seg, off);

    if (size < 0x10)
        return ST_BAD_COMMAND;
    if (seg == 0xFFFF && off == 0xFFFF) {
        /* EDD 3.0: a flat 64-bit buffer address at offset 10h (size >= 18h). */
        uint64_t flat = bios_read32(b, dap + 16) | (uint64_t)bios_read32(b, dap + 20) << 32;
        if (size < 0x18 || flat > 0xFFFFFFFFu)
            return ST_BAD_COMMAND;
        addr = (uint32_t)flat;
    }
    uint8_t st;
    if (lba >= d->sectors || count > d->sectors - lba) {
        count = 0;
        st = ST_NOT_FOUND;
    } else {
        st = transfer(b, d, lba, count, addr, write);
        if (st != ST_OK) count = 0;
    }
    bios_write16(b, dap + 2, count);   /* blocks transferred */
    return st;
}

/* AH=48h: the result buffer at DS:SI (EDD 1.1 "Get Device Parameters"). */
static uint8_t get_extended_parameters(struct bios *b, struct bios_frame *f, struct disk *d)
{
    uint32_t buf = bios_linear(f->ds, (uint16_t)f->esi);
    uint16_t size = bios_read16(b, buf);
    if (size < 0x1A)
        return ST_BAD_COMMAND;
    const struct disk_chs *g = &d->bios_chs;
    bios_write16(b, buf + 0x00, size >= 0x1E ? 0x1E : 0x1A);
    bios_write16(b, buf + 0x02, 0x0002);          /* flags: bit 1 CHS information valid */
    bios_write32(b, buf + 0x04, g->cylinders);
    bios_write32(b, buf + 0x08, g->heads);
    bios_write32(b, buf + 0x0C, g->sectors);
    bios_write32(b, buf + 0x10, (uint32_t)d->sectors);
    bios_write32(b, buf + 0x14, (uint32_t)(d->sectors >> 32));
    bios_write16(b, buf + 0x18, DISK_SECTOR_SIZE);
    if (size >= 0x1E)
        bios_write32(b, buf + 0x1A, 0xFFFFFFFFu); /* no device parameter table extension */
    return ST_OK;
}

/* AH=08h. */
static uint8_t get_parameters(struct bios *b, struct bios_frame *f, struct disk *d)
{
    const struct disk_chs *g = &d->bios_chs;
    unsigned max_cyl = g->cylinders - 1;
    bios_set_lo16(&f->eax, 0);
    bios_set_lo16(&f->ecx, (uint16_t)((max_cyl & 0xFF) << 8 | (max_cyl >> 8 & 3) << 6 | (g->sectors & 0x3F)));
    if (d->floppy) {
        /* BL = drive type (CMOS numbering), ES:DI = the diskette parameter table. */
        uint8_t type = g->sectors == 18 ? 4 : g->sectors == 9 ? 3 : g->sectors == 15 ? 2 : 5;
        bios_set_lo16(&f->ebx, type);
        bios_set_lo16(&f->edx, (uint16_t)((g->heads - 1) << 8 | floppy_count(b)));
        f->es = 0xF000;
        bios_set_lo16(&f->edi, 0xEFC7);
    } else {
        bios_set_lo16(&f->edx, (uint16_t)((g->heads - 1) << 8 | hard_disk_count(b)));
    }
    return ST_OK;
}

enum bios_verdict bios_int13(struct bios *b, struct bios_frame *f)
{
    uint8_t drive = bios_dl(f), ah = bios_ah(f), st;
    int role = bios_disk_role(b, drive);
    struct disk *d = role >= 0 ? &b->machine->disks[role] : NULL;
    uint32_t status_byte = drive < 0x80 ? BDA_FLOPPY_STATUS : BDA_HD_STATUS;

    if (ah == 0x01) {                  /* last status, in AH; CF when nonzero */
        st = bios_read8(b, status_byte);
        bios_set_hi8(&f->eax, st);
        bios_set_cf(f, st != ST_OK);
        return BIOS_DONE;
    }
    if (ah == 0x15) {                  /* drive type: AH, not a status */
        bios_set_cf(f, false);
        if (!d) {
            bios_set_hi8(&f->eax, 0x00);   /* no such drive */
        } else if (d->floppy) {
            bios_set_hi8(&f->eax, 0x01);   /* diskette, no change line */
        } else {
            bios_set_hi8(&f->eax, 0x03);   /* fixed disk; CX:DX = sectors */
            uint32_t n = d->sectors > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)d->sectors;
            bios_set_lo16(&f->ecx, (uint16_t)(n >> 16));
            bios_set_lo16(&f->edx, (uint16_t)n);
        }
        return BIOS_DONE;
    }
    if (!d && ah != 0x00) {
        st = drive < 0x80 ? ST_TIMEOUT : ST_BAD_COMMAND;
    } else {
        switch (ah) {
        case 0x00:                     /* reset: nothing to recalibrate */
            st = ST_OK;
            break;
        case 0x02:
        case 0x03:
        case 0x04:
            st = chs_command(b, f, d);
            break;
        case 0x08:
            st = get_parameters(b, f, d);
            break;
        case 0x41:
            if ((f->ebx & 0xFFFF) != 0x55AA) {
                st = ST_BAD_COMMAND;
                break;
            }
            bios_set_lo16(&f->ebx, 0xAA55);
            bios_set_lo16(&f->ecx, 0x0001);   /* bit 0: functions 42h-44h, 47h, 48h */
            bios_set_hi8(&f->eax, 0x21);      /* EDD 1.1 */
            bios_set_cf(f, false);
            return BIOS_DONE;
        case 0x42:
        case 0x43:
            st = extended_command(b, f, d, ah == 0x43);
            break;
        case 0x48:
            st = get_extended_parameters(b, f, d);
            break;
        default:
            bios_report_unimplemented(b, BIOS_WARN_INT13, 0x13, f);
            st = ST_BAD_COMMAND;
            break;
        }
    }
    bios_write8(b, status_byte, st);
    bios_set_hi8(&f->eax, st);
    bios_set_cf(f, st != ST_OK);
    return BIOS_DONE;
}
