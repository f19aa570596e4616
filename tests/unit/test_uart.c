/*
 * test_uart.c - the 16550A against its data sheet (PC16550D, SNLS378):
 * reset values, DLAB, LSR THRE/TEMT, IIR priorities (table 4), loopback
 * and the receive FIFO trigger levels.
 */
#include <stdlib.h>
#include <unistd.h>

#include "devices/uart16550.h"
#include "tests/test.h"

static int irq_raised, irq_lowered, irq_high;

static void test_raise(void *opaque, int irq) { irq_raised++; irq_high = 1; }
static void test_lower(void *opaque, int irq) { irq_lowered++; irq_high = 0; }

static uint8_t rd(struct uart16550 *u, int reg) { return (uint8_t)uart_io_ops.read(u, (uint32_t)reg, 1); }
static void wr(struct uart16550 *u, int reg, uint8_t v) { uart_io_ops.write(u, (uint32_t)reg, v, 1); }

/* A UART whose output goes to a temporary file (read back with out_text). */
static char out_path[64];

static void setup(struct uart16550 *u)
{
    static int n;
    snprintf(out_path, sizeof out_path, "/tmp/trapeze-test-uart-%d-%d", (int)getpid(), n++);
    char spec[80];
    snprintf(spec, sizeof spec, "file:%s", out_path);
    irq_raised = irq_lowered = irq_high = 0;
    int err = uart_init(u, spec, "-serial", (struct irq_line){ test_raise, test_lower, NULL, 4 });
    CHECK_EQ(err, 0);
}

static size_t out_text(char *buf, size_t len)
{
    FILE *f = fopen(out_path, "rb");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    return n;
}

static void teardown(struct uart16550 *u)
{
    uart_destroy(u);
    unlink(out_path);
}

TEST(uart_reset_values)
{
    struct uart16550 u;
    setup(&u);
    CHECK_EQ(rd(&u, UART_IER), 0x00);
    CHECK_EQ(rd(&u, UART_IIR), 0x01);             /* no interrupt pending, FIFOs off */
    CHECK_EQ(rd(&u, UART_LCR), 0x00);
    CHECK_EQ(rd(&u, UART_MCR), 0x00);
    CHECK_EQ(rd(&u, UART_LSR), 0x60);             /* THRE | TEMT */
    CHECK_EQ(rd(&u, UART_MSR) & 0xF0, 0xB0);      /* DCD DSR CTS: a terminal that is on */
    CHECK_EQ(irq_high, 0);
    teardown(&u);
}

TEST(uart_dlab_selects_divisor)
{
    struct uart16550 u;
    setup(&u);
    wr(&u, UART_IER, 0x05);
    wr(&u, UART_LCR, 0x83);                       /* DLAB, 8 data bits */
    wr(&u, UART_DLL, 0x01);                       /* 115200 baud */
    wr(&u, UART_DLM, 0x02);
    CHECK_EQ(rd(&u, UART_DLL), 0x01);
    CHECK_EQ(rd(&u, UART_DLM), 0x02);
    wr(&u, UART_LCR, 0x03);
    CHECK_EQ(rd(&u, UART_IER), 0x05);             /* IER kept apart from DLM */
    CHECK_EQ(rd(&u, UART_LCR), 0x03);
    wr(&u, UART_THR, 'x');                        /* DLAB = 0: a byte on the line */
    char buf[16];
    CHECK_EQ(out_text(buf, sizeof buf), 1);
    CHECK_EQ(buf[0], 'x');
    wr(&u, UART_IER, 0xFF);
    CHECK_EQ(rd(&u, UART_IER), 0x0F);             /* bits 7:4 always read 0 */
    wr(&u, UART_SCR, 0x5A);
    CHECK_EQ(rd(&u, UART_SCR), 0x5A);
    teardown(&u);
}

TEST(uart_polled_output_thre_temt)
{
    struct uart16550 u;
    setup(&u);
    const char *msg = "hello\n";
    for (const char *p = msg; *p; p++) {
        /* The polling loop every kernel writes: wait for THRE, then THR. */
        int spins = 0;
        while (!(rd(&u, UART_LSR) & UART_LSR_THRE) && spins < 100) spins++;
        CHECK_EQ(spins, 0);
        wr(&u, UART_THR, (uint8_t)*p);
        CHECK_EQ(rd(&u, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT), UART_LSR_THRE | UART_LSR_TEMT);
    }
    char buf[16];
    out_text(buf, sizeof buf);
    CHECK_STR(buf, "hello\n");
    teardown(&u);
}

TEST(uart_thre_interrupt)
{
    struct uart16550 u;
    setup(&u);
    wr(&u, UART_IER, UART_IER_ETBEI);             /* enabling it with THR empty fires at once */
    CHECK_EQ(irq_high, 1);
    CHECK_EQ(rd(&u, UART_IIR), 0x02);
    CHECK_EQ(irq_high, 0);                        /* the IIR read acknowledged it */
    CHECK_EQ(rd(&u, UART_IIR), 0x01);
    wr(&u, UART_THR, 'a');                        /* sent at once: THR empty again */
    CHECK_EQ(irq_high, 1);
    wr(&u, UART_IER, 0);
    CHECK_EQ(irq_high, 0);
    teardown(&u);
}

