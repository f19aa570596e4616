/*
 * cmd_memory.c - the monitor's views of memory and code: x, xp, disas,
 * write, writep, translate, and the instruction lines every command prints.
 */
#include "monitor/commands.h"

/* Decode the instruction at linear 'lin' in the mode of 's'. */
bool mon_decode_at(struct monitor *mon, const struct x86_state *s, uint32_t lin, struct disasm_insn *d)
{
    uint8_t buf[DISASM_MAX_BYTES];
    uint32_t got = 0;
    /* Read byte by byte near the end of mapped memory: the instruction may be shorter. */
    if (mon->engine->ops->read_linear(mon->engine, lin, buf, sizeof buf)) got = sizeof buf;
    else while (got < sizeof buf && mon->engine->ops->read_linear(mon->engine, lin + got, buf + got, 1)) got++;
    if (!got) {
        memset(d, 0, sizeof *d);
        d->io_port = -1;
        snprintf(d->text, sizeof d->text, "(cannot read %08x: not mapped)", lin);
        return false;
    }
    return disasm_one(tables_code_bits(s), lin, buf, got, d);
}

void mon_print_insn_line(const struct monitor *mon, FILE *out, const char *prefix, uint16_t cs, uint32_t eip,
                            int bits, uint32_t lin, const struct disasm_insn *d)
{
    uint32_t off;
    const char *sym = symbols_nearest(&mon->symbols, lin, &off);
    char label[80] = "";
    if (sym && off) snprintf(label, sizeof label, "   <%.60s+%u>", sym, off);
    else if (sym) snprintf(label, sizeof label, "   <%.60s>", sym);
    char bytes[3 * DISASM_MAX_BYTES + 1] = "";
    for (uint32_t k = 0; k < d->size && k < 8; k++)
        snprintf(bytes + 3 * k, 4, "%02x ", d->bytes[k]);
    if (d->size > 8) strcat(bytes, "..");
    if (bits == 0)   /* no segment to name: the address alone, linear (cs 0) or physical (cs 1) */
        fprintf(out, "%s%-9s (%08x)  %-24s %s%s\n", prefix, cs ? "physical" : "linear", lin, bytes, d->text, label);
    else if (bits == 16)
        fprintf(out, "%s%04x:%04x (%08x)  %-24s %s%s\n", prefix, cs, eip & 0xFFFF, lin, bytes, d->text, label);
    else
        fprintf(out, "%s%04x:%08x (%08x)  %-24s %s%s\n", prefix, cs, eip, lin, bytes, d->text, label);
}

static void print_at(struct monitor *mon, FILE *out, const char *prefix, const struct x86_state *s)
{
    struct disasm_insn d;
    mon_decode_at(mon, s, code_linear(s), &d);
    mon_print_insn_line(mon, out, prefix, s->seg[SEG_CS].selector, s->eip, tables_code_bits(s), code_linear(s), &d);
}

static bool read_mem(struct monitor *mon, bool physical, uint32_t addr, void *buf, uint32_t len)
{
    if (!physical) return mon->engine->ops->read_linear(mon->engine, addr, buf, len);
    if ((uint64_t)addr + len > 0x100000000ull) return false;
    bus_read_block(&mon->machine->bus, addr, buf, len);
    return true;
}

static unsigned unit_size(char u) { return u == 'b' ? 1 : u == 'h' ? 2 : u == 'g' ? 8 : 4; }

/* Parse gdb's /FMT: count, format letter, unit letter in any order. */
bool mon_parse_format(struct monitor *mon, const char *fmt, int *count, char *format, char *unit)
{
    const char *p = fmt;
    if (isdigit((unsigned char)*p)) {
        char *end;
        errno = 0;
        long n = strtol(p, &end, 10);
        if (errno || n < 1 || n > 4096) { say(mon, "error: /%s: count must be 1 to 4096\n", fmt); return false; }
        *count = (int)n;
        p = end;
    }
    for (; *p; p++) {
        if (strchr("xducsi", *p)) *format = *p;
        else if (strchr("bhwg", *p)) *unit = *p;
        else { say(mon, "error: /%s: '%c' is no format (x d u c s i) or unit (b h w g)\n", fmt, *p); return false; }
    }
    return true;
}

