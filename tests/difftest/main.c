/*
 * main.c - the differential test's driver.
 *
 *   difftest               fixed seed, DT_CASES cases per opcode (make test)
 *   difftest --sweep       random seed (printed), 50 times the cases (make sweep)
 *   difftest --seed N      this seed
 *   difftest --cases N     N cases per opcode (and N/2 per instruction of
 *                          the paging pass)
 *   difftest --only NAME   one opcode: its test name, handler name or hex
 *                          (e.g. difftest_0fa3_bt_EvGv, bt_EvGv, 0fa3, a3);
 *                          "paging" for the paging pass (paging.c), or one
 *                          of its tests (difftest_paging_push_r32, push_r32)
 *   difftest --list        the excluded opcodes and forms, with reasons
 *   difftest --trace       print every case's bytes before running it
 *                          (to find a case that crashes an emulator)
 *
 * Output (tests/test.h style): one line per opcode,
 *   PASS difftest_00_alu_EbGb (4000 cases, 12 faults)
 *   FAIL difftest_0fbc_bsf_GvEv: 3 of 4000 cases differ
 * with the first differing case in full above a FAIL line, then
 *   PASS difftest_coverage (N opcodes tested, M excluded)
 * which fails when an opcode of the decode table has no generator and no
 * exclusion.  Cases alternate over the four operand/address-size pairs, so
 * each opcode gets DT_CASES/2 cases with 16- and with 32-bit operands.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cpu/cpu.h"
#include "tests/difftest/difftest.h"

#define DT_CASES 4000          /* per opcode, default run */
#define DT_SWEEP_FACTOR 50
#define DT_DEFAULT_SEED 0x7472617065ull   /* "trape" */
#define DT_MAX_REPORTED_DIFFS 12
#define DT_PAGING_DIVISOR 2    /* paging cases per instruction: the opcodes' / 2 */

bool dt_trace;

static const char *const reg_names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
static const char *const seg_names[DT_NSEG] = { "es", "cs", "ss", "ds", "fs", "gs" };

static void test_name(unsigned op, char *buf, size_t n)
{
    if (op < 0x100) snprintf(buf, n, "difftest_%02x_%s", op, x86_opcodes[op].name);
    else snprintf(buf, n, "difftest_0f%02x_%s", op & 0xFF, x86_opcodes[op].name);
}

static bool name_matches(unsigned op, const char *only)
{
    char name[96], hex[8];
    test_name(op, name, sizeof name);
    snprintf(hex, sizeof hex, op < 0x100 ? "%02x" : "0f%02x", op & 0xFF);
    return strcmp(only, name) == 0 || strcmp(only, x86_opcodes[op].name) == 0 ||
           strcasecmp(only, hex) == 0;
}

static void print_regs(const char *label, const struct dt_regs *r)
{
    printf("  %s", label);
    for (int k = 0; k < 8; k++) printf(" %s=%08" PRIx32, reg_names[k], r->gpr[k]);
    printf("\n  %*s eip=%08" PRIx32 " eflags=%08" PRIx32, (int)strlen(label), "", r->eip, r->eflags);
    for (int s = 0; s < DT_NSEG; s++) printf(" %s=%04x", seg_names[s], r->sel[s]);
    printf("\n");
}

static void print_outcome(const char *label, const struct dt_result *r)
{
    if (r->unclassified >= 1000)
        printf("  %s: no exception and no completion: cpu_run exit reason %d\n", label, r->unclassified - 1000);
    else if (r->unclassified)
        printf("  %s: Unicorn error: %s\n", label, dt_unicorn_error(r->unclassified));
    else if (r->vector >= 0)
        printf("  %s: exception %d\n", label, r->vector);
    else
        print_regs(label, &r->out);
}

