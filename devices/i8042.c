/*
 * i8042.c - the PC/AT keyboard controller and the MF II keyboard (see
 * i8042.h for the ports and the references).
 *
 * Data path, worked example: the host presses 'A' (HID usage 0x04).
 *   key event    -> the keyboard makes set-2 code 1C and queues it in its
 *                   16-byte buffer (kbd_fifo)
 *   refill       -> the controller takes the byte when its output buffer is
 *                   empty and the keyboard interface is enabled (command
 *                   byte bit 4 clear), translates it to set 1 (1C -> 1E)
 *                   when command byte bit 6 is set, sets OBF, raises IRQ1
 *                   when command byte bit 0 is set
 *   in al, 0x60  -> the guest gets 1E; OBF clears, IRQ1 drops, the next
 *                   byte (if any) is taken at once
 * On release the keyboard sends F0 1C; the translation swallows the F0 and
 * sets bit 7 of what follows: 9E.
 *
 * Timing is not modelled: the controller and the keyboard answer at once
 * (IBF never reads 1), which every polling driver accepts.
 */
#include "devices/i8042.h"

#include <errno.h>
#include <string.h>

#include "base/snapshot.h"

/* Controller commands (AT Tech Ref "Commands (I/O Address Hex 64)"; PS/2 ref for A7-A9, D2-D4). */
#define CMD_READ_RAM_FIRST   0x20  /* 20: command byte; 21-3F: RAM bytes 1-31 */
#define CMD_READ_RAM_LAST    0x3F
#define CMD_WRITE_RAM_FIRST  0x60  /* 60: command byte; 61-7F: RAM bytes 1-31 */
#define CMD_WRITE_RAM_LAST   0x7F
#define CMD_AUX_DISABLE      0xA7  /* set command byte bit 5 */
#define CMD_AUX_ENABLE       0xA8  /* clear command byte bit 5 */
#define CMD_AUX_TEST         0xA9  /* aux interface test: 00 = no error */
#define CMD_SELF_TEST        0xAA  /* 55 = passed */
#define CMD_KBD_TEST         0xAB  /* keyboard interface test: 00 = no error */
#define CMD_KBD_DISABLE      0xAD  /* set command byte bit 4 */
#define CMD_KBD_ENABLE       0xAE  /* clear command byte bit 4 */
#define CMD_READ_INPUT       0xC0
#define CMD_READ_OUTPUT      0xD0
#define CMD_WRITE_OUTPUT     0xD1
#define CMD_WRITE_KBD_OBUF   0xD2  /* next byte appears as if from the keyboard */
#define CMD_WRITE_AUX_OBUF   0xD3  /* next byte appears as if from the aux device */
#define CMD_WRITE_AUX        0xD4  /* next byte goes to the aux device */
#define CMD_PULSE_FIRST      0xF0  /* F0-FF: pulse output port bits 0-3 low where the command's bit is 0 */

/* Keyboard commands (AT Tech Ref "Keyboard", "Commands from the System"). */
#define KBD_SET_LEDS         0xED
#define KBD_ECHO             0xEE
#define KBD_SCANCODE_SET     0xF0
#define KBD_IDENTIFY         0xF2
#define KBD_TYPEMATIC        0xF3
#define KBD_ENABLE           0xF4
#define KBD_DEFAULT_DISABLE  0xF5
#define KBD_SET_DEFAULT      0xF6
#define KBD_ALL_TYPEMATIC    0xF7  /* set 3: all keys typematic (make only) */
#define KBD_ALL_MAKE_BREAK   0xF8  /* set 3: all keys make/break */
#define KBD_ALL_MAKE         0xF9  /* set 3: all keys make only */
#define KBD_ALL_TMB          0xFA  /* set 3: all keys typematic/make/break */
#define KBD_KEY_TYPEMATIC    0xFB  /* set 3: the listed keys typematic */
#define KBD_KEY_MAKE_BREAK   0xFC  /* set 3: the listed keys make/break */
#define KBD_KEY_MAKE         0xFD  /* set 3: the listed keys make only */
#define KBD_RESEND           0xFE
#define KBD_RESET            0xFF

/* Keyboard replies. */
#define KBD_ACK              0xFA
#define KBD_BAT_OK           0xAA  /* basic assurance test passed */
#define KBD_REPLY_RESEND     0xFE
#define KBD_ID_1             0xAB  /* MF II keyboard ID: AB 83 */
#define KBD_ID_2             0x83
#define KBD_OVERRUN_SET1     0xFF  /* buffer overrun code, set 1 */
#define KBD_OVERRUN_SET23    0x00  /* sets 2 and 3 */
#define KBD_BREAK_PREFIX     0xF0  /* sets 2 and 3: the next code is a release */
#define KBD_E0               0xE0
#define KBD_DEFAULT_TYPEMATIC 0x2B /* 10.9 characters/s, 500 ms delay */

