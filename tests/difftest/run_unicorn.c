/*
 * run_unicorn.c - the reference side: one instruction under Unicorn 2.
 *
 * How Unicorn sets up UC_MODE_32 (qemu/target/i386/unicorn.c, reg_reset):
 * it clears every segment register (selector, base, limit and flags all 0),
 * sets hflags CS32 and SS32 and CR0 = PE, and leaves CPL 0, IOPL 0, no
 * paging, no GDT or IDT.  QEMU's TCG then computes addresses as base +
 * offset without checking limits or types.  We give it a GDT and load CS,
 * SS, DS, ES, FS and GS from it, so PUSH/POP/MOV of segment registers and
 * LxS have real descriptors to load; trapeze gets the same state
 * (run_trapeze.c).
 *
 * Exceptions: #UD ends uc_emu_start with UC_ERR_INSN_INVALID; every other
 * exception (and INT3, INTO, INT1) goes to the UC_HOOK_INTR hook with its
 * vector, where we stop the run.  The code hook (on_code) stops Unicorn
 * when the *next* instruction starts; a jump to an unmapped or
 * non-executable address therefore ends in UC_ERR_FETCH_UNMAPPED or
 * UC_ERR_FETCH_PROT after the instruction completed (EIP is the target),
 * which counts as completion.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <unicorn/unicorn.h>

#include "cpu/x86_state.h"
#include "tests/difftest/difftest.h"

static uc_engine *uc;
static uc_context *clean;   /* the CPU as set up, restored before every case */
static uc_hook intr_hook, code_hook;
static int hooked_vector;
static unsigned insns_started;   /* code hook calls in this run */
static const struct dt_case *running;

static const int gpr_ids[8] = {
    UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
    UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI,
};
static const int seg_ids[DT_NSEG] = {   /* enum x86_sreg order */
    UC_X86_REG_ES, UC_X86_REG_CS, UC_X86_REG_SS, UC_X86_REG_DS, UC_X86_REG_FS, UC_X86_REG_GS,
};

static void on_interrupt(uc_engine *u, uint32_t intno, void *opaque)
{
    (void)opaque;
    hooked_vector = (int)intno;
    uc_emu_stop(u);
}

/*
 * Stop when the next instruction is about to start: the second one, or for
 * a REP string op the first one at another address (each iteration enters
 * the instruction anew).  uc_emu_start's own 'count' does the same with a
 * hook it adds and removes on every call, and each add or removal flushes
 * all translated code: 50 times slower than this permanent hook.
 */
static void on_code(uc_engine *u, uint64_t address, uint32_t size, void *opaque)
{
    (void)size;
    (void)opaque;
    if (insns_started++ == 0) return;
    if (!running->rep || address != running->in.eip) uc_emu_stop(u);
}

int dt_unicorn_init(void)
{
    uc_err err = uc_open(UC_ARCH_X86, UC_MODE_32, &uc);
    if (err != UC_ERR_OK) {
        fprintf(stderr, "difftest: uc_open: %s (is libunicorn2 installed?)\n", uc_strerror(err));
        return -1;
    }
    /* Only the code page is executable: a jump into the GDT or the random
     * data then ends in UC_ERR_FETCH_PROT instead of translating random
     * bytes, some of which abort Unicorn 2.0.1 (see FF /3 in expect.c).
     * (uc_ctl_remove_cache over a range spanning several mappings removes
     * nothing in Unicorn 2.0.1: the stale translation of the previous case
     * ran, so run() flushes the code page alone.) */
    err = uc_mem_map(uc, DT_GDT_ADDR, DT_CODE_ADDR - DT_GDT_ADDR, UC_PROT_READ | UC_PROT_WRITE);
    if (err == UC_ERR_OK)
        err = uc_mem_map(uc, DT_CODE_ADDR, DT_DATA_ADDR - DT_CODE_ADDR, UC_PROT_ALL);
    if (err == UC_ERR_OK)
        err = uc_mem_map(uc, DT_DATA_ADDR, DT_MEM_SIZE - DT_DATA_ADDR, UC_PROT_READ | UC_PROT_WRITE);
    if (err == UC_ERR_OK)   /* the paging pass's directory and table */
        err = uc_mem_map(uc, DT_PD_ADDR, 0x2000, UC_PROT_READ | UC_PROT_WRITE);
    if (err == UC_ERR_OK) err = uc_mem_write(uc, DT_GDT_ADDR, dt_gdt, sizeof dt_gdt);
    uc_x86_mmr gdtr = { .base = DT_GDT_ADDR, .limit = DT_GDT_LIMIT };
    if (err == UC_ERR_OK) err = uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr);
    if (err == UC_ERR_OK)
        err = uc_hook_add(uc, &intr_hook, UC_HOOK_INTR, (void *)on_interrupt, NULL, 1, 0);
    if (err == UC_ERR_OK)
        err = uc_hook_add(uc, &code_hook, UC_HOOK_CODE, (void *)on_code, NULL, 1, 0);
    /* CS first: loading SS with a DPL-0 descriptor keeps CPL 0. */
    static const int order[DT_NSEG] = { SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS };
    for (int k = 0; k < DT_NSEG && err == UC_ERR_OK; k++) {
        uint32_t sel = order[k] == SEG_CS ? DT_SEL_CODE : DT_SEL_DATA;
        err = uc_reg_write(uc, seg_ids[order[k]], &sel);
    }
    if (err == UC_ERR_OK) err = uc_context_alloc(uc, &clean);
    if (err == UC_ERR_OK) err = uc_context_save(uc, clean);
    if (err != UC_ERR_OK) {
        fprintf(stderr, "difftest: setting up Unicorn: %s\n", uc_strerror(err));
        return -1;
    }
    return 0;
}

