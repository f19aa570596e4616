/*
 * test_protected.c - protected-mode control transfers and event delivery:
 * segment loads, far JMP/CALL/RET, call gates, IRET, interrupt and trap
 * gates, task switches.  One SDM rule per test, each citing its section.
 *
 * Memory map of the machine every test builds (linear = physical):
 *   0x0500 GDT (prot_init)      0x1000 test code      0x2000 handler (HLT)
 *   0x3000 TSS A (current)      0x3100 TSS B          0x3200 TSS C (too small)
 *   0x8000 IDT (256 gates)      0x70000 ring-0 stack top (TSS A SS0:ESP0)
 *   0x80000 the test's own stack top
 */
#include "tests/cpu_harness.h"
#include "tests/test.h"

#define TSS_A HARNESS_TSS       /* the current task */
#define TSS_B 0x3100u
#define TSS_C 0x3200u
#define RING0_STACK HARNESS_RING0_STACK
#define HANDLER 0x2000u

/* Selectors of the GDT prot_init writes. */
enum {
    SEL_CODE0 = 0x08, SEL_DATA0 = 0x10, SEL_CODE3 = 0x2B, SEL_DATA3 = 0x33,
    SEL_TSS_A = 0x38, SEL_TSS_B = 0x40, SEL_CALLGATE = 0x48, SEL_TASKGATE = 0x50,
    SEL_NP_DATA3 = 0x58, SEL_TSS_C = 0x60,
};

/* A runnable ring-0 task in a TSS: starts at HANDLER with the given EAX/EBX. */
static void make_task(struct harness *h, uint32_t tss, uint32_t eax, uint32_t ebx)
{
    harness_ring0_task(h, tss, HANDLER, 0x60000);
    harness_put32(h, tss + TSS_EAX, eax);
    harness_put32(h, tss + TSS_EBX, ebx);
}

/*
 * Flat protected mode at 'cpl' with a GDT of flat segments, three TSSs,
 * a call gate, a task gate and a not-present segment; TR = TSS A; an empty
 * IDT (every gate not present); a HLT at HANDLER.
 */
static void prot_init(struct harness *h, unsigned cpl)
{
    harness_init(h, cpl);
    uint64_t gdt[13] = {
        [SEL_TSS_A / 8] = harness_mkseg(TSS_A, 0x67, ACC_P | 0xB, 0),      /* busy 32-bit TSS */
        [SEL_TSS_B / 8] = harness_mkseg(TSS_B, 0x67, ACC_P | 0x9, 0),      /* available */
        [SEL_CALLGATE / 8] = harness_mkgate(SEL_CODE0, HANDLER, ACC_P | ACC_DPL(3) | 0xC, 2), /* 2 params */
        [SEL_TASKGATE / 8] = harness_mkgate(SEL_TSS_B, 0, ACC_P | ACC_DPL(3) | 0x5, 0), /* -> TSS B */
        [SEL_NP_DATA3 / 8] = harness_desc(0x3, 3) & ~(1ull << 47),         /* not present */
        [SEL_TSS_C / 8] = harness_mkseg(TSS_C, 0x60, ACC_P | 0x9, 0),      /* TSS below 0x67 */
    };
    h->cpu.s.eflags = EFLAGS_FIXED1 | EFLAGS_IF;
    harness_system_tables(h, gdt, 13, SEL_TSS_A);
    bus_write_block(&h->bus, HANDLER, "\xf4", 1);            /* HLT */
}

/* ---------- segment-register loads (SDM Vol. 2B MOV, Vol. 3A 5.6) ---------- */

/* SDM Vol. 2B MOV: "IF SS is loaded ... IF segment selector is NULL THEN #GP(0)". */
TEST(mov_ss_null_selector_is_gp0)
{
    struct harness h;
    prot_init(&h, 0);
    h.cpu.exit_on_exception = 1u << X86_GP;
    harness_code(&h, 0x1000, "\x8e\xd0", 2);                  /* mov ss, ax */
    h.cpu.s.regs[R_EAX] = 0;
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.reason, CPU_EXIT_EXCEPTION);
    CHECK_EQ(x.vector, X86_GP);
    CHECK_EQ(x.error_code, 0);
    CHECK_EQ(h.cpu.s.seg[SEG_SS].selector, SEL_DATA0);
    harness_destroy(&h);
}

/* SDM Vol. 2B MOV: a data segment with DPL < CPL is #GP(selector). */
TEST(mov_ds_more_privileged_data_is_gp_selector)
{
    struct harness h;
    prot_init(&h, 3);
    h.cpu.exit_on_exception = 1u << X86_GP;
    harness_code(&h, 0x1000, "\x8e\xd8", 2);                  /* mov ds, ax */
    h.cpu.s.regs[R_EAX] = SEL_DATA0;
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.vector, X86_GP);
    CHECK_EQ(x.error_code, SEL_DATA0);
    harness_destroy(&h);
}

