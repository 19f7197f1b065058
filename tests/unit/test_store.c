/* Unit tests of store.c against a real redis-server started for this test
 * (a unix socket in a temporary folder, nothing saved): the commit script's
 * checks (version, offsets, dedup) and writes (document, offsets, outbox and
 * its pending index, ledger, timeline bound, erasure), reads in one round
 * trip with their per-household errors, a lost epoch, a flushed script,
 * attempts and positions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "rcmd.h"
#include "store.h"

#include "redis_server.h"

typedef struct {
        Redis *redis;
        Store *store;
} Fixture;

/* Each test starts from an empty Redis and a prepared store. */
static int setup(void **state)
{
        char err[256];
        Fixture *f = calloc(1, sizeof(Fixture));
        if (!f || !(f->redis = redis_new(redis_server_url, NULL, 1000, 5000, err, sizeof(err))) ||
            redis_connect(f->redis) < 0)
                return -1;
        redisReply *r = redis_command(f->redis, "FLUSHALL");
        if (!r)
                return -1;
        freeReplyObject(r);
        f->store = store_new(f->redis, "t", "grp", 86400000);
        if (!f->store || store_prepare(f->store) < 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        Fixture *f = *state;
        store_free(f->store);
        redis_free(f->redis);
        free(f);
        return 0;
}

/* A command's reply as an integer (-1 when not one), or its string. */
static long long rint_(Redis *r, const char *fmt, const char *arg)
{
        redisReply *rep = redis_command(r, fmt, arg);
        assert_non_null(rep);
        long long v = rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
        freeReplyObject(rep);
        return v;
}

/* One event's commit of household h: one offset, one dedup hash. */
static StoreCommit commit_of(const char *h, int64_t version, const char *doc, const char **tp,
                             const int64_t *off, const char **seen)
{
        return (StoreCommit){.household = h,
                             .expected_version = version,
                             .doc = doc,
                             .off_fields = tp,
                             .offsets = off,
                             .n_off = 1,
                             .seen = seen,
                             .n_seen = 1};
}

#define HA "00000000000000aa"
#define HB "00000000000000bb"

/* hearthctl's view of household h; asserts it exists. */
static StoreDump dump_of(Store *s, const char *h)
{
        StoreDump d;
        assert_int_equal(store_household_dump(s, h, &d), 0);
        return d;
}

/* Reads household h with the offset of tp and the hashes seen[0..n). */
static int read_one(Store *s, const char *h, const char *tp, const char **seen, size_t n,
                    StoreRead *r, int64_t *applied, bool *found)
{
        const char **tps = malloc(sizeof(char *));
        assert_non_null(tps);
        tps[0] = tp;
        *r = (StoreRead){.household = h,
                         .tps = tps,
                         .n_tps = 1,
                         .seen = seen,
                         .n_seen = n,
                         .applied = applied,
                         .seen_found = found};
        int ret = store_read(s, r, 1);
        free(tps);
        r->tps = NULL;
        return ret;
}

static void test_prepare(void **state)
{
        Fixture *f = *state;
        char err[256];
        /* setup() prepared an empty Redis: a first start. */
        assert_true(store_fresh(f->store));
        assert_int_equal(rint_(f->redis, "EXISTS %s", "t:epoch"), 1);
        /* A second process finds the epoch: not fresh. */
        Store *again = store_new(f->redis, "t", "grp", 86400000);
        assert_non_null(again);
        assert_int_equal(store_prepare(again), 0);
        assert_false(store_fresh(again));
        /* A Redis of format 2 (records without a history frame) is read as
         * it is and marked 3, so that a format 2 hearth refuses it now; a
         * newer format is refused with words that say so. */
        rint_(f->redis, "SET t:format %s", "2");
        assert_int_equal(store_prepare(again), 0);
        redisReply *fmt = redis_command(f->redis, "GET t:format");
        assert_non_null(fmt);
        assert_int_equal(fmt->type, REDIS_REPLY_STRING);
        assert_int_equal(strtol(fmt->str, NULL, 10), STORE_FORMAT);
        freeReplyObject(fmt);
        rint_(f->redis, "SET t:format %s", "4");
        assert_int_equal(store_prepare(again), -EPROTO);
        assert_non_null(strstr(store_errstr(again), "newer hearth"));
        rint_(f->redis, "SET t:format %s", "3");
        /* Positions without the epoch: Redis lost hearth's state. */
        const char *tp[] = {"in/0"};
        const int64_t off[] = {7};
        assert_int_equal(store_positions_set(again, tp, off, 1), 0);
        assert_int_equal(rint_(f->redis, "DEL %s", "t:epoch"), 1);
        assert_int_equal(store_prepare(again), -ESTALE);
        assert_non_null(strstr(store_errstr(again), "t:epoch is missing"));
        store_free(again);
        /* Not connected: an I/O error, for reads as for commits. */
        Redis *down = redis_new(redis_server_url, NULL, 1000, 1000, err, sizeof(err));
        Store *s = store_new(down, "t", "grp", 1000);
        StoreRead r = {.household = "H1"};
        assert_int_equal(store_read(s, &r, 1), -EIO);
        StoreCommit c = {.household = "H1", .doc = "{}"};
        assert_int_equal(store_commit(s, &c, 1, 1), -EIO);
        store_free(s);
        redis_free(down);
}

static void test_commit_and_read(void **state)
{
        Fixture *f = *state;
        const char *tp[] = {"in/3"};
        const int64_t off[] = {41};
        const char *seen[] = {HA};
        const char *ids[] = {"a-1:raised:0"}, *vals[] = {"1000 {\"id\":\"a-1:raised:0\"}"};
        const char *ledger[] = {"{\"amount\":1}", "{\"amount\":2}"};
        const char *timeline[] = {"{\"type\":\"t1\"}"};
        StoreCommit c = commit_of("H1", 0, "{\"registered\":true,\"n\":1}", tp, off, seen);
        c.outbox_ids = ids;
        c.outbox_vals = vals;
        c.n_outbox = 1;
        c.ledger = ledger;
        c.n_ledger = 2;
        c.timeline = timeline;
        c.n_timeline = 1;
        c.timer_due = 5000;
        assert_int_equal(store_commit(f->store, &c, 1, 1000), 0);
        assert_int_equal(c.result, 0);
        assert_int_equal(c.new_version, 1);

        /* Read back in one round trip: version, document, offset, seen. */
        const char *look[] = {HA, HB};
        int64_t applied[1];
        bool found[2];
        StoreRead r;
        assert_int_equal(read_one(f->store, "H1", "in/3", look, 2, &r, applied, found), 0);
        assert_int_equal(r.err, 0);
        assert_int_equal(r.version, 1);
        assert_int_equal(json_integer_value(json_object_get(r.doc, "n")), 1);
        assert_int_equal(applied[0], 41);
        assert_true(found[0]);
        assert_false(found[1]);
        store_read_done(&r);
        /* Another partition: no offset; another household: no state. */
        assert_int_equal(read_one(f->store, "H1", "in/4", NULL, 0, &r, applied, found), 0);
        assert_int_equal(applied[0], -1);
        store_read_done(&r);
        assert_int_equal(read_one(f->store, "H2", "in/3", look, 1, &r, applied, found), 0);
        assert_int_equal(r.version, 0);
        assert_null(r.doc);
        assert_false(found[0]);

        /* The outbox entry, its pending index and the due-time hint. */
        json_t *pending = store_pending_list(f->store);
        assert_int_equal(json_array_size(pending), 1);
        assert_string_equal(json_string_value(json_array_get(pending, 0)), "H1");
        json_decref(pending);
        const char *hs[] = {"H1"};
        json_t *out = store_outbox_get_many(f->store, hs, 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(out, 0), ids[0])),
                            vals[0]);
        json_decref(out);
        json_t *scores;
        json_t *due = store_timers_due(f->store, 5000, 10, &scores);
        assert_int_equal(json_array_size(due), 1);
        assert_string_equal(json_string_value(json_array_get(scores, 0)), "5000");
        json_decref(due);
        json_decref(scores);
        due = store_timers_due(f->store, 4999, 10, &scores);
        assert_int_equal(json_array_size(due), 0);
        assert_int_equal(json_array_size(scores), 0);
        json_decref(due);
        json_decref(scores);
        /* Delivered: the entry goes once, and the index is pruned. */
        int one;
        assert_int_equal(store_outbox_delete_many(f->store, hs, ids, 1, &one), 0);
        assert_int_equal(one, 1);
        assert_int_equal(store_outbox_delete_many(f->store, hs, ids, 1, &one), 0);
        assert_int_equal(one, 0);
        /* Many in one round trip: each answers for itself. */
        freeReplyObject(redis_command(f->redis, "HSET t:{H2}:outbox e2 x"));
        const char *hs2[] = {"H1", "H2", "H2"}, *ids2[] = {ids[0], "e2", "nope"};
        int del[3];
        assert_int_equal(store_outbox_delete_many(f->store, hs2, ids2, 3, del), 0);
        assert_int_equal(del[0], 0);
        assert_int_equal(del[1], 1);
        assert_int_equal(del[2], 0);
        assert_int_equal(rint_(f->redis, "EXISTS %s", "t:{H2}:outbox"), 0);
        assert_int_equal(store_pending_prune_many(f->store, hs, 1), 0);
        pending = store_pending_list(f->store);
        assert_int_equal(json_array_size(pending), 0);
        json_decref(pending);

        /* hearthctl's view: ledger oldest first, timeline newest first. */
        StoreDump d = dump_of(f->store, "H1");
        assert_int_equal(d.version, 1);
        assert_int_equal(json_array_size(d.ledger), 2);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(d.ledger, 1), "amount")),
                         2);
        assert_int_equal(json_array_size(d.timeline), 1);
        assert_int_equal(d.dedup_ids, 1);
        assert_int_equal(json_integer_value(json_object_get(d.offsets, "in/3")), 41);
        store_dump_done(&d);
        assert_int_equal(store_household_dump(f->store, "H9", &d), -ENOENT);
        /* One key per household: the record (and its outbox until delivered). */
        assert_int_equal(rint_(f->redis, "EXISTS %s", "t:{H1}:seen"), 0);
        assert_int_equal(rint_(f->redis, "EXISTS %s", "t:{H1}:ledger"), 0);
}

