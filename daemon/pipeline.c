#include "pipeline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include "clock.h"
#include "household.h"
#include "lifecycle.h"
#include "step.h"
#include "log.h"
#include "strset.h"

#define MAX_RETRIES 5
#define TP_LEN 300
#define EVENT_CLOCK_MAX_AGE_MS (24LL * 3600 * 1000)

void crash_point(const char *name)
{
#ifdef HEARTH_TEST_HOOKS
        const char *want = getenv("HEARTH_CRASH_POINT");
        if (want && streq(want, name)) {
                log_warning("crash point %s reached: SIGKILL (test build)", name);
                raise(SIGKILL);
        }
#else
        (void)name;
#endif
}

/* Where one partition stands: processed_end is the offset after the last
 * message done; dead letters not yet confirmed hold the position back. */
typedef struct {
        char tp[TP_LEN];
        char *topic;
        int32_t partition;
        int64_t processed_end; /* -1: nothing yet */
        int64_t *dlq;          /* offsets of unconfirmed dead letters */
        size_t n_dlq, cap_dlq;
        int64_t recorded; /* last position written */
        bool assigned;
} Track;

typedef struct {
        char *household, *id;
        char *payload; /* the output, for the supervision counts */
        size_t len;
} Undeleted;

struct Pipeline {
        const Config *cfg;
        Store *store;
        const EventDecoder *dec;
        Producer *producer;
        Consumer *consumer;
        Track *tracks;
        size_t n_tracks;
        StrSet *in_flight; /* "household\nentry" of outbox entries produced */
        size_t dlq_in_flight;
        /* Delivered outputs whose outbox entry Redis could not delete (it
         * was down): kept in in_flight, so the relay does not send them
         * again, and deleted once Redis is back. */
        Undeleted *undeleted;
        size_t n_undeleted, cap_undeleted;
        PipelineEvalFn eval;
        void *eval_userdata;
        LifecyclePolicy policy;
        AidStore *aid; /* social aid offers (REQ-12); NULL: offer events are households' */
        Metrics *metrics;
        bool state_checked, state_lost;
        PipelineStats stats;
};

/* A bounded class of a dead-letter reason for the metrics label (the
 * reason itself is free text). */
static const char *reason_class(const char *reason)
{
        static const struct {
                const char *prefix, *label;
        } classes[] = {
            {"not JSON", "not_json"},  {"not a CloudEvent", "envelope"},
            {"type:", "unknown_type"}, {"key:", "key"},
            {"value:", "value"},       {"subject:", "household_id"},
            {"redis:", "redis"},       {"data.", "data"},
            {"data:", "data"},         {"header", "header"},
        };
        for (size_t i = 0; i < ELEMENTSOF(classes); i++)
                if (strncmp(reason, classes[i].prefix, strlen(classes[i].prefix)) == 0)
                        return classes[i].label;
        return "other";
}

static void metric_count(Pipeline *p, const char *name, double v, ...)
{
        if (!p->metrics)
                return;
        char labels[METRICS_MAX_LABELS_LEN];
        va_list ap;
        va_start(ap, v);
        /* pairs of label name, value, NULL-terminated */
        size_t off = 0;
        labels[0] = 0;
        for (;;) {
                const char *k = va_arg(ap, const char *);
                if (!k)
                        break;
                const char *val = va_arg(ap, const char *);
                char one[METRICS_MAX_LABELS_LEN];
                if (metrics_labels(one, sizeof(one), k, val ? val : "", NULL) < 0)
                        break;
                int n = snprintf(labels + off, sizeof(labels) - off, "%s%s", off ? "," : "", one);
                if (n < 0 || (size_t)n >= sizeof(labels) - off)
                        break;
                off += (size_t)n;
        }
        va_end(ap);
        metrics_counter_add(p->metrics, name, labels, v);
}

static void metric_observe(Pipeline *p, const char *name, double v)
{
        if (p->metrics)
                metrics_histogram_observe(p->metrics, name, NULL, v);
}

typedef enum { ITEM_NEW, ITEM_DONE, ITEM_DEAD } ItemState;

typedef struct {
        rd_kafka_message_t *m;
        Event ev;
        char tp[TP_LEN];
        char seen[17];
        ItemState state;
} Item;

typedef struct {
        const char *household;
        size_t *items; /* indexes into the batch, in arrival order */
        size_t n;
        bool retry;
} Group;

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
        if (!p->in_flight)
                return pipeline_free(p);
        return p;
}

static void undeleted_clear(Undeleted *u)
{
        free(u->household);
        free(u->id);
        free(u->payload);
        *u = (Undeleted){0};
}

Pipeline *pipeline_free(Pipeline *p)
{
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_tracks; i++) {
                free(p->tracks[i].topic);
                free(p->tracks[i].dlq);
        }
        free(p->tracks);
        strset_free(p->in_flight);
        for (size_t i = 0; i < p->n_undeleted; i++)
                undeleted_clear(&p->undeleted[i]);
        free(p->undeleted);
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

