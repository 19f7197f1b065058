/* hearthd's lean evaluation (no message or to_clear in the stored
 * evaluation; the texts of the outputs' reasons written after the step:
 * StepContext.explain)
 * against the full one that hearthctl replay and the rule tests use: the
 * same events through both give byte-equal outputs, raised, changed, key
 * monitoring and candidate included; the lean document stores no texts,
 * and explaining it again (hearthctl household) gives the full one's. Run
 * from the repository root. */
#include <errno.h>
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
#include "jsonfast.h"
#include "lifecycle.h"
#include "schema.h"
#include "step.h"
#include "step_fixture.h"

typedef struct {
        StepWorld base;
        StepContext full, lean;
        int explained; /* calls of the lean explainer */
} World;

static json_t *eval_full(const json_t *doc, int32_t today, void *u)
{
        World *w = u;
        return evaluate_json(w->base.rules, doc, today, w->base.lines, 1, NULL);
}

static json_t *eval_lean(const json_t *doc, int32_t today, void *u)
{
        World *w = u;
        return evaluate_json_lean(w->base.rules, doc, today, w->base.lines, 1, NULL);
}

static int explain(const json_t *doc, int32_t today, const char *const *rules, size_t n,
                   char **messages, char **texts, void *u)
{
        World *w = u;
        w->explained++;
        return rules_explain_set(w->base.rules, doc, today, w->base.lines, 1, rules, n, messages,
                                 texts);
}

static int setup(void **state)
{
        World *w = calloc(1, sizeof(World));
        step_world_load(&w->base);
        w->full = (StepContext){eval_full, w, w->base.dec, &w->base.pol, false, NULL};
        w->lean = (StepContext){eval_lean, w, w->base.dec, &w->base.pol, false, explain};
        *state = w;
        return 0;
}

static int teardown(void **state)
{
        World *w = *state;
        step_world_free(&w->base);
        free(w);
        return 0;
}

typedef struct {
        const char *household, *type, *date, *data;
} Step;

/* H1 is registered and goes through an open need (key monitoring), an
 * illness bill (raised), a disaster and an accident (changed), more costs,
 * a higher income and the need resolved; H2 is not registered and shows a
 * red hardship (candidate). */
static const Step steps[] = {
    {"H1", "household.registered", "2026-03-01",
     "{\"town\":\"温溪镇\",\"village\":\"东岸村\",\"cadre\":{\"id\":\"C1\"},"
     "\"members\":[{\"id\":\"m1\",\"labor\":\"full\",\"disability_grade\":0,"
     "\"serious_illness\":false,\"incapacitated\":false,\"student\":false},"
     "{\"id\":\"m2\",\"labor\":\"full\",\"disability_grade\":0,"
     "\"serious_illness\":false,\"incapacitated\":false,\"student\":false},"
     "{\"id\":\"m3\",\"labor\":\"none\",\"disability_grade\":0,"
     "\"serious_illness\":false,\"incapacitated\":false,\"student\":true}],"
     "\"status\":\"low_income\",\"income_last_year\":{\"year\":2025,\"disposable\":36000}}"},
    {"H1", "need.reported", "2026-03-02",
     "{\"need_id\":\"N1\",\"channel\":\"self\",\"category\":\"education\",\"text\":\"学费\","
     "\"urgent\":false}"},
    {"H1", "medical.claim.settled", "2026-03-03",
     "{\"claim_id\":\"c1\",\"member_id\":\"m1\",\"kind\":\"inpatient\",\"major_disease\":false,"
     "\"total\":90000,\"fund_paid\":45000,\"out_of_pocket\":45000,\"settled_on\":\"2026-03-03\"}"},
    {"H1", "disaster.loss.reported", "2026-03-05",
     "{\"disaster\":\"typhoon\",\"occurred_on\":\"2026-03-04\",\"house_damage\":\"severe\","
     "\"property_loss\":42000,\"income_loss\":18500,\"injured\":1,\"deaths\":0}"},
    {"H1", "accident.reported", "2026-03-06",
     "{\"member_id\":\"m2\",\"kind\":\"work\",\"occurred_on\":\"2026-03-06\","
     "\"medical_cost\":12680.4,\"labor_lost\":true,\"income_loss\":36000}"},
    {"H1", "expense.reported", "2026-03-07",
     "{\"category\":\"education\",\"amount\":8000,\"incurred_on\":\"2026-03-07\"}"},
    {"H1", "medical.claim.settled", "2026-03-08",
     "{\"claim_id\":\"c2\",\"member_id\":\"m3\",\"kind\":\"outpatient\",\"major_disease\":true,"
     "\"total\":30000,\"fund_paid\":10000,\"out_of_pocket\":20000,\"settled_on\":\"2026-03-08\"}"},
    {"H1", "civil.income.verified", "2026-03-09", "{\"year\":2025,\"disposable\":400000}"},
    {"H1", "need.resolved", "2026-03-10", "{\"need_id\":\"N1\",\"resolution\":\"助学补助\"}"},
    {"H2", "medical.claim.settled", "2026-03-03",
     "{\"claim_id\":\"c9\",\"member_id\":\"x1\",\"kind\":\"inpatient\",\"major_disease\":true,"
     "\"total\":200000,\"fund_paid\":20000,\"out_of_pocket\":180000,\"settled_on\":\"2026-03-"
     "03\"}"},
};

/* Steps one event (s) through sc on doc; the outputs. */
static json_t *run(World *w, const StepContext *sc, json_t *doc, const Step *s, int n)
{
        return step_world_event(&w->base, sc, doc, s->household, n, s->type, s->date, s->data,
                                NULL);
}