static void test_commit_checks(void **state)
{
        Fixture *f = *state;
        const char *tp[] = {"in/0"};
        int64_t off[] = {10};
        const char *seen[] = {HA};
        StoreCommit c = commit_of("H1", 0, "{\"n\":1}", tp, off, seen);
        assert_int_equal(store_commit(f->store, &c, 1, 1000), 0);
        assert_int_equal(c.result, 0);

        /* A stale version: refused, the document unchanged. */
        const char *seen2[] = {HB};
        off[0] = 11;
        c = commit_of("H1", 0, "{\"n\":2}", tp, off, seen2);
        assert_int_equal(store_commit(f->store, &c, 1, 1000), 0);
        assert_int_equal(c.result, -ESTALE);

        /* What the checks before a commit see: the offset applied and the
         * source+id remembered, on the record read. */
        StoreRead r;
        int64_t applied[1];
        bool found[1];
        assert_int_equal(read_one(f->store, "H1", "in/0", seen, 1, &r, applied, found), 0);
        assert_int_equal(r.version, 1);
        assert_int_equal(json_integer_value(json_object_get(r.doc, "n")), 1);
        assert_int_equal(applied[0], 10);
        assert_true(found[0]);

        /* A commit on that record keeps what it does not change: the
         * earlier partition's offset and dedup id, beside the new ones. */
        const char *tp2[] = {"in/1"};
        off[0] = 5;
        StoreCommit two[2] = {commit_of("H1", 1, "{\"n\":2}", tp2, off, seen2),
                              commit_of("H2", 5, "{}", tp2, off, seen2)};
        two[0].prev = &r.rec;
        assert_int_equal(store_commit(f->store, two, 2, 1000), 0);
        assert_int_equal(two[0].result, 0);
        assert_int_equal(two[0].new_version, 2);
        assert_int_equal(two[1].result, -ESTALE);
        store_read_done(&r);
        StoreDump d = dump_of(f->store, "H1");
        assert_int_equal(json_integer_value(json_object_get(d.offsets, "in/0")), 10);
        assert_int_equal(json_integer_value(json_object_get(d.offsets, "in/1")), 5);
        assert_int_equal(d.dedup_ids, 2);
        assert_int_equal(json_integer_value(json_object_get(d.doc, "n")), 2);
        store_dump_done(&d);
}

