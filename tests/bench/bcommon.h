/* Shared by the benchmark programs (tests/bench/README.md): clocks, the
 * household id format, the binary send log, partition ranges and a bare
 * librdkafka reader of those ranges. */
#pragma once

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Household ids: "H3311" + 7 digits (up to 10 million households). */
#define BENCH_HH_PREFIX "H3311"
#define BENCH_HH_DIGITS 7

/* One record of the send log (bgen -L, read by blat): the household
 * index, the event type and when bgen handed the event to librdkafka
 * (CLOCK_REALTIME, microseconds; the Kafka CreateTime is the same instant
 * in milliseconds). */
typedef struct {
        uint32_t household;
        uint32_t type;
        int64_t sent_us;
} SendRecord;

/* "topic partition first last" (inclusive offsets), one line each, as bgen
 * -R writes them: exactly the messages one bgen run delivered. */
typedef struct {
        char topic[128];
        int32_t partition;
        int64_t first, last;
} Range;

int64_t bench_now_us(void);
/* Parses a non-negative integer option or exits 2 naming it. */
long long bench_parse(const char *s, const char *what);
/* The household index of a key "H3311NNNNNNN", or -1. */
long bench_household_index(const char *key, size_t len);

/* Reads FILE into *ranges (malloc'd); returns the count or -1. */
int bench_ranges_read(const char *file, Range **ranges);
/* For the programs that read ranges: -b BROKERS and -R RANGES into *brokers
 * and *rfile; false for another option. */
bool bench_range_opt(int c, const char *arg, const char **brokers, const char **rfile);
/* After the options: the ranges of rfile as bench_ranges_read(); -2 after
 * printing usage when brokers or rfile is missing. */
int bench_ranges_load(const char *brokers, const char *rfile, const char *usage, Range **ranges);

typedef struct {
        uint64_t msgs, bytes;
        int64_t first_us, last_us; /* when the first and the last message arrived */
} ReadStats;

/* Reads every message of the ranges with a plain (group-less, assign-only)
 * librdkafka consumer, calling fn for each, as fast as the broker serves
 * them. extra: NULL-terminated "key", "value" pairs of librdkafka
 * properties. Returns 0, or -1 with a message on stderr. */
int bench_read_ranges(const char *brokers, const Range *ranges, int n, const char **extra,
                      void (*fn)(const rd_kafka_message_t *m, void *ctx), void *ctx, ReadStats *st);
