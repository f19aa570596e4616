/*
 * test_multiboot.c - the Multiboot v1 loader against the specification
 * (0.6.96, sections 3.1-3.3): ELF and a.out-kludge images built here in a
 * temporary directory, the entry state, the info structure, and the
 * errors for images that are not Multiboot or do not fit.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machine/multiboot.h"
#include "tests/test.h"

#define RAM (32u << 20)

static char dir[64];

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }

static const char *path_in_dir(const char *name)
{
    static char buf[8][128];
    static int n;
    char *p = buf[n++ % 8];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/trapeze-test-mb-XXXXXX");
        if (!mkdtemp(dir)) { perror("mkdtemp"); exit(1); }
    }
    snprintf(p, 128, "%s/%s", dir, name);
    return p;
}

static const char *write_file(const char *name, const void *data, size_t len)
{
    const char *path = path_in_dir(name);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    fwrite(data, 1, len, f);
    fclose(f);
    return path;
}

/* A Multiboot header at 'p' with 'flags' and a right checksum. */
static void mb_header(uint8_t *p, uint32_t flags)
{
    put32(p, MULTIBOOT_HEADER_MAGIC);
    put32(p + 4, flags);
    put32(p + 8, 0u - MULTIBOOT_HEADER_MAGIC - flags);
}

/*
 * An ELF32 i386 executable: text (0x100 bytes at file 0x1000 -> 1 MiB,
 * with the Multiboot header at its start) and data (0x10 bytes of 0x77 at
 * file 0x1100 -> 0x102000, memsz 0x1000: bss after it).
 */
static size_t make_elf(uint8_t *f, uint32_t entry, uint32_t vaddr_shift)
{
    memset(f, 0, 0x1200);
    memcpy(f, "\x7F" "ELF", 4);
    f[4] = 1; f[5] = 1; f[6] = 1;                  /* ELFCLASS32, little-endian, version */
    put16(f + 16, 2);                              /* ET_EXEC */
    put16(f + 18, 3);                              /* EM_386 */
    put32(f + 20, 1);
    put32(f + 24, entry);
    put32(f + 28, 52);                             /* e_phoff */
    put16(f + 40, 52);                             /* e_ehsize */
    put16(f + 42, 32);                             /* e_phentsize */
    put16(f + 44, 2);                              /* e_phnum */
    uint8_t *ph = f + 52;
    put32(ph + 0, 1); put32(ph + 4, 0x1000); put32(ph + 8, 0x100000 + vaddr_shift);
    put32(ph + 12, 0x100000); put32(ph + 16, 0x100); put32(ph + 20, 0x100);
    ph += 32;
    put32(ph + 0, 1); put32(ph + 4, 0x1100); put32(ph + 8, 0x102000 + vaddr_shift);
    put32(ph + 12, 0x102000); put32(ph + 16, 0x10); put32(ph + 20, 0x1000);
    mb_header(f + 0x1000, MULTIBOOT_HDR_PAGE_ALIGN | MULTIBOOT_HDR_MEMORY);
    memset(f + 0x1100, 0x77, 0x10);
    return 0x1110;
}

static struct bus *new_bus(void)
{
    static struct bus bus;   /* large: the port table */
    CHECK_EQ(bus_init(&bus, RAM), 0);
    return &bus;
}

static uint32_t rd32(struct bus *b, uint32_t a) { uint32_t v = 0; bus_read_block(b, a, &v, 4); return v; }
static uint8_t rd8(struct bus *b, uint32_t a) { uint8_t v = 0; bus_read_block(b, a, &v, 1); return v; }
static void rdstr(struct bus *b, uint32_t a, char *out, size_t len)
{
    size_t i = 0;
    for (; i + 1 < len; i++)
        if ((out[i] = (char)rd8(b, a + (uint32_t)i)) == 0)
            return;
    out[i] = 0;
}

