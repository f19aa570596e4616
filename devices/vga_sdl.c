/*
 * vga_sdl.c - the SDL2 window (see vga_sdl.h).
 *
 * One streaming texture the size of the text screen: each frame
 * vga_render writes 0x00RRGGBB pixels into it (SDL_PIXELFORMAT_RGB888),
 * SDL copies it to the window 1:1 and presents.  Nothing of the VGA's
 * state lives here; the window is a view of struct vga.
 */
#include "devices/vga_sdl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>

#include "base/clock.h"
#include "devices/vga.h"

#define FRAME_NS (1000000000ull / 60)

struct vga_sdl {
    struct vga *vga;
    struct vclock *clock;         /* the phase of the cursor and of blinking characters */
    struct board_line closed;     /* signalled when the user closes the window */
    void (*key_event)(void *opaque, int usage, bool pressed);
    void *key_opaque;
    SDL_Window *window;
    SDL_Renderer *renderer;
    SDL_Texture *texture;
    int width, height;            /* the texture's size, from the cell width */
    uint32_t *pixels;             /* width * height: the frame the window shows */
    uint32_t *scratch;            /* width * height: the screen as it is now, to compare */
    uint64_t last_frame_ns;       /* virtual time of the last redraw */
    bool drawn;                   /* at least one frame drawn since the window was (re)exposed */
    bool cursor_on, blink_on;     /* the phases the shown frame was drawn in */
    /* What the shown frame was drawn from: registers and cells, so a
       refresh at each stop costs a compare, not a render, when nothing changed. */
    struct vga_state shown_state;
    uint8_t shown_cells[VGA_TEXT_ROWS * VGA_TEXT_COLS * 2];
    bool is_closed;               /* the user closed the window */
    unsigned long frames;         /* frames presented (`info window`) */
    uint32_t present_ms;          /* host time (SDL_GetTicks) of the last frame presented */
    FILE *screenshot;             /* -sdl-screenshot, or NULL */
    char *screenshot_path;
};

bool vga_sdl_display_available(void)
{
    const char *x = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
    return (x && *x) || (w && *w);
}

/* (Re)create the texture when the cell width (8 or 9 dots) changed. */
static int vga_sdl_resize(struct vga_sdl *d)
{
    int width = VGA_TEXT_COLS * vga_cell_width(d->vga), height = VGA_TEXT_ROWS * VGA_CHAR_HEIGHT;
    if (d->texture && width == d->width && height == d->height)
        return 0;
    if (d->texture)
        SDL_DestroyTexture(d->texture);
    free(d->pixels);
    free(d->scratch);
    d->pixels = calloc((size_t)width * (size_t)height, sizeof *d->pixels);
    d->scratch = calloc((size_t)width * (size_t)height, sizeof *d->scratch);
    d->texture = SDL_CreateTexture(d->renderer, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING,
                                   width, height);
    if (!d->pixels || !d->scratch || !d->texture) {
        fprintf(stderr, "trapeze: SDL: cannot create the %dx%d screen texture: %s\n",
                width, height, d->texture ? "out of memory" : SDL_GetError());
        return -ENOMEM;
    }
    d->width = width;
    d->height = height;
    SDL_SetWindowSize(d->window, width, height);
    return 0;
}

/* The screen's cells as the CRTC scans them out now. */
static void vga_sdl_cells(const struct vga_sdl *d, uint8_t *cells)
{
    for (int row = 0; row < VGA_TEXT_ROWS; row++)
        for (int col = 0; col < VGA_TEXT_COLS; col++, cells += 2)
            vga_text_cell(d->vga, row, col, &cells[0], &cells[1]);
}

static void vga_sdl_draw(struct vga_sdl *d, bool cursor_on, bool blink_on)
{
    vga_warn_unmodelled(d->vga);
    if (vga_sdl_resize(d) < 0)
        return;
    vga_render(d->vga, d->pixels, d->width, cursor_on, blink_on);
    d->cursor_on = cursor_on;
    d->blink_on = blink_on;
    memcpy(&d->shown_state, &d->vga->st, sizeof d->shown_state);
    vga_sdl_cells(d, d->shown_cells);
    SDL_UpdateTexture(d->texture, NULL, d->pixels, d->width * (int)sizeof *d->pixels);
    SDL_RenderClear(d->renderer);
    SDL_RenderCopy(d->renderer, d->texture, NULL, NULL);
    SDL_RenderPresent(d->renderer);
    d->drawn = true;
    d->frames++;
    d->present_ms = SDL_GetTicks();
}

