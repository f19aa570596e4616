/*
 * test_kvm_host.c - what kind of KVM this host has, the rules the kvm
 * engine draws from it (vmm/kvm_host.c), and, on a kvm-pvm host, the host
 * facts those rules rest on, probed with raw KVM ioctls and no trapeze
 * code in between (../shared/KVM-HOSTS.md):
 *
 *   probe                              kvm-pvm (the facts)            other hosts
 *   unpaged protected mode, IRETD      KVM_EXIT_INTERNAL_ERROR, sub 1  runs to OUT 10h
 *   unpaged protected mode, LAR        KVM_EXIT_INTERNAL_ERROR, sub 1  runs to OUT 10h
 *   unpaged protected mode, LSL        KVM_EXIT_INTERNAL_ERROR, sub 1  runs to OUT 10h
 *   MOV CR0 setting PG, 32-bit paging  #GP in the guest (OUT 11h)      runs to OUT 10h
 *   real mode, step from a hardware    KVM_EXIT_DEBUG, RIP unchanged   RIP past LGDT
 *   breakpoint (RF = 1) on an LGDT     (the breakpoint fires again)
 *
 * Each probe is a few instruction bytes written out by hand (SDM Vol. 2
 * encodings) at guest-physical 0x1000 in 1 MiB of RAM, with a flat GDT at
 * 0x500, an IDT at 0x600 whose #GP gate points at "OUT 11h; HLT" (0x2000),
 * and a 4 MiB identity page (PSE) in a page directory at 0x3000.
 * If kvm-pvm is fixed, the probes fail here first: then kvm_host.c's
 * rules (and KNOWN_HOST_LIMITS in tests/guests/kvm.sh) must follow.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <linux/kvm.h>

#include "tests/test.h"
#include "vmm/kvm_host.h"

TEST_MAIN()

/* ---- the rules, on every host ---- */

static struct x86_state mode(uint32_t cr0, uint32_t cr4)
{
    struct x86_state s;
    memset(&s, 0, sizeof s);
    s.cr0 = cr0;
    s.cr4 = cr4;
    return s;
}

TEST(pvm_mode_limits)
{
    struct x86_state real = mode(0x60000010u, 0), unpaged = mode(CR0_PE | 0x10, 0);
    struct x86_state paged = mode(CR0_PE | CR0_PG | 0x10, 0x10), pae = mode(CR0_PE | CR0_PG, CR4_PAE);
    CHECK_EQ(kvm_host_mode_limit(KVM_HOST_PVM, &real), KVM_LIMIT_NONE);
    CHECK_EQ(kvm_host_mode_limit(KVM_HOST_PVM, &unpaged), KVM_LIMIT_UNPAGED_PMODE);
    CHECK_EQ(kvm_host_mode_limit(KVM_HOST_PVM, &paged), KVM_LIMIT_PAGING32);
    CHECK_EQ(kvm_host_mode_limit(KVM_HOST_PVM, &pae), KVM_LIMIT_NONE);
}

TEST(hardware_hosts_have_no_mode_limits)
{
    static const enum kvm_host_kind kinds[] = { KVM_HOST_VMX, KVM_HOST_SVM, KVM_HOST_UNKNOWN };
    struct x86_state states[] = { mode(0x10, 0), mode(CR0_PE, 0), mode(CR0_PE | CR0_PG, 0) };
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < 3; i++)
            CHECK_EQ(kvm_host_mode_limit(kinds[k], &states[i]), KVM_LIMIT_NONE);
}

TEST(limit_ids_are_the_test_scripts_words)
{
    CHECK_STR(kvm_limit_id(KVM_LIMIT_UNPAGED_PMODE), "unpaged-protected-mode");
    CHECK_STR(kvm_limit_id(KVM_LIMIT_PAGING32), "32-bit-paging");
    CHECK_STR(kvm_limit_id(KVM_LIMIT_NO_PROGRESS), "no-progress");
}

/* A fake /sys/module with the given module directories. */
static enum kvm_host_kind detect_with(const char *a, const char *b)
{
    char dir[] = "/tmp/trapeze-sysfs-XXXXXX", path[128];
    if (!mkdtemp(dir)) return (enum kvm_host_kind)-1;
    const char *mods[2] = { a, b };
    for (int i = 0; i < 2; i++)
        if (mods[i]) { snprintf(path, sizeof path, "%s/%s", dir, mods[i]); mkdir(path, 0700); }
    enum kvm_host_kind kind = kvm_host_detect(dir);
    for (int i = 0; i < 2; i++)
        if (mods[i]) { snprintf(path, sizeof path, "%s/%s", dir, mods[i]); rmdir(path); }
    rmdir(dir);
    return kind;
}

