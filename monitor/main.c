/*
 * main.c - trapeze's entry point: parse the command line, build the
 * machine, create the engine, and run it until the guest stops.
 *
 * The run loop is where every guest-initiated end of a run lands (STYLE.md
 * 7): devices only file a stop with the machine; this loop turns it into
 * the process's exit status (DESIGN.md "Exit statuses"):
 *
 *   (V << 1) | 1   the guest wrote V to isa-debug-exit (always odd)
 *   0              the guest powered off ("Shutdown" to port 0x8900)
 *   2              bad usage or bad input (flags, images)
 *   4              triple fault, or the guest is stuck (halted for good)
 *   6              host failure (out of memory, no KVM)
 *   8              the instruction cap (-max-insns, TRAPEZE_MAX_INSNS) was reached
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

#include "devices/chardev.h"
#include "machine/machine.h"
#include "monitor/cmd_log.h"
#include "monitor/cmdline.h"
#include "monitor/gdbstub.h"
#include "monitor/monitor.h"
#include "monitor/runner.h"
#include "vmm/engine.h"

static volatile sig_atomic_t stop_signal;

static void note_signal(int sig)
{
    stop_signal = sig;
}

/*
 * -no-shutdown without a monitor or debugger: the guest powered off (or
 * reset under -no-reboot), and QEMU then keeps the process, stopped, until
 * a signal ends it ("terminating on signal N", status 0).  So does trapeze;
 * unlike QEMU it says once on stderr why it waits.
 */
static int wait_stopped(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = note_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    fprintf(stderr, "trapeze: the guest powered off; -no-shutdown: the emulation is stopped "
                    "(end trapeze with Ctrl-C or a signal)\n");
    fflush(stdout);
    while (!stop_signal)
        pause();
    fprintf(stderr, "trapeze: terminating on signal %d\n", (int)stop_signal);
    return STATUS_POWER_OFF;
}

int main(int argc, char **argv)
{
    struct options o;
    struct engine e;
    int err, status;

    if (cmdline_parse(&o, argc, argv) < 0)
        return STATUS_USAGE;
    if (o.help) {
        cmdline_usage(stdout);
        return 0;
    }
    if (o.version) {
        printf("trapeze 0.1 (an educational x86 PC emulator)\n");
        return 0;
    }
    if (o.log_help) {   /* -d help: the list, exit 0, as QEMU */
        log_print_help(stdout);
        return 0;
    }
    if (o.cpu_help) {
        cmdline_cpu_help(stdout);
        return 0;
    }
    if (o.log_file && (err = log_set_file(o.log_file)) < 0) {
        fprintf(stderr, "trapeze: -D %s: %s\n", o.log_file, strerror(-err));
        return STATUS_USAGE;
    }
    log_set_mask(o.log_mask);
    log_disassemble = monitor_log_disassemble;   /* cpu/ cannot reach capstone itself */

    /* An engine that cannot run here is said before any image is read. */
    err = engine_available(o.engine);
    if (err < 0)
        return runner_status_for_error(err);

    /* Plain -monitor and -monitor-script: stdin is the shell's, not COM1's.
       -serial mon:stdio (and -nographic, which implies it, as in QEMU): the
       guest runs with the console; Ctrl-A c brings up the shell. */
    bool shell = o.monitor || o.monitor_script || o.monitor_mux;
    if (shell && !o.monitor_mux)
        chardev_reserve_stdin();

    struct machine *m = calloc(1, sizeof *m);   /* large (the port table): not on the stack */
    if (!m) {
        fprintf(stderr, "trapeze: out of host memory\n");
        return STATUS_HOST;
    }
    err = machine_init(m, &o.machine);
    if (err < 0) {
        free(m);
        return runner_status_for_error(err);
    }
    err = engine_create_with(&e, o.engine, m, &o.engine_options);
    if (err < 0) {
        machine_destroy(m);
        free(m);
        return runner_status_for_error(err);
    }

    if (LOG_ON(LOG_CPU_RESET))
        monitor_log_cpu_reset(&e);   /* the state the CPU starts in */

    struct runner r;
    runner_init(&r, &e, m, &o);
    /* SIGTERM, SIGHUP (and Ctrl-C, unless the shell takes it to stop the
       guest) end the run as QEMU does, -screendump written. */
    runner_catch_signals(&r, !shell);
    struct gdbstub gdb;
    bool with_gdb = o.gdb && strcmp(o.gdb, "none") != 0;
    if (shell) {
        status = monitor_shell(&r, &o);   /* the guest starts stopped at its first instruction */
    } else if (with_gdb) {
        err = gdbstub_open(&gdb, &r, o.gdb);
        status = err < 0 ? runner_status_for_error(err) : gdbstub_run(&gdb, o.start_stopped);
        gdbstub_close(&gdb);
    } else {
        while (runner_run(&r, 0, false) != RUN_FINISHED)
            ;   /* no monitor: breakpoints and the like cannot happen */
        status = r.status;
        if (r.halted_for_good)
            machine_display_hold(m, "halted");   /* a window stays open until closed */
        if (o.no_shutdown && r.powered_off)
            status = wait_stopped();
    }

    fflush(stdout);
    if (o.stats)
        e.ops->print_stats(&e, stderr);
    engine_destroy(&e);
    machine_destroy(m);
    free(m);
    return status;
}
