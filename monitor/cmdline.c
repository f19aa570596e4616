/*
 * cmdline.c - the QEMU-style command line (see cmdline.h).
 *
 * The table below lists every option: the ones trapeze has, with a handler,
 * and the ones DESIGN.md promises for a later issue, with the name.
 */
#include "monitor/cmdline.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/chardev.h"
#include "vmm/engine.h"

#define RAM_MIN_MIB 2
#define RAM_MAX_MIB 3072   /* leaves the top GiB for ROM and, later, MMIO */

/* Print one "trapeze: ..." line and return -EINVAL (the caller exits with 2). */
__attribute__((format(printf, 1, 2)))
static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "trapeze: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -EINVAL;
}

/* "-m 64", "64M", "1G", "size=64M": MiB when no suffix, as QEMU. */
static int parse_ram(struct options *o, const char *arg)
{
    const char *p = arg;
    char *end;

    if (strncmp(p, "size=", 5) == 0)
        p += 5;
    if (!isdigit((unsigned char)*p))
        return bad("-m %s: not a size (use MiB, or a number with M or G: -m 128, -m 1G)", arg);
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno == 0) {
        if (*end == 'G' || *end == 'g') { v *= 1024; end++; }
        else if (*end == 'M' || *end == 'm') end++;
    }
    if (errno != 0 || *end != '\0')
        return bad("-m %s: not a size (use MiB, or a number with M or G: -m 128, -m 1G)", arg);
    if (v < RAM_MIN_MIB || v > RAM_MAX_MIB) {
        fprintf(stderr, "trapeze: -m %s: RAM must be %d MiB to %d MiB\n", arg, RAM_MIN_MIB, RAM_MAX_MIB);
        return -EINVAL;
    }
    o->machine.ram_size = (uint32_t)(v << 20);
    return 0;
}

static int parse_serial(struct options *o, const char *arg)
{
    if (strncmp(arg, "mon:", 4) == 0)
        return bad("-serial %s: not supported yet (the monitor comes with the monitor issue)", arg);
    if (!chardev_spec_valid(arg))
        return bad("-serial %s: unknown backend (use stdio, file:PATH or none)", arg);
    if (!o->machine.serial) { o->machine.serial = arg; return 0; }
    if (!o->machine.serial2) { o->machine.serial2 = arg; return 0; }
    return bad("-serial %s: at most two -serial options (COM1, COM2)", arg);
}

static int parse_debugcon(struct options *o, const char *arg)
{
    if (!chardev_spec_valid(arg))
        return bad("-debugcon %s: unknown backend (use stdio, file:PATH or none)", arg);
    o->machine.debugcon = arg;
    return 0;
}

static int parse_display(struct options *o, const char *arg)
{
    if (strcmp(arg, "none") == 0) { o->headless = true; return 0; }
    if (strcmp(arg, "sdl") == 0)
        return bad("-display sdl: not supported yet (VGA comes with the PC board issue); "
                   "use -display none");
    return bad("-display %s: unknown display (use none or sdl)", arg);
}

/* A number in C syntax (0xf4, 244) within [1, max]. */
static bool parse_number(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (errno || end == s || *end || v == 0 || v > max)
        return false;
    *out = v;
    return true;
}

/* -device isa-debug-exit[,iobase=N][,iosize=N]: the one device there is. */
static int parse_device(struct options *o, const char *arg)
{
    size_t len = strcspn(arg, ",");
    if (len != strlen("isa-debug-exit") || strncmp(arg, "isa-debug-exit", len) != 0)
        return bad("-device %s: unknown device (trapeze has isa-debug-exit only)", arg);
    const char *p = arg + len;
    while (*p == ',') {
        p++;
        size_t n = strcspn(p, ",");
        char prop[64];
        if (n >= sizeof prop)
            return bad("-device %s: property too long", arg);
        memcpy(prop, p, n);
        prop[n] = '\0';
        unsigned long v;
        if (strncmp(prop, "iobase=", 7) == 0 && parse_number(prop + 7, 0xFFFF, &v))
            o->machine.debug_exit_iobase = (uint16_t)v;
        else if (strncmp(prop, "iosize=", 7) == 0 && parse_number(prop + 7, 4, &v) && v != 3)
            o->machine.debug_exit_iosize = (uint16_t)v;
        else
            return bad("-device %s: bad property '%s' (isa-debug-exit takes iobase=PORT,iosize=1|2|4)",
                       arg, prop);
        p += n;
    }
    if ((uint32_t)o->machine.debug_exit_iobase + (o->machine.debug_exit_iosize ? o->machine.debug_exit_iosize : 4) > 0x10000)
        return bad("-device %s: the ports run past 0xFFFF", arg);
    return 0;
}

