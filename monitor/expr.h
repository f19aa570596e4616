/*
 * expr.h - the monitor's expressions: what `print`, `break ... if`,
 * `display`, `set` and every address argument are written in.
 *
 *   numbers     0x1f, 31, 0b11111, 'A'
 *   registers   eax .. edi, ax .. di, al .. bh, eip, ip, eflags, flags,
 *               cs ds es fs gs ss (the selector), cr0 cr2 cr3 cr4, dr0-dr7,
 *               cpl, gdtr_base gdtr_limit idtr_base idtr_limit;
 *               optionally written $eax as gdb spells them
 *   symbols     the -kernel image's (main, main.de_insn)
 *   operators   ( ) unary - ~ !   * / %   + -   << >>   & ^ |
 *               == != < <= > >=   &&   ||       (C precedence, unsigned 32-bit)
 *   memory      [expr] a 32-bit read at a linear address through the guest's
 *               paging; byte[expr] word[expr] dword[expr] pick the size
 *
 * Worked example: `break 0x100010 if eax == 5 && [esp] != 0`.
 */
#ifndef TRAPEZE_EXPR_H
#define TRAPEZE_EXPR_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/x86_state.h"

struct engine;
struct symbols;

enum expr_reg_kind {
    EXPR_GPR32, EXPR_GPR16, EXPR_GPR8L, EXPR_GPR8H, EXPR_EIP, EXPR_IP, EXPR_EFLAGS, EXPR_FLAGS,
    EXPR_SEG, EXPR_CR0, EXPR_CR2, EXPR_CR3, EXPR_CR4, EXPR_DR, EXPR_CPL,
    EXPR_DTR,   /* index 0 gdtr_base, 1 gdtr_limit, 2 idtr_base, 3 idtr_limit */
};

struct expr_reg {
    const char *name;
    enum expr_reg_kind kind;
    int index;            /* enum x86_reg, enum x86_sreg or DR number */
};

/* The register table, NULL-terminated by name (for completion). */
extern const struct expr_reg expr_regs[];

/* The register named 'name' (case-insensitive, with or without '$'), or NULL. */
const struct expr_reg *expr_find_reg(const char *name);
uint32_t expr_reg_get(const struct x86_state *s, const struct expr_reg *r);

/*
 * Evaluate 'text' against state 's', reading memory through 'e' (may be
 * NULL: memory reads then fail) and names through 'syms' (may be NULL).  Returns true with *value, or false with
 * a one-line reason in 'why' (a buffer of 'why_len' bytes).
 */
bool expr_eval(const char *text, const struct x86_state *s, struct engine *e,
               const struct symbols *syms, uint32_t *value, char *why, int why_len);

#endif
