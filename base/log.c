/*
 * log.c - the log channels' names, the list parser and the log stream
 * (see log.h).  The names and the help texts follow `qemu-system-i386
 * -d help` for the channels QEMU has; what a channel prints in trapeze is
 * said after the dash where it differs.
 */
#include "base/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

uint32_t log_mask;
log_disassembler log_disassemble;

static FILE *log_file;          /* NULL: stderr */
static char *log_path;          /* the -D file's name, or NULL */

static const struct {
    const char *name;
    const char *help;
} channels[LOG_CHANNEL_COUNT] = {
    [LOG_IN_ASM]       = { "in_asm", "show target assembly code for each compiled TB (trapeze: each "
                                     "newly decoded block)" },
    [LOG_INT]          = { "int", "show interrupts/exceptions in short format (protected mode, "
                                  "as QEMU)" },
    [LOG_EXEC]         = { "exec", "show trace before each executed TB (lots of logs; trapeze: each "
                                   "decoded block run)" },
    [LOG_CPU]          = { "cpu", "show CPU registers before entering a TB (lots of logs)" },
    [LOG_MMU]          = { "mmu", "log MMU-related activities (page faults, TLB flushes)" },
    [LOG_PCALL]        = { "pcall", "x86 only: show protected mode far calls/returns/exceptions "
                                    "(and task switches)" },
    [LOG_CPU_RESET]    = { "cpu_reset", "show CPU state before CPU resets (and at power-on)" },
    [LOG_UNIMP]        = { "unimp", "log unimplemented functionality (devices, BIOS functions)" },
    [LOG_GUEST_ERRORS] = { "guest_errors", "log when the guest OS does something invalid (eg "
                                           "accessing a non-existent register)" },
};

const char *log_channel_name(int ch)
{
    return ch >= 0 && ch < LOG_CHANNEL_COUNT ? channels[ch].name : NULL;
}

FILE *log_stream(void)
{
    return log_file ? log_file : stderr;
}

void log_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(log_stream(), fmt, ap);
    va_end(ap);
    /* A run may end in a crash of the guest's making or a kill: keep the
     * file readable up to the last line (QEMU's log is line-buffered too). */
    if (log_file) fflush(log_file);
}

void log_set_mask(uint32_t mask)
{
    log_mask = mask & LOG_ALL_MASK;
}

int log_set_file(const char *path)
{
    if (!path) {
        if (log_file) fclose(log_file);
        log_file = NULL;
        free(log_path);
        log_path = NULL;
        return 0;
    }
    FILE *f = fopen(path, "w");
    if (!f) return -errno;
    char *copy = strdup(path);
    if (!copy) {
        fclose(f);
        return -ENOMEM;
    }
    if (log_file) fclose(log_file);
    free(log_path);
    log_file = f;
    log_path = copy;
    return 0;
}

const char *log_file_name(void)
{
    return log_path;
}

void log_mask_names(uint32_t mask, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0) return;
    buf[0] = '\0';
    for (int ch = 0; ch < LOG_CHANNEL_COUNT; ch++) {
        if (!(mask & LOG_MASK_OF(ch))) continue;
        int n = snprintf(buf + used, size - used, "%s%s", used ? "," : "", channels[ch].name);
        if (n < 0 || (size_t)n >= size - used) return;   /* truncated: what fits */
        used += (size_t)n;
    }
    if (!used) snprintf(buf, size, "none");
}

/* "in_asm, int, ..." for the error line. */
static void valid_names(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int ch = 0; ch < LOG_CHANNEL_COUNT; ch++) {
        int n = snprintf(buf + used, size - used, "%s, ", channels[ch].name);
        if (n < 0 || (size_t)n >= size - used) return;
        used += (size_t)n;
    }
    snprintf(buf + used, size - used, "all, none");
}

int log_parse_list(const char *list, uint32_t *mask, char *why, size_t why_size)
{
    uint32_t m = 0;
    char names[256];
    const char *p = list;

    if (!*list) {
        valid_names(names, sizeof names);
        snprintf(why, why_size, "an empty log list (give one or more of %s, comma-separated)", names);
        return -1;
    }
    for (;;) {
        size_t len = strcspn(p, ",");
        int found = -1;
        for (int ch = 0; ch < LOG_CHANNEL_COUNT; ch++)
            if (strlen(channels[ch].name) == len && strncmp(p, channels[ch].name, len) == 0)
                found = ch;
        if (found >= 0) {
            m |= LOG_MASK_OF(found);
        } else if (len == 3 && strncmp(p, "all", 3) == 0) {
            m = LOG_ALL_MASK;
        } else if (len == 4 && strncmp(p, "none", 4) == 0) {
            m = 0;
        } else {
            valid_names(names, sizeof names);
            if (len == 0)
                snprintf(why, why_size, "'%s': an empty item (the valid ones: %s)", list, names);
            else if (strncmp(p, "trace:", 6) == 0)
                snprintf(why, why_size, "'%.*s': trapeze has no trace events, only the log items %s",
                         (int)len, p, names);
            else
                snprintf(why, why_size, "unknown log item '%.*s' (the valid ones: %s; -d help explains them)",
                         (int)len, p, names);
            return -1;
        }
        if (p[len] == '\0') break;
        p += len + 1;
    }
    *mask = m;
    return 0;
}

void log_print_help(FILE *out)
{
    fprintf(out, "Log items (comma separated):\n");
    for (int ch = 0; ch < LOG_CHANNEL_COUNT; ch++)
        fprintf(out, "%-15s %s\n", channels[ch].name, channels[ch].help);
    fprintf(out, "%-15s %s\n", "all", "every item above");
    fprintf(out, "%-15s %s\n", "none", "no item (the monitor's `log none` turns logging off)");
    fprintf(out, "\nThe log goes to stderr, or to the file of -D FILE.\n");
}
