/* The household facts that rules read: the documented variables and
 * collections of the rule language (its ExprSymbols), and how their values
 * are computed from a household document (household.h) at a date. Pure: no
 * I/O, no logging.
 *
 * Every number is the expression number type, ×100 fixed point: money is
 * fen (so 450.00 yuan is 45000), counts are count×100, years are year×100.
 * A value the household has no data for is absent (expr.h).
 *
 * The symbols are the fixed table below plus one number variable
 * "threshold.<name>" per threshold a rule set defines; facts_symbols_new()
 * builds them once per rule set. */
#pragma once

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include "expr.h"
#include "macro.h"

#define FACTS_MAX_THRESHOLDS 64
#define FACTS_MAX_THRESHOLD_NAME 48
#define FACTS_THRESHOLD_PREFIX "threshold."
/* Rows per collection; the household document holds at most 50 members,
 * 100 open needs and 50 incidents (household.h). More rows are ignored. */
#define FACTS_MAX_MEMBERS 50
#define FACTS_MAX_NEEDS 100
#define FACTS_MAX_INCIDENTS 50
/* An incident counts while today - its date is in 0..FACTS_WINDOW_DAYS. */
#define FACTS_WINDOW_DAYS 365

/* One documented variable or collection field, for the README, hearthctl
 * and the test that checks the README names every variable. Fields of a
 * collection are named "collection.field" ("members.labor"). */
typedef struct {
        const char *name;
        ExprType type;
        const char *unit; /* "yuan", "count", "year", "date", "" */
        const char *help;
} FactsHelp;

/* The documentation of the i-th documented name: the fixed variables in
 * symbol order, then every collection field, named "collection.field" in
 * buf (len bytes; h->name points at buf then). Returns 0, or -ENOENT past
 * the last one. */
int facts_help(size_t i, char *buf, size_t len, FactsHelp *h);

typedef struct FactsSymbols FactsSymbols;

/* Builds the symbol table: the fixed variables and collections, plus a
 * number variable "threshold.<names[i]>" per threshold (names borrowed
 * during the call only). Returns NULL on memory failure or when n exceeds
 * FACTS_MAX_THRESHOLDS. Free with facts_symbols_free(). */
FactsSymbols *facts_symbols_new(const char *const *names, size_t n);
FactsSymbols *facts_symbols_free(FactsSymbols *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(FactsSymbols *, facts_symbols_free);

/* The table for expr_compile(), borrowed from s. */
const ExprSymbols *facts_symbols_get(const FactsSymbols *s);

typedef struct Facts Facts;

/* The values of one household at one date: a fixed-size buffer (about
 * 30 KiB), reusable for any number of facts_fill() calls. NULL on memory
 * failure. */
Facts *facts_new(void);
Facts *facts_free(Facts *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(Facts *, facts_free);

/* Computes every fixed variable and collection of doc (borrowed: string
 * values point into doc, so f is valid only while doc is unchanged) at date
 * today (days since 1970), with monitor_factor (×100) and the threshold
 * values thresholds[0..n) (×100, in the order of facts_symbols_new()).
 * Tolerates a malformed document: wrong types read as absent. Returns 0, or
 * -EINVAL when n exceeds FACTS_MAX_THRESHOLDS or an argument is NULL. */
int facts_fill(Facts *f, const json_t *doc, int32_t today, int64_t monitor_factor,
               const int64_t *thresholds, size_t n);

/* Fills env to evaluate expressions over f (borrowed) with the floor lines
 * (borrowed, sorted by year). */
void facts_env(const Facts *f, const ExprFloorLine *lines, size_t n_lines, ExprEnv *env);

/* The value of a fixed variable after facts_fill(), or NULL for an unknown
 * name. Borrowed from f. */
const ExprValue *facts_get(const Facts *f, const char *name);

/* v as JSON: a number as yuan via money_to_json() (×100 to units with up
 * to 2 decimals: right for money and plain numbers alike), a date as
 * "YYYY-MM-DD", a string, a bool, null when absent. New reference. */
json_t *facts_value_to_json(const ExprValue *v);

/* Every fixed variable (absent ones as null, money as yuan, dates as
 * YYYY-MM-DD) and collection as a JSON object, for `hearthctl` and rule
 * authors. New reference, NULL on memory failure. */
json_t *facts_to_json(const Facts *f);
