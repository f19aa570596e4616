/*
 * uart16550.c - the 16550A UART (see uart16550.h for the register map).
 *
 * Reference: National Semiconductor / TI "PC16550D Universal Asynchronous
 * Receiver/Transmitter with FIFOs" data sheet (SNLS378), section 8
 * (registers) and table 4 (interrupt priorities, set and reset conditions).
 *
 * The interrupt output follows table 4: the highest-priority enabled
 * condition is shown in IIR and the IRQ pin is high while any is pending.
 *
 * Quirk where it bites: on a real PC board the UART's interrupt pin reaches
 * the PIC only when MCR OUT2 is set (a tri-state buffer on the serial card).
 * QEMU does not model that gate and xv6 relies on it (its uart.c writes
 * MCR = 0 and still takes serial interrupts), so we follow QEMU and leave
 * OUT2 as a plain register bit.
 */
#include "devices/uart16550.h"

#include <errno.h>
#include <string.h>

#include "base/snapshot.h"

/* Receive trigger levels selected by FCR bits 7:6. */
static const uint8_t uart_trigger_levels[4] = { 1, 4, 8, 14 };

/*
 * The modem inputs when nothing drives them: a backend is "a terminal that
 * is on", CTS, DSR and DCD asserted, as QEMU reports.  Drivers that wait for
 * CTS before sending then go ahead.
 */
#define UART_MSR_IDLE_INPUTS (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD)

static bool uart_fifo_enabled(const struct uart16550 *u) { return u->fcr & UART_FCR_ENABLE; }

static int uart_rx_capacity(const struct uart16550 *u)
{
    return uart_fifo_enabled(u) ? UART_FIFO_SIZE : 1;   /* 16450 mode: just RBR */
}

int uart_rx_space(const struct uart16550 *u) { return uart_rx_capacity(u) - u->rx_count; }

static int uart_trigger(const struct uart16550 *u)
{
    return uart_trigger_levels[(u->fcr & UART_FCR_TRIGGER) >> 6];
}

static void uart_clear_rx(struct uart16550 *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
    u->timeout_pending = false;
}

/* The data-sheet interrupt priority (table 4), computed from the state. */
static uint8_t uart_compute_iir(const struct uart16550 *u)
{
    bool rda = uart_fifo_enabled(u) ? u->rx_count >= uart_trigger(u) : u->rx_count > 0;
    uint8_t id;

    if ((u->ier & UART_IER_ELSI) && (u->lsr & UART_LSR_ERRORS))
        id = UART_IIR_RLS;
    else if ((u->ier & UART_IER_ERBFI) && rda)
        id = UART_IIR_RDA;
    else if ((u->ier & UART_IER_ERBFI) && u->timeout_pending && u->rx_count > 0)
        id = UART_IIR_CTI;
    else if ((u->ier & UART_IER_ETBEI) && u->thre_pending)
        id = UART_IIR_THRE;
    else if ((u->ier & UART_IER_EDSSI) && (u->msr & UART_MSR_DELTAS))
        id = UART_IIR_MSI;
    else
        id = UART_IIR_NONE;
    return id | (uart_fifo_enabled(u) ? UART_IIR_FIFO : 0);
}

/* Recompute IIR and drive the IRQ pin when its level changes. */
static void uart_update_irq(struct uart16550 *u)
{
    u->iir = uart_compute_iir(u);
    bool level = !(u->iir & UART_IIR_NONE);
    if (level != u->irq_level) {
        u->irq_level = level;
        irq_line_set(&u->irq, level);
    }
}

/*
 * New levels on the modem inputs (bits 7:4 of MSR): set the delta bits for
 * what changed (TERI only on RI's trailing edge, on -> off).
 */
static void uart_set_modem_inputs(struct uart16550 *u, uint8_t levels)
{
    uint8_t changed = (uint8_t)((u->msr ^ levels) & 0xF0);
    uint8_t deltas = u->msr & UART_MSR_DELTAS;

    if (changed & UART_MSR_CTS) deltas |= UART_MSR_DCTS;
    if (changed & UART_MSR_DSR) deltas |= UART_MSR_DDSR;
    if (changed & UART_MSR_DCD) deltas |= UART_MSR_DDCD;
    if ((changed & UART_MSR_RI) && !(levels & UART_MSR_RI)) deltas |= UART_MSR_TERI;
    u->msr = (uint8_t)((levels & 0xF0) | deltas);
}

