/* Unit tests of the household document (household.h): what each input type
 * writes, the 12-month window and ageing, events kept in pending[] before
 * registration, the bounds (pending, open needs, measures), the gradual exit
 * period, the ledger entries and saturated sums. Events are built as real
 * CloudEvents and decoded with the repository's schemas ($HEARTH_SCHEMAS,
 * else "schemas": tests/run.sh runs from the repository root). */
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
#include "macro.h"
#include "money.h"

static SchemaSet *schemas;
static EventDecoder *dec;

static int setup(void **state)
{
        (void)state;
        const char *dir = getenv("HEARTH_SCHEMAS") ?: "schemas";
        char err[512];

        if (schema_set_load_dir(dir, &schemas, err, sizeof(err)) < 0) {
                print_error("cannot load schemas from %s: %s\n", dir, err);
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
        return 0;
}

/* Builds a CloudEvent of type for household H1 around data (printf format),
 * dated `date` (YYYY-MM-DD, the envelope's time), with a fresh id. */
_printf_(4, 5) static void make(Event *ev, const char *type, const char *date, const char *fmt, ...)
{
        static int serial;
        char data[2048], text[4096], err[512];
        va_list ap;
        json_error_t je;

        va_start(ap, fmt);
        vsnprintf(data, sizeof(data), fmt, ap);
        va_end(ap);
        snprintf(text, sizeof(text),
                 "{\"specversion\":\"1.0\",\"id\":\"e-%d\",\"source\":\"test\",\"type\":\"%s\","
                 "\"time\":\"%sT10:00:00+08:00\",\"subject\":\"H1\",\"data\":%s}",
                 ++serial, type, date, data);
        json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
        if (!root)
                fail_msg("not JSON: %s: %s", je.text, text);
        if (event_from_json(dec, root, ev, err, sizeof(err)) < 0)
                fail_msg("%s: %s", err, text);
}

/* Builds the event and applies it to doc; returns household_apply's result. */
_printf_(5, 6) static int apply(json_t *doc, HouseholdEffects *fx, const char *type,
                                const char *date, const char *fmt, ...)
{
        char data[2048];
        va_list ap;
        Event ev;

        va_start(ap, fmt);
        vsnprintf(data, sizeof(data), fmt, ap);
        va_end(ap);
        make(&ev, type, date, "%s", data);
        int r = household_apply(doc, &ev, dec, fx);
        event_done(&ev);
        return r;
}

#define REGISTER_DATA                                                                              \
        "{\"town\":\"T\",\"village\":\"V\",\"cadre\":{\"id\":\"C1\"},\"members\":["                \
        "{\"id\":\"M1\",\"labor\":\"full\",\"disability_grade\":0,\"serious_illness\":false,"      \
        "\"incapacitated\":false,\"student\":false},"                                              \
        "{\"id\":\"M2\",\"labor\":\"none\",\"disability_grade\":2,\"serious_illness\":true,"       \
        "\"incapacitated\":true,\"student\":false}],"                                              \
        "\"status\":\"marginal\",\"income_last_year\":{\"year\":2025,\"disposable\":30000.5}}"

static json_t *registered(HouseholdEffects *fx)
{
        json_t *doc = household_new();
        assert_int_equal(apply(doc, fx, "household.registered", "2026-01-05", REGISTER_DATA), 0);
        return doc;
}

/* doc at a dotted path ("months.2026-03.medical"), or NULL. */
static json_t *at(const json_t *doc, const char *path)
{
        char part[64];
        const char *p = path;
        const json_t *v = doc;

        while (v && *p) {
                size_t l = strcspn(p, ".");
                snprintf(part, sizeof(part), "%.*s", (int)l, p);
                v = json_object_get(v, part);
                p += l + (p[l] == '.');
        }
        return (json_t *)v;
}

static int64_t int_at(const json_t *doc, const char *path)
{
        const json_t *v = at(doc, path);
        if (!json_is_integer(v))
                fail_msg("%s is not an integer", path);
        return json_integer_value(v);
}

static const char *str_at(const json_t *doc, const char *path)
{
        const char *s = json_string_value(at(doc, path));
        if (!s)
                fail_msg("%s is not a string", path);
        return s;
}

static int32_t day(const char *s)
{
        int32_t d;
        assert_int_equal(date_parse(s, &d), 0);
        return d;
}

/* The ledger entry i is {date, kind, amount}. */
static void expect_ledger(const HouseholdEffects *fx, size_t i, const char *date, const char *kind,
                          int64_t fen)
{
        const json_t *e = json_array_get(fx->ledger, i);
        if (!e)
                fail_msg("no ledger entry %zu", i);
        assert_string_equal(str_at(e, "date"), date);
        assert_string_equal(str_at(e, "kind"), kind);
        assert_int_equal(int_at(e, "amount"), fen);
        assert_non_null(json_string_value(json_object_get(e, "event")));
}

static void test_register(void **state)
{
        (void)state;
        HouseholdEffects fx = {json_array(), json_array(), 0};
        json_auto_t *doc = household_new();

        assert_false(household_registered(doc));
        assert_int_equal(household_size(doc), 0);
        assert_int_equal(int_at(doc, "events"), 0);
        assert_int_equal(apply(doc, &fx, "household.registered", "2026-01-05", REGISTER_DATA), 0);
        assert_true(household_registered(doc));
        assert_true(json_is_false(at(doc, "removed")));
        assert_int_equal(household_size(doc), 2);
        assert_string_equal(str_at(doc, "profile.town"), "T");
        assert_string_equal(str_at(doc, "profile.cadre.id"), "C1");
        assert_string_equal(str_at(doc, "profile.status"), "marginal");
        assert_int_equal(int_at(doc, "profile.income_last_year.disposable"), 3000050);
        assert_int_equal(int_at(doc, "profile.income_last_year.year"), 2025);
        assert_string_equal(str_at(doc, "latest"), "2026-01-05");
        assert_int_equal(int_at(doc, "events"), 1);
        assert_null(at(doc, "pending"));
        assert_int_equal(json_array_size(fx.ledger), 0);
        assert_int_equal(json_array_size(fx.timeline), 1);
        const json_t *t = json_array_get(fx.timeline, 0);
        assert_string_equal(str_at(t, "type"), "household.registered");
        assert_string_equal(str_at(t, "date"), "2026-01-05");

        /* A new registration replaces the profile; removal keeps it. */
        assert_int_equal(
            apply(
                doc, &fx, "household.registered", "2026-02-01",
                "{\"town\":\"T2\",\"village\":\"V\",\"cadre\":{\"id\":\"C2\"},\"members\":[{\"id\":"
                "\"M1\",\"labor\":\"full\",\"disability_grade\":0,\"serious_illness\":false,"
                "\"incapacitated\":false,\"student\":false}],\"status\":\"none\","
                "\"income_last_year\":{\"year\":2025,\"disposable\":12}}"),
            0);
        assert_int_equal(household_size(doc), 1);
        assert_string_equal(str_at(doc, "profile.town"), "T2");
        assert_int_equal(int_at(doc, "profile.income_last_year.disposable"), 1200);
        assert_int_equal(apply(doc, &fx, "household.removed", "2026-02-02", "{}"), 0);
        assert_true(json_is_true(at(doc, "removed")));
        assert_true(household_registered(doc));
        assert_int_equal(int_at(doc, "events"), 3);
        json_decref(fx.ledger);
        json_decref(fx.timeline);
}

static void test_money_inputs(void **state)
{
        (void)state;
        HouseholdEffects fx = {json_array(), json_array(), 0};
        json_auto_t *doc = registered(NULL);

        assert_int_equal(apply(doc, &fx, "civil.relief.paid", "2026-03-05",
                               "{\"kind\":\"temporary_relief\",\"amount\":3000.05,"
                               "\"paid_on\":\"2026-03-05\"}"),
                         0);
        assert_int_equal(int_at(doc, "months.2026-03.relief"), 300005);
        expect_ledger(&fx, 0, "2026-03-05", "temporary_relief", 300005);

        assert_int_equal(apply(doc, &fx, "civil.income.verified", "2026-02-20",
                               "{\"year\":2025,\"disposable\":31250.6}"),
                         0);
        assert_int_equal(int_at(doc, "incomes.2025"), 3125060);

        assert_int_equal(apply(doc, &fx, "medical.claim.settled", "2026-03-02",
                               "{\"claim_id\":\"Y1\",\"member_id\":\"M2\",\"kind\":\"inpatient\","
                               "\"major_disease\":true,\"total\":86420.5,\"fund_paid\":52100.3,"
                               "\"out_of_pocket\":34320.2,\"settled_on\":\"2026-03-02\"}"),
                         0);
        assert_int_equal(int_at(doc, "months.2026-03.medical"), 3432020);
        assert_int_equal(int_at(doc, "months.2026-03.fund_paid"), 5210030);
        expect_ledger(&fx, 1, "2026-03-02", "medical_insurance", 5210030);
        const json_t *inc = json_array_get(at(doc, "incidents"), 0);
        assert_string_equal(str_at(inc, "kind"), "claim");
        assert_string_equal(str_at(inc, "claim_kind"), "inpatient");
        assert_null(at(inc, "claim_id")); /* kept small: the rules do not read it */
        assert_true(json_is_true(at(inc, "major_disease")));
        assert_int_equal(int_at(inc, "out_of_pocket"), 3432020);
        assert_int_equal(int_at(inc, "total"), 8642050);

        assert_int_equal(apply(doc, &fx, "disaster.loss.reported", "2026-04-01",
                               "{\"disaster\":\"typhoon\",\"occurred_on\":\"2026-03-31\","
                               "\"house_damage\":\"moderate\",\"property_loss\":42000,"
                               "\"income_loss\":18500.5,\"injured\":1,\"deaths\":0}"),
                         0);
        assert_int_equal(int_at(doc, "months.2026-03.disaster_loss"), 1850050);
        assert_int_equal(int_at(doc, "months.2026-03.property_loss"), 4200000);
        inc = json_array_get(at(doc, "incidents"), 1);
        assert_string_equal(str_at(inc, "kind"), "disaster");
        assert_string_equal(str_at(inc, "date"), "2026-03-31");
        assert_string_equal(str_at(inc, "house_damage"), "moderate");
        assert_int_equal(int_at(inc, "injured"), 1);

        assert_int_equal(apply(doc, &fx, "accident.reported", "2026-04-12",
                               "{\"member_id\":\"M1\",\"kind\":\"work\",\"occurred_on\":"
                               "\"2026-04-11\",\"medical_cost\":12680.4,\"labor_lost\":true,"
                               "\"income_loss\":36000}"),
                         0);
        assert_int_equal(int_at(doc, "months.2026-04.accident_loss"), 3600000);
        assert_int_equal(int_at(doc, "months.2026-04.accident_medical"), 1268040);
        inc = json_array_get(at(doc, "incidents"), 2);
        assert_string_equal(str_at(inc, "accident_kind"), "work");
        assert_true(json_is_true(at(inc, "labor_lost")));

        /* Each expense category to its own bucket; amounts add up. */
        static const char *const cats[] = {"education", "disability", "medical", "other"};
        for (size_t i = 0; i < ELEMENTSOF(cats); i++)
                assert_int_equal(apply(doc, &fx, "expense.reported", "2026-04-20",
                                       "{\"category\":\"%s\",\"amount\":0.01,"
                                       "\"incurred_on\":\"2026-04-20\"}",
                                       cats[i]),
                                 0);
        assert_int_equal(int_at(doc, "months.2026-04.education"), 1);
        assert_int_equal(int_at(doc, "months.2026-04.disability"), 1);
        assert_int_equal(int_at(doc, "months.2026-04.medical"), 1);
        assert_int_equal(int_at(doc, "months.2026-04.other"), 1);
        assert_int_equal(household_sum_12m(doc, "medical", day("2026-04-30")), 3432021);
        /* Only benefits go to the ledger: relief and the fund's share. */
        assert_int_equal(json_array_size(fx.ledger), 2);
        assert_int_equal(json_array_size(fx.timeline), 9);
        assert_string_equal(str_at(doc, "latest"), "2026-04-20");
        json_decref(fx.ledger);
        json_decref(fx.timeline);
}

static void test_assistance(void **state)
{
        (void)state;
        HouseholdEffects fx = {json_array(), json_array(), 0};
        json_auto_t *doc = registered(NULL);
        static const char *const fmt =
            "{\"program\":\"minimum_living\",\"action\":\"%s\",\"effective\":\"%s\"%s}";

        assert_int_equal(apply(doc, &fx, "civil.assistance.changed", "2024-01-01", fmt, "granted",
                               "2024-01-01", ",\"monthly_amount\":1096.5"),
                         0);
        assert_string_equal(str_at(doc, "programs.minimum_living.state"), "granted");
        assert_string_equal(str_at(doc, "programs.minimum_living.effective"), "2024-01-01");
        assert_int_equal(int_at(doc, "programs.minimum_living.monthly"), 109650);
        assert_string_equal(str_at(doc, "profile.status"), "minimum_living");
        expect_ledger(&fx, 0, "2024-01-01", "minimum_living", 109650);

        /* The one-year gradual exit: Feb 29 ends on Feb 28. */
        static const struct {
                const char *effective, *until;
        } exits[] = {{"2024-02-29", "2025-02-28"},
                     {"2026-03-01", "2027-03-01"},
                     {"2025-12-31", "2026-12-31"},
                     {"2027-02-28", "2028-02-28"},
                     {"2028-02-29", "2029-02-28"}};
        for (size_t i = 0; i < ELEMENTSOF(exits); i++) {
                assert_int_equal(apply(doc, &fx, "civil.assistance.changed", exits[i].effective,
                                       fmt, "exited", exits[i].effective, ""),
                                 0);
                assert_string_equal(str_at(doc, "programs.minimum_living.state"), "exited");
                assert_string_equal(str_at(doc, "programs.minimum_living.exit_until"),
                                    exits[i].until);
        }
        /* Revoked: no exit period; granted again without amount: no ledger. */
        assert_int_equal(apply(doc, &fx, "civil.assistance.changed", "2028-03-01", fmt, "revoked",
                               "2028-03-01", ""),
                         0);
        assert_null(at(doc, "programs.minimum_living.exit_until"));
        assert_string_equal(str_at(doc, "programs.minimum_living.state"), "revoked");
        assert_int_equal(apply(doc, &fx, "civil.assistance.changed", "2028-04-01",
                               "{\"program\":\"marginal\",\"action\":\"granted\","
                               "\"effective\":\"2028-04-01\"}"),
                         0);
        assert_string_equal(str_at(doc, "profile.status"), "marginal");
        assert_string_equal(str_at(doc, "programs.marginal.state"), "granted");
        /* The grant with an amount, then each exit and the revocation as an
         * entry of amount 0 (the end of the months a statement counts). */
        assert_int_equal(json_array_size(fx.ledger), 1 + ELEMENTSOF(exits) + 1);
        size_t paid = 0, i;
        json_t *e;
        json_array_foreach (fx.ledger, i, e) {
                paid += json_integer_value(json_object_get(e, "amount")) > 0;
                assert_string_equal(json_string_value(json_object_get(e, "type")),
                                    "civil.assistance.changed");
        }
        assert_int_equal(paid, 1);
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(fx.ledger, 1), "action")), "exited");
        json_decref(fx.ledger);
        json_decref(fx.timeline);
}

