#include "bcommon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t bench_now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long bench_parse(const char *s, const char *what)
{
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s || *end || v < 0) {
                fprintf(stderr, "bad %s '%s'\n", what, s);
                exit(2);
        }
        return v;
}

long bench_household_index(const char *key, size_t len)
{
        size_t pl = strlen(BENCH_HH_PREFIX);
        if (!key || len != pl + BENCH_HH_DIGITS || memcmp(key, BENCH_HH_PREFIX, pl) != 0)
                return -1;
        long v = 0;
        for (size_t i = pl; i < len; i++) {
                if (key[i] < '0' || key[i] > '9')
                        return -1;
                v = v * 10 + (key[i] - '0');
        }
        return v;
}

bool bench_range_opt(int c, const char *arg, const char **brokers, const char **rfile)
{
        if (c == 'b')
                *brokers = arg;
        else if (c == 'R')
                *rfile = arg;
        return c == 'b' || c == 'R';
}

int bench_ranges_load(const char *brokers, const char *rfile, const char *usage, Range **ranges)
{
        if (!brokers || !rfile) {
                fputs(usage, stderr);
                return -2;
        }
        return bench_ranges_read(rfile, ranges);
}

int bench_ranges_read(const char *file, Range **ranges)
{
        FILE *f = fopen(file, "re");
        if (!f) {
                fprintf(stderr, "%s: %s\n", file, strerror(errno));
                return -1;
        }
        int n = 0, cap = 0;
        Range *r = NULL;
        char line[512];
        while (fgets(line, sizeof(line), f)) {
                Range x = {0};
                long long p, a, b;
                if (sscanf(line, "%127s %lld %lld %lld", x.topic, &p, &a, &b) != 4)
                        continue;
                x.partition = (int32_t)p;
                x.first = a;
                x.last = b;
                if (n == cap) {
                        cap = cap ? cap * 2 : 64;
                        Range *nr = realloc(r, (size_t)cap * sizeof(Range));
                        if (!nr) {
                                free(r);
                                fclose(f);
                                return -1;
                        }
                        r = nr;
                }
                r[n++] = x;
        }
        fclose(f);
        *ranges = r;
        return n;
}

static int conf_set(rd_kafka_conf_t *c, const char *k, const char *v)
{
        char e[512];
        if (rd_kafka_conf_set(c, k, v, e, sizeof(e)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "librdkafka %s=%s: %s\n", k, v, e);
                return -1;
        }
        return 0;
}

int bench_read_ranges(const char *brokers, const Range *ranges, int n, const char **extra,
                      void (*fn)(const rd_kafka_message_t *m, void *ctx), void *ctx, ReadStats *st)
{
        *st = (ReadStats){0};
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        /* As hearthd's consumer: the mock answers an empty Fetch only when
         * fetch.wait.max.ms expires (tests/README.md). No group: assign. */
        if (conf_set(conf, "bootstrap.servers", brokers) < 0 ||
            conf_set(conf, "group.id", "hearth-bench-reader") < 0 ||
            conf_set(conf, "enable.auto.commit", "false") < 0 ||
            conf_set(conf, "enable.auto.offset.store", "false") < 0 ||
            conf_set(conf, "fetch.wait.max.ms", "10") < 0 ||
            conf_set(conf, "enable.partition.eof", "false") < 0) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        for (const char **p = extra; p && p[0] && p[1]; p += 2)
                if (conf_set(conf, p[0], p[1]) < 0) {
                        rd_kafka_conf_destroy(conf);
                        return -1;
                }
        char e[512];
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof(e));
        if (!rk) {
                fprintf(stderr, "consumer: %s\n", e);
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        rd_kafka_poll_set_consumer(rk);
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
        uint64_t want = 0;
        for (int i = 0; i < n; i++) {
                if (ranges[i].last < ranges[i].first)
                        continue;
                rd_kafka_topic_partition_list_add(parts, ranges[i].topic, ranges[i].partition)
                    ->offset = ranges[i].first;
                want += (uint64_t)(ranges[i].last - ranges[i].first + 1);
        }
        /* Per range: the next offset still expected (messages past last are
         * not counted: another run may have produced after this one). */
        int64_t *next = calloc(n > 0 ? (size_t)n : 1, sizeof(int64_t));
        int ret = -1;
        if (!next)
                goto out;
        for (int i = 0; i < n; i++)
                next[i] = ranges[i].first;
        rd_kafka_resp_err_t err = rd_kafka_assign(rk, parts);
        if (err) {
                fprintf(stderr, "assign: %s\n", rd_kafka_err2str(err));
                goto out;
        }
        int64_t idle_since = bench_now_us();
        while (st->msgs < want) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                int64_t now = bench_now_us();
                if (!m) {
                        if (now - idle_since > 30 * 1000000LL) {
                                fprintf(stderr,
                                        "reader: nothing for 30 s, %llu of %llu messages read\n",
                                        (unsigned long long)st->msgs, (unsigned long long)want);
                                goto out;
                        }
                        continue;
                }
                idle_since = now;
                if (m->err) {
                        rd_kafka_resp_err_t me = m->err;
                        fprintf(stderr, "reader: %s\n", rd_kafka_message_errstr(m));
                        rd_kafka_message_destroy(m);
                        if (me == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)
                                goto out;
                        continue;
                }
                const char *t = rd_kafka_topic_name(m->rkt);
                for (int i = 0; i < n; i++) {
                        if (ranges[i].partition != m->partition || strcmp(ranges[i].topic, t))
                                continue;
                        if (m->offset >= next[i] && m->offset <= ranges[i].last) {
                                if (!st->msgs)
                                        st->first_us = now;
                                st->last_us = now;
                                st->msgs++;
                                st->bytes += m->len + m->key_len;
                                next[i] = m->offset + 1;
                                if (fn)
                                        fn(m, ctx);
                        }
                        break;
                }
                rd_kafka_message_destroy(m);
        }
        ret = 0;
out:
        free(next);
        rd_kafka_topic_partition_list_destroy(parts);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return ret;
}
