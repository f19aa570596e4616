/*
 * run_trapeze.c - the side under test: one instruction on trapeze's CPU.
 *
 * The state mirrors Unicorn's UC_MODE_32 (see run_unicorn.c): CR0.PE, CPL 0,
 * no paging, IOPL 0, GDTR at our GDT, IDTR empty, and segment caches as
 * loading our flat descriptors gives them: base 0, limit 4 GiB, present,
 * S, D/B and G set, accessed; CS execute/read, the others read/write.  The
 * CPU owns no exceptions: exit_on_exception = all vectors, so a fault comes
 * back as CPU_EXIT_EXCEPTION with its vector and nothing is delivered.
 *
 * Paging cases (paging.c) get the case's tables with trapeze's own frames:
 * linear page k of the compared memory lives at frame[k] (anywhere in the
 * 16 MiB), so an operand that straddles two pages reaches two frames that
 * need not be adjacent; the result memory is read back through the same
 * frames, so it compares with Unicorn's identity-mapped memory.  CPL 3 is
 * the state Unicorn reaches by its IRET (run_unicorn.c): CS = DT_SEL_CODE3|3,
 * the other segments DT_SEL_DATA3|3, all DPL 3.
 */
#include <stdio.h>
#include <string.h>

#include "cpu/cpu.h"
#include "mmu/bus.h"
#include "mmu/mmu.h"
#include "tests/difftest/difftest.h"

static struct bus bus;
static struct cpu cpu;
static struct x86_state base;   /* the state every case starts from */
static struct x86_state user;   /* the same at CPL 3 (paging cases) */
static bool ready;

/* A cached flat segment, as loading a descriptor of dt_gdt fills it. */
static struct x86_segment flat_segment(uint16_t selector, bool code, unsigned dpl)
{
    struct x86_segment s = {
        .selector = selector,
        .base = 0,
        .limit = 0xFFFFFFFFu,
        .attr = SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB | SEG_ATTR_G | SEG_ATTR_A |
                (uint16_t)(dpl << SEG_ATTR_DPL_SHIFT) |
                (code ? SEG_ATTR_CODE | SEG_ATTR_R : SEG_ATTR_W),
    };
    return s;
}

int dt_trapeze_init(void)
{
    int err = bus_init(&bus, 16u << 20);
    if (err < 0) {
        fprintf(stderr, "difftest: bus_init: %s\n", strerror(-err));
        return -1;
    }
    err = cpu_init(&cpu, &bus);
    if (err < 0) {
        fprintf(stderr, "difftest: cpu_init: %s\n", strerror(-err));
        bus_destroy(&bus);
        return -1;
    }
    cpu_hard_reset(&cpu);
    cpu.exit_on_exception = 0xFFFFFFFFu;
    cpu_get_state(&cpu, &base);
    base.cr0 = CR0_PE;              /* Unicorn: cpu_x86_update_cr0(env, CR0_PE_MASK) */
    base.cr2 = base.cr3 = base.cr4 = 0;
    base.cpl = 0;
    base.gdtr = (struct x86_dtable){ .base = DT_GDT_ADDR, .limit = DT_GDT_LIMIT };
    base.idtr = (struct x86_dtable){ .base = 0, .limit = 0 };
    base.halted = false;
    base.interrupt_shadow = 0;
    base.a20_enabled = true;
    /* Unicorn clears LDTR and TR (reg_reset's memset): limit 0, so every
     * TI=1 selector is outside the LDT.  (The reset state of the SDM,
     * Vol. 3A table 9-1, has an LDTR limit of 0xFFFF instead.) */
    memset(&base.ldtr, 0, sizeof base.ldtr);
    memset(&base.tr, 0, sizeof base.tr);
    for (int s = 0; s < SEG_COUNT; s++)
        base.seg[s] = flat_segment(s == SEG_CS ? DT_SEL_CODE : DT_SEL_DATA, s == SEG_CS, 0);
    user = base;
    user.cpl = 3;
    for (int s = 0; s < SEG_COUNT; s++)
        user.seg[s] = flat_segment(s == SEG_CS ? DT_SEL_CODE3 | 3 : DT_SEL_DATA3 | 3, s == SEG_CS, 3);
    ready = true;
    return 0;
}

