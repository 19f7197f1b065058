/* Unit tests of closing an alert: resolutions, satisfaction and reopening, measures. */
/* The alert lifecycle (lifecycle.h) after help: alert.resolved and the
 * suppression of the rules it resolved, satisfaction ratings and reopening
 * on a low score (each transition with its own output id), and the
 * measures listed with an elimination. The fixture is in
 * lifecycle_fixture.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "household.h"
#include "lifecycle.h"
#include "macro.h"

#include "lifecycle_fixture.h"

/* Help recorded on the open alert (a measure), which an alert.resolved
 * needs to eliminate the risk (CONTRACT.md, closing the loop). */
static void given_help(Fx *f)
{
        json_t *a = json_object_get(f->doc, "alert");
        assert_non_null(a);
        json_t *ms = json_object_get(a, "measures");
        if (!ms) {
                ms = json_array();
                json_object_set_new(a, "measures", ms);
        }
        json_array_append_new(ms, json_pack("{s:s, s:s, s:s}", "measure", "other", "by", "C1",
                                            "applied_on", "2026-03-02"));
}

/* ---- alert.resolved ------------------------------------------------------ */

static void test_resolved(void **state)
{
        (void)state;
        Fx f;
        fx_init(&f, "H6");
        f.now = T0 + HOUR;
        char aid[80];
        snprintf(aid, sizeof(aid), "%s", raise_red(&f, "{\"a\":1}"));

        /* Resolved with no help recorded: refused, the alert stays open. */
        f.now += HOUR;
        assert_int_equal(step(&f, eval_of(false, RED_ILLNESS("{\"a\":1}"), NULL), "alert.resolved",
                              "{\"alert_id\":\"%s\",\"by\":\"C1\"}", aid),
                         0);
        assert_true(f.flags & LIFECYCLE_RESOLUTION_REFUSED);
        assert_non_null(json_object_get(f.doc, "alert"));
        const json_t *ref = json_object_get(f.doc, "refusals");
        assert_int_equal(num(ref, "n"), 1);
        assert_string_equal(str(ref, "alert"), aid);

        /* Resolved after help while the rule still fires with the same evidence. */
        f.now += DAY - HOUR;
        given_help(&f);
        assert_int_equal(step(&f, eval_of(false, RED_ILLNESS("{\"a\":1}"), NULL), "alert.resolved",
                              "{\"alert_id\":\"%s\",\"by\":\"C1\",\"note\":\"paid\"}", aid),
                         1);
        assert_false(f.flags & LIFECYCLE_RESOLUTION_REFUSED);
        const json_t *d = data(last(&f, 0, "risk.eliminated"));
        assert_string_equal(str(d, "alert_id"), aid);
        assert_string_equal(str(d, "previous_code"), "red");
        assert_int_equal(num(d, "open_for"), 86400);
        assert_null(json_object_get(f.doc, "alert"));

        /* The same rule, the same evidence: no new alert. */
        f.now += DAY;
        assert_int_equal(step(&f, eval_of(false, RED_ILLNESS("{\"a\":1}"), NULL), NULL, NULL), 0);
        assert_int_equal(step(&f, eval_of(false, RED_ILLNESS("{\"a\":1}"), NULL), NULL, NULL), 0);

        /* Other evidence: a new alert with a new id. */
        f.now += DAY;
        assert_int_equal(step(&f, eval_of(false, RED_ILLNESS("{\"a\":2}"), NULL), NULL, NULL), 1);
        d = data(last(&f, 0, "risk.alert.raised"));
        assert_string_not_equal(str(d, "alert_id"), aid);
        assert_int_equal(json_array_size(json_object_get(d, "reasons")), 1);
        expect_unique_ids(f.out);
        fx_done(&f);
}