/* Compare; on a difference write what differs into 'why'. */
static bool same(const struct dt_case *c, const struct dt_result *ref, const struct dt_result *got,
                 char *why, size_t n)
{
    size_t used = 0;
#define WHY(...) do { if (used < n) used += (size_t)snprintf(why + used, n - used, __VA_ARGS__); } while (0)
    why[0] = 0;
    if (got->unclassified) { WHY("trapeze neither completed nor faulted"); return false; }
    if (ref->vector != got->vector) {
        WHY("exception: Unicorn %d, trapeze %d (-1: none)", ref->vector, got->vector);
        return false;
    }
    if (ref->vector >= 0) return true;

    bool ok = true;
    uint32_t undef = dt_undefined_regs(c, ref);
    for (int k = 0; k < 8; k++)
        if (!(undef & (1u << k)) && ref->out.gpr[k] != got->out.gpr[k]) {
            WHY(" %s", reg_names[k]);
            ok = false;
        }
    if (ref->out.eip != got->out.eip) { WHY(" eip"); ok = false; }
    for (int s = 0; s < DT_NSEG; s++)
        if (ref->out.sel[s] != got->out.sel[s]) { WHY(" %s", seg_names[s]); ok = false; }
    uint32_t mask = ~(EFLAGS_ARITH & ~dt_defined_flags(c, ref));
    uint32_t fd = (ref->out.eflags ^ got->out.eflags) & mask;
    if (fd) {
        WHY(" eflags(%s%s%s%s%s%s%s%s)", fd & EFLAGS_CF ? " CF" : "", fd & EFLAGS_PF ? " PF" : "",
            fd & EFLAGS_AF ? " AF" : "", fd & EFLAGS_ZF ? " ZF" : "", fd & EFLAGS_SF ? " SF" : "",
            fd & EFLAGS_OF ? " OF" : "", fd & EFLAGS_DF ? " DF" : "",
            fd & ~(uint32_t)(EFLAGS_ARITH | EFLAGS_DF) ? " other" : "");
        ok = false;
    }
    if (memcmp(ref->mem, got->mem, DT_MEM_SIZE) != 0) {
        int shown = 0;
        WHY(" memory:");
        for (uint32_t a = 0; a < DT_MEM_SIZE; a++)
            if (ref->mem[a] != got->mem[a] && shown++ < 8)
                WHY(" [%04" PRIx32 "] in %02x ref %02x got %02x;", a, c->mem[a], ref->mem[a], got->mem[a]);
        ok = false;
    }
    if (!ok) WHY(" (compared flags %08" PRIx32 ")", mask & EFLAGS_ARITH);
    return ok;
#undef WHY
}

static void print_case(const struct dt_case *c, const struct dt_result *ref, const struct dt_result *got,
                       const char *why)
{
    printf("  bytes:");
    for (unsigned k = 0; k < c->len; k++) printf(" %02x", c->code[k]);
    printf("   (operand size %d, address size %d%s)\n", c->os32 ? 32 : 16, c->as32 ? 32 : 16,
           c->rep ? ", REP" : "");
    print_regs("in: ", &c->in);
    printf("  %s at %04" PRIx32 ": in", c->has_mem ? "memory operand" : "stack", c->ea);
    for (uint32_t k = 0; k < 8 && c->ea + k < DT_MEM_SIZE; k++) printf(" %02x", c->mem[c->ea + k]);
    if (ref->vector < 0 && !ref->unclassified) {
        printf("  ref");
        for (uint32_t k = 0; k < 8 && c->ea + k < DT_MEM_SIZE; k++) printf(" %02x", ref->mem[c->ea + k]);
    }
    if (got->vector < 0 && !got->unclassified) {
        printf("  got");
        for (uint32_t k = 0; k < 8 && c->ea + k < DT_MEM_SIZE; k++) printf(" %02x", got->mem[c->ea + k]);
    }
    printf("\n");
    print_outcome("ref:", ref);
    print_outcome("got:", got);
    printf("  differs:%s\n", why);
}

/* Run one opcode's cases; prints its PASS/FAIL line.  Returns 1 on FAIL. */
static int test_opcode(unsigned op, uint64_t seed, unsigned ncases)
{
    static struct dt_case c;
    static struct dt_result ref, got;
    char name[96], why[1024];
    uint64_t rng = seed ^ ((uint64_t)(op + 1) * 0x9E3779B97F4A7C15ull);
    unsigned faults = 0, skipped = 0, differ = 0, first_skip = 0;

    test_name(op, name, sizeof name);
    for (unsigned i = 0; i < ncases; i++) {
        dt_gen_case(&c, op, i & 3, &rng);
        if (dt_trace) {
            printf("  case %u:", i);
            for (unsigned k = 0; k < c.len; k++) printf(" %02x", c.code[k]);
            printf("\n");
            fflush(stdout);
        }
        dt_unicorn_run(&c, &ref);
        if (ref.unclassified) {
            if (dt_trace) print_case(&c, &ref, &ref, " (not comparable)");
            if (!skipped++) first_skip = (unsigned)ref.unclassified;
            continue;
        }
        dt_trapeze_run(&c, &got);
        if (!same(&c, &ref, &got, why, sizeof why)) {
            if (!differ++) {
                printf("  %s: case %u differs\n", name, i);
                print_case(&c, &ref, &got, why);
            }
            if (differ >= DT_MAX_REPORTED_DIFFS * 10) break;
            continue;
        }
        if (ref.vector >= 0) faults++;
    }
    if (differ) {
        printf("FAIL %s: %u cases differ (first shown above)\n", name, differ);
        fflush(stdout);
        return 1;
    }
    /* A generator whose cases Unicorn mostly cannot run tests nothing. */
    if (skipped * 4 > ncases) {
        printf("FAIL %s: Unicorn could not run %u of %u cases (%s)\n", name, skipped, ncases,
               dt_unicorn_error((int)first_skip));
        return 1;
    }
    printf("PASS %s (%u cases, %u faults", name, ncases - skipped, faults);
    if (skipped) printf(", %u not comparable: %s", skipped, dt_unicorn_error((int)first_skip));
    printf(")\n");
    fflush(stdout);
    return 0;
}

