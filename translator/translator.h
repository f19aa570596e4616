/*
 * translator.h - the basic-block binary translator of the bt engine
 * (translator/README.md has the picture and a worked example).
 *
 * Guest kernel code is never run as it is: one translation unit (TU) at a
 * time - up to BT_TU_MAX guest instructions, ending at a control transfer -
 * becomes one compiled code fragment (CCF) in the translation cache (TC),
 * x86 code in VMM-private memory that the hardware CPU runs at ring 1:
 *
 *   IDENT    innocuous instructions, copied byte for byte
 *   in-TC    CLI, STI, PUSHF, POPF: a few instructions on the VMM's data
 *            (the virtual IF and IOPL), no exit at all
 *   branch   direct JMP/Jcc/CALL/LOOP: jumps to exit stubs, patched into
 *            direct CCF-to-CCF jumps once they ran (chaining); CALL pushes
 *            the guest's return address
 *   lookup   RET, indirect JMP/CALL: the target looked up in a small table
 *            in the VMM's data, in the TC; a miss is a callout
 *   callout  everything privileged or sensitive that needs the VMM (IN/OUT,
 *            MOV CRn, LGDT, INT n, IRET, HLT, far transfers, segment loads,
 *            SGDT, MOV from CS...): INT BT_CALLOUT_VECTOR, an exit of the
 *            hardware CPU without any exception delivery; the VMM finds the
 *            site by its TC address, decoded at translation time
 *
 * While translated code runs, the hardware CPU's CS is the VMM's flat ring-1
 * code segment (BT_TC_SEL) and GS the VMM's data page (BT_DATA_SEL, at
 * BT_DATA_LIN); every other register is the guest's.  So a guest
 * instruction that names CS or GS (a prefix, a load, a read) is a callout.
 *
 * Precise state: at the first TC instruction of each guest instruction the
 * hardware CPU holds exactly the guest's state before it (every sequence is
 * written so that a true fault can only come before it changed a guest
 * register), so a fault or callout anywhere in a guest instruction's TC
 * range is that instruction's, with the state before it; interrupts are
 * taken only at those boundaries (bt_tc_boundary).
 *
 * The translator knows nothing of the VMM: it reads guest code through
 * struct bt_code_reader and writes the TC through a host pointer.
 */
#ifndef TRAPEZE_TRANSLATOR_H
#define TRAPEZE_TRANSLATOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mmu/bus.h"

/* The ABI between translated code and the VMM. */
#define BT_TC_SEL          0xFFF9u    /* hardware CS in the TC: GDT index 8191, RPL 1 */
#define BT_TC16_SEL        0xFFE9u    /* ... for 16-bit guest code: index 8189, a 16-bit segment on the TC16 area */
#define BT_DATA_SEL        0xFFF1u    /* hardware GS in the TC: GDT index 8190, RPL 1 */
#define BT_CALLOUT_VECTOR  0xF1       /* INT 0xF1 in the TC: a callout */

/* The VMM's data page, GS-relative. */
#define BT_D_VIF           0x00       /* the guest's IF: 0 or 0x200 */
#define BT_D_VIOPL         0x04       /* the guest's IOPL bits: 0 - 0x3000 */
#define BT_D_S0            0x10       /* scratch: EAX */
#define BT_D_S1            0x14       /* scratch: ECX */
#define BT_D_S2            0x18       /* scratch: the TC target of a lookup */
#define BT_D_S3            0x1C       /* scratch: the in-TC counter's EAX */
#define BT_D_INTC_RUNS     0x20       /* in-TC sequences run (counted only with count_in_tc) */
#define BT_D_LOOKUP        0x100      /* BT_LOOKUP_ENTRIES x { guest EIP, TC address } */
#define BT_D_S4            0x24       /* scratch: EDX (16-bit sequences' stack address) */
#define BT_D_LOOKUP16      0x1000     /* the same table for 16-bit code: { IP, TC16 offset } */
#define BT_LOOKUP_ENTRIES  256
#define BT_DATA_BYTES      0x2000
/* 16-bit code's CCFs live in the TC's last 64 KiB, so a 16-bit code
 * segment (base: its start) reaches them with 16-bit offsets. */
#define BT_TC16_BYTES      0x10000u

#define BT_TU_MAX          12         /* guest instructions per translation unit */
#define BT_MAX_CCFS        16384
#define BT_NO_CCF          (-1)

/* What a guest instruction became. */
enum bt_kind { BT_IDENT, BT_INTC, BT_BRANCH, BT_LOOKUP, BT_CALLOUT };

/* What a callout asks of the VMM. */
enum bt_callout_kind {
    BT_CO_EMULATE,     /* run the guest instruction on the virtual CPU */
    BT_CO_PORT,        /* IN/OUT, decoded: port, size, direction */
    BT_CO_EXIT,        /* an unchained exit: translate the target, chain, go on */
    BT_CO_MISS,        /* an indirect branch's lookup missed: emulate it, fill the table */
    BT_CO_BREAK,       /* a host breakpoint (monitor, GDB) on this guest instruction */
};

