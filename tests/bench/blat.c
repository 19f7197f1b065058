/* blat: event-to-alert latency (tests/bench/README.md).
 *
 *   blat -b BROKERS -L SENDLOG -o OUT [-t hearth.alerts] [-r READYFILE] [-i INPUT]...
 *
 * Reads the alert topic from its current end (every partition assigned at
 * its high watermark; READYFILE is written once that is done, so the load
 * may start) and records each alert: household (the key), type, its Kafka
 * timestamp (CreateTime, set by hearthd's producer when it produced the
 * alert) and when blat received it (CLOCK_REALTIME, µs). On SIGTERM or
 * SIGINT it reads on up to the high watermarks of that moment, then joins
 * the alerts with bgen's send log (-L: household and send time of every
 * valid event, in µs): an alert's triggering event is taken as the
 * household's latest event sent before the alert. Two latencies:
 *   received: alert received by a consumer (blat) - event sent (bgen)
 *   created:  alert's CreateTime (ms, +0.5 ms) - event sent
 * Only alerts that events cause are counted (risk.alert.raised, .changed,
 * risk.eliminated); timer outputs (reminders, escalations, overdue visits)
 * are counted apart. With -i, blat also reads those input topics from their
 * end, as a bare consumer would, and gives the broker's own latency floor:
 *   kafka: input event received by blat - its CreateTime (ms, +0.5 ms) Prints key=value lines;
 * OUT.cdf holds the distribution
 * ("fraction received_ms created_ms kafka_ms") for the plot, OUT.points each alert
 * ("seconds since the first event, received_ms") to see latency over time. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bcommon.h"

typedef struct {
        uint32_t household;
        int kind; /* 0 raised, 1 changed, 2 eliminated, 3 other */
        int64_t ts_ms, recv_us;
} Alert;

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

static int kind_of(const rd_kafka_message_t *m)
{
        static const char *const types[] = {"\"type\":\"risk.alert.raised\"",
                                            "\"type\":\"risk.alert.changed\"",
                                            "\"type\":\"risk.eliminated\""};
        for (int i = 0; i < 3; i++)
                if (memmem(m->payload, m->len, types[i], strlen(types[i])))
                        return i;
        return 3;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double q)
{
        if (!n)
                return 0;
        size_t k = (size_t)(q * (double)n + 0.999999);
        if (k < 1)
                k = 1;
        if (k > n)
                k = n;
        return v[k - 1];
}

/* The last of sorted times[0..n) that is <= bound, or -1. */
static int64_t last_at_or_before(const int64_t *times, size_t n, int64_t bound)
{
        size_t lo = 0, hi = n;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (times[mid] <= bound)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo ? times[lo - 1] : -1;
}

static int watermarks(rd_kafka_t *rk, const char *topic, int np, int64_t *hi)
{
        for (int p = 0; p < np; p++) {
                int64_t lo;
                rd_kafka_resp_err_t e =
                    rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi[p], 10000);
                if (e) {
                        fprintf(stderr, "blat: watermarks of %s/%d: %s\n", topic, p,
                                rd_kafka_err2str(e));
                        return -1;
                }
        }
        return 0;
}

/* Adds every partition of topic to parts at its high watermark; returns
 * the partition count (hi, if not NULL, gets the watermarks) or -1. */
static int add_at_end(rd_kafka_t *rk, const char *topic, rd_kafka_topic_partition_list_t *parts,
                      int64_t **hi_out)
{
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        const rd_kafka_metadata_t *md = NULL;
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
        if (err || md->topic_cnt != 1 || md->topics[0].err) {
                fprintf(stderr, "blat: metadata of %s: %s\n", topic,
                        rd_kafka_err2str(err ? err : md->topics[0].err));
                return -1;
        }
        int np = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        int64_t *hi = calloc((size_t)np, sizeof(int64_t));
        if (!hi || watermarks(rk, topic, np, hi) < 0)
                return -1;
        for (int p = 0; p < np; p++)
                rd_kafka_topic_partition_list_add(parts, topic, p)->offset = hi[p];
        if (hi_out)
                *hi_out = hi;
        else
                free(hi);
        return np;
}

