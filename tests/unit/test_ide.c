/*
 * test_ide.c - the primary ATA channel (devices/ide.c) against the ATA
 * standards: IDENTIFY words, LBA28 and CHS transfers on an image of known
 * contents, READ/WRITE MULTIPLE blocks, nIEN and INTRQ, the SRST
 * signature, IDNF, ABRT.
 *
 * Every expected value is the standard's (ATA/ATAPI-6 T13/1410D unless
 * said) or follows from the image's contents, written out here.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "devices/ide.h"
#include "base/disk.h"
#include "base/snapshot.h"
#include "tests/test.h"

#define IMAGE_SECTORS 4032u   /* 4 cylinders of 16 x 63 */

/* Status values the standard gives for the idle device and a data block. */
#define ST_READY (IDE_STATUS_DRDY | IDE_STATUS_DSC)                  /* 0x50 */
#define ST_DRQ   (IDE_STATUS_DRDY | IDE_STATUS_DSC | IDE_STATUS_DRQ)  /* 0x58 */
#define ST_ERR   (IDE_STATUS_DRDY | IDE_STATUS_DSC | IDE_STATUS_ERR)  /* 0x51 */

static uint8_t pattern(uint32_t sector, uint32_t i)
{
    return (uint8_t)(sector * 13 + i * 5 + (sector >> 8) + 1);
}

static int irq_level;
static int irq_raises;
static void rec_raise(void *opaque, int irq) { irq_level = 1; irq_raises++; }
static void rec_lower(void *opaque, int irq) { irq_level = 0; }

struct rig {
    char path[64];
    struct disk disk;
    struct ide_channel ch;
};

static bool rig_open(struct rig *r, bool read_only)
{
    memset(r, 0, sizeof *r);
    strcpy(r->path, "/tmp/trapeze-ide-XXXXXX");
    if (test_make_image(r->path, IMAGE_SECTORS, pattern) < 0) return false;
    if (disk_open(&r->disk, r->path, DISK_IDE_MASTER, read_only) < 0) return false;
    irq_level = 0;
    irq_raises = 0;
    ide_init(&r->ch, &r->disk, NULL, (struct irq_line){ rec_raise, rec_lower, NULL, 14 });
    return true;
}

static void rig_close(struct rig *r)
{
    disk_close(&r->disk);
    unlink(r->path);
}

static uint8_t in8(struct rig *r, int reg) { return (uint8_t)ide_command_ops.read(&r->ch, (uint32_t)reg, 1); }
static void out8(struct rig *r, int reg, uint8_t v) { ide_command_ops.write(&r->ch, (uint32_t)reg, v, 1); }
static uint16_t in16(struct rig *r) { return (uint16_t)ide_command_ops.read(&r->ch, IDE_REG_DATA, 2); }
static void out16(struct rig *r, uint16_t v) { ide_command_ops.write(&r->ch, IDE_REG_DATA, v, 2); }
static uint8_t alt_status(struct rig *r) { return (uint8_t)ide_control_ops.read(&r->ch, 0, 1); }
static void control(struct rig *r, uint8_t v) { ide_control_ops.write(&r->ch, 0, v, 1); }

/* The task file of an LBA28 command (ATA-6 8.27: Device bit 6 = LBA). */
static void lba_command(struct rig *r, uint8_t cmd, uint32_t lba, uint8_t count)
{
    out8(r, IDE_REG_DEVICE, (uint8_t)(0xE0 | ((lba >> 24) & 0x0F)));
    out8(r, IDE_REG_SECTOR_COUNT, count);
    out8(r, IDE_REG_LBA_LOW, (uint8_t)lba);
    out8(r, IDE_REG_LBA_MID, (uint8_t)(lba >> 8));
    out8(r, IDE_REG_LBA_HIGH, (uint8_t)(lba >> 16));
    out8(r, IDE_REG_COMMAND, cmd);
}

