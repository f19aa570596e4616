/*
 * disasm.h - instruction text for the monitor, through capstone.
 *
 * The mode is the CPU's: 16-bit code in real mode, in virtual-8086 mode and
 * in a protected-mode code segment with D = 0; 32-bit with D = 1 (SDM Vol.
 * 3A 3.4.5, the D flag of a code-segment descriptor): tables_code_bits.
 * (This header leaves cpu/x86_state.h out: capstone's x86.h has its own
 * enum x86_reg.)
 */
#ifndef TRAPEZE_DISASM_H
#define TRAPEZE_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


/* The longest x86 instruction (SDM Vol. 2A 2.3.11). */
#define DISASM_MAX_BYTES 15

struct disasm_insn {
    uint32_t size;              /* bytes, 1..15; 0 when the bytes are no instruction */
    uint8_t bytes[DISASM_MAX_BYTES];
    char text[224];             /* "mov eax, dword ptr [0x1000]" or "(bad)" */
    bool is_call, is_int, is_rep, is_ret;   /* for `next` and `finish` */
    bool is_io;                 /* IN/OUT/INS/OUTS */
    int io_port;                /* the port when immediate, -1 when DX */
};

/*
 * Decode one instruction from 'buf' ('len' bytes available) as if it sat
 * at 'address' (used for relative targets).  Returns false and fills
 * "(bad)" with size 0 when the bytes are no instruction; false with
 * "(capstone unavailable)" when capstone cannot be opened.
 */
bool disasm_one(int bits, uint32_t address, const uint8_t *buf, size_t len, struct disasm_insn *out);

#endif
