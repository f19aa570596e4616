/*
 * block.c - decode once, run many times.
 *
 * Guest code is decoded into blocks of up to BLOCK_MAX_INSNS instructions
 * that run straight through: a block ends after a control transfer or any
 * instruction marked D_END in the table (mode changes, STI, MOV SS...), at
 * a page end, or when the next instruction would cross into another page
 * (that one starts a block of its own, decoded for each execution and not
 * cached, since its validity would depend on two pages).
 *
 * Blocks are found by the physical address of their first byte and CS.D,
 * so the same code reached through different linear mappings is shared and
 * TLB flushes never touch this cache.
 *
 * Self-modifying code: decoding from a RAM page marks it BUS_PAGE_CODE and
 * records which 64-byte chunks of it hold code.  Writes to a code page take
 * the bus's slow path, which calls block_code_written; a write that hits a
 * chunk with code bumps the page's generation (every block of the page is
 * then stale: lookups compare generations) and ends the running block, so
 * the very next instruction is fetched again, as on a Pentium.
 *
 * Every CPU on a bus subscribes to its code hooks, so when two CPUs share
 * RAM (a VMM's hardware and virtual CPUs) a write by either, or by DMA,
 * reaches both caches.  The generation is the bus's, shared: whichever
 * cache sees its code hit bumps it, and the other CPU's blocks of that page
 * go stale too (decoded again on their next lookup, which also marks the
 * page again), a harmless over-invalidation.
 *
 * Worked example: "mov byte [next], 0x90 / next: int3" - the MOV writes into
 * its own block's page; block_code_written bumps the generation and sets
 * end_block; the run loop looks up EIP again, the generation differs, the
 * block is decoded anew and the NOP runs instead of INT3.
 */
#include "cpu/block.h"

#include <errno.h>
#include <stdlib.h>

#include "cpu/cpu_internal.h"
#include "cpu/fast.h"
#include "cpu/log_cpu.h"

#define ARENA_BYTES (16u << 20)

static size_t block_size(unsigned count)
{
    size_t s = sizeof(struct decoded_block) + count * sizeof(struct x86_insn);
    return (s + 15) & ~(size_t)15;
}

static unsigned hash_of(uint32_t paddr, bool code32)
{
    uint32_t h = (paddr ^ (code32 ? 0x9E3779B9u : 0)) * 0x9E3779B1u;
    return h >> (32 - HASH_BITS);
}

static void invalid_opcode(struct cpu *cpu, const struct x86_insn *i)
{
    (void)i;
    cpu_fault(cpu, X86_UD);
}

/* Called by the bus for writes to pages marked BUS_PAGE_CODE. */
static void block_code_written(void *opaque, uint32_t paddr, unsigned size)
{
    struct cpu *cpu = opaque;
    struct block_cache *bc = cpu->blocks;
    uint32_t page = paddr >> PAGE_SHIFT;
    if (page >= bc->ram_pages) return;
    uint32_t first = (paddr & ~PAGE_MASK) / 64;
    uint32_t last = ((paddr & ~PAGE_MASK) + size - 1) / 64;
    if (last > 63) last = 63;
    uint64_t hit = 0;
    for (uint32_t c = first; c <= last; c++) hit |= 1ull << c;
    if (!(bc->code_chunks[page] & hit)) return;
    bc->code_chunks[page] = 0;
    cpu->bus->code_generation[page]++;
    cpu->bus->page_flags[page] &= (uint8_t)~BUS_PAGE_CODE;
    cpu->stats.block_invalidations++;
    cpu->end_block = true;
}

/* A RAM page became slow for writes (code, traced, watched): drop the TLB's
 * write entries for it so the next write takes the bus's hooks. */
static void page_flags_changed(void *opaque, uint32_t paddr)
{
    struct cpu *cpu = opaque;
    mmu_flush_paddr(&cpu->mmu, paddr & PAGE_MASK);
}

/* The memory map or A20 changed: every cached translation may be wrong. */
static void map_changed(void *opaque)
{
    struct cpu *cpu = opaque;
    mmu_invalidate_all(&cpu->mmu);
    cpu->end_block = true;
}

