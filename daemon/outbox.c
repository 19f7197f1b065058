/* The outbox: a commit writes its output events into the household's
 * outbox in Redis; they are produced after the commit, an entry is deleted
 * once the broker confirmed it, and the relay re-sends what a crash or an
 * outage left behind. Delivery reports are queued and the entries deleted
 * at one point of the loop (pipeline_drain_deliveries()). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include "log.h"
#include "pipeline_impl.h"
#include "testhooks.h"

/* Households whose outboxes the relay reads per Redis round trip. */
#define RELAY_CHUNK 256

static void key_of(char *key, const char *household, const char *id)
{
        snprintf(key, PIPELINE_KEY_LEN, "%s\n%s", household, id);
}

/* Turns a commit's output events into outbox entries ("<ms> <json>"). */
bool outbox_prepare(GroupCommit *gc, const char *household, int64_t now)
{
        size_t n = json_array_size(gc->outputs);
        gc->out_ids = calloc(n + 1, sizeof(char *));
        gc->out_vals = calloc(n + 1, sizeof(char *));
        if (!gc->out_ids || !gc->out_vals)
                return false;
        for (size_t i = 0; i < n; i++) {
                json_t *o = json_array_get(gc->outputs, i);
                _cleanup_free_ char *text = lifecycle_render(o, household);
                char *v = NULL;
                if (!text || asprintf(&v, "%" PRId64 " %s", now, text) < 0)
                        return false;
                gc->out_ids[i] = json_string_value(json_object_get(o, "id"));
                gc->out_vals[i] = v;
                gc->c.n_outbox++;
        }
        gc->c.outbox_ids = gc->out_ids;
        gc->c.outbox_vals = gc->out_vals;
        return true;
}

/* Produces one outbox entry ("<ms> <json>") unless it is in flight or
 * younger than older_than_ms. output (may be NULL: the relay has only the
 * text) is the output the entry renders: its supervision counts travel
 * with the delivery, which then need not parse the text. */
int outbox_send(Pipeline *p, const char *household, const char *id, const char *value, int64_t now,
                int64_t older_than_ms, const json_t *output)
{
        char key[PIPELINE_KEY_LEN];
        key_of(key, household, id);
        if (strset_contains(p->in_flight, key))
                return 0;
        char *end;
        long long written = strtoll(value, &end, 10);
        if (*end != ' ')
                return -EINVAL;
        if (now - written < older_than_ms)
                return 0;
        Delivery *d = delivery_new(DELIVERY_OUTBOX);
        if (!d || !(d->household = strdup(household)) || !(d->entry_id = strdup(id))) {
                delivery_free(d);
                return -ENOMEM;
        }
        /* Out of memory there: not known, the delivery reads the text. */
        if (output)
                (void)outputs_count_of(output, &d->counts);
        int r = producer_send_alert(p->producer, household, end + 1, strlen(end + 1), d);
        if (r == 0)
                strset_add(p->in_flight, key);
        return r;
}

void outputs_send(Pipeline *p, const char *household, GroupCommit *gc, int64_t now,
                  const char *crash_name)
{
        outputs_log(p, household, gc);
        /* Open alerts by colour, idempotent, for STATUS= and the metrics
         * (a removal closes its alert without an output). */
        if (json_array_size(gc->outputs) || gc->alert_closed) {
                const json_t *alert = json_object_get(gc->doc, "alert");
                store_open_alert_set(p->store, household,
                                     json_string_value(json_object_get(alert, "code")));
                /* Deferred (pass_results): written now, its reply read
                 * after the pass, so the output is produced at once. */
                store_deferred_send(p->store);
        }
        crash_point(crash_name);
        for (size_t k = 0; k < gc->c.n_outbox; k++) {
                /* The output entry k renders (outbox_prepare()), when it is
                 * still there: otherwise the delivery parses the text. */
                const json_t *o = json_array_get(gc->outputs, k);
                if (json_string_value(json_object_get(o, "id")) != gc->out_ids[k])
                        o = NULL;
                if (outbox_send(p, household, gc->out_ids[k], gc->out_vals[k], now, 0, o) < 0)
                        log_warning("kafka: cannot produce alert %s now; the outbox keeps it",
                                    gc->out_ids[k]);
        }
}

