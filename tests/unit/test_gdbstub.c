/*
 * test_gdbstub.c - the GDB stub's packet layer (monitor/gdbstub.c) on a
 * fake engine: framing and checksums as the gdb manual's "Overview" of the
 * remote protocol defines them ("$data#cs", cs = sum of data mod 256, '+'/'-'
 * acks, '}' escapes XOR 0x20), the commands' replies, the real-mode address
 * convention, and random and malformed input (run under `make asan`: no
 * crash, no out-of-bounds access, every packet answered).
 */
#include <errno.h>

#include "monitor/gdbstub.h"
#include "tests/test.h"

/* ---------- a fake engine: registers and 64 KiB of memory ---------- */

#define FAKE_MEM 0x10000u

static struct x86_state fake_state;
static uint8_t fake_mem[FAKE_MEM];
static int fake_breakpoints, fake_watchpoints;

static void fake_get_state(struct engine *e, struct x86_state *s) { *s = fake_state; }
static void fake_set_state(struct engine *e, const struct x86_state *s) { fake_state = *s; }
static int fake_set_bp(struct engine *e, uint32_t lin) { fake_breakpoints++; return 0; }
static int fake_clear_bp(struct engine *e, uint32_t lin) { fake_breakpoints--; return 0; }
static int fake_set_wp(struct engine *e, uint32_t a, uint32_t l, enum engine_watch_kind k, bool p)
{
    if (l == 0 || a + (uint64_t)l > 0x100000000ull) return -EINVAL;
    fake_watchpoints++;
    return 0;
}
static int fake_clear_wp(struct engine *e, uint32_t a, uint32_t l, enum engine_watch_kind k, bool p)
{
    fake_watchpoints--;
    return 0;
}
static bool fake_read(struct engine *e, uint32_t lin, void *buf, uint32_t len)
{
    if (lin >= FAKE_MEM || len > FAKE_MEM - lin) return false;
    memcpy(buf, fake_mem + lin, len);
    return true;
}
static bool fake_write(struct engine *e, uint32_t lin, const void *buf, uint32_t len)
{
    if (lin >= FAKE_MEM || len > FAKE_MEM - lin) return false;
    memcpy(fake_mem + lin, buf, len);
    return true;
}

static const struct engine_ops fake_ops = {
    .name = "fake",
    .get_state = fake_get_state, .set_state = fake_set_state,
    .set_breakpoint = fake_set_bp, .clear_breakpoint = fake_clear_bp,
    .set_watchpoint = fake_set_wp, .clear_watchpoint = fake_clear_wp,
    .read_linear = fake_read, .write_linear = fake_write,
};

/* ---------- what the stub sends ---------- */

static char sent[1 << 16];
static size_t sent_len;

static void capture(void *opaque, const char *data, size_t len)
{
    if (len > sizeof sent - 1 - sent_len) len = sizeof sent - 1 - sent_len;
    memcpy(sent + sent_len, data, len);
    sent_len += len;
    sent[sent_len] = '\0';
}

static struct engine fake_engine = { .ops = &fake_ops };
static struct runner fake_runner;
static struct gdbstub stub;

static void setup(void)
{
    memset(&fake_state, 0, sizeof fake_state);
    memset(fake_mem, 0, sizeof fake_mem);
    fake_breakpoints = fake_watchpoints = 0;
    runner_init(&fake_runner, &fake_engine, NULL, NULL);
    gdbstub_init(&stub, &fake_runner);
    stub.write_hook = capture;
    sent_len = 0;
    sent[0] = '\0';
}

static void teardown(void)
{
    gdbstub_close(&stub);
}

/* Send "$body#cs" (checksum computed here, per the manual) and return the
 * reply's body (the text between '$' and '#'), after checking its frame. */
