/*
 * memory.c - the CPU's view of memory: segment checks, then linear
 * addresses through the TLB (mmu/) to host RAM or the bus.
 *
 * The fast path of every data access is: a segment check (type and limit
 * from the descriptor cache), one TLB compare, and a load/store through a
 * host pointer.  Everything else - TLB misses, page-crossing accesses,
 * MMIO, pages holding decoded code, traced pages, data breakpoints - takes
 * the slow path below, which is also where #PF is raised.  Each fast-path
 * hit adds one to mmu.stats.hits (measured: no loss on guests/compute
 * beyond run-to-run noise); each slow-path lookup is an mmu_fill, counted
 * there as a miss.
 *
 * Segment checks (SDM Vol. 3A 5.3 limit checking, 5.4 type checking):
 * in protected mode, a null (unusable) segment, a write to a code or
 * read-only data segment, a read of an execute-only code segment, or an
 * offset outside the limit (expand-down: inside) raise #GP(0), or #SS(0)
 * for SS.  Real mode checks only the limit (a word at offset 0xFFFF
 * faults, as on the 386 and later).
 */
#include "cpu/cpu_internal.h"

/* ---------- segment checks ---------- */

/* True when [off, off+size) lies within the segment's limit. */
static inline bool seg_limit_ok(const struct x86_segment *sg, uint32_t off, uint32_t size)
{
    if (likely((sg->attr & (SEG_ATTR_CODE | SEG_ATTR_E)) != SEG_ATTR_E))
        return off <= sg->limit && size - 1 <= sg->limit - off;
    /* Expand-down data: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF. */
    uint32_t upper = (sg->attr & SEG_ATTR_DB) ? 0xFFFFFFFFu : 0xFFFFu;
    return off > sg->limit && off <= upper && size - 1 <= upper - off;
}

static bool seg_type_ok_slow(const struct cpu *cpu, const struct x86_segment *sg, bool write)
{
    if (!cpu_protected(cpu) || cpu_vm86(cpu)) return true;
    uint16_t a = sg->attr;
    if (unlikely(!(a & SEG_ATTR_P))) return false;          /* null selector loaded */
    if (a & SEG_ATTR_CODE) return !write && (a & SEG_ATTR_R); /* code: read if readable */
    return !write || (a & SEG_ATTR_W);
}

static inline bool seg_type_ok(const struct cpu *cpu, const struct x86_segment *sg, bool write)
{
    /* A present, writable data segment allows both, in every mode. */
    const uint16_t rw_data = SEG_ATTR_P | SEG_ATTR_W;
    if (likely((sg->attr & (SEG_ATTR_P | SEG_ATTR_CODE | SEG_ATTR_W)) == rw_data)) return true;
    return seg_type_ok_slow(cpu, sg, write);
}

_Noreturn static void segment_fault(struct cpu *cpu, int seg)
{
    cpu_fault_err(cpu, seg == SEG_SS ? X86_SS : X86_GP, 0);
}

/* The segment check of every segment-relative access.  Returns the segment. */
static inline const struct x86_segment *check_segment(struct cpu *cpu, int seg, uint32_t off,
                                                      uint32_t len, bool write)
{
    const struct x86_segment *sg = &cpu->s.seg[seg];
    if (unlikely(!seg_type_ok(cpu, sg, write) || !seg_limit_ok(sg, off, len)))
        segment_fault(cpu, seg);
    return sg;
}

void cpu_check_segment(struct cpu *cpu, int seg, uint32_t off, uint32_t len, bool write)
{
    check_segment(cpu, seg, off, len, write);
}

/* ---------- linear accesses ---------- */

static inline uint32_t host_load(uintptr_t p, unsigned size)
{
    switch (size) {
    case 1: return *(const uint8_t *)p;
    case 2: { uint16_t v; memcpy(&v, (const void *)p, 2); return v; }
    default: { uint32_t v; memcpy(&v, (const void *)p, 4); return v; }
    }
}

static inline void host_store(uintptr_t p, uint32_t v, unsigned size)
{
    switch (size) {
    case 1: *(uint8_t *)p = (uint8_t)v; break;
    case 2: { uint16_t w = (uint16_t)v; memcpy((void *)p, &w, 2); break; }
    default: memcpy((void *)p, &v, 4); break;
    }
}

