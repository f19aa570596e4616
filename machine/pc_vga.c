/*
 * pc_vga.c - the board's display (see pc_vga.h).
 *
 *   ports 0x03B0-3DF  VGA: CRTC 3B4/3D4, status 3BA/3DA (Miscellaneous
 *                     Output bit 0), sequencer, graphics, attribute, DAC
 *   memory 0xB8000    the text buffer: plain guest RAM the renderer reads
 *   SDL window        keys to the 8042 keyboard (i8042_key_event); closing
 *                     it powers the machine off (BOARD_WINDOW_CLOSED); kept
 *                     up to date at every stop (machine_display_refresh) and
 *                     kept open after the guest halted for good
 *                     (machine_display_hold); registry entry "window"
 */
#include "machine/pc_vga.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/i8042.h"
#include "devices/vga.h"
#include "devices/vga_sdl.h"
#include "machine/machine.h"

/* Single steps redraw at most this often (host time): a monitor loop that
   steps thousands of instructions is not slowed by a frame for each. */
#define PC_VGA_STEP_FRAME_MS 20

/* The window's keys, as USB HID usage IDs, to the keyboard. */
static void pc_vga_key_event(void *opaque, int usage, bool pressed)
{
    struct machine *m = opaque;
    if (m->kbd && usage > 0)
        i8042_key_event(m->kbd, (unsigned)usage, pressed);
}

int pc_vga_attach(struct machine *m)
{
    const struct machine_config *c = &m->config;
    int err;

    if (c->no_vga)
        return 0;   /* -vga none: the ports stay unclaimed (they read FFh), as on a board without one */

    m->vga = calloc(1, sizeof *m->vga);
    if (!m->vga) {
        fprintf(stderr, "trapeze: out of host memory\n");
        return -ENOMEM;
    }
    vga_init(m->vga, &m->bus, &m->clock);
    err = bus_add_ports(&m->bus, "vga", VGA_PORT_BASE, VGA_PORT_COUNT, &vga_io_ops, m->vga);
    if (err < 0) {
        fprintf(stderr, "trapeze: cannot claim the VGA's ports 0x3B0-0x3DF: %s\n", strerror(-err));
        return err;
    }
    struct machine_device d = { .name = "vga", .opaque = m->vga, .save = vga_save, .load = vga_load,
                                .reset = vga_reset_hook, .info = vga_info };
    if ((err = machine_add_device(m, &d)) < 0) {
        fprintf(stderr, "trapeze: too many devices for the board's registry\n");
        return err;
    }
    if (c->screendump) {
        m->screendump = fopen(c->screendump, "w");
        if (!m->screendump) {
            err = -errno;
            fprintf(stderr, "trapeze: -screendump %s: %s\n", c->screendump, strerror(errno));
            return err;
        }
    }
    bool want = c->display == MACHINE_DISPLAY_SDL ||
                (c->display == MACHINE_DISPLAY_AUTO && vga_sdl_display_available());
    if (want) {
        err = vga_sdl_open(&m->sdl, m->vga, &m->clock, machine_board_line(m, BOARD_WINDOW_CLOSED),
                           pc_vga_key_event, m, c->sdl_screenshot, c->display == MACHINE_DISPLAY_AUTO);
        if (err < 0 && (c->display == MACHINE_DISPLAY_SDL || err != -ENODEV)) {
            /* Asked for, or a bad screenshot path (said already): no dump either. */
            if (m->screendump) {
                fclose(m->screendump);
                remove(c->screendump);
                m->screendump = NULL;
            }
            return err;
        }
        struct machine_device win = { .name = "window", .opaque = m->sdl, .info = vga_sdl_info };
        if (m->sdl && (err = machine_add_device(m, &win)) < 0) {
            fprintf(stderr, "trapeze: too many devices for the board's registry\n");
            return err;
        }
    }
    return 0;
}

void pc_vga_reset(struct machine *m)
{
    if (m->vga)
        vga_reset(m->vga);
}

void pc_vga_poll(struct machine *m)
{
    if (m->sdl)
        vga_sdl_poll(m->sdl);
}

void machine_display_refresh(struct machine *m)
{
    if (m->sdl)
        vga_sdl_refresh(m->sdl);
}

void machine_display_step(struct machine *m)
{
    if (m->sdl)
        vga_sdl_refresh_at_most(m->sdl, PC_VGA_STEP_FRAME_MS);
}

/* Set from a signal handler while machine_display_hold waits (one process, one terminal). */
static volatile sig_atomic_t pc_vga_hold_interrupted;

static void pc_vga_hold_signal(int sig)
{
    pc_vga_hold_interrupted = 1;
}

void machine_display_hold(struct machine *m, const char *why)
{
    if (!m->sdl)
        return;
    char title[80];
    snprintf(title, sizeof title, "trapeze - guest %s", why);
    vga_sdl_set_title(m->sdl, title);
    fprintf(stderr, "trapeze: the window stays open (\"%s\"); close it, or Ctrl-C, to end\n", title);

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = pc_vga_hold_signal;
    sigemptyset(&sa.sa_mask);
    pc_vga_hold_interrupted = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    while (!pc_vga_hold_interrupted && vga_sdl_wait(m->sdl, 100))
        ;
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
}

void pc_vga_close(struct machine *m)
{
    if (m->screendump && m->vga) {
        vga_warn_unmodelled(m->vga);
        vga_dump_text(m->vga, m->screendump);
        if (fclose(m->screendump) != 0)
            fprintf(stderr, "trapeze: -screendump %s: write error\n", m->config.screendump);
        m->screendump = NULL;
    }
    vga_sdl_close(m->sdl);
    m->sdl = NULL;
    free(m->vga);
    m->vga = NULL;
}
