/* Unit tests of the JSON Schema validator: each keyword valid and invalid,
 * the exact error messages and paths, refusals at compile time, the date
 * formats, the bounds, and loading a directory of schemas. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "schema.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(Schema *, schema_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(SchemaSet *, schema_set_free)
#define _cleanup_schema_ _cleanup_(schema_freep)
#define _cleanup_schema_set_ _cleanup_(schema_set_freep)

static json_t *parse(const char *text)
{
        json_error_t e;
        json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

        if (!v)
                fail_msg("test JSON does not parse: %s: %s", text, e.text);
        return v;
}

static Schema *compile_text(const char *text, char *err, size_t errlen)
{
        json_auto_t *doc = parse(text);

        return schema_compile(doc, err, errlen);
}

/* A schema, an instance, and NULL when valid or the exact first error (with
 * root "data") when not. */
typedef struct Case {
        const char *schema;
        const char *instance;
        const char *error;
} Case;

static const Case cases[] = {
    /* type */
    {"{\"type\":\"string\"}", "\"x\"", NULL},
    {"{\"type\":\"string\"}", "1", "data: must be string, not integer"},
    {"{\"type\":\"integer\"}", "1", NULL},
    {"{\"type\":\"integer\"}", "1.0", NULL},
    {"{\"type\":\"integer\"}", "-0.0", NULL},
    {"{\"type\":\"integer\"}", "1.5", "data: must be integer, not number"},
    {"{\"type\":\"number\"}", "1", NULL},
    {"{\"type\":\"number\"}", "\"1\"", "data: must be number, not string"},
    {"{\"type\":\"boolean\"}", "false", NULL},
    {"{\"type\":\"null\"}", "0", "data: must be null, not integer"},
    {"{\"type\":\"object\"}", "[]", "data: must be object, not array"},
    {"{\"type\":\"array\"}", "{}", "data: must be array, not object"},
    {"{\"type\":[\"string\",\"null\"]}", "null", NULL},
    {"{\"type\":[\"string\",\"null\"]}", "true", "data: must be null or string, not boolean"},
    {"{\"type\":[\"string\",\"integer\",\"null\"]}", "{}",
     "data: must be null, integer or string, not object"},
    /* enum, const */
    {"{\"enum\":[\"full\",\"partial\",\"none\"]}", "\"none\"", NULL},
    {"{\"enum\":[\"full\",\"partial\",\"none\"]}", "\"half\"",
     "data: must be one of full, partial, none"},
    {"{\"enum\":[1,\"a\",null]}", "1.0", NULL},
    {"{\"enum\":[1,\"a\",null]}", "false", "data: must be one of 1, a, null"},
    {"{\"enum\":[[1,{\"a\":2}]]}", "[1.0,{\"a\":2.0}]", NULL},
    {"{\"const\":{\"a\":[1,2],\"b\":null}}", "{\"b\":null,\"a\":[1.0,2]}", NULL},
    {"{\"const\":{\"a\":[1,2]}}", "{\"a\":[1,3]}", "data: must equal {\"a\":[1,2]}"},
    {"{\"const\":{\"a\":[1,2]}}", "{\"a\":[1,2],\"b\":1}", "data: must equal {\"a\":[1,2]}"},
    {"{\"const\":\"1.0\"}", "\"1.0\"", NULL},
    {"{\"const\":\"1.0\"}", "1.0", "data: must equal \"1.0\""},
    {"{\"const\":false}", "0", "data: must equal false"},
    {"{\"const\":9007199254740993}", "9007199254740992.0", "data: must equal 9007199254740993"},
    /* numbers */
    {"{\"minimum\":0}", "0", NULL},
    {"{\"minimum\":0}", "-0.5", "data: must be >= 0"},
    {"{\"minimum\":1.5}", "1", "data: must be >= 1.5"},
    {"{\"maximum\":10}", "10.0", NULL},
    {"{\"maximum\":10}", "10.01", "data: must be <= 10"},
    {"{\"exclusiveMinimum\":0}", "0.001", NULL},
    {"{\"exclusiveMinimum\":0}", "0", "data: must be > 0"},
    {"{\"exclusiveMaximum\":5}", "4", NULL},
    {"{\"exclusiveMaximum\":5}", "5.0", "data: must be < 5"},
    {"{\"minimum\":0}", "\"-1\"", NULL},
    {"{\"multipleOf\":0.01}", "19.99", NULL},
    {"{\"multipleOf\":0.01}", "1234567.89", NULL},
    {"{\"multipleOf\":0.01}", "7", NULL},
    {"{\"multipleOf\":0.01}", "19.999", "data: must be a multiple of 0.01"},
    {"{\"multipleOf\":3}", "9", NULL},
    {"{\"multipleOf\":3}", "10", "data: must be a multiple of 3"},
    {"{\"multipleOf\":2}", "4.0", NULL},
    {"{\"multipleOf\":0.123456789}", "1e308", "data: must be a multiple of 0.123456789"},
    /* strings: lengths count code points */
    {"{\"minLength\":2,\"maxLength\":2}", "\"张三\"", NULL},
    {"{\"maxLength\":2}", "\"张三丰\"", "data: must be at most 2 characters long"},
    {"{\"minLength\":3}", "\"ab\"", "data: must be at least 3 characters long"},
    {"{\"maxLength\":0}", "3", NULL},
    /* pattern: ECMA subset, unanchored */
    {"{\"pattern\":\"a+\"}", "\"xxaayy\"", NULL},
    {"{\"pattern\":\"^[A-Za-z0-9_-]{1,64}$\"}", "\"H3311210001\"", NULL},
    {"{\"pattern\":\"^[A-Za-z0-9_-]{1,64}$\"}", "\"H33 1\"",
     "data: must match the pattern '^[A-Za-z0-9_-]{1,64}$'"},
    {"{\"pattern\":\"^\\\\d{4}-\\\\d{2}$\"}", "\"2026-03\"", NULL},
    {"{\"pattern\":\"^\\\\d+$\"}", "\"12a\"", "data: must match the pattern '^\\\\d+$'"},
    {"{\"pattern\":\"^\\\\w+$\"}", "\"a_1\"", NULL},
    {"{\"pattern\":\"^\\\\w+$\"}", "\"é\"", "data: must match the pattern '^\\\\w+$'"},
    {"{\"pattern\":\"^\\\\S+\\\\s\\\\S+$\"}", "\"张\\u3000三\"", NULL},
    {"{\"pattern\":\"^\\\\D\\\\W$\"}", "\"a!\"", NULL},
    {"{\"pattern\":\"^.{2}$\"}", "\"张三\"", NULL},
    {"{\"pattern\":\"^.$\"}", "\"\\n\"", "data: must match the pattern '^.$'"},
    {"{\"pattern\":\"^[\\\\u4e00-\\\\u9fa5]{2,4}$\"}", "\"张三丰\"", NULL},
    {"{\"pattern\":\"^[\\\\u4e00-\\\\u9fa5]{2,4}$\"}", "\"ab\"",
     "data: must match the pattern '^[\\\\u4e00-\\\\u9fa5]{2,4}$'"},
    {"{\"pattern\":\"^[^a-z]{1}$\"}", "\"日\"", NULL},
    {"{\"pattern\":\"^[^a-z]$\"}", "\"a\"", "data: must match the pattern '^[^a-z]$'"},
    {"{\"pattern\":\"^张+$\"}", "\"张张\"", NULL},
    {"{\"pattern\":\"^(?:ab)+?$\"}", "\"abab\"", NULL},
    {"{\"pattern\":\"^a*?$\"}", "\"aab\"", "data: must match the pattern '^a*?$'"},
    {"{\"pattern\":\"^[\\\\]\\\\-^\\\\\\\\.]+$\"}", "\"]-^\\\\.\"", NULL},
    {"{\"pattern\":\"^[-^]$\"}", "\"^\"", NULL},
    {"{\"pattern\":\"^a{$\"}", "\"a{\"", NULL},
    {"{\"pattern\":\"^\\\\x41\\\\u0042\\\\uD83D\\\\uDE00$\"}", "\"AB😀\"", NULL},
    {"{\"pattern\":\"^[😀-😂]$\"}", "\"😁\"", NULL},
    {"{\"pattern\":\"^(a|b|)$\"}", "\"\"", NULL},
    {"{\"pattern\":\"^[^]$\"}", "\"\\n\"", NULL},
    {"{\"pattern\":\"x\"}", "12", NULL},
    /* formats are assertions */
    {"{\"format\":\"date\"}", "\"2024-02-29\"", NULL},
    {"{\"format\":\"date\"}", "\"2023-02-29\"", "data: must be a date (YYYY-MM-DD)"},
    {"{\"format\":\"date-time\"}", "\"2026-03-02T08:00:00+08:00\"", NULL},
    {"{\"format\":\"date-time\"}", "\"2026-03-02T08:00:00\"",
     "data: must be an RFC 3339 date-time with an offset (YYYY-MM-DDThh:mm:ss+08:00)"},
    {"{\"format\":\"date\"}", "20240229", NULL},
    /* arrays */
    {"{\"items\":{\"type\":\"integer\"}}", "[1,2,3.0]", NULL},
    {"{\"items\":{\"type\":\"integer\"}}", "[1,\"2\"]", "data[1]: must be integer, not string"},
    {"{\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "[\"a\",1,null]", NULL},
    {"{\"prefixItems\":[{\"type\":\"string\"}],\"items\":{\"type\":\"integer\"}}",
     "[\"a\",1,\"b\"]", "data[2]: must be integer, not string"},
    {"{\"prefixItems\":[{\"type\":\"string\"}],\"items\":false}", "[\"a\",1]",
     "data[1]: no value is allowed here"},
    {"{\"minItems\":1}", "[]", "data: must have at least 1 items"},
    {"{\"maxItems\":1}", "[1,2]", "data: must have at most 1 items"},
    {"{\"uniqueItems\":true}", "[1,\"1\",[1],{\"a\":1}]", NULL},
    {"{\"uniqueItems\":true}", "[1,2,1.0]", "data: must not contain duplicate items ([0] and [2])"},
    {"{\"uniqueItems\":true}", "[{\"a\":1,\"b\":2},{\"b\":2,\"a\":1}]",
     "data: must not contain duplicate items ([0] and [1])"},
    {"{\"uniqueItems\":false}", "[1,1]", NULL},
    /* objects */
    {"{\"required\":[\"amount\"]}", "{\"amount\":1}", NULL},
    {"{\"required\":[\"amount\"]}", "{\"amnt\":1}", "data: missing required property 'amount'"},
    {"{\"required\":[\"a\"]}", "[]", NULL},
    {"{\"properties\":{\"a\":{\"type\":\"string\"}}}", "{\"a\":\"x\",\"b\":1}", NULL},
    {"{\"properties\":{\"a\":{\"type\":\"string\"}}}", "{\"a\":1}",
     "data.a: must be string, not integer"},
    {"{\"properties\":{\"a\":{}},\"additionalProperties\":false}", "{\"a\":1,\"b\":2}",
     "data: unexpected property 'b'"},
    {"{\"additionalProperties\":{\"type\":\"string\"}}", "{\"a b\":1}",
     "data[\"a b\"]: must be string, not integer"},
    {"{\"patternProperties\":{\"^x_\":{\"type\":\"integer\"}},\"additionalProperties\":false}",
     "{\"x_a\":1}", NULL},
    {"{\"patternProperties\":{\"^x_\":{\"type\":\"integer\"}},\"additionalProperties\":false}",
     "{\"x_a\":\"1\"}", "data.x_a: must be integer, not string"},
    {"{\"patternProperties\":{\"^x_\":{\"type\":\"integer\"}},\"additionalProperties\":false}",
     "{\"y\":1}", "data: unexpected property 'y'"},
    {"{\"properties\":{\"a\":false}}", "{\"a\":1}", "data.a: no value is allowed here"},
    {"{\"minProperties\":1}", "{}", "data: must have at least 1 properties"},
    {"{\"maxProperties\":1}", "{\"a\":1,\"b\":2}", "data: must have at most 1 properties"},
    /* applicators */
    {"{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}", "3", NULL},
    {"{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}", "1", "data: must be >= 2"},
    {"{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":2}]}", "3", NULL},
    {"{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":2}]}", "1",
     "data: must match at least one schema of anyOf"},
    {"{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}", "1", NULL},
    {"{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}", "3",
     "data: must match exactly one schema of oneOf (matches [0] and [1])"},
    {"{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}", "2.5", NULL},
    {"{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}", "1",
     "data: must match exactly one schema of oneOf (matches none)"},
    {"{\"not\":{\"type\":\"null\"}}", "1", NULL},
    {"{\"not\":{\"type\":\"null\"}}", "null", "data: must not match the schema of not"},
    {"{\"if\":{\"properties\":{\"kind\":{\"const\":\"a\"}}},"
     "\"then\":{\"required\":[\"x\"]},\"else\":{\"required\":[\"y\"]}}",
     "{\"kind\":\"a\",\"x\":1}", NULL},
    {"{\"if\":{\"properties\":{\"kind\":{\"const\":\"a\"}}},"
     "\"then\":{\"required\":[\"x\"]},\"else\":{\"required\":[\"y\"]}}",
     "{\"kind\":\"a\",\"y\":1}", "data: missing required property 'x'"},
    {"{\"if\":{\"properties\":{\"kind\":{\"const\":\"a\"}}},"
     "\"then\":{\"required\":[\"x\"]},\"else\":{\"required\":[\"y\"]}}",
     "{\"kind\":\"b\",\"x\":1}", "data: missing required property 'y'"},
    {"{\"then\":false}", "1", NULL},
    /* boolean schemas */
    {"true", "{\"anything\":[1]}", NULL},
    {"false", "1", "data: no value is allowed here"},
    /* $ref and $defs */
    {"{\"$defs\":{\"pos\":{\"minimum\":0}},\"properties\":{\"a\":{\"$ref\":\"#/$defs/pos\"}}}",
     "{\"a\":-1}", "data.a: must be >= 0"},
    {"{\"$defs\":{\"a/b\":{\"type\":\"string\"},\"c~d\":{\"type\":\"null\"},"
     "\"e%f\":{\"type\":\"integer\"}},\"prefixItems\":[{\"$ref\":\"#/$defs/a~1b\"},"
     "{\"$ref\":\"#/$defs/c~0d\"},{\"$ref\":\"#/$defs/e%25f\"}]}",
     "[\"x\",null,\"3\"]", "data[2]: must be integer, not string"},
    {"{\"$defs\":{\"o\":{\"$defs\":{\"i\":{\"const\":1}}}},\"$ref\":\"#/$defs/o/$defs/i\"}", "2",
     "data: must equal 1"},
    {"{\"properties\":{\"next\":{\"$ref\":\"#\"},\"v\":{\"type\":\"integer\"}}}",
     "{\"next\":{\"next\":{\"v\":\"x\"}}}", "data.next.next.v: must be integer, not string"},
    {"{\"$ref\":\"#/$defs/a\",\"maxItems\":1,\"$defs\":{\"a\":{\"type\":\"array\"}}}", "[1,2]",
     "data: must have at most 1 items"},
    /* annotations are accepted and ignored */
    {"{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"https://x/y\","
     "\"title\":\"t\",\"description\":\"d\",\"$comment\":\"c\",\"examples\":[1],"
     "\"default\":{\"x\":1}}",
     "1", NULL},
};

