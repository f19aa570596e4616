/*
 * test_bus.c - the physical bus (mmu/bus.c): RAM, ROM, MMIO, ports, A20 and
 * the write hooks, checked against what a PC's bus does; the hooks with
 * several subscribers (two CPUs on one bus) and the VMM-private window.
 *
 *   make build/tests/unit/test_bus && build/tests/unit/test_bus [name]
 */
#include <errno.h>

#include "cpu/cpu.h"
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
    CHECK_EQ(bus_add_map_hook(&bus, count_call, &changes), 0);
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

TEST(code_pages_go_slow_and_call_the_code_hooks)
{
    struct hook_log log = { .bus = &bus };
    CHECK_EQ(bus_init(&bus, 1 * MiB), 0);
    CHECK_EQ(bus_add_code_hook(&bus, log_hook, &log), 0);
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
    CHECK_EQ(bus_add_map_hook(&bus, count_call, &map_changes), 0);

    /* With no page-flags subscriber: every TLB refills. */
    uint32_t generation = bus.map_generation;
    bus_mark_code_page(&bus, 0x3000);
    CHECK_EQ(map_changes, 1);
    CHECK(bus.map_generation != generation);

    CHECK_EQ(bus_add_page_flags_hook(&bus, flags_changed, &log), 0);
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
    CHECK_EQ(bus_add_trace_hook(&bus, log_hook, &log), 0);
    CHECK_EQ(bus_add_code_hook(&bus, log_hook, &code), 0);
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

/* ---------- several subscribers ---------- */

/* Records the order subscribers ran in: each appends its tag. */
struct order_log { char seen[8]; int n; };
struct tagged { struct order_log *log; char tag; };

static void tagged_write(void *opaque, uint32_t paddr, unsigned size)
{
    struct tagged *t = opaque;
    (void)paddr;
    (void)size;
    t->log->seen[t->log->n++] = t->tag;
}

static void tagged_map(void *opaque)
{
    tagged_write(opaque, 0, 0);
}

static void tagged_flags(void *opaque, uint32_t paddr)
{
    tagged_write(opaque, paddr, 0);
}

static void tagged_watch(void *opaque, uint32_t paddr, unsigned size, bool write)
{
    (void)write;
    tagged_write(opaque, paddr, size);
}

TEST(every_subscriber_is_called_in_the_order_added)
{
    struct order_log log = { .n = 0 };
    struct tagged a = { &log, 'a' }, b = { &log, 'b' };
    CHECK_EQ(bus_init(&bus, 1 * MiB), 0);
    CHECK_EQ(bus_add_code_hook(&bus, tagged_write, &a), 0);
    CHECK_EQ(bus_add_code_hook(&bus, tagged_write, &b), 0);
    CHECK_EQ(bus_add_code_hook(&bus, tagged_write, &a), 0);   /* already there: no-op */
    CHECK_EQ(bus.code_hooks.count, 2);
    CHECK_EQ(bus_add_trace_hook(&bus, tagged_write, &b), 0);
    CHECK_EQ(bus_add_trace_hook(&bus, tagged_write, &a), 0);
    CHECK_EQ(bus_add_map_hook(&bus, tagged_map, &a), 0);
    CHECK_EQ(bus_add_map_hook(&bus, tagged_map, &b), 0);
    CHECK_EQ(bus_add_page_flags_hook(&bus, tagged_flags, &a), 0);
    CHECK_EQ(bus_add_page_flags_hook(&bus, tagged_flags, &b), 0);
    CHECK_EQ(bus_add_watch_hook(&bus, tagged_watch, &b), 0);
    CHECK_EQ(bus_add_watch_hook(&bus, tagged_watch, &a), 0);

    bus_set_page_flags(&bus, 0x3000, BUS_PAGE_CODE | BUS_PAGE_TRACED, 0);
    CHECK_STR(log.seen, "ab");                     /* page flags; no map hooks */
    bus_write(&bus, 0x3000, 1, 1);
    CHECK_STR(log.seen, "ababba");                 /* code hooks a b, then trace hooks b a */
    log = (struct order_log){ .n = 0 };
    bus_set_a20(&bus, false);
    CHECK_STR(log.seen, "ab");
    log = (struct order_log){ .n = 0 };
    bus_set_page_flags(&bus, 0x4000, BUS_PAGE_WATCHED, 0);
    (void)bus_read(&bus, 0x4000, 1);
    CHECK_STR(log.seen, "abba");                   /* page flags, then watch */
    bus_destroy(&bus);
}

TEST(removed_subscribers_are_not_called)
{
    struct order_log log = { .n = 0 };
    struct tagged a = { &log, 'a' }, b = { &log, 'b' }, c = { &log, 'c' };
    int map_changes = 0;
    CHECK_EQ(bus_init(&bus, 1 * MiB), 0);
    CHECK_EQ(bus_add_code_hook(&bus, tagged_write, &a), 0);
    CHECK_EQ(bus_add_code_hook(&bus, tagged_write, &b), 0);
    CHECK_EQ(bus_add_code_hook(&bus, tagged_write, &c), 0);
    bus_remove_code_hook(&bus, tagged_write, &b);
    bus_remove_code_hook(&bus, tagged_write, &b);          /* not there: no-op */
    bus_remove_trace_hook(&bus, tagged_write, &a);         /* never added: no-op */
    bus_mark_code_page(&bus, 0x1000);
    bus_write(&bus, 0x1000, 1, 1);
    CHECK_STR(log.seen, "ac");                      /* the rest keep their order */

    /* Full lists refuse more; removing makes room again. */
    struct tagged more[BUS_MAX_HOOKS];
    for (int i = 0; i < BUS_MAX_HOOKS - 2; i++)
        CHECK_EQ(bus_add_code_hook(&bus, tagged_write, &more[i]), 0);
    CHECK_EQ(bus_add_code_hook(&bus, tagged_write, &b), -ENOSPC);
    bus_remove_code_hook(&bus, tagged_write, &a);
    CHECK_EQ(bus_add_code_hook(&bus, tagged_write, &b), 0);

    /* The last page-flags subscriber gone: the bus falls back to map hooks. */
    CHECK_EQ(bus_add_page_flags_hook(&bus, tagged_flags, &a), 0);
    CHECK_EQ(bus_add_map_hook(&bus, count_call, &map_changes), 0);
    bus_remove_page_flags_hook(&bus, tagged_flags, &a);
    bus_set_page_flags(&bus, 0x2000, BUS_PAGE_TRACED, 0);
    CHECK_EQ(map_changes, 1);
    bus_remove_map_hook(&bus, count_call, &map_changes);
    bus_set_a20(&bus, false);
    CHECK_EQ(map_changes, 1);
    bus_destroy(&bus);
}

/* A real-mode CPU on 'bus' with CS base 0, about to run at 'eip'. */
static void cpu_at(struct cpu *cpu, uint32_t eip)
{
    cpu->s.seg[SEG_CS].selector = 0;
    cpu->s.seg[SEG_CS].base = 0;
    cpu->s.eip = eip;
    cpu_state_changed(cpu);
}

/*
 * Two CPUs (a VMM's hardware and virtual CPU) share RAM: a write by either,
 * or by the bus itself, must invalidate the blocks each has decoded.  They
 * decode different 64-byte chunks of one page, so each one's cache alone
 * knows its own code is there.
 */
TEST(two_cpus_on_one_bus_both_see_code_writes)
{
    static struct cpu a, b;
    /* A: mov al, 1.   B: mov byte [0x1001], 2 (A's immediate). */
    static const uint8_t code_a[] = { 0xB0, 0x01 };
    static const uint8_t code_b[] = { 0xC6, 0x06, 0x01, 0x10, 0x02 };
    CHECK_EQ(bus_init(&bus, 1 * MiB), 0);
    CHECK_EQ(cpu_init(&a, &bus), 0);
    CHECK_EQ(cpu_init(&b, &bus), 0);
    CHECK_EQ(bus.code_hooks.count, 2);
    bus_write_block(&bus, 0x1000, code_a, sizeof code_a);
    bus_write_block(&bus, 0x1800, code_b, sizeof code_b);

    cpu_at(&a, 0x1000);
    CHECK_EQ(cpu_run(&a, 0, true).reason, CPU_EXIT_STEP);
    CHECK_EQ(a.s.regs[R_EAX] & 0xFF, 1);
    CHECK_EQ(a.stats.blocks_decoded, 1);

    /* B's store lands in A's code: A's hook must see it. */
    cpu_at(&b, 0x1800);
    CHECK_EQ(cpu_run(&b, 0, true).reason, CPU_EXIT_STEP);
    CHECK_EQ(bus_read(&bus, 0x1001, 1), 2);
    cpu_at(&a, 0x1000);
    CHECK_EQ(cpu_run(&a, 0, true).reason, CPU_EXIT_STEP);
    CHECK_EQ(a.s.regs[R_EAX] & 0xFF, 2);
    CHECK_EQ(a.stats.blocks_decoded, 2);

    /* A plain bus write into B's code: B decodes again too. */
    cpu_at(&b, 0x1800);
    CHECK_EQ(cpu_run(&b, 0, true).reason, CPU_EXIT_STEP);
    uint64_t decoded = b.stats.blocks_decoded;
    bus_write(&bus, 0x1804, 3, 1);
    cpu_at(&b, 0x1800);
    CHECK_EQ(cpu_run(&b, 0, true).reason, CPU_EXIT_STEP);
    CHECK_EQ(b.stats.blocks_decoded, decoded + 1);
    CHECK_EQ(bus_read(&bus, 0x1001, 1), 3);
    cpu_at(&a, 0x1000);
    CHECK_EQ(cpu_run(&a, 0, true).reason, CPU_EXIT_STEP);
    CHECK_EQ(a.s.regs[R_EAX] & 0xFF, 3);

    cpu_destroy(&b);
    cpu_destroy(&a);
    bus_destroy(&bus);
}

/* kvm's fallback CPU comes and goes on a live bus: it must leave no hook. */
TEST(a_destroyed_cpu_leaves_no_hook_behind)
{
    static struct cpu first, passing;
    CHECK_EQ(bus_init(&bus, 1 * MiB), 0);
    CHECK_EQ(cpu_init(&first, &bus), 0);
    CHECK_EQ(cpu_init(&passing, &bus), 0);
    CHECK_EQ(cpu_set_watchpoint(&passing, 0x2000, 4, CPU_WATCH_WRITE, true), 0);
    CHECK_EQ(bus.watch_hooks.count, 1);
    cpu_destroy(&passing);
    CHECK_EQ(bus.code_hooks.count, 1);
    CHECK_EQ(bus.page_flags_hooks.count, 1);
    CHECK_EQ(bus.map_hooks.count, 1);
    CHECK_EQ(bus.watch_hooks.count, 0);
    CHECK(bus.code_hooks.entry[0].opaque == &first);
    bus_set_a20(&bus, false);                       /* would touch 'passing' */

    /* Clearing the last physical watchpoint unsubscribes too. */
    CHECK_EQ(cpu_set_watchpoint(&first, 0x2000, 4, CPU_WATCH_WRITE, true), 0);
    CHECK_EQ(cpu_set_watchpoint(&first, 0x3000, 4, CPU_WATCH_READ, true), 0);
    CHECK_EQ(bus.watch_hooks.count, 1);
    CHECK_EQ(cpu_clear_watchpoint(&first, 0x2000, 4, CPU_WATCH_WRITE, true), 0);
    CHECK_EQ(bus.watch_hooks.count, 1);
    CHECK_EQ(cpu_clear_watchpoint(&first, 0x3000, 4, CPU_WATCH_READ, true), 0);
    CHECK_EQ(bus.watch_hooks.count, 0);
    cpu_destroy(&first);
    CHECK_EQ(bus.code_hooks.count + bus.page_flags_hooks.count + bus.map_hooks.count, 0);
    bus_destroy(&bus);
}

/* ---------- VMM-private memory ---------- */

TEST(private_alloc_gives_zeroed_pages_in_the_window)
{
    uint32_t p1, p2, p3;
    CHECK_EQ(bus_init(&bus, 1 * MiB), 0);
    CHECK(!bus_private_is_open(&bus));
    CHECK(bus_private_ptr(&bus, BUS_PRIVATE_BASE) == NULL);   /* nothing yet */
    CHECK_EQ(bus_private_alloc(&bus, 100, &p1), 0);
    CHECK_EQ(p1, BUS_PRIVATE_BASE);
    CHECK_EQ(bus_private_alloc(&bus, PAGE_SIZE + 1, &p2), 0);  /* two pages */
    CHECK_EQ(p2, BUS_PRIVATE_BASE + PAGE_SIZE);
    CHECK_EQ(bus_private_alloc(&bus, PAGE_SIZE, &p3), 0);
    CHECK_EQ(p3, BUS_PRIVATE_BASE + 3 * PAGE_SIZE);
    uint8_t *host = bus_private_ptr(&bus, p2 + 0x10);
    CHECK(host != NULL);
    CHECK(host == bus_private_ptr(&bus, p1) + PAGE_SIZE + 0x10);
    for (uint32_t i = 0; i < 2 * PAGE_SIZE; i++)
        CHECK_EQ(bus_private_ptr(&bus, p2)[i], 0);
    CHECK(bus_private_ptr(&bus, p3 + PAGE_SIZE) == NULL);     /* past what was given */
    CHECK(bus_private_ptr(&bus, BUS_PRIVATE_BASE - 1) == NULL);
    CHECK_EQ(bus_private_alloc(&bus, 0, &p1), -EINVAL);
    CHECK_EQ(bus_private_alloc(&bus, BUS_PRIVATE_MAX, &p1), -ENOSPC);
    CHECK_EQ(bus_private_alloc(&bus, 0xFFFFFFFFu, &p1), -ENOSPC);
    /* The window is the VMM's: no region may be mapped there. */
    struct probe dev = { 0 };
    CHECK_EQ(bus_add_mmio(&bus, "lfb", BUS_PRIVATE_BASE + BUS_PRIVATE_MAX - PAGE_SIZE, 2 * PAGE_SIZE,
                          &probe_ops, &dev), -EINVAL);
    CHECK_EQ(bus_add_mmio(&bus, "below", BUS_PRIVATE_BASE - PAGE_SIZE, PAGE_SIZE, &probe_ops, &dev), 0);
    bus_destroy(&bus);                              /* frees the window (ASan checks) */
    /* Guest RAM must end below the window. */
    CHECK_EQ(bus_init(&bus, BUS_PRIVATE_BASE + PAGE_SIZE), -EINVAL);
    bus_destroy(&bus);
}

TEST(private_memory_is_reached_only_while_open)
{
    uint32_t p;
    CHECK_EQ(bus_init(&bus, 1 * MiB), 0);
    CHECK_EQ(bus_private_alloc(&bus, 2 * MiB, &p), 0);
    uint8_t *host = bus_private_ptr(&bus, p);
    host[0x10] = 0x5A;

    /* Closed: unassigned memory. */
    CHECK_EQ(bus_read(&bus, p + 0x10, 1), 0xFF);
    CHECK_EQ(bus_read(&bus, p + 0x10, 4), 0xFFFFFFFFu);
    bus_write(&bus, p + 0x10, 0x11, 1);
    CHECK_EQ(host[0x10], 0x5A);
    CHECK(bus_host_ptr(&bus, p, false) == NULL);
    CHECK(bus_host_ptr(&bus, p, true) == NULL);

    /* Open: plain memory, with host pointers for the TLB. */
    bus_private_open(&bus, true);
    CHECK(bus_private_is_open(&bus));
    CHECK_EQ(bus_read(&bus, p + 0x10, 1), 0x5A);
    bus_write(&bus, p + 0x20, 0xCAFEF00Du, 4);
    CHECK_EQ(host[0x20], 0x0D);
    CHECK_EQ(host[0x23], 0xCA);
    CHECK(bus_host_ptr(&bus, p + 0x20, false) == host + 0x20);
    CHECK(bus_host_ptr(&bus, p + 0x20, true) == host + 0x20);
    bus_write(&bus, p + 0xFFE, 0x44332211u, 4);    /* across a private page */
    CHECK_EQ(host[0x1001], 0x44);
    CHECK_EQ(bus_read(&bus, p + 0xFFE, 4), 0x44332211u);
    /* The rest of the window: nothing there. */
    uint32_t beyond = p + 2 * MiB;
    CHECK_EQ(bus_read(&bus, beyond, 4), 0xFFFFFFFFu);
    CHECK(bus_host_ptr(&bus, beyond, false) == NULL);
    bus_write(&bus, beyond - 2, 0xBBAA, 4);          /* half in, half past */
    CHECK_EQ(bus_read(&bus, beyond - 2, 4), 0xFFFFBBAAu);
    /* A20 off masks guest addresses only, not the VMM's. */
    bus_set_a20(&bus, false);
    bus_write(&bus, p + MiB, 0x77, 1);
    CHECK_EQ(host[MiB], 0x77);
    CHECK_EQ(host[0], 0x00);
    bus_set_a20(&bus, true);
    /* Guest memory still works while open. */
    bus_write(&bus, 0x1000, 0x99, 1);
    CHECK_EQ(bus.ram[0x1000], 0x99);

    bus_private_open(&bus, false);
    CHECK_EQ(bus_read(&bus, p + 0x20, 4), 0xFFFFFFFFu);
    CHECK(bus_host_ptr(&bus, p + 0x20, false) == NULL);
    bus_destroy(&bus);
}

/* Loaders, DMA, the monitor and GDB copy blocks: never to or from the VMM. */
TEST(block_copies_never_reach_private_memory)
{
    uint32_t p;
    uint8_t buf[0x20], ones[0x20];
    CHECK_EQ(bus_init(&bus, 1 * MiB), 0);
    CHECK_EQ(bus_private_alloc(&bus, 2 * PAGE_SIZE, &p), 0);
    uint8_t *host = bus_private_ptr(&bus, p);
    memset(host, 0x42, 2 * PAGE_SIZE);
    memset(ones, 0xFF, sizeof ones);
    memset(buf, 0x11, sizeof buf);
    for (int open = 0; open < 2; open++) {
        bus_private_open(&bus, open);
        bus_read_block(&bus, p, buf, sizeof buf);
        CHECK(memcmp(buf, ones, sizeof buf) == 0);
        bus_read_block(&bus, p + PAGE_SIZE - 0x10, buf, sizeof buf);   /* across pages */
        CHECK(memcmp(buf, ones, sizeof buf) == 0);
        bus_write_block(&bus, p, ones, sizeof ones);
        bus_write_block(&bus, p + PAGE_SIZE - 0x10, ones, sizeof ones);
        bus_write_block(&bus, BUS_PRIVATE_BASE - 0x10, ones, sizeof ones);  /* from below */
        for (uint32_t i = 0; i < 2 * PAGE_SIZE; i++)
            CHECK_EQ(host[i], 0x42);
    }
    bus_destroy(&bus);
}

TEST_MAIN()
