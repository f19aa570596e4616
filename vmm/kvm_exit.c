/*
 * kvm_exit.c - the kvm engine's exit loop: KVM_RUN, and each exit it
 * returns served with the board's own devices (engine_kvm.c has the
 * overview).  Also the error line for an exit trapeze cannot serve: the
 * exit's name, CS:EIP and the instruction there.
 */
#include "vmm/kvm_engine.h"

#include <unistd.h>

/* ---- the error message: exit name, CS:EIP, the instruction ---- */

/* vmm/kvm_disasm.c: "mnemonic operands" of one instruction; its length or 0. */
int kvm_disasm_one(const uint8_t *bytes, size_t len, uint64_t addr, bool code32, char *out, size_t outlen);

void kvm_describe_insn(struct kvm_engine *k, char *out, size_t len)
{
    struct kvm_regs regs;
    struct kvm_sregs sregs;

    if (kvm_ioctl(k->vcpu_fd, KVM_GET_REGS, &regs) < 0 || kvm_ioctl(k->vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
        snprintf(out, len, "(the registers cannot be read)");
        return;
    }
    uint32_t eip = (uint32_t)regs.rip;
    uint32_t lin = (uint32_t)sregs.cs.base + eip;
    bool code32 = (sregs.cr0 & CR0_PE) && !(regs.rflags & EFLAGS_VM) && sregs.cs.db;
    uint8_t bytes[15];
    int n = snprintf(out, len, "at CS:EIP %04x:%08x (linear %08x, %d-bit code)",
                     sregs.cs.selector, eip, lin, code32 ? 32 : 16);
    if (n < 0 || (size_t)n >= len) return;
    if (!kvm_access_linear(k, lin, bytes, sizeof bytes, false)) {
        snprintf(out + n, len - (size_t)n, "; its page is not mapped");
        return;
    }
    char text[96];
    int size = kvm_disasm_one(bytes, sizeof bytes, lin, code32, text, sizeof text);
    int shown = size ? size : 8;
    n += snprintf(out + n, len - (size_t)n, ":");
    for (int i = 0; i < shown && (size_t)n < len; i++)
        n += snprintf(out + n, len - (size_t)n, " %02x", bytes[i]);
    if ((size_t)n < len)
        snprintf(out + n, len - (size_t)n, "  %s", size ? text : "(not a valid instruction)");
}

static const char *kvm_internal_suberror(uint32_t s)
{
    switch (s) {
    case KVM_INTERNAL_ERROR_EMULATION: return "emulation failure: KVM's instruction emulator could not run it";
    case KVM_INTERNAL_ERROR_SIMUL_EX: return "an exception while delivering an exception";
    case KVM_INTERNAL_ERROR_DELIVERY_EV: return "a VM exit while delivering an event";
    case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON: return "a hardware exit reason KVM does not know";
    default: return "undocumented suberror";
    }
}

/* The run ends on k->message: the host failed, not the guest (status 6). */
struct engine_exit kvm_failed_exit(struct kvm_engine *k)
{
    return (struct engine_exit){ .reason = ENGINE_EXIT_ERROR, .message = k->message, .host_failure = true };
}

static struct engine_exit kvm_error_exit(struct kvm_engine *k)
{
    struct kvm_run *run = k->run;
    char name[32], where[256], detail[320] = "", text[96];

    const char *exit_name = kvm_exit_name(run->exit_reason, name, sizeof name);
    if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
        /* internal.ndata words of internal.data[] (at most 16) follow the
           suberror (api.rst, "KVM_EXIT_INTERNAL_ERROR"): for DELIVERY_EV,
           the IDT-vectoring information, the exit reason, ... */
        int n = snprintf(detail, sizeof detail, " (suberror %u: %s", run->internal.suberror,
                         kvm_internal_suberror(run->internal.suberror));
        uint32_t ndata = run->internal.ndata < 16 ? run->internal.ndata : 16;
        for (uint32_t i = 0; i < ndata && n > 0 && (size_t)n < sizeof detail; i++)
            n += snprintf(detail + n, sizeof detail - (size_t)n, "%s0x%llx", i ? " " : "; data ",
                          (unsigned long long)run->internal.data[i]);
        if (n > 0 && (size_t)n < sizeof detail)
            snprintf(detail + n, sizeof detail - (size_t)n, ")");
    } else if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
        snprintf(detail, sizeof detail, " (hardware entry failure reason 0x%llx, %s)",
                 (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
                 kvm_fail_entry_text(run->fail_entry.hardware_entry_failure_reason, text, sizeof text));
    else if (run->exit_reason == KVM_EXIT_EXCEPTION)
        snprintf(detail, sizeof detail, " (exception %u, error code 0x%x)", run->ex.exception, run->ex.error_code);
    kvm_describe_insn(k, where, sizeof where);
    snprintf(k->message, sizeof k->message, "kvm: %s%s %s; the kvm engine cannot go on",
             exit_name, detail, where);
    return kvm_failed_exit(k);
}

/* ---- the exit loop ---- */

static void kvm_do_io(struct kvm_engine *k)
{
    struct kvm_run *run = k->run;
    struct bus *bus = &k->m->bus;
    uint8_t *p = (uint8_t *)run + run->io.data_offset;
    unsigned size = run->io.size;

    for (uint32_t i = 0; i < run->io.count; i++, p += size) {
        uint32_t v = 0;
        if (run->io.direction == KVM_EXIT_IO_OUT) {
            memcpy(&v, p, size);                     /* little-endian host */
            bus_port_write(bus, run->io.port, v, size);
        } else {
            v = bus_port_read(bus, run->io.port, size);
            memcpy(p, &v, size);
        }
        k->stats.io_items++;
    }
}

static void kvm_do_mmio(struct kvm_engine *k)
{
    struct kvm_run *run = k->run;
    struct bus *bus = &k->m->bus;
    uint32_t addr = (uint32_t)run->mmio.phys_addr;
    uint32_t len = run->mmio.len > 8 ? 8 : run->mmio.len;

    /* Split into naturally sized pieces the device interface takes (1, 2, 4). */
    for (uint32_t off = 0; off < len;) {
        unsigned size = len - off >= 4 ? 4 : len - off >= 2 ? 2 : 1;
        uint32_t v = 0;
        if (run->mmio.is_write) {
            memcpy(&v, run->mmio.data + off, size);
            bus_write(bus, addr + off, v, size);
        } else {
            v = bus_read(bus, addr + off, size);
            memcpy(run->mmio.data + off, &v, size);
        }
        off += size;
    }
}

static bool kvm_irq_pending(struct kvm_engine *k)
{
    const struct cpu_irq_source *src = &k->m->irq_source;
    return src && src->pending && src->pending(src->opaque);
}

/*
 * Before each entry: an interrupt the PIC asserts goes in with
 * KVM_INTERRUPT when KVM says the guest can take one now; otherwise KVM is
 * asked to exit as soon as it can (api.rst, "request_interrupt_window").
 */
static int kvm_prepare_interrupts(struct kvm_engine *k)
{
    struct kvm_run *run = k->run;
    const struct cpu_irq_source *src = &k->m->irq_source;

    run->request_interrupt_window = 0;
    if (!kvm_irq_pending(k))
        return 0;
    if (run->ready_for_interrupt_injection && run->if_flag) {
        struct kvm_interrupt irq = { .irq = (uint32_t)src->acknowledge(src->opaque) & 0xFF };
        int err = kvm_ioctl(k->vcpu_fd, KVM_INTERRUPT, &irq);
        if (err < 0) return err;
        k->stats.injected++;
        k->stats.vectors[irq.irq]++;
        k->halted = false;
    } else {
        run->request_interrupt_window = 1;
        k->stats.window_requests++;
    }
    return 0;
}

/* EFLAGS.IF as the guest has it now (kvm_run's if_flag is only as fresh
   as the last exit; set_state may have changed it since). */
static bool kvm_guest_if(struct kvm_engine *k)
{
    struct kvm_regs regs;
    return kvm_ioctl(k->vcpu_fd, KVM_GET_REGS, &regs) == 0 && (regs.rflags & EFLAGS_IF);
}

static void kvm_arm_timer(struct kvm_engine *k, uint64_t ns)
{
    struct itimerspec it = {
        .it_value = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) },
        /* Periodic: a kick that lands just before KVM_RUN is repeated. */
        .it_interval = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) },
    };
    k->timer_armed_ok = timer_settime(k->timer, 0, &it, NULL) == 0;
}

