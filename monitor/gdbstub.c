/*
 * gdbstub.c - the GDB remote serial protocol (gdb manual, appendix E
 * "GDB Remote Serial Protocol"), over TCP: the register convention, the
 * break- and watchpoints, and the loop that serves the debugger.  The
 * packet layer (framing, acks, the socket) is gdb_packet.c, the command
 * handlers gdb_commands.c; gdb_private.h is what the three share.
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
#include "monitor/gdb_private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "machine/machine.h"

/* gdb's segment register order -> enum x86_sreg. */
static const int gdb_sreg[6] = { SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS };

/* ---------- registers and the address convention ---------- */

/* The PC gdb sees: the linear address CS.base + EIP (see the top). */
uint32_t gdb_pc(const struct x86_state *s)
{
    return s->seg[SEG_CS].base + s->eip;
}

/*
 * gdb wrote the PC 'lin': EIP = lin - CS.base.  In real mode a PC outside
 * the current 64 KiB code segment moves CS too (CS = lin >> 4, so IP is
 * 0-15), which is what "jump *0x7c00" from another segment means.
 * Returns false when no CS:IP reaches it (above 0x10FFEF in real mode).
 */
bool gdb_set_pc(struct x86_state *s, uint32_t lin)
{
    uint32_t ip = lin - s->seg[SEG_CS].base;
    if (!gdb_real_mode(s)) {
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

uint32_t gdb_reg_get(const struct x86_state *s, int n)
{
    if (n <= GDB_EDI) return s->regs[n];   /* the same order as enum x86_reg */
    if (n == GDB_EIP) return gdb_pc(s);
    if (n == GDB_EFLAGS) return s->eflags;
    if (n == GDB_CR0) return s->cr0;
    if (n == GDB_CR2) return s->cr2;
    if (n == GDB_CR3) return s->cr3;
    if (n == GDB_CR4) return s->cr4;
    return s->seg[gdb_sreg[n - GDB_CS]].selector;
}

/*
 * Write register n.  Segment registers: in real mode a selector write sets
 * the base to selector * 16 (SDM Vol. 3A 20.1.1); in protected mode the
 * stub does not load descriptors, so only the value already there is
 * accepted (gdb's G packet writes every register back).  False: refused.
 */
bool gdb_reg_set(struct x86_state *s, int n, uint32_t v)
{
    if (n <= GDB_EDI) { s->regs[n] = v; return true; }
    if (n == GDB_EIP) return gdb_set_pc(s, v);
    /* The control registers as the monitor's `set cr0` writes them. */
    if (n == GDB_CR0) { s->cr0 = v; return true; }
    if (n == GDB_CR2) { s->cr2 = v; return true; }
    if (n == GDB_CR3) { s->cr3 = v; return true; }
    if (n == GDB_CR4) { s->cr4 = v; return true; }
    if (n == GDB_EFLAGS) {
        s->eflags = v | EFLAGS_FIXED1;
        return true;
    }
    struct x86_segment *sg = &s->seg[gdb_sreg[n - GDB_CS]];
    if (v > 0xFFFF)
        return false;
    if (sg->selector == v)
        return true;
    if (!gdb_real_mode(s))
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
const char *gdb_point(struct gdbstub *g, bool insert, const char *p, const char *end)
{
    struct engine *e = gdb_engine(g);
    uint32_t type, addr, len;
    if (!gdb_parse_hex(&p, end, &type) || !gdb_expect_char(&p, end, ','))
        return "E01";
    if (type > 4)
        return "";   /* not supported: gdb falls back */
    /* ADDR,KIND, then for breakpoints possibly ";cond..." (not advertised). */
    if (!gdb_parse_hex(&p, end, &addr) || !gdb_expect_char(&p, end, ',') || !gdb_parse_hex(&p, end, &len) ||
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
void gdb_clear_points(struct gdbstub *g)
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

static bool gdb_stop_reply(struct gdbstub *g, enum run_result rr)
{
    struct runner *r = g->runner;
    char *s = g->stop_reply;
    size_t n = sizeof g->stop_reply;
    switch (rr) {
    case RUN_FINISHED:
        /* Power off or isa-debug-exit: an exit status; the instruction
         * cap: gdb's SIGXCPU ("CPU time limit exceeded"), as a process
         * past its RLIMIT_CPU; otherwise (triple fault, halted for good,
         * engine error) an abnormal end.  The process then exits with its
         * status (8 for the cap). */
        if (r->status == STATUS_POWER_OFF || (r->status & 1))
            snprintf(s, n, "W%02x", r->status & 0xFF);
        else if (r->status == STATUS_INSN_CAP)
            snprintf(s, n, "X%02x", GDB_SIGXCPU);
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
