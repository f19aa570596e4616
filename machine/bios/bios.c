/*
 * bios.c - the BIOS's port interface, POST and bootstrap (int 11h, 12h,
 * 18h, 19h).  The ROM (bios.asm) builds a register frame on the guest's
 * stack and writes the service number to BIOS_CALL_PORT; bios_call_write
 * runs the service on that frame, inside the port write, and leaves a
 * verdict the stub reads back.
 *
 * Worked example: a boot sector runs  mov ah,0Eh / mov al,'A' / int 10h.
 * The CPU takes vector 10h (F000:int10_entry), the stub pushes DS, ES and
 * PUSHAD, writes SS:SP to port 0x530 and 2 (BIOS_SVC_INT10) to port 0x534.
 * bios_call_write reads the 42-byte frame at SS*16+SP, bios_int10 stores
 * 'A' and attribute 07h at 0xB8000 + 2 * (row * 80 + col), moves the
 * cursor in the BDA and the CRTC (ports 0x3D4/0x3D5), and the frame goes
 * back to guest memory.  The stub reads BIOS_DONE from port 0x534, pops the
 * frame and IRETs to the boot sector.
 *
 * The devices are reached as a real BIOS reaches them: through their I/O
 * ports and guest memory (bus_port_read/write, bus_read/write), never
 * through their C internals.  Disks are the exception a real BIOS has too:
 * floppies have no controller model here, so int 13h reads the images in
 * m->disks[] directly (base/disk.h), for floppies and hard disks alike.
 */
#include "machine/bios/bios_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/snapshot.h"


/* ---- guest memory and ports, as the ROM would touch them ---- */

uint8_t bios_read8(struct bios *b, uint32_t addr) { return (uint8_t)bus_read(&b->machine->bus, addr, 1); }
uint16_t bios_read16(struct bios *b, uint32_t addr) { return (uint16_t)bus_read(&b->machine->bus, addr, 2); }
uint32_t bios_read32(struct bios *b, uint32_t addr) { return bus_read(&b->machine->bus, addr, 4); }
void bios_write8(struct bios *b, uint32_t addr, uint8_t v) { bus_write(&b->machine->bus, addr, v, 1); }
void bios_write16(struct bios *b, uint32_t addr, uint16_t v) { bus_write(&b->machine->bus, addr, v, 2); }
void bios_write32(struct bios *b, uint32_t addr, uint32_t v) { bus_write(&b->machine->bus, addr, v, 4); }
uint8_t bios_inb(struct bios *b, uint16_t port) { return (uint8_t)bus_port_read(&b->machine->bus, port, 1); }
void bios_outb(struct bios *b, uint16_t port, uint8_t v) { bus_port_write(&b->machine->bus, port, v, 1); }

static void frame_load(struct bios *b, struct bios_frame *f)
{
    uint8_t raw[BIOS_FRAME_SIZE];
    bus_read_block(&b->machine->bus, b->frame, raw, sizeof raw);
    uint32_t *r[8] = { &f->edi, &f->esi, &f->ebp, &f->esp, &f->ebx, &f->edx, &f->ecx, &f->eax };
    for (int i = 0; i < 8; i++)
        *r[i] = (uint32_t)raw[4 * i] | (uint32_t)raw[4 * i + 1] << 8 |
                (uint32_t)raw[4 * i + 2] << 16 | (uint32_t)raw[4 * i + 3] << 24;
    uint16_t *w[5] = { &f->es, &f->ds, &f->ip, &f->cs, &f->flags };
    for (int i = 0; i < 5; i++)
        *w[i] = (uint16_t)(raw[32 + 2 * i] | raw[33 + 2 * i] << 8);
}

static void frame_store(struct bios *b, const struct bios_frame *f)
{
    uint8_t raw[BIOS_FRAME_SIZE];
    const uint32_t r[8] = { f->edi, f->esi, f->ebp, f->esp, f->ebx, f->edx, f->ecx, f->eax };
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 4; k++)
            raw[4 * i + k] = (uint8_t)(r[i] >> (8 * k));
    const uint16_t w[5] = { f->es, f->ds, f->ip, f->cs, f->flags };
    for (int i = 0; i < 5; i++) {
        raw[32 + 2 * i] = (uint8_t)w[i];
        raw[33 + 2 * i] = (uint8_t)(w[i] >> 8);
    }
    bus_write_block(&b->machine->bus, b->frame, raw, sizeof raw);
}