/* Whether the window shows the screen as it is now (in the phases last drawn). */
static bool vga_sdl_current(struct vga_sdl *d)
{
    if (!d->drawn || VGA_TEXT_COLS * vga_cell_width(d->vga) != d->width)
        return false;
    vga_render(d->vga, d->scratch, d->width, d->cursor_on, d->blink_on);
    return memcmp(d->scratch, d->pixels, (size_t)d->width * (size_t)d->height * sizeof *d->pixels) == 0;
}

int vga_sdl_open(struct vga_sdl **out, struct vga *v, struct vclock *clock, struct board_line closed,
                 void (*key_event)(void *opaque, int usage, bool pressed), void *key_opaque,
                 const char *screenshot, bool quiet)
{
    struct vga_sdl *d = calloc(1, sizeof *d);
    int err = -ENODEV;

    *out = NULL;
    if (!d) {
        fprintf(stderr, "trapeze: out of host memory\n");
        return -ENOMEM;
    }
    d->vga = v;
    d->clock = clock;
    d->closed = closed;
    d->key_event = key_event;
    d->key_opaque = key_opaque;
    if (screenshot) {
        /* Opened now, so a bad path is said before the guest runs. */
        d->screenshot = fopen(screenshot, "wb");
        d->screenshot_path = strdup(screenshot);
        if (!d->screenshot || !d->screenshot_path) {
            fprintf(stderr, "trapeze: -sdl-screenshot %s: %s\n", screenshot, strerror(errno));
            err = -EIO;
            goto fail;
        }
    }

    /* Ctrl-C stays the terminal's (SIGINT ends trapeze as before), not an SDL_QUIT. */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        if (!quiet)
            fprintf(stderr, "trapeze: -display sdl: SDL video does not start here: %s "
                            "(use -display none, or set SDL_VIDEODRIVER)\n", SDL_GetError());
        goto fail;
    }
    /* With no display SDL falls back to its offscreen driver: a window no
       one can see.  Only take it when asked for (SDL_VIDEODRIVER, tests). */
    const char *driver = SDL_GetCurrentVideoDriver(), *wanted = getenv("SDL_VIDEODRIVER");
    if (driver && (!strcmp(driver, "offscreen") || !strcmp(driver, "dummy")) &&
        !(wanted && !strcmp(wanted, driver))) {
        if (!quiet)
            fprintf(stderr, "trapeze: -display sdl: no display here (SDL found only its '%s' driver; "
                            "set DISPLAY, or use -display none)\n", driver);
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
        goto fail;
    }
    d->window = SDL_CreateWindow("trapeze", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED,
                                 VGA_TEXT_COLS * vga_cell_width(v), VGA_TEXT_ROWS * VGA_CHAR_HEIGHT, 0);
    if (d->window)
        d->renderer = SDL_CreateRenderer(d->window, -1, 0);
    if (d->window && !d->renderer)
        d->renderer = SDL_CreateRenderer(d->window, -1, SDL_RENDERER_SOFTWARE);
    if (!d->window || !d->renderer) {
        if (!quiet)
            fprintf(stderr, "trapeze: -display sdl: cannot open the window: %s\n", SDL_GetError());
        goto fail_sdl;
    }
    if (vga_sdl_resize(d) < 0) {
        err = -ENOMEM;
        goto fail_sdl;
    }
    *out = d;
    return 0;

fail_sdl:
    if (d->texture) SDL_DestroyTexture(d->texture);
    if (d->renderer) SDL_DestroyRenderer(d->renderer);
    if (d->window) SDL_DestroyWindow(d->window);
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
fail:
    if (d->screenshot) {
        fclose(d->screenshot);
        remove(d->screenshot_path);
    }
    free(d->screenshot_path);
    free(d->pixels);
    free(d->scratch);
    free(d);
    return err;
}

/* The user closed the window: said to the board once (QEMU quits). */
static void vga_sdl_user_closed(struct vga_sdl *d)
{
    if (!d->is_closed)
        board_line_signal(&d->closed, 1);
    d->is_closed = true;
}

static void vga_sdl_handle_events(struct vga_sdl *d)
{
    SDL_Event ev;

    while (SDL_PollEvent(&ev)) {
        switch (ev.type) {
        case SDL_QUIT:
            vga_sdl_user_closed(d);
            break;
        case SDL_KEYDOWN: case SDL_KEYUP:
            /* SDL_Scancode values are USB HID usage IDs; repeats are typematic presses. */
            if (d->key_event)
                d->key_event(d->key_opaque, (int)ev.key.keysym.scancode, ev.type == SDL_KEYDOWN);
            break;
        case SDL_WINDOWEVENT:
            if (ev.window.event == SDL_WINDOWEVENT_CLOSE)
                vga_sdl_user_closed(d);
            else if (ev.window.event == SDL_WINDOWEVENT_EXPOSED)
                d->last_frame_ns = 0, d->drawn = false;   /* redraw at once */
            break;
        default:
            break;
        }
    }
}

