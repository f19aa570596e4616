/*
 * ide.c - the primary ATA channel (see ide.h).
 *
 * The PIO protocols every command here follows (ATA-6 9.4-9.7):
 *
 *   non-data (SET MULTIPLE, IDLE, ...):  command -> done: DRDY, INTRQ
 *   PIO data-in (READ SECTORS, IDENTIFY): command -> block ready: DRQ,
 *       INTRQ -> host reads status (clears INTRQ) and the block -> next
 *       block: DRQ, INTRQ ... -> after the last block: DRQ clear, no INTRQ
 *   PIO data-out (WRITE SECTORS): command -> DRQ (no INTRQ) -> host writes
 *       the block -> written: DRQ for the next block and INTRQ ... -> after
 *       the last block: DRQ clear, INTRQ
 *
 * An error ends any of them: ERR in Status, the reason in Error, INTRQ.
 * Every read and write goes straight to the image (base/disk.c).
 */
#include "devices/ide.h"

#include <errno.h>
#include <string.h>

#include "base/disk.h"
#include "base/log.h"
#include "base/snapshot.h"

#define SECTOR 512u
#define LBA28_MAX_SECTORS 0x0FFFFFFFu   /* IDENTIFY words 60-61 saturate here (ATA-6 8.15.30) */
#define CHS_MAX_CYLINDERS 65535u        /* 16 bits of Cylinder High:Low */

#define IDE_MODEL    "TRAPEZE HARDDISK"
#define IDE_FIRMWARE "0.1"

/* Diagnostic codes in the Error register (ATA-6 8.11, table 26). */
#define IDE_DIAG_PASSED 0x01   /* device 0 passed, device 1 passed or absent */

/* ---- helpers ---- */

static struct ide_device *ide_selected(struct ide_channel *c)
{
    /* Both devices latch every Device write, so device 0's copy says which is selected. */
    return &c->device[(c->device[0].s.device & IDE_DEVICE_DEV) ? 1 : 0];
}

static bool ide_channel_empty(const struct ide_channel *c)
{
    return !c->device[0].disk && !c->device[1].disk;
}

/*
 * INTRQ (ATA-6 5.2.9): the selected device drives it when nIEN = 0 and it
 * has an interrupt pending; otherwise the pin is released (low on the PC).
 */
static void ide_update_irq(struct ide_channel *c)
{
    struct ide_device *d = ide_selected(c);
    bool level = d->disk && d->s.intrq && !(c->device_control & IDE_CONTROL_NIEN);
    if (level != c->irq_level) {
        c->irq_level = level;
        irq_line_set(&c->irq, level);
    }
}

/* Sectors the device can address: LBA28 caps what it reports. */
static uint32_t ide_capacity(const struct ide_device *d)
{
    return d->disk->sectors > LBA28_MAX_SECTORS ? LBA28_MAX_SECTORS : (uint32_t)d->disk->sectors;
}

/* The power-on CHS translation: the drive's default geometry (IDENTIFY 1, 3, 6). */
static void ide_default_settings(struct ide_device *d)
{
    d->s.multiple_count = 0;   /* READ/WRITE MULTIPLE disabled until SET MULTIPLE MODE */
    d->s.revert_defaults = 0;
    d->s.pio_mode = 0;
    if (d->disk) {
        d->s.cur_cylinders = d->disk->drive_chs.cylinders;
        d->s.cur_heads = (uint16_t)d->disk->drive_chs.heads;
        d->s.cur_sectors = (uint16_t)d->disk->drive_chs.sectors;
    }
}

/* The signature and diagnostic result after a reset or EXECUTE DEVICE DIAGNOSTIC (ATA-6 9.12). */
static void ide_set_signature(struct ide_device *d)
{
    d->s.sector_count = IDE_SIGNATURE_COUNT;
    d->s.lba_low = IDE_SIGNATURE_LBA_LOW;
    d->s.lba_mid = 0x00;        /* 00h 00h: an ATA device (ATAPI: 14h EBh) */
    d->s.lba_high = 0x00;
    d->s.device = 0x00;
    d->s.error = IDE_DIAG_PASSED;
    d->s.status = IDE_STATUS_DRDY | IDE_STATUS_DSC;
    d->s.transfer = IDE_TRANSFER_NONE;
    d->s.command = 0;
    d->s.intrq = 0;
    d->s.power = IDE_POWER_ACTIVE;
}

static void ide_complete(struct ide_device *d)
{
    d->s.status = IDE_STATUS_DRDY | IDE_STATUS_DSC;
    d->s.transfer = IDE_TRANSFER_NONE;
    d->s.command = 0;
    d->s.intrq = 1;
}

static void ide_fail(struct ide_device *d, uint8_t error)
{
    d->s.error = error;
    d->s.status = IDE_STATUS_DRDY | IDE_STATUS_DSC | IDE_STATUS_ERR;
    d->s.transfer = IDE_TRANSFER_NONE;
    d->s.command = 0;
    d->s.intrq = 1;
}

