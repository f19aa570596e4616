/*
 * test_translator.c - the bt engine's translator (translator/translator.c).
 *
 * Two kinds of checks:
 *
 *  1. Structure: small hand-assembled guest byte sequences (each with its
 *     nasm source in a comment), translated in 32-bit and 16-bit code:
 *     what each instruction became (translator.h's IDENT / in-TC / branch /
 *     lookup / callout), the TC bytes of copied instructions, the exits and
 *     their stubs, the 12-instruction limit, the CCF hash, chaining and
 *     unchaining, invalidation by a write to the guest bytes.
 *
 *  2. Semantics, with Unicorn 2 (QEMU's TCG) as the oracle, as
 *     tests/difftest does: each in-TC sequence (CLI, STI, PUSHF, POPF in
 *     32-bit code; PUSHF, POPF in 16-bit code) and the lookup sequences
 *     (RET, RET imm16, JMP r/m, CALL r/m) are run twice on random states:
 *       (a) the translated bytes, at CPL 1 on the TC's code segment (flat
 *           32-bit, or the 16-bit one based on the TC16 area, as
 *           vmm/bt_vmm.c's enter_at sets them), GS a DPL-1 data segment
 *           based at the VMM's data page, the hardware's EFLAGS with IF = 1
 *           and IOPL = 0 and the virtual IF/IOPL at BT_D_VIF/BT_D_VIOPL;
 *       (b) the original instruction at CPL 0, with the real IF/IOPL the
 *           virtual ones;
 *     and the GPRs, ESP, the flags, the stack memory and (for (a)) the
 *     virtual IF/IOPL left in the data page are compared with what (b) left.
 *
 * Why protected mode for the 16-bit cases too: the VMM runs 16-bit guest
 * code (real mode included) on the hardware CPU in protected mode, at ring
 * 1, on 16-bit segments (translator/README.md), and GS must be the data
 * page at any base - a protected-mode descriptor gives it one.  Unicorn
 * (UC_MODE_32) loads CS from a 16-bit code descriptor through uc_reg_write
 * (QEMU's cpu_x86_load_seg_cache sets the code size from the descriptor's
 * D bit), and CPL 1 is reached with one IRET, as run_unicorn.c reaches CPL
 * 3 (uc_reg_write refuses an SS of another privilege).  The original 16-bit
 * instruction (b) runs on a 16-bit ring-0 code segment with a 16-bit stack
 * segment (B = 0: SP, not ESP), where PUSHF/POPF behave as in real mode
 * (CPL 0: IF and IOPL are written).
 *
 * Unicorn's uc_emu_start takes the start as EIP (an offset in CS) and the
 * end ('until') as a linear address; each run is also cut after 256
 * instructions by a code hook.
 */
#include "tests/test.h"

#include <stdbool.h>
#include <stdint.h>

#include <unicorn/unicorn.h>

#include "cpu/x86_state.h"
#include "mmu/bus.h"
#include "translator/translator.h"

/* ---------- the translator's surroundings ---------- */

#define TC_LIN   0x400000u    /* the TC's linear address (the translator only adds it) */
#define TC_SIZE  0x20000u     /* 64 KiB of 32-bit area, the 64 KiB TC16 area */
#define RAM      (1u << 20)

struct region { uint32_t lin; const uint8_t *bytes; uint32_t len; };
struct source { struct region r[4]; int n; };

/* Guest code: the bytes of the regions, at guest-physical = linear. */
static bool src_read(void *opaque, uint32_t lin, uint8_t *byte, uint32_t *paddr)
{
    const struct source *s = opaque;
    for (int k = 0; k < s->n; k++)
        if (lin - s->r[k].lin < s->r[k].len) {
            *byte = s->r[k].bytes[lin - s->r[k].lin];
            *paddr = lin;
            return true;
        }
    return false;
}

struct env {
    struct bus bus;
    struct bt_tc tc;
    uint8_t *data;
    uint32_t data_paddr, tc_paddr;
    struct source src;
    struct bt_code_reader rd;
};

static struct env *env_new(void)
{
    struct env *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    if (bus_init(&e->bus, RAM) != 0 || bus_private_alloc(&e->bus, BT_DATA_BYTES, &e->data_paddr) != 0 ||
        bus_private_alloc(&e->bus, TC_SIZE, &e->tc_paddr) != 0) {
        free(e);
        return NULL;
    }
    e->data = bus_private_ptr(&e->bus, e->data_paddr);
    if (bt_tc_init(&e->tc, &e->bus, bus_private_ptr(&e->bus, e->tc_paddr), e->tc_paddr, TC_LIN, TC_SIZE,
                   e->data) != 0) {
        bus_destroy(&e->bus);
        free(e);
        return NULL;
    }
    e->rd = (struct bt_code_reader){ .read = src_read, .opaque = &e->src };
    return e;
}

static void env_free(struct env *e)
{
    if (!e) return;
    bt_tc_destroy(&e->tc);
    bus_destroy(&e->bus);
    free(e);
}

static void env_code(struct env *e, uint32_t lin, const uint8_t *bytes, uint32_t len)
{
    if (e->src.n < 4) e->src.r[e->src.n++] = (struct region){ lin, bytes, len };
}

static const struct bt_ccf *ccf(struct env *e, int32_t k) { return &e->tc.ccf[k]; }
static const uint8_t *tcb(struct env *e, const struct bt_ccf *c, int i) { return e->tc.tc + c->tc_off + c->insn[i].tc_off; }

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* Where exit x's jump goes: a TC offset. */
static uint32_t exit_dest(struct env *e, const struct bt_ccf *c, int x)
{
    const struct bt_exit *ex = &c->exit[x];
    const uint8_t *p = e->tc.tc + c->tc_off + ex->rel_off;
    if (ex->rel_size == 4) return c->tc_off + ex->rel_off + 4 + rd32(p);
    uint32_t site = c->tc_off - e->tc.tc16_start + ex->rel_off + 2;   /* an offset in the 16-bit code segment */
    return e->tc.tc16_start + ((site + rd16(p)) & 0xFFFF);
}

/* The callout of guest instruction i (not an exit stub's), or NULL. */
static const struct bt_callout *insn_callout(const struct bt_ccf *c, int i)
{
    for (int k = 0; k < c->ncallout; k++)
        if (c->callout[k].kind != BT_CO_EXIT && c->callout[k].insn == i) return &c->callout[k];
    return NULL;
}

/* What every CCF must be: instructions back to back in guest and TC, a
 * stopping point at each one's first TC byte, each exit's jump (a JMP or
 * Jcc rel32/rel16) to its stub, an INT 0xF1 there whose callout is
 * BT_CO_EXIT of that exit, each callout's INT 0xF1 inside its instruction. */
static void check_shape(struct env *e, int32_t k)
{
    CHECK(k != BT_NO_CCF);
    if (k == BT_NO_CCF) return;
    const struct bt_ccf *c = ccf(e, k);
    const uint8_t *t = e->tc.tc + c->tc_off;
    CHECK(c->valid);
    CHECK(c->ninsn >= 1 && c->ninsn <= BT_TU_MAX);
    uint32_t eip = c->eip, off = 0, glen = 0;
    for (int i = 0; i < c->ninsn; i++) {
        CHECK_EQ(c->insn[i].eip, eip);
        CHECK_EQ(c->insn[i].tc_off, off);
        const struct bt_point *p = bt_ccf_point_at(c, off);
        CHECK(p != NULL);
        if (p) CHECK_EQ(p->eip, eip);
        CHECK_EQ(bt_ccf_insn_at(c, off), i);
        eip = c->code32 ? eip + c->insn[i].len : (eip + c->insn[i].len) & 0xFFFF;
        glen += c->insn[i].len;
        off += c->insn[i].tc_len;
    }
    CHECK_EQ(c->guest_bytes, glen);
    CHECK(off <= c->tc_len);
    for (int x = 0; x < c->nexit; x++) {
        const struct bt_exit *ex = &c->exit[x];
        CHECK_EQ(ex->rel_size, c->code32 ? 4 : 2);
        CHECK_EQ(ex->chained, BT_NO_CCF);
        CHECK(ex->stub_off + 2u <= c->tc_len);
        CHECK(t[ex->rel_off - 1] == 0xE9 || (t[ex->rel_off - 2] == 0x0F && (t[ex->rel_off - 1] & 0xF0) == 0x80));
        CHECK_EQ(exit_dest(e, c, x), c->tc_off + ex->stub_off);
        CHECK_EQ(t[ex->stub_off], 0xCD);
        CHECK_EQ(t[ex->stub_off + 1], BT_CALLOUT_VECTOR);
        const struct bt_callout *co = bt_ccf_callout_at(c, ex->stub_off);
        CHECK(co && co->kind == BT_CO_EXIT && co->insn == x);
        const struct bt_point *p = bt_ccf_point_at(c, ex->stub_off);
        CHECK(p && p->eip == ex->target);
    }
    for (int q = 0; q < c->ncallout; q++) {
        const struct bt_callout *co = &c->callout[q];
        CHECK_EQ(t[co->tc_off], 0xCD);
        CHECK_EQ(t[co->tc_off + 1], BT_CALLOUT_VECTOR);
        if (co->kind != BT_CO_EXIT) CHECK_EQ(bt_ccf_insn_at(c, co->tc_off), co->insn);
    }
    CHECK_EQ(bt_tc_ccf_at(&e->tc, TC_LIN + c->tc_off), k);
    CHECK_EQ(bt_tc_ccf_at(&e->tc, TC_LIN + c->tc_off + c->tc_len - 1), k);
}

static void check_ident(struct env *e, const struct bt_ccf *c, int i, const uint8_t *guest, unsigned len)
{
    CHECK_EQ(c->insn[i].kind, BT_IDENT);
    CHECK_EQ(c->insn[i].len, len);
    CHECK_EQ(c->insn[i].tc_len, len);
    CHECK(memcmp(tcb(e, c, i), guest, len) == 0);
}

