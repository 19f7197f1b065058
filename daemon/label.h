/* How a cadre reads the facts of a household (facts.h): each variable's
 * name in Chinese and English, its unit, and which way helps the household
 * (income up, costs down), which sums it is part of; collections' row
 * nouns and fields' names. Used to explain what clears a reason (clear.c);
 * a test checks that every documented variable has a label. Static data. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct {
        const char *name;
        const char *zh, *en;
        const char *unit_zh, *unit_en; /* after a figure */
        int better;          /* numbers: +1 higher helps, -1 lower helps; bools: -1 true is the
                              * trouble; 0: not a lever (years, sizes, policy figures) */
        bool whole;          /* a count: whole numbers only */
        const char *parent;  /* the sum it is part of (a what-if moves it too) */
        const char *domain;  /* strings: the values it can take, '|'-separated */
        const char *counted; /* strings: the value the parent counts */
        const char *until;   /* bools: the date variable it holds until */
} Label;

typedef struct {
        const char *name;                /* "disasters" */
        const char *zh, *en, *en_plural; /* the noun of one row */
} LabelColl;

typedef struct {
        const char *name; /* "disasters.house_damage" */
        const char *zh, *en;
        bool money; /* yuan */
} LabelField;

/* The label of a fixed variable ("prior_income"), or NULL. */
const Label *label_var(const char *name);
/* The label of a collection ("disasters"), or NULL. */
const LabelColl *label_coll(const char *name);
/* The label of field f of collection coll, f named as in expressions by
 * the row's element ("disaster.house_damage"), or NULL. */
const LabelField *label_field(const char *coll, const char *f);
/* True if name, a variable or a "collection.field", has a label. */
bool label_exists(const char *name);
/* The value the domain lists k-th (k from 0), as a static string, or NULL. */
const char *label_domain_value(const Label *l, size_t k);
