/*
 * debug.c - the debug registers: instruction, data and I/O breakpoints and
 * single-step (SDM Vol. 3B 17.2-17.3).
 *
 * DR0-DR3 hold four breakpoint addresses; DR7 says what each one watches:
 *
 *   31 30 29 28 27 26 25 24 23 22 21 20 19 18 17 16   13    9  8   7..0
 *  +-----+-----+-----+-----+-----+-----+-----+-----+---+---+--+--+--------+
 *  |LEN3 |R/W3 |LEN2 |R/W2 |LEN1 |R/W1 |LEN0 |R/W0 |GD |GE |LE|G3 L3 .. L0|
 *  +-----+-----+-----+-----+-----+-----+-----+-----+---+---+--+--+--------+
 *
 *   Ln/Gn  breakpoint n enabled (local / global: the same to a single task)
 *   R/Wn   00 instruction execution, 01 data writes, 11 data reads or
 *          writes, 10 I/O reads or writes (only with CR4.DE; undefined
 *          without it, and ignored here)
 *   LENn   00 one byte, 01 two, 11 four, 10 eight (undefined before the
 *          Pentium 4; taken as eight).  The breakpoint covers the LEN-aligned
 *          range containing DRn, and an access hits when any of its bytes
 *          falls inside (Vol. 3B 17.2.5).
 *
 * DR6 reports why #DB was raised: B0-B3 for the breakpoints that hit, BD for
 * a debug-register access under DR7.GD, BS for single-step.  The processor
 * never clears BD, BS or BT itself (Vol. 3B 17.2.3); B0-B3 are rewritten on
 * each breakpoint #DB here, which the SDM allows ("certain debug exceptions
 * may clear bits 0-3").  Only enabled breakpoints are reported: the SDM
 * leaves the B bits of disabled ones undefined.
 *
 * Classes (Vol. 3B 17.3, table 17-2): instruction breakpoints are faults,
 * checked before the instruction and suppressed by EFLAGS.RF; data and I/O
 * breakpoints and single-step are traps, reported after it, together in
 * one #DB.
 *
 * Worked example: DR1 = 0x2000, DR7 = L1 | R/W1 = 01 | LEN1 = 11.  A
 * "mov [0x2002], al" writes one byte inside 0x2000-0x2003: memory.c calls
 * cpu_debug_check_data, which records B1 in pending_dr6; when the mov has
 * completed, cpu_debug_after_insn sets DR6.B1 and raises a #DB trap whose
 * return address is the instruction after the mov.
 */
#include <errno.h>

#include "cpu/block.h"
#include "cpu/cpu_internal.h"

#define DR7_ENABLE(n)   (3u << ((n) * 2))   /* Ln | Gn */
#define DR7_RW(dr7, n)  (((dr7) >> (16 + (n) * 4)) & 3u)
#define DR7_LEN(dr7, n) (((dr7) >> (18 + (n) * 4)) & 3u)
#define DR6_B_ALL       0x0000000Fu

enum { RW_EXEC = 0, RW_WRITE = 1, RW_IO = 2, RW_ACCESS = 3 };

/* Bytes covered by a LEN encoding (Vol. 3B 17.2.5). */
static unsigned len_bytes(unsigned len_field)
{
    static const unsigned bytes[4] = { 1, 2, 8, 4 };
    return bytes[len_field];
}

/* Does [addr, addr+size) touch breakpoint n's aligned range? */
static bool hits(uint32_t dr7, uint32_t bp, unsigned n, uint32_t addr, unsigned size)
{
    uint64_t len = len_bytes(DR7_LEN(dr7, n));
    uint64_t start = bp & ~(uint32_t)(len - 1);
    uint64_t a = addr;
    return a < start + len && start < a + size;
}

