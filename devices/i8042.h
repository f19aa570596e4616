/*
 * i8042.h - the PC/AT keyboard controller (an Intel 8042 running IBM's
 * firmware) and the MF II keyboard behind it.
 *
 * Reference: IBM Personal Computer AT Technical Reference (1984),
 * "Keyboard Controller" (status register, command byte, controller
 * commands, input and output ports) and "Keyboard" (keyboard commands,
 * scan code sets); IBM PS/2 Hardware Interface Technical Reference,
 * "Keyboard/Auxiliary Device Controller" (the aux port commands A7-A9, D2-D4).
 *
 *   port 0x60  read: the output buffer (a byte from the keyboard, the aux
 *              device or the controller); write: the input buffer, a data
 *              byte (to the keyboard, or the parameter of a controller
 *              command such as 0x60 or 0xD1)
 *   port 0x64  read: the status register; write: a controller command
 *
 * Keyboard bytes travel as the keyboard makes them (scan code set 2 by
 * default) and the controller translates them to set 1 when command byte
 * bit 6 says so - which is what a PC guest expects.
 *
 * The aux (PS/2 mouse) port: there is no aux device.  The controller's aux
 * commands work (A7/A8 gate the clock, A9 reports the interface test), and
 * a byte written to the aux device (D4) answers as on a controller with
 * nothing plugged in: no reply byte, the status register's timeout bit
 * set.  See devices/README.md.
 *
 * The input side: the host (the SDL window, the terminal) reports key
 * presses and releases with i8042_key_event, naming the key by its USB HID
 * usage ID (HID Usage Tables, section 10 "Keyboard/Keypad Page (0x07)"),
 * which SDL2's SDL_Scancode values follow: KEY_A = 0x04 ... Enter = 0x28,
 * Escape = 0x29, Left Control = 0xE0 ... Right GUI = 0xE7.  The keyboard
 * turns it into make/break codes of its current scan code set.
 */
#ifndef TRAPEZE_I8042_H
#define TRAPEZE_I8042_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/board_line.h"
#include "devices/irq.h"
#include "mmu/bus.h"

#define I8042_DATA_PORT    0x60
#define I8042_COMMAND_PORT 0x64   /* read: status, write: command */

/* Status register (AT Tech Ref, "Status Register"; PS/2 names bit 5 AUX_OBF). */
#define I8042_STR_OBF      0x01  /* output buffer full: a byte waits at port 0x60 */
#define I8042_STR_IBF      0x02  /* input buffer full: the controller has not taken the byte */
#define I8042_STR_SYS      0x04  /* system flag: command byte bit 2 (0 after power-on) */
#define I8042_STR_A2       0x08  /* command/data: 1 = last write was to port 0x64 */
#define I8042_STR_INH      0x10  /* inhibit switch: 1 = keyboard NOT inhibited */
#define I8042_STR_AUX_OBF  0x20  /* the byte in the output buffer came from the aux device */
#define I8042_STR_TIMEOUT  0x40  /* general time-out (transmit or receive) */
#define I8042_STR_PARITY   0x80  /* parity error on the last byte received */

/* Controller command byte, read with 0x20, written with 0x60 (AT Tech Ref). */
#define I8042_CB_KBD_INT   0x01  /* IRQ1 when a keyboard byte is in the output buffer */
#define I8042_CB_AUX_INT   0x02  /* IRQ12 when an aux byte is in the output buffer */
#define I8042_CB_SYS       0x04  /* system flag, shown as status bit 2 */
#define I8042_CB_INH_OVR   0x08  /* AT: inhibit override (ignore the keylock) */
#define I8042_CB_KBD_DIS   0x10  /* disable the keyboard (clock held low) */
#define I8042_CB_AUX_DIS   0x20  /* disable the aux device (PS/2); AT: PC mode */
#define I8042_CB_XLATE     0x40  /* translate keyboard bytes to scan code set 1 */

/* Output port (read 0xD0, write 0xD1). */
#define I8042_OUT_RESET    0x01  /* system reset: 0 = hold the CPU in reset */
#define I8042_OUT_A20      0x02  /* gate A20 */
#define I8042_OUT_AUX_CLK  0x04  /* PS/2: aux clock */
#define I8042_OUT_AUX_DATA 0x08  /* PS/2: aux data */
#define I8042_OUT_OBF      0x10  /* output buffer full (keyboard byte) = IRQ1 */
#define I8042_OUT_AUX_OBF  0x20  /* PS/2: aux output buffer full = IRQ12 */
#define I8042_OUT_KBD_CLK  0x40  /* keyboard clock */
#define I8042_OUT_KBD_DATA 0x80  /* keyboard data */

/* Input port (read 0xC0). */
#define I8042_IN_RAM_256K  0x10  /* AT: 0 = 256 KiB on the system board (jumper) */
#define I8042_IN_MFG       0x20  /* manufacturing jumper not installed */
#define I8042_IN_COLOR     0x40  /* display switch: 0 = color (CGA/EGA/VGA) */
#define I8042_IN_KEYLOCK   0x80  /* keyboard inhibit switch: 1 = not inhibited */

