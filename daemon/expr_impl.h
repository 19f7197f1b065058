/* The compiled expression's structures and operator tables, shared by
 * expr.c, expr_parse.c and expr_eval.c only: everyone else goes through
 * expr.h. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "expr.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* clang-format off */
typedef enum {
        OP_NONE,
        OP_NUM, OP_BOOL, OP_STR, OP_DATE, OP_TODAY, OP_VAR, OP_FIELD,  /* leaves */
        OP_NEG, OP_NOT,
        OP_ADD, OP_SUB, OP_MUL, OP_DIV,
        OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE,
        OP_AND, OP_OR, OP_IN,
        OP_MIN, OP_MAX, OP_ABS, OP_COALESCE, OP_PRESENT, OP_PER_CAPITA, OP_FLOOR_LINE,
        OP_YEAR, OP_DAYS_SINCE,
        OP_COUNT, OP_ANY, OP_ALL, OP_SUM,                               /* collections */
        _OP_MAX,
} Op;
/* clang-format on */

/* Precedence levels, loosest first; also the parser's levels. */
enum { P_OR = 1, P_AND, P_NOT, P_CMP, P_SUM, P_PRODUCT, P_UNARY, P_ATOM };

/* Outcomes of a comparison, as bits, so that each comparison operator is
 * the set of outcomes that make it true. */
enum { LESS = 1, SAME = 2, MORE = 4 };

static const struct {
        const char *text;
        uint8_t prec;
        uint8_t holds; /* comparisons: the outcomes for which it is true */
} op_info[_OP_MAX] __attribute__((unused)) = {
    [OP_NEG] = {"-", P_UNARY, 0},   [OP_NOT] = {"not", P_NOT, 0},
    [OP_ADD] = {"+", P_SUM, 0},     [OP_SUB] = {"-", P_SUM, 0},
    [OP_MUL] = {"*", P_PRODUCT, 0}, [OP_DIV] = {"/", P_PRODUCT, 0},
    [OP_LT] = {"<", P_CMP, LESS},   [OP_LE] = {"<=", P_CMP, LESS | SAME},
    [OP_GT] = {">", P_CMP, MORE},   [OP_GE] = {">=", P_CMP, MORE | SAME},
    [OP_EQ] = {"==", P_CMP, SAME},  [OP_NE] = {"!=", P_CMP, LESS | MORE},
    [OP_AND] = {"and", P_AND, 0},   [OP_OR] = {"or", P_OR, 0},
    [OP_IN] = {"in", P_CMP, 0},
};

/* Argument rules of a function: an ExprType, or one of these. */
enum { ARG_ANY = -1, ARG_SAME = -2, ARG_COLL = -3 };

static const struct {
        const char *name;
        uint8_t op, min, max;
        int8_t arg; /* type of each argument (ARG_COLL: collection, then the predicate) */
        int8_t ret; /* result type, or ARG_SAME: the arguments' type */
} funcs[] __attribute__((unused)) = {
    {"min", OP_MIN, 1, EXPR_MAX_ARGS, EXPR_NUMBER, EXPR_NUMBER},
    {"max", OP_MAX, 1, EXPR_MAX_ARGS, EXPR_NUMBER, EXPR_NUMBER},
    {"abs", OP_ABS, 1, 1, EXPR_NUMBER, EXPR_NUMBER},
    {"coalesce", OP_COALESCE, 1, EXPR_MAX_ARGS, ARG_SAME, ARG_SAME},
    {"present", OP_PRESENT, 1, 1, ARG_ANY, EXPR_BOOL},
    {"per_capita", OP_PER_CAPITA, 1, 1, EXPR_NUMBER, EXPR_NUMBER},
    {"floor_line", OP_FLOOR_LINE, 1, 1, EXPR_NUMBER, EXPR_NUMBER},
    {"year", OP_YEAR, 1, 1, EXPR_DATE, EXPR_NUMBER},
    {"days_since", OP_DAYS_SINCE, 1, 1, EXPR_DATE, EXPR_NUMBER},
    {"date", OP_DATE, 1, 1, EXPR_STRING, EXPR_DATE},
    {"count", OP_COUNT, 2, 2, ARG_COLL, EXPR_NUMBER},
    {"any", OP_ANY, 2, 2, ARG_COLL, EXPR_BOOL},
    {"all", OP_ALL, 2, 2, ARG_COLL, EXPR_BOOL},
    {"sum", OP_SUM, 2, 2, ARG_COLL, EXPR_NUMBER},
};

/* One node. Unused fields stay zero, so that expr_equal() may compare them. */
typedef struct {
        uint8_t op;
        uint8_t type; /* ExprType of its value */
        uint8_t n_kids;
        uint8_t scope; /* OP_FIELD: the row it reads; collection ops: the row they bind */
        uint16_t kid[EXPR_MAX_ARGS];
        uint32_t slot;  /* OP_VAR, OP_FIELD, collection ops */
        uint32_t str;   /* pool offset: OP_STR text, a name, the first OP_IN string */
        uint32_t n_str; /* OP_IN: number of strings */
        int64_t num;    /* OP_NUM (x 100), OP_DATE (days), OP_BOOL */
} Node;

struct Expr {
        ExprType type;
        unsigned n_nodes, root;
        const char *pool; /* NUL-terminated strings, after nodes[] */
        Node nodes[];
};

static inline bool op_is_coll(unsigned op)
{
        return op >= OP_COUNT && op <= OP_SUM;
}
