/*
 * bt_vmm.c - the bt engine: tae's VMM (virtual CPU, ring compression, shadow
 * page tables, reflected events) with guest kernel code run as translated
 * code (translator/) instead of directly (vmm/README.md "The bt engine").
 *
 *   guest CPL 3           hw runs it directly, as under tae
 *   guest CPL 0           hw runs the CCF of the guest's EIP, at ring 1,
 *                         CS = BT_TC_SEL, GS = the VMM's data page
 *   an exit of hw there   a callout (INT BT_CALLOUT_VECTOR): served by its
 *                         site's kind (port I/O done here, chaining an exit,
 *                         the rest emulated on the virtual CPU); a fault,
 *                         interrupt or stop: mapped to the guest instruction
 *                         it belongs to, then tae's trap path
 *
 * The guest's IF and IOPL live in the data page while translated code runs
 * (in-TC CLI/STI/PUSHF/POPF read and write them) and in the virtual CPU
 * otherwise; bt_enter and bt_settle_for_sync move them across.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "machine/machine.h"
#include "translator/translator.h"
#include "vmm/tae.h"

#define BT_ADAPTIVE_MAX 256
#define BT_ADAPT_AFTER  8     /* traps of one copied instruction before it becomes a callout */

struct bt_vmm {
    struct bt_tc tc;
    uint32_t tc_paddr, data_paddr;
    uint8_t *data;
    /* Where the last callout said hw goes on, if the guest fell through. */
    bool resume_valid;
    int32_t resume_ccf;
    uint32_t resume_eip, resume_cs_base, resume_tc;
    uint64_t resume_flushes;  /* the TC's flush count then: a flush since reuses CCF numbers */
    bool fill_lookup;         /* the next entry fills the lookup table (a miss) */
    uint32_t intc_seen;       /* BT_D_INTC_RUNS when last folded */
    bool maps_dirty;          /* guest paging changed: check CCFs' frames at the next entry */
    /* Adaptive BT: guest instructions (linear) translated as callouts since
     * they kept trapping when copied. */
    uint32_t adaptive[BT_ADAPTIVE_MAX];
    int nadaptive;
    struct {
        uint64_t callouts, callouts_port, callouts_emulate, callouts_exit, callouts_miss;
        uint64_t entries, translations_failed, smc_stops, settled, remapped, intc_runs, adapted;
    } cnt;
};

static uint32_t *data_word(struct bt_vmm *b, uint32_t off) { return (uint32_t *)(b->data + off); }

/* The TC's 32-bit in-TC counter into the 64-bit one, at each VMM entry.
 * Only the VMM reads it: hw may be stopped inside its increment (a budget
 * between its load and its store), so zeroing it here would count twice. */
static void fold_in_tc_runs(struct bt_vmm *b)
{
    uint32_t now = *data_word(b, BT_D_INTC_RUNS);
    b->cnt.intc_runs += (uint32_t)(now - b->intc_seen);
    b->intc_seen = now;
}

bool bt_hw_in_tc(const struct tae *t)
{
    uint16_t sel = t->hw.s.seg[SEG_CS].selector;
    return sel == BT_TC_SEL || sel == BT_TC16_SEL;
}

/* hw's EIP as a TC linear address, and back (the 16-bit TC segment has a base). */
static uint32_t hw_lin(const struct tae *t) { return t->hw.s.seg[SEG_CS].base + t->hw.s.eip; }
static void set_hw_lin(struct tae *t, uint32_t lin) { cpu_set_eip(&t->hw, lin - t->hw.s.seg[SEG_CS].base); }

/* ---------- guest code and coherence ---------- */

/* The guest-physical address of linear 'lin' for a fetch, through the
 * guest's own tables (not the VMM's window); false: the fetch faults. */
static bool guest_fetch_paddr(struct tae *t, uint32_t lin, uint32_t *paddr)
{
    const struct x86_state *g = &t->vcpu->s;
    struct paging_regs pr = { g->cr0, g->cr3, g->cr4 };
    struct mmu_walk w;
    mmu_walk(&t->vcpu->mmu, &pr, lin, MMU_FETCH, false, false, &w);
    if (!w.ok) return false;
    uint32_t pa = w.paddr & t->m->bus.a20_mask;
    if (pa - BUS_PRIVATE_BASE < BUS_PRIVATE_MAX) return false;
    *paddr = pa;
    return true;
}

static bool read_guest_code(void *opaque, uint32_t lin, uint8_t *byte, uint32_t *paddr)
{
    struct tae *t = opaque;
    const struct x86_state *g = &t->vcpu->s;
    /* Past CS's limit the guest's fetch faults (#GP), as its CPU would. */
    uint32_t off = lin - g->seg[SEG_CS].base;
    if (off > g->seg[SEG_CS].limit || (!(g->seg[SEG_CS].attr & SEG_ATTR_DB) && off > 0xFFFF)) return false;
    if (!guest_fetch_paddr(t, lin, paddr)) return false;
    *byte = (uint8_t)bus_read(&t->m->bus, *paddr, 1);
    return true;
}

