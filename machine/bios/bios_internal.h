/*
 * bios_internal.h - what the BIOS's C services share: the register frame,
 * guest memory and port access as the ROM would do them, the BDA layout.
 */
#ifndef TRAPEZE_BIOS_INTERNAL_H
#define TRAPEZE_BIOS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "machine/bios/bios.h"
#include "machine/machine.h"

/* The frame the ROM stub pushed (bios.asm), as 16-bit real mode sees it. */
struct bios_frame {
    uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;   /* PUSHAD order, EDI lowest */
    uint16_t es, ds;
    uint16_t ip, cs, flags;                             /* the INT's IRET frame */
};
#define BIOS_FRAME_SIZE 42

#define FLAG_CF 0x0001   /* EFLAGS bit 0 (SDM 1 3.4.3) */
#define FLAG_ZF 0x0040   /* EFLAGS bit 6 */
#define FLAG_IF 0x0200   /* EFLAGS bit 9 */

/* Byte and word views of the saved registers. */
static inline uint8_t bios_ah(const struct bios_frame *f) { return (uint8_t)(f->eax >> 8); }
static inline uint8_t bios_al(const struct bios_frame *f) { return (uint8_t)f->eax; }
static inline uint8_t bios_bh(const struct bios_frame *f) { return (uint8_t)(f->ebx >> 8); }
static inline uint8_t bios_bl(const struct bios_frame *f) { return (uint8_t)f->ebx; }
static inline uint8_t bios_ch(const struct bios_frame *f) { return (uint8_t)(f->ecx >> 8); }
static inline uint8_t bios_cl(const struct bios_frame *f) { return (uint8_t)f->ecx; }
static inline uint8_t bios_dh(const struct bios_frame *f) { return (uint8_t)(f->edx >> 8); }
static inline uint8_t bios_dl(const struct bios_frame *f) { return (uint8_t)f->edx; }
static inline void bios_set_lo16(uint32_t *r, uint16_t v) { *r = (*r & 0xFFFF0000u) | v; }
static inline void bios_set_hi8(uint32_t *r, uint8_t v) { *r = (*r & 0xFFFF00FFu) | ((uint32_t)v << 8); }
static inline void bios_set_lo8(uint32_t *r, uint8_t v) { *r = (*r & 0xFFFFFF00u) | v; }
static inline void bios_set_cf(struct bios_frame *f, bool on)
{
    f->flags = (uint16_t)(on ? f->flags | FLAG_CF : f->flags & ~FLAG_CF);
}
static inline void bios_set_zf(struct bios_frame *f, bool on)
{
    f->flags = (uint16_t)(on ? f->flags | FLAG_ZF : f->flags & ~FLAG_ZF);
}
/* Real-mode linear address of seg:off. */
static inline uint32_t bios_linear(uint16_t seg, uint16_t off) { return ((uint32_t)seg << 4) + off; }

/*
 * The BIOS data area (segment 0040h), offsets from linear 0x400 (IBM PC AT
 * Technical Reference, "BIOS Data Area"; Ralf Brown's MEMORY.LST).
 */
#define BDA                 0x400u
#define BDA_COM_PORTS       0x400u  /* 4 words: COM1-COM4 base ports */
#define BDA_LPT_PORTS       0x408u  /* 3 words: LPT1-LPT3 */
#define BDA_EBDA_SEGMENT    0x40Eu  /* word: segment of the extended BDA */
#define BDA_EQUIPMENT       0x410u  /* word: int 11h */
#define BDA_MEMORY_KB       0x413u  /* word: int 12h, KiB below the EBDA */
#define BDA_KBD_FLAGS1      0x417u  /* shift/ctrl/alt state, lock states */
#define BDA_KBD_FLAGS2      0x418u  /* keys held down */
#define BDA_KBD_HEAD        0x41Au  /* word: offset (from 0x400) of the next key to read */
#define BDA_KBD_TAIL        0x41Cu  /* word: offset of the next free slot */
#define BDA_KBD_BUFFER      0x41Eu  /* 16 words */
#define BDA_FLOPPY_STATUS   0x441u  /* last diskette operation's status */
#define BDA_VIDEO_MODE      0x449u
#define BDA_VIDEO_COLUMNS   0x44Au  /* word */
#define BDA_VIDEO_PAGE_SIZE 0x44Cu  /* word: bytes per page */
#define BDA_VIDEO_PAGE_OFF  0x44Eu  /* word: start of the active page in video memory */
#define BDA_CURSOR_POS      0x450u  /* 8 words: column (low), row (high), per page */
#define BDA_CURSOR_SHAPE    0x460u  /* word: end line (low), start line (high) */
#define BDA_VIDEO_ACTIVE_PAGE 0x462u
#define BDA_CRTC_BASE       0x463u  /* word: 0x3D4 color */
#define BDA_VIDEO_MODE_CTL  0x465u  /* 3x8 mode control register value */
#define BDA_VIDEO_PALETTE   0x466u
#define BDA_TICKS           0x46Cu  /* dword: timer ticks since midnight */
#define BDA_MIDNIGHT        0x470u  /* nonzero once the count passed 24 h */
#define BDA_HD_STATUS       0x474u  /* last hard disk operation's status */
#define BDA_HD_COUNT        0x475u  /* number of hard disks */
#define BDA_KBD_START       0x480u  /* word: buffer start offset (0x1E) */
#define BDA_KBD_END         0x482u  /* word: buffer end offset (0x3E) */
#define BDA_VIDEO_ROWS      0x484u  /* rows - 1 */
#define BDA_CHAR_HEIGHT     0x485u  /* word: scan lines per character */
#define BDA_VIDEO_EGA_MISC  0x487u
#define BDA_VIDEO_SWITCHES  0x488u
#define BDA_VIDEO_FLAGS     0x489u  /* VGA mode-set option flags */
#define BDA_KBD_FLAGS3      0x496u  /* bit 4: 101/102-key keyboard; 2 right ctrl, 3 right alt */

