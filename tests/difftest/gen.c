/*
 * gen.c - random instances of every tested opcode.
 *
 * A case is built in four steps:
 *   1. a random input state: general registers (half of them "interesting"
 *      values: 0, 1, sign boundaries, all ones), the six arithmetic flags
 *      and DF at random, ESP somewhere in the middle of the data area, and
 *      8 KiB of random data;
 *   2. prefixes: 66 and 67 by the case's variant (16- or 32-bit operand and
 *      address size), sometimes a segment override, REP for string ops;
 *   3. the opcode and, by the table's decode flags, a ModRM byte with SIB
 *      and displacement, then the immediates;
 *   4. per-opcode fix-ups that make the case meaningful: the memory operand
 *      is placed in the data area by solving the effective address for one
 *      of its registers (gen_mem), selectors are drawn from the GDT below,
 *      divisors mostly avoid #DE, CMPXCHG's comparand mostly matches...
 *
 * Forms the SDM leaves undefined or Unicorn cannot run are never generated;
 * expect.c lists them (dt_print_partial_exclusions).
 */
#include <string.h>

#include "cpu/cpu.h"
#include "tests/difftest/difftest.h"

/*
 * The GDT both sides use (SDM Vol. 3A 3.4.5, figure 3-8):
 *
 *   byte 0-1 limit 15:0   2-3 base 15:0   4 base 23:16
 *   byte 5   P DPL(2) S type(4)           6 G D/B L AVL limit 19:16
 *   byte 7   base 31:24
 *
 * Accessed bits are preset so that neither side writes the table.
 */
const uint8_t dt_gdt[DT_GDT_LIMIT + 1] = {
    0, 0, 0, 0, 0, 0, 0, 0,                         /* 0x00 null */
    0xFF, 0xFF, 0, 0, 0, 0x9B, 0xCF, 0,             /* 0x08 code, exec/read, 32-bit, 4 GiB */
    0xFF, 0xFF, 0, 0, 0, 0x93, 0xCF, 0,             /* 0x10 data, read/write, 32-bit, 4 GiB */
    0xFF, 0xFF, 0, 0, 0, 0xF3, 0xCF, 0,             /* 0x18 data, DPL 3 */
    0xFF, 0xFF, 0, 0, 0, 0x13, 0xCF, 0,             /* 0x20 data, not present */
    0xFF, 0xFF, 0, 0, 0, 0x91, 0x00, 0,             /* 0x28 data, read-only, 16-bit, 64 KiB */
    0xFF, 0x00, 0, 0x30, 0, 0x82, 0x00, 0,          /* 0x30 LDT at 0x3000, a system descriptor */
    0xFF, 0xFF, 0, 0, 0, 0xFB, 0xCF, 0,             /* 0x38 code, exec/read, DPL 3 */
};

