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

#define IDT_BASE 0x8000u
#define TSS_A 0x3000u
#define TSS_B 0x3100u
#define TASK_ENTRY 0x2000u
#define TASK_ENTRY2 0x2100u
#define HANDLER 0x2200u
#define RING0_STACK 0x70000u
#define TASK_STACK 0x60000u

enum {
    SEL_CODE0 = 0x08, SEL_DATA0 = 0x10, SEL_CODE3 = 0x2B, SEL_DATA3 = 0x33,
    SEL_TSS_A = 0x38, SEL_TSS_B = 0x40, SEL_NP_DATA3 = 0x48, SEL_SMALL_DATA0 = 0x50,
};

/* Access byte bits (SDM Vol. 3A 3.4.5). */
#define ACC_P 0x80u
#define ACC_DPL(n) ((unsigned)(n) << 5)
#define ACC_S 0x10u

/* A segment or system descriptor: base, 20-bit limit, access byte, G/DB/L/AVL nibble. */
static uint64_t mkseg(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
    uint64_t d = (limit & 0xFFFFu) | ((uint64_t)(base & 0xFFFFFFu) << 16);
    d |= (uint64_t)(access & 0xFF) << 40;
    d |= (uint64_t)((limit >> 16) & 0xF) << 48;
    d |= (uint64_t)(flags & 0xF) << 52;
    d |= (uint64_t)(base >> 24) << 56;
    return d;
}

/* A gate (SDM Vol. 3A 6.11 fig. 6-2). */
static uint64_t mkgate(uint16_t sel, uint32_t off, unsigned access)
{
    return (off & 0xFFFFu) | ((uint64_t)sel << 16) | ((uint64_t)(access & 0xFF) << 40) |
           ((uint64_t)(off >> 16) << 48);
}

static void put64(struct harness *h, uint32_t addr, uint64_t v) { bus_write_block(&h->bus, addr, &v, 8); }
static void put32(struct harness *h, uint32_t addr, uint32_t v) { bus_write(&h->bus, addr, v, 4); }
static uint32_t get32(struct harness *h, uint32_t addr) { return bus_read(&h->bus, addr, 4); }
static void set_idt(struct harness *h, int vector, uint64_t gate) { put64(h, IDT_BASE + 8u * (unsigned)vector, gate); }

/* Offsets in a 32-bit TSS (SDM Vol. 3A 7.2.1, fig. 7-2). */
enum { TSS_ESP0 = 0x04, TSS_SS0 = 0x08, TSS_EIP = 0x20, TSS_EFLAGS = 0x24, TSS_ESP = 0x38,
       TSS_ES = 0x48, TSS_CS = 0x4C, TSS_SS = 0x50, TSS_DS = 0x54, TSS_FS = 0x58, TSS_GS = 0x5C,
       TSS_LDT = 0x60 };

/* A runnable ring-0 task in TSS B, entered at TASK_ENTRY on TASK_STACK. */
static void make_task_b(struct harness *h)
{
    put32(h, TSS_B + TSS_EIP, TASK_ENTRY);
    put32(h, TSS_B + TSS_EFLAGS, EFLAGS_FIXED1);
    put32(h, TSS_B + TSS_ESP, TASK_STACK);
    put32(h, TSS_B + TSS_CS, SEL_CODE0);
    put32(h, TSS_B + TSS_SS, SEL_DATA0);
    put32(h, TSS_B + TSS_DS, SEL_DATA0);
    put32(h, TSS_B + TSS_ES, SEL_DATA0);
    put32(h, TSS_B + TSS_FS, 0);
    put32(h, TSS_B + TSS_GS, 0);
    put32(h, TSS_B + TSS_LDT, 0);
}

