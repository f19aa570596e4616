/*
 * bios_keyboard.c - IRQ 1 (int 09h) and int 16h: set-1 scan codes from the
 * 8042 into the BDA's 16-word keyboard buffer, and reading it back.
 *
 * The buffer (IBM AT Tech Ref, KB_INT / KEYBOARD_IO): words of
 * scan code << 8 | ASCII between offsets 0x1E and 0x3E of segment 40h;
 * head (0x41A) is the next to read, tail (0x41C) the next free slot; empty
 * when equal, full when the tail would reach the head (the key is lost).
 * Shift states live in 0x417/0x418/0x496, so they survive in guest memory
 * (and in snapshots) like everything else the BIOS keeps.
 *
 * The ASCII a key gives follows the US layout of the IBM AT Tech Ref
 * "Keyboard" character tables: normal, shifted (Shift xor Caps Lock for
 * letters), Ctrl (letters -> 01h-1Ah), Alt (ASCII 0).  F1-F10 give scan
 * codes 3Bh-44h, shifted 54h-5Dh, Ctrl 5Eh-67h, Alt 68h-71h with ASCII 0.
 * Keys behind an E0 prefix (arrows, Home, ... of the MF II keyboard) give
 * ASCII E0h to int 16h AH=10h and 00h to AH=00h.
 *
 * int 16h: 00h/10h read a key (waits: the stub halts until IRQ 1), 01h/11h
 * peek (ZF = 1 when none), 02h shift flags in AL, 12h extended flags in AX.
 * The keyboard LEDs are not driven (no LED command is sent to the keyboard).
 */
#include "machine/bios/bios_internal.h"

#include "devices/i8042.h"

#define KBD_BUFFER_START 0x1E
#define KBD_BUFFER_END   0x3E

/* 0x417 */
#define KF_RSHIFT 0x01
#define KF_LSHIFT 0x02
#define KF_CTRL   0x04
#define KF_ALT    0x08
#define KF_SCROLL 0x10
#define KF_NUM    0x20
#define KF_CAPS   0x40
#define KF_INSERT 0x80
/* 0x418: keys held */
#define KF2_LCTRL  0x01
#define KF2_LALT   0x02
#define KF2_SCROLL 0x10
#define KF2_NUM    0x20
#define KF2_CAPS   0x40
#define KF2_INSERT 0x80
/* 0x496 */
#define KF3_E1     0x01
#define KF3_E0     0x02
#define KF3_RCTRL  0x04
#define KF3_RALT   0x08
#define KF3_101KEY 0x10

/* US layout, set-1 make codes 00h-39h: unshifted and shifted ASCII (0: none). */
static const char key_ascii[0x3A][2] = {
    [0x01] = { 0x1B, 0x1B }, [0x02] = { '1', '!' }, [0x03] = { '2', '@' }, [0x04] = { '3', '#' },
    [0x05] = { '4', '$' }, [0x06] = { '5', '%' }, [0x07] = { '6', '^' }, [0x08] = { '7', '&' },
    [0x09] = { '8', '*' }, [0x0A] = { '9', '(' }, [0x0B] = { '0', ')' }, [0x0C] = { '-', '_' },
    [0x0D] = { '=', '+' }, [0x0E] = { 0x08, 0x08 }, [0x0F] = { 0x09, 0 },
    [0x10] = { 'q', 'Q' }, [0x11] = { 'w', 'W' }, [0x12] = { 'e', 'E' }, [0x13] = { 'r', 'R' },
    [0x14] = { 't', 'T' }, [0x15] = { 'y', 'Y' }, [0x16] = { 'u', 'U' }, [0x17] = { 'i', 'I' },
    [0x18] = { 'o', 'O' }, [0x19] = { 'p', 'P' }, [0x1A] = { '[', '{' }, [0x1B] = { ']', '}' },
    [0x1C] = { 0x0D, 0x0D }, [0x1E] = { 'a', 'A' }, [0x1F] = { 's', 'S' }, [0x20] = { 'd', 'D' },
    [0x21] = { 'f', 'F' }, [0x22] = { 'g', 'G' }, [0x23] = { 'h', 'H' }, [0x24] = { 'j', 'J' },
    [0x25] = { 'k', 'K' }, [0x26] = { 'l', 'L' }, [0x27] = { ';', ':' }, [0x28] = { '\'', '"' },
    [0x29] = { '`', '~' }, [0x2B] = { '\\', '|' }, [0x2C] = { 'z', 'Z' }, [0x2D] = { 'x', 'X' },
    [0x2E] = { 'c', 'C' }, [0x2F] = { 'v', 'V' }, [0x30] = { 'b', 'B' }, [0x31] = { 'n', 'N' },
    [0x32] = { 'm', 'M' }, [0x33] = { ',', '<' }, [0x34] = { '.', '>' }, [0x35] = { '/', '?' },
    [0x37] = { '*', '*' }, [0x39] = { ' ', ' ' },
};

