/*
 * test_system.c - system instructions and the debug registers, one SDM
 * rule per test (cpu/exec_system.c, cpu/debug.c).
 *
 * Each test runs a few instructions in flat 32-bit protected mode (see
 * tests/cpu_harness.h) with the vectors it expects owned by the test
 * (exit_on_exception), so a fault comes back as an exit with EIP, vector
 * and error code, as a trap-and-emulate VMM would see it.
 */
#include "cpu/cpu_internal.h"
#include "tests/cpu_harness.h"
#include "tests/test.h"

#define CODE 0x1000u

/* Run until an exit with all exceptions owned by the test. */
static struct cpu_exit run_owned(struct harness *h, uint64_t budget)
{
    h->cpu.exit_on_exception = 0xFFFFFFFFu;
    return cpu_run(&h->cpu, budget, false);
}

static bool is_fault(struct cpu_exit x, int vector)
{
    return x.reason == CPU_EXIT_EXCEPTION && x.vector == vector;
}

/* Count sensitive-instruction reports, remembering the last mnemonic. */
struct sensitive_log { int count; const char *last; struct cpu_sensitive ev; };
static void log_sensitive(void *opaque, const struct cpu_sensitive *ev)
{
    struct sensitive_log *l = opaque;
    l->count++;
    l->last = ev->mnemonic;
    l->ev = *ev;
}

/* SDM Vol. 2A CLI: protected mode, CPL > IOPL -> #GP(0), EIP at the CLI. */
TEST(cli_at_cpl3_iopl0_is_gp0)
{
    struct harness h;
    harness_init(&h, 3);
    harness_code(&h, CODE, "\xfa", 1);
    struct cpu_exit x = run_owned(&h, 10);
    CHECK(is_fault(x, X86_GP));
    CHECK_EQ(x.error_code, 0);
    CHECK_EQ(h.cpu.s.eip, CODE);
    harness_destroy(&h);
}

/*
 * SDM Vol. 2B POPF: at CPL > IOPL, IF is not changed and no exception is
 * raised - the instruction Popek and Goldberg's criterion trips over.  The
 * arithmetic flags from the popped image are still loaded.
 */
TEST(popf_at_cpl3_keeps_if_silently)
{
    struct harness h;
    harness_init(&h, 3);
    h.cpu.s.eflags |= EFLAGS_IF | EFLAGS_ZF;
    harness_code(&h, CODE, "\x6a\x01\x9d", 3);     /* push 1 (CF only); popf */
    struct cpu_exit x = run_owned(&h, 2);
    CHECK_EQ(x.reason, CPU_EXIT_BUDGET);
    CHECK(cpu_get_eflags(&h.cpu) & EFLAGS_IF);
    CHECK_EQ(cpu_get_eflags(&h.cpu) & (EFLAGS_CF | EFLAGS_ZF), EFLAGS_CF);
    harness_destroy(&h);
}

/* DESIGN.md (tae): POPF at CPL > 0 is reported to the sensitive hook. */
TEST(popf_at_cpl3_is_reported_sensitive)
{
    struct harness h;
    struct sensitive_log log = { 0 };
    harness_init(&h, 3);
    h.cpu.s.eflags |= EFLAGS_IF;
    h.cpu.sensitive_hook = log_sensitive;
    h.cpu.sensitive_opaque = &log;
    harness_code(&h, CODE, "\x6a\x00\x9d", 3);
    run_owned(&h, 2);
    CHECK_EQ(log.count, 1);
    CHECK(log.last && strcmp(log.last, "popf") == 0);
    CHECK_EQ(log.ev.eip, CODE + 2);
    CHECK_EQ(log.ev.cpl, 3);
    CHECK_EQ(log.ev.wanted, 0);                   /* the image: IF = 0 */
    CHECK(log.ev.got & EFLAGS_IF);                /* kept: CPL 3 > IOPL 0 */
    CHECK((log.ev.wanted ^ log.ev.got) & EFLAGS_IF);
    harness_destroy(&h);
}

/* SDM Vol. 2B POPF: at CPL 0 (IOPL 0) POPF does change IF and IOPL. */
TEST(popf_at_cpl0_changes_if_and_iopl)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, CODE, "\x68\x02\x32\x00\x00\x9d", 6); /* push 0x3202; popf */
    run_owned(&h, 2);
    CHECK_EQ(cpu_get_eflags(&h.cpu) & (EFLAGS_IF | EFLAGS_IOPL), EFLAGS_IF | EFLAGS_IOPL);
    harness_destroy(&h);
}

