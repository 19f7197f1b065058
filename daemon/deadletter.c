/* Dead letters: an input message that cannot be processed goes, unchanged,
 * to the dead-letter topic; its partition's position waits until the broker
 * confirmed it, so a message is either applied or dead-lettered, never
 * neither. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include "log.h"
#include "pipeline_impl.h"

/* A fresh Delivery for the dead letter of topic/partition@offset. */
static Delivery *dlq_delivery(const char *topic, int32_t partition, int64_t offset,
                              const char *reason)
{
        Delivery *d = delivery_new(DELIVERY_DEAD_LETTER);
        if (!d || !(d->topic = strdup(topic)) || !(d->reason = strdup(reason))) {
                delivery_free(d);
                return NULL;
        }
        d->partition = partition;
        d->offset = offset;
        return d;
}

int dead_letter(Pipeline *p, Item *it, const char *reason)
{
        rd_kafka_message_t *m = it->m;
        const char *topic = rd_kafka_topic_name(m->rkt);
        Track *t = positions_get(p->positions, topic, m->partition, true);
        Delivery *d = dlq_delivery(topic, m->partition, m->offset, reason);
        if (!t || !d || track_hold(t, m->offset) < 0) {
                delivery_free(d);
                return -ENOMEM;
        }
        /* The producer takes d, also on failure. Never waits: a full queue
         * fails the batch, which the loop tries again after serving the
         * producer (a wait here blocked the loop for up to 10 s). */
        int r = producer_send_dead_letter(p->producer, m, reason, d);
        if (r < 0) {
                /* Not marked done: the position cannot pass this message,
                 * and the batch is tried again (a restart reads it again). */
                track_release(t, m->offset);
                log_ratelimited(LOG_WARNING,
                                "dead letter of %s/%d@%" PRId64 " not produced (%s); the batch "
                                "is kept and tried again",
                                topic, (int)m->partition, m->offset,
                                r == -ENOBUFS ? "producer queue full" : "producer refused it");
                return r == -ENOMEM ? r : -EAGAIN;
        }
        /* The reason names a field, never a value: no personal data. */
        log_warning("dead letter: %s/%d@%" PRId64 ": %s", topic, (int)m->partition, m->offset,
                    reason);
        track_done(t, m->offset);
        it->state = ITEM_DEAD;
        p->dlq_in_flight++;
        p->stats.dead_letters++;
        metric_count(p, "hearth_dead_letters_total", 1, "reason", dead_letter_class(reason), NULL);
        return 0;
}

/* The delivery report of a dead letter (from the producer's poll; touches
 * memory and the producer only). */
void dead_letter_delivered(Pipeline *p, const Delivery *d, bool ok, const char *error,
                           const rd_kafka_message_t *m)
{
        Track *t = positions_get(p->positions, d->topic, d->partition, false);
        if (ok) {
                if (p->dlq_in_flight)
                        p->dlq_in_flight--;
                if (t)
                        track_release(t, d->offset);
                return;
        }
        /* Not persisted: send it again; the position keeps waiting. */
        log_warning("dead letter of %s/%d@%" PRId64 " not delivered (%s), retrying", d->topic,
                    (int)d->partition, d->offset, error);
        Delivery *again = dlq_delivery(d->topic, d->partition, d->offset, d->reason);
        if (!again || producer_resend_dead_letter(p->producer, m, again) < 0) {
                /* Give up on this copy: the position never passes it, so
                 * after a restart the message is read again. */
                if (p->dlq_in_flight)
                        p->dlq_in_flight--;
        }
}