/* Resolution with another reason still active; wrong ids are ignored. */
static void test_resolved_partial(void **state)
{
        (void)state;
        Fx f;
        fx_init(&f, "H6b");
        const char *aid0 = raise_red(&f, "{\"a\":1}");
        char aid[80];
        snprintf(aid, sizeof(aid), "%s", aid0);

        f.now += HOUR;
        assert_int_equal(step(&f, eval_of(false, RED_ILLNESS("{\"a\":1}"), NULL), "alert.resolved",
                              "{\"alert_id\":\"nope\",\"by\":\"C1\"}"),
                         0);
        assert_non_null(json_object_get(f.doc, "alert"));

        /* A new yellow reason in the very step of the resolution stays. */
        f.now += HOUR;
        assert_int_equal(step(&f,
                              eval_of(false, RED_ILLNESS("{\"a\":1}"),
                                      YELLOW_NEED("{\"need_id\":\"N1\"}"), NULL),
                              NULL, NULL),
                         1);
        last(&f, 0, "risk.alert.changed");
        f.now += HOUR;
        given_help(&f);
        assert_int_equal(
            step(&f,
                 eval_of(false, RED_ILLNESS("{\"a\":1}"), YELLOW_NEED("{\"need_id\":\"N1\"}"),
                         RED_DISASTER("{\"d\":1}"), NULL),
                 "alert.resolved", "{\"alert_id\":\"%s\",\"by\":\"C1\"}", aid),
            1);
        /* The disaster reason appeared after the resolution was written. */
        const json_t *d = data(last(&f, 0, "risk.alert.changed"));
        assert_string_equal(str(d, "alert_id"), aid);
        assert_int_equal(json_array_size(json_object_get(d, "reasons")), 1);
        assert_string_equal(str(json_array_get(json_object_get(d, "reasons"), 0), "rule"),
                            "disaster.house");
        /* A suppressed rule that stopped firing counts again afterwards. */
        f.now += HOUR;
        assert_int_equal(step(&f, eval_of(false, RED_DISASTER("{\"d\":1}"), NULL), NULL, NULL), 0);
        f.now += HOUR;
        assert_int_equal(
            step(&f, eval_of(false, RED_DISASTER("{\"d\":1}"), RED_ILLNESS("{\"a\":1}"), NULL),
                 NULL, NULL),
            1);
        assert_int_equal(
            json_array_size(json_object_get(data(last(&f, 0, "risk.alert.changed")), "reasons")),
            2);
        expect_unique_ids(f.out);
        fx_done(&f);
}

/* ---- satisfaction -------------------------------------------------------- */

static void test_satisfaction(void **state)
{
        (void)state;
        static const struct {
                int score;
                bool reopens;
        } cases[] = {{1, true}, {2, true}, {3, false}, {4, false}, {5, false}};
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Fx f;
                fx_init(&f, "H7");
                print_message("# score %d\n", cases[i].score);
                char aid[80];
                snprintf(aid, sizeof(aid), "%s", raise_red(&f, "{\"a\":1}"));
                char raised_id[160];
                snprintf(raised_id, sizeof(raised_id), "%s",
                         str(last(&f, 0, "risk.alert.raised"), "id"));
                f.now += DAY;
                assert_int_equal(step(&f, GREEN(), NULL, NULL), 1);
                last(&f, 0, "risk.eliminated");

                f.now += DAY;
                size_t n = step(&f, GREEN(), "satisfaction.rated",
                                "{\"alert_id\":\"%s\",\"score\":%d,\"comment\":\"c\"}", aid,
                                cases[i].score);
                assert_int_equal(n, cases[i].reopens ? 1 : 0);
                if (!cases[i].reopens) {
                        assert_null(json_object_get(f.doc, "alert"));
                        fx_done(&f);
                        continue;
                }
                const json_t *o = last(&f, 0, "risk.alert.raised");
                assert_string_not_equal(str(o, "id"), raised_id);
                const json_t *d = data(o);
                assert_string_equal(str(d, "alert_id"), aid);
                assert_string_equal(str(d, "code"), "yellow");
                assert_string_equal(str(d, "previous_code"), "green");
                expect_time(str(d, "raised_at"), f.now);
                expect_time(str(d, "respond_by"), f.now + 72 * HOUR);
                const json_t *reasons = json_object_get(d, "reasons");
                assert_int_equal(json_array_size(reasons), 1);
                const json_t *r = json_array_get(reasons, 0);
                assert_string_equal(str(r, "rule"), "satisfaction_low");
                assert_string_equal(str(r, "severity"), "yellow");
                assert_int_equal(num(json_object_get(r, "evidence"), "score"), cases[i].score);

                /* It stays open while green, until resolved after help. */
                f.now += HOUR;
                assert_int_equal(step(&f, GREEN(), NULL, NULL), 0);
                f.now += HOUR;
                given_help(&f);
                assert_int_equal(
                    step(&f, GREEN(), "alert.resolved", "{\"alert_id\":\"%s\",\"by\":\"C1\"}", aid),
                    1);
                d = data(last(&f, 0, "risk.eliminated"));
                assert_string_equal(str(d, "alert_id"), aid);
                assert_string_equal(str(d, "previous_code"), "yellow");
                assert_int_equal(num(d, "open_for"), 2 * 3600);
                expect_unique_ids(f.out);
                fx_done(&f);
        }
}

