/* What a candidate rule set would change: both rule sets evaluated over
 * every household's current state, and per town (or village) how many
 * households would change colour, which rules cause it, five example
 * household ids per change, and the rate. hearthctl preview drives it; it
 * reads Redis only through the store's read-only scan (SCAN and HGET) and
 * writes nothing anywhere.
 *
 * A household's colour under a rule set is the one hearthd's lifecycle
 * gives it: the highest severity of the firing yellow and red rules,
 * without the rules an accepted alert.resolved suppressed (same evidence),
 * and at least yellow while a low satisfaction score keeps its alert
 * reopened. Rules evaluate at the household's latest event date, as
 * hearthd evaluates after its latest event. Households not registered or
 * removed are skipped. Memory is bounded: one page of documents at a time,
 * and at most PREVIEW_MAX_GROUPS groups (the rest count under "(other)"). */
#pragma once

#include <jansson.h>
#include <stdio.h>
#include "rules.h"
#include "store.h"

#define PREVIEW_EXAMPLES 5
#define PREVIEW_MAX_GROUPS 10000
#define PREVIEW_PAGE 1000 /* households per SCAN page and pipelined read */

typedef enum { PREVIEW_BY_TOWN, PREVIEW_BY_VILLAGE } PreviewBy;

typedef struct Preview Preview;

/* Borrows both rule sets and the floor lines (sorted by year) for the
 * life of the Preview. NULL on memory failure. */
Preview *preview_new(const RuleSet *current, const RuleSet *candidate, const ExprFloorLine *lines,
                     size_t n_lines, PreviewBy by);
Preview *preview_free(Preview *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Preview *, preview_free);

/* Adds one household (doc borrowed); today (days) is the evaluation date of
 * a household without any event date. 0, -ENOMEM. */
int preview_add(Preview *p, const char *household, const json_t *doc, int32_t today);

/* Scans every household of s, page by page, and adds it. progress (may be
 * NULL) is called after each page with the households read so far.
 * Returns 0, or the store's negative errno (store_errstr() says why). */
int preview_run(Preview *p, Store *s, int32_t today, void (*progress)(size_t done, void *u),
                void *u);

/* The report: {by, households, skipped, stale, unreadable, seconds, rate, groups:
 * [{name, households, changed, moves: [{from, to, households, causes:
 * {"+rule": n, "-rule": n}, examples: [...]}]}], total: {...}}. "+rule"
 * starts firing under the candidate, "-rule" stops; stale counts
 * households whose stored code differs from the current rules' (state
 * evaluated by other rules, or a date since passed). New reference, NULL
 * on memory failure. */
json_t *preview_json(const Preview *p);

/* The report as text for people, or as CSV (one row per group and
 * change: group,from,to,households,causes,examples). */
void preview_write_text(const Preview *p, FILE *f);
void preview_write_csv(const Preview *p, FILE *f);
