/*
 * commands.c - the monitor's commands: one table, one parser, one run loop.
 *
 * A line is split into words; the first picks a row of 'commands' (by name
 * or alias, gdb's and Bochs's spellings), the rest go to its handler as
 * argc/argv.  A few commands glue a suffix to the name (x/4xw, display/i),
 * split off before the lookup.  Every handler reports a bad argument in
 * one line and returns; nothing here exits the process.
 *
 * Running the guest (step, next, continue, until, finish) goes through
 * mon_go.  It runs at full speed with the engine's breakpoints and
 * watchpoints set, or one instruction at a time through the runner when
 * something can only be seen that way: stepping itself, a trace, and
 * breakpoints on physical addresses, vectors and I/O ports.
 *
 * Worked example (tests/guests/monitor_step.sh):
 *   (trapeze) step
 *   0008:00100000 (00100000)  bc 00 00 11 00  mov esp, 0x110000
 *       esp 0007ff00 -> 00110000
 *   => 0008:00100005 (00100005)  e8 2a 00 00 00  call 0x100034
 */
#include "monitor/monitor.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "machine/machine.h"
#include "base/snapshot.h"
#include "mmu/mmu.h"
#include "monitor/cmd_log.h"
#include "monitor/disasm.h"
#include "monitor/expr.h"
#include "monitor/tables.h"

#define MAX_ARGS 16

