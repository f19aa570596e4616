/*
 * test_alu.c - integer arithmetic corner cases that the SDM states
 * outright: faults that must leave registers alone, counts that wrap,
 * flags that must or must not change.  Each test runs one instruction
 * (cpu_run with step = true) in the flat 32-bit harness, with every
 * exception owned (exit_on_exception), so a fault comes back as an exit
 * with EIP still at the instruction.
 */
#include "cpu/cpu_internal.h"
#include "tests/cpu_harness.h"
#include "tests/test.h"

#define CODE 0x1000u
#define DATA 0x3000u

static void setup(struct harness *h)
{
    harness_init(h, 0);
    h->cpu.exit_on_exception = 0xFFFFFFFFu;
}

/* Set the whole EFLAGS (arithmetic bits included) before an instruction. */
static void set_flags(struct harness *h, uint32_t f)
{
    h->cpu.s.eflags = EFLAGS_FIXED1 | f;
    h->cpu.lf.op = LF_NONE;
}

static uint32_t arith(struct harness *h) { return cpu_get_eflags(&h->cpu) & EFLAGS_ARITH; }

/* Run the 'len' code bytes as one instruction at CODE. */
static struct cpu_exit run1(struct harness *h, const char *code, uint32_t len)
{
    harness_code(h, CODE, code, len);
    return cpu_run(&h->cpu, 0, true);
}

static void check_step(struct harness *h, struct cpu_exit x, uint32_t len)
{
    CHECK_EQ(x.reason, CPU_EXIT_STEP);
    CHECK_EQ(h->cpu.s.eip, CODE + len);
}

static void check_fault(struct harness *h, struct cpu_exit x, int vector)
{
    CHECK_EQ(x.reason, CPU_EXIT_EXCEPTION);
    CHECK_EQ(x.vector, vector);
    CHECK_EQ(h->cpu.s.eip, CODE);
}

/* ---------- ADD/ADC/SBB/NEG conventions ---------- */

/* ADC EAX, EBX (11 D8) with CF = 1: FFFFFFFF + 0 + 1 = 0, CF = 1, ZF = 1. */
TEST(adc_carry_in_wraps)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0xFFFFFFFFu;
    h.cpu.s.regs[R_EBX] = 0;
    set_flags(&h, EFLAGS_CF);
    check_step(&h, run1(&h, "\x11\xd8", 2), 2);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0);
    CHECK_EQ(arith(&h) & (EFLAGS_CF | EFLAGS_ZF | EFLAGS_OF), EFLAGS_CF | EFLAGS_ZF);
    harness_destroy(&h);
}

/* SBB AL, 0 (1C 00) with CF = 1 and AL = 0: FF, CF = 1, AF = 1. */
TEST(sbb_borrow_in)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0x12345600u;
    set_flags(&h, EFLAGS_CF);
    check_step(&h, run1(&h, "\x1c\x00", 2), 2);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x123456FFu);
    CHECK_EQ(arith(&h), EFLAGS_CF | EFLAGS_AF | EFLAGS_SF | EFLAGS_PF);
    harness_destroy(&h);
}

/*
 * ADD AL, 8 (04 08) with AL = 08: 10.  AF is the carry out of bit 3
 * (SDM Vol. 1 3.4.3.1), so AF = 1 though bit 3 of the result is 0;
 * 10h has one bit set, so PF = 0.
 */
TEST(add_af_is_carry_out_of_bit3)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0x08;
    set_flags(&h, 0);
    check_step(&h, run1(&h, "\x04\x08", 2), 2);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x10);
    CHECK_EQ(arith(&h), EFLAGS_AF);
    harness_destroy(&h);
}

/* 83 C0 FF is ADD EAX, -1: the imm8 is sign-extended (SDM Vol. 2A ADD). */
TEST(grp1_imm8_sign_extended)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 5;
    check_step(&h, run1(&h, "\x83\xc0\xff", 3), 3);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 4);
    CHECK(arith(&h) & EFLAGS_CF);   /* 5 + FFFFFFFF carries */
    harness_destroy(&h);
}