#define EBDA_SEGMENT        0x9FC0u /* 1 KiB at 0x9FC00, below the 640 KiB line */
#define EBDA_SIZE_KB        1u

/* Which interrupt an unimplemented-function report is about. */
enum bios_int_index { BIOS_WARN_INT10, BIOS_WARN_INT13, BIOS_WARN_INT15, BIOS_WARN_OTHER };

uint8_t bios_read8(struct bios *b, uint32_t addr);
uint16_t bios_read16(struct bios *b, uint32_t addr);
uint32_t bios_read32(struct bios *b, uint32_t addr);
void bios_write8(struct bios *b, uint32_t addr, uint8_t v);
void bios_write16(struct bios *b, uint32_t addr, uint16_t v);
void bios_write32(struct bios *b, uint32_t addr, uint32_t v);
uint8_t bios_inb(struct bios *b, uint16_t port);
void bios_outb(struct bios *b, uint16_t port, uint8_t v);

/* One stderr line per (int, AH) the first time a guest calls it. */
void bios_report_unimplemented(struct bios *b, enum bios_int_index which, unsigned intno,
                               const struct bios_frame *f);

/* The services (one file each); they return the verdict for the stub. */
enum bios_verdict bios_int10(struct bios *b, struct bios_frame *f);
enum bios_verdict bios_int13(struct bios *b, struct bios_frame *f);
enum bios_verdict bios_int15(struct bios *b, struct bios_frame *f);
enum bios_verdict bios_int16(struct bios *b, struct bios_frame *f);
enum bios_verdict bios_int1a(struct bios *b, struct bios_frame *f);
enum bios_verdict bios_irq1(struct bios *b, struct bios_frame *f);

/* Video for POST and the boot messages: mode 3 cleared, teletype a string. */
void bios_video_init(struct bios *b);
void bios_video_puts(struct bios *b, const char *s);

/* Disks for POST and int 19h. */
void bios_disk_init(struct bios *b);
/* Read sector 0 of the BIOS drive 'drive' (0x00, 0x80) into 0x7C00; 0 or -errno. */
int bios_disk_read_boot_sector(struct bios *b, uint8_t drive);
/* The role behind BIOS drive number 'drive', or -1. */
int bios_disk_role(struct bios *b, uint8_t drive);

/* -nographic's serial console (bios_serial.c): a teletype character to
   COM1; COM1's received bytes into the keyboard buffer (int 16h). */
void bios_serial_put(struct bios *b, uint8_t ch);
void bios_serial_poll(struct bios *b);
/* The keyboard buffer (bios_keyboard.c): append a key word (dropped when
   full); the key word that types printable ASCII 'c' on a US keyboard, 0: none. */
void bios_keyboard_put(struct bios *b, uint16_t key);
uint16_t bios_ascii_to_key(uint8_t c);

/* Timer and keyboard state for POST. */
void bios_time_init(struct bios *b);
void bios_keyboard_init(struct bios *b);
/* The RTC register 'reg' read through ports 0x70/0x71. */
uint8_t bios_cmos_read(struct bios *b, uint8_t reg);

#endif
