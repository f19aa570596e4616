/*
 * translator.c - guest kernel code to translated code (translator.h has the
 * ABI, translator/README.md a worked example).
 *
 * One call of bt_translate decodes at most BT_TU_MAX guest instructions
 * with the CPU's own decoder (cpu/decode.h), classifies each and emits its
 * translation into a buffer, then the exit stubs, and copies the result
 * into the TC.  Every emitted sequence keeps the guest's arithmetic flags
 * and registers as they were wherever a true fault could stop it (see the
 * top of translator.h): scratch lives in the VMM's data page, reached
 * through GS.
 */
#include "translator/translator.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/decode.h"
#include "cpu/x86_state.h"

#define CCF_BUF 2048

/* ---------- the emitter ---------- */

struct emitter {
    struct bt_ccf *c;
    bool c16;                 /* emitting 16-bit code: 32-bit forms take 66/67 prefixes */
    uint8_t buf[CCF_BUF];
    unsigned n;
    bool irq_shadow_next;     /* the next point follows an STI */
};

static void b1(struct emitter *e, uint8_t v) { if (e->n < CCF_BUF) e->buf[e->n++] = v; }
static void b4(struct emitter *e, uint32_t v) { for (int k = 0; k < 4; k++) b1(e, (uint8_t)(v >> (8 * k))); }
static void bytes(struct emitter *e, const uint8_t *p, unsigned len) { for (unsigned k = 0; k < len; k++) b1(e, p[k]); }

static void point(struct emitter *e, uint32_t eip)
{
    struct bt_ccf *c = e->c;
    if (c->npoint >= BT_MAX_POINTS) return;
    c->point[c->npoint++] = (struct bt_point){ (uint16_t)e->n, eip, e->irq_shadow_next };
    e->irq_shadow_next = false;
}

/* 16-bit code: the next instruction's 32-bit operand (66) and address (67) forms. */
static void o32(struct emitter *e) { if (e->c16) b1(e, 0x66); }
static void a32(struct emitter *e) { if (e->c16) b1(e, 0x67); }
static void oa32(struct emitter *e) { o32(e); a32(e); }

/* GS-relative moves of the VMM's data page (disp32 addressing). */
static void mov_gs_eax(struct emitter *e, uint32_t d) { b1(e, 0x65); oa32(e); b1(e, 0xA3); b4(e, d); }  /* mov gs:[d], eax */
static void mov_eax_gs(struct emitter *e, uint32_t d) { b1(e, 0x65); oa32(e); b1(e, 0xA1); b4(e, d); }  /* mov eax, gs:[d] */
static void mov_gs_reg(struct emitter *e, uint32_t d, unsigned r) { b1(e, 0x65); oa32(e); b1(e, 0x89); b1(e, (uint8_t)(0x05 | r << 3)); b4(e, d); }
static void mov_reg_gs(struct emitter *e, unsigned r, uint32_t d) { b1(e, 0x65); oa32(e); b1(e, 0x8B); b1(e, (uint8_t)(0x05 | r << 3)); b4(e, d); }
static void mov_gs_ecx(struct emitter *e, uint32_t d) { mov_gs_reg(e, d, 1); }
static void mov_ecx_gs(struct emitter *e, uint32_t d) { mov_reg_gs(e, 1, d); }
static void mov_gs_imm(struct emitter *e, uint32_t d, uint32_t v) { b1(e, 0x65); oa32(e); b1(e, 0xC7); b1(e, 0x05); b4(e, d); b4(e, v); }

/* A jump to an exit: 'rel_at' is where its rel32 is; patched to the stub later. */
static int add_exit(struct emitter *e, uint32_t target, unsigned rel_at)
{
    struct bt_ccf *c = e->c;
    int x = c->nexit++;
    c->exit[x] = (struct bt_exit){ target, (uint8_t)(e->c16 ? 2 : 4), (uint16_t)rel_at, 0, BT_NO_CCF };
    return x;
}

/* The rel16/rel32 of a jump to an exit (patched to the stub later). */
static void rel_exit(struct emitter *e, uint32_t target)
{
    add_exit(e, target, e->n);
    b1(e, 0); b1(e, 0);
    if (!e->c16) { b1(e, 0); b1(e, 0); }
}

static void jmp_exit(struct emitter *e, uint32_t target)
{
    b1(e, 0xE9);
    rel_exit(e, target);
}

static void callout(struct emitter *e, enum bt_callout_kind kind, int insn)
{
    struct bt_ccf *c = e->c;
    if (c->ncallout < BT_MAX_CALLOUTS)
        c->callout[c->ncallout++] = (struct bt_callout){ .tc_off = (uint16_t)e->n, .kind = (uint8_t)kind, .insn = (uint8_t)insn };
    b1(e, 0xCD);
    b1(e, BT_CALLOUT_VECTOR);
}

/* ---------- reading guest code ---------- */

struct guest_code {
    const struct bt_code_reader *rd;
    uint32_t lin;             /* of the instruction */
    uint8_t bytes[16];
    uint32_t paddr[16];
    unsigned avail;           /* bytes the guest can fetch, from lin */
    bool short_read;          /* the decoder wanted a byte past them */
};

static void fetch_ahead(struct guest_code *g)
{
    g->avail = 0;
    for (unsigned k = 0; k < 15; k++) {
        if (!g->rd->read(g->rd->opaque, g->lin + k, &g->bytes[k], &g->paddr[k])) break;
        g->avail = k + 1;
    }
}

static uint8_t decode_fetch(void *opaque, unsigned pos)
{
    struct guest_code *g = opaque;
    if (pos >= g->avail) { g->short_read = true; return 0x90; }
    return g->bytes[pos];
}

static bool is_prefix(uint8_t b)
{
    switch (b) {
    case 0x26: case 0x2E: case 0x36: case 0x3E: case 0x64: case 0x65:
    case 0x66: case 0x67: case 0xF0: case 0xF2: case 0xF3:
        return true;
    default:
        return false;
    }
}

/* ---------- classification ---------- */

