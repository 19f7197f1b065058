/* Fuzz target: the JSON Schema compiler and validator (schema_compile,
 * schema_validate). Conformance to the official test suite is checked by
 * tests/unit/test_schema_suite.c; this target looks for crashes, refusals
 * that are not, and verdicts that change.
 *
 * Input: a schema document, a NUL byte, an instance (without the NUL, the
 * schema document is also the instance). Oracles:
 * - never crashes, and validation ends in bounded time (-timeout);
 * - unsupported keywords are refused at load: a schema that compiles uses
 *   only the supported vocabulary (and formats date, date-time only);
 * - a refusal says "#<pointer>: <message>", valid UTF-8, and a shorter
 *   buffer gets a prefix of the same message;
 * - the Schema does not borrow the document (compiled from a copy that is
 *   then freed; ASan would see a use after free);
 * - the verdict and its message are deterministic: twice with one Schema,
 *   once more with a Schema compiled again, and with or without a root name;
 * - {"not": S} rejects what S accepts and accepts only what S rejects (for
 *   schemas without $ref/$id, which wrapping would change);
 * - the instance against every shipped schema: deterministic verdicts. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>

#include "fuzz_util.h"
#include "macro.h"
#include "schema.h"

static SchemaSet *shipped;
static const char *shipped_names[64];
static size_t n_shipped;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        shipped = fuzz_load_schemas("fuzz_schema");
        static const char *const names[] = {
            "cloudevent",
            "household.registered",
            "household.removed",
            "civil.assistance.changed",
            "civil.relief.paid",
            "civil.income.verified",
            "medical.claim.settled",
            "disaster.loss.reported",
            "accident.reported",
            "need.reported",
            "need.resolved",
            "expense.reported",
            "visit.recorded",
            "alert.acknowledged",
            "measure.applied",
            "alert.resolved",
            "satisfaction.rated",
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (schema_set_get(shipped, names[i]))
                        shipped_names[n_shipped++] = names[i];
        if (n_shipped == 0)
                abort();
        return 0;
}

static const char *const supported[] = {
    "$schema",
    "$id",
    "$defs",
    "$ref",
    "$comment",
    "title",
    "description",
    "examples",
    "default",
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "minProperties",
    "maxProperties",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
};

static bool in_list(const char *const *list, size_t n, const char *k, size_t len)
{
        for (size_t i = 0; i < n; i++)
                if (strlen(list[i]) == len && memcmp(list[i], k, len) == 0)
                        return true;
        return false;
}

/* Whether the schema v uses only the supported vocabulary; *why names the
 * first thing that is not. Also notes any $ref or $id. */
static bool vocabulary_ok(const json_t *v, unsigned depth, const char **why, bool *refs)
{
        static const char *const maps[] = {"properties", "patternProperties", "$defs"};
        static const char *const lists[] = {"allOf", "anyOf", "oneOf", "prefixItems"};
        static const char *const single[] = {"items", "additionalProperties", "not", "if", "then",
                                             "else"};
        if (!json_is_object(v) || depth > 200)
                return true;
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
                const char *k = json_object_iter_key(it);
                size_t len = json_object_iter_key_len(it);
                json_t *c = json_object_iter_value(it);
                if (!in_list(supported, ELEMENTSOF(supported), k, len)) {
                        *why = k;
                        return false;
                }
                if (strcmp(k, "$ref") == 0 || strcmp(k, "$id") == 0)
                        *refs = true;
                if (strcmp(k, "format") == 0) {
                        const char *f = json_string_value(c);
                        if (!f || (strcmp(f, "date") != 0 && strcmp(f, "date-time") != 0)) {
                                *why = "format";
                                return false;
                        }
                }
                if (in_list(maps, ELEMENTSOF(maps), k, len)) {
                        const char *sk;
                        json_t *sv;
                        json_object_foreach (c, sk, sv)
                                if (!vocabulary_ok(sv, depth + 1, why, refs))
                                        return false;
                } else if (in_list(lists, ELEMENTSOF(lists), k, len)) {
                        size_t i;
                        json_t *sv;
                        json_array_foreach (c, i, sv)
                                if (!vocabulary_ok(sv, depth + 1, why, refs))
                                        return false;
                } else if (in_list(single, ELEMENTSOF(single), k, len)) {
                        if (!vocabulary_ok(c, depth + 1, why, refs))
                                return false;
                }
        }
        return true;
}

