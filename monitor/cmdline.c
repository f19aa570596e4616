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

#include "base/log.h"
#include "devices/chardev.h"
#include "monitor/gdbstub.h"
#include "base/disk.h"
#include "devices/cmos_rtc.h"
#include "mmu/bus.h"
#include "vmm/engine.h"

#define RAM_MIN_MIB 2
#define RAM_MAX_MIB 3072   /* leaves the top GiB for ROM and, later, MMIO */
/* RAM must end below the VMM-private window, which no guest address may reach. */
_Static_assert(((uint64_t)RAM_MAX_MIB << 20) <= BUS_PRIVATE_BASE,
               "-m would let guest RAM reach BUS_PRIVATE_BASE");

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
    if (strncmp(arg, "mon:", 4) == 0) {
        /* QEMU's multiplexer: COM1 and the monitor on one stdio (Ctrl-A c switches). */
        if (strcmp(arg + 4, "stdio") != 0)
            return bad("-serial %s: the monitor multiplexes stdio only (use -serial mon:stdio)", arg);
        if (o->machine.serial)
            return bad("-serial %s: mon:stdio must be the first -serial (COM1)", arg);
        o->monitor = true;
        o->monitor_mux = true;
        arg = "stdio";
    }
    if (!chardev_spec_valid(arg))
        return bad("-serial %s: unknown backend (use stdio, file:PATH, null or none)", arg);
    if (!o->machine.serial) { o->machine.serial = arg; return 0; }
    if (!o->machine.serial2) { o->machine.serial2 = arg; return 0; }
    return bad("-serial %s: at most two -serial options (COM1, COM2)", arg);
}

static int parse_debugcon(struct options *o, const char *arg)
{
    if (!chardev_spec_valid(arg))
        return bad("-debugcon %s: unknown backend (use stdio, file:PATH, null or none)", arg);
    o->machine.debugcon = arg;
    return 0;
}

static int parse_display(struct options *o, const char *arg)
{
    if (strcmp(arg, "none") == 0) {
        o->headless = true;
        o->machine.display = MACHINE_DISPLAY_NONE;
        return 0;
    }
    if (strcmp(arg, "sdl") == 0) {
        o->headless = false;
        o->machine.display = MACHINE_DISPLAY_SDL;
        return 0;
    }
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
    o->engine_flag = "-engine";
    return 0;
}

/* QEMU's ways of naming the accelerator: -enable-kvm, -accel, -machine accel=. */
static int choose_accel(struct options *o, const char *flag, const char *engine)
{
    if (o->accel_engine && strcmp(o->accel_engine, engine) != 0)
        return bad("%s: the accelerator is already %s (%s); trapeze takes one (QEMU's fallback "
                   "lists are not supported)", flag, strcmp(o->accel_engine, "kvm") ? "tcg" : "kvm",
                   o->accel_flag);
    o->accel_flag = flag;
    o->accel_engine = engine;
    return 0;
}

static int set_enable_kvm(struct options *o, const char *a) { return choose_accel(o, "-enable-kvm", "kvm"); }

/*
 * -accel kvm | tcg[,thread=single]: tcg, QEMU's software CPU, is trapeze's
 * emu.  thread=single is what trapeze is (one CPU, one thread), so it is
 * accepted; any other property is refused by name.
 */
static int parse_accel(struct options *o, const char *arg)
{
    size_t len = strcspn(arg, ",");
    const char *engine;
    if (len == 3 && strncmp(arg, "kvm", 3) == 0) engine = "kvm";
    else if (len == 3 && strncmp(arg, "tcg", 3) == 0) engine = "emu";
    else
        return bad("-accel %s: unknown accelerator '%.*s' (trapeze has kvm, and tcg = its software "
                   "CPU, -engine emu)", arg, (int)len, arg);
    for (const char *p = arg + len; *p == ',';) {
        p++;
        size_t n = strcspn(p, ",");
        if (strcmp(engine, "emu") == 0 && n == 13 && strncmp(p, "thread=single", 13) == 0) {
            p += n;
            continue;
        }
        if (strcmp(engine, "emu") == 0 && n == 12 && strncmp(p, "thread=multi", 12) == 0)
            return bad("-accel %s: trapeze runs one CPU on one thread (use thread=single, or leave it out)", arg);
        return bad("-accel %s: property '%.*s' is not supported (trapeze takes -accel kvm, -accel tcg "
                   "and -accel tcg,thread=single)", arg, (int)n, p);
    }
    return choose_accel(o, "-accel", engine);
}