/*
 * The address in the registers (ATA-6 7.10: LBA bit of Device).  LBA:
 * Device 3:0, LBA High, Mid, Low are bits 27:0.  CHS (ATA-5 6.2): sector
 * numbers from 1, LBA = (C * heads + H) * sectors + S - 1 under the
 * current translation.  False for a CHS address outside it.
 */
static bool ide_get_address(const struct ide_device *d, uint32_t *lba)
{
    const struct ide_device_state *s = &d->s;
    if (s->device & IDE_DEVICE_LBA) {
        *lba = (uint32_t)(s->device & IDE_DEVICE_HEAD) << 24 | (uint32_t)s->lba_high << 16 |
               (uint32_t)s->lba_mid << 8 | s->lba_low;
        return true;
    }
    uint32_t cyl = (uint32_t)s->lba_high << 8 | s->lba_mid;
    uint32_t head = s->device & IDE_DEVICE_HEAD;
    uint32_t sec = s->lba_low;
    if (sec == 0 || sec > s->cur_sectors || head >= s->cur_heads || cyl >= s->cur_cylinders)
        return false;
    *lba = (cyl * s->cur_heads + head) * s->cur_sectors + sec - 1;
    return true;
}

/* Put 'lba' back into the registers in the mode the host used. */
static void ide_set_address(struct ide_device *d, uint32_t lba)
{
    struct ide_device_state *s = &d->s;
    if (s->device & IDE_DEVICE_LBA) {
        s->lba_low = (uint8_t)lba;
        s->lba_mid = (uint8_t)(lba >> 8);
        s->lba_high = (uint8_t)(lba >> 16);
        s->device = (uint8_t)((s->device & ~IDE_DEVICE_HEAD) | ((lba >> 24) & IDE_DEVICE_HEAD));
        return;
    }
    uint32_t spt = s->cur_sectors ? s->cur_sectors : 1;
    uint32_t heads = s->cur_heads ? s->cur_heads : 1;
    uint32_t cyl = lba / (heads * spt);
    s->lba_low = (uint8_t)(lba % spt + 1);
    s->lba_mid = (uint8_t)cyl;
    s->lba_high = (uint8_t)(cyl >> 8);
    s->device = (uint8_t)((s->device & ~IDE_DEVICE_HEAD) | ((lba / spt) % heads));
}

/* An ATA string: two characters a word, the first in bits 15:8, space padded (ATA-6 3.2.9). */
static void ide_put_string(uint16_t *words, int first, int count, const char *str)
{
    size_t len = strlen(str);
    for (int k = 0; k < count * 2; k++) {
        uint8_t ch = (size_t)k < len ? (uint8_t)str[k] : ' ';
        if (k % 2 == 0) words[first + k / 2] = (uint16_t)(ch << 8);
        else words[first + k / 2] |= ch;
    }
}

bool ide_identify_data(const struct ide_channel *c, int dev, uint16_t w[256])
{
    const struct ide_device *d = &c->device[dev & 1];
    if (!d->disk) return false;
    const struct ide_device_state *s = &d->s;
    memset(w, 0, 256 * sizeof w[0]);

    /* ATA-6 8.15.x, table 29; obsolete words as ATA-3 8.7 defines them. */
    w[0] = 0x0040;                             /* ATA device (bit 15 = 0), not removable (bit 6) */
    w[1] = (uint16_t)d->disk->drive_chs.cylinders;   /* default translation */
    w[3] = (uint16_t)d->disk->drive_chs.heads;
    w[6] = (uint16_t)d->disk->drive_chs.sectors;
    char serial[21];
    snprintf(serial, sizeof serial, "TRAPEZE-IDE-%d", dev & 1);
    ide_put_string(w, 10, 10, serial);         /* serial number, 20 characters */
    ide_put_string(w, 23, 4, IDE_FIRMWARE);    /* firmware revision, 8 characters */
    ide_put_string(w, 27, 20, IDE_MODEL);      /* model number, 40 characters */
    w[47] = 0x8000 | IDE_MAX_MULTIPLE;         /* 15:8 = 80h; 7:0 max sectors per READ/WRITE MULTIPLE block */
    w[49] = 0x0200 | 0x0800;                   /* LBA supported (9), IORDY supported (11); no DMA (8) */
    w[50] = 0x4000;                            /* bit 14 shall be one */
    w[51] = 0x0200;                            /* PIO timing mode 2 in 15:8 (ATA-3) */
    w[53] = 0x0003;                            /* words 54-58 (0) and 64-70 (1) valid */
    uint32_t cur_capacity = s->cur_cylinders * s->cur_heads * s->cur_sectors;
    w[54] = (uint16_t)s->cur_cylinders;        /* current translation */
    w[55] = s->cur_heads;
    w[56] = s->cur_sectors;
    w[57] = (uint16_t)cur_capacity;            /* current capacity in sectors, low word first */
    w[58] = (uint16_t)(cur_capacity >> 16);
    if (s->multiple_count)
        w[59] = 0x0100 | s->multiple_count;    /* bit 8: the setting is valid; 7:0 sectors per block */
    uint32_t total = ide_capacity(d);
    w[60] = (uint16_t)total;                   /* total addressable sectors (LBA28), low word first */
    w[61] = (uint16_t)(total >> 16);
    w[64] = 0x0003;                            /* advanced PIO modes 3 and 4 */
    w[67] = 120;                               /* min PIO cycle time without flow control, ns */
    w[68] = 120;                               /* min PIO cycle time with IORDY, ns */
    w[80] = 0x000E;                            /* major version: ATA-1, ATA-2, ATA-3 (later levels add DMA) */
    w[82] = 0x7008;                            /* supported: NOP (14), READ BUFFER (13), WRITE BUFFER (12),
                                                  power management (3) */
    w[83] = 0x5000;                            /* bit 14 one; FLUSH CACHE (12) */
    w[84] = 0x4000;                            /* bit 14 one */
    w[85] = 0x7008;                            /* enabled: as word 82 */
    w[86] = 0x1000;                            /* enabled: as word 83 */
    w[87] = 0x4000;
    /* Word 255: signature A5h in 7:0, and in 15:8 the checksum that makes all
       512 bytes add up to zero (ATA-6 8.15.65). */
    uint8_t sum = 0xA5;
    for (int k = 0; k < 255; k++)
        sum = (uint8_t)(sum + (w[k] & 0xFF) + (w[k] >> 8));
    w[255] = (uint16_t)((uint8_t)-sum << 8 | 0xA5);
    return true;
}

