/*
 * multiboot.h - the Multiboot (version 0.6.96) loader behind -kernel.
 *
 * Reference: "Multiboot Specification version 0.6.96" (GNU GRUB), sections
 * 3.1 (OS image format), 3.2 (machine state) and 3.3 (boot information).
 *
 * The image carries a header in its first 8192 bytes, 32-bit aligned:
 *
 *   offset  field          present when
 *     0     magic          0x1BADB002
 *     4     flags          bit 0 page-align modules, 1 memory info, 2 video mode,
 *                          16 the address fields below are valid ("a.out kludge")
 *     8     checksum       magic + flags + checksum == 0 (mod 2^32)
 *    12     header_addr    flags bit 16: where this header lands in memory
 *    16     load_addr      flags bit 16: where the file byte (header - (header_addr - load_addr)) lands
 *    20     load_end_addr  flags bit 16: end of the text+data to load (0 = to the end of file)
 *    24     bss_end_addr   flags bit 16: end of the bss to zero (0 = no bss)
 *    28     entry_addr     flags bit 16: where to jump
 *
 * Without bit 16 the image must be an ELF32 i386 executable: its PT_LOAD
 * segments load at p_paddr (bss zeroed up to p_memsz) and it starts at
 * e_entry (translated from p_vaddr to p_paddr when it lies in a segment's
 * virtual range only, as QEMU does for higher-half kernels).
 *
 * Memory layout this loader builds (RAM 128 MiB, kernel at 1 MiB):
 *
 *   0x00000500  GDT (null, null, 0x10 code, 0x18 data)      } the boot block: placed
 *               multiboot_info, memory map, module list,   } here unless the kernel
 *               command lines, "trapeze"                   } or a module is in the way,
 *                                                          } else after the last module
 *   0x00100000  kernel (ELF segments or the kludge range)
 *   next 4 KiB  module 1, module 2, ... (each page aligned)
 *
 * Entry state (spec 3.2): EAX = 0x2BADB002, EBX = the info address,
 * protected mode (CR0 = PE|ET), paging off, EFLAGS.IF = 0 and VM = 0,
 * CS = 0x10 flat 4 GiB execute/read, DS = ES = FS = GS = SS = 0x18 flat
 * 4 GiB read/write, GDTR at the GDT above, A20 on.  ESP is undefined by
 * the spec; we leave it 0 so a kernel that forgets its stack fails early.
 */
#ifndef TRAPEZE_MULTIBOOT_H
#define TRAPEZE_MULTIBOOT_H

#include <stdint.h>

#include "cpu/x86_state.h"
#include "mmu/bus.h"

#define MULTIBOOT_HEADER_MAGIC      0x1BADB002u  /* in the image */
#define MULTIBOOT_BOOTLOADER_MAGIC  0x2BADB002u  /* in EAX at entry */
#define MULTIBOOT_SEARCH_BYTES      8192u

/* Header flags (spec 3.1.2). */
#define MULTIBOOT_HDR_PAGE_ALIGN 0x00000001u  /* modules on 4 KiB boundaries */
#define MULTIBOOT_HDR_MEMORY     0x00000002u  /* mem_* and mmap_* wanted */
#define MULTIBOOT_HDR_VIDEO      0x00000004u  /* a video mode wanted: declined, no VGA yet */
#define MULTIBOOT_HDR_AOUT_KLUDGE 0x00010000u /* header address fields valid */
#define MULTIBOOT_HDR_SUPPORTED  (MULTIBOOT_HDR_PAGE_ALIGN | MULTIBOOT_HDR_MEMORY | MULTIBOOT_HDR_VIDEO)

/* Info flags (spec 3.3): which fields of the info structure are valid. */
#define MULTIBOOT_INFO_MEMORY     0x00000001u  /* mem_lower, mem_upper */
#define MULTIBOOT_INFO_CMDLINE    0x00000004u
#define MULTIBOOT_INFO_MODS       0x00000008u
#define MULTIBOOT_INFO_MMAP       0x00000040u
#define MULTIBOOT_INFO_LOADER_NAME 0x00000200u

/* Byte offsets in the multiboot_info structure (spec 3.3). */
#define MBI_FLAGS            0
#define MBI_MEM_LOWER        4   /* KiB of memory from 0, at most 640 */
#define MBI_MEM_UPPER        8   /* KiB of memory from 1 MiB to the first hole */
#define MBI_BOOT_DEVICE     12
#define MBI_CMDLINE         16   /* physical address of a NUL-terminated string */
#define MBI_MODS_COUNT      20
#define MBI_MODS_ADDR       24   /* array of { mod_start, mod_end, string, reserved } */
#define MBI_MMAP_LENGTH     44   /* bytes of memory map */
#define MBI_MMAP_ADDR       48   /* entries { size, base_addr (u64), length (u64), type } */
#define MBI_BOOT_LOADER_NAME 64
#define MBI_SIZE           116   /* up to and including the framebuffer fields */

#define MULTIBOOT_MODULE_SIZE 16
#define MULTIBOOT_MMAP_ENTRY_SIZE 24   /* the 'size' field holds 20: it does not count itself */
#define MULTIBOOT_MEMORY_AVAILABLE 1
#define MULTIBOOT_MEMORY_RESERVED  2

/* The selectors of the GDT the loader builds (QEMU's multiboot uses the same). */
#define MULTIBOOT_CODE_SELECTOR 0x10
#define MULTIBOOT_DATA_SELECTOR 0x18

/*
 * Load the Multiboot kernel 'kernel' with its command line 'append' (NULL:
 * none) and the modules 'initrd' ("path[ args][,path[ args]...]", NULL:
 * none) into the bus's RAM, build the boot information, and fill 'state'
 * with the entry state.  The kernel's string is "KERNEL APPEND" and each
 * module's string is its whole entry "path args", as QEMU passes them.
 * Returns 0, or -errno after printing one line naming the file and the
 * problem (-ENOENT and friends: the file; -ENOEXEC: not Multiboot or a
 * malformed image; -EFBIG: does not fit in RAM; -ENOMEM/-EIO: the host).
 */
int multiboot_load(struct bus *bus, const char *kernel, const char *append,
                   const char *initrd, struct x86_state *state);

/*
 * The PC's memory map for 'ram_size' bytes of RAM: the Multiboot mmap and
 * the BIOS's int 15h E820 both give exactly these ranges, in this order.
 */
struct pc_memory_range {
    uint64_t base, length;
    uint32_t type;              /* MULTIBOOT_MEMORY_*, the E820 types 1 and 2 */
};
#define PC_MEMORY_RANGES 4
void multiboot_memory_map(uint32_t ram_size, struct pc_memory_range map[PC_MEMORY_RANGES]);

#endif