static void test_bounds(void **state)
{
        Fixture *f = *state;
        /* 60 timeline entries and 5 seen ids: STORE_TIMELINE_MAX and the
         * dedup bound are kept, the newest. */
        const char *timeline[60], *seen[5] = {"d0", "d1", "d2", "d3", "d4"};
        char tl[60][32];
        for (int i = 0; i < 60; i++) {
                snprintf(tl[i], sizeof(tl[i]), "{\"i\":%d}", i);
                timeline[i] = tl[i];
        }
        store_set_limits(f->store, 3, 2);
        const char *ledger[] = {"1", "2", "3"};
        StoreCommit c = {.household = "H1",
                         .doc = "{}",
                         .seen = seen,
                         .n_seen = 5,
                         .timeline = timeline,
                         .n_timeline = 60,
                         .ledger = ledger,
                         .n_ledger = 3};
        assert_int_equal(store_commit(f->store, &c, 1, 1000), 0);
        assert_int_equal(c.result, 0);
        StoreDump d = dump_of(f->store, "H1");
        assert_int_equal(json_array_size(d.timeline), STORE_TIMELINE_MAX);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(d.timeline, 0), "i")),
                         59);
        assert_int_equal(d.dedup_ids, 3);
        assert_int_equal(json_array_size(d.ledger), 2);
        assert_string_equal(json_string_value(json_array_get(d.ledger, 0)), "2"); /* oldest kept */
        store_dump_done(&d);
        /* Seen ids older than the dedup window go at the next commit. */
        StoreRead r;
        int64_t applied[1];
        assert_int_equal(read_one(f->store, "H1", "in/0", NULL, 0, &r, applied, NULL), 0);
        const char *later[] = {"e0"};
        c = (StoreCommit){.household = "H1",
                          .prev = &r.rec,
                          .expected_version = 1,
                          .doc = "{}",
                          .seen = later,
                          .n_seen = 1};
        assert_int_equal(store_commit(f->store, &c, 1, 1000 + 86400000 + 1), 0);
        assert_int_equal(c.result, 0);
        store_read_done(&r);
        d = dump_of(f->store, "H1");
        assert_int_equal(d.dedup_ids, 1);
        assert_int_equal(json_array_size(d.timeline), STORE_TIMELINE_MAX); /* kept */
        store_dump_done(&d);
}