static void chs_command(struct rig *r, uint8_t cmd, uint32_t c, uint32_t h, uint32_t s, uint8_t count)
{
    out8(r, IDE_REG_DEVICE, (uint8_t)(0xA0 | h));
    out8(r, IDE_REG_SECTOR_COUNT, count);
    out8(r, IDE_REG_LBA_LOW, (uint8_t)s);
    out8(r, IDE_REG_LBA_MID, (uint8_t)c);
    out8(r, IDE_REG_LBA_HIGH, (uint8_t)(c >> 8));
    out8(r, IDE_REG_COMMAND, cmd);
}

/* Read one 512-byte sector through Data and count the bytes differing from 'sector'. */
static int read_sector_diff(struct rig *r, uint32_t sector)
{
    int bad = 0;
    for (uint32_t w = 0; w < 256; w++) {
        uint16_t v = in16(r);
        bad += (v & 0xFF) != pattern(sector, 2 * w);
        bad += (v >> 8) != pattern(sector, 2 * w + 1);
    }
    return bad;
}

static void identify(struct rig *r, uint16_t words[256])
{
    out8(r, IDE_REG_DEVICE, 0xA0);
    out8(r, IDE_REG_COMMAND, ATA_CMD_IDENTIFY);
    for (int k = 0; k < 256; k++) words[k] = in16(r);
}

TEST(power_on_signature)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    /* ATA-6 9.1/9.12: after reset an ATA device shows 01h 01h 00h 00h 00h, Error 01h. */
    CHECK_EQ(in8(&r, IDE_REG_SECTOR_COUNT), 0x01);
    CHECK_EQ(in8(&r, IDE_REG_LBA_LOW), 0x01);
    CHECK_EQ(in8(&r, IDE_REG_LBA_MID), 0x00);
    CHECK_EQ(in8(&r, IDE_REG_LBA_HIGH), 0x00);
    CHECK_EQ(in8(&r, IDE_REG_DEVICE), 0x00);
    CHECK_EQ(in8(&r, IDE_REG_ERROR), 0x01);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);
    CHECK_EQ(irq_level, 0);
    rig_close(&r);
}

TEST(identify_device_words)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    out8(&r, IDE_REG_DEVICE, 0xA0);
    out8(&r, IDE_REG_COMMAND, ATA_CMD_IDENTIFY);
    /* PIO data-in (ATA-6 9.5): the block is ready with DRQ and INTRQ. */
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_DRQ);
    CHECK_EQ(irq_level, 0);              /* reading Status acknowledged it */
    uint16_t w[256];
    for (int k = 0; k < 256; k++) w[k] = in16(&r);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);   /* DRQ gone after the last word */
    CHECK_EQ(irq_level, 0);              /* and no interrupt after a data-in's last block */

    CHECK_EQ(w[0] & 0x8000, 0);          /* word 0 bit 15: ATA device */
    CHECK_EQ(w[1], 4);                   /* 4032 / (16 * 63) cylinders */
    CHECK_EQ(w[3], 16);
    CHECK_EQ(w[6], 63);
    /* Model, words 27-46: the first character in bits 15:8, space padded. */
    char model[41];
    for (int k = 0; k < 20; k++) {
        model[2 * k] = (char)(w[27 + k] >> 8);
        model[2 * k + 1] = (char)(w[27 + k] & 0xFF);
    }
    model[40] = '\0';
    CHECK_STR(model, "TRAPEZE HARDDISK                        ");
    CHECK(w[10] != 0x2020);              /* a serial number is there */
    CHECK(w[23] != 0x2020);              /* and a firmware revision */
    CHECK_EQ(w[47] & 0xFF00, 0x8000);    /* word 47: 15:8 = 80h */
    CHECK((w[47] & 0xFF) >= 2);          /* some READ/WRITE MULTIPLE block */
    CHECK(w[49] & (1 << 9));             /* LBA supported */
    CHECK_EQ(w[49] & (1 << 8), 0);       /* no DMA */
    CHECK(w[53] & 1);                    /* words 54-58 valid */
    CHECK_EQ(w[54], 4);
    CHECK_EQ(w[55], 16);
    CHECK_EQ(w[56], 63);
    CHECK_EQ(w[57] | (uint32_t)w[58] << 16, 4u * 16 * 63);
    CHECK_EQ(w[59] & 0x0100, 0);         /* multiple mode not set yet */
    CHECK_EQ(w[60] | (uint32_t)w[61] << 16, IMAGE_SECTORS);
    CHECK_EQ(w[255] & 0xFF, 0xA5);       /* integrity word: all 512 bytes sum to 0 */
    uint8_t sum = 0;
    for (int k = 0; k < 256; k++) sum = (uint8_t)(sum + (w[k] & 0xFF) + (w[k] >> 8));
    CHECK_EQ(sum, 0);
    rig_close(&r);
}

