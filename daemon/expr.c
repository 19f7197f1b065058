/* The rule expression language: names and errors, the printer whose output
 * parses back to the same tree, comparison and inspection of compiled
 * expressions.
 *
 * The module: expr_parse.c is a recursive-descent parser that type-checks
 * while it builds a flat array of nodes (children before parents),
 * expr_eval.c an evaluator that walks that array without allocating; their
 * shared structures are in expr_impl.h, dates come from calendar.c. */
#include "expr.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "expr_impl.h"
#include "macro.h"

const char *expr_type_to_string(ExprType t)
{
        static const char *const names[] = {
            [EXPR_NUMBER] = "number",
            [EXPR_BOOL] = "bool",
            [EXPR_STRING] = "string",
            [EXPR_DATE] = "date",
        };
        return (unsigned)t < ELEMENTSOF(names) ? names[t] : "invalid";
}

const char *expr_strerror(int r)
{
        switch (r) {
        case EXPR_ERR_OVERFLOW:
                return "arithmetic overflow";
        case EXPR_ERR_DIV_ZERO:
                return "division by zero";
        case EXPR_ERR_NO_LINE:
                return "no floor line for that year";
        case EXPR_ERR_ENV:
                return "household data does not match the rule's variables";
        default:
                return "unknown error";
        }
}

/* Formats a x100 fixed-point number with the fewest decimals: 45000,
 * 45000.5, -0.25. */
static void num_format(int64_t v, char buf[static 32])
{
        /* Via unsigned so that INT64_MIN has a magnitude too. Digits are
         * written backwards, without printf (this runs for every figure of
         * every message). */
        uint64_t m = v < 0 ? -(uint64_t)v : (uint64_t)v;
        unsigned f = (unsigned)(m % 100);
        char t[32];
        size_t i = sizeof(t);
        if (f % 10) {
                t[--i] = (char)('0' + f % 10);
                t[--i] = (char)('0' + f / 10);
                t[--i] = '.';
        } else if (f) {
                t[--i] = (char)('0' + f / 10);
                t[--i] = '.';
        }
        char *p = digits_before(t + i, m / 100);
        if (v < 0)
                *--p = '-';
        size_t n = (size_t)(t + sizeof(t) - p);
        memcpy(buf, p, n);
        buf[n] = '\0';
}

/* --- printing ---------------------------------------------------------- */

/* An snprintf-like sink: counts every byte, stores what fits. */
typedef struct {
        char *buf;
        size_t len, n;
} Out;

static void put(Out *o, const char *s, size_t n)
{
        if (o->len > 0 && o->n < o->len - 1)
                memcpy(o->buf + o->n, s, MIN(n, o->len - 1 - o->n));
        o->n += n;
}

static void puts_(Out *o, const char *s)
{
        put(o, s, strlen(s));
}

static size_t out_end(Out *o)
{
        if (o->len > 0)
                o->buf[MIN(o->n, o->len - 1)] = '\0';
        return o->n;
}

static void put_string(Out *o, const char *s)
{
        put(o, "\"", 1);
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        put(o, "\\", 1);
                put(o, s, 1);
        }
        put(o, "\"", 1);
}

static int prec(const Node *n)
{
        return op_info[n->op].prec ? op_info[n->op].prec : P_ATOM;
}

static void print_node(const Expr *e, unsigned i, Out *o);

static void print_kid(const Expr *e, unsigned k, bool parens, Out *o)
{
        if (parens)
                put(o, "(", 1);
        print_node(e, k, o);
        if (parens)
                put(o, ")", 1);
}

static const char *func_name(unsigned op)
{
        for (size_t f = 0; f < ELEMENTSOF(funcs); f++)
                if (funcs[f].op == op)
                        return funcs[f].name;
        return "?";
}

/* Prints with the fewest parentheses that parse back to the same tree: all
 * binary operators associate to the left and comparisons do not chain. */