void cpu_debug_update(struct cpu *cpu)
{
    uint32_t dr7 = cpu->s.dr[7];
    bool exec = false, data = false;
    for (unsigned n = 0; n < 4; n++) {
        if (!(dr7 & DR7_ENABLE(n)))
            continue;
        switch (DR7_RW(dr7, n)) {
        case RW_EXEC:
            exec = true;
            break;
        case RW_IO:
            if (cpu->s.cr4 & CR4_DE)
                data = true;
            break;
        default:
            data = true;
            break;
        }
    }
    /* Linear host watchpoints are checked where the DRs' data breakpoints are. */
    cpu->data_breakpoints_active = data || cpu->linear_watchpoint_count > 0;
    /*
     * The per-instruction path runs for execute breakpoints (checked
     * before each instruction), for data hits and single-step (raised
     * after it), for host breakpoints (the run loop's), for host
     * watchpoints (reported after the instruction), and while RF is set,
     * so that RF gets cleared when its instruction completes.
     */
    cpu->check_each_insn = exec || data || cpu->breakpoint_count > 0 ||
                           cpu->watchpoint_count > 0 ||
                           (cpu->s.eflags & (EFLAGS_TF | EFLAGS_RF)) != 0;
}

/* ---------- host watchpoints ---------- */

/*
 * Host watchpoints belong to the debugger, not to the guest: no DR6 bit, no
 * #DB, nothing the guest can see.  A hit is recorded in cpu->watch_hit
 * during the instruction (the first hit wins), and cpu_debug_after_insn
 * turns it into CPU_EXIT_WATCHPOINT once the instruction has completed.
 * A fault abandons the instruction, and its hits with it (run.c), since it
 * will run again.  Physical watchpoints flag their RAM pages
 * BUS_PAGE_WATCHED: the bus then hands out no host pointer for them
 * (mmu_fill caches neither read nor write pointers), every access goes
 * through bus_read/bus_write, and the bus's watch hook reports it here (a
 * CPU subscribes while it has physical watchpoints, so the other CPUs on
 * its bus watch nothing of its own).  The
 * hook only counts while memory.c has an instruction's data access on the
 * bus (cpu->in_data_access), so fetches, page walks and DMA do not hit.
 */

static bool watch_kind_matches(uint8_t kind, bool write)
{
    return (kind & (write ? CPU_WATCH_WRITE : CPU_WATCH_READ)) != 0;
}

/* Record a hit of [addr, addr+size) against the watchpoints of one space. */
static void watch_check(struct cpu *cpu, uint32_t addr, unsigned size, bool write, bool physical)
{
    if (cpu->watch_hit)
        return;
    for (int k = 0; k < cpu->watchpoint_count; k++) {
        const struct cpu_watchpoint *w = &cpu->watchpoints[k];
        if (w->physical != physical || !watch_kind_matches(w->kind, write))
            continue;
        uint64_t a = addr, start = w->addr;
        if (!(a < start + w->len && start < a + size))
            continue;
        cpu->watch_hit = true;
        cpu->watch_exit = (struct cpu_exit){
            .reason = CPU_EXIT_WATCHPOINT, .address = (uint32_t)(a > start ? a : start),
            .watch_kind = w->kind, .watch_physical = physical };
        return;
    }
}

static void watch_bus_hook(void *opaque, uint32_t paddr, unsigned size, bool write)
{
    struct cpu *cpu = opaque;
    if (cpu->in_data_access)
        watch_check(cpu, paddr, size, write, true);
}

static bool has_physical_watchpoint(const struct cpu *cpu)
{
    for (int k = 0; k < cpu->watchpoint_count; k++)
        if (cpu->watchpoints[k].physical)
            return true;
    return false;
}

void cpu_debug_detach(struct cpu *cpu)
{
    bus_remove_watch_hook(cpu->bus, watch_bus_hook, cpu);
}

/* Is any byte of the RAM page at 'page' under a physical watchpoint? */
static bool page_watched(const struct cpu *cpu, uint32_t page)
{
    for (int k = 0; k < cpu->watchpoint_count; k++) {
        const struct cpu_watchpoint *w = &cpu->watchpoints[k];
        if (w->physical && w->addr <= page + (PAGE_SIZE - 1) &&
            page <= w->addr + (w->len - 1))
            return true;
    }
    return false;
}

