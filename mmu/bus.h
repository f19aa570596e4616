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
 *   0xF0000000 | VMM-private window      |  only while a VMM opens it
 *   0xF4000000 | unmapped: reads ~0      |  (bus_private_alloc, below)
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
/* A binary translator made code from it (translator/): writes call the code
 * hooks too.  Its own bit, so a CPU's block cache clearing BUS_PAGE_CODE
 * never silences the translator's notices. */
#define BUS_PAGE_TRANSLATED 0x08
#define BUS_PAGE_SLOW (BUS_PAGE_CODE | BUS_PAGE_TRACED | BUS_PAGE_WATCHED | BUS_PAGE_TRANSLATED)

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

/*
 * The subscribers' callbacks.  A write hook runs after the bytes were
 * stored, with the A20-masked address of the first byte and the size.
 */
typedef void (*bus_write_hook)(void *opaque, uint32_t paddr, unsigned size);
typedef void (*bus_map_hook)(void *opaque);
typedef void (*bus_page_flags_hook)(void *opaque, uint32_t paddr);
typedef void (*bus_watch_hook)(void *opaque, uint32_t paddr, unsigned size, bool write);

/*
 * Each kind of hook has a few subscribers, not one, because more than one
 * CPU may share a bus: a VMM's "hardware" CPU and its virtual CPU, the kvm
 * engine and its fallback CPU.  They are called in the order added.  The
 * callback is stored as a generic function pointer and cast back to its
 * kind's type (above) before the call, which C allows.
 */
#define BUS_MAX_HOOKS 4

struct bus_hook_list {
    int count;
    struct {
        void (*fn)(void);
        void *opaque;
    } entry[BUS_MAX_HOOKS];
};

struct bus {
    uint8_t *ram;                /* guest RAM, ram_size bytes */
    uint32_t ram_size;           /* multiple of PAGE_SIZE, at most BUS_PRIVATE_BASE */
    uint8_t *page_flags;         /* one byte per RAM page, BUS_PAGE_* */
    uint32_t *code_generation;   /* per RAM page: bumped when its code is invalidated */
    uint32_t a20_mask;           /* 0xFFFFFFFF, or ~(1 << 20) when A20 is off */

    struct bus_region regions[BUS_MAX_REGIONS];
    int region_count;
    struct bus_port_range ports[BUS_MAX_PORT_RANGES];
    int port_range_count;
    uint8_t port_index[65536];   /* 0 = none, else 1 + index into ports[] */

    /* bus_write_hook: after a write to a BUS_PAGE_TRACED page (shadow paging). */
    struct bus_hook_list trace_hooks;

    /*
     * bus_write_hook: after a write to a BUS_PAGE_CODE page.  Each CPU's
     * block cache subscribes; the one whose decoded code was hit bumps
     * code_generation (every CPU's blocks of that page are then stale) and
     * clears the flag.
     */
    struct bus_hook_list code_hooks;

    /* Changed when the memory map or A20 changes: TLBs must refill. */
    uint32_t map_generation;
    struct bus_hook_list map_hooks;          /* bus_map_hook */

    /*
     * bus_page_flags_hook: when a RAM page gains BUS_PAGE_SLOW flags
     * (bus_set_page_flags, bus_mark_code_page): TLBs must drop their write
     * entries for the physical page 'paddr' (mmu_flush_paddr) so writes
     * take bus_write and its hooks (and, for BUS_PAGE_WATCHED, its read
     * entries, so reads take bus_read).  With no subscriber, the bus bumps
     * map_generation and calls the map hooks instead (correct, but every
     * TLB refills).
     */
    struct bus_hook_list page_flags_hooks;

    /*
     * bus_watch_hook: called by bus_read and bus_write for each access to a
     * RAM page flagged BUS_PAGE_WATCHED (physical watchpoints), after it
     * was done, with the A20-masked address.  Such pages are slow for reads
     * too: bus_host_ptr gives no pointer for them.  The block copies
     * (bus_read_block / bus_write_block: loaders, DMA, debugger) do not
     * call it.
     */
    struct bus_hook_list watch_hooks;

    /* VMM-private memory (bus_private_alloc): BUS_PRIVATE_MAX bytes reserved. */
    uint8_t *private_mem;        /* NULL until the first allocation */
    uint32_t private_size;       /* bytes handed out, a multiple of PAGE_SIZE */
    bool private_open;           /* bus_read/bus_write/bus_host_ptr reach it */
    /* Per private page: bumped by bus_private_code_changed, so CPUs may
     * cache blocks decoded from private code (a VMM's translation cache). */
    uint32_t *private_code_generation;

    uint64_t unassigned_port_reads, unassigned_port_writes;
};