/* -machine [type=]pc[,accel=kvm|tcg]: the one board there is, and QEMU's older accel spelling. */
static int parse_machine(struct options *o, const char *arg)
{
    const char *p = arg;
    while (*p) {
        size_t n = strcspn(p, ",");
        if ((n == 2 && strncmp(p, "pc", 2) == 0) || (n == 7 && strncmp(p, "type=pc", 7) == 0)) {
            /* the PC/AT board trapeze has */
        } else if (n > 6 && strncmp(p, "accel=", 6) == 0) {
            const char *v = p + 6;
            size_t vn = n - 6;
            int err;
            if (vn == 3 && strncmp(v, "kvm", 3) == 0) err = choose_accel(o, "-machine accel=", "kvm");
            else if (vn == 3 && strncmp(v, "tcg", 3) == 0) err = choose_accel(o, "-machine accel=", "emu");
            else
                return bad("-machine %s: accel=%.*s is not supported (use accel=kvm or accel=tcg; "
                           "QEMU's fallback list kvm:tcg is not)", arg, (int)vn, v);
            if (err < 0) return err;
        } else if (strncmp(p, "type=", 5) == 0 || !memchr(p, '=', n)) {
            return bad("-machine %s: unknown machine '%.*s' (trapeze is one PC/AT board: -machine pc)",
                       arg, (int)(strncmp(p, "type=", 5) == 0 ? n - 5 : n), strncmp(p, "type=", 5) == 0 ? p + 5 : p);
        } else {
            return bad("-machine %s: property '%.*s' is not supported (trapeze takes pc and accel=kvm|tcg)",
                       arg, (int)n, p);
        }
        p += n;
        if (*p == ',') p++;
    }
    return 0;
}

/* -cpu MODEL: checked once the engine is known (cmdline_check_cpu). */
static int parse_cpu(struct options *o, const char *arg)
{
    if (strcmp(arg, "help") == 0 || strcmp(arg, "?") == 0) {
        o->cpu_help = true;
        return 0;
    }
    /* One feature can be switched: virtualizable=on|off (tae: the
     * sensitive-but-unprivileged instructions trap, as UMIP and VT-x
     * later made them).  The model's name is kept apart from it. */
    const char *comma = strchr(arg, ',');
    if (comma) {
        const char *feature = comma + 1;
        if (!strcmp(feature, "virtualizable=on") || !strcmp(feature, "virtualizable"))
            o->engine_options.sensitive_traps = true;
        else if (!strcmp(feature, "virtualizable=off"))
            o->engine_options.sensitive_traps = false;
        else
            return bad("-cpu %s: the one CPU feature that can be changed is virtualizable=on|off "
                       "(trapeze's CPUs are fixed models; see -cpu help)", arg);
        size_t n = (size_t)(comma - arg);
        if (n >= sizeof o->cpu_model_buf) return bad("-cpu %s: unknown CPU model", arg);
        memcpy(o->cpu_model_buf, arg, n);
        o->cpu_model_buf[n] = 0;
        o->cpu_model = o->cpu_model_buf;
        o->cpu_feature_given = true;
        return 0;
    }
    o->cpu_model = arg;
    return 0;
}

/*
 * The CPU models (README.md, "-cpu").  The software CPU is one model: its
 * CPUID says GenuineIntel, family 5 model 2 (a P54C Pentium), features DE
 * PSE TSC MSR CX8 PGE CMOV and no FPU (cpu/exec_system.c), so "pentium"
 * is the honest QEMU name (QEMU's pentium has an FPU and MMX, and no CMOV,
 * which this one has).  Under kvm the guest sees the host's CPU through
 * KVM's CPUID, QEMU's "host".  "max" is the most an engine has, either.
 */
