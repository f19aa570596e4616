/*
 * snapshot.c - named, versioned sections in memory and on disk.
 */
#include "base/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char magic[8] = { 'T', 'R', 'P', 'Z', 'S', 'N', 'A', 'P' };

/* Header: magic, version, count; a section's fixed part: u16 + u32 + u32; the trailing CRC. */
#define HEADER_BYTES 16u
#define SECTION_FIXED_BYTES 10u
#define CRC_BYTES 4u

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
    size_t nlen = strlen(name);
    if (size > UINT32_MAX || nlen == 0 || nlen > SNAPSHOT_NAME_MAX) return -EINVAL;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return -ENOMEM;
    if (size) memcpy(copy, data, size);
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

int snapshot_refuse(struct snapshot_check *c, const char *section, const char *field, const char *fmt, ...)
{
    int n = field ? snprintf(c->why, sizeof c->why, "section %s: field %s: ", section, field)
                  : snprintf(c->why, sizeof c->why, "section %s: ", section);
    if (n >= 0 && (size_t)n < sizeof c->why) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->why + n, sizeof c->why - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

int snapshot_take(const struct snapshot *s, const char *name, uint32_t version, void *data, size_t size,
                  struct snapshot_check *c)
{
    const struct snapshot_section *sec = snapshot_find(s, name);
    if (!sec) return snapshot_refuse(c, name, NULL, "missing from the snapshot");
    if (sec->version != version)
        return snapshot_refuse(c, name, NULL, "version %u, this trapeze reads version %u", sec->version, version);
    if (sec->size != size)
        return snapshot_refuse(c, name, NULL, "%u bytes, version %u has %zu", sec->size, version, size);
    memcpy(data, sec->data, size);
    return 0;
}

int snapshot_check_bool(struct snapshot_check *c, const char *section, const char *field, const bool *b)
{
    unsigned char byte = *(const unsigned char *)b;
    return byte <= 1 ? 0 : snapshot_refuse(c, section, field, "%u is not a boolean (0 or 1)", byte);
}

int snapshot_check_range(struct snapshot_check *c, const char *section, const char *field, uint64_t v,
                         uint64_t lo, uint64_t hi)
{
    if (v >= lo && v <= hi) return 0;
    return snapshot_refuse(c, section, field, "%llu is out of range (%llu-%llu)", (unsigned long long)v,
                           (unsigned long long)lo, (unsigned long long)hi);
}

/*
 * CRC-32, reflected polynomial EDB88320 (IEEE 802.3), initial value and
 * final XOR FFFFFFFF: crc32("123456789") = CBF43926.  Four bits a step,
 * from a 16-entry table (entry k = the CRC of nibble k shifted out).
 */
static const uint32_t crc_nibble[16] = {
    0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4, 0x4DB26158, 0x5005713C,
    0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C, 0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
};

uint32_t snapshot_crc32(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t k = 0; k < n; k++) {
        crc ^= b[k];
        crc = (crc >> 4) ^ crc_nibble[crc & 15];
        crc = (crc >> 4) ^ crc_nibble[crc & 15];
    }
    return crc ^ 0xFFFFFFFFu;
}

static void put_u16(uint8_t **w, uint16_t v) { memcpy(*w, &v, 2); *w += 2; }
static void put_u32(uint8_t **w, uint32_t v) { memcpy(*w, &v, 4); *w += 4; }

int snapshot_serialize(const struct snapshot *s, uint8_t **data, size_t *size)
{
    size_t len = HEADER_BYTES + CRC_BYTES;
    for (int k = 0; k < s->count; k++)
        len += SECTION_FIXED_BYTES + strlen(s->sections[k].name) + s->sections[k].size;
    uint8_t *buf = malloc(len), *w = buf;
    if (!buf) return -ENOMEM;
    memcpy(w, magic, sizeof magic);
    w += sizeof magic;
    put_u32(&w, SNAPSHOT_FORMAT_VERSION);
    put_u32(&w, (uint32_t)s->count);
    for (int k = 0; k < s->count; k++) {
        const struct snapshot_section *sec = &s->sections[k];
        uint16_t nlen = (uint16_t)strlen(sec->name);
        put_u16(&w, nlen);
        memcpy(w, sec->name, nlen);
        w += nlen;
        put_u32(&w, sec->version);
        put_u32(&w, sec->size);
        if (sec->size) memcpy(w, sec->data, sec->size);
        w += sec->size;
    }
    put_u32(&w, snapshot_crc32(buf, len - CRC_BYTES));
    *data = buf;
    *size = len;
    return 0;
}

