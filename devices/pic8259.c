/*
 * pic8259.c - the 8259A pair of the PC/AT (see pic8259.h).
 *
 * "Data sheet" below is the Intel 8259A Programmable Interrupt Controller
 * data sheet (231468); "PIIX" is the Intel 82371FB/SB PIIX/PIIX3 data sheet.
 *
 * Model of one chip:
 *   - IRR: in edge mode a latch set by a low-to-high transition of the IR
 *     pin; in level mode it follows the pin.  In both modes the request
 *     must stay high until the INTA sequence ("Edge and Level Triggered
 *     Modes": if it goes away first the 8259A answers with IR7, a
 *     "default IR7" that sets no ISR bit), so lowering a pin clears its
 *     IRR bit.
 *   - Priority: IR (lowest_priority + 1) & 7 is the highest; fully nested
 *     mode after ICW1 (IR0 highest).  A request is served when unmasked and
 *     of higher priority than every ISR bit (the special mask mode ignores
 *     ISR bits whose IMR bit is set; the special fully nested mode lets a
 *     master's slave input interrupt its own ISR level).
 *   - The INTA sequence (pic_acknowledge): the highest request moves from
 *     IRR to ISR (not in AEOI mode) and its vector is returned; when it is
 *     a cascaded IR the slave does the same and supplies the vector.
 */
#include "devices/pic8259.h"

#include <string.h>

#include "base/snapshot.h"

/* PIIX ELCR1/ELCR2: IRQ 0, 1, 2, 8 and 13 are edge only (reserved bits). */
#define ELCR1_MASK 0xF8
#define ELCR2_MASK 0xDE

/* The IR bits that are level triggered: LTIM for all, or the ELCR per IR
 * (the PIIX replaces LTIM with the ELCR; honouring both keeps a lone
 * 8259A programmed with LTIM correct). */
static uint8_t chip_level_bits(const struct pic8259_chip *c)
{
    return (c->icw1 & PIC_ICW1_LTIM) ? 0xFF : c->elcr;
}

/* IRR as the data sheet defines it: level-mode bits follow the pins. */
static uint8_t chip_irr(const struct pic8259_chip *c)
{
    uint8_t level = chip_level_bits(c);
    return (uint8_t)((c->irr & ~level) | (c->ir_levels & level));
}

/* Priority of 'ir': 0 is the highest, 7 the lowest. */
static int chip_priority(const struct pic8259_chip *c, int ir)
{
    return (ir - c->lowest_priority - 1) & 7;
}

/* The IR with the highest priority among 'bits', or -1. */
static int chip_highest(const struct pic8259_chip *c, uint8_t bits)
{
    for (int k = 0; k < 8; k++) {
        int ir = (c->lowest_priority + 1 + k) & 7;
        if (bits & (1u << ir)) return ir;
    }
    return -1;
}

/* The request the chip would present on INT now, or -1.  In SFNM (a master
 * with slaves) a slave's IR in service does not block that IR (below). */
static int chip_pending(const struct pic8259_chip *c)
{
    if (c->init_step) return -1;   /* not initialized: INT stays low */
    int ir = chip_highest(c, (uint8_t)(chip_irr(c) & ~c->imr));
    if (ir < 0) return -1;
    uint8_t in_service = c->isr;
    if (c->special_mask) in_service &= (uint8_t)~c->imr;   /* OCW3 SMM */
    int busy = chip_highest(c, in_service);
    if (busy < 0) return ir;
    if (chip_priority(c, ir) < chip_priority(c, busy)) return ir;
    /* Special fully nested mode (ICW4 SFNM, data sheet "Special Fully
     * Nested Mode"): a slave in service may interrupt again with a
     * higher-priority request of its own, i.e. on the same master IR. */
    if (ir == busy && (c->icw4 & PIC_ICW4_SFNM) && !(c->icw1 & PIC_ICW1_SNGL) &&
        (c->icw3 & (1u << ir)))
        return ir;
    return -1;
}

