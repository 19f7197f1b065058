/* Unit tests of the event decoder (RELIABILITY.md F25): every valid fixture
 * decodes to the right type, subject and date; every invalid fixture is
 * refused with a reason naming its field; the key, size, depth, string,
 * duplicate-key and UTF-8 limits; household ids, dates and the dedup hash.
 * Schemas come from $HEARTH_SCHEMAS, else "schemas" (tests/run.sh runs from
 * the repository root); fixtures from $HEARTH_FIXTURES, else
 * "tests/fixtures/events". */
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
#include <strings.h>
#include <sys/types.h>

#include "event.h"
#include "fsutil.h"
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

/* Decodes text with key = its own subject when key is NULL. */
static int decode_text(const Fixture *f, const char *key, const char *text, Event *ev, char *err,
                       size_t errlen)
{
        return event_decode(f->dec, key, key ? strlen(key) : 0, text, strlen(text), ev, err,
                            errlen);
}

/* The subject written in text, to use as key ("x" when there is none). */
static void subject_of(const char *text, char *buf, size_t len)
{
        json_error_t je;
        json_auto_t *root = json_loads(text, 0, &je);
        const char *s = json_string_value(json_object_get(root, "subject"));
        snprintf(buf, len, "%s", s ? s : "x");
}

static void expect_reject(const Fixture *f, const char *text, const char *want)
{
        Event ev;
        char err[512] = "", key[128];

        subject_of(text, key, sizeof(key));
        if (decode_text(f, key, text, &ev, err, sizeof(err)) != -EINVAL)
                fail_msg("accepted, want '%s': %.200s", want, text);
        if (!strstr(err, want))
                fail_msg("error '%s' does not contain '%s'", err, want);
        assert_null(ev.root);
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

static void test_valid_fixtures(void **state)
{
        const Fixture *f = *state;
        bool seen[_EV_MAX] = {false};

        assert_int_equal(ELEMENTSOF(valid), _EV_MAX);
        for (size_t i = 0; i < ELEMENTSOF(valid); i++) {
                size_t len;
                _cleanup_free_ char *text = slurp(f->fixtures, valid[i].file, &len);
                Event ev;
                char err[512] = "", date[16];

                if (event_decode(f->dec, valid[i].subject, strlen(valid[i].subject), text, len, &ev,
                                 err, sizeof(err)) != 0)
                        fail_msg("%s: %s", valid[i].file, err);
                assert_int_equal(ev.type, valid[i].type);
                assert_string_equal(ev.subject, valid[i].subject);
                date_format(ev.date, date, sizeof(date));
                if (!streq(date, valid[i].date))
                        fail_msg("%s: date %s, want %s", valid[i].file, date, valid[i].date);
                assert_string_equal(event_type_name(ev.type),
                                    json_string_value(json_object_get(ev.root, "type")));
                assert_non_null(ev.id);
                assert_non_null(ev.source);
                assert_true(json_is_object(ev.data));
                if (valid[i].money_field)
                        assert_int_equal(event_fen(&ev, valid[i].money_field), valid[i].fen);
                seen[ev.type] = true;
                event_done(&ev);
                assert_null(ev.root);

                /* The same event already parsed: event_from_json steals it. */
                json_error_t je;
                json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
                assert_non_null(root);
                assert_int_equal(event_from_json(f->dec, root, &ev, err, sizeof(err)), 0);
                assert_int_equal(ev.type, valid[i].type);
                assert_ptr_equal(ev.root, root);
                event_done(&ev);
        }
        for (int t = 0; t < _EV_MAX; t++)
                assert_true(seen[t]);
}

/* invalid/README.md: the field at fault appears in the reason. */
static const struct {
        const char *file, *field;
} invalid[] = {
    {"enum-claim-kind.json", "data.kind"},
    {"missing-settled-on.json", "data: missing required property 'settled_on'"},
    {"extra-property-note.json", "data: unexpected property 'note'"},
    {"negative-amount.json", "data.amount"},
    {"bad-date.json", "data.incurred_on"},
    {"bad-household-id.json", "subject"},
    {"amount-three-decimals.json", "data.amount: amount has more than 2 decimals"},
    {"amount-as-string.json", "data.amount"},
    {"members-empty.json", "data.members"},
    {"specversion-03.json", "specversion"},
    {"missing-source.json", "'source'"},
    {"time-without-offset.json", "time"},
    {"score-six.json", "data.score"},
    {"disability-grade-five.json", "data.members[3].disability_grade"},
    {"extension-camelcase.json", "'partitionKey'"},
    {"data-as-string.json", "data: must be object"},
    {"checks-missing-drinking-water.json",
     "data.checks: missing required property 'drinking_water'"},
    {"injured-fraction.json", "data.injured"},
    {"year-1999.json", "data.year"},
    {"text-too-long.json", "data.text: must be at most 2000"},
    {"datacontenttype-text.json", "datacontenttype"},
    {"alert-id-empty.json", "data.alert_id"},
    {"enum-measure.json", "data.measure"},
    {"unknown-type.json", "type: unknown event type 'medical.claim.rejected'"},
};

static void test_invalid_fixtures(void **state)
{
        const Fixture *f = *state;
        char dir[512];

        snprintf(dir, sizeof(dir), "%s/invalid", f->fixtures);
        for (size_t i = 0; i < ELEMENTSOF(invalid); i++) {
                size_t len;
                _cleanup_free_ char *text = slurp(dir, invalid[i].file, &len);
                Event ev;
                char err[512] = "", key[128];

                subject_of(text, key, sizeof(key));
                if (event_decode(f->dec, key, strlen(key), text, len, &ev, err, sizeof(err)) !=
                    -EINVAL)
                        fail_msg("%s: accepted", invalid[i].file);
                if (!strstr(err, invalid[i].field))
                        fail_msg("%s: '%s' does not name %s", invalid[i].file, err,
                                 invalid[i].field);
                assert_null(ev.root);
        }

        /* Every fixture in the folder is in the table above. */
        char **names;
        size_t n;
        assert_int_equal(fsutil_list(dir, ".json", 1000, &names, &n), 0);
        fsutil_names_free(names, n);
        assert_int_equal(n, ELEMENTSOF(invalid));
}

#define NEED                                                                                       \
        "{\"specversion\":\"1.0\",\"id\":\"n-1\",\"source\":\"app/t\","                            \
        "\"type\":\"need.reported\",\"time\":\"2026-03-15T20:41:13+08:00\","                       \
        "\"subject\":\"H1\",\"data\":{\"need_id\":\"N1\",\"channel\":\"self\","                    \
        "\"category\":\"water\",\"urgent\":true"
#define NEED_END "}}"

static void test_key_and_payload(void **state)
{
        const Fixture *f = *state;
        const char *text = NEED NEED_END;
        Event ev;
        char err[512];

        assert_int_equal(event_decode(f->dec, "H1", 2, text, strlen(text), &ev, err, sizeof(err)),
                         0);
        assert_string_equal(event_str(&ev, "category"), "water");
        assert_true(event_bool(&ev, "urgent"));
        event_done(&ev);

        static const struct {
                const char *key;
                size_t len;
        } bad_keys[] = {{NULL, 0}, {"H2", 2}, {"H1x", 3}, {"H1", 1}, {"", 0}, {"h1", 2}};
        for (size_t i = 0; i < ELEMENTSOF(bad_keys); i++) {
                err[0] = 0;
                assert_int_equal(event_decode(f->dec, bad_keys[i].key, bad_keys[i].len, text,
                                              strlen(text), &ev, err, sizeof(err)),
                                 -EINVAL);
                assert_non_null(strstr(err, "key"));
                assert_null(ev.root);
        }

        assert_int_equal(event_decode(f->dec, "H1", 2, NULL, 0, &ev, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "value"));

        /* max_bytes: exactly at the limit passes, one byte more does not. */
        EventDecoder *tight = event_decoder_new(f->schemas, strlen(text));
        assert_non_null(tight);
        assert_int_equal(event_decode(tight, "H1", 2, text, strlen(text), &ev, err, sizeof(err)),
                         0);
        event_done(&ev);
        char *longer = malloc(strlen(text) + 2);
        assert_non_null(longer);
        snprintf(longer, strlen(text) + 2, "%s ", text);
        assert_int_equal(
            event_decode(tight, "H1", 2, longer, strlen(longer), &ev, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "exceeds"));
        free(longer);
        event_decoder_free(tight);

        /* No data date and no time: the date is unknown (0). */
        const char *untimed = "{\"specversion\":\"1.0\",\"id\":\"r\",\"source\":\"s\","
                              "\"type\":\"need.resolved\",\"subject\":\"H1\","
                              "\"data\":{\"need_id\":\"N1\"}}";
        assert_int_equal(decode_text(f, "H1", untimed, &ev, err, sizeof(err)), 0);
        assert_int_equal(ev.type, EV_NEED_RESOLVED);
        assert_int_equal(ev.date, 0);
        assert_string_equal(ev.id, "r");
        assert_string_equal(ev.source, "s");
        event_done(&ev);

        /* Not an object: event_from_json still takes ownership (ASan checks). */
        assert_int_equal(event_from_json(f->dec, json_pack("[i]", 1), &ev, err, sizeof(err)),
                         -EINVAL);
        assert_non_null(strstr(err, "not a CloudEvent"));
}

/* Text that must not decode, and a substring of the reason. */
static const struct {
        const char *text, *error;
} malformed[] = {
    {"", "not JSON"},
    {"{", "not JSON"},
    {NEED, "not JSON"},
    {"null", "not JSON"},
    {"\"H1\"", "not JSON"},
    {"[1,2]", "not a CloudEvent"},
    {"{}", "not a CloudEvent"},
    {NEED ",\"urgent\":false" NEED_END, "duplicate"},
    {"{\"id\":\"a\",\"id\":\"a\"}", "duplicate"},
    {NEED ",\"text\":\"\xff\"" NEED_END, "not JSON"},
    {NEED ",\"text\":\"\xc0\xaf\"" NEED_END, "not JSON"},
    {NEED ",\"text\":\"\xed\xa0\x80\"" NEED_END, "not JSON"},
    {NEED ",\"text\":\"\xe6\xb0\"" NEED_END, "not JSON"},
    {NEED ",\"text\":\"a\\u0000b\"" NEED_END, "not JSON"},
    {NEED ",\"text\":1" NEED_END, "data.text"},
    {NEED ",\"extra\":1" NEED_END, "unexpected property 'extra'"},
    {"{\"specversion\":\"1.0\",\"id\":\"n\",\"source\":\"s\",\"type\":\"need.reported\","
     "\"data\":{}}",
     "subject"},
    {"{\"specversion\":\"1.0\",\"id\":\"n\",\"source\":\"s\",\"type\":\"need.reported\","
     "\"subject\":null,\"data\":{}}",
     "subject"},
    {"{\"specversion\":\"1.0\",\"id\":\"n\",\"source\":\"s\",\"type\":\"need.reported\","
     "\"subject\":\"H1\",\"data\":null}",
     "data"},
    {"{\"specversion\":\"1.0\",\"id\":\"n\",\"source\":\"s\",\"type\":\"need.reported\","
     "\"subject\":\"H1\"}",
     "data"},
    {"{\"specversion\":\"1.0\",\"id\":\"n\",\"source\":\"s\",\"type\":\"need.reported\","
     "\"subject\":\"HHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHH\","
     "\"data\":{}}",
     "subject"},
};

static void test_malformed(void **state)
{
        const Fixture *f = *state;

        for (size_t i = 0; i < ELEMENTSOF(malformed); i++)
                expect_reject(f, malformed[i].text, malformed[i].error);
}

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

static void test_limits(void **state)
{
        const Fixture *f = *state;
        char err[512];
        Event ev;

        /* Root = level 1, data = 2, data.text = 3. At the limit only the
         * schema objects (text must be a string); one deeper the depth does. */
        _cleanup_free_ char *at = nested(EVENT_MAX_DEPTH);
        assert_int_equal(decode_text(f, "H1", at, &ev, err, sizeof(err)), -EINVAL);
        assert_null(strstr(err, "nested deeper"));
        assert_non_null(strstr(err, "data.text"));
        _cleanup_free_ char *over = nested(EVENT_MAX_DEPTH + 1);
        expect_reject(f, over, "nested deeper than 32 levels");
        expect_reject(f, over, "data.text[0]");
        /* Deeper than jansson's own limit (2048): refused while parsing;
         * 10^5 levels: refused by size before parsing. */
        _cleanup_free_ char *deep = nested(3000);
        expect_reject(f, deep, "not JSON");
        _cleanup_free_ char *deeper = nested(100000);
        expect_reject(f, deeper, "exceeds");

        /* Strings are bounded in characters, as the schemas count them: a
         * schema-valid text of 2000 Chinese characters (6000 bytes) or 2000
         * four-byte characters passes; past 2000 the schema objects, past
         * 4096 characters (a 5000-byte string) the decoder's limit does. */
        static const struct {
                const char *unit;
                size_t count;
                const char *error;
        } strings[] = {
            {"a", 2000, NULL},
            {"\xe6\xb0\xb4", 2000, NULL},
            {"\xf0\x9f\x8f\xa0", 2000, NULL},
            {"\xe6\xb0\xb4", 1500, NULL},
            {"a", 2001, "data.text: must be at most 2000"},
            {"\xe6\xb0\xb4", 2001, "data.text: must be at most 2000"},
            {"a", 4096, "data.text: must be at most 2000"},
            {"\xe6\xb0\xb4", 4096, "data.text: must be at most 2000"},
            {"a", 4097, "data.text: string longer than 4096 characters"},
            {"a", 5000, "data.text: string longer than 4096 characters"},
            {"\xe6\xb0\xb4", 4097, "data.text: string longer than 4096 characters"},
        };
        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                size_t ul = strlen(strings[i].unit), bytes = ul * strings[i].count;
                size_t cap = bytes + 512;
                _cleanup_free_ char *s = malloc(cap);
                assert_non_null(s);
                size_t n = (size_t)snprintf(s, cap, "%s,\"text\":\"", NEED);
                for (size_t k = 0; k < strings[i].count; k++, n += ul)
                        memcpy(s + n, strings[i].unit, ul);
                snprintf(s + n, cap - n, "\"%s", NEED_END);
                if (!strings[i].error) {
                        if (decode_text(f, "H1", s, &ev, err, sizeof(err)) != 0)
                                fail_msg("%zu x %zu bytes: %s", strings[i].count, ul, err);
                        assert_int_equal(strlen(event_str(&ev, "text")), bytes);
                        event_done(&ev);
                } else
                        expect_reject(f, s, strings[i].error);
        }
}