void bios_report_unimplemented(struct bios *b, enum bios_int_index which, unsigned intno,
                               const struct bios_frame *f)
{
    if (!LOG_ON(LOG_UNIMP)) return;
    uint8_t ah = bios_ah(f);
    uint8_t *bits = b->warned[which];
    if (which == BIOS_WARN_OTHER)
        ah = (uint8_t)intno;   /* one report per interrupt for the rest */
    if (bits[ah / 8] & (1u << (ah % 8)))
        return;
    bits[ah / 8] |= (uint8_t)(1u << (ah % 8));
    log_printf("unimp: BIOS: int %02xh function AX=%04xh is not implemented "
               "(called from %04x:%04x); it returns an error\n",
               intno, (unsigned)(f->eax & 0xFFFF), f->cs, f->ip);
}

/* ---- POST ---- */

/*
 * The 8259A pair as a PC BIOS leaves it (8259A data sheet, "Initialization
 * Command Words"): ICW1 0x11 (edge, cascade, ICW4 follows), ICW2 vector
 * bases 0x08 and 0x70, ICW3 slave on IR2 / slave ID 2, ICW4 0x01 (8086
 * mode, normal EOI); OCW1 masks everything but IRQ 0 (timer), 1 (keyboard)
 * and 2 (the cascade).
 */
static void post_pic(struct bios *b)
{
    bios_outb(b, 0x20, 0x11);
    bios_outb(b, 0x21, 0x08);
    bios_outb(b, 0x21, 0x04);
    bios_outb(b, 0x21, 0x01);
    bios_outb(b, 0xA0, 0x11);
    bios_outb(b, 0xA1, 0x70);
    bios_outb(b, 0xA1, 0x02);
    bios_outb(b, 0xA1, 0x01);
    bios_outb(b, 0x21, 0xF8);
    bios_outb(b, 0xA1, 0xFF);
}

/*
 * 8254 counter 0 in mode 3 (square wave) with count 0 = 65536: IRQ 0 at
 * 1193182 / 65536 = 18.2 Hz (8254 data sheet, "Control Word Format":
 * 0x36 = counter 0, LSB then MSB, mode 3, binary).
 */
static void post_pit(struct bios *b)
{
    bios_outb(b, 0x43, 0x36);
    bios_outb(b, 0x40, 0x00);
    bios_outb(b, 0x40, 0x00);
}

/*
 * The 8042's command byte as a BIOS leaves it (IBM AT Tech Ref, "Command
 * Byte"): 0x65 = keyboard interrupt on IRQ 1, system flag, aux disabled,
 * set 2 -> set 1 translation.  Command 0x60 at port 0x64, the byte at 0x60.
 */
static void post_keyboard_controller(struct bios *b)
{
    bios_outb(b, 0x64, 0x60);
    bios_outb(b, 0x60, 0x65);
}

static uint16_t rom16(uint32_t off) { return (uint16_t)(bios_rom[off] | bios_rom[off + 1] << 8); }

/*
 * The interrupt vector table (0000:0000, 256 far pointers, IBM AT Tech
 * Ref): every vector to the ROM's bare IRET, then the BIOS's own from the
 * ROM's vector_table (db vector, dw offset in F000), found at F000:FFE0.
 */
static void post_ivt(struct bios *b)
{
    uint16_t table = rom16(BIOS_VECTOR_INFO), count = rom16(BIOS_VECTOR_INFO + 2);
    uint16_t iret = rom16(BIOS_VECTOR_INFO + 4);
    for (unsigned v = 0; v < 256; v++)
        bios_write32(b, 4 * v, 0xF000u << 16 | iret);
    for (unsigned i = 0; i < count && table + 3u * i + 2 < BIOS_ROM_SIZE; i++) {
        uint32_t e = table + 3u * i;
        bios_write32(b, 4u * bios_rom[e], 0xF000u << 16 | rom16(e + 1));
    }
}

