/*
 * multiboot.c - the Multiboot v1 loader (see multiboot.h for the formats,
 * the memory layout it builds and the entry state).
 *
 * Order of work: read and check everything first (kernel, every module,
 * every address range), and only then write guest RAM, so a bad image
 * never leaves a half-loaded machine behind.
 */
#include "machine/multiboot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The PC's hole for VGA memory and ROMs: nothing loads there. */
#define PC_HOLE_START 0x000A0000u
#define PC_HOLE_END   0x00100000u
#define PC_LOW_RAM_END 0x0009FC00u   /* 639 KiB: the EBDA starts above */
#define BOOT_BLOCK_LOW 0x00000500u   /* first free byte after the BIOS data area */

/* ELF32 (System V ABI, i386 supplement): the fields we read, by offset. */
#define ELF_EHDR_SIZE   52
#define ELF_E_TYPE      16   /* u16: 2 = ET_EXEC */
#define ELF_E_MACHINE   18   /* u16: 3 = EM_386 */
#define ELF_E_ENTRY     24   /* u32 */
#define ELF_E_PHOFF     28   /* u32: program header table offset */
#define ELF_E_PHENTSIZE 42   /* u16 */
#define ELF_E_PHNUM     44   /* u16 */
#define ELF_PHDR_SIZE   32
#define ELF_P_TYPE       0   /* u32: 1 = PT_LOAD */
#define ELF_P_OFFSET     4
#define ELF_P_VADDR      8
#define ELF_P_PADDR     12
#define ELF_P_FILESZ    16
#define ELF_P_MEMSZ     20
#define ELF_ET_EXEC 2
#define ELF_EM_386  3
#define ELF_PT_LOAD 1

#define MAX_SEGMENTS 32

static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | get16(p + 2) << 16; }
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static uint32_t align_up(uint32_t v, uint32_t a) { return (v + a - 1) & ~(a - 1); }

/* One piece of the image: 'filesz' bytes from 'data', then zeroes up to 'memsz'. */
struct segment {
    uint32_t paddr, filesz, memsz;
    const uint8_t *data;
};

struct image {
    const char *path;
    uint8_t *file;
    uint32_t size;
    struct segment seg[MAX_SEGMENTS];
    int nseg;
    uint32_t entry;
    uint32_t low, high;   /* the physical range the segments cover */
    uint32_t ram_size;
};

struct module {
    char *entry;          /* "path args": the module's string */
    uint8_t *data;
    uint32_t size;
    uint32_t addr;
};

/*
 * Read a whole regular file.  Prints one line and returns -errno on failure.
 * O_NONBLOCK: a FIFO's open() would otherwise wait for a writer forever,
 * before fstat could tell it is no file (it has no effect on a regular file).
 */
static int read_file(const char *path, uint32_t limit, uint8_t **out, uint32_t *size)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    int err;

    if (fd < 0) {
        err = errno;
        fprintf(stderr, "trapeze: %s: %s\n", path, strerror(err));
        return -err;
    }
    if (fstat(fd, &st) != 0) {
        err = errno;
        fprintf(stderr, "trapeze: %s: %s\n", path, strerror(err));
        close(fd);
        return -err;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "trapeze: %s: not a regular file (a %s)\n", path,
                S_ISFIFO(st.st_mode) ? "FIFO" : S_ISDIR(st.st_mode) ? "directory" :
                S_ISCHR(st.st_mode) ? "character device" : S_ISBLK(st.st_mode) ? "block device" :
                "socket or other special file");
        close(fd);
        return -EINVAL;
    }
    if ((uint64_t)st.st_size > limit) {
        fprintf(stderr, "trapeze: %s: %lld bytes do not fit in %u MiB of RAM (use -m)\n",
                path, (long long)st.st_size, limit >> 20);
        close(fd);
        return -EFBIG;
    }
    uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!buf) {
        fprintf(stderr, "trapeze: %s: out of host memory\n", path);
        close(fd);
        return -ENOMEM;
    }
    size_t done = 0;
    while (done < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = n < 0 ? errno : EIO;
            fprintf(stderr, "trapeze: %s: read error: %s\n", path, strerror(err));
            free(buf);
            close(fd);
            return -err;
        }
        done += (size_t)n;
    }
    close(fd);
    *out = buf;
    *size = (uint32_t)st.st_size;
    return 0;
}