uint64_t dt_rand(uint64_t *state)
{   /* splitmix64 (Steele, Lea, Flood 2014) */
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Values where flag logic has its edges. */
static uint32_t interesting(uint64_t *rng)
{
    static const uint32_t edges[] = {
        0, 1, 2, 7, 8, 9, 0x0F, 0x10, 0x1F, 0x20, 0x7F, 0x80, 0x81, 0xFF, 0x100,
        0x7FFF, 0x8000, 0x8001, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000u,
        0x80000001u, 0xFFFFFFFEu, 0xFFFFFFFFu, 0xFFFF7FFFu, 0xFFFFFF80u,
    };
    switch (dt_below(rng, 4)) {
    case 0: return dt_rand32(rng);
    case 1: return edges[dt_below(rng, sizeof edges / sizeof edges[0])];
    case 2: return dt_rand32(rng) & (0xFFu << (8 * dt_below(rng, 4)));
    default: return dt_rand32(rng) & 0xFF;
    }
}

/* Selector values worth loading: our GDT's, RPL variants, nonsense. */
static uint16_t selector(uint64_t *rng)
{
    switch (dt_below(rng, 8)) {
    case 0: case 1: case 2: return DT_SEL_DATA;
    case 3: return (uint16_t)(dt_below(rng, 8) * 8 + dt_below(rng, 4)); /* any GDT entry, any RPL */
    case 4: return (uint16_t)dt_below(rng, 4);                           /* null, any RPL */
    case 5: return DT_SEL_DATA3 | 3;
    case 6: return (uint16_t)(dt_below(rng, 8) * 8 + 4);                /* LDT selectors */
    default: return (uint16_t)dt_rand32(rng);
    }
}

struct gen {
    struct dt_case *c;
    uint64_t *rng;
    bool fixed[8];       /* registers gen_mem must not change */
    bool mem;            /* the ModRM operand is memory */
    uint32_t ea;         /* its linear address (all segment bases are 0) */
    unsigned rm;         /* ModRM.rm (the register when !mem) */
};

static void emit(struct gen *g, uint8_t b) { g->c->code[g->c->len++] = b; }
static void emit_n(struct gen *g, uint32_t v, unsigned n)
{
    for (unsigned k = 0; k < n; k++) emit(g, (uint8_t)(v >> (8 * k)));
}

static uint32_t *reg(struct gen *g, unsigned r) { return &g->c->in.gpr[r]; }

/* Set the low 'size' bytes of register r (8-bit: AL..BH numbering when size is 1). */
static void set_reg(struct gen *g, unsigned r, unsigned size, uint32_t v)
{
    if (size == 1) {
        uint32_t *p = reg(g, r & 3);
        unsigned sh = r < 4 ? 0 : 8;
        *p = (*p & ~(0xFFu << sh)) | ((v & 0xFFu) << sh);
    } else if (size == 2) {
        *reg(g, r) = (*reg(g, r) & 0xFFFF0000u) | (v & 0xFFFF);
    } else {
        *reg(g, r) = v;
    }
}
static uint32_t get_reg(struct gen *g, unsigned r, unsigned size)
{
    if (size == 1) return (*reg(g, r & 3) >> (r < 4 ? 0 : 8)) & 0xFF;
    return size == 2 ? (*reg(g, r) & 0xFFFF) : *reg(g, r);
}

static void mem_put(struct gen *g, uint32_t addr, uint32_t v, unsigned size)
{
    for (unsigned k = 0; k < size; k++)
        if (addr + k < DT_MEM_SIZE) g->c->mem[addr + k] = (uint8_t)(v >> (8 * k));
}
static uint32_t mem_get(struct gen *g, uint32_t addr, unsigned size)
{
    uint32_t v = 0;
    for (unsigned k = 0; k < size; k++)
        if (addr + k < DT_MEM_SIZE) v |= (uint32_t)g->c->mem[addr + k] << (8 * k);
    return v;
}

/* A random address in the data area with 'margin' bytes to spare either side. */
static uint32_t data_addr(struct gen *g, uint32_t margin)
{
    return DT_DATA_ADDR + margin + dt_below(g->rng, DT_DATA_SIZE - 2 * margin);
}

/*
 * Put an address into register r: all 32 bits, or (16-bit addressing) the
 * low 16 with random high bits, which the CPU must ignore.
 */
static void set_addr_reg(struct gen *g, unsigned r, uint32_t addr, bool as32)
{
    *reg(g, r) = as32 ? addr : ((dt_rand32(g->rng) & 0xFFFF0000u) | (addr & 0xFFFF));
    g->fixed[r] = true;
}

/*
 * A memory ModRM (mod 0-2) with SIB and displacement whose effective
 * address lands in the data area.  EA = base + index * 2^scale + disp: one
 * register not yet fixed is solved for (its coefficient is 1, 2^scale, or
 * their sum when base and index are the same register); when none is free
 * a 16/32-bit displacement takes the rest.  Returns false when this random
 * form cannot be placed (the caller draws another).
 */
static bool try_mem(struct gen *g, unsigned regf)
{
    bool as32 = g->c->as32;
    unsigned mod = dt_below(g->rng, 3), rm = dt_below(g->rng, 8);
    int base = -1, index = -1;
    unsigned scale = 0, dispsize;
    bool sib = false;
    uint8_t sibbyte = 0;
    uint32_t disp = 0;

    if (as32) {
        if (rm == 4) {
            sib = true;
            scale = dt_below(g->rng, 4);
            unsigned idx = dt_below(g->rng, 8), b = dt_below(g->rng, 8);
            sibbyte = (uint8_t)(scale << 6 | idx << 3 | b);
            if (idx != 4) index = (int)idx;
            if (!(b == 5 && mod == 0)) base = (int)b;
        } else if (!(rm == 5 && mod == 0)) {
            base = (int)rm;
        }
        dispsize = mod == 1 ? 1 : mod == 2 ? 4 : ((rm == 5 || (sib && (sibbyte & 7) == 5)) ? 4 : 0);
    } else {
        static const int b16[8] = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX };
        static const int i16[8] = { R_ESI, R_EDI, R_ESI, R_EDI, -1, -1, -1, -1 };
        if (rm == 6 && mod == 0) base = -1; else base = b16[rm];
        index = i16[rm];
        dispsize = mod == 1 ? 1 : mod == 2 ? 2 : (rm == 6 ? 2 : 0);
    }
    disp = dispsize == 1 ? (uint32_t)(int32_t)(int8_t)dt_rand32(g->rng) : dt_rand32(g->rng);
    if (dispsize == 2) disp = (uint32_t)(int32_t)(int16_t)disp;
    if (dispsize == 0) disp = 0;

    uint32_t target = data_addr(g, 160);
    uint32_t amask = as32 ? 0xFFFFFFFFu : 0xFFFFu;
    /* Pick the register to solve for. */
    int solve = -1;
    if (base >= 0 && !g->fixed[base]) solve = base;
    else if (index >= 0 && !g->fixed[index]) solve = index;
    uint32_t coef = 0, rest = disp;
    if (base >= 0) { if (base == solve) coef += 1; else rest += *reg(g, (unsigned)base); }
    if (index >= 0) { if (index == solve) coef += 1u << scale; else rest += *reg(g, (unsigned)index) << scale; }
    uint32_t ea;
    if (solve >= 0) {
        uint32_t want = (target - rest) & amask;
        uint32_t v = want / coef;
        if (as32) *reg(g, (unsigned)solve) = v;
        else set_reg(g, (unsigned)solve, 2, v);
        g->fixed[solve] = true;
        ea = (v * coef + rest) & amask;
    } else if (dispsize >= 2) {
        uint32_t others = rest - disp;
        disp = (target - others) & amask;
        ea = (others + disp) & amask;
    } else {
        return false;
    }
    if (ea < DT_DATA_ADDR + 64 || ea > DT_DATA_ADDR + DT_DATA_SIZE - 64) return false;
    /* Every register of the address is now part of it. */
    if (base >= 0) g->fixed[base] = true;
    if (index >= 0) g->fixed[index] = true;

    g->mem = true;
    g->ea = ea;
    g->rm = rm;
    g->c->mod = (uint8_t)mod;
    emit(g, (uint8_t)(mod << 6 | (regf & 7) << 3 | rm));
    if (sib) emit(g, sibbyte);
    emit_n(g, disp, dispsize);
    return true;
}