static void test_needs(void **state)
{
        (void)state;
        json_auto_t *doc = registered(NULL);
        static const char *const need = "{\"need_id\":\"N%d\",\"channel\":\"hotline\","
                                        "\"category\":\"water\",\"urgent\":true}";

        assert_int_equal(apply(doc, NULL, "need.reported", "2026-03-15", need, 0), 0);
        assert_string_equal(str_at(doc, "needs.N0.category"), "water");
        assert_string_equal(str_at(doc, "needs.N0.channel"), "hotline");
        assert_true(json_is_true(at(doc, "needs.N0.urgent")));
        assert_non_null(strstr(str_at(doc, "needs.N0.reported_on"), "2026-03-15"));
        for (int i = 1; i < HOUSEHOLD_MAX_NEEDS; i++)
                assert_int_equal(apply(doc, NULL, "need.reported", "2026-03-15", need, i), 0);
        assert_int_equal(json_object_size(at(doc, "needs")), HOUSEHOLD_MAX_NEEDS);
        int64_t events = int_at(doc, "events");

        /* Full: a new need is refused and counts nothing; a known one is
         * replaced; resolving one makes room. */
        assert_int_equal(apply(doc, NULL, "need.reported", "2026-03-16", need, 1000), -ENOSPC);
        assert_null(at(doc, "needs.N1000"));
        assert_int_equal(int_at(doc, "events"), events);
        assert_int_equal(apply(doc, NULL, "need.reported", "2026-03-16", need, 7), 0);
        assert_int_equal(apply(doc, NULL, "need.resolved", "2026-03-17", "{\"need_id\":\"N7\"}"),
                         0);
        assert_null(at(doc, "needs.N7"));
        assert_int_equal(apply(doc, NULL, "need.reported", "2026-03-18", need, 1000), 0);
        assert_int_equal(json_object_size(at(doc, "needs")), HOUSEHOLD_MAX_NEEDS);
}

