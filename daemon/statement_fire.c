/* hearthd's side of the benefits statement: the ledger read on the timer path (statement.h is the
 * pure part). */
#include "statement_fire.h"

#include <errno.h>
#include "statement.h"

int statement_fire(Store *store, const LifecyclePolicy *pol, json_t *doc, const char *h,
                   int64_t now_ms, json_t *outputs)
{
        if (!statement_due(doc, now_ms))
                return 0;
        json_t *d = NULL, *ledger = NULL, *timeline = NULL;
        int64_t version;
        int r = store_household_dump(store, h, &d, &version, &ledger, &timeline);
        if (r == 0)
                r = statement_timer(doc, ledger, h, now_ms, pol, outputs);
        json_decref(d);
        json_decref(ledger);
        json_decref(timeline);
        return r == -EIO ? -EIO : r < 0 ? 0 : r;
}
