/* Unit tests of compiling and evaluating rule expressions (daemon/expr.c). */
/* Parsing and precedence, type errors with line:col, every function, money
 * exactness, overflow and division by zero, absent values, collections,
 * floor lines; the size and depth limits; the environment's errors, value
 * formatting, equality and variables. Printing and print/parse round trips
 * are in test_expr_print.c, the household in expr_fixture.h. */
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

static const char *type_name(ExprType t)
{
        return expr_type_to_string(t);
}

/* --- evaluation table --------------------------------------------------- */

typedef struct {
        const char *src;
        ExprType want;
        int rc;
        const char *value; /* expr_value_format() of the result */
} EvalCase;

static const EvalCase eval_cases[] = {
    /* precedence and associativity */
    {"1 + 2 * 3", N, 0, "7"},
    {"(1 + 2) * 3", N, 0, "9"},
    {"10 - 2 - 3", N, 0, "5"},
    {"10 - (2 - 3)", N, 0, "11"},
    {"100 / 10 / 2", N, 0, "5"},
    {"-2 * 3", N, 0, "-6"},
    {"- -2", N, 0, "2"},
    {"-(2 + 3)", N, 0, "-5"},
    {"2 - -3", N, 0, "5"},
    {"-income_last_year + 1", N, 0, "-35999"},
    {"not true or true", B, 0, "true"},
    {"not (true or true)", B, 0, "false"},
    {"not 1 > 2", B, 0, "true"},
    {"true or false and false", B, 0, "true"},
    {"(true or false) and false", B, 0, "false"},
    {"(1 < 2) == true", B, 0, "true"},
    {"1 + 1 == 2 and 2 * 2 == 4", B, 0, "true"},
    /* money is exact */
    {"0.1 + 0.2 == 0.3", B, 0, "true"},
    {"45000 > 36000", B, 0, "true"},
    {"10000 * 1.1 == 11000", B, 0, "true"},
    {"10000 * 1.1", N, 0, "11000"},
    {"12.34 * 2", N, 0, "24.68"},
    {"7 / 2", N, 0, "3.5"},
    {"1 / 3", N, 0, "0.33"},
    {"-1 / 3", N, 0, "-0.33"},
    {"2 / 3 * 3", N, 0, "1.98"},
    {"0.01 * 0.01", N, 0, "0"},
    {"-0.05 * 0.5", N, 0, "-0.02"},
    {"0.5", N, 0, "0.5"},
    {"007.10", N, 0, "7.1"},
    /* strings, bools, dates */
    {"\"a\" == \"a\"", B, 0, "true"},
    {"\"a\" != \"b\"", B, 0, "true"},
    {"\"say \\\"hi\\\" \\\\\"", S, 0, "say \"hi\" \\"},
    {"\"低保\" == \"低保\"", B, 0, "true"},
    {"status in [\"minimum_living\", \"marginal\"]", B, 0, "true"},
    {"status in [\"extreme_poverty\"]", B, 0, "false"},
    {"key_monitoring == true", B, 0, "true"},
    {"status", S, 0, "marginal"},
    {"today", D, 0, "2024-03-15"},
    {"date(\"2022-01-01\") < today", B, 0, "true"},
    {"date(\"2024-03-15\") == today", B, 0, "true"},
    {"last_visit.date", D, 0, "2024-02-20"},
    {"date(\"1969-12-31\")", D, 0, "1969-12-31"},
    {"date(\"2000-02-29\")", D, 0, "2000-02-29"},
    {"date(\"0001-01-01\")", D, 0, "0001-01-01"},
    {"date(\"9999-12-31\")", D, 0, "9999-12-31"},
    /* functions */
    {"year(today)", N, 0, "2024"},
    {"year(date(\"1969-12-31\"))", N, 0, "1969"},
    {"days_since(last_visit.date)", N, 0, "24"},
    {"days_since(date(\"2024-03-16\"))", N, 0, "-1"},
    {"min(3, 1, 2)", N, 0, "1"},
    {"max(3, 1.5, 2)", N, 0, "3"},
    {"max(-1)", N, 0, "-1"},
    {"min(8, 7, 6, 5, 4, 3, 2, 1)", N, 0, "1"},
    {"abs(-2.5)", N, 0, "2.5"},
    {"abs(3)", N, 0, "3"},
    {"per_capita(income_last_year)", N, 0, "9000"},
    {"per_capita(10)", N, 0, "2.5"},
    {"per_capita(0.03)", N, 0, "0"},
    {"coalesce(missing_num, 7)", N, 0, "7"},
    {"coalesce(income_last_year, 7)", N, 0, "36000"},
    {"coalesce(missing_str, status)", S, 0, "marginal"},
    {"coalesce(missing_num)", N, 0, "unknown"},
    {"present(missing_num)", B, 0, "false"},
    {"present(status)", B, 0, "true"},
    {"present(missing_num > 1)", B, 0, "false"},
    /* floor lines: the latest year not after the one asked for */
    {"floor_line(2022)", N, 0, "10000"},
    {"floor_line(2023)", N, 0, "10000"},
    {"floor_line(2023.9)", N, 0, "10000"},
    {"floor_line(2024)", N, 0, "11000"},
    {"floor_line(2030)", N, 0, "11000"},
    {"floor_line(year(today))", N, 0, "11000"},
    {"floor_line(2021)", N, -ENOENT, "unknown"},
    /* the rules of the brief */
    {"per_capita(income_last_year - income_loss_12m) < floor_line(year(today))", B, 0, "true"},
    {"rigid_12m > income_last_year and income_last_year > 0", B, 0, "true"},
    {"count(members, member.serious_illness or (member.disability_grade >= 1 and "
     "member.disability_grade <= 2)) > 0",
     B, 0, "true"},
    {"any(needs, need.urgent) or status in [\"minimum_living\", \"marginal\"]", B, 0, "true"},
    {"last_visit.drinking_water == \"risk\" and days_since(last_visit.date) <= 45", B, 0, "true"},
    {"income_last_year < floor_line(2022) * 1.1 * 4", B, 0, "true"},
    /* collections */
    {"count(members, member.serious_illness or (member.disability_grade >= 1 and "
     "member.disability_grade <= 2))",
     N, 0, "2"},
    {"count(members, member.labor)", N, 0, "2"},
    {"count(members, member.birth < date(\"2000-01-01\"))", N, 0, "2"},
    {"all(members, member.income >= 0)", B, 0, "true"},
    {"all(members, member.disability_grade > 0)", B, 0, "false"},
    {"all(members, member.disability_grade >= 0)", B, 0, "unknown"},
    {"any(members, member.disability_grade >= 2)", B, 0, "true"},
    {"any(members, member.disability_grade > 5)", B, 0, "unknown"},
    {"count(members, member.disability_grade > 5)", N, 0, "0"},
    {"sum(members, member.income)", N, 0, "36000"},
    {"sum(needs, need.amount)", N, 0, "15000.5"},
    {"sum(members, member.disability_grade)", N, 0, "unknown"},
    {"any(needs, need.kind in [\"housing\"])", B, 0, "true"},
    {"sum(empty, e.x)", N, 0, "0"},
    {"count(empty, e.x > 0)", N, 0, "0"},
    {"any(empty, e.x > 0)", B, 0, "false"},
    {"all(empty, e.x > 0)", B, 0, "true"},
    {"count(members, any(needs, need.urgent) and member.labor)", N, 0, "2"},
    {"count(members, member.income > sum(needs, need.amount))", N, 0, "2"},
    {"sum(members, count(needs, need.amount > member.income))", N, 0, "4"},
    {"count(members, member.income > income_last_year / 2)", N, 0, "1"},
    /* absent values */
    {"missing_num + 1", N, 0, "unknown"},
    {"-missing_num", N, 0, "unknown"},
    {"missing_num > 1", B, 0, "unknown"},
    {"missing_num == missing_num", B, 0, "unknown"},
    {"not (missing_num > 1)", B, 0, "unknown"},
    {"not (missing_str == \"safe\")", B, 0, "unknown"},
    {"missing_str != \"safe\"", B, 0, "unknown"},
    {"missing_bool and false", B, 0, "false"},
    {"false and missing_bool", B, 0, "false"},
    {"missing_bool and true", B, 0, "unknown"},
    {"true and missing_bool", B, 0, "unknown"},
    {"missing_bool or true", B, 0, "true"},
    {"true or missing_bool", B, 0, "true"},
    {"missing_bool or false", B, 0, "unknown"},
    {"missing_str in [\"a\"]", B, 0, "unknown"},
    {"min(1, missing_num)", N, 0, "unknown"},
    {"abs(missing_num)", N, 0, "unknown"},
    {"year(missing_date)", N, 0, "unknown"},
    {"days_since(missing_date)", N, 0, "unknown"},
    {"per_capita(missing_num)", N, 0, "unknown"},
    {"floor_line(missing_num)", N, 0, "unknown"},
    {"missing_date < today", B, 0, "unknown"},
    {"any(flags, flag.v)", B, 0, "unknown"},
    {"all(flags, flag.v)", B, 0, "false"},
    {"count(flags, not flag.v)", N, 0, "1"},
    {"sum(vals, val.n)", N, 0, "unknown"},
    {"present(missing_num) or income_last_year > 0", B, 0, "true"},
    /* overflow, division by zero, short-circuit */
    {"92233720368547758.07", N, 0, "92233720368547758.07"},
    {"-92233720368547758.07 - 0.01", N, 0, "-92233720368547758.08"},
    {"92233720368547758.07 + 0.01", N, -ERANGE, "unknown"},
    {"-92233720368547758.07 - 0.02", N, -ERANGE, "unknown"},
    {"big + 0.01", N, -ERANGE, "unknown"},
    {"small - 0.01", N, -ERANGE, "unknown"},
    {"big * 2", N, -ERANGE, "unknown"},
    {"big * 1", N, 0, "92233720368547758.07"},
    {"big * 0.5", N, 0, "46116860184273879.03"},
    {"small * -1", N, -ERANGE, "unknown"},
    {"small / -1", N, -ERANGE, "unknown"},
    {"big / 0.5", N, -ERANGE, "unknown"},
    {"-small", N, -ERANGE, "unknown"},
    {"abs(small)", N, -ERANGE, "unknown"},
    {"sum(members, big)", N, -ERANGE, "unknown"},
    {"1 / 0", N, -EDOM, "unknown"},
    {"1 / zero", N, -EDOM, "unknown"},
    {"1 / (0.5 - 0.5) > 0", B, -EDOM, "unknown"},
    {"false and 1 / 0 > 0", B, 0, "false"},
    {"true or 1 / 0 > 0", B, 0, "true"},
    {"missing_bool and 1 / 0 > 0", B, -EDOM, "unknown"},
    {"coalesce(1, 1 / 0)", N, 0, "1"},
    {"present(1 / 0)", B, -EDOM, "unknown"},
    {"count(members, 1 / zero > 0)", N, -EDOM, "unknown"},
};

