/*
 * cmd_state.c - the CPU state: regs, sregs, cregs, set, print, and the
 * "registers it changed" line of a step.
 */
#include "monitor/commands.h"

#include "mmu/mmu.h"   /* the CR3 bits cregs names */

static const char *const gpr_names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
static const char *const sreg_names[SEG_COUNT] = { "es", "cs", "ss", "ds", "fs", "gs" };

/* EFLAGS bits by name (SDM Vol. 1 3.4.3). */
void mon_print_flags(FILE *out, uint32_t f)
{
    static const struct { uint32_t bit; const char *name; } names[] = {
        { EFLAGS_ID, "ID" }, { EFLAGS_VIP, "VIP" }, { EFLAGS_VIF, "VIF" }, { EFLAGS_AC, "AC" },
        { EFLAGS_VM, "VM" }, { EFLAGS_RF, "RF" }, { EFLAGS_NT, "NT" }, { EFLAGS_OF, "OF" },
        { EFLAGS_DF, "DF" }, { EFLAGS_IF, "IF" }, { EFLAGS_TF, "TF" }, { EFLAGS_SF, "SF" },
        { EFLAGS_ZF, "ZF" }, { EFLAGS_AF, "AF" }, { EFLAGS_PF, "PF" }, { EFLAGS_CF, "CF" },
    };
    fputc('[', out);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (f & names[k].bit) fprintf(out, " %s", names[k].name);
    fprintf(out, " IOPL=%u ]", (f & EFLAGS_IOPL) >> EFLAGS_IOPL_SHIFT);
}

/* The registers an instruction changed, "    eax 00000001 -> 00000002 ...". */
void mon_print_changes(FILE *out, const struct x86_state *a, const struct x86_state *b, uint32_t next_eip)
{
    bool any = false;
    fputs("   ", out);
    for (int k = 0; k < 8; k++)
        if (a->regs[k] != b->regs[k]) { fprintf(out, " %s %08x -> %08x", gpr_names[k], a->regs[k], b->regs[k]); any = true; }
    if (b->eip != next_eip) { fprintf(out, " eip %08x -> %08x", a->eip, b->eip); any = true; }
    for (int k = 0; k < SEG_COUNT; k++)
        if (a->seg[k].selector != b->seg[k].selector || a->seg[k].base != b->seg[k].base) {
            fprintf(out, " %s %04x -> %04x", sreg_names[k], a->seg[k].selector, b->seg[k].selector);
            any = true;
        }
    if (a->cr0 != b->cr0) { fprintf(out, " cr0 %08x -> %08x", a->cr0, b->cr0); any = true; }
    if (a->cr2 != b->cr2) { fprintf(out, " cr2 %08x -> %08x", a->cr2, b->cr2); any = true; }
    if (a->cr3 != b->cr3) { fprintf(out, " cr3 %08x -> %08x", a->cr3, b->cr3); any = true; }
    if (a->cr4 != b->cr4) { fprintf(out, " cr4 %08x -> %08x", a->cr4, b->cr4); any = true; }
    if (a->gdtr.base != b->gdtr.base || a->gdtr.limit != b->gdtr.limit) {
        fprintf(out, " gdtr %08x:%04x", b->gdtr.base, b->gdtr.limit); any = true;
    }
    if (a->idtr.base != b->idtr.base || a->idtr.limit != b->idtr.limit) {
        fprintf(out, " idtr %08x:%04x", b->idtr.base, b->idtr.limit); any = true;
    }
    if (a->ldtr.selector != b->ldtr.selector) { fprintf(out, " ldtr %04x", b->ldtr.selector); any = true; }
    if (a->tr.selector != b->tr.selector) { fprintf(out, " tr %04x", b->tr.selector); any = true; }
    if (a->cpl != b->cpl) { fprintf(out, " cpl %u -> %u", a->cpl, b->cpl); any = true; }
    if (a->eflags != b->eflags) {
        fprintf(out, " eflags %08x -> %08x ", a->eflags, b->eflags);
        mon_print_flags(out, b->eflags);
        any = true;
    }
    if (!any) fputs(" (no register changed)", out);
    fputc('\n', out);
}

static void print_mode(struct monitor *mon, const struct x86_state *s)
{
    if (!(s->cr0 & CR0_PE)) say(mon, "real mode");
    else if (s->eflags & EFLAGS_VM) say(mon, "virtual-8086 mode, CPL 3");
    else say(mon, "protected mode, %d-bit code, CPL %u", tables_code_bits(s), s->cpl);
    say(mon, ", paging %s, A20 %s%s\n", (s->cr0 & CR0_PG) ? "on" : "off", s->a20_enabled ? "on" : "off",
        s->halted ? ", halted (HLT)" : "");
}