/* SDM Vol. 2B MOV: a not-present data segment is #NP(selector), RPL cleared. */
TEST(mov_ds_not_present_is_np_selector)
{
    struct harness h;
    prot_init(&h, 3);
    h.cpu.exit_on_exception = 1u << X86_NP;
    harness_code(&h, 0x1000, "\x8e\xd8", 2);
    h.cpu.s.regs[R_EAX] = SEL_NP_DATA3 | 3;
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.vector, X86_NP);
    CHECK_EQ(x.error_code, SEL_NP_DATA3);
    harness_destroy(&h);
}

/* SDM Vol. 2B MOV: SS with RPL != CPL is #GP(selector). */
TEST(mov_ss_rpl_not_cpl_is_gp_selector)
{
    struct harness h;
    prot_init(&h, 0);
    h.cpu.exit_on_exception = 1u << X86_GP;
    harness_code(&h, 0x1000, "\x8e\xd0", 2);
    h.cpu.s.regs[R_EAX] = SEL_DATA0 | 3;
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.vector, X86_GP);
    CHECK_EQ(x.error_code, SEL_DATA0);
    harness_destroy(&h);
}

/* SDM Vol. 3A 3.4.2: a null selector in DS loads, but a use of DS is #GP(0). */
TEST(null_ds_loads_and_use_is_gp0)
{
    struct harness h;
    prot_init(&h, 3);
    h.cpu.exit_on_exception = 1u << X86_GP;
    harness_code(&h, 0x1000, "\x8e\xd8\x8b\x03", 4);          /* mov ds, ax; mov eax, [ebx] */
    h.cpu.s.regs[R_EAX] = 0;
    h.cpu.s.regs[R_EBX] = 0x4000;
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.vector, X86_GP);
    CHECK_EQ(x.error_code, 0);
    CHECK_EQ(h.cpu.s.eip, 0x1002);
    CHECK_EQ(h.cpu.s.seg[SEG_DS].selector, 0);
    harness_destroy(&h);
}

/* SDM Vol. 3A 3.4.5.1: loading a segment register sets the descriptor's Accessed bit. */
TEST(segment_load_sets_accessed_bit)
{
    struct harness h;
    prot_init(&h, 0);
    harness_put64(&h, HARNESS_GDT + 0x10, harness_desc(0x2, 0)); /* data, A = 0 */
    harness_code(&h, 0x1000, "\x8e\xd8\xf4", 3);
    h.cpu.s.regs[R_EAX] = SEL_DATA0;
    harness_run(&h);
    CHECK(harness_get32(&h, HARNESS_GDT + 0x14) & 0x100);
    CHECK(h.cpu.s.seg[SEG_DS].attr & SEG_ATTR_A);
    harness_destroy(&h);
}

/* ---------- interrupts (SDM Vol. 3A 6.12, Vol. 2A INT n) ---------- */

/*
 * SDM Vol. 3A 6.12.1 fig. 6-4: a 32-bit interrupt gate to ring 0 from ring 3
 * switches to SS0:ESP0 and pushes SS, ESP, EFLAGS, CS, EIP; IF is cleared.
 */
TEST(int_gate32_ring3_to_ring0_pushes_outer_stack)
{
    struct harness h;
    prot_init(&h, 3);
    harness_set_idt(&h, 0x80, harness_mkgate(SEL_CODE0, HANDLER, ACC_P | ACC_DPL(3) | 0xE, 0));
    harness_code(&h, 0x1000, "\xcd\x80", 2);
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.cpl, 0);
    CHECK_EQ(h.cpu.s.seg[SEG_CS].selector, SEL_CODE0);
    CHECK_EQ(h.cpu.s.seg[SEG_SS].selector, SEL_DATA0);
    uint32_t sp = h.cpu.s.regs[R_ESP];
    CHECK_EQ(sp, RING0_STACK - 20);
    CHECK_EQ(harness_get32(&h, sp), 0x1002);
    CHECK_EQ(harness_get32(&h, sp + 4), SEL_CODE3);
    CHECK(harness_get32(&h, sp + 8) & EFLAGS_IF);
    CHECK_EQ(harness_get32(&h, sp + 12), HARNESS_STACK);
    CHECK_EQ(harness_get32(&h, sp + 16), SEL_DATA3);
    CHECK_EQ(cpu_get_eflags(&h.cpu) & EFLAGS_IF, 0);
    CHECK_EQ(h.cpu.stats.interrupts[0x80], 1);
    harness_destroy(&h);
}

