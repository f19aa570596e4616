/*
 * test_tae_descriptors.c - tae's shadow descriptors (vmm/tae_state.c):
 * what the real GDT holds for each guest descriptor under ring compression.
 *
 * Descriptor layout: SDM Vol. 3A 3.4.5, figure 3-8 (low dword: limit 15:0,
 * base 15:0; high dword: base 23:16, access byte P|DPL|S|type, limit
 * 19:16, AVL L D/B G, base 31:24); types: Vol. 3A table 3-1 (data/code)
 * and table 3-2 (system).  Each expected value is worked out by hand from
 * those tables, the rules in tae_state.c's top comment, and TAE_VMM_LIN =
 * 0xFFC00000 (the first byte a guest segment may not reach).
 */
#include "tests/test.h"
#include "vmm/tae.h"

struct case_ {
    const char *what;
    uint32_t lo, hi;      /* the guest's descriptor */
    uint32_t slo, shi;    /* its shadow */
};

static const struct case_ cases[] = {
    /* Flat ring-0 data, 4 GiB in pages: DPL 0 -> 1, A set, limit cut to
     * FFBFFh pages (bytes 0 to FFBFFFFFh). */
    { "ring-0 data", 0x0000FFFFu, 0x00CF9200u, 0x0000FBFFu, 0x00CFB300u },
    /* Flat ring-0 code, execute/read: the same. */
    { "ring-0 code", 0x0000FFFFu, 0x00CF9A00u, 0x0000FBFFu, 0x00CFBB00u },
    /* Ring-3 code: not present, so the guest kernel's transfers to user code trap. */
    { "ring-3 code", 0x0000FFFFu, 0x00CFFA00u, 0x0000FFFFu, 0x00CF7A00u },
    /* Ring-3 data keeps DPL 3; cut and A set like any segment. */
    { "ring-3 data", 0x0000FFFFu, 0x00CFF200u, 0x0000FBFFu, 0x00CFF300u },
    /* An available 32-bit TSS (type 9): system descriptors are not present. */
    { "tss", 0x10000067u, 0x00008900u, 0x10000067u, 0x00000900u },
    /* A guest's not-present descriptor stays as it is (its #NP is its own). */
    { "not present", 0x0000FFFFu, 0x00CF1200u, 0x0000FFFFu, 0x00CF1200u },
    /* 32-bit expand-down data reaches FFFFFFFFh: cannot be cut, not present. */
    { "expand-down", 0x0000FFFFu, 0x00CF9600u, 0x0000FFFFu, 0x00CF1600u },
    /* Byte-granular data at 1 MiB, 64 KiB: far below the region, only DPL and A change. */
    { "small data", 0x0000FFFFu, 0x00409210u, 0x0000FFFFu, 0x0040B310u },
    /* Based in the VMM region: not present. */
    { "in the region", 0x00000FFFu, 0xFF4092C0u, 0x00000FFFu, 0xFF4012C0u },
    /* Base FFB00000h, byte limit FFFFFh: ends at FFBFFFFFh, not cut. */
    { "ends below", 0x0000FFFFu, 0xFF4F92B0u, 0x0000FFFFu, 0xFF4FB3B0u },
    /* Base FFB80000h, byte limit FFFFFh: ends at FFC7FFFFh, cut to 7FFFFh. */
    { "cut bytes", 0x0000FFFFu, 0xFF4F92B8u, 0x0000FFFFu, 0xFF47B3B8u },
};

TEST(shadow_descriptors_compress_rings_and_cut_limits)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t slo = 0, shi = 0;
        tae_shadow_descriptor(cases[i].lo, cases[i].hi, &slo, &shi);
        if (slo != cases[i].slo || shi != cases[i].shi)
            fprintf(stderr, "  %s: got %08x %08x, want %08x %08x\n", cases[i].what, shi, slo,
                    cases[i].shi, cases[i].slo);
        CHECK_EQ(slo, cases[i].slo);
        CHECK_EQ(shi, cases[i].shi);
    }
}

TEST_MAIN()
