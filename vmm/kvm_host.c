/*
 * kvm_host.c - the host's KVM kind and the modes it cannot run natively
 * (kvm_host.h; the facts are ../shared/KVM-HOSTS.md's, measured there and
 * again by tests/guests/kvm.sh on such a host).
 */
#include "vmm/kvm_host.h"

#include <stdio.h>
#include <unistd.h>

static bool module_loaded(const char *sysfs_module, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", sysfs_module, name);
    return access(path, F_OK) == 0;
}

enum kvm_host_kind kvm_host_detect(const char *sysfs_module)
{
    /* kvm-pvm first: a nested host may also show kvm_intel's directory. */
    if (module_loaded(sysfs_module, "kvm_pvm")) return KVM_HOST_PVM;
    if (module_loaded(sysfs_module, "kvm_intel")) return KVM_HOST_VMX;
    if (module_loaded(sysfs_module, "kvm_amd")) return KVM_HOST_SVM;
    return KVM_HOST_UNKNOWN;
}

static const struct { const char *name, *description; } kvm_host_kinds[] = {
    [KVM_HOST_UNKNOWN] = { "unknown", "no kvm_intel, kvm_amd or kvm_pvm module seen: treated as hardware assist" },
    [KVM_HOST_VMX] = { "VT-x (kvm-intel)", "hardware assist: Intel VT-x runs the guest in VMX non-root mode" },
    [KVM_HOST_SVM] = { "AMD-V (kvm-amd)", "hardware assist: AMD-V runs the guest in SVM guest mode" },
    [KVM_HOST_PVM] = { "kvm-pvm", "a software hypervisor without VT-x: real mode through KVM's instruction "
                                  "emulator, protected mode (unpaged or 32-bit paging) not at all" },
};

const char *kvm_host_name(enum kvm_host_kind kind)
{
    return kvm_host_kinds[kind <= KVM_HOST_PVM ? kind : KVM_HOST_UNKNOWN].name;
}

const char *kvm_host_description(enum kvm_host_kind kind)
{
    return kvm_host_kinds[kind <= KVM_HOST_PVM ? kind : KVM_HOST_UNKNOWN].description;
}

enum kvm_host_limit kvm_host_mode_limit(enum kvm_host_kind kind, const struct x86_state *s)
{
    if (kind != KVM_HOST_PVM || !(s->cr0 & CR0_PE))
        return KVM_LIMIT_NONE;
    if (!(s->cr0 & CR0_PG))
        return KVM_LIMIT_UNPAGED_PMODE;
    if (!(s->cr4 & CR4_PAE))
        return KVM_LIMIT_PAGING32;
    return KVM_LIMIT_NONE;
}

const char *kvm_limit_id(enum kvm_host_limit limit)
{
    switch (limit) {
    case KVM_LIMIT_UNPAGED_PMODE: return "unpaged-protected-mode";
    case KVM_LIMIT_PAGING32: return "32-bit-paging";
    case KVM_LIMIT_NO_PROGRESS: return "no-progress";
    default: return "none";
    }
}

const char *kvm_limit_text(enum kvm_host_limit limit)
{
    switch (limit) {
    case KVM_LIMIT_UNPAGED_PMODE:
        return "cannot run protected mode without paging natively (KVM's instruction emulator "
               "would run it one instruction at a time and stops at IRETD, LAR and LSL)";
    case KVM_LIMIT_PAGING32:
        return "cannot run 32-bit (non-PAE) paging (MOV to CR0 setting PG raises #GP in the guest)";
    case KVM_LIMIT_NO_PROGRESS:
        return "makes no progress here (KVM_RUN returns with no exit and the registers unchanged, "
               "where the software CPU goes on)";
    default: return "can run this";
    }
}