void pipeline_set_evaluator(Pipeline *p, PipelineEvalFn fn, void *userdata)
{
        p->eval = fn;
        p->eval_userdata = userdata;
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

static Track *track_get(Pipeline *p, const char *topic, int32_t partition, bool create)
{
        for (size_t i = 0; i < p->n_tracks; i++)
                if (p->tracks[i].partition == partition && streq(p->tracks[i].topic, topic))
                        return &p->tracks[i];
        if (!create)
                return NULL;
        Track *t = realloc(p->tracks, (p->n_tracks + 1) * sizeof(Track));
        if (!t)
                return NULL;
        p->tracks = t;
        t = &p->tracks[p->n_tracks];
        *t = (Track){.partition = partition, .processed_end = -1, .recorded = -1};
        t->topic = strdup(topic);
        if (!t->topic)
                return NULL;
        snprintf(t->tp, sizeof(t->tp), "%s/%d", topic, (int)partition);
        p->n_tracks++;
        return t;
}

static int64_t track_position(const Track *t)
{
        int64_t pos = t->processed_end;
        for (size_t i = 0; i < t->n_dlq; i++)
                if (t->dlq[i] < pos)
                        pos = t->dlq[i];
        return pos;
}

static void track_done(Track *t, int64_t offset)
{
        if (offset + 1 > t->processed_end)
                t->processed_end = offset + 1;
}

static int track_dlq_add(Track *t, int64_t offset)
{
        if (t->n_dlq == t->cap_dlq) {
                size_t cap = t->cap_dlq ? t->cap_dlq * 2 : 8;
                int64_t *d = realloc(t->dlq, cap * sizeof(int64_t));
                if (!d)
                        return -ENOMEM;
                t->dlq = d;
                t->cap_dlq = cap;
        }
        t->dlq[t->n_dlq++] = offset;
        return 0;
}

static void track_dlq_remove(Track *t, int64_t offset)
{
        for (size_t i = 0; i < t->n_dlq; i++)
                if (t->dlq[i] == offset) {
                        t->dlq[i] = t->dlq[--t->n_dlq];
                        return;
                }
}

/* Sends item's message to the dead-letter topic. The partition's position
 * waits for the delivery report. */
static int dead_letter(Pipeline *p, Item *it, const char *reason)
{
        rd_kafka_message_t *m = it->m;
        const char *topic = rd_kafka_topic_name(m->rkt);
        Track *t = track_get(p, topic, m->partition, true);
        Delivery *d = delivery_new(DELIVERY_DEAD_LETTER);
        if (!t || !d || !(d->topic = strdup(topic)) || !(d->reason = strdup(reason))) {
                delivery_free(d);
                return -ENOMEM;
        }
        d->partition = m->partition;
        d->offset = m->offset;
        if (track_dlq_add(t, m->offset) < 0) {
                delivery_free(d);
                return -ENOMEM;
        }
        track_done(t, m->offset);
        /* The reason names a field, never a value: no personal data. */
        log_warning("dead letter: %s/%d@%" PRId64 ": %s", topic, (int)m->partition, m->offset,
                    reason);
        int r = -ENOMEM;
        for (int tries = 0;; tries++) {
                /* The producer takes (and on failure frees) each copy. */
                Delivery *copy = delivery_new(DELIVERY_DEAD_LETTER);
                if (!copy || !(copy->topic = strdup(d->topic)) ||
                    !(copy->reason = strdup(d->reason))) {
                        delivery_free(copy);
                        r = -ENOMEM;
                        break;
                }
                copy->partition = d->partition;
                copy->offset = d->offset;
                r = producer_send_dead_letter(p->producer, m, reason, copy);
                if (r != -ENOBUFS || tries >= 100)
                        break;
                producer_poll(p->producer, 100);
        }
        delivery_free(d);
        it->state = ITEM_DEAD;
        if (r < 0) {
                track_dlq_remove(t, m->offset);
                return r;
        }
        p->dlq_in_flight++;
        p->stats.dead_letters++;
        metric_count(p, "hearth_dead_letters_total", 1, "reason", reason_class(reason), NULL);
        return 0;
}

static int cmp_household(const void *a, const void *b, void *ctx)
{
        const Item *items = ctx;
        size_t x = *(const size_t *)a, y = *(const size_t *)b;
        int c = strcmp(items[x].ev.subject, items[y].ev.subject);
        if (c)
                return c;
        return (x > y) - (x < y);
}

/* The commit of one group, with the storage its arrays need. */
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

static void group_commit_done(GroupCommit *gc)
{
        json_decref(gc->doc);
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
        json_decref(gc->ledger);
        json_decref(gc->timeline);
        free(gc->applied);
        for (size_t i = 0; i < gc->c.n_outbox; i++)
                free((char *)gc->out_vals[i]);
        free(gc->out_ids);
        free(gc->out_vals);
        json_decref(gc->outputs);
        json_decref(gc->outcomes);
        *gc = (GroupCommit){0};
}

/* The optional allow-list sources.allow: may ev's source send its type?
 * If not, writes the dead-letter reason into err. */
static bool source_allowed(const Config *cfg, const Event *ev, char *err, size_t len)
{
        const char *type = event_type_name(ev->type);
        for (size_t i = 0; i < cfg->n_sources_allow; i++) {
                if (!streq(cfg->sources_allow[i].key, type))
                        continue;
                const char *list = cfg->sources_allow[i].value;
                while (list && *list) {
                        size_t n = strcspn(list, ",");
                        while (n > 0 && list[0] == ' ') {
                                list++;
                                n--;
                        }
                        if (n > 0 && strncmp(ev->source, list, n) == 0)
                                return true;
                        list += n + (list[n] == ',');
                }
                snprintf(err, len, "source: '%.200s' may not send %s (sources.allow)", ev->source,
                         type);
                return false;
        }
        return true;
}

/* One event through the household step (step.c); the acknowledgement time
 * and refused resolutions are counted here; the rules' outcomes go to
 * outcomes, counted after the commit (outcomes_count()). Returns the
 * LIFECYCLE_* flags of the step, or household_apply()'s negative errno. */
static int household_step(Pipeline *p, json_t *doc, const char *household, const Event *ev,
                          int64_t now, HouseholdEffects *fx, json_t *outputs, json_t *outcomes)
{
        StepContext c = {p->eval, p->eval_userdata, p->dec, &p->policy, true};
        StepNotes notes;
        /* The open alert's id, for the log line of a removal that closes it
         * (an erasure at once leaves no trace of it in the document). */
        char open_alert[80] = "-";
        if (ev->type == EV_HOUSEHOLD_REMOVED)
                snprintf(open_alert, sizeof(open_alert), "%s",
                         json_string_value(json_object_get(json_object_get(doc, "alert"), "id"))
                             ?: "-");
        int r = step_event(&c, doc, household, ev, now, fx, outputs, &notes);
        if (r < 0)
                return r;
        for (size_t i = 0; i < notes.outcomes.n; i++) {
                const OutcomeNote *n = &notes.outcomes.notes[i];
                json_array_append_new(outcomes, json_pack("[s, i, I]", n->rule, (int)n->outcome,
                                                          (json_int_t)n->seconds));
        }
        if (notes.acknowledge_ms >= 0)
                metric_observe(p, "hearth_time_to_acknowledge_seconds",
                               (double)notes.acknowledge_ms / 1000.0);
        if (ev->type == EV_HOUSEHOLD_REMOVED)
                log_notice("household.removed: household %s leaves monitoring (event %s from "
                           "%s)%s%s%s",
                           household, ev->id, ev->source,
                           notes.lifecycle & LIFECYCLE_ALERT_CLOSED ? "; its open alert " : "",
                           notes.lifecycle & LIFECYCLE_ALERT_CLOSED ? open_alert : "",
                           notes.lifecycle & LIFECYCLE_ALERT_CLOSED ? " is closed" : "");
        if (notes.lifecycle & LIFECYCLE_ERASED)
                log_notice("household %s: personal data erased (retention.removed 0)", household);
        if (fx && fx->pending_dropped) {
                log_notice("household %s (not registered): %zu kept event(s) older than %d days "
                           "dropped; they count in no rule window",
                           household, fx->pending_dropped, HOUSEHOLD_PENDING_MAX_AGE_DAYS);
                fx->pending_dropped = 0;
        }
        if (notes.lifecycle & LIFECYCLE_RESOLUTION_REFUSED) {
                log_notice("alert.resolved refused: household %s alert %s: no help recorded "
                           "since the alert was raised (measure, relief, programme, resolved "
                           "need); the alert stays open",
                           household,
                           json_string_value(json_object_get(json_object_get(doc, "alert"), "id"))
                               ?: "-");
                metric_count(p, "hearth_resolutions_refused_total", 1, NULL);
        }
        return notes.lifecycle;
}

/* The clock of the transitions an input event causes: its Kafka timestamp
 * (when it entered the feed) when that lies within the last day, else now.
 * The same message processed again (after a crash, or after Redis lost its
 * last writes) then yields byte-identical output events (CONTRACT.md). */
static int64_t event_clock(const rd_kafka_message_t *m, int64_t now)
{
        rd_kafka_timestamp_type_t type;
        int64_t ts = rd_kafka_message_timestamp(m, &type);
        if (type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || ts > now ||
            now - ts > EVENT_CLOCK_MAX_AGE_MS)
                return now;
        return ts;
}

/* Turns a commit's output events into outbox entries ("<ms> <json>"). */
static bool outbox_prepare(GroupCommit *gc, const char *household, int64_t now)
{
        size_t n = json_array_size(gc->outputs);
        gc->out_ids = calloc(n + 1, sizeof(char *));
        gc->out_vals = calloc(n + 1, sizeof(char *));
        if (!gc->out_ids || !gc->out_vals)
                return false;
        for (size_t i = 0; i < n; i++) {
                json_t *o = json_array_get(gc->outputs, i);
                _cleanup_free_ char *text = lifecycle_render(o, household);
                char *v = NULL;
                if (!text || asprintf(&v, "%" PRId64 " %s", now, text) < 0)
                        return false;
                gc->out_ids[i] = json_string_value(json_object_get(o, "id"));
                gc->out_vals[i] = v;
                gc->c.n_outbox++;
        }
        gc->c.outbox_ids = gc->out_ids;
        gc->c.outbox_vals = gc->out_vals;
        return true;
}

static bool group_prepare(Pipeline *p, Item *items, Group *g, StoreRead *rd, GroupCommit *gc,
                          int64_t now)
{
        *gc = (GroupCommit){0};
        gc->outputs = json_array();
        gc->outcomes = json_array();
        gc->doc = rd->doc ? json_incref(rd->doc) : household_new();
        gc->ledger = json_array();
        gc->timeline = json_array();
        gc->off_fields = calloc(g->n, sizeof(char *));
        gc->offsets = calloc(g->n, sizeof(int64_t));
        gc->seen = calloc(g->n, sizeof(char *));
        gc->applied = calloc(g->n, sizeof(size_t));
        if (!gc->doc || !gc->ledger || !gc->timeline || !gc->off_fields || !gc->offsets ||
            !gc->seen || !gc->applied)
                return false;
        HouseholdEffects fx = {gc->ledger, gc->timeline, 0};
        for (size_t k = 0; k < g->n; k++) {
                Item *it = &items[g->items[k]];
                if (it->state != ITEM_NEW)
                        continue;
                /* Already applied: an older position was re-read, or a
                 * duplicate by source+id (in Redis or earlier in this batch). */
                bool dup = rd->applied[k] >= 0 && it->m->offset <= rd->applied[k];
                dup = dup || rd->seen_found[k];
                for (size_t j = 0; j < gc->c.n_seen && !dup; j++)
                        dup = streq(gc->seen[j], it->seen);
                if (dup) {
                        it->state = ITEM_DONE;
                        p->stats.duplicates++;
                        continue;
                }
                int r = household_step(p, gc->doc, g->household, &it->ev, event_clock(it->m, now),
                                       &fx, gc->outputs, gc->outcomes);
                if (r == -ENOSPC) {
                        dead_letter(p, it,
                                    it->ev.type == EV_NEED_REPORTED
                                        ? "data.need_id: too many open needs"
                                        : "subject: the household is not registered and the "
                                          "events kept for it reached their limit (200 events "
                                          "or 64 KiB)");
                        continue;
                }
                if (r < 0)
                        return false; /* out of memory: nothing committed, tried again */
                if (r & LIFECYCLE_ALERT_CLOSED)
                        gc->alert_closed = true;
                gc->seen[gc->c.n_seen++] = it->seen;
                gc->applied[gc->n_applied++] = g->items[k];
                /* The highest offset of each partition among applied events. */
                size_t j;
                for (j = 0; j < gc->c.n_off; j++)
                        if (streq(gc->off_fields[j], it->tp))
                                break;
                if (j == gc->c.n_off) {
                        gc->off_fields[j] = it->tp;
                        gc->c.n_off++;
                }
                if (it->m->offset > gc->offsets[j])
                        gc->offsets[j] = it->m->offset;
        }
        if (!gc->n_applied)
                return false;
        /* After the whole group: a registration among its events counts. */
        StepContext sc = {p->eval, p->eval_userdata, p->dec, &p->policy, true};
        step_candidate(&sc, gc->doc, g->household,
                       event_clock(items[gc->applied[gc->n_applied - 1]].m, now), gc->outputs);
        if (!outbox_prepare(gc, g->household, now))
                return false;
        gc->c.timer_due = lifecycle_next_due(gc->doc);
        gc->c.erase = household_erased(gc->doc);
        gc->doc_text = household_dump(gc->doc);
        gc->ledger_s = calloc(json_array_size(gc->ledger) + 1, sizeof(char *));
        gc->timeline_s = calloc(json_array_size(gc->timeline) + 1, sizeof(char *));
        if (!gc->doc_text || !gc->ledger_s || !gc->timeline_s)
                return false;
        size_t i;
        json_t *e;
        json_array_foreach (gc->ledger, i, e)
                gc->ledger_s[gc->c.n_ledger++] = json_dumps(e, JSON_COMPACT);
        json_array_foreach (gc->timeline, i, e)
                gc->timeline_s[gc->c.n_timeline++] = json_dumps(e, JSON_COMPACT);
        gc->c.household = g->household;
        gc->c.expected_version = rd->version;
        gc->c.doc = gc->doc_text;
        gc->c.off_fields = gc->off_fields;
        gc->c.offsets = gc->offsets;
        gc->c.seen = gc->seen;
        gc->c.ledger = gc->ledger_s;
        gc->c.timeline = gc->timeline_s;
        return true;
}

static int send_entry(Pipeline *p, const char *household, const char *id, const char *value,
                      int64_t now, int64_t older_than_ms);

static int output_type_index(const char *type)
{
        static const char *const types[] = {"risk.alert.raised",
                                            "risk.alert.changed",
                                            "risk.alert.reminder",
                                            "risk.alert.escalated",
                                            "risk.eliminated",
                                            "visit.overdue",
                                            "household.monitoring.started",
                                            "household.monitoring.ended",
                                            "household.candidate.identified"};
        for (int i = 0; i < (int)ELEMENTSOF(types); i++)
                if (streq(types[i], type))
                        return i;
        return 0;
}

/* After a commit: one log line per transition (ids and codes only, never
 * personal data), then produce the outbox entries. */
static void outputs_send(Pipeline *p, const char *household, GroupCommit *gc, int64_t now,
                         const char *crash_name)
{
        size_t i;
        json_t *o;
        json_array_foreach (gc->outputs, i, o) {
                const char *type = json_string_value(json_object_get(o, "type"));
                const json_t *data = json_object_get(o, "data");
                char rules[512] = "";
                size_t off = 0, j;
                json_t *r;
                json_array_foreach (json_object_get(data, "reasons"), j, r) {
                        int n = snprintf(rules + off, sizeof(rules) - off, "%s%s", j ? "," : "",
                                         json_string_value(json_object_get(r, "rule")));
                        if (n < 0 || (size_t)n >= sizeof(rules) - off)
                                break;
                        off += (size_t)n;
                }
                const char *code = json_string_value(json_object_get(data, "code"));
                log_notice("%s: household %s alert %s code %s%s%s", type, household,
                           json_string_value(json_object_get(data, "alert_id")) ?: "-",
                           code ? code : "-", *rules ? " rules " : "", rules);
                p->stats.outputs_by_type[output_type_index(type)]++;
                const char *colour =
                    code ? code : json_string_value(json_object_get(data, "previous_code"));
                metric_count(p, "hearth_alerts_total", 1, "type", type, "code",
                             colour ? colour : "", "town",
                             json_string_value(json_object_get(data, "town")), NULL);
                const json_t *open_for = json_object_get(data, "open_for");
                if (json_is_integer(open_for))
                        metric_observe(p, "hearth_time_to_eliminate_seconds",
                                       (double)json_integer_value(open_for));
        }
        /* Open alerts by colour, idempotent, for STATUS= and the metrics
         * (a removal closes its alert without an output). */
        if (json_array_size(gc->outputs) || gc->alert_closed) {
                const json_t *alert = json_object_get(gc->doc, "alert");
                store_open_alert_set(p->store, household,
                                     json_string_value(json_object_get(alert, "code")));
        }
        crash_point(crash_name);
        for (size_t k = 0; k < gc->c.n_outbox; k++)
                if (send_entry(p, household, gc->out_ids[k], gc->out_vals[k], now, 0) < 0)
                        log_warning("kafka: cannot produce alert %s now; the outbox keeps it",
                                    gc->out_ids[k]);
}

/* Rule quality (outcome.h) of a committed group: the metric and the hash
 * <p>:rule_outcomes. After the commit, like the supervision figures: a
 * crash in between undercounts, a redelivered event (deduplicated) never
 * counts twice. */
static void outcomes_count(Pipeline *p, const GroupCommit *gc)
{
        size_t n = json_array_size(gc->outcomes);
        if (!n)
                return;
        char(*fields)[OUTCOME_FIELD] = calloc(4 * n, OUTCOME_FIELD);
        const char **names = calloc(4 * n, sizeof(char *));
        int64_t *by = calloc(4 * n, sizeof(int64_t));
        size_t k = 0, i;
        json_t *e;
        if (!fields || !names || !by)
                goto out;
        json_array_foreach (gc->outcomes, i, e) {
                OutcomeNote note = {.outcome = (Outcome)json_integer_value(json_array_get(e, 1)),
                                    .seconds = json_integer_value(json_array_get(e, 2))};
                snprintf(note.rule, sizeof(note.rule), "%s",
                         json_string_value(json_array_get(e, 0)));
                metric_count(p, "hearth_rule_outcomes_total", 1, "rule", note.rule, "outcome",
                             outcome_name(note.outcome), NULL);
                k += outcome_fields(&note, fields + k, by + k, 4 * n - k);
        }
        for (size_t j = 0; j < k; j++)
                names[j] = fields[j];
        if (store_outcomes_incr(p->store, names, by, k) < 0)
                log_ratelimited(LOG_WARNING, "redis: rule outcome counters not written: %s",
                                store_errstr(p->store));
out:
        free(fields);
        free(names);
        free(by);
}

/* Supervision figures (REQ-14) of inputs: acknowledgements (with the time
 * from raise to acknowledgement) and satisfaction scores. Counted after the
 * commit: a crash in between undercounts by one, never double counts
 * money or alerts. */
static void supervision_count(Pipeline *p, const Item *items, const GroupCommit *gc)
{
        for (size_t k = 0; k < gc->n_applied; k++) {
                const Event *ev = &items[gc->applied[k]].ev;
                if (ev->type == EV_SATISFACTION_RATED) {
                        char f[32];
                        snprintf(f, sizeof(f), "satisfaction:%d", (int)event_int(ev, "score"));
                        const char *fields[1] = {f};
                        store_stats_incr(p->store, fields, 1, 1);
                } else if (ev->type == EV_ALERT_ACKNOWLEDGED) {
                        const json_t *alert = json_object_get(gc->doc, "alert");
                        const json_t *ack = json_object_get(alert, "acknowledged_ms");
                        if (!ack || !streq_ptr(json_string_value(json_object_get(alert, "id")),
                                               event_str(ev, "alert_id")))
                                continue;
                        const char *n[1] = {"acknowledged"}, *sum[1] = {"ack_seconds_sum"};
                        store_stats_incr(p->store, n, 1, 1);
                        store_stats_incr(p->store, sum, 1,
                                         (json_integer_value(ack) -
                                          json_integer_value(json_object_get(alert, "raised_ms"))) /
                                             1000);
                }
        }
}

/* Reads, applies and commits the groups marked for work; sets retry on
 * those that lost a race. Returns -EIO/-ESTALE from Redis. */
static int process_groups(Pipeline *p, Item *items, Group *groups, size_t n_groups, int64_t now)
{
        StoreRead *reads = calloc(n_groups, sizeof(StoreRead));
        GroupCommit *gcs = calloc(n_groups, sizeof(GroupCommit));
        StoreCommit *commits = calloc(n_groups, sizeof(StoreCommit));
        size_t *commit_group = calloc(n_groups, sizeof(size_t));
        size_t *work = calloc(n_groups, sizeof(size_t));
        int ret = -ENOMEM;
        size_t n_work = 0, n_commits = 0;
        if (!reads || !gcs || !commits || !commit_group || !work)
                goto out;
        for (size_t i = 0; i < n_groups; i++) {
                Group *g = &groups[i];
                if (!g->retry)
                        continue;
                g->retry = false;
                StoreRead *r = &reads[n_work];
                r->household = g->household;
                r->tps = calloc(g->n, sizeof(char *));
                r->seen = calloc(g->n, sizeof(char *));
                r->applied = calloc(g->n, sizeof(int64_t));
                r->seen_found = calloc(g->n, sizeof(bool));
                if (!r->tps || !r->seen || !r->applied || !r->seen_found) {
                        n_work++;
                        goto out;
                }
                for (size_t k = 0; k < g->n; k++) {
                        r->tps[k] = items[g->items[k]].tp;
                        r->seen[k] = items[g->items[k]].seen;
                }
                r->n_tps = r->n_seen = g->n;
                work[n_work++] = i;
        }
        if (!n_work) {
                ret = 0;
                goto out;
        }
        int64_t t0 = clock_mono_us();
        ret = store_read(p->store, reads, n_work);
        metric_observe(p, "hearth_redis_roundtrip_seconds", (double)(clock_mono_us() - t0) / 1e6);
        if (ret < 0)
                goto out;
        for (size_t w = 0; w < n_work; w++) {
                Group *g = &groups[work[w]];
                if (reads[w].err) {
                        /* A key of the wrong type or a broken document: this
                         * household's events cannot be applied; others flow. */
                        for (size_t k = 0; k < g->n; k++)
                                if (items[g->items[k]].state == ITEM_NEW)
                                        dead_letter(p, &items[g->items[k]], reads[w].errmsg);
                        continue;
                }
                if (group_prepare(p, items, g, &reads[w], &gcs[w], now)) {
                        commits[n_commits] = gcs[w].c;
                        /* Sent now: Redis runs it while the next household
                         * is prepared (perf: a strict read-prepare-commit
                         * sequence left Redis idle half of each batch). */
                        store_commit_send(p->store, &commits[n_commits], now);
                        commit_group[n_commits++] = w;
                }
        }
        if (n_commits) {
                int64_t t1 = clock_mono_us();
                ret = store_commit_wait(p->store, commits, n_commits);
                metric_observe(p, "hearth_redis_roundtrip_seconds",
                               (double)(clock_mono_us() - t1) / 1e6);
                if (ret < 0)
                        goto out;
                crash_point("after_commit");
        }
        for (size_t c = 0; c < n_commits; c++) {
                size_t w = commit_group[c];
                Group *g = &groups[work[w]];
                GroupCommit *gc = &gcs[w];
                switch (commits[c].result) {
                case 0:
                        p->stats.commits++;
                        for (size_t k = 0; k < gc->n_applied; k++) {
                                items[gc->applied[k]].state = ITEM_DONE;
                                p->stats.applied++;
                        }
                        outputs_send(p, g->household, gc, now, "before_produce");
                        supervision_count(p, items, gc);
                        outcomes_count(p, gc);
                        break;
                case -ESTALE:
                case -EALREADY:
                case -ENOEXEC:
                        /* Someone changed the household meanwhile (another
                         * instance, a zombie) or the script was flushed:
                         * read again and redo; the checks make it safe. */
                        p->stats.conflicts++;
                        g->retry = true;
                        if (commits[c].result == -ENOEXEC)
                                log_ratelimited(LOG_NOTICE,
                                                "redis: the commit script was flushed (NOSCRIPT); "
                                                "reloaded it, retrying the commit");
                        break;
                default:
                        for (size_t k = 0; k < gc->n_applied; k++)
                                dead_letter(p, &items[gc->applied[k]], commits[c].errmsg);
                        break;
                }
        }
        ret = 0;
out:
        for (size_t w = 0; w < n_work; w++) {
                json_decref(reads[w].doc);
                free(reads[w].tps);
                free(reads[w].seen);
                free(reads[w].applied);
                free(reads[w].seen_found);
                group_commit_done(&gcs[w]);
        }
        free(reads);
        free(gcs);
        free(commits);
        free(commit_group);
        free(work);
        return ret;
}

/* The message's headers (borrowed from it) into hdrs, at most max of them.
 * Why max: a message with more headers than the decoder allows needs only
 * one more than the limit to be refused. */
static size_t message_headers(rd_kafka_message_t *m, EventHeader *hdrs, size_t max)
{
        rd_kafka_headers_t *h;
        if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR)
                return 0;
        size_t n = 0;
        const char *name;
        const void *value;
        size_t len;
        while (n < max &&
               rd_kafka_header_get_all(h, n, &name, &value, &len) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                hdrs[n++] = (EventHeader){name, value, value ? len : 0};
        }
        return n;
}

