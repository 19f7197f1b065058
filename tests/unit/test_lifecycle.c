/* Unit tests of the alert lifecycle (lifecycle.h): raise, change and
 * eliminate (REQ-8, REQ-10), the response limit, reminders, escalations and
 * acknowledgements (REQ-9), resolutions and their suppression, reopening on a
 * low satisfaction score, overdue visits, removed households, the earliest
 * timer, deterministic output ids and the CloudEvent rendering.
 *
 * Household documents are built with household_apply() from real CloudEvents
 * decoded with the repository's schemas ($HEARTH_SCHEMAS, else "schemas":
 * tests/run.sh runs from the repository root). The rules' evaluation is built
 * by hand. Every output event is checked against CONTRACT.md and its data
 * validated against schemas/out/<type>.json. */
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

#define SEC 1000LL
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)
/* 2026-03-02T08:00:00+08:00 */
#define T0 1772409600000LL

static SchemaSet *schemas;
static SchemaSet *out_schemas;
static EventDecoder *dec;

static const LifecyclePolicy policy = {
    .respond_within_red_ms = 24 * HOUR,
    .respond_within_yellow_ms = 72 * HOUR,
    .reminder_after_ms = 12 * HOUR,
    .visit_interval_ms = 31 * DAY,
    .removed_retention_ms = 30 * DAY,
};

static const char *const out_types[] = {
    "risk.alert.raised",    "risk.alert.changed", "risk.alert.reminder",
    "risk.alert.escalated", "risk.eliminated",    "visit.overdue",
};

static int setup(void **state)
{
        (void)state;
        const char *dir = getenv("HEARTH_SCHEMAS") ?: "schemas";
        char err[512], out[512];

        if (schema_set_load_dir(dir, &schemas, err, sizeof(err)) < 0) {
                print_error("cannot load schemas from %s: %s\n", dir, err);
                return -1;
        }
        /* The output schemas (schemas/out/<type>.json, schema_compile'd by the
         * loader); every type the contract lists must be there. */
        snprintf(out, sizeof(out), "%s/out", dir);
        if (schema_set_load_dir(out, &out_schemas, err, sizeof(err)) < 0) {
                print_error("cannot load schemas from %s: %s\n", out, err);
                return -1;
        }
        for (size_t i = 0; i < ELEMENTSOF(out_types); i++)
                if (!schema_set_get(out_schemas, out_types[i])) {
                        print_error("no output schema %s in %s\n", out_types[i], out);
                        return -1;
                }
        dec = event_decoder_new(schemas, 1 << 20);
        return dec ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        dec = event_decoder_free(dec);
        out_schemas = schema_set_free(out_schemas);
        schemas = schema_set_free(schemas);
        return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static const char *str(const json_t *o, const char *k)
{
        const char *s = json_string_value(json_object_get(o, k));
        if (!s)
                fail_msg("%s is not a string", k);
        return s;
}

static int64_t num(const json_t *o, const char *k)
{
        const json_t *v = json_object_get(o, k);
        if (!json_is_integer(v))
                fail_msg("%s is not an integer", k);
        return json_integer_value(v);
}

static void expect_time(const char *s, int64_t ms)
{
        char t[40];
        lifecycle_format_time(ms, t, sizeof(t));
        assert_string_equal(s, t);
}

/* One reason of an evaluation; evidence is JSON text, within 0 = default. */
static json_t *reason(const char *rule, const char *category, const char *severity,
                      const char *evidence, int64_t within)
{
        json_error_t je;
        json_t *e = json_loads(evidence, 0, &je);
        if (!e)
                fail_msg("bad evidence %s: %s", evidence, je.text);
        json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:o}", "rule", rule, "category", category,
                              "severity", severity, "message", "a rule fired", "evidence", e);
        if (within)
                json_object_set_new(r, "respond_within_ms", json_integer(within));
        return r;
}

/* An evaluation {monitored, reasons}; takes the reasons (NULL-terminated). */
static json_t *eval_of(bool monitored, ...)
{
        json_t *reasons = json_array();
        va_list ap;
        json_t *r;

        va_start(ap, monitored);
        while ((r = va_arg(ap, json_t *)))
                json_array_append_new(reasons, r);
        va_end(ap);
        return json_pack("{s:b, s:o}", "monitored", monitored, "reasons", reasons);
}

