/*
 * test_string_stack.c - string, stack, data and branch instructions in the
 * corner cases the SDM spells out (the reference each test cites).
 *
 * Every test builds a flat 32-bit protected-mode machine (CS/DS/ES/SS base
 * 0, limit 4 GiB, D/B set, CPL 0), puts a few code bytes at 0x1000 and runs
 * exactly one instruction with cpu_run(..., step = true).
 *
 *   make build/tests/unit/test_string_stack && build/tests/unit/test_string_stack
 */
#include "cpu/cpu.h"
#include "mmu/bus.h"
#include "tests/test.h"

TEST_MAIN()

#define CODE 0x1000u

#define ATTR_CODE32 0xC09Bu  /* G D/B P S, type 1011: code, readable, accessed */
#define ATTR_DATA32 0xC093u  /* G D/B P S, type 0011: data, writable, accessed */
#define ATTR_DATA32_RO 0xC091u /* as above, read-only */

static struct bus bus;
static struct cpu cpu;

static void machine_up(void)
{
    bus_init(&bus, 1u << 20);
    cpu_init(&cpu, &bus);
    cpu_hard_reset(&cpu);
    cpu.s.cr0 |= CR0_PE;
    for (int s = 0; s < SEG_COUNT; s++) {
        cpu.s.seg[s].selector = s == SEG_CS ? 0x08 : 0x10;
        cpu.s.seg[s].base = 0;
        cpu.s.seg[s].limit = 0xFFFFFFFFu;
        cpu.s.seg[s].attr = s == SEG_CS ? ATTR_CODE32 : ATTR_DATA32;
    }
    cpu.s.cpl = 0;
    cpu.s.eflags = EFLAGS_FIXED1;
    cpu_state_changed(&cpu);
}

static void machine_down(void)
{
    cpu_destroy(&cpu);
    bus_destroy(&bus);
}

/* Place 'code' at CODE, point EIP at it, run one instruction. */
static struct cpu_exit run_one(const uint8_t *code, uint32_t len)
{
    bus_write_block(&bus, CODE, code, len);
    cpu.s.eip = CODE;
    return cpu_run(&cpu, 0, true);
}

static uint32_t mem32(uint32_t a) { return bus_read(&bus, a, 4); }
static uint8_t mem8(uint32_t a) { return (uint8_t)bus_read(&bus, a, 1); }

/*
 * SDM Vol. 2B MOVS/REP: with a 16-bit address size the index registers are
 * SI/DI and the count CX; SI wraps from 0xFFFF to 0 and the upper halves of
 * ESI/ECX are untouched.
 */
TEST(rep_movsb_addr16_wraps_si)
{
    machine_up();
    static const uint8_t code[] = { 0x67, 0xF3, 0xA4 };   /* a16 rep movsb */
    bus_write(&bus, 0xFFFF, 0x11, 1);
    bus_write(&bus, 0x0000, 0x22, 1);
    cpu.s.regs[R_ESI] = 0xABCDFFFFu;
    cpu.s.regs[R_EDI] = 0x00002000u;
    cpu.s.regs[R_ECX] = 0x12340002u;
    struct cpu_exit e = run_one(code, sizeof code);
    CHECK_EQ(e.reason, CPU_EXIT_STEP);
    CHECK_EQ(mem8(0x2000), 0x11);
    CHECK_EQ(mem8(0x2001), 0x22);
    CHECK_EQ(cpu.s.regs[R_ESI], 0xABCD0001u);
    CHECK_EQ(cpu.s.regs[R_EDI], 0x00002002u);
    CHECK_EQ(cpu.s.regs[R_ECX], 0x12340000u);
    CHECK_EQ(cpu.s.eip, CODE + 3);
    machine_down();
}

/*
 * SDM Vol. 2B REP: a long repeat is interruptible; the registers after a
 * partial run let the instruction restart.  Here one step does one chunk
 * (1024 elements) and leaves EIP at the instruction.
 */
