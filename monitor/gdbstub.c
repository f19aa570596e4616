/*
 * gdbstub.c - the GDB remote serial protocol (gdb manual, appendix E
 * "GDB Remote Serial Protocol"), over TCP.
 *
 * A packet is "$" data "#" two hex digits of the data's byte sum mod 256;
 * the receiver answers "+" (good) or "-" (send again) until
 * QStartNoAckMode.  Inside data, "}" escapes the next byte (XOR 0x20), as
 * X and qXfer need for binary.  A lone 0x03 byte outside a packet is
 * Ctrl-C: stop the running guest.
 *
 * Worked example (gdb's first words after "target remote :1234"):
 *
 *   gdb  $qSupported:multiprocess+;swbreak+;...#xx
 *   us   +$PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+;...#xx
 *   gdb  +$qXfer:features:read:target.xml:0,ffb#xx
 *   us   +$l<?xml ...i386 core registers...>#xx
 *   gdb  +$?#3f
 *   us   +$T05thread:01;#xx            (stopped by SIGTRAP)
 *   gdb  +$g#67
 *   us   +$<16 registers, 8 hex digits each, little-endian>#xx
 *
 * The register set (target.xml) is i386's core: eax ecx edx ebx esp ebp
 * esi edi eip eflags cs ss ds es fs gs, 32 bits each (the g packet), and
 * the x87 registers, always unavailable; the same in every CPU mode,
 * so gdb never sees it change size across the real-to-protected-mode
 * switch ("Remote 'g' packet reply is too long").  Addresses: gdb thinks
 * in one flat address space, the x86 in CS:EIP.  So the stub presents EIP
 * as the linear address of the next instruction, CS.base + EIP (in real
 * mode CS*16 + IP; with flat protected-mode segments simply EIP), and
 * translates a written EIP back; breakpoints, m/M/X and watchpoints take
 * linear addresses (physical ones too with paging off).  gdb then stops on
 * "break *0x7c00" in a boot sector and disassembles the right bytes.
 */
#include "monitor/gdbstub.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "machine/machine.h"

/* GDB's signal numbers in stop replies (gdb/signals.def). */
enum { GDB_SIGINT = 2, GDB_SIGTRAP = 5, GDB_SIGABRT = 6 };

/* Register numbers of target.xml, in gdb's i386 order. */
enum {
    GDB_EAX, GDB_ECX, GDB_EDX, GDB_EBX, GDB_ESP, GDB_EBP, GDB_ESI, GDB_EDI,
    GDB_EIP, GDB_EFLAGS, GDB_CS, GDB_SS, GDB_DS, GDB_ES, GDB_FS, GDB_GS,
    GDB_REG_COUNT
};
/* The x87 registers target.xml describes after them (st0-st7, fctrl..fop). */
enum { GDB_X87_REG_COUNT = 16 };

/* gdb's segment register order -> enum x86_sreg. */
static const int gdb_sreg[6] = { SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS };

/*
 * target.xml (gdb manual, "Target Descriptions" and "i386 Features").  gdb
 * accepts an org.gnu.gdb.i386.core feature only with all of its registers,
 * the x87 ones (st0-st7, fctrl..fop) included; without them it says
 * "Architecture rejected target-supplied description" and refuses `set
 * architecture`.  They are described, left out of the g packet, and read
 * as unavailable ('x', cmd_read_register): there is no FPU.  The
 * <architecture> is filled in when gdb reads the document (on connecting,
 * guest stopped): i8086 in real or virtual-8086 mode, else i386, so gdb
 * disassembles the code it starts in right.  gdb 13 lets `set architecture
 * i386` override a target's i8086 but not `set architecture i8086` a
 * target's i386, hence the choice by mode.  <osabi>none: a bare machine
 * (without it gdb warns that its default GNU/Linux ABI has no i8086 handler).
 */
