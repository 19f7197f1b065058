/* A household's state as a JSON document, and how each input event changes
 * it. Pure: no Redis, no Kafka, so hearthctl replays events through the very
 * same code. Money in the document is integer fen; dates are YYYY-MM-DD.
 *
 * Document (every key optional until first written):
 *   registered, removed        bools
 *   profile                    town, village, cadre{id,name?,phone?}, status,
 *                              members[{id,relation?,birth_year?,labor,disability_grade,
 *                              serious_illness,incapacitated,student}],
 *                              income_last_year{year, disposable (fen)}
 *   programs.<program>         {state: granted|revoked|exited, effective, monthly (fen),
 *                              exit_until (date, for the one-year gradual exit)}
 *   incomes.<year>             verified household disposable income (fen)
 *   months.<YYYY-MM>.<bucket>  fen per month: medical (out of pocket), fund_paid, education,
 *                              disability, other, disaster_loss, accident_loss, property_loss,
 *                              accident_medical, relief; months older than 13 are dropped
 *   needs.<need_id>            open needs {category, channel, urgent, reported_on}
 *   last_visit                 {date, cadre_id, checks{food_clothing...: ok|risk}}
 *   visits[]                   the dates of the latest HOUSEHOLD_MAX_VISITS visits
 *   incidents[]                the last 12 months of disasters, accidents and claims
 *   measures[]                 measures applied (on the open alert, see lifecycle)
 *   pending[]                  events that arrived before household.registered, reduced to
 *                              the envelope and the data fields the state uses (no free text,
 *                              no extension attributes), bounded in count, bytes and age
 *   benefit_totals.<year>      fen of benefits per year (the ledger list keeps the latest
 *                              HOUSEHOLD_LEDGER_MAX entries; statements read the totals here)
 *   benefit_payments.<year>    the same without programme grants (statement.c: what the
 *                              capped ledger list lost)
 *   removed_ms, erased_ms      when household.removed was applied / its personal data erased
 *   latest                     the latest event date seen
 *   events                     number of events applied
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include "event.h"

#define HOUSEHOLD_MAX_PENDING 200
/* Bytes of pending[] (compact JSON) an unregistered household may hold. */
#define HOUSEHOLD_MAX_PENDING_BYTES (64 * 1024)
/* A pending event older than this (days before the latest event date)
 * counts in no rule window any more and is dropped. */
#define HOUSEHOLD_PENDING_MAX_AGE_DAYS 400
#define HOUSEHOLD_MAX_INCIDENTS 50
#define HOUSEHOLD_MAX_NEEDS 100
#define HOUSEHOLD_MAX_MEASURES 50
#define HOUSEHOLD_MAX_VISITS 24 /* visit dates kept (visits[], two years of monthly visits) */
#define HOUSEHOLD_WINDOW_MONTHS 12

/* What an applied event leaves besides the document: benefits for the
 * household's ledger (REQ-13) and a line for its timeline. Entries are JSON
 * objects appended to the arrays (owned by the caller). */
typedef struct {
        json_t *ledger;         /* array of {date, kind, amount (fen), event} */
        json_t *timeline;       /* array of {date, type, event, summary} */
        size_t pending_dropped; /* out: pending events dropped for their age */
} HouseholdEffects;

/* Ledger entries kept in Redis per household (the oldest go first; the
 * yearly totals stay in the document). */
#define HOUSEHOLD_LEDGER_MAX 1000

/* A new empty document for household id. */
json_t *household_new(void);

/* The stored form of a document (compact JSON, malloc'ed). An open alert's
 * reasons are the latest evaluation's (one array, shared by the lifecycle):
 * they are stored once, the alert's as the string "eval". */
char *household_dump(const json_t *doc);
/* A document read from storage: gives an open alert its reasons back. */
void household_loaded(json_t *doc);

/* Applies ev (borrowed) to doc. An event for a household not registered yet
 * is kept in pending[] (reduced) and applied when household.registered
 * arrives. A removed household takes nothing but a new registration (the
 * event only counts). Returns 0, or -ENOSPC when pending[] is full in count
 * or bytes (the caller dead-letters the event). effects may be NULL. */
int household_apply(json_t *doc, const Event *ev, const EventDecoder *dec, HouseholdEffects *fx);

/* Erases the personal data of doc (CONTRACT.md: household.removed, and
 * `hearthctl forget`): keeps only what dedup, ids and counts need
 * (registered, removed, removed_ms, events, alerts_n, monitoring_n,
 * candidate, latest), sets erased_ms = now_ms. The caller also deletes the
 * household's ledger and timeline lists. */
void household_erase(json_t *doc, int64_t now_ms);
bool household_erased(const json_t *doc);

/* What is known of a household that is not registered yet: a new document
 * (the caller frees it) in which its pending events are applied as if it
 * were registered, with no profile (no members, no income of the
 * register). For the candidate check (应纳尽纳). NULL on memory failure. */
json_t *household_hypothetical(const json_t *doc, const EventDecoder *dec);

/* The Chinese label of a benefit kind of the ledger (幸福清单, REQ-13):
 * "temporary_relief" -> "临时救助". Static; 其他帮扶 for an unknown kind. */
const char *household_benefit_label(const char *kind);

/* 12-month sum of a month bucket ending at the month of `date` (days). */
int64_t household_sum_12m(const json_t *doc, const char *bucket, int32_t date);
/* The same for n buckets at once (distinct names), into sums[0..n). */
void household_sums_12m(const json_t *doc, int32_t date, const char *const *buckets, size_t n,
                        int64_t *sums);
/* Number of members (0 when not registered). */
size_t household_size(const json_t *doc);
bool household_registered(const json_t *doc);
/* The latest event date applied (days), 0 if none. */
int32_t household_latest(const json_t *doc);
/* The date the rules evaluate at after ev: the household's latest event
 * date, so that events kept before registration (dated after it) and late
 * older events are judged on the household's present. */
int32_t household_eval_date(const json_t *doc, const Event *ev);
