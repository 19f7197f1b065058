/* What would turn a firing rule off: the `to_clear` sentence of a reason
 * (CONTRACT.md, additions of 2026-12-05), derived from the rule's own
 * `when` expression and the household's facts, never written per rule.
 *
 * - A number variable of a comparison in the condition (reached through
 *   and, or, not; not inside count/any/all/sum): the figure at which the
 *   whole condition stops holding, the others held, found with the
 *   expression engine itself (a linear estimate from two evaluations, then
 *   exact evaluations around it), so truncation and per_capita are exact.
 *   Only in the direction that helps the household (income up, costs,
 *   losses and open needs down: the `better` of each variable's label);
 *   a variable that is part of a sum (medical_12m of illness_12m of
 *   rigid_12m, urgent_needs of open_needs) moves its sums with it.
 * - Strings and bools (checks of the latest visit, the gradual exit
 *   period): the values they must take, together, or the date a period
 *   ends.
 * - any(collection, ...): the rows that make it hold, and the day they stop
 *   counting (an incident counts for FACTS_WINDOW_DAYS after its date), or
 *   that the data must change (members).
 * A candidate counts only if the rule stops holding and no rule that does
 * not fire now would start: lowering illness costs below disability costs
 * clears rigid_expenditure_illness only by firing rigid_expenditure_disability,
 * which is not a way out. When nothing qualifies the sentence says which
 * condition must stop holding.
 *
 * Pure: no I/O. clear_explain() allocates scratch space per call, so one
 * ClearSet serves several threads. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "expr.h"
#include "macro.h"

#define CLEAR_MAX_OPTIONS 8
#define CLEAR_MAX_SET 8   /* variables of one VALUES option */
#define CLEAR_MAX_ROWS 16 /* rows named in one ROWS option */
#define CLEAR_MAX_TEXT 2048

typedef enum {
        CLEAR_NUMBER, /* var must reach `to`: at most when dir < 0, at least when dir > 0 */
        CLEAR_VALUES, /* each vars[i] must take values[i] ("false" for a bool) */
        CLEAR_UNTIL,  /* the bool var stops holding on day `until` */
        CLEAR_ROWS,   /* rows[] of collection coll stop counting on day `until` (0: they
                       * never age out: the data itself must change) */
} ClearKind;

/* One way out. Strings point into the rule set's expressions and static
 * tables: valid while the RuleSet lives. Numbers are ×100 (expr.h). */
typedef struct {
        ClearKind kind;
        const char *var; /* NUMBER, UNTIL */
        int64_t from, to;
        int dir;
        const char *context; /* NUMBER: the variable on the other side, or NULL */
        const char *vars[CLEAR_MAX_SET];
        const char *values[CLEAR_MAX_SET];
        size_t n;
        const char *coll; /* ROWS */
        size_t rows[CLEAR_MAX_ROWS];
        size_t n_rows;
        int32_t until; /* UNTIL, ROWS: days since 1970 */
} ClearOption;

typedef struct ClearSet ClearSet;

/* Prepares the conditions whens[0..n) (borrowed, with sym, for the life of
 * the ClearSet) of a rule set compiled against sym: which variables and
 * collections each reads, the labels of the variables. NULL on memory
 * failure or when sym has more variables than a ClearSet can track. */
ClearSet *clear_set_new(const ExprSymbols *sym, const Expr *const *whens, size_t n);
ClearSet *clear_set_free(ClearSet *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(ClearSet *, clear_set_free);

/* The ways out of rule `self`, which holds over env (borrowed; the
 * facts of one household) while firing[0..n) says which rules hold.
 * Fills opts[0..max) (may be NULL with max 0) and *n_opts, and writes the
 * sentence (English or Chinese) into text (len bytes, NUL-terminated,
 * cut at a UTF-8 boundary). Returns 0, -EINVAL for bad arguments, -ENOMEM. */
int clear_explain(const ClearSet *c, size_t self, const bool *firing, const ExprEnv *env,
                  bool english, ClearOption *opts, size_t max, size_t *n_opts, char *text,
                  size_t len);
