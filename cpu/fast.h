/*
 * fast.h - specialized handlers for hot instruction forms (cpu/exec_fast.c).
 */
#ifndef TRAPEZE_FAST_H
#define TRAPEZE_FAST_H

#include "cpu/decode.h"

/*
 * Give a freshly decoded instruction a faster handler when its form has
 * one (it may rewrite i->imm into the form that handler expects: a sign-
 * extended immediate, a masked shift count).  Leaves others untouched.
 */
void fast_specialize(struct x86_insn *i);

#endif