static void test_erase(void **state)
{
        Fixture *f = *state;
        const char *ledger[] = {"{\"amount\":1}"}, *timeline[] = {"{\"name\":\"x\"}"};
        const char *seen[] = {HA};
        StoreCommit c = {.household = "H1",
                         .doc = "{\"n\":1}",
                         .seen = seen,
                         .n_seen = 1,
                         .ledger = ledger,
                         .n_ledger = 1,
                         .timeline = timeline,
                         .n_timeline = 1};
        assert_int_equal(store_commit(f->store, &c, 1, 1000), 0);
        StoreRead r;
        int64_t applied[1];
        assert_int_equal(read_one(f->store, "H1", "in/0", NULL, 0, &r, applied, NULL), 0);
        assert_int_equal(r.rec.n_ledger, 1);
        c = (StoreCommit){.household = "H1",
                          .prev = &r.rec,
                          .expected_version = 1,
                          .doc = "{\"erased\":true}",
                          .timeline = timeline,
                          .n_timeline = 1,
                          .erase = true};
        assert_int_equal(store_commit(f->store, &c, 1, 1000), 0);
        assert_int_equal(c.result, 0);
        store_read_done(&r);
        StoreDump d = dump_of(f->store, "H1");
        assert_true(json_is_true(json_object_get(d.doc, "erased")));
        assert_int_equal(json_array_size(d.ledger) + json_array_size(d.timeline), 0);
        /* Dedup stays: a replayed event is still known. */
        assert_int_equal(d.dedup_ids, 1);
        store_dump_done(&d);
}

