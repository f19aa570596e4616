/*
 * disk.c - raw disk and floppy images (see disk.h).
 */
#include "base/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHS_HEADS        16u      /* ATA default translation: 16 heads ...       */
#define CHS_SECTORS      63u      /* ... of 63 sectors (ATA-6 6.2.1)              */
#define ATA_MAX_CYLINDERS 16383u  /* IDENTIFY word 1 saturates here (> 8.4 GB)   */
#define BIOS_MAX_CYLINDERS 1024u  /* int 13h: 10-bit cylinder number              */

const char *disk_role_name(enum disk_role role)
{
    switch (role) {
    case DISK_FLOPPY_A:   return "floppy A";
    case DISK_FLOPPY_B:   return "floppy B";
    case DISK_IDE_MASTER: return "IDE master";
    case DISK_IDE_SLAVE:  return "IDE slave";
    default:              return "?";
    }
}

void disk_hard_disk_chs(uint64_t sectors, struct disk_chs *drive, struct disk_chs *bios)
{
    /* The drive: 16 x 63, as many whole cylinders as fit (at least one, so a
       tiny image still has a geometry; CHS beyond its end gets IDNF). */
    uint64_t cyl = sectors / (CHS_HEADS * CHS_SECTORS);
    if (cyl > ATA_MAX_CYLINDERS) cyl = ATA_MAX_CYLINDERS;
    if (cyl == 0) cyl = 1;
    *drive = (struct disk_chs){ (uint32_t)cyl, CHS_HEADS, CHS_SECTORS };

    /* The BIOS: the same up to 1024 cylinders (504 MiB); beyond, LBA-assisted
       translation doubles the heads until the cylinders fit in 1024, with 255
       rather than 256 as the last step (DOS cannot handle a 256th head). */
    if (cyl <= BIOS_MAX_CYLINDERS) {
        *bios = *drive;
        return;
    }
    static const uint32_t heads_steps[] = { 32, 64, 128, 255 };
    uint32_t heads = 255;
    for (size_t k = 0; k < sizeof heads_steps / sizeof heads_steps[0]; k++) {
        if (sectors <= (uint64_t)BIOS_MAX_CYLINDERS * heads_steps[k] * CHS_SECTORS) {
            heads = heads_steps[k];
            break;
        }
    }
    uint64_t bcyl = sectors / ((uint64_t)heads * CHS_SECTORS);
    if (bcyl > BIOS_MAX_CYLINDERS) bcyl = BIOS_MAX_CYLINDERS;
    *bios = (struct disk_chs){ (uint32_t)bcyl, heads, CHS_SECTORS };
}

int disk_floppy_chs(uint64_t bytes, struct disk_chs *chs)
{
    /* The PC's double-sided 3.5" and 5.25" media: 80 tracks, 2 sides. */
    static const struct { uint64_t bytes; uint32_t sectors; } media[] = {
        { 1474560, 18 },   /* 3.5" HD, 1.44 MB */
        {  737280,  9 },   /* 3.5" DD, 720 KB */
        { 1228800, 15 },   /* 5.25" HD, 1.2 MB */
        { 2949120, 36 },   /* 3.5" ED, 2.88 MB */
    };
    for (size_t k = 0; k < sizeof media / sizeof media[0]; k++) {
        if (bytes == media[k].bytes) {
            *chs = (struct disk_chs){ 80, 2, media[k].sectors };
            return 0;
        }
    }
    if (bytes == 0)
        return -EINVAL;
    /* QEMU's choice for a size no format has (checked with int 13h AH=08h
       under qemu-system-i386 8.x: BL=05h, 79 cylinders max, 36 sectors, 2
       heads): the 2.88 MB format, the rest of the disk reading as zeros. */
    *chs = (struct disk_chs){ 80, 2, 36 };
    return 1;
}

