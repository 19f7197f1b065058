/* Unit tests of the rule outcomes (daemon/outcome.c) through the household
 * step that hearthd, replay and the rule tests share (step.c) with the
 * shipped rules: an alert raised by a rule and eliminated with help, one
 * cleared by the data alone, a refused resolution reported as a false
 * alarm, a reopening after a low score, a removal; the counters of a note
 * and the report's median. Run from the repository root. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "evaluate.h"
#include "event.h"
#include "household.h"
#include "lifecycle.h"
#include "outcome.h"
#include "schema.h"
#include "step.h"
#include "step_fixture.h"

typedef struct {
        StepWorld base;
        StepContext sc;
        json_t *doc;
        int n; /* event ids */
} World;

static json_t *eval_fn(const json_t *doc, int32_t today, void *u)
{
        World *w = u;
        return evaluate_json(w->base.rules, doc, today, w->base.lines, 1, NULL);
}

static int setup(void **state)
{
        World *w = calloc(1, sizeof(World));
        step_world_load(&w->base);
        w->sc = (StepContext){eval_fn, w, w->base.dec, &w->base.pol, false, NULL};
        *state = w;
        return 0;
}

static int teardown(void **state)
{
        World *w = *state;
        json_decref(w->doc);
        step_world_free(&w->base);
        free(w);
        return 0;
}

/* Applies one event (data as JSON text) on day `date` and returns the step's
 * notes. */
static StepNotes step(World *w, const char *type, const char *data, const char *date)
{
        StepNotes notes;
        json_decref(
            step_world_event(&w->base, &w->sc, w->doc, "H1", ++w->n, type, date, data, &notes));
        return notes;
}

/* The notes as "rule:outcome" words, in order. */
static const char *words(const StepNotes *n)
{
        static char buf[1024];
        size_t off = 0;
        buf[0] = 0;
        for (size_t i = 0; i < n->outcomes.n; i++)
                off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s:%s", i ? " " : "",
                                        n->outcomes.notes[i].rule,
                                        outcome_name(n->outcomes.notes[i].outcome));
        return buf;
}

static const char *alert_id(const World *w)
{
        const json_t *a = json_object_get(w->doc, "alert");
        if (!a) {
                const json_t *c = json_object_get(w->doc, "closed");
                a = json_array_get(c, json_array_size(c) - 1);
        }
        return json_string_value(json_object_get(a, "id"));
}

static void registered(World *w)
{
        json_decref(w->doc);
        w->doc = household_new();
        StepNotes n = step(w, "household.registered",
                           "{\"town\":\"温溪镇\",\"village\":\"东岸村\",\"cadre\":{\"id\":\"C1\"},"
                           "\"members\":[{\"id\":\"m1\",\"labor\":\"full\",\"disability_grade\":0,"
                           "\"serious_illness\":false,\"incapacitated\":false,\"student\":false},"
                           "{\"id\":\"m2\",\"labor\":\"full\",\"disability_grade\":0,"
                           "\"serious_illness\":false,\"incapacitated\":false,\"student\":false},"
                           "{\"id\":\"m3\",\"labor\":\"none\",\"disability_grade\":0,"
                           "\"serious_illness\":false,\"incapacitated\":false,\"student\":true}],"
                           "\"status\":\"low_income\",\"income_last_year\":{\"year\":2025,"
                           "\"disposable\":36000}}",
                           "2026-03-01");
        assert_string_equal(words(&n), "");
}

static const char claim[] = "{\"claim_id\":\"c1\",\"member_id\":\"m1\",\"kind\":\"inpatient\","
                            "\"major_disease\":false,\"total\":90000,\"fund_paid\":45000,"
                            "\"out_of_pocket\":45000,\"settled_on\":\"2026-03-02\"}";

static void test_helped_then_reopened(void **state)
{
        World *w = *state;
        registered(w);
        StepNotes n = step(w, "medical.claim.settled", claim, "2026-03-02");
        assert_string_equal(words(&n), "rigid_expenditure_illness:raised");
        char data[256];
        snprintf(data, sizeof(data),
                 "{\"alert_id\":\"%s\",\"measure\":\"medical_assistance\",\"by\":\"C1\","
                 "\"applied_on\":\"2026-03-04\"}",
                 alert_id(w));
        n = step(w, "measure.applied", data, "2026-03-04");
        assert_string_equal(words(&n), "");
        /* The verified income of last year is higher: the data clears it,
         * after help: eliminated with help, two days after it was raised. */
        n = step(w, "civil.income.verified", "{\"year\":2025,\"disposable\":50000}", "2026-03-04");
        assert_string_equal(words(&n), "rigid_expenditure_illness:eliminated_with_help");
        assert_int_equal(n.outcomes.notes[0].seconds, 2 * 86400);
        /* A low score reopens it. */
        snprintf(data, sizeof(data), "{\"alert_id\":\"%s\",\"score\":1}", alert_id(w));
        n = step(w, "satisfaction.rated", data, "2026-03-05");
        assert_string_equal(words(&n), "rigid_expenditure_illness:reopened");
        /* A good score reopens nothing. */
        snprintf(data, sizeof(data), "{\"alert_id\":\"%s\",\"score\":5}", alert_id(w));
        n = step(w, "satisfaction.rated", data, "2026-03-06");
        assert_string_equal(words(&n), "");
}