/* The folder 'path' is in, as a new string ("." for a bare name), or NULL. */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* The folder 'path' is in, fsync'd so the rename in it is on disk. */
static int sync_folder(const char *path)
{
    char *dir = folder_of(path);
    if (!dir) return -ENOMEM;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r = fd < 0 ? -errno : 0;
    if (fd >= 0 && fsync(fd) != 0 && errno != EINVAL) r = -errno;   /* EINVAL: a folder that cannot sync */
    if (fd >= 0) close(fd);
    free(dir);
    return r;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return w < 0 ? -errno : -EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/*
 * An open file whose name will be 'tmp': an unnamed O_TMPFILE in the folder
 * (linked later by link_tmp), or, where the file system has none, 'tmp'
 * itself, created anew (O_EXCL: a stale one was removed first).
 */
static int open_tmp(const char *path, const char *tmp, bool *unnamed)
{
    char *dir = folder_of(path);
    if (!dir) return -ENOMEM;
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    free(dir);
    *unnamed = fd >= 0;
    if (fd >= 0) return fd;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    return fd >= 0 ? fd : -errno;
}

int snapshot_write_file(const struct snapshot *s, const char *path, const char **why)
{
    uint8_t *data;
    size_t size;
    if (snapshot_serialize(s, &data, &size) < 0) { *why = "out of memory"; return -ENOMEM; }
    size_t len = strlen(path) + 5;
    char *tmp = malloc(len);
    if (!tmp) { free(data); *why = "out of memory"; return -ENOMEM; }
    snprintf(tmp, len, "%s.tmp", path);

    /* A stale FILE.tmp of a killed save: removed, not reused (it may be a
       symlink to something else, or a read-only file). */
    int r = 0;
    if (unlink(tmp) != 0 && errno != ENOENT) {
        r = -errno;
        *why = "a stale FILE.tmp is in the way and cannot be removed";
        goto out;
    }
    bool unnamed;
    int fd = open_tmp(path, tmp, &unnamed);
    if (fd < 0) { r = fd; *why = strerror(-r); goto out; }
    r = write_all(fd, data, size);
    if (!r && fsync(fd) != 0) r = -errno;
    if (!r && unnamed) {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) != 0) r = -errno;
    }
    if (close(fd) != 0 && !r) r = -errno;
    if (!r && rename(tmp, path) != 0) r = -errno;
    if (!r) r = sync_folder(path);
    if (r) {
        *why = r == -ENOSPC || r == -EIO ? "write failed (disk full?)" : strerror(-r);
        unlink(tmp);
    }
out:
    free(tmp);
    free(data);
    return r;
}

static uint16_t get_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static int bad_file(struct snapshot_check *c, struct snapshot *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad_file(struct snapshot_check *c, struct snapshot *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
    snapshot_free(s);
    return -EINVAL;
}

int snapshot_parse(struct snapshot *s, const uint8_t *data, size_t size, struct snapshot_check *c)
{
    snapshot_init(s);
    if (size < sizeof magic || memcmp(data, magic, sizeof magic) != 0)
        return bad_file(c, s, "not a trapeze snapshot");
    if (size < 12) return bad_file(c, s, "snapshot file is truncated (no format version)");
    uint32_t version = get_u32(data + 8);
    if (version != SNAPSHOT_FORMAT_VERSION)
        return bad_file(c, s, "snapshot format version %u not supported (this trapeze reads version %u)",
                        version, SNAPSHOT_FORMAT_VERSION);
    if (size < HEADER_BYTES + CRC_BYTES) return bad_file(c, s, "snapshot file is truncated (no header)");
    size_t body = size - CRC_BYTES;
    uint32_t want = get_u32(data + body), got = snapshot_crc32(data, body);
    if (want != got)
        return bad_file(c, s, "snapshot file is damaged: checksum %08x, its bytes give %08x", want, got);

    uint32_t count = get_u32(data + 12);
    if (count > (body - HEADER_BYTES) / (SECTION_FIXED_BYTES + 1))
        return bad_file(c, s, "snapshot header: section count %u does not fit in the file", count);
    size_t at = HEADER_BYTES;
    for (uint32_t k = 0; k < count; k++) {
        if (body - at < 2) return bad_file(c, s, "section %u of %u: truncated", k + 1, count);
        uint16_t nlen = get_u16(data + at);
        at += 2;
        if (nlen == 0 || nlen > SNAPSHOT_NAME_MAX)
            return bad_file(c, s, "section %u of %u: name length %u is not 1-%d", k + 1, count, nlen,
                            SNAPSHOT_NAME_MAX);
        if (body - at < (size_t)nlen + 8) return bad_file(c, s, "section %u of %u: truncated", k + 1, count);
        char name[SNAPSHOT_NAME_MAX + 1];
        memcpy(name, data + at, nlen);
        name[nlen] = 0;
        at += nlen;
        for (int i = 0; i < nlen; i++)
            if (name[i] < 0x21 || name[i] > 0x7E)
                return bad_file(c, s, "section %u of %u: its name has a byte %02x that is not printable", k + 1,
                                count, (unsigned char)name[i]);
        uint32_t sv = get_u32(data + at), len = get_u32(data + at + 4);
        at += 8;
        if (len > body - at)
            return bad_file(c, s, "section %s: size %u runs past the end of the file", name, len);
        if (snapshot_find(s, name)) return bad_file(c, s, "section %s: appears twice", name);
        if (snapshot_put(s, name, sv, data + at, len) < 0) return bad_file(c, s, "out of memory");
        at += len;
    }
    if (at != body)
        return bad_file(c, s, "snapshot file has %zu bytes after its %u sections", body - at, count);
    return 0;
}

int snapshot_read_file(struct snapshot *s, const char *path, struct snapshot_check *c)
{
    snapshot_init(s);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        snprintf(c->why, sizeof c->why, "%s", strerror(e));
        if (fd >= 0) close(fd);
        return -e;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(c->why, sizeof c->why, "not a regular file");
        return -EINVAL;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *data = malloc(size ? size : 1);
    if (!data) {
        close(fd);
        snprintf(c->why, sizeof c->why, "out of memory (the file has %zu bytes)", size);
        return -ENOMEM;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    int r = snapshot_parse(s, data, got, c);
    free(data);
    return r;
}
