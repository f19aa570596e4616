/*
 * bus.c - the physical bus: guest RAM, ROM and MMIO regions, the I/O ports.
 *
 * What answers a physical address, in order:
 *
 *   0. The VMM-private window, while a VMM has it open (bus_read,
 *      bus_write and bus_host_ptr only; see bus.h).  It is not on the PC's
 *      bus, so A20 does not apply to it.
 *   1. A20: bit 20 of the address is forced to 0 when the gate is off, on
 *      every other access, before anything else looks at it.
 *   2. A region (ROM or MMIO) that contains it.  Regions never overlap one
 *      another, so at most one does; they shadow RAM, as the PC chipset
 *      shadows 0xA0000-0xFFFFF.
 *   3. RAM, below ram_size.
 *   4. Nothing: reads give all ones (a floating data bus), writes vanish.
 *
 * An access that crosses a 4 KiB page or a region edge is split into byte
 * accesses, each resolved on its own (little-endian, lowest byte first), so
 * a dword read straddling the end of RAM gives RAM bytes then 0xFF bytes.
 *
 * Worked example: with 1 MiB of RAM and A20 off, bus_read(bus, 0x10FFF0, 2)
 * reads RAM at 0x0FFF0 (bit 20 dropped), as an 8086 would wrap FFFF:0000.
 *
 * The fast path lives elsewhere: the TLB (mmu/paging.c) caches the host
 * pointers bus_host_ptr hands out, and only what it cannot do comes here.
 */
#include "mmu/bus.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/log.h"

#define BUS_PAGE_OFFSET (PAGE_SIZE - 1u)

/* All ones in an access of 'size' bytes: what nobody driving the bus gives. */
static uint32_t bus_all_ones(unsigned size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8u)) - 1u;
}

/* Little-endian loads and stores of 1, 2 or 4 bytes, whatever the host. */
static uint32_t bus_load(const uint8_t *p, unsigned size)
{
    uint32_t value = 0;
    for (unsigned i = 0; i < size; i++)
        value |= (uint32_t)p[i] << (8u * i);
    return value;
}

static void bus_store(uint8_t *p, uint32_t value, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        p[i] = (uint8_t)(value >> (8u * i));
}

/* Do [a, a+alen) and [b, b+blen) share a byte?  64-bit: ranges may end at 4 GiB. */
static bool bus_ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* ---------- subscribers ---------- */

static int bus_hooks_add(struct bus_hook_list *list, void (*fn)(void), void *opaque)
{
    assert(fn);
    for (int i = 0; i < list->count; i++)
        if (list->entry[i].fn == fn && list->entry[i].opaque == opaque)
            return 0;
    if (list->count >= BUS_MAX_HOOKS)
        return -ENOSPC;
    list->entry[list->count].fn = fn;
    list->entry[list->count].opaque = opaque;
    list->count++;
    return 0;
}

/* Remove a pair, keeping the others in the order they were added. */
static void bus_hooks_remove(struct bus_hook_list *list, void (*fn)(void), void *opaque)
{
    for (int i = 0; i < list->count; i++) {
        if (list->entry[i].fn != fn || list->entry[i].opaque != opaque)
            continue;
        memmove(&list->entry[i], &list->entry[i + 1],
                (size_t)(list->count - i - 1) * sizeof list->entry[0]);
        list->count--;
        return;
    }
}

/*
 * The typed wrappers: each kind's callback type goes in and comes back out
 * of the generic slot through a cast, which is all C guarantees for
 * function pointers of different types (C11 6.3.2.3p8).
 */
int bus_add_code_hook(struct bus *bus, bus_write_hook fn, void *opaque)
{
    return bus_hooks_add(&bus->code_hooks, (void (*)(void))fn, opaque);
}

void bus_remove_code_hook(struct bus *bus, bus_write_hook fn, void *opaque)
{
    bus_hooks_remove(&bus->code_hooks, (void (*)(void))fn, opaque);
}

int bus_add_trace_hook(struct bus *bus, bus_write_hook fn, void *opaque)
{
    return bus_hooks_add(&bus->trace_hooks, (void (*)(void))fn, opaque);
}

void bus_remove_trace_hook(struct bus *bus, bus_write_hook fn, void *opaque)
{
    bus_hooks_remove(&bus->trace_hooks, (void (*)(void))fn, opaque);
}

int bus_add_map_hook(struct bus *bus, bus_map_hook fn, void *opaque)
{
    return bus_hooks_add(&bus->map_hooks, (void (*)(void))fn, opaque);
}