static void test_eval_table(void **state)
{
        unsigned failed = 0;
        (void)state;

        for (size_t i = 0; i < ELEMENTSOF(eval_cases); i++) {
                const EvalCase *c = &eval_cases[i];
                ExprError err;
                Expr *e = expr_compile(c->src, &sym, c->want, &err);
                if (!e) {
                        print_error("%s: %u:%u: %s\n", c->src, err.line, err.col, err.msg);
                        failed++;
                        continue;
                }
                ExprValue v;
                int r = expr_eval(e, &env, &v);
                char buf[64];
                expr_value_format(&v, buf, sizeof(buf));
                if (r != c->rc || !streq(buf, c->value) || v.type != c->want ||
                    expr_type(e) != c->want) {
                        print_error("%s: got %d '%s' (%s), want %d '%s'\n", c->src, r, buf,
                                    type_name(v.type), c->rc, c->value);
                        failed++;
                }
                expr_free(e);
        }
        assert_int_equal(failed, 0);
}

/* --- compile errors ----------------------------------------------------- */

typedef struct {
        const char *src;
        ExprType want;
        unsigned line, col;
        const char *msg; /* a substring of the message */
} ErrorCase;

static const ErrorCase error_cases[] = {
    {"incme_last_year > 0", B, 1, 1, "unknown variable 'incme_last_year'"},
    {"income_last_year + status", N, 1, 18, "'+' needs numbers, got string"},
    {"status * \"x\"", N, 1, 8, "'*' needs numbers, got string and string"},
    {"(1 + 2", N, 1, 7, "expected ')', got end of expression"},
    {"min(1, 2", N, 1, 9, "expected ',' or ')'"},
    {"1.234", N, 1, 1, "number has more than 2 decimals"},
    {"1.", N, 1, 2, "expected a digit after '.'"},
    {"12abc", N, 1, 1, "invalid number '12a'"},
    {"1.2.3", N, 1, 1, "invalid number"},
    {"92233720368547758.08", N, 1, 1, "number out of range"},
    {"99999999999999999999999", N, 1, 1, "number out of range"},
    {"1 +\n  \"a\"", N, 1, 3, "'+' needs numbers, got string"},
    {"true and\n  (1 +\n   x) > 0", B, 3, 4, "unknown variable 'x'"},
    {"1 < 2 < 3", B, 1, 7, "comparisons do not chain"},
    {"status in [\"a\"] == true", B, 1, 17, "comparisons do not chain"},
    {"status > \"a\"", B, 1, 8, "'>' needs two numbers or two dates, got string and string"},
    {"today < 3", B, 1, 7, "got date and number"},
    {"1 == \"a\"", B, 1, 3, "'==' needs two values of one type, got number and string"},
    {"1 and true", B, 1, 3, "'and' needs bools, got number"},
    {"true or \"x\"", B, 1, 6, "'or' needs bools, got string"},
    {"not 1", B, 1, 1, "'not' needs a bool, got number"},
    {"-true", N, 1, 1, "'-' needs a number, got bool"},
    {"foo(1)", N, 1, 1, "unknown function 'foo'"},
    {"abs(1, 2)", N, 1, 8, "'abs' takes at most 1 argument"},
    {"min()", N, 1, 1, "'min' needs 1 argument"},
    {"min(1, 2, 3, 4, 5, 6, 7, 8, 9)", N, 1, 29, "'min' takes at most 8 arguments"},
    {"max(1, \"a\")", N, 1, 8, "'max' needs a number, got string"},
    {"year(1)", N, 1, 6, "'year' needs a date, got number"},
    {"days_since(status)", N, 1, 12, "'days_since' needs a date, got string"},
    {"coalesce(1, \"a\")", N, 1, 13, "'coalesce' needs arguments of one type"},
    {"date(\"2022-02-30\")", D, 1, 6, "invalid date \"2022-02-30\""},
    {"date(\"2023-02-29\")", D, 1, 6, "invalid date"},
    {"date(\"2022-1-1\")", D, 1, 6, "invalid date"},
    {"date(\"2022-13-01\")", D, 1, 6, "invalid date"},
    {"date(2022)", D, 1, 6, "expected a date like \"2022-01-01\", got '2022'"},
    {"date(\"2022-01-01\", 1)", D, 1, 18, "expected ')'"},
    {"members > 0", B, 1, 1, "'members' is a collection"},
    {"member.labor", B, 1, 1, "'member.labor' exists only inside count, any, all or sum"},
    {"count(members, member.labr) > 0", B, 1, 16, "unknown field 'labr' of member"},
    {"count(members, member) > 0", B, 1, 16, "'member' is a row of 'members'"},
    {"count(members, count(members, member.labor) > 0)", N, 1, 16,
     "nested 'count' over 'members' is not allowed"},
    {"count(income_last_year, true)", N, 1, 7, "'count' needs a collection first"},
    {"count(members true)", N, 1, 15, "expected ','"},
    {"sum(members, member.labor)", N, 1, 14, "'sum' needs a number for each member, got bool"},
    {"any(members, member.income)", B, 1, 14, "'any' needs a bool for each member"},
    {"any(members, any(needs, any(empty, any(flags, any(vals, val.n > 0)))))", B, 1, 47,
     "more than 4 nested collection functions"},
    {"income_last_year", B, 1, 1, "expression is a number, expected a bool"},
    {"  1 + 1", S, 1, 3, "expression is a number, expected a string"},
    {"", B, 1, 1, "empty expression"},
    {" \n  ", B, 2, 3, "empty expression"},
    {"1 2", N, 1, 3, "expected an operator or the end, got '2'"},
    {"income_last_year = 1", B, 1, 18, "unexpected '=', did you mean '=='?"},
    {"1 & 2", N, 1, 3, "unexpected character '&'"},
    {"1 +\t\x01", N, 1, 5, "unexpected byte 0x01"},
    {"\"abc", S, 1, 1, "unterminated string"},
    {"\"abc\\", S, 1, 1, "unterminated string"},
    {"\"a\nb\"", S, 1, 1, "unterminated string"},
    {"\"a\\nb\"", S, 1, 3, "unknown escape"},
    {"\"a\tb\"", S, 1, 3, "control character in string"},
    {"status in []", B, 1, 12, "expected a string, got ']'"},
    {"status in [\"a\" \"b\"]", B, 1, 16, "expected ',' or ']'"},
    {"status in \"a\"", B, 1, 11, "expected '['"},
    {"1 in [\"a\"]", B, 1, 3, "'in' needs a string on the left, got number"},
    {"1 +", N, 1, 4, "expected a value, got end of expression"},
    {"(", N, 1, 2, "expected a value"},
    {"not", B, 1, 4, "expected a value"},
    {"today(1)", D, 1, 1, "unknown function 'today'"},
    {"and", B, 1, 1, "expected a value, got 'and'"},
};

