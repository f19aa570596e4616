/*
 * expr.c - a recursive-descent evaluator for the grammar in expr.h.
 *
 * Each precedence level is one function, lowest first (C's order, K&R
 * A7): or -> and -> bitwise-or -> xor -> bitwise-and -> comparison ->
 * shift -> sum -> product -> unary -> primary.  Errors stop the descent
 * through p->failed; the first reason is the one reported.
 */
#include "monitor/expr.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "monitor/symbols.h"
#include "vmm/engine.h"

const struct expr_reg expr_regs[] = {
    { "eax", EXPR_GPR32, R_EAX }, { "ecx", EXPR_GPR32, R_ECX }, { "edx", EXPR_GPR32, R_EDX },
    { "ebx", EXPR_GPR32, R_EBX }, { "esp", EXPR_GPR32, R_ESP }, { "ebp", EXPR_GPR32, R_EBP },
    { "esi", EXPR_GPR32, R_ESI }, { "edi", EXPR_GPR32, R_EDI },
    { "ax", EXPR_GPR16, R_EAX }, { "cx", EXPR_GPR16, R_ECX }, { "dx", EXPR_GPR16, R_EDX },
    { "bx", EXPR_GPR16, R_EBX }, { "sp", EXPR_GPR16, R_ESP }, { "bp", EXPR_GPR16, R_EBP },
    { "si", EXPR_GPR16, R_ESI }, { "di", EXPR_GPR16, R_EDI },
    { "al", EXPR_GPR8L, R_EAX }, { "cl", EXPR_GPR8L, R_ECX }, { "dl", EXPR_GPR8L, R_EDX },
    { "bl", EXPR_GPR8L, R_EBX }, { "ah", EXPR_GPR8H, R_EAX }, { "ch", EXPR_GPR8H, R_ECX },
    { "dh", EXPR_GPR8H, R_EDX }, { "bh", EXPR_GPR8H, R_EBX },
    { "eip", EXPR_EIP, 0 }, { "ip", EXPR_IP, 0 }, { "eflags", EXPR_EFLAGS, 0 }, { "flags", EXPR_FLAGS, 0 },
    { "es", EXPR_SEG, SEG_ES }, { "cs", EXPR_SEG, SEG_CS }, { "ss", EXPR_SEG, SEG_SS },
    { "ds", EXPR_SEG, SEG_DS }, { "fs", EXPR_SEG, SEG_FS }, { "gs", EXPR_SEG, SEG_GS },
    { "cr0", EXPR_CR0, 0 }, { "cr2", EXPR_CR2, 0 }, { "cr3", EXPR_CR3, 0 }, { "cr4", EXPR_CR4, 0 },
    { "dr0", EXPR_DR, 0 }, { "dr1", EXPR_DR, 1 }, { "dr2", EXPR_DR, 2 }, { "dr3", EXPR_DR, 3 },
    { "dr6", EXPR_DR, 6 }, { "dr7", EXPR_DR, 7 }, { "cpl", EXPR_CPL, 0 },
    { "gdtr_base", EXPR_DTR, 0 }, { "gdtr_limit", EXPR_DTR, 1 },
    { "idtr_base", EXPR_DTR, 2 }, { "idtr_limit", EXPR_DTR, 3 },
    { NULL, 0, 0 },
};

const struct expr_reg *expr_find_reg(const char *name)
{
    if (name[0] == '$') name++;
    for (const struct expr_reg *r = expr_regs; r->name; r++)
        if (strcasecmp(r->name, name) == 0) return r;
    return NULL;
}

uint32_t expr_reg_get(const struct x86_state *s, const struct expr_reg *r)
{
    switch (r->kind) {
    case EXPR_GPR32: return s->regs[r->index];
    case EXPR_GPR16: return s->regs[r->index] & 0xFFFF;
    case EXPR_GPR8L: return s->regs[r->index] & 0xFF;
    case EXPR_GPR8H: return (s->regs[r->index] >> 8) & 0xFF;
    case EXPR_EIP: return s->eip;
    case EXPR_IP: return s->eip & 0xFFFF;
    case EXPR_EFLAGS: return s->eflags;
    case EXPR_FLAGS: return s->eflags & 0xFFFF;
    case EXPR_SEG: return s->seg[r->index].selector;
    case EXPR_CR0: return s->cr0;
    case EXPR_CR2: return s->cr2;
    case EXPR_CR3: return s->cr3;
    case EXPR_CR4: return s->cr4;
    case EXPR_DR: return s->dr[r->index];
    case EXPR_CPL: return s->cpl;
    case EXPR_DTR:
        switch (r->index) {
        case 0: return s->gdtr.base;
        case 1: return s->gdtr.limit;
        case 2: return s->idtr.base;
        default: return s->idtr.limit;
        }
    }
    return 0;
}

struct parser {
    const char *p;
    const struct x86_state *s;
    struct engine *e;
    const struct symbols *syms;
    bool failed;
    char *why;
    int why_len;
    int depth;          /* nesting of unary operators and brackets */
};