TEST(read_sectors_lba28)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    lba_command(&r, ATA_CMD_READ_SECTORS, 1000, 3);
    int bad = 0;
    for (uint32_t k = 0; k < 3; k++) {
        CHECK_EQ(irq_level, 1);          /* INTRQ at every block of a data-in */
        CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_DRQ);
        bad += read_sector_diff(&r, 1000 + k);
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(irq_level, 0);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);
    /* The registers end at the last sector moved, nothing left to go (ATA-1). */
    CHECK_EQ(in8(&r, IDE_REG_SECTOR_COUNT), 0);
    CHECK_EQ(in8(&r, IDE_REG_LBA_LOW), 1002 & 0xFF);
    CHECK_EQ(in8(&r, IDE_REG_LBA_MID), 1002 >> 8);
    CHECK_EQ(in8(&r, IDE_REG_DEVICE), 0xE0);
    rig_close(&r);
}

TEST(read_sectors_chs)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    /* C=2 H=5 S=7 on 16 x 63: LBA (2 * 16 + 5) * 63 + 7 - 1 = 2337. */
    chs_command(&r, ATA_CMD_READ_SECTORS, 2, 5, 7, 2);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_DRQ);
    CHECK_EQ(read_sector_diff(&r, 2337), 0);
    CHECK_EQ(read_sector_diff(&r, 2338), 0);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);
    /* Last sector moved: C=2 H=5 S=8. */
    CHECK_EQ(in8(&r, IDE_REG_LBA_LOW), 8);
    CHECK_EQ(in8(&r, IDE_REG_LBA_MID), 2);
    CHECK_EQ(in8(&r, IDE_REG_DEVICE) & 0x0F, 5);
    rig_close(&r);
}

/* Write 'count' sectors through Data filling each with fill(k, i). */
static void write_sectors_data(struct rig *r, uint32_t count, uint8_t seed)
{
    for (uint32_t k = 0; k < count; k++)
        for (uint32_t w = 0; w < 256; w++)
            out16(r, (uint16_t)((uint8_t)(seed + k + 2 * w) | (uint8_t)(seed ^ (k + 2 * w + 1)) << 8));
}

static int file_sector_diff(struct rig *r, uint32_t sector, uint32_t k, uint8_t seed)
{
    uint8_t buf[512];
    int fd = open(r->path, O_RDONLY);
    if (pread(fd, buf, 512, (off_t)sector * 512) != 512) { close(fd); return 512; }
    close(fd);
    int bad = 0;
    for (uint32_t i = 0; i < 512; i++) {
        uint8_t want = (i & 1) ? (uint8_t)(seed ^ (k + i)) : (uint8_t)(seed + k + i);
        bad += buf[i] != want;
    }
    return bad;
}

