/*
 * chardev.c - the host side of character devices (see chardev.h).
 *
 * The one piece of process-wide state here is the terminal: stdin is one
 * terminal whatever number of machines a process builds, so its saved
 * settings live in file-level variables (STYLE.md 5 allows globals for
 * exactly this kind of host resource, never for guest state).
 */
#include "devices/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved_termios;   /* the terminal as we found it */
static volatile sig_atomic_t termios_changed;
static bool stdin_claimed;             /* a stdio backend already reads stdin */
static bool restore_registered;
/* -serial mon:stdio: the Ctrl-A escape on stdin (chardev_set_stdin_escape). */
static void (*stdin_escape)(void *opaque, int key);
static void *stdin_escape_opaque;
static bool stdin_escape_seen;         /* the last byte read was a lone Ctrl-A */

/* Put the terminal back.  Async-signal safe: tcsetattr is on POSIX's list. */
void chardev_restore_terminal(void)
{
    if (termios_changed) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
        termios_changed = 0;
    }
}

/* A terminating signal: restore the terminal, then die of the same signal. */
static void chardev_signal(int sig)
{
    chardev_restore_terminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

/*
 * Raw mode as QEMU's stdio backend sets it: no canonical line editing, no
 * echo, no CR/LF translation or flow control on input; output processing
 * (LF -> CR LF) and the signal keys stay on, so Ctrl-C still ends trapeze.
 */
static void chardev_raw_terminal(void)
{
    struct termios t;

    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios) != 0)
        return;
    /* A background job changing the terminal would be stopped by SIGTTOU. */
    if (tcgetpgrp(STDIN_FILENO) != getpgrp())
        return;
    t = saved_termios;
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (!restore_registered) {
        atexit(chardev_restore_terminal);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = chardev_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        sigaction(SIGQUIT, &sa, NULL);
        restore_registered = true;
    }
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
        termios_changed = 1;
}

bool chardev_spec_valid(const char *spec)
{
    return strcmp(spec, "stdio") == 0 || strcmp(spec, "none") == 0 || strcmp(spec, "null") == 0 ||
           (strncmp(spec, "file:", 5) == 0 && spec[5] != '\0');
}

int chardev_open(struct chardev *c, const char *spec, const char *option, bool want_input)
{
    c->kind = CHARDEV_NONE;
    c->out_fd = -1;
    c->in_fd = -1;
    c->owns_out = false;

    if (strcmp(spec, "none") == 0 || strcmp(spec, "null") == 0)
        return 0;   /* QEMU's null: the port is there, its output goes nowhere */
    if (strcmp(spec, "stdio") == 0) {
        c->kind = CHARDEV_STDIO;
        c->out_fd = STDOUT_FILENO;
        if (want_input && !stdin_claimed) {
            stdin_claimed = true;
            c->in_fd = STDIN_FILENO;
            chardev_raw_terminal();
        }
        return 0;
    }
    if (strncmp(spec, "file:", 5) == 0 && spec[5] != '\0') {
        int fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            int err = errno;
            fprintf(stderr, "trapeze: %s %s: cannot create %s: %s\n",
                    option, spec, spec + 5, strerror(err));
            return -err;
        }
        c->kind = CHARDEV_FILE;
        c->out_fd = fd;
        c->owns_out = true;
        return 0;
    }
    fprintf(stderr, "trapeze: %s %s: unknown backend (use stdio, file:PATH, null or none)\n",
            option, spec);
    return -EINVAL;
}

void chardev_close(struct chardev *c)
{
    if (c->in_fd == STDIN_FILENO) {
        chardev_restore_terminal();
        stdin_claimed = false;
    }
    if (c->owns_out && c->out_fd >= 0)
        close(c->out_fd);
    c->out_fd = -1;
    c->in_fd = -1;
    c->owns_out = false;
    c->kind = CHARDEV_NONE;
}

void chardev_write(struct chardev *c, uint8_t byte)
{
    if (c->out_fd < 0)
        return;
    for (;;) {
        ssize_t n = write(c->out_fd, &byte, 1);
        if (n == 1)
            return;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            /* stdout set non-blocking by someone else: wait until it drains. */
            struct pollfd p = { .fd = c->out_fd, .events = POLLOUT };
            poll(&p, 1, -1);
            continue;
        }
        return;   /* a closed pipe or a full disk: the byte is lost, as on a real line */
    }
}

void chardev_reserve_stdin(void)
{
    stdin_claimed = true;
}

void chardev_set_stdin_escape(void (*escape)(void *opaque, int key), void *opaque)
{
    stdin_escape = escape;
    stdin_escape_opaque = opaque;
    stdin_escape_seen = false;
    /* QEMU's multiplexer takes the signal keys from the terminal: Ctrl-C
       (and Ctrl-\, Ctrl-Z) are bytes for the guest; Ctrl-A x quits. */
    struct termios t;
    if (termios_changed && tcgetattr(STDIN_FILENO, &t) == 0) {
        if (escape) t.c_lflag &= ~(tcflag_t)ISIG;
        else t.c_lflag |= ISIG;
        tcsetattr(STDIN_FILENO, TCSANOW, &t);
    }
}

#define CTRL_A 0x01

/* Take the Ctrl-A escapes out of 'n' bytes read from stdin; returns the bytes left. */
static int chardev_filter_escape(uint8_t *buf, int n)
{
    int out = 0;
    for (int k = 0; k < n; k++) {
        uint8_t b = buf[k];
        if (stdin_escape_seen) {
            stdin_escape_seen = false;
            if (b == CTRL_A) buf[out++] = b;        /* Ctrl-A Ctrl-A: one Ctrl-A to the guest */
            else stdin_escape(stdin_escape_opaque, b);
        } else if (b == CTRL_A) {
            stdin_escape_seen = true;
        } else {
            buf[out++] = b;
        }
    }
    return out;
}

int chardev_read(struct chardev *c, uint8_t *buf, int len)
{
    if (c->in_fd < 0 || len <= 0)
        return 0;
    struct pollfd p = { .fd = c->in_fd, .events = POLLIN };
    if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
        return 0;
    ssize_t n = read(c->in_fd, buf, (size_t)len);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        c->in_fd = -1;   /* end of input: stop asking */
        return 0;
    }
    if (n > 0 && stdin_escape && c->in_fd == STDIN_FILENO)
        return chardev_filter_escape(buf, (int)n);
    return n < 0 ? 0 : (int)n;
}
