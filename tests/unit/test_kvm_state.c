/*
 * test_kvm_state.c - vmm/kvm_state.c: struct x86_state to and from the KVM
 * API's structs, and vmm/kvm_memmap.c's slot layout.  Runs on any host
 * (no /dev/kvm needed).
 *
 * The oracle is the KVM API's documentation of the structs
 * (Documentation/virt/kvm/api.rst: struct kvm_regs, kvm_segment,
 * kvm_sregs, kvm_debugregs, kvm_vcpu_events) and the SDM's descriptor and
 * RESET formats, written out here field by field.
 */
#include "tests/test.h"

#include <stdlib.h>

#include "vmm/kvm_memmap.h"
#include "vmm/kvm_state.h"

/* kvm_regs: rax rbx rcx rdx rsi rdi rsp rbp r8-r15 rip rflags, 64-bit each. */
TEST(regs_field_by_field_and_back)
{
    struct x86_state s = { 0 }, back = { 0 };
    struct kvm_regs k;
    for (int r = 0; r < 8; r++) s.regs[r] = 0x11111111u * (uint32_t)(r + 1);
    s.eip = 0x00101234;
    s.eflags = 0x00000246;   /* IF ZF PF and bit 1 */
    kvm_state_to_regs(&s, &k);
    CHECK_EQ(k.rax, 0x11111111);   /* EAX is register 0 */
    CHECK_EQ(k.rcx, 0x22222222);   /* ECX 1 */
    CHECK_EQ(k.rdx, 0x33333333);   /* EDX 2 */
    CHECK_EQ(k.rbx, 0x44444444);   /* EBX 3 */
    CHECK_EQ(k.rsp, 0x55555555);   /* ESP 4 */
    CHECK_EQ(k.rbp, 0x66666666);   /* EBP 5 */
    CHECK_EQ(k.rsi, 0x77777777);   /* ESI 6 */
    CHECK_EQ(k.rdi, 0x88888888);   /* EDI 7 */
    CHECK_EQ(k.r8 | k.r9 | k.r10 | k.r11 | k.r12 | k.r13 | k.r14 | k.r15, 0);
    CHECK_EQ(k.rip, 0x00101234);
    CHECK_EQ(k.rflags, 0x246);
    kvm_state_from_regs(&back, &k);
    CHECK(memcmp(back.regs, s.regs, sizeof s.regs) == 0);
    CHECK_EQ(back.eip, s.eip);
    CHECK_EQ(back.eflags, s.eflags);
}

TEST(regs_eflags_bit1_always_set)
{
    struct x86_state s = { 0 };
    struct kvm_regs k;
    kvm_state_to_regs(&s, &k);
    CHECK_EQ(k.rflags, 0x2);      /* SDM Vol. 1 3.4.3: bit 1 reserved, reads 1 */
}

/*
 * The descriptor 0x00CF9A00_0000FFFF (flat 4 GiB ring-0 code, SDM Vol. 3A
 * figure 3-8): type 1010b (execute/read), S 1, DPL 0, P 1, AVL 0, L 0,
 * D/B 1, G 1, limit FFFFF pages = FFFFFFFF bytes.  kvm_segment spells
 * those out one field each, limit in bytes.
 */
TEST(segment_flat_code_descriptor)
{
    struct x86_segment x = { .selector = 0x0008, .attr = 0xCF9A, .base = 0, .limit = 0xFFFFFFFFu };
    struct x86_segment back;
    struct kvm_segment k;
    kvm_segment_from_x86(&k, &x, true, KVM_SEG_CODE);
    CHECK_EQ(k.selector, 0x0008);
    CHECK_EQ(k.base, 0);
    CHECK_EQ(k.limit, 0xFFFFFFFFu);
    CHECK_EQ(k.type, 0xA);
    CHECK_EQ(k.s, 1);
    CHECK_EQ(k.dpl, 0);
    CHECK_EQ(k.present, 1);
    CHECK_EQ(k.avl, 0);
    CHECK_EQ(k.l, 0);
    CHECK_EQ(k.db, 1);
    CHECK_EQ(k.g, 1);
    CHECK_EQ(k.unusable, 0);
    kvm_segment_to_x86(&back, &k);
    CHECK_EQ(back.attr, 0xCF9A);  /* limit 19:16 comes back from the G-scaled limit */
    CHECK_EQ(back.limit, 0xFFFFFFFFu);
    CHECK_EQ(back.selector, 0x0008);
}

