/*
 * cmd_break.c - breakpoints and watchpoints: break, tbreak, watch, rwatch,
 * awatch, delete, enable, disable, info break.  They are kept in
 * struct monitor and set in the engine only while the guest runs (cmd_run.c).
 */
#include "monitor/commands.h"

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
    case BP_VECTOR:   say(mon, "vector 0x%02x %s", b->addr, mon_vector_name((int)b->addr)); break;
    case BP_IO:       say(mon, "I/O port 0x%04x", b->addr); break;
    case WP_LINEAR:   say(mon, "%s of linear %08x..%08x", mon_watch_kind_name(b->watch_kind), b->addr, b->addr + b->len - 1); break;
    case WP_PHYSICAL: say(mon, "%s of physical %08x..%08x", mon_watch_kind_name(b->watch_kind), b->addr, b->addr + b->len - 1); break;
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
        if (!mon_eval_address(mon, argv[1], &v)) return;
        tmp.kind = BP_LINEAR;
    } else if (argc == 3) {
        if (!mon_eval(mon, argv[2], &v)) return;
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

void cmd_break(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    add_break(mon, argc, argv, rest, false);
}

void cmd_tbreak(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
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
    if (!mon_eval_address(mon, argv[a], &addr)) return;
    if (argc - a == 2 && !mon_eval(mon, argv[a + 1], &len)) return;
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

void cmd_watch(struct monitor *mon, int argc, char **argv, const char *s, const char *rest) { add_watch(mon, argc, argv, rest, ENGINE_WATCH_WRITE); }
void cmd_rwatch(struct monitor *mon, int argc, char **argv, const char *s, const char *rest) { add_watch(mon, argc, argv, rest, ENGINE_WATCH_READ); }
void cmd_awatch(struct monitor *mon, int argc, char **argv, const char *s, const char *rest) { add_watch(mon, argc, argv, rest, ENGINE_WATCH_ACCESS); }

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

void cmd_delete(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
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
void cmd_enable(struct monitor *mon, int argc, char **argv, const char *s, const char *rest) { set_enabled(mon, argc, argv, true); }
void cmd_disable(struct monitor *mon, int argc, char **argv, const char *s, const char *rest) { set_enabled(mon, argc, argv, false); }

void mon_info_break(struct monitor *mon)
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
