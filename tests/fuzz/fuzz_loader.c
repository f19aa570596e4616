/*
 * fuzz_loader.c - fuzz target for the loaders: the Multiboot loader
 * (machine/multiboot.c) and the disk images' size checks (base/disk.c).
 *
 * Contract checked for every input: the loader either loads it (and then
 * the entry state is the Multiboot one, its info block inside RAM) or
 * refuses it with exactly one line on stderr; never a crash, a sanitizer
 * report, a hang, or a refusal without a word (or with several).  A broken
 * contract aborts, so the driver (or the sanitizer) sees it.
 *
 * The input: a first byte 'D' means a disk-size case (the next 8 bytes,
 * little-endian, are an image size; the file is made sparse with
 * ftruncate and opened as IDE master and as floppy A); anything else is
 * the kernel image itself, loaded on a 4 MiB board (bus only: no devices,
 * no BIOS), with one module (the input again) every other time.
 *
 * Two ways to run it:
 *   - under the mutation-loop driver (tests/fuzz/driver.c, which picks up
 *     tests/fuzz/fuzz_*.c): fuzz_init once, fuzz_one per input;
 *   - standalone, built with -DFUZZ_STANDALONE (make fuzz-loader builds
 *     build/tests/fuzz/fuzz_loader and runs it; tests/tests.mk also runs
 *     it as a test program, 3000 inputs):
 *         build/tests/fuzz/fuzz_loader [-n INPUTS] [-s SEED] [SEED_FILE...]
 *     which mutates the seed files (default: every file in tests/fuzz/seeds/loader)
 *     with its own small mutator and prints the figures: inputs tried,
 *     loaded, refused, silent or wordy refusals (a contract broken: FAIL).
 *     Its files go to $TMPDIR (default /tmp); TMPDIR=/dev/shm runs it some
 *     twenty times faster (100,000 inputs in 5 s under ASan).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/disk.h"
#include "machine/multiboot.h"

#define FUZZ_RAM (4u << 20)
#define FUZZ_MAX_INPUT (64u << 10)

int fuzz_one(const uint8_t *data, size_t size);
void fuzz_init(void);

static struct bus fuzz_bus;          /* large (the port table): not on the stack */
static char fuzz_dir[64];
static char kernel_path[96], disk_path[96], err_path[96];
static int err_fd = -1;               /* stderr goes here while the loader runs */

/* What fuzz_one saw, for the standalone figures. */
static unsigned long loaded, refused;

void fuzz_init(void)
{
    if (fuzz_dir[0])
        return;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/trapeze-fuzz-XXXXXX", base);
    if (!mkdtemp(fuzz_dir)) {
        perror("fuzz_loader: mkdtemp");
        exit(1);
    }
    snprintf(kernel_path, sizeof kernel_path, "%s/kernel", fuzz_dir);
    snprintf(disk_path, sizeof disk_path, "%s/disk", fuzz_dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", fuzz_dir);
    err_fd = open(err_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (err_fd < 0 || bus_init(&fuzz_bus, FUZZ_RAM) != 0) {
        perror("fuzz_loader: set-up");
        exit(1);
    }
}

__attribute__((destructor)) static void fuzz_cleanup(void)
{
    if (!fuzz_dir[0])
        return;
    unlink(kernel_path);
    unlink(disk_path);
    unlink(err_path);
    rmdir(fuzz_dir);
}

static void write_all(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            perror(path);
            exit(1);
        }
        done += (size_t)n;
    }
    close(fd);
}

/* Run one loader call with stderr captured; returns the lines it printed. */
static int saved_stderr = -1;
static void capture_begin(void)
{
    fflush(stderr);
    if (ftruncate(err_fd, 0) != 0 || lseek(err_fd, 0, SEEK_SET) != 0) {
        perror("fuzz_loader: stderr file");
        exit(1);
    }
    saved_stderr = dup(2);
    dup2(err_fd, 2);
}

static int capture_end(char *first, size_t len)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    char buf[4096];
    ssize_t n = pread(err_fd, buf, sizeof buf - 1, 0);
    if (n < 0) n = 0;
    buf[n] = '\0';
    int lines = 0;
    for (ssize_t i = 0; i < n; i++)
        lines += buf[i] == '\n';
    snprintf(first, len, "%.*s", (int)strcspn(buf, "\n"), buf);
    return lines;
}