static const char *ask(const char *body, size_t len)
{
    static char reply[1 << 16];
    char frame[1 << 15];
    unsigned sum = 0;
    frame[0] = '$';
    memcpy(frame + 1, body, len);
    for (size_t i = 0; i < len; i++) sum += (uint8_t)body[i];
    snprintf(frame + 1 + len, 4, "#%02x", sum & 0xFF);
    sent_len = 0;
    sent[0] = '\0';
    stub.resume = GDB_RESUME_NONE;
    gdbstub_feed(&stub, (const uint8_t *)frame, len + 4);
    const char *p = sent;
    if (*p == '+') p++;
    if (*p != '$') return "<no reply>";
    const char *hash = strrchr(p, '#');
    if (!hash || strlen(hash) != 3) return "<bad frame>";
    unsigned got = 0, want = (unsigned)strtoul(hash + 1, NULL, 16);
    for (const char *q = p + 1; q < hash; q++) got += (uint8_t)*q;
    if ((got & 0xFF) != want) return "<bad checksum>";
    memcpy(reply, p + 1, (size_t)(hash - p - 1));
    reply[hash - p - 1] = '\0';
    return reply;
}

static const char *askz(const char *body) { return ask(body, strlen(body)); }

/* ---------- framing ---------- */

TEST(good_packet_is_acked_and_answered)
{
    setup();
    gdbstub_feed(&stub, (const uint8_t *)"$?#3f", 5);   /* '?' = 0x3f */
    CHECK_STR(sent, "+$T05thread:01;#07");
    teardown();
}

TEST(bad_checksum_gets_a_nak_and_no_reply)
{
    setup();
    gdbstub_feed(&stub, (const uint8_t *)"$?#00", 5);
    CHECK_STR(sent, "-");
    gdbstub_feed(&stub, (const uint8_t *)"$?#zz", 5);   /* not even hex */
    CHECK_STR(sent, "--");
    teardown();
}

TEST(nak_resends_the_last_reply)
{
    setup();
    gdbstub_feed(&stub, (const uint8_t *)"$?#3f", 5);
    sent_len = 0;
    gdbstub_feed(&stub, (const uint8_t *)"-", 1);
    CHECK_STR(sent, "$T05thread:01;#07");
    teardown();
}

TEST(no_ack_mode_stops_acks)
{
    setup();
    CHECK_STR(askz("QStartNoAckMode"), "OK");
    sent_len = 0;
    gdbstub_feed(&stub, (const uint8_t *)"$?#3f", 5);
    CHECK_STR(sent, "$T05thread:01;#07");
    teardown();
}

/* ---------- commands ---------- */

TEST(qsupported_and_target_xml)
{
    setup();
    const char *r = askz("qSupported:multiprocess+;swbreak+;hwbreak+");
    CHECK(strstr(r, "PacketSize=4000") != NULL);
    CHECK(strstr(r, "qXfer:features:read+") != NULL);
    CHECK(strstr(r, "swbreak+") != NULL);
    r = askz("qXfer:features:read:target.xml:0,fff");
    CHECK(r[0] == 'l');                                  /* all of it, last part */
    CHECK(strstr(r, "org.gnu.gdb.i386.core") != NULL);
    /* Stopped in real mode (CR0.PE = 0): 16-bit code, gdb's i8086. */
    CHECK(strstr(r, "<architecture>i8086</architecture>") != NULL);
    CHECK(strstr(r, "<osabi>none</osabi>") != NULL);
    CHECK(strstr(r, "name=\"gs\"") != NULL);
    /* gdb's i386 core feature needs the x87 registers too (gdb manual, "i386 Features"). */
    CHECK(strstr(r, "name=\"st7\" bitsize=\"80\"") != NULL);
    CHECK(strstr(r, "name=\"fop\"") != NULL);
    CHECK(strstr(r, "</target>") != NULL);
    fake_state.cr0 = CR0_PE;                             /* protected mode: i386 */
    r = askz("qXfer:features:read:target.xml:0,fff");
    CHECK(strstr(r, "<architecture>i386</architecture>") != NULL);
    fake_state.cr0 = 0;
    r = askz("qXfer:features:read:target.xml:0,10");
    CHECK(r[0] == 'm' && strlen(r) == 1 + 0x10);         /* more to come */
    CHECK_STR(askz("qXfer:features:read:target.xml:ffff,10"), "l");
    CHECK_STR(askz("qXfer:features:read:other.xml:0,10"), "E00");
    CHECK_STR(askz("qXfer:features:read:target.xml:zz"), "E01");
    teardown();
}

