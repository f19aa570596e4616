/*
 * gdb_commands.c - the GDB stub's command handlers: one packet's contents
 * in, one reply out (g G p P m M X c s C S vCont Z z q Q H T k D ?;
 * qRcmd runs a monitor command).
 * Framing and the socket are gdb_packet.c's; the register convention and
 * the break- and watchpoints are gdbstub.c's.
 */
#include "monitor/gdb_private.h"

#include "monitor/monitor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- commands ---------- */

static void cmd_read_registers(struct gdbstub *g)
{
    struct x86_state s;
    struct gdb_out *o = calloc(1, sizeof *o);
    if (!o) { gdb_reply(g, "E0c"); return; }
    gdb_engine(g)->ops->get_state(gdb_engine(g), &s);
    for (int n = 0; n < GDB_REG_COUNT; n++)
        gdb_out_reg32(o, gdb_reg_get(&s, n));
    gdb_send_packet(g, o->buf, o->len);
    free(o);
}

static const char *cmd_write_registers(struct gdbstub *g, const char *p, const char *end)
{
    struct engine *e = gdb_engine(g);
    struct x86_state s;
    uint32_t v[GDB_REG_COUNT];
    for (int n = 0; n < GDB_REG_COUNT; n++)
        if (!gdb_parse_reg32(&p, end, &v[n]))
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
    if (!gdb_parse_hex(&p, end, &n) || p != end) { gdb_reply(g, "E01"); return; }
    if (n >= GDB_REG_COUNT && n < GDB_REG_COUNT + GDB_X87_REG_COUNT) {
        /* st0-st7 (10 bytes), then fctrl..fop (4 bytes): unavailable, no FPU. */
        gdb_reply(g, n < GDB_REG_COUNT + 8 ? "xxxxxxxxxxxxxxxxxxxx" : "xxxxxxxx");
        return;
    }
    if (n >= GDB_ALL_REG_COUNT) { gdb_reply(g, "E02"); return; }
    struct x86_state s;
    struct gdb_out o = { .len = 0 };
    gdb_engine(g)->ops->get_state(gdb_engine(g), &s);
    gdb_out_reg32(&o, gdb_reg_get(&s, (int)n));
    gdb_send_packet(g, o.buf, o.len);
}

static const char *cmd_write_register(struct gdbstub *g, const char *p, const char *end)
{
    uint32_t n, v;
    if (!gdb_parse_hex(&p, end, &n) || !gdb_expect_char(&p, end, '=') || !gdb_parse_reg32(&p, end, &v) || p != end)
        return "E01";
    if (n >= GDB_ALL_REG_COUNT || (n >= GDB_REG_COUNT && n < GDB_CR0))
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
    if (!gdb_parse_addr_len(&p, end, &addr, &len, 0)) { gdb_reply(g, "E01"); return; }
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
        gdb_out_hex8(o, buf[i]);
    gdb_send_packet(g, o->buf, o->len);
    free(o);
}

/* M ADDR,LEN:HEX and X ADDR,LEN:BINARY. */
static const char *cmd_write_memory(struct gdbstub *g, const char *p, const char *end, bool binary)
{
    uint32_t addr, len;
    if (!gdb_parse_addr_len(&p, end, &addr, &len, ':'))
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
            int hi = gdb_hex_value(p[2 * i]), lo = gdb_hex_value(p[2 * i + 1]);
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
    if (!gdb_parse_addr_len(&p, end, &off, &len, 0)) { gdb_reply(g, "E01"); return; }
    struct x86_state s;
    gdb_engine(g)->ops->get_state(gdb_engine(g), &s);
    bool code16 = !(s.cr0 & CR0_PE) || (s.eflags & EFLAGS_VM);
    char doc[GDB_TARGET_XML_MAX];
    size_t total = gdb_target_xml(doc, sizeof doc, code16);
    struct gdb_out *o = calloc(1, sizeof *o);
    if (!o) { gdb_reply(g, "E0c"); return; }
    if (off >= total) {
        gdb_out_char(o, 'l');
    } else {
        size_t n = total - off;
        /* Escaping can double a byte: stay within the reply buffer. */
        if (n > len) n = len;
        if (n > GDB_PACKET_MAX / 2) n = GDB_PACKET_MAX / 2;
        gdb_out_char(o, off + n >= total ? 'l' : 'm');
        gdb_out_binary(o, (const uint8_t *)doc + off, n);
    }
    gdb_send_packet(g, o->buf, o->len);
    free(o);
}