/*
 * Check that [start, start + len) lies in RAM and clear of the VGA/ROM
 * hole.  'what' and 'path' name it in the error line.
 */
static int check_range(uint32_t ram_size, const char *path, const char *what,
                       uint32_t start, uint64_t len)
{
    uint64_t end = (uint64_t)start + len;
    if (end > ram_size) {
        fprintf(stderr, "trapeze: %s: %s at 0x%08x-0x%08llx lies outside the %u MiB of RAM (use -m)\n",
                path, what, start, (unsigned long long)end, ram_size >> 20);
        return -EFBIG;
    }
    if (start < PC_HOLE_END && end > PC_HOLE_START) {
        fprintf(stderr, "trapeze: %s: %s at 0x%08x-0x%08llx overlaps the VGA/BIOS hole 0xA0000-0xFFFFF\n",
                path, what, start, (unsigned long long)end);
        return -ENOEXEC;
    }
    return 0;
}

static int malformed(const char *path, const char *why)
{
    fprintf(stderr, "trapeze: %s: truncated or malformed image (%s)\n", path, why);
    return -ENOEXEC;
}

static bool overlaps(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen);

/*
 * Check every segment's range and work out the image's low and high ends.
 * Two segments on the same bytes are refused, as QEMU refuses them ("Some
 * ROM regions are overlapping", checked with qemu-system-i386 7.2): one
 * would silently overwrite the other, its bss zeroing the other's code.
 */
static int check_range_image(struct image *im)
{
    im->low = 0xFFFFFFFFu;
    im->high = 0;
    for (int i = 0; i < im->nseg; i++) {
        const struct segment *sg = &im->seg[i];
        int err = check_range(im->ram_size, im->path, "segment", sg->paddr, sg->memsz);
        if (err < 0)
            return err;
        for (int j = 0; j < i; j++) {
            const struct segment *other = &im->seg[j];
            if (overlaps(sg->paddr, sg->memsz, other->paddr, other->memsz)) {
                fprintf(stderr, "trapeze: %s: segments at 0x%08x-0x%08llx and 0x%08x-0x%08llx overlap\n",
                        im->path, other->paddr, (unsigned long long)other->paddr + other->memsz,
                        sg->paddr, (unsigned long long)sg->paddr + sg->memsz);
                return -ENOEXEC;
            }
        }
        if (sg->paddr < im->low) im->low = sg->paddr;
        if (sg->paddr + sg->memsz > im->high) im->high = sg->paddr + sg->memsz;
    }
    return 0;
}

/* The a.out kludge: the header's own address fields say what goes where. */
static int parse_kludge(struct image *im, uint32_t hdr_off)
{
    const uint8_t *h = im->file + hdr_off;
    if (hdr_off + 32 > im->size)
        return malformed(im->path, "Multiboot header cut short");
    uint32_t header_addr = get32(h + 12), load_addr = get32(h + 16);
    uint32_t load_end = get32(h + 20), bss_end = get32(h + 24), entry = get32(h + 28);

    if (header_addr < load_addr || header_addr - load_addr > hdr_off)
        return malformed(im->path, "header_addr and load_addr put the load before the file start");
    uint32_t file_off = hdr_off - (header_addr - load_addr);
    uint32_t load_size;
    if (load_end == 0) {
        load_size = im->size - file_off;
    } else {
        if (load_end < load_addr)
            return malformed(im->path, "load_end_addr below load_addr");
        load_size = load_end - load_addr;
        if (load_size > im->size - file_off)
            return malformed(im->path, "load_end_addr beyond the end of the file");
    }
    uint64_t mem_end = (uint64_t)load_addr + load_size;
    if (bss_end != 0) {
        if (bss_end < mem_end)
            return malformed(im->path, "bss_end_addr below load_end_addr");
        mem_end = bss_end;
    }
    im->seg[0] = (struct segment){ load_addr, load_size, (uint32_t)(mem_end - load_addr),
                                   im->file + file_off };
    im->nseg = 1;
    im->entry = entry;
    return check_range_image(im);
}

