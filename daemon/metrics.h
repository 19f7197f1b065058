/* Prometheus metrics: a small thread-safe registry and an HTTP endpoint
 * (libmicrohttpd, one internal thread) serving GET /metrics in the text
 * exposition format 0.0.4 and GET /healthz.
 *
 * Updates come from the daemon loop, rendering from the HTTP thread; one
 * mutex guards both. A metric is declared once (name, type, help, and the
 * buckets of a histogram); each distinct label set of a metric is a series.
 * Each metric family holds at most METRICS_MAX_SERIES_PER_FAMILY series: a
 * new label set beyond that is dropped, counted in
 * hearth_metrics_dropped_series_total{family="<name>"}, and the update
 * returns -ENOSPC. The bound is per family so that a label fed from input
 * (the town of an alert: 5,100 towns once filled a shared bound) can never
 * stop another family's series from appearing. A label whose values come
 * from input can also be held to a list (metrics_label_values(): hearthd
 * keeps hearth_alerts_total's town to metrics.towns, others count as
 * `other`). Output order is deterministic: metrics by name, series by
 * their label text.
 *
 * Labels are given as Prometheus label text, `topic="x",type="y"` (or NULL
 * or "" for none). Build it with metrics_labels(), which escapes the values;
 * every update checks the text and refuses a malformed one with -EINVAL, so
 * the exposition stays valid whatever the caller passes.
 *
 * The metrics hearthd exports (metrics_declare_hearth() declares them all;
 * the daemon loop updates them):
 *
 *   hearth_events_total{topic,type}            counter   input events processed, by
 *                                                        Kafka topic and CloudEvents type
 *   hearth_dead_letters_total{reason}          counter   messages sent to the dead-letter
 *                                                        topic, by a short reason class
 *                                                        (not_json, schema, ...; never
 *                                                        the free-text hearth.error)
 *   hearth_event_processing_seconds            histogram poll-to-commit time of one event
 *   hearth_redis_roundtrip_seconds             histogram one Redis pipeline round trip
 *   hearth_alerts_total{type,code,town}        counter   output events, by CloudEvents
 *                                                        type (risk.alert.raised, ...),
 *                                                        colour and town (metrics.towns,
 *                                                        others as town="other")
 *   hearth_open_alerts{code}                   gauge     open alerts by colour (yellow, red)
 *   hearth_time_to_acknowledge_seconds         histogram raised to alert.acknowledged
 *   hearth_time_to_eliminate_seconds           histogram raised to risk.eliminated
 *   hearth_outbox_pending                      gauge     alerts not yet acknowledged by Kafka
 *   hearth_consumer_lag                        gauge     messages behind the high watermark,
 *                                                        summed over assigned partitions
 *   hearth_rule_firings_total{rule}            counter   rule matches, by rule id
 *   hearth_rule_outcomes_total{rule,outcome}   counter   how each rule's alerts moved and
 *                                                        ended (outcome.h): raised,
 *                                                        eliminated_with_help, cleared_by_data,
 *                                                        resolution_refused, reopened,
 *                                                        false_alarm, reported_helped,
 *                                                        reported_other, removed
 *   hearth_up                                  gauge     1 while Kafka and Redis are
 *                                                        reachable, 0 otherwise
 *   hearth_metrics_dropped_series_total{family}
 *                                              counter   label sets refused by the
 *                                                        per-family bound (one series per
 *                                                        declared family, from 0, kept by
 *                                                        the registry itself)
 *
 * Label values must not carry personal data (names, phones, ID numbers). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "macro.h"

/* Series per metric family. hearthd's largest family is
 * hearth_alerts_total: output types x colours x (metrics.towns + other),
 * e.g. 11 x 4 x 31 = 1,364 for 30 towns. */
#define METRICS_MAX_SERIES_PER_FAMILY 2000
#define METRICS_MAX_BUCKETS 32
#define METRICS_MAX_LABELS_LEN 1024

/* The HTTP endpoint's bounds, so that slow or idle clients cannot keep
 * Prometheus and /healthz checks out: at most 64 connections, at most 8
 * from one address (40 slow connections from one host take 8 slots, not
 * all), and a connection idle for 3 s is closed (Prometheus reconnects at
 * its next scrape; /metrics and /healthz answer in milliseconds). */
#define METRICS_HTTP_MAX_CONNECTIONS 64
#define METRICS_HTTP_MAX_PER_ADDRESS 8
#define METRICS_HTTP_TIMEOUT_S 3

