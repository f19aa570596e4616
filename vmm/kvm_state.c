/*
 * kvm_state.c - struct x86_state to and from the KVM API's structs (see
 * kvm_state.h for the fix-ups and why).
 */
#include "vmm/kvm_state.h"

#include <stdio.h>
#include <string.h>

void kvm_state_to_regs(const struct x86_state *s, struct kvm_regs *k)
{
    memset(k, 0, sizeof *k);
    k->rax = s->regs[R_EAX];
    k->rbx = s->regs[R_EBX];
    k->rcx = s->regs[R_ECX];
    k->rdx = s->regs[R_EDX];
    k->rsi = s->regs[R_ESI];
    k->rdi = s->regs[R_EDI];
    k->rsp = s->regs[R_ESP];
    k->rbp = s->regs[R_EBP];
    k->rip = s->eip;
    k->rflags = s->eflags | EFLAGS_FIXED1;   /* bit 1 reads 1 (SDM Vol. 1 3.4.3) */
}

void kvm_state_from_regs(struct x86_state *s, const struct kvm_regs *k)
{
    s->regs[R_EAX] = (uint32_t)k->rax;
    s->regs[R_EBX] = (uint32_t)k->rbx;
    s->regs[R_ECX] = (uint32_t)k->rcx;
    s->regs[R_EDX] = (uint32_t)k->rdx;
    s->regs[R_ESI] = (uint32_t)k->rsi;
    s->regs[R_EDI] = (uint32_t)k->rdi;
    s->regs[R_ESP] = (uint32_t)k->rsp;
    s->regs[R_EBP] = (uint32_t)k->rbp;
    s->eip = (uint32_t)k->rip;
    s->eflags = (uint32_t)k->rflags;
}

/* TSS types that VM entry accepts in TR (SDM Vol. 3C 26.3.1.2). */
#define TSS16_BUSY 0x3
#define TSS32_BUSY 0xB

void kvm_segment_from_x86(struct kvm_segment *k, const struct x86_segment *x,
                          bool protected_mode, enum kvm_seg_kind which)
{
    uint16_t a = x->attr;

    memset(k, 0, sizeof *k);
    k->base = x->base;
    k->limit = x->limit;
    k->selector = x->selector;
    k->type = a & SEG_ATTR_TYPE_MASK;
    k->s = (a & SEG_ATTR_S) != 0;
    k->dpl = (a & SEG_ATTR_DPL) >> SEG_ATTR_DPL_SHIFT;
    k->present = (a & SEG_ATTR_P) != 0;
    k->avl = (a & SEG_ATTR_AVL) != 0;
    k->l = 0;                                 /* no IA-32e mode on an i386 */
    k->db = (a & SEG_ATTR_DB) != 0;
    k->g = (a & SEG_ATTR_G) != 0;

    switch (which) {
    case KVM_SEG_TR:
        if (k->type != TSS16_BUSY && k->type != TSS32_BUSY)
            k->type = TSS32_BUSY;
        k->s = 0;
        k->present = 1;
        break;
    case KVM_SEG_LDTR:
        k->unusable = protected_mode && ((x->selector & 0xFFFC) == 0 || !k->present);
        break;
    case KVM_SEG_CODE:
    case KVM_SEG_DATA:
        if (!protected_mode && !k->present) {
            /* Never loaded since RESET: the RESET attributes (table 9-1). */
            k->type = which == KVM_SEG_CODE ? 0xB : 0x3;
            k->s = 1;
            k->present = 1;
            k->dpl = 0;
        }
        k->unusable = protected_mode && which == KVM_SEG_DATA && !k->present;
        break;
    }
}

void kvm_segment_to_x86(struct x86_segment *x, const struct kvm_segment *k)
{
    uint16_t a = (uint16_t)(k->type & SEG_ATTR_TYPE_MASK);

    if (k->s) a |= SEG_ATTR_S;
    a |= (uint16_t)((k->dpl & 3u) << SEG_ATTR_DPL_SHIFT);
    if (k->present && !k->unusable) a |= SEG_ATTR_P;
    if (k->avl) a |= SEG_ATTR_AVL;
    if (k->db) a |= SEG_ATTR_DB;
    if (k->g) a |= SEG_ATTR_G;
    /* Bits 8-11: limit 19:16 as the descriptor held them (the software CPU
       loads attr straight from the descriptor's high dword). */
    a |= (uint16_t)(((k->g ? k->limit >> 28 : k->limit >> 16) & 0xFu) << 8);
    x->selector = k->selector;
    x->attr = a;
    x->base = (uint32_t)k->base;
    x->limit = k->limit;
}

