/* Unit tests of facts.c: the values rules read from a household document at
 * a date (incomes and which one counts, 12-month sums, programmes and the
 * gradual exit, the latest visit, members, needs, incidents in their
 * window), absent values for missing or mistyped data, thresholds, the
 * symbol table's limits, and the JSON view hearthctl prints. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "event.h"
#include "facts.h"

/* 2026-03-15 as days since 1970. */
static int32_t day(const char *ymd)
{
        int32_t d;
        assert_int_equal(date_parse(ymd, &d), 0);
        return d;
}

static json_t *doc_of(const char *text)
{
        json_error_t je;
        json_t *d = json_loads(text, 0, &je);
        if (!d)
                fail_msg("test document: %s at %d", je.text, je.line);
        return d;
}

/* A household with a bit of everything, as household.c writes it. */
static const char DOC[] =
    "{\"registered\":true,"
    "\"profile\":{\"town\":\"T1\",\"village\":\"V1\",\"status\":\"low_income\","
    " \"income_last_year\":{\"year\":2024,\"disposable\":1200000},"
    " \"members\":[{\"id\":\"m1\",\"labor\":\"full\",\"birth_year\":1980},"
    "              {\"id\":\"m2\",\"labor\":\"none\",\"disability_grade\":2,"
    "               \"serious_illness\":true,\"birth_year\":2030},"
    "              {\"id\":\"m3\",\"labor\":\"partial\",\"student\":true}]},"
    "\"incomes\":{\"2025\":900000,\"2023\":700000,\"x\":1,\"2022\":\"bad\"},"
    "\"months\":{\"2026-03\":{\"medical\":50000,\"education\":10000},"
    "            \"2025-04\":{\"medical\":1},\"2025-03\":{\"medical\":99999},"
    "            \"2026-02\":{\"accident_medical\":2000,\"disability\":300,\"relief\":700}},"
    "\"programs\":{\"minimum_living\":{\"state\":\"exited\",\"exit_until\":\"2026-06-30\"},"
    "             \"marginal\":{\"state\":\"exited\",\"exit_until\":\"2026-01-31\"},"
    "             \"extreme_poverty\":{\"state\":\"granted\"}},"
    "\"needs\":{\"n1\":{\"category\":\"water\",\"channel\":\"self\",\"urgent\":true,"
    "                  \"reported_on\":\"2026-03-01\"},"
    "          \"n2\":{\"category\":\"medical\",\"urgent\":false}},"
    "\"last_visit\":{\"date\":\"2026-02-10T09:00:00+08:00\","
    "               \"checks\":{\"food_clothing\":\"ok\",\"housing\":\"risk\","
    "                          \"drinking_water\":\"risk\"}},"
    "\"incidents\":["
    " {\"kind\":\"disaster\",\"date\":\"2026-01-05\",\"disaster\":\"flood\","
    "  \"house_damage\":\"severe\",\"deaths\":1,\"income_loss\":30000},"
    " {\"kind\":\"disaster\",\"date\":\"2025-03-14\",\"disaster\":\"fire\"},"
    " {\"kind\":\"disaster\",\"date\":\"2026-03-16\",\"disaster\":\"fire\"},"
    " {\"kind\":\"accident\",\"date\":\"2025-12-01\",\"accident_kind\":\"work\","
    "  \"member_id\":\"m2\",\"labor_lost\":true,\"medical_cost\":5000},"
    " {\"kind\":\"claim\",\"date\":\"2026-02-01\",\"claim_kind\":\"inpatient\","
    "  \"major_disease\":true,\"out_of_pocket\":40000,\"total\":100000},"
    " {\"kind\":\"claim\",\"date\":\"2026-02-02\",\"major_disease\":false,"
    "  \"out_of_pocket\":7000}]}";