TEST(rep_movsb_restarts_in_chunks)
{
    machine_up();
    static const uint8_t code[] = { 0xF3, 0xA4 };          /* rep movsb */
    for (uint32_t k = 0; k < 3000; k++)
        bus_write(&bus, 0x10000 + k, (uint8_t)(k * 7), 1);
    cpu.s.regs[R_ESI] = 0x10000;
    cpu.s.regs[R_EDI] = 0x20000;
    cpu.s.regs[R_ECX] = 3000;
    run_one(code, sizeof code);
    CHECK_EQ(cpu.s.eip, CODE);
    CHECK_EQ(cpu.s.regs[R_ECX], 3000 - 1024);
    int steps = 1;
    while (cpu.s.eip == CODE && steps < 10) {
        cpu_run(&cpu, 0, true);
        steps++;
    }
    CHECK_EQ(steps, 3);
    CHECK_EQ(cpu.s.eip, CODE + 2);
    CHECK_EQ(cpu.s.regs[R_ECX], 0);
    CHECK_EQ(cpu.s.regs[R_ESI], 0x10000 + 3000);
    CHECK_EQ(cpu.s.regs[R_EDI], 0x20000 + 3000);
    int bad = 0;
    for (uint32_t k = 0; k < 3000; k++)
        bad += mem8(0x20000 + k) != (uint8_t)(k * 7);
    CHECK_EQ(bad, 0);
    machine_down();
}

/* SDM Vol. 2A CMPS/REPE: stops at the first difference, flags from it. */
TEST(repe_cmpsb_stops_at_difference)
{
    machine_up();
    static const uint8_t code[] = { 0xF3, 0xA6 };          /* repe cmpsb */
    bus_write_block(&bus, 0x3000, "abcX", 4);
    bus_write_block(&bus, 0x4000, "abcY", 4);
    cpu.s.regs[R_ESI] = 0x3000;
    cpu.s.regs[R_EDI] = 0x4000;
    cpu.s.regs[R_ECX] = 10;
    run_one(code, sizeof code);
    CHECK_EQ(cpu.s.regs[R_ECX], 6);
    CHECK_EQ(cpu.s.regs[R_ESI], 0x3004);
    CHECK_EQ(cpu.s.regs[R_EDI], 0x4004);
    uint32_t f = cpu_get_eflags(&cpu);
    CHECK((f & EFLAGS_ZF) == 0);
    CHECK((f & EFLAGS_CF) != 0);                           /* 'X' < 'Y' */
    CHECK_EQ(cpu.s.eip, CODE + 2);
    machine_down();
}

/* SDM Vol. 2B PUSH: PUSH ESP pushes ESP as it was before the instruction. */
TEST(push_esp_pushes_old_value)
{
    machine_up();
    static const uint8_t code[] = { 0x54 };                /* push esp */
    cpu.s.regs[R_ESP] = 0x8000;
    run_one(code, sizeof code);
    CHECK_EQ(cpu.s.regs[R_ESP], 0x7FFC);
    CHECK_EQ(mem32(0x7FFC), 0x8000);
    machine_down();
}

/*
 * SDM Vol. 2B POP: with ESP as the base of a memory destination, the
 * address is computed after ESP was incremented.
 */
TEST(pop_mem_esp_base_uses_incremented_esp)
{
    machine_up();
    static const uint8_t code[] = { 0x8F, 0x04, 0x24 };    /* pop dword [esp] */
    cpu.s.regs[R_ESP] = 0x7FFC;
    bus_write(&bus, 0x7FFC, 0x12345678u, 4);
    bus_write(&bus, 0x8000, 0, 4);
    run_one(code, sizeof code);
    CHECK_EQ(cpu.s.regs[R_ESP], 0x8000);
    CHECK_EQ(mem32(0x8000), 0x12345678u);
    machine_down();
}

/*
 * SDM Vol. 2A ENTER, nesting level 2: push EBP; copy one frame pointer of
 * the enclosing display from [EBP-4]; push the new frame pointer; then
 * EBP := frame, ESP -= size.
 */
TEST(enter_nesting_level_2)
{
    machine_up();
    static const uint8_t code[] = { 0xC8, 0x10, 0x00, 0x02 }; /* enter 16, 2 */
    cpu.s.regs[R_EBP] = 0x9000;
    cpu.s.regs[R_ESP] = 0x8000;
    bus_write(&bus, 0x8FFC, 0xAAAA1111u, 4);
    run_one(code, sizeof code);
    CHECK_EQ(mem32(0x7FFC), 0x9000);          /* old EBP */
    CHECK_EQ(mem32(0x7FF8), 0xAAAA1111u);     /* display entry from [EBP-4] */
    CHECK_EQ(mem32(0x7FF4), 0x7FFC);          /* this frame */
    CHECK_EQ(cpu.s.regs[R_EBP], 0x7FFC);
    CHECK_EQ(cpu.s.regs[R_ESP], 0x7FF4 - 16);
    CHECK_EQ(cpu.s.eip, CODE + 4);
    machine_down();
}