void vga_sdl_poll(struct vga_sdl *d)
{
    if (!d)
        return;
    vga_sdl_handle_events(d);
    uint64_t now = vclock_now(d->clock);
    if (!d->drawn || now - d->last_frame_ns >= FRAME_NS || now < d->last_frame_ns) {
        d->last_frame_ns = now;
        vga_sdl_draw(d, vga_cursor_blink_on(now), vga_char_blink_on(now));
    }
}

void vga_sdl_refresh(struct vga_sdl *d)
{
    if (!d)
        return;
    vga_sdl_handle_events(d);
    uint64_t now = vclock_now(d->clock);
    bool cursor_on = vga_cursor_blink_on(now), blink_on = vga_char_blink_on(now);
    uint8_t cells[sizeof d->shown_cells];
    vga_sdl_cells(d, cells);
    if (d->drawn && cursor_on == d->cursor_on && blink_on == d->blink_on &&
        memcmp(&d->shown_state, &d->vga->st, sizeof d->shown_state) == 0 &&
        memcmp(d->shown_cells, cells, sizeof cells) == 0)
        return;   /* it shows this already */
    d->last_frame_ns = now;
    vga_sdl_draw(d, cursor_on, blink_on);
}

void vga_sdl_refresh_at_most(struct vga_sdl *d, unsigned interval_ms)
{
    if (!d)
        return;
    if (d->drawn && SDL_GetTicks() - d->present_ms < interval_ms) {
        vga_sdl_handle_events(d);
        return;
    }
    vga_sdl_refresh(d);
}

bool vga_sdl_wait(struct vga_sdl *d, int timeout_ms)
{
    if (!d)
        return false;
    if (!d->is_closed)
        SDL_WaitEventTimeout(NULL, timeout_ms);   /* NULL: the event stays queued */
    vga_sdl_refresh(d);
    return !d->is_closed;
}

void vga_sdl_set_title(struct vga_sdl *d, const char *title)
{
    if (d)
        SDL_SetWindowTitle(d->window, title);
}

void vga_sdl_info(void *opaque, FILE *out)
{
    struct vga_sdl *d = opaque;
    fprintf(out, "SDL window \"%s\" (%s driver), %dx%d, %lu frame%s drawn; %s\n",
            SDL_GetWindowTitle(d->window), SDL_GetCurrentVideoDriver(), d->width, d->height, d->frames,
            d->frames == 1 ? "" : "s",
            d->is_closed ? "closed by the user"
            : !d->drawn ? "nothing drawn yet (the window is black)"
            : vga_sdl_current(d) ? "it shows the screen as it is now"
            : "it shows an older screen");
}

/* The window's pixels, read back from the renderer, as a P6 PPM. */
static void vga_sdl_write_screenshot(struct vga_sdl *d)
{
    vga_sdl_draw(d, true, true);
    int w = d->width, h = d->height;
    uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
    bool ok = rgb && SDL_RenderReadPixels(d->renderer, NULL, SDL_PIXELFORMAT_RGB24, rgb, w * 3) == 0;
    if (!ok) {
        fprintf(stderr, "trapeze: -sdl-screenshot %s: cannot read the window's pixels: %s\n",
                d->screenshot_path, rgb ? SDL_GetError() : "out of memory");
    } else {
        fprintf(d->screenshot, "P6\n%d %d\n255\n", w, h);
        if (fwrite(rgb, 3, (size_t)w * (size_t)h, d->screenshot) != (size_t)w * (size_t)h)
            ok = false;
    }
    if (fclose(d->screenshot) != 0 || !ok) {
        if (rgb && ok)
            fprintf(stderr, "trapeze: -sdl-screenshot %s: write error\n", d->screenshot_path);
        remove(d->screenshot_path);
    }
    d->screenshot = NULL;
    free(rgb);
}

void vga_sdl_close(struct vga_sdl *d)
{
    if (!d)
        return;
    if (d->screenshot)
        vga_sdl_write_screenshot(d);
    SDL_DestroyTexture(d->texture);
    SDL_DestroyRenderer(d->renderer);
    SDL_DestroyWindow(d->window);
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    SDL_Quit();
    free(d->screenshot_path);
    free(d->pixels);
    free(d->scratch);
    free(d);
}