/* ---- PIO transfers ---- */

/*
 * The image could not be read or written ('what') at the command's current
 * LBA: say so once on stderr, and end the command with 'error' in the
 * Error register, the failing sector in the address registers.
 */
static void ide_io_failed(struct ide_device *d, const char *what, int err, uint8_t error,
                          const char *error_name)
{
    if (!d->warned_io_error) {
        fprintf(stderr, "trapeze: %s: %s error at sector %u: %s (the guest sees %s)\n",
                d->disk->path, what, d->s.lba, strerror(-err), error_name);
        d->warned_io_error = true;
    }
    ide_set_address(d, d->s.lba);
    ide_fail(d, error);
}

/* Fill the buffer with the next block of a READ and raise DRQ and INTRQ. */
static void ide_read_block(struct ide_device *d)
{
    struct ide_device_state *s = &d->s;
    uint32_t n = s->remaining < s->block_sectors ? s->remaining : s->block_sectors;
    int err = disk_read(d->disk, s->lba, n, s->buffer);
    if (err < 0) {
        ide_io_failed(d, "read", err, IDE_ERROR_UNC, "UNC");
        return;
    }
    s->transfer = IDE_TRANSFER_IN;
    s->data_pos = 0;
    s->data_end = n * SECTOR;
    s->status = IDE_STATUS_DRDY | IDE_STATUS_DSC | IDE_STATUS_DRQ;
    s->intrq = 1;
}

/* Open the buffer for the next block of a WRITE: DRQ. */
static void ide_expect_block(struct ide_device *d)
{
    struct ide_device_state *s = &d->s;
    uint32_t n = s->remaining < s->block_sectors ? s->remaining : s->block_sectors;
    s->transfer = IDE_TRANSFER_OUT;
    s->data_pos = 0;
    s->data_end = n * SECTOR;
    s->status = IDE_STATUS_DRDY | IDE_STATUS_DSC | IDE_STATUS_DRQ;
}

/* The host has read the whole block in the buffer. */
static void ide_in_block_done(struct ide_device *d)
{
    struct ide_device_state *s = &d->s;
    if (s->command != ATA_CMD_READ_SECTORS && s->command != ATA_CMD_READ_MULTIPLE) {
        /* IDENTIFY, READ BUFFER: one block; DRQ clears, no interrupt. */
        s->status = IDE_STATUS_DRDY | IDE_STATUS_DSC;
        s->transfer = IDE_TRANSFER_NONE;
        s->command = 0;
        return;
    }
    uint32_t n = s->data_end / SECTOR;
    /* The registers follow the transfer: the last sector moved, the count of
       sectors still to go (ATA-1 7.2.4, 7.2.5). */
    ide_set_address(d, s->lba + n - 1);
    s->remaining -= n;
    s->sector_count = (uint8_t)s->remaining;
    s->lba += n;
    if (s->remaining) {
        ide_read_block(d);
    } else {
        s->status = IDE_STATUS_DRDY | IDE_STATUS_DSC;
        s->transfer = IDE_TRANSFER_NONE;
        s->command = 0;
    }
}

/* The host has filled the buffer: write the block to the image. */
static void ide_out_block_done(struct ide_device *d)
{
    struct ide_device_state *s = &d->s;
    if (s->command == ATA_CMD_WRITE_BUFFER) {
        ide_complete(d);
        return;
    }
    uint32_t n = s->data_end / SECTOR;
    int err = disk_write(d->disk, s->lba, n, s->buffer);
    if (err < 0) {
        ide_io_failed(d, "write", err, IDE_ERROR_ABRT, "ABRT");
        return;
    }
    ide_set_address(d, s->lba + n - 1);
    s->remaining -= n;
    s->sector_count = (uint8_t)s->remaining;
    s->lba += n;
    if (s->remaining) {
        ide_expect_block(d);
        s->intrq = 1;
    } else {
        ide_complete(d);
    }
}

