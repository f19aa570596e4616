/*
 * pic8259.h - the Intel 8259A Programmable Interrupt Controller, as the
 * PC/AT wires a pair of them (Intel 8259A data sheet, order 231468).
 *
 *   master  ports 0x20 (A0=0) and 0x21 (A0=1), IR0-IR7 = IRQ 0-7
 *   slave   ports 0xA0 and 0xA1, IR0-IR7 = IRQ 8-15, its INT pin on master IR2
 *   ELCR    ports 0x4D0 / 0x4D1: edge (0) / level (1) per IRQ (Intel 82371
 *           PIIX data sheet, "ELCR1/ELCR2"), as QEMU's PC has them
 *
 * Port A0=0 write: D4=1 ICW1; D4=0 D3=0 OCW2; D4=0 D3=1 OCW3.
 * Port A0=1 write: ICW2, ICW3, ICW4 while initializing, else OCW1 (the IMR).
 * Port A0=0 read: IRR or ISR (OCW3 RR/RIS), or the poll word after a poll
 * command; port A0=1 read: the IMR.
 *
 *   ICW1  A7 A6 A5 | 1 | LTIM | ADI | SNGL | IC4
 *   ICW2  T7-T3 (8086 mode: vector = T7-T3 | level)   / A15-A8 (MCS-80 mode)
 *   ICW3  master: S7-S0 (1 = a slave on that IR)     / slave: ID2-ID0
 *   ICW4  0 0 0 | SFNM | BUF | M/S | AEOI | uPM
 *   OCW2  R | SL | EOI | 0 0 | L2 L1 L0
 *   OCW3  0 | ESMM | SMM | 0 1 | P | RR | RIS
 *
 * Worked example (the remap every PC kernel does): out 0x20,0x11 (ICW1:
 * cascade, edge, ICW4 needed); out 0x21,0x20 (ICW2: vectors 0x20-0x27);
 * out 0x21,0x04 (ICW3: slave on IR2); out 0x21,0x01 (ICW4: 8086 mode).
 * IRQ0 rising then sets IRR bit 0; the CPU's INTA returns vector 0x20 and
 * moves the bit to the ISR; out 0x20,0x20 (non-specific EOI) clears it.
 */
#ifndef TRAPEZE_PIC8259_H
#define TRAPEZE_PIC8259_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mmu/bus.h"

#define PIC_MASTER_BASE 0x20
#define PIC_SLAVE_BASE  0xA0
#define PIC_ELCR_BASE   0x4D0
#define PIC_CASCADE_IR  2       /* the slave's INT pin is wired to master IR2 */

/* ICW1 bits (data sheet figure 7, "Initialization Command Word Format"). */
#define PIC_ICW1_IC4   0x01     /* 1: ICW4 will be written */
#define PIC_ICW1_SNGL  0x02     /* 1: single 8259A, no ICW3 */
#define PIC_ICW1_ADI   0x04     /* MCS-80 call address interval: 1 = 4, 0 = 8 */
#define PIC_ICW1_LTIM  0x08     /* 1: level triggered, 0: edge triggered */
#define PIC_ICW1_INIT  0x10     /* D4 = 1 marks ICW1 on A0 = 0 */
#define PIC_ICW1_A7_5  0xE0     /* MCS-80 mode: vector address A7-A5 */
/* ICW4 bits. */
#define PIC_ICW4_UPM   0x01     /* 1: 8086/8088 mode, 0: MCS-80/85 mode */
#define PIC_ICW4_AEOI  0x02     /* automatic end of interrupt */
#define PIC_ICW4_MS    0x04     /* buffered mode: 1 master, 0 slave */
#define PIC_ICW4_BUF   0x08     /* buffered mode */
#define PIC_ICW4_SFNM  0x10     /* special fully nested mode */
/* OCW2: R SL EOI in bits 7-5, level in 2-0 (data sheet figure 8 / table). */
#define PIC_OCW2_LEVEL 0x07
#define PIC_OCW3_BIT   0x08     /* D3 = 1 (with D4 = 0) marks OCW3 */
#define PIC_OCW3_RIS   0x01     /* read ISR (1) or IRR (0) ... */
#define PIC_OCW3_RR    0x02     /* ... when RR = 1 */
#define PIC_OCW3_P     0x04     /* poll command */
#define PIC_OCW3_SMM   0x20     /* special mask mode on (1) / off (0) ... */
#define PIC_OCW3_ESMM  0x40     /* ... when ESMM = 1 */

/* One 8259A: one struct field per data-sheet register or latch. */
struct pic8259_chip {
    uint8_t irr;                /* interrupt request register */
    uint8_t isr;                /* in-service register */
    uint8_t imr;                /* interrupt mask register (OCW1) */
    uint8_t ir_levels;          /* the IR input pins as driven now */
    uint8_t icw1, icw2, icw3, icw4;
    uint8_t init_step;          /* 0 ready; 2, 3, 4: that ICW is expected next */
    uint8_t lowest_priority;    /* the IR with the lowest priority (7 after ICW1) */
    uint8_t elcr;               /* PIIX ELCR: 1 = level triggered for that IR */
    uint8_t elcr_mask;          /* ELCR bits that exist (the others read 0) */
    bool read_isr;              /* OCW3 RIS as last selected */
    bool poll;                  /* a poll command waits for the next A0=0 read */
    bool special_mask;          /* special mask mode (OCW3 SMM) */
    bool rotate_in_aeoi;        /* OCW2 "rotate in automatic EOI mode" set */
};

struct pic8259 {
    struct pic8259_chip master, slave;
    bool intr;                  /* the master's INT pin (the CPU's INTR), kept current */
};

/* Power-on: both chips wait for ICW1 (IMR 0, IRR/ISR 0), ELCR 0. */
void pic_init(struct pic8259 *p);
/* Chipset reset: as pic_init, IR pin levels kept. */
void pic_reset(struct pic8259 *p);

/* Drive IRQ 0-15 (irq_line callbacks: opaque = the pic). */
void pic_raise_irq(void *opaque, int irq);
void pic_lower_irq(void *opaque, int irq);
void pic_set_irq(struct pic8259 *p, int irq, bool level);

/* The CPU side (struct cpu_irq_source): INTR, and the INTA cycles. */
bool pic_intr_pending(void *opaque);
int pic_acknowledge(void *opaque);

/* Port handlers, opaque = the pic: 2 ports at 0x20 (pic_master_ops), 2 at
   0xA0 (pic_slave_ops), 2 at 0x4D0 (pic_elcr_ops). */
extern const struct io_ops pic_master_ops;
extern const struct io_ops pic_slave_ops;
extern const struct io_ops pic_elcr_ops;

/* Decoded state for `info pic`. */
void pic_info(void *opaque, FILE *out);

struct snapshot;
int pic_save(void *opaque, struct snapshot *s);
struct snapshot_check;
int pic_load(void *opaque, const struct snapshot *s, struct snapshot_check *c);
void pic_reset_device(void *opaque);

#endif
