/*
 * disasm.c - capstone, wrapped for the monitor (see disasm.h).
 *
 * One capstone handle per mode, opened on first use and kept for the
 * process (a host resource, like the terminal: STYLE.md 5).  Intel syntax,
 * which is what the SDM and nasm listings use.
 */
#include "monitor/disasm.h"

#include <capstone/capstone.h>
#include <stdio.h>
#include <string.h>

static csh disasm_handle(int bits)
{
    static csh handles[2];
    static bool opened[2], failed[2];
    int k = bits == 32;

    if (!opened[k] && !failed[k]) {
        if (cs_open(CS_ARCH_X86, bits == 32 ? CS_MODE_32 : CS_MODE_16, &handles[k]) != CS_ERR_OK) {
            failed[k] = true;
            return 0;
        }
        cs_option(handles[k], CS_OPT_DETAIL, CS_OPT_ON);
        opened[k] = true;
    }
    return opened[k] ? handles[k] : 0;
}

bool disasm_one(int bits, uint32_t address, const uint8_t *buf, size_t len, struct disasm_insn *out)
{
    memset(out, 0, sizeof *out);
    out->io_port = -1;
    csh h = disasm_handle(bits);
    if (!h) {
        snprintf(out->text, sizeof out->text, "(capstone unavailable)");
        return false;
    }
    if (len > DISASM_MAX_BYTES) len = DISASM_MAX_BYTES;
    cs_insn *insn;
    size_t n = cs_disasm(h, buf, len, address, 1, &insn);
    if (n == 0) {
        snprintf(out->text, sizeof out->text, "(bad)");
        return false;
    }
    out->size = insn->size;
    memcpy(out->bytes, insn->bytes, insn->size);
    if (insn->op_str[0])
        snprintf(out->text, sizeof out->text, "%s %s", insn->mnemonic, insn->op_str);
    else
        snprintf(out->text, sizeof out->text, "%s", insn->mnemonic);

    const cs_detail *d = insn->detail;
    /*
     * MOV Sreg, r/m16 (8E /r) reads 16 bits whatever the operand size (SDM
     * Vol. 2B MOV: "MOV Sreg, r/m16"); nasm writes `mov ds, ax` in 32-bit
     * code and encodes it 8E D8 without a 66 prefix.  capstone (and GNU
     * objdump 2.40) name the 32-bit register for that encoding, "mov ds,
     * eax", as if 32 bits moved: name the 16 bits that do.
     */
    if (d && insn->id == X86_INS_MOV && d->x86.opcode[0] == 0x8E && d->x86.op_count == 2 &&
        d->x86.operands[1].type == X86_OP_REG && d->x86.operands[1].size == 4) {
        char *e = strstr(out->text, ", e");
        if (e) memmove(e + 2, e + 3, strlen(e + 3) + 1);
    }
    for (int g = 0; d && g < d->groups_count; g++) {
        if (d->groups[g] == CS_GRP_CALL) out->is_call = true;
        if (d->groups[g] == CS_GRP_INT) out->is_int = true;
        if (d->groups[g] == CS_GRP_RET || d->groups[g] == CS_GRP_IRET) out->is_ret = true;
    }
    /* REP/REPE/REPNE prefixes (SDM Vol. 2A 2.1.1, group 1: F2, F3). */
    if (d && (d->x86.prefix[0] == X86_PREFIX_REP || d->x86.prefix[0] == X86_PREFIX_REPNE))
        out->is_rep = true;
    switch (insn->id) {
    case X86_INS_IN: case X86_INS_OUT:
        out->is_io = true;
        for (int k = 0; d && k < d->x86.op_count; k++)
            if (d->x86.operands[k].type == X86_OP_IMM)
                out->io_port = (int)(d->x86.operands[k].imm & 0xFF);
        break;
    case X86_INS_INSB: case X86_INS_INSW: case X86_INS_INSD:
    case X86_INS_OUTSB: case X86_INS_OUTSW: case X86_INS_OUTSD:
        out->is_io = true;
        break;
    default:
        break;
    }
    cs_free(insn, n);
    return true;
}