static void test_read_errors(void **state)
{
        Fixture *f = *state;
        /* A state key of the wrong type and a document that is not JSON:
         * errors of those households only. */
        redisReply *rep = redis_command(f->redis, "SET t:{H1}:h text");
        freeReplyObject(rep);
        rep = redis_command(f->redis, "HSET t:{H2}:h v 3 doc {broken");
        freeReplyObject(rep);
        const char *tps[] = {"in/0"};
        int64_t applied[3][1];
        StoreRead r[3] = {
            {.household = "H1", .tps = tps, .n_tps = 1, .applied = applied[0]},
            {.household = "H2", .tps = tps, .n_tps = 1, .applied = applied[1]},
            {.household = "H3", .tps = tps, .n_tps = 1, .applied = applied[2]},
        };
        assert_int_equal(store_read(f->store, r, 3), 0);
        assert_int_equal(r[0].err, -EINVAL);
        assert_non_null(strstr(r[0].errmsg, "redis: not a household record"));
        assert_int_equal(r[1].err, -EINVAL);
        assert_non_null(strstr(r[1].errmsg, "redis: WRONGTYPE"));
        assert_null(r[1].doc);
        assert_int_equal(r[2].err, 0);
        assert_int_equal(applied[2][0], -1);
        /* A commit onto a key that is no record: a key error, nothing written. */
        StoreCommit c = {.household = "H1", .doc = "{}"};
        assert_int_equal(store_commit(f->store, &c, 1, 1000), 0);
        assert_int_equal(c.result, -EINVAL);
        assert_non_null(strstr(c.errmsg, "redis: "));

        /* The epoch vanished (FLUSHALL): the read says the state is lost. */
        assert_int_equal(rint_(f->redis, "DEL %s", "t:epoch"), 1);
        assert_int_equal(store_read(f->store, &r[2], 1), -ESTALE);
}

/* Redis written by an older hearth: the start refuses, naming the
 * command; hearthctl migrate converts every household, keeping its
 * version, offsets, dedup ids with their times, ledger and timeline. */
static void test_migrate(void **state)
{
        Fixture *f = *state;
        const char *cmds[] = {
            "DEL t:format",
            "HSET t:{H1}:h v 7 doc {\"n\":7} o:in/0 41 o:in/1 9",
            "ZADD t:{H1}:seen 1000 00000000000000aa 2000 00000000000000bb",
            "RPUSH t:{H1}:ledger {\"amount\":1} {\"amount\":2}",
            "LPUSH t:{H1}:timeline {\"i\":1} {\"i\":2}",
            "HSET t:{H2}:h v 1 doc {}",
        };
        for (size_t i = 0; i < ELEMENTSOF(cmds); i++)
                freeReplyObject(redis_command(f->redis, cmds[i]));
        Store *s = store_new(f->redis, "t", "grp", 86400000LL * 365 * 100);
        assert_non_null(s);
        assert_int_equal(store_prepare(s), -EPROTO);
        assert_non_null(strstr(store_errstr(s), "hearthctl migrate"));
        size_t done = 0;
        assert_int_equal(store_migrate(s, &done), 0);
        assert_int_equal(done, 2);
        assert_int_equal(store_prepare(s), 0);
        StoreDump d = dump_of(s, "H1");
        assert_int_equal(d.version, 7);
        assert_int_equal(json_integer_value(json_object_get(d.doc, "n")), 7);
        assert_int_equal(json_integer_value(json_object_get(d.offsets, "in/0")), 41);
        assert_int_equal(json_integer_value(json_object_get(d.offsets, "in/1")), 9);
        assert_int_equal(d.dedup_ids, 2);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(d.ledger, 0), "amount")),
                         1);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(d.timeline, 0), "i")),
                         2);
        store_dump_done(&d);
        assert_int_equal(rint_(f->redis, "EXISTS %s", "t:{H1}:seen"), 0);
        assert_int_equal(rint_(f->redis, "EXISTS %s", "t:{H1}:timeline"), 0);
        /* Again: nothing left to convert. */
        assert_int_equal(store_migrate(s, &done), 0);
        assert_int_equal(done, 0);
        const char *look[] = {"00000000000000bb"};
        StoreRead r;
        int64_t applied[1];
        bool found[1];
        assert_int_equal(read_one(s, "H1", "in/1", look, 1, &r, applied, found), 0);
        assert_int_equal(applied[0], 9);
        assert_true(found[0]);
        store_read_done(&r);
        store_free(s);
}

