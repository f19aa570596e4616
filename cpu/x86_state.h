/*
 * x86_state.h - the one architectural state of an i386-class CPU.
 *
 * Everything that snapshots, the monitor, the GDB stub and the kvm engine
 * (KVM_GET/SET_REGS, SREGS) read and write lives here, and nothing else:
 * the software CPU's private caches (decoded blocks, TLB, lazy flags) are
 * rebuilt from this struct whenever it is set from outside.
 *
 * References: Intel SDM Vol. 3A ch. 2 (system registers), ch. 3 (segments),
 * Vol. 1 ch. 3 (general registers and EFLAGS).
 */
#ifndef TRAPEZE_X86_STATE_H
#define TRAPEZE_X86_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/control_regs.h"   /* CR0_* and CR4_* */

/* General registers, in ModRM encoding order (SDM Vol. 2A table 2-1). */
enum x86_reg { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };

/* Segment registers, in ModRM sreg encoding order (SDM Vol. 2A 3.1.1.3). */
enum x86_sreg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT };

/* EFLAGS bits (SDM Vol. 1 3.4.3, Vol. 3A 2.3). */
#define EFLAGS_CF   0x00000001u /* carry */
#define EFLAGS_FIXED1 0x00000002u /* bit 1 always reads 1 */
#define EFLAGS_PF   0x00000004u /* parity of low result byte */
#define EFLAGS_AF   0x00000010u /* auxiliary carry out of bit 3 */
#define EFLAGS_ZF   0x00000040u /* zero */
#define EFLAGS_SF   0x00000080u /* sign */
#define EFLAGS_TF   0x00000100u /* trap: single-step #DB after each insn */
#define EFLAGS_IF   0x00000200u /* maskable interrupts enabled */
#define EFLAGS_DF   0x00000400u /* string direction: 1 = decrement */
#define EFLAGS_OF   0x00000800u /* signed overflow */
#define EFLAGS_IOPL 0x00003000u /* I/O privilege level, 2 bits */
#define EFLAGS_IOPL_SHIFT 12
#define EFLAGS_NT   0x00004000u /* nested task: IRET does a task return */
#define EFLAGS_RF   0x00010000u /* resume: suppress instruction #DB once */
#define EFLAGS_VM   0x00020000u /* virtual-8086 mode */
#define EFLAGS_AC   0x00040000u /* alignment check (486+) */
#define EFLAGS_VIF  0x00080000u /* virtual IF (Pentium VME) */
#define EFLAGS_VIP  0x00100000u /* virtual interrupt pending */
#define EFLAGS_ID   0x00200000u /* CPUID available when toggleable */
#define EFLAGS_ARITH (EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF)

/* DR6 / DR7 (SDM Vol. 3B 17.2). */
#define DR6_B0 0x0001u   /* breakpoint 0 condition met (B1..B3 follow) */
#define DR6_BD 0x2000u   /* debug-register access detected (DR7.GD) */
#define DR6_BS 0x4000u   /* single step */
#define DR6_BT 0x8000u   /* task switch with T bit */
#define DR6_FIXED1 0xFFFF0FF0u /* reserved bits read as 1 */
#define DR7_GD 0x2000u   /* general detect */
#define DR7_FIXED1 0x00000400u

/*
 * A segment register: the visible selector and the hidden descriptor cache.
 *
 * 'attr' holds the descriptor's attribute bits as they sit in bits 8..23 of
 * its high dword, shifted down by 8 (the layout VMX and KVM also use):
 *
 *   bit 0-3  type      bit 4 S (1 = code/data)   bit 5-6 DPL   bit 7 P
 *   bit 8-11 limit 19:16 (unused here: 'limit' is already expanded)
 *   bit 12 AVL   bit 13 L (0)   bit 14 D/B   bit 15 G
 *
 * 'limit' is the byte-granular limit after G scaling.
 */
struct x86_segment {
    uint16_t selector;
    uint16_t attr;
    uint32_t base;
    uint32_t limit;
};

#define SEG_ATTR_TYPE_MASK 0x000Fu
#define SEG_ATTR_A     0x0001u /* accessed (code/data) */
#define SEG_ATTR_W     0x0002u /* writable (data) */
#define SEG_ATTR_R     0x0002u /* readable (code) */
#define SEG_ATTR_E     0x0004u /* expand-down (data) */
#define SEG_ATTR_C     0x0004u /* conforming (code) */
#define SEG_ATTR_CODE  0x0008u /* executable */
#define SEG_ATTR_S     0x0010u /* code/data, not system */
#define SEG_ATTR_DPL_SHIFT 5
#define SEG_ATTR_DPL   0x0060u
#define SEG_ATTR_P     0x0080u /* present */
#define SEG_ATTR_AVL   0x1000u
#define SEG_ATTR_DB    0x4000u /* default operand size 32 / big stack */
#define SEG_ATTR_G     0x8000u /* limit in 4 KiB units */

/* GDTR / IDTR. */
struct x86_dtable {
    uint32_t base;
    uint16_t limit;
};

/*
 * The architectural CPU state.  Arithmetic flags in 'eflags' are always
 * current here: the software CPU materialises its lazy flags before anybody
 * outside cpu/ sees this struct (cpu_get_state).
 */
struct x86_state {
    uint32_t regs[8];          /* indexed by enum x86_reg */
    uint32_t eip;
    uint32_t eflags;
    struct x86_segment seg[SEG_COUNT]; /* indexed by enum x86_sreg */
    struct x86_segment ldtr;   /* selector + cached LDT descriptor */
    struct x86_segment tr;     /* selector + cached TSS descriptor */
    struct x86_dtable gdtr;
    struct x86_dtable idtr;
    uint32_t cr0, cr2, cr3, cr4;
    uint32_t dr[8];            /* DR4/DR5 alias DR6/DR7 when CR4.DE = 0 */
    uint64_t tsc;              /* time-stamp counter, MSR 0x10 */
    uint8_t cpl;               /* current privilege level (0 in real mode) */
    bool halted;               /* HLT executed, waiting for an interrupt */
    uint8_t interrupt_shadow;  /* 1: after STI / MOV SS, no IRQ before next insn */
    bool a20_enabled;          /* kept here so a snapshot carries it */
};

/*
 * Power-on state, SDM Vol. 3A 9.1.1 table 9-1: real mode, CS = F000 with
 * base FFFF0000 so the first fetch is at FFFFFFF0, segments with limit
 * FFFF, LDTR an LDT and TR a busy 32-bit TSS (limits FFFF), CR0 = 60000010
 * (CD NW ET), DR6/DR7 their fixed bits, EDX = 'signature' (the processor
 * signature), A20 enabled.  Shared by the software CPU (cpu_hard_reset) and
 * the kvm engine (kvm_state_reset); defined in cpu/cpu.c.
 */
void x86_state_power_on(struct x86_state *s, uint32_t signature);

/* Convenience accessors for the low 16 and 8 bits. */
static inline uint16_t x86_reg16(const struct x86_state *s, int r) { return (uint16_t)s->regs[r]; }

#endif
