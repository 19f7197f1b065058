#include "consumer.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include "clock.h"
#include "log.h"

struct Consumer {
        KafkaHealth *health; /* first: the error callback finds it here */
        rd_kafka_t *rk;
        const Config *cfg;
        ConsumerHooks hooks;
};

static void log_parts(const char *what, const rd_kafka_topic_partition_list_t *parts)
{
        char buf[1024];
        size_t off = 0;
        buf[0] = 0;
        for (int i = 0; i < parts->cnt && off < sizeof(buf) - 1; i++) {
                int n = snprintf(buf + off, sizeof(buf) - off, "%s%s/%d", i ? " " : "",
                                 parts->elems[i].topic, parts->elems[i].partition);
                if (n < 0)
                        break;
                off += (size_t)n;
        }
        log_info("kafka: %s %d partitions: %s", what, parts->cnt, buf);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
        Consumer *co = opaque;
        rd_kafka_resp_err_t r;
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                if (co->hooks.assigned)
                        co->hooks.assigned(parts, co->hooks.userdata);
                log_parts("assigned", parts);
                r = rd_kafka_assign(rk, parts);
        } else {
                log_parts("revoked", parts);
                if (co->hooks.revoked)
                        co->hooks.revoked(parts, co->hooks.userdata);
                r = rd_kafka_assign(rk, NULL);
        }
        if (r)
                log_error("kafka: assign failed: %s", rd_kafka_err2str(r));
}

Consumer *consumer_new(const Config *c, const char *bootstrap, KafkaHealth *health,
                       const ConsumerHooks *hooks, char *err, size_t errlen)
{
        Consumer *co = calloc(1, sizeof(Consumer));
        if (!co) {
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        co->cfg = c;
        co->health = health;
        if (hooks)
                co->hooks = *hooks;
        char client_id[64];
        snprintf(client_id, sizeof(client_id), "hearthd-%d", (int)getpid());
        rd_kafka_conf_t *conf = kafka_conf_new(c, bootstrap, client_id, health, err, errlen);
        if (!conf)
                goto fail;
        /* Why these: offsets are stored by hand once a message is done;
         * range assignment because 2.0.2's cooperative-sticky can lose
         * partitions when committing during a rebalance; earliest so that a
         * new group misses nothing. Properties in kafka.properties were set
         * first but these are required by the pipeline's guarantees. */
        const char *fixed[][2] = {
            {"group.id", c->kafka_group},      {"enable.auto.offset.store", "false"},
            {"enable.auto.commit", "true"},    {"partition.assignment.strategy", "range"},
            {"enable.partition.eof", "false"},
        };
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                if (kafka_conf_set(conf, fixed[i][0], fixed[i][1], err, errlen) < 0) {
                        rd_kafka_conf_destroy(conf);
                        goto fail;
                }
        /* Default the operator may override in kafka.properties: a new
         * group starts from the beginning so that it misses nothing. */
        bool reset_given = false, queue_given = false, fetch_given = false;
        for (size_t i = 0; i < c->n_kafka_properties; i++) {
                if (streq(c->kafka_properties[i].key, "auto.offset.reset"))
                        reset_given = true;
                if (streq(c->kafka_properties[i].key, "queued.max.messages.kbytes"))
                        queue_given = true;
                if (streq(c->kafka_properties[i].key, "fetch.max.bytes"))
                        fetch_given = true;
        }
        /* librdkafka pre-fetches up to 64 MiB by default, and one Fetch
         * response may bring 50 MiB more (fetch.max.bytes) on top of what
         * is queued: hearthd's peak RSS in make bench was 80 MiB during a
         * backlog, 57 MiB with 4 MiB of each at the same throughput.
         * librdkafka 2.0.2 stops fetching while the queue is over its
         * limit and looks again only when its broker thread wakes, up to
         * a second later: with 4 MiB queued (0.8 s of input at 12,000
         * events/s) the loop idled 24-360 ms about every 2 s of a
         * backlog. 8 MiB queued and 2 MiB per Fetch remove those pauses;
         * they fit in 64 MiB since pipeline.batch_max is 250 (config.c):
         * three alternating pairs of 300,000 events, 11,443-11,869
         * events/s at 51-56 MiB against 10,296-12,346 at 59-66 MiB with
         * 4 MiB and batches of 500. kafka.properties overrides both. */
        if ((!queue_given &&
             kafka_conf_set(conf, "queued.max.messages.kbytes", "8192", err, errlen) < 0) ||
            (!fetch_given && kafka_conf_set(conf, "fetch.max.bytes", "2097152", err, errlen) < 0)) {
                rd_kafka_conf_destroy(conf);
                goto fail;
        }
        if (!reset_given &&
            kafka_conf_set(conf, "auto.offset.reset", "earliest", err, errlen) < 0) {
                rd_kafka_conf_destroy(conf);
                goto fail;
        }
        rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
        rd_kafka_conf_set_opaque(conf, co);
        char e[512];
        co->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof(e));
        if (!co->rk) {
                snprintf(err, errlen, "kafka consumer: %s", e);
                rd_kafka_conf_destroy(conf);
                goto fail;
        }
        /* One queue: rd_kafka_consumer_poll() serves rebalances and errors. */
        rd_kafka_poll_set_consumer(co->rk);
        return co;
fail:
        free(co);
        return NULL;
}

