/*
 * log.h - named log channels, off by default, chosen at run time
 * (STYLE.md habit 12; the names and formats are qemu-system-i386's).
 *
 *   trapeze -d int,cpu_reset,guest_errors,unimp -D qemu.log ...
 *   (trapeze) log int,pcall          the monitor's command, same names
 *
 * A channel costs one load and one test when it is off: LOG_ON(ch) reads
 * the global mask, and the arguments of log_msg() are not even evaluated
 * unless the channel is on.  So a channel may sit on a hot path (the CPU's
 * block loop for `exec`) and a student turns it on without a rebuild.
 *
 * Worked example: a BIOS service the BIOS lacks says
 *
 *     log_msg(LOG_UNIMP, "BIOS: int %02xh AX=%04xh not implemented\n", ...);
 *
 * which prints nothing unless `-d unimp` (or `log unimp`) was given, and
 * then goes to stderr, or to the file of `-D FILE`.
 *
 * The mask, the stream and the disassembler pointer are process-wide
 * globals, an exception to STYLE.md habit 5 made for host configuration:
 * which messages the user wants, and where, is a property of the process
 * (as stderr is), not of one machine, and a global mask is what makes the
 * off case one load and one test.
 */
#ifndef TRAPEZE_LOG_H
#define TRAPEZE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The channels, in the order `-d help` lists them (log.c has the names). */
enum log_channel {
    LOG_IN_ASM,        /* in_asm: each newly decoded block, disassembled */
    LOG_INT,           /* int: interrupts and exceptions in protected mode, with the registers */
    LOG_EXEC,          /* exec: one line per block executed */
    LOG_CPU,           /* cpu: the registers before each block executed */
    LOG_MMU,           /* mmu: page faults, TLB flushes */
    LOG_PCALL,         /* pcall: protected-mode far calls, returns, task switches */
    LOG_CPU_RESET,     /* cpu_reset: the CPU state at power-on and before each reset */
    LOG_UNIMP,         /* unimp: device features and BIOS functions trapeze lacks */
    LOG_GUEST_ERRORS,  /* guest_errors: what the guest did wrong (an absent device, a bad BIOS call) */
    LOG_CHANNEL_COUNT
};

#define LOG_MASK_OF(ch) (1u << (ch))
#define LOG_ALL_MASK ((1u << LOG_CHANNEL_COUNT) - 1)

/* The channels that are on (bit n = channel n).  Read through LOG_ON. */
extern uint32_t log_mask;

#define LOG_ON(ch) (__builtin_expect((log_mask & LOG_MASK_OF(ch)) != 0, 0))

/* printf to the log when channel 'ch' is on; the arguments are evaluated only then. */
#define log_msg(ch, ...) \
    do { if (LOG_ON(ch)) log_printf(__VA_ARGS__); } while (0)

/* Write to the log (stderr, or the -D file) unconditionally. */
__attribute__((format(printf, 1, 2)))
void log_printf(const char *fmt, ...);

/* The log's stream (stderr unless -D), for a dump that writes in pieces. */
FILE *log_stream(void);

/*
 * Parse a channel list as `-d` and the monitor's `log` take it: names
 * separated by commas, "all" for every channel, "none" for no channel
 * (e.g. "int,cpu_reset").  Returns 0 with *mask set, or -1 with 'why'
 * holding one line (no newline) that names the bad item and lists the
 * valid names.  "help" is not a list: the caller looks for it first.
 */
int log_parse_list(const char *list, uint32_t *mask, char *why, size_t why_size);

/* Turn exactly the channels of 'mask' on. */
void log_set_mask(uint32_t mask);

/*
 * Send the log to 'path' (created or truncated, as QEMU's -D), or back to
 * stderr when 'path' is NULL.  Returns 0, or -errno (the old stream stays).
 */
int log_set_file(const char *path);

/* The name of the -D file, or NULL when the log goes to stderr. */
const char *log_file_name(void);

/* `-d help`: "Log items (comma separated):" and one line per channel. */
void log_print_help(FILE *out);

/* A channel's name ("int"), or NULL when 'ch' is none. */
const char *log_channel_name(int ch);

/* The names of the channels in 'mask', comma-separated ("none" when empty). */
void log_mask_names(uint32_t mask, char *buf, size_t size);

/*
 * The disassembler for `in_asm`.  cpu/ may not include monitor/ (where
 * capstone is), so main sets this pointer; without it in_asm shows the
 * bytes only.  Writes one instruction's text for the 'len' bytes at 'buf'
 * (16 or 32 'bits', at linear 'address') into 'text' and returns its
 * length in bytes, 0 when the bytes are no instruction.
 */
typedef unsigned (*log_disassembler)(int bits, uint32_t address, const uint8_t *buf, size_t len,
                                     char *text, size_t text_size);
extern log_disassembler log_disassemble;

#endif
