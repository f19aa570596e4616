/*
 * commands.h - private to the monitor's command files (commands.c and
 * cmd_*.c): the handlers the command table names and the helpers they
 * share.  Nothing outside monitor/ includes it; monitor.h is the
 * monitor's interface.
 */
#ifndef TRAPEZE_COMMANDS_H
#define TRAPEZE_COMMANDS_H

#include "monitor/monitor.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "machine/machine.h"
#include "monitor/disasm.h"
#include "monitor/expr.h"
#include "monitor/tables.h"

__attribute__((format(printf, 2, 3)))
static inline void say(struct monitor *mon, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(mon->out, fmt, ap);
    va_end(ap);
}

static inline void get_state(struct monitor *mon, struct x86_state *s)
{
    mon->engine->ops->get_state(mon->engine, s);
}

static inline uint32_t code_linear(const struct x86_state *s) { return s->seg[SEG_CS].base + s->eip; }

/* commands.c: an expression's value / an address (expression or SEL:OFF), or one error line and false. */
bool mon_eval(struct monitor *mon, const char *text, uint32_t *v);
bool mon_eval_address(struct monitor *mon, const char *text, uint32_t *lin);

/* cmd_memory.c: instructions and memory shown. */
bool mon_decode_at(struct monitor *mon, const struct x86_state *s, uint32_t lin, struct disasm_insn *d);
/* "CS:EIP (linear)  bytes  insn": 'bits' 16 or 32; 0 when no segment applies
 * (then 'cs' 0 labels 'lin' linear, 1 physical). */
void mon_print_insn_line(const struct monitor *mon, FILE *out, const char *prefix, uint16_t cs, uint32_t eip,
                         int bits, uint32_t lin, const struct disasm_insn *d);
bool mon_parse_format(struct monitor *mon, const char *fmt, int *count, char *format, char *unit);
void mon_dump_memory(struct monitor *mon, bool physical, uint32_t addr, int count, char format, char unit);
bool mon_write_value(struct monitor *mon, bool physical, uint32_t addr, uint32_t v, unsigned size);

/* cmd_state.c */
void mon_print_flags(FILE *out, uint32_t f);
void mon_print_changes(FILE *out, const struct x86_state *a, const struct x86_state *b, uint32_t next_eip);

/* cmd_run.c: "#UD" for 6, "" for vectors without a mnemonic. */
const char *mon_vector_name(int v);
const char *mon_watch_kind_name(int k);

/* cmd_break.c */
void mon_info_break(struct monitor *mon);

/* cmd_misc.c */
void mon_show_displays(struct monitor *mon);

/*
 * The handlers the table names, by file.  argv[0] is the command's name,
 * 'suffix' what followed a '/' (x/4xw) or NULL, 'rest' the line after
 * the command word.
 */
/* cmd_run.c */
void cmd_step(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_next(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_continue(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_until(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_finish(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
/* cmd_break.c */
void cmd_break(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_tbreak(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_watch(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_rwatch(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_awatch(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_delete(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_enable(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_disable(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
/* cmd_state.c */
void cmd_regs(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_sregs(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_cregs(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_set(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_print(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
/* cmd_memory.c */
void cmd_x(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_xp(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_disas(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_write(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_translate(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
/* cmd_info.c */
void cmd_info(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_disas_tc(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_stats(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
/* cmd_misc.c */
void cmd_display(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_undisplay(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_trace(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_savevm(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_loadvm(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);
void cmd_quit(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest);

#endif