int pipeline_process(Pipeline *p, rd_kafka_message_t **msgs, size_t n, int64_t now_ms)
{
        int64_t started = clock_mono_us();
        if (p->state_lost)
                return -ESTALE;
        Item *items = calloc(n ? n : 1, sizeof(Item));
        size_t *order = calloc(n ? n : 1, sizeof(size_t));
        Group *groups = calloc(n ? n : 1, sizeof(Group));
        size_t n_valid = 0, n_groups = 0;
        int ret = -ENOMEM;
        if (!items || !order || !groups)
                goto out;

        for (size_t i = 0; i < n; i++) {
                Item *it = &items[i];
                char err[512];
                it->m = msgs[i];
                snprintf(it->tp, sizeof(it->tp), "%s/%d", rd_kafka_topic_name(msgs[i]->rkt),
                         (int)msgs[i]->partition);
                if (!track_get(p, rd_kafka_topic_name(msgs[i]->rkt), msgs[i]->partition, true))
                        goto out;
                EventHeader hdrs[EVENT_MAX_HEADERS + 1];
                EventMessage em = {.key = msgs[i]->key,
                                   .keylen = msgs[i]->key_len,
                                   .headers = hdrs,
                                   .n_headers = message_headers(msgs[i], hdrs, ELEMENTSOF(hdrs)),
                                   .value = msgs[i]->payload,
                                   .len = msgs[i]->len};
                if (event_decode_message(p->dec, &em, &it->ev, err, sizeof(err)) < 0 ||
                    !source_allowed(p->cfg, &it->ev, err, sizeof(err))) {
                        if ((ret = dead_letter(p, it, err)) < 0)
                                goto out;
                        continue;
                }
#ifdef HEARTH_TEST_HOOKS
                /* Test builds: a poison message that kills hearthd. */
                const char *poison = getenv("HEARTH_CRASH_SUBJECT");
                if (poison && streq(poison, it->ev.subject)) {
                        log_warning("crash subject %s reached: SIGKILL (test build)", poison);
                        raise(SIGKILL);
                }
#endif
                if (p->aid && aidstore_handles(&it->ev)) {
                        /* An aid offer is no household: aidstore.c applies it once. */
                        int r = aidstore_offer_apply(p->aid, &it->ev, now_ms, err, sizeof(err));
                        if (r == -EIO || (r < 0 && (ret = dead_letter(p, it, err)) < 0)) {
                                ret = -EIO;
                                goto out;
                        }
                        it->state = r < 0 ? it->state : ITEM_DONE;
                        continue;
                }
                snprintf(it->seen, sizeof(it->seen), "%016" PRIx64,
                         event_dedup_hash(it->ev.source, it->ev.id));
                order[n_valid++] = i;
        }
        qsort_r(order, n_valid, sizeof(size_t), cmp_household, items);
        for (size_t k = 0; k < n_valid; k++) {
                const char *h = items[order[k]].ev.subject;
                if (!n_groups || !streq(groups[n_groups - 1].household, h)) {
                        groups[n_groups++] =
                            (Group){.household = h, .items = &order[k], .retry = true};
                }
                groups[n_groups - 1].n++;
        }

        for (int attempt = 0;; attempt++) {
                ret = process_groups(p, items, groups, n_groups, now_ms);
                if (ret < 0)
                        goto out;
                bool again = false;
                for (size_t g = 0; g < n_groups; g++)
                        again = again || groups[g].retry;
                if (!again)
                        break;
                if (attempt >= MAX_RETRIES) {
                        /* Persistent races: treat like a Redis failure, the
                         * caller retries the batch later. */
                        ret = -EIO;
                        goto out;
                }
        }

        for (size_t i = 0; i < n; i++) {
                if (items[i].state == ITEM_NEW) {
                        ret = -EIO; /* cannot happen: every item ends done or dead */
                        goto out;
                }
                if (items[i].state == ITEM_DONE) {
                        Track *t = track_get(p, rd_kafka_topic_name(msgs[i]->rkt),
                                             msgs[i]->partition, false);
                        if (t)
                                track_done(t, msgs[i]->offset);
                        metric_count(p, "hearth_events_total", 1, "topic",
                                     rd_kafka_topic_name(msgs[i]->rkt), "type",
                                     event_type_name(items[i].ev.type), NULL);
                }
        }
        double secs = (double)(clock_mono_us() - started) / 1e6;
        for (size_t i = 0; i < n; i++)
                metric_observe(p, "hearth_event_processing_seconds", secs);
        p->stats.consumed += n;
        ret = 0;
out:
        for (size_t i = 0; items && i < n; i++)
                event_done(&items[i].ev);
        free(items);
        free(order);
        free(groups);
        return ret;
}

