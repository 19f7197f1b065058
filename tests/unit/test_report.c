/* Unit tests of the supervision report (report.h, REQ-14) over documents
 * written by hand in the shape lifecycle.c and household.c keep: alerts
 * counted once (a reopened alert closed twice under its id), by peak colour
 * and category, acknowledgement and elimination times (median and p90 by
 * nearest rank), escalations, refusals, ratings, visits done and due, key
 * monitoring, candidates, department answers (routed, answered, overdue)
 * grouped by town and by department, the date range, and an alert closed by
 * a removal that is no elimination. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "macro.h"
#include "report.h"

#define DAY 86400000LL
/* 2026-11-01T00:00:00+08:00 */
#define T0 1793462400000LL

static json_t *doc(const char *fmt, ...)
{
        char text[8192];
        va_list ap;
        json_error_t je;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        json_t *d = json_loads(text, 0, &je);
        if (!d)
                fail_msg("not JSON: %s: %s", je.text, text);
        return d;
}

static const json_t *group(const json_t *rep, const char *name)
{
        size_t i;
        json_t *g;
        json_array_foreach (json_object_get(rep, "groups"), i, g)
                if (streq_ptr(json_string_value(json_object_get(g, "name")), name))
                        return g;
        fail_msg("no group %s", name);
        return NULL;
}

static json_int_t at(const json_t *o, const char *a, const char *b)
{
        const json_t *v = json_object_get(o, a);
        return json_integer_value(b ? json_object_get(v, b) : v);
}

#define PROFILE(town, cadre)                                                                       \
        "\"registered\":true,\"removed\":false,\"profile\":{\"town\":\"" town                      \
        "\",\"cadre\":{\"id\":\"" cadre "\"}},\"registered_ms\":%lld"

