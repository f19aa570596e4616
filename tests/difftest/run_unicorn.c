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
 *
 * Paging (the paging pass, paging.c; the evidence is in tests/README.md).
 * In Unicorn 2.0.1:
 *   - uc_reg_write of CR0, CR3 or CR4 only stores the value: paging then
 *     follows it, but the TLB keeps the translations made before, so the
 *     first accesses walk no tables.  uc_ctl_flush_tlb does not help: in
 *     2.0.1 it is UC_CTL_TB_FLUSH, which drops translated code, not the
 *     TLB.  What empties the TLB is unmapping a region (uc_mem_unmap), so
 *     every paging case unmaps and maps again linear page 4: after that
 *     the CR values act as MOV to CR0/CR3/CR4 would leave them (SDM Vol. 3A
 *     4.10.4.1: a MOV to CR0 that sets PG flushes the TLB).
 *   - Unicorn checks its own mappings at the linear address before the
 *     page walk: page 4 must be mapped for an access there to reach the
 *     walk (PTE 4 is never present: #PF).  It is mapped only while paging
 *     cases run; the other cases keep it unmapped, as they always had.
 *   - the page walk is QEMU's: Present, R/W and U/S of both levels, CR0.WP,
 *     CPL, 4 MiB pages with CR4.PSE, the reserved bit 21 of a 4 MiB PDE,
 *     the Accessed and Dirty bits, #PF (vector 14) with CR2.  Its loads and
 *     stores then use the linear address as the physical one, so the tables
 *     given to it map every page onto itself.
 *   - uc_emu_start translates its 'until' address minus one before it
 *     runs: a walk that, when it fails, sets CR2 and leaves a page fault "in
 *     flight", turning the case's own #PF into a double fault.  The paging
 *     cases therefore stop at DT_STOP_ADDR, mapped by PDE 1 with A and D set.
 *   - CPL 3: uc_reg_write refuses SS with RPL 3 at CPL 0 (QEMU takes CPL from
 *     SS), so init runs one IRET to CPL 3 and keeps that state (user).
 *   - the #PF error code is not reported (the interrupt hook gets the
 *     vector alone), so paging.c checks trapeze's against SDM 4.7.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <unicorn/unicorn.h>

#include "cpu/x86_state.h"
#include "mmu/mmu.h"
#include "tests/difftest/difftest.h"

/* Linear page 4, just above the compared memory: mapped only while paging
 * cases run (see the top of this file). */
#define PAGE4 DT_MEM_SIZE

static uc_engine *uc;
static uc_context *clean;   /* the CPU as set up, restored before every case */
static uc_context *user;    /* the same at CPL 3 (paging cases with cpl = 3) */
static uint16_t clean_sel[DT_NSEG], user_sel[DT_NSEG];   /* their selectors */
static bool page4_mapped;
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
    if (!running) return;   /* init's IRET to CPL 3 stops at its 'until' */
    if (insns_started++ == 0) return;
    if (!running->rep || address != running->in.eip) uc_emu_stop(u);
}

static void read_selectors(uint16_t sel[DT_NSEG])
{
    for (int s = 0; s < DT_NSEG; s++) {
        uint32_t v = 0;
        uc_reg_read(uc, seg_ids[s], &v);
        sel[s] = (uint16_t)v;
    }
}

/*
 * From the CPL-0 state, IRET to CPL 3 (SDM Vol. 2A IRET, "return to outer
 * privilege level": pops EIP, CS, EFLAGS, ESP, SS; DS, ES, FS and GS, whose
 * DPL 0 is below the new CPL, become null) and load the data segments with
 * the DPL-3 descriptor.  The IRET and its frame are on the stop page.
 */
static uc_err enter_user(void)
{
    const uint32_t frame[5] = {
        DT_CODE_ADDR, DT_SEL_CODE3 | 3, 0x2, DT_DATA_ADDR + 0x1000, DT_SEL_DATA3 | 3,
    };
    const uint8_t iret = 0xCF;
    uint32_t esp = DT_STOP_ADDR + 0x800, eip = DT_STOP_ADDR;
    uc_err err = uc_mem_write(uc, DT_STOP_ADDR + 0x800, frame, sizeof frame);
    if (err == UC_ERR_OK) err = uc_mem_write(uc, DT_STOP_ADDR, &iret, 1);
    if (err == UC_ERR_OK) err = uc_reg_write(uc, UC_X86_REG_ESP, &esp);
    if (err == UC_ERR_OK) err = uc_reg_write(uc, UC_X86_REG_EIP, &eip);
    hooked_vector = -1;
    running = NULL;
    if (err == UC_ERR_OK) err = uc_emu_start(uc, DT_STOP_ADDR, DT_CODE_ADDR, 0, 0);
    if (err == UC_ERR_OK && hooked_vector >= 0) err = UC_ERR_EXCEPTION;
    static const int data[] = { SEG_DS, SEG_ES, SEG_FS, SEG_GS };
    for (int k = 0; k < 4 && err == UC_ERR_OK; k++) {
        uint32_t sel = DT_SEL_DATA3 | 3;
        err = uc_reg_write(uc, seg_ids[data[k]], &sel);
    }
    return err;
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
    if (err == UC_ERR_OK)   /* the paging pass's directory and tables */
        err = uc_mem_map(uc, DT_PD_ADDR, DT_PT1_ADDR + 0x1000 - DT_PD_ADDR, UC_PROT_READ | UC_PROT_WRITE);
    if (err == UC_ERR_OK)   /* the paging cases' stop address; init's IRET */
        err = uc_mem_map(uc, DT_STOP_ADDR, 0x1000, UC_PROT_ALL);
    /* PDE 1 -> the table at DT_PT1_ADDR, whose entry 0 maps DT_STOP_ADDR
     * onto itself: present, writable, user, A and D preset, so the walk
     * for 'until' writes nothing and never faults (SDM Vol. 3A 4.3). */
    uint32_t pde1 = DT_PT1_ADDR | PTE_P | PTE_W | PTE_U | PTE_A;
    uint32_t pte_stop = DT_STOP_ADDR | PTE_P | PTE_W | PTE_U | PTE_A | PTE_D;
    if (err == UC_ERR_OK) err = uc_mem_write(uc, DT_PD_ADDR + 4, &pde1, 4);
    if (err == UC_ERR_OK) err = uc_mem_write(uc, DT_PT1_ADDR, &pte_stop, 4);
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
    if (err == UC_ERR_OK) err = enter_user();
    if (err == UC_ERR_OK) err = uc_context_alloc(uc, &user);
    if (err == UC_ERR_OK) err = uc_context_save(uc, user);
    if (err != UC_ERR_OK) {
        fprintf(stderr, "difftest: setting up Unicorn: %s\n", uc_strerror(err));
        return -1;
    }
    read_selectors(user_sel);
    uc_context_restore(uc, clean);
    read_selectors(clean_sel);
    if ((user_sel[SEG_CS] & 3) != 3 || user_sel[SEG_SS] != (DT_SEL_DATA3 | 3)) {
        fprintf(stderr, "difftest: Unicorn did not reach CPL 3 (CS %04x, SS %04x)\n",
                user_sel[SEG_CS], user_sel[SEG_SS]);
        return -1;
    }
    return 0;
}

