/* The outboxes beside the households: the pending index (sharded sets of
 * households with entries), the relay's reads and claims, and the deletes
 * of delivered entries (store.h). */
#include "store.h"
#include "store_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "macro.h"

/* The relay's claim on outbox entries. KEYS: a household's outbox. ARGV:
 * now (ms), then (id, ms)*: an entry whose value ("<ms> <output>") still
 * carries that ms is claimed: its ms becomes now, so another instance's
 * relay sees a young entry and leaves it. Returns 1 (claimed) or 0 each. */
static const char claim_lua[] =
    "local out = {}\n"
    "for i = 2, #ARGV, 2 do\n"
    "  local v = redis.call('HGET', KEYS[1], ARGV[i])\n"
    "  local won = 0\n"
    "  if v then\n"
    "    local sp = string.find(v, ' ', 1, true)\n"
    "    if sp and tonumber(string.sub(v, 1, sp - 1)) == tonumber(ARGV[i + 1]) then\n"
    "      redis.call('HSET', KEYS[1], ARGV[i], ARGV[1] .. string.sub(v, sp))\n"
    "      won = 1\n"
    "    end\n"
    "  end\n"
    "  out[#out + 1] = won\n"
    "end\n"
    "return out\n";

int store_outbox_delete_many(Store *s, const char *const *households, const char *const *ids,
                             size_t n, int *deleted)
{
        if (!redis_connected(s->redis)) {
                snprintf(s->err, sizeof(s->err), "not connected");
                return -EIO;
        }
        for (size_t i = 0; i < n; i++) {
                char k[300];
                store_key(k, sizeof(k), s, households[i], "outbox");
                const char *argv[3] = {"HDEL", k, ids[i]};
                redis_append(s->redis, 3, argv, NULL);
        }
        for (size_t i = 0; i < n; i++) {
                redisReply *r;
                if (store_get_reply(s, &r) < 0)
                        return -EIO;
                deleted[i] = r->type == REDIS_REPLY_INTEGER && r->integer > 0;
                freeReplyObject(r);
        }
        return 0;
}

json_t *store_pending_list(Store *s)
{
        json_t *list = json_array();
        for (unsigned i = 0; i < STORE_PENDING_SHARDS && list; i++) {
                char pk[200];
                store_pending_key(pk, sizeof(pk), s, i);
                _cleanup_(freeReplyObjectp) redisReply *r =
                    redis_command(s->redis, "SMEMBERS %s", pk);
                if (!r || r->type != REDIS_REPLY_ARRAY) {
                        json_decref(list);
                        return NULL;
                }
                for (size_t j = 0; j < r->elements; j++)
                        json_array_append_new(list,
                                              json_stringn(r->element[j]->str, r->element[j]->len));
        }
        return list;
}

json_t *store_outbox_get_many(Store *s, const char *const *households, size_t n)
{
        if (!redis_connected(s->redis)) {
                snprintf(s->err, sizeof(s->err), "not connected");
                return NULL;
        }
        char k[300];
        for (size_t i = 0; i < n; i++) {
                store_key(k, sizeof(k), s, households[i], "outbox");
                const char *argv[2] = {"HGETALL", k};
                redis_append(s->redis, 2, argv, NULL);
        }
        json_t *all = json_array();
        for (size_t i = 0; i < n; i++) {
                redisReply *r;
                if (store_get_reply(s, &r) < 0) {
                        json_decref(all);
                        return NULL;
                }
                json_t *o;
                if (r->type == REDIS_REPLY_ARRAY) {
                        o = json_object();
                        for (size_t j = 0; j + 1 < r->elements; j += 2)
                                json_object_set_new(
                                    o, r->element[j]->str,
                                    json_stringn(r->element[j + 1]->str, r->element[j + 1]->len));
                } else {
                        /* A key that is not a hash: null, left alone and listed. */
                        snprintf(s->err, sizeof(s->err), "HGETALL outbox: %s",
                                 r->type == REDIS_REPLY_ERROR ? r->str : "not a hash");
                        o = json_null();
                }
                freeReplyObject(r);
                json_array_append_new(all, o);
        }
        return all;
}

int store_outbox_claim(Store *s, const char *const *households, size_t n_households,
                       const size_t *first, const char *const *ids, const int64_t *ms,
                       int64_t now_ms, int *claimed)
{
        if (!redis_connected(s->redis)) {
                snprintf(s->err, sizeof(s->err), "not connected");
                return -EIO;
        }
        for (size_t h = 0; h < n_households; h++) {
                char k[300];
                store_key(k, sizeof(k), s, households[h], "outbox");
                RCmd c;
                rcmd_init(&c, 5 + 2 * (first[h + 1] - first[h]));
                rcmd_push_str(&c, "EVAL");
                rcmd_push_str(&c, claim_lua);
                rcmd_push_str(&c, "1");
                rcmd_push_str(&c, k);
                rcmd_push_int(&c, now_ms);
                for (size_t i = first[h]; i < first[h + 1]; i++) {
                        rcmd_push_str(&c, ids[i]);
                        rcmd_push_int(&c, ms[i]);
                }
                if (store_cmd_append(s, &c) < 0)
                        return -EIO; /* the link was dropped: nothing half sent stays */
        }
        for (size_t h = 0; h < n_households; h++) {
                redisReply *r;
                if (store_get_reply(s, &r) < 0)
                        return -EIO;
                size_t n = first[h + 1] - first[h];
                bool ok = r->type == REDIS_REPLY_ARRAY && r->elements == n;
                if (!ok)
                        snprintf(s->err, sizeof(s->err), "outbox claim: %s",
                                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
                for (size_t i = 0; i < n; i++)
                        claimed[first[h] + i] = ok && r->element[i]->type == REDIS_REPLY_INTEGER &&
                                                r->element[i]->integer == 1;
                freeReplyObject(r);
        }
        return 0;
}

int store_pending_prune_many(Store *s, const char *const *households, size_t n)
{
        if (!n)
                return 0;
        if (!redis_connected(s->redis))
                return store_io_error(s, "pending prune");
        _cleanup_free_ int64_t *after = calloc(2 * n, sizeof(int64_t));
        if (!after)
                return -ENOMEM;
        char k[300], pk[200];
        /* SREM, then HLEN on the same connection: an entry a commit wrote in
         * between is seen, and the household goes back in the index. */
        for (size_t i = 0; i < n; i++) {
                store_key(k, sizeof(k), s, households[i], "outbox");
                store_pending_key(pk, sizeof(pk), s, store_shard_of(households[i]));
                const char *srem[3] = {"SREM", pk, households[i]};
                const char *hlen[2] = {"HLEN", k};
                redis_append(s->redis, 3, srem, NULL);
                redis_append(s->redis, 2, hlen, NULL);
        }
        if (store_drain_replies(s, 2 * n, after) < 0)
                return store_io_error(s, "pending prune");
        size_t readd = 0;
        for (size_t i = 0; i < n; i++) {
                if (after[2 * i + 1] == 0)
                        continue;
                store_pending_key(pk, sizeof(pk), s, store_shard_of(households[i]));
                const char *sadd[3] = {"SADD", pk, households[i]};
                redis_append(s->redis, 3, sadd, NULL);
                readd++;
        }
        if (store_drain_replies(s, readd, NULL) < 0)
                return store_io_error(s, "SADD pending");
        return 0;
}
