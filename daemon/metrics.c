/* The metrics registry: families, series, their bounds, the exposition
 * text (metrics_http.c serves it). */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics_internal.h"

#define DROPPED_NAME "hearth_metrics_dropped_series_total"
#define MAX_LABEL_PAIRS 16

/* One label set of a metric. A histogram keeps per-bucket (not cumulative)
 * counts; rendering accumulates them. */
typedef struct Series {
        char *labels;   /* canonical label text, "" for none */
        double value;   /* counter or gauge value; a histogram's sum */
        uint64_t count; /* histogram observations (the +Inf bucket) */
        uint64_t buckets[];
} Series;

struct Family {
        char *name;
        char *help;
        MetricType type;
        double *bounds; /* histogram upper bounds, strictly increasing */
        size_t n_bounds;
        Series **series; /* sorted by labels */
        size_t n_series, cap_series;
        /* Its series of hearth_metrics_dropped_series_total (NULL for that
         * family itself): label sets refused by the per-family bound. */
        Series *dropped;
        /* metrics_label_values(): the label whose values are bounded, the
         * allowed values as label text (name="value", sorted), and the
         * label text that replaces any other value. */
        char *bounded;
        char **allowed;
        size_t n_allowed;
        char *other;
};

static Series *series_new(const char *labels, size_t n_bounds)
{
        Series *s = calloc(1, sizeof(Series) + n_bounds * sizeof(uint64_t));
        if (!s)
                return NULL;
        s->labels = strdup(labels);
        if (!s->labels) {
                free(s);
                return NULL;
        }
        return s;
}

static void series_free(Series *s)
{
        if (!s)
                return;
        free(s->labels);
        free(s);
}

static Family *family_free(Family *f)
{
        if (!f)
                return NULL;
        for (size_t i = 0; i < f->n_series; i++)
                series_free(f->series[i]);
        free(f->series);
        for (size_t i = 0; i < f->n_allowed; i++)
                free(f->allowed[i]);
        free(f->allowed);
        free(f->bounded);
        free(f->other);
        free(f->bounds);
        free(f->help);
        free(f->name);
        free(f);
        return NULL;
}

