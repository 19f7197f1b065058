#include "producer.h"

#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>
#include "log.h"

struct Producer {
        KafkaHealth *health; /* first: the error callback finds it here */
        rd_kafka_t *rk;
        rd_kafka_topic_t *alerts, *dlq;
        DeliveryFn fn;
        void *userdata;
};

Delivery *delivery_new(DeliveryKind kind)
{
        Delivery *d = calloc(1, sizeof(Delivery));
        if (d)
                d->kind = kind;
        return d;
}

void delivery_free(Delivery *d)
{
        if (!d)
                return;
        free(d->household);
        free(d->entry_id);
        free(d->topic);
        free(d->reason);
        output_counts_clear(&d->counts);
        free(d);
}

void output_counts_clear(OutputCounts *c)
{
        free(c->field[0]);
        free(c->field[1]);
        *c = (OutputCounts){0};
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        (void)rk;
        Producer *p = opaque;
        Delivery *d = m->_private;
        /* PERSISTED is the only status that proves the broker has it; with
         * acks=all and idempotence, NO_ERROR implies it. */
        bool ok = m->err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                  rd_kafka_message_status(m) == RD_KAFKA_MSG_STATUS_PERSISTED;
        if (p->fn && d)
                p->fn(d, ok, ok ? NULL : rd_kafka_err2str(m->err), m, p->userdata);
        delivery_free(d);
}

