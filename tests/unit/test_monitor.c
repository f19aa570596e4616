/*
 * test_monitor.c - the monitor's expression evaluator against C's own
 * arithmetic and precedence (the oracle: the C compiler evaluates the same
 * expression written in C), and its command parser fed random and
 * malformed lines (run under AddressSanitizer by `make asan`): every line
 * must come back with output or one error, never a crash or a hang.
 *
 * The guest is build/guests/hello.elf ($BUILD/guests/hello.elf).
 */
#include <stdlib.h>
#include <unistd.h>

#include "machine/machine.h"
#include "monitor/expr.h"
#include "monitor/monitor.h"
#include "tests/test.h"

static bool eval(const char *text, const struct x86_state *s, uint32_t *v)
{
    char why[160];
    return expr_eval(text, s, NULL, NULL, v, why, sizeof why);
}

TEST(expr_matches_c)
{
    struct x86_state s = { 0 };
    uint32_t v;
    s.regs[R_EAX] = 5;
    s.regs[R_ECX] = 0x12345678;
    s.eip = 0x100010;
    s.seg[SEG_CS].selector = 0x08;
    uint32_t eax = 5, ecx = 0x12345678;
#define SAME(text, cexpr) do { CHECK(eval(text, &s, &v)); CHECK_EQ(v, (uint32_t)(cexpr)); } while (0)
    SAME("1 + 2 * 3", 1 + 2 * 3);
    SAME("(1 + 2) * 3", (1 + 2) * 3);
    SAME("eax == 5", eax == 5);
    SAME("eax == 5 && ecx != 0", eax == 5 && ecx != 0);
    SAME("eax << 4 | 1", eax << 4 | 1);
    SAME("ecx & 0xff00 >> 8", ecx & (0xff00 >> 8));
    SAME("-1", 0xFFFFFFFFu);
    SAME("~0 - eax", ~0u - eax);
    SAME("10 / 3 + 10 % 3", 10 / 3 + 10 % 3);
    SAME("1 < 2 == 1", (1 < 2) == 1);
    SAME("ax", eax & 0xFFFF);
    SAME("ch", (ecx >> 8) & 0xFF);
    SAME("$eip + 2", 0x100012);
    SAME("cs", 8);
    SAME("0b101 ^ 0x3", 5 ^ 3);
    SAME("'A'", 'A');
    SAME("!eax || 0", 0);
#undef SAME
    CHECK(!eval("1 / 0", &s, &v));
    CHECK(!eval("eax +", &s, &v));
    CHECK(!eval("(1", &s, &v));
    CHECK(!eval("[eax]", &s, &v));          /* no engine: memory cannot be read */
    CHECK(!eval("0x123456789", &s, &v));    /* more than 32 bits */
    CHECK(!eval("nosuchreg", &s, &v));
    char deep[400];
    memset(deep, '(', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    CHECK(!eval(deep, &s, &v));             /* bounded nesting, no stack overflow */
}

/* A fresh machine running hello.elf, its engine and runner. */
struct rig {
    struct machine *m;
    struct engine e;
    struct runner r;
    struct options o;
    struct monitor mon;
};

static char kernel_path[4096];

static bool rig_up(struct rig *g, FILE *out)
{
    memset(g, 0, sizeof *g);
    g->o.engine = "emu";
    g->o.machine.kernel = kernel_path;
    g->o.machine.serial = "none";
    g->m = calloc(1, sizeof *g->m);
    if (!g->m || machine_init(g->m, &g->o.machine) < 0) return false;
    if (engine_create(&g->e, "emu", g->m) < 0) return false;
    runner_init(&g->r, &g->e, g->m, &g->o);
    monitor_init(&g->mon, &g->r, out);
    return true;
}

static void rig_down(struct rig *g)
{
    monitor_destroy(&g->mon);
    engine_destroy(&g->e);
    machine_destroy(g->m);
    free(g->m);
}

static const char *const words[] = {
    "step", "s", "next", "n", "c", "continue", "until", "finish", "break", "b", "tbreak", "watch",
    "rwatch", "awatch", "delete", "disable", "enable", "regs", "sregs", "cregs", "set", "print", "p",
    "x", "x/4xw", "x/s", "x/3i", "x/0x", "x/99999b", "x/2g", "xp", "xp/8c", "disas", "write", "writep",
    "info", "gdt", "idt", "ldt", "tss", "pt", "tlb", "fault", "pic", "break", "translate", "stats",
    "display", "display/2xw", "undisplay", "trace", "on", "off", "t.log", "savevm", "loadvm", "s.snap",
    "help", "eax", "esp", "eip", "cs", "cr0", "ax", "al", "[esp]", "[0xffffffff]", "byte[eip]", "=",
    "{u8}0x1000", "{u32}esp", "{u64}0", "if", "==", "&&", "||", "(", ")", "[", "]", "+", "-", "*",
    "/", "%", "0", "1", "5", "0x100000", "0xfffffff0", "0x10:0x20", "f000:fff0", "vector", "io",
    "phys", "0x3f8", "256", "-1", "999999999999", "0x", "'", "$", "$eax", "main", "_start", "#",
    "\t", "x/", "/", "set eax", "quit-not",
};

TEST(parser_survives_random_lines)
{
    const char *build = getenv("BUILD");
    char rel[512];
    snprintf(rel, sizeof rel, "%s/guests/hello.elf", build ? build : "build");
    if (access(rel, R_OK) != 0 || !realpath(rel, kernel_path)) SKIP("build/guests/hello.elf is not built");
    char dir[] = "/tmp/trapeze-monitor-fuzz-XXXXXX";
    char old[4096];
    CHECK(mkdtemp(dir) != NULL);
    CHECK(getcwd(old, sizeof old) != NULL);
    CHECK(chdir(dir) == 0);
    FILE *out = fopen("/dev/null", "w");
    CHECK(out != NULL);
    struct rig g;
    srand(12345);
    int lines = 0;
    for (int round = 0; round < 12 && !test_failed_now; round++) {
        if (!rig_up(&g, out)) { CHECK(!"machine"); break; }
        for (int k = 0; k < 400; k++) {
            char line[1200] = "";
            int n = 1 + rand() % 7;
            for (int w = 0; w < n; w++) {
                if (rand() % 9 == 0) {
                    /* raw bytes, control characters included */
                    size_t len = strlen(line);
                    int nb = 1 + rand() % 12;
                    for (int b = 0; b < nb && len < sizeof line - 2; b++) {
                        char c = (char)(1 + rand() % 255);
                        line[len++] = c;
                    }
                    line[len] = '\0';
                } else {
                    const char *word = words[rand() % (sizeof words / sizeof words[0])];
                    if (strlen(line) + strlen(word) + 2 < sizeof line) {
                        strcat(line, word);
                        if (rand() % 4) strcat(line, " ");
                    }
                }
            }
            /* A `quit` would end nothing here; an endless `continue` is bounded by the guest, which exits. */
            monitor_execute(&g.mon, line);
            g.mon.quit = false;
            lines++;
        }
        /* A line far too long, and one of only separators. */
        char big[5000];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        monitor_execute(&g.mon, big);
        monitor_execute(&g.mon, " \t \t");
        rig_down(&g);
    }
    fclose(out);
    CHECK(chdir(old) == 0);
    CHECK(lines == 12 * 400);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

TEST_MAIN()
