/* The pipeline object: what its parts share (pipeline_impl.h), its
 * settings, and the delivery reports routed to the part they concern. */
#include <errno.h>
#include "arena.h"
#include "pipeline_impl.h"

Pipeline *pipeline_new(const Config *cfg, Store *store, const EventDecoder *dec)
{
        Pipeline *p = calloc(1, sizeof(Pipeline));
        if (!p)
                return NULL;
        p->cfg = cfg;
        p->store = store;
        p->dec = dec;
        p->policy = lifecycle_policy(cfg);
        p->in_flight = strset_new();
        p->positions = positions_new();
        if (!p->in_flight || !p->positions)
                return pipeline_free(p);
        return p;
}

Pipeline *pipeline_free(Pipeline *p)
{
        if (!p)
                return NULL;
        positions_free(p->positions);
        strset_free(p->in_flight);
        pipeline_delivered_free(p);
        free(p);
        return NULL;
}

void pipeline_set_metrics(Pipeline *p, Metrics *m)
{
        p->metrics = m;
}

void pipeline_set_aid(Pipeline *p, AidStore *aid)
{
        p->aid = aid;
}

void pipeline_set_evaluator(Pipeline *p, PipelineEvalFn fn, StepExplainFn explain, void *userdata)
{
        p->eval = fn;
        p->explain = explain;
        p->eval_userdata = userdata;
}

void pipeline_set_policy(Pipeline *p, const Config *cfg)
{
        p->policy = lifecycle_policy(cfg);
}

void pipeline_set_clients(Pipeline *p, Producer *producer, Consumer *consumer)
{
        p->producer = producer;
        p->consumer = consumer;
}

const PipelineStats *pipeline_stats(const Pipeline *p)
{
        return &p->stats;
}

bool pipeline_state_lost(const Pipeline *p)
{
        return p->state_lost;
}

size_t pipeline_in_flight(const Pipeline *p)
{
        return strset_size(p->in_flight) + p->dlq_in_flight;
}

StepContext pipeline_step_context(const Pipeline *p, bool defer_candidate)
{
        return (StepContext){p->eval,    p->eval_userdata, p->dec,
                             &p->policy, defer_candidate,  p->explain};
}

void group_commit_done(GroupCommit *gc)
{
        arena_decref(gc->doc);
        free(gc->doc_text);
        free(gc->off_fields);
        free(gc->offsets);
        free(gc->seen);
        for (size_t i = 0; i < gc->c.n_ledger; i++)
                free((char *)gc->ledger_s[i]);
        for (size_t i = 0; i < gc->c.n_timeline; i++)
                free((char *)gc->timeline_s[i]);
        free(gc->ledger_s);
        free(gc->timeline_s);
        arena_decref(gc->ledger);
        arena_decref(gc->timeline);
        free(gc->applied);
        for (size_t i = 0; i < gc->c.n_outbox; i++)
                free((char *)gc->out_vals[i]);
        free(gc->out_ids);
        free(gc->out_vals);
        arena_decref(gc->outputs);
        arena_decref(gc->outcomes);
        *gc = (GroupCommit){0};
}

void pipeline_on_delivery(const Delivery *d, bool ok, const char *error,
                          const rd_kafka_message_t *m, void *userdata)
{
        if (d->kind == DELIVERY_DEAD_LETTER)
                dead_letter_delivered(userdata, d, ok, error, m);
        else
                outbox_delivered(userdata, d, ok, error, m);
}