static void test_compile_errors(void **state)
{
        unsigned failed = 0;
        (void)state;

        for (size_t i = 0; i < ELEMENTSOF(error_cases); i++) {
                const ErrorCase *c = &error_cases[i];
                ExprError err;
                Expr *e = expr_compile(c->src, &sym, c->want, &err);
                if (e) {
                        expr_free(e);
                        print_error("'%s' compiled, want an error\n", c->src);
                        failed++;
                } else if (err.line != c->line || err.col != c->col || !strstr(err.msg, c->msg)) {
                        print_error("'%s': got %u:%u: %s, want %u:%u: %s\n", c->src, err.line,
                                    err.col, err.msg, c->line, c->col, c->msg);
                        failed++;
                }
        }
        assert_int_equal(failed, 0);
        /* The error may be NULL; a NULL source is an error too. */
        assert_null(expr_compile("1 +", &sym, N, NULL));
        assert_null(expr_compile(NULL, &sym, N, NULL));
        /* Without symbols, a variable is unknown. */
        ExprError err;
        assert_null(expr_compile("status == \"a\"", NULL, B, &err));
        assert_non_null(strstr(err.msg, "unknown variable 'status'"));
}

/* Builds a balanced sum of `leaves` ones: many nodes, little depth. */
static void balanced(char *buf, size_t len, size_t *n, unsigned leaves)
{
        if (leaves == 1) {
                *n += (size_t)snprintf(buf + *n, len - *n, "1");
                return;
        }
        *n += (size_t)snprintf(buf + *n, len - *n, "(");
        balanced(buf, len, n, leaves / 2);
        *n += (size_t)snprintf(buf + *n, len - *n, "+");
        balanced(buf, len, n, leaves - leaves / 2);
        *n += (size_t)snprintf(buf + *n, len - *n, ")");
}