/*
 * Create a bus with 'ram_size' bytes of zeroed RAM; returns -errno
 * (-EINVAL when ram_size is 0, not page-aligned or above BUS_PRIVATE_BASE).
 */
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

/*
 * Subscribe to and unsubscribe from the hooks above.  Adding returns 0, or
 * -ENOSPC when BUS_MAX_HOOKS subscribers of that kind exist already; adding
 * a (fn, opaque) pair that is already subscribed does nothing and returns 0.
 * Removing a pair that is not subscribed does nothing.  A hook must not add
 * or remove hooks of its own kind while it runs.  Whoever subscribes must
 * unsubscribe before 'opaque' goes away (cpu_destroy does, for a CPU).
 */
int bus_add_code_hook(struct bus *bus, bus_write_hook fn, void *opaque);
void bus_remove_code_hook(struct bus *bus, bus_write_hook fn, void *opaque);
int bus_add_trace_hook(struct bus *bus, bus_write_hook fn, void *opaque);
void bus_remove_trace_hook(struct bus *bus, bus_write_hook fn, void *opaque);
int bus_add_map_hook(struct bus *bus, bus_map_hook fn, void *opaque);
void bus_remove_map_hook(struct bus *bus, bus_map_hook fn, void *opaque);
int bus_add_page_flags_hook(struct bus *bus, bus_page_flags_hook fn, void *opaque);
void bus_remove_page_flags_hook(struct bus *bus, bus_page_flags_hook fn, void *opaque);
int bus_add_watch_hook(struct bus *bus, bus_watch_hook fn, void *opaque);
void bus_remove_watch_hook(struct bus *bus, bus_watch_hook fn, void *opaque);

/*
 * VMM-private memory: pages no guest-physical address reaches.
 *
 * A trap-and-emulate VMM keeps its shadow page tables (and anything else
 * the guest must neither see nor change) here, at machine-physical
 * addresses [BUS_PRIVATE_BASE, BUS_PRIVATE_BASE + allocated).  Guest RAM
 * ends below BUS_PRIVATE_BASE (bus_init refuses more) and no region is
 * mapped in the window, so the only way in is the window's switch:
 *
 *   open:   bus_read, bus_write and bus_host_ptr (what a CPU's page walker,
 *           TLB fill and memory slow path use) reach the private pages as
 *           plain RAM: fast host pointers, no page flags, no hooks.  The
 *           rest of the window reads all ones and drops writes.
 *   closed: (the default) the window is what it is on the guest's bus:
 *           unassigned memory, reads all ones, writes dropped, no pointer.
 *
 * bus_read_block and bus_write_block (loaders, DMA, the monitor, GDB)
 * never reach private memory, open or not.  The A20 gate does not apply to
 * the window (it is the VMM's machine memory, not the PC's bus): private
 * addresses are looked up before the mask.
 *
 * The VMM opens the window only while its hardware CPU runs the guest on
 * shadow tables it built (which map no guest page onto the window) and
 * closes it before its virtual CPU, a device, the monitor or GDB touch
 * memory.  Opening and closing flush no TLB: a CPU that filled TLB entries
 * for private pages while the window was open keeps them after it closes,
 * so only the VMM's hardware CPU may run while it is open, and its TLB
 * must only reach private pages through the VMM's own tables.
 */
#define BUS_PRIVATE_BASE 0xF0000000u   /* machine-physical window for VMM-private pages */
#define BUS_PRIVATE_MAX  (64u << 20)

/*
 * Allocate 'bytes' (rounded up to whole pages) of zero-filled private
 * memory and set *paddr to its first byte, page-aligned.  Private memory
 * is freed only by bus_destroy.  -EINVAL for 0 bytes, -ENOSPC when the
 * window is full, -ENOMEM when the host has no memory for it.
 */
int bus_private_alloc(struct bus *bus, uint32_t bytes, uint32_t *paddr);
/*
 * The VMM's host pointer to the private byte at 'paddr', open or not;
 * NULL outside allocated private memory.  Valid to the end of its page
 * (allocations are contiguous, so in practice to the end of the
 * allocation).
 */
uint8_t *bus_private_ptr(struct bus *bus, uint32_t paddr);
void bus_private_open(struct bus *bus, bool open);
bool bus_private_is_open(const struct bus *bus);
/*
 * A VMM changed [paddr, paddr+bytes) of private memory that a CPU may run
 * (a translation cache): every block any CPU decoded from those pages is
 * stale from now on.  Private code is cached like RAM code, so a VMM that
 * writes private bytes it runs must say so here; writes to private memory
 * it never runs (shadow page tables) need nothing.
 */
void bus_private_code_changed(struct bus *bus, uint32_t paddr, uint32_t bytes);

#endif
