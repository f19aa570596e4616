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

/* The same for an INT3 caught as an owned vector (exit_on_exception bit 3,
 * not exit_on_soft_int): the #GP points at the INT3. */
TEST(reflected_owned_int3_through_dpl0_gate_is_gp_at_it)
{
    struct harness h;
    inject_setup(&h, 3);
    harness_set_idt(&h, X86_BP, harness_mkgate(0x08, HANDLER, ACC_P | ACC_DPL(0) | 0xE, 0));
    harness_code(&h, CODE, "\xcc", 1);
    h.cpu.exit_on_exception = (1u << X86_BP) | (1u << X86_GP);
    struct cpu_exit x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.vector, X86_BP);
    CHECK_EQ(x.event_kind, CPU_EVENT_SOFT_INT);
    CHECK_EQ(h.cpu.s.eip, CODE + 1);
    x = cpu_inject_event(&h.cpu, X86_BP, x.event_kind, false, 0);
    CHECK_EQ(x.reason, CPU_EXIT_EXCEPTION);
    CHECK_EQ(x.vector, X86_GP);
    CHECK_EQ(x.error_code, X86_BP * 8 + 2);
    CHECK_EQ(h.cpu.s.eip, CODE);
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

/* ---------- the sensitive hook and sensitive_traps ---------- */

/*
 * One sensitive instruction per row, run alone at CODE at CPL 0, 1 or 3 in
 * the flat harness (GDT 0x38: the busy TSS TR names).  Values written as
 * TOK_CS / TOK_DS / TOK_RIGHTS stand for that ring's code selector, data
 * selector, and the access rights LAR reads for its data descriptor (SDM
 * Vol. 2A LAR: high dword & 00F0FF00H - here G, D/B, P, DPL, S, type 3).
 */
#define TOK_CS 0xC5C5C5C5u
#define TOK_DS 0xD5D5D5D5u
#define TOK_RIGHTS 0xAAAA0001u
#define MEM 0x4000u
#define TARGET 0x1100u

struct sensitive_case {
    const char *mnemonic;
    const char *code;
    unsigned len;
    uint32_t stack[4];   /* from ESP up */
    unsigned nstack;
    uint32_t mem[2];     /* dwords at MEM: a far pointer (offset, selector), a table store */
    uint32_t ecx;
    bool if_set;         /* EFLAGS.IF before */
    uint32_t wanted, got;
    bool traps;          /* #GP(0) at CPL > 0 under sensitive_traps */
};