TEST(multiboot_elf_entry_state)
{
    static uint8_t f[0x1200];
    size_t n = make_elf(f, 0x100010, 0);
    const char *k = write_file("elf", f, n);
    struct bus *b = new_bus();
    uint8_t ff[0x1000];
    memset(ff, 0xFF, sizeof ff);
    bus_write_block(b, 0x102000, ff, sizeof ff);   /* the bss must come out zeroed */
    struct x86_state s;
    CHECK_EQ(multiboot_load(b, k, NULL, NULL, &s), 0);
    CHECK_EQ(s.regs[R_EAX], MULTIBOOT_BOOTLOADER_MAGIC);
    CHECK_EQ(s.eip, 0x100010);
    CHECK_EQ(s.cr0, CR0_PE | CR0_ET);
    CHECK_EQ(s.eflags & (EFLAGS_IF | EFLAGS_VM), 0);
    CHECK_EQ(s.seg[SEG_CS].selector, MULTIBOOT_CODE_SELECTOR);
    CHECK_EQ(s.seg[SEG_CS].base, 0);
    CHECK_EQ(s.seg[SEG_CS].limit, 0xFFFFFFFFu);
    CHECK_EQ(s.seg[SEG_CS].attr & (SEG_ATTR_CODE | SEG_ATTR_R | SEG_ATTR_P | SEG_ATTR_DB),
             SEG_ATTR_CODE | SEG_ATTR_R | SEG_ATTR_P | SEG_ATTR_DB);
    for (int r = 0; r < SEG_COUNT; r++) {
        if (r == SEG_CS) continue;
        CHECK_EQ(s.seg[r].selector, MULTIBOOT_DATA_SELECTOR);
        CHECK_EQ(s.seg[r].limit, 0xFFFFFFFFu);
        CHECK_EQ(s.seg[r].attr & (SEG_ATTR_CODE | SEG_ATTR_W | SEG_ATTR_P), SEG_ATTR_W | SEG_ATTR_P);
    }
    CHECK(s.a20_enabled);
    /* The GDT the selectors name: flat code at 0x10, flat data at 0x18. */
    CHECK_EQ(s.gdtr.limit, 31);
    CHECK_EQ(rd32(b, s.gdtr.base + 0x10), 0x0000FFFF);
    CHECK_EQ(rd32(b, s.gdtr.base + 0x14), 0x00CF9B00);
    CHECK_EQ(rd32(b, s.gdtr.base + 0x1C), 0x00CF9300);
    /* Segments loaded, data then bss. */
    CHECK_EQ(rd32(b, 0x100000), MULTIBOOT_HEADER_MAGIC);
    CHECK_EQ(rd8(b, 0x10200F), 0x77);
    CHECK_EQ(rd8(b, 0x102010), 0);
    CHECK_EQ(rd8(b, 0x102FFF), 0);
    bus_destroy(b);
}

TEST(multiboot_elf_higher_half_entry)
{
    static uint8_t f[0x1200];
    /* Linked at 0xC0100000, loaded at 1 MiB, e_entry virtual. */
    size_t n = make_elf(f, 0xC0100020u, 0xC0000000u);
    const char *k = write_file("elf-hh", f, n);
    struct bus *b = new_bus();
    struct x86_state s;
    CHECK_EQ(multiboot_load(b, k, NULL, NULL, &s), 0);
    CHECK_EQ(s.eip, 0x100020);
    bus_destroy(b);
}

