/* Conformance run of the schema validator over the official JSON Schema
 * Test Suite (Debian package json-schema-test-suite, a declared dependency).
 *
 * The package has no draft2020-12 directory, so the draft7 tests are used:
 * each group's schema is rewritten ("definitions" -> "$defs", and its $refs)
 * and then compiled. A group is skipped, with its reason printed, when the
 * schema does not compile (a keyword outside the subset, array-form items,
 * remote refs...) or when it relies on draft-7-only semantics that still
 * compile: a $ref with sibling assertions (ignored in draft 7, applied in
 * 2020-12). Every case of every other group must pass. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "macro.h"
#include "schema.h"

#define SUITE_DIR "/usr/share/json-schema-test-suite/tests/draft7"
#define MAX_FILES 128

DEFINE_TRIVIAL_CLEANUP_FUNC(Schema *, schema_free)
#define _cleanup_schema_ _cleanup_(schema_freep)

/* The suite directory; SCHEMA_SUITE_DIR overrides it (to test the message
 * for a missing suite, or to run a newer checkout). */
static const char *suite_dir(void)
{
        const char *d = getenv("SCHEMA_SUITE_DIR");

        return d && *d ? d : SUITE_DIR;
}

/* Keywords whose value is a schema, an array of schemas, or an object of
 * schemas, in draft 7 (positions where "definitions" means $defs). */
static const char *const schema_keywords[] = {
    "items", "additionalItems", "additionalProperties", "not", "if", "then",
    "else",  "contains",        "propertyNames",
};
static const char *const array_keywords[] = {"allOf", "anyOf", "oneOf", "items"};
static const char *const map_keywords[] = {"properties", "patternProperties", "definitions",
                                           "$defs", "dependencies"};

static bool in_list(const char *key, const char *const *list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (streq(key, list[i]))
                        return true;
        return false;
}

/* Keywords that, next to a $ref, change nothing in either draft. */
static bool is_inert(const char *key)
{
        static const char *const inert[] = {"$ref",     "definitions", "$defs",
                                            "title",    "default",     "description",
                                            "$comment", "examples",    "$schema"};

        return in_list(key, inert, ELEMENTSOF(inert));
}

/* Rewrites the draft-7 schema v in place for 2020-12: "definitions" becomes
 * "$defs" (in schema positions only, not as a property name) and "$ref"s
 * starting "#/definitions/" follow. Returns NULL, or why the schema needs
 * draft-7 semantics (and so must be skipped). */
static const char *translate(json_t *v, unsigned depth)
{
        const char *why = NULL;
        json_t *defs, *ref;

        if (!json_is_object(v))
                return NULL;
        if (depth > 100)
                return "nested too deeply to translate";
        ref = json_object_get(v, "$ref");
        if (json_is_string(ref)) {
                const char *s = json_string_value(ref);
                const char *key;
                json_t *val;

                if (strncmp(s, "#/definitions/", 14) == 0) {
                        char buf[512];

                        snprintf(buf, sizeof(buf), "#/$defs/%s", s + 14);
                        json_string_set(ref, buf);
                }
                json_object_foreach (v, key, val)
                        if (!is_inert(key))
                                return "$ref with sibling keywords (ignored in draft 7)";
        }
        for (size_t i = 0; i < ELEMENTSOF(schema_keywords) && !why; i++) {
                json_t *c = json_object_get(v, schema_keywords[i]);

                if (json_is_object(c))
                        why = translate(c, depth + 1);
        }
        for (size_t i = 0; i < ELEMENTSOF(array_keywords) && !why; i++) {
                json_t *a = json_object_get(v, array_keywords[i]), *c;
                size_t k;

                if (json_is_array(a))
                        json_array_foreach (a, k, c)
                                if (!why)
                                        why = translate(c, depth + 1);
        }
        for (size_t i = 0; i < ELEMENTSOF(map_keywords) && !why; i++) {
                json_t *m = json_object_get(v, map_keywords[i]), *c;
                const char *k;

                if (json_is_object(m))
                        json_object_foreach (m, k, c)
                                if (!why)
                                        why = translate(c, depth + 1);
        }
        defs = json_object_get(v, "definitions");
        if (!why && defs) {
                if (json_object_get(v, "$defs"))
                        return "both definitions and $defs";
                json_object_set(v, "$defs", defs);
                json_object_del(v, "definitions");
        }
        return why;
}

