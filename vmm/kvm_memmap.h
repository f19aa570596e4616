/*
 * kvm_memmap.h - the bus's memory map cut into KVM memory slots.
 *
 * KVM maps guest-physical memory in page-granular slots, each backed by
 * host memory (KVM_SET_USER_MEMORY_REGION); an access outside every slot
 * exits to user space as KVM_EXIT_MMIO.  kvm_memmap_build walks struct
 * bus (mmu/bus.h) the way bus_read resolves an address - later regions
 * over earlier ones, both over RAM - and returns the pieces:
 *
 *   KVM_PIECE_RAM  backed by bus->ram itself (bus->ram + start): the very
 *                  bytes the software CPU uses, so snapshots move freely;
 *   KVM_PIECE_ROM  backed by a read-only copy the engine fills with
 *                  bus_read_block (guest writes exit as MMIO, which
 *                  bus_write ignores for ROM, as the chipset does);
 *   (MMIO regions get no piece: every access exits to bus_read/bus_write.)
 *
 * A region that does not start or end on a page boundary is widened to
 * whole pages (KVM's granule), so the bytes of a partly covered page
 * come from bus_read_block too.  RAM is also split at 1 MiB and 1 MiB +
 * 64 KiB: that piece, the HMA, is the one the engine re-points at RAM 0
 * while the A20 gate is off (see engine_kvm.c).
 *
 * Worked example: 128 MiB of RAM and a 64 KiB -bios image give
 *   RAM 0-EFFFF, ROM F0000-FFFFF (isa-bios), RAM 100000-10FFFF (HMA),
 *   RAM 110000-7FFFFFF, ROM FFFF0000-FFFFFFFF (bios).
 */
#ifndef TRAPEZE_KVM_MEMMAP_H
#define TRAPEZE_KVM_MEMMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/bus.h"

#define KVM_HMA_START 0x100000u
#define KVM_HMA_END   0x110000u
#define KVM_MEMMAP_MAX (4 * BUS_MAX_REGIONS + 8)

enum kvm_piece_kind { KVM_PIECE_RAM, KVM_PIECE_ROM };

struct kvm_piece {
    uint64_t start, end;          /* guest-physical, page-aligned, end exclusive */
    enum kvm_piece_kind kind;
    bool hma;                     /* RAM at [KVM_HMA_START, KVM_HMA_END) */
};

/* Pieces sorted by address; returns their count, or -ENOSPC. */
int kvm_memmap_build(const struct bus *bus, struct kvm_piece *out, int max);

#endif