enum action {
    A_IDENT, A_CLI, A_STI, A_PUSHF, A_POPF, A_JMP, A_JCC, A_CALL, A_LOOP,
    A_RET, A_JMP_IND, A_CALL_IND, A_PORT, A_EMULATE, A_EMULATE_END,
};

/* What to do with 'i'; *what names it for disas-tc and stats.  Branches,
 * lookups and the in-TC PUSHF/POPF are translated at the code's own
 * operand size (32 in 32-bit code, 16 in 16-bit code); the other size is a
 * callout. */
static enum action classify(const struct x86_insn *i, bool c16, const char **what)
{
    unsigned op = i->op;
    bool os = c16 ? !i->os32 : i->os32;
    bool cs_gs = i->seg_override && (i->seg == SEG_CS || i->seg == SEG_GS);
    *what = "ident";
    if (!i->exec) { *what = "invalid opcode"; return A_EMULATE_END; }
    if (cs_gs) { *what = i->seg == SEG_CS ? "cs: operand" : "gs: operand"; return A_EMULATE; }
    switch (op) {
    case 0xFA: *what = "cli"; return A_CLI;
    case 0xFB: *what = "sti"; return A_STI;
    case 0x9C: *what = "pushf"; return os ? A_PUSHF : A_EMULATE;
    case 0x9D: *what = "popf"; return os ? A_POPF : A_EMULATE;
    case 0xEB: case 0xE9: *what = "jmp"; return os ? A_JMP : A_EMULATE_END;
    case 0xE8: *what = "call"; return os ? A_CALL : A_EMULATE_END;
    case 0xE0: case 0xE1: case 0xE2: case 0xE3: *what = op == 0xE3 ? "jecxz" : "loop"; return os ? A_LOOP : A_EMULATE_END;
    case 0xC3: case 0xC2: *what = "ret"; return os && !i->rep ? A_RET : A_EMULATE_END;
    case 0xFF:
        if (i->reg == 2) { *what = "call indirect"; return os ? A_CALL_IND : A_EMULATE_END; }
        if (i->reg == 4) { *what = "jmp indirect"; return os ? A_JMP_IND : A_EMULATE_END; }
        if (i->reg == 3 || i->reg == 5) { *what = "far transfer"; return A_EMULATE_END; }
        return A_IDENT;
    case 0xE4: case 0xE5: case 0xE6: case 0xE7: case 0xEC: case 0xED: case 0xEE: case 0xEF:
        *what = (op & 2) ? "out" : "in";
        return A_PORT;
    case 0x6C: case 0x6D: case 0x6E: case 0x6F: *what = (op & 2) ? "outs" : "ins"; return A_EMULATE;
    case 0xF4: *what = "hlt"; return A_EMULATE_END;
    case 0xCC: case 0xCD: case 0xCE: case 0xF1: *what = "int"; return A_EMULATE_END;
    case 0xCF: *what = "iret"; return A_EMULATE_END;
    case 0x9A: case 0xEA: case 0xCA: case 0xCB: *what = "far transfer"; return A_EMULATE_END;
    case 0x0E: *what = "push cs"; return A_EMULATE;
    case 0x16: *what = "push ss"; return A_EMULATE;
    case 0x1A8: *what = "push gs"; return A_EMULATE;
    case 0x07: case 0x17: case 0x1F: case 0x1A1: case 0x1A9: *what = "pop sreg"; return A_EMULATE;
    case 0x8E: *what = "mov sreg"; return A_EMULATE;
    case 0x8C:
        if (i->reg == SEG_CS) { *what = "mov from cs"; return A_EMULATE; }
        if (i->reg == SEG_SS) { *what = "mov from ss"; return A_EMULATE; }
        if (i->reg == SEG_GS) { *what = "mov from gs"; return A_EMULATE; }
        return A_IDENT;
    case 0xC4: case 0xC5: case 0x1B2: case 0x1B4: case 0x1B5: *what = "load far pointer"; return A_EMULATE;
    case 0x100: {
        static const char *const g6[8] = { "sldt", "str", "lldt", "ltr", "verr", "verw", "grp6", "grp6" };
        *what = g6[i->reg];
        return A_EMULATE;
    }
    case 0x101: {
        static const char *const g7[8] = { "sgdt", "sidt", "lgdt", "lidt", "smsw", "grp7", "lmsw", "invlpg" };
        *what = g7[i->reg];
        return A_EMULATE;
    }
    case 0x102: *what = "lar"; return A_EMULATE;
    case 0x103: *what = "lsl"; return A_EMULATE;
    case 0x106: *what = "clts"; return A_EMULATE;
    case 0x108: case 0x109: *what = "invd/wbinvd"; return A_EMULATE;
    case 0x120: case 0x122: *what = "mov cr"; return A_EMULATE;
    case 0x121: case 0x123: *what = "mov dr"; return A_EMULATE;
    case 0x130: *what = "wrmsr"; return A_EMULATE;
    case 0x132: *what = "rdmsr"; return A_EMULATE;
    case 0x133: *what = "rdpmc"; return A_EMULATE;
    default:
        if ((op >= 0x70 && op <= 0x7F) || (op >= 0x180 && op <= 0x18F)) { *what = "jcc"; return os ? A_JCC : A_EMULATE_END; }
        return A_IDENT;
    }
}

/* The relative target of a Jb/Jz branch: the last 1, 2 or 4 bytes; 16-bit
 * code's IP wraps at 64 KiB. */
static uint32_t rel_target(const struct guest_code *g, const struct x86_insn *i, uint32_t next, bool rel8, bool c16)
{
    const uint8_t *p = g->bytes + i->len;
    int32_t d;
    if (rel8) d = (int8_t)p[-1];
    else if (c16) d = (int16_t)((uint16_t)p[-2] | (uint16_t)p[-1] << 8);
    else d = (int32_t)((uint32_t)p[-4] | (uint32_t)p[-3] << 8 | (uint32_t)p[-2] << 16 | (uint32_t)p[-1] << 24);
    uint32_t t = next + (uint32_t)d;
    return c16 ? t & 0xFFFF : t;
}