static void test_limits(void **state)
{
        char buf[EXPR_MAX_SOURCE + 64];
        ExprError err;
        size_t n = 0;
        Expr *e;
        (void)state;

        /* Too long */
        memset(buf, ' ', EXPR_MAX_SOURCE);
        buf[0] = '1';
        buf[EXPR_MAX_SOURCE] = '\0';
        e = compile_ok(buf, N);
        expr_free(e);
        buf[EXPR_MAX_SOURCE] = ' ';
        buf[EXPR_MAX_SOURCE + 1] = '\0';
        assert_null(expr_compile(buf, &sym, N, &err));
        assert_non_null(strstr(err.msg, "expression too long"));

        /* Too many nodes: 256 leaves are 511 nodes, 257 are 513. */
        balanced(buf, sizeof(buf), &n, 256);
        e = compile_ok(buf, N);
        assert_int_equal(expr_vars(e, NULL, 0), 0);
        check_round_trip(e, N);
        expr_free(e);
        n = 0;
        balanced(buf, sizeof(buf), &n, 257);
        assert_null(expr_compile(buf, &sym, N, &err));
        assert_non_null(strstr(err.msg, "more than 512 nodes"));

        /* Depth: a chain 1 - (1 - (... -1)) of exactly 64 levels, with a
         * negative literal at the bottom, parses and round-trips; 65 fail. */
        for (unsigned levels = 64; levels <= 65; levels++) {
                n = 0;
                for (unsigned i = 1; i < levels; i++)
                        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "1 - (");
                n += (size_t)snprintf(buf + n, sizeof(buf) - n, "-1");
                for (unsigned i = 1; i < levels; i++)
                        n += (size_t)snprintf(buf + n, sizeof(buf) - n, ")");
                e = expr_compile(buf, &sym, N, &err);
                if (levels == 64) {
                        assert_non_null(e);
                        check_round_trip(e, N);
                        ExprValue v;
                        assert_int_equal(expr_eval(e, &env, &v), 0);
                        assert_int_equal(v.num, 200); /* 1 - (1 - x) = x, 1 - -1 = 2 */
                } else {
                        assert_null(e);
                        assert_non_null(strstr(err.msg, "nested too deeply"));
                }
                expr_free(e);
        }
        /* Chains of prefix operators and redundant parentheses. */
        for (unsigned k = 63; k <= 64; k++) {
                n = 0;
                for (unsigned i = 0; i < k; i++)
                        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "not ");
                snprintf(buf + n, sizeof(buf) - n, "key_monitoring");
                e = expr_compile(buf, &sym, B, &err);
                assert_true(k == 63 ? e != NULL : e == NULL);
                if (e) {
                        check_round_trip(e, B);
                        ExprValue v;
                        assert_int_equal(expr_eval(e, &env, &v), 0);
                        assert_false(expr_value_true(&v)); /* 63 nots of true */
                }
                expr_free(e);

                n = 0;
                for (unsigned i = 0; i < k; i++)
                        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "- ");
                snprintf(buf + n, sizeof(buf) - n, "income_last_year");
                e = expr_compile(buf, &sym, N, &err);
                assert_true(k == 63 ? e != NULL : e == NULL);
                if (e)
                        check_round_trip(e, N);
                expr_free(e);
        }
        n = 0;
        for (unsigned i = 0; i < 1000; i++)
                buf[n++] = '(';
        buf[n] = '\0';
        assert_null(expr_compile(buf, &sym, N, &err));
        assert_non_null(strstr(err.msg, "nested too deeply"));
}

