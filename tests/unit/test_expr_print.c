/* Unit tests of printing rule expressions and print/parse round trips (daemon/expr.c). */
/* The canonical text of a corpus, truncation, and round trips over random
 * well-typed expressions and over mutated corpus entries, which must never
 * trip the sanitizers. The household is in expr_fixture.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "expr.h"
#include "macro.h"

#include "expr_fixture.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* --- printing and round trips ------------------------------------------- */

typedef struct {
        const char *src;
        ExprType want;
        const char *canon; /* NULL: the source is canonical */
} PrintCase;

static const PrintCase print_cases[] = {
    {"1+2*3", N, "1 + 2 * 3"},
    {"(1+2)*3", N, "(1 + 2) * 3"},
    {"(1 - 2) - 3", N, "1 - 2 - 3"},
    {"1 - (2 - 3)", N, NULL},
    {"1 - (2 + 3)", N, NULL},
    {"1 + (2 + 3)", N, NULL},
    {"1 / (2 * 3)", N, NULL},
    {"(1 * 2) / 3", N, "1 * 2 / 3"},
    {"-(1 + 2)", N, NULL},
    {"-(-income_last_year)", N, "- -income_last_year"},
    {"--income_last_year", N, "- -income_last_year"},
    {"-(5)", N, "-5"},
    {"- - 5", N, "5"},
    {"2 * -5", N, NULL},
    {"-5 * 2", N, NULL},
    {"1 - -0.5", N, NULL},
    {"10.50", N, "10.5"},
    {"0.05", N, NULL},
    {"not (true and false)", B, NULL},
    {"not true and false", B, NULL},
    {"(not true) and false", B, "not true and false"},
    {"not not true", B, NULL},
    {"(1 < 2) == (2 < 3)", B, NULL},
    {"(not true) == false", B, NULL},
    {"true == (not false)", B, NULL},
    {"true or (false or true)", B, NULL},
    {"(true or false) or true", B, "true or false or true"},
    {"true and (false or true)", B, NULL},
    {"(true and false) or true", B, "true and false or true"},
    {"status   in[\"a\",\"b\"]", B, "status in [\"a\", \"b\"]"},
    {"(status in [\"a\"]) == true", B, NULL},
    {"not status in [\"a\"]", B, NULL},
    {"\"quote \\\" and \\\\\"", S, NULL},
    {"\"低保 边缘\"", S, NULL},
    {"date( \"2022-01-01\" )", D, "date(\"2022-01-01\")"},
    {"today", D, NULL},
    {"min(1,2,3)", N, "min(1, 2, 3)"},
    {"max(income_last_year, rigid_12m) - min(1)", N, NULL},
    {"abs(-income_last_year)", N, NULL},
    {"coalesce(missing_num, income_last_year, 0)", N, NULL},
    {"present(last_visit.date)", B, NULL},
    {"per_capita(income_last_year - income_loss_12m) < floor_line(year(today))", B, NULL},
    {"rigid_12m > income_last_year and income_last_year > 0", B, NULL},
    {"count(members, member.serious_illness or (member.disability_grade >= 1 and "
     "member.disability_grade <= 2)) > 0",
     B,
     "count(members, member.serious_illness or member.disability_grade >= 1 and "
     "member.disability_grade <= 2) > 0"},
    {"any(needs, need.urgent) or status in [\"minimum_living\", \"marginal\"]", B, NULL},
    {"last_visit.drinking_water == \"risk\" and days_since(last_visit.date) <= 45", B, NULL},
    {"income_last_year < floor_line(2022) * 1.1 * 4", B, NULL},
    {"all(members, member.income >= 0 and any(needs, need.amount < member.income))", B, NULL},
    {"sum(needs, need.amount) / count(members, true)", N, NULL},
    {"\n  key_monitoring\n  and not (status == \"x\")\n", B,
     "key_monitoring and not status == \"x\""},
    {"(days_since(last_visit.date) != 0) == (1 > 0)", B, NULL},
};

static void test_print(void **state)
{
        char buf[512];
        (void)state;

        for (size_t i = 0; i < ELEMENTSOF(print_cases); i++) {
                const PrintCase *c = &print_cases[i];
                Expr *e = compile_ok(c->src, c->want);
                expr_print(e, buf, sizeof(buf));
                const char *want = c->canon ? c->canon : c->src;
                if (!streq(buf, want))
                        fail_msg("'%s' printed as '%s', want '%s'", c->src, buf, want);
                check_round_trip(e, c->want);
                expr_free(e);
        }
        assert_true(ELEMENTSOF(print_cases) >= 30);
}

static void test_print_truncation(void **state)
{
        Expr *e = compile_ok("income_last_year + 1", N);
        char buf[8];
        (void)state;

        assert_int_equal(expr_print(e, NULL, 0), 20);
        memset(buf, 'x', sizeof(buf));
        assert_int_equal(expr_print(e, buf, sizeof(buf)), 20);
        assert_string_equal(buf, "income_");
        assert_int_equal(expr_print(e, buf, 1), 20);
        assert_string_equal(buf, "");
        expr_free(e);
}

