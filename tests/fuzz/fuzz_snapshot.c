/*
 * fuzz_snapshot.c - the snapshot reader and loadvm's checks against damaged
 * files (tests/fuzz/README.md).
 *
 * One small board is built once (2 MiB, -icount, a 2 MiB hard disk: the
 * seeds in seeds/snapshot/ are savevm files of guests run with -m 2).  Each
 * input goes through snapshot_parse as it is; a damaged file must be
 * refused there, by its checksum.  To reach the checks behind it the same
 * bytes go through again with their checksum made good: then every
 * section's fields must be checked (machine_load, the CPU state
 * included) and the input loaded or refused with one line, never a crash
 * or a sanitizer report.  After a load every device prints its state (the
 * monitor's `info`, to /dev/null: tables indexed by loaded fields) and the
 * pristine seed is loaded back so inputs do not depend on each other.
 *
 * At exit it prints how many inputs got how far, e.g.
 *   fuzz_snapshot: as given: 3 accepted, 41000 refused; checksum made good: 2104 loaded, 38900 refused
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/snapshot.h"
#include "machine/machine.h"
#include "tests/fuzz/fuzz.h"
#include "tests/test.h"

static struct machine *board;
static struct snapshot pristine;
static FILE *null_out;
static char disk[] = "/tmp/trapeze-fuzz-disk-XXXXXX";
static long raw_accepted, raw_refused, fixed_loaded, fixed_refused;
static uint64_t counter(void *opaque) { return 1000000; }
static uint8_t disk_byte(uint32_t sector, uint32_t i) { return (uint8_t)(sector ^ i); }

static void report(void)
{
    printf("fuzz_snapshot: as given: %ld accepted, %ld refused; checksum made good: %ld loaded, %ld refused\n",
           raw_accepted, raw_refused, fixed_loaded, fixed_refused);
    snapshot_free(&pristine);
    if (board) {
        machine_destroy(board);
        free(board);
    }
    if (null_out) fclose(null_out);
    unlink(disk);
}

static void die(const char *what)
{
    fprintf(stderr, "fuzz_snapshot: %s\n", what);
    exit(2);
}

void fuzz_init(void)
{
    struct machine_config c = { 0 };
    if (test_make_image(disk, 4032, disk_byte) < 0) die("cannot make the disk image");
    c.serial = "none";
    c.debugcon = "none";
    c.icount = true;
    c.ram_size = 2u << 20;
    c.display = MACHINE_DISPLAY_NONE;
    c.drives[DISK_IDE_MASTER].path = disk;
    board = calloc(1, sizeof *board);
    if (!board || machine_init(board, &c) < 0) die("cannot build the board");
    vclock_set_counter(&board->clock, counter, NULL);
    null_out = fopen("/dev/null", "w");
    if (!null_out) die("cannot open /dev/null");
    /* The board's own state, with a power-on CPU: what every input is undone to. */
    const char *why = "";
    struct x86_state cpu;
    x86_state_power_on(&cpu, 0x522);
    snapshot_init(&pristine);
    if (machine_save(board, &pristine, &why) < 0 ||
        snapshot_put(&pristine, MACHINE_CPU_SECTION, MACHINE_CPU_SECTION_VERSION, &cpu, sizeof cpu) < 0)
        die("cannot save the board");
    atexit(report);
}

/* A refusal is one line: not empty, no newline. */
static void check_line(const struct snapshot_check *c)
{
    if (!c->why[0] || strchr(c->why, '\n')) {
        fprintf(stderr, "fuzz_snapshot: a refusal without its one line: \"%s\"\n", c->why);
        abort();
    }
}

/* Load s into the board; 0 loaded, 1 refused. */
static int load(const struct snapshot *s)
{
    struct snapshot_check c = { .apply = true };
    struct x86_state cpu;
    if (machine_load(board, s, &cpu, &c) < 0) {
        check_line(&c);
        return 1;
    }
    for (int k = 0; k < board->device_count; k++)
        if (board->devices[k].info) board->devices[k].info(board->devices[k].opaque, null_out);
    c = (struct snapshot_check){ .apply = true };
    if (machine_load(board, &pristine, &cpu, &c) < 0) die(c.why);
    return 0;
}

int fuzz_one(const uint8_t *data, size_t size)
{
    struct snapshot s;
    struct snapshot_check c = { .apply = true };
    int raw = 1;
    if (snapshot_parse(&s, data, size, &c) == 0) {
        raw = load(&s);
        snapshot_free(&s);
    } else {
        check_line(&c);
    }
    if (raw == 0) raw_accepted++;
    else raw_refused++;
    if (size < 20) return raw;

    uint8_t *fixed = malloc(size);
    if (!fixed) die("out of memory");
    memcpy(fixed, data, size);
    uint32_t crc = snapshot_crc32(fixed, size - 4);
    memcpy(fixed + size - 4, &crc, 4);
    c = (struct snapshot_check){ .apply = true };
    int r = 1;
    if (snapshot_parse(&s, fixed, size, &c) == 0) {
        r = load(&s);
        snapshot_free(&s);
    } else {
        check_line(&c);
    }
    free(fixed);
    if (r == 0) fixed_loaded++;
    else fixed_refused++;
    return raw;
}