static const char gdb_target_xml_head[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
    "<target version=\"1.0\">\n";
static const char gdb_target_xml[] =
    "  <osabi>none</osabi>\n"
    "  <feature name=\"org.gnu.gdb.i386.core\">\n"
    "    <flags id=\"i386_eflags\" size=\"4\">\n"
    "      <field name=\"CF\" start=\"0\" end=\"0\"/>\n"
    "      <field name=\"\" start=\"1\" end=\"1\"/>\n"
    "      <field name=\"PF\" start=\"2\" end=\"2\"/>\n"
    "      <field name=\"AF\" start=\"4\" end=\"4\"/>\n"
    "      <field name=\"ZF\" start=\"6\" end=\"6\"/>\n"
    "      <field name=\"SF\" start=\"7\" end=\"7\"/>\n"
    "      <field name=\"TF\" start=\"8\" end=\"8\"/>\n"
    "      <field name=\"IF\" start=\"9\" end=\"9\"/>\n"
    "      <field name=\"DF\" start=\"10\" end=\"10\"/>\n"
    "      <field name=\"OF\" start=\"11\" end=\"11\"/>\n"
    "      <field name=\"NT\" start=\"14\" end=\"14\"/>\n"
    "      <field name=\"RF\" start=\"16\" end=\"16\"/>\n"
    "      <field name=\"VM\" start=\"17\" end=\"17\"/>\n"
    "      <field name=\"AC\" start=\"18\" end=\"18\"/>\n"
    "      <field name=\"VIF\" start=\"19\" end=\"19\"/>\n"
    "      <field name=\"VIP\" start=\"20\" end=\"20\"/>\n"
    "      <field name=\"ID\" start=\"21\" end=\"21\"/>\n"
    "    </flags>\n"
    "    <reg name=\"eax\" bitsize=\"32\" type=\"int32\" regnum=\"0\"/>\n"
    "    <reg name=\"ecx\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"edx\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"ebx\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"esp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "    <reg name=\"ebp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "    <reg name=\"esi\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"edi\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\"/>\n"
    "    <reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>\n"
    "    <reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "  </feature>\n"
    "</target>\n";

/* ---------- replies ---------- */

static const char hex_digits[] = "0123456789abcdef";

static void gdb_write(struct gdbstub *g, const char *data, size_t len)
{
    if (g->write_hook) {
        g->write_hook(g->write_opaque, data, len);
        return;
    }
    while (len > 0 && g->fd >= 0) {
        ssize_t n = send(g->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;   /* the debugger went away: the reader sees the EOF */
        data += n;
        len -= (size_t)n;
    }
}

/* Frame and send 'len' bytes (already escaped where binary): "$data#cs". */
static void gdb_send_packet(struct gdbstub *g, const char *data, size_t len)
{
    size_t max = GDB_PACKET_MAX * 2;
    if (len > max)
        len = max;   /* every reply is built within this; a broken invariant otherwise */
    uint8_t sum = 0;
    g->reply[0] = '$';
    for (size_t i = 0; i < len; i++) {
        g->reply[1 + i] = data[i];
        sum = (uint8_t)(sum + (uint8_t)data[i]);
    }
    g->reply[1 + len] = '#';
    g->reply[2 + len] = hex_digits[sum >> 4];
    g->reply[3 + len] = hex_digits[sum & 15];
    g->reply_len = len + 4;
    gdb_write(g, g->reply, g->reply_len);
}

static void gdb_reply(struct gdbstub *g, const char *text)
{
    gdb_send_packet(g, text, strlen(text));
}

/* A growing reply (hex dumps, qXfer data). */
struct gdb_out {
    char buf[GDB_PACKET_MAX * 2];
    size_t len;
};

static void out_char(struct gdb_out *o, char c)
{
    if (o->len < sizeof o->buf)
        o->buf[o->len++] = c;
}

static void out_hex8(struct gdb_out *o, uint8_t b)
{
    out_char(o, hex_digits[b >> 4]);
    out_char(o, hex_digits[b & 15]);
}

/* A 32-bit register: target byte order, little-endian. */
static void out_reg32(struct gdb_out *o, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        out_hex8(o, (uint8_t)(v >> (8 * i)));
}

/* Binary data in a reply: '#', '$', '}' and '*' escaped as "}" (c ^ 0x20). */
static void out_binary(struct gdb_out *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '#' || p[i] == '$' || p[i] == '}' || p[i] == '*') {
            out_char(o, '}');
            out_char(o, (char)(p[i] ^ 0x20));
        } else {
            out_char(o, (char)p[i]);
        }
    }
}

/* ---------- parsing ---------- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/*
 * A hex number of at most 32 bits at *p (before 'end'); leading zeros
 * allowed.  Advances *p.  False when there is no digit or it overflows.
 */
static bool parse_hex(const char **p, const char *end, uint32_t *out)
{
    uint64_t v = 0;
    const char *s = *p;
    if (s >= end || hex_value(*s) < 0)
        return false;
    for (; s < end && hex_value(*s) >= 0; s++) {
        v = (v << 4) | (uint64_t)hex_value(*s);
        if (v > 0xFFFFFFFFu)
            return false;
    }
    *p = s;
    *out = (uint32_t)v;
    return true;
}

static bool expect_char(const char **p, const char *end, char c)
{
    if (*p >= end || **p != c)
        return false;
    (*p)++;
    return true;
}

/* "ADDR,LEN" then 'stop' (or the end when stop is 0). */
static bool parse_addr_len(const char **p, const char *end, uint32_t *addr, uint32_t *len, char stop)
{
    if (!parse_hex(p, end, addr) || !expect_char(p, end, ',') || !parse_hex(p, end, len))
        return false;
    return stop ? expect_char(p, end, stop) : *p == end;
}

