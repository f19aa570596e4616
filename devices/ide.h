/*
 * ide.h - the primary ATA (IDE) channel: a master and a slave hard disk,
 * PIO only, as the AT Attachment standards define them (ATA-1 X3.221-1994
 * through ATA/ATAPI-6 T13/1410D; section numbers below are ATA/ATAPI-6's
 * unless another standard is named).
 *
 * The registers (ATA-6 7.1, table 14), as the PC decodes them:
 *
 *   port   read                       write
 *   0x1F0  Data (16 bits)             Data (16 bits)
 *   0x1F1  Error                      Features
 *   0x1F2  Sector Count               Sector Count
 *   0x1F3  LBA Low   (Sector Number)  LBA Low
 *   0x1F4  LBA Mid   (Cylinder Low)   LBA Mid
 *   0x1F5  LBA High  (Cylinder High)  LBA High
 *   0x1F6  Device    (Device/Head)    Device
 *   0x1F7  Status (clears INTRQ)      Command
 *   0x3F6  Alternate Status           Device Control
 *
 *   Device:         | obs(1) | LBA | obs(1) | DEV | HS3-HS0 / LBA 27:24 |
 *   Status:         | BSY | DRDY | DF | DSC | DRQ | CORR | IDX | ERR |
 *   Error:          | BBK/ICRC | UNC | MC | IDNF | MCR | ABRT | TK0NF | AMNF |
 *   Device Control: | HOB | -  -  -  - | SRST | nIEN | 0 |
 *
 * Writes to the command block reach both devices (each keeps its own copy);
 * the one that DEV selects answers reads and runs commands.  Data moves
 * through the 16-bit Data register in blocks of one sector (READ/WRITE
 * SECTORS, IDENTIFY) or of the multiple count (READ/WRITE MULTIPLE); a
 * 32-bit access moves two words, low word first.  The drive works
 * infinitely fast: BSY is never seen, the data of a block is ready (DRQ) as
 * soon as the command is written.
 *
 * Worked example, reading LBA 0 from the master (ATA-6 9.5, PIO data-in):
 *   out 0x1F6, 0xE0        ; LBA=1, DEV=0, LBA 27:24 = 0
 *   out 0x1F2, 1           ; one sector
 *   out 0x1F3..0x1F5, 0    ; LBA 23:0
 *   out 0x1F7, 0x20        ; READ SECTORS -> DRQ, INTRQ (when nIEN = 0)
 *   in  al, 0x1F7          ; 0x58: DRDY DSC DRQ; this read clears INTRQ
 *   256 x in ax, 0x1F0     ; the sector; then status 0x50, DRQ clear
 *
 * Not modelled: DMA (no bus-master IDE: IDENTIFY says so), the 48-bit
 * feature set (HOB is ignored), the secondary channel and ATAPI (CD-ROM).
 */
#ifndef TRAPEZE_IDE_H
#define TRAPEZE_IDE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/irq.h"
#include "mmu/bus.h"

struct disk;
struct snapshot;

#define IDE_PRIMARY_BASE    0x1F0   /* command block, 8 ports */
#define IDE_PRIMARY_CONTROL 0x3F6   /* control block: Alternate Status / Device Control */
#define IDE_PRIMARY_IRQ     14

/* Command block register offsets from 0x1F0. */
#define IDE_REG_DATA         0
#define IDE_REG_ERROR        1   /* read */
#define IDE_REG_FEATURES     1   /* write */
#define IDE_REG_SECTOR_COUNT 2
#define IDE_REG_LBA_LOW      3
#define IDE_REG_LBA_MID      4
#define IDE_REG_LBA_HIGH     5
#define IDE_REG_DEVICE       6
#define IDE_REG_STATUS       7   /* read */
#define IDE_REG_COMMAND      7   /* write */

