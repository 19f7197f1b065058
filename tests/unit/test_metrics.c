/* Unit tests of the metrics registry and its HTTP endpoint: the exposition
 * text (HELP/TYPE, escaping, cumulative histogram buckets, deterministic
 * order), label checking, the series bound, and real HTTP round trips to
 * /metrics and /healthz on 127.0.0.1 with a plain socket client. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "metrics.h"

static void test_render_format(void **state)
{
        (void)state;
        _cleanup_(metrics_freep) Metrics *m = metrics_new();
        static const double b[] = {0.1, 1, 10};
        char l[256];

        assert_non_null(m);
        assert_int_equal(metrics_declare(m, "hearth_b_total", METRIC_COUNTER,
                                         "Things, with a \\ and a\nnewline"),
                         0);
        assert_int_equal(metrics_declare(m, "hearth_a", METRIC_GAUGE, "A gauge"), 0);
        assert_int_equal(metrics_histogram_declare(m, "hearth_c_seconds", "Latency", b, 3), 0);
        assert_int_equal(metrics_declare(m, "hearth_d_total", METRIC_COUNTER, "Never updated"), 0);

        assert_int_equal(metrics_labels(l, sizeof(l), "topic", "t2", "type", "x.y", NULL), 0);
        assert_int_equal(metrics_counter_add(m, "hearth_b_total", l, 2), 0);
        assert_int_equal(metrics_labels(l, sizeof(l), "topic", "t1", "type", "a\\b\"c\nd", NULL),
                         0);
        assert_string_equal(l, "topic=\"t1\",type=\"a\\\\b\\\"c\\nd\"");
        assert_int_equal(metrics_counter_add(m, "hearth_b_total", l, 1), 0);
        assert_int_equal(metrics_counter_add(m, "hearth_b_total", l, 0.5), 0);
        assert_int_equal(metrics_gauge_set(m, "hearth_a", NULL, 7), 0);
        assert_int_equal(metrics_gauge_add(m, "hearth_a", "", -2.25), 0);
        assert_int_equal(metrics_histogram_observe(m, "hearth_c_seconds", NULL, 0.05), 0);
        assert_int_equal(metrics_histogram_observe(m, "hearth_c_seconds", NULL, 0.1), 0);
        assert_int_equal(metrics_histogram_observe(m, "hearth_c_seconds", NULL, 0.5), 0);
        assert_int_equal(metrics_histogram_observe(m, "hearth_c_seconds", NULL, 20), 0);
        assert_int_equal(metrics_histogram_observe(m, "hearth_c_seconds", "code=\"red\"", 3), 0);

        _cleanup_free_ char *text = metrics_render(m);
        assert_non_null(text);
        assert_string_equal(text,
                            "# HELP hearth_a A gauge\n"
                            "# TYPE hearth_a gauge\n"
                            "hearth_a 4.75\n"
                            "# HELP hearth_b_total Things, with a \\\\ and a\\nnewline\n"
                            "# TYPE hearth_b_total counter\n"
                            "hearth_b_total{topic=\"t1\",type=\"a\\\\b\\\"c\\nd\"} 1.5\n"
                            "hearth_b_total{topic=\"t2\",type=\"x.y\"} 2\n"
                            "# HELP hearth_c_seconds Latency\n"
                            "# TYPE hearth_c_seconds histogram\n"
                            "hearth_c_seconds_bucket{le=\"0.1\"} 2\n"
                            "hearth_c_seconds_bucket{le=\"1\"} 3\n"
                            "hearth_c_seconds_bucket{le=\"10\"} 3\n"
                            "hearth_c_seconds_bucket{le=\"+Inf\"} 4\n"
                            "hearth_c_seconds_sum 20.65\n"
                            "hearth_c_seconds_count 4\n"
                            "hearth_c_seconds_bucket{code=\"red\",le=\"0.1\"} 0\n"
                            "hearth_c_seconds_bucket{code=\"red\",le=\"1\"} 0\n"
                            "hearth_c_seconds_bucket{code=\"red\",le=\"10\"} 1\n"
                            "hearth_c_seconds_bucket{code=\"red\",le=\"+Inf\"} 1\n"
                            "hearth_c_seconds_sum{code=\"red\"} 3\n"
                            "hearth_c_seconds_count{code=\"red\"} 1\n"
                            "# HELP hearth_d_total Never updated\n"
                            "# TYPE hearth_d_total counter\n"
                            "# HELP hearth_metrics_dropped_series_total Label sets refused "
                            "because their metric family reached its series bound (2000), "
                            "by family\n"
                            "# TYPE hearth_metrics_dropped_series_total counter\n"
                            "hearth_metrics_dropped_series_total{family=\"hearth_a\"} 0\n"
                            "hearth_metrics_dropped_series_total{family=\"hearth_b_total\"} "
                            "0\n"
                            "hearth_metrics_dropped_series_total{family=\"hearth_c_seconds\"} "
                            "0\n"
                            "hearth_metrics_dropped_series_total{family=\"hearth_d_total\"} "
                            "0\n");

        /* Rendering twice gives the same text. */
        _cleanup_free_ char *again = metrics_render(m);
        assert_string_equal(text, again);
}

