/* Unit tests of the outbox (outbox.c) against a real redis-server: a
 * commit's outputs become entries "<ms> <CloudEvent>", a delivery report
 * only queues its entry (the callback runs inside the producer's poll and
 * never touches Redis), the drain at one point of the loop deletes it and
 * counts it once, and an entry whose deletion fails stays queued and in
 * flight (the relay skips it) until Redis is back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include "pipeline_impl.h"
#include "redis_server.h"

typedef struct {
        Redis *redis;
        Store *store;
        Config *cfg;
        Pipeline *p;
} Fixture;

static int setup(void **state)
{
        char err[256];
        Fixture *f = calloc(1, sizeof(Fixture));
        Diag *d = diag_new();
        if (!f || !d || config_load_buffer("", 0, "./defaults", NULL, 0, &f->cfg, d) < 0)
                return -1;
        diag_free(d);
        if (!(f->redis = redis_new(redis_server_url, NULL, 1000, 5000, err, sizeof(err))) ||
            redis_connect(f->redis) < 0)
                return -1;
        redisReply *r = redis_command(f->redis, "FLUSHALL");
        if (!r)
                return -1;
        freeReplyObject(r);
        f->store = store_new(f->redis, "t", "grp", 86400000);
        if (!f->store || store_prepare(f->store) < 0)
                return -1;
        f->p = pipeline_new(f->cfg, f->store, NULL);
        *state = f;
        return f->p ? 0 : -1;
}

static int teardown(void **state)
{
        Fixture *f = *state;
        pipeline_free(f->p);
        store_free(f->store);
        redis_free(f->redis);
        config_free(f->cfg);
        free(f);
        return 0;
}

/* An output as lifecycle.c emits it. */
static json_t *output(const char *id, const char *type)
{
        return json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "id", id, "type", type, "time",
                         "2026-03-02T08:00:00+08:00", "data", "alert_id", "a-1", "code", "red",
                         "town", "温溪镇");
}

/* Commits household h with the outbox entries of gc; returns the result. */
static int commit_outbox(Fixture *f, const char *h, GroupCommit *gc)
{
        gc->c.household = h;
        gc->c.expected_version = 0;
        gc->c.doc = "{}";
        StoreCommit c = gc->c;
        assert_int_equal(store_commit(f->store, &c, 1, 1000), 0);
        return c.result;
}

/* The entries of h's outbox in Redis: a JSON object id -> value. */
static json_t *entries(Fixture *f, const char *h)
{
        const char *hh[1] = {h};
        json_t *all = store_outbox_get_many(f->store, hh, 1);
        assert_non_null(all);
        json_t *e = json_incref(json_array_get(all, 0));
        json_decref(all);
        return e;
}

static void deliver(Fixture *f, const char *h, const char *id, bool ok, const char *payload)
{
        Delivery d = {.kind = DELIVERY_OUTBOX, .household = (char *)h, .entry_id = (char *)id};
        rd_kafka_message_t m = {.payload = (void *)payload, .len = strlen(payload)};
        pipeline_on_delivery(&d, ok, ok ? NULL : "broker down", &m, f->p);
}

static void test_prepare(void **state)
{
        (void)state;
        GroupCommit gc = {0};
        gc.outputs = json_array();
        json_array_append_new(gc.outputs, output("a-1:raised:0", "risk.alert.raised"));
        json_array_append_new(gc.outputs, output("a-1:reminder:1", "risk.alert.reminder"));
        assert_true(outbox_prepare(&gc, "H1", 1234));
        assert_int_equal(gc.c.n_outbox, 2);
        assert_string_equal(gc.c.outbox_ids[0], "a-1:raised:0");
        assert_string_equal(gc.c.outbox_ids[1], "a-1:reminder:1");
        /* "<ms> <CloudEvent>": the time it was written, then the event. */
        assert_true(strncmp(gc.c.outbox_vals[0], "1234 {", 6) == 0);
        json_t *ce = json_loads(gc.c.outbox_vals[0] + 5, 0, NULL);
        assert_non_null(ce);
        assert_string_equal(json_string_value(json_object_get(ce, "id")), "a-1:raised:0");
        assert_string_equal(json_string_value(json_object_get(ce, "subject")), "H1");
        assert_string_equal(json_string_value(json_object_get(ce, "specversion")), "1.0");
        json_decref(ce);
        group_commit_done(&gc);
}