TEST(write_sectors_lba28_reaches_the_image)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    lba_command(&r, ATA_CMD_WRITE_SECTORS, 300, 2);
    /* PIO data-out (ATA-6 9.6): DRQ for the first block without INTRQ. */
    CHECK_EQ(irq_level, 0);
    CHECK_EQ(alt_status(&r), ST_DRQ);
    for (uint32_t w = 0; w < 256; w++)
        out16(&r, (uint16_t)((uint8_t)(0x40 + 2 * w) | (uint8_t)(0x40 ^ (2 * w + 1)) << 8));
    CHECK_EQ(irq_level, 1);              /* block written: INTRQ, DRQ for the next */
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_DRQ);
    for (uint32_t w = 0; w < 256; w++)
        out16(&r, (uint16_t)((uint8_t)(0x41 + 2 * w) | (uint8_t)(0x40 ^ (1 + 2 * w + 1)) << 8));
    CHECK_EQ(irq_level, 1);              /* the last block: INTRQ, DRQ clear */
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);
    CHECK_EQ(file_sector_diff(&r, 300, 0, 0x40), 0);
    CHECK_EQ(file_sector_diff(&r, 301, 1, 0x40), 0);
    /* Sector 302 untouched. */
    lba_command(&r, ATA_CMD_READ_SECTORS, 302, 1);
    CHECK_EQ(read_sector_diff(&r, 302), 0);
    rig_close(&r);
}

TEST(write_then_read_back_chs)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    /* C=1 H=0 S=1: LBA (1 * 16 + 0) * 63 = 1008. */
    chs_command(&r, ATA_CMD_WRITE_SECTORS, 1, 0, 1, 1);
    write_sectors_data(&r, 1, 0x77);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);
    CHECK_EQ(file_sector_diff(&r, 1008, 0, 0x77), 0);
    lba_command(&r, ATA_CMD_READ_SECTORS, 1008, 1);
    int bad = 0;
    for (uint32_t w = 0; w < 256; w++) {
        uint16_t v = in16(&r);
        bad += (v & 0xFF) != (uint8_t)(0x77 + 2 * w);
        bad += (v >> 8) != (uint8_t)(0x77 ^ (2 * w + 1));
    }
    CHECK_EQ(bad, 0);
    rig_close(&r);
}

TEST(read_multiple_blocks)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    /* Before SET MULTIPLE MODE the multiple commands abort (ATA-6 8.29). */
    lba_command(&r, ATA_CMD_READ_MULTIPLE, 0, 4);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_ERR);
    CHECK_EQ(in8(&r, IDE_REG_ERROR), IDE_ERROR_ABRT);
    /* Block sizes must be powers of two up to word 47's maximum. */
    out8(&r, IDE_REG_SECTOR_COUNT, 3);
    out8(&r, IDE_REG_COMMAND, ATA_CMD_SET_MULTIPLE);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_ERR);
    out8(&r, IDE_REG_SECTOR_COUNT, 4);
    out8(&r, IDE_REG_COMMAND, ATA_CMD_SET_MULTIPLE);
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);
    uint16_t w[256];
    identify(&r, w);
    CHECK_EQ(w[59], 0x0104);             /* bit 8: valid; 4 sectors per block */

    /* 10 sectors in blocks of 4, 4, 2: one INTRQ per block. */
    irq_raises = 0;
    lba_command(&r, ATA_CMD_READ_MULTIPLE, 2000, 10);
    int bad = 0;
    uint32_t blocks[] = { 4, 4, 2 }, sector = 2000;
    for (int b = 0; b < 3; b++) {
        CHECK_EQ(irq_level, 1);
        CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_DRQ);
        for (uint32_t k = 0; k < blocks[b]; k++) {
            bad += read_sector_diff(&r, sector++);
            /* No new interrupt inside a block. */
            if (k + 1 < blocks[b]) CHECK_EQ(irq_level, 0);
        }
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(irq_raises, 3);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);
    rig_close(&r);
}

