/*
 * port92.c - System Control Port A (see port92.h).
 */
#include "devices/port92.h"

#include "base/snapshot.h"

static uint32_t port92_read(void *opaque, uint32_t offset, unsigned size)
{
    struct port92 *p = opaque;
    /* A20 reads back the gate as it is, whoever (8042, loader) set it last. */
    uint8_t v = (uint8_t)(p->value & ~PORT92_A20);
    if (board_line_sense(&p->a20))
        v |= PORT92_A20;
    return v;
}

static void port92_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    struct port92 *p = opaque;
    uint8_t old = p->value;

    p->value = (uint8_t)value;
    board_line_signal(&p->a20, (value & PORT92_A20) != 0);
    /* The reset fires on the 0 -> 1 transition of bit 0, as the PIIX does. */
    if ((value & PORT92_FAST_RESET) && !(old & PORT92_FAST_RESET))
        board_line_signal(&p->reset, 1);
}

const struct io_ops port92_ops = { .read = port92_read, .write = port92_write };

void port92_init(struct port92 *p, struct board_line reset, struct board_line a20)
{
    p->reset = reset;
    p->a20 = a20;
    port92_reset(p);
}

void port92_reset(struct port92 *p)
{
    p->value = board_line_sense(&p->a20) ? PORT92_A20 : 0;
}

/* ---- the board's registry ---- */

/* Saved: the bits as written (A20 itself is the board's, saved with it). */
int port92_save(void *opaque, struct snapshot *s)
{
    struct port92 *p = opaque;
    return snapshot_put(s, "port92", 1, &p->value, sizeof p->value);
}

/* Any byte is a value the guest can write. */
int port92_load(void *opaque, const struct snapshot *s, struct snapshot_check *c)
{
    struct port92 *p = opaque;
    uint8_t v;
    int r = snapshot_take(s, "port92", 1, &v, sizeof v, c);
    if (!r && c->apply) p->value = v;
    return r;
}

void port92_reset_device(void *opaque) { port92_reset(opaque); }

void port92_info(void *opaque, FILE *out)
{
    struct port92 *p = opaque;
    fprintf(out, "port 0x92: %02x (A20 %s, fast reset bit %d)\n", (uint8_t)port92_read(p, 0, 1),
            board_line_sense(&p->a20) ? "on" : "off", p->value & PORT92_FAST_RESET);
}