static void check_emulate(struct env *e, const struct bt_ccf *c, int i, unsigned len)
{
    CHECK_EQ(c->insn[i].kind, BT_CALLOUT);
    CHECK_EQ(c->insn[i].len, len);
    CHECK_EQ(c->insn[i].tc_len, 2);
    CHECK_EQ(tcb(e, c, i)[0], 0xCD);
    CHECK_EQ(tcb(e, c, i)[1], BT_CALLOUT_VECTOR);
    const struct bt_callout *co = insn_callout(c, i);
    CHECK(co && co->kind == BT_CO_EMULATE && co->tc_off == c->insn[i].tc_off);
}

static void check_port(struct env *e, const struct bt_ccf *c, int i, unsigned len, uint16_t port, uint8_t size, bool in)
{
    CHECK_EQ(c->insn[i].kind, BT_CALLOUT);
    CHECK_EQ(c->insn[i].len, len);
    CHECK_EQ(tcb(e, c, i)[0], 0xCD);
    const struct bt_callout *co = insn_callout(c, i);
    CHECK(co != NULL);
    if (!co) return;
    CHECK_EQ(co->kind, BT_CO_PORT);
    CHECK_EQ(co->port, port);
    CHECK_EQ(co->size, size);
    CHECK_EQ(co->in, in);
}

/* ---------- 1. structure ---------- */

