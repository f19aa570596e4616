/*
 * vga_sdl.h - the VGA's screen in an SDL2 window, and the host keyboard.
 *
 * The window shows the text screen vga_render draws (720x400 with 9-dot
 * cells, 640x400 with 8-dot ones), redrawn about 60 times a second of
 * virtual time from the run loop (machine_poll -> vga_sdl_poll), with the
 * cursor and blinking characters in the phase the virtual clock gives.
 * Key presses and releases go to the keyboard through the 'key_event'
 * hook as USB HID usage IDs (SDL_Scancode values); closing the window
 * powers the machine off (machine_stop, MACHINE_POWER_OFF), as QEMU quits.
 *
 * A test aid: with a screenshot path, vga_sdl_close draws one last frame
 * with the cursor and blinking characters visible (so the picture does
 * not depend on when the run ended), reads the window's pixels back
 * (SDL_RenderReadPixels) and writes them as a binary PPM (P6).
 */
#ifndef TRAPEZE_VGA_SDL_H
#define TRAPEZE_VGA_SDL_H

#include <stdbool.h>

struct vga;
struct machine;
struct vga_sdl;

/* True when a window could be shown here: DISPLAY or WAYLAND_DISPLAY is set. */
bool vga_sdl_display_available(void);

/*
 * Open the window for 'v'.  'key_event' (may be NULL) receives the host's
 * keys; 'screenshot' (may be NULL) is the PPM written at close.  'quiet':
 * do not print why SDL could not start (the automatic default falls back
 * to no display).  Returns 0 and *out, or -ENODEV (SDL video did not
 * initialise), -EIO (the screenshot file cannot be written), -ENOMEM.
 */
int vga_sdl_open(struct vga_sdl **out, struct vga *v, struct machine *m,
                 void (*key_event)(void *opaque, int usage, bool pressed), void *key_opaque,
                 const char *screenshot, bool quiet);

/* Handle window events; redraw when 1/60 s of virtual time has passed. */
void vga_sdl_poll(struct vga_sdl *d);

/* Write the screenshot (if one was asked for) and close the window.  NULL: nothing. */
void vga_sdl_close(struct vga_sdl *d);

#endif
