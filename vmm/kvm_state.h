/*
 * kvm_state.h - struct x86_state to and from the structs of the KVM API.
 *
 * The kvm engine (vmm/engine_kvm.c) keeps no architectural state of its
 * own: KVM holds it, and these pure functions move it between KVM's
 * structs (linux/kvm.h, asm/kvm.h; Documentation/virt/kvm/api.rst,
 * "KVM_GET_REGS", "KVM_GET_SREGS", "KVM_GET_DEBUGREGS",
 * "KVM_GET_VCPU_EVENTS") and the one state snapshots, the monitor and the
 * GDB stub use.  They touch no file descriptor, so they are unit-tested on
 * hosts without /dev/kvm (tests/unit/test_kvm_state.c).
 *
 * What KVM wants that x86_state does not say, and how it is filled in:
 *   - kvm_segment spells the descriptor's attribute bits out one field each
 *     (type, s, dpl, present, avl, l, db, g) plus 'unusable', VMX's flag for
 *     a segment register loaded with a null selector (SDM Vol. 3C 24.4.1,
 *     "unusable" bit 16 of the access-rights field).  A protected-mode data
 *     segment or LDTR whose cached descriptor is not present is unusable.
 *   - VM entry requires TR to hold a busy TSS (type 3 or 11, S = 0, P = 1;
 *     SDM Vol. 3C 26.3.1.2 "Checks on Guest Segment Registers", TR).  A
 *     state whose TR is anything else gets the RESET value's type 11.
 *   - In real mode every segment is usable (SDM Vol. 3A 20.1.1); a state
 *     whose real-mode segment has P = 0 (never loaded) goes in as a
 *     present read/write data segment (code for CS), the RESET attributes.
 *   - CPL: VMX and SVM both take it from SS.DPL (SDM Vol. 3C 26.3.1.2, "SS.
 *     DPL ... equals the CPL"; AMD APM Vol. 2 15.5.1, VMCB CPL = SS.DPL as
 *     KVM reports it), so SS.DPL goes in as x86_state.cpl, and cpl comes
 *     back as SS.DPL in protected mode, 3 in virtual-8086 mode, 0 in real
 *     mode.
 */
#ifndef TRAPEZE_KVM_STATE_H
#define TRAPEZE_KVM_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "cpu/x86_state.h"

/* IA32_TIME_STAMP_COUNTER (SDM Vol. 4 table 2-2, MSR 0x10): x86_state.tsc. */
#define KVM_MSR_IA32_TSC 0x00000010u

/* General registers, EIP and EFLAGS; r8-r15 and the upper halves are zero. */
void kvm_state_to_regs(const struct x86_state *s, struct kvm_regs *k);
void kvm_state_from_regs(struct x86_state *s, const struct kvm_regs *k);

/*
 * Segment registers, LDTR, TR, GDTR, IDTR, CR0-CR4.  kvm_state_to_sregs
 * fills every field x86_state knows and leaves cr8, efer, apic_base and
 * interrupt_bitmap as they were in *k (get them from KVM first): EFER is 0
 * on an i386, and trapeze injects interrupts itself.
 */
void kvm_state_to_sregs(const struct x86_state *s, struct kvm_sregs *k);
void kvm_state_from_sregs(struct x86_state *s, const struct kvm_sregs *k);

/* One segment register: 'protected_mode' is CR0.PE; 'which' says whose fix-ups apply. */
enum kvm_seg_kind { KVM_SEG_CODE, KVM_SEG_DATA, KVM_SEG_LDTR, KVM_SEG_TR };
void kvm_segment_from_x86(struct kvm_segment *k, const struct x86_segment *x,
                          bool protected_mode, enum kvm_seg_kind which);
void kvm_segment_to_x86(struct x86_segment *x, const struct kvm_segment *k);

/* DR0-DR3, DR6, DR7 (DR4/DR5 alias DR6/DR7 and are copied from them). */
void kvm_state_to_debugregs(const struct x86_state *s, struct kvm_debugregs *k);
void kvm_state_from_debugregs(struct x86_state *s, const struct kvm_debugregs *k);

