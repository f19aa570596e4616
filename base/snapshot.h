/*
 * snapshot.h - the machine's state as a versioned file (savevm/loadvm,
 * moving a guest between engines).
 *
 * A snapshot is a list of named sections, each a blob of bytes with its
 * own version.  Every device saves a plain struct of its register state
 * (no pointers) under its own name, e.g. "pic0", "pit", "com1":
 *
 *   "TRPZSNAP" u32 format-version u32 section-count
 *   section: u16 name-length, name bytes, u32 version, u32 size, bytes
 *
 * Multi-byte fields are little-endian (the host order of every x86 host).
 * Writing goes to FILE.tmp then rename(2), so a crash never leaves half a
 * snapshot under the real name.
 *
 * Worked example, in a device:
 *   int pit_save(struct pit *p, struct snapshot *s)
 *   { return snapshot_put(s, "pit", 1, &p->state, sizeof p->state); }
 *   int pit_load(struct pit *p, const struct snapshot *s)
 *   { return snapshot_get(s, "pit", 1, &p->state, sizeof p->state); }
 */
#ifndef TRAPEZE_SNAPSHOT_H
#define TRAPEZE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#define SNAPSHOT_FORMAT_VERSION 1

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

void snapshot_init(struct snapshot *s);
void snapshot_free(struct snapshot *s);

/* Add (or replace) section 'name'. Returns 0 or -ENOMEM. */
int snapshot_put(struct snapshot *s, const char *name, uint32_t version, const void *data, size_t size);
/*
 * Copy section 'name' into 'data'.  Returns 0, -ENOENT when absent,
 * -EINVAL when its version or size differs from what the caller expects.
 */
int snapshot_get(const struct snapshot *s, const char *name, uint32_t version, void *data, size_t size);
/* The section itself (for variable-size data such as RAM), or NULL. */
const struct snapshot_section *snapshot_find(const struct snapshot *s, const char *name);

/* File I/O.  Errors return -errno; 'why' gets a one-line reason. */
int snapshot_write_file(const struct snapshot *s, const char *path, const char **why);
int snapshot_read_file(struct snapshot *s, const char *path, const char **why);

#endif