/* NEG: CF = (operand != 0); NEG AL with AL = 80 gives 80 with OF = 1 (SDM Vol. 2B NEG). */
TEST(neg_flags)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0;
    check_step(&h, run1(&h, "\xf6\xd8", 2), 2);   /* neg al */
    CHECK_EQ(arith(&h) & (EFLAGS_CF | EFLAGS_ZF), EFLAGS_ZF);
    h.cpu.s.regs[R_EAX] = 0x80;
    check_step(&h, run1(&h, "\xf6\xd8", 2), 2);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x80);
    CHECK_EQ(arith(&h) & (EFLAGS_CF | EFLAGS_OF), EFLAGS_CF | EFLAGS_OF);
    harness_destroy(&h);
}

/* INC keeps CF (SDM Vol. 2A INC). */
TEST(inc_keeps_cf)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_ECX] = 0xFFFFFFFFu;
    set_flags(&h, EFLAGS_CF);
    check_step(&h, run1(&h, "\x41", 1), 1);       /* inc ecx */
    CHECK_EQ(h.cpu.s.regs[R_ECX], 0);
    CHECK_EQ(arith(&h) & (EFLAGS_CF | EFLAGS_ZF), EFLAGS_CF | EFLAGS_ZF);
    harness_destroy(&h);
}

/* ---------- LOCK ---------- */

/* LOCK ADD to a register is #UD; to memory it runs; LOCK CMP is #UD (SDM Vol. 2A LOCK). */
TEST(lock_rules)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 7;
    check_fault(&h, run1(&h, "\xf0\x01\xc0", 3), X86_UD);        /* lock add eax, eax */
    CHECK_EQ(h.cpu.s.regs[R_EAX], 7);
    h.cpu.s.regs[R_EBX] = DATA;
    check_step(&h, run1(&h, "\xf0\x01\x03", 3), 3);              /* lock add [ebx], eax */
    CHECK_EQ(bus_read(&h.bus, DATA, 4), 7);
    check_fault(&h, run1(&h, "\xf0\x39\x03", 3), X86_UD);        /* lock cmp [ebx], eax */
    check_fault(&h, run1(&h, "\xf0\x0f\xa3\x03", 4), X86_UD);    /* lock bt [ebx], eax */
    check_step(&h, run1(&h, "\xf0\x0f\xab\x03", 4), 4);          /* lock bts [ebx], eax */
    CHECK_EQ(bus_read(&h.bus, DATA, 4), 0x87);
    harness_destroy(&h);
}

/* ---------- MUL / DIV ---------- */

/* MUL BL (F6 E3): 10h * 10h = 100h in AX, upper half nonzero: CF = OF = 1. */
TEST(mul8_sets_cf_of)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0xAAAA0010u;
    h.cpu.s.regs[R_EBX] = 0x10;
    check_step(&h, run1(&h, "\xf6\xe3", 2), 2);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0xAAAA0100u);
    CHECK_EQ(arith(&h) & (EFLAGS_CF | EFLAGS_OF), EFLAGS_CF | EFLAGS_OF);
    harness_destroy(&h);
}

/* DIV EBX (F7 F3) with EDX:EAX = 1:0, EBX = 1: quotient too large, #DE, nothing changed. */
TEST(div_overflow_faults_before_writing)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EDX] = 1;
    h.cpu.s.regs[R_EAX] = 0;
    h.cpu.s.regs[R_EBX] = 1;
    set_flags(&h, EFLAGS_ZF | EFLAGS_CF);
    check_fault(&h, run1(&h, "\xf7\xf3", 2), X86_DE);
    CHECK_EQ(h.cpu.s.regs[R_EDX], 1);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0);
    CHECK_EQ(arith(&h), EFLAGS_ZF | EFLAGS_CF);
    harness_destroy(&h);
}

/* DIV BL with BL = 0 is #DE; AX unchanged. */
TEST(div_by_zero)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0x1234;
    h.cpu.s.regs[R_EBX] = 0x100;   /* BL = 0 */
    check_fault(&h, run1(&h, "\xf6\xf3", 2), X86_DE);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x1234);
    harness_destroy(&h);
}

/* IDIV ECX with EDX:EAX = -2^31 (sign-extended) and ECX = -1: the quotient
 * +2^31 does not fit EAX, #DE (SDM Vol. 2A IDIV). */
