/*
 * test_disk.c - raw images (base/disk.c): geometry as the ATA standard
 * and the BIOS derive it, floppy sizes, reads and writes straight to the
 * file, read-only images.
 *
 * Expected geometries are worked out here from the rules, not taken from
 * trapeze: ATA default translation 16 heads x 63 sectors, cylinders =
 * sectors / 1008 (at most 16383); BIOS LBA-assisted translation beyond
 * 1024 cylinders: heads 32/64/128/255, the first giving <= 1024
 * cylinders; floppies 80 tracks x 2 sides x 9/15/18/36 sectors.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/disk.h"
#include "tests/test.h"

static uint8_t pattern(uint32_t sector, uint32_t i)
{
    return (uint8_t)(sector * 31 + i * 7 + (sector >> 8));
}

/* A temporary image of 'sectors' sectors holding pattern(); returns its path. */
static char *make_image(uint32_t sectors)
{
    static char path[64];
    strcpy(path, "/tmp/trapeze-disk-XXXXXX");
    return test_make_image(path, sectors, pattern) < 0 ? NULL : path;
}

static void check_chs(const struct disk_chs *g, uint32_t c, uint32_t h, uint32_t s)
{
    CHECK_EQ(g->cylinders, c);
    CHECK_EQ(g->heads, h);
    CHECK_EQ(g->sectors, s);
}

TEST(hard_disk_geometry_small)
{
    struct disk_chs drive, bios;
    /* 10 MiB: 20480 / 1008 = 20 whole cylinders; BIOS the same (<= 1024). */
    disk_hard_disk_chs(20480, &drive, &bios);
    check_chs(&drive, 20, 16, 63);
    check_chs(&bios, 20, 16, 63);
    /* Exactly 504 MiB: 1024 x 16 x 63 = 1032192 sectors, still untranslated. */
    disk_hard_disk_chs(1032192, &drive, &bios);
    check_chs(&drive, 1024, 16, 63);
    check_chs(&bios, 1024, 16, 63);
}

TEST(hard_disk_geometry_lba_assisted)
{
    struct disk_chs drive, bios;
    /* 1 GiB = 2097152 sectors: drive 2080 x 16 x 63; 2097152 > 1024*32*63 =
       2064384, <= 1024*64*63 = 4128768: 64 heads, 2097152 / 4032 = 520. */
    disk_hard_disk_chs(2097152, &drive, &bios);
    check_chs(&drive, 2080, 16, 63);
    check_chs(&bios, 520, 64, 63);
    /* 600 MiB = 1228800 sectors: 32 heads, 1228800 / 2016 = 609. */
    disk_hard_disk_chs(1228800, &drive, &bios);
    check_chs(&drive, 1219, 16, 63);
    check_chs(&bios, 609, 32, 63);
    /* 20 GiB = 41943040 sectors: the drive saturates at 16383 cylinders;
       the BIOS takes 255 heads and is capped at 1024 cylinders. */
    disk_hard_disk_chs(41943040, &drive, &bios);
    check_chs(&drive, 16383, 16, 63);
    check_chs(&bios, 1024, 255, 63);
}

TEST(floppy_geometry_by_size)
{
    struct disk_chs g;
    CHECK_EQ(disk_floppy_chs(1474560, &g), 0); check_chs(&g, 80, 2, 18);
    CHECK_EQ(disk_floppy_chs(737280, &g), 0);  check_chs(&g, 80, 2, 9);
    CHECK_EQ(disk_floppy_chs(1228800, &g), 0); check_chs(&g, 80, 2, 15);
    CHECK_EQ(disk_floppy_chs(2949120, &g), 0); check_chs(&g, 80, 2, 36);
    /* Other sizes: QEMU's 2.88 MB geometry (int 13h AH=08h under
       qemu-system-i386 on 512-, 1000-, 1024-byte and 1.5 MB images). */
    CHECK_EQ(disk_floppy_chs(1000, &g), 1); check_chs(&g, 80, 2, 36);
    CHECK_EQ(disk_floppy_chs(1024, &g), 1); check_chs(&g, 80, 2, 36);
    CHECK_EQ(disk_floppy_chs(1474560 + 512, &g), 1); check_chs(&g, 80, 2, 36);
    CHECK_EQ(disk_floppy_chs(0, &g), -EINVAL);
}

