/*
 * test_bus.c - the physical bus (mmu/bus.c): RAM, ROM, MMIO, ports, A20 and
 * the write hooks, checked against what a PC's bus does.
 *
 *   make build/tests/unit/test_bus && build/tests/unit/test_bus [name]
 */
#include <errno.h>

#include "mmu/bus.h"
#include "tests/test.h"

#define MiB (1024u * 1024u)

/* A device that records its last access and answers reads with a pattern. */
struct probe {
    int reads, writes;
    uint32_t offset, value;
    unsigned size;
};

static uint32_t probe_read(void *opaque, uint32_t offset, unsigned size)
{
    struct probe *p = opaque;
    p->reads++;
    p->offset = offset;
    p->size = size;
    return 0xA5A5A500u | (offset & 0xFFu);   /* wider than some sizes: bus masks */
}

static void probe_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    struct probe *p = opaque;
    p->writes++;
    p->offset = offset;
    p->value = value;
    p->size = size;
}

static const struct io_ops probe_ops = { probe_read, probe_write };

/* The hooks' log. */
struct hook_log {
    int calls;
    uint32_t paddr;
    unsigned size;
    uint32_t seen;   /* the RAM dword at paddr when the hook ran */
    struct bus *bus;
};

static void log_hook(void *opaque, uint32_t paddr, unsigned size)
{
    struct hook_log *log = opaque;
    log->calls++;
    log->paddr = paddr;
    log->size = size;
    log->seen = log->bus->ram[paddr];
}

static void count_call(void *opaque)
{
    (*(int *)opaque)++;
}

static struct bus bus;   /* 64 KiB of port table: not on the stack */

TEST(init_rejects_bad_sizes)
{
    CHECK_EQ(bus_init(&bus, 0), -EINVAL);
    CHECK_EQ(bus_init(&bus, 4097), -EINVAL);
    CHECK_EQ(bus_init(&bus, 1 * MiB), 0);
    CHECK(bus_a20_enabled(&bus));
    bus_destroy(&bus);
}

TEST(ram_is_zeroed_and_little_endian)
{
    CHECK_EQ(bus_init(&bus, 2 * MiB), 0);
    CHECK_EQ(bus_read(&bus, 0x1234, 4), 0);
    CHECK_EQ(bus_read(&bus, 2 * MiB - 4, 4), 0);
    bus_write(&bus, 0x100, 0x11223344, 4);
    CHECK_EQ(bus.ram[0x100], 0x44);
    CHECK_EQ(bus.ram[0x103], 0x11);
    CHECK_EQ(bus_read(&bus, 0x101, 2), 0x2233);
    CHECK_EQ(bus_read(&bus, 0x103, 1), 0x11);
    bus_write(&bus, 0x102, 0xBEEF, 2);
    CHECK_EQ(bus_read(&bus, 0x100, 4), 0xBEEF3344);
    bus_write(&bus, 0x100, 0xFFFFFF77, 1);   /* only the low byte goes out */
    CHECK_EQ(bus_read(&bus, 0x100, 4), 0xBEEF3377);
    /* A dword across a page boundary inside RAM is still just RAM. */
    bus_write(&bus, 0xFFE, 0xCAFEBABE, 4);
    CHECK_EQ(bus_read(&bus, 0xFFE, 4), 0xCAFEBABE);
    bus_destroy(&bus);
}

TEST(unmapped_reads_all_ones_writes_vanish)
{
    CHECK_EQ(bus_init(&bus, 1 * MiB), 0);
    CHECK_EQ(bus_read(&bus, 1 * MiB, 1), 0xFF);
    CHECK_EQ(bus_read(&bus, 0x80000000u, 2), 0xFFFF);
    CHECK_EQ(bus_read(&bus, 0xFFFFFFFCu, 4), 0xFFFFFFFFu);
    bus_write(&bus, 1 * MiB, 0, 4);
    CHECK_EQ(bus_read(&bus, 1 * MiB, 4), 0xFFFFFFFFu);
    CHECK(bus_host_ptr(&bus, 1 * MiB, false) == NULL);
    /* Straddling the end of RAM: RAM bytes low, floating bytes high. */
    bus_write(&bus, 1 * MiB - 2, 0x1234, 2);
    CHECK_EQ(bus_read(&bus, 1 * MiB - 2, 4), 0xFFFF1234u);
    /* The dword at 4 GiB - 2 wraps to address 0 for its high half. */
    bus_write(&bus, 0, 0xABCD, 2);
    CHECK_EQ(bus_read(&bus, 0xFFFFFFFEu, 4), 0xABCDFFFFu);
    bus_destroy(&bus);
}