enum form { ANY, MEM, REG };

/* The ModRM byte (with SIB, displacement) for reg field 'regf'. */
static void gen_modrm(struct gen *g, unsigned regf, enum form form)
{
    g->c->has_modrm = true;
    g->c->reg = (uint8_t)regf;
    if (form == REG || (form == ANY && dt_below(g->rng, 5) < 2)) {
        unsigned rm = dt_below(g->rng, 8);
        g->mem = false;
        g->rm = rm;
        g->c->mod = 3;
        emit(g, (uint8_t)(0xC0 | regf << 3 | rm));
        return;
    }
    unsigned start = g->c->len;
    uint32_t saved[8];
    bool saved_fixed[8];
    memcpy(saved, g->c->in.gpr, sizeof saved);
    memcpy(saved_fixed, g->fixed, sizeof saved_fixed);
    for (int tries = 0; tries < 64; tries++) {
        if (try_mem(g, regf)) return;
        g->c->len = start;
        memcpy(g->c->in.gpr, saved, sizeof saved);
        memcpy(g->fixed, saved_fixed, sizeof saved_fixed);
    }
    /* Every register was fixed: a bare displacement always works. */
    uint32_t target = data_addr(g, 160);
    g->mem = true;
    g->ea = target;
    g->c->mod = 0;
    if (g->c->as32) { emit(g, (uint8_t)(regf << 3 | 5)); emit_n(g, target, 4); g->rm = 5; }
    else { emit(g, (uint8_t)(regf << 3 | 6)); emit_n(g, target, 2); g->rm = 6; }
}

