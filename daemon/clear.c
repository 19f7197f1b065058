/* What turns a firing rule off (a reason's to_clear): each rule's condition
 * solved, with the expression engine, for the variables it reads. */
#include "clear_impl.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "facts.h"
#include "label.h"

#define MAX_CANDIDATES 24
#define MAX_ROWS 128
/* Values searched stay within ±2^61 (×100): far beyond any household. */
#define BIG ((int64_t)1 << 61)
/* The second point of the linear estimate: one million yuan further. */
#define STEP ((int64_t)100000000)

/* --- what-if evaluation ------------------------------------------------------ */

typedef struct {
        const ClearSet *cs;
        size_t self;
        const bool *firing;
        const ExprEnv *env0;
        const Expr *when;
        const ExprNode *nodes; /* the set's copy of when's nodes */
        unsigned n_nodes;
        ExprEnv env;
        ExprValue vars[MAX_VARS];
        ExprRows colls[MAX_COLLS];
        bool in_scope[EXPR_MAX_NODES]; /* the node is outside every collection function */
        bool english;
        /* what clear_explain found, and the nodes to describe it with */
        ClearOption *opts;
        size_t n_opts, max;
        unsigned rows_node[CLEAR_MAX_OPTIONS];
        unsigned num_cmp[CLEAR_MAX_OPTIONS];
        unsigned coll_slot; /* of the rows being described */
        /* Last and not zeroed (16 KiB, for every firing rule of every
         * evaluation): solve_rows() writes the rows it keeps before the
         * evaluation reads them. */
        ExprValue rowbuf[MAX_ROWS * 8];
} Ctx;

static void reset(Ctx *x)
{
        memcpy(x->vars, x->env0->vars, x->cs->sym->n_vars * sizeof(ExprValue));
        if (x->env0->colls)
                memcpy(x->colls, x->env0->colls, x->cs->sym->n_colls * sizeof(ExprRows));
        x->env = *x->env0;
        x->env.vars = x->vars;
        x->env.colls = x->env0->colls ? x->colls : NULL;
}

/* expr_node(x->when, i, out), from the set's copy. */
static inline int when_node(const Ctx *x, unsigned i, ExprNode *out)
{
        if (i >= x->n_nodes)
                return -EINVAL;
        *out = x->nodes[i];
        return 0;
}

/* Sets number variable s to v in the what-if; the sums it is part of move
 * by as much. */
static void set_num(Ctx *x, unsigned s, int64_t v)
{
        int64_t d = v - x->env0->vars[s].num;
        x->vars[s].num = v;
        x->vars[s].absent = false;
        for (int p = x->cs->parent[s]; p >= 0; p = x->cs->parent[p])
                if (!x->vars[p].absent && x->vars[p].type == EXPR_NUMBER)
                        x->vars[p].num += d;
}

static void set_str(Ctx *x, unsigned s, const char *v)
{
        const Label *l = x->cs->label[s];
        const char *old = x->vars[s].absent ? NULL : x->vars[s].s;
        x->vars[s].s = v;
        x->vars[s].absent = false;
        int p = x->cs->parent[s];
        if (!l || !l->counted || p < 0 || x->vars[p].absent)
                return;
        bool was = old && streq(old, l->counted), is = streq(v, l->counted);
        if (was != is)
                x->vars[p].num += is ? 100 : -100;
}

static bool holds(const Ctx *x, const Expr *e, bool *err)
{
        ExprValue v;
        if (expr_eval(e, &x->env, &v) < 0) {
                *err = true;
                return false;
        }
        return expr_value_true(&v);
}

/* What a what-if changed: variable slots and collection slots. */
typedef struct {
        uint64_t vars[MAX_VARS / 64];
        uint32_t colls;
} Changed;

/* Marks variable s and the sums it is part of. */
static void changed_var(const ClearSet *cs, Changed *ch, unsigned s)
{
        for (int p = (int)s; p >= 0; p = cs->parent[p])
                ch->vars[p / 64] |= 1ULL << (p % 64);
}

/* The what-if is a way out: the rule stops holding (without a runtime
 * error) and no rule that does not hold now starts (only a rule that reads
 * something the what-if changed can). */
