/*
 * debugport.c - port 0xE9, isa-debug-exit and the Bochs shutdown port
 * (see debugport.h for what each does and why).
 */
#include "devices/debugport.h"

#include <errno.h>
#include <string.h>

#include "base/snapshot.h"

static const char debugport_shutdown_word[] = "Shutdown";

static uint32_t debugport_console_read(void *opaque, uint32_t offset, unsigned size)
{
    return DEBUGPORT_CONSOLE;   /* the "port E9 hack" signature Bochs and QEMU return */
}

static void debugport_console_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    struct debugport *d = opaque;
    chardev_write(&d->console, (uint8_t)value);   /* one byte, whatever the access size */
}

static uint32_t debugport_exit_read(void *opaque, uint32_t offset, unsigned size)
{
    return 0;   /* QEMU's isa-debug-exit reads as zero */
}

static void debugport_exit_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    struct debugport *d = opaque;
    board_line_signal(&d->debug_exit, value & 0xFF);
}

static uint32_t debugport_shutdown_read(void *opaque, uint32_t offset, unsigned size)
{
    return 0xFFFFFFFFu;   /* write-only: reads like an empty port */
}

/*
 * Match "Shutdown" one byte at a time.  A wrong byte restarts the match,
 * counting it as a fresh 'S' if it is one, so "SShutdown" still works.
 */
static void debugport_shutdown_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    struct debugport *d = opaque;
    char c = (char)(value & 0xFF);

    if (c == debugport_shutdown_word[d->shutdown_match])
        d->shutdown_match++;
    else
        d->shutdown_match = (c == debugport_shutdown_word[0]) ? 1 : 0;
    if (d->shutdown_match == sizeof debugport_shutdown_word - 1) {
        d->shutdown_match = 0;
        board_line_signal(&d->power_off, 1);
    }
}

const struct io_ops debugport_console_ops = {
    .read = debugport_console_read, .write = debugport_console_write,
};
const struct io_ops debugport_exit_ops = {
    .read = debugport_exit_read, .write = debugport_exit_write,
};
const struct io_ops debugport_shutdown_ops = {
    .read = debugport_shutdown_read, .write = debugport_shutdown_write,
};

int debugport_init(struct debugport *d, const char *spec, uint16_t exit_iobase, uint16_t exit_iosize,
                   struct board_line power_off, struct board_line debug_exit)
{
    memset(d, 0, sizeof *d);
    d->exit_iobase = exit_iobase;
    d->exit_iosize = exit_iosize;
    d->power_off = power_off;
    d->debug_exit = debug_exit;
    return chardev_open(&d->console, spec, "-debugcon", false);
}

void debugport_destroy(struct debugport *d)
{
    chardev_close(&d->console);
}

void debugport_reset(struct debugport *d)
{
    d->shutdown_match = 0;
}

/* ---- the board's registry ---- */

/* Saved: how far "Shutdown" has come (the console backend is the host's). */
int debugport_save(void *opaque, struct snapshot *s)
{
    struct debugport *d = opaque;
    uint32_t match = d->shutdown_match;
    return snapshot_put(s, "debugport", 1, &match, sizeof match);
}

int debugport_load(void *opaque, const struct snapshot *s, struct snapshot_check *c)
{
    struct debugport *d = opaque;
    uint32_t match;
    int r = snapshot_take(s, "debugport", 1, &match, sizeof match, c);
    if (!r) r = snapshot_check_range(c, "debugport", "shutdown_match", match, 0, 8);   /* strlen("Shutdown") */
    if (r || !c->apply) return r;
    d->shutdown_match = match;
    return 0;
}

void debugport_reset_device(void *opaque) { debugport_reset(opaque); }

void debugport_info(void *opaque, FILE *out)
{
    struct debugport *d = opaque;
    fprintf(out, "debug console 0xE9, isa-debug-exit 0x%02x (%u ports), Bochs shutdown 0x8900: "
            "%u of 8 bytes of \"Shutdown\" seen\n",
            d->exit_iobase, d->exit_iosize,
            d->shutdown_match);
}
