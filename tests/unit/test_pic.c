/*
 * test_pic.c - the 8259A pair against the Intel 8259A data sheet (231468):
 * the expected values below are the data sheet's, written out by hand.
 */
#include "devices/pic8259.h"
#include "base/snapshot.h"
#include "tests/test.h"

static void out8(struct pic8259 *p, uint16_t port, uint8_t v)
{
    const struct io_ops *ops = port >= 0x4D0 ? &pic_elcr_ops : port >= 0xA0 ? &pic_slave_ops : &pic_master_ops;
    ops->write(p, port & 1, v, 1);
}

static uint8_t in8(struct pic8259 *p, uint16_t port)
{
    const struct io_ops *ops = port >= 0x4D0 ? &pic_elcr_ops : port >= 0xA0 ? &pic_slave_ops : &pic_master_ops;
    return (uint8_t)ops->read(p, port & 1, 1);
}

/* The PC remap: ICW1 0x11 (edge, cascade, IC4), ICW2 0x20/0x28, ICW3 4/2,
 * ICW4 'icw4'. */
static void remap(struct pic8259 *p, uint8_t icw4)
{
    pic_init(p);
    out8(p, 0x20, 0x11); out8(p, 0xA0, 0x11);
    out8(p, 0x21, 0x20); out8(p, 0xA1, 0x28);
    out8(p, 0x21, 0x04); out8(p, 0xA1, 0x02);
    out8(p, 0x21, icw4); out8(p, 0xA1, icw4);
}

static uint8_t read_isr(struct pic8259 *p, uint16_t port) { out8(p, port, 0x0B); return in8(p, port); }
static uint8_t read_irr(struct pic8259 *p, uint16_t port) { out8(p, port, 0x0A); return in8(p, port); }

TEST(pic_no_interrupt_before_icw1)
{
    struct pic8259 p;
    pic_init(&p);
    pic_raise_irq(&p, 0);
    CHECK(!pic_intr_pending(&p));
}

TEST(pic_icw_sequence_and_eoi)
{
    struct pic8259 p;
    remap(&p, 0x01);
    CHECK_EQ(in8(&p, 0x21), 0x00);          /* ICW1 cleared the IMR */
    pic_raise_irq(&p, 0);
    CHECK(pic_intr_pending(&p));
    CHECK_EQ(read_irr(&p, 0x20), 0x01);
    CHECK_EQ(pic_acknowledge(&p), 0x20);
    CHECK_EQ(read_isr(&p, 0x20), 0x01);
    CHECK_EQ(read_irr(&p, 0x20), 0x00);     /* edge: IRR bit moved to ISR */
    CHECK(!pic_intr_pending(&p));
    out8(&p, 0x20, 0x20);                   /* non-specific EOI */
    CHECK_EQ(read_isr(&p, 0x20), 0x00);
    CHECK(!pic_intr_pending(&p));           /* edge: still high, no new edge */
}

TEST(pic_fully_nested_priority)
{
    struct pic8259 p;
    remap(&p, 0x01);
    pic_raise_irq(&p, 3);
    pic_raise_irq(&p, 1);
    CHECK_EQ(pic_acknowledge(&p), 0x21);    /* IR0 highest ... IR7 lowest */
    CHECK(!pic_intr_pending(&p));           /* IR3 waits: IR1 in service */
    pic_raise_irq(&p, 0);
    CHECK(pic_intr_pending(&p));            /* a higher level nests */
    CHECK_EQ(pic_acknowledge(&p), 0x20);
    CHECK_EQ(read_isr(&p, 0x20), 0x03);
    out8(&p, 0x20, 0x20);                   /* clears the highest: IR0 */
    CHECK_EQ(read_isr(&p, 0x20), 0x02);
    out8(&p, 0x20, 0x61);                   /* specific EOI of IR1 */
    CHECK_EQ(read_isr(&p, 0x20), 0x00);
    CHECK_EQ(pic_acknowledge(&p), 0x23);
}

TEST(pic_imr_masks)
{
    struct pic8259 p;
    remap(&p, 0x01);
    out8(&p, 0x21, 0xFB);
    CHECK_EQ(in8(&p, 0x21), 0xFB);
    pic_raise_irq(&p, 4);
    CHECK(!pic_intr_pending(&p));
    CHECK_EQ(read_irr(&p, 0x20), 0x10);     /* requested, masked */
    out8(&p, 0x21, 0xEB);
    CHECK(pic_intr_pending(&p));
}