/* The variable name's value in f as JSON text ("null" when absent). */
static void assert_fact(const Facts *f, const char *name, const char *want)
{
        const ExprValue *v = facts_get(f, name);
        if (!v)
                fail_msg("no variable %s", name);
        json_t *j = facts_value_to_json(v);
        char *text = json_dumps(j, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
        json_decref(j);
        if (strcmp(text, want) != 0) {
                char msg[300];
                snprintf(msg, sizeof(msg), "%s = %s, expected %s", name, text, want);
                free(text);
                fail_msg("%s", msg);
        }
        free(text);
}

static void test_variables(void **state)
{
        (void)state;
        Facts *f = facts_new();
        json_t *doc = doc_of(DOC);
        const int64_t thr[] = {123456};
        assert_int_equal(facts_fill(f, doc, day("2026-03-15"), 120, thr, 1), 0);
        static const struct {
                const char *name, *json;
        } want[] = {
            {"household_size", "3"},
            {"status", "\"low_income\""},
            {"town", "\"T1\""},
            {"village", "\"V1\""},
            {"registered", "true"},
            {"removed", "false"},
            /* The register said 12000.00 for 2024; a verification of 2025
             * is newer and counts; prior_income is last year's (2025). */
            {"income_last_year", "12000"},
            {"income_last_year_year", "2024"},
            {"income_verified", "9000"},
            {"income_verified_year", "2025"},
            {"income", "9000"},
            {"income_year", "2025"},
            {"prior_income", "9000"},
            {"prior_income_year", "2025"},
            /* 2025-04 is in the 12 months to 2026-03, 2025-03 is not. */
            {"medical_12m", "500.01"},
            {"education_12m", "100"},
            {"disability_12m", "3"},
            {"accident_medical_12m", "20"},
            {"illness_12m", "520.01"},
            {"rigid_12m", "623.01"},
            {"relief_12m", "7"},
            {"fund_paid_12m", "0"},
            {"major_disease_12m", "400"},
            /* Exited minimum_living runs to June: in the gradual exit. */
            {"minimum_living", "\"exited\""},
            {"marginal", "\"exited\""},
            {"extreme_poverty", "\"granted\""},
            {"in_gradual_exit", "true"},
            {"gradual_exit_until", "\"2026-06-30\""},
            {"open_needs", "2"},
            {"urgent_needs", "1"},
            {"last_visit.date", "\"2026-02-10\""},
            {"last_visit.food_clothing", "\"ok\""},
            {"last_visit.education", "null"},
            {"last_visit.housing", "\"risk\""},
            {"last_visit.risk_count", "2"},
            {"monitor_factor", "1.2"},
        };
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
                assert_fact(f, want[i].name, want[i].json);
        assert_null(facts_get(f, "threshold.x"));
        assert_null(facts_get(f, "no_such_variable"));

        /* Thresholds are variables of the symbol table, read by rules. */
        const char *names[] = {"x"};
        FactsSymbols *sym = facts_symbols_new(names, 1);
        assert_non_null(sym);
        ExprError err;
        Expr *e = expr_compile("threshold.x == 1234.56 and monitor_factor * 100 == 120",
                               facts_symbols_get(sym), EXPR_BOOL, &err);
        assert_non_null(e);
        ExprEnv env;
        ExprValue out;
        facts_env(f, NULL, 0, &env);
        assert_int_equal(expr_eval(e, &env, &out), 0);
        assert_true(expr_value_true(&out));
        expr_free(e);
        facts_symbols_free(sym);
        json_decref(doc);
        facts_free(f);
}

/* Evaluates src over f with the fixed symbols. */
static ExprValue eval(const Facts *f, const char *src, ExprType type)
{
        FactsSymbols *sym = facts_symbols_new(NULL, 0);
        ExprError err;
        Expr *e = expr_compile(src, facts_symbols_get(sym), type, &err);
        if (!e)
                fail_msg("%s: %s", src, err.msg);
        ExprEnv env;
        ExprValue out;
        facts_env(f, NULL, 0, &env);
        assert_int_equal(expr_eval(e, &env, &out), 0);
        expr_free(e);
        facts_symbols_free(sym);
        return out;
}

static void test_collections(void **state)
{
        (void)state;
        Facts *f = facts_new();
        json_t *doc = doc_of(DOC);
        assert_int_equal(facts_fill(f, doc, day("2026-03-15"), 100, NULL, 0), 0);
        static const struct {
                const char *src;
                int64_t want; /* x100 */
        } cases[] = {
            {"count(members, member.labor == \"none\")", 100},
            {"count(members, member.serious_illness)", 100},
            /* A sum over rows where some value is absent is absent: count. */
            {"count(members, member.disability_grade == 2)", 100},
            /* Born 1980: 46 in 2026; born in the future or unknown: no age. */
            {"count(members, member.age == 46)", 100},
            {"count(members, member.age >= 0)", 100},
            {"count(members, member.student)", 100},
            {"count(needs, need.urgent)", 100},
            /* In the window: the flood (2026-01-05); 2025-03-14 is more than
             * 365 days before, 2026-03-16 is after today. */
            {"count(disasters, true)", 100},
            {"sum(disasters, disaster.deaths)", 100},
            {"sum(disasters, disaster.income_loss)", 30000},
            {"count(accidents, accident.member_labor == \"none\" and accident.labor_lost)", 100},
            {"sum(claims, claim.out_of_pocket)", 47000},
            {"count(claims, claim.major_disease)", 100},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                ExprValue v = eval(f, cases[i].src, EXPR_NUMBER);
                if (v.absent || v.num != cases[i].want)
                        fail_msg("%s = %lld%s, expected %lld", cases[i].src, (long long)v.num,
                                 v.absent ? " (absent)" : "", (long long)cases[i].want);
        }
        /* The JSON view: every variable, and each collection's rows. */
        json_t *j = facts_to_json(f);
        assert_non_null(j);
        assert_int_equal(json_array_size(json_object_get(j, "members")), 3);
        assert_int_equal(json_array_size(json_object_get(j, "disasters")), 1);
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(json_object_get(j, "disasters"), 0), "date")),
                            "2026-01-05");
        assert_true(json_is_null(
            json_object_get(json_array_get(json_object_get(j, "members"), 2), "birth_year")));
        assert_true(json_is_null(json_object_get(j, "last_visit.education")));
        json_decref(j);
        json_decref(doc);
        facts_free(f);
}

