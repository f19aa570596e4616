/*
 * cmd_run.c - running the guest: step, next, continue, until, finish, and
 * mon_go, the loop they share.
 *
 * mon_go runs at full speed with the engine's breakpoints and watchpoints
 * set, or one instruction at a time through the runner when something can
 * only be seen that way: stepping itself, a trace, and breakpoints on
 * physical addresses, vectors and I/O ports.
 */
#include <stddef.h>

#include "monitor/commands.h"

const char *mon_vector_name(int v)
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
    else if (st == STATUS_INSN_CAP) say(mon, "the guest ran its instruction cap (%llu instructions, %s; exit status 8)\n",
                                        (unsigned long long)mon->runner->insn_cap, mon->runner->insn_cap_from);
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

const char *mon_watch_kind_name(int k)
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

/* The (guest-)physical address of linear 'lin' now, or false when unmapped. */
static bool physical_of(struct monitor *mon, const struct x86_state *s, uint32_t lin, uint32_t *pa)
{
    struct engine_walk w[ENGINE_MAX_WALKS];
    if (!mon->engine->ops->translate ||
        mon->engine->ops->translate(mon->engine, lin, MMU_FETCH, s->cpl == 3, w, ENGINE_MAX_WALKS) < 1)
        return false;
    *pa = w[0].walk.paddr;
    return w[0].walk.ok;
}

/* The exceptions and interrupts one step raised and delivered, one line each. */
static void print_events(FILE *t, const char *indent, const struct engine_counters *c0, const struct engine_counters *c1)
{
    for (int v = 0; v < 32; v++)
        if (c1->exceptions[v] != c0->exceptions[v])
            fprintf(t, "%sexception %d %s raised\n", indent, v, mon_vector_name(v));
    for (int v = 0; v < 256; v++)
        if (c1->interrupts[v] != c0->interrupts[v])
            fprintf(t, "%sinterrupt vector 0x%02x delivered\n", indent, v);
    /* A VMM's work for the step (tae, bt), by cause. */
    static const struct { size_t at; const char *what; } vmm[] = {
        { offsetof(struct engine_counters, vmm_traps), "trap to the VMM" },
        { offsetof(struct engine_counters, vmm_emulated), "emulated by the VMM" },
        { offsetof(struct engine_counters, vmm_hidden_faults), "hidden fault (shadow filled)" },
        { offsetof(struct engine_counters, vmm_true_faults), "true page fault reflected" },
        { offsetof(struct engine_counters, vmm_reflected), "event reflected to the guest" },
        { offsetof(struct engine_counters, vmm_traced_writes), "traced page-table write" },
        { offsetof(struct engine_counters, vmm_shadow_built), "shadow page table built" },
        { offsetof(struct engine_counters, vmm_translated), "translated (a CCF made)" },
        { offsetof(struct engine_counters, vmm_chained), "exit chained" },
        { offsetof(struct engine_counters, vmm_callouts), "callout to the VMM" },
        { offsetof(struct engine_counters, vmm_in_tc), "in-TC sequence (no VMM entry)" },
    };
    for (size_t k = 0; k < sizeof vmm / sizeof vmm[0]; k++) {
        uint64_t a = *(const uint64_t *)((const char *)c0 + vmm[k].at);
        uint64_t b = *(const uint64_t *)((const char *)c1 + vmm[k].at);
        if (b != a) fprintf(t, "%s%s x%llu\n", indent, vmm[k].what, (unsigned long long)(b - a));
    }
}

/* One trace line per step, as QEMU's -d in_asm,exec: "exec" when the instruction
 * completed, "fault" when it raised an exception instead; then the events. */
static void trace_step(struct monitor *mon, const struct x86_state *before, const struct disasm_insn *d,
                       const struct engine_counters *c0, const struct engine_counters *c1)
{
    FILE *t = mon->trace;
    mon_print_insn_line(mon, t, c1->instructions != c0->instructions ? "exec  " : "fault ", before->seg[SEG_CS].selector,
                    before->eip, tables_code_bits(before), code_linear(before), d);
    print_events(t, "      ", c0, c1);
}