static const struct {
    const char *name;
    bool emu, kvm;
    const char *what;
} cpu_models[] = {
    { "pentium", true, false, "-engine emu: the software CPU, CPUID GenuineIntel family 5 model 2 "
                              "(P54C), no x87 FPU, with CMOV" },
    { "host",    false, true, "-engine kvm: the host's CPU, with the CPUID KVM supports (filtered)" },
    { "max",     true, true,  "the most the engine has: pentium under emu, host under kvm" },
};
/* Shown after the models by -cpu help. */
static const char cpu_feature_help[] =
    "Feature (with -engine tae): MODEL,virtualizable=on makes POPF, PUSHF, SGDT, SIDT, SLDT, STR,\n"
    "  SMSW, LAR, LSL, VERR, VERW, PUSH and MOV from a segment register fault at CPL > 0 (a\n"
    "  \"virtualizable x86\", as UMIP and VT-x later made them): the VMM emulates each one\n";

void cmdline_cpu_help(FILE *out)
{
    fprintf(out, "Available CPUs:\n");
    for (size_t k = 0; k < sizeof cpu_models / sizeof cpu_models[0]; k++)
        fprintf(out, "  %-10s %s\n", cpu_models[k].name, cpu_models[k].what);
    fputs(cpu_feature_help, out);
}

static int check_cpu(struct options *o)
{
    if (!o->cpu_model) return 0;
    bool kvm = strcmp(o->engine, "kvm") == 0;
    if (o->cpu_feature_given && o->engine_options.sensitive_traps && strcmp(o->engine, "tae") != 0)
        return bad("-cpu %s,virtualizable=...: only with -engine tae (the switch makes the "
                   "deprivileged guest's sensitive instructions trap to the VMM)", o->cpu_model);
    for (size_t k = 0; k < sizeof cpu_models / sizeof cpu_models[0]; k++) {
        if (strcmp(cpu_models[k].name, o->cpu_model) != 0) continue;
        if (kvm ? cpu_models[k].kvm : cpu_models[k].emu) return 0;
        return bad("-cpu %s: not with -engine %s (%s; use -cpu %s)", o->cpu_model, o->engine,
                   cpu_models[k].what, kvm ? "host or max" : "pentium or max");
    }
    return bad("-cpu %s: unknown CPU model (trapeze has pentium under emu, host under kvm, and max; "
               "-cpu help lists them)", o->cpu_model);
}

/* -d LIST (-d help lists the items); -D FILE. */
static int parse_log(struct options *o, const char *arg)
{
    char why[512];
    if (strcmp(arg, "help") == 0 || strcmp(arg, "?") == 0) {
        o->log_help = true;
        return 0;
    }
    uint32_t mask;
    if (log_parse_list(arg, &mask, why, sizeof why) < 0)
        return bad("-d %s", why);
    o->log_mask = mask;
    return 0;
}

static int set_log_file(struct options *o, const char *a)
{
    if (!*a) return bad("-D: an empty file name");
    o->log_file = a;
    return 0;
}

static int set_no_shutdown(struct options *o, const char *a) { o->no_shutdown = true; return 0; }

/* -vga std (the VGA there is) | none (no VGA at all, as QEMU). */
static int parse_vga(struct options *o, const char *arg)
{
    if (strcmp(arg, "std") == 0) { o->machine.no_vga = false; return 0; }
    if (strcmp(arg, "none") == 0) { o->machine.no_vga = true; return 0; }
    return bad("-vga %s: trapeze has -vga std (a VGA in text mode) and -vga none", arg);
}

/* -kvm-fallback on|off: the software CPU stands in where the host's KVM cannot run the guest. */
static int parse_kvm_fallback(struct options *o, const char *arg)
{
    if (!strcmp(arg, "on")) o->engine_options.kvm_fallback = true;
    else if (!strcmp(arg, "off")) o->engine_options.kvm_fallback = false;
    else return bad("-kvm-fallback %s: use on or off", arg);
    return 0;
}