/* Status register (ATA-6 7.15; DSC, CORR and IDX as ATA-3 7.2.13 names them). */
#define IDE_STATUS_BSY  0x80  /* busy: the device owns the registers */
#define IDE_STATUS_DRDY 0x40  /* device ready to accept commands */
#define IDE_STATUS_DF   0x20  /* device fault */
#define IDE_STATUS_DSC  0x10  /* device seek complete (ATA-3) */
#define IDE_STATUS_DRQ  0x08  /* data request: a word can move through Data */
#define IDE_STATUS_CORR 0x04  /* corrected data (ATA-3; obsolete in ATA-4) */
#define IDE_STATUS_IDX  0x02  /* index (ATA-3; obsolete in ATA-4) */
#define IDE_STATUS_ERR  0x01  /* the last command ended in error: see Error */

/* Error register (ATA-6 7.9; ATA-3 7.2.6). */
#define IDE_ERROR_BBK   0x80  /* bad block (ATA-1/2) / interface CRC (ATA-4+) */
#define IDE_ERROR_UNC   0x40  /* uncorrectable data error */
#define IDE_ERROR_MC    0x20  /* media changed */
#define IDE_ERROR_IDNF  0x10  /* ID not found: address outside the device */
#define IDE_ERROR_MCR   0x08  /* media change requested */
#define IDE_ERROR_ABRT  0x04  /* command aborted */
#define IDE_ERROR_TK0NF 0x02  /* track 0 not found */
#define IDE_ERROR_AMNF  0x01  /* address mark not found */

/* Device register (ATA-6 7.10). */
#define IDE_DEVICE_OBS  0xA0  /* bits 7 and 5: obsolete, set to one by hosts */
#define IDE_DEVICE_LBA  0x40  /* 1: LBA addressing; 0: CHS */
#define IDE_DEVICE_DEV  0x10  /* 0: device 0 (master); 1: device 1 (slave) */
#define IDE_DEVICE_HEAD 0x0F  /* CHS head number, or LBA bits 27:24 */

/* Device Control register (ATA-6 7.8). */
#define IDE_CONTROL_HOB  0x80  /* high-order byte (48-bit; not modelled) */
#define IDE_CONTROL_SRST 0x04  /* software reset of both devices */
#define IDE_CONTROL_NIEN 0x02  /* 1: INTRQ disabled (the pin floats) */

/* The commands this model runs (ATA-6 clause 8); any other aborts. */
#define ATA_CMD_RECALIBRATE        0x10  /* 0x10-0x1F (ATA-3 8.21) */
#define ATA_CMD_READ_SECTORS       0x20  /* and 0x21 (without retries) */
#define ATA_CMD_WRITE_SECTORS      0x30  /* and 0x31 */
#define ATA_CMD_READ_VERIFY        0x40  /* and 0x41 */
#define ATA_CMD_EXEC_DIAGNOSTIC    0x90
#define ATA_CMD_INIT_PARAMETERS    0x91  /* INITIALIZE DEVICE PARAMETERS (ATA-5 8.16) */
#define ATA_CMD_READ_MULTIPLE      0xC4
#define ATA_CMD_WRITE_MULTIPLE     0xC5
#define ATA_CMD_SET_MULTIPLE       0xC6
#define ATA_CMD_STANDBY_IMMEDIATE  0xE0
#define ATA_CMD_IDLE_IMMEDIATE     0xE1
#define ATA_CMD_STANDBY            0xE2
#define ATA_CMD_IDLE               0xE3
#define ATA_CMD_READ_BUFFER        0xE4
#define ATA_CMD_CHECK_POWER_MODE   0xE5
#define ATA_CMD_SLEEP              0xE6
#define ATA_CMD_FLUSH_CACHE        0xE7
#define ATA_CMD_WRITE_BUFFER       0xE8
#define ATA_CMD_IDENTIFY           0xEC
#define ATA_CMD_SET_FEATURES       0xEF

/* Largest READ/WRITE MULTIPLE block (IDENTIFY word 47 bits 7:0). */
#define IDE_MAX_MULTIPLE 16

/* The signature a device leaves after reset or diagnostics (ATA-6 9.12). */
#define IDE_SIGNATURE_COUNT 0x01
#define IDE_SIGNATURE_LBA_LOW 0x01

