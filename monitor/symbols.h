/*
 * symbols.h - the -kernel image's symbol table, so the monitor takes
 * `break main` and shows "<main+4>" (ELF32 .symtab, the System V gABI
 * "Symbol Table" section; nasm labels are STT_NOTYPE, local labels such as
 * main.de_insn included).
 */
#ifndef TRAPEZE_SYMBOLS_H
#define TRAPEZE_SYMBOLS_H

#include <stdbool.h>
#include <stdint.h>

struct symbol { char *name; uint32_t value; bool code; };

struct symbols {
    struct symbol *v;
    int count;
    bool has_entry;
    uint32_t entry;     /* e_entry of an ELF32 executable */
};

/* Read the symbols of ELF file 'path'.  A file that is no ELF32 or has no
 * symbols leaves 'syms' empty; returns -errno only when it cannot be read. */
int symbols_load(struct symbols *syms, const char *path);
void symbols_free(struct symbols *syms);
bool symbols_lookup(const struct symbols *syms, const char *name, uint32_t *value);
/* The code symbol at or below 'addr' within 64 KiB, or NULL; *offset = addr - its value. */
const char *symbols_nearest(const struct symbols *syms, uint32_t addr, uint32_t *offset);

#endif
