/*
 * kvm_vcpu.c - the kvm engine's vCPU as the engine interface sees it:
 * struct x86_state to and from KVM (through kvm_state.c), the RESET
 * state, the host debugger's breakpoints and watchpoints in DR0-DR3
 * (KVM_SET_GUEST_DEBUG), and the event counters.
 */
#include "vmm/kvm_engine.h"

#include "vmm/engine_emu.h"

/* ---- state ---- */

static int kvm_get_tsc(struct kvm_engine *k, uint64_t *tsc)
{
    struct { struct kvm_msrs h; struct kvm_msr_entry e; } msrs = { .h.nmsrs = 1 };
    msrs.e.index = KVM_MSR_IA32_TSC;
    int r = kvm_ioctl(k->vcpu_fd, KVM_GET_MSRS, &msrs);
    if (r < 0) return r;
    if (r != 1) return -EIO;
    *tsc = msrs.e.data;
    return 0;
}

static int kvm_set_tsc(struct kvm_engine *k, uint64_t tsc)
{
    struct { struct kvm_msrs h; struct kvm_msr_entry e; } msrs = { .h.nmsrs = 1 };
    msrs.e.index = KVM_MSR_IA32_TSC;
    msrs.e.data = tsc;
    int r = kvm_ioctl(k->vcpu_fd, KVM_SET_MSRS, &msrs);
    return r < 0 ? r : r == 1 ? 0 : -EIO;
}

/* The state as KVM holds it (kvm_get_state below also knows the fallback). */
void kvm_hw_get_state(struct kvm_engine *k, struct x86_state *s)
{
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    int err;

    memset(s, 0, sizeof *s);
    if ((err = kvm_ioctl(k->vcpu_fd, KVM_GET_REGS, &regs)) < 0) { kvm_fail(k, "KVM_GET_REGS", err); return; }
    if ((err = kvm_ioctl(k->vcpu_fd, KVM_GET_SREGS, &sregs)) < 0) { kvm_fail(k, "KVM_GET_SREGS", err); return; }
    kvm_state_from_regs(s, &regs);
    kvm_state_from_sregs(s, &sregs);
    if (k->has_debugregs) {
        struct kvm_debugregs dr;
        if ((err = kvm_ioctl(k->vcpu_fd, KVM_GET_DEBUGREGS, &dr)) < 0) { kvm_fail(k, "KVM_GET_DEBUGREGS", err); return; }
        kvm_state_from_debugregs(s, &dr);
    }
    if (k->has_events) {
        struct kvm_vcpu_events ev;
        if ((err = kvm_ioctl(k->vcpu_fd, KVM_GET_VCPU_EVENTS, &ev)) < 0) { kvm_fail(k, "KVM_GET_VCPU_EVENTS", err); return; }
        kvm_state_from_events(s, &ev);
    }
    if ((err = kvm_get_tsc(k, &s->tsc)) < 0) { kvm_fail(k, "KVM_GET_MSRS (TSC)", err); return; }
    s->halted = k->halted;
    s->a20_enabled = bus_a20_enabled(&k->m->bus);
}

void kvm_hw_set_state(struct kvm_engine *k, const struct x86_state *s)
{
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    int err;

    /* SREGS first: KVM checks RFLAGS.VM against the mode the segments set. */
    if ((err = kvm_ioctl(k->vcpu_fd, KVM_GET_SREGS, &sregs)) < 0) { kvm_fail(k, "KVM_GET_SREGS", err); return; }
    kvm_state_to_sregs(s, &sregs);
    sregs.efer = 0;                       /* an i386: no long mode, no NX */
    memset(sregs.interrupt_bitmap, 0, sizeof sregs.interrupt_bitmap);
    if ((err = kvm_ioctl(k->vcpu_fd, KVM_SET_SREGS, &sregs)) < 0) { kvm_fail(k, "KVM_SET_SREGS", err); return; }
    kvm_state_to_regs(s, &regs);
    if ((err = kvm_ioctl(k->vcpu_fd, KVM_SET_REGS, &regs)) < 0) { kvm_fail(k, "KVM_SET_REGS", err); return; }
    if (k->has_debugregs) {
        struct kvm_debugregs dr;
        kvm_state_to_debugregs(s, &dr);
        if ((err = kvm_ioctl(k->vcpu_fd, KVM_SET_DEBUGREGS, &dr)) < 0) { kvm_fail(k, "KVM_SET_DEBUGREGS", err); return; }
    }
    if (k->has_events) {
        struct kvm_vcpu_events ev;
        if ((err = kvm_ioctl(k->vcpu_fd, KVM_GET_VCPU_EVENTS, &ev)) < 0) { kvm_fail(k, "KVM_GET_VCPU_EVENTS", err); return; }
        ev.flags = 0;
        kvm_state_to_events(s, &ev);
        /* A state says all there is: no event KVM queued earlier (an
           interrupt injected but not yet delivered) survives it. */
        ev.exception.injected = 0;
        ev.exception.pending = 0;
        ev.interrupt.injected = 0;
        ev.nmi.injected = 0;
        ev.nmi.pending = 0;
        ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING;
        if ((err = kvm_ioctl(k->vcpu_fd, KVM_SET_VCPU_EVENTS, &ev)) < 0) { kvm_fail(k, "KVM_SET_VCPU_EVENTS", err); return; }
    }
    if ((err = kvm_set_tsc(k, s->tsc)) < 0) { kvm_fail(k, "KVM_SET_MSRS (TSC)", err); return; }
    k->halted = s->halted;
    k->resume_from_breakpoint = false;
    k->stall.valid = false;
    k->stall.same = 0;
    k->run->ready_for_interrupt_injection = 0;   /* stale: ask KVM again */
    if (bus_a20_enabled(&k->m->bus) != s->a20_enabled)
        bus_set_a20(&k->m->bus, s->a20_enabled);   /* remaps through map_changed */
}

