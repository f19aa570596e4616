/*
 * cpu.c - creating, resetting, and reading/writing the state of a CPU.
 */
#include <errno.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/cpu_internal.h"

int cpu_init(struct cpu *cpu, struct bus *bus)
{
    memset(cpu, 0, sizeof *cpu);
    cpu->bus = bus;
    mmu_init(&cpu->mmu, bus);
    int r = block_cache_create(cpu);
    if (r < 0) return r;
    cpu->first_vector = -1;
    cpu_hard_reset(cpu);
    return 0;
}

void cpu_destroy(struct cpu *cpu)
{
    block_cache_destroy(cpu);
}

static void set_seg(struct x86_segment *sg, uint16_t sel, uint32_t base, uint32_t limit, uint16_t attr)
{
    sg->selector = sel;
    sg->base = base;
    sg->limit = limit;
    sg->attr = attr;
}

void x86_state_power_on(struct x86_state *s, uint32_t signature)
{
    memset(s, 0, sizeof *s);
    s->eip = 0xFFF0;
    s->eflags = EFLAGS_FIXED1;
    s->regs[R_EDX] = signature;
    s->cr0 = CR0_CD | CR0_NW | CR0_ET;
    for (int r = 0; r < SEG_COUNT; r++)
        set_seg(&s->seg[r], 0, 0, 0xFFFF, SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_W | SEG_ATTR_A);
    set_seg(&s->seg[SEG_CS], 0xF000, 0xFFFF0000u, 0xFFFF,
            SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_CODE | SEG_ATTR_R | SEG_ATTR_A);
    set_seg(&s->ldtr, 0, 0, 0xFFFF, SEG_ATTR_P | 0x2);   /* LDT */
    set_seg(&s->tr, 0, 0, 0xFFFF, SEG_ATTR_P | 0xB);     /* busy 32-bit TSS */
    s->gdtr.limit = 0xFFFF;
    s->idtr.limit = 0xFFFF;
    s->dr[6] = DR6_FIXED1;
    s->dr[7] = DR7_FIXED1;
    s->a20_enabled = true;
}

void cpu_hard_reset(struct cpu *cpu)
{
    struct x86_state *s = &cpu->s;
    x86_state_power_on(s, CPU_SIGNATURE);
    s->a20_enabled = bus_a20_enabled(cpu->bus);
    cpu->lf.op = LF_NONE;
    cpu->tsc_offset = 0 - cpu->stats.instructions;
    cpu->delivering = 0;
    cpu->first_vector = -1;
    cpu->fault_chain_len = 0;
    cpu->nmi_pending = false;
    cpu_state_changed(cpu);
}

void cpu_state_changed(struct cpu *cpu)
{
    cpu->mmu_user = cpu->s.cpl == 3;
    mmu_invalidate_all(&cpu->mmu);
    cpu_debug_update(cpu);
    cpu->end_block = true;
}

void cpu_forget_code(struct cpu *cpu)
{
    block_cache_flush(cpu);
    /* The page tables are in that RAM too: cached translations go with it
     * (cpu_set_state no longer drops them on every call). */
    mmu_invalidate_all(&cpu->mmu);
    cpu->end_block = true;
}

void cpu_get_state(struct cpu *cpu, struct x86_state *out)
{
    flags_materialize(cpu);
    cpu->s.tsc = cpu_tsc(cpu);
    cpu->s.a20_enabled = bus_a20_enabled(cpu->bus);
    *out = cpu->s;
}

/* Moving the PC away from a breakpoint we stopped at forgets it (so the
 * next run stops there again when it comes back). */
static void pc_moved(struct cpu *cpu)
{
    if (cpu->s.seg[SEG_CS].base + cpu->s.eip != cpu->breakpoint_resume_lin)
        cpu->breakpoint_resume_armed = false;
    cpu->end_block = true;
}

/*
 * Which state the caches derive from, and so what a change must flush:
 *   - the TLB (mmu/) holds translations and rights computed from CR0.PG,
 *     CR0.WP (supervisor writes), CR0.PE, CR3, CR4.PSE/PGE and A20: a change
 *     of any drops it.  Its two halves are the user and supervisor views,
 *     so a CPL change only picks the other half (mmu_user).
 *   - the decoded blocks are keyed by physical address and CS.D; the jump
 *     cache in front of them by linear CS:EIP, user/supervisor and CS.D,
 *     valid while the TLB epoch stays, and every hit checks the CS limit
 *     (block.h): a new CS, CPL or EIP needs no flush.
 *   - the per-instruction debug path (cpu_debug_update) follows DR7,
 *     CR4.DE, TF and RF.
 */
