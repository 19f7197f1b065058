/* hearthd's side of the benefits statement: on the timer path, reads the ledger of a household
 * whose statement is due and runs statement_timer(). */
#pragma once

#include <jansson.h>
#include <stdint.h>
#include "lifecycle.h"
#include "store.h"

/* When doc's statement is due at now_ms: reads household h's ledger list
 * from store and appends the statement to outputs (statement_timer()).
 * The commit's version check covers the read: every ledger entry comes
 * with a new version. Returns 1 when appended, 0 (not due, or the
 * household's keys unreadable: the next round tries again), -EIO. */
int statement_fire(Store *store, const LifecyclePolicy *pol, json_t *doc, const char *h,
                   int64_t now_ms, json_t *outputs);