#define GREEN() eval_of(false, NULL)

#define RED_ILLNESS(ev) reason("illness.oop", "illness", "red", ev, 0)
#define RED_DISASTER(ev) reason("disaster.house", "disaster", "red", ev, 0)
#define YELLOW_NEED(ev) reason("need.open", "need", "yellow", ev, 0)

/* A household under test: its document, every output so far, the clock. */
typedef struct {
        const char *id;
        json_t *doc;
        json_t *out;
        int64_t now;
        int flags; /* of the latest lifecycle_step */
} Fx;

/* Key monitoring outputs, which these alert tests count apart. */
static bool is_monitoring(const json_t *o)
{
        const char *t = json_string_value(json_object_get(o, "type"));
        return t && strncmp(t, "household.monitoring.", 21) == 0;
}

/* Alert outputs from index `from` on. */
static size_t alert_outputs(const json_t *out, size_t from)
{
        size_t n = 0;
        for (size_t i = from; i < json_array_size(out); i++)
                n += !is_monitoring(json_array_get(out, i));
        return n;
}

/* The $id of schemas/out/<type>.json: what the output's dataschema names. */
static void out_schema_id(const char *type, char *buf, size_t len)
{
        char path[512];
        json_error_t je;
        snprintf(path, sizeof(path), "%s/out/%s.json", getenv("HEARTH_SCHEMAS") ?: "schemas", type);
        json_auto_t *doc = json_load_file(path, 0, &je);
        if (!doc)
                fail_msg("%s: %s", path, je.text);
        snprintf(buf, len, "%s", json_string_value(json_object_get(doc, "$id")) ?: "");
}

/* Checks outputs [from, end): {id, type, time, data} with data valid against
 * the type's schema, rendered as a CloudEvent of source hearth that the
 * envelope schema accepts, with dataschema the $id of the type's schema. */
static void check_outputs(const Fx *f, size_t from)
{
        for (size_t i = from; i < json_array_size(f->out); i++) {
                const json_t *o = json_array_get(f->out, i);
                char err[512];

                assert_int_equal(json_object_size(o), 4);
                const char *type = str(o, "type");
                assert_true(strlen(str(o, "id")) > 0);
                expect_time(str(o, "time"), f->now);
                const Schema *s = schema_set_get(out_schemas, type);
                if (!s)
                        fail_msg("unknown output type %s", type);
                if (schema_validate(s, json_object_get(o, "data"), "data", err, sizeof(err)) != 0)
                        fail_msg("%s: %s", type, err);
                assert_string_equal(str(json_object_get(o, "data"), "household_id"), f->id);

                _cleanup_free_ char *text = lifecycle_render(o, f->id);
                assert_non_null(text);
                json_error_t je;
                json_auto_t *ce = json_loads(text, JSON_REJECT_DUPLICATES, &je);
                if (!ce)
                        fail_msg("render is not JSON: %s: %s", je.text, text);
                assert_string_equal(str(ce, "specversion"), "1.0");
                assert_string_equal(str(ce, "source"), "hearth");
                assert_string_equal(str(ce, "subject"), f->id);
                assert_string_equal(str(ce, "type"), type);
                assert_string_equal(str(ce, "id"), str(o, "id"));
                assert_string_equal(str(ce, "time"), str(o, "time"));
                assert_string_equal(str(ce, "datacontenttype"), "application/json");
                assert_true(json_equal(json_object_get(ce, "data"), json_object_get(o, "data")));
                char id[512];
                out_schema_id(type, id, sizeof(id));
                assert_string_equal(str(ce, "dataschema"), id);
                if (schema_validate(schema_set_get(schemas, "cloudevent"), ce, "", err,
                                    sizeof(err)) != 0)
                        fail_msg("%s: envelope: %s", type, err);
        }
}

/* Runs lifecycle_step with eval (taken) after the event type/data (applied
 * to the document first, as the pipeline does), or after no event when type
 * is NULL. Returns how many outputs it appended. */
