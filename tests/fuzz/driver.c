/*
 * driver.c - a small mutation fuzzer (tests/fuzz/README.md).
 *
 *   fuzz_NAME SEEDS_DIR... SECONDS      damage the seeds for SECONDS seconds
 *   fuzz_NAME SEEDS_DIR... -n N         N inputs (reproducible with FUZZ_SEED)
 *   fuzz_NAME FILE                      one input as it is (replay a crash)
 *
 * Each input is a seed with 1 to 8 mutations (bit flips, edge bytes and
 * words, inserted, deleted and duplicated runs, truncation), handed to the
 * target's fuzz_one in this process.  Before each call the input is written
 * to FUZZ_LAST (default build-asan/tests/fuzz/last-input-NAME), so the
 * input that crashed is on disk when the sanitizer ends the process.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tests/fuzz/fuzz.h"

#define MAX_SEEDS 64
#define FUZZ_MAX_INPUT (64u << 20)

struct seed { uint8_t *data; size_t size; };

static uint64_t rng_state;
/* xorshift64*: enough randomness for mutations, repeatable from FUZZ_SEED. */
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}
static size_t below(size_t n) { return n ? (size_t)(rng() % n) : 0; }

static int read_file(const char *path, struct seed *s)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -errno;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > FUZZ_MAX_INPUT) {
        fclose(f);
        return -EINVAL;
    }
    s->size = (size_t)st.st_size;
    s->data = malloc(s->size + 1);
    if (!s->data || fread(s->data, 1, s->size, f) != s->size) {
        free(s->data);
        fclose(f);
        return -EIO;
    }
    fclose(f);
    return 0;
}

static int add_seeds(const char *dir, struct seed *seeds, int *count)
{
    DIR *d = opendir(dir);
    if (!d) return -errno;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) && *count < MAX_SEEDS) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (read_file(path, &seeds[*count]) == 0) (*count)++;
    }
    closedir(d);
    return 0;
}

/* One mutation of buf[0..*n) (capacity cap). */
static void mutate_once(uint8_t *buf, size_t *n, size_t cap, size_t seed_size)
{
    static const uint8_t edge8[] = { 0x00, 0x01, 0x02, 0x7F, 0x80, 0xFF };
    const uint32_t edge32[] = { 0, 1, 2, 0xFFFFFFFFu, 0x7FFFFFFFu, 0x80000000u, (uint32_t)seed_size, 0x10000u };
    size_t len = *n;
    switch (below(len ? 8 : 1) + (len ? 0 : 4)) {
    case 0: buf[below(len)] ^= (uint8_t)(1u << below(8)); break;                     /* flip a bit */
    case 1: buf[below(len)] = edge8[below(sizeof edge8)]; break;                      /* an edge byte */
    case 2: buf[below(len)] = (uint8_t)rng(); break;                                  /* a random byte */
    case 3:                                                                           /* an edge word */
        if (len >= 4) { uint32_t v = edge32[below(8)]; memcpy(buf + below(len - 3), &v, rng() & 1 ? 4 : 2); }
        break;
    case 4: {                                                                         /* insert a run */
        size_t k = 1 + below(16), at = below(len + 1);
        if (len + k > cap) break;
        memmove(buf + at + k, buf + at, len - at);
        for (size_t i = 0; i < k; i++) buf[at + i] = (uint8_t)rng();
        *n = len + k;
        break;
    }
    case 5: {                                                                         /* delete a run */
        if (!len) break;
        size_t at = below(len), k = 1 + below(len - at < 64 ? len - at : 64);
        memmove(buf + at, buf + at + k, len - at - k);
        *n = len - k;
        break;
    }
    case 6: {                                                                         /* duplicate a run */
        if (!len) break;
        size_t from = below(len), k = 1 + below(len - from < 32 ? len - from : 32), at = below(len + 1);
        size_t tail = len - at;
        if (len + k > cap || at > len || tail > FUZZ_MAX_INPUT) break;
        memmove(buf + at + k, buf + at, tail);
        memmove(buf + at, buf + (from >= at ? from + k : from), k);
        *n = len + k;
        break;
    }
    default: *n = below(len); break;                                                  /* truncate */
    }
}