/* SDM Vol. 2A CMPXCHG, equal: ZF = 1 and the source is stored. */
TEST(cmpxchg_equal_stores_source)
{
    machine_up();
    static const uint8_t code[] = { 0x0F, 0xB1, 0x0B };    /* cmpxchg [ebx], ecx */
    cpu.s.regs[R_EBX] = 0x3000;
    cpu.s.regs[R_EAX] = 5;
    cpu.s.regs[R_ECX] = 9;
    bus_write(&bus, 0x3000, 5, 4);
    run_one(code, sizeof code);
    CHECK_EQ(mem32(0x3000), 9);
    CHECK_EQ(cpu.s.regs[R_EAX], 5);
    CHECK((cpu_get_eflags(&cpu) & EFLAGS_ZF) != 0);
    machine_down();
}

/* Not equal: ZF = 0, the accumulator gets the destination. */
TEST(cmpxchg_not_equal_loads_accumulator)
{
    machine_up();
    static const uint8_t code[] = { 0x0F, 0xB1, 0x0B };
    cpu.s.regs[R_EBX] = 0x3000;
    cpu.s.regs[R_EAX] = 1;
    cpu.s.regs[R_ECX] = 9;
    bus_write(&bus, 0x3000, 5, 4);
    run_one(code, sizeof code);
    CHECK_EQ(mem32(0x3000), 5);
    CHECK_EQ(cpu.s.regs[R_EAX], 5);
    CHECK((cpu_get_eflags(&cpu) & EFLAGS_ZF) == 0);
    machine_down();
}

/* Counts guest writes to traced pages (the VMM's write-trace hook). */
static int traced_writes;
static uint32_t traced_addr;
static void count_write(void *opaque, uint32_t paddr, unsigned size)
{
    (void)opaque; (void)size;
    traced_writes++;
    traced_addr = paddr;
}

/*
 * SDM Vol. 2A CMPXCHG: "the destination operand is written back if the
 * comparison fails" - seen here as a write on a write-traced page.
 */
TEST(cmpxchg_writes_destination_back)
{
    machine_up();
    static const uint8_t code[] = { 0x0F, 0xB1, 0x0B };
    bus.page_flags[0x3000 >> PAGE_SHIFT] |= BUS_PAGE_TRACED;
    CHECK_EQ(bus_add_trace_hook(&bus, count_write, NULL), 0);
    traced_writes = 0;
    cpu.s.regs[R_EBX] = 0x3000;
    cpu.s.regs[R_EAX] = 1;
    cpu.s.regs[R_ECX] = 9;
    bus_write(&bus, 0x3000, 5, 4);
    traced_writes = 0;
    run_one(code, sizeof code);
    CHECK_EQ(traced_writes, 1);
    CHECK_EQ(traced_addr, 0x3000);
    CHECK_EQ(mem32(0x3000), 5);
    CHECK_EQ(cpu.s.regs[R_EAX], 5);
    machine_down();
}

/* A failing compare on a read-only segment still faults as a write: #GP(0), EAX untouched. */
TEST(cmpxchg_readonly_faults_when_not_equal)
{
    machine_up();
    static const uint8_t code[] = { 0x0F, 0xB1, 0x0B };
    cpu.s.seg[SEG_DS].attr = ATTR_DATA32_RO;
    cpu_state_changed(&cpu);
    cpu.exit_on_exception = 1u << X86_GP;
    cpu.s.regs[R_EBX] = 0x3000;
    cpu.s.regs[R_EAX] = 1;
    cpu.s.regs[R_ECX] = 9;
    bus_write(&bus, 0x3000, 5, 4);
    struct cpu_exit e = run_one(code, sizeof code);
    CHECK_EQ(e.reason, CPU_EXIT_EXCEPTION);
    CHECK_EQ(e.vector, X86_GP);
    CHECK_EQ(cpu.s.regs[R_EAX], 1);
    CHECK_EQ(cpu.s.eip, CODE);
    machine_down();
}