enum ide_transfer { IDE_TRANSFER_NONE, IDE_TRANSFER_IN, IDE_TRANSFER_OUT };
enum ide_power { IDE_POWER_ACTIVE, IDE_POWER_STANDBY, IDE_POWER_SLEEP };

/*
 * One device's state: its copy of the registers, its settings and the PIO
 * transfer in progress.  Plain data (no pointers), saved as it is.
 */
struct ide_device_state {
    /* Command block registers, as this device holds them. */
    uint8_t error;
    uint8_t features;
    uint8_t sector_count;
    uint8_t lba_low;          /* Sector Number in CHS mode */
    uint8_t lba_mid;          /* Cylinder Low */
    uint8_t lba_high;         /* Cylinder High */
    uint8_t device;
    uint8_t status;
    uint8_t intrq;            /* 1: interrupt pending (INTRQ driven when selected and nIEN = 0) */
    uint8_t command;          /* the command in progress, 0 when idle */
    /* Settings the host changes. */
    uint8_t multiple_count;   /* SET MULTIPLE MODE; 0: READ/WRITE MULTIPLE disabled */
    uint8_t revert_defaults;  /* SET FEATURES CCh/66h: SRST restores the power-on settings */
    uint8_t power;            /* enum ide_power */
    uint8_t pio_mode;         /* SET FEATURES 03h: the PIO mode the host chose */
    uint16_t cur_heads;       /* INITIALIZE DEVICE PARAMETERS: the CHS translation */
    uint16_t cur_sectors;
    uint32_t cur_cylinders;
    /* The PIO transfer (enum ide_transfer) and its progress. */
    uint8_t transfer;
    uint8_t pad[3];
    uint32_t lba;             /* the first sector of the current block */
    uint32_t remaining;       /* sectors left, the current block included */
    uint32_t block_sectors;   /* sectors per DRQ block */
    uint32_t data_pos;        /* byte offset in buffer of the next Data word */
    uint32_t data_end;        /* bytes in the current block */
    uint8_t buffer[IDE_MAX_MULTIPLE * 512];
};

struct ide_device {
    struct disk *disk;            /* NULL: no device at this position */
    bool warned_read_only;        /* host-side, not saved */
    bool warned_io_error;
    struct ide_device_state s;
};

struct ide_channel {
    struct ide_device device[2];  /* [0] master (device 0), [1] slave (device 1) */
    uint8_t device_control;       /* shared by both devices */
    struct irq_line irq;          /* IRQ14 on the primary channel */
    bool irq_level;               /* the level last driven onto the pin */
};

/* Command block (0x1F0-0x1F7) and control block (0x3F6) handlers. */
extern const struct io_ops ide_command_ops;
extern const struct io_ops ide_control_ops;

/*
 * Set up the channel with its devices ('master', 'slave': opened images, or
 * NULL where there is no device) in their power-on state.
 */
void ide_init(struct ide_channel *c, struct disk *master, struct disk *slave, struct irq_line irq);

/* Hardware reset (RESET- asserted): power-on settings, signature. */
void ide_reset(struct ide_channel *c);

/*
 * machine_device callbacks (opaque = the struct ide_channel): snapshot
 * section "ide0" with the registers and transfer state (not the images),
 * hardware reset, and `info ide`: the registers, the command in progress
 * and each device's image and geometry.
 */
int ide_save(void *opaque, struct snapshot *s);
struct snapshot_check;
int ide_load(void *opaque, const struct snapshot *s, struct snapshot_check *c);
void ide_reset_device(void *opaque);
void ide_info(void *opaque, FILE *out);

/*
 * The 256 words of IDENTIFY DEVICE for device 'dev' (0 or 1) of the
 * channel, as the device would send them now (exposed for tests and the
 * BIOS).  Returns false when there is no device there.
 */
bool ide_identify_data(const struct ide_channel *c, int dev, uint16_t words[256]);

#endif