TEST(threads_and_misc)
{
    setup();
    CHECK_STR(askz("qC"), "QC01");
    CHECK_STR(askz("qAttached"), "1");
    CHECK_STR(askz("qfThreadInfo"), "m01");
    CHECK_STR(askz("qsThreadInfo"), "l");
    CHECK_STR(askz("Hg0"), "OK");
    CHECK_STR(askz("Hc-1"), "OK");
    CHECK_STR(askz("T01"), "OK");
    CHECK_STR(askz("T02"), "E01");
    CHECK_STR(askz("vCont?"), "vCont;c;C;s;S");
    CHECK_STR(askz("vMustReplyEmpty"), "");
    CHECK_STR(askz("bogus"), "");
    teardown();
}

/* 16 registers x 8 hex digits, little-endian, in gdb's i386 order. */
TEST(registers_in_protected_mode)
{
    setup();
    fake_state.cr0 = CR0_PE;
    fake_state.regs[R_EAX] = 0x11223344;
    fake_state.regs[R_EDI] = 0xDEADBEEF;
    fake_state.eip = 0x00100000;
    fake_state.eflags = 0x202;
    fake_state.seg[SEG_CS].selector = 0x08;
    fake_state.seg[SEG_GS].selector = 0x10;
    const char *r = askz("g");
    CHECK_EQ(strlen(r), 16 * 8);
    CHECK(strncmp(r, "44332211", 8) == 0);
    CHECK(strncmp(r + 7 * 8, "efbeadde", 8) == 0);
    CHECK(strncmp(r + 8 * 8, "00001000", 8) == 0);       /* EIP 0x100000 */
    CHECK(strncmp(r + 9 * 8, "02020000", 8) == 0);
    CHECK(strncmp(r + 10 * 8, "08000000", 8) == 0);      /* CS */
    CHECK(strncmp(r + 15 * 8, "10000000", 8) == 0);      /* GS */
    CHECK_STR(askz("p8"), "00001000");
    CHECK_STR(askz("P0=78563412"), "OK");
    CHECK_EQ(fake_state.regs[R_EAX], 0x12345678);
    CHECK_STR(askz("Pb=18000000"), "E03");               /* SS: no descriptor loads */
    CHECK_STR(askz("p10"), "xxxxxxxxxxxxxxxxxxxx");     /* st0: 10 bytes, unavailable (no FPU) */
    CHECK_STR(askz("p1f"), "xxxxxxxx");                 /* fop */
    CHECK_STR(askz("p20"), "01000000");                 /* cr0 = PE */
    CHECK_STR(askz("P21=44332211"), "OK");               /* cr2 */
    CHECK_EQ(fake_state.cr2, 0x11223344);
    CHECK_STR(askz("p23"), "00000000");                 /* cr4 */
    CHECK_STR(askz("p24"), "E02");                      /* no register 36 */
    CHECK_STR(askz("P10=00000000"), "E02");              /* st0 cannot be written */
    CHECK_STR(askz("P0=1234"), "E01");
    /* G writes everything back (unchanged segments are fine). */
    char g[16 * 8 + 2] = "G";
    strcpy(g + 1, askz("g"));
    memcpy(g + 1, "01000000", 8);
    CHECK_STR(askz(g), "OK");
    CHECK_EQ(fake_state.regs[R_EAX], 1);
    CHECK_STR(askz("G0102"), "E01");
    teardown();
}

/*
 * Real mode: EIP is shown as the linear address CS*16 + IP (SDM Vol. 3A
 * 20.1.1), and a written PC goes back into IP, or into CS:IP when it is
 * outside the current code segment.
 */
TEST(real_mode_pc_is_linear)
{
    setup();
    fake_state.seg[SEG_CS].selector = 0x07C0;
    fake_state.seg[SEG_CS].base = 0x7C00;
    fake_state.eip = 0x0010;
    CHECK_STR(askz("p8"), "107c0000");                   /* 0x7C10 */
    CHECK_STR(askz("P8=207c0000"), "OK");                /* 0x7C20: IP 0x20 */
    CHECK_EQ(fake_state.eip, 0x20);
    CHECK_EQ(fake_state.seg[SEG_CS].selector, 0x07C0);
    CHECK_STR(askz("P8=00000100"), "OK");                /* 0x10000: IP 0x8400 still */
    CHECK_EQ(fake_state.seg[SEG_CS].selector, 0x07C0);
    CHECK_EQ(fake_state.eip, 0x8400);
    CHECK_STR(askz("P8=10000200"), "OK");                /* 0x20010: outside */
    CHECK_EQ(fake_state.seg[SEG_CS].selector, 0x2001);
    CHECK_EQ(fake_state.seg[SEG_CS].base, 0x20010);
    CHECK_EQ(fake_state.eip, 0);
    CHECK_STR(askz("Pc=00010000"), "OK");                /* DS = 0x100 */
    CHECK_EQ(fake_state.seg[SEG_DS].base, 0x1000);
    CHECK_STR(askz("P8=00000020"), "E03");               /* 0x20000000: no CS:IP */
    teardown();
}