struct command {
    const char *name;
    const char *alias;       /* short form, or NULL */
    void (*run)(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
    const char *usage;
    const char *help;
};

static const struct command commands[];

__attribute__((format(printf, 2, 3)))
static void say(struct monitor *mon, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(mon->out, fmt, ap);
    va_end(ap);
}

static void get_state(struct monitor *mon, struct x86_state *s)
{
    mon->engine->ops->get_state(mon->engine, s);
}

/* An expression's value, or one error line and false. */
static bool eval(struct monitor *mon, const char *text, uint32_t *v)
{
    struct x86_state s;
    char why[160];
    get_state(mon, &s);
    if (!expr_eval(text, &s, mon->engine, &mon->symbols, v, why, sizeof why)) {
        say(mon, "error: %s: %s\n", text, why);
        return false;
    }
    return true;
}

/* An address: an expression, or SEL:OFF (real mode: SEL*16+OFF; protected: the descriptor's base). */
static bool eval_address(struct monitor *mon, const char *text, uint32_t *lin)
{
    const char *colon = strchr(text, ':');
    if (!colon || strchr(colon + 1, ':'))
        return eval(mon, text, lin);
    char sel_text[64];
    size_t n = (size_t)(colon - text);
    if (n >= sizeof sel_text) { say(mon, "error: %s: selector too long\n", text); return false; }
    memcpy(sel_text, text, n);
    sel_text[n] = '\0';
    uint32_t sel, off, base;
    if (!eval(mon, sel_text, &sel) || !eval(mon, colon + 1, &off)) return false;
    if (sel > 0xFFFF) { say(mon, "error: %s: a selector has 16 bits\n", text); return false; }
    struct x86_state s;
    const char *why = NULL;
    get_state(mon, &s);
    if (!tables_segment_base(mon->engine, &s, (uint16_t)sel, &base, &why)) {
        say(mon, "error: %s: %s\n", text, why);
        return false;
    }
    *lin = base + off;
    return true;
}

/* ---------------------------------------------------------------- showing instructions */

static uint32_t code_linear(const struct x86_state *s) { return s->seg[SEG_CS].base + s->eip; }

/* Decode the instruction at linear 'lin' in the mode of 's'. */
static bool decode_at(struct monitor *mon, const struct x86_state *s, uint32_t lin, struct disasm_insn *d)
{
    uint8_t buf[DISASM_MAX_BYTES];
    uint32_t got = 0;
    /* Read byte by byte near the end of mapped memory: the instruction may be shorter. */
    if (mon->engine->ops->read_linear(mon->engine, lin, buf, sizeof buf)) got = sizeof buf;
    else while (got < sizeof buf && mon->engine->ops->read_linear(mon->engine, lin + got, buf + got, 1)) got++;
    if (!got) {
        memset(d, 0, sizeof *d);
        d->io_port = -1;
        snprintf(d->text, sizeof d->text, "(cannot read %08x: not mapped)", lin);
        return false;
    }
    return disasm_one(tables_code_bits(s), lin, buf, got, d);
}

static void print_insn_line(const struct monitor *mon, FILE *out, const char *prefix, uint16_t cs, uint32_t eip,
                            int bits, uint32_t lin, const struct disasm_insn *d)
{
    uint32_t off;
    const char *sym = symbols_nearest(&mon->symbols, lin, &off);
    char label[80] = "";
    if (sym && off) snprintf(label, sizeof label, "   <%.60s+%u>", sym, off);
    else if (sym) snprintf(label, sizeof label, "   <%.60s>", sym);
    char bytes[3 * DISASM_MAX_BYTES + 1] = "";
    for (uint32_t k = 0; k < d->size && k < 8; k++)
        snprintf(bytes + 3 * k, 4, "%02x ", d->bytes[k]);
    if (d->size > 8) strcat(bytes, "..");
    if (bits == 16)
        fprintf(out, "%s%04x:%04x (%08x)  %-24s %s%s\n", prefix, cs, eip & 0xFFFF, lin, bytes, d->text, label);
    else
        fprintf(out, "%s%04x:%08x (%08x)  %-24s %s%s\n", prefix, cs, eip, lin, bytes, d->text, label);
}

static void print_at(struct monitor *mon, FILE *out, const char *prefix, const struct x86_state *s)
{
    struct disasm_insn d;
    decode_at(mon, s, code_linear(s), &d);
    print_insn_line(mon, out, prefix, s->seg[SEG_CS].selector, s->eip, tables_code_bits(s), code_linear(s), &d);
}

static const char *const gpr_names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
static const char *const sreg_names[SEG_COUNT] = { "es", "cs", "ss", "ds", "fs", "gs" };

/* EFLAGS bits by name (SDM Vol. 1 3.4.3). */
static void print_flags(FILE *out, uint32_t f)
{
    static const struct { uint32_t bit; const char *name; } names[] = {
        { EFLAGS_ID, "ID" }, { EFLAGS_VIP, "VIP" }, { EFLAGS_VIF, "VIF" }, { EFLAGS_AC, "AC" },
        { EFLAGS_VM, "VM" }, { EFLAGS_RF, "RF" }, { EFLAGS_NT, "NT" }, { EFLAGS_OF, "OF" },
        { EFLAGS_DF, "DF" }, { EFLAGS_IF, "IF" }, { EFLAGS_TF, "TF" }, { EFLAGS_SF, "SF" },
        { EFLAGS_ZF, "ZF" }, { EFLAGS_AF, "AF" }, { EFLAGS_PF, "PF" }, { EFLAGS_CF, "CF" },
    };
    fputc('[', out);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (f & names[k].bit) fprintf(out, " %s", names[k].name);
    fprintf(out, " IOPL=%u ]", (f & EFLAGS_IOPL) >> EFLAGS_IOPL_SHIFT);
}

/* The registers an instruction changed, "    eax 00000001 -> 00000002 ...". */
static void print_changes(FILE *out, const struct x86_state *a, const struct x86_state *b, uint32_t next_eip)
{
    bool any = false;
    fputs("   ", out);
    for (int k = 0; k < 8; k++)
        if (a->regs[k] != b->regs[k]) { fprintf(out, " %s %08x -> %08x", gpr_names[k], a->regs[k], b->regs[k]); any = true; }
    if (b->eip != next_eip) { fprintf(out, " eip %08x -> %08x", a->eip, b->eip); any = true; }
    for (int k = 0; k < SEG_COUNT; k++)
        if (a->seg[k].selector != b->seg[k].selector || a->seg[k].base != b->seg[k].base) {
            fprintf(out, " %s %04x -> %04x", sreg_names[k], a->seg[k].selector, b->seg[k].selector);
            any = true;
        }
    if (a->cr0 != b->cr0) { fprintf(out, " cr0 %08x -> %08x", a->cr0, b->cr0); any = true; }
    if (a->cr2 != b->cr2) { fprintf(out, " cr2 %08x -> %08x", a->cr2, b->cr2); any = true; }
    if (a->cr3 != b->cr3) { fprintf(out, " cr3 %08x -> %08x", a->cr3, b->cr3); any = true; }
    if (a->cr4 != b->cr4) { fprintf(out, " cr4 %08x -> %08x", a->cr4, b->cr4); any = true; }
    if (a->gdtr.base != b->gdtr.base || a->gdtr.limit != b->gdtr.limit) {
        fprintf(out, " gdtr %08x:%04x", b->gdtr.base, b->gdtr.limit); any = true;
    }
    if (a->idtr.base != b->idtr.base || a->idtr.limit != b->idtr.limit) {
        fprintf(out, " idtr %08x:%04x", b->idtr.base, b->idtr.limit); any = true;
    }
    if (a->ldtr.selector != b->ldtr.selector) { fprintf(out, " ldtr %04x", b->ldtr.selector); any = true; }
    if (a->tr.selector != b->tr.selector) { fprintf(out, " tr %04x", b->tr.selector); any = true; }
    if (a->cpl != b->cpl) { fprintf(out, " cpl %u -> %u", a->cpl, b->cpl); any = true; }
    if (a->eflags != b->eflags) {
        fprintf(out, " eflags %08x -> %08x ", a->eflags, b->eflags);
        print_flags(out, b->eflags);
        any = true;
    }
    if (!any) fputs(" (no register changed)", out);
    fputc('\n', out);
}

/* ---------------------------------------------------------------- memory display */

static bool read_mem(struct monitor *mon, bool physical, uint32_t addr, void *buf, uint32_t len)
{
    if (!physical) return mon->engine->ops->read_linear(mon->engine, addr, buf, len);
    if ((uint64_t)addr + len > 0x100000000ull) return false;
    bus_read_block(&mon->machine->bus, addr, buf, len);
    return true;
}

static unsigned unit_size(char u) { return u == 'b' ? 1 : u == 'h' ? 2 : u == 'g' ? 8 : 4; }

/* Parse gdb's /FMT: count, format letter, unit letter in any order. */
static bool parse_format(struct monitor *mon, const char *fmt, int *count, char *format, char *unit)
{
    const char *p = fmt;
    if (isdigit((unsigned char)*p)) {
        char *end;
        errno = 0;
        long n = strtol(p, &end, 10);
        if (errno || n < 1 || n > 4096) { say(mon, "error: /%s: count must be 1 to 4096\n", fmt); return false; }
        *count = (int)n;
        p = end;
    }
    for (; *p; p++) {
        if (strchr("xducsi", *p)) *format = *p;
        else if (strchr("bhwg", *p)) *unit = *p;
        else { say(mon, "error: /%s: '%c' is no format (x d u c s i) or unit (b h w g)\n", fmt, *p); return false; }
    }
    return true;
}

static void dump_memory(struct monitor *mon, bool physical, uint32_t addr, int count, char format, char unit)
{
    FILE *out = mon->out;
    struct x86_state s;
    get_state(mon, &s);
    if (format == 'i') {
        for (int k = 0; k < count; k++) {
            struct disasm_insn d;
            uint8_t buf[DISASM_MAX_BYTES];
            if (!read_mem(mon, physical, addr, buf, sizeof buf)) {
                say(mon, "%08x: cannot read (not mapped)\n", addr);
                return;
            }
            disasm_one(tables_code_bits(&s), addr, buf, sizeof buf, &d);
            if (!d.size) d.size = 1;
            print_insn_line(mon, out, addr == code_linear(&s) && !physical ? "=> " : "   ",
                            s.seg[SEG_CS].selector, addr - s.seg[SEG_CS].base, tables_code_bits(&s), addr, &d);
            addr += d.size;
        }
        mon->x_next = addr;
        return;
    }
    if (format == 's') {
        for (int k = 0; k < count; k++) {
            say(mon, "%08x: \"", addr);
            for (int n = 0; n < 4096; n++) {
                uint8_t c;
                if (!read_mem(mon, physical, addr, &c, 1)) { say(mon, "<not mapped>"); break; }
                addr++;
                if (!c) break;
                if (c == '"' || c == '\\') say(mon, "\\%c", c);
                else if (isprint(c)) fputc(c, out);
                else say(mon, "\\x%02x", c);
            }
            say(mon, "\"\n");
        }
        mon->x_next = addr;
        return;
    }
    unsigned size = unit_size(unit);
    unsigned per_line = 16 / size;
    if (format == 'c') { size = 1; per_line = 16; }
    for (int k = 0; k < count;) {
        uint8_t line[16];
        unsigned n = 0;
        say(mon, "%08x:", addr);
        for (; n < per_line && k < count; n++, k++) {
            uint8_t b[8];
            if (!read_mem(mon, physical, addr + n * size, b, size)) {
                say(mon, " <not mapped>\n");
                mon->x_next = addr + n * size;
                return;
            }
            memcpy(line + n * size, b, size);
            uint64_t v = 0;
            for (unsigned j = 0; j < size; j++) v |= (uint64_t)b[j] << (8 * j);
            switch (format) {
            case 'd': {
                int64_t sv = size == 8 ? (int64_t)v : (int64_t)(v << (64 - 8 * size)) >> (64 - 8 * size);
                say(mon, " %*lld", (int)(size * 3 + 1), (long long)sv);
                break;
            }
            case 'u': say(mon, " %*llu", (int)(size * 3), (unsigned long long)v); break;
            case 'c': say(mon, " %3u '%c'", b[0], isprint(b[0]) ? b[0] : '.'); break;
            default:  say(mon, " 0x%0*llx", (int)size * 2, (unsigned long long)v); break;
            }
        }
        if (format != 'c') {
            say(mon, "  |");
            for (unsigned j = 0; j < n * size; j++) fputc(isprint(line[j]) ? line[j] : '.', out);
            say(mon, "|");
        }
        say(mon, "\n");
        addr += n * size;
    }
    mon->x_next = addr;
}

/* ---------------------------------------------------------------- displays */

static void show_displays(struct monitor *mon)
{
    for (int k = 0; k < MON_MAX_DISPLAYS; k++) {
        struct mon_display *d = &mon->displays[k];
        if (!d->id) continue;
        if (d->memory) {
            uint32_t a;
            say(mon, "%d: x/%d%c%c %s\n", d->id, d->count, d->format, d->unit, d->text);
            if (eval_address(mon, d->text, &a)) dump_memory(mon, false, a, d->count, d->format, d->unit);
        } else {
            uint32_t v;
            struct x86_state s;
            char why[160];
            get_state(mon, &s);
            if (expr_eval(d->text, &s, mon->engine, &mon->symbols, &v, why, sizeof why))
                say(mon, "%d: %s = 0x%08x (%u)\n", d->id, d->text, v, v);
            else
                say(mon, "%d: %s: %s\n", d->id, d->text, why);
        }
    }
}

void monitor_show_location(struct monitor *mon)
{
    struct x86_state s;
    get_state(mon, &s);
    print_at(mon, mon->out, "=> ", &s);
    show_displays(mon);
}

/* ---------------------------------------------------------------- running */

static const char *vector_name(int v)
{
    static const char *const names[32] = {
        [0] = "#DE", [1] = "#DB", [2] = "NMI", [3] = "#BP", [4] = "#OF", [5] = "#BR", [6] = "#UD",
        [7] = "#NM", [8] = "#DF", [9] = "coprocessor overrun", [10] = "#TS", [11] = "#NP",
        [12] = "#SS", [13] = "#GP", [14] = "#PF", [16] = "#MF", [17] = "#AC", [18] = "#MC", [19] = "#XM",
    };
    return v < 32 && names[v] ? names[v] : "";
}

/* Tell the user why the guest can run no more (the runner printed its own line too). */
static void report_finished(struct monitor *mon)
{
    int st = mon->runner->status;
    if (st == STATUS_POWER_OFF) say(mon, "the guest powered off (exit status 0)\n");
    else if (st & 1) say(mon, "the guest exited through isa-debug-exit with value 0x%02x (exit status %d)\n", st >> 1, st);
    else if (st == STATUS_GUEST_STUCK) say(mon, "the guest stopped for good: triple fault or halted with nothing to wake it "
                                               "(exit status 4; `info fault` shows a fault chain)\n");
    else say(mon, "the guest cannot run any more (exit status %d)\n", st);
}

static bool guest_can_run(struct monitor *mon)
{
    if (!mon->runner->finished) return true;
    say(mon, "error: nothing to run: ");
    report_finished(mon);
    return false;
}

static int install_one(struct monitor *mon, struct mon_bp *b)
{
    const struct engine_ops *ops = mon->engine->ops;
    int err = 0;
    if (b->kind == BP_LINEAR) err = ops->set_breakpoint(mon->engine, b->addr);
    else if (b->kind == WP_LINEAR || b->kind == WP_PHYSICAL) {
        if (!ops->set_watchpoint) return -ENOSYS;
        err = ops->set_watchpoint(mon->engine, b->addr, b->len, (enum engine_watch_kind)b->watch_kind,
                                  b->kind == WP_PHYSICAL);
    } else return 0;
    if (err == 0) b->installed = true;
    return err;
}

static void uninstall_all(struct monitor *mon)
{
    const struct engine_ops *ops = mon->engine->ops;
    for (int k = 0; k < MON_MAX_BPS; k++) {
        struct mon_bp *b = &mon->bps[k];
        if (!b->id || !b->installed) continue;
        if (b->kind == BP_LINEAR) ops->clear_breakpoint(mon->engine, b->addr);
        else if (ops->clear_watchpoint)
            ops->clear_watchpoint(mon->engine, b->addr, b->len, (enum engine_watch_kind)b->watch_kind,
                                  b->kind == WP_PHYSICAL);
        b->installed = false;
    }
}

static bool condition_holds(struct monitor *mon, struct mon_bp *b)
{
    if (!b->cond[0]) return true;
    struct x86_state s;
    char why[160];
    uint32_t v;
    get_state(mon, &s);
    if (!expr_eval(b->cond, &s, mon->engine, &mon->symbols, &v, why, sizeof why)) {
        say(mon, "breakpoint %d: condition '%s' cannot be evaluated (%s): stopping\n", b->id, b->cond, why);
        return true;
    }
    return v != 0;
}

static const char *watch_kind_name(int k)
{
    return k == ENGINE_WATCH_WRITE ? "write" : k == ENGINE_WATCH_READ ? "read" : "access";
}

/* A breakpoint fired: count it, say so, drop it when temporary. */
static void hit(struct monitor *mon, struct mon_bp *b, const char *what)
{
    b->hits++;
    say(mon, "%s %d%s, %s\n", b->kind >= WP_LINEAR ? "Watchpoint" : "Breakpoint", b->id,
        b->temporary ? " (temporary)" : "", what);
    if (b->temporary) b->id = 0;
}

enum go_mode { GO_STEP, GO_CONTINUE, GO_TO };

/* The physical address of linear 'lin' now, or false when unmapped. */
static bool physical_of(struct monitor *mon, const struct x86_state *s, uint32_t lin, uint32_t *pa)
{
    struct mmu mmu;
    struct mmu_walk w;
    mmu_init(&mmu, &mon->machine->bus);
    mmu_walk(&mmu, &(struct paging_regs){ s->cr0, s->cr3, s->cr4 }, lin, MMU_FETCH, s->cpl == 3, false, &w);
    *pa = w.paddr;
    return w.ok;
}

/* The exceptions and interrupts one step raised and delivered, one line each. */
static void print_events(FILE *t, const char *indent, const struct engine_counters *c0, const struct engine_counters *c1)
{
    for (int v = 0; v < 32; v++)
        if (c1->exceptions[v] != c0->exceptions[v])
            fprintf(t, "%sexception %d %s raised\n", indent, v, vector_name(v));
    for (int v = 0; v < 256; v++)
        if (c1->interrupts[v] != c0->interrupts[v])
            fprintf(t, "%sinterrupt vector 0x%02x delivered\n", indent, v);
}

/* One trace line per step, as QEMU's -d in_asm,exec: "exec" when the instruction
 * completed, "fault" when it raised an exception instead; then the events. */
static void trace_step(struct monitor *mon, const struct x86_state *before, const struct disasm_insn *d,
                       const struct engine_counters *c0, const struct engine_counters *c1)
{
    FILE *t = mon->trace;
    print_insn_line(mon, t, c1->instructions != c0->instructions ? "exec  " : "fault ", before->seg[SEG_CS].selector,
                    before->eip, tables_code_bits(before), code_linear(before), d);
    print_events(t, "      ", c0, c1);
}

/*
 * Run the guest.  GO_STEP runs 'count' instructions showing each; GO_TO
 * stops at linear 'target' (with 'min_esp': only once ESP > min_esp, for
 * `finish`); GO_CONTINUE runs until a breakpoint, Ctrl-C or the end.
 */
static void mon_go(struct monitor *mon, enum go_mode mode, uint64_t count, uint32_t target,
                   bool check_esp, uint32_t min_esp)
{
    struct runner *r = mon->runner;
    bool slow = mode == GO_STEP || mon->trace;
    if (!guest_can_run(mon)) return;
    for (int k = 0; k < MON_MAX_BPS; k++) {
        struct mon_bp *b = &mon->bps[k];
        if (!b->id || !b->enabled) continue;
        if (b->kind == BP_PHYSICAL || b->kind == BP_VECTOR || b->kind == BP_IO) slow = true;
        else if (install_one(mon, b) < 0)
            say(mon, "warning: breakpoint %d cannot be set in the engine (too many?): ignored this time\n", b->id);
    }
    bool target_is_user_bp = false;
    if (mode == GO_TO && !slow) {
        if (mon->engine->ops->set_breakpoint(mon->engine, target) < 0) slow = true;
        for (int k = 0; k < MON_MAX_BPS; k++)
            if (mon->bps[k].id && mon->bps[k].installed && mon->bps[k].kind == BP_LINEAR && mon->bps[k].addr == target)
                target_is_user_bp = true;
    }
    fflush(mon->out);
    mon->interrupt = 0;
    mon->call_frame_valid = false;
    bool stopped = false, show_next = true;
    uint64_t steps = 0;

    while (!stopped) {
        struct x86_state before, after;
        get_state(mon, &before);
        if (slow) {
            struct disasm_insn d;
            struct engine_counters c0, c1;
            decode_at(mon, &before, code_linear(&before), &d);
            mon->engine->ops->get_counters(mon->engine, &c0);
            enum run_result res = runner_run(r, 1, true);
            mon->engine->ops->get_counters(mon->engine, &c1);
            get_state(mon, &after);
            if (mon->trace) trace_step(mon, &before, &d, &c0, &c1);
            if (mode == GO_STEP) {
                print_insn_line(mon, mon->out, "", before.seg[SEG_CS].selector, before.eip, tables_code_bits(&before),
                                code_linear(&before), &d);
                uint32_t next = before.eip + d.size;
                if (tables_code_bits(&before) == 16) next &= 0xFFFF;
                print_changes(mon->out, &before, &after, next);
                print_events(mon->out, "    ", &c0, &c1);
                if (d.is_call && after.eip != next) {
                    mon->call_frame_valid = true;
                    mon->call_frame_esp = after.regs[R_ESP];
                    mon->call_frame_bits = tables_code_bits(&before);
                } else {
                    mon->call_frame_valid = false;
                }
                fflush(mon->out);
            }
            if (res == RUN_FINISHED) { report_finished(mon); show_next = false; break; }
            if (res == RUN_WATCHPOINT) goto watchpoint;
            if (mon->interrupt) { say(mon, "interrupted (Ctrl-C)\n"); break; }
            /* What the instruction just run fired. */
            for (int k = 0; k < MON_MAX_BPS && !stopped; k++) {
                struct mon_bp *b = &mon->bps[k];
                char what[96];
                if (!b->id || !b->enabled) continue;
                if (b->kind == BP_VECTOR && (c1.interrupts[b->addr] != c0.interrupts[b->addr] ||
                                             (b->addr < 32 && c1.exceptions[b->addr] != c0.exceptions[b->addr]))) {
                    snprintf(what, sizeof what, "vector 0x%02x %s raised", b->addr, vector_name((int)b->addr));
                } else if (b->kind == BP_IO && d.is_io && c1.instructions != c0.instructions &&
                           (uint32_t)(d.io_port >= 0 ? d.io_port : (int)(before.regs[R_EDX] & 0xFFFF)) == b->addr) {
                    snprintf(what, sizeof what, "I/O port 0x%04x accessed by %.40s", b->addr, d.text);
                } else continue;
                if (condition_holds(mon, b)) { hit(mon, b, what); stopped = true; }
            }
            if (stopped) break;
            steps++;
            if (mode == GO_STEP && steps >= count) break;
            uint32_t lin = code_linear(&after), pa;
            for (int k = 0; k < MON_MAX_BPS && !stopped; k++) {
                struct mon_bp *b = &mon->bps[k];
                char what[96];
                if (!b->id || !b->enabled) continue;
                if (b->kind == BP_LINEAR && b->addr == lin)
                    snprintf(what, sizeof what, "linear %08x", lin);
                else if (b->kind == BP_PHYSICAL && physical_of(mon, &after, lin, &pa) && pa == b->addr)
                    snprintf(what, sizeof what, "physical %08x (linear %08x)", pa, lin);
                else continue;
                if (condition_holds(mon, b)) { hit(mon, b, what); stopped = true; }
            }
            if (!stopped && mode == GO_TO && lin == target && (!check_esp || after.regs[R_ESP] > min_esp))
                stopped = true;
            continue;
        }

        enum run_result res = runner_run(r, 0, false);
        if (res == RUN_FINISHED) { report_finished(mon); show_next = false; break; }
        if (res == RUN_INTERRUPTED || mon->interrupt) { say(mon, "interrupted (Ctrl-C)\n"); break; }
        if (res == RUN_BREAKPOINT) {
            get_state(mon, &after);
            for (int k = 0; k < MON_MAX_BPS && !stopped; k++) {
                struct mon_bp *b = &mon->bps[k];
                char what[64];
                if (!b->id || !b->enabled || b->kind != BP_LINEAR || b->addr != r->address) continue;
                snprintf(what, sizeof what, "linear %08x", r->address);
                if (condition_holds(mon, b)) { hit(mon, b, what); stopped = true; }
            }
            if (!stopped && mode == GO_TO && r->address == target && (!check_esp || after.regs[R_ESP] > min_esp))
                stopped = true;
            continue;   /* a condition that does not hold: run on (the first instruction is not re-checked) */
        }
        if (res == RUN_WATCHPOINT) {
watchpoint:
            for (int k = 0; k < MON_MAX_BPS; k++) {
                struct mon_bp *b = &mon->bps[k];
                if (!b->id || !b->enabled || (b->kind != WP_LINEAR && b->kind != WP_PHYSICAL)) continue;
                if (r->address < b->addr || r->address - b->addr >= b->len) continue;
                char what[96];
                snprintf(what, sizeof what, "%s of %s %08x by the instruction before", watch_kind_name(b->watch_kind),
                         b->kind == WP_PHYSICAL ? "physical" : "linear", r->address);
                if (condition_holds(mon, b)) { hit(mon, b, what); stopped = true; }
                break;
            }
            if (!stopped && !slow) continue;
            break;
        }
    }
    uninstall_all(mon);
    if (mode == GO_TO && !slow && !target_is_user_bp) mon->engine->ops->clear_breakpoint(mon->engine, target);
    if (show_next) monitor_show_location(mon);
}

void monitor_run_to(struct monitor *mon, uint32_t lin)
{
    struct x86_state s;
    get_state(mon, &s);
    if (code_linear(&s) == lin || mon->runner->finished) return;
    say(mon, "running the BIOS to the kernel's entry point %08x (`help` lists the commands)\n", lin);
    mon_go(mon, GO_TO, 0, lin, false, 0);
}

static bool parse_count(struct monitor *mon, const char *text, uint64_t *n)
{
    uint32_t v;
    if (!eval(mon, text, &v)) return false;
    if (v == 0) { say(mon, "error: %s: the count must be at least 1\n", text); return false; }
    *n = v;
    return true;
}

static void cmd_step(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    uint64_t n = 1;
    if (argc > 2) { say(mon, "usage: step [N]\n"); return; }
    if (argc == 2 && !parse_count(mon, argv[1], &n)) return;
    mon_go(mon, GO_STEP, n, 0, false, 0);
}

static void cmd_next(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    struct x86_state s;
    struct disasm_insn d;
    if (argc != 1) { say(mon, "usage: next\n"); return; }
    if (!guest_can_run(mon)) return;
    get_state(mon, &s);
    decode_at(mon, &s, code_linear(&s), &d);
    if (!d.size || !(d.is_call || d.is_int || d.is_rep)) {
        mon_go(mon, GO_STEP, 1, 0, false, 0);
        return;
    }
    uint32_t eip = s.eip + d.size;
    if (tables_code_bits(&s) == 16) eip &= 0xFFFF;
    say(mon, "next: over '%s', to %08x\n", d.text, s.seg[SEG_CS].base + eip);
    mon_go(mon, GO_TO, 0, s.seg[SEG_CS].base + eip, false, 0);
}

static void cmd_continue(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    if (argc != 1) { say(mon, "usage: continue\n"); return; }
    if (mon->mux) say(mon, "(the console is the guest's now: Ctrl-A c comes back)\n");
    mon_go(mon, GO_CONTINUE, 0, 0, false, 0);
}

static void cmd_until(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    uint32_t a;
    if (argc != 2) { say(mon, "usage: until ADDR\n"); return; }
    if (!eval_address(mon, argv[1], &a)) return;
    mon_go(mon, GO_TO, 0, a, false, 0);
}

static void cmd_finish(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    struct x86_state s;
    if (argc != 1) { say(mon, "usage: finish\n"); return; }
    if (!guest_can_run(mon)) return;
    get_state(mon, &s);
    if (!mon->call_frame_valid || s.regs[R_ESP] != mon->call_frame_esp) {
        say(mon, "error: finish needs the return address: `step` into a near CALL first (it is then at [ESP]); "
                 "trapeze does not unwind stack frames\n");
        return;
    }
    uint8_t b[4] = { 0 };
    unsigned size = mon->call_frame_bits == 16 ? 2 : 4;
    if (!mon->engine->ops->read_linear(mon->engine, s.seg[SEG_SS].base + s.regs[R_ESP], b, size)) {
        say(mon, "error: the stack at %08x is not mapped\n", s.seg[SEG_SS].base + s.regs[R_ESP]);
        return;
    }
    uint32_t ret = b[0] | b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    say(mon, "finish: run to the return address %08x (from [esp] = %08x)\n", s.seg[SEG_CS].base + ret,
        s.seg[SEG_SS].base + s.regs[R_ESP]);
    mon_go(mon, GO_TO, 0, s.seg[SEG_CS].base + ret, true, s.regs[R_ESP]);
}

/* ---------------------------------------------------------------- breakpoints */

static struct mon_bp *new_bp(struct monitor *mon)
{
    for (int k = 0; k < MON_MAX_BPS; k++)
        if (!mon->bps[k].id) {
            memset(&mon->bps[k], 0, sizeof mon->bps[k]);
            mon->bps[k].id = ++mon->next_bp_id;
            mon->bps[k].enabled = true;
            return &mon->bps[k];
        }
    say(mon, "error: %d breakpoints and watchpoints at most: delete some\n", MON_MAX_BPS);
    return NULL;
}

static void describe_bp(struct monitor *mon, const struct mon_bp *b)
{
    switch (b->kind) {
    case BP_LINEAR:   say(mon, "linear %08x", b->addr); break;
    case BP_PHYSICAL: say(mon, "physical %08x", b->addr); break;
    case BP_VECTOR:   say(mon, "vector 0x%02x %s", b->addr, vector_name((int)b->addr)); break;
    case BP_IO:       say(mon, "I/O port 0x%04x", b->addr); break;
    case WP_LINEAR:   say(mon, "%s of linear %08x..%08x", watch_kind_name(b->watch_kind), b->addr, b->addr + b->len - 1); break;
    case WP_PHYSICAL: say(mon, "%s of physical %08x..%08x", watch_kind_name(b->watch_kind), b->addr, b->addr + b->len - 1); break;
    }
    if (b->cond[0]) say(mon, " if %s", b->cond);
}

/* "ARG... [if COND]": split the condition off (in place). */
static bool split_condition(struct monitor *mon, int *argc, char **argv, const char *rest, struct mon_bp *b)
{
    for (int k = 1; k < *argc; k++)
        if (strcmp(argv[k], "if") == 0) {
            const char *c = strstr(rest, " if ");
            if (!c || !c[4]) { say(mon, "error: 'if' needs a condition\n"); return false; }
            c += 4;
            if (strlen(c) >= MON_COND_MAX) { say(mon, "error: condition too long\n"); return false; }
            struct x86_state s;
            char why[160];
            uint32_t v;
            get_state(mon, &s);
            /* Check its syntax now (a memory read may fail now and work later). */
            if (!expr_eval(c, &s, mon->engine, &mon->symbols, &v, why, sizeof why) && !strstr(why, "memory")) {
                say(mon, "error: condition '%s': %s\n", c, why);
                return false;
            }
            snprintf(b->cond, sizeof b->cond, "%s", c);
            *argc = k;
            return true;
        }
    return true;
}

static void add_break(struct monitor *mon, int argc, char **argv, const char *rest, bool temporary)
{
    struct mon_bp tmp = { 0 };
    if (!split_condition(mon, &argc, argv, rest, &tmp)) return;
    const char *usage = "usage: break ADDR | break CS:IP | break phys ADDR | break vector N | break io PORT  [if COND]\n";
    uint32_t v;
    if (argc == 1) {
        struct x86_state s;
        get_state(mon, &s);
        v = code_linear(&s);   /* gdb: a breakpoint where the guest stands */
        tmp.kind = BP_LINEAR;
    } else if (argc == 2) {
        if (!eval_address(mon, argv[1], &v)) return;
        tmp.kind = BP_LINEAR;
    } else if (argc == 3) {
        if (!eval(mon, argv[2], &v)) return;
        if (strcmp(argv[1], "phys") == 0 || strcmp(argv[1], "physical") == 0) tmp.kind = BP_PHYSICAL;
        else if (strcmp(argv[1], "vector") == 0 || strcmp(argv[1], "int") == 0 || strcmp(argv[1], "exception") == 0) {
            if (v > 255) { say(mon, "error: a vector is 0 to 255\n"); return; }
            tmp.kind = BP_VECTOR;
        } else if (strcmp(argv[1], "io") == 0 || strcmp(argv[1], "port") == 0) {
            if (v > 0xFFFF) { say(mon, "error: a port is 0 to 0xffff\n"); return; }
            tmp.kind = BP_IO;
        } else { say(mon, "%s", usage); return; }
    } else { say(mon, "%s", usage); return; }
    struct mon_bp *b = new_bp(mon);
    if (!b) return;
    int id = b->id;
    *b = tmp;
    b->id = id;
    b->addr = v;
    b->enabled = true;
    b->temporary = temporary;
    say(mon, "%s %d at ", temporary ? "Temporary breakpoint" : "Breakpoint", id);
    describe_bp(mon, b);
    say(mon, "\n");
}

static void cmd_break(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    add_break(mon, argc, argv, rest, false);
}

static void cmd_tbreak(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    if (argc < 2) { say(mon, "usage: tbreak ADDR [if COND]\n"); return; }
    add_break(mon, argc, argv, rest, true);
}

static void add_watch(struct monitor *mon, int argc, char **argv, const char *rest, int kind)
{
    struct mon_bp tmp = { 0 };
    bool physical = false;
    if (!split_condition(mon, &argc, argv, rest, &tmp)) return;
    int a = 1;
    if (a < argc && (strcmp(argv[a], "phys") == 0 || strcmp(argv[a], "physical") == 0)) { physical = true; a++; }
    if (argc - a < 1 || argc - a > 2) { say(mon, "usage: %s [phys] ADDR [LEN] [if COND]\n", argv[0]); return; }
    uint32_t addr, len = 4;
    if (!eval_address(mon, argv[a], &addr)) return;
    if (argc - a == 2 && !eval(mon, argv[a + 1], &len)) return;
    if (len == 0 || (uint64_t)addr + len > 0x100000000ull) { say(mon, "error: the range must be 1 byte or more and end below 4 GiB\n"); return; }
    if (!mon->engine->ops->set_watchpoint) { say(mon, "error: the %s engine has no watchpoints\n", mon->engine->ops->name); return; }
    /* Try it in the engine now, so a bad range is said here. */
    int err = mon->engine->ops->set_watchpoint(mon->engine, addr, len, (enum engine_watch_kind)kind, physical);
    if (err < 0) {
        say(mon, "error: cannot watch %08x..%08x: %s\n", addr, addr + len - 1,
            err == -ENOSPC ? "too many watchpoints" : physical ? "physical watchpoints must lie in RAM" : "bad range");
        return;
    }
    mon->engine->ops->clear_watchpoint(mon->engine, addr, len, (enum engine_watch_kind)kind, physical);
    struct mon_bp *b = new_bp(mon);
    if (!b) return;
    int id = b->id;
    *b = tmp;
    b->id = id;
    b->kind = physical ? WP_PHYSICAL : WP_LINEAR;
    b->addr = addr;
    b->len = len;
    b->watch_kind = kind;
    b->enabled = true;
    say(mon, "Watchpoint %d: ", id);
    describe_bp(mon, b);
    say(mon, "\n");
}

static void cmd_watch(struct monitor *mon, int argc, char **argv, const char *s, const char *rest) { add_watch(mon, argc, argv, rest, ENGINE_WATCH_WRITE); }
static void cmd_rwatch(struct monitor *mon, int argc, char **argv, const char *s, const char *rest) { add_watch(mon, argc, argv, rest, ENGINE_WATCH_READ); }
static void cmd_awatch(struct monitor *mon, int argc, char **argv, const char *s, const char *rest) { add_watch(mon, argc, argv, rest, ENGINE_WATCH_ACCESS); }

static struct mon_bp *find_bp(struct monitor *mon, const char *text)
{
    char *end;
    long id = strtol(text, &end, 10);
    if (*end || end == text || id <= 0) { say(mon, "error: %s: not a breakpoint number\n", text); return NULL; }
    for (int k = 0; k < MON_MAX_BPS; k++)
        if (mon->bps[k].id == id) return &mon->bps[k];
    say(mon, "error: no breakpoint number %ld\n", id);
    return NULL;
}

static void cmd_delete(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    if (argc == 1) {
        for (int k = 0; k < MON_MAX_BPS; k++) mon->bps[k].id = 0;
        say(mon, "deleted all breakpoints and watchpoints\n");
        return;
    }
    for (int k = 1; k < argc; k++) {
        struct mon_bp *b = find_bp(mon, argv[k]);
        if (b) b->id = 0;
    }
}

static void set_enabled(struct monitor *mon, int argc, char **argv, bool on)
{
    if (argc == 1) { for (int k = 0; k < MON_MAX_BPS; k++) mon->bps[k].enabled = on; return; }
    for (int k = 1; k < argc; k++) {
        struct mon_bp *b = find_bp(mon, argv[k]);
        if (b) b->enabled = on;
    }
}
static void cmd_enable(struct monitor *mon, int argc, char **argv, const char *s, const char *rest) { set_enabled(mon, argc, argv, true); }
static void cmd_disable(struct monitor *mon, int argc, char **argv, const char *s, const char *rest) { set_enabled(mon, argc, argv, false); }

static void info_break(struct monitor *mon)
{
    bool any = false;
    for (int k = 0; k < MON_MAX_BPS; k++) {
        const struct mon_bp *b = &mon->bps[k];
        if (!b->id) continue;
        if (!any) say(mon, "Num  Type        Enb  Hits  What\n");
        any = true;
        say(mon, "%-4d %-11s %-4s %-5llu ", b->id, b->kind >= WP_LINEAR ? "watchpoint" : b->temporary ? "tbreakpoint" : "breakpoint",
            b->enabled ? "y" : "n", (unsigned long long)b->hits);
        describe_bp(mon, b);
        say(mon, "\n");
    }
    if (!any) say(mon, "no breakpoints or watchpoints\n");
}

/* ---------------------------------------------------------------- state */

static void print_mode(struct monitor *mon, const struct x86_state *s)
{
    if (!(s->cr0 & CR0_PE)) say(mon, "real mode");
    else if (s->eflags & EFLAGS_VM) say(mon, "virtual-8086 mode, CPL 3");
    else say(mon, "protected mode, %d-bit code, CPL %u", tables_code_bits(s), s->cpl);
    say(mon, ", paging %s, A20 %s%s\n", (s->cr0 & CR0_PG) ? "on" : "off", s->a20_enabled ? "on" : "off",
        s->halted ? ", halted (HLT)" : "");
}

static void cmd_regs(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    struct x86_state s;
    get_state(mon, &s);
    say(mon, "eax %08x  ecx %08x  edx %08x  ebx %08x\n", s.regs[R_EAX], s.regs[R_ECX], s.regs[R_EDX], s.regs[R_EBX]);
    say(mon, "esp %08x  ebp %08x  esi %08x  edi %08x\n", s.regs[R_ESP], s.regs[R_EBP], s.regs[R_ESI], s.regs[R_EDI]);
    say(mon, "eip %08x  eflags %08x ", s.eip, s.eflags);
    print_flags(mon->out, s.eflags);
    say(mon, "\ncs %04x  ss %04x  ds %04x  es %04x  fs %04x  gs %04x\n", s.seg[SEG_CS].selector,
        s.seg[SEG_SS].selector, s.seg[SEG_DS].selector, s.seg[SEG_ES].selector, s.seg[SEG_FS].selector,
        s.seg[SEG_GS].selector);
    print_mode(mon, &s);
}

/*
 * A segment register.  In real mode (and vm86) the selector is a paragraph
 * number, base = selector * 16 (SDM Vol. 3A 20.1.1); in protected mode it
 * is an index into the GDT or LDT with an RPL (Vol. 3A 3.4.2).
 */
static void print_selector(struct monitor *mon, const struct x86_state *s, const char *name,
                           const struct x86_segment *sg, bool is_sreg)
{
    bool real = !(s->cr0 & CR0_PE) || (s->eflags & EFLAGS_VM);
    if (real && is_sreg)
        say(mon, "%-4s %04x (real mode)  ", name, sg->selector);
    else
        say(mon, "%-4s %04x (index %u, %s, RPL %u)  ", name, sg->selector, sg->selector >> 3,
            (sg->selector & 4) ? "LDT" : "GDT", sg->selector & 3);
    tables_describe_cache(mon->out, sg);
    say(mon, "\n");
}

static void cmd_sregs(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    struct x86_state s;
    get_state(mon, &s);
    for (int k = 0; k < SEG_COUNT; k++) {
        char up[4] = { (char)toupper(sreg_names[k][0]), (char)toupper(sreg_names[k][1]), 0 };
        print_selector(mon, &s, up, &s.seg[k], true);
    }
    print_selector(mon, &s, "LDTR", &s.ldtr, false);
    print_selector(mon, &s, "TR", &s.tr, false);
    say(mon, "GDTR base %08x limit %04x\nIDTR base %08x limit %04x\n", s.gdtr.base, s.gdtr.limit, s.idtr.base, s.idtr.limit);
}

static void cmd_cregs(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    struct x86_state s;
    get_state(mon, &s);
    /* CR0 and CR4 bits: SDM Vol. 3A 2.5, figure 2-7. */
    say(mon, "CR0 %08x  PE=%u MP=%u EM=%u TS=%u ET=%u NE=%u WP=%u AM=%u NW=%u CD=%u PG=%u\n", s.cr0,
        !!(s.cr0 & CR0_PE), !!(s.cr0 & CR0_MP), !!(s.cr0 & CR0_EM), !!(s.cr0 & CR0_TS), !!(s.cr0 & CR0_ET),
        !!(s.cr0 & CR0_NE), !!(s.cr0 & CR0_WP), !!(s.cr0 & CR0_AM), !!(s.cr0 & CR0_NW), !!(s.cr0 & CR0_CD),
        !!(s.cr0 & CR0_PG));
    say(mon, "CR2 %08x  (the linear address of the last #PF)\n", s.cr2);
    say(mon, "CR3 %08x  page directory base %08x PWT=%u PCD=%u\n", s.cr3, s.cr3 & PTE_FRAME, !!(s.cr3 & PTE_PWT),
        !!(s.cr3 & PTE_PCD));
    say(mon, "CR4 %08x  VME=%u PVI=%u TSD=%u DE=%u PSE=%u PAE=%u MCE=%u PGE=%u\n", s.cr4,
        !!(s.cr4 & CR4_VME), !!(s.cr4 & CR4_PVI), !!(s.cr4 & CR4_TSD), !!(s.cr4 & CR4_DE), !!(s.cr4 & CR4_PSE),
        !!(s.cr4 & CR4_PAE), !!(s.cr4 & CR4_MCE), !!(s.cr4 & CR4_PGE));
    say(mon, "DR0 %08x DR1 %08x DR2 %08x DR3 %08x DR6 %08x DR7 %08x\n", s.dr[0], s.dr[1], s.dr[2], s.dr[3], s.dr[6], s.dr[7]);
}

static bool write_value(struct monitor *mon, bool physical, uint32_t addr, uint32_t v, unsigned size)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    if (size < 4 && (v >> (8 * size))) {
        say(mon, "error: 0x%x does not fit in %u byte%s\n", v, size, size == 1 ? "" : "s");
        return false;
    }
    if (physical) {
        if ((uint64_t)addr + size > mon->machine->bus.ram_size) { say(mon, "error: %08x is not in RAM\n", addr); return false; }
        bus_write_block(&mon->machine->bus, addr, b, size);
        return true;
    }
    if (!mon->engine->ops->write_linear(mon->engine, addr, b, size)) {
        say(mon, "error: cannot write %08x (not mapped, or not RAM)\n", addr);
        return false;
    }
    return true;
}