static void delivered_clear(Delivered *u)
{
        free(u->household);
        free(u->id);
        output_counts_clear(&u->counts);
        free(u->payload);
        *u = (Delivered){0};
}

void pipeline_delivered_free(Pipeline *p)
{
        for (size_t i = 0; i < p->n_delivered; i++)
                delivered_clear(&p->delivered[i]);
        free(p->delivered);
        p->delivered = NULL;
        p->n_delivered = p->cap_delivered = 0;
}

/* Queues a delivered output whose outbox entry is to delete: d's counts,
 * or when it has none the payload. */
static int delivered_queue(Pipeline *p, const Delivery *d, const void *payload, size_t len)
{
        if (p->n_delivered == p->cap_delivered) {
                size_t cap = p->cap_delivered ? 2 * p->cap_delivered : 64;
                Delivered *u = realloc(p->delivered, cap * sizeof(Delivered));
                if (!u)
                        return -ENOMEM;
                p->delivered = u;
                p->cap_delivered = cap;
        }
        Delivered u = {.household = strdup(d->household), .id = strdup(d->entry_id)};
        bool ok = u.household && u.id;
        if (d->counts.known) {
                const OutputCounts *c = &d->counts;
                u.counts = (OutputCounts){.known = true,
                                          .field[0] = c->field[0] ? strdup(c->field[0]) : NULL,
                                          .field[1] = c->field[1] ? strdup(c->field[1]) : NULL,
                                          .has_open_for = c->has_open_for,
                                          .open_for = c->open_for};
                ok = ok && !c->field[0] == !u.counts.field[0] && !c->field[1] == !u.counts.field[1];
        } else if ((u.payload = malloc(len ? len : 1))) {
                memcpy(u.payload, payload, len);
                u.len = len;
        } else {
                ok = false;
        }
        if (!ok) {
                delivered_clear(&u);
                return -ENOMEM;
        }
        p->delivered[p->n_delivered++] = u;
        return 0;
}

/* The delivery report of an output (from the producer's poll): memory only. */
void outbox_delivered(Pipeline *p, const Delivery *d, bool ok, const char *error,
                      const rd_kafka_message_t *m)
{
        char key[PIPELINE_KEY_LEN];
        key_of(key, d->household, d->entry_id);
        if (!ok) {
                strset_remove(p->in_flight, key);
                log_warning("alert %s of household %s not delivered (%s); the outbox keeps it",
                            d->entry_id, d->household, error);
                return;
        }
        p->stats.outputs_delivered++;
        crash_point("after_delivery");
        if (delivered_queue(p, d, m->payload, m->len) < 0) {
                strset_remove(p->in_flight, key);
                log_warning("out of memory: delivered outbox entry %s stays in Redis; it may be "
                            "sent again with the same id",
                            d->entry_id);
        }
}

/* Deliveries deleted per Redis round trip. */
#define DRAIN_CHUNK 512

int pipeline_drain_deliveries(Pipeline *p)
{
        while (p->n_delivered) {
                size_t n = p->n_delivered < DRAIN_CHUNK ? p->n_delivered : DRAIN_CHUNK;
                const char *hh[DRAIN_CHUNK], *ids[DRAIN_CHUNK];
                int deleted[DRAIN_CHUNK];
                for (size_t i = 0; i < n; i++) {
                        hh[i] = p->delivered[i].household;
                        ids[i] = p->delivered[i].id;
                }
                /* On an I/O error every entry stays queued for the next
                 * turn; one Redis deleted meanwhile is then not counted
                 * (HDEL answers 0): a metric, never a lost output. */
                int r = store_outbox_delete_many(p->store, hh, ids, n, deleted);
                if (r < 0)
                        return r;
                /* The counters of the chunk in one round trip. */
                store_defer(p->store, true);
                for (size_t i = 0; i < n; i++) {
                        Delivered *u = &p->delivered[i];
                        if (deleted[i] && u->counts.known)
                                outputs_count_delivered(p, &u->counts);
                        else if (deleted[i])
                                outputs_count(p, u->payload, u->len);
                        char key[PIPELINE_KEY_LEN];
                        key_of(key, u->household, u->id);
                        strset_remove(p->in_flight, key);
                        delivered_clear(u);
                }
                store_defer(p->store, false);
                memmove(p->delivered, p->delivered + n, (p->n_delivered - n) * sizeof(Delivered));
                p->n_delivered -= n;
        }
        return 0;
}