static void test_keywords(void **state)
{
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const Case *t = &cases[i];
                char err[512] = "";
                _cleanup_schema_ Schema *s = compile_text(t->schema, err, sizeof(err));
                json_auto_t *v = parse(t->instance);
                int r;

                if (!s)
                        fail_msg("case %zu: %s does not compile: %s", i, t->schema, err);
                r = schema_validate(s, v, "data", err, sizeof(err));
                if (!t->error && r != 0)
                        fail_msg("case %zu: %s on %s: expected valid, got %d \"%s\"", i, t->schema,
                                 t->instance, r, err);
                if (t->error && (r != -EINVAL || !streq(err, t->error)))
                        fail_msg("case %zu: %s on %s: expected \"%s\", got %d \"%s\"", i, t->schema,
                                 t->instance, t->error, r, err);
        }
}

static const char household_schema[] =
    "{\"type\":\"object\",\"required\":[\"members\",\"amount\"],"
    " \"properties\":{\"members\":{\"type\":\"array\",\"minItems\":1,\"items\":"
    "  {\"type\":\"object\",\"required\":[\"id\",\"labor\"],\"properties\":{"
    "   \"id\":{\"type\":\"string\"},"
    "   \"labor\":{\"enum\":[\"full\",\"partial\",\"none\"]}}}},"
    "  \"amount\":{\"type\":\"number\",\"minimum\":0,\"multipleOf\":0.01}}}";

