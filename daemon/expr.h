/* The rule expression language: the `when:` conditions of rules, compiled
 * once at load and evaluated per event. Pure: no I/O, no logging, and
 * expr_eval() never allocates.
 *
 * Types: number, bool, string, date.
 * - A number is int64 fixed point with exactly 2 decimals (value x 100), so
 *   yuan with fen, counts and factors like 1.1 are exact. `*` is a*b/100 and
 *   `/` is a*100/b, both truncating toward zero; every operation checks for
 *   overflow (-ERANGE) and division by zero (-EDOM).
 * - A date is days since 1970-01-01; `date("2022-01-01")` is a literal checked
 *   at compile time and `today` is the event date from the env.
 *
 * Functions: min and max (1 to 8 numbers), abs(x), per_capita(x) = x / the
 * household size, floor_line(y) = the line of the latest year <= y (whole
 * years), year(d), days_since(d) = today - d in days, present(x),
 * coalesce(x, ...), count/any/all(collection, bool), sum(collection, number).
 *
 * Grammar (EBNF; keywords are reserved, `name` may be dotted):
 *   expr       = and_expr { "or" and_expr } ;
 *   and_expr   = not_expr { "and" not_expr } ;
 *   not_expr   = "not" not_expr | comparison ;
 *   comparison = sum [ ( "<" | "<=" | ">" | ">=" | "==" | "!=" ) sum
 *                    | "in" "[" string { "," string } "]" ] ;   (no chains)
 *   sum        = product { ( "+" | "-" ) product } ;
 *   product    = unary { ( "*" | "/" ) unary } ;
 *   unary      = "-" unary | primary ;
 *   primary    = number | string | "true" | "false" | "today" | name
 *              | "date" "(" string ")" | call | "(" expr ")" ;
 *   call       = ( "min" | "max" | "coalesce" ) "(" expr { "," expr } ")"
 *              | ( "abs" | "per_capita" | "floor_line" | "year" | "days_since"
 *                | "present" ) "(" expr ")"
 *              | ( "count" | "any" | "all" | "sum" ) "(" collection "," expr ")" ;
 *   name       = ident { "." ident } ;   ident = [A-Za-z_][A-Za-z0-9_]* ;
 *   number     = digit { digit } [ "." digit [ digit ] ] ;
 *   string     = '"' { any byte but '"', '\', control; or '\"' or '\\' } '"' ;
 * Binary operators associate to the left. Inside count/any/all/sum over a
 * collection, `elem.field` names a field of the current row; such functions
 * nest only over different collections.
 *
 * Absent values (a variable the household has no value for, e.g. no visit
 * yet) follow three-valued logic, as in SQL:
 * - arithmetic, comparisons, `in` and functions (min, max, abs, per_capita,
 *   floor_line, year, days_since, sum) on an absent operand give absent;
 * - `not absent` is absent; `false and absent` is false, `true or absent` is
 *   true, otherwise `and`/`or` with an absent operand give absent. So
 *   `not (x == "safe")` and `x != "safe"` always agree;
 * - any() is true if some row is true, else absent if some row is absent;
 *   all() is false if some row is false, else absent if some row is absent;
 *   count() counts the rows whose predicate is true (never absent);
 * - present(x) is true when x has a value (never absent); coalesce(a, b, ...)
 *   is the first argument that has a value;
 * - a `when:` result that is absent does not hold (expr_value_true()).
 * Missing data therefore never raises an alert by itself; a rule that should
 * alert on missing data says so with present(). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXPR_MAX_SOURCE 4096 /* bytes of source */
#define EXPR_MAX_NODES 512
#define EXPR_MAX_DEPTH 64 /* nesting of the expression tree */
#define EXPR_MAX_ARGS 8   /* arguments of min, max, coalesce */
#define EXPR_MAX_SCOPES 4 /* nested collection functions */

/* Runtime errors of expr_eval(). */
#define EXPR_ERR_OVERFLOW (-ERANGE)
#define EXPR_ERR_DIV_ZERO (-EDOM)
#define EXPR_ERR_NO_LINE (-ENOENT) /* floor_line(y): no line for year y or before */
#define EXPR_ERR_ENV (-EINVAL)     /* the env does not match the symbols */

typedef enum { EXPR_NUMBER, EXPR_BOOL, EXPR_STRING, EXPR_DATE } ExprType;

typedef struct {
        ExprType type;
        bool absent;
        union {
                int64_t num; /* x 100 */
                bool b;
                const char *s; /* UTF-8, NUL-terminated, borrowed */
                int32_t date;  /* days since 1970-01-01 */
        };
} ExprValue;

/* A household variable; slot indexes env->vars (or a row, for a field). A
 * name may be dotted ("last_visit.date"): it is matched as a whole. */
typedef struct {
        const char *name;
        ExprType type;
        unsigned slot;
} ExprVar;

/* A collection ("members") whose rows are named `elem` ("member") inside
 * count/any/all/sum, so `member.labor` is field "labor" of the current row.
 * slot indexes env->colls; field slots index a row. */
typedef struct {
        const char *name;
        const char *elem;
        unsigned slot;
        const ExprVar *fields;
        size_t n_fields;
} ExprCollection;

typedef struct {
        const ExprVar *vars;
        size_t n_vars;
        const ExprCollection *colls;
        size_t n_colls;
} ExprSymbols;

typedef struct {
        const ExprValue *rows; /* row i = rows + i * stride */
        size_t n_rows;
        size_t stride;
} ExprRows;

typedef struct {
        int year;
        int64_t fen; /* per-capita floor line: yuan x 100, i.e. a number */
} ExprFloorLine;