/* The modem inputs as the current MCR makes them (loopback wires them to the outputs). */
static uint8_t uart_modem_inputs(const struct uart16550 *u)
{
    if (!(u->mcr & UART_MCR_LOOP))
        return UART_MSR_IDLE_INPUTS;
    uint8_t in = 0;
    if (u->mcr & UART_MCR_RTS)  in |= UART_MSR_CTS;
    if (u->mcr & UART_MCR_DTR)  in |= UART_MSR_DSR;
    if (u->mcr & UART_MCR_OUT1) in |= UART_MSR_RI;
    if (u->mcr & UART_MCR_OUT2) in |= UART_MSR_DCD;
    return in;
}

/*
 * One byte finished arriving at the receiver.  When there is no room, the
 * data sheet's overrun: in 16450 mode the new byte overwrites RBR, in FIFO
 * mode the byte in the shift register is lost; either way LSR OE is set.
 */
static void uart_receive_byte(struct uart16550 *u, uint8_t byte)
{
    u->rx_recent = true;
    u->timeout_pending = false;
    if (u->rx_count < uart_rx_capacity(u)) {
        u->rx_fifo[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
        u->rx_count++;
        return;
    }
    u->lsr |= UART_LSR_OE;
    if (!uart_fifo_enabled(u))
        u->rx_fifo[u->rx_head] = byte;
}

int uart_receive(struct uart16550 *u, const uint8_t *buf, int len)
{
    int n = 0;
    while (n < len && uart_rx_space(u) > 0)
        uart_receive_byte(u, buf[n++]);
    if (n > 0)
        uart_update_irq(u);
    return n;
}

/* Pull what the backend has, as far as the FIFO has room (host flow control). */
static void uart_pull_backend(struct uart16550 *u)
{
    uint8_t buf[UART_FIFO_SIZE];
    if (u->mcr & UART_MCR_LOOP)          /* loopback disconnects the serial input */
        return;
    if (!chardev_has_input(&u->backend) || uart_rx_space(u) == 0)
        return;
    int n = chardev_read(&u->backend, buf, uart_rx_space(u));
    for (int i = 0; i < n; i++)
        uart_receive_byte(u, buf[i]);
}

void uart_poll(struct uart16550 *u)
{
    uart_pull_backend(u);
    /* Nothing arrived for a whole poll interval while bytes sit below the trigger. */
    if (!u->rx_recent && uart_fifo_enabled(u) && u->rx_count > 0 && u->rx_count < uart_trigger(u))
        u->timeout_pending = true;
    u->rx_recent = false;
    uart_update_irq(u);
}

/* A byte written to THR: on the line at once (or back into RBR in loopback). */
static void uart_transmit(struct uart16550 *u, uint8_t byte)
{
    if (u->mcr & UART_MCR_LOOP)
        uart_receive_byte(u, byte);
    else
        chardev_write(&u->backend, byte);
    /* THR emptied at once: the THRE interrupt comes back right away. */
    u->thre_pending = true;
}

static void uart_write_fcr(struct uart16550 *u, uint8_t value)
{
    bool was_enabled = uart_fifo_enabled(u);

    if (!(value & UART_FCR_ENABLE)) {
        /* FCR bit 0 = 0: the other bits are not programmed; the FIFOs go off. */
        if (was_enabled)
            uart_clear_rx(u);
        u->fcr = 0;
        return;
    }
    if (!was_enabled || (value & UART_FCR_CLEAR_RX))   /* changing bit 0 clears them too */
        uart_clear_rx(u);
    /* UART_FCR_CLEAR_TX: the transmit FIFO is always empty here. */
    u->fcr = value & (UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_TRIGGER);
}

static uint32_t uart_read(void *opaque, uint32_t offset, unsigned size)
{
    struct uart16550 *u = opaque;
    uint8_t value = 0xFF;
    bool dlab = u->lcr & UART_LCR_DLAB;

    switch (offset & 7) {
    case UART_RBR:
        if (dlab) { value = u->dll; break; }
        if (u->rx_count > 0) {
            u->rbr = u->rx_fifo[u->rx_head];
            u->rx_head = (uint8_t)((u->rx_head + 1) % UART_FIFO_SIZE);
            u->rx_count--;
        }
        value = u->rbr;     /* an empty RBR reads the last byte again */
        u->timeout_pending = false;
        uart_pull_backend(u);
        break;
    case UART_IER:
        value = dlab ? u->dlm : u->ier;
        break;
    case UART_IIR:
        value = uart_compute_iir(u);
        /* Reading IIR while it shows THRE is that interrupt's acknowledge. */
        if ((value & 0x0F) == UART_IIR_THRE)
            u->thre_pending = false;
        break;
    case UART_LCR:
        value = u->lcr;
        break;
    case UART_MCR:
        value = u->mcr;
        break;
    case UART_LSR:
        if (u->rx_count == 0)
            uart_pull_backend(u);   /* polled input: the guest is asking */
        value = u->lsr | UART_LSR_THRE | UART_LSR_TEMT | (u->rx_count ? UART_LSR_DR : 0);
        u->lsr &= (uint8_t)~UART_LSR_ERRORS;   /* reading LSR clears the error bits */
        break;
    case UART_MSR:
        value = u->msr;
        u->msr &= (uint8_t)~UART_MSR_DELTAS;
        break;
    case UART_SCR:
        value = u->scr;
        break;
    }
    uart_update_irq(u);
    return value;
}

static void uart_write(void *opaque, uint32_t offset, uint32_t value32, unsigned size)
{
    struct uart16550 *u = opaque;
    uint8_t value = (uint8_t)value32;
    bool dlab = u->lcr & UART_LCR_DLAB;

    switch (offset & 7) {
    case UART_THR:
        if (dlab) u->dll = value;
        else uart_transmit(u, value);
        break;
    case UART_IER:
        if (dlab) { u->dlm = value; break; }
        /* Enabling ETBEI while THR is empty raises THRE at once (data sheet 8.4). */
        if (!(u->ier & UART_IER_ETBEI) && (value & UART_IER_ETBEI))
            u->thre_pending = true;
        u->ier = value & 0x0F;   /* bits 7:4 are always 0 */
        break;
    case UART_FCR:
        uart_write_fcr(u, value);
        break;
    case UART_LCR:
        u->lcr = value;
        break;
    case UART_MCR:
        u->mcr = value & 0x1F;   /* bits 7:5 are always 0 */
        uart_set_modem_inputs(u, uart_modem_inputs(u));
        break;
    case UART_LSR:   /* factory test: writes ignored */
    case UART_MSR:
        break;
    case UART_SCR:
        u->scr = value;
        break;
    }
    uart_update_irq(u);
}

const struct io_ops uart_io_ops = { .read = uart_read, .write = uart_write };

void uart_reset(struct uart16550 *u)
{
    u->ier = 0;
    u->fcr = 0;
    u->lcr = 0;
    u->mcr = 0;
    u->lsr = 0;
    u->scr = 0;
    u->rbr = 0;
    /* The divisor is undefined after reset; 0x000C (9600 baud) as QEMU. */
    u->dll = 0x0C;
    u->dlm = 0;
    u->msr = UART_MSR_IDLE_INPUTS;   /* input levels, no deltas */
    uart_clear_rx(u);
    u->rx_recent = false;
    u->thre_pending = false;
    uart_update_irq(u);
}

int uart_init(struct uart16550 *u, const char *spec, const char *option, struct irq_line irq)
{
    memset(u, 0, sizeof *u);
    u->irq = irq;
    int err = chardev_open(&u->backend, spec, option, true);
    if (err < 0)
        return err;
    uart_reset(u);
    return 0;
}

void uart_destroy(struct uart16550 *u)
{
    irq_line_set(&u->irq, false);
    chardev_close(&u->backend);
}

/* ---- the board's registry: savevm/loadvm, reset, `info comN` ---- */

/* The saved registers: every field of struct uart16550 but the wiring
 * (IRQ line, host backend), which belongs to this process. */
struct uart_saved {
    uint8_t rbr, ier, iir, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
    uint8_t rx_fifo[UART_FIFO_SIZE];
    uint8_t rx_head, rx_count;
    uint8_t thre_pending, timeout_pending, rx_recent, irq_level;
    char name[8];
};

/* Each port saves under the name the board gave it: "com1" / "com2" by
 * its IRQ (4 / 3), as machine/pc.c wires them. */
static const char *uart_section(const struct uart16550 *u)
{
    return u->irq.irq == 3 ? "com2" : "com1";
}

int uart_save(void *opaque, struct snapshot *s)
{
    struct uart16550 *u = opaque;
    struct uart_saved v;
    memset(&v, 0, sizeof v);
    v.rbr = u->rbr; v.ier = u->ier; v.iir = u->iir; v.fcr = u->fcr; v.lcr = u->lcr;
    v.mcr = u->mcr; v.lsr = u->lsr; v.msr = u->msr; v.scr = u->scr; v.dll = u->dll; v.dlm = u->dlm;
    memcpy(v.rx_fifo, u->rx_fifo, sizeof v.rx_fifo);
    v.rx_head = u->rx_head; v.rx_count = u->rx_count;
    v.thre_pending = u->thre_pending; v.timeout_pending = u->timeout_pending;
    v.rx_recent = u->rx_recent; v.irq_level = u->irq_level;
    return snapshot_put(s, uart_section(u), 1, &v, sizeof v);
}

int uart_load(void *opaque, const struct snapshot *s, struct snapshot_check *c)
{
    struct uart16550 *u = opaque;
    struct uart_saved v;
    const char *sec = uart_section(u);
    int r = snapshot_take(s, sec, 1, &v, sizeof v, c);
    if (!r) r = snapshot_check_range(c, sec, "rx_head", v.rx_head, 0, UART_FIFO_SIZE - 1);
    if (!r) r = snapshot_check_range(c, sec, "rx_count", v.rx_count, 0, UART_FIFO_SIZE);
    if (!r) r = snapshot_check_range(c, sec, "thre_pending", v.thre_pending, 0, 1);
    if (!r) r = snapshot_check_range(c, sec, "timeout_pending", v.timeout_pending, 0, 1);
    if (!r) r = snapshot_check_range(c, sec, "rx_recent", v.rx_recent, 0, 1);
    if (!r) r = snapshot_check_range(c, sec, "irq_level", v.irq_level, 0, 1);
    if (r || !c->apply) return r;
    u->rbr = v.rbr; u->ier = v.ier; u->fcr = v.fcr; u->lcr = v.lcr;
    u->mcr = v.mcr; u->lsr = v.lsr; u->msr = v.msr; u->scr = v.scr; u->dll = v.dll; u->dlm = v.dlm;
    memcpy(u->rx_fifo, v.rx_fifo, sizeof u->rx_fifo);
    u->rx_head = v.rx_head; u->rx_count = v.rx_count;
    u->thre_pending = v.thre_pending; u->timeout_pending = v.timeout_pending;
    u->rx_recent = v.rx_recent;
    /* The pin level is part of the PIC's saved state: not driven again. */
    u->iir = v.iir;
    u->irq_level = v.irq_level != 0;
    return 0;
}

void uart_reset_device(void *opaque) { uart_reset(opaque); }

void uart_info(void *opaque, FILE *out)
{
    struct uart16550 *u = opaque;
    uint32_t divisor = ((uint32_t)u->dlm << 8) | u->dll;
    fprintf(out, "IER %02x IIR %02x LCR %02x MCR %02x LSR %02x MSR %02x SCR %02x FCR %02x\n",
            u->ier, u->iir, u->lcr, u->mcr, (uint8_t)(u->lsr | UART_LSR_THRE | UART_LSR_TEMT | (u->rx_count ? UART_LSR_DR : 0)), u->msr, u->scr, u->fcr);
    fprintf(out, "divisor %u (%u baud), %d data bits, %s stop, parity %s; "
            "receive FIFO %d of %d; IRQ %d %s\n",
            divisor, divisor ? 115200 / divisor : 0, 5 + (u->lcr & UART_LCR_WLS),
            (u->lcr & UART_LCR_STB) ? "1.5/2" : "1",
            !(u->lcr & UART_LCR_PEN) ? "none" : (u->lcr & UART_LCR_SP) ? "stick" :
            (u->lcr & UART_LCR_EPS) ? "even" : "odd",
            u->rx_count, uart_rx_capacity(u), u->irq.irq, u->irq_level ? "high" : "low");
}