TEST(rom_owns_a_copy_shadows_ram_and_ignores_writes)
{
    uint8_t image[8192];
    for (unsigned i = 0; i < sizeof image; i++)
        image[i] = (uint8_t)(i * 7);
    CHECK_EQ(bus_init(&bus, 2 * MiB), 0);
    bus_write(&bus, 0xF0000, 0x55555555, 4);   /* RAM below, then shadowed */
    CHECK_EQ(bus_add_rom(&bus, "bios", 0xF0000, image, sizeof image), 0);
    memset(image, 0, sizeof image);             /* the bus kept its own copy */
    CHECK_EQ(bus_read(&bus, 0xF0000, 1), 0);
    CHECK_EQ(bus_read(&bus, 0xF0001, 1), 7);
    CHECK_EQ(bus_read(&bus, 0xF0004, 4), 0x312A231Cu);  /* 28, 35, 42, 49 */
    bus_write(&bus, 0xF0004, 0, 4);
    bus_write(&bus, 0xF0004, 0, 1);
    CHECK_EQ(bus_read(&bus, 0xF0004, 4), 0x312A231Cu);
    uint8_t block[4] = { 1, 2, 3, 4 };
    bus_write_block(&bus, 0xF0004, block, sizeof block);
    CHECK_EQ(bus_read(&bus, 0xF0004, 4), 0x312A231Cu);
    /* Readable through a host pointer, never writable through one. */
    uint8_t *host = bus_host_ptr(&bus, 0xF1001, false);
    CHECK(host != NULL);
    if (host)
        CHECK_EQ(*host, (uint8_t)(0x1001 * 7));
    CHECK(bus_host_ptr(&bus, 0xF1001, true) == NULL);
    /* RAM past the ROM is RAM again. */
    bus_write(&bus, 0xF2000, 0x99, 1);
    CHECK_EQ(bus_read(&bus, 0xF2000, 1), 0x99);
    bus_destroy(&bus);
}

TEST(rom_mapped_twice_like_a_bios)
{
    static uint8_t bios[128 * 1024];
    bios[0] = 0x11;
    bios[sizeof bios - 16] = 0xEA;   /* the reset vector's far jump */
    CHECK_EQ(bus_init(&bus, 1 * MiB), 0);
    CHECK_EQ(bus_add_rom(&bus, "bios", 0xE0000, bios, sizeof bios), 0);
    CHECK_EQ(bus_add_rom(&bus, "bios-high", 0xFFFE0000u, bios, sizeof bios), 0);
    CHECK_EQ(bus_read(&bus, 0xFFFFFFF0u, 1), 0xEA);
    CHECK_EQ(bus_read(&bus, 0xFFFF0, 1), 0xEA);
    CHECK_EQ(bus_read(&bus, 0xE0000, 1), 0x11);
    CHECK_EQ(bus_read(&bus, 0xFFFE0000u, 1), 0x11);
    CHECK(bus_host_ptr(&bus, 0xFFFFF000u, false) != NULL);
    bus_destroy(&bus);
}

