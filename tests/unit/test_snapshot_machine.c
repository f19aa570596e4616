/*
 * test_snapshot_machine.c - savevm's device half, on the whole board: every
 * device in machine_add_device's registry is caught mid-activity (FIFOs
 * holding data, timers armed, IRQs pending, half-written registers, an IDE
 * transfer half done, a BIOS call between its two port writes), the board
 * is saved (machine_save), loaded into a second, freshly built machine
 * (machine_load), and the two are compared: every device's saved state
 * byte for byte, then what each does next - the next bytes read from its
 * ports and the next IRQ edges, on the same virtual clock.
 *
 * The oracle is the first machine: a restore is right when the copy cannot
 * be told from the original.  The expected values written out below (the
 * bytes the 8042 and the UART hand over, the vectors the 8259A gives) are
 * the data sheets' behaviour, so a copy that is equal but wrong fails too.
 *
 * A device registered but missing from 'covered' below fails
 * registry_is_covered: add its mid-activity state to stir() and its next
 * behaviour to the comparisons when you register a new device.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/i8042.h"
#include "devices/pic8259.h"
#include "devices/uart16550.h"
#include "machine/bios/bios.h"
#include "machine/machine.h"
#include "base/snapshot.h"
#include "mmu/bus.h"
#include "tests/test.h"

static const char *const covered[] = {
    "pic", "pit", "com1", "com2", "debugport", "port92", "cmos", "i8042", "ide", "vga", "bios",
};

#define DISK_SECTORS 4032u   /* 4 x 16 x 63 */
static uint8_t disk_byte(uint32_t sector, uint32_t i) { return (uint8_t)(sector * 7 + i * 3 + 1); }

/* The two machines' instruction counters: 1 "instruction" = 1 ns (-icount shift=0). */
static uint64_t ns_a, ns_b;
static uint64_t count_a(void *opaque) { return ns_a; }
static uint64_t count_b(void *opaque) { return ns_b; }

struct rig {
    struct machine *m;
    char disk[64];
};

/* A board booting from reset (the built-in BIOS), a hard disk, no window, no host I/O. */
static bool rig_open(struct rig *r, uint64_t (*counter)(void *))
{
    memset(r, 0, sizeof *r);
    strcpy(r->disk, "/tmp/trapeze-snap-XXXXXX");
    if (test_make_image(r->disk, DISK_SECTORS, disk_byte) < 0) return false;
    struct machine_config c = { 0 };
    c.serial = "none";
    c.debugcon = "none";
    c.icount = true;
    c.icount_shift = 0;
    c.display = MACHINE_DISPLAY_NONE;
    c.drives[DISK_IDE_MASTER].path = r->disk;
    r->m = calloc(1, sizeof *r->m);
    if (!r->m || machine_init(r->m, &c) < 0) return false;
    vclock_set_counter(&r->m->clock, counter, NULL);
    return true;
}

static void rig_close(struct rig *r)
{
    if (r->m) {
        machine_destroy(r->m);
        free(r->m);
    }
    unlink(r->disk);
}

static uint8_t in8(struct rig *r, uint16_t port) { return (uint8_t)bus_port_read(&r->m->bus, port, 1); }
static uint16_t in16(struct rig *r, uint16_t port) { return (uint16_t)bus_port_read(&r->m->bus, port, 2); }
static void out8(struct rig *r, uint16_t port, uint8_t v) { bus_port_write(&r->m->bus, port, v, 1); }

static void run_until(struct rig *r, uint64_t *ns, uint64_t t)
{
    *ns = t;
    vclock_run_timers(&r->m->clock);
}