struct bt_insn {
    uint32_t eip;             /* guest EIP */
    uint8_t len;              /* guest bytes */
    uint8_t kind;             /* enum bt_kind */
    uint16_t tc_off, tc_len;  /* its range in the CCF */
    const char *what;         /* mnemonic class: "ident", "cli", "mov from cs"... */
    uint16_t traps;           /* IDENT: times it trapped to the VMM and was emulated there */
};

/* A point where the hardware CPU may stop between guest instructions. */
struct bt_point {
    uint16_t tc_off;
    uint32_t eip;             /* the guest state there is the state before this EIP */
    bool no_irq;              /* right after STI: its interrupt shadow */
};

struct bt_exit {
    uint32_t target;          /* guest EIP */
    uint8_t rel_size;         /* 4 (rel32), 2 (16-bit code: rel16) */
    uint16_t rel_off;         /* the rel32 of the jump to patch */
    uint16_t stub_off;        /* its exit stub (a BT_CO_EXIT callout) */
    int32_t chained;          /* CCF it jumps to directly, or BT_NO_CCF */
};

struct bt_callout {
    uint16_t tc_off;          /* of the INT */
    uint8_t kind;             /* enum bt_callout_kind */
    uint8_t insn;             /* index of the guest instruction (BT_CO_EXIT: the exit) */
    uint16_t port;            /* BT_CO_PORT: immediate port, or 0xFFFF: DX */
    uint8_t size;             /* BT_CO_PORT: 1, 2, 4 */
    bool in;                  /* BT_CO_PORT: IN (else OUT) */
};

#define BT_MAX_POINTS   (BT_TU_MAX * 2 + 4)
#define BT_MAX_CALLOUTS (BT_TU_MAX + 2)

struct bt_ccf {
    bool valid;
    bool code32;              /* 32-bit guest code (else 16-bit: real mode too) */
    bool single;              /* one guest instruction for a single step: not in the hash, never chained */
    uint32_t eip, cs_base;    /* key: guest EIP, CS base, code32 */
    uint32_t guest_bytes;
    uint32_t frame[2];        /* guest-physical pages its bytes came from */
    uint8_t frames;
    uint32_t tc_off, tc_len;  /* in the TC */
    uint8_t ninsn, npoint, nexit, ncallout;
    struct bt_insn insn[BT_TU_MAX];
    struct bt_point point[BT_MAX_POINTS];
    struct bt_exit exit[2];
    struct bt_callout callout[BT_MAX_CALLOUTS];
    int32_t hash_next;
    int32_t frame_next[2];    /* the next CCF made from the same frame */
    int32_t incoming;         /* first chained jump into it (bt_link pool), -1 */
    /* A 32-bit RET's return prediction (an inline cache, patched by the VMM
     * at a lookup miss): the disp32 of its LEA holds -target, its hit path
     * jumps through exit 'pred_exit', whose point is 'pred_point'. */
    uint16_t pred_off;        /* 0: none */
    int8_t pred_exit, pred_point;
    uint64_t entries;         /* entered by the VMM (not chained, not looked up) */
    uint64_t chained_runs;    /* exits that chained into it */
};

/* Reads guest code for the translator: the byte at linear 'lin' and its
 * guest-physical address; false when the guest cannot fetch it. */
struct bt_code_reader {
    bool (*read)(void *opaque, uint32_t lin, uint8_t *byte, uint32_t *paddr);
    bool (*breakpoint)(void *opaque, uint32_t lin);   /* a host breakpoint there?  (NULL: none) */
    /* Adaptive BT: an instruction that kept trapping when copied, to be a
     * callout instead (NULL: none). */
    bool (*force_callout)(void *opaque, uint32_t lin);
    void *opaque;
};

struct bt_counters {
    uint64_t translated;      /* CCFs made */
    uint64_t singles;         /* one-instruction CCFs for single steps */
    uint64_t guest_bytes, tc_bytes;
    uint64_t ident, intc, branches, lookups, callout_sites;
    uint64_t chained;         /* exits patched into direct jumps */
    uint64_t invalidated;     /* CCFs dropped: a write to their guest bytes, or a mapping change */
    uint64_t flushes;         /* the whole TC dropped (full, or mode change) */
    uint64_t lookup_fills;
    uint64_t predictions;     /* RET predictions (re)patched */
};

struct bt_link { int32_t from; uint8_t exit; int32_t next; };
#define BT_MAX_LINKS (BT_MAX_CCFS * 2)