static int parse_smp(struct options *o, const char *arg)
{
    if (strcmp(arg, "1") == 0 || strcmp(arg, "cpus=1") == 0)
        return 0;
    return bad("-smp %s: trapeze emulates one CPU (use -smp 1)", arg);
}

static int parse_engine(struct options *o, const char *arg)
{
    if (!engine_known(arg))
        return bad("-engine %s: unknown engine (use emu, tae, bt or kvm)", arg);
    o->engine = arg;
    return 0;
}

static int parse_icount(struct options *o, const char *arg)
{
    const char *p = strncmp(arg, "shift=", 6) == 0 ? arg + 6 : arg;
    char *end;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (errno || end == p || *end || v < 0 || v > 10)
        return bad("-icount %s: use shift=N with N from 0 to 10", arg);
    o->icount_shift = (int)v;
    return 0;
}

static int parse_action(struct options *o, const char *arg)
{
    if (strcmp(arg, "reboot=reset") == 0) { o->reboot_on_triple_fault = true; return 0; }
    if (strcmp(arg, "reboot=shutdown") == 0) { o->reboot_on_triple_fault = false; return 0; }
    return bad("-action %s: not supported (trapeze has reboot=reset and reboot=shutdown)", arg);
}

static int set_kernel(struct options *o, const char *a) { o->machine.kernel = a; return 0; }
static int set_append(struct options *o, const char *a) { o->machine.append = a; return 0; }
static int set_initrd(struct options *o, const char *a) { o->machine.initrd = a; return 0; }
static int set_bios(struct options *o, const char *a) { o->machine.bios = a; return 0; }
static int set_nographic(struct options *o, const char *a) { o->headless = true; return 0; }
static int set_no_reboot(struct options *o, const char *a) { o->machine.no_reboot = true; return 0; }
static int set_stats(struct options *o, const char *a) { o->stats = true; return 0; }
static int set_help(struct options *o, const char *a) { o->help = true; return 0; }
static int set_version(struct options *o, const char *a) { o->version = true; return 0; }

struct option_row {
    const char *name;             /* without the leading dash */
    bool has_arg;
    int (*handle)(struct options *o, const char *arg);   /* NULL: a later issue */
    const char *later;            /* for NULL handlers: which issue brings it */
};

static const struct option_row option_table[] = {
    { "kernel",    true,  set_kernel,     NULL },
    { "append",    true,  set_append,     NULL },
    { "initrd",    true,  set_initrd,     NULL },
    { "m",         true,  parse_ram,      NULL },
    { "serial",    true,  parse_serial,   NULL },
    { "debugcon",  true,  parse_debugcon, NULL },
    { "nographic", false, set_nographic,  NULL },
    { "display",   true,  parse_display,  NULL },
    { "no-reboot", false, set_no_reboot,  NULL },
    { "device",    true,  parse_device,   NULL },
    { "smp",       true,  parse_smp,      NULL },
    { "bios",      true,  set_bios,       NULL },
    { "engine",    true,  parse_engine,   NULL },
    { "stats",     false, set_stats,      NULL },
    { "icount",    true,  parse_icount,   NULL },
    { "action",    true,  parse_action,   NULL },
    { "help",      false, set_help,       NULL },
    { "h",         false, set_help,       NULL },
    { "version",   false, set_version,    NULL },
    /* DESIGN.md's options of later issues. */
    { "fda",       true,  NULL, "the PC board issue" },
    { "hda",       true,  NULL, "the PC board issue" },
    { "drive",     true,  NULL, "the PC board issue" },
    { "boot",      true,  NULL, "the PC board issue" },
    { "monitor",   false, NULL, "the monitor issue" },
    { "s",         false, NULL, "the GDB stub issue" },
    { "S",         false, NULL, "the GDB stub issue" },
    { "gdb",       true,  NULL, "the GDB stub issue" },
};

