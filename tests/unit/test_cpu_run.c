/*
 * test_cpu_run.c - the run loop's contracts: the VMM seam (owned
 * exceptions exit instead of being delivered), HLT, budgets, host
 * breakpoints, self-modifying code, and the double/triple-fault rules.
 */
#include "tests/cpu_harness.h"
#include "tests/test.h"

/*
 * The seam tae stands on: CLI at CPL 1 with IOPL 0 is #GP(0) (SDM Vol. 2A
 * CLI: "IF CPL > IOPL THEN #GP(0)"); a VMM owning #GP gets the exit with
 * EIP still at the CLI and nothing pushed on the guest stack.
 */
TEST(owner_receives_gp_of_cli_at_cpl1)
{
    struct harness h;
    harness_init(&h, 1);
    harness_code(&h, 0x1000, "\xfa\xf4", 2);
    h.cpu.exit_on_exception = 1u << X86_GP;
    struct cpu_exit x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_EXCEPTION);
    CHECK_EQ(x.vector, X86_GP);
    CHECK(x.has_error_code);
    CHECK_EQ(x.error_code, 0);
    CHECK_EQ(h.cpu.s.eip, 0x1000);
    CHECK_EQ(h.cpu.s.regs[R_ESP], HARNESS_STACK);
    CHECK_EQ(h.cpu.stats.exceptions[X86_GP], 1);
    harness_destroy(&h);
}

/* The same CLI at CPL 0 runs; HLT with IF = 0 ends the run (HALT exit). */
TEST(cli_at_cpl0_then_hlt_exits_halt)
{
    struct harness h;
    harness_init(&h, 0);
    h.cpu.s.eflags |= EFLAGS_IF;
    harness_code(&h, 0x1000, "\xfa\xf4", 2);
    struct cpu_exit x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.eip, 0x1002);
    CHECK_EQ(cpu_get_eflags(&h.cpu) & EFLAGS_IF, 0);
    CHECK_EQ(h.cpu.stats.instructions, 2);
    harness_destroy(&h);
}

/*
 * A budget of N instructions runs exactly N (here: INC EAX in a loop of
 * four).  1001 ends inside the loop's block: 250 loops and one INC.
 */
TEST(budget_is_exact)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, 0x1000, "\x40\x40\x40\xeb\xfb", 5); /* inc eax x3; jmp -5 */
    struct cpu_exit x = cpu_run(&h.cpu, 1001, false);
    CHECK_EQ(x.reason, CPU_EXIT_BUDGET);
    CHECK_EQ(h.cpu.stats.instructions, 1001);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 751);
    harness_destroy(&h);
}

/*
 * A breakpoint is checked on every instruction, also the first one of a
 * run that did not resume from it (the run loop runs the guest in slices,
 * so a breakpoint can fall on the first instruction of any slice).
 */
TEST(breakpoint_at_start_of_a_slice_stops)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, 0x1000, "\x40\x40\x43\xf4", 4);
    CHECK_EQ(cpu_set_breakpoint(&h.cpu, 0x1002), 0);
    struct cpu_exit x = cpu_run(&h.cpu, 2, false);   /* a slice that ends before 0x1002 */
    CHECK_EQ(x.reason, CPU_EXIT_BUDGET);
    x = cpu_run(&h.cpu, 100, false);                  /* the next slice starts at it */
    CHECK_EQ(x.reason, CPU_EXIT_BREAKPOINT);
    CHECK_EQ(h.cpu.s.eip, 0x1002);
    CHECK_EQ(h.cpu.s.regs[R_EBX], 0);
    harness_destroy(&h);
}

/* Single-step executes exactly one instruction. */
TEST(step_runs_one_instruction)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, 0x1000, "\x40\x43\xf4", 3);
    struct cpu_exit x = cpu_run(&h.cpu, 0, true);
    CHECK_EQ(x.reason, CPU_EXIT_STEP);
    CHECK_EQ(h.cpu.s.eip, 0x1001);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 1);
    CHECK_EQ(h.cpu.s.regs[R_EBX], 0);
    harness_destroy(&h);
}

