/*
 * test_snapshot_file.c - a snapshot file is input: its checksum and format
 * version are checked before anything else, every field a device reads
 * from it is range-checked, and a refused loadvm leaves the machine as it
 * was (all or nothing).  savevm never writes through a stale FILE.tmp.
 *
 * The oracles: CRC-32's check value (CBF43926 for "123456789", the
 * catalogue value of CRC-32/ISO-HDLC), and the machine itself: after a
 * refused load its every section saves again byte for byte as before.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/snapshot.h"
#include "devices/cmos_rtc.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "machine/machine.h"
#include "mmu/bus.h"
#include "tests/test.h"

static uint64_t ns_now;
static uint64_t counter(void *opaque) { return ns_now; }

static uint8_t disk_byte(uint32_t sector, uint32_t i) { return (uint8_t)(sector + i); }
static char disk[] = "/tmp/trapeze-snapdisk-XXXXXX";
static bool disk_made;   /* (mkstemp's letters may include an X: a flag, not strchr) */

/* A small board: 2 MiB, a 2 MiB hard disk, no window; 'icount': 1 instruction = 1 ns. */
static struct machine *board(bool icount, const char *rtc)
{
    struct machine_config c = { 0 };
    if (!disk_made && !(disk_made = test_make_image(disk, 4032, disk_byte) >= 0)) {
        printf("  cannot make the disk image %s\n", disk);
        return NULL;
    }
    c.drives[DISK_IDE_MASTER].path = disk;
    c.serial = "none";
    c.debugcon = "none";
    c.icount = icount;
    c.rtc = rtc;
    c.ram_size = 2u << 20;
    c.display = MACHINE_DISPLAY_NONE;
    struct machine *m = calloc(1, sizeof *m);
    int err = m ? machine_init(m, &c) : -ENOMEM;
    if (err < 0) {
        printf("  machine_init: %s\n", strerror(-err));
        free(m);
        return NULL;
    }
    if (icount) vclock_set_counter(&m->clock, counter, NULL);
    return m;
}

static void board_free(struct machine *m)
{
    if (!m) return;
    machine_destroy(m);
    free(m);
}

static void out8(struct machine *m, uint16_t port, uint8_t v) { bus_port_write(&m->bus, port, v, 1); }

/* The board's state and a CPU state (the power-on one) as a snapshot. */
static bool save(struct machine *m, struct snapshot *s)
{
    const char *why = "";
    struct x86_state cpu;
    x86_state_power_on(&cpu, 0x522);
    snapshot_init(s);
    return machine_save(m, s, &why) == 0 &&
           snapshot_put(s, MACHINE_CPU_SECTION, MACHINE_CPU_SECTION_VERSION, &cpu, sizeof cpu) == 0;
}

/* Every section of 'a' equals the one of 'b' (same machine, before and after). */
static bool same_sections(const struct snapshot *a, const struct snapshot *b)
{
    if (a->count != b->count) return false;
    for (int k = 0; k < a->count; k++) {
        const struct snapshot_section *x = &a->sections[k], *y = snapshot_find(b, x->name);
        if (!y || x->size != y->size || memcmp(x->data, y->data, x->size) != 0) {
            printf("  section %s changed\n", x->name);
            return false;
        }
    }
    return true;
}

TEST(crc32_check_value)
{
    CHECK_EQ(snapshot_crc32("123456789", 9), 0xCBF43926u);
    CHECK_EQ(snapshot_crc32("", 0), 0);
}