/* set REG VALUE | set REG = VALUE | set {u8|u16|u32}ADDR = VALUE */
static void cmd_set(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    const char *usage = "usage: set REG VALUE | set {u8|u16|u32}ADDR = VALUE\n";
    while (isspace((unsigned char)*rest)) rest++;
    if (*rest == '{') {
        unsigned size;
        if (strncmp(rest, "{u8}", 4) == 0) { size = 1; rest += 4; }
        else if (strncmp(rest, "{u16}", 5) == 0) { size = 2; rest += 5; }
        else if (strncmp(rest, "{u32}", 5) == 0) { size = 4; rest += 5; }
        else { say(mon, "%s", usage); return; }
        const char *eq = strchr(rest, '=');
        if (!eq) { say(mon, "%s", usage); return; }
        char addr_text[MON_COND_MAX];
        size_t n = (size_t)(eq - rest);
        if (n >= sizeof addr_text) { say(mon, "error: address too long\n"); return; }
        memcpy(addr_text, rest, n);
        addr_text[n] = '\0';
        uint32_t a, v;
        if (!eval_address(mon, addr_text, &a) || !eval(mon, eq + 1, &v)) return;
        write_value(mon, false, a, v, size);
        return;
    }
    if (argc < 3) { say(mon, "%s", usage); return; }
    const struct expr_reg *r = expr_find_reg(argv[1]);
    if (!r) { say(mon, "error: %s: unknown register\n", argv[1]); return; }
    const char *vtext = strstr(rest, argv[1]) + strlen(argv[1]);
    while (isspace((unsigned char)*vtext)) vtext++;
    if (*vtext == '=') vtext++;
    uint32_t v;
    if (!eval(mon, vtext, &v)) return;
    struct x86_state s;
    get_state(mon, &s);
    switch (r->kind) {
    case EXPR_GPR32: s.regs[r->index] = v; break;
    case EXPR_GPR16: if (v > 0xFFFF) goto too_big; s.regs[r->index] = (s.regs[r->index] & 0xFFFF0000u) | v; break;
    case EXPR_GPR8L: if (v > 0xFF) goto too_big; s.regs[r->index] = (s.regs[r->index] & ~0xFFu) | v; break;
    case EXPR_GPR8H: if (v > 0xFF) goto too_big; s.regs[r->index] = (s.regs[r->index] & ~0xFF00u) | v << 8; break;
    case EXPR_EIP: s.eip = v; break;
    case EXPR_IP: if (v > 0xFFFF) goto too_big; s.eip = v; break;
    case EXPR_EFLAGS: s.eflags = v | EFLAGS_FIXED1; break;
    case EXPR_FLAGS: if (v > 0xFFFF) goto too_big; s.eflags = (s.eflags & 0xFFFF0000u) | v | EFLAGS_FIXED1; break;
    case EXPR_SEG:
        if (v > 0xFFFF) goto too_big;
        if ((s.cr0 & CR0_PE) && !(s.eflags & EFLAGS_VM)) {
            say(mon, "error: in protected mode a selector comes with its descriptor: load %s from the guest "
                     "(set works for segment registers in real and virtual-8086 mode)\n", r->name);
            return;
        }
        /* Real mode: base = selector * 16 (SDM Vol. 3A 20.1.1). */
        s.seg[r->index].selector = (uint16_t)v;
        s.seg[r->index].base = v << 4;
        break;
    case EXPR_CR0: s.cr0 = v; break;
    case EXPR_CR2: s.cr2 = v; break;
    case EXPR_CR3: s.cr3 = v; break;
    case EXPR_CR4: s.cr4 = v; break;
    case EXPR_DR: s.dr[r->index] = v; break;
    case EXPR_CPL: say(mon, "error: CPL follows CS (its RPL); it cannot be set alone\n"); return;
    case EXPR_DTR:
        if ((r->index & 1) && v > 0xFFFF) goto too_big;
        if (r->index == 0) s.gdtr.base = v;
        else if (r->index == 1) s.gdtr.limit = (uint16_t)v;
        else if (r->index == 2) s.idtr.base = v;
        else s.idtr.limit = (uint16_t)v;
        break;
    }
    mon->engine->ops->set_state(mon->engine, &s);
    say(mon, "%s = 0x%08x\n", r->name, v);
    return;
too_big:
    say(mon, "error: 0x%x does not fit in %s\n", v, r->name);
}