TEST(ident_and_in_tc_32)
{
    /* bits 32, at 0x1000: */
    static const uint8_t g[] = {
        0xFA,                               /* cli */
        0xFB,                               /* sti */
        0x9C,                               /* pushfd */
        0x9D,                               /* popfd */
        0x89, 0xD8,                         /* mov eax, ebx */
        0x05, 0x78, 0x56, 0x34, 0x12,       /* add eax, 0x12345678 */
        0xF3, 0xA4,                         /* rep movsb */
        0x3E, 0x8B, 0x03,                   /* mov eax, [ds:ebx] */
        0x26, 0x88, 0x07,                   /* mov [es:edi], al */
        0x64, 0x8B, 0x03,                   /* mov eax, [fs:ebx] */
        0x36, 0x8B, 0x45, 0x08,             /* mov eax, [ss:ebp+8] */
        0x0F, 0xA2,                         /* cpuid */
        0x90,                               /* nop (the 13th: not in the TU) */
    };
    struct env *e = env_new();
    CHECK(e != NULL);
    if (!e) return;
    env_code(e, 0x1000, g, sizeof g);
    int32_t k = bt_translate(&e->tc, &e->rd, 0x1000, 0, true);
    check_shape(e, k);
    if (k == BT_NO_CCF) { env_free(e); return; }
    const struct bt_ccf *c = ccf(e, k);
    CHECK_EQ(c->ninsn, 12);
    CHECK(c->code32);
    for (int i = 0; i < 4; i++) CHECK_EQ(c->insn[i].kind, BT_INTC);
    CHECK_STR(c->insn[0].what, "cli");
    CHECK_STR(c->insn[1].what, "sti");
    CHECK_STR(c->insn[2].what, "pushf");
    CHECK_STR(c->insn[3].what, "popf");
    /* cli: mov dword [gs:0], 0; sti: mov dword [gs:0], 0x200 */
    static const uint8_t cli[] = { 0x65, 0xC7, 0x05, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const uint8_t sti[] = { 0x65, 0xC7, 0x05, 0, 0, 0, 0, 0, 2, 0, 0 };
    CHECK_EQ(c->insn[0].tc_len, sizeof cli);
    CHECK(memcmp(tcb(e, c, 0), cli, sizeof cli) == 0);
    CHECK_EQ(c->insn[1].tc_len, sizeof sti);
    CHECK(memcmp(tcb(e, c, 1), sti, sizeof sti) == 0);
    /* No callout in an in-TC sequence; after STI its interrupt shadow. */
    CHECK_EQ(c->ncallout, 1);
    const struct bt_point *p = bt_ccf_point_at(c, c->insn[2].tc_off);
    CHECK(p && p->no_irq);
    p = bt_ccf_point_at(c, c->insn[1].tc_off);
    CHECK(p && !p->no_irq);
    uint32_t o = 4;
    static const unsigned lens[] = { 2, 5, 2, 3, 3, 3, 4, 2 };
    for (int i = 4; i < 12; i++) {
        check_ident(e, c, i, g + o, lens[i - 4]);
        o += lens[i - 4];
    }
    /* The 12th instruction ends the TU: a fall-through exit to the 13th. */
    CHECK_EQ(c->nexit, 1);
    CHECK_EQ(c->exit[0].target, 0x1000 + sizeof g - 1);
    CHECK_EQ(c->guest_bytes, sizeof g - 1);
    env_free(e);
}

TEST(tu_stops_at_12_instructions)
{
    /* bits 32: times 20 nop; and in 16-bit code the same at 0x0100 */
    static uint8_t g[20];
    memset(g, 0x90, sizeof g);
    struct env *e = env_new();
    CHECK(e != NULL);
    if (!e) return;
    env_code(e, 0x3000, g, sizeof g);
    int32_t k = bt_translate(&e->tc, &e->rd, 0x3000, 0, true);
    check_shape(e, k);
    int32_t k16 = bt_translate(&e->tc, &e->rd, 0x0100, 0x2F00, false);
    check_shape(e, k16);
    if (k != BT_NO_CCF && k16 != BT_NO_CCF) {
        CHECK_EQ(ccf(e, k)->ninsn, BT_TU_MAX);
        CHECK_EQ(ccf(e, k)->nexit, 1);
        CHECK_EQ(ccf(e, k)->exit[0].target, 0x3000 + BT_TU_MAX);
        for (int i = 0; i < BT_TU_MAX; i++) check_ident(e, ccf(e, k), i, g, 1);
        CHECK_EQ(ccf(e, k16)->ninsn, BT_TU_MAX);
        CHECK_EQ(ccf(e, k16)->nexit, 1);
        CHECK_EQ(ccf(e, k16)->exit[0].target, 0x0100 + BT_TU_MAX);
        CHECK(!ccf(e, k16)->code32);
        /* 16-bit CCFs live in the TC16 area. */
        CHECK(ccf(e, k16)->tc_off >= TC_SIZE - BT_TC16_BYTES);
        CHECK(ccf(e, k)->tc_off < TC_SIZE - BT_TC16_BYTES);
    }
    env_free(e);
}

/* One TU at 'eip' of 'len' bytes 'g' (32-bit code, CS base 0). */
static int32_t one(struct env *e, uint32_t eip, const uint8_t *g, uint32_t len, bool code32, uint32_t cs_base)
{
    e->src.n = 0;
    env_code(e, cs_base + eip, g, len);
    int32_t k = bt_translate(&e->tc, &e->rd, eip, cs_base, code32);
    check_shape(e, k);
    return k;
}

TEST(branches_32)
{
    struct env *e = env_new();
    CHECK(e != NULL);
    if (!e) return;
    int32_t k;
    /* at 0x1000: jmp short 0x1010 */
    static const uint8_t jmp8[] = { 0xEB, 0x0E };
    k = one(e, 0x1000, jmp8, sizeof jmp8, true, 0);
    if (k != BT_NO_CCF) {
        CHECK_EQ(ccf(e, k)->ninsn, 1);
        CHECK_EQ(ccf(e, k)->insn[0].kind, BT_BRANCH);
        CHECK_EQ(ccf(e, k)->nexit, 1);
        CHECK_EQ(ccf(e, k)->exit[0].target, 0x1010);
    }
    /* at 0x1000: inc eax; jmp near 0x0F00 (backward: E9 rel32 = -0x106) */
    static const uint8_t jmp32[] = { 0x40, 0xE9, 0xFA, 0xFE, 0xFF, 0xFF, 0x90 };
    k = one(e, 0x1000, jmp32, sizeof jmp32, true, 0);
    if (k != BT_NO_CCF) {
        CHECK_EQ(ccf(e, k)->ninsn, 2);
        CHECK_EQ(ccf(e, k)->insn[1].kind, BT_BRANCH);
        CHECK_EQ(ccf(e, k)->nexit, 1);
        CHECK_EQ(ccf(e, k)->exit[0].target, 0x0F00);
        CHECK_EQ(ccf(e, k)->guest_bytes, 6);
    }
    /* at 0x2000: jz short 0x1FF0 (backward); the fall-through is 0x2002 */
    static const uint8_t jz8[] = { 0x74, 0xEE };
    k = one(e, 0x2000, jz8, sizeof jz8, true, 0);
    if (k != BT_NO_CCF) {
        const struct bt_ccf *c = ccf(e, k);
        CHECK_EQ(c->insn[0].kind, BT_BRANCH);
        CHECK_EQ(c->nexit, 2);
        CHECK_EQ(c->exit[0].target, 0x1FF0);
        CHECK_EQ(c->exit[1].target, 0x2002);
        /* Jcc: the same condition (0F 84), then JMP to the fall-through */
        CHECK_EQ(tcb(e, c, 0)[0], 0x0F);
        CHECK_EQ(tcb(e, c, 0)[1], 0x84);
        CHECK_EQ(tcb(e, c, 0)[6], 0xE9);
    }
    /* at 0x2000: jnc near 0x12345678 (0F 83 rel32) */
    static const uint8_t jnc32[] = { 0x0F, 0x83, 0x72, 0x36, 0x34, 0x12 };
    k = one(e, 0x2000, jnc32, sizeof jnc32, true, 0);
    if (k != BT_NO_CCF) {
        CHECK_EQ(ccf(e, k)->exit[0].target, 0x12345678);
        CHECK_EQ(ccf(e, k)->exit[1].target, 0x2006);
        CHECK_EQ(tcb(e, ccf(e, k), 0)[1], 0x83);
    }
    /* at 0x4000: call 0x5000: push 0x4005, then the exit */
    static const uint8_t call[] = { 0xE8, 0xFB, 0x0F, 0x00, 0x00 };
    k = one(e, 0x4000, call, sizeof call, true, 0);
    if (k != BT_NO_CCF) {
        const struct bt_ccf *c = ccf(e, k);
        CHECK_EQ(c->insn[0].kind, BT_BRANCH);
        CHECK_EQ(c->nexit, 1);
        CHECK_EQ(c->exit[0].target, 0x5000);
        CHECK_EQ(tcb(e, c, 0)[0], 0x68);
        CHECK_EQ(rd32(tcb(e, c, 0) + 1), 0x4005);
    }
    /* at 0x4000: loop 0x3FF0 (E2 EE): exit 0 the fall-through, exit 1 the target */
    static const uint8_t loop[] = { 0xE2, 0xEE };
    k = one(e, 0x4000, loop, sizeof loop, true, 0);
    if (k != BT_NO_CCF) {
        const struct bt_ccf *c = ccf(e, k);
        CHECK_EQ(c->insn[0].kind, BT_BRANCH);
        CHECK_EQ(c->nexit, 2);
        CHECK_EQ(c->exit[0].target, 0x4002);
        CHECK_EQ(c->exit[1].target, 0x3FF0);
        CHECK_EQ(tcb(e, c, 0)[0], 0xE2);
        /* taken: over the jump to exit 0, onto the jump to exit 1 */
        CHECK_EQ(c->insn[0].tc_off + 2 + tcb(e, c, 0)[1], c->exit[1].rel_off - 1);
        CHECK_EQ(c->exit[0].rel_off, c->insn[0].tc_off + 3);
    }
    /* at 0x4000: jecxz 0x4080 */
    static const uint8_t jecxz[] = { 0xE3, 0x7E };
    k = one(e, 0x4000, jecxz, sizeof jecxz, true, 0);
    if (k != BT_NO_CCF) {
        CHECK_EQ(ccf(e, k)->exit[0].target, 0x4002);
        CHECK_EQ(ccf(e, k)->exit[1].target, 0x4080);
    }
    /* 16-bit branches in 32-bit code (66 E9 rel16: jmp near with IP wrap) are callouts */
    static const uint8_t jmp16in32[] = { 0x66, 0xE9, 0x00, 0x01 };
    k = one(e, 0x4000, jmp16in32, sizeof jmp16in32, true, 0);
    if (k != BT_NO_CCF) {
        check_emulate(e, ccf(e, k), 0, 4);
        CHECK_EQ(ccf(e, k)->nexit, 0);
    }
    env_free(e);
}

TEST(branches_16_ip_wraps)
{
    struct env *e = env_new();
    CHECK(e != NULL);
    if (!e) return;
    const uint32_t cs = 0x20000;   /* CS = 0x2000 in real mode */
    int32_t k;
    /* bits 16, at 0xFFF0: jmp short $+0x22 -> (0xFFF2 + 0x20) & 0xFFFF = 0x0012 */
    static const uint8_t jmp8[] = { 0xEB, 0x20 };
    k = one(e, 0xFFF0, jmp8, sizeof jmp8, false, cs);
    if (k != BT_NO_CCF) {
        CHECK_EQ(ccf(e, k)->insn[0].kind, BT_BRANCH);
        CHECK_EQ(ccf(e, k)->exit[0].target, 0x0012);
        CHECK_EQ(ccf(e, k)->exit[0].rel_size, 2);
    }
    /* bits 16, at 0x0010: jmp near 0xFF00 (E9 rel16 = 0xFEED: backward past 0) */
    static const uint8_t jmp16[] = { 0xE9, 0xED, 0xFE };
    k = one(e, 0x0010, jmp16, sizeof jmp16, false, cs);
    if (k != BT_NO_CCF) CHECK_EQ(ccf(e, k)->exit[0].target, 0xFF00);
    /* bits 16, at 0xFFFC: jc short 0xFFF0; the fall-through wraps to 0xFFFE */
    static const uint8_t jc8[] = { 0x72, 0xF2 };
    k = one(e, 0xFFFC, jc8, sizeof jc8, false, cs);
    if (k != BT_NO_CCF) {
        CHECK_EQ(ccf(e, k)->exit[0].target, 0xFFF0);
        CHECK_EQ(ccf(e, k)->exit[1].target, 0xFFFE);
    }
    /* bits 16, at 0xFFFD: call 0x0100 (E8 rel16 = 0x0100): push 0x0000 (next IP wrapped) */
    static const uint8_t call[] = { 0xE8, 0x00, 0x01 };
    k = one(e, 0xFFFD, call, sizeof call, false, cs);
    if (k != BT_NO_CCF) {
        const struct bt_ccf *c = ccf(e, k);
        CHECK_EQ(c->exit[0].target, 0x0100);
        CHECK_EQ(tcb(e, c, 0)[0], 0x68);
        CHECK_EQ(rd16(tcb(e, c, 0) + 1), 0x0000);
        CHECK_EQ(tcb(e, c, 0)[3], 0xE9);   /* push imm16 is 3 bytes, then jmp rel16 */
    }
    /* bits 16, at 0x0100: loop 0x00F0; exit 0 is 0x0102 */
    static const uint8_t loop[] = { 0xE2, 0xEE };
    k = one(e, 0x0100, loop, sizeof loop, false, cs);
    if (k != BT_NO_CCF) {
        const struct bt_ccf *c = ccf(e, k);
        CHECK_EQ(c->exit[0].target, 0x0102);
        CHECK_EQ(c->exit[1].target, 0x00F0);
        CHECK_EQ(c->insn[0].tc_off + 2 + tcb(e, c, 0)[1], c->exit[1].rel_off - 1);
    }
    /* bits 16, at 0x0100: jmp dword 0x12345678 (66 E9 rel32: the other operand size) is a callout */
    static const uint8_t jmp32in16[] = { 0x66, 0xE9, 0x00, 0x00, 0x00, 0x00 };
    k = one(e, 0x0100, jmp32in16, sizeof jmp32in16, false, cs);
    if (k != BT_NO_CCF) check_emulate(e, ccf(e, k), 0, 6);
    env_free(e);
}

TEST(code_16)
{
    struct env *e = env_new();
    CHECK(e != NULL);
    if (!e) return;
    /* bits 16, at 0x0100 (CS base 0x20000): */
    static const uint8_t g[] = {
        0x89, 0xD8,                 /* mov ax, bx */
        0xFA,                       /* cli */
        0x9C,                       /* pushf */
        0x9D,                       /* popf */
        0x66, 0x9C,                 /* pushfd: the other size, a callout */
        0x66, 0x9D,                 /* popfd: the same */
        0xED,                       /* in ax, dx */
        0x66, 0xE7, 0x70,           /* out 0x70, eax */
        0xE4, 0x21,                 /* in al, 0x21 */
        0x8E, 0xD8,                 /* mov ds, ax */
        0xC3,                       /* ret */
    };
    int32_t k = one(e, 0x0100, g, sizeof g, false, 0x20000);
    if (k != BT_NO_CCF) {
        const struct bt_ccf *c = ccf(e, k);
        CHECK_EQ(c->ninsn, 11);
        check_ident(e, c, 0, g, 2);
        CHECK_EQ(c->insn[1].kind, BT_INTC);
        /* cli in 16-bit code: mov dword [gs:dword 0], 0 with 66 67 */
        static const uint8_t cli16[] = { 0x65, 0x66, 0x67, 0xC7, 0x05, 0, 0, 0, 0, 0, 0, 0, 0 };
        CHECK_EQ(c->insn[1].tc_len, sizeof cli16);
        CHECK(memcmp(tcb(e, c, 1), cli16, sizeof cli16) == 0);
        CHECK_EQ(c->insn[2].kind, BT_INTC);
        CHECK_EQ(c->insn[3].kind, BT_INTC);
        check_emulate(e, c, 4, 2);
        check_emulate(e, c, 5, 2);
        check_port(e, c, 6, 1, 0xFFFF, 2, true);
        check_port(e, c, 7, 3, 0x70, 4, false);
        check_port(e, c, 8, 2, 0x21, 1, true);
        check_emulate(e, c, 9, 2);
        CHECK_EQ(c->insn[10].kind, BT_LOOKUP);
        CHECK_EQ(c->nexit, 0);
    }
    /* bits 16: jmp ax (FF E0), call [bx+4] (FF 57 04): lookups */
    static const uint8_t jmpax[] = { 0xFF, 0xE0 };
    k = one(e, 0x0200, jmpax, sizeof jmpax, false, 0x20000);
    if (k != BT_NO_CCF) CHECK_EQ(ccf(e, k)->insn[0].kind, BT_LOOKUP);
    static const uint8_t callbx[] = { 0xFF, 0x57, 0x04 };
    k = one(e, 0x0200, callbx, sizeof callbx, false, 0x20000);
    if (k != BT_NO_CCF) CHECK_EQ(ccf(e, k)->insn[0].kind, BT_LOOKUP);
    env_free(e);
}

TEST(lookups_32)
{
    struct env *e = env_new();
    CHECK(e != NULL);
    if (!e) return;
    static const struct { const char *src; uint8_t b[4]; unsigned len; } cases[] = {
        { "ret", { 0xC3 }, 1 },
        { "ret 8", { 0xC2, 0x08, 0x00 }, 3 },
        { "jmp eax", { 0xFF, 0xE0 }, 2 },
        { "call [ebx+4]", { 0xFF, 0x53, 0x04 }, 3 },
        { "jmp [esp+8]", { 0xFF, 0x64, 0x24, 0x08 }, 4 },
    };
    for (size_t n = 0; n < sizeof cases / sizeof cases[0]; n++) {
        int32_t k = one(e, 0x6000, cases[n].b, cases[n].len, true, 0);
        if (k == BT_NO_CCF) continue;
        const struct bt_ccf *c = ccf(e, k);
        if (c->insn[0].kind != BT_LOOKUP) printf("  %s: kind %d\n", cases[n].src, c->insn[0].kind);
        CHECK_EQ(c->ninsn, 1);
        CHECK_EQ(c->insn[0].kind, BT_LOOKUP);
        const struct bt_callout *co = insn_callout(c, 0);   /* the miss */
        CHECK(co && co->kind == BT_CO_MISS);
        if (n >= 2) {
            CHECK_EQ(c->nexit, 0);
            continue;
        }
        /* A RET's prediction: one exit, to no target yet (the LEA's disp32
         * is -(-1), so only a return to FFFFFFFFh would take it). */
        CHECK_EQ(c->nexit, 1);
        CHECK(c->pred_off != 0);
        CHECK_EQ(c->exit[c->pred_exit].target, 0xFFFFFFFFu);
        uint32_t d;
        memcpy(&d, bt_ccf_bytes(&e->tc, c) + c->pred_off, 4);
        CHECK_EQ(d, 1u);
        /* The VMM predicts 12345678h: the LEA subtracts it, the exit and its
         * point go there, the jump is back at its stub. */
        bt_predict_return(&e->tc, k, 0x12345678u);
        memcpy(&d, bt_ccf_bytes(&e->tc, c) + c->pred_off, 4);
        CHECK_EQ(d, 0u - 0x12345678u);
        CHECK_EQ(c->exit[c->pred_exit].target, 0x12345678u);
        CHECK_EQ(c->point[c->pred_point].eip, 0x12345678u);
        CHECK_EQ(c->exit[c->pred_exit].chained, BT_NO_CCF);
    }
    /* rep ret (F3 C3) and ret with a 16-bit operand (66 C3) are callouts */
    static const uint8_t repret[] = { 0xF3, 0xC3 };
    int32_t k = one(e, 0x6000, repret, sizeof repret, true, 0);
    if (k != BT_NO_CCF) check_emulate(e, ccf(e, k), 0, 2);
    static const uint8_t ret16[] = { 0x66, 0xC3 };
    k = one(e, 0x6000, ret16, sizeof ret16, true, 0);
    if (k != BT_NO_CCF) check_emulate(e, ccf(e, k), 0, 2);
    env_free(e);
}

TEST(callouts_32)
{
    struct env *e = env_new();
    CHECK(e != NULL);
    if (!e) return;
    /* bits 32, at 0x1000: */
    static const uint8_t g[] = {
        0x0F, 0x01, 0x00,                   /* sgdt [eax] */
        0x0F, 0x20, 0xC0,                   /* mov eax, cr0 */
        0x0E,                               /* push cs */
        0x8C, 0xC8,                         /* mov eax, cs */
        0x2E, 0x8B, 0x03,                   /* mov eax, [cs:ebx] */
        0x65, 0x8B, 0x03,                   /* mov eax, [gs:ebx] */
        0x8E, 0xD8,                         /* mov ds, ax */
        0x0F, 0x01, 0x10,                   /* lgdt [eax] */
        0xE4, 0x60,                         /* in al, 0x60 */
        0xE6, 0x80,                         /* out 0x80, al */
        0xEC,                               /* in al, dx */
        0x66, 0xED,                         /* in ax, dx */
        0xEF,                               /* out dx, eax (the 13th) */
    };
    int32_t k = one(e, 0x1000, g, sizeof g, true, 0);
    if (k != BT_NO_CCF) {
        const struct bt_ccf *c = ccf(e, k);
        CHECK_EQ(c->ninsn, 12);
        static const unsigned lens[] = { 3, 3, 1, 2, 3, 3, 2, 3 };
        static const char *const what[] = { "sgdt", "mov cr", "push cs", "mov from cs", "cs: operand",
                                            "gs: operand", "mov sreg", "lgdt" };
        for (int i = 0; i < 8; i++) {
            check_emulate(e, c, i, lens[i]);
            CHECK_STR(c->insn[i].what, what[i]);
        }
        check_port(e, c, 8, 2, 0x60, 1, true);
        check_port(e, c, 9, 2, 0x80, 1, false);
        check_port(e, c, 10, 1, 0xFFFF, 1, true);
        check_port(e, c, 11, 2, 0xFFFF, 2, true);
        CHECK_EQ(c->nexit, 1);
        CHECK_EQ(c->exit[0].target, 0x1000 + sizeof g - 1);
    }
    /* bits 32: out dx, eax; in eax, 0x71; out 0x70, ax */
    static const uint8_t ports[] = { 0xEF, 0xE5, 0x71, 0x66, 0xE7, 0x70, 0xC3 };
    k = one(e, 0x1000, ports, sizeof ports, true, 0);
    if (k != BT_NO_CCF) {
        check_port(e, ccf(e, k), 0, 1, 0xFFFF, 4, false);
        check_port(e, ccf(e, k), 1, 2, 0x71, 4, true);
        check_port(e, ccf(e, k), 2, 3, 0x70, 2, false);
    }
    /* Each of these ends the TU with its callout (no exit; the nop after is not in it). */
    static const struct { const char *src; uint8_t b[8]; unsigned len; } ends[] = {
        { "int 0x80", { 0xCD, 0x80 }, 2 },
        { "int3", { 0xCC }, 1 },
        { "iret", { 0xCF }, 1 },
        { "hlt", { 0xF4 }, 1 },
        { "jmp 0x08:0x1000", { 0xEA, 0x00, 0x10, 0x00, 0x00, 0x08, 0x00 }, 7 },
        { "call 0x08:0x1000", { 0x9A, 0x00, 0x10, 0x00, 0x00, 0x08, 0x00 }, 7 },
        { "jmp far [eax]", { 0xFF, 0x28 }, 2 },
        { "retf", { 0xCB }, 1 },
        { "db 0x0f, 0x04 (invalid)", { 0x0F, 0x04 }, 2 },
    };
    for (size_t n = 0; n < sizeof ends / sizeof ends[0]; n++) {
        uint8_t b[9];
        memcpy(b, ends[n].b, ends[n].len);
        b[ends[n].len] = 0x90;
        k = one(e, 0x1000, b, ends[n].len + 1, true, 0);
        if (k == BT_NO_CCF) continue;
        const struct bt_ccf *c = ccf(e, k);
        if (c->ninsn != 1 || c->nexit != 0) printf("  %s: %d instructions, %d exits\n", ends[n].src, c->ninsn, c->nexit);
        CHECK_EQ(c->ninsn, 1);
        CHECK_EQ(c->nexit, 0);
        check_emulate(e, c, 0, ends[n].len);
    }
    /* UD2 (0F 0B) is a defined opcode: copied, its #UD on the hardware is the guest's. */
    static const uint8_t ud2[] = { 0x0F, 0x0B, 0x90 };
    k = one(e, 0x1000, ud2, sizeof ud2, true, 0);
    if (k != BT_NO_CCF) check_ident(e, ccf(e, k), 0, ud2, 2);
    /* An instruction that cannot be decoded (16 prefixes: longer than 15 bytes) ends the TU too. */
    static uint8_t toolong[17];
    memset(toolong, 0x66, 16);
    toolong[16] = 0x90;
    k = one(e, 0x1000, toolong, sizeof toolong, true, 0);
    if (k != BT_NO_CCF) {
        CHECK_EQ(ccf(e, k)->ninsn, 1);
        CHECK_EQ(ccf(e, k)->insn[0].kind, BT_CALLOUT);
        CHECK_EQ(ccf(e, k)->nexit, 0);
    }
    env_free(e);
}

TEST(find_and_unreadable)
{
    struct env *e = env_new();
    CHECK(e != NULL);
    if (!e) return;
    /* bits 32, at 0x1000: nop; nop; ret */
    static const uint8_t g[] = { 0x90, 0x90, 0xC3 };
    int32_t k = one(e, 0x1000, g, sizeof g, true, 0x100);
    CHECK_EQ(bt_tc_find(&e->tc, 0x1000, 0x100, true), k);
    CHECK_EQ(bt_tc_find(&e->tc, 0x1000, 0x200, true), BT_NO_CCF);
    CHECK_EQ(bt_tc_find(&e->tc, 0x1000, 0x100, false), BT_NO_CCF);
    CHECK_EQ(bt_tc_find(&e->tc, 0x1001, 0x100, true), BT_NO_CCF);
    /* The same bytes as 16-bit code are another CCF. */
    int32_t k16 = bt_translate(&e->tc, &e->rd, 0x1000, 0x100, false);
    check_shape(e, k16);
    CHECK(k16 != k);
    CHECK_EQ(bt_tc_find(&e->tc, 0x1000, 0x100, false), k16);
    CHECK_EQ(bt_tc_find(&e->tc, 0x1000, 0x100, true), k);
    /* A single step's CCF is never found. */
    int32_t s = bt_translate_single(&e->tc, &e->rd, 0x1001, 0x100, true);
    CHECK(s != BT_NO_CCF);
    if (s != BT_NO_CCF) {
        CHECK(ccf(e, s)->single);
        CHECK_EQ(ccf(e, s)->ninsn, 1);
        CHECK_EQ(bt_tc_ccf_at(&e->tc, TC_LIN + ccf(e, s)->tc_off), s);
    }
    CHECK_EQ(bt_tc_find(&e->tc, 0x1001, 0x100, true), BT_NO_CCF);
    /* Many keys, so the hash's buckets are shared: each finds its own.
     * (cs_base 2n, EIP 0: jmp $ at linear 2n, in 32-bit code.) */
    static uint8_t jmps[6000];
    for (size_t n = 0; n < sizeof jmps; n += 2) { jmps[n] = 0xEB; jmps[n + 1] = 0xFE; }
    bt_tc_flush(&e->tc);
    e->src.n = 0;
    env_code(e, 0x10000, jmps, sizeof jmps);
    static int32_t ks[3000];
    for (uint32_t n = 0; n < 3000; n++) ks[n] = bt_translate(&e->tc, &e->rd, 0, 0x10000 + 2 * n, true);
    CHECK_EQ(e->tc.cnt.flushes, 1);   /* this test's own (init's is not counted): none while translating */
    int lost = 0;
    for (uint32_t n = 0; n < 3000; n++) {
        if (ks[n] == BT_NO_CCF || bt_tc_find(&e->tc, 0, 0x10000 + 2 * n, true) != ks[n]) lost++;
        if (bt_tc_find(&e->tc, 0, 0x10000 + 2 * n, false) != BT_NO_CCF) lost++;
        if (bt_tc_find(&e->tc, 2 * n + 2, 0x10000, true) != BT_NO_CCF) lost++;
    }
    CHECK_EQ(lost, 0);
    e->src.n = 0;
    env_code(e, 0x1100, g, sizeof g);
    /* Nothing readable at the first instruction. */
    CHECK_EQ(bt_translate(&e->tc, &e->rd, 0x5000, 0, true), BT_NO_CCF);
    CHECK_EQ(bt_translate(&e->tc, &e->rd, 0x0FFF, 0x100, true), BT_NO_CCF);
    /* The first instruction cut by the end of what is readable: mov eax, imm32 with 3 bytes. */
    static const uint8_t cut[] = { 0xB8, 0x01, 0x02 };
    e->src.n = 0;
    env_code(e, 0x7000, cut, sizeof cut);
    CHECK_EQ(bt_translate(&e->tc, &e->rd, 0x7000, 0, true), BT_NO_CCF);
    /* A later one cut: the TU ends before it, a fall-through exit to it. */
    static const uint8_t cut2[] = { 0x90, 0x40, 0xB8, 0x01, 0x02 };   /* nop; inc eax; mov eax, 0x..0201 (cut) */
    k = one(e, 0x7100, cut2, sizeof cut2, true, 0);
    if (k != BT_NO_CCF) {
        CHECK_EQ(ccf(e, k)->ninsn, 2);
        CHECK_EQ(ccf(e, k)->nexit, 1);
        CHECK_EQ(ccf(e, k)->exit[0].target, 0x7102);
    }
    env_free(e);
}

TEST(chain_and_unchain)
{
    struct env *e = env_new();
    CHECK(e != NULL);
    if (!e) return;
    /* bits 32, at 0x1000: dec ecx; jnz 0x1000   and at 0x1003: ret */
    static const uint8_t g[] = { 0x49, 0x75, 0xFD, 0xC3 };
    env_code(e, 0x1000, g, sizeof g);
    int32_t a = bt_translate(&e->tc, &e->rd, 0x1000, 0, true);
    int32_t b = bt_translate(&e->tc, &e->rd, 0x1003, 0, true);
    check_shape(e, a);
    check_shape(e, b);
    if (a == BT_NO_CCF || b == BT_NO_CCF) { env_free(e); return; }
    CHECK_EQ(ccf(e, a)->exit[0].target, 0x1000);
    CHECK_EQ(ccf(e, a)->exit[1].target, 0x1003);
    bt_chain(&e->tc, a, 0, a);   /* the loop to its own head */
    bt_chain(&e->tc, a, 1, b);
    CHECK_EQ(ccf(e, a)->exit[0].chained, a);
    CHECK_EQ(ccf(e, a)->exit[1].chained, b);
    CHECK_EQ(exit_dest(e, ccf(e, a), 0), ccf(e, a)->tc_off);
    CHECK_EQ(exit_dest(e, ccf(e, a), 1), ccf(e, b)->tc_off);
    CHECK_EQ(e->tc.cnt.chained, 2);
    /* Dropping b puts a's exit 1 back to its stub, leaves exit 0. */
    bt_invalidate(&e->tc, b);
    CHECK(!ccf(e, b)->valid);
    CHECK_EQ(bt_tc_find(&e->tc, 0x1003, 0, true), BT_NO_CCF);
    CHECK_EQ(ccf(e, a)->exit[1].chained, BT_NO_CCF);
    CHECK_EQ(exit_dest(e, ccf(e, a), 1), ccf(e, a)->tc_off + ccf(e, a)->exit[1].stub_off);
    CHECK_EQ(exit_dest(e, ccf(e, a), 0), ccf(e, a)->tc_off);
    CHECK_EQ(ccf(e, a)->exit[0].chained, a);
    /* Translated again and chained again. */
    int32_t b2 = bt_translate(&e->tc, &e->rd, 0x1003, 0, true);
    check_shape(e, b2);
    bt_chain(&e->tc, a, 1, b2);
    CHECK_EQ(exit_dest(e, ccf(e, a), 1), ccf(e, b2)->tc_off);
    bt_invalidate(&e->tc, a);
    CHECK_EQ(bt_tc_find(&e->tc, 0x1000, 0, true), BT_NO_CCF);
    CHECK_EQ(bt_tc_find(&e->tc, 0x1003, 0, true), b2);

    /* 16-bit code (CS base 0x30000), rel16 in the TC16 area:
     * at 0x0010: dec cx; jnz 0x0010   at 0x0013: ret */
    e->src.n = 0;
    env_code(e, 0x30010, g, sizeof g);
    int32_t c = bt_translate(&e->tc, &e->rd, 0x0010, 0x30000, false);
    int32_t d = bt_translate(&e->tc, &e->rd, 0x0013, 0x30000, false);
    check_shape(e, c);
    check_shape(e, d);
    if (c != BT_NO_CCF && d != BT_NO_CCF) {
        bt_chain(&e->tc, c, 1, d);
        CHECK_EQ(ccf(e, c)->exit[1].chained, d);
        CHECK_EQ(exit_dest(e, ccf(e, c), 1), ccf(e, d)->tc_off);
        /* a 32-bit CCF is never chained to a 16-bit one */
        bt_chain(&e->tc, b2, 0, c);
        bt_invalidate(&e->tc, d);
        CHECK_EQ(ccf(e, c)->exit[1].chained, BT_NO_CCF);
        CHECK_EQ(exit_dest(e, ccf(e, c), 1), ccf(e, c)->tc_off + ccf(e, c)->exit[1].stub_off);
    }
    env_free(e);
}

TEST(code_written_drops_what_it_hits)
{
    struct env *e = env_new();
    CHECK(e != NULL);
    if (!e) return;
    /* bits 32, at 0x2000: inc eax; jmp 0x2010    and at 0x2010: dec eax; ret
     * (0x2003 - 0x200F: int3 filler no CCF covers) */
    static uint8_t g[0x13];
    memset(g, 0xCC, sizeof g);
    static const uint8_t a_src[] = { 0x40, 0xEB, 0x0D };
    static const uint8_t b_src[] = { 0x48, 0xC3 };
    memcpy(g, a_src, sizeof a_src);
    memcpy(g + 0x10, b_src, sizeof b_src);
    env_code(e, 0x2000, g, sizeof g);
    int32_t a = bt_translate(&e->tc, &e->rd, 0x2000, 0, true);
    int32_t b = bt_translate(&e->tc, &e->rd, 0x2010, 0, true);
    check_shape(e, a);
    check_shape(e, b);
    if (a == BT_NO_CCF || b == BT_NO_CCF) { env_free(e); return; }
    CHECK_EQ(ccf(e, a)->guest_bytes, 3);
    CHECK_EQ(ccf(e, b)->guest_bytes, 2);
    CHECK_EQ(ccf(e, a)->frames, 1);
    CHECK_EQ(ccf(e, a)->frame[0], 2);
    CHECK(e->bus.page_flags[2] & BUS_PAGE_TRANSLATED);
    bt_chain(&e->tc, a, 0, b);
    bt_lookup_fill(&e->tc, b);
    const uint8_t *lk = e->data + BT_D_LOOKUP + 8 * 0x10;
    CHECK_EQ(rd32(lk), 0x2010);
    CHECK_EQ(rd32(lk + 4), TC_LIN + ccf(e, b)->tc_off);
    /* Writes that miss both: another page, the gap, the byte just after b. */
    CHECK_EQ(bt_tc_code_written(&e->tc, 0x3010, 4), 0);
    CHECK_EQ(bt_tc_code_written(&e->tc, 0x2003, 13), 0);
    CHECK_EQ(bt_tc_code_written(&e->tc, 0x2012, 1), 0);
    CHECK_EQ(bt_tc_code_written(&e->tc, 0x1FFC, 4), 0);
    CHECK(ccf(e, a)->valid && ccf(e, b)->valid);
    /* A write to b's last byte drops b alone: a's jump back to its stub, the lookup entry gone. */
    CHECK_EQ(bt_tc_code_written(&e->tc, 0x2011, 1), 1);
    CHECK(!ccf(e, b)->valid);
    CHECK(ccf(e, a)->valid);
    CHECK_EQ(bt_tc_find(&e->tc, 0x2000, 0, true), a);
    CHECK_EQ(bt_tc_find(&e->tc, 0x2010, 0, true), BT_NO_CCF);
    CHECK_EQ(ccf(e, a)->exit[0].chained, BT_NO_CCF);
    CHECK_EQ(exit_dest(e, ccf(e, a), 0), ccf(e, a)->tc_off + ccf(e, a)->exit[0].stub_off);
    CHECK_EQ(rd32(lk), 0xFFFFFFFFu);
    CHECK(e->bus.page_flags[2] & BUS_PAGE_TRANSLATED);   /* a is still made from the page */
    /* A write overlapping a's first byte drops a; the page is no longer
     * translated.  (The bus calls the code hooks one page at a time: an
     * access that crosses a page goes byte by byte, bus_write_block by
     * pages.  So the write below the page, [1FFE, 2000), and the one on it.) */
    CHECK_EQ(bt_tc_code_written(&e->tc, 0x1FFE, 2), 0);
    CHECK_EQ(bt_tc_code_written(&e->tc, 0x2000, 2), 1);
    CHECK(!ccf(e, a)->valid);
    CHECK(!(e->bus.page_flags[2] & BUS_PAGE_TRANSLATED));
    /* Two again, one write over both. */
    a = bt_translate(&e->tc, &e->rd, 0x2000, 0, true);
    b = bt_translate(&e->tc, &e->rd, 0x2010, 0, true);
    CHECK_EQ(bt_tc_code_written(&e->tc, 0x2002, 0x0F), 2);

    /* A CCF over two pages (at 0x4FFE: nop; nop; nop; ret): a write on either drops it. */
    static const uint8_t x_src[] = { 0x90, 0x90, 0x90, 0xC3 };
    e->src.n = 0;
    env_code(e, 0x4FFE, x_src, sizeof x_src);
    int32_t x = bt_translate(&e->tc, &e->rd, 0x4FFE, 0, true);
    check_shape(e, x);
    if (x != BT_NO_CCF) {
        CHECK_EQ(ccf(e, x)->frames, 2);
        CHECK_EQ(bt_tc_code_written(&e->tc, 0x5002, 1), 0);
        CHECK_EQ(bt_tc_code_written(&e->tc, 0x5001, 1), 1);
        x = bt_translate(&e->tc, &e->rd, 0x4FFE, 0, true);
        CHECK_EQ(bt_tc_code_written(&e->tc, 0x4FFF, 1), 1);
        CHECK(!(e->bus.page_flags[4] & BUS_PAGE_TRANSLATED));
        /* Page 5 keeps its flag until a write there finds no CCF left. */
        CHECK_EQ(bt_tc_code_written(&e->tc, 0x5000, 1), 0);
        CHECK(!(e->bus.page_flags[5] & BUS_PAGE_TRANSLATED));
    }
    env_free(e);
}

/* ---------- 2. semantics: Unicorn ---------- */

/* Unicorn's memory (linear = physical, no paging). */
#define U_CODE      0x00000u   /* guest code, 128 KiB: 32-bit code at its EIP, 16-bit at U_CODE16 + IP */
#define U_CODE16    0x10000u   /* the 16-bit guest CS base */
#define U_GDT       0x20000u
#define U_STACK     0x30000u   /* 64 KiB (+4 KiB): the 16-bit SS base; 32-bit ESP inside */
#define U_STACK_LEN 0x11000u
#define U_DATA      0x50000u   /* the VMM's data page: GS base */
#define U_IRET      0x60000u
#define U_MEM       0x70000u   /* memory operands */
#define U_MEM16     0x08000u   /* 16-bit memory operands (in the code mapping, no code there) */
#define U_STEPS     256

/* GDT selectors. */
#define S_CODE0   0x08   /* flat 32-bit code, DPL 0 */
#define S_DATA0   0x10
#define S_CODE016 0x18   /* 16-bit code at U_CODE16, DPL 0 */
#define S_STK016  0x20   /* 16-bit stack (B = 0) at U_STACK, DPL 0 */
#define S_CODE1   0x28   /* flat 32-bit code, DPL 1: the TC */
#define S_DATA1   0x30
#define S_CODE116 0x38   /* 16-bit code on the TC16 area, DPL 1 */
#define S_STK116  0x40   /* 16-bit stack at U_STACK, DPL 1 */
#define S_GS1     0x48   /* the data page, DPL 1 */

#define FL_ARITH (EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF | EFLAGS_DF)
#define FL_MORE  (0x4000u | 0x40000u | 0x200000u)   /* NT, AC, ID: also random, also compared */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static const int gpr_ids[8] = {
    UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
    UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI,
};
static const char *const gpr_names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };

struct uni {
    uc_engine *uc;
    uc_context *ctx[2][2];   /* [cpl 1][code32] */
    uc_hook intr, code;
    int vector;              /* the interrupt hook's, or -1 */
    unsigned steps;
};

static void on_intr(uc_engine *uc, uint32_t intno, void *opaque)
{
    struct uni *u = opaque;
    u->vector = (int)intno;
    uc_emu_stop(uc);
}

static void on_code(uc_engine *uc, uint64_t address, uint32_t size, void *opaque)
{
    struct uni *u = opaque;
    (void)address;
    (void)size;
    if (++u->steps > U_STEPS) uc_emu_stop(uc);
}

static uint64_t desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    uint32_t lo = (limit & 0xFFFF) | (base & 0xFFFF) << 16;
    uint32_t hi = ((base >> 16) & 0xFF) | (uint32_t)access << 8 | (limit & 0xF0000) | (uint32_t)flags << 20 |
                  (base & 0xFF000000u);
    return (uint64_t)hi << 32 | lo;
}

/* IRET from CPL 0 to CPL 1 at CS:EIP with stack SS. */
static uc_err to_cpl1(struct uni *u, uint32_t cs, uint32_t eip, uint32_t ss, uint32_t until)
{
    const uint32_t frame[5] = { eip, cs | 1, 0x202, 0x1000, ss | 1 };
    const uint8_t iret = 0xCF;
    uint32_t esp = U_IRET + 0x800, at = U_IRET, sel = S_CODE0, data = S_DATA0;
    uc_err err = uc_mem_write(u->uc, U_IRET + 0x800, frame, sizeof frame);
    if (!err) err = uc_mem_write(u->uc, U_IRET, &iret, 1);
    if (!err) err = uc_reg_write(u->uc, UC_X86_REG_CS, &sel);
    if (!err) err = uc_reg_write(u->uc, UC_X86_REG_SS, &data);
    if (!err) err = uc_reg_write(u->uc, UC_X86_REG_ESP, &esp);
    u->vector = -1;
    u->steps = 0;
    if (!err) err = uc_emu_start(u->uc, at, until, 0, 0);
    if (!err && u->vector >= 0) err = UC_ERR_EXCEPTION;
    uint32_t gs = S_GS1 | 1, d1 = S_DATA1 | 1;
    if (!err) err = uc_reg_write(u->uc, UC_X86_REG_GS, &gs);
    if (!err) err = uc_reg_write(u->uc, UC_X86_REG_DS, &d1);
    if (!err) err = uc_reg_write(u->uc, UC_X86_REG_ES, &d1);
    if (!err) err = uc_reg_write(u->uc, UC_X86_REG_FS, &d1);
    return err;
}