/* SDM Vol. 2B PUSHF: the image has VM and RF cleared; runs at CPL 3. */
TEST(pushf_image_clears_rf)
{
    struct harness h;
    harness_init(&h, 3);
    h.cpu.s.eflags |= EFLAGS_RF;
    harness_code(&h, CODE, "\x9c", 1);
    run_owned(&h, 1);
    uint32_t image;
    cpu_read_linear(&h.cpu, HARNESS_STACK - 4, &image, 4);
    CHECK_EQ(image & (EFLAGS_RF | EFLAGS_VM | EFLAGS_FIXED1), EFLAGS_FIXED1);
    harness_destroy(&h);
}

/* SDM Vol. 2B MOV CR: "#GP(0) If the current privilege level is not 0." */
TEST(mov_cr0_at_cpl3_is_gp0)
{
    struct harness h;
    harness_init(&h, 3);
    harness_code(&h, CODE, "\x0f\x22\xc0", 3);     /* mov cr0, eax */
    struct cpu_exit x = run_owned(&h, 1);
    CHECK(is_fault(x, X86_GP));
    CHECK_EQ(x.error_code, 0);
    harness_destroy(&h);
}

/* SDM Vol. 2B MOV CR: setting PG with PE = 0 is #GP(0); CR0 unchanged. */
TEST(cr0_pg_without_pe_is_gp0)
{
    struct harness h;
    harness_init(&h, 0);
    h.cpu.s.regs[R_EAX] = CR0_PG | CR0_ET;
    harness_code(&h, CODE, "\x0f\x22\xc0", 3);
    struct cpu_exit x = run_owned(&h, 1);
    CHECK(is_fault(x, X86_GP));
    CHECK_EQ(h.cpu.s.cr0 & (CR0_PE | CR0_PG), CR0_PE);
    harness_destroy(&h);
}

/* SDM Vol. 2B MOV CR: CR1, CR5-CR7 do not exist: #UD. */
TEST(mov_cr1_is_ud)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, CODE, "\x0f\x20\xc8", 3);     /* mov eax, cr1 */
    CHECK(is_fault(run_owned(&h, 1), X86_UD));
    harness_destroy(&h);
}

/* SDM Vol. 3A 2.5: CR0.ET is hardwired to 1 on the 486 and later. */
TEST(cr0_et_reads_one)
{
    struct harness h;
    harness_init(&h, 0);
    h.cpu.s.regs[R_EAX] = CR0_PE;
    harness_code(&h, CODE, "\x0f\x22\xc0\x0f\x20\xc3", 6); /* mov cr0, eax; mov ebx, cr0 */
    run_owned(&h, 2);
    CHECK_EQ(h.cpu.s.regs[R_EBX], CR0_PE | CR0_ET);
    harness_destroy(&h);
}

/* SDM Vol. 2A LMSW: can set PE but not clear it. */
TEST(lmsw_cannot_clear_pe)
{
    struct harness h;
    harness_init(&h, 0);
    h.cpu.s.regs[R_EAX] = CR0_TS;                  /* PE = 0 in the operand */
    harness_code(&h, CODE, "\x0f\x01\xf0", 3);     /* lmsw ax */
    run_owned(&h, 1);
    CHECK_EQ(h.cpu.s.cr0 & (CR0_PE | CR0_TS), CR0_PE | CR0_TS);
    harness_destroy(&h);
}

/* SDM Vol. 2B RDMSR: an unimplemented MSR is #GP(0). */
TEST(rdmsr_unmodelled_is_gp0)
{
    struct harness h;
    harness_init(&h, 0);
    h.cpu.s.regs[R_ECX] = 0x1B;                    /* IA32_APIC_BASE: no APIC here */
    harness_code(&h, CODE, "\x0f\x32", 2);
    struct cpu_exit x = run_owned(&h, 1);
    CHECK(is_fault(x, X86_GP));
    CHECK_EQ(x.error_code, 0);
    harness_destroy(&h);
}

/*
 * SDM Vol. 3B 17.17: the TSC is MSR 10H, written by WRMSR and read by
 * RDMSR; it reads back the written value plus the ticks since (one per
 * retired instruction here).
 */