int pipeline_process_guarded(Pipeline *p, rd_kafka_message_t **msgs, size_t n, int64_t now_ms)
{
        if (n == 0)
                return 0;
        /* The first message of each partition in the batch (on the heap:
         * batches may be large). */
        _cleanup_free_ const char **tps = calloc(n, sizeof(char *));
        _cleanup_free_ const char **singles = calloc(n, sizeof(char *));
        _cleanup_free_ char(*names)[TP_LEN] = calloc(n, TP_LEN);
        _cleanup_free_ char(*single)[TP_LEN] = calloc(n, TP_LEN);
        _cleanup_free_ int64_t *offs = calloc(n, sizeof(int64_t));
        _cleanup_free_ int64_t *counts = calloc(n, sizeof(int64_t));
        _cleanup_free_ int64_t *alone = calloc(n, sizeof(int64_t));
        if (!tps || !singles || !names || !single || !offs || !counts || !alone)
                return -ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                char tp[TP_LEN];
                snprintf(tp, sizeof(tp), "%s/%d", rd_kafka_topic_name(msgs[i]->rkt),
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
        int r = store_attempts(p->store, tps, offs, k, counts);
        if (r < 0)
                return -EIO;
        bool suspect = false;
        for (size_t j = 0; j < k; j++)
                suspect = suspect || counts[j] > 1;
        /* A batch that starts at a message hearthd already died on alone
         * stays in the careful mode. */
        for (size_t j = 0; j < k; j++) {
                snprintf(single[j], TP_LEN, "1:%s", names[j]);
                singles[j] = single[j];
        }
        if (!suspect && store_attempts_peek(p->store, singles, offs, k, alone) == 0)
                for (size_t j = 0; j < k; j++)
                        suspect = suspect || alone[j] > 0;
        if (!suspect)
                return pipeline_process(p, msgs, n, now_ms);

        /* hearthd died during this batch before: one message at a time, each
         * counted, positions recorded after each, so that the next restart
         * starts at the message that killed it. */
        log_warning("a batch starting at an offset hearthd died on before: processing it "
                    "one message at a time");
        for (size_t i = 0; i < n; i++) {
                /* Deaths with the message alone count apart ("1:" fields):
                 * a kill from outside during a batch only brings on this
                 * careful mode; it takes deaths while this very message was
                 * processed alone to condemn it. */
                char tp[TP_LEN];
                const char *one[1] = {tp};
                int64_t off = msgs[i]->offset, count;
                snprintf(tp, sizeof(tp), "1:%s/%d", rd_kafka_topic_name(msgs[i]->rkt),
                         (int)msgs[i]->partition);
                if (store_attempts(p->store, one, &off, 1, &count) < 0)
                        return -EIO;
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
                if ((r = pipeline_flush_positions(p)) < 0)
                        return -EIO;
        }
        return 0;
}

int pipeline_resync(Pipeline *p)
{
        if (!p->consumer || !p->n_tracks)
                return 0;
        _cleanup_free_ const char **tps = calloc(p->n_tracks, sizeof(char *));
        _cleanup_free_ int64_t *pos = calloc(p->n_tracks, sizeof(int64_t));
        _cleanup_free_ Track **which = calloc(p->n_tracks, sizeof(Track *));
        if (!tps || !pos || !which)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < p->n_tracks; i++)
                if (p->tracks[i].assigned) {
                        which[n] = &p->tracks[i];
                        tps[n++] = p->tracks[i].tp;
                }
        if (!n)
                return 0;
        if (store_positions_get(p->store, tps, n, pos) < 0)
                return -EIO;
        rd_kafka_topic_partition_list_t *seek = rd_kafka_topic_partition_list_new((int)n);
        for (size_t i = 0; i < n; i++) {
                Track *t = which[i];
                int64_t mine = t->recorded > t->processed_end ? t->recorded : t->processed_end;
                if (mine < 0 || pos[i] >= mine)
                        continue;
                int64_t at = pos[i] >= 0 ? pos[i] : RD_KAFKA_OFFSET_BEGINNING;
                log_warning("redis lost writes of %s (its position %" PRId64 ", ours %" PRId64
                            "): reading again from there",
                            t->tp, pos[i], mine);
                rd_kafka_topic_partition_list_add(seek, t->topic, t->partition)->offset = at;
                t->processed_end = -1;
                t->n_dlq = 0;
                t->recorded = pos[i];
        }
        int ret = 0;
        if (seek->cnt) {
                rd_kafka_error_t *e =
                    rd_kafka_seek_partitions(consumer_handle(p->consumer), seek, 10000);
                if (e) {
                        log_error("kafka: seek failed: %s", rd_kafka_error_string(e));
                        rd_kafka_error_destroy(e);
                        ret = -EIO;
                } else
                        ret = 1;
        }
        rd_kafka_topic_partition_list_destroy(seek);
        return ret;
}