TEST(write_multiple_blocks)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    out8(&r, IDE_REG_SECTOR_COUNT, 8);
    out8(&r, IDE_REG_COMMAND, ATA_CMD_SET_MULTIPLE);
    in8(&r, IDE_REG_STATUS);
    irq_raises = 0;
    lba_command(&r, ATA_CMD_WRITE_MULTIPLE, 3000, 12);
    CHECK_EQ(irq_level, 0);
    write_sectors_data(&r, 8, 0x10);     /* first block: 8 sectors */
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_DRQ);
    for (uint32_t k = 8; k < 12; k++)    /* last block: 4 sectors, same pattern as k */
        for (uint32_t w = 0; w < 256; w++)
            out16(&r, (uint16_t)((uint8_t)(0x10 + k + 2 * w) | (uint8_t)(0x10 ^ (k + 2 * w + 1)) << 8));
    CHECK_EQ(irq_raises, 2);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);
    int bad = 0;
    for (uint32_t k = 0; k < 12; k++) bad += file_sector_diff(&r, 3000 + k, k, 0x10);
    CHECK_EQ(bad, 0);
    rig_close(&r);
}

TEST(nien_masks_intrq)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    control(&r, IDE_CONTROL_NIEN);
    lba_command(&r, ATA_CMD_READ_SECTORS, 5, 1);
    CHECK_EQ(irq_level, 0);              /* nIEN = 1: the pin stays released */
    CHECK_EQ(alt_status(&r), ST_DRQ);    /* the command ran all the same */
    control(&r, 0);
    CHECK_EQ(irq_level, 1);              /* the pending interrupt shows once enabled */
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_DRQ);
    CHECK_EQ(irq_level, 0);
    CHECK_EQ(read_sector_diff(&r, 5), 0);
    rig_close(&r);
}

TEST(alternate_status_keeps_intrq)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    out8(&r, IDE_REG_COMMAND, ATA_CMD_IDLE_IMMEDIATE);
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(alt_status(&r), ST_READY);
    CHECK_EQ(irq_level, 1);              /* Alternate Status does not acknowledge */
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);
    CHECK_EQ(irq_level, 0);              /* Status does */
    rig_close(&r);
}

TEST(srst_leaves_the_signature)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    lba_command(&r, ATA_CMD_READ_SECTORS, 77, 2);   /* a transfer in progress */
    in16(&r);
    control(&r, IDE_CONTROL_SRST);
    CHECK(alt_status(&r) & IDE_STATUS_BSY);          /* busy while SRST is held */
    control(&r, 0);
    CHECK_EQ(alt_status(&r), ST_READY);
    CHECK_EQ(in8(&r, IDE_REG_SECTOR_COUNT), 0x01);
    CHECK_EQ(in8(&r, IDE_REG_LBA_LOW), 0x01);
    CHECK_EQ(in8(&r, IDE_REG_LBA_MID), 0x00);
    CHECK_EQ(in8(&r, IDE_REG_LBA_HIGH), 0x00);
    CHECK_EQ(in8(&r, IDE_REG_DEVICE), 0x00);
    CHECK_EQ(in8(&r, IDE_REG_ERROR), 0x01);          /* diagnostic code: passed */
    CHECK_EQ(irq_level, 0);
    rig_close(&r);
}

TEST(idnf_beyond_the_end)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    lba_command(&r, ATA_CMD_READ_SECTORS, IMAGE_SECTORS, 1);
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_ERR);
    CHECK_EQ(in8(&r, IDE_REG_ERROR), IDE_ERROR_IDNF);
    lba_command(&r, ATA_CMD_WRITE_SECTORS, IMAGE_SECTORS - 1, 2);   /* runs past the end */
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_ERR);
    CHECK_EQ(in8(&r, IDE_REG_ERROR), IDE_ERROR_IDNF);
    lba_command(&r, ATA_CMD_READ_VERIFY, IMAGE_SECTORS - 1, 0);     /* 0 = 256 sectors */
    CHECK_EQ(in8(&r, IDE_REG_ERROR), IDE_ERROR_IDNF);
    chs_command(&r, ATA_CMD_READ_SECTORS, 0, 0, 0, 1);              /* sector numbers start at 1 */
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_ERR);
    CHECK_EQ(in8(&r, IDE_REG_ERROR), IDE_ERROR_IDNF);
    chs_command(&r, ATA_CMD_READ_SECTORS, 4, 0, 1, 1);              /* cylinder 4 of 4 */
    CHECK_EQ(in8(&r, IDE_REG_ERROR), IDE_ERROR_IDNF);
    /* The last sector itself is fine. */
    lba_command(&r, ATA_CMD_READ_VERIFY, IMAGE_SECTORS - 1, 1);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);
    rig_close(&r);
}