static void cmd_print(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    uint32_t v;
    while (isspace((unsigned char)*rest)) rest++;
    if (!*rest) { say(mon, "usage: print EXPR\n"); return; }
    if (!eval(mon, rest, &v)) return;
    say(mon, "0x%08x  %u  %d\n", v, v, (int32_t)v);
}

/* ---------------------------------------------------------------- memory */

static void examine(struct monitor *mon, bool physical, int argc, char **argv, const char *suffix)
{
    int count = 1;
    char format = mon->x_format ? mon->x_format : 'x', unit = mon->x_unit ? mon->x_unit : 'w';
    uint32_t addr = mon->x_next;
    if (suffix && !parse_format(mon, suffix, &count, &format, &unit)) return;
    if (argc > 2) { say(mon, "usage: %s/NFU ADDR  (N count, F x d u c s i, U b h w g)\n", argv[0]); return; }
    if (argc == 2 && !eval_address(mon, argv[1], &addr)) return;
    mon->x_format = format;
    mon->x_unit = unit;
    dump_memory(mon, physical, addr, count, format, unit);
}

static void cmd_x(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest) { examine(mon, false, argc, argv, suffix); }
static void cmd_xp(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest) { examine(mon, true, argc, argv, suffix); }

static void cmd_disas(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    struct x86_state s;
    uint32_t addr, n = 10;
    get_state(mon, &s);
    addr = code_linear(&s);
    if (argc > 3) { say(mon, "usage: disas [ADDR] [N]\n"); return; }
    if (argc >= 2 && !eval_address(mon, argv[1], &addr)) return;
    if (argc == 3 && !eval(mon, argv[2], &n)) return;
    if (n == 0 || n > 4096) { say(mon, "error: N must be 1 to 4096\n"); return; }
    dump_memory(mon, false, addr, (int)n, 'i', 'b');
}