static Report *report(ReportBy by, int64_t from, int64_t to)
{
        ReportOptions o = {.by = by,
                           .from_ms = from,
                           .to_ms = to,
                           .now_ms = T0 + 30 * DAY,
                           .visit_interval_ms = 10 * DAY};
        Report *r = report_new(&o);
        assert_non_null(r);
        /* A: three alerts, one reopened (closed twice under its id), one open. */
        json_t *a = doc(
            "{" PROFILE(
                "A",
                "C1") ",\"visits\":[\"2026-10-20\",\"2026-11-02\","
                      "\"2026-11-12\"],\"monitoring\":{\"since_ms\":1},"
                      "\"closed\":["
                      "{\"id\":\"a1\",\"raised_ms\":%lld,\"closed_ms\":%lld,\"peak\":\"red\","
                      "\"categories\":[\"illness\",\"disaster\"],\"acknowledged_ms\":%lld,"
                      "\"satisfaction\":2,\"departments\":[{\"id\":\"health\",\"answer_by\":"
                      "\"2026-11-03T00:00:00+08:00\",\"answered_at\":\"2026-11-02T00:00:00+08:00\"}"
                      "]},"
                      "{\"id\":\"a1\",\"raised_ms\":%lld,\"closed_ms\":%lld,\"peak\":\"red\","
                      "\"categories\":[\"illness\",\"disaster\"],\"acknowledged_ms\":%lld,"
                      "\"satisfaction\":5,\"departments\":[{\"id\":\"health\",\"answer_by\":"
                      "\"2026-11-03T00:00:00+08:00\",\"answered_at\":\"2026-11-02T00:00:00+08:00\"}"
                      "]},"
                      "{\"id\":\"a2\",\"raised_ms\":%lld,\"closed_ms\":%lld,\"peak\":\"yellow\","
                      "\"categories\":[\"need\"],\"escalated_ms\":%lld,\"refused\":2}],"
                      "\"alert\":{\"id\":\"a3\",\"raised_ms\":%lld,\"code\":\"yellow\","
                      "\"peak\":\"red\",\"categories\":[\"need\"],\"acknowledged_ms\":%lld,"
                      "\"departments\":[{\"id\":\"civil\",\"answer_by\":"
                      "\"2026-11-20T00:00:00+08:00\"},{\"id\":\"health\",\"answer_by\":"
                      "\"2026-11-21T00:00:00+08:00\",\"answered_at\":\"2026-11-25T00:00:00+08:00\"}"
                      "]}}",
            (long long)(T0 - 60 * DAY), (long long)T0, (long long)(T0 + 3 * DAY),
            (long long)T0 + 1000 * 100, (long long)T0, (long long)(T0 + 3 * DAY),
            (long long)T0 + 1000 * 100, (long long)(T0 + 5 * DAY), (long long)(T0 + 6 * DAY),
            (long long)(T0 + 7 * DAY), (long long)(T0 + 10 * DAY),
            (long long)(T0 + 10 * DAY) + 1000 * 40);
        /* B: live again after a removal that closed its alert (no
         * elimination); a candidate that registered since. */
        json_t *b =
            doc("{" PROFILE(
                    "B",
                    "C2") ",\"candidate\":{\"id\":\"c\",\"at_ms\":%lld},"
                          "\"closed\":[{\"id\":\"b1\",\"raised_ms\":%lld,\"closed_ms\":%lld,"
                          "\"peak\":\"red\",\"categories\":[\"disaster\"],\"ended\":\"removed\"}]}",
                (long long)(T0 + 1 * DAY), (long long)(T0 + 2 * DAY), (long long)(T0 + 2 * DAY),
                (long long)(T0 + 4 * DAY));
        /* An unregistered candidate; a removed household (not counted). */
        json_t *c = doc("{\"candidate\":{\"id\":\"c2\",\"at_ms\":%lld}}", (long long)(T0 + DAY));
        json_t *d = doc("{\"registered\":true,\"removed\":true,\"closed\":[{\"id\":\"x\","
                        "\"raised_ms\":%lld,\"closed_ms\":%lld,\"peak\":\"red\"}]}",
                        (long long)(T0 + DAY), (long long)(T0 + 2 * DAY));
        assert_int_equal(report_add(r, "HA", a), 0);
        assert_int_equal(report_add(r, "HB", b), 0);
        assert_int_equal(report_add(r, "HC", c), 0);
        assert_int_equal(report_add(r, "HD", d), 0);
        json_decref(a);
        json_decref(b);
        json_decref(c);
        json_decref(d);
        return r;
}