static void test_visits(void **state)
{
        (void)state;
        json_auto_t *doc = registered(NULL);
        static const char *const visit =
            "{\"cadre_id\":\"%s\",\"visited_on\":\"%s\",\"checks\":{\"food_clothing\":\"ok\","
            "\"education\":\"ok\",\"medical\":\"%s\",\"housing\":\"ok\",\"drinking_water\":\"ok\"}"
            "}";

        assert_int_equal(
            apply(doc, NULL, "visit.recorded", "2026-03-12", visit, "C1", "2026-03-12", "risk"), 0);
        assert_string_equal(str_at(doc, "last_visit.date"), "2026-03-12");
        assert_string_equal(str_at(doc, "last_visit.cadre_id"), "C1");
        assert_string_equal(str_at(doc, "last_visit.checks.medical"), "risk");
        /* A late older visit neither replaces the newer one nor moves latest. */
        assert_int_equal(
            apply(doc, NULL, "visit.recorded", "2026-02-01", visit, "C9", "2026-02-01", "ok"), 0);
        assert_string_equal(str_at(doc, "last_visit.date"), "2026-03-12");
        assert_string_equal(str_at(doc, "last_visit.cadre_id"), "C1");
        assert_string_equal(str_at(doc, "latest"), "2026-03-12");
        assert_int_equal(int_at(doc, "events"), 3);
        assert_int_equal(
            apply(doc, NULL, "visit.recorded", "2026-04-10", visit, "C2", "2026-04-10", "ok"), 0);
        assert_string_equal(str_at(doc, "last_visit.date"), "2026-04-10");
        assert_string_equal(str_at(doc, "last_visit.checks.medical"), "ok");
}

