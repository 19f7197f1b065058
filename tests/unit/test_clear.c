/* Unit tests of to_clear (daemon/clear.c): for every shipped rule, on
 * households where it fires, each way out that the reason names is
 * checked by an oracle that knows nothing of clear.c: the stated figure is
 * applied to the household document (the fact set to the stated value, a
 * need resolved, a later visit's check, the date an incident stops
 * counting), the rules are evaluated again, and the rule must no longer
 * fire. Also: both languages, labels for every documented variable, and
 * a rule no figure can clear. Run from the repository root. */
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clear.h"
#include "config.h"
#include "diag.h"
#include "event.h"
#include "facts.h"
#include "household.h"
#include "label.h"
#include "rules.h"

#include "shipped_rules.h"

#define RULES_DIR "rules"

typedef struct {
        const char *name;
        const char *patch; /* merged into base_doc */
        const char *date;
} Case;

static const Case cases[] = {
    {"a disaster cut income below the line",
     "{\"months\": {\"2026-03\": {\"disaster_loss\": 600001}}}", "2026-03-02"},
    {"low income without a loss",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 2999997}}}", "2026-03-02"},
    {"already below, a cut of 20%",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 2700000}},"
     " \"months\": {\"2026-03\": {\"accident_loss\": 540000}}}",
     "2026-03-02"},
    {"losses in two months",
     "{\"months\": {\"2025-11\": {\"disaster_loss\": 400000}, \"2026-02\": {\"accident_loss\": "
     "300000}}}",
     "2026-03-02"},
    {"near the line", "{\"profile\": {\"income_last_year\": {\"disposable\": 3599997}}}",
     "2026-03-02"},
    {"illness costs over income", "{\"months\": {\"2026-03\": {\"medical\": 4500000}}}",
     "2026-03-02"},
    {"illness with accident medical costs",
     "{\"months\": {\"2026-03\": {\"medical\": 1600001, \"accident_medical\": 2000000}}}",
     "2026-03-02"},
    {"illness against a verified income",
     "{\"incomes\": {\"2025\": 4500000}, \"months\": {\"2026-03\": {\"medical\": 4500001}}}",
     "2026-03-02"},
    {"disability costs",
     "{\"months\": {\"2026-03\": {\"medical\": 1000000, \"disability\": 2600001}}}", "2026-03-02"},
    {"education costs",
     "{\"months\": {\"2026-03\": {\"disability\": 1000000, \"education\": 2600001}}}",
     "2026-03-02"},
    {"a major-disease claim",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"claim\", \"date\": \"2026-03-01\", \"major_disease\": true, \"out_of_pocket\": 2000000}]}",
     "2026-03-02"},
    {"a collapsed house",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"disaster\", \"date\": \"2025-07-27\", \"house_damage\": \"collapsed\", \"deaths\": 0, "
     "\"injured\": 2, \"income_loss\": 0, \"property_loss\": 0}]}",
     "2026-03-02"},
    {"two disasters",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": ["
     "{\"kind\": \"disaster\", \"date\": \"2025-08-01\", \"house_damage\": \"severe\", "
     "\"deaths\": 0, \"injured\": 0, \"income_loss\": 0, \"property_loss\": 0},"
     "{\"kind\": \"disaster\", \"date\": \"2026-01-10\", \"house_damage\": \"moderate\", "
     "\"deaths\": 0, \"injured\": 1, \"income_loss\": 0, \"property_loss\": 600000}]}",
     "2026-03-02"},
    {"property lost against income",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"disaster\", \"date\": \"2026-03-01\", \"house_damage\": \"none\", \"deaths\": 0, "
     "\"injured\": 0, \"income_loss\": 0, \"property_loss\": 4500000}],"
     " \"months\": {\"2026-03\": {\"property_loss\": 4500000}}}",
     "2026-03-02"},
    {"a worker lost to an accident",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"accident\", \"date\": \"2026-03-01\", \"member_id\": \"m1\", \"labor_lost\": true, "
     "\"income_loss\": 0}], \"months\": {\"2026-03\": {\"accident_medical\": 800000}}}",
     "2026-03-02"},
    {"accident medical costs",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"accident\", \"date\": \"2026-03-01\", \"member_id\": \"m3\", \"labor_lost\": false, "
     "\"income_loss\": 0, \"medical_cost\": 2000000}], \"months\": {\"2026-03\": "
     "{\"accident_medical\": 2000000}}}",
     "2026-03-02"},
    {"needs, one urgent",
     "{\"needs\": {\"n1\": {\"urgent\": false}, \"n2\": {\"urgent\": true}, \"n3\": {\"urgent\": "
     "false}}}",
     "2026-03-02"},
    {"one urgent need", "{\"needs\": {\"n1\": {\"urgent\": true}}}", "2026-03-02"},
    {"a visit found housing at risk",
     "{\"last_visit\": {\"date\": \"2026-02-03\", \"checks\": {\"food_clothing\": \"ok\", "
     "\"education\": \"ok\", \"medical\": \"ok\", \"housing\": \"risk\", \"drinking_water\": "
     "\"ok\"}}}",
     "2026-03-02"},
    {"a visit found two risks",
     "{\"last_visit\": {\"date\": \"2026-02-03\", \"checks\": {\"food_clothing\": \"ok\", "
     "\"education\": \"ok\", \"medical\": \"ok\", \"housing\": \"risk\", \"drinking_water\": "
     "\"risk\"}}}",
     "2026-03-02"},
    {"a severely disabled member",
     "{\"profile\": {\"members\": [{\"id\": \"m1\", \"disability_grade\": 2}]}}", "2026-03-02"},
    {"two special members",
     "{\"profile\": {\"members\": [{\"id\": \"m1\", \"serious_illness\": true}, {\"id\": \"m2\"},"
     " {\"id\": \"m3\", \"incapacitated\": true}]}}",
     "2026-03-02"},
    {"the gradual exit period",
     "{\"programs\": {\"marginal\": {\"state\": \"exited\", \"exit_until\": \"2026-09-30\"}}}",
     "2026-03-02"},
};