/* 16-bit code: EDX = SP zero-extended (16-bit addressing has no [sp]). */
static void edx_is_sp(struct emitter *e) { b1(e, 0x66); b1(e, 0x0F); b1(e, 0xB7); b1(e, 0xD4); }   /* movzx edx, sp */

/*
 * The lookup of an indirect target: EAX = target (loaded by 'load'), a hit
 * jumps to its CCF after restoring EAX and ECX (EDX in 16-bit code; 'esp_add'
 * pops the return address, 'push_ret' pushes one), a miss restores them and
 * calls out.  16-bit code has its own table (IP tags, TC16 offsets).
 */
static void emit_lookup(struct emitter *e, int k, const uint8_t *load, unsigned load_len,
                        uint32_t esp_add, bool push_ret, uint32_t ret_eip)
{
    uint32_t table = e->c16 ? BT_D_LOOKUP16 : BT_D_LOOKUP;
    mov_gs_eax(e, BT_D_S0);
    mov_gs_ecx(e, BT_D_S1);
    if (e->c16) { mov_gs_reg(e, BT_D_S4, 2); edx_is_sp(e); }
    bytes(e, load, load_len);                                  /* the first guest access */
    o32(e); b1(e, 0x0F); b1(e, 0xB6); b1(e, 0xC8);             /* movzx ecx, al */
    b1(e, 0x65); oa32(e); b1(e, 0x8B); b1(e, 0x0C); b1(e, 0xCD); b4(e, table);   /* mov ecx, gs:[L+ecx*8] */
    o32(e); b1(e, 0xF7); b1(e, 0xD1);                          /* not ecx */
    oa32(e); b1(e, 0x8D); b1(e, 0x4C); b1(e, 0x01); b1(e, 0x01);   /* lea ecx, [ecx+eax+1]: target - tag */
    a32(e); b1(e, 0xE3); unsigned jecxz = e->n; b1(e, 0);      /* jecxz hit (ECX, not CX) */
    if (e->c16) mov_reg_gs(e, 2, BT_D_S4);
    mov_ecx_gs(e, BT_D_S1);
    mov_eax_gs(e, BT_D_S0);
    callout(e, BT_CO_MISS, k);
    if (jecxz < CCF_BUF) e->buf[jecxz] = (uint8_t)(e->n - (jecxz + 1));
    o32(e); b1(e, 0x0F); b1(e, 0xB6); b1(e, 0xC8);             /* hit: movzx ecx, al */
    b1(e, 0x65); oa32(e); b1(e, 0x8B); b1(e, 0x0C); b1(e, 0xCD); b4(e, table + 4);
    mov_gs_ecx(e, BT_D_S2);
    if (e->c16) mov_reg_gs(e, 2, BT_D_S4);
    mov_ecx_gs(e, BT_D_S1);
    mov_eax_gs(e, BT_D_S0);
    if (esp_add) {
        /* lea esp, [esp+n]; in 16-bit code lea sp, [esp+n]: SP wraps, ESP's top half stays */
        a32(e); b1(e, 0x8D); b1(e, 0xA4); b1(e, 0x24); b4(e, esp_add);
    }
    if (push_ret) {                                            /* push the guest's return address */
        b1(e, 0x68);
        if (e->c16) { b1(e, (uint8_t)ret_eip); b1(e, (uint8_t)(ret_eip >> 8)); }
        else b4(e, ret_eip);
    }
    if (e->c16) { b1(e, 0x65); b1(e, 0xFF); b1(e, 0x26); b1(e, (uint8_t)BT_D_S2); b1(e, (uint8_t)(BT_D_S2 >> 8)); }  /* jmp word gs:[S2] */
    else { b1(e, 0x65); b1(e, 0xFF); b1(e, 0x25); b4(e, BT_D_S2); }                                                /* jmp dword gs:[S2] */
}

/* BT_D_INTC_RUNS += 1 without touching the guest's flags (LEA), after the
 * sequence proper, so a fault inside it never counts twice. */
static void count_in_tc(struct emitter *e, const struct bt_tc *tc)
{
    if (!tc->count_in_tc) return;
    mov_gs_eax(e, BT_D_S3);
    mov_eax_gs(e, BT_D_INTC_RUNS);
    oa32(e); b1(e, 0x8D); b1(e, 0x40); b1(e, 0x01);            /* lea eax, [eax+1] */
    mov_gs_eax(e, BT_D_INTC_RUNS);
    mov_eax_gs(e, BT_D_S3);
}

static void emit_pushf(struct emitter *e)
{
    b1(e, 0x9C);                                               /* pushf(d): IF = 1, IOPL = 0 in it */
    mov_gs_eax(e, BT_D_S0);
    mov_gs_ecx(e, BT_D_S1);
    mov_eax_gs(e, BT_D_VIF);
    mov_ecx_gs(e, BT_D_VIOPL);
    oa32(e); b1(e, 0x8D); b1(e, 0x84); b1(e, 0x08); b4(e, 0xFFFFFE00u);   /* lea eax, [eax+ecx-0x200] */
    if (e->c16) {
        /* The image is a word at SS:SP. */
        mov_gs_reg(e, BT_D_S4, 2);
        edx_is_sp(e);
        b1(e, 0x36); b1(e, 0x67); b1(e, 0x8B); b1(e, 0x0A);    /* mov cx, ss:[edx] */
        b1(e, 0x66); b1(e, 0x67); b1(e, 0x8D); b1(e, 0x0C); b1(e, 0x01);   /* lea ecx, [ecx+eax] */
        b1(e, 0x36); b1(e, 0x67); b1(e, 0x89); b1(e, 0x0A);    /* mov ss:[edx], cx */
        mov_reg_gs(e, 2, BT_D_S4);
    } else {
        b1(e, 0x8B); b1(e, 0x0C); b1(e, 0x24);                 /* mov ecx, [esp] */
        b1(e, 0x8D); b1(e, 0x0C); b1(e, 0x01);                 /* lea ecx, [ecx+eax]: the guest's flags untouched */
        b1(e, 0x89); b1(e, 0x0C); b1(e, 0x24);                 /* mov [esp], ecx */
    }
    mov_ecx_gs(e, BT_D_S1);
    mov_eax_gs(e, BT_D_S0);
}