static void test_measures_and_alerts(void **state)
{
        (void)state;
        HouseholdEffects fx = {json_array(), json_array(), 0};
        json_auto_t *doc = registered(NULL);

        assert_int_equal(apply(doc, &fx, "measure.applied", "2026-03-20",
                               "{\"alert_id\":\"a-1\",\"measure\":\"medical_assistance\","
                               "\"amount\":15000.75,\"by\":\"C1\",\"applied_on\":\"2026-03-20\"}"),
                         0);
        const json_t *m = json_array_get(at(doc, "measures"), 0);
        assert_string_equal(str_at(m, "measure"), "medical_assistance");
        assert_string_equal(str_at(m, "alert_id"), "a-1");
        assert_int_equal(int_at(m, "amount"), 1500075);
        expect_ledger(&fx, 0, "2026-03-20", "medical_assistance", 1500075);
        for (int i = 0; i < HOUSEHOLD_MAX_MEASURES + 5; i++)
                assert_int_equal(apply(doc, &fx, "measure.applied", "2026-03-21",
                                       "{\"measure\":\"skills_training\",\"by\":\"C%d\","
                                       "\"applied_on\":\"2026-03-21\"}",
                                       i),
                                 0);
        /* Bounded, oldest dropped; no amount, no ledger entry. */
        assert_int_equal(json_array_size(at(doc, "measures")), HOUSEHOLD_MAX_MEASURES);
        assert_string_equal(str_at(json_array_get(at(doc, "measures"), 0), "by"), "C5");
        assert_null(at(json_array_get(at(doc, "measures"), 0), "amount"));
        assert_int_equal(json_array_size(fx.ledger), 1);

        /* The alert lifecycle's inputs leave the document as it was. */
        json_auto_t *before = json_deep_copy(doc);
        assert_int_equal(apply(doc, &fx, "alert.acknowledged", "2026-03-21",
                               "{\"alert_id\":\"a-1\",\"by\":\"C1\"}"),
                         0);
        assert_int_equal(
            apply(doc, &fx, "alert.resolved", "2026-03-21", "{\"alert_id\":\"a-1\",\"by\":\"C1\"}"),
            0);
        assert_int_equal(apply(doc, &fx, "satisfaction.rated", "2026-03-21",
                               "{\"alert_id\":\"a-1\",\"score\":5}"),
                         0);
        json_object_set_new(before, "events", json_integer(int_at(before, "events") + 3));
        assert_true(json_equal(doc, before));
        assert_int_equal(json_array_size(fx.timeline), 1 + HOUSEHOLD_MAX_MEASURES + 5 + 3);
        json_decref(fx.ledger);
        json_decref(fx.timeline);
}

