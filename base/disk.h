/*
 * disk.h - raw disk and floppy images, as the board's drives hold them.
 *
 * An image is a plain file of 512-byte sectors, sector 0 first (QEMU's
 * format=raw).  It is opened read-write, or read-only when the file is not
 * writable or the user said readonly=on; reads and writes go straight to
 * the file with pread/pwrite (no cache of ours, so nothing is lost when
 * trapeze exits, however it exits).
 *
 * Each image also gets the CHS geometry the rest of the PC sees:
 *
 *   hard disk, up to 504 MiB (1024 x 16 x 63 sectors):
 *       the drive's own geometry  C = sectors / (16 * 63), 16 heads, 63 sectors
 *       (ATA-6 T13/1410D 6.2.1: default translation), and the BIOS int 13h
 *       geometry is the same.
 *   hard disk, larger: the drive still reports 16 x 63 (cylinders up to
 *       16383), and the BIOS uses LBA-assisted translation (Phoenix/BIOS
 *       Enhanced Disk Drive Specification): 63 sectors, heads 32, 64, 128
 *       or 255 - the first that brings the cylinders to 1024 or fewer -
 *       and cylinders = sectors / (heads * 63), at most 1024.
 *   floppy: recognised by its size, as a BIOS recognises the media:
 *       1.44 MB = 80 x 2 x 18, 720 KB = 80 x 2 x 9, 1.2 MB = 80 x 2 x 15,
 *       2.88 MB = 80 x 2 x 36.  Any other size (a bare 512- or 1024-byte boot
 *       sector, a truncated image) is served as QEMU serves it: as a 2.88 MB
 *       disk (80 x 2 x 36, the largest drive type) whose sectors past the end
 *       of the file read as zeros (a partial last sector too) and cannot be
 *       written; bytes beyond 2.88 MB are out of the geometry's reach.
 *
 * Worked example: a 10 MiB xv6 fs.img (20480 sectors) is 20 x 16 x 63 for
 * both the drive and the BIOS (the last 320 sectors lie beyond the last
 * whole cylinder: LBA reaches them, CHS does not).
 */
#ifndef TRAPEZE_DISK_H
#define TRAPEZE_DISK_H

#include <stdbool.h>
#include <stdint.h>

#define DISK_SECTOR_SIZE 512u
#define DISK_LBA28_MAX_SECTORS 0x0FFFFFFFu   /* the most an LBA28 drive reports (ATA-6 8.15.30): a larger hard disk image is refused */

/* Where the board plugs an image in (machine->disks[] is indexed by it). */
enum disk_role {
    DISK_FLOPPY_A,      /* -fda, -drive if=floppy,index=0 */
    DISK_FLOPPY_B,      /* -fdb, -drive if=floppy,index=1 */
    DISK_IDE_MASTER,    /* -hda, -drive if=ide,index=0: primary channel, device 0 */
    DISK_IDE_SLAVE,     /* -hdb, -drive if=ide,index=1: primary channel, device 1 */
    DISK_ROLE_COUNT
};

struct disk_chs {
    uint32_t cylinders;
    uint32_t heads;
    uint32_t sectors;   /* per track, numbered from 1 */
};

struct disk {
    int fd;                    /* -1: no image in this role */
    const char *path;          /* as given on the command line (lives in argv) */
    enum disk_role role;
    bool floppy;
    bool read_only;
    uint64_t sectors;          /* size in 512-byte sectors (a padded floppy: its geometry's) */
    uint64_t image_bytes;      /* the file's size; less than sectors * 512 for a padded floppy */
    struct disk_chs drive_chs; /* what the drive itself reports (ATA IDENTIFY words 1, 3, 6) */
    struct disk_chs bios_chs;  /* what the BIOS shows through int 13h */
};

/* The name of a role, for messages and `info`: "floppy A", "IDE master", ... */
const char *disk_role_name(enum disk_role role);

/*
 * Open 'path' as the image for 'role'.  read_only: as the user asked
 * (readonly=on); an image whose file is not writable is opened read-only
 * anyway.  Returns 0, or -errno after printing one line
 * ("trapeze: disk.img: No such file or directory").
 */
int disk_open(struct disk *d, const char *path, enum disk_role role, bool read_only);

/* Close the image (nothing to flush: every write went to the file). */
void disk_close(struct disk *d);

/* True when an image is open in 'd'. */
static inline bool disk_present(const struct disk *d) { return d && d->fd >= 0; }

/*
 * Read/write 'count' sectors from sector 'lba'.  Returns 0, -ERANGE when
 * the range runs past the end of the image (for a padded floppy: past its
 * geometry; a read past the file's end gives zeros, a write there
 * -ENOSPC), -EROFS when writing to a read-only image, or -errno
 * from the host (-EIO on a short transfer).
 * Nothing is printed: the caller turns the error into what its guest sees.
 */
int disk_read(struct disk *d, uint64_t lba, uint32_t count, void *buf);
int disk_write(struct disk *d, uint64_t lba, uint32_t count, const void *buf);

/* Ask the host to put written sectors on stable storage (fdatasync). */
int disk_flush(struct disk *d);

/*
 * The geometries for an image of 'sectors' sectors (exposed for the tests
 * and the BIOS).  disk_floppy_chs returns 0 for a floppy size, 1 for any
 * other size (the 2.88 MB geometry, to be padded with zeros) and -EINVAL
 * for an empty file.
 */
void disk_hard_disk_chs(uint64_t sectors, struct disk_chs *drive, struct disk_chs *bios);
int disk_floppy_chs(uint64_t bytes, struct disk_chs *chs);

#endif