TEST(idiv_int_min_by_minus_one)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EDX] = 0xFFFFFFFFu;
    h.cpu.s.regs[R_EAX] = 0x80000000u;
    h.cpu.s.regs[R_ECX] = 0xFFFFFFFFu;
    check_fault(&h, run1(&h, "\xf7\xf9", 2), X86_DE);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x80000000u);
    /* The 64-bit most negative dividend, the one C cannot divide by -1. */
    h.cpu.s.regs[R_EDX] = 0x80000000u;
    h.cpu.s.regs[R_EAX] = 0;
    check_fault(&h, run1(&h, "\xf7\xf9", 2), X86_DE);
    CHECK_EQ(h.cpu.s.regs[R_EDX], 0x80000000u);
    harness_destroy(&h);
}

/* IDIV BL: -7 / 2 = -3 remainder -1 (truncation toward zero). */
TEST(idiv8_truncates_toward_zero)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0xFFF9;  /* AX = -7 */
    h.cpu.s.regs[R_EBX] = 2;
    check_step(&h, run1(&h, "\xf6\xfb", 2), 2);
    CHECK_EQ(h.cpu.s.regs[R_EAX] & 0xFFFF, 0xFFFD);   /* AH = -1, AL = -3 */
    harness_destroy(&h);
}

/* IMUL EAX, EBX, -1 (6B C3 FF): imm8 sign-extended, 5 * -1 = -5, no overflow. */
TEST(imul_imm8_sign_extended)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EBX] = 5;
    check_step(&h, run1(&h, "\x6b\xc3\xff", 3), 3);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0xFFFFFFFBu);
    CHECK_EQ(arith(&h) & (EFLAGS_CF | EFLAGS_OF), 0);
    /* 66 0F AF C3: IMUL AX, BX with 0x4000 * 2 overflows 16 bits signed. */
    h.cpu.s.regs[R_EAX] = 0x4000;
    h.cpu.s.regs[R_EBX] = 2;
    check_step(&h, run1(&h, "\x66\x0f\xaf\xc3", 4), 4);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x8000);
    CHECK_EQ(arith(&h) & (EFLAGS_CF | EFLAGS_OF), EFLAGS_CF | EFLAGS_OF);
    harness_destroy(&h);
}

/* ---------- shifts and rotates ---------- */

/* RCL AL, 9 (C0 D0 09): 8-bit RCL rotates mod 9, so nothing changes. */
TEST(rcl8_count9_is_identity)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0x81;
    set_flags(&h, EFLAGS_CF);
    check_step(&h, run1(&h, "\xc0\xd0\x09", 3), 3);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x81);
    CHECK(arith(&h) & EFLAGS_CF);
    harness_destroy(&h);
}

/* RCL AL, 8 with CF:AL = 0:01 rotates the 9-bit value to 1:00. */
TEST(rcl8_count8_through_carry)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0x01;
    set_flags(&h, 0);
    check_step(&h, run1(&h, "\xc0\xd0\x08", 3), 3);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x00);
    CHECK(arith(&h) & EFLAGS_CF);
    harness_destroy(&h);
}

/* ROL AL, 8: the value is unchanged but CF := LSB(result) still (SDM Vol. 2B ROL). */
TEST(rol8_count8_updates_cf)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0x81;
    set_flags(&h, 0);
    check_step(&h, run1(&h, "\xc0\xc0\x08", 3), 3);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x81);
    CHECK(arith(&h) & EFLAGS_CF);
    harness_destroy(&h);
}

/* SHL EAX, 32 (C1 E0 20): the count masks to 0, so no flag changes. */
TEST(shift_masked_count_zero_keeps_flags)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0x80000001u;
    set_flags(&h, EFLAGS_ZF | EFLAGS_OF | EFLAGS_AF);
    check_step(&h, run1(&h, "\xc1\xe0\x20", 3), 3);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x80000001u);
    CHECK_EQ(arith(&h), EFLAGS_ZF | EFLAGS_OF | EFLAGS_AF);
    harness_destroy(&h);
}

