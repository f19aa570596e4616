/*
 * chardev.h - where a character device's bytes go: the host side of the
 * serial ports and of the 0xE9 debug console.
 *
 * A backend is named on the command line as QEMU names it:
 *   stdio       output to standard output (written at once, unbuffered);
 *               input from standard input.  When stdin is a terminal and
 *               trapeze runs in the foreground, the terminal is put in raw
 *               mode (no line editing, no echo; Ctrl-C still stops trapeze)
 *               and restored on every exit path: normal exit (atexit) and
 *               the terminating signals SIGINT, SIGTERM, SIGHUP, SIGQUIT.
 *   file:PATH   output to PATH (created or truncated); no input
 *   none        output discarded; no input
 *
 * Reading never blocks: chardev_read returns what is there now, so the
 * devices can poll from the run loop without a thread.
 */
#ifndef TRAPEZE_CHARDEV_H
#define TRAPEZE_CHARDEV_H

#include <stdbool.h>
#include <stdint.h>

enum chardev_kind { CHARDEV_NONE, CHARDEV_STDIO, CHARDEV_FILE };

struct chardev {
    enum chardev_kind kind;
    int out_fd;          /* -1: output discarded */
    int in_fd;           /* -1: no input (none, file, or stdin at end of file) */
    bool owns_out;       /* out_fd was opened here and is closed here */
};

/* True when 'spec' names a backend chardev_open accepts. */
bool chardev_spec_valid(const char *spec);

/*
 * Open the backend 'spec' ("stdio", "file:PATH", "none").  'option' names
 * the command-line option for the error line ("-serial").  'want_input'
 * asks for stdin; only the first stdio backend that asks gets it (two
 * devices cannot share one keyboard).  Returns 0, or -errno after printing
 * one line that says what to do.
 */
int chardev_open(struct chardev *c, const char *spec, const char *option, bool want_input);
void chardev_close(struct chardev *c);

/* Send one byte; errors on the host side (a closed pipe) drop the byte. */
void chardev_write(struct chardev *c, uint8_t byte);

/* Read up to 'len' bytes that are ready now; never blocks.  Returns the count. */
int chardev_read(struct chardev *c, uint8_t *buf, int len);

/*
 * The monitor's hold on standard input (monitor/shell.c):
 *   chardev_reserve_stdin: no stdio backend gets stdin (plain -monitor:
 *     the shell reads it; the guest's serial output still goes to stdout).
 *   chardev_set_stdin_escape: -serial mon:stdio, QEMU's multiplexer:
 *     on the device reading stdin, Ctrl-A followed by a key calls
 *     escape(opaque, key) and both bytes are dropped; Ctrl-A Ctrl-A passes
 *     one Ctrl-A to the guest.  While it is on, a raw terminal has no
 *     signal keys (ISIG off): Ctrl-C is a byte for the guest, as in QEMU's
 *     mon:stdio.  NULL turns it off.
 */
void chardev_reserve_stdin(void);
void chardev_set_stdin_escape(void (*escape)(void *opaque, int key), void *opaque);

/* Put the terminal back as it was found, if raw mode changed it (async-signal safe). */
void chardev_restore_terminal(void);

/* Whether chardev_read can ever return bytes. */
static inline bool chardev_has_input(const struct chardev *c) { return c->in_fd >= 0; }

#endif