TEST(mmio_dispatch_with_offsets_and_sizes)
{
    struct probe vga = { 0 };
    CHECK_EQ(bus_init(&bus, 2 * MiB), 0);
    CHECK_EQ(bus_add_mmio(&bus, "vga", 0xA0000, 0x20000, &probe_ops, &vga), 0);
    CHECK_EQ(bus_read(&bus, 0xA0010, 2), 0xA510);
    CHECK_EQ(vga.offset, 0x10);
    CHECK_EQ(vga.size, 2);
    CHECK_EQ(bus_read(&bus, 0xB8000, 1), 0x00);   /* 0x...00 masked to a byte */
    CHECK_EQ(vga.offset, 0x18000);
    CHECK_EQ(vga.size, 1);
    CHECK_EQ(bus_read(&bus, 0xA0004, 4), 0xA5A5A504u);
    CHECK_EQ(vga.size, 4);
    bus_write(&bus, 0xB8002, 0x12345678, 2);
    CHECK_EQ(vga.writes, 1);
    CHECK_EQ(vga.offset, 0x18002);
    CHECK_EQ(vga.value, 0x5678);
    CHECK_EQ(vga.size, 2);
    CHECK(bus_host_ptr(&bus, 0xA0000, false) == NULL);
    CHECK(bus_host_ptr(&bus, 0xBF000, true) == NULL);
    CHECK_EQ(bus.ram[0xB8002], 0);                 /* RAM underneath untouched */
    /* A dword straddling the region's start goes out as bytes. */
    vga.reads = 0;
    bus.ram[0x9FFFE] = 0x22;
    bus.ram[0x9FFFF] = 0x33;
    CHECK_EQ(bus_read(&bus, 0x9FFFE, 4), 0x01003322u);
    CHECK_EQ(vga.reads, 2);
    CHECK_EQ(vga.size, 1);
    CHECK_EQ(vga.offset, 1);
    bus_destroy(&bus);
}

TEST(small_mmio_region_inside_a_ram_page)
{
    struct probe dev = { 0 };
    CHECK_EQ(bus_init(&bus, 1 * MiB), 0);
    CHECK_EQ(bus_add_mmio(&bus, "tiny", 0x5010, 4, &probe_ops, &dev), 0);
    /* The rest of the page is RAM, but no host pointer covers the page. */
    CHECK(bus_host_ptr(&bus, 0x5000, false) == NULL);
    bus_write(&bus, 0x5000, 0xAB, 1);
    CHECK_EQ(bus_read(&bus, 0x5000, 1), 0xAB);
    /* A dword over RAM byte 0x500F and the device's first three bytes. */
    bus.ram[0x500F] = 0x77;
    CHECK_EQ(bus_read(&bus, 0x500F, 4), 0x02010077u);
    CHECK_EQ(dev.reads, 3);
    uint8_t buf[32];
    bus_read_block(&bus, 0x5000, buf, sizeof buf);
    CHECK_EQ(buf[0], 0xAB);
    CHECK_EQ(buf[0x11], 0x01);
    CHECK_EQ(buf[0x14], 0);
    bus_destroy(&bus);
}

TEST(registration_errors)
{
    uint8_t rom[4096] = { 0 };
    struct probe dev = { 0 };
    CHECK_EQ(bus_init(&bus, 1 * MiB), 0);
    CHECK_EQ(bus_add_mmio(&bus, "a", 0xA0000, 0x10000, &probe_ops, &dev), 0);
    CHECK_EQ(bus_add_mmio(&bus, "overlap", 0xAF000, 0x2000, &probe_ops, &dev), -EINVAL);
    CHECK_EQ(bus_add_rom(&bus, "overlap", 0x9F000, rom, 0x2000), -EINVAL);
    CHECK_EQ(bus_add_mmio(&bus, "empty", 0xC0000, 0, &probe_ops, &dev), -EINVAL);
    CHECK_EQ(bus_add_mmio(&bus, "past4g", 0xFFFFF000u, 0x2000, &probe_ops, &dev), -EINVAL);
    CHECK_EQ(bus_add_mmio(&bus, "noops", 0xC0000, 0x1000, NULL, &dev), -EINVAL);
    CHECK_EQ(bus_add_rom(&bus, "nodata", 0xC0000, NULL, 0x1000), -EINVAL);
    CHECK_EQ(bus_add_mmio(&bus, "adjacent", 0xB0000, 0x1000, &probe_ops, &dev), 0);
    CHECK_EQ(bus_add_mmio(&bus, "to4g", 0xFFFFF000u, 0x1000, &probe_ops, &dev), 0);
    int added = bus.region_count;
    int err = 0;
    for (int i = added; i < BUS_MAX_REGIONS + 1 && err == 0; i++)
        err = bus_add_rom(&bus, "many", 0x10000000u + (uint32_t)i * 0x1000u, rom, sizeof rom);
    CHECK_EQ(err, -ENOSPC);
    CHECK_EQ(bus.region_count, BUS_MAX_REGIONS);

    CHECK_EQ(bus_add_ports(&bus, "com1", 0x3F8, 8, &probe_ops, &dev), 0);
    CHECK_EQ(bus_add_ports(&bus, "clash", 0x3FF, 1, &probe_ops, &dev), -EINVAL);
    CHECK_EQ(bus_add_ports(&bus, "none", 0x100, 0, &probe_ops, &dev), -EINVAL);
    CHECK_EQ(bus_add_ports(&bus, "wrap", 0xFFFF, 2, &probe_ops, &dev), -EINVAL);
    CHECK_EQ(bus_add_ports(&bus, "last", 0xFFFF, 1, &probe_ops, &dev), 0);
    err = 0;
    for (int i = 0; i < BUS_MAX_PORT_RANGES + 1 && err == 0; i++)
        err = bus_add_ports(&bus, "many", (uint16_t)(0x1000 + i), 1, &probe_ops, &dev);
    CHECK_EQ(err, -ENOSPC);
    CHECK_EQ(bus.port_range_count, BUS_MAX_PORT_RANGES);
    bus_destroy(&bus);
}

