/*
 * decode.h - the decoded instruction, and the opcode table that drives the
 * decoder.
 *
 * An instruction is decoded once into a struct x86_insn (a plain struct
 * with named fields) and kept in a decoded block (cpu/block.c); executing
 * it calls insn->exec.  The table (cpu/opcodes.def) names, for each of the
 * 512 one-byte and 0F-prefixed opcodes, its handler and what follows the
 * opcode byte, in SDM notation (Vol. 2D appendix A):
 *
 *   E = ModRM r/m operand, G = ModRM reg, I = immediate, J = relative
 *   offset, O = moffs, b = byte, w = word, v = word or dword by operand size.
 *
 * Handlers are named by mnemonic and operand form (Bochs' ADD_EdGdM habit,
 * one function serving both 16 and 32-bit sizes): op_alu_EvGv, op_jcc_Jb...
 */
#ifndef TRAPEZE_DECODE_H
#define TRAPEZE_DECODE_H

#include <stdbool.h>
#include <stdint.h>

struct cpu;
struct x86_insn;

typedef void (*x86_handler)(struct cpu *cpu, const struct x86_insn *i);

/* What follows the opcode (struct opcode_info.decode). */
#define D_MODRM   0x0001 /* a ModRM byte (and SIB/displacement) */
#define D_IB      0x0002 /* imm8 */
#define D_IW      0x0004 /* imm16 */
#define D_IV      0x0008 /* imm16/imm32 by operand size */
#define D_MOFFS   0x0010 /* moffs16/32 by address size (into disp) */
#define D_FARPTR  0x0020 /* ptr16:16 / ptr16:32 (offset in imm, selector in imm2) */
#define D_ENTER   0x0040 /* imm16 then imm8 (imm, imm2) */
#define D_GRP3    0x0080 /* F6/F7: an immediate only when ModRM.reg is 0 or 1 */
#define D_END     0x0100 /* ends a decoded block (control transfer, mode change) */
#define D_PREFIX  0x0200 /* a prefix byte (handled by the decoder) */
#define D_BYTE    0x0400 /* with D_GRP3: the immediate is imm8 (else Iv) */

/* Effective-address register "none". */
#define EA_NONE 0xFF

struct x86_insn {
    x86_handler exec;
    uint16_t op;        /* 0x000-0x0FF one-byte, 0x100-0x1FF for 0F xx */
    uint8_t len;        /* bytes, prefixes included (at most 15) */
    uint8_t modrm;      /* raw ModRM byte */
    uint8_t mod, reg, rm; /* its fields */
    uint8_t seg;        /* effective segment of the memory operand (enum x86_sreg) */
    uint8_t seg_override; /* 1 when a segment prefix was given */
    uint8_t rep;        /* 0, 0xF3 (REP/REPE) or 0xF2 (REPNE) */
    uint8_t lock;       /* LOCK prefix present */
    uint8_t os32;       /* operand size is 32 bits */
    uint8_t as32;       /* address size is 32 bits */
    uint8_t ea_base;    /* base register of the memory operand, or EA_NONE */
    uint8_t ea_index;   /* index register, or EA_NONE */
    uint8_t ea_scale;   /* shift count for the index: 0-3 */
    uint32_t disp;      /* displacement (sign-extended), or moffs */
    uint32_t imm;       /* first immediate (sign-/zero-extended as the form says) */
    uint32_t imm2;      /* second immediate: far-pointer selector, ENTER level */
};

struct opcode_info {
    x86_handler exec;
    uint16_t decode;    /* D_* */
    const char *name;   /* handler name, for tests and traces */
};

/* The table: 512 entries; exec == NULL means #UD. */
extern const struct opcode_info x86_opcodes[512];

/*
 * Decode one instruction.  'fetch' reads code bytes at offset 'pos' from
 * the instruction start; it may raise #PF/#GP (it is the CPU's fetch).
 * 'code32' is CS.D.  Returns the length, or 0 when the instruction is
 * longer than 15 bytes (#GP(0), SDM Vol. 2A 2.3.11).
 */
typedef uint8_t (*x86_fetch_fn)(void *ctx, unsigned pos);
unsigned x86_decode(struct x86_insn *i, bool code32, x86_fetch_fn fetch, void *ctx);

#endif