Producer *producer_new(const Config *c, const char *bootstrap, KafkaHealth *health, DeliveryFn fn,
                       void *userdata, char *err, size_t errlen)
{
        Producer *p = calloc(1, sizeof(Producer));
        if (!p) {
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        p->health = health;
        p->fn = fn;
        p->userdata = userdata;
        char client_id[64];
        snprintf(client_id, sizeof(client_id), "hearthd-%d-producer", (int)getpid());
        rd_kafka_conf_t *conf = kafka_conf_new(c, bootstrap, client_id, health, err, errlen);
        if (!conf)
                goto fail;
        /* Required by the outbox: no duplicates from retries, order kept,
         * persistence confirmed by all in-sync replicas. */
        const char *fixed[][2] = {
            {"enable.idempotence", "true"},
            {"acks", "all"},
        };
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                if (kafka_conf_set(conf, fixed[i][0], fixed[i][1], err, errlen) < 0) {
                        rd_kafka_conf_destroy(conf);
                        goto fail;
                }
        /* Consumer-only pass-through properties would make the producer
         * warn; librdkafka ignores them, so that is harmless. */
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rd_kafka_conf_set_opaque(conf, p);
        char e[512];
        p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
        if (!p->rk) {
                snprintf(err, errlen, "kafka producer: %s", e);
                rd_kafka_conf_destroy(conf);
                goto fail;
        }
        p->alerts = rd_kafka_topic_new(p->rk, c->kafka_alerts, NULL);
        p->dlq = rd_kafka_topic_new(p->rk, c->kafka_dead_letter, NULL);
        if (!p->alerts || !p->dlq) {
                snprintf(err, errlen, "kafka producer: cannot create topic handles");
                return producer_free(p, 0);
        }
        return p;
fail:
        free(p);
        return NULL;
}

Producer *producer_free(Producer *p, int flush_ms)
{
        if (!p)
                return NULL;
        if (p->rk) {
                if (flush_ms > 0 && rd_kafka_flush(p->rk, flush_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
                        log_warning("kafka: %d messages not delivered at shutdown; the outbox "
                                    "keeps alerts for the next start",
                                    rd_kafka_outq_len(p->rk));
                /* Undelivered messages still own their Delivery: purge them
                 * so that their reports free it. */
                rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
                rd_kafka_poll(p->rk, 0);
        }
        if (p->alerts)
                rd_kafka_topic_destroy(p->alerts);
        if (p->dlq)
                rd_kafka_topic_destroy(p->dlq);
        if (p->rk)
                rd_kafka_destroy(p->rk);
        free(p);
        return NULL;
}

int producer_send_alert(Producer *p, const char *key, const char *value, size_t len, Delivery *d)
{
        rd_kafka_resp_err_t r = rd_kafka_producev(
            p->rk, RD_KAFKA_V_RKT(p->alerts), RD_KAFKA_V_KEY(key, strlen(key)),
            RD_KAFKA_V_VALUE((void *)value, len),
            RD_KAFKA_V_HEADER("content-type", PRODUCER_CONTENT_TYPE, -1),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
        if (r) {
                delivery_free(d);
                return r == RD_KAFKA_RESP_ERR__QUEUE_FULL ? -ENOBUFS : -EIO;
        }
        return 0;
}

/* Produces a dead letter with headers h (taken, also on failure). */
static int send_dlq(Producer *p, const void *key, size_t keylen, const void *value, size_t len,
                    rd_kafka_headers_t *h, Delivery *d)
{
        rd_kafka_resp_err_t r = rd_kafka_producev(
            p->rk, RD_KAFKA_V_RKT(p->dlq), RD_KAFKA_V_KEY(key, keylen),
            RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
        if (r) {
                rd_kafka_headers_destroy(h);
                delivery_free(d);
                return r == RD_KAFKA_RESP_ERR__QUEUE_FULL ? -ENOBUFS : -EIO;
        }
        return 0;
}

int producer_send_dead_letter(Producer *p, const rd_kafka_message_t *in, const char *error,
                              Delivery *d)
{
        char part[16], off[24];
        snprintf(part, sizeof(part), "%d", (int)d->partition);
        snprintf(off, sizeof(off), "%lld", (long long)d->offset);
        rd_kafka_headers_t *own = NULL;
        if (rd_kafka_message_headers(in, &own) != RD_KAFKA_RESP_ERR_NO_ERROR)
                own = NULL;
        rd_kafka_headers_t *h = rd_kafka_headers_new(own ? rd_kafka_header_cnt(own) + 5 : 5);
        const char *name;
        const void *value;
        size_t size;
        /* The input's own headers first, in order. Its content-type moves
         * to hearth.content-type: a dead letter carries exactly one
         * content-type, the contract's. A name hearth sets below (from a
         * dead letter put back on an input topic) stays too, before ours:
         * readers take the last header of a name. */
        for (size_t i = 0; own && rd_kafka_header_get_all(own, i, &name, &value, &size) ==
                                      RD_KAFKA_RESP_ERR_NO_ERROR;
             i++)
                rd_kafka_header_add(h,
                                    strcasecmp(name, "content-type") ? name : "hearth.content-type",
                                    -1, value, value ? (ssize_t)size : 0);
        rd_kafka_header_add(h, "content-type", -1, PRODUCER_CONTENT_TYPE, -1);
        rd_kafka_header_add(h, "hearth.error", -1, error, -1);
        rd_kafka_header_add(h, "hearth.topic", -1, d->topic, -1);
        rd_kafka_header_add(h, "hearth.partition", -1, part, -1);
        rd_kafka_header_add(h, "hearth.offset", -1, off, -1);
        return send_dlq(p, in->key, in->key_len, in->payload, in->len, h, d);
}

int producer_resend_dead_letter(Producer *p, const rd_kafka_message_t *sent, Delivery *d)
{
        rd_kafka_headers_t *had = NULL;
        if (rd_kafka_message_headers(sent, &had) != RD_KAFKA_RESP_ERR_NO_ERROR)
                had = NULL;
        rd_kafka_headers_t *h = had ? rd_kafka_headers_copy(had) : rd_kafka_headers_new(0);
        return send_dlq(p, sent->key, sent->key_len, sent->payload, sent->len, h, d);
}

void producer_poll(Producer *p, int timeout_ms)
{
        rd_kafka_poll(p->rk, timeout_ms);
}

int producer_outq_len(Producer *p)
{
        return rd_kafka_outq_len(p->rk);
}

int producer_flush(Producer *p, int timeout_ms)
{
        return rd_kafka_flush(p->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -ETIMEDOUT;
}

bool producer_reachable(Producer *p, int timeout_ms)
{
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e = rd_kafka_metadata(p->rk, 0, NULL, &md, timeout_ms);
        if (md)
                rd_kafka_metadata_destroy(md);
        return e == RD_KAFKA_RESP_ERR_NO_ERROR;
}