TEST(port_dispatch_and_unclaimed_ports)
{
    struct probe uart = { 0 };
    CHECK_EQ(bus_init(&bus, 1 * MiB), 0);
    CHECK_EQ(bus_add_ports(&bus, "com1", 0x3F8, 8, &probe_ops, &uart), 0);
    CHECK_EQ(bus_port_read(&bus, 0x3FD, 1), 0x05);
    CHECK_EQ(uart.offset, 5);
    CHECK_EQ(uart.size, 1);
    CHECK_EQ(bus_port_read(&bus, 0x3F8, 2), 0xA500);
    CHECK_EQ(uart.size, 2);
    CHECK_EQ(bus_port_read(&bus, 0x3FA, 4), 0xA5A5A502u);
    bus_port_write(&bus, 0x3FB, 0x1FF, 1);
    CHECK_EQ(uart.offset, 3);
    CHECK_EQ(uart.value, 0xFF);
    bus_port_write(&bus, 0x3F8, 0xDEADBEEF, 4);
    CHECK_EQ(uart.value, 0xDEADBEEF);
    CHECK_EQ(uart.size, 4);

    CHECK_EQ(bus_port_read(&bus, 0x3F7, 1), 0xFF);
    CHECK_EQ(bus_port_read(&bus, 0x400, 2), 0xFFFF);
    CHECK_EQ(bus_port_read(&bus, 0xFFFF, 4), 0xFFFFFFFFu);
    CHECK_EQ(bus.unassigned_port_reads, 3);
    bus_port_write(&bus, 0x80, 0x12, 1);
    bus_port_write(&bus, 0x80, 0x12, 2);
    CHECK_EQ(bus.unassigned_port_writes, 2);
    CHECK_EQ(uart.writes, 2);
    bus_destroy(&bus);
}