TEST(unknown_commands_abort)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    /* NOP, IDENTIFY PACKET DEVICE, READ DMA, READ SECTORS EXT, SMART. */
    static const uint8_t cmds[] = { 0x00, 0xA1, 0xC8, 0x24, 0xB0 };
    for (size_t k = 0; k < sizeof cmds; k++) {
        lba_command(&r, cmds[k], 0, 1);
        CHECK_EQ(irq_level, 1);
        CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_ERR);
        CHECK_EQ(in8(&r, IDE_REG_ERROR), IDE_ERROR_ABRT);
    }
    /* SET FEATURES: PIO mode 4 is fine, a DMA mode aborts. */
    out8(&r, IDE_REG_FEATURES, 0x03);
    out8(&r, IDE_REG_SECTOR_COUNT, 0x0C);
    out8(&r, IDE_REG_COMMAND, ATA_CMD_SET_FEATURES);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);
    out8(&r, IDE_REG_SECTOR_COUNT, 0x22);
    out8(&r, IDE_REG_COMMAND, ATA_CMD_SET_FEATURES);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_ERR);
    rig_close(&r);
}

TEST(read_only_image_aborts_writes)
{
    struct rig r;
    CHECK(rig_open(&r, true));
    lba_command(&r, ATA_CMD_WRITE_SECTORS, 10, 1);
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_ERR);      /* no DRQ: nothing is taken */
    CHECK_EQ(in8(&r, IDE_REG_ERROR), IDE_ERROR_ABRT);
    out16(&r, 0x1234);                               /* ignored without DRQ */
    lba_command(&r, ATA_CMD_READ_SECTORS, 10, 1);    /* reads still work, data unchanged */
    CHECK_EQ(read_sector_diff(&r, 10), 0);
    rig_close(&r);
}

TEST(absent_devices)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    /* Device 1 absent beside device 0: Status reads 00h, commands are ignored
       (ATA-6 9.16), the other registers read what was written. */
    out8(&r, IDE_REG_DEVICE, 0xB0);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), 0x00);
    CHECK_EQ(alt_status(&r), 0x00);
    out8(&r, IDE_REG_LBA_MID, 0x5A);
    CHECK_EQ(in8(&r, IDE_REG_LBA_MID), 0x5A);
    out8(&r, IDE_REG_COMMAND, ATA_CMD_IDENTIFY);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), 0x00);
    CHECK_EQ(irq_level, 0);
    out8(&r, IDE_REG_DEVICE, 0xA0);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);
    rig_close(&r);

    /* An empty channel: the bus reads zero, so BSY is never seen. */
    struct ide_channel empty;
    ide_init(&empty, NULL, NULL, (struct irq_line){ 0 });
    CHECK_EQ(ide_command_ops.read(&empty, IDE_REG_STATUS, 1), 0);
    CHECK_EQ(ide_control_ops.read(&empty, 0, 1), 0);
    ide_command_ops.write(&empty, IDE_REG_COMMAND, ATA_CMD_IDENTIFY, 1);
    CHECK_EQ(ide_command_ops.read(&empty, IDE_REG_STATUS, 1), 0);
}

