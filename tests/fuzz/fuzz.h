/*
 * fuzz.h - what a fuzz target defines (tests/fuzz/README.md).
 */
#ifndef TRAPEZE_FUZZ_H
#define TRAPEZE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Once, before the first input (optional: the driver checks it is there). */
void fuzz_init(void) __attribute__((weak));
/* One input: 0 accepted, 1 refused with a line; anything else fails the run. */
int fuzz_one(const uint8_t *data, size_t size);

#endif
