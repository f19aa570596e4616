/*
 * test_log.c - the log channels (base/log.c): the -d list parser, the
 * mask, -D files, the help text, and the register dump's layout
 * (cpu/state_dump.c) against lines qemu-system-i386 7.2 printed for the
 * same state (`-d int` on build/guests/pmode.elf, its #GP at 0008:001000d5).
 *
 * The names are QEMU's (`qemu-system-i386 -d help`): a list QEMU accepts
 * for these items is accepted the same way here.
 */
#include <errno.h>
#include <stdio.h>

#include "base/log.h"
#include "cpu/state_dump.h"
#include "tests/test.h"

TEST(parse_one_item)
{
    uint32_t m = 0xDEAD;
    char why[512];
    CHECK_EQ(log_parse_list("int", &m, why, sizeof why), 0);
    CHECK_EQ(m, LOG_MASK_OF(LOG_INT));
}

TEST(parse_qemu_osdev_list)
{
    /* The list OSDev's wiki gives for debugging a kernel under QEMU. */
    uint32_t m = 0;
    char why[512];
    CHECK_EQ(log_parse_list("int,cpu_reset,guest_errors,unimp", &m, why, sizeof why), 0);
    CHECK_EQ(m, LOG_MASK_OF(LOG_INT) | LOG_MASK_OF(LOG_CPU_RESET) | LOG_MASK_OF(LOG_GUEST_ERRORS) |
                LOG_MASK_OF(LOG_UNIMP));
}

TEST(parse_every_name_round_trips)
{
    char why[512], names[256];
    for (int ch = 0; ch < LOG_CHANNEL_COUNT; ch++) {
        uint32_t m = 0;
        CHECK(log_channel_name(ch) != NULL);
        CHECK_EQ(log_parse_list(log_channel_name(ch), &m, why, sizeof why), 0);
        CHECK_EQ(m, LOG_MASK_OF(ch));
        log_mask_names(m, names, sizeof names);
        CHECK_STR(names, log_channel_name(ch));
    }
    CHECK(log_channel_name(LOG_CHANNEL_COUNT) == NULL);
    CHECK(log_channel_name(-1) == NULL);
}

TEST(parse_all_and_none)
{
    uint32_t m = 0;
    char why[512], names[256];
    CHECK_EQ(log_parse_list("all", &m, why, sizeof why), 0);
    CHECK_EQ(m, LOG_ALL_MASK);
    CHECK_EQ(log_parse_list("none", &m, why, sizeof why), 0);
    CHECK_EQ(m, 0);
    log_mask_names(0, names, sizeof names);
    CHECK_STR(names, "none");
    CHECK_EQ(log_parse_list("mmu,pcall", &m, why, sizeof why), 0);
    log_mask_names(m, names, sizeof names);
    CHECK_STR(names, "mmu,pcall");   /* in -d help's order */
}

TEST(parse_unknown_item_names_it_and_the_valid_ones)
{
    uint32_t m = 0x55;
    char why[512];
    CHECK_EQ(log_parse_list("int,bogus,mmu", &m, why, sizeof why), -1);
    CHECK_EQ(m, 0x55);                        /* untouched on error */
    CHECK(strstr(why, "'bogus'") != NULL);
    CHECK(strstr(why, "cpu_reset") != NULL);  /* the valid names are listed */
    CHECK(strchr(why, '\n') == NULL);         /* one line */
}

TEST(parse_prefix_is_not_a_name)
{
    uint32_t m;
    char why[512];
    CHECK_EQ(log_parse_list("in", &m, why, sizeof why), -1);       /* not in_asm, not int */
    CHECK_EQ(log_parse_list("int_", &m, why, sizeof why), -1);
    CHECK_EQ(log_parse_list("INT", &m, why, sizeof why), -1);      /* QEMU's names are lower case */
}

TEST(parse_empty_items_and_trace_refused)
{
    uint32_t m;
    char why[512];
    CHECK_EQ(log_parse_list("", &m, why, sizeof why), -1);
    CHECK_EQ(log_parse_list("int,", &m, why, sizeof why), -1);
    CHECK_EQ(log_parse_list(",int", &m, why, sizeof why), -1);
    CHECK_EQ(log_parse_list("trace:kvm_*", &m, why, sizeof why), -1);
    CHECK(strstr(why, "trace") != NULL);
}

TEST(mask_gates_log_on)
{
    log_set_mask(LOG_MASK_OF(LOG_UNIMP));
    CHECK(LOG_ON(LOG_UNIMP));
    CHECK(!LOG_ON(LOG_INT));
    log_set_mask(0xFFFFFFFFu);                /* bits past the last channel are dropped */
    CHECK_EQ(log_mask, LOG_ALL_MASK);
    log_set_mask(0);
    CHECK(!LOG_ON(LOG_UNIMP));
}

/* log_msg's arguments are evaluated only when the channel is on. */
static int evaluated;
static int count_evaluation(void) { return ++evaluated; }

TEST(log_msg_off_evaluates_nothing)
{
    evaluated = 0;
    log_set_mask(0);
    log_msg(LOG_UNIMP, "%d\n", count_evaluation());
    CHECK_EQ(evaluated, 0);
}