/* ELF32 i386 executable: PT_LOAD segments at their physical addresses. */
static int parse_elf(struct image *im)
{
    const uint8_t *f = im->file;

    if (im->size < ELF_EHDR_SIZE)
        return malformed(im->path, "ELF header cut short");
    if (f[4] == 2) {
        fprintf(stderr, "trapeze: %s: a 64-bit ELF; Multiboot v1 needs a 32-bit i386 kernel\n", im->path);
        return -ENOEXEC;
    }
    if (f[4] != 1 || f[5] != 1)
        return malformed(im->path, "not a little-endian ELF32 file");
    if (get16(f + ELF_E_MACHINE) != ELF_EM_386)
        return malformed(im->path, "ELF machine is not i386");
    if (get16(f + ELF_E_TYPE) != ELF_ET_EXEC)
        return malformed(im->path, "ELF type is not an executable");
    uint32_t phoff = get32(f + ELF_E_PHOFF), phentsize = get16(f + ELF_E_PHENTSIZE);
    uint32_t phnum = get16(f + ELF_E_PHNUM);
    if (phentsize < ELF_PHDR_SIZE || phnum == 0 ||
        (uint64_t)phoff + (uint64_t)phnum * phentsize > im->size)
        return malformed(im->path, "program headers missing or past the end of the file");

    uint32_t entry = get32(f + ELF_E_ENTRY);
    bool entry_in_paddr = false;
    int32_t entry_shift = 0;
    bool entry_in_vaddr = false;
    im->nseg = 0;
    for (uint32_t i = 0; i < phnum; i++) {
        const uint8_t *ph = f + phoff + i * phentsize;
        if (get32(ph + ELF_P_TYPE) != ELF_PT_LOAD || get32(ph + ELF_P_MEMSZ) == 0)
            continue;
        uint32_t offset = get32(ph + ELF_P_OFFSET), vaddr = get32(ph + ELF_P_VADDR);
        uint32_t paddr = get32(ph + ELF_P_PADDR);
        uint32_t filesz = get32(ph + ELF_P_FILESZ), memsz = get32(ph + ELF_P_MEMSZ);
        if (filesz > memsz)
            return malformed(im->path, "a segment's p_filesz exceeds its p_memsz");
        if ((uint64_t)offset + filesz > im->size)
            return malformed(im->path, "a segment runs past the end of the file");
        if (im->nseg == MAX_SEGMENTS)
            return malformed(im->path, "more than 32 loadable segments");
        im->seg[im->nseg++] = (struct segment){ paddr, filesz, memsz, f + offset };
        if (entry - paddr < memsz)
            entry_in_paddr = true;
        if (entry - vaddr < memsz && !entry_in_vaddr) {
            entry_in_vaddr = true;
            entry_shift = (int32_t)(paddr - vaddr);
        }
    }
    if (im->nseg == 0)
        return malformed(im->path, "no loadable segments");
    /* A higher-half kernel linked with e_entry virtual: jump to where it was loaded. */
    im->entry = (!entry_in_paddr && entry_in_vaddr) ? entry + (uint32_t)entry_shift : entry;
    return check_range_image(im);
}

/*
 * Find the Multiboot header: 32-bit aligned, in the first 8 KiB, magic
 * and checksum summing to zero with the flags.
 */
