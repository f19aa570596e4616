/*
 * engine_kvm.c - the kvm engine: the guest runs on the host CPU through
 * /dev/kvm (Intel VT-x or AMD-V), on the same board as every engine.
 *
 * KVM runs guest instructions natively until the guest does something the
 * hardware hands back to the hypervisor: a VM exit.  KVM serves most exits
 * in the kernel; those it cannot - port I/O, accesses outside guest RAM,
 * HLT without an in-kernel interrupt controller, shutdown - return from
 * the KVM_RUN ioctl with kvm_run->exit_reason saying which.  This file is
 * that loop (Documentation/virt/kvm/api.rst, "KVM_RUN", "struct kvm_run"):
 *
 *   run(budget)
 *     arm the slice timer (next virtual-clock deadline, at most 10 ms)
 *     loop:
 *       PIC has an interrupt?  guest interruptible (ready_for_interrupt_
 *         injection && if_flag) -> INTA from the PIC, KVM_INTERRUPT(vector)
 *         else request_interrupt_window = 1 (KVM exits when IF opens)
 *       ioctl(KVM_RUN)
 *       KVM_EXIT_IO            -> bus_port_read / bus_port_write (each of a
 *                                 string instruction's 'count' items)
 *       KVM_EXIT_MMIO          -> bus_read / bus_write
 *       KVM_EXIT_HLT           -> halted; an interrupt wakes it, else HALT
 *       KVM_EXIT_IRQ_WINDOW_OPEN -> inject at the top of the loop
 *       KVM_EXIT_DEBUG         -> single step done / hardware breakpoint
 *       KVM_EXIT_SHUTDOWN      -> triple fault (SHUTDOWN)
 *       EINTR (slice timer, Ctrl-C) -> BUDGET / REQUEST
 *       KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_FAIL_ENTRY, anything else
 *                              -> ERROR: the exit's name, CS:EIP and the
 *                                 instruction there, disassembled (capstone)
 *
 * The devices are the very ones the software CPU talks to: the exits above
 * call the same bus functions (mmu/bus.h) the CPU's IN/OUT and memory path
 * call, interrupts come from the board's cpu_irq_source (the PIC), and
 * time is base/clock.h's virtual clock in real-time mode (-icount
 * counts instructions, which KVM cannot: refused with a clear line).
 * Guest RAM is the bus's own RAM, registered as KVM memory slots (see
 * kvm_memmap.h), so a snapshot taken under any engine loads here.
 *
 * State lives in KVM; get_state/set_state move it to and from struct
 * x86_state through vmm/kvm_state.c (REGS, SREGS, DEBUGREGS, the TSC MSR,
 * VCPU_EVENTS for the interrupt shadow; HLT state is kept here, as KVM
 * leaves it to user space without an in-kernel irqchip).
 *
 * Breakpoints and single step use KVM_SET_GUEST_DEBUG with the hardware
 * debug registers (four breakpoints at most; while any is set, the guest's
 * own DR7 breakpoints do not fire).  Resuming from a breakpoint sets
 * EFLAGS.RF so the instruction runs once (SDM Vol. 3B 17.3.1.1).
 *
 * Not used: KVM's in-kernel irqchip (KVM_CREATE_IRQCHIP) would replace
 * trapeze's PIC and PIT with the kernel's, so the devices would differ
 * between engines and a snapshot could not move; trapeze injects from its
 * own PIC instead (vmm/README.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "machine/machine.h"
#include "vmm/engine.h"
#include "vmm/engine_emu.h"
#include "vmm/kvm_host.h"
#include "vmm/kvm_memmap.h"
#include "vmm/kvm_state.h"

/*
 * Guest-physical pages KVM needs for itself on Intel CPUs without
 * "unrestricted guest" (real mode runs in a virtual-8086 task): three
 * pages for that TSS (KVM_SET_TSS_ADDR) and one for the identity-mapped
 * page table of unpaged protected mode (KVM_SET_IDENTITY_MAP_ADDR).  Just
 * below the 16 MiB a -bios image may take under 4 GiB; RAM must end below.
 */