static const struct sensitive_case sensitive_cases[] = {
    { "pushf", "\x9c", 1, {0}, 0, {0}, 0, true, 0, EFLAGS_FIXED1 | EFLAGS_IF, true },
    { "pushf", "\x66\x9c", 2, {0}, 0, {0}, 0, false, 0, EFLAGS_FIXED1, true },
    /* POPF at CPL > IOPL keeps IF (Vol. 2B POPF): wanted 0, got IF still set. */
    { "popf", "\x9d", 1, {0}, 1, {0}, 0, true, 0, EFLAGS_FIXED1 | EFLAGS_IF, true },
    { "sgdt", "\x0f\x01\x05\x00\x40\x00\x00", 7, {0}, 0, {0}, 0, false, 0, HARNESS_GDT, true },
    { "sidt", "\x0f\x01\x0d\x00\x40\x00\x00", 7, {0}, 0, {0}, 0, false, 0, HARNESS_IDT, true },
    { "sldt", "\x0f\x00\xc0", 3, {0}, 0, {0}, 0, false, 0, 0, true },
    { "str", "\x0f\x00\xc8", 3, {0}, 0, {0}, 0, false, 0, 0x38, true },
    { "smsw", "\x0f\x01\xe0", 3, {0}, 0, {0}, 0, false, 0, CR0_PE | CR0_ET, true },
    { "lar", "\x0f\x02\xc1", 3, {0}, 0, {0}, TOK_DS, false, 1, TOK_RIGHTS, true },
    { "lar", "\x0f\x02\xc1", 3, {0}, 0, {0}, 0, false, 0, 0, true },   /* null: ZF = 0 */
    { "lsl", "\x0f\x03\xc1", 3, {0}, 0, {0}, TOK_DS, false, 1, 0xFFFFFFFFu, true },
    { "verr", "\x0f\x00\xe1", 3, {0}, 0, {0}, TOK_DS, false, 0, 1, true },
    { "verw", "\x0f\x00\xe9", 3, {0}, 0, {0}, TOK_DS, false, 0, 1, true },
    { "verw", "\x0f\x00\xe9", 3, {0}, 0, {0}, TOK_CS, false, 0, 0, true }, /* code: not writable */
    { "push es", "\x06", 1, {0}, 0, {0}, 0, false, 0, TOK_DS, true },
    { "push cs", "\x0e", 1, {0}, 0, {0}, 0, false, 0, TOK_CS, true },
    { "push ss", "\x16", 1, {0}, 0, {0}, 0, false, 0, TOK_DS, true },
    { "push ds", "\x1e", 1, {0}, 0, {0}, 0, false, 0, TOK_DS, true },
    { "push fs", "\x0f\xa0", 2, {0}, 0, {0}, 0, false, 0, TOK_DS, true },
    { "push gs", "\x0f\xa8", 2, {0}, 0, {0}, 0, false, 0, TOK_DS, true },
    { "mov from cs", "\x8c\xc8", 2, {0}, 0, {0}, 0, false, 0, TOK_CS, true },
    { "mov from ss", "\x8c\xd0", 2, {0}, 0, {0}, 0, false, 0, TOK_DS, true },
    { "mov from ds", "\x8c\x1d\x00\x40\x00\x00", 6, {0}, 0, {0}, 0, false, 0, TOK_DS, true },
    { "mov from gs", "\x8c\xe8", 2, {0}, 0, {0}, 0, false, 0, TOK_DS, true },
    { "pop ds", "\x1f", 1, {TOK_DS}, 1, {0}, 0, false, 0, TOK_DS, false },
    { "pop es", "\x07", 1, {TOK_DS}, 1, {0}, 0, false, 0, TOK_DS, false },
    { "pop ss", "\x17", 1, {TOK_DS}, 1, {0}, 0, false, 0, TOK_DS, false },
    { "pop fs", "\x0f\xa1", 2, {0}, 1, {0}, 0, false, 0, 0, false },    /* null is allowed */
    { "mov ds", "\x8e\xd9", 2, {0}, 0, {0}, TOK_DS, false, 0, TOK_DS, false },
    { "mov ss", "\x8e\xd1", 2, {0}, 0, {0}, TOK_DS, false, 0, TOK_DS, false },
    { "lds", "\xc5\x05\x00\x40\x00\x00", 6, {0}, 0, {0x1234, TOK_DS}, 0, false, 0, TOK_DS, false },
    { "les", "\xc4\x05\x00\x40\x00\x00", 6, {0}, 0, {0x1234, TOK_DS}, 0, false, 0, TOK_DS, false },
    { "lss", "\x0f\xb2\x05\x00\x40\x00\x00", 7, {0}, 0, {0x1234, TOK_DS}, 0, false, 0, TOK_DS, false },
    { "lfs", "\x0f\xb4\x05\x00\x40\x00\x00", 7, {0}, 0, {0x1234, TOK_DS}, 0, false, 0, TOK_DS, false },
    { "lgs", "\x0f\xb5\x05\x00\x40\x00\x00", 7, {0}, 0, {0x1234, TOK_DS}, 0, false, 0, TOK_DS, false },
    { "jmp far", "\xff\x2d\x00\x40\x00\x00", 6, {0}, 0, {TARGET, TOK_CS}, 0, false, 0, TOK_CS, false },
    { "call far", "\xff\x1d\x00\x40\x00\x00", 6, {0}, 0, {TARGET, TOK_CS}, 0, false, 0, TOK_CS, false },
    { "retf", "\xcb", 1, {TARGET, TOK_CS}, 2, {0}, 0, false, 0, TOK_CS, false },
    /* RETF outward to ring 3 (Vol. 2B RET): at CPL 1 the report says CS 0x19, CPL 1. */
    { "retf", "\xcb", 1, {TARGET, 0x2B, HARNESS_STACK, 0x33}, 4, {0}, 0, false, 0, 0x2B, false },
    /* IRET at CPL > 0 changes neither IOPL nor (CPL > IOPL) IF (Vol. 2A IRET). */
    { "iret", "\xcf", 1, {TARGET, TOK_CS, 0x3202}, 3, {0}, 0, false, 0x3202, EFLAGS_FIXED1, false },
};
#define N_SENSITIVE (sizeof sensitive_cases / sizeof sensitive_cases[0])