TEST(uart_loopback)
{
    struct uart16550 u;
    setup(&u);
    wr(&u, UART_MCR, UART_MCR_LOOP);
    rd(&u, UART_MSR);                             /* drop the deltas of entering loopback */
    CHECK_EQ(rd(&u, UART_MSR), 0x00);             /* outputs all off: inputs all off */
    wr(&u, UART_THR, 'Q');
    CHECK_EQ(rd(&u, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
    CHECK_EQ(rd(&u, UART_RBR), 'Q');
    CHECK_EQ(rd(&u, UART_LSR) & UART_LSR_DR, 0);
    char buf[16];
    CHECK_EQ(out_text(buf, sizeof buf), 0);       /* nothing reached the line */
    /* RTS -> CTS, DTR -> DSR, OUT1 -> RI, OUT2 -> DCD, with delta bits. */
    wr(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_DTR | UART_MCR_OUT1 | UART_MCR_OUT2);
    CHECK_EQ(rd(&u, UART_MSR), 0xF0 | UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
    CHECK_EQ(rd(&u, UART_MSR), 0xF0);             /* reading cleared the deltas */
    wr(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_DTR | UART_MCR_OUT2);
    CHECK_EQ(rd(&u, UART_MSR), 0xB0 | UART_MSR_TERI);   /* RI trailing edge */
    teardown(&u);
}

TEST(uart_iir_priorities)
{
    struct uart16550 u;
    setup(&u);
    wr(&u, UART_MCR, UART_MCR_LOOP);
    rd(&u, UART_MSR);
    wr(&u, UART_IER, 0x0F);                       /* everything enabled */
    CHECK_EQ(rd(&u, UART_IIR), UART_IIR_THRE);    /* ETBEI enabled with THR empty */
    /* Two bytes into the one-byte 16450 holding register: overrun. */
    wr(&u, UART_THR, '1');
    wr(&u, UART_THR, '2');
    wr(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);   /* and a modem status change */
    CHECK_EQ(rd(&u, UART_IIR), UART_IIR_RLS);     /* 1st: line status */
    CHECK_EQ(rd(&u, UART_LSR) & UART_LSR_OE, UART_LSR_OE);
    CHECK_EQ(rd(&u, UART_IIR), UART_IIR_RDA);     /* 2nd: received data */
    CHECK_EQ(rd(&u, UART_RBR), '2');              /* 16450 overrun: the new byte replaced it */
    CHECK_EQ(rd(&u, UART_IIR), UART_IIR_THRE);    /* 3rd: THR empty (read acknowledges) */
    CHECK_EQ(rd(&u, UART_IIR), UART_IIR_MSI);     /* 4th: modem status */
    CHECK_EQ(irq_high, 1);
    rd(&u, UART_MSR);
    CHECK_EQ(rd(&u, UART_IIR), UART_IIR_NONE);
    CHECK_EQ(irq_high, 0);
    teardown(&u);
}

TEST(uart_fifo_trigger_and_timeout)
{
    struct uart16550 u;
    setup(&u);
    wr(&u, UART_FCR, UART_FCR_ENABLE | 0x80);     /* FIFOs on, trigger 8 */
    wr(&u, UART_IER, UART_IER_ERBFI);
    CHECK_EQ(rd(&u, UART_IIR), 0xC1);             /* FIFO bits, nothing pending */
    uint8_t bytes[20];
    for (int i = 0; i < 20; i++) bytes[i] = (uint8_t)('a' + i);
    CHECK_EQ(uart_receive(&u, bytes, 7), 7);
    CHECK_EQ(rd(&u, UART_IIR), 0xC1);             /* 7 < 8: below the trigger */
    CHECK_EQ(uart_receive(&u, bytes + 7, 1), 1);
    CHECK_EQ(rd(&u, UART_IIR), 0xC0 | UART_IIR_RDA);
    CHECK_EQ(irq_high, 1);
    CHECK_EQ(uart_receive(&u, bytes + 8, 12), 8); /* room for 16 in all, no overrun from the host */
    CHECK_EQ(rd(&u, UART_LSR) & UART_LSR_OE, 0);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(rd(&u, UART_RBR), 'a' + i);      /* FIFO order */
    CHECK_EQ(rd(&u, UART_IIR), 0xC0 | UART_IIR_RDA);   /* 8 left: at the trigger */
    CHECK_EQ(rd(&u, UART_RBR), 'i');
    CHECK_EQ(rd(&u, UART_IIR), 0xC1);             /* 7 left: below it */
    /*
     * The character timeout: a poll interval in which nothing arrived.  The
     * first poll still sees the bytes that came since the last one.
     */
    uart_poll(&u);
    CHECK_EQ(rd(&u, UART_IIR), 0xC1);
    uart_poll(&u);
    CHECK_EQ(rd(&u, UART_IIR), 0xC0 | UART_IIR_CTI);
    CHECK_EQ(rd(&u, UART_RBR), 'j');              /* reading RBR resets the timeout */
    CHECK_EQ(rd(&u, UART_IIR), 0xC1);
    wr(&u, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
    CHECK_EQ(rd(&u, UART_LSR) & UART_LSR_DR, 0);  /* cleared */
    wr(&u, UART_FCR, 0);
    CHECK_EQ(rd(&u, UART_IIR), 0x01);             /* FIFOs off: bits 7:6 clear */
    CHECK_EQ(uart_rx_space(&u), 1);               /* 16450 mode: one byte */
    teardown(&u);
}

TEST_MAIN()
