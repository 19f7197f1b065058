/* The alert lifecycle tests' fixture: schemas, a household under test, output checks. */
/* Shared by test_lifecycle.c, test_lifecycle_resolve.c and
 * test_lifecycle_household.c.
 *
 * Household documents are built with household_apply() from real CloudEvents
 * decoded with the repository's schemas ($HEARTH_SCHEMAS, else "schemas":
 * tests/run.sh runs from the repository root). The rules' evaluation is built
 * by hand. Every output event is checked against CONTRACT.md and its data
 * validated against schemas/out/<type>.json. */
#pragma once

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
