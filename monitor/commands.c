/*
 * commands.c - the monitor's command table and its parser.
 *
 * A line is split into words; the first picks a row of 'commands' (by name
 * or alias, gdb's and Bochs's spellings), the rest go to its handler as
 * argc/argv.  A few commands glue a suffix to the name (x/4xw, display/i),
 * split off before the lookup.  Every handler reports a bad argument in
 * one line and returns; nothing here exits the process.
 *
 * The handlers live by concern (commands.h lists them): cmd_run.c
 * (step, next, continue, until, finish), cmd_break.c (breakpoints,
 * watchpoints), cmd_state.c (regs, sregs, cregs, set, print),
 * cmd_memory.c (x, xp, disas, write, translate), cmd_info.c (info,
 * stats), cmd_misc.c (display, trace, savevm, loadvm, quit).
 *
 * Worked example (the kind of session tests/guests/monitor.sh checks):
 *   (trapeze) step
 *   0008:00100000 (00100000)  bc 00 00 11 00  mov esp, 0x110000
 *       esp 0007ff00 -> 00110000
 *   => 0008:00100005 (00100005)  e8 2a 00 00 00  call 0x100034
 */
#include "monitor/commands.h"
#include "monitor/cmd_log.h"

#define MAX_ARGS 16

struct command {
    const char *name;
    const char *alias;       /* short form, or NULL */
    void (*run)(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
    const char *usage;
    const char *help;
};

static const struct command commands[];

/* An expression's value, or one error line and false. */
bool mon_eval(struct monitor *mon, const char *text, uint32_t *v)
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

/*
 * An address written alone as the monitor prints addresses - hex digits
 * only, no 0x: 00007c36, 7c00, fffffff0, 40401000 - is hex.  A word that
 * starts with a letter is a register or symbol first (`add` is the symbol
 * add if there is one).  True with *v when 'text' is such a number.
 */
static bool bare_hex(struct monitor *mon, const char *text, uint32_t *v, bool *too_big)
{
    while (isspace((unsigned char)*text)) text++;
    size_t n = 0;
    while (isxdigit((unsigned char)text[n])) n++;
    const char *after = text + n;
    while (isspace((unsigned char)*after)) after++;
    if (!n || *after) return false;
    char word[64];
    uint32_t ignored;
    if (!isdigit((unsigned char)text[0])) {
        if (n >= sizeof word) return false;
        memcpy(word, text, n);
        word[n] = '\0';
        if (expr_find_reg(word) || symbols_lookup(&mon->symbols, word, &ignored)) return false;
    }
    uint64_t value = 0;
    *too_big = false;
    for (size_t k = 0; k < n; k++) {
        int c = tolower((unsigned char)text[k]);
        value = value << 4 | (unsigned)(isdigit(c) ? c - '0' : c - 'a' + 10);
        if (value > 0xFFFFFFFFu) { *too_big = true; return true; }
    }
    *v = (uint32_t)value;
    return true;
}

/* An address or a half of SEL:OFF: a bare hex number, or an expression. */
static bool eval_address_part(struct monitor *mon, const char *text, uint32_t *v)
{
    bool too_big;
    if (!bare_hex(mon, text, v, &too_big)) return mon_eval(mon, text, v);
    if (too_big) { say(mon, "error: %s: number too large (32 bits at most)\n", text); return false; }
    return true;
}

/*
 * An address: a bare hex number (as the monitor prints them), an
 * expression, or SEL:OFF (each half a bare hex number or an expression;
 * real mode: SEL*16+OFF; protected: the descriptor's base).
 */
bool mon_eval_address(struct monitor *mon, const char *text, uint32_t *lin)
{
    const char *colon = strchr(text, ':');
    mon->addr_sel = -1;
    if (!colon || strchr(colon + 1, ':'))
        return eval_address_part(mon, text, lin);
    char sel_text[64];
    size_t n = (size_t)(colon - text);
    if (n >= sizeof sel_text) { say(mon, "error: %s: selector too long\n", text); return false; }
    memcpy(sel_text, text, n);
    sel_text[n] = '\0';
    uint32_t sel, off, base;
    if (!eval_address_part(mon, sel_text, &sel) || !eval_address_part(mon, colon + 1, &off)) return false;
    if (sel > 0xFFFF) { say(mon, "error: %s: a selector has 16 bits\n", text); return false; }
    struct x86_state s;
    const char *why = NULL;
    get_state(mon, &s);
    if (!tables_segment_base(mon->engine, &s, (uint16_t)sel, &base, &why)) {
        say(mon, "error: %s: %s\n", text, why);
        return false;
    }
    *lin = base + off;
    mon->addr_sel = (int32_t)sel;
    mon->addr_sel_base = base;
    return true;
}

/* ---------------------------------------------------------------- the table */

static void cmd_help(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);

static const struct command commands[] = {
    { "step", "s", cmd_step, "step [N]", "run N instructions (default 1) into calls and interrupts, showing each and the registers it changed" },
    { "stepi", "si", cmd_step, "stepi [N]", "the same as step" },
    { "next", "n", cmd_next, "next", "step over a CALL, INT or REP instruction: run to the instruction after it" },
    { "continue", "c", cmd_continue, "continue", "run until a breakpoint, Ctrl-C (Ctrl-A c with -serial mon:stdio) or the guest's end" },
    { "until", NULL, cmd_until, "until ADDR", "run until the instruction at linear ADDR (or CS:IP) is next" },
    { "finish", "fin", cmd_finish, "finish", "run until the current function returns; works right after `step` entered a near CALL (return address at [ESP])" },
    { "break", "b", cmd_break, "break [ADDR|CS:IP|phys ADDR|vector N|io PORT] [if COND]", "stop before the instruction at a linear or physical address, as an exception is raised (before delivery) or at an interrupt's handler, or after an I/O port access; ADDR alone is hex (7c00, 0000:7c00)" },
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
    { "disas-tc", NULL, cmd_disas_tc, "disas-tc EIP", "bt: the translation of the guest kernel code at EIP (hex), beside the guest's instructions: IDENT, in-TC, branch, lookup and callout marked, exits and chains" },
    { "write", NULL, cmd_write, "write ADDR VALUE [1|2|4]", "write VALUE (size bytes, default 4) to linear memory" },
    { "writep", NULL, cmd_write, "writep ADDR VALUE [1|2|4]", "write VALUE to physical memory" },
    { "info", "i", cmd_info, "info [break|display|registers|gdt|idt|ldt|tss|pt|tlb|fault|engine|kvm|vmm|shadow [LIN]|fidelity|tc|DEVICE]", "the tables decoded, breakpoints, the fault chain, the engine (kvm: its host and fallback; tae: vmm = the virtual CPU beside the hardware one, shadow = the shadow page tables, fidelity = the sensitive instructions that showed the guest a wrong value; bt: tc = the translation cache), a device's registers; `info` alone lists devices" },
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

bool monitor_command_runs_guest(const char *line)
{
    char word[32];
    size_t n = 0;
    while (isspace((unsigned char)*line)) line++;
    while (line[n] && !isspace((unsigned char)line[n]) && line[n] != '/' && n < sizeof word - 1) {
        word[n] = line[n];
        n++;
    }
    word[n] = '\0';
    const struct command *c = find_command(word);
    return c && (c->run == cmd_step || c->run == cmd_next || c->run == cmd_continue || c->run == cmd_until ||
                 c->run == cmd_finish || c->run == cmd_loadvm);
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
             "Numbers: 0x1f hex, 0b101 binary, 'A'; a number with a hex letter (7c00, fff0) is hex; digits only\n"
             "are decimal in an expression (main+16, step 100) but hex as an address alone or in SEL:OFF, as the\n"
             "monitor prints them (break 00007c36, until 0000:7c00).\n"
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
    mon->addr_sel = mon->x_sel = -1;
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