/* Drive one IR pin of one chip. */
static void chip_set_input(struct pic8259_chip *c, int ir, bool level)
{
    uint8_t bit = (uint8_t)(1u << ir);
    if (level) {
        if (!(c->ir_levels & bit)) c->irr |= bit;   /* the rising edge */
        c->ir_levels |= bit;
    } else {
        c->ir_levels &= (uint8_t)~bit;
        c->irr &= (uint8_t)~bit;                    /* withdrawn before INTA */
    }
}

/* The slave's INT to master IR2, then the master's INT to the CPU. */
static void pic_update(struct pic8259 *p)
{
    chip_set_input(&p->master, PIC_CASCADE_IR, chip_pending(&p->slave) >= 0);
    p->intr = chip_pending(&p->master) >= 0;
}

/* The vector a chip puts on the bus in the INTA cycle that carries it. */
static int chip_vector(const struct pic8259_chip *c, int ir)
{
    if (c->icw4 & PIC_ICW4_UPM)
        return (c->icw2 & 0xF8) | ir;   /* 8086 mode: T7-T3 and the level */
    /* MCS-80/85 mode: the 8259A sends CALL, then the routine's address low
     * byte, then A15-A8.  An x86 reads its vector from the second INTA
     * cycle, so it gets the low address byte (data sheet figure 3/4). */
    if (c->icw1 & PIC_ICW1_ADI)
        return (c->icw1 & 0xE0) | (ir << 2);   /* interval 4 */
    return (c->icw1 & 0xC0) | (ir << 3);       /* interval 8 */
}

/* The INTA (or poll) of 'ir' on one chip: IRR -> ISR (AEOI: ISR untouched,
 * and with rotate-in-AEOI the level becomes the lowest). */
static void chip_acknowledge(struct pic8259_chip *c, int ir)
{
    uint8_t bit = (uint8_t)(1u << ir);
    c->irr &= (uint8_t)~bit;
    if (c->icw4 & PIC_ICW4_AEOI) {
        if (c->rotate_in_aeoi) c->lowest_priority = (uint8_t)ir;
    } else {
        c->isr |= bit;
    }
}

void pic_set_irq(struct pic8259 *p, int irq, bool level)
{
    if (irq < 0 || irq > 15) return;
    /* Master IR2 carries the slave: the ISA bus's IRQ2 pin is wired to
     * slave IR1 on the AT ("IRQ 2/9", IBM PC/AT Technical Reference). */
    if (irq == PIC_CASCADE_IR) irq = 9;
    if (irq < 8) chip_set_input(&p->master, irq, level);
    else chip_set_input(&p->slave, irq - 8, level);
    pic_update(p);
}

void pic_raise_irq(void *opaque, int irq) { pic_set_irq(opaque, irq, true); }
void pic_lower_irq(void *opaque, int irq) { pic_set_irq(opaque, irq, false); }

bool pic_intr_pending(void *opaque)
{
    return ((struct pic8259 *)opaque)->intr;
}

int pic_acknowledge(void *opaque)
{
    struct pic8259 *p = opaque;
    struct pic8259_chip *m = &p->master, *s = &p->slave;
    int vector;

    int ir = chip_pending(m);
    if (ir < 0) {
        /* Nothing to serve by the INTA: the default IR7, no ISR bit. */
        p->intr = false;
        return chip_vector(m, 7);
    }
    chip_acknowledge(m, ir);
    if (!(m->icw1 & PIC_ICW1_SNGL) && (m->icw3 & (1u << ir))) {
        /* Cascade: the slave whose ID matches drives the vector. */
        int sir = chip_pending(s);
        if (sir < 0) {
            vector = chip_vector(s, 7);   /* the slave's default IR7 (IRQ 15) */
        } else {
            chip_acknowledge(s, sir);
            vector = chip_vector(s, sir);
        }
        /* The slave's INT falls with the INTA sequence; a request still
         * waiting there reaches the master again as a new edge. */
        chip_set_input(m, PIC_CASCADE_IR, false);
    } else {
        vector = chip_vector(m, ir);
    }
    pic_update(p);
    return vector;
}