/* Translate one page for 'access'; raises #PF.  Returns the TLB entry. */
static struct tlb_entry *translate(struct cpu *cpu, uint32_t lin, enum mmu_access access,
                                   bool user, uint32_t *paddr)
{
    uint32_t error;
    if (!mmu_fill(&cpu->mmu, &(struct paging_regs){ cpu->s.cr0, cpu->s.cr3, cpu->s.cr4 }, lin, access, user, paddr, &error))
        cpu_page_fault(cpu, lin, error);
    return &cpu->mmu.tlb[user][(lin >> PAGE_SHIFT) % TLB_ENTRIES];
}

/* Read within one page, slow path. */
static uint32_t read_page_slow(struct cpu *cpu, uint32_t lin, unsigned size, bool user,
                               enum mmu_access access)
{
    uint32_t paddr;
    struct tlb_entry *e = translate(cpu, lin, access, user, &paddr);
    if (access == MMU_WRITE ? e->tag_write == (lin & PAGE_MASK) : e->tag_read == (lin & PAGE_MASK))
        return host_load(e->addend + lin, size);
    /* Physical watchpoints count data accesses only, not fetches (debug.c). */
    cpu->in_data_access = access != MMU_FETCH;
    uint32_t v = bus_read(cpu->bus, paddr | (lin & ~PAGE_MASK), size);
    cpu->in_data_access = false;
    return v;
}

static uint32_t read_slow(struct cpu *cpu, uint32_t lin, unsigned size, bool user, enum mmu_access access)
{
    if (likely((lin & ~PAGE_MASK) <= PAGE_SIZE - size))
        return read_page_slow(cpu, lin, size, user, access);
    /* Crosses a page: check both pages first (a RMW must not fault halfway). */
    uint32_t p;
    translate(cpu, lin, access, user, &p);
    translate(cpu, (lin | ~PAGE_MASK) + 1, access, user, &p);
    uint32_t v = 0;
    for (unsigned k = 0; k < size; k++)
        v |= read_page_slow(cpu, lin + k, 1, user, access) << (8 * k);
    return v;
}

static void write_page_slow(struct cpu *cpu, uint32_t lin, uint32_t value, unsigned size, bool user)
{
    uint32_t paddr;
    struct tlb_entry *e = translate(cpu, lin, MMU_WRITE, user, &paddr);
    if (e->tag_write == (lin & PAGE_MASK)) {
        host_store(e->addend + lin, value, size);
        return;
    }
    cpu->in_data_access = true;
    bus_write(cpu->bus, paddr | (lin & ~PAGE_MASK), value, size);
    cpu->in_data_access = false;
}

static void write_slow(struct cpu *cpu, uint32_t lin, uint32_t value, unsigned size, bool user)
{
    if (likely((lin & ~PAGE_MASK) <= PAGE_SIZE - size)) {
        write_page_slow(cpu, lin, value, size, user);
        return;
    }
    uint32_t p;
    translate(cpu, lin, MMU_WRITE, user, &p);
    translate(cpu, (lin | ~PAGE_MASK) + 1, MMU_WRITE, user, &p);
    for (unsigned k = 0; k < size; k++)
        write_page_slow(cpu, lin + k, (value >> (8 * k)) & 0xFF, 1, user);
}

static inline uint32_t lin_read(struct cpu *cpu, uint32_t lin, unsigned size, bool user)
{
    struct tlb_entry *e = &cpu->mmu.tlb[user][(lin >> PAGE_SHIFT) % TLB_ENTRIES];
    if (likely(e->tag_read == (lin & PAGE_MASK) && (lin & ~PAGE_MASK) <= PAGE_SIZE - size)) {
        cpu->mmu.stats.hits++;
        return host_load(e->addend + lin, size);
    }
    return read_slow(cpu, lin, size, user, MMU_READ);
}

static inline void lin_write(struct cpu *cpu, uint32_t lin, uint32_t value, unsigned size, bool user)
{
    struct tlb_entry *e = &cpu->mmu.tlb[user][(lin >> PAGE_SHIFT) % TLB_ENTRIES];
    if (likely(e->tag_write == (lin & PAGE_MASK) && (lin & ~PAGE_MASK) <= PAGE_SIZE - size)) {
        cpu->mmu.stats.hits++;
        host_store(e->addend + lin, value, size);
        return;
    }
    write_slow(cpu, lin, value, size, user);
}