static void test_numbers(void **state)
{
        (void)state;
        _cleanup_(metrics_freep) Metrics *m = metrics_new();
        static const struct {
                const char *labels;
                double v;
                const char *text;
        } cases[] = {
            {"k=\"a\"", 0.1, "hearth_g{k=\"a\"} 0.1\n"},
            {"k=\"b\"", 1e-9, "hearth_g{k=\"b\"} 1e-09\n"},
            {"k=\"c\"", 123456789012, "hearth_g{k=\"c\"} 123456789012\n"},
            {"k=\"d\"", INFINITY, "hearth_g{k=\"d\"} +Inf\n"},
            {"k=\"e\"", -INFINITY, "hearth_g{k=\"e\"} -Inf\n"},
            {"k=\"f\"", 1.0 / 3, "hearth_g{k=\"f\"} 0.33333333333333331\n"},
        };

        assert_non_null(m);
        assert_int_equal(metrics_declare(m, "hearth_g", METRIC_GAUGE, "g"), 0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_int_equal(metrics_gauge_set(m, "hearth_g", cases[i].labels, cases[i].v), 0);
        _cleanup_free_ char *text = metrics_render(m);
        assert_non_null(text);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (!strstr(text, cases[i].text))
                        fail_msg("missing %s in\n%s", cases[i].text, text);
}

static void test_errors(void **state)
{
        (void)state;
        _cleanup_(metrics_freep) Metrics *m = metrics_new();
        static const double good[] = {1, 2}, unsorted[] = {2, 1}, inf[] = {1, INFINITY};

        assert_non_null(m);
        assert_int_equal(metrics_declare(m, "hearth_c_total", METRIC_COUNTER, "c"), 0);
        assert_int_equal(metrics_declare(m, "hearth_c_total", METRIC_COUNTER, "c again"), 0);
        assert_int_equal(metrics_declare(m, "hearth_c_total", METRIC_GAUGE, "c"), -EEXIST);
        assert_int_equal(metrics_declare(m, "other_total", METRIC_COUNTER, "c"), -EINVAL);
        assert_int_equal(metrics_declare(m, "hearth_bad-name", METRIC_COUNTER, "c"), -EINVAL);
        assert_int_equal(metrics_declare(m, "hearth_h", METRIC_HISTOGRAM, "h"), -EINVAL);
        assert_int_equal(metrics_histogram_declare(m, "hearth_h", "h", unsorted, 2), -EINVAL);
        assert_int_equal(metrics_histogram_declare(m, "hearth_h", "h", inf, 2), -EINVAL);
        assert_int_equal(metrics_histogram_declare(m, "hearth_h", "h", good, 0), -EINVAL);
        assert_int_equal(metrics_histogram_declare(m, "hearth_h", "h", good, 2), 0);
        assert_int_equal(metrics_histogram_declare(m, "hearth_h", "h", good, 2), 0);
        assert_int_equal(metrics_histogram_declare(m, "hearth_h", "h", good, 1), -EEXIST);

        assert_int_equal(metrics_counter_add(m, "hearth_nope_total", NULL, 1), -ENOENT);
        assert_int_equal(metrics_gauge_set(m, "hearth_c_total", NULL, 1), -EINVAL);
        assert_int_equal(metrics_histogram_observe(m, "hearth_c_total", NULL, 1), -EINVAL);
        assert_int_equal(metrics_counter_add(m, "hearth_c_total", NULL, -1), -EINVAL);
        assert_int_equal(metrics_counter_add(m, "hearth_c_total", NULL, NAN), -EINVAL);
        assert_int_equal(metrics_histogram_observe(m, "hearth_h", NULL, NAN), -EINVAL);
        assert_int_equal(metrics_histogram_observe(m, "hearth_h", "le=\"1\"", 1), -EINVAL);
}

/* Label text the registry refuses, so the exposition stays valid. */
static void test_labels_checked(void **state)
{
        (void)state;
        _cleanup_(metrics_freep) Metrics *m = metrics_new();
        static const char *const bad[] = {
            "topic",     "topic=x",   "topic=\"x",       "topic=\"x\"y=\"1\"", "topic=\"a\\q\"",
            "__x=\"1\"", "a=\"1\",",  "a=\"1\",a=\"2\"", "a=\"x\ny\"",         "1a=\"1\"",
            ",a=\"1\"",  "a-b=\"1\"", "a =\"1\"",        "a=\"1\" ",           "a=\"\\\"",
        };
        char l[64], big[METRICS_MAX_LABELS_LEN + 16];

        assert_non_null(m);
        assert_int_equal(metrics_declare(m, "hearth_c_total", METRIC_COUNTER, "c"), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (metrics_counter_add(m, "hearth_c_total", bad[i], 1) != -EINVAL)
                        fail_msg("accepted labels %s", bad[i]);
        memset(big, 'a', sizeof(big) - 6);
        memcpy(big + sizeof(big) - 6, "=\"1\"", 5);
        assert_int_equal(metrics_counter_add(m, "hearth_c_total", big, 1), -EINVAL);

        /* The same set in another order is the same series. */
        assert_int_equal(metrics_counter_add(m, "hearth_c_total", "b=\"1\",a=\"2\"", 1), 0);
        assert_int_equal(metrics_counter_add(m, "hearth_c_total", "a=\"2\",b=\"1\"", 1), 0);
        assert_int_equal(metrics_counter_add(m, "hearth_c_total", "a=\"\",b=\"\\n\"", 1), 0);
        _cleanup_free_ char *text = metrics_render(m);
        assert_non_null(strstr(text, "hearth_c_total{a=\"2\",b=\"1\"} 2\n"));
        assert_non_null(strstr(text, "hearth_c_total{a=\"\",b=\"\\n\"} 1\n"));
        assert_null(strstr(text, "b=\"1\",a"));

        /* metrics_labels */
        assert_int_equal(metrics_labels(l, sizeof(l), NULL), 0);
        assert_string_equal(l, "");
        assert_int_equal(metrics_labels(l, sizeof(l), "bad-name", "v", NULL), -EINVAL);
        assert_int_equal(metrics_labels(l, sizeof(l), "k", NULL, NULL), -EINVAL);
        assert_int_equal(metrics_labels(l, 8, "k", "123456", NULL), -ENOBUFS);
        assert_string_equal(l, "");
        assert_int_equal(metrics_labels(l, 8, "k", "1234", NULL), -ENOBUFS);
        assert_int_equal(metrics_labels(l, 9, "k", "1234", NULL), 0);
        assert_string_equal(l, "k=\"1234\"");
        assert_int_equal(metrics_labels(l, 12, "k", "1\"", "j", "", NULL), -ENOBUFS);
        assert_int_equal(metrics_labels(l, 13, "k", "1\"", "j", "", NULL), 0);
        assert_string_equal(l, "k=\"1\\\"\",j=\"\"");
        assert_int_equal(metrics_labels(l, sizeof(l), "town", "青田", "code", "red", NULL), 0);
        assert_int_equal(metrics_counter_add(m, "hearth_c_total", l, 1), 0);
}

static void test_series_bound(void **state)
{
        (void)state;
        _cleanup_(metrics_freep) Metrics *m = metrics_new();
        static const double b[] = {1};
        char l[64];

        assert_non_null(m);
        assert_int_equal(metrics_declare(m, "hearth_c_total", METRIC_COUNTER, "c"), 0);
        assert_int_equal(metrics_declare(m, "hearth_e_total", METRIC_COUNTER, "e"), 0);
        assert_int_equal(metrics_histogram_declare(m, "hearth_h", "h", b, 1), 0);
        /* Inserted in descending order: every insert lands at the front. */
        for (int i = METRICS_MAX_SERIES_PER_FAMILY; i >= 1; i--) {
                snprintf(l, sizeof(l), "n=\"%05d\"", i);
                assert_int_equal(metrics_counter_add(m, "hearth_c_total", l, 1), 0);
        }
        /* Full: new label sets of that family are dropped, known ones
         * still count, and every other family still takes new series. */
        assert_int_equal(metrics_counter_add(m, "hearth_c_total", "n=\"new\"", 1), -ENOSPC);
        assert_int_equal(metrics_counter_add(m, "hearth_c_total", "n=\"new2\"", 1), -ENOSPC);
        assert_int_equal(metrics_counter_add(m, "hearth_c_total", "n=\"00001\"", 1), 0);
        assert_int_equal(metrics_histogram_observe(m, "hearth_h", "x=\"1\"", 1), 0);
        assert_int_equal(metrics_histogram_observe(m, "hearth_h", NULL, 2), 0);
        for (int i = 0; i < 100; i++) {
                snprintf(l, sizeof(l), "n=\"%d\"", i);
                assert_int_equal(metrics_counter_add(m, "hearth_e_total", l, 1), 0);
        }
        assert_int_equal(metrics_dropped_total(m), 2);

        _cleanup_free_ char *text = metrics_render(m);
        assert_non_null(text);
        assert_non_null(
            strstr(text, "\nhearth_metrics_dropped_series_total{family=\"hearth_c_total\"} 2\n"));
        assert_non_null(
            strstr(text, "\nhearth_metrics_dropped_series_total{family=\"hearth_e_total\"} 0\n"));
        assert_non_null(
            strstr(text, "\nhearth_metrics_dropped_series_total{family=\"hearth_h\"} 0\n"));
        assert_non_null(strstr(text, "\nhearth_c_total{n=\"00001\"} 2\n"));
        assert_non_null(strstr(text, "\nhearth_e_total{n=\"99\"} 1\n"));
        assert_null(strstr(text, "new"));
        size_t samples = 0;
        char prev[64] = "";
        for (const char *p = text; (p = strstr(p, "\nhearth_c_total{")); p++) {
                samples++;
                /* Sorted by label text. */
                char cur[64];
                snprintf(cur, sizeof(cur), "%.*s", 30, p + 1);
                assert_true(strcmp(prev, cur) < 0);
                memcpy(prev, cur, sizeof(prev));
        }
        assert_int_equal(samples, METRICS_MAX_SERIES_PER_FAMILY);
        assert_non_null(strstr(text, "hearth_h_bucket{x=\"1\",le=\"+Inf\"} 1\n"));
        assert_non_null(strstr(text, "hearth_h_bucket{le=\"+Inf\"} 1\n"));
}

/* Counts the samples of family name in text (its lines "name{" or "name "). */
static size_t samples_of(const char *text, const char *name)
{
        size_t n = 0, l = strlen(name);
        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, name, l) == 0 && (p[l] == '{' || p[l] == ' '))
                        n++;
        return n;
}

