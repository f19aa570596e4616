/*
 * cmd_log.h - the log channels (base/log.h) from the monitor's side: the
 * shell's `log` and `logfile` commands (QEMU's monitor spelling), the
 * capstone disassembler lent to `-d in_asm`, and the `cpu_reset` dump
 * the run loop writes at power-on and before each reset.
 */
#ifndef TRAPEZE_CMD_LOG_H
#define TRAPEZE_CMD_LOG_H

#include <stddef.h>
#include <stdint.h>

struct monitor;
struct engine;

/* `log ITEMS` (log int,cpu_reset; log none; log alone: what is on, and where). */
void cmd_log(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
/* `logfile FILE`: the log goes to FILE from now on (created or truncated). */
void cmd_logfile(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);

/* base/log.h's log_disassembler, through monitor/disasm.c (capstone, Intel syntax). */
unsigned monitor_log_disassemble(int bits, uint32_t address, const uint8_t *buf, size_t len,
                                 char *text, size_t text_size);

/* -d cpu_reset: "CPU Reset (CPU 0)" and the engine's CPU state (call behind LOG_ON). */
void monitor_log_cpu_reset(struct engine *e);

#endif
