/*
 * cpu_harness.h - a CPU on a small bus, in flat protected mode, for unit
 * tests that run a few instructions.
 *
 *   struct harness h; harness_init(&h, 0);      // CPL 0, flat 32-bit
 *   harness_code(&h, 0x1000, "\x90\xf4", 2);    // NOP; HLT at 0x1000
 *   struct cpu_exit x = cpu_run(&h.cpu, 100, false);
 *
 * The GDT at HARNESS_GDT holds: 0x08 ring-0 code, 0x10 ring-0 data,
 * 0x19 ring-1 code, 0x21 ring-1 data, 0x2B ring-3 code, 0x33 ring-3 data.
 */
#ifndef TRAPEZE_CPU_HARNESS_H
#define TRAPEZE_CPU_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "mmu/bus.h"

#define HARNESS_RAM (4u << 20)
#define HARNESS_GDT 0x500u
#define HARNESS_STACK 0x80000u

struct harness {
    struct bus bus;
    struct cpu cpu;
};

/* Flat descriptor: base 0, limit 4 GiB, 32-bit, present, given type and DPL. */
static inline uint64_t harness_desc(unsigned type, unsigned dpl)
{
    uint64_t d = 0xFFFFull | (0xFull << 48);          /* limit 0xFFFFF */
    d |= (uint64_t)(0x10 | type | (dpl << 5) | 0x80) << 40; /* S, type, DPL, P */
    d |= (uint64_t)0xC << 52;                          /* G, D/B */
    return d;
}

static inline void harness_seg(struct x86_segment *sg, uint16_t sel, unsigned type, unsigned dpl)
{
    sg->selector = sel;
    sg->base = 0;
    sg->limit = 0xFFFFFFFFu;
    sg->attr = (uint16_t)(SEG_ATTR_P | SEG_ATTR_S | type | (dpl << SEG_ATTR_DPL_SHIFT) |
                          SEG_ATTR_DB | SEG_ATTR_G);
}

/* Flat 32-bit protected mode at privilege level 'cpl'. */
static inline void harness_init(struct harness *h, unsigned cpl)
{
    if (bus_init(&h->bus, HARNESS_RAM) < 0 || cpu_init(&h->cpu, &h->bus) < 0) abort();
    uint64_t gdt[7] = { 0, harness_desc(0xB, 0), harness_desc(0x3, 0), harness_desc(0xB, 1),
                        harness_desc(0x3, 1), harness_desc(0xB, 3), harness_desc(0x3, 3) };
    bus_write_block(&h->bus, HARNESS_GDT, gdt, sizeof gdt);
    struct x86_state *s = &h->cpu.s;
    s->cr0 = CR0_PE | CR0_ET;
    s->gdtr.base = HARNESS_GDT;
    s->gdtr.limit = sizeof gdt - 1;
    s->idtr.base = 0;
    s->idtr.limit = 0;
    static const uint16_t code_sel[4] = { 0x08, 0x19, 0, 0x2B }, data_sel[4] = { 0x10, 0x21, 0, 0x33 };
    for (int r = 0; r < SEG_COUNT; r++)
        harness_seg(&s->seg[r], data_sel[cpl], SEG_ATTR_W | SEG_ATTR_A, cpl);
    harness_seg(&s->seg[SEG_CS], code_sel[cpl], SEG_ATTR_CODE | SEG_ATTR_R | SEG_ATTR_A, cpl);
    s->cpl = (uint8_t)cpl;
    s->regs[R_ESP] = HARNESS_STACK;
    s->eflags = EFLAGS_FIXED1;
    cpu_state_changed(&h->cpu);
}

/* Put code at 'addr' and point EIP at it. */
static inline void harness_code(struct harness *h, uint32_t addr, const void *code, uint32_t len)
{
    bus_write_block(&h->bus, addr, code, len);
    h->cpu.s.eip = addr;
}

static inline void harness_destroy(struct harness *h)
{
    cpu_destroy(&h->cpu);
    bus_destroy(&h->bus);
}

#endif