static void post(struct bios *b)
{
    post_ivt(b);
    /* The BDA from scratch (0x400-0x4FF only: the Multiboot boot block may lie above). */
    for (uint32_t a = BDA; a < BDA + 0x100; a += 4)
        bios_write32(b, a, 0);
    for (uint32_t a = EBDA_SEGMENT * 16u; a < EBDA_SEGMENT * 16u + 0x400; a += 4)
        bios_write32(b, a, 0);
    bios_write8(b, EBDA_SEGMENT * 16u, EBDA_SIZE_KB);   /* EBDA byte 0: its size in KiB */
    bios_write16(b, BDA_COM_PORTS + 0, 0x3F8);
    bios_write16(b, BDA_COM_PORTS + 2, 0x2F8);
    bios_write16(b, BDA_EBDA_SEGMENT, EBDA_SEGMENT);
    bios_write16(b, BDA_MEMORY_KB, (uint16_t)(640 - EBDA_SIZE_KB));
    /*
     * Equipment word (int 11h; IBM AT Tech Ref): bits 5-4 = 10b initial
     * video 80x25 colour, bits 11-9 = 2 serial ports; the floppy bits
     * (0, 7-6) are set by bios_disk_init.
     */
    bios_write16(b, BDA_EQUIPMENT, 0x0020 | (2u << 9));

    post_pic(b);
    post_pit(b);
    post_keyboard_controller(b);
    bios_keyboard_init(b);
    bios_time_init(b);
    bios_disk_init(b);
    bios_video_init(b);
    bios_video_puts(b, "trapeze BIOS\r\n\r\n");
}

/* ---- int 19h: bootstrap ---- */

static void no_bootable_device(struct bios *b, const char *why)
{
    bios_video_puts(b, "No bootable device.\r\n");
    fprintf(stderr, "trapeze: no bootable device (%s)\n", why);
    machine_stop(b->machine, MACHINE_NO_BOOT_DEVICE);
}

/*
 * Try the -boot order (default: floppy A, then hard disk C).  A drive
 * boots when its sector 0 reads and ends with the 0x55 0xAA signature
 * (IBM AT Tech Ref, BOOT_STRAP; for floppies too, as SeaBIOS does by
 * default).  Returns the verdict; the boot drive goes to the frame's DL.
 */
static enum bios_verdict bootstrap(struct bios *b, struct bios_frame *f)
{
    const char *order = b->machine->config.boot_order[0] ? b->machine->config.boot_order : "ac";
    char why[256] = "";
    size_t used = 0;
    for (const char *p = order; *p; p++) {
        uint8_t drive = *p == 'a' ? 0x00 : 0x80;
        const char *name = *p == 'a' ? "floppy A" : "hard disk C";
        const char *result;
        if (bios_disk_role(b, drive) < 0) {
            result = "no image";
        } else if (bios_disk_read_boot_sector(b, drive) < 0) {
            result = "cannot read sector 0";
        } else if (bios_read16(b, 0x7DFE) != 0xAA55) {
            result = "no 55 AA boot signature";
        } else {
            bios_video_puts(b, drive ? "Booting from Hard Disk...\r\n" : "Booting from Floppy...\r\n");
            bios_set_lo8(&f->edx, drive);
            return BIOS_BOOT_DISK;
        }
        int n = snprintf(why + used, sizeof why - used, "%s%s: %s", used ? ", " : "", name, result);
        if (n > 0 && (size_t)n < sizeof why - used)
            used += (size_t)n;
    }
    no_bootable_device(b, used ? why : "no drives in the boot order");
    return BIOS_HALT;
}

/* ---- the port interface ---- */

static enum bios_verdict run_service(struct bios *b, unsigned service, struct bios_frame *f)
{
    switch (service) {
    case BIOS_SVC_POST:
        post(b);
        return BIOS_DONE;
    case BIOS_SVC_INT10: return bios_int10(b, f);
    case BIOS_SVC_INT11:
        bios_set_lo16(&f->eax, bios_read16(b, BDA_EQUIPMENT));   /* AX = equipment word */
        return BIOS_DONE;
    case BIOS_SVC_INT12:
        bios_set_lo16(&f->eax, bios_read16(b, BDA_MEMORY_KB));   /* AX = KiB of base memory */
        return BIOS_DONE;
    case BIOS_SVC_INT13: return bios_int13(b, f);
    case BIOS_SVC_INT15: return bios_int15(b, f);
    case BIOS_SVC_INT16: return bios_int16(b, f);
    case BIOS_SVC_INT18:
        /* int 18h: no bootable disk (on the IBM PC: ROM BASIC, which we have not). */
        no_bootable_device(b, "int 18h called");
        return BIOS_HALT;
    case BIOS_SVC_INT19: return bootstrap(b, f);
    case BIOS_SVC_INT1A: return bios_int1a(b, f);
    case BIOS_SVC_IRQ1: return bios_irq1(b, f);
    }
    log_msg(LOG_GUEST_ERRORS, "guest_errors: BIOS: unknown service %u written to port 0x%04x (guest "
            "code outside the BIOS ROM?); ignored\n", service, BIOS_CALL_PORT);
    return BIOS_DONE;
}