static void cmd_write(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    bool physical = strcmp(argv[0], "writep") == 0;
    uint32_t a, v, size = 4;
    if (argc < 3 || argc > 4) { say(mon, "usage: %s ADDR VALUE [1|2|4]\n", argv[0]); return; }
    if (!eval_address(mon, argv[1], &a) || !eval(mon, argv[2], &v)) return;
    if (argc == 4 && (!eval(mon, argv[3], &size) || (size != 1 && size != 2 && size != 4))) {
        say(mon, "error: the size is 1, 2 or 4 bytes\n");
        return;
    }
    if (write_value(mon, physical, a, v, size))
        say(mon, "wrote 0x%0*x to %s %08x\n", (int)size * 2, v, physical ? "physical" : "linear", a);
}

/* ---------------------------------------------------------------- info, tables, devices */

static void print_counters(struct monitor *mon, bool tlb_only)
{
    struct engine_counters c;
    mon->engine->ops->get_counters(mon->engine, &c);
    if (!tlb_only) {
        uint64_t total = 0;
        say(mon, "instructions        %llu\n", (unsigned long long)c.instructions);
        for (int v = 0; v < 32; v++)
            if (c.exceptions[v]) say(mon, "exception %2d %-6s %llu\n", v, vector_name(v), (unsigned long long)c.exceptions[v]);
        for (int v = 0; v < 256; v++) total += c.interrupts[v];
        say(mon, "interrupts          %llu\n", (unsigned long long)total);
        for (int v = 0; v < 256; v++)
            /* Not named: a vector below 32 is delivered for an exception and for INT n alike. */
            if (c.interrupts[v]) say(mon, "  vector 0x%02x %llu\n", v, (unsigned long long)c.interrupts[v]);
        say(mon, "blocks decoded      %llu\n", (unsigned long long)c.blocks_decoded);
        say(mon, "block invalidations %llu\n", (unsigned long long)c.block_invalidations);
    }
    say(mon, "tlb hits            %llu\n", (unsigned long long)c.tlb_hits);
    say(mon, "tlb misses          %llu\n", (unsigned long long)c.tlb_misses);
    say(mon, "tlb flushes         %llu\n", (unsigned long long)c.tlb_flushes);
    say(mon, "page walks          %llu\n", (unsigned long long)c.page_walks);
}

