/* The one household step that hearthd's pipeline, `hearthctl replay` and
 * the rule tests share: apply an input event to a household document,
 * evaluate the rules at the household's date, and step the alert lifecycle
 * and key monitoring; for a household not registered yet, the candidate
 * check instead. Pure: no I/O, no logging; what the caller should log or
 * count comes back in StepNotes. */
#pragma once

#include <jansson.h>
#include <stdint.h>
#include "event.h"
#include "household.h"
#include "lifecycle.h"
#include "outcome.h"

/* The rules of the moment over doc at today (days): a new
 * {monitored, reasons} (evaluate_json()), or NULL when none fire. */
typedef json_t *(*StepEvalFn)(const json_t *doc, int32_t today, void *userdata);

/* The texts of the reasons of the rules rules[0..n) for doc at today:
 * messages[i] and texts[i] (to_clear) malloc'd (the caller frees), NULL
 * for a rule that does not fire (rules_explain_set()). 0 or -ENOMEM. */
typedef int (*StepExplainFn)(const json_t *doc, int32_t today, const char *const *rules, size_t n,
                             char **messages, char **texts, void *userdata);

typedef struct {
        StepEvalFn eval; /* NULL: no rule fires */
        void *eval_userdata;
        const EventDecoder *dec; /* to apply pending events */
        const LifecyclePolicy *policy;
        /* The caller runs step_candidate() itself after a batch of the
         * household's events (hearthd: a registration in the same batch,
         * from another topic, may come after the event that made the
         * household look like a candidate). */
        bool defer_candidate;
        /* NULL: eval's reasons carry their texts. Else eval leaves message
         * and to_clear out (hearthd: the stored evaluation has neither),
         * and the step writes them into the reasons of its outputs with
         * this (eval_userdata). */
        StepExplainFn explain;
} StepContext;

typedef struct {
        int lifecycle;          /* LIFECYCLE_* flags of lifecycle_step() */
        Outcomes outcomes;      /* how the rules' alerts moved (outcome.h) */
        bool candidate;         /* household.candidate.identified was appended */
        int64_t acknowledge_ms; /* this step acknowledged the open alert after so long; else -1 */
} StepNotes;

/* Applies ev (borrowed) to doc at wall time now_ms (the transition clock,
 * made monotonic within an open alert), appending ledger and timeline
 * entries to fx (may be NULL) and output events to outputs. notes may be
 * NULL. Returns 0, or household_apply()'s -ENOSPC (nothing changed: the
 * caller dead-letters the event). */
int step_event(const StepContext *c, json_t *doc, const char *household, const Event *ev,
               int64_t now_ms, HouseholdEffects *fx, json_t *outputs, StepNotes *notes);

/* The candidate check (应纳尽纳) of a household that is not registered:
 * appends household.candidate.identified once when what its pending events
 * show would make a registered household red and has done so for the
 * policy's candidate_grace_ms (the first time it sets candidate_due_ms, a
 * timer: lifecycle_next_due()). Returns whether it appended. */
bool step_candidate(const StepContext *c, json_t *doc, const char *household, int64_t now_ms,
                    json_t *outputs);
