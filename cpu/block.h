/*
 * block.h - the decoded-block cache (private to cpu/).
 */
#ifndef TRAPEZE_BLOCK_H
#define TRAPEZE_BLOCK_H

#include "cpu/cpu.h"

#define BLOCK_MAX_INSNS 32

struct decoded_block {
    struct decoded_block *hash_next;
    uint32_t paddr;        /* physical address of the first instruction byte */
    uint32_t generation;   /* the page's code generation when decoded */
    uint16_t bytes;        /* total length of the block's instructions */
    uint8_t code32;        /* CS.D it was decoded under */
    uint8_t count;         /* instructions */
    struct x86_insn insn[];
};

/*
 * The jump cache: linear CS:EIP -> block, so the common case skips the TLB
 * and the hash.  An entry holds while no TLB flush happened since it was
 * made (mmu.epoch): a flush is where linear-to-physical mappings may change.
 */
#define JUMP_BITS 12
#define HASH_BITS 16   /* the physical-address hash table */
struct jump_entry {
    uint32_t lin;
    uint8_t user, code32;
    uint64_t epoch;
    struct decoded_block *block;
};

struct block_cache {
    struct decoded_block *hash[1u << HASH_BITS];
    struct jump_entry jump[1u << JUMP_BITS];
    uint8_t *arena;
    size_t arena_used;
    uint64_t *code_chunks;        /* per RAM page: bit n = bytes 64n..64n+63 hold code */
    uint32_t ram_pages;
    struct decoded_block *scratch; /* for uncacheable blocks */
};

static inline unsigned jump_index(uint32_t lin)
{
    return (lin ^ (lin >> JUMP_BITS)) & ((1u << JUMP_BITS) - 1);
}

static inline uint32_t page_generation(const struct block_cache *bc, const struct bus *bus, uint32_t paddr)
{
    uint32_t page = paddr >> PAGE_SHIFT;
    if (page < bc->ram_pages) return bus->code_generation[page];
    uint32_t off = paddr - BUS_PRIVATE_BASE;   /* a VMM's code (bus_private_code_changed) */
    if (off < BUS_PRIVATE_MAX && bus->private_code_generation) return bus->private_code_generation[off >> PAGE_SHIFT];
    return 0;
}

static inline bool fits_cs_limit(const struct x86_segment *cs, uint32_t eip, uint32_t bytes)
{
    uint32_t last = eip + bytes - 1;
    return last >= eip && last <= cs->limit;
}

/* The hash-table path of block_lookup, decoding a new block on a miss. */
struct decoded_block *block_lookup_slow(struct cpu *cpu);

/*
 * Find or decode the block starting at the current CS:EIP.  May raise #PF
 * or #GP (fetch) for its first instruction.  The block returned stays valid
 * until the next call (an uncacheable block lives in a scratch buffer).
 * The jump-cache hit is inline: it is the run loop's common case.
 */
static inline struct decoded_block *block_lookup(struct cpu *cpu)
{
    struct block_cache *bc = cpu->blocks;
    const struct x86_segment *cs = &cpu->s.seg[SEG_CS];
    uint32_t lin = cs->base + cpu->s.eip;
    const struct jump_entry *j = &bc->jump[jump_index(lin)];
    if (__builtin_expect(j->lin == lin && j->epoch == cpu->mmu.epoch && j->block &&
                         j->user == cpu->mmu_user && j->code32 == ((cs->attr & SEG_ATTR_DB) != 0), 1)) {
        struct decoded_block *b = j->block;
        if (__builtin_expect(b->generation == page_generation(bc, cpu->bus, b->paddr) &&
                             fits_cs_limit(cs, cpu->s.eip, b->bytes), 1))
            return b;
    }
    return block_lookup_slow(cpu);
}

/*
 * Create the cache and subscribe the CPU to the bus's code, page-flags and
 * map hooks; -ENOMEM, or -ENOSPC when the bus has no hook slot left.
 * Destroying unsubscribes them, and debug.c's (cpu_debug_detach), being
 * the teardown cpu_destroy runs.
 */
int block_cache_create(struct cpu *cpu);
void block_cache_destroy(struct cpu *cpu);
/* debug.c: drop the bus's watch hook for this CPU, if it has one. */
void cpu_debug_detach(struct cpu *cpu);
/* Forget every decoded block (after cpu_set_state, for instance). */
void block_cache_flush(struct cpu *cpu);

#endif
