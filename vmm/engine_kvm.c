/*
 * engine_kvm.c - the kvm engine: the guest runs on the host CPU through
 * /dev/kvm (Intel VT-x or AMD-V), on the same board as every engine.
 * This file is its set-up (the VM, the vCPU, memory slots, CPUID); the
 * state and guest debug are kvm_vcpu.c, the exit loop kvm_exit.c, the
 * software CPU standing in kvm_fallback.c (kvm_engine.h lists them).
 *
 * KVM runs guest instructions natively until the guest does something the
 * hardware hands back to the hypervisor: a VM exit.  KVM serves most exits
 * in the kernel; those it cannot - port I/O, accesses outside guest RAM,
 * HLT without an in-kernel interrupt controller, shutdown - return from
 * the KVM_RUN ioctl with kvm_run->exit_reason saying which.  This file is
 * that loop (Documentation/virt/kvm/api.rst, "KVM_RUN", "struct kvm_run"),
 * in kvm_exit.c:
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
#include "vmm/kvm_engine.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/engine_emu.h"

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

/*
 * The guest's own tables, walked by mmu/'s walker on the board's RAM under
 * the guest's CR0/CR3/CR4 (KVM's own tables - EPT/NPT, or kvm-pvm's shadow
 * pages - are the kernel's and not visible here).
 */
static int kvm_translate_walk(struct engine *e, uint32_t lin, enum mmu_access access, bool user,
                              struct engine_walk *walks, int max)
{
    struct kvm_engine *k = kvm_of(e);
    struct mmu mmu;
    if (max < 1)
        return 0;
    if (k->fb.active) {
        /* The software CPU holds the guest: its walk is the guest's. */
        return k->fb.soft.ops->translate(&k->fb.soft, lin, access, user, walks, max);
    }
    /* Only the control registers (info pt walks up to a million pages). */
    struct kvm_sregs sregs;
    if (kvm_ioctl(k->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        memset(&sregs, 0, sizeof sregs);   /* paging off: linear = physical */
    mmu_init(&mmu, &k->m->bus);
    walks[0].name = "guest";
    walks[0].regs = (struct paging_regs){ (uint32_t)sregs.cr0, (uint32_t)sregs.cr3, (uint32_t)sregs.cr4 };
    mmu_walk(&mmu, &walks[0].regs, lin, access, user, false, &walks[0].walk);
    return 1;
}

bool kvm_access_linear(struct kvm_engine *k, uint32_t lin, void *buf, uint32_t len, bool write)
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
    bus_remove_map_hook(&m->bus, kvm_map_changed, k);   /* a no-op if never added */
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
    if ((err = bus_add_map_hook(&m->bus, kvm_map_changed, k)) < 0) {
        fprintf(stderr, "trapeze: -engine kvm: no room on the bus for the memory-map hook: %s\n",
                strerror(-err));
        goto fail_quiet;
    }
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
    .translate = kvm_translate_walk,
    .write_linear = kvm_write_linear,
    .get_counters = kvm_get_counters,
    .print_info = kvm_print_info,
};
