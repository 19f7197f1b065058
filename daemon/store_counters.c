/* The store's counters and sets beside the households: supervision
 * figures (<p>:stats, <p>:rule_outcomes), open alerts by colour
 * (<p>:open:red|yellow), and the deferred mode that writes them after a
 * pass's outputs (store.h). */
#include "store.h"
#include "store_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include "log.h"
#include "macro.h"

/* The replies of the deferred commands, in order: 0, -EINVAL (one was an
 * error, named in s->err), -EIO. */
int store_deferred_read(Store *s)
{
        int ret = 0;
        while (s->deferred) {
                redisReply *rep;
                if (redis_get_reply(s->redis, &rep) < 0) {
                        snprintf(s->err, sizeof(s->err), "%s", redis_errstr(s->redis));
                        s->deferred = 0;
                        return -EIO;
                }
                s->deferred--;
                if (rep->type == REDIS_REPLY_ERROR) {
                        snprintf(s->err, sizeof(s->err), "counter: %s", rep->str);
                        ret = -EINVAL;
                }
                freeReplyObject(rep);
        }
        return ret;
}

int store_deferred_wait(Store *s)
{
        if (!s->deferred)
                return 0;
        redis_flush(s->redis, 0);
        return store_deferred_read(s);
}

void store_deferred_send(Store *s)
{
        if (s->deferred)
                redis_flush(s->redis, 0);
}

void store_defer(Store *s, bool on)
{
        if (!on && s->defer && store_deferred_wait(s) < 0)
                log_ratelimited(LOG_WARNING, "redis: counters or open alerts not written: %s",
                                s->err);
        s->defer = on;
}

/* Appends argv; reads its reply now (0, -EIO, -EINVAL on a Redis error),
 * or in deferred mode later (0). */
static int counter_command(Store *s, int argc, const char **argv)
{
        if (!redis_connected(s->redis))
                return store_io_error(s, "counters");
        redis_append(s->redis, argc, argv, NULL);
        if (s->defer) {
                s->deferred++;
                return 0;
        }
        redisReply *rep;
        if (store_get_reply(s, &rep) < 0)
                return -EIO;
        int ret = rep->type == REDIS_REPLY_ERROR ? -EINVAL : 0;
        if (ret)
                snprintf(s->err, sizeof(s->err), "counter: %s", rep->str);
        freeReplyObject(rep);
        return ret;
}

int store_open_alert_set(Store *s, const char *household, const char *code)
{
        static const char *const codes[] = {"red", "yellow"};
        for (size_t i = 0; i < ELEMENTSOF(codes); i++) {
                bool in = code && streq(code, codes[i]);
                char k[200];
                snprintf(k, sizeof(k), "%s:open:%s", s->prefix, codes[i]);
                const char *argv[3] = {in ? "SADD" : "SREM", k, household};
                if (counter_command(s, 3, argv) == -EIO)
                        return -EIO;
        }
        return 0;
}

int store_open_counts(Store *s, int64_t *red, int64_t *yellow)
{
        _cleanup_(freeReplyObjectp) redisReply *r =
            redis_command(s->redis, "SCARD %s:open:red", s->prefix);
        _cleanup_(freeReplyObjectp) redisReply *y =
            redis_command(s->redis, "SCARD %s:open:yellow", s->prefix);
        if (!r || !y)
                return store_io_error(s, "SCARD");
        *red = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
        *yellow = y->type == REDIS_REPLY_INTEGER ? y->integer : 0;
        return 0;
}

int store_stats_incr(Store *s, const char *const *fields, size_t n, int64_t by)
{
        char k[200], v[24];
        snprintf(k, sizeof(k), "%s:stats", s->prefix);
        snprintf(v, sizeof(v), "%" PRId64, by);
        for (size_t i = 0; i < n; i++) {
                const char *argv[4] = {"HINCRBY", k, fields[i], v};
                if (counter_command(s, 4, argv) == -EIO)
                        return -EIO;
        }
        return 0;
}

int store_outcomes_incr(Store *s, const char *const *fields, const int64_t *by, size_t n)
{
        char k[200], v[24];
        snprintf(k, sizeof(k), "%s:rule_outcomes", s->prefix);
        int ret = 0;
        for (size_t i = 0; i < n; i++) {
                snprintf(v, sizeof(v), "%" PRId64, by[i]);
                const char *argv[4] = {"HINCRBY", k, fields[i], v};
                int r = counter_command(s, 4, argv);
                if (r == -EIO)
                        return -EIO;
                if (r < 0)
                        ret = r;
        }
        return ret;
}

/* The hash <p>:<what> as a JSON object of integers, or NULL. */
static json_t *hash_ints(Store *s, const char *what)
{
        _cleanup_(freeReplyObjectp) redisReply *r =
            redis_command(s->redis, "HGETALL %s:%s", s->prefix, what);
        if (!r || r->type != REDIS_REPLY_ARRAY)
                return NULL;
        json_t *o = json_object();
        for (size_t j = 0; o && j + 1 < r->elements; j += 2)
                json_object_set_new(o, r->element[j]->str,
                                    json_integer(strtoll(r->element[j + 1]->str, NULL, 10)));
        return o;
}

json_t *store_outcomes_get(Store *s)
{
        return hash_ints(s, "rule_outcomes");
}

json_t *store_stats_get(Store *s)
{
        return hash_ints(s, "stats");
}