static void kvm_disarm_timer(struct kvm_engine *k)
{
    struct itimerspec it = { 0 };
    timer_settime(k->timer, 0, &it, NULL);
}

/*
 * Finish the instruction behind the last KVM_EXIT_IO / KVM_EXIT_MMIO: KVM
 * writes an IN's or MMIO read's data to the register and moves RIP past
 * the instruction only when KVM_RUN is entered again, so until then
 * KVM_GET_REGS shows the instruction not yet done, and a state saved or
 * moved to another engine would run it twice (api.rst, "struct kvm_run",
 * the NOTE under KVM_EXIT_MMIO: re-enter "with the immediate_exit field
 * set to complete pending operations without allowing any further
 * instructions to be executed").  KVM_RUN with immediate_exit then
 * returns EINTR; finishing may itself exit again (the next piece of a
 * string I/O or a split MMIO access, or KVM_EXIT_DEBUG when single
 * stepping), served here until the EINTR comes.
 */
int kvm_complete_io(struct kvm_engine *k)
{
    struct kvm_run *run = k->run;

    for (int tries = 0; k->io_pending && tries < 4096; tries++) {
        run->immediate_exit = 1;
        int r = ioctl(k->vcpu_fd, KVM_RUN, 0);
        int run_errno = errno;
        run->immediate_exit = 0;
        k->stats.runs++;
        if (r < 0) {
            if (run_errno == EINTR || run_errno == EAGAIN) { k->io_pending = false; return 0; }
            return -run_errno;
        }
        if (run->exit_reason == KVM_EXIT_IO) kvm_do_io(k);
        else if (run->exit_reason == KVM_EXIT_MMIO) kvm_do_mmio(k);
        else k->io_pending = false;   /* done, and stopped on something else (a step trap) */
    }
    return k->io_pending ? -EIO : 0;
}