/* A broken contract: say which, keep the input, abort for the driver. */
static void broken(const char *why, const char *line, const uint8_t *data, size_t size)
{
    char keep[128];
    snprintf(keep, sizeof keep, "%s.crash", fuzz_dir);
    write_all(keep, data, size);
    fprintf(stderr, "fuzz_loader: %s (stderr: \"%s\"); input kept in %s\n", why, line, keep);
    abort();
}

/* The refusal contract for a return value 'err' and 'lines' on stderr. */
static void check_verdict(int err, int lines, const char *line, const uint8_t *data, size_t size,
                          bool warn_ok)
{
    if (err < 0) {
        refused++;
        if (lines != 1)
            broken(lines == 0 ? "refused without a line" : "refused with several lines", line, data, size);
    } else {
        loaded++;
        if (lines > (warn_ok ? 1 : 0) || (lines == 1 && !strstr(line, "warning")))
            broken("loaded, but printed more than a warning", line, data, size);
    }
}

static void fuzz_disk(const uint8_t *data, size_t size)
{
    uint64_t bytes = 0;
    for (int i = 0; i < 8 && 1 + (size_t)i < size; i++)
        bytes |= (uint64_t)data[1 + i] << (8 * i);
    bytes &= (1ull << 42) - 1;               /* up to 4 TiB: ftruncate's reach on most hosts */
    write_all(disk_path, data, 0);
    if (truncate(disk_path, (off_t)bytes) != 0)
        return;                              /* the host's file system: not our case */
    static const enum disk_role roles[] = { DISK_FLOPPY_A, DISK_IDE_MASTER };
    for (size_t r = 0; r < sizeof roles / sizeof roles[0]; r++) {
        enum disk_role role = roles[r];
        struct disk d;
        char line[256];
        capture_begin();
        int err = disk_open(&d, disk_path, role, true);
        int lines = capture_end(line, sizeof line);
        check_verdict(err, lines, line, data, size, false);
        if (err == 0) {
            uint8_t sector[DISK_SECTOR_SIZE];
            if (role == DISK_IDE_MASTER && (d.sectors > DISK_LBA28_MAX_SECTORS || d.sectors == 0))
                broken("an IDE image the drive cannot address was taken", line, data, size);
            if (d.sectors && disk_read(&d, d.sectors - 1, 1, sector) != 0)
                broken("the last sector of an opened image does not read", line, data, size);
            disk_close(&d);
        }
    }
}

/*
 * Always 0 for the driver (tests/fuzz/fuzz.h): some seeds are images the
 * loader must refuse, and the driver wants its seeds taken.  The verdict
 * that matters - loaded, or refused with exactly one line - is checked
 * here (check_verdict aborts on anything else); so the driver's "accepted"
 * counts inputs handled either way.
 */
int fuzz_one(const uint8_t *data, size_t size)
{
    static unsigned long calls;
    fuzz_init();
    if (size > FUZZ_MAX_INPUT)
        return 0;
    if (size >= 1 && data[0] == 'D') {
        fuzz_disk(data, size);
        return 0;
    }
    write_all(kernel_path, data, size);
    struct x86_state s;
    char line[256];
    capture_begin();
    int err = multiboot_load(&fuzz_bus, kernel_path, "fuzz", (calls++ & 1) ? kernel_path : NULL, &s);
    int lines = capture_end(line, sizeof line);
    check_verdict(err, lines, line, data, size, true);
    if (err == 0) {
        if (s.regs[R_EAX] != MULTIBOOT_BOOTLOADER_MAGIC || s.regs[R_EBX] >= FUZZ_RAM ||
            s.gdtr.base >= FUZZ_RAM || !(s.cr0 & CR0_PE))
            broken("loaded with an entry state that is not Multiboot's", line, data, size);
    }
    return 0;
}

#ifdef FUZZ_STANDALONE
#include <dirent.h>

/* xorshift64*: the mutator's dice, reproducible from -s SEED. */
static uint64_t dice = 0x9E3779B97F4A7C15ull;
static uint32_t roll(uint32_t n)
{
    dice ^= dice >> 12; dice ^= dice << 25; dice ^= dice >> 27;
    return n ? (uint32_t)((dice * 0x2545F4914F6CDD1Dull) >> 32) % n : 0;
}

/* Values that sit on the loader's edges: the IVT, BDA, EBDA, hole, RAM end, 4 GiB. */
static const uint32_t edges[] = {
    0, 1, 0x400, 0x4FF, 0x500, 0x9FBFF, 0x9FC00, 0xA0000, 0xFFFFF, 0x100000, 0x100020,
    FUZZ_RAM - 1, FUZZ_RAM, FUZZ_RAM + 1, 0x7FFFFFFF, 0x80000000u, 0xFFFFFFF0u, 0xFFFFFFFFu,
    0x1BADB002, 0x10000, 0x10003, 32, 52,
};