static const uint16_t ring_code[4] = { 0x08, 0x19, 0, 0x2B }, ring_data[4] = { 0x10, 0x21, 0, 0x33 };

static uint32_t resolve(uint32_t v, unsigned cpl)
{
    if (v == TOK_CS) return ring_code[cpl];
    if (v == TOK_DS) return ring_data[cpl];
    if (v == TOK_RIGHTS) return 0x00C09300u | (uint32_t)cpl << 13;
    return v;
}

#define MAX_REPORTS 4
struct sensitive_log { int count; struct cpu_sensitive ev[MAX_REPORTS]; };

static void log_sensitive(void *opaque, const struct cpu_sensitive *ev)
{
    struct sensitive_log *l = opaque;
    if (l->count < MAX_REPORTS) l->ev[l->count] = *ev;
    l->count++;
}

/* Set up row 'c' at 'cpl' and run its one instruction. */
static struct cpu_exit run_case(struct harness *h, const struct sensitive_case *c, unsigned cpl,
                                struct sensitive_log *log, bool traps)
{
    harness_init(h, cpl);
    uint64_t gdt[8] = { [7] = harness_mkseg(HARNESS_TSS, 0x67, ACC_P | 0xB, 0) };
    harness_system_tables(h, gdt, 8, 0x38);
    harness_code(h, CODE, c->code, c->len);
    uint32_t sp = HARNESS_STACK - 4 * c->nstack;
    for (unsigned k = 0; k < c->nstack; k++) harness_put32(h, sp + 4 * k, resolve(c->stack[k], cpl));
    h->cpu.s.regs[R_ESP] = sp;
    harness_put32(h, MEM, resolve(c->mem[0], cpl));
    harness_put32(h, MEM + 4, resolve(c->mem[1], cpl));
    h->cpu.s.regs[R_ECX] = resolve(c->ecx, cpl);
    if (c->if_set) h->cpu.s.eflags |= EFLAGS_IF;
    *log = (struct sensitive_log){ 0 };
    h->cpu.sensitive_hook = log_sensitive;
    h->cpu.sensitive_opaque = log;
    h->cpu.sensitive_traps = traps;
    h->cpu.exit_on_exception = 1u << X86_GP;
    return cpu_run(&h->cpu, 1, false);
}

/* Each site at CPL 1 and 3: one report, after the instruction ran, with
 * where it ran and what it did (cpu.h struct cpu_sensitive). */
