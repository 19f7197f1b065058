/* Unit tests of the benefits statement (statement.h, REQ-13): periods, the
 * items built from a household's ledger (programme months, relief, fund
 * payments, measures), totals, the schedule and the stable id. Events are
 * real CloudEvents applied with household_apply() (so the ledger entries are
 * the ones hearthd writes), decoded with the repository's schemas
 * ($HEARTH_SCHEMAS, else "schemas"). Every statement is validated against
 * schemas/out/benefits.statement.json. */
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
#include "schema.h"
#include "statement.h"

static SchemaSet *schemas, *out_schemas;
static EventDecoder *dec;

static int setup(void **state)
{
        (void)state;
        const char *dir = getenv("HEARTH_SCHEMAS") ?: "schemas";
        char err[512], out[600];
        if (schema_set_load_dir(dir, &schemas, err, sizeof(err)) < 0) {
                print_error("cannot load schemas from %s: %s\n", dir, err);
                return -1;
        }
        snprintf(out, sizeof(out), "%s/out", dir);
        if (schema_set_load_dir(out, &out_schemas, err, sizeof(err)) < 0) {
                print_error("cannot load schemas from %s: %s\n", out, err);
                return -1;
        }
        dec = event_decoder_new(schemas, 1 << 20);
        return dec ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        dec = event_decoder_free(dec);
        schemas = schema_set_free(schemas);
        out_schemas = schema_set_free(out_schemas);
        return 0;
}

/* Applies one event (data: printf format) to doc, its ledger entries to
 * ledger. */
_printf_(4, 5) static void apply(json_t *doc, json_t *ledger, const char *type, const char *fmt,
                                 ...)
{
        static int serial;
        char data[2048], text[4096], err[512];
        va_list ap;
        json_error_t je;
        Event ev;
        va_start(ap, fmt);
        vsnprintf(data, sizeof(data), fmt, ap);
        va_end(ap);
        snprintf(text, sizeof(text),
                 "{\"specversion\":\"1.0\",\"id\":\"e-%d\",\"source\":\"test\",\"type\":\"%s\","
                 "\"time\":\"2026-06-01T10:00:00+08:00\",\"subject\":\"H1\",\"data\":%s}",
                 ++serial, type, data);
        json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
        if (!root)
                fail_msg("not JSON: %s: %s", je.text, text);
        if (event_from_json(dec, root, &ev, err, sizeof(err)) < 0)
                fail_msg("%s: %s", err, text);
        HouseholdEffects fx = {ledger, NULL, 0};
        assert_int_equal(household_apply(doc, &ev, dec, &fx), 0);
        event_done(&ev);
}

#define REGISTER(phone)                                                                            \
        "{\"town\":\"T\",\"village\":\"V\",\"cadre\":{\"id\":\"C1\"},\"members\":["                \
        "{\"id\":\"M1\",\"labor\":\"full\",\"disability_grade\":0,\"serious_illness\":false,"      \
        "\"incapacitated\":false,\"student\":false}],\"status\":\"none\","                         \
        "\"income_last_year\":{\"year\":2025,\"disposable\":30000}" phone "}"

static json_t *household(json_t *ledger)
{
        json_t *doc = household_new();
        apply(doc, ledger, "household.registered", REGISTER(",\"contact_phone\":\"13900000001\""));
        return doc;
}

static json_t *build(const json_t *doc, const json_t *ledger, const char *period)
{
        StatementPeriod p;
        char err[512];
        assert_int_equal(statement_period_parse(period, &p), 0);
        json_t *s = statement_build(doc, ledger, "H1", &p);
        assert_non_null(s);
        const Schema *sc = schema_set_get(out_schemas, "benefits.statement");
        assert_non_null(sc);
        if (schema_validate(sc, s, "data", err, sizeof(err)) != 0)
                fail_msg("statement does not validate: %s", err);
        return s;
}

static double num(const json_t *o, const char *k)
{
        return json_number_value(json_object_get(o, k));
}

static const char *str(const json_t *o, const char *k)
{
        return json_string_value(json_object_get(o, k));
}

