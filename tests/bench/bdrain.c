/* bdrain: waits until hearthd has fully drained and says when.
 *
 *   bdrain (-p REDIS_PORT | -c HOST:PORT[,HOST:PORT...]) -n MESSAGES [-g GROUP]
 *          [-x PREFIX] [-P HEARTHD_PID]... [-t TIMEOUT_S] [-i INTERVAL_MS] [-v]
 *
 * Drained means both:
 *   - every offset committed: the positions hearthd keeps in Redis
 *     (HVALS <prefix>:pos:{<group>}, the next offset to read of each input
 *     partition) add up to MESSAGES, the count produced since the topics
 *     were created empty;
 *   - every output delivered: no outbox entry is left, i.e. the outbox
 *     hashes of all households listed in <prefix>:pending:{0..15} are empty
 *     (hearthd deletes an entry when its delivery report confirms it).
 * Then it says how many households of the due-time index <prefix>:timers
 * were due (a time at or before now, ZCOUNT): the work the events made due
 * that hearthd's timer path had not done yet (aid checks, reminders,
 * overdue visits). It does not wait for them: that path takes a bounded
 * number of households a turn by design, so waiting would time its pacing,
 * not its cost (tests/bench/README.md).
 * -p: one Redis on 127.0.0.1, polled on one hiredis connection (the outbox
 * check is one Lua script). -c: a Redis Cluster (seed nodes, as hearthd's
 * redis.cluster), polled through hearth's own client (daemon/redis.h), which
 * sends each command to the master of its key's slot: the pending shards
 * and the outboxes live on different masters, so the check is SMEMBERS of
 * each shard and HLEN of each outbox listed, pipelined.
 * Polls every INTERVAL_MS (default 50), so the polling costs next to
 * nothing. Prints drained_us=<CLOCK_REALTIME µs>, timers_due and positions,
 * and exits 0; exits 1 on timeout or when a HEARTHD_PID (-P, repeated for
 * several instances) is gone. -v: progress on stderr every 10 s. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bcommon.h"
#include "store.h"

#define MAX_PIDS 16
/* HLEN commands per round trip in cluster mode. */
#define OUTBOX_BATCH 512

static const char outbox_lua[] =
    "local n = 0\n"
    "for s = 0, 15 do\n"
    "  for _, h in ipairs(redis.call('SMEMBERS', ARGV[1] .. ':pending:{' .. s .. '}')) do\n"
    "    n = n + redis.call('HLEN', ARGV[1] .. ':{' .. h .. '}:outbox')\n"
    "  end\n"
    "end\n"
    "return n\n";

static long long positions(redisContext *c, const char *key)
{
        redisReply *r = redisCommand(c, "HVALS %s", key);
        if (!r || r->type != REDIS_REPLY_ARRAY) {
                if (r)
                        freeReplyObject(r);
                return -1;
        }
        long long sum = 0;
        for (size_t i = 0; i < r->elements; i++)
                if (r->element[i]->type == REDIS_REPLY_STRING)
                        sum += strtoll(r->element[i]->str, NULL, 10);
        freeReplyObject(r);
        return sum;
}

static long long outbox_left(redisContext *c, const char *prefix)
{
        redisReply *r = redisCommand(c, "EVAL %s 0 %s", outbox_lua, prefix);
        long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
        if (r)
                freeReplyObject(r);
        return n;
}

/* How many households are due at now_ms (ZCOUNT of the due-time index);
 * -1 on an error. */
static long long timers_due(redisContext *c, Redis *cl, const char *key, int64_t now_ms)
{
        redisReply *r = cl ? redis_command(cl, "ZCOUNT %s -inf %lld", key, (long long)now_ms)
                           : redisCommand(c, "ZCOUNT %s -inf %lld", key, (long long)now_ms);
        long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
        if (r)
                freeReplyObject(r);
        return n;
}

/* Cluster mode: positions() through hearth's client. -1 on an error. */
static long long cluster_positions(Redis *r, const char *key)
{
        _cleanup_(freeReplyObjectp) redisReply *rep = redis_command(r, "HVALS %s", key);
        if (!rep || rep->type != REDIS_REPLY_ARRAY)
                return -1;
        long long sum = 0;
        for (size_t i = 0; i < rep->elements; i++)
                if (rep->element[i]->type == REDIS_REPLY_STRING)
                        sum += strtoll(rep->element[i]->str, NULL, 10);
        return sum;
}