/* Bring BUS_PAGE_WATCHED of the pages of [addr, addr+len) up to date. */
static void watch_update_pages(struct cpu *cpu, uint32_t addr, uint32_t len)
{
    uint32_t last = (addr + (len - 1)) & PAGE_MASK;
    for (uint32_t page = addr & PAGE_MASK;; page += PAGE_SIZE) {
        if (page_watched(cpu, page))
            bus_set_page_flags(cpu->bus, page, BUS_PAGE_WATCHED, 0);  /* flushes the TLB */
        else
            bus_set_page_flags(cpu->bus, page, 0, BUS_PAGE_WATCHED);
        if (page == last)
            break;
    }
}

static bool watch_args_ok(const struct cpu *cpu, uint32_t addr, uint32_t len,
                          enum cpu_watch_kind kind, bool physical)
{
    if (len == 0 || addr + (uint64_t)len > 0x100000000ull)
        return false;
    if (kind != CPU_WATCH_WRITE && kind != CPU_WATCH_READ && kind != CPU_WATCH_ACCESS)
        return false;
    /* Physical ones watch RAM: the only memory whose pages carry flags. */
    return !physical || addr + (uint64_t)len <= cpu->bus->ram_size;
}

int cpu_set_watchpoint(struct cpu *cpu, uint32_t addr, uint32_t len,
                       enum cpu_watch_kind kind, bool physical)
{
    if (!watch_args_ok(cpu, addr, len, kind, physical))
        return -EINVAL;
    for (int k = 0; k < cpu->watchpoint_count; k++) {
        const struct cpu_watchpoint *w = &cpu->watchpoints[k];
        if (w->addr == addr && w->len == len && w->kind == kind && w->physical == physical)
            return 0;
    }
    if (cpu->watchpoint_count >= CPU_MAX_WATCHPOINTS)
        return -ENOSPC;
    if (physical) {   /* subscribe first: adding may fail, and an extra add is a no-op */
        int err = bus_add_watch_hook(cpu->bus, watch_bus_hook, cpu);
        if (err < 0)
            return err;
    }
    cpu->watchpoints[cpu->watchpoint_count++] =
        (struct cpu_watchpoint){ addr, len, (uint8_t)kind, physical };
    if (physical) {
        watch_update_pages(cpu, addr, len);
    } else {
        cpu->linear_watchpoint_count++;
    }
    cpu_debug_update(cpu);
    cpu->end_block = true;   /* a running block must leave the fast path */
    return 0;
}

int cpu_clear_watchpoint(struct cpu *cpu, uint32_t addr, uint32_t len,
                         enum cpu_watch_kind kind, bool physical)
{
    for (int k = 0; k < cpu->watchpoint_count; k++) {
        const struct cpu_watchpoint *w = &cpu->watchpoints[k];
        if (w->addr != addr || w->len != len || w->kind != kind || w->physical != physical)
            continue;
        cpu->watchpoints[k] = cpu->watchpoints[--cpu->watchpoint_count];
        if (physical) {
            watch_update_pages(cpu, addr, len);
            if (!has_physical_watchpoint(cpu))
                cpu_debug_detach(cpu);
        } else
            cpu->linear_watchpoint_count--;
        cpu_debug_update(cpu);
        return 0;
    }
    return -ENOENT;
}

void cpu_debug_check_data(struct cpu *cpu, uint32_t lin, unsigned size, bool write)
{
    if (cpu->linear_watchpoint_count > 0)
        watch_check(cpu, lin, size, write, false);
    uint32_t dr7 = cpu->s.dr[7];
    for (unsigned n = 0; n < 4; n++) {
        if (!(dr7 & DR7_ENABLE(n)))
            continue;
        unsigned rw = DR7_RW(dr7, n);
        if (rw == RW_ACCESS || (rw == RW_WRITE && write)) {
            if (hits(dr7, cpu->s.dr[n], n, lin, size))
                cpu->pending_dr6 |= 1u << n;
        }
    }
}

void cpu_debug_check_io(struct cpu *cpu, uint16_t port, unsigned size)
{
    if (!(cpu->s.cr4 & CR4_DE))
        return;
    uint32_t dr7 = cpu->s.dr[7];
    for (unsigned n = 0; n < 4; n++) {
        if ((dr7 & DR7_ENABLE(n)) && DR7_RW(dr7, n) == RW_IO &&
            hits(dr7, cpu->s.dr[n], n, port, size))
            cpu->pending_dr6 |= 1u << n;
    }
}