static int find_header(const struct image *im, uint32_t *hdr_off)
{
    uint32_t limit = im->size < MULTIBOOT_SEARCH_BYTES ? im->size : MULTIBOOT_SEARCH_BYTES;
    bool bad_checksum = false;

    for (uint32_t off = 0; off + 12 <= limit; off += 4) {
        const uint8_t *h = im->file + off;
        if (get32(h) != MULTIBOOT_HEADER_MAGIC)
            continue;
        if (get32(h) + get32(h + 4) + get32(h + 8) == 0) {
            *hdr_off = off;
            return 0;
        }
        bad_checksum = true;
    }
    if (bad_checksum)
        fprintf(stderr, "trapeze: %s: not a Multiboot kernel (its header's checksum is wrong)\n", im->path);
    else
        fprintf(stderr, "trapeze: %s: not a Multiboot kernel (no header in the first 8 KiB)\n", im->path);
    return -ENOEXEC;
}

/* Split -initrd into modules and read each; the strings stay whole ("path args"). */
static int read_modules(const char *initrd, uint32_t ram_size, struct module **out, int *count)
{
    struct module *mods = NULL;
    int n = 0, err = 0;
    const char *p = initrd;

    *out = NULL;
    *count = 0;
    if (!initrd)
        return 0;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || *p == ' ') {
            fprintf(stderr, "trapeze: -initrd %s: an empty module name\n", initrd);
            err = -EINVAL;
            break;
        }
        struct module *grown = realloc(mods, (size_t)(n + 1) * sizeof *mods);
        if (!grown) { err = -ENOMEM; break; }
        mods = grown;
        struct module *m = &mods[n++];
        memset(m, 0, sizeof *m);
        m->entry = strndup(p, len);
        if (!m->entry) { err = -ENOMEM; break; }
        char *path = strndup(p, strcspn(m->entry, " "));
        if (!path) { err = -ENOMEM; break; }
        err = read_file(path, ram_size, &m->data, &m->size);
        free(path);
        if (err < 0)
            break;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (err == -ENOMEM)
        fprintf(stderr, "trapeze: -initrd: out of host memory\n");
    *out = mods;
    *count = n;
    return err;
}

static void free_modules(struct module *mods, int n)
{
    for (int i = 0; i < n; i++) {
        free(mods[i].entry);
        free(mods[i].data);
    }
    free(mods);
}

/* Where a block of 'len' bytes may go: aligned, clear of the hole, in RAM. */
static int place_after(uint32_t *cursor, uint32_t len, uint32_t align, uint32_t ram_size,
                       const char *path, uint32_t *addr)
{
    uint32_t a = align_up(*cursor, align);
    if (a < PC_HOLE_END && (uint64_t)a + len > PC_HOLE_START)
        a = PC_HOLE_END;
    if ((uint64_t)a + len > ram_size) {
        fprintf(stderr, "trapeze: %s: does not fit in the %u MiB of RAM after the kernel (use -m)\n",
                path, ram_size >> 20);
        return -EFBIG;
    }
    *addr = a;
    *cursor = a + len;
    return 0;
}

static bool overlaps(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
    return (uint64_t)a < (uint64_t)b + blen && (uint64_t)b < (uint64_t)a + alen;
}

/* Write 'len' zero bytes at 'paddr' through the bus (so code-write hooks run). */
static void bus_zero(struct bus *bus, uint32_t paddr, uint32_t len)
{
    static const uint8_t zeroes[PAGE_SIZE];
    while (len > 0) {
        uint32_t n = len < PAGE_SIZE ? len : PAGE_SIZE;
        bus_write_block(bus, paddr, zeroes, n);
        paddr += n;
        len -= n;
    }
}

/* A flat 4 GiB segment as the loader's GDT describes it (descriptor cache). */
static struct x86_segment flat_segment(uint16_t selector, uint16_t type)
{
    return (struct x86_segment){
        .selector = selector,
        .attr = (uint16_t)(type | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G),
        .base = 0,
        .limit = 0xFFFFFFFFu,
    };
}