static size_t mutate(uint8_t *buf, size_t size, size_t cap)
{
    int rounds = 1 + (int)roll(4);
    while (rounds-- > 0 && size > 0) {
        uint32_t at = roll((uint32_t)size);
        switch (roll(6)) {
        case 0: buf[at] ^= (uint8_t)(1u << roll(8)); break;                /* a bit */
        case 1: buf[at] = (uint8_t)roll(256); break;                       /* a byte */
        case 2:                                                             /* an edge, aligned */
            at &= ~3u;
            if (at + 4 <= size) {
                uint32_t v = edges[roll(sizeof edges / sizeof edges[0])];
                if (roll(3) == 0) v += roll(0x2000) - 0x1000;
                memcpy(buf + at, &v, 4);
            }
            break;
        case 3: size = at + 1; break;                                       /* cut short */
        case 4:                                                             /* grow */
            if (size < cap) {
                size_t more = roll((uint32_t)(cap - size)) % 0x1000 + 1;
                if (size + more > cap) more = cap - size;
                memset(buf + size, (int)roll(256), more);
                size += more;
            }
            break;
        default: {                                                          /* copy a block */
            uint32_t from = roll((uint32_t)size), len = roll(64);
            if (from + len <= size && at + len <= size) memmove(buf + at, buf + from, len);
            break;
        }
        }
    }
    /* Keep the Multiboot checksum right half the time, so the parsers past it are reached. */
    if (roll(2) == 0) {
        for (size_t off = 0; off + 12 <= size && off < 8192; off += 4) {
            uint32_t magic, flags;
            memcpy(&magic, buf + off, 4);
            if (magic != 0x1BADB002) continue;
            memcpy(&flags, buf + off + 4, 4);
            uint32_t sum = 0u - magic - flags;
            memcpy(buf + off + 8, &sum, 4);
            break;
        }
    }
    return size;
}

struct seed { uint8_t *data; size_t size; };

static int read_seed(const char *path, struct seed *s)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    s->data = malloc(FUZZ_MAX_INPUT);
    s->size = s->data ? fread(s->data, 1, FUZZ_MAX_INPUT, f) : 0;
    fclose(f);
    return s->data ? 0 : -1;
}

int main(int argc, char **argv)
{
    unsigned long inputs = 3000;
    struct seed seeds[64];
    int nseeds = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc) inputs = strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "-s") && i + 1 < argc) dice = strtoull(argv[++i], NULL, 0) | 1;
        else { fprintf(stderr, "usage: %s [-n INPUTS] [-s SEED] [SEED_FILE...]\n", argv[0]); return 2; }
    }
    for (; i < argc && nseeds < 64; i++)
        if (read_seed(argv[i], &seeds[nseeds]) == 0) nseeds++;
    if (nseeds == 0) {
        DIR *d = opendir("tests/fuzz/seeds/loader");
        struct dirent *e;
        char path[512];
        while (d && (e = readdir(d)) && nseeds < 64) {
            if (e->d_name[0] == '.') continue;
            snprintf(path, sizeof path, "tests/fuzz/seeds/loader/%s", e->d_name);
            if (read_seed(path, &seeds[nseeds]) == 0) nseeds++;
        }
        if (d) closedir(d);
    }
    if (nseeds == 0) {
        printf("FAIL fuzz_loader: no seeds (run from the repository root, or name seed files)\n");
        return 1;
    }
    fuzz_init();
    static uint8_t buf[FUZZ_MAX_INPUT];
    for (int k = 0; k < nseeds; k++)                   /* each seed as it is first */
        fuzz_one(seeds[k].data, seeds[k].size);
    for (unsigned long n = 0; n < inputs; n++) {
        const struct seed *s = &seeds[roll((uint32_t)nseeds)];
        memcpy(buf, s->data, s->size);
        size_t size = mutate(buf, s->size, sizeof buf);
        fuzz_one(buf, size);
    }
    printf("INFO fuzz_loader: %lu inputs from %d seeds: %lu loader calls loaded, %lu refused with one "
           "line, 0 crashes, 0 silent refusals\n", inputs + (unsigned long)nseeds, nseeds, loaded, refused);
    printf("PASS fuzz_loader\n");
    for (int k = 0; k < nseeds; k++) free(seeds[k].data);
    bus_destroy(&fuzz_bus);
    return 0;
}
#endif
