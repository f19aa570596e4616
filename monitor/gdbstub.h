/*
 * gdbstub.h - the GDB remote serial protocol over TCP (-s, -gdb, -S).
 *
 * Stock gdb attaches with "target remote :1234" and debugs the guest as a
 * 32-bit i386 (one target description, never a different register set, so
 * the real-to-protected-mode switch cannot break it).  The guest's own
 * memory is never patched: Z0/Z1 are host breakpoints of the engine,
 * Z2/Z3/Z4 its host watchpoints.  monitor/README.md explains the address
 * convention (EIP is presented as the linear address CS.base + EIP, so
 * breakpoints on linear addresses work in real mode too) and the recipes.
 *
 * Layers, so each can be tested alone:
 *   gdbstub_feed     bytes in -> framing ($...#cs, acks, '}' escapes,
 *                    Ctrl-C) -> one command -> one reply out
 *   gdbstub_command  one packet's command -> reply (may ask to resume)
 *   gdbstub_run      the loop: accept, serve, run the guest through
 *                    runner_run, report stops
 */
#ifndef TRAPEZE_GDBSTUB_H
#define TRAPEZE_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/runner.h"

/* Largest packet we take (advertised as PacketSize, hex 4000). */
#define GDB_PACKET_MAX 0x4000
#define GDB_MAX_POINTS 64

/* What the debugger asked for after its last command. */
enum gdb_resume {
    GDB_RESUME_NONE,
    GDB_RESUME_CONTINUE,
    GDB_RESUME_STEP,
    GDB_RESUME_DETACH,   /* D: drop our breakpoints, let the guest run */
    GDB_RESUME_KILL,     /* k / vKill: end trapeze */
};

/* A breakpoint or watchpoint set by the debugger (Z type 0-4). */
struct gdb_point {
    uint8_t type;        /* 0 sw break, 1 hw break, 2 write, 3 read, 4 access watch */
    uint32_t addr, len;
};

struct gdbstub {
    struct runner *runner;
    int listen_fd;                /* -1: none */
    int fd;                       /* the debugger's connection, -1: none */
    bool pending_connection;      /* the poll hook saw a debugger knocking */
    bool no_ack;                  /* QStartNoAckMode */
    enum gdb_resume resume;

    /* Receiving: the framing state machine and its packet. */
    enum { GDB_RX_IDLE, GDB_RX_DATA, GDB_RX_ESCAPE, GDB_RX_SUM1, GDB_RX_SUM2 } rx;
    char packet[GDB_PACKET_MAX + 1];
    size_t packet_len;
    bool packet_overflow;
    uint8_t sum, sum_given;

    /* Bytes read but not handled yet (a command may resume the guest). */
    uint8_t inbuf[4096];
    size_t in_pos, in_len;

    /* The last reply, resent on a '-' (bad checksum at gdb's end). */
    char *reply;                  /* GDB_PACKET_MAX * 2 + 8 bytes */
    size_t reply_len;

    char stop_reply[64];          /* the answer to '?' */
    struct gdb_point points[GDB_MAX_POINTS];
    int point_count;

    /* Where replies go: the socket, or a test's sink when set. */
    void (*write_hook)(void *opaque, const char *data, size_t len);
    void *write_opaque;
};

/*
 * Parse a -gdb device: "tcp::PORT", "tcp:HOST:PORT" (optionally followed by
 * ",server", ",server=on", ",nowait", ",wait=off", all implied) or "none"
 * (no stub).  An empty HOST means the loopback interface; PORT 0 lets the
 * system choose (printed when listening).  Returns 0, 1 for "none", or
 * -EINVAL after one line on stderr.
 */
int gdbstub_parse_device(const char *spec, char *host, size_t host_size, uint16_t *port);

/* Create a stub for 'r' without a socket (tests feed it bytes). */
void gdbstub_init(struct gdbstub *g, struct runner *r);

/*
 * Listen on the -gdb device 'spec' and print "trapeze: gdb stub listening
 * on HOST:PORT" on stderr.  Returns 0 or -errno after one line.
 */
int gdbstub_open(struct gdbstub *g, struct runner *r, const char *spec);
void gdbstub_close(struct gdbstub *g);

/*
 * Feed bytes from the debugger: acknowledges and dispatches each complete
 * packet, sends its reply.  Stops early, returning how many bytes it took,
 * when a command asks to resume (g->resume), so the rest waits for the next
 * stop.  Never crashes on any input: bad checksums get '-', malformed
 * commands "E01" (or "E02", "E03": see gdbstub.c), unknown ones "".
 */
size_t gdbstub_feed(struct gdbstub *g, const uint8_t *data, size_t len);

/* One command (the packet's unescaped contents) -> its reply, sent. */
void gdbstub_command(struct gdbstub *g, const char *pkt, size_t len);

/*
 * Run the machine with the stub: with 'start_stopped' (-S) wait for the
 * debugger first; otherwise the guest runs and a debugger may attach at
 * any time (the guest stops when it does, as in QEMU).  Returns the
 * process exit status when the machine finishes or the debugger kills it.
 */
int gdbstub_run(struct gdbstub *g, bool start_stopped);

#endif
