/* The expression tests' household: symbols, values and environment; compile helpers. */
/* Shared by test_expr.c (compiling and evaluating) and test_expr_print.c
 * (printing and round trips). */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "expr.h"
#include "macro.h"

/* --- a household ------------------------------------------------------- */

enum {
        V_INCOME,
        V_LOSS,
        V_RIGID,
        V_STATUS,
        V_WATER,
        V_VISIT_DATE,
        V_KEY,
        V_MISSING_NUM,
        V_MISSING_BOOL,
        V_MISSING_STR,
        V_MISSING_DATE,
        V_BIG,
        V_SMALL,
        V_ZERO,
        _V_MAX
};

static const ExprVar vars[] = {
    {"income_last_year", EXPR_NUMBER, V_INCOME},
    {"income_loss_12m", EXPR_NUMBER, V_LOSS},
    {"rigid_12m", EXPR_NUMBER, V_RIGID},
    {"status", EXPR_STRING, V_STATUS},
    {"last_visit.drinking_water", EXPR_STRING, V_WATER},
    {"last_visit.date", EXPR_DATE, V_VISIT_DATE},
    {"key_monitoring", EXPR_BOOL, V_KEY},
    {"missing_num", EXPR_NUMBER, V_MISSING_NUM},
    {"missing_bool", EXPR_BOOL, V_MISSING_BOOL},
    {"missing_str", EXPR_STRING, V_MISSING_STR},
    {"missing_date", EXPR_DATE, V_MISSING_DATE},
    {"big", EXPR_NUMBER, V_BIG},
    {"small", EXPR_NUMBER, V_SMALL},
    {"zero", EXPR_NUMBER, V_ZERO},
};

static const ExprVar member_fields[] = {
    {"serious_illness", EXPR_BOOL, 0}, {"disability_grade", EXPR_NUMBER, 1},
    {"labor", EXPR_BOOL, 2},           {"income", EXPR_NUMBER, 3},
    {"birth", EXPR_DATE, 4},
};
static const ExprVar need_fields[] = {
    {"urgent", EXPR_BOOL, 0}, {"kind", EXPR_STRING, 1}, {"amount", EXPR_NUMBER, 2}};
static const ExprVar e_fields[] = {{"x", EXPR_NUMBER, 0}};
static const ExprVar flag_fields[] = {{"v", EXPR_BOOL, 0}};
static const ExprVar val_fields[] = {{"n", EXPR_NUMBER, 0}};

static const ExprCollection colls[] = {
    {"members", "member", 0, member_fields, ELEMENTSOF(member_fields)},
    {"needs", "need", 1, need_fields, ELEMENTSOF(need_fields)},
    {"empty", "e", 2, e_fields, ELEMENTSOF(e_fields)},
    {"flags", "flag", 3, flag_fields, ELEMENTSOF(flag_fields)},
    {"vals", "val", 4, val_fields, ELEMENTSOF(val_fields)},
};

static const ExprSymbols sym = {vars, ELEMENTSOF(vars), colls, ELEMENTSOF(colls)};

#define NUM(x)                                                                                     \
        {                                                                                          \
                .type = EXPR_NUMBER, .num = (x)                                                    \
        }
#define BOOL(x)                                                                                    \
        {                                                                                          \
                .type = EXPR_BOOL, .b = (x)                                                        \
        }
#define STR(x)                                                                                     \
        {                                                                                          \
                .type = EXPR_STRING, .s = (x)                                                      \
        }
#define DATE(x)                                                                                    \
        {                                                                                          \
                .type = EXPR_DATE, .date = (x)                                                     \
        }
#define ABSENT(t)                                                                                  \
        {                                                                                          \
                .type = (t), .absent = true                                                        \
        }

static const ExprValue var_values[_V_MAX] = {
    [V_INCOME] = NUM(3600000),
    [V_LOSS] = NUM(500000),
    [V_RIGID] = NUM(4500000),
    [V_STATUS] = STR("marginal"),
    [V_WATER] = STR("risk"),
    [V_VISIT_DATE] = DATE(19773), /* 2024-02-20 */
    [V_KEY] = BOOL(true),
    [V_MISSING_NUM] = ABSENT(EXPR_NUMBER),
    [V_MISSING_BOOL] = ABSENT(EXPR_BOOL),
    [V_MISSING_STR] = ABSENT(EXPR_STRING),
    [V_MISSING_DATE] = ABSENT(EXPR_DATE),
    [V_BIG] = NUM(INT64_MAX),
    [V_SMALL] = NUM(INT64_MIN),
    [V_ZERO] = NUM(0),
};

static const ExprValue member_rows[] = {
    BOOL(false), NUM(0),       BOOL(true),  NUM(2000000), DATE(3773), BOOL(false),
    NUM(200),    BOOL(false),  NUM(0),      DATE(14853),  BOOL(true), ABSENT(EXPR_NUMBER),
    BOOL(false), NUM(1600000), DATE(-7305), BOOL(false),  NUM(0),     BOOL(true),
    NUM(0),      DATE(14853),
};
static const ExprValue need_rows[] = {
    BOOL(false), STR("medical"), NUM(300000), BOOL(true), STR("housing"), NUM(1200050),
};
static const ExprValue flag_rows[] = {BOOL(false), ABSENT(EXPR_BOOL)};
static const ExprValue val_rows[] = {NUM(100), ABSENT(EXPR_NUMBER)};

static const ExprRows rows[] = {
    {member_rows, 4, 5}, {need_rows, 2, 3}, {NULL, 0, 1}, {flag_rows, 2, 1}, {val_rows, 2, 1},
};

static const ExprFloorLine lines[] = {{2022, 1000000}, {2024, 1100000}};

static const ExprEnv env = {
    .vars = var_values,
    .colls = rows,
    .today = 19797, /* 2024-03-15 */
    .household_size = 4,
    .floor_lines = lines,
    .n_floor_lines = ELEMENTSOF(lines),
};

/* The types, short, for the tables. */
#define N EXPR_NUMBER
#define B EXPR_BOOL
#define S EXPR_STRING
#define D EXPR_DATE

static Expr *compile_ok(const char *src, ExprType want)
{
        ExprError err;
        Expr *e = expr_compile(src, &sym, want, &err);
        if (!e)
                fail_msg("'%.60s': %u:%u: %s", src, err.line, err.col, err.msg);
        return e;
}

/* Round trip: the canonical text parses back to an equal tree and prints
 * the same again. */
static void check_round_trip(const Expr *e, ExprType want)
{
        char a[8192], b[8192];
        size_t n = expr_print(e, a, sizeof(a));
        assert_true(n < sizeof(a));
        assert_int_equal(strlen(a), n);
        Expr *f = compile_ok(a, want);
        if (!expr_equal(e, f))
                fail_msg("not equal after round trip: %s", a);
        expr_print(f, b, sizeof(b));
        if (!streq(a, b))
                fail_msg("printed '%s', then '%s'", a, b);
        expr_free(f);
}