void mon_dump_memory(struct monitor *mon, bool physical, uint32_t addr, int count, char format, char unit)
{
    FILE *out = mon->out;
    struct x86_state s;
    get_state(mon, &s);
    if (format == 'i') {
        for (int k = 0; k < count; k++) {
            struct disasm_insn d;
            uint8_t buf[DISASM_MAX_BYTES];
            if (!read_mem(mon, physical, addr, buf, sizeof buf)) {
                say(mon, "%08x: cannot read (not mapped)\n", addr);
                return;
            }
            disasm_one(tables_code_bits(&s), addr, buf, sizeof buf, &d);
            if (!d.size) d.size = 1;
            /* Labelled with the segment the address was given in, else CS
             * when the address lies in it, else by the linear address only. */
            const char *prefix = addr == code_linear(&s) && !physical ? "=> " : "   ";
            if (mon->x_sel >= 0)
                mon_print_insn_line(mon, out, prefix, (uint16_t)mon->x_sel, addr - mon->x_sel_base,
                                    tables_code_bits(&s), addr, &d);
            else if (!physical && addr - s.seg[SEG_CS].base <= s.seg[SEG_CS].limit)
                mon_print_insn_line(mon, out, prefix, s.seg[SEG_CS].selector, addr - s.seg[SEG_CS].base,
                                    tables_code_bits(&s), addr, &d);
            else
                mon_print_insn_line(mon, out, prefix, physical, 0, 0, addr, &d);
            addr += d.size;
        }
        mon->x_next = addr;
        return;
    }
    if (format == 's') {
        for (int k = 0; k < count; k++) {
            say(mon, "%08x: \"", addr);
            for (int n = 0; n < 4096; n++) {
                uint8_t c;
                if (!read_mem(mon, physical, addr, &c, 1)) { say(mon, "<not mapped>"); break; }
                addr++;
                if (!c) break;
                if (c == '"' || c == '\\') say(mon, "\\%c", c);
                else if (isprint(c)) fputc(c, out);
                else say(mon, "\\x%02x", c);
            }
            say(mon, "\"\n");
        }
        mon->x_next = addr;
        return;
    }
    unsigned size = unit_size(unit);
    unsigned per_line = 16 / size;
    if (format == 'c') { size = 1; per_line = 16; }
    for (int k = 0; k < count;) {
        uint8_t line[16];
        unsigned n = 0;
        say(mon, "%08x:", addr);
        for (; n < per_line && k < count; n++, k++) {
            uint8_t b[8];
            if (!read_mem(mon, physical, addr + n * size, b, size)) {
                say(mon, " <not mapped>\n");
                mon->x_next = addr + n * size;
                return;
            }
            memcpy(line + n * size, b, size);
            uint64_t v = 0;
            for (unsigned j = 0; j < size; j++) v |= (uint64_t)b[j] << (8 * j);
            switch (format) {
            case 'd': {
                int64_t sv = size == 8 ? (int64_t)v : (int64_t)(v << (64 - 8 * size)) >> (64 - 8 * size);
                say(mon, " %*lld", (int)(size * 3 + 1), (long long)sv);
                break;
            }
            case 'u': say(mon, " %*llu", (int)(size * 3), (unsigned long long)v); break;
            case 'c': say(mon, " %3u '%c'", b[0], isprint(b[0]) ? b[0] : '.'); break;
            default:  say(mon, " 0x%0*llx", (int)size * 2, (unsigned long long)v); break;
            }
        }
        if (format != 'c') {
            say(mon, "  |");
            for (unsigned j = 0; j < n * size; j++) fputc(isprint(line[j]) ? line[j] : '.', out);
            say(mon, "|");
        }
        say(mon, "\n");
        addr += n * size;
    }
    mon->x_next = addr;
}