static void test_error_paths(void **state)
{
        static const struct {
                const char *instance;
                const char *root;
                const char *error;
        } t[] = {
            {"{\"members\":[{\"id\":\"m1\",\"labor\":\"full\"},{\"id\":\"m2\",\"labor\":\"half\"}],"
             "\"amount\":1}",
             "data", "data.members[1].labor: must be one of full, partial, none"},
            {"{\"members\":[{\"id\":\"m1\",\"labor\":\"full\"}]}", "data",
             "data: missing required property 'amount'"},
            {"{\"members\":[{\"labor\":\"full\"}],\"amount\":1}", "",
             "members[0]: missing required property 'id'"},
            {"{\"members\":[],\"amount\":1}", NULL, "members: must have at least 1 items"},
            {"[]", "", "must be object, not array"},
            {"{\"members\":[{\"id\":\"m1\",\"labor\":\"full\"}],\"amount\":-1}", "event.data",
             "event.data.amount: must be >= 0"},
            {"{\"members\":[{\"id\":\"m1\",\"labor\":\"none\"}],\"amount\":0.015}", "data",
             "data.amount: must be a multiple of 0.01"},
        };
        _cleanup_schema_ Schema *s = NULL;
        char err[256];

        (void)state;
        s = compile_text(household_schema, err, sizeof(err));
        assert_non_null(s);
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                json_auto_t *v = parse(t[i].instance);

                assert_int_equal(schema_validate(s, v, t[i].root, err, sizeof(err)), -EINVAL);
                assert_string_equal(err, t[i].error);
        }
}

