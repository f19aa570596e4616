/*
 * test_device_snapshot.c - save -> restore -> compare for the board's
 * other registered devices (16550A UART, debug ports, port 0x92), and the
 * UART's interrupt reaching the 8259A on IRQ4.
 */
#include "devices/debugport.h"
#include "devices/pic8259.h"
#include "devices/port92.h"
#include "devices/uart16550.h"
#include "machine/machine.h"
#include "base/snapshot.h"
#include "tests/test.h"

static void uart_out(struct uart16550 *u, int reg, uint8_t v) { uart_io_ops.write(u, (uint32_t)reg, v, 1); }
static uint8_t uart_in(struct uart16550 *u, int reg) { return (uint8_t)uart_io_ops.read(u, (uint32_t)reg, 1); }

TEST(uart_save_restore)
{
    struct uart16550 a, b;
    struct snapshot s;
    CHECK_EQ(uart_init(&a, "none", "-serial", (struct irq_line){ 0 }), 0);
    CHECK_EQ(uart_init(&b, "none", "-serial", (struct irq_line){ 0 }), 0);
    uart_out(&a, UART_LCR, 0x80);            /* DLAB: divisor 3 */
    uart_out(&a, UART_DLL, 3);
    uart_out(&a, UART_DLM, 0);
    uart_out(&a, UART_LCR, 0x1B);            /* 8 data bits, even parity */
    uart_out(&a, UART_FCR, 0x41);            /* FIFO, trigger 4 */
    uart_out(&a, UART_IER, 0x01);
    uart_out(&a, UART_MCR, 0x0B);
    uart_out(&a, UART_SCR, 0x5A);
    CHECK_EQ(uart_receive(&a, (const uint8_t *)"xyz", 3), 3);
    snapshot_init(&s);
    CHECK_EQ(uart_save(&a, &s), 0);
    CHECK_EQ(uart_load(&b, &s, &(struct snapshot_check){ .apply = true }), 0);
    for (int reg = 1; reg < 8; reg++)
        if (reg != UART_IIR) CHECK_EQ(uart_in(&a, reg), uart_in(&b, reg));
    CHECK_EQ(uart_in(&a, UART_IIR), uart_in(&b, UART_IIR));
    for (int k = 0; k < 3; k++) CHECK_EQ(uart_in(&a, UART_RBR), uart_in(&b, UART_RBR));
    uart_out(&a, UART_LCR, 0x9B);
    uart_out(&b, UART_LCR, 0x9B);
    CHECK_EQ(uart_in(&b, UART_DLL), 3);
    snapshot_free(&s);
    uart_destroy(&a);
    uart_destroy(&b);
}

TEST(uart_interrupt_reaches_pic_irq4)
{
    struct pic8259 p;
    struct uart16550 u;
    pic_init(&p);
    /* The PC remap, then THR-empty enabled with OUT2 (the PC's IRQ gate). */
    pic_master_ops.write(&p, 0, 0x11, 1); pic_master_ops.write(&p, 1, 0x20, 1);
    pic_master_ops.write(&p, 1, 0x04, 1); pic_master_ops.write(&p, 1, 0x01, 1);
    CHECK_EQ(uart_init(&u, "none", "-serial", (struct irq_line){ pic_raise_irq, pic_lower_irq, &p, 4 }), 0);
    uart_out(&u, UART_MCR, UART_MCR_OUT2);
    uart_out(&u, UART_IER, UART_IER_ETBEI);
    CHECK(pic_intr_pending(&p));
    CHECK_EQ(pic_acknowledge(&p), 0x24);
    uart_destroy(&u);
}

TEST(debugport_save_restore)
{
    struct debugport a, b;
    struct snapshot s;
    CHECK_EQ(debugport_init(&a, "none", DEBUGPORT_EXIT, DEBUGPORT_EXIT_SIZE, (struct board_line){ 0 }, (struct board_line){ 0 }), 0);
    CHECK_EQ(debugport_init(&b, "none", DEBUGPORT_EXIT, DEBUGPORT_EXIT_SIZE, (struct board_line){ 0 }, (struct board_line){ 0 }), 0);
    const char *part = "Shut";
    for (const char *c = part; *c; c++) debugport_shutdown_ops.write(&a, 0, (uint8_t)*c, 1);
    snapshot_init(&s);
    CHECK_EQ(debugport_save(&a, &s), 0);
    CHECK_EQ(debugport_load(&b, &s, &(struct snapshot_check){ .apply = true }), 0);
    CHECK_EQ(b.shutdown_match, 4);
    CHECK_EQ(a.shutdown_match, b.shutdown_match);
    snapshot_free(&s);
    debugport_destroy(&a);
    debugport_destroy(&b);
}

TEST(port92_save_restore)
{
    struct machine *m = calloc(1, sizeof *m);
    struct port92 a, b;
    struct snapshot s;
    CHECK_EQ(bus_init(&m->bus, 1u << 20), 0);
    port92_init(&a, machine_board_line(m, BOARD_RESET), machine_board_line(m, BOARD_A20));
    port92_init(&b, machine_board_line(m, BOARD_RESET), machine_board_line(m, BOARD_A20));
    port92_ops.write(&a, 0, 0x0E, 1);         /* A20 on, bits 2-3 */
    snapshot_init(&s);
    CHECK_EQ(port92_save(&a, &s), 0);
    CHECK_EQ(port92_load(&b, &s, &(struct snapshot_check){ .apply = true }), 0);
    CHECK_EQ(port92_ops.read(&a, 0, 1), port92_ops.read(&b, 0, 1));
    CHECK_EQ(port92_ops.read(&b, 0, 1), 0x0E);
    snapshot_free(&s);
    bus_destroy(&m->bus);
    free(m);
}

TEST_MAIN()
