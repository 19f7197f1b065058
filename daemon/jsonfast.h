/* JSON text hearth wrote itself (a household's document, its ledger and
 * timeline entries, its outputs), read and written faster than jansson's
 * stream lexer and callback dumper do, into and from the same jansson
 * values. A 2.3 KB household document, 100,000 times each in one run on
 * the bench machine: parse and free 48 us with jansson, 10.4 us here;
 * write 25.6 us with jansson, 7.6 us here (tests/bench/README.md has what
 * it does to hearthd's CPU per event).
 *
 * Same language as jansson with no flags: RFC 8259 text whose top level is
 * an object or an array; strings valid UTF-8 with no \u0000; integers that
 * fit json_int_t; reals that do not overflow; later duplicate keys replace
 * earlier ones; at most JSON_PARSER_MAX_DEPTH (2048) levels, every value
 * counted as jansson counts it (a number inside 2048 arrays is level 2049).
 * One difference, on purpose: jansson skips a NUL byte right after a number
 * or a literal ([1<NUL>] reads as [1]); jsonfast refuses it. Events try
 * jsonfast first and what it refuses is parsed again by jansson, whose
 * messages the dead letters quote (event.c refuses NUL bytes before either).
 * tests/fuzz/fuzz_jsonfast.c checks all of this against jansson.
 *
 * jsonfast_dump() writes exactly what json_dumps(v, JSON_COMPACT) writes,
 * byte for byte (tests/unit/test_jsonfast.c compares them), for any value
 * either parser builds. Values built in code differ in two corners: deeper
 * than 2048 levels (NULL here: the guard against cycles) and an object key
 * that is not UTF-8 (only possible through jansson's _nocheck setters; NULL
 * here, json_dumps writes it broken). */
#pragma once

#include <jansson.h>
#include <stddef.h>

/* Parses len bytes of s. The value, or NULL with err (may be NULL) filled
 * as jansson fills it: text, line, column, position. */
json_t *jsonfast_load(const char *s, size_t len, json_error_t *err);
/* The same with jansson's flags JSON_REJECT_DUPLICATES ("duplicate object
 * key") and JSON_DECODE_ANY (any value at the top); other flags fail. */
json_t *jsonfast_loadf(const char *s, size_t len, size_t flags, json_error_t *err);

/* The compact text of an object or array (malloc'ed, free() it), or NULL
 * on memory failure, a nesting deeper than 2048 or a string or key that is
 * not UTF-8. */
char *jsonfast_dump(const json_t *v);
/* The same as json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(precision))
 * (1..17; NULL otherwise). */
char *jsonfast_dump_precision(const json_t *v, int precision);
/* The same as jsonfast_dump(), with the member key of the object in (inside v) written as
 * text, a JSON value the caller vouches for; v is not changed. */
char *jsonfast_dump_replacing(const json_t *v, const json_t *in, const char *key, const char *text);
/* json_string(s): a new string value, or NULL when s is NULL or not UTF-8
 * (or on memory failure); the same check as the parser's, faster than
 * jansson's on long texts. */
json_t *jsonfast_string(const char *s);

/* One member of jsonfast_object(): a string (NULL or not UTF-8 fails the
 * object, as json_pack's "s"), an integer ("I") or a boolean ("b"). */
typedef struct {
        const char *key; /* a literal: not checked */
        char type;       /* 's', 'I' or 'b' */
        const char *s;
        json_int_t n;
} JsonfastMember;
#define JF_STR(k, v) ((JsonfastMember){(k), 's', (v), 0})
#define JF_INT(k, v) ((JsonfastMember){(k), 'I', NULL, (json_int_t)(v)})
#define JF_BOOL(k, v) ((JsonfastMember){(k), 'b', NULL, (v) ? 1 : 0})
/* The object json_pack("{s:s, s:I, s:b, ...}", ...) builds from these
 * members (NULL where json_pack fails), without json_pack's walk of its
 * format and its check of the keys; JSONFAST_OBJECT(JF_STR("date", d), ...). */
json_t *jsonfast_object(const JsonfastMember *m, size_t n);
#define JSONFAST_OBJECT(...)                                                                       \
        jsonfast_object((const JsonfastMember[]){__VA_ARGS__},                                     \
                        sizeof((const JsonfastMember[]){__VA_ARGS__}) / sizeof(JsonfastMember))