/* Reads n pipelined replies, adding up the integers into *sum; -1 when one
 * is missing or not an integer (every reply is read all the same, so the
 * pipeline stays in step). */
static int read_counts(Redis *r, size_t n, long long *sum)
{
        int ret = 0;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(freeReplyObjectp) redisReply *rep = NULL;
                if (redis_get_reply(r, &rep) < 0)
                        return -1; /* the client dropped the pipeline */
                if (rep->type == REDIS_REPLY_INTEGER)
                        *sum += rep->integer;
                else
                        ret = -1;
        }
        return ret;
}

/* Cluster mode: outbox_left() as SMEMBERS of each pending shard, then HLEN
 * of each outbox listed, OUTBOX_BATCH per round trip. -1 on an error. */
static long long cluster_outbox_left(Redis *r, const char *prefix)
{
        redisReply *shards[STORE_PENDING_SHARDS] = {NULL};
        long long n = 0;
        char key[512];
        for (unsigned s = 0; s < STORE_PENDING_SHARDS; s++) {
                snprintf(key, sizeof(key), "%s:pending:{%u}", prefix, s);
                const char *argv[2] = {"SMEMBERS", key};
                redis_append(r, 2, argv, NULL);
        }
        for (unsigned s = 0; s < STORE_PENDING_SHARDS; s++)
                if (redis_get_reply(r, &shards[s]) < 0 || shards[s]->type != REDIS_REPLY_ARRAY)
                        n = -1;
        size_t queued = 0;
        for (unsigned s = 0; s < STORE_PENDING_SHARDS && n >= 0; s++) {
                for (size_t i = 0; i < shards[s]->elements; i++) {
                        const redisReply *h = shards[s]->element[i];
                        if (h->type != REDIS_REPLY_STRING)
                                continue;
                        snprintf(key, sizeof(key), "%s:{%s}:outbox", prefix, h->str);
                        const char *argv[2] = {"HLEN", key};
                        redis_append(r, 2, argv, NULL);
                        if (++queued == OUTBOX_BATCH) {
                                if (read_counts(r, queued, &n) < 0)
                                        n = -1;
                                queued = 0;
                                if (n < 0)
                                        break;
                        }
                }
        }
        if (queued && read_counts(r, queued, &n) < 0)
                n = -1;
        for (unsigned s = 0; s < STORE_PENDING_SHARDS; s++)
                if (shards[s])
                        freeReplyObject(shards[s]);
        return n;
}

/* Cluster mode: hearth's client on the seeds "host:port,..." (the first
 * one as redis.url, the others as redis.cluster), connected. NULL after a
 * message on stderr. */
static Redis *cluster_open(const char *seeds)
{
        char url[300], err[256];
        size_t first = strcspn(seeds, ",");
        snprintf(url, sizeof(url), "redis://%.*s/0", (int)first, seeds);
        Redis *r = redis_new(url, NULL, 2000, 10000, err, sizeof(err));
        if (!r) {
                fprintf(stderr, "bdrain: %s: %s\n", url, err);
                return NULL;
        }
        if (redis_set_cluster(r, seeds + first + (seeds[first] == ','), err, sizeof(err)) < 0) {
                fprintf(stderr, "bdrain: %s\n", err);
                return redis_free(r);
        }
        if (redis_connect(r) < 0) {
                fprintf(stderr, "bdrain: cluster %s: %s\n", seeds, redis_errstr(r));
                return redis_free(r);
        }
        return r;
}

/* What bdrain polls: one Redis (plain) or a cluster. */
typedef struct {
        redisContext *plain;
        Redis *cluster;
        const char *prefix;
        char pos_key[512];
        char timers_key[512];
} Target;

static long long target_positions(Target *t)
{
        return t->cluster ? cluster_positions(t->cluster, t->pos_key)
                          : positions(t->plain, t->pos_key);
}

static long long target_outbox_left(Target *t)
{
        return t->cluster ? cluster_outbox_left(t->cluster, t->prefix)
                          : outbox_left(t->plain, t->prefix);
}

static const char *target_error(const Target *t)
{
        if (t->cluster)
                return redis_errstr(t->cluster)[0] ? redis_errstr(t->cluster) : "HVALS";
        return t->plain->err ? t->plain->errstr : "HVALS";
}