__attribute__((format(printf, 2, 3)))
static uint32_t fail(struct parser *ps, const char *fmt, ...)
{
    if (!ps->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->why, (size_t)ps->why_len, fmt, ap);
        va_end(ap);
        ps->failed = true;
    }
    return 0;
}

static void skip_space(struct parser *ps)
{
    while (isspace((unsigned char)*ps->p)) ps->p++;
}

/* Consume 'tok' if it comes next (and, for '&' and '|', is not doubled). */
static bool accept(struct parser *ps, const char *tok)
{
    skip_space(ps);
    size_t n = strlen(tok);
    if (strncmp(ps->p, tok, n) != 0) return false;
    if (n == 1 && (tok[0] == '&' || tok[0] == '|' || tok[0] == '<' || tok[0] == '>' ||
                   tok[0] == '=' || tok[0] == '!') &&
        (ps->p[1] == tok[0] || ps->p[1] == '='))
        return false;
    ps->p += n;
    return true;
}

static uint32_t parse_or(struct parser *ps);

static uint32_t read_memory(struct parser *ps, uint32_t addr, unsigned size)
{
    uint8_t buf[4] = { 0 };
    if (!ps->e || !ps->e->ops->read_linear(ps->e, addr, buf, size))
        return fail(ps, "cannot read memory at %08x (not mapped)", addr);
    return (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 24;
}

static uint32_t parse_primary(struct parser *ps)
{
    skip_space(ps);
    const char *start = ps->p;
    if (accept(ps, "(")) {
        uint32_t v = parse_or(ps);
        if (!accept(ps, ")")) return fail(ps, "missing ')'");
        return v;
    }
    unsigned size = 0;
    if (strncasecmp(ps->p, "byte", 4) == 0) size = 1;
    else if (strncasecmp(ps->p, "word", 4) == 0) size = 2;
    else if (strncasecmp(ps->p, "dword", 5) == 0) size = 4;
    if (size) {
        const char *after = ps->p + (size == 4 ? 5 : 4);
        while (isspace((unsigned char)*after)) after++;
        if (*after == '[') ps->p = after;
        else size = 0;
    }
    if (accept(ps, "[")) {
        uint32_t addr = parse_or(ps);
        if (!accept(ps, "]")) return fail(ps, "missing ']'");
        if (ps->failed) return 0;
        return read_memory(ps, addr, size ? size : 4);
    }
    if (ps->p[0] == '\'' && ps->p[1] && ps->p[2] == '\'') {
        uint32_t v = (unsigned char)ps->p[1];
        ps->p += 3;
        return v;
    }
    if (isdigit((unsigned char)*ps->p)) {
        uint32_t v = 0;
        int base = 10;
        if (ps->p[0] == '0' && (ps->p[1] == 'x' || ps->p[1] == 'X')) { base = 16; ps->p += 2; }
        else if (ps->p[0] == '0' && (ps->p[1] == 'b' || ps->p[1] == 'B') && (ps->p[2] == '0' || ps->p[2] == '1') &&
                 !isxdigit((unsigned char)ps->p[2 + strspn(ps->p + 2, "01")])) { base = 2; ps->p += 2; }
        else {
            /* A number with a hex letter is hex (7c00, 1f): it cannot be decimal. */
            const char *q = ps->p;
            while (isxdigit((unsigned char)*q)) q++;
            for (const char *c = ps->p; c < q; c++)
                if (!isdigit((unsigned char)*c)) base = 16;
        }
        int digits = 0;
        for (;; ps->p++) {
            int c = (unsigned char)*ps->p, d;
            if (isdigit(c)) d = c - '0';
            else if (isxdigit(c)) d = tolower(c) - 'a' + 10;
            else break;
            if (d >= base) return fail(ps, "bad digit '%c' in a base-%d number", c, base);
            uint64_t nv = (uint64_t)v * (unsigned)base + (unsigned)d;
            if (nv > 0xFFFFFFFFu) return fail(ps, "number too large (32 bits at most)");
            v = (uint32_t)nv;
            digits++;
        }
        if (!digits) return fail(ps, "a number needs digits after its prefix");
        if (isalpha((unsigned char)*ps->p) || *ps->p == '_')
            return fail(ps, "bad number near '%.16s'", start);
        return v;
    }
    if (*ps->p == '$' || *ps->p == '_' || *ps->p == '.' || isalpha((unsigned char)*ps->p)) {
        char name[128];
        int n = 0;
        uint32_t v;
        if (*ps->p == '$') ps->p++;
        while ((isalnum((unsigned char)*ps->p) || *ps->p == '_' || *ps->p == '.' || *ps->p == '@') &&
               n < (int)sizeof name - 1)
            name[n++] = *ps->p++;
        name[n] = '\0';
        if (isalnum((unsigned char)*ps->p)) return fail(ps, "name too long near '%.20s'", start);
        const struct expr_reg *r = expr_find_reg(name);
        if (r) return expr_reg_get(ps->s, r);
        if (symbols_lookup(ps->syms, name, &v)) return v;
        /* Neither: hex digits only (fff0, deadbeef) are a hex number. */
        if (start[0] != '$' && n <= 8 && strspn(name, "0123456789abcdefABCDEF") == (size_t)n) {
            v = 0;
            for (int k = 0; k < n; k++)
                v = v << 4 | (uint32_t)(isdigit((unsigned char)name[k]) ? name[k] - '0' : tolower((unsigned char)name[k]) - 'a' + 10);
            return v;
        }
        return fail(ps, "'%s' is no register or symbol", name);
    }
    if (!*ps->p) return fail(ps, "expression ends too early");
    return fail(ps, "unexpected '%.16s'", ps->p);
}

static uint32_t parse_unary(struct parser *ps)
{
    uint32_t v;
    if (ps->failed) return 0;
    /* Deep nesting is the one way to exhaust the host stack: bound it. */
    if (++ps->depth > 64) return fail(ps, "expression nested too deeply (64 levels at most)");
    if (accept(ps, "-")) v = -parse_unary(ps);
    else if (accept(ps, "~")) v = ~parse_unary(ps);
    else if (accept(ps, "!")) v = !parse_unary(ps);
    else if (accept(ps, "+")) v = parse_unary(ps);
    else v = parse_primary(ps);
    ps->depth--;
    return v;
}

static uint32_t parse_product(struct parser *ps)
{
    uint32_t v = parse_unary(ps);
    while (!ps->failed) {
        if (accept(ps, "*")) v *= parse_unary(ps);
        else if (accept(ps, "/") || accept(ps, "%")) {
            bool mod = ps->p[-1] == '%';
            uint32_t d = parse_unary(ps);
            if (d == 0) return fail(ps, "division by zero");
            v = mod ? v % d : v / d;
        } else break;
    }
    return v;
}

static uint32_t parse_sum(struct parser *ps)
{
    uint32_t v = parse_product(ps);
    while (!ps->failed) {
        if (accept(ps, "+")) v += parse_product(ps);
        else if (accept(ps, "-")) v -= parse_product(ps);
        else break;
    }
    return v;
}

static uint32_t parse_shift(struct parser *ps)
{
    uint32_t v = parse_sum(ps);
    while (!ps->failed) {
        skip_space(ps);
        if (strncmp(ps->p, "<<", 2) == 0) { ps->p += 2; uint32_t n = parse_sum(ps); v = n >= 32 ? 0 : v << n; }
        else if (strncmp(ps->p, ">>", 2) == 0) { ps->p += 2; uint32_t n = parse_sum(ps); v = n >= 32 ? 0 : v >> n; }
        else break;
    }
    return v;
}

static uint32_t parse_compare(struct parser *ps)
{
    uint32_t v = parse_shift(ps);
    while (!ps->failed) {
        skip_space(ps);
        if (strncmp(ps->p, "==", 2) == 0) { ps->p += 2; v = v == parse_shift(ps); }
        else if (strncmp(ps->p, "!=", 2) == 0) { ps->p += 2; v = v != parse_shift(ps); }
        else if (strncmp(ps->p, "<=", 2) == 0) { ps->p += 2; v = v <= parse_shift(ps); }
        else if (strncmp(ps->p, ">=", 2) == 0) { ps->p += 2; v = v >= parse_shift(ps); }
        else if (ps->p[0] == '<' && ps->p[1] != '<') { ps->p++; v = v < parse_shift(ps); }
        else if (ps->p[0] == '>' && ps->p[1] != '>') { ps->p++; v = v > parse_shift(ps); }
        else break;
    }
    return v;
}

static uint32_t parse_bitand(struct parser *ps)
{
    uint32_t v = parse_compare(ps);
    while (!ps->failed && accept(ps, "&")) v &= parse_compare(ps);
    return v;
}

static uint32_t parse_xor(struct parser *ps)
{
    uint32_t v = parse_bitand(ps);
    while (!ps->failed && accept(ps, "^")) v ^= parse_bitand(ps);
    return v;
}

static uint32_t parse_bitor(struct parser *ps)
{
    uint32_t v = parse_xor(ps);
    while (!ps->failed && accept(ps, "|")) v |= parse_xor(ps);
    return v;
}

static uint32_t parse_and(struct parser *ps)
{
    uint32_t v = parse_bitor(ps);
    while (!ps->failed && accept(ps, "&&")) { uint32_t w = parse_bitor(ps); v = v && w; }
    return v;
}

static uint32_t parse_or(struct parser *ps)
{
    uint32_t v = parse_and(ps);
    while (!ps->failed && accept(ps, "||")) { uint32_t w = parse_and(ps); v = v || w; }
    return v;
}

bool expr_eval(const char *text, const struct x86_state *s, struct engine *e,
               const struct symbols *syms, uint32_t *value, char *why, int why_len)
{
    struct parser ps = { .p = text, .s = s, .e = e, .syms = syms, .why = why, .why_len = why_len };
    uint32_t v = parse_or(&ps);
    skip_space(&ps);
    if (!ps.failed && *ps.p)
        fail(&ps, "unexpected '%.16s' after the expression", ps.p);
    if (ps.failed) return false;
    *value = v;
    return true;
}
