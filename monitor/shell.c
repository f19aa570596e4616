/*
 * shell.c - where the monitor's lines come from (see monitor.h).
 *
 *   interactive  readline: line editing, history kept in ~/.trapeze_history
 *                (or $TRAPEZE_HISTORY), Tab completes command names, then
 *                register names (after `info`: its topics and device names).  An empty
 *                line repeats step or next, as in gdb.  Stdin that is not a
 *                terminal is read line by line, each line echoed.
 *   script       -monitor-script FILE: each line echoed after the prompt,
 *                then its output; at the end the process exits with the
 *                guest's status if it finished, or 0 (quit, or the script
 *                ran out while the guest was stopped, which is said).
 *
 * The console: with plain -monitor the shell owns stdin and COM1's output
 * still goes to stdout, interleaved with the shell's (the guest gets no
 * keyboard input).  With -serial mon:stdio, `continue` hands stdin to COM1
 * and Ctrl-A c hands it back, as in QEMU (Ctrl-A x quits; at the prompt
 * Ctrl-A c continues).  Ctrl-C while the guest runs always breaks into the
 * shell: SIGINT -> runner_interrupt.
 */
#include "monitor/monitor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "devices/chardev.h"
#include "machine/machine.h"
#include "monitor/expr.h"

#define PROMPT "(trapeze) "

/* The session the signal handler and readline's callbacks reach (one per process, like the terminal). */
static struct monitor *shell_monitor;

static void shell_sigint(int sig)
{
    (void)sig;
    if (shell_monitor) {
        shell_monitor->interrupt = 1;
        runner_interrupt(shell_monitor->runner);
    }
}

/* Ctrl-A KEY typed while COM1 had the console (-serial mon:stdio). */
static void shell_escape(void *opaque, int key)
{
    struct monitor *mon = opaque;
    if (key == 'c' || key == 'x') {
        if (key == 'x') mon->quit = true;
        mon->interrupt = 1;
        runner_interrupt(mon->runner);
    }
}

/* Ctrl-A c at the prompt: continue (hand the console to the guest). */
static int shell_key_continue(int count, int key)
{
    (void)count; (void)key;
    rl_replace_line("continue", 0);
    rl_point = rl_end;
    rl_done = 1;
    return 0;
}

static const char *const info_topics[] = { "break", "display", "registers", "gdt", "idt", "ldt", "tss",
                                            "pt", "tlb", "fault", "engine", "kvm",
                                            /* cmd_info's names for devices registered under chip names */
                                            "uart", "serial", "rtc", "keyboard", "kbd", NULL };

/* Is the line's first word `info` (or its short form `i`)? */
static bool line_is_info(void)
{
    const char *w = rl_line_buffer + strspn(rl_line_buffer, " ");
    size_t n = strcspn(w, " ");
    return (n == 4 && strncmp(w, "info", 4) == 0) || (n == 1 && w[0] == 'i');
}

/* Tab: the command name; after `info`, its topics and the device names; else register names. */
static char *shell_generate(const char *text, int state)
{
    static int index, phase;
    size_t len = strlen(text);
    if (!state) {
        index = 0;
        phase = rl_point > (int)len && strspn(rl_line_buffer, " ") < (size_t)(rl_point - (int)len) ? 1 : 0;
        if (phase == 1 && line_is_info()) phase = 2;
    }
    if (phase == 0) {
        for (const char *name; (name = monitor_command_name(index)) != NULL;) {
            index++;
            if (strncmp(name, text, len) == 0) return strdup(name);
        }
        return NULL;
    }
    /* Arguments: registers (phase 1), or info topics (2) then devices (3). */
    for (;;) {
        const char *name = NULL;
        if (phase == 1) {
            name = expr_regs[index].name;
            if (!name) return NULL;
        } else if (phase == 2) {
            name = info_topics[index];
            if (!name) { phase = 3; index = 0; continue; }
        } else {
            struct machine *m = shell_monitor->machine;
            if (index >= m->device_count) return NULL;
            name = m->devices[index].name;
        }
        index++;
        if (strncmp(name, text, len) == 0) return strdup(name);
    }
}

static char **shell_complete(const char *text, int start, int end)
{
    (void)start; (void)end;
    rl_attempted_completion_over = 1;   /* no file names */
    return rl_completion_matches(text, shell_generate);
}

static const char *history_path(char *buf, size_t len)
{
    const char *env = getenv("TRAPEZE_HISTORY");
    if (env && *env) return env;
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    snprintf(buf, len, "%s/.trapeze_history", home);
    return buf;
}

/* The exit status when the shell ends. */
static int shell_status(struct monitor *mon)
{
    if (mon->quit) return 0;
    if (mon->runner->finished) return mon->runner->status;
    return 0;
}

/*
 * Where the session starts: a -kernel's entry point (through the built-in
 * BIOS's POST when the board starts at the reset vector); else F000:FFF0.
 */
