/* Unit tests of exact money: yuan as JSON numbers to integer fen and back
 * (RELIABILITY.md F15). Literals are parsed by jansson inside an object with
 * JSON_REJECT_DUPLICATES, as the event decoder does, so "12.345" and "1e2"
 * are tested as text end to end, not only as doubles built by json_real(). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "money.h"

/* Parses {"amount": <literal>} as the decoder does and converts it. Returns
 * money_from_json's result; *err is NULL on success. */
static int from_text(const char *literal, int64_t *fen, const char **err)
{
        char text[256];
        json_error_t je;

        snprintf(text, sizeof(text), "{\"amount\":%s}", literal);
        json_auto_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
        if (!root)
                fail_msg("%s does not parse: %s", text, je.text);
        *err = NULL;
        return money_from_json(json_object_get(root, "amount"), fen, err);
}

/* A literal and the fen it converts to, or the error it gets. */
typedef struct {
        const char *literal;
        int64_t fen;
        const char *error; /* substring of the reason; NULL when accepted */
} Case;

static const Case cases[] = {
    {"0", 0, NULL},
    {"0.0", 0, NULL},
    {"-0", 0, NULL},
    {"-0.0", 0, NULL}, /* negative zero is zero, not a negative amount */
    {"0.01", 1, NULL},
    {"0.07", 7, NULL},
    {"0.1", 10, NULL},
    {"0.10", 10, NULL},
    {"1.10", 110, NULL},
    {"19.99", 1999, NULL},
    {"34320.2", 3432020, NULL},
    {"52100.3", 5210030, NULL},
    {"86420.5", 8642050, NULL},
    {"45000", 4500000, NULL},
    {"1e2", 10000, NULL},
    {"1E2", 10000, NULL},
    {"1e+2", 10000, NULL},
    {"1.5e3", 150000, NULL},
    {"1e-2", 1, NULL},
    {"1999e-2", 1999, NULL},
    {"99999999999.99", 9999999999999, NULL},
    {"100000000000", MONEY_MAX_FEN, NULL},
    {"100000000000.0", MONEY_MAX_FEN, NULL},
    {"1e11", MONEY_MAX_FEN, NULL},
    {"12.345", 0, "more than 2 decimals"},
    {"0.001", 0, "more than 2 decimals"},
    {"0.005", 0, "more than 2 decimals"},
    {"1.005", 0, "more than 2 decimals"},
    {"1.5e-2", 0, "more than 2 decimals"},
    {"1e-300", 0, "more than 2 decimals"},
    {"99999999999.995", 0, "more than 2 decimals"},
    {"-1", 0, "negative"},
    {"-0.01", 0, "negative"},
    {"-1e2", 0, "negative"},
    {"-9223372036854775807", 0, "negative"},
    {"100000000000.01", 0, "too large"},
    {"100000000001", 0, "too large"},
    {"1e12", 0, "too large"},
    {"9007199254740992", 0, "too large"},    /* 2^53 */
    {"9007199254740993", 0, "too large"},    /* 2^53 + 1: an integer to jansson */
    {"9007199254740992.0", 0, "too large"},  /* 2^53 as a real */
    {"9223372036854775807", 0, "too large"}, /* 2^63 - 1 */
    {"1e300", 0, "too large"},
    {"1.7976931348623157e308", 0, "too large"},
    {"\"12.34\"", 0, "not a number"},
    {"\"0\"", 0, "not a number"},
    {"true", 0, "not a number"},
    {"false", 0, "not a number"},
    {"null", 0, "not a number"},
    {"[1]", 0, "not a number"},
    {"{\"yuan\":1}", 0, "not a number"},
};

static void test_literals(void **state)
{
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const Case *c = &cases[i];
                int64_t fen = -12345;
                const char *err;
                int r = from_text(c->literal, &fen, &err);

                if (!c->error) {
                        if (r != 0)
                                fail_msg("%s: rejected (%s), want %lld fen", c->literal,
                                         err ? err : "?", (long long)c->fen);
                        if (fen != c->fen)
                                fail_msg("%s: %lld fen, want %lld", c->literal, (long long)fen,
                                         (long long)c->fen);
                } else {
                        if (r != -EINVAL)
                                fail_msg("%s: accepted as %lld fen, want '%s'", c->literal,
                                         (long long)fen, c->error);
                        if (!err || !strstr(err, c->error))
                                fail_msg("%s: reason '%s', want '%s'", c->literal,
                                         err ? err : "(null)", c->error);
                }
        }
}

/* Beyond what jansson parses: 2^63 is not JSON it accepts; infinities and
 * NaN cannot be built, so money_from_json meets NULL and says so. */