/* Ring-3 data, DPL 3, byte granular, limit 0x0FFFF, base 0x00123000: 0x0040F200... */
TEST(segment_ring3_data_byte_granular)
{
    struct x86_segment x = { .selector = 0x0023, .attr = 0x40F3, .base = 0x00123000, .limit = 0xFFFF };
    struct x86_segment back;
    struct kvm_segment k;
    kvm_segment_from_x86(&k, &x, true, KVM_SEG_DATA);
    CHECK_EQ(k.type, 0x3);        /* read/write, accessed */
    CHECK_EQ(k.dpl, 3);
    CHECK_EQ(k.g, 0);
    CHECK_EQ(k.db, 1);
    CHECK_EQ(k.base, 0x00123000);
    kvm_segment_to_x86(&back, &k);
    CHECK_EQ(back.attr, 0x40F3);
    CHECK_EQ(back.base, 0x00123000);
}

/* A null selector in DS in protected mode: not present, so "unusable"
   (VMX access rights bit 16, SDM Vol. 3C 24.4.1). */
TEST(segment_null_data_is_unusable)
{
    struct x86_segment x = { 0 }, back;
    struct kvm_segment k;
    kvm_segment_from_x86(&k, &x, true, KVM_SEG_DATA);
    CHECK_EQ(k.unusable, 1);
    CHECK_EQ(k.present, 0);
    k.present = 1;                /* KVM may report P with unusable set */
    kvm_segment_to_x86(&back, &k);
    CHECK_EQ(back.attr & SEG_ATTR_P, 0);
}

TEST(segment_real_mode_never_unusable)
{
    struct x86_segment x = { .selector = 0x1234, .attr = 0, .base = 0x12340, .limit = 0xFFFF };
    struct kvm_segment k;
    kvm_segment_from_x86(&k, &x, false, KVM_SEG_DATA);
    CHECK_EQ(k.unusable, 0);
    CHECK_EQ(k.present, 1);
    CHECK_EQ(k.s, 1);
    CHECK_EQ(k.type, 0x3);
    CHECK_EQ(k.base, 0x12340);
}

/* VM entry wants TR busy (type 3 or 11), S 0, P 1 (SDM Vol. 3C 26.3.1.2). */
TEST(segment_tr_gets_a_busy_tss)
{
    struct x86_segment avail = { .selector = 0x28, .attr = SEG_ATTR_P | 0x9, .base = 0x5000, .limit = 0x67 };
    struct x86_segment busy16 = { .selector = 0x28, .attr = SEG_ATTR_P | 0x3, .base = 0x5000, .limit = 0x2B };
    struct kvm_segment k;
    kvm_segment_from_x86(&k, &avail, true, KVM_SEG_TR);
    CHECK_EQ(k.type, 0xB);
    CHECK_EQ(k.s, 0);
    CHECK_EQ(k.present, 1);
    CHECK_EQ(k.unusable, 0);
    kvm_segment_from_x86(&k, &busy16, true, KVM_SEG_TR);
    CHECK_EQ(k.type, 0x3);
}

TEST(segment_null_ldtr_is_unusable)
{
    struct x86_segment x = { .selector = 0, .attr = SEG_ATTR_P | 0x2, .base = 0, .limit = 0xFFFF };
    struct kvm_segment k;
    kvm_segment_from_x86(&k, &x, true, KVM_SEG_LDTR);
    CHECK_EQ(k.unusable, 1);
    kvm_segment_from_x86(&k, &x, false, KVM_SEG_LDTR);   /* real mode: usable */
    CHECK_EQ(k.unusable, 0);
    x.selector = 0x30;
    kvm_segment_from_x86(&k, &x, true, KVM_SEG_LDTR);
    CHECK_EQ(k.unusable, 0);
    CHECK_EQ(k.type, 2);
}

