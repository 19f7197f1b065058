/* bdrain: waits until hearthd has fully drained and says when.
 *
 *   bdrain -p REDIS_PORT -n MESSAGES [-g GROUP] [-x PREFIX] [-P HEARTHD_PID]
 *          [-t TIMEOUT_S] [-i INTERVAL_MS] [-v]
 *
 * Drained means both:
 *   - every offset committed: the positions hearthd keeps in Redis
 *     (HVALS <prefix>:pos:{<group>}, the next offset to read of each input
 *     partition) add up to MESSAGES, the count produced since the topics
 *     were created empty;
 *   - every output delivered: no outbox entry is left, i.e. the outbox
 *     hashes of all households listed in <prefix>:pending:{0..15} are empty
 *     (hearthd deletes an entry when its delivery report confirms it).
 * Polls every INTERVAL_MS (default 50) on one hiredis connection, so the
 * polling costs next to nothing. Prints drained_us=<CLOCK_REALTIME µs> and
 * exits 0; exits 1 on timeout or when HEARTHD_PID is gone. -v: progress on
 * stderr every 10 s. */
#include <errno.h>
#include <hiredis.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bcommon.h"

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

int main(int argc, char **argv)
{
        const char *group = "hearth-bench", *prefix = "hearth";
        long port = 0, interval_ms = 50, timeout_s = 3600;
        long long total = -1;
        pid_t pid = 0;
        bool verbose = false;
        int c;
        while ((c = getopt(argc, argv, "p:n:g:x:P:t:i:v")) >= 0) {
                switch (c) {
                case 'p':
                        port = (long)bench_parse(optarg, "port");
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
                        pid = (pid_t)bench_parse(optarg, "pid");
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
        if (!port || total < 0)
                goto usage;
        redisContext *ctx = redisConnect("127.0.0.1", (int)port);
        if (!ctx || ctx->err) {
                fprintf(stderr, "bdrain: redis 127.0.0.1:%ld: %s\n", port,
                        ctx ? ctx->errstr : "out of memory");
                return 1;
        }
        char key[512];
        snprintf(key, sizeof(key), "%s:pos:{%s}", prefix, group);
        int64_t start = bench_now_us(), last_report = start;
        long long last_pos = positions(ctx, key);
        for (;;) {
                int64_t now = bench_now_us();
                long long pos = positions(ctx, key);
                if (pos < 0) {
                        fprintf(stderr, "bdrain: redis: %s\n", ctx->err ? ctx->errstr : "HVALS");
                        return 1;
                }
                if (pos >= total && outbox_left(ctx, prefix) == 0) {
                        printf("drained_us=%" PRId64 "\npositions=%lld\n", now, pos);
                        if (pos > total)
                                fprintf(stderr, "bdrain: positions %lld > %lld expected\n", pos,
                                        total);
                        return 0;
                }
                if (pid && kill(pid, 0) < 0 && errno == ESRCH) {
                        fprintf(stderr, "bdrain: hearthd (pid %d) is gone at %lld of %lld\n",
                                (int)pid, pos, total);
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
        fprintf(stderr, "usage: bdrain -p REDIS_PORT -n MESSAGES [-g GROUP] [-x PREFIX] "
                        "[-P PID] [-t TIMEOUT_S] [-i INTERVAL_MS] [-v]\n");
        return 2;
}