TEST(sensitive_hook_reports_each_site)
{
    static const unsigned rings[] = { 1, 3 };
    for (unsigned r = 0; r < 2; r++) {
        unsigned cpl = rings[r];
        for (unsigned n = 0; n < N_SENSITIVE; n++) {
            const struct sensitive_case *c = &sensitive_cases[n];
            struct harness h;
            struct sensitive_log log;
            struct cpu_exit x = run_case(&h, c, cpl, &log, false);
            if (x.reason != CPU_EXIT_BUDGET || log.count != 1 || strcmp(log.ev[0].mnemonic, c->mnemonic) != 0)
                printf("  case %u (%s) at CPL %u: exit %d, %d reports, first %s\n", n, c->mnemonic, cpl,
                       x.reason, log.count, log.count ? log.ev[0].mnemonic : "-");
            CHECK_EQ(x.reason, CPU_EXIT_BUDGET);
            CHECK_EQ(log.count, 1);
            if (log.count != 1) { harness_destroy(&h); continue; }
            CHECK_STR(log.ev[0].mnemonic, c->mnemonic);
            CHECK_EQ(log.ev[0].eip, CODE);
            CHECK_EQ(log.ev[0].cs, ring_code[cpl]);
            CHECK_EQ(log.ev[0].cpl, cpl);
            CHECK_EQ(log.ev[0].wanted, resolve(c->wanted, cpl));
            CHECK_EQ(log.ev[0].got, resolve(c->got, cpl));
            harness_destroy(&h);
        }
    }
}

/* At CPL 0 the same instructions run and nothing is reported. */
TEST(sensitive_hook_silent_at_cpl0)
{
    for (unsigned n = 0; n < N_SENSITIVE; n++) {
        struct harness h;
        struct sensitive_log log;
        struct cpu_exit x = run_case(&h, &sensitive_cases[n], 0, &log, true);
        CHECK_EQ(x.reason, CPU_EXIT_BUDGET);
        CHECK_EQ(log.count, 0);
        harness_destroy(&h);
    }
}

/* A faulting sensitive instruction is not reported: SGDT to beyond the
 * data segment's limit is #GP(0) (Vol. 2B SGDT). */
TEST(sensitive_hook_silent_when_it_faults)
{
    struct harness h;
    struct sensitive_log log = { 0 };
    harness_init(&h, 1);
    harness_code(&h, CODE, "\x0f\x01\x05\x00\x40\x00\x00", 7);   /* sgdt [0x4000] */
    h.cpu.s.seg[SEG_DS].limit = 0xFFF;
    h.cpu.sensitive_hook = log_sensitive;
    h.cpu.sensitive_opaque = &log;
    h.cpu.exit_on_exception = 1u << X86_GP;
    struct cpu_exit x = cpu_run(&h.cpu, 1, false);
    CHECK_EQ(x.reason, CPU_EXIT_EXCEPTION);
    CHECK_EQ(x.vector, X86_GP);
    CHECK_EQ(x.insn_len, 7);
    CHECK_EQ(log.count, 0);
    harness_destroy(&h);
}

/*
 * sensitive_traps: the trapping set is #GP(0) at CPL > 0, a fault with EIP
 * at the instruction, nothing pushed or stored, not reported (as CR4.UMIP
 * for SGDT SIDT SLDT SMSW STR, SDM Vol. 3A 2.5); segment loads, far
 * transfers and IRET run as before and are reported.
 */
TEST(sensitive_traps_fault_the_trapping_set)
{
    static const unsigned rings[] = { 1, 3 };
    for (unsigned r = 0; r < 2; r++) {
        unsigned cpl = rings[r];
        for (unsigned n = 0; n < N_SENSITIVE; n++) {
            const struct sensitive_case *c = &sensitive_cases[n];
            struct harness h;
            struct sensitive_log log;
            struct cpu_exit x = run_case(&h, c, cpl, &log, true);
            if (c->traps) {
                CHECK_EQ(x.reason, CPU_EXIT_EXCEPTION);
                CHECK_EQ(x.vector, X86_GP);
                CHECK_EQ(x.error_code, 0);
                CHECK_EQ(x.event_kind, CPU_EVENT_FAULT);
                CHECK_EQ(x.insn_len, c->len);
                CHECK_EQ(h.cpu.s.eip, CODE);
                CHECK_EQ(h.cpu.s.regs[R_ESP], HARNESS_STACK - 4 * c->nstack);
                CHECK_EQ(harness_get32(&h, MEM), 0);
                CHECK_EQ(log.count, 0);
            } else {
                CHECK_EQ(x.reason, CPU_EXIT_BUDGET);
                CHECK_EQ(log.count, 1);
            }
            harness_destroy(&h);
        }
    }
}

