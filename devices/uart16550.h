/*
 * uart16550.h - the National Semiconductor PC16550D UART (the "16550A" of
 * every PC since the 486), as its data sheet names it.
 *
 * Eight registers at the port base (DLAB = LCR bit 7):
 *
 *   offset  DLAB=0 read  DLAB=0 write  DLAB=1
 *     0     RBR          THR           DLL  divisor latch, low byte
 *     1     IER          IER           DLM  divisor latch, high byte
 *     2     IIR          FCR           (IIR / FCR)
 *     3     LCR          LCR
 *     4     MCR          MCR
 *     5     LSR          (factory test)
 *     6     MSR          (none)
 *     7     SCR          SCR
 *
 * The transmitter is infinitely fast: a byte written to THR goes to the
 * backend at once, so THR and the transmit shift register are always empty
 * again by the time the guest looks: LSR THRE and TEMT always read 1, and
 * polled output (wait for THRE, write THR) works from the first byte.  The
 * receive side has the real 16-byte FIFO with its trigger levels.
 *
 * The character timeout (IIR 0xC) is raised when the run loop polls and no
 * new byte has arrived while fewer bytes than the trigger level wait; the
 * data sheet's "four character times" needs the virtual clock, which comes
 * later.
 *
 * All state lives in struct uart16550, so save/restore can copy it.
 */
#ifndef TRAPEZE_UART16550_H
#define TRAPEZE_UART16550_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/chardev.h"
#include "devices/irq.h"
#include "mmu/bus.h"

/* Register offsets from the base port. */
#define UART_RBR 0   /* receiver buffer (read, DLAB=0) */
#define UART_THR 0   /* transmitter holding (write, DLAB=0) */
#define UART_DLL 0   /* divisor latch LSB (DLAB=1) */
#define UART_IER 1   /* interrupt enable (DLAB=0) */
#define UART_DLM 1   /* divisor latch MSB (DLAB=1) */
#define UART_IIR 2   /* interrupt identification (read) */
#define UART_FCR 2   /* FIFO control (write) */
#define UART_LCR 3   /* line control */
#define UART_MCR 4   /* modem control */
#define UART_LSR 5   /* line status */
#define UART_MSR 6   /* modem status */
#define UART_SCR 7   /* scratch */

/* IER bits. */
#define UART_IER_ERBFI 0x01  /* received data available (and char timeout) */
#define UART_IER_ETBEI 0x02  /* transmitter holding register empty */
#define UART_IER_ELSI  0x04  /* receiver line status */
#define UART_IER_EDSSI 0x08  /* modem status */

/* IIR: bit 0 = 0 when an interrupt is pending; bits 1-3 say which (priority order). */
#define UART_IIR_NONE    0x01  /* no interrupt pending */
#define UART_IIR_RLS     0x06  /* 1st: receiver line status (OE PE FE BI); LSR read clears */
#define UART_IIR_RDA     0x04  /* 2nd: received data at trigger level; RBR read below it clears */
#define UART_IIR_CTI     0x0C  /* 2nd: character timeout (FIFO mode); RBR read clears */
#define UART_IIR_THRE    0x02  /* 3rd: THR empty; IIR read or THR write clears */
#define UART_IIR_MSI     0x00  /* 4th: modem status; MSR read clears */
#define UART_IIR_FIFO    0xC0  /* both bits set when FCR bit 0 enabled the FIFOs */

/* FCR bits (write only). */
#define UART_FCR_ENABLE   0x01  /* enable both FIFOs; must be 1 for the others to count */
#define UART_FCR_CLEAR_RX 0x02  /* clear the receive FIFO (self-clearing) */
#define UART_FCR_CLEAR_TX 0x04  /* clear the transmit FIFO (self-clearing) */
#define UART_FCR_DMA      0x08  /* DMA mode select (no effect here) */
#define UART_FCR_TRIGGER  0xC0  /* receive trigger: 00 = 1, 01 = 4, 10 = 8, 11 = 14 bytes */

/* LCR bits. */
#define UART_LCR_WLS   0x03  /* word length: 5 + value bits */
#define UART_LCR_STB   0x04  /* stop bits: 0 = 1, 1 = 1.5/2 */
#define UART_LCR_PEN   0x08  /* parity enable */
#define UART_LCR_EPS   0x10  /* even parity select */
#define UART_LCR_SP    0x20  /* stick parity */
#define UART_LCR_BREAK 0x40  /* set break */
#define UART_LCR_DLAB  0x80  /* divisor latch access bit */