void dt_unicorn_destroy(void)
{
    if (clean) uc_context_free(clean);
    clean = NULL;
    if (user) uc_context_free(user);
    user = NULL;
    if (uc) uc_close(uc);
    uc = NULL;
}

static void read_regs(struct dt_regs *o)
{
    for (int r = 0; r < 8; r++) uc_reg_read(uc, gpr_ids[r], &o->gpr[r]);
    uc_reg_read(uc, UC_X86_REG_EIP, &o->eip);
    uc_reg_read(uc, UC_X86_REG_EFLAGS, &o->eflags);
    read_selectors(o->sel);
}

void dt_unicorn_run(const struct dt_case *c, struct dt_result *r)
{
    uc_mem_write(uc, 0, c->mem, DT_MEM_SIZE);
    /* The code bytes changed under the same address: drop translated blocks. */
    uc_ctl_remove_cache(uc, DT_CODE_ADDR, DT_DATA_ADDR);   /* the one executable page */
    /* A fresh CPU: Unicorn does not deliver the exceptions it reports to
     * the hook, so QEMU's "exception in flight" (env->old_exception) would
     * stay set and turn the next case's fault into a double fault. */
    bool cpl3 = c->paging && c->cpl == 3;
    uc_context_restore(uc, cpl3 ? user : clean);
    const uint16_t *base_sel = cpl3 ? user_sel : clean_sel;
    if (c->paging) {
        uint32_t cr0 = 0, cr4 = 0, cr3 = DT_PD_ADDR;
        uc_mem_write(uc, DT_PD_ADDR, &c->pde, 4);
        uc_mem_write(uc, DT_PT_ADDR, c->pte, sizeof c->pte);
        uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
        uc_reg_read(uc, UC_X86_REG_CR4, &cr4);
        cr0 |= CR0_PG | (c->wp ? CR0_WP : 0);
        cr4 |= c->pse ? CR4_PSE : 0;
        uc_reg_write(uc, UC_X86_REG_CR3, &cr3);
        uc_reg_write(uc, UC_X86_REG_CR4, &cr4);
        uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
        /* Empty the TLB: unmap a region (see the top of this file). */
        if (!page4_mapped) uc_mem_map(uc, PAGE4, 0x1000, UC_PROT_READ | UC_PROT_WRITE);
        uc_mem_unmap(uc, PAGE4, 0x1000);
        uc_mem_map(uc, PAGE4, 0x1000, UC_PROT_READ | UC_PROT_WRITE);
        page4_mapped = true;
    } else if (page4_mapped) {
        uc_mem_unmap(uc, PAGE4, 0x1000);
        page4_mapped = false;
    }
    for (int s = 0; s < DT_NSEG; s++) {
        uint32_t sel = c->in.sel[s];
        if (s != SEG_CS && sel != base_sel[s]) uc_reg_write(uc, seg_ids[s], &sel);
    }
    for (int k = 0; k < 8; k++) uc_reg_write(uc, gpr_ids[k], &c->in.gpr[k]);
    uc_reg_write(uc, UC_X86_REG_EFLAGS, &c->in.eflags);
    uc_reg_write(uc, UC_X86_REG_EIP, &c->in.eip);

    hooked_vector = -1;
    insns_started = 0;
    running = c;
    /* 'until' is never reached: the code hook stops the run. */
    uc_err err = uc_emu_start(uc, c->in.eip, c->paging ? DT_STOP_ADDR + 0x10 : DT_MEM_SIZE + 0x10000u, 0, 0);
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
    r->cr2 = 0;
    if (c->paging) {
        uc_reg_read(uc, UC_X86_REG_CR2, &r->cr2);
        uc_mem_read(uc, DT_PD_ADDR, &r->pde, 4);
        uc_mem_read(uc, DT_PT_ADDR, r->pte, sizeof r->pte);
    }
}

const char *dt_unicorn_error(int err) { return uc_strerror((uc_err)err); }