static void print_node(const Expr *e, unsigned i, Out *o)
{
        const Node *n = &e->nodes[i];
        const Node *l = &e->nodes[n->kid[0]], *r = &e->nodes[n->kid[1]];
        char buf[32];
        int p = prec(n);

        switch (n->op) {
        case OP_NUM:
                num_format(n->num, buf);
                puts_(o, buf);
                return;
        case OP_BOOL:
                puts_(o, n->num ? "true" : "false");
                return;
        case OP_STR:
                put_string(o, e->pool + n->str);
                return;
        case OP_DATE:
                calendar_date_format((int32_t)n->num, buf, sizeof(buf));
                puts_(o, "date(\"");
                puts_(o, buf);
                puts_(o, "\")");
                return;
        case OP_TODAY:
                puts_(o, "today");
                return;
        case OP_VAR:
        case OP_FIELD:
                puts_(o, e->pool + n->str);
                return;
        case OP_NEG:
        case OP_NOT:
                /* "- -x" rather than "-(-x)": parentheses would cost a level. */
                puts_(o, n->op == OP_NOT ? "not " : l->op == OP_NEG ? "- " : "-");
                print_kid(e, n->kid[0], prec(l) < p, o);
                return;
        case OP_IN: {
                const char *s = e->pool + n->str;
                print_kid(e, n->kid[0], prec(l) <= p, o);
                puts_(o, " in [");
                for (uint32_t k = 0; k < n->n_str; k++, s += strlen(s) + 1) {
                        if (k > 0)
                                puts_(o, ", ");
                        put_string(o, s);
                }
                puts_(o, "]");
                return;
        }
        default:
                break;
        }
        if (op_info[n->op].text) {
                print_kid(e, n->kid[0], prec(l) < p || (p == P_CMP && prec(l) == p), o);
                put(o, " ", 1);
                puts_(o, op_info[n->op].text);
                put(o, " ", 1);
                print_kid(e, n->kid[1], prec(r) <= p, o);
                return;
        }
        puts_(o, func_name(n->op));
        put(o, "(", 1);
        if (op_is_coll(n->op)) {
                puts_(o, e->pool + n->str);
                puts_(o, ", ");
        }
        for (unsigned k = 0; k < n->n_kids; k++) {
                if (k > 0)
                        puts_(o, ", ");
                print_node(e, n->kid[k], o);
        }
        put(o, ")", 1);
}

size_t expr_print(const Expr *e, char *buf, size_t len)
{
        Out o = {.buf = buf, .len = len};

        if (e)
                print_node(e, e->root, &o);
        return out_end(&o);
}

size_t expr_value_format(const ExprValue *v, char *buf, size_t len)
{
        Out o = {.buf = buf, .len = len};
        char tmp[32];

        if (!v || v->absent)
                puts_(&o, "unknown");
        else if (v->type == EXPR_NUMBER) {
                num_format(v->num, tmp);
                puts_(&o, tmp);
        } else if (v->type == EXPR_DATE) {
                calendar_date_format(v->date, tmp, sizeof(tmp));
                puts_(&o, tmp);
        } else if (v->type == EXPR_BOOL)
                puts_(&o, v->b ? "true" : "false");
        else if (v->type == EXPR_STRING)
                puts_(&o, v->s ? v->s : "");
        return out_end(&o);
}

/* --- comparison and inspection ----------------------------------------- */

static bool node_equal(const Expr *a, unsigned i, const Expr *b, unsigned j)
{
        const Node *x = &a->nodes[i], *y = &b->nodes[j];
        const char *s = a->pool + x->str, *t = b->pool + y->str;

        if (x->op != y->op || x->type != y->type || x->n_kids != y->n_kids ||
            x->scope != y->scope || x->slot != y->slot || x->n_str != y->n_str || x->num != y->num)
                return false;
        bool named = x->op == OP_STR || x->op == OP_VAR || x->op == OP_FIELD || op_is_coll(x->op);
        if (named && !streq(s, t))
                return false;
        for (uint32_t k = 0; x->op == OP_IN && k < x->n_str; k++) {
                if (!streq(s, t))
                        return false;
                s += strlen(s) + 1;
                t += strlen(t) + 1;
        }
        for (unsigned k = 0; k < x->n_kids; k++)
                if (!node_equal(a, x->kid[k], b, y->kid[k]))
                        return false;
        return true;
}

