/* The alert lifecycle of one household (REQ-8, 9, 10): raise, change,
 * remind, escalate, eliminate, reopen, and the overdue-visit reminder.
 * Pure: it edits the household document and appends output events; the
 * pipeline commits both atomically. Output CloudEvents ids are
 * deterministic functions of the household's state, so a transition
 * re-emitted after a crash carries the same id.
 *
 * Document keys it owns:
 *   eval        {code, monitored, reasons[]}: the latest evaluation
 *   alert       the open alert: {id, n, code, reasons[], rules[] (every yellow or red rule
 *               that was ever among its reasons), raised_ms, respond_by_ms, reminder_ms,
 *               escalate_ms, acknowledged_ms?, acknowledged_by?, seq, reopened, satisfaction?,
 *               departments[] (departments.h: deadlines and answers, kept when closed)}
 *   closed      the last closed alerts (bounded), for late ratings
 *   suppressed  {rule: evidence}: reasons cleared by alert.resolved; such a rule
 *               counts again only with other evidence
 *   alerts_n    how many alerts this household had (for ids)
 *   monitoring  {since_ms, n}: key monitoring since (absent: not monitored);
 *               monitoring_n counts the periods (for ids)
 *   candidate   {id, at_ms}: household.candidate.identified was sent (not registered)
 *   candidate_due_ms  when the candidate check is due (after the grace period)
 *   removed_ms, erase_due_ms  when the household was removed, when its personal data goes
 *   refusals    resolutions refused for lack of help: {n, last_ms, last_by, alert}
 *   visit_due_ms when the next visit is due (REQ-6)
 *   registered_ms when hearth first saw the registration (wall clock)
 *   statement   {period, due_ms, last?}: the next benefits statement (statement.h) */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "event.h"

typedef struct {
        int64_t respond_within_red_ms;
        int64_t respond_within_yellow_ms;
        int64_t reminder_after_ms;
        int64_t visit_interval_ms;
        int64_t respond_within_urgent_ms; /* reasons with respond_within_ms < 0 */
        int64_t candidate_grace_ms;       /* see step_candidate() */
        int64_t removed_retention_ms;     /* personal data of a removed household */
        bool english;                     /* messages hearth writes itself */
        int statement_months;             /* benefits statement period: 1 or 3 (statement.h) */
        int64_t statement_delay_ms;       /* sent this long after its period ends */
        /* borrowed from the config (departments.h): who answers which reasons */
        const struct ConfigDepartment *departments;
        size_t n_departments;
        /* A reason without message or to_clear goes out with null there:
         * the caller (step_event(), with StepContext.explain) writes the
         * texts into the outputs afterwards. false: a reason without
         * to_clear gets lifecycle_to_clear_fallback(). */
        bool texts_later;
} LifecyclePolicy;

/* What an output says would clear a reason that has no to_clear (one
 * stored by a hearthd older than to_clear, or one that could not be
 * explained): the message's figures, re-evaluated at the next event. */
const char *lifecycle_to_clear_fallback(bool english);

/* What lifecycle_step() noticed besides its outputs, for the caller to log
 * and count (the lifecycle itself does neither). */
enum {
        /* An alert.resolved came with no help recorded since the alert
         * was raised: the alert stays open (CONTRACT.md, closing the loop). */
        LIFECYCLE_RESOLUTION_REFUSED = 1 << 0,
        /* The household left monitoring (removed) with an alert open: closed. */
        LIFECYCLE_ALERT_CLOSED = 1 << 1,
        /* The personal data of a removed household was erased (the caller
         * deletes its ledger and timeline lists in the same commit). */
        LIFECYCLE_ERASED = 1 << 2,
};

/* The policy of cfg (borrowed during the call). */
struct Config;
LifecyclePolicy lifecycle_policy(const struct Config *cfg);

#define LIFECYCLE_MAX_CLOSED 10
#define LIFECYCLE_MAX_MEASURES 50 /* help entries kept on an open alert */

/* After ev (may be NULL) was applied to doc and the rules evaluated:
 * eval is {monitored: bool, reasons: [{rule, category, severity, message,
 * evidence, respond_within_ms}]} (borrowed). Updates the alert and the key
 * monitoring and appends output events ({id, type, time, data}, new
 * references) to outputs. now_ms is the wall clock. Returns the
 * LIFECYCLE_* flags of what happened (0 for nothing of note). */
int lifecycle_step(json_t *doc, const char *household, const Event *ev, const json_t *eval,
                   int64_t now_ms, const LifecyclePolicy *pol, json_t *outputs);

/* For a household not registered yet: when eval (the rules over what its
 * pending events show, household_hypothetical()) has a red reason,
 * appends household.candidate.identified (应纳尽纳, 突发严重困难户), once
 * per household. Returns 1 when it did, else 0. */
int lifecycle_candidate(json_t *doc, const char *household, const json_t *eval, int64_t now,
                        json_t *outputs);

/* Fires the household's timers that are due at now_ms (reminder,
 * escalation, overdue visit), appending outputs. Returns how many fired. */
int lifecycle_timers(json_t *doc, const char *household, int64_t now_ms, const LifecyclePolicy *pol,
                     json_t *outputs);

/* The earliest due time (wall ms) of the household's timers; 0 if none. */
int64_t lifecycle_next_due(const json_t *doc);

/* Where the schema of an output type lives: its dataschema attribute is
 * this prefix, the type and ".json" (the $id of schemas/out/<type>.json). */
#define LIFECYCLE_DATASCHEMA_PREFIX "https://hearth.invalid/schemas/out/"

/* The CloudEvent of an output (source hearth, subject household, dataschema
 * the $id of its type's schema), as compact JSON text; the caller frees it.
 * NULL when output lacks a string type. */
char *lifecycle_render(const json_t *output, const char *household);

/* RFC 3339 time in China Standard Time (+08:00) for wall ms. */
void lifecycle_format_time(int64_t ms, char *buf, size_t len);