/* The entry state of spec 3.2, with GDTR at 'gdt'. */
static void entry_state(struct x86_state *s, uint32_t entry, uint32_t info, uint32_t gdt)
{
    memset(s, 0, sizeof *s);
    s->regs[R_EAX] = MULTIBOOT_BOOTLOADER_MAGIC;
    s->regs[R_EBX] = info;
    s->eip = entry;
    s->eflags = EFLAGS_FIXED1;               /* IF = 0, VM = 0 */
    for (int r = 0; r < SEG_COUNT; r++)
        s->seg[r] = flat_segment(MULTIBOOT_DATA_SELECTOR, SEG_ATTR_W | SEG_ATTR_A);
    s->seg[SEG_CS] = flat_segment(MULTIBOOT_CODE_SELECTOR, SEG_ATTR_CODE | SEG_ATTR_R | SEG_ATTR_A);
    /* LDTR and TR as RESET leaves them: null selectors, usable caches (SDM 3A 9.1.1). */
    s->ldtr = (struct x86_segment){ 0, SEG_ATTR_P | 0x2, 0, 0xFFFF };   /* type 2: LDT */
    s->tr = (struct x86_segment){ 0, SEG_ATTR_P | 0xB, 0, 0xFFFF };     /* type 11: busy 32-bit TSS */
    s->gdtr = (struct x86_dtable){ gdt, 4 * 8 - 1 };
    s->idtr = (struct x86_dtable){ 0, 0x3FF };
    s->cr0 = CR0_PE | CR0_ET;
    s->dr[6] = DR6_FIXED1;
    s->dr[7] = DR7_FIXED1;
    s->cpl = 0;
    s->a20_enabled = true;
}

/*
 * The boot block: GDT, info, memory map, module list and strings, built in
 * a host buffer for base address 'base'.
 */
struct boot_block {
    uint8_t *buf;
    uint32_t size;
    uint32_t gdt, info, mmap, mods, strings;   /* offsets in buf */
};

static const char loader_name[] = "trapeze";

static uint32_t boot_block_size(const char *cmdline, const struct module *mods, int nmods)
{
    uint32_t size = 32 + align_up(MBI_SIZE, 8) + 4 * MULTIBOOT_MMAP_ENTRY_SIZE +
                    (uint32_t)nmods * MULTIBOOT_MODULE_SIZE;
    size += (uint32_t)strlen(cmdline) + 1 + (uint32_t)sizeof loader_name;
    for (int i = 0; i < nmods; i++)
        size += (uint32_t)strlen(mods[i].entry) + 1;
    return size;
}