static void emit_popf(struct emitter *e)
{
    static const uint8_t load32[] = { 0x8B, 0x04, 0x24 };                     /* mov eax, [esp] */
    static const uint8_t load16[] = { 0x66, 0x36, 0x67, 0x0F, 0xB7, 0x02 };   /* movzx eax, word ss:[edx] */
    mov_gs_eax(e, BT_D_S0);
    if (e->c16) { mov_gs_reg(e, BT_D_S4, 2); edx_is_sp(e); }
    if (e->c16) bytes(e, load16, sizeof load16); else bytes(e, load32, sizeof load32);   /* the first guest access */
    o32(e); b1(e, 0x25); b4(e, 0x200);                         /* and eax, IF (popf sets the flags after) */
    mov_gs_eax(e, BT_D_VIF);
    if (e->c16) bytes(e, load16, sizeof load16); else bytes(e, load32, sizeof load32);
    o32(e); b1(e, 0x25); b4(e, 0x3000);                        /* and eax, IOPL */
    mov_gs_eax(e, BT_D_VIOPL);
    if (e->c16) mov_reg_gs(e, 2, BT_D_S4);
    mov_eax_gs(e, BT_D_S0);
    b1(e, 0x9D);                                               /* popf(d): IF and IOPL stay the VMM's */
}

/* ---------- the cache ---------- */

static unsigned hash_of(uint32_t eip, uint32_t cs_base, bool code32)
{
    return ((eip ^ (cs_base * 0x9E3779B1u) ^ (code32 ? 0x5bd1e995u : 0)) * 0x9E3779B1u) >> 20;
}

int bt_tc_init(struct bt_tc *tc, struct bus *bus, uint8_t *tc_host, uint32_t tc_paddr, uint32_t tc_lin,
               uint32_t tc_size, uint8_t *data_host)
{
    memset(tc, 0, sizeof *tc);
    tc->bus = bus;
    tc->tc = tc_host;
    tc->tc_paddr = tc_paddr;
    tc->tc_lin = tc_lin;
    tc->tc_size = tc_size;
    tc->data = data_host;
    tc->ram_pages = bus->ram_size >> 12;
    tc->ccf = calloc(BT_MAX_CCFS, sizeof *tc->ccf);
    tc->frame_ccfs = malloc((tc->ram_pages ? tc->ram_pages : 1) * sizeof *tc->frame_ccfs);
    tc->links = calloc(BT_MAX_LINKS, sizeof *tc->links);
    tc->order[0] = calloc(BT_MAX_CCFS, sizeof *tc->order[0]);
    tc->order[1] = calloc(BT_MAX_CCFS, sizeof *tc->order[1]);
    /* The 16-bit area: 64 KiB (a 16-bit segment's reach), half of a small TC. */
    tc->tc16_start = tc_size - (tc_size >= 2 * BT_TC16_BYTES ? BT_TC16_BYTES : (tc_size / 2) & ~0xFFFu);
    if (!tc->ccf || !tc->frame_ccfs || !tc->links || !tc->order[0] || !tc->order[1]) {
        bt_tc_destroy(tc);
        return -ENOMEM;
    }
    memset(tc->frame_ccfs, 0xFF, (tc->ram_pages ? tc->ram_pages : 1) * sizeof *tc->frame_ccfs);   /* BT_NO_CCF */
    bt_tc_flush(tc);
    tc->cnt.flushes = 0;
    return 0;
}

void bt_tc_destroy(struct bt_tc *tc)
{
    free(tc->ccf);
    free(tc->frame_ccfs);
    free(tc->links);
    free(tc->order[0]);
    free(tc->order[1]);
    tc->order[0] = tc->order[1] = NULL;
    tc->ccf = NULL;
    tc->frame_ccfs = NULL;
    tc->links = NULL;
}

void bt_lookup_reset(struct bt_tc *tc, uint32_t cs_base)
{
    uint32_t *t = (uint32_t *)(tc->data + BT_D_LOOKUP), *t16 = (uint32_t *)(tc->data + BT_D_LOOKUP16);
    for (int k = 0; k < BT_LOOKUP_ENTRIES; k++) {
        t[2 * k] = t16[2 * k] = 0xFFFFFFFFu;
        t[2 * k + 1] = t16[2 * k + 1] = 0;
    }
    tc->lookup_cs_base = cs_base;
}

void bt_tc_flush(struct bt_tc *tc)
{
    if (tc->tc_used) bus_private_code_changed(tc->bus, tc->tc_paddr, tc->tc_used);
    if (tc->tc16_used) bus_private_code_changed(tc->bus, tc->tc_paddr + tc->tc16_start, tc->tc16_used);
    tc->nccf = 0;
    tc->tc_used = 0;
    tc->tc16_used = 0;
    tc->norder[0] = tc->norder[1] = 0;
    for (unsigned k = 0; k < sizeof tc->hash / sizeof tc->hash[0]; k++) tc->hash[k] = BT_NO_CCF;
    for (uint32_t p = 0; p < tc->ram_pages; p++) {
        if (tc->frame_ccfs && tc->frame_ccfs[p] != BT_NO_CCF && (tc->bus->page_flags[p] & BUS_PAGE_TRANSLATED))
            bus_set_page_flags(tc->bus, p << 12, 0, BUS_PAGE_TRANSLATED);
        tc->frame_ccfs[p] = BT_NO_CCF;
    }
    tc->nlinks = 0;
    tc->free_link = -1;
    bt_lookup_reset(tc, tc->lookup_cs_base);
    tc->cnt.flushes++;
}