/* -rtc base=utc|localtime|YYYY-MM-DDTHH:MM:SS|YYYY-MM-DD[,clock=vm] */
static int parse_rtc(struct options *o, const char *arg)
{
    struct rtc_base b;
    char why[200];
    if (rtc_parse_option(arg, &b, why, sizeof why) < 0)
        return bad("%s", why);
    o->machine.rtc = arg;
    return 0;
}

static int parse_icount(struct options *o, const char *arg)
{
    const char *p = strncmp(arg, "shift=", 6) == 0 ? arg + 6 : arg;
    if (strncmp(p, "auto", 4) == 0)
        return bad("-icount %s: shift=auto (time adapted to the host's speed) is not supported; "
                   "use shift=N with N from 0 to 10", arg);
    char *end;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (errno || end == p || *end || v < 0 || v > 10)
        return bad("-icount %s: use shift=N with N from 0 to 10", arg);
    o->icount_shift = (int)v;
    o->machine.icount = true;
    o->machine.icount_shift = (unsigned)v;
    return 0;
}

/*
 * An instruction count: decimal digits, then optionally k, M or G (10^3,
 * 10^6, 10^9: instructions are counted, not bytes).  0 is "no cap".
 */
static bool parse_insn_count(const char *s, uint64_t *out)
{
    if (!isdigit((unsigned char)*s)) return false;   /* no sign, no blank, no 0x */
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return false;
    unsigned long long scale = 1;
    if (*end == 'k' || *end == 'K') scale = 1000ull;
    else if (*end == 'M') scale = 1000000ull;
    else if (*end == 'G') scale = 1000000000ull;
    if (scale != 1) end++;
    if (*end || v > UINT64_MAX / scale) return false;
    *out = (uint64_t)(v * scale);
    return true;
}

#define INSN_COUNT_HINT "a whole number of instructions, optionally with k, M or G (10^3, 10^6, 10^9); 0: no cap"

/* -max-insns N: stop once the guest has retired N instructions (0: no cap). */
static int parse_max_insns(struct options *o, const char *arg)
{
    if (!parse_insn_count(arg, &o->max_insns))
        return bad("-max-insns %s: not an instruction count (use %s)", arg, INSN_COUNT_HINT);
    o->max_insns_from = "-max-insns";
    return 0;
}