static void boot_block_fill(struct boot_block *b, uint32_t base, uint32_t ram_size,
                            const char *cmdline, const struct module *mods, int nmods)
{
    uint8_t *p = b->buf;
    b->gdt = 0;
    b->info = 32;
    b->mmap = b->info + align_up(MBI_SIZE, 8);
    b->mods = b->mmap + 4 * MULTIBOOT_MMAP_ENTRY_SIZE;
    b->strings = b->mods + (uint32_t)nmods * MULTIBOOT_MODULE_SIZE;

    /*
     * GDT: 0x00 null, 0x08 null, 0x10 code, 0x18 data.  Descriptor bytes
     * (SDM 3A 3.4.5): limit 0xFFFFF with G = 1 (4 GiB), base 0, D/B = 1,
     * access 0x9B (P, DPL 0, code, execute/read, accessed) and 0x93 (data,
     * read/write, accessed).  Accessed is preset so a reload writes nothing.
     */
    put64(p + 0x10, 0x00CF9B000000FFFFull);
    put64(p + 0x18, 0x00CF93000000FFFFull);

    uint32_t str = b->strings;
    uint8_t *mbi = p + b->info;
    put32(mbi + MBI_FLAGS, MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE | MULTIBOOT_INFO_MODS |
                           MULTIBOOT_INFO_MMAP | MULTIBOOT_INFO_LOADER_NAME);
    put32(mbi + MBI_MEM_LOWER, 640);
    put32(mbi + MBI_MEM_UPPER, (ram_size - PC_HOLE_END) / 1024);
    put32(mbi + MBI_CMDLINE, base + str);
    memcpy(p + str, cmdline, strlen(cmdline) + 1);
    str += (uint32_t)strlen(cmdline) + 1;
    put32(mbi + MBI_MODS_COUNT, (uint32_t)nmods);
    put32(mbi + MBI_MODS_ADDR, base + b->mods);
    for (int i = 0; i < nmods; i++) {
        uint8_t *m = p + b->mods + (uint32_t)i * MULTIBOOT_MODULE_SIZE;
        put32(m + 0, mods[i].addr);
        put32(m + 4, mods[i].addr + mods[i].size);   /* end, exclusive, as GRUB and QEMU */
        put32(m + 8, base + str);
        memcpy(p + str, mods[i].entry, strlen(mods[i].entry) + 1);
        str += (uint32_t)strlen(mods[i].entry) + 1;
    }
    put32(mbi + MBI_BOOT_LOADER_NAME, base + str);
    memcpy(p + str, loader_name, sizeof loader_name);

    /* The E820-style map: base, length, type, each entry preceded by its size (20). */
    struct pc_memory_range map[PC_MEMORY_RANGES];
    multiboot_memory_map(ram_size, map);
    uint8_t *e = p + b->mmap;
    for (int i = 0; i < PC_MEMORY_RANGES; i++, e += MULTIBOOT_MMAP_ENTRY_SIZE) {
        put32(e + 0, MULTIBOOT_MMAP_ENTRY_SIZE - 4);
        put64(e + 4, map[i].base);
        put64(e + 12, map[i].length);
        put32(e + 20, map[i].type);
    }
    put32(mbi + MBI_MMAP_LENGTH, 4 * MULTIBOOT_MMAP_ENTRY_SIZE);
    put32(mbi + MBI_MMAP_ADDR, base + b->mmap);
}

void multiboot_memory_map(uint32_t ram_size, struct pc_memory_range map[PC_MEMORY_RANGES])
{
    map[0] = (struct pc_memory_range){ 0, PC_LOW_RAM_END, MULTIBOOT_MEMORY_AVAILABLE };  /* conventional */
    map[1] = (struct pc_memory_range){ PC_LOW_RAM_END, PC_HOLE_START - PC_LOW_RAM_END,
                                       MULTIBOOT_MEMORY_RESERVED };                     /* EBDA */
    map[2] = (struct pc_memory_range){ 0xF0000, PC_HOLE_END - 0xF0000, MULTIBOOT_MEMORY_RESERVED }; /* BIOS */
    map[3] = (struct pc_memory_range){ PC_HOLE_END, (uint64_t)ram_size - PC_HOLE_END,
                                       MULTIBOOT_MEMORY_AVAILABLE };
}

