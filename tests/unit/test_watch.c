/*
 * test_watch.c - host watchpoints (cpu_set_watchpoint): linear and
 * physical, write / read / access, reported as a trap after the accessing
 * instruction completed (as x86 data breakpoints are, SDM Vol. 3B 17.3.1.2,
 * and as gdb expects), invisible to the guest.
 *
 * The instruction bytes are assembled by hand from the SDM (Vol. 2)
 * encodings, written next to each; the expected EIPs follow from their
 * lengths, the expected values from what the instructions do.
 */
#include <errno.h>

#include "tests/cpu_harness.h"
#include "tests/test.h"

/* mov eax, 0x11223344 (B8 id) / mov [0x3000], eax (A3 moffs32) / nop / hlt */
static const uint8_t store_code[] = {
    0xB8, 0x44, 0x33, 0x22, 0x11,     /* 0x1000 */
    0xA3, 0x00, 0x30, 0x00, 0x00,     /* 0x1005 */
    0x90,                             /* 0x100A */
    0xF4,                             /* 0x100B */
};

/* A ring-0 harness (tests/cpu_harness.h) running 'code' at 0x1000 with one
 * watchpoint set: its first exit, within 100 instructions. */
static struct cpu_exit run_watched(struct harness *h, const void *code, uint32_t len, uint32_t addr,
                                   uint32_t size, enum cpu_watch_kind kind, bool physical)
{
    harness_init(h, 0);
    harness_code(h, 0x1000, code, len);
    CHECK_EQ(cpu_set_watchpoint(&h->cpu, addr, size, kind, physical), 0);
    return cpu_run(&h->cpu, 100, false);
}

/* A write to a watched byte stops after the MOV, its store done. */
TEST(linear_write_watch_traps_after_the_store)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, 0x1000, store_code, sizeof store_code);
    CHECK_EQ(cpu_set_watchpoint(&h.cpu, 0x3002, 1, CPU_WATCH_WRITE, false), 0);
    uint32_t dr6 = h.cpu.s.dr[6];
    struct cpu_exit x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_WATCHPOINT);
    CHECK_EQ(x.address, 0x3002);             /* the first watched byte touched */
    CHECK_EQ(x.watch_kind, CPU_WATCH_WRITE);
    CHECK(!x.watch_physical);
    CHECK_EQ(h.cpu.s.eip, 0x100A);           /* after the MOV: a trap */
    CHECK_EQ(harness_get32(&h, 0x3000), 0x11223344);
    CHECK_EQ(h.cpu.stats.instructions, 2);
    CHECK_EQ(h.cpu.s.dr[6], dr6);            /* the guest sees nothing */
    x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_HALT);
    harness_destroy(&h);
}

/* The watched range starts inside the access: the address is its start. */
TEST(linear_watch_reports_first_watched_byte)
{
    struct harness h;
    struct cpu_exit x = run_watched(&h, store_code, sizeof store_code, 0x2FFE, 4, CPU_WATCH_ACCESS, false);
    CHECK_EQ(x.reason, CPU_EXIT_WATCHPOINT);
    CHECK_EQ(x.address, 0x3000);
    CHECK_EQ(x.watch_kind, CPU_WATCH_ACCESS);
    harness_destroy(&h);
}

/* A write does not hit a read watchpoint; the later read does. */
TEST(read_watch_ignores_writes_and_stops_after_the_load)
{
    static const uint8_t code[] = {
        0xB8, 0x44, 0x33, 0x22, 0x11,         /* 0x1000 mov eax, 0x11223344 */
        0xA3, 0x00, 0x30, 0x00, 0x00,         /* 0x1005 mov [0x3000], eax */
        0x8B, 0x1D, 0x00, 0x30, 0x00, 0x00,   /* 0x100A mov ebx, [0x3000] (8B /r, disp32) */
        0xF4,                                 /* 0x1010 hlt */
    };
    struct harness h;
    struct cpu_exit x = run_watched(&h, code, sizeof code, 0x3000, 4, CPU_WATCH_READ, false);
    CHECK_EQ(x.reason, CPU_EXIT_WATCHPOINT);
    CHECK_EQ(x.watch_kind, CPU_WATCH_READ);
    CHECK_EQ(h.cpu.s.eip, 0x1010);
    CHECK_EQ(h.cpu.s.regs[R_EBX], 0x11223344);
    harness_destroy(&h);
}