static bool host_breakpoint(void *opaque, uint32_t lin)
{
    struct tae *t = opaque;
    for (int k = 0; k < t->hw.breakpoint_count; k++)
        if (t->hw.breakpoints[k] == lin) return true;
    return false;
}

static bool adaptive_callout(void *opaque, uint32_t lin)
{
    struct tae *t = opaque;
    for (int k = 0; k < t->bt->nadaptive; k++)
        if (t->bt->adaptive[k] == lin) return true;
    return false;
}

/* A guest write to a page with translations (the bus's code hook). */
static void code_written(void *opaque, uint32_t paddr, unsigned size)
{
    struct tae *t = opaque;
    struct bt_vmm *b = t->bt;
    int32_t running = BT_NO_CCF;
    if (t->hw.in_run && bt_hw_in_tc(t)) running = bt_tc_ccf_at(&b->tc, t->hw.s.seg[SEG_CS].base + t->hw.insn_eip);
    bool running_valid = running != BT_NO_CCF && b->tc.ccf[running].valid;
    if (!bt_tc_code_written(&b->tc, paddr, size)) return;
    /* Dropping CCFs rewrote chained jumps in the TC, perhaps in the block
     * hw is running: it must fetch its next instruction anew. */
    if (t->hw.in_run) t->hw.end_block = true;
    if (b->resume_valid && !b->tc.ccf[b->resume_ccf].valid) b->resume_valid = false;
    if (running_valid && !b->tc.ccf[running].valid) {
        /* The CCF that is running was made from the bytes just written:
         * stop after this instruction, as a Pentium refetches. */
        t->bt_smc_stop = true;
        t->hw.end_block = true;
        cpu_request_exit(&t->hw);
        b->cnt.smc_stops++;
    }
}

/* A guest page table was written (tae traces the ones shadows came from). */
static void tables_written(void *opaque, uint32_t paddr, unsigned size)
{
    struct tae *t = opaque;
    (void)paddr; (void)size;
    if (!t->in_ad_update) t->bt->maps_dirty = true;
}

/* A host breakpoint at 'lin' came or went: the translations holding that
 * guest instruction are made again (they carry BT_CO_BREAK callouts). */
void bt_breakpoints_changed(struct tae *t, uint32_t lin)
{
    struct bt_vmm *b = t->bt;
    for (int32_t k = 0; k < b->tc.nccf; k++) {
        const struct bt_ccf *c = &b->tc.ccf[k];
        if (c->valid && lin - (c->cs_base + c->eip) < c->guest_bytes) bt_invalidate(&b->tc, k);
    }
    if (b->resume_valid && !b->tc.ccf[b->resume_ccf].valid) b->resume_valid = false;
}

void bt_after_vcpu_change(struct tae *t, bool paging_changed)
{
    if (paging_changed) t->bt->maps_dirty = true;
}

/* Each CCF's pages still map where its bytes came from?  Else drop it. */
static void check_mappings(struct tae *t)
{
    struct bt_vmm *b = t->bt;
    b->maps_dirty = false;
    uint32_t cached_lin = 1, cached_frame = 0;
    bool cached_ok = false;
    for (int32_t k = 0; k < b->tc.nccf; k++) {
        struct bt_ccf *c = &b->tc.ccf[k];
        if (!c->valid) continue;
        uint32_t lin = (c->cs_base + c->eip) & ~0xFFFu;
        if (lin != cached_lin) {
            uint32_t pa = 0;
            cached_ok = guest_fetch_paddr(t, lin, &pa);
            cached_frame = pa >> 12;
            cached_lin = lin;
        }
        if (!cached_ok || cached_frame != c->frame[0]) {
            bt_invalidate(&b->tc, k);
            b->cnt.remapped++;
        }
    }
    if (b->resume_valid && !b->tc.ccf[b->resume_ccf].valid) b->resume_valid = false;
}

/* ---------- set-up ---------- */

int bt_vmm_create(struct tae *t)
{
    struct bus *bus = &t->m->bus;
    struct bt_vmm *b = calloc(1, sizeof *b);
    if (!b) return -ENOMEM;
    t->bt = b;
    int err = bus_private_alloc(bus, BT_DATA_BYTES, &b->data_paddr);
    /* TRAPEZE_BT_TC_KIB: a smaller translation cache (8 KiB at least: a
     * few CCFs between flushes), to make the tests fill and flush it. */
    uint32_t tc_bytes = BT_TC_BYTES;
    const char *kib = getenv("TRAPEZE_BT_TC_KIB");
    if (kib && *kib) {
        unsigned long v = strtoul(kib, NULL, 10);
        if (v >= 8 && v * 1024 <= BT_TC_BYTES) tc_bytes = (uint32_t)(v * 1024) & ~0xFFFu;
    }
    if (err == 0) err = bus_private_alloc(bus, tc_bytes, &b->tc_paddr);
    if (err == 0) err = bus_private_alloc(bus, TAE_WINDOW_PAGES << 12, &t->gdt_window_paddr);
    if (err < 0) return err;
    b->data = bus_private_ptr(bus, b->data_paddr);   /* the pages are contiguous: one pointer for both */
    err = bt_tc_init(&b->tc, bus, bus_private_ptr(bus, b->tc_paddr), b->tc_paddr, BT_TC_LIN, tc_bytes, b->data);
    if (err < 0) return err;
    /* Map them in the VMM's region of every shadow space: supervisor pages. */
    uint32_t *vpt = (uint32_t *)bus_private_ptr(bus, t->vmm_pt_paddr);
    for (uint32_t i = 0; i < BT_DATA_BYTES >> 12; i++)
        vpt[((BT_DATA_LIN - TAE_VMM_LIN) >> 12) + i] = (b->data_paddr + (i << 12)) | PTE_P | PTE_W | PTE_A | PTE_D;
    for (uint32_t i = 0; i < tc_bytes >> 12; i++)
        vpt[((BT_TC_LIN - TAE_VMM_LIN) >> 12) + i] = (b->tc_paddr + (i << 12)) | PTE_P | PTE_A;
    b->tc.count_in_tc = t->count_in_tc;
    err = bus_add_code_hook(bus, code_written, t);
    if (err == 0) err = bus_add_trace_hook(bus, tables_written, t);
    return err;
}