uint32_t cpu_read_lin(struct cpu *cpu, uint32_t lin, unsigned size, bool user)
{
    return lin_read(cpu, lin, size, user);
}

void cpu_write_lin(struct cpu *cpu, uint32_t lin, uint32_t value, unsigned size, bool user)
{
    lin_write(cpu, lin, value, size, user);
}

/* ---------- segment-relative accesses ---------- */

uint32_t cpu_read(struct cpu *cpu, int seg, uint32_t off, unsigned size)
{
    const struct x86_segment *sg = check_segment(cpu, seg, off, size, false);
    uint32_t lin = sg->base + off;
    uint32_t v = lin_read(cpu, lin, size, cpu->mmu_user);
    if (unlikely(cpu->data_breakpoints_active))
        cpu_debug_check_data(cpu, lin, size, false);
    return v;
}

uint32_t cpu_read_rmw(struct cpu *cpu, int seg, uint32_t off, unsigned size)
{
    const struct x86_segment *sg = check_segment(cpu, seg, off, size, true);
    uint32_t lin = sg->base + off;
    bool user = cpu->mmu_user;
    struct tlb_entry *e = &cpu->mmu.tlb[user][(lin >> PAGE_SHIFT) % TLB_ENTRIES];
    uint32_t v;
    if (likely(e->tag_write == (lin & PAGE_MASK) && (lin & ~PAGE_MASK) <= PAGE_SIZE - size)) {
        cpu->mmu.stats.hits++;
        v = host_load(e->addend + lin, size);
    } else
        v = read_slow(cpu, lin, size, user, MMU_WRITE);
    /* The read half of a read-modify-write (the write is checked by cpu_write). */
    if (unlikely(cpu->data_breakpoints_active))
        cpu_debug_check_data(cpu, lin, size, false);
    return v;
}

void cpu_write(struct cpu *cpu, int seg, uint32_t off, uint32_t value, unsigned size)
{
    const struct x86_segment *sg = check_segment(cpu, seg, off, size, true);
    uint32_t lin = sg->base + off;
    lin_write(cpu, lin, value, size, cpu->mmu_user);
    if (unlikely(cpu->data_breakpoints_active))
        cpu_debug_check_data(cpu, lin, size, true);
}

/* ---------- instruction fetch ---------- */

uint8_t cpu_fetch_byte(struct cpu *cpu, uint32_t lin)
{
    bool user = cpu->mmu_user;
    struct tlb_entry *e = &cpu->mmu.tlb[user][(lin >> PAGE_SHIFT) % TLB_ENTRIES];
    if (likely(e->tag_read == (lin & PAGE_MASK))) {
        cpu->mmu.stats.hits++;
        return *(const uint8_t *)(e->addend + lin);
    }
    return (uint8_t)read_slow(cpu, lin, 1, user, MMU_FETCH);
}

/* ---------- debugger access: no faults, no A/D updates ---------- */

static bool debug_access(struct cpu *cpu, uint32_t lin, void *buf, uint32_t len, bool write)
{
    uint8_t *p = buf;
    while (len > 0) {
        struct mmu_walk w;
        mmu_walk(&cpu->mmu, &(struct paging_regs){ cpu->s.cr0, cpu->s.cr3, cpu->s.cr4 }, lin, MMU_READ, false, false, &w);
        if (!w.ok) return false;
        uint32_t chunk = PAGE_SIZE - (lin & ~PAGE_MASK);
        if (chunk > len) chunk = len;
        if (write) bus_write_block(cpu->bus, w.paddr, p, chunk);
        else bus_read_block(cpu->bus, w.paddr, p, chunk);
        p += chunk;
        lin += chunk;
        len -= chunk;
    }
    return true;
}

bool cpu_read_linear(struct cpu *cpu, uint32_t lin, void *buf, uint32_t len)
{
    return debug_access(cpu, lin, buf, len, false);
}

bool cpu_write_linear(struct cpu *cpu, uint32_t lin, const void *buf, uint32_t len)
{
    return debug_access(cpu, lin, (void *)(uintptr_t)buf, len, true);
}