void kvm_state_to_sregs(const struct x86_state *s, struct kvm_sregs *k)
{
    bool pe = (s->cr0 & CR0_PE) != 0;
    struct kvm_segment *seg[SEG_COUNT] = { &k->es, &k->cs, &k->ss, &k->ds, &k->fs, &k->gs };

    for (int r = 0; r < SEG_COUNT; r++)
        kvm_segment_from_x86(seg[r], &s->seg[r], pe, r == SEG_CS ? KVM_SEG_CODE : KVM_SEG_DATA);
    if (pe && !(s->eflags & EFLAGS_VM))
        k->ss.dpl = s->cpl & 3;               /* KVM takes CPL from SS.DPL */
    kvm_segment_from_x86(&k->ldt, &s->ldtr, pe, KVM_SEG_LDTR);
    kvm_segment_from_x86(&k->tr, &s->tr, pe, KVM_SEG_TR);
    memset(&k->gdt, 0, sizeof k->gdt);
    memset(&k->idt, 0, sizeof k->idt);
    k->gdt.base = s->gdtr.base;
    k->gdt.limit = s->gdtr.limit;
    k->idt.base = s->idtr.base;
    k->idt.limit = s->idtr.limit;
    k->cr0 = s->cr0;
    k->cr2 = s->cr2;
    k->cr3 = s->cr3;
    k->cr4 = s->cr4;
}

void kvm_state_from_sregs(struct x86_state *s, const struct kvm_sregs *k)
{
    const struct kvm_segment *seg[SEG_COUNT] = { &k->es, &k->cs, &k->ss, &k->ds, &k->fs, &k->gs };

    for (int r = 0; r < SEG_COUNT; r++)
        kvm_segment_to_x86(&s->seg[r], seg[r]);
    kvm_segment_to_x86(&s->ldtr, &k->ldt);
    kvm_segment_to_x86(&s->tr, &k->tr);
    s->gdtr.base = (uint32_t)k->gdt.base;
    s->gdtr.limit = k->gdt.limit;
    s->idtr.base = (uint32_t)k->idt.base;
    s->idtr.limit = k->idt.limit;
    s->cr0 = (uint32_t)k->cr0;
    s->cr2 = (uint32_t)k->cr2;
    s->cr3 = (uint32_t)k->cr3;
    s->cr4 = (uint32_t)k->cr4;
    if (!(s->cr0 & CR0_PE))
        s->cpl = 0;
    else if (s->eflags & EFLAGS_VM)           /* needs kvm_state_from_regs first */
        s->cpl = 3;
    else
        s->cpl = k->ss.dpl & 3;
}

void kvm_state_to_debugregs(const struct x86_state *s, struct kvm_debugregs *k)
{
    memset(k, 0, sizeof *k);
    for (int i = 0; i < 4; i++)
        k->db[i] = s->dr[i];
    k->dr6 = s->dr[6];
    k->dr7 = s->dr[7];
}

void kvm_state_from_debugregs(struct x86_state *s, const struct kvm_debugregs *k)
{
    for (int i = 0; i < 4; i++)
        s->dr[i] = (uint32_t)k->db[i];
    s->dr[6] = (uint32_t)k->dr6;
    s->dr[7] = (uint32_t)k->dr7;
    s->dr[4] = s->dr[6];   /* DR4/DR5 alias DR6/DR7 with CR4.DE = 0 (SDM Vol. 3B 17.2.2) */
    s->dr[5] = s->dr[7];
}

void kvm_state_to_events(const struct x86_state *s, struct kvm_vcpu_events *k)
{
    /* VM entry refuses blocking by STI with RFLAGS.IF = 0 (SDM Vol. 3C,
       "Checks on Guest Non-Register State", interruptibility state bit 0):
       a shadow with IF = 0 (MOV SS / POP SS after CLI) goes in as MOV SS's. */
    if (!s->interrupt_shadow)
        k->interrupt.shadow = 0;
    else
        k->interrupt.shadow = (s->eflags & EFLAGS_IF) ? KVM_X86_SHADOW_INT_STI : KVM_X86_SHADOW_INT_MOV_SS;
    k->flags |= KVM_VCPUEVENT_VALID_SHADOW;
}

void kvm_state_from_events(struct x86_state *s, const struct kvm_vcpu_events *k)
{
    s->interrupt_shadow = (k->interrupt.shadow & (KVM_X86_SHADOW_INT_STI | KVM_X86_SHADOW_INT_MOV_SS)) ? 1 : 0;
}

void kvm_events_reset(struct kvm_vcpu_events *k)
{
    memset(k, 0, sizeof *k);
    k->flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
}