/* The delivery report queues; the drain deletes and counts once. */
static void test_delivery_drained(void **state)
{
        Fixture *f = *state;
        GroupCommit gc = {0};
        gc.outputs = json_array();
        json_array_append_new(gc.outputs, output("a-1:raised:0", "risk.alert.raised"));
        assert_true(outbox_prepare(&gc, "H2", 1000));
        assert_int_equal(commit_outbox(f, "H2", &gc), 0);
        /* As outbox_send() after producing it. */
        assert_int_equal(strset_add(f->p->in_flight, "H2\na-1:raised:0"), 0);
        const char *payload = strchr(gc.c.outbox_vals[0], ' ') + 1;
        deliver(f, "H2", "a-1:raised:0", true, payload);
        json_t *e = entries(f, "H2");
        assert_int_equal(json_object_size(e), 1); /* untouched by the callback */
        json_decref(e);
        assert_int_equal(pipeline_in_flight(f->p), 1); /* the relay skips it */
        assert_int_equal(f->p->stats.outputs_delivered, 1);
        assert_int_equal(pipeline_drain_deliveries(f->p), 0);
        e = entries(f, "H2");
        assert_int_equal(json_object_size(e), 0);
        json_decref(e);
        assert_int_equal(pipeline_in_flight(f->p), 0);
        json_t *stats = store_stats_get(f->store);
        assert_non_null(stats);
        assert_int_equal(json_integer_value(json_object_get(stats, "risk.alert.raised:red")), 1);
        assert_int_equal(json_integer_value(json_object_get(stats, "risk.alert.raised:red:温溪镇")),
                         1);
        json_decref(stats);
        /* A second report of the same entry (a resend) counts nothing. */
        assert_int_equal(strset_add(f->p->in_flight, "H2\na-1:raised:0"), 0);
        deliver(f, "H2", "a-1:raised:0", true, payload);
        assert_int_equal(pipeline_drain_deliveries(f->p), 0);
        stats = store_stats_get(f->store);
        assert_int_equal(json_integer_value(json_object_get(stats, "risk.alert.raised:red")), 1);
        json_decref(stats);
        group_commit_done(&gc);
}

/* The counts an output's delivery carries (outputs_count_of(), taken from
 * the output before it is rendered) count what the rendered text counts:
 * one delivery of each kind, the same output, twice the figures. */
static void test_delivery_counts_travel(void **state)
{
        Fixture *f = *state;
        const char *hh[2] = {"H5", "H6"};
        for (int k = 0; k < 2; k++) {
                GroupCommit gc = {0};
                gc.outputs = json_array();
                json_t *o = json_pack(
                    "{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:i}}", "id", "a-2:eliminated:1", "type",
                    "risk.eliminated", "time", "2026-03-02T08:00:00+08:00", "data", "alert_id",
                    "a-2", "previous_code", "yellow", "town", "船寮镇", "open_for", 3600);
                assert_non_null(o);
                json_array_append_new(gc.outputs, o);
                assert_true(outbox_prepare(&gc, hh[k], 1000));
                assert_int_equal(commit_outbox(f, hh[k], &gc), 0);
                char key[64];
                snprintf(key, sizeof(key), "%s\na-2:eliminated:1", hh[k]);
                assert_int_equal(strset_add(f->p->in_flight, key), 0);
                Delivery d = {.kind = DELIVERY_OUTBOX,
                              .household = (char *)hh[k],
                              .entry_id = "a-2:eliminated:1"};
                /* k 0: the counts travel; k 1: the text is read (the relay). */
                if (k == 0) {
                        assert_int_equal(outputs_count_of(o, &d.counts), 0);
                        assert_string_equal(d.counts.field[0], "risk.eliminated:yellow");
                        assert_string_equal(d.counts.field[1], "risk.eliminated:yellow:船寮镇");
                        assert_true(d.counts.has_open_for);
                }
                const char *payload = strchr(gc.c.outbox_vals[0], ' ') + 1;
                rd_kafka_message_t m = {.payload = (void *)payload, .len = strlen(payload)};
                pipeline_on_delivery(&d, true, NULL, &m, f->p);
                output_counts_clear(&d.counts);
                assert_int_equal(pipeline_drain_deliveries(f->p), 0);
                group_commit_done(&gc);
        }
        json_t *stats = store_stats_get(f->store);
        assert_non_null(stats);
        assert_int_equal(json_integer_value(json_object_get(stats, "risk.eliminated:yellow")), 2);
        assert_int_equal(
            json_integer_value(json_object_get(stats, "risk.eliminated:yellow:船寮镇")), 2);
        assert_int_equal(json_integer_value(json_object_get(stats, "eliminate_seconds_sum")), 7200);
        json_decref(stats);
}

/* A failed delivery leaves the entry in Redis and out of flight (the relay
 * sends it again); nothing is queued. */
static void test_delivery_failed(void **state)
{
        Fixture *f = *state;
        GroupCommit gc = {0};
        gc.outputs = json_array();
        json_array_append_new(gc.outputs, output("a-1:raised:0", "risk.alert.raised"));
        assert_true(outbox_prepare(&gc, "H3", 1000));
        assert_int_equal(commit_outbox(f, "H3", &gc), 0);
        assert_int_equal(strset_add(f->p->in_flight, "H3\na-1:raised:0"), 0);
        deliver(f, "H3", "a-1:raised:0", false, "{}");
        assert_int_equal(pipeline_in_flight(f->p), 0);
        assert_int_equal(f->p->n_delivered, 0);
        json_t *e = entries(f, "H3");
        assert_int_equal(json_object_size(e), 1);
        json_decref(e);
        group_commit_done(&gc);
}

/* Redis down at the drain: the entry stays queued and in flight, and goes
 * at the first drain after Redis is back. */