/*
 * Before an instruction: instruction breakpoints, a fault (EIP = the
 * instruction, nothing executed).  RF set means "resume": the debugger
 * returned to this very instruction, so its breakpoints are ignored once
 * (Vol. 3B 17.3.1.1).  The processor clears RF when the instruction
 * completes; we clear it here, before it runs, which is the same for any
 * instruction that completes, and lets one that sets RF itself (IRET
 * popping RF = 1) keep it.
 */
void cpu_debug_before_insn(struct cpu *cpu)
{
    if (cpu->s.eflags & EFLAGS_RF) {
        cpu->s.eflags &= ~EFLAGS_RF;
        cpu_debug_update(cpu);
        return;
    }
    uint32_t dr7 = cpu->s.dr[7];
    uint32_t lin = cpu->s.seg[SEG_CS].base + cpu->s.eip;
    uint32_t hit = 0;
    for (unsigned n = 0; n < 4; n++) {
        /* An instruction breakpoint must have LEN = 00 (Vol. 3B 17.2.5):
         * it matches the address of the instruction's first byte. */
        if ((dr7 & DR7_ENABLE(n)) && DR7_RW(dr7, n) == RW_EXEC && cpu->s.dr[n] == lin)
            hit |= 1u << n;
    }
    if (!hit)
        return;
    cpu->s.dr[6] = (cpu->s.dr[6] & ~DR6_B_ALL) | hit;
    cpu->insn_eip = cpu->s.eip;       /* the fault restarts this instruction */
    cpu_fault(cpu, X86_DB);
}

/* MOV SS and POP SS: the instruction just run loads SS. */
static bool loaded_ss(const struct cpu *cpu)
{
    const struct x86_insn *i = cpu->insn;
    if (!i) return false;
    return i->op == 0x17 || (i->op == 0x8E && i->reg == SEG_SS);
}

/*
 * After an instruction: single-step (TF as it was before the instruction,
 * so a POPF that sets TF traps only after the next one) and the data/I-O
 * hits it recorded, as one #DB trap.  After MOV SS / POP SS, debug traps
 * wait until after the next instruction, so a stack switch (MOV SS; MOV
 * ESP) is never split by a #DB (SDM Vol. 3A 6.8.3).
 */
void cpu_debug_after_insn(struct cpu *cpu, bool tf_before)
{
    /* B0-B3 from data/I-O breakpoints, BT from a task switch into a TSS
     * with its T bit set (SDM Vol. 3B 17.3.1.5: #DB after the switch,
     * before the new task's first instruction). */
    uint32_t hit = cpu->pending_dr6 & (DR6_B_ALL | DR6_BT);
    /*
     * A host watchpoint hit ends the run here, the instruction done - unless
     * the guest has its own #DB trap to take first (delivered now; the run
     * loop then reports the hit with EIP at the handler), or it is held by
     * MOV SS, which holds only the guest's traps.
     */
    if (cpu->watch_hit && ((!hit && !tf_before) || loaded_ss(cpu))) {
        cpu->watch_hit = false;
        cpu_debug_update(cpu);
        cpu_exit_now(cpu, cpu->watch_exit);
    }
    if (!hit && !tf_before) {
        /* The instruction may have turned off what kept this slow path
         * on (cpu_write_eflags keeps it on through a TF 1 -> 0 change so
         * that change still traps): recompute it now. */
        cpu_debug_update(cpu);
        return;
    }
    if (loaded_ss(cpu))
        return;                       /* held: pending_dr6 and TF stay */
    cpu->pending_dr6 = 0;
    uint32_t dr6 = cpu->s.dr[6];
    if (hit & DR6_B_ALL)
        dr6 = (dr6 & ~DR6_B_ALL) | (hit & DR6_B_ALL);
    dr6 |= hit & DR6_BT;
    if (tf_before)
        dr6 |= DR6_BS;
    cpu->s.dr[6] = dr6;
    cpu_trap(cpu, X86_DB);
}