/* Every device mid-activity. */
static void stir(struct rig *r, uint64_t *ns)
{
    /* 8259A pair: ICW1-ICW4 (edge, cascade, ICW4), vectors 20h/28h, all unmasked. */
    out8(r, 0x20, 0x11); out8(r, 0x21, 0x20); out8(r, 0x21, 0x04); out8(r, 0x21, 0x01);
    out8(r, 0xA0, 0x11); out8(r, 0xA1, 0x28); out8(r, 0xA1, 0x02); out8(r, 0xA1, 0x01);
    out8(r, 0x21, 0x00); out8(r, 0xA1, 0x00);

    /* 8254: counter 0 mode 2, 1193 (IRQ 0 every 1193 CLKs); counter 2 with
       only its LSB written (the write flip-flop waits for the MSB); counter 0
       latched and only its LSB read (the read flip-flop waits too). */
    out8(r, 0x43, 0x34); out8(r, 0x40, 1193 & 0xFF); out8(r, 0x40, 1193 >> 8);
    out8(r, 0x43, 0xB4); out8(r, 0x42, 0x34);

    /* COM1: FIFO on, received-data interrupt, OUT2 (the PC's IRQ gate), three bytes in the FIFO. */
    out8(r, 0x3FB, 0x03); out8(r, 0x3FA, 0x01); out8(r, 0x3F9, 0x01); out8(r, 0x3FC, 0x08);
    CHECK_EQ(uart_receive(r->m->com1, (const uint8_t *)"xyz", 3), 3);
    /* COM2: the divisor half written (DLAB still set), the scratch register. */
    out8(r, 0x2FB, 0x80); out8(r, 0x2F8, 0x0C); out8(r, 0x2FF, 0xA5);

    /* Debug port: "Shut" of "Shutdown" (Bochs's power-off string) matched so far. */
    for (const char *c = "Shut"; *c; c++) out8(r, 0x8900, (uint8_t)*c);
    /* Port 92h: fast A20 on, bit 3 (the lock bit) as written. */
    out8(r, 0x92, 0x0A);

    /* MC146818A: periodic interrupt at rate 6 (976.5 us), PIE + 24 h; index left at 0x40 in CMOS RAM. */
    out8(r, 0x70, 0x0A); out8(r, 0x71, 0x26);
    out8(r, 0x70, 0x0B); out8(r, 0x71, 0x42);
    out8(r, 0x70, 0x40); out8(r, 0x71, 0x5C);

    /* 8042: keys queued (set 2 from the keyboard, set 1 after translation),
       and command 60h waiting for its data byte. */
    i8042_key_event(r->m->kbd, HID_KEY_A, true);
    i8042_key_event(r->m->kbd, HID_KEY_A, false);
    i8042_key_event(r->m->kbd, HID_KEY_A + 1, true);   /* B */
    out8(r, 0x64, 0x60);

    /* IDE: READ SECTORS, LBA 5, 2 sectors; 100 of the first sector's 256 words read. */
    out8(r, 0x1F6, 0xE0); out8(r, 0x1F2, 2); out8(r, 0x1F3, 5); out8(r, 0x1F4, 0); out8(r, 0x1F5, 0);
    out8(r, 0x1F7, 0x20);
    for (int k = 0; k < 100; k++) (void)in16(r, 0x1F0);

    /* VGA: cursor location, a DAC colour one component in, the attribute flip-flop at "data next". */
    out8(r, 0x3D4, 0x0E); out8(r, 0x3D5, 0x02); out8(r, 0x3D4, 0x0F); out8(r, 0x3D5, 0x9A);
    out8(r, 0x3C8, 7); out8(r, 0x3C9, 0x15);
    (void)in8(r, 0x3DA);
    out8(r, 0x3C0, 0x31);                  /* index 11h (overscan), PAS set */

    /* The BIOS: a stub has latched its frame (SS:SP = 0000:6FD6) and not yet called. */
    bus_port_write(&r->m->bus, 0x530, 0x00006FD6u, 4);

    /* Let time run: IRQ 0 and the RTC's PF fire, IRQ 0/4/1/8/14 wait in the IRRs. */
    run_until(r, ns, 2500000);
    out8(r, 0x43, 0x00);                   /* latch counter 0 ... */
    (void)in8(r, 0x40);                    /* ... and read its LSB only */
}

static const struct snapshot_section *section(const struct snapshot *s, const char *name)
{
    return snapshot_find(s, name);
}

static struct rig a, b;
static bool ready;

/* Build A, stir it, save it; build B fresh and load A's snapshot into it. */
static void setup(void)
{
    if (ready) return;
    ready = true;
    CHECK(rig_open(&a, count_a));
    CHECK(rig_open(&b, count_b));
    stir(&a, &ns_a);
    struct snapshot s;
    const char *why = NULL;
    snapshot_init(&s);
    CHECK_EQ(machine_save(a.m, &s, &why), 0);
    struct snapshot_check c = { .apply = true };
    CHECK_EQ(machine_load(b.m, &s, NULL, &c), 0);
    snapshot_free(&s);
}