/* Alerts of 10,000 distinct towns (REQ: the town label comes from input),
 * then every other family of hearthd gets new series: each one reports,
 * with metrics.towns (towns outside it count as "other") and without it
 * (the alerts family stops at its own bound, and says how many it
 * dropped). */
static void test_many_towns(void **state)
{
        (void)state;
        char *const towns[] = {(char *)"温溪镇", (char *)"船寮镇"};
        for (int listed = 0; listed <= 1; listed++) {
                _cleanup_(metrics_freep) Metrics *m = metrics_new();
                char l[256], town[32], want[256];
                assert_non_null(m);
                assert_int_equal(metrics_declare_hearth(m), 0);
                if (listed)
                        assert_int_equal(metrics_label_values(m, "hearth_alerts_total", "town",
                                                              towns, 2, "other"),
                                         0);
                for (int i = 0; i < 10000; i++) {
                        snprintf(town, sizeof(town), "town-%05d", i);
                        metrics_labels(l, sizeof(l), "type", "risk.alert.raised", "code", "red",
                                       "town", i % 1000 == 0 ? "温溪镇" : town, NULL);
                        int r = metrics_counter_add(m, "hearth_alerts_total", l, 1);
                        assert_true(r == 0 || (!listed && r == -ENOSPC));
                }
                /* What the pipeline and the loop update after that. */
                metrics_labels(l, sizeof(l), "topic", "civil-affairs.events", "type",
                               "household.registered", NULL);
                assert_int_equal(metrics_counter_add(m, "hearth_events_total", l, 1), 0);
                metrics_labels(l, sizeof(l), "reason", "schema", NULL);
                assert_int_equal(metrics_counter_add(m, "hearth_dead_letters_total", l, 1), 0);
                metrics_labels(l, sizeof(l), "rule", "income_below_line", NULL);
                assert_int_equal(metrics_counter_add(m, "hearth_rule_firings_total", l, 1), 0);
                assert_int_equal(
                    metrics_counter_add(m, "hearth_resolutions_refused_total", NULL, 1), 0);
                assert_int_equal(metrics_gauge_set(m, "hearth_open_alerts", "code=\"red\"", 3), 0);
                assert_int_equal(metrics_gauge_set(m, "hearth_outbox_pending", NULL, 0), 0);
                assert_int_equal(metrics_gauge_set(m, "hearth_consumer_lag", NULL, 0), 0);
                assert_int_equal(metrics_gauge_set(m, "hearth_up", NULL, 1), 0);
                static const char *const hists[] = {
                    "hearth_event_processing_seconds", "hearth_redis_roundtrip_seconds",
                    "hearth_time_to_acknowledge_seconds", "hearth_time_to_eliminate_seconds"};
                for (size_t i = 0; i < ELEMENTSOF(hists); i++)
                        assert_int_equal(metrics_histogram_observe(m, hists[i], NULL, 1), 0);

                _cleanup_free_ char *text = metrics_render(m);
                assert_non_null(text);
                static const char *const families[] = {"hearth_events_total",
                                                       "hearth_dead_letters_total",
                                                       "hearth_rule_firings_total",
                                                       "hearth_resolutions_refused_total",
                                                       "hearth_open_alerts",
                                                       "hearth_outbox_pending",
                                                       "hearth_consumer_lag",
                                                       "hearth_up",
                                                       "hearth_event_processing_seconds_count",
                                                       "hearth_redis_roundtrip_seconds_count",
                                                       "hearth_time_to_acknowledge_seconds_count",
                                                       "hearth_time_to_eliminate_seconds_count"};
                for (size_t i = 0; i < ELEMENTSOF(families); i++)
                        if (samples_of(text, families[i]) != 1)
                                fail_msg("%s: %zu samples with%s metrics.towns", families[i],
                                         samples_of(text, families[i]), listed ? "" : "out");
                if (listed) {
                        /* Two series: the listed town and "other". */
                        assert_int_equal(samples_of(text, "hearth_alerts_total"), 2);
                        assert_non_null(strstr(text, "hearth_alerts_total{code=\"red\",town="
                                                     "\"other\",type=\"risk.alert.raised\"} "
                                                     "9990\n"));
                        assert_non_null(strstr(text,
                                               "hearth_alerts_total{code=\"red\",town="
                                               "\"温溪镇\",type=\"risk.alert.raised\"} 10\n"));
                        assert_int_equal(metrics_dropped_total(m), 0);
                } else {
                        assert_int_equal(samples_of(text, "hearth_alerts_total"),
                                         METRICS_MAX_SERIES_PER_FAMILY);
                        snprintf(
                            want, sizeof(want),
                            "hearth_metrics_dropped_series_total{family=\"hearth_alerts_total\"} "
                            "%d\n",
                            10000 - 9 - METRICS_MAX_SERIES_PER_FAMILY);
                        assert_non_null(strstr(text, want));
                        assert_non_null(strstr(text, "hearth_metrics_dropped_series_total{family="
                                                     "\"hearth_events_total\"} 0\n"));
                }
        }
}

