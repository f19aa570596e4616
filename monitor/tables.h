/*
 * tables.h - the monitor's views of the x86 system tables: GDT, LDT, IDT
 * (or the real-mode IVT), the TSS, the page tables, and one address's walk.
 * Every field is decoded and named as the Intel SDM Vol. 3A names it.
 */
#ifndef TRAPEZE_TABLES_H
#define TRAPEZE_TABLES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/x86_state.h"

struct engine;

void tables_print_gdt(FILE *out, struct engine *e, const struct x86_state *s);
void tables_print_ldt(FILE *out, struct engine *e, const struct x86_state *s);
void tables_print_idt(FILE *out, struct engine *e, const struct x86_state *s);
void tables_print_tss(FILE *out, struct engine *e, const struct x86_state *s);
/* The mappings of the page tables the engine walks (the guest's, and an
 * engine's own such as tae's shadow), runs of like pages collapsed. */
void tables_print_pt(FILE *out, struct engine *e, const struct x86_state *s);
/* The walk of 'lin' for a read with the rights of s->cpl, by the engine's
 * translate: each level, then the result or #PF; each named walk. */
void tables_print_translate(FILE *out, struct engine *e, const struct x86_state *s, uint32_t lin);
/* One decoded descriptor (8 bytes as two dwords), on one line without newline. */
void tables_describe_descriptor(FILE *out, uint32_t lo, uint32_t hi);
/* A segment register's hidden part (attr as x86_state.h lays it out). */
void tables_describe_cache(FILE *out, const struct x86_segment *sg);

/* 16 or 32: the default operand size of the code in 's' (SDM Vol. 3A 3.4.5 D flag;
 * real and virtual-8086 mode run 16-bit code, 20.1). */
int tables_code_bits(const struct x86_state *s);

/* Base of selector 'sel' for 'sel:off': the base of a segment register
 * holding 'sel' now (as CS:IP is shown); else real/VM86 mode sel*16,
 * protected mode the descriptor's base from the GDT or LDT.  False with
 * 'why' when not found. */
bool tables_segment_base(struct engine *e, const struct x86_state *s, uint16_t sel,
                         uint32_t *base, const char **why);

#endif