static void test_not_json_numbers(void **state)
{
        (void)state;
        json_error_t je;
        int64_t fen = 7;
        const char *err = NULL;

        assert_null(json_loads("{\"amount\":9223372036854775808}", JSON_REJECT_DUPLICATES, &je));
        assert_null(json_loads("{\"amount\":1e400}", JSON_REJECT_DUPLICATES, &je));
        assert_null(json_loads("{\"amount\":NaN}", JSON_REJECT_DUPLICATES, &je));
        assert_null(json_loads("{\"amount\":Infinity}", JSON_REJECT_DUPLICATES, &je));

        json_t *inf = json_real(INFINITY);
        assert_int_equal(money_from_json(inf, &fen, &err), -EINVAL);
        assert_non_null(err);
        json_decref(inf);
        err = NULL;
        json_t *nan = json_real(NAN);
        assert_int_equal(money_from_json(nan, &fen, &err), -EINVAL);
        assert_non_null(err);
        json_decref(nan);
        err = NULL;
        assert_int_equal(money_from_json(NULL, &fen, &err), -EINVAL);
        assert_string_equal(err, "amount is not a number");
        assert_int_equal(fen, 7);

        /* Built directly rather than parsed: the same rules. */
        json_auto_t *neg0 = json_real(-0.0);
        assert_int_equal(money_from_json(neg0, &fen, &err), 0);
        assert_int_equal(fen, 0);
        json_auto_t *big = json_integer(INT64_MAX);
        assert_int_equal(money_from_json(big, &fen, &err), -EINVAL);
        json_auto_t *small = json_integer(INT64_MIN);
        assert_int_equal(money_from_json(small, &fen, &err), -EINVAL);
        assert_non_null(strstr(err, "negative"));
}

/* Every amount from 0 to 2000 yuan, fen by fen, as a double and as text. */
static void test_sweep_fen(void **state)
{
        (void)state;
        for (int64_t k = 0; k <= 200000; k++) {
                int64_t fen = -1;
                const char *err = NULL;
                json_t *v = json_real((double)k / 100.0);

                if (money_from_json(v, &fen, &err) != 0 || fen != k)
                        fail_msg("json_real(%lld/100.0): %lld fen (%s)", (long long)k,
                                 (long long)fen, err ? err : "ok");
                json_decref(v);

                char lit[32];
                snprintf(lit, sizeof(lit), "%lld.%02lld", (long long)(k / 100),
                         (long long)(k % 100));
                if (from_text(lit, &fen, &err) != 0 || fen != k)
                        fail_msg("%s: %lld fen (%s)", lit, (long long)fen, err ? err : "ok");
        }
}

