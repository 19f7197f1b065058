/* hearthd's side of the benefits statement: on the timer path, takes the ledger of a household
 * whose statement is due from the record read and runs statement_timer(). */
#pragma once

#include <jansson.h>
#include <stdint.h>
#include "lifecycle.h"
#include "record.h"

/* When doc's statement is due at now_ms: takes household h's ledger from
 * rec (the record the timer read) and appends the statement to outputs
 * (statement_timer()). The commit's version check covers the read: every
 * ledger entry comes with a new version. Returns 1 when appended, 0 (not
 * due, or an entry unreadable: the next round tries again), -ENOMEM. */
int statement_fire(const Record *rec, const LifecyclePolicy *pol, json_t *doc, const char *h,
                   int64_t now_ms, json_t *outputs);
