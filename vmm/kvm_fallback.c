/*
 * kvm_fallback.c - run and step of the kvm engine: in KVM (kvm_exit.c), or
 * in the software CPU where the host cannot run the guest (vmm/README.md,
 * "Fallback to the software CPU"), with the no-progress probe; and the
 * engine's reports (-stats, info kvm, the fault report).
 */
#include "vmm/kvm_engine.h"

#include "vmm/engine_emu.h"

const char *const kvm_fb_cause_names[FB_CAUSES] = {
    [FB_UNPAGED_PMODE] = "protected mode without paging",
    [FB_PAGING32] = "32-bit paging",
    [FB_KVM_FAILED] = "KVM could not run an instruction",
    [FB_NO_PROGRESS] = "no progress under KVM",
};

/* ---- fallback to the software CPU (vmm/README.md) ---- */

/* The emu engine on the same machine, made at the first need, with the
   host debugger's breakpoints and watchpoints. */
static bool kvm_fallback_create(struct kvm_engine *k)
{
    struct kvm_fallback *f = &k->fb;
    struct machine *m = k->m;
    if (f->created) return true;

    void (*stop)(void *) = m->request_stop;
    void *stop_opaque = m->request_stop_opaque;
    f->soft.ops = &engine_emu_ops;
    f->soft.machine = m;
    f->soft.options = k->e->options;
    int err = engine_emu_ops.create(&f->soft, m);
    /* The machine's stop requests stay the kvm engine's (it forwards them). */
    m->request_stop = stop;
    m->request_stop_opaque = stop_opaque;
    if (err < 0) {
        snprintf(k->message, sizeof k->message, "kvm: the software CPU for the fallback cannot be made: %s",
                 strerror(-err));
        k->failed = true;
        f->soft.ops = NULL;
        return false;
    }
    for (int i = 0; i < k->dslot_count; i++) {
        const struct kvm_debug_slot *d = &k->dslot[i];
        if (d->kind == 0) f->soft.ops->set_breakpoint(&f->soft, d->addr);
        else f->soft.ops->set_watchpoint(&f->soft, d->addr, d->len, (enum engine_watch_kind)d->kind, false);
    }
    struct engine_counters c;
    f->soft.ops->get_counters(&f->soft, &c);
    f->instructions_base = c.instructions;
    f->created = true;
    return true;
}

/* The one line that tells the user, the first time only. */
static void kvm_fallback_announce(struct kvm_engine *k, const char *what)
{
    if (k->fb.announced) return;
    k->fb.announced = true;
    fprintf(stderr, "trapeze: kvm: this host (%s) %s; the software CPU (emu) stands in while it must "
                    "(-stats shows its share; -kvm-fallback off stops instead)\n",
            kvm_host_name(k->host), what);
}

/* KVM -> the software CPU, with any event KVM had queued but not delivered. */
static bool kvm_fallback_enter(struct kvm_engine *k, enum kvm_fb_cause cause, bool at_breakpoint)
{
    struct kvm_fallback *f = &k->fb;
    struct x86_state s;
    struct kvm_vcpu_events ev;
    bool have_events = false;

    if (!kvm_fallback_create(k)) return false;
    uint64_t t0 = kvm_host_ns();
    kvm_hw_get_state(k, &s);
    if (k->failed) return false;
    if (k->has_events && kvm_ioctl(k->vcpu_fd, KVM_GET_VCPU_EVENTS, &ev) == 0) have_events = true;
    f->soft.ops->set_state(&f->soft, &s);
    engine_emu_memory_changed(&f->soft);   /* KVM wrote RAM behind it */
    if (have_events && ev.exception.injected)
        engine_emu_inject(&f->soft, ev.exception.nr, ev.exception.has_error_code, ev.exception.error_code);
    else if (have_events && ev.interrupt.injected)
        engine_emu_inject(&f->soft, ev.interrupt.nr, false, 0);
    if (at_breakpoint) engine_emu_resume_from_breakpoint(&f->soft);
    k->resume_from_breakpoint = false;
    f->active = true;
    f->cause = cause;
    f->leave_soon = cause == FB_KVM_FAILED || cause == FB_NO_PROGRESS;
    f->entries[cause]++;
    f->transfer_ns += kvm_host_ns() - t0;
    return true;
}

/* The software CPU -> KVM. */
static void kvm_fallback_leave(struct kvm_engine *k, const struct x86_state *s)
{
    uint64_t t0 = kvm_host_ns();
    k->fb.active = false;
    kvm_hw_set_state(k, s);
    k->fb.transfer_ns += kvm_host_ns() - t0;
}