/* A low rating of the open alert adds the reason (changed); a rating of an
 * unknown alert does nothing. */
static void test_satisfaction_open(void **state)
{
        (void)state;
        Fx f;
        fx_init(&f, "H7b");
        char aid[80];
        snprintf(aid, sizeof(aid), "%s", raise_red(&f, "{\"a\":1}"));
        f.now += HOUR;
        assert_int_equal(step(&f, eval_of(false, RED_ILLNESS("{\"a\":1}"), NULL),
                              "satisfaction.rated", "{\"alert_id\":\"other\",\"score\":1}"),
                         0);
        f.now += HOUR;
        assert_int_equal(step(&f, eval_of(false, RED_ILLNESS("{\"a\":1}"), NULL),
                              "satisfaction.rated", "{\"alert_id\":\"%s\",\"score\":1}", aid),
                         1);
        const json_t *d = data(last(&f, 0, "risk.alert.changed"));
        assert_string_equal(str(d, "alert_id"), aid);
        assert_string_equal(str(d, "code"), "red");
        assert_int_equal(json_array_size(json_object_get(d, "reasons")), 2);
        assert_string_equal(str(json_array_get(json_object_get(d, "reasons"), 1), "rule"),
                            "satisfaction_low");
        fx_done(&f);
}

/* Reopened twice, changed while reopened: every transition has its own id
 * (a subscriber drops an output whose id it has seen). */