TEST(log_file_receives_lines)
{
    char path[] = "/tmp/trapeze-log-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    close(fd);
    CHECK_EQ(log_set_file(path), 0);
    CHECK_STR(log_file_name(), path);
    log_set_mask(LOG_MASK_OF(LOG_GUEST_ERRORS));
    log_msg(LOG_GUEST_ERRORS, "guest_errors: %s\n", "one");
    log_msg(LOG_UNIMP, "unimp: %s\n", "not on");
    log_set_mask(0);
    CHECK_EQ(log_set_file(NULL), 0);
    CHECK(log_file_name() == NULL);
    FILE *f = fopen(path, "r");
    char buf[128] = "";
    CHECK(f != NULL);
    if (f) {
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    CHECK_STR(buf, "guest_errors: one\n");
    unlink(path);
}

TEST(log_file_bad_path_keeps_the_old_stream)
{
    CHECK_EQ(log_set_file("/nonexistent-dir/x.log"), -ENOENT);
    CHECK(log_file_name() == NULL);
    CHECK(log_stream() == stderr);
}

TEST(help_lists_every_channel_once)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    log_print_help(f);
    fclose(f);
    CHECK(strncmp(text, "Log items (comma separated):\n", 29) == 0);
    for (int ch = 0; ch < LOG_CHANNEL_COUNT; ch++) {
        char line_start[32];
        snprintf(line_start, sizeof line_start, "\n%-15s ", log_channel_name(ch));
        const char *at = strstr(text, line_start);
        CHECK(at != NULL);
        if (at) CHECK(strstr(at + 1, line_start) == NULL);
    }
    free(text);
}

/*
 * The state of pmode.elf's #GP(1000h) at 0008:001000d5 (MOV DS with a
 * selector past the GDT limit), and the lines QEMU 7.2 printed for it,
 * less the CCS/CCD/CCO and EFER lines trapeze leaves out.  CS's and TR's
 * type bits are QEMU's here (not accessed / available), as its cache had them.
 */
TEST(state_dump_matches_qemu_layout)
{
    struct x86_state s;
    memset(&s, 0, sizeof s);
    s.regs[R_EAX] = 0x00101000; s.regs[R_EBX] = 0x00000008; s.regs[R_ECX] = 0; s.regs[R_EDX] = 0x00100093;
    s.regs[R_ESI] = 0x00100db0; s.regs[R_EDI] = 0x00102400; s.regs[R_EBP] = 0x20; s.regs[R_ESP] = 0x00109964;
    s.eip = 0x001000d5;
    s.eflags = 0x46;
    struct x86_segment data = { 0x10, 0xC093, 0, 0xFFFFFFFFu };
    s.seg[SEG_ES] = s.seg[SEG_SS] = s.seg[SEG_DS] = s.seg[SEG_FS] = s.seg[SEG_GS] = data;
    s.seg[SEG_CS] = (struct x86_segment){ 0x08, 0xC09A, 0, 0xFFFFFFFFu };
    s.ldtr = (struct x86_segment){ 0, 0x0082, 0, 0xFFFF };
    s.tr = (struct x86_segment){ 0x28, 0x0089, 0x00102800, 0x67 };
    s.gdtr = (struct x86_dtable){ 0x00101000, 0x4f };
    s.idtr = (struct x86_dtable){ 0x00102000, 0x7ff };
    s.cr0 = 0x11;
    s.dr[6] = 0xffff0ff0; s.dr[7] = 0x400;
    s.a20_enabled = true;

    static const char qemu[] =
        "EAX=00101000 EBX=00000008 ECX=00000000 EDX=00100093\n"
        "ESI=00100db0 EDI=00102400 EBP=00000020 ESP=00109964\n"
        "EIP=001000d5 EFL=00000046 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=0\n"
        "ES =0010 00000000 ffffffff 00cf9300 DPL=0 DS   [-WA]\n"
        "CS =0008 00000000 ffffffff 00cf9a00 DPL=0 CS32 [-R-]\n"
        "SS =0010 00000000 ffffffff 00cf9300 DPL=0 DS   [-WA]\n"
        "DS =0010 00000000 ffffffff 00cf9300 DPL=0 DS   [-WA]\n"
        "FS =0010 00000000 ffffffff 00cf9300 DPL=0 DS   [-WA]\n"
        "GS =0010 00000000 ffffffff 00cf9300 DPL=0 DS   [-WA]\n"
        "LDT=0000 00000000 0000ffff 00008200 DPL=0 LDT\n"
        "TR =0028 00102800 00000067 00008900 DPL=0 TSS32-avl\n"
        "GDT=     00101000 0000004f\n"
        "IDT=     00102000 000007ff\n"
        "CR0=00000011 CR2=00000000 CR3=00000000 CR4=00000000\n"
        "DR0=00000000 DR1=00000000 DR2=00000000 DR3=00000000 \n"
        "DR6=ffff0ff0 DR7=00000400\n";
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    x86_state_dump(&s, f);
    fclose(f);
    CHECK_STR(text, qemu);
    free(text);
}

/* Real mode: the four numbers only (QEMU's dump before PE is set). */
TEST(state_dump_real_mode_segments)
{
    struct x86_state s;
    x86_state_power_on(&s, 0x525);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    x86_state_dump(&s, f);
    fclose(f);
    CHECK(strstr(text, "\nCS =f000 ffff0000 0000ffff 00009b00\n") != NULL);
    CHECK(strstr(text, "EIP=0000fff0 EFL=00000002 [-------] CPL=0") != NULL);
    free(text);
}

TEST_MAIN()
