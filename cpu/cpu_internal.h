/*
 * cpu_internal.h - what instruction handlers (cpu/exec_*.c) stand on.
 *
 * Conventions every handler follows:
 *   - On entry cpu->s.eip already points past the instruction (relative
 *     branches add to it); cpu->insn_eip is its start.
 *   - A guest fault is raised with cpu_fault()/cpu_fault_err(): it unwinds
 *     (longjmp) to the run loop, which restores EIP to insn_eip.  So do
 *     every access that can fault *before* changing registers: write memory
 *     first, then update ESP and the destination register.
 *   - Arithmetic flags go through the lazy-flags helpers (flags.c); read them
 *     with cpu_cf()/cpu_cond()/cpu_get_eflags(), never from s.eflags directly.
 *   - Operand size: i->os32 ? 4 : 2 (opsize(i)); byte forms are separate
 *     handlers.  Address size: i->as32.
 *   - A handler that changes CS, the mode, IF/TF, paging, or anything the
 *     block decoder assumed sets cpu->end_block (the D_END table flag does
 *     this for the usual suspects).
 */
#ifndef TRAPEZE_CPU_INTERNAL_H
#define TRAPEZE_CPU_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "cpu/cpu.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Handler declarations: DEFINE_HANDLER(add_EbGb) { ... } */
#define HANDLER_NAME(name) op_##name
#define DEFINE_HANDLER(name) void op_##name(struct cpu *cpu, const struct x86_insn *i)

static inline unsigned opsize(const struct x86_insn *i) { return i->os32 ? 4 : 2; }
static inline uint32_t size_mask(unsigned size)
{
    return size == 4 ? 0xFFFFFFFFu : size == 2 ? 0xFFFFu : 0xFFu;
}
static inline uint32_t sign_bit(unsigned size) { return 1u << (size * 8 - 1); }

/* ---------- faults (run.c) ---------- */

/* Raise exception 'vector' without / with an error code: never returns. */
_Noreturn void cpu_fault(struct cpu *cpu, int vector);
_Noreturn void cpu_fault_err(struct cpu *cpu, int vector, uint32_t error_code);
/* #PF: sets CR2 then raises. */
_Noreturn void cpu_page_fault(struct cpu *cpu, uint32_t lin, uint32_t error_code);
/*
 * Software interrupt (INT n, INT3, INTO, INT1): delivered with EIP already
 * past the instruction, which counts as retired; 'dpl_check' selects the
 * DPL check of INT n (SDM Vol. 3A 6.12.1.1; INT1 has none and is delivered
 * as a #DB trap).  Unwinds like a fault.  With cpu->exit_on_soft_int, the
 * ones with 'dpl_check' (INT n, INT3, INTO) end the run instead, as a
 * CPU_EXIT_EXCEPTION of kind CPU_EVENT_SOFT_INT, before any IDT access.
 */
_Noreturn void cpu_soft_interrupt(struct cpu *cpu, int vector, bool dpl_check);
/*
 * A trap-class exception (SDM Vol. 3A 6.5): delivered with EIP past the
 * instruction that caused it (#DB single-step and data breakpoints, INT1).
 */
_Noreturn void cpu_trap(struct cpu *cpu, int vector);
/* Abandon the current instruction and return an exit from cpu_run. */
_Noreturn void cpu_exit_now(struct cpu *cpu, struct cpu_exit exit);

/*
 * The LOCK prefix rule (SDM Vol. 2A "LOCK"): #UD when the instruction has
 * LOCK and either the instruction is not one LOCK may prefix ('allowed'
 * false: only ADD ADC AND BTC BTR BTS CMPXCHG CMPXCHG8B DEC INC NEG NOT OR
 * SBB SUB XOR XADD XCHG qualify) or its destination is a register.  Call it
 * first, before any access.  Defined in exec_alu.c.
 */
void cpu_check_lock(struct cpu *cpu, const struct x86_insn *i, bool allowed);

/*
 * Deliver an event through the IDT (real-mode IVT or protected-mode gates,
 * with privilege changes and task gates).  Called by the run loop only;
 * defined in interrupt.c.  On entry s.eip is already the return address the
 * event pushes (the faulting instruction for faults, the next one for traps
 * and INT n).  'kind' selects the checks (SDM Vol. 3A 6.12.1.1: only INT n,
 * INT3 and INTO check the gate's DPL against CPL) and the EXT bit of error
 * codes raised while delivering (set for external interrupts and
 * exceptions, clear for INT n).  A fault raised during delivery unwinds to
 * the run loop, which turns it into a double fault where the SDM says so.
 */
