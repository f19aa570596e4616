/*
 * decode.c - bytes to struct x86_insn, driven by the opcode table.
 *
 * Instruction format (SDM Vol. 2A 2.1):
 *
 *   [prefixes] [0F] opcode [ModRM [SIB] [disp8/16/32]] [imm8/16/32 [imm]]
 *
 *   ModRM:  7 6 | 5 4 3 | 2 1 0        SIB:  7 6   | 5 4 3 | 2 1 0
 *           mod |  reg  |  rm                scale | index | base
 *
 * 16-bit addressing (SDM Vol. 2A table 2-1) has no SIB: rm selects one of
 * BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP (disp16 alone when mod = 0), BX.
 * 32-bit addressing (table 2-2, 2-3): rm = 4 brings a SIB byte, mod = 0 with
 * rm = 5 (or SIB base = 5) means disp32 without a base, SIB index 4 = none.
 * Memory operands based on BP/EBP/ESP default to SS, all others to DS.
 */
#include "cpu/decode.h"

#include <string.h>

#include "cpu/x86_state.h"

/* 16-bit ModRM rm -> base and index registers. */
static const uint8_t rm16_base[8] = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX };
static const uint8_t rm16_index[8] = { R_ESI, R_EDI, R_ESI, R_EDI, EA_NONE, EA_NONE, EA_NONE, EA_NONE };

static uint32_t fetch_n(x86_fetch_fn fetch, void *ctx, unsigned *pos, unsigned n)
{
    uint32_t v = 0;
    for (unsigned k = 0; k < n; k++)
        v |= (uint32_t)fetch(ctx, (*pos)++) << (8 * k);
    return v;
}

static uint32_t sext8(uint32_t v) { return (uint32_t)(int32_t)(int8_t)v; }
static uint32_t sext16(uint32_t v) { return (uint32_t)(int32_t)(int16_t)v; }

/* Parse ModRM, SIB and displacement; sets the default segment. */
static void decode_modrm(struct x86_insn *i, x86_fetch_fn fetch, void *ctx, unsigned *pos,
                         int *default_seg)
{
    uint8_t m = fetch(ctx, (*pos)++);
    i->modrm = m;
    i->mod = m >> 6;
    i->reg = (m >> 3) & 7;
    i->rm = m & 7;
    i->ea_base = i->ea_index = EA_NONE;
    i->ea_scale = 0;
    i->disp = 0;
    *default_seg = SEG_DS;
    if (i->mod == 3) return;

    if (!i->as32) {
        if (i->mod == 0 && i->rm == 6) {
            i->disp = sext16(fetch_n(fetch, ctx, pos, 2));
            return;
        }
        i->ea_base = rm16_base[i->rm];
        i->ea_index = rm16_index[i->rm];
        if (i->ea_base == R_EBP) *default_seg = SEG_SS;
        if (i->mod == 1) i->disp = sext8(fetch(ctx, (*pos)++));
        else if (i->mod == 2) i->disp = sext16(fetch_n(fetch, ctx, pos, 2));
        return;
    }

    uint8_t base = i->rm;
    if (i->rm == 4) {
        uint8_t sib = fetch(ctx, (*pos)++);
        uint8_t index = (sib >> 3) & 7;
        base = sib & 7;
        if (index != 4) {
            i->ea_index = index;
            i->ea_scale = sib >> 6;
        }
        if (base == 5 && i->mod == 0) {
            i->disp = fetch_n(fetch, ctx, pos, 4);
            return;
        }
    } else if (i->rm == 5 && i->mod == 0) {
        i->disp = fetch_n(fetch, ctx, pos, 4);
        return;
    }
    i->ea_base = base;
    if (base == R_ESP || base == R_EBP) *default_seg = SEG_SS;
    if (i->mod == 1) i->disp = sext8(fetch(ctx, (*pos)++));
    else if (i->mod == 2) i->disp = fetch_n(fetch, ctx, pos, 4);
}

unsigned x86_decode(struct x86_insn *i, bool code32, x86_fetch_fn fetch, void *ctx)
{
    unsigned pos = 0;
    int seg = -1;
    uint8_t b;

    memset(i, 0, sizeof *i);
    i->os32 = i->as32 = code32;
    for (;;) {
        if (pos >= 15) return 0; /* SDM Vol. 2A 2.3.11: more than 15 bytes is #GP(0) */
        b = fetch(ctx, pos++);
        switch (b) {
        case 0x26: seg = SEG_ES; continue;
        case 0x2E: seg = SEG_CS; continue;
        case 0x36: seg = SEG_SS; continue;
        case 0x3E: seg = SEG_DS; continue;
        case 0x64: seg = SEG_FS; continue;
        case 0x65: seg = SEG_GS; continue;
        case 0x66: i->os32 = !code32; continue;
        case 0x67: i->as32 = !code32; continue;
        case 0xF0: i->lock = 1; continue;
        case 0xF2: case 0xF3: i->rep = b; continue;
        default: break;
        }
        break;
    }
    uint16_t op = b;
    if (b == 0x0F) op = 0x100 | fetch(ctx, pos++);
    i->op = op;

    const struct opcode_info *info = &x86_opcodes[op];
    int default_seg = SEG_DS;
    if (info->decode & D_MODRM) {
        decode_modrm(i, fetch, ctx, &pos, &default_seg);
    } else {
        i->ea_base = i->ea_index = EA_NONE;
    }
    i->seg_override = seg >= 0;
    i->seg = (uint8_t)(seg >= 0 ? seg : default_seg);

    uint16_t d = info->decode;
    unsigned vsize = i->os32 ? 4 : 2;
    if (d & D_IB) i->imm = fetch(ctx, pos++);
    if (d & D_IW) i->imm = fetch_n(fetch, ctx, &pos, 2);
    if (d & D_IV) i->imm = fetch_n(fetch, ctx, &pos, vsize);
    if (d & D_MOFFS) i->disp = fetch_n(fetch, ctx, &pos, i->as32 ? 4 : 2);
    if (d & D_FARPTR) {
        i->imm = fetch_n(fetch, ctx, &pos, vsize);
        i->imm2 = fetch_n(fetch, ctx, &pos, 2);
    }
    if (d & D_ENTER) {
        i->imm = fetch_n(fetch, ctx, &pos, 2);
        i->imm2 = fetch(ctx, pos++);
    }
    if ((d & D_GRP3) && i->reg < 2)
        i->imm = (d & D_BYTE) ? fetch(ctx, pos++) : fetch_n(fetch, ctx, &pos, vsize);

    if (pos > 15) return 0;
    i->exec = info->exec;
    i->len = (uint8_t)pos;
    return pos;
}