TEST(wrmsr_rdmsr_tsc_round_trip)
{
    struct harness h;
    harness_init(&h, 0);
    h.cpu.s.regs[R_ECX] = 0x10;
    h.cpu.s.regs[R_EDX] = 0x12345678;
    h.cpu.s.regs[R_EAX] = 0x9ABCDEF0;
    harness_code(&h, CODE, "\x0f\x30\x31\xc0\x31\xd2\x0f\x32", 8); /* wrmsr; xor eax,eax; xor edx,edx; rdmsr */
    struct cpu_exit x = run_owned(&h, 4);
    CHECK_EQ(x.reason, CPU_EXIT_BUDGET);
    uint64_t v = ((uint64_t)h.cpu.s.regs[R_EDX] << 32) | h.cpu.s.regs[R_EAX];
    uint64_t delta = v - 0x123456789ABCDEF0ull;
    CHECK(delta <= 3);
    harness_destroy(&h);
}

/* SDM Vol. 2B RDTSC: CR4.TSD = 1 at CPL > 0 is #GP(0). */
TEST(rdtsc_with_tsd_at_cpl3_is_gp0)
{
    struct harness h;
    harness_init(&h, 3);
    h.cpu.s.cr4 = CR4_TSD;
    harness_code(&h, CODE, "\x0f\x31", 2);
    CHECK(is_fault(run_owned(&h, 1), X86_GP));
    harness_destroy(&h);
}

/* SDM Vol. 2A CPUID table 3-11: EDX bit 0 (FPU) clear - no x87 modelled. */
TEST(cpuid_leaf1_reports_no_fpu)
{
    struct harness h;
    harness_init(&h, 3);
    h.cpu.s.regs[R_EAX] = 1;
    harness_code(&h, CODE, "\x0f\xa2", 2);
    run_owned(&h, 1);
    CHECK_EQ(h.cpu.s.regs[R_EDX] & 1u, 0);
    CHECK(h.cpu.s.regs[R_EDX] & (1u << 4));        /* TSC */
    CHECK_EQ((h.cpu.s.regs[R_EAX] >> 8) & 0xF, 5); /* family 5 */
    harness_destroy(&h);
}

/* SDM Vol. 2A CPUID: leaf 0 returns the vendor "GenuineIntel" in EBX, EDX, ECX. */
TEST(cpuid_leaf0_vendor)
{
    struct harness h;
    harness_init(&h, 0);
    h.cpu.s.regs[R_EAX] = 0;
    harness_code(&h, CODE, "\x0f\xa2", 2);
    run_owned(&h, 1);
    char vendor[13];
    memcpy(vendor, &h.cpu.s.regs[R_EBX], 4);
    memcpy(vendor + 4, &h.cpu.s.regs[R_EDX], 4);
    memcpy(vendor + 8, &h.cpu.s.regs[R_ECX], 4);
    vendor[12] = 0;
    CHECK_STR(vendor, "GenuineIntel");
    harness_destroy(&h);
}

/* SDM Vol. 3A 2.5 (CR0.EM) and table 2-2: an x87 instruction with EM = 1 is #NM. */
TEST(x87_with_cr0_em_is_nm)
{
    struct harness h;
    harness_init(&h, 0);
    h.cpu.s.cr0 |= CR0_EM;
    harness_code(&h, CODE, "\xd9\xe8", 2);         /* fld1 */
    CHECK(is_fault(run_owned(&h, 1), X86_NM));
    harness_destroy(&h);
}

/* No x87 modelled: an escape with EM = TS = 0 is #UD (see exec_system.c). */
TEST(x87_without_em_is_ud)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, CODE, "\xd9\xe8", 2);
    CHECK(is_fault(run_owned(&h, 1), X86_UD));
    harness_destroy(&h);
}

/* SDM Vol. 3A table 2-2: WAIT with MP = 1 and TS = 1 is #NM. */
TEST(fwait_with_mp_ts_is_nm)
{
    struct harness h;
    harness_init(&h, 0);
    h.cpu.s.cr0 |= CR0_MP | CR0_TS;
    harness_code(&h, CODE, "\x9b", 1);
    CHECK(is_fault(run_owned(&h, 1), X86_NM));
    harness_destroy(&h);
}

/*
 * SDM Vol. 3B 17.3.1.1: an instruction breakpoint (DR0, R/W0 = 00) is a
 * fault before the instruction, with DR6.B0 set; with EFLAGS.RF = 1 it is
 * suppressed for one instruction, and RF is cleared when that completes.
 */