/* Keypad 47h-53h with Num Lock: the digits and the point. */
static const char keypad_digits[] = "789-456+1230.";

static bool is_letter(uint8_t ascii) { return ascii >= 'a' && ascii <= 'z'; }

uint16_t bios_scancode_to_key(uint8_t sc, uint8_t flags)
{
    bool shift = flags & (KF_LSHIFT | KF_RSHIFT);
    if (sc >= 0x3B && sc <= 0x44) {                       /* F1-F10 */
        unsigned base = flags & KF_ALT ? 0x68 : flags & KF_CTRL ? 0x5E : shift ? 0x54 : 0x3B;
        return (uint16_t)((base + sc - 0x3B) << 8);
    }
    if (sc == 0x57 || sc == 0x58) {                       /* F11, F12: 85h/86h (+2 per shift state) */
        unsigned k = flags & KF_ALT ? 6 : flags & KF_CTRL ? 4 : shift ? 2 : 0;
        return (uint16_t)((0x85 + k + sc - 0x57) << 8);
    }
    if (sc >= 0x47 && sc <= 0x53) {                       /* keypad */
        bool digits = (bool)(flags & KF_NUM) != shift;
        if (flags & (KF_ALT | KF_CTRL)) return 0;
        if (sc == 0x4A || sc == 0x4E || digits)
            return (uint16_t)(sc << 8 | (uint8_t)keypad_digits[sc - 0x47]);
        return (uint16_t)(sc << 8);
    }
    if (sc >= 0x3A || key_ascii[sc][0] == 0)
        return 0;
    uint8_t normal = (uint8_t)key_ascii[sc][0];
    if (flags & KF_ALT)
        return (uint16_t)(sc << 8);                       /* Alt: scan code, ASCII 0 */
    if (flags & KF_CTRL) {
        if (is_letter(normal)) return (uint16_t)(sc << 8 | (normal & 0x1F));
        if (sc == 0x1C) return 0x1C0A;                    /* Ctrl-Enter: LF */
        if (sc == 0x0E) return 0x0E7F;                    /* Ctrl-Backspace: DEL */
        if (sc == 0x01) return 0x011B;
        if (sc == 0x1A || sc == 0x2B || sc == 0x1B)       /* Ctrl-[ \ ]: 1Bh 1Ch 1Dh */
            return (uint16_t)(sc << 8 | (sc == 0x1A ? 0x1B : sc == 0x2B ? 0x1C : 0x1D));
        return 0;
    }
    bool upper = shift;
    if (is_letter(normal) && (flags & KF_CAPS))
        upper = !upper;
    if (sc == 0x0F && shift)
        return 0x0F00;                                    /* Shift-Tab */
    return (uint16_t)(sc << 8 | (uint8_t)key_ascii[sc][upper ? 1 : 0]);
}

void bios_keyboard_init(struct bios *b)
{
    bios_write16(b, BDA_KBD_HEAD, KBD_BUFFER_START);
    bios_write16(b, BDA_KBD_TAIL, KBD_BUFFER_START);
    bios_write16(b, BDA_KBD_START, KBD_BUFFER_START);
    bios_write16(b, BDA_KBD_END, KBD_BUFFER_END);
    bios_write8(b, BDA_KBD_FLAGS1, KF_NUM);   /* Num Lock on, as most BIOSes start */
    bios_write8(b, BDA_KBD_FLAGS2, 0);
    bios_write8(b, BDA_KBD_FLAGS3, KF3_101KEY);
}