int pipeline_flush_positions(Pipeline *p)
{
        const char *tps[p->n_tracks ? p->n_tracks : 1];
        int64_t pos[p->n_tracks ? p->n_tracks : 1];
        Track *moved[p->n_tracks ? p->n_tracks : 1];
        size_t n = 0;
        for (size_t i = 0; i < p->n_tracks; i++) {
                Track *t = &p->tracks[i];
                int64_t at = track_position(t);
                if (at < 0 || at == t->recorded)
                        continue;
                tps[n] = t->tp;
                pos[n] = at;
                moved[n++] = t;
        }
        if (!n)
                return 0;
        crash_point("before_positions");
        int r = store_positions_set(p->store, tps, pos, n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                moved[i]->recorded = pos[i];
                if (p->consumer)
                        consumer_store(p->consumer, moved[i]->topic, moved[i]->partition, pos[i]);
        }
        crash_point("after_positions");
        return 0;
}

static void stats_count(Pipeline *p, const void *payload, size_t len);

/* Remembers a delivered output whose outbox entry is still to delete. */
static int undeleted_keep(Pipeline *p, const char *household, const char *id, const void *payload,
                          size_t len)
{
        if (p->n_undeleted == p->cap_undeleted) {
                size_t cap = p->cap_undeleted ? 2 * p->cap_undeleted : 16;
                Undeleted *u = realloc(p->undeleted, cap * sizeof(Undeleted));
                if (!u)
                        return -ENOMEM;
                p->undeleted = u;
                p->cap_undeleted = cap;
        }
        Undeleted u = {strdup(household), strdup(id), malloc(len ? len : 1), len};
        if (!u.household || !u.id || !u.payload) {
                undeleted_clear(&u);
                return -ENOMEM;
        }
        memcpy(u.payload, payload, len);
        p->undeleted[p->n_undeleted++] = u;
        return 0;
}