TEST(host_kind_from_sys_module)
{
    CHECK_EQ(detect_with(NULL, NULL), KVM_HOST_UNKNOWN);
    CHECK_EQ(detect_with("kvm_intel", NULL), KVM_HOST_VMX);
    CHECK_EQ(detect_with("kvm_amd", NULL), KVM_HOST_SVM);
    CHECK_EQ(detect_with("kvm_pvm", NULL), KVM_HOST_PVM);
    CHECK_EQ(detect_with("kvm_intel", "kvm_pvm"), KVM_HOST_PVM);   /* nested: pvm decides */
    CHECK_STR(kvm_host_name(KVM_HOST_PVM), "kvm-pvm");
}

/* ---- raw probes ---- */

#define PROBE_RAM  0x100000u
#define CODE       0x1000u
#define GP_HANDLER 0x2000u
#define PAGE_DIR   0x3000u
#define GDT        0x500u
#define IDT        0x600u

struct probe {
    int sys, vm, vcpu;
    struct kvm_run *run;
    size_t run_size;
    uint8_t *ram;
};

static void probe_alarm(int sig) { (void)sig; }

static const char *probe_skip(void)
{
    if (access("/dev/kvm", F_OK) != 0) return "/dev/kvm not found: this host has no KVM";
    if (access("/dev/kvm", R_OK | W_OK) != 0) return "/dev/kvm is not readable and writable by this user";
    return NULL;
}

static void probe_close(struct probe *p)
{
    if (p->run && p->run != MAP_FAILED) munmap(p->run, p->run_size);
    if (p->vcpu >= 0) close(p->vcpu);
    if (p->vm >= 0) close(p->vm);
    if (p->sys >= 0) close(p->sys);
    if (p->ram && p->ram != MAP_FAILED) munmap(p->ram, PROBE_RAM);
}