static bool way_out(const Ctx *x, const Changed *ch)
{
        bool err = false;
        if (holds(x, x->when, &err) || err)
                return false;
        const ClearSet *cs = x->cs;
        for (size_t j = 0; j < cs->n; j++) {
                if (j == x->self || x->firing[j])
                        continue;
                bool reads = (cs->colls[j] & ch->colls) != 0;
                for (size_t w = 0; w < MAX_VARS / 64; w++)
                        reads = reads || (cs->reads[j][w] & ch->vars[w]) != 0;
                if (!reads)
                        continue;
                bool e2 = false;
                if (holds(x, cs->whens[j], &e2))
                        return false;
        }
        return true;
}

/* 1 or 0: comparison node c with variable s at v; -1 when unknown. */
static int cmp_at(Ctx *x, unsigned c, unsigned s, int64_t v)
{
        ExprValue out;
        reset(x);
        set_num(x, s, v);
        if (expr_eval_node(x->when, c, &x->env, EXPR_NO_ROW, 0, &out) < 0 || out.absent)
                return -1;
        return out.b ? 1 : 0;
}

/* Left minus right side of comparison n with s at v, as a double. */
static bool diff_at(Ctx *x, const ExprNode *n, unsigned s, int64_t v, double *g)
{
        ExprValue a, b;
        reset(x);
        set_num(x, s, v);
        if (expr_eval_node(x->when, n->kids[0], &x->env, EXPR_NO_ROW, 0, &a) < 0 ||
            expr_eval_node(x->when, n->kids[1], &x->env, EXPR_NO_ROW, 0, &b) < 0 || a.absent ||
            b.absent || a.type != EXPR_NUMBER)
                return false;
        *g = (double)a.num - (double)b.num;
        return true;
}

static bool in_range(int64_t v)
{
        return v > -BIG && v < BIG;
}

/* The first value of variable s, going from its value now in direction dir,
 * at which comparison c changes its truth. A linear estimate from two
 * evaluations, then exact evaluations: gallop to a bracket, bisect. The
 * comparison is monotone in s for the linear expressions of the language,
 * truncation included. False when there is none within ±2^61. */
static bool boundary(Ctx *x, unsigned c, unsigned s, int dir, int64_t *ret)
{
        ExprNode n;
        double g0, g1;
        int64_t v0 = x->env0->vars[s].num;
        int t0 = cmp_at(x, c, s, v0);
        if (t0 < 0 || when_node(x, c, &n) < 0 || !in_range(v0))
                return false;
        if (!diff_at(x, &n, s, v0, &g0) || !diff_at(x, &n, s, v0 + dir * STEP, &g1))
                return false;
        double k = (g1 - g0) / ((double)dir * (double)STEP);
        if (k == 0)
                return false;
        double r = (double)v0 - g0 / k;
        if ((double)dir * (r - (double)v0) < -1 || fabs(r) >= (double)BIG)
                return false;
        int64_t p = (int64_t)llround(r);
        if (dir * (p - v0) < 1)
                p = v0 + dir;
        int64_t lo, hi; /* lo: still t0 (or v0); hi: flipped */
        int t = cmp_at(x, c, s, p);
        if (t < 0)
                return false;
        if (t != t0) {
                hi = p;
                lo = v0;
                for (int64_t step = 1; step < BIG; step *= 2) {
                        int64_t q = hi - dir * step;
                        if (dir * (q - v0) <= 0)
                                break;
                        int tq = cmp_at(x, c, s, q);
                        if (tq < 0)
                                return false;
                        if (tq == t0) {
                                lo = q;
                                break;
                        }
                        hi = q;
                }
        } else {
                lo = p;
                hi = 0;
                bool found = false;
                for (int64_t step = 1; step < BIG && !found; step *= 2) {
                        int64_t q = lo + dir * step;
                        if (!in_range(q))
                                return false;
                        int tq = cmp_at(x, c, s, q);
                        if (tq < 0)
                                return false;
                        if (tq != t0) {
                                hi = q;
                                found = true;
                        } else
                                lo = q;
                }
                if (!found)
                        return false;
        }
        while (dir * (hi - lo) > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                int tm = cmp_at(x, c, s, mid);
                if (tm < 0)
                        return false;
                if (tm == t0)
                        lo = mid;
                else
                        hi = mid;
        }
        *ret = hi;
        return true;
}

/* Marks the nodes outside every collection function (node i, inside:
 * whether an ancestor is one). */
