/* Unit tests of evaluating rules: a household's facts and every shipped rule. */
/* daemon/facts.c and daemon/rules.c: the facts of a household; every
 * shipped rule on small documents (firing and just not firing) in both
 * languages; the reasons as JSON; runtime errors. Run from the repository
 * root. Loading is in test_rules.c, the shared helpers in rules_fixture.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "event.h"
#include "facts.h"
#include "rules.h"

#include "rules_fixture.h"

/* --- facts --------------------------------------------------------------- */

static void assert_num(const Facts *f, const char *name, int64_t want)
{
        const ExprValue *v = facts_get(f, name);
        assert_non_null(v);
        if (v->absent || v->type != EXPR_NUMBER || v->num != want)
                fail_msg("%s: wanted %lld, got %s%lld", name, (long long)want,
                         v->absent ? "absent " : "", (long long)v->num);
}

static void assert_absent(const Facts *f, const char *name)
{
        const ExprValue *v = facts_get(f, name);
        assert_non_null(v);
        if (!v->absent)
                fail_msg("%s: wanted absent", name);
}

static void test_facts(void **state)
{
        (void)state;
        json_t *doc = doc_with(
            "{\"incomes\": {\"2024\": 2000000, \"2025\": 3000000, \"x\": 5},"
            " \"months\": {\"2026-03\": {\"medical\": 4500000, \"education\": 100,"
            "  \"disability\": 200, \"disaster_loss\": 300, \"accident_loss\": 400,"
            "  \"relief\": 50000, \"other\": 7},"
            "  \"2025-03\": {\"medical\": 99999900}},"
            " \"programs\": {\"minimum_living\": {\"state\": \"exited\", \"exit_until\": "
            "\"2026-12-31\"}, \"marginal\": {\"state\": \"granted\"}},"
            " \"needs\": {\"n1\": {\"category\": \"housing\", \"channel\": \"self\", "
            "\"urgent\": true, \"reported_on\": \"2026-03-01T08:00:00+08:00\"},"
            "  \"n2\": {\"category\": \"water\", \"channel\": \"cadre\", \"urgent\": false}},"
            " \"last_visit\": {\"date\": \"2026-02-03\", \"checks\": {\"food_clothing\": "
            "\"ok\", \"education\": \"ok\", \"medical\": \"risk\", \"housing\": \"risk\", "
            "\"drinking_water\": \"ok\"}},"
            " \"incidents\": ["
            "  {\"kind\": \"accident\", \"date\": \"2026-03-01\", \"member_id\": \"m2\","
            "   \"labor_lost\": true, \"income_loss\": 100, \"medical_cost\": 5},"
            "  {\"kind\": \"accident\", \"date\": \"2026-03-03\", \"member_id\": \"m1\"},"
            "  {\"kind\": \"claim\", \"date\": \"2025-03-02\", \"major_disease\": true,"
            "   \"out_of_pocket\": 100},"
            "  {\"kind\": \"claim\", \"date\": \"2025-03-01\", \"major_disease\": true,"
            "   \"out_of_pocket\": 1000},"
            "  {\"kind\": \"claim\", \"date\": \"2026-03-02\", \"major_disease\": false,"
            "   \"out_of_pocket\": 10},"
            "  {\"kind\": \"disaster\", \"date\": \"bad\"}, {\"kind\": 3}, 7]}");
        Facts *f = facts_new();
        assert_non_null(f);
        int64_t th[2] = {123, 456};
        assert_int_equal(facts_fill(f, doc, day("2026-03-02"), 120, th, 2), 0);
        assert_num(f, "household_size", 300);
        assert_num(f, "income_last_year", 3600000);
        assert_num(f, "income_last_year_year", 202500);
        assert_num(f, "income_verified", 3000000);
        assert_num(f, "income_verified_year", 202500);
        assert_num(f, "income", 3000000);       /* verified of the same year wins */
        assert_num(f, "prior_income", 3000000); /* verified of last year wins */
        assert_num(f, "prior_income_year", 202500);
        assert_num(f, "medical_12m", 4500000);
        assert_num(f, "illness_12m", 4500000); /* the accidents carry no medical_12m months */
        assert_num(f, "rigid_12m", 4500300);
        assert_num(f, "income_loss_12m", 700);
        assert_num(f, "relief_12m", 50000);
        assert_num(f, "other_expense_12m", 7);
        assert_num(f, "major_disease_12m", 100); /* 365 days back counts, 366 does not */
        assert_num(f, "open_needs", 200);
        assert_num(f, "urgent_needs", 100);
        assert_num(f, "last_visit.risk_count", 200);
        assert_num(f, "monitor_factor", 120);
        assert_true(facts_get(f, "in_gradual_exit")->b);
        assert_string_equal(facts_get(f, "minimum_living")->s, "exited");
        assert_string_equal(facts_get(f, "marginal")->s, "granted");
        assert_absent(f, "extreme_poverty");
        assert_string_equal(facts_get(f, "last_visit.medical")->s, "risk");
        assert_null(facts_get(f, "no_such_variable"));

        /* Collections through the expression language itself. */
        FactsSymbols *sym = facts_symbols_new((const char *const[]){"a", "b"}, 2);
        assert_non_null(sym);
        ExprEnv env;
        ExprFloorLine lines[] = {{2022, 1000000}};
        facts_env(f, lines, 1, &env);
        static const struct {
                const char *src;
                ExprType type;
                int64_t want; /* number ×100, or bool 0/1, or date */
        } checks[] = {
            {"count(accidents, accident.member_labor == \"partial\")", EXPR_NUMBER, 100},
            /* the accident of 2026-03-03 is after today: not counted */
            {"count(accidents, true)", EXPR_NUMBER, 100},
            {"sum(claims, claim.out_of_pocket)", EXPR_NUMBER, 110},
            {"count(needs, need.reported_on == date(\"2026-03-01\"))", EXPR_NUMBER, 100},
            {"sum(members, coalesce(member.age, 0))", EXPR_NUMBER, 5100},
            {"count(members, member.student)", EXPR_NUMBER, 100},
            {"threshold.a + threshold.b", EXPR_NUMBER, 579},
            {"per_capita(income) < floor_line(year(today))", EXPR_BOOL, 0},
            {"present(last_visit.date) and town == \"温溪镇\"", EXPR_BOOL, 1},
            {"gradual_exit_until", EXPR_DATE, 0},
        };
        for (size_t i = 0; i < ELEMENTSOF(checks); i++) {
                ExprError err;
                Expr *e = expr_compile(checks[i].src, facts_symbols_get(sym), checks[i].type, &err);
                if (!e)
                        fail_msg("%s: %s", checks[i].src, err.msg);
                ExprValue v;
                assert_int_equal(expr_eval(e, &env, &v), 0);
                assert_false(v.absent);
                if (checks[i].type == EXPR_NUMBER && v.num != checks[i].want)
                        fail_msg("%s: wanted %lld, got %lld", checks[i].src,
                                 (long long)checks[i].want, (long long)v.num);
                if (checks[i].type == EXPR_BOOL && v.b != (checks[i].want != 0))
                        fail_msg("%s: wanted %lld", checks[i].src, (long long)checks[i].want);
                if (checks[i].type == EXPR_DATE)
                        assert_int_equal(v.date, day("2026-12-31"));
                expr_free(e);
        }

        json_t *j = facts_to_json(f);
        assert_non_null(j);
        assert_int_equal(json_integer_value(json_object_get(j, "medical_12m")), 45000);
        assert_true(json_is_null(json_object_get(j, "extreme_poverty")));
        assert_int_equal(json_array_size(json_object_get(j, "accidents")), 1);
        json_decref(j);

        /* An older verification does not replace last year's figure; an
         * empty document has zero sums and absent figures. */
        json_decref(doc);
        doc = doc_with("{\"incomes\": {\"2023\": 10}}");
        assert_int_equal(facts_fill(f, doc, day("2026-03-02"), 120, NULL, 0), 0);
        assert_num(f, "income", 3600000);
        assert_num(f, "income_verified", 10);
        assert_num(f, "prior_income", 3600000);
        assert_num(f, "prior_income_year", 202500);
        json_decref(doc);
        /* Accidents' medical costs are illness costs; the register's 2025
         * is nearer to last year (2026 at 2027-03-02) than a 2024
         * verification, a 2026 verification nearer still. */
        doc = doc_with("{\"incomes\": {\"2024\": 10},"
                       " \"months\": {\"2027-03\": {\"medical\": 100, \"accident_medical\": 20,"
                       " \"education\": 3, \"disability\": 4}}}");
        assert_int_equal(facts_fill(f, doc, day("2027-03-02"), 120, NULL, 0), 0);
        assert_num(f, "prior_income", 3600000);
        assert_num(f, "prior_income_year", 202500);
        assert_num(f, "illness_12m", 120);
        assert_num(f, "rigid_12m", 127);
        json_decref(doc);
        doc = doc_with("{\"incomes\": {\"2026\": 10, \"2027\": 20}}");
        assert_int_equal(facts_fill(f, doc, day("2027-03-02"), 120, NULL, 0), 0);
        assert_num(f, "prior_income", 10);
        assert_num(f, "prior_income_year", 202600);
        json_decref(doc);
        doc = json_object();
        assert_int_equal(facts_fill(f, doc, day("2026-03-02"), 120, NULL, 0), 0);
        assert_num(f, "household_size", 0);
        assert_num(f, "rigid_12m", 0);
        assert_absent(f, "income");
        assert_absent(f, "prior_income");
        assert_absent(f, "last_visit.date");
        assert_absent(f, "last_visit.risk_count");
        assert_absent(f, "gradual_exit_until");
        assert_false(facts_get(f, "in_gradual_exit")->b);
        assert_int_equal(facts_fill(f, doc, 0, 120, th, FACTS_MAX_THRESHOLDS + 1), -EINVAL);
        json_decref(doc);

        assert_null(facts_symbols_new(NULL, FACTS_MAX_THRESHOLDS + 1));
        facts_symbols_free(sym);
        assert_null(facts_free(f));
}