TEST(registry_is_covered)
{
    setup();
    for (int k = 0; k < a.m->device_count; k++) {
        bool found = false;
        for (size_t i = 0; i < sizeof covered / sizeof covered[0]; i++)
            found |= strcmp(covered[i], a.m->devices[k].name) == 0;
        if (!found) printf("device %s is registered but not covered here\n", a.m->devices[k].name);
        CHECK(found);
        CHECK(a.m->devices[k].save != NULL && a.m->devices[k].load != NULL);
    }
    for (size_t i = 0; i < sizeof covered / sizeof covered[0]; i++)
        CHECK(machine_find_device(a.m, covered[i]) != NULL);
}

/* Saved again, both machines give the same sections, byte for byte. */
TEST(state_equal_after_restore)
{
    setup();
    struct snapshot sa, sb;
    const char *why = NULL;
    snapshot_init(&sa);
    snapshot_init(&sb);
    CHECK_EQ(machine_save(a.m, &sa, &why), 0);
    CHECK_EQ(machine_save(b.m, &sb, &why), 0);
    CHECK_EQ(sa.count, sb.count);
    for (int k = 0; k < sa.count; k++) {
        const struct snapshot_section *x = &sa.sections[k], *y = section(&sb, sa.sections[k].name);
        CHECK(y != NULL);
        if (!y) continue;
        bool same = x->size == y->size && x->version == y->version && memcmp(x->data, y->data, x->size) == 0;
        if (!same) printf("section %s differs after the restore\n", x->name);
        CHECK(same);
    }
    snapshot_free(&sa);
    snapshot_free(&sb);
}

/*
 * The IRQs pending at the save, then the next edges on the same clock:
 * the 8259A hands out the highest priority first (IR0 > IR1 > IR2 (the
 * slave: IR8 > ... > IR14) > IR3 > IR4), each after a non-specific EOI.
 */
TEST(next_irqs_equal)
{
    setup();
    struct rig *r[2] = { &a, &b };
    uint64_t *ns[2] = { &ns_a, &ns_b };
    int got[2][8];
    for (int i = 0; i < 2; i++) {
        for (int k = 0; k < 8; k++) {
            got[i][k] = pic_intr_pending(r[i]->m->pic) ? pic_acknowledge(r[i]->m->pic) : -1;
            out8(r[i], 0xA0, 0x20);
            out8(r[i], 0x20, 0x20);
        }
        /* The next ms: IRQ 0 from the 8254 again, IRQ 8 from the RTC's next periodic flag. */
        run_until(r[i], ns[i], 3600000);
    }
    /* Pending at the save: IRQ 0 (8254), 1 (8042), 8 (RTC PF), 14 (IDE DRQ), 4 (UART data), in that order. */
    static const int want[8] = { 0x20, 0x21, 0x28, 0x2E, 0x24, -1, -1, -1 };
    for (int k = 0; k < 8; k++) {
        CHECK_EQ(got[0][k], want[k]);
        CHECK_EQ(got[1][k], want[k]);
    }
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(pic_intr_pending(r[i]->m->pic), true);
        CHECK_EQ(pic_acknowledge(r[i]->m->pic), 0x20);      /* IRQ 0 */
    }
}