/* The same values as the public enum cpu_event_kind (cpu.h), which exits
 * and cpu_inject_event carry: converting between the two is a cast. */
enum event_kind {
    EVENT_FAULT = CPU_EVENT_FAULT,       /* exception, EIP = faulting instruction */
    EVENT_TRAP = CPU_EVENT_TRAP,         /* exception, EIP = next instruction (#DB traps, INT1) */
    EVENT_SOFT_INT = CPU_EVENT_SOFT_INT, /* INT n / INT3 / INTO: gate DPL checked against CPL */
    EVENT_EXTERNAL = CPU_EVENT_EXTERNAL, /* INTR / NMI */
};
void cpu_deliver_event(struct cpu *cpu, int vector, enum event_kind kind,
                       bool has_error, uint32_t error_code);

/* ---------- lazy flags (flags.c) ---------- */

static inline void flags_set(struct cpu *cpu, enum lazy_op op, unsigned size,
                             uint32_t res, uint32_t src1, uint32_t src2)
{
    cpu->lf.op = (uint8_t)op;
    cpu->lf.size = (uint8_t)size;
    cpu->lf.res = res & size_mask(size);
    cpu->lf.src1 = src1 & size_mask(size);
    cpu->lf.src2 = src2 & size_mask(size);
}
/* Materialise lazy flags into s.eflags (op becomes LF_NONE). */
void flags_materialize(struct cpu *cpu);
bool cpu_cf(struct cpu *cpu);
bool cpu_zf(struct cpu *cpu);
/* Condition code cc (0-15, SDM Vol. 1 B.1: O NO B AE E NE BE A S NS P NP L GE LE G). */
bool cpu_cond(struct cpu *cpu, unsigned cc);
/* Set arithmetic flags from a full value: bits in 'mask' taken from 'flags'. */
void flags_set_arith(struct cpu *cpu, uint32_t flags, uint32_t mask);
/* Parity flag of the low byte (1 when even). */
static inline bool parity8(uint32_t v) { return !__builtin_parity(v & 0xFF); }

/* Put the current CF into s.eflags (before a lazy record that keeps CF). */
void flags_fold_cf(struct cpu *cpu);
/* Inc/dec keep CF: call this instead of flags_set. */
static inline void flags_set_incdec(struct cpu *cpu, enum lazy_op op, unsigned size, uint32_t res, uint32_t src)
{
    /* While the record is NONE, INC or DEC, CF already sits in s.eflags. */
    if (cpu->lf.op != LF_NONE && cpu->lf.op != LF_INC && cpu->lf.op != LF_DEC) flags_fold_cf(cpu);
    flags_set(cpu, op, size, res, src, 1);
}

/*
 * Write EFLAGS as POPF/IRET do, by the SDM's privilege rules (Vol. 2B POPF):
 * IOPL changes only at CPL 0, IF only when CPL <= IOPL, VM/RF/VIP/VIF as the
 * caller's 'mask' allows.  Bits outside 'mask' keep their value.
 */
void cpu_write_eflags(struct cpu *cpu, uint32_t value, uint32_t mask);

/* ---------- registers ---------- */

static inline uint8_t reg8_read(struct cpu *cpu, unsigned r)
{   /* AL CL DL BL AH CH DH BH */
    return r < 4 ? (uint8_t)cpu->s.regs[r] : (uint8_t)(cpu->s.regs[r - 4] >> 8);
}
static inline void reg8_write(struct cpu *cpu, unsigned r, uint8_t v)
{
    if (r < 4)
        cpu->s.regs[r] = (cpu->s.regs[r] & 0xFFFFFF00u) | v;
    else
        cpu->s.regs[r - 4] = (cpu->s.regs[r - 4] & 0xFFFF00FFu) | ((uint32_t)v << 8);
}
static inline uint32_t reg_read(struct cpu *cpu, unsigned r, unsigned size)
{
    if (size == 1) return reg8_read(cpu, r);
    return size == 4 ? cpu->s.regs[r] : (uint16_t)cpu->s.regs[r];
}
static inline void reg_write(struct cpu *cpu, unsigned r, unsigned size, uint32_t v)
{
    if (size == 1) reg8_write(cpu, r, (uint8_t)v);
    else if (size == 2) cpu->s.regs[r] = (cpu->s.regs[r] & 0xFFFF0000u) | (uint16_t)v;
    else cpu->s.regs[r] = v;
}

