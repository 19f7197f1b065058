/* The idempotent Kafka producer for alert events and dead letters. Every
 * message carries a Delivery that its report hands back, so the caller
 * learns which outbox entry or dead letter is safely persisted. */
#pragma once

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "kafka.h"

typedef enum { DELIVERY_OUTBOX, DELIVERY_DEAD_LETTER } DeliveryKind;

/* The supervision counts of one output (supervision.c): the stats fields
 * "type:colour" and "type:colour:town" (NULL: none) and the seconds the
 * alert was open. known false: not taken, read them from the text. */
typedef struct {
        bool known;
        char *field[2];
        bool has_open_for;
        int64_t open_for;
} OutputCounts;
/* Frees the fields and forgets them (known false). */
void output_counts_clear(OutputCounts *c);

/* What a delivery report is about. Owned by the producer while in flight. */
typedef struct Delivery {
        DeliveryKind kind;
        char *household; /* DELIVERY_OUTBOX: household id; outbox entry id */
        char *entry_id;
        char *topic; /* DELIVERY_DEAD_LETTER: where the bad message came from */
        int32_t partition;
        int64_t offset;
        char *reason; /* DELIVERY_DEAD_LETTER: the hearth.error header */
        /* DELIVERY_OUTBOX: the output's counts, taken from it before it was
         * written (outputs_count_of()), so the delivery need not parse the
         * payload (not known: parse it). */
        OutputCounts counts;
} Delivery;

/* Called for each delivery report from producer_poll(): ok says whether the
 * broker confirmed persistence. The Delivery is freed after the call. For a
 * failed dead letter the callback may produce it again. */
typedef void (*DeliveryFn)(const Delivery *d, bool ok, const char *error,
                           const rd_kafka_message_t *m, void *userdata);

typedef struct Producer Producer;

/* health and the callback's userdata are borrowed. NULL with err set. */
Producer *producer_new(const Config *c, const char *bootstrap, KafkaHealth *health, DeliveryFn fn,
                       void *userdata, char *err, size_t errlen);
/* Flushes for up to flush_ms, then frees. Accepts NULL. */
Producer *producer_free(Producer *p, int flush_ms);

/* The content-type header of every alert event and every dead letter: the
 * structured mode of the CloudEvents Kafka binding. */
#define PRODUCER_CONTENT_TYPE "application/cloudevents+json; charset=UTF-8"

/* Produces an alert event (value and key copied) with the header
 * content-type: PRODUCER_CONTENT_TYPE. Takes d. */
int producer_send_alert(Producer *p, const char *key, const char *value, size_t len, Delivery *d);
/* Produces the dead letter of the input message in (borrowed): its key,
 * value and headers unchanged, except that its own content-type header is
 * kept as hearth.content-type; then the headers content-type:
 * PRODUCER_CONTENT_TYPE, hearth.error (error), hearth.topic,
 * hearth.partition and hearth.offset (from d). Takes d. */
int producer_send_dead_letter(Producer *p, const rd_kafka_message_t *in, const char *error,
                              Delivery *d);
/* Produces again a dead letter whose delivery failed: sent (borrowed, from
 * the delivery report) with its key, value and headers as they were. Takes
 * d. */
int producer_resend_dead_letter(Producer *p, const rd_kafka_message_t *sent, Delivery *d);
/* Serves delivery reports. */
void producer_poll(Producer *p, int timeout_ms);
/* Messages not yet acknowledged. */
int producer_outq_len(Producer *p);
/* Waits for all outstanding messages; 0 or -ETIMEDOUT. */
int producer_flush(Producer *p, int timeout_ms);
/* Whether a broker answers a metadata request within timeout_ms (the
 * loop's Kafka health check: keep timeout_ms short). */
bool producer_reachable(Producer *p, int timeout_ms);
Delivery *delivery_new(DeliveryKind kind);
void delivery_free(Delivery *d);