/* ---------- cpu_set_state and the cheap setters ---------- */

/* The TLB entry for a data read of page 'lin' in TLB half 'user' (mmu.h). */
static bool tlb_holds(struct harness *h, int user, uint32_t lin)
{
    return h->cpu.mmu.tlb[user][(lin >> PAGE_SHIFT) % TLB_ENTRIES].tag_read == (lin & PAGE_MASK);
}

static uint64_t cpu_tsc_of(struct harness *h)
{
    struct x86_state s;
    cpu_get_state(&h->cpu, &s);
    return s.tsc;
}

/* mov eax, [0x4000]; hlt - fills the TLB entry of page 0x4000. */
static void tlb_setup(struct harness *h)
{
    harness_init(h, 0);
    harness_code(h, CODE, "\xa1\x00\x40\x00\x00\xf4", 6);
    harness_put32(h, MEM, 0x5A5A5A5A);
    CHECK_EQ(harness_run(h).reason, CPU_EXIT_HALT);
    CHECK(tlb_holds(h, 0, MEM));
    h->cpu.s.halted = false;      /* the tests run the code again */
}

/* Registers and EIP are not in any translation: setting them keeps the TLB
 * (and its epoch, so the jump cache too); a new CR3 drops it, as MOV CR3
 * would (SDM Vol. 3A 4.10.4.1). */
TEST(set_state_keeps_tlb_unless_paging_changes)
{
    struct harness h;
    tlb_setup(&h);
    uint64_t epoch = h.cpu.mmu.epoch;
    struct x86_state s;
    cpu_get_state(&h.cpu, &s);
    s.eip = CODE;
    s.regs[R_EBX] = 7;
    s.eflags |= EFLAGS_CF;
    cpu_set_state(&h.cpu, &s);
    CHECK(tlb_holds(&h, 0, MEM));
    CHECK_EQ(h.cpu.mmu.epoch, epoch);
    CHECK_EQ(harness_run(&h).reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x5A5A5A5A);

    cpu_get_state(&h.cpu, &s);
    s.cr3 = 0x9000;
    cpu_set_state(&h.cpu, &s);
    CHECK(!tlb_holds(&h, 0, MEM));
    CHECK(h.cpu.mmu.epoch != epoch);
    harness_destroy(&h);
}

/* A state that was not just read from the CPU (its TSC differs: loadvm,
 * another engine) may come with other page tables behind the same CR3. */
TEST(set_state_from_elsewhere_drops_tlb)
{
    struct harness h;
    tlb_setup(&h);
    struct x86_state s;
    cpu_get_state(&h.cpu, &s);
    s.tsc += 1000;
    cpu_set_state(&h.cpu, &s);
    CHECK(!tlb_holds(&h, 0, MEM));
    CHECK_EQ(cpu_tsc_of(&h), s.tsc);
    harness_destroy(&h);
}

/* CR0.WP and CR4.PGE change the rights and lifetimes the TLB cached. */
TEST(set_state_wp_or_pge_change_drops_tlb)
{
    struct harness h;
    tlb_setup(&h);
    struct x86_state s;
    cpu_get_state(&h.cpu, &s);
    s.cr0 |= CR0_WP;
    cpu_set_state(&h.cpu, &s);
    CHECK(!tlb_holds(&h, 0, MEM));
    s.eip = CODE;
    cpu_set_state(&h.cpu, &s);
    CHECK_EQ(harness_run(&h).reason, CPU_EXIT_HALT);
    CHECK(tlb_holds(&h, 0, MEM));
    cpu_get_state(&h.cpu, &s);                    /* its TSC is the CPU's again */
    s.cr4 |= CR4_PGE;
    cpu_set_state(&h.cpu, &s);
    CHECK(!tlb_holds(&h, 0, MEM));
    harness_destroy(&h);
}