/* INC dword [m] reads and writes its operand: a read watchpoint hits. */
TEST(read_modify_write_counts_as_a_read)
{
    static const uint8_t code[] = {
        0xFF, 0x05, 0x00, 0x30, 0x00, 0x00,   /* 0x1000 inc dword [0x3000] (FF /0) */
        0xF4,                                 /* 0x1006 hlt */
    };
    struct harness h;
    struct cpu_exit x = run_watched(&h, code, sizeof code, 0x3000, 4, CPU_WATCH_READ, false);
    CHECK_EQ(x.reason, CPU_EXIT_WATCHPOINT);
    CHECK_EQ(h.cpu.s.eip, 0x1006);
    CHECK_EQ(harness_get32(&h, 0x3000), 1);
    harness_destroy(&h);
}

/* PUSH writes the stack through SS: a linear watch on the slot hits. */
TEST(push_hits_a_watch_on_the_stack)
{
    static const uint8_t code[] = { 0x50, 0xF4 };   /* push eax (50+rd); hlt */
    struct harness h;
    struct cpu_exit x = run_watched(&h, code, sizeof code, HARNESS_STACK - 4, 4, CPU_WATCH_WRITE, false);
    CHECK_EQ(x.reason, CPU_EXIT_WATCHPOINT);
    CHECK_EQ(x.address, HARNESS_STACK - 4);
    CHECK_EQ(h.cpu.s.eip, 0x1001);
    CHECK_EQ(h.cpu.s.regs[R_ESP], HARNESS_STACK - 4);
    harness_destroy(&h);
}

/*
 * Linear versus physical: with DS based at 0x10000, "mov [0x3000], eax"
 * writes linear = physical 0x13000 (paging off, SDM Vol. 3A 3.4).  A
 * linear watch at 0x3000 must not hit, a physical one at 0x13000 must.
 */
TEST(physical_watch_sees_the_physical_address)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, 0x1000, store_code, sizeof store_code);
    h.cpu.s.seg[SEG_DS].base = 0x10000;
    cpu_state_changed(&h.cpu);
    CHECK_EQ(cpu_set_watchpoint(&h.cpu, 0x3000, 4, CPU_WATCH_WRITE, false), 0);
    CHECK_EQ(cpu_set_watchpoint(&h.cpu, 0x13001, 2, CPU_WATCH_WRITE, true), 0);
    CHECK(h.bus.page_flags[0x13] & BUS_PAGE_WATCHED);
    struct cpu_exit x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_WATCHPOINT);
    CHECK(x.watch_physical);
    CHECK_EQ(x.address, 0x13001);
    CHECK_EQ(h.cpu.s.eip, 0x100A);
    CHECK_EQ(harness_get32(&h, 0x13000), 0x11223344);
    harness_destroy(&h);
}

/*
 * The TLB must drop a page's host pointers when the page becomes watched:
 * the first run caches a fast read/write entry for 0x3000, then a physical
 * watchpoint is set and the same accesses must reach the bus and hit.
 */
TEST(physical_watch_set_after_tlb_filled)
{
    static const uint8_t code[] = {
        0xA3, 0x00, 0x30, 0x00, 0x00,         /* 0x1000 mov [0x3000], eax */
        0x8B, 0x1D, 0x00, 0x30, 0x00, 0x00,   /* 0x1005 mov ebx, [0x3000] */
        0xF4,                                 /* 0x100B hlt */
    };
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, 0x1000, code, sizeof code);
    struct cpu_exit x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_HALT);
    struct tlb_entry *e = &h.cpu.mmu.tlb[0][3 % TLB_ENTRIES];
    CHECK_EQ(e->tag_write, 0x3000);                  /* the fast path is primed */

    CHECK_EQ(cpu_set_watchpoint(&h.cpu, 0x3000, 4, CPU_WATCH_READ, true), 0);
    CHECK(e->tag_read != 0x3000 && e->tag_write != 0x3000);
    h.cpu.s.eip = 0x1000;
    h.cpu.s.halted = false;
    h.cpu.s.regs[R_EAX] = 0xCAFEF00D;
    x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_WATCHPOINT);        /* the read, not the write */
    CHECK_EQ(x.watch_kind, CPU_WATCH_READ);
    CHECK_EQ(h.cpu.s.eip, 0x100B);
    CHECK_EQ(h.cpu.s.regs[R_EBX], 0xCAFEF00D);
    harness_destroy(&h);
}

/* Instruction fetches are not data accesses: code on a watched page runs. */
TEST(physical_watch_ignores_instruction_fetch)
{
    struct harness h;
    struct cpu_exit x = run_watched(&h, store_code, sizeof store_code, 0x1000, 16, CPU_WATCH_ACCESS, true);
    CHECK_EQ(x.reason, CPU_EXIT_HALT);
    CHECK_EQ(h.cpu.s.eip, 0x100C);
    CHECK_EQ(harness_get32(&h, 0x3000), 0x11223344);
    harness_destroy(&h);
}