TEST(pic_rotate_on_nonspecific_eoi)
{
    struct pic8259 p;
    remap(&p, 0x01);
    pic_raise_irq(&p, 1);
    CHECK_EQ(pic_acknowledge(&p), 0x21);
    out8(&p, 0x20, 0xA0);                   /* rotate on non-specific EOI: IR1 lowest */
    pic_lower_irq(&p, 1);
    pic_raise_irq(&p, 1);
    pic_raise_irq(&p, 3);
    CHECK_EQ(pic_acknowledge(&p), 0x23);    /* order now 2 3 4 5 6 7 0 1 */
}

TEST(pic_rotate_on_specific_eoi_and_set_priority)
{
    struct pic8259 p;
    remap(&p, 0x01);
    out8(&p, 0x20, 0xC4);                   /* set priority: IR4 lowest, IR5 highest */
    pic_raise_irq(&p, 0);
    pic_raise_irq(&p, 6);
    CHECK_EQ(pic_acknowledge(&p), 0x26);
    out8(&p, 0x20, 0xE6);                   /* rotate on specific EOI 6: IR6 lowest */
    pic_raise_irq(&p, 7);
    CHECK_EQ(pic_acknowledge(&p), 0x27);    /* 7 now highest, before 0 */
}

TEST(pic_auto_eoi_and_rotate_in_aeoi)
{
    struct pic8259 p;
    remap(&p, 0x03);                        /* ICW4: 8086, AEOI */
    pic_raise_irq(&p, 2 + 1);
    CHECK_EQ(pic_acknowledge(&p), 0x23);
    CHECK_EQ(read_isr(&p, 0x20), 0x00);     /* no ISR bit in AEOI */
    out8(&p, 0x20, 0x80);                   /* set rotate in AEOI */
    pic_raise_irq(&p, 5);
    CHECK_EQ(pic_acknowledge(&p), 0x25);    /* IR5 becomes the lowest */
    pic_raise_irq(&p, 4);
    pic_lower_irq(&p, 5);
    pic_raise_irq(&p, 5);
    pic_raise_irq(&p, 6);
    CHECK_EQ(pic_acknowledge(&p), 0x26);    /* order 6 7 0 1 2 3 4 5 */
}

TEST(pic_spurious_irq7)
{
    struct pic8259 p;
    remap(&p, 0x01);
    pic_raise_irq(&p, 3);
    CHECK(pic_intr_pending(&p));
    pic_lower_irq(&p, 3);                   /* gone before INTA */
    CHECK_EQ(pic_acknowledge(&p), 0x27);    /* default IR7 */
    CHECK_EQ(read_isr(&p, 0x20), 0x00);     /* ... with no ISR bit */
}

TEST(pic_cascade_through_irq2)
{
    struct pic8259 p;
    remap(&p, 0x01);
    pic_raise_irq(&p, 12);
    CHECK(pic_intr_pending(&p));
    CHECK_EQ(read_irr(&p, 0x20), 0x04);     /* the slave's INT on master IR2 */
    CHECK_EQ(pic_acknowledge(&p), 0x2C);    /* the slave's vector */
    CHECK_EQ(read_isr(&p, 0x20), 0x04);
    CHECK_EQ(read_isr(&p, 0xA0), 0x10);
    pic_raise_irq(&p, 9);                   /* higher than IR4 on the slave */
    CHECK(!pic_intr_pending(&p));           /* master IR2 in service (no SFNM) */
    out8(&p, 0xA0, 0x20);
    out8(&p, 0x20, 0x20);
    CHECK(pic_intr_pending(&p));
    CHECK_EQ(pic_acknowledge(&p), 0x29);
}

TEST(pic_special_fully_nested)
{
    struct pic8259 p;
    remap(&p, 0x01);
    out8(&p, 0x20, 0x11); out8(&p, 0x21, 0x20); out8(&p, 0x21, 0x04); out8(&p, 0x21, 0x11);
    pic_raise_irq(&p, 12);
    CHECK_EQ(pic_acknowledge(&p), 0x2C);
    pic_raise_irq(&p, 9);                   /* SFNM: the slave's higher request passes */
    CHECK(pic_intr_pending(&p));
    CHECK_EQ(pic_acknowledge(&p), 0x29);
}