TEST(memory_read_write_binary)
{
    setup();
    CHECK_STR(askz("M100,4:deadbeef"), "OK");
    CHECK_EQ(fake_mem[0x100], 0xDE);
    CHECK_EQ(fake_mem[0x103], 0xEF);
    CHECK_STR(askz("m100,4"), "deadbeef");
    CHECK_STR(askz("m20000,4"), "E14");
    CHECK_STR(askz("mfffe,4"), "0000");                  /* partial: what can be read */
    /* X with the escapes of '#', '$', '}' (0x23 0x24 0x7d -> 7d 03, 7d 04, 7d 5d). */
    static const char x[] = "X200,4:}\x03}\x04}\x5d*";
    CHECK_STR(ask(x, sizeof x - 1), "OK");
    CHECK_EQ(fake_mem[0x200], '#');
    CHECK_EQ(fake_mem[0x201], '$');
    CHECK_EQ(fake_mem[0x202], '}');
    CHECK_EQ(fake_mem[0x203], '*');
    CHECK_STR(askz("X200,0:"), "OK");
    CHECK_STR(askz("X200,2:a"), "E01");
    CHECK_STR(askz("M100,2:zz00"), "E01");
    CHECK_STR(askz("M100,2:00"), "E01");
    CHECK_STR(askz("m"), "E01");
    CHECK_STR(askz("m1,"), "E01");
    CHECK_STR(askz("m123456789,1"), "E01");              /* more than 32 bits */
    teardown();
}

TEST(breakpoints_and_watchpoints)
{
    setup();
    CHECK_STR(askz("Z0,7c00,1"), "OK");
    CHECK_STR(askz("Z1,7c00,1"), "OK");
    CHECK_EQ(fake_breakpoints, 1);                       /* one host breakpoint for both */
    CHECK_STR(askz("z0,7c00,1"), "OK");
    CHECK_EQ(fake_breakpoints, 1);
    CHECK_STR(askz("z1,7c00,1"), "OK");
    CHECK_EQ(fake_breakpoints, 0);
    CHECK_STR(askz("z1,7c00,1"), "E03");
    CHECK_STR(askz("Z2,500,2"), "OK");
    CHECK_STR(askz("Z3,500,2"), "OK");
    CHECK_STR(askz("Z4,500,2"), "OK");
    CHECK_EQ(fake_watchpoints, 3);
    CHECK_STR(askz("Z2,500,0"), "E01");
    CHECK_STR(askz("Z5,500,2"), "");
    CHECK_STR(askz("Z2,500"), "E01");
    CHECK_STR(askz("Z"), "E01");
    CHECK_STR(askz("D"), "OK");
    CHECK_EQ(stub.resume, GDB_RESUME_DETACH);
    teardown();
}

TEST(resume_commands)
{
    setup();
    fake_state.cr0 = CR0_PE;
    askz("c");
    CHECK_EQ(stub.resume, GDB_RESUME_CONTINUE);
    askz("s");
    CHECK_EQ(stub.resume, GDB_RESUME_STEP);
    askz("c100000");
    CHECK_EQ(stub.resume, GDB_RESUME_CONTINUE);
    CHECK_EQ(fake_state.eip, 0x100000);
    askz("vCont;s:1;c");
    CHECK_EQ(stub.resume, GDB_RESUME_STEP);
    askz("vCont;c:-1");
    CHECK_EQ(stub.resume, GDB_RESUME_CONTINUE);
    askz("vCont;C05");
    CHECK_EQ(stub.resume, GDB_RESUME_CONTINUE);
    CHECK_STR(askz("vCont;x"), "E01");
    CHECK_STR(askz("vCont;"), "E01");
    CHECK_STR(askz("cxyz"), "E01");
    askz("k");
    CHECK_EQ(stub.resume, GDB_RESUME_KILL);
    teardown();
}