typedef struct Metrics Metrics;

typedef enum {
        METRIC_COUNTER,
        METRIC_GAUGE,
        METRIC_HISTOGRAM,
} MetricType;

/* An empty registry holding only hearth_metrics_dropped_series_total; not
 * serving. Health starts as "down" for both. NULL only on memory failure. */
Metrics *metrics_new(void);
/* Stops the HTTP server if it runs, frees everything. Accepts NULL; returns
 * NULL. */
Metrics *metrics_free(Metrics *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Metrics *, metrics_free);

/* Declares a counter or gauge. name (copied) must match
 * hearth_[a-zA-Z0-9_:]*; help (copied) is one line of free text. Declaring
 * the same name with the same type again replaces the help and returns 0;
 * another type is -EEXIST. -EINVAL for a bad name or METRIC_HISTOGRAM (use
 * metrics_histogram_declare()), -ENOMEM. */
int metrics_declare(Metrics *m, const char *name, MetricType type, const char *help);
/* Declares a histogram with n finite, strictly increasing upper bounds
 * (copied; 1 <= n <= METRICS_MAX_BUCKETS; the +Inf bucket is implicit).
 * Redeclaring with the same bounds returns 0, other bounds or type -EEXIST. */
int metrics_histogram_declare(Metrics *m, const char *name, const char *help, const double *buckets,
                              size_t n);
/* Declares every metric listed above with its help text and buckets. */
int metrics_declare_hearth(Metrics *m);

/* Holds the values of label in metric name to a list: an update whose
 * value of label is not one of values[0..n) (copied) is counted under the
 * value other instead, so input cannot grow the family past n + 1 values
 * of that label. n = 0 lifts the restriction. Call it before the first
 * update: series made earlier stay. 0; -ENOENT when name is not declared;
 * -EINVAL for a bad label name or a NULL value; -ENOMEM. */
int metrics_label_values(Metrics *m, const char *name, const char *label, char *const *values,
                         size_t n, const char *other);

/* Label sets dropped so far by the per-family bound, over all families
 * (for the daemon's log). */
uint64_t metrics_dropped_total(Metrics *m);

/* Writes label text for the NULL-terminated (name, value, ...) pairs into
 * buf, escaping \, " and newline in the values:
 *   metrics_labels(buf, sizeof(buf), "topic", t, "type", ty, NULL)
 * gives `topic="...",type="..."`. No pairs give "". 0, -EINVAL for a bad
 * label name or a NULL value, -ENOBUFS when buf is too small (buf is then
 * ""). */
int metrics_labels(char *buf, size_t size, ...) __attribute__((sentinel));

/* Updates the series of name with labels (borrowed; NULL or "" for none),
 * creating it on first use. 0 on success; -ENOENT when name is not
 * declared, -EINVAL for another type, malformed labels (or a label "le" on
 * a histogram), a NaN, or a negative counter increment; -ENOSPC when the
 * family's series bound drops a new label set; -ENOMEM. */
int metrics_counter_add(Metrics *m, const char *name, const char *labels, double v);
int metrics_gauge_set(Metrics *m, const char *name, const char *labels, double v);
int metrics_gauge_add(Metrics *m, const char *name, const char *labels, double v);
int metrics_histogram_observe(Metrics *m, const char *name, const char *labels, double v);

/* The exposition text (HELP, TYPE, samples), deterministic order. The
 * caller frees it. NULL only on memory failure. */
char *metrics_render(Metrics *m);

/* What /healthz reports: 200 {"kafka":"ok","redis":"ok"} when both are
 * reachable, 503 with the one that is "down" otherwise. Called by the daemon
 * loop whenever it learns something new. */
void metrics_set_health(Metrics *m, bool kafka_ok, bool redis_ok);

/* Starts the HTTP server on address (borrowed): "host:port", "[v6addr]:port"
 * or a host name that resolves; port 0 picks a free port (see
 * metrics_port()). Binds that address only, on one internal thread that
 * blocks every signal, with the METRICS_HTTP_* bounds above. 0 on success; -EINVAL for a malformed
 * address, -EALREADY if serving, or the negative errno of resolving, binding or starting, with a
 * one-line reason in err. */
int metrics_serve(Metrics *m, const char *address, char *err, size_t errlen);
/* The bound TCP port, or -ENOTCONN when not serving. */
int metrics_port(const Metrics *m);
/* Stops the server (joins its thread, closes the socket); does nothing when
 * not serving. The registry stays usable. */
void metrics_stop(Metrics *m);