/* The next bytes each device hands over, the same on both, as the data sheets say. */
TEST(next_bytes_equal)
{
    setup();
    struct rig *r[2] = { &a, &b };
    for (int i = 0; i < 2; i++) {
        /* 8254: the MSB of the latched count, then the MSB that completes counter 2's count. */
        uint8_t msb = in8(r[i], 0x40);
        CHECK(msb <= 1193 >> 8);
        out8(r[i], 0x42, 0x12);
        out8(r[i], 0x43, 0x80);                        /* latch counter 2: 1234h loaded, counting down */
        uint8_t c2_lsb = in8(r[i], 0x42);              /* LSB first, then MSB: two statements, */
        uint8_t c2_msb = in8(r[i], 0x42);              /* C leaves the order within one unspecified */
        uint16_t c2 = (uint16_t)(c2_lsb | c2_msb << 8);
        CHECK(c2 <= 0x1234 && c2 > 0x1000);
        /* 16550A: the FIFO's bytes in order; then empty (LSR DR = 0). */
        CHECK_EQ(in8(r[i], 0x3FD) & 0x01, 1);
        CHECK_EQ(in8(r[i], 0x3F8), 'x');
        CHECK_EQ(in8(r[i], 0x3F8), 'y');
        CHECK_EQ(in8(r[i], 0x3F8), 'z');
        CHECK_EQ(in8(r[i], 0x3FD) & 0x01, 0);
        /* COM2: DLAB still set, so the divisor LSB reads back; the scratch byte. */
        CHECK_EQ(in8(r[i], 0x2F8), 0x0C);
        CHECK_EQ(in8(r[i], 0x2FF), 0xA5);
        /* Debug port: "down" completes "Shutdown": the board is told to power off. */
        for (const char *c = "down"; *c; c++) out8(r[i], 0x8900, (uint8_t)*c);
        CHECK_EQ(r[i]->m->stop_reason, MACHINE_POWER_OFF);
        CHECK_EQ(in8(r[i], 0x92), 0x0A);
        /* MC146818A: CMOS RAM 40h; register C: IRQF | PF (the periodic flag set), then clear. */
        out8(r[i], 0x70, 0x40);
        CHECK_EQ(in8(r[i], 0x71), 0x5C);
        out8(r[i], 0x70, 0x0C);
        CHECK_EQ(in8(r[i], 0x71) & 0xC0, 0xC0);
        CHECK_EQ(in8(r[i], 0x71) & 0xC0, 0x00);
        /* 8042: the pending 60h takes its byte; then A make, A break, B make in set 1. */
        out8(r[i], 0x60, 0x65);
        CHECK_EQ(in8(r[i], 0x60), 0x1E);
        CHECK_EQ(in8(r[i], 0x60), 0x9E);
        CHECK_EQ(in8(r[i], 0x60), 0x30);
        CHECK_EQ(in8(r[i], 0x64) & 0x01, 0);
        /* IDE: words 100-255 of LBA 5, then all of LBA 6, then idle. */
        int bad = 0;
        for (uint32_t w = 100; w < 256; w++) {
            uint16_t v = in16(r[i], 0x1F0);
            bad += (v & 0xFF) != disk_byte(5, 2 * w) || (v >> 8) != disk_byte(5, 2 * w + 1);
        }
        CHECK_EQ(in8(r[i], 0x3F6) & 0x08, 0x08);     /* DRQ: the second sector's block */
        for (uint32_t w = 0; w < 256; w++) {
            uint16_t v = in16(r[i], 0x1F0);
            bad += (v & 0xFF) != disk_byte(6, 2 * w) || (v >> 8) != disk_byte(6, 2 * w + 1);
        }
        CHECK_EQ(bad, 0);
        CHECK_EQ(in8(r[i], 0x3F6) & 0x88, 0x00);     /* neither BSY nor DRQ */
        /* VGA: the attribute write lands as data (overscan 11h), the DAC colour completes. */
        out8(r[i], 0x3C0, 0x2A);
        out8(r[i], 0x3C0, 0x31);
        CHECK_EQ(in8(r[i], 0x3C1), 0x2A);
        out8(r[i], 0x3C9, 0x16); out8(r[i], 0x3C9, 0x17);
        out8(r[i], 0x3C7, 7);
        CHECK_EQ(in8(r[i], 0x3C9), 0x15);
        CHECK_EQ(in8(r[i], 0x3C9), 0x16);
        CHECK_EQ(in8(r[i], 0x3C9), 0x17);
        out8(r[i], 0x3D4, 0x0E);
        CHECK_EQ(in8(r[i], 0x3D5), 0x02);
    }
}

/* The BIOS's latched frame survives: the verdict reads back as saved, the frame address equal. */
TEST(bios_latch_restored)
{
    setup();
    CHECK_EQ(in8(&a, 0x534), in8(&b, 0x534));
    CHECK_EQ(b.m->bios->frame, 0x6FD6u);
    CHECK_EQ(a.m->bios->frame, b.m->bios->frame);
}

TEST(teardown)
{
    setup();
    rig_close(&a);
    rig_close(&b);
    CHECK(true);
}

TEST_MAIN()