/* The ModRM operand's current value (register or memory). */
static uint32_t rm_get(struct gen *g, unsigned size)
{
    return g->mem ? mem_get(g, g->ea, size) : get_reg(g, g->rm, size);
}
static void rm_put(struct gen *g, unsigned size, uint32_t v)
{
    if (g->mem) mem_put(g, g->ea, v, size);
    else if (!g->fixed[size == 1 ? (g->rm & 3) : g->rm]) set_reg(g, g->rm, size, v);
}

/* A shift count: mostly small, sometimes anything. */
static uint8_t shift_count(struct gen *g)
{
    switch (dt_below(g->rng, 4)) {
    case 0: return (uint8_t)dt_rand32(g->rng);
    case 1: return (uint8_t)dt_below(g->rng, 2);
    default: return (uint8_t)dt_below(g->rng, 34);
    }
}

/* Opcodes whose main operand is a byte. */
static bool byte_op(unsigned op)
{
    if (op < 0x40) return (op & 7) < 6 && (op & 1) == 0;   /* ALU Eb,Gb  Gb,Eb  AL,Ib */
    switch (op) {
    case 0x80: case 0x82: case 0x84: case 0x86: case 0x88: case 0x8A: case 0xA0: case 0xA2:
    case 0xA4: case 0xA6: case 0xA8: case 0xAA: case 0xAC: case 0xAE: case 0xC0: case 0xC6:
    case 0xD0: case 0xD2: case 0xF6: case 0xFE: case 0x1B0: case 0x1C0:
        return true;
    default:
        return (op >= 0xB0 && op <= 0xB7) || (op >= 0x190 && op <= 0x19F);
    }
}

static bool is_string_op(unsigned op) { return op >= 0xA4 && op <= 0xAF && op != 0xA8 && op != 0xA9; }

/* String ops have their own generator (below dt_gen_case); the rest go by
 * the table's decode flags plus the fix-ups in dt_gen_case. */
static void gen_string(struct gen *g, unsigned op);

/* ModRM.reg for groups and forms with constraints; -1: any. */
static int pick_reg(struct gen *g, unsigned op, enum form *form)
{
    unsigned r = dt_below(g->rng, 8);
    switch (op) {
    case 0x8C: return dt_below(g->rng, 10) ? (int)dt_below(g->rng, 6) : (int)r;  /* 6, 7: #UD */
    case 0x8E: {
        static const int ok[] = { 0, 2, 3, 4, 5 };
        return dt_below(g->rng, 10) ? ok[dt_below(g->rng, 5)] : (int)r;       /* CS, 6, 7: #UD */
    }
    case 0x8F: case 0xC6: case 0xC7: return 0;
    case 0xFF:
        if (r == 3 || r == 5) r = 6;         /* far CALL/JMP: see expect.c */
        return (int)r;
    case 0x1BA: return dt_below(g->rng, 10) ? (int)(4 + dt_below(g->rng, 4)) : (int)r;
    case 0x1C7:
        *form = dt_below(g->rng, 10) ? MEM : REG;   /* CMPXCHG8B m64; the register form is #UD */
        return 1;
    case 0xC4: case 0xC5:                       /* register forms are VEX prefixes (expect.c) */
        *form = MEM;
        return (int)r;
    case 0x62: case 0x8D: case 0x1B2: case 0x1B4: case 0x1B5:
        *form = dt_below(g->rng, 12) ? MEM : REG;   /* memory only: the register form is #UD */
        return (int)r;
    case 0xF6: case 0xF7:
        return r == 1 ? 0 : (int)r;         /* /1: reserved, see expect.c */
    default:
        return (int)r;
    }
}

