/* What the event generators share (tests/gen.c, tests/faults/fgen.c): a
 * seeded splitmix64, amounts as yuan text, checked number arguments and
 * output files, common options. The includer defines GENUTIL_PROG, the program name its
 * messages start with. */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef GENUTIL_PROG
#error "define GENUTIL_PROG before including genutil.h"
#endif

static uint64_t rng_state;

/* splitmix64: reproducible for a seed (rng_state). */
static inline uint64_t rnd(void)
{
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

/* fen as yuan text: "12", "12.05". */
static inline void yuan(char *buf, size_t len, int64_t fen)
{
        if (fen % 100 == 0)
                snprintf(buf, len, "%" PRId64, fen / 100);
        else
                snprintf(buf, len, "%" PRId64 ".%02" PRId64, fen / 100, fen % 100);
}

/* A non-negative decimal argument; exits 2 with a message otherwise. */
static inline long parse_long(const char *s, const char *what)
{
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || *end || v < 0) {
                fprintf(stderr, GENUTIL_PROG ": bad %s '%s'\n", what, s);
                exit(2);
        }
        return v;
}

/* dir/name opened for writing; exits 1 with a message when it cannot be. */
static inline FILE *open_out_at(const char *dir, const char *name)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "we");
        if (!f) {
                fprintf(stderr, GENUTIL_PROG ": %s: %s\n", path, strerror(errno));
                exit(1);
        }
        return f;
}

/* The options both generators take: -H households, -n events, -s seed,
 * -d duplicates and -b bad messages (per mille), -p household id prefix,
 * -o output folder. False for another option. */
static inline bool common_opt(int c, const char *arg, long *households, long *events, long *dup,
                              long *bad, const char **prefix, const char **dir)
{
        switch (c) {
        case 'H':
                *households = parse_long(arg, "households");
                return true;
        case 'n':
                *events = parse_long(arg, "events");
                return true;
        case 's':
                rng_state = (uint64_t)parse_long(arg, "seed");
                return true;
        case 'd':
                *dup = parse_long(arg, "duplicates");
                return true;
        case 'b':
                *bad = parse_long(arg, "bad");
                return true;
        case 'p':
                *prefix = arg;
                return true;
        case 'o':
                *dir = arg;
                return true;
        }
        return false;
}