void monitor_show_location(struct monitor *mon)
{
    struct x86_state s;
    get_state(mon, &s);
    print_at(mon, mon->out, "=> ", &s);
    mon_show_displays(mon);
}

bool mon_write_value(struct monitor *mon, bool physical, uint32_t addr, uint32_t v, unsigned size)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    if (size < 4 && (v >> (8 * size))) {
        say(mon, "error: 0x%x does not fit in %u byte%s\n", v, size, size == 1 ? "" : "s");
        return false;
    }
    if (physical) {
        if ((uint64_t)addr + size > mon->machine->bus.ram_size) { say(mon, "error: %08x is not in RAM\n", addr); return false; }
        bus_write_block(&mon->machine->bus, addr, b, size);
        return true;
    }
    if (!mon->engine->ops->write_linear(mon->engine, addr, b, size)) {
        say(mon, "error: cannot write %08x (not mapped, or not RAM)\n", addr);
        return false;
    }
    return true;
}

/* set REG VALUE | set REG = VALUE | set {u8|u16|u32}ADDR = VALUE */

static void examine(struct monitor *mon, bool physical, int argc, char **argv, const char *suffix)
{
    int count = 1;
    char format = mon->x_format ? mon->x_format : 'x', unit = mon->x_unit ? mon->x_unit : 'w';
    uint32_t addr = mon->x_next;
    if (suffix && !mon_parse_format(mon, suffix, &count, &format, &unit)) return;
    if (argc > 2) { say(mon, "usage: %s/NFU ADDR  (N count, F x d u c s i, U b h w g)\n", argv[0]); return; }
    if (argc == 2) {
        if (!mon_eval_address(mon, argv[1], &addr)) return;
        mon->x_sel = physical ? -1 : mon->addr_sel;
        mon->x_sel_base = mon->addr_sel_base;
    }
    mon->x_format = format;
    mon->x_unit = unit;
    mon_dump_memory(mon, physical, addr, count, format, unit);
}

void cmd_x(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest) { examine(mon, false, argc, argv, suffix); }
void cmd_xp(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest) { examine(mon, true, argc, argv, suffix); }

void cmd_disas(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    struct x86_state s;
    uint32_t addr, n = 10;
    get_state(mon, &s);
    addr = code_linear(&s);
    if (argc > 3) { say(mon, "usage: disas [ADDR] [N]\n"); return; }
    mon->addr_sel = -1;
    if (argc >= 2 && !mon_eval_address(mon, argv[1], &addr)) return;
    if (argc == 3 && !mon_eval(mon, argv[2], &n)) return;
    if (n == 0 || n > 4096) { say(mon, "error: N must be 1 to 4096\n"); return; }
    mon->x_sel = mon->addr_sel;
    mon->x_sel_base = mon->addr_sel_base;
    mon_dump_memory(mon, false, addr, (int)n, 'i', 'b');
}

void cmd_write(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    bool physical = strcmp(argv[0], "writep") == 0;
    uint32_t a, v, size = 4;
    if (argc < 3 || argc > 4) { say(mon, "usage: %s ADDR VALUE [1|2|4]\n", argv[0]); return; }
    if (!mon_eval_address(mon, argv[1], &a) || !mon_eval(mon, argv[2], &v)) return;
    if (argc == 4 && (!mon_eval(mon, argv[3], &size) || (size != 1 && size != 2 && size != 4))) {
        say(mon, "error: the size is 1, 2 or 4 bytes\n");
        return;
    }
    if (mon_write_value(mon, physical, a, v, size))
        say(mon, "wrote 0x%0*x to %s %08x\n", (int)size * 2, v, physical ? "physical" : "linear", a);
}

void cmd_translate(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    uint32_t a;
    struct x86_state s;
    if (argc != 2) { say(mon, "usage: translate ADDR\n"); return; }
    if (!mon_eval_address(mon, argv[1], &a)) return;
    get_state(mon, &s);
    tables_print_translate(mon->out, mon->engine, &s, a);
}
