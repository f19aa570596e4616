/*
 * kvm_memmap.c - cut the bus's memory map into KVM slot pieces (see
 * kvm_memmap.h).  Pure: no file descriptors, unit-tested everywhere.
 */
#include "vmm/kvm_memmap.h"

#include <errno.h>
#include <stdlib.h>

struct span { uint64_t start, end; int kind; };   /* kind: 0 RAM, 1 ROM, 2 MMIO */

/* Remove [a, b) from every span, splitting those it falls inside. */
static int carve(struct span *s, int n, int max, uint64_t a, uint64_t b)
{
    for (int i = 0; i < n; i++) {
        if (s[i].end <= a || s[i].start >= b)
            continue;
        if (s[i].start < a && s[i].end > b) {          /* split in two */
            if (n >= max) return -ENOSPC;
            s[n++] = (struct span){ b, s[i].end, s[i].kind };
            s[i].end = a;
        } else if (s[i].start < a) {
            s[i].end = a;
        } else if (s[i].end > b) {
            s[i].start = b;
        } else {
            s[i--] = s[--n];                           /* wholly covered */
        }
    }
    return n;
}

static int by_start(const void *x, const void *y)
{
    const struct span *a = x, *b = y;
    return a->start < b->start ? -1 : a->start > b->start;
}

int kvm_memmap_build(const struct bus *bus, struct kvm_piece *out, int max)
{
    struct span s[KVM_MEMMAP_MAX];
    int n = 0;

    if (bus->ram_size)
        s[n++] = (struct span){ 0, bus->ram_size, 0 };
    for (int i = 0; i < bus->region_count; i++) {
        const struct bus_region *r = &bus->regions[i];
        uint64_t a = r->start & ~(uint64_t)(PAGE_SIZE - 1);
        uint64_t b = ((uint64_t)r->start + r->size + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
        if (b > 0x100000000ull) b = 0x100000000ull;
        if (a >= b) continue;
        n = carve(s, n, KVM_MEMMAP_MAX, a, b);
        if (n < 0 || n >= KVM_MEMMAP_MAX) return -ENOSPC;
        s[n++] = (struct span){ a, b, r->kind == REGION_ROM ? 1 : 2 };
    }
    /* The HMA boundaries split RAM only. */
    const uint64_t cuts[2] = { KVM_HMA_START, KVM_HMA_END };
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < n; i++)
            if (s[i].kind == 0 && s[i].start < cuts[c] && s[i].end > cuts[c]) {
                if (n >= KVM_MEMMAP_MAX) return -ENOSPC;
                s[n++] = (struct span){ cuts[c], s[i].end, 0 };
                s[i].end = cuts[c];
            }
    qsort(s, (size_t)n, sizeof s[0], by_start);

    int m = 0;
    for (int i = 0; i < n; i++) {
        if (s[i].kind == 2) continue;
        if (m >= max) return -ENOSPC;
        out[m++] = (struct kvm_piece){
            .start = s[i].start, .end = s[i].end,
            .kind = s[i].kind == 0 ? KVM_PIECE_RAM : KVM_PIECE_ROM,
            .hma = s[i].kind == 0 && s[i].start == KVM_HMA_START && s[i].end == KVM_HMA_END,
        };
    }
    return m;
}