/* RESET (SDM Vol. 3A table 9-1) as KVM_SET_SREGS wants it. */
TEST(sregs_reset_state)
{
    struct x86_state s, back;
    struct kvm_sregs k;
    memset(&k, 0xA5, sizeof k);
    kvm_state_reset(&s, 0x000306C3);
    CHECK_EQ(s.regs[R_EDX], 0x000306C3);
    CHECK_EQ(s.eip, 0xFFF0);
    kvm_state_to_sregs(&s, &k);
    CHECK_EQ(k.cs.selector, 0xF000);
    CHECK_EQ(k.cs.base, 0xFFFF0000u);
    CHECK_EQ(k.cs.limit, 0xFFFF);
    CHECK_EQ(k.cs.type, 0xB);
    CHECK_EQ(k.cs.present, 1);
    CHECK_EQ(k.cs.s, 1);
    CHECK_EQ(k.ds.type, 0x3);
    CHECK_EQ(k.ds.unusable, 0);
    CHECK_EQ(k.cr0, 0x60000010u);
    CHECK_EQ(k.cr2 | k.cr3 | k.cr4, 0);
    CHECK_EQ(k.gdt.base, 0);
    CHECK_EQ(k.gdt.limit, 0xFFFF);
    CHECK_EQ(k.idt.limit, 0xFFFF);
    CHECK_EQ(k.tr.type, 0xB);
    CHECK_EQ(k.ldt.type, 0x2);
    CHECK_EQ(k.efer, 0xA5A5A5A5A5A5A5A5ull);   /* left for the caller */
    memset(&back, 0, sizeof back);
    kvm_state_from_regs(&back, &(struct kvm_regs){ .rflags = 2 });
    kvm_state_from_sregs(&back, &k);
    for (int r = 0; r < SEG_COUNT; r++) {
        CHECK_EQ(back.seg[r].selector, s.seg[r].selector);
        CHECK_EQ(back.seg[r].base, s.seg[r].base);
        CHECK_EQ(back.seg[r].limit, s.seg[r].limit);
        CHECK_EQ(back.seg[r].attr, s.seg[r].attr);
    }
    CHECK_EQ(back.cr0, s.cr0);
    CHECK_EQ(back.cpl, 0);
    CHECK_EQ(back.tr.attr, s.tr.attr);
    CHECK_EQ(back.ldtr.attr, s.ldtr.attr);
}

/* CPL: SS.DPL in protected mode, 3 in virtual-8086 mode. */
TEST(sregs_cpl_is_ss_dpl)
{
    struct x86_state s = { 0 }, back = { 0 };
    struct kvm_sregs k;
    memset(&k, 0, sizeof k);
    s.cr0 = CR0_PE | CR0_ET;
    s.cpl = 3;
    s.seg[SEG_SS] = (struct x86_segment){ 0x23, 0xCFF3, 0, 0xFFFFFFFFu };
    s.seg[SEG_CS] = (struct x86_segment){ 0x1B, 0xCFFB, 0, 0xFFFFFFFFu };
    s.gdtr = (struct x86_dtable){ 0x00100000, 0x2F };
    s.idtr = (struct x86_dtable){ 0x00100800, 0x7FF };
    s.cr3 = 0x00200000;
    s.cr4 = CR4_PSE;
    s.cr2 = 0xDEADB000;
    kvm_state_to_sregs(&s, &k);
    CHECK_EQ(k.ss.dpl, 3);
    CHECK_EQ(k.gdt.base, 0x00100000);
    CHECK_EQ(k.gdt.limit, 0x2F);
    CHECK_EQ(k.idt.base, 0x00100800);
    CHECK_EQ(k.idt.limit, 0x7FF);
    CHECK_EQ(k.cr3, 0x00200000);
    CHECK_EQ(k.cr4, CR4_PSE);
    CHECK_EQ(k.cr2, 0xDEADB000u);
    back.eflags = 0x2;
    kvm_state_from_sregs(&back, &k);
    CHECK_EQ(back.cpl, 3);
    CHECK_EQ(back.cr3, 0x00200000);
    CHECK_EQ(back.gdtr.base, 0x00100000);
    back.eflags = 0x2 | EFLAGS_VM;
    k.ss.dpl = 3;
    kvm_state_from_sregs(&back, &k);
    CHECK_EQ(back.cpl, 3);
}

/* kvm_debugregs: db[4], dr6, dr7. */
TEST(debugregs_round_trip)
{
    struct x86_state s = { 0 }, back = { 0 };
    struct kvm_debugregs k;
    s.dr[0] = 0x1000; s.dr[1] = 0x2000; s.dr[2] = 0x3000; s.dr[3] = 0x4000;
    s.dr[6] = 0xFFFF0FF1u;
    s.dr[7] = 0x00000401u | (1u << 16);   /* L0, R/W0 = 01 */
    kvm_state_to_debugregs(&s, &k);
    CHECK_EQ(k.db[0], 0x1000);
    CHECK_EQ(k.db[3], 0x4000);
    CHECK_EQ(k.dr6, 0xFFFF0FF1u);
    CHECK_EQ(k.dr7, 0x00010401u);
    CHECK_EQ(k.flags, 0);
    kvm_state_from_debugregs(&back, &k);
    for (int i = 0; i < 4; i++) CHECK_EQ(back.dr[i], s.dr[i]);
    CHECK_EQ(back.dr[6], s.dr[6]);
    CHECK_EQ(back.dr[7], s.dr[7]);
    CHECK_EQ(back.dr[4], s.dr[6]);
    CHECK_EQ(back.dr[5], s.dr[7]);
}