/* ---------- memory (memory.c, fast paths inline) ---------- */

/*
 * Segment-relative data access: checks the segment (type, limit; #GP or
 * #SS(0) for SS), translates through the TLB (#PF), handles accesses that
 * cross a page, runs data breakpoints and code-write invalidation.
 */
uint32_t cpu_read(struct cpu *cpu, int seg, uint32_t off, unsigned size);
void cpu_write(struct cpu *cpu, int seg, uint32_t off, uint32_t value, unsigned size);
/* Read for a read-modify-write: faults as a write would, before any change. */
uint32_t cpu_read_rmw(struct cpu *cpu, int seg, uint32_t off, unsigned size);
/* Check that [off, off+len) of 'seg' is accessible for 'write' (no access done). */
void cpu_check_segment(struct cpu *cpu, int seg, uint32_t off, uint32_t len, bool write);

static inline uint8_t cpu_read8(struct cpu *cpu, int seg, uint32_t off) { return (uint8_t)cpu_read(cpu, seg, off, 1); }
static inline uint16_t cpu_read16(struct cpu *cpu, int seg, uint32_t off) { return (uint16_t)cpu_read(cpu, seg, off, 2); }
static inline uint32_t cpu_read32(struct cpu *cpu, int seg, uint32_t off) { return cpu_read(cpu, seg, off, 4); }
static inline void cpu_write8(struct cpu *cpu, int seg, uint32_t off, uint8_t v) { cpu_write(cpu, seg, off, v, 1); }
static inline void cpu_write16(struct cpu *cpu, int seg, uint32_t off, uint16_t v) { cpu_write(cpu, seg, off, v, 2); }
static inline void cpu_write32(struct cpu *cpu, int seg, uint32_t off, uint32_t v) { cpu_write(cpu, seg, off, v, 4); }

/*
 * Linear accesses with no segment check.  'user' selects a user-mode access
 * (CPL 3 data); system structures (GDT, LDT, IDT, TSS) are read with
 * user = false whatever the CPL (SDM Vol. 3A 5.5 "implicit supervisor").
 */
uint32_t cpu_read_lin(struct cpu *cpu, uint32_t lin, unsigned size, bool user);
void cpu_write_lin(struct cpu *cpu, uint32_t lin, uint32_t value, unsigned size, bool user);
/* Code fetch of one byte at linear 'lin' for the decoder. */
uint8_t cpu_fetch_byte(struct cpu *cpu, uint32_t lin);

/* Effective address (offset in the segment) of the ModRM memory operand. */
static inline uint32_t cpu_ea(struct cpu *cpu, const struct x86_insn *i)
{
    uint32_t a = i->disp;
    if (i->ea_base != EA_NONE) a += cpu->s.regs[i->ea_base];
    if (i->ea_index != EA_NONE) a += cpu->s.regs[i->ea_index] << i->ea_scale;
    return i->as32 ? a : (a & 0xFFFF);
}

/* ModRM r/m operand: the register (mod == 3) or memory. */
static inline uint32_t rm_read(struct cpu *cpu, const struct x86_insn *i, unsigned size)
{
    if (i->mod == 3) return reg_read(cpu, i->rm, size);
    return cpu_read(cpu, i->seg, cpu_ea(cpu, i), size);
}
static inline uint32_t rm_read_rmw(struct cpu *cpu, const struct x86_insn *i, unsigned size)
{
    if (i->mod == 3) return reg_read(cpu, i->rm, size);
    return cpu_read_rmw(cpu, i->seg, cpu_ea(cpu, i), size);
}
static inline void rm_write(struct cpu *cpu, const struct x86_insn *i, unsigned size, uint32_t v)
{
    if (i->mod == 3) reg_write(cpu, i->rm, size, v);
    else cpu_write(cpu, i->seg, cpu_ea(cpu, i), v, size);
}

/* ---------- stack (exec_stack.c) ---------- */