/* Little-endian 32-bit register value from 8 hex digits. */
static bool parse_reg32(const char **p, const char *end, uint32_t *out)
{
    if (end - *p < 8)
        return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int hi = hex_value((*p)[2 * i]), lo = hex_value((*p)[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        v |= (uint32_t)(hi << 4 | lo) << (8 * i);
    }
    *p += 8;
    *out = v;
    return true;
}

/* ---------- registers and the address convention ---------- */

static struct engine *gdb_engine(struct gdbstub *g) { return g->runner->engine; }

static bool real_mode(const struct x86_state *s)
{
    return !(s->cr0 & CR0_PE) && !(s->eflags & EFLAGS_VM);
}

/* The PC gdb sees: the linear address CS.base + EIP (see the top). */
static uint32_t gdb_pc(const struct x86_state *s)
{
    return s->seg[SEG_CS].base + s->eip;
}

/*
 * gdb wrote the PC 'lin': EIP = lin - CS.base.  In real mode a PC outside
 * the current 64 KiB code segment moves CS too (CS = lin >> 4, so IP is
 * 0-15), which is what "jump *0x7c00" from another segment means.
 * Returns false when no CS:IP reaches it (above 0x10FFEF in real mode).
 */
static bool gdb_set_pc(struct x86_state *s, uint32_t lin)
{
    uint32_t ip = lin - s->seg[SEG_CS].base;
    if (!real_mode(s)) {
        s->eip = ip;
        return true;
    }
    if (ip <= 0xFFFF) {
        s->eip = ip;
        return true;
    }
    if (lin > 0xFFFFFu + 0xFFFFu - 0xFu)
        return false;
    uint16_t sel = (uint16_t)(lin >> 4 > 0xFFFF ? 0xFFFF : lin >> 4);
    s->seg[SEG_CS].selector = sel;
    s->seg[SEG_CS].base = (uint32_t)sel << 4;
    s->eip = lin - s->seg[SEG_CS].base;
    return true;
}

static uint32_t gdb_reg_get(const struct x86_state *s, int n)
{
    if (n <= GDB_EDI) return s->regs[n];   /* the same order as enum x86_reg */
    if (n == GDB_EIP) return gdb_pc(s);
    if (n == GDB_EFLAGS) return s->eflags;
    return s->seg[gdb_sreg[n - GDB_CS]].selector;
}

/*
 * Write register n.  Segment registers: in real mode a selector write sets
 * the base to selector * 16 (SDM Vol. 3A 20.1.1); in protected mode the
 * stub does not load descriptors, so only the value already there is
 * accepted (gdb's G packet writes every register back).  False: refused.
 */
static bool gdb_reg_set(struct x86_state *s, int n, uint32_t v)
{
    if (n <= GDB_EDI) { s->regs[n] = v; return true; }
    if (n == GDB_EIP) return gdb_set_pc(s, v);
    if (n == GDB_EFLAGS) {
        s->eflags = v | EFLAGS_FIXED1;
        return true;
    }
    struct x86_segment *sg = &s->seg[gdb_sreg[n - GDB_CS]];
    if (v > 0xFFFF)
        return false;
    if (sg->selector == v)
        return true;
    if (!real_mode(s))
        return false;
    sg->selector = (uint16_t)v;   /* a new CS keeps IP: CS:IP is what was set */
    sg->base = v << 4;
    return true;
}

/* ---------- breakpoints and watchpoints ---------- */

static const enum engine_watch_kind gdb_watch_kind[5] = {
    [2] = ENGINE_WATCH_WRITE, [3] = ENGINE_WATCH_READ, [4] = ENGINE_WATCH_ACCESS,
};

/* Does another point of ours keep the engine's breakpoint at 'addr'? */
static bool breakpoint_shared(const struct gdbstub *g, uint32_t addr)
{
    for (int k = 0; k < g->point_count; k++)
        if (g->points[k].type <= 1 && g->points[k].addr == addr)
            return true;
    return false;
}

/* Z / z: returns the reply. */
static const char *gdb_point(struct gdbstub *g, bool insert, const char *p, const char *end)
{
    struct engine *e = gdb_engine(g);
    uint32_t type, addr, len;
    if (!parse_hex(&p, end, &type) || !expect_char(&p, end, ','))
        return "E01";
    if (type > 4)
        return "";   /* not supported: gdb falls back */
    /* ADDR,KIND, then for breakpoints possibly ";cond..." (not advertised). */
    if (!parse_hex(&p, end, &addr) || !expect_char(&p, end, ',') || !parse_hex(&p, end, &len) ||
        (p != end && *p != ';'))
        return "E01";
    if (type >= 2) {
        if (!e->ops->set_watchpoint || !e->ops->clear_watchpoint)
            return "";
        if (len == 0)
            return "E01";
    } else {
        len = 1;   /* KIND is the breakpoint's size for gdb; a host breakpoint has none */
    }

    int found = -1;
    for (int k = 0; k < g->point_count; k++)
        if (g->points[k].type == type && g->points[k].addr == addr && g->points[k].len == len)
            found = k;

    if (insert) {
        if (found >= 0)
            return "OK";
        if (g->point_count >= GDB_MAX_POINTS)
            return "E02";
        int err = 0;
        if (type >= 2)
            err = e->ops->set_watchpoint(e, addr, len, gdb_watch_kind[type], false);
        else if (!breakpoint_shared(g, addr))
            err = e->ops->set_breakpoint(e, addr);
        if (err < 0)
            return err == -EINVAL ? "E01" : "E02";
        g->points[g->point_count++] = (struct gdb_point){ (uint8_t)type, addr, len };
        return "OK";
    }
    if (found < 0)
        return "E03";
    g->points[found] = g->points[--g->point_count];
    if (type >= 2)
        e->ops->clear_watchpoint(e, addr, len, gdb_watch_kind[type], false);
    else if (!breakpoint_shared(g, addr))
        e->ops->clear_breakpoint(e, addr);
    return "OK";
}

/* Remove everything the debugger set (D, a lost connection). */
static void gdb_clear_points(struct gdbstub *g)
{
    struct engine *e = gdb_engine(g);
    while (g->point_count > 0) {
        struct gdb_point pt = g->points[--g->point_count];
        if (pt.type >= 2)
            e->ops->clear_watchpoint(e, pt.addr, pt.len, gdb_watch_kind[pt.type], false);
        else if (!breakpoint_shared(g, pt.addr))
            e->ops->clear_breakpoint(e, pt.addr);
    }
}

/* ---------- commands ---------- */

static void cmd_read_registers(struct gdbstub *g)
{
    struct x86_state s;
    struct gdb_out *o = calloc(1, sizeof *o);
    if (!o) { gdb_reply(g, "E0c"); return; }
    gdb_engine(g)->ops->get_state(gdb_engine(g), &s);
    for (int n = 0; n < GDB_REG_COUNT; n++)
        out_reg32(o, gdb_reg_get(&s, n));
    gdb_send_packet(g, o->buf, o->len);
    free(o);
}

static const char *cmd_write_registers(struct gdbstub *g, const char *p, const char *end)
{
    struct engine *e = gdb_engine(g);
    struct x86_state s;
    uint32_t v[GDB_REG_COUNT];
    for (int n = 0; n < GDB_REG_COUNT; n++)
        if (!parse_reg32(&p, end, &v[n]))
            return "E01";
    if (p != end)
        return "E01";
    e->ops->get_state(e, &s);
    /* Segments first: EIP is a linear address relative to the new CS. */
    for (int n = GDB_CS; n < GDB_REG_COUNT; n++)
        if (!gdb_reg_set(&s, n, v[n]))
            return "E03";
    for (int n = 0; n < GDB_CS; n++)
        if (!gdb_reg_set(&s, n, v[n]))
            return "E03";
    e->ops->set_state(e, &s);
    return "OK";
}

static void cmd_read_register(struct gdbstub *g, const char *p, const char *end)
{
    uint32_t n;
    if (!parse_hex(&p, end, &n) || p != end) { gdb_reply(g, "E01"); return; }
    if (n >= GDB_REG_COUNT && n < GDB_REG_COUNT + GDB_X87_REG_COUNT) {
        /* st0-st7 (10 bytes), then fctrl..fop (4 bytes): unavailable, no FPU. */
        gdb_reply(g, n < GDB_REG_COUNT + 8 ? "xxxxxxxxxxxxxxxxxxxx" : "xxxxxxxx");
        return;
    }
    if (n >= GDB_REG_COUNT) { gdb_reply(g, "E02"); return; }
    struct x86_state s;
    struct gdb_out o = { .len = 0 };
    gdb_engine(g)->ops->get_state(gdb_engine(g), &s);
    out_reg32(&o, gdb_reg_get(&s, (int)n));
    gdb_send_packet(g, o.buf, o.len);
}

static const char *cmd_write_register(struct gdbstub *g, const char *p, const char *end)
{
    uint32_t n, v;
    if (!parse_hex(&p, end, &n) || !expect_char(&p, end, '=') || !parse_reg32(&p, end, &v) || p != end)
        return "E01";
    if (n >= GDB_REG_COUNT)
        return "E02";
    struct engine *e = gdb_engine(g);
    struct x86_state s;
    e->ops->get_state(e, &s);
    if (!gdb_reg_set(&s, (int)n, v))
        return "E03";
    e->ops->set_state(e, &s);
    return "OK";
}

/* m ADDR,LEN: as many bytes as can be read from ADDR on, or E14. */
static void cmd_read_memory(struct gdbstub *g, const char *p, const char *end)
{
    uint32_t addr, len;
    if (!parse_addr_len(&p, end, &addr, &len, 0)) { gdb_reply(g, "E01"); return; }
    if (len > GDB_PACKET_MAX / 2)
        len = GDB_PACKET_MAX / 2;   /* fewer bytes than asked is a valid reply */
    struct engine *e = gdb_engine(g);
    uint8_t buf[GDB_PACKET_MAX / 2];
    uint32_t got = 0;
    while (got < len) {
        /* Up to the next page boundary at a time: a later page may be unmapped. */
        uint32_t at = addr + got;
        uint32_t chunk = 0x1000 - (at & 0xFFF);
        if (chunk > len - got) chunk = len - got;
        if (!e->ops->read_linear(e, at, buf + got, chunk))
            break;
        got += chunk;
    }
    if (got == 0 && len > 0) { gdb_reply(g, "E14"); return; }
    struct gdb_out *o = calloc(1, sizeof *o);
    if (!o) { gdb_reply(g, "E0c"); return; }
    for (uint32_t i = 0; i < got; i++)
        out_hex8(o, buf[i]);
    gdb_send_packet(g, o->buf, o->len);
    free(o);
}

/* M ADDR,LEN:HEX and X ADDR,LEN:BINARY. */
static const char *cmd_write_memory(struct gdbstub *g, const char *p, const char *end, bool binary)
{
    uint32_t addr, len;
    if (!parse_addr_len(&p, end, &addr, &len, ':'))
        return "E01";
    size_t have = (size_t)(end - p);
    if (binary ? have != len : have != (size_t)len * 2)
        return "E01";
    if (len == 0)
        return "OK";   /* gdb probes X support this way */
    uint8_t buf[GDB_PACKET_MAX];
    if (len > sizeof buf)
        return "E01";
    for (uint32_t i = 0; i < len; i++) {
        if (binary) {
            buf[i] = (uint8_t)p[i];
        } else {
            int hi = hex_value(p[2 * i]), lo = hex_value(p[2 * i + 1]);
            if (hi < 0 || lo < 0)
                return "E01";
            buf[i] = (uint8_t)(hi << 4 | lo);
        }
    }
    struct engine *e = gdb_engine(g);
    return e->ops->write_linear(e, addr, buf, len) ? "OK" : "E14";
}

/* qXfer:features:read:ANNEX:OFFSET,LENGTH */
static void cmd_xfer_features(struct gdbstub *g, const char *p, const char *end)
{
    static const char annex[] = "target.xml:";
    size_t alen = sizeof annex - 1;
    if ((size_t)(end - p) < alen || memcmp(p, annex, alen) != 0) {
        gdb_reply(g, "E00");   /* no such annex */
        return;
    }
    p += alen;
    uint32_t off, len;
    if (!parse_addr_len(&p, end, &off, &len, 0)) { gdb_reply(g, "E01"); return; }
    struct x86_state s;
    gdb_engine(g)->ops->get_state(gdb_engine(g), &s);
    bool code16 = !(s.cr0 & CR0_PE) || (s.eflags & EFLAGS_VM);
    static char doc[sizeof gdb_target_xml_head + sizeof gdb_target_xml + 64];
    int total_len = snprintf(doc, sizeof doc, "%s  <architecture>%s</architecture>\n%s", gdb_target_xml_head,
                             code16 ? "i8086" : "i386", gdb_target_xml);
    size_t total = (size_t)total_len;
    struct gdb_out *o = calloc(1, sizeof *o);
    if (!o) { gdb_reply(g, "E0c"); return; }
    if (off >= total) {
        out_char(o, 'l');
    } else {
        size_t n = total - off;
        /* Escaping can double a byte: stay within the reply buffer. */
        if (n > len) n = len;
        if (n > GDB_PACKET_MAX / 2) n = GDB_PACKET_MAX / 2;
        out_char(o, off + n >= total ? 'l' : 'm');
        out_binary(o, (const uint8_t *)doc + off, n);
    }
    gdb_send_packet(g, o->buf, o->len);
    free(o);
}

/* c/s [ADDR] and C/S SIG[;ADDR]: set the PC if given, then resume. */
static const char *cmd_resume(struct gdbstub *g, char kind, const char *p, const char *end)
{
    if (kind == 'C' || kind == 'S') {
        uint32_t sig;   /* the signal to deliver: a guest has none; ignored */
        if (!parse_hex(&p, end, &sig))
            return "E01";
        if (p != end && !expect_char(&p, end, ';'))
            return "E01";
    }
    if (p != end) {
        uint32_t addr;
        if (!parse_hex(&p, end, &addr) || p != end)
            return "E01";
        struct engine *e = gdb_engine(g);
        struct x86_state s;
        e->ops->get_state(e, &s);
        if (!gdb_set_pc(&s, addr))
            return "E03";
        e->ops->set_state(e, &s);
    }
    g->resume = (kind == 'c' || kind == 'C') ? GDB_RESUME_CONTINUE : GDB_RESUME_STEP;
    return NULL;   /* the reply is the stop reply, later */
}

/*
 * vCont;ACTION[:THREAD][;ACTION[:THREAD]]...: one thread, so the first
 * action for it (or for all threads) decides.  Range stepping (r) was not
 * offered; t (stop) is for non-stop mode, not offered either.
 */
static const char *cmd_vcont(struct gdbstub *g, const char *p, const char *end)
{
    if (!expect_char(&p, end, ';'))
        return "E01";
    char kind = 0;
    while (p < end) {
        char a = *p++;
        if (a != 'c' && a != 's' && a != 'C' && a != 'S')
            return "E01";
        if (a == 'C' || a == 'S') {
            uint32_t sig;
            if (!parse_hex(&p, end, &sig))
                return "E01";
        }
        bool ours = true;
        if (p < end && *p == ':') {
            p++;
            if (p < end && *p == '-') {           /* -1: all threads */
                p++;
                uint32_t one;
                if (!parse_hex(&p, end, &one) || one != 1)
                    return "E01";
            } else {
                uint32_t tid;
                if (!parse_hex(&p, end, &tid))
                    return "E01";
                ours = tid == 0 || tid == 1;
            }
        }
        if (p < end && !expect_char(&p, end, ';'))
            return "E01";
        if (ours && !kind)
            kind = a;
    }
    if (!kind)
        return "E01";
    g->resume = (kind == 'c' || kind == 'C') ? GDB_RESUME_CONTINUE : GDB_RESUME_STEP;
    return NULL;
}

static bool starts_with(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(end - p) >= n && memcmp(p, word, n) == 0;
}

static bool equals(const char *p, const char *end, const char *word)
{
    return (size_t)(end - p) == strlen(word) && starts_with(p, end, word);
}

static void cmd_query(struct gdbstub *g, const char *p, const char *end)
{
    if (starts_with(p, end, "qSupported")) {
        gdb_reply(g, "PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+;"
                     "QStartNoAckMode+;vContSupported+");
    } else if (starts_with(p, end, "qXfer:features:read:")) {
        cmd_xfer_features(g, p + strlen("qXfer:features:read:"), end);
    } else if (equals(p, end, "qC")) {
        gdb_reply(g, "QC01");
    } else if (starts_with(p, end, "qAttached")) {
        gdb_reply(g, "1");   /* attached to a running machine: quitting detaches */
    } else if (equals(p, end, "qfThreadInfo")) {
        gdb_reply(g, "m01");
    } else if (equals(p, end, "qsThreadInfo")) {
        gdb_reply(g, "l");
    } else if (equals(p, end, "QStartNoAckMode")) {
        gdb_reply(g, "OK");
        g->no_ack = true;
    } else {
        gdb_reply(g, "");
    }
}

void gdbstub_command(struct gdbstub *g, const char *pkt, size_t len)
{
    const char *end = pkt + len;
    if (len == 0) { gdb_reply(g, ""); return; }
    const char *p = pkt + 1;
    const char *reply = "";
    switch (pkt[0]) {
    case '?':
        reply = g->stop_reply;
        break;
    case 'g':
        if (len != 1) { reply = "E01"; break; }
        cmd_read_registers(g);
        return;
    case 'G':
        reply = cmd_write_registers(g, p, end);
        break;
    case 'p':
        cmd_read_register(g, p, end);
        return;
    case 'P':
        reply = cmd_write_register(g, p, end);
        break;
    case 'm':
        cmd_read_memory(g, p, end);
        return;
    case 'M':
        reply = cmd_write_memory(g, p, end, false);
        break;
    case 'X':
        reply = cmd_write_memory(g, p, end, true);
        break;
    case 'c': case 's': case 'C': case 'S':
        reply = cmd_resume(g, pkt[0], p, end);
        if (!reply) return;
        break;
    case 'v':
        if (equals(pkt, end, "vCont?")) {
            reply = "vCont;c;C;s;S";
        } else if (starts_with(pkt, end, "vCont;")) {
            reply = cmd_vcont(g, pkt + 5, end);
            if (!reply) return;
        } else if (starts_with(pkt, end, "vKill")) {
            reply = "OK";
            g->resume = GDB_RESUME_KILL;
        } else {
            reply = "";   /* vMustReplyEmpty and others */
        }
        break;
    case 'Z': case 'z':
        reply = gdb_point(g, pkt[0] == 'Z', p, end);
        break;
    case 'H':
        /* Hg/Hc THREAD: there is one thread (1); 0 and -1 mean any. */
        reply = len >= 3 && (pkt[1] == 'g' || pkt[1] == 'c') ? "OK" : "E01";
        break;
    case 'T':
        reply = (equals(p, end, "1") || equals(p, end, "01")) ? "OK" : "E01";
        break;
    case 'q': case 'Q':
        cmd_query(g, pkt, end);
        return;
    case 'k':
        g->resume = GDB_RESUME_KILL;
        return;   /* no reply: gdb does not wait for one */
    case 'D':
        reply = "OK";
        g->resume = GDB_RESUME_DETACH;
        break;
    default:
        reply = "";   /* not supported: the empty reply (gdb manual E.1) */
        break;
    }
    gdb_reply(g, reply);
}

/* ---------- framing ---------- */

static void gdb_packet_done(struct gdbstub *g)
{
    bool good = !g->packet_overflow && g->sum == g->sum_given;
    if (!g->no_ack)
        gdb_write(g, good ? "+" : "-", 1);
    if (!good) {
        if (g->no_ack && g->packet_overflow)
            gdb_reply(g, "E01");   /* too long for us: say so rather than nothing */
        return;
    }
    g->packet[g->packet_len] = '\0';
    gdbstub_command(g, g->packet, g->packet_len);
}

size_t gdbstub_feed(struct gdbstub *g, const uint8_t *data, size_t len)
{
    size_t i;
    for (i = 0; i < len && g->resume == GDB_RESUME_NONE; i++) {
        uint8_t c = data[i];
        int h;
        switch (g->rx) {
        case GDB_RX_IDLE:
            if (c == '$') {
                g->rx = GDB_RX_DATA;
                g->packet_len = 0;
                g->packet_overflow = false;
                g->sum = 0;
            } else if (c == '-' && g->reply_len > 0 && !g->no_ack) {
                gdb_write(g, g->reply, g->reply_len);   /* gdb got our reply garbled */
            }
            /* '+', a stray 0x03 while stopped, noise: nothing to do. */
            break;
        case GDB_RX_DATA:
        case GDB_RX_ESCAPE:
            if (c == '$') {                    /* a new packet: resynchronise */
                g->rx = GDB_RX_DATA;
                g->packet_len = 0;
                g->packet_overflow = false;
                g->sum = 0;
                break;
            }
            if (c == '#' && g->rx == GDB_RX_DATA) {
                g->rx = GDB_RX_SUM1;
                break;
            }
            g->sum = (uint8_t)(g->sum + c);
            if (g->rx == GDB_RX_DATA && c == '}') {
                g->rx = GDB_RX_ESCAPE;
                break;
            }
            if (g->rx == GDB_RX_ESCAPE) {
                c ^= 0x20;
                g->rx = GDB_RX_DATA;
            }
            if (g->packet_len < GDB_PACKET_MAX)
                g->packet[g->packet_len++] = (char)c;
            else
                g->packet_overflow = true;
            break;
        case GDB_RX_SUM1:
            h = hex_value((char)c);
            g->sum_given = (uint8_t)((h < 0 ? 0 : h) << 4);
            if (h < 0) g->packet_overflow = true;   /* not a checksum: reject */
            g->rx = GDB_RX_SUM2;
            break;
        case GDB_RX_SUM2:
            h = hex_value((char)c);
            g->sum_given = (uint8_t)(g->sum_given | (h < 0 ? 0 : h));
            if (h < 0) g->sum_given = (uint8_t)~g->sum;
            g->rx = GDB_RX_IDLE;
            gdb_packet_done(g);
            break;
        }
    }
    return i;
}

/* ---------- the connection ---------- */

void gdbstub_init(struct gdbstub *g, struct runner *r)
{
    memset(g, 0, sizeof *g);
    g->runner = r;
    g->listen_fd = -1;
    g->fd = -1;
    g->reply = malloc(GDB_PACKET_MAX * 2 + 8);
    snprintf(g->stop_reply, sizeof g->stop_reply, "T%02xthread:01;", GDB_SIGTRAP);
}

int gdbstub_parse_device(const char *spec, char *host, size_t host_size, uint16_t *port)
{
    if (strcmp(spec, "none") == 0) {
        host[0] = '\0';
        *port = 0;
        return 1;
    }
    if (strncmp(spec, "tcp:", 4) != 0) {
        fprintf(stderr, "trapeze: -gdb %s: only tcp::PORT, tcp:HOST:PORT or none are supported\n", spec);
        return -EINVAL;
    }
    const char *h = spec + 4;
    const char *colon = strrchr(h, ':');
    if (!colon) {
        fprintf(stderr, "trapeze: -gdb %s: expected tcp::PORT or tcp:HOST:PORT\n", spec);
        return -EINVAL;
    }
    size_t hl = (size_t)(colon - h);
    if (hl >= host_size) {
        fprintf(stderr, "trapeze: -gdb %s: host name too long\n", spec);
        return -EINVAL;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    const char *ps = colon + 1;
    char *after;
    errno = 0;
    long v = strtol(ps, &after, 10);
    if (after == ps || errno || v < 0 || v > 65535) {
        fprintf(stderr, "trapeze: -gdb %s: the port must be a number from 0 to 65535\n", spec);
        return -EINVAL;
    }
    /* QEMU's chardev options that only restate what the stub does. */
    while (*after == ',') {
        const char *opt = after + 1;
        size_t n = strcspn(opt, ",");
        if (!((n == 6 && strncmp(opt, "server", 6) == 0) || (n == 6 && strncmp(opt, "nowait", 6) == 0) ||
              (n == 8 && strncmp(opt, "wait=off", 8) == 0) || (n == 9 && strncmp(opt, "server=on", 9) == 0))) {
            fprintf(stderr, "trapeze: -gdb %s: option '%.*s' not supported "
                            "(the stub is always a listening server)\n", spec, (int)n, opt);
            return -EINVAL;
        }
        after = (char *)(opt + n);
    }
    if (*after != '\0') {
        fprintf(stderr, "trapeze: -gdb %s: the port must be a number from 0 to 65535\n", spec);
        return -EINVAL;
    }
    *port = (uint16_t)v;
    return 0;
}

int gdbstub_open(struct gdbstub *g, struct runner *r, const char *spec)
{
    char host[256], portstr[8];
    uint16_t port;
    gdbstub_init(g, r);
    if (!g->reply) {
        fprintf(stderr, "trapeze: gdb stub: out of host memory\n");
        return -ENOMEM;
    }
    int err = gdbstub_parse_device(spec, host, sizeof host, &port);
    if (err < 0)
        return err;
    if (err > 0)
        return 0;   /* -gdb none */
    snprintf(portstr, sizeof portstr, "%u", port);
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host[0] ? host : "127.0.0.1", portstr, &hints, &ai);
    if (gai != 0) {
        fprintf(stderr, "trapeze: -gdb %s: cannot resolve '%s': %s\n", spec, host, gai_strerror(gai));
        return -EINVAL;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = -errno;
        freeaddrinfo(ai);
        fprintf(stderr, "trapeze: -gdb %s: socket: %s\n", spec, strerror(-err));
        return err;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1) < 0) {
        err = -errno;
        freeaddrinfo(ai);
        close(fd);
        fprintf(stderr, "trapeze: -gdb %s: cannot listen: %s (is the port in use? try another, "
                        "or tcp::0 for any free one)\n", spec, strerror(-err));
        return err == -EADDRINUSE ? -EINVAL : err;
    }
    freeaddrinfo(ai);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    fprintf(stderr, "trapeze: gdb stub listening on %s:%u\n", host[0] ? host : "127.0.0.1", port);
    g->listen_fd = fd;
    return 0;
}