_printf_(4, 5) static size_t step(Fx *f, json_t *eval, const char *type, const char *fmt, ...)
{
        static int serial;
        size_t before = json_array_size(f->out);
        Event ev;
        bool have = type != NULL;

        if (have) {
                char data[2048], text[4096], t[40], err[512];
                va_list ap;
                json_error_t je;

                va_start(ap, fmt);
                vsnprintf(data, sizeof(data), fmt, ap);
                va_end(ap);
                lifecycle_format_time(f->now, t, sizeof(t));
                snprintf(text, sizeof(text),
                         "{\"specversion\":\"1.0\",\"id\":\"e-%d\",\"source\":\"test\","
                         "\"type\":\"%s\",\"time\":\"%s\",\"subject\":\"%s\",\"data\":%s}",
                         ++serial, type, t, f->id, data);
                json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
                if (!root)
                        fail_msg("not JSON: %s: %s", je.text, text);
                if (event_from_json(dec, root, &ev, err, sizeof(err)) < 0)
                        fail_msg("%s: %s", err, text);
                assert_int_equal(household_apply(f->doc, &ev, dec, NULL), 0);
        }
        f->flags = lifecycle_step(f->doc, f->id, have ? &ev : NULL, eval, f->now, &policy, f->out);
        assert_true(f->flags >= 0);
        if (have)
                event_done(&ev);
        json_decref(eval);
        check_outputs(f, before);
        return alert_outputs(f->out, before);
}

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

/* Runs lifecycle_timers; returns how many fired (checked against outputs). */
static int tick(Fx *f)
{
        size_t before = json_array_size(f->out);
        int fired = lifecycle_timers(f->doc, f->id, f->now, &policy, f->out);
        assert_int_equal((size_t)fired, json_array_size(f->out) - before);
        check_outputs(f, before);
        return fired;
}

/* The k-th output from the end (0 = last), of the expected type. */
static json_t *last(const Fx *f, size_t k, const char *type)
{
        size_t n = json_array_size(f->out);
        json_t *o = NULL;
        for (size_t i = n; i-- > 0;) {
                if (is_monitoring(json_array_get(f->out, i)))
                        continue;
                if (k-- == 0) {
                        o = json_array_get(f->out, i);
                        break;
                }
        }
        if (!o)
                fail_msg("only %zu outputs", alert_outputs(f->out, 0));
        assert_string_equal(str(o, "type"), type);
        return o;
}

static json_t *data(const json_t *o)
{
        return json_object_get(o, "data");
}

#define REGISTER_DATA                                                                              \
        "{\"town\":\"Wenxi\",\"village\":\"Dongan\",\"cadre\":{\"id\":\"C1\",\"name\":\"Chen\","   \
        "\"phone\":\"13905780107\"},\"members\":[{\"id\":\"M1\",\"labor\":\"full\","               \
        "\"disability_grade\":0,\"serious_illness\":false,\"incapacitated\":false,"                \
        "\"student\":false}],\"status\":\"marginal\","                                             \
        "\"income_last_year\":{\"year\":2025,\"disposable\":30000}}"

/* A household registered at T0 (green, no output). */
static void fx_init(Fx *f, const char *id)
{
        *f = (Fx){.id = id, .doc = household_new(), .out = json_array(), .now = T0};
        assert_int_equal(step(f, GREEN(), "household.registered", REGISTER_DATA), 0);
}

static void fx_done(Fx *f)
{
        json_decref(f->doc);
        json_decref(f->out);
}

/* The id of the open alert (after a raise). */
static const char *raise_red(Fx *f, const char *evidence)
{
        assert_int_equal(step(f, eval_of(true, RED_ILLNESS(evidence), NULL), NULL, NULL), 1);
        return str(data(last(f, 0, "risk.alert.raised")), "alert_id");
}

/* All output ids are distinct. */
static void expect_unique_ids(const json_t *out)
{
        for (size_t i = 0; i < json_array_size(out); i++)
                for (size_t j = i + 1; j < json_array_size(out); j++)
                        if (streq(str(json_array_get(out, i), "id"),
                                  str(json_array_get(out, j), "id")))
                                fail_msg("outputs %zu and %zu share the id %s", i, j,
                                         str(json_array_get(out, i), "id"));
}

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

