/*
 * kvm_disasm.c - one instruction through capstone, for the kvm engine's
 * error messages.  Its own file: capstone's x86.h names x86_reg and
 * x86_insn, as trapeze's cpu/ headers do, so the two never meet in one
 * translation unit.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <capstone/capstone.h>

int kvm_disasm_one(const uint8_t *bytes, size_t len, uint64_t addr, bool code32, char *out, size_t outlen);

/* Disassemble the first instruction of 'bytes' as "mnemonic operands";
   returns its length, or 0 when it is no valid instruction. */
int kvm_disasm_one(const uint8_t *bytes, size_t len, uint64_t addr, bool code32, char *out, size_t outlen)
{
    csh cs;
    cs_insn *insn = NULL;
    int size = 0;

    if (cs_open(CS_ARCH_X86, code32 ? CS_MODE_32 : CS_MODE_16, &cs) != CS_ERR_OK)
        return 0;
    if (cs_disasm(cs, bytes, len, addr, 1, &insn) == 1) {
        snprintf(out, outlen, "%s%s%s", insn[0].mnemonic, insn[0].op_str[0] ? " " : "", insn[0].op_str);
        size = insn[0].size;
        cs_free(insn, 1);
    }
    cs_close(&cs);
    return size;
}