#define KVM_IDENTITY_MAP_ADDR 0xFEFFC000u
#define KVM_TSS_ADDR          0xFEFFD000u

/* The longest slice of guest time between two returns to the runner. */
#define KVM_SLICE_NS     10000000ull
#define KVM_SLICE_MIN_NS    50000ull
/* The signal the slice timer kicks KVM_RUN out with. */
#define KVM_KICK_SIGNAL (SIGRTMIN + 3)

/*
 * No-progress detection (vmm/README.md, "Never a hang"): at each slice
 * timer kick with no exit since the last one the registers are sampled;
 * this many identical samples in a row make the engine probe the
 * instruction with one KVM single step.  After a guest's own spin
 * (jmp $) the count doubles, up to the maximum, so a spinning guest costs
 * few probes.
 */
#define KVM_STALL_SAMPLES      2
#define KVM_STALL_SAMPLES_MAX 64
/* In a single step: this many kicks with no exit and the step is stuck. */
#define KVM_STEP_STUCK_KICKS   3

#define KVM_MAX_SLOTS KVM_MEMMAP_MAX
#define KVM_MAX_HW_BREAKPOINTS 4      /* DR0-DR3 */
#define KVM_EXIT_REASONS 64           /* counters for reasons below this */

struct kvm_slot {
    uint32_t slot;
    uint64_t gpa, size;
    uint8_t *host;
    bool rom_copy;                   /* host is our mmap'd copy */
    bool hma;
};

/* Why the software CPU runs the guest (kvm_fallback_enter). */
enum kvm_fb_cause {
    FB_UNPAGED_PMODE,     /* a mode the host cannot run: kvm_host_mode_limit */
    FB_PAGING32,
    FB_KVM_FAILED,        /* KVM_EXIT_INTERNAL_ERROR / FAIL_ENTRY at an instruction */
    FB_NO_PROGRESS,       /* KVM_RUN made no progress at an instruction */
    FB_CAUSES
};

static const char *const kvm_fb_cause_names[FB_CAUSES] = {
    [FB_UNPAGED_PMODE] = "protected mode without paging",
    [FB_PAGING32] = "32-bit paging",
    [FB_KVM_FAILED] = "KVM could not run an instruction",
    [FB_NO_PROGRESS] = "no progress under KVM",
};

/* What kvm_run_loop stopped on, beyond its engine_exit. */
enum kvm_stop {
    KVM_STOP_NONE,
    KVM_STOP_SUSPECT,     /* identical register samples: probe with a step */
    KVM_STOP_STALL,       /* the instruction at EIP does not run under KVM */
    KVM_STOP_FAILED,      /* KVM could not run it (message in k->message) */
};

struct kvm_engine {
    struct engine *e;
    struct machine *m;
    enum kvm_host_kind host;
    int sys_fd, vm_fd, vcpu_fd;
    struct kvm_run *run;
    size_t run_size;
    bool has_readonly_mem, has_immediate_exit, has_debug, has_debugregs, has_events;

    struct kvm_slot slots[KVM_MAX_SLOTS];
    int slot_count;
    bool a20_mapped;                 /* the HMA slot points at RAM 1 MiB (A20 on) */

    uint32_t signature;              /* CPUID.1:EAX, EDX at RESET */
    bool halted;
    volatile sig_atomic_t exit_request;
    bool resume_from_breakpoint;

    /* DR0-DR3 as the host debugger uses them: breakpoints and watchpoints. */
    struct kvm_debug_slot {
        uint32_t addr, len;             /* len 1 for a breakpoint */
        int kind;                       /* 0 breakpoint, else enum engine_watch_kind */
    } dslot[KVM_MAX_HW_BREAKPOINTS];
    int dslot_count;

    timer_t timer;
    bool has_timer;
    bool timer_armed_ok;

