/*
 * port92.c - System Control Port A (see port92.h).
 */
#include "devices/port92.h"

#include "machine/machine.h"
#include "base/snapshot.h"

static uint32_t port92_read(void *opaque, uint32_t offset, unsigned size)
{
    struct port92 *p = opaque;
    /* A20 reads back the gate as it is, whoever (8042, loader) set it last. */
    uint8_t v = (uint8_t)(p->value & ~PORT92_A20);
    if (bus_a20_enabled(&p->machine->bus))
        v |= PORT92_A20;
    return v;
}

static void port92_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    struct port92 *p = opaque;
    uint8_t old = p->value;

    p->value = (uint8_t)value;
    bus_set_a20(&p->machine->bus, (value & PORT92_A20) != 0);
    /* The reset fires on the 0 -> 1 transition of bit 0, as the PIIX does. */
    if ((value & PORT92_FAST_RESET) && !(old & PORT92_FAST_RESET))
        machine_stop(p->machine, MACHINE_RESET_REQUEST);
}

const struct io_ops port92_ops = { .read = port92_read, .write = port92_write };

void port92_init(struct port92 *p, struct machine *m)
{
    p->machine = m;
    port92_reset(p);
}

void port92_reset(struct port92 *p)
{
    p->value = bus_a20_enabled(&p->machine->bus) ? PORT92_A20 : 0;
}

/* ---- the board's registry ---- */

/* Saved: the bits as written (A20 itself is the board's, saved with it). */
int port92_save(void *opaque, struct snapshot *s)
{
    struct port92 *p = opaque;
    return snapshot_put(s, "port92", 1, &p->value, sizeof p->value);
}

int port92_load(void *opaque, const struct snapshot *s)
{
    struct port92 *p = opaque;
    return snapshot_get(s, "port92", 1, &p->value, sizeof p->value);
}

void port92_reset_device(void *opaque) { port92_reset(opaque); }

void port92_info(void *opaque, FILE *out)
{
    struct port92 *p = opaque;
    fprintf(out, "port 0x92: %02x (A20 %s, fast reset bit %d)\n", (uint8_t)port92_read(p, 0, 1),
            bus_a20_enabled(&p->machine->bus) ? "on" : "off", p->value & PORT92_FAST_RESET);
}