static char dir[] = "/tmp/trapeze-snapfile-XXXXXX";
static bool dir_made;
static char *path_in_dir(const char *name)
{
    static char p[128];
    if (!dir_made) CHECK((dir_made = mkdtemp(dir) != NULL));
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static bool write_bytes(const char *path, const uint8_t *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(d, 1, n, f) == n;
    if (f) fclose(f);
    return ok;
}

TEST(checksum_and_version_checked_first)
{
    struct snapshot s, r;
    struct snapshot_check c = { .apply = true };
    const char *why = "";
    snapshot_init(&s);
    CHECK_EQ(snapshot_put(&s, "one", 1, "abcd", 4), 0);
    char *p = path_in_dir("good");
    CHECK_EQ(snapshot_write_file(&s, p, &why), 0);
    CHECK_EQ(snapshot_read_file(&r, p, &c), 0);
    CHECK(snapshot_find(&r, "one") && memcmp(snapshot_find(&r, "one")->data, "abcd", 4) == 0);
    snapshot_free(&r);

    uint8_t *d;
    size_t n;
    CHECK_EQ(snapshot_serialize(&s, &d, &n), 0);
    d[n - 6] ^= 0x20;                                  /* one bit of the data */
    CHECK(snapshot_parse(&r, d, n, &c) < 0);
    CHECK(strstr(c.why, "checksum") != NULL);
    d[n - 6] ^= 0x20;
    d[8] = 1;                                          /* format version 1: no checksum */
    CHECK(snapshot_parse(&r, d, n, &c) < 0);
    CHECK(strstr(c.why, "format version 1 not supported") != NULL);
    CHECK(snapshot_parse(&r, d, 10, &c) < 0);          /* truncated */
    free(d);
    snapshot_free(&s);
}

/*
 * A file without its last device section: loadvm refuses it, naming the
 * section, and the machine is as it was: the CMOS clock did not jump to
 * the snapshot's time, the PIT did not take its counters (the bug: both
 * had been loaded before the missing section was noticed).
 */
static void refused_load_changes_nothing(bool icount)
{
    ns_now = 5000000;
    struct machine *a = board(icount, "base=2001-01-01T00:00:00"), *b = board(icount, "base=2020-06-15T12:00:00");
    CHECK(a && b);
    if (!a || !b) goto out;
    out8(a, 0x43, 0x34); out8(a, 0x40, 0xA9); out8(a, 0x40, 0x04);   /* PIT counter 0: mode 2, 1193 */
    out8(b, 0x43, 0x36); out8(b, 0x40, 0x00); out8(b, 0x40, 0x10);   /* mode 3, 4096 */
    struct snapshot s, before, after;
    CHECK(save(a, &s));
    /* Drop the last device section (the registry's last device saves last). */
    const struct machine_device *last = &b->devices[b->device_count - 1];
    struct snapshot one;
    snapshot_init(&one);
    CHECK_EQ(last->save(last->opaque, &one), 0);
    const char *gone = one.sections[one.count - 1].name;
    struct snapshot cut;
    snapshot_init(&cut);
    for (int k = 0; k < s.count; k++)
        if (strcmp(s.sections[k].name, gone) != 0)
            CHECK_EQ(snapshot_put(&cut, s.sections[k].name, s.sections[k].version, s.sections[k].data,
                                  s.sections[k].size), 0);
    CHECK_EQ(cut.count, s.count - 1);

    struct pit_state pit_before = b->pit->s;
    struct cmos_rtc_state rtc_before = b->rtc->s;
    uint64_t clock_before = vclock_now(&b->clock);
    CHECK(save(b, &before));
    struct snapshot_check c = { .apply = true };
    struct x86_state cpu;
    CHECK(machine_load(b, &cut, &cpu, &c) < 0);
    char want[80];
    snprintf(want, sizeof want, "section %s: missing", gone);
    CHECK(strstr(c.why, want) != NULL);
    if (!strstr(c.why, want)) printf("  why: %s\n", c.why);
    CHECK(memcmp(&b->pit->s, &pit_before, sizeof pit_before) == 0);
    CHECK(memcmp(&b->rtc->s, &rtc_before, sizeof rtc_before) == 0);
    if (icount) {
        CHECK_EQ(vclock_now(&b->clock), clock_before);
        CHECK(save(b, &after));
        CHECK(same_sections(&before, &after));
        snapshot_free(&after);
    }
    /* The whole file still loads (so the refusal was the missing section). */
    CHECK_EQ(machine_load(b, &s, &cpu, &c), 0);
    CHECK(memcmp(&b->pit->s, &a->pit->s, sizeof b->pit->s) == 0);
    snapshot_free(&one);
    snapshot_free(&cut);
    snapshot_free(&before);
    snapshot_free(&s);
out:
    board_free(a);
    board_free(b);
}

TEST(refused_load_changes_nothing_icount) { refused_load_changes_nothing(true); }
TEST(refused_load_changes_nothing_realtime) { refused_load_changes_nothing(false); }

/* Set byte 'off' of section 'name' to 'v', load, return the refusal. */
static const char *poke_and_load(struct machine *m, const char *name, size_t off, uint8_t v)
{
    static struct snapshot_check c;
    struct snapshot s;
    struct x86_state cpu;
    c = (struct snapshot_check){ .apply = true };
    snprintf(c.why, sizeof c.why, "(accepted)");
    if (!save(m, &s)) return "(save failed)";
    struct snapshot_section *sec = (struct snapshot_section *)snapshot_find(&s, name);
    if (sec && off < sec->size) sec->data[off] = v;
    machine_load(m, &s, &cpu, &c);
    snapshot_free(&s);
    return c.why;
}

/* Booleans that are neither 0 nor 1 (UBSan's "load of value 2 ... _Bool"), enums, indices. */
TEST(damaged_fields_named)
{
    ns_now = 0;
    struct machine *m = board(true, NULL);
    CHECK(m != NULL);
    if (!m) return;
    struct { const char *section; size_t off; uint8_t v; const char *want; } cases[] = {
        { "pit", offsetof(struct pit_state, counter[0].gate), 2, "section pit: field counter0.gate: 2 is not a boolean" },
        { "pit", offsetof(struct pit_state, counter[2].mode), 6, "section pit: field counter2.mode: 6 is not 0-5" },
        { "pic0", offsetof(struct pic8259_chip, read_isr), 7, "section pic0: field read_isr: 7 is not a boolean" },
        { "pic1", offsetof(struct pic8259_chip, init_step), 1, "section pic1: field init_step: 1 is not 0, 2, 3 or 4" },
        { "cmos", offsetof(struct cmos_rtc_state, index), 0x80, "section cmos: field index: 128 is out of range" },
        { "cpu", offsetof(struct x86_state, halted), 2, "section cpu: field halted: 2 is not a boolean" },
        { "cpu", offsetof(struct x86_state, cpl), 4, "section cpu: field cpl: 4 is out of range (0-3)" },
        { "cpu", offsetof(struct x86_state, a20_enabled), 0xFF, "section cpu: field a20_enabled: 255 is not a boolean" },
        { "board", 4, 3, "section board: field a20_enabled" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *why = poke_and_load(m, cases[k].section, cases[k].off, cases[k].v);
        if (!strstr(why, cases[k].want)) printf("  %s byte %zu = %u: got \"%s\"\n", cases[k].section, cases[k].off, cases[k].v, why);
        CHECK(strstr(why, cases[k].want) != NULL);
    }
    board_free(m);
}

/* A stale FILE.tmp of a killed save, here a symlink to another file: savevm
   removes it and writes its own, never through it (before: fopen "wb"
   truncated and overwrote the link's target). */
TEST(stale_tmp_never_written_through)
{
    struct snapshot s, r;
    const char *why = "";
    struct snapshot_check c = { .apply = true };
    snapshot_init(&s);
    CHECK_EQ(snapshot_put(&s, "one", 1, "abcd", 4), 0);
    char victim[128], tmp[140], file[128];
    snprintf(victim, sizeof victim, "%s", path_in_dir("victim"));
    snprintf(file, sizeof file, "%s", path_in_dir("snap"));
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    CHECK(write_bytes(victim, (const uint8_t *)"precious", 8));
    CHECK_EQ(symlink(victim, tmp), 0);
    CHECK_EQ(snapshot_write_file(&s, file, &why), 0);
    struct stat st;
    CHECK(lstat(tmp, &st) != 0);                       /* no FILE.tmp left */
    CHECK(stat(victim, &st) == 0 && st.st_size == 8);  /* the target untouched */
    CHECK_EQ(snapshot_read_file(&r, file, &c), 0);
    snapshot_free(&r);
    /* A plain stale FILE.tmp (as large as a killed save left it) is replaced too. */
    CHECK(write_bytes(tmp, (const uint8_t *)"half a snapshot", 15));
    CHECK_EQ(snapshot_write_file(&s, file, &why), 0);
    CHECK(lstat(tmp, &st) != 0);
    CHECK_EQ(snapshot_read_file(&r, file, &c), 0);
    snapshot_free(&r);
    snapshot_free(&s);
    unlink(victim);
    unlink(file);
    rmdir(dir);
    unlink(disk);
}

TEST_MAIN()
