/*
 * cmd_misc.c - display, undisplay, trace, savevm, loadvm, quit.
 */
#include "monitor/commands.h"

#include "base/snapshot.h"

void mon_show_displays(struct monitor *mon)
{
    for (int k = 0; k < MON_MAX_DISPLAYS; k++) {
        struct mon_display *d = &mon->displays[k];
        if (!d->id) continue;
        if (d->memory) {
            uint32_t a;
            say(mon, "%d: x/%d%c%c %s\n", d->id, d->count, d->format, d->unit, d->text);
            if (mon_eval_address(mon, d->text, &a)) {
                mon->x_sel = mon->addr_sel;
                mon->x_sel_base = mon->addr_sel_base;
                mon_dump_memory(mon, false, a, d->count, d->format, d->unit);
            }
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

void cmd_display(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    while (isspace((unsigned char)*rest)) rest++;
    if (!*rest) { mon_show_displays(mon); return; }
    struct mon_display d = { .format = 'x', .unit = 'w', .count = 1 };
    if (suffix) {
        d.memory = true;
        if (!mon_parse_format(mon, suffix, &d.count, &d.format, &d.unit)) return;
        uint32_t a;
        if (!mon_eval_address(mon, rest, &a)) return;
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

void cmd_undisplay(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
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

void cmd_trace(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
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

void cmd_savevm(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    struct snapshot snap;
    struct x86_state s;
    const char *why = "out of memory";
    if (argc != 2) { say(mon, "usage: savevm FILE\n"); return; }
    snapshot_init(&snap);
    get_state(mon, &s);
    int err = machine_save(mon->machine, &snap, &why);
    if (!err) err = snapshot_put(&snap, MACHINE_CPU_SECTION, MACHINE_CPU_SECTION_VERSION, &s, sizeof s);
    if (!err) err = snapshot_write_file(&snap, argv[1], &why);
    if (err) say(mon, "error: savevm %s: %s\n", argv[1], why);
    else say(mon, "saved the machine to %s\n", argv[1]);
    snapshot_free(&snap);
}

/* All or nothing (machine_load): a refused file leaves the machine as it was. */
void cmd_loadvm(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    struct snapshot snap;
    struct x86_state s;
    struct snapshot_check check = { .apply = true };
    if (argc != 2) { say(mon, "usage: loadvm FILE\n"); return; }
    int err = snapshot_read_file(&snap, argv[1], &check);
    if (!err) err = machine_load(mon->machine, &snap, &s, &check);
    snapshot_free(&snap);
    if (err) { say(mon, "error: loadvm %s: %s\n", argv[1], check.why); return; }
    mon->engine->ops->set_state(mon->engine, &s);
    /* A guest that had finished runs again from the snapshot. */
    mon->machine->stop_reason = MACHINE_RUNNING;
    mon->runner->finished = false;
    mon->runner->status = -1;
    mon->call_frame_valid = false;
    say(mon, "loaded the machine from %s\n", argv[1]);
    monitor_show_location(mon);
}

/* ---------------------------------------------------------------- quit */

void cmd_quit(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    mon->quit = true;
}