int main(int argc, char **argv)
{
        const char *brokers = NULL, *topic = "hearth.alerts", *ready = NULL, *sendlog = NULL,
                   *out = NULL, *inputs[8];
        int c, n_inputs = 0;
        while ((c = getopt(argc, argv, "b:t:r:L:o:i:")) >= 0) {
                switch (c) {
                case 'i':
                        if (n_inputs == 8)
                                goto usage;
                        inputs[n_inputs++] = optarg;
                        break;
                case 'b':
                        brokers = optarg;
                        break;
                case 't':
                        topic = optarg;
                        break;
                case 'r':
                        ready = optarg;
                        break;
                case 'L':
                        sendlog = optarg;
                        break;
                case 'o':
                        out = optarg;
                        break;
                default:
                        goto usage;
                }
        }
        if (!brokers || !sendlog || !out)
                goto usage;
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);

        char e[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        const char *props[][2] = {{"bootstrap.servers", brokers},
                                  {"group.id", "hearth-bench-blat"},
                                  {"enable.auto.commit", "false"},
                                  {"fetch.wait.max.ms", "10"},
                                  {"enable.partition.eof", "false"}};
        for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
                if (rd_kafka_conf_set(conf, props[i][0], props[i][1], e, sizeof(e))) {
                        fprintf(stderr, "blat: %s\n", e);
                        return 1;
                }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof(e));
        if (!rk) {
                fprintf(stderr, "blat: %s\n", e);
                return 1;
        }
        rd_kafka_poll_set_consumer(rk);
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(64);
        int64_t *hi = NULL;
        int np = add_at_end(rk, topic, parts, &hi);
        int64_t *pos = np > 0 ? calloc((size_t)np, sizeof(int64_t)) : NULL;
        if (np < 0 || !pos)
                return 1;
        for (int p = 0; p < np; p++)
                pos[p] = hi[p];
        for (int i = 0; i < n_inputs; i++)
                if (add_at_end(rk, inputs[i], parts, NULL) < 0)
                        return 1;
        rd_kafka_resp_err_t err;
        if ((err = rd_kafka_assign(rk, parts))) {
                fprintf(stderr, "blat: assign: %s\n", rd_kafka_err2str(err));
                return 1;
        }
        rd_kafka_topic_partition_list_destroy(parts);
        if (ready) {
                FILE *f = fopen(ready, "we");
                if (f)
                        fclose(f);
        }

        Alert *alerts = NULL;
        size_t n = 0, cap = 0, nk = 0, kcap = 0;
        double *lk = NULL;
        bool draining = false;
        int64_t drain_deadline = 0;
        for (;;) {
                if (stop && !draining) {
                        /* Read on up to the end as it is now. */
                        if (watermarks(rk, topic, np, hi) < 0)
                                return 1;
                        draining = true;
                        drain_deadline = bench_now_us() + 30 * 1000000LL;
                }
                if (draining) {
                        int p = 0;
                        while (p < np && pos[p] >= hi[p])
                                p++;
                        if (p == np)
                                break;
                        if (bench_now_us() > drain_deadline) {
                                fprintf(stderr, "blat: alerts still missing after 30 s\n");
                                break;
                        }
                }
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (!m)
                        continue;
                int64_t now = bench_now_us();
                if (m->err) {
                        fprintf(stderr, "blat: %s\n", rd_kafka_message_errstr(m));
                        rd_kafka_message_destroy(m);
                        continue;
                }
                if (strcmp(rd_kafka_topic_name(m->rkt), topic) != 0) {
                        /* An input event: the broker's own latency. */
                        rd_kafka_timestamp_type_t tt;
                        int64_t ts = rd_kafka_message_timestamp(m, &tt);
                        if (ts > 0) {
                                if (nk == kcap) {
                                        kcap = kcap ? kcap * 2 : 65536;
                                        double *nl = realloc(lk, kcap * sizeof(double));
                                        if (!nl)
                                                return 1;
                                        lk = nl;
                                }
                                double v = (double)(now - ts * 1000 - 500) / 1000.0;
                                lk[nk++] = v < 0 ? 0 : v;
                        }
                        rd_kafka_message_destroy(m);
                        continue;
                }
                if (m->partition >= 0 && m->partition < np)
                        pos[m->partition] = m->offset + 1;
                long h = bench_household_index(m->key, m->key_len);
                if (h >= 0) {
                        if (n == cap) {
                                cap = cap ? cap * 2 : 65536;
                                Alert *na = realloc(alerts, cap * sizeof(Alert));
                                if (!na)
                                        return 1;
                                alerts = na;
                        }
                        rd_kafka_timestamp_type_t tt;
                        int64_t ts = rd_kafka_message_timestamp(m, &tt);
                        alerts[n++] = (Alert){(uint32_t)h, kind_of(m), ts, now};
                }
                rd_kafka_message_destroy(m);
        }
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);

        /* The send log, grouped by household, in send order. */
        FILE *f = fopen(sendlog, "re");
        if (!f) {
                fprintf(stderr, "blat: %s: %s\n", sendlog, strerror(errno));
                return 1;
        }
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        size_t ns = size > 0 ? (size_t)size / sizeof(SendRecord) : 0;
        SendRecord *recs = malloc(ns ? ns * sizeof(SendRecord) : 1);
        if (!recs || fread(recs, sizeof(SendRecord), ns, f) != ns) {
                fprintf(stderr, "blat: cannot read %s\n", sendlog);
                return 1;
        }
        fclose(f);
        uint32_t nh = 0;
        for (size_t i = 0; i < ns; i++)
                if (recs[i].household + 1 > nh)
                        nh = recs[i].household + 1;
        for (size_t i = 0; i < n; i++)
                if (alerts[i].household + 1 > nh)
                        nh = alerts[i].household + 1;
        size_t *start = calloc((size_t)nh + 1, sizeof(size_t));
        size_t *fill = calloc((size_t)nh + 1, sizeof(size_t));
        int64_t *times = malloc(ns ? ns * sizeof(int64_t) : 1);
        double *lr = malloc((n ? n : 1) * sizeof(double)),
               *lc = malloc((n ? n : 1) * sizeof(double));
        if (!start || !fill || !times || !lr || !lc)
                return 1;
        for (size_t i = 0; i < ns; i++)
                start[recs[i].household + 1]++;
        for (uint32_t h = 0; h < nh; h++)
                start[h + 1] += start[h];
        for (size_t i = 0; i < ns; i++) {
                uint32_t h = recs[i].household;
                times[start[h] + fill[h]++] = recs[i].sent_us;
        }
        free(recs);

        size_t by_kind[4] = {0}, matched = 0, unmatched = 0, nc = 0;
        double sum_r = 0;
        char path[4096];
        snprintf(path, sizeof(path), "%s.points", out);
        FILE *pts = fopen(path, "we");
        if (!pts) {
                fprintf(stderr, "blat: %s: %s\n", path, strerror(errno));
                return 1;
        }
        int64_t t_first = ns ? times[0] : 0;
        for (size_t i = 0; i < ns; i++)
                if (times[i] < t_first)
                        t_first = times[i];
        for (size_t i = 0; i < n; i++) {
                Alert *a = &alerts[i];
                by_kind[a->kind]++;
                if (a->kind == 3)
                        continue;
                const int64_t *t = times + start[a->household];
                size_t cnt = start[a->household + 1] - start[a->household];
                int64_t s = last_at_or_before(t, cnt, a->recv_us);
                if (s < 0) {
                        unmatched++;
                        continue;
                }
                lr[matched] = (double)(a->recv_us - s) / 1000.0;
                fprintf(pts, "%.3f %.3f\n", (double)(s - t_first) / 1e6, lr[matched]);
                sum_r += lr[matched];
                matched++;
                if (a->ts_ms > 0) {
                        int64_t sc = last_at_or_before(t, cnt, a->ts_ms * 1000 + 999);
                        if (sc >= 0) {
                                double v = (double)(a->ts_ms * 1000 + 500 - sc) / 1000.0;
                                lc[nc++] = v < 0 ? 0 : v;
                        }
                }
        }
        fclose(pts);
        qsort(lr, matched, sizeof(double), cmp_double);
        qsort(lc, nc, sizeof(double), cmp_double);
        if (nk)
                qsort(lk, nk, sizeof(double), cmp_double);
        printf("alerts=%zu\nraised=%zu\nchanged=%zu\neliminated=%zu\ntimer_outputs=%zu\n"
               "events_sent=%zu\nmatched=%zu\nunmatched=%zu\n",
               n, by_kind[0], by_kind[1], by_kind[2], by_kind[3], ns, matched, unmatched);
        printf("received_p50_ms=%.2f\nreceived_p90_ms=%.2f\nreceived_p99_ms=%.2f\n"
               "received_p999_ms=%.2f\nreceived_max_ms=%.2f\nreceived_mean_ms=%.2f\n",
               pct(lr, matched, 0.5), pct(lr, matched, 0.9), pct(lr, matched, 0.99),
               pct(lr, matched, 0.999), matched ? lr[matched - 1] : 0.0,
               matched ? sum_r / (double)matched : 0.0);
        printf("created_p50_ms=%.2f\ncreated_p90_ms=%.2f\ncreated_p99_ms=%.2f\n"
               "created_p999_ms=%.2f\ncreated_max_ms=%.2f\n",
               pct(lc, nc, 0.5), pct(lc, nc, 0.9), pct(lc, nc, 0.99), pct(lc, nc, 0.999),
               nc ? lc[nc - 1] : 0.0);
        if (n_inputs)
                printf("kafka_events=%zu\nkafka_p50_ms=%.2f\nkafka_p90_ms=%.2f\nkafka_p99_ms=%.2f\n"
                       "kafka_p999_ms=%.2f\nkafka_max_ms=%.2f\n",
                       nk, pct(lk, nk, 0.5), pct(lk, nk, 0.9), pct(lk, nk, 0.99),
                       pct(lk, nk, 0.999), nk ? lk[nk - 1] : 0.0);
        snprintf(path, sizeof(path), "%s.cdf", out);
        FILE *cdf = fopen(path, "we");
        if (!cdf) {
                fprintf(stderr, "blat: %s: %s\n", path, strerror(errno));
                return 1;
        }
        fprintf(cdf, "# fraction received_ms created_ms kafka_ms\n");
        for (int i = 1; i < 1000 && (matched || nk); i++) {
                double q = i / 1000.0;
                fprintf(cdf, "%.4f %.3f %.3f %.3f\n", q, pct(lr, matched, q), pct(lc, nc, q),
                        pct(lk, nk, q));
        }
        for (int i = 0; i <= 10 && (matched || nk); i++) {
                double q = 0.999 + i / 10000.0;
                fprintf(cdf, "%.4f %.3f %.3f %.3f\n", q, pct(lr, matched, q), pct(lc, nc, q),
                        pct(lk, nk, q));
        }
        fclose(cdf);
        free(alerts);
        free(start);
        free(fill);
        free(times);
        free(lr);
        free(lc);
        free(lk);
        free(hi);
        free(pos);
        return 0;
usage:
        fprintf(stderr, "usage: blat -b BROKERS -L SENDLOG -o OUT [-t TOPIC] [-r READYFILE] "
                        "[-i INPUT_TOPIC]...\n");
        return 2;
}