/* kvm_vcpu_events.interrupt.shadow: KVM_X86_SHADOW_INT_MOV_SS 1, _STI 2. */
TEST(events_interrupt_shadow)
{
    struct x86_state s = { 0 }, back = { 0 };
    struct kvm_vcpu_events k;
    memset(&k, 0, sizeof k);
    s.interrupt_shadow = 1;
    s.eflags = 0x202;             /* after STI: IF = 1 */
    kvm_state_to_events(&s, &k);
    CHECK_EQ(k.interrupt.shadow, 2);
    CHECK(k.flags & KVM_VCPUEVENT_VALID_SHADOW);
    /* After CLI; MOV SS: IF = 0, and VMX refuses STI blocking with IF = 0
       (SDM Vol. 3C, checks on the interruptibility state): MOV SS's, 1. */
    s.eflags = 0x002;
    kvm_state_to_events(&s, &k);
    CHECK_EQ(k.interrupt.shadow, 1);
    s.interrupt_shadow = 0;
    kvm_state_to_events(&s, &k);
    CHECK_EQ(k.interrupt.shadow, 0);
    s.interrupt_shadow = 1;
    s.eflags = 0x202;
    kvm_state_to_events(&s, &k);
    kvm_state_from_events(&back, &k);
    CHECK_EQ(back.interrupt_shadow, 1);
    k.interrupt.shadow = 1;        /* MOV SS */
    kvm_state_from_events(&back, &k);
    CHECK_EQ(back.interrupt_shadow, 1);
    k.interrupt.shadow = 0;
    kvm_state_from_events(&back, &k);
    CHECK_EQ(back.interrupt_shadow, 0);
}

/*
 * RESET clears every event (SDM Vol. 3A 9.1.1).  api.rst, KVM_SET_VCPU_EVENTS:
 * exception/interrupt/nmi are always written; nmi.pending only with
 * KVM_VCPUEVENT_VALID_NMI_PENDING (0x1), the shadow only with
 * KVM_VCPUEVENT_VALID_SHADOW (0x4); SIPI (0x2) and SMM (0x8) left alone.
 */
TEST(events_reset_clears_injected_events)
{
    struct kvm_vcpu_events k;
    memset(&k, 0xA5, sizeof k);       /* a #DF still injected, an NMI pending, ... */
    kvm_events_reset(&k);
    CHECK_EQ(k.flags, 0x1 | 0x4);
    CHECK_EQ(k.exception.injected, 0);
    CHECK_EQ(k.exception.nr, 0);
    CHECK_EQ(k.exception.has_error_code, 0);
    CHECK_EQ(k.interrupt.injected, 0);
    CHECK_EQ(k.interrupt.shadow, 0);
    CHECK_EQ(k.nmi.injected, 0);
    CHECK_EQ(k.nmi.pending, 0);
    CHECK_EQ(k.nmi.masked, 0);
}

/*
 * fail_entry.hardware_entry_failure_reason: VMX puts the exit reason in,
 * bit 31 "VM-entry failure" set, basic reason in bits 15:0 (SDM Vol. 3C
 * appendix C: 33 = invalid guest state, 34 = MSR loading, 41 = machine
 * check); a VMLAUNCH that fails outright gives the VM-instruction error
 * (7 = invalid control fields); SVM gives VMEXIT_INVALID, -1.
 */
TEST(fail_entry_reason_text)
{
    char buf[96];
    CHECK_STR(kvm_fail_entry_text(0x80000021ull, buf, sizeof buf),
              "VMX VM-entry failure, basic exit reason 33: invalid guest state");
    CHECK_STR(kvm_fail_entry_text(0x80000022ull, buf, sizeof buf),
              "VMX VM-entry failure, basic exit reason 34: MSR loading");
    CHECK_STR(kvm_fail_entry_text(0x80000029ull, buf, sizeof buf),
              "VMX VM-entry failure, basic exit reason 41: machine-check event");
    CHECK_STR(kvm_fail_entry_text(7, buf, sizeof buf), "VMX VM-instruction error 7: invalid control fields");
    CHECK_STR(kvm_fail_entry_text(0xFFFFFFFFFFFFFFFFull, buf, sizeof buf),
              "SVM VMEXIT_INVALID: the guest state failed VMRUN's consistency checks");
}

