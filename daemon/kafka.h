/* librdkafka set-up shared by the consumer and the producer: the common
 * configuration (bootstrap servers, pass-through properties, error
 * callback) and the embedded test broker behind `kafka.brokers: embedded`. */
#pragma once

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include "config.h"

/* What the error callback saw; librdkafka retries transient errors by
 * itself, so only a fatal error makes the daemon stop. */
typedef struct {
        bool fatal;
        char fatal_reason[512];
        int all_brokers_down;
} KafkaHealth;

/* Builds a configuration with bootstrap (already resolved from `embedded`),
 * the client id, the error callback and every kafka.properties entry. The
 * caller sets the client's opaque to a struct whose FIRST member is a
 * `KafkaHealth *` (borrowed, must outlive the client): the error callback
 * writes there. NULL with err set
 * when a property is refused. */
rd_kafka_conf_t *kafka_conf_new(const Config *c, const char *bootstrap, const char *client_id,
                                KafkaHealth *health, char *err, size_t errlen);
/* Sets one property; -EINVAL with err set when librdkafka refuses it. */
int kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err,
                   size_t errlen);

typedef struct KafkaEmbedded KafkaEmbedded;
/* Starts an in-process mock cluster (librdkafka's rdkafka_mock) with the
 * config's topics: for the demo only, it keeps nothing on disk. */
KafkaEmbedded *kafka_embedded_new(const Config *c, char *err, size_t errlen);
const char *kafka_embedded_bootstraps(const KafkaEmbedded *e);
KafkaEmbedded *kafka_embedded_free(KafkaEmbedded *e);
