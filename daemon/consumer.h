/* The balanced Kafka consumer: subscribe to the input topics, poll batches,
 * store offsets only for messages that are done. Offsets in Kafka are a
 * hint; the truth is the per-partition position in Redis, applied through
 * the `assigned` hook. */
#pragma once

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include "config.h"
#include "kafka.h"

typedef struct {
        /* Called on assignment before the partitions are assigned: may set
         * each partition's offset (e.g. from Redis). Non-zero keeps the
         * offsets as they are (Kafka's committed offsets). */
        int (*assigned)(rd_kafka_topic_partition_list_t *parts, void *userdata);
        /* Called before partitions are taken away: finish and record what is
         * in flight for them. */
        void (*revoked)(const rd_kafka_topic_partition_list_t *parts, void *userdata);
        void *userdata;
} ConsumerHooks;

typedef struct Consumer Consumer;

/* bootstrap, health and hooks are borrowed and must outlive the consumer.
 * NULL with err set on a refused configuration. */
Consumer *consumer_new(const Config *c, const char *bootstrap, KafkaHealth *health,
                       const ConsumerHooks *hooks, char *err, size_t errlen);
/* Leaves the group (rd_kafka_consumer_close) and frees. Accepts NULL. */
Consumer *consumer_free(Consumer *co);

int consumer_subscribe(Consumer *co, char *err, size_t errlen);
/* Waits up to timeout_ms for the first message, then takes what arrives
 * within linger_ms of it (0: what is immediately there), up to max.
 * Returns the number of messages put in msgs; the caller destroys each
 * with rd_kafka_message_destroy(). Error events are logged here and never
 * returned. */
size_t consumer_poll(Consumer *co, rd_kafka_message_t **msgs, size_t max, int timeout_ms,
                     int linger_ms);
/* Records that every message of topic/partition before next_offset is
 * done; committed to Kafka in the background (a hint). */
int consumer_store(Consumer *co, const char *topic, int32_t partition, int64_t next_offset);
/* Pauses or resumes fetching on every assigned partition (backpressure). */
int consumer_pause(Consumer *co, bool pause);
/* Synchronous commit of stored offsets (at shutdown). */
int consumer_commit(Consumer *co);
/* Sum of (high watermark - position) over assigned partitions, from the
 * client's cached statistics; -1 when unknown. */
int64_t consumer_lag(Consumer *co);
/* Moves topic/partition to offset (a negative offset: the beginning),
 * asynchronously: messages fetched before are dropped by the client. 0 or
 * -EIO. */
int consumer_seek(Consumer *co, const char *topic, int32_t partition, int64_t offset);
/* 1 when the group has a committed offset for any of parts, 0 when none,
 * -EIO when the broker did not answer within timeout_ms. */
int consumer_has_committed(Consumer *co, const rd_kafka_topic_partition_list_t *parts,
                           int timeout_ms);