static uint32_t bios_port_read(void *opaque, uint32_t offset, unsigned size)
{
    struct bios *b = opaque;
    if (offset == BIOS_CALL_PORT - BIOS_FRAME_PORT && size == 1)
        return b->verdict;
    return 0xFFFFFFFFu;   /* nothing else reads: an open bus */
}

static void bios_port_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    struct bios *b = opaque;
    if (offset == 0 && size == 4) {
        b->frame = bios_linear((uint16_t)(value >> 16), (uint16_t)value);
    } else if (offset == BIOS_CALL_PORT - BIOS_FRAME_PORT && size == 1) {
        struct bios_frame f;
        frame_load(b, &f);
        b->verdict = (uint8_t)run_service(b, value & 0xFF, &f);
        frame_store(b, &f);
    }
}

static const struct io_ops bios_io_ops = { .read = bios_port_read, .write = bios_port_write };

static void bios_reset_hook(void *opaque) { bios_reset(opaque); }

int bios_init(struct bios *b, struct machine *m)
{
    memset(b, 0, sizeof *b);
    b->machine = m;
    int err = bus_add_rom(&m->bus, "bios", (uint32_t)(0x100000000ull - BIOS_ROM_SIZE), bios_rom, BIOS_ROM_SIZE);
    if (err == 0)
        err = bus_add_rom(&m->bus, "isa-bios", BIOS_ROM_BASE, bios_rom, BIOS_ROM_SIZE);
    if (err == 0)
        err = bus_add_ports(&m->bus, "bios", BIOS_FRAME_PORT, 8, &bios_io_ops, b);
    if (err < 0) {
        fprintf(stderr, "trapeze: cannot map the BIOS: %s\n", strerror(-err));
        return err;
    }
    const struct machine_device d = { "bios", b, bios_save, bios_load, bios_reset_hook, bios_info };
    if ((err = machine_add_device(m, &d)) < 0)
        fprintf(stderr, "trapeze: too many devices for the board's registry\n");
    return err;
}

/* The snapshot section "bios", version 1: the port interface's two latches. */
struct bios_saved {
    uint32_t frame;
    uint8_t verdict;
    uint8_t pad[3];
};

int bios_save(void *opaque, struct snapshot *s)
{
    struct bios *b = opaque;
    struct bios_saved v;
    memset(&v, 0, sizeof v);
    v.frame = b->frame;
    v.verdict = b->verdict;
    return snapshot_put(s, "bios", 1, &v, sizeof v);
}

int bios_load(void *opaque, const struct snapshot *s, struct snapshot_check *c)
{
    struct bios *b = opaque;
    struct bios_saved v;
    int r = snapshot_take(s, "bios", 1, &v, sizeof v, c);
    if (r) return r;
    if (v.verdict != BIOS_DONE && v.verdict != BIOS_WAIT && v.verdict != BIOS_BOOT_DISK && v.verdict != BIOS_HALT)
        return snapshot_refuse(c, "bios", "verdict", "%u is not a verdict (enum bios_verdict)", v.verdict);
    r = snapshot_check_range(c, "bios", "frame", v.frame, 0, 0x10FFEFu);   /* SS:SP reaches 10FFEFh at most */
    if (r || !c->apply) return r;
    b->frame = v.frame;
    b->verdict = v.verdict;
    return 0;
}

void bios_info(void *opaque, FILE *out)
{
    struct bios *b = opaque;
    fprintf(out, "BIOS port interface: frame at %05x (port 0x%04x), last verdict %u (port 0x%04x)\n",
            b->frame, BIOS_FRAME_PORT, b->verdict, BIOS_CALL_PORT);
}

void bios_post(struct bios *b)
{
    post(b);
}

void bios_reset(struct bios *b)
{
    b->frame = 0;
    b->verdict = BIOS_DONE;
}
