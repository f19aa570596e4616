/*
 * registry.c - the board's list of devices, and its part of a snapshot.
 */
#include <errno.h>
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

int machine_save(struct machine *m, struct snapshot *s, const char **why)
{
    struct board_state b = { .ram_size = m->bus.ram_size, .a20_enabled = bus_a20_enabled(&m->bus),
                             .clock_ns = vclock_now(&m->clock) };
    int r = snapshot_put(s, "board", 1, &b, sizeof b);
    if (!r) r = snapshot_put(s, "ram", 1, m->bus.ram, m->bus.ram_size);
    for (int k = 0; k < m->device_count && !r; k++) {
        const struct machine_device *d = &m->devices[k];
        if (d->save) r = d->save(d->opaque, s);
    }
    if (r) *why = r == -ENOMEM ? "out of memory" : "a device could not save its state";
    return r;
}

int machine_load(struct machine *m, const struct snapshot *s, const char **why)
{
    struct board_state b;
    if (snapshot_get(s, "board", 1, &b, sizeof b) < 0) {
        *why = "the snapshot has no board state";
        return -EINVAL;
    }
    if (b.ram_size != m->bus.ram_size) {
        *why = "the snapshot was taken with a different RAM size (-m)";
        return -EINVAL;
    }
    const struct snapshot_section *ram = snapshot_find(s, "ram");
    if (!ram || ram->size != m->bus.ram_size) {
        *why = "the snapshot's RAM is missing or has the wrong size";
        return -EINVAL;
    }
    for (int k = 0; k < m->device_count; k++) {
        const struct machine_device *d = &m->devices[k];
        if (d->load && d->load(d->opaque, s) < 0) {
            *why = "a device's state is missing from the snapshot or has another version";
            return -EINVAL;
        }
    }
    /* Through the bus, so decoded code of the old RAM is dropped. */
    bus_write_block(&m->bus, 0, ram->data, ram->size);
    bus_set_a20(&m->bus, b.a20_enabled);
    vclock_set_now(&m->clock, b.clock_ns);
    return 0;
}
