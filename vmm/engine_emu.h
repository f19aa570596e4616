/*
 * engine_emu.h - what another engine needs of emu beyond engine.h.
 *
 * The kvm engine keeps an emu engine on the same machine as its fallback
 * (vmm/README.md, "Fallback to the software CPU"): the guest's state moves
 * through get_state/set_state, and these two calls cover what a state
 * does not carry.
 */
#ifndef TRAPEZE_ENGINE_EMU_H
#define TRAPEZE_ENGINE_EMU_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/engine.h"

extern const struct engine_ops engine_emu_ops;

/* Guest RAM was written behind the software CPU (by KVM): forget decoded code. */
void engine_emu_memory_changed(struct engine *e);

/* Deliver now, through the guest's IDT, an event another engine had
   accepted but not yet delivered (an interrupt acknowledged at the PIC). */
void engine_emu_inject(struct engine *e, int vector, bool has_error, uint32_t error_code);

/* The guest stands at a host breakpoint it was stopped at under another
   engine: the next run executes that instruction instead of stopping again. */
void engine_emu_resume_from_breakpoint(struct engine *e);

/* An exception vector's name (SDM Vol. 3A table 6-1), "reserved" for the rest. */
const char *engine_emu_vector_name(int v);

#endif