void dt_gen_case(struct dt_case *c, unsigned op, unsigned variant, uint64_t *rng)
{
    struct gen g = { .c = c, .rng = rng };
    const struct opcode_info *info = &x86_opcodes[op];
    uint16_t dec = info->decode;

    memset(c, 0, sizeof *c);
    c->op = (uint16_t)op;
    c->os32 = (variant & 1) != 0;
    c->as32 = (variant & 2) != 0;
    if (op >= 0x1C8 && op <= 0x1CF) c->os32 = true;   /* BSWAP r16 is undefined */
    c->osize = byte_op(op) ? 1 : c->os32 ? 4 : 2;

    /* 1. The input state. */
    for (int r = 0; r < 8; r++) c->in.gpr[r] = interesting(rng);
    c->in.gpr[R_ESP] = (DT_DATA_ADDR + 0x800 + dt_below(rng, 0x800)) & ~(uint32_t)(dt_below(rng, 4) ? 3 : 0);
    g.fixed[R_ESP] = true;
    c->in.eip = DT_CODE_ADDR;
    c->in.eflags = EFLAGS_FIXED1 | (dt_rand32(rng) & (EFLAGS_ARITH | EFLAGS_DF));
    for (int s = 0; s < DT_NSEG; s++) c->in.sel[s] = DT_SEL_DATA;
    c->in.sel[SEG_CS] = DT_SEL_CODE;
    memcpy(c->mem + DT_GDT_ADDR, dt_gdt, sizeof dt_gdt);
    memset(c->mem + DT_CODE_ADDR, 0xF4, 0x1000);       /* HLT after the instruction */
    for (uint32_t a = DT_DATA_ADDR; a < DT_DATA_ADDR + DT_DATA_SIZE; a += 8) {
        uint64_t v = dt_rand(rng);
        memcpy(c->mem + a, &v, 8);
    }

    /* 2. Prefixes, in random order. */
    uint8_t pfx[4];
    unsigned np = 0;
    if (!c->os32) pfx[np++] = 0x66;
    if (!c->as32) pfx[np++] = 0x67;
    if (dt_below(rng, 4) == 0) {
        /* No CS: override: QEMU's TCG does not check segment types, so a
         * write through CS would not #GP there (expect.c). */
        static const uint8_t seg[] = { 0x26, 0x36, 0x3E, 0x64, 0x65 };
        pfx[np++] = seg[dt_below(rng, 5)];
    }
    if (is_string_op(op) && dt_below(rng, 2)) {
        bool cmp = (op & 0xF6) == 0xA6;  /* CMPS, SCAS: REPE or REPNE */
        pfx[np++] = cmp && dt_below(rng, 2) ? 0xF2 : 0xF3;
        c->rep = true;
    }
    for (unsigned k = np; k > 1; k--) {
        unsigned j = dt_below(rng, k);
        uint8_t t = pfx[k - 1]; pfx[k - 1] = pfx[j]; pfx[j] = t;
    }
    for (unsigned k = 0; k < np; k++) emit(&g, pfx[k]);

    /* 3. Opcode, ModRM, immediates. */
    if (op >= 0x100) emit(&g, 0x0F);
    emit(&g, (uint8_t)op);

    if (is_string_op(op)) {
        gen_string(&g, op);
        goto done;
    }

    /* Registers the instruction uses implicitly, fixed before the ModRM. */
    switch (op) {
    case 0xD2: case 0xD3: case 0x1A5: case 0x1AD: {   /* count in CL */
        uint8_t cnt = shift_count(&g);
        if (op >= 0x100 && c->osize == 2) cnt = (uint8_t)((cnt & 0xE0) | (cnt & 31) % 17);
        set_reg(&g, R_ECX, 1, cnt);
        g.fixed[R_ECX] = true;
        c->count = cnt;
        break;
    }
    case 0xC8: case 0xC9:                             /* ENTER, LEAVE: EBP is a frame */
        set_addr_reg(&g, R_EBP, data_addr(&g, 0x300), true);
        break;
    case 0xD7:                                        /* XLAT: [EBX + AL] */
        set_addr_reg(&g, R_EBX, data_addr(&g, 0x200) - (c->in.gpr[R_EAX] & 0xFF), c->as32);
        break;
    default:
        break;
    }

    if (dec & D_MODRM) {
        enum form form = ANY;
        int regf = pick_reg(&g, op, &form);
        /* BT* Ev,Gv on memory: the bit offset in Gv addresses memory
         * around the operand, so keep it small (and never ESP). */
        bool bitop = op == 0x1A3 || op == 0x1AB || op == 0x1B3 || op == 0x1BB;
        if (bitop && form != REG && (form = dt_below(rng, 5) < 2 ? REG : MEM) == MEM) {
            if (regf == R_ESP) regf = R_EAX;
            int32_t bit = (int32_t)dt_below(rng, 512) - 256;
            set_reg(&g, (unsigned)regf, c->os32 ? 4 : 2, (uint32_t)bit);
            g.fixed[regf] = true;
        }
        if (op == 0x8D) form = dt_below(rng, 12) ? MEM : REG;  /* LEA: no access, any address */
        gen_modrm(&g, (unsigned)regf, form);
    }

    /* Immediates. */
    if (dec & D_ENTER) {
        emit_n(&g, dt_below(rng, 3) ? dt_below(rng, 64) : dt_rand32(rng), 2);
        emit(&g, (uint8_t)(dt_below(rng, 3) ? dt_below(rng, 5) : dt_rand32(rng)));
    }
    if (dec & D_IW) {
        /* RET imm16 below 0x8000 only: Unicorn sign-extends it (expect.c). */
        uint32_t iw = dt_below(rng, 2) ? dt_below(rng, 32) : dt_rand32(rng);
        emit_n(&g, op == 0xC2 ? iw & 0x7FFF : iw, 2);
    }
    if (dec & D_MOFFS) {
        uint32_t a = data_addr(&g, 64);
        emit_n(&g, a, c->as32 ? 4 : 2);
        g.mem = true;
        g.ea = a;
    }
    if (dec & D_IV) emit_n(&g, interesting(rng), c->os32 ? 4 : 2);
    if (dec & D_IB) {
        uint8_t ib = (uint8_t)interesting(rng);
        if (op == 0xC0 || op == 0xC1 || op == 0x1A4 || op == 0x1AC) {
            ib = shift_count(&g);
            if (op >= 0x100 && c->osize == 2) ib = (uint8_t)((ib & 0xE0) | (ib & 31) % 17);
            c->count = ib;
        } else if (op == 0xD4 || op == 0xD5) {
            ib = dt_below(rng, 2) ? 10 : dt_below(rng, 8) ? (uint8_t)dt_rand32(rng) : 0;  /* AAM 0: #DE */
        }
        emit(&g, ib);
    }
    if ((dec & D_GRP3) && c->reg < 2) {
        if (dec & D_BYTE) emit(&g, (uint8_t)interesting(rng));
        else emit_n(&g, interesting(rng), c->os32 ? 4 : 2);
    }
    if (op == 0xD0 || op == 0xD1) c->count = 1;

    /* 4. Fix-ups that need the operand's place. */
    switch (op) {
    case 0x07: case 0x17: case 0x1F: case 0x1A1: case 0x1A9:   /* POP sreg */
        mem_put(&g, c->in.gpr[R_ESP], selector(rng), 2);
        break;
    case 0x8E: case 0x102: case 0x103:                         /* MOV Sw,Ew; LAR; LSL */
        rm_put(&g, 2, op == 0x8E ? selector(rng) : (uint16_t)(dt_below(rng, 2) ? dt_below(rng, 0x40) : selector(rng)));
        break;
    case 0xC4: case 0xC5: case 0x1B2: case 0x1B4: case 0x1B5:  /* LES LDS LSS LFS LGS: m16:16/32 */
        if (g.mem) mem_put(&g, g.ea + (c->os32 ? 4 : 2), selector(rng), 2);
        break;
    case 0x62:                                                  /* BOUND: lower, upper */
        if (g.mem) {
            unsigned sz = c->os32 ? 4 : 2;
            uint32_t v = get_reg(&g, c->reg, sz);
            if (dt_below(rng, 2)) {
                mem_put(&g, g.ea, v - dt_below(rng, 4), sz);
                mem_put(&g, g.ea + sz, v + dt_below(rng, 4) - 1, sz);
            }
        }
        break;
    case 0x9D: {                                                /* POPF: no TF (it would trap) */
        uint32_t a = c->in.gpr[R_ESP];
        mem_put(&g, a, mem_get(&g, a, 4) & ~(uint32_t)(EFLAGS_TF | EFLAGS_VM), 4);
        break;
    }
    case 0xF6: case 0xF7:                                       /* DIV, IDIV: mostly no #DE */
        if (c->reg >= 6 && dt_below(rng, 4)) {
            unsigned sz = c->osize;
            uint32_t d = rm_get(&g, sz);
            if (d == 0) { d = 1 + dt_below(rng, 200); rm_put(&g, sz, d); d = rm_get(&g, sz); }
            unsigned hi = sz == 1 ? 4 : R_EDX;                  /* AH, DX, EDX */
            bool signed_div = c->reg == 7;
            uint32_t m = sz == 4 ? 0xFFFFFFFFu : sz == 2 ? 0xFFFFu : 0xFFu;
            uint32_t sbit = (m >> 1) + 1;
            uint32_t mag = signed_div ? ((d & sbit) ? ((~d + 1) & m) : d) : d;
            uint32_t h = mag > 1 ? dt_below(rng, signed_div ? (mag + 1) / 2 : mag) : 0;
            if (signed_div && dt_below(rng, 2)) h = (~h) & m;          /* negative dividend */
            if (!(hi == R_EDX ? g.fixed[R_EDX] : g.fixed[R_EAX]) && (g.mem || (sz == 1 ? g.rm != 4 : g.rm != R_EDX)))
                set_reg(&g, hi, sz, h);
        }
        break;
    case 0x1B0: case 0x1B1:                                     /* CMPXCHG: comparand often equal */
        if (dt_below(rng, 2) && !g.fixed[R_EAX]) set_reg(&g, R_EAX, c->osize, rm_get(&g, c->osize));
        break;
    case 0x1C7:                                                 /* CMPXCHG8B */
        if (g.mem && dt_below(rng, 2)) {
            if (!g.fixed[R_EAX]) c->in.gpr[R_EAX] = mem_get(&g, g.ea, 4);
            if (!g.fixed[R_EDX]) c->in.gpr[R_EDX] = mem_get(&g, g.ea + 4, 4);
        }
        break;
    case 0xE0: case 0xE1: case 0xE2: case 0xE3:                 /* LOOPcc, JCXZ: counts near 0 */
        if (dt_below(rng, 2)) set_reg(&g, R_ECX, c->as32 ? 4 : 2, dt_below(rng, 3));
        break;
    default:
        break;
    }

done:
    c->has_mem = g.mem;
    c->ea = g.mem ? g.ea : c->in.gpr[R_ESP];
    memcpy(c->mem + DT_CODE_ADDR, c->code, c->len);
}

