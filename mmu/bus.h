/*
 * bus.h - the physical bus: guest RAM, ROM, MMIO and the I/O port space.
 *
 * One bus per machine, shared by every engine: the software CPU reads and
 * writes through it (via the TLB in mmu.h), the kvm engine registers its RAM
 * with KVM and sends KVM_EXIT_IO / KVM_EXIT_MMIO here.
 *
 *   0x00000000 +-------------------------+
 *              | RAM (-m, default 128M)  |  host pointers, fast path
 *              |  0xA0000-0xBFFFF: MMIO  |  (VGA when a device claims it)
 *              |  0xC0000-0xFFFFF: ROM   |  (BIOS, option ROMs)
 *   ram_size   +-------------------------+
 *              | unmapped: reads ~0      |
 *   0xFFFE0000 | ROM alias (BIOS top)    |
 *   0xFFFFFFFF +-------------------------+
 *
 * Regions added later take precedence over RAM (a ROM inside the RAM range
 * shadows it, as the PC chipset does for 0xC0000-0xFFFFF).
 *
 * The A20 gate: when disabled, physical address bit 20 is forced to 0 on
 * every access (8086 wrap-around), as the PC does (port 0x92 / 8042).
 */
#ifndef TRAPEZE_BUS_H
#define TRAPEZE_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096u
#define PAGE_SHIFT 12
#define PAGE_MASK 0xFFFFF000u

/*
 * The device interface (STYLE.md 6): the same for ports and MMIO, for every
 * engine.  'offset' is relative to the region's start; size is 1, 2 or 4.
 */
struct io_ops {
    uint32_t (*read)(void *opaque, uint32_t offset, unsigned size);
    void (*write)(void *opaque, uint32_t offset, uint32_t value, unsigned size);
};

/* Per-page flags for RAM pages (bus->page_flags). */
#define BUS_PAGE_CODE    0x01 /* decoded instructions were taken from it */
#define BUS_PAGE_TRACED  0x02 /* a VMM wants a callback on each write */
#define BUS_PAGE_WATCHED 0x04 /* a physical watchpoint covers it: reads and writes slow */
#define BUS_PAGE_SLOW (BUS_PAGE_CODE | BUS_PAGE_TRACED | BUS_PAGE_WATCHED)

struct bus_region {
    uint32_t start, size;
    enum { REGION_ROM, REGION_MMIO } kind;
    uint8_t *rom;                /* REGION_ROM: the bytes (owned by the bus) */
    const struct io_ops *ops;    /* REGION_MMIO */
    void *opaque;
    const char *name;
};

struct bus_port_range {
    uint16_t start, count;
    const struct io_ops *ops;
    void *opaque;
    const char *name;
};

#define BUS_MAX_REGIONS 32
#define BUS_MAX_PORT_RANGES 64

/* Called after a guest write to a traced page (shadow paging, watchpoints). */
typedef void (*bus_write_hook)(void *opaque, uint32_t paddr, unsigned size);

struct bus {
    uint8_t *ram;                /* guest RAM, ram_size bytes */
    uint32_t ram_size;           /* multiple of PAGE_SIZE */
    uint8_t *page_flags;         /* one byte per RAM page, BUS_PAGE_* */
    uint32_t *code_generation;   /* per RAM page: bumped when its code is invalidated */
    uint32_t a20_mask;           /* 0xFFFFFFFF, or ~(1 << 20) when A20 is off */

    struct bus_region regions[BUS_MAX_REGIONS];
    int region_count;
    struct bus_port_range ports[BUS_MAX_PORT_RANGES];
    int port_range_count;
    uint8_t port_index[65536];   /* 0 = none, else 1 + index into ports[] */

    bus_write_hook trace_hook;   /* for BUS_PAGE_TRACED pages */
    void *trace_opaque;

    /* Invalidation of decoded code: the CPU's block cache registers here. */
    void (*code_written)(void *opaque, uint32_t paddr, unsigned size);
    void *code_opaque;