/* SDM Vol. 3A 6.12.1.2: a trap gate leaves IF set; same ring pushes EFLAGS CS EIP only. */
TEST(trap_gate_same_ring_keeps_if)
{
    struct harness h;
    prot_init(&h, 0);
    harness_set_idt(&h, 0x40, harness_mkgate(SEL_CODE0, HANDLER, ACC_P | ACC_DPL(0) | 0xF, 0));
    harness_code(&h, 0x1000, "\xcd\x40", 2);
    harness_run(&h);
    uint32_t sp = h.cpu.s.regs[R_ESP];
    CHECK_EQ(sp, HARNESS_STACK - 12);
    CHECK_EQ(harness_get32(&h, sp), 0x1002);
    CHECK_EQ(harness_get32(&h, sp + 4), SEL_CODE0);
    CHECK(cpu_get_eflags(&h.cpu) & EFLAGS_IF);
    harness_destroy(&h);
}

/* SDM Vol. 3A 6.12.1.1: INT n through a gate with DPL < CPL is #GP(n*8+2). */
TEST(int_n_gate_dpl0_from_cpl3_is_gp_vector)
{
    struct harness h;
    prot_init(&h, 3);
    h.cpu.exit_on_exception = 1u << X86_GP;
    harness_set_idt(&h, 0x30, harness_mkgate(SEL_CODE0, HANDLER, ACC_P | ACC_DPL(0) | 0xE, 0));
    harness_code(&h, 0x1000, "\xcd\x30", 2);
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.vector, X86_GP);
    CHECK_EQ(x.error_code, 0x30 * 8 + 2);
    CHECK_EQ(h.cpu.s.regs[R_ESP], HARNESS_STACK);
    harness_destroy(&h);
}

/* SDM Vol. 3A 6.13, Vol. 2A INT n: a not-present gate is #NP(n*8+2+EXT), EXT = 0 for INT n. */
TEST(int_n_not_present_gate_is_np_vector)
{
    struct harness h;
    prot_init(&h, 3);
    h.cpu.exit_on_exception = 1u << X86_NP;
    harness_set_idt(&h, 0x31, harness_mkgate(SEL_CODE0, HANDLER, ACC_DPL(3) | 0xE, 0));
    harness_code(&h, 0x1000, "\xcd\x31", 2);
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.vector, X86_NP);
    CHECK_EQ(x.error_code, 0x31 * 8 + 2);
    harness_destroy(&h);
}

/* SDM Vol. 3A 6.13: an exception whose IDT entry is past the limit is #GP(v*8+2+EXT=1). */
TEST(exception_beyond_idt_limit_is_gp_with_ext)
{
    struct harness h;
    prot_init(&h, 0);
    h.cpu.exit_on_exception = 1u << X86_GP;
    h.cpu.s.idtr.limit = 6 * 8 - 1;                           /* vectors 0-5 only */
    harness_code(&h, 0x1000, "\x0f\x0b", 2);                  /* ud2: #UD, vector 6 */
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.vector, X86_GP);
    CHECK_EQ(x.error_code, 6 * 8 + 2 + 1);
    harness_destroy(&h);
}

/*
 * SDM Vol. 3A 6.12.1 fig. 6-4 and 6.13: a #GP at CPL 3 through a ring-0
 * interrupt gate pushes the error code after EIP (24 bytes), EIP is the
 * faulting instruction, and the EFLAGS image has RF = 1 (Vol. 3B 17.3.1.1).
 */
TEST(fault_with_error_code_to_inner_ring)
{
    struct harness h;
    prot_init(&h, 3);
    harness_set_idt(&h, X86_GP, harness_mkgate(SEL_CODE0, HANDLER, ACC_P | ACC_DPL(0) | 0xE, 0));
    harness_code(&h, 0x1000, "\xfa", 1);                      /* cli at CPL 3, IOPL 0 */
    harness_run(&h);
    uint32_t sp = h.cpu.s.regs[R_ESP];
    CHECK_EQ(sp, RING0_STACK - 24);
    CHECK_EQ(harness_get32(&h, sp), 0);                       /* error code */
    CHECK_EQ(harness_get32(&h, sp + 4), 0x1000);
    CHECK_EQ(harness_get32(&h, sp + 8), SEL_CODE3);
    CHECK(harness_get32(&h, sp + 12) & EFLAGS_RF);
    CHECK_EQ(harness_get32(&h, sp + 20), SEL_DATA3);
    harness_destroy(&h);
}