/* Keys that are not plain names are quoted; control characters escaped. */
static void test_error_quoting(void **state)
{
        _cleanup_schema_ Schema *s = NULL;
        json_auto_t *v = json_object();
        char err[256];

        (void)state;
        s = compile_text("{\"additionalProperties\":{\"type\":\"string\"}}", err, sizeof(err));
        assert_non_null(s);
        json_object_set_new(v, "a\"\n.", json_integer(1));
        assert_int_equal(schema_validate(s, v, "data", err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "data[\"a\\\"\\u000a.\"]: must be string, not integer");

        s = schema_free(s);
        s = compile_text("{\"additionalProperties\":false}", err, sizeof(err));
        assert_non_null(s);
        assert_int_equal(schema_validate(s, v, "data", err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "data: unexpected property 'a\"\\u000a.'");
}

/* Pattern answers are remembered per (pattern, string): asking again gives
 * the same answer, two patterns never share one, and a schema compiled
 * after another is freed (its pattern perhaps at the same address) gets
 * answers of its own. */
static void test_pattern_memo(void **state)
{
        static const struct {
                const char *schema, *value;
                bool valid;
        } t[] = {
            {"{\"pattern\":\"^a$\"}", "\"a\"", true},
            {"{\"pattern\":\"^b$\"}", "\"a\"", false},
            {"{\"pattern\":\"^a$\"}", "\"b\"", false},
            {"{\"patternProperties\":{\"^x\":{\"type\":\"string\"}}}", "{\"xy\":1}", false},
            {"{\"patternProperties\":{\"^y\":{\"type\":\"string\"}}}", "{\"xy\":1}", true},
            {"{\"patternProperties\":{\"^x\":{\"type\":\"string\"}}}", "{\"xy\":\"s\"}", true},
            /* Longer than what is remembered: asked every time. */
            {"{\"pattern\":\"^a+$\"}", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", true},
            {"{\"pattern\":\"^a+$\"}", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\"", false},
        };
        char err[256];

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_schema_ Schema *s = compile_text(t[i].schema, err, sizeof(err));
                json_auto_t *v = parse(t[i].value);
                assert_non_null(s);
                for (int k = 0; k < 3; k++)
                        assert_int_equal(schema_validate(s, v, "data", err, sizeof(err)),
                                         t[i].valid ? 0 : -EINVAL);
        }
}

/* A pattern of the form ^[class]{m,n}$ is answered by a table (the
 * schemas' ids), not by regexec: the same verdicts as the same pattern in
 * a group, which regexec answers, on strings at and around its edges. */
static void test_pattern_run(void **state)
{
        static const char *const patterns[] = {
            "^[A-Za-z0-9_-]{1,64}$", "^[a-z]{2,3}$", "^[-0-9]+$",  "^[a_]*$",    "^[0-9]{4}$",
            "^[A-Z0-9-]{0,2}$",      "^[x]$",        "^[a-]{1,}$", "^[z-a]{1}$",
        };
        static const char *const values[] = {
            "",    "a",   "ab",  "abc",   "abcd", "A",           "-",     "_",          "0123",
            "012", "a-b", "a b", "a\\nb", "é",    "H3311210001", "aa\\n", "\\n",        "--",
            "ZZ-", "x",   "xx",  "a_",    "z",    "[",           "a]",    "0-1-2-3-4-5"};
        char err[256], text[96];

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(patterns); i++) {
                /* The group makes regexec answer: not of the table's form. */
                snprintf(text, sizeof(text), "{\"pattern\":\"%s\"}", patterns[i]);
                _cleanup_schema_ Schema *run = compile_text(text, err, sizeof(err));
                snprintf(text, sizeof(text), "{\"pattern\":\"(%s)\"}", patterns[i]);
                _cleanup_schema_ Schema *re = compile_text(text, err, sizeof(err));
                if (!run || !re) {
                        /* A pattern regcomp refuses is refused either way. */
                        assert_true(!run && !re);
                        continue;
                }
                for (size_t k = 0; k < ELEMENTSOF(values); k++) {
                        snprintf(text, sizeof(text), "\"%s\"", values[k]);
                        json_auto_t *v = parse(text);
                        int a = schema_validate(run, v, "data", err, sizeof(err));
                        int b = schema_validate(re, v, "data", err, sizeof(err));
                        if (a != b)
                                fail_msg("pattern %s on %s: table %d, regexec %d", patterns[i],
                                         text, a, b);
                }
        }
        /* The schemas' id pattern, to its bound. */
        _cleanup_schema_ Schema *id =
            compile_text("{\"pattern\":\"^[A-Za-z0-9_-]{1,64}$\"}", err, sizeof(err));
        assert_non_null(id);
        char s64[70] = "\"", s65[70] = "\"";
        memset(s64 + 1, 'a', 64);
        memcpy(s64 + 65, "\"", 2);
        memset(s65 + 1, 'b', 65);
        memcpy(s65 + 66, "\"", 2);
        json_auto_t *v64 = parse(s64);
        json_auto_t *v65 = parse(s65);
        assert_int_equal(schema_validate(id, v64, "data", err, sizeof(err)), 0);
        assert_int_equal(schema_validate(id, v65, "data", err, sizeof(err)), -EINVAL);
}

/* Short buffers truncate on a UTF-8 boundary; NULL buffers are fine. */
static void test_error_truncation(void **state)
{
        _cleanup_schema_ Schema *s = NULL;
        json_auto_t *v = json_integer(1);
        char err[5];

        (void)state;
        s = compile_text("{\"type\":\"string\"}", NULL, 0);
        assert_non_null(s);
        assert_int_equal(schema_validate(s, v, "数据", err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "数");
        assert_int_equal(schema_validate(s, v, "data", NULL, 0), -EINVAL);
        assert_int_equal(schema_validate(s, NULL, "data", err, sizeof(err)), -EINVAL);
        assert_int_equal(schema_validate(NULL, v, "data", err, sizeof(err)), -EINVAL);
        assert_null(schema_compile(NULL, err, sizeof(err)));
        assert_null(schema_free(NULL));
}

/* A schema and the exact compile error. */
static const struct {
        const char *schema;
        const char *error;
} refusals[] = {
    {"{\"contains\":{}}", "#/contains: unsupported keyword 'contains'"},
    {"{\"properties\":{\"a\":{\"propertyNames\":{}}}}",
     "#/properties/a/propertyNames: unsupported keyword 'propertyNames'"},
    {"{\"properties\":{\"a/b\":{\"items\":{\"dependentRequired\":{}}}}}",
     "#/properties/a~1b/items/dependentRequired: unsupported keyword 'dependentRequired'"},
    {"{\"$defs\":{\"x\":{\"unevaluatedProperties\":false}}}",
     "#/$defs/x/unevaluatedProperties: unsupported keyword 'unevaluatedProperties'"},
    {"{\"definitions\":{}}", "#/definitions: unsupported keyword 'definitions'"},
    {"{\"additionalItems\":false}", "#/additionalItems: unsupported keyword 'additionalItems'"},
    {"{\"format\":\"email\"}", "#/format: unsupported format 'email' (only date, date-time)"},
    {"{\"properties\":{\"t\":{\"format\":\"time\"}}}",
     "#/properties/t/format: unsupported format 'time' (only date, date-time)"},
    {"{\"format\":1}", "#/format: must be a string"},
    {"{\"$ref\":\"http://example.com/s.json\"}",
     "#/$ref: remote $ref 'http://example.com/s.json' is not supported (only '#' and "
     "'#/$defs/...')"},
    {"{\"items\":{\"$ref\":\"other.json#/$defs/a\"}}",
     "#/items/$ref: remote $ref 'other.json#/$defs/a' is not supported (only '#' and "
     "'#/$defs/...')"},
    {"{\"$ref\":\"#foo\"}", "#/$ref: anchor $ref '#foo' is not supported"},
    {"{\"properties\":{\"a\":{}},\"$ref\":\"#/properties/a\"}",
     "#/$ref: $ref '#/properties/a' is not supported (only '#' and '#/$defs/...')"},
    {"{\"$ref\":\"#/$defs\"}",
     "#/$ref: $ref '#/$defs' is not supported (only '#' and '#/$defs/...')"},
    {"{\"$ref\":\"#/$defs/missing\"}", "#/$ref: $ref '#/$defs/missing' points to no schema"},
    {"{\"$defs\":{\"a\":true},\"$ref\":\"#/$defs/a%2\"}",
     "#/$ref: bad percent-encoding in $ref '#/$defs/a%2'"},
    {"{\"$defs\":{\"a\":true},\"$ref\":\"#/$defs/a~2\"}",
     "#/$ref: bad JSON pointer escape in $ref '#/$defs/a~2'"},
    {"{\"$ref\":1}", "#/$ref: must be a string"},
    {"{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"$ref\":\"#/$defs/a\"}}}",
     "#/$defs/a: $ref cycle that never descends into the instance"},
    {"{\"$ref\":\"#\"}", "#: $ref cycle that never descends into the instance"},
    {"{\"allOf\":[{\"$ref\":\"#\"}]}",
     "#/allOf/0: $ref cycle that never descends into the instance"},
    {"{\"$defs\":{\"a\":{\"not\":{\"anyOf\":[{\"$ref\":\"#/$defs/a\"}]}}}}",
     "#/$defs/a/not/anyOf/0: $ref cycle that never descends into the instance"},
    {"{\"items\":[{}]}", "#/items: the array form of items is not supported (use prefixItems)"},
    {"{\"prefixItems\":[]}", "#/prefixItems: must be a non-empty array of schemas"},
    {"{\"allOf\":{}}", "#/allOf: must be a non-empty array of schemas"},
    {"{\"properties\":{\"a\":1}}", "#/properties/a: a schema must be an object or a boolean"},
    {"[]", "#: a schema must be an object or a boolean"},
    {"{\"type\":\"strng\"}", "#/type: unknown type 'strng'"},
    {"{\"type\":[\"string\",\"string\"]}", "#/type: type 'string' listed twice"},
    {"{\"type\":[]}", "#/type: must be a type name or a non-empty array of them"},
    {"{\"enum\":[]}", "#/enum: must be a non-empty array"},
    {"{\"minLength\":-1}", "#/minLength: must be a non-negative integer"},
    {"{\"maxItems\":1.5}", "#/maxItems: must be a non-negative integer"},
    {"{\"minimum\":\"0\"}", "#/minimum: must be a number"},
    {"{\"multipleOf\":0}", "#/multipleOf: must be a number above 0"},
    {"{\"uniqueItems\":1}", "#/uniqueItems: must be a boolean"},
    {"{\"required\":[\"a\",\"a\"]}", "#/required: 'a' listed twice"},
    {"{\"required\":\"a\"}", "#/required: must be an array of strings"},
    {"{\"title\":5}", "#/title: must be a string"},
    {"{\"examples\":5}", "#/examples: must be an array"},
    {"{\"properties\":{\"a\":{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\"}}}",
     "#/properties/a/$schema: only supported at the document root"},
    {"{\"$schema\":\"http://json-schema.org/draft-07/schema#\"}",
     "#/$schema: unsupported dialect 'http://json-schema.org/draft-07/schema#' (only "
     "https://json-schema.org/draft/2020-12/schema)"},
    {"{\"$id\":\"https://x/y#foo\"}", "#/$id: $id with a fragment is not supported"},
    {"{\"$defs\":{\"a\":{\"$id\":\"https://x/a\"}}}",
     "#/$defs/a/$id: only supported at the document root"},
    {"{\"pattern\":\"(?=a)\"}",
     "#/pattern: unsupported regex: lookaround and named groups are not supported"},
    {"{\"pattern\":\"(?<n>a)\"}",
     "#/pattern: unsupported regex: lookaround and named groups are not supported"},
    {"{\"pattern\":\"(a)\\\\1\"}",
     "#/pattern: unsupported regex: backreferences are not supported"},
    {"{\"pattern\":\"\\\\bword\"}",
     "#/pattern: unsupported regex: word boundary \\b is not supported"},
    {"{\"pattern\":\"\\\\p{L}\"}", "#/pattern: unsupported regex: escape \\p is not supported"},
    {"{\"pattern\":\"[a-\\\\d]\"}",
     "#/pattern: unsupported regex: range with a class escape is not supported"},
    {"{\"pattern\":\"[z-a]\"}", "#/pattern: unsupported regex: character class range out of order"},
    {"{\"pattern\":\"[]\"}",
     "#/pattern: unsupported regex: empty character class [] is not supported"},
    {"{\"pattern\":\"[abc\"}", "#/pattern: unsupported regex: unterminated character class"},
    {"{\"pattern\":\"a{3,2}\"}",
     "#/pattern: unsupported regex: numbers out of order in {} quantifier"},
    {"{\"pattern\":\"a{1001}\"}",
     "#/pattern: unsupported regex: repeat count above 1000 is not supported"},
    {"{\"pattern\":\"((.{100}){100}){100}\"}",
     "#/pattern: unsupported regex: pattern too complex after translation (bound lengths "
     "with minLength/maxLength)"},
    {"{\"pattern\":\"*a\"}", "#/pattern: unsupported regex: quantifier without anything to repeat"},
    {"{\"pattern\":\"a**\"}",
     "#/pattern: unsupported regex: quantifier without anything to repeat"},
    {"{\"pattern\":\"(a\"}", "#/pattern: unsupported regex: unmatched '('"},
    {"{\"pattern\":\"a)\"}", "#/pattern: unsupported regex: unmatched ')'"},
    {"{\"pattern\":\"\\\\uD800\"}", "#/pattern: unsupported regex: lone surrogate in \\u escape"},
    {"{\"pattern\":\"\\\\\"}", "#/pattern: unsupported regex: pattern ends with a backslash"},
    {"{\"patternProperties\":{\"\\\\k<a>\":{}}}",
     "#/patternProperties/\\k<a>: unsupported regex: escape \\k is not supported"},
};

static void test_refusals(void **state)
{
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(refusals); i++) {
                char err[512] = "";
                _cleanup_schema_ Schema *s = compile_text(refusals[i].schema, err, sizeof(err));

                if (s)
                        fail_msg("case %zu: %s compiled, expected \"%s\"", i, refusals[i].schema,
                                 refusals[i].error);
                if (!streq(err, refusals[i].error))
                        fail_msg("case %zu: %s: expected \"%s\", got \"%s\"", i, refusals[i].schema,
                                 refusals[i].error, err);
        }
}

static void test_dates(void **state)
{
        static const struct {
                const char *format, *value;
                bool valid;
        } t[] = {
            {"date", "2024-02-29", true},
            {"date", "2023-02-29", false},
            {"date", "2000-02-29", true},
            {"date", "1900-02-29", false},
            {"date", "2026-12-31", true},
            {"date", "2026-04-31", false},
            {"date", "2026-13-01", false},
            {"date", "2026-00-10", false},
            {"date", "2026-01-00", false},
            {"date", "2026-1-01", false},
            {"date", "2026-01-01T00:00:00Z", false},
            {"date", "２０２６-01-01", false},
            {"date", "", false},
            {"date-time", "2026-03-02T08:00:00+08:00", true},
            {"date-time", "2026-03-02T08:00:00Z", true},
            {"date-time", "2026-03-02t08:00:00z", true},
            {"date-time", "2026-03-02T08:00:00.123456-05:30", true},
            {"date-time", "2024-02-29T23:59:59+00:00", true},
            {"date-time", "2023-02-29T08:00:00+08:00", false},
            {"date-time", "2026-03-02T08:00:00", false},
            {"date-time", "2026-03-02 08:00:00+08:00", false},
            {"date-time", "2026-03-02T08:00+08:00", false},
            {"date-time", "2026-03-02T24:00:00Z", false},
            {"date-time", "2026-03-02T08:60:00Z", false},
            {"date-time", "2026-03-02T08:00:00.Z", false},
            {"date-time", "2026-03-02T08:00:00+24:00", false},
            {"date-time", "2026-03-02T08:00:00+08:60", false},
            {"date-time", "2026-03-02T08:00:00+0800", false},
            {"date-time", "2026-03-02T08:00:00+08:00 ", false},
            {"date-time", "2016-12-31T23:59:60Z", true},
            {"date-time", "2016-12-31T15:59:60-08:00", true},
            {"date-time", "2017-01-01T07:59:60+08:00", true},
            {"date-time", "2016-12-31T22:59:60Z", false},
        };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                char text[64], err[256];
                _cleanup_schema_ Schema *s = NULL;
                json_auto_t *v = json_string(t[i].value);
                int r;

                snprintf(text, sizeof(text), "{\"format\":\"%s\"}", t[i].format);
                s = compile_text(text, err, sizeof(err));
                assert_non_null(s);
                r = schema_validate(s, v, "data", err, sizeof(err));
                if ((r == 0) != t[i].valid)
                        fail_msg("%s \"%s\": expected %s, got %d %s", t[i].format, t[i].value,
                                 t[i].valid ? "valid" : "invalid", r, err);
        }
}