int main(int argc, char **argv)
{
        const char *group = "hearth-bench", *prefix = "hearth", *seeds = NULL;
        long port = 0, interval_ms = 50, timeout_s = 3600;
        long long total = -1;
        pid_t pids[MAX_PIDS];
        int n_pids = 0;
        bool verbose = false;
        int c;
        while ((c = getopt(argc, argv, "p:c:n:g:x:P:t:i:v")) >= 0) {
                switch (c) {
                case 'p':
                        port = (long)bench_parse(optarg, "port");
                        break;
                case 'c':
                        seeds = optarg;
                        break;
                case 'n':
                        total = bench_parse(optarg, "messages");
                        break;
                case 'g':
                        group = optarg;
                        break;
                case 'x':
                        prefix = optarg;
                        break;
                case 'P':
                        if (n_pids == MAX_PIDS)
                                goto usage;
                        pids[n_pids++] = (pid_t)bench_parse(optarg, "pid");
                        break;
                case 't':
                        timeout_s = (long)bench_parse(optarg, "timeout");
                        break;
                case 'i':
                        interval_ms = (long)bench_parse(optarg, "interval");
                        break;
                case 'v':
                        verbose = true;
                        break;
                default:
                        goto usage;
                }
        }
        if (!port == !seeds || total < 0)
                goto usage;
        Target t = {.prefix = prefix};
        if (seeds) {
                if (!(t.cluster = cluster_open(seeds)))
                        return 1;
        } else {
                t.plain = redisConnect("127.0.0.1", (int)port);
                if (!t.plain || t.plain->err) {
                        fprintf(stderr, "bdrain: redis 127.0.0.1:%ld: %s\n", port,
                                t.plain ? t.plain->errstr : "out of memory");
                        return 1;
                }
        }
        snprintf(t.pos_key, sizeof(t.pos_key), "%s:pos:{%s}", prefix, group);
        snprintf(t.timers_key, sizeof(t.timers_key), "%s:timers", prefix);
        int64_t start = bench_now_us(), last_report = start;
        long long last_pos = target_positions(&t);
        for (;;) {
                int64_t now = bench_now_us();
                long long pos = target_positions(&t);
                if (pos < 0) {
                        fprintf(stderr, "bdrain: redis: %s\n", target_error(&t));
                        return 1;
                }
                if (pos >= total && target_outbox_left(&t) == 0) {
                        long long due = timers_due(t.plain, t.cluster, t.timers_key, now / 1000);
                        if (due < 0) {
                                fprintf(stderr, "bdrain: redis: ZCOUNT %s failed\n", t.timers_key);
                                return 1;
                        }
                        printf("drained_us=%" PRId64 "\ntimers_due=%lld\npositions=%lld\n", now,
                               due, pos);
                        if (pos > total)
                                fprintf(stderr, "bdrain: positions %lld > %lld expected\n", pos,
                                        total);
                        return 0;
                }
                for (int i = 0; i < n_pids; i++)
                        if (kill(pids[i], 0) < 0 && errno == ESRCH) {
                                fprintf(stderr,
                                        "bdrain: hearthd (pid %d) is gone at %lld of %lld\n",
                                        (int)pids[i], pos, total);
                                return 1;
                        }
                if (now - start > (int64_t)timeout_s * 1000000) {
                        fprintf(stderr, "bdrain: timeout after %ld s: positions %lld of %lld\n",
                                timeout_s, pos, total);
                        return 1;
                }
                if (verbose && now - last_report >= 10 * 1000000LL) {
                        fprintf(stderr, "bdrain: %lld of %lld (%.0f/s)\n", pos, total,
                                (double)(pos - last_pos) * 1e6 / (double)(now - last_report));
                        last_report = now;
                        last_pos = pos;
                }
                struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000};
                nanosleep(&ts, NULL);
        }
usage:
        fprintf(stderr, "usage: bdrain (-p REDIS_PORT | -c HOST:PORT[,HOST:PORT...]) -n MESSAGES "
                        "[-g GROUP] [-x PREFIX] [-P PID]... [-t TIMEOUT_S] [-i INTERVAL_MS] "
                        "[-v]\n");
        return 2;
}