/* ---- commands ---- */

/*
 * The range of a read, write or verify from the registers.  Fails the
 * command with IDNF (the address of the first sector beyond the end in the
 * registers) when it is outside the device.
 */
static bool ide_get_range(struct ide_device *d, uint32_t *lba, uint32_t *count)
{
    *count = d->s.sector_count ? d->s.sector_count : 256;   /* 0 means 256 (ATA-6 8.27.3) */
    if (!ide_get_address(d, lba)) {
        ide_fail(d, IDE_ERROR_IDNF);
        return false;
    }
    uint32_t capacity = ide_capacity(d);
    if (*lba >= capacity || *count > capacity - *lba) {
        ide_set_address(d, *lba > capacity ? *lba : capacity);
        ide_fail(d, IDE_ERROR_IDNF);
        return false;
    }
    return true;
}

static void ide_start_read(struct ide_device *d, uint32_t block)
{
    uint32_t lba, count;
    if (!ide_get_range(d, &lba, &count)) return;
    d->s.lba = lba;
    d->s.remaining = count;
    d->s.block_sectors = block;
    d->s.power = IDE_POWER_ACTIVE;
    ide_read_block(d);
}

static void ide_start_write(struct ide_device *d, uint32_t block)
{
    uint32_t lba, count;
    if (d->disk->read_only) {
        if (LOG_ON(LOG_GUEST_ERRORS) && !d->warned_read_only) {
            log_printf("guest_errors: ide: %s: the image is read-only: the guest's writes to it are "
                       "refused (ABRT)\n", d->disk->path);
            d->warned_read_only = true;
        }
        ide_fail(d, IDE_ERROR_ABRT);
        return;
    }
    if (!ide_get_range(d, &lba, &count)) return;
    d->s.lba = lba;
    d->s.remaining = count;
    d->s.block_sectors = block;
    d->s.power = IDE_POWER_ACTIVE;
    ide_expect_block(d);      /* the first block: DRQ without INTRQ (ATA-6 9.6) */
}

/* READ VERIFY SECTORS: read them, transfer nothing (ATA-6 8.28). */
static void ide_read_verify(struct ide_device *d)
{
    uint32_t lba, count;
    if (!ide_get_range(d, &lba, &count)) return;
    d->s.power = IDE_POWER_ACTIVE;
    for (uint32_t done = 0; done < count; ) {
        uint32_t n = count - done < IDE_MAX_MULTIPLE ? count - done : IDE_MAX_MULTIPLE;
        if (disk_read(d->disk, lba + done, n, d->s.buffer) < 0) {
            ide_set_address(d, lba + done);
            d->s.sector_count = (uint8_t)(count - done);
            ide_fail(d, IDE_ERROR_UNC);
            return;
        }
        done += n;
    }
    ide_set_address(d, lba + count - 1);
    d->s.sector_count = 0;
    ide_complete(d);
}

/* A one-block PIO data-in from the buffer (IDENTIFY, READ BUFFER). */
static void ide_send_buffer(struct ide_device *d)
{
    d->s.transfer = IDE_TRANSFER_IN;
    d->s.data_pos = 0;
    d->s.data_end = SECTOR;
    d->s.status = IDE_STATUS_DRDY | IDE_STATUS_DSC | IDE_STATUS_DRQ;
    d->s.intrq = 1;
}

/* SET FEATURES (ATA-6 8.46): transfer mode and the revert setting. */
static void ide_set_features(struct ide_device *d)
{
    uint8_t mode = d->s.sector_count;
    switch (d->s.features) {
    case 0x03:   /* set transfer mode from Sector Count (table 44) */
        if (mode == 0x00 || mode == 0x01 ||                  /* PIO default (with/without IORDY) */
            ((mode & 0xF8) == 0x08 && (mode & 0x07) <= 4)) { /* PIO flow-control mode 0-4 */
            d->s.pio_mode = mode;
            ide_complete(d);
        } else {
            ide_fail(d, IDE_ERROR_ABRT);                     /* DMA modes: no DMA here */
        }
        return;
    case 0x66: d->s.revert_defaults = 0; ide_complete(d); return;   /* keep settings over SRST */
    case 0xCC: d->s.revert_defaults = 1; ide_complete(d); return;   /* SRST restores defaults */
    default:   ide_fail(d, IDE_ERROR_ABRT); return;
    }
}

/* EXECUTE DEVICE DIAGNOSTIC (ATA-6 8.11): both devices, whatever DEV says. */
static void ide_execute_diagnostic(struct ide_channel *c)
{
    for (int k = 0; k < 2; k++) {
        ide_set_signature(&c->device[k]);   /* every device here passes */
    }
    /* Device 0 reports for both and asserts INTRQ (device 1 when alone). */
    struct ide_device *reporter = c->device[0].disk ? &c->device[0] : &c->device[1];
    reporter->s.intrq = 1;
}

