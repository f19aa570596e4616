/*
 * vga_sdl.h - the VGA's screen in an SDL2 window, and the host keyboard.
 *
 * The window shows the text screen vga_render draws (720x400 with 9-dot
 * cells, 640x400 with 8-dot ones), redrawn about 60 times a second of
 * virtual time from the run loop (machine_poll -> vga_sdl_poll), with the
 * cursor and blinking characters in the phase the virtual clock gives.
 * While the guest is stopped (a monitor prompt, a breakpoint, a step, a
 * guest halted for good) virtual time stands still, so the board calls
 * vga_sdl_refresh at each stop and while it waits: the window then shows
 * the screen as it is and keeps answering its events.
 * Key presses and releases go to the keyboard through the 'key_event'
 * hook as USB HID usage IDs (SDL_Scancode values); closing the window
 * signals the 'closed' line (board_line.h), and the board powers off, as
 * QEMU quits.
 *
 * A test aid: with a screenshot path, vga_sdl_close draws one last frame
 * with the cursor and blinking characters visible (so the picture does
 * not depend on when the run ended), reads the window's pixels back
 * (SDL_RenderReadPixels) and writes them as a binary PPM (P6).
 */
#ifndef TRAPEZE_VGA_SDL_H
#define TRAPEZE_VGA_SDL_H

#include <stdbool.h>
#include <stdio.h>

#include "devices/board_line.h"

struct vga;
struct vclock;
struct vga_sdl;

/* True when a window could be shown here: DISPLAY or WAYLAND_DISPLAY is set. */
bool vga_sdl_display_available(void);

/*
 * Open the window for 'v', its blink phases from 'clock'; 'closed' is
 * signalled (once) when the user closes it.  'key_event' (may be NULL) receives the host's
 * keys; 'screenshot' (may be NULL) is the PPM written at close.  'quiet':
 * do not print why SDL could not start (the automatic default falls back
 * to no display).  Returns 0 and *out, or -ENODEV (SDL video did not
 * initialise), -EIO (the screenshot file cannot be written), -ENOMEM.
 */
int vga_sdl_open(struct vga_sdl **out, struct vga *v, struct vclock *clock, struct board_line closed,
                 void (*key_event)(void *opaque, int usage, bool pressed), void *key_opaque,
                 const char *screenshot, bool quiet);

/* Handle window events; redraw when 1/60 s of virtual time has passed. */
void vga_sdl_poll(struct vga_sdl *d);

/* Handle window events and redraw if the window does not show the screen as it is now. */
void vga_sdl_refresh(struct vga_sdl *d);
/* The same, but no new frame sooner than 'interval_ms' of host time after the last. */
void vga_sdl_refresh_at_most(struct vga_sdl *d, unsigned interval_ms);

/*
 * Wait up to 'timeout_ms' for a window event, then vga_sdl_refresh.
 * Returns false once the user has closed the window.  NULL: false.
 */
bool vga_sdl_wait(struct vga_sdl *d, int timeout_ms);

/* The window's title ("trapeze" at open).  NULL: nothing. */
void vga_sdl_set_title(struct vga_sdl *d, const char *title);

/* `info window` (opaque = the vga_sdl): title, frames drawn, whether it shows the screen as it is. */
void vga_sdl_info(void *opaque, FILE *out);

/* Write the screenshot (if one was asked for) and close the window.  NULL: nothing. */
void vga_sdl_close(struct vga_sdl *d);

#endif