void dt_unicorn_destroy(void)
{
    if (clean) uc_context_free(clean);
    clean = NULL;
    if (uc) uc_close(uc);
    uc = NULL;
}

static void read_regs(struct dt_regs *o)
{
    for (int r = 0; r < 8; r++) uc_reg_read(uc, gpr_ids[r], &o->gpr[r]);
    uc_reg_read(uc, UC_X86_REG_EIP, &o->eip);
    uc_reg_read(uc, UC_X86_REG_EFLAGS, &o->eflags);
    for (int s = 0; s < DT_NSEG; s++) {
        uint32_t v = 0;
        uc_reg_read(uc, seg_ids[s], &v);
        o->sel[s] = (uint16_t)v;
    }
}

void dt_unicorn_run(const struct dt_case *c, struct dt_result *r)
{
    uc_mem_write(uc, 0, c->mem, DT_MEM_SIZE);
    /* The code bytes changed under the same address: drop translated blocks. */
    uc_ctl_remove_cache(uc, DT_CODE_ADDR, DT_DATA_ADDR);   /* the one executable page */
    /* A fresh CPU: Unicorn does not deliver the exceptions it reports to
     * the hook, so QEMU's "exception in flight" (env->old_exception) would
     * stay set and turn the next case's fault into a double fault. */
    uc_context_restore(uc, clean);
    if (c->paging) {
        /* Unicorn 2.0.1 turns paging on through CR3/CR0 writes (each
         * flushes its TLB); see tests/README.md for what it then models. */
        uint32_t pde = DT_PT_ADDR | 3, cr3 = DT_PD_ADDR, cr0 = 0, cr2 = 0;
        uc_mem_write(uc, DT_PD_ADDR, &pde, 4);
        uc_mem_write(uc, DT_PT_ADDR, c->pte, sizeof c->pte);
        uc_reg_write(uc, UC_X86_REG_CR2, &cr2);
        uc_reg_write(uc, UC_X86_REG_CR3, &cr3);
        uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
        cr0 |= CR0_PG | (c->wp ? CR0_WP : 0);
        uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
        /* The CR writes alone leave the previous case's translations in
         * Unicorn 2.0.1's TLB (no fault, no A bit): drop them. */
        uc_ctl_flush_tlb(uc);
    }
    for (int s = 0; s < DT_NSEG; s++) {
        uint32_t sel = c->in.sel[s];
        if (s != SEG_CS && sel != DT_SEL_DATA) uc_reg_write(uc, seg_ids[s], &sel);
    }
    for (int k = 0; k < 8; k++) uc_reg_write(uc, gpr_ids[k], &c->in.gpr[k]);
    uc_reg_write(uc, UC_X86_REG_EFLAGS, &c->in.eflags);
    uc_reg_write(uc, UC_X86_REG_EIP, &c->in.eip);

    hooked_vector = -1;
    insns_started = 0;
    running = c;
    /* 'until' is never reached: the code hook stops the run. */
    uc_err err = uc_emu_start(uc, c->in.eip, DT_MEM_SIZE + 0x10000u, 0, 0);
    r->vector = -1;
    r->unclassified = 0;
    if (hooked_vector >= 0) {
        r->vector = hooked_vector;
    } else if (err == UC_ERR_INSN_INVALID) {
        r->vector = 6;   /* #UD */
    } else if (err != UC_ERR_OK) {
        read_regs(&r->out);
        bool fetch = err == UC_ERR_FETCH_UNMAPPED || err == UC_ERR_FETCH_PROT;
        if (!(fetch && r->out.eip != c->in.eip))
            r->unclassified = (int)err;
    }
    read_regs(&r->out);
    uc_mem_read(uc, 0, r->mem, DT_MEM_SIZE);
    r->has_error = false;
    r->error = 0;
    if (c->paging) {
        uc_reg_read(uc, UC_X86_REG_CR2, &r->cr2);
        uc_mem_read(uc, DT_PT_ADDR, r->pte, sizeof r->pte);
    }
}

const char *dt_unicorn_error(int err) { return uc_strerror((uc_err)err); }
