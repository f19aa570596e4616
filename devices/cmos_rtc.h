/*
 * cmos_rtc.h - the Motorola MC146818A real-time clock and its 114 bytes
 * of battery-backed RAM: the PC/AT "CMOS".
 *
 * Reference: Motorola MC146818A data sheet (registers A-D, "Update cycle",
 * "Interrupts", table 3 "Periodic interrupt rate"); IBM PC/AT Technical
 * Reference, "CMOS RAM address map" (bytes 0x0E-0x3F).
 *
 *   port 0x70  write: bits 0-6 select a register, bit 7 = 1 disables NMI
 *              (kept; the board has no NMI source yet).  Write-only: a
 *              read returns 0xFF, the floating bus.
 *   port 0x71  the selected register
 *
 *   00 seconds      01 seconds alarm   02 minutes  03 minutes alarm
 *   04 hours        05 hours alarm     06 day of week (1 = Sunday)
 *   07 date (day of month)  08 month   09 year (00-99)
 *   0A register A   0B register B      0C register C   0D register D
 *   0E-7F RAM; 0x32 the century (PC/AT convention, kept like a time register)
 *
 * Time: the clock's time is the virtual clock (base/clock.h) plus a
 * base, so -icount runs are deterministic.  The base is the host's time at
 * start (UTC by default, or local time), or a fixed date (-rtc base=...).
 * A guest that sets the time (SET bit, then the registers) moves the base.
 *
 * The update cycle is modelled as an instant at each second boundary: the
 * time registers change there, UF is set, the alarm is compared; UIP
 * (register A bit 7) reads 1 in the 244 us before it (the data sheet's
 * t_BUC), so "UIP = 0" promises at least 244 us of stable registers.
 */
#ifndef TRAPEZE_CMOS_RTC_H
#define TRAPEZE_CMOS_RTC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/irq.h"
#include "base/clock.h"
#include "mmu/bus.h"

#define CMOS_INDEX_PORT 0x70
#define CMOS_DATA_PORT  0x71
#define CMOS_IRQ        8
#define CMOS_NMI_DISABLE 0x80   /* port 0x70 bit 7 */

/* Register indexes (MC146818A "Address map"; PC/AT CMOS map). */
#define RTC_SECONDS        0x00
#define RTC_SECONDS_ALARM  0x01
#define RTC_MINUTES        0x02
#define RTC_MINUTES_ALARM  0x03
#define RTC_HOURS          0x04
#define RTC_HOURS_ALARM    0x05
#define RTC_DAY_OF_WEEK    0x06
#define RTC_DATE           0x07
#define RTC_MONTH          0x08
#define RTC_YEAR           0x09
#define RTC_REG_A          0x0A
#define RTC_REG_B          0x0B
#define RTC_REG_C          0x0C
#define RTC_REG_D          0x0D
#define CMOS_DIAGNOSTIC    0x0E  /* POST diagnostic status */
#define CMOS_SHUTDOWN      0x0F  /* shutdown status byte */
#define CMOS_FLOPPY_TYPES  0x10  /* high nibble drive A, low nibble B: 0 none, 1 360K, 2 1.2M, 3 720K, 4 1.44M, 5 2.88M */
#define CMOS_DISK_TYPES    0x12  /* high nibble disk C, low nibble D: 0 none, 0xF = type in 0x19/0x1A */
#define CMOS_EQUIPMENT     0x14  /* bit 0 floppies, 1 coprocessor, 4-5 display, 6-7 floppies - 1 */
#define CMOS_BASE_MEM_LO   0x15  /* base memory in KiB (640) */
#define CMOS_BASE_MEM_HI   0x16
#define CMOS_EXT_MEM_LO    0x17  /* memory above 1 MiB in KiB, at most 0xFFFF */
#define CMOS_EXT_MEM_HI    0x18
#define CMOS_CHECKSUM_HI   0x2E  /* sum of bytes 0x10-0x2D */
#define CMOS_CHECKSUM_LO   0x2F
#define CMOS_EXT_MEM2_LO   0x30  /* same as 0x17/0x18 (what POST found) */
#define CMOS_EXT_MEM2_HI   0x31
#define CMOS_CENTURY       0x32  /* century, in the time registers' format */
#define CMOS_HIGH_MEM_LO   0x34  /* memory above 16 MiB in 64 KiB units (SeaBIOS, QEMU convention) */
#define CMOS_HIGH_MEM_HI   0x35
#define CMOS_SIZE          128

/* Register A. */
#define RTC_A_UIP   0x80  /* update in progress (read only) */
#define RTC_A_DV    0x70  /* divider: 010 = 32.768 kHz time base; 11x = divider reset */
#define RTC_A_DV_32K   0x20
#define RTC_A_RS    0x0F  /* rate select of the periodic interrupt (0 = none) */

