/*
 * tae_fidelity.c - what deprivileging costs in fidelity, and what traps.
 *
 * x86 is not virtualizable in Popek and Goldberg's sense (Robin & Irvine,
 * USENIX Security 2000): some instructions are sensitive - they read or
 * change state the VMM virtualizes - yet do not trap at CPL > 0.  The
 * hardware CPU reports each one it runs for the deprivileged guest
 * (cpu->sensitive_hook); here each is compared with what the guest's own
 * CPU (the virtual CPU, at the guest's true privilege) would have shown,
 * and counted.  `info fidelity` and -stats print the kinds that differed,
 * each with its first address and what the guest saw:
 *
 *   popf at 0008:00101a2c: IF 0->1 ignored
 *   sgdt at 0008:00101a40: base ffc00000 (VMM), guest's 00105000
 *
 * With the CPU's sensitive_traps switch (-cpu ...,virtualizable=on, as
 * UMIP and VT-x later made them) those instructions fault instead, the
 * virtual CPU runs them, and the report stays empty.
 */
#include <stdio.h>
#include <string.h>

#include "translator/translator.h"
#include "vmm/tae.h"

static struct tae_fidelity_kind *kind_of(struct tae *t, const char *mnemonic)
{
    /* The CPU passes string literals: the pointer finds a kind at once. */
    for (int i = 0; i < t->fidelity_count; i++)
        if (t->fidelity[i].mnemonic == mnemonic) return &t->fidelity[i];
    for (int i = 0; i < t->fidelity_count; i++)
        if (!strcmp(t->fidelity[i].mnemonic, mnemonic)) return &t->fidelity[i];
    if (t->fidelity_count == TAE_FIDELITY_KINDS) return NULL;
    struct tae_fidelity_kind *k = &t->fidelity[t->fidelity_count++];
    memset(k, 0, sizeof *k);
    k->mnemonic = mnemonic;
    return k;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && !strcmp(s + n - m, tail);
}