static void mark_scope(Ctx *x, unsigned i, bool inside)
{
        ExprNode n;
        if (when_node(x, i, &n) < 0)
                return;
        x->in_scope[i] = !inside;
        for (unsigned k = 0; k < n.n_kids; k++)
                mark_scope(x, n.kids[k], inside || n.kind == EXPR_NODE_COLL);
}

/* Whether the subtree of node i reads variable slot s. */
static bool reads_var(const Ctx *x, unsigned i, unsigned s)
{
        ExprNode n;
        if (when_node(x, i, &n) < 0)
                return false;
        if (n.kind == EXPR_NODE_VAR)
                return n.slot == s;
        for (unsigned k = 0; k < n.n_kids; k++)
                if (reads_var(x, n.kids[k], s))
                        return true;
        return false;
}

/* Whether the subtree of node i reads variable s or a sum it is part of
 * (a what-if on s moves them all). */
static bool reads_lever(const Ctx *x, unsigned i, unsigned s)
{
        for (int p = (int)s; p >= 0; p = x->cs->parent[p])
                if (reads_var(x, i, (unsigned)p))
                        return true;
        return false;
}

/* The one labelled lever variable of the subtree of node i, or NULL when it
 * has none or several: the context of a figure ("(last year's income)"). */
static const char *sole_var(const Ctx *x, unsigned i, const char *found)
{
        ExprNode n;
        if (when_node(x, i, &n) < 0)
                return found;
        if (n.kind == EXPR_NODE_VAR) {
                const Label *l = n.slot < MAX_VARS ? x->cs->label[n.slot] : NULL;
                if (!l || l->better == 0)
                        return found;
                if (found && !streq(found, n.name))
                        return "";
                return n.name;
        }
        for (unsigned k = 0; k < n.n_kids; k++)
                found = sole_var(x, n.kids[k], found);
        return found;
}

static ClearOption *add_option(Ctx *x, ClearKind kind)
{
        if (x->n_opts >= x->max || x->n_opts >= CLEAR_MAX_OPTIONS)
                return NULL;
        ClearOption *o = &x->opts[x->n_opts];
        *o = (ClearOption){.kind = kind};
        x->rows_node[x->n_opts] = EXPR_NO_ROW;
        x->num_cmp[x->n_opts] = EXPR_NO_ROW;
        x->n_opts++;
        return o;
}

static int slot_of(const ClearSet *cs, const char *name)
{
        for (int k = 0; name && k < MAX_VARS; k++)
                if (cs->name[k] && streq(cs->name[k], name))
                        return k;
        return -1;
}

typedef struct {
        int64_t v;
        unsigned cmp; /* the comparison it flips, or EXPR_NO_ROW for the limit 0 */
} Candidate;

static int cand_cmp(const void *a, const void *b)
{
        int64_t x = ((const Candidate *)a)->v, y = ((const Candidate *)b)->v;
        return (x > y) - (x < y);
}

/* The number options: for each lever variable of the condition, the
 * nearest value in its helpful direction that is a way out. */
