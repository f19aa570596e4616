/*
 * bios_serial.c - the serial console under -nographic: the BIOS's text
 * output copied to COM1, and bytes received on COM1 as keys for int 16h.
 *
 * Why: under `qemu-system-i386 -nographic` there is no screen to look at,
 * and SeaBIOS (its "sercon", enabled by QEMU for -nographic) copies int 10h
 * text to the first serial port and reads keys from it, so a boot sector
 * that prints with int 10h is seen on the terminal.  Checked under QEMU 8.x
 * with SeaBIOS 1.16: a boot sector's int 10h AH=0Eh text reaches stdout with
 * -nographic (and with -nographic -serial file:F, in F), not with -display
 * none -serial stdio; keys typed on the terminal are read by int 16h AH=00h
 * with -nographic only.
 *
 * Output: every character the teletype path writes (int 10h AH=0Eh, AH=13h,
 * the BIOS's own messages), as the byte itself (CR, LF, BS and BEL too) to
 * COM1's transmit register, through the UART model like any guest OUT.
 * SeaBIOS also turns cursor moves, colours and AH=09h/0Ah writes into ANSI
 * escape sequences; we send plain text only (AH=09h/0Ah are not copied, so
 * the usual "09h for the colour, then 0Eh" pair shows the character once).
 *
 * Input: int 16h first drains COM1's receiver (LSR bit 0 "data ready",
 * then RBR) into the BDA keyboard buffer, each byte as the key that types
 * it on a US keyboard (scan code << 8 | ASCII): letters, digits and
 * punctuation, Enter (CR), Backspace (BS, and DEL, what terminals send for
 * it), Tab, Esc, Ctrl-A..Ctrl-Z.  Terminal escape sequences (arrows,
 * function keys) are not parsed: their bytes arrive one by one.
 *
 * Not with -kernel (trapeze runs the POST in C at load time, and the
 * kernel's COM1 output stays its own: QEMU's SeaBIOS would print its
 * banner there first).  Both leave COM1 alone while its LCR has DLAB set (a guest programming
 * the baud rate divisor).  Once a guest kernel drives COM1 itself it does
 * not call the BIOS any more, so nothing here gets in its way.
 */
#include "machine/bios/bios_internal.h"

#include "machine/machine.h"

#define COM1_BASE 0x3F8
#define COM1_RBR  (COM1_BASE + 0)   /* receiver buffer (read, DLAB = 0) */
#define COM1_THR  (COM1_BASE + 0)   /* transmitter holding (write, DLAB = 0) */
#define COM1_LCR  (COM1_BASE + 3)   /* line control */
#define COM1_LSR  (COM1_BASE + 5)   /* line status */
#define LCR_DLAB  0x80              /* divisor latch access */
#define LSR_DR    0x01              /* data ready */
#define LSR_THRE  0x20              /* transmitter holding register empty */

/* -kernel: the POST runs in C at load time and the kernel owns COM1 from its
   first instruction, so its serial output stays the kernel's alone. */
static bool serial_console_on(struct bios *b)
{
    const struct machine_config *c = &b->machine->config;
    return c->serial_console && !c->kernel && !(bios_inb(b, COM1_LCR) & LCR_DLAB);
}

void bios_serial_put(struct bios *b, uint8_t ch)
{
    if (!serial_console_on(b))
        return;
    /* The UART model's transmitter is infinitely fast, but a guest may have
       left it in loopback or changed it: write only when it says it is empty. */
    if (bios_inb(b, COM1_LSR) & LSR_THRE)
        bios_outb(b, COM1_THR, ch);
}

/* The key word (scan code << 8 | ASCII) a terminal byte stands for; 0: none. */
static uint16_t serial_byte_to_key(uint8_t c)
{
    switch (c) {
    case 0x0D: case 0x0A: return 0x1C0D;   /* Enter (a terminal sends CR; LF from a pipe) */
    case 0x08: case 0x7F: return 0x0E08;   /* Backspace */
    case 0x09:            return 0x0F09;   /* Tab */
    case 0x1B:            return 0x011B;   /* Esc */
    case ' ':             return 0x3920;
    }
    if (c >= 0x01 && c <= 0x1A) {          /* Ctrl-A .. Ctrl-Z: the letter's scan code */
        uint16_t letter = bios_ascii_to_key((uint8_t)('a' + c - 1));
        return (uint16_t)((letter & 0xFF00) | c);
    }
    return bios_ascii_to_key(c);
}

void bios_serial_poll(struct bios *b)
{
    if (!serial_console_on(b))
        return;
    /* The 16550's FIFO holds 16 bytes: take what is there now. */
    for (int n = 0; n < 16 && (bios_inb(b, COM1_LSR) & LSR_DR); n++) {
        uint16_t key = serial_byte_to_key(bios_inb(b, COM1_RBR));
        if (key)
            bios_keyboard_put(b, key);
    }
}
