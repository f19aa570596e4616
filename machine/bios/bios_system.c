/*
 * bios_system.c - int 15h (system services) and int 1Ah (time of day),
 * and the tick count POST sets from the RTC.
 *
 * int 15h (IBM PS/2 and PC BIOS Technical Reference; Ralf Brown's
 * INTERRUP.LST; ACPI 6.x section 15 "System Address Map Interfaces"):
 *   AX=2400h/2401h  A20 off/on, through port 92h bit 1 (System Control Port A)
 *   AX=2402h        A20 state in AL      AX=2403h  A20 support: BX = 3
 *                   (both the keyboard controller and port 92h)
 *   AH=88h          AX = KiB above 1 MiB (CMOS 30h/31h, as the AT BIOS),
 *                   at most FC00h = 63 MiB as SeaBIOS answers (QEMU, our oracle)
 *   AX=E801h        AX = CX = KiB between 1 and 16 MiB, BX = DX = 64 KiB
 *                   blocks above 16 MiB
 *   EAX=E820h       the memory map, one range per call: EDX = 'SMAP',
 *                   EBX = continuation (0 first), ECX >= 20, ES:DI buffer;
 *                   returns EAX = 'SMAP', ECX = 20, EBX = next (0: last)
 *   AH=C0h          ES:BX = the system configuration table in the ROM
 * Unsupported: CF = 1, AH = 86h ("function not supported").
 *
 * int 1Ah (IBM AT Tech Ref, TIME_OF_DAY): 00h read ticks (CX:DX, AL = the
 * midnight flag, then cleared), 01h set ticks, 02h read the RTC time (CH
 * hours, CL minutes, DH seconds in BCD, DL = daylight saving bit), 04h
 * read the RTC date (CH century, CL year, DH month, DL day in BCD).
 * The RTC is read through ports 70h/71h (MC146818A data sheet).
 */
#include "machine/bios/bios_internal.h"

#include "devices/cmos_rtc.h"
#include "machine/multiboot.h"

#define SMAP 0x534D4150u   /* 'SMAP' */
#define ST_UNSUPPORTED 0x86

uint8_t bios_cmos_read(struct bios *b, uint8_t reg)
{
    bios_outb(b, CMOS_INDEX_PORT, reg);   /* bit 7 = 0: NMI stays enabled */
    return bios_inb(b, CMOS_DATA_PORT);
}

/* MC146818A: register B bit 2 (DM) = 1 binary, 0 BCD; bit 1 = 24-hour. */
static unsigned rtc_value(struct bios *b, uint8_t reg)
{
    uint8_t v = bios_cmos_read(b, reg), regb = bios_cmos_read(b, RTC_REG_B);
    if (reg == RTC_HOURS && !(regb & 0x02)) {
        /* 12-hour mode: bit 7 = PM, 12 means 0 (AM) or 12 (PM). */
        bool pm = v & 0x80;
        unsigned h = regb & 0x04 ? (v & 0x7F) : (unsigned)((v >> 4 & 7) * 10 + (v & 0xF));
        return (h % 12) + (pm ? 12 : 0);
    }
    return regb & 0x04 ? v : (unsigned)((v >> 4) * 10 + (v & 0xF));
}

/* Wait (bounded) while the RTC updates: bit 7 of register A (UIP). */
static void rtc_wait_update(struct bios *b)
{
    for (int i = 0; i < 10000 && (bios_cmos_read(b, RTC_REG_A) & 0x80); i++)
        ;
}

void bios_time_init(struct bios *b)
{
    rtc_wait_update(b);
    uint64_t secs = rtc_value(b, RTC_HOURS) * 3600u + rtc_value(b, RTC_MINUTES) * 60u +
                    rtc_value(b, RTC_SECONDS);
    /* 1193182 / 65536 ticks per second (8254 input clock / counter 0 count). */
    bios_write32(b, BDA_TICKS, (uint32_t)(secs * 1193182u / 65536u));
    bios_write8(b, BDA_MIDNIGHT, 0);
}

static enum bios_verdict int15_fail(struct bios *b, struct bios_frame *f, bool report)
{
    if (report)
        bios_report_unimplemented(b, BIOS_WARN_INT15, 0x15, f);
    bios_set_hi8(&f->eax, ST_UNSUPPORTED);
    bios_set_cf(f, true);
    return BIOS_DONE;
}

static enum bios_verdict int15_ok(struct bios_frame *f)
{
    bios_set_hi8(&f->eax, 0);
    bios_set_cf(f, false);
    return BIOS_DONE;
}

/* A20 through System Control Port A (port 92h bit 1), as PS/2 BIOSes do. */
static enum bios_verdict a20_service(struct bios *b, struct bios_frame *f)
{
    uint8_t p92 = bios_inb(b, 0x92);
    switch (bios_al(f)) {
    case 0x00:
        bios_outb(b, 0x92, (uint8_t)(p92 & ~0x03));   /* bit 0 (reset) stays 0 */
        return int15_ok(f);
    case 0x01:
        bios_outb(b, 0x92, (uint8_t)((p92 | 0x02) & ~0x01));
        return int15_ok(f);
    case 0x02:
        bios_set_lo8(&f->eax, (p92 >> 1) & 1);
        return int15_ok(f);
    case 0x03:
        bios_set_lo16(&f->ebx, 0x0003);
        return int15_ok(f);
    }
    return int15_fail(b, f, true);
}