void kvm_reset(struct engine *e)
{
    struct kvm_engine *k = kvm_of(e);
    struct x86_state s;

    kvm_state_reset(&s, k->signature);
    s.a20_enabled = bus_a20_enabled(&k->m->bus);
    if (!k->m->boot_from_reset)
        s = k->m->boot_state;
    kvm_hw_set_state(k, &s);
    k->halted = false;
    k->fb.active = false;         /* the state is KVM's again */
    k->stall.needed = KVM_STALL_SAMPLES;
    if (k->has_events && !k->failed) {
        /* No event pending or being delivered after RESET (kvm_state.h). */
        struct kvm_vcpu_events ev;
        int err;
        kvm_events_reset(&ev);
        if ((err = kvm_ioctl(k->vcpu_fd, KVM_SET_VCPU_EVENTS, &ev)) < 0)
            kvm_fail(k, "KVM_SET_VCPU_EVENTS (RESET)", err);
    }
}

void kvm_get_state(struct engine *e, struct x86_state *s)
{
    struct kvm_engine *k = kvm_of(e);
    if (k->fb.active) k->fb.soft.ops->get_state(&k->fb.soft, s);
    else kvm_hw_get_state(k, s);
}

void kvm_set_state(struct engine *e, const struct x86_state *s)
{
    struct kvm_engine *k = kvm_of(e);
    /* A state KVM can run goes to KVM (savevm, the monitor's set);
       one it cannot stays with, or goes to, the software CPU at the next run. */
    if (k->fb.active && kvm_host_mode_limit(k->host, s) != KVM_LIMIT_NONE) {
        k->fb.soft.ops->set_state(&k->fb.soft, s);
        engine_emu_memory_changed(&k->fb.soft);   /* loadvm wrote RAM */
    } else {
        k->fb.active = false;
        kvm_hw_set_state(k, s);
    }
}

/* Async-signal safe: a flag, and KVM_RUN returns at once if about to enter. */

void kvm_machine_request_stop(void *opaque)
{
    struct kvm_engine *k = opaque;
    k->exit_request = 1;
    if (k->has_immediate_exit) k->run->immediate_exit = 1;
    /* The software CPU, when it runs the guest, stops at its next boundary. */
    if (k->fb.created) k->fb.soft.ops->request_exit(&k->fb.soft);
}

void kvm_request_exit(struct engine *e)
{
    kvm_machine_request_stop(kvm_of(e));
}

/* ---- guest debug ---- */

/*
 * Load KVM's guest-debug setting: DR0-DR3 from the host debugger's slots,
 * plus single step when asked.  DR7 (SDM Vol. 3B 17.2.4): Ln (bit 2n)
 * enables slot n; R/Wn (bits 16+4n) 00 = instruction execution, 01 = data
 * writes, 11 = data reads and writes; LENn (bits 18+4n) 00 = 1 byte,
 * 01 = 2, 11 = 4 (the address aligned to it, 17.2.5).
 */
int kvm_update_guest_debug(struct kvm_engine *k, bool step)
{
    struct kvm_guest_debug dbg;
    memset(&dbg, 0, sizeof dbg);
    if (step || k->dslot_count) {
        dbg.control = KVM_GUESTDBG_ENABLE;
        if (step) dbg.control |= KVM_GUESTDBG_SINGLESTEP;
        if (k->dslot_count) {
            dbg.control |= KVM_GUESTDBG_USE_HW_BP;
            uint64_t dr7 = DR7_FIXED1;
            for (int i = 0; i < k->dslot_count; i++) {
                const struct kvm_debug_slot *d = &k->dslot[i];
                uint64_t rw = d->kind == 0 ? 0 : d->kind == ENGINE_WATCH_WRITE ? 1 : 3;
                uint64_t len = d->len == 1 ? 0 : d->len == 2 ? 1 : 3;
                dbg.arch.debugreg[i] = d->addr;
                dr7 |= 1ull << (2 * i);
                dr7 |= rw << (16 + 4 * i) | len << (18 + 4 * i);
            }
            dbg.arch.debugreg[7] = dr7;
        }
    }
    if (!k->has_debug)
        return dbg.control ? -ENOTSUP : 0;
    return kvm_ioctl(k->vcpu_fd, KVM_SET_GUEST_DEBUG, &dbg);
}