/* Nested arrays [[[...1...]]] of the given depth. */
static json_t *nested_arrays(unsigned depth)
{
        json_t *v = json_integer(1);

        for (unsigned i = 0; i < depth; i++) {
                json_t *a = json_array();

                json_array_append_new(a, v);
                v = a;
        }
        return v;
}

static void test_validate_depth(void **state)
{
        static const char *const schemas[] = {
            "{\"items\":{\"$ref\":\"#\"}}",
            /* The limit must not be turned into success by not/anyOf. */
            "{\"$defs\":{\"x\":{\"items\":{\"$ref\":\"#/$defs/x\"}}},"
            "\"not\":{\"not\":{\"$ref\":\"#/$defs/x\"}}}",
            "{\"$defs\":{\"x\":{\"items\":{\"$ref\":\"#/$defs/x\"}}},"
            "\"anyOf\":[{\"not\":{\"$ref\":\"#/$defs/x\"}},{\"type\":\"array\"}]}",
            "{\"uniqueItems\":true}",
        };
        char err[4096];

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(schemas); i++) {
                _cleanup_schema_ Schema *s = compile_text(schemas[i], err, sizeof(err));
                json_auto_t *shallow = nested_arrays(100);
                json_auto_t *deep = nested_arrays(5000);
                json_auto_t *pair = json_array();

                assert_non_null(s);
                assert_int_equal(schema_validate(s, shallow, "data", err, sizeof(err)), 0);
                json_array_append(pair, deep);
                json_array_append(pair, deep);
                assert_int_equal(schema_validate(s, i == 3 ? pair : deep, "data", err, sizeof(err)),
                                 -EINVAL);
                if (!strstr(err, "nested deeper than 128 levels"))
                        fail_msg("schema %zu: %s", i, err);
        }
}