/* SDM Vol. 2B LOOP: with a 16-bit address size the count is CX alone. */
TEST(loop_addr16_uses_cx)
{
    machine_up();
    static const uint8_t code[] = { 0x67, 0xE2, 0xFD };    /* a16 loop $ */
    cpu.s.regs[R_ECX] = 0x00010001u;                       /* CX = 1: falls through */
    run_one(code, sizeof code);
    CHECK_EQ(cpu.s.regs[R_ECX], 0x00010000u);
    CHECK_EQ(cpu.s.eip, CODE + 3);
    cpu.s.regs[R_ECX] = 0x00010000u;                       /* CX = 0: wraps, branches */
    cpu.s.eip = CODE;
    cpu_run(&cpu, 0, true);
    CHECK_EQ(cpu.s.regs[R_ECX], 0x0001FFFFu);
    CHECK_EQ(cpu.s.eip, CODE);
    machine_down();
}

/* SDM Vol. 2B XADD: TEMP := SRC + DEST; SRC := DEST; DEST := TEMP. */
TEST(xadd_exchanges_and_adds)
{
    machine_up();
    static const uint8_t code[] = { 0x0F, 0xC1, 0x0B };    /* xadd [ebx], ecx */
    cpu.s.regs[R_EBX] = 0x3000;
    cpu.s.regs[R_ECX] = 0xFFFFFFFFu;
    bus_write(&bus, 0x3000, 1, 4);
    run_one(code, sizeof code);
    CHECK_EQ(mem32(0x3000), 0);
    CHECK_EQ(cpu.s.regs[R_ECX], 1);
    uint32_t f = cpu_get_eflags(&cpu);
    CHECK((f & EFLAGS_ZF) != 0);
    CHECK((f & EFLAGS_CF) != 0);
    machine_down();
}

/* SDM Vol. 2B PUSHA/POPA: POPA discards the saved ESP. */
TEST(pusha_popa_round_trip)
{
    machine_up();
    static const uint8_t pusha[] = { 0x60 }, popa[] = { 0x61 };
    for (int r = 0; r < 8; r++)
        cpu.s.regs[r] = 0x100u * (uint32_t)(r + 1);
    cpu.s.regs[R_ESP] = 0x8000;
    run_one(pusha, sizeof pusha);
    CHECK_EQ(cpu.s.regs[R_ESP], 0x8000 - 32);
    CHECK_EQ(mem32(0x8000 - 4), 0x100);        /* EAX first */
    CHECK_EQ(mem32(0x8000 - 20), 0x8000);      /* original ESP */
    CHECK_EQ(mem32(0x8000 - 32), 0x800);       /* EDI last */
    bus_write(&bus, 0x8000 - 20, 0xDEAD, 4);   /* must be ignored */
    for (int r = 0; r < 8; r++)
        if (r != R_ESP) cpu.s.regs[r] = 0;
    run_one(popa, sizeof popa);
    CHECK_EQ(cpu.s.regs[R_ESP], 0x8000);
    CHECK_EQ(cpu.s.regs[R_EAX], 0x100);
    CHECK_EQ(cpu.s.regs[R_EDI], 0x800);
    CHECK_EQ(cpu.s.regs[R_EBP], 0x600);
    machine_down();
}

/* Real mode after RESET, with every segment moved to base 0 (16-bit code and stack). */
static void machine_up_real(void)
{
    bus_init(&bus, 1u << 20);
    cpu_init(&cpu, &bus);
    cpu_hard_reset(&cpu);
    for (int s = 0; s < SEG_COUNT; s++) {
        cpu.s.seg[s].selector = 0;
        cpu.s.seg[s].base = 0;
        cpu.s.seg[s].limit = 0xFFFF;
    }
    cpu_state_changed(&cpu);
}

/*
 * SDM Vol. 2A JMP/CALL: with a 16-bit operand size the target is
 * "tempEIP AND 0000FFFFH"; on a 16-bit stack SP wraps from 0 to 0xFFFE.
 */
TEST(real_mode_call_wraps_ip_and_sp)
{
    machine_up_real();
    static const uint8_t code[] = { 0xE8, 0x00, 0xF0 };    /* call $+3+0xF000 */
    cpu.s.regs[R_ESP] = 0x12340000u;                       /* SP = 0 */
    run_one(code, sizeof code);
    CHECK_EQ(cpu.s.eip, 0x0003);
    CHECK_EQ(cpu.s.regs[R_ESP], 0x1234FFFEu);
    CHECK_EQ(bus_read(&bus, 0xFFFE, 2), CODE + 3);
    static const uint8_t ret[] = { 0xC3 };
    run_one(ret, sizeof ret);
    CHECK_EQ(cpu.s.eip, CODE + 3);
    CHECK_EQ(cpu.s.regs[R_ESP], 0x12340000u);
    machine_down();
}