static void test_money_fields(void **state)
{
        const Fixture *f = *state;
        size_t len;
        _cleanup_free_ char *text = slurp(f->fixtures, "household.registered.json", &len);
        json_error_t je;
        static const struct {
                const char *path; /* member of income_last_year or members[i] */
                const char *value;
                const char *error; /* NULL when accepted */
        } cases[] = {
            {"disposable", "38600.01", NULL},
            {"disposable", "3.86e4", NULL},
            {"disposable", "38600.001", "data.income_last_year.disposable: amount has more"},
            {"disposable", "1e300", "data.income_last_year.disposable"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_auto_t *root = json_loads(text, 0, &je);
                json_auto_t *v = json_loads(cases[i].value, JSON_DECODE_ANY, &je);
                assert_non_null(v);
                json_object_set(json_object_get(json_object_get(root, "data"), "income_last_year"),
                                cases[i].path, v);
                _cleanup_free_ char *s = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17));
                if (!cases[i].error) {
                        Event ev;
                        char err[512];
                        assert_int_equal(decode_text(f, "H3311210001", s, &ev, err, sizeof(err)),
                                         0);
                        event_done(&ev);
                } else
                        expect_reject(f, s, cases[i].error);
        }
}

static void test_member_ids_unique(void **state)
{
        const Fixture *f = *state;
        size_t len;
        _cleanup_free_ char *text = slurp(f->fixtures, "household.registered.json", &len);
        json_error_t je;
        json_auto_t *root = json_loads(text, 0, &je);
        json_t *members = json_object_get(json_object_get(root, "data"), "members");

        assert_int_equal(json_array_size(members), 4);
        json_object_set_new(json_array_get(members, 2), "id", json_string("H3311210001-01"));
        _cleanup_free_ char *dup = json_dumps(root, JSON_COMPACT);
        expect_reject(f, dup, "data.members[2].id: duplicate member id");

        /* Distinct again: accepted. */
        json_object_set_new(json_array_get(members, 2), "id", json_string("H3311210001-09"));
        _cleanup_free_ char *ok = json_dumps(root, JSON_COMPACT);
        Event ev;
        char err[512];
        assert_int_equal(decode_text(f, "H3311210001", ok, &ev, err, sizeof(err)), 0);
        event_done(&ev);
}

