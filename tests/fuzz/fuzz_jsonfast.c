/* Fuzz target: jsonfast (daemon/jsonfast.h) against jansson, differentially.
 * jsonfast reads hearth's own texts and, first, every event (event.c falls
 * back to jansson only for the message), so it must take exactly what
 * jansson takes.
 *
 * Input: any bytes. For each set of flags jsonfast_loadf() takes (none,
 * JSON_REJECT_DUPLICATES, JSON_DECODE_ANY, both), oracles
 * (tests/fuzz/README.md):
 * - jsonfast_loadf() and json_loadb() with the flags agree on acceptance,
 *   and jsonfast_load() is jsonfast_loadf() without flags;
 * - both accept: the values are json_equal; jsonfast_dump() of jsonfast's
 *   value, and of jansson's, is json_dumps(JSON_COMPACT) of jansson's, byte
 *   for byte (both NULL for a scalar at the top); the dump reads back
 *   through jsonfast as the same value;
 * - a refusal fills err with a message;
 * - at the depth bound: an accepted text d levels deep (a scalar is a
 *   level), put inside 2048 - d arrays and then inside one more, is read
 *   alike by both (mutations alone hardly ever build 2048 levels);
 * - one exception, jansson's: it drops a NUL byte right after a number or
 *   a literal ("[1<NUL>]" is [1]; see tests/unit/test_jsonfast.c). jsonfast
 *   refuses it; so when jansson alone accepts, the input must hold a NUL
 *   byte and read without its NUL bytes, jsonfast must take it as the same
 *   value. The other way round (jsonfast alone accepts) has no exception. */
#include <jansson.h>
#include <stdint.h>

#include "fuzz_util.h"
#include "jsonfast.h"
#include "macro.h"

static const size_t flag_sets[] = {0, JSON_REJECT_DUPLICATES, JSON_DECODE_ANY,
                                   JSON_REJECT_DUPLICATES | JSON_DECODE_ANY};

/* Both dumpers on jansson's value j and jsonfast's value f (json_equal). */
static void check_dumps(const json_t *j, const json_t *f, size_t flags)
{
        char *want = json_dumps(j, JSON_COMPACT);
        char *got = jsonfast_dump(f);
        char *got_j = jsonfast_dump(j);
        bool container = json_is_object(j) || json_is_array(j);
        ORACLE(want || !container, "json_dumps refuses a value json_loadb made (flags %zu)", flags);
        ORACLE(streq_ptr(want, got),
               "jsonfast_dump of jsonfast's value is %.300s, json_dumps %.300s", got ? got : "NULL",
               want ? want : "NULL");
        ORACLE(streq_ptr(want, got_j),
               "jsonfast_dump of jansson's value is %.300s, json_dumps %.300s",
               got_j ? got_j : "NULL", want ? want : "NULL");
        if (got) {
                json_error_t err;
                json_t *back = jsonfast_load(got, strlen(got), &err);
                ORACLE(back && json_equal(back, j), "the dump %.300s does not read back: %s", got,
                       back ? "another value" : err.text);
                json_decref(back);
        }
        free(want);
        free(got);
        free(got_j);
}

/* jansson accepted, jsonfast refused: only jansson's NUL quirk may explain
 * it. */
static void check_nul_quirk(const uint8_t *data, size_t size, size_t flags, const json_t *j,
                            const char *why)
{
        ORACLE(memchr(data, 0, size), "json_loadb accepts, jsonfast_loadf refuses (flags %zu): %s",
               flags, why);
        char *strict = malloc(size ? size : 1);
        if (!strict)
                abort();
        size_t n = 0;
        for (size_t i = 0; i < size; i++)
                if (data[i])
                        strict[n++] = (char)data[i];
        json_t *f = jsonfast_loadf(strict, n, flags, NULL);
        ORACLE(f && json_equal(f, j),
               "json_loadb accepts a text with NUL bytes that jsonfast refuses even without "
               "them (flags %zu): %s",
               flags, why);
        json_decref(f);
        free(strict);
}

/* Levels of v: 1 for a scalar, one more than its deepest member for an
 * object or array. */
static int depth_of(const json_t *v)
{
        int d = 0;
        if (json_is_array(v)) {
                size_t i;
                json_t *e;
                json_array_foreach ((json_t *)v, i, e) {
                        int de = depth_of(e);
                        d = de > d ? de : d;
                }
        } else if (json_is_object(v)) {
                const char *k;
                json_t *e;
                json_object_foreach ((json_t *)v, k, e) {
                        int de = depth_of(e);
                        d = de > d ? de : d;
                }
        }
        return d + 1;
}

/* Text s (accepted without flags, value j) inside n arrays: both parsers
 * give the same verdict and value. */
static void check_wrapped(const char *s, size_t size, const json_t *j, size_t n)
{
        char *w = malloc(2 * n + size);
        if (!w)
                abort();
        memset(w, '[', n);
        memcpy(w + n, s, size);
        memset(w + n + size, ']', n);
        json_error_t ej, ef;
        json_t *wj = json_loadb(w, 2 * n + size, 0, &ej);
        json_t *wf = jsonfast_load(w, 2 * n + size, &ef);
        ORACLE(!wj == !wf, "inside %zu arrays (%d levels in all): json_loadb %s, jsonfast %s", n,
               depth_of(j) + (int)n, wj ? "accepts" : ej.text, wf ? "accepts" : ef.text);
        ORACLE(!wj || json_equal(wj, wf), "inside %zu arrays: the values differ", n);
        json_decref(wj);
        json_decref(wf);
        free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *s = (const char *)data;
        for (size_t k = 0; k < sizeof(flag_sets) / sizeof(flag_sets[0]); k++) {
                size_t flags = flag_sets[k];
                json_error_t ej, ef;
                memset(&ef, 0, sizeof(ef));
                json_t *j = json_loadb(s, size, flags, &ej);
                json_t *f = jsonfast_loadf(s, size, flags, &ef);

                ORACLE(f || ef.text[0], "a refusal without a message (flags %zu)", flags);
                ORACLE(!f || j, "jsonfast_loadf accepts, json_loadb refuses (flags %zu): %s", flags,
                       ej.text);
                if (flags == 0) {
                        json_t *f0 = jsonfast_load(s, size, NULL);
                        ORACLE(!f0 == !f && (!f || json_equal(f0, f)),
                               "jsonfast_load is not jsonfast_loadf without flags");
                        json_decref(f0);
                }
                if (j && !f)
                        check_nul_quirk(data, size, flags, j, ef.text);
                if (j && f) {
                        ORACLE(json_equal(j, f), "the values differ (flags %zu)", flags);
                        check_dumps(j, f, flags);
                        int d = depth_of(j);
                        if (flags == 0 && d <= 2048) {
                                check_wrapped(s, size, j, (size_t)(2048 - d));
                                check_wrapped(s, size, j, (size_t)(2049 - d));
                        }
                }
                json_decref(j);
                json_decref(f);
        }
        return 0;
}