/* SDM Vol. 2A INT n (INTER-PRIVILEGE): a null SS0 in the TSS is #TS(EXT). */
TEST(inner_ring_interrupt_with_null_ss0_is_ts)
{
    struct harness h;
    prot_init(&h, 3);
    h.cpu.exit_on_exception = 1u << X86_TS;
    harness_put32(&h, TSS_A + TSS_SS0, 0);
    harness_set_idt(&h, 0x80, harness_mkgate(SEL_CODE0, HANDLER, ACC_P | ACC_DPL(3) | 0xE, 0));
    harness_code(&h, 0x1000, "\xcd\x80", 2);
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.vector, X86_TS);
    CHECK_EQ(x.error_code, 0);
    CHECK_EQ(h.cpu.s.cpl, 3);
    harness_destroy(&h);
}

/* SDM Vol. 2A INT n (REAL-ADDRESS-MODE): push FLAGS CS IP, vector from IVT, clear IF. */
TEST(real_mode_int_uses_ivt)
{
    struct harness h;
    harness_init(&h, 0);
    struct x86_state *s = &h.cpu.s;
    s->cr0 = CR0_ET;
    for (int r = 0; r < SEG_COUNT; r++) {
        s->seg[r].selector = 0;
        s->seg[r].base = 0;
        s->seg[r].limit = 0xFFFF;
        s->seg[r].attr = SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_W | SEG_ATTR_A;
    }
    s->seg[SEG_CS].attr |= SEG_ATTR_CODE;
    s->idtr.base = 0;
    s->idtr.limit = 0x3FF;
    s->regs[R_ESP] = 0x7000;
    s->eflags = EFLAGS_FIXED1 | EFLAGS_IF;
    cpu_state_changed(&h.cpu);
    harness_put32(&h, 0x10 * 4, 0x02000010);                  /* 0200:0010 */
    bus_write_block(&h.bus, 0x2010, "\xf4", 1);
    harness_code(&h, 0x1000, "\xcd\x10", 2);
    harness_run(&h);
    CHECK_EQ(s->seg[SEG_CS].selector, 0x0200);
    CHECK_EQ(s->seg[SEG_CS].base, 0x2000);
    CHECK_EQ(s->eip, 0x11);
    CHECK_EQ(s->regs[R_ESP], 0x7000 - 6);
    CHECK_EQ(bus_read(&h.bus, 0x7000 - 6, 2), 0x1002);
    CHECK_EQ(bus_read(&h.bus, 0x7000 - 4, 2), 0);
    CHECK(bus_read(&h.bus, 0x7000 - 2, 2) & EFLAGS_IF);
    CHECK_EQ(cpu_get_eflags(&h.cpu) & EFLAGS_IF, 0);
    harness_destroy(&h);
}

/* ---------- far transfers (SDM Vol. 2A CALL/JMP, Vol. 2B RET, Vol. 3A 5.8) ---------- */

/*
 * SDM Vol. 3A 5.8.5, fig. 5-13: CALL through a call gate with 2 parameters
 * to ring 0 pushes SS, ESP, the two parameters (in order), CS, EIP.
 */
TEST(call_gate_to_inner_ring_copies_parameters)
{
    struct harness h;
    prot_init(&h, 3);
    h.cpu.s.regs[R_ESP] = HARNESS_STACK - 8;
    harness_put32(&h, HARNESS_STACK - 8, 0x1111);
    harness_put32(&h, HARNESS_STACK - 4, 0x2222);
    harness_code(&h, 0x1000, "\x9a\x00\x00\x00\x00\x4b\x00", 7); /* call far 0x4B:0 */
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.cpl, 0);
    uint32_t sp = h.cpu.s.regs[R_ESP];
    CHECK_EQ(sp, RING0_STACK - 24);
    CHECK_EQ(harness_get32(&h, sp), 0x1007);
    CHECK_EQ(harness_get32(&h, sp + 4), SEL_CODE3);
    CHECK_EQ(harness_get32(&h, sp + 8), 0x1111);
    CHECK_EQ(harness_get32(&h, sp + 12), 0x2222);
    CHECK_EQ(harness_get32(&h, sp + 16), HARNESS_STACK - 8);
    CHECK_EQ(harness_get32(&h, sp + 20), SEL_DATA3);
    harness_destroy(&h);
}

/* SDM Vol. 2A JMP: a JMP through a call gate to a more privileged non-conforming segment is #GP(code selector). */
TEST(jmp_call_gate_to_inner_ring_is_gp)
{
    struct harness h;
    prot_init(&h, 3);
    h.cpu.exit_on_exception = 1u << X86_GP;
    harness_code(&h, 0x1000, "\xea\x00\x00\x00\x00\x4b\x00", 7); /* jmp far 0x4B:0 */
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.vector, X86_GP);
    CHECK_EQ(x.error_code, SEL_CODE0);
    harness_destroy(&h);
}