/* Register B. */
#define RTC_B_SET   0x80  /* 1: updates inhibited, the time may be set */
#define RTC_B_PIE   0x40  /* periodic interrupt enable */
#define RTC_B_AIE   0x20  /* alarm interrupt enable */
#define RTC_B_UIE   0x10  /* update-ended interrupt enable */
#define RTC_B_SQWE  0x08  /* square-wave enable (SQW pin: not connected on the PC) */
#define RTC_B_DM    0x04  /* data mode: 1 binary, 0 BCD */
#define RTC_B_24H   0x02  /* 1: 24-hour mode; 0: 12-hour, hours bit 7 = PM */
#define RTC_B_DSE   0x01  /* daylight saving enable (the 1980s US rule) */

/* Register C (read only, cleared when read). */
#define RTC_C_IRQF  0x80  /* = PF&PIE | AF&AIE | UF&UIE; the IRQ pin */
#define RTC_C_PF    0x40  /* periodic edge */
#define RTC_C_AF    0x20  /* alarm */
#define RTC_C_UF    0x10  /* update ended */

/* Register D. */
#define RTC_D_VRT   0x80  /* valid RAM and time: the battery is good */

#define RTC_HOURS_PM 0x80 /* 12-hour mode: bit 7 of the hours (and hours alarm) */
#define RTC_ALARM_DONT_CARE 0xC0 /* an alarm byte with both top bits set matches any value */

/* -rtc base=: where the clock's time starts. */
enum rtc_base_kind { RTC_BASE_UTC, RTC_BASE_LOCALTIME, RTC_BASE_FIXED };

struct rtc_base {
    enum rtc_base_kind kind;
    int64_t fixed;         /* RTC_BASE_FIXED: seconds since 1970-01-01 00:00:00 */
};

/*
 * Parse QEMU's -rtc argument: [base=utc|localtime|YYYY-MM-DDTHH:MM:SS|YYYY-MM-DD]
 * [,clock=vm] (comma-separated, any order).  clock=host and clock=rt are
 * refused, as is anything else.  Returns 0, or -EINVAL with a one-line
 * reason in 'why' (static text, or written into why_buf).
 */
int rtc_parse_option(const char *arg, struct rtc_base *out, char *why_buf, size_t why_len);

/* The register state as plain data, saved as the snapshot section "cmos". */
struct cmos_rtc_state {
    uint8_t cmos[CMOS_SIZE];   /* every register and the RAM; time registers hold
                                  the guest's values while SET = 1 */
    uint8_t index;             /* the register port 0x70 selected */
    uint8_t nmi_disabled;      /* port 0x70 bit 7 */
    uint8_t running;           /* divider at 32.768 kHz: time advances */
    int8_t dow_offset;         /* guest-written day of week minus the calendar's */
    uint8_t pad[4];
    int64_t base_ns;           /* running: RTC time (ns since 1970) = base_ns + virtual ns */
    int64_t held_ns;           /* stopped (divider reset): the RTC time it stopped at */
    uint64_t accounted;        /* virtual ns up to which UF/AF/PF have been set */
};

struct cmos_rtc {
    struct vclock *clock;
    struct irq_line irq;       /* IRQ 8 */
    struct vtimer timer;       /* next periodic edge or update, when an interrupt needs it */
    struct cmos_rtc_state s;
};

/*
 * Power-on: the time from 'base', the RAM laid out for 'ram_size' bytes of
 * memory (base 640 KiB, extended, above 16 MiB) with no drives, the
 * checksum.  The divider runs at 32.768 kHz, periodic rate 6 (1024 Hz), BCD,
 * 24-hour mode: what a PC BIOS sets up.
 */
void cmos_rtc_init(struct cmos_rtc *r, struct vclock *clock,
                   struct irq_line irq, const struct rtc_base *base, uint32_t ram_size);
/* The RESET pin: clears PIE AIE UIE SQWE and IRQF PF AF UF; time and RAM kept. */
void cmos_rtc_reset(struct cmos_rtc *r);
void cmos_rtc_destroy(struct cmos_rtc *r);

/* Set a RAM byte (0x0E-0x7F) as a BIOS setup would, keeping the checksum right. */
void cmos_rtc_set_nvram(struct cmos_rtc *r, uint8_t index, uint8_t value);

/* The current RTC time, seconds since 1970 (in the RTC's own zone). */
int64_t cmos_rtc_time(struct cmos_rtc *r);

/* The board's registry hooks (opaque = the cmos_rtc); machine/pc.c registers them as "cmos". */
struct snapshot;
int cmos_rtc_save(void *opaque, struct snapshot *s);
struct snapshot_check;
int cmos_rtc_load(void *opaque, const struct snapshot *s, struct snapshot_check *c);
void cmos_rtc_reset_device(void *opaque);
void cmos_rtc_info(void *opaque, FILE *out);

extern const struct io_ops cmos_rtc_ops;   /* 2 ports at 0x70 (offset 0 index, 1 data) */

#endif