static void ide_command(struct ide_channel *c, uint8_t cmd)
{
    if (ide_channel_empty(c))
        return;
    if (cmd == ATA_CMD_EXEC_DIAGNOSTIC) {
        ide_execute_diagnostic(c);
        return;
    }
    struct ide_device *d = ide_selected(c);
    /* ATA-6 9.16 (device 0 only): a command for an absent device 1 is ignored. */
    if (!d->disk)
        return;
    struct ide_device_state *s = &d->s;
    /* A new command ends any transfer still open; writing Command clears
       INTRQ (ATA-6 5.2.9), so the pin drops before the command completes. */
    s->intrq = 0;
    ide_update_irq(c);
    s->transfer = IDE_TRANSFER_NONE;
    s->error = 0;
    s->command = cmd;
    if (s->power == IDE_POWER_SLEEP) {
        /* Only a reset wakes a sleeping device (ATA-6 4.14.3). */
        ide_fail(d, IDE_ERROR_ABRT);
        return;
    }
    if (cmd >= ATA_CMD_RECALIBRATE && cmd <= ATA_CMD_RECALIBRATE + 0x0F) {
        /* RECALIBRATE (ATA-3 8.21): back to cylinder 0; seek complete. */
        ide_complete(d);
        return;
    }
    switch (cmd) {
    case ATA_CMD_READ_SECTORS: case ATA_CMD_READ_SECTORS + 1:
        s->command = ATA_CMD_READ_SECTORS;
        ide_start_read(d, 1);
        return;
    case ATA_CMD_WRITE_SECTORS: case ATA_CMD_WRITE_SECTORS + 1:
        s->command = ATA_CMD_WRITE_SECTORS;
        ide_start_write(d, 1);
        return;
    case ATA_CMD_READ_MULTIPLE:
    case ATA_CMD_WRITE_MULTIPLE:
        /* Before a successful SET MULTIPLE MODE these are aborted (ATA-6 8.29.8). */
        if (!s->multiple_count) { ide_fail(d, IDE_ERROR_ABRT); return; }
        if (cmd == ATA_CMD_READ_MULTIPLE) ide_start_read(d, s->multiple_count);
        else ide_start_write(d, s->multiple_count);
        return;
    case ATA_CMD_READ_VERIFY: case ATA_CMD_READ_VERIFY + 1:
        ide_read_verify(d);
        return;
    case ATA_CMD_SET_MULTIPLE: {
        /* Sector Count: sectors per block, a power of two up to word 47's
           maximum; 0 disables the multiple commands (ATA-6 8.47). */
        uint8_t n = s->sector_count;
        if (n != 0 && (n > IDE_MAX_MULTIPLE || (n & (n - 1)))) { ide_fail(d, IDE_ERROR_ABRT); return; }
        s->multiple_count = n;
        ide_complete(d);
        return;
    }
    case ATA_CMD_INIT_PARAMETERS: {
        /* Sector Count = sectors per track, Device 3:0 = heads - 1 (ATA-5 8.16). */
        uint32_t spt = s->sector_count, heads = (uint32_t)(s->device & IDE_DEVICE_HEAD) + 1;
        if (spt == 0) { ide_fail(d, IDE_ERROR_ABRT); return; }
        uint32_t cyl = ide_capacity(d) / (spt * heads);
        s->cur_sectors = (uint16_t)spt;
        s->cur_heads = (uint16_t)heads;
        s->cur_cylinders = cyl > CHS_MAX_CYLINDERS ? CHS_MAX_CYLINDERS : cyl;
        ide_complete(d);
        return;
    }
    case ATA_CMD_STANDBY_IMMEDIATE: case ATA_CMD_STANDBY:
        s->power = IDE_POWER_STANDBY;
        ide_complete(d);
        return;
    case ATA_CMD_IDLE_IMMEDIATE: case ATA_CMD_IDLE:
        s->power = IDE_POWER_ACTIVE;
        ide_complete(d);
        return;
    case ATA_CMD_CHECK_POWER_MODE:
        /* Sector Count: 00h standby, FFh active or idle (ATA-6 8.6). */
        s->sector_count = s->power == IDE_POWER_STANDBY ? 0x00 : 0xFF;
        ide_complete(d);
        return;
    case ATA_CMD_SLEEP:
        ide_complete(d);
        s->power = IDE_POWER_SLEEP;
        return;
    case ATA_CMD_FLUSH_CACHE:
        /* Nothing is cached here; ask the host to make the writes durable. */
        if (disk_flush(d->disk) < 0 && !d->disk->read_only) { ide_fail(d, IDE_ERROR_ABRT); return; }
        ide_complete(d);
        return;
    case ATA_CMD_READ_BUFFER:
        ide_send_buffer(d);
        return;
    case ATA_CMD_WRITE_BUFFER:
        s->transfer = IDE_TRANSFER_OUT;
        s->data_pos = 0;
        s->data_end = SECTOR;
        s->status = IDE_STATUS_DRDY | IDE_STATUS_DSC | IDE_STATUS_DRQ;
        return;
    case ATA_CMD_IDENTIFY: {
        uint16_t words[256];
        ide_identify_data(c, d == &c->device[1], words);
        for (int k = 0; k < 256; k++) {
            s->buffer[2 * k] = (uint8_t)words[k];
            s->buffer[2 * k + 1] = (uint8_t)(words[k] >> 8);
        }
        ide_send_buffer(d);
        return;
    }
    case ATA_CMD_SET_FEATURES:
        ide_set_features(d);
        return;
    default:
        /* Not implemented, or not an ATA command (NOP, IDENTIFY PACKET DEVICE,
           DMA, 48-bit, SMART, security ...): ABRT (ATA-6 6.2.4). */
        ide_fail(d, IDE_ERROR_ABRT);
        return;
    }
}

