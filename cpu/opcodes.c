/*
 * opcodes.c - the decode table built from cpu/opcodes.def.
 *
 * A designated initializer per opcode, so the compiler checks that every
 * handler exists and no opcode is listed twice with different handlers.
 */
#include "cpu/cpu_internal.h"

#define op_NULL NULL
#define OP(code, h, d) [code] = { op_##h, (d), #h },

const struct opcode_info x86_opcodes[512] = {
#include "cpu/opcodes.def"
};
