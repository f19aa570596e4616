/*
 * test_cpu_seams.c - the CPU's interface to a trap-and-emulate VMM: exits
 * that say what kind of event they are (cpu_exit.event_kind, insn_len),
 * exit_on_soft_int, and reflecting events back with cpu_inject_event.
 */
#include "tests/cpu_harness.h"
#include "tests/test.h"

#define CODE 0x1000u
#define HANDLER 0x2000u
#define DF_HANDLER 0x3000u

static uint32_t stack_dword(struct harness *h, uint32_t lin)
{
    uint32_t v = 0;
    cpu_read_linear(&h->cpu, lin, &v, 4);
    return v;
}

/*
 * With exit_on_soft_int, INT 0x80 and INT 0x0D both exit as software
 * interrupts with EIP after them, nothing pushed, counted as retired
 * (SDM Vol. 2A INT n: the return address is the next instruction); CLI at
 * CPL 1 (IOPL 0) is the fault #GP(0) with EIP at the CLI (Vol. 2A CLI).
 * The three are told apart by event_kind and insn_len, not the vector.
 */
TEST(soft_int_exits_are_told_apart_from_gp)
{
    struct harness h;
    harness_init(&h, 1);
    h.cpu.exit_on_exception = 1u << X86_GP;
    h.cpu.exit_on_soft_int = true;
    /* int 0x80; int 0x0d; o16 int 0x21 (a prefix counts); cli */
    harness_code(&h, CODE, "\xcd\x80\xcd\x0d\x66\xcd\x21\xfa", 8);

    struct cpu_exit x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_EXCEPTION);
    CHECK_EQ(x.vector, 0x80);
    CHECK_EQ(x.event_kind, CPU_EVENT_SOFT_INT);
    CHECK_EQ(x.insn_len, 2);
    CHECK(!x.has_error_code);
    CHECK_EQ(h.cpu.s.eip, CODE + 2);
    CHECK_EQ(h.cpu.s.regs[R_ESP], HARNESS_STACK);
    CHECK_EQ(h.cpu.stats.instructions, 1);

    x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_EXCEPTION);
    CHECK_EQ(x.vector, X86_GP);
    CHECK_EQ(x.event_kind, CPU_EVENT_SOFT_INT);
    CHECK_EQ(x.insn_len, 2);
    CHECK_EQ(h.cpu.s.eip, CODE + 4);

    x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.vector, 0x21);
    CHECK_EQ(x.insn_len, 3);
    CHECK_EQ(h.cpu.s.eip, CODE + 7);

    x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_EXCEPTION);
    CHECK_EQ(x.vector, X86_GP);
    CHECK_EQ(x.event_kind, CPU_EVENT_FAULT);
    CHECK_EQ(x.insn_len, 1);
    CHECK(x.has_error_code);
    CHECK_EQ(x.error_code, 0);
    CHECK_EQ(h.cpu.s.eip, CODE + 7);
    CHECK_EQ(h.cpu.stats.instructions, 3);
    CHECK_EQ(h.cpu.s.regs[R_ESP], HARNESS_STACK);
    harness_destroy(&h);
}

/* INT3 and INTO (OF = 1) are software interrupts too (Vol. 2A INT n), at
 * CPL 3 as well; INTO with OF = 0 does nothing. */
TEST(soft_int_exit_covers_int3_and_into)
{
    struct harness h;
    harness_init(&h, 3);
    h.cpu.exit_on_soft_int = true;
    harness_code(&h, CODE, "\xce\xcc\xce", 3);    /* into (OF=0); int3; into */
    struct cpu_exit x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_EXCEPTION);
    CHECK_EQ(x.vector, X86_BP);
    CHECK_EQ(x.event_kind, CPU_EVENT_SOFT_INT);
    CHECK_EQ(x.insn_len, 1);
    CHECK_EQ(h.cpu.s.eip, CODE + 2);
    h.cpu.s.eflags |= EFLAGS_OF;
    x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.vector, X86_OF);
    CHECK_EQ(x.event_kind, CPU_EVENT_SOFT_INT);
    CHECK_EQ(h.cpu.s.eip, CODE + 3);
    CHECK_EQ(h.cpu.stats.instructions, 3);
    harness_destroy(&h);
}