/* Cleared watchpoints stop hitting; the page flag goes with the last one. */
TEST(clear_watchpoints_and_page_flags)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, 0x1000, store_code, sizeof store_code);
    CHECK_EQ(cpu_set_watchpoint(&h.cpu, 0x3000, 4, CPU_WATCH_WRITE, true), 0);
    CHECK_EQ(cpu_set_watchpoint(&h.cpu, 0x3FFC, 8, CPU_WATCH_WRITE, true), 0);  /* two pages */
    CHECK_EQ(cpu_set_watchpoint(&h.cpu, 0x3000, 4, CPU_WATCH_WRITE, false), 0);
    CHECK(h.bus.page_flags[4] & BUS_PAGE_WATCHED);
    CHECK_EQ(cpu_clear_watchpoint(&h.cpu, 0x3000, 4, CPU_WATCH_WRITE, true), 0);
    CHECK(h.bus.page_flags[3] & BUS_PAGE_WATCHED);   /* 0x3FFC still covers page 3 */
    CHECK_EQ(cpu_clear_watchpoint(&h.cpu, 0x3FFC, 8, CPU_WATCH_WRITE, true), 0);
    CHECK(!(h.bus.page_flags[3] & BUS_PAGE_WATCHED));
    CHECK(!(h.bus.page_flags[4] & BUS_PAGE_WATCHED));
    CHECK_EQ(cpu_clear_watchpoint(&h.cpu, 0x3000, 4, CPU_WATCH_WRITE, false), 0);
    CHECK_EQ(cpu_clear_watchpoint(&h.cpu, 0x3000, 4, CPU_WATCH_WRITE, false), -ENOENT);
    CHECK(!h.cpu.data_breakpoints_active);
    struct cpu_exit x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_HALT);
    harness_destroy(&h);
}

TEST(watchpoint_arguments_checked)
{
    struct harness h;
    harness_init(&h, 0);
    CHECK_EQ(cpu_set_watchpoint(&h.cpu, 0x3000, 0, CPU_WATCH_WRITE, false), -EINVAL);
    CHECK_EQ(cpu_set_watchpoint(&h.cpu, 0xFFFFFFFEu, 4, CPU_WATCH_WRITE, false), -EINVAL);
    CHECK_EQ(cpu_set_watchpoint(&h.cpu, 0xFFFFFFFCu, 4, CPU_WATCH_WRITE, false), 0);
    CHECK_EQ(cpu_set_watchpoint(&h.cpu, HARNESS_RAM - 2, 4, CPU_WATCH_WRITE, true), -EINVAL);
    CHECK_EQ(cpu_set_watchpoint(&h.cpu, 0x3000, 4, (enum cpu_watch_kind)0, false), -EINVAL);
    for (uint32_t k = 1; k < CPU_MAX_WATCHPOINTS; k++)
        CHECK_EQ(cpu_set_watchpoint(&h.cpu, 0x1000 * k, 4, CPU_WATCH_WRITE, false), 0);
    CHECK_EQ(cpu_set_watchpoint(&h.cpu, 0x100000, 4, CPU_WATCH_WRITE, false), -ENOSPC);
    harness_destroy(&h);
}

/*
 * A faulting instruction reports no hit: PUSH with ESP = 2 computes
 * ESP - 4 = 0xFFFFFFFE, above SS's limit, so it raises #SS(0) (SDM Vol. 2B
 * PUSH) and writes nothing; with an empty IDT (limit 0) the #SS cannot be
 * delivered (#GP, then #DF, then shutdown: Vol. 3A 6.15), and no watchpoint
 * on the whole address space fires on the way.
 */
TEST(faulting_access_does_not_report)
{
    static const uint8_t code[] = { 0x50, 0xF4 };   /* push eax; hlt */
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, 0x1000, code, sizeof code);
    h.cpu.s.seg[SEG_SS].limit = 0x7FFFF;
    h.cpu.s.regs[R_ESP] = 2;
    cpu_state_changed(&h.cpu);
    CHECK_EQ(cpu_set_watchpoint(&h.cpu, 0, 0xFFFFFFFFu, CPU_WATCH_ACCESS, false), 0);
    struct cpu_exit x = cpu_run(&h.cpu, 100, false);
    CHECK_EQ(x.reason, CPU_EXIT_TRIPLE_FAULT);
    harness_destroy(&h);
}

TEST_MAIN()
