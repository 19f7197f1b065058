/* The pipeline's parts share this state (pipeline.h is the outside view).
 * Which part owns what: positions.c the partition positions, deadletter.c
 * the dead letters, outbox.c the outputs in flight and the delivery
 * reports, batch.c one batch of messages, timers.c due timers, guard.c the
 * poison-message guard, supervision.c the counts, metrics and log lines. */
#pragma once

#include "lifecycle.h"
#include "pipeline.h"
#include "positions.h"
#include "step.h"
#include "strset.h"

#define PIPELINE_KEY_LEN 400

/* A delivered output whose outbox entry is still to delete (the delivery
 * report is queued; the entry is deleted at one point of the loop). */
typedef struct {
        char *household, *id;
        /* The supervision counts: the delivery's (outputs_count_of()),
         * or, when it had none (the relay's), the output to read them
         * from. */
        OutputCounts counts;
        char *payload;
        size_t len;
} Delivered;

struct Pipeline {
        const Config *cfg;
        Store *store;
        const EventDecoder *dec;
        Producer *producer;
        Consumer *consumer;
        Positions *positions;
        StrSet *in_flight; /* "household\nentry" of outbox entries produced */
        size_t dlq_in_flight;
        /* Delivery reports of outputs, queued by the callback and drained
         * by pipeline_drain_deliveries(): no callback touches Redis. The
         * entries stay in in_flight meanwhile, so the relay skips them. */
        Delivered *delivered;
        size_t n_delivered, cap_delivered;
        PipelineEvalFn eval;
        StepExplainFn explain;
        void *eval_userdata;
        LifecyclePolicy policy;
        AidStore *aid; /* social aid offers (REQ-12); NULL: offer events are households' */
        Metrics *metrics;
        bool state_checked, state_lost;
        /* The guard's last counted batch (a hash of its partition starts)
         * and its verdict: a batch kept and tried again in this process
         * (Redis or the producer failed) is not another attempt. */
        uint64_t guard_batch;
        bool guard_suspect;
        PipelineStats stats;
};

/* One input message of a batch. */
typedef enum { ITEM_NEW, ITEM_DONE, ITEM_DEAD } ItemState;

typedef struct {
        rd_kafka_message_t *m;
        Event ev;
        char tp[POSITIONS_TP_LEN];
        char seen[17];
        ItemState state;
} Item;

/* The commit of one household, with the storage its arrays need. */
typedef struct {
        StoreCommit c;
        json_t *doc;
        char *doc_text;
        const char **off_fields;
        int64_t *offsets;
        const char **seen;
        json_t *ledger, *timeline;
        const char **ledger_s, **timeline_s;
        size_t *applied; /* items applied in this attempt */
        size_t n_applied;
        json_t *outputs;  /* output events of this commit */
        json_t *outcomes; /* [rule, outcome, seconds] notes of its steps (outcome.h) */
        const char **out_ids, **out_vals;
        bool alert_closed; /* a removal closed the open alert without an output */
} GroupCommit;

void group_commit_done(GroupCommit *gc);
StepContext pipeline_step_context(const Pipeline *p, bool defer_candidate);

/* deadletter.c: sends it's message to the dead-letter topic and marks it
 * done once the producer took it; the position waits for the delivery
 * report. -EAGAIN when the producer cannot take it now (the caller fails
 * the batch, which is tried again: nothing is lost), -ENOMEM. */
int dead_letter(Pipeline *p, Item *it, const char *reason);
void dead_letter_delivered(Pipeline *p, const Delivery *d, bool ok, const char *error,
                           const rd_kafka_message_t *m);

/* outbox.c */
bool outbox_prepare(GroupCommit *gc, const char *household, int64_t now);
int outbox_send(Pipeline *p, const char *household, const char *id, const char *value, int64_t now,
                int64_t older_than_ms, const json_t *output);
void outbox_delivered(Pipeline *p, const Delivery *d, bool ok, const char *error,
                      const rd_kafka_message_t *m);

/* supervision.c */
void metric_count(Pipeline *p, const char *name, double v, ...);
void metric_observe(Pipeline *p, const char *name, double v);
const char *dead_letter_class(const char *reason);
int supervised_step(Pipeline *p, json_t *doc, const char *household, const Event *ev, int64_t now,
                    HouseholdEffects *fx, json_t *outputs, json_t *outcomes);
void outputs_log(Pipeline *p, const char *household, const GroupCommit *gc);
void outcomes_count(Pipeline *p, const GroupCommit *gc);
void inputs_count(Pipeline *p, const Item *items, const GroupCommit *gc);
void outputs_count(Pipeline *p, const void *payload, size_t len);
/* The counts of an output (a CloudEvent or the output it renders: "type"
 * and "data" at the top) into *c (known); 0, or -ENOMEM (*c cleared). */
int outputs_count_of(const json_t *output, OutputCounts *c);
/* What outputs_count() counts, from *c. */
void outputs_count_delivered(Pipeline *p, const OutputCounts *c);

/* After a commit: log lines and metrics, the open-alert sets, then the
 * outbox entries produced. */
void outputs_send(Pipeline *p, const char *household, GroupCommit *gc, int64_t now,
                  const char *crash_name);