/* Whether some reason of reasons has member key. */
static bool has(const json_t *reasons, const char *key)
{
        size_t i;
        json_t *r;
        json_array_foreach (reasons, i, r)
                if (json_object_get(r, key))
                        return true;
        return false;
}

static void test_lean_outputs_equal_full(void **state)
{
        World *w = *state;
        json_t *full[2] = {household_new(), household_new()};
        json_t *lean[2] = {household_new(), household_new()};
        int seen_raised = 0, seen_changed = 0, seen_monitoring = 0, seen_candidate = 0;
        for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
                int h = steps[k].household[1] - '1';
                json_t *a = run(w, &w->full, full[h], &steps[k], (int)k);
                json_t *b = run(w, &w->lean, lean[h], &steps[k], (int)k);
                char *ta = jsonfast_dump(a), *tb = jsonfast_dump(b);
                if (strcmp(ta, tb) != 0)
                        fail_msg("step %zu (%s): outputs differ\nfull: %s\nlean: %s", k,
                                 steps[k].type, ta, tb);
                size_t i;
                json_t *o;
                json_array_foreach (a, i, o) {
                        const char *t = json_string_value(json_object_get(o, "type"));
                        const json_t *rs = json_object_get(json_object_get(o, "data"), "reasons");
                        if (!json_array_size(rs))
                                continue;
                        /* Every published reason has a real explanation. */
                        json_t *r;
                        size_t j;
                        json_array_foreach (rs, j, r) {
                                const char *c = json_string_value(json_object_get(r, "to_clear"));
                                const char *m = json_string_value(json_object_get(r, "message"));
                                assert_non_null(c);
                                assert_non_null(m);
                                assert_string_not_equal(c, lifecycle_to_clear_fallback(false));
                                assert_true(strstr(m, "规则成立") == NULL);
                        }
                        seen_raised += strcmp(t, "risk.alert.raised") == 0;
                        seen_changed += strcmp(t, "risk.alert.changed") == 0;
                        seen_monitoring += strcmp(t, "household.monitoring.started") == 0;
                        seen_candidate += strcmp(t, "household.candidate.identified") == 0;
                }
                free(ta);
                free(tb);
                json_decref(a);
                json_decref(b);
        }
        /* The sequence covers every output that carries reasons. */
        assert_true(seen_raised > 0);
        assert_true(seen_changed > 0);
        assert_true(seen_monitoring > 0);
        assert_true(seen_candidate > 0);
        assert_true(w->explained > 0);

        /* H1 ends with reasons: stored without to_clear by the lean step,
         * and explained again as the full step stored them. */
        const json_t *fr = json_object_get(json_object_get(full[0], "eval"), "reasons");
        const json_t *lr = json_object_get(json_object_get(lean[0], "eval"), "reasons");
        size_t n = json_array_size(fr);
        assert_true(n > 0);
        assert_int_equal(json_array_size(lr), n);
        assert_true(has(fr, "to_clear") && has(fr, "message"));
        assert_false(has(lr, "to_clear") || has(lr, "message"));
        const char *names[16];
        char *messages[16], *texts[16];
        assert_true(n <= 16);
        for (size_t i = 0; i < n; i++)
                names[i] = json_string_value(json_object_get(json_array_get(lr, i), "rule"));
        assert_int_equal(rules_explain_set(w->base.rules, lean[0], household_latest(lean[0]),
                                           w->base.lines, 1, names, n, messages, texts),
                         0);
        for (size_t i = 0; i < n; i++) {
                const json_t *full_reason = json_array_get(fr, i);
                assert_non_null(texts[i]);
                assert_non_null(messages[i]);
                assert_string_equal(texts[i],
                                    json_string_value(json_object_get(full_reason, "to_clear")));
                assert_string_equal(messages[i],
                                    json_string_value(json_object_get(full_reason, "message")));
                free(texts[i]);
                free(messages[i]);
        }
        /* A rule that does not fire has no explanation. */
        const char *none[1] = {"no_such_rule"};
        assert_int_equal(rules_explain_set(w->base.rules, lean[0], household_latest(lean[0]),
                                           w->base.lines, 1, none, 1, messages, texts),
                         0);
        assert_null(texts[0]);
        assert_null(messages[0]);
        for (int h = 0; h < 2; h++) {
                json_decref(full[h]);
                json_decref(lean[h]);
        }
}

static int explain_fails(const json_t *doc, int32_t today, const char *const *rules, size_t n,
                         char **messages, char **texts, void *u)
{
        (void)doc, (void)today, (void)rules, (void)n, (void)messages, (void)texts, (void)u;
        return -ENOMEM;
}

/* An explainer that fails still leaves every published reason with both
 * texts: the fallbacks. */
static void test_explain_fails(void **state)
{
        World *w = *state;
        StepContext sc = w->lean;
        sc.explain = explain_fails;
        json_t *doc = household_new();
        json_t *out = run(w, &sc, doc, &steps[0], 100);
        json_decref(out);
        out = run(w, &sc, doc, &steps[2], 101); /* the illness bill: raised */
        size_t i, j, seen = 0;
        json_t *o, *r;
        json_array_foreach (out, i, o)
                json_array_foreach (json_object_get(json_object_get(o, "data"), "reasons"), j, r) {
                        const char *m = json_string_value(json_object_get(r, "message"));
                        assert_non_null(m);
                        assert_true(m[0] != 0);
                        assert_string_equal(json_string_value(json_object_get(r, "to_clear")),
                                            lifecycle_to_clear_fallback(false));
                        seen++;
                }
        assert_true(seen > 0);
        json_decref(out);
        json_decref(doc);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_lean_outputs_equal_full),
            cmocka_unit_test(test_explain_fails),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