/* The registers equal, but for RF and TF (the debugger's and KVM's to set). */
static bool kvm_regs_same(const struct kvm_regs *a, const struct kvm_regs *b)
{
    const uint64_t mask = ~(uint64_t)(EFLAGS_RF | EFLAGS_TF);
    return a->rax == b->rax && a->rbx == b->rbx && a->rcx == b->rcx && a->rdx == b->rdx &&
           a->rsi == b->rsi && a->rdi == b->rdi && a->rsp == b->rsp && a->rbp == b->rbp &&
           a->rip == b->rip && (a->rflags & mask) == (b->rflags & mask);
}

/*
 * Is the instruction at CS:EIP a jump to itself (jmp $: EB FE, or E9 with
 * a displacement of minus its own length)?  Then a state that does not
 * change is the guest's own choice, not the host's limit.
 */
static bool kvm_at_self_jump(struct kvm_engine *k, const struct kvm_regs *regs)
{
    struct kvm_sregs sregs;
    uint8_t b[5];
    if (kvm_ioctl(k->vcpu_fd, KVM_GET_SREGS, &sregs) < 0) return false;
    uint32_t lin = (uint32_t)sregs.cs.base + (uint32_t)regs->rip;
    bool code32 = (sregs.cr0 & CR0_PE) && !(regs->rflags & EFLAGS_VM) && sregs.cs.db;
    if (!kvm_access_linear(k, lin, b, sizeof b, false)) return false;
    if (b[0] == 0xEB && b[1] == 0xFE) return true;
    if (b[0] != 0xE9) return false;
    if (code32) return b[1] == 0xFB && b[2] == 0xFF && b[3] == 0xFF && b[4] == 0xFF;
    return b[1] == 0xFD && b[2] == 0xFF;
}

/*
 * Run until something for the caller.  'step': one instruction under
 * KVM_GUESTDBG_SINGLESTEP, serving the I/O it does on the way.  *stop
 * says what else ended it: identical register samples (SUSPECT), a step
 * that left the state as it was (STALL), KVM failing at an instruction
 * (FAILED, with the error exit in the return value).
 */