struct bt_tc {
    struct bus *bus;
    uint8_t *tc;              /* host pointer of the TC */
    uint32_t tc_paddr, tc_lin, tc_size, tc_used;   /* tc_used: of the 32-bit area [0, tc_size - BT_TC16_BYTES) */
    uint32_t tc16_start, tc16_used;                /* the 16-bit area */
    int32_t *order[2];        /* CCF indices by TC offset: [1] 32-bit area, [0] 16-bit area */
    int32_t norder[2];
    uint8_t *data;            /* host pointer of the VMM data page */
    struct bt_ccf *ccf;       /* BT_MAX_CCFS */
    int32_t nccf;
    int32_t hash[4096];
    int32_t *frame_ccfs;      /* per RAM page: first CCF made from it */
    uint32_t ram_pages;
    uint32_t lookup_cs_base;  /* the CS base the lookup tables are for */
    bool count_in_tc;         /* in-TC sequences increment BT_D_INTC_RUNS (-stats) */
    struct bt_link *links;
    int32_t nlinks, free_link;
    struct bt_counters cnt;
};

int bt_tc_init(struct bt_tc *tc, struct bus *bus, uint8_t *tc_host, uint32_t tc_paddr, uint32_t tc_lin,
               uint32_t tc_size, uint8_t *data_host);
void bt_tc_destroy(struct bt_tc *tc);
void bt_tc_flush(struct bt_tc *tc);

/* The CCF for guest EIP (CS base, 32- or 16-bit code), or BT_NO_CCF. */
int32_t bt_tc_find(struct bt_tc *tc, uint32_t eip, uint32_t cs_base, bool code32);
/* Translate the TU at EIP: its CCF, or BT_NO_CCF when its first instruction
 * cannot be fetched (the guest's own fault: the VMM lets the virtual CPU
 * raise it). */
int32_t bt_translate(struct bt_tc *tc, const struct bt_code_reader *rd, uint32_t eip, uint32_t cs_base, bool code32);
/* A single step's translation: the one instruction at EIP (a RET or
 * indirect branch as a callout), its exits left as stubs, in-TC sequences
 * counted; found by bt_tc_ccf_at but never by bt_tc_find. */
int32_t bt_translate_single(struct bt_tc *tc, const struct bt_code_reader *rd, uint32_t eip, uint32_t cs_base, bool code32);
/* The CCF whose TC bytes hold TC linear address 'addr', or BT_NO_CCF. */
int32_t bt_tc_ccf_at(struct bt_tc *tc, uint32_t addr);
/* The guest instruction of 'c' whose TC range holds 'addr', or -1. */
int bt_ccf_insn_at(const struct bt_ccf *c, uint32_t off);
/* The stopping point at TC offset 'off' of 'c', or NULL (mid-sequence). */
const struct bt_point *bt_ccf_point_at(const struct bt_ccf *c, uint32_t off);
/* The callout whose INT is at TC offset 'off', or NULL. */
const struct bt_callout *bt_ccf_callout_at(const struct bt_ccf *c, uint32_t off);
/* May an interrupt be taken at TC linear 'addr'?  *eip: the guest EIP there. */
bool bt_tc_boundary(struct bt_tc *tc, uint32_t addr, uint32_t *eip);

/* Chain exit 'x' of CCF 'from' straight to CCF 'to' (both valid). */
void bt_chain(struct bt_tc *tc, int32_t from, int x, int32_t to);
/* Predict 'target' for CCF k's RET (its inline check and exit follow). */
void bt_predict_return(struct bt_tc *tc, int32_t k, uint32_t target);
/* Put 'to' in the indirect-branch lookup table for its EIP. */
void bt_lookup_fill(struct bt_tc *tc, int32_t to);
void bt_lookup_reset(struct bt_tc *tc, uint32_t cs_base);

/* Guest-physical bytes [paddr, paddr+size) were written: drop every CCF made
 * from them.  Returns how many. */
int bt_tc_code_written(struct bt_tc *tc, uint32_t paddr, unsigned size);
/* Drop one CCF (its incoming chains unpatched, its lookup entries cleared). */
void bt_invalidate(struct bt_tc *tc, int32_t ccf);
/* Adaptive BT: CCF 'to' replaces the dropped 'from' (same guest EIP): a
 * jump to 'to' over the head of 'from', for anything still headed there. */
void bt_forward(struct bt_tc *tc, int32_t from, int32_t to);

static inline uint32_t bt_ccf_lin(const struct bt_tc *tc, const struct bt_ccf *c) { return tc->tc_lin + c->tc_off; }
/* The linear base of the 16-bit code segment over the TC16 area. */
static inline uint32_t bt_tc16_base(const struct bt_tc *tc) { return tc->tc_lin + tc->tc16_start; }

/* The TC bytes of guest instruction 'k' of 'c', for disas-tc. */
const uint8_t *bt_ccf_bytes(const struct bt_tc *tc, const struct bt_ccf *c);

const char *bt_kind_name(enum bt_kind k);

#endif