/* Stack width is SS.B: 32-bit ESP or 16-bit SP. */
static inline bool stack32(const struct cpu *cpu) { return (cpu->s.seg[SEG_SS].attr & SEG_ATTR_DB) != 0; }
static inline uint32_t stack_ptr(const struct cpu *cpu)
{
    return stack32(cpu) ? cpu->s.regs[R_ESP] : (uint16_t)cpu->s.regs[R_ESP];
}
static inline void stack_ptr_set(struct cpu *cpu, uint32_t sp)
{
    if (stack32(cpu)) cpu->s.regs[R_ESP] = sp;
    else cpu->s.regs[R_ESP] = (cpu->s.regs[R_ESP] & 0xFFFF0000u) | (uint16_t)sp;
}
/* Push/pop 'size' bytes (2 or 4); ESP changes only after the access succeeded. */
void cpu_push(struct cpu *cpu, unsigned size, uint32_t value);
uint32_t cpu_pop(struct cpu *cpu, unsigned size);
/* Read the value 'depth' bytes above the stack top without popping. */
uint32_t cpu_stack_peek(struct cpu *cpu, uint32_t depth, unsigned size);

/* ---------- segments, descriptors (segment.c) ---------- */

/* Raw 8-byte descriptor as two dwords. */
struct x86_descriptor { uint32_t lo, hi; };

/* Load a segment register as MOV/POP/LxS do (SDM Vol. 2B MOV), all checks. */
void cpu_load_sreg(struct cpu *cpu, int sreg, uint16_t selector);
/* Real mode / vm86: base = selector << 4, attributes unchanged but for real-mode rules. */
void cpu_load_sreg_real(struct cpu *cpu, int sreg, uint16_t selector);
/* Fill a segment cache from a descriptor (no checks). */
void cpu_segment_from_descriptor(struct x86_segment *seg, uint16_t selector, struct x86_descriptor d);
/* Read the descriptor for 'selector' from the GDT/LDT; false when outside the table limit. */
bool cpu_read_descriptor(struct cpu *cpu, uint16_t selector, struct x86_descriptor *d);
/* Set the accessed bit of a code/data descriptor in memory. */
void cpu_set_descriptor_accessed(struct cpu *cpu, uint16_t selector, struct x86_descriptor *d);

static inline bool cpu_protected(const struct cpu *cpu) { return (cpu->s.cr0 & CR0_PE) != 0; }
static inline bool cpu_vm86(const struct cpu *cpu) { return (cpu->s.eflags & EFLAGS_VM) != 0; }
static inline unsigned cpu_iopl(const struct cpu *cpu) { return (cpu->s.eflags & EFLAGS_IOPL) >> EFLAGS_IOPL_SHIFT; }

/* Far control transfers (control_far.c): JMP/CALL far through code
 * segments, call gates, task gates and TSSs; RET far; IRET.  The first
 * three report themselves to the sensitive hook; cpu_iret returns the
 * EFLAGS image it popped (a task return: the new task's EFLAGS) for its
 * handler's report. */
void cpu_far_jump(struct cpu *cpu, uint16_t selector, uint32_t offset, unsigned opsize);
void cpu_far_call(struct cpu *cpu, uint16_t selector, uint32_t offset, unsigned opsize);
void cpu_far_return(struct cpu *cpu, unsigned opsize, uint16_t pop_extra);
uint32_t cpu_iret(struct cpu *cpu, unsigned opsize);

/* Task switch (task.c), SDM Vol. 3A 7.3. */
enum task_switch_reason { TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT };
void cpu_task_switch(struct cpu *cpu, uint16_t tss_selector, struct x86_descriptor tss_desc,
                     enum task_switch_reason reason, bool has_error, uint32_t error_code);

/* ---------- I/O permission (exec_io.c) ---------- */

/* #GP(0) unless the port access is allowed: CPL <= IOPL or the TSS I/O bitmap. */
void cpu_check_io(struct cpu *cpu, uint16_t port, unsigned size);
/* Port I/O with I/O breakpoints (DR7 RW=10 with CR4.DE). */
uint32_t cpu_port_in(struct cpu *cpu, uint16_t port, unsigned size);
void cpu_port_out(struct cpu *cpu, uint16_t port, uint32_t value, unsigned size);

/* ---------- control registers (exec_system.c) ---------- */
void cpu_write_cr0(struct cpu *cpu, uint32_t value);
void cpu_write_cr3(struct cpu *cpu, uint32_t value);
void cpu_write_cr4(struct cpu *cpu, uint32_t value);