/* metrics_label_values(): its errors, lifting the list, escaping. */
static void test_label_values(void **state)
{
        (void)state;
        _cleanup_(metrics_freep) Metrics *m = metrics_new();
        char *const odd[] = {(char *)"a\"b", (char *)"c"};
        char *const bad[] = {NULL};

        assert_non_null(m);
        assert_int_equal(metrics_declare(m, "hearth_x_total", METRIC_COUNTER, "x"), 0);
        assert_int_equal(metrics_label_values(m, "hearth_nope", "town", odd, 2, "other"), -ENOENT);
        assert_int_equal(metrics_label_values(m, "hearth_x_total", "1town", odd, 2, "other"),
                         -EINVAL);
        assert_int_equal(metrics_label_values(m, "hearth_x_total", "town", bad, 1, "other"),
                         -EINVAL);
        assert_int_equal(metrics_label_values(m, "hearth_x_total", "town", odd, 2, NULL), -EINVAL);
        assert_int_equal(metrics_label_values(m, "hearth_x_total", "town", odd, 2, "other"), 0);
        assert_int_equal(metrics_counter_add(m, "hearth_x_total", "town=\"a\\\"b\",k=\"1\"", 1), 0);
        assert_int_equal(metrics_counter_add(m, "hearth_x_total", "k=\"1\",town=\"zzz\"", 1), 0);
        assert_int_equal(metrics_counter_add(m, "hearth_x_total", "k=\"1\",town=\"other\"", 1), 0);
        /* A label set without the bounded label is left alone. */
        assert_int_equal(metrics_counter_add(m, "hearth_x_total", "k=\"2\"", 1), 0);
        _cleanup_free_ char *text = metrics_render(m);
        assert_non_null(strstr(text, "hearth_x_total{k=\"1\",town=\"a\\\"b\"} 1\n"));
        assert_non_null(strstr(text, "hearth_x_total{k=\"1\",town=\"other\"} 2\n"));
        assert_non_null(strstr(text, "hearth_x_total{k=\"2\"} 1\n"));
        assert_null(strstr(text, "zzz"));
        /* n = 0 lifts it. */
        assert_int_equal(metrics_label_values(m, "hearth_x_total", "town", NULL, 0, "other"), 0);
        assert_int_equal(metrics_counter_add(m, "hearth_x_total", "k=\"1\",town=\"zzz\"", 1), 0);
        _cleanup_free_ char *again = metrics_render(m);
        assert_non_null(strstr(again, "hearth_x_total{k=\"1\",town=\"zzz\"} 1\n"));
}