static void gdb_drop_client(struct gdbstub *g)
{
    if (g->fd >= 0)
        close(g->fd);
    g->fd = -1;
    g->no_ack = false;
    g->rx = GDB_RX_IDLE;
    g->in_pos = g->in_len = 0;
    g->reply_len = 0;
}

void gdbstub_close(struct gdbstub *g)
{
    gdb_drop_client(g);
    if (g->listen_fd >= 0)
        close(g->listen_fd);
    g->listen_fd = -1;
    free(g->reply);
    g->reply = NULL;
}

static bool gdb_accept(struct gdbstub *g)
{
    g->pending_connection = false;
    int fd = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return false;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    g->fd = fd;
    g->resume = GDB_RESUME_NONE;
    snprintf(g->stop_reply, sizeof g->stop_reply, "T%02xthread:01;", GDB_SIGTRAP);
    return true;
}

/* Read what the debugger sent into inbuf; false on EOF or error. */
static bool gdb_read_some(struct gdbstub *g, int timeout_ms)
{
    if (g->in_pos == g->in_len)
        g->in_pos = g->in_len = 0;
    if (g->in_len == sizeof g->inbuf) {
        if (g->in_pos == 0)
            return true;   /* full of unhandled bytes: handle them first */
        memmove(g->inbuf, g->inbuf + g->in_pos, g->in_len - g->in_pos);
        g->in_len -= g->in_pos;
        g->in_pos = 0;
    }
    struct pollfd pfd = { .fd = g->fd, .events = POLLIN };
    int n = poll(&pfd, 1, timeout_ms);
    if (n < 0)
        return errno == EINTR;
    if (n == 0)
        return true;
    ssize_t got = recv(g->fd, g->inbuf + g->in_len, sizeof g->inbuf - g->in_len, 0);
    if (got < 0)
        return errno == EINTR || errno == EAGAIN;
    if (got == 0)
        return false;
    g->in_len += (size_t)got;
    return true;
}