/* The README documents every variable and collection field. */
static void test_readme_documents_variables(void **state)
{
        (void)state;
        FILE *f = fopen(RULES_DIR "/README.md", "r");
        assert_non_null(f);
        static char text[256 * 1024];
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        text[n] = '\0';
        char buf[128], quoted[160];
        FactsHelp h;
        for (size_t i = 0; facts_help(i, buf, sizeof(buf), &h) == 0; i++) {
                /* Fields are documented as `field` under their collection. */
                const char *name = strchr(h.name, '.') && strncmp(h.name, "last_visit.", 11) != 0
                                       ? strchr(h.name, '.') + 1
                                       : h.name;
                snprintf(quoted, sizeof(quoted), "`%s`", name);
                if (!strstr(text, quoted))
                        fail_msg("rules/README.md does not document %s", h.name);
        }
        for (size_t i = 0; i < ELEMENTSOF(shipped); i++) {
                snprintf(quoted, sizeof(quoted), "`%s`", shipped[i]);
                if (!strstr(text, quoted))
                        fail_msg("rules/README.md does not list rule %s", shipped[i]);
        }
}

/* --- every shipped rule on small documents ------------------------------ */

typedef struct {
        const char *name;
        const char *patch; /* merged into base_doc */
        const char *date;
        const char *code;
        const char *reasons; /* space-separated ids, in rule order */
        bool monitored;
        const char *figures[4]; /* must appear in the message of the first reason */
} EvalCase;

