/*
 * registry.c - the board's list of devices, and its part of a snapshot.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine/machine.h"
#include "base/snapshot.h"

int machine_add_device(struct machine *m, const struct machine_device *d)
{
    if (m->device_count >= MACHINE_MAX_DEVICES) return -ENOSPC;
    m->devices[m->device_count++] = *d;
    return 0;
}

const struct machine_device *machine_find_device(const struct machine *m, const char *name)
{
    for (int k = 0; k < m->device_count; k++)
        if (strcmp(m->devices[k].name, name) == 0) return &m->devices[k];
    return NULL;
}

/* Board-level state besides RAM and devices. */
struct board_state {
    uint32_t ram_size;
    uint8_t a20_enabled;
    uint8_t pad[3];
    uint64_t clock_ns;
};

/*
 * The "ram" section.
 *
 *   version 1 (older files, still loaded): RAM as it is, ram_size bytes.
 *   version 2 (written now): only the 4 KiB pages that hold a non-zero
 *     byte, as QEMU's migration stream leaves zero pages out (it sends a
 *     "zero page" flag instead of the data): a booted 128 MiB guest is
 *     mostly untouched RAM, so its snapshot shrinks from 134 MB to what
 *     the guest wrote.
 *
 *       u32 ram_size                      (bytes; equal to the board's)
 *       then per non-zero page, ascending: u32 page number (address / 4096),
 *                                          4096 bytes (fewer for a last
 *                                          partial page)
 *
 *     Loading clears RAM first, so a page left out reads as zeros.
 */
#define RAM_PAGE 4096u
#define RAM_SECTION_SPARSE 2u

static bool page_is_zero(const uint8_t *p, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (p[k]) return false;
    return true;
}

static size_t page_bytes(uint32_t ram_size, uint32_t page)
{
    size_t left = ram_size - (size_t)page * RAM_PAGE;
    return left < RAM_PAGE ? left : RAM_PAGE;
}

static int save_ram(struct machine *m, struct snapshot *s)
{
    const uint8_t *ram = m->bus.ram;
    uint32_t size = m->bus.ram_size;
    uint32_t pages = (uint32_t)(((uint64_t)size + RAM_PAGE - 1) / RAM_PAGE);
    size_t len = 4;
    for (uint32_t p = 0; p < pages; p++)
        if (!page_is_zero(ram + (size_t)p * RAM_PAGE, page_bytes(size, p)))
            len += 4 + page_bytes(size, p);
    uint8_t *blob = malloc(len), *w = blob;
    if (!blob) return -ENOMEM;
    memcpy(w, &size, 4);
    w += 4;
    for (uint32_t p = 0; p < pages; p++) {
        size_t n = page_bytes(size, p);
        const uint8_t *src = ram + (size_t)p * RAM_PAGE;
        if (page_is_zero(src, n)) continue;
        memcpy(w, &p, 4);
        memcpy(w + 4, src, n);
        w += 4 + n;
    }
    int r = snapshot_put(s, "ram", RAM_SECTION_SPARSE, blob, len);
    free(blob);
    return r;
}

/* The whole RAM image from the "ram" section (either version) into a new
   buffer, checked before anything is loaded.  NULL and *why on failure. */
static uint8_t *decode_ram(const struct snapshot_section *sec, uint32_t ram_size, const char **why)
{
    if (sec->version == 1) {
        if (sec->size != ram_size) { *why = "the snapshot's RAM has the wrong size"; return NULL; }
        uint8_t *img = malloc(ram_size);
        if (!img) { *why = "out of memory"; return NULL; }
        memcpy(img, sec->data, ram_size);
        return img;
    }
    if (sec->version != RAM_SECTION_SPARSE) {
        *why = "the snapshot's RAM is in a newer format than this trapeze reads";
        return NULL;
    }
    uint32_t size;
    if (sec->size < 4 || (memcpy(&size, sec->data, 4), size != ram_size)) {
        *why = "the snapshot's RAM has the wrong size";
        return NULL;
    }
    uint8_t *img = calloc(1, ram_size);   /* the pages left out are zeros */
    if (!img) { *why = "out of memory"; return NULL; }
    uint32_t pages = (uint32_t)(((uint64_t)ram_size + RAM_PAGE - 1) / RAM_PAGE);
    size_t at = 4;
    int64_t last = -1;
    while (at < sec->size) {
        uint32_t p;
        if (sec->size - at < 4) break;
        memcpy(&p, sec->data + at, 4);
        if (p >= pages || (int64_t)p <= last || sec->size - at - 4 < page_bytes(ram_size, p)) break;
        memcpy(img + (size_t)p * RAM_PAGE, sec->data + at + 4, page_bytes(ram_size, p));
        at += 4 + page_bytes(ram_size, p);
        last = p;
    }
    if (at != sec->size) {
        *why = "the snapshot's RAM section is corrupt";
        free(img);
        return NULL;
    }
    return img;
}