/* ---- the command words ---- */

static void chip_write_icw1(struct pic8259_chip *c, uint8_t v)
{
    /* Data sheet "Initialization Command Words", ICW1 effects a-f. */
    c->icw1 = v;
    c->init_step = 2;
    c->irr &= (uint8_t)chip_level_bits(c);  /* a: edge sense reset (a new rising edge needed) */
    c->imr = 0;                       /* b: IMR cleared */
    c->lowest_priority = 7;           /* c: IR7 lowest */
    c->icw3 = 7;                      /* d: slave mode address 7 */
    c->special_mask = false;          /* e: special mask mode off, */
    c->read_isr = false;              /*    status read = IRR */
    c->poll = false;
    c->rotate_in_aeoi = false;
    if (!(v & PIC_ICW1_IC4)) c->icw4 = 0;   /* f: ICW4 functions zero */
}

/* Data byte on A0 = 1: the next ICW, or OCW1. */
static void chip_write_data(struct pic8259_chip *c, uint8_t v)
{
    switch (c->init_step) {
    case 2:
        c->icw2 = v;
        if (!(c->icw1 & PIC_ICW1_SNGL)) c->init_step = 3;
        else c->init_step = (c->icw1 & PIC_ICW1_IC4) ? 4 : 0;
        break;
    case 3:
        c->icw3 = v;
        c->init_step = (c->icw1 & PIC_ICW1_IC4) ? 4 : 0;
        break;
    case 4:
        c->icw4 = v;
        c->init_step = 0;
        break;
    default:
        c->imr = v;                   /* OCW1 */
        break;
    }
}

/* OCW2: R SL EOI (data sheet figure 8, "Operation Command Word Format"). */
static void chip_write_ocw2(struct pic8259_chip *c, uint8_t v)
{
    int level = v & PIC_OCW2_LEVEL;
    int ir;

    switch (v >> 5) {
    case 1:   /* 001 non-specific EOI: the highest ISR bit */
    case 5:   /* 101 rotate on non-specific EOI */
        ir = chip_highest(c, c->isr);
        if (ir < 0) break;
        c->isr &= (uint8_t)~(1u << ir);
        if (v >> 5 == 5) c->lowest_priority = (uint8_t)ir;
        break;
    case 3:   /* 011 specific EOI */
    case 7:   /* 111 rotate on specific EOI */
        c->isr &= (uint8_t)~(1u << level);
        if (v >> 5 == 7) c->lowest_priority = (uint8_t)level;
        break;
    case 4: c->rotate_in_aeoi = true; break;             /* 100 set rotate in AEOI */
    case 0: c->rotate_in_aeoi = false; break;            /* 000 clear rotate in AEOI */
    case 6: c->lowest_priority = (uint8_t)level; break;  /* 110 set priority */
    case 2: break;                                       /* 010 no operation */
    }
}

static void chip_write_ocw3(struct pic8259_chip *c, uint8_t v)
{
    if (v & PIC_OCW3_ESMM) c->special_mask = (v & PIC_OCW3_SMM) != 0;
    if (v & PIC_OCW3_RR) c->read_isr = (v & PIC_OCW3_RIS) != 0;
    c->poll = (v & PIC_OCW3_P) != 0;
}

static void chip_write(struct pic8259 *p, struct pic8259_chip *c, uint32_t offset, uint8_t v)
{
    if (offset & 1) chip_write_data(c, v);
    else if (v & PIC_ICW1_INIT) chip_write_icw1(c, v);
    else if (v & PIC_OCW3_BIT) chip_write_ocw3(c, v);
    else chip_write_ocw2(c, v);
    pic_update(p);
}