/* A host breakpoint stops before the instruction; continuing executes it. */
TEST(host_breakpoint_stops_before_and_resumes)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, 0x1000, "\x40\x40\x43\xf4", 4);
    CHECK_EQ(cpu_set_breakpoint(&h.cpu, 0x1002), 0);
    struct cpu_exit x = cpu_run(&h.cpu, 0, false);
    CHECK_EQ(x.reason, CPU_EXIT_BREAKPOINT);
    CHECK_EQ(x.address, 0x1002);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 2);
    CHECK_EQ(h.cpu.s.regs[R_EBX], 0);
    x = cpu_run(&h.cpu, 0, false);
    CHECK_EQ(x.reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.regs[R_EBX], 1);
    harness_destroy(&h);
}

/*
 * Self-modifying code inside the running block: the store rewrites the
 * instruction right after it, and the new one must run (SDM Vol. 3A 11.6:
 * a write to a code address the processor is about to execute is detected
 * and the prefetched instruction is invalidated).
 *   0x1000: mov byte [0x1008], 0x43   ; inc eax -> inc ebx
 *   0x1007: inc eax
 *   0x1008: inc eax                   ; overwritten
 *   0x1009: hlt
 */
TEST(self_modifying_code_in_same_block)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, 0x1000, "\xc6\x05\x08\x10\x00\x00\x43\x40\x40\xf4", 10);
    struct cpu_exit x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 1);
    CHECK_EQ(h.cpu.s.regs[R_EBX], 1);
    harness_destroy(&h);
}

/*
 * Code that already ran (cached, and warm in the linear jump cache: the
 * second call finds it there) and is then rewritten runs the new bytes.
 *   0x2000: inc eax; ret
 *   0x1000: call 0x2000; call 0x2000; mov byte [0x2000], 0x43; call 0x2000; hlt
 */
TEST(self_modifying_code_after_caching)
{
    struct harness h;
    harness_init(&h, 0);
    bus_write_block(&h.bus, 0x2000, "\x40\xc3", 2);
    harness_code(&h, 0x1000, "\xe8\xfb\x0f\x00\x00" "\xe8\xf6\x0f\x00\x00"
                             "\xc6\x05\x00\x20\x00\x00\x43" "\xe8\xea\x0f\x00\x00" "\xf4", 23);
    struct cpu_exit x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 2);
    CHECK_EQ(h.cpu.s.regs[R_EBX], 1);
    CHECK(h.cpu.stats.block_invalidations >= 1);
    harness_destroy(&h);
}

/* Data written next to code, outside any decoded chunk, does not invalidate it. */
TEST(data_write_in_code_page_keeps_blocks)
{
    struct harness h;
    harness_init(&h, 0);
    /* mov [0x1800], eax; inc eax; cmp eax, 100; jne -> loop; hlt */
    harness_code(&h, 0x1000, "\xa3\x00\x18\x00\x00\x40\x83\xf8\x64\x75\xf5\xf4", 12);
    struct cpu_exit x = cpu_run(&h.cpu, 10000, false);
    CHECK_EQ(x.reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 100);
    CHECK_EQ(h.cpu.stats.block_invalidations, 0);
    harness_destroy(&h);
}

/*
 * Triple fault (SDM Vol. 3A 6.15, table 6-5): with an empty IDT, UD2 raises
 * #UD; delivering it finds no gate (#GP(6*8+2+EXT)); delivering that #GP
 * faults again: contributory after contributory is #DF; delivering #DF
 * faults: shutdown.  The chain starts with #UD and its state.
 */
TEST(empty_idt_triple_faults_with_chain)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, 0x1000, "\x0f\x0b", 2);
    struct cpu_exit x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_TRIPLE_FAULT);
    CHECK(h.cpu.fault_chain_len >= 3);
    CHECK_EQ(h.cpu.fault_chain[0].vector, X86_UD);
    CHECK_EQ(h.cpu.fault_chain[0].state.eip, 0x1000);
    CHECK_EQ(h.cpu.fault_chain[1].vector, X86_GP);
    CHECK_EQ(h.cpu.fault_chain[1].error_code, 6 * 8 + 2 + 1);
    int last = h.cpu.fault_chain_len - 1;
    CHECK_EQ(h.cpu.fault_chain[last - 1].vector, X86_DF);
    CHECK_EQ(h.cpu.fault_chain[last].vector, X86_GP);
    harness_destroy(&h);
}

TEST_MAIN()
