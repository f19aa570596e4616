/*
 * pc_vga.h - the board's display: the VGA at 0x3B0-0x3DF (text buffer at
 * 0xB8000 in RAM), the SDL window when there is one (-display), and
 * -screendump.  machine_init (pc.c) calls these after the keyboard exists.
 */
#ifndef TRAPEZE_PC_VGA_H
#define TRAPEZE_PC_VGA_H

struct machine;

/*
 * The VGA on the bus and in the registry ("vga"); the window as
 * m->config.display says (AUTO: SDL when a display is available and SDL
 * video starts, else none, silently); the -screendump file opened (so a
 * bad path is said now).  -errno after one line.
 */
int pc_vga_attach(struct machine *m);

/* Mode 3's registers again (the text in RAM stays, as on a real reset). */
void pc_vga_reset(struct machine *m);

/* Events and a redraw about 60 times a second (from machine_poll). */
void pc_vga_poll(struct machine *m);

/* Write -screendump and the window's screenshot, close the window, free the
   VGA; safe after a failed or partial init. */
void pc_vga_close(struct machine *m);

#endif