/* A CPL change picks the TLB's user half and keeps the supervisor one;
 * the same code then runs at CPL 3 through the user half. */
TEST(set_state_cpl_change_keeps_tlb)
{
    struct harness h;
    tlb_setup(&h);
    struct x86_state s;
    cpu_get_state(&h.cpu, &s);
    harness_seg(&s.seg[SEG_CS], 0x2B, SEG_ATTR_CODE | SEG_ATTR_R | SEG_ATTR_A, 3);
    for (int r = 0; r < SEG_COUNT; r++)
        if (r != SEG_CS) harness_seg(&s.seg[r], 0x33, SEG_ATTR_W | SEG_ATTR_A, 3);
    s.cpl = 3;
    s.eip = CODE;
    cpu_set_state(&h.cpu, &s);
    CHECK(tlb_holds(&h, 0, MEM));
    CHECK_EQ(h.cpu.mmu_user, 1);
    /* HLT at CPL 3 is #GP(0) (Vol. 2A HLT): the load ran before it. */
    h.cpu.exit_on_exception = 1u << X86_GP;
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.vector, X86_GP);
    CHECK_EQ(h.cpu.s.eip, CODE + 5);
    CHECK(tlb_holds(&h, 1, MEM));
    CHECK(tlb_holds(&h, 0, MEM));
    harness_destroy(&h);
}

/* cpu_set_eip: no flush; leaving the breakpoint a run stopped at and
 * coming back stops there again, staying resumes past it (gdb's habit). */
TEST(set_eip_keeps_breakpoint_resume_rule)
{
    struct harness h;
    tlb_setup(&h);
    uint64_t epoch = h.cpu.mmu.epoch;
    cpu_set_eip(&h.cpu, CODE);
    CHECK_EQ(h.cpu.s.eip, CODE);
    CHECK_EQ(h.cpu.mmu.epoch, epoch);
    CHECK_EQ(cpu_set_breakpoint(&h.cpu, CODE), 0);
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.reason, CPU_EXIT_BREAKPOINT);
    cpu_set_eip(&h.cpu, CODE);                     /* still there: resumes */
    CHECK_EQ(harness_run(&h).reason, CPU_EXIT_HALT);
    h.cpu.s.halted = false;
    cpu_set_eip(&h.cpu, CODE);
    CHECK_EQ(harness_run(&h).reason, CPU_EXIT_BREAKPOINT);
    cpu_set_eip(&h.cpu, CODE + 5);                 /* away, then back: stops again */
    cpu_set_eip(&h.cpu, CODE);
    CHECK_EQ(harness_run(&h).reason, CPU_EXIT_BREAKPOINT);
    harness_destroy(&h);
}

/* cpu_set_gpr: the register, nothing flushed; the next instruction uses it. */
TEST(set_gpr_sets_one_register)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, CODE, "\x8b\x03\xf4", 3);     /* mov eax, [ebx]; hlt */
    harness_put32(&h, MEM, 0x600D);
    uint64_t epoch = h.cpu.mmu.epoch;
    cpu_set_gpr(&h.cpu, R_EBX, MEM);
    CHECK_EQ(h.cpu.mmu.epoch, epoch);
    CHECK_EQ(harness_run(&h).reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x600D);
    harness_destroy(&h);
}

/* cpu_set_eflags: the lazily kept ZF of a CMP is replaced by the value
 * given; setting TF makes the next instruction single-step, a #DB trap
 * after it (SDM Vol. 3B 17.3.1.4). */