/* SDM Vol. 2A JMP: a target offset beyond the code segment limit is #GP(0). */
TEST(far_jmp_beyond_limit_is_gp0)
{
    struct harness h;
    prot_init(&h, 0);
    h.cpu.exit_on_exception = 1u << X86_GP;
    harness_put64(&h, HARNESS_GDT + 0x08, harness_mkseg(0, 0xFFFF, ACC_P | ACC_S | 0xB, 0x4)); /* 64 KiB code */
    harness_code(&h, 0x1000, "\xea\x00\x00\x02\x00\x08\x00", 7); /* jmp far 0x08:0x20000 */
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.vector, X86_GP);
    CHECK_EQ(x.error_code, 0);
    harness_destroy(&h);
}

/* SDM Vol. 2B RET: RETF to ring 3 pops SS:ESP and nulls DS/ES with DPL < 3, keeping FS (DPL 3). */
TEST(retf_to_ring3_nulls_privileged_data_segments)
{
    struct harness h;
    prot_init(&h, 0);
    h.cpu.s.seg[SEG_FS].selector = SEL_DATA3;
    h.cpu.s.seg[SEG_FS].attr = (uint16_t)((h.cpu.s.seg[SEG_FS].attr & ~SEG_ATTR_DPL) | (3u << SEG_ATTR_DPL_SHIFT));
    uint32_t sp = HARNESS_STACK - 16;
    h.cpu.s.regs[R_ESP] = sp;
    harness_put32(&h, sp, 0x1100);
    harness_put32(&h, sp + 4, SEL_CODE3);
    harness_put32(&h, sp + 8, 0x5000);
    harness_put32(&h, sp + 12, SEL_DATA3);
    harness_code(&h, 0x1000, "\xcb", 1);                      /* retf */
    cpu_run(&h.cpu, 0, true);
    CHECK_EQ(h.cpu.s.cpl, 3);
    CHECK_EQ(h.cpu.s.eip, 0x1100);
    CHECK_EQ(h.cpu.s.seg[SEG_CS].selector, SEL_CODE3);
    CHECK_EQ(h.cpu.s.seg[SEG_SS].selector, SEL_DATA3);
    CHECK_EQ(h.cpu.s.regs[R_ESP], 0x5000);
    CHECK_EQ(h.cpu.s.seg[SEG_DS].selector, 0);
    CHECK_EQ(h.cpu.s.seg[SEG_DS].attr & SEG_ATTR_P, 0);
    CHECK_EQ(h.cpu.s.seg[SEG_ES].selector, 0);
    CHECK_EQ(h.cpu.s.seg[SEG_FS].selector, SEL_DATA3);
    harness_destroy(&h);
}

/* SDM Vol. 2B RET: RETF imm16 releases the parameters on both stacks. */
TEST(retf_imm_to_outer_ring_adds_to_both_stacks)
{
    struct harness h;
    prot_init(&h, 0);
    uint32_t sp = HARNESS_STACK - 24;
    h.cpu.s.regs[R_ESP] = sp;
    harness_put32(&h, sp, 0x1100);
    harness_put32(&h, sp + 4, SEL_CODE3);
    harness_put32(&h, sp + 16, 0x5000);                       /* after 8 bytes of parameters */
    harness_put32(&h, sp + 20, SEL_DATA3);
    harness_code(&h, 0x1000, "\xca\x08\x00", 3);              /* retf 8 */
    cpu_run(&h.cpu, 0, true);
    CHECK_EQ(h.cpu.s.cpl, 3);
    CHECK_EQ(h.cpu.s.regs[R_ESP], 0x5008);
    harness_destroy(&h);
}

/* SDM Vol. 2B RET: a return to a more privileged ring (RPL < CPL) is #GP(selector). */
TEST(retf_to_inner_ring_is_gp)
{
    struct harness h;
    prot_init(&h, 3);
    h.cpu.exit_on_exception = 1u << X86_GP;
    uint32_t sp = HARNESS_STACK - 8;
    h.cpu.s.regs[R_ESP] = sp;
    harness_put32(&h, sp, 0x1100);
    harness_put32(&h, sp + 4, SEL_CODE0);
    harness_code(&h, 0x1000, "\xcb", 1);
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.vector, X86_GP);
    CHECK_EQ(x.error_code, SEL_CODE0);
    harness_destroy(&h);
}

/*
 * SDM Vol. 2A IRET (RETURN-TO-OUTER-PRIVILEGE-LEVEL): IRET from ring 0 to
 * ring 3 pops EIP CS EFLAGS ESP SS; IOPL is taken because the old CPL is 0.
 */