void bt_vmm_destroy(struct tae *t)
{
    struct bt_vmm *b = t->bt;
    if (!b) return;
    bus_remove_code_hook(&t->m->bus, code_written, t);
    bus_remove_trace_hook(&t->m->bus, tables_written, t);
    bt_tc_destroy(&b->tc);
    free(b);
    t->bt = NULL;
}

void bt_vmm_reset(struct tae *t)
{
    struct bt_vmm *b = t->bt;
    if (b->tc.ccf) bt_tc_flush(&b->tc);
    b->resume_valid = false;
    b->fill_lookup = false;
    b->maps_dirty = false;
}

/* ---------- entering and leaving translated code ---------- */

bool bt_must_interpret(struct tae *t, bool step)
{
    const struct x86_state *g = &t->vcpu->s;
    (void)step;   /* a single step runs translated too (bt_step) */
    if (g->eflags & EFLAGS_TF) return true;
    /* The guest's own instruction breakpoints (DR7 enables with R/W = 00)
     * match guest EIPs, which translated code does not run at. */
    for (int i = 0; i < 4; i++)
        if ((g->dr[7] & (3u << (2 * i))) && ((g->dr[7] >> (16 + 4 * i)) & 3u) == 0) return true;
    return false;
}

static void enter_at(struct tae *t, bool code32, uint32_t target);

int bt_enter(struct tae *t)
{
    struct bt_vmm *b = t->bt;
    const struct x86_state *g = &t->vcpu->s;
    uint32_t eip = g->eip, cs_base = g->seg[SEG_CS].base;
    bool code32 = (g->seg[SEG_CS].attr & SEG_ATTR_DB) != 0;
    if (!code32) eip &= 0xFFFF;
    if (b->maps_dirty) check_mappings(t);
    uint32_t target;
    int32_t k;
    if (b->resume_valid && eip == b->resume_eip && cs_base == b->resume_cs_base && b->resume_flushes == b->tc.cnt.flushes &&
        b->tc.ccf[b->resume_ccf].valid && b->tc.ccf[b->resume_ccf].code32 == code32) {
        k = b->resume_ccf;
        target = b->resume_tc;
    } else {
        k = bt_tc_find(&b->tc, eip, cs_base, code32);
        if (k == BT_NO_CCF) {
            struct bt_code_reader rd = { read_guest_code, host_breakpoint, adaptive_callout, t };
            k = bt_translate(&b->tc, &rd, eip, cs_base, code32);
            if (k == BT_NO_CCF) {
                b->cnt.translations_failed++;
                b->resume_valid = false;
                b->fill_lookup = false;
                return -1;
            }
        }
        target = bt_ccf_lin(&b->tc, &b->tc.ccf[k]);
        b->tc.ccf[k].entries++;
        if (b->fill_lookup) bt_lookup_fill(&b->tc, k);
    }
    b->resume_valid = false;
    b->fill_lookup = false;
    b->cnt.entries++;
    if (cs_base != b->tc.lookup_cs_base) bt_lookup_reset(&b->tc, cs_base);
    enter_at(t, code32, target);
    return 0;
}