/* --- the rest of the API -------------------------------------------------- */

static void test_env_errors(void **state)
{
        ExprValue v, bad_vars[_V_MAX];
        ExprEnv e2 = env;
        Expr *e;
        (void)state;

        /* household of 0 */
        e = compile_ok("per_capita(income_last_year)", N);
        e2.household_size = 0;
        assert_int_equal(expr_eval(e, &e2, &v), -EDOM);
        assert_true(v.absent);
        e2.household_size = -2;
        assert_int_equal(expr_eval(e, &e2, &v), 0);
        assert_int_equal(v.num, -1800000);
        expr_free(e);

        /* no floor lines at all */
        e = compile_ok("floor_line(2023)", N);
        e2 = env;
        e2.n_floor_lines = 0;
        assert_int_equal(expr_eval(e, &e2, &v), -ENOENT);
        /* unsorted table: still the latest year not after 2023 */
        const ExprFloorLine unsorted[] = {{2024, 3}, {2020, 1}, {2022, 2}};
        e2.floor_lines = unsorted;
        e2.n_floor_lines = ELEMENTSOF(unsorted);
        assert_int_equal(expr_eval(e, &e2, &v), 0);
        assert_int_equal(v.num, 2);
        expr_free(e);

        /* a value of the wrong type, a NULL string */
        memcpy(bad_vars, var_values, sizeof(bad_vars));
        bad_vars[V_STATUS] = (ExprValue)NUM(5);
        e2 = env;
        e2.vars = bad_vars;
        e = compile_ok("status == \"x\"", B);
        assert_int_equal(expr_eval(e, &e2, &v), -EINVAL);
        bad_vars[V_STATUS] = (ExprValue)STR(NULL);
        assert_int_equal(expr_eval(e, &e2, &v), -EINVAL);
        bad_vars[V_STATUS] = (ExprValue)ABSENT(EXPR_NUMBER);
        assert_int_equal(expr_eval(e, &e2, &v), 0);
        assert_true(v.absent && v.type == EXPR_BOOL);
        e2.vars = NULL;
        assert_int_equal(expr_eval(e, &e2, &v), -EINVAL);
        expr_free(e);

        /* collections missing or too narrow */
        e = compile_ok("sum(members, member.income)", N);
        e2 = env;
        e2.colls = NULL;
        assert_int_equal(expr_eval(e, &e2, &v), -EINVAL);
        ExprRows narrow[ELEMENTSOF(rows)];
        memcpy(narrow, rows, sizeof(narrow));
        narrow[0].stride = 3;
        e2.colls = narrow;
        assert_int_equal(expr_eval(e, &e2, &v), -EINVAL);
        narrow[0].rows = NULL;
        assert_int_equal(expr_eval(e, &e2, &v), -EINVAL);
        narrow[0].n_rows = 0;
        assert_int_equal(expr_eval(e, &e2, &v), 0);
        assert_int_equal(v.num, 0);

        assert_int_equal(expr_eval(e, NULL, &v), -EINVAL);
        assert_int_equal(expr_eval(NULL, &env, &v), -EINVAL);
        assert_int_equal(expr_eval(e, &env, NULL), -EINVAL);
        expr_free(e);

        assert_string_equal(expr_strerror(-ERANGE), "arithmetic overflow");
        assert_string_equal(expr_strerror(-EDOM), "division by zero");
        assert_string_equal(expr_strerror(-ENOENT), "no floor line for that year");
}