/* Every table opcode has a generator or a reasoned exclusion, not both. */
static int coverage(bool list)
{
    unsigned tested = 0, excluded = 0, bad = 0;
    for (unsigned op = 0; op < 512; op++) {
        const struct opcode_info *info = &x86_opcodes[op];
        if (!info->exec || (info->decode & D_PREFIX)) continue;
        char name[96];
        test_name(op, name, sizeof name);
        bool gen = dt_gen_covers(op);
        const char *why = dt_excluded(op);
        if (gen && why) {
            printf("  coverage: %s has a generator and an exclusion (%s)\n", name, why);
            bad++;
        } else if (!gen && !why) {
            printf("  coverage: %s has no case generator and no exclusion\n", name);
            bad++;
        } else if (why) {
            excluded++;
            if (list) printf("  excluded %s: %s\n", name, why);
        } else {
            tested++;
        }
    }
    if (bad) {
        printf("FAIL difftest_coverage: %u opcodes of the table untested and not excluded\n", bad);
        return 1;
    }
    printf("PASS difftest_coverage (%u opcodes tested, %u excluded%s)\n", tested, excluded,
           list ? "" : "; --list shows why");
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: difftest [--sweep] [--seed N] [--cases N] [--only NAME] [--list] [--trace]\n");
}

int main(int argc, char **argv)
{
    uint64_t seed = DT_DEFAULT_SEED;
    unsigned ncases = DT_CASES;
    bool sweep = false, seed_given = false, list = false;
    const char *only = NULL;

    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--sweep") == 0) sweep = true;
        else if (strcmp(argv[k], "--list") == 0) list = true;
        else if (strcmp(argv[k], "--trace") == 0) dt_trace = true;
        else if (strcmp(argv[k], "--seed") == 0 && k + 1 < argc) {
            seed = strtoull(argv[++k], NULL, 0);
            seed_given = true;
        } else if (strcmp(argv[k], "--cases") == 0 && k + 1 < argc) {
            ncases = (unsigned)strtoul(argv[++k], NULL, 0);
        } else if (strcmp(argv[k], "--only") == 0 && k + 1 < argc) {
            only = argv[++k];
        } else {
            usage();
            return 2;
        }
    }
    if (sweep) {
        ncases *= DT_SWEEP_FACTOR;
        if (!seed_given) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            seed = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec;
        }
    }
    printf("difftest: seed %" PRIu64 " (rerun with --seed %" PRIu64 "), %u cases per opcode\n",
           seed, seed, ncases);
    if (list) {
        dt_print_partial_exclusions();
        return coverage(true);
    }

    if (dt_unicorn_init() < 0) {
        printf("FAIL difftest: Unicorn could not be set up\n");
        return 1;
    }
    if (dt_trapeze_init() < 0) {
        printf("FAIL difftest: trapeze's CPU could not be set up\n");
        dt_unicorn_destroy();
        return 1;
    }

    int failed = 0, run = 0;
    for (unsigned op = 0; op < 512; op++) {
        const struct opcode_info *info = &x86_opcodes[op];
        if (!info->exec || (info->decode & D_PREFIX)) continue;
        if (!dt_gen_covers(op) || dt_excluded(op)) continue;
        if (only && !name_matches(op, only)) continue;
        failed += test_opcode(op, seed, ncases);
        run++;
    }
    /* Memory operands through paging (paging.c). */
    failed += dt_paging_tests(seed, ncases / DT_PAGING_DIVISOR, only, &run);
    if (only && run == 0) {
        printf("FAIL difftest: no tested opcode matches '%s'\n", only);
        failed++;
    }
    failed += coverage(false);

    dt_trapeze_destroy();
    dt_unicorn_destroy();
    return failed ? 1 : 0;
}
