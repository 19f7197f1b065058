/* Unit tests of an alert's life: raise, change, eliminate, reminders, escalations. */
/* The alert lifecycle (lifecycle.h): raise, change and eliminate (REQ-8,
 * REQ-10), the response limit, reminders, escalations and acknowledgements
 * (REQ-9), output times, deterministic output ids and the CloudEvent
 * rendering. Resolutions and reopening are in test_lifecycle_resolve.c,
 * visits and removed households in test_lifecycle_household.c, the fixture
 * in lifecycle_fixture.h. */
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
#include "fsutil.h"
#include "lifecycle.h"
#include "macro.h"

#include "lifecycle_fixture.h"

/* ---- lifecycle_format_time ---------------------------------------------- */

static void test_format_time(void **state)
{
        (void)state;
        static const struct {
                int64_t ms;
                const char *want;
        } cases[] = {
            {0, "1970-01-01T08:00:00+08:00"},
            {T0, "2026-03-02T08:00:00+08:00"},
            {T0 + 999, "2026-03-02T08:00:00+08:00"}, /* milliseconds are dropped */
            {T0 - 8 * HOUR - 1, "2026-03-01T23:59:59+08:00"},
            {951782400000LL + 3723 * SEC, "2000-02-29T09:02:03+08:00"}, /* leap day */
            {-8 * HOUR, "1970-01-01T00:00:00+08:00"},
            {-8 * HOUR - SEC, "1969-12-31T23:59:59+08:00"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[40];
                lifecycle_format_time(cases[i].ms, buf, sizeof(buf));
                assert_string_equal(buf, cases[i].want);
        }
        /* A short buffer is truncated, never overrun. */
        char small[11];
        memset(small, 'x', sizeof(small));
        lifecycle_format_time(T0, small, sizeof(small));
        assert_string_equal(small, "2026-03-02");
        /* Just enough room, and one byte short of it. */
        char exact[26], short1[25];
        lifecycle_format_time(T0 + 13 * HOUR + 45 * 60 * SEC + 7 * SEC, exact, sizeof(exact));
        assert_string_equal(exact, "2026-03-02T21:45:07+08:00");
        lifecycle_format_time(T0, short1, sizeof(short1));
        assert_string_equal(short1, "2026-03-02T08:00:00+08:0");
}

/* ---- raise, change, eliminate ------------------------------------------- */

/* Other rules at the same colour and as many: still a change. */
static void test_change_same_count(void **state)
{
        (void)state;
        Fx f;
        fx_init(&f, "H3311210001");
        f.now = T0 + 3 * SEC;
        assert_int_equal(step(&f,
                              eval_of(false, RED_ILLNESS("{\"out_of_pocket_12m\":34320.2}"), NULL),
                              NULL, NULL),
                         1);
        f.now += HOUR;
        assert_int_equal(step(&f,
                              eval_of(false, RED_DISASTER("{\"house_damage\":\"severe\"}"), NULL),
                              NULL, NULL),
                         1);
        const json_t *d = data(last(&f, 0, "risk.alert.changed"));
        assert_string_equal(str(d, "previous_code"), "red");
        assert_int_equal(json_array_size(json_object_get(d, "reasons")), 1);
        assert_string_equal(str(json_array_get(json_object_get(d, "reasons"), 0), "rule"),
                            "disaster.house");
        fx_done(&f);
}

static void test_raise_change_eliminate(void **state)
{
        (void)state;
        Fx f;
        fx_init(&f, "H3311210001");

        /* green -> red */
        f.now = T0 + 3 * SEC;
        assert_int_equal(step(&f,
                              eval_of(true, RED_ILLNESS("{\"out_of_pocket_12m\":34320.2}"), NULL),
                              NULL, NULL),
                         1);
        const json_t *d = data(last(&f, 0, "risk.alert.raised"));
        char aid[80];
        snprintf(aid, sizeof(aid), "%s", str(d, "alert_id"));
        assert_true(strlen(aid) >= 1 && strlen(aid) <= 64);
        assert_string_equal(str(d, "household_id"), "H3311210001");
        assert_string_equal(str(d, "code"), "red");
        assert_string_equal(str(d, "previous_code"), "green");
        assert_true(json_is_true(json_object_get(d, "monitored")));
        assert_string_equal(str(d, "town"), "Wenxi");
        assert_string_equal(str(d, "village"), "Dongan");
        const json_t *cadre = json_object_get(d, "cadre");
        assert_string_equal(str(cadre, "id"), "C1");
        assert_string_equal(str(cadre, "name"), "Chen");
        assert_string_equal(str(cadre, "phone"), "13905780107");
        expect_time(str(d, "raised_at"), T0 + 3 * SEC);
        assert_string_equal(str(d, "raised_at"), "2026-03-02T08:00:03+08:00");
        expect_time(str(d, "respond_by"), T0 + 3 * SEC + 24 * HOUR);
        const json_t *reasons = json_object_get(d, "reasons");
        assert_int_equal(json_array_size(reasons), 1);
        const json_t *r0 = json_array_get(reasons, 0);
        assert_string_equal(str(r0, "rule"), "illness.oop");
        assert_string_equal(str(r0, "category"), "illness");
        assert_string_equal(str(r0, "severity"), "red");
        assert_string_equal(str(r0, "message"), "a rule fired");
        assert_true(json_real_value(json_object_get(json_object_get(r0, "evidence"),
                                                    "out_of_pocket_12m")) == 34320.2);
        assert_null(json_object_get(r0, "respond_within_ms"));
        char raised_id[160];
        snprintf(raised_id, sizeof(raised_id), "%s", str(last(&f, 0, "risk.alert.raised"), "id"));

        /* The same reasons again: nothing new. */
        f.now += HOUR;
        assert_int_equal(step(&f,
                              eval_of(true, RED_ILLNESS("{\"out_of_pocket_12m\":34320.2}"), NULL),
                              NULL, NULL),
                         0);

        /* A second red reason: changed, same alert. */
        f.now += HOUR;
        assert_int_equal(step(&f,
                              eval_of(false, RED_ILLNESS("{\"out_of_pocket_12m\":34320.2}"),
                                      RED_DISASTER("{\"house_damage\":\"severe\"}"), NULL),
                              NULL, NULL),
                         1);
        d = data(last(&f, 0, "risk.alert.changed"));
        assert_string_equal(str(d, "alert_id"), aid);
        assert_string_equal(str(d, "code"), "red");
        assert_string_equal(str(d, "previous_code"), "red");
        assert_false(json_is_true(json_object_get(d, "monitored")));
        assert_int_equal(json_array_size(json_object_get(d, "reasons")), 2);
        assert_string_equal(str(json_array_get(json_object_get(d, "reasons"), 1), "rule"),
                            "disaster.house");
        expect_time(str(d, "raised_at"), T0 + 3 * SEC); /* still the first raise */
        expect_time(str(d, "respond_by"), T0 + 3 * SEC + 24 * HOUR);
        assert_string_not_equal(str(last(&f, 0, "risk.alert.changed"), "id"), raised_id);

        /* Measures while open: no output; amounts come back in yuan. */
        f.now += DAY;
        assert_int_equal(step(&f,
                              eval_of(false, RED_ILLNESS("{\"out_of_pocket_12m\":34320.2}"),
                                      RED_DISASTER("{\"house_damage\":\"severe\"}"), NULL),
                              "measure.applied",
                              "{\"alert_id\":\"%s\",\"measure\":\"medical_assistance\","
                              "\"amount\":15000.5,\"by\":\"C1\",\"applied_on\":\"2026-03-03\"}",
                              aid),
                         0);
        f.now += DAY;
        assert_int_equal(step(&f,
                              eval_of(false, RED_DISASTER("{\"house_damage\":\"severe\"}"), NULL),
                              "measure.applied",
                              "{\"measure\":\"housing_repair\",\"by\":\"town\","
                              "\"applied_on\":\"2026-03-04\"}"),
                         1);
        d = data(last(&f, 0, "risk.alert.changed"));
        assert_int_equal(json_array_size(json_object_get(d, "reasons")), 1);

        /* Back to green: eliminated. */
        f.now += 10 * SEC;
        assert_int_equal(step(&f, GREEN(), NULL, NULL), 1);
        d = data(last(&f, 0, "risk.eliminated"));
        assert_string_equal(str(d, "alert_id"), aid);
        assert_string_equal(str(d, "previous_code"), "red");
        assert_int_equal(num(d, "open_for"), (f.now - (T0 + 3 * SEC)) / SEC);
        const json_t *ms = json_object_get(d, "measures");
        assert_int_equal(json_array_size(ms), 2);
        const json_t *m0 = json_array_get(ms, 0);
        assert_string_equal(str(m0, "measure"), "medical_assistance");
        assert_string_equal(str(m0, "by"), "C1");
        assert_string_equal(str(m0, "applied_on"), "2026-03-03");
        assert_true(json_number_value(json_object_get(m0, "amount")) == 15000.5);
        const json_t *m1 = json_array_get(ms, 1);
        assert_string_equal(str(m1, "measure"), "housing_repair");
        assert_null(json_object_get(m1, "amount"));
        assert_null(json_object_get(f.doc, "alert"));

        /* Green again: nothing; the next alert has another id. */
        f.now += HOUR;
        assert_int_equal(step(&f, GREEN(), NULL, NULL), 0);
        f.now += HOUR;
        assert_string_not_equal(raise_red(&f, "{\"x\":1}"), aid);
        expect_unique_ids(f.out);
        fx_done(&f);
}

/* yellow -> red -> yellow: changed with previous_code; red only when red. */
static void test_code_changes(void **state)
{
        (void)state;
        Fx f;
        fx_init(&f, "H1");
        f.now = T0 + HOUR;
        assert_int_equal(
            step(&f, eval_of(false, YELLOW_NEED("{\"need_id\":\"N1\"}"), NULL), NULL, NULL), 1);
        const json_t *d = data(last(&f, 0, "risk.alert.raised"));
        assert_string_equal(str(d, "code"), "yellow");
        expect_time(str(d, "respond_by"), T0 + HOUR + 72 * HOUR);

        f.now += HOUR;
        assert_int_equal(step(&f,
                              eval_of(false, YELLOW_NEED("{\"need_id\":\"N1\"}"),
                                      RED_ILLNESS("{\"a\":1}"), NULL),
                              NULL, NULL),
                         1);
        d = data(last(&f, 0, "risk.alert.changed"));
        assert_string_equal(str(d, "code"), "red");
        assert_string_equal(str(d, "previous_code"), "yellow");
        /* A sharper alert shortens the limit, counted from the raise. */
        expect_time(str(d, "respond_by"), T0 + HOUR + 24 * HOUR);
        assert_int_equal(lifecycle_next_due(f.doc), T0 + HOUR + 12 * HOUR);

        f.now += HOUR;
        assert_int_equal(
            step(&f, eval_of(false, YELLOW_NEED("{\"need_id\":\"N1\"}"), NULL), NULL, NULL), 1);
        d = data(last(&f, 0, "risk.alert.changed"));
        assert_string_equal(str(d, "code"), "yellow");
        assert_string_equal(str(d, "previous_code"), "red");
        /* ...and never lengthens it again. */
        expect_time(str(d, "respond_by"), T0 + HOUR + 24 * HOUR);

        /* A "monitor" reason alone is green. */
        f.now += HOUR;
        assert_int_equal(
            step(&f, eval_of(true, reason("m", "illness", "monitor", "{}", 0), NULL), NULL, NULL),
            1);
        d = data(last(&f, 0, "risk.eliminated"));
        assert_string_equal(str(d, "previous_code"), "yellow");
        assert_int_equal(num(d, "open_for"), 3 * 3600);
        assert_int_equal(json_array_size(json_object_get(d, "measures")), 0);
        expect_unique_ids(f.out);
        fx_done(&f);
}

/* A yellow need resolved: the evaluation has no reason any more. */
static void test_yellow_need_resolved(void **state)
{
        (void)state;
        Fx f;
        fx_init(&f, "H2");
        f.now = T0 + DAY;
        assert_int_equal(step(&f, eval_of(false, YELLOW_NEED("{\"need_id\":\"N7\"}"), NULL),
                              "need.reported",
                              "{\"need_id\":\"N7\",\"channel\":\"self\",\"category\":\"water\","
                              "\"urgent\":false}"),
                         1);
        const json_t *d = data(last(&f, 0, "risk.alert.raised"));
        assert_string_equal(str(d, "code"), "yellow");
        assert_string_equal(str(d, "previous_code"), "green");
        assert_false(json_is_true(json_object_get(d, "monitored")));
        char aid[80];
        snprintf(aid, sizeof(aid), "%s", str(d, "alert_id"));
        assert_non_null(json_object_get(json_object_get(f.doc, "needs"), "N7"));

        f.now += 2 * DAY;
        assert_int_equal(step(&f, GREEN(), "need.resolved", "{\"need_id\":\"N7\"}"), 1);
        assert_null(json_object_get(json_object_get(f.doc, "needs"), "N7"));
        d = data(last(&f, 0, "risk.eliminated"));
        assert_string_equal(str(d, "alert_id"), aid);
        assert_string_equal(str(d, "previous_code"), "yellow");
        assert_int_equal(num(d, "open_for"), 2 * 86400);
        /* The resolved need is the help that eliminated the risk. */
        const json_t *m = json_array_get(json_object_get(d, "measures"), 0);
        assert_int_equal(json_array_size(json_object_get(d, "measures")), 1);
        assert_string_equal(str(m, "measure"), "need_resolved");
        assert_string_equal(str(m, "via"), "need.resolved");
        assert_string_equal(str(m, "need_id"), "N7");
        assert_int_equal(tick(&f), 0);
        fx_done(&f);
}

/* ---- response limit, reminder, escalation, acknowledgement --------------- */

static void test_respond_within(void **state)
{
        (void)state;
        static const struct {
                const char *sev1;
                int64_t within1;
                const char *sev2; /* NULL: one reason */
                int64_t within2;
                int64_t want;
        } cases[] = {
            {"red", 0, NULL, 0, 24 * HOUR},
            {"yellow", 0, NULL, 0, 72 * HOUR},
            {"red", 6 * HOUR, NULL, 0, 6 * HOUR},
            {"yellow", 100 * HOUR, NULL, 0, 100 * HOUR},
            {"red", 6 * HOUR, "yellow", 2 * HOUR, 2 * HOUR},
            {"yellow", 0, "red", 30 * HOUR, 30 * HOUR},
            {"red", 5 * HOUR, "red", 0, 5 * HOUR},
            {"yellow", 0, "yellow", 0, 72 * HOUR},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Fx f;
                fx_init(&f, "H3");
                f.now = T0 + 7 * SEC;
                json_t *ev = eval_of(
                    false, reason("r1", "illness", cases[i].sev1, "{}", cases[i].within1), NULL);
                if (cases[i].sev2)
                        json_array_append_new(
                            json_object_get(ev, "reasons"),
                            reason("r2", "need", cases[i].sev2, "{}", cases[i].within2));
                assert_int_equal(step(&f, ev, NULL, NULL), 1);
                const json_t *d = data(last(&f, 0, "risk.alert.raised"));
                print_message("# case %zu\n", i);
                expect_time(str(d, "respond_by"), f.now + cases[i].want);
                /* The earliest timer: the reminder, unless the limit is shorter. */
                int64_t rem = f.now + policy.reminder_after_ms;
                int64_t by = f.now + cases[i].want;
                assert_int_equal(lifecycle_next_due(f.doc), rem < by ? rem : by);
                fx_done(&f);
        }
}

static void test_reminder_escalation(void **state)
{
        (void)state;
        Fx f;
        fx_init(&f, "H4");
        f.now = T0 + 5 * SEC;
        const int64_t raised = f.now;
        char aid[80];
        snprintf(aid, sizeof(aid), "%s", raise_red(&f, "{\"a\":1}"));
        assert_int_equal(lifecycle_next_due(f.doc), raised + 12 * HOUR);

        f.now = raised + 12 * HOUR - 1;
        assert_int_equal(tick(&f), 0);

        f.now = raised + 12 * HOUR;
        assert_int_equal(tick(&f), 1);
        const json_t *d = data(last(&f, 0, "risk.alert.reminder"));
        assert_string_equal(str(d, "alert_id"), aid);
        assert_string_equal(str(d, "code"), "red");
        assert_string_equal(str(json_object_get(d, "cadre"), "id"), "C1");
        expect_time(str(d, "respond_by"), raised + 24 * HOUR);
        /* Once, not twice. */
        f.now += HOUR;
        assert_int_equal(tick(&f), 0);
        assert_int_equal(lifecycle_next_due(f.doc), raised + 24 * HOUR);

        f.now = raised + 24 * HOUR - 1;
        assert_int_equal(tick(&f), 0);
        f.now = raised + 24 * HOUR + 90 * SEC;
        assert_int_equal(tick(&f), 1);
        d = data(last(&f, 0, "risk.alert.escalated"));
        assert_string_equal(str(d, "alert_id"), aid);
        assert_string_equal(str(d, "code"), "red");
        assert_string_equal(str(d, "town"), "Wenxi");
        assert_string_equal(str(d, "village"), "Dongan");
        assert_string_equal(str(json_object_get(d, "cadre"), "id"), "C1");
        assert_int_equal(num(d, "overdue_by"), 90);
        f.now += HOUR;
        assert_int_equal(tick(&f), 0);
        /* Only the visit is left. */
        assert_int_equal(lifecycle_next_due(f.doc), T0 + 31 * DAY);
        expect_unique_ids(f.out);
        fx_done(&f);
}

/* Timers run late (after downtime): both fire, the reminder first. */
static void test_late_timers(void **state)
{
        (void)state;
        Fx f;
        fx_init(&f, "H4b");
        raise_red(&f, "{\"a\":1}");
        f.now = T0 + 30 * HOUR;
        assert_int_equal(tick(&f), 2);
        last(&f, 1, "risk.alert.reminder");
        assert_int_equal(num(data(last(&f, 0, "risk.alert.escalated")), "overdue_by"), 6 * 3600);
        assert_int_equal(tick(&f), 0);
        fx_done(&f);
}

static void test_acknowledged(void **state)
{
        (void)state;
        static const struct {
                bool right_id;
                int64_t ack_at; /* after the raise */
                int want_reminder, want_escalated;
        } cases[] = {
            {true, HOUR, 0, 0},
            {true, 13 * HOUR, 1, 0}, /* after the reminder, before the limit */
            {false, HOUR, 1, 1},
            {false, 13 * HOUR, 1, 1},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Fx f;
                fx_init(&f, "H5");
                print_message("# case %zu\n", i);
                const char *aid = raise_red(&f, "{\"a\":1}");
                char id[80];
                snprintf(id, sizeof(id), "%s%s", aid, cases[i].right_id ? "" : "x");
                int reminders = 0, escalations = 0;
                for (int64_t t = HOUR / 2; t <= 48 * HOUR; t += HOUR / 2) {
                        f.now = T0 + t;
                        if (t == cases[i].ack_at)
                                assert_int_equal(step(&f,
                                                      eval_of(true, RED_ILLNESS("{\"a\":1}"), NULL),
                                                      "alert.acknowledged",
                                                      "{\"alert_id\":\"%s\",\"by\":\"C1\"}", id),
                                                 0);
                        int n = tick(&f);
                        for (size_t k = json_array_size(f.out) - (size_t)n;
                             k < json_array_size(f.out); k++) {
                                const char *type = str(json_array_get(f.out, k), "type");
                                if (streq(type, "risk.alert.reminder"))
                                        reminders++;
                                else if (streq(type, "risk.alert.escalated"))
                                        escalations++;
                                else
                                        fail_msg("unexpected %s", type);
                        }
                }
                assert_int_equal(reminders, cases[i].want_reminder);
                assert_int_equal(escalations, cases[i].want_escalated);
                const json_t *alert = json_object_get(f.doc, "alert");
                if (cases[i].right_id) {
                        assert_int_equal(num(alert, "acknowledged_ms"), T0 + cases[i].ack_at);
                        assert_string_equal(str(alert, "acknowledged_by"), "C1");
                        assert_int_equal(lifecycle_next_due(f.doc), T0 + 31 * DAY);
                } else {
                        assert_null(json_object_get(alert, "acknowledged_ms"));
                }
                fx_done(&f);
        }
}

/* ---- determinism and rendering ------------------------------------------ */

/* A scripted sequence covering every output type; returns the outputs. */
static json_t *script(const json_t *doc0, const char *household)
{
        Fx f = {.id = household, .doc = json_deep_copy(doc0), .out = json_array(), .now = T0};
        raise_red(&f, "{\"a\":1,\"b\":[1,2]}");
        f.now += HOUR;
        step(&f,
             eval_of(true, RED_ILLNESS("{\"a\":1,\"b\":[1,2]}"), YELLOW_NEED("{\"n\":1}"), NULL),
             NULL, NULL);
        f.now += 12 * HOUR;
        tick(&f);
        f.now += 12 * HOUR;
        tick(&f);
        const char *aid = str(data(json_array_get(f.out, 0)), "alert_id");
        step(&f, eval_of(true, YELLOW_NEED("{\"n\":1}"), NULL), "measure.applied",
             "{\"alert_id\":\"%s\",\"measure\":\"temporary_relief\",\"amount\":1234.56,"
             "\"by\":\"C1\",\"applied_on\":\"2026-03-03\"}",
             aid);
        f.now += HOUR;
        step(&f, GREEN(), NULL, NULL);
        f.now += HOUR;
        step(&f, GREEN(), "satisfaction.rated", "{\"alert_id\":\"%s\",\"score\":1}", aid);
        f.now = T0 + 31 * DAY;
        tick(&f);
        json_decref(f.doc);
        return f.out;
}

static void test_determinism(void **state)
{
        (void)state;
        Fx f;
        fx_init(&f, "H13");
        json_auto_t *a = script(f.doc, "H13");
        json_auto_t *b = script(f.doc, "H13");
        json_auto_t *other = script(f.doc, "H14");

        static const char *const want[] = {
            "risk.alert.raised",   "household.monitoring.started", "risk.alert.changed",
            "risk.alert.reminder", "risk.alert.escalated",         "risk.alert.changed",
            "risk.eliminated",     "household.monitoring.ended",   "risk.alert.raised",
            "risk.alert.reminder", "risk.alert.escalated",         "visit.overdue",
        };
        assert_int_equal(json_array_size(a), ELEMENTSOF(want));
        assert_int_equal(json_array_size(b), json_array_size(a));
        assert_int_equal(json_array_size(other), json_array_size(a));
        for (size_t i = 0; i < json_array_size(a); i++) {
                assert_string_equal(str(json_array_get(a, i), "type"), want[i]);
                _cleanup_free_ char *ra = lifecycle_render(json_array_get(a, i), "H13");
                _cleanup_free_ char *rb = lifecycle_render(json_array_get(b, i), "H13");
                assert_non_null(ra);
                assert_non_null(rb);
                assert_string_equal(ra, rb);
                assert_string_equal(str(json_array_get(a, i), "id"),
                                    str(json_array_get(b, i), "id"));
                /* Another household: other ids. */
                assert_string_not_equal(str(json_array_get(a, i), "id"),
                                        str(json_array_get(other, i), "id"));
        }
        expect_unique_ids(a);
        fx_done(&f);
}

static void test_render(void **state)
{
        (void)state;
        json_auto_t *o = json_pack("{s:s, s:s, s:s, s:{s:s, s:f}}", "id", "a-1:raised:0", "type",
                                   "risk.alert.raised", "time", "2026-03-02T08:00:00+08:00", "data",
                                   "household_id", "H1", "amount", 0.1);
        _cleanup_free_ char *text = lifecycle_render(o, "H1");
        assert_non_null(text);
        assert_string_equal(
            text, "{\"specversion\":\"1.0\",\"id\":\"a-1:raised:0\",\"source\":\"hearth\","
                  "\"type\":\"risk.alert.raised\",\"subject\":\"H1\","
                  "\"time\":\"2026-03-02T08:00:00+08:00\","
                  "\"datacontenttype\":\"application/json\","
                  "\"dataschema\":\"https://hearth.invalid/schemas/out/risk.alert.raised.json\","
                  "\"data\":{\"household_id\":\"H1\",\"amount\":0.1}}");
        json_auto_t *bad = json_pack("{s:s}", "type", "x");
        assert_null(lifecycle_render(bad, "H1"));
        json_auto_t *untyped = json_pack("{s:s, s:i}", "id", "a-1:raised:0", "type", 1);
        assert_null(lifecycle_render(untyped, "H1"));

        /* Every output schema's $id is where dataschema points. */
        char dir[512], **names;
        size_t n;
        snprintf(dir, sizeof(dir), "%s/out", getenv("HEARTH_SCHEMAS") ?: "schemas");
        assert_int_equal(fsutil_list(dir, ".json", 1000, &names, &n), 0);
        for (size_t i = 0; i < n; i++) {
                char type[256], id[512], want[600];
                snprintf(type, sizeof(type), "%.*s", (int)(strlen(names[i]) - 5), names[i]);
                out_schema_id(type, id, sizeof(id));
                snprintf(want, sizeof(want), "%s%s.json", LIFECYCLE_DATASCHEMA_PREFIX, type);
                assert_string_equal(id, want);
        }
        fsutil_names_free(names, n);
        assert_true(n >= ELEMENTSOF(out_types));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_format_time),
            cmocka_unit_test(test_raise_change_eliminate),
            cmocka_unit_test(test_change_same_count),
            cmocka_unit_test(test_code_changes),
            cmocka_unit_test(test_yellow_need_resolved),
            cmocka_unit_test(test_respond_within),
            cmocka_unit_test(test_reminder_escalation),
            cmocka_unit_test(test_late_timers),
            cmocka_unit_test(test_acknowledged),
            cmocka_unit_test(test_determinism),
            cmocka_unit_test(test_render),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
