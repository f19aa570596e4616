/*
 * pc_vga.c - the board's display (see pc_vga.h).
 *
 *   ports 0x03B0-3DF  VGA: CRTC 3B4/3D4, status 3BA/3DA (Miscellaneous
 *                     Output bit 0), sequencer, graphics, attribute, DAC
 *   memory 0xB8000    the text buffer: plain guest RAM the renderer reads
 *   SDL window        keys to the 8042 keyboard (i8042_key_event); closing
 *                     it powers the machine off
 */
#include "machine/pc_vga.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/i8042.h"
#include "devices/vga.h"
#include "devices/vga_sdl.h"
#include "machine/machine.h"

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
        err = vga_sdl_open(&m->sdl, m->vga, m, pc_vga_key_event, m, c->sdl_screenshot,
                           c->display == MACHINE_DISPLAY_AUTO);
        if (err < 0 && (c->display == MACHINE_DISPLAY_SDL || err != -ENODEV)) {
            /* Asked for, or a bad screenshot path (said already): no dump either. */
            if (m->screendump) {
                fclose(m->screendump);
                remove(c->screendump);
                m->screendump = NULL;
            }
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