static enum kvm_fb_cause kvm_fb_cause_of(enum kvm_host_limit limit)
{
    return limit == KVM_LIMIT_PAGING32 ? FB_PAGING32 : FB_UNPAGED_PMODE;
}

/* The run ends on a host limit, with fallback off. */
static struct engine_exit kvm_limit_exit(struct kvm_engine *k, enum kvm_host_limit limit)
{
    char where[256];
    kvm_describe_insn(k, where, sizeof where);
    snprintf(k->message, sizeof k->message,
             "kvm: host limit %s: this host (%s) %s, %s; -kvm-fallback on lets the software CPU stand in",
             kvm_limit_id(limit), kvm_host_name(k->host), kvm_limit_text(limit), where);
    return kvm_failed_exit(k);
}

/* The mode limit of the state KVM holds now (only kvm-pvm has any). */
static enum kvm_host_limit kvm_current_limit(struct kvm_engine *k)
{
    struct kvm_sregs sregs;
    struct x86_state s;
    if (k->host != KVM_HOST_PVM) return KVM_LIMIT_NONE;
    if (kvm_ioctl(k->vcpu_fd, KVM_GET_SREGS, &sregs) < 0) return KVM_LIMIT_NONE;
    memset(&s, 0, sizeof s);
    s.cr0 = (uint32_t)sregs.cr0;
    s.cr4 = (uint32_t)sregs.cr4;
    return kvm_host_mode_limit(k->host, &s);
}

/* One slice on the software CPU; then back to KVM if it can run the guest. */
static struct engine_exit kvm_fallback_run(struct kvm_engine *k, uint64_t budget, bool step)
{
    struct kvm_fallback *f = &k->fb;
    uint64_t t0 = kvm_host_ns();
    struct engine_exit x = step ? f->soft.ops->step(&f->soft) : f->soft.ops->run(&f->soft, budget);
    f->ns += kvm_host_ns() - t0;

    /* Leave only between instructions that ran: not on a breakpoint the
       monitor is about to look at (resuming from it is soft's business). */
    if (x.reason != ENGINE_EXIT_BUDGET && x.reason != ENGINE_EXIT_REQUEST &&
        x.reason != ENGINE_EXIT_HALT && x.reason != ENGINE_EXIT_STEP)
        return x;
    struct x86_state s;
    f->soft.ops->get_state(&f->soft, &s);
    enum kvm_host_limit limit = kvm_host_mode_limit(k->host, &s);
    if (limit != KVM_LIMIT_NONE) {
        f->cause = kvm_fb_cause_of(limit);   /* stays, maybe for a new reason */
        f->leave_soon = false;
        return x;
    }
    if (f->cause == FB_UNPAGED_PMODE || f->cause == FB_PAGING32 || f->leave_soon)
        kvm_fallback_leave(k, &s);
    return x;
}

/*
 * KVM single-steps the instruction the samples found the guest sitting
 * at: did it run?  A step whose registers come back unchanged (and not at
 * a jump to itself) did not.
 */
static struct engine_exit kvm_probe(struct kvm_engine *k, enum kvm_stop *stop)
{
    k->stall.probes++;
    struct engine_exit x = kvm_run_loop(k, true, stop);
    if (*stop == KVM_STOP_NONE) {
        /* It progressed, or the guest spins on purpose: sample less often. */
        if (k->stall.needed < KVM_STALL_SAMPLES_MAX) k->stall.needed *= 2;
        if (x.reason == ENGINE_EXIT_STEP) x.reason = ENGINE_EXIT_BUDGET;
    }
    return x;
}

static struct engine_exit kvm_run_common(struct engine *e, uint64_t budget, bool step)
{
    struct kvm_engine *k = kvm_of(e);
    struct kvm_fallback *f = &k->fb;

    if (k->failed) return kvm_failed_exit(k);
    if (f->active) return kvm_fallback_run(k, budget, step);

    enum kvm_host_limit limit = kvm_current_limit(k);
    if (limit != KVM_LIMIT_NONE) {
        if (!f->enabled) return kvm_limit_exit(k, limit);
        char what[512], where[256];
        kvm_describe_insn(k, where, sizeof where);
        snprintf(what, sizeof what, "%s (the guest entered it %s)", kvm_limit_text(limit), where);
        if (!kvm_fallback_enter(k, kvm_fb_cause_of(limit), k->resume_from_breakpoint)) return kvm_failed_exit(k);
        kvm_fallback_announce(k, what);
        return kvm_fallback_run(k, budget, step);
    }