static enum bios_verdict e820(struct bios *b, struct bios_frame *f)
{
    struct pc_memory_range map[PC_MEMORY_RANGES];
    multiboot_memory_map(b->machine->bus.ram_size, map);
    uint32_t index = f->ebx;
    if (f->edx != SMAP || f->ecx < 20 || index >= PC_MEMORY_RANGES)
        return int15_fail(b, f, false);
    uint32_t dst = bios_linear(f->es, (uint16_t)f->edi);
    bios_write32(b, dst + 0, (uint32_t)map[index].base);
    bios_write32(b, dst + 4, (uint32_t)(map[index].base >> 32));
    bios_write32(b, dst + 8, (uint32_t)map[index].length);
    bios_write32(b, dst + 12, (uint32_t)(map[index].length >> 32));
    bios_write32(b, dst + 16, map[index].type);
    f->eax = SMAP;
    f->ecx = 20;
    f->ebx = index + 1 < PC_MEMORY_RANGES ? index + 1 : 0;
    bios_set_cf(f, false);
    return BIOS_DONE;
}

enum bios_verdict bios_int15(struct bios *b, struct bios_frame *f)
{
    uint32_t ram = b->machine->bus.ram_size;
    if ((f->eax & 0xFFFF) == 0xE820 && (f->eax >> 16) == 0)
        return e820(b, f);
    switch (bios_ah(f)) {
    case 0x24:
        return a20_service(b, f);
    case 0x88: {
        uint16_t kb = (uint16_t)(bios_cmos_read(b, CMOS_EXT_MEM2_LO) | bios_cmos_read(b, CMOS_EXT_MEM2_HI) << 8);
        bios_set_lo16(&f->eax, kb > 0xFC00 ? 0xFC00 : kb);
        bios_set_cf(f, false);
        return BIOS_DONE;
    }
    case 0xE8:
        if (bios_al(f) == 0x01) {
            uint32_t low = ram > (16u << 20) ? 15u * 1024 : (ram - (1u << 20)) / 1024;
            uint32_t high = ram > (16u << 20) ? (ram - (16u << 20)) >> 16 : 0;
            bios_set_lo16(&f->eax, (uint16_t)low);
            bios_set_lo16(&f->ecx, (uint16_t)low);
            bios_set_lo16(&f->ebx, (uint16_t)high);
            bios_set_lo16(&f->edx, (uint16_t)high);
            bios_set_cf(f, false);
            return BIOS_DONE;
        }
        return int15_fail(b, f, true);
    case 0xC0:
        f->es = 0xF000;
        bios_set_lo16(&f->ebx, 0xE6F5);
        return int15_ok(f);
    }
    return int15_fail(b, f, true);
}

enum bios_verdict bios_int1a(struct bios *b, struct bios_frame *f)
{
    switch (bios_ah(f)) {
    case 0x00: {
        uint32_t t = bios_read32(b, BDA_TICKS);
        bios_set_lo16(&f->ecx, (uint16_t)(t >> 16));
        bios_set_lo16(&f->edx, (uint16_t)t);
        bios_set_lo8(&f->eax, bios_read8(b, BDA_MIDNIGHT));
        bios_write8(b, BDA_MIDNIGHT, 0);
        bios_set_cf(f, false);
        return BIOS_DONE;
    }
    case 0x01:
        bios_write32(b, BDA_TICKS, (f->ecx & 0xFFFF) << 16 | (f->edx & 0xFFFF));
        bios_write8(b, BDA_MIDNIGHT, 0);
        bios_set_cf(f, false);
        return BIOS_DONE;
    case 0x02:
        rtc_wait_update(b);
        bios_set_lo16(&f->ecx, (uint16_t)(bios_to_bcd(rtc_value(b, RTC_HOURS)) << 8 |
                                          bios_to_bcd(rtc_value(b, RTC_MINUTES))));
        bios_set_lo16(&f->edx, (uint16_t)(bios_to_bcd(rtc_value(b, RTC_SECONDS)) << 8 |
                                          (bios_cmos_read(b, RTC_REG_B) & 0x01)));
        bios_set_cf(f, false);
        return BIOS_DONE;
    case 0x04:
        rtc_wait_update(b);
        bios_set_lo16(&f->ecx, (uint16_t)(bios_to_bcd(rtc_value(b, CMOS_CENTURY) % 100) << 8 |
                                          bios_to_bcd(rtc_value(b, RTC_YEAR) % 100)));
        bios_set_lo16(&f->edx, (uint16_t)(bios_to_bcd(rtc_value(b, RTC_MONTH) % 100) << 8 |
                                          bios_to_bcd(rtc_value(b, RTC_DATE) % 100)));
        bios_set_cf(f, false);
        return BIOS_DONE;
    }
    bios_report_unimplemented(b, BIOS_WARN_OTHER, 0x1A, f);
    bios_set_cf(f, true);
    return BIOS_DONE;
}
