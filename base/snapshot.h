/*
 * snapshot.h - the machine's state as a versioned, checksummed file
 * (savevm/loadvm, moving a guest between engines).
 *
 * A snapshot is a list of named sections, each a blob of bytes with its
 * own version.  Every device saves a plain struct of its register state
 * (no pointers) under its own name, e.g. "pic0", "pit", "com1":
 *
 *   "TRPZSNAP" u32 format-version (2) u32 section-count
 *   section: u16 name-length (1-64), name bytes, u32 version, u32 size, bytes
 *   u32 CRC-32 (IEEE 802.3, as zlib's crc32) of every byte before it
 *
 * Multi-byte fields are little-endian (the host order of every x86 host).
 * The file is read whole and its checksum checked before any section is
 * looked at; a file of format version 1 (no checksum) is refused.
 *
 * Writing goes to an unnamed file in the target's folder (O_TMPFILE),
 * fsync'd, linked as FILE.tmp, renamed over FILE, and the folder fsync'd:
 * a crash or a kill never leaves half a snapshot under the real name, and
 * a save killed before the link leaves nothing behind.  A stale FILE.tmp
 * (a save killed between link and rename, or a file system without
 * O_TMPFILE) is removed, never written through (it may be a symlink).
 *
 * Loading is check first, apply second (machine_load): a device's load
 * hook reads its sections into local copies, range-checks every field
 * (booleans 0 or 1, enums, indices, counts, sizes), and changes the
 * device only when asked to apply.  A refusal is one line in
 * snapshot_check.why, "section NAME: field FIELD: reason".
 *
 * Worked example, in a device:
 *   int pit_save(void *opaque, struct snapshot *s)
 *   { return snapshot_put(s, "pit", 1, &p->state, sizeof p->state); }
 *   int pit_load(void *opaque, const struct snapshot *s, struct snapshot_check *c)
 *   {
 *       struct pit_state v;
 *       int r = snapshot_take(s, "pit", 1, &v, sizeof v, c);
 *       if (!r && v.mode > 5) r = snapshot_refuse(c, "pit", "mode", "%u is not 0-5", v.mode);
 *       if (!r && c->apply) p->state = v;
 *       return r;
 *   }
 */
#ifndef TRAPEZE_SNAPSHOT_H
#define TRAPEZE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAPSHOT_FORMAT_VERSION 2
#define SNAPSHOT_NAME_MAX 64

struct snapshot_section {
    char *name;
    uint32_t version;
    uint32_t size;
    uint8_t *data;
};

struct snapshot {
    struct snapshot_section *sections;
    int count, capacity;
};

/* What a load is asked to do, and where a refusal says why. */
struct snapshot_check {
    bool apply;        /* false: check only, change nothing */
    char why[200];     /* one line, set when a call returns an error */
};

void snapshot_init(struct snapshot *s);
void snapshot_free(struct snapshot *s);

/* Add (or replace) section 'name'. Returns 0, -EINVAL (name empty or
   longer than SNAPSHOT_NAME_MAX) or -ENOMEM. */
int snapshot_put(struct snapshot *s, const char *name, uint32_t version, const void *data, size_t size);
/*
 * Copy section 'name' into 'data'.  Returns 0, -ENOENT when absent,
 * -EINVAL when its version or size differs from what the caller expects.
 */
int snapshot_get(const struct snapshot *s, const char *name, uint32_t version, void *data, size_t size);
/* snapshot_get, a failure said in c->why ("section pit: missing", ...). */
int snapshot_take(const struct snapshot *s, const char *name, uint32_t version, void *data, size_t size,
                  struct snapshot_check *c);
/* The section itself (for variable-size data such as RAM), or NULL. */
const struct snapshot_section *snapshot_find(const struct snapshot *s, const char *name);

/*
 * Refusals: write "section SECTION: field FIELD: <fmt...>" to c->why and
 * return -EINVAL.  The checks return 0 when the value is good.
 */
int snapshot_refuse(struct snapshot_check *c, const char *section, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A bool field as stored: any byte but 0 or 1 is refused (read as a byte:
   loading a 2 as _Bool is undefined behaviour). */
int snapshot_check_bool(struct snapshot_check *c, const char *section, const char *field, const bool *b);
/* lo <= v <= hi */
int snapshot_check_range(struct snapshot_check *c, const char *section, const char *field, uint64_t v,
                         uint64_t lo, uint64_t hi);

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32(0, p, n)) of 'n' bytes. */
uint32_t snapshot_crc32(const void *p, size_t n);

/* File I/O.  Errors return -errno (-EINVAL for a bad file); 'why' gets a one-line reason. */
int snapshot_write_file(const struct snapshot *s, const char *path, const char **why);
int snapshot_read_file(struct snapshot *s, const char *path, struct snapshot_check *c);
/* The file's bytes as they are in memory (snapshot_read_file, the fuzz target). */
int snapshot_parse(struct snapshot *s, const uint8_t *data, size_t size, struct snapshot_check *c);
/* The bytes a file of 's' holds (checksum included), in a malloc'd buffer. */
int snapshot_serialize(const struct snapshot *s, uint8_t **data, size_t *size);

#endif