int32_t bt_tc_find(struct bt_tc *tc, uint32_t eip, uint32_t cs_base, bool code32)
{
    for (int32_t k = tc->hash[hash_of(eip, cs_base, code32)]; k != BT_NO_CCF; k = tc->ccf[k].hash_next)
        if (tc->ccf[k].eip == eip && tc->ccf[k].cs_base == cs_base && tc->ccf[k].code32 == code32) return k;
    return BT_NO_CCF;
}

int32_t bt_tc_ccf_at(struct bt_tc *tc, uint32_t addr)
{
    uint32_t off = addr - tc->tc_lin;
    bool area16 = off >= tc->tc16_start;
    if (area16 ? off - tc->tc16_start >= tc->tc16_used : off >= tc->tc_used) return BT_NO_CCF;
    const int32_t *order = tc->order[area16 ? 0 : 1];
    int32_t lo = 0, hi = tc->norder[area16 ? 0 : 1] - 1;
    while (lo <= hi) {
        int32_t mid = (lo + hi) / 2;
        const struct bt_ccf *c = &tc->ccf[order[mid]];
        if (off < c->tc_off) hi = mid - 1;
        else if (off >= c->tc_off + c->tc_len) lo = mid + 1;
        else return order[mid];
    }
    return BT_NO_CCF;
}

int bt_ccf_insn_at(const struct bt_ccf *c, uint32_t off)
{
    for (int k = 0; k < c->ninsn; k++)
        if (off >= c->insn[k].tc_off && off < (uint32_t)c->insn[k].tc_off + c->insn[k].tc_len) return k;
    return -1;
}

const struct bt_point *bt_ccf_point_at(const struct bt_ccf *c, uint32_t off)
{
    for (int k = 0; k < c->npoint; k++)
        if (c->point[k].tc_off == off) return &c->point[k];
    return NULL;
}

const struct bt_callout *bt_ccf_callout_at(const struct bt_ccf *c, uint32_t off)
{
    for (int k = 0; k < c->ncallout; k++)
        if (c->callout[k].tc_off == off) return &c->callout[k];
    return NULL;
}

bool bt_tc_boundary(struct bt_tc *tc, uint32_t addr, uint32_t *eip)
{
    int32_t k = bt_tc_ccf_at(tc, addr);
    if (k == BT_NO_CCF) return false;
    const struct bt_point *p = bt_ccf_point_at(&tc->ccf[k], addr - tc->tc_lin - tc->ccf[k].tc_off);
    if (!p || p->no_irq) return false;
    if (eip) *eip = p->eip;
    return true;
}

const uint8_t *bt_ccf_bytes(const struct bt_tc *tc, const struct bt_ccf *c) { return tc->tc + c->tc_off; }

const char *bt_kind_name(enum bt_kind k)
{
    switch (k) {
    case BT_IDENT: return "IDENT";
    case BT_INTC: return "in-TC";
    case BT_BRANCH: return "branch";
    case BT_LOOKUP: return "lookup";
    case BT_CALLOUT: return "callout";
    }
    return "?";
}

static void write_tc(struct bt_tc *tc, uint32_t off, const void *p, uint32_t len)
{
    memcpy(tc->tc + off, p, len);
    bus_private_code_changed(tc->bus, tc->tc_paddr + off, len);
}

static void set_rel(struct bt_tc *tc, const struct bt_ccf *c, const struct bt_exit *x, uint32_t target_off)
{
    uint32_t site = c->tc_off + x->rel_off;
    uint32_t rel = target_off - (site + x->rel_size);   /* 16-bit: both in the TC16 area, a 64 KiB segment */
    uint8_t b[4] = { (uint8_t)rel, (uint8_t)(rel >> 8), (uint8_t)(rel >> 16), (uint8_t)(rel >> 24) };
    write_tc(tc, site, b, x->rel_size);
}

void bt_chain(struct bt_tc *tc, int32_t from, int x, int32_t to)
{
    struct bt_ccf *f = &tc->ccf[from], *t = &tc->ccf[to];
    if (f->exit[x].chained == to || f->code32 != t->code32) return;
    int32_t l = tc->free_link;
    if (l >= 0) tc->free_link = tc->links[l].next;
    else if (tc->nlinks < BT_MAX_LINKS) l = tc->nlinks++;
    else return;                  /* no room to remember it: leave it unchained */
    tc->links[l] = (struct bt_link){ from, (uint8_t)x, t->incoming };
    t->incoming = l;
    set_rel(tc, f, &f->exit[x], t->tc_off);
    f->exit[x].chained = to;
    tc->cnt.chained++;
}

void bt_predict_return(struct bt_tc *tc, int32_t k, uint32_t target)
{
    struct bt_ccf *c = &tc->ccf[k];
    if (!c->pred_off || !c->valid) return;
    uint32_t d = 0u - target;
    uint8_t b[4] = { (uint8_t)d, (uint8_t)(d >> 8), (uint8_t)(d >> 16), (uint8_t)(d >> 24) };
    write_tc(tc, c->tc_off + c->pred_off, b, 4);
    struct bt_exit *x = &c->exit[c->pred_exit];
    if (x->chained != BT_NO_CCF) {          /* to the stub again: it chains to the new target */
        set_rel(tc, c, x, c->tc_off + x->stub_off);
        x->chained = BT_NO_CCF;
    }
    x->target = target;
    c->point[c->pred_point].eip = target;
    /* The stub's own point says where it goes, too. */
    for (int p = 0; p < c->npoint; p++)
        if (c->point[p].tc_off == x->stub_off) c->point[p].eip = target;
    tc->cnt.predictions++;
}

void bt_lookup_fill(struct bt_tc *tc, int32_t to)
{
    const struct bt_ccf *c = &tc->ccf[to];
    if (c->cs_base != tc->lookup_cs_base) bt_lookup_reset(tc, c->cs_base);
    if (c->eip == 0xFFFFFFFFu) return;
    uint32_t *t = (uint32_t *)(tc->data + (c->code32 ? BT_D_LOOKUP : BT_D_LOOKUP16));
    unsigned k = c->eip & (BT_LOOKUP_ENTRIES - 1);
    t[2 * k] = c->eip;
    t[2 * k + 1] = c->code32 ? tc->tc_lin + c->tc_off : c->tc_off - tc->tc16_start;   /* a TC16 offset */
    tc->cnt.lookup_fills++;
}