static bool paging_changed(const struct x86_state *a, const struct x86_state *b)
{
    return ((a->cr0 ^ b->cr0) & (CR0_PG | CR0_WP | CR0_PE)) || a->cr3 != b->cr3 ||
           ((a->cr4 ^ b->cr4) & (CR4_PSE | CR4_PGE));
}

void cpu_set_state(struct cpu *cpu, const struct x86_state *in)
{
    /*
     * A state whose TSC is not the CPU's own was not read from it just
     * now: a snapshot (loadvm wrote RAM, page tables included, before
     * setting it), another engine's, one kept from earlier.  The page
     * tables behind an equal CR3 may differ, so it drops the TLB.
     */
    bool flush = paging_changed(&cpu->s, in) || in->tsc != cpu_tsc(cpu);
    cpu->s = *in;
    cpu->s.eflags |= EFLAGS_FIXED1;
    cpu->lf.op = LF_NONE;
    cpu->tsc_offset = in->tsc - cpu->stats.instructions;
    if (bus_a20_enabled(cpu->bus) != in->a20_enabled) {
        bus_set_a20(cpu->bus, in->a20_enabled);   /* its map_changed hook flushes too */
        flush = true;
    }
    cpu->mmu_user = cpu->s.cpl == 3;
    if (flush) mmu_invalidate_all(&cpu->mmu);
    cpu_debug_update(cpu);
    pc_moved(cpu);
}

void cpu_set_eip(struct cpu *cpu, uint32_t eip)
{
    cpu->s.eip = eip;
    pc_moved(cpu);
}

void cpu_set_gpr(struct cpu *cpu, enum x86_reg r, uint32_t value)
{
    cpu->s.regs[r] = value;
}

void cpu_set_eflags(struct cpu *cpu, uint32_t eflags)
{
    cpu->s.eflags = eflags | EFLAGS_FIXED1;
    cpu->lf.op = LF_NONE;            /* the arithmetic flags are these now */
    cpu_debug_update(cpu);           /* TF and RF switch the per-instruction path */
    cpu->end_block = true;           /* IF may have opened an interrupt window */
}

void cpu_set_segment(struct cpu *cpu, enum x86_sreg r, const struct x86_segment *seg)
{
    cpu->s.seg[r] = *seg;
    if (r != SEG_CS) return;
    /* CPL is CS.RPL in protected mode; real mode runs at 0 and vm86 at 3
     * (SDM Vol. 3A 5.5, 20.2.1). */
    unsigned cpl = !(cpu->s.cr0 & CR0_PE) ? 0 : (cpu->s.eflags & EFLAGS_VM) ? 3 : seg->selector & 3u;
    cpu_set_cpl(cpu, cpl);
    pc_moved(cpu);
}

int cpu_set_breakpoint(struct cpu *cpu, uint32_t lin)
{
    for (int k = 0; k < cpu->breakpoint_count; k++)
        if (cpu->breakpoints[k] == lin) return 0;
    if (cpu->breakpoint_count >= CPU_MAX_BREAKPOINTS) return -ENOSPC;
    cpu->breakpoints[cpu->breakpoint_count++] = lin;
    cpu_debug_update(cpu);
    return 0;
}

int cpu_clear_breakpoint(struct cpu *cpu, uint32_t lin)
{
    for (int k = 0; k < cpu->breakpoint_count; k++) {
        if (cpu->breakpoints[k] != lin) continue;
        cpu->breakpoints[k] = cpu->breakpoints[--cpu->breakpoint_count];
        cpu_debug_update(cpu);
        return 0;
    }
    return -ENOENT;
}

int cpu_code_bits(const struct cpu *cpu)
{
    /* CS.D decides, even in real mode (a 32-bit CS kept from protected mode). */
    return (cpu->s.seg[SEG_CS].attr & SEG_ATTR_DB) && !(cpu->s.eflags & EFLAGS_VM) ? 32 : 16;
}