static int32_t day(const char *s)
{
        int32_t d;
        assert_int_equal(date_parse(s, &d), 0);
        return d;
}

static json_t *doc_of(const Case *c)
{
        json_t *doc = json_loads(base_doc, 0, NULL);
        json_error_t e;
        json_t *p = json_loads(c->patch, 0, &e);
        if (!p)
                fail_msg("%s: bad patch: %s", c->name, e.text);
        /* Members are replaced element by element. */
        json_t *pm = json_object_get(json_object_get(p, "profile"), "members");
        json_t *dm = json_object_get(json_object_get(doc, "profile"), "members");
        if (pm) {
                size_t i;
                json_t *m;
                json_array_foreach (pm, i, m)
                        json_object_update(json_array_get(dm, i), m);
                json_object_del(json_object_get(p, "profile"), "members");
        }
        assert_int_equal(json_object_update_recursive(doc, p), 0);
        json_decref(p);
        return doc;
}

static const ExprFloorLine lines[] = {{2022, 1000000}};

static bool fires(const RuleSet *rs, const json_t *doc, int32_t today, const char *rule)
{
        RulesResult res;
        assert_int_equal(rules_eval(rs, doc, today, lines, 1, &res), 0);
        bool found = false;
        for (size_t i = 0; i < res.n_reasons; i++)
                found = found || streq(res.reasons[i].rule, rule);
        rules_result_done(&res);
        return found;
}

static int64_t fact(const json_t *doc, int32_t today, const char *var)
{
        Facts *f = facts_new();
        assert_int_equal(facts_fill(f, doc, today, 120, NULL, 0), 0);
        const ExprValue *v = facts_get(f, var);
        assert_non_null(v);
        int64_t n = v->absent ? -1 : v->num;
        facts_free(f);
        return n;
}

/* Takes up to *left fen out of month buckets named in buckets (the largest
 * first). */
static void take_from(json_t *doc, const char *const *buckets, size_t nb, int64_t *left)
{
        while (*left > 0) {
                json_t *best = NULL;
                const char *best_k = NULL;
                json_int_t best_v = 0;
                const char *mk;
                json_t *month;
                json_object_foreach (json_object_get(doc, "months"), mk, month) {
                        for (size_t b = 0; b < nb; b++) {
                                json_int_t v =
                                    json_integer_value(json_object_get(month, buckets[b]));
                                if (v > best_v) {
                                        best = month;
                                        best_k = buckets[b];
                                        best_v = v;
                                }
                        }
                }
                if (!best)
                        return;
                json_int_t t = best_v < *left ? best_v : *left;
                json_object_set_new(best, best_k, json_integer(best_v - t));
                *left -= t;
        }
}