/* ---- the data register ---- */

static uint16_t ide_data_read_word(struct ide_device *d)
{
    struct ide_device_state *s = &d->s;
    if (s->transfer != IDE_TRANSFER_IN || s->data_pos + 2 > s->data_end)
        return 0xFFFF;   /* no DRQ: nothing drives the bus */
    uint16_t v = (uint16_t)(s->buffer[s->data_pos] | s->buffer[s->data_pos + 1] << 8);
    s->data_pos += 2;
    if (s->data_pos == s->data_end)
        ide_in_block_done(d);
    return v;
}

static void ide_data_write_word(struct ide_device *d, uint16_t v)
{
    struct ide_device_state *s = &d->s;
    if (s->transfer != IDE_TRANSFER_OUT || s->data_pos + 2 > s->data_end)
        return;          /* no DRQ: the device ignores it */
    s->buffer[s->data_pos] = (uint8_t)v;
    s->buffer[s->data_pos + 1] = (uint8_t)(v >> 8);
    s->data_pos += 2;
    if (s->data_pos == s->data_end)
        ide_out_block_done(d);
}

/* ---- port handlers ---- */

static uint8_t ide_read_status(struct ide_channel *c, bool clear_intrq)
{
    struct ide_device *d = ide_selected(c);
    /* No device, or an absent device 1 beside device 0: 00h (ATA-6 9.16; the
       pull-down on DD7 keeps BSY clear on an empty channel). */
    if (!d->disk) return 0x00;
    if (c->device_control & IDE_CONTROL_SRST) return IDE_STATUS_BSY;
    if (clear_intrq && d->s.intrq) {
        d->s.intrq = 0;
        ide_update_irq(c);
    }
    return d->s.status;
}

static uint32_t ide_command_read(void *opaque, uint32_t offset, unsigned size)
{
    struct ide_channel *c = opaque;
    struct ide_device *d = ide_selected(c);

    if (ide_channel_empty(c))
        return 0;
    if (offset == IDE_REG_DATA) {
        if (!d->disk) return 0xFFFF;
        /* 16-bit PIO; a 32-bit access moves two words, low first; an 8-bit
           access takes a whole word and keeps its low byte. */
        uint32_t v = ide_data_read_word(d);
        if (size == 4) v |= (uint32_t)ide_data_read_word(d) << 16;
        ide_update_irq(c);   /* the next block may be ready */
        return v;
    }
    if (offset == IDE_REG_STATUS)
        return ide_read_status(c, true);
    /* While BSY (here: SRST held) every register reads as Status (ATA-3 7.2.13). */
    if (d->disk && (c->device_control & IDE_CONTROL_SRST))
        return IDE_STATUS_BSY;
    switch (offset) {
    case IDE_REG_ERROR:        return d->s.error;
    case IDE_REG_SECTOR_COUNT: return d->s.sector_count;
    case IDE_REG_LBA_LOW:      return d->s.lba_low;
    case IDE_REG_LBA_MID:      return d->s.lba_mid;
    case IDE_REG_LBA_HIGH:     return d->s.lba_high;
    case IDE_REG_DEVICE:       return d->s.device;
    default:                   return 0xFF;
    }
}

static void ide_command_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    struct ide_channel *c = opaque;
    uint8_t v = (uint8_t)value;

    if (offset == IDE_REG_DATA) {
        struct ide_device *d = ide_selected(c);
        if (!d->disk) return;
        ide_data_write_word(d, (uint16_t)value);
        if (size == 4) ide_data_write_word(d, (uint16_t)(value >> 16));
        ide_update_irq(c);   /* a block may have been written */
        return;
    }
    if (offset == IDE_REG_COMMAND) {
        if (!(c->device_control & IDE_CONTROL_SRST))
            ide_command(c, v);
        ide_update_irq(c);
        return;
    }
    /* Features, Sector Count, LBA and Device: both devices latch them. */
    for (int k = 0; k < 2; k++) {
        struct ide_device_state *s = &c->device[k].s;
        switch (offset) {
        case IDE_REG_FEATURES:     s->features = v; break;
        case IDE_REG_SECTOR_COUNT: s->sector_count = v; break;
        case IDE_REG_LBA_LOW:      s->lba_low = v; break;
        case IDE_REG_LBA_MID:      s->lba_mid = v; break;
        case IDE_REG_LBA_HIGH:     s->lba_high = v; break;
        case IDE_REG_DEVICE:       s->device = v; break;
        default: break;
        }
    }
    if (offset == IDE_REG_DEVICE)
        ide_update_irq(c);   /* INTRQ now comes from the newly selected device */
}