/* Take CCF k out of its hash chain and its frames' lists. */
static void unlink_ccf(struct bt_tc *tc, int32_t k)
{
    struct bt_ccf *c = &tc->ccf[k];
    for (int32_t *pp = &tc->hash[hash_of(c->eip, c->cs_base, c->code32)]; *pp != BT_NO_CCF; pp = &tc->ccf[*pp].hash_next)
        if (*pp == k) { *pp = c->hash_next; break; }
    for (int f = 0; f < c->frames; f++) {
        uint32_t page = c->frame[f];
        if (page >= tc->ram_pages) continue;
        for (int32_t *pp = &tc->frame_ccfs[page]; *pp != BT_NO_CCF;) {
            struct bt_ccf *o = &tc->ccf[*pp];
            int s = (o->frames > 1 && o->frame[1] == page) ? 1 : 0;
            if (*pp == k) { *pp = o->frame_next[s]; break; }
            pp = &o->frame_next[s];
        }
    }
}

void bt_invalidate(struct bt_tc *tc, int32_t k)
{
    struct bt_ccf *c = &tc->ccf[k];
    if (!c->valid) return;
    c->valid = false;
    unlink_ccf(tc, k);
    /* Chained jumps into it go back to their exit stubs. */
    for (int32_t l = c->incoming; l >= 0;) {
        struct bt_link *ln = &tc->links[l];
        struct bt_ccf *from = &tc->ccf[ln->from];
        struct bt_exit *x = &from->exit[ln->exit];
        if (x->chained == k) {
            set_rel(tc, from, x, from->tc_off + x->stub_off);
            x->chained = BT_NO_CCF;
        }
        int32_t next = ln->next;
        ln->next = tc->free_link;
        tc->free_link = l;
        l = next;
    }
    c->incoming = -1;
    uint32_t *t = (uint32_t *)(tc->data + (c->code32 ? BT_D_LOOKUP : BT_D_LOOKUP16));
    uint32_t target = c->code32 ? tc->tc_lin + c->tc_off : c->tc_off - tc->tc16_start;
    for (int e = 0; e < BT_LOOKUP_ENTRIES; e++)
        if (t[2 * e] == c->eip && t[2 * e + 1] == target) t[2 * e] = 0xFFFFFFFFu;
    tc->cnt.invalidated++;
}

void bt_forward(struct bt_tc *tc, int32_t from, int32_t to)
{
    const struct bt_ccf *f = &tc->ccf[from], *t = &tc->ccf[to];
    unsigned len = f->code32 ? 5 : 3;
    if (f->tc_len < len || f->code32 != t->code32) return;
    uint32_t rel = t->tc_off - (f->tc_off + len);
    uint8_t jmp[5] = { 0xE9, (uint8_t)rel, (uint8_t)(rel >> 8), (uint8_t)(rel >> 16), (uint8_t)(rel >> 24) };
    write_tc(tc, f->tc_off, jmp, len);
}

static int code_written_page(struct bt_tc *tc, uint32_t paddr, unsigned size);

int bt_tc_code_written(struct bt_tc *tc, uint32_t paddr, unsigned size)
{
    /* Page by page (the bus never crosses one, a caller may). */
    int dropped = 0;
    while (size) {
        unsigned n = 4096 - (paddr & 0xFFF);
        if (n > size) n = size;
        dropped += code_written_page(tc, paddr, n);
        paddr += n;
        size -= n;
    }
    return dropped;
}

static int code_written_page(struct bt_tc *tc, uint32_t paddr, unsigned size)
{
    uint32_t page = paddr >> 12;
    if (page >= tc->ram_pages) return 0;
    int dropped = 0;
    for (int32_t k = tc->frame_ccfs[page]; k != BT_NO_CCF;) {
        struct bt_ccf *c = &tc->ccf[k];
        int s = (c->frames > 1 && c->frame[1] == page) ? 1 : 0;
        int32_t next = c->frame_next[s];
        /* The CCF's bytes on this page: [lo, hi) of its linear bytes. */
        uint32_t lo, hi;
        uint32_t first_len = 4096 - ((c->cs_base + c->eip) & 0xFFF);
        if (first_len > c->guest_bytes) first_len = c->guest_bytes;
        if (s == 0) { lo = (c->cs_base + c->eip) & 0xFFF; hi = lo + first_len; }
        else { lo = 0; hi = c->guest_bytes - first_len; }
        uint32_t wlo = paddr & 0xFFF, whi = wlo + size;
        if (wlo < hi && whi > lo) {
            bt_invalidate(tc, k);
            dropped++;
        }
        k = next;
    }
    if (tc->frame_ccfs[page] == BT_NO_CCF && (tc->bus->page_flags[page] & BUS_PAGE_TRANSLATED))
        bus_set_page_flags(tc->bus, page << 12, 0, BUS_PAGE_TRANSLATED);
    return dropped;
}

static bool frame_add(struct bt_ccf *c, uint32_t page)
{
    for (int f = 0; f < c->frames; f++)
        if (c->frame[f] == page) return true;
    if (c->frames == 2) return false;
    c->frame[c->frames++] = page;
    return true;
}

/* ---------- translation ---------- */

static int32_t translate(struct bt_tc *tc, const struct bt_code_reader *rd, uint32_t eip, uint32_t cs_base,
                         bool code32, bool single);

int32_t bt_translate(struct bt_tc *tc, const struct bt_code_reader *rd, uint32_t eip, uint32_t cs_base, bool code32)
{
    return translate(tc, rd, eip, cs_base, code32, false);
}

int32_t bt_translate_single(struct bt_tc *tc, const struct bt_code_reader *rd, uint32_t eip, uint32_t cs_base, bool code32)
{
    bool counting = tc->count_in_tc;
    tc->count_in_tc = true;
    int32_t k = translate(tc, rd, eip, cs_base, code32, true);
    tc->count_in_tc = counting;
    return k;
}