/*
 * The runner's poll hook, between slices of a running guest: with a
 * debugger attached, take Ctrl-C (0x03) from it (bytes of a packet wait
 * for the stop); without one, a debugger knocking stops the guest so the
 * loop can accept it.
 */
static void gdb_poll(void *opaque)
{
    struct gdbstub *g = opaque;
    if (g->fd < 0) {
        if (g->listen_fd < 0)
            return;
        struct pollfd pfd = { .fd = g->listen_fd, .events = POLLIN };
        if (poll(&pfd, 1, 0) == 1) {
            g->pending_connection = true;
            runner_interrupt(g->runner);
        }
        return;
    }
    if (!gdb_read_some(g, 0)) {
        gdb_clear_points(g);
        gdb_drop_client(g);
        runner_interrupt(g->runner);   /* the loop notices the debugger left */
        return;
    }
    while (g->in_pos < g->in_len && g->inbuf[g->in_pos] != '$') {
        if (g->inbuf[g->in_pos++] == 0x03)
            runner_interrupt(g->runner);
    }
}

/* The stop reply for a run's result; false when the machine finished. */
static bool gdb_stop_reply(struct gdbstub *g, enum run_result rr)
{
    struct runner *r = g->runner;
    char *s = g->stop_reply;
    size_t n = sizeof g->stop_reply;
    switch (rr) {
    case RUN_FINISHED:
        /* Power off or isa-debug-exit: an exit status; otherwise (triple
         * fault, halted for good, engine error) an abnormal end. */
        if (r->status == STATUS_POWER_OFF || (r->status & 1))
            snprintf(s, n, "W%02x", r->status & 0xFF);
        else
            snprintf(s, n, "X%02x", GDB_SIGABRT);
        return false;
    case RUN_INTERRUPTED:
        snprintf(s, n, "T%02xthread:01;", GDB_SIGINT);
        return true;
    case RUN_BREAKPOINT: {
        bool sw = false, hw = false;
        for (int k = 0; k < g->point_count; k++) {
            if (g->points[k].addr != r->address) continue;
            if (g->points[k].type == 0) sw = true;
            if (g->points[k].type == 1) hw = true;
        }
        snprintf(s, n, "T%02xthread:01;%s", GDB_SIGTRAP, sw ? "swbreak:;" : hw ? "hwbreak:;" : "");
        return true;
    }
    case RUN_WATCHPOINT: {
        static const char *const names[4] = { "", "watch", "rwatch", "awatch" };
        unsigned kind = (unsigned)r->last_exit.watch_kind;
        if (r->last_exit.watch_physical || kind < 1 || kind > 3)
            snprintf(s, n, "T%02xthread:01;", GDB_SIGTRAP);   /* the monitor's, not gdb's */
        else
            snprintf(s, n, "T%02xthread:01;%s:%x;", GDB_SIGTRAP, names[kind], r->address);
        return true;
    }
    case RUN_STEPPED:
    case RUN_BUDGET:
        break;
    }
    snprintf(s, n, "T%02xthread:01;", GDB_SIGTRAP);
    return true;
}