static void test_schema_depth(void **state)
{
        char text[2048] = "", err[512];
        size_t len = 0;

        (void)state;
        for (int i = 0; i < 70; i++)
                len += (size_t)snprintf(text + len, sizeof(text) - len, "{\"not\":");
        len += (size_t)snprintf(text + len, sizeof(text) - len, "true");
        for (int i = 0; i < 70; i++)
                len += (size_t)snprintf(text + len, sizeof(text) - len, "}");
        assert_null(compile_text(text, err, sizeof(err)));
        assert_non_null(strstr(err, ": schema nested deeper than 64 levels"));
        assert_int_equal(strncmp(err, "#/not/not/not/", 14), 0);
}

/* const and enum values are bounded too (deep_equal recurses on them). */
static void test_value_depth(void **state)
{
        json_auto_t *doc = json_object();
        char err[256];

        (void)state;
        json_object_set_new(doc, "const", nested_arrays(70));
        assert_null(schema_compile(doc, err, sizeof(err)));
        assert_string_equal(err, "#/const: value nested deeper than 64 levels");
        json_object_clear(doc);
        json_object_set_new(doc, "enum", nested_arrays(70));
        assert_null(schema_compile(doc, err, sizeof(err)));
        assert_string_equal(err, "#/enum: value nested deeper than 64 levels");
}