static void test_noscript(void **state)
{
        Fixture *f = *state;
        redisReply *rep = redis_command(f->redis, "SCRIPT FLUSH");
        freeReplyObject(rep);
        StoreCommit c = {.household = "H1", .doc = "{}"};
        assert_int_equal(store_commit(f->store, &c, 1, 1000), 0);
        assert_int_equal(c.result, -ENOEXEC);
        assert_non_null(strstr(store_errstr(f->store), "reloaded"));
        /* Reloaded: the retry commits. */
        assert_int_equal(store_commit(f->store, &c, 1, 1000), 0);
        assert_int_equal(c.result, 0);
        assert_int_equal(c.new_version, 1);
}

static void test_attempts_positions(void **state)
{
        Fixture *f = *state;
        const char *tps[] = {"in/0", "in/1"};
        int64_t offs[] = {100, 200}, counts[2], pos[2];
        assert_int_equal(store_attempts_peek(f->store, tps, offs, 2, counts), 0);
        assert_int_equal(counts[0] + counts[1], 0);
        assert_int_equal(store_attempts(f->store, tps, offs, 2, counts), 0);
        assert_int_equal(counts[0], 1);
        assert_int_equal(counts[1], 1);
        /* The same start again (hearthd died on it), and a new start. */
        offs[1] = 201;
        assert_int_equal(store_attempts(f->store, tps, offs, 2, counts), 0);
        assert_int_equal(counts[0], 2);
        assert_int_equal(counts[1], 1);
        assert_int_equal(store_attempts_peek(f->store, tps, offs, 2, counts), 0);
        assert_int_equal(counts[0], 2);
        assert_int_equal(counts[1], 1);
        offs[0] = 101;
        assert_int_equal(store_attempts_peek(f->store, tps, offs, 2, counts), 0);
        assert_int_equal(counts[0], 0);

        assert_int_equal(store_positions_get(f->store, tps, 2, pos), 0);
        assert_int_equal(pos[0], -1);
        assert_int_equal(store_positions_set(f->store, tps, offs, 2), 0);
        assert_int_equal(store_positions_get(f->store, tps, 2, pos), 0);
        assert_int_equal(pos[0], 101);
        assert_int_equal(pos[1], 201);
        assert_int_equal(rint_(f->redis, "HLEN %s", "t:pos:{grp}"), 2);
}

static void test_counters(void **state)
{
        Fixture *f = *state;
        const char *const fields[] = {"raised", "eliminated"};
        assert_int_equal(store_stats_incr(f->store, fields, 2, 3), 0);
        assert_int_equal(store_stats_incr(f->store, fields, 1, 2), 0);
        json_t *st = store_stats_get(f->store);
        assert_int_equal(json_integer_value(json_object_get(st, "raised")), 5);
        assert_int_equal(json_integer_value(json_object_get(st, "eliminated")), 3);
        json_decref(st);
        const char *const rules[] = {"open_need|helped"};
        const int64_t by[] = {4};
        assert_int_equal(store_outcomes_incr(f->store, rules, by, 1), 0);
        json_t *o = store_outcomes_get(f->store);
        assert_int_equal(json_object_size(o), 1);
        assert_int_equal(json_integer_value(json_object_get(o, "open_need|helped")), 4);
        json_decref(o);
        /* A field that is not an integer: a Redis error, told apart. */
        redisReply *rep = redis_command(f->redis, "HSET t:rule_outcomes x text");
        freeReplyObject(rep);
        const char *const bad[] = {"x"};
        assert_int_equal(store_outcomes_incr(f->store, bad, by, 1), -EINVAL);
}

/* The score of a household in the due-time index (-1: none). */
static long long timer_score(Fixture *f, const char *h)
{
        redisReply *r = redis_command(f->redis, "ZSCORE t:timers %s", h);
        long long v = r && r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : -1;
        if (r)
                freeReplyObject(r);
        return v;
}

/* The timer path moves a due time only where the index still holds the
 * one it saw: a commit of another instance that wrote a sooner one
 * meanwhile wins. */
