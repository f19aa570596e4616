/*
 * test_kvm_migrate.c - a guest moved between engines mid-run, through the
 * engine API and the machine's snapshot (what savevm/loadvm do):
 *
 *   emu: 2,500 instructions of guests/pmode       get_state + machine_save
 *   kvm: new machine, machine_load + set_state,   2,500 single steps
 *        then get_state + machine_save
 *   emu: new machine, machine_load + set_state,   run to the end
 *
 * The oracle: the three machines' COM1 output, joined, is the text of a
 * passing pmode run as tests/guests/pmode.sh spells it out (and as QEMU
 * prints it), and the guest ends on isa-debug-exit with its pass value
 * 0x10 - the same as an uninterrupted run.  A second test goes the other
 * way round: kvm first, then emu.  SKIP (with the reason) without /dev/kvm.
 */
#include "tests/test.h"

#include <stdlib.h>
#include <unistd.h>

#include "machine/machine.h"
#include "base/snapshot.h"
#include "vmm/engine.h"

/* guests/pmode.asm's output when every check passes (tests/guests/pmode.sh). */
static const char pmode_want[] =
    "pmode: protected-mode checks\r\n"
    "ok de-divide-by-zero\r\nok ud-ud2\r\nok gp-bad-selector\r\nok np-not-present-segment\r\n"
    "ok bp-int3\r\nok call-gate-ring0\r\nok iret-to-ring3\r\nhello from ring 3 through int 0x80\r\n"
    "ok syscall-int80-tss-esp0\r\nok gp-cli-at-ring3\r\nok gp-io-at-ring3\r\nok gp-dpl0-data-at-ring3\r\n"
    "ok gp-int-dpl0-gate\r\nok call-gate-ring3-to-ring0\r\nok df-task-gate\r\n"
    "pmode: all 14 checks passed\r\n";

static char kernel_path[512];
static char dir[64];

static const char *no_kvm(void)
{
    if (access("/dev/kvm", F_OK) != 0)
        return "/dev/kvm not found: this host has no KVM (needs VT-x/AMD-V and kvm-intel/kvm-amd)";
    if (access("/dev/kvm", R_OK | W_OK) != 0)
        return "/dev/kvm is not readable and writable by this user";
    return NULL;
}

/* A machine booting pmode.elf with COM1 into DIR/serialN. */
static struct machine *new_machine(int n)
{
    static char serial[8][128];
    struct machine_config c = { 0 };
    const char *build = getenv("BUILD");
    snprintf(kernel_path, sizeof kernel_path, "%s/guests/pmode.elf", build ? build : "build");
    snprintf(serial[n], sizeof serial[n], "file:%s/serial%d", dir, n);
    c.kernel = kernel_path;
    c.serial = serial[n];
    struct machine *m = calloc(1, sizeof *m);
    if (!m || machine_init(m, &c) < 0) {
        free(m);
        return NULL;
    }
    return m;
}

static void free_machine(struct machine *m)
{
    machine_destroy(m);
    free(m);
}

/* Take the guest from engine e on machine m into a snapshot (CPU + board). */
static bool save(struct engine *e, struct machine *m, struct snapshot *s, struct x86_state *cpu)
{
    const char *why = "";
    e->ops->get_state(e, cpu);
    snapshot_init(s);
    return machine_save(m, s, &why) == 0;
}

static bool load(struct engine *e, struct machine *m, const struct snapshot *s, const struct x86_state *cpu)
{
    struct snapshot_check c = { .apply = true };
    if (machine_load(m, s, NULL, &c) < 0) {
        printf("  machine_load: %s\n", c.why);
        return false;
    }
    e->ops->set_state(e, cpu);
    return true;
}

/* Run until the machine stops or the engine has something else to say. */
static struct engine_exit run_to_end(struct engine *e, struct machine *m)
{
    struct engine_exit x = { .reason = ENGINE_EXIT_BUDGET };
    for (int i = 0; i < 100000 && m->stop_reason == MACHINE_RUNNING; i++) {
        x = e->ops->run(e, 1000000);
        if (x.reason != ENGINE_EXIT_BUDGET && x.reason != ENGINE_EXIT_REQUEST) break;
        machine_poll(m);
    }
    return x;
}