static void test_value_format(void **state)
{
        static const struct {
                ExprValue v;
                const char *text;
        } cases[] = {
            {NUM(4500000), "45000"},
            {NUM(4500050), "45000.5"},
            {NUM(4500001), "45000.01"},
            {NUM(-25), "-0.25"},
            {NUM(5), "0.05"},
            {NUM(0), "0"},
            {NUM(-10), "-0.1"},
            {NUM(-100), "-1"},
            {NUM(100000000010), "1000000000.1"},
            {NUM(INT64_MAX), "92233720368547758.07"},
            {NUM(INT64_MIN), "-92233720368547758.08"},
            {DATE(0), "1970-01-01"},
            {DATE(-1), "1969-12-31"},
            {DATE(11016), "2000-02-29"},
            {DATE(19797), "2024-03-15"},
            {BOOL(true), "true"},
            {BOOL(false), "false"},
            {STR("低保"), "低保"},
            {ABSENT(EXPR_NUMBER), "unknown"},
        };
        char buf[32];
        (void)state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t n = expr_value_format(&cases[i].v, buf, sizeof(buf));
                assert_string_equal(buf, cases[i].text);
                assert_int_equal(n, strlen(cases[i].text));
        }
        assert_int_equal(expr_value_format(&cases[0].v, buf, 3), 5);
        assert_string_equal(buf, "45");

        ExprValue t = BOOL(true), a = ABSENT(EXPR_BOOL), n = NUM(100);
        assert_true(expr_value_true(&t));
        assert_false(expr_value_true(&a));
        assert_false(expr_value_true(&n));
        assert_false(expr_value_true(NULL));
}