/* TRAPEZE_MAX_INSNS: the cap when -max-insns is not given (the test runner sets it). */
static int max_insns_from_environment(struct options *o)
{
    const char *v = getenv("TRAPEZE_MAX_INSNS");
    if (o->max_insns_from || !v || !*v) return 0;   /* set but empty: no cap, as unset */
    if (!parse_insn_count(v, &o->max_insns))
        return bad("TRAPEZE_MAX_INSNS=%s: not an instruction count (use %s)", v, INSN_COUNT_HINT);
    o->max_insns_from = "TRAPEZE_MAX_INSNS";
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
static int set_nographic(struct options *o, const char *a)
{
    o->headless = true;
    o->nographic = true;
    o->machine.display = MACHINE_DISPLAY_NONE;
    o->machine.serial_console = true;   /* as SeaBIOS's under QEMU -nographic */
    return 0;
}
static int set_screendump(struct options *o, const char *a) { o->machine.screendump = a; return 0; }
static int set_sdl_screenshot(struct options *o, const char *a) { o->machine.sdl_screenshot = a; return 0; }
static int set_no_reboot(struct options *o, const char *a) { o->machine.no_reboot = true; return 0; }
static int set_stats(struct options *o, const char *a) { o->stats = true; o->engine_options.count_in_tc = true; return 0; }
static int set_help(struct options *o, const char *a) { o->help = true; return 0; }
static int set_version(struct options *o, const char *a) { o->version = true; return 0; }

/* -monitor, -monitor stdio (the shell on the terminal), -monitor none (no shell, as QEMU). */
static int set_monitor(struct options *o, const char *a)
{
    if (!a || strcmp(a, "stdio") == 0) { o->monitor = true; return 0; }
    if (strcmp(a, "none") == 0) { o->monitor = false; o->monitor_none = true; return 0; }
    return bad("-monitor %s: the monitor runs on stdio only (use -monitor, -monitor stdio or -monitor none)", a);
}

static int set_monitor_script(struct options *o, const char *a) { o->monitor_script = a; return 0; }

/* -s is -gdb tcp::1234 (QEMU); -gdb DEV is checked here, opened in main. */
static int set_gdb_default(struct options *o, const char *a) { o->gdb = "tcp::1234"; return 0; }
static int set_start_stopped(struct options *o, const char *a) { o->start_stopped = true; return 0; }
static int set_gdb(struct options *o, const char *a)
{
    char host[256];
    uint16_t port;
    if (gdbstub_parse_device(a, host, sizeof host, &port) < 0)
        return -EINVAL;
    o->gdb = a;
    return 0;
}

/* ---- disks: -hda -hdb -fda -fdb -drive -boot ---- */

static int set_drive(struct options *o, enum disk_role role, const char *path, bool read_only,
                     const char *given_as)
{
    struct machine_drive *d = &o->machine.drives[role];
    if (!*path)
        return bad("%s: an empty file name", given_as);
    if (d->path)
        return bad("%s %s: the %s already holds %s", given_as, path, disk_role_name(role), d->path);
    d->path = path;
    d->read_only = read_only;
    return 0;
}

static int set_hda(struct options *o, const char *a) { return set_drive(o, DISK_IDE_MASTER, a, false, "-hda"); }
static int set_hdb(struct options *o, const char *a) { return set_drive(o, DISK_IDE_SLAVE, a, false, "-hdb"); }
static int set_fda(struct options *o, const char *a) { return set_drive(o, DISK_FLOPPY_A, a, false, "-fda"); }
static int set_fdb(struct options *o, const char *a) { return set_drive(o, DISK_FLOPPY_B, a, false, "-fdb"); }

/*
 * -drive file=F,if=ide|floppy,index=N,media=disk,format=raw,readonly=on
 * (QEMU's spelling; ",," inside a value is a comma).  The values are
 * unescaped in place inside argv, which C lets a program write, so the
 * file name can point there for the whole run.
 */
static int parse_drive(struct options *o, const char *arg)
{
    char *p = (char *)arg;
    const char *file = NULL, *iface = "ide";
    long index = -1;
    bool read_only = false;

    while (*p) {
        char *key = p;
        char *eq = strchr(p, '=');
        if (!eq)
            return bad("-drive %s: '%s' is not KEY=VALUE (use file=F,if=ide|floppy,index=N,"
                       "media=disk,format=raw,readonly=on)", arg, key);
        *eq = '\0';
        char *value = eq + 1, *src = value, *dst = value;
        while (*src && !(src[0] == ',' && src[1] != ',')) {
            if (src[0] == ',' && src[1] == ',') src++;   /* ",," is one comma */
            *dst++ = *src++;
        }
        p = *src ? src + 1 : src;
        *dst = '\0';

        if (strcmp(key, "file") == 0) {
            file = value;
        } else if (strcmp(key, "if") == 0) {
            if (strcmp(value, "ide") != 0 && strcmp(value, "floppy") != 0)
                return bad("-drive if=%s: trapeze has if=ide and if=floppy only", value);
            iface = value;
        } else if (strcmp(key, "index") == 0) {
            char *end;
            errno = 0;
            index = strtol(value, &end, 10);
            if (errno || end == value || *end || index < 0)
                return bad("-drive index=%s: not a drive index (0 or 1)", value);
        } else if (strcmp(key, "media") == 0) {
            if (strcmp(value, "cdrom") == 0)
                return bad("-drive media=cdrom: trapeze has no CD-ROM (ATAPI) drive; use media=disk");
            if (strcmp(value, "disk") != 0)
                return bad("-drive media=%s: use media=disk", value);
        } else if (strcmp(key, "format") == 0) {
            if (strcmp(value, "raw") != 0)
                return bad("-drive format=%s: trapeze reads raw images only (convert with "
                           "qemu-img convert -O raw)", value);
        } else if (strcmp(key, "readonly") == 0 || strcmp(key, "read-only") == 0) {
            if (strcmp(value, "on") == 0) read_only = true;
            else if (strcmp(value, "off") == 0) read_only = false;
            else return bad("-drive %s=%s: use on or off", key, value);
        } else {
            return bad("-drive: unknown property '%s' (trapeze takes file, if, index, media, "
                       "format and readonly)", key);
        }
    }
    if (!file)
        return bad("-drive: file=IMAGE is missing");

    bool floppy = strcmp(iface, "floppy") == 0;
    enum disk_role first = floppy ? DISK_FLOPPY_A : DISK_IDE_MASTER;
    if (index > 1)
        return bad("-drive %s,index=%ld: trapeze has %s (index 0 and 1)", iface, index,
                   floppy ? "two floppy drives" : "the primary IDE channel only");
    if (index < 0) {   /* the first free position, as QEMU */
        index = o->machine.drives[first].path ? 1 : 0;
        if (o->machine.drives[first + 1].path && index == 1)
            return bad("-drive file=%s: both %s positions are taken", file, iface);
    }
    enum disk_role role = (enum disk_role)(first + index);
    char given_as[32];
    snprintf(given_as, sizeof given_as, "-drive if=%s,index=%ld", iface, index);
    return set_drive(o, role, file, read_only, given_as);
}

/* -boot a|c|order=ac: the BIOS's boot order (drive letters as QEMU's). */
static int parse_boot(struct options *o, const char *arg)
{
    const char *order = arg;
    if (strncmp(order, "order=", 6) == 0)
        order += 6;
    else if (strchr(order, '='))
        return bad("-boot %s: trapeze takes -boot a|c or -boot order=LETTERS only", arg);
    size_t len = strlen(order);
    if (len == 0 || len >= sizeof o->machine.boot_order)
        return bad("-boot %s: give one to %zu drive letters (a = floppy, c = hard disk)",
                   arg, sizeof o->machine.boot_order - 1);
    for (size_t k = 0; k < len; k++) {
        char ch = order[k];
        if (ch == 'd')
            return bad("-boot %s: 'd' is the CD-ROM, and trapeze has no CD-ROM drive", arg);
        if (ch >= 'n' && ch <= 'p')
            return bad("-boot %s: '%c' is network boot, which trapeze does not have", arg, ch);
        if (ch != 'a' && ch != 'c')
            return bad("-boot %s: unknown drive letter '%c' (a = floppy, c = hard disk)", arg, ch);
        if (memchr(order, ch, k))
            return bad("-boot %s: drive '%c' is given twice", arg, ch);
    }
    memcpy(o->machine.boot_order, order, len + 1);
    return 0;
}

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
    { "screendump", true, set_screendump, NULL },
    { "sdl-screenshot", true, set_sdl_screenshot, NULL },
    { "no-reboot", false, set_no_reboot,  NULL },
    { "device",    true,  parse_device,   NULL },
    { "smp",       true,  parse_smp,      NULL },
    { "bios",      true,  set_bios,       NULL },
    { "engine",    true,  parse_engine,   NULL },
    { "kvm-fallback", true, parse_kvm_fallback, NULL },
    { "enable-kvm", false, set_enable_kvm, NULL },
    { "accel",     true,  parse_accel,    NULL },
    { "machine",   true,  parse_machine,  NULL },
    { "M",         true,  parse_machine,  NULL },
    { "cpu",       true,  parse_cpu,      NULL },
    { "d",         true,  parse_log,      NULL },
    { "D",         true,  set_log_file,   NULL },
    { "no-shutdown", false, set_no_shutdown, NULL },
    { "vga",       true,  parse_vga,      NULL },
    { "stats",     false, set_stats,      NULL },
    { "icount",    true,  parse_icount,   NULL },
    { "max-insns", true,  parse_max_insns, NULL },
    { "rtc",       true,  parse_rtc,      NULL },
    { "action",    true,  parse_action,   NULL },
    { "help",      false, set_help,       NULL },
    { "h",         false, set_help,       NULL },
    { "version",   false, set_version,    NULL },
    /* DESIGN.md's options of later issues. */
    { "fda",       true,  set_fda,        NULL },
    { "fdb",       true,  set_fdb,        NULL },
    { "hda",       true,  set_hda,        NULL },
    { "hdb",       true,  set_hdb,        NULL },
    { "drive",     true,  parse_drive,    NULL },
    { "boot",      true,  parse_boot,     NULL },
    { "monitor",   false, set_monitor,    NULL },   /* its argument is optional: see cmdline_parse */
    { "monitor-script", true, set_monitor_script, NULL },
    { "s",         false, set_gdb_default,   NULL },
    { "S",         false, set_start_stopped, NULL },
    { "gdb",       true,  set_gdb,           NULL },
};