static void cmd_info(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    struct x86_state s;
    get_state(mon, &s);
    if (argc == 1) {
        say(mon, "info break | display | registers | gdt | idt | ldt | tss | pt | tlb | fault | engine | kvm | DEVICE\n");
        say(mon, "(also: uart = com1 + com2, rtc = cmos, keyboard = i8042)\n");
        say(mon, "devices:");
        for (int k = 0; k < mon->machine->device_count; k++) say(mon, " %s", mon->machine->devices[k].name);
        say(mon, mon->machine->device_count ? "\n" : " (none registered)\n");
        return;
    }
    if (argc > 2) { say(mon, "usage: info WHAT (`info` lists them)\n"); return; }
    const char *w = argv[1];
    if (!strcmp(w, "break") || !strcmp(w, "breakpoints") || !strcmp(w, "b") || !strcmp(w, "watchpoints")) info_break(mon);
    else if (!strcmp(w, "registers") || !strcmp(w, "r")) cmd_regs(mon, 1, argv, NULL, "");
    else if (!strcmp(w, "gdt")) tables_print_gdt(mon->out, mon->engine, &s);
    else if (!strcmp(w, "idt")) tables_print_idt(mon->out, mon->engine, &s);
    else if (!strcmp(w, "ldt")) tables_print_ldt(mon->out, mon->engine, &s);
    else if (!strcmp(w, "tss")) tables_print_tss(mon->out, mon->engine, &s);
    else if (!strcmp(w, "pt") || !strcmp(w, "mem") || !strcmp(w, "tab")) tables_print_pt(mon->out, mon->machine, &s);
    else if (!strcmp(w, "tlb")) print_counters(mon, true);
    else if (!strcmp(w, "engine") || !strcmp(w, "kvm")) {
        const struct engine_ops *ops = mon->engine->ops;
        if (!strcmp(w, "kvm") && strcmp(ops->name, "kvm") != 0)
            say(mon, "error: info kvm: the engine is %s (run with -engine kvm; `info engine` describes this one)\n", ops->name);
        else if (ops->print_info)
            ops->print_info(mon->engine, mon->out);
        else
            say(mon, "engine %s\n", ops->name);
    } else if (!strcmp(w, "fault")) {
        if (mon->runner->finished && mon->runner->status == STATUS_GUEST_STUCK)
            mon->engine->ops->print_fault_report(mon->engine, mon->out);
        else
            say(mon, "no double or triple fault has stopped the guest\n");
    } else if (!strcmp(w, "display")) {
        for (int k = 0; k < MON_MAX_DISPLAYS; k++)
            if (mon->displays[k].id) say(mon, "%d: %s%s\n", mon->displays[k].id, mon->displays[k].memory ? "memory " : "", mon->displays[k].text);
    } else {
        /* The names users know for devices registered under chip names. */
        static const struct { const char *alias; const char *devices[3]; } aliases[] = {
            { "uart", { "com1", "com2", NULL } },   /* both 16550As */
            { "serial", { "com1", "com2", NULL } },
            { "rtc", { "cmos", NULL, NULL } },      /* the MC146818 */
            { "keyboard", { "i8042", NULL, NULL } },
            { "kbd", { "i8042", NULL, NULL } },
        };
        for (size_t a = 0; a < sizeof aliases / sizeof aliases[0]; a++) {
            if (strcmp(w, aliases[a].alias) != 0) continue;
            for (int k = 0; k < 3 && aliases[a].devices[k]; k++) {
                const struct machine_device *d = machine_find_device(mon->machine, aliases[a].devices[k]);
                if (!d || !d->info) continue;
                say(mon, "%s:\n", d->name);
                d->info(d->opaque, mon->out);
            }
            return;
        }
        const struct machine_device *d = machine_find_device(mon->machine, w);
        if (!d) { say(mon, "error: info %s: no such table or device (`info` lists them)\n", w); return; }
        if (!d->info) { say(mon, "error: device %s has no info view\n", w); return; }
        d->info(d->opaque, mon->out);
    }
}

