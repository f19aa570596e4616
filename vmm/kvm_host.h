/*
 * kvm_host.h - what kind of KVM this host has, and what it cannot run.
 *
 * /dev/kvm speaks one API over very different hypervisors
 * (../shared/KVM-HOSTS.md, vmm/README.md "Host kinds"):
 *   - kvm-intel (VT-x) and kvm-amd (AMD-V): the hardware runs the guest in
 *     a guest mode, every i386 mode included (real mode through
 *     "unrestricted guest" or a virtual-8086 task);
 *   - kvm-pvm: a software hypervisor in the host kernel, no VT-x.  It runs
 *     64-bit guests deprivileged with shadow page tables; an i386 guest's
 *     real mode and unpaged protected mode go through KVM's instruction
 *     emulator one instruction at a time (measured: about 4 MIPS in real
 *     mode), which fails at IRETD, LAR and LSL in protected mode
 *     (KVM_EXIT_INTERNAL_ERROR), makes no progress at a real-mode LGDT
 *     (KVM_RUN returns EINTR forever), and MOV to CR0 setting PG with
 *     32-bit (non-PAE) paging raises #GP inside the guest.
 * These functions are pure (the detection reads /sys/module only), so
 * tests/unit/test_kvm_host.c checks the rules on every host.
 */
#ifndef TRAPEZE_KVM_HOST_H
#define TRAPEZE_KVM_HOST_H

#include <stdbool.h>

#include "cpu/x86_state.h"

enum kvm_host_kind {
    KVM_HOST_UNKNOWN,   /* /dev/kvm answers, no known module loaded */
    KVM_HOST_VMX,       /* kvm-intel: VT-x */
    KVM_HOST_SVM,       /* kvm-amd: AMD-V */
    KVM_HOST_PVM,       /* kvm-pvm: a software hypervisor, no VT-x */
};

/* The host's kind, from /sys/module (kvm_pvm, kvm_intel, kvm_amd) under
   'sysfs_module' (normally "/sys/module"). */
enum kvm_host_kind kvm_host_detect(const char *sysfs_module);
/* "kvm-pvm", "VT-x (kvm-intel)", "AMD-V (kvm-amd)", "unknown". */
const char *kvm_host_name(enum kvm_host_kind kind);
/* One phrase saying what the kind is, for -stats and `info kvm`. */
const char *kvm_host_description(enum kvm_host_kind kind);

/* A mode of the guest that a host cannot run natively. */
enum kvm_host_limit {
    KVM_LIMIT_NONE,
    KVM_LIMIT_UNPAGED_PMODE,   /* CR0.PE = 1, CR0.PG = 0 */
    KVM_LIMIT_PAGING32,        /* CR0.PG = 1, CR4.PAE = 0: 32-bit paging */
    KVM_LIMIT_NO_PROGRESS,     /* not a mode: KVM_RUN made no progress (see engine_kvm.c) */
    KVM_LIMIT_COUNT
};

/* The mode limit that state 's' meets on host 'kind', or KVM_LIMIT_NONE. */
enum kvm_host_limit kvm_host_mode_limit(enum kvm_host_kind kind, const struct x86_state *s);
/* Short names for lines tests parse: "unpaged-protected-mode", "32-bit-paging", "no-progress". */
const char *kvm_limit_id(enum kvm_host_limit limit);
/* What the host cannot do, as a phrase: "run protected mode without paging natively ...". */
const char *kvm_limit_text(enum kvm_host_limit limit);

#endif