static void solve_numbers(Ctx *x)
{
        const ClearSet *cs = x->cs;
        bool done[MAX_VARS] = {false};
        for (unsigned i = 0; i < expr_n_nodes(x->when); i++) {
                ExprNode v;
                if (!x->in_scope[i] || when_node(x, i, &v) < 0 || v.kind != EXPR_NODE_VAR ||
                    v.type != EXPR_NUMBER || v.slot >= MAX_VARS || done[v.slot])
                        continue;
                unsigned s = v.slot;
                done[s] = true;
                const Label *l = cs->label[s];
                const ExprValue *cur = &x->env0->vars[s];
                if (!l || l->better == 0 || cur->absent || cur->type != EXPR_NUMBER)
                        continue;
                int dir = l->better;
                Candidate cand[MAX_CANDIDATES];
                size_t nc = 0;
                for (unsigned c = 0; c < expr_n_nodes(x->when) && nc < MAX_CANDIDATES; c++) {
                        ExprNode cn;
                        int64_t b;
                        if (!x->in_scope[c] || when_node(x, c, &cn) < 0 ||
                            cn.kind != EXPR_NODE_CMP || !reads_lever(x, c, s))
                                continue;
                        if (boundary(x, c, s, dir, &b))
                                cand[nc++] = (Candidate){b, c};
                }
                if (dir < 0 && cur->num > 0 && nc < MAX_CANDIDATES)
                        cand[nc++] = (Candidate){0, EXPR_NO_ROW};
                qsort(cand, nc, sizeof(Candidate), cand_cmp);
                for (size_t k = 0; k < nc; k++) {
                        /* Nearest first: ascending for a rise, descending for a fall. */
                        Candidate *cd = &cand[dir > 0 ? k : nc - 1 - k];
                        int64_t t = cd->v;
                        if (l->whole) {
                                int64_t r = ((t % 100) + 100) % 100;
                                if (r)
                                        t = dir < 0 ? t - r : t - r + 100;
                        }
                        if (t < 0 || dir * (t - cur->num) <= 0)
                                continue;
                        reset(x);
                        set_num(x, s, t);
                        Changed ch = {0};
                        changed_var(cs, &ch, s);
                        if (!way_out(x, &ch))
                                continue;
                        ClearOption *o = add_option(x, CLEAR_NUMBER);
                        if (!o)
                                return;
                        o->var = cs->name[s];
                        o->from = cur->num;
                        o->to = t;
                        o->dir = dir;
                        x->num_cmp[x->n_opts - 1] = cd->cmp;
                        ExprNode cn;
                        if (cd->cmp != EXPR_NO_ROW && when_node(x, cd->cmp, &cn) == 0) {
                                unsigned other =
                                    reads_lever(x, cn.kids[0], s) ? cn.kids[1] : cn.kids[0];
                                /* Named only when the figure is that side's value:
                                 * "36000 (last year's income)", not 20% of it. */
                                const char *ctx = sole_var(x, other, NULL);
                                ExprValue ov;
                                if (ctx && *ctx &&
                                    expr_eval_node(x->when, other, x->env0, EXPR_NO_ROW, 0, &ov) ==
                                        0 &&
                                    !ov.absent && ov.type == EXPR_NUMBER && ov.num == t)
                                        o->context = ctx;
                        }
                        break;
                }
        }
        /* A part whose sum already has a way out adds nothing (illness costs
         * beside rigid expenditure). */
        for (size_t i = 0; i < x->n_opts; i++) {
                int k = slot_of(cs, x->opts[i].var);
                bool sum_too = false;
                for (int p = k >= 0 ? cs->parent[k] : -1; p >= 0 && !sum_too; p = cs->parent[p])
                        for (size_t j = 0; j < x->n_opts; j++)
                                sum_too = sum_too || (x->opts[j].kind == CLEAR_NUMBER &&
                                                      streq(x->opts[j].var, cs->name[p]));
                if (!sum_too)
                        continue;
                size_t rest = x->n_opts - i - 1;
                memmove(&x->opts[i], &x->opts[i + 1], rest * sizeof(ClearOption));
                memmove(&x->num_cmp[i], &x->num_cmp[i + 1], rest * sizeof(unsigned));
                memmove(&x->rows_node[i], &x->rows_node[i + 1], rest * sizeof(unsigned));
                x->n_opts--;
                i--;
        }
}

/* A leaf on a string or bool variable outside collections: its variable
 * slot, or -1. */
static int leaf_var(const Ctx *x, unsigned i)
{
        ExprNode n, k;
        if (!x->in_scope[i] || when_node(x, i, &n) < 0)
                return -1;
        if (n.kind == EXPR_NODE_VAR && n.type == EXPR_BOOL)
                return (int)n.slot;
        if (n.kind == EXPR_NODE_IN && when_node(x, n.kids[0], &k) == 0 && k.kind == EXPR_NODE_VAR)
                return (int)k.slot;
        if (n.kind != EXPR_NODE_CMP)
                return -1;
        for (unsigned j = 0; j < 2; j++) {
                ExprNode o;
                if (when_node(x, n.kids[j], &k) == 0 && k.kind == EXPR_NODE_VAR &&
                    (k.type == EXPR_STRING || k.type == EXPR_BOOL) &&
                    when_node(x, n.kids[1 - j], &o) == 0 && o.kind == EXPR_NODE_LITERAL)
                        return (int)k.slot;
        }
        return -1;
}