struct engine_exit kvm_run_loop(struct kvm_engine *k, bool step, enum kvm_stop *stop)
{
    struct kvm_run *run = k->run;
    struct machine *m = k->m;
    struct engine_exit x = { .reason = ENGINE_EXIT_BUDGET };
    struct kvm_regs before;
    bool exited = false;            /* an exit to user space in this call */
    int step_kicks = 0;
    int err;

    *stop = KVM_STOP_NONE;
    if (k->failed)
        return kvm_failed_exit(k);
    if (k->halted && !(kvm_irq_pending(k) && kvm_guest_if(k)))
        return (struct engine_exit){ .reason = ENGINE_EXIT_HALT };

    if (k->resume_from_breakpoint) {
        /* RF = 1: the instruction breakpoint at EIP does not fire again
           for this one instruction (SDM Vol. 3B 17.3.1.1). */
        struct kvm_regs regs;
        if ((err = kvm_ioctl(k->vcpu_fd, KVM_GET_REGS, &regs)) == 0) {
            regs.rflags |= EFLAGS_RF;
            err = kvm_ioctl(k->vcpu_fd, KVM_SET_REGS, &regs);
        }
        if (err < 0) { kvm_fail(k, "KVM_SET_REGS (RF)", err); goto failed; }
        k->resume_from_breakpoint = false;
    }
    if (step && (err = kvm_update_guest_debug(k, true)) < 0) {
        snprintf(k->message, sizeof k->message, "kvm: single step needs KVM_SET_GUEST_DEBUG: %s", strerror(-err));
        return kvm_failed_exit(k);
    }
    if (step && (err = kvm_ioctl(k->vcpu_fd, KVM_GET_REGS, &before)) < 0) {
        kvm_fail(k, "KVM_GET_REGS", err);
        goto failed_timer;
    }

    uint64_t slice = KVM_SLICE_NS;
    uint64_t now = vclock_now(&m->clock), next = vclock_next_deadline(&m->clock);
    if (next != UINT64_MAX) slice = next > now ? next - now : 0;
    if (slice > KVM_SLICE_NS) slice = KVM_SLICE_NS;
    if (slice < KVM_SLICE_MIN_NS) slice = KVM_SLICE_MIN_NS;
    uint64_t end = kvm_host_ns() + slice;
    kvm_arm_timer(k, slice);