TEST(iret_to_ring3_pops_stack_and_sets_iopl)
{
    struct harness h;
    prot_init(&h, 0);
    uint32_t sp = HARNESS_STACK - 20;
    h.cpu.s.regs[R_ESP] = sp;
    harness_put32(&h, sp, 0x1100);
    harness_put32(&h, sp + 4, SEL_CODE3);
    harness_put32(&h, sp + 8, EFLAGS_FIXED1 | EFLAGS_IF | EFLAGS_IOPL | EFLAGS_CF);
    harness_put32(&h, sp + 12, 0x5000);
    harness_put32(&h, sp + 16, SEL_DATA3);
    harness_code(&h, 0x1000, "\xcf", 1);
    cpu_run(&h.cpu, 0, true);
    CHECK_EQ(h.cpu.s.cpl, 3);
    CHECK_EQ(h.cpu.s.eip, 0x1100);
    CHECK_EQ(h.cpu.s.regs[R_ESP], 0x5000);
    CHECK_EQ(h.cpu.s.seg[SEG_SS].selector, SEL_DATA3);
    uint32_t fl = cpu_get_eflags(&h.cpu);
    CHECK_EQ(fl & EFLAGS_IOPL, EFLAGS_IOPL);
    CHECK(fl & EFLAGS_CF);
    CHECK(h.cpu.mmu_user);
    harness_destroy(&h);
}

/* SDM Vol. 2A IRET: at CPL 3 IOPL is kept and IF is kept when CPL > IOPL. */
TEST(iret_at_cpl3_keeps_iopl_and_if)
{
    struct harness h;
    prot_init(&h, 3);
    uint32_t sp = HARNESS_STACK - 12;
    h.cpu.s.regs[R_ESP] = sp;
    harness_put32(&h, sp, 0x1100);
    harness_put32(&h, sp + 4, SEL_CODE3);
    harness_put32(&h, sp + 8, EFLAGS_FIXED1 | EFLAGS_IOPL);   /* IF = 0, IOPL = 3 */
    harness_code(&h, 0x1000, "\xcf", 1);
    cpu_run(&h.cpu, 0, true);
    uint32_t fl = cpu_get_eflags(&h.cpu);
    CHECK_EQ(h.cpu.s.eip, 0x1100);
    CHECK_EQ(fl & EFLAGS_IOPL, 0);
    CHECK(fl & EFLAGS_IF);
    harness_destroy(&h);
}

/* SDM Vol. 2A IRET: EFLAGS.VM in the image at CPL 0 means vm86, which trapeze does not model. */
TEST(iret_to_vm86_is_unsupported_exit)
{
    struct harness h;
    prot_init(&h, 0);
    uint32_t sp = HARNESS_STACK - 12;
    h.cpu.s.regs[R_ESP] = sp;
    harness_put32(&h, sp, 0x1100);
    harness_put32(&h, sp + 4, 0x1000);
    harness_put32(&h, sp + 8, EFLAGS_FIXED1 | EFLAGS_VM);
    harness_code(&h, 0x1000, "\xcf", 1);
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.reason, CPU_EXIT_UNSUPPORTED);
    CHECK_EQ(h.cpu.s.cpl, 0);
    harness_destroy(&h);
}

/* ---------- task switches (SDM Vol. 3A 7.3, 7.4) ---------- */

/*
 * SDM Vol. 3A 7.3: JMP to an available TSS saves the old task (EIP after
 * the JMP), clears its busy bit, sets the new one's, loads the new state,
 * sets CR0.TS and does not nest (no NT, no back link, Vol. 3A 7.4).
 */
TEST(jmp_to_tss_switches_task)
{
    struct harness h;
    prot_init(&h, 0);
    make_task(&h, TSS_B, 0x1234, 0x5678);
    h.cpu.s.regs[R_ECX] = 0xCAFE;
    harness_code(&h, 0x1000, "\xea\x00\x00\x00\x00\x40\x00", 7); /* jmp far 0x40:0 */
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.tr.selector, SEL_TSS_B);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x1234);
    CHECK_EQ(h.cpu.s.regs[R_EBX], 0x5678);
    CHECK_EQ(h.cpu.s.regs[R_ESP], 0x60000);
    CHECK_EQ(harness_get32(&h, TSS_A + TSS_EIP), 0x1007);
    CHECK_EQ(harness_get32(&h, TSS_A + TSS_EAX + 4), 0xCAFE); /* ECX saved */
    CHECK_EQ((harness_get32(&h, HARNESS_GDT + SEL_TSS_A + 4) >> 8) & 0xF, 0x9); /* old: available */
    CHECK_EQ((harness_get32(&h, HARNESS_GDT + SEL_TSS_B + 4) >> 8) & 0xF, 0xB); /* new: busy */
    CHECK(h.cpu.s.cr0 & CR0_TS);
    CHECK_EQ(cpu_get_eflags(&h.cpu) & EFLAGS_NT, 0);
    CHECK_EQ(harness_get32(&h, TSS_B + TSS_LINK) & 0xFFFF, 0);
    harness_destroy(&h);
}

