/* From Kafka to Redis and on: decode a batch, group it by household, read
 * the households in one round trip, apply the events (pure code), commit
 * each household in one atomic script (version, offsets and seen ids
 * checked before anything is written), produce the outbox, move each
 * partition's position once every earlier message of it is done. Invalid
 * messages go to the dead-letter topic. The parts: pipeline_impl.h. */
#pragma once

#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include "aidstore.h"
#include "config.h"
#include "consumer.h"
#include "event.h"
#include "metrics.h"
#include "producer.h"
#include "step.h"
#include "store.h"

typedef struct {
        uint64_t consumed;
        uint64_t applied;
        uint64_t duplicates;
        uint64_t dead_letters;
        uint64_t commits;
        uint64_t conflicts;
        uint64_t outputs_delivered;
        uint64_t outputs_resent;
        /* raised, changed, reminder, escalated, eliminated, visit, monitoring
         * started, monitoring ended, candidate */
        uint64_t outputs_by_type[9];
        uint64_t timers_fired;
} PipelineStats;

typedef struct Pipeline Pipeline;

/* Evaluates the rules for a household document at date `today` (days):
 * returns a new {monitored, reasons: [{rule, category, severity, message?,
 * evidence, to_clear?, respond_within_ms?, monitor?}]} or NULL on memory
 * failure (the texts absent when an explainer writes them later). The daemon
 * supplies it (it owns the rule set and swaps it on reload). */
typedef json_t *(*PipelineEvalFn)(const json_t *doc, int32_t today, void *userdata);

/* Borrows cfg, store and dec. NULL on memory failure. */
Pipeline *pipeline_new(const Config *cfg, Store *store, const EventDecoder *dec);
/* Sets the metrics registry to update (borrowed; NULL: none). */
void pipeline_set_metrics(Pipeline *p, Metrics *m);
/* Sets the social aid offers (borrowed; NULL: none): offer events go
 * there, and the timer path matches households with offers (REQ-12). */
void pipeline_set_aid(Pipeline *p, AidStore *aid);
/* Sets the rule evaluation (borrowed userdata). Without one, no rule fires.
 * explain (may be NULL: fn's reasons carry their texts) writes the texts
 * (message, to_clear) of the outputs' reasons, fn's being without them
 * (StepContext). */
void pipeline_set_evaluator(Pipeline *p, PipelineEvalFn fn, StepExplainFn explain, void *userdata);
Pipeline *pipeline_free(Pipeline *p);
/* The clients are created after the pipeline (the producer needs its
 * delivery callback); borrowed. */
void pipeline_set_clients(Pipeline *p, Producer *producer, Consumer *consumer);

/* Processes msgs (borrowed). 0 when every message is done or on its way to
 * the dead-letter topic. -EIO when Redis failed: nothing is lost, the caller
 * keeps the batch and calls again once Redis is back (every step is safe to
 * repeat). -EAGAIN when the producer could not take a dead letter now: the
 * same, once the producer was served. -ENOMEM: the same. -ESTALE when
 * Redis lost hearth's state: fatal. */
int pipeline_process(Pipeline *p, rd_kafka_message_t **msgs, size_t n, int64_t now_ms);

/* The poison-message guard around pipeline_process(): counts attempts per
 * partition start offset in Redis; after a crash the batch is processed one
 * message at a time, and a message that hearthd died on more than
 * max_attempts times is dead-lettered without being processed. Same
 * return values as pipeline_process(). */
int pipeline_process_guarded(Pipeline *p, rd_kafka_message_t **msgs, size_t n, int64_t now_ms);

/* After Redis came back: if Redis's position of an assigned partition is
 * behind what this instance recorded (Redis lost its last writes: a power
 * loss with AOF everysec), the consumer seeks back there so that nothing
 * is lost, and every other assigned partition back to where this
 * instance's work ends (the batch the caller kept is dropped, and its
 * messages are read again). Returns 1 when it sought (the caller drops any
 * batch it kept),
 * 0 when nothing was lost, -EIO when the positions could not be read (the
 * caller processes nothing until a retry succeeds), -ENOMEM. */
int pipeline_resync(Pipeline *p);

/* Writes the positions of partitions that moved: Redis first (the truth),
 * then Kafka's stored offsets (a hint). */
int pipeline_flush_positions(Pipeline *p);

/* Re-sends outbox entries that are pending in Redis and not in flight
 * here (after a crash or an outage). older_than_ms: skip entries younger
 * than that (another instance may be delivering them). */
int pipeline_relay(Pipeline *p, int64_t now_ms, int64_t older_than_ms);
/* Deletes the outbox entries of delivered outputs: the delivery reports
 * are queued by the callback (which never touches Redis, as it runs in the
 * producer's poll) and drained here, at one point of the loop. 0, or -EIO
 * with the rest kept (still in flight, so the relay skips them) for the
 * next call. */
int pipeline_drain_deliveries(Pipeline *p);
/* Frees the queued delivery reports (at shutdown: not deleted, the next
 * start's relay sends them again with the same ids). */
void pipeline_delivered_free(Pipeline *p);
/* The lifecycle durations of cfg (borrowed only for the call): SIGHUP. */
void pipeline_set_policy(Pipeline *p, const Config *cfg);

/* Fires due timers (reminders, escalations, overdue visits) of up to max
 * households; returns how many households were handled or -EIO. */
int pipeline_timers(Pipeline *p, int64_t now_ms, size_t max);

/* True when the first assignment showed that Redis lost hearth's state
 * (no epoch, yet the group has committed offsets): the daemon stops. */
bool pipeline_state_lost(const Pipeline *p);

/* Outputs and dead letters produced but not yet confirmed. */
size_t pipeline_in_flight(const Pipeline *p);
const PipelineStats *pipeline_stats(const Pipeline *p);

/* Delivery reports (the producer's DeliveryFn; userdata is the Pipeline). */
void pipeline_on_delivery(const Delivery *d, bool ok, const char *error,
                          const rd_kafka_message_t *m, void *userdata);
/* Consumer hooks (userdata is the Pipeline). */
int pipeline_on_assigned(rd_kafka_topic_partition_list_t *parts, void *userdata);
void pipeline_on_revoked(const rd_kafka_topic_partition_list_t *parts, void *userdata);