/* Binary search by name; *at is the index of name or where it belongs. */
static Family *family_find(const Metrics *m, const char *name, size_t *at)
{
        size_t lo = 0, hi = m->n_families;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(m->families[mid]->name, name);
                if (c == 0) {
                        if (at)
                                *at = mid;
                        return m->families[mid];
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (at)
                *at = lo;
        return NULL;
}

static Series *series_find(const Family *f, const char *labels, size_t *at)
{
        size_t lo = 0, hi = f->n_series;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(f->series[mid]->labels, labels);
                if (c == 0) {
                        *at = mid;
                        return f->series[mid];
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *at = lo;
        return NULL;
}

/* Inserts a new series for labels at index at of f. Takes no lock. */
static Series *series_insert(Family *f, const char *labels, size_t at)
{
        if (f->n_series == f->cap_series) {
                size_t cap = f->cap_series ? f->cap_series * 2 : 8;
                Series **n = realloc(f->series, cap * sizeof(Series *));
                if (!n)
                        return NULL;
                f->series = n;
                f->cap_series = cap;
        }
        Series *s = series_new(labels, f->n_bounds);
        if (!s)
                return NULL;
        memmove(f->series + at + 1, f->series + at, (f->n_series - at) * sizeof(Series *));
        f->series[at] = s;
        f->n_series++;
        return s;
}

static bool name_ok(const char *name)
{
        static const char prefix[] = "hearth_";
        if (!name || strncmp(name, prefix, sizeof(prefix) - 1) != 0)
                return false;
        for (const char *p = name; *p; p++)
                if (!(*p == '_' || *p == ':' || (*p >= 'a' && *p <= 'z') ||
                      (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
                        return false;
        return strlen(name) < 200;
}

static bool label_char(char c, bool first)
{
        return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (!first && c >= '0' && c <= '9');
}

/* Adds a family; the caller holds the lock and has checked that name is
 * new. bounds may be NULL. */
static int family_add(Metrics *m, const char *name, MetricType type, const char *help,
                      const double *bounds, size_t n_bounds, size_t at)
{
        if (m->n_families == m->cap_families) {
                size_t cap = m->cap_families ? m->cap_families * 2 : 16;
                Family **n = realloc(m->families, cap * sizeof(Family *));
                if (!n)
                        return -ENOMEM;
                m->families = n;
                m->cap_families = cap;
        }
        Family *f = calloc(1, sizeof(Family));
        if (!f)
                return -ENOMEM;
        f->type = type;
        f->name = strdup(name);
        f->help = strdup(help ? help : "");
        if (n_bounds > 0) {
                f->bounds = malloc(n_bounds * sizeof(double));
                if (f->bounds)
                        memcpy(f->bounds, bounds, n_bounds * sizeof(double));
                f->n_bounds = n_bounds;
        }
        if (!f->name || !f->help || (n_bounds > 0 && !f->bounds)) {
                family_free(f);
                return -ENOMEM;
        }
        /* Every family has its dropped-series counter from the start, at 0,
         * so that an alert on it needs no absent() (the counter's own
         * family has none: it is bounded by the number of families). */
        if (m->dropped) {
                char l[256];
                size_t dat;
                if (metrics_labels(l, sizeof(l), "family", name, NULL) < 0) {
                        family_free(f);
                        return -EINVAL;
                }
                f->dropped = series_find(m->dropped, l, &dat);
                if (!f->dropped)
                        f->dropped = series_insert(m->dropped, l, dat);
                if (!f->dropped) {
                        family_free(f);
                        return -ENOMEM;
                }
        }
        memmove(m->families + at + 1, m->families + at, (m->n_families - at) * sizeof(Family *));
        m->families[at] = f;
        m->n_families++;
        return 0;
}

/* Declares under the lock; see metrics_declare() and
 * metrics_histogram_declare() for the rules. */
static int declare(Metrics *m, const char *name, MetricType type, const char *help,
                   const double *bounds, size_t n_bounds)
{
        size_t at;
        int r = 0;

        pthread_mutex_lock(&m->lock);
        Family *f = family_find(m, name, &at);
        if (!f) {
                r = family_add(m, name, type, help, bounds, n_bounds, at);
                goto out;
        }
        if (f->type != type || f->n_bounds != n_bounds ||
            (n_bounds > 0 && memcmp(f->bounds, bounds, n_bounds * sizeof(double)) != 0)) {
                r = -EEXIST;
                goto out;
        }
        char *h = strdup(help ? help : "");
        if (!h) {
                r = -ENOMEM;
                goto out;
        }
        free(f->help);
        f->help = h;
out:
        pthread_mutex_unlock(&m->lock);
        return r;
}

Metrics *metrics_new(void)
{
        Metrics *m = calloc(1, sizeof(Metrics));
        if (!m)
                return NULL;
        m->port = -ENOTCONN;
        if (pthread_mutex_init(&m->lock, NULL) != 0) {
                free(m);
                return NULL;
        }
        if (declare(m, DROPPED_NAME, METRIC_COUNTER,
                    "Label sets refused because their metric family reached its series bound "
                    "(" STRINGIFY(METRICS_MAX_SERIES_PER_FAMILY) "), by family",
                    NULL, 0) < 0)
                return metrics_free(m);
        m->dropped = family_find(m, DROPPED_NAME, NULL);
        return m;
}

Metrics *metrics_free(Metrics *m)
{
        if (!m)
                return NULL;
        metrics_stop(m);
        for (size_t i = 0; i < m->n_families; i++)
                family_free(m->families[i]);
        free(m->families);
        pthread_mutex_destroy(&m->lock);
        free(m);
        return NULL;
}

int metrics_declare(Metrics *m, const char *name, MetricType type, const char *help)
{
        if (!name_ok(name) || (type != METRIC_COUNTER && type != METRIC_GAUGE))
                return -EINVAL;
        return declare(m, name, type, help, NULL, 0);
}

int metrics_histogram_declare(Metrics *m, const char *name, const char *help, const double *buckets,
                              size_t n)
{
        if (!name_ok(name) || !buckets || n == 0 || n > METRICS_MAX_BUCKETS)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!isfinite(buckets[i]) || (i > 0 && !(buckets[i] > buckets[i - 1])))
                        return -EINVAL;
        return declare(m, name, METRIC_HISTOGRAM, help, buckets, n);
}

int metrics_declare_hearth(Metrics *m)
{
        static const double fast[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                      0.1,    0.25,  0.5,    1,     2.5,  5,     10};
        static const double redis[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                       0.025,  0.05,    0.1,    0.25,  0.5,    1,     5};
        /* 1 min .. 7 days: the response limits are hours (限时答复). */
        static const double ack[] = {60,    300,   900,   1800,   3600,   7200,  14400,
                                     28800, 43200, 86400, 172800, 259200, 604800};
        /* 1 h .. 1 year: a risk is eliminated in days to months. */
        static const double elim[] = {3600,    21600,   86400,   259200,   604800,  1209600,
                                      2592000, 5184000, 7776000, 15552000, 31536000};
        static const struct {
                const char *name;
                MetricType type;
                const char *help;
        } plain[] = {
            {"hearth_events_total", METRIC_COUNTER, "Input events processed, by topic and type"},
            {"hearth_dead_letters_total", METRIC_COUNTER,
             "Input messages sent to the dead-letter topic, by reason"},
            {"hearth_alerts_total", METRIC_COUNTER,
             "Alert events emitted, by type, risk code and town"},
            {"hearth_open_alerts", METRIC_GAUGE, "Open alerts, by risk code"},
            {"hearth_outbox_pending", METRIC_GAUGE, "Alert events not yet acknowledged by Kafka"},
            {"hearth_consumer_lag", METRIC_GAUGE,
             "Messages behind the high watermark over the assigned partitions"},
            {"hearth_rule_firings_total", METRIC_COUNTER, "Rule matches, by rule id"},
            {"hearth_rule_outcomes_total", METRIC_COUNTER,
             "How the alerts of each rule moved and ended (raised, eliminated_with_help, "
             "cleared_by_data, resolution_refused, reopened, false_alarm, reported_helped, "
             "reported_other, removed), by rule and outcome"},
            {"hearth_up", METRIC_GAUGE, "1 while hearthd runs with Kafka and Redis reachable"},
            {"hearth_loop_turn_max_seconds", METRIC_GAUGE,
             "Longest turn of hearthd's main loop since start (watchdog headroom)"},
            {"hearth_resolutions_refused_total", METRIC_COUNTER,
             "alert.resolved events refused because no help was recorded since the alert was "
             "raised (the alert stays open)"},
        };
        static const struct {
                const char *name;
                const char *help;
                const double *b;
                size_t n;
        } hist[] = {
            {"hearth_event_processing_seconds", "Time from poll to commit of one input event", fast,
             ELEMENTSOF(fast)},
            {"hearth_redis_roundtrip_seconds", "Round-trip time of one Redis pipeline", redis,
             ELEMENTSOF(redis)},
            {"hearth_time_to_acknowledge_seconds",
             "Time from an alert being raised to its acknowledgement", ack, ELEMENTSOF(ack)},
            {"hearth_time_to_eliminate_seconds",
             "Time from an alert being raised to the risk being eliminated", elim,
             ELEMENTSOF(elim)},
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(plain); i++)
                if ((r = metrics_declare(m, plain[i].name, plain[i].type, plain[i].help)) < 0)
                        return r;
        for (size_t i = 0; i < ELEMENTSOF(hist); i++)
                if ((r = metrics_histogram_declare(m, hist[i].name, hist[i].help, hist[i].b,
                                                   hist[i].n)) < 0)
                        return r;
        return 0;
}

int metrics_labels(char *buf, size_t size, ...)
{
        va_list ap;
        size_t n = 0;
        int r = 0;

        if (!buf || size == 0)
                return -ENOBUFS;
        va_start(ap, size);
        for (const char *k; (k = va_arg(ap, const char *));) {
                const char *v = va_arg(ap, const char *);
                if (!v || !label_char(*k, true)) {
                        r = -EINVAL;
                        break;
                }
                for (const char *p = k + 1; *p; p++)
                        if (!label_char(*p, false))
                                r = -EINVAL;
                if (r < 0)
                        break;
                /* [,]name="value" with escapes, and the final NUL */
                size_t need = (n > 0) + strlen(k) + 2 + strlen(v) + 1 + 1;
                for (const char *p = v; *p; p++)
                        need += *p == '\\' || *p == '"' || *p == '\n';
                if (need > size - n) {
                        r = -ENOBUFS;
                        break;
                }
                if (n > 0)
                        buf[n++] = ',';
                size_t kl = strlen(k);
                memcpy(buf + n, k, kl);
                n += kl;
                buf[n++] = '=';
                buf[n++] = '"';
                for (const char *p = v; *p; p++) {
                        char c = *p;
                        if (c == '\\' || c == '"' || c == '\n') {
                                buf[n++] = '\\';
                                c = c == '\n' ? 'n' : c;
                        }
                        buf[n++] = c;
                }
                buf[n++] = '"';
        }
        va_end(ap);
        buf[r < 0 ? 0 : n] = '\0';
        return r;
}

typedef struct {
        const char *name, *text; /* text: name="value" */
        size_t name_len, text_len;
} LabelPair;

static int pair_cmp(const void *a, const void *b)
{
        const LabelPair *x = a, *y = b;
        size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
        int c = memcmp(x->name, y->name, n);
        if (c != 0)
                return c;
        return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

/* Checks label text and writes its canonical form (pairs sorted by name)
 * into out (METRICS_MAX_LABELS_LEN + 1 bytes). -EINVAL when it is not a
 * list of name="value" with only \\, \" and \n escapes, when a name repeats
 * or starts with "__", or when forbid_le and a name is "le". */
static int labels_canonical(const char *labels, bool forbid_le, char *out)
{
        LabelPair pairs[MAX_LABEL_PAIRS];
        size_t n = 0;
        bool sorted = true;
        const char *p = labels ? labels : "";

        if (strlen(p) > METRICS_MAX_LABELS_LEN)
                return -EINVAL;
        while (*p) {
                if (n == MAX_LABEL_PAIRS)
                        return -EINVAL;
                LabelPair *lp = &pairs[n];
                lp->name = lp->text = p;
                if (!label_char(*p, true))
                        return -EINVAL;
                while (label_char(*p, false))
                        p++;
                lp->name_len = (size_t)(p - lp->name);
                if (p[0] != '=' || p[1] != '"')
                        return -EINVAL;
                if (lp->name_len >= 2 && lp->name[0] == '_' && lp->name[1] == '_')
                        return -EINVAL;
                if (forbid_le && lp->name_len == 2 && memcmp(lp->name, "le", 2) == 0)
                        return -EINVAL;
                for (p += 2; *p != '"'; p++) {
                        if (*p == '\0' || *p == '\n')
                                return -EINVAL;
                        if (*p == '\\') {
                                p++;
                                if (*p != '\\' && *p != '"' && *p != 'n')
                                        return -EINVAL;
                        }
                }
                p++;
                lp->text_len = (size_t)(p - lp->text);
                if (n > 0 && pair_cmp(&pairs[n - 1], lp) >= 0)
                        sorted = false;
                n++;
                if (*p == ',' && p[1] != '\0')
                        p++;
                else if (*p != '\0')
                        return -EINVAL;
        }
        if (!sorted) {
                qsort(pairs, n, sizeof(LabelPair), pair_cmp);
                for (size_t i = 1; i < n; i++)
                        if (pair_cmp(&pairs[i - 1], &pairs[i]) == 0)
                                return -EINVAL;
        }
        /* The canonical text is as long as the input: pairs and commas. */
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        out[o++] = ',';
                memcpy(out + o, pairs[i].text, pairs[i].text_len);
                o += pairs[i].text_len;
        }
        out[o] = '\0';
        return 0;
}

/* In canonical label text, the pair of label name: *start and *len
 * (0 when absent). The text is valid (labels_canonical() checked it). */
static size_t pair_span(const char *canon, const char *name, const char **start)
{
        size_t nl = strlen(name);
        for (const char *p = canon; *p;) {
                const char *pair = p;
                while (*p != '=')
                        p++;
                bool match = (size_t)(p - pair) == nl && memcmp(pair, name, nl) == 0;
                for (p += 2; *p != '"'; p++)
                        if (*p == '\\')
                                p++;
                p++;
                if (match) {
                        *start = pair;
                        return (size_t)(p - pair);
                }
                if (*p == ',')
                        p++;
        }
        return 0;
}

/* Replaces, in canon (METRICS_MAX_LABELS_LEN + 1 bytes), a value of f's
 * bounded label that is not allowed by f->other. */
static int bound_value(const Family *f, char *canon)
{
        const char *start;
        size_t len = pair_span(canon, f->bounded, &start);
        if (len == 0)
                return 0;
        for (size_t i = 0; i < f->n_allowed; i++)
                if (strlen(f->allowed[i]) == len && memcmp(f->allowed[i], start, len) == 0)
                        return 0;
        size_t ol = strlen(f->other), total = strlen(canon);
        if (total - len + ol > METRICS_MAX_LABELS_LEN)
                return -EINVAL;
        char *after = (char *)start + len;
        memmove((char *)start + ol, after, strlen(after) + 1);
        memcpy((char *)start, f->other, ol);
        return 0;
}

int metrics_label_values(Metrics *m, const char *name, const char *label, char *const *values,
                         size_t n, const char *other)
{
        char l[METRICS_MAX_LABELS_LEN + 1];
        char **allowed = calloc(n ? n : 1, sizeof(char *));
        char *bounded = NULL, *oth = NULL;
        size_t k = 0;
        int r = -ENOMEM;

        if (!allowed)
                return -ENOMEM;
        if (!other || metrics_labels(l, sizeof(l), label, other, NULL) < 0) {
                r = -EINVAL;
                goto fail;
        }
        if (!(oth = strdup(l)) || !(bounded = strdup(label)))
                goto fail;
        for (; k < n; k++) {
                if (!values[k] || metrics_labels(l, sizeof(l), label, values[k], NULL) < 0) {
                        r = -EINVAL;
                        goto fail;
                }
                if (!(allowed[k] = strdup(l)))
                        goto fail;
        }
        pthread_mutex_lock(&m->lock);
        Family *f = family_find(m, name, NULL);
        if (f) {
                for (size_t i = 0; i < f->n_allowed; i++)
                        free(f->allowed[i]);
                free(f->allowed);
                free(f->bounded);
                free(f->other);
                f->allowed = n ? allowed : NULL;
                f->n_allowed = n;
                f->bounded = n ? bounded : NULL;
                f->other = n ? oth : NULL;
                if (!n) {
                        free(allowed);
                        free(bounded);
                        free(oth);
                }
        }
        pthread_mutex_unlock(&m->lock);
        if (!f) {
                r = -ENOENT;
                goto fail;
        }
        return 0;
fail:
        for (size_t i = 0; i < k; i++)
                free(allowed[i]);
        free(allowed);
        free(bounded);
        free(oth);
        return r;
}

uint64_t metrics_dropped_total(Metrics *m)
{
        double sum = 0;
        pthread_mutex_lock(&m->lock);
        for (size_t i = 0; i < m->dropped->n_series; i++)
                sum += m->dropped->series[i]->value;
        pthread_mutex_unlock(&m->lock);
        return (uint64_t)sum;
}

/* Finds or creates the series of name/labels under the lock (the caller
 * holds it) for an update of type. */
static int series_get(Metrics *m, const char *name, const char *labels, MetricType type,
                      Family **ret_f, Series **ret_s)
{
        char canon[METRICS_MAX_LABELS_LEN + 1];
        size_t at;
        int r;

        Family *f = family_find(m, name, NULL);
        if (!f)
                return -ENOENT;
        if (f->type != type)
                return -EINVAL;
        r = labels_canonical(labels, type == METRIC_HISTOGRAM, canon);
        if (r < 0)
                return r;
        if (f->bounded && (r = bound_value(f, canon)) < 0)
                return r;
        Series *s = series_find(f, canon, &at);
        if (!s) {
                /* The bound is per family: a label fed from input (towns)
                 * that runs out of room takes no other family with it. */
                if (f->n_series >= METRICS_MAX_SERIES_PER_FAMILY) {
                        if (f->dropped)
                                f->dropped->value += 1;
                        return -ENOSPC;
                }
                s = series_insert(f, canon, at);
                if (!s)
                        return -ENOMEM;
        }
        *ret_f = f;
        *ret_s = s;
        return 0;
}

typedef enum { OP_ADD, OP_SET } Op;

static int update(Metrics *m, const char *name, const char *labels, MetricType type, Op op,
                  double v)
{
        Family *f;
        Series *s;

        if (isnan(v) || (type == METRIC_COUNTER && v < 0))
                return -EINVAL;
        pthread_mutex_lock(&m->lock);
        int r = series_get(m, name, labels, type, &f, &s);
        if (r == 0) {
                if (op == OP_SET)
                        s->value = v;
                else
                        s->value += v;
        }
        pthread_mutex_unlock(&m->lock);
        return r;
}

int metrics_counter_add(Metrics *m, const char *name, const char *labels, double v)
{
        return update(m, name, labels, METRIC_COUNTER, OP_ADD, v);
}

int metrics_gauge_set(Metrics *m, const char *name, const char *labels, double v)
{
        return update(m, name, labels, METRIC_GAUGE, OP_SET, v);
}

int metrics_gauge_add(Metrics *m, const char *name, const char *labels, double v)
{
        return update(m, name, labels, METRIC_GAUGE, OP_ADD, v);
}

int metrics_histogram_observe(Metrics *m, const char *name, const char *labels, double v)
{
        Family *f;
        Series *s;

        if (isnan(v))
                return -EINVAL;
        pthread_mutex_lock(&m->lock);
        int r = series_get(m, name, labels, METRIC_HISTOGRAM, &f, &s);
        if (r == 0) {
                /* The first bucket whose upper bound holds v (le: v <= bound);
                 * none for values above every bound: only +Inf counts them. */
                size_t lo = 0, hi = f->n_bounds;
                while (lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;
                        if (v <= f->bounds[mid])
                                hi = mid;
                        else
                                lo = mid + 1;
                }
                if (lo < f->n_bounds)
                        s->buckets[lo]++;
                s->count++;
                s->value += v;
        }
        pthread_mutex_unlock(&m->lock);
        return r;
}

/* Writes v as Prometheus reads it: shortest of %.15g/%.17g that reads back
 * exactly, or +Inf, -Inf, NaN. */
static const char *fmt_double(char buf[static 32], double v)
{
        if (isnan(v))
                return "NaN";
        if (isinf(v))
                return v > 0 ? "+Inf" : "-Inf";
        snprintf(buf, 32, "%.15g", v);
        if (strtod(buf, NULL) != v)
                snprintf(buf, 32, "%.17g", v);
        return buf;
}

/* HELP text escapes only backslash and newline. */
static void put_help(FILE *o, const char *help)
{
        for (const char *p = help; *p; p++) {
                if (*p == '\\')
                        fputs("\\\\", o);
                else if (*p == '\n')
                        fputs("\\n", o);
                else
                        fputc(*p, o);
        }
}

/* name+suffix{labels[,le="le"]} value */
static void put_sample(FILE *o, const char *name, const char *suffix, const char *labels,
                       const char *le, const char *value)
{
        fputs(name, o);
        fputs(suffix, o);
        if (*labels || le) {
                fputc('{', o);
                fputs(labels, o);
                if (le)
                        fprintf(o, "%sle=\"%s\"", *labels ? "," : "", le);
                fputc('}', o);
        }
        fputc(' ', o);
        fputs(value, o);
        fputc('\n', o);
}

static void put_family(FILE *o, const Family *f)
{
        static const char *const types[] = {"counter", "gauge", "histogram"};
        char v[32], le[32], cnt[32];

        fprintf(o, "# HELP %s ", f->name);
        put_help(o, f->help);
        fprintf(o, "\n# TYPE %s %s\n", f->name, types[f->type]);
        for (size_t i = 0; i < f->n_series; i++) {
                const Series *s = f->series[i];
                if (f->type != METRIC_HISTOGRAM) {
                        put_sample(o, f->name, "", s->labels, NULL, fmt_double(v, s->value));
                        continue;
                }
                uint64_t cum = 0;
                for (size_t b = 0; b < f->n_bounds; b++) {
                        cum += s->buckets[b];
                        snprintf(cnt, sizeof(cnt), "%" PRIu64, cum);
                        put_sample(o, f->name, "_bucket", s->labels, fmt_double(le, f->bounds[b]),
                                   cnt);
                }
                snprintf(cnt, sizeof(cnt), "%" PRIu64, s->count);
                put_sample(o, f->name, "_bucket", s->labels, "+Inf", cnt);
                put_sample(o, f->name, "_sum", s->labels, NULL, fmt_double(v, s->value));
                put_sample(o, f->name, "_count", s->labels, NULL, cnt);
        }
}

char *metrics_render(Metrics *m)
{
        char *text = NULL;
        size_t len = 0;

        FILE *o = open_memstream(&text, &len);
        if (!o)
                return NULL;
        pthread_mutex_lock(&m->lock);
        for (size_t i = 0; i < m->n_families; i++)
                put_family(o, m->families[i]);
        pthread_mutex_unlock(&m->lock);
        bool failed = ferror(o);
        if (fclose(o) != 0 || failed) {
                free(text);
                return NULL;
        }
        return text;
}

void metrics_set_health(Metrics *m, bool kafka_ok, bool redis_ok)
{
        pthread_mutex_lock(&m->lock);
        m->kafka_ok = kafka_ok;
        m->redis_ok = redis_ok;
        pthread_mutex_unlock(&m->lock);
}