/* --- random round trips -------------------------------------------------- */

typedef struct {
        uint64_t s;
        char *buf;
        size_t len, n;
} Gen;

static unsigned rnd(Gen *g, unsigned n)
{
        /* xorshift64: fixed seed, same sequence on every platform. */
        g->s ^= g->s << 13;
        g->s ^= g->s >> 7;
        g->s ^= g->s << 17;
        return (unsigned)(g->s % n);
}

static void emit(Gen *g, const char *fmt, ...) _printf_(2, 3);
static void emit(Gen *g, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(g->buf + g->n, g->len - g->n, fmt, ap);
        va_end(ap);
        if (k > 0)
                g->n = MIN(g->n + (size_t)k, g->len - 1);
}

static void gen(Gen *g, ExprType t, unsigned depth, unsigned scope);

/* Some spacing and redundant parentheses, which printing must remove. */
static void gen_wrapped(Gen *g, ExprType t, unsigned depth, unsigned scope)
{
        bool parens = rnd(g, 5) == 0;
        emit(g, "%s%s", rnd(g, 3) ? " " : "", parens ? "(" : "");
        gen(g, t, depth, scope);
        emit(g, "%s%s", parens ? ")" : "", rnd(g, 3) ? " " : "\n");
}

/* Emits a random well-typed expression of type t. `scope` is 1 inside a
 * count/any/all/sum over members, where member fields are in scope. */
static void gen(Gen *g, ExprType t, unsigned depth, unsigned scope)
{
        static const char *const nums[] = {
            "income_last_year", "missing_num", "zero", "0.5", "3", "12.34", "10000"};
        static const char *const strs[] = {"status", "missing_str", "\"marginal\"", "\"a\\\"b\"",
                                           "\"低保\""};
        static const char *const dates[] = {"today", "last_visit.date", "missing_date",
                                            "date(\"2022-01-01\")"};
        static const char *const bools[] = {"true", "false", "key_monitoring", "missing_bool"};
        bool leaf = depth == 0 || rnd(g, 8) == 0;

        switch (t) {
        case EXPR_NUMBER:
                if (leaf) {
                        if (scope && rnd(g, 3) == 0)
                                emit(g, "member.%s", rnd(g, 2) ? "income" : "disability_grade");
                        else
                                emit(g, "%s%s", rnd(g, 4) ? "" : "-",
                                     nums[rnd(g, ELEMENTSOF(nums))]);
                        return;
                }
                switch (rnd(g, 8)) {
                case 0:
                        emit(g, "-");
                        gen_wrapped(g, t, depth - 1, scope);
                        return;
                case 1:
                        emit(g, "%s(", rnd(g, 2) ? "min" : "max");
                        for (unsigned k = rnd(g, 3); k > 0; k--) {
                                gen_wrapped(g, t, depth - 1, scope);
                                emit(g, ",");
                        }
                        gen_wrapped(g, t, depth - 1, scope);
                        emit(g, ")");
                        return;
                case 2:
                        emit(g, "%s(", rnd(g, 2) ? "year" : "days_since");
                        gen_wrapped(g, EXPR_DATE, depth - 1, scope);
                        emit(g, ")");
                        return;
                case 3:
                        if (!scope) {
                                bool count = rnd(g, 2);
                                emit(g, "%s(members,", count ? "count" : "sum");
                                gen_wrapped(g, count ? EXPR_BOOL : EXPR_NUMBER, depth - 1, 1);
                                emit(g, ")");
                                return;
                        }
                        emit(g, "per_capita(");
                        gen_wrapped(g, t, depth - 1, scope);
                        emit(g, ")");
                        return;
                default:
                        gen_wrapped(g, t, depth - 1, scope);
                        emit(g, "%s", (const char *[]){"+", "-", "*", "/"}[rnd(g, 4)]);
                        gen_wrapped(g, t, depth - 1, scope);
                        return;
                }
        case EXPR_BOOL:
                if (leaf) {
                        if (scope && rnd(g, 3) == 0)
                                emit(g, "member.%s", rnd(g, 2) ? "labor" : "serious_illness");
                        else
                                emit(g, "%s", bools[rnd(g, ELEMENTSOF(bools))]);
                        return;
                }
                switch (rnd(g, 9)) {
                case 0:
                        emit(g, "not ");
                        gen_wrapped(g, t, depth - 1, scope);
                        return;
                case 1:
                case 2:
                        emit(g, "(");
                        gen_wrapped(g, t, depth - 1, scope);
                        emit(g, ")%s(", rnd(g, 2) ? "and" : "or");
                        gen_wrapped(g, t, depth - 1, scope);
                        emit(g, ")");
                        return;
                case 3:
                        emit(g, "(");
                        gen_wrapped(g, EXPR_STRING, depth - 1, scope);
                        emit(g, ") in [\"marginal\", \"x\"]");
                        return;
                case 4:
                        emit(g, "present(");
                        gen_wrapped(g, (ExprType)rnd(g, 4), depth - 1, scope);
                        emit(g, ")");
                        return;
                case 5:
                        if (!scope) {
                                emit(g, "%s(members,", rnd(g, 2) ? "any" : "all");
                                gen_wrapped(g, t, depth - 1, 1);
                                emit(g, ")");
                                return;
                        }
                        /* fall through */
                default: {
                        ExprType a = (ExprType)rnd(g, 4);
                        bool order = a == EXPR_NUMBER || a == EXPR_DATE;
                        emit(g, "(");
                        gen_wrapped(g, a, depth - 1, scope);
                        emit(g, ")%s(",
                             order ? (const char *[]){"<", "<=", ">", ">=", "==", "!="}[rnd(g, 6)]
                             : rnd(g, 2) ? "=="
                                         : "!=");
                        gen_wrapped(g, a, depth - 1, scope);
                        emit(g, ")");
                        return;
                }
                }
        case EXPR_STRING:
                if (leaf || rnd(g, 2))
                        emit(g, "%s", strs[rnd(g, ELEMENTSOF(strs))]);
                else {
                        emit(g, "coalesce(");
                        gen_wrapped(g, t, depth - 1, scope);
                        emit(g, ",");
                        gen_wrapped(g, t, depth - 1, scope);
                        emit(g, ")");
                }
                return;
        case EXPR_DATE:
                emit(g, "%s", dates[rnd(g, ELEMENTSOF(dates))]);
                return;
        }
}