/* Everything expr_eval() reads, all borrowed. A value's type must be the
 * declared one (absent values may have any type); a string value that is
 * present must not be NULL; each stride must exceed the field slots. */
typedef struct {
        const ExprValue *vars;
        const ExprRows *colls;
        int32_t today;
        int64_t household_size; /* plain count, not x 100 */
        const ExprFloorLine *floor_lines;
        size_t n_floor_lines; /* sorted by year */
} ExprEnv;

typedef struct {
        unsigned line, col; /* 1-based, relative to src; columns count bytes */
        int code;           /* -ENOMEM when memory failed, else -EINVAL */
        char msg[256];
} ExprError;

typedef struct Expr Expr;

/* Compiles `src` (NUL-terminated, at most EXPR_MAX_SOURCE bytes) against
 * `sym` (borrowed during the call only: names are copied) into an
 * expression of type `want`. Returns a new Expr the caller frees with
 * expr_free(), or NULL with *err (may be NULL) describing the first error:
 * syntax, unknown name, type mismatch, size or depth limit. Also NULL, with
 * msg "out of memory", when allocation fails. */
Expr *expr_compile(const char *src, const ExprSymbols *sym, ExprType want, ExprError *err);

/* Frees e; accepts NULL. Returns NULL. */
Expr *expr_free(Expr *e);

/* Evaluates e against env (borrowed). Returns 0 and *out on success (a
 * string result points into e or env). On a runtime error returns
 * EXPR_ERR_OVERFLOW, EXPR_ERR_DIV_ZERO, EXPR_ERR_NO_LINE or EXPR_ERR_ENV
 * (-EINVAL also for NULL arguments) and sets *out absent. Never allocates;
 * cost is bounded by nodes x rows of the collections it ranges over. */
int expr_eval(const Expr *e, const ExprEnv *env, ExprValue *out);

/* True if v is a bool that is present and true: how a `when:` holds. */
bool expr_value_true(const ExprValue *v);

/* Writes the canonical text of e (minimal parentheses, single spaces) into
 * buf, truncated to len - 1 bytes and NUL-terminated if len > 0. Returns the
 * length the whole text needs, like snprintf. expr_compile() of the text
 * gives an expression equal to e. */
size_t expr_print(const Expr *e, char *buf, size_t len);

/* True if a and b have the same tree (same names, slots and literals). */
bool expr_equal(const Expr *a, const Expr *b);

ExprType expr_type(const Expr *e);

/* Lists the distinct household variables and collections e reads, in
 * order of appearance, as pointers into e (valid until expr_free()): up to
 * n of them into names. Returns how many there are. */
size_t expr_vars(const Expr *e, const char **names, size_t n);

/* Formats v for a cadre-readable message: numbers as "45000" or "45000.5",
 * dates as YYYY-MM-DD, bools as true/false, strings as they are, absent as
 * "unknown". Truncates and returns the needed length like snprintf. */
size_t expr_value_format(const ExprValue *v, char *buf, size_t len);

/* --- inspection ---------------------------------------------------------
 * The tree of a compiled expression, read-only, for code that explains a
 * condition rather than only evaluating it (clear.c: what would turn a
 * rule off). Node indexes are stable for the life of the Expr. */

typedef enum {
        EXPR_NODE_LITERAL, /* value: a number, bool, string or date literal */
        EXPR_NODE_TODAY,
        EXPR_NODE_VAR,   /* name, slot (an index of env->vars) */
        EXPR_NODE_FIELD, /* name ("claim.out_of_pocket"), slot (in the row) */
        EXPR_NODE_NOT,
        EXPR_NODE_AND,
        EXPR_NODE_OR,
        EXPR_NODE_CMP,   /* op: "<", "<=", ">", ">=", "==", "!=" */
        EXPR_NODE_IN,    /* kid 0 in the strings strs[0..n_strs) */
        EXPR_NODE_ARITH, /* op: "+", "-", "*", "/"; "-" with one kid is negation */
        EXPR_NODE_CALL,  /* op: the function (min, max, abs, per_capita, ...) */
        EXPR_NODE_COLL,  /* op: count, any, all or sum over collection name (slot of
                          * env->colls); kid 0 is the per-row expression */
} ExprNodeKind;

typedef struct {
        ExprNodeKind kind;
        ExprType type;
        const char *op;
        unsigned n_kids;
        unsigned kids[EXPR_MAX_ARGS];
        const char *name;
        unsigned slot;
        ExprValue value;
        const char *strs; /* IN: n_strs NUL-terminated strings, one after the other */
        unsigned n_strs;
} ExprNode;

/* No row bound: see expr_eval_node(). */
#define EXPR_NO_ROW UINT32_MAX

/* The root node's index, and the number of nodes (indexes 0..n-1; kids
 * come before their parents). */
unsigned expr_root(const Expr *e);
unsigned expr_n_nodes(const Expr *e);

/* Describes node i of e into *out (strings point into e). 0, or -EINVAL
 * for a bad index. */
int expr_node(const Expr *e, unsigned i, ExprNode *out);

/* Evaluates the subtree of node i like expr_eval(). coll names a
 * collection node (EXPR_NODE_COLL) of e whose row `row` of env's collection
 * is bound meanwhile, so that the fields under it can be read; EXPR_NO_ROW
 * binds none (a field then is EXPR_ERR_ENV). */
int expr_eval_node(const Expr *e, unsigned i, const ExprEnv *env, unsigned coll, size_t row,
                   ExprValue *out);

/* "number", "bool", "string", "date". */
const char *expr_type_to_string(ExprType t);

/* A short English description of an expr_eval() error code. */
const char *expr_strerror(int r);