static void test_declare_hearth(void **state)
{
        (void)state;
        _cleanup_(metrics_freep) Metrics *m = metrics_new();
        static const char *const names[] = {
            "hearth_events_total",
            "hearth_dead_letters_total",
            "hearth_event_processing_seconds",
            "hearth_redis_roundtrip_seconds",
            "hearth_alerts_total",
            "hearth_open_alerts",
            "hearth_time_to_acknowledge_seconds",
            "hearth_time_to_eliminate_seconds",
            "hearth_outbox_pending",
            "hearth_consumer_lag",
            "hearth_rule_firings_total",
            "hearth_up",
            "hearth_metrics_dropped_series_total",
        };
        char l[256], want[128];

        assert_non_null(m);
        assert_int_equal(metrics_declare_hearth(m), 0);
        assert_int_equal(metrics_declare_hearth(m), 0);
        assert_int_equal(metrics_labels(l, sizeof(l), "type", "risk.alert.raised", "code", "red",
                                        "town", "qingtian", NULL),
                         0);
        assert_int_equal(metrics_counter_add(m, "hearth_alerts_total", l, 1), 0);
        assert_int_equal(
            metrics_histogram_observe(m, "hearth_event_processing_seconds", NULL, 0.003), 0);
        assert_int_equal(
            metrics_histogram_observe(m, "hearth_time_to_eliminate_seconds", NULL, 86400 * 3), 0);
        _cleanup_free_ char *text = metrics_render(m);
        assert_non_null(text);
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                snprintf(want, sizeof(want), "# TYPE %s ", names[i]);
                if (!strstr(text, want))
                        fail_msg("%s is not declared", names[i]);
        }
        assert_non_null(strstr(text, "hearth_alerts_total{code=\"red\",town=\"qingtian\","
                                     "type=\"risk.alert.raised\"} 1\n"));
        assert_non_null(strstr(text, "hearth_event_processing_seconds_bucket{le=\"0.0025\"} 0\n"
                                     "hearth_event_processing_seconds_bucket{le=\"0.005\"} 1\n"));
        assert_non_null(strstr(text, "hearth_time_to_eliminate_seconds_sum 259200\n"));
}