enum serve_result { SERVE_DETACHED, SERVE_FINISHED, SERVE_KILLED };

/* Serve the attached debugger until it leaves, kills, or the machine ends. */
static enum serve_result gdb_serve(struct gdbstub *g)
{
    for (;;) {
        while (g->in_pos < g->in_len && g->resume == GDB_RESUME_NONE)
            g->in_pos += gdbstub_feed(g, g->inbuf + g->in_pos, g->in_len - g->in_pos);

        switch (g->resume) {
        case GDB_RESUME_NONE:
            if (!gdb_read_some(g, -1)) {
                gdb_clear_points(g);      /* gdb went away: the guest goes on */
                gdb_drop_client(g);
                return SERVE_DETACHED;
            }
            continue;
        case GDB_RESUME_DETACH:
            g->resume = GDB_RESUME_NONE;
            gdb_clear_points(g);
            gdb_drop_client(g);
            return SERVE_DETACHED;
        case GDB_RESUME_KILL:
            g->resume = GDB_RESUME_NONE;
            gdb_drop_client(g);
            return SERVE_KILLED;
        case GDB_RESUME_CONTINUE:
        case GDB_RESUME_STEP: {
            bool step = g->resume == GDB_RESUME_STEP;
            g->resume = GDB_RESUME_NONE;
            enum run_result rr = runner_run(g->runner, 0, step);
            if (g->fd < 0)
                return rr == RUN_FINISHED ? SERVE_FINISHED : SERVE_DETACHED;   /* lost it */
            bool alive = gdb_stop_reply(g, rr);
            gdb_reply(g, g->stop_reply);
            if (!alive) {
                gdb_drop_client(g);
                return SERVE_FINISHED;
            }
            continue;
        }
        }
    }
}