void pipeline_on_delivery(const Delivery *d, bool ok, const char *error,
                          const rd_kafka_message_t *m, void *userdata)
{
        Pipeline *p = userdata;
        if (d->kind == DELIVERY_DEAD_LETTER) {
                Track *t = track_get(p, d->topic, d->partition, false);
                if (ok) {
                        if (p->dlq_in_flight)
                                p->dlq_in_flight--;
                        if (t)
                                track_dlq_remove(t, d->offset);
                        return;
                }
                /* Not persisted: send it again; the position keeps waiting. */
                log_warning("dead letter of %s/%d@%" PRId64 " not delivered (%s), retrying",
                            d->topic, (int)d->partition, d->offset, error);
                Delivery *again = delivery_new(DELIVERY_DEAD_LETTER);
                if (again) {
                        again->topic = strdup(d->topic);
                        again->reason = strdup(d->reason);
                        again->partition = d->partition;
                        again->offset = d->offset;
                }
                if (!again || !again->topic || !again->reason ||
                    producer_resend_dead_letter(p->producer, m, again) < 0) {
                        if (again && (!again->topic || !again->reason))
                                delivery_free(again);
                        /* Give up on this copy: the position never passes it,
                         * so after a restart the message is read again. */
                        if (p->dlq_in_flight)
                                p->dlq_in_flight--;
                }
                return;
        }
        char key[400];
        snprintf(key, sizeof(key), "%s\n%s", d->household, d->entry_id);
        strset_remove(p->in_flight, key);
        if (!ok) {
                log_warning("alert %s of household %s not delivered (%s); the outbox keeps it",
                            d->entry_id, d->household, error);
                return;
        }
        p->stats.outputs_delivered++;
        crash_point("after_delivery");
        /* Redis may be down, or busy with pipelined commits when a producer
         * poll serves this report in the middle of a batch: then the entry
         * is deleted later, and stays in flight so the relay skips it. */
        int r = store_outbox_delete(p->store, d->household, d->entry_id);
        if (r == 1)
                stats_count(p, m->payload, m->len);
        if (r >= 0)
                return;
        if (undeleted_keep(p, d->household, d->entry_id, m->payload, m->len) == 0 &&
            strset_add(p->in_flight, key) == 0) {
                log_notice("redis: delivered outbox entry %s not deleted yet (%s); deleted "
                           "later",
                           d->entry_id, store_errstr(p->store));
                return;
        }
        log_warning("redis: cannot delete delivered outbox entry %s (%s); it may be sent "
                    "again with the same id",
                    d->entry_id, store_errstr(p->store));
}