/* base_doc: 3 members, 36000 last year (12000 per person = the watch line). */
static const EvalCase eval_cases[] = {
    {"plain household", NULL, "2026-03-02", "green", "", false, {NULL}},
    {"income_below_line and income_cut_by_disaster fire",
     "{\"months\": {\"2026-03\": {\"disaster_loss\": 600001}}}",
     "2026-03-02",
     "red",
     "income_below_line income_cut_by_disaster income_near_line",
     true,
     {"6000.01", "9999.99", "10000"}},
    {"income_below_line fires without a loss",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 2999997}}}",
     "2026-03-02",
     "yellow",
     "income_below_line income_near_line",
     true,
     {"29999.97", "9999.99", "10000"}},
    {"income_below_line fires with a verified income of last year",
     "{\"incomes\": {\"2025\": 2999997}}",
     "2026-03-02",
     "yellow",
     "income_below_line income_near_line",
     true,
     {"29999.97", "9999.99", "10000"}},
    {"income_cut_by_disaster just not (already below, loss under 20%)",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 2700000}},"
     " \"months\": {\"2026-03\": {\"accident_loss\": 539999}}}",
     "2026-03-02",
     "yellow",
     "income_below_line income_near_line",
     true,
     {"27000", "5399.99", "7200"}},
    {"income_cut_by_disaster fires (already below, loss of 20%)",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 2700000}},"
     " \"months\": {\"2026-03\": {\"accident_loss\": 540000}}}",
     "2026-03-02",
     "red",
     "income_below_line income_cut_by_disaster income_near_line",
     true,
     {"27000", "5400", "7200"}},
    {"income_below_line just not",
     "{\"months\": {\"2026-03\": {\"accident_loss\": 600000}}}",
     "2026-03-02",
     "green",
     "income_near_line",
     true,
     {"10000", "12000"}},
    {"income_near_line fires",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 3599997}}}",
     "2026-03-02",
     "green",
     "income_near_line",
     true,
     {"11999.99", "12000", "1.2"}},
    {"rigid illness fires",
     "{\"months\": {\"2026-03\": {\"medical\": 4500000}}}",
     "2026-03-02",
     "red",
     "rigid_expenditure_illness",
     false,
     {"45000", "36000"}},
    {"rigid illness just not",
     "{\"months\": {\"2026-03\": {\"medical\": 3600000}}}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"rigid illness counts accident medical costs",
     "{\"months\": {\"2026-03\": {\"medical\": 1600001, \"accident_medical\": 2000000}}}",
     "2026-03-02",
     "red",
     "rigid_expenditure_illness",
     false,
     {"36000.01", "16000.01", "20000"}},
    {"rigid illness against the verified income of last year",
     "{\"incomes\": {\"2025\": 4500000}, \"months\": {\"2026-03\": {\"medical\": 4500001}}}",
     "2026-03-02",
     "red",
     "rigid_expenditure_illness",
     false,
     {"45000.01", "45000"}},
    {"rigid illness just not (the verified income of last year wins over the register's)",
     "{\"incomes\": {\"2025\": 4500000}, \"months\": {\"2026-03\": {\"medical\": 4000000}}}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"rigid disability fires (yellow, key monitoring)",
     "{\"months\": {\"2026-03\": {\"medical\": 1000000, \"disability\": 2600001}}}",
     "2026-03-02",
     "yellow",
     "rigid_expenditure_disability",
     true,
     {"36000.01", "26000.01", "36000"}},
    {"rigid education fires (yellow, key monitoring)",
     "{\"months\": {\"2026-03\": {\"disability\": 1000000, \"education\": 2600001}}}",
     "2026-03-02",
     "yellow",
     "rigid_expenditure_education",
     true,
     {"36000.01", "26000.01", "36000"}},
    {"rigid education tie goes to disability",
     "{\"months\": {\"2026-03\": {\"disability\": 1800001, \"education\": 1800001}}}",
     "2026-03-02",
     "yellow",
     "rigid_expenditure_disability",
     true,
     {NULL}},
    {"major_disease_claim fires",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"claim\", \"date\": \"2026-03-01\", \"major_disease\": true, \"out_of_pocket\": 2000000}]}",
     "2026-03-02",
     "red",
     "major_disease_claim",
     false,
     {"1", "20000"}},
    {"major_disease_claim just not",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"claim\", \"date\": \"2026-03-01\", \"major_disease\": true, \"out_of_pocket\": 1999999}]}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"disaster_severe fires",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"disaster\", \"date\": \"2026-03-01\", \"house_damage\": \"collapsed\", \"deaths\": 0, "
     "\"injured\": 2, \"income_loss\": 0, \"property_loss\": 0}]}",
     "2026-03-02",
     "red",
     "disaster_severe disaster_damage",
     false,
     {"1", "2"}},
    {"disaster_severe just not (moderate damage is disaster_damage)",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"disaster\", \"date\": \"2026-03-01\", \"house_damage\": \"moderate\", \"deaths\": 0, "
     "\"injured\": 1, \"income_loss\": 999999, \"property_loss\": 4499999}]}",
     "2026-03-02",
     "yellow",
     "disaster_damage",
     false,
     {"1"}},
    {"disaster_severe fires by property loss of half a year's income",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"disaster\", \"date\": \"2026-03-01\", \"house_damage\": \"none\", \"deaths\": 0, "
     "\"injured\": 0, \"income_loss\": 0, \"property_loss\": 4500000}],"
     " \"months\": {\"2026-03\": {\"property_loss\": 4500000}}}",
     "2026-03-02",
     "red",
     "disaster_severe disaster_damage",
     false,
     {"45000", "90000"}},
    {"disaster_damage just not",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"disaster\", \"date\": \"2026-03-01\", \"house_damage\": \"minor\", \"deaths\": 0, "
     "\"injured\": 0, \"income_loss\": 0, \"property_loss\": 499999}]}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"accident_labor fires",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"accident\", \"date\": \"2026-03-01\", \"member_id\": \"m1\", \"labor_lost\": true, "
     "\"income_loss\": 0}], \"months\": {\"2026-03\": {\"accident_medical\": 800000}}}",
     "2026-03-02",
     "red",
     "accident_labor",
     false,
     {"1", "8000"}},
    {"accident_labor fires by medical costs",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"accident\", \"date\": \"2026-03-01\", \"member_id\": \"m3\", \"labor_lost\": false, "
     "\"income_loss\": 0, \"medical_cost\": 2000000}], \"months\": {\"2026-03\": "
     "{\"accident_medical\": 2000000}}}",
     "2026-03-02",
     "red",
     "accident_labor",
     false,
     {"1", "20000"}},
    {"accident_labor just not (medical costs)",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"accident\", \"date\": \"2026-03-01\", \"member_id\": \"m3\", \"labor_lost\": false, "
     "\"income_loss\": 0, \"medical_cost\": 1999999}]}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"accident_labor just not (member did not work)",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"accident\", \"date\": \"2026-03-01\", \"member_id\": \"m3\", \"labor_lost\": true, "
     "\"income_loss\": 999999}]}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"open_need fires",
     "{\"needs\": {\"n1\": {\"urgent\": false}, \"n2\": {\"urgent\": true}}}",
     "2026-03-02",
     "yellow",
     "open_need urgent_need",
     false,
     {"2", "1"}},
    {"urgent_need fires, open_need just not",
     "{\"needs\": {\"n1\": {\"urgent\": true}}}",
     "2026-03-02",
     "yellow",
     "urgent_need",
     false,
     {"1"}},
    {"visit_guarantee_risk fires",
     "{\"last_visit\": {\"date\": \"2026-02-03\", \"checks\": {\"food_clothing\": \"ok\", "
     "\"education\": \"ok\", \"medical\": \"ok\", \"housing\": \"risk\", \"drinking_water\": "
     "\"ok\"}}}",
     "2026-03-02",
     "yellow",
     "visit_guarantee_risk",
     false,
     {"2026-02-03", "1"}},
    {"visit_guarantee_risk just not",
     "{\"last_visit\": {\"date\": \"2026-02-03\", \"checks\": {\"food_clothing\": \"ok\", "
     "\"education\": \"ok\", \"medical\": \"ok\", \"housing\": \"ok\", \"drinking_water\": "
     "\"ok\"}}}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"special_members fires",
     "{\"profile\": {\"members\": [{\"id\": \"m1\", \"disability_grade\": 2}]}}",
     "2026-03-02",
     "green",
     "special_members",
     true,
     {"1"}},
    {"special_members just not",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 1200000}, \"members\": [{\"id\": "
     "\"m1\", \"disability_grade\": 3, \"serious_illness\": false, \"incapacitated\": false}]}}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"gradual_exit fires",
     "{\"programs\": {\"marginal\": {\"state\": \"exited\", \"exit_until\": \"2026-03-02\"}}}",
     "2026-03-02",
     "green",
     "gradual_exit",
     true,
     {"2026-03-02"}},
    {"gradual_exit just not",
     "{\"programs\": {\"marginal\": {\"state\": \"exited\", \"exit_until\": \"2026-03-01\"}}}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"not registered is green",
     "{\"registered\": false, \"needs\": {\"n1\": {}}}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
};