/* Drop this CPU's bus subscriptions (each a no-op if it was never made). */
static void block_unsubscribe(struct cpu *cpu)
{
    bus_remove_code_hook(cpu->bus, block_code_written, cpu);
    bus_remove_page_flags_hook(cpu->bus, page_flags_changed, cpu);
    bus_remove_map_hook(cpu->bus, map_changed, cpu);
}

int block_cache_create(struct cpu *cpu)
{
    struct block_cache *bc = calloc(1, sizeof *bc);
    if (!bc) return -ENOMEM;
    bc->arena = malloc(ARENA_BYTES);
    bc->ram_pages = cpu->bus->ram_size >> PAGE_SHIFT;
    bc->code_chunks = calloc(bc->ram_pages ? bc->ram_pages : 1, sizeof(uint64_t));
    bc->scratch = malloc(block_size(BLOCK_MAX_INSNS));
    if (!bc->arena || !bc->code_chunks || !bc->scratch) {
        free(bc->arena);
        free(bc->code_chunks);
        free(bc->scratch);
        free(bc);
        return -ENOMEM;
    }
    cpu->blocks = bc;
    int err = bus_add_code_hook(cpu->bus, block_code_written, cpu);
    if (err == 0)
        err = bus_add_page_flags_hook(cpu->bus, page_flags_changed, cpu);
    if (err == 0)
        err = bus_add_map_hook(cpu->bus, map_changed, cpu);
    if (err < 0) {
        block_cache_destroy(cpu);
        return err;
    }
    return 0;
}

void block_cache_destroy(struct cpu *cpu)
{
    struct block_cache *bc = cpu->blocks;
    if (!bc) return;
    /* A CPU destroyed on a bus that lives on (kvm's fallback) leaves no hook. */
    block_unsubscribe(cpu);
    cpu_debug_detach(cpu);
    free(bc->arena);
    free(bc->code_chunks);
    free(bc->scratch);
    free(bc);
    cpu->blocks = NULL;
}

void block_cache_flush(struct cpu *cpu)
{
    struct block_cache *bc = cpu->blocks;
    memset(bc->hash, 0, sizeof bc->hash);
    memset(bc->jump, 0, sizeof bc->jump);
    bc->arena_used = 0;
}

/* Fetch context for decoding one instruction of a block. */
struct fetch_ctx {
    struct cpu *cpu;
    uint32_t lin;          /* linear address of the instruction */
    uint32_t eip;          /* its offset in CS */
    const uint8_t *host;   /* host pointer of lin's page start, or NULL */
    bool first;            /* first instruction: faults are real */
    bool stop;             /* not first and would leave the page/limit */
    bool crossed;          /* first instruction crosses into the next page */
};

static uint8_t block_fetch(void *opaque, unsigned pos)
{
    struct fetch_ctx *f = opaque;
    struct cpu *cpu = f->cpu;
    uint32_t off = f->eip + pos;
    uint32_t lin = f->lin + pos;
    const struct x86_segment *cs = &cpu->s.seg[SEG_CS];
    bool in_limit = off <= cs->limit && (cs->attr & SEG_ATTR_DB ? true : off <= 0xFFFF);
    bool same_page = (lin & PAGE_MASK) == (f->lin & PAGE_MASK);
    if (!f->first && (!in_limit || !same_page)) {
        f->stop = true;
        return 0x90;
    }
    if (!in_limit) cpu_fault_err(cpu, X86_GP, 0);
    if (same_page && f->host) return f->host[lin & ~PAGE_MASK];
    if (!same_page) f->crossed = true;
    return cpu_fetch_byte(cpu, lin);
}

struct decoded_block *block_lookup_slow(struct cpu *cpu)
{
    struct block_cache *bc = cpu->blocks;
    struct bus *bus = cpu->bus;
    const struct x86_segment *cs = &cpu->s.seg[SEG_CS];
    bool code32 = (cs->attr & SEG_ATTR_DB) != 0;
    uint32_t eip = cpu->s.eip;
    uint32_t lin = cs->base + eip;
    bool user = cpu->mmu_user;

    struct jump_entry *j = &bc->jump[jump_index(lin)];