/* SDM Vol. 3A 7.4: CALL through a task gate nests: NT set, back link = old TR, old stays busy. */
TEST(call_task_gate_nests)
{
    struct harness h;
    prot_init(&h, 3);
    make_task(&h, TSS_B, 1, 2);
    harness_code(&h, 0x1000, "\x9a\x00\x00\x00\x00\x53\x00", 7); /* call far 0x53:0 */
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.tr.selector, SEL_TSS_B);
    CHECK_EQ(h.cpu.s.cpl, 0);
    CHECK(cpu_get_eflags(&h.cpu) & EFLAGS_NT);
    CHECK_EQ(harness_get32(&h, TSS_B + TSS_LINK) & 0xFFFF, SEL_TSS_A);
    CHECK_EQ((harness_get32(&h, HARNESS_GDT + SEL_TSS_A + 4) >> 8) & 0xF, 0xB);
    CHECK_EQ(harness_get32(&h, TSS_A + TSS_CS) & 0xFFFF, SEL_CODE3);
    harness_destroy(&h);
}

/*
 * SDM Vol. 2A IRET (TASK-RETURN), Vol. 3A 7.4: IRET with NT = 1 returns to
 * the back-linked task, clears the old task's busy bit and saves its EFLAGS
 * with NT cleared.
 */
TEST(iret_with_nt_returns_to_back_linked_task)
{
    struct harness h;
    prot_init(&h, 0);
    /* Running task B (busy), nested from task A (busy). */
    harness_put64(&h, HARNESS_GDT + SEL_TSS_B, harness_mkseg(TSS_B, 0x67, ACC_P | 0xB, 0));
    h.cpu.s.tr.selector = SEL_TSS_B;
    h.cpu.s.tr.base = TSS_B;
    harness_put32(&h, TSS_B + TSS_LINK, SEL_TSS_A);
    make_task(&h, TSS_A, 0xAAAA, 0);
    h.cpu.s.eflags |= EFLAGS_NT;
    cpu_state_changed(&h.cpu);
    harness_code(&h, 0x1000, "\xcf", 1);
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.tr.selector, SEL_TSS_A);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0xAAAA);
    CHECK_EQ((harness_get32(&h, HARNESS_GDT + SEL_TSS_B + 4) >> 8) & 0xF, 0x9);
    CHECK_EQ(harness_get32(&h, TSS_B + TSS_EFLAGS) & EFLAGS_NT, 0);
    CHECK_EQ(harness_get32(&h, TSS_B + TSS_EIP), 0x1001);
    harness_destroy(&h);
}

/* SDM Vol. 3A 7.2.2 / 7.3 step 3: a 32-bit TSS with limit < 0x67 is #TS(selector). */
TEST(task_switch_to_small_tss_is_ts)
{
    struct harness h;
    prot_init(&h, 0);
    h.cpu.exit_on_exception = 1u << X86_TS;
    harness_code(&h, 0x1000, "\xea\x00\x00\x00\x00\x60\x00", 7); /* jmp far 0x60:0 */
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.vector, X86_TS);
    CHECK_EQ(x.error_code, SEL_TSS_C);
    CHECK_EQ(h.cpu.s.tr.selector, SEL_TSS_A);
    harness_destroy(&h);
}

/* SDM Vol. 2A JMP: a JMP to a busy TSS is #GP(selector). */
TEST(jmp_to_busy_tss_is_gp)
{
    struct harness h;
    prot_init(&h, 0);
    h.cpu.exit_on_exception = 1u << X86_GP;
    harness_code(&h, 0x1000, "\xea\x00\x00\x00\x00\x38\x00", 7); /* jmp far 0x38:0 (busy) */
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.vector, X86_GP);
    CHECK_EQ(x.error_code, SEL_TSS_A);
    harness_destroy(&h);
}

/* SDM Vol. 3A 6.12.2: an exception through a task gate pushes its error code on the new task's stack. */
TEST(exception_through_task_gate_pushes_error_on_new_stack)
{
    struct harness h;
    prot_init(&h, 3);
    make_task(&h, TSS_B, 0, 0);
    harness_set_idt(&h, X86_GP, harness_mkgate(SEL_TSS_B, 0, ACC_P | 0x5, 0));
    harness_code(&h, 0x1000, "\xfa", 1);                      /* cli at CPL 3: #GP(0) */
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.tr.selector, SEL_TSS_B);
    CHECK_EQ(h.cpu.s.regs[R_ESP], 0x60000 - 4);
    CHECK_EQ(harness_get32(&h, 0x60000 - 4), 0);
    CHECK_EQ(harness_get32(&h, TSS_A + TSS_EIP), 0x1000);    /* the faulting instruction */
    harness_destroy(&h);
}