typedef struct Row {
        char name[64];
        size_t passed, total, skipped;
} Row;

typedef struct Run {
        Row rows[MAX_FILES];
        size_t n_rows, failed;
        char skips[16384]; /* "# skipped ..." lines, printed after the table */
        size_t skips_len;
} Run;

_printf_(2, 3) static void add_skip(Run *run, const char *fmt, ...)
{
        va_list ap;
        int r;

        if (run->skips_len >= sizeof(run->skips))
                return;
        va_start(ap, fmt);
        r = vsnprintf(run->skips + run->skips_len, sizeof(run->skips) - run->skips_len, fmt, ap);
        va_end(ap);
        if (r > 0)
                run->skips_len += (size_t)r;
        if (run->skips_len >= sizeof(run->skips))
                run->skips_len = sizeof(run->skips) - 1;
}

/* Runs one suite file into a new row; mismatches are printed and counted in
 * run->failed. */
static void run_file(Run *run, const char *path, const char *name)
{
        json_error_t jerr;
        json_auto_t *groups = json_load_file(path, 0, &jerr);
        Row *row;
        json_t *group;
        size_t gi;

        assert_true(run->n_rows < MAX_FILES);
        row = &run->rows[run->n_rows++];
        snprintf(row->name, sizeof(row->name), "%s", name);
        if (!json_is_array(groups)) {
                print_error("%s:%d:%d: %s\n", path, jerr.line, jerr.column,
                            groups ? "not an array of groups" : jerr.text);
                run->failed++;
                return;
        }
        json_array_foreach (groups, gi, group) {
                const char *desc = json_string_value(json_object_get(group, "description"));
                json_t *tests = json_object_get(group, "tests"), *t;
                json_auto_t *schema = json_deep_copy(json_object_get(group, "schema"));
                _cleanup_schema_ Schema *s = NULL;
                char err[512] = "";
                const char *why;
                size_t ti;

                assert_non_null(desc);
                assert_true(json_is_array(tests));
                why = schema ? translate(schema, 0) : "no schema";
                if (!why) {
                        s = schema_compile(schema, err, sizeof(err));
                        why = s ? NULL : err;
                }
                if (why) {
                        row->skipped += json_array_size(tests);
                        add_skip(run, "#   %s: \"%s\": %s\n", name, desc, why);
                        continue;
                }
                json_array_foreach (tests, ti, t) {
                        const char *tdesc = json_string_value(json_object_get(t, "description"));
                        bool valid = json_is_true(json_object_get(t, "valid"));
                        int r = schema_validate(s, json_object_get(t, "data"), "data", err,
                                                sizeof(err));

                        row->total++;
                        if ((r == 0) == valid) {
                                row->passed++;
                                continue;
                        }
                        run->failed++;
                        print_error("FAIL %s: \"%s\" / \"%s\": expected %s, got %s%s\n", name, desc,
                                    tdesc ? tdesc : "?", valid ? "valid" : "invalid",
                                    r == 0 ? "valid" : "invalid: ", r == 0 ? "" : err);
                }
        }
}

static int json_name_filter(const struct dirent *de)
{
        size_t len = strlen(de->d_name);

        return len > 5 && streq(de->d_name + len - 5, ".json");
}

static void test_suite_present(void **state)
{
        struct stat st;

        (void)state;
        if (stat(suite_dir(), &st) < 0 || !S_ISDIR(st.st_mode))
                fail_msg("JSON Schema Test Suite not found at %s: install the Debian package "
                         "json-schema-test-suite (a declared dependency: make deps)",
                         suite_dir());
}