const char *kvm_fail_entry_text(uint64_t reason, char *buf, unsigned buflen)
{
    if (reason == UINT64_MAX || reason == UINT32_MAX) {
        snprintf(buf, buflen, "SVM VMEXIT_INVALID: the guest state failed VMRUN's consistency checks");
    } else if (reason & 0x80000000u) {
        unsigned basic = (unsigned)(reason & 0xFFFFu);
        const char *what = basic == 33 ? "invalid guest state"
                         : basic == 34 ? "MSR loading"
                         : basic == 41 ? "machine-check event" : "undocumented";
        snprintf(buf, buflen, "VMX VM-entry failure, basic exit reason %u: %s", basic, what);
    } else {
        const char *what = reason == 7 ? "invalid control fields"
                         : reason == 8 ? "invalid host-state fields" : "see the SDM's table";
        snprintf(buf, buflen, "VMX VM-instruction error %llu: %s", (unsigned long long)reason, what);
    }
    return buf;
}

void kvm_state_reset(struct x86_state *s, uint32_t signature)
{
    x86_state_power_on(s, signature);
    s->dr[4] = DR6_FIXED1;   /* DR4/DR5 alias DR6/DR7 (CR4.DE = 0) */
    s->dr[5] = DR7_FIXED1;
}

/* CPUID bits the board does not have (SDM Vol. 2A CPUID, tables 3-10, 3-11). */
#define CPUID1_ECX_X2APIC       (1u << 21)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_EDX_APIC         (1u << 9)
#define CPUID_HYPERVISOR_FIRST  0x40000000u
#define CPUID_HYPERVISOR_LAST   0x4FFFFFFFu

int kvm_cpuid_filter(struct kvm_cpuid_entry2 *e, int count)
{
    int n = 0;
    for (int i = 0; i < count; i++) {
        struct kvm_cpuid_entry2 x = e[i];
        if (x.function >= CPUID_HYPERVISOR_FIRST && x.function <= CPUID_HYPERVISOR_LAST)
            continue;
        if (x.function == 1) {
            x.ecx &= ~(CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE);
            x.edx &= ~CPUID1_EDX_APIC;
            x.ebx &= 0x00FFFFFFu;             /* initial APIC ID 0 */
        }
        e[n++] = x;
    }
    return n;
}

static const char *const kvm_exit_names[] = {
    [KVM_EXIT_UNKNOWN] = "KVM_EXIT_UNKNOWN",
    [KVM_EXIT_EXCEPTION] = "KVM_EXIT_EXCEPTION",
    [KVM_EXIT_IO] = "KVM_EXIT_IO",
    [KVM_EXIT_HYPERCALL] = "KVM_EXIT_HYPERCALL",
    [KVM_EXIT_DEBUG] = "KVM_EXIT_DEBUG",
    [KVM_EXIT_HLT] = "KVM_EXIT_HLT",
    [KVM_EXIT_MMIO] = "KVM_EXIT_MMIO",
    [KVM_EXIT_IRQ_WINDOW_OPEN] = "KVM_EXIT_IRQ_WINDOW_OPEN",
    [KVM_EXIT_SHUTDOWN] = "KVM_EXIT_SHUTDOWN",
    [KVM_EXIT_FAIL_ENTRY] = "KVM_EXIT_FAIL_ENTRY",
    [KVM_EXIT_INTR] = "KVM_EXIT_INTR",
    [KVM_EXIT_SET_TPR] = "KVM_EXIT_SET_TPR",
    [KVM_EXIT_TPR_ACCESS] = "KVM_EXIT_TPR_ACCESS",
    [KVM_EXIT_NMI] = "KVM_EXIT_NMI",
    [KVM_EXIT_INTERNAL_ERROR] = "KVM_EXIT_INTERNAL_ERROR",
    [KVM_EXIT_OSI] = "KVM_EXIT_OSI",
    [KVM_EXIT_WATCHDOG] = "KVM_EXIT_WATCHDOG",
    [KVM_EXIT_EPR] = "KVM_EXIT_EPR",
    [KVM_EXIT_SYSTEM_EVENT] = "KVM_EXIT_SYSTEM_EVENT",
    [KVM_EXIT_IOAPIC_EOI] = "KVM_EXIT_IOAPIC_EOI",
    [KVM_EXIT_HYPERV] = "KVM_EXIT_HYPERV",
};

const char *kvm_exit_name(uint32_t reason, char *buf, unsigned buflen)
{
    if (reason < sizeof kvm_exit_names / sizeof kvm_exit_names[0] && kvm_exit_names[reason])
        return kvm_exit_names[reason];
    snprintf(buf, buflen, "KVM_EXIT_%u", reason);
    return buf;
}