#define KBD_INPUT_PORT_DEFAULT (I8042_IN_KEYLOCK | I8042_IN_MFG)  /* color display, 512 KiB */

/*
 * The 8042's set 2 -> set 1 translation table, indexed by the byte the
 * keyboard sent (Gary J. Konzak, "PC 8042 Controller", ISBN 0-929392-21-3,
 * as tabulated in A. Brouwer, "Keyboard scancodes", section 9.3).  Bytes
 * 0x80 and up pass unchanged except 83 (F7) -> 41 and 84 (Alt+SysRq) -> 54;
 * F0 is not in the table: it sets bit 7 of the following byte.
 */
static const uint8_t xlate_table[128] = {
    /*        0     1     2     3     4     5     6     7     8     9     A     B     C     D     E     F */
    /* 00 */ 0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    /* 10 */ 0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    /* 20 */ 0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    /* 30 */ 0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    /* 40 */ 0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    /* 50 */ 0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    /* 60 */ 0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    /* 70 */ 0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

static uint8_t xlate_byte(uint8_t b)
{
    if (b < 0x80) return xlate_table[b];
    if (b == 0x83) return 0x41;
    if (b == 0x84) return 0x54;
    return b;
}

/*
 * The keys, by USB HID usage ID (HID Usage Tables 1.12, section 10), with
 * their set-2 code (0xE0xx: the E0-prefixed code xx) and set-3 code, from
 * the IBM keyboard tables (AT Tech Ref "Keyboard"; set 3: IBM PS/2 Hardware
 * Interface Technical Reference; both as tabulated in Brouwer, section 9.6).
 * Set 1 codes are not listed: set 1 is the translation of set 2, key for
 * key (Brouwer 9.4), so the keyboard makes them through xlate_byte.
 * Print Screen and Pause have their own sequences (keyboard_make).
 */
struct key_codes { uint16_t set2; uint8_t set3; };

#define SPECIAL_PRINT_SCREEN 0xFFFE
#define SPECIAL_PAUSE        0xFFFF

static const struct key_codes key_table[256] = {
    [0x04] = { 0x1C, 0x1C }, [0x05] = { 0x32, 0x32 }, [0x06] = { 0x21, 0x21 }, /* a b c */
    [0x07] = { 0x23, 0x23 }, [0x08] = { 0x24, 0x24 }, [0x09] = { 0x2B, 0x2B }, /* d e f */
    [0x0A] = { 0x34, 0x34 }, [0x0B] = { 0x33, 0x33 }, [0x0C] = { 0x43, 0x43 }, /* g h i */
    [0x0D] = { 0x3B, 0x3B }, [0x0E] = { 0x42, 0x42 }, [0x0F] = { 0x4B, 0x4B }, /* j k l */
    [0x10] = { 0x3A, 0x3A }, [0x11] = { 0x31, 0x31 }, [0x12] = { 0x44, 0x44 }, /* m n o */
    [0x13] = { 0x4D, 0x4D }, [0x14] = { 0x15, 0x15 }, [0x15] = { 0x2D, 0x2D }, /* p q r */
    [0x16] = { 0x1B, 0x1B }, [0x17] = { 0x2C, 0x2C }, [0x18] = { 0x3C, 0x3C }, /* s t u */
    [0x19] = { 0x2A, 0x2A }, [0x1A] = { 0x1D, 0x1D }, [0x1B] = { 0x22, 0x22 }, /* v w x */
    [0x1C] = { 0x35, 0x35 }, [0x1D] = { 0x1A, 0x1A },                          /* y z */
    [0x1E] = { 0x16, 0x16 }, [0x1F] = { 0x1E, 0x1E }, [0x20] = { 0x26, 0x26 }, /* 1 2 3 */
    [0x21] = { 0x25, 0x25 }, [0x22] = { 0x2E, 0x2E }, [0x23] = { 0x36, 0x36 }, /* 4 5 6 */
    [0x24] = { 0x3D, 0x3D }, [0x25] = { 0x3E, 0x3E }, [0x26] = { 0x46, 0x46 }, /* 7 8 9 */
    [0x27] = { 0x45, 0x45 },                                                   /* 0 */
    [0x28] = { 0x5A, 0x5A }, [0x29] = { 0x76, 0x08 }, [0x2A] = { 0x66, 0x66 }, /* Enter Esc Backspace */
    [0x2B] = { 0x0D, 0x0D }, [0x2C] = { 0x29, 0x29 }, [0x2D] = { 0x4E, 0x4E }, /* Tab Space - */
    [0x2E] = { 0x55, 0x55 }, [0x2F] = { 0x54, 0x54 }, [0x30] = { 0x5B, 0x5B }, /* = [ ] */
    [0x31] = { 0x5D, 0x5C }, [0x32] = { 0x5D, 0x5C },                          /* \ and non-US # (same key position) */
    [0x33] = { 0x4C, 0x4C }, [0x34] = { 0x52, 0x52 }, [0x35] = { 0x0E, 0x0E }, /* ; ' ` */
    [0x36] = { 0x41, 0x41 }, [0x37] = { 0x49, 0x49 }, [0x38] = { 0x4A, 0x4A }, /* , . / */
    [0x39] = { 0x58, 0x14 },                                                   /* Caps Lock */
    [0x3A] = { 0x05, 0x07 }, [0x3B] = { 0x06, 0x0F }, [0x3C] = { 0x04, 0x17 }, /* F1 F2 F3 */
    [0x3D] = { 0x0C, 0x1F }, [0x3E] = { 0x03, 0x27 }, [0x3F] = { 0x0B, 0x2F }, /* F4 F5 F6 */
    [0x40] = { 0x83, 0x37 }, [0x41] = { 0x0A, 0x3F }, [0x42] = { 0x01, 0x47 }, /* F7 F8 F9 */
    [0x43] = { 0x09, 0x4F }, [0x44] = { 0x78, 0x56 }, [0x45] = { 0x07, 0x5E }, /* F10 F11 F12 */
    [0x46] = { SPECIAL_PRINT_SCREEN, 0x57 }, [0x47] = { 0x7E, 0x5F },          /* Print Screen, Scroll Lock */
    [0x48] = { SPECIAL_PAUSE, 0x62 },                                          /* Pause */
    [0x49] = { 0xE070, 0x67 }, [0x4A] = { 0xE06C, 0x6E }, [0x4B] = { 0xE07D, 0x6F }, /* Insert Home PgUp */
    [0x4C] = { 0xE071, 0x64 }, [0x4D] = { 0xE069, 0x65 }, [0x4E] = { 0xE07A, 0x6D }, /* Delete End PgDn */
    [0x4F] = { 0xE074, 0x6A }, [0x50] = { 0xE06B, 0x61 },                      /* Right Left */
    [0x51] = { 0xE072, 0x60 }, [0x52] = { 0xE075, 0x63 },                      /* Down Up */
    [0x53] = { 0x77, 0x76 }, [0x54] = { 0xE04A, 0x77 }, [0x55] = { 0x7C, 0x7E }, /* Num Lock, KP / * */
    [0x56] = { 0x7B, 0x84 }, [0x57] = { 0x79, 0x7C }, [0x58] = { 0xE05A, 0x79 }, /* KP - + Enter */
    [0x59] = { 0x69, 0x69 }, [0x5A] = { 0x72, 0x72 }, [0x5B] = { 0x7A, 0x7A }, /* KP 1 2 3 */
    [0x5C] = { 0x6B, 0x6B }, [0x5D] = { 0x73, 0x73 }, [0x5E] = { 0x74, 0x74 }, /* KP 4 5 6 */
    [0x5F] = { 0x6C, 0x6C }, [0x60] = { 0x75, 0x75 }, [0x61] = { 0x7D, 0x7D }, /* KP 7 8 9 */
    [0x62] = { 0x70, 0x70 }, [0x63] = { 0x71, 0x71 },                          /* KP 0 . */
    [0x64] = { 0x61, 0x13 }, [0x65] = { 0xE02F, 0x8D },                        /* non-US \, Menu */
    [0xE0] = { 0x14, 0x11 }, [0xE1] = { 0x12, 0x12 }, [0xE2] = { 0x11, 0x19 }, /* LCtrl LShift LAlt */
    [0xE3] = { 0xE01F, 0x8B }, [0xE4] = { 0xE014, 0x58 }, [0xE5] = { 0x59, 0x59 }, /* LGUI RCtrl RShift */
    [0xE6] = { 0xE011, 0x39 }, [0xE7] = { 0xE027, 0x8C },                      /* RAlt RGUI */
};

/* Set 3 keys that send break codes by default (Brouwer 9.2): the shifts,
   Ctrl, Alt, Caps Lock and the Windows/Menu keys; they do not repeat. */
static const uint8_t set3_default_break[] = { 0x14, 0x12, 0x59, 0x11, 0x19, 0x39, 0x58, 0x8B, 0x8C, 0x8D };

static bool bit_get(const uint8_t *map, unsigned n) { return map[n >> 3] & (1u << (n & 7)); }
static void bit_put(uint8_t *map, unsigned n, bool v)
{
    if (v) map[n >> 3] |= (uint8_t)(1u << (n & 7));
    else map[n >> 3] &= (uint8_t)~(1u << (n & 7));
}

static void controller_refill(struct i8042 *k);

/* ---- the keyboard ---------------------------------------------------- */

static void keyboard_clear(struct i8042_state *s)
{
    s->kbd_head = s->kbd_count = 0;
}

/* Queue one byte toward the controller; a full buffer ends in the overrun code. */
static void keyboard_send(struct i8042_state *s, uint8_t b)
{
    if (s->kbd_count >= I8042_KBD_FIFO)
        return;
    if (s->kbd_count == I8042_KBD_FIFO - 1)
        b = s->kbd_scancode_set == 1 ? KBD_OVERRUN_SET1 : KBD_OVERRUN_SET23;
    s->kbd_fifo[(s->kbd_head + s->kbd_count) % I8042_KBD_FIFO] = b;
    s->kbd_count++;
    s->kbd_last = b;
}

/* Power-on defaults of the keyboard's key settings (F5, F6, FF). */
static void keyboard_defaults(struct i8042_state *s)
{
    s->kbd_typematic = KBD_DEFAULT_TYPEMATIC;
    memset(s->set3_break, 0, sizeof s->set3_break);
    memset(s->set3_typematic, 0xFF, sizeof s->set3_typematic);
    for (size_t i = 0; i < sizeof set3_default_break; i++) {
        bit_put(s->set3_break, set3_default_break[i], true);
        bit_put(s->set3_typematic, set3_default_break[i], false);
    }
}

static void keyboard_power_on(struct i8042_state *s)
{
    keyboard_clear(s);
    keyboard_defaults(s);
    s->kbd_scancode_set = 2;
    s->kbd_scanning = 1;
    s->kbd_pending = 0;
    s->kbd_leds = 0;
    s->kbd_last = 0;
    memset(s->keys_down, 0, sizeof s->keys_down);
}

/* A byte from the host (the controller passed on a write to port 0x60). */
static void keyboard_write(struct i8042_state *s, uint8_t b)
{
    uint8_t pending = s->kbd_pending;

    /* An argument byte, unless it is itself a command (the keyboard then
       drops the old command and runs the new one, AT Tech Ref). */
    if (pending && !(b >= KBD_SET_LEDS && pending != KBD_KEY_TYPEMATIC &&
                     pending != KBD_KEY_MAKE_BREAK && pending != KBD_KEY_MAKE)) {
        switch (pending) {
        case KBD_SET_LEDS:
            s->kbd_leds = b & 0x07;
            s->kbd_pending = 0;
            keyboard_send(s, KBD_ACK);
            return;
        case KBD_TYPEMATIC:
            s->kbd_typematic = b & 0x7F;
            s->kbd_pending = 0;
            keyboard_send(s, KBD_ACK);
            return;
        case KBD_SCANCODE_SET:
            s->kbd_pending = 0;
            if (b == 0) {
                keyboard_send(s, KBD_ACK);
                keyboard_send(s, s->kbd_scancode_set);
            } else if (b <= 3) {
                keyboard_clear(s);
                s->kbd_scancode_set = b;
                keyboard_send(s, KBD_ACK);
            } else {
                keyboard_send(s, KBD_REPLY_RESEND);
            }
            return;
        default:   /* FB FC FD: set-3 key codes until the next command byte */
            if (b < KBD_SET_LEDS) {
                bit_put(s->set3_typematic, b, pending == KBD_KEY_TYPEMATIC);
                bit_put(s->set3_break, b, pending == KBD_KEY_MAKE_BREAK);
                keyboard_send(s, KBD_ACK);
                return;
            }
            break;   /* a command ends the list */
        }
    }
    s->kbd_pending = 0;
    if (b == KBD_RESEND) {
        keyboard_send(s, s->kbd_last);
        return;
    }
    switch (b) {
    case KBD_SET_LEDS:
    case KBD_TYPEMATIC:
    case KBD_SCANCODE_SET:
    case KBD_KEY_TYPEMATIC:
    case KBD_KEY_MAKE_BREAK:
    case KBD_KEY_MAKE:
        s->kbd_pending = b;
        keyboard_send(s, KBD_ACK);
        break;
    case KBD_ECHO:
        keyboard_send(s, KBD_ECHO);
        break;
    case KBD_IDENTIFY:
        keyboard_send(s, KBD_ACK);
        keyboard_send(s, KBD_ID_1);
        keyboard_send(s, KBD_ID_2);
        break;
    case KBD_ENABLE:
        keyboard_clear(s);
        s->kbd_scanning = 1;
        keyboard_send(s, KBD_ACK);
        break;
    case KBD_DEFAULT_DISABLE:
    case KBD_SET_DEFAULT:
        keyboard_clear(s);
        keyboard_defaults(s);
        s->kbd_scanning = b == KBD_SET_DEFAULT;
        keyboard_send(s, KBD_ACK);
        break;
    case KBD_ALL_TYPEMATIC:
    case KBD_ALL_MAKE_BREAK:
    case KBD_ALL_MAKE:
    case KBD_ALL_TMB:
        memset(s->set3_typematic, (b == KBD_ALL_TYPEMATIC || b == KBD_ALL_TMB) ? 0xFF : 0,
               sizeof s->set3_typematic);
        memset(s->set3_break, (b == KBD_ALL_MAKE_BREAK || b == KBD_ALL_TMB) ? 0xFF : 0,
               sizeof s->set3_break);
        keyboard_send(s, KBD_ACK);
        break;
    case KBD_RESET:
        keyboard_power_on(s);
        keyboard_send(s, KBD_ACK);
        keyboard_send(s, KBD_BAT_OK);
        break;
    default:
        keyboard_send(s, KBD_REPLY_RESEND);   /* not a command: "resend" */
        break;
    }
}

/* Send a set-2 byte sequence in the keyboard's current set (1 = translated). */
static void keyboard_send_set2(struct i8042_state *s, const uint8_t *seq, int n)
{
    bool brk = false;
    for (int i = 0; i < n; i++) {
        uint8_t b = seq[i];
        if (s->kbd_scancode_set != 1) {
            keyboard_send(s, b);
        } else if (b == KBD_BREAK_PREFIX) {
            brk = true;
        } else {
            keyboard_send(s, (uint8_t)(xlate_byte(b) | (brk ? 0x80 : 0)));
            brk = false;
        }
    }
}

bool i8042_key_event(struct i8042 *k, unsigned usage, bool pressed)
{
    struct i8042_state *s = &k->s;
    if (usage > 0xFF || key_table[usage].set2 == 0)
        return false;
    const struct key_codes *key = &key_table[usage];
    bool repeat = pressed && bit_get(s->keys_down, usage);
    bit_put(s->keys_down, usage, pressed);
    if (!s->kbd_scanning)
        return true;

    uint8_t seq[8];
    int n = 0;
    if (s->kbd_scancode_set == 3) {
        if (pressed && (!repeat || bit_get(s->set3_typematic, key->set3))) {
            seq[n++] = key->set3;
        } else if (!pressed && bit_get(s->set3_break, key->set3)) {
            seq[n++] = KBD_BREAK_PREFIX;
            seq[n++] = key->set3;
        }
        for (int i = 0; i < n; i++) keyboard_send(s, seq[i]);
    } else {
        if (key->set2 == SPECIAL_PAUSE) {
            /* E1 14 77 E1 F0 14 F0 77 on press, nothing on release. */
            static const uint8_t pause[8] = { 0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77 };
            if (pressed && !repeat) keyboard_send_set2(s, pause, 8);
        } else if (key->set2 == SPECIAL_PRINT_SCREEN) {
            /* Without modifiers: E0 12 E0 7C, released E0 F0 7C E0 F0 12. */
            static const uint8_t make[4] = { 0xE0, 0x12, 0xE0, 0x7C };
            static const uint8_t brk[6] = { 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12 };
            if (pressed) keyboard_send_set2(s, make, 4);
            else keyboard_send_set2(s, brk, 6);
        } else {
            if (key->set2 & 0xFF00) seq[n++] = KBD_E0;
            if (!pressed) seq[n++] = KBD_BREAK_PREFIX;
            seq[n++] = (uint8_t)key->set2;
            keyboard_send_set2(s, seq, n);
        }
    }
    /* The controller may take the first byte now. */
    controller_refill(k);
    return true;
}

/* ---- the controller -------------------------------------------------- */

/* The IRQ pins follow the output buffer (output port bits 4 and 5). */
static void controller_update_irq(struct i8042 *k)
{
    const struct i8042_state *s = &k->s;
    uint8_t cb = I8042_COMMAND_BYTE(s);
    bool full = s->status & I8042_STR_OBF;
    bool aux = s->status & I8042_STR_AUX_OBF;
    irq_line_set(&k->irq1, full && !aux && (cb & I8042_CB_KBD_INT));
    irq_line_set(&k->irq12, full && aux && (cb & I8042_CB_AUX_INT));
}

static void controller_fill(struct i8042 *k, uint8_t b, bool aux)
{
    struct i8042_state *s = &k->s;
    s->output_buffer = b;
    s->status |= I8042_STR_OBF;
    if (aux) s->status |= I8042_STR_AUX_OBF;
    else s->status &= (uint8_t)~I8042_STR_AUX_OBF;
}

/*
 * Move the next byte into an empty output buffer: the controller's own
 * replies first, then the keyboard's bytes while the keyboard interface is
 * enabled, translated to set 1 when command byte bit 6 says so.
 */
static void controller_refill(struct i8042 *k)
{
    struct i8042_state *s = &k->s;

    while (!(s->status & I8042_STR_OBF)) {
        if (s->reply_count) {
            uint8_t b = s->reply[0];
            bool aux = s->reply_aux[0];
            s->reply_count--;
            memmove(s->reply, s->reply + 1, s->reply_count);
            memmove(s->reply_aux, s->reply_aux + 1, s->reply_count);
            controller_fill(k, b, aux);
            break;
        }
        if (!s->kbd_count || (I8042_COMMAND_BYTE(s) & I8042_CB_KBD_DIS))
            break;
        uint8_t b = s->kbd_fifo[s->kbd_head];
        s->kbd_head = (uint8_t)((s->kbd_head + 1) % I8042_KBD_FIFO);
        s->kbd_count--;
        if (I8042_COMMAND_BYTE(s) & I8042_CB_XLATE) {
            if (b == KBD_BREAK_PREFIX) {
                s->xlate_break = 1;
                continue;   /* swallowed: it marks the next byte */
            }
            b = xlate_byte(b);
            if (s->xlate_break) b |= 0x80;
            s->xlate_break = 0;
        }
        controller_fill(k, b, false);
    }
    controller_update_irq(k);
}

/* A byte the controller itself answers with. */
static void controller_reply(struct i8042 *k, uint8_t b, bool aux)
{
    struct i8042_state *s = &k->s;
    if (s->reply_count < sizeof s->reply) {
        s->reply[s->reply_count] = b;
        s->reply_aux[s->reply_count] = aux;
        s->reply_count++;
    }
    controller_refill(k);
}

/* The output port as the controller drives it (bits 4, 5 follow the buffer). */
static uint8_t controller_output_port(const struct i8042 *k)
{
    const struct i8042_state *s = &k->s;
    uint8_t v = s->output_port & (uint8_t)~(I8042_OUT_OBF | I8042_OUT_AUX_OBF | I8042_OUT_A20);
    /* A20 reads back the gate as it is: port 0x92 drives the same gate. */
    if (board_line_sense(&k->a20)) v |= I8042_OUT_A20;
    if ((s->status & I8042_STR_OBF) && !(s->status & I8042_STR_AUX_OBF)) v |= I8042_OUT_OBF;
    if ((s->status & I8042_STR_OBF) && (s->status & I8042_STR_AUX_OBF)) v |= I8042_OUT_AUX_OBF;
    return v;
}

static void controller_write_output_port(struct i8042 *k, uint8_t v)
{
    k->s.output_port = v;
    board_line_signal(&k->a20, (v & I8042_OUT_A20) != 0);
    /* Bit 0 drives the CPU's RESET line: 0 holds the processor in reset. */
    if (!(v & I8042_OUT_RESET))
        board_line_signal(&k->reset, 1);
}

static void controller_write_command_byte(struct i8042 *k, uint8_t v)
{
    struct i8042_state *s = &k->s;
    I8042_COMMAND_BYTE(s) = v;
    /* Status bit 2 shows the system flag of the command byte. */
    if (v & I8042_CB_SYS) s->status |= I8042_STR_SYS;
    else s->status &= (uint8_t)~I8042_STR_SYS;
}

static void controller_command(struct i8042 *k, uint8_t cmd)
{
    struct i8042_state *s = &k->s;

    s->pending_command = 0;
    if (cmd >= CMD_READ_RAM_FIRST && cmd <= CMD_READ_RAM_LAST) {
        controller_reply(k, s->ram[cmd - CMD_READ_RAM_FIRST], false);
        return;
    }
    if (cmd >= CMD_WRITE_RAM_FIRST && cmd <= CMD_WRITE_RAM_LAST) {
        s->pending_command = cmd;
        return;
    }
    if (cmd >= CMD_PULSE_FIRST) {
        /* Bits 0-3 = 0 pulse output port bits 0-3 low for 6 us; a pulse on
           bit 0 (FE, or any even F0-FF command) resets the CPU. */
        if (!(cmd & I8042_OUT_RESET))
            board_line_signal(&k->reset, 1);
        return;
    }
    switch (cmd) {
    case CMD_AUX_DISABLE:
        controller_write_command_byte(k, I8042_COMMAND_BYTE(s) | I8042_CB_AUX_DIS);
        break;
    case CMD_AUX_ENABLE:
        controller_write_command_byte(k, I8042_COMMAND_BYTE(s) & (uint8_t)~I8042_CB_AUX_DIS);
        break;
    case CMD_AUX_TEST:
    case CMD_KBD_TEST:
        controller_reply(k, 0x00, false);   /* 00: no error on the clock and data lines */
        break;
    case CMD_SELF_TEST:
        controller_reply(k, 0x55, false);
        break;
    case CMD_KBD_DISABLE:
        controller_write_command_byte(k, I8042_COMMAND_BYTE(s) | I8042_CB_KBD_DIS);
        break;
    case CMD_KBD_ENABLE:
        controller_write_command_byte(k, I8042_COMMAND_BYTE(s) & (uint8_t)~I8042_CB_KBD_DIS);
        controller_refill(k);
        break;
    case CMD_READ_INPUT:
        controller_reply(k, s->input_port, false);
        break;
    case CMD_READ_OUTPUT:
        controller_reply(k, controller_output_port(k), false);
        break;
    case CMD_WRITE_OUTPUT:
    case CMD_WRITE_KBD_OBUF:
    case CMD_WRITE_AUX_OBUF:
    case CMD_WRITE_AUX:
        s->pending_command = cmd;
        break;
    default:
        /* The 8042 firmware ignores command codes it does not define. */
        break;
    }
}

/* A data byte written to port 0x60. */
static void controller_data(struct i8042 *k, uint8_t b)
{
    struct i8042_state *s = &k->s;
    uint8_t cmd = s->pending_command;

    s->pending_command = 0;
    if (cmd >= CMD_WRITE_RAM_FIRST && cmd <= CMD_WRITE_RAM_LAST) {
        if (cmd == CMD_WRITE_RAM_FIRST) controller_write_command_byte(k, b);
        else s->ram[cmd - CMD_WRITE_RAM_FIRST] = b;
        controller_refill(k);   /* bit 4 or bit 0 may have changed */
        return;
    }
    switch (cmd) {
    case CMD_WRITE_OUTPUT:
        controller_write_output_port(k, b);
        break;
    case CMD_WRITE_KBD_OBUF:
        controller_reply(k, b, false);
        break;
    case CMD_WRITE_AUX_OBUF:
        controller_reply(k, b, true);
        break;
    case CMD_WRITE_AUX:
        /* No aux device is attached: the transmission times out; the
           controller reports the time-out and FE in the buffer, from the aux side. */
        s->status |= I8042_STR_TIMEOUT;
        controller_reply(k, KBD_REPLY_RESEND, true);
        break;
    default:
        /* To the keyboard.  A byte sent also ends a time-out condition. */
        s->status &= (uint8_t)~I8042_STR_TIMEOUT;
        keyboard_write(s, b);
        controller_refill(k);
        break;
    }
}

static uint32_t i8042_data_read(void *opaque, uint32_t offset, unsigned size)
{
    struct i8042 *k = opaque;
    struct i8042_state *s = &k->s;
    uint8_t b = s->output_buffer;   /* an empty buffer reads its last byte again */
    s->status &= (uint8_t)~(I8042_STR_OBF | I8042_STR_AUX_OBF);
    /*
     * IRQ 1/12 are output port bits 4/5, which follow OBF: the read empties
     * the buffer and drops the pin before the next byte can fill it (on a
     * real 8042 the next byte needs a whole serial transfer).  Refilling
     * with the pin left high would give an edge-triggered 8259A no new edge
     * for the next byte, and a guest taking one byte per IRQ would lose it.
     */
    controller_update_irq(k);
    controller_refill(k);
    return b;
}

static void i8042_data_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    struct i8042 *k = opaque;
    k->s.status &= (uint8_t)~I8042_STR_A2;   /* A2: the last write was data */
    controller_data(k, (uint8_t)value);
}

