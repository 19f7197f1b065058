/* bdecode: the JSON limit. Reads exactly the messages one bgen run
 * delivered (its -R ranges file) into memory first (not timed), then, on
 * one thread pinned to one core, parses every message with jansson's
 * json_loadb (JSON_REJECT_DUPLICATES, as hearthd's decoder) and frees it,
 * pass after pass until at least MIN_SECONDS have passed.
 *
 *   bdecode -b BROKERS -R RANGES [-m MIN_SECONDS]
 *
 * Prints key=value lines: messages, bytes, passes, invalid (per pass),
 * seconds, msgs_per_s, mb_per_s. */
#include <inttypes.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bcommon.h"

#define USAGE "usage: bdecode -b BROKERS -R RANGES [-m SECONDS]\n"

typedef struct {
        char *data;
        size_t len, cap;
        size_t *off, *lens;
        size_t n, ncap;
        int failed;
} Arena;

static void keep(const rd_kafka_message_t *m, void *ctx)
{
        Arena *a = ctx;
        if (a->failed)
                return;
        if (a->len + m->len > a->cap) {
                size_t cap = a->cap ? a->cap : (1 << 20);
                while (cap < a->len + m->len)
                        cap *= 2;
                char *d = realloc(a->data, cap);
                if (!d) {
                        a->failed = 1;
                        return;
                }
                a->data = d;
                a->cap = cap;
        }
        if (a->n == a->ncap) {
                size_t cap = a->ncap ? a->ncap * 2 : 4096;
                size_t *o = realloc(a->off, cap * sizeof(size_t));
                size_t *l = o ? realloc(a->lens, cap * sizeof(size_t)) : NULL;
                if (o)
                        a->off = o;
                if (!o || !l) {
                        a->failed = 1;
                        return;
                }
                a->lens = l;
                a->ncap = cap;
        }
        if (m->len)
                memcpy(a->data + a->len, m->payload, m->len);
        a->off[a->n] = a->len;
        a->lens[a->n] = m->len;
        a->len += m->len;
        a->n++;
}

int main(int argc, char **argv)
{
        const char *brokers = NULL, *rfile = NULL;
        double min_secs = 1.0;
        int c;
        while ((c = getopt(argc, argv, "b:R:m:")) >= 0) {
                if (c == 'm')
                        min_secs = (double)bench_parse(optarg, "seconds");
                else if (!bench_range_opt(c, optarg, &brokers, &rfile)) {
                        fputs(USAGE, stderr);
                        return 2;
                }
        }
        Range *ranges = NULL;
        int n = bench_ranges_load(brokers, rfile, USAGE, &ranges);
        if (n < 0)
                return n == -2 ? 2 : 1;
        Arena a = {0};
        ReadStats st;
        if (bench_read_ranges(brokers, ranges, n, NULL, keep, &a, &st) < 0 || a.failed) {
                fprintf(stderr, "bdecode: cannot read the messages%s\n",
                        a.failed ? " (out of memory)" : "");
                return 1;
        }
        free(ranges);
        /* One core: the thread stays where it is. */
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &set);
        sched_setaffinity(0, sizeof(set), &set);

        uint64_t passes = 0, invalid = 0, done = 0;
        int64_t t0 = bench_now_us(), t1 = t0;
        do {
                invalid = 0;
                for (size_t i = 0; i < a.n; i++) {
                        json_error_t je;
                        json_t *j =
                            json_loadb(a.data + a.off[i], a.lens[i], JSON_REJECT_DUPLICATES, &je);
                        if (!j)
                                invalid++;
                        json_decref(j);
                }
                passes++;
                done += a.n;
                t1 = bench_now_us();
        } while ((double)(t1 - t0) / 1e6 < min_secs && a.n > 0);
        double secs = (double)(t1 - t0) / 1e6;
        printf("messages=%zu\nbytes=%zu\npasses=%" PRIu64 "\ninvalid=%" PRIu64
               "\nseconds=%.3f\nmsgs_per_s=%.0f\nmb_per_s=%.1f\n",
               a.n, a.len, passes, invalid, secs, secs > 0 ? (double)done / secs : 0.0,
               secs > 0 ? (double)a.len * (double)passes / secs / 1e6 : 0.0);
        free(a.data);
        free(a.off);
        free(a.lens);
        return 0;
}
