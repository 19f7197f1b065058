/* hearthctl stats: the supervision figures hearthd keeps in Redis. */
#include "ctl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* stats: the supervision figures (REQ-14) and open alerts. */
int ctl_stats(const CtlArgs *a, const Config *cfg)
{
        Redis *redis = NULL;
        Store *store = ctl_store(a, cfg, &redis);
        if (!store)
                return EXIT_FAILURE;
        int64_t red = 0, yellow = 0;
        json_t *st = store_stats_get(store);
        json_t *pending = store_pending_list(store);
        int ret = EXIT_FAILURE;
        Esc e_ = {0}, *E = &e_;
        if (!st || !pending || store_open_counts(store, &red, &yellow) < 0) {
                fprintf(stderr, "hearthctl: stats: %s\n", store_errstr(store));
                goto out;
        }
        if (a->json) {
                json_t *out =
                    json_pack("{s:{s:I, s:I}, s:I, s:O}", "open_alerts", "red", (json_int_t)red,
                              "yellow", (json_int_t)yellow, "households_with_undelivered_outputs",
                              (json_int_t)json_array_size(pending), "counters", st);
                json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
                printf("\n");
                json_decref(out);
        } else {
                printf("open alerts: %" PRId64 " red, %" PRId64 " yellow\n", red, yellow);
                printf("households with undelivered outputs: %zu\n", json_array_size(pending));
                printf("outputs delivered (type:colour[:town] count):\n");
                const char *k;
                json_t *v;
                json_object_foreach (st, k, v)
                        printf("  %-60s %" JSON_INTEGER_FORMAT "\n", esc(E, k),
                               json_integer_value(v));
        }
        ret = EXIT_SUCCESS;
out:
        json_decref(st);
        json_decref(pending);
        store_free(store);
        redis_free(redis);
        return ret;
}