static void test_cleared_by_data(void **state)
{
        World *w = *state;
        registered(w);
        StepNotes n = step(w, "medical.claim.settled", claim, "2026-03-02");
        assert_string_equal(words(&n), "rigid_expenditure_illness:raised");
        n = step(w, "civil.income.verified", "{\"year\":2025,\"disposable\":50000}", "2026-03-03");
        assert_string_equal(words(&n), "rigid_expenditure_illness:cleared_by_data");
        /* A report after the end still counts for the rule. */
        char data[256];
        snprintf(data, sizeof(data), "{\"alert_id\":\"%s\",\"by\":\"C1\",\"outcome\":\"helped\"}",
                 alert_id(w));
        n = step(w, "alert.resolved", data, "2026-03-04");
        assert_string_equal(words(&n), "rigid_expenditure_illness:reported_helped");
}

static void test_refused_false_alarm_and_joined(void **state)
{
        World *w = *state;
        registered(w);
        StepNotes n = step(w, "medical.claim.settled", claim, "2026-03-02");
        char data[256];
        snprintf(data, sizeof(data),
                 "{\"alert_id\":\"%s\",\"by\":\"C1\",\"outcome\":\"false_alarm\"}", alert_id(w));
        n = step(w, "alert.resolved", data, "2026-03-03");
        assert_string_equal(
            words(&n),
            "rigid_expenditure_illness:resolution_refused rigid_expenditure_illness:false_alarm");
        /* A rule joining the open alert is raised too; monitor rules never. */
        n = step(w, "need.reported",
                 "{\"need_id\":\"n1\",\"channel\":\"self\",\"category\":\"medical\","
                 "\"urgent\":false}",
                 "2026-03-04");
        assert_string_equal(words(&n), "open_need:raised");
        /* The household leaves monitoring with the alert open. */
        n = step(w, "household.removed", "{}", "2026-03-05");
        assert_string_equal(words(&n), "rigid_expenditure_illness:removed open_need:removed");
}

static void test_fields_and_report(void **state)
{
        (void)state;
        char fields[4][OUTCOME_FIELD];
        int64_t by[4];
        OutcomeNote a = {"r1", OUTCOME_ELIMINATED_WITH_HELP, 2 * 86400};
        assert_int_equal(outcome_fields(&a, fields, by, 4), 4);
        assert_string_equal(fields[0], "r1|eliminated_with_help");
        assert_string_equal(fields[1], "r1|elim_n");
        assert_string_equal(fields[2], "r1|elim_seconds");
        assert_int_equal(by[2], 2 * 86400);
        assert_string_equal(fields[3], "r1|elim_le_172800");
        OutcomeNote b = {"r1", OUTCOME_RAISED, -1};
        assert_int_equal(outcome_fields(&b, fields, by, 4), 1);
        assert_string_equal(fields[0], "r1|raised");
        assert_int_equal(outcome_from_name("false_alarm"), OUTCOME_FALSE_ALARM);
        assert_int_equal(outcome_from_name("nope"), -EINVAL);

        /* 4 eliminations: 1 within 1 h, 3 within (1 d, 2 d]: the median
         * (2nd of 4) lies in the second of those buckets' thirds. */
        json_t *hash =
            json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "r1|raised", 5,
                      "r1|eliminated_with_help", 3, "r1|cleared_by_data", 1, "r1|elim_n", 4,
                      "r1|elim_seconds", 400000, "r1|elim_le_3600", 1, "r1|elim_le_172800", 3);
        json_object_set_new(hash, "gone|raised", json_integer(2));
        const char *rules[] = {"r1", "r2"};
        json_t *rep = outcome_report(hash, rules, 2);
        assert_int_equal(json_array_size(rep), 3);
        json_t *r1 = json_array_get(rep, 0);
        assert_int_equal(json_integer_value(json_object_get(r1, "raised")), 5);
        assert_int_equal(json_integer_value(json_object_get(r1, "eliminated")), 4);
        assert_int_equal(json_integer_value(json_object_get(r1, "mean_seconds")), 100000);
        /* half = 2: 1 before, then 1 of 3 in (86400, 172800]. */
        assert_int_equal(json_integer_value(json_object_get(r1, "median_seconds")),
                         86400 + 86400 / 3);
        assert_true(json_is_null(json_object_get(json_array_get(rep, 1), "median_seconds")));
        assert_string_equal(json_string_value(json_object_get(json_array_get(rep, 2), "rule")),
                            "gone");
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        outcome_write_text(rep, f);
        fclose(f);
        printf("# %s", buf);
        assert_non_null(strstr(buf, "1.3d"));
        free(buf);
        json_decref(rep);
        json_decref(hash);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_helped_then_reopened),
            cmocka_unit_test(test_cleared_by_data),
            cmocka_unit_test(test_refused_false_alarm_and_joined),
            cmocka_unit_test(test_fields_and_report),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