/* Whether the engine has a breakpoint of this run at 'lin': a user's, or
 * (has_target) the run's own target. */
static bool engine_breakpoint_at(struct monitor *mon, uint32_t lin, bool has_target, uint32_t target)
{
    if (has_target && lin == target) return true;
    for (int k = 0; k < MON_MAX_BPS; k++)
        if (mon->bps[k].id && mon->bps[k].installed && mon->bps[k].kind == BP_LINEAR && mon->bps[k].addr == lin)
            return true;
    return false;
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
    bool has_target = mode == GO_TO && !slow;   /* the target is an engine breakpoint */
    /* Exceptions with a vector breakpoint stop when raised, delivered or not
     * (an absent gate, a #DF, a triple fault), where the engine can. */
    uint32_t stops = 0;
    for (int k = 0; k < MON_MAX_BPS; k++)
        if (mon->bps[k].id && mon->bps[k].enabled && mon->bps[k].kind == BP_VECTOR && mon->bps[k].addr < 32)
            stops |= 1u << mon->bps[k].addr;
    bool exception_stops = stops && mon->engine->ops->set_exception_stops &&
                           mon->engine->ops->set_exception_stops(mon->engine, stops) == 0;
    /* A fault held by the last stop is delivered by this run's first step:
     * its vector's counters move then, which is no new hit. */
    uint32_t passing = exception_stops ? mon->held_exceptions : 0;
    mon->held_exceptions = 0;
    fflush(mon->out);
    mon->interrupt = 0;
    mon->call_frame_valid = false;
    bool stopped = false, show_next = true;
    uint64_t steps = 0;

    while (!stopped) {
        struct x86_state before, after;
        get_state(mon, &before);
        /*
         * Standing on a breakpoint, whatever stopped there (a breakpoint, a
         * step, a watchpoint, Ctrl-C): step over it first with it lifted,
         * as gdb does, so neither a step nor a run stops at once on it
         * without running the instruction.
         */
        uint32_t here = code_linear(&before);
        bool lifted = engine_breakpoint_at(mon, here, has_target, target);
        if (slow || lifted) {
            struct disasm_insn d;
            struct engine_counters c0, c1;
            mon_decode_at(mon, &before, here, &d);
            mon->engine->ops->get_counters(mon->engine, &c0);
            if (lifted) mon->engine->ops->clear_breakpoint(mon->engine, here);
            enum run_result res = runner_run(r, 1, true);
            if (lifted) mon->engine->ops->set_breakpoint(mon->engine, here);
            mon->engine->ops->get_counters(mon->engine, &c1);
            get_state(mon, &after);
            if (mon->trace) trace_step(mon, &before, &d, &c0, &c1);
            if (mode == GO_STEP) {
                mon_print_insn_line(mon, mon->out, "", before.seg[SEG_CS].selector, before.eip, tables_code_bits(&before),
                                code_linear(&before), &d);
                uint32_t next = before.eip + d.size;
                if (tables_code_bits(&before) == 16) next &= 0xFFFF;
                mon_print_changes(mon->out, &before, &after, next);
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
            if (res == RUN_BREAKPOINT && r->last_exit.exception) {
                int v = r->last_exit.vector;
                for (int k = 0; k < MON_MAX_BPS && !stopped; k++) {
                    struct mon_bp *b = &mon->bps[k];
                    char what[160], code[32] = "";
                    if (!b->id || !b->enabled || b->kind != BP_VECTOR || b->addr != (uint32_t)v) continue;
                    if (r->last_exit.has_error_code)
                        snprintf(code, sizeof code, ", error code 0x%04x", r->last_exit.error_code);
                    snprintf(what, sizeof what, "vector 0x%02x %s raised%s%s", v, mon_vector_name(v), code,
                             r->last_exit.exception_delivered ? "" : " (not delivered yet: `step` or `c` delivers it)");
                    if (condition_holds(mon, b)) { hit(mon, b, what); stopped = true; }
                }
                if (!r->last_exit.exception_delivered) mon->held_exceptions |= 1u << v;
                if (stopped) break;
                passing |= 1u << v;   /* a condition that does not hold: run on, delivering it */
                continue;
            }
            if (mon->interrupt) { say(mon, "interrupted (Ctrl-C)\n"); break; }
            /* What the instruction just run fired. */
            for (int k = 0; k < MON_MAX_BPS && !stopped; k++) {
                struct mon_bp *b = &mon->bps[k];
                char what[96];
                if (!b->id || !b->enabled) continue;
                if (b->kind == BP_VECTOR && b->addr < 32 && (passing & (1u << b->addr))) continue;
                if (b->kind == BP_VECTOR && (c1.interrupts[b->addr] != c0.interrupts[b->addr] ||
                                             (b->addr < 32 && c1.exceptions[b->addr] != c0.exceptions[b->addr]))) {
                    snprintf(what, sizeof what, "vector 0x%02x %s raised", b->addr, mon_vector_name((int)b->addr));
                } else if (b->kind == BP_IO && d.is_io && c1.instructions != c0.instructions &&
                           (uint32_t)(d.io_port >= 0 ? d.io_port : (int)(before.regs[R_EDX] & 0xFFFF)) == b->addr) {
                    snprintf(what, sizeof what, "I/O port 0x%04x accessed by %.40s", b->addr, d.text);
                } else continue;
                if (condition_holds(mon, b)) { hit(mon, b, what); stopped = true; }
            }
            if (stopped) break;
            passing = 0;
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
                snprintf(what, sizeof what, "%s of %s %08x by the instruction before", mon_watch_kind_name(b->watch_kind),
                         b->kind == WP_PHYSICAL ? "physical" : "linear", r->address);
                if (condition_holds(mon, b)) { hit(mon, b, what); stopped = true; }
                break;
            }
            if (!stopped && !slow) continue;
            break;
        }
    }
    uninstall_all(mon);
    if (exception_stops) mon->engine->ops->set_exception_stops(mon->engine, 0);
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
    if (!mon_eval(mon, text, &v)) return false;
    /* A negative count (-1 is 0xffffffff) is refused, not run 4 billion times. */
    if (v == 0 || v > 0x7FFFFFFFu) { say(mon, "error: %s: the count must be 1 to 2147483647\n", text); return false; }
    *n = v;
    return true;
}