/* Unicorn in protected mode, TC bytes from 'e' at TC_LIN, guest code 'code' at U_CODE. */
static bool uni_open(struct uni *u, struct env *e, const uint8_t *code, uint32_t code_len)
{
    memset(u, 0, sizeof *u);
    uc_err err = uc_open(UC_ARCH_X86, UC_MODE_32, &u->uc);
    if (err) { printf("  uc_open: %s\n", uc_strerror(err)); return false; }
    uint64_t gdt[10] = {
        0,
        desc(0, 0xFFFFF, 0x9B, 0xC), desc(0, 0xFFFFF, 0x93, 0xC),
        desc(U_CODE16, 0xFFFF, 0x9B, 0), desc(U_STACK, 0xFFFF, 0x93, 0),
        desc(0, 0xFFFFF, 0xBB, 0xC), desc(0, 0xFFFFF, 0xB3, 0xC),
        desc(TC_LIN + e->tc.tc16_start, 0xFFFF, 0xBB, 0), desc(U_STACK, 0xFFFF, 0xB3, 0),
        desc(U_DATA, BT_DATA_BYTES - 1, 0xB3, 0x4),
    };
    if (!err) err = uc_mem_map(u->uc, U_CODE, 0x20000, UC_PROT_ALL);
    if (!err) err = uc_mem_map(u->uc, U_GDT, 0x1000, UC_PROT_READ | UC_PROT_WRITE);
    if (!err) err = uc_mem_map(u->uc, U_STACK, U_STACK_LEN, UC_PROT_READ | UC_PROT_WRITE);
    if (!err) err = uc_mem_map(u->uc, U_DATA, BT_DATA_BYTES, UC_PROT_READ | UC_PROT_WRITE);
    if (!err) err = uc_mem_map(u->uc, U_IRET, 0x1000, UC_PROT_ALL);
    if (!err) err = uc_mem_map(u->uc, U_MEM, 0x1000, UC_PROT_READ | UC_PROT_WRITE);
    if (!err) err = uc_mem_map(u->uc, TC_LIN, TC_SIZE, UC_PROT_ALL);
    if (!err) err = uc_mem_write(u->uc, TC_LIN, e->tc.tc, TC_SIZE);
    if (!err && code_len) err = uc_mem_write(u->uc, U_CODE, code, code_len);
    if (!err) err = uc_mem_write(u->uc, U_GDT, gdt, sizeof gdt);
    uc_x86_mmr gdtr = { .base = U_GDT, .limit = sizeof gdt - 1 };
    if (!err) err = uc_reg_write(u->uc, UC_X86_REG_GDTR, &gdtr);
    if (!err) err = uc_hook_add(u->uc, &u->intr, UC_HOOK_INTR, (void *)on_intr, u, 1, 0);
    if (!err) err = uc_hook_add(u->uc, &u->code, UC_HOOK_CODE, (void *)on_code, u, 1, 0);
    /* CPL 0, 32-bit code: CS first, so the DPL-0 SS keeps CPL 0. */
    static const int data_ids[] = { UC_X86_REG_SS, UC_X86_REG_DS, UC_X86_REG_ES, UC_X86_REG_FS, UC_X86_REG_GS };
    uint32_t sel = S_CODE0;
    if (!err) err = uc_reg_write(u->uc, UC_X86_REG_CS, &sel);
    sel = S_DATA0;
    for (int k = 0; k < 5 && !err; k++) err = uc_reg_write(u->uc, data_ids[k], &sel);
    for (int a = 0; a < 2 && !err; a++)
        for (int b = 0; b < 2 && !err; b++) err = uc_context_alloc(u->uc, &u->ctx[a][b]);
    if (!err) err = uc_context_save(u->uc, u->ctx[0][1]);
    /* CPL 0, 16-bit code and stack. */
    sel = S_CODE016;
    if (!err) err = uc_reg_write(u->uc, UC_X86_REG_CS, &sel);
    sel = S_STK016;
    if (!err) err = uc_reg_write(u->uc, UC_X86_REG_SS, &sel);
    if (!err) err = uc_context_save(u->uc, u->ctx[0][0]);
    /* CPL 1 on the TC's segments. */
    /* (Each lands where no code the tests run lies: Unicorn keeps the
     * block it translated at an 'until' address as a stop, so a later run
     * starting there would stop at once.) */
    if (!err) err = to_cpl1(u, S_CODE1, U_IRET + 0x10, S_DATA1, U_IRET + 0x10);
    if (!err) err = uc_context_save(u->uc, u->ctx[1][1]);
    if (!err) err = uc_context_restore(u->uc, u->ctx[0][1]);
    if (!err) err = to_cpl1(u, S_CODE116, 0xFFF0, S_STK116, TC_LIN + e->tc.tc16_start + 0xFFF0);
    if (!err) err = uc_context_save(u->uc, u->ctx[1][0]);
    /* Where it landed: CS and SS of each. */
    for (int a = 0; a < 2 && !err; a++)
        for (int b = 0; b < 2 && !err; b++) {
            uint32_t cs = 0, ss = 0;
            uc_context_restore(u->uc, u->ctx[a][b]);
            uc_reg_read(u->uc, UC_X86_REG_CS, &cs);
            uc_reg_read(u->uc, UC_X86_REG_SS, &ss);
            uint32_t want_cs = a ? (b ? S_CODE1 | 1 : S_CODE116 | 1) : (b ? S_CODE0 : S_CODE016);
            if (cs != want_cs) {
                printf("  Unicorn set-up: CS %04x, want %04x (SS %04x)\n", cs, want_cs, ss);
                err = UC_ERR_EXCEPTION;
            }
        }
    if (err) printf("  Unicorn set-up: %s\n", uc_strerror(err));
    return err == UC_ERR_OK;
}