/* xorshift64: deterministic samples. */
static uint64_t next_rand(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

/* Across magnitudes 1 .. 1e11: w.yz is exact, w.yzd (d = 1..9, with 5 at
 * every sample) has 3 decimals and is refused, never rounded. */
static void test_sweep_magnitudes(void **state)
{
        (void)state;
        uint64_t seed = 0x9e3779b97f4a7c15ULL;
        int tested = 0;

        for (int64_t mag = 1; mag <= MONEY_MAX_YUAN; mag *= 10) {
                for (int i = 0; i < 400; i++) {
                        /* whole part in [0, mag), the top sample just below the max */
                        int64_t w = i == 0 ? mag - 1 : (int64_t)(next_rand(&seed) % (uint64_t)mag);
                        int yz = (int)(next_rand(&seed) % 100);
                        int d = i % 2 ? 5 : 1 + (int)(next_rand(&seed) % 9);
                        char lit[64];
                        int64_t fen = -1;
                        const char *err = NULL;

                        snprintf(lit, sizeof(lit), "%lld.%02d", (long long)w, yz);
                        if (from_text(lit, &fen, &err) != 0 || fen != w * 100 + yz)
                                fail_msg("%s: %lld fen (%s)", lit, (long long)fen,
                                         err ? err : "ok");
                        snprintf(lit, sizeof(lit), "%lld.%02d%d", (long long)w, yz, d);
                        if (from_text(lit, &fen, &err) != -EINVAL ||
                            !strstr(err, "more than 2 decimals"))
                                fail_msg("%s: accepted as %lld fen", lit, (long long)fen);
                        tested++;
                }
        }
        assert_int_equal(tested, 12 * 400);
}

static void test_to_json(void **state)
{
        (void)state;
        static const struct {
                int64_t fen;
                const char *text; /* as printed with JSON_REAL_PRECISION(15) */
                bool integer;
        } cases[] = {
            {0, "0", true},
            {1, "0.01", false},
            {10, "0.1", false},
            {1999, "19.99", false},
            {4500000, "45000", true},
            {4500050, "45000.5", false},
            {3432020, "34320.2", false},
            {9999999999999, "99999999999.99", false},
            {MONEY_MAX_FEN, "100000000000", true},
            {-150, "-1.5", false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_auto_t *v = money_to_json(cases[i].fen);
                assert_non_null(v);
                assert_int_equal(json_is_integer(v), cases[i].integer);
                /* Reals print with 2 decimals at most only with a precision of
                 * 15 digits; jansson's default (17) prints 19.99 as
                 * 19.989999999999998, which still parses back exactly. */
                char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
                assert_string_equal(s, cases[i].text);
                free(s);
                if (cases[i].fen >= 0) {
                        int64_t fen = -1;
                        const char *err = NULL;
                        assert_int_equal(money_from_json(v, &fen, &err), 0);
                        assert_int_equal(fen, cases[i].fen);
                }
        }

        /* Round trip through text with jansson's default precision, over the
         * low sweep and the top of the range. */
        for (int64_t k = 0; k <= 200000 + 1000; k++) {
                int64_t f = k <= 200000 ? k : MONEY_MAX_FEN - (k - 200000);
                json_auto_t *v = money_to_json(f);
                char *s = json_dumps(v, JSON_ENCODE_ANY);
                json_error_t je;
                json_auto_t *back = json_loads(s, JSON_DECODE_ANY, &je);
                int64_t fen = -1;
                const char *err = NULL;

                if (!back || money_from_json(back, &fen, &err) != 0 || fen != f)
                        fail_msg("%lld fen -> %s -> %lld fen", (long long)f, s, (long long)fen);
                free(s);
        }
}

static void test_format(void **state)
{
        (void)state;
        static const struct {
                int64_t fen;
                const char *text;
        } cases[] = {
            {0, "0"},
            {1, "0.01"},
            {10, "0.1"},
            {99, "0.99"},
            {100, "1"},
            {1999, "19.99"},
            {4500000, "45000"},
            {4500050, "45000.5"},
            {4500005, "45000.05"},
            {MONEY_MAX_FEN, "100000000000"},
            {-1, "-0.01"},
            {-150, "-1.5"},
            {-100, "-1"},
            {INT64_MAX, "92233720368547758.07"},
            {INT64_MIN, "-92233720368547758.08"},
        };
        char buf[64];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int n = money_format(cases[i].fen, buf, sizeof(buf));
                assert_string_equal(buf, cases[i].text);
                assert_int_equal(n, (int)strlen(cases[i].text));
        }
        /* Truncation: snprintf's count, a terminated prefix. */
        char small[4];
        assert_int_equal(money_format(4500050, small, sizeof(small)), 7);
        assert_string_equal(small, "450");
}

static void test_add(void **state)
{
        (void)state;
        const int64_t cap = MONEY_SUM_CAP;
        static const struct {
                int64_t a, b, sum;
        } cases[] = {
            {0, 0, 0},
            {1, 2, 3},
            {1999, 1, 2000},
            {-5, 3, -2},
            {MONEY_MAX_FEN, MONEY_MAX_FEN, 2 * MONEY_MAX_FEN},
            {MONEY_SUM_CAP - 1, 1, MONEY_SUM_CAP},
            {MONEY_SUM_CAP, 1, MONEY_SUM_CAP},
            {MONEY_SUM_CAP, MONEY_SUM_CAP, MONEY_SUM_CAP},
            {INT64_MAX, 1, MONEY_SUM_CAP},
            {INT64_MAX, INT64_MAX, MONEY_SUM_CAP},
            {INT64_MAX, INT64_MIN, -1},
            {-MONEY_SUM_CAP, -1, -MONEY_SUM_CAP},
            {INT64_MIN, -1, -MONEY_SUM_CAP},
            {INT64_MIN, INT64_MIN, -MONEY_SUM_CAP},
            {INT64_MIN, 0, -MONEY_SUM_CAP},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int64_t s = money_add(cases[i].a, cases[i].b);
                if (s != cases[i].sum)
                        fail_msg("money_add(%lld, %lld) = %lld, want %lld", (long long)cases[i].a,
                                 (long long)cases[i].b, (long long)s, (long long)cases[i].sum);
                assert_int_equal(money_add(cases[i].b, cases[i].a), s);
        }

        /* Summing the maximum amount 200,000 times: exact while it fits
         * (100,000 of them), then stuck at the cap, never wrapping. */
        int64_t sum = 0;
        for (int i = 1; i <= 200000; i++) {
                int64_t next = money_add(sum, MONEY_MAX_FEN);
                assert_true(next >= sum);
                if (next != (i <= 100000 ? i * MONEY_MAX_FEN : cap))
                        fail_msg("sum %d: %lld", i, (long long)next);
                sum = next;
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_literals),  cmocka_unit_test(test_not_json_numbers),
            cmocka_unit_test(test_sweep_fen), cmocka_unit_test(test_sweep_magnitudes),
            cmocka_unit_test(test_to_json),   cmocka_unit_test(test_format),
            cmocka_unit_test(test_add),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