    enum kvm_stop stop;
    bool from_breakpoint = k->resume_from_breakpoint;   /* kvm_run_loop clears it */
    struct engine_exit x = kvm_run_loop(k, step, &stop);
    uint64_t stalled_since = 0;   /* the first identical sample, for lost_ns */
    if (stop == KVM_STOP_SUSPECT) {
        stalled_since = k->stall.since_ns;
        x = kvm_probe(k, &stop);
    }
    switch (stop) {
    case KVM_STOP_NONE:
    case KVM_STOP_SUSPECT:
        return x;
    case KVM_STOP_STALL: {
        k->stall.stalls++;
        if (stalled_since) k->stall.lost_ns += kvm_host_ns() - stalled_since;
        k->stall.same = 0;
        k->stall.valid = false;
        k->stall.needed = KVM_STALL_SAMPLES;
        if (!f->enabled) return kvm_limit_exit(k, KVM_LIMIT_NO_PROGRESS);
        char what[512], where[256];
        kvm_describe_insn(k, where, sizeof where);
        snprintf(what, sizeof what, "%s %s", kvm_limit_text(KVM_LIMIT_NO_PROGRESS), where);
        if (!kvm_fallback_enter(k, FB_NO_PROGRESS, from_breakpoint)) return kvm_failed_exit(k);
        kvm_fallback_announce(k, what);
        return kvm_fallback_run(k, budget, step);
    }
    case KVM_STOP_FAILED: {
        if (!f->enabled) return x;   /* the error line, status 6 */
        char what[sizeof k->message + 32];
        /* "kvm: KVM_EXIT_... at CS:EIP ...; the kvm engine cannot go on" */
        const char *text = x.message ? x.message + 5 : "KVM failed";
        const char *cut = strstr(text, "; the kvm engine cannot go on");
        snprintf(what, sizeof what, "could not run an instruction: %.*s",
                 cut ? (int)(cut - text) : (int)strlen(text), text);
        if (!kvm_fallback_enter(k, FB_KVM_FAILED, from_breakpoint)) return kvm_failed_exit(k);
        kvm_fallback_announce(k, what);
        return kvm_fallback_run(k, budget, step);
    }
    }
    return x;
}

struct engine_exit kvm_run_budget(struct engine *e, uint64_t budget)
{
    /* KVM counts no instructions: its slice is time (10 ms or the next
       deadline); the software CPU, when it stands in, takes the budget. */
    return kvm_run_common(e, budget, false);
}

struct engine_exit kvm_step(struct engine *e)
{
    return kvm_run_common(e, 1, true);
}

/* ---- reports ---- */

void kvm_print_fault_report(struct engine *e, FILE *out)
{
    static const char *const names[SEG_COUNT] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    struct kvm_engine *k = kvm_of(e);
    struct x86_state s;

    if (k->fb.active) {
        /* The software CPU shut down: it knows the chain of faults. */
        k->fb.soft.ops->print_fault_report(&k->fb.soft, out);
        return;
    }
    kvm_hw_get_state(k, &s);
    fprintf(out, "trapeze: triple fault: KVM reported a shutdown (KVM_EXIT_SHUTDOWN); the hardware "
                 "does not tell which faults led to it (run -engine emu for the chain)\n");
    fprintf(out, "  registers at the shutdown:\n");
    fprintf(out, "  EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n",
            s.regs[R_EAX], s.regs[R_EBX], s.regs[R_ECX], s.regs[R_EDX]);
    fprintf(out, "  ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n",
            s.regs[R_ESI], s.regs[R_EDI], s.regs[R_EBP], s.regs[R_ESP]);
    fprintf(out, "  EIP=%08x EFLAGS=%08x CPL=%u\n", s.eip, s.eflags, s.cpl);
    fprintf(out, "  CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n", s.cr0, s.cr2, s.cr3, s.cr4);
    for (int r = 0; r < SEG_COUNT; r++)
        fprintf(out, "  %-4s %04x base %08x limit %08x attr %04x\n", names[r],
                s.seg[r].selector, s.seg[r].base, s.seg[r].limit, s.seg[r].attr);
    fprintf(out, "  GDTR base %08x limit %04x   IDTR base %08x limit %04x\n",
            s.gdtr.base, s.gdtr.limit, s.idtr.base, s.idtr.limit);
}

