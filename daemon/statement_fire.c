/* hearthd's side of the benefits statement: the ledger taken from the record read on the timer
 * path (statement.h is the pure part). */
#include "statement_fire.h"

#include <errno.h>
#include "statement.h"

int statement_fire(const Record *rec, const LifecyclePolicy *pol, json_t *doc, const char *h,
                   int64_t now_ms, json_t *outputs)
{
        if (!statement_due(doc, now_ms))
                return 0;
        json_t *ledger = record_list_json(rec->ledger, rec->n_ledger);
        if (!ledger)
                return -ENOMEM;
        int r = statement_timer(doc, ledger, h, now_ms, pol, outputs);
        json_decref(ledger);
        return r;
}