/*
 * Without exit_on_soft_int the old rule holds: an owned vector catches
 * INT n of that number too, reported as SOFT_INT with EIP after it; INT1
 * (ICEBP) is a #DB trap (Vol. 2A INT n), EIP after it as well.
 */
TEST(owned_vector_catches_int_n_as_soft_int)
{
    struct harness h;
    harness_init(&h, 0);
    h.cpu.exit_on_exception = (1u << X86_BP) | (1u << X86_DB);
    harness_code(&h, CODE, "\xcc\xf1", 2);
    struct cpu_exit x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_EXCEPTION);
    CHECK_EQ(x.vector, X86_BP);
    CHECK_EQ(x.event_kind, CPU_EVENT_SOFT_INT);
    CHECK_EQ(x.insn_len, 1);
    CHECK_EQ(h.cpu.s.eip, CODE + 1);
    x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.vector, X86_DB);
    CHECK_EQ(x.event_kind, CPU_EVENT_TRAP);
    CHECK_EQ(x.insn_len, 1);
    CHECK_EQ(h.cpu.s.eip, CODE + 2);
    harness_destroy(&h);
}

/* A code fetch fault is raised by no instruction: insn_len 0. */
TEST(fetch_fault_has_no_insn_len)
{
    struct harness h;
    harness_init(&h, 0);
    h.cpu.exit_on_exception = 1u << X86_GP;
    h.cpu.s.seg[SEG_CS].limit = 0xFFF;            /* EIP 0x1000 is past it */
    h.cpu.s.eip = 0x1000;
    struct cpu_exit x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_EXCEPTION);
    CHECK_EQ(x.vector, X86_GP);
    CHECK_EQ(x.event_kind, CPU_EVENT_FAULT);
    CHECK_EQ(x.insn_len, 0);
    harness_destroy(&h);
}

/* ---------- cpu_inject_event ---------- */

/* A CPL 0 harness with an IDT and TSS; GDT entry 7 (0x38) a code segment
 * that is not present. */
static void inject_setup(struct harness *h, unsigned cpl)
{
    harness_init(h, cpl);
    uint64_t gdt[8] = { [7] = harness_mkseg(0, 0xFFFFF, ACC_S | ACC_DPL(0) | 0xB, 0xC) };
    harness_system_tables(h, gdt, 8, 0);
    h->cpu.s.eip = CODE;
}

/*
 * SDM Vol. 3A 6.15 table 6-5: a #PF, then a contributory fault while
 * delivering it (#NP: the handler's code segment is not present, EXT = 1)
 * is a double fault, delivered with error code 0 and EIP at the faulting
 * instruction.  The #PF itself was the caller's (it owns #PF), yet it is
 * delivered: injecting reflects whatever vector.
 */
TEST(reflected_pf_with_unreachable_handler_becomes_df)
{
    struct harness h;
    inject_setup(&h, 0);
    harness_set_idt(&h, X86_PF, harness_mkgate(0x38, HANDLER, ACC_P | 0xE, 0));
    harness_set_idt(&h, X86_DF, harness_mkgate(0x08, DF_HANDLER, ACC_P | 0xE, 0));
    h.cpu.exit_on_exception = 1u << X86_PF;
    struct cpu_exit x = cpu_inject_event(&h.cpu, X86_PF, CPU_EVENT_FAULT, true, 2);
    CHECK_EQ(x.reason, CPU_EXIT_STEP);
    CHECK_EQ(h.cpu.s.eip, DF_HANDLER);
    CHECK_EQ(h.cpu.s.seg[SEG_CS].selector, 0x08);
    uint32_t sp = h.cpu.s.regs[R_ESP];
    CHECK_EQ(sp, HARNESS_STACK - 16);
    CHECK_EQ(stack_dword(&h, sp), 0);             /* #DF's error code */
    CHECK_EQ(stack_dword(&h, sp + 4), CODE);
    CHECK(stack_dword(&h, sp + 12) & EFLAGS_RF); /* a fault pushes RF (Vol. 3B 17.3.1.1) */
    CHECK_EQ(h.cpu.stats.interrupts[X86_DF], 1);
    CHECK_EQ(h.cpu.stats.interrupts[X86_PF], 0);
    harness_destroy(&h);
}

