/*
 * kvm_engine.h - private to the kvm engine's files (engine.h is the
 * interface every engine offers):
 *
 *   engine_kvm.c    set-up: /dev/kvm, the VM and its vCPU, memory slots,
 *                   CPUID, create/destroy, debug access to guest memory
 *   kvm_vcpu.c      the vCPU's state to and from struct x86_state, reset,
 *                   guest debug (breakpoints, watchpoints), counters
 *   kvm_exit.c      the exit loop: KVM_RUN and each exit it returns
 *   kvm_fallback.c  run/step: KVM or the software CPU standing in for it,
 *                   no-progress probes, the reports (-stats, info kvm)
 */
#ifndef TRAPEZE_KVM_ENGINE_H
#define TRAPEZE_KVM_ENGINE_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include <linux/kvm.h>

#include "machine/machine.h"
#include "vmm/engine.h"
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


extern const char *const kvm_fb_cause_names[FB_CAUSES];

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

static inline struct kvm_engine *kvm_of(struct engine *e) { return e->priv; }

static inline uint64_t kvm_host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* An ioctl, retried on EINTR except KVM_RUN (whose EINTR is the slice timer); -errno. */
static inline int kvm_ioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do r = ioctl(fd, req, arg); while (r < 0 && errno == EINTR && req != KVM_RUN);
    return r < 0 ? -errno : r;
}

/* Record an error for the next run to report. */
static inline void kvm_fail(struct kvm_engine *k, const char *what, int err)
{
    if (k->failed) return;
    k->failed = true;
    snprintf(k->message, sizeof k->message, "kvm: %s failed: %s", what, strerror(-err));
}

/* engine_kvm.c */
bool kvm_access_linear(struct kvm_engine *k, uint32_t lin, void *buf, uint32_t len, bool write);

/* kvm_vcpu.c */
void kvm_hw_get_state(struct kvm_engine *k, struct x86_state *s);
void kvm_hw_set_state(struct kvm_engine *k, const struct x86_state *s);
void kvm_reset(struct engine *e);
void kvm_get_state(struct engine *e, struct x86_state *s);
void kvm_set_state(struct engine *e, const struct x86_state *s);
void kvm_machine_request_stop(void *opaque);
void kvm_request_exit(struct engine *e);
int kvm_update_guest_debug(struct kvm_engine *k, bool step);
int kvm_set_breakpoint(struct engine *e, uint32_t lin);
int kvm_clear_breakpoint(struct engine *e, uint32_t lin);
int kvm_set_watchpoint(struct engine *e, uint32_t addr, uint32_t len,
                       enum engine_watch_kind kind, bool physical);
int kvm_clear_watchpoint(struct engine *e, uint32_t addr, uint32_t len,
                         enum engine_watch_kind kind, bool physical);
void kvm_get_counters(struct engine *e, struct engine_counters *c);

/* kvm_exit.c */
void kvm_describe_insn(struct kvm_engine *k, char *out, size_t len);
struct engine_exit kvm_failed_exit(struct kvm_engine *k);
int kvm_complete_io(struct kvm_engine *k);
struct engine_exit kvm_run_loop(struct kvm_engine *k, bool step, enum kvm_stop *stop);

/* kvm_fallback.c */
struct engine_exit kvm_run_budget(struct engine *e, uint64_t budget);
struct engine_exit kvm_step(struct engine *e);
void kvm_print_fault_report(struct engine *e, FILE *out);
void kvm_print_stats(struct engine *e, FILE *out);
void kvm_print_info(struct engine *e, FILE *out);

#endif