TEST(set_eflags_drops_lazy_flags_and_follows_tf)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, CODE, "\x39\xc0\x90\x90\xf4", 5);   /* cmp eax, eax; nop; nop; hlt */
    CHECK_EQ(cpu_run(&h.cpu, 1, false).reason, CPU_EXIT_BUDGET);
    CHECK(cpu_get_eflags(&h.cpu) & EFLAGS_ZF);
    uint64_t epoch = h.cpu.mmu.epoch;
    cpu_set_eflags(&h.cpu, EFLAGS_CF);
    CHECK_EQ(cpu_get_eflags(&h.cpu), EFLAGS_CF | EFLAGS_FIXED1);
    CHECK_EQ(h.cpu.mmu.epoch, epoch);
    h.cpu.exit_on_exception = 1u << X86_DB;
    cpu_set_eflags(&h.cpu, EFLAGS_TF);
    struct cpu_exit x = harness_run(&h);
    CHECK_EQ(x.reason, CPU_EXIT_EXCEPTION);
    CHECK_EQ(x.vector, X86_DB);
    CHECK_EQ(x.event_kind, CPU_EVENT_TRAP);
    CHECK_EQ(x.insn_len, 1);
    CHECK_EQ(h.cpu.s.eip, CODE + 3);
    cpu_set_eflags(&h.cpu, 0);
    CHECK_EQ(harness_run(&h).reason, CPU_EXIT_HALT);
    harness_destroy(&h);
}

/*
 * cpu_set_segment: CS sets CPL from its RPL in protected mode, 0 in real
 * mode (SDM Vol. 3A 5.5); SS leaves CPL alone.  A block decoded under a
 * 32-bit CS is not reused under a 16-bit one: B8 34 12 F4 F4 is MOV EAX,
 * F4F41234H in 32-bit code, MOV AX, 1234H; HLT in 16-bit code.
 */
TEST(set_segment_cs_sets_cpl_and_code_size)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, CODE, "\xb8\x34\x12\xf4\xf4\xf4", 6);
    CHECK_EQ(harness_run(&h).reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0xF4F41234u);
    CHECK_EQ(h.cpu.s.eip, CODE + 6);
    h.cpu.s.halted = false;

    struct x86_segment seg;
    harness_seg(&seg, 0x33, SEG_ATTR_W | SEG_ATTR_A, 3);
    cpu_set_segment(&h.cpu, SEG_SS, &seg);
    CHECK_EQ(h.cpu.s.cpl, 0);
    CHECK_EQ(h.cpu.s.seg[SEG_SS].selector, 0x33);
    harness_seg(&seg, 0x10, SEG_ATTR_W | SEG_ATTR_A, 0);
    cpu_set_segment(&h.cpu, SEG_SS, &seg);

    harness_seg(&seg, 0x2B, SEG_ATTR_CODE | SEG_ATTR_R | SEG_ATTR_A, 3);
    cpu_set_segment(&h.cpu, SEG_CS, &seg);
    CHECK_EQ(h.cpu.s.cpl, 3);
    CHECK_EQ(h.cpu.mmu_user, 1);

    harness_seg(&seg, 0x08, SEG_ATTR_CODE | SEG_ATTR_R | SEG_ATTR_A, 0);
    seg.attr &= (uint16_t)~SEG_ATTR_DB;              /* a 16-bit code segment */
    seg.limit = 0xFFFF;
    cpu_set_segment(&h.cpu, SEG_CS, &seg);
    CHECK_EQ(h.cpu.s.cpl, 0);
    CHECK_EQ(h.cpu.mmu_user, 0);
    cpu_set_eip(&h.cpu, CODE);
    h.cpu.s.regs[R_EAX] = 0;
    CHECK_EQ(harness_run(&h).reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x1234);
    CHECK_EQ(h.cpu.s.eip, CODE + 4);

    /* Real mode: CPL 0 whatever the selector's low bits. */
    struct x86_state s;
    cpu_get_state(&h.cpu, &s);
    s.cr0 &= ~CR0_PE;
    cpu_set_state(&h.cpu, &s);
    seg = (struct x86_segment){ .selector = 0x0103, .base = 0x1030, .limit = 0xFFFF,
                                .attr = SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_CODE | SEG_ATTR_R | SEG_ATTR_A };
    cpu_set_segment(&h.cpu, SEG_CS, &seg);
    CHECK_EQ(h.cpu.s.cpl, 0);
    harness_destroy(&h);
}

TEST_MAIN()