void dt_trapeze_destroy(void)
{
    if (!ready) return;
    cpu_destroy(&cpu);
    bus_destroy(&bus);
    ready = false;
}

/* The case's PDE 0 and PTEs with trapeze's frames (difftest.h). */
static void trapeze_tables(const struct dt_case *c, uint32_t *pde, uint32_t pte[DT_PT_ENTRIES])
{
    *pde = c->pde;
    if (c->pse && (c->pde & PTE_PS))   /* a 4 MiB page: frame[0] is its first 4 KiB */
        *pde = (c->pde & ~0xFFC00000u) | (c->frame[0] & 0xFFC00000u);
    for (unsigned k = 0; k < DT_PT_ENTRIES; k++)
        pte[k] = k < DT_PAGES ? (c->pte[k] & ~PTE_FRAME) | c->frame[k] : c->pte[k];
}

void dt_trapeze_run(const struct dt_case *c, struct dt_result *r)
{
    bool cpl3 = c->paging && c->cpl == 3;
    const struct x86_state *from = cpl3 ? &user : &base;
    struct x86_state s = *from;
    memcpy(s.regs, c->in.gpr, sizeof s.regs);
    s.eip = c->in.eip;
    s.eflags = c->in.eflags;
    for (int k = 0; k < SEG_COUNT; k++)
        if (c->in.sel[k] != from->seg[k].selector) s.seg[k].selector = c->in.sel[k];

    if (c->paging) {
        uint32_t pde, pte[DT_PT_ENTRIES];
        trapeze_tables(c, &pde, pte);
        bus_write_block(&bus, DT_PD_ADDR, &pde, 4);
        bus_write_block(&bus, DT_PT_ADDR, pte, sizeof pte);
        for (unsigned k = 0; k < DT_PAGES; k++)
            bus_write_block(&bus, c->frame[k], c->mem + k * 0x1000u, 0x1000);
        if (c->pse && (c->pde & PTE_PS)) {
            /* The 4 MiB page also maps linear page 4, which an operand
             * straddling 3/4 reads: Unicorn maps it afresh, zero, for every
             * paging case (run_unicorn.c). */
            static const uint8_t zero[0x1000];
            bus_write_block(&bus, c->frame[0] + DT_MEM_SIZE, zero, sizeof zero);
        }
        s.cr0 |= CR0_PG | (c->wp ? CR0_WP : 0);
        s.cr4 |= c->pse ? CR4_PSE : 0;
        s.cr2 = 0;
        s.cr3 = DT_PD_ADDR;
    } else {
        bus_write_block(&bus, 0, c->mem, DT_MEM_SIZE);
    }
    cpu_set_state(&cpu, &s);
    cpu_state_changed(&cpu);

    /* One step is one instruction, or one iteration of a REP string op:
     * step until EIP leaves it (the count is at most 16, so 100 is plenty). */
    struct cpu_exit e = cpu_run(&cpu, 0, true);
    for (int n = 0; c->rep && e.reason == CPU_EXIT_STEP && cpu.s.eip == c->in.eip && n < 100; n++)
        e = cpu_run(&cpu, 0, true);

    r->vector = -1;
    r->unclassified = 0;
    if (e.reason == CPU_EXIT_EXCEPTION) r->vector = e.vector;
    else if (e.reason != CPU_EXIT_STEP) r->unclassified = 1000 + (int)e.reason;

    struct x86_state o;
    cpu_get_state(&cpu, &o);
    memcpy(r->out.gpr, o.regs, sizeof r->out.gpr);
    r->out.eip = o.eip;
    r->out.eflags = o.eflags;
    for (int k = 0; k < SEG_COUNT; k++) r->out.sel[k] = o.seg[k].selector;
    r->has_error = e.reason == CPU_EXIT_EXCEPTION && e.has_error_code;
    r->error = e.error_code;
    r->cr2 = o.cr2;
    if (c->paging) {
        for (unsigned k = 0; k < DT_PAGES; k++)
            bus_read_block(&bus, c->frame[k], r->mem + k * 0x1000u, 0x1000);
        bus_read_block(&bus, DT_PD_ADDR, &r->pde, 4);
        bus_read_block(&bus, DT_PT_ADDR, r->pte, sizeof r->pte);
    } else {
        bus_read_block(&bus, 0, r->mem, DT_MEM_SIZE);
    }
}