static void uni_close(struct uni *u)
{
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            if (u->ctx[a][b]) uc_context_free(u->ctx[a][b]);
    if (u->uc) uc_close(u->uc);
    u->uc = NULL;
}

struct state {
    uint32_t gpr[8], eflags, eip;
};

/* Run from EIP (an offset in the context's CS) to linear 'until'; the state after in *out. */
static uc_err uni_run(struct uni *u, bool cpl1, bool code32, const struct state *in, uint32_t until,
                      struct state *out)
{
    uc_err err = uc_context_restore(u->uc, u->ctx[cpl1][code32]);
    for (int r = 0; r < 8 && !err; r++) err = uc_reg_write(u->uc, gpr_ids[r], &in->gpr[r]);
    if (!err) err = uc_reg_write(u->uc, UC_X86_REG_EFLAGS, &in->eflags);
    u->vector = -1;
    u->steps = 0;
    if (!err) err = uc_emu_start(u->uc, in->eip, until, 0, 0);
    for (int r = 0; r < 8; r++) uc_reg_read(u->uc, gpr_ids[r], &out->gpr[r]);
    uc_reg_read(u->uc, UC_X86_REG_EFLAGS, &out->eflags);
    uc_reg_read(u->uc, UC_X86_REG_EIP, &out->eip);
    return err;
}