int gdbstub_run(struct gdbstub *g, bool start_stopped)
{
    struct runner *r = g->runner;
    r->poll = gdb_poll;
    r->poll_opaque = g;
    if (start_stopped) {
        if (g->listen_fd < 0) {
            fprintf(stderr, "trapeze: -S: no debugger can attach (-gdb none)\n");
            return STATUS_USAGE;
        }
        fprintf(stderr, "trapeze: waiting for gdb to attach (-S)\n");
        g->pending_connection = true;
    }
    for (;;) {
        if (g->pending_connection && !gdb_accept(g) && start_stopped && g->fd < 0) {
            fprintf(stderr, "trapeze: gdb stub: accept failed: %s\n", strerror(errno));
            return STATUS_HOST;
        }
        start_stopped = false;
        if (g->fd >= 0) {
            enum serve_result sr = gdb_serve(g);
            if (sr == SERVE_FINISHED)
                return r->status;
            if (sr == SERVE_KILLED) {
                fprintf(stderr, "trapeze: killed by the debugger\n");
                return STATUS_POWER_OFF;
            }
            continue;
        }
        enum run_result rr = runner_run(r, 0, false);
        if (rr == RUN_FINISHED)
            return r->status;
        /* Without a debugger only its arrival (RUN_INTERRUPTED) matters. */
    }
}