/* ---- visits, removal, next due ------------------------------------------ */

static void test_visit_timers(void **state)
{
        (void)state;
        Fx f;
        fx_init(&f, "H10");
        assert_int_equal(num(f.doc, "visit_due_ms"), T0 + 31 * DAY);
        assert_int_equal(lifecycle_next_due(f.doc), T0 + 31 * DAY);

        f.now = T0 + 31 * DAY - 1;
        assert_int_equal(tick(&f), 0);
        f.now = T0 + 31 * DAY;
        assert_int_equal(tick(&f), 1);
        const json_t *o = last(&f, 0, "visit.overdue");
        const json_t *d = data(o);
        assert_true(json_is_null(json_object_get(d, "last_visit")));
        assert_string_equal(str(json_object_get(d, "cadre"), "id"), "C1");
        assert_int_equal(json_object_size(d), 3);
        /* Next reminder one interval later. */
        assert_int_equal(tick(&f), 0);
        assert_int_equal(lifecycle_next_due(f.doc), T0 + 62 * DAY);

        /* A visit moves the due date: its day + 1 + interval. */
        f.now = T0 + 40 * DAY; /* 2026-04-11 */
        assert_int_equal(step(&f, GREEN(), "visit.recorded",
                              "{\"cadre_id\":\"C1\",\"visited_on\":\"2026-04-10\",\"checks\":{"
                              "\"food_clothing\":\"ok\",\"education\":\"ok\",\"medical\":\"ok\","
                              "\"housing\":\"ok\",\"drinking_water\":\"ok\"}}"),
                         0);
        /* 2026-04-11T00:00+08:00 + 31 days = 2026-05-12T00:00+08:00 */
        const int64_t due = T0 + 40 * DAY - 8 * HOUR + 31 * DAY;
        assert_int_equal(lifecycle_next_due(f.doc), due);
        f.now = due - 1;
        assert_int_equal(tick(&f), 0);
        f.now = due + 5 * DAY;
        assert_int_equal(tick(&f), 1);
        const json_t *o2 = last(&f, 0, "visit.overdue");
        assert_string_equal(str(data(o2), "last_visit"), "2026-04-10");
        assert_string_not_equal(str(o2, "id"), str(json_array_get(f.out, 0), "id"));
        assert_int_equal(lifecycle_next_due(f.doc), due + 31 * DAY);

        /* Timers ran long after (downtime): the next one is an interval from now. */
        f.now = due + 200 * DAY;
        assert_int_equal(tick(&f), 1);
        assert_int_equal(lifecycle_next_due(f.doc), f.now + 31 * DAY);
        expect_unique_ids(f.out);
        fx_done(&f);
}

static void test_removed(void **state)
{
        (void)state;
        Fx f;
        fx_init(&f, "H11");
        raise_red(&f, "{\"a\":1}");
        f.now += HOUR;
        assert_int_equal(step(&f, eval_of(true, RED_ILLNESS("{\"a\":1}"), NULL),
                              "household.removed", "{\"reason\":\"moved\"}"),
                         0);
        assert_null(json_object_get(f.doc, "alert"));
        assert_true(f.flags & LIFECYCLE_ALERT_CLOSED);
        assert_int_equal(json_array_size(json_object_get(f.doc, "closed")), 1);
        /* The personal data stays for retention.removed, then goes. */
        assert_int_equal(lifecycle_next_due(f.doc), f.now + 30 * DAY);
        assert_non_null(json_object_get(f.doc, "profile"));
        f.now += 100 * DAY;
        assert_int_equal(tick(&f), 0);
        assert_true(household_erased(f.doc));
        assert_null(json_object_get(f.doc, "profile"));
        assert_null(json_object_get(f.doc, "closed"));
        assert_null(json_object_get(f.doc, "months"));
        assert_true(json_is_true(json_object_get(f.doc, "removed")));
        assert_int_equal(lifecycle_next_due(f.doc), 0);
        assert_int_equal(step(&f, eval_of(true, RED_DISASTER("{\"d\":9}"), NULL), NULL, NULL), 0);
        assert_null(json_object_get(f.doc, "alert"));
        /* Raised, then key monitoring started; removal ends both quietly. */
        assert_int_equal(json_array_size(f.out), 2);
        assert_int_equal(alert_outputs(f.out, 0), 1);
        assert_null(json_object_get(f.doc, "monitoring"));
        fx_done(&f);
}