static bool same_result(int r1, const ExprValue *a, int r2, const ExprValue *b)
{
        char x[64], y[64];
        expr_value_format(a, x, sizeof(x));
        expr_value_format(b, y, sizeof(y));
        return r1 == r2 && a->type == b->type && streq(x, y);
}

static void test_random_round_trip(void **state)
{
        char src[EXPR_MAX_SOURCE + 1];
        Gen g = {.s = 0x9e3779b97f4a7c15u, .buf = src, .len = sizeof(src)};
        unsigned compiled = 0;
        (void)state;

        for (unsigned i = 0; i < 3000; i++) {
                /* Mostly numbers and bools: strings and dates have few forms. */
                static const ExprType top[] = {EXPR_NUMBER, EXPR_NUMBER, EXPR_BOOL,
                                               EXPR_BOOL,   EXPR_STRING, EXPR_DATE};
                ExprType t = top[rnd(&g, ELEMENTSOF(top))];
                g.n = 0;
                gen(&g, t, 2 + rnd(&g, 6), 0);
                ExprError err;
                Expr *e = expr_compile(src, &sym, t, &err);
                if (!e) {
                        /* Only the size limits may refuse a generated expression. */
                        if (!strstr(err.msg, "nodes") && !strstr(err.msg, "too long"))
                                fail_msg("'%s': %u:%u: %s", src, err.line, err.col, err.msg);
                        continue;
                }
                compiled++;
                check_round_trip(e, t);

                /* The reparsed expression computes the same. */
                char text[EXPR_MAX_SOURCE * 2];
                expr_print(e, text, sizeof(text));
                Expr *f = compile_ok(text, t);
                ExprValue a, b;
                int r1 = expr_eval(e, &env, &a), r2 = expr_eval(f, &env, &b);
                if (!same_result(r1, &a, r2, &b))
                        fail_msg("'%s' and '%s' evaluate differently", src, text);
                expr_free(f);
                expr_free(e);
        }
        assert_true(compiled > 2500);
}

/* Mutated corpus entries: whatever compiles must print, round-trip and
 * evaluate without tripping the sanitizers. */
static void test_mutations(void **state)
{
        static const char alphabet[] = "()[],.\"\\-+*/<>=! 0123456789anotx_\n\x80";
        Gen g = {.s = 42};
        char src[1024];
        (void)state;

        for (unsigned i = 0; i < 20000; i++) {
                const PrintCase *c = &print_cases[rnd(&g, ELEMENTSOF(print_cases))];
                size_t n = strlen(c->src);
                memcpy(src, c->src, n + 1);
                for (unsigned m = 1 + rnd(&g, 3); m > 0; m--) {
                        size_t at = rnd(&g, (unsigned)n + 1);
                        char ch = alphabet[rnd(&g, sizeof(alphabet) - 1)];
                        switch (rnd(&g, 3)) {
                        case 0: /* replace */
                                if (at < n)
                                        src[at] = ch;
                                break;
                        case 1: /* delete */
                                if (at < n) {
                                        memmove(src + at, src + at + 1, n - at);
                                        n--;
                                }
                                break;
                        default: /* insert */
                                memmove(src + at + 1, src + at, n - at + 1);
                                src[at] = ch;
                                n++;
                        }
                }
                for (unsigned t = 0; t < 4; t++) {
                        ExprError err;
                        Expr *e = expr_compile(src, &sym, (ExprType)t, &err);
                        if (!e) {
                                assert_true(err.line >= 1 && err.col >= 1 && err.msg[0]);
                                continue;
                        }
                        check_round_trip(e, (ExprType)t);
                        ExprValue v;
                        (void)expr_eval(e, &env, &v);
                        expr_free(e);
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_print),
            cmocka_unit_test(test_print_truncation),
            cmocka_unit_test(test_random_round_trip),
            cmocka_unit_test(test_mutations),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