    /* Translate the first byte (a fetch: may raise #PF). */
    struct tlb_entry *e = &cpu->mmu.tlb[user][(lin >> PAGE_SHIFT) % TLB_ENTRIES];
    uint32_t paddr;
    if (e->tag_read == (lin & PAGE_MASK)) {
        paddr = e->paddr | (lin & ~PAGE_MASK);
        cpu->mmu.stats.hits++;
    } else {
        uint32_t error;
        if (!mmu_fill(&cpu->mmu, &(struct paging_regs){ cpu->s.cr0, cpu->s.cr3, cpu->s.cr4 }, lin, MMU_FETCH, user, &paddr, &error))
            cpu_page_fault(cpu, lin, error);
    }
    bool host = e->tag_read == (lin & PAGE_MASK);
    uint32_t page = paddr >> PAGE_SHIFT;
    bool ram = page < bc->ram_pages;
    uint32_t gen = page_generation(bc, bus, paddr);

    unsigned h = hash_of(paddr, code32);
    for (struct decoded_block **pp = &bc->hash[h]; *pp; pp = &(*pp)->hash_next) {
        struct decoded_block *b = *pp;
        if (b->paddr != paddr || b->code32 != code32) continue;
        if (b->generation != gen) {          /* stale: unlink, decode anew */
            *pp = b->hash_next;
            break;
        }
        /* The CS limit may differ from when it was decoded. */
        if (!fits_cs_limit(cs, eip, b->bytes)) break;
        *j = (struct jump_entry){ lin, user, code32, cpu->mmu.epoch, b };
        return b;
    }

    /*
     * Decode a new block.  RAM pages (write-tracked), ROM (never written)
     * and VMM-private pages (a translation cache: the VMM bumps their
     * generation when it rewrites them, bus_private_code_changed) are
     * cached; anything without a host pointer is decoded each time.
     */
    bool cacheable = host;
    if (bc->arena_used + block_size(BLOCK_MAX_INSNS) > ARENA_BYTES) block_cache_flush(cpu);
    struct decoded_block *b = cacheable ? (struct decoded_block *)(bc->arena + bc->arena_used) : bc->scratch;
    struct fetch_ctx f = { .cpu = cpu, .host = host ? (const uint8_t *)(e->addend + (lin & PAGE_MASK)) : NULL };
    unsigned n = 0, bytes = 0;
    while (n < BLOCK_MAX_INSNS) {
        struct x86_insn *i = &b->insn[n];
        f.eip = eip + bytes;
        f.lin = lin + bytes;
        f.first = n == 0;
        f.stop = false;
        unsigned len = x86_decode(i, code32, block_fetch, &f);
        if (f.stop) break;
        if (len == 0) {
            if (n == 0) cpu_fault_err(cpu, X86_GP, 0);  /* longer than 15 bytes */
            break;
        }
        if (!i->exec) i->exec = invalid_opcode;
        else fast_specialize(i);
        n++;
        bytes += len;
        if (f.crossed) { cacheable = false; break; }
        if (x86_opcodes[i->op].decode & D_END) break;
        if (((lin + bytes) & ~PAGE_MASK) == 0) break;   /* page end */
    }
    if (f.crossed && b != bc->scratch) {
        memcpy(bc->scratch, b, block_size(n));
        b = bc->scratch;
    }
    b->paddr = paddr;
    b->code32 = code32;
    b->count = (uint8_t)n;
    b->bytes = (uint16_t)bytes;
    b->generation = gen;
    cpu->stats.blocks_decoded++;
    if (unlikely(LOG_ON(LOG_IN_ASM))) cpu_log_new_block(cpu, b, lin);
    if (!cacheable) return b;

    bc->arena_used += block_size(n);
    b->hash_next = bc->hash[h];
    bc->hash[h] = b;
    *j = (struct jump_entry){ lin, user, code32, cpu->mmu.epoch, b };
    if (ram) {
        uint32_t first = (paddr & ~PAGE_MASK) / 64;
        uint32_t last = ((paddr & ~PAGE_MASK) + bytes - 1) / 64;
        for (uint32_t c = first; c <= last && c < 64; c++) bc->code_chunks[page] |= 1ull << c;
        if (!(bus->page_flags[page] & BUS_PAGE_CODE))
            bus_mark_code_page(bus, paddr & PAGE_MASK);   /* runs page_flags_changed */
    }
    return b;
}