static int kvm_find_dslot(struct kvm_engine *k, uint32_t addr, uint32_t len, int kind)
{
    for (int i = 0; i < k->dslot_count; i++)
        if (k->dslot[i].addr == addr && k->dslot[i].len == len && k->dslot[i].kind == kind)
            return i;
    return -1;
}

static int kvm_add_dslot(struct kvm_engine *k, uint32_t addr, uint32_t len, int kind)
{
    if (kvm_find_dslot(k, addr, len, kind) >= 0) return 0;
    if (k->dslot_count >= KVM_MAX_HW_BREAKPOINTS)
        return -ENOSPC;   /* four debug registers (vmm/README.md) */
    k->dslot[k->dslot_count++] = (struct kvm_debug_slot){ addr, len, kind };
    int err = kvm_update_guest_debug(k, false);
    if (err < 0) k->dslot_count--;
    return err;
}

static int kvm_remove_dslot(struct kvm_engine *k, uint32_t addr, uint32_t len, int kind)
{
    int i = kvm_find_dslot(k, addr, len, kind);
    if (i < 0) return -ENOENT;
    k->dslot[i] = k->dslot[--k->dslot_count];
    return kvm_update_guest_debug(k, false);
}

/* The debug registers decide what can be set; the fallback's CPU gets a
   copy, so a breakpoint fires whichever of the two runs the guest. */
int kvm_set_breakpoint(struct engine *e, uint32_t lin)
{
    struct kvm_engine *k = kvm_of(e);
    int err = kvm_add_dslot(k, lin, 1, 0);
    if (err == 0 && k->fb.created) k->fb.soft.ops->set_breakpoint(&k->fb.soft, lin);
    return err;
}

int kvm_clear_breakpoint(struct engine *e, uint32_t lin)
{
    struct kvm_engine *k = kvm_of(e);
    int err = kvm_remove_dslot(k, lin, 1, 0);
    if (err == 0 && k->fb.created) k->fb.soft.ops->clear_breakpoint(&k->fb.soft, lin);
    return err;
}

/*
 * Watchpoints in the debug registers: linear addresses only, 1, 2 or 4
 * bytes aligned to their size, writes or all accesses - x86 has no
 * read-only data breakpoint (R/W = 10 is I/O), so "read" is refused.
 */
static int kvm_check_watch(uint32_t addr, uint32_t len, enum engine_watch_kind kind, bool physical)
{
    if (physical || kind == ENGINE_WATCH_READ) return -EINVAL;
    if ((len != 1 && len != 2 && len != 4) || (addr & (len - 1))) return -EINVAL;
    return 0;
}

int kvm_set_watchpoint(struct engine *e, uint32_t addr, uint32_t len,
                              enum engine_watch_kind kind, bool physical)
{
    struct kvm_engine *k = kvm_of(e);
    int err = kvm_check_watch(addr, len, kind, physical);
    if (err == 0) err = kvm_add_dslot(k, addr, len, (int)kind);
    if (err == 0 && k->fb.created) k->fb.soft.ops->set_watchpoint(&k->fb.soft, addr, len, kind, false);
    return err;
}

int kvm_clear_watchpoint(struct engine *e, uint32_t addr, uint32_t len,
                                enum engine_watch_kind kind, bool physical)
{
    struct kvm_engine *k = kvm_of(e);
    int err = kvm_check_watch(addr, len, kind, physical);
    if (err == 0) err = kvm_remove_dslot(k, addr, len, (int)kind);
    if (err == 0 && k->fb.created) k->fb.soft.ops->clear_watchpoint(&k->fb.soft, addr, len, kind, false);
    return err;
}

void kvm_get_counters(struct engine *e, struct engine_counters *c)
{
    struct kvm_engine *k = kvm_of(e);
    /* KVM counts no instructions, exceptions or TLB events: those are the
       fallback's alone; interrupts are the ones trapeze injected plus
       those the fallback delivered. */
    memset(c, 0, sizeof *c);
    if (k->fb.created) {
        k->fb.soft.ops->get_counters(&k->fb.soft, c);
        c->instructions -= k->fb.instructions_base;
    }
    for (int v = 0; v < 256; v++)
        c->interrupts[v] += k->stats.vectors[v];
}