/* hw on the guest's state from the virtual CPU, at TC linear 'target'. */
static void enter_at(struct tae *t, bool code32, uint32_t target)
{
    struct bt_vmm *b = t->bt;
    const struct x86_state *g = &t->vcpu->s;
    tae_sync_to_hw(t);
    *data_word(b, BT_D_VIF) = g->eflags & EFLAGS_IF;
    *data_word(b, BT_D_VIOPL) = g->eflags & EFLAGS_IOPL;
    /* 32-bit code: a flat ring-1 code segment; 16-bit code (real mode too):
     * a 16-bit one over the TC16 area. */
    struct x86_segment cs = { BT_TC_SEL, SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_CODE | SEG_ATTR_R | SEG_ATTR_A |
                                         (1u << SEG_ATTR_DPL_SHIFT) | SEG_ATTR_DB | SEG_ATTR_G, 0, 0xFFFFFFFFu };
    if (!code32) {
        cs.selector = BT_TC16_SEL;
        cs.attr &= (uint16_t)~(SEG_ATTR_DB | SEG_ATTR_G);
        cs.base = bt_tc16_base(&b->tc);
        cs.limit = 0xFFFF;
    }
    struct x86_segment gs = { BT_DATA_SEL, SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_W | SEG_ATTR_A |
                                           (1u << SEG_ATTR_DPL_SHIFT) | SEG_ATTR_DB, BT_DATA_LIN, BT_DATA_BYTES - 1 };
    cpu_set_segment(&t->hw, SEG_CS, &cs);
    cpu_set_segment(&t->hw, SEG_GS, &gs);
    set_hw_lin(t, target);
    t->hw_set[SEG_CS] = t->hw.s.seg[SEG_CS];
    t->hw_set[SEG_GS] = t->hw.s.seg[SEG_GS];
}

/*
 * One guest instruction, translated on its own and run on hw (the monitor's
 * step, gdb's stepi): its in-TC sequence, callout or copy runs as it would
 * in a CCF, so a step shows what bt does with the instruction.  The
 * one-instruction CCF ends at its exit stubs (never chained) and is
 * dropped after.
 */
struct engine_exit bt_step(struct tae *t)
{
    struct bt_vmm *b = t->bt;
    tae_need_vcpu(t);
    const struct x86_state *g = &t->vcpu->s;
    bool code32 = (g->seg[SEG_CS].attr & SEG_ATTR_DB) != 0;
    uint32_t eip = code32 ? g->eip : g->eip & 0xFFFF, cs_base = g->seg[SEG_CS].base;
    struct engine_exit out = { .reason = ENGINE_EXIT_STEP };
    if (b->maps_dirty) check_mappings(t);
    struct bt_code_reader rd = { read_guest_code, NULL, adaptive_callout, t };
    int32_t k = bt_translate_single(&b->tc, &rd, eip, cs_base, code32);
    if (k == BT_NO_CCF) {
        b->cnt.translations_failed++;
        if (tae_emulate_why(t, "bt: code fetch fault", &out)) return out;
        return (struct engine_exit){ .reason = ENGINE_EXIT_STEP };
    }
    if (cs_base != b->tc.lookup_cs_base) bt_lookup_reset(&b->tc, cs_base);
    enter_at(t, code32, bt_ccf_lin(&b->tc, &b->tc.ccf[k]));
    t->hw_stale = false;
    for (int n = 0; n < 64; n++) {
        bus_private_open(&t->m->bus, true);
        struct cpu_exit x = cpu_run(&t->hw, 0, false);
        bus_private_open(&t->m->bus, false);
        t->vcpu_stale = true;
        bool done = false;
        switch (x.reason) {
        case CPU_EXIT_EXCEPTION:
            if (!bt_hw_in_tc(t)) { done = true; break; }
            if (bt_serve(t, &x, &out)) done = true;
            else if (t->hw_stale) { out = (struct engine_exit){ .reason = ENGINE_EXIT_STEP }; done = true; }
            break;
        case CPU_EXIT_INTERRUPT:
            t->cnt.reflected_interrupts++;
            if (!tae_reflect(t, x.vector, CPU_EVENT_EXTERNAL, false, 0, &out)) out = (struct engine_exit){ .reason = ENGINE_EXIT_STEP };
            done = true;
            break;
        case CPU_EXIT_BUDGET:
            break;
        case CPU_EXIT_REQUEST:
            t->external_stop = false;
            t->bt_smc_stop = false;
            out = (struct engine_exit){ .reason = ENGINE_EXIT_STEP };
            done = true;
            break;
        case CPU_EXIT_WATCHPOINT:
            out = (struct engine_exit){ .reason = ENGINE_EXIT_WATCHPOINT, .address = x.address,
                                        .watch_kind = (enum engine_watch_kind)x.watch_kind,
                                        .watch_physical = x.watch_physical };
            done = true;
            break;
        default:
            out = (struct engine_exit){ .reason = ENGINE_EXIT_ERROR,
                                        .message = "bt: the hardware CPU stopped in a single step in a way the VMM cannot serve (a VMM bug)" };
            done = true;
            break;
        }
        if (done) break;
    }
    /* The guest's state back in the virtual CPU; the next run enters anew. */
    tae_need_vcpu(t);
    t->hw_stale = true;
    bt_invalidate(&b->tc, k);
    return out;
}

/* hw's TC address -> the CCF and offset, or false (not in the TC). */
static bool where(struct tae *t, uint32_t addr, int32_t *k, uint32_t *off)
{
    struct bt_vmm *b = t->bt;
    *k = bt_tc_ccf_at(&b->tc, addr);
    if (*k == BT_NO_CCF) return false;
    *off = addr - bt_ccf_lin(&b->tc, &b->tc.ccf[*k]);
    return true;
}

/* Put hw back at the start of the guest instruction whose TC range holds
 * 'addr' (its state there is the guest's state before it).  The guest EIP. */