void bus_remove_map_hook(struct bus *bus, bus_map_hook fn, void *opaque)
{
    bus_hooks_remove(&bus->map_hooks, (void (*)(void))fn, opaque);
}

int bus_add_page_flags_hook(struct bus *bus, bus_page_flags_hook fn, void *opaque)
{
    return bus_hooks_add(&bus->page_flags_hooks, (void (*)(void))fn, opaque);
}

void bus_remove_page_flags_hook(struct bus *bus, bus_page_flags_hook fn, void *opaque)
{
    bus_hooks_remove(&bus->page_flags_hooks, (void (*)(void))fn, opaque);
}

int bus_add_watch_hook(struct bus *bus, bus_watch_hook fn, void *opaque)
{
    return bus_hooks_add(&bus->watch_hooks, (void (*)(void))fn, opaque);
}

void bus_remove_watch_hook(struct bus *bus, bus_watch_hook fn, void *opaque)
{
    bus_hooks_remove(&bus->watch_hooks, (void (*)(void))fn, opaque);
}

static void bus_call_write_hooks(const struct bus_hook_list *list, uint32_t addr, unsigned size)
{
    for (int i = 0; i < list->count; i++)
        ((bus_write_hook)list->entry[i].fn)(list->entry[i].opaque, addr, size);
}

static void bus_call_watch_hooks(const struct bus *bus, uint32_t addr, unsigned size, bool write)
{
    const struct bus_hook_list *list = &bus->watch_hooks;
    for (int i = 0; i < list->count; i++)
        ((bus_watch_hook)list->entry[i].fn)(list->entry[i].opaque, addr, size, write);
}

/* Tell the TLBs that what backs some physical addresses changed. */
static void bus_notify_map_changed(struct bus *bus)
{
    bus->map_generation++;
    const struct bus_hook_list *list = &bus->map_hooks;
    for (int i = 0; i < list->count; i++)
        ((bus_map_hook)list->entry[i].fn)(list->entry[i].opaque);
}

int bus_init(struct bus *bus, uint32_t ram_size)
{
    memset(bus, 0, sizeof *bus);
    bus->a20_mask = 0xFFFFFFFFu;
    /* Above BUS_PRIVATE_BASE, RAM would answer addresses of the VMM's window. */
    if (ram_size == 0 || ram_size % PAGE_SIZE != 0 || ram_size > BUS_PRIVATE_BASE)
        return -EINVAL;

    /*
     * mmap rather than calloc: zeroed, page-aligned (KVM_SET_USER_MEMORY_REGION
     * wants that) and only backed by host memory where the guest touches it.
     */
    void *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED)
        return -errno;
    uint32_t pages = ram_size / PAGE_SIZE;
    bus->page_flags = calloc(pages, sizeof *bus->page_flags);
    bus->code_generation = calloc(pages, sizeof *bus->code_generation);
    if (!bus->page_flags || !bus->code_generation)
        goto fail_tables;
    bus->ram = ram;
    bus->ram_size = ram_size;
    return 0;

fail_tables:
    free(bus->page_flags);
    free(bus->code_generation);
    bus->page_flags = NULL;
    bus->code_generation = NULL;
    munmap(ram, ram_size);
    return -ENOMEM;
}

void bus_destroy(struct bus *bus)
{
    if (bus->ram)
        munmap(bus->ram, bus->ram_size);
    free(bus->page_flags);
    free(bus->code_generation);
    for (int i = 0; i < bus->region_count; i++)
        free(bus->regions[i].rom);
    if (bus->private_mem)
        munmap(bus->private_mem, BUS_PRIVATE_MAX);
    free(bus->private_code_generation);
    bus->private_code_generation = NULL;
    memset(bus, 0, sizeof *bus);
    bus->a20_mask = 0xFFFFFFFFu;
}

/*
 * Check a new region [start, start+size) and return its slot, or NULL with
 * *err set: -EINVAL when empty, past 4 GiB, overlapping another region or
 * the VMM-private window (which must stay the VMM's alone), -ENOSPC when
 * the table is full.
 */