static bool probe_open(struct probe *p)
{
    memset(p, 0, sizeof *p);
    p->sys = p->vm = p->vcpu = -1;
    p->ram = mmap(NULL, PROBE_RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p->ram == MAP_FAILED) return false;
    if ((p->sys = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0) return false;
    if ((p->vm = ioctl(p->sys, KVM_CREATE_VM, 0)) < 0) return false;
    ioctl(p->vm, KVM_SET_TSS_ADDR, 0xFEFFD000ul);   /* VT-x without unrestricted guest */
    struct kvm_userspace_memory_region r = { .slot = 0, .guest_phys_addr = 0, .memory_size = PROBE_RAM,
                                             .userspace_addr = (uint64_t)(uintptr_t)p->ram };
    if (ioctl(p->vm, KVM_SET_USER_MEMORY_REGION, &r) < 0) return false;
    if ((p->vcpu = ioctl(p->vm, KVM_CREATE_VCPU, 0)) < 0) return false;
    int size = ioctl(p->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size < (int)sizeof(struct kvm_run)) return false;
    p->run_size = (size_t)size;
    p->run = mmap(NULL, p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->vcpu, 0);
    if (p->run == MAP_FAILED) return false;

    /* GDT: null, 0x08 flat 32-bit code, 0x10 flat data (SDM Vol. 3A 3.4.5). */
    static const uint8_t gdt[24] = { 0, 0, 0, 0, 0, 0, 0, 0,
                                     0xFF, 0xFF, 0, 0, 0, 0x9A, 0xCF, 0,
                                     0xFF, 0xFF, 0, 0, 0, 0x92, 0xCF, 0 };
    memcpy(p->ram + GDT, gdt, sizeof gdt);
    /* IDT entry 13: 32-bit interrupt gate to 0008:GP_HANDLER (SDM Vol. 3A 6.11). */
    uint8_t *g = p->ram + IDT + 13 * 8;
    g[0] = GP_HANDLER & 0xFF; g[1] = GP_HANDLER >> 8; g[2] = 0x08; g[3] = 0; g[4] = 0; g[5] = 0x8E; g[6] = 0; g[7] = 0;
    static const uint8_t gp[] = { 0xE6, 0x11, 0xF4 };   /* out 0x11, al; hlt */
    memcpy(p->ram + GP_HANDLER, gp, sizeof gp);
    /* PDE 0: 4 MiB page at 0, present, writable, PS (SDM Vol. 3A 4.3). */
    p->ram[PAGE_DIR] = 0x83;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = probe_alarm;   /* no SA_RESTART: KVM_RUN returns EINTR */
    sigaction(SIGALRM, &sa, NULL);
    return true;
}

static void seg(struct kvm_segment *s, uint16_t sel, uint32_t base, uint32_t limit, uint8_t type,
                bool code_or_data, bool big, bool gran)
{
    *s = (struct kvm_segment){ .base = base, .limit = limit, .selector = sel, .type = type, .present = 1,
                               .dpl = 0, .db = big, .s = code_or_data, .l = 0, .g = gran, .avl = 0 };
}

/* The vCPU at 'rip' in real mode (protected = false) or flat 32-bit protected mode. */
static bool probe_setup(struct probe *p, bool protected, const uint8_t *code, size_t len)
{
    struct kvm_sregs sr;
    struct kvm_regs regs;
    memcpy(p->ram + CODE, code, len);
    if (ioctl(p->vcpu, KVM_GET_SREGS, &sr) < 0) return false;
    if (protected) {
        seg(&sr.cs, 0x08, 0, 0xFFFFFFFF, 0xB, true, true, true);
        seg(&sr.ds, 0x10, 0, 0xFFFFFFFF, 0x3, true, true, true);
        sr.es = sr.ss = sr.fs = sr.gs = sr.ds;
        sr.cr0 = 0x11;   /* PE, ET */
    } else {
        seg(&sr.cs, 0, 0, 0xFFFF, 0xB, true, false, false);
        seg(&sr.ds, 0, 0, 0xFFFF, 0x3, true, false, false);
        sr.es = sr.ss = sr.fs = sr.gs = sr.ds;
        sr.cr0 = 0x10;
    }
    seg(&sr.tr, 0, 0, 0x67, 0xB, false, false, false);
    seg(&sr.ldt, 0, 0, 0, 0x2, false, false, false);
    sr.ldt.unusable = 1;
    sr.gdt.base = GDT; sr.gdt.limit = 23;
    sr.idt.base = IDT; sr.idt.limit = 0x7FF;
    sr.cr3 = 0; sr.cr4 = 0; sr.efer = 0;
    if (ioctl(p->vcpu, KVM_SET_SREGS, &sr) < 0) return false;
    memset(&regs, 0, sizeof regs);
    regs.rip = CODE;
    regs.rflags = 2;
    regs.rsp = 0x8000;
    return ioctl(p->vcpu, KVM_SET_REGS, &regs) == 0;
}

enum probe_end { END_OUT, END_INTERNAL_ERROR, END_DEBUG, END_NO_EXIT, END_OTHER };

/* KVM_RUN until an exit or 1 s without one; the port of an OUT in *port. */
static enum probe_end probe_run(struct probe *p, unsigned *port, uint32_t *suberror)
{
    struct itimerval t = { .it_value = { 1, 0 } };
    setitimer(ITIMER_REAL, &t, NULL);
    int r = ioctl(p->vcpu, KVM_RUN, 0);
    int err = errno;
    struct itimerval off = { 0 };
    setitimer(ITIMER_REAL, &off, NULL);
    if (r < 0) return err == EINTR ? END_NO_EXIT : END_OTHER;
    switch (p->run->exit_reason) {
    case KVM_EXIT_IO: *port = p->run->io.port; return END_OUT;
    case KVM_EXIT_INTERNAL_ERROR: *suberror = p->run->internal.suberror; return END_INTERNAL_ERROR;
    case KVM_EXIT_DEBUG: return END_DEBUG;
    default: return END_OTHER;
    }
}

static uint64_t probe_rip(struct probe *p)
{
    struct kvm_regs regs;
    return ioctl(p->vcpu, KVM_GET_REGS, &regs) == 0 ? regs.rip : ~0ull;
}

/* One protected-mode probe: on kvm-pvm an emulation failure at 'fail_at'
   (offset in the code), elsewhere the code reaches OUT 10h. */
static void probe_unpaged(const uint8_t *code, size_t len, uint32_t fail_at)
{
    const char *why = probe_skip();
    if (why) SKIP(why);
    struct probe p;
    bool pvm = kvm_host_detect("/sys/module") == KVM_HOST_PVM;
    unsigned port = 0;
    uint32_t sub = 0;
    CHECK(probe_open(&p));
    CHECK(probe_setup(&p, true, code, len));
    enum probe_end end = probe_run(&p, &port, &sub);
    if (pvm) {
        CHECK_EQ(end, END_INTERNAL_ERROR);
        CHECK_EQ(sub, KVM_INTERNAL_ERROR_EMULATION);
        CHECK_EQ(probe_rip(&p), CODE + fail_at);
    } else {
        CHECK_EQ(end, END_OUT);
        CHECK_EQ(port, 0x10);
    }
    probe_close(&p);
}

TEST(probe_iretd_in_unpaged_protected_mode)
{
    /* pushfd; push 8; push CODE+9; iretd; out 0x10, al; hlt */
    static const uint8_t code[] = { 0x9C, 0x6A, 0x08, 0x68, 0x09, 0x10, 0, 0, 0xCF, 0xE6, 0x10, 0xF4 };
    probe_unpaged(code, sizeof code, 8);
}

TEST(probe_lar_in_unpaged_protected_mode)
{
    /* mov eax, 8; lar ebx, eax; out 0x10, al; hlt */
    static const uint8_t code[] = { 0xB8, 0x08, 0, 0, 0, 0x0F, 0x02, 0xD8, 0xE6, 0x10, 0xF4 };
    probe_unpaged(code, sizeof code, 5);
}

TEST(probe_lsl_in_unpaged_protected_mode)
{
    /* mov eax, 8; lsl ebx, eax; out 0x10, al; hlt */
    static const uint8_t code[] = { 0xB8, 0x08, 0, 0, 0, 0x0F, 0x03, 0xD8, 0xE6, 0x10, 0xF4 };
    probe_unpaged(code, sizeof code, 5);
}

TEST(probe_enable_32bit_paging)
{
    const char *why = probe_skip();
    if (why) SKIP(why);
    /* mov eax, 0x10; mov cr4, eax (PSE); mov eax, PAGE_DIR; mov cr3, eax;
       mov eax, cr0; or eax, 0x80000000; mov cr0, eax; out 0x10, al; hlt */
    static const uint8_t code[] = { 0xB8, 0x10, 0, 0, 0, 0x0F, 0x22, 0xE0,
                                    0xB8, PAGE_DIR & 0xFF, PAGE_DIR >> 8, 0, 0, 0x0F, 0x22, 0xD8,
                                    0x0F, 0x20, 0xC0, 0x0D, 0, 0, 0, 0x80, 0x0F, 0x22, 0xC0,
                                    0xE6, 0x10, 0xF4 };
    struct probe p;
    unsigned port = 0;
    uint32_t sub = 0;
    CHECK(probe_open(&p));
    CHECK(probe_setup(&p, true, code, sizeof code));
    enum probe_end end = probe_run(&p, &port, &sub);
    CHECK_EQ(end, END_OUT);
    /* kvm-pvm: the #GP handler's OUT 11h; elsewhere paging is on: OUT 10h. */
    CHECK_EQ(port, kvm_host_detect("/sys/module") == KVM_HOST_PVM ? 0x11 : 0x10);
    probe_close(&p);
}

TEST(probe_step_from_breakpoint_at_real_mode_lgdt)
{
    const char *why = probe_skip();
    if (why) SKIP(why);
    /* o32 lgdt [GDT - 6] (a 6-byte pseudo-descriptor just below the GDT); out 0x10, al; hlt */
    static const uint8_t code[] = { 0x66, 0x0F, 0x01, 0x16, (GDT - 6) & 0xFF, (GDT - 6) >> 8, 0xE6, 0x10, 0xF4 };
    struct probe p;
    unsigned port = 0;
    uint32_t sub = 0;
    CHECK(probe_open(&p));
    p.ram[GDT - 6] = 23;   /* limit 23, base GDT */
    p.ram[GDT - 4] = GDT & 0xFF;
    p.ram[GDT - 3] = GDT >> 8;
    CHECK(probe_setup(&p, false, code, sizeof code));
    /* A debugger stopped at a breakpoint on the LGDT steps on with RF set
       (SDM Vol. 3B 17.3.1.1), as trapeze's monitor does. */
    struct kvm_guest_debug dbg = { .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP |
                                              KVM_GUESTDBG_USE_HW_BP };
    dbg.arch.debugreg[0] = CODE;
    dbg.arch.debugreg[7] = 0x401;   /* L0, execute, 1 byte */
    CHECK(ioctl(p.vcpu, KVM_SET_GUEST_DEBUG, &dbg) == 0);
    struct kvm_regs regs;
    CHECK(ioctl(p.vcpu, KVM_GET_REGS, &regs) == 0);
    regs.rflags |= 0x10000;         /* RF */
    CHECK(ioctl(p.vcpu, KVM_SET_REGS, &regs) == 0);
    enum probe_end end = probe_run(&p, &port, &sub);
    CHECK_EQ(end, END_DEBUG);
    /* kvm-pvm reports a debug exit without running it (KVM-HOSTS.md's no-progress case). */
    CHECK_EQ(probe_rip(&p), kvm_host_detect("/sys/module") == KVM_HOST_PVM ? CODE : CODE + 6);
    probe_close(&p);
}