static uint8_t chip_read(struct pic8259 *p, struct pic8259_chip *c, uint32_t offset)
{
    if (offset & 1) return c->imr;
    if (c->poll) {
        /* Poll word (data sheet "The Poll Command"): I (bit 7) and W2-W0,
         * the highest request; the read acts as an INTA. */
        c->poll = false;
        int ir = chip_pending(c);
        if (ir < 0) return 0;
        chip_acknowledge(c, ir);
        pic_update(p);
        return (uint8_t)(0x80 | ir);
    }
    return c->read_isr ? c->isr : chip_irr(c);
}

static uint32_t pic_master_read(void *opaque, uint32_t offset, unsigned size)
{
    struct pic8259 *p = opaque;
    return chip_read(p, &p->master, offset);
}

static void pic_master_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    struct pic8259 *p = opaque;
    chip_write(p, &p->master, offset, (uint8_t)value);
}

static uint32_t pic_slave_read(void *opaque, uint32_t offset, unsigned size)
{
    struct pic8259 *p = opaque;
    return chip_read(p, &p->slave, offset);
}

static void pic_slave_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    struct pic8259 *p = opaque;
    chip_write(p, &p->slave, offset, (uint8_t)value);
}

/* PIIX ELCR1 (0x4D0, IRQ 7-3) and ELCR2 (0x4D1, IRQ 15-14, 12-9). */
static uint32_t pic_elcr_read(void *opaque, uint32_t offset, unsigned size)
{
    struct pic8259 *p = opaque;
    return (offset & 1) ? p->slave.elcr : p->master.elcr;
}

static void pic_elcr_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    struct pic8259 *p = opaque;
    struct pic8259_chip *c = (offset & 1) ? &p->slave : &p->master;
    uint8_t old_level = chip_level_bits(c);
    c->elcr = (uint8_t)(value & c->elcr_mask);
    /* A pin turned edge keeps no stale level request. */
    c->irr &= (uint8_t)~(old_level & ~chip_level_bits(c));
    pic_update(p);
}

const struct io_ops pic_master_ops = { .read = pic_master_read, .write = pic_master_write };
const struct io_ops pic_slave_ops = { .read = pic_slave_read, .write = pic_slave_write };
const struct io_ops pic_elcr_ops = { .read = pic_elcr_read, .write = pic_elcr_write };

/* ---- reset, board registry ---- */

static void chip_reset(struct pic8259_chip *c, uint8_t elcr_mask)
{
    uint8_t levels = c->ir_levels;
    memset(c, 0, sizeof *c);
    c->ir_levels = levels;
    c->lowest_priority = 7;
    c->elcr_mask = elcr_mask;
    /* The power-on state is undefined until ICW1: wait for it. */
    c->init_step = 2;
}

void pic_reset(struct pic8259 *p)
{
    chip_reset(&p->master, ELCR1_MASK);
    chip_reset(&p->slave, ELCR2_MASK);
    pic_update(p);
}

void pic_init(struct pic8259 *p)
{
    memset(p, 0, sizeof *p);
    pic_reset(p);
}

void pic_reset_device(void *opaque) { pic_reset(opaque); }

int pic_save(void *opaque, struct snapshot *s)
{
    struct pic8259 *p = opaque;
    int r = snapshot_put(s, "pic0", 1, &p->master, sizeof p->master);
    return r ? r : snapshot_put(s, "pic1", 1, &p->slave, sizeof p->slave);
}

