/* The partitions' life in the consumer group: positions read from Redis at
 * assignment (and the check that Redis did not lose hearth's state),
 * positions written (Redis first, Kafka as a hint), a revocation finished,
 * and the seek back when Redis lost its last writes. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include "log.h"
#include "macro.h"
#include "pipeline_impl.h"
#include "testhooks.h"

/* How long a call into the Kafka client may wait in the loop (the
 * watchdog and the turn bound: no call blocks longer than a second). */
#define KAFKA_CALL_MS 1000

int pipeline_flush_positions(Pipeline *p)
{
        size_t max = positions_count(p->positions);
        const char *tps[max ? max : 1];
        int64_t pos[max ? max : 1];
        Track *moved[max ? max : 1];
        size_t n = positions_moved(p->positions, tps, pos, moved);
        if (!n)
                return 0;
        crash_point("before_positions");
        int r = store_positions_set(p->store, tps, pos, n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                moved[i]->recorded = pos[i];
                if (p->consumer)
                        consumer_store(p->consumer, moved[i]->topic, moved[i]->partition, pos[i]);
        }
        crash_point("after_positions");
        return 0;
}

int pipeline_resync(Pipeline *p)
{
        size_t max = positions_count(p->positions);
        if (!p->consumer || !max)
                return 0;
        _cleanup_free_ const char **tps = calloc(max, sizeof(char *));
        _cleanup_free_ int64_t *pos = calloc(max, sizeof(int64_t));
        _cleanup_free_ Track **which = calloc(max, sizeof(Track *));
        if (!tps || !pos || !which)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < max; i++) {
                Track *t = positions_at(p->positions, i);
                if (t->assigned) {
                        which[n] = t;
                        tps[n++] = t->tp;
                }
        }
        if (!n)
                return 0;
        if (store_positions_get(p->store, tps, n, pos) < 0)
                return -EIO;
        bool lost = false;
        for (size_t i = 0; i < n; i++) {
                Track *t = which[i];
                int64_t mine = track_resume(t);
                if (mine >= 0 && pos[i] < mine) {
                        log_warning("redis lost writes of %s (its position %" PRId64
                                    ", ours %" PRId64 "): reading again from there",
                                    t->tp, pos[i], mine);
                        lost = true;
                }
        }
        if (!lost)
                return 0;
        /* The loop drops the batch it kept, whose messages may come from
         * every partition: each one is sought back, those that lost writes
         * to Redis's position, the others to where hearthd's own work ends
         * (what the kept batch held after it is read again, not skipped).
         * Asynchronous: messages fetched before it are dropped by the
         * client. A refused seek (logged) is a state a retry would not
         * change, e.g. a partition revoked meanwhile: not an error to retry. */
        for (size_t i = 0; i < n; i++) {
                Track *t = which[i];
                int64_t mine = track_resume(t);
                int64_t at = mine >= 0 && pos[i] >= mine ? mine : pos[i];
                if (consumer_seek(p->consumer, t->topic, t->partition, at) < 0)
                        continue;
                track_reset(t, pos[i]);
        }
        return 1;
}

/* Redis had no hearth state at start. If the group has committed offsets,
 * hearth ran before and Redis lost its state (FLUSHALL, a wrong or empty
 * instance): going on would judge households on an empty state. */
static int check_state(Pipeline *p, const rd_kafka_topic_partition_list_t *parts)
{
        if (!store_fresh(p->store) || !p->consumer || p->state_checked)
                return 0;
        int r = consumer_has_committed(p->consumer, parts, KAFKA_CALL_MS);
        if (r < 0) {
                log_warning("kafka: committed offsets not known yet; the check that Redis kept "
                            "hearth's state is made at the next assignment");
                return 0;
        }
        p->state_checked = true;
        if (r == 0)
                return 0;
        p->state_lost = true;
        log_error("redis holds no hearth state but consumer group %s has committed offsets: the "
                  "state was lost; stopping (restore Redis, or reset the group's offsets to "
                  "rebuild from the topics)",
                  p->cfg->kafka_group);
        return -ESTALE;
}

int pipeline_on_assigned(rd_kafka_topic_partition_list_t *parts, void *userdata)
{
        Pipeline *p = userdata;
        if (parts->cnt == 0)
                return 0;
        const char *tps[parts->cnt];
        char names[parts->cnt][POSITIONS_TP_LEN];
        int64_t pos[parts->cnt];
        for (int i = 0; i < parts->cnt; i++) {
                tp_format(names[i], POSITIONS_TP_LEN, parts->elems[i].topic,
                          (int)parts->elems[i].partition);
                tps[i] = names[i];
        }
        int r = check_state(p, parts);
        if (r < 0)
                return r;
        r = store_positions_get(p->store, tps, (size_t)parts->cnt, pos);
        if (r < 0) {
                log_warning("redis: cannot read positions (%s); starting from Kafka's "
                            "committed offsets, which is safe (re-reading is harmless)",
                            store_errstr(p->store));
                return r;
        }
        for (int i = 0; i < parts->cnt; i++) {
                Track *t = positions_get(p->positions, parts->elems[i].topic,
                                         parts->elems[i].partition, true);
                if (t) {
                        t->assigned = true;
                        track_reset(t, pos[i]);
                }
                if (pos[i] >= 0)
                        parts->elems[i].offset = pos[i];
        }
        return 0;
}

void pipeline_on_revoked(const rd_kafka_topic_partition_list_t *parts, void *userdata)
{
        Pipeline *p = userdata;
        crash_point("in_revoke");
        /* Let dead letters and outputs in flight land so the positions can
         * pass them and the outbox entries go (bounded: the loop's turn). */
        if (p->producer && producer_flush(p->producer, KAFKA_CALL_MS) < 0)
                log_warning("kafka: deliveries still pending at revoke; those partitions will "
                            "be read again from their last position (harmless)");
        if (pipeline_drain_deliveries(p) < 0)
                log_warning("redis: delivered outbox entries not deleted at revoke (%s); "
                            "deleted later",
                            store_errstr(p->store));
        if (pipeline_flush_positions(p) < 0)
                log_warning("redis: cannot record positions at revoke (%s); the new owner "
                            "re-reads a little (harmless)",
                            store_errstr(p->store));
        for (int i = 0; i < parts->cnt; i++) {
                Track *t = positions_get(p->positions, parts->elems[i].topic,
                                         parts->elems[i].partition, false);
                if (t) {
                        t->assigned = false;
                        track_reset(t, t->recorded);
                }
        }
}