int machine_save(struct machine *m, struct snapshot *s, const char **why)
{
    struct board_state b = { .ram_size = m->bus.ram_size, .a20_enabled = bus_a20_enabled(&m->bus),
                             .clock_ns = vclock_now(&m->clock) };
    int r = snapshot_put(s, "board", 1, &b, sizeof b);
    if (!r) r = save_ram(m, s);
    for (int k = 0; k < m->device_count && !r; k++) {
        const struct machine_device *d = &m->devices[k];
        if (d->save) r = d->save(d->opaque, s);
    }
    if (r) *why = r == -ENOMEM ? "out of memory" : "a device could not save its state";
    return r;
}

/* The "board" section: RAM size and A20 as this board has them. */
static int check_board(const struct machine *m, const struct board_state *b, struct snapshot_check *c)
{
    if (b->ram_size != m->bus.ram_size)
        return snapshot_refuse(c, "board", "ram_size", "%u bytes, this machine has %u (-m)", b->ram_size,
                               m->bus.ram_size);
    if (b->a20_enabled > 1)
        return snapshot_refuse(c, "board", "a20_enabled", "%u is not a boolean (0 or 1)", b->a20_enabled);
    /* The clock's ns: below 2^62 (146 years), so adding to it cannot overflow. */
    return snapshot_check_range(c, "board", "clock_ns", b->clock_ns, 0, (uint64_t)1 << 62);
}

int machine_load(struct machine *m, const struct snapshot *s, struct x86_state *cpu, struct snapshot_check *c)
{
    struct board_state b;
    struct x86_state st;
    bool apply = c->apply;
    int r = snapshot_take(s, "board", 1, &b, sizeof b, c);
    if (!r) r = check_board(m, &b, c);
    if (!r && cpu) r = snapshot_take(s, MACHINE_CPU_SECTION, MACHINE_CPU_SECTION_VERSION, &st, sizeof st, c);
    if (!r && cpu) r = machine_check_cpu_state(&st, c);
    if (r) return r;
    const struct snapshot_section *ram = snapshot_find(s, "ram");
    if (!ram) return snapshot_refuse(c, "ram", NULL, "missing from the snapshot");
    const char *why;
    uint8_t *image = decode_ram(ram, m->bus.ram_size, &why);
    if (!image) return snapshot_refuse(c, "ram", NULL, "%s", why);

    /* First every device checks its sections, changing nothing ... */
    c->apply = false;
    for (int k = 0; k < m->device_count && !r; k++) {
        const struct machine_device *d = &m->devices[k];
        if (d->load) r = d->load(d->opaque, s, c);
    }
    c->apply = apply;
    if (r || !apply) {
        free(image);
        return r;
    }
    /* ... then, all of them good, each loads (what was checked cannot fail). */
    for (int k = 0; k < m->device_count; k++) {
        const struct machine_device *d = &m->devices[k];
        if (d->load && d->load(d->opaque, s, c) < 0) {
            fprintf(stderr, "trapeze: %s:%d: device %s refused at loading what it accepted at checking: %s\n",
                    __FILE__, __LINE__, d->name, c->why);
            abort();
        }
    }
    /* Through the bus, so decoded code of the old RAM is dropped. */
    bus_write_block(&m->bus, 0, image, m->bus.ram_size);
    free(image);
    bus_set_a20(&m->bus, b.a20_enabled);
    vclock_set_now(&m->clock, b.clock_ns);
    if (cpu) *cpu = st;
    return 0;
}