static uint32_t i8042_status_read(void *opaque, uint32_t offset, unsigned size)
{
    struct i8042 *k = opaque;
    return k->s.status;
}

static void i8042_command_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    struct i8042 *k = opaque;
    k->s.status |= I8042_STR_A2;   /* A2: the last write was a command */
    controller_command(k, (uint8_t)value);
}

const struct io_ops i8042_data_ops = { .read = i8042_data_read, .write = i8042_data_write };
const struct io_ops i8042_command_ops = { .read = i8042_status_read, .write = i8042_command_write };

/*
 * Reset: the controller as a PC's POST leaves it (there is no BIOS for
 * -kernel guests to do it): self test passed (SYS), keyboard interrupt on,
 * translation on, the aux port disabled (no device), A20 as the board set
 * it, the keyboard at its power-on defaults with an empty buffer (the BAT
 * code AA a keyboard sends at power-on is taken by POST).
 */
void i8042_reset(struct i8042 *k)
{
    struct i8042_state *s = &k->s;
    irq_line_set(&k->irq1, false);
    irq_line_set(&k->irq12, false);
    memset(s, 0, sizeof *s);
    s->status = I8042_STR_INH;   /* keylock switch: not inhibited */
    s->input_port = KBD_INPUT_PORT_DEFAULT;
    s->output_port = I8042_OUT_RESET | I8042_OUT_KBD_CLK | I8042_OUT_KBD_DATA;
    if (board_line_sense(&k->a20)) s->output_port |= I8042_OUT_A20;
    controller_write_command_byte(k, I8042_CB_KBD_INT | I8042_CB_SYS | I8042_CB_AUX_DIS | I8042_CB_XLATE);
    keyboard_power_on(s);
}