/* A TCP connection to 127.0.0.1:port from the loopback address src
 * (127.0.0.1, 127.0.0.2...). The fd, or -1. */
static int connect_from(const char *src, int port)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        struct sockaddr_in from = {.sin_family = AF_INET};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        if (inet_pton(AF_INET, src, &from.sin_addr) != 1 ||
            bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0 ||
            connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* One HTTP/1.0 request to 127.0.0.1:port from src. Returns the status, or
 * -1; *head and *body (malloc'ed) are the response's header block and
 * body. */
static int http_from(const char *src, int port, const char *method, const char *path, char **head,
                     char **body)
{
        char req[256];
        size_t len = 0, cap = 4096;
        char *buf = malloc(cap);
        int status = -1;

        *head = *body = NULL;
        int fd = connect_from(src, port);
        if (!buf || fd < 0)
                goto out;
        int n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: test\r\n\r\n", method, path);
        if (write(fd, req, (size_t)n) != n)
                goto out;
        for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, 5000) <= 0)
                        goto out;
                if (len + 1024 >= cap) {
                        char *nb = realloc(buf, cap * 2);
                        if (!nb)
                                goto out;
                        buf = nb;
                        cap *= 2;
                }
                ssize_t r = read(fd, buf + len, cap - len - 1);
                if (r < 0)
                        goto out;
                if (r == 0)
                        break;
                len += (size_t)r;
        }
        buf[len] = '\0';
        char *sep = strstr(buf, "\r\n\r\n");
        if (!sep || sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
                goto out;
        *sep = '\0';
        *head = strdup(buf);
        *body = strdup(sep + 4);
out:
        if (fd >= 0)
                close(fd);
        free(buf);
        return status;
}

