/*
 * mmu.h - linear-to-physical translation: the 32-bit page walk and the
 * software TLB that caches its results with host pointers.
 *
 * Two-level 32-bit paging (SDM Vol. 3A 4.3), 4 KiB and (CR4.PSE) 4 MiB pages:
 *
 *   linear:  31        22 21        12 11          0
 *           +------------+------------+-------------+
 *           |  dir index |table index |   offset    |
 *           +------------+------------+-------------+
 *   CR3 -> page directory (1024 PDEs) -> page table (1024 PTEs) -> page
 *   PDE.PS = 1 (with CR4.PSE): the PDE maps a 4 MiB page, bits 31:22.
 *
 * Access rights combine across both levels (SDM Vol. 3A 4.6): a user access
 * needs U/S = 1 at both; a write needs R/W = 1 at both, for supervisor
 * accesses only when CR0.WP = 1.
 *
 * The TLB has two halves, supervisor and user, so a CPL change needs no
 * flush; each entry keeps separate tags for reads and writes, so a page can
 * be read on the fast path while its writes go slow (Dirty bit not yet set,
 * read-only, a code page, a traced page).
 */
#ifndef TRAPEZE_MMU_H
#define TRAPEZE_MMU_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/control_regs.h"
#include "mmu/bus.h"

/* Page-table entry bits (SDM Vol. 3A table 4-5, 4-6). */
#define PTE_P   0x001u /* present */
#define PTE_W   0x002u /* read/write */
#define PTE_U   0x004u /* user/supervisor */
#define PTE_PWT 0x008u /* write-through */
#define PTE_PCD 0x010u /* cache disable */
#define PTE_A   0x020u /* accessed */
#define PTE_D   0x040u /* dirty (PTE, or PDE with PS) */
#define PTE_PS  0x080u /* page size: 4 MiB (PDE, CR4.PSE) */
#define PTE_G   0x100u /* global (CR4.PGE) */
#define PTE_FRAME 0xFFFFF000u

/* #PF error code bits (SDM Vol. 3A 4.7). */
#define PF_P    0x01u /* 0: not present, 1: protection violation */
#define PF_W    0x02u /* the access was a write */
#define PF_U    0x04u /* the access was at CPL 3 */
#define PF_RSVD 0x08u /* reserved bit set in a paging entry */
#define PF_I    0x10u /* instruction fetch (only with NX; never set here) */

/* Kinds of access. */
enum mmu_access { MMU_READ = 0, MMU_WRITE = 1, MMU_FETCH = 2 };

#define TLB_ENTRIES 256          /* direct-mapped, indexed by linear page */
#define TLB_INVALID 0xFFFFFFFFu  /* never equals a page-aligned address */

struct tlb_entry {
    uint32_t tag_read;   /* linear page readable via 'host', else TLB_INVALID */
    uint32_t tag_write;  /* linear page writable via 'host', else TLB_INVALID */
    uint32_t paddr;      /* physical page */
    bool global;         /* survives MOV CR3 (PTE.G with CR4.PGE) */
    uintptr_t addend;    /* host address = addend + linear address */
};

struct mmu_stats {
    uint64_t hits, misses, flushes, page_walks;
};

struct mmu {
    struct tlb_entry tlb[2][TLB_ENTRIES]; /* [0] supervisor, [1] user */
    struct bus *bus;
    struct mmu_stats stats;
    /* Bumped by every flush: caches keyed by linear address (the CPU's
     * jump cache) are valid only while it stays the same. */
    uint64_t epoch;
};

/*
 * One level of a walk: which entry of the walked tables (the guest's own,
 * for a VMM walking the guest's CR3) translated the address, and its value.
 * The monitor's `translate` shows them; a VMM uses them to know which guest
 * PTE a shadow entry came from, and to set its A/D bits (mmu_walk_set_ad).
 */
struct mmu_walk_level {
    uint32_t entry_paddr;  /* physical address of the entry (the PDE or PTE) */
    uint32_t entry;        /* its value as read, before any A/D update */
};

struct mmu_walk {
    int levels;                       /* 0 (paging off), 1 (4 MiB page) or 2 */
    struct mmu_walk_level level[2];   /* [0] PDE, [1] PTE */
    uint32_t paddr;                   /* result, when ok */
    bool writable, user, global;      /* combined rights */
    bool large;                       /* 4 MiB page */
    uint32_t fault_error;             /* #PF error code when !ok */
    bool ok;
};

void mmu_init(struct mmu *mmu, struct bus *bus);

/*
 * Translate 'lin' for an access of kind 'access' under the paging registers
 * 'pr' (the CPU's own, or any CR3 a VMM wants walked).
 * 'user' says whether the access is a user access (CPL 3 and not a system
 * access to a descriptor table or TSS).  When 'update' is set, Accessed and
 * Dirty bits are written back to the guest's tables as hardware does.
 * Fills 'walk' with each level read; walk->ok false means #PF with
 * walk->fault_error (CR2 = lin is the caller's business).
 */
void mmu_walk(struct mmu *mmu, const struct paging_regs *pr, uint32_t lin,
              enum mmu_access access, bool user, bool update, struct mmu_walk *walk);

/*
 * Set Accessed in each entry of a successful walk (walk->ok), and Dirty in
 * its last one (the PTE, or the PDE of a 4 MiB page) when 'write', as the
 * processor does (SDM Vol. 3A 4.8): what mmu_walk(update = true) does, for
 * a caller that walked with update = false and decides later (a VMM's
 * virtual CPU emulating the access).  The bits are ORed into each entry's
 * current value through bus_write, so write traces on the guest's page
 * tables fire.  Nothing happens for a walk that faulted or had paging off.
 */
void mmu_walk_set_ad(struct mmu *mmu, const struct mmu_walk *walk, bool write);

/*
 * Look 'lin' up for the software CPU: walk and fill the TLB entry.
 * Returns true and sets *paddr on success, false with *error on #PF.
 */
bool mmu_fill(struct mmu *mmu, const struct paging_regs *pr, uint32_t lin,
              enum mmu_access access, bool user, uint32_t *paddr, uint32_t *error);

/* Flushes, as hardware does them (SDM Vol. 3A 4.10.4). */
void mmu_flush_all(struct mmu *mmu);              /* CR0.PG/CR4 changes, task switch w/ CR3 */
void mmu_flush_nonglobal(struct mmu *mmu);        /* MOV to CR3 */
void mmu_flush_page(struct mmu *mmu, uint32_t lin); /* INVLPG */
void mmu_flush_paddr(struct mmu *mmu, uint32_t paddr); /* a page changed kind (became code) */
/*
 * Drop every entry without counting a flush: for the emulator's own reasons
 * (the state was set from outside, the memory map changed), so stats.flushes
 * counts only the flushes the guest caused.  mmu_flush_paddr is not counted
 * either.
 */
void mmu_invalidate_all(struct mmu *mmu);

#endif