/*
 * MOVS CMPS STOS LODS SCAS: ESI/EDI (SI/DI with 67) in the data area, with
 * room for a count of up to 16 elements either way; CMPS and SCAS often get
 * equal data so REPE runs on.
 */
static void gen_string(struct gen *g, unsigned op)
{
    struct dt_case *c = g->c;
    unsigned esz = (op & 1) ? (c->os32 ? 4 : 2) : 1;
    uint32_t si = data_addr(g, 0x100), di = data_addr(g, 0x100);
    set_addr_reg(g, R_ESI, si, c->as32);
    set_addr_reg(g, R_EDI, di, c->as32);
    if (c->rep) {
        uint32_t n = dt_below(g->rng, 4) ? dt_below(g->rng, 9) : dt_below(g->rng, 17);
        set_reg(g, R_ECX, c->as32 ? 4 : 2, n);
    }
    bool down = (c->in.eflags & EFLAGS_DF) != 0;
    uint32_t span = 17 * esz;
    uint32_t sfrom = down ? si - span : si, dfrom = down ? di - span : di;
    if ((op == 0xA6 || op == 0xA7) && dt_below(g->rng, 2)) {
        memmove(c->mem + dfrom, c->mem + sfrom, span + esz);
        if (dt_below(g->rng, 2)) c->mem[dfrom + dt_below(g->rng, span)] ^= (uint8_t)(1 + dt_below(g->rng, 255));
    }
    if ((op == 0xAE || op == 0xAF) && dt_below(g->rng, 2)) {
        for (uint32_t k = 0; k <= span; k++) c->mem[dfrom + k] = (uint8_t)(c->in.gpr[R_EAX] >> (8 * (k % esz)));
        if (dt_below(g->rng, 2)) c->mem[dfrom + dt_below(g->rng, span)] ^= 0x5A;
    }
}