static int http(int port, const char *method, const char *path, char **head, char **body)
{
        return http_from("127.0.0.1", port, method, path, head, body);
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 40 slow clients on 127.0.0.1 (connected, a request begun and never
 * finished) cannot keep /healthz from anyone: they hold at most
 * METRICS_HTTP_MAX_PER_ADDRESS connections, so another address is served
 * at once, and the same address once the idle timeout closed them. */
static void test_http_slow_clients(void **state)
{
        (void)state;
        _cleanup_(metrics_freep) Metrics *m = metrics_new();
        char err[256], *head, *body;
        int slow[40];

        assert_non_null(m);
        assert_int_equal(metrics_serve(m, "127.0.0.1:0", err, sizeof(err)), 0);
        int port = metrics_port(m);
        metrics_set_health(m, true, true);
        /* Another loopback address, if this host lets us bind one. */
        int probe = connect_from("127.0.0.2", port);
        bool other = probe >= 0;
        if (probe >= 0)
                close(probe);
        usleep(100 * 1000); /* the probe's slot is free again */

        for (size_t i = 0; i < ELEMENTSOF(slow); i++) {
                slow[i] = connect_from("127.0.0.1", port);
                assert_true(slow[i] >= 0);
                static const char part[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
                assert_int_equal(write(slow[i], part, sizeof(part) - 1), sizeof(part) - 1);
        }
        usleep(200 * 1000);
        double t0 = now_s();
        if (other) {
                assert_int_equal(http_from("127.0.0.2", port, "GET", "/healthz", &head, &body),
                                 200);
                free(head);
                free(body);
                assert_true(now_s() - t0 < 1.0);
        }
        /* The same address: served within the idle timeout (plus slack). */
        int status = -1;
        while (status != 200 && now_s() - t0 < METRICS_HTTP_TIMEOUT_S + 3) {
                status = http(port, "GET", "/healthz", &head, &body);
                free(head);
                free(body);
                if (status != 200)
                        usleep(100 * 1000);
        }
        assert_int_equal(status, 200);
        assert_true(now_s() - t0 < METRICS_HTTP_TIMEOUT_S + 3);
        /* The server closed every slow connection: each reads EOF (or a
         * reset) instead of waiting. */
        for (size_t i = 0; i < ELEMENTSOF(slow); i++) {
                struct pollfd p = {.fd = slow[i], .events = POLLIN};
                assert_int_equal(poll(&p, 1, (METRICS_HTTP_TIMEOUT_S + 3) * 1000), 1);
                char c;
                assert_true(read(slow[i], &c, 1) <= 0);
                close(slow[i]);
        }
}

static void test_http(void **state)
{
        (void)state;
        _cleanup_(metrics_freep) Metrics *m = metrics_new();
        char err[256];
        char *head, *body;

        assert_non_null(m);
        assert_int_equal(metrics_port(m), -ENOTCONN);
        assert_int_equal(metrics_declare(m, "hearth_events_total", METRIC_COUNTER, "Events"), 0);
        assert_int_equal(metrics_counter_add(m, "hearth_events_total", "topic=\"t\"", 3), 0);
        int r = metrics_serve(m, "127.0.0.1:0", err, sizeof(err));
        if (r < 0)
                fail_msg("metrics_serve: %s", err);
        int port = metrics_port(m);
        assert_true(port > 0);
        assert_int_equal(metrics_serve(m, "127.0.0.1:0", err, sizeof(err)), -EALREADY);

        /* /metrics is the rendered text. */
        assert_int_equal(http(port, "GET", "/metrics", &head, &body), 200);
        assert_non_null(strstr(head, "Content-Type: text/plain; version=0.0.4"));
        _cleanup_free_ char *text = metrics_render(m);
        assert_string_equal(body, text);
        assert_non_null(strstr(body, "hearth_events_total{topic=\"t\"} 3\n"));
        free(head);
        free(body);
        assert_int_equal(http(port, "GET", "/metrics?x=1", &head, &body), 200);
        free(head);
        free(body);

        /* /healthz: down until the loop says otherwise, then 200, then 503. */
        assert_int_equal(http(port, "GET", "/healthz", &head, &body), 503);
        assert_string_equal(body, "{\"kafka\":\"down\",\"redis\":\"down\"}\n");
        free(head);
        free(body);
        metrics_set_health(m, true, true);
        assert_int_equal(http(port, "GET", "/healthz", &head, &body), 200);
        assert_non_null(strstr(head, "Content-Type: application/json"));
        assert_string_equal(body, "{\"kafka\":\"ok\",\"redis\":\"ok\"}\n");
        free(head);
        free(body);
        metrics_set_health(m, true, false);
        assert_int_equal(http(port, "GET", "/healthz", &head, &body), 503);
        assert_string_equal(body, "{\"kafka\":\"ok\",\"redis\":\"down\"}\n");
        free(head);
        free(body);

        assert_int_equal(http(port, "GET", "/", &head, &body), 404);
        free(head);
        free(body);
        assert_int_equal(http(port, "POST", "/metrics", &head, &body), 405);
        assert_non_null(strstr(head, "Allow: GET, HEAD"));
        free(head);
        free(body);
        assert_int_equal(http(port, "HEAD", "/metrics", &head, &body), 200);
        assert_string_equal(body, "");
        free(head);
        free(body);

        /* Updates while the server renders: the lock keeps both consistent. */
        for (int i = 0; i < 50; i++) {
                char l[32];
                snprintf(l, sizeof(l), "topic=\"t%d\"", i);
                assert_int_equal(metrics_counter_add(m, "hearth_events_total", l, 1), 0);
                assert_int_equal(http(port, "GET", "/metrics", &head, &body), 200);
                assert_non_null(strstr(body, l));
                free(head);
                free(body);
        }

        /* The port is taken while serving. */
        _cleanup_(metrics_freep) Metrics *other = metrics_new();
        char addr[64];
        snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
        assert_int_equal(metrics_serve(other, addr, err, sizeof(err)), -EADDRINUSE);
        assert_non_null(strstr(err, "127.0.0.1:"));

        metrics_stop(m);
        assert_int_equal(metrics_port(m), -ENOTCONN);
        assert_int_equal(http(port, "GET", "/metrics", &head, &body), -1);
        free(head);
        free(body);
        metrics_stop(m);

        /* Served again after a stop, and freed while serving. */
        assert_int_equal(metrics_serve(m, "localhost:0", err, sizeof(err)), 0);
        assert_true(metrics_port(m) > 0);
}

static void test_listen_addresses(void **state)
{
        (void)state;
        _cleanup_(metrics_freep) Metrics *m = metrics_new();
        static const char *const bad[] = {
            "",         "127.0.0.1", ":9464", "127.0.0.1:",   "127.0.0.1:65536", "127.0.0.1:9x",
            "::1:9464", "[::1]9464", "[::1",  "127.0.0.1:-1",
        };
        char err[256];

        assert_non_null(m);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                err[0] = '\0';
                if (metrics_serve(m, bad[i], err, sizeof(err)) != -EINVAL)
                        fail_msg("accepted listen address \"%s\"", bad[i]);
                assert_true(err[0] != '\0');
        }
        /* A documentation address (RFC 5737) no interface has. */
        assert_int_equal(metrics_serve(m, "192.0.2.1:9464", err, sizeof(err)), -EADDRNOTAVAIL);
        assert_non_null(strstr(err, "192.0.2.1:9464: "));
        assert_int_equal(metrics_port(m), -ENOTCONN);

        /* IPv6 when the host has it. */
        int r = metrics_serve(m, "[::1]:0", err, sizeof(err));
        if (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT)
                return;
        assert_int_equal(r, 0);
        assert_true(metrics_port(m) > 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_render_format),
            cmocka_unit_test(test_numbers),
            cmocka_unit_test(test_errors),
            cmocka_unit_test(test_labels_checked),
            cmocka_unit_test(test_series_bound),
            cmocka_unit_test(test_declare_hearth),
            cmocka_unit_test(test_http),
            cmocka_unit_test(test_listen_addresses),
            cmocka_unit_test(test_many_towns),
            cmocka_unit_test(test_label_values),
            cmocka_unit_test(test_http_slow_clients),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