TEST(data_32bit_is_two_words)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    lba_command(&r, ATA_CMD_READ_SECTORS, 42, 1);
    int bad = 0;
    for (uint32_t d = 0; d < 128; d++) {
        uint32_t v = ide_command_ops.read(&r.ch, IDE_REG_DATA, 4);
        for (uint32_t b = 0; b < 4; b++)
            bad += ((v >> (8 * b)) & 0xFF) != pattern(42, 4 * d + b);
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);
    rig_close(&r);
}

TEST(initialize_device_parameters)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    /* 8 heads (Device 3:0 = 7), 32 sectors per track. */
    out8(&r, IDE_REG_DEVICE, 0xA7);
    out8(&r, IDE_REG_SECTOR_COUNT, 32);
    out8(&r, IDE_REG_COMMAND, ATA_CMD_INIT_PARAMETERS);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);
    uint16_t w[256];
    identify(&r, w);
    CHECK_EQ(w[54], 4032 / (8 * 32));    /* 15 cylinders */
    CHECK_EQ(w[55], 8);
    CHECK_EQ(w[56], 32);
    CHECK_EQ(w[1], 4);                   /* the default translation is unchanged */
    /* C=1 H=1 S=1 now means LBA (1 * 8 + 1) * 32 = 288. */
    chs_command(&r, ATA_CMD_READ_SECTORS, 1, 1, 1, 1);
    CHECK_EQ(read_sector_diff(&r, 288), 0);
    rig_close(&r);
}

TEST(diagnostic_and_power_commands)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    out8(&r, IDE_REG_COMMAND, ATA_CMD_STANDBY_IMMEDIATE);
    in8(&r, IDE_REG_STATUS);
    out8(&r, IDE_REG_COMMAND, ATA_CMD_CHECK_POWER_MODE);
    CHECK_EQ(in8(&r, IDE_REG_SECTOR_COUNT), 0x00);   /* standby */
    out8(&r, IDE_REG_COMMAND, ATA_CMD_IDLE_IMMEDIATE);
    out8(&r, IDE_REG_COMMAND, ATA_CMD_CHECK_POWER_MODE);
    CHECK_EQ(in8(&r, IDE_REG_SECTOR_COUNT), 0xFF);   /* active or idle */
    out8(&r, IDE_REG_COMMAND, ATA_CMD_FLUSH_CACHE);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);
    out8(&r, IDE_REG_COMMAND, 0x1F);                 /* RECALIBRATE, any low nibble */
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);
    /* EXECUTE DEVICE DIAGNOSTIC: signature, code 01h, INTRQ (ATA-6 8.11). */
    out8(&r, IDE_REG_LBA_LOW, 0x33);
    out8(&r, IDE_REG_COMMAND, ATA_CMD_EXEC_DIAGNOSTIC);
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(in8(&r, IDE_REG_ERROR), 0x01);
    CHECK_EQ(in8(&r, IDE_REG_LBA_LOW), 0x01);
    CHECK_EQ(in8(&r, IDE_REG_SECTOR_COUNT), 0x01);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_READY);
    rig_close(&r);
}

TEST(save_load_mid_transfer)
{
    struct rig r;
    CHECK(rig_open(&r, false));
    lba_command(&r, ATA_CMD_READ_SECTORS, 123, 2);
    for (int k = 0; k < 100; k++) in16(&r);
    struct snapshot s;
    snapshot_init(&s);
    CHECK_EQ(ide_save(&r.ch, &s), 0);
    for (int k = 0; k < 50; k++) in16(&r);            /* move on, then go back */
    CHECK_EQ(ide_load(&r.ch, &s, &(struct snapshot_check){ .apply = true }), 0);
    snapshot_free(&s);
    int bad = 0;
    for (uint32_t w = 100; w < 256; w++) {
        uint16_t v = in16(&r);
        bad += (v & 0xFF) != pattern(123, 2 * w) || (v >> 8) != pattern(123, 2 * w + 1);
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(in8(&r, IDE_REG_STATUS), ST_DRQ);        /* the second sector follows */
    CHECK_EQ(read_sector_diff(&r, 124), 0);
    rig_close(&r);
}

TEST_MAIN()