void i8042_init(struct i8042 *k, struct irq_line irq1, struct irq_line irq12,
                struct board_line reset, struct board_line a20)
{
    memset(k, 0, sizeof *k);
    k->reset = reset;
    k->a20 = a20;
    k->irq1 = irq1;
    k->irq12 = irq12;
    i8042_reset(k);
}

/* ---- the board's registry -------------------------------------------- */

#define I8042_SNAPSHOT_VERSION 1

int i8042_save(void *opaque, struct snapshot *snap)
{
    struct i8042 *k = opaque;
    return snapshot_put(snap, "i8042", I8042_SNAPSHOT_VERSION, &k->s, sizeof k->s);
}

int i8042_load(void *opaque, const struct snapshot *snap, struct snapshot_check *c)
{
    struct i8042 *k = opaque;
    struct i8042_state st;
    int r = snapshot_take(snap, "i8042", I8042_SNAPSHOT_VERSION, &st, sizeof st, c);
    if (!r) r = snapshot_check_range(c, "i8042", "kbd_count", st.kbd_count, 0, I8042_KBD_FIFO);
    if (!r) r = snapshot_check_range(c, "i8042", "kbd_head", st.kbd_head, 0, I8042_KBD_FIFO - 1);
    if (!r) r = snapshot_check_range(c, "i8042", "reply_count", st.reply_count, 0, sizeof st.reply);
    if (!r) r = snapshot_check_range(c, "i8042", "kbd_scancode_set", st.kbd_scancode_set, 1, 3);
    if (!r) r = snapshot_check_range(c, "i8042", "kbd_scanning", st.kbd_scanning, 0, 1);
    if (!r) r = snapshot_check_range(c, "i8042", "xlate_break", st.xlate_break, 0, 1);
    for (size_t i = 0; i < sizeof st.reply_aux && !r; i++)
        if (st.reply_aux[i] > 1) r = snapshot_refuse(c, "i8042", "reply_aux", "%u is not 0 or 1", st.reply_aux[i]);
    if (r < 0 || !c->apply) return r;
    k->s = st;
    controller_update_irq(k);
    return 0;
}

