/*
 * cmd_log.c - the monitor's `log` and `logfile`, and what main lends the
 * log channels from this layer (see cmd_log.h).
 *
 *   (trapeze) log int,pcall          as QEMU's monitor: these items on, the others off
 *   (trapeze) log none               every item off
 *   (trapeze) log                    which items are on, and where the log goes
 *   (trapeze) logfile int.log        the log goes to int.log from now on
 */
#include "monitor/cmd_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "cpu/state_dump.h"
#include "monitor/disasm.h"
#include "monitor/monitor.h"
#include "vmm/engine.h"

void cmd_log(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    char names[256], why[512];
    if (argc < 2) {
        log_mask_names(log_mask, names, sizeof names);
        fprintf(mon->out, "log items on: %s; the log goes to %s\n", names,
                log_file_name() ? log_file_name() : "stderr");
        return;
    }
    if (argc > 2) {
        fprintf(mon->out, "error: log takes one list, comma-separated without spaces (log int,cpu_reset)\n");
        return;
    }
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "?")) {
        log_print_help(mon->out);
        return;
    }
    uint32_t mask;
    if (log_parse_list(argv[1], &mask, why, sizeof why) < 0) {
        fprintf(mon->out, "error: %s\n", why);
        return;
    }
    log_set_mask(mask);
    log_mask_names(log_mask, names, sizeof names);
    fprintf(mon->out, "log items on: %s\n", names);
}

void cmd_logfile(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    if (argc != 2) {
        fprintf(mon->out, "error: usage: logfile FILE\n");
        return;
    }
    int err = log_set_file(argv[1]);
    if (err < 0) {
        fprintf(mon->out, "error: logfile %s: %s (the log still goes to %s)\n", argv[1], strerror(-err),
                log_file_name() ? log_file_name() : "stderr");
        return;
    }
    fprintf(mon->out, "the log goes to %s\n", argv[1]);
}

unsigned monitor_log_disassemble(int bits, uint32_t address, const uint8_t *buf, size_t len,
                                 char *text, size_t text_size)
{
    struct disasm_insn d;
    disasm_one(bits, address, buf, len, &d);
    snprintf(text, text_size, "%s", d.text);
    return d.size;
}

void monitor_log_cpu_reset(struct engine *e)
{
    struct x86_state s;
    e->ops->get_state(e, &s);
    log_printf("CPU Reset (CPU 0)\n");
    x86_state_dump(&s, log_stream());
    fflush(log_stream());
}