void bios_keyboard_put(struct bios *b, uint16_t key)
{
    uint16_t start = bios_read16(b, BDA_KBD_START), end = bios_read16(b, BDA_KBD_END);
    uint16_t tail = bios_read16(b, BDA_KBD_TAIL), head = bios_read16(b, BDA_KBD_HEAD);
    if (start >= end || tail < start || tail >= end)
        return;   /* the guest broke the pointers: drop the key rather than write anywhere */
    uint16_t next = (uint16_t)(tail + 2 >= end ? start : tail + 2);
    if (next == head)
        return;   /* full: the AT BIOS beeps and drops the key */
    bios_write16(b, BDA + tail, key);
    bios_write16(b, BDA_KBD_TAIL, next);
}

/* The next key word, optionally removed; false when the buffer is empty. */
static bool buffer_get(struct bios *b, bool remove, uint16_t *key)
{
    uint16_t start = bios_read16(b, BDA_KBD_START), end = bios_read16(b, BDA_KBD_END);
    uint16_t head = bios_read16(b, BDA_KBD_HEAD);
    if (head == bios_read16(b, BDA_KBD_TAIL))
        return false;
    *key = bios_read16(b, BDA + head);
    if (remove)
        bios_write16(b, BDA_KBD_HEAD, (uint16_t)(head + 2 >= end ? start : head + 2));
    return true;
}

uint16_t bios_ascii_to_key(uint8_t c)
{
    if (c == 0)
        return 0;
    for (unsigned sc = 0; sc < sizeof key_ascii / sizeof key_ascii[0]; sc++)
        for (unsigned shifted = 0; shifted < 2; shifted++)
            if ((uint8_t)key_ascii[sc][shifted] == c)
                return (uint16_t)(sc << 8 | c);
    return 0;
}

/* Set or clear 'bit' of the byte at 'addr'. */
static void flag(struct bios *b, uint32_t addr, uint8_t bit, bool on)
{
    uint8_t v = bios_read8(b, addr);
    bios_write8(b, addr, (uint8_t)(on ? v | bit : v & ~bit));
}

/* A lock key: toggle on the first make, not on repeats. */
static void lock_key(struct bios *b, bool make, uint8_t held, uint8_t state)
{
    if (make && !(bios_read8(b, BDA_KBD_FLAGS2) & held))
        bios_write8(b, BDA_KBD_FLAGS1, bios_read8(b, BDA_KBD_FLAGS1) ^ state);
    flag(b, BDA_KBD_FLAGS2, held, make);
}

static void scancode(struct bios *b, uint8_t code)
{
    uint8_t f3 = bios_read8(b, BDA_KBD_FLAGS3);
    if (code == 0xE0) { bios_write8(b, BDA_KBD_FLAGS3, f3 | KF3_E0); return; }
    if (code == 0xE1) { bios_write8(b, BDA_KBD_FLAGS3, f3 | KF3_E1); return; }
    bool e0 = f3 & KF3_E0, e1 = f3 & KF3_E1;
    bios_write8(b, BDA_KBD_FLAGS3, f3 & ~(KF3_E0 | KF3_E1));
    if (e1 || code == 0xFA || code == 0xFE || code == 0xAA || code == 0xEE || code == 0x00 || code == 0xFF)
        return;   /* Pause's E1 sequence (no Pause state kept), and keyboard replies */
    bool make = !(code & 0x80);
    uint8_t sc = code & 0x7F;

    /* Modifiers: Ctrl and Alt are set while either side is held. */
    switch (sc) {
    case 0x2A: if (!e0) flag(b, BDA_KBD_FLAGS1, KF_LSHIFT, make); return;   /* E0 2A: fake shift */
    case 0x36: if (!e0) flag(b, BDA_KBD_FLAGS1, KF_RSHIFT, make); return;
    case 0x1D:
    case 0x38: {
        bool ctrl = sc == 0x1D;
        if (e0) flag(b, BDA_KBD_FLAGS3, ctrl ? KF3_RCTRL : KF3_RALT, make);
        else flag(b, BDA_KBD_FLAGS2, ctrl ? KF2_LCTRL : KF2_LALT, make);
        bool down = (bios_read8(b, BDA_KBD_FLAGS2) & (ctrl ? KF2_LCTRL : KF2_LALT)) ||
                    (bios_read8(b, BDA_KBD_FLAGS3) & (ctrl ? KF3_RCTRL : KF3_RALT));
        flag(b, BDA_KBD_FLAGS1, ctrl ? KF_CTRL : KF_ALT, down);
        return;
    }
    case 0x3A: lock_key(b, make, KF2_CAPS, KF_CAPS); return;
    case 0x45: if (!e0) lock_key(b, make, KF2_NUM, KF_NUM); return;
    case 0x46: if (!e0) lock_key(b, make, KF2_SCROLL, KF_SCROLL); return;
    }
    if (!make)
        return;
    uint8_t flags = bios_read8(b, BDA_KBD_FLAGS1);
    uint16_t key;
    if (e0) {
        if (sc == 0x1C) key = 0xE00D;                     /* keypad Enter */
        else if (sc == 0x35) key = 0xE02F;                /* keypad / */
        else if (sc >= 0x47 && sc <= 0x53) key = (uint16_t)(sc << 8 | 0xE0);  /* the grey keys */
        else return;                                      /* Print Screen, the Windows keys: none */
    } else {
        key = bios_scancode_to_key(sc, flags);
        if (sc == 0x52 && (key & 0xFF) == 0)              /* keypad Ins (not '0'): toggles Insert */
            flag(b, BDA_KBD_FLAGS1, KF_INSERT, !(flags & KF_INSERT));
    }
    if (key)
        bios_keyboard_put(b, key);
}