/* SDM Vol. 2A INT n: a 16-bit gate pushes 16-bit FLAGS, CS, IP (and SS, SP when changing rings). */
TEST(int_gate16_pushes_words)
{
    struct harness h;
    prot_init(&h, 3);
    harness_set_idt(&h, 0x81, harness_mkgate(SEL_CODE0, HANDLER, ACC_P | ACC_DPL(3) | 0x6, 0));
    harness_code(&h, 0x1000, "\xcd\x81", 2);
    harness_run(&h);
    uint32_t sp = h.cpu.s.regs[R_ESP];
    CHECK_EQ(sp, RING0_STACK - 10);
    CHECK_EQ(bus_read(&h.bus, sp, 2), 0x1002);
    CHECK_EQ(bus_read(&h.bus, sp + 2, 2), SEL_CODE3);
    CHECK_EQ(bus_read(&h.bus, sp + 6, 2), HARNESS_STACK & 0xFFFF);
    CHECK_EQ(bus_read(&h.bus, sp + 8, 2), SEL_DATA3);
    harness_destroy(&h);
}

/* SDM Vol. 2A INT n: INTO does nothing when OF = 0, and raises #OF (a trap, EIP after it) when OF = 1. */
TEST(into_only_when_overflow)
{
    struct harness h;
    prot_init(&h, 0);
    harness_set_idt(&h, X86_OF, harness_mkgate(SEL_CODE0, HANDLER, ACC_P | ACC_DPL(3) | 0xE, 0));
    /* into (OF = 0: falls through); add al, 0x7f with al = 1 sets OF; into */
    harness_code(&h, 0x1000, "\xce\x04\x7f\xce", 4);
    h.cpu.s.regs[R_EAX] = 1;
    harness_run(&h);
    CHECK_EQ(h.cpu.s.eip, HANDLER + 1);
    CHECK_EQ(harness_get32(&h, h.cpu.s.regs[R_ESP]), 0x1004);
    CHECK_EQ(h.cpu.stats.interrupts[X86_OF], 1);
    harness_destroy(&h);
}

/* SDM Vol. 3A 3.4.2, 3.5.1: a selector with TI = 1 names a descriptor of the LDT that LDTR caches. */
TEST(selector_with_ti_reads_the_ldt)
{
    struct harness h;
    prot_init(&h, 0);
    harness_put64(&h, 0x6000 + 8, harness_mkseg(0x12345000, 0xFFF, ACC_P | ACC_S | 0x3, 0x4));
    h.cpu.s.ldtr.selector = 0x68;
    h.cpu.s.ldtr.base = 0x6000;
    h.cpu.s.ldtr.limit = 0xF;
    h.cpu.s.ldtr.attr = SEG_ATTR_P | 0x2;
    cpu_state_changed(&h.cpu);
    harness_code(&h, 0x1000, "\x8e\xc0\xf4", 3);              /* mov es, ax; hlt */
    h.cpu.s.regs[R_EAX] = 0x0C;                               /* index 1, TI = 1, RPL 0 */
    harness_run(&h);
    CHECK_EQ(h.cpu.s.seg[SEG_ES].selector, 0x0C);
    CHECK_EQ(h.cpu.s.seg[SEG_ES].base, 0x12345000);
    CHECK_EQ(h.cpu.s.seg[SEG_ES].limit, 0xFFF);
    harness_destroy(&h);
}

/* SDM Vol. 3A 5.8.1.2: a far CALL to a conforming segment of DPL 0 from CPL 3 keeps CPL 3. */
TEST(call_to_conforming_code_keeps_cpl)
{
    struct harness h;
    prot_init(&h, 3);
    h.cpu.exit_on_exception = 1u << X86_GP;                   /* the HLT at CPL 3 ends the run */
    harness_put64(&h, HARNESS_GDT + 0x08, harness_desc(0xF, 0)); /* conforming, readable, DPL 0 */
    harness_code(&h, 0x1000, "\x9a\x00\x20\x00\x00\x08\x00", 7); /* call far 0x08:0x2000 */
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.vector, X86_GP);                               /* HLT at CPL 3 */
    CHECK_EQ(h.cpu.s.eip, HANDLER);
    CHECK_EQ(h.cpu.s.cpl, 3);
    CHECK_EQ(h.cpu.s.seg[SEG_CS].selector, 0x0B);             /* RPL := CPL */
    CHECK_EQ(harness_get32(&h, h.cpu.s.regs[R_ESP]), 0x1007);
    harness_destroy(&h);
}

TEST_MAIN()