/* A chip's state as this model can leave it; 'elcr_mask' is the board's. */
static int chip_check(const struct pic8259_chip *v, const char *sec, uint8_t elcr_mask, struct snapshot_check *c)
{
    int r = 0;
    if (v->init_step != 0 && (v->init_step < 2 || v->init_step > 4))
        return snapshot_refuse(c, sec, "init_step", "%u is not 0, 2, 3 or 4", v->init_step);
    if (!r) r = snapshot_check_range(c, sec, "lowest_priority", v->lowest_priority, 0, 7);
    if (!r && v->elcr_mask != elcr_mask)
        r = snapshot_refuse(c, sec, "elcr_mask", "%02x, this board's ELCR has %02x", v->elcr_mask, elcr_mask);
    if (!r && (v->elcr & ~elcr_mask))
        r = snapshot_refuse(c, sec, "elcr", "%02x sets bits the ELCR lacks (mask %02x)", v->elcr, elcr_mask);
    if (!r) r = snapshot_check_bool(c, sec, "read_isr", &v->read_isr);
    if (!r) r = snapshot_check_bool(c, sec, "poll", &v->poll);
    if (!r) r = snapshot_check_bool(c, sec, "special_mask", &v->special_mask);
    if (!r) r = snapshot_check_bool(c, sec, "rotate_in_aeoi", &v->rotate_in_aeoi);
    return r;
}

int pic_load(void *opaque, const struct snapshot *s, struct snapshot_check *c)
{
    struct pic8259 *p = opaque;
    struct pic8259_chip m, sl;
    int r = snapshot_take(s, "pic0", 1, &m, sizeof m, c);
    if (!r) r = snapshot_take(s, "pic1", 1, &sl, sizeof sl, c);
    if (!r) r = chip_check(&m, "pic0", ELCR1_MASK, c);
    if (!r) r = chip_check(&sl, "pic1", ELCR2_MASK, c);
    if (r || !c->apply) return r;
    p->master = m;
    p->slave = sl;
    pic_update(p);
    return 0;
}

static void chip_info(const struct pic8259_chip *c, const char *name, int base_irq, FILE *out)
{
    fprintf(out, "%s: IRR %02x ISR %02x IMR %02x ELCR %02x  highest priority IRQ %d\n",
            name, chip_irr(c), c->isr, c->imr, c->elcr,
            base_irq + ((c->lowest_priority + 1) & 7));
    if (c->init_step) {
        fprintf(out, "  initializing: ICW%d expected next\n", c->init_step);
        return;
    }
    fprintf(out, "  ICW1 %02x: %s triggered, %s%s\n", c->icw1,
            (c->icw1 & PIC_ICW1_LTIM) ? "level" : "edge",
            (c->icw1 & PIC_ICW1_SNGL) ? "single" : "cascade",
            (c->icw1 & PIC_ICW1_IC4) ? ", ICW4" : "");
    fprintf(out, "  ICW2 %02x: vectors %02x-%02x\n", c->icw2, c->icw2 & 0xF8, (c->icw2 & 0xF8) | 7);
    if (!(c->icw1 & PIC_ICW1_SNGL))
        fprintf(out, "  ICW3 %02x\n", c->icw3);
    fprintf(out, "  ICW4 %02x: %s mode%s%s%s\n", c->icw4,
            (c->icw4 & PIC_ICW4_UPM) ? "8086" : "MCS-80/85",
            (c->icw4 & PIC_ICW4_AEOI) ? ", auto-EOI" : "",
            (c->icw4 & PIC_ICW4_SFNM) ? ", special fully nested" : "",
            (c->icw4 & PIC_ICW4_BUF) ? ", buffered" : "");
    fprintf(out, "  read %s%s%s%s\n", c->read_isr ? "ISR" : "IRR",
            c->special_mask ? ", special mask mode" : "",
            c->rotate_in_aeoi ? ", rotate in AEOI" : "",
            c->poll ? ", poll pending" : "");
}

void pic_info(void *opaque, FILE *out)
{
    struct pic8259 *p = opaque;
    chip_info(&p->master, "master (0x20)", 0, out);
    chip_info(&p->slave, "slave (0xA0)", 8, out);
    fprintf(out, "INTR %s\n", p->intr ? "high" : "low");
}