/* retention.removed 0: the personal data goes with the removal itself. */
static void test_removed_erase_at_once(void **state)
{
        (void)state;
        LifecyclePolicy pol = policy;
        pol.removed_retention_ms = 0;
        json_t *doc = household_new(), *out = json_array();
        json_object_set_new(doc, "registered", json_true());
        json_object_set_new(doc, "removed", json_true());
        json_object_set_new(doc, "profile", json_pack("{s:s}", "town", "Wenxi"));
        json_object_set_new(doc, "alerts_n", json_integer(3));
        json_t *green = GREEN();
        int flags = lifecycle_step(doc, "H11b", NULL, green, T0, &pol, out);
        json_decref(green);
        assert_true(flags & LIFECYCLE_ERASED);
        assert_true(household_erased(doc));
        assert_null(json_object_get(doc, "profile"));
        assert_int_equal(json_integer_value(json_object_get(doc, "alerts_n")), 3);
        assert_int_equal(json_array_size(out), 0);
        json_decref(doc);
        json_decref(out);
}

/* An unregistered document: no timers, no alerts. */
static void test_unregistered(void **state)
{
        (void)state;
        Fx f = {.id = "H12", .doc = household_new(), .out = json_array(), .now = T0};
        assert_int_equal(step(&f, eval_of(true, RED_ILLNESS("{\"a\":1}"), NULL), NULL, NULL), 0);
        assert_null(json_object_get(f.doc, "alert"));
        assert_int_equal(lifecycle_next_due(f.doc), 0);
        f.now += 40 * DAY;
        assert_int_equal(tick(&f), 0);
        fx_done(&f);
}

static void test_next_due(void **state)
{
        (void)state;
        static const struct {
                int64_t reminder, escalate, visit, want;
                bool registered, removed;
        } cases[] = {
            {0, 0, 0, 0, true, false},         {0, 0, 500, 500, true, false},
            {300, 400, 500, 300, true, false}, {600, 400, 500, 400, true, false},
            {600, 700, 500, 500, true, false}, {0, 700, 900, 700, true, false},
            {800, 0, 900, 800, true, false},   {300, 400, 500, 0, false, false},
            {300, 400, 500, 0, true, true},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_auto_t *doc = json_pack("{s:b, s:b}", "registered", cases[i].registered,
                                             "removed", cases[i].removed);
                json_t *alert = json_object();
                if (cases[i].reminder)
                        json_object_set_new(alert, "reminder_ms", json_integer(cases[i].reminder));
                if (cases[i].escalate)
                        json_object_set_new(alert, "escalate_ms", json_integer(cases[i].escalate));
                json_object_set_new(doc, "alert", alert);
                if (cases[i].visit)
                        json_object_set_new(doc, "visit_due_ms", json_integer(cases[i].visit));
                print_message("# case %zu\n", i);
                assert_int_equal(lifecycle_next_due(doc), cases[i].want);
        }
        assert_int_equal(lifecycle_next_due(NULL), 0);
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
            cmocka_unit_test(test_resolved),
            cmocka_unit_test(test_resolved_partial),
            cmocka_unit_test(test_satisfaction),
            cmocka_unit_test(test_satisfaction_open),
            cmocka_unit_test(test_reopen_ids_unique),
            cmocka_unit_test(test_measures_of_alert),
            cmocka_unit_test(test_visit_timers),
            cmocka_unit_test(test_removed),
            cmocka_unit_test(test_removed_erase_at_once),
            cmocka_unit_test(test_unregistered),
            cmocka_unit_test(test_next_due),
            cmocka_unit_test(test_determinism),
            cmocka_unit_test(test_render),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