static uint8_t stack_init[U_STACK_LEN], stack_a[U_STACK_LEN], stack_b[U_STACK_LEN];
static uint8_t data_init[BT_DATA_BYTES], data_a[BT_DATA_BYTES];

static void fill_random(uint8_t *p, size_t n)
{
    for (size_t k = 0; k + 4 <= n; k += 4) {
        uint32_t v = rnd();
        memcpy(p + k, &v, 4);
    }
}

/* The first differing byte of two buffers, or -1. */
static long first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (a[k] != b[k]) return (long)k;
    return -1;
}

#define TRIALS 1000

/*
 * One in-TC instruction 'g' (len bytes) against the original, TRIALS times.
 * Translated twice: without and with the in-TC counter (BT_D_INTC_RUNS).
 */
static void sem_intc(const char *name, const uint8_t *g, unsigned len, bool code32)
{
    struct env *e = env_new();
    CHECK(e != NULL);
    if (!e) return;
    /* The guest code: 32-bit at EIP 0x1000 (CS base 0), 16-bit at IP 0x0100 (CS base U_CODE16). */
    uint32_t cs_base = code32 ? 0 : U_CODE16, eip = code32 ? 0x1000 : 0x0100;
    static uint8_t code[0x20000];
    memset(code, 0xF4, sizeof code);
    memcpy(code + cs_base + eip, g, len);
    env_code(e, cs_base + eip, g, len);
    int32_t k[2];
    for (int n = 0; n < 2; n++) {
        e->tc.count_in_tc = n == 1;
        k[n] = bt_translate(&e->tc, &e->rd, eip, cs_base, code32);
        check_shape(e, k[n]);
        if (k[n] == BT_NO_CCF) { env_free(e); return; }
        CHECK_EQ(ccf(e, k[n])->insn[0].kind, BT_INTC);
    }
    struct uni u;
    if (!uni_open(&u, e, code, sizeof code)) {
        CHECK(0);
        uni_close(&u);
        env_free(e);
        return;
    }
    int bad = 0;
    for (int t = 0; t < TRIALS && bad < 5; t++) {
        const struct bt_ccf *c = ccf(e, k[t & 1]);
        bool counting = t & 1;
        struct state in, a, b;
        for (int r = 0; r < 8; r++) in.gpr[r] = rnd();
        if (code32) {
            in.gpr[4] = U_STACK + 0x100 + rnd() % 0xFE00;
        } else {
            uint32_t sp = rnd() & 0xFFFF;
            if (t % 16 == 2) sp = 0;          /* PUSHF wraps to 0xFFFE */
            if (t % 16 == 4) sp = 0xFFFE;     /* POPF wraps to 0 */
            in.gpr[4] = (in.gpr[4] & 0xFFFF0000u) | sp;
        }
        uint32_t arith = rnd() & (FL_ARITH | FL_MORE);
        uint32_t vif = (rnd() & 1) ? EFLAGS_IF : 0, viopl = (rnd() & 3u) << 12;
        fill_random(stack_init, sizeof stack_init);
        if (len == 1 && g[0] == 0x9D) {
            /* POPF's image: no TF (a trap after it would end the run early). */
            uint32_t sp = code32 ? in.gpr[4] - U_STACK : in.gpr[4] & 0xFFFF;
            stack_init[sp + 1] &= (uint8_t)~(EFLAGS_TF >> 8);
        }
        fill_random(data_init, sizeof data_init);
        memcpy(data_init + BT_D_VIF, &vif, 4);
        memcpy(data_init + BT_D_VIOPL, &viopl, 4);

        /* (b) the original at CPL 0 */
        in.eflags = arith | 2 | vif | viopl;
        in.eip = eip;
        uc_mem_write(u.uc, U_STACK, stack_init, sizeof stack_init);
        uc_err eb = uni_run(&u, false, code32, &in, cs_base + eip + len, &b);
        int vb = u.vector;
        uc_mem_read(u.uc, U_STACK, stack_b, sizeof stack_b);

        /* (a) the translation at CPL 1, hardware IF = 1, IOPL = 0 */
        uint32_t start = c->tc_off + c->insn[0].tc_off, end = start + c->insn[0].tc_len;
        in.eflags = arith | 2 | EFLAGS_IF;
        in.eip = code32 ? TC_LIN + start : start - e->tc.tc16_start;
        uc_mem_write(u.uc, U_STACK, stack_init, sizeof stack_init);
        uc_mem_write(u.uc, U_DATA, data_init, sizeof data_init);
        uc_err ea = uni_run(&u, true, code32, &in, TC_LIN + end, &a);
        int va = u.vector;
        uc_mem_read(u.uc, U_STACK, stack_a, sizeof stack_a);
        uc_mem_read(u.uc, U_DATA, data_a, sizeof data_a);

        bool ok = true;
        char why[160] = "";
#define WHY(...) do { if (ok) snprintf(why, sizeof why, __VA_ARGS__); ok = false; } while (0)
        if (eb || vb >= 0) WHY("original: %s, vector %d", uc_strerror(eb), vb);
        if (ea || va >= 0) WHY("translated: %s, vector %d", uc_strerror(ea), va);
        if (b.eip != eip + len) WHY("original ended at %x", b.eip);
        if (a.eip != (code32 ? TC_LIN + end : end - e->tc.tc16_start)) WHY("translated ended at %x", a.eip);
        for (int r = 0; r < 8; r++)
            if (a.gpr[r] != b.gpr[r]) WHY("%s %08x, original %08x", gpr_names[r], a.gpr[r], b.gpr[r]);
        const uint32_t mask = FL_ARITH | FL_MORE;
        if ((a.eflags & mask) != (b.eflags & mask)) WHY("eflags %08x, original %08x", a.eflags, b.eflags);
        if ((a.eflags & (EFLAGS_IF | EFLAGS_IOPL)) != EFLAGS_IF) WHY("hardware IF/IOPL changed: %08x", a.eflags);
        uint32_t avif = rd32(data_a + BT_D_VIF), aviopl = rd32(data_a + BT_D_VIOPL);
        if (avif != (b.eflags & EFLAGS_IF)) WHY("virtual IF %x, original %x", avif, b.eflags & EFLAGS_IF);
        if (aviopl != (b.eflags & EFLAGS_IOPL)) WHY("virtual IOPL %x, original %x", aviopl, b.eflags & EFLAGS_IOPL);
        long d = first_diff(stack_a, stack_b, sizeof stack_a);
        if (d >= 0) WHY("stack byte %lx: %02x, original %02x", d, stack_a[d], stack_b[d]);
        /* The data page: only the scratch words changed, and the counter by one when counting. */
        uint32_t runs0 = rd32(data_init + BT_D_INTC_RUNS), runs1 = rd32(data_a + BT_D_INTC_RUNS);
        if (runs1 != runs0 + (counting ? 1u : 0u)) WHY("in-TC counter %x -> %x", runs0, runs1);
        for (unsigned o = 8; o < BT_DATA_BYTES; o++)
            if (!(o >= BT_D_S0 && o < BT_D_S0 + 0x18) && data_a[o] != data_init[o]) {
                WHY("data page byte %x changed", o);
                break;
            }
#undef WHY
        if (!ok) {
            printf("  %s trial %d (%s): %s\n", name, t, counting ? "counting" : "not counting", why);
            printf("    in: eflags %08x vif %x viopl %x esp %08x\n", arith | 2, vif, viopl, in.gpr[4]);
            bad++;
        }
    }
    CHECK_EQ(bad, 0);
    uni_close(&u);
    env_free(e);
}

/* bits 32 */
TEST(unicorn_cli_32) { static const uint8_t g[] = { 0xFA }; sem_intc("cli", g, 1, true); }
TEST(unicorn_sti_32) { static const uint8_t g[] = { 0xFB }; sem_intc("sti", g, 1, true); }
TEST(unicorn_pushf_32) { static const uint8_t g[] = { 0x9C }; sem_intc("pushfd", g, 1, true); }
TEST(unicorn_popf_32) { static const uint8_t g[] = { 0x9D }; sem_intc("popfd", g, 1, true); }
/* bits 16 */
TEST(unicorn_pushf_16) { static const uint8_t g[] = { 0x9C }; sem_intc("pushf", g, 1, false); }
TEST(unicorn_popf_16) { static const uint8_t g[] = { 0x9D }; sem_intc("popf", g, 1, false); }
TEST(unicorn_cli_sti_16)
{
    static const uint8_t cli[] = { 0xFA }, sti[] = { 0xFB };
    sem_intc("cli16", cli, 1, false);
    sem_intc("sti16", sti, 1, false);
}