static void cmd_translate(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    uint32_t a;
    struct x86_state s;
    if (argc != 2) { say(mon, "usage: translate ADDR\n"); return; }
    if (!eval_address(mon, argv[1], &a)) return;
    get_state(mon, &s);
    tables_print_translate(mon->out, mon->machine, &s, a);
}

static void cmd_stats(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    print_counters(mon, false);
}

/* ---------------------------------------------------------------- display, trace */

static void cmd_display(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    while (isspace((unsigned char)*rest)) rest++;
    if (!*rest) { show_displays(mon); return; }
    struct mon_display d = { .format = 'x', .unit = 'w', .count = 1 };
    if (suffix) {
        d.memory = true;
        if (!parse_format(mon, suffix, &d.count, &d.format, &d.unit)) return;
        uint32_t a;
        if (!eval_address(mon, rest, &a)) return;
    } else {
        uint32_t v;
        struct x86_state s;
        char why[160];
        get_state(mon, &s);
        if (!expr_eval(rest, &s, mon->engine, &mon->symbols, &v, why, sizeof why) && !strstr(why, "memory")) {
            say(mon, "error: %s: %s\n", rest, why);
            return;
        }
    }
    if (strlen(rest) >= sizeof d.text) { say(mon, "error: expression too long\n"); return; }
    snprintf(d.text, sizeof d.text, "%s", rest);
    for (int k = 0; k < MON_MAX_DISPLAYS; k++)
        if (!mon->displays[k].id) {
            d.id = ++mon->next_display_id;
            mon->displays[k] = d;
            say(mon, "display %d: %s\n", d.id, d.text);
            return;
        }
    say(mon, "error: %d displays at most: undisplay some\n", MON_MAX_DISPLAYS);
}

static void cmd_undisplay(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    if (argc == 1) { memset(mon->displays, 0, sizeof mon->displays); return; }
    for (int k = 1; k < argc; k++) {
        long id = strtol(argv[k], NULL, 10);
        bool found = false;
        for (int j = 0; j < MON_MAX_DISPLAYS; j++)
            if (id > 0 && mon->displays[j].id == id) { mon->displays[j].id = 0; found = true; }
        if (!found) say(mon, "error: no display number %s\n", argv[k]);
    }
}

static void cmd_trace(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    if (argc == 2 && strcmp(argv[1], "off") == 0) {
        if (mon->trace) fclose(mon->trace);
        mon->trace = NULL;
        say(mon, "trace off\n");
        return;
    }
    if (argc != 3 || strcmp(argv[1], "on") != 0) { say(mon, "usage: trace on FILE | trace off\n"); return; }
    FILE *f = fopen(argv[2], "w");
    if (!f) { say(mon, "error: trace: cannot create %s: %s\n", argv[2], strerror(errno)); return; }
    if (mon->trace) fclose(mon->trace);
    mon->trace = f;
    say(mon, "tracing every instruction, exception and interrupt to %s (the guest runs one step at a time)\n", argv[2]);
}

/* ---------------------------------------------------------------- savevm / loadvm */

#define CPU_SECTION "cpu"
#define CPU_SECTION_VERSION 1

static void cmd_savevm(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    struct snapshot snap;
    struct x86_state s;
    const char *why = "out of memory";
    if (argc != 2) { say(mon, "usage: savevm FILE\n"); return; }
    snapshot_init(&snap);
    get_state(mon, &s);
    int err = machine_save(mon->machine, &snap, &why);
    if (!err) err = snapshot_put(&snap, CPU_SECTION, CPU_SECTION_VERSION, &s, sizeof s);
    if (!err) err = snapshot_write_file(&snap, argv[1], &why);
    if (err) say(mon, "error: savevm %s: %s\n", argv[1], why);
    else say(mon, "saved the machine to %s\n", argv[1]);
    snapshot_free(&snap);
}