#define OPTION_COUNT (sizeof option_table / sizeof option_table[0])

int cmdline_parse(struct options *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->engine = "emu";
    o->engine_options = engine_default_options();
    o->icount_shift = -1;

    for (int i = 1; i < argc; i++) {
        const char *word = argv[i];
        if (word[0] != '-' || word[1] == '\0') {
            /* QEMU takes a bare word as -hda. */
            int err = set_drive(o, DISK_IDE_MASTER, word, false, "-hda");
            if (err < 0)
                return err;
            continue;
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
        if (row->handle == set_monitor && i + 1 < argc && argv[i + 1][0] != '-')
            arg = argv[++i];   /* -monitor takes "stdio" or "none", or nothing */
        if (row->has_arg) {
            if (i + 1 >= argc)
                return bad("-%s: needs an argument (see trapeze -help)", row->name);
            arg = argv[++i];
        }
        int err = row->handle(o, arg);
        if (err < 0)
            return err;
    }
    if (o->help || o->version || o->log_help || o->cpu_help)
        return 0;
    if (o->accel_engine) {
        if (o->engine_flag && strcmp(o->engine, o->accel_engine) != 0)
            return bad("-engine %s and %s disagree (%s means -engine %s)", o->engine, o->accel_flag,
                       o->accel_flag, o->accel_engine);
        o->engine = o->accel_engine;
    }
    if (check_cpu(o) < 0)
        return -EINVAL;
    if (max_insns_from_environment(o) < 0)
        return -EINVAL;
    if (o->machine.no_vga && o->machine.screendump)
        return bad("-screendump with -vga none: there is no VGA screen to dump");
    if (o->machine.no_vga && o->machine.display == MACHINE_DISPLAY_SDL)
        return bad("-display sdl with -vga none: there is no VGA to show");
    if (!o->machine.kernel && (o->machine.append || o->machine.initrd))
        return bad("%s only goes with -kernel", o->machine.append ? "-append" : "-initrd");
    if (o->machine.sdl_screenshot && o->machine.display != MACHINE_DISPLAY_SDL)
        return bad("-sdl-screenshot needs -display sdl (the screenshot is the window's pixels)");
    /* QEMU: -nographic with no -serial and no -monitor is -serial mon:stdio
       (Ctrl-A x quits, Ctrl-A c the monitor); with gdb, gdb is the debugger. */
    if (o->nographic && !o->machine.serial && !o->monitor && !o->monitor_none && !o->monitor_script &&
        !(o->gdb && strcmp(o->gdb, "none") != 0))
        o->monitor_mux = true;
    bool shell = o->monitor || o->monitor_script;
    if (o->gdb && strcmp(o->gdb, "none") != 0 && shell)
        return bad("-s/-gdb with the monitor shell: not supported yet (use one debugger at a time)");
    if (o->start_stopped && !shell && (!o->gdb || strcmp(o->gdb, "none") == 0))
        return bad("-S: nothing could start the guest (give -s, -gdb tcp::PORT or -monitor)");
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
"Disks (raw images, booted by the BIOS, or read by a -kernel guest):\n"
"  -hda FILE, -hdb FILE  IDE primary master / slave (also: a bare FILE is -hda)\n"
"  -fda FILE, -fdb FILE  floppy A / B (1.44 MB, 720 KB, 1.2 MB, 2.88 MB), for the BIOS's int 13h\n"
"  -drive file=F,if=ide|floppy,index=0|1,media=disk,format=raw,readonly=on\n"
"  -boot a|c|order=ac    the BIOS's boot order (a = floppy, c = hard disk)\n"
"Machine:\n"
"  -m SIZE               RAM in MiB, or with M/G suffix (default 128)\n"
"  -smp 1                one CPU\n"
"  -serial DEV           COM1, then COM2: stdio | file:PATH | null | none (default COM1 on stdio)\n"
"  -debugcon DEV         port 0xE9: stdio | file:PATH | none (default none)\n"
"  -device isa-debug-exit[,iobase=0xf4,iosize=0x04]\n"
"                        always present at 0xF4: writing V exits with status (V << 1) | 1\n"
"  -display sdl|none     the VGA text screen in an SDL2 window, or none (default: a window\n"
"                        when DISPLAY or WAYLAND_DISPLAY is set and SDL video starts)\n"
"  -nographic            no window; the BIOS's text on COM1, and -serial mon:stdio (QEMU's)\n"
"  -vga std|none         the VGA (text mode), or no VGA device at all\n"
"  -screendump FILE      write the 80x25 text screen (UTF-8) to FILE when the run ends\n"
"  -sdl-screenshot FILE  test aid: the window's pixels as a PPM when the run ends (needs sdl)\n"
"Running:\n"
"  -engine emu|tae|bt|kvm  execution engine (default emu; kvm needs /dev/kvm; tae, bt come later)\n"
"  -kvm-fallback on|off  kvm: where the host cannot run the guest, the software CPU stands\n"
"                        in (on, the default), or the run stops with one line (off, status 6)\n"
"  -stats                print engine statistics to stderr at exit\n"
"  -enable-kvm, -accel kvm|tcg[,thread=single], -machine [pc,]accel=kvm|tcg\n"
"                        QEMU's names of the engine: kvm = -engine kvm, tcg = -engine emu\n"
"  -cpu pentium|host|max the CPU model (pentium: emu's software CPU; host: kvm's); -cpu help\n"
"  -icount shift=N       virtual time counts instructions, 2^N ns each (deterministic)\n"
"  -max-insns N          stop once the guest has retired N instructions (k, M, G: 10^3, 10^6,\n"
"                        10^9; 0: no cap; default: TRAPEZE_MAX_INSNS, else none), status 8;\n"
"                        kvm: counts only what the software CPU runs for it (KVM counts\n"
"                        none), so a guest on the host CPU runs under the timeout alone\n"
"  -rtc base=utc|localtime|YYYY-MM-DD[THH:MM:SS][,clock=vm]  the RTC's start time (default utc)\n"
"  -no-reboot            exit instead of rebooting when the guest resets\n"
"  -action reboot=reset  reset instead of stopping on a triple fault\n"
"  -no-shutdown          on power-off stop the emulation instead of exiting (wait for a signal)\n"
"  -help, -version\n"
"Logging (QEMU's -d items; off by default):\n"
"  -d ITEM[,ITEM...]     int, cpu_reset, unimp, guest_errors, in_asm, exec, cpu, pcall, mmu;\n"
"                        all, none; -d help explains each\n"
"  -D FILE               the log goes to FILE instead of stderr\n"
"Monitor:\n"
"  -monitor [stdio]      start stopped at the first instruction, in the monitor shell\n"
"                        (COM1's output stays on stdout; the shell reads stdin)\n"
"  -serial mon:stdio     COM1 and the shell share stdio; Ctrl-A c switches, Ctrl-A x quits\n"
"  -monitor-script FILE  run the shell's commands from FILE, echoing each\n"
"Debugging with gdb (target remote :1234; see monitor/README.md):\n"
"  -s                    the GDB stub on tcp::1234 (loopback)\n"
"  -gdb tcp::PORT        the GDB stub on PORT (tcp:HOST:PORT for another interface; 0: any free)\n"
"  -S                    start stopped: wait for gdb (or the shell) before the first instruction\n"
"\n"
"Exit status: (V << 1) | 1 after isa-debug-exit, 0 guest powered off (\"Shutdown\" to\n"
"0x8900), 2 bad usage or input, 4 triple fault, guest stuck or no bootable device,\n"
"6 host failure, 8 the -max-insns instruction cap reached.\n", out);
}
