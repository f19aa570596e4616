/*
 * transfer.h - helpers shared by the protected-mode control-transfer files
 * (segment.c, control_far.c, interrupt.c, task.c).  Private to cpu/.
 *
 * A descriptor is kept raw (struct x86_descriptor, two dwords) while it is
 * being checked, and only turned into a segment cache when every check has
 * passed, because a fault must leave the state as it was (SDM Vol. 3A 6.6:
 * faults are restartable).
 *
 *   high dword:  31    24 23 22 21 20 19  16 15 14 13 12 11   8 7      0
 *               | base   | G|DB| L|AV|limit | P| DPL | S| type | base  |
 *               | 31:24  |  |  |  |  | 19:16|  |     |  |      | 23:16 |
 *   low dword:  | base 15:0              | limit 15:0                   |
 *
 * Gates (SDM Vol. 3A 5.8.3 call gates, 6.11 IDT gates):
 *   high dword: offset 31:16 | P | DPL | 0 | type | 000 | param count (4:0)
 *   low dword:  selector     | offset 15:0
 */
#ifndef TRAPEZE_TRANSFER_H
#define TRAPEZE_TRANSFER_H

#include "cpu/cpu_internal.h"

/* System descriptor types, S = 0 (SDM Vol. 3A 3.5, table 3-2). */
#define DESC_TSS16_AVAIL 0x1
#define DESC_LDT         0x2
#define DESC_TSS16_BUSY  0x3
#define DESC_CALLGATE16  0x4
#define DESC_TASKGATE    0x5
#define DESC_INTGATE16   0x6
#define DESC_TRAPGATE16  0x7
#define DESC_TSS32_AVAIL 0x9
#define DESC_TSS32_BUSY  0xB
#define DESC_CALLGATE32  0xC
#define DESC_INTGATE32   0xE
#define DESC_TRAPGATE32  0xF
#define DESC_TSS_BUSY_BIT 0x2  /* in the type: available 1/9, busy 3/B */

/* Field accessors on the raw high dword. */
static inline unsigned desc_type(struct x86_descriptor d) { return (d.hi >> 8) & 0xF; }
static inline bool desc_s(struct x86_descriptor d) { return (d.hi & 0x1000) != 0; }
static inline unsigned desc_dpl(struct x86_descriptor d) { return (d.hi >> 13) & 3; }
static inline bool desc_present(struct x86_descriptor d) { return (d.hi & 0x8000) != 0; }
static inline bool desc_is_code(struct x86_descriptor d) { return desc_s(d) && (d.hi & 0x800); }
static inline bool desc_is_data(struct x86_descriptor d) { return desc_s(d) && !(d.hi & 0x800); }
static inline bool desc_conforming(struct x86_descriptor d) { return desc_is_code(d) && (d.hi & 0x400); }
static inline bool desc_readable(struct x86_descriptor d) { return !desc_is_code(d) || (d.hi & 0x200); }
static inline bool desc_writable_data(struct x86_descriptor d) { return desc_is_data(d) && (d.hi & 0x200); }
static inline bool desc_is_tss(struct x86_descriptor d)
{
    unsigned t = desc_type(d);
    return !desc_s(d) && (t == DESC_TSS16_AVAIL || t == DESC_TSS16_BUSY ||
                          t == DESC_TSS32_AVAIL || t == DESC_TSS32_BUSY);
}
/* Gate fields. */
static inline uint16_t gate_selector(struct x86_descriptor d) { return (uint16_t)(d.lo >> 16); }
static inline uint32_t gate_offset(struct x86_descriptor d, bool gate32)
{
    return gate32 ? ((d.hi & 0xFFFF0000u) | (d.lo & 0xFFFFu)) : (d.lo & 0xFFFFu);
}
static inline unsigned gate_param_count(struct x86_descriptor d) { return d.hi & 0x1F; }

/* Selector fields (SDM Vol. 3A 3.4.2). */
static inline bool sel_is_null(uint16_t sel) { return (sel & 0xFFFC) == 0; }
static inline unsigned sel_rpl(uint16_t sel) { return sel & 3; }
/* The error code naming a selector: index and TI, EXT as given (Vol. 3A 6.13). */
static inline uint32_t sel_error(uint16_t sel, unsigned ext) { return (uint32_t)(sel & 0xFFFC) | ext; }

/* Mark a segment cache unusable: null selector loaded (P clear, so accesses #GP). */
void seg_make_unusable(struct x86_segment *seg, uint16_t selector);

/*
 * A stack being built or unwound, possibly not (yet) the one SS holds: the
 * inner stack of a privilege change is written before SS is committed, so
 * that a fault while pushing leaves SS:ESP as they were.  Accesses check
 * the segment limit (expand-down aware, SDM Vol. 3A 5.3) and raise
 * 'fault_vector' with 'fault_error' when out of limits.
 */
struct stack_frame {
    struct x86_segment seg;
    uint32_t sp;            /* offset of the top (ESP, or SP when !big) */
    bool big;               /* B bit: 32-bit stack pointer */
    bool user;              /* accesses are CPL 3 accesses (paging U/S) */
    int fault_vector;       /* X86_SS normally */
    uint32_t fault_error;   /* 0 for the current stack, selector+EXT for a new one */
};

/* The current SS:ESP as a frame at privilege 'cpl'; #SS errors carry 'error'. */
void frame_current(struct cpu *cpu, struct stack_frame *f, uint32_t error);
/* A frame over a segment not loaded yet, top at 'sp'. */
void frame_from_segment(struct stack_frame *f, const struct x86_segment *seg, uint32_t sp,
                        unsigned cpl, uint32_t error);
/* Fault unless 'bytes' more bytes can be pushed (the "room for N bytes" checks). */
void frame_check_room(struct cpu *cpu, const struct stack_frame *f, uint32_t bytes);
void frame_push(struct cpu *cpu, struct stack_frame *f, unsigned size, uint32_t value);
uint32_t frame_pop(struct cpu *cpu, struct stack_frame *f, unsigned size);
/* Store f->sp into ESP (or SP for a 16-bit stack, keeping ESP's high half). */
void frame_commit_sp(struct cpu *cpu, const struct stack_frame *f);

/*
 * The inner stack pointer for privilege 'dpl' from the current TSS (SDM
 * Vol. 3A 7.2.1: SS0:ESP0 at 4/8 in a 32-bit TSS, SS0:SP0 at 2/4 in a
 * 16-bit one).  #TS(TR selector + ext) when the entry lies beyond TR.limit.
 */
void tss_inner_stack(struct cpu *cpu, unsigned dpl, unsigned ext, uint16_t *ss, uint32_t *sp);

/*
 * Check a new inner SS for a privilege change to 'dpl' (CALL through a call
 * gate, interrupt to an inner ring; SDM Vol. 2A CALL and INT n): null ->
 * #TS(ext); out of table, RPL != dpl, DPL != dpl, not writable data ->
 * #TS(ss+ext); not present -> #SS(ss+ext).  Fills 'seg' (accessed bit set).
 */
void load_inner_stack_segment(struct cpu *cpu, uint16_t ss, unsigned dpl, unsigned ext,
                              struct x86_segment *seg);

/* Load CS (cache already checked) and set CPL; ends the block. */
void commit_cs(struct cpu *cpu, const struct x86_segment *cs, unsigned cpl, uint32_t eip);

/* Full EFLAGS write without privilege rules (task switch, event delivery). */
void set_eflags_raw(struct cpu *cpu, uint32_t value);

#endif
