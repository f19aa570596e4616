/*
 * gdb_packet.c - the packet layer of the GDB stub: framing ("$data#cs",
 * acks, '}' escapes, Ctrl-C), replies, the hex parsing every command
 * uses, and the TCP socket (listen, accept, read, the runner's poll hook).
 * The commands themselves are in gdb_commands.c; gdbstub.c holds the
 * register convention, the break- and watchpoints and the serving loop.
 */
#include "monitor/gdb_private.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---------- replies ---------- */

static const char hex_digits[] = "0123456789abcdef";

void gdb_write(struct gdbstub *g, const char *data, size_t len)
{
    if (g->write_hook) {
        g->write_hook(g->write_opaque, data, len);
        return;
    }
    while (len > 0 && g->fd >= 0) {
        ssize_t n = send(g->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;   /* the debugger went away: the reader sees the EOF */
        data += n;
        len -= (size_t)n;
    }
}

/* Frame and send 'len' bytes (already escaped where binary): "$data#cs". */
void gdb_send_packet(struct gdbstub *g, const char *data, size_t len)
{
    size_t max = GDB_PACKET_MAX * 2;
    if (len > max)
        len = max;   /* every reply is built within this; a broken invariant otherwise */
    uint8_t sum = 0;
    g->reply[0] = '$';
    for (size_t i = 0; i < len; i++) {
        g->reply[1 + i] = data[i];
        sum = (uint8_t)(sum + (uint8_t)data[i]);
    }
    g->reply[1 + len] = '#';
    g->reply[2 + len] = hex_digits[sum >> 4];
    g->reply[3 + len] = hex_digits[sum & 15];
    g->reply_len = len + 4;
    gdb_write(g, g->reply, g->reply_len);
}

void gdb_reply(struct gdbstub *g, const char *text)
{
    gdb_send_packet(g, text, strlen(text));
}

void gdb_out_char(struct gdb_out *o, char c)
{
    if (o->len < sizeof o->buf)
        o->buf[o->len++] = c;
}

void gdb_out_hex8(struct gdb_out *o, uint8_t b)
{
    gdb_out_char(o, hex_digits[b >> 4]);
    gdb_out_char(o, hex_digits[b & 15]);
}

/* A 32-bit register: target byte order, little-endian. */
void gdb_out_reg32(struct gdb_out *o, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        gdb_out_hex8(o, (uint8_t)(v >> (8 * i)));
}

/* Binary data in a reply: '#', '$', '}' and '*' escaped as "}" (c ^ 0x20). */
void gdb_out_binary(struct gdb_out *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '#' || p[i] == '$' || p[i] == '}' || p[i] == '*') {
            gdb_out_char(o, '}');
            gdb_out_char(o, (char)(p[i] ^ 0x20));
        } else {
            gdb_out_char(o, (char)p[i]);
        }
    }
}

/* ---------- parsing ---------- */

int gdb_hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/*
 * A hex number of at most 32 bits at *p (before 'end'); leading zeros
 * allowed.  Advances *p.  False when there is no digit or it overflows.
 */
bool gdb_parse_hex(const char **p, const char *end, uint32_t *out)
{
    uint64_t v = 0;
    const char *s = *p;
    if (s >= end || gdb_hex_value(*s) < 0)
        return false;
    for (; s < end && gdb_hex_value(*s) >= 0; s++) {
        v = (v << 4) | (uint64_t)gdb_hex_value(*s);
        if (v > 0xFFFFFFFFu)
            return false;
    }
    *p = s;
    *out = (uint32_t)v;
    return true;
}

bool gdb_expect_char(const char **p, const char *end, char c)
{
    if (*p >= end || **p != c)
        return false;
    (*p)++;
    return true;
}

/* "ADDR,LEN" then 'stop' (or the end when stop is 0). */
bool gdb_parse_addr_len(const char **p, const char *end, uint32_t *addr, uint32_t *len, char stop)
{
    if (!gdb_parse_hex(p, end, addr) || !gdb_expect_char(p, end, ',') || !gdb_parse_hex(p, end, len))
        return false;
    return stop ? gdb_expect_char(p, end, stop) : *p == end;
}