static void test_timer_move(void **state)
{
        Fixture *f = *state;
        assert_int_equal(store_timer_set(f->store, "H1", 1796605070036), 0);
        assert_int_equal(store_timer_set(f->store, "H2", 4000), 0);
        assert_int_equal(store_timer_set(f->store, "H3", 9000), 0);
        json_t *scores = NULL;
        json_t *due = store_timers_due(f->store, 1796605070036, 10, &scores);
        assert_non_null(due);
        assert_non_null(scores);
        assert_int_equal(json_array_size(due), 3);
        assert_int_equal(json_array_size(scores), 3);
        /* Lowest first: H2 at 4000, H3 at 9000, H1. */
        assert_string_equal(json_string_value(json_array_get(due, 0)), "H2");
        assert_string_equal(json_string_value(json_array_get(due, 2)), "H1");
        const char *seen1 = json_string_value(json_array_get(scores, 2));
        const char *seen2 = json_string_value(json_array_get(scores, 0));
        const char *seen3 = json_string_value(json_array_get(scores, 1));

        /* Still as seen: moved (a 13-digit time survives the double). */
        assert_int_equal(store_timer_move(f->store, "H1", seen1, 1796605099999), 1);
        assert_int_equal(timer_score(f, "H1"), 1796605099999);
        /* A commit wrote 5000 since H2 was seen at 4000: left as it is. */
        assert_int_equal(store_timer_set(f->store, "H2", 5000), 0);
        assert_int_equal(store_timer_move(f->store, "H2", seen2, 90000), 0);
        assert_int_equal(timer_score(f, "H2"), 5000);
        /* ... and a removal is refused the same way. */
        assert_int_equal(store_timer_move(f->store, "H2", seen2, 0), 0);
        assert_int_equal(timer_score(f, "H2"), 5000);
        /* As seen, 0 removes it. */
        assert_int_equal(store_timer_move(f->store, "H3", seen3, 0), 1);
        assert_int_equal(timer_score(f, "H3"), -1);
        /* Gone meanwhile: not put back. */
        assert_int_equal(store_timer_move(f->store, "H3", seen3, 7000), 0);
        assert_int_equal(timer_score(f, "H3"), -1);
        /* Without a seen score nothing is written. */
        assert_int_equal(store_timer_move(f->store, "H3", NULL, 7000), -EINVAL);
        assert_int_equal(timer_score(f, "H3"), -1);
        /* Brought forward, never back; added when missing. */
        assert_int_equal(store_timer_soon(f->store, "H1", 6000), 0);
        assert_int_equal(timer_score(f, "H1"), 6000);
        assert_int_equal(store_timer_soon(f->store, "H1", 8000), 0);
        assert_int_equal(timer_score(f, "H1"), 6000);
        assert_int_equal(store_timer_soon(f->store, "H3", 7000), 0);
        assert_int_equal(timer_score(f, "H3"), 7000);
        /* Several in one round trip, each on its own: H1 and H3 as seen
         * (6000, 7000), H2 not (5000 since). */
        int moved[3] = {-1, -1, -1};
        StoreTimerMove m[3] = {{"H1", "6000", 61000}, {"H2", "4000", 0}, {"H3", "7000", 0}};
        assert_int_equal(store_timer_moves(f->store, m, 3, moved), 0);
        assert_int_equal(moved[0], 1);
        assert_int_equal(moved[1], 0);
        assert_int_equal(moved[2], 1);
        assert_int_equal(timer_score(f, "H1"), 61000);
        assert_int_equal(timer_score(f, "H2"), 5000);
        assert_int_equal(timer_score(f, "H3"), -1);
        /* One without a seen score: none of them is written. */
        m[1].seen = NULL;
        m[0].seen = "61000";
        assert_int_equal(store_timer_moves(f->store, m, 3, NULL), -EINVAL);
        assert_int_equal(timer_score(f, "H1"), 61000);
        json_decref(due);
        json_decref(scores);
        /* The index holds something else than a sorted set: an error. */
        redisReply *rep = redis_command(f->redis, "SET t:timers x");
        freeReplyObject(rep);
        assert_int_equal(store_timer_move(f->store, "H1", "1", 2), -EIO);
        assert_int_equal(store_timer_soon(f->store, "H1", 2), -EIO);
        assert_int_equal(store_timer_moves(f->store, m, 1, NULL), -EIO);
        assert_null(store_timers_due(f->store, 1, 10, &scores));
        assert_null(scores);
        /* The connection is still in step: the next command gets its own reply. */
        assert_int_equal(store_timer_soon(f->store, "H1", 2), -EIO);
}

