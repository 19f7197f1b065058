/* Social aid matching (REQ-12), the pure part: what a household is waiting
 * for (open needs and alert reasons, by offer category), its priority, the
 * order in which matching offers are tried, the household's match records
 * and the aid.match.proposed output. No I/O: aidstore.c holds the offers in
 * Redis and reserves their capacity.
 *
 * Document key it owns:
 *   aid  {due_ms?: check the household's matches at this wall time (a timer),
 *         waiting: [categories it waits in, in the Redis waiting index],
 *         sig: the wants at the last check,
 *         matches: {match_id: {offer_id, category, need_id?, state:
 *                   proposed|accepted|declined|withdrawn (the household left
 *                   monitoring), synced?: the offer's Redis capacity
 *                   reflects the state}}} */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "event.h"

#define AID_MAX_MATCHES 100 /* match records kept per household */

/* One offer as matching sees it (borrowed strings). */
typedef struct {
        const char *id;
        const char *category;
        const char *town;    /* NULL or "": county-wide */
        int32_t valid_until; /* days */
        int64_t capacity;    /* households */
        int64_t taken;       /* reserved (proposed) + used (accepted) */
        bool mine;           /* this household already holds a place */
} AidOffer;

/* What one household waits for: one entry per offer category, the need
 * (if a need) that asks for it. */
typedef struct {
        char category[24];
        char need_id[72]; /* "" for an alert reason */
        bool red;         /* the household's code is red */
        int64_t since_ms; /* the need's report time, else the alert's raise time */
} AidWant;

/* The household's wants now (registered and not removed), at most max,
 * categories that an open or accepted match already covers left out.
 * Needs first (oldest first), then alert reasons (illness and accident:
 * medical, disability: disability, education: education, disaster:
 * housing, income_drop: employment and produce_purchase, guarantee:
 * food_clothing). Returns how many. */
size_t aid_wants(const json_t *doc, AidWant *wants, size_t max);

/* The waiting index score of a want: red before yellow, then oldest first
 * (lower is served first). */
double aid_priority(const AidWant *w);

/* Sorts n offers in the order matching tries them for a household in town:
 * places this household already holds first (a proposal retried after a
 * crash keeps its offer), then offers of its own town before county-wide
 * ones, then the earlier valid_until, then the offer id. */
void aid_order(AidOffer *offers, size_t n, const char *town);

/* Whether offer may be proposed to the household (doc) for w at today:
 * same category, its town or county-wide, still valid, a place left (or
 * already held), and never matched with this household before (once per
 * household and offer, even when declined). */
bool aid_offer_fits(const AidOffer *o, const AidWant *w, const json_t *doc, int32_t today);

/* The stable match id of offer and household ("am-<16 hex>"). */
void aid_match_id(const char *offer, const char *household, char *buf, size_t len);

/* After a proposal: records it on doc and appends aid.match.proposed to
 * outputs ({id, type, time, data}). provider is the offer's provider object
 * (borrowed), department its department id. */
void aid_propose(json_t *doc, const char *household, const AidOffer *o, const json_t *provider,
                 const AidWant *w, const char *department, int64_t now, json_t *outputs);

/* The household step's part (pure): aid.match.answered records accepted
 * or declined (the first answer counts); a household out of monitoring
 * (removed) withdraws its proposed matches; when the wants changed since
 * the last check, or a match changed, sets aid.due_ms = now so that the
 * timer path moves the capacity and matches again. */
void aid_household_step(json_t *doc, const Event *ev, int64_t now);

/* doc.aid.due_ms, 0 if none. */
int64_t aid_next_due(const json_t *doc);