/* Several buckets at once give what each gives alone: values in the
 * window only, integers only, names that share a first letter kept apart,
 * an absent bucket 0. */
static void test_sums_at_once(void **state)
{
        (void)state;
        json_auto_t *doc = json_loads("{\"months\":{"
                                      "\"2025-02\":{\"medical\":1,\"relief\":2},"
                                      "\"2025-03\":{\"medical\":10,\"medicine\":5,"
                                      "\"relief\":\"20\",\"other\":7},"
                                      "\"2026-02\":{\"medical\":100,\"relief\":200,"
                                      "\"education\":3},"
                                      "\"bad\":{\"medical\":1000}}}",
                                      0, NULL);
        static const char *const names[] = {"medical", "relief", "other", "education",
                                            "disaster_loss"};
        static const char *const dates[] = {"2025-02-01", "2025-03-31", "2026-02-28", "2026-03-01",
                                            "2027-01-01"};
        int64_t sums[ELEMENTSOF(names)];
        assert_non_null(doc);
        for (size_t d = 0; d < ELEMENTSOF(dates); d++) {
                household_sums_12m(doc, day(dates[d]), names, ELEMENTSOF(names), sums);
                for (size_t i = 0; i < ELEMENTSOF(names); i++)
                        assert_int_equal(sums[i], household_sum_12m(doc, names[i], day(dates[d])));
        }
        household_sums_12m(doc, day("2026-02-28"), names, ELEMENTSOF(names), sums);
        assert_int_equal(sums[0], 110); /* 2025-03 and 2026-02; not 2025-02 */
        assert_int_equal(sums[1], 200); /* the string "20" is not a figure */
        assert_int_equal(sums[2], 7);
        assert_int_equal(sums[3], 3);
        assert_int_equal(sums[4], 0);
}

/* The window is the month of the date and the 11 before it: on 2026-03-15
 * 2025-04 (the 12th month) counts, 2025-03 (13 months back) does not but is
 * kept for a window ending a month earlier, and older months are dropped. */