/* Whether some leaf of variable s holds in the what-if. */
static bool leaves_hold(Ctx *x, unsigned s)
{
        for (unsigned i = 0; i < expr_n_nodes(x->when); i++) {
                ExprValue v;
                if (leaf_var(x, i) != (int)s)
                        continue;
                if (expr_eval_node(x->when, i, &x->env, EXPR_NO_ROW, 0, &v) == 0 &&
                    expr_value_true(&v))
                        return true;
        }
        return false;
}

/* Strings and bools: the variables whose leaves hold now take values that
 * turn them off, together. */
static void solve_values(Ctx *x)
{
        const ClearSet *cs = x->cs;
        unsigned culprits[CLEAR_MAX_SET];
        const char *offs[CLEAR_MAX_SET];
        size_t n = 0;
        bool seen[MAX_VARS] = {false};
        reset(x);
        for (unsigned i = 0; i < expr_n_nodes(x->when); i++) {
                int sv = leaf_var(x, i);
                if (sv < 0 || sv >= MAX_VARS || seen[sv])
                        continue;
                unsigned s = (unsigned)sv;
                seen[s] = true;
                const Label *l = cs->label[s];
                const ExprValue *cur = &x->env0->vars[s];
                if (!l || cur->absent || !leaves_hold(x, s))
                        continue;
                if (n == CLEAR_MAX_SET)
                        return;
                const char *off = NULL;
                if (cur->type == EXPR_BOOL && l->better < 0) {
                        x->vars[s].b = false;
                        if (!leaves_hold(x, s))
                                off = "false";
                        x->vars[s].b = cur->b;
                } else if (cur->type == EXPR_STRING && l->domain) {
                        const char *v;
                        for (size_t k = 0; !off && (v = label_domain_value(l, k)); k++) {
                                if (streq(v, cur->s))
                                        continue;
                                ExprValue keep = x->vars[s];
                                int p = cs->parent[s];
                                ExprValue keep_p = p >= 0 ? x->vars[p] : keep;
                                set_str(x, s, v);
                                if (!leaves_hold(x, s))
                                        off = v;
                                x->vars[s] = keep;
                                if (p >= 0)
                                        x->vars[p] = keep_p;
                        }
                }
                if (!off)
                        return; /* a variable that cannot be turned off: no way out here */
                culprits[n] = s;
                offs[n++] = off;
        }
        if (n == 0)
                return;
        reset(x);
        Changed ch = {0};
        for (size_t i = 0; i < n; i++) {
                if (streq(offs[i], "false") && x->vars[culprits[i]].type == EXPR_BOOL)
                        x->vars[culprits[i]].b = false;
                else
                        set_str(x, culprits[i], offs[i]);
                changed_var(cs, &ch, culprits[i]);
        }
        if (!way_out(x, &ch))
                return;
        const Label *l0 = cs->label[culprits[0]];
        if (n == 1 && l0->until) {
                for (size_t k = 0; k < cs->sym->n_vars; k++) {
                        const ExprVar *v = &cs->sym->vars[k];
                        const ExprValue *d = &x->env0->vars[v->slot];
                        if (!streq(v->name, l0->until) || d->absent || d->type != EXPR_DATE)
                                continue;
                        ClearOption *o = add_option(x, CLEAR_UNTIL);
                        if (o) {
                                o->var = cs->name[culprits[0]];
                                o->until = d->date + 1;
                        }
                        return;
                }
        }
        ClearOption *o = add_option(x, CLEAR_VALUES);
        if (!o)
                return;
        for (size_t i = 0; i < n; i++) {
                o->vars[i] = cs->name[culprits[i]];
                o->values[i] = offs[i];
        }
        o->n = n;
}

/* The collection of env with slot `slot`, and its symbol entry. */
static const ExprCollection *coll_of(const Ctx *x, unsigned slot)
{
        for (size_t i = 0; i < x->cs->sym->n_colls; i++)
                if (x->cs->sym->colls[i].slot == slot)
                        return &x->cs->sym->colls[i];
        return NULL;
}

static int date_field(const ExprCollection *c)
{
        for (size_t i = 0; c && i < c->n_fields; i++)
                if (streq(c->fields[i].name, "date") && c->fields[i].type == EXPR_DATE)
                        return (int)c->fields[i].slot;
        return -1;
}

/* any(collection, ...) that holds: the rows that make it hold stop
 * counting. */