/*
 * The STI / MOV SS interrupt shadow (SDM Vol. 3A 6.8.3).  x86_state has one
 * flag; KVM two bits.  Going in it becomes KVM_X86_SHADOW_INT_STI (blocks
 * interrupts for one instruction, which is what the flag means to the
 * software CPU) when EFLAGS.IF = 1, and KVM_X86_SHADOW_INT_MOV_SS when
 * IF = 0 (VMX refuses STI blocking with IF = 0: SDM Vol. 3C, "Checks on
 * Guest Non-Register State"); coming out either bit sets it.  Only the
 * shadow and its valid flag are touched in *k.
 */
void kvm_state_to_events(const struct x86_state *s, struct kvm_vcpu_events *k);
void kvm_state_from_events(struct x86_state *s, const struct kvm_vcpu_events *k);

/*
 * kvm_vcpu_events as RESET leaves them (SDM Vol. 3A 9.1.1: no event
 * pending or being delivered, NMIs unmasked, no interrupt shadow): every
 * field 0, with flags KVM_VCPUEVENT_VALID_NMI_PENDING and
 * KVM_VCPUEVENT_VALID_SHADOW so KVM_SET_VCPU_EVENTS also clears
 * nmi.pending and the shadow (api.rst, "KVM_SET_VCPU_EVENTS").  Without
 * it an exception KVM still holds as injected - the #DF behind a triple
 * fault's KVM_EXIT_SHUTDOWN - is delivered again after the reset.
 */
void kvm_events_reset(struct kvm_vcpu_events *k);

/*
 * kvm_run.fail_entry.hardware_entry_failure_reason in words (api.rst,
 * "KVM_EXIT_FAIL_ENTRY"; KVM passes the hardware's value through):
 *   - bit 31 set: a VMX exit reason for a failed VM entry, basic reason in
 *     bits 15:0 (SDM Vol. 3C "VM-Entry Failures During or After Loading
 *     Guest State", appendix C): 33 invalid guest state, 34 MSR loading,
 *     41 machine-check event;
 *   - all ones (as 32 or 64 bits): SVM's VMEXIT_INVALID, VMRUN's
 *     consistency checks on the VMCB failed (AMD APM Vol. 2 15.5.1);
 *   - otherwise: VMX's VM-instruction error number for a VMLAUNCH/VMRESUME
 *     that failed outright (SDM Vol. 3C "VM-Instruction Error Numbers":
 *     7 invalid control fields, 8 invalid host-state fields).
 * Returns buf.
 */
const char *kvm_fail_entry_text(uint64_t reason, char *buf, unsigned buflen);

/* The RESET state (SDM Vol. 3A 9.1.1 table 9-1: x86_state_power_on), with
 * 'signature' in EDX and the DR4/DR5 aliases KVM_SET_DEBUGREGS expects filled in. */
void kvm_state_reset(struct x86_state *s, uint32_t signature);

/*
 * Filter KVM_GET_SUPPORTED_CPUID's answer to what trapeze's board has
 * (in place; returns the new entry count):
 *   - CPUID.1:EDX bit 9 APIC, CPUID.1:ECX bit 21 x2APIC and bit 24
 *     TSC-deadline cleared: the board has a PIC and no local APIC;
 *   - CPUID.1:EBX bits 31:24 (initial APIC ID) zeroed;
 *   - the hypervisor leaves 0x40000000-0x4FFFFFFF (KVM's paravirtual
 *     clock, steal time, ...) removed: trapeze offers no paravirtual
 *     devices, and its time is the virtual clock of base/clock.h;
 *   - CPUID.1:ECX bit 31 (hypervisor present) kept: it is true.
 * (SDM Vol. 2A CPUID, tables 3-10 and 3-11.)
 */
int kvm_cpuid_filter(struct kvm_cpuid_entry2 *entries, int count);

/* "KVM_EXIT_IO", ... for a kvm_run exit_reason; "KVM_EXIT_<n>" when unknown. */
const char *kvm_exit_name(uint32_t reason, char *buf, unsigned buflen);

#endif
