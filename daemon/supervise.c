/* Supervision metrics by town (REQ-14): what the supervision report counts, as bounded Prometheus
 * series. */
#include "supervise.h"

#include <stdio.h>
#include "macro.h"

static const char *town_of(const json_t *doc)
{
        const char *t = json_string_value(json_object_get(json_object_get(doc, "profile"), "town"));
        return t ? t : "";
}

static void count(Metrics *m, const json_t *doc, const char *figure, double v)
{
        char labels[METRICS_MAX_LABELS_LEN];
        if (m && metrics_labels(labels, sizeof(labels), "town", town_of(doc), "figure", figure,
                                NULL) == 0)
                metrics_counter_add(m, "hearth_town_supervision_total", labels, v);
}

static void observe(Metrics *m, const json_t *doc, const char *name, double v)
{
        char labels[METRICS_MAX_LABELS_LEN];
        if (m && metrics_labels(labels, sizeof(labels), "town", town_of(doc), NULL) == 0)
                metrics_histogram_observe(m, name, labels, v);
}

int supervise_declare(Metrics *m, char *const *towns, size_t n)
{
        /* The buckets of hearth_time_to_acknowledge_seconds and
         * hearth_time_to_eliminate_seconds (metrics.c). */
        static const double ack[] = {60,    300,   900,   1800,   3600,   7200,  14400,
                                     28800, 43200, 86400, 172800, 259200, 604800};
        static const double elim[] = {3600,    21600,   86400,   259200,   604800,  1209600,
                                      2592000, 5184000, 7776000, 15552000, 31536000};
        static const char *const names[] = {"hearth_town_supervision_total",
                                            "hearth_town_time_to_acknowledge_seconds",
                                            "hearth_town_time_to_eliminate_seconds"};
        int r = metrics_declare(m, names[0], METRIC_COUNTER,
                                "Supervision figures by town (REQ-14): alerts raised by colour, "
                                "acknowledged, escalated, eliminated, refused resolutions, "
                                "ratings and their points, visits, key monitoring started");
        if (r < 0 ||
            (r = metrics_histogram_declare(m, names[1],
                                           "Time from an alert being raised to its "
                                           "acknowledgement, by town",
                                           ack, ELEMENTSOF(ack))) < 0 ||
            (r = metrics_histogram_declare(m, names[2],
                                           "Time from an alert being raised to the risk being "
                                           "eliminated, by town",
                                           elim, ELEMENTSOF(elim))) < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if ((r = metrics_label_values(m, names[i], "town", towns, n, "other")) < 0)
                        return r;
        return 0;
}

void supervise_outputs(Metrics *m, const json_t *doc, const json_t *outputs)
{
        size_t i;
        json_t *o;
        json_array_foreach (outputs, i, o) {
                const char *type = json_string_value(json_object_get(o, "type"));
                const json_t *data = json_object_get(o, "data");
                if (streq_ptr(type, "risk.alert.raised")) {
                        const char *code = json_string_value(json_object_get(data, "code"));
                        count(m, doc, streq_ptr(code, "red") ? "raised_red" : "raised_yellow", 1);
                } else if (streq_ptr(type, "risk.alert.escalated")) {
                        count(m, doc, "escalated", 1);
                } else if (streq_ptr(type, "risk.eliminated")) {
                        count(m, doc, "eliminated", 1);
                        observe(m, doc, "hearth_town_time_to_eliminate_seconds",
                                (double)json_integer_value(json_object_get(data, "open_for")));
                } else if (streq_ptr(type, "household.monitoring.started")) {
                        count(m, doc, "monitoring_started", 1);
                }
        }
}

void supervise_input(Metrics *m, const json_t *doc, const Event *ev)
{
        if (ev->type == EV_SATISFACTION_RATED) {
                count(m, doc, "rated", 1);
                count(m, doc, "rating_points", (double)event_int(ev, "score"));
        } else if (ev->type == EV_VISIT_RECORDED) {
                count(m, doc, "visited", 1);
        }
}

void supervise_acknowledged(Metrics *m, const json_t *doc, int64_t after_ms)
{
        count(m, doc, "acknowledged", 1);
        observe(m, doc, "hearth_town_time_to_acknowledge_seconds", (double)after_ms / 1000.0);
}

void supervise_refused(Metrics *m, const json_t *doc)
{
        count(m, doc, "refused", 1);
}