/* The end of a software reset: each device runs its diagnostics (ATA-6 9.2). */
static void ide_soft_reset_done(struct ide_channel *c)
{
    for (int k = 0; k < 2; k++) {
        struct ide_device *d = &c->device[k];
        if (d->s.revert_defaults)
            ide_default_settings(d);
        ide_set_signature(d);   /* no INTRQ after a software reset */
    }
}

static uint32_t ide_control_read(void *opaque, uint32_t offset, unsigned size)
{
    struct ide_channel *c = opaque;
    if (ide_channel_empty(c))
        return 0;
    /* Alternate Status: Status without clearing INTRQ (ATA-6 7.3). */
    return ide_read_status(c, false);
}

static void ide_control_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    struct ide_channel *c = opaque;
    uint8_t old = c->device_control;
    c->device_control = (uint8_t)value;
    if (!(old & IDE_CONTROL_SRST) && (value & IDE_CONTROL_SRST)) {
        /* SRST set: both devices go busy and drop what they were doing. */
        for (int k = 0; k < 2; k++) {
            c->device[k].s.transfer = IDE_TRANSFER_NONE;
            c->device[k].s.command = 0;
            c->device[k].s.intrq = 0;
        }
    } else if ((old & IDE_CONTROL_SRST) && !(value & IDE_CONTROL_SRST)) {
        ide_soft_reset_done(c);
    }
    ide_update_irq(c);
}

const struct io_ops ide_command_ops = { .read = ide_command_read, .write = ide_command_write };
const struct io_ops ide_control_ops = { .read = ide_control_read, .write = ide_control_write };

/* ---- life cycle, info, snapshots ---- */

void ide_init(struct ide_channel *c, struct disk *master, struct disk *slave, struct irq_line irq)
{
    memset(c, 0, sizeof *c);
    c->device[0].disk = master;
    c->device[1].disk = slave;
    c->irq = irq;
    ide_reset(c);
}

void ide_reset(struct ide_channel *c)
{
    c->device_control = 0;
    for (int k = 0; k < 2; k++) {
        struct ide_device *d = &c->device[k];
        memset(&d->s, 0, sizeof d->s);
        ide_default_settings(d);
        ide_set_signature(d);
        d->s.features = 0;
    }
    c->irq_level = false;
    irq_line_set(&c->irq, false);
}

void ide_reset_device(void *opaque)
{
    ide_reset(opaque);
}

static const char *ide_command_name(uint8_t cmd)
{
    switch (cmd) {
    case 0:                         return "none";
    case ATA_CMD_READ_SECTORS:      return "READ SECTORS";
    case ATA_CMD_WRITE_SECTORS:     return "WRITE SECTORS";
    case ATA_CMD_READ_MULTIPLE:     return "READ MULTIPLE";
    case ATA_CMD_WRITE_MULTIPLE:    return "WRITE MULTIPLE";
    case ATA_CMD_IDENTIFY:          return "IDENTIFY DEVICE";
    case ATA_CMD_READ_BUFFER:       return "READ BUFFER";
    case ATA_CMD_WRITE_BUFFER:      return "WRITE BUFFER";
    default:                        return "?";
    }
}

void ide_info(void *opaque, FILE *out)
{
    struct ide_channel *c = opaque;
    fprintf(out, "primary ATA channel, ports 0x1F0-0x1F7 and 0x3F6, IRQ %d (%s)\n",
            c->irq.irq, c->irq_level ? "asserted" : "low");
    fprintf(out, "  Device Control %02x: nIEN=%d SRST=%d; selected: device %d\n",
            c->device_control, !!(c->device_control & IDE_CONTROL_NIEN),
            !!(c->device_control & IDE_CONTROL_SRST), ide_selected(c) == &c->device[1]);
    for (int k = 0; k < 2; k++) {
        const struct ide_device *d = &c->device[k];
        const struct ide_device_state *s = &d->s;
        fprintf(out, "  device %d (%s): ", k, k ? "slave" : "master");
        if (!d->disk) { fprintf(out, "none\n"); continue; }
        fprintf(out, "%s%s, %llu sectors, CHS %u/%u/%u (current %u/%u/%u)\n",
                d->disk->path, d->disk->read_only ? " (read-only)" : "",
                (unsigned long long)d->disk->sectors, d->disk->drive_chs.cylinders,
                d->disk->drive_chs.heads, d->disk->drive_chs.sectors,
                s->cur_cylinders, s->cur_heads, s->cur_sectors);
        fprintf(out, "    Status %02x [%s%s%s%s%s%s] Error %02x Features %02x Sector Count %02x\n",
                s->status, s->status & IDE_STATUS_BSY ? " BSY" : "", s->status & IDE_STATUS_DRDY ? " DRDY" : "",
                s->status & IDE_STATUS_DF ? " DF" : "", s->status & IDE_STATUS_DSC ? " DSC" : "",
                s->status & IDE_STATUS_DRQ ? " DRQ" : "", s->status & IDE_STATUS_ERR ? " ERR" : "",
                s->error, s->features, s->sector_count);
        fprintf(out, "    LBA Low %02x LBA Mid %02x LBA High %02x Device %02x INTRQ %s\n",
                s->lba_low, s->lba_mid, s->lba_high, s->device, s->intrq ? "pending" : "clear");
        fprintf(out, "    command: %s (%02x)", ide_command_name(s->command), s->command);
        if (s->transfer != IDE_TRANSFER_NONE)
            fprintf(out, ", %s byte %u of %u, sector %u, %u to go",
                    s->transfer == IDE_TRANSFER_IN ? "data-in" : "data-out",
                    s->data_pos, s->data_end, s->lba, s->remaining);
        fprintf(out, "; multiple count %u; power %s\n", s->multiple_count,
                s->power == IDE_POWER_SLEEP ? "sleep" : s->power == IDE_POWER_STANDBY ? "standby" : "active");
    }
}