enum bios_verdict bios_irq1(struct bios *b, struct bios_frame *f)
{
    (void)f;
    uint8_t status = bios_inb(b, I8042_COMMAND_PORT);
    if ((status & I8042_STR_OBF) && !(status & I8042_STR_AUX_OBF))
        scancode(b, bios_inb(b, I8042_DATA_PORT));
    bios_outb(b, 0x20, 0x20);   /* non-specific EOI to the master 8259A */
    return BIOS_DONE;
}

/* AH=00h/01h hide the MF II extensions: E0h ASCII becomes 0, F11/F12 vanish. */
static bool legacy_key(uint16_t *key)
{
    uint8_t scan = (uint8_t)(*key >> 8);
    if (scan >= 0x85)
        return false;
    if ((*key & 0xFF) == 0xE0 && scan != 0)
        *key &= 0xFF00;
    return true;
}

enum bios_verdict bios_int16(struct bios *b, struct bios_frame *f)
{
    uint16_t key;
    uint8_t ah = bios_ah(f);
    bios_serial_poll(b);   /* -nographic: keys typed on the serial console */
    switch (ah) {
    case 0x00:
    case 0x10:
        for (;;) {
            if (!buffer_get(b, true, &key))
                return BIOS_WAIT;
            if (ah == 0x10 || legacy_key(&key))
                break;
        }
        bios_set_lo16(&f->eax, key);
        return BIOS_DONE;
    case 0x01:
    case 0x11:
        for (;;) {
            if (!buffer_get(b, false, &key)) {
                bios_set_zf(f, true);
                return BIOS_DONE;
            }
            if (ah == 0x11 || legacy_key(&key))
                break;
            buffer_get(b, true, &key);   /* an extended key AH=01h cannot show: drop it */
        }
        bios_set_zf(f, false);
        bios_set_lo16(&f->eax, key);
        return BIOS_DONE;
    case 0x02:
        bios_set_lo8(&f->eax, bios_read8(b, BDA_KBD_FLAGS1));
        return BIOS_DONE;
    case 0x12: {
        uint8_t f2 = bios_read8(b, BDA_KBD_FLAGS2), f3 = bios_read8(b, BDA_KBD_FLAGS3);
        /* AH: bit 0 left Ctrl, 1 left Alt, 2 right Ctrl, 3 right Alt, 4-6 locks held, 7 SysRq. */
        uint8_t hi = (uint8_t)((f2 & 0x73) | (f3 & 0x0C) | ((f2 & 0x04) << 5));
        bios_set_lo16(&f->eax, (uint16_t)(hi << 8 | bios_read8(b, BDA_KBD_FLAGS1)));
        return BIOS_DONE;
    }
    }
    bios_report_unimplemented(b, BIOS_WARN_OTHER, 0x16, f);
    return BIOS_DONE;
}