    for (;;) {
        if (k->exit_request) {
            k->exit_request = 0;
            x.reason = ENGINE_EXIT_REQUEST;
            break;
        }
        if ((err = kvm_prepare_interrupts(k)) < 0) { kvm_fail(k, "KVM_INTERRUPT", err); goto failed_timer; }

        uint64_t t0 = kvm_host_ns();
        int r = ioctl(k->vcpu_fd, KVM_RUN, 0);
        int run_errno = errno;
        uint64_t t1 = kvm_host_ns();
        k->stats.runs++;
        k->stats.guest_ns += t1 - t0;
        k->io_pending = false;
        if (r < 0) {
            if (run_errno == EINTR || run_errno == EAGAIN) {
                k->stats.kicks++;
                run->immediate_exit = 0;
                if (k->exit_request) continue;        /* REQUEST at the top */
                if (step) {
                    /* A single step that a timer kick finds still not done,
                       again and again, with no exit: the host is stuck. */
                    if (!exited && ++step_kicks >= KVM_STEP_STUCK_KICKS) {
                        *stop = KVM_STOP_STALL;
                        break;
                    }
                    continue;
                }
                if (kvm_host_ns() < end) continue;
                /* BUDGET; first the no-progress sample (KVM_STALL_SAMPLES). */
                struct kvm_regs regs;
                if (exited || kvm_ioctl(k->vcpu_fd, KVM_GET_REGS, &regs) < 0) {
                    k->stall.valid = false;
                    k->stall.same = 0;
                } else {
                    if (k->stall.valid && kvm_regs_same(&regs, &k->stall.last)) {
                        if (k->stall.same++ == 0) k->stall.since_ns = t0;
                    } else {
                        k->stall.same = 0;
                    }
                    k->stall.last = regs;
                    k->stall.valid = true;
                    if (k->stall.same >= k->stall.needed) *stop = KVM_STOP_SUSPECT;
                }
                break;
            }
            kvm_fail(k, "KVM_RUN", -run_errno);
            goto failed_timer;
        }

        uint32_t reason = run->exit_reason;
        bool done = false;
        exited = true;
        k->stall.valid = false;
        k->stall.same = 0;
        switch (reason) {
        case KVM_EXIT_IO:
            kvm_do_io(k);
            k->io_pending = true;
            break;
        case KVM_EXIT_MMIO:
            kvm_do_mmio(k);
            k->io_pending = true;
            break;
        case KVM_EXIT_IRQ_WINDOW_OPEN:
        case KVM_EXIT_INTR:
            break;                                     /* inject at the top */
        case KVM_EXIT_HLT:
            k->halted = true;
            if (!(kvm_irq_pending(k) && run->if_flag)) {
                x.reason = ENGINE_EXIT_HALT;
                done = true;
            }
            break;
        case KVM_EXIT_SHUTDOWN:
            x.reason = ENGINE_EXIT_SHUTDOWN;
            done = true;
            break;
        case KVM_EXIT_DEBUG: {
            uint64_t dr6 = run->debug.arch.dr6;
            int hit = -1;
            for (int i = 0; i < k->dslot_count; i++)
                if (dr6 & (1u << i)) { hit = i; break; }
            if (hit >= 0 && k->dslot[hit].kind != 0) {
                x.reason = ENGINE_EXIT_WATCHPOINT;      /* trap: the access is done */
                x.address = k->dslot[hit].addr;
                x.watch_kind = (enum engine_watch_kind)k->dslot[hit].kind;
            } else if (hit >= 0) {
                x.reason = ENGINE_EXIT_BREAKPOINT;      /* fault: not yet executed */
                x.address = k->dslot[hit].addr;
                k->resume_from_breakpoint = true;
            } else {
                x.reason = step ? ENGINE_EXIT_STEP : ENGINE_EXIT_BREAKPOINT;
                x.address = (uint32_t)run->debug.arch.pc;
            }
            /* A step that changed nothing, where the instruction is not a
               jump to itself: KVM did not run it (kvm-pvm at a real-mode
               LGDT reports the step done, or the breakpoint there again). */
            struct kvm_regs after;
            if (step && kvm_ioctl(k->vcpu_fd, KVM_GET_REGS, &after) == 0 &&
                kvm_regs_same(&before, &after) && !k->halted) {
                if (kvm_at_self_jump(k, &after)) k->stall.spins++;
                else *stop = KVM_STOP_STALL;
            }
            done = true;
            break;
        }
        case KVM_EXIT_INTERNAL_ERROR:
        case KVM_EXIT_FAIL_ENTRY:
            /* KVM could not run the instruction at EIP, or refused the
               state: the fallback can take the guest from here. */
            kvm_disarm_timer(k);
            k->stats.exits[reason]++;
            if (step) kvm_update_guest_debug(k, false);
            *stop = KVM_STOP_FAILED;
            return kvm_error_exit(k);
        default:
            kvm_disarm_timer(k);
            k->stats.exits[reason < KVM_EXIT_REASONS ? reason : 0]++;
            if (step) kvm_update_guest_debug(k, false);
            return kvm_error_exit(k);
        }
        uint64_t t2 = kvm_host_ns();
        if (reason < KVM_EXIT_REASONS) {
            k->stats.exits[reason]++;
            k->stats.exit_ns[reason] += t2 - t1;
        }
        if (k->failed) goto failed_timer;
        if (done) break;
        if (m->stop_reason != MACHINE_RUNNING) { x.reason = ENGINE_EXIT_REQUEST; break; }
        if (!step && t2 >= end) break;                 /* BUDGET: timers are due */
    }
    if ((err = kvm_complete_io(k)) < 0) {
        kvm_fail(k, "KVM_RUN (finishing an I/O instruction)", err);
        goto failed_timer;
    }
    kvm_disarm_timer(k);
    if (step && (err = kvm_update_guest_debug(k, false)) < 0) {
        kvm_fail(k, "KVM_SET_GUEST_DEBUG", err);
        goto failed;
    }
    return x;

failed_timer:
    kvm_disarm_timer(k);
    if (step) kvm_update_guest_debug(k, false);
failed:
    return kvm_failed_exit(k);
}
