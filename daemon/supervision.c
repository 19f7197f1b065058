/* What the pipeline tells operators: log lines of transitions, metrics, the
 * supervision counts (REQ-14) and the rule outcomes kept in Redis. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "household.h"
#include "jsonfast.h"
#include "log.h"
#include "pipeline_impl.h"
#include "supervise.h"

/* A bounded class of a dead-letter reason for the metrics label (the
 * reason itself is free text). */
const char *dead_letter_class(const char *reason)
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

void metric_count(Pipeline *p, const char *name, double v, ...)
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
                size_t n = strlen(one);
                if ((off > 0) + n >= sizeof(labels) - off)
                        break;
                if (off > 0)
                        labels[off++] = ',';
                memcpy(labels + off, one, n + 1);
                off += n;
        }
        va_end(ap);
        metrics_counter_add(p->metrics, name, labels, v);
}

void metric_observe(Pipeline *p, const char *name, double v)
{
        if (p->metrics)
                metrics_histogram_observe(p->metrics, name, NULL, v);
}

/* The log lines of one step: a removal, an erasure, dropped pending
 * events, a refused resolution. */
static void step_log(Pipeline *p, const json_t *doc, const char *household, const Event *ev,
                     const StepNotes *notes, HouseholdEffects *fx, const char *open_alert)
{
        if (ev->type == EV_HOUSEHOLD_REMOVED)
                log_notice("household.removed: household %s leaves monitoring (event %s from "
                           "%s)%s%s%s",
                           household, ev->id, ev->source,
                           notes->lifecycle & LIFECYCLE_ALERT_CLOSED ? "; its open alert " : "",
                           notes->lifecycle & LIFECYCLE_ALERT_CLOSED ? open_alert : "",
                           notes->lifecycle & LIFECYCLE_ALERT_CLOSED ? " is closed" : "");
        if (notes->lifecycle & LIFECYCLE_ERASED)
                log_notice("household %s: personal data erased (retention.removed 0)", household);
        if (fx && fx->pending_dropped) {
                log_notice("household %s (not registered): %zu kept event(s) older than %d days "
                           "dropped; they count in no rule window",
                           household, fx->pending_dropped, HOUSEHOLD_PENDING_MAX_AGE_DAYS);
                fx->pending_dropped = 0;
        }
        if (notes->lifecycle & LIFECYCLE_RESOLUTION_REFUSED) {
                log_notice("alert.resolved refused: household %s alert %s: no help recorded "
                           "since the alert was raised (measure, relief, programme, resolved "
                           "need); the alert stays open",
                           household,
                           json_string_value(json_object_get(json_object_get(doc, "alert"), "id"))
                               ?: "-");
                metric_count(p, "hearth_resolutions_refused_total", 1, NULL);
                supervise_refused(p->metrics, doc);
        }
}

/* One event through the household step (step.c); the acknowledgement time
 * and refused resolutions are counted here; the rules' outcomes go to
 * outcomes, counted after the commit (outcomes_count()). Returns the
 * LIFECYCLE_* flags of the step, or household_apply()'s negative errno. */
int supervised_step(Pipeline *p, json_t *doc, const char *household, const Event *ev, int64_t now,
                    HouseholdEffects *fx, json_t *outputs, json_t *outcomes)
{
        StepContext c = pipeline_step_context(p, true);
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
        if (notes.acknowledge_ms >= 0) {
                metric_observe(p, "hearth_time_to_acknowledge_seconds",
                               (double)notes.acknowledge_ms / 1000.0);
                supervise_acknowledged(p->metrics, doc, notes.acknowledge_ms);
        }
        step_log(p, doc, household, ev, &notes, fx, open_alert);
        return notes.lifecycle;
}

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
        return -1; /* benefits.statement: no alert */
}

/* One log line per transition (ids and codes only, never personal data)
 * and the metrics of a committed group's outputs. */
void outputs_log(Pipeline *p, const char *household, const GroupCommit *gc)
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
                if (output_type_index(type) >= 0)
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
        supervise_outputs(p->metrics, gc->doc, gc->outputs);
}

/* Rule quality (outcome.h) of a committed group: the metric and the hash
 * <p>:rule_outcomes. After the commit, like the supervision figures: a
 * crash in between undercounts, a redelivered event (deduplicated) never
 * counts twice. */
void outcomes_count(Pipeline *p, const GroupCommit *gc)
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
void inputs_count(Pipeline *p, const Item *items, const GroupCommit *gc)
{
        for (size_t k = 0; k < gc->n_applied; k++) {
                const Event *ev = &items[gc->applied[k]].ev;
                supervise_input(p->metrics, gc->doc, ev);
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

int outputs_count_of(const json_t *output, OutputCounts *c)
{
        const char *type = json_string_value(json_object_get(output, "type"));
        const json_t *data = json_object_get(output, "data");
        const char *code = json_string_value(json_object_get(data, "code"));
        const char *prev = json_string_value(json_object_get(data, "previous_code"));
        const char *town = json_string_value(json_object_get(data, "town"));
        const json_t *open_for = json_object_get(data, "open_for");
        const char *colour = code ? code : prev ? prev : "-";
        char f[300];
        *c = (OutputCounts){.known = true}; /* no type: counts nothing */
        if (!type)
                return 0;
        snprintf(f, sizeof(f), "%s:%s", type, colour);
        if (!(c->field[0] = strdup(f)))
                goto nomem;
        if (town && *town) {
                snprintf(f, sizeof(f), "%s:%s:%s", type, colour, town);
                if (!(c->field[1] = strdup(f)))
                        goto nomem;
        }
        c->has_open_for = json_is_integer(open_for);
        c->open_for = c->has_open_for ? json_integer_value(open_for) : 0;
        return 0;
nomem:
        output_counts_clear(c);
        return -ENOMEM;
}

void outputs_count_delivered(Pipeline *p, const OutputCounts *c)
{
        if (!c->field[0])
                return;
        const char *fields[2] = {c->field[0], c->field[1]};
        store_stats_incr(p->store, fields, c->field[1] ? 2 : 1, 1);
        if (c->has_open_for) {
                const char *sum[1] = {"eliminate_seconds_sum"};
                store_stats_incr(p->store, sum, 1, c->open_for);
        }
}

/* Supervision figures (REQ-14), counted once per output: only the delivery
 * that deleted the outbox entry counts it. The CloudEvent has the output's
 * type and data at its top level, as the output itself. */
void outputs_count(Pipeline *p, const void *payload, size_t len)
{
        json_t *ce = jsonfast_load(payload, len, NULL);
        OutputCounts c = {0};
        if (ce && outputs_count_of(ce, &c) == 0)
                outputs_count_delivered(p, &c);
        output_counts_clear(&c);
        json_decref(ce);
}