int multiboot_load(struct bus *bus, const char *kernel, const char *append,
                   const char *initrd, struct x86_state *state)
{
    struct image im = { .path = kernel, .ram_size = bus->ram_size };
    struct module *mods = NULL;
    int nmods = 0;
    char *cmdline = NULL;
    struct boot_block b = { 0 };
    uint32_t hdr_off;
    int err;

    if (bus->ram_size < 2 * PC_HOLE_END) {
        fprintf(stderr, "trapeze: -kernel needs at least 2 MiB of RAM (use -m)\n");
        return -EINVAL;
    }
    err = read_file(kernel, bus->ram_size, &im.file, &im.size);
    if (err < 0)
        return err;
    err = find_header(&im, &hdr_off);
    if (err < 0)
        goto out;
    uint32_t flags = get32(im.file + hdr_off + 4);
    if (flags & 0xFFFFu & ~MULTIBOOT_HDR_SUPPORTED) {
        /* Spec 3.1.2: a required feature the loader lacks means: refuse to boot. */
        fprintf(stderr, "trapeze: %s: the Multiboot header requires features trapeze lacks (flags 0x%08x)\n",
                kernel, flags);
        err = -ENOEXEC;
        goto out;
    }
    if (flags & MULTIBOOT_HDR_AOUT_KLUDGE) {
        err = parse_kludge(&im, hdr_off);
    } else if (im.size >= 4 && memcmp(im.file, "\x7F" "ELF", 4) == 0) {
        err = parse_elf(&im);
    } else {
        fprintf(stderr, "trapeze: %s: not an ELF file, and its Multiboot header has no address fields (flag bit 16)\n",
                kernel);
        err = -ENOEXEC;
    }
    if (err < 0)
        goto out;

    err = read_modules(initrd, bus->ram_size, &mods, &nmods);
    if (err < 0)
        goto out;
    /* Modules go page aligned after the kernel (bss included). */
    uint32_t cursor = im.high;
    for (int i = 0; i < nmods; i++) {
        err = place_after(&cursor, mods[i].size, PAGE_SIZE, bus->ram_size, mods[i].entry, &mods[i].addr);
        if (err < 0)
            goto out;
    }

    if (asprintf(&cmdline, "%s %s", kernel, append ? append : "") < 0) {
        cmdline = NULL;
        err = -ENOMEM;
        fprintf(stderr, "trapeze: out of host memory\n");
        goto out;
    }
    b.size = boot_block_size(cmdline, mods, nmods);
    b.buf = calloc(1, b.size);
    if (!b.buf) {
        err = -ENOMEM;
        fprintf(stderr, "trapeze: out of host memory\n");
        goto out;
    }
    /* Low memory if the kernel and the modules leave it free, else after them. */
    uint32_t base = BOOT_BLOCK_LOW;
    bool clash = (uint64_t)base + b.size > PC_LOW_RAM_END ||
                 overlaps(base, b.size, im.low, im.high - im.low);
    for (int i = 0; i < nmods && !clash; i++)
        clash = overlaps(base, b.size, mods[i].addr, mods[i].size);
    if (clash) {
        err = place_after(&cursor, b.size, 16, bus->ram_size, kernel, &base);
        if (err < 0)
            goto out;
    }
    boot_block_fill(&b, base, bus->ram_size, cmdline, mods, nmods);

    /*
     * An entry point outside what was loaded is the kernel's own affair:
     * QEMU jumps there all the same (checked with qemu-system-i386 7.2, an
     * ELF whose e_entry lies past its only segment, and one at 0xF0000000),
     * and so does trapeze, with a line that says why the guest will crash.
     */
    bool entry_loaded = false;
    for (int i = 0; i < im.nseg; i++)
        entry_loaded |= im.entry - im.seg[i].paddr < im.seg[i].memsz;
    if (!entry_loaded)
        fprintf(stderr, "trapeze: %s: warning: the entry point 0x%08x lies outside every loaded segment%s "
                        "(run anyway, as QEMU does)\n",
                kernel, im.entry, im.entry >= bus->ram_size ? " and outside RAM" : "");

    /* Everything checked: now write guest RAM. */
    for (int i = 0; i < im.nseg; i++) {
        const struct segment *sg = &im.seg[i];
        bus_write_block(bus, sg->paddr, sg->data, sg->filesz);
        bus_zero(bus, sg->paddr + sg->filesz, sg->memsz - sg->filesz);
    }
    for (int i = 0; i < nmods; i++)
        bus_write_block(bus, mods[i].addr, mods[i].data, mods[i].size);
    bus_write_block(bus, base, b.buf, b.size);
    entry_state(state, im.entry, base + b.info, base + b.gdt);
    err = 0;
out:
    free(b.buf);
    free(cmdline);
    free_modules(mods, nmods);
    free(im.file);
    return err;
}