TEST(dr0_execute_breakpoint_and_rf)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, CODE, "\x40\x43\x41\xf4", 4); /* inc eax; inc ebx; inc ecx; hlt */
    h.cpu.s.dr[0] = CODE + 1;
    h.cpu.s.dr[7] = DR7_FIXED1 | 0x1;               /* L0, R/W0 = 00, LEN0 = 00 */
    cpu_state_changed(&h.cpu);
    struct cpu_exit x = run_owned(&h, 10);
    CHECK(is_fault(x, X86_DB));
    CHECK_EQ(h.cpu.s.eip, CODE + 1);
    CHECK_EQ(h.cpu.s.regs[R_EBX], 0);
    CHECK(h.cpu.s.dr[6] & DR6_B0);

    h.cpu.s.eflags |= EFLAGS_RF;                    /* as IRET from the handler would */
    cpu_state_changed(&h.cpu);
    x = run_owned(&h, 1);
    CHECK_EQ(x.reason, CPU_EXIT_BUDGET);
    CHECK_EQ(h.cpu.s.regs[R_EBX], 1);
    CHECK_EQ(cpu_get_eflags(&h.cpu) & EFLAGS_RF, 0);
    harness_destroy(&h);
}

/* SDM Vol. 3B 17.3.1.4: TF = 1 traps after one instruction with DR6.BS. */
TEST(tf_single_step_traps_after_one_instruction)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, CODE, "\x40\x43\xf4", 3);
    h.cpu.s.eflags |= EFLAGS_TF;
    cpu_state_changed(&h.cpu);
    struct cpu_exit x = run_owned(&h, 10);
    CHECK(is_fault(x, X86_DB));
    CHECK_EQ(h.cpu.s.eip, CODE + 1);               /* a trap: past the instruction */
    CHECK_EQ(h.cpu.s.regs[R_EAX], 1);
    CHECK_EQ(h.cpu.s.regs[R_EBX], 0);
    CHECK(h.cpu.s.dr[6] & DR6_BS);
    harness_destroy(&h);
}

/*
 * SDM Vol. 3B 17.2.5 and 17.3.1.2: a write watchpoint (DR1, R/W1 = 01,
 * LEN1 = 11: four bytes) fires as a trap after an instruction writing any
 * byte of the aligned dword, with DR6.B1.
 */
TEST(dr1_write_watchpoint_len4_traps_after_write)
{
    struct harness h;
    harness_init(&h, 0);
    /* mov eax, [0x2000] (a read: no hit); mov [0x2002], al; inc ebx; hlt */
    harness_code(&h, CODE, "\xa1\x00\x20\x00\x00" "\xa2\x02\x20\x00\x00" "\x43\xf4", 12);
    h.cpu.s.dr[1] = 0x2001;                        /* aligned range 0x2000-0x2003 */
    h.cpu.s.dr[7] = DR7_FIXED1 | (1u << 2) | (1u << 20) | (3u << 22);
    cpu_state_changed(&h.cpu);
    struct cpu_exit x = run_owned(&h, 10);
    CHECK(is_fault(x, X86_DB));
    CHECK_EQ(h.cpu.s.eip, CODE + 10);
    CHECK_EQ(h.cpu.s.regs[R_EBX], 0);
    CHECK(h.cpu.s.dr[6] & (DR6_B0 << 1));
    harness_destroy(&h);
}

/* SDM Vol. 3B 17.2.4: with DR7.GD, MOV DR is a #DB fault with DR6.BD; GD is cleared. */
TEST(dr7_gd_faults_mov_dr)
{
    struct harness h;
    harness_init(&h, 0);
    h.cpu.s.dr[7] = DR7_FIXED1 | DR7_GD;
    harness_code(&h, CODE, "\x0f\x21\xc0", 3);     /* mov eax, dr0 */
    struct cpu_exit x = run_owned(&h, 1);
    CHECK(is_fault(x, X86_DB));
    CHECK(h.cpu.s.dr[6] & DR6_BD);
    CHECK_EQ(h.cpu.s.dr[7] & DR7_GD, 0);
    CHECK_EQ(h.cpu.s.eip, CODE);
    harness_destroy(&h);
}