/* $defs d0 -> d1 -> ... -> d99: each an in-place hop, longer than the limit. */
static void test_ref_chain(void **state)
{
        json_auto_t *doc = json_object(), *defs = json_object();
        char name[16], ref[32], err[256];
        _cleanup_schema_ Schema *s = NULL;

        (void)state;
        for (int i = 0; i < 100; i++) {
                json_t *d = json_object();

                snprintf(name, sizeof(name), "d%d", i);
                snprintf(ref, sizeof(ref), "#/$defs/d%d", i + 1);
                if (i < 99)
                        json_object_set_new(d, "$ref", json_string(ref));
                json_object_set_new(defs, name, d);
        }
        json_object_set(doc, "$defs", defs);
        json_object_set_new(doc, "$ref", json_string("#/$defs/d0"));
        s = schema_compile(doc, err, sizeof(err));
        assert_null(s);
        assert_non_null(strstr(err, "chain of $ref and applicators longer than 64"));

        /* 40 hops are fine. */
        json_object_set_new(json_object_get(defs, "d40"), "type", json_string("integer"));
        json_object_del(json_object_get(defs, "d40"), "$ref");
        s = schema_compile(doc, err, sizeof(err));
        assert_non_null(s);
        {
                json_auto_t *v = json_string("x");

                assert_int_equal(schema_validate(s, v, "", err, sizeof(err)), -EINVAL);
                assert_string_equal(err, "must be integer, not string");
        }
}