    /* An error found outside run (get/set state, slot updates): run reports it. */
    char message[768];
    bool failed;
    /* The last KVM_RUN ended on KVM_EXIT_IO / KVM_EXIT_MMIO: the
       instruction finishes only inside the next KVM_RUN (kvm_complete_io). */
    bool io_pending;

    /* The software CPU standing in where KVM cannot run the guest. */
    struct kvm_fallback {
        bool enabled;                /* -kvm-fallback on */
        bool created;                /* soft exists (made at the first need) */
        bool active;                 /* the guest's state is in soft, not in KVM */
        bool announced;              /* the one stderr line was printed */
        bool leave_soon;             /* FAILED / NO_PROGRESS: back to KVM after this slice */
        struct engine soft;          /* an emu engine on the same machine */
        enum kvm_fb_cause cause;
        uint64_t entries[FB_CAUSES];
        uint64_t ns;                 /* host time running in soft */
        uint64_t transfer_ns;        /* moving the state between KVM and soft */
        uint64_t instructions_base;  /* soft's count when the engine was made */
    } fb;

    /* No-progress detection (KVM_STALL_SAMPLES). */
    struct {
        struct kvm_regs last;
        bool valid;                  /* 'last' is a sample with no exit after it */
        int same, needed;
        uint64_t since_ns;           /* first of the identical samples */
        uint64_t probes, spins, stalls;
        uint64_t lost_ns;            /* KVM_RUN time before a stall was seen */
    } stall;

    struct {
        uint64_t runs;               /* KVM_RUN calls */
        uint64_t guest_ns;           /* inside KVM_RUN */
        uint64_t exits[KVM_EXIT_REASONS];
        uint64_t exit_ns[KVM_EXIT_REASONS];   /* handling them, in user space */
        uint64_t kicks;              /* KVM_RUN interrupted by a signal */
        uint64_t injected;           /* KVM_INTERRUPT */
        uint64_t window_requests;    /* request_interrupt_window set */
        uint64_t io_items;           /* port accesses (string I/O counts each) */
        uint64_t vectors[256];       /* injected, by vector */
    } stats;
};

static struct kvm_engine *kvm_of(struct engine *e) { return e->priv; }

static uint64_t kvm_host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int kvm_ioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do r = ioctl(fd, req, arg); while (r < 0 && errno == EINTR && req != KVM_RUN);
    return r < 0 ? -errno : r;
}

/* Record an error for the next run to report; returns -err style code. */
static void kvm_fail(struct kvm_engine *k, const char *what, int err)
{
    if (k->failed) return;
    k->failed = true;
    snprintf(k->message, sizeof k->message, "kvm: %s failed: %s", what, strerror(-err));
}

/* ---- memory slots ---- */