/* MCR bits. */
#define UART_MCR_DTR  0x01  /* data terminal ready */
#define UART_MCR_RTS  0x02  /* request to send */
#define UART_MCR_OUT1 0x04  /* user output 1 */
#define UART_MCR_OUT2 0x08  /* user output 2 (the PC gates the IRQ with it, see .c) */
#define UART_MCR_LOOP 0x10  /* local loopback */

/* LSR bits. */
#define UART_LSR_DR   0x01  /* data ready: a byte waits in RBR / the FIFO */
#define UART_LSR_OE   0x02  /* overrun error */
#define UART_LSR_PE   0x04  /* parity error */
#define UART_LSR_FE   0x08  /* framing error */
#define UART_LSR_BI   0x10  /* break interrupt */
#define UART_LSR_THRE 0x20  /* transmitter holding register empty */
#define UART_LSR_TEMT 0x40  /* transmitter empty (THR and shift register) */
#define UART_LSR_FIFOERR 0x80 /* an error byte is in the receive FIFO */
#define UART_LSR_ERRORS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)

/* MSR bits: deltas (cleared by reading MSR) and the current input levels. */
#define UART_MSR_DCTS 0x01  /* CTS changed */
#define UART_MSR_DDSR 0x02  /* DSR changed */
#define UART_MSR_TERI 0x04  /* RI went from on to off */
#define UART_MSR_DDCD 0x08  /* DCD changed */
#define UART_MSR_CTS  0x10  /* clear to send */
#define UART_MSR_DSR  0x20  /* data set ready */
#define UART_MSR_RI   0x40  /* ring indicator */
#define UART_MSR_DCD  0x80  /* data carrier detect */
#define UART_MSR_DELTAS 0x0F

#define UART_FIFO_SIZE 16

struct uart16550 {
    /* The registers, as the data sheet names them. */
    uint8_t rbr;              /* the last byte read out (RBR without the FIFO) */
    uint8_t ier;
    uint8_t iir;              /* as last computed by uart_update_irq */
    uint8_t fcr;              /* the write-only FCR as last programmed */
    uint8_t lcr;
    uint8_t mcr;
    uint8_t lsr;              /* error bits OE PE FE BI; DR THRE TEMT are derived */
    uint8_t msr;
    uint8_t scr;
    uint8_t dll, dlm;

    /* The receive FIFO (one deep when FCR bit 0 is clear, as a 16450). */
    uint8_t rx_fifo[UART_FIFO_SIZE];
    uint8_t rx_head, rx_count;

    bool thre_pending;        /* THR-empty interrupt armed, not yet acknowledged */
    bool timeout_pending;     /* character timeout indication */
    bool rx_recent;           /* a byte arrived since the last uart_poll */
    bool irq_level;           /* what we drive on the IRQ pin now */

    struct irq_line irq;
    struct chardev backend;
};

/*
 * Open the backend 'spec' (see chardev.h; 'option' names the command-line
 * option for errors) and reset the registers.  Returns 0 or -errno after
 * printing one line.
 */
int uart_init(struct uart16550 *u, const char *spec, const char *option, struct irq_line irq);
void uart_destroy(struct uart16550 *u);

/* The hardware reset (MR pin): registers to their data-sheet reset values. */
void uart_reset(struct uart16550 *u);

/* Port handlers; claim 8 ports at the base with these (opaque = the uart). */
extern const struct io_ops uart_io_ops;

/*
 * Bytes arriving on the serial line (from the backend, or a test).  Takes
 * at most what the receive FIFO has room for, without overrun, and returns
 * how many it took.
 */
int uart_receive(struct uart16550 *u, const uint8_t *buf, int len);

/* Room in the receive FIFO. */
int uart_rx_space(const struct uart16550 *u);

/*
 * Called by the run loop between slices: pull waiting input from the
 * backend, and raise the character timeout when nothing new came.
 */
void uart_poll(struct uart16550 *u);

/* machine_device callbacks (opaque = the uart): savevm section "com1" or
   "com2" (by the IRQ it is wired to), reset, `info comN`. */
struct snapshot;
int uart_save(void *opaque, struct snapshot *s);
struct snapshot_check;
int uart_load(void *opaque, const struct snapshot *s, struct snapshot_check *c);
void uart_reset_device(void *opaque);
void uart_info(void *opaque, FILE *out);

#endif