static void test_drain_while_redis_down(void **state)
{
        Fixture *f = *state;
        GroupCommit gc = {0};
        gc.outputs = json_array();
        json_array_append_new(gc.outputs, output("a-1:raised:0", "risk.alert.raised"));
        assert_true(outbox_prepare(&gc, "H4", 1000));
        assert_int_equal(commit_outbox(f, "H4", &gc), 0);
        assert_int_equal(strset_add(f->p->in_flight, "H4\na-1:raised:0"), 0);
        deliver(f, "H4", "a-1:raised:0", true, strchr(gc.c.outbox_vals[0], ' ') + 1);
        redis_disconnect(f->redis);
        assert_true(pipeline_drain_deliveries(f->p) < 0);
        assert_int_equal(f->p->n_delivered, 1);
        assert_int_equal(pipeline_in_flight(f->p), 1);
        assert_int_equal(redis_connect(f->redis), 0);
        assert_int_equal(pipeline_drain_deliveries(f->p), 0);
        assert_int_equal(f->p->n_delivered, 0);
        assert_int_equal(pipeline_in_flight(f->p), 0);
        json_t *e = entries(f, "H4");
        assert_int_equal(json_object_size(e), 0);
        json_decref(e);
        group_commit_done(&gc);
}

/* Two instances' relays read the same stranded entries: the first claim
 * takes them (their write time becomes its now, the output unchanged), the
 * second finds them claimed; a gone entry, a stale time and a key that is
 * not a hash are not claimed. */
static void test_claim(void **state)
{
        Fixture *f = *state;
        GroupCommit gc = {0};
        gc.outputs = json_array();
        json_array_append_new(gc.outputs, output("a-1:raised:0", "risk.alert.raised"));
        json_array_append_new(gc.outputs, output("a-1:reminder:1", "risk.alert.reminder"));
        assert_true(outbox_prepare(&gc, "H5", 1000));
        assert_int_equal(commit_outbox(f, "H5", &gc), 0);
        json_t *before = entries(f, "H5");
        char err[256];
        Redis *r2 = redis_new(redis_server_url, NULL, 1000, 5000, err, sizeof(err));
        assert_non_null(r2);
        assert_int_equal(redis_connect(r2), 0);
        Store *s2 = store_new(r2, "t", "grp", 86400000);
        assert_non_null(s2);
        const char *hh[1] = {"H5"};
        size_t first[2] = {0, 3};
        const char *ids[3] = {"a-1:raised:0", "a-1:reminder:1", "a-9:gone:0"};
        int64_t ms[3] = {1000, 1000, 1000};
        int won[3] = {-1, -1, -1}, lost[3] = {-1, -1, -1};
        assert_int_equal(store_outbox_claim(f->store, hh, 1, first, ids, ms, 20000, won), 0);
        assert_int_equal(store_outbox_claim(s2, hh, 1, first, ids, ms, 20001, lost), 0);
        assert_int_equal(won[0], 1);
        assert_int_equal(won[1], 1);
        assert_int_equal(won[2], 0);
        assert_int_equal(lost[0], 0);
        assert_int_equal(lost[1], 0);
        assert_int_equal(lost[2], 0);
        json_t *after = entries(f, "H5");
        for (size_t i = 0; i < 2; i++) {
                const char *b = json_string_value(json_object_get(before, ids[i]));
                const char *a = json_string_value(json_object_get(after, ids[i]));
                assert_non_null(a);
                assert_int_equal(strncmp(a, "20000 ", 6), 0);
                assert_string_equal(strchr(a, ' '), strchr(b, ' '));
        }
        /* The claimed time is the one to present next time. */
        ms[0] = ms[1] = 20000;
        first[1] = 2;
        assert_int_equal(store_outbox_claim(s2, hh, 1, first, ids, ms, 40000, lost), 0);
        assert_int_equal(lost[0], 1);
        assert_int_equal(lost[1], 1);
        /* A key that is not a hash: nothing claimed, the reason kept. */
        redisReply *rep = redis_command(f->redis, "SET t:{H6}:outbox x");
        assert_non_null(rep);
        freeReplyObject(rep);
        const char *h6[1] = {"H6"};
        first[1] = 1;
        won[0] = -1;
        assert_int_equal(store_outbox_claim(f->store, h6, 1, first, ids, ms, 40000, won), 0);
        assert_int_equal(won[0], 0);
        assert_non_null(strstr(store_errstr(f->store), "outbox claim"));
        json_decref(before);
        json_decref(after);
        store_free(s2);
        redis_free(r2);
        group_commit_done(&gc);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_prepare),
            cmocka_unit_test_setup_teardown(test_delivery_drained, setup, teardown),
            cmocka_unit_test_setup_teardown(test_delivery_counts_travel, setup, teardown),
            cmocka_unit_test_setup_teardown(test_delivery_failed, setup, teardown),
            cmocka_unit_test_setup_teardown(test_drain_while_redis_down, setup, teardown),
            cmocka_unit_test_setup_teardown(test_claim, setup, teardown),
        };
        return cmocka_run_group_tests(tests, redis_server_start, redis_server_stop);
}
