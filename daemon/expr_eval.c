/* The rule expression evaluator: walks an Expr's node array over an
 * environment of values without allocating; the built-in functions. */
#include "expr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "expr_impl.h"
#include "macro.h"

/* --- evaluation -------------------------------------------------------- */

typedef struct {
        const Expr *e;
        const ExprEnv *env;
        const ExprValue *row[EXPR_MAX_SCOPES]; /* the current row of each collection */
        size_t stride[EXPR_MAX_SCOPES];
} Eval;

/* Wide enough for any product or scaled quotient of two int64 numbers. */
__extension__ typedef __int128 Wide;

static int narrow(Wide w, int64_t *r)
{
        if (w > INT64_MAX || w < INT64_MIN)
                return EXPR_ERR_OVERFLOW;
        *r = (int64_t)w;
        return 0;
}

/* a op b in x 100 fixed point; C's division truncates toward zero. */
static int arith(unsigned op, int64_t a, int64_t b, int64_t *r)
{
        switch (op) {
        case OP_ADD:
                return __builtin_add_overflow(a, b, r) ? EXPR_ERR_OVERFLOW : 0;
        case OP_SUB:
                return __builtin_sub_overflow(a, b, r) ? EXPR_ERR_OVERFLOW : 0;
        case OP_MUL:
                /* |a|, |b| < 2^63, so the product fits in 126 bits. */
                return narrow((Wide)a * b / 100, r);
        case OP_DIV:
                if (b == 0)
                        return EXPR_ERR_DIV_ZERO;
                return narrow((Wide)a * 100 / b, r);
        default:
                return EXPR_ERR_ENV;
        }
}

/* LESS, SAME or MORE, for two present values of one type. */
static unsigned compare(const ExprValue *a, const ExprValue *b)
{
        int c = 0;

        switch (a->type) {
        case EXPR_NUMBER:
                c = (a->num > b->num) - (a->num < b->num);
                break;
        case EXPR_DATE:
                c = (a->date > b->date) - (a->date < b->date);
                break;
        case EXPR_BOOL:
                c = (int)a->b - (int)b->b;
                break;
        case EXPR_STRING:
                c = strcmp(a->s, b->s);
                break;
        }
        return c < 0 ? LESS : c > 0 ? MORE : SAME;
}

/* Checks a value read from the env against the declared type: a wrong
 * union member would be misread (a number read as a pointer crashes). */
static int env_value(const ExprValue *src, uint8_t type, ExprValue *v)
{
        if (src->absent)
                return 0;
        if (src->type != type || (type == EXPR_STRING && !src->s))
                return EXPR_ERR_ENV;
        *v = *src;
        return 0;
}

static int eval(Eval *x, unsigned i, ExprValue *v);

static bool is_true(const ExprValue *v)
{
        return !v->absent && v->b;
}

/* count, any, all and sum: binds each row in turn for the predicate. */
static int eval_coll(Eval *x, const Node *n, ExprValue *v)
{
        const ExprRows *rows = x->env->colls ? &x->env->colls[n->slot] : NULL;
        bool absent = false;
        int64_t acc = 0;
        ExprValue k;
        int r;

        if (!rows || (rows->n_rows > 0 && !rows->rows))
                return EXPR_ERR_ENV;
        x->stride[n->scope] = rows->stride;
        for (size_t i = 0; i < rows->n_rows; i++) {
                x->row[n->scope] = rows->rows + i * rows->stride;
                if ((r = eval(x, n->kid[0], &k)) < 0)
                        return r;
                if (n->op == OP_SUM && k.absent)
                        return 0;
                if (n->op == OP_SUM && (r = arith(OP_ADD, acc, k.num, &acc)) < 0)
                        return r;
                if (n->op == OP_COUNT && is_true(&k) && (r = arith(OP_ADD, acc, 100, &acc)) < 0)
                        return r;
                if ((n->op == OP_ANY && is_true(&k)) || (n->op == OP_ALL && !k.absent && !k.b)) {
                        v->b = n->op == OP_ANY;
                        v->absent = false;
                        return 0;
                }
                absent = absent || k.absent;
        }
        if (n->op == OP_ANY || n->op == OP_ALL) {
                v->b = n->op == OP_ALL;
                v->absent = absent;
        } else {
                v->num = acc;
                v->absent = false;
        }
        return 0;
}

