/* Unit tests of the event decoder on structured events (RELIABILITY.md F25). */
/* Every valid fixture decodes to the right type, subject and date; every
 * invalid fixture is refused with a reason naming its field; the key, size,
 * depth, string, duplicate-key and UTF-8 limits; household ids, dates and
 * the dedup hash. The binary content mode is in test_event_binary.c, the
 * fixture in event_fixture.h. */
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

#include "event.h"
#include "fsutil.h"
#include "macro.h"

#include "event_fixture.h"

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
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