static void test_equal_and_vars(void **state)
{
        Expr *a = compile_ok("income_last_year + rigid_12m", N);
        Expr *b = compile_ok("(income_last_year)+rigid_12m", N);
        Expr *c = compile_ok("rigid_12m + income_last_year", N);
        Expr *d = compile_ok("status in [\"a\", \"b\"]", B);
        Expr *e = compile_ok("status in [\"a\", \"c\"]", B);
        Expr *f = compile_ok("income_last_year > 0 and count(members, member.labor) > 0 and "
                             "income_last_year < rigid_12m",
                             B);
        const char *names[4];
        (void)state;

        assert_true(expr_equal(a, b));
        assert_false(expr_equal(a, c));
        assert_false(expr_equal(d, e));
        assert_true(expr_equal(d, d));
        assert_false(expr_equal(a, d));
        assert_false(expr_equal(a, NULL));
        assert_true(expr_equal(NULL, NULL));

        assert_int_equal(expr_vars(f, names, ELEMENTSOF(names)), 3);
        assert_string_equal(names[0], "income_last_year");
        assert_string_equal(names[1], "members");
        assert_string_equal(names[2], "rigid_12m");
        assert_int_equal(expr_vars(f, names, 1), 3);
        assert_int_equal(expr_vars(d, names, 4), 1);

        /* same name compiled against a table with another slot differs */
        const ExprVar other[] = {{"status", EXPR_STRING, 7}};
        const ExprSymbols sym2 = {other, 1, NULL, 0};
        Expr *g = expr_compile("status in [\"a\", \"b\"]", &sym2, B, NULL);
        assert_non_null(g);
        assert_false(expr_equal(d, g));

        assert_null(expr_free(NULL));
        assert_null(expr_free(a));
        expr_free(b);
        expr_free(c);
        expr_free(d);
        expr_free(e);
        expr_free(f);
        expr_free(g);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_eval_table),   cmocka_unit_test(test_compile_errors),
            cmocka_unit_test(test_limits),       cmocka_unit_test(test_env_errors),
            cmocka_unit_test(test_value_format), cmocka_unit_test(test_equal_and_vars),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