static void cmd_loadvm(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    struct snapshot snap;
    struct x86_state s;
    const char *why = "";
    if (argc != 2) { say(mon, "usage: loadvm FILE\n"); return; }
    snapshot_init(&snap);
    int err = snapshot_read_file(&snap, argv[1], &why);
    if (!err && snapshot_get(&snap, CPU_SECTION, CPU_SECTION_VERSION, &s, sizeof s) < 0) {
        why = "no CPU state of this version in it";
        err = -EINVAL;
    }
    if (!err) err = machine_load(mon->machine, &snap, &why);
    snapshot_free(&snap);
    if (err) { say(mon, "error: loadvm %s: %s\n", argv[1], why); return; }
    mon->engine->ops->set_state(mon->engine, &s);
    /* A guest that had finished runs again from the snapshot. */
    mon->machine->stop_reason = MACHINE_RUNNING;
    mon->runner->finished = false;
    mon->runner->status = -1;
    mon->call_frame_valid = false;
    say(mon, "loaded the machine from %s\n", argv[1]);
    monitor_show_location(mon);
}

/* ---------------------------------------------------------------- help, quit */

static void cmd_quit(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    mon->quit = true;
}

static void cmd_help(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);

static const struct command commands[] = {
    { "step", "s", cmd_step, "step [N]", "run N instructions (default 1) into calls and interrupts, showing each and the registers it changed" },
    { "stepi", "si", cmd_step, "stepi [N]", "the same as step" },
    { "next", "n", cmd_next, "next", "step over a CALL, INT or REP instruction: run to the instruction after it" },
    { "continue", "c", cmd_continue, "continue", "run until a breakpoint, Ctrl-C (Ctrl-A c with -serial mon:stdio) or the guest's end" },
    { "until", NULL, cmd_until, "until ADDR", "run until the instruction at linear ADDR (or CS:IP) is next" },
    { "finish", "fin", cmd_finish, "finish", "run until the current function returns; works right after `step` entered a near CALL (return address at [ESP])" },
    { "break", "b", cmd_break, "break [ADDR|CS:IP|phys ADDR|vector N|io PORT] [if COND]", "stop before the instruction at a linear or physical address, on an exception or interrupt vector, or after an I/O port access" },
    { "tbreak", "tb", cmd_tbreak, "tbreak ADDR [if COND]", "a breakpoint deleted when first hit" },
    { "watch", NULL, cmd_watch, "watch [phys] ADDR [LEN] [if COND]", "stop after an instruction writes linear (or physical) memory, LEN bytes (default 4)" },
    { "rwatch", NULL, cmd_rwatch, "rwatch [phys] ADDR [LEN] [if COND]", "stop after an instruction reads the memory" },
    { "awatch", NULL, cmd_awatch, "awatch [phys] ADDR [LEN] [if COND]", "stop after an instruction reads or writes the memory" },
    { "delete", "d", cmd_delete, "delete [N...]", "delete breakpoints or watchpoints (all without N)" },
    { "disable", NULL, cmd_disable, "disable [N...]", "disable breakpoints (all without N)" },
    { "enable", NULL, cmd_enable, "enable [N...]", "enable breakpoints (all without N)" },
    { "regs", "r", cmd_regs, "regs", "general registers, EIP, EFLAGS decoded, selectors and the CPU mode" },
    { "sregs", NULL, cmd_sregs, "sregs", "segment registers with their hidden descriptor caches, LDTR, TR, GDTR, IDTR" },
    { "cregs", NULL, cmd_cregs, "cregs", "CR0, CR2, CR3, CR4 with their bits, and the debug registers" },
    { "set", NULL, cmd_set, "set REG VALUE | set {u8|u16|u32}ADDR = VALUE", "change a register, or memory at a linear address" },
    { "print", "p", cmd_print, "print EXPR", "evaluate an expression (registers, numbers, + - * / & | ^ << >>, comparisons, [ADDR])" },
    { "x", NULL, cmd_x, "x/NFU ADDR", "examine N units of linear memory: F x d u c s i, U b h w g (gdb's letters)" },
    { "xp", NULL, cmd_xp, "xp/NFU ADDR", "examine physical memory" },
    { "disas", "u", cmd_disas, "disas [ADDR] [N]", "disassemble N instructions (default 10) at ADDR (default CS:EIP)" },
    { "write", NULL, cmd_write, "write ADDR VALUE [1|2|4]", "write VALUE (size bytes, default 4) to linear memory" },
    { "writep", NULL, cmd_write, "writep ADDR VALUE [1|2|4]", "write VALUE to physical memory" },
    { "info", "i", cmd_info, "info [break|display|registers|gdt|idt|ldt|tss|pt|tlb|fault|engine|kvm|DEVICE]", "the tables decoded, breakpoints, the fault chain, the engine (kvm: its host and fallback), a device's registers; `info` alone lists devices" },
    { "translate", "tr", cmd_translate, "translate ADDR", "walk the page tables for a linear address: each level, its bits, the physical address or the #PF" },
    { "stats", NULL, cmd_stats, "stats", "instructions, exceptions and interrupts by vector, TLB counters" },
    { "display", NULL, cmd_display, "display EXPR | display/NFU ADDR", "show an expression or memory at every stop (without argument: show them now)" },
    { "undisplay", NULL, cmd_undisplay, "undisplay [N...]", "remove displays (all without N)" },
    { "log", NULL, cmd_log, "log [ITEM,...|none|help]", "turn log items on (as -d: int, cpu_reset, unimp, ...; the others off), none: all off; alone: what is on" },
    { "logfile", NULL, cmd_logfile, "logfile FILE", "send the log (as -D) to FILE from now on" },
    { "trace", NULL, cmd_trace, "trace on FILE | trace off", "log each instruction executed, exception and interrupt to FILE" },
    { "savevm", NULL, cmd_savevm, "savevm FILE", "save the whole machine (CPU, RAM, devices, clock) to FILE" },
    { "loadvm", NULL, cmd_loadvm, "loadvm FILE", "load a machine saved by savevm (same -m and devices)" },
    { "help", "h", cmd_help, "help [CMD]", "list the commands, or explain one" },
    { "quit", "q", cmd_quit, "quit", "leave trapeze (exit status 0)" },
    { NULL, NULL, NULL, NULL, NULL },
};

const char *monitor_command_name(int index)
{
    if (index < 0 || index >= (int)(sizeof commands / sizeof commands[0])) return NULL;
    return commands[index].name;
}

static const struct command *find_command(const char *name)
{
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    for (const struct command *c = commands; c->name; c++)
        if (c->alias && strcmp(c->alias, name) == 0) return c;
    return NULL;
}

static void cmd_help(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    if (argc == 2) {
        const struct command *c = find_command(argv[1]);
        if (!c) { say(mon, "error: %s: no such command (`help` lists them)\n", argv[1]); return; }
        say(mon, "%s%s%s%s\n  %s\n", c->usage, c->alias ? "   (short: " : "", c->alias ? c->alias : "",
            c->alias ? ")" : "", c->help);
        return;
    }
    for (const struct command *c = commands; c->name; c++)
        say(mon, "  %-44s %s\n", c->usage, c->alias ? c->alias : "");
    say(mon, "Expressions: eax+4, [esp], byte[0xb8000], eax == 5 && ecx != 0; addresses may be CS:IP.\n"
             "`help CMD` explains one; an empty line repeats step/next.\n");
}

/* ---------------------------------------------------------------- the parser */

void monitor_init(struct monitor *mon, struct runner *r, FILE *out)
{
    memset(mon, 0, sizeof *mon);
    mon->runner = r;
    mon->engine = r->engine;
    mon->machine = r->machine;
    mon->out = out;
}

void monitor_destroy(struct monitor *mon)
{
    if (mon->trace) fclose(mon->trace);
    mon->trace = NULL;
    symbols_free(&mon->symbols);
}

bool monitor_execute(struct monitor *mon, const char *line)
{
    char buf[1024];
    char *argv[MAX_ARGS + 1];
    int argc = 0;

    while (isspace((unsigned char)*line)) line++;
    if (!*line || *line == '#') return !mon->quit;
    if (strlen(line) >= sizeof buf) {
        say(mon, "error: line too long (%zu characters at most)\n", sizeof buf - 1);
        return !mon->quit;
    }
    snprintf(buf, sizeof buf, "%s", line);
    /* Words separated by blanks; the text after the command word is kept whole for expressions. */
    for (char *p = buf; *p;) {
        while (isspace((unsigned char)*p)) *p++ = '\0';
        if (!*p) break;
        if (argc == MAX_ARGS) { say(mon, "error: too many words (%d at most)\n", MAX_ARGS); return !mon->quit; }
        argv[argc++] = p;
        while (*p && !isspace((unsigned char)*p)) p++;
    }
    argv[argc] = NULL;
    const char *rest = line;
    while (*rest && !isspace((unsigned char)*rest)) rest++;

    char *suffix = strchr(argv[0], '/');
    if (suffix) *suffix++ = '\0';
    const struct command *c = find_command(argv[0]);
    if (!c) {
        say(mon, "error: %s: unknown command (`help` lists them)\n", argv[0]);
        return !mon->quit;
    }
    if (suffix && c->run != cmd_x && c->run != cmd_xp && c->run != cmd_display) {
        say(mon, "error: %s takes no /FORMAT\n", c->name);
        return !mon->quit;
    }
    argv[0] = (char *)c->name;
    c->run(mon, argc, argv, suffix, rest);
    fflush(mon->out);
    return !mon->quit;
}
