/* The event decoder tests' fixture: schemas, decoder, fixture files, valid fixtures. */
/* Shared by test_event.c (structured mode) and test_event_binary.c (binary
 * mode). Schemas come from $HEARTH_SCHEMAS, else "schemas" (tests/run.sh
 * runs from the repository root); fixtures from $HEARTH_FIXTURES, else
 * "tests/fixtures/events". */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "macro.h"

#define MAX_BYTES 65536

typedef struct {
        SchemaSet *schemas;
        EventDecoder *dec;
        const char *fixtures;
} Fixture;

static int setup(void **state)
{
        static Fixture f;
        const char *dir = getenv("HEARTH_SCHEMAS") ?: "schemas";
        char err[512];

        f.fixtures = getenv("HEARTH_FIXTURES") ?: "tests/fixtures/events";
        if (schema_set_load_dir(dir, &f.schemas, err, sizeof(err)) < 0) {
                print_error("cannot load schemas from %s: %s\n", dir, err);
                return -1;
        }
        f.dec = event_decoder_new(f.schemas, MAX_BYTES);
        if (!f.dec) {
                print_error("event_decoder_new failed on %s\n", dir);
                return -1;
        }
        *state = &f;
        return 0;
}

static int teardown(void **state)
{
        Fixture *f = *state;

        if (!f) /* setup failed */
                return 0;
        f->dec = event_decoder_free(f->dec);
        f->schemas = schema_set_free(f->schemas);
        return 0;
}

/* The file's contents, NUL-terminated (caller frees); fails the test. */
static char *slurp(const char *dir, const char *name, size_t *len)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "rbe");
        if (!f)
                fail_msg("cannot open %s", path);
        char *buf = malloc(MAX_BYTES + 1);
        assert_non_null(buf);
        *len = fread(buf, 1, MAX_BYTES, f);
        fclose(f);
        buf[*len] = 0;
        return buf;
}

static const struct {
        const char *file;
        EventType type;
        const char *subject, *date, *money_field;
        int64_t fen;
} valid[] = {
    {"household.registered.json", EV_HOUSEHOLD_REGISTERED, "H3311210001", "2026-01-05",
     "income_last_year.disposable", 3860000},
    {"household.removed.json", EV_HOUSEHOLD_REMOVED, "H3311210009", "2026-04-01", NULL, 0},
    {"civil.assistance.changed.json", EV_ASSISTANCE_CHANGED, "H3311210001", "2026-03-01",
     "monthly_amount", 109600},
    {"civil.relief.paid.json", EV_RELIEF_PAID, "H3311210001", "2026-03-05", "amount", 300000},
    {"civil.income.verified.json", EV_INCOME_VERIFIED, "H3311210001", "2026-02-20", "disposable",
     3125060},
    {"medical.claim.settled.json", EV_CLAIM_SETTLED, "H3311210001", "2026-03-02", "out_of_pocket",
     3432020},
    {"disaster.loss.reported.json", EV_DISASTER_REPORTED, "H3311210023", "2026-07-27",
     "property_loss", 4200000},
    {"accident.reported.json", EV_ACCIDENT_REPORTED, "H3311210023", "2026-04-11", "medical_cost",
     1268040},
    {"need.reported.json", EV_NEED_REPORTED, "H3311210042", "2026-03-15", NULL, 0},
    {"need.resolved.json", EV_NEED_RESOLVED, "H3311210042", "2026-04-02", NULL, 0},
    {"expense.reported.json", EV_EXPENSE_REPORTED, "H3311210057", "2026-03-10", "amount", 245080},
    {"visit.recorded.json", EV_VISIT_RECORDED, "H3311210001", "2026-03-12", NULL, 0},
    {"alert.acknowledged.json", EV_ALERT_ACKNOWLEDGED, "H3311210001", "2026-03-02", NULL, 0},
    {"measure.applied.json", EV_MEASURE_APPLIED, "H3311210001", "2026-03-20", "amount", 1500000},
    {"alert.resolved.json", EV_ALERT_RESOLVED, "H3311210001", "2026-03-23", NULL, 0},
    {"satisfaction.rated.json", EV_SATISFACTION_RATED, "H3311210001", "2026-03-24", NULL, 0},
    {"department.answered.json", EV_DEPARTMENT_ANSWERED, "H3311210001", "2026-03-03", NULL, 0},
    {"aid.offer.registered.json", EV_AID_OFFER_REGISTERED, "OF2026001", "2026-03-01",
     "amount_per_household", 200000},
    {"aid.offer.withdrawn.json", EV_AID_OFFER_WITHDRAWN, "OF2026001", "2026-06-01", NULL, 0},
    {"aid.match.answered.json", EV_AID_MATCH_ANSWERED, "H3311210042", "2026-03-18", NULL, 0},
};

#define NEED                                                                                       \
        "{\"specversion\":\"1.0\",\"id\":\"n-1\",\"source\":\"app/t\","                            \
        "\"type\":\"need.reported\",\"time\":\"2026-03-15T20:41:13+08:00\","                       \
        "\"subject\":\"H1\",\"data\":{\"need_id\":\"N1\",\"channel\":\"self\","                    \
        "\"category\":\"water\",\"urgent\":true"
#define NEED_END "}}"

/* need.reported with data.text = (depth-2) nested arrays around a string:
 * the string sits at nesting level depth. */
static char *nested(int depth)
{
        size_t cap = strlen(NEED NEED_END) + 2 * (size_t)depth + 64;
        char *s = malloc(cap);
        assert_non_null(s);
        size_t n = (size_t)snprintf(s, cap, "%s,\"text\":", NEED);
        for (int i = 0; i < depth - 3; i++)
                s[n++] = '[';
        n += (size_t)snprintf(s + n, cap - n, "\"x\"");
        for (int i = 0; i < depth - 3; i++)
                s[n++] = ']';
        snprintf(s + n, cap - n, "%s", NEED_END);
        return s;
}
