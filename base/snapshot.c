/*
 * snapshot.c - named, versioned sections in memory and on disk.
 */
#include "base/snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char magic[8] = { 'T', 'R', 'P', 'Z', 'S', 'N', 'A', 'P' };

void snapshot_init(struct snapshot *s)
{
    memset(s, 0, sizeof *s);
}

void snapshot_free(struct snapshot *s)
{
    for (int k = 0; k < s->count; k++) {
        free(s->sections[k].name);
        free(s->sections[k].data);
    }
    free(s->sections);
    snapshot_init(s);
}

const struct snapshot_section *snapshot_find(const struct snapshot *s, const char *name)
{
    for (int k = 0; k < s->count; k++)
        if (strcmp(s->sections[k].name, name) == 0) return &s->sections[k];
    return NULL;
}

int snapshot_put(struct snapshot *s, const char *name, uint32_t version, const void *data, size_t size)
{
    if (size > UINT32_MAX || strlen(name) > UINT16_MAX) return -EINVAL;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return -ENOMEM;
    memcpy(copy, data, size);
    struct snapshot_section *sec = (struct snapshot_section *)snapshot_find(s, name);
    if (sec) {
        free(sec->data);
    } else {
        if (s->count == s->capacity) {
            int cap = s->capacity ? 2 * s->capacity : 16;
            struct snapshot_section *n = realloc(s->sections, (size_t)cap * sizeof *n);
            if (!n) { free(copy); return -ENOMEM; }
            s->sections = n;
            s->capacity = cap;
        }
        sec = &s->sections[s->count];
        sec->name = strdup(name);
        if (!sec->name) { free(copy); return -ENOMEM; }
        s->count++;
    }
    sec->version = version;
    sec->size = (uint32_t)size;
    sec->data = copy;
    return 0;
}

int snapshot_get(const struct snapshot *s, const char *name, uint32_t version, void *data, size_t size)
{
    const struct snapshot_section *sec = snapshot_find(s, name);
    if (!sec) return -ENOENT;
    if (sec->version != version || sec->size != size) return -EINVAL;
    memcpy(data, sec->data, size);
    return 0;
}

static int put_bytes(FILE *f, const void *p, size_t n) { return fwrite(p, 1, n, f) == n ? 0 : -EIO; }
static int put_u32(FILE *f, uint32_t v) { return put_bytes(f, &v, 4); }

int snapshot_write_file(const struct snapshot *s, const char *path, const char **why)
{
    size_t len = strlen(path) + 5;
    char *tmp = malloc(len);
    if (!tmp) { *why = "out of memory"; return -ENOMEM; }
    snprintf(tmp, len, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        int e = errno;
        *why = strerror(e);
        free(tmp);
        return -e;
    }
    int r = put_bytes(f, magic, sizeof magic);
    if (!r) r = put_u32(f, SNAPSHOT_FORMAT_VERSION);
    if (!r) r = put_u32(f, (uint32_t)s->count);
    for (int k = 0; k < s->count && !r; k++) {
        const struct snapshot_section *sec = &s->sections[k];
        uint16_t nlen = (uint16_t)strlen(sec->name);
        r = put_bytes(f, &nlen, 2);
        if (!r) r = put_bytes(f, sec->name, nlen);
        if (!r) r = put_u32(f, sec->version);
        if (!r) r = put_u32(f, sec->size);
        if (!r) r = put_bytes(f, sec->data, sec->size);
    }
    if (fflush(f) != 0) r = -EIO;
    if (fclose(f) != 0) r = -EIO;
    if (!r && rename(tmp, path) != 0) r = -errno;
    if (r) {
        *why = r == -EIO ? "write failed (disk full?)" : strerror(-r);
        remove(tmp);
    }
    free(tmp);
    return r;
}

static int get_bytes(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n ? 0 : -EINVAL; }

int snapshot_read_file(struct snapshot *s, const char *path, const char **why)
{
    snapshot_init(s);
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        *why = strerror(e);
        return -e;
    }
    char m[8];
    uint32_t version = 0, count = 0;
    int r = get_bytes(f, m, sizeof m);
    if (r || memcmp(m, magic, sizeof m) != 0) {
        *why = "not a trapeze snapshot";
        fclose(f);
        return -EINVAL;
    }
    if (get_bytes(f, &version, 4) || version != SNAPSHOT_FORMAT_VERSION) {
        *why = "snapshot format version not supported";
        fclose(f);
        return -EINVAL;
    }
    r = get_bytes(f, &count, 4);
    for (uint32_t k = 0; k < count && !r; k++) {
        uint16_t nlen;
        uint32_t sv, size;
        char name[65536];
        r = get_bytes(f, &nlen, 2);
        if (!r) r = get_bytes(f, name, nlen);
        if (!r) r = get_bytes(f, &sv, 4);
        if (!r) r = get_bytes(f, &size, 4);
        if (r) break;
        name[nlen] = 0;
        uint8_t *data = malloc(size ? size : 1);
        if (!data) { r = -ENOMEM; break; }
        r = get_bytes(f, data, size);
        if (!r) r = snapshot_put(s, name, sv, data, size);
        free(data);
    }
    fclose(f);
    if (r) {
        *why = r == -ENOMEM ? "out of memory" : "snapshot file is truncated or corrupt";
        snapshot_free(s);
    }
    return r;
}