/* c/s [ADDR] and C/S SIG[;ADDR]: set the PC if given, then resume. */
static const char *cmd_resume(struct gdbstub *g, char kind, const char *p, const char *end)
{
    if (kind == 'C' || kind == 'S') {
        uint32_t sig;   /* the signal to deliver: a guest has none; ignored */
        if (!gdb_parse_hex(&p, end, &sig))
            return "E01";
        if (p != end && !gdb_expect_char(&p, end, ';'))
            return "E01";
    }
    if (p != end) {
        uint32_t addr;
        if (!gdb_parse_hex(&p, end, &addr) || p != end)
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
    if (!gdb_expect_char(&p, end, ';'))
        return "E01";
    char kind = 0;
    while (p < end) {
        char a = *p++;
        if (a != 'c' && a != 's' && a != 'C' && a != 'S')
            return "E01";
        if (a == 'C' || a == 'S') {
            uint32_t sig;
            if (!gdb_parse_hex(&p, end, &sig))
                return "E01";
        }
        bool ours = true;
        if (p < end && *p == ':') {
            p++;
            if (p < end && *p == '-') {           /* -1: all threads */
                p++;
                uint32_t one;
                if (!gdb_parse_hex(&p, end, &one) || one != 1)
                    return "E01";
            } else {
                uint32_t tid;
                if (!gdb_parse_hex(&p, end, &tid))
                    return "E01";
                ours = tid == 0 || tid == 1;
            }
        }
        if (p < end && !gdb_expect_char(&p, end, ';'))
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

/*
 * qRcmd,HEX: gdb's `monitor CMD`.  The command runs in the trapeze monitor
 * (monitor/commands.c) on the stopped guest, and its output goes back as
 * O packets (hex text, gdb prints it), then OK, as QEMU's gdbstub does.
 * Commands that run the guest are refused: gdb's stepi and continue do that.
 */
static void cmd_monitor(struct gdbstub *g, const char *p, const char *end)
{
    size_t n = (size_t)(end - p);
    if (n % 2 || n / 2 >= 1024) { gdb_reply(g, "E01"); return; }
    char line[1024];
    for (size_t k = 0; k < n / 2; k++) {
        int hi = gdb_hex_value(p[2 * k]), lo = gdb_hex_value(p[2 * k + 1]);
        if (hi < 0 || lo < 0) { gdb_reply(g, "E01"); return; }
        line[k] = (char)(hi << 4 | lo);
        if (!line[k]) { gdb_reply(g, "E01"); return; }
    }
    line[n / 2] = '\0';

    char *text = NULL;
    size_t text_len = 0;
    FILE *out = open_memstream(&text, &text_len);
    struct monitor *mon = calloc(1, sizeof *mon);
    if (!out || !mon) {
        if (out) fclose(out);
        free(text);
        free(mon);
        gdb_reply(g, "E0c");
        return;
    }
    monitor_init(mon, g->runner, out);
    if (monitor_command_runs_guest(line))
        fprintf(out, "error: `%s` runs the guest: use gdb's stepi, next, continue (the monitor's run commands "
                     "are not served from gdb)\n", line);
    else
        monitor_execute(mon, line);
    monitor_destroy(mon);
    free(mon);
    fclose(out);

    /* One O packet per chunk: "O" then two hex digits a byte. */
    struct gdb_out *o = malloc(sizeof *o);
    if (!o) { free(text); gdb_reply(g, "E0c"); return; }
    for (size_t at = 0; at < text_len;) {
        size_t chunk = text_len - at > 1024 ? 1024 : text_len - at;
        o->len = 0;
        gdb_out_char(o, 'O');
        for (size_t k = 0; k < chunk; k++) gdb_out_hex8(o, (uint8_t)text[at + k]);
        gdb_send_packet(g, o->buf, o->len);
        at += chunk;
    }
    free(o);
    free(text);
    gdb_reply(g, "OK");
}

static void cmd_query(struct gdbstub *g, const char *p, const char *end)
{
    if (starts_with(p, end, "qRcmd,")) {
        cmd_monitor(g, p + strlen("qRcmd,"), end);
        return;
    }
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