/* SHL AL, 1 with AL = 0xC0: result 0x80, CF = 1, OF = MSB XOR CF = 0. SAR AL,1 of 0x80: 0xC0, CF 0, OF 0. */
TEST(shift_by_one_flags)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0xC0;
    check_step(&h, run1(&h, "\xd0\xe0", 2), 2);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x80);
    CHECK_EQ(arith(&h) & (EFLAGS_CF | EFLAGS_OF | EFLAGS_SF | EFLAGS_ZF), EFLAGS_CF | EFLAGS_SF);
    check_step(&h, run1(&h, "\xd0\xf8", 2), 2);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0xC0);
    CHECK_EQ(arith(&h) & (EFLAGS_CF | EFLAGS_OF), 0);
    /* SHR AL, 1 of 0xC0: 0x60, OF = old MSB = 1. */
    check_step(&h, run1(&h, "\xd0\xe8", 2), 2);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x60);
    CHECK_EQ(arith(&h) & (EFLAGS_CF | EFLAGS_OF), EFLAGS_OF);
    harness_destroy(&h);
}

/* SHLD EAX, EBX, 4 (0F A4 D8 04) and SHRD EAX, EBX, 4 (0F AC D8 04). */
TEST(shld_shrd)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0x12345678u;
    h.cpu.s.regs[R_EBX] = 0x9ABCDEF0u;
    check_step(&h, run1(&h, "\x0f\xa4\xd8\x04", 4), 4);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x23456789u);
    CHECK_EQ(arith(&h) & EFLAGS_CF, EFLAGS_CF);   /* bit 28 of 0x12345678 */
    h.cpu.s.regs[R_EAX] = 0x12345678u;
    check_step(&h, run1(&h, "\x0f\xac\xd8\x04", 4), 4);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x01234567u);
    CHECK_EQ(arith(&h) & EFLAGS_CF, EFLAGS_CF);   /* bit 3 of 0x12345678 */
    harness_destroy(&h);
}

/* ---------- BCD ---------- */

/* AAM 0 (D4 00) raises #DE and leaves AX (SDM Vol. 2A AAM). */
TEST(aam_zero_raises_de)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0x1234;
    check_fault(&h, run1(&h, "\xd4\x00", 2), X86_DE);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x1234);
    check_step(&h, run1(&h, "\xd4\x0a", 2), 2);    /* AL = 0x34 = 52: AH 5, AL 2 */
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x0502);
    check_step(&h, run1(&h, "\xd5\x0a", 2), 2);    /* AAD back: 52 */
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x0034);
    harness_destroy(&h);
}

/* SDM Vol. 2A DAA example: 79 + 35 = AE, DAA gives 14 with CF = 1. */
TEST(daa_example)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0x79;
    h.cpu.s.regs[R_EBX] = 0x35;
    check_step(&h, run1(&h, "\x00\xd8", 2), 2);    /* add al, bl */
    check_step(&h, run1(&h, "\x27", 1), 1);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x14);
    CHECK_EQ(arith(&h) & (EFLAGS_CF | EFLAGS_AF), EFLAGS_CF | EFLAGS_AF);
    harness_destroy(&h);
}

/* DAS with AL = 03, AF = 1, CF = 0: AL = FD and the borrow stays in CF. */
TEST(das_keeps_first_borrow)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0x03;
    set_flags(&h, EFLAGS_AF);
    check_step(&h, run1(&h, "\x2f", 1), 1);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0xFD);
    CHECK_EQ(arith(&h) & (EFLAGS_CF | EFLAGS_AF), EFLAGS_CF | EFLAGS_AF);
    harness_destroy(&h);
}

/* AAA adds 106H to AX as a whole: AX = 00FA becomes 0200 (the carry of AL + 6 reaches AH). */
TEST(aaa_adjusts_ax)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0x00FA;
    set_flags(&h, 0);
    check_step(&h, run1(&h, "\x37", 1), 1);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x0200);
    CHECK_EQ(arith(&h) & (EFLAGS_CF | EFLAGS_AF), EFLAGS_CF | EFLAGS_AF);
    harness_destroy(&h);
}

/* ---------- bit instructions ---------- */