static void test_reopen_ids_unique(void **state)
{
        (void)state;
        static const struct {
                int64_t after;     /* ms since the previous step */
                int timer;         /* run lifecycle_timers instead of a step */
                const char *eval;  /* "": green, else the evidence of a red illness reason */
                const char *event; /* NULL, "resolve" or a rating "1".."5" */
                const char *want;  /* the output type, NULL for none */
        } steps[] = {
            {0, 0, "{\"a\":1}", NULL, "risk.alert.raised"},
            {HOUR, 0, "+", NULL, "risk.alert.changed"}, /* + disaster */
            {HOUR, 0, "", NULL, "risk.eliminated"},
            {HOUR, 0, "", "1", "risk.alert.raised"},
            {13 * HOUR, 1, NULL, NULL, "risk.alert.reminder"},
            {HOUR, 0, "{\"a\":1}", NULL, "risk.alert.changed"},
            {HOUR, 0, "{\"a\":1}", "resolve", "risk.eliminated"},
            {HOUR, 0, "", "2", "risk.alert.raised"},
            {13 * HOUR, 1, NULL, NULL, "risk.alert.reminder"},
            {HOUR, 0, "{\"a\":1}", NULL, "risk.alert.changed"},
            {HOUR, 0, "{\"a\":1}", "resolve", "risk.eliminated"},
            {HOUR, 0, "{\"a\":5}", NULL, "risk.alert.raised"},
        };
        Fx f;
        fx_init(&f, "H8");
        char aid[80] = "";
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                f.now += steps[i].after;
                print_message("# step %zu\n", i);
                size_t n;
                if (steps[i].timer) {
                        n = (size_t)tick(&f);
                } else {
                        json_t *ev = GREEN();
                        json_t *rs = json_object_get(ev, "reasons");
                        if (streq(steps[i].eval, "+")) {
                                json_array_append_new(rs, RED_ILLNESS("{\"a\":1}"));
                                json_array_append_new(rs, RED_DISASTER("{\"d\":1}"));
                        } else if (steps[i].eval[0]) {
                                json_array_append_new(rs, RED_ILLNESS(steps[i].eval));
                        }
                        if (!steps[i].event)
                                n = step(&f, ev, NULL, NULL);
                        else if (streq(steps[i].event, "resolve") && (given_help(&f), true))
                                n = step(&f, ev, "alert.resolved",
                                         "{\"alert_id\":\"%s\",\"by\":\"C1\"}", aid);
                        else
                                n = step(&f, ev, "satisfaction.rated",
                                         "{\"alert_id\":\"%s\",\"score\":%s}", aid, steps[i].event);
                }
                assert_int_equal(n, steps[i].want ? 1 : 0);
                const json_t *d = data(last(&f, 0, steps[i].want));
                if (i == 0)
                        snprintf(aid, sizeof(aid), "%s", str(d, "alert_id"));
                if (i + 1 < ELEMENTSOF(steps))
                        assert_string_equal(str(d, "alert_id"), aid);
                else
                        assert_string_not_equal(str(d, "alert_id"), aid);
        }
        expect_unique_ids(f.out);
        fx_done(&f);
}

/* ---- measures ----------------------------------------------------------- */

/* measure.applied names the alert it belongs to; one for another (closed)
 * alert is not listed in this alert's elimination. */
static void test_measures_of_alert(void **state)
{
        (void)state;
        Fx f;
        fx_init(&f, "H9");
        char first[80], second[80];
        snprintf(first, sizeof(first), "%s", raise_red(&f, "{\"a\":1}"));
        f.now += HOUR;
        assert_int_equal(step(&f, GREEN(), NULL, NULL), 1);
        f.now += HOUR;
        snprintf(second, sizeof(second), "%s", raise_red(&f, "{\"a\":2}"));
        f.now += HOUR;
        assert_int_equal(step(&f, eval_of(false, RED_ILLNESS("{\"a\":2}"), NULL), "measure.applied",
                              "{\"alert_id\":\"%s\",\"measure\":\"temporary_relief\","
                              "\"amount\":500,\"by\":\"C1\",\"applied_on\":\"2026-03-02\"}",
                              first),
                         0);
        assert_int_equal(step(&f, eval_of(false, RED_ILLNESS("{\"a\":2}"), NULL), "measure.applied",
                              "{\"alert_id\":\"%s\",\"measure\":\"social_aid\","
                              "\"amount\":0.05,\"by\":\"C1\",\"applied_on\":\"2026-03-02\"}",
                              second),
                         0);
        f.now += HOUR;
        assert_int_equal(step(&f, GREEN(), NULL, NULL), 1);
        const json_t *ms = json_object_get(data(last(&f, 0, "risk.eliminated")), "measures");
        assert_int_equal(json_array_size(ms), 1);
        assert_string_equal(str(json_array_get(ms, 0), "measure"), "social_aid");
        assert_true(json_number_value(json_object_get(json_array_get(ms, 0), "amount")) == 0.05);
        fx_done(&f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_resolved),          cmocka_unit_test(test_resolved_partial),
            cmocka_unit_test(test_satisfaction),      cmocka_unit_test(test_satisfaction_open),
            cmocka_unit_test(test_reopen_ids_unique), cmocka_unit_test(test_measures_of_alert),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
