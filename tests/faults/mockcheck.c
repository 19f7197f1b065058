/* mockcheck BOOTSTRAP N TWO_TOPICS [MAX_IN_FLIGHT]: an idempotent producer
 * (acks=all) sends N small messages to t1 (and every 7th to t2 when
 * TWO_TOPICS is 1), one every 0.3 ms, and prints "OK <value>" or "BAD <value>
 * <error>" for each delivery report. tests/faults/mockcheck.sh runs it
 * against the test broker while injecting retriable Produce errors and
 * counts the messages reported persisted that the broker does not hold:
 * with librdkafka 2.0.2's mock and 5 requests in flight there are some (the
 * mock accepts a later batch while an earlier one awaits its retry, and the
 * client then treats the earlier one as acknowledged); with 1 in flight,
 * none. That is why row F18 runs hearthd with one request in flight. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ok, bad;

static void dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        (void)rk;
        (void)opaque;
        if (!m->err && rd_kafka_message_status(m) == RD_KAFKA_MSG_STATUS_PERSISTED) {
                ok++;
                printf("OK %.*s\n", (int)m->len, (const char *)m->payload);
        } else {
                bad++;
                printf("BAD %.*s %s\n", (int)m->len, (const char *)m->payload,
                       rd_kafka_err2name(m->err));
        }
}

int main(int argc, char **argv)
{
        char e[512];
        if (argc < 4) {
                fprintf(stderr, "usage: mockcheck BOOTSTRAP N TWO_TOPICS [MAX_IN_FLIGHT]\n");
                return 2;
        }
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        if (rd_kafka_conf_set(c, "bootstrap.servers", argv[1], e, sizeof(e)) ||
            rd_kafka_conf_set(c, "enable.idempotence", "true", e, sizeof(e)) ||
            rd_kafka_conf_set(c, "acks", "all", e, sizeof(e)) ||
            (argc > 4 &&
             rd_kafka_conf_set(c, "max.in.flight.requests.per.connection", argv[4], e, sizeof(e)))) {
                fprintf(stderr, "mockcheck: %s\n", e);
                return 2;
        }
        rd_kafka_conf_set_dr_msg_cb(c, dr);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof(e));
        if (!rk) {
                fprintf(stderr, "mockcheck: %s\n", e);
                return 1;
        }
        long n = strtol(argv[2], NULL, 10);
        bool two = strcmp(argv[3], "1") == 0;
        for (long i = 0; i < n; i++) {
                char k[16], v[32];
                snprintf(k, sizeof(k), "k%ld", i % 50);
                snprintf(v, sizeof(v), "%ld", i);
                const char *t = two && i % 7 == 0 ? "t2" : "t1";
                rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(t), RD_KAFKA_V_KEY(k, strlen(k)),
                                  RD_KAFKA_V_VALUE(v, strlen(v)),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                rd_kafka_poll(rk, 0);
                usleep(300);
        }
        rd_kafka_flush(rk, 30000);
        fprintf(stderr, "delivery reports: %d persisted, %d failed\n", ok, bad);
        rd_kafka_destroy(rk);
        return 0;
}