/* Flat protected mode at 'cpl', TR = TSS A (busy), TSS B available, empty IDT. */
static void review_init(struct harness *h, unsigned cpl)
{
    harness_init(h, cpl);
    uint64_t gdt[11] = {
        0, harness_desc(0xB, 0), harness_desc(0x3, 0), harness_desc(0xB, 1),
        harness_desc(0x3, 1), harness_desc(0xB, 3), harness_desc(0x3, 3),
        mkseg(TSS_A, 0x67, ACC_P | 0xB, 0),                   /* 0x38 busy 32-bit TSS */
        mkseg(TSS_B, 0x67, ACC_P | 0x9, 0),                   /* 0x40 available 32-bit TSS */
        harness_desc(0x3, 3) & ~(1ull << 47),                 /* 0x48 not-present DPL 3 data */
        mkseg(0, 0xFFFF, ACC_P | ACC_S | ACC_DPL(0) | 0x3, 0x4), /* 0x50 64 KiB data, B = 1 */
    };
    bus_write_block(&h->bus, HARNESS_GDT, gdt, sizeof gdt);
    struct x86_state *s = &h->cpu.s;
    s->gdtr.limit = sizeof gdt - 1;
    s->idtr.base = IDT_BASE;
    s->idtr.limit = 256 * 8 - 1;
    s->tr.selector = SEL_TSS_A;
    s->tr.base = TSS_A;
    s->tr.limit = 0x67;
    s->tr.attr = SEG_ATTR_P | 0xB;
    s->ldtr.selector = 0;
    s->ldtr.attr = 0;
    s->eflags = EFLAGS_FIXED1;
    put32(h, TSS_A + TSS_ESP0, RING0_STACK);
    put32(h, TSS_A + TSS_SS0, SEL_DATA0);
    bus_write_block(&h->bus, TASK_ENTRY, "\xf4", 1);
    bus_write_block(&h->bus, TASK_ENTRY2, "\xf4", 1);
    bus_write_block(&h->bus, HANDLER, "\xf4", 1);
    cpu_state_changed(&h->cpu);
}

static struct cpu_exit run(struct harness *h) { return cpu_run(&h->cpu, 1000, false); }

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
    put32(&h, TSS_B + TSS_DS, SEL_TSS_A);
    h.cpu.exit_on_exception = 1u << X86_TS;
    harness_code(&h, 0x1000, "\xea\x00\x00\x00\x00\x40\x00", 7); /* jmp far 0x40:0 */
    struct cpu_exit x = run(&h);
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
    put32(&h, TSS_B + TSS_EIP, TASK_ENTRY2);
    put32(&h, TSS_B + TSS_DS, SEL_NP_DATA3);                   /* not present: #NP(0x48) */
    set_idt(&h, X86_NP, mkgate(SEL_CODE0, HANDLER, ACC_P | 0xE));
    harness_code(&h, 0x1000, "\xea\x00\x00\x00\x00\x40\x00", 7); /* jmp far 0x40:0 */
    struct cpu_exit x = run(&h);
    CHECK_EQ(x.reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.tr.selector, SEL_TSS_B);
    CHECK_EQ(h.cpu.s.regs[R_ESP], TASK_STACK - 16);
    CHECK_EQ(get32(&h, TASK_STACK - 16), SEL_NP_DATA3);       /* error code */
    CHECK_EQ(get32(&h, TASK_STACK - 12), TASK_ENTRY2);        /* EIP: the new task's */
    CHECK_EQ(get32(&h, TASK_STACK - 8) & 0xFFFF, SEL_CODE0);  /* CS: the new task's */
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
    put32(&h, TSS_B + TSS_SS, SEL_SMALL_DATA0);
    put32(&h, TSS_B + TSS_ESP, 2);                            /* ESP - 4 wraps beyond the limit */
    set_idt(&h, X86_GP, mkgate(SEL_TSS_B, 0, ACC_P | 0x5));   /* task gate */
    h.cpu.exit_on_exception = 1u << X86_DF;
    harness_code(&h, 0x1000, "\xfa", 1);                      /* cli at CPL 3, IOPL 0: #GP(0) */
    struct cpu_exit x = run(&h);
    CHECK_EQ(x.vector, X86_DF);
    CHECK(h.cpu.fault_chain_len >= 2);
    CHECK_EQ(h.cpu.fault_chain[1].vector, X86_SS);
    CHECK_EQ(h.cpu.fault_chain[1].error_code, 1);
    harness_destroy(&h);
}

TEST_MAIN()
