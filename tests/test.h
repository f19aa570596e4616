/*
 * test.h - a tiny unit-test harness (Blink's test/test.h habit).
 *
 *   TEST(name) { CHECK(cond); CHECK_EQ(a, b); ... }
 *   int main(void) { return test_main(); }   -- or TEST_MAIN()
 *
 * Each test prints one line: "PASS name", "FAIL name: file:line: what" or
 * "SKIP name: why".  tests/run.sh adds the lines of every test program up
 * into its closing "N passed, N failed, N skipped".
 */
#ifndef TRAPEZE_TEST_H
#define TRAPEZE_TEST_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct test_case { const char *name; void (*fn)(void); };

#define TEST_MAX 512
extern struct test_case test_cases[TEST_MAX];
extern int test_count;
extern int test_failed_now;   /* set by CHECK in the running test */
extern const char *test_skip_why;

#define TEST(name) \
    static void test_##name(void); \
    __attribute__((constructor)) static void test_register_##name(void) \
    { if (test_count < TEST_MAX) test_cases[test_count++] = (struct test_case){ #name, test_##name }; } \
    static void test_##name(void)

#define CHECK(cond) do { if (!(cond)) { \
    printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); test_failed_now = 1; } } while (0)

#define CHECK_EQ(a, b) do { uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b); if (a_ != b_) { \
    printf("  %s:%d: %s == %s failed: 0x%" PRIx64 " != 0x%" PRIx64 "\n", __FILE__, __LINE__, #a, #b, a_, b_); \
    test_failed_now = 1; } } while (0)

#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); if (strcmp(a_, b_) != 0) { \
    printf("  %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, a_, b_); test_failed_now = 1; } } while (0)

/*
 * A temporary disk image for tests of the drives: 'path' is a mkstemp
 * template ("/tmp/trapeze-...-XXXXXX", rewritten to the file's name); the
 * file gets 'sectors' 512-byte sectors, byte i of sector k being byte(k, i).
 * Returns 0, or -1 (nothing left open).  The test unlinks the file.
 */
static inline int test_make_image(char *path, uint32_t sectors, uint8_t (*byte)(uint32_t sector, uint32_t i))
{
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    uint8_t buf[512];
    for (uint32_t k = 0; k < sectors; k++) {
        for (uint32_t i = 0; i < 512; i++) buf[i] = byte(k, i);
        if (write(fd, buf, 512) != 512) { close(fd); return -1; }
    }
    close(fd);
    return 0;
}

/* Mark the running test skipped, with a reason, and return from it. */
#define SKIP(why) do { test_skip_why = (why); return; } while (0)

#define TEST_MAIN() \
    struct test_case test_cases[TEST_MAX]; int test_count; int test_failed_now; const char *test_skip_why; \
    int main(int argc, char **argv) { return test_main(argc, argv); }

static inline int test_main(int argc, char **argv)
{
    int failed = 0;
    const char *only = argc > 1 ? argv[1] : NULL;
    for (int t = 0; t < test_count; t++) {
        if (only && strcmp(only, test_cases[t].name) != 0) continue;
        test_failed_now = 0;
        test_skip_why = NULL;
        test_cases[t].fn();
        if (test_failed_now) { printf("FAIL %s\n", test_cases[t].name); failed++; }
        else if (test_skip_why) printf("SKIP %s: %s\n", test_cases[t].name, test_skip_why);
        else printf("PASS %s\n", test_cases[t].name);
    }
    fflush(stdout);
    return failed ? 1 : 0;
}

#endif