static int32_t translate(struct bt_tc *tc, const struct bt_code_reader *rd, uint32_t eip, uint32_t cs_base,
                         bool code32, bool single)
{
    bool c16 = !code32;
    if (tc->nccf >= BT_MAX_CCFS || tc->tc_used + CCF_BUF > tc->tc16_start ||
        tc->tc16_used + CCF_BUF > tc->tc_size - tc->tc16_start)
        bt_tc_flush(tc);
    int32_t idx = tc->nccf;
    struct emitter *e = calloc(1, sizeof *e);
    if (!e) return BT_NO_CCF;
    struct bt_ccf *c = &tc->ccf[idx];
    memset(c, 0, sizeof *c);
    c->eip = eip;
    c->cs_base = cs_base;
    c->code32 = code32;
    c->single = single;
    c->incoming = -1;
    e->c = c;
    e->c16 = c16;

    uint32_t pc = eip;
    bool ended = false;
    for (int k = 0; k < (single ? 1 : BT_TU_MAX) && !ended; k++) {
        struct guest_code g = { .rd = rd, .lin = cs_base + pc };
        fetch_ahead(&g);
        struct x86_insn in;
        memset(&in, 0, sizeof in);
        unsigned len = g.avail ? x86_decode(&in, code32, decode_fetch, &g) : 0;
        if (!g.avail || g.short_read || (len == 0 && g.avail < 15)) {
            if (k == 0) { free(e); return BT_NO_CCF; }   /* the guest's own fetch fault */
            break;
        }
        /* Its bytes' pages: at most two per CCF. */
        uint32_t saved_frame[2] = { c->frame[0], c->frame[1] };
        uint8_t saved_frames = c->frames;
        bool fits = true;
        unsigned span = len ? len : 15;
        for (unsigned b = 0; b < span && fits; b++) fits = frame_add(c, g.paddr[b] >> 12);
        if (!fits) {
            c->frame[0] = saved_frame[0];
            c->frame[1] = saved_frame[1];
            c->frames = saved_frames;
            break;
        }

        const char *what = "ident";
        enum action a = len ? classify(&in, c16, &what) : A_EMULATE_END;
        if (!len) what = "too long";
        if (a == A_IDENT && rd->force_callout && rd->force_callout(rd->opaque, cs_base + pc)) {
            a = A_EMULATE;
            what = "adaptive";
        }
        if (single && (a == A_RET || a == A_JMP_IND || a == A_CALL_IND)) a = A_EMULATE_END;
        uint32_t next = c16 ? (pc + len) & 0xFFFF : pc + len;
        struct bt_insn *ins = &c->insn[c->ninsn];
        *ins = (struct bt_insn){ .eip = pc, .len = (uint8_t)len, .what = what };
        ins->tc_off = (uint16_t)e->n;
        point(e, pc);
        if (!single && rd->breakpoint && rd->breakpoint(rd->opaque, cs_base + pc)) callout(e, BT_CO_BREAK, c->ninsn);
        unsigned p = 0;
        while (p < len && is_prefix(g.bytes[p])) p++;
        switch (a) {
        case A_IDENT:
            ins->kind = BT_IDENT;
            bytes(e, g.bytes, len);
            tc->cnt.ident++;
            /* An instruction that ends a block (a mode change: POP SS...)
             * is copied too; what follows it is translated as usual. */
            break;
        case A_CLI:
            ins->kind = BT_INTC;
            mov_gs_imm(e, BT_D_VIF, 0);
            count_in_tc(e, tc);
            tc->cnt.intc++;
            break;
        case A_STI:
            ins->kind = BT_INTC;
            mov_gs_imm(e, BT_D_VIF, 0x200);
            count_in_tc(e, tc);
            e->irq_shadow_next = true;
            tc->cnt.intc++;
            break;
        case A_PUSHF:
            ins->kind = BT_INTC;
            emit_pushf(e);
            count_in_tc(e, tc);
            tc->cnt.intc++;
            break;
        case A_POPF:
            ins->kind = BT_INTC;
            emit_popf(e);
            count_in_tc(e, tc);
            tc->cnt.intc++;
            break;
        case A_JMP:
            ins->kind = BT_BRANCH;
            jmp_exit(e, rel_target(&g, &in, next, in.op == 0xEB, c16));
            tc->cnt.branches++;
            ended = true;
            break;
        case A_CALL:
            ins->kind = BT_BRANCH;
            b1(e, 0x68);                                       /* push the guest's return address */
            if (c16) { b1(e, (uint8_t)next); b1(e, (uint8_t)(next >> 8)); } else b4(e, next);
            point(e, rel_target(&g, &in, next, false, c16));
            jmp_exit(e, rel_target(&g, &in, next, false, c16));
            tc->cnt.branches++;
            ended = true;
            break;
        case A_JCC: {
            ins->kind = BT_BRANCH;
            unsigned cond = in.op & 0xF;
            b1(e, 0x0F); b1(e, (uint8_t)(0x80 | cond));
            rel_exit(e, rel_target(&g, &in, next, in.op < 0x100, c16));
            point(e, next);
            jmp_exit(e, next);
            tc->cnt.branches++;
            ended = true;
            break;
        }
        case A_LOOP: {
            ins->kind = BT_BRANCH;
            bytes(e, g.bytes, len - 1);                        /* prefixes (67: CX) and the opcode */
            b1(e, c16 ? 3 : 5);                                /* taken: over the next jump */
            point(e, next);
            jmp_exit(e, next);
            point(e, rel_target(&g, &in, next, true, c16));
            jmp_exit(e, rel_target(&g, &in, next, true, c16));
            tc->cnt.branches++;
            ended = true;
            break;
        }
        case A_RET: {
            ins->kind = BT_LOOKUP;
            static const uint8_t load32[] = { 0x8B, 0x04, 0x24 };                     /* mov eax, [esp] */
            static const uint8_t load16[] = { 0x66, 0x36, 0x67, 0x0F, 0xB7, 0x02 };   /* movzx eax, word ss:[edx] */
            uint32_t pop = (c16 ? 2 : 4) + (in.op == 0xC2 ? (in.imm & 0xFFFF) : 0);
            if (c16) {
                emit_lookup(e, c->ninsn, load16, sizeof load16, pop, false, 0);
            } else {
                /* The prediction first: ECX = [esp] - predicted; JECXZ to
                 * a direct (chainable) jump; else the table lookup. */
                mov_gs_ecx(e, BT_D_S1);
                b1(e, 0x8B); b1(e, 0x0C); b1(e, 0x24);             /* mov ecx, [esp]: the first guest access */
                b1(e, 0x8D); b1(e, 0x89); c->pred_off = (uint16_t)e->n; b4(e, 1);   /* lea ecx, [ecx - predicted] (none yet: -(-1)) */
                b1(e, 0xE3); unsigned hit = e->n; b1(e, 0);        /* jecxz predicted */
                mov_ecx_gs(e, BT_D_S1);
                emit_lookup(e, c->ninsn, load32, sizeof load32, pop, false, 0);
                if (hit < CCF_BUF) e->buf[hit] = (uint8_t)(e->n - (hit + 1));
                mov_ecx_gs(e, BT_D_S1);
                b1(e, 0x8D); b1(e, 0xA4); b1(e, 0x24); b4(e, pop);  /* lea esp, [esp+n] */
                c->pred_point = (int8_t)c->npoint;
                point(e, 0xFFFFFFFFu);
                c->pred_exit = (int8_t)c->nexit;
                jmp_exit(e, 0xFFFFFFFFu);
            }
            tc->cnt.lookups++;
            ended = true;
            break;
        }
        case A_JMP_IND: case A_CALL_IND: {
            ins->kind = BT_LOOKUP;
            /* mov eax, r/m32: the guest's own operand (prefixes but 66, ModRM
             * with reg = EAX, SIB and displacement as they were). */
            /* 16-bit code: movzx eax, r/m16 (66 0F B7), the guest's 16-bit addressing. */
            uint8_t load[20];
            unsigned n = 0;
            if (c16) load[n++] = 0x66;
            for (unsigned q = 0; q < p; q++)
                if (g.bytes[q] != 0x66) load[n++] = g.bytes[q];
            if (c16) { load[n++] = 0x0F; load[n++] = 0xB7; }
            else load[n++] = 0x8B;
            load[n++] = (uint8_t)(g.bytes[p + 1] & ~0x38);
            for (unsigned q = p + 2; q < len; q++) load[n++] = g.bytes[q];
            emit_lookup(e, c->ninsn, load, n, 0, a == A_CALL_IND, next);
            tc->cnt.lookups++;
            ended = true;
            break;
        }
        case A_PORT: {
            ins->kind = BT_CALLOUT;
            callout(e, BT_CO_PORT, c->ninsn);
            struct bt_callout *co = &c->callout[c->ncallout - 1];
            co->in = !(in.op & 2);
            co->port = (in.op & 8) ? 0xFFFF : (uint16_t)(in.imm & 0xFF);
            co->size = (in.op & 1) ? (in.os32 ? 4 : 2) : 1;   /* os32: the decoder's, for either code size */
            tc->cnt.callout_sites++;
            break;
        }
        case A_EMULATE:
        case A_EMULATE_END:
            ins->kind = BT_CALLOUT;
            callout(e, BT_CO_EMULATE, c->ninsn);
            tc->cnt.callout_sites++;
            ended = a == A_EMULATE_END;
            break;
        }
        ins->tc_len = (uint16_t)(e->n - ins->tc_off);
        c->ninsn++;
        pc = next;
        if (!len) break;
    }
    if (!ended) {
        point(e, pc);
        jmp_exit(e, pc);
    }
    /* The exit stubs. */
    for (int x = 0; x < c->nexit; x++) {
        c->exit[x].stub_off = (uint16_t)e->n;
        point(e, c->exit[x].target);
        callout(e, BT_CO_EXIT, x);
        uint32_t rel = c->exit[x].stub_off - (c->exit[x].rel_off + (uint32_t)c->exit[x].rel_size);
        memcpy(e->buf + c->exit[x].rel_off, &rel, c->exit[x].rel_size);
    }
    c->guest_bytes = (pc - eip) & (c16 ? 0xFFFF : 0xFFFFFFFFu);
    c->tc_off = c16 ? tc->tc16_start + tc->tc16_used : tc->tc_used;
    c->tc_len = e->n;
    write_tc(tc, c->tc_off, e->buf, e->n);
    if (c16) tc->tc16_used += (e->n + 15) & ~15u;
    else tc->tc_used += (e->n + 15) & ~15u;
    tc->order[c16 ? 0 : 1][tc->norder[c16 ? 0 : 1]++] = idx;
    c->valid = true;
    c->hash_next = BT_NO_CCF;
    if (!single) {
        unsigned h = hash_of(eip, cs_base, code32);
        c->hash_next = tc->hash[h];
        tc->hash[h] = idx;
    }
    for (int f = 0; f < c->frames; f++) {
        c->frame_next[f] = BT_NO_CCF;
        if (c->frame[f] < tc->ram_pages) {
            c->frame_next[f] = tc->frame_ccfs[c->frame[f]];
            tc->frame_ccfs[c->frame[f]] = idx;
            if (!(tc->bus->page_flags[c->frame[f]] & BUS_PAGE_TRANSLATED))
                bus_set_page_flags(tc->bus, c->frame[f] << 12, BUS_PAGE_TRANSLATED, 0);
        }
    }
    tc->nccf++;
    if (single) {
        tc->cnt.singles++;
    } else {
        tc->cnt.translated++;
        tc->cnt.guest_bytes += c->guest_bytes;
        tc->cnt.tc_bytes += c->tc_len;
    }
    free(e);
    return idx;
}