/* Resolves open needs (urgent or not) until `want` of that kind are left. */
static void resolve_needs(json_t *doc, bool urgent_only, int64_t want)
{
        json_t *needs = json_object_get(doc, "needs");
        int64_t have = 0;
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach (needs, k, v)
                if (!urgent_only || json_is_true(json_object_get(v, "urgent")))
                        have++;
        /* Non-urgent ones first when any kind will do. */
        for (int pass = 0; pass < 2 && have > want; pass++)
                json_object_foreach_safe (needs, tmp, k, v) {
                        bool urgent = json_is_true(json_object_get(v, "urgent"));
                        if (have <= want || (urgent_only && !urgent) ||
                            (!urgent_only && pass == 0 && urgent))
                                continue;
                        json_object_del(needs, k);
                        have--;
                }
}

/* Applies one number figure to the document as the data would change:
 * a verified income of last year, spending or losses taken out of the
 * month buckets, needs resolved. Fails the test for a variable it does not
 * know, so a new kind of way out needs its oracle here. */
static void apply_number(json_t *doc, int32_t today, const ClearOption *o)
{
        int64_t delta = o->from - o->to;
        if (streq(o->var, "prior_income")) {
                char y[8];
                snprintf(y, sizeof(y), "%d", date_year(today) - 1);
                json_t *inc = json_object_get(doc, "incomes");
                if (!inc)
                        json_object_set_new(doc, "incomes", inc = json_object());
                json_object_set_new(inc, y, json_integer(o->to));
        } else if (streq(o->var, "rigid_12m")) {
                static const char *const b[] = {"medical", "accident_medical", "disability",
                                                "education"};
                take_from(doc, b, 4, &delta);
        } else if (streq(o->var, "illness_12m")) {
                static const char *const b[] = {"medical", "accident_medical"};
                take_from(doc, b, 2, &delta);
        } else if (streq(o->var, "income_loss_12m")) {
                static const char *const b[] = {"disaster_loss", "accident_loss"};
                take_from(doc, b, 2, &delta);
        } else if (streq(o->var, "open_needs")) {
                resolve_needs(doc, false, o->to / 100);
        } else if (streq(o->var, "urgent_needs")) {
                resolve_needs(doc, true, o->to / 100);
        } else {
                fail_msg("no oracle for variable %s", o->var);
        }
        /* The document now shows the stated figure. */
        assert_int_equal(fact(doc, today, o->var), o->to);
}

static void apply_values(json_t *doc, const ClearOption *o)
{
        for (size_t i = 0; i < o->n; i++) {
                const char *v = o->vars[i];
                if (strncmp(v, "last_visit.", 11) != 0)
                        fail_msg("no oracle for variable %s", v);
                json_t *checks = json_object_get(json_object_get(doc, "last_visit"), "checks");
                json_object_set_new(checks, v + 11, json_string(o->values[i]));
        }
}

/* Removes rows of a collection that never ages out (members). */
static void apply_rows(json_t *doc, const ClearOption *o)
{
        if (!streq(o->coll, "members"))
                fail_msg("no oracle for rows of %s", o->coll);
        json_t *m = json_object_get(json_object_get(doc, "profile"), "members");
        for (size_t k = o->n_rows; k-- > 0;)
                json_array_remove(m, o->rows[k]);
}

/* Every way out of rule `rule` in doc, applied one at a time, turns it off. */
static size_t check_ways_out(const RuleSet *rs, const Case *c, const char *rule, bool english)
{
        int32_t today = day(c->date);
        json_t *doc = doc_of(c);
        ClearOption opts[CLEAR_MAX_OPTIONS];
        size_t n = 0;
        char text[CLEAR_MAX_TEXT];
        assert_int_equal(rules_explain(rs, doc, today, lines, 1, rule, opts, CLEAR_MAX_OPTIONS, &n,
                                       text, sizeof(text)),
                         0);
        printf("# %s, %s: %s\n", c->name, rule, text);
        if (n == 0)
                fail_msg("%s: %s: no way out found: %s", c->name, rule, text);
        for (size_t i = 0; i < n; i++) {
                json_t *d = json_deep_copy(doc);
                int32_t when = today;
                char fig[64] = "";
                ExprValue v = {.type = EXPR_NUMBER};
                switch (opts[i].kind) {
                case CLEAR_NUMBER:
                        apply_number(d, today, &opts[i]);
                        v.num = opts[i].to;
                        expr_value_format(&v, fig, sizeof(fig));
                        break;
                case CLEAR_VALUES:
                        apply_values(d, &opts[i]);
                        snprintf(fig, sizeof(fig), "%s", opts[i].values[0]);
                        break;
                case CLEAR_UNTIL:
                        when = opts[i].until;
                        break;
                case CLEAR_ROWS:
                        if (opts[i].until)
                                when = opts[i].until;
                        else
                                apply_rows(d, &opts[i]);
                        break;
                }
                if (opts[i].until) {
                        v = (ExprValue){.type = EXPR_DATE, .date = opts[i].until};
                        if (opts[i].kind == CLEAR_UNTIL)
                                v.date--; /* "ends after" the last day it holds */
                        expr_value_format(&v, fig, sizeof(fig));
                }
                /* Still firing the day before an incident stops counting. */
                if (when != today)
                        assert_true(fires(rs, doc, when - 1, rule));
                if (fires(rs, d, when, rule))
                        fail_msg("%s (%s): %s still fires after way out %zu: %s", c->name,
                                 english ? "en" : "zh", rule, i, text);
                if (*fig && !strstr(text, fig))
                        fail_msg("%s: the sentence does not name %s: %s", c->name, fig, text);
                json_decref(d);
        }
        json_decref(doc);
        return n;
}

