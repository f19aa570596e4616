/*
 * state_dump.h - the architectural state as QEMU's logs print it.
 *
 * `-d int`, `-d cpu`, `-d cpu_reset` and `-d pcall` follow each line with
 * the CPU's registers in the layout of qemu-system-i386's log, so a
 * student can put a trapeze log and a QEMU log side by side:
 *
 *   EAX=00101000 EBX=00000008 ECX=00000000 EDX=00100093
 *   ESI=00100db0 EDI=00102400 EBP=00000020 ESP=00109964
 *   EIP=001000d5 EFL=00000046 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=0
 *   ES =0010 00000000 ffffffff 00cf9300 DPL=0 DS   [-WA]
 *   CS =0008 00000000 ffffffff 00cf9a00 DPL=0 CS32 [-R-]
 *   ...                       (SS DS FS GS, then LDT and TR)
 *   GDT=     00101000 0000004f
 *   IDT=     00102000 000007ff
 *   CR0=00000011 CR2=00000000 CR3=00000000 CR4=00000000
 *   DR0=00000000 DR1=00000000 DR2=00000000 DR3=00000000
 *   DR6=ffff0ff0 DR7=00000400
 *
 * Segment lines: selector, base, byte limit, and the descriptor's high
 * dword bits 8-23 (type, S, DPL, P, limit 19:16, AVL, D/B, G: SDM Vol. 3A
 * 3.4.5); in protected mode and for a present descriptor, its DPL and kind
 * (CS16/CS32 [CR-] conforming/readable, DS/DS16 [EW-] expand-down/
 * writable, then Accessed; or the system type).  EFL's brackets are
 * D O S Z A P C.  QEMU's CCS/CCD/CCO line (its lazy-flags internals) and
 * EFER (an i386 has none) are left out.
 */
#ifndef TRAPEZE_STATE_DUMP_H
#define TRAPEZE_STATE_DUMP_H

#include <stdio.h>

#include "cpu/x86_state.h"

void x86_state_dump(const struct x86_state *s, FILE *out);

#endif