TEST(open_missing_file)
{
    struct disk d;
    CHECK_EQ(disk_open(&d, "/nonexistent/trapeze.img", DISK_IDE_MASTER, false), -ENOENT);
    CHECK(!disk_present(&d));
}

TEST(open_rejects_bad_sizes)
{
    struct disk d;
    char path[] = "/tmp/trapeze-disk-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    char junk[1000] = { 0 };
    CHECK_EQ(write(fd, junk, sizeof junk), sizeof junk);
    close(fd);
    CHECK_EQ(disk_open(&d, path, DISK_IDE_MASTER, false), -EINVAL);  /* not whole sectors */
    int empty = open(path, O_WRONLY | O_TRUNC);
    close(empty);
    CHECK_EQ(disk_open(&d, path, DISK_FLOPPY_A, false), -EINVAL);    /* an empty floppy */
    unlink(path);
}

TEST(read_write_round_trip_reaches_the_file)
{
    char *path = make_image(2048);
    CHECK(path);
    if (!path) return;
    struct disk d;
    CHECK_EQ(disk_open(&d, path, DISK_IDE_MASTER, false), 0);
    CHECK_EQ(d.sectors, 2048);
    CHECK(!d.read_only);
    check_chs(&d.drive_chs, 2, 16, 63);

    uint8_t buf[3 * 512];
    CHECK_EQ(disk_read(&d, 1000, 3, buf), 0);
    int bad = 0;
    for (uint32_t k = 0; k < 3; k++)
        for (uint32_t i = 0; i < 512; i++)
            bad += buf[k * 512 + i] != pattern(1000 + k, i);
    CHECK_EQ(bad, 0);

    /* A write is in the file at once (pread on another descriptor sees it). */
    for (uint32_t i = 0; i < 512; i++) buf[i] = (uint8_t)(0xA5 ^ i);
    CHECK_EQ(disk_write(&d, 7, 1, buf), 0);
    int fd = open(path, O_RDONLY);
    uint8_t back[512];
    CHECK_EQ(pread(fd, back, 512, 7 * 512), 512);
    close(fd);
    CHECK(memcmp(back, buf, 512) == 0);

    /* The end: the last sector is readable, one more is -ERANGE. */
    CHECK_EQ(disk_read(&d, 2047, 1, buf), 0);
    CHECK_EQ(disk_read(&d, 2047, 2, buf), -ERANGE);
    CHECK_EQ(disk_read(&d, 2048, 1, buf), -ERANGE);
    CHECK_EQ(disk_write(&d, 2048, 1, buf), -ERANGE);
    disk_close(&d);
    unlink(path);
}

TEST(read_only_images)
{
    char *path = make_image(64);
    CHECK(path);
    if (!path) return;
    struct disk d;
    uint8_t buf[512] = { 0 };

    /* readonly=on */
    CHECK_EQ(disk_open(&d, path, DISK_IDE_SLAVE, true), 0);
    CHECK(d.read_only);
    CHECK_EQ(disk_write(&d, 0, 1, buf), -EROFS);
    CHECK_EQ(disk_read(&d, 0, 1, buf), 0);
    CHECK_EQ(buf[1], pattern(0, 1));
    disk_close(&d);

    /* A file the user may not write is opened read-only (root may write anything). */
    chmod(path, 0444);
    if (geteuid() != 0) {
        CHECK_EQ(disk_open(&d, path, DISK_IDE_MASTER, false), 0);
        CHECK(d.read_only);
        CHECK_EQ(disk_write(&d, 0, 1, buf), -EROFS);
        disk_close(&d);
    }
    unlink(path);
}

TEST(floppy_image_opens_with_its_geometry)
{
    char *path = make_image(1474560 / 512);
    CHECK(path);
    if (!path) return;
    struct disk d;
    CHECK_EQ(disk_open(&d, path, DISK_FLOPPY_A, false), 0);
    CHECK(d.floppy);
    check_chs(&d.bios_chs, 80, 2, 18);
    CHECK_EQ(d.sectors, 2880);
    disk_close(&d);
    unlink(path);
}