static void test_every_shipped_rule(void **state)
{
        (void)state;
        Config *en = NULL;
        Diag *d = diag_new();
        const char *yaml = "policy:\n  language: en\n";
        assert_int_equal(config_load_buffer(yaml, strlen(yaml), "/etc/h.yaml", NULL, 0, &en, d), 0);
        RuleSet *zh_rs = NULL, *en_rs = NULL;
        assert_int_equal(rules_load_dir(RULES_DIR, NULL, &zh_rs, d), 0);
        assert_int_equal(rules_load_dir(RULES_DIR, en, &en_rs, d), 0);
        bool covered[ELEMENTSOF(shipped)] = {false};
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_t *doc = doc_of(&cases[i]);
                RulesResult res;
                assert_int_equal(rules_eval(zh_rs, doc, day(cases[i].date), lines, 1, &res), 0);
                if (res.n_reasons == 0)
                        fail_msg("%s: no rule fires", cases[i].name);
                for (size_t k = 0; k < res.n_reasons; k++) {
                        const char *rule = res.reasons[k].rule;
                        check_ways_out(zh_rs, &cases[i], rule, false);
                        check_ways_out(en_rs, &cases[i], rule, true);
                        for (size_t s = 0; s < ELEMENTSOF(shipped); s++)
                                covered[s] = covered[s] || streq(shipped[s], rule);
                }
                rules_result_done(&res);
                json_decref(doc);
        }
        for (size_t s = 0; s < ELEMENTSOF(shipped); s++)
                if (!covered[s])
                        fail_msg("no case makes %s fire", shipped[s]);
        rules_free(zh_rs);
        rules_free(en_rs);
        config_free(en);
        diag_free(d);
}

/* Every documented variable and collection field has a label, so a rule
 * written on any of them gets a readable sentence. */
static void test_labels(void **state)
{
        (void)state;
        char buf[128];
        FactsHelp h;
        for (size_t i = 0; facts_help(i, buf, sizeof(buf), &h) == 0; i++)
                if (!label_exists(h.name))
                        fail_msg("variable %s has no label in daemon/label.c", h.name);
}

static const char custom[] = "thresholds: {low: 100}\n"
                             "rules:\n"
                             "  - id: many_needs_no_relief\n"
                             "    category: need\n"
                             "    severity: yellow\n"
                             "    when: open_needs > 1 and relief_12m < threshold.low\n"
                             "    message: {zh: x, en: x}\n"
                             "  - id: one_need\n"
                             "    category: need\n"
                             "    severity: yellow\n"
                             "    when: open_needs <= 1 and open_needs > 0\n"
                             "    message: {zh: x, en: x}\n"
                             "  - id: by_status\n"
                             "    category: need\n"
                             "    severity: yellow\n"
                             "    when: status == \"low_income\"\n"
                             "    message: {zh: x, en: x}\n";

static RuleSet *load_custom(bool english)
{
        Config *cfg = NULL;
        Diag *d = diag_new();
        const char *yaml = english ? "policy:\n  language: en\n" : "";
        assert_int_equal(config_load_buffer(yaml, strlen(yaml), "/etc/h.yaml", NULL, 0, &cfg, d),
                         0);
        RuleSet *rs = NULL;
        assert_int_equal(rules_load_buffer(custom, strlen(custom), "custom.yaml", cfg, &rs, d), 0);
        config_free(cfg);
        diag_free(d);
        return rs;
}

