/* The poison-message guard: attempts are counted per partition start
 * offset in Redis; after a crash the batch is processed one message at a
 * time, and a message hearthd died on too often is dead-lettered unread. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include "log.h"
#include "pipeline_impl.h"

/* The first message of each partition in the batch: names (tp) and
 * offsets; returns how many partitions. */
static size_t batch_starts(rd_kafka_message_t **msgs, size_t n, char (*names)[POSITIONS_TP_LEN],
                           const char **tps, int64_t *offs)
{
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                char tp[POSITIONS_TP_LEN];
                tp_format(tp, sizeof(tp), rd_kafka_topic_name(msgs[i]->rkt),
                          (int)msgs[i]->partition);
                size_t j;
                for (j = 0; j < k; j++)
                        if (streq(names[j], tp))
                                break;
                if (j < k)
                        continue;
                memcpy(names[k], tp, sizeof(tp));
                tps[k] = names[k];
                offs[k++] = msgs[i]->offset;
        }
        return k;
}

/* hearthd died during this batch before: one message at a time, each
 * counted, positions recorded after each, so that the next restart starts
 * at the message that killed it. */
static int process_careful(Pipeline *p, rd_kafka_message_t **msgs, size_t n, int64_t now_ms)
{
        log_warning("a batch starting at an offset hearthd died on before: processing it "
                    "one message at a time");
        for (size_t i = 0; i < n; i++) {
                /* Deaths with the message alone count apart ("1:" fields):
                 * a kill from outside during a batch only brings on this
                 * careful mode; it takes deaths while this very message was
                 * processed alone to condemn it. */
                char tp[POSITIONS_TP_LEN];
                const char *one[1] = {tp};
                int64_t off = msgs[i]->offset, count;
                snprintf(tp, sizeof(tp), "1:%s/%d", rd_kafka_topic_name(msgs[i]->rkt),
                         (int)msgs[i]->partition);
                if (store_attempts(p->store, one, &off, 1, &count) < 0)
                        return -EIO;
                int r;
                /* The batch death plus count-1 deaths alone: max_attempts
                 * tries in all. */
                if (count >= p->cfg->max_attempts) {
                        Item it = {.m = msgs[i]};
                        char why[128];
                        snprintf(why, sizeof(why),
                                 "value: hearthd died %" PRId64 " times processing this message",
                                 count);
                        r = dead_letter(p, &it, why);
                } else
                        r = pipeline_process(p, &msgs[i], 1, now_ms);
                if (r < 0)
                        return r;
                /* -EAGAIN: a cluster's replicas have not caught up (WAIT);
                 * the message was processed, its position moves later. */
                if ((r = pipeline_flush_positions(p)) < 0 && r != -EAGAIN)
                        return -EIO;
        }
        return 0;
}

int pipeline_process_guarded(Pipeline *p, rd_kafka_message_t **msgs, size_t n, int64_t now_ms)
{
        if (n == 0)
                return 0;
        /* On the heap: batches may be large. */
        _cleanup_free_ const char **tps = calloc(n, sizeof(char *));
        _cleanup_free_ const char **singles = calloc(n, sizeof(char *));
        _cleanup_free_ char(*names)[POSITIONS_TP_LEN] = calloc(n, POSITIONS_TP_LEN);
        _cleanup_free_ char(*single)[POSITIONS_TP_LEN] = calloc(n, POSITIONS_TP_LEN);
        _cleanup_free_ int64_t *offs = calloc(n, sizeof(int64_t));
        _cleanup_free_ int64_t *counts = calloc(n, sizeof(int64_t));
        _cleanup_free_ int64_t *alone = calloc(n, sizeof(int64_t));
        if (!tps || !singles || !names || !single || !offs || !counts || !alone)
                return -ENOMEM;
        size_t k = batch_starts(msgs, n, names, tps, offs);
        uint64_t batch = 1469598103934665603ULL;
        for (size_t j = 0; j < k; j++) {
                for (const char *c = names[j]; *c; c++)
                        batch = (batch ^ (uint8_t)*c) * 1099511628211ULL;
                batch = (batch ^ (uint64_t)offs[j]) * 1099511628211ULL;
        }
        if (batch == p->guard_batch)
                return p->guard_suspect ? process_careful(p, msgs, n, now_ms)
                                        : pipeline_process(p, msgs, n, now_ms);
        /* A batch that starts at a message hearthd already died on alone
         * stays in the careful mode: its single-message counters are read
         * in the same round trip. */
        for (size_t j = 0; j < k; j++) {
                snprintf(single[j], POSITIONS_TP_LEN, "1:%s", names[j]);
                singles[j] = single[j];
        }
        if (store_attempts_and_peek(p->store, tps, offs, k, counts, singles, alone) < 0)
                return -EIO;
        bool suspect = false;
        for (size_t j = 0; j < k; j++)
                suspect = suspect || counts[j] > 1 || alone[j] > 0;
        p->guard_batch = batch;
        p->guard_suspect = suspect;
        if (!suspect)
                return pipeline_process(p, msgs, n, now_ms);
        return process_careful(p, msgs, n, now_ms);
}