/* The compiled schema keeps its own copies: the document may go away. */
static void test_document_independence(void **state)
{
        json_t *doc = parse("{\"required\":[\"a\"],\"enum\":[{\"a\":1}],\"const\":{\"a\":1},"
                            "\"properties\":{\"a\":{\"pattern\":\"^1\"}}}");
        _cleanup_schema_ Schema *s = NULL;
        json_auto_t *ok = parse("{\"a\":1}");
        json_auto_t *bad = parse("{\"a\":2}");
        char err[256];

        (void)state;
        s = schema_compile(doc, err, sizeof(err));
        json_decref(doc);
        assert_non_null(s);
        assert_int_equal(schema_validate(s, ok, "", err, sizeof(err)), 0);
        assert_int_equal(schema_validate(s, bad, "", err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "must equal {\"a\":1}");
}

/* Regex translation must not depend on the process locale. */
static void test_locale_independence(void **state)
{
        _cleanup_schema_ Schema *s = NULL;
        json_auto_t *name = json_string("张三");
        json_auto_t *latin = json_string("ab");
        char err[256];

        (void)state;
        if (!setlocale(LC_ALL, "C.UTF-8"))
                skip();
        s = compile_text("{\"pattern\":\"^[\\\\u4e00-\\\\u9fa5]{2}$\"}", err, sizeof(err));
        setlocale(LC_ALL, "C");
        assert_non_null(s);
        assert_int_equal(schema_validate(s, name, "", err, sizeof(err)), 0);
        assert_int_equal(schema_validate(s, latin, "", err, sizeof(err)), -EINVAL);
}

/* uniqueItems on long arrays (hash and sort) agrees with pairwise compare. */
static void test_unique_long(void **state)
{
        _cleanup_schema_ Schema *s = NULL;
        json_auto_t *v = json_array();
        char err[256];

        (void)state;
        s = compile_text("{\"uniqueItems\":true}", err, sizeof(err));
        assert_non_null(s);
        for (int i = 0; i < 200; i++) {
                json_t *o = json_object();

                json_object_set_new(o, "i", json_integer(i));
                json_object_set_new(o, "tag", json_string("x"));
                json_array_append_new(v, o);
        }
        json_array_append_new(v, json_real(150.0));
        json_array_append_new(v, json_integer(151));
        assert_int_equal(schema_validate(s, v, "d", err, sizeof(err)), 0);
        json_array_append_new(v, parse("{\"tag\":\"x\",\"i\":17.0}"));
        assert_int_equal(schema_validate(s, v, "d", err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "d: must not contain duplicate items ([17] and [202])");
        json_array_remove(v, 202);
        json_array_append_new(v, json_integer(150));
        assert_int_equal(schema_validate(s, v, "d", err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "d: must not contain duplicate items ([200] and [202])");
}

static void write_file(const char *dir, const char *name, const char *text)
{
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

static void remove_file(const char *dir, const char *name)
{
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        unlink(path);
}

static void test_set_load_dir(void **state)
{
        char dir[] = "/tmp/test_schema.XXXXXX", err[512];
        _cleanup_schema_set_ SchemaSet *set = NULL;
        json_auto_t *v = parse("{\"amount\":1}");
        const Schema *s;

        (void)state;
        assert_non_null(mkdtemp(dir));
        assert_int_equal(schema_set_load_dir(dir, &set, err, sizeof(err)), -ENOENT);
        assert_non_null(strstr(err, ": no *.json schema files"));

        write_file(dir, "medical.claim.settled.json", "{\"required\":[\"amount\"]}");
        write_file(dir, "a-b.json", "{\"type\":\"string\"}");
        write_file(dir, "a.json", "true");
        write_file(dir, ".hidden.json", "not json");
        write_file(dir, "notes.txt", "not json");
        assert_int_equal(schema_set_load_dir(dir, &set, err, sizeof(err)), 0);
        assert_int_equal(schema_set_count(set), 3);
        s = schema_set_get(set, "medical.claim.settled");
        assert_non_null(s);
        assert_int_equal(schema_validate(s, v, "data", err, sizeof(err)), 0);
        assert_non_null(schema_set_get(set, "a"));
        assert_non_null(schema_set_get(set, "a-b"));
        assert_null(schema_set_get(set, "a.json"));
        assert_null(schema_set_get(set, "missing"));
        assert_null(schema_set_get(NULL, "a"));
        set = schema_set_free(set);

        write_file(dir, "bad.json", "{\"type\":\"object\",\n \"contains\":{}}");
        write_file(dir, "broken.json", "{\"type\":\n");
        assert_int_equal(schema_set_load_dir(dir, &set, err, sizeof(err)), -EINVAL);
        assert_null(set);
        {
                char want[600];

                snprintf(want, sizeof(want),
                         "%s/bad.json: #/contains: unsupported keyword 'contains' (and 1 more bad "
                         "schema files)",
                         dir);
                assert_string_equal(err, want);
        }
        remove_file(dir, "bad.json");
        assert_int_equal(schema_set_load_dir(dir, &set, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "/broken.json:2:"));
        remove_file(dir, "broken.json");
        write_file(dir, "dup.json", "{\"type\":\"string\",\"type\":\"integer\"}");
        assert_int_equal(schema_set_load_dir(dir, &set, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "/dup.json:1:"));
        remove_file(dir, "dup.json");

        for (size_t i = 0; i < 4; i++)
                remove_file(dir, (const char *[]){"medical.claim.settled.json", "a-b.json",
                                                  "a.json", ".hidden.json"}[i]);
        remove_file(dir, "notes.txt");
        assert_int_equal(rmdir(dir), 0);
        assert_int_equal(schema_set_load_dir(dir, &set, err, sizeof(err)), -ENOENT);
        assert_non_null(strstr(err, dir));
        assert_null(schema_set_free(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_keywords),
            cmocka_unit_test(test_error_paths),
            cmocka_unit_test(test_error_quoting),
            cmocka_unit_test(test_pattern_memo),
            cmocka_unit_test(test_pattern_run),
            cmocka_unit_test(test_error_truncation),
            cmocka_unit_test(test_refusals),
            cmocka_unit_test(test_dates),
            cmocka_unit_test(test_validate_depth),
            cmocka_unit_test(test_schema_depth),
            cmocka_unit_test(test_value_depth),
            cmocka_unit_test(test_ref_chain),
            cmocka_unit_test(test_document_independence),
            cmocka_unit_test(test_locale_independence),
            cmocka_unit_test(test_unique_long),
            cmocka_unit_test(test_set_load_dir),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
