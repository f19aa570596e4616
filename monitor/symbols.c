/*
 * symbols.c - an ELF32 symbol-table reader (see symbols.h).
 *
 * ELF header (gABI "ELF Header"): e_shoff at 32, e_shentsize at 46,
 * e_shnum at 48.  Section header (40 bytes): sh_type at 4, sh_offset at 16,
 * sh_size at 20, sh_link at 24, sh_entsize at 36; SHT_SYMTAB = 2.
 * Symbol (16 bytes): st_name 0, st_value 4, st_size 8, st_info 12
 * (type in its low 4 bits: STT_SECTION 3, STT_FILE 4), st_shndx 14
 * (SHN_ABS 0xFFF1, SHN_UNDEF 0).  Every offset is checked against the
 * file's size: a broken image gives no symbols, never a crash.
 */
#include "monitor/symbols.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static bool in_file(uint64_t off, uint64_t len, size_t size) { return off <= size && len <= size - off; }

int symbols_load(struct symbols *syms, const char *path)
{
    memset(syms, 0, sizeof *syms);
    FILE *f = fopen(path, "rb");
    if (!f) return -errno;
    uint8_t *img = NULL;
    size_t size = 0, cap = 0, n;
    do {
        if (size == cap) {
            cap = cap ? cap * 2 : 65536;
            if (cap > (64u << 20)) break;   /* a kernel image of 64 MiB+: no symbols */
            uint8_t *bigger = realloc(img, cap);
            if (!bigger) { free(img); fclose(f); return -ENOMEM; }
            img = bigger;
        }
        n = fread(img + size, 1, cap - size, f);
        size += n;
    } while (n > 0);
    fclose(f);
    if (size < 52 || memcmp(img, "\177ELF", 4) != 0 || img[4] != 1 /* ELFCLASS32 */) { free(img); return 0; }
    if (rd16(img + 16) == 2) {   /* e_type ET_EXEC: e_entry at 24 */
        syms->has_entry = true;
        syms->entry = rd32(img + 24);
    }
    uint32_t shoff = rd32(img + 32);
    uint16_t shentsize = rd16(img + 46), shnum = rd16(img + 48);
    if (shentsize < 40 || !in_file(shoff, (uint64_t)shentsize * shnum, size)) { free(img); return 0; }
    for (unsigned k = 0; k < shnum; k++) {
        const uint8_t *sh = img + shoff + (size_t)k * shentsize;
        if (rd32(sh + 4) != 2) continue;   /* SHT_SYMTAB */
        uint32_t off = rd32(sh + 16), len = rd32(sh + 20), link = rd32(sh + 24);
        if (link >= shnum || !in_file(off, len, size)) continue;
        const uint8_t *strh = img + shoff + (size_t)link * shentsize;
        uint32_t stroff = rd32(strh + 16), strlen_ = rd32(strh + 20);
        if (!in_file(stroff, strlen_, size) || strlen_ == 0) continue;
        uint32_t count = len / 16;
        struct symbol *v = calloc(count ? count : 1, sizeof *v);
        if (!v) { free(img); return -ENOMEM; }
        int used = 0;
        for (uint32_t j = 0; j < count; j++) {
            const uint8_t *st = img + off + (size_t)j * 16;
            uint32_t name = rd32(st), value = rd32(st + 4);
            unsigned type = st[12] & 0xF;
            uint16_t shndx = rd16(st + 14);
            if (name == 0 || name >= strlen_ || type == 3 || type == 4 || shndx == 0) continue;
            const char *s = (const char *)img + stroff + name;
            size_t slen = strnlen(s, strlen_ - name);
            if (slen == strlen_ - name) continue;   /* not terminated inside the table */
            v[used].name = strndup(s, slen);
            if (!v[used].name) continue;
            v[used].value = value;
            v[used].code = shndx != 0xFFF1;
            used++;
        }
        syms->v = v;
        syms->count = used;
        break;
    }
    free(img);
    return 0;
}

void symbols_free(struct symbols *syms)
{
    for (int k = 0; k < syms->count; k++) free(syms->v[k].name);
    free(syms->v);
    memset(syms, 0, sizeof *syms);
}

bool symbols_lookup(const struct symbols *syms, const char *name, uint32_t *value)
{
    for (int k = 0; syms && k < syms->count; k++)
        if (strcmp(syms->v[k].name, name) == 0) { *value = syms->v[k].value; return true; }
    return false;
}

const char *symbols_nearest(const struct symbols *syms, uint32_t addr, uint32_t *offset)
{
    const struct symbol *best = NULL;
    for (int k = 0; syms && k < syms->count; k++) {
        const struct symbol *s = &syms->v[k];
        if (!s->code || s->value > addr || addr - s->value >= 0x10000) continue;
        /* The closest; among equals the shortest name (main over main.x). */
        if (!best || s->value > best->value || (s->value == best->value && strlen(s->name) < strlen(best->name)))
            best = s;
    }
    if (!best) return NULL;
    *offset = addr - best->value;
    return best->name;
}