/*
 * Sensitive-but-unprivileged instructions (tae's lesson, cpu.h struct
 * cpu_sensitive).  A handler calls cpu_sensitive_trap first (before any
 * access: under cpu->sensitive_traps the instruction is #GP(0) at CPL > 0),
 * and cpu_note_sensitive once it has completed, so a faulting one is never
 * reported.  cpu_sensitive_reporting says whether a report would be made,
 * for values that cost something to compute.
 */
static inline bool cpu_sensitive_reporting(const struct cpu *cpu, unsigned cpl)
{
    return cpu->sensitive_hook && cpl > 0;
}
/* For instructions that may change CS, CPL and insn_eip (far transfers,
 * task switches): the values from before, captured by the caller. */
static inline void cpu_note_sensitive_from(struct cpu *cpu, const char *mnemonic, uint32_t eip,
                                           uint16_t cs, unsigned cpl, uint32_t wanted, uint32_t got)
{
    if (!cpu_sensitive_reporting(cpu, cpl)) return;
    struct cpu_sensitive ev = { .mnemonic = mnemonic, .eip = eip, .cs = cs, .cpl = (uint8_t)cpl,
                                .wanted = wanted, .got = got };
    cpu->sensitive_hook(cpu->sensitive_opaque, &ev);
}
static inline void cpu_note_sensitive(struct cpu *cpu, const char *mnemonic, uint32_t wanted, uint32_t got)
{
    cpu_note_sensitive_from(cpu, mnemonic, cpu->insn_eip, cpu->s.seg[SEG_CS].selector, cpu->s.cpl,
                            wanted, got);
}
/* LAR, LSL, VERR, VERW: with the selector they examined. */
static inline void cpu_note_sensitive_selector(struct cpu *cpu, const char *mnemonic, uint32_t wanted,
                                               uint32_t got, uint16_t selector)
{
    if (!cpu_sensitive_reporting(cpu, cpu->s.cpl)) return;
    struct cpu_sensitive ev = { .mnemonic = mnemonic, .eip = cpu->insn_eip, .cs = cpu->s.seg[SEG_CS].selector,
                                .cpl = cpu->s.cpl, .wanted = wanted, .got = got, .selector = selector };
    cpu->sensitive_hook(cpu->sensitive_opaque, &ev);
}
static inline void cpu_sensitive_trap(struct cpu *cpu)
{
    if (cpu->sensitive_traps && cpu->s.cpl > 0)
        cpu_fault_err(cpu, X86_GP, 0);
}

/* ---------- debug registers (debug.c) ---------- */
/* Recompute cpu->check_each_insn / data_breakpoints_active from DR7, TF, host bps. */
void cpu_debug_update(struct cpu *cpu);
/* Check data breakpoints for an access at linear 'lin'; records hits in pending_dr6. */
void cpu_debug_check_data(struct cpu *cpu, uint32_t lin, unsigned size, bool write);
/* Check I/O breakpoints (CR4.DE). */
void cpu_debug_check_io(struct cpu *cpu, uint16_t port, unsigned size);

/*
 * Per-instruction debug checks, run only while cpu->check_each_insn is set
 * (SDM Vol. 3B 17.3): before an instruction, DR0-3 instruction breakpoints
 * (a fault, suppressed by EFLAGS.RF, which this clears after the instruction
 * completes); after it, the TF single-step trap and data/I-O breakpoint hits
 * recorded in pending_dr6 (traps).  Both raise #DB via cpu_fault/
 * cpu_soft_interrupt-style unwinding.  'tf_before' is EFLAGS.TF as it was
 * before the instruction ran (POPF setting TF traps only after the next one).
 */
void cpu_debug_before_insn(struct cpu *cpu);
void cpu_debug_after_insn(struct cpu *cpu, bool tf_before);

/*
 * The time-stamp counter: one tick per retired instruction plus an offset
 * (WRMSR 0x10 sets the offset), so runs are deterministic.  cpu_get_state
 * reports it in s.tsc.
 */
static inline uint64_t cpu_tsc(const struct cpu *cpu) { return cpu->stats.instructions + cpu->tsc_offset; }

/* Recompute CPL-dependent caches (mmu_user) after a CPL change. */
void cpu_set_cpl(struct cpu *cpu, unsigned cpl);

/* The handlers, declared from the table. */
#define OP(code, h, d) void op_##h(struct cpu *cpu, const struct x86_insn *i);
#include "cpu/opcodes.def"
#undef OP

#endif