void cmd_regs(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    struct x86_state s;
    get_state(mon, &s);
    say(mon, "eax %08x  ecx %08x  edx %08x  ebx %08x\n", s.regs[R_EAX], s.regs[R_ECX], s.regs[R_EDX], s.regs[R_EBX]);
    say(mon, "esp %08x  ebp %08x  esi %08x  edi %08x\n", s.regs[R_ESP], s.regs[R_EBP], s.regs[R_ESI], s.regs[R_EDI]);
    say(mon, "eip %08x  eflags %08x ", s.eip, s.eflags);
    mon_print_flags(mon->out, s.eflags);
    say(mon, "\ncs %04x  ss %04x  ds %04x  es %04x  fs %04x  gs %04x\n", s.seg[SEG_CS].selector,
        s.seg[SEG_SS].selector, s.seg[SEG_DS].selector, s.seg[SEG_ES].selector, s.seg[SEG_FS].selector,
        s.seg[SEG_GS].selector);
    print_mode(mon, &s);
}

/*
 * A segment register.  In real mode (and vm86) the selector is a paragraph
 * number, base = selector * 16 (SDM Vol. 3A 20.1.1); in protected mode it
 * is an index into the GDT or LDT with an RPL (Vol. 3A 3.4.2).
 */
static void print_selector(struct monitor *mon, const struct x86_state *s, const char *name,
                           const struct x86_segment *sg, bool is_sreg)
{
    bool real = !(s->cr0 & CR0_PE) || (s->eflags & EFLAGS_VM);
    if (real && is_sreg)
        say(mon, "%-4s %04x (real mode)  ", name, sg->selector);
    else
        say(mon, "%-4s %04x (index %u, %s, RPL %u)  ", name, sg->selector, sg->selector >> 3,
            (sg->selector & 4) ? "LDT" : "GDT", sg->selector & 3);
    tables_describe_cache(mon->out, sg);
    say(mon, "\n");
}

void cmd_sregs(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    struct x86_state s;
    get_state(mon, &s);
    for (int k = 0; k < SEG_COUNT; k++) {
        char up[4] = { (char)toupper(sreg_names[k][0]), (char)toupper(sreg_names[k][1]), 0 };
        print_selector(mon, &s, up, &s.seg[k], true);
    }
    print_selector(mon, &s, "LDTR", &s.ldtr, false);
    print_selector(mon, &s, "TR", &s.tr, false);
    say(mon, "GDTR base %08x limit %04x\nIDTR base %08x limit %04x\n", s.gdtr.base, s.gdtr.limit, s.idtr.base, s.idtr.limit);
}

void cmd_cregs(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    struct x86_state s;
    get_state(mon, &s);
    /* CR0 and CR4 bits: SDM Vol. 3A 2.5, figure 2-7. */
    say(mon, "CR0 %08x  PE=%u MP=%u EM=%u TS=%u ET=%u NE=%u WP=%u AM=%u NW=%u CD=%u PG=%u\n", s.cr0,
        !!(s.cr0 & CR0_PE), !!(s.cr0 & CR0_MP), !!(s.cr0 & CR0_EM), !!(s.cr0 & CR0_TS), !!(s.cr0 & CR0_ET),
        !!(s.cr0 & CR0_NE), !!(s.cr0 & CR0_WP), !!(s.cr0 & CR0_AM), !!(s.cr0 & CR0_NW), !!(s.cr0 & CR0_CD),
        !!(s.cr0 & CR0_PG));
    say(mon, "CR2 %08x  (the linear address of the last #PF)\n", s.cr2);
    say(mon, "CR3 %08x  page directory base %08x PWT=%u PCD=%u\n", s.cr3, s.cr3 & PTE_FRAME, !!(s.cr3 & PTE_PWT),
        !!(s.cr3 & PTE_PCD));
    say(mon, "CR4 %08x  VME=%u PVI=%u TSD=%u DE=%u PSE=%u PAE=%u MCE=%u PGE=%u\n", s.cr4,
        !!(s.cr4 & CR4_VME), !!(s.cr4 & CR4_PVI), !!(s.cr4 & CR4_TSD), !!(s.cr4 & CR4_DE), !!(s.cr4 & CR4_PSE),
        !!(s.cr4 & CR4_PAE), !!(s.cr4 & CR4_MCE), !!(s.cr4 & CR4_PGE));
    say(mon, "DR0 %08x DR1 %08x DR2 %08x DR3 %08x DR6 %08x DR7 %08x\n", s.dr[0], s.dr[1], s.dr[2], s.dr[3], s.dr[6], s.dr[7]);
}

