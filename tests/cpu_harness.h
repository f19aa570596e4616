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
 *
 * Tests of gates and task switches add their own descriptors after those
 * (harness_system_tables), with an IDT and a current task:
 *
 *   uint64_t gdt[9] = { [7] = harness_mkseg(HARNESS_TSS, 0x67, ACC_P | 0xB, 0),
 *                       [8] = ... };
 *   harness_system_tables(&h, gdt, 9, 0x38);   // TR = 0x38, the TSS at HARNESS_TSS
 *   harness_set_idt(&h, X86_GP, harness_mkgate(0x08, 0x2000, ACC_P | 0xE, 0));
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
#define HARNESS_GDT_FLAT 7            /* entries of the flat GDT above */
/* With harness_system_tables: */
#define HARNESS_TSS 0x3000u           /* the current task's 32-bit TSS (TR) */
#define HARNESS_IDT 0x8000u           /* 256 gates, none present until a test sets one */
#define HARNESS_RING0_STACK 0x70000u  /* the current task's SS0:ESP0 top */

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

/* Fill gdt[0 .. HARNESS_GDT_FLAT - 1]: null, then code and data for rings 0, 1, 3. */
static inline void harness_flat_gdt(uint64_t *gdt)
{
    gdt[0] = 0;
    gdt[1] = harness_desc(0xB, 0);
    gdt[2] = harness_desc(0x3, 0);
    gdt[3] = harness_desc(0xB, 1);
    gdt[4] = harness_desc(0x3, 1);
    gdt[5] = harness_desc(0xB, 3);
    gdt[6] = harness_desc(0x3, 3);
}

/* Flat 32-bit protected mode at privilege level 'cpl'. */
static inline void harness_init(struct harness *h, unsigned cpl)
{
    if (bus_init(&h->bus, HARNESS_RAM) < 0 || cpu_init(&h->cpu, &h->bus) < 0) abort();
    uint64_t gdt[HARNESS_GDT_FLAT];
    harness_flat_gdt(gdt);
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

/* Run until HLT (or any other exit; at most 1000 instructions). */
static inline struct cpu_exit harness_run(struct harness *h)
{
    return cpu_run(&h->cpu, 1000, false);
}

/* Physical memory, little-endian. */
static inline void harness_put64(struct harness *h, uint32_t addr, uint64_t v)
{
    bus_write_block(&h->bus, addr, &v, 8);
}
static inline void harness_put32(struct harness *h, uint32_t addr, uint32_t v) { bus_write(&h->bus, addr, v, 4); }
static inline uint32_t harness_get32(struct harness *h, uint32_t addr) { return bus_read(&h->bus, addr, 4); }

/* ---- protected-mode system structures ---- */

/* Access byte bits (SDM Vol. 3A 3.4.5). */
#define ACC_P 0x80u
#define ACC_DPL(n) ((unsigned)(n) << 5)
#define ACC_S 0x10u

/* A segment or system descriptor: base, 20-bit limit, access byte, G/DB/L/AVL nibble
 * (SDM Vol. 3A 3.4.5 fig. 3-8). */
static inline uint64_t harness_mkseg(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
    uint64_t d = (limit & 0xFFFFu) | ((uint64_t)(base & 0xFFFFFFu) << 16);
    d |= (uint64_t)(access & 0xFF) << 40;
    d |= (uint64_t)((limit >> 16) & 0xF) << 48;
    d |= (uint64_t)(flags & 0xF) << 52;
    d |= (uint64_t)(base >> 24) << 56;
    return d;
}

/* A gate: call gate with 'params' dwords, or task/interrupt/trap gate with 0
 * (SDM Vol. 3A 5.8.3 fig. 5-8, 6.11 fig. 6-2). */
static inline uint64_t harness_mkgate(uint16_t sel, uint32_t off, unsigned access, unsigned params)
{
    return (off & 0xFFFFu) | ((uint64_t)sel << 16) | ((uint64_t)(params & 0x1F) << 32) |
           ((uint64_t)(access & 0xFF) << 40) | ((uint64_t)(off >> 16) << 48);
}

static inline void harness_set_idt(struct harness *h, int vector, uint64_t gate)
{
    harness_put64(h, HARNESS_IDT + 8u * (unsigned)vector, gate);
}

/* Offsets in a 32-bit TSS (SDM Vol. 3A 7.2.1, fig. 7-2). */
enum { TSS_LINK = 0x00, TSS_ESP0 = 0x04, TSS_SS0 = 0x08, TSS_CR3 = 0x1C, TSS_EIP = 0x20,
       TSS_EFLAGS = 0x24, TSS_EAX = 0x28, TSS_EBX = 0x34, TSS_ESP = 0x38, TSS_ES = 0x48,
       TSS_CS = 0x4C, TSS_SS = 0x50, TSS_DS = 0x54, TSS_FS = 0x58, TSS_GS = 0x5C, TSS_LDT = 0x60 };

/* A runnable ring-0 task in the TSS at 'tss': flat ring-0 segments, FS = GS = 0,
 * no LDT, IF = 0, entered at 'eip' with ESP = 'esp'. */
static inline void harness_ring0_task(struct harness *h, uint32_t tss, uint32_t eip, uint32_t esp)
{
    harness_put32(h, tss + TSS_EIP, eip);
    harness_put32(h, tss + TSS_EFLAGS, EFLAGS_FIXED1);
    harness_put32(h, tss + TSS_ESP, esp);
    harness_put32(h, tss + TSS_CS, 0x08);
    harness_put32(h, tss + TSS_SS, 0x10);
    harness_put32(h, tss + TSS_DS, 0x10);
    harness_put32(h, tss + TSS_ES, 0x10);
    harness_put32(h, tss + TSS_FS, 0);
    harness_put32(h, tss + TSS_GS, 0);
    harness_put32(h, tss + TSS_LDT, 0);
}

/*
 * After harness_init: load the GDT 'gdt' of 'entries' descriptors, its first
 * HARNESS_GDT_FLAT filled here with harness_init's flat ones, the rest the
 * test's; an IDT of 256 gates at HARNESS_IDT (as RAM holds them: zero, not
 * present); TR = 'tr' naming a busy 32-bit TSS at HARNESS_TSS, limit 67H,
 * whose SS0:ESP0 is 0x10:HARNESS_RING0_STACK; LDTR null.
 */
static inline void harness_system_tables(struct harness *h, uint64_t *gdt, unsigned entries, uint16_t tr)
{
    harness_flat_gdt(gdt);
    bus_write_block(&h->bus, HARNESS_GDT, gdt, entries * 8u);
    struct x86_state *s = &h->cpu.s;
    s->gdtr.limit = (uint16_t)(entries * 8u - 1);
    s->idtr.base = HARNESS_IDT;
    s->idtr.limit = 256 * 8 - 1;
    s->tr.selector = tr;
    s->tr.base = HARNESS_TSS;
    s->tr.limit = 0x67;
    s->tr.attr = SEG_ATTR_P | 0xB;
    s->ldtr.selector = 0;
    s->ldtr.attr = 0;
    harness_put32(h, HARNESS_TSS + TSS_ESP0, HARNESS_RING0_STACK);
    harness_put32(h, HARNESS_TSS + TSS_SS0, 0x10);
    cpu_state_changed(&h->cpu);
}

#endif