struct ide_snapshot {
    uint8_t device_control;
    uint8_t pad[3];
    struct ide_device_state device[2];
};

int ide_save(void *opaque, struct snapshot *s)
{
    struct ide_channel *c = opaque;
    struct ide_snapshot snap;
    memset(&snap, 0, sizeof snap);
    snap.device_control = c->device_control;
    snap.device[0] = c->device[0].s;
    snap.device[1] = c->device[1].s;
    return snapshot_put(s, "ide0", 1, &snap, sizeof snap);
}

/* One device's state as this model can leave it; fields named "deviceN.FIELD". */
static int ide_device_check(const struct ide_device_state *d, int n, struct snapshot_check *ck)
{
    char f[40];
    int r = 0;
#define IDE_FIELD(name) (snprintf(f, sizeof f, "device%d.%s", n, name), f)
    if (!r) r = snapshot_check_range(ck, "ide0", IDE_FIELD("intrq"), d->intrq, 0, 1);
    if (!r) r = snapshot_check_range(ck, "ide0", IDE_FIELD("revert_defaults"), d->revert_defaults, 0, 1);
    if (!r) r = snapshot_check_range(ck, "ide0", IDE_FIELD("power"), d->power, IDE_POWER_ACTIVE, IDE_POWER_SLEEP);
    if (!r) r = snapshot_check_range(ck, "ide0", IDE_FIELD("transfer"), d->transfer, IDE_TRANSFER_NONE,
                                     IDE_TRANSFER_OUT);
    if (!r && d->multiple_count && (d->multiple_count > IDE_MAX_MULTIPLE || (d->multiple_count & (d->multiple_count - 1))))
        r = snapshot_refuse(ck, "ide0", IDE_FIELD("multiple_count"), "%u is not 0 or a power of two up to %d",
                            d->multiple_count, IDE_MAX_MULTIPLE);
    if (!r) r = snapshot_check_range(ck, "ide0", IDE_FIELD("block_sectors"), d->block_sectors, 0, IDE_MAX_MULTIPLE);
    if (!r) r = snapshot_check_range(ck, "ide0", IDE_FIELD("cur_heads"), d->cur_heads, 0, 16);
    if (!r) r = snapshot_check_range(ck, "ide0", IDE_FIELD("cur_sectors"), d->cur_sectors, 0, 255);
    if (!r) r = snapshot_check_range(ck, "ide0", IDE_FIELD("cur_cylinders"), d->cur_cylinders, 0, 65535);
    /* The Data port moves 16-bit words at buffer[data_pos]: even offsets in the buffer. */
    if (!r && (d->data_end > sizeof d->buffer || (d->data_end & 1)))
        r = snapshot_refuse(ck, "ide0", IDE_FIELD("data_end"), "%u is not an even count up to %zu", d->data_end,
                            sizeof d->buffer);
    if (!r && (d->data_pos > d->data_end || (d->data_pos & 1)))
        r = snapshot_refuse(ck, "ide0", IDE_FIELD("data_pos"), "%u is not an even offset up to data_end %u",
                            d->data_pos, d->data_end);
#undef IDE_FIELD
    return r;
}

int ide_load(void *opaque, const struct snapshot *s, struct snapshot_check *ck)
{
    struct ide_channel *c = opaque;
    struct ide_snapshot snap;
    int err = snapshot_take(s, "ide0", 1, &snap, sizeof snap, ck);
    for (int k = 0; k < 2 && !err; k++) err = ide_device_check(&snap.device[k], k, ck);
    if (err < 0 || !ck->apply) return err;
    c->device_control = snap.device_control;
    c->device[0].s = snap.device[0];
    c->device[1].s = snap.device[1];
    /* Drive the pin anew from the loaded state. */
    struct ide_device *d = ide_selected(c);
    c->irq_level = d->disk && d->s.intrq && !(c->device_control & IDE_CONTROL_NIEN);
    irq_line_set(&c->irq, c->irq_level);
    return 0;
}
