/* hearthctl migrate: household state of the older layout (before
 * STORE_FORMAT 2) into one record per household (store.h, record.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "macro.h"
#include "store_impl.h"

/* One household of the older layout (a hash with v, doc and o:<tp>, the
 * sorted set seen, the lists ledger and timeline) into a record, in one
 * MULTI. 0, -EIO, -EINVAL, -ENOMEM. */
static int migrate_one(Store *s, const char *household)
{
        char h[300], seen[300], ledger[300], timeline[300];
        store_key(h, sizeof(h), s, household, "h");
        store_key(seen, sizeof(seen), s, household, "seen");
        store_key(ledger, sizeof(ledger), s, household, "ledger");
        store_key(timeline, sizeof(timeline), s, household, "timeline");
        _cleanup_(freeReplyObjectp) redisReply *hr = redis_command(s->redis, "HGETALL %s", h);
        _cleanup_(freeReplyObjectp) redisReply *sr =
            redis_command(s->redis, "ZRANGE %s 0 -1 WITHSCORES", seen);
        _cleanup_(freeReplyObjectp) redisReply *lr =
            redis_command(s->redis, "LRANGE %s 0 -1", ledger);
        _cleanup_(freeReplyObjectp) redisReply *tr =
            redis_command(s->redis, "LRANGE %s 0 -1", timeline);
        if (!hr || !sr || !lr || !tr)
                return store_io_error(s, "reading the older layout");
        if (hr->type != REDIS_REPLY_ARRAY || sr->type != REDIS_REPLY_ARRAY ||
            lr->type != REDIS_REPLY_ARRAY || tr->type != REDIS_REPLY_ARRAY) {
                snprintf(s->err, sizeof(s->err), "%s: unexpected reply or key type", household);
                return -EINVAL;
        }
        size_t nh = hr->elements / 2, ns = sr->elements / 2;
        Record prev = {0};
        _cleanup_free_ RecordText *tps = calloc(nh + 1, sizeof(RecordText));
        _cleanup_free_ int64_t *offs = calloc(nh + 1, sizeof(int64_t));
        _cleanup_free_ RecordSeen *sn = calloc(ns + 1, sizeof(RecordSeen));
        _cleanup_free_ RecordText *led = calloc(lr->elements + 1, sizeof(RecordText));
        _cleanup_free_ RecordText *tl = calloc(tr->elements + 1, sizeof(RecordText));
        if (!tps || !offs || !sn || !led || !tl)
                return -ENOMEM;
        const char *doc = NULL;
        for (size_t i = 0; i < nh; i++) {
                const redisReply *f = hr->element[2 * i], *v = hr->element[2 * i + 1];
                if (streq(f->str, "v"))
                        prev.version = strtoll(v->str, NULL, 10);
                else if (streq(f->str, "doc"))
                        doc = v->str;
                else if (strncmp(f->str, "o:", 2) == 0) {
                        tps[prev.n_off] = (RecordText){f->str + 2, f->len - 2};
                        offs[prev.n_off++] = strtoll(v->str, NULL, 10);
                }
        }
        if (!doc) {
                snprintf(s->err, sizeof(s->err), "%s: the older record has no doc", household);
                return -EINVAL;
        }
        for (size_t i = 0; i < ns; i++)
                sn[i] = (RecordSeen){strtoull(sr->element[2 * i]->str, NULL, 16),
                                     (int64_t)strtod(sr->element[2 * i + 1]->str, NULL)};
        for (size_t i = 0; i < lr->elements; i++)
                led[i] = (RecordText){lr->element[i]->str, lr->element[i]->len};
        for (size_t i = 0; i < tr->elements; i++)
                tl[i] = (RecordText){tr->element[i]->str, tr->element[i]->len};
        prev.off_tps = tps;
        prev.offsets = offs;
        prev.seen = sn;
        prev.n_seen = ns;
        prev.ledger = led;
        prev.n_ledger = lr->elements;
        prev.timeline = tl;
        prev.n_timeline = tr->elements;
        RecordChange ch = {.version = prev.version,
                           .doc = doc,
                           .now_ms = (int64_t)time(NULL) * 1000,
                           .dedup_window_ms = s->dedup_window_ms,
                           .dedup_max = (size_t)s->dedup_max,
                           .ledger_max = (size_t)s->ledger_max,
                           .timeline_max = STORE_TIMELINE_MAX};
        _cleanup_free_ char *val = NULL;
        size_t vlen = 0;
        int r = record_encode(s->codec, &prev, &ch, &val, &vlen);
        if (r < 0)
                return r;
        const char *multi[1] = {"MULTI"}, *exec[1] = {"EXEC"};
        const char *set[3] = {"SET", h, val};
        size_t set_lens[3] = {3, strlen(h), vlen};
        const char *del[4] = {"DEL", seen, ledger, timeline};
        redis_append(s->redis, 1, multi, NULL);
        redis_append(s->redis, 3, set, set_lens);
        redis_append(s->redis, 4, del, NULL);
        redis_append(s->redis, 1, exec, NULL);
        return store_drain_replies(s, 4, NULL) < 0 ? store_io_error(s, "MULTI SET DEL EXEC") : 0;
}

int store_migrate(Store *s, size_t *done)
{
        *done = 0;
        if (redis_is_cluster(s->redis)) {
                /* MULTI has no key to route it by; a cluster starts new. */
                snprintf(s->err, sizeof(s->err),
                         "migrate on the single Redis the older hearth used, then move the "
                         "data to the cluster");
                return -EOPNOTSUPP;
        }
        uint64_t cursor = 0;
        do {
                json_t *ids = NULL;
                int r = store_scan_households(s, &cursor, 500, &ids);
                if (r < 0)
                        return r;
                size_t i;
                json_t *id;
                json_array_foreach (ids, i, id) {
                        char h[300];
                        store_key(h, sizeof(h), s, json_string_value(id), "h");
                        _cleanup_(freeReplyObjectp) redisReply *t =
                            redis_command(s->redis, "TYPE %s", h);
                        if (!t) {
                                json_decref(ids);
                                return store_io_error(s, "TYPE");
                        }
                        if (t->type != REDIS_REPLY_STATUS || !streq(t->str, "hash"))
                                continue; /* converted already, or gone */
                        if ((r = migrate_one(s, json_string_value(id))) < 0) {
                                json_decref(ids);
                                return r;
                        }
                        (*done)++;
                }
                json_decref(ids);
        } while (cursor != 0);
        return store_format_set(s);
}