/* SDM Vol. 2B SGDT: unprivileged - runs at CPL 3 without a fault. */
TEST(sgdt_at_cpl3_runs)
{
    struct harness h;
    harness_init(&h, 3);
    harness_code(&h, CODE, "\x0f\x01\x05\x00\x30\x00\x00", 7); /* sgdt [0x3000] */
    struct cpu_exit x = run_owned(&h, 1);
    CHECK_EQ(x.reason, CPU_EXIT_BUDGET);
    uint8_t m[6];
    cpu_read_linear(&h.cpu, 0x3000, m, 6);
    CHECK_EQ(m[0] | (m[1] << 8), h.cpu.s.gdtr.limit);
    CHECK_EQ((uint32_t)m[2] | (uint32_t)m[3] << 8 | (uint32_t)m[4] << 16 | (uint32_t)m[5] << 24,
             HARNESS_GDT);
    harness_destroy(&h);
}

/* SDM Vol. 2A LGDT: "#GP(0) If the current privilege level is not 0." */
TEST(lgdt_at_cpl3_is_gp0)
{
    struct harness h;
    harness_init(&h, 3);
    harness_code(&h, CODE, "\x0f\x01\x15\x00\x30\x00\x00", 7); /* lgdt [0x3000] */
    CHECK(is_fault(run_owned(&h, 1), X86_GP));
    harness_destroy(&h);
}

/* SDM Vol. 2A LTR: loads TR from an available TSS and marks it busy in the GDT. */
TEST(ltr_marks_tss_busy)
{
    struct harness h;
    harness_init(&h, 0);
    /* GDT entry 7 (selector 0x38): 32-bit available TSS at 0x4000, limit 0x67. */
    uint32_t desc[2] = { 0x40000067u, 0x00008900u };
    bus_write_block(&h.bus, HARNESS_GDT + 7 * 8, desc, 8);
    h.cpu.s.gdtr.limit = 8 * 8 - 1;
    h.cpu.s.regs[R_EAX] = 0x38;
    harness_code(&h, CODE, "\x0f\x00\xd8", 3);     /* ltr ax */
    struct cpu_exit x = run_owned(&h, 1);
    CHECK_EQ(x.reason, CPU_EXIT_BUDGET);
    CHECK_EQ(h.cpu.s.tr.selector, 0x38);
    CHECK_EQ(h.cpu.s.tr.base, 0x4000);
    uint32_t hi;
    cpu_read_linear(&h.cpu, HARNESS_GDT + 7 * 8 + 4, &hi, 4);
    CHECK_EQ((hi >> 8) & 0xF, 0xB);                /* busy 32-bit TSS */
    harness_destroy(&h);
}

/* SDM Vol. 2A LAR: a data segment of DPL 0 is invisible at CPL 3 (ZF = 0). */
TEST(lar_checks_privilege)
{
    struct harness h;
    harness_init(&h, 3);
    h.cpu.s.regs[R_ECX] = 0x10;                    /* ring-0 data */
    h.cpu.s.regs[R_EDX] = 0x33;                    /* ring-3 data */
    harness_code(&h, CODE, "\x0f\x02\xc1\x0f\x02\xda", 6); /* lar eax, cx; lar ebx, dx */
    run_owned(&h, 1);
    CHECK_EQ(cpu_get_eflags(&h.cpu) & EFLAGS_ZF, 0);
    run_owned(&h, 1);
    CHECK(cpu_get_eflags(&h.cpu) & EFLAGS_ZF);
    CHECK_EQ(h.cpu.s.regs[R_EBX], 0x00C0F300u);    /* G, D/B, P, DPL 3, S, data RW accessed */
    harness_destroy(&h);
}

/* SDM Vol. 2B STI: IF = 0 -> 1 inhibits interrupts for one instruction. */
TEST(sti_sets_interrupt_shadow)
{
    struct harness h;
    harness_init(&h, 0);
    harness_code(&h, CODE, "\xfb\x90", 2);
    struct cpu_exit x = cpu_run(&h.cpu, 0, true);
    CHECK_EQ(x.reason, CPU_EXIT_STEP);
    CHECK_EQ(h.cpu.s.interrupt_shadow, 1);
    CHECK(cpu_get_eflags(&h.cpu) & EFLAGS_IF);
    harness_destroy(&h);
}

/* SDM Vol. 2A SLDT/STR and the group-6 exceptions: #UD in real mode. */
TEST(group6_is_ud_in_real_mode)
{
    struct harness h;
    harness_init(&h, 0);
    h.cpu.s.cr0 &= ~CR0_PE;
    cpu_state_changed(&h.cpu);
    harness_code(&h, CODE, "\x0f\x00\xc0", 3);     /* sldt ax */
    CHECK(is_fault(run_owned(&h, 1), X86_UD));
    harness_destroy(&h);
}

TEST_MAIN()
