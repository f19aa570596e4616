/*
 * kbd_terminal.h - the host terminal as the PC's keyboard.
 *
 * When standard input is a terminal that no serial port reads (e.g.
 * -serial file:out.txt, or -serial none, with -display none), the bytes
 * typed there become key presses and releases on the 8042's keyboard
 * (i8042_key_event): letters, digits and the US-layout symbols (Shift held
 * around the capitals and shifted symbols), Enter, Backspace, Tab, Escape,
 * Ctrl+letter, and the arrow keys from their escape sequences (ESC [ A..D,
 * ESC O A..D).  Other escape sequences (function keys, Home, ...) are
 * dropped.  A byte sequence stays queued here until the keyboard's 16-byte
 * buffer has room, so a paste is typed in order, not lost.
 */
#ifndef TRAPEZE_KBD_TERMINAL_H
#define TRAPEZE_KBD_TERMINAL_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/chardev.h"

struct i8042;

#define KBD_TERMINAL_QUEUE 256

struct kbd_terminal {
    struct i8042 *kbd;
    struct chardev in;              /* stdin, when it is a free terminal */
    uint8_t queue[KBD_TERMINAL_QUEUE];
    int head, count;
};

/*
 * Take stdin as the keyboard if it is a terminal nobody else reads; else
 * stay idle.  Call after the serial ports claimed what they want.
 */
void kbd_terminal_init(struct kbd_terminal *t, struct i8042 *kbd);
void kbd_terminal_destroy(struct kbd_terminal *t);
/* From the run loop (machine_poll): read what was typed, feed the keyboard. */
void kbd_terminal_poll(struct kbd_terminal *t);

#endif