TEST(multiboot_info_structure)
{
    static uint8_t f[0x1200];
    size_t n = make_elf(f, 0x100010, 0);
    const char *k = write_file("kernel", f, n);
    const char *m1 = write_file("mod1", "module-one", 10);
    const char *m2 = write_file("mod2", "2", 1);
    char initrd[400], want[300];
    snprintf(initrd, sizeof initrd, "%s arg1 arg2,%s", m1, m2);
    struct bus *b = new_bus();
    struct x86_state s;
    CHECK_EQ(multiboot_load(b, k, "console=ttyS0 quiet", initrd, &s), 0);
    uint32_t mbi = s.regs[R_EBX];
    uint32_t flags = rd32(b, mbi + MBI_FLAGS);
    CHECK_EQ(flags & (MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE | MULTIBOOT_INFO_MODS |
                      MULTIBOOT_INFO_MMAP | MULTIBOOT_INFO_LOADER_NAME),
             MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE | MULTIBOOT_INFO_MODS |
             MULTIBOOT_INFO_MMAP | MULTIBOOT_INFO_LOADER_NAME);
    CHECK_EQ(rd32(b, mbi + MBI_MEM_LOWER), 640);
    CHECK_EQ(rd32(b, mbi + MBI_MEM_UPPER), (RAM - 0x100000) / 1024);
    char str[300];
    rdstr(b, rd32(b, mbi + MBI_CMDLINE), str, sizeof str);
    snprintf(want, sizeof want, "%s console=ttyS0 quiet", k);   /* QEMU: "KERNEL APPEND" */
    CHECK_STR(str, want);
    rdstr(b, rd32(b, mbi + MBI_BOOT_LOADER_NAME), str, sizeof str);
    CHECK_STR(str, "trapeze");

    /* Modules: after the kernel's end (0x103000), page aligned, in order. */
    CHECK_EQ(rd32(b, mbi + MBI_MODS_COUNT), 2);
    uint32_t mods = rd32(b, mbi + MBI_MODS_ADDR);
    uint32_t start1 = rd32(b, mods), end1 = rd32(b, mods + 4);
    uint32_t start2 = rd32(b, mods + 16), end2 = rd32(b, mods + 20);
    CHECK_EQ(start1, 0x103000);
    CHECK_EQ(end1, start1 + 10);
    CHECK_EQ(start2 & 0xFFF, 0);
    CHECK(start2 >= end1);
    CHECK_EQ(end2, start2 + 1);
    CHECK_EQ(rd8(b, start1), 'm');
    CHECK_EQ(rd8(b, start2), '2');
    rdstr(b, rd32(b, mods + 8), str, sizeof str);
    snprintf(want, sizeof want, "%s arg1 arg2", m1);            /* the whole entry, as QEMU */
    CHECK_STR(str, want);
    rdstr(b, rd32(b, mods + 24), str, sizeof str);
    CHECK_STR(str, m2);

    /* The memory map: size 20 before each entry; four entries. */
    static const uint32_t want_map[4][3] = {
        { 0, 0x9FC00, 1 }, { 0x9FC00, 0x400, 2 }, { 0xF0000, 0x10000, 2 }, { 0x100000, RAM - 0x100000, 1 },
    };
    CHECK_EQ(rd32(b, mbi + MBI_MMAP_LENGTH), 4 * 24);
    uint32_t e = rd32(b, mbi + MBI_MMAP_ADDR);
    for (int i = 0; i < 4; i++, e += 24) {
        CHECK_EQ(rd32(b, e), 20);
        CHECK_EQ(rd32(b, e + 4), want_map[i][0]);
        CHECK_EQ(rd32(b, e + 8), 0);
        CHECK_EQ(rd32(b, e + 12), want_map[i][1]);
        CHECK_EQ(rd32(b, e + 20), want_map[i][2]);
    }
    /* Nothing of the boot block overlaps the kernel or the modules. */
    CHECK(mbi + MBI_SIZE <= 0x100000 || mbi >= end2);
    bus_destroy(b);
}

TEST(multiboot_aout_kludge)
{
    /* A flat binary: header at file offset 16, loaded at 2 MiB, 0x1000 of bss. */
    static uint8_t f[0x800];
    memset(f, 0x90, sizeof f);
    uint32_t flags = MULTIBOOT_HDR_AOUT_KLUDGE | MULTIBOOT_HDR_MEMORY;
    mb_header(f + 16, flags);
    put32(f + 16 + 12, 0x200010);   /* header_addr */
    put32(f + 16 + 16, 0x200000);   /* load_addr */
    put32(f + 16 + 20, 0x200800);   /* load_end_addr */
    put32(f + 16 + 24, 0x201800);   /* bss_end_addr */
    put32(f + 16 + 28, 0x200040);   /* entry_addr */
    const char *k = write_file("aout", f, sizeof f);
    struct bus *b = new_bus();
    uint8_t ff[16];
    memset(ff, 0xFF, sizeof ff);
    bus_write_block(b, 0x201000, ff, sizeof ff);
    struct x86_state s;
    CHECK_EQ(multiboot_load(b, k, NULL, NULL, &s), 0);
    CHECK_EQ(s.eip, 0x200040);
    CHECK_EQ(rd8(b, 0x200000), 0x90);
    CHECK_EQ(rd32(b, 0x200010), MULTIBOOT_HEADER_MAGIC);
    CHECK_EQ(rd8(b, 0x2007FF), 0x90);
    CHECK_EQ(rd8(b, 0x201000), 0);                 /* bss zeroed */
    char str[200], want[200];
    rdstr(b, rd32(b, s.regs[R_EBX] + MBI_CMDLINE), str, sizeof str);
    snprintf(want, sizeof want, "%s ", k);         /* no -append: "KERNEL ", as QEMU */
    CHECK_STR(str, want);
    bus_destroy(b);
}