/* A packet longer than PacketSize is refused with '-', not stored. */
TEST(oversized_packet_is_refused)
{
    setup();
    static uint8_t big[GDB_PACKET_MAX + 64];
    big[0] = '$';
    memset(big + 1, 'm', sizeof big - 5);
    memcpy(big + sizeof big - 4, "#00", 3);
    gdbstub_feed(&stub, big, sizeof big - 1);
    CHECK_STR(sent, "-");
    teardown();
}

/*
 * Random bytes, random well-framed packets of random commands with random
 * arguments, and every prefix of the valid commands: the stub must answer
 * each good frame and never crash (ASan/UBSan watch the accesses).
 */
TEST(random_and_malformed_packets)
{
    setup();
    fake_state.cr0 = CR0_PE;
    uint32_t seed = 12345;
    #define RAND() (seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7FFF)
    static uint8_t buf[1 << 15];
    for (int round = 0; round < 2000; round++) {
        size_t n = RAND() % 300;
        for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)RAND();
        sent_len = 0;
        stub.resume = GDB_RESUME_NONE;
        size_t at = 0;
        while (at < n) {
            at += gdbstub_feed(&stub, buf + at, n - at);
            stub.resume = GDB_RESUME_NONE;
        }
    }
    static const char *const heads[] = {
        "g", "G", "p", "P", "m", "M", "X", "c", "s", "C", "S", "Z", "z", "H", "T", "q", "Q",
        "qXfer:features:read:target.xml:", "vCont;", "vCont?", "?", "D", "qSupported",
    };
    static const char alphabet[] = "0123456789abcdefABCDEF,:;=-#$}*xyz";
    for (int round = 0; round < 20000; round++) {
        char body[200];
        const char *h = heads[RAND() % (sizeof heads / sizeof heads[0])];
        size_t len = strlen(h);
        memcpy(body, h, len);
        size_t extra = RAND() % 40;
        for (size_t i = 0; i < extra; i++) body[len++] = alphabet[RAND() % (sizeof alphabet - 1)];
        /* Escape what framing reserves, as a real client would. */
        char esc[420];
        size_t e = 0;
        for (size_t i = 0; i < len; i++) {
            if (body[i] == '#' || body[i] == '$' || body[i] == '}') {
                esc[e++] = '}';
                esc[e++] = (char)(body[i] ^ 0x20);
            } else {
                esc[e++] = body[i];
            }
        }
        const char *r = ask(esc, e);
        if (r[0] == '<' && stub.resume == GDB_RESUME_NONE && strcmp(h, "k") != 0) {
            printf("  no reply to '%.*s': %s\n", (int)len, body, r);
            test_failed_now = 1;
            break;
        }
    }
    gdbstub_feed(&stub, (const uint8_t *)"$", 1);         /* ends mid-packet: fine */
    teardown();
}

TEST(parse_device)
{
    char host[256];
    uint16_t port;
    CHECK_EQ(gdbstub_parse_device("tcp::1234", host, sizeof host, &port), 0);
    CHECK_STR(host, "");
    CHECK_EQ(port, 1234);
    CHECK_EQ(gdbstub_parse_device("tcp:localhost:0,server,nowait", host, sizeof host, &port), 0);
    CHECK_STR(host, "localhost");
    CHECK_EQ(port, 0);
    CHECK_EQ(gdbstub_parse_device("none", host, sizeof host, &port), 1);
    CHECK_EQ(gdbstub_parse_device("tcp::65536", host, sizeof host, &port), -EINVAL);
    CHECK_EQ(gdbstub_parse_device("tcp::", host, sizeof host, &port), -EINVAL);
    CHECK_EQ(gdbstub_parse_device("tcp::12x", host, sizeof host, &port), -EINVAL);
    CHECK_EQ(gdbstub_parse_device("unix:/tmp/s", host, sizeof host, &port), -EINVAL);
}

TEST_MAIN()