/* The same with the #DF gate not present either: shutdown (table 6-5). */
TEST(reflected_pf_with_bad_df_gate_is_triple_fault)
{
    struct harness h;
    inject_setup(&h, 0);
    harness_set_idt(&h, X86_PF, harness_mkgate(0x38, HANDLER, ACC_P | 0xE, 0));
    harness_set_idt(&h, X86_DF, harness_mkgate(0x08, DF_HANDLER, 0xE, 0));
    struct cpu_exit x = cpu_inject_event(&h.cpu, X86_PF, CPU_EVENT_FAULT, true, 2);
    CHECK_EQ(x.reason, CPU_EXIT_TRIPLE_FAULT);
    CHECK(h.cpu.fault_chain_len >= 2);
    CHECK_EQ(h.cpu.fault_chain[h.cpu.fault_chain_len - 1].vector, X86_NP);
    harness_destroy(&h);
}

/* A caller owning #DF gets it back as an exit, nothing pushed. */
TEST(reflected_pf_owned_df_exits)
{
    struct harness h;
    inject_setup(&h, 0);
    harness_set_idt(&h, X86_PF, harness_mkgate(0x38, HANDLER, ACC_P | 0xE, 0));
    h.cpu.exit_on_exception = 1u << X86_DF;
    struct cpu_exit x = cpu_inject_event(&h.cpu, X86_PF, CPU_EVENT_FAULT, true, 2);
    CHECK_EQ(x.reason, CPU_EXIT_EXCEPTION);
    CHECK_EQ(x.vector, X86_DF);
    CHECK_EQ(x.event_kind, CPU_EVENT_FAULT);
    CHECK_EQ(x.insn_len, 0);
    CHECK_EQ(h.cpu.s.eip, CODE);
    CHECK_EQ(h.cpu.s.regs[R_ESP], HARNESS_STACK);
    harness_destroy(&h);
}

/*
 * SDM Vol. 3A 6.12.1.1: INT n at CPL 3 through a DPL 0 gate is
 * #GP(vector * 8 + 2) - IDT bit set, EXT clear.  Reflected after an
 * exit_on_soft_int exit, the #GP points at the INT (a fault), as it would
 * had the CPU delivered the INT itself.
 */
TEST(reflected_soft_int_through_dpl0_gate_is_gp)
{
    struct harness h;
    inject_setup(&h, 3);
    harness_set_idt(&h, 0x80, harness_mkgate(0x08, HANDLER, ACC_P | ACC_DPL(0) | 0xE, 0));
    harness_code(&h, CODE, "\xcd\x80", 2);
    h.cpu.exit_on_soft_int = true;
    h.cpu.exit_on_exception = 1u << X86_GP;
    struct cpu_exit x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.vector, 0x80);
    CHECK_EQ(h.cpu.s.eip, CODE + 2);
    x = cpu_inject_event(&h.cpu, 0x80, CPU_EVENT_SOFT_INT, false, 0);
    CHECK_EQ(x.reason, CPU_EXIT_EXCEPTION);
    CHECK_EQ(x.vector, X86_GP);
    CHECK(x.has_error_code);
    CHECK_EQ(x.error_code, 0x80 * 8 + 2);
    CHECK_EQ(x.event_kind, CPU_EVENT_FAULT);
    CHECK_EQ(h.cpu.s.eip, CODE);
    CHECK_EQ(h.cpu.s.regs[R_ESP], HARNESS_STACK);
    CHECK_EQ(h.cpu.s.cpl, 3);
    harness_destroy(&h);
}

/* Through a DPL 3 gate the INT reaches its ring-0 handler, EIP after the
 * INT pushed on the TSS's ring-0 stack (Vol. 3A 6.12.1, figure 6-4). */