TEST(multiboot_low_kernel_moves_boot_block)
{
    /* A kludge kernel at 0x400..0x2400 sits on the low boot block spot. */
    static uint8_t f[0x2000];
    memset(f, 0xF4, sizeof f);
    mb_header(f, MULTIBOOT_HDR_AOUT_KLUDGE);
    put32(f + 12, 0x400); put32(f + 16, 0x400); put32(f + 20, 0); put32(f + 24, 0); put32(f + 28, 0x420);
    const char *k = write_file("low", f, sizeof f);
    struct bus *b = new_bus();
    struct x86_state s;
    CHECK_EQ(multiboot_load(b, k, NULL, NULL, &s), 0);
    CHECK(s.regs[R_EBX] >= 0x2400);
    CHECK(s.gdtr.base >= 0x2400);
    CHECK_EQ(rd8(b, 0x600), 0xF4);                 /* the kernel is intact */
    bus_destroy(b);
}

TEST(multiboot_errors)
{
    struct bus *b = new_bus();
    struct x86_state s;
    static uint8_t f[0x2400];

    CHECK_EQ(multiboot_load(b, path_in_dir("does-not-exist"), NULL, NULL, &s), -ENOENT);

    memset(f, 0x55, sizeof f);                     /* no header at all */
    CHECK_EQ(multiboot_load(b, write_file("junk", f, sizeof f), NULL, NULL, &s), -ENOEXEC);

    memset(f, 0, sizeof f);                        /* a header past the first 8 KiB */
    mb_header(f + 8192, 0);
    CHECK_EQ(multiboot_load(b, write_file("late", f, sizeof f), NULL, NULL, &s), -ENOEXEC);

    size_t n = make_elf(f, 0x100010, 0);           /* bad checksum */
    put32(f + 0x1008, 0);
    CHECK_EQ(multiboot_load(b, write_file("cksum", f, n), NULL, NULL, &s), -ENOEXEC);

    n = make_elf(f, 0x100010, 0);                  /* truncated: program headers past the end */
    put32(f + 28, 0x10000);
    CHECK_EQ(multiboot_load(b, write_file("trunc", f, n), NULL, NULL, &s), -ENOEXEC);

    n = make_elf(f, 0x100010, 0);                  /* a segment's file bytes past the end */
    put32(f + 52 + 32 + 16, 0x1000);
    CHECK_EQ(multiboot_load(b, write_file("short", f, n), NULL, NULL, &s), -ENOEXEC);

    n = make_elf(f, 0x100010, 0);                  /* a 64-bit ELF */
    f[4] = 2;
    CHECK_EQ(multiboot_load(b, write_file("elf64", f, n), NULL, NULL, &s), -ENOEXEC);

    n = make_elf(f, 0x100010, 0);                  /* a segment beyond the 32 MiB of RAM */
    put32(f + 52 + 32 + 12, 0x3000000);
    CHECK_EQ(multiboot_load(b, write_file("high", f, n), NULL, NULL, &s), -EFBIG);

    n = make_elf(f, 0x100010, 0);                  /* a required feature we lack (bit 3) */
    mb_header(f + 0x1000, 0x8);
    CHECK_EQ(multiboot_load(b, write_file("feature", f, n), NULL, NULL, &s), -ENOEXEC);

    memset(f, 0, 0x100);                           /* kludge: load_end past the file */
    mb_header(f, MULTIBOOT_HDR_AOUT_KLUDGE);
    put32(f + 12, 0x100000); put32(f + 16, 0x100000); put32(f + 20, 0x110000);
    put32(f + 24, 0); put32(f + 28, 0x100000);
    CHECK_EQ(multiboot_load(b, write_file("kludge", f, 0x100), NULL, NULL, &s), -ENOEXEC);

    memset(f, 0, 0x100);                           /* neither ELF nor kludge */
    mb_header(f, 0);
    CHECK_EQ(multiboot_load(b, write_file("plain", f, 0x100), NULL, NULL, &s), -ENOEXEC);

    n = make_elf(f, 0x100010, 0);                  /* a module that is missing */
    const char *k = write_file("kernel-ok", f, n);
    CHECK_EQ(multiboot_load(b, k, NULL, path_in_dir("no-module"), &s), -ENOENT);
    bus_destroy(b);
}