TEST(cpuid_filter_drops_apic_and_hypervisor_leaves)
{
    struct kvm_cpuid_entry2 e[4];
    memset(e, 0, sizeof e);
    e[0].function = 0; e[0].eax = 0xD;
    e[1].function = 1; e[1].eax = 0x000306C3; e[1].ebx = 0x05100800;
    e[1].ecx = (1u << 21) | (1u << 24) | (1u << 31) | 1u;   /* x2APIC, TSC-deadline, hypervisor, SSE3 */
    e[1].edx = (1u << 9) | (1u << 4) | 1u;                   /* APIC, TSC, FPU */
    e[2].function = 0x40000001;
    e[3].function = 0x80000000;
    int n = kvm_cpuid_filter(e, 4);
    CHECK_EQ(n, 3);
    CHECK_EQ(e[1].ecx, (1u << 31) | 1u);
    CHECK_EQ(e[1].edx, (1u << 4) | 1u);
    CHECK_EQ(e[1].ebx, 0x00100800);
    CHECK_EQ(e[2].function, 0x80000000u);
}

TEST(exit_names)
{
    char buf[32];
    CHECK_STR(kvm_exit_name(KVM_EXIT_IO, buf, sizeof buf), "KVM_EXIT_IO");            /* 2 */
    CHECK_STR(kvm_exit_name(KVM_EXIT_INTERNAL_ERROR, buf, sizeof buf), "KVM_EXIT_INTERNAL_ERROR");
    CHECK_STR(kvm_exit_name(KVM_EXIT_FAIL_ENTRY, buf, sizeof buf), "KVM_EXIT_FAIL_ENTRY");
    CHECK_STR(kvm_exit_name(999, buf, sizeof buf), "KVM_EXIT_999");
}

/* ---- kvm_memmap ---- */

TEST(memmap_ram_and_bios)
{
    struct bus bus;
    struct kvm_piece p[KVM_MEMMAP_MAX];
    static uint8_t rom[65536];
    CHECK_EQ(bus_init(&bus, 128u << 20), 0);
    CHECK_EQ(bus_add_rom(&bus, "bios", 0xFFFF0000u, rom, sizeof rom), 0);
    CHECK_EQ(bus_add_rom(&bus, "isa-bios", 0xF0000, rom, sizeof rom), 0);
    int n = kvm_memmap_build(&bus, p, KVM_MEMMAP_MAX);
    CHECK_EQ(n, 5);
    if (n == 5) {
        CHECK_EQ(p[0].start, 0);           CHECK_EQ(p[0].end, 0xF0000);   CHECK_EQ(p[0].kind, KVM_PIECE_RAM);
        CHECK_EQ(p[1].start, 0xF0000);     CHECK_EQ(p[1].end, 0x100000);  CHECK_EQ(p[1].kind, KVM_PIECE_ROM);
        CHECK_EQ(p[2].start, 0x100000);    CHECK_EQ(p[2].end, 0x110000);  CHECK(p[2].hma);
        CHECK_EQ(p[3].start, 0x110000);    CHECK_EQ(p[3].end, 128u << 20); CHECK(!p[3].hma);
        CHECK_EQ(p[4].start, 0xFFFF0000u); CHECK_EQ(p[4].end, 0x100000000ull); CHECK_EQ(p[4].kind, KVM_PIECE_ROM);
    }
    bus_destroy(&bus);
}

static uint32_t dummy_read(void *o, uint32_t off, unsigned size) { (void)o; (void)off; (void)size; return 0; }
static void dummy_write(void *o, uint32_t off, uint32_t v, unsigned size) { (void)o; (void)off; (void)v; (void)size; }

/* MMIO gets no slot; an unaligned region is widened to whole pages. */
TEST(memmap_mmio_hole_and_unaligned_rom)
{
    static const struct io_ops ops = { dummy_read, dummy_write };
    struct bus bus;
    struct kvm_piece p[KVM_MEMMAP_MAX];
    static uint8_t rom[512];
    CHECK_EQ(bus_init(&bus, 16u << 20), 0);
    CHECK_EQ(bus_add_mmio(&bus, "vga", 0xA0000, 0x20000, &ops, NULL), 0);
    CHECK_EQ(bus_add_rom(&bus, "tiny", 0xFFFFFE00u, rom, sizeof rom), 0);
    int n = kvm_memmap_build(&bus, p, KVM_MEMMAP_MAX);
    CHECK_EQ(n, 5);
    if (n == 5) {
        CHECK_EQ(p[0].end, 0xA0000);
        CHECK_EQ(p[1].start, 0xC0000);     CHECK_EQ(p[1].end, 0x100000);
        CHECK_EQ(p[2].start, 0x100000);    CHECK(p[2].hma);
        CHECK_EQ(p[3].end, 16u << 20);
        CHECK_EQ(p[4].start, 0xFFFFF000u); CHECK_EQ(p[4].kind, KVM_PIECE_ROM);
    }
    bus_destroy(&bus);
}

TEST_MAIN()