/* BT [EBX], EAX with EAX = -1 tests bit 31 of the dword at EBX - 4 (SDM Vol. 2A BT). */
TEST(bt_negative_memory_offset)
{
    struct harness h;
    setup(&h);
    bus_write(&h.bus, DATA - 4, 0x80000000u, 4);
    h.cpu.s.regs[R_EBX] = DATA;
    h.cpu.s.regs[R_EAX] = 0xFFFFFFFFu;
    set_flags(&h, EFLAGS_ZF);
    check_step(&h, run1(&h, "\x0f\xa3\x03", 3), 3);
    CHECK_EQ(arith(&h), EFLAGS_CF | EFLAGS_ZF);   /* ZF unaffected */
    /* BTR clears it there; the operand at EBX is untouched. */
    check_step(&h, run1(&h, "\x0f\xb3\x03", 3), 3);
    CHECK_EQ(bus_read(&h.bus, DATA - 4, 4), 0);
    /* 16-bit: BTS [EBX], AX with AX = -1 sets bit 15 of the word at EBX - 2. */
    check_step(&h, run1(&h, "\x66\x0f\xab\x03", 4), 4);
    CHECK_EQ(bus_read(&h.bus, DATA - 4, 4), 0x80000000u);
    /* Large positive offset 100: dword at EBX + 12, bit 4. */
    h.cpu.s.regs[R_EAX] = 100;
    check_step(&h, run1(&h, "\x0f\xab\x03", 3), 3);
    CHECK_EQ(bus_read(&h.bus, DATA + 12, 4), 0x10);
    harness_destroy(&h);
}

/* BT EAX, ECX with ECX = 33 tests bit 1 (register operand: offset mod 32). */
TEST(bt_register_offset_wraps)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 2;
    h.cpu.s.regs[R_ECX] = 33;
    check_step(&h, run1(&h, "\x0f\xa3\xc8", 3), 3);
    CHECK(arith(&h) & EFLAGS_CF);
    /* BTC EAX, 33 (0F BA F8 21): the immediate also wraps; bit 1 flips. */
    check_step(&h, run1(&h, "\x0f\xba\xf8\x21", 4), 4);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0);
    /* 0F BA /0 is #UD. */
    check_fault(&h, run1(&h, "\x0f\xba\xc0\x01", 4), X86_UD);
    harness_destroy(&h);
}

/* BSF with a zero source: ZF = 1 and the destination is unchanged. */
TEST(bsf_zero_source)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0xDEADBEEFu;
    h.cpu.s.regs[R_EBX] = 0;
    check_step(&h, run1(&h, "\x0f\xbc\xc3", 3), 3);   /* bsf eax, ebx */
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0xDEADBEEFu);
    CHECK(arith(&h) & EFLAGS_ZF);
    h.cpu.s.regs[R_EBX] = 0x00F0;
    check_step(&h, run1(&h, "\x0f\xbd\xc3", 3), 3);   /* bsr eax, ebx */
    CHECK_EQ(h.cpu.s.regs[R_EAX], 7);
    CHECK_EQ(arith(&h) & EFLAGS_ZF, 0);
    harness_destroy(&h);
}

/* CMOVZ EAX, [EBX] reads its source even when the condition is false:
 * beyond the DS limit that read faults #GP(0) (SDM Vol. 2A CMOVcc). */
TEST(cmov_false_condition_still_reads)
{
    struct harness h;
    setup(&h);
    h.cpu.s.seg[SEG_DS].limit = 0xFFF;
    cpu_state_changed(&h.cpu);
    h.cpu.s.regs[R_EAX] = 1;
    h.cpu.s.regs[R_EBX] = DATA;
    set_flags(&h, 0);
    check_fault(&h, run1(&h, "\x0f\x44\x03", 3), X86_GP);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 1);
    /* Within the limit, a false condition leaves EAX. */
    h.cpu.s.regs[R_EBX] = 0x800;
    check_step(&h, run1(&h, "\x0f\x44\x03", 3), 3);
    CHECK_EQ(h.cpu.s.regs[R_EAX], 1);
    harness_destroy(&h);
}

/* SETB AL / SETNB AL from CF; BSWAP EAX. */
TEST(setcc_and_bswap)
{
    struct harness h;
    setup(&h);
    h.cpu.s.regs[R_EAX] = 0x11223344u;
    set_flags(&h, EFLAGS_CF);
    check_step(&h, run1(&h, "\x0f\x92\xc0", 3), 3);   /* setb al */
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x11223301u);
    check_step(&h, run1(&h, "\x0f\x93\xc0", 3), 3);   /* setnb al */
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x11223300u);
    check_step(&h, run1(&h, "\x0f\xc8", 2), 2);       /* bswap eax */
    CHECK_EQ(h.cpu.s.regs[R_EAX], 0x00332211u);
    harness_destroy(&h);
}

TEST_MAIN()