int pipeline_retry_deletes(Pipeline *p)
{
        if (!p->n_undeleted)
                return 0;
        size_t done = 0;
        int ret = 0;
        for (; done < p->n_undeleted; done++) {
                Undeleted *u = &p->undeleted[done];
                int r = store_outbox_delete(p->store, u->household, u->id);
                if (r < 0) {
                        ret = r;
                        break;
                }
                if (r == 1)
                        stats_count(p, u->payload, u->len);
                char key[400];
                snprintf(key, sizeof(key), "%s\n%s", u->household, u->id);
                strset_remove(p->in_flight, key);
                undeleted_clear(u);
        }
        memmove(p->undeleted, p->undeleted + done, (p->n_undeleted - done) * sizeof(Undeleted));
        p->n_undeleted -= done;
        return ret;
}

/* Supervision figures (REQ-14), counted once per output: only the delivery
 * that deleted the outbox entry counts it. */
static void stats_count(Pipeline *p, const void *payload, size_t len)
{
        json_t *ce = json_loadb(payload, len, 0, NULL);
        const char *type = json_string_value(json_object_get(ce, "type"));
        const json_t *data = json_object_get(ce, "data");
        const char *code = json_string_value(json_object_get(data, "code"));
        const char *prev = json_string_value(json_object_get(data, "previous_code"));
        const char *town = json_string_value(json_object_get(data, "town"));
        if (!type) {
                json_decref(ce);
                return;
        }
        char f[3][300];
        const char *fields[3];
        size_t n = 0;
        const char *colour = code ? code : prev ? prev : "-";
        snprintf(f[n], sizeof(f[n]), "%s:%s", type, colour);
        fields[n] = f[n];
        n++;
        if (town && *town) {
                snprintf(f[n], sizeof(f[n]), "%s:%s:%s", type, colour, town);
                fields[n] = f[n];
                n++;
        }
        store_stats_incr(p->store, fields, n, 1);
        const json_t *open_for = json_object_get(data, "open_for");
        if (json_is_integer(open_for)) {
                const char *sum[1] = {"eliminate_seconds_sum"};
                store_stats_incr(p->store, sum, 1, json_integer_value(open_for));
        }
        json_decref(ce);
}

/* Produces one outbox entry ("<ms> <json>") unless it is in flight. */
static int send_entry(Pipeline *p, const char *household, const char *id, const char *value,
                      int64_t now, int64_t older_than_ms)
{
        char key[400];
        snprintf(key, sizeof(key), "%s\n%s", household, id);
        if (strset_contains(p->in_flight, key))
                return 0;
        char *end;
        long long written = strtoll(value, &end, 10);
        if (*end != ' ')
                return -EINVAL;
        if (now - written < older_than_ms)
                return 0;
        Delivery *d = delivery_new(DELIVERY_OUTBOX);
        if (!d || !(d->household = strdup(household)) || !(d->entry_id = strdup(id))) {
                delivery_free(d);
                return -ENOMEM;
        }
        int r = producer_send_alert(p->producer, household, end + 1, strlen(end + 1), d);
        if (r == 0)
                strset_add(p->in_flight, key);
        return r;
}

/* Households whose outboxes the relay reads per Redis round trip. */
#define RELAY_CHUNK 256

int pipeline_relay(Pipeline *p, int64_t now_ms, int64_t older_than_ms)
{
        json_t *list = store_pending_list(p->store);
        if (!list)
                return -EIO;
        /* Pipelined in chunks: one command and round trip per listed
         * household stalled the pipeline for half a second every relay
         * interval once a few thousand households had outputs (perf). */
        int ret = 0;
        size_t n = json_array_size(list);
        const char *hh[RELAY_CHUNK], *empty[RELAY_CHUNK];
        for (size_t at = 0; at < n && ret == 0; at += RELAY_CHUNK) {
                size_t m = n - at < RELAY_CHUNK ? n - at : RELAY_CHUNK, n_empty = 0;
                for (size_t i = 0; i < m; i++)
                        hh[i] = json_string_value(json_array_get(list, at + i));
                json_t *all = store_outbox_get_many(p->store, hh, m);
                if (!all) {
                        ret = -EIO;
                        break;
                }
                for (size_t i = 0; i < m; i++) {
                        json_t *entries = json_array_get(all, i);
                        if (!json_is_object(entries))
                                continue; /* not a hash: left alone */
                        if (json_object_size(entries) == 0) {
                                empty[n_empty++] = hh[i];
                                continue;
                        }
                        const char *id;
                        json_t *v;
                        json_object_foreach (entries, id, v) {
                                size_t before = strset_size(p->in_flight);
                                if (send_entry(p, hh[i], id, json_string_value(v), now_ms,
                                               older_than_ms) == 0 &&
                                    strset_size(p->in_flight) > before)
                                        p->stats.outputs_resent++;
                        }
                }
                json_decref(all);
                if (store_pending_prune_many(p->store, empty, n_empty) < 0)
                        ret = -EIO;
        }
        json_decref(list);
        return ret;
}