    /* Changed when the memory map or A20 changes: TLBs must refill. */
    uint32_t map_generation;
    void (*map_changed)(void *opaque);
    void *map_opaque;

    /*
     * Called when a RAM page gains BUS_PAGE_SLOW flags (bus_set_page_flags,
     * bus_mark_code_page): TLBs must drop their write entries for the
     * physical page 'paddr' (mmu_flush_paddr) so writes take bus_write and
     * its hooks (and, for BUS_PAGE_WATCHED, its read entries, so reads take
     * bus_read).  When NULL, the bus bumps map_generation and calls
     * map_changed instead (correct, but every TLB refills).
     */
    void (*page_flags_changed)(void *opaque, uint32_t paddr);
    void *page_flags_opaque;

    /*
     * Called by bus_read and bus_write for each access to a RAM page
     * flagged BUS_PAGE_WATCHED (physical watchpoints), after it was done,
     * with the A20-masked address.  Such pages are slow for reads too:
     * bus_host_ptr gives no pointer for them.  The block copies
     * (bus_read_block / bus_write_block: loaders, DMA, debugger) do not
     * call it.
     */
    void (*watch_hook)(void *opaque, uint32_t paddr, unsigned size, bool write);
    void *watch_opaque;

    uint64_t unassigned_port_reads, unassigned_port_writes;
};

/* Create a bus with 'ram_size' bytes of zeroed RAM; returns -errno. */
int bus_init(struct bus *bus, uint32_t ram_size);
void bus_destroy(struct bus *bus);

/* Map a ROM copy of 'data' at 'start' (overrides RAM there). -errno on failure. */
int bus_add_rom(struct bus *bus, const char *name, uint32_t start, const void *data, uint32_t size);
/* Map an MMIO region. */
int bus_add_mmio(struct bus *bus, const char *name, uint32_t start, uint32_t size,
                 const struct io_ops *ops, void *opaque);
/* Claim I/O ports [start, start+count). */
int bus_add_ports(struct bus *bus, const char *name, uint16_t start, uint16_t count,
                  const struct io_ops *ops, void *opaque);

/* Port I/O, the one dispatch all engines use. Unclaimed reads give all ones. */
uint32_t bus_port_read(struct bus *bus, uint16_t port, unsigned size);
void bus_port_write(struct bus *bus, uint16_t port, uint32_t value, unsigned size);

/*
 * Host pointer to the byte at physical 'paddr' (after A20 masking) when it
 * is plain RAM (or ROM, for reads), else NULL.  The pointer is valid to the
 * end of its 4 KiB page.  For writes, pages with BUS_PAGE_SLOW flags return
 * NULL so the caller takes bus_write, which runs the hooks; for reads,
 * BUS_PAGE_WATCHED pages return NULL (bus_read reports them).
 */
uint8_t *bus_host_ptr(struct bus *bus, uint32_t paddr, bool write);

/* Slow-path physical access: RAM, ROM (writes ignored), MMIO, unmapped (~0). */
uint32_t bus_read(struct bus *bus, uint32_t paddr, unsigned size);
void bus_write(struct bus *bus, uint32_t paddr, uint32_t value, unsigned size);

/* Bulk copies for loaders, DMA and the monitor (run the code-write hooks). */
void bus_read_block(struct bus *bus, uint32_t paddr, void *dst, uint32_t len);
void bus_write_block(struct bus *bus, uint32_t paddr, const void *src, uint32_t len);

void bus_set_a20(struct bus *bus, bool enabled);
bool bus_a20_enabled(const struct bus *bus);

/* Mark a RAM page as holding decoded code (writes then take the slow path). */
void bus_mark_code_page(struct bus *bus, uint32_t paddr);

/*
 * Set then clear BUS_PAGE_* bits of the RAM page holding 'paddr' (ignored
 * outside RAM).  Gaining a BUS_PAGE_SLOW bit runs page_flags_changed (which
 * drops read entries too, as BUS_PAGE_WATCHED needs).
 */
void bus_set_page_flags(struct bus *bus, uint32_t paddr, uint8_t set, uint8_t clear);

#endif