static void save_input(const char *path, const uint8_t *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(d, 1, n, f);
    fclose(f);
}

int main(int argc, char **argv)
{
    const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    if (argc < 2) {
        fprintf(stderr, "usage: %s SEEDS_DIR... SECONDS | SEEDS_DIR... -n N | FILE\n", name);
        return 2;
    }
    if (fuzz_init) fuzz_init();
    struct stat st;
    if (argc == 2 && stat(argv[1], &st) == 0 && S_ISREG(st.st_mode)) {
        struct seed one;
        if (read_file(argv[1], &one) < 0) { fprintf(stderr, "%s: cannot read %s\n", name, argv[1]); return 2; }
        int r = fuzz_one(one.data, one.size);
        printf("%s: %s: %s\n", name, argv[1], r == 0 ? "accepted" : r == 1 ? "refused" : "target failed");
        free(one.data);
        return r == 0 || r == 1 ? 0 : 1;
    }
    double seconds = 0;
    long inputs = -1;
    int ndirs = argc - 2;
    if (argc >= 4 && strcmp(argv[argc - 2], "-n") == 0) {
        inputs = strtol(argv[argc - 1], NULL, 10);
        ndirs = argc - 3;
    } else {
        seconds = strtod(argv[argc - 1], NULL);
    }
    if (ndirs < 1 || (inputs < 0 && seconds <= 0)) {
        fprintf(stderr, "%s: the last argument must be SECONDS (> 0) or -n N\n", name);
        return 2;
    }
    struct seed seeds[MAX_SEEDS];
    int nseeds = 0;
    for (int k = 1; k <= ndirs; k++) add_seeds(argv[k], seeds, &nseeds);
    if (!nseeds) { fprintf(stderr, "%s: no seed files in %s\n", name, argv[1]); return 2; }

    const char *env = getenv("FUZZ_SEED");
    rng_state = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
    if (!rng_state) rng_state = 1;
    printf("%s: %d seeds, FUZZ_SEED=%llu\n", name, nseeds, (unsigned long long)rng_state);
    fflush(stdout);
    const char *last = getenv("FUZZ_LAST");

    size_t cap = 0;
    for (int k = 0; k < nseeds; k++) cap = seeds[k].size > cap ? seeds[k].size : cap;
    cap += 4096;
    uint8_t *buf = malloc(cap);
    long tried = 0, accepted = 0, refused = 0, seeds_accepted = 0, unchanged_accepted = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int status = 0;
    for (;; tried++) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        double el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
        if (inputs >= 0 ? tried >= inputs : el >= seconds) break;
        const struct seed *s = &seeds[tried % nseeds];
        size_t n = s->size;
        memcpy(buf, s->data, n);
        bool plain = tried < nseeds;   /* each seed once as it is: it must load */
        if (!plain) {
            int m = 1 + (int)below(8);
            for (int i = 0; i < m; i++) mutate_once(buf, &n, cap, s->size);
        }
        if (last) save_input(last, buf, n);
        bool same = n == s->size && memcmp(buf, s->data, n) == 0;   /* the mutations undid each other */
        int r = fuzz_one(buf, n);
        if (r == 0) { accepted++; if (plain) seeds_accepted++; if (same) unchanged_accepted++; }
        else if (r == 1) refused++;
        else { fprintf(stderr, "%s: fuzz_one returned %d\n", name, r); status = 1; break; }
    }
    clock_gettime(CLOCK_MONOTONIC, &t);
    printf("%s: %ld inputs in %.0f s, 0 crashes, %ld accepted (%ld of them equal to their seed, %ld changed), "
           "%ld refused\n", name, tried, (double)(t.tv_sec - t0.tv_sec), accepted, unchanged_accepted,
           accepted - unchanged_accepted, refused);
    if (seeds_accepted != (tried < nseeds ? tried : nseeds)) {
        printf("%s: a seed as it is was refused: the seeds or the target are broken\n", name);
        status = 1;
    }
    free(buf);
    for (int k = 0; k < nseeds; k++) free(seeds[k].data);
    return status;
}