static void test_conformance(void **state)
{
        static const char *const formats[] = {"date", "date-time"};
        _cleanup_free_ Run *run = NULL;
        struct dirent **names = NULL;
        size_t sum_passed = 0, sum_total = 0, sum_skipped = 0, failed;
        char path[1024];
        int n;

        (void)state;
        /* fail_msg() longjmps past cleanups: fail before allocating. */
        n = scandir(suite_dir(), &names, json_name_filter, alphasort);
        if (n < 0)
                fail_msg("%s: %s: install json-schema-test-suite", suite_dir(), strerror(errno));
        if (n == 0)
                fail_msg("%s holds no test files", suite_dir());
        run = calloc(1, sizeof(Run));
        assert_non_null(run);
        for (int i = 0; i < n; i++) {
                char name[64];

                snprintf(path, sizeof(path), "%s/%s", suite_dir(), names[i]->d_name);
                snprintf(name, sizeof(name), "%.*s", (int)strlen(names[i]->d_name) - 5,
                         names[i]->d_name);
                run_file(run, path, name);
                free(names[i]);
        }
        free(names);
        for (size_t i = 0; i < ELEMENTSOF(formats); i++) {
                char name[64];
                struct stat st;

                snprintf(path, sizeof(path), "%s/optional/format/%s.json", suite_dir(), formats[i]);
                snprintf(name, sizeof(name), "format/%s", formats[i]);
                if (stat(path, &st) == 0)
                        run_file(run, path, name);
        }

        printf("# %-24s %13s %9s\n", "keyword", "passed/total", "skipped");
        for (size_t i = 0; i < run->n_rows; i++) {
                const Row *r = &run->rows[i];
                char pt[32];

                snprintf(pt, sizeof(pt), "%zu/%zu", r->passed, r->total);
                printf("# %-24s %13s %9zu\n", r->name, pt, r->skipped);
                sum_passed += r->passed;
                sum_total += r->total;
                sum_skipped += r->skipped;
        }
        {
                char pt[32];

                snprintf(pt, sizeof(pt), "%zu/%zu", sum_passed, sum_total);
                printf("# %-24s %13s %9zu\n", "total", pt, sum_skipped);
        }
        printf("# skipped groups (schema refused, or draft-7-only semantics):\n%.*s",
               (int)run->skips_len, run->skips);
        fflush(stdout);
        failed = run->failed;
        free(TAKE_PTR(run));
        if (failed > 0)
                fail_msg("%zu conformance cases failed (listed above)", failed);
        if (sum_total == 0)
                fail_msg("no conformance case ran");
}

/* The rewriting itself: schema positions only, and $ref siblings spotted. */
static void test_translate(void **state)
{
        static const struct {
                const char *in, *out, *why;
        } t[] = {
            {"{\"definitions\":{\"a\":{\"$ref\":\"#/definitions/b\"},\"b\":{}},"
             "\"properties\":{\"definitions\":{\"$ref\":\"#/definitions/a\"}}}",
             "{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{}},"
             "\"properties\":{\"definitions\":{\"$ref\":\"#/$defs/a\"}}}",
             NULL},
            {"{\"allOf\":[{\"definitions\":{}}],\"items\":[{\"definitions\":{}}]}",
             "{\"allOf\":[{\"$defs\":{}}],\"items\":[{\"$defs\":{}}]}", NULL},
            {"{\"const\":{\"definitions\":1,\"$ref\":\"#/definitions/x\",\"type\":1}}",
             "{\"const\":{\"definitions\":1,\"$ref\":\"#/definitions/x\",\"type\":1}}", NULL},
            {"{\"$ref\":\"#/definitions/a\",\"definitions\":{\"a\":{}},\"title\":\"t\"}",
             "{\"$ref\":\"#/$defs/a\",\"$defs\":{\"a\":{}},\"title\":\"t\"}", NULL},
            {"{\"properties\":{\"a\":{\"$ref\":\"#\",\"maxItems\":2}}}", NULL,
             "$ref with sibling keywords (ignored in draft 7)"},
            {"{\"definitions\":{},\"$defs\":{}}", NULL, "both definitions and $defs"},
        };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                json_auto_t *v = json_loads(t[i].in, 0, NULL);
                const char *why;

                assert_non_null(v);
                why = translate(v, 0);
                if (t[i].why) {
                        assert_non_null(why);
                        assert_string_equal(why, t[i].why);
                } else {
                        json_auto_t *want = json_loads(t[i].out, 0, NULL);

                        assert_null(why);
                        assert_non_null(want);
                        if (!json_equal(v, want)) {
                                _cleanup_free_ char *got = json_dumps(v, JSON_COMPACT);

                                fail_msg("case %zu: got %s", i, got);
                        }
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_translate),
            cmocka_unit_test(test_suite_present),
            cmocka_unit_test(test_conformance),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
