/* How each rule's alerts end, for judging rules (rule quality): per rule,
 * the alerts it raised or joined, and how they ended. Pure: the household
 * step (step.c) notes what one event did; hearthd counts the notes after
 * the commit (hearth_rule_outcomes_total{rule,outcome} and the hash
 * <p>:rule_outcomes), and `hearthctl report --by rule` reads them back.
 *
 * An alert's rules are the yellow and red rules that were ever among its
 * reasons (the lifecycle keeps them as alert.rules, and in its closed
 * entry); each outcome below counts once for each of them:
 *   raised               the rule became a reason of an open alert (raised, or joined a
 *                        change)
 *   eliminated_with_help risk.eliminated after help was recorded (a measure, relief, a
 *                        programme, a resolved need): by the data or an accepted
 *                        alert.resolved
 *   cleared_by_data      risk.eliminated with no help recorded: the figures stopped holding
 *                        by themselves (a corrected figure, an incident aged out)
 *   resolution_refused   an alert.resolved refused: no help recorded
 *   reopened             a satisfaction score of 2 or less reopened the alert
 *   false_alarm          alert.resolved with outcome false_alarm (accepted or refused: it is
 *                        the cadre's judgement of the rule)
 *   reported_helped, reported_other   alert.resolved with outcome helped or other
 *   removed              the household left monitoring with the alert open
 * Time to elimination (both kinds of risk.eliminated) is kept per rule as a
 * histogram of OUTCOME_N_BUCKETS bounds, whose median the report
 * interpolates. A reopened alert that ends again ends twice. */
#pragma once

#include <jansson.h>
#include <stdio.h>
#include <stdint.h>
#include "event.h"
#include "rules.h"

typedef enum {
        OUTCOME_RAISED,
        OUTCOME_ELIMINATED_WITH_HELP,
        OUTCOME_CLEARED_BY_DATA,
        OUTCOME_RESOLUTION_REFUSED,
        OUTCOME_REOPENED,
        OUTCOME_FALSE_ALARM,
        OUTCOME_REPORTED_HELPED,
        OUTCOME_REPORTED_OTHER,
        OUTCOME_REMOVED,
        N_OUTCOMES
} Outcome;

#define OUTCOME_MAX_NOTES 64
/* The reopening reason of the lifecycle: not a rule. */
#define OUTCOME_NOT_A_RULE "satisfaction_low"

typedef struct {
        char rule[RULES_MAX_ID + 1];
        Outcome outcome;
        int64_t seconds; /* eliminations: how long the alert was open; else -1 */
} OutcomeNote;

typedef struct {
        OutcomeNote notes[OUTCOME_MAX_NOTES];
        size_t n;
        size_t dropped; /* beyond OUTCOME_MAX_NOTES */
} Outcomes;

/* "raised", "eliminated_with_help", ...; and back (-EINVAL). */
const char *outcome_name(Outcome o);
int outcome_from_name(const char *s);

/* What the notes need of the household before a step: its open alert's id
 * and rules (copied). Release with outcome_before_done(). */
typedef struct {
        char alert[80];
        json_t *rules;
} OutcomeBefore;
void outcome_before(const json_t *doc, OutcomeBefore *b);
void outcome_before_done(OutcomeBefore *b);

/* The notes of one step: doc after it, the event (may be NULL), the
 * LIFECYCLE_* flags and output events of lifecycle_step(). Appends to out. */
void outcome_after(const OutcomeBefore *b, const json_t *doc, const Event *ev, int flags,
                   const json_t *outputs, Outcomes *out);

/* The counters of one note: fields of the hash <p>:rule_outcomes
 * ("<rule>|<outcome>", and for eliminations "<rule>|elim_n",
 * "<rule>|elim_seconds", "<rule>|elim_le_<bound>") and how much each one
 * adds, into fields[0..max) (each OUTCOME_FIELD bytes) and by[]. Returns
 * how many. */
#define OUTCOME_FIELD 96
size_t outcome_fields(const OutcomeNote *n, char (*fields)[OUTCOME_FIELD], int64_t *by, size_t max);

/* The report of the hash (an object field -> integer, borrowed) with a row
 * for each of rules[0..n) even if it has no counts, then the other rules
 * the hash names: [{rule, raised, eliminated_with_help, ..., removed,
 * eliminated, median_seconds (null when none; -1 when the median lies
 * beyond the last bound)}]. New reference, NULL on memory failure. */
json_t *outcome_report(const json_t *hash, const char *const *rules, size_t n);

/* The report as a table for people. */
void outcome_write_text(const json_t *report, FILE *f);