static void test_window(void **state)
{
        (void)state;
        json_auto_t *doc = registered(NULL);
        static const struct {
                const char *date;
                int yuan;
        } expenses[] = {{"2025-02-28", 100}, {"2025-03-31", 10}, {"2025-04-01", 1}};
        static const char *const exp = "{\"category\":\"medical\",\"amount\":%d,"
                                       "\"incurred_on\":\"%s\"}";

        for (size_t i = 0; i < ELEMENTSOF(expenses); i++)
                assert_int_equal(apply(doc, NULL, "expense.reported", expenses[i].date, exp,
                                       expenses[i].yuan, expenses[i].date),
                                 0);
        assert_int_equal(household_sum_12m(doc, "medical", day("2025-04-01")), 11100);
        assert_int_equal(household_sum_12m(doc, "medical", day("2025-03-15")), 11000);
        assert_int_equal(household_sum_12m(doc, "medical", day("2026-01-31")), 11100);
        assert_int_equal(household_sum_12m(doc, "medical", day("2026-02-28")), 1100);
        assert_int_equal(household_sum_12m(doc, "medical", day("2026-03-01")), 100);
        assert_int_equal(household_sum_12m(doc, "medical", day("2026-04-01")), 0);
        assert_int_equal(household_sum_12m(doc, "other", day("2025-04-01")), 0);
        assert_non_null(at(doc, "months.2025-02"));

        assert_int_equal(
            apply(doc, NULL, "expense.reported", "2026-03-15", exp, 1000, "2026-03-15"), 0);
        assert_int_equal(household_sum_12m(doc, "medical", day("2026-03-15")), 100100);
        assert_null(at(doc, "months.2025-02"));
        assert_int_equal(int_at(doc, "months.2025-03.medical"), 1000);
        assert_int_equal(int_at(doc, "months.2025-04.medical"), 100);
        /* A late expense from before the document's window is dropped. */
        assert_int_equal(apply(doc, NULL, "expense.reported", "2026-03-16", exp, 7, "2025-01-10"),
                         0);
        assert_null(at(doc, "months.2025-01"));
        assert_int_equal(json_object_size(at(doc, "months")), 3);

        /* Incidents: a claim within 366 days of the latest date (2026-03-15)
         * stays, an older one goes. */
        static const char *const claim =
            "{\"claim_id\":\"%s\",\"member_id\":\"M1\",\"kind\":\"outpatient\","
            "\"major_disease\":false,\"total\":1,\"fund_paid\":0,\"out_of_pocket\":1,"
            "\"settled_on\":\"%s\"}";
        assert_int_equal(
            apply(doc, NULL, "medical.claim.settled", "2026-03-16", claim, "old", "2025-03-10"), 0);
        assert_int_equal(
            apply(doc, NULL, "medical.claim.settled", "2026-03-16", claim, "new", "2025-03-20"), 0);
        assert_int_equal(json_array_size(at(doc, "incidents")), 1);
        assert_string_equal(str_at(json_array_get(at(doc, "incidents"), 0), "date"), "2025-03-20");
}

static void test_pending(void **state)
{
        (void)state;
        HouseholdEffects fx = {json_array(), json_array(), 0};
        json_auto_t *doc = household_new();

        assert_int_equal(apply(doc, &fx, "civil.relief.paid", "2026-01-02",
                               "{\"kind\":\"condolence\",\"amount\":500,\"paid_on\":"
                               "\"2026-01-02\"}"),
                         0);
        assert_int_equal(apply(doc, &fx, "medical.claim.settled", "2026-01-03",
                               "{\"claim_id\":\"Y1\",\"member_id\":\"M1\",\"kind\":\"chronic\","
                               "\"major_disease\":false,\"total\":300,\"fund_paid\":200.5,"
                               "\"out_of_pocket\":99.5,\"settled_on\":\"2026-01-03\"}"),
                         0);
        assert_int_equal(apply(doc, &fx, "need.reported", "2026-01-04",
                               "{\"need_id\":\"N1\",\"channel\":\"self\",\"category\":\"food_"
                               "clothing\",\"urgent\":false}"),
                         0);
        /* Kept, not applied: no effect yet. */
        assert_false(household_registered(doc));
        assert_int_equal(json_array_size(at(doc, "pending")), 3);
        assert_null(at(doc, "months"));
        assert_null(at(doc, "needs"));
        assert_int_equal(int_at(doc, "events"), 0);
        assert_int_equal(json_array_size(fx.ledger), 0);
        assert_int_equal(json_array_size(fx.timeline), 0);

        assert_int_equal(apply(doc, &fx, "household.registered", "2026-01-05", REGISTER_DATA), 0);
        assert_null(at(doc, "pending"));
        assert_int_equal(int_at(doc, "events"), 4);
        assert_int_equal(int_at(doc, "months.2026-01.relief"), 50000);
        assert_int_equal(int_at(doc, "months.2026-01.medical"), 9950);
        assert_int_equal(int_at(doc, "months.2026-01.fund_paid"), 20050);
        assert_string_equal(str_at(doc, "needs.N1.category"), "food_clothing");
        assert_int_equal(json_array_size(fx.ledger), 2);
        expect_ledger(&fx, 0, "2026-01-02", "condolence", 50000);
        expect_ledger(&fx, 1, "2026-01-03", "medical_insurance", 20050);
        static const char *const order[] = {"household.registered", "civil.relief.paid",
                                            "medical.claim.settled", "need.reported"};
        assert_int_equal(json_array_size(fx.timeline), ELEMENTSOF(order));
        for (size_t i = 0; i < ELEMENTSOF(order); i++)
                assert_string_equal(str_at(json_array_get(fx.timeline, i), "type"), order[i]);
        assert_string_equal(str_at(json_array_get(fx.timeline, 1), "date"), "2026-01-02");
        json_decref(fx.ledger);
        json_decref(fx.timeline);
}