static void check_eval(const RuleSet *rs, const EvalCase *c, bool english)
{
        json_t *doc = doc_with(c->patch);
        ExprFloorLine lines[] = {{2022, 1000000}};
        RulesResult res;
        char got[1024] = "";
        size_t k = 0;

        assert_int_equal(rules_eval(rs, doc, day(c->date), lines, 1, &res), 0);
        for (size_t i = 0; i < res.n_reasons; i++)
                k += (size_t)snprintf(got + k, sizeof(got) - k, "%s%s", i ? " " : "",
                                      res.reasons[i].rule);
        if (!streq(rules_code_to_string(res.code), c->code) || !streq(got, c->reasons) ||
            res.monitored != c->monitored)
                fail_msg("%s: wanted %s [%s]%s, got %s [%s]%s", c->name, c->code, c->reasons,
                         c->monitored ? " monitored" : "", rules_code_to_string(res.code), got,
                         res.monitored ? " monitored" : "");
        if (res.n_errors > 0)
                fail_msg("%s: runtime error in %s: %s", c->name, res.errors[0].rule,
                         expr_strerror(res.errors[0].error));
        for (size_t i = 0; i < ELEMENTSOF(c->figures) && c->figures[i]; i++)
                if (!strstr(res.reasons[0].message, c->figures[i]))
                        fail_msg("%s: the %s message of %s lacks %s: %s", c->name,
                                 english ? "en" : "zh", res.reasons[0].rule, c->figures[i],
                                 res.reasons[0].message);
        rules_result_done(&res);
        json_decref(doc);
}