int disk_open(struct disk *d, const char *path, enum disk_role role, bool read_only)
{
    memset(d, 0, sizeof *d);
    d->fd = -1;
    d->path = path;
    d->role = role;
    d->floppy = role == DISK_FLOPPY_A || role == DISK_FLOPPY_B;

    /* O_NONBLOCK: a FIFO's open() would otherwise wait for its other end
       forever, before fstat could refuse it.  Cleared below for the image. */
    int fd = -1;
    if (!read_only) {
        fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
        /* Not writable (permissions, a read-only file system): use it read-only. */
        if (fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM))
            read_only = true;
    }
    if (read_only)
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int err = -errno;
        fprintf(stderr, "trapeze: %s: %s\n", path, strerror(-err));
        return err;
    }

    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = -errno;
        fprintf(stderr, "trapeze: %s: %s\n", path, strerror(-err));
        close(fd);
        return err;
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        fprintf(stderr, "trapeze: %s: not a disk image (a regular file or block device)\n", path);
        close(fd);
        return -EINVAL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        int err = -errno;
        fprintf(stderr, "trapeze: %s: %s\n", path, strerror(-err));
        close(fd);
        return err;
    }
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0) {
        int err = -errno;
        fprintf(stderr, "trapeze: %s: %s\n", path, strerror(-err));
        close(fd);
        return err;
    }
    uint64_t bytes = (uint64_t)end;

    d->sectors = bytes / DISK_SECTOR_SIZE;
    if (d->floppy) {
        int kind = disk_floppy_chs(bytes, &d->drive_chs);
        if (kind < 0) {
            fprintf(stderr, "trapeze: %s: the file is empty (a floppy image holds at least a boot sector)\n",
                    path);
            close(fd);
            return -EINVAL;
        }
        d->bios_chs = d->drive_chs;
        if (kind == 1)   /* padded: the geometry's sectors, zeros past the file */
            d->sectors = (uint64_t)d->drive_chs.cylinders * d->drive_chs.heads * d->drive_chs.sectors;
    } else {
        if (bytes == 0 || bytes % DISK_SECTOR_SIZE != 0) {
            fprintf(stderr, "trapeze: %s: %llu bytes is not a disk image "
                            "(a raw image is a whole number of 512-byte sectors, at least one)\n",
                    path, (unsigned long long)bytes);
            close(fd);
            return -EINVAL;
        }
        /* The IDE drive speaks LBA28 only (no READ/WRITE SECTORS EXT): a
           larger image would show the guest its first 128 GiB and hide the
           rest.  QEMU, which has LBA48, takes it; trapeze refuses it. */
        if (bytes / DISK_SECTOR_SIZE > DISK_LBA28_MAX_SECTORS) {
            fprintf(stderr, "trapeze: %s: %llu bytes is more than the IDE drive can address "
                            "(LBA28: 128 GiB less one sector; trapeze has no LBA48)\n",
                    path, (unsigned long long)bytes);
            close(fd);
            return -EFBIG;
        }
        disk_hard_disk_chs(bytes / DISK_SECTOR_SIZE, &d->drive_chs, &d->bios_chs);
    }
    d->fd = fd;
    d->image_bytes = bytes;
    d->read_only = read_only;
    return 0;
}

void disk_close(struct disk *d)
{
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
}

static int disk_check_range(const struct disk *d, uint64_t lba, uint32_t count)
{
    if (d->fd < 0) return -ENODEV;
    if (lba > d->sectors || count > d->sectors - lba) return -ERANGE;
    return 0;
}

int disk_read(struct disk *d, uint64_t lba, uint32_t count, void *buf)
{
    int err = disk_check_range(d, lba, count);
    if (err) return err;
    size_t len = (size_t)count * DISK_SECTOR_SIZE;
    uint64_t start = lba * DISK_SECTOR_SIZE;
    /* A padded floppy: what lies past the file's end reads as zeros. */
    size_t in_file = start >= d->image_bytes ? 0
                   : d->image_bytes - start < len ? (size_t)(d->image_bytes - start) : len;
    memset((uint8_t *)buf + in_file, 0, len - in_file);
    size_t done = 0;
    while (done < in_file) {
        ssize_t n = pread(d->fd, (uint8_t *)buf + done, in_file - done, (off_t)(start + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        if (n == 0) return -EIO;   /* the file shrank under us */
        done += (size_t)n;
    }
    return 0;
}

int disk_write(struct disk *d, uint64_t lba, uint32_t count, const void *buf)
{
    int err = disk_check_range(d, lba, count);
    if (err) return err;
    if (d->read_only) return -EROFS;
    size_t len = (size_t)count * DISK_SECTOR_SIZE;
    /* A padded floppy's zeros are not in the file: a write there fails, as
       under QEMU (its floppy controller ends the command abnormally, and
       SeaBIOS's int 13h says 20h, controller failure). */
    if (lba * DISK_SECTOR_SIZE + len > d->image_bytes) return -ENOSPC;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(d->fd, (const uint8_t *)buf + done, len - done,
                           (off_t)(lba * DISK_SECTOR_SIZE + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        if (n == 0) return -EIO;
        done += (size_t)n;
    }
    return 0;
}

int disk_flush(struct disk *d)
{
    if (d->fd < 0) return -ENODEV;
    return fdatasync(d->fd) == 0 ? 0 : -errno;
}