static void test_pending_full(void **state)
{
        (void)state;
        json_auto_t *doc = household_new();
        Event ev;

        make(&ev, "expense.reported", "2026-01-02",
             "{\"category\":\"other\",\"amount\":1,\"incurred_on\":\"2026-01-02\"}");
        for (int i = 0; i < HOUSEHOLD_MAX_PENDING; i++)
                assert_int_equal(household_apply(doc, &ev, dec, NULL), 0);
        assert_int_equal(household_apply(doc, &ev, dec, NULL), -ENOSPC);
        assert_int_equal(json_array_size(at(doc, "pending")), HOUSEHOLD_MAX_PENDING);
        event_done(&ev);

        /* Registration applies every kept event, exactly once. */
        assert_int_equal(apply(doc, NULL, "household.registered", "2026-01-05", REGISTER_DATA), 0);
        assert_int_equal(int_at(doc, "months.2026-01.other"), HOUSEHOLD_MAX_PENDING * 100);
        assert_int_equal(int_at(doc, "events"), HOUSEHOLD_MAX_PENDING + 1);
        assert_null(at(doc, "pending"));
}

/* pending[] keeps no free text and no extension attributes, is capped in
 * bytes, and drops events that count in no window any more. */
static void test_pending_bounds(void **state)
{
        (void)state;
        json_auto_t *doc = household_new();
        HouseholdEffects fx = {json_array(), json_array(), 0};
        char text[1500];
        memset(text, 'x', sizeof(text) - 1);
        text[sizeof(text) - 1] = 0;
        assert_int_equal(apply(doc, &fx, "need.reported", "2026-01-04",
                               "{\"need_id\":\"N1\",\"channel\":\"hotline\",\"category\":"
                               "\"medical\",\"urgent\":true,\"text\":\"%s\"}",
                               text),
                         0);
        const json_t *p = json_array_get(at(doc, "pending"), 0);
        assert_null(at(p, "data.text"));
        assert_string_equal(str_at(p, "data.need_id"), "N1");
        assert_string_equal(str_at(p, "type"), "need.reported");
        /* The byte cap: large events hit it long before the count cap. */
        int n = 0, r = 0;
        while (n < HOUSEHOLD_MAX_PENDING * 2 &&
               (r = apply(doc, &fx, "need.reported", "2026-01-05",
                          "{\"need_id\":\"N%d-%.40s\",\"channel\":\"self\",\"category\":"
                          "\"other\",\"urgent\":false}",
                          n, text)) == 0)
                n++;
        assert_int_equal(r, -ENOSPC);
        size_t bytes = json_dumpb(at(doc, "pending"), NULL, 0, JSON_COMPACT);
        assert_true(bytes <= HOUSEHOLD_MAX_PENDING_BYTES);
        /* Events older than HOUSEHOLD_PENDING_MAX_AGE_DAYS go when a new one comes. */
        assert_int_equal(fx.pending_dropped, 0);
        assert_int_equal(apply(doc, &fx, "expense.reported", "2027-06-01",
                               "{\"category\":\"other\",\"amount\":1,\"incurred_on\":"
                               "\"2027-06-01\"}"),
                         0);
        assert_int_equal(fx.pending_dropped, (size_t)n + 1);
        assert_int_equal(json_array_size(at(doc, "pending")), 1);
        json_decref(fx.ledger);
        json_decref(fx.timeline);
}

/* After household.removed nothing about the household is kept (a relief
 * payment does not reach the ledger), and erasure keeps only what dedup
 * and the counts need; a new registration starts afresh. */
static void test_removed_and_erased(void **state)
{
        (void)state;
        HouseholdEffects fx = {json_array(), json_array(), 0};
        json_auto_t *doc = registered(&fx);
        assert_int_equal(apply(doc, &fx, "civil.relief.paid", "2026-02-01",
                               "{\"kind\":\"subsidy\",\"amount\":300,\"paid_on\":\"2026-02-01\"}"),
                         0);
        assert_int_equal(int_at(doc, "benefit_totals.2026"), 30000);
        assert_int_equal(apply(doc, &fx, "household.removed", "2026-02-02", "{}"), 0);
        size_t ledger = json_array_size(fx.ledger);
        assert_int_equal(apply(doc, &fx, "civil.relief.paid", "2026-02-03",
                               "{\"kind\":\"subsidy\",\"amount\":700,\"paid_on\":\"2026-02-03\"}"),
                         0);
        assert_int_equal(json_array_size(fx.ledger), ledger);
        assert_int_equal(int_at(doc, "benefit_totals.2026"), 30000);
        int64_t events = int_at(doc, "events");
        household_erase(doc, 1234);
        assert_true(household_erased(doc));
        assert_int_equal(int_at(doc, "events"), events);
        static const char *const gone[] = {"profile", "months",    "incomes",   "benefit_totals",
                                           "needs",   "incidents", "last_visit"};
        for (size_t i = 0; i < ELEMENTSOF(gone); i++)
                assert_null(at(doc, gone[i]));
        assert_int_equal(apply(doc, &fx, "household.registered", "2026-03-01", REGISTER_DATA), 0);
        assert_false(household_erased(doc));
        assert_false(json_is_true(at(doc, "removed")));
        assert_string_equal(str_at(doc, "profile.town"), "T");
        json_decref(fx.ledger);
        json_decref(fx.timeline);
}