/* Little-endian 32-bit register value from 8 hex digits. */
bool gdb_parse_reg32(const char **p, const char *end, uint32_t *out)
{
    if (end - *p < 8)
        return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int hi = gdb_hex_value((*p)[2 * i]), lo = gdb_hex_value((*p)[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        v |= (uint32_t)(hi << 4 | lo) << (8 * i);
    }
    *p += 8;
    *out = v;
    return true;
}

/* ---------- framing ---------- */

static void gdb_packet_done(struct gdbstub *g)
{
    bool good = !g->packet_overflow && g->sum == g->sum_given;
    if (!g->no_ack)
        gdb_write(g, good ? "+" : "-", 1);
    if (!good) {
        if (g->no_ack && g->packet_overflow)
            gdb_reply(g, "E01");   /* too long for us: say so rather than nothing */
        return;
    }
    g->packet[g->packet_len] = '\0';
    gdbstub_command(g, g->packet, g->packet_len);
}

size_t gdbstub_feed(struct gdbstub *g, const uint8_t *data, size_t len)
{
    size_t i;
    for (i = 0; i < len && g->resume == GDB_RESUME_NONE; i++) {
        uint8_t c = data[i];
        int h;
        switch (g->rx) {
        case GDB_RX_IDLE:
            if (c == '$') {
                g->rx = GDB_RX_DATA;
                g->packet_len = 0;
                g->packet_overflow = false;
                g->sum = 0;
            } else if (c == '-' && g->reply_len > 0 && !g->no_ack) {
                gdb_write(g, g->reply, g->reply_len);   /* gdb got our reply garbled */
            }
            /* '+', a stray 0x03 while stopped, noise: nothing to do. */
            break;
        case GDB_RX_DATA:
        case GDB_RX_ESCAPE:
            if (c == '$') {                    /* a new packet: resynchronise */
                g->rx = GDB_RX_DATA;
                g->packet_len = 0;
                g->packet_overflow = false;
                g->sum = 0;
                break;
            }
            if (c == '#' && g->rx == GDB_RX_DATA) {
                g->rx = GDB_RX_SUM1;
                break;
            }
            g->sum = (uint8_t)(g->sum + c);
            if (g->rx == GDB_RX_DATA && c == '}') {
                g->rx = GDB_RX_ESCAPE;
                break;
            }
            if (g->rx == GDB_RX_ESCAPE) {
                c ^= 0x20;
                g->rx = GDB_RX_DATA;
            }
            if (g->packet_len < GDB_PACKET_MAX)
                g->packet[g->packet_len++] = (char)c;
            else
                g->packet_overflow = true;
            break;
        case GDB_RX_SUM1:
            h = gdb_hex_value((char)c);
            g->sum_given = (uint8_t)((h < 0 ? 0 : h) << 4);
            if (h < 0) g->packet_overflow = true;   /* not a checksum: reject */
            g->rx = GDB_RX_SUM2;
            break;
        case GDB_RX_SUM2:
            h = gdb_hex_value((char)c);
            g->sum_given = (uint8_t)(g->sum_given | (h < 0 ? 0 : h));
            if (h < 0) g->sum_given = (uint8_t)~g->sum;
            g->rx = GDB_RX_IDLE;
            gdb_packet_done(g);
            break;
        }
    }
    return i;
}

/* ---------- the connection ---------- */

void gdbstub_init(struct gdbstub *g, struct runner *r)
{
    memset(g, 0, sizeof *g);
    g->runner = r;
    g->listen_fd = -1;
    g->fd = -1;
    g->reply = malloc(GDB_PACKET_MAX * 2 + 8);
    snprintf(g->stop_reply, sizeof g->stop_reply, "T%02xthread:01;", GDB_SIGTRAP);
}

int gdbstub_parse_device(const char *spec, char *host, size_t host_size, uint16_t *port)
{
    if (strcmp(spec, "none") == 0) {
        host[0] = '\0';
        *port = 0;
        return 1;
    }
    if (strncmp(spec, "tcp:", 4) != 0) {
        fprintf(stderr, "trapeze: -gdb %s: only tcp::PORT, tcp:HOST:PORT or none are supported\n", spec);
        return -EINVAL;
    }
    const char *h = spec + 4;
    const char *colon = strrchr(h, ':');
    if (!colon) {
        fprintf(stderr, "trapeze: -gdb %s: expected tcp::PORT or tcp:HOST:PORT\n", spec);
        return -EINVAL;
    }
    size_t hl = (size_t)(colon - h);
    if (hl >= host_size) {
        fprintf(stderr, "trapeze: -gdb %s: host name too long\n", spec);
        return -EINVAL;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    const char *ps = colon + 1;
    char *after;
    errno = 0;
    long v = strtol(ps, &after, 10);
    if (after == ps || errno || v < 0 || v > 65535) {
        fprintf(stderr, "trapeze: -gdb %s: the port must be a number from 0 to 65535\n", spec);
        return -EINVAL;
    }
    /* QEMU's chardev options that only restate what the stub does. */
    while (*after == ',') {
        const char *opt = after + 1;
        size_t n = strcspn(opt, ",");
        if (!((n == 6 && strncmp(opt, "server", 6) == 0) || (n == 6 && strncmp(opt, "nowait", 6) == 0) ||
              (n == 8 && strncmp(opt, "wait=off", 8) == 0) || (n == 9 && strncmp(opt, "server=on", 9) == 0))) {
            fprintf(stderr, "trapeze: -gdb %s: option '%.*s' not supported "
                            "(the stub is always a listening server)\n", spec, (int)n, opt);
            return -EINVAL;
        }
        after = (char *)(opt + n);
    }
    if (*after != '\0') {
        fprintf(stderr, "trapeze: -gdb %s: the port must be a number from 0 to 65535\n", spec);
        return -EINVAL;
    }
    *port = (uint16_t)v;
    return 0;
}

int gdbstub_open(struct gdbstub *g, struct runner *r, const char *spec)
{
    char host[256], portstr[8];
    uint16_t port;
    gdbstub_init(g, r);
    if (!g->reply) {
        fprintf(stderr, "trapeze: gdb stub: out of host memory\n");
        return -ENOMEM;
    }
    int err = gdbstub_parse_device(spec, host, sizeof host, &port);
    if (err < 0)
        return err;
    if (err > 0)
        return 0;   /* -gdb none */
    snprintf(portstr, sizeof portstr, "%u", port);
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host[0] ? host : "127.0.0.1", portstr, &hints, &ai);
    if (gai != 0) {
        fprintf(stderr, "trapeze: -gdb %s: cannot resolve '%s': %s\n", spec, host, gai_strerror(gai));
        return -EINVAL;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = -errno;
        freeaddrinfo(ai);
        fprintf(stderr, "trapeze: -gdb %s: socket: %s\n", spec, strerror(-err));
        return err;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1) < 0) {
        err = -errno;
        freeaddrinfo(ai);
        close(fd);
        fprintf(stderr, "trapeze: -gdb %s: cannot listen: %s (is the port in use? try another, "
                        "or tcp::0 for any free one)\n", spec, strerror(-err));
        return err == -EADDRINUSE ? -EINVAL : err;
    }
    freeaddrinfo(ai);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    fprintf(stderr, "trapeze: gdb stub listening on %s:%u\n", host[0] ? host : "127.0.0.1", port);
    g->listen_fd = fd;
    return 0;
}

