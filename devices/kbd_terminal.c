/*
 * kbd_terminal.c - typed bytes to key presses (see kbd_terminal.h).
 */
#include "devices/kbd_terminal.h"

#include <string.h>
#include <unistd.h>

#include "devices/i8042.h"

#define ESC 0x1B
/* The most keyboard bytes one typed byte can make: Shift, key, key up, Shift up
   with E0 prefixes and F0 break prefixes (set 2: 12 12 / E0 75 / E0 F0 75 / F0 12). */
#define BYTES_PER_CHAR 9

void kbd_terminal_init(struct kbd_terminal *t, struct i8042 *kbd)
{
    memset(t, 0, sizeof *t);
    t->kbd = kbd;
    t->in.in_fd = -1;
    t->in.out_fd = -1;
    if (!isatty(STDIN_FILENO))
        return;
    /* Only the first stdio backend that wants stdin gets it (chardev.h). */
    if (chardev_open(&t->in, "stdio", "keyboard", true) < 0)
        t->in.in_fd = -1;
    t->in.out_fd = -1;   /* the keyboard never writes */
}

void kbd_terminal_destroy(struct kbd_terminal *t)
{
    if (chardev_has_input(&t->in))
        chardev_close(&t->in);
}

/* US layout: the key (HID usage) for a printable ASCII byte, and whether Shift is held. */
static unsigned ascii_key(uint8_t c, bool *shift)
{
    static const char plain[] = "-=[]\\;'`,./";
    static const char shifted[] = "_+{}|:\"~<>?";
    static const uint8_t usage[] = { 0x2D, 0x2E, 0x2F, 0x30, 0x31, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38 };
    static const char digit_shift[] = ")!@#$%^&*(";   /* shift + 0..9 */
    *shift = false;
    if (c >= 'a' && c <= 'z') return HID_KEY_A + (unsigned)(c - 'a');
    if (c >= 'A' && c <= 'Z') { *shift = true; return HID_KEY_A + (unsigned)(c - 'A'); }
    if (c >= '1' && c <= '9') return HID_KEY_1 + (unsigned)(c - '1');
    if (c == '0') return HID_KEY_1 + 9;
    if (c == ' ') return HID_KEY_SPACE;
    for (int i = 0; i < 10; i++)
        if (c == (uint8_t)digit_shift[i]) { *shift = true; return i == 0 ? HID_KEY_1 + 9 : HID_KEY_1 + (unsigned)(i - 1); }
    for (size_t i = 0; i < sizeof usage; i++) {
        if (c == (uint8_t)plain[i]) return usage[i];
        if (c == (uint8_t)shifted[i]) { *shift = true; return usage[i]; }
    }
    return 0;
}

static void tap(struct kbd_terminal *t, unsigned modifier, unsigned key)
{
    if (modifier) i8042_key_event(t->kbd, modifier, true);
    i8042_key_event(t->kbd, key, true);
    i8042_key_event(t->kbd, key, false);
    if (modifier) i8042_key_event(t->kbd, modifier, false);
}

static uint8_t queue_at(const struct kbd_terminal *t, int i)
{
    return t->queue[(t->head + i) % KBD_TERMINAL_QUEUE];
}

static void queue_drop(struct kbd_terminal *t, int n)
{
    t->head = (t->head + n) % KBD_TERMINAL_QUEUE;
    t->count -= n;
}

/* Type the byte(s) at the head of the queue (an escape sequence arrives whole from a terminal). */
static void type_next(struct kbd_terminal *t)
{
    uint8_t c = queue_at(t, 0);
    bool shift;
    unsigned key;

    if (c == ESC) {
        if (t->count >= 3 && (queue_at(t, 1) == '[' || queue_at(t, 1) == 'O')) {
            static const unsigned arrows[4] = { HID_KEY_UP, HID_KEY_DOWN, HID_KEY_RIGHT, HID_KEY_LEFT };
            uint8_t f = queue_at(t, 2);
            if (f >= 'A' && f <= 'D') tap(t, 0, arrows[f - 'A']);
            /* Any other sequence: drop through its final byte (0x40-0x7E). */
            int n = 2;
            while (n < t->count && !(queue_at(t, n) >= 0x40 && queue_at(t, n) <= 0x7E)) n++;
            queue_drop(t, n < t->count ? n + 1 : t->count);
            return;
        }
        tap(t, 0, HID_KEY_ESCAPE);   /* a lone ESC: the Escape key */
        queue_drop(t, 1);
        return;
    }
    queue_drop(t, 1);
    if (c == '\r' || c == '\n') tap(t, 0, HID_KEY_ENTER);
    else if (c == 0x7F || c == 0x08) tap(t, 0, HID_KEY_BACKSPACE);
    else if (c == '\t') tap(t, 0, HID_KEY_TAB);
    else if (c >= 0x01 && c <= 0x1A) tap(t, HID_KEY_LCTRL, HID_KEY_A + (unsigned)(c - 1));
    else if ((key = ascii_key(c, &shift)) != 0) tap(t, shift ? HID_KEY_LSHIFT : 0, key);
    /* other bytes (non-ASCII) have no key on a US keyboard: dropped */
}

void kbd_terminal_poll(struct kbd_terminal *t)
{
    if (!chardev_has_input(&t->in))
        return;
    uint8_t buf[64];
    int room = KBD_TERMINAL_QUEUE - t->count;
    if (room > (int)sizeof buf) room = (int)sizeof buf;
    int n = room > 0 ? chardev_read(&t->in, buf, room) : 0;
    for (int i = 0; i < n; i++) {
        t->queue[(t->head + t->count) % KBD_TERMINAL_QUEUE] = buf[i];
        t->count++;
    }
    /* Feed the keyboard while its buffer has room for a whole character. */
    while (t->count > 0 && t->kbd->s.kbd_count + BYTES_PER_CHAR <= I8042_KBD_FIFO)
        type_next(t);
}