/*
 * Two segments on the same bytes: refused, as QEMU refuses them (checked
 * with qemu-system-i386 7.2: "Some ROM regions are overlapping").  Before
 * the fix the second silently overwrote the first.  Touching ones load.
 */
TEST(multiboot_overlapping_segments)
{
    struct bus *b = new_bus();
    struct x86_state s;
    static uint8_t f[0x1200];
    size_t n = make_elf(f, 0x100010, 0);
    put32(f + 52 + 32 + 12, 0x1000F0);             /* data over text's last bytes */
    CHECK_EQ(multiboot_load(b, write_file("overlap", f, n), NULL, NULL, &s), -ENOEXEC);
    n = make_elf(f, 0x100010, 0);
    put32(f + 52 + 32 + 12, 0x100000);             /* both at 1 MiB */
    CHECK_EQ(multiboot_load(b, write_file("same", f, n), NULL, NULL, &s), -ENOEXEC);
    n = make_elf(f, 0x100010, 0);
    put32(f + 52 + 32 + 12, 0x100100);             /* data right after text */
    CHECK_EQ(multiboot_load(b, write_file("touching", f, n), NULL, NULL, &s), 0);
    bus_destroy(b);
}

/*
 * An entry point outside every segment, even outside RAM, loads (QEMU
 * jumps there too, checked with qemu-system-i386 7.2); the CPU starts there.
 */
TEST(multiboot_entry_outside_segments_runs)
{
    struct bus *b = new_bus();
    struct x86_state s;
    static uint8_t f[0x1200];
    size_t n = make_elf(f, 0x300000, 0);
    CHECK_EQ(multiboot_load(b, write_file("entry-out", f, n), NULL, NULL, &s), 0);
    CHECK_EQ(s.eip, 0x300000);
    n = make_elf(f, 0xF0000000u, 0);
    CHECK_EQ(multiboot_load(b, write_file("entry-high", f, n), NULL, NULL, &s), 0);
    CHECK_EQ(s.eip, 0xF0000000u);
    bus_destroy(b);
}

/* A FIFO as kernel or module: one line, no wait (before: open() hung). */
TEST(multiboot_fifo_refused)
{
    struct bus *b = new_bus();
    struct x86_state s;
    static uint8_t f[0x1200];
    const char *fifo = path_in_dir("fifo");
    CHECK_EQ(mkfifo(fifo, 0600), 0);
    alarm(10);
    CHECK_EQ(multiboot_load(b, fifo, NULL, NULL, &s), -EINVAL);
    size_t n = make_elf(f, 0x100010, 0);
    CHECK_EQ(multiboot_load(b, write_file("kernel-fifo-mod", f, n), NULL, fifo, &s), -EINVAL);
    alarm(0);
    bus_destroy(b);
}

/* Remove the temporary directory when the tests are done. */
__attribute__((destructor)) static void cleanup(void)
{
    if (dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) { /* a leftover in /tmp is harmless */ }
    }
}

TEST_MAIN()