void cmd_step(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    uint64_t n = 1;
    if (argc > 2) { say(mon, "usage: step [N]\n"); return; }
    if (argc == 2 && !parse_count(mon, argv[1], &n)) return;
    mon_go(mon, GO_STEP, n, 0, false, 0);
}

void cmd_next(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    struct x86_state s;
    struct disasm_insn d;
    if (argc != 1) { say(mon, "usage: next\n"); return; }
    if (!guest_can_run(mon)) return;
    get_state(mon, &s);
    mon_decode_at(mon, &s, code_linear(&s), &d);
    if (!d.size || !(d.is_call || d.is_int || d.is_rep)) {
        mon_go(mon, GO_STEP, 1, 0, false, 0);
        return;
    }
    uint32_t eip = s.eip + d.size;
    if (tables_code_bits(&s) == 16) eip &= 0xFFFF;
    say(mon, "next: over '%s', to %08x\n", d.text, s.seg[SEG_CS].base + eip);
    mon_go(mon, GO_TO, 0, s.seg[SEG_CS].base + eip, false, 0);
}

void cmd_continue(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    if (argc != 1) { say(mon, "usage: continue\n"); return; }
    if (mon->mux) say(mon, "(the console is the guest's now: Ctrl-A c comes back)\n");
    mon_go(mon, GO_CONTINUE, 0, 0, false, 0);
}

void cmd_until(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    uint32_t a;
    if (argc != 2) { say(mon, "usage: until ADDR\n"); return; }
    if (!mon_eval_address(mon, argv[1], &a)) return;
    mon_go(mon, GO_TO, 0, a, false, 0);
}

void cmd_finish(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
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