TEST(a20_wraps_at_one_megabyte)
{
    int changes = 0;
    CHECK_EQ(bus_init(&bus, 4 * MiB), 0);
    bus.map_changed = count_call;
    bus.map_opaque = &changes;
    bus_write(&bus, 0x000010, 0x11, 1);
    bus_write(&bus, 0x100010, 0x22, 1);
    bus_write(&bus, 0x200010, 0x66, 1);
    CHECK_EQ(bus_read(&bus, 0x100010, 1), 0x22);
    uint32_t generation = bus.map_generation;

    bus_set_a20(&bus, false);
    CHECK(!bus_a20_enabled(&bus));
    CHECK_EQ(changes, 1);
    CHECK(bus.map_generation != generation);
    CHECK_EQ(bus_read(&bus, 0x100010, 1), 0x11);   /* FFFF:0020 = 0:0010 */
    CHECK_EQ(bus_read(&bus, 0x300010, 1), 0x66);   /* only bit 20 goes: 0x200010 */
    CHECK(bus_host_ptr(&bus, 0x100010, false) == bus.ram + 0x10);
    bus_write(&bus, 0x100010, 0x33, 1);
    CHECK_EQ(bus.ram[0x10], 0x33);
    CHECK_EQ(bus.ram[0x100010], 0x22);
    /* Each byte of a straddling access is masked on its own. */
    bus.ram[0xFFFFF] = 0x44;
    bus.ram[0] = 0x55;
    CHECK_EQ(bus_read(&bus, 0xFFFFF, 2), 0x5544);
    uint8_t buf[2];
    bus_read_block(&bus, 0x10000F, buf, 2);
    CHECK_EQ(buf[1], 0x33);

    bus_set_a20(&bus, false);                      /* no change, no refill */
    CHECK_EQ(changes, 1);
    bus_set_a20(&bus, true);
    CHECK(bus_a20_enabled(&bus));
    CHECK_EQ(changes, 2);
    CHECK_EQ(bus_read(&bus, 0x100010, 1), 0x22);
    bus_destroy(&bus);
}

TEST(code_pages_go_slow_and_call_code_written)
{
    struct hook_log log = { .bus = &bus };
    CHECK_EQ(bus_init(&bus, 1 * MiB), 0);
    bus.code_written = log_hook;
    bus.code_opaque = &log;
    CHECK(bus_host_ptr(&bus, 0x7C00, true) == bus.ram + 0x7C00);
    bus_write(&bus, 0x7C00, 0x90, 1);
    CHECK_EQ(log.calls, 0);

    bus_mark_code_page(&bus, 0x7C10);
    CHECK(bus.page_flags[7] & BUS_PAGE_CODE);
    CHECK(bus_host_ptr(&bus, 0x7C00, true) == NULL);
    CHECK(bus_host_ptr(&bus, 0x7C00, false) == bus.ram + 0x7C00);
    bus_write(&bus, 0x7C02, 0xC3, 1);
    CHECK_EQ(log.calls, 1);
    CHECK_EQ(log.paddr, 0x7C02);
    CHECK_EQ(log.size, 1);
    CHECK_EQ(log.seen, 0xC3);                      /* hooks run after the write */
    bus_write(&bus, 0x7C04, 0x12345678, 4);
    CHECK_EQ(log.calls, 2);
    CHECK_EQ(log.size, 4);
    bus_write(&bus, 0x8000, 1, 4);                 /* the next page: no hook */
    CHECK_EQ(log.calls, 2);

    /* Bulk writes (loaders, DMA) run the hook once per page they touch. */
    uint8_t block[0x1100];
    memset(block, 0xCC, sizeof block);
    bus_write_block(&bus, 0x6F00, block, sizeof block);
    CHECK_EQ(log.calls, 3);
    CHECK_EQ(log.paddr, 0x7000);
    CHECK_EQ(log.size, 0x1000);
    CHECK_EQ(bus.ram[0x7FFF], 0xCC);
    bus_destroy(&bus);
}

struct flag_log { int calls; uint32_t paddr; };
static void flags_changed(void *opaque, uint32_t paddr)
{
    struct flag_log *log = opaque;
    log->calls++;
    log->paddr = paddr;
}