#define OPTION_COUNT (sizeof option_table / sizeof option_table[0])

int cmdline_parse(struct options *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->engine = "emu";
    o->icount_shift = -1;

    for (int i = 1; i < argc; i++) {
        const char *word = argv[i];
        if (word[0] != '-' || word[1] == '\0') {
            /* QEMU takes a bare word as -hda. */
            return bad("%s: a bare disk image (QEMU's -hda) is not supported yet "
                       "(comes with the PC board issue)", word);
        }
        const char *name = word + 1 + (word[1] == '-');
        const struct option_row *row = NULL;
        for (size_t k = 0; k < OPTION_COUNT; k++)
            if (strcmp(option_table[k].name, name) == 0)
                row = &option_table[k];
        if (!row)
            return bad("unknown option '%s' (see trapeze -help)", word);
        if (!row->handle) {
            fprintf(stderr, "trapeze: -%s: not supported yet (comes with %s)\n", row->name, row->later);
            return -EINVAL;
        }
        const char *arg = NULL;
        if (row->has_arg) {
            if (i + 1 >= argc)
                return bad("-%s: needs an argument (see trapeze -help)", row->name);
            arg = argv[++i];
        }
        int err = row->handle(o, arg);
        if (err < 0)
            return err;
    }
    if (o->help || o->version)
        return 0;
    if (!o->machine.kernel && (o->machine.append || o->machine.initrd))
        return bad("%s only goes with -kernel", o->machine.append ? "-append" : "-initrd");
    return 0;
}

void cmdline_usage(FILE *out)
{
    fputs(
"usage: trapeze -kernel FILE [options]      (the flags of qemu-system-i386)\n"
"\n"
"Boot:\n"
"  -kernel FILE          boot a Multiboot kernel (ELF32, or the a.out kludge)\n"
"  -append STRING        its command line\n"
"  -initrd 'F1 ARGS,F2'  Multiboot modules, each optionally followed by its arguments\n"
"  -bios FILE            map a ROM image below 4 GiB (last 128 KiB below 1 MiB); start at F000:FFF0\n"
"Machine:\n"
"  -m SIZE               RAM in MiB, or with M/G suffix (default 128)\n"
"  -smp 1                one CPU\n"
"  -serial DEV           COM1, then COM2: stdio | file:PATH | none (default COM1 on stdio)\n"
"  -debugcon DEV         port 0xE9: stdio | file:PATH | none (default none)\n"
"  -device isa-debug-exit[,iobase=0xf4,iosize=0x04]\n"
"                        always present at 0xF4: writing V exits with status (V << 1) | 1\n"
"  -nographic, -display none   no display (the only kind there is yet)\n"
"Running:\n"
"  -engine emu|tae|bt|kvm  execution engine (default emu; the others come in later issues)\n"
"  -stats                print engine statistics to stderr at exit\n"
"  -icount shift=N       accepted; the instruction-counting clock comes with the timers\n"
"  -no-reboot            exit instead of rebooting when the guest resets\n"
"  -action reboot=reset  reset instead of stopping on a triple fault\n"
"  -help, -version\n"
"\n"
"Exit status: (V << 1) | 1 after isa-debug-exit, 0 guest powered off (\"Shutdown\" to\n"
"0x8900), 2 bad usage or input, 4 triple fault or guest stuck, 6 host failure.\n"
"Not yet: -fda -hda -drive -boot (PC board issue), -monitor (monitor issue),\n"
"-s -S -gdb (GDB stub issue).\n", out);
}
