/* clear.c's and clear_set.c's shared view of a ClearSet. */
#pragma once

#include <stdint.h>
#include "clear.h"
#include "label.h"

#define MAX_VARS 128
#define MAX_COLLS 16

struct ClearSet {
        const ExprSymbols *sym;
        const Expr **whens;
        size_t n;
        uint64_t (*reads)[MAX_VARS / 64]; /* per rule: the variable slots it reads */
        uint32_t *colls;                  /* per rule: the collection slots it reads */
        const Label *label[MAX_VARS];     /* by variable slot */
        const char *name[MAX_VARS];
        int parent[MAX_VARS];
        size_t n_vars;
        /* per rule: expr_node() of each node of its condition, made once
         * (an explanation walks the nodes many times over) */
        ExprNode **nodes;
        unsigned *n_nodes;
};