/* Sums saturate at MONEY_SUM_CAP instead of overflowing, in the document
 * and in the 12-month sums; single amounts stay exact to the fen. */
static void test_saturation(void **state)
{
        (void)state;
        HouseholdEffects fx = {json_array(), NULL, 0};
        json_auto_t *doc = registered(NULL);
        const int64_t cap = MONEY_SUM_CAP;
        Event ev;

        make(&ev, "expense.reported", "2026-02-10",
             "{\"category\":\"medical\",\"amount\":100000000000,\"incurred_on\":\"2026-02-10\"}");
        assert_int_equal(household_apply(doc, &ev, dec, &fx), 0);
        /* As if 99,998 more maximal amounts had come: one more is exact, the
         * next reaches the cap. */
        json_object_set_new(json_object_get(json_object_get(doc, "months"), "2026-02"), "medical",
                            json_integer(cap - 2 * MONEY_MAX_FEN));
        assert_int_equal(household_apply(doc, &ev, dec, &fx), 0);
        assert_int_equal(int_at(doc, "months.2026-02.medical"), cap - MONEY_MAX_FEN);
        assert_int_equal(household_apply(doc, &ev, dec, &fx), 0);
        assert_int_equal(int_at(doc, "months.2026-02.medical"), cap);
        assert_int_equal(household_apply(doc, &ev, dec, &fx), 0);
        assert_int_equal(int_at(doc, "months.2026-02.medical"), cap);
        event_done(&ev);
        assert_int_equal(apply(doc, &fx, "expense.reported", "2026-03-10",
                               "{\"category\":\"medical\",\"amount\":99999999999.99,"
                               "\"incurred_on\":\"2026-03-10\"}"),
                         0);
        assert_int_equal(int_at(doc, "months.2026-03.medical"), MONEY_MAX_FEN - 1);
        assert_int_equal(household_sum_12m(doc, "medical", day("2026-03-31")), cap);
        assert_int_equal(household_sum_12m(doc, "medical", day("2026-02-01")), cap);

        assert_int_equal(apply(doc, &fx, "measure.applied", "2026-03-20",
                               "{\"measure\":\"other\",\"amount\":99999999999.99,\"by\":\"C1\","
                               "\"applied_on\":\"2026-03-20\"}"),
                         0);
        expect_ledger(&fx, 0, "2026-03-20", "other", MONEY_MAX_FEN - 1);
        json_decref(fx.ledger);
}

/* The stored form keeps an open alert's reasons once (they are the
 * evaluation's) and a load gives them back; reasons of their own stay. */
static void test_dump_shares_reasons(void **state)
{
        (void)state;
        json_auto_t *doc = json_loads("{\"eval\":{\"code\":\"red\",\"reasons\":[{\"rule\":\"r1\","
                                      "\"message\":\"M\"}]},\"alert\":{\"id\":\"a-1\"}}",
                                      0, NULL);
        assert_non_null(doc);
        json_t *alert = at(doc, "alert");
        json_object_set(alert, "reasons", at(doc, "eval.reasons"));
        char *text = household_dump(doc);
        assert_non_null(text);
        assert_non_null(strstr(text, "\"reasons\":\"eval\""));
        assert_null(strstr(strstr(text, "\"message\"") + 1, "\"message\"")); /* once */
        /* The document itself is unchanged by the dump. */
        assert_ptr_equal(at(doc, "alert.reasons"), at(doc, "eval.reasons"));

        json_auto_t *back = json_loads(text, 0, NULL);
        free(text);
        household_loaded(back);
        assert_true(json_equal(back, doc));
        assert_ptr_equal(at(back, "alert.reasons"), at(back, "eval.reasons"));

        /* An alert whose reasons are not the evaluation's keeps its own. */
        json_object_set_new(alert, "reasons", json_pack("[{s:s}]", "rule", "other"));
        text = household_dump(doc);
        assert_non_null(strstr(text, "\"rule\":\"other\""));
        free(text);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_dump_shares_reasons),
            cmocka_unit_test(test_register),
            cmocka_unit_test(test_money_inputs),
            cmocka_unit_test(test_assistance),
            cmocka_unit_test(test_needs),
            cmocka_unit_test(test_visits),
            cmocka_unit_test(test_measures_and_alerts),
            cmocka_unit_test(test_sums_at_once),
            cmocka_unit_test(test_window),
            cmocka_unit_test(test_pending),
            cmocka_unit_test(test_pending_full),
            cmocka_unit_test(test_pending_bounds),
            cmocka_unit_test(test_removed_and_erased),
            cmocka_unit_test(test_saturation),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