void cmd_set(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    const char *usage = "usage: set REG VALUE | set {u8|u16|u32}ADDR = VALUE\n";
    while (isspace((unsigned char)*rest)) rest++;
    if (*rest == '{') {
        unsigned size;
        if (strncmp(rest, "{u8}", 4) == 0) { size = 1; rest += 4; }
        else if (strncmp(rest, "{u16}", 5) == 0) { size = 2; rest += 5; }
        else if (strncmp(rest, "{u32}", 5) == 0) { size = 4; rest += 5; }
        else { say(mon, "%s", usage); return; }
        const char *eq = strchr(rest, '=');
        if (!eq) { say(mon, "%s", usage); return; }
        char addr_text[MON_COND_MAX];
        size_t n = (size_t)(eq - rest);
        if (n >= sizeof addr_text) { say(mon, "error: address too long\n"); return; }
        memcpy(addr_text, rest, n);
        addr_text[n] = '\0';
        uint32_t a, v;
        if (!mon_eval_address(mon, addr_text, &a) || !mon_eval(mon, eq + 1, &v)) return;
        mon_write_value(mon, false, a, v, size);
        return;
    }
    if (argc < 3) { say(mon, "%s", usage); return; }
    const struct expr_reg *r = expr_find_reg(argv[1]);
    if (!r) { say(mon, "error: %s: unknown register\n", argv[1]); return; }
    const char *vtext = strstr(rest, argv[1]) + strlen(argv[1]);
    while (isspace((unsigned char)*vtext)) vtext++;
    if (*vtext == '=') vtext++;
    uint32_t v;
    if (!mon_eval(mon, vtext, &v)) return;
    struct x86_state s;
    get_state(mon, &s);
    switch (r->kind) {
    case EXPR_GPR32: s.regs[r->index] = v; break;
    case EXPR_GPR16: if (v > 0xFFFF) goto too_big; s.regs[r->index] = (s.regs[r->index] & 0xFFFF0000u) | v; break;
    case EXPR_GPR8L: if (v > 0xFF) goto too_big; s.regs[r->index] = (s.regs[r->index] & ~0xFFu) | v; break;
    case EXPR_GPR8H: if (v > 0xFF) goto too_big; s.regs[r->index] = (s.regs[r->index] & ~0xFF00u) | v << 8; break;
    case EXPR_EIP: s.eip = v; break;
    case EXPR_IP: if (v > 0xFFFF) goto too_big; s.eip = v; break;
    case EXPR_EFLAGS: s.eflags = v | EFLAGS_FIXED1; break;
    case EXPR_FLAGS: if (v > 0xFFFF) goto too_big; s.eflags = (s.eflags & 0xFFFF0000u) | v | EFLAGS_FIXED1; break;
    case EXPR_SEG:
        if (v > 0xFFFF) goto too_big;
        if ((s.cr0 & CR0_PE) && !(s.eflags & EFLAGS_VM)) {
            say(mon, "error: in protected mode a selector comes with its descriptor: load %s from the guest "
                     "(set works for segment registers in real and virtual-8086 mode)\n", r->name);
            return;
        }
        /* Real mode: base = selector * 16 (SDM Vol. 3A 20.1.1). */
        s.seg[r->index].selector = (uint16_t)v;
        s.seg[r->index].base = v << 4;
        break;
    case EXPR_CR0: s.cr0 = v; break;
    case EXPR_CR2: s.cr2 = v; break;
    case EXPR_CR3: s.cr3 = v; break;
    case EXPR_CR4: s.cr4 = v; break;
    case EXPR_DR: s.dr[r->index] = v; break;
    case EXPR_CPL: say(mon, "error: CPL follows CS (its RPL); it cannot be set alone\n"); return;
    case EXPR_DTR:
        if ((r->index & 1) && v > 0xFFFF) goto too_big;
        if (r->index == 0) s.gdtr.base = v;
        else if (r->index == 1) s.gdtr.limit = (uint16_t)v;
        else if (r->index == 2) s.idtr.base = v;
        else s.idtr.limit = (uint16_t)v;
        break;
    }
    mon->engine->ops->set_state(mon->engine, &s);
    say(mon, "%s = 0x%08x\n", r->name, v);
    return;
too_big:
    say(mon, "error: 0x%x does not fit in %s\n", v, r->name);
}

void cmd_print(struct monitor *mon, int argc, char **argv, const char *suffix, const char *rest)
{
    uint32_t v;
    while (isspace((unsigned char)*rest)) rest++;
    if (!*rest) { say(mon, "usage: print EXPR\n"); return; }
    if (!mon_eval(mon, rest, &v)) return;
    say(mon, "0x%08x  %u  %d\n", v, v, (int32_t)v);
}
