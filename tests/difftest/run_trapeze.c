/*
 * run_trapeze.c - the side under test: one instruction on trapeze's CPU.
 *
 * The state mirrors Unicorn's UC_MODE_32 (see run_unicorn.c): CR0.PE, CPL 0,
 * no paging, IOPL 0, GDTR at our GDT, IDTR empty, and segment caches as
 * loading our flat descriptors gives them: base 0, limit 4 GiB, present,
 * S, D/B and G set, accessed; CS execute/read, the others read/write.  The
 * CPU owns no exceptions: exit_on_exception = all vectors, so a fault comes
 * back as CPU_EXIT_EXCEPTION with its vector and nothing is delivered.
 */
#include <stdio.h>
#include <string.h>

#include "cpu/cpu.h"
#include "mmu/bus.h"
#include "tests/difftest/difftest.h"

static struct bus bus;
static struct cpu cpu;
static struct x86_state base;   /* the state every case starts from */
static bool ready;

/* A cached flat segment, as loading a descriptor of dt_gdt fills it. */
static struct x86_segment flat_segment(uint16_t selector, bool code)
{
    struct x86_segment s = {
        .selector = selector,
        .base = 0,
        .limit = 0xFFFFFFFFu,
        .attr = SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_DB | SEG_ATTR_G | SEG_ATTR_A |
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
        base.seg[s] = flat_segment(s == SEG_CS ? DT_SEL_CODE : DT_SEL_DATA, s == SEG_CS);
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

void dt_trapeze_run(const struct dt_case *c, struct dt_result *r)
{
    struct x86_state s = base;
    memcpy(s.regs, c->in.gpr, sizeof s.regs);
    s.eip = c->in.eip;
    s.eflags = c->in.eflags;
    for (int k = 0; k < SEG_COUNT; k++)
        if (c->in.sel[k] != base.seg[k].selector) s.seg[k].selector = c->in.sel[k];

    if (c->paging) {
        uint32_t pde = DT_PT_ADDR | 3;
        bus_write_block(&bus, DT_PD_ADDR, &pde, 4);
        bus_write_block(&bus, DT_PT_ADDR, c->pte, sizeof c->pte);
        s.cr0 |= CR0_PG | (c->wp ? CR0_WP : 0);
        s.cr2 = 0;
        s.cr3 = DT_PD_ADDR;
    }
    bus_write_block(&bus, 0, c->mem, DT_MEM_SIZE);
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
    bus_read_block(&bus, 0, r->mem, DT_MEM_SIZE);
    r->has_error = e.reason == CPU_EXIT_EXCEPTION && e.has_error_code;
    r->error = e.error_code;
    r->cr2 = o.cr2;
    if (c->paging) bus_read_block(&bus, DT_PT_ADDR, r->pte, sizeof r->pte);
}