static struct bus_region *bus_new_region(struct bus *bus, uint32_t start, uint32_t size, int *err)
{
    *err = -EINVAL;
    if (size == 0 || (uint64_t)start + size > 0x100000000ull ||
        bus_ranges_overlap(start, size, BUS_PRIVATE_BASE, BUS_PRIVATE_MAX))
        return NULL;
    for (int i = 0; i < bus->region_count; i++)
        if (bus_ranges_overlap(start, size, bus->regions[i].start, bus->regions[i].size))
            return NULL;
    *err = -ENOSPC;
    if (bus->region_count >= BUS_MAX_REGIONS)
        return NULL;
    *err = 0;
    struct bus_region *r = &bus->regions[bus->region_count];
    memset(r, 0, sizeof *r);
    r->start = start;
    r->size = size;
    return r;
}

int bus_add_rom(struct bus *bus, const char *name, uint32_t start, const void *data, uint32_t size)
{
    int err;
    if (!data)
        return -EINVAL;
    struct bus_region *r = bus_new_region(bus, start, size, &err);
    if (!r)
        return err;
    r->rom = malloc(size);
    if (!r->rom)
        return -ENOMEM;
    memcpy(r->rom, data, size);
    r->kind = REGION_ROM;
    r->name = name;
    bus->region_count++;
    bus_notify_map_changed(bus);
    return 0;
}

int bus_add_mmio(struct bus *bus, const char *name, uint32_t start, uint32_t size,
                 const struct io_ops *ops, void *opaque)
{
    int err;
    if (!ops)
        return -EINVAL;
    struct bus_region *r = bus_new_region(bus, start, size, &err);
    if (!r)
        return err;
    r->kind = REGION_MMIO;
    r->ops = ops;
    r->opaque = opaque;
    r->name = name;
    bus->region_count++;
    bus_notify_map_changed(bus);
    return 0;
}

int bus_add_ports(struct bus *bus, const char *name, uint16_t start, uint16_t count,
                  const struct io_ops *ops, void *opaque)
{
    if (!ops || count == 0 || (uint32_t)start + count > 65536u)
        return -EINVAL;
    for (uint32_t p = start; p < (uint32_t)start + count; p++)
        if (bus->port_index[p])
            return -EINVAL;
    if (bus->port_range_count >= BUS_MAX_PORT_RANGES)
        return -ENOSPC;
    int index = bus->port_range_count++;
    bus->ports[index] = (struct bus_port_range){
        .start = start, .count = count, .ops = ops, .opaque = opaque, .name = name,
    };
    for (uint32_t p = start; p < (uint32_t)start + count; p++)
        bus->port_index[p] = (uint8_t)(index + 1);
    return 0;
}

/*
 * A multi-byte port access goes whole to the range that claims its first
 * port, as the device on the ISA bus that decodes that address answers it;
 * the device decides what a word access to its last port means.
 */
uint32_t bus_port_read(struct bus *bus, uint16_t port, unsigned size)
{
    assert(size == 1 || size == 2 || size == 4);
    unsigned index = bus->port_index[port];
    if (index == 0) {
        bus->unassigned_port_reads++;
        log_msg(LOG_GUEST_ERRORS, "guest_errors: bus: read of unassigned I/O port 0x%04x (size %u): all ones\n", port, size);
        return bus_all_ones(size);
    }
    const struct bus_port_range *range = &bus->ports[index - 1];
    if (!range->ops->read)
        return bus_all_ones(size);
    return range->ops->read(range->opaque, (uint32_t)(port - range->start), size) & bus_all_ones(size);
}

void bus_port_write(struct bus *bus, uint16_t port, uint32_t value, unsigned size)
{
    assert(size == 1 || size == 2 || size == 4);
    unsigned index = bus->port_index[port];
    if (index == 0) {
        bus->unassigned_port_writes++;
        log_msg(LOG_GUEST_ERRORS, "guest_errors: bus: write of 0x%x to unassigned I/O port 0x%04x (size %u): ignored\n",
                value, port, size);
        return;
    }
    const struct bus_port_range *range = &bus->ports[index - 1];
    if (range->ops->write)
        range->ops->write(range->opaque, (uint32_t)(port - range->start), value & bus_all_ones(size), size);
}

/* The region holding the (masked) physical byte 'paddr', or NULL. */
static const struct bus_region *bus_region_at(const struct bus *bus, uint32_t paddr)
{
    for (int i = bus->region_count - 1; i >= 0; i--) {
        const struct bus_region *r = &bus->regions[i];
        if (paddr - r->start < r->size)   /* unsigned: also false below start */
            return r;
    }
    return NULL;
}

/*
 * Resolve the (masked) access [paddr, paddr+size) to one target: *region,
 * or NULL for RAM / nothing.  False when the access crosses a page or a
 * region edge, so that its bytes go to different targets: split it.
 */