TEST(reflected_soft_int_through_dpl3_gate_is_delivered)
{
    struct harness h;
    inject_setup(&h, 3);
    harness_set_idt(&h, 0x80, harness_mkgate(0x08, HANDLER, ACC_P | ACC_DPL(3) | 0xE, 0));
    h.cpu.s.eip = CODE + 2;
    struct cpu_exit x = cpu_inject_event(&h.cpu, 0x80, CPU_EVENT_SOFT_INT, false, 0);
    CHECK_EQ(x.reason, CPU_EXIT_STEP);
    CHECK_EQ(h.cpu.s.cpl, 0);
    CHECK_EQ(h.cpu.s.eip, HANDLER);
    uint32_t sp = h.cpu.s.regs[R_ESP];
    CHECK_EQ(sp, HARNESS_RING0_STACK - 20);
    CHECK_EQ(stack_dword(&h, sp), CODE + 2);
    CHECK_EQ(stack_dword(&h, sp + 4), 0x2B);
    CHECK_EQ(stack_dword(&h, sp + 8) & EFLAGS_RF, 0);
    CHECK_EQ(h.cpu.stats.interrupts[0x80], 1);
    harness_destroy(&h);
}

/* An external interrupt: delivered, STEP, IF cleared by the interrupt gate
 * (Vol. 3A 6.12.1.2), the interrupted EIP pushed. */
TEST(injected_external_interrupt_returns_step)
{
    struct harness h;
    inject_setup(&h, 0);
    harness_set_idt(&h, 0x20, harness_mkgate(0x08, HANDLER, ACC_P | 0xE, 0));
    h.cpu.s.eflags |= EFLAGS_IF;
    struct cpu_exit x = cpu_inject_event(&h.cpu, 0x20, CPU_EVENT_EXTERNAL, false, 0);
    CHECK_EQ(x.reason, CPU_EXIT_STEP);
    CHECK_EQ(h.cpu.s.eip, HANDLER);
    CHECK_EQ(cpu_get_eflags(&h.cpu) & EFLAGS_IF, 0);
    CHECK_EQ(stack_dword(&h, h.cpu.s.regs[R_ESP]), CODE);
    CHECK_EQ(h.cpu.stats.interrupts[0x20], 1);
    /* The thin wrapper does the same. */
    cpu_inject_interrupt(&h.cpu, 0x20, false, 0);
    CHECK_EQ(h.cpu.stats.interrupts[0x20], 2);
    harness_destroy(&h);
}

/* A trap pushes the EIP it is given and no RF (RF is for faults, Vol. 3B
 * 17.3.1.1); a #GP fault pushes its error code. */
TEST(injected_trap_and_fault_frames)
{
    struct harness h;
    inject_setup(&h, 0);
    harness_set_idt(&h, X86_DB, harness_mkgate(0x08, HANDLER, ACC_P | 0xF, 0));
    harness_set_idt(&h, X86_GP, harness_mkgate(0x08, DF_HANDLER, ACC_P | 0xF, 0));
    struct cpu_exit x = cpu_inject_event(&h.cpu, X86_DB, CPU_EVENT_TRAP, false, 0);
    CHECK_EQ(x.reason, CPU_EXIT_STEP);
    uint32_t sp = h.cpu.s.regs[R_ESP];
    CHECK_EQ(sp, HARNESS_STACK - 12);
    CHECK_EQ(stack_dword(&h, sp), CODE);
    CHECK_EQ(stack_dword(&h, sp + 8) & EFLAGS_RF, 0);
    x = cpu_inject_event(&h.cpu, X86_GP, CPU_EVENT_FAULT, true, 0x1234);
    CHECK_EQ(x.reason, CPU_EXIT_STEP);
    CHECK_EQ(h.cpu.s.eip, DF_HANDLER);
    sp = h.cpu.s.regs[R_ESP];
    CHECK_EQ(stack_dword(&h, sp), 0x1234);
    CHECK_EQ(stack_dword(&h, sp + 4), HANDLER);
    CHECK(stack_dword(&h, sp + 12) & EFLAGS_RF);
    harness_destroy(&h);
}

TEST_MAIN()