static int kvm_set_slot(struct kvm_engine *k, struct kvm_slot *s, bool present)
{
    struct kvm_userspace_memory_region r = {
        .slot = s->slot,
        .flags = (s->rom_copy && k->has_readonly_mem) ? KVM_MEM_READONLY : 0,
        .guest_phys_addr = s->gpa,
        .memory_size = present ? s->size : 0,
        .userspace_addr = (uint64_t)(uintptr_t)s->host,
    };
    return kvm_ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

static void kvm_drop_slots(struct kvm_engine *k)
{
    for (int i = 0; i < k->slot_count; i++) {
        struct kvm_slot *s = &k->slots[i];
        if (k->vm_fd >= 0) kvm_set_slot(k, s, false);
        if (s->rom_copy) munmap(s->host, s->size);
    }
    k->slot_count = 0;
}

/* The HMA slot's backing: RAM at 1 MiB with A20 on, RAM at 0 with A20 off
   (bit 20 forced to 0, so 1 MiB + x reads x: the 8086 wrap-around). */
static uint8_t *kvm_hma_backing(struct kvm_engine *k, bool a20)
{
    return k->m->bus.ram + (a20 ? KVM_HMA_START : 0);
}

/*
 * (Re)build every slot from the bus's current map.  A20 off is modelled
 * for the HMA only - the 64 KiB above 1 MiB that real-mode code reaches
 * through FFFF:xxxx; in protected mode with A20 off the other odd
 * megabytes are not masked under kvm (vmm/README.md).
 */
static int kvm_map_memory(struct kvm_engine *k)
{
    struct bus *bus = &k->m->bus;
    struct kvm_piece p[KVM_MEMMAP_MAX];
    bool a20 = bus_a20_enabled(bus);

    kvm_drop_slots(k);
    int n = kvm_memmap_build(bus, p, KVM_MEMMAP_MAX);
    if (n < 0) {
        snprintf(k->message, sizeof k->message, "kvm: the memory map has too many regions for KVM slots");
        return n;
    }
    for (int i = 0; i < n; i++) {
        struct kvm_slot *s = &k->slots[k->slot_count];
        *s = (struct kvm_slot){ .slot = (uint32_t)k->slot_count, .gpa = p[i].start,
                                .size = p[i].end - p[i].start, .hma = p[i].hma };
        if (p[i].kind == KVM_PIECE_RAM) {
            s->host = p[i].hma ? kvm_hma_backing(k, a20) : bus->ram + p[i].start;
        } else {
            void *copy = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (copy == MAP_FAILED) {
                snprintf(k->message, sizeof k->message, "kvm: out of host memory for a ROM copy");
                return -ENOMEM;
            }
            s->host = copy;
            s->rom_copy = true;
            bus_read_block(bus, (uint32_t)s->gpa, s->host, (uint32_t)s->size);
        }
        int err = kvm_set_slot(k, s, true);
        if (err < 0) {
            if (s->rom_copy) munmap(s->host, s->size);
            snprintf(k->message, sizeof k->message,
                     "kvm: KVM_SET_USER_MEMORY_REGION for %08llx-%08llx failed: %s",
                     (unsigned long long)s->gpa, (unsigned long long)(s->gpa + s->size - 1),
                     strerror(-err));
            return err;
        }
        k->slot_count++;
    }
    k->a20_mapped = a20;
    return 0;
}

/* The bus's map or A20 changed (port 0x92, a new region): remap. */
static void kvm_map_changed(void *opaque)
{
    struct kvm_engine *k = opaque;
    if (k->failed) return;
    int err = kvm_map_memory(k);
    if (err < 0) k->failed = true;
}

/* ---- reading guest memory for the monitor and error messages ---- */

/* Linear -> physical through the guest's paging (KVM_TRANSLATE). */
static bool kvm_translate(struct kvm_engine *k, uint32_t lin, uint32_t *phys)
{
    struct kvm_translation t = { .linear_address = lin };
    if (kvm_ioctl(k->vcpu_fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
        return false;
    *phys = (uint32_t)t.physical_address;
    return true;
}

static bool kvm_access_linear(struct kvm_engine *k, uint32_t lin, void *buf, uint32_t len, bool write)
{
    uint8_t *b = buf;
    while (len) {
        uint32_t chunk = PAGE_SIZE - (lin & (PAGE_SIZE - 1));
        uint32_t phys;
        if (chunk > len) chunk = len;
        if (!kvm_translate(k, lin, &phys))
            return false;
        if (write) bus_write_block(&k->m->bus, phys, b, chunk);
        else bus_read_block(&k->m->bus, phys, b, chunk);
        lin += chunk;
        b += chunk;
        len -= chunk;
    }
    return true;
}

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
static void kvm_hw_get_state(struct kvm_engine *k, struct x86_state *s)
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

static void kvm_hw_set_state(struct kvm_engine *k, const struct x86_state *s)
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

static void kvm_reset(struct engine *e)
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

/* ---- guest debug ---- */

/*
 * Load KVM's guest-debug setting: DR0-DR3 from the host debugger's slots,
 * plus single step when asked.  DR7 (SDM Vol. 3B 17.2.4): Ln (bit 2n)
 * enables slot n; R/Wn (bits 16+4n) 00 = instruction execution, 01 = data
 * writes, 11 = data reads and writes; LENn (bits 18+4n) 00 = 1 byte,
 * 01 = 2, 11 = 4 (the address aligned to it, 17.2.5).
 */
static int kvm_update_guest_debug(struct kvm_engine *k, bool step)
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
static int kvm_set_breakpoint(struct engine *e, uint32_t lin)
{
    struct kvm_engine *k = kvm_of(e);
    int err = kvm_add_dslot(k, lin, 1, 0);
    if (err == 0 && k->fb.created) k->fb.soft.ops->set_breakpoint(&k->fb.soft, lin);
    return err;
}

static int kvm_clear_breakpoint(struct engine *e, uint32_t lin)
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

static int kvm_set_watchpoint(struct engine *e, uint32_t addr, uint32_t len,
                              enum engine_watch_kind kind, bool physical)
{
    struct kvm_engine *k = kvm_of(e);
    int err = kvm_check_watch(addr, len, kind, physical);
    if (err == 0) err = kvm_add_dslot(k, addr, len, (int)kind);
    if (err == 0 && k->fb.created) k->fb.soft.ops->set_watchpoint(&k->fb.soft, addr, len, kind, false);
    return err;
}

static int kvm_clear_watchpoint(struct engine *e, uint32_t addr, uint32_t len,
                                enum engine_watch_kind kind, bool physical)
{
    struct kvm_engine *k = kvm_of(e);
    int err = kvm_check_watch(addr, len, kind, physical);
    if (err == 0) err = kvm_remove_dslot(k, addr, len, (int)kind);
    if (err == 0 && k->fb.created) k->fb.soft.ops->clear_watchpoint(&k->fb.soft, addr, len, kind, false);
    return err;
}

static void kvm_get_counters(struct engine *e, struct engine_counters *c)
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

/* ---- the error message: exit name, CS:EIP, the instruction ---- */

/* vmm/kvm_disasm.c: "mnemonic operands" of one instruction; its length or 0. */
int kvm_disasm_one(const uint8_t *bytes, size_t len, uint64_t addr, bool code32, char *out, size_t outlen);


static void kvm_describe_insn(struct kvm_engine *k, char *out, size_t len)
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
static struct engine_exit kvm_failed_exit(struct kvm_engine *k)
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
static int kvm_complete_io(struct kvm_engine *k)
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
static struct engine_exit kvm_run_loop(struct kvm_engine *k, bool step, enum kvm_stop *stop)
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

static struct engine_exit kvm_run_budget(struct engine *e, uint64_t budget)
{
    /* KVM counts no instructions: its slice is time (10 ms or the next
       deadline); the software CPU, when it stands in, takes the budget. */
    return kvm_run_common(e, budget, false);
}

static struct engine_exit kvm_step(struct engine *e)
{
    return kvm_run_common(e, 1, true);
}

static void kvm_get_state(struct engine *e, struct x86_state *s)
{
    struct kvm_engine *k = kvm_of(e);
    if (k->fb.active) k->fb.soft.ops->get_state(&k->fb.soft, s);
    else kvm_hw_get_state(k, s);
}

static void kvm_set_state(struct engine *e, const struct x86_state *s)
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
static void kvm_machine_request_stop(void *opaque)
{
    struct kvm_engine *k = opaque;
    k->exit_request = 1;
    if (k->has_immediate_exit) k->run->immediate_exit = 1;
    /* The software CPU, when it runs the guest, stops at its next boundary. */
    if (k->fb.created) k->fb.soft.ops->request_exit(&k->fb.soft);
}

static void kvm_request_exit(struct engine *e)
{
    kvm_machine_request_stop(kvm_of(e));
}

static bool kvm_read_linear(struct engine *e, uint32_t lin, void *buf, uint32_t len)
{
    struct kvm_engine *k = kvm_of(e);
    if (k->fb.active) return k->fb.soft.ops->read_linear(&k->fb.soft, lin, buf, len);
    return kvm_access_linear(k, lin, buf, len, false);
}

static bool kvm_write_linear(struct engine *e, uint32_t lin, const void *buf, uint32_t len)
{
    struct kvm_engine *k = kvm_of(e);
    if (k->fb.active) return k->fb.soft.ops->write_linear(&k->fb.soft, lin, buf, len);
    bool ok = kvm_access_linear(k, lin, (void *)(uintptr_t)buf, len, true);
    if (ok && k->fb.created) engine_emu_memory_changed(&k->fb.soft);
    return ok;
}

/* ---- reports ---- */

static void kvm_print_fault_report(struct engine *e, FILE *out)
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

static void kvm_print_stats(struct engine *e, FILE *out)
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
static void kvm_print_info(struct engine *e, FILE *out)
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

/* ---- create / destroy ---- */

static void kvm_kick_handler(int sig)
{
    (void)sig;   /* only interrupts KVM_RUN (EINTR) */
}

/* The host's CPUID, filtered (kvm_state.h), given to the vCPU. */
static int kvm_setup_cpuid(struct kvm_engine *k)
{
    for (int nent = 64; nent <= 4096; nent *= 2) {
        size_t size = sizeof(struct kvm_cpuid2) + (size_t)nent * sizeof(struct kvm_cpuid_entry2);
        struct kvm_cpuid2 *c = calloc(1, size);
        if (!c) return -ENOMEM;
        c->nent = (uint32_t)nent;
        int err = kvm_ioctl(k->sys_fd, KVM_GET_SUPPORTED_CPUID, c);
        if (err == -E2BIG) { free(c); continue; }
        if (err < 0) { free(c); return err; }
        c->nent = (uint32_t)kvm_cpuid_filter(c->entries, (int)c->nent);
        k->signature = 0;
        for (uint32_t i = 0; i < c->nent; i++)
            if (c->entries[i].function == 1) k->signature = c->entries[i].eax;
        err = kvm_ioctl(k->vcpu_fd, KVM_SET_CPUID2, c);
        free(c);
        return err;
    }
    return -E2BIG;
}

static int kvm_check_extension(struct kvm_engine *k, int cap)
{
    int r = ioctl(k->vm_fd >= 0 ? k->vm_fd : k->sys_fd, KVM_CHECK_EXTENSION, cap);
    return r < 0 ? 0 : r;
}

/* Open /dev/kvm, saying why not in one line.  Also used by engine_available. */
int kvm_open_device(bool quiet);
int kvm_open_device(bool quiet)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd >= 0) return fd;
    int err = -errno;
    if (quiet) return err;
    if (err == -ENOENT)
        fprintf(stderr, "trapeze: -engine kvm: /dev/kvm not found (this host has no KVM: load kvm-intel/"
                        "kvm-amd, or run trapeze on a machine with VT-x/AMD-V; -engine emu works everywhere)\n");
    else if (err == -EACCES || err == -EPERM)
        fprintf(stderr, "trapeze: -engine kvm: /dev/kvm: permission denied (add yourself to its group, "
                        "usually 'kvm': sudo usermod -aG kvm $USER, then log in again; -engine emu works everywhere)\n");
    else
        fprintf(stderr, "trapeze: -engine kvm: cannot open /dev/kvm: %s (-engine emu works everywhere)\n",
                strerror(-err));
    return err == -ENOENT ? -ENODEV : err;
}

static void kvm_destroy(struct engine *e)
{
    struct kvm_engine *k = kvm_of(e);
    if (!k) return;
    struct machine *m = k->m;
    if (m->request_stop_opaque == k) {
        m->request_stop = NULL;
        m->request_stop_opaque = NULL;
    }
    if (m->bus.map_opaque == k) {
        m->bus.map_changed = NULL;
        m->bus.map_opaque = NULL;
    }
    if (k->fb.created) engine_emu_ops.destroy(&k->fb.soft);
    if (k->has_timer) timer_delete(k->timer);
    kvm_drop_slots(k);
    if (k->run && k->run != MAP_FAILED) munmap(k->run, k->run_size);
    if (k->vcpu_fd >= 0) close(k->vcpu_fd);
    if (k->vm_fd >= 0) close(k->vm_fd);
    if (k->sys_fd >= 0) close(k->sys_fd);
    free(k);
    e->priv = NULL;
}

static int kvm_create(struct engine *e, struct machine *m)
{
    struct kvm_engine *k;
    int err;

    if (m->config.icount || m->clock.icount) {
        fprintf(stderr, "trapeze: -engine kvm: -icount cannot work under kvm (the guest runs on the host "
                        "CPU, which counts no instructions for the clock): drop -icount, or use -engine emu\n");
        return -EINVAL;
    }
    if ((uint64_t)m->bus.ram_size > KVM_IDENTITY_MAP_ADDR) {
        fprintf(stderr, "trapeze: -engine kvm: -m %u MiB reaches KVM's pages at %08x: use -m %u or less\n",
                m->bus.ram_size >> 20, KVM_IDENTITY_MAP_ADDR, KVM_IDENTITY_MAP_ADDR >> 20);
        return -EINVAL;
    }
    k = calloc(1, sizeof *k);
    if (!k) {
        fprintf(stderr, "trapeze: kvm: out of host memory\n");
        return -ENOMEM;
    }
    k->e = e;
    k->m = m;
    k->sys_fd = k->vm_fd = k->vcpu_fd = -1;
    k->host = kvm_host_detect("/sys/module");
    k->fb.enabled = e->options.kvm_fallback;
    k->stall.needed = KVM_STALL_SAMPLES;
    e->priv = k;

    if ((k->sys_fd = kvm_open_device(false)) < 0) {
        err = k->sys_fd;
        k->sys_fd = -1;
        goto fail_quiet;
    }
    if ((err = kvm_ioctl(k->sys_fd, KVM_GET_API_VERSION, NULL)) != KVM_API_VERSION) {
        fprintf(stderr, "trapeze: -engine kvm: /dev/kvm speaks API version %d, trapeze needs %d\n",
                err, KVM_API_VERSION);
        err = -ENODEV;
        goto fail_quiet;
    }
    if ((k->vm_fd = kvm_ioctl(k->sys_fd, KVM_CREATE_VM, (void *)0)) < 0) {
        err = k->vm_fd;
        k->vm_fd = -1;
        fprintf(stderr, "trapeze: -engine kvm: KVM_CREATE_VM failed: %s (is VT-x/AMD-V enabled in the "
                        "firmware? dmesg | grep kvm says why)\n", strerror(-err));
        goto fail_quiet;
    }
    /* KVM_CAP_IMMEDIATE_EXIT (Linux 4.11): kvm_complete_io needs it. */
    if (!kvm_check_extension(k, KVM_CAP_USER_MEMORY) || !kvm_check_extension(k, KVM_CAP_EXT_CPUID) ||
        !kvm_check_extension(k, KVM_CAP_IMMEDIATE_EXIT)) {
        fprintf(stderr, "trapeze: -engine kvm: this KVM lacks KVM_CAP_USER_MEMORY, KVM_CAP_EXT_CPUID or "
                        "KVM_CAP_IMMEDIATE_EXIT (Linux 4.11 or later has them)\n");
        err = -ENODEV;
        goto fail_quiet;
    }
    k->has_readonly_mem = kvm_check_extension(k, KVM_CAP_READONLY_MEM);
    k->has_immediate_exit = kvm_check_extension(k, KVM_CAP_IMMEDIATE_EXIT);
    k->has_debug = kvm_check_extension(k, KVM_CAP_SET_GUEST_DEBUG);
    k->has_debugregs = kvm_check_extension(k, KVM_CAP_DEBUGREGS);
    k->has_events = kvm_check_extension(k, KVM_CAP_VCPU_EVENTS);

    /* Intel without unrestricted guest needs these; AMD ignores them. */
    if (kvm_check_extension(k, KVM_CAP_SET_TSS_ADDR) &&
        (err = kvm_ioctl(k->vm_fd, KVM_SET_TSS_ADDR, (void *)(uintptr_t)KVM_TSS_ADDR)) < 0) {
        fprintf(stderr, "trapeze: -engine kvm: KVM_SET_TSS_ADDR failed: %s\n", strerror(-err));
        goto fail_quiet;
    }
    if (kvm_check_extension(k, KVM_CAP_SET_IDENTITY_MAP_ADDR)) {
        uint64_t addr = KVM_IDENTITY_MAP_ADDR;
        if ((err = kvm_ioctl(k->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &addr)) < 0) {
            fprintf(stderr, "trapeze: -engine kvm: KVM_SET_IDENTITY_MAP_ADDR failed: %s\n", strerror(-err));
            goto fail_quiet;
        }
    }
    if ((err = kvm_map_memory(k)) < 0) {
        fprintf(stderr, "trapeze: -engine kvm: %s\n", k->message + 5);
        goto fail_quiet;
    }
    if ((k->vcpu_fd = kvm_ioctl(k->vm_fd, KVM_CREATE_VCPU, (void *)0)) < 0) {
        err = k->vcpu_fd;
        k->vcpu_fd = -1;
        fprintf(stderr, "trapeze: -engine kvm: KVM_CREATE_VCPU failed: %s\n", strerror(-err));
        goto fail_quiet;
    }
    int size = kvm_ioctl(k->sys_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
    if (size < (int)sizeof(struct kvm_run)) {
        err = size < 0 ? size : -EIO;
        fprintf(stderr, "trapeze: -engine kvm: KVM_GET_VCPU_MMAP_SIZE failed: %s\n", strerror(-err));
        goto fail_quiet;
    }
    k->run_size = (size_t)size;
    k->run = mmap(NULL, k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu_fd, 0);
    if (k->run == MAP_FAILED) {
        err = -errno;
        k->run = NULL;
        fprintf(stderr, "trapeze: -engine kvm: cannot map the vCPU's kvm_run: %s\n", strerror(-err));
        goto fail_quiet;
    }
    if ((err = kvm_setup_cpuid(k)) < 0) {
        fprintf(stderr, "trapeze: -engine kvm: KVM_SET_CPUID2 failed: %s\n", strerror(-err));
        goto fail_quiet;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = kvm_kick_handler;   /* no SA_RESTART: KVM_RUN returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(KVM_KICK_SIGNAL, &sa, NULL);
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = KVM_KICK_SIGNAL;
    if (timer_create(CLOCK_MONOTONIC, &sev, &k->timer) != 0) {
        err = -errno;
        fprintf(stderr, "trapeze: -engine kvm: cannot create the slice timer: %s\n", strerror(-err));
        goto fail_quiet;
    }
    k->has_timer = true;

    /* Before the reset: a state with A20 off remaps through it. */
    m->bus.map_changed = kvm_map_changed;
    m->bus.map_opaque = k;
    kvm_reset(e);
    if (k->failed) {
        fprintf(stderr, "trapeze: -engine kvm: %s\n", k->message + 5);
        err = -EIO;
        goto fail_quiet;
    }
    m->request_stop = kvm_machine_request_stop;
    m->request_stop_opaque = k;
    return 0;

fail_quiet:
    kvm_destroy(e);
    return err;
}

const struct engine_ops engine_kvm_ops = {
    .name = "kvm",
    .create = kvm_create,
    .destroy = kvm_destroy,
    .reset = kvm_reset,
    .run = kvm_run_budget,
    .step = kvm_step,
    .get_state = kvm_get_state,
    .set_state = kvm_set_state,
    .set_breakpoint = kvm_set_breakpoint,
    .clear_breakpoint = kvm_clear_breakpoint,
    .set_watchpoint = kvm_set_watchpoint,
    .clear_watchpoint = kvm_clear_watchpoint,
    .request_exit = kvm_request_exit,
    .print_stats = kvm_print_stats,
    .print_fault_report = kvm_print_fault_report,
    .read_linear = kvm_read_linear,
    .write_linear = kvm_write_linear,
    .get_counters = kvm_get_counters,
    .print_info = kvm_print_info,
};