static bool rewind_to_insn(struct tae *t, uint32_t addr, uint32_t *eip)
{
    struct bt_vmm *b = t->bt;
    int32_t k;
    uint32_t off;
    if (!where(t, addr, &k, &off)) return false;
    const struct bt_ccf *c = &b->tc.ccf[k];
    int i = bt_ccf_insn_at(c, off);
    if (i < 0) {
        const struct bt_point *p = bt_ccf_point_at(c, off);
        if (!p) return false;
        if (eip) *eip = p->eip;
        return true;
    }
    set_hw_lin(t, bt_ccf_lin(&b->tc, c) + c->insn[i].tc_off);
    if (eip) *eip = c->insn[i].eip;
    return true;
}

/*
 * Before the virtual CPU takes the guest's state from hw: hw at a guest
 * instruction boundary (a budget or a stop may have cut a sequence: run it
 * to its end one instruction at a time; a fault on the way rewinds to the
 * instruction's start, which raises it again when the guest goes on), the
 * virtual IF and IOPL back in the virtual CPU.  Returns the guest EIP.
 */
uint32_t bt_settle_for_sync(struct tae *t)
{
    struct bt_vmm *b = t->bt;
    uint32_t eip = 0;
    for (int n = 0; n < 64; n++) {
        int32_t k;
        uint32_t off;
        if (!where(t, hw_lin(t), &k, &off)) break;
        const struct bt_point *p = bt_ccf_point_at(&b->tc.ccf[k], off);
        if (p) { eip = p->eip; goto done; }
        b->cnt.settled++;
        bool was_open = bus_private_is_open(&t->m->bus);
        bus_private_open(&t->m->bus, true);
        uint32_t before = hw_lin(t);
        struct cpu_exit x = cpu_run(&t->hw, 1, true);
        bus_private_open(&t->m->bus, was_open);
        if (x.reason == CPU_EXIT_EXCEPTION) {
            uint32_t at = x.event_kind == CPU_EVENT_SOFT_INT ? hw_lin(t) - x.insn_len : before;
            if (x.event_kind == CPU_EVENT_FAULT) at = hw_lin(t);
            if (rewind_to_insn(t, at, &eip)) goto done;
            break;
        }
    }
    /* Cannot happen: every TC address hw can stop at is in a CCF. */
    fprintf(stderr, "trapeze: bt: the hardware CPU stopped at %08x, outside any guest instruction (a VMM bug)\n",
            hw_lin(t));
    abort();
done:
    t->vcpu->s.eflags = (t->vcpu->s.eflags & ~(EFLAGS_IF | EFLAGS_IOPL)) |
                        (*data_word(b, BT_D_VIF) & EFLAGS_IF) | (*data_word(b, BT_D_VIOPL) & EFLAGS_IOPL);
    return eip;
}

bool bt_irq_window(struct tae *t)
{
    struct bt_vmm *b = t->bt;
    return (*data_word(b, BT_D_VIF) & EFLAGS_IF) && bt_tc_boundary(&b->tc, hw_lin(t), NULL);
}

/* ---------- callouts ---------- */

static void port_callout(struct tae *t, const struct bt_callout *co)
{
    struct cpu *hw = &t->hw;
    uint16_t port = co->port == 0xFFFF ? (uint16_t)hw->s.regs[R_EDX] : co->port;
    uint32_t mask = co->size == 4 ? 0xFFFFFFFFu : co->size == 2 ? 0xFFFFu : 0xFFu;
    if (co->in) {
        uint32_t v = bus_port_read(&t->m->bus, port, co->size) & mask;
        cpu_set_gpr(hw, R_EAX, (hw->s.regs[R_EAX] & ~mask) | v);
    } else {
        bus_port_write(&t->m->bus, port, hw->s.regs[R_EAX] & mask, co->size);
    }
}

/* Retranslate CCF k with the instruction at 'lin' as a callout. */
static void adapt(struct tae *t, int32_t k, uint32_t lin)
{
    struct bt_vmm *b = t->bt;
    b->adaptive[b->nadaptive++] = lin;
    uint32_t eip = b->tc.ccf[k].eip, cs_base = b->tc.ccf[k].cs_base;
    bool code32 = b->tc.ccf[k].code32;
    uint64_t flushes = b->tc.cnt.flushes;
    bt_invalidate(&b->tc, k);
    struct bt_code_reader rd = { read_guest_code, host_breakpoint, adaptive_callout, t };
    int32_t n = bt_translate(&b->tc, &rd, eip, cs_base, code32);
    if (n != BT_NO_CCF && b->tc.cnt.flushes == flushes) bt_forward(&b->tc, k, n);   /* no flush in between */
    if (b->resume_valid && b->resume_ccf == k) b->resume_valid = false;
    b->cnt.adapted++;
}