static void monitor_start(struct monitor *mon)
{
    if (mon->symbols.has_entry && mon->machine->boot_from_reset && mon->machine->config.kernel)
        monitor_run_to(mon, mon->symbols.entry);
    else
        monitor_show_location(mon);
}

static int run_script(struct monitor *mon, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "trapeze: -monitor-script %s: %s\n", path, strerror(errno));
        return STATUS_USAGE;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    monitor_start(mon);
    while (!mon->quit && (n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        fprintf(mon->out, PROMPT "%s\n", line);
        machine_display_refresh(mon->machine);   /* the window as at an interactive prompt */
        monitor_execute(mon, line);
        fflush(mon->out);
    }
    free(line);
    fclose(f);
    if (!mon->quit && !mon->runner->finished) {
        struct x86_state s;
        mon->engine->ops->get_state(mon->engine, &s);
        fprintf(mon->out, "end of the monitor script: the guest is stopped at %04x:%08x\n",
                s.seg[SEG_CS].selector, s.eip);
    }
    return shell_status(mon);
}

/* A line from stdin that is no terminal, echoed as a script's are. */
static char *read_plain_line(struct monitor *mon)
{
    char *line = NULL;
    size_t cap = 0;
    fputs(PROMPT, mon->out);
    fflush(mon->out);
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) { free(line); return NULL; }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    fprintf(mon->out, "%s\n", line);
    return line;
}

/* While readline waits for a line, the SDL window keeps showing the screen and answering. */
static int shell_event_hook(void)
{
    if (shell_monitor) machine_display_refresh(shell_monitor->machine);
    return 0;
}

static int run_interactive(struct monitor *mon)
{
    char path_buf[4096];
    const char *hist = history_path(path_buf, sizeof path_buf);
    bool tty = isatty(STDIN_FILENO);
    char last[64] = "";

    if (tty) {
        rl_readline_name = "trapeze";
        rl_attempted_completion_function = shell_complete;
        rl_event_hook = shell_event_hook;
        if (mon->mux) rl_bind_keyseq("\\C-ac", shell_key_continue);
        using_history();
        if (hist && read_history(hist) != 0)
            write_history(hist);   /* append_history needs the file to exist */
        fprintf(mon->out, "trapeze monitor: `help` lists the commands; Ctrl-C stops a running guest%s\n",
                mon->mux ? "; Ctrl-A c switches between the guest's console and the monitor" : "");
    }
    monitor_start(mon);
    while (!mon->quit) {
        /*
         * -serial mon:stdio left the terminal raw for COM1, ECHO off too;
         * readline takes a terminal without ECHO for a password prompt and
         * then shows nothing typed.  Give it ECHO while it reads the line
         * (it keeps the terminal its own way meanwhile), then put raw back.
         */
        struct termios raw;
        bool echo_lent = false;
        if (tty && mon->mux && tcgetattr(STDIN_FILENO, &raw) == 0 && !(raw.c_lflag & ECHO)) {
            struct termios t = raw;
            t.c_lflag |= ECHO;
            echo_lent = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
        }
        char *line = tty ? readline(PROMPT) : read_plain_line(mon);
        if (echo_lent) tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        if (!line) {   /* end of input: leave, with the guest's status if it finished */
            if (tty) fputs("quit\n", mon->out);
            break;
        }
        const char *cmd = line;
        if (!*line && last[0]) cmd = last;    /* an empty line repeats step / next */
        else if (*line) {
            if (tty) {
                add_history(line);
                if (hist) append_history(1, hist);
            }
            if (!strcmp(line, "s") || !strcmp(line, "step") || !strcmp(line, "n") || !strcmp(line, "next") ||
                !strcmp(line, "si") || !strcmp(line, "stepi"))
                snprintf(last, sizeof last, "%s", line);
            else
                last[0] = '\0';
        }
        monitor_execute(mon, cmd);
        free(line);
    }
    if (tty && hist) history_truncate_file(hist, 1000);
    return shell_status(mon);
}

int monitor_shell(struct runner *r, const struct options *o)
{
    struct monitor mon;
    struct sigaction sa, old;

    monitor_init(&mon, r, stdout);
    mon.mux = o->monitor_mux;
    if (o->machine.kernel && symbols_load(&mon.symbols, o->machine.kernel) < 0)
        fprintf(stderr, "trapeze: monitor: cannot read the symbols of %s\n", o->machine.kernel);
    shell_monitor = &mon;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = shell_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old);
    if (mon.mux) chardev_set_stdin_escape(shell_escape, &mon);

    int status = o->monitor_script ? run_script(&mon, o->monitor_script) : run_interactive(&mon);

    if (mon.mux) chardev_set_stdin_escape(NULL, NULL);
    sigaction(SIGINT, &old, NULL);
    shell_monitor = NULL;
    monitor_destroy(&mon);
    fflush(stdout);
    return status;
}