static void test_eval_shipped(void **state)
{
        (void)state;
        Config *en = config_from("policy:\n  language: en\n");
        RuleSet *zh_rs = NULL, *en_rs = NULL;
        Diag *d = diag_new();
        assert_int_equal(rules_load_dir(RULES_DIR, NULL, &zh_rs, d), 0);
        assert_int_equal(rules_load_dir(RULES_DIR, en, &en_rs, d), 0);
        /* Every shipped rule fires in some case and misses in another. */
        bool fires[ELEMENTSOF(shipped)] = {0};
        for (size_t i = 0; i < ELEMENTSOF(eval_cases); i++) {
                check_eval(zh_rs, &eval_cases[i], false);
                check_eval(en_rs, &eval_cases[i], true);
                for (size_t s = 0; s < ELEMENTSOF(shipped); s++)
                        if (strstr(eval_cases[i].reasons, shipped[s]))
                                fires[s] = true;
        }
        for (size_t s = 0; s < ELEMENTSOF(shipped); s++)
                if (!fires[s])
                        fail_msg("no case fires %s", shipped[s]);
        rules_free(zh_rs);
        rules_free(en_rs);
        config_free(en);
        diag_free(d);
}

/* The output reasons: CONTRACT.md's shape, money as yuan numbers. */
static void test_reasons_json(void **state)
{
        (void)state;
        RuleSet *rs = NULL;
        assert_int_equal(rules_load_dir(RULES_DIR, NULL, &rs, NULL), 0);
        json_t *doc = doc_with("{\"months\": {\"2026-03\": {\"medical\": 4500050}}}");
        ExprFloorLine lines[] = {{2022, 1000000}};
        RulesResult res;
        assert_int_equal(rules_eval(rs, doc, day("2026-03-02"), lines, 1, &res), 0);
        assert_int_equal(res.code, RULES_RED);
        assert_int_equal(res.n_reasons, 1);
        assert_string_equal(
            res.reasons[0].message,
            "近12个月刚性支出45000.5元（医疗自付45000.5元，意外医疗0元），超过2025年"
            "家庭可支配收入36000元");
        json_t *arr = rules_result_reasons_json(&res);
        assert_non_null(arr);
        json_t *r0 = json_array_get(arr, 0);
        assert_string_equal(json_string_value(json_object_get(r0, "rule")),
                            "rigid_expenditure_illness");
        assert_string_equal(json_string_value(json_object_get(r0, "category")), "illness");
        assert_string_equal(json_string_value(json_object_get(r0, "severity")), "red");
        json_t *ev = json_object_get(r0, "evidence");
        assert_true(json_is_real(json_object_get(ev, "rigid")));
        assert_true(json_real_value(json_object_get(ev, "rigid")) == 45000.5);
        assert_int_equal(json_integer_value(json_object_get(ev, "income")), 36000);
        assert_int_equal(json_integer_value(json_object_get(ev, "income_year")), 2025);
        assert_int_equal(json_integer_value(json_object_get(ev, "education")), 0);
        json_decref(arr);
        rules_result_done(&res);
        rules_result_done(&res); /* twice is harmless */
        json_decref(doc);
        rules_free(rs);
}