bool bt_serve(struct tae *t, struct cpu_exit *x, struct engine_exit *out)
{
    struct bt_vmm *b = t->bt;
    fold_in_tc_runs(b);
    struct cpu *hw = &t->hw;
    int32_t k;
    uint32_t off;
    if (x->event_kind == CPU_EVENT_SOFT_INT && x->vector == BT_CALLOUT_VECTOR &&
        where(t, hw_lin(t) - x->insn_len, &k, &off)) {
        struct bt_ccf *c = &b->tc.ccf[k];
        const struct bt_callout *co = bt_ccf_callout_at(c, off);
        if (co) {
            b->cnt.callouts++;
            switch (co->kind) {
            case BT_CO_EXIT: {
                struct bt_exit *xt = &c->exit[co->insn];
                if (c->single) {
                    /* A single step's end: hw at the stub, a point with the next EIP. */
                    set_hw_lin(t, hw_lin(t) - x->insn_len);
                    *out = (struct engine_exit){ .reason = ENGINE_EXIT_STEP };
                    return true;
                }
                b->cnt.callouts_exit++;
                uint32_t cs_base = t->vcpu->s.seg[SEG_CS].base;
                if (b->maps_dirty) check_mappings(t);
                bool code32 = c->code32;
                int32_t to = bt_tc_find(&b->tc, xt->target, cs_base, code32);
                if (to == BT_NO_CCF) {
                    struct bt_code_reader rd = { read_guest_code, host_breakpoint, adaptive_callout, t };
                    uint64_t flushes = b->tc.cnt.flushes;
                    to = bt_translate(&b->tc, &rd, xt->target, cs_base, code32);
                    /* A flush in there dropped 'c' too: nothing to chain. */
                    if (b->tc.cnt.flushes != flushes) c = NULL;
                }
                if (to == BT_NO_CCF) {
                    /* The guest's fetch at the target faults: hw stands at
                     * the stub, a boundary with the target's EIP. */
                    set_hw_lin(t, hw_lin(t) - x->insn_len);
                    b->cnt.translations_failed++;
                    return tae_emulate_why(t, "bt: code fetch fault", out);
                }
                if (c && c->valid) bt_chain(&b->tc, k, co->insn, to);
                b->tc.ccf[to].chained_runs++;
                set_hw_lin(t, bt_ccf_lin(&b->tc, &b->tc.ccf[to]));
                return false;
            }
            case BT_CO_BREAK: {
                /* Stop before the instruction, unless this breakpoint
                 * stopped the last run (then its instruction runs). */
                uint32_t lin = c->cs_base + c->insn[co->insn].eip;
                if (hw->breakpoint_resume_armed && hw->breakpoint_resume_lin == lin) {
                    hw->breakpoint_resume_armed = false;
                    return false;
                }
                hw->breakpoint_resume_armed = true;
                hw->breakpoint_resume_lin = lin;
                set_hw_lin(t, hw_lin(t) - x->insn_len);
                *out = (struct engine_exit){ .reason = ENGINE_EXIT_BREAKPOINT, .address = lin };
                return true;
            }
            case BT_CO_PORT:
                b->cnt.callouts_port++;
                tae_count_trap(t, co->in ? "in (callout)" : "out (callout)");
                port_callout(t, co);
                return false;   /* hw goes on after the INT */
            case BT_CO_MISS:
            case BT_CO_EMULATE: {
                bool miss = co->kind == BT_CO_MISS;
                if (miss) b->cnt.callouts_miss++;
                else b->cnt.callouts_emulate++;
                const struct bt_insn *in = &c->insn[co->insn];
                uint32_t next_tc = hw_lin(t);
                set_hw_lin(t, bt_ccf_lin(&b->tc, c) + in->tc_off);   /* the state before it */
                if (tae_emulate_why(t, miss ? "bt lookup miss" : in->what, out)) return true;
                if (miss) {
                    b->fill_lookup = true;
                    /* A RET that missed its prediction predicts this return next. */
                    if (c->valid && c->pred_off && !t->vcpu_stale) bt_predict_return(&b->tc, k, t->vcpu->s.eip);
                } else if (!t->vcpu_stale && t->vcpu->s.eip == in->eip + in->len &&
                           t->vcpu->s.seg[SEG_CS].base == c->cs_base && c->valid &&
                           co->insn + 1 < c->ninsn) {
                    b->resume_valid = true;
                    b->resume_ccf = k;
                    b->resume_eip = t->vcpu->s.eip;
                    b->resume_cs_base = c->cs_base;
                    b->resume_tc = next_tc;
                    b->resume_flushes = b->tc.cnt.flushes;
                }
                return false;
            }
            }
        }
    }
    /* A fault, trap or interrupt in translated code: the guest instruction's. */
    uint32_t at = hw_lin(t);
    int32_t fk = BT_NO_CCF;
    uint32_t foff = 0;
    if (x->event_kind == CPU_EVENT_FAULT && where(t, at, &fk, &foff)) {
        uint64_t emulated = t->cnt.emulated, true_faults = t->cnt.true_faults;
        int i = bt_ccf_insn_at(&b->tc.ccf[fk], foff);
        if (!rewind_to_insn(t, at, NULL)) fk = BT_NO_CCF;
        else {
            bool ends = tae_serve_trap(t, x, out);
            /* Adaptive BT: a copied instruction the VMM keeps emulating (a
             * store to a traced page table, the VMM's region) becomes a
             * callout in a new translation; the old one forwards to it. */
            struct bt_ccf *c = &b->tc.ccf[fk];
            if (!ends && i >= 0 && c->valid && !c->single && c->insn[i].kind == BT_IDENT && t->cnt.emulated != emulated &&
                t->cnt.true_faults == true_faults && ++c->insn[i].traps >= BT_ADAPT_AFTER &&
                b->nadaptive < BT_ADAPTIVE_MAX)
                adapt(t, fk, c->cs_base + c->insn[i].eip);
            return ends;
        }
    }
    if (x->event_kind == CPU_EVENT_SOFT_INT) at -= x->insn_len;
    if (x->event_kind == CPU_EVENT_FAULT || x->event_kind == CPU_EVENT_SOFT_INT) {
        if (!rewind_to_insn(t, at, NULL)) {
            *out = (struct engine_exit){ .reason = ENGINE_EXIT_ERROR,
                                         .message = "bt: an exception outside the translation cache (a VMM bug)" };
            return true;
        }
    } else if (!where(t, at, &k, &off) || !bt_ccf_point_at(&b->tc.ccf[k], off)) {
        /* A trap (#DB) after a sequence's inner instruction: the guest
         * instruction it belongs to is not done; take it from its start. */
        rewind_to_insn(t, at, NULL);
    }
    return tae_serve_trap(t, x, out);
}