bool expr_equal(const Expr *a, const Expr *b)
{
        if (!a || !b)
                return a == b;
        return a->type == b->type && node_equal(a, a->root, b, b->root);
}

size_t expr_vars(const Expr *e, const char **names, size_t n)
{
        size_t found = 0;

        for (unsigned i = 0; e && i < e->n_nodes; i++) {
                const Node *x = &e->nodes[i];
                if (x->op != OP_VAR && !op_is_coll(x->op))
                        continue;
                const char *s = e->pool + x->str;
                bool seen = false;
                /* Quadratic, but over at most EXPR_MAX_NODES and without memory. */
                for (unsigned j = 0; j < i && !seen; j++) {
                        const Node *y = &e->nodes[j];
                        seen = (y->op == OP_VAR || op_is_coll(y->op)) && streq(e->pool + y->str, s);
                }
                if (seen)
                        continue;
                if (found < n)
                        names[found] = s;
                found++;
        }
        return found;
}

/* --- inspection ---------------------------------------------------------- */

unsigned expr_root(const Expr *e)
{
        return e ? e->root : 0;
}

unsigned expr_n_nodes(const Expr *e)
{
        return e ? e->n_nodes : 0;
}

static ExprNodeKind node_kind(unsigned op)
{
        switch (op) {
        case OP_NUM:
        case OP_BOOL:
        case OP_STR:
        case OP_DATE:
                return EXPR_NODE_LITERAL;
        case OP_TODAY:
                return EXPR_NODE_TODAY;
        case OP_VAR:
                return EXPR_NODE_VAR;
        case OP_FIELD:
                return EXPR_NODE_FIELD;
        case OP_NOT:
                return EXPR_NODE_NOT;
        case OP_AND:
                return EXPR_NODE_AND;
        case OP_OR:
                return EXPR_NODE_OR;
        case OP_LT:
        case OP_LE:
        case OP_GT:
        case OP_GE:
        case OP_EQ:
        case OP_NE:
                return EXPR_NODE_CMP;
        case OP_IN:
                return EXPR_NODE_IN;
        case OP_NEG:
        case OP_ADD:
        case OP_SUB:
        case OP_MUL:
        case OP_DIV:
                return EXPR_NODE_ARITH;
        default:
                return op_is_coll(op) ? EXPR_NODE_COLL : EXPR_NODE_CALL;
        }
}

int expr_node(const Expr *e, unsigned i, ExprNode *out)
{
        if (!e || !out || i >= e->n_nodes)
                return -EINVAL;
        const Node *n = &e->nodes[i];
        ExprNodeKind kind = node_kind(n->op);
        *out = (ExprNode){.kind = kind, .type = n->type, .n_kids = n->n_kids, .slot = n->slot};
        for (unsigned k = 0; k < n->n_kids; k++)
                out->kids[k] = n->kid[k];
        /* Only functions (every op from OP_MIN on, and date()) are in
         * funcs[]: the leaves are "?" without searching it (expr_node() is
         * called for every node of every firing rule's explanation). */
        out->op = op_info[n->op].text                   ? op_info[n->op].text
                  : n->op >= OP_MIN || n->op == OP_DATE ? func_name(n->op)
                                                        : "?";
        if (kind == EXPR_NODE_VAR || kind == EXPR_NODE_FIELD || kind == EXPR_NODE_COLL)
                out->name = e->pool + n->str;
        if (kind == EXPR_NODE_IN) {
                out->strs = e->pool + n->str;
                out->n_strs = n->n_str;
        }
        if (kind == EXPR_NODE_LITERAL) {
                out->value = (ExprValue){.type = n->type};
                if (n->op == OP_NUM)
                        out->value.num = n->num;
                else if (n->op == OP_BOOL)
                        out->value.b = n->num != 0;
                else if (n->op == OP_STR)
                        out->value.s = e->pool + n->str;
                else
                        out->value.date = (int32_t)n->num;
        }
        return 0;
}