static bool bus_resolve(const struct bus *bus, uint32_t paddr, unsigned size,
                        const struct bus_region **region)
{
    if ((paddr & BUS_PAGE_OFFSET) + size > PAGE_SIZE)
        return false;
    const struct bus_region *r = bus_region_at(bus, paddr);
    *region = r;
    if (r)
        return paddr + size - 1u - r->start < r->size;
    for (int i = 0; i < bus->region_count && size > 1; i++)
        if (bus_ranges_overlap(paddr, size, bus->regions[i].start, bus->regions[i].size))
            return false;
    return true;   /* RAM ends on a page boundary: all RAM or all nothing */
}

/* ---------- VMM-private memory ---------- */

static bool bus_in_private_window(uint32_t paddr)
{
    return paddr - BUS_PRIVATE_BASE < BUS_PRIVATE_MAX;   /* unsigned: false below */
}

int bus_private_alloc(struct bus *bus, uint32_t bytes, uint32_t *paddr)
{
    if (bytes == 0)
        return -EINVAL;
    uint64_t pages_bytes = ((uint64_t)bytes + BUS_PAGE_OFFSET) & ~(uint64_t)BUS_PAGE_OFFSET;
    if (bus->private_size + pages_bytes > BUS_PRIVATE_MAX)
        return -ENOSPC;
    if (!bus->private_mem) {
        /*
         * The whole window at once, so every allocation is contiguous and a
         * host pointer stays valid across pages; MAP_NORESERVE, as for RAM:
         * only what the VMM touches takes host memory.
         */
        void *mem = mmap(NULL, BUS_PRIVATE_MAX, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (mem == MAP_FAILED)
            return -ENOMEM;
        bus->private_mem = mem;
        bus->private_code_generation = calloc(BUS_PRIVATE_MAX >> PAGE_SHIFT, sizeof *bus->private_code_generation);
        if (!bus->private_code_generation) {
            munmap(mem, BUS_PRIVATE_MAX);
            bus->private_mem = NULL;
            return -ENOMEM;
        }
    }
    /* Fresh anonymous pages read zero, and nothing is ever given back. */
    *paddr = BUS_PRIVATE_BASE + bus->private_size;
    bus->private_size += (uint32_t)pages_bytes;
    return 0;
}

uint8_t *bus_private_ptr(struct bus *bus, uint32_t paddr)
{
    uint32_t offset = paddr - BUS_PRIVATE_BASE;
    if (!bus_in_private_window(paddr) || offset >= bus->private_size)
        return NULL;
    return bus->private_mem + offset;
}

void bus_private_open(struct bus *bus, bool open)
{
    bus->private_open = open;
}

bool bus_private_is_open(const struct bus *bus)
{
    return bus->private_open;
}

void bus_private_code_changed(struct bus *bus, uint32_t paddr, uint32_t bytes)
{
    if (!bytes || !bus->private_code_generation || !bus_in_private_window(paddr))
        return;
    uint32_t first = (paddr - BUS_PRIVATE_BASE) >> PAGE_SHIFT;
    uint32_t last = (uint32_t)(((uint64_t)paddr - BUS_PRIVATE_BASE + bytes - 1) >> PAGE_SHIFT);
    for (uint32_t p = first; p <= last && p < (BUS_PRIVATE_MAX >> PAGE_SHIFT); p++)
        bus->private_code_generation[p]++;
}

/*
 * Does the open window take the access [paddr, paddr+size)?  *host is then
 * its private bytes, or NULL for the unallocated rest of the window.  An
 * access that crosses a page goes byte by byte, so it never reads past an
 * allocation.
 */
static bool bus_private_access(struct bus *bus, uint32_t paddr, unsigned size, uint8_t **host)
{
    if (!bus->private_open || !bus_in_private_window(paddr))
        return false;
    *host = (paddr & BUS_PAGE_OFFSET) + size <= PAGE_SIZE ? bus_private_ptr(bus, paddr) : NULL;
    return true;
}

/* ---------- guest-physical accesses ---------- */

/* What a guest-physical address reaches: never the private window. */
static uint32_t bus_read_guest(struct bus *bus, uint32_t paddr, unsigned size)
{
    uint32_t addr = paddr & bus->a20_mask;
    const struct bus_region *r;
    if (!bus_resolve(bus, addr, size, &r)) {
        /* Byte by byte, each from the unmasked address: A20 masks each one. */
        uint32_t value = 0;
        for (unsigned i = 0; i < size; i++)
            value |= bus_read_guest(bus, paddr + i, 1) << (8u * i);
        return value;
    }
    if (r && r->kind == REGION_MMIO) {
        if (!r->ops->read)
            return bus_all_ones(size);
        return r->ops->read(r->opaque, addr - r->start, size) & bus_all_ones(size);
    }
    if (r)
        return bus_load(r->rom + (addr - r->start), size);
    if (addr < bus->ram_size) {
        uint32_t value = bus_load(bus->ram + addr, size);
        if (bus->page_flags[addr >> PAGE_SHIFT] & BUS_PAGE_WATCHED)
            bus_call_watch_hooks(bus, addr, size, false);
        return value;
    }
    return bus_all_ones(size);
}

uint32_t bus_read(struct bus *bus, uint32_t paddr, unsigned size)
{
    assert(size == 1 || size == 2 || size == 4);
    uint8_t *host;
    if (!bus_private_access(bus, paddr, size, &host))
        return bus_read_guest(bus, paddr, size);
    if (host)
        return bus_load(host, size);
    if ((paddr & BUS_PAGE_OFFSET) + size <= PAGE_SIZE)
        return bus_all_ones(size);   /* the window's unallocated part */
    uint32_t value = 0;
    for (unsigned i = 0; i < size; i++)
        value |= bus_read(bus, paddr + i, 1) << (8u * i);
    return value;
}

/* Run the hooks of a RAM page after 'size' bytes at 'addr' were written. */
static void bus_ram_written(struct bus *bus, uint32_t addr, unsigned size)
{
    uint8_t flags = bus->page_flags[addr >> PAGE_SHIFT];
    if (flags & (BUS_PAGE_CODE | BUS_PAGE_TRANSLATED))
        bus_call_write_hooks(&bus->code_hooks, addr, size);
    if (flags & BUS_PAGE_TRACED)
        bus_call_write_hooks(&bus->trace_hooks, addr, size);
}

static void bus_write_guest(struct bus *bus, uint32_t paddr, uint32_t value, unsigned size)
{
    uint32_t addr = paddr & bus->a20_mask;
    const struct bus_region *r;
    if (!bus_resolve(bus, addr, size, &r)) {
        for (unsigned i = 0; i < size; i++)
            bus_write_guest(bus, paddr + i, (value >> (8u * i)) & 0xFFu, 1);
        return;
    }
    value &= bus_all_ones(size);
    if (r && r->kind == REGION_MMIO) {
        if (r->ops->write)
            r->ops->write(r->opaque, addr - r->start, value, size);
        return;
    }
    if (r) {      /* ROM: the chip ignores writes */
        log_msg(LOG_GUEST_ERRORS, "guest_errors: bus: write of 0x%x to ROM '%s' at %08x (size %u): ignored\n",
                value, r->name, addr, size);
        return;
    }
    if (addr < bus->ram_size) {
        bus_store(bus->ram + addr, value, size);
        bus_ram_written(bus, addr, size);
        if (bus->page_flags[addr >> PAGE_SHIFT] & BUS_PAGE_WATCHED)
            bus_call_watch_hooks(bus, addr, size, true);
    }
}

void bus_write(struct bus *bus, uint32_t paddr, uint32_t value, unsigned size)
{
    assert(size == 1 || size == 2 || size == 4);
    uint8_t *host;
    if (!bus_private_access(bus, paddr, size, &host)) {
        bus_write_guest(bus, paddr, value, size);
        return;
    }
    if (host)
        bus_store(host, value, size);
    else if ((paddr & BUS_PAGE_OFFSET) + size > PAGE_SIZE)
        for (unsigned i = 0; i < size; i++)
            bus_write(bus, paddr + i, (value >> (8u * i)) & 0xFFu, 1);
    /* else the window's unallocated part: dropped */
}

/*
 * The page holding masked 'addr' when one target covers all of it: the RAM
 * page (*rom = false) or a whole-page ROM window (*rom = true).  NULL when
 * MMIO, nothing, or more than one target shares the page.
 */
static uint8_t *bus_whole_page(const struct bus *bus, uint32_t addr, bool *rom)
{
    uint32_t page = addr & PAGE_MASK;
    const struct bus_region *found = NULL;
    for (int i = 0; i < bus->region_count; i++) {
        const struct bus_region *r = &bus->regions[i];
        if (!bus_ranges_overlap(page, PAGE_SIZE, r->start, r->size))
            continue;
        if (found)
            return NULL;
        found = r;
    }
    *rom = found != NULL;
    if (found) {
        bool whole = page >= found->start &&
                     (uint64_t)page + PAGE_SIZE <= (uint64_t)found->start + found->size;
        if (found->kind != REGION_ROM || !whole)
            return NULL;
        return found->rom + (addr - found->start);
    }
    if (addr >= bus->ram_size)
        return NULL;
    return bus->ram + addr;
}

uint8_t *bus_host_ptr(struct bus *bus, uint32_t paddr, bool write)
{
    if (bus->private_open && bus_in_private_window(paddr))
        return bus_private_ptr(bus, paddr);   /* no flags, no hooks: plain memory */
    uint32_t addr = paddr & bus->a20_mask;
    bool rom;
    uint8_t *host = bus_whole_page(bus, addr, &rom);
    if (!host || rom)
        return write ? NULL : host;
    /* A RAM page: slow flags take writes, a watchpoint reads too, to the bus. */
    uint8_t slow = write ? BUS_PAGE_SLOW : BUS_PAGE_WATCHED;
    if (bus->page_flags[addr >> PAGE_SHIFT] & slow)
        return NULL;
    return host;
}

void bus_read_block(struct bus *bus, uint32_t paddr, void *dst, uint32_t len)
{
    uint8_t *out = dst;
    while (len) {
        uint32_t chunk = PAGE_SIZE - (paddr & BUS_PAGE_OFFSET);
        if (chunk > len)
            chunk = len;
        /* Whole RAM or ROM pages directly, watched or not (no watch hook). */
        bool rom;
        const uint8_t *host = bus_whole_page(bus, paddr & bus->a20_mask, &rom);
        if (host)
            memcpy(out, host, chunk);
        else
            for (uint32_t i = 0; i < chunk; i++)
                out[i] = (uint8_t)bus_read_guest(bus, paddr + i, 1);
        paddr += chunk;   /* wraps at 4 GiB, as the address bus does */
        out += chunk;
        len -= chunk;
    }
}

void bus_write_block(struct bus *bus, uint32_t paddr, const void *src, uint32_t len)
{
    const uint8_t *in = src;
    while (len) {
        uint32_t chunk = PAGE_SIZE - (paddr & BUS_PAGE_OFFSET);
        if (chunk > len)
            chunk = len;
        /* A20 only touches bit 20, constant within the page: mask once. */
        uint32_t addr = paddr & bus->a20_mask;
        bool rom;
        uint8_t *host = bus_whole_page(bus, addr, &rom);
        if (host && !rom) {
            memcpy(host, in, chunk);
            bus_ram_written(bus, addr, chunk);
        } else if (!host) {
            for (uint32_t i = 0; i < chunk; i++)
                bus_write_guest(bus, paddr + i, in[i], 1);
        }   /* else a whole ROM page: ignored */
        paddr += chunk;
        in += chunk;
        len -= chunk;
    }
}

void bus_set_a20(struct bus *bus, bool enabled)
{
    uint32_t mask = enabled ? 0xFFFFFFFFu : ~(1u << 20);
    if (mask == bus->a20_mask)
        return;   /* nothing moved: no TLB needs to refill */
    bus->a20_mask = mask;
    bus_notify_map_changed(bus);
}

bool bus_a20_enabled(const struct bus *bus)
{
    return bus->a20_mask == 0xFFFFFFFFu;
}

void bus_set_page_flags(struct bus *bus, uint32_t paddr, uint8_t set, uint8_t clear)
{
    uint32_t addr = paddr & bus->a20_mask;
    if (addr >= bus->ram_size)
        return;
    uint8_t *flags = &bus->page_flags[addr >> PAGE_SHIFT];
    uint8_t old = *flags;
    *flags = (uint8_t)((old | set) & ~clear);
    /*
     * Only gaining a slow bit invalidates cached write pointers; losing one
     * just lets the next TLB refill take the fast path again.
     */
    if (!(*flags & ~old & BUS_PAGE_SLOW))
        return;
    const struct bus_hook_list *list = &bus->page_flags_hooks;
    if (list->count == 0) {
        bus_notify_map_changed(bus);
        return;
    }
    for (int i = 0; i < list->count; i++)
        ((bus_page_flags_hook)list->entry[i].fn)(list->entry[i].opaque, addr & PAGE_MASK);
}

void bus_mark_code_page(struct bus *bus, uint32_t paddr)
{
    bus_set_page_flags(bus, paddr, BUS_PAGE_CODE, 0);
}
