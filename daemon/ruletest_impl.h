/* Shared by ruletest.c (running rule tests) and ruletest_check.c (checking
 * a test file's structure) only. */
#pragma once

#include <stdbool.h>

#include "diag.h"
#include "ytree.h"

/* One test file, parsed and checked. */
typedef struct {
        char *path;
        const char *name; /* base name, for the TAP lines */
        YNode *root;
} TestFile;

static inline bool is_scalar(const YNode *n)
{
        return n && n->type == YNODE_SCALAR;
}

/* Checks the structure of test file f (its keys, cases, steps, expects,
 * dates and config), every mistake into d at file:line:col. */
void ruletest_check_file(const TestFile *f, Diag *d);