/* floor_line(y): the line of the greatest year <= y. Scans all entries so
 * that an unsorted table still gives the right line. */
static int floor_line(const ExprEnv *env, int64_t y, int64_t *ret)
{
        const ExprFloorLine *best = NULL;

        if (env->n_floor_lines > 0 && !env->floor_lines)
                return EXPR_ERR_ENV;
        for (size_t i = 0; i < env->n_floor_lines; i++) {
                const ExprFloorLine *l = &env->floor_lines[i];
                if (l->year <= y && (!best || l->year > best->year))
                        best = l;
        }
        if (!best)
                return EXPR_ERR_NO_LINE;
        *ret = best->fen;
        return 0;
}

/* Functions of one present argument a (already evaluated). */
static int eval_func1(Eval *x, unsigned op, const ExprValue *a, ExprValue *v)
{
        int64_t y;
        unsigned m, d;

        switch (op) {
        case OP_ABS:
                return arith(OP_SUB, 0, a->num < 0 ? a->num : -a->num, &v->num);
        case OP_PER_CAPITA:
                if (x->env->household_size == 0)
                        return EXPR_ERR_DIV_ZERO;
                return narrow((Wide)a->num / x->env->household_size, &v->num);
        case OP_FLOOR_LINE:
                /* A fractional year counts as its whole year. */
                return floor_line(x->env, a->num / 100, &v->num);
        case OP_YEAR:
                calendar_civil_from_days(a->date, &y, &m, &d);
                v->num = y * 100;
                return 0;
        case OP_DAYS_SINCE:
                v->num = ((int64_t)x->env->today - a->date) * 100;
                return 0;
        default:
                return EXPR_ERR_ENV;
        }
}

/* Evaluates node i into *v (typed, absent unless set). Returns 0 or a
 * runtime error. Recursion is bounded by EXPR_MAX_DEPTH. */