/* One leg: 'steps' single steps (kvm) or a budget of instructions (emu). */
static bool leg(struct engine *e, struct machine *m, bool by_steps, uint64_t n)
{
    if (!by_steps) {
        struct engine_exit x = e->ops->run(e, n);
        return x.reason == ENGINE_EXIT_BUDGET || m->stop_reason != MACHINE_RUNNING;
    }
    for (uint64_t i = 0; i < n && m->stop_reason == MACHINE_RUNNING; i++) {
        struct engine_exit x = e->ops->step(e);
        if (x.reason != ENGINE_EXIT_STEP && m->stop_reason == MACHINE_RUNNING) {
            printf("  step %llu: exit %d %s\n", (unsigned long long)i, x.reason, x.message ? x.message : "");
            return false;
        }
    }
    return true;
}

static void read_serial(int n, char *buf, size_t *len, size_t cap)
{
    char path[128];
    snprintf(path, sizeof path, "%s/serial%d", dir, n);
    FILE *f = fopen(path, "rb");
    if (!f) return;
    *len += fread(buf + *len, 1, cap - 1 - *len, f);
    buf[*len] = 0;
    fclose(f);
}

/* engines[0] runs first, engines[1] second, engines[2] to the end. */
static void migrate(const char *const engines[3])
{
    struct engine e;
    struct snapshot s;
    struct x86_state cpu;
    struct machine *m;
    bool ok = true;
    int debug_exit = -1;

    snprintf(dir, sizeof dir, "/tmp/trapeze-migrate-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    for (int legno = 0; legno < 3 && ok; legno++) {
        m = new_machine(legno);
        CHECK(m != NULL);
        if (!m) return;
        if (engine_create(&e, engines[legno], m) < 0) {
            CHECK(!"engine_create");
            free_machine(m);
            return;
        }
        if (legno > 0) {
            ok = load(&e, m, &s, &cpu);
            snapshot_free(&s);
            CHECK(ok);
        }
        if (ok && legno < 2) {
            bool kvm = engines[legno][0] == 'k';
            ok = leg(&e, m, kvm, 2500);   /* pmode runs 8,938 instructions in all */
            CHECK(ok);
            CHECK_EQ(m->stop_reason, MACHINE_RUNNING);   /* the guest is not done yet */
            ok = ok && save(&e, m, &s, &cpu);
        } else if (ok) {
            struct engine_exit x = run_to_end(&e, m);
            if (x.reason == ENGINE_EXIT_ERROR) printf("  %s\n", x.message);
            CHECK_EQ(m->stop_reason, MACHINE_DEBUG_EXIT);
            debug_exit = m->debug_exit_value;
        }
        engine_destroy(&e);
        free_machine(m);
    }
    CHECK_EQ(debug_exit, 0x10);
    static char out[8192];
    size_t len = 0;
    for (int i = 0; i < 3; i++) read_serial(i, out, &len, sizeof out);
    CHECK_STR(out, pmode_want);
    for (int i = 0; i < 3; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/serial%d", dir, i);
        unlink(path);
    }
    rmdir(dir);
}

TEST(pmode_emu_kvm_emu)
{
    const char *why = no_kvm();
    if (why) SKIP(why);
    static const char *const engines[3] = { "emu", "kvm", "emu" };
    migrate(engines);
}

TEST(pmode_kvm_emu_kvm)
{
    const char *why = no_kvm();
    if (why) SKIP(why);
    static const char *const engines[3] = { "kvm", "emu", "kvm" };
    migrate(engines);
}

/* The same machinery with emu alone: proves the harness (and savevm of the
   board) on every host, so a kvm failure points at the kvm engine. */
TEST(pmode_emu_emu_emu)
{
    static const char *const engines[3] = { "emu", "emu", "emu" };
    migrate(engines);
}

TEST_MAIN()