void gdb_drop_client(struct gdbstub *g)
{
    if (g->fd >= 0)
        close(g->fd);
    g->fd = -1;
    g->no_ack = false;
    g->rx = GDB_RX_IDLE;
    g->in_pos = g->in_len = 0;
    g->reply_len = 0;
}

void gdbstub_close(struct gdbstub *g)
{
    gdb_drop_client(g);
    if (g->listen_fd >= 0)
        close(g->listen_fd);
    g->listen_fd = -1;
    free(g->reply);
    g->reply = NULL;
}

bool gdb_accept(struct gdbstub *g)
{
    g->pending_connection = false;
    int fd = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return false;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    g->fd = fd;
    g->resume = GDB_RESUME_NONE;
    snprintf(g->stop_reply, sizeof g->stop_reply, "T%02xthread:01;", GDB_SIGTRAP);
    return true;
}

/* Read what the debugger sent into inbuf; false on EOF or error. */
bool gdb_read_some(struct gdbstub *g, int timeout_ms)
{
    if (g->in_pos == g->in_len)
        g->in_pos = g->in_len = 0;
    if (g->in_len == sizeof g->inbuf) {
        if (g->in_pos == 0)
            return true;   /* full of unhandled bytes: handle them first */
        memmove(g->inbuf, g->inbuf + g->in_pos, g->in_len - g->in_pos);
        g->in_len -= g->in_pos;
        g->in_pos = 0;
    }
    struct pollfd pfd = { .fd = g->fd, .events = POLLIN };
    int n = poll(&pfd, 1, timeout_ms);
    if (n < 0)
        return errno == EINTR;
    if (n == 0)
        return true;
    ssize_t got = recv(g->fd, g->inbuf + g->in_len, sizeof g->inbuf - g->in_len, 0);
    if (got < 0)
        return errno == EINTR || errno == EAGAIN;
    if (got == 0)
        return false;
    g->in_len += (size_t)got;
    return true;
}

/*
 * The runner's poll hook, between slices of a running guest: with a
 * debugger attached, take Ctrl-C (0x03) from it (bytes of a packet wait
 * for the stop); without one, a debugger knocking stops the guest so the
 * loop can accept it.
 */
void gdb_poll(void *opaque)
{
    struct gdbstub *g = opaque;
    if (g->fd < 0) {
        if (g->listen_fd < 0)
            return;
        struct pollfd pfd = { .fd = g->listen_fd, .events = POLLIN };
        if (poll(&pfd, 1, 0) == 1) {
            g->pending_connection = true;
            runner_interrupt(g->runner);
        }
        return;
    }
    if (!gdb_read_some(g, 0)) {
        gdb_clear_points(g);
        gdb_drop_client(g);
        runner_interrupt(g->runner);   /* the loop notices the debugger left */
        return;
    }
    while (g->in_pos < g->in_len && g->inbuf[g->in_pos] != '$') {
        if (g->inbuf[g->in_pos++] == 0x03)
            runner_interrupt(g->runner);
    }
}

/* The stop reply for a run's result; false when the machine finished. */