/* The fallback's share of the guest's time and instructions (-stats, info kvm). */
static void kvm_print_fallback(struct kvm_engine *k, FILE *out)
{
    const struct kvm_fallback *f = &k->fb;
    uint64_t entries = 0;
    for (int c = 0; c < FB_CAUSES; c++) entries += f->entries[c];

    fprintf(out, "  fallback to the software CPU: %s%s\n", f->enabled ? "on" : "off (-kvm-fallback off)",
            f->active ? ", the software CPU holds the guest now" : "");
    if (!f->created) {
        fprintf(out, "    not used: KVM ran every instruction (time in KVM_RUN 100%% of the guest's)\n");
        return;
    }
    struct engine_counters c;
    k->fb.soft.ops->get_counters(&k->fb.soft, &c);
    uint64_t insns = c.instructions - f->instructions_base;
    double guest = (double)k->stats.guest_ns + (double)f->ns;
    fprintf(out, "    entries           %llu\n", (unsigned long long)entries);
    for (int cause = 0; cause < FB_CAUSES; cause++)
        if (f->entries[cause])
            fprintf(out, "      %-34s %llu\n", kvm_fb_cause_names[cause], (unsigned long long)f->entries[cause]);
    fprintf(out, "    instructions      %llu run by the software CPU (KVM counts none of its own)\n",
            (unsigned long long)insns);
    fprintf(out, "    time              %.3f ms in the software CPU, %.3f ms in KVM_RUN, %.3f ms moving the state\n",
            f->ns / 1e6, k->stats.guest_ns / 1e6, f->transfer_ns / 1e6);
    fprintf(out, "    share             %.1f%% of the guest's time in the software CPU, %.1f%% in KVM\n",
            guest > 0 ? 100.0 * (double)f->ns / guest : 0.0,
            guest > 0 ? 100.0 * (double)k->stats.guest_ns / guest : 0.0);
}

void kvm_print_stats(struct engine *e, FILE *out)
{
    struct kvm_engine *k = kvm_of(e);
    char buf[32];
    uint64_t total = 0, total_ns = 0;

    for (int r = 0; r < KVM_EXIT_REASONS; r++) {
        total += k->stats.exits[r];
        total_ns += k->stats.exit_ns[r];
    }
    fprintf(out, "engine kvm\n");
    fprintf(out, "  host              %s: %s\n", kvm_host_name(k->host), kvm_host_description(k->host));
    fprintf(out, "  KVM_RUN calls     %llu\n", (unsigned long long)k->stats.runs);
    fprintf(out, "  time in KVM_RUN   %.3f ms\n", k->stats.guest_ns / 1e6);
    fprintf(out, "  exits             %llu  (handled in %.3f ms in user space)\n",
            (unsigned long long)total, total_ns / 1e6);
    for (int r = 0; r < KVM_EXIT_REASONS; r++) {
        if (!k->stats.exits[r]) continue;
        fprintf(out, "    %-24s %llu  %.3f ms, %.3f us each\n", kvm_exit_name((uint32_t)r, buf, sizeof buf),
                (unsigned long long)k->stats.exits[r], k->stats.exit_ns[r] / 1e6,
                k->stats.exit_ns[r] / 1e3 / (double)k->stats.exits[r]);
    }
    fprintf(out, "  port accesses     %llu\n", (unsigned long long)k->stats.io_items);
    fprintf(out, "  signal kicks      %llu  (slice timer, Ctrl-C)\n", (unsigned long long)k->stats.kicks);
    fprintf(out, "  interrupts injected %llu\n", (unsigned long long)k->stats.injected);
    fprintf(out, "  interrupt windows requested %llu\n", (unsigned long long)k->stats.window_requests);
    fprintf(out, "  no-progress probes %llu  (%llu stalls, %llu guest spins; %.3f ms lost before the stalls were seen)\n",
            (unsigned long long)k->stall.probes, (unsigned long long)k->stall.stalls,
            (unsigned long long)k->stall.spins, k->stall.lost_ns / 1e6);
    kvm_print_fallback(k, out);
}

/* The monitor's `info kvm` / `info engine`. */
void kvm_print_info(struct engine *e, FILE *out)
{
    struct kvm_engine *k = kvm_of(e);
    fprintf(out, "engine kvm: the guest runs on the host CPU through /dev/kvm\n");
    fprintf(out, "  host              %s: %s\n", kvm_host_name(k->host), kvm_host_description(k->host));
    fprintf(out, "  capabilities      readonly-mem %s, guest-debug %s, debugregs %s, vcpu-events %s\n",
            k->has_readonly_mem ? "yes" : "no", k->has_debug ? "yes" : "no",
            k->has_debugregs ? "yes" : "no", k->has_events ? "yes" : "no");
    fprintf(out, "  now               %s\n", k->fb.active ? kvm_fb_cause_names[k->fb.cause] : "in KVM");
    if (k->fb.active)
        fprintf(out, "                    (the software CPU holds the guest)\n");
    kvm_print_fallback(k, out);
}
