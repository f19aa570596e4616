/*
 * bios.h - trapeze's system BIOS: the ROM (machine/bios/bios.asm) and the
 * services it enters through I/O ports (the C files of machine/bios/).
 *
 * Why a ROM plus C services (DESIGN.md "The BIOS traps through I/O"): the
 * real-mode parts a student wants to step through (the reset path, the
 * interrupt stubs, the timer tick, the switch to protected mode) are
 * assembly in the ROM; the bookkeeping (disk geometry, the E820 map, the
 * keyboard tables) is C, reached by an OUT that every engine already
 * delivers to the bus (under kvm it is an I/O exit).  No private CPU trap.
 *
 *   port 0x0530  BIOS_FRAME_PORT, dword write: SS << 16 | SP of the frame
 *   port 0x0534  BIOS_CALL_PORT, byte write: run that service on the frame;
 *                byte read: its verdict (enum bios_verdict)
 *
 * The frame (bios.asm has the picture): PUSHAD, ES, DS, then the IP, CS,
 * FLAGS of the INT.  Real mode only: the frame's linear address is
 * SS * 16 + SP, read and written through the bus (A20 applies).
 *
 * The ports exist only with the built-in BIOS; -bios FILE replaces both.
 */
#ifndef TRAPEZE_BIOS_H
#define TRAPEZE_BIOS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define BIOS_FRAME_PORT 0x0530
#define BIOS_CALL_PORT  0x0534
#define BIOS_ROM_BASE   0xF0000u      /* 64 KiB, also at 0xFFFF0000 */
#define BIOS_ROM_SIZE   0x10000u
#define BIOS_VECTOR_INFO 0xFFE0u     /* ROM offset: dw table, dw count, dw default IRET */

/* Service numbers: the SVC_* constants of bios.asm (keep in step). */
enum bios_service {
    BIOS_SVC_POST = 1,
    BIOS_SVC_INT10 = 2,
    BIOS_SVC_INT11 = 3,
    BIOS_SVC_INT12 = 4,
    BIOS_SVC_INT13 = 5,
    BIOS_SVC_INT15 = 6,
    BIOS_SVC_INT16 = 7,
    BIOS_SVC_INT18 = 8,
    BIOS_SVC_INT19 = 9,
    BIOS_SVC_INT1A = 10,
    BIOS_SVC_IRQ1 = 11,
};

/* What the stub does after the service (read back from BIOS_CALL_PORT). */
enum bios_verdict {
    BIOS_DONE = 0,            /* pop the frame, IRET */
    BIOS_WAIT = 1,            /* STI, HLT, call again (int 16h: no key yet) */
    BIOS_BOOT_DISK = 2,       /* jump to 0000:7C00, DL = the frame's DL */
    BIOS_HALT = 4,            /* the machine was stopped: halt until it ends */
};

struct machine;

struct bios {
    struct machine *machine;
    uint32_t frame;           /* linear address latched by BIOS_FRAME_PORT */
    uint8_t verdict;          /* of the last service */
    /* Unimplemented functions already reported, one bit per (int, AH). */
    uint8_t warned[4][256 / 8];
};

/* The ROM image built from bios.asm (generated bios_rom.c). */
extern const uint8_t bios_rom[BIOS_ROM_SIZE];

/*
 * Map the ROM at 0xF0000 and 0xFFFF0000 and claim the two ports.
 * Returns 0 or -errno after one printed line.
 */
int bios_init(struct bios *b, struct machine *m);

/*
 * -kernel: run POST now, from C, as the ROM's reset path would (IVT, BDA,
 * EBDA, PIC, PIT, 8042, video, ticks), so the kernel finds the machine as
 * a PC BIOS leaves it while the CPU starts right at the Multiboot entry.
 */
void bios_post(struct bios *b);

/* Back to power-on (the ROM's POST rebuilds everything else). */
void bios_reset(struct bios *b);

/*
 * The registry's hooks ("bios", registered by bios_init): the frame address
 * latched by port 0x530 and the verdict port 0x534 reads back are state a
 * guest can be stopped between (a student stepping through a stub, then
 * savevm), so they are saved; the once-only "not implemented" notices are
 * host-side and are not.
 */
struct snapshot;
int bios_save(void *opaque, struct snapshot *s);
struct snapshot_check;
int bios_load(void *opaque, const struct snapshot *s, struct snapshot_check *c);
void bios_info(void *opaque, FILE *out);

/* Set-1 make code -> int 16h key word, for the tests (0: no key). */
uint16_t bios_scancode_to_key(uint8_t scancode, uint8_t shift_flags);

/* BCD helper shared with the tests: 0-99 -> 0x00-0x99. */
static inline uint8_t bios_to_bcd(unsigned v) { return (uint8_t)(((v / 10) << 4) | (v % 10)); }

#endif