/* A pipelined command's value as Redis stored it (GET key), length in *len. */
static char *get_value(Redis *r, const char *key, size_t *len)
{
        redisReply *rep = redis_command(r, "GET %s", key);
        assert_non_null(rep);
        assert_int_equal(rep->type, REDIS_REPLY_STRING);
        char *v = malloc(rep->len + 1);
        assert_non_null(v);
        memcpy(v, rep->str, rep->len);
        v[rep->len] = '\0';
        *len = rep->len;
        freeReplyObject(rep);
        return v;
}

/* redis_append() writes the RESP itself (redis.c): arguments with CR, LF
 * and NUL bytes arrive whole; one larger than the kept buffer (256 KiB) and
 * a small one after it (the kept buffer still right); lengths from strlen
 * when lens is NULL; rcmd's joined keys and integers, INT64_MIN included. */
static void test_append_formats(void **state)
{
        Fixture *f = *state;
        static const char bin[] = "a\r\nb\0c$3\r\n";
        size_t big_len = 300 * 1024;
        char *big = malloc(big_len);
        assert_non_null(big);
        for (size_t i = 0; i < big_len; i++)
                big[i] = (char)(i * 7 + 1);
        const char *set_bin[] = {"SET", "k:bin", bin};
        const size_t bin_lens[] = {3, 5, sizeof(bin) - 1};
        const char *set_big[] = {"SET", "k:big", big};
        const size_t big_lens[] = {3, 5, big_len};
        const char *set_str[] = {"SET", "k:str", "温溪镇"};
        redis_append(f->redis, 3, set_bin, bin_lens);
        redis_append(f->redis, 3, set_big, big_lens);
        redis_append(f->redis, 3, set_str, NULL);
        RCmd c;
        assert_int_equal(rcmd_init(&c, 3), 0);
        const char *parts[] = {"k", ":{", "H1", "}:", "int"};
        rcmd_push_str(&c, "SET");
        rcmd_push_cat(&c, ELEMENTSOF(parts), parts);
        rcmd_push_int(&c, INT64_MIN);
        assert_int_equal(c.err, 0);
        redis_append(f->redis, (int)c.argc, c.argv, c.lens);
        rcmd_done(&c);
        for (int i = 0; i < 4; i++) {
                redisReply *rep;
                assert_int_equal(redis_get_reply(f->redis, &rep), 0);
                assert_int_equal(rep->type, REDIS_REPLY_STATUS);
                freeReplyObject(rep);
        }
        size_t len;
        char *v = get_value(f->redis, "k:bin", &len);
        assert_int_equal(len, sizeof(bin) - 1);
        assert_memory_equal(v, bin, len);
        free(v);
        v = get_value(f->redis, "k:big", &len);
        assert_int_equal(len, big_len);
        assert_memory_equal(v, big, len);
        free(v);
        v = get_value(f->redis, "k:str", &len);
        assert_string_equal(v, "温溪镇");
        free(v);
        v = get_value(f->redis, "k:{H1}:int", &len);
        assert_string_equal(v, "-9223372036854775808");
        free(v);
        /* Nine parts are more than rcmd_push_cat() joins: refused, kept. */
        assert_int_equal(rcmd_init(&c, 2), 0);
        const char *nine[9] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
        rcmd_push_cat(&c, 9, nine);
        assert_int_equal(c.err, -EINVAL);
        rcmd_done(&c);
        free(big);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_prepare, setup, teardown),
            cmocka_unit_test_setup_teardown(test_commit_and_read, setup, teardown),
            cmocka_unit_test_setup_teardown(test_commit_checks, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
            cmocka_unit_test_setup_teardown(test_erase, setup, teardown),
            cmocka_unit_test_setup_teardown(test_read_errors, setup, teardown),
            cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
            cmocka_unit_test_setup_teardown(test_noscript, setup, teardown),
            cmocka_unit_test_setup_teardown(test_attempts_positions, setup, teardown),
            cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
            cmocka_unit_test_setup_teardown(test_timer_move, setup, teardown),
            cmocka_unit_test_setup_teardown(test_append_formats, setup, teardown),
        };
        return cmocka_run_group_tests(tests, redis_server_start, redis_server_stop);
}
