/*
 * test_review.c - protected-mode rules found wrong in a review of cpu/
 * against the SDM pseudo-code; one rule per test, each citing its section.
 *
 * Memory map (linear = physical):
 *   0x0500 GDT (review_init)    0x1000 test code
 *   0x2000 HLT (task B entry)   0x2100 HLT (second entry)   0x2200 HLT (#NP/#GP handler)
 *   0x3000 TSS A (current)      0x3100 TSS B (available)
 *   0x8000 IDT (256 gates, all not present until a test sets one)
 *   0x60000 task B's stack top  0x70000 ring-0 stack top (TSS A SS0:ESP0)
 */
#include "tests/cpu_harness.h"
#include "tests/test.h"

#define TSS_A HARNESS_TSS       /* the current task */
#define TSS_B 0x3100u
#define TASK_ENTRY 0x2000u
#define TASK_ENTRY2 0x2100u
#define HANDLER 0x2200u
#define TASK_STACK 0x60000u

enum {
    SEL_CODE0 = 0x08, SEL_DATA0 = 0x10, SEL_CODE3 = 0x2B, SEL_DATA3 = 0x33,
    SEL_TSS_A = 0x38, SEL_TSS_B = 0x40, SEL_NP_DATA3 = 0x48, SEL_SMALL_DATA0 = 0x50,
};

/* A runnable ring-0 task in TSS B, entered at TASK_ENTRY on TASK_STACK. */
static void make_task_b(struct harness *h)
{
    harness_ring0_task(h, TSS_B, TASK_ENTRY, TASK_STACK);
}

/* Flat protected mode at 'cpl', TR = TSS A (busy), TSS B available, empty IDT. */
static void review_init(struct harness *h, unsigned cpl)
{
    harness_init(h, cpl);
    uint64_t gdt[11] = {
        [SEL_TSS_A / 8] = harness_mkseg(TSS_A, 0x67, ACC_P | 0xB, 0), /* busy 32-bit TSS */
        [SEL_TSS_B / 8] = harness_mkseg(TSS_B, 0x67, ACC_P | 0x9, 0), /* available 32-bit TSS */
        [SEL_NP_DATA3 / 8] = harness_desc(0x3, 3) & ~(1ull << 47),         /* not-present DPL 3 data */
        [SEL_SMALL_DATA0 / 8] = harness_mkseg(0, 0xFFFF, ACC_P | ACC_S | ACC_DPL(0) | 0x3, 0x4), /* 64 KiB, B = 1 */
    };
    harness_system_tables(h, gdt, 11, SEL_TSS_A);
    bus_write_block(&h->bus, TASK_ENTRY, "\xf4", 1);
    bus_write_block(&h->bus, TASK_ENTRY2, "\xf4", 1);
    bus_write_block(&h->bus, HANDLER, "\xf4", 1);
}

/* ---------- task switches (SDM Vol. 3A 7.3, table 7-1) ---------- */

/*
 * SDM Vol. 3A table 7-1: "DS, ES, FS, and GS segments are readable", else
 * #TS(new data segment).  A selector naming a system descriptor (here a
 * TSS) is no readable segment: #TS(selector), as MOV DS would #GP.
 */
TEST(task_switch_ds_naming_system_descriptor_is_ts)
{
    struct harness h;
    review_init(&h, 0);
    make_task_b(&h);
    harness_put32(&h, TSS_B + TSS_DS, SEL_TSS_A);
    h.cpu.exit_on_exception = 1u << X86_TS;
    harness_code(&h, 0x1000, "\xea\x00\x00\x00\x00\x40\x00", 7); /* jmp far 0x40:0 */
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.reason, CPU_EXIT_EXCEPTION);
    CHECK_EQ(x.vector, X86_TS);
    CHECK_EQ(x.error_code, SEL_TSS_A);
    harness_destroy(&h);
}

/*
 * SDM Vol. 3A 7.3 step 13-14: errors while loading the new task's
 * descriptors "occur in the context of the new task", and "to an exception
 * handler, the first instruction of the new task appears not to have been
 * executed": the handler's frame holds the new task's CS:EIP, not the
 * address of the JMP in the old task.
 */
TEST(task_switch_fault_after_commit_pushes_new_task_eip)
{
    struct harness h;
    review_init(&h, 0);
    make_task_b(&h);
    harness_put32(&h, TSS_B + TSS_EIP, TASK_ENTRY2);
    harness_put32(&h, TSS_B + TSS_DS, SEL_NP_DATA3);           /* not present: #NP(0x48) */
    harness_set_idt(&h, X86_NP, harness_mkgate(SEL_CODE0, HANDLER, ACC_P | 0xE, 0));
    harness_code(&h, 0x1000, "\xea\x00\x00\x00\x00\x40\x00", 7); /* jmp far 0x40:0 */
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.tr.selector, SEL_TSS_B);
    CHECK_EQ(h.cpu.s.regs[R_ESP], TASK_STACK - 16);
    CHECK_EQ(harness_get32(&h, TASK_STACK - 16), SEL_NP_DATA3); /* error code */
    CHECK_EQ(harness_get32(&h, TASK_STACK - 12), TASK_ENTRY2); /* EIP: the new task's */
    CHECK_EQ(harness_get32(&h, TASK_STACK - 8) & 0xFFFF, SEL_CODE0); /* CS: the new task's */
    harness_destroy(&h);
}

/*
 * SDM Vol. 2A INT n, "TASK-GATE": "IF stack limit does not allow push of
 * error code THEN #SS(EXT)" - an exception is an external event (EXT = 1,
 * Vol. 3A 6.13), so the #SS carries error code 1.  Here that #SS, raised
 * while delivering a #GP, becomes a #DF (table 6-5); the fault chain keeps it.
 */
TEST(task_gate_error_code_push_overflow_is_ss_ext)
{
    struct harness h;
    review_init(&h, 3);
    make_task_b(&h);
    harness_put32(&h, TSS_B + TSS_SS, SEL_SMALL_DATA0);
    harness_put32(&h, TSS_B + TSS_ESP, 2);                    /* ESP - 4 wraps beyond the limit */
    harness_set_idt(&h, X86_GP, harness_mkgate(SEL_TSS_B, 0, ACC_P | 0x5, 0)); /* task gate */
    h.cpu.exit_on_exception = 1u << X86_DF;
    harness_code(&h, 0x1000, "\xfa", 1);                      /* cli at CPL 3, IOPL 0: #GP(0) */
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.vector, X86_DF);
    CHECK(h.cpu.fault_chain_len >= 2);
    CHECK_EQ(h.cpu.fault_chain[1].vector, X86_SS);
    CHECK_EQ(h.cpu.fault_chain[1].error_code, 1);
    harness_destroy(&h);
}

TEST_MAIN()