#define I8042_KBD_FIFO     16    /* the MF II keyboard buffers 16 bytes */

/*
 * The whole device state as plain data (no pointers): saved and loaded as
 * the snapshot section "i8042".
 */
struct i8042_state {
    /* The controller. */
    uint8_t status;            /* status register (OBF IBF SYS A2 INH AUX_OBF timeout parity) */
    uint8_t output_port;       /* read 0xD0, write 0xD1 (bits 4/5 computed on read) */
    uint8_t input_port;        /* read 0xC0 */
    uint8_t output_buffer;     /* the byte port 0x60 reads */
    uint8_t pending_command;   /* a command waiting for its data byte at 0x60, or 0 */
    uint8_t xlate_break;       /* translation saw 0xF0: set bit 7 of the next code */
    uint8_t reply[4];          /* the controller's own replies, waiting for the output buffer */
    uint8_t reply_aux[4];      /* 1: reply[i] goes out as an aux byte (D3, aux time-out) */
    uint8_t reply_count;
    uint8_t pad0[3];
    /* The 8042's internal RAM: byte 0 is the command byte (commands 20-3F, 60-7F). */
    uint8_t ram[32];
    /* The keyboard. */
    uint8_t kbd_fifo[I8042_KBD_FIFO];  /* bytes on their way to the controller, as made */
    uint8_t kbd_head, kbd_count;
    uint8_t kbd_scanning;      /* 0 after F5 (disable), 1 after F4/reset */
    uint8_t kbd_scancode_set;  /* 1, 2 or 3 (F0) */
    uint8_t kbd_pending;       /* a keyboard command waiting for its argument (ED F0 F3 FB-FD), or 0 */
    uint8_t kbd_leds;          /* ED argument: bit 0 scroll, 1 num, 2 caps lock */
    uint8_t kbd_typematic;     /* F3 argument: bits 0-4 rate, 5-6 delay */
    uint8_t kbd_last;          /* the last byte sent (FE asks for it again) */
    uint8_t keys_down[32];     /* bitmap by HID usage: keys now held (typematic in set 3) */
    uint8_t set3_break[32];    /* bitmap by set-3 code: the key sends a break code */
    uint8_t set3_typematic[32];/* bitmap by set-3 code: the key repeats */
};

/* The command byte is the first byte of the controller's RAM. */
#define I8042_COMMAND_BYTE(st) ((st)->ram[0])

struct i8042 {
    struct board_line reset;   /* output port bit 0 low, or a pulse on it: the CPU's RESET */
    struct board_line a20;     /* output port bit 1: the A20 gate (port 0x92 drives it too) */
    struct irq_line irq1;      /* keyboard */
    struct irq_line irq12;     /* aux */
    struct i8042_state s;
};

/* Power-on: self test passed, keyboard on, A20 gate as the board has it. */
void i8042_init(struct i8042 *k, struct irq_line irq1, struct irq_line irq12,
                struct board_line reset, struct board_line a20);
void i8042_reset(struct i8042 *k);

/*
 * The host's keyboard: 'usage' is a USB HID usage ID of the Keyboard/
 * Keypad page (0x04 'a' ... 0xE7 Right GUI; the values of SDL_Scancode),
 * 'pressed' true for a press (and typematic repeat), false for a release.
 * Keys the keyboard has no code for are dropped; returns false for them.
 * A full keyboard buffer drops the key and queues the overrun code, as
 * the keyboard does.
 */
bool i8042_key_event(struct i8042 *k, unsigned usage, bool pressed);

/* USB HID usage IDs (Keyboard/Keypad page 0x07) the terminal input uses. */
#define HID_KEY_A          0x04  /* ... HID_KEY_A + 25 = 'z' */
#define HID_KEY_1          0x1E  /* ... 0x26 = '9', 0x27 = '0' */
#define HID_KEY_ENTER      0x28
#define HID_KEY_ESCAPE     0x29
#define HID_KEY_BACKSPACE  0x2A
#define HID_KEY_TAB        0x2B
#define HID_KEY_SPACE      0x2C
#define HID_KEY_F1         0x3A  /* ... 0x45 = F12 */
#define HID_KEY_RIGHT      0x4F
#define HID_KEY_LEFT       0x50
#define HID_KEY_DOWN       0x51
#define HID_KEY_UP         0x52
#define HID_KEY_LCTRL      0xE0
#define HID_KEY_LSHIFT     0xE1
#define HID_KEY_LALT       0xE2

/* Port handlers (opaque = the i8042), claimed in machine_init. */
extern const struct io_ops i8042_data_ops;      /* 1 port at 0x60 */
extern const struct io_ops i8042_command_ops;   /* 1 port at 0x64 */

/*
 * The board's registry hooks (opaque = the i8042): save/load as snapshot
 * section "i8042", reset, info.  machine/pc.c registers them as "i8042".
 */
struct snapshot;
int i8042_save(void *opaque, struct snapshot *s);
struct snapshot_check;
int i8042_load(void *opaque, const struct snapshot *s, struct snapshot_check *c);
void i8042_reset_device(void *opaque);
void i8042_info(void *opaque, FILE *out);

#endif