Consumer *consumer_free(Consumer *co)
{
        if (!co)
                return NULL;
        if (co->rk) {
                rd_kafka_consumer_close(co->rk);
                rd_kafka_destroy(co->rk);
        }
        free(co);
        return NULL;
}

int consumer_subscribe(Consumer *co, char *err, size_t errlen)
{
        rd_kafka_topic_partition_list_t *topics =
            rd_kafka_topic_partition_list_new((int)co->cfg->n_kafka_inputs);
        for (size_t i = 0; i < co->cfg->n_kafka_inputs; i++)
                rd_kafka_topic_partition_list_add(topics, co->cfg->kafka_inputs[i],
                                                  RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t r = rd_kafka_subscribe(co->rk, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (r) {
                snprintf(err, errlen, "subscribe: %s", rd_kafka_err2str(r));
                return -EIO;
        }
        return 0;
}

size_t consumer_poll(Consumer *co, rd_kafka_message_t **msgs, size_t max, int timeout_ms,
                     int linger_ms)
{
        size_t n = 0;
        int64_t until = 0;
        while (n < max) {
                int wait = timeout_ms;
                if (n) {
                        int64_t left = until - clock_mono_us();
                        wait = left > 0 ? (int)((left + 999) / 1000) : 0;
                }
                rd_kafka_message_t *m = rd_kafka_consumer_poll(co->rk, wait);
                if (!m) {
                        if (n && wait > 0)
                                continue;
                        break;
                }
                if (m->err) {
                        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                log_warning("kafka: consume error on %s/%d: %s",
                                            m->rkt ? rd_kafka_topic_name(m->rkt) : "-",
                                            m->partition, rd_kafka_message_errstr(m));
                        rd_kafka_message_destroy(m);
                        continue;
                }
                if (!n)
                        until = clock_mono_us() + (int64_t)linger_ms * 1000;
                msgs[n++] = m;
        }
        return n;
}

int consumer_store(Consumer *co, const char *topic, int32_t partition, int64_t next_offset)
{
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, partition)->offset = next_offset;
        rd_kafka_resp_err_t r = rd_kafka_offsets_store(co->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        /* _STATE: the partition was revoked meanwhile; Redis has the truth. */
        return r == RD_KAFKA_RESP_ERR_NO_ERROR || r == RD_KAFKA_RESP_ERR__STATE ? 0 : -EIO;
}

int consumer_pause(Consumer *co, bool pause)
{
        rd_kafka_topic_partition_list_t *parts = NULL;
        if (rd_kafka_assignment(co->rk, &parts) || !parts)
                return -EIO;
        rd_kafka_resp_err_t r = pause ? rd_kafka_pause_partitions(co->rk, parts)
                                      : rd_kafka_resume_partitions(co->rk, parts);
        rd_kafka_topic_partition_list_destroy(parts);
        return r ? -EIO : 0;
}

int consumer_commit(Consumer *co)
{
        rd_kafka_resp_err_t r = rd_kafka_commit(co->rk, NULL, 0);
        return r == RD_KAFKA_RESP_ERR_NO_ERROR || r == RD_KAFKA_RESP_ERR__NO_OFFSET ? 0 : -EIO;
}

int64_t consumer_lag(Consumer *co)
{
        rd_kafka_topic_partition_list_t *parts = NULL;
        if (rd_kafka_assignment(co->rk, &parts) || !parts)
                return -1;
        int64_t lag = 0;
        rd_kafka_position(co->rk, parts);
        for (int i = 0; i < parts->cnt; i++) {
                int64_t lo, hi;
                if (rd_kafka_get_watermark_offsets(co->rk, parts->elems[i].topic,
                                                   parts->elems[i].partition, &lo, &hi))
                        continue;
                int64_t pos = parts->elems[i].offset;
                if (pos < 0)
                        pos = lo;
                if (hi > pos)
                        lag += hi - pos;
        }
        rd_kafka_topic_partition_list_destroy(parts);
        return lag;
}

int consumer_seek(Consumer *co, const char *topic, int32_t partition, int64_t offset)
{
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, partition)->offset =
            offset >= 0 ? offset : RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_error_t *e = rd_kafka_seek_partitions(co->rk, l, 0);
        rd_kafka_topic_partition_list_destroy(l);
        if (e) {
                log_error("kafka: seek of %s/%d failed: %s", topic, (int)partition,
                          rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
                return -EIO;
        }
        return 0;
}

int consumer_has_committed(Consumer *co, const rd_kafka_topic_partition_list_t *parts,
                           int timeout_ms)
{
        rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(parts);
        int ret = -EIO;
        if (rd_kafka_committed(co->rk, c, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                ret = 0;
                for (int i = 0; i < c->cnt; i++)
                        if (c->elems[i].offset > 0)
                                ret = 1;
        }
        rd_kafka_topic_partition_list_destroy(c);
        return ret;
}