/* An entry's write time ("<ms> <output>"); false when the value is not
 * such. */
static bool entry_ms(const char *value, int64_t *ms)
{
        char *end;
        long long written = value ? strtoll(value, &end, 10) : 0;
        if (!value || end == value || *end != ' ')
                return false;
        *ms = written;
        return true;
}

/* The outboxes of one chunk of households: claims (store_outbox_claim())
 * and sends the entries old enough and not in flight here; collects the
 * empty outboxes into empty. */
static int relay_chunk(Pipeline *p, const char **hh, size_t m, const char **empty, size_t *n_empty,
                       int64_t now_ms, int64_t older_than_ms)
{
        json_t *all = store_outbox_get_many(p->store, hh, m);
        if (!all)
                return -EIO;
        size_t cap = 1;
        for (size_t i = 0; i < m; i++)
                cap += json_object_size(json_array_get(all, i));
        const char **owner = calloc(m + 1, sizeof(char *));
        size_t *first = calloc(m + 1, sizeof(size_t));
        const char **ids = calloc(cap, sizeof(char *)), **vals = calloc(cap, sizeof(char *));
        int64_t *ms = calloc(cap, sizeof(int64_t));
        int *claimed = calloc(cap, sizeof(int));
        int ret = -ENOMEM;
        if (!owner || !first || !ids || !vals || !ms || !claimed)
                goto out;
        size_t n = 0, n_owner = 0;
        for (size_t i = 0; i < m; i++) {
                json_t *entries = json_array_get(all, i);
                if (!json_is_object(entries))
                        continue; /* not a hash: left alone */
                if (json_object_size(entries) == 0) {
                        empty[(*n_empty)++] = hh[i];
                        continue;
                }
                size_t from = n;
                const char *id;
                json_t *v;
                json_object_foreach (entries, id, v) {
                        char key[PIPELINE_KEY_LEN];
                        key_of(key, hh[i], id);
                        if (!entry_ms(json_string_value(v), &ms[n]) ||
                            now_ms - ms[n] < older_than_ms || strset_contains(p->in_flight, key))
                                continue;
                        ids[n] = id;
                        vals[n++] = json_string_value(v);
                }
                if (n > from) {
                        owner[n_owner] = hh[i];
                        first[n_owner++] = from;
                }
        }
        first[n_owner] = n;
        ret = 0;
        if (n == 0)
                goto out;
        /* Claimed first: another instance's relay may have read the same
         * entries (F23 of make faults saw two relays send one entry). */
        if (store_outbox_claim(p->store, owner, n_owner, first, ids, ms, now_ms, claimed) < 0) {
                ret = -EIO;
                goto out;
        }
        for (size_t h = 0; h < n_owner; h++)
                for (size_t i = first[h]; i < first[h + 1]; i++) {
                        size_t before = strset_size(p->in_flight);
                        if (claimed[i] &&
                            outbox_send(p, owner[h], ids[i], vals[i], now_ms, INT64_MIN, NULL) ==
                                0 &&
                            strset_size(p->in_flight) > before)
                                p->stats.outputs_resent++;
                }
out:
        free(owner);
        free(first);
        free(ids);
        free(vals);
        free(ms);
        free(claimed);
        json_decref(all);
        return ret;
}

int pipeline_relay(Pipeline *p, int64_t now_ms, int64_t older_than_ms)
{
        json_t *list = store_pending_list(p->store);
        if (!list)
                return -EIO;
        /* Pipelined in chunks: one command and round trip per listed
         * household stalled the pipeline for half a second every relay
         * interval once a few thousand households had outputs (perf). */
        int ret = 0;
        size_t n = json_array_size(list);
        const char *hh[RELAY_CHUNK], *empty[RELAY_CHUNK];
        for (size_t at = 0; at < n && ret == 0; at += RELAY_CHUNK) {
                size_t m = n - at < RELAY_CHUNK ? n - at : RELAY_CHUNK, n_empty = 0;
                for (size_t i = 0; i < m; i++)
                        hh[i] = json_string_value(json_array_get(list, at + i));
                ret = relay_chunk(p, hh, m, empty, &n_empty, now_ms, older_than_ms);
                if (ret == 0 && store_pending_prune_many(p->store, empty, n_empty) < 0)
                        ret = -EIO;
        }
        json_decref(list);
        return ret;
}