static void test_by_town(void **state)
{
        (void)state;
        Report *r = report(REPORT_BY_TOWN, T0, T0 + 30 * DAY);
        json_t *rep = report_json(r);
        const json_t *a = group(rep, "A");
        /* a1 (raised Nov 1, reopened: one), a2 (Nov 6), a3 (Nov 10, open). */
        assert_int_equal(at(json_object_get(a, "alerts"), "raised", NULL), 3);
        assert_int_equal(at(json_object_get(a, "alerts"), "red", NULL), 2);
        assert_int_equal(at(json_object_get(a, "alerts"), "yellow", NULL), 1);
        const json_t *cats = json_object_get(json_object_get(a, "alerts"), "by_category");
        assert_int_equal(at(cats, "illness", NULL), 1);
        assert_int_equal(at(cats, "need", NULL), 2);
        /* Acknowledged after 100 s and 40 s: median 40, p90 100. */
        assert_int_equal(at(a, "acknowledge_seconds", "count"), 2);
        assert_int_equal(at(a, "acknowledge_seconds", "median"), 40);
        assert_int_equal(at(a, "acknowledge_seconds", "p90"), 100);
        /* Eliminated: a1 after 3 days, a2 after 1 day. */
        assert_int_equal(at(a, "eliminate_seconds", "count"), 2);
        assert_int_equal(at(a, "eliminate_seconds", "median"), 86400);
        assert_int_equal(at(a, "eliminate_seconds", "p90"), 3 * 86400);
        assert_int_equal(at(a, "escalations", NULL), 1);
        assert_int_equal(at(a, "refused", NULL), 2);
        /* The reopened alert's latest rating counts once. */
        assert_int_equal(at(a, "satisfaction", "count"), 1);
        assert_true(json_real_value(json_object_get(json_object_get(a, "satisfaction"), "mean")) ==
                    5.0);
        /* health answered a1 in time, a3 late; civil never (overdue). */
        assert_int_equal(at(a, "department_answers", "routed"), 3);
        assert_int_equal(at(a, "department_answers", "answered"), 2);
        assert_int_equal(at(a, "department_answers", "overdue"), 2);
        /* Visits of Nov 2 and 12; due: 30 days / 10. */
        assert_int_equal(at(a, "visits", "done"), 2);
        assert_int_equal(at(a, "visits", "due"), 3);
        assert_int_equal(at(a, "monitored", NULL), 1);
        const json_t *b = group(rep, "B");
        assert_int_equal(at(json_object_get(b, "alerts"), "raised", NULL), 1);
        assert_int_equal(at(b, "eliminate_seconds", "count"), 0); /* closed by a removal */
        assert_true(
            json_is_null(json_object_get(json_object_get(b, "eliminate_seconds"), "median")));
        assert_int_equal(at(b, "candidates", "identified"), 1);
        assert_int_equal(at(b, "candidates", "registered"), 1);
        const json_t *none = group(rep, "-");
        assert_int_equal(at(none, "candidates", "identified"), 1);
        assert_int_equal(at(none, "candidates", "registered"), 0);
        const json_t *total = json_object_get(rep, "total");
        assert_int_equal(at(total, "households", NULL), 2);
        assert_int_equal(at(json_object_get(total, "alerts"), "raised", NULL), 4);
        assert_int_equal(at(json_object_get(rep, "missed"), "count", NULL), 0);
        json_decref(rep);
        report_free(r);
}

static void test_by_department_and_range(void **state)
{
        (void)state;
        Report *r = report(REPORT_BY_DEPARTMENT, T0, T0 + 30 * DAY);
        json_t *rep = report_json(r);
        assert_int_equal(json_array_size(json_object_get(rep, "groups")), 2);
        const json_t *h = group(rep, "health");
        assert_int_equal(at(json_object_get(h, "alerts"), "raised", NULL), 2);
        assert_int_equal(at(h, "department_answers", "routed"), 2);
        assert_int_equal(at(h, "department_answers", "answered"), 2);
        assert_int_equal(at(h, "department_answers", "overdue"), 1);
        /* Answered 1 day after a1 was raised, 14 days after a3. */
        const json_t *s = json_object_get(json_object_get(h, "department_answers"), "seconds");
        assert_int_equal(at(s, "median", NULL), 86400);
        assert_int_equal(at(s, "p90", NULL), 14 * 86400);
        const json_t *c = group(rep, "civil");
        assert_int_equal(at(c, "department_answers", "overdue"), 1);
        json_decref(rep);
        report_free(r);
        /* Only November 6..8: a2 alone. */
        r = report(REPORT_BY_TOWN, T0 + 5 * DAY, T0 + 8 * DAY);
        rep = report_json(r);
        assert_string_equal(json_string_value(json_object_get(rep, "from")), "2026-11-06");
        assert_string_equal(json_string_value(json_object_get(rep, "to")), "2026-11-08");
        assert_int_equal(
            at(json_object_get(json_object_get(rep, "total"), "alerts"), "raised", NULL), 1);
        json_decref(rep);
        report_free(r);
}

static void test_time(void **state)
{
        (void)state;
        assert_int_equal(report_time_ms("2026-11-01T00:00:00+08:00"), T0);
        assert_int_equal(report_time_ms("2026-10-31T16:00:00Z"), T0);
        assert_int_equal(report_time_ms("2026-10-31T12:00:00.250-04:00"), T0);
        assert_int_equal(report_time_ms("2026-11-01"), 0);
        assert_int_equal(report_time_ms(NULL), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_by_town),
            cmocka_unit_test(test_by_department_and_range),
            cmocka_unit_test(test_time),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
