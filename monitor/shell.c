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
 * keyboard input).  -serial mon:stdio, and -nographic without -serial or
 * -monitor, are QEMU's multiplexer: the guest runs at once with the
 * console (COM1 on stdin and stdout), and Ctrl-A KEY is for trapeze:
 *
 *   Ctrl-A h       the list of these keys
 *   Ctrl-A x       end trapeze (status 0), "trapeze: terminated"
 *   Ctrl-A c       stop the guest and open the shell; at the prompt,
 *                  Ctrl-A c (or `continue`) gives the console back
 *   Ctrl-A Ctrl-A  one Ctrl-A to the guest
 *
 * (QEMU 8.x prints the same list for Ctrl-A h, plus s, t and b, which
 * trapeze does not have.)  When the guest ends (isa-debug-exit, power off)
 * the process exits with its status, as QEMU does, also after a `continue`
 * from the shell.  Ctrl-C is a byte for the guest while it has the console
 * (the terminal's signal keys are off, as in QEMU); while the shell has the
 * terminal, Ctrl-C stops a running command (SIGINT -> runner_interrupt) or
 * throws away the line typed at the prompt.  With plain -monitor Ctrl-C
 * always stops a running guest.
 */
#include "monitor/monitor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Ctrl-C at the prompt (set by the handler, acted on by shell_signal_event). */
static volatile sig_atomic_t prompt_interrupted;

static void shell_sigint(int sig)
{
    (void)sig;
    if (shell_monitor) {
        if (!shell_monitor->runner->running) prompt_interrupted = 1;
        shell_monitor->interrupt = 1;
        runner_interrupt(shell_monitor->runner);
    }
}

/*
 * Readline calls this when a signal interrupted its read (after its own
 * SIGINT handling has called shell_sigint).  Ctrl-C at the prompt throws
 * the half-typed line away and gives a fresh prompt, as bash and gdb do
 * (readline alone would keep the line and go on editing it).
 */
static int shell_signal_event(void)
{
    if (!prompt_interrupted) return 0;
    prompt_interrupted = 0;
    shell_monitor->interrupt = 0;
    rl_replace_line("", 0);
    rl_point = rl_end = 0;
    rl_crlf();
    rl_on_new_line();
    rl_redisplay();
    return 0;
}

/* Ctrl-A h: the keys of the multiplexer. */
static void shell_escape_help(FILE *out)
{
    fputs("\n"
          "C-a h    print this help\n"
          "C-a x    exit emulator\n"
          "C-a c    switch between console and monitor\n"
          "C-a C-a  sends C-a\n", out);
    fflush(out);
}

/* Ctrl-A x: what QEMU says too ("QEMU: Terminated"), then status 0. */
static void shell_escape_quit(struct monitor *mon)
{
    fputs("\ntrapeze: terminated\n", mon->out);
    fflush(mon->out);
    mon->quit = true;
}

/* Ctrl-A KEY typed while COM1 had the console (mon:stdio); other keys are dropped, as in QEMU. */
static void shell_escape(void *opaque, int key)
{
    struct monitor *mon = opaque;
    if (key == 'h') {
        shell_escape_help(mon->out);
    } else if (key == 'c' || key == 'x') {
        if (key == 'x') shell_escape_quit(mon);
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

/* Ctrl-A x at the prompt: leave, as from the guest's console. */
static int shell_key_quit(int count, int key)
{
    (void)count; (void)key;
    fputs("\n", shell_monitor->out);
    shell_escape_quit(shell_monitor);
    rl_replace_line("", 0);
    rl_done = 1;
    return 0;
}

/* Ctrl-A h at the prompt: the list, then the prompt again. */
static int shell_key_help(int count, int key)
{
    (void)count; (void)key;
    shell_escape_help(shell_monitor->out);
    rl_on_new_line();
    rl_redisplay();
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
    /* fopen takes a directory, and getline then reads nothing: refuse it
       here, before the guest starts.  A pipe or FIFO is a fine script
       (-monitor-script <(printf 'c\n') gives /dev/fd/N). */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "trapeze: -monitor-script %s: is a directory, not a file of commands\n", path);
        fclose(f);
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
    int read_error = ferror(f) ? errno : 0;
    free(line);
    fclose(f);
    if (read_error) {
        fprintf(stderr, "trapeze: -monitor-script %s: read error: %s\n", path, strerror(read_error));
        return STATUS_HOST;
    }
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
    /* With an event hook readline may not call the signal hook: a Ctrl-C
     * caught meanwhile is acted on here too. */
    shell_signal_event();
    if (shell_monitor) machine_display_refresh(shell_monitor->machine);
    return 0;
}

/*
 * mon:stdio: the guest runs first, with the console, until it ends (true)
 * or Ctrl-A c / Ctrl-A x / Ctrl-C stop it (false).  Nothing is printed:
 * the terminal is the guest's.
 */
static bool run_guest_with_console(struct monitor *mon)
{
    mon->interrupt = 0;
    enum run_result res;
    do
        res = runner_run(mon->runner, 0, false);
    while (res != RUN_FINISHED && res != RUN_INTERRUPTED && !mon->interrupt);
    return res == RUN_FINISHED;
}

/* `continue` (or `c`): the command that gives the terminal to the guest. */
static bool line_hands_over_console(const char *line)
{
    const char *w = line + strspn(line, " ");
    size_t n = strcspn(w, " ");
    return (n == 8 && strncmp(w, "continue", 8) == 0) || (n == 1 && w[0] == 'c');
}

static int run_interactive(struct monitor *mon, bool start_running)
{
    char path_buf[4096];
    const char *hist = history_path(path_buf, sizeof path_buf);
    bool tty = isatty(STDIN_FILENO);
    char last[64] = "";

    if (start_running && (run_guest_with_console(mon) || mon->quit))
        return shell_status(mon);
    if (tty) {
        rl_readline_name = "trapeze";
        rl_attempted_completion_function = shell_complete;
        rl_event_hook = shell_event_hook;
        rl_signal_event_hook = shell_signal_event;
        if (mon->mux) {
            rl_bind_keyseq("\\C-ac", shell_key_continue);
            rl_bind_keyseq("\\C-ax", shell_key_quit);
            rl_bind_keyseq("\\C-ah", shell_key_help);
        }
        using_history();
        if (hist && read_history(hist) != 0)
            write_history(hist);   /* append_history needs the file to exist */
        fprintf(mon->out, "%strapeze monitor: `help` lists the commands; Ctrl-C stops a running guest%s\n",
                start_running ? "\n" : "",
                mon->mux ? "; Ctrl-A c switches between the guest's console and the monitor" : "");
    }
    if (start_running) monitor_show_location(mon);   /* where Ctrl-A c stopped it */
    else monitor_start(mon);
    while (!mon->quit) {
        /*
         * mon:stdio left the terminal raw for COM1: ECHO off (readline takes a
         * terminal without ECHO for a password prompt and then shows nothing
         * typed) and ISIG off (Ctrl-C is a byte for the guest, as in QEMU).
         * The shell has the terminal now: lend it both while it reads the
         * line (readline keeps it its own way meanwhile) and runs the command,
         * so Ctrl-C discards a typed line or stops a `step 100000`; put raw
         * back for `continue`, which hands the console to the guest.
         */
        struct termios raw;
        bool lent = false;
        if (tty && mon->mux && tcgetattr(STDIN_FILENO, &raw) == 0 && !(raw.c_lflag & ECHO)) {
            struct termios t = raw;
            t.c_lflag |= ECHO | ISIG;
            lent = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
        }
        prompt_interrupted = 0;
        char *line = tty ? readline(PROMPT) : read_plain_line(mon);
        if (lent && (!line || line_hands_over_console(line))) {
            tcsetattr(STDIN_FILENO, TCSANOW, &raw);
            lent = false;
        }
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
        if (lent) tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        if (mon->mux && mon->runner->finished)
            break;   /* the guest ended: so does trapeze, as QEMU with mon:stdio */
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
    /* Ctrl-C stops the guest into the shell (with mon:stdio the terminal
       sends it only while the shell has it: to the guest it is a byte). */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = shell_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old);
    if (mon.mux) chardev_set_stdin_escape(shell_escape, &mon);

    /* mon:stdio runs the guest at once, as QEMU does (-S: stopped at the prompt). */
    bool start_running = mon.mux && !o->start_stopped;
    int status = o->monitor_script ? run_script(&mon, o->monitor_script) : run_interactive(&mon, start_running);

    if (mon.mux) chardev_set_stdin_escape(NULL, NULL);
    sigaction(SIGINT, &old, NULL);
    shell_monitor = NULL;
    monitor_destroy(&mon);
    fflush(stdout);
    return status;
}