static void check_refusal(json_t *doc, const char *err)
{
        char small[24];
        ORACLE(err[0] == '#' || strcmp(err, "out of memory") == 0,
               "refusal does not start with a pointer: %s", err);
        ORACLE(fuzz_utf8_valid((const unsigned char *)err, strlen(err)), "refusal is not UTF-8: %s",
               err);
        ORACLE(!schema_compile(doc, small, sizeof(small)), "compiles the second time");
        ORACLE(strncmp(small, err, strlen(small)) == 0 &&
                   fuzz_utf8_valid((const unsigned char *)small, strlen(small)),
               "short refusal '%s' is not a prefix of '%s'", small, err);
}

typedef struct {
        int r;
        char err[512];
} Verdict;

static Verdict run(const Schema *s, const json_t *inst, const char *root)
{
        Verdict v;
        memset(v.err, 'x', sizeof(v.err));
        v.err[0] = '\0';
        v.r = schema_validate(s, inst, root, v.err, sizeof(v.err));
        ORACLE(memchr(v.err, 0, sizeof(v.err)), "message not terminated");
        ORACLE(v.r == 0 || v.r == -EINVAL || v.r == -ENOMEM, "schema_validate returned %d", v.r);
        if (v.r == -EINVAL)
                ORACLE(v.err[0] != '\0', "an invalid instance without a message");
        if (v.r != 0)
                ORACLE(fuzz_utf8_valid((const unsigned char *)v.err, strlen(v.err)),
                       "message is not UTF-8");
        return v;
}

static void check_same(const Verdict *a, const Verdict *b, const char *what)
{
        ORACLE(a->r == b->r && (a->r == 0 || strcmp(a->err, b->err) == 0),
               "%s: %d '%s' then %d '%s'", what, a->r, a->r ? a->err : "", b->r,
               b->r ? b->err : "");
}

static void check_schema(json_t *doc, const json_t *inst)
{
        char err[512];
        err[0] = '\0';
        Schema *s = schema_compile(doc, err, sizeof(err));
        if (!s) {
                check_refusal(doc, err);
                return;
        }
        const char *why = NULL;
        bool refs = false;
        ORACLE(vocabulary_ok(doc, 0, &why, &refs), "unsupported '%s' accepted at load", why);

        /* Compiled from a copy that is gone before validation. */
        json_t *copy = json_deep_copy(doc);
        Schema *s2 = schema_compile(copy, err, sizeof(err));
        ORACLE(s2, "compiles once, not twice: %s", err);
        json_decref(copy);

        if (inst) {
                Verdict a = run(s, inst, "data");
                Verdict b = run(s, inst, "data");
                Verdict c = run(s2, inst, "data");
                Verdict d = run(s, inst, NULL);
                check_same(&a, &b, "validated twice");
                check_same(&a, &c, "compiled twice");
                ORACLE(a.r == d.r, "verdict depends on the root name");
                if (a.r == -EINVAL)
                        ORACLE(strncmp(a.err, "data", 4) == 0,
                               "path does not start at the root: %s", a.err);

                if (!refs) {
                        json_t *neg = json_pack("{sO}", "not", doc);
                        Schema *ns = neg ? schema_compile(neg, err, sizeof(err)) : NULL;
                        if (ns) {
                                Verdict nv = run(ns, inst, "data");
                                if (a.r == 0)
                                        ORACLE(nv.r == -EINVAL, "S and not S both accept");
                                if (nv.r == 0)
                                        ORACLE(a.r == -EINVAL, "not S accepts what S accepts");
                        }
                        schema_free(ns);
                        json_decref(neg);
                }
        }
        schema_free(s2);
        schema_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *nul = memchr(data, 0, size);
        size_t slen = nul ? (size_t)(nul - data) : size;
        json_t *doc = json_loadb((const char *)data, slen, JSON_DECODE_ANY, NULL);
        json_t *inst =
            nul ? json_loadb((const char *)nul + 1, size - slen - 1, JSON_DECODE_ANY, NULL)
                : json_incref(doc);
        if (doc)
                check_schema(doc, inst);
        if (inst)
                for (size_t i = 0; i < n_shipped; i++) {
                        const Schema *s = schema_set_get(shipped, shipped_names[i]);
                        Verdict a = run(s, inst, "data");
                        Verdict b = run(s, inst, "data");
                        check_same(&a, &b, shipped_names[i]);
                }
        json_decref(inst);
        json_decref(doc);
        return 0;
}