static void test_household_id(void **state)
{
        (void)state;
        char max[66];
        memset(max, 'a', 65);
        max[65] = 0;
        static const struct {
                const char *s;
                size_t len; /* 0: strlen */
                bool ok;
        } cases[] = {
            {"H3311210001", 0, true}, {"a", 0, true},    {"_-", 0, true},      {"Az09_-", 0, true},
            {"", 0, false},           {"H 1", 0, false}, {"H.1", 0, false},    {"H/1", 0, false},
            {"H1\n", 0, false},       {"户1", 0, false}, {"H1\xff", 0, false}, {"H1 ", 2, true},
            {"H\0001", 3, false},     {"H:1", 0, false}, {"H+1", 0, false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len = cases[i].len ? cases[i].len : strlen(cases[i].s);
                if (household_id_valid(cases[i].s, len) != cases[i].ok)
                        fail_msg("household_id_valid(\"%s\", %zu) != %d", cases[i].s, len,
                                 cases[i].ok);
        }
        assert_true(household_id_valid(max, 64));
        assert_false(household_id_valid(max, 65));
        assert_false(household_id_valid(max, 0));
}

static void test_dates(void **state)
{
        (void)state;
        static const struct {
                const char *s;
                int32_t days;
                bool ok;
        } cases[] = {
            {"1970-01-01", 0, true},
            {"1970-01-02", 1, true},
            {"1969-12-31", -1, true},
            {"2000-02-29", 11016, true},
            {"2000-03-01", 11017, true},
            {"2024-02-29", 19782, true},
            {"2026-03-02", 20514, true},
            {"2038-01-19", 24855, true},
            {"2100-12-31", 47846, true},
            {"9999-12-31", 2932896, true},
            {"0000-03-01", -719468, true},
            /* exactly a date: trailing text is refused (the decoder dates
             * events without a data date by calendar_time_parse()) */
            {"2026-03-02T08:00:00+08:00", 0, false},
            {"2026-03-02 ", 0, false},
            {"2023-02-29", 0, false},
            {"2100-02-29", 0, false},
            {"1900-02-29", 0, false},
            {"2024-04-31", 0, false},
            {"2024-13-01", 0, false},
            {"2024-00-10", 0, false},
            {"2024-01-00", 0, false},
            {"2024-01-32", 0, false},
            {"2024-1-01", 0, false},
            {"24-01-01", 0, false},
            {"2024/01/01", 0, false},
            {"2024-01-0", 0, false},
            {"", 0, false},
            {"abcd-ef-gh", 0, false},
            {"-202-01-01", 0, false},
            {"2024-01- 1", 0, false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int32_t d = 12345;
                int r = date_parse(cases[i].s, &d);
                if (cases[i].ok && (r != 0 || d != cases[i].days))
                        fail_msg("%s: r=%d days=%d, want %d", cases[i].s, r, d, cases[i].days);
                if (!cases[i].ok && (r != -EINVAL || d != 12345))
                        fail_msg("%s: r=%d days=%d, want -EINVAL", cases[i].s, r, d);
        }

        /* Every day 1970-01-01 .. 2100-12-31: format and parse round trip,
         * year and month agree with the text, and days follow each other. */
        char prev[16] = "", buf[16];
        int32_t last = 0;
        assert_int_equal(date_parse("2100-12-31", &last), 0);
        for (int32_t d = 0; d <= last; d++) {
                int32_t back = -1;
                date_format(d, buf, sizeof(buf));
                if (date_parse(buf, &back) != 0 || back != d)
                        fail_msg("%d -> %s -> %d", d, buf, back);
                int y = (buf[0] - '0') * 1000 + (buf[1] - '0') * 100 + (buf[2] - '0') * 10 +
                        (buf[3] - '0');
                int m = (buf[5] - '0') * 10 + (buf[6] - '0');
                if (date_year(d) != y || date_month(d) != m)
                        fail_msg("%s: year %d month %d", buf, date_year(d), date_month(d));
                if (strcmp(prev, buf) >= 0)
                        fail_msg("%s does not follow %s", buf, prev);
                memcpy(prev, buf, sizeof(prev));
        }
        assert_string_equal(buf, "2100-12-31");
        date_format(0, buf, sizeof(buf));
        assert_string_equal(buf, "1970-01-01");
        date_format(11017, buf, sizeof(buf));
        assert_string_equal(buf, "2000-03-01");
        date_format(-1, buf, sizeof(buf));
        assert_string_equal(buf, "1969-12-31");
}

static void test_dedup_hash(void **state)
{
        (void)state;
        /* FNV-1a 64 of the bytes source NUL id, computed independently. */
        assert_true(event_dedup_hash("", "") == 0xaf63bd4c8601b7dfULL);
        assert_true(event_dedup_hash("a", "b") == 0xe5d29919042666b2ULL);
        assert_true(event_dedup_hash("civil-affairs/qingtian", "mz-000123") ==
                    0x302c2ced633185cfULL);
        assert_true(event_dedup_hash("ab", "") == 0xe72003190541fc1eULL);
        /* The separator keeps (ab, "") and (a, b) apart. */
        assert_true(event_dedup_hash("ab", "") != event_dedup_hash("a", "b"));
        assert_true(event_dedup_hash("s", "1") != event_dedup_hash("s", "2"));
}

static void test_type_names(void **state)
{
        (void)state;
        for (int t = 0; t < _EV_MAX; t++) {
                const char *name = event_type_name((EventType)t);
                assert_string_not_equal(name, "?");
                assert_int_equal(event_type_from_name(name), t);
        }
        assert_string_equal(event_type_name(EV_CLAIM_SETTLED), "medical.claim.settled");
        assert_int_equal(event_type_from_name("household.registered"), EV_HOUSEHOLD_REGISTERED);
        assert_int_equal(event_type_from_name("satisfaction.rated"), EV_SATISFACTION_RATED);
        assert_string_equal(event_type_name(_EV_MAX), "?");
        static const char *const bad[] = {
            "",          "medical.claim.rejected", "Household.Registered", "household.registered ",
            "household", "risk.eliminated"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(event_type_from_name(bad[i]), -EINVAL);
}

/* ---- binary content mode (CloudEvents Kafka binding) ------------------- */

#define MSG_MAX (EVENT_MAX_HEADERS + 8)

/* A Kafka message under construction: headers (names and values owned),
 * value and key. */
typedef struct {
        char *name[MSG_MAX];
        char *value[MSG_MAX]; /* NULL: a header without a value */
        size_t len[MSG_MAX];
        size_t n;
        char *data; /* the message value; NULL: none */
        size_t datalen;
        char key[128];
        EventHeader h[MSG_MAX];
} Msg;

static void msg_free(Msg *m)
{
        for (size_t i = 0; i < m->n; i++) {
                free(m->name[i]);
                free(m->value[i]);
        }
        free(m->data);
        memset(m, 0, sizeof(*m));
}

/* Appends a header (value of len bytes; NULL for none). */
static void msg_add(Msg *m, const char *name, const char *value, size_t len)
{
        assert_true(m->n < MSG_MAX);
        m->name[m->n] = strdup(name);
        m->value[m->n] = value ? malloc(len + 1) : NULL;
        if (value) {
                memcpy(m->value[m->n], value, len);
                m->value[m->n][len] = '\0';
        }
        m->len[m->n++] = len;
}

static ssize_t msg_find(const Msg *m, const char *name)
{
        for (size_t i = 0; i < m->n; i++)
                if (streq(m->name[i], name))
                        return (ssize_t)i;
        return -1;
}

static void msg_del(Msg *m, const char *name)
{
        ssize_t i = msg_find(m, name);
        assert_true(i >= 0);
        free(m->name[i]);
        free(m->value[i]);
        memmove(&m->name[i], &m->name[i + 1], (m->n - (size_t)i - 1) * sizeof(char *));
        memmove(&m->value[i], &m->value[i + 1], (m->n - (size_t)i - 1) * sizeof(char *));
        memmove(&m->len[i], &m->len[i + 1], (m->n - (size_t)i - 1) * sizeof(size_t));
        m->n--;
}

/* Replaces the value of header name (appends it when absent). */
static void msg_set(Msg *m, const char *name, const char *value, size_t len)
{
        if (msg_find(m, name) >= 0)
                msg_del(m, name);
        msg_add(m, name, value, len);
}

/* Deletes every ce_ header. */
static void msg_del_ce(Msg *m)
{
        for (size_t i = 0; i < m->n;)
                if (strncmp(m->name[i], "ce_", 3) == 0)
                        msg_del(m, m->name[i]);
                else
                        i++;
}

static void msg_value(Msg *m, const char *text, size_t len)
{
        free(m->data);
        m->data = text ? malloc(len + 1) : NULL;
        if (text)
                memcpy(m->data, text, len);
        m->datalen = len;
}

/* tests/fixtures/events/binary/<type>.headers ("name=value" lines) and
 * .value; the key is ce_subject. */
static void msg_load(const Fixture *f, const char *type, Msg *m)
{
        char dir[512], file[300];
        size_t len;
        memset(m, 0, sizeof(*m));
        snprintf(dir, sizeof(dir), "%s/binary", f->fixtures);
        snprintf(file, sizeof(file), "%s.headers", type);
        _cleanup_free_ char *hs = slurp(dir, file, &len);
        for (char *line = hs, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                char *eq = strchr(line, '=');
                assert_non_null(eq);
                *eq = '\0';
                msg_add(m, line, eq + 1, strlen(eq + 1));
        }
        snprintf(file, sizeof(file), "%s.value", type);
        m->data = slurp(dir, file, &m->datalen);
        ssize_t s = msg_find(m, "ce_subject");
        snprintf(m->key, sizeof(m->key), "%s", s >= 0 ? m->value[s] : "x");
}

static int msg_decode(const Fixture *f, Msg *m, Event *ev, char *err, size_t errlen)
{
        for (size_t i = 0; i < m->n; i++)
                m->h[i] = (EventHeader){m->name[i], m->value[i], m->len[i]};
        EventMessage em = {.key = m->key,
                           .keylen = strlen(m->key),
                           .headers = m->h,
                           .n_headers = m->n,
                           .value = m->data,
                           .len = m->datalen};
        err[0] = '\0';
        return event_decode_message(f->dec, &em, ev, err, errlen);
}

static void msg_expect_reject(const Fixture *f, Msg *m, const char *want, const char *what)
{
        Event ev;
        char err[512];
        if (msg_decode(f, m, &ev, err, sizeof(err)) != -EINVAL)
                fail_msg("%s: accepted, want '%s'", what, want);
        if (!strstr(err, want))
                fail_msg("%s: error '%s' does not contain '%s'", what, err, want);
        assert_null(ev.root);
        assert_null(strchr(err, '\n'));
}

/* Every binary fixture is the same event as its structured twin: same
 * type, ids, subject, date, money and document, and the same dedup key. */
static void test_binary_fixtures(void **state)
{
        const Fixture *f = *state;
        for (size_t i = 0; i < ELEMENTSOF(valid); i++) {
                char type[128], err[512];
                snprintf(type, sizeof(type), "%.*s", (int)(strlen(valid[i].file) - 5),
                         valid[i].file);
                Msg m;
                msg_load(f, type, &m);
                Event b, s;
                if (msg_decode(f, &m, &b, err, sizeof(err)) != 0)
                        fail_msg("binary %s: %s", type, err);
                size_t len;
                _cleanup_free_ char *text = slurp(f->fixtures, valid[i].file, &len);
                assert_int_equal(event_decode(f->dec, valid[i].subject, strlen(valid[i].subject),
                                              text, len, &s, err, sizeof(err)),
                                 0);
                assert_true(b.binary);
                assert_false(s.binary);
                assert_int_equal(b.type, valid[i].type);
                assert_int_equal(b.type, s.type);
                assert_string_equal(b.id, s.id);
                assert_string_equal(b.source, s.source);
                assert_string_equal(b.subject, s.subject);
                assert_int_equal(b.date, s.date);
                if (!json_equal(b.root, s.root)) {
                        _cleanup_free_ char *x = json_dumps(b.root, JSON_COMPACT);
                        fail_msg("%s: binary decodes to another document: %s", type, x);
                }
                assert_true(event_dedup_hash(b.source, b.id) == event_dedup_hash(s.source, s.id));
                if (valid[i].money_field)
                        assert_int_equal(event_fen(&b, valid[i].money_field), valid[i].fen);

                /* Headers that are not attributes change nothing. */
                msg_add(&m, "traceparent",
                        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 55);
                msg_add(&m, "x-empty", NULL, 0);
                Event b2;
                assert_int_equal(msg_decode(f, &m, &b2, err, sizeof(err)), 0);
                assert_true(json_equal(b2.root, s.root));
                event_done(&b2);

                /* Stored as hearth stores pending events (the structured
                 * document) and read back: the same event. */
                _cleanup_free_ char *dump = json_dumps(b.root, JSON_COMPACT);
                assert_int_equal(event_decode(f->dec, b.subject, strlen(b.subject), dump,
                                              strlen(dump), &b2, err, sizeof(err)),
                                 0);
                assert_true(json_equal(b2.root, b.root));
                event_done(&b2);
                event_done(&b);
                event_done(&s);
                msg_free(&m);
        }
}

/* One change to the binary need.reported fixture and a substring of the
 * reason it must give. */
typedef enum { OP_DEL, OP_SET, OP_ADD, OP_NULL, OP_VALUE, OP_KEY } MsgOp;
static const struct {
        MsgOp op;
        const char *name, *value, *error;
} binary_bad[] = {
    {OP_DEL, "ce_specversion", NULL, "header ce_specversion: missing"},
    {OP_DEL, "ce_id", NULL, "header ce_id: missing"},
    {OP_DEL, "ce_source", NULL, "header ce_source: missing"},
    {OP_DEL, "ce_type", NULL, "header ce_type: missing"},
    {OP_DEL, "ce_subject", NULL, "header ce_subject: missing"},
    {OP_SET, "ce_specversion", "0.3", "header ce_specversion: must equal \"1.0\""},
    {OP_SET, "ce_id", "", "header ce_id: must be at least 1"},
    {OP_SET, "ce_source", "", "header ce_source: must be at least 1"},
    {OP_SET, "ce_type", "need.unknown", "header ce_type: unknown event type 'need.unknown'"},
    {OP_SET, "ce_type", "", "header ce_type: must be at least 1"},
    {OP_SET, "ce_subject", "H 42", "header ce_subject: "},
    {OP_SET, "ce_time", "2026-03-15 20:41:13", "header ce_time: "},
    {OP_SET, "ce_time", "2026-03-15T20:41:13", "header ce_time: "},
    {OP_SET, "ce_dataschema", "", "header ce_dataschema: must be at least 1"},
    {OP_SET, "content-type", "text/plain", "header content-type: "},
    {OP_SET, "content-type", "application/json; charset=utf-8", "header content-type: "},
    {OP_ADD, "content-type", "application/json", "header content-type: appears more than once"},
    {OP_ADD, "Content-Type", "application/json", "header content-type: appears more than once"},
    {OP_ADD, "ce_id", "zlb-2", "header ce_id: appears more than once"},
    {OP_ADD, "ce_partitionkey", "H1", NULL}, /* accepted: an extension */
    {OP_ADD, "CE_ID", "zlb-2", "header CE_ID: not a CloudEvents attribute header"},
    {OP_ADD, "Ce_traceparent", "x", "header Ce_traceparent: not a CloudEvents attribute header"},
    {OP_ADD, "ce_traceParent", "x", "header ce_traceParent: not a CloudEvents attribute header"},
    {OP_ADD, "ce_", "x", "header ce_: not a CloudEvents attribute header"},
    {OP_ADD, "ce_trace-parent", "x", "header ce_trace-parent: not a CloudEvents attribute"},
    {OP_ADD, "ce_data_base64", "eA==", "header ce_data_base64: not a CloudEvents attribute"},
    {OP_ADD, "ce_abcdefghijklmnopqrstu", "x", "header ce_abcdefghijklmnopqrstu: not a CloudEv"},
    {OP_ADD, "ce_data", "{}", "header ce_data: not an attribute: the message value is the data"},
    {OP_ADD, "ce_datacontenttype", "application/json",
     "header ce_datacontenttype: not an attribute in the Kafka binding"},
    {OP_SET, "ce_source", "app/\xff", "header ce_source: value is not valid UTF-8"},
    {OP_SET, "ce_id", "\xc0\xaf", "header ce_id: value is not valid UTF-8"},
    {OP_SET, "ce_id", "\xed\xa0\x80", "header ce_id: value is not valid UTF-8"},
    {OP_SET, "ce_id", "\xf4\x90\x80\x80", "header ce_id: value is not valid UTF-8"},
    {OP_SET, "ce_id", "\xe6\xb0", "header ce_id: value is not valid UTF-8"},
    {OP_SET, "content-type", "application/\x80json", "header content-type: value is not valid"},
    {OP_NULL, "ce_id", NULL, "header ce_id: no value"},
    {OP_NULL, "content-type", NULL, "header content-type: no value"},
    {OP_VALUE, NULL, "not json", "value: not JSON: "},
    {OP_VALUE, NULL, "", "value: not JSON: "},
    {OP_VALUE, NULL, "{\"need_id\":\"N1\",\"need_id\":\"N2\"}", "value: not JSON: duplicate"},
    {OP_VALUE, NULL, "[1,2]", "value: the data of a binary-mode event must be a JSON object"},
    {OP_VALUE, NULL, "\"text\"", "value: the data of a binary-mode event must be a JSON object"},
    {OP_VALUE, NULL, "12", "value: the data of a binary-mode event must be a JSON object"},
    {OP_VALUE, NULL, "null", "value: the data of a binary-mode event must be a JSON object"},
    {OP_VALUE, NULL, "{}", "data: missing required property 'need_id'"},
    {OP_VALUE, NULL,
     "{\"need_id\":\"N1\",\"channel\":\"fax\",\"category\":\"water\",\"urgent\":true}",
     "data.channel: must be one of"},
    {OP_VALUE, NULL,
     "{\"need_id\":\"N1\",\"channel\":\"self\",\"category\":\"water\",\"urgent\":true,\"x\":1}",
     "data: unexpected property 'x'"},
    {OP_VALUE, NULL,
     "{\"need_id\":\"N1\",\"channel\":\"self\",\"category\":\"water\",\"urgent\":1."
     "00000000000000000001}",
     "value: number 1.00000000000000000001 is not exact"},
    /* A structured event sent with ce_ headers and no cloudevents media
     * type is binary: its envelope is data, and data refuses it. */
    {OP_VALUE, NULL,
     "{\"specversion\":\"1.0\",\"id\":\"n\",\"source\":\"s\",\"type\":\"need.resolved\","
     "\"subject\":\"H3311210042\",\"data\":{\"need_id\":\"N1\"}}",
     "data: "},
    {OP_KEY, NULL, "H3311210043", "key: the Kafka key must be the household id"},
    {OP_KEY, NULL, "", "key: the Kafka key must be the household id"},
    {OP_SET, "content-type", "application/cloudevents-batch+json",
     "header content-type: batched CloudEvents are not supported"},
};

static void test_binary_errors(void **state)
{
        const Fixture *f = *state;
        for (size_t i = 0; i < ELEMENTSOF(binary_bad); i++) {
                Msg m;
                char what[128];
                msg_load(f, "need.reported", &m);
                const char *n = binary_bad[i].name, *v = binary_bad[i].value;
                switch (binary_bad[i].op) {
                case OP_DEL:
                        msg_del(&m, n);
                        break;
                case OP_SET:
                        msg_set(&m, n, v, strlen(v));
                        break;
                case OP_ADD:
                        msg_add(&m, n, v, strlen(v));
                        break;
                case OP_NULL:
                        msg_set(&m, n, NULL, 0);
                        break;
                case OP_VALUE:
                        msg_value(&m, v, strlen(v));
                        break;
                case OP_KEY:
                        snprintf(m.key, sizeof(m.key), "%s", v);
                        break;
                }
                snprintf(what, sizeof(what), "case %zu (%s)", i, n ? n : v);
                if (binary_bad[i].error)
                        msg_expect_reject(f, &m, binary_bad[i].error, what);
                else {
                        Event ev;
                        char err[512];
                        if (msg_decode(f, &m, &ev, err, sizeof(err)) != 0)
                                fail_msg("%s: %s", what, err);
                        event_done(&ev);
                }
                msg_free(&m);
        }

        /* A NUL inside a value, a value with no message value at all. */
        Msg m;
        msg_load(f, "need.reported", &m);
        msg_set(&m, "ce_id", "n\0-1", 4);
        msg_expect_reject(f, &m, "header ce_id: NUL byte in the value", "NUL");
        msg_free(&m);
        msg_load(f, "need.reported", &m);
        msg_value(&m, NULL, 0);
        msg_expect_reject(f, &m, "value: the message has no value (the data of a binary-mode", "");
        msg_free(&m);
        msg_load(f, "need.reported", &m);
        msg_value(&m, "{\"need_id\":\"N\0\"}", 16);
        msg_expect_reject(f, &m, "value: not JSON: NUL byte at offset 13", "NUL in value");
        msg_free(&m);
        /* Money is checked exactly in binary mode too. */
        msg_load(f, "expense.reported", &m);
        const char *three = "{\"category\":\"disability\",\"amount\":2450.805,"
                            "\"incurred_on\":\"2026-03-10\"}";
        msg_value(&m, three, strlen(three));
        msg_expect_reject(f, &m, "data.amount: amount has more than 2 decimals", "money");
        msg_free(&m);
        /* Header names never reach a reason as raw bytes. */
        msg_load(f, "need.reported", &m);
        msg_add(&m, "ce_\n\xff", "x", 1);
        msg_expect_reject(f, &m, "header ce_??: not a CloudEvents attribute header", "raw name");
        msg_free(&m);
}

static void test_binary_limits(void **state)
{
        const Fixture *f = *state;
        Msg m;
        Event ev;
        char err[512], name[64];

        /* EVENT_MAX_HEADERS headers pass; one more does not, in either mode. */
        msg_load(f, "need.reported", &m);
        for (size_t i = m.n; i < EVENT_MAX_HEADERS; i++) {
                snprintf(name, sizeof(name), "x-%zu", i);
                msg_add(&m, name, "v", 1);
        }
        assert_int_equal(msg_decode(f, &m, &ev, err, sizeof(err)), 0);
        event_done(&ev);
        msg_add(&m, "x-last", "v", 1);
        msg_expect_reject(f, &m, "headers: 65 headers, at most 64", "count");
        msg_free(&m);

        /* Name and value sizes. */
        _cleanup_free_ char *big = malloc(EVENT_MAX_HEADER_VALUE + 2);
        assert_non_null(big);
        memset(big, 'a', EVENT_MAX_HEADER_VALUE + 1);
        big[EVENT_MAX_HEADER_VALUE + 1] = '\0';
        msg_load(f, "need.reported", &m);
        msg_add(&m, "x-big", big, EVENT_MAX_HEADER_VALUE);
        assert_int_equal(msg_decode(f, &m, &ev, err, sizeof(err)), 0);
        event_done(&ev);
        msg_set(&m, "x-big", big, EVENT_MAX_HEADER_VALUE + 1);
        msg_expect_reject(f, &m, "header x-big: value of 16385 bytes exceeds 16384", "value");
        msg_free(&m);
        char longname[EVENT_MAX_HEADER_NAME + 2];
        memset(longname, 'n', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        msg_load(f, "need.reported", &m);
        msg_add(&m, longname, "v", 1);
        msg_expect_reject(f, &m, "name of 257 bytes exceeds 256", "name");
        msg_expect_reject(
            f, &m, "header nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...",
            "name label");
        msg_free(&m);

        /* An extension is bounded as in structured mode: the envelope
         * schema allows 256 characters (schemas/cloudevent.json). */
        msg_load(f, "need.reported", &m);
        msg_add(&m, "ce_note", big, 256);
        assert_int_equal(msg_decode(f, &m, &ev, err, sizeof(err)), 0);
        assert_int_equal(json_string_length(json_object_get(ev.root, "note")), 256);
        event_done(&ev);
        msg_set(&m, "ce_note", big, 257);
        msg_expect_reject(f, &m, "ce_note", "ext");
        msg_del(&m, "ce_note");
        msg_set(&m, "ce_id", big, 257);
        msg_expect_reject(f, &m, "header ce_id: must be at most 256", "id");
        msg_free(&m);

        /* Depth: the value is data, at level 2 as in structured mode. */
        _cleanup_free_ char *deep = nested(EVENT_MAX_DEPTH + 1);
        char *data = strstr(deep, "\"data\":") + 7;
        msg_load(f, "need.reported", &m);
        msg_value(&m, data, strlen(data) - 1);
        msg_expect_reject(f, &m, "nested deeper than 32 levels", "depth");
        msg_free(&m);

        /* Size: the value against max_bytes, as in structured mode. */
        EventDecoder *tight = event_decoder_new(f->schemas, 10);
        const Fixture small = {.schemas = f->schemas, .dec = tight, .fixtures = f->fixtures};
        msg_load(f, "need.reported", &m);
        msg_expect_reject(&small, &m, "value: message of", "size");
        msg_free(&m);
        event_decoder_free(tight);
}

/* The content mode: structured when the content type says so or when there
 * are no ce_ headers; binary when there are ce_ headers without it. */
static void test_content_mode(void **state)
{
        const Fixture *f = *state;
        size_t len;
        _cleanup_free_ char *text = slurp(f->fixtures, "need.reported.json", &len);
        Msg m;
        Event ev;
        char err[512];

        static const char *const structured_types[] = {
            "application/cloudevents+json",
            "application/cloudevents+json; charset=UTF-8",
            "Application/CloudEvents+JSON",
            "application/json", /* no ce_ headers: structured */
            "text/plain",
        };
        for (size_t i = 0; i < ELEMENTSOF(structured_types); i++) {
                msg_load(f, "need.reported", &m);
                msg_value(&m, text, len);
                msg_set(&m, "content-type", structured_types[i], strlen(structured_types[i]));
                bool cloudevents =
                    strncasecmp(structured_types[i], "application/cloudevents", 23) == 0;
                if (!cloudevents) /* ce_ headers would make it binary */
                        msg_del_ce(&m);
                else /* ce_ headers are ignored, even wrong ones */
                        msg_set(&m, "ce_id", "other", 5);
                if (msg_decode(f, &m, &ev, err, sizeof(err)) != 0)
                        fail_msg("%s: %s", structured_types[i], err);
                assert_false(ev.binary);
                assert_string_equal(ev.id, "zlb-7c1d2e90-4b1a-4f0e-9a53-0c6d1f2b8e41");
                event_done(&ev);
                msg_free(&m);
        }

        /* No headers at all: structured. */
        memset(&m, 0, sizeof(m));
        msg_value(&m, text, len);
        snprintf(m.key, sizeof(m.key), "H3311210042");
        assert_int_equal(msg_decode(f, &m, &ev, err, sizeof(err)), 0);
        assert_false(ev.binary);
        event_done(&ev);
        msg_free(&m);
        /* A data object without attributes anywhere: neither mode. */
        msg_load(f, "need.reported", &m);
        while (m.n)
                msg_del(&m, m.name[0]);
        msg_expect_reject(f, &m,
                          "not a CloudEvent: the value has no specversion and the message "
                          "has no ce_ headers",
                          "neither");
        msg_add(&m, "content-type", "application/json", 16);
        msg_expect_reject(f, &m, "neither structured nor binary mode", "neither, json");
        /* Declared structured, but no specversion: the envelope says so. */
        msg_set(&m, "content-type", "application/cloudevents+json", 28);
        msg_expect_reject(f, &m, "not a CloudEvent: missing required property", "declared");
        msg_free(&m);
        /* A binary message without content-type: datacontenttype absent. */
        msg_load(f, "need.reported", &m);
        msg_del(&m, "content-type");
        assert_int_equal(msg_decode(f, &m, &ev, err, sizeof(err)), 0);
        assert_true(ev.binary);
        assert_null(json_object_get(ev.root, "datacontenttype"));
        event_done(&ev);
        msg_free(&m);
}

/* The same source + id is one event whichever the mode: the dedup key. */
static void test_binary_dedup(void **state)
{
        const Fixture *f = *state;
        size_t len;
        _cleanup_free_ char *text = slurp(f->fixtures, "civil.relief.paid.json", &len);
        Msg m;
        Event b, s;
        char err[512];
        msg_load(f, "civil.relief.paid", &m);
        /* Other optional attributes and another time: still the same pair. */
        msg_del(&m, "ce_time");
        msg_add(&m, "ce_partitionkey", "H3311210001", 11);
        assert_int_equal(msg_decode(f, &m, &b, err, sizeof(err)), 0);
        assert_int_equal(event_decode(f->dec, "H3311210001", 11, text, len, &s, err, sizeof(err)),
                         0);
        assert_true(event_dedup_hash(b.source, b.id) == event_dedup_hash(s.source, s.id));
        assert_true(event_dedup_hash(b.source, b.id) ==
                    event_dedup_hash("civil-affairs/qingtian", "mz-000131"));
        event_done(&b);
        event_done(&s);
        msg_free(&m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_valid_fixtures),
            cmocka_unit_test(test_invalid_fixtures),
            cmocka_unit_test(test_key_and_payload),
            cmocka_unit_test(test_malformed),
            cmocka_unit_test(test_limits),
            cmocka_unit_test(test_money_fields),
            cmocka_unit_test(test_member_ids_unique),
            cmocka_unit_test(test_household_id),
            cmocka_unit_test(test_dates),
            cmocka_unit_test(test_dedup_hash),
            cmocka_unit_test(test_type_names),
            cmocka_unit_test(test_binary_fixtures),
            cmocka_unit_test(test_binary_errors),
            cmocka_unit_test(test_binary_limits),
            cmocka_unit_test(test_content_mode),
            cmocka_unit_test(test_binary_dedup),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