static void solve_rows(Ctx *x)
{
        for (unsigned i = 0; i < expr_n_nodes(x->when); i++) {
                ExprNode n;
                ExprValue v;
                if (!x->in_scope[i] || when_node(x, i, &n) < 0 || n.kind != EXPR_NODE_COLL ||
                    !streq(n.op, "any") || n.slot >= MAX_COLLS)
                        continue;
                const ExprRows *rows = x->env0->colls ? &x->env0->colls[n.slot] : NULL;
                const ExprCollection *col = coll_of(x, n.slot);
                if (!rows || !col || rows->n_rows > MAX_ROWS || rows->stride > 8 ||
                    expr_eval_node(x->when, i, x->env0, EXPR_NO_ROW, 0, &v) < 0 ||
                    !expr_value_true(&v))
                        continue;
                bool match[MAX_ROWS] = {false};
                size_t n_match = 0, kept = 0;
                int df = date_field(col);
                int32_t until = 0;
                bool all_dated = df >= 0;
                for (size_t r = 0; r < rows->n_rows; r++) {
                        if (expr_eval_node(x->when, n.kids[0], x->env0, i, r, &v) < 0 ||
                            !expr_value_true(&v))
                                continue;
                        match[r] = true;
                        n_match++;
                        const ExprValue *d =
                            df >= 0 ? &rows->rows[r * rows->stride + (size_t)df] : NULL;
                        if (!d || d->absent)
                                all_dated = false;
                        else if (d->date + FACTS_WINDOW_DAYS + 1 > until)
                                until = d->date + FACTS_WINDOW_DAYS + 1;
                }
                reset(x);
                for (size_t r = 0; r < rows->n_rows; r++)
                        if (!match[r])
                                memcpy(&x->rowbuf[kept++ * rows->stride],
                                       &rows->rows[r * rows->stride],
                                       rows->stride * sizeof(ExprValue));
                x->colls[n.slot] = (ExprRows){x->rowbuf, kept, rows->stride};
                Changed ch = {.colls = n.slot < 32 ? 1U << n.slot : 0};
                if (n_match == 0 || !way_out(x, &ch))
                        continue;
                ClearOption *o = add_option(x, CLEAR_ROWS);
                if (!o)
                        return;
                o->coll = col->name;
                for (size_t r = 0; r < rows->n_rows && o->n_rows < CLEAR_MAX_ROWS; r++)
                        if (match[r])
                                o->rows[o->n_rows++] = r;
                o->until = all_dated ? until : 0;
                x->rows_node[x->n_opts - 1] = i;
        }
}

/* --- the sentence -------------------------------------------------------- */

typedef struct {
        char *buf;
        size_t len, n;
} Text;

static void put(Text *t, const char *s)
{
        size_t k = strlen(s);
        if (t->len == 0 || t->n + 1 >= t->len)
                return;
        if (k > t->len - 1 - t->n) {
                k = t->len - 1 - t->n;
                while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
                        k--;
        }
        memcpy(t->buf + t->n, s, k);
        t->n += k;
        t->buf[t->n] = '\0';
}