/*
 * The opcodes the generator above is written for.  main.c's coverage check
 * fails when an opcode of the table is in neither this list nor expect.c's
 * exclusions, so a new table entry cannot go untested silently.
 */
static const struct { uint16_t lo, hi; } covered[] = {
    { 0x00, 0x05 }, { 0x08, 0x0D }, { 0x10, 0x15 }, { 0x18, 0x1D },   /* ADD OR ADC SBB */
    { 0x20, 0x25 }, { 0x28, 0x2D }, { 0x30, 0x35 }, { 0x38, 0x3D },   /* AND SUB XOR CMP */
    { 0x06, 0x07 }, { 0x0E, 0x0E }, { 0x16, 0x17 }, { 0x1E, 0x1F },   /* PUSH/POP sreg */
    { 0x27, 0x27 }, { 0x2F, 0x2F }, { 0x37, 0x37 }, { 0x3F, 0x3F },   /* DAA DAS AAA AAS */
    { 0x40, 0x63 },                     /* INC DEC PUSH POP r, PUSHA POPA BOUND ARPL */
    { 0x68, 0x6B }, { 0x70, 0x7F },     /* PUSH imm, IMUL imm, Jcc rel8 */
    { 0x80, 0x99 },                     /* grp1 TEST XCHG MOV LEA POP NOP XCHG CBW CWD */
    { 0x9B, 0xC3 },                     /* FWAIT PUSHF POPF SAHF LAHF moffs strings MOV shifts RET */
    { 0xC4, 0xC9 },                     /* LES LDS MOV Ev,imm ENTER LEAVE */
    { 0xCC, 0xCC }, { 0xCE, 0xCE },     /* INT3 INTO */
    { 0xD0, 0xD7 },                     /* shifts AAM AAD SALC XLAT */
    { 0xE0, 0xE3 }, { 0xE8, 0xE9 }, { 0xEB, 0xEB },   /* LOOP JCXZ CALL JMP */
    { 0xF5, 0xF7 }, { 0xF8, 0xF9 }, { 0xFC, 0xFF },   /* CMC grp3 CLC STC CLD STD grp4 grp5 */
    { 0x102, 0x103 }, { 0x10B, 0x10B },                /* LAR LSL UD2 */
    { 0x140, 0x14F }, { 0x180, 0x19F },                /* CMOVcc Jcc rel SETcc */
    { 0x1A0, 0x1A1 }, { 0x1A3, 0x1A5 }, { 0x1A8, 0x1A9 }, { 0x1AB, 0x1AD },
    { 0x1AF, 0x1B7 }, { 0x1BA, 0x1C1 }, { 0x1C7, 0x1CF },
};

bool dt_gen_covers(unsigned op)
{
    for (unsigned k = 0; k < sizeof covered / sizeof covered[0]; k++)
        if (op >= covered[k].lo && op <= covered[k].hi) return true;
    return false;
}