static int eval(Eval *x, unsigned i, ExprValue *v)
{
        const Node *n = &x->e->nodes[i];
        ExprValue a, b;
        int r;

        *v = (ExprValue){.type = n->type, .absent = true};
        switch (n->op) {
        case OP_NUM:
                v->num = n->num;
                break;
        case OP_BOOL:
                v->b = n->num != 0;
                break;
        case OP_STR:
                v->s = x->e->pool + n->str;
                break;
        case OP_DATE:
                v->date = (int32_t)n->num;
                break;
        case OP_TODAY:
                v->date = x->env->today;
                break;
        case OP_VAR:
                if (!x->env->vars)
                        return EXPR_ERR_ENV;
                return env_value(&x->env->vars[n->slot], n->type, v);
        case OP_FIELD:
                if (!x->row[n->scope] || n->slot >= x->stride[n->scope])
                        return EXPR_ERR_ENV;
                return env_value(&x->row[n->scope][n->slot], n->type, v);
        case OP_NEG:
        case OP_ABS:
        case OP_PER_CAPITA:
        case OP_FLOOR_LINE:
        case OP_YEAR:
        case OP_DAYS_SINCE:
                if ((r = eval(x, n->kid[0], &a)) < 0 || a.absent)
                        return r;
                r = n->op == OP_NEG ? arith(OP_SUB, 0, a.num, &v->num)
                                    : eval_func1(x, n->op, &a, v);
                if (r < 0)
                        return r;
                break;
        case OP_NOT:
                if ((r = eval(x, n->kid[0], &a)) < 0 || a.absent)
                        return r;
                v->b = !a.b;
                break;
        case OP_AND:
        case OP_OR:
                /* Three-valued: the left side decides alone when it is false
                 * (and) or true (or); then the right side may still decide. */
                if ((r = eval(x, n->kid[0], &a)) < 0)
                        return r;
                if (!a.absent && a.b == (n->op == OP_OR)) {
                        *v = a;
                        return 0;
                }
                if ((r = eval(x, n->kid[1], &b)) < 0)
                        return r;
                if (!b.absent && (b.b == (n->op == OP_OR) || !a.absent))
                        *v = b;
                return 0;
        case OP_ADD:
        case OP_SUB:
        case OP_MUL:
        case OP_DIV:
        case OP_LT:
        case OP_LE:
        case OP_GT:
        case OP_GE:
        case OP_EQ:
        case OP_NE:
                if ((r = eval(x, n->kid[0], &a)) < 0 || (r = eval(x, n->kid[1], &b)) < 0)
                        return r;
                if (a.absent || b.absent)
                        return 0;
                if (n->type == EXPR_NUMBER) {
                        if ((r = arith(n->op, a.num, b.num, &v->num)) < 0)
                                return r;
                        break;
                }
                v->b = (op_info[n->op].holds & compare(&a, &b)) != 0;
                break;
        case OP_IN: {
                if ((r = eval(x, n->kid[0], &a)) < 0 || a.absent)
                        return r;
                const char *s = x->e->pool + n->str;
                v->b = false;
                for (uint32_t k = 0; k < n->n_str && !v->b; k++, s += strlen(s) + 1)
                        v->b = streq(a.s, s);
                break;
        }
        case OP_COALESCE:
                for (unsigned k = 0; k < n->n_kids; k++) {
                        if ((r = eval(x, n->kid[k], &a)) < 0)
                                return r;
                        if (!a.absent) {
                                *v = a;
                                return 0;
                        }
                }
                return 0;
        case OP_MIN:
        case OP_MAX:
                for (unsigned k = 0; k < n->n_kids; k++) {
                        if ((r = eval(x, n->kid[k], &a)) < 0 || a.absent)
                                return r;
                        if (k == 0)
                                v->num = a.num;
                        else
                                v->num = n->op == OP_MIN ? MIN(v->num, a.num) : MAX(v->num, a.num);
                }
                break;
        case OP_PRESENT:
                if ((r = eval(x, n->kid[0], &a)) < 0)
                        return r;
                v->b = !a.absent;
                break;
        case OP_COUNT:
        case OP_ANY:
        case OP_ALL:
        case OP_SUM:
                return eval_coll(x, n, v);
        default:
                return EXPR_ERR_ENV;
        }
        v->absent = false;
        return 0;
}

int expr_eval(const Expr *e, const ExprEnv *env, ExprValue *out)
{
        Eval x = {.e = e, .env = env};
        int r;

        if (!out)
                return -EINVAL;
        if (!e || !env) {
                *out = (ExprValue){.absent = true};
                return -EINVAL;
        }
        r = eval(&x, e->root, out);
        if (r < 0)
                *out = (ExprValue){.type = e->type, .absent = true};
        return r;
}

bool expr_value_true(const ExprValue *v)
{
        return v && v->type == EXPR_BOOL && is_true(v);
}

int expr_eval_node(const Expr *e, unsigned i, const ExprEnv *env, unsigned coll, size_t row,
                   ExprValue *out)
{
        Eval x = {.e = e, .env = env};
        if (!out)
                return -EINVAL;
        *out = (ExprValue){.absent = true};
        if (!e || !env || i >= e->n_nodes)
                return -EINVAL;
        if (coll != EXPR_NO_ROW) {
                const Node *c = coll < e->n_nodes ? &e->nodes[coll] : NULL;
                const ExprRows *rows =
                    c && op_is_coll(c->op) && env->colls ? &env->colls[c->slot] : NULL;
                if (!rows || row >= rows->n_rows || !rows->rows)
                        return EXPR_ERR_ENV;
                x.row[c->scope] = rows->rows + row * rows->stride;
                x.stride[c->scope] = rows->stride;
        }
        int r = eval(&x, i, out);
        if (r < 0)
                *out = (ExprValue){.type = e->nodes[i].type, .absent = true};
        return r;
}