/* Descriptor checks of LAR, LSL, VERR, VERW at the guest's own CPL (SDM Vol. 2A). */
static bool guest_lar_like(struct tae *t, const char *m, uint16_t sel, uint32_t *value)
{
    const struct x86_state *g = &t->vcpu->s;
    if ((sel & 0xFFFCu) == 0 && !(sel & 4)) return false;
    uint32_t d[2];
    if (!tae_guest_descriptor(t, sel, &d[0], &d[1])) return false;
    uint32_t hi = d[1];
    unsigned type = (hi >> 8) & 0xF, dpl = (hi >> 13) & 3, cpl = g->cpl, rpl = sel & 3;
    bool s = (hi >> 12) & 1, code = s && (type & 8), conforming = code && (type & 4);
    if (!conforming && (dpl < cpl || dpl < rpl)) return false;
    if (!strcmp(m, "lar")) {
        static const bool ok[16] = { [1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1, [9] = 1, [11] = 1, [12] = 1 };
        if (!s && !ok[type]) return false;
        *value = hi & 0x00FFFF00u;
    } else if (!strcmp(m, "lsl")) {
        static const bool ok[16] = { [1] = 1, [2] = 1, [3] = 1, [9] = 1, [11] = 1 };
        if (!s && !ok[type]) return false;
        uint32_t lim = (d[0] & 0xFFFFu) | (hi & 0xF0000u);
        *value = (hi & (1u << 23)) ? (lim << 12) | 0xFFFu : lim;
    } else if (!strcmp(m, "verr")) {
        if (!s || (code && !(type & 2))) return false;
        *value = 1;
    } else {  /* verw */
        if (!s || code || !(type & 2)) return false;
        *value = 1;
    }
    return true;
}

/* Whether the guest's CPU, at CPL 'cpl', loads 'sel' into a data segment register (or SS). */
static bool guest_segment_load_ok(struct tae *t, uint16_t sel, unsigned cpl, bool stack)
{
    if ((sel & 0xFFFCu) == 0 && !(sel & 4)) return !stack;   /* null: fine but for SS */
    uint32_t d[2];
    if (!tae_guest_descriptor(t, sel, &d[0], &d[1])) return false;
    unsigned type = (d[1] >> 8) & 0xF, dpl = (d[1] >> 13) & 3, rpl = sel & 3;
    if (!((d[1] >> 12) & 1)) return false;
    bool code = type & 8;
    if (stack) return !code && (type & 2) && rpl == cpl && dpl == cpl;
    if (code && !(type & 2)) return false;                   /* execute-only */
    if (code && (type & 4)) return true;                     /* conforming: no check */
    return dpl >= cpl && dpl >= rpl;
}

void tae_sensitive_hook(void *opaque, const struct cpu_sensitive *ev)
{
    struct tae *t = opaque;
    /* bt's own sequences (PUSHF/POPF on the virtual flags) are the VMM's. */
    if ((ev->cs == BT_TC_SEL || ev->cs == BT_TC16_SEL) && t->bt) return;
    const struct x86_state *g = &t->vcpu->s;
    struct tae_fidelity_kind *k = kind_of(t, ev->mnemonic);
    if (!k) return;
    k->executed++;

    const char *m = ev->mnemonic;
    unsigned gcpl = ev->cpl == 1 ? 0 : ev->cpl;
    uint32_t vif = g->eflags & EFLAGS_IF, viopl = (g->eflags & EFLAGS_IOPL) >> EFLAGS_IOPL_SHIFT;
    char what[96] = "";
    /* Only the first difference of a kind is described (the report shows
     * it); later ones are only counted, so a hot POPF costs no formatting. */
    bool differs = false, describe = k->differed == 0;
#define SAY(...) (differs = true, describe ? (void)snprintf(what, sizeof what, __VA_ARGS__) : (void)0)

    if (!strcmp(m, "pushf")) {
        uint32_t shown_if = ev->got & EFLAGS_IF, shown_iopl = (ev->got & EFLAGS_IOPL) >> EFLAGS_IOPL_SHIFT;
        if (shown_if != vif || shown_iopl != viopl)
            SAY("IF=%u IOPL=%u shown, guest's IF=%u IOPL=%u",
                     shown_if ? 1 : 0, shown_iopl, vif ? 1 : 0, viopl);
    } else if (!strcmp(m, "popf") || !strcmp(m, "iret")) {
        /* What the guest's own CPU would have loaded (Vol. 2A POPF, IRET). */
        uint32_t want_if = (gcpl <= viopl) ? (ev->wanted & EFLAGS_IF) : vif;
        uint32_t want_iopl = gcpl == 0 ? (ev->wanted & EFLAGS_IOPL) >> EFLAGS_IOPL_SHIFT : viopl;
        if (want_if != vif && want_iopl != viopl)
            SAY("IF %u->%u ignored, IOPL %u->%u ignored", vif ? 1 : 0, want_if ? 1 : 0, viopl, want_iopl);
        else if (want_if != vif)
            SAY("IF %u->%u ignored", vif ? 1 : 0, want_if ? 1 : 0);
        else if (want_iopl != viopl)
            SAY("IOPL %u->%u ignored", viopl, want_iopl);
    } else if (!strcmp(m, "sgdt") || !strcmp(m, "sidt")) {
        uint32_t guest = m[1] == 'g' ? g->gdtr.base : g->idtr.base;
        if (ev->got != guest) SAY("base %08x (VMM), guest's %08x", ev->got, guest);
    } else if (!strcmp(m, "sldt") || !strcmp(m, "str")) {
        uint32_t guest = m[1] == 'l' ? g->ldtr.selector : g->tr.selector;
        if ((ev->got & 0xFFFF) != guest) SAY("%04x shown, guest's %04x", ev->got & 0xFFFF, guest);
    } else if (!strcmp(m, "smsw")) {
        uint32_t guest = g->cr0 & 0xFFFF;
        if ((ev->got & 0xFFFF) != guest) SAY("%04x shown, guest's CR0 %04x", ev->got & 0xFFFF, guest);
    } else if (ends_with(m, " cs") || ends_with(m, " ss")) {
        if ((!strncmp(m, "push", 4) || !strncmp(m, "mov from", 8)) && ev->cpl != gcpl) {
            uint32_t guest = (ev->got & ~3u) | gcpl;
            if ((ev->got & 0xFFFF) != guest)
                SAY("%04x shown (RPL %u), guest's %04x", ev->got & 0xFFFF, ev->cpl, guest);
        }
    } else if (!strcmp(m, "lar") || !strcmp(m, "lsl") || !strcmp(m, "verr") || !strcmp(m, "verw")) {
        uint32_t guest = 0;
        bool guest_ok = guest_lar_like(t, m, ev->selector, &guest);
        bool lar = !strcmp(m, "lar"), lsl = !strcmp(m, "lsl");
        bool got_ok = (lar || lsl) ? ev->wanted != 0 : ev->got != 0;
        /* LAR masks the rights by 00F0FF00 (32-bit) or FF00; LSL keeps 16 bits for a 16-bit operand. */
        if (lar) guest &= 0x00F0FF00u;
        bool same_value = !(lar || lsl) || ev->got == guest ||
                          ev->got == (guest & (lar ? 0xFF00u : 0xFFFFu));
        if (got_ok != guest_ok || (guest_ok && !same_value)) {
            if (!guest_ok) SAY("selector %04x: %08x shown, the guest's check fails", ev->selector, ev->got);
            else if (!got_ok) SAY("selector %04x: check fails, guest's %08x", ev->selector, guest);
            else SAY("selector %04x: %08x shown, guest's %08x", ev->selector, ev->got, guest);
        }
    }
    else if ((!strncmp(m, "mov ", 4) && strncmp(m, "mov from", 8)) || !strncmp(m, "pop ", 4) ||
             (m[0] == 'l' && m[2] == 's' && m[3] == 0)) {
        /* A segment load the guest's CPU would refuse: RPL 1 passes the
         * compressed DPL 1 checks, which a DPL 0 descriptor at CPL 0 does
         * not (SDM Vol. 3A 5.7: max(CPL, RPL) <= DPL for data segments). */
        uint16_t sel = (uint16_t)ev->got;
        bool stack = ends_with(m, "ss");
        if (!guest_segment_load_ok(t, sel, gcpl, stack))
            SAY("selector %04x loaded, the guest's CPU raises #GP", sel);
    }
#undef SAY
    if (!differs) return;
    if (k->differed++ == 0) {
        k->first_cs = (uint16_t)(ev->cpl == 1 ? ev->cs & ~3u : ev->cs);
        k->first_eip = ev->eip;
        snprintf(k->first_what, sizeof k->first_what, "%s", what);
    }
}

void tae_print_fidelity(struct tae *t, FILE *out)
{
    uint64_t runs = 0, differed = 0;
    for (int i = 0; i < t->fidelity_count; i++) {
        runs += t->fidelity[i].executed;
        differed += t->fidelity[i].differed;
    }
    if (!differed) {
        fprintf(out, "fidelity: no difference: %llu sensitive instructions ran deprivileged, "
                     "each showed what hardware would\n", (unsigned long long)runs);
    } else {
        fprintf(out, "fidelity: %llu sensitive instructions ran deprivileged without trapping; "
                     "%llu showed the guest what hardware would not:\n",
                (unsigned long long)runs, (unsigned long long)differed);
        for (int i = 0; i < t->fidelity_count; i++) {
            const struct tae_fidelity_kind *k = &t->fidelity[i];
            if (!k->differed) continue;
            fprintf(out, "  %-12s %8llu of %llu  first: %s at %04x:%08x: %s\n", k->mnemonic,
                    (unsigned long long)k->differed, (unsigned long long)k->executed,
                    k->mnemonic, k->first_cs, k->first_eip, k->first_what);
        }
    }
    bool any = false;
    for (int i = 0; i < t->fidelity_count; i++) {
        const struct tae_fidelity_kind *k = &t->fidelity[i];
        if (k->differed) continue;
        fprintf(out, "%s %s %llu", any ? "," : "  ran deprivileged, seen as on hardware:", k->mnemonic,
                (unsigned long long)k->executed);
        any = true;
    }
    if (any) fputc('\n', out);
}

/* ---------- what traps ---------- */

void tae_count_trap(struct tae *t, const char *name)
{
    int i;
    for (i = 0; i < TAE_TRAP_NAMES && t->trap_names[i].name; i++)
        if (t->trap_names[i].name == name) break;   /* static strings: one pointer per name */
    if (i == TAE_TRAP_NAMES) i = TAE_TRAP_NAMES - 1;   /* the table is full: the last row takes the rest */
    if (!t->trap_names[i].name) t->trap_names[i].name = name;
    t->trap_names[i].count++;
}

struct fetch_ctx { struct cpu *cpu; uint32_t lin; bool bad; uint8_t have; uint8_t bytes[15]; };

/* The instruction's bytes, read once (one walk), byte by byte only near an unmapped page. */
static uint8_t fetch_byte(void *opaque, unsigned pos)
{
    struct fetch_ctx *c = opaque;
    if (!c->have) c->have = cpu_read_linear(c->cpu, c->lin, c->bytes, sizeof c->bytes) ? 1 : 2;
    if (c->have == 1 && pos < sizeof c->bytes) return c->bytes[pos];
    uint8_t b = 0;
    if (!cpu_read_linear(c->cpu, c->lin + pos, &b, 1)) c->bad = true;
    return b;
}

/* The instruction at the guest's CS:EIP, by name (a static string). */
const char *tae_insn_name(struct tae *t)
{
    static const char *const grp6[8] = { "sldt", "str", "lldt", "ltr", "verr", "verw", "grp6", "grp6" };
    static const char *const grp7[8] = { "sgdt", "sidt", "lgdt", "lidt", "smsw", "grp7", "lmsw", "invlpg" };
    static const char *const to_cr[8] = { "mov cr0", "mov cr1", "mov cr2", "mov cr3", "mov cr4", "mov cr5", "mov cr6", "mov cr7" };
    static const char *const from_cr[8] = { "mov from cr0", "mov from cr1", "mov from cr2", "mov from cr3",
                                            "mov from cr4", "mov from cr5", "mov from cr6", "mov from cr7" };
    const struct x86_state *g = &t->vcpu->s;
    struct fetch_ctx c = { .cpu = t->vcpu, .lin = g->seg[SEG_CS].base + g->eip };
    struct x86_insn i;
    if (!x86_decode(&i, cpu_code_bits(t->vcpu) == 32, fetch_byte, &c) || c.bad) return "(unreadable)";
    switch (i.op) {
    case 0xFA: return "cli";
    case 0xFB: return "sti";
    case 0xF4: return "hlt";
    case 0xE4: case 0xE5: case 0xEC: case 0xED: return "in";
    case 0xE6: case 0xE7: case 0xEE: case 0xEF: return "out";
    case 0x6C: case 0x6D: return "ins";
    case 0x6E: case 0x6F: return "outs";
    case 0xCF: return "iret";
    case 0xCA: case 0xCB: return "retf";
    case 0x9A: return "call far";
    case 0xEA: return "jmp far";
    case 0xCD: return "int";
    case 0xCC: return "int3";
    case 0xCE: return "into";
    case 0x9C: return "pushf";
    case 0x9D: return "popf";
    case 0x8E: return "mov sreg";
    case 0x8C: return "mov from sreg";
    case 0x06: case 0x0E: case 0x16: case 0x1E: case 0x1A0: case 0x1A8: return "push sreg";
    case 0x07: case 0x17: case 0x1F: case 0x1A1: case 0x1A9: return "pop sreg";
    case 0xC4: return "les";
    case 0xC5: return "lds";
    case 0x1B2: return "lss";
    case 0x1B4: return "lfs";
    case 0x1B5: return "lgs";
    case 0x100: return grp6[i.reg & 7];
    case 0x101: return grp7[i.reg & 7];
    case 0x102: return "lar";
    case 0x103: return "lsl";
    case 0x106: return "clts";
    case 0x108: return "invd";
    case 0x109: return "wbinvd";
    case 0x120: return from_cr[i.reg & 7];
    case 0x122: return to_cr[i.reg & 7];
    case 0x121: return "mov from dr";
    case 0x123: return "mov dr";
    case 0x130: return "wrmsr";
    case 0x131: return "rdtsc";
    case 0x132: return "rdmsr";
    case 0xFF: return (i.reg == 3) ? "call far" : (i.reg == 5) ? "jmp far" : "ff";
    default:
        return x86_opcodes[i.op].name ? x86_opcodes[i.op].name : "(undefined opcode)";
    }
}

void tae_print_traps(struct tae *t, FILE *out)
{
    for (int i = 0; i < TAE_TRAP_NAMES && t->trap_names[i].name; i++)
        fprintf(out, "    %-16s %llu\n", t->trap_names[i].name, (unsigned long long)t->trap_names[i].count);
}
