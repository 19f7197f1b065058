/* A rule set's ClearSet: what each condition reads, its nodes, the
 * variables' labels (clear.h). */
#include "clear_impl.h"

#include <stdlib.h>
#include <string.h>
#include "macro.h"

ClearSet *clear_set_free(ClearSet *c)
{
        if (!c)
                return NULL;
        for (size_t r = 0; c->nodes && r < c->n; r++)
                free(c->nodes[r]);
        free(c->nodes);
        free(c->n_nodes);
        free(c->whens);
        free(c->reads);
        free(c->colls);
        free(c);
        return NULL;
}

ClearSet *clear_set_new(const ExprSymbols *sym, const Expr *const *whens, size_t n)
{
        if (!sym || sym->n_vars > MAX_VARS || sym->n_colls > MAX_COLLS || (n && !whens))
                return NULL;
        ClearSet *c = calloc(1, sizeof(ClearSet));
        if (!c)
                return NULL;
        c->sym = sym;
        c->n = n;
        c->n_vars = MAX_VARS;
        c->whens = calloc(n + 1, sizeof(Expr *));
        c->reads = calloc(n + 1, sizeof(*c->reads));
        c->colls = calloc(n + 1, sizeof(uint32_t));
        c->nodes = calloc(n + 1, sizeof(ExprNode *));
        c->n_nodes = calloc(n + 1, sizeof(unsigned));
        if (!c->whens || !c->reads || !c->colls || !c->nodes || !c->n_nodes)
                return clear_set_free(c);
        for (size_t i = 0; i < MAX_VARS; i++)
                c->parent[i] = -1;
        for (size_t i = 0; i < sym->n_vars; i++) {
                unsigned s = sym->vars[i].slot;
                if (s >= MAX_VARS)
                        return clear_set_free(c);
                c->label[s] = label_var(sym->vars[i].name);
                c->name[s] = sym->vars[i].name;
        }
        for (size_t i = 0; i < sym->n_vars; i++) {
                const Label *l = c->label[sym->vars[i].slot];
                for (size_t k = 0; l && l->parent && k < sym->n_vars; k++)
                        if (streq(sym->vars[k].name, l->parent))
                                c->parent[sym->vars[i].slot] = (int)sym->vars[k].slot;
        }
        for (size_t r = 0; r < n; r++) {
                c->whens[r] = whens[r];
                unsigned nn = (unsigned)expr_n_nodes(whens[r]);
                if (nn && !(c->nodes[r] = calloc(nn, sizeof(ExprNode))))
                        return clear_set_free(c);
                for (unsigned i = 0; i < nn; i++) {
                        ExprNode nd;
                        if (expr_node(whens[r], i, &nd) < 0)
                                continue;
                        c->nodes[r][i] = nd;
                        c->n_nodes[r] = i + 1;
                        if (nd.kind == EXPR_NODE_VAR && nd.slot < MAX_VARS)
                                c->reads[r][nd.slot / 64] |= 1ULL << (nd.slot % 64);
                        if (nd.kind == EXPR_NODE_COLL && nd.slot < 32)
                                c->colls[r] |= 1U << nd.slot;
                }
        }
        return c;
}