TEST(page_flag_changes_notify_the_tlbs)
{
    struct flag_log log = { 0 };
    int map_changes = 0;
    CHECK_EQ(bus_init(&bus, 1 * MiB), 0);
    bus.map_changed = count_call;
    bus.map_opaque = &map_changes;

    /* Without page_flags_changed: every TLB refills. */
    uint32_t generation = bus.map_generation;
    bus_mark_code_page(&bus, 0x3000);
    CHECK_EQ(map_changes, 1);
    CHECK(bus.map_generation != generation);

    bus.page_flags_changed = flags_changed;
    bus.page_flags_opaque = &log;
    bus_mark_code_page(&bus, 0x4ABC);
    CHECK_EQ(log.calls, 1);
    CHECK_EQ(log.paddr, 0x4000);
    CHECK_EQ(map_changes, 1);
    bus_mark_code_page(&bus, 0x4000);              /* already code: nothing */
    CHECK_EQ(log.calls, 1);
    bus_set_page_flags(&bus, 0x4000, 0, BUS_PAGE_CODE);   /* losing: nothing */
    CHECK_EQ(log.calls, 1);
    CHECK_EQ(bus.page_flags[4], 0);
    bus_set_page_flags(&bus, 0x4000, BUS_PAGE_WATCHED, 0);
    CHECK_EQ(log.calls, 2);
    CHECK(bus_host_ptr(&bus, 0x4000, true) == NULL);
    bus_set_page_flags(&bus, 2 * MiB, BUS_PAGE_CODE, 0);  /* outside RAM: ignored */
    CHECK_EQ(log.calls, 2);
    bus_destroy(&bus);
}

TEST(traced_pages_call_the_trace_hook_after_the_write)
{
    struct hook_log log = { .bus = &bus };
    struct hook_log code = { .bus = &bus };
    CHECK_EQ(bus_init(&bus, 1 * MiB), 0);
    bus.trace_hook = log_hook;
    bus.trace_opaque = &log;
    bus.code_written = log_hook;
    bus.code_opaque = &code;
    bus_set_page_flags(&bus, 0x2000, BUS_PAGE_TRACED, 0);
    CHECK(bus_host_ptr(&bus, 0x2000, true) == NULL);
    bus_write(&bus, 0x2008, 0x67, 1);
    CHECK_EQ(log.calls, 1);
    CHECK_EQ(log.paddr, 0x2008);
    CHECK_EQ(log.seen, 0x67);
    CHECK_EQ(code.calls, 0);
    (void)bus_read(&bus, 0x2008, 4);               /* reads are not traced */
    CHECK_EQ(log.calls, 1);
    /* A dword across the page's end: bytes, the traced ones hooked. */
    bus_write(&bus, 0x2FFE, 0xAABBCCDD, 4);
    CHECK_EQ(log.calls, 3);
    CHECK_EQ(log.paddr, 0x2FFF);
    CHECK_EQ(bus_read(&bus, 0x2FFE, 4), 0xAABBCCDD);
    bus_destroy(&bus);
}

TEST(blocks_cross_ram_rom_mmio_and_nothing)
{
    static uint8_t rom[4096];
    struct probe dev = { 0 };
    memset(rom, 0x5A, sizeof rom);
    CHECK_EQ(bus_init(&bus, 64 * 1024), 0);
    CHECK_EQ(bus_add_rom(&bus, "rom", 0xE000, rom, sizeof rom), 0);
    CHECK_EQ(bus_add_mmio(&bus, "dev", 0x10000, 0x400, &probe_ops, &dev), 0);
    uint8_t in[0x3000];
    for (unsigned i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)i;
    bus_write_block(&bus, 0xD800, in, sizeof in);  /* RAM, ROM, RAM, MMIO, nothing */
    CHECK_EQ(bus_read(&bus, 0xD800, 1), 0x00);
    CHECK_EQ(bus_read(&bus, 0xE000, 1), 0x5A);
    CHECK_EQ(bus_read(&bus, 0xF000, 1), (uint8_t)0x1800);
    CHECK_EQ(dev.writes, 0x400);
    CHECK_EQ(dev.size, 1);
    CHECK_EQ(dev.offset, 0x3FF);
    uint8_t out[0x3000];
    bus_read_block(&bus, 0xD800, out, sizeof out);
    CHECK_EQ(out[0x7FF], 0xFF);
    CHECK_EQ(out[0x800], 0x5A);
    CHECK_EQ(out[0x1800], 0x00);
    CHECK_EQ(out[0x2800], 0x00);                   /* dev answers offset 0 low byte */
    CHECK_EQ(out[0x2801], 0x01);
    CHECK_EQ(out[0x2C00], 0xFF);                   /* past RAM and the device */
    CHECK_EQ(dev.reads, 0x400);
    bus_destroy(&bus);
}

TEST_MAIN()
