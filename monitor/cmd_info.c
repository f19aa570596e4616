/*
 * cmd_info.c - info (tables, engine, fault chain, devices) and stats.
 */
#include "monitor/commands.h"

static void print_counters(struct monitor *mon, bool tlb_only)
{
    struct engine_counters c;
    mon->engine->ops->get_counters(mon->engine, &c);
    if (!tlb_only) {
        uint64_t total = 0;
        say(mon, "instructions        %llu\n", (unsigned long long)c.instructions);
        for (int v = 0; v < 32; v++)
            if (c.exceptions[v]) say(mon, "exception %2d %-6s %llu\n", v, mon_vector_name(v), (unsigned long long)c.exceptions[v]);
        for (int v = 0; v < 256; v++) total += c.interrupts[v];
        say(mon, "interrupts          %llu\n", (unsigned long long)total);
        for (int v = 0; v < 256; v++)
            /* Not named: a vector below 32 is delivered for an exception and for INT n alike. */
            if (c.interrupts[v]) say(mon, "  vector 0x%02x %llu\n", v, (unsigned long long)c.interrupts[v]);
        say(mon, "blocks decoded      %llu\n", (unsigned long long)c.blocks_decoded);
        say(mon, "block invalidations %llu\n", (unsigned long long)c.block_invalidations);
        if (c.vmm_traps || c.vmm_hidden_faults || c.vmm_reflected) {
            say(mon, "vmm traps           %llu\n", (unsigned long long)c.vmm_traps);
            say(mon, "vmm emulated        %llu\n", (unsigned long long)c.vmm_emulated);
            say(mon, "vmm hidden faults   %llu\n", (unsigned long long)c.vmm_hidden_faults);
            say(mon, "vmm true faults     %llu\n", (unsigned long long)c.vmm_true_faults);
            say(mon, "vmm reflected       %llu\n", (unsigned long long)c.vmm_reflected);
            say(mon, "vmm traced writes   %llu\n", (unsigned long long)c.vmm_traced_writes);
            say(mon, "vmm shadow built    %llu\n", (unsigned long long)c.vmm_shadow_built);
        }
    }
    say(mon, "tlb hits            %llu\n", (unsigned long long)c.tlb_hits);
    say(mon, "tlb misses          %llu\n", (unsigned long long)c.tlb_misses);
    say(mon, "tlb flushes         %llu\n", (unsigned long long)c.tlb_flushes);
    say(mon, "page walks          %llu\n", (unsigned long long)c.page_walks);
}

/* disas-tc EIP: a translation beside the guest code it came from (bt). */
void cmd_disas_tc(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    (void)suffix;
    (void)rest;
    if (argc != 2) { say(mon, "usage: disas-tc GUEST-EIP (hexadecimal)\n"); return; }
    const struct engine_ops *ops = mon->engine->ops;
    int r = ops->print_topic ? ops->print_topic(mon->engine, "disas-tc", argv[1], mon->out) : -ENOENT;
    if (r == -ENOENT)
        say(mon, "error: disas-tc: the engine is %s, which translates nothing (run with -engine bt)\n", ops->name);
    else if (r == -EINVAL)
        say(mon, "error: disas-tc %s: not a hexadecimal EIP\n", argv[1]);
}

void cmd_info(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    struct x86_state s;
    get_state(mon, &s);
    if (argc == 1) {
        say(mon, "info break | display | registers | gdt | idt | ldt | tss | pt | tlb | fault | engine | kvm | vmm | shadow [LIN] | fidelity | tc | DEVICE\n");
        say(mon, "(also: uart = com1 + com2, rtc = cmos, keyboard = i8042)\n");
        say(mon, "devices:");
        for (int k = 0; k < mon->machine->device_count; k++) say(mon, " %s", mon->machine->devices[k].name);
        say(mon, mon->machine->device_count ? "\n" : " (none registered)\n");
        return;
    }
    const char *w = argv[1];
    /* The engine's own views (tae: the VMM, its shadow page tables, its fidelity report). */
    if (!strcmp(w, "vmm") || !strcmp(w, "shadow") || !strcmp(w, "fidelity") || !strcmp(w, "tc")) {
        const struct engine_ops *ops = mon->engine->ops;
        if (argc > (strcmp(w, "shadow") ? 2 : 3)) { say(mon, "usage: info %s%s\n", w, strcmp(w, "shadow") ? "" : " [LINEAR-ADDRESS]"); return; }
        int r = ops->print_topic ? ops->print_topic(mon->engine, w, argc > 2 ? argv[2] : NULL, mon->out) : -ENOENT;
        if (r == -ENOENT)
            say(mon, "error: info %s: the engine is %s, which %s\n", w, ops->name,
                strcmp(w, "tc") ? "runs no VMM (run with -engine tae or bt)" : "translates nothing (run with -engine bt)");
        else if (r == -EINVAL)
            say(mon, "error: info shadow %s: not a hexadecimal linear address\n", argv[2]);
        return;
    }
    if (argc > 2) { say(mon, "usage: info WHAT (`info` lists them)\n"); return; }
    if (!strcmp(w, "break") || !strcmp(w, "breakpoints") || !strcmp(w, "b") || !strcmp(w, "watchpoints")) mon_info_break(mon);
    else if (!strcmp(w, "registers") || !strcmp(w, "r")) cmd_regs(mon, 1, argv, NULL, "");
    else if (!strcmp(w, "gdt")) tables_print_gdt(mon->out, mon->engine, &s);
    else if (!strcmp(w, "idt")) tables_print_idt(mon->out, mon->engine, &s);
    else if (!strcmp(w, "ldt")) tables_print_ldt(mon->out, mon->engine, &s);
    else if (!strcmp(w, "tss")) tables_print_tss(mon->out, mon->engine, &s);
    else if (!strcmp(w, "pt") || !strcmp(w, "mem") || !strcmp(w, "tab")) tables_print_pt(mon->out, mon->engine, &s);
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

void cmd_stats(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    print_counters(mon, false);
    /* A VMM's traps by instruction (tae), when the engine keeps them. */
    const struct engine_ops *ops = mon->engine->ops;
    if (ops->print_topic) (void)ops->print_topic(mon->engine, "traps", NULL, mon->out);
}
