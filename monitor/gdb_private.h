/*
 * gdb_private.h - what the GDB stub's three files share (gdbstub.h is the
 * stub's interface):
 *   gdb_packet.c    framing, replies, hex parsing, the socket
 *   gdb_commands.c  one packet's command -> its reply
 *   gdb_target.c    target.xml
 *   gdbstub.c       registers and the address convention, break- and
 *                   watchpoints, the serving loop
 */
#ifndef TRAPEZE_GDB_PRIVATE_H
#define TRAPEZE_GDB_PRIVATE_H

#include "monitor/gdbstub.h"

#include "cpu/x86_state.h"
#include "vmm/engine.h"

/* GDB's signal numbers in stop replies (gdb/signals.def). */
enum { GDB_SIGINT = 2, GDB_SIGTRAP = 5, GDB_SIGABRT = 6, GDB_SIGXCPU = 24 };

/* Register numbers of target.xml, in gdb's i386 order. */
enum {
    GDB_EAX, GDB_ECX, GDB_EDX, GDB_EBX, GDB_ESP, GDB_EBP, GDB_ESI, GDB_EDI,
    GDB_EIP, GDB_EFLAGS, GDB_CS, GDB_SS, GDB_DS, GDB_ES, GDB_FS, GDB_GS,
    GDB_REG_COUNT
};
/* The x87 registers target.xml describes after them (st0-st7, fctrl..fop). */
enum { GDB_X87_REG_COUNT = 16 };
/* Then the control registers (QEMU's i386 target has them too): read and
 * written with p/P only, not in the g packet. */
enum { GDB_CR0 = GDB_REG_COUNT + GDB_X87_REG_COUNT, GDB_CR2, GDB_CR3, GDB_CR4, GDB_ALL_REG_COUNT };

static inline struct engine *gdb_engine(struct gdbstub *g) { return g->runner->engine; }

static inline bool gdb_real_mode(const struct x86_state *s)
{
    return !(s->cr0 & CR0_PE) && !(s->eflags & EFLAGS_VM);
}

/* ---- gdb_packet.c: replies */
void gdb_write(struct gdbstub *g, const char *data, size_t len);
/* Frame and send 'len' bytes (already escaped where binary): "$data#cs". */
void gdb_send_packet(struct gdbstub *g, const char *data, size_t len);
void gdb_reply(struct gdbstub *g, const char *text);

/* A growing reply (hex dumps, qXfer data). */
struct gdb_out {
    char buf[GDB_PACKET_MAX * 2];
    size_t len;
};
void gdb_out_char(struct gdb_out *o, char c);
void gdb_out_hex8(struct gdb_out *o, uint8_t b);
/* A 32-bit register: target byte order, little-endian. */
void gdb_out_reg32(struct gdb_out *o, uint32_t v);
/* Binary data: '#', '$', '}' and '*' escaped as "}" (c ^ 0x20). */
void gdb_out_binary(struct gdb_out *o, const uint8_t *p, size_t n);

/* ---- gdb_packet.c: parsing (each advances *p; false on bad input) */
int gdb_hex_value(char c);
/* A hex number of at most 32 bits; leading zeros allowed. */
bool gdb_parse_hex(const char **p, const char *end, uint32_t *out);
bool gdb_expect_char(const char **p, const char *end, char c);
/* "ADDR,LEN" then 'stop' (or the end when stop is 0). */
bool gdb_parse_addr_len(const char **p, const char *end, uint32_t *addr, uint32_t *len, char stop);
/* Little-endian 32-bit register value from 8 hex digits. */
bool gdb_parse_reg32(const char **p, const char *end, uint32_t *out);

/* ---- gdb_packet.c: the connection */
void gdb_drop_client(struct gdbstub *g);
bool gdb_accept(struct gdbstub *g);
/* Read what the debugger sent into inbuf; false on EOF or error. */
bool gdb_read_some(struct gdbstub *g, int timeout_ms);
/* The runner's poll hook while the guest runs. */
void gdb_poll(void *opaque);

/* ---- gdb_target.c: target.xml (architecture i8086 for code16, else
 * i386) into buf, NUL-terminated; its length.  GDB_TARGET_XML_MAX bytes suffice. */
#define GDB_TARGET_XML_MAX 8192
size_t gdb_target_xml(char *buf, size_t size, bool code16);

/* ---- gdbstub.c: registers and the address convention */
/* The PC gdb sees: the linear address CS.base + EIP. */
uint32_t gdb_pc(const struct x86_state *s);
/* gdb wrote the PC 'lin'; false when no CS:IP reaches it. */
bool gdb_set_pc(struct x86_state *s, uint32_t lin);
uint32_t gdb_reg_get(const struct x86_state *s, int n);
/* Write register n; false: refused. */
bool gdb_reg_set(struct x86_state *s, int n, uint32_t v);

/* ---- gdbstub.c: break- and watchpoints */
/* Z / z: returns the reply. */
const char *gdb_point(struct gdbstub *g, bool insert, const char *p, const char *end);
/* Remove everything the debugger set (D, a lost connection). */
void gdb_clear_points(struct gdbstub *g);

#endif