/* ---------- views ---------- */

void bt_print_stats(struct tae *t, FILE *out)
{
    struct bt_vmm *b = t->bt;
    fold_in_tc_runs(b);
    const struct bt_counters *c = &b->tc.cnt;
#define BLINE(label, value) fprintf(out, "  %-20s %llu\n", label, (unsigned long long)(value))
    BLINE("bt callouts", b->cnt.callouts - b->cnt.callouts_exit);
    BLINE("bt callouts port", b->cnt.callouts_port);
    BLINE("bt callouts emulate", b->cnt.callouts_emulate);
    BLINE("bt lookup misses", b->cnt.callouts_miss);
    BLINE("bt chain exits", b->cnt.callouts_exit);
    if (b->tc.count_in_tc) BLINE("bt in-TC runs", b->cnt.intc_runs);
    BLINE("bt entries", b->cnt.entries);
    BLINE("bt translated", c->translated);
    BLINE("bt single steps", c->singles);
    BLINE("bt guest bytes", c->guest_bytes);
    BLINE("bt tc bytes", c->tc_bytes);
    BLINE("bt ident", c->ident);
    BLINE("bt in-tc sites", c->intc);
    BLINE("bt callout sites", c->callout_sites);
    BLINE("bt chained", c->chained);
    BLINE("bt ret predictions", c->predictions);
    BLINE("bt invalidated", c->invalidated);
    BLINE("bt remapped", b->cnt.remapped);
    BLINE("bt smc stops", b->cnt.smc_stops);
    BLINE("bt adaptive", b->cnt.adapted);
    BLINE("bt flushes", c->flushes);
#undef BLINE
}

void bt_get_counters(struct tae *t, struct engine_counters *c)
{
    struct bt_vmm *b = t->bt;
    fold_in_tc_runs(b);
    c->vmm_callouts = b->cnt.callouts_port + b->cnt.callouts_emulate + b->cnt.callouts_miss;
    c->vmm_in_tc = b->cnt.intc_runs;
    c->vmm_translated = b->tc.cnt.translated;
    c->vmm_chained = b->tc.cnt.chained;
}

/* `info tc`: the translation cache, CCF by CCF. */
static void print_tc(struct tae *t, FILE *out)
{
    struct bt_vmm *b = t->bt;
    const struct bt_counters *c = &b->tc.cnt;
    int32_t valid = 0;
    for (int32_t k = 0; k < b->tc.nccf; k++) valid += b->tc.ccf[k].valid;
    fprintf(out, "translation cache at %08x: %u of %u bytes used, %d CCFs (%d valid); %llu translated, "
                 "%llu guest bytes -> %llu TC bytes, %llu exits chained, %llu invalidated, %llu flushes\n",
            b->tc.tc_lin, b->tc.tc_used, b->tc.tc_size, b->tc.nccf, valid,
            (unsigned long long)c->translated, (unsigned long long)c->guest_bytes, (unsigned long long)c->tc_bytes,
            (unsigned long long)c->chained, (unsigned long long)c->invalidated, (unsigned long long)c->flushes);
    fprintf(out, "%-6s %-9s %-9s %5s %5s %5s %-16s %s\n", "ccf", "guest", "tc", "insns", "guest", "tc", "exits", "entered/chained-in");
    for (int32_t k = 0; k < b->tc.nccf; k++) {
        const struct bt_ccf *f = &b->tc.ccf[k];
        if (!f->valid) continue;
        char exits[32] = "";
        for (int x = 0; x < f->nexit; x++) {
            size_t n = strlen(exits);
            snprintf(exits + n, sizeof exits - n, "%s%s", x ? "," : "", f->exit[x].chained != BT_NO_CCF ? "chained" : "stub");
        }
        fprintf(out, "%-6d %08x  %08x  %5u %5u %5u %-16s %llu/%llu\n", k, f->eip, bt_ccf_lin(&b->tc, f),
                f->ninsn, f->guest_bytes, f->tc_len, exits[0] ? exits : "-",
                (unsigned long long)f->entries, (unsigned long long)f->chained_runs);
    }
}