static void test_income_choice(void **state)
{
        (void)state;
        Facts *f = facts_new();
        static const struct {
                const char *doc, *today;
                const char *income, *income_year, *prior, *prior_year;
        } cases[] = {
            /* An older verification does not replace the register's figure. */
            {"{\"profile\":{\"income_last_year\":{\"year\":2025,\"disposable\":500000}},"
             "\"incomes\":{\"2024\":100}}",
             "2026-05-01", "5000", "2025", "5000", "2025"},
            /* No register figure: the latest verification; prior_income is the
             * year nearest to last year, an earlier one first on a tie. */
            {"{\"incomes\":{\"2023\":300,\"2027\":700}}", "2026-05-01", "7", "2027", "3", "2023"},
            /* A register figure without a year: income has no year. */
            {"{\"profile\":{\"income_last_year\":{\"disposable\":800}}}", "2026-05-01", "8", "null",
             "8", "null"},
            /* Nothing known. */
            {"{}", "2026-05-01", "null", "null", "null", "null"},
            /* Mistyped data reads as absent. */
            {"{\"profile\":{\"income_last_year\":{\"year\":\"2025\",\"disposable\":1.5}}}",
             "2026-05-01", "null", "null", "null", "null"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                json_t *doc = doc_of(cases[i].doc);
                assert_int_equal(facts_fill(f, doc, day(cases[i].today), 100, NULL, 0), 0);
                assert_fact(f, "income", cases[i].income);
                assert_fact(f, "income_year", cases[i].income_year);
                assert_fact(f, "prior_income", cases[i].prior);
                assert_fact(f, "prior_income_year", cases[i].prior_year);
                json_decref(doc);
        }
        facts_free(f);
}

static void test_empty_and_limits(void **state)
{
        (void)state;
        Facts *f = facts_new();
        /* A document that is not even an object: nothing, no crash. */
        json_t *doc = json_array();
        assert_int_equal(facts_fill(f, doc, day("2026-03-15"), 100, NULL, 0), 0);
        assert_fact(f, "household_size", "0");
        assert_fact(f, "registered", "false");
        assert_fact(f, "town", "null");
        assert_fact(f, "medical_12m", "0");
        assert_fact(f, "in_gradual_exit", "false");
        assert_fact(f, "gradual_exit_until", "null");
        assert_fact(f, "last_visit.risk_count", "null");
        assert_fact(f, "open_needs", "0");
        int64_t thr[FACTS_MAX_THRESHOLDS + 1] = {0};
        assert_int_equal(facts_fill(f, doc, 0, 100, thr, FACTS_MAX_THRESHOLDS + 1), -EINVAL);
        assert_int_equal(facts_fill(f, doc, 0, 100, NULL, 1), -EINVAL);
        assert_int_equal(facts_fill(f, NULL, 0, 100, NULL, 0), -EINVAL);
        json_decref(doc);

        /* More members than FACTS_MAX_MEMBERS: the rows stop there. */
        json_t *many = doc_of("{\"profile\":{\"members\":[]}}");
        json_t *members = json_object_get(json_object_get(many, "profile"), "members");
        for (int i = 0; i < FACTS_MAX_MEMBERS + 5; i++)
                json_array_append_new(members, json_pack("{s:s}", "labor", "full"));
        assert_int_equal(facts_fill(f, many, day("2026-03-15"), 100, NULL, 0), 0);
        ExprValue v = eval(f, "count(members, true)", EXPR_NUMBER);
        assert_int_equal(v.num, FACTS_MAX_MEMBERS * 100);
        assert_fact(f, "household_size", "55");
        json_decref(many);
        facts_free(f);

        /* Threshold names: too many, too long, or NULL are refused. */
        const char *names[FACTS_MAX_THRESHOLDS + 1];
        for (size_t i = 0; i <= FACTS_MAX_THRESHOLDS; i++)
                names[i] = "t";
        assert_null(facts_symbols_new(names, FACTS_MAX_THRESHOLDS + 1));
        char longname[FACTS_MAX_THRESHOLD_NAME + 2];
        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        const char *bad[] = {longname};
        assert_null(facts_symbols_new(bad, 1));
        const char *none[] = {NULL};
        assert_null(facts_symbols_new(none, 1));
        longname[FACTS_MAX_THRESHOLD_NAME] = '\0';
        FactsSymbols *ok = facts_symbols_new(bad, 1);
        assert_non_null(ok);
        facts_symbols_free(ok);
}

static void test_help(void **state)
{
        (void)state;
        char buf[128];
        FactsHelp h;
        size_t n = 0;
        bool saw_field = false;
        for (; facts_help(n, buf, sizeof(buf), &h) == 0; n++) {
                assert_non_null(h.name);
                assert_true(h.name[0] != '\0');
                if (strcmp(h.name, "members.age") == 0) {
                        saw_field = true;
                        assert_string_equal(h.unit, "years");
                }
                if (strcmp(h.name, "disasters.income_loss") == 0)
                        assert_string_equal(h.unit, "yuan");
        }
        assert_true(saw_field);
        assert_int_equal(facts_help(n, buf, sizeof(buf), &h), -ENOENT);
        /* Every fixed variable of the help has a value slot. */
        Facts *f = facts_new();
        json_t *doc = json_object();
        facts_fill(f, doc, 0, 100, NULL, 0);
        for (size_t i = 0; facts_help(i, buf, sizeof(buf), &h) == 0 && !strchr(h.name, '.'); i++)
                assert_non_null(facts_get(f, h.name));
        json_decref(doc);
        facts_free(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_variables),     cmocka_unit_test(test_collections),
            cmocka_unit_test(test_income_choice), cmocka_unit_test(test_empty_and_limits),
            cmocka_unit_test(test_help),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