/*
 * A lookup (RET, RET imm16, JMP r/m, CALL r/m) against the original: with
 * the table filled for the target, the translation jumps to the target's
 * CCF with the registers, ESP and stack the original left; with the table
 * empty, or its entry another EIP's, it reaches its miss callout (INT 0xF1)
 * with the state it started with.
 */
enum lk_form { LK_RET, LK_RET8, LK_JMP_EAX, LK_CALL_EBX4 };

static void sem_lookup(const char *name, enum lk_form form, bool code32)
{
    struct env *e = env_new();
    CHECK(e != NULL);
    if (!e) return;
    uint32_t cs_base = code32 ? 0 : U_CODE16;
    uint32_t eip = code32 ? 0x1000 : 0x0100, target = code32 ? 0x1800 : 0x0800, other = target + 0x100;
    uint8_t g[4];
    unsigned len = 0;
    switch (form) {
    case LK_RET: g[0] = 0xC3; len = 1; break;                                 /* ret */
    case LK_RET8: g[0] = 0xC2; g[1] = 0x08; g[2] = 0x00; len = 3; break;      /* ret 8 */
    case LK_JMP_EAX: g[0] = 0xFF; g[1] = 0xE0; len = 2; break;                /* jmp eax / jmp ax */
    case LK_CALL_EBX4:                                                         /* call [ebx+4] / call [bx+4] */
        g[0] = 0xFF; g[1] = code32 ? 0x53 : 0x57; g[2] = 0x04; len = 3; break;
    }
    static const uint8_t tgt[] = { 0x90, 0xF4 };   /* nop; hlt: the target, and 'other' (the same index) */
    static uint8_t code[0x20000];
    memset(code, 0xF4, sizeof code);
    memcpy(code + cs_base + eip, g, len);
    memcpy(code + cs_base + target, tgt, sizeof tgt);
    memcpy(code + cs_base + other, tgt, sizeof tgt);
    env_code(e, cs_base + eip, g, len);
    env_code(e, cs_base + target, tgt, sizeof tgt);
    env_code(e, cs_base + other, tgt, sizeof tgt);
    int32_t k = bt_translate(&e->tc, &e->rd, eip, cs_base, code32);
    int32_t kt = bt_translate(&e->tc, &e->rd, target, cs_base, code32);
    int32_t ko = bt_translate(&e->tc, &e->rd, other, cs_base, code32);
    check_shape(e, k);
    check_shape(e, kt);
    check_shape(e, ko);
    if (k == BT_NO_CCF || kt == BT_NO_CCF || ko == BT_NO_CCF) { env_free(e); return; }
    CHECK_EQ(ccf(e, k)->insn[0].kind, BT_LOOKUP);
    const struct bt_ccf *c = ccf(e, k);
    uint32_t start = c->tc_off + c->insn[0].tc_off;
    uint32_t tgt_lin = TC_LIN + ccf(e, kt)->tc_off;
    uint32_t tgt_eip = code32 ? tgt_lin : ccf(e, kt)->tc_off - e->tc.tc16_start;
    uint32_t mem_base = code32 ? U_MEM : U_MEM16;

    /* Three table states: filled for the target, empty, 'other' in its entry. */
    for (int st = 0; st < 3; st++) {
        bt_lookup_reset(&e->tc, cs_base);
        if (st == 0) bt_lookup_fill(&e->tc, kt);
        if (st == 2) bt_lookup_fill(&e->tc, ko);
        memcpy(data_init, e->data, BT_DATA_BYTES);
        struct uni u;
        if (!uni_open(&u, e, code, sizeof code)) { CHECK(0); uni_close(&u); break; }
        int bad = 0;
        for (int t = 0; t < TRIALS / 4 && bad < 5; t++) {
            struct state in, a, b;
            for (int r = 0; r < 8; r++) in.gpr[r] = rnd();
            uint32_t sp = code32 ? 0x100 + rnd() % 0xFE00 : rnd() & 0xFFFF;
            if (!code32 && sp > 0xFFF0) sp -= 0x20;
            in.gpr[4] = code32 ? U_STACK + sp : (in.gpr[4] & 0xFFFF0000u) | sp;
            fill_random(stack_init, sizeof stack_init);
            uint8_t mem[0x1000];
            fill_random(mem, sizeof mem);
            /* The target where the instruction finds it. */
            uint32_t ebx = 0x10 + rnd() % 0xF00;
            switch (form) {
            case LK_RET: case LK_RET8:
                memcpy(stack_init + sp, &target, code32 ? 4 : 2);
                break;
            case LK_JMP_EAX:
                in.gpr[0] = code32 ? target : (in.gpr[0] & 0xFFFF0000u) | target;
                break;
            case LK_CALL_EBX4:
                /* DS is flat (base 0): [ebx+4] in U_MEM; [bx+4] (16-bit) in U_MEM16, below 64 KiB */
                in.gpr[3] = code32 ? mem_base + ebx : (in.gpr[3] & 0xFFFF0000u) | (mem_base + ebx);
                memcpy(mem + ebx + 4, &target, code32 ? 4 : 2);
                break;
            }
            in.eflags = (rnd() & (FL_ARITH | FL_MORE)) | 2 | EFLAGS_IF;

            /* (b) the original at CPL 0 */
            in.eip = eip;
            uc_mem_write(u.uc, U_STACK, stack_init, sizeof stack_init);
            uc_mem_write(u.uc, mem_base, mem, sizeof mem);
            uc_err eb = uni_run(&u, false, code32, &in, cs_base + target, &b);
            int vb = u.vector;
            uc_mem_read(u.uc, U_STACK, stack_b, sizeof stack_b);

            /* (a) the translation at CPL 1 */
            in.eip = code32 ? TC_LIN + start : start - e->tc.tc16_start;
            uc_mem_write(u.uc, U_STACK, stack_init, sizeof stack_init);
            uc_mem_write(u.uc, mem_base, mem, sizeof mem);
            uc_mem_write(u.uc, U_DATA, data_init, sizeof data_init);
            uc_err ea = uni_run(&u, true, code32, &in, tgt_lin, &a);
            int va = u.vector;
            uc_mem_read(u.uc, U_STACK, stack_a, sizeof stack_a);
            uc_mem_read(u.uc, U_DATA, data_a, sizeof data_a);

            bool ok = true;
            char why[160] = "";
#define WHY(...) do { if (ok) snprintf(why, sizeof why, __VA_ARGS__); ok = false; } while (0)
            if (eb || vb >= 0) WHY("original: %s, vector %d", uc_strerror(eb), vb);
            if (b.eip != target) WHY("original ended at %x", b.eip);
            const uint32_t mask = FL_ARITH | FL_MORE | EFLAGS_IF | EFLAGS_IOPL;
            if (st == 0) {
                if (ea || va >= 0) WHY("translated: %s, vector %d", uc_strerror(ea), va);
                if (a.eip != tgt_eip) WHY("translated ended at %x, want %x", a.eip, tgt_eip);
                for (int r = 0; r < 8; r++)
                    if (a.gpr[r] != b.gpr[r]) WHY("%s %08x, original %08x", gpr_names[r], a.gpr[r], b.gpr[r]);
                if ((a.eflags & mask) != (b.eflags & mask)) WHY("eflags %08x, original %08x", a.eflags, b.eflags);
                long d = first_diff(stack_a, stack_b, sizeof stack_a);
                if (d >= 0) WHY("stack byte %lx: %02x, original %02x", d, stack_a[d], stack_b[d]);
            } else {
                /* The miss: INT 0xF1 at the lookup's BT_CO_MISS callout, nothing changed. */
                uint32_t off = code32 ? a.eip - TC_LIN - c->tc_off : a.eip + e->tc.tc16_start - c->tc_off;
                const struct bt_callout *co = bt_ccf_callout_at(c, off - 2);   /* EIP is after the INT */
                if (ea || va != BT_CALLOUT_VECTOR) WHY("translated: %s, vector %d (want the callout)", uc_strerror(ea), va);
                if (!co || co->kind != BT_CO_MISS || co->insn != 0) WHY("stopped at TC offset %x: no miss callout before it", off);
                for (int r = 0; r < 8; r++)
                    if (a.gpr[r] != in.gpr[r]) WHY("%s %08x, was %08x", gpr_names[r], a.gpr[r], in.gpr[r]);
                if ((a.eflags & mask) != (in.eflags & mask)) WHY("eflags %08x, was %08x", a.eflags, in.eflags);
                long d = first_diff(stack_a, stack_init, sizeof stack_a);
                if (d >= 0) WHY("stack byte %lx changed", d);
            }
            for (unsigned o = 0; o < BT_DATA_BYTES; o++)
                if (!(o >= BT_D_S0 && o < BT_D_S0 + 0x18) && data_a[o] != data_init[o]) {
                    WHY("data page byte %x changed", o);
                    break;
                }
#undef WHY
            if (!ok) {
                printf("  %s (%s) trial %d: %s\n", name, st == 0 ? "hit" : st == 1 ? "empty" : "other entry", t, why);
                bad++;
            }
        }
        CHECK_EQ(bad, 0);
        uni_close(&u);
    }
    env_free(e);
}

TEST(unicorn_ret_32) { sem_lookup("ret", LK_RET, true); }
TEST(unicorn_ret_imm_32) { sem_lookup("ret 8", LK_RET8, true); }
TEST(unicorn_jmp_eax_32) { sem_lookup("jmp eax", LK_JMP_EAX, true); }
TEST(unicorn_call_mem_32) { sem_lookup("call [ebx+4]", LK_CALL_EBX4, true); }
TEST(unicorn_ret_16) { sem_lookup("ret (16)", LK_RET, false); }
TEST(unicorn_ret_imm_16) { sem_lookup("ret 8 (16)", LK_RET8, false); }
TEST(unicorn_jmp_ax_16) { sem_lookup("jmp ax", LK_JMP_EAX, false); }

TEST_MAIN()