/* QEMU boots a 1000-byte floppy image: 2.88 MB geometry, zeros past the
   file's end (a partial sector too), writes there refused. */
TEST(odd_floppy_image_is_padded_with_zeros)
{
    char path[] = "/tmp/trapeze-disk-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    uint8_t data[1000];
    memset(data, 0x22, sizeof data);
    CHECK_EQ(write(fd, data, sizeof data), sizeof data);
    close(fd);
    struct disk d;
    CHECK_EQ(disk_open(&d, path, DISK_FLOPPY_A, false), 0);
    check_chs(&d.bios_chs, 80, 2, 36);
    CHECK_EQ(d.sectors, 5760);
    uint8_t buf[3 * 512];
    memset(buf, 0x77, sizeof buf);
    CHECK_EQ(disk_read(&d, 0, 3, buf), 0);
    int bad = 0;
    for (int i = 0; i < 3 * 512; i++) bad += buf[i] != (i < 1000 ? 0x22 : 0);
    CHECK_EQ(bad, 0);
    CHECK_EQ(disk_read(&d, 5759, 1, buf), 0);
    CHECK_EQ(buf[0], 0);
    CHECK_EQ(disk_read(&d, 5760, 1, buf), -ERANGE);
    CHECK_EQ(disk_write(&d, 1, 1, buf), -ENOSPC);   /* reaches past byte 1000 */
    CHECK_EQ(disk_write(&d, 0, 1, buf), 0);
    disk_close(&d);
    unlink(path);
}

/*
 * A FIFO given as an image (in any role, read-only too) is refused at
 * once: before the fix open() waited for a writer forever (alarm: the
 * test dies instead of hanging).
 */
TEST(disk_fifo_refused)
{
    char path[64];
    strcpy(path, "/tmp/trapeze-fifo-XXXXXX");
    int tmp = mkstemp(path);
    CHECK(tmp >= 0);
    close(tmp);
    unlink(path);
    CHECK_EQ(mkfifo(path, 0600), 0);
    alarm(10);
    struct disk d;
    CHECK_EQ(disk_open(&d, path, DISK_IDE_MASTER, true), -EINVAL);
    CHECK_EQ(disk_open(&d, path, DISK_FLOPPY_A, true), -EINVAL);
    CHECK_EQ(disk_open(&d, path, DISK_IDE_SLAVE, false), -EINVAL);
    alarm(0);
    unlink(path);
}

/*
 * The IDE drive is LBA28: an image of more than 0x0FFFFFFF sectors (200 GiB
 * here, a sparse file) is refused, one of exactly that many is taken and
 * opened blocking (a read works).  Before the fix the 200 GiB image was
 * accepted and the guest saw only its first 128 GiB.
 */
TEST(disk_beyond_lba28_refused)
{
    char path[64];
    strcpy(path, "/tmp/trapeze-big-XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (ftruncate(fd, 200ll << 30) != 0) {
        close(fd);
        unlink(path);
        return;   /* a file system without sparse files: nothing to test */
    }
    struct disk d;
    CHECK_EQ(disk_open(&d, path, DISK_IDE_MASTER, true), -EFBIG);
    CHECK_EQ(ftruncate(fd, (long long)DISK_LBA28_MAX_SECTORS * DISK_SECTOR_SIZE), 0);
    CHECK_EQ(disk_open(&d, path, DISK_IDE_MASTER, true), 0);
    CHECK_EQ(d.sectors, DISK_LBA28_MAX_SECTORS);
    CHECK_EQ(fcntl(d.fd, F_GETFL) & O_NONBLOCK, 0);
    uint8_t buf[DISK_SECTOR_SIZE];
    CHECK_EQ(disk_read(&d, DISK_LBA28_MAX_SECTORS - 1, 1, buf), 0);
    disk_close(&d);
    close(fd);
    unlink(path);
}

TEST_MAIN()