TEST(pic_level_triggered_by_elcr)
{
    struct pic8259 p;
    remap(&p, 0x01);
    out8(&p, 0x4D0, 0xFF);
    CHECK_EQ(in8(&p, 0x4D0), 0xF8);         /* IRQ 0-2 are edge only */
    out8(&p, 0x4D1, 0xFF);
    CHECK_EQ(in8(&p, 0x4D1), 0xDE);         /* IRQ 8 and 13 are edge only */
    pic_raise_irq(&p, 5);
    CHECK_EQ(pic_acknowledge(&p), 0x25);
    out8(&p, 0x20, 0x20);
    CHECK(pic_intr_pending(&p));            /* level still high: again */
    pic_lower_irq(&p, 5);
    CHECK(!pic_intr_pending(&p));
}

TEST(pic_level_triggered_by_ltim)
{
    struct pic8259 p;
    pic_init(&p);
    out8(&p, 0x20, 0x1B);                   /* LTIM, single, IC4 */
    out8(&p, 0x21, 0x40);
    out8(&p, 0x21, 0x01);
    pic_raise_irq(&p, 3);
    CHECK_EQ(pic_acknowledge(&p), 0x43);
    out8(&p, 0x20, 0x20);
    CHECK(pic_intr_pending(&p));
}

TEST(pic_poll_command)
{
    struct pic8259 p;
    remap(&p, 0x01);
    out8(&p, 0x20, 0x0C);
    CHECK_EQ(in8(&p, 0x20), 0x00);          /* no request: I = 0 */
    pic_raise_irq(&p, 6);
    out8(&p, 0x20, 0x0C);
    CHECK_EQ(in8(&p, 0x20), 0x86);          /* I = 1, W = 6 */
    CHECK_EQ(read_isr(&p, 0x20), 0x40);     /* the read acted as INTA */
}

TEST(pic_special_mask_mode)
{
    struct pic8259 p;
    remap(&p, 0x01);
    pic_raise_irq(&p, 1);
    CHECK_EQ(pic_acknowledge(&p), 0x21);
    pic_raise_irq(&p, 5);
    CHECK(!pic_intr_pending(&p));           /* lower priority: blocked */
    out8(&p, 0x21, 0x02);                   /* mask IR1 */
    out8(&p, 0x20, 0x68);                   /* ESMM + SMM */
    CHECK(pic_intr_pending(&p));            /* all other levels enabled */
    CHECK_EQ(pic_acknowledge(&p), 0x25);
    out8(&p, 0x20, 0x48);                   /* special mask mode off */
    out8(&p, 0x20, 0x65);                   /* specific EOI 5 */
    out8(&p, 0x20, 0x61);
    CHECK_EQ(read_isr(&p, 0x20), 0x00);
}

TEST(pic_mcs80_mode_vector)
{
    struct pic8259 p;
    pic_init(&p);
    out8(&p, 0x20, 0xB6);                   /* A7-A5 = 101, ADI (interval 4), single, no ICW4 */
    out8(&p, 0x21, 0x12);                   /* A15-A8 */
    pic_raise_irq(&p, 3);
    CHECK_EQ(pic_acknowledge(&p), 0xA0 | (3 << 2));   /* the second INTA byte */
}

TEST(pic_save_restore)
{
    struct pic8259 a, b;
    struct snapshot s;
    remap(&a, 0x01);
    out8(&a, 0x21, 0xB8);
    out8(&a, 0x4D0, 0x20);
    out8(&a, 0x20, 0xC3);
    pic_raise_irq(&a, 12);
    pic_raise_irq(&a, 0);
    CHECK_EQ(pic_acknowledge(&a), 0x20);
    pic_raise_irq(&a, 5);
    snapshot_init(&s);
    CHECK_EQ(pic_save(&a, &s), 0);
    pic_init(&b);
    CHECK_EQ(pic_load(&b, &s, &(struct snapshot_check){ .apply = true }), 0);
    CHECK(memcmp(&a.master, &b.master, sizeof a.master) == 0);
    CHECK(memcmp(&a.slave, &b.slave, sizeof a.slave) == 0);
    CHECK_EQ(pic_intr_pending(&a), pic_intr_pending(&b));
    CHECK_EQ(pic_acknowledge(&a), pic_acknowledge(&b));
    snapshot_free(&s);
}

TEST_MAIN()