static void putf(Text *t, const char *fmt, ...) _printf_(2, 3);
static void putf(Text *t, const char *fmt, ...)
{
        char tmp[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(tmp, sizeof(tmp), fmt, ap);
        va_end(ap);
        put(t, tmp);
}

static void put_value(Text *t, const ExprValue *v)
{
        char tmp[128];
        expr_value_format(v, tmp, sizeof(tmp));
        put(t, tmp);
}

static void put_num(Text *t, int64_t v)
{
        ExprValue e = {.type = EXPR_NUMBER, .num = v};
        put_value(t, &e);
}

static void put_date(Text *t, int32_t d)
{
        ExprValue e = {.type = EXPR_DATE, .date = d};
        put_value(t, &e);
}

/* A variable's label: options name variables by the set's own name
 * pointers, so the set's table answers without comparing texts;
 * label_var() for any other name. */
static const Label *label_of(const ClearSet *cs, const char *name)
{
        for (size_t k = 0; name && k < MAX_VARS; k++)
                if (cs->name[k] == name)
                        return cs->label[k];
        return label_var(name);
}

static const char *var_label(const Ctx *x, const char *name)
{
        const Label *l = label_of(x->cs, name);
        if (!l)
                return name;
        return x->english ? l->en : l->zh;
}

static void render_number(const Ctx *x, const ClearOption *o, Text *t)
{
        const Label *l = label_of(x->cs, o->var);
        const char *unit = !l ? "" : x->english ? l->unit_en : l->unit_zh;
        if (x->english) {
                putf(t, "%s ", var_label(x, o->var));
                if (l && l->whole) {
                        put(t, "(");
                        put_num(t, o->from);
                        put(t, ")");
                } else {
                        put(t, "of ");
                        put_num(t, o->from);
                        put(t, unit);
                }
                put(t, o->dir < 0 ? " must fall to " : " must rise to ");
                put_num(t, o->to);
                put(t, unit);
                if (o->context)
                        putf(t, " (%s)", var_label(x, o->context));
        } else {
                put(t, var_label(x, o->var));
                put_num(t, o->from);
                put(t, unit);
                put(t, o->dir < 0 ? "须降至" : "须升至");
                put_num(t, o->to);
                put(t, unit);
                if (o->context)
                        putf(t, "（%s）", var_label(x, o->context));
        }
}

static void render_values(const Ctx *x, const ClearOption *o, Text *t)
{
        for (size_t i = 0; i < o->n; i++) {
                if (i)
                        put(t, x->english ? " and " : "且");
                bool b = streq(o->values[i], "false");
                if (x->english)
                        putf(t, b ? "%s must end" : "%s must be %s", var_label(x, o->vars[i]),
                             o->values[i]);
                else
                        putf(t, b ? "%s须结束" : "%s须为%s", var_label(x, o->vars[i]),
                             o->values[i]);
        }
}

/* What makes row r of the collection node hold: the leaves of its predicate
 * that hold, each named by its first field ("house damage collapsed"), each
 * field once (seen: bits of field slots). */
static void describe_row(const Ctx *x, unsigned coll_node, unsigned i, size_t r, const char *coll,
                         Text *t, uint32_t *seen)
{
        const ExprRows *rows = &x->env0->colls[x->coll_slot];
        ExprNode n;
        ExprValue v;
        if (when_node(x, i, &n) < 0)
                return;
        if (n.kind == EXPR_NODE_AND || n.kind == EXPR_NODE_OR) {
                for (unsigned k = 0; k < n.n_kids; k++) {
                        if (n.kind == EXPR_NODE_OR &&
                            (expr_eval_node(x->when, n.kids[k], x->env0, coll_node, r, &v) < 0 ||
                             !expr_value_true(&v)))
                                continue;
                        describe_row(x, coll_node, n.kids[k], r, coll, t, seen);
                        if (n.kind == EXPR_NODE_OR)
                                break; /* one reason a row counts is enough to name */
                }
                return;
        }
        unsigned stack[EXPR_MAX_NODES], sp = 0;
        stack[sp++] = i;
        while (sp) {
                ExprNode f;
                if (when_node(x, stack[--sp], &f) < 0)
                        continue;
                if (f.kind != EXPR_NODE_FIELD) {
                        for (unsigned k = f.n_kids; k-- > 0 && sp < EXPR_MAX_NODES;)
                                stack[sp++] = f.kids[k];
                        continue;
                }
                if (f.slot >= 32 || f.slot >= rows->stride || (*seen & (1U << f.slot)))
                        return;
                const ExprValue *fv = &rows->rows[r * rows->stride + f.slot];
                const LabelField *fl = label_field(coll, f.name);
                const char *dot = strchr(f.name, '.');
                const char *lab = fl ? (x->english ? fl->en : fl->zh) : dot ? dot + 1 : f.name;
                put(t, *seen ? (x->english ? ", " : "，") : "");
                *seen |= 1U << f.slot;
                if (fv->type == EXPR_BOOL && !fv->absent && fv->b) {
                        put(t, lab);
                } else {
                        putf(t, x->english ? "%s " : "%s", lab);
                        put_value(t, fv);
                        if (fl && fl->money)
                                put(t, x->english ? " yuan" : "元");
                }
                return;
        }
}

/* "the disaster of 2026-07-27 (house damage collapsed) stops counting on
 * 2027-07-28 (365 days)"; "member 1 (seriously ill) must no longer count". */
static void render_rows(Ctx *x, const ClearOption *o, unsigned node, Text *t)
{
        ExprNode n;
        if (when_node(x, node, &n) < 0)
                return;
        x->coll_slot = n.slot;
        const ExprRows *rows = &x->env0->colls[n.slot];
        const LabelColl *cl = label_coll(o->coll);
        int df = date_field(coll_of(x, n.slot));
        bool dated = o->until > 0 && df >= 0;
        const char *noun = !cl             ? o->coll
                           : !x->english   ? cl->zh
                           : o->n_rows > 1 ? cl->en_plural
                                           : cl->en;
        if (x->english)
                putf(t, dated ? "the %s " : "%s ", noun);
        for (size_t k = 0; k < o->n_rows && k < 3; k++) {
                size_t r = o->rows[k];
                if (k)
                        put(t, !x->english ? "、" : k + 1 == o->n_rows || k == 2 ? " and " : ", ");
                if (!x->english && !dated && k == 0)
                        put(t, noun);
                if (dated) {
                        put(t, x->english ? "of " : "");
                        put_date(t, rows->rows[r * rows->stride + (size_t)df].date);
                } else
                        putf(t, "%zu", r + 1);
                uint32_t seen = 0;
                put(t, x->english ? " (" : "（");
                describe_row(x, node, n.kids[0], r, o->coll, t, &seen);
                put(t, x->english ? ")" : "）");
        }
        if (o->n_rows > 3)
                putf(t, x->english ? " and %zu more" : "等%zu项", o->n_rows - 3);
        if (!dated) {
                put(t, x->english ? " must no longer count: the register's data must change"
                                  : "须经登记信息变更后不再符合");
                return;
        }
        if (x->english) {
                put(t, o->n_rows > 1 ? " stop counting on " : " stops counting on ");
                put_date(t, o->until);
                putf(t, " (%d days)", FACTS_WINDOW_DAYS);
        } else {
                putf(t, "的%s于", noun);
                put_date(t, o->until);
                putf(t, "起不再计入（%d天）", FACTS_WINDOW_DAYS);
        }
}

static void render(Ctx *x, Text *t)
{
        for (size_t i = 0; i < x->n_opts; i++) {
                const ClearOption *o = &x->opts[i];
                if (i)
                        put(t, x->english ? " or " : "；或");
                switch (o->kind) {
                case CLEAR_NUMBER:
                        render_number(x, o, t);
                        break;
                case CLEAR_VALUES:
                        render_values(x, o, t);
                        break;
                case CLEAR_UNTIL:
                        putf(t, x->english ? "%s ends after " : "%s于", var_label(x, o->var));
                        put_date(t, o->until - 1);
                        put(t, x->english ? "" : "后结束");
                        break;
                case CLEAR_ROWS:
                        render_rows(x, o, x->rows_node[i], t);
                        break;
                }
        }
        if (x->n_opts == 0) {
                char when[1024];
                size_t k = expr_print(x->when, when, sizeof(when));
                put(t, x->english ? "no single figure clears it: this condition must stop "
                                    "holding: "
                                  : "无单一数字可解除，须以下条件不再成立：");
                put(t, when);
                if (k >= sizeof(when))
                        put(t, "...");
        }
}

int clear_explain(const ClearSet *c, size_t self, const bool *firing, const ExprEnv *env,
                  bool english, ClearOption *opts, size_t max, size_t *n_opts, char *text,
                  size_t len)
{
        ClearOption local[CLEAR_MAX_OPTIONS];
        if (!c || self >= c->n || !firing || !env || !env->vars || !text || len == 0)
                return -EINVAL;
        Ctx *x = malloc(sizeof(Ctx));
        if (!x)
                return -ENOMEM;
        memset(x, 0, offsetof(Ctx, rowbuf));
        x->cs = c;
        x->self = self;
        x->firing = firing;
        x->env0 = env;
        x->when = c->whens[self];
        x->nodes = c->nodes[self];
        x->n_nodes = c->n_nodes[self];
        x->english = english;
        x->opts = local;
        x->max = CLEAR_MAX_OPTIONS;
        text[0] = '\0';
        if (expr_n_nodes(x->when) > 0)
                mark_scope(x, expr_root(x->when), false);
        solve_numbers(x);
        solve_values(x);
        solve_rows(x);
        Text t = {text, len, 0};
        render(x, &t);
        if (n_opts)
                *n_opts = x->n_opts < max ? x->n_opts : max;
        for (size_t i = 0; opts && i < x->n_opts && i < max; i++)
                opts[i] = local[i];
        free(x);
        return 0;
}
