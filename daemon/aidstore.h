/* Social aid offers in Redis (REQ-12): offer events applied once, capacity
 * reserved atomically on the offer's own keys, and a household's matching
 * step (aid.h has the pure rules).
 *
 * Keys (the offer's share the hash tag {<offer-id>}, so each script touches
 * one slot):
 *   <p>:{O}:offer            HASH  category, town, capacity, valid_until, provider (JSON),
 *                                  expire_ms, withdrawn, seen:<hash of source+id> per event
 *   <p>:{O}:offer:r          SET   households holding a proposed place
 *   <p>:{O}:offer:u          SET   households that accepted (a place used)
 *   <p>:aid:offers           ZSET  offer -> expiry (wall ms), for the bound
 *   <p>:aid:cat:<category>   ZSET  offer -> expiry: the offers of a category (a hint)
 *   <p>:aid:waiting:<cat>    ZSET  household -> priority (aid_priority()): waiting for an
 *                                  offer of that category (a hint)
 * The offer's keys expire at the end of its valid_until day (China time).
 * A proposal reserves a place (proposals never outnumber the capacity),
 * acceptance turns it into a used one, a decline gives it back. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "event.h"
#include "config.h"
#include "redis.h"
#include "store.h"

#define AIDSTORE_MAX_OFFERS 1000     /* active offers at a time; beyond: dead letter */
#define AIDSTORE_MAX_CAPACITY 100000 /* households per offer (the schema's maximum) */
#define AIDSTORE_MAX_EVENTS 64       /* events remembered per offer */
#define AIDSTORE_CATEGORY_READ 200   /* offers of one category read per match */
#define AIDSTORE_POKE_MAX 1000       /* waiting households woken per offer change */

typedef struct AidStore AidStore;

/* Borrows redis, store and the departments (routing of proposals, from
 * the config). NULL on memory failure. */
AidStore *aidstore_new(Redis *redis, Store *store, const char *prefix,
                       const ConfigDepartment *departments, size_t n_departments);
AidStore *aidstore_free(AidStore *a);

/* True for the events aidstore_offer_apply() takes (subject = offer id). */
bool aidstore_handles(const Event *ev);

/* Applies aid.offer.registered or aid.offer.withdrawn (borrowed) once: an
 * event seen before on the offer changes nothing. Then wakes the
 * households waiting for its category (due times in the timer index, in
 * priority order). 0; -EIO (Redis failed: the caller retries the batch);
 * -ENOSPC or -EINVAL with a dead-letter reason in err. */
int aidstore_offer_apply(AidStore *a, const Event *ev, int64_t now, char *err, size_t errlen);

/* The matching step of one household (doc, borrowed and edited) before
 * its commit (in the batch that made it due, or on the timer path when an
 * offer woke it): moves the capacity of answered matches,
 * then for each want (aid_wants()) tries the fitting offers in order
 * (aid_order()) until one reserves a place, appending aid.match.proposed
 * to outputs, and keeps the waiting index. Returns how many changes the
 * document got (0: nothing to commit), or -EIO. */
int aidstore_household(AidStore *a, json_t *doc, const char *household, int64_t now,
                       json_t *outputs);

/* Batches of aidstore_household() calls (the pipeline's): while on, its
 * writes of the waiting index are queued on the connection rather than
 * answered one by one (not on a cluster: there they go as before), and
 * aidstore_flush() reads their replies, as any other call of the
 * household's that asks Redis does first. Turn it off after the flush. */
void aidstore_defer(AidStore *a, bool on);
/* 0, or -EIO when the connection failed. */
int aidstore_flush(AidStore *a);