static void test_periods(void **state)
{
        (void)state;
        StatementPeriod p;
        char a[16], b[16];
        assert_int_equal(statement_period_parse("2026-02", &p), 0);
        date_format(p.from, a, sizeof(a));
        date_format(p.to, b, sizeof(b));
        assert_string_equal(a, "2026-02-01");
        assert_string_equal(b, "2026-02-28");
        assert_int_equal(statement_period_parse("2024-Q1", &p), 0);
        date_format(p.to, b, sizeof(b));
        assert_string_equal(b, "2024-03-31");
        assert_string_equal(p.id, "2024-Q1");
        assert_int_equal(statement_period_parse("2026-Q4", &p), 0);
        date_format(p.from, a, sizeof(a));
        date_format(p.to, b, sizeof(b));
        assert_string_equal(a, "2026-10-01");
        assert_string_equal(b, "2026-12-31");
        assert_int_equal(statement_period_parse("2026", &p), 0);
        date_format(p.to, b, sizeof(b));
        assert_string_equal(b, "2026-12-31");
        const char *bad[] = {"2026-13", "2026-00", "2026-Q5", "26-11", "2026-1", "2026-11-01", ""};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(statement_period_parse(bad[i], &p), -EINVAL);
        /* The period ends at midnight +08:00 after its last day. */
        assert_int_equal(statement_period_parse("2026-11", &p), 0);
        char t[40];
        lifecycle_format_time(statement_period_end_ms(&p), t, sizeof(t));
        assert_string_equal(t, "2026-12-01T00:00:00+08:00");
        /* 2026-12-05 10:00 +08:00 with a delay of 1 day: November is due;
         * at 2026-12-01 06:00 +08:00 it is not yet: October. */
        int64_t dec5 = statement_period_end_ms(&p) + 4 * 86400000LL + 10 * 3600000LL;
        statement_period_latest(dec5, 1, 86400000LL, &p);
        assert_string_equal(p.id, "2026-11");
        statement_period_latest(dec5 - 4 * 86400000LL - 4 * 3600000LL, 1, 86400000LL, &p);
        assert_string_equal(p.id, "2026-10");
        statement_period_latest(dec5, 3, 86400000LL, &p);
        assert_string_equal(p.id, "2026-Q3");
}

/* A minimum-living grant over several months, a relief payment, a fund
 * payment and a measure: the items of one month and of a quarter. */
static void test_items(void **state)
{
        (void)state;
        json_t *ledger = json_array();
        json_t *doc = household(ledger);
        apply(doc, ledger, "civil.assistance.changed",
              "{\"program\":\"minimum_living\",\"action\":\"granted\",\"monthly_amount\":850,"
              "\"effective\":\"2026-08-15\"}");
        apply(doc, ledger, "civil.relief.paid",
              "{\"kind\":\"temporary_relief\",\"amount\":2000,\"paid_on\":\"2026-09-12\","
              "\"payer\":\"县民政局\"}");
        apply(doc, ledger, "medical.claim.settled",
              "{\"claim_id\":\"c1\",\"member_id\":\"M1\",\"kind\":\"inpatient\","
              "\"major_disease\":false,\"total\":15000,\"fund_paid\":12480.5,"
              "\"out_of_pocket\":2519.5,\"settled_on\":\"2026-09-20\"}");
        apply(doc, ledger, "measure.applied",
              "{\"measure\":\"education_aid\",\"amount\":500,\"by\":\"县教育局\","
              "\"applied_on\":\"2026-09-01\"}");
        apply(doc, ledger, "measure.applied",
              "{\"measure\":\"skills_training\",\"by\":\"C1\",\"applied_on\":\"2026-09-02\"}");
        apply(
            doc, ledger, "civil.assistance.changed",
            "{\"program\":\"minimum_living\",\"action\":\"revoked\",\"effective\":\"2026-11-10\"}");

        json_t *s = build(doc, ledger, "2026-09");
        assert_string_equal(str(s, "household_id"), "H1");
        assert_string_equal(str(s, "contact_phone"), "13900000001");
        assert_string_equal(str(json_object_get(s, "period"), "from"), "2026-09-01");
        assert_string_equal(str(json_object_get(s, "period"), "to"), "2026-09-30");
        json_t *items = json_object_get(s, "items");
        /* By date (ties: ledger entries before programme months): education
         * aid and the month's allowance on Sept 1, relief, fund payment. No
         * item for a measure without amount. */
        assert_int_equal(json_array_size(items), 4);
        const char *kinds[] = {"education_aid", "minimum_living", "temporary_relief",
                               "medical_insurance"};
        const char *labels[] = {"教育资助", "最低生活保障金", "临时救助", "医保基金支付"};
        const double amounts[] = {500, 850, 2000, 12480.5};
        const char *dates[] = {"2026-09-01", "2026-09-01", "2026-09-12", "2026-09-20"};
        for (size_t i = 0; i < 4; i++) {
                json_t *it = json_array_get(items, i);
                assert_string_equal(str(it, "kind"), kinds[i]);
                assert_string_equal(str(it, "label"), labels[i]);
                assert_true(num(it, "amount") == amounts[i]);
                assert_string_equal(str(it, "date"), dates[i]);
        }
        assert_string_equal(str(json_array_get(items, 0), "payer"), "县教育局");
        assert_string_equal(str(json_array_get(items, 2), "payer"), "县民政局");
        assert_null(json_object_get(json_array_get(items, 1), "payer"));
        assert_true(num(s, "period_total") == 15830.5);
        /* August (from the 15th) and September. */
        assert_true(num(s, "year_total") == 15830.5 + 850);
        json_decref(s);

        /* The first month counts from the grant's effective date. */
        s = build(doc, ledger, "2026-08");
        items = json_object_get(s, "items");
        assert_int_equal(json_array_size(items), 1);
        assert_string_equal(str(json_array_get(items, 0), "date"), "2026-08-15");
        json_decref(s);

        /* Q4: October counts; November not (revoked on the 10th: not in
         * force at the month's end); December not. */
        s = build(doc, ledger, "2026-Q4");
        items = json_object_get(s, "items");
        assert_int_equal(json_array_size(items), 1);
        assert_string_equal(str(json_array_get(items, 0), "date"), "2026-10-01");
        assert_true(num(s, "period_total") == 850);
        assert_true(num(s, "year_total") == 850 * 3 + 2000 + 12480.5 + 500);
        json_decref(s);

        /* Nothing in 2025; an empty statement is still a statement. */
        s = build(doc, ledger, "2025-12");
        assert_int_equal(json_array_size(json_object_get(s, "items")), 0);
        assert_true(num(s, "period_total") == 0 && num(s, "year_total") == 0);
        json_decref(s);
        json_decref(doc);
        json_decref(ledger);
}