/* One instruction's text (capstone through log_disassemble), or its bytes. */
static unsigned disas_one(int bits, uint32_t address, const uint8_t *buf, size_t len, char *text, size_t size)
{
    unsigned n = log_disassemble ? log_disassemble(bits, address, buf, len, text, size) : 0;
    if (!n) {
        snprintf(text, size, "(.byte 0x%02x)", buf[0]);
        n = 1;
    }
    return n;
}

/* `disas-tc EIP`: the guest instructions of the CCF at EIP and their translation. */
static int disas_tc(struct tae *t, const char *arg, FILE *out)
{
    struct bt_vmm *b = t->bt;
    char *end;
    if (!arg || !*arg) return -EINVAL;
    unsigned long v = strtoul(arg, &end, 16);
    if (*end || end == arg || v > 0xFFFFFFFFul) return -EINVAL;
    uint32_t eip = (uint32_t)v;
    tae_need_vcpu(t);
    uint32_t cs_base = t->vcpu->s.seg[SEG_CS].base;
    bool code32 = (t->vcpu->s.seg[SEG_CS].attr & SEG_ATTR_DB) != 0;
    int32_t k = bt_tc_find(&b->tc, eip, cs_base, code32);
    if (k == BT_NO_CCF) {
        /* A CCF holding it further in. */
        for (int32_t j = 0; j < b->tc.nccf && k == BT_NO_CCF; j++) {
            const struct bt_ccf *c = &b->tc.ccf[j];
            if (!c->valid || c->cs_base != cs_base || c->code32 != code32) continue;
            for (int i = 0; i < c->ninsn; i++)
                if (c->insn[i].eip == eip) { k = j; break; }
        }
    }
    if (k == BT_NO_CCF) {
        fprintf(out, "disas-tc: no translation of %08x (the guest has not run kernel code there under bt yet)\n", eip);
        return 0;
    }
    const struct bt_ccf *c = &b->tc.ccf[k];
    const uint8_t *tcb = bt_ccf_bytes(&b->tc, c);
    uint32_t base = bt_ccf_lin(&b->tc, c);
    fprintf(out, "CCF %d: guest %08x-%08x (%u bytes, %u instructions) -> TC %08x-%08x (%u bytes); "
                 "entered %llu, chained into %llu\n",
            k, c->eip, c->eip + c->guest_bytes - 1, c->guest_bytes, c->ninsn, base, base + c->tc_len - 1, c->tc_len,
            (unsigned long long)c->entries, (unsigned long long)c->chained_runs);
    for (int i = 0; i < c->ninsn; i++) {
        const struct bt_insn *in = &c->insn[i];
        uint8_t g[16];
        uint32_t pa;
        unsigned n = 0;
        while (n < in->len && read_guest_code(t, cs_base + in->eip + n, &g[n], &pa)) n++;
        char text[96];
        if (n) disas_one(c->code32 ? 32 : 16, in->eip, g, n, text, sizeof text);
        else snprintf(text, sizeof text, "(unreadable now)");
        fprintf(out, "%08x  %-34s %-8s %s\n", in->eip, text, bt_kind_name((enum bt_kind)in->kind),
                in->kind == BT_IDENT ? "" : in->what);
        for (uint32_t o = in->tc_off; o < (uint32_t)in->tc_off + in->tc_len;) {
            unsigned m = disas_one(c->code32 ? 32 : 16, c->code32 ? base + o : base + o - bt_tc16_base(&b->tc), tcb + o, in->tc_off + in->tc_len - o, text, sizeof text);
            const struct bt_callout *co = bt_ccf_callout_at(c, o);
            static const char *const kinds[] = { "emulate on the virtual CPU", "port I/O", "exit", "lookup miss: emulate",
                                                 "host breakpoint" };
            fprintf(out, "          %08x  %-40s%s%s\n", base + o, text, co ? "; callout: " : "", co ? kinds[co->kind] : "");
            o += m;
        }
    }
    for (int x = 0; x < c->nexit; x++) {
        const struct bt_exit *xt = &c->exit[x];
        if (xt->chained != BT_NO_CCF)
            fprintf(out, "exit %d to %08x: chained to CCF %d at %08x (stub at %08x)\n", x, xt->target, xt->chained,
                    bt_ccf_lin(&b->tc, &b->tc.ccf[xt->chained]), base + xt->stub_off);
        else
            fprintf(out, "exit %d to %08x: stub at %08x (int 0x%02x: translate, then chain)\n", x, xt->target,
                    base + xt->stub_off, BT_CALLOUT_VECTOR);
    }
    return 0;
}

int bt_print_topic(struct tae *t, const char *topic, const char *arg, FILE *out)
{
    if (!strcmp(topic, "tc")) { print_tc(t, out); return 0; }
    if (!strcmp(topic, "disas-tc")) return disas_tc(t, arg, out);
    return -ENOENT;
}