/* Lowering open needs to 1 clears many_needs_no_relief only by firing
 * one_need: not a way out; 0 is. Relief rises to the threshold. */
static void test_no_rule_may_start(void **state)
{
        (void)state;
        RuleSet *rs = load_custom(true);
        json_t *doc = json_loads(base_doc, 0, NULL);
        json_object_set_new(doc, "needs", json_pack("{s:{}, s:{}, s:{}}", "n1", "n2", "n3"));
        ClearOption o[CLEAR_MAX_OPTIONS];
        size_t n = 0;
        char text[CLEAR_MAX_TEXT];
        assert_int_equal(rules_explain(rs, doc, day("2026-03-02"), lines, 1, "many_needs_no_relief",
                                       o, CLEAR_MAX_OPTIONS, &n, text, sizeof(text)),
                         0);
        printf("# %s\n", text);
        assert_int_equal(n, 2);
        assert_int_equal(o[0].kind, CLEAR_NUMBER);
        assert_string_equal(o[0].var, "open_needs");
        assert_int_equal(o[0].to, 0);
        assert_int_equal(o[1].kind, CLEAR_NUMBER);
        assert_string_equal(o[1].var, "relief_12m");
        assert_int_equal(o[1].to, 10000);
        assert_int_equal(o[1].dir, 1);
        assert_non_null(strstr(text, "open needs (3) must fall to 0 or relief paid over 12 months "
                                     "of 0 yuan must rise to 100 yuan"));
        /* Not firing: -ENOENT. */
        assert_int_equal(rules_explain(rs, doc, day("2026-03-02"), lines, 1, "one_need", o,
                                       CLEAR_MAX_OPTIONS, &n, text, sizeof(text)),
                         -ENOENT);
        json_decref(doc);
        rules_free(rs);
}

/* No figure: the sentence names the condition that must stop holding. */
static void test_no_figure(void **state)
{
        (void)state;
        for (int en = 0; en < 2; en++) {
                RuleSet *rs = load_custom(en);
                json_t *doc = json_loads(base_doc, 0, NULL);
                ClearOption o[CLEAR_MAX_OPTIONS];
                size_t n = 1;
                char text[CLEAR_MAX_TEXT];
                assert_int_equal(rules_explain(rs, doc, day("2026-03-02"), lines, 1, "by_status", o,
                                               CLEAR_MAX_OPTIONS, &n, text, sizeof(text)),
                                 0);
                printf("# %s\n", text);
                assert_int_equal(n, 0);
                assert_non_null(strstr(text, "status == \"low_income\""));
                assert_non_null(strstr(text, en ? "no single figure" : "无单一数字"));
                /* A short buffer is cut, still NUL-terminated UTF-8. */
                char small[20];
                assert_int_equal(rules_explain(rs, doc, day("2026-03-02"), lines, 1, "by_status", o,
                                               CLEAR_MAX_OPTIONS, &n, small, sizeof(small)),
                                 0);
                assert_true(strlen(small) < sizeof(small));
                json_t *js = json_string(small); /* NULL unless valid UTF-8 */
                assert_non_null(js);
                json_decref(js);
                json_decref(doc);
                rules_free(rs);
        }
}

/* The reasons of the evaluation carry the sentence (evaluate.c, lifecycle). */
static void test_reasons_carry_it(void **state)
{
        (void)state;
        RuleSet *rs = NULL;
        assert_int_equal(rules_load_dir(RULES_DIR, NULL, &rs, NULL), 0);
        json_t *doc = doc_of(&cases[5]);
        RulesResult res;
        assert_int_equal(rules_eval(rs, doc, day("2026-03-02"), lines, 1, &res), 0);
        json_t *arr = rules_result_reasons_json(&res);
        const char *tc = json_string_value(json_object_get(json_array_get(arr, 0), "to_clear"));
        assert_non_null(tc);
        assert_string_equal(tc, res.reasons[0].to_clear);
        assert_non_null(strstr(tc, "36000"));
        json_decref(arr);
        rules_result_done(&res);
        json_decref(doc);
        rules_free(rs);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_every_shipped_rule), cmocka_unit_test(test_labels),
            cmocka_unit_test(test_no_rule_may_start),  cmocka_unit_test(test_no_figure),
            cmocka_unit_test(test_reasons_carry_it),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