/* A new grant with another amount supersedes the old one from its month;
 * an exit ends the months; the order the events arrived in does not
 * matter (a late grant dated earlier). */
static void test_amount_change_and_order(void **state)
{
        (void)state;
        json_t *ledger = json_array();
        json_t *doc = household(ledger);
        apply(doc, ledger, "civil.assistance.changed",
              "{\"program\":\"marginal\",\"action\":\"granted\",\"monthly_amount\":400,"
              "\"effective\":\"2026-05-20\"}");
        apply(doc, ledger, "civil.assistance.changed",
              "{\"program\":\"marginal\",\"action\":\"exited\",\"effective\":\"2026-07-01\"}");
        /* Arrives last, dated first. */
        apply(doc, ledger, "civil.assistance.changed",
              "{\"program\":\"marginal\",\"action\":\"granted\",\"monthly_amount\":300,"
              "\"effective\":\"2026-03-01\"}");
        json_t *s = build(doc, ledger, "2026-Q2");
        json_t *items = json_object_get(s, "items");
        assert_int_equal(json_array_size(items), 3);
        assert_true(num(json_array_get(items, 0), "amount") == 300); /* April */
        assert_true(num(json_array_get(items, 1), "amount") == 400); /* May, from the 20th */
        assert_string_equal(str(json_array_get(items, 1), "date"), "2026-05-20");
        assert_true(num(json_array_get(items, 2), "amount") == 400); /* June */
        assert_string_equal(str(json_array_get(items, 0), "label"), "低保边缘救助");
        /* Jan..June: March, April at 300; May, June at 400. */
        assert_true(num(s, "year_total") == 300 * 2 + 400 * 2);
        json_decref(s);
        s = build(doc, ledger, "2026-07");
        assert_int_equal(json_array_size(json_object_get(s, "items")), 0);
        json_decref(s);
        json_decref(doc);
        json_decref(ledger);
}

/* The ledger list keeps only the latest entries: the document's yearly
 * total stands in for what it lost, and its programme state for a grant
 * the list no longer holds. */
