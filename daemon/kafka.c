#include "kafka.h"

#include <errno.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include "log.h"
#include "redact.h"

/* opaque points at a struct whose first member is a KafkaHealth pointer
 * (Consumer, Producer), so that one opaque serves every callback. */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        KafkaHealth *h = opaque ? *(KafkaHealth **)opaque : NULL;
        if (!h)
                return;
        if (err == RD_KAFKA_RESP_ERR__FATAL) {
                char buf[256];
                rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof(buf));
                h->fatal = true;
                snprintf(h->fatal_reason, sizeof(h->fatal_reason), "%s: %s",
                         rd_kafka_err2name(orig), buf);
                return;
        }
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
                h->all_brokers_down++;
        /* Everything else is retried by librdkafka itself: say so once. */
        log_ratelimited(LOG_WARNING, "kafka: %s: %s (librdkafka retries)", rd_kafka_err2name(err),
                        reason);
}

/* librdkafka's own log lines, with our priority prefix (its levels are
 * syslog levels) and rate limited: a broker outage repeats them. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        (void)rk;
        if (level > log_get_max_level())
                return;
        log_ratelimited(level, "kafka: %s: %s", fac, buf);
}

int kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err,
                   size_t errlen)
{
        char e[256];
        if (rd_kafka_conf_set(conf, key, value, e, sizeof(e)) != RD_KAFKA_CONF_OK) {
                snprintf(err, errlen, "%s", e);
                return -EINVAL;
        }
        return 0;
}

rd_kafka_conf_t *kafka_conf_new(const Config *c, const char *bootstrap, const char *client_id,
                                KafkaHealth *health, char *err, size_t errlen)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (!conf) {
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        if (kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, errlen) < 0 ||
            kafka_conf_set(conf, "client.id", client_id, err, errlen) < 0)
                goto fail;
        for (size_t i = 0; i < c->n_kafka_properties; i++) {
                const ConfigPair *p = &c->kafka_properties[i];
                char e[256], shown[300];
                if (kafka_conf_set(conf, p->key, p->value, e, sizeof(e)) < 0) {
                        /* librdkafka quotes a refused value: not a secret. */
                        snprintf(err, errlen, "kafka.properties.%s: %s", p->key,
                                 redact_key_is_secret(p->key)
                                     ? redact_secret(e, p->value, shown, sizeof(shown))
                                     : e);
                        goto fail;
                }
        }
        if (c->kafka_sasl_password.value &&
            kafka_conf_set(conf, "sasl.password", c->kafka_sasl_password.value, err, errlen) < 0) {
                char e[256];
                snprintf(e, sizeof(e), "kafka.sasl_password_file: %s", err);
                redact_secret(e, c->kafka_sasl_password.value, err, errlen);
                goto fail;
        }
        rd_kafka_conf_set_error_cb(conf, error_cb);
        rd_kafka_conf_set_log_cb(conf, log_cb);
        (void)health; /* reached through the client's opaque, see error_cb */
        return conf;
fail:
        rd_kafka_conf_destroy(conf);
        return NULL;
}

struct KafkaEmbedded {
        rd_kafka_t *rk; /* owns the mock cluster's threads */
        rd_kafka_mock_cluster_t *mc;
        char *bootstraps;
};

KafkaEmbedded *kafka_embedded_new(const Config *c, char *err, size_t errlen)
{
        KafkaEmbedded *e = calloc(1, sizeof(KafkaEmbedded));
        if (!e) {
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char e2[256];
        e->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e2, sizeof(e2));
        if (!e->rk) {
                snprintf(err, errlen, "embedded broker: %s", e2);
                rd_kafka_conf_destroy(conf);
                return kafka_embedded_free(e);
        }
        e->mc = rd_kafka_mock_cluster_new(e->rk, 1);
        if (!e->mc) {
                snprintf(err, errlen, "embedded broker: cannot start mock cluster");
                return kafka_embedded_free(e);
        }
        for (size_t i = 0; i < c->n_kafka_inputs; i++)
                rd_kafka_mock_topic_create(e->mc, c->kafka_inputs[i], 4, 1);
        rd_kafka_mock_topic_create(e->mc, c->kafka_alerts, 4, 1);
        rd_kafka_mock_topic_create(e->mc, c->kafka_dead_letter, 1, 1);
        e->bootstraps = strdup(rd_kafka_mock_cluster_bootstraps(e->mc));
        if (!e->bootstraps) {
                snprintf(err, errlen, "out of memory");
                return kafka_embedded_free(e);
        }
        return e;
}

const char *kafka_embedded_bootstraps(const KafkaEmbedded *e)
{
        return e->bootstraps;
}

KafkaEmbedded *kafka_embedded_free(KafkaEmbedded *e)
{
        if (!e)
                return NULL;
        if (e->mc)
                rd_kafka_mock_cluster_destroy(e->mc);
        if (e->rk)
                rd_kafka_destroy(e->rk);
        free(e->bootstraps);
        free(e);
        return NULL;
}