/* --- runtime errors -------------------------------------------------------- */

static void test_runtime_errors(void **state)
{
        (void)state;
        const char *y =
            "rules:\n"
            "  - {id: div, category: need, severity: red, when: medical_12m / open_needs > 0,"
            " message: {zh: a, en: a}}\n"
            "  - {id: line, category: need, severity: red,"
            " when: floor_line(year(today)) > 0, message: {zh: a, en: a}}\n"
            "  - {id: over, category: need, severity: red,"
            " when: 90000000000000000 * 90000000000000000 > 0, message: {zh: a, en: a}}\n"
            "  - {id: percap, category: need, severity: red,"
            " when: per_capita(10) > 0, message: {zh: a, en: a}}\n"
            "  - {id: ev, category: need, severity: yellow, when: true,"
            " evidence: {x: 1 / open_needs, y: income},"
            " message: {zh: \"x={x} y={y}\", en: \"x={x} y={y}\"}}\n";
        RuleSet *rs = NULL;
        Diag *d = diag_new();
        int r = rules_load_buffer(y, strlen(y), "rt.yaml", NULL, &rs, d);
        diag_dump(d);
        assert_int_equal(r, 0);
        /* No floor lines, no members, no needs. */
        json_t *doc = json_loads("{\"registered\": true}", 0, NULL);
        RulesResult res;
        assert_int_equal(rules_eval(rs, doc, day("2026-03-02"), NULL, 0, &res), 0);
        assert_int_equal(res.code, RULES_YELLOW);
        assert_int_equal(res.n_reasons, 1);
        assert_string_equal(res.reasons[0].rule, "ev");
        assert_string_equal(res.reasons[0].message, "x=未知 y=未知");
        assert_true(json_is_null(json_object_get(res.reasons[0].evidence, "x")));
        assert_int_equal(res.n_errors, 5);
        static const struct {
                const char *rule, *what;
                int error;
        } want[] = {
            {"div", "when", EXPR_ERR_DIV_ZERO},      {"line", "when", EXPR_ERR_NO_LINE},
            {"over", "when", EXPR_ERR_OVERFLOW},     {"percap", "when", EXPR_ERR_DIV_ZERO},
            {"ev", "evidence.x", EXPR_ERR_DIV_ZERO},
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                assert_string_equal(res.errors[i].rule, want[i].rule);
                assert_string_equal(res.errors[i].what, want[i].what);
                assert_int_equal(res.errors[i].error, want[i].error);
        }
        rules_result_done(&res);
        json_decref(doc);

        /* A malformed document (wrong types everywhere) is absent data, not
         * a crash. */
        doc = json_loads("{\"registered\": true, \"profile\": {\"members\": [1, \"x\", {\"labor\": "
                         "3, \"disability_grade\": \"a\", \"birth_year\": 99999999999999999}],"
                         " \"income_last_year\": {\"year\": \"x\", \"disposable\": 1.5}},"
                         " \"months\": [1], \"needs\": [], \"incidents\": {}, \"incomes\": {\"99999"
                         "999999\": 1}, \"last_visit\": 5, \"programs\": {\"marginal\": 1}}",
                         0, NULL);
        assert_non_null(doc);
        assert_int_equal(rules_eval(rs, doc, day("2026-03-02"), NULL, 0, &res), 0);
        rules_result_done(&res);
        assert_int_equal(rules_eval(rs, doc, 0, NULL, 0, NULL), -EINVAL);
        assert_int_equal(rules_eval(NULL, doc, 0, NULL, 0, &res), -EINVAL);
        rules_result_done(&res);
        json_decref(doc);

        /* The shipped rules on the malformed document never crash either. */
        RuleSet *sh = NULL;
        assert_int_equal(rules_load_dir(RULES_DIR, NULL, &sh, NULL), 0);
        doc = json_loads("{\"registered\": true, \"profile\": {\"members\": [{}], "
                         "\"income_last_year\": {\"disposable\": 9223372036854775807}},"
                         " \"incomes\": {\"2025\": -9223372036854775807}}",
                         0, NULL);
        ExprFloorLine lines[] = {{2022, 1000000}};
        assert_int_equal(rules_eval(sh, doc, day("2026-03-02"), lines, 1, &res), 0);
        rules_result_done(&res);
        json_decref(doc);
        rules_free(sh);
        rules_free(rs);
        diag_free(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_facts),
            cmocka_unit_test(test_readme_documents_variables),
            cmocka_unit_test(test_eval_shipped),
            cmocka_unit_test(test_reasons_json),
            cmocka_unit_test(test_runtime_errors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