int pipeline_on_assigned(rd_kafka_topic_partition_list_t *parts, void *userdata)
{
        Pipeline *p = userdata;
        if (parts->cnt == 0)
                return 0;
        const char *tps[parts->cnt];
        char names[parts->cnt][TP_LEN];
        int64_t pos[parts->cnt];
        for (int i = 0; i < parts->cnt; i++) {
                snprintf(names[i], TP_LEN, "%s/%d", parts->elems[i].topic,
                         (int)parts->elems[i].partition);
                tps[i] = names[i];
        }
        if (store_fresh(p->store) && p->consumer && !p->state_checked) {
                /* Redis had no hearth state at start. If the group has
                 * committed offsets, hearth ran before and Redis lost its
                 * state (FLUSHALL, a wrong or empty instance): going on would
                 * judge households on an empty state. Stop instead. */
                p->state_checked = true;
                rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(parts);
                if (rd_kafka_committed(consumer_handle(p->consumer), c, 10000) ==
                    RD_KAFKA_RESP_ERR_NO_ERROR) {
                        for (int i = 0; i < c->cnt; i++)
                                if (c->elems[i].offset > 0)
                                        p->state_lost = true;
                }
                rd_kafka_topic_partition_list_destroy(c);
                if (p->state_lost) {
                        log_error("redis holds no hearth state but consumer group %s has "
                                  "committed offsets: the state was lost; stopping (restore Redis, "
                                  "or reset the group's offsets to rebuild from the topics)",
                                  p->cfg->kafka_group);
                        return -ESTALE;
                }
        }
        int r = store_positions_get(p->store, tps, (size_t)parts->cnt, pos);
        if (r < 0) {
                log_warning("redis: cannot read positions (%s); starting from Kafka's "
                            "committed offsets, which is safe (re-reading is harmless)",
                            store_errstr(p->store));
                return r;
        }
        for (int i = 0; i < parts->cnt; i++) {
                Track *t = track_get(p, parts->elems[i].topic, parts->elems[i].partition, true);
                if (t) {
                        t->assigned = true;
                        t->processed_end = -1;
                        t->n_dlq = 0;
                        t->recorded = pos[i];
                }
                if (pos[i] >= 0)
                        parts->elems[i].offset = pos[i];
        }
        return 0;
}

void pipeline_on_revoked(const rd_kafka_topic_partition_list_t *parts, void *userdata)
{
        Pipeline *p = userdata;
        crash_point("in_revoke");
        /* Let dead letters in flight land so the positions can pass them. */
        if (p->producer && producer_flush(p->producer, 10000) < 0)
                log_warning("kafka: deliveries still pending at revoke; those partitions will "
                            "be read again from their last position (harmless)");
        if (pipeline_flush_positions(p) < 0)
                log_warning("redis: cannot record positions at revoke (%s); the new owner "
                            "re-reads a little (harmless)",
                            store_errstr(p->store));
        for (int i = 0; i < parts->cnt; i++) {
                Track *t = track_get(p, parts->elems[i].topic, parts->elems[i].partition, false);
                if (t) {
                        t->assigned = false;
                        t->processed_end = -1;
                        t->n_dlq = 0;
                }
        }
}

int pipeline_timers(Pipeline *p, int64_t now_ms, size_t max)
{
        json_t *due = store_timers_due(p->store, now_ms, max);
        if (!due)
                return -EIO;
        size_t n = json_array_size(due);
        int ret = 0;
        StoreRead *reads = calloc(n ? n : 1, sizeof(StoreRead));
        GroupCommit *gcs = calloc(n ? n : 1, sizeof(GroupCommit));
        StoreCommit *commits = calloc(n ? n : 1, sizeof(StoreCommit));
        size_t *which = calloc(n ? n : 1, sizeof(size_t));
        size_t n_commits = 0;
        if (!reads || !gcs || !commits || !which) {
                ret = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n; i++)
                reads[i].household = json_string_value(json_array_get(due, i));
        if (n && (ret = store_read(p->store, reads, n)) < 0)
                goto out;
        for (size_t i = 0; i < n; i++) {
                const char *h = reads[i].household;
                if (reads[i].err || !reads[i].doc) {
                        store_timer_set(p->store, h, 0);
                        continue;
                }
                GroupCommit *gc = &gcs[i];
                gc->doc = json_incref(reads[i].doc);
                gc->outputs = json_array();
                bool erased = household_erased(gc->doc);
                int fired = lifecycle_timers(gc->doc, h, now_ms, &p->policy, gc->outputs);
                int matched =
                    p->aid ? aidstore_household(p->aid, gc->doc, h, now_ms, gc->outputs) : 0;
                if (matched < 0) {
                        ret = matched;
                        goto out;
                }
                fired += matched;
                if (!erased && household_erased(gc->doc)) {
                        log_notice("household %s: personal data erased after retention.removed", h);
                        fired++;
                }
                if (!household_registered(gc->doc)) {
                        StepContext sc = {p->eval, p->eval_userdata, p->dec, &p->policy, true};
                        fired += step_candidate(&sc, gc->doc, h, now_ms, gc->outputs);
                }
                int64_t next = lifecycle_next_due(gc->doc);
                if (fired == 0) {
                        /* A stale hint: put the real due time back. */
                        store_timer_set(p->store, h, next);
                        continue;
                }
                gc->doc_text = household_dump(gc->doc);
                if (!gc->doc_text || !outbox_prepare(gc, h, now_ms)) {
                        ret = -ENOMEM;
                        goto out;
                }
                gc->c.household = h;
                gc->c.expected_version = reads[i].version;
                gc->c.doc = gc->doc_text;
                gc->c.timer_due = next;
                gc->c.erase = household_erased(gc->doc);
                commits[n_commits] = gc->c;
                which[n_commits++] = i;
        }
        if (n_commits && (ret = store_commit(p->store, commits, n_commits, now_ms)) < 0)
                goto out;
        for (size_t c = 0; c < n_commits; c++) {
                size_t i = which[c];
                if (commits[c].result != 0)
                        continue; /* someone else changed it: next round sees it */
                p->stats.timers_fired++;
                outputs_send(p, reads[i].household, &gcs[i], now_ms, "before_produce_timer");
                if (commits[c].timer_due <= 0)
                        store_timer_set(p->store, reads[i].household, 0);
        }
        ret = (int)n;
out:
        for (size_t i = 0; reads && gcs && i < n; i++) {
                json_decref(reads[i].doc);
                group_commit_done(&gcs[i]);
        }
        free(reads);
        free(gcs);
        free(commits);
        free(which);
        json_decref(due);
        return ret;
}