void i8042_reset_device(void *opaque)
{
    i8042_reset(opaque);
}

void i8042_info(void *opaque, FILE *out)
{
    struct i8042 *k = opaque;
    const struct i8042_state *s = &k->s;
    uint8_t cb = I8042_COMMAND_BYTE(s);
    fprintf(out, "i8042 keyboard controller (ports 0x60, 0x64)\n");
    fprintf(out, "  status   0x%02x:%s%s%s%s%s%s%s%s\n", s->status,
            s->status & I8042_STR_OBF ? " OBF" : "", s->status & I8042_STR_IBF ? " IBF" : "",
            s->status & I8042_STR_SYS ? " SYS" : "", s->status & I8042_STR_A2 ? " A2" : "",
            s->status & I8042_STR_INH ? " INH(not inhibited)" : "",
            s->status & I8042_STR_AUX_OBF ? " AUX_OBF" : "",
            s->status & I8042_STR_TIMEOUT ? " TIMEOUT" : "", s->status & I8042_STR_PARITY ? " PARITY" : "");
    fprintf(out, "  command  0x%02x: IRQ1 %s, IRQ12 %s, keyboard %s, aux %s, translation %s\n", cb,
            cb & I8042_CB_KBD_INT ? "on" : "off", cb & I8042_CB_AUX_INT ? "on" : "off",
            cb & I8042_CB_KBD_DIS ? "disabled" : "enabled", cb & I8042_CB_AUX_DIS ? "disabled" : "enabled",
            cb & I8042_CB_XLATE ? "on (set 1)" : "off");
    fprintf(out, "  output port 0x%02x (A20 %s), input port 0x%02x, output buffer 0x%02x\n",
            controller_output_port(k), board_line_sense(&k->a20) ? "on" : "off",
            s->input_port, s->output_buffer);
    if (s->pending_command)
        fprintf(out, "  waiting for the data byte of command 0x%02x\n", s->pending_command);
    fprintf(out, "  keyboard: scan code set %u, scanning %s, LEDs 0x%x, typematic 0x%02x, %u byte(s) queued:",
            s->kbd_scancode_set, s->kbd_scanning ? "on" : "off", s->kbd_leds, s->kbd_typematic,
            s->kbd_count + s->reply_count);
    for (int i = 0; i < s->reply_count; i++) fprintf(out, " %02x", s->reply[i]);
    for (int i = 0; i < s->kbd_count; i++)
        fprintf(out, " %02x", s->kbd_fifo[(s->kbd_head + i) % I8042_KBD_FIFO]);
    fputc('\n', out);
}