static void test_trimmed_ledger(void **state)
{
        (void)state;
        json_t *ledger = json_array();
        json_t *doc = household(ledger);
        apply(doc, ledger, "civil.assistance.changed",
              "{\"program\":\"extreme_poverty\",\"action\":\"granted\",\"monthly_amount\":1000,"
              "\"effective\":\"2026-01-01\"}");
        for (int i = 0; i < 3; i++)
                apply(doc, ledger, "civil.relief.paid",
                      "{\"kind\":\"condolence\",\"amount\":100,\"paid_on\":\"2026-02-0%d\"}",
                      i + 1);
        /* Drop the grant and the first relief payment from the list. */
        json_array_remove(ledger, 0);
        json_array_remove(ledger, 0);
        json_t *s = build(doc, ledger, "2026-02");
        json_t *items = json_object_get(s, "items");
        assert_int_equal(json_array_size(items), 3); /* the month from the document, 2 reliefs */
        assert_string_equal(str(json_array_get(items, 0), "kind"), "extreme_poverty");
        assert_string_equal(str(json_array_get(items, 1), "label"), "慰问金");
        /* Jan and Feb allowance (2000), three reliefs (300): the lost one
         * from the document's yearly sum of payments. */
        assert_true(num(s, "year_total") == 2000 + 300);
        assert_true(num(s, "period_total") == 1000 + 200);
        json_decref(s);
        json_decref(doc);
        json_decref(ledger);
}

/* The schedule: a household with a phone gets the latest due period first,
 * then one per period; the id is stable; without a phone nothing. */
static void test_schedule_and_timer(void **state)
{
        (void)state;
        LifecyclePolicy pol = {.statement_months = 1, .statement_delay_ms = 3600000};
        json_t *ledger = json_array();
        json_t *doc = household(ledger);
        apply(doc, ledger, "civil.relief.paid",
              "{\"kind\":\"subsidy\",\"amount\":66.6,\"paid_on\":\"2026-11-03\"}");
        StatementPeriod nov;
        assert_int_equal(statement_period_parse("2026-11", &nov), 0);
        int64_t now = statement_period_end_ms(&nov) + 4 * 86400000LL; /* Dec 5 */
        statement_schedule(doc, now, &pol);
        assert_true(statement_due(doc, now));
        json_t *out = json_array();
        assert_int_equal(statement_timer(doc, ledger, "H1", now, &pol, out), 1);
        assert_int_equal(statement_timer(doc, ledger, "H1", now, &pol, out), 0); /* once */
        json_t *o = json_array_get(out, 0);
        char id[120];
        statement_event_id("H1", &nov, id, sizeof(id));
        assert_string_equal(str(o, "id"), id);
        assert_non_null(strstr(id, ":2026-11"));
        assert_int_equal(strncmp(id, "s-", 2), 0);
        assert_string_equal(str(o, "type"), "benefits.statement");
        assert_string_equal(str(o, "time"), "2026-12-01T00:00:00+08:00");
        assert_true(num(json_object_get(o, "data"), "period_total") == 66.6);
        /* Built again later (a restart): the same bytes. */
        json_t *again = statement_build(doc, ledger, "H1", &nov);
        assert_true(json_equal(again, json_object_get(o, "data")));
        json_decref(again);
        /* Next: December, due an hour after it ends. */
        StatementPeriod decp;
        assert_int_equal(statement_period_parse("2026-12", &decp), 0);
        json_t *st = json_object_get(doc, "statement");
        assert_string_equal(str(st, "period"), "2026-12");
        assert_string_equal(str(st, "last"), "2026-11");
        assert_int_equal(json_integer_value(json_object_get(st, "due_ms")),
                         statement_period_end_ms(&decp) + 3600000);
        assert_int_equal(lifecycle_next_due(doc), statement_period_end_ms(&decp) + 3600000);
        /* A registration without a phone: nothing due; with it again, no
         * period twice. */
        apply(doc, ledger, "household.registered", REGISTER(""));
        statement_schedule(doc, now, &pol);
        assert_false(statement_due(doc, INT64_MAX / 2));
        apply(doc, ledger, "household.registered", REGISTER(",\"contact_phone\":\"13900000002\""));
        statement_schedule(doc, now, &pol);
        assert_string_equal(str(json_object_get(doc, "statement"), "period"), "2026-12");
        json_decref(out);
        json_decref(doc);
        json_decref(ledger);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_periods),
            cmocka_unit_test(test_items),
            cmocka_unit_test(test_amount_change_and_order),
            cmocka_unit_test(test_trimmed_ledger),
            cmocka_unit_test(test_schedule_and_timer),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
