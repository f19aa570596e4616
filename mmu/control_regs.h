/*
 * control_regs.h - the control-register bits (SDM Vol. 3A 2.5), and the
 * three registers a page walk depends on.
 *
 * They live here, below cpu/, because the MMU needs them and may not
 * include the CPU: a walk takes CR0 (PG, WP), CR3 (the page directory) and
 * CR4 (PSE, PGE) as plain values, so a VMM can walk a guest's tables with
 * the guest's CR3 (or its shadow's) rather than the CPU's.
 */
#ifndef TRAPEZE_CONTROL_REGS_H
#define TRAPEZE_CONTROL_REGS_H

#include <stdint.h>

/* CR0 (SDM Vol. 3A 2.5). */
#define CR0_PE 0x00000001u /* protection enable */
#define CR0_MP 0x00000002u /* monitor coprocessor */
#define CR0_EM 0x00000004u /* x87 emulation: FPU opcodes raise #NM */
#define CR0_TS 0x00000008u /* task switched */
#define CR0_ET 0x00000010u /* extension type, hardwired 1 on 486+ */
#define CR0_NE 0x00000020u /* numeric error */
#define CR0_WP 0x00010000u /* supervisor writes honour read-only pages */
#define CR0_AM 0x00040000u /* alignment mask */
#define CR0_NW 0x20000000u /* not write-through */
#define CR0_CD 0x40000000u /* cache disable */
#define CR0_PG 0x80000000u /* paging */

/* CR4 (SDM Vol. 3A 2.5). */
#define CR4_VME 0x0001u /* virtual-8086 mode extensions */
#define CR4_PVI 0x0002u /* protected-mode virtual interrupts */
#define CR4_TSD 0x0004u /* RDTSC privileged */
#define CR4_DE  0x0008u /* debugging extensions: I/O breakpoints */
#define CR4_PSE 0x0010u /* 4 MiB pages */
#define CR4_PAE 0x0020u /* physical address extension (not modelled) */
#define CR4_MCE 0x0040u /* machine-check enable */
#define CR4_PGE 0x0080u /* global pages */

/* What a page walk reads from the control registers. */
struct paging_regs {
    uint32_t cr0, cr3, cr4;
};

#endif
