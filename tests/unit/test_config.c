/* Unit tests of the config loader: defaults, every error path with its
 * file:line:col, --set overrides, relative paths. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"
#include "diag.h"

/* Loads text as /etc/hearth/t.yaml; returns the result code, fills *c and
 * the diagnostics. */
static int load(const char *text, char **sets, size_t n_sets, Config **c, Diag **d)
{
        *d = diag_new();
        *c = NULL;
        return config_load_buffer(text, strlen(text), "/etc/hearth/t.yaml", sets, n_sets, c, *d);
}

static bool diag_has(const Diag *d, const char *needle)
{
        for (unsigned i = 0; i < diag_count(d) && i < DIAG_MAX; i++)
                if (strstr(diag_get(d, i), needle))
                        return true;
        return false;
}

static void test_defaults(void **state)
{
        (void)state;
        Config *c;
        Diag *d;
        assert_int_equal(load("", NULL, 0, &c, &d), 0);
        assert_string_equal(c->kafka_brokers, "127.0.0.1:9092");
        assert_string_equal(c->kafka_group, "hearth");
        assert_int_equal(c->n_kafka_inputs, 4);
        assert_string_equal(c->kafka_inputs[1], "medical-insurance.events");
        assert_string_equal(c->kafka_alerts, "hearth.alerts");
        assert_string_equal(c->kafka_dead_letter, "hearth.dlq");
        assert_string_equal(c->redis_url, "redis://127.0.0.1:6379/0");
        assert_int_equal(c->n_floor_lines, 1);
        assert_int_equal(c->floor_lines[0].year, 2022);
        assert_int_equal(c->floor_lines[0].fen, 1000000);
        assert_int_equal(c->monitor_factor, 120);
        assert_int_equal(c->respond_within_red_ms, 24LL * 3600 * 1000);
        assert_int_equal(c->batch_linger_ms, 5);
        /* relative paths resolve against the config file's folder */
        assert_string_equal(c->rules_dir, "/etc/hearth/rules");
        assert_string_equal(c->schemas_dir, "/etc/hearth/schemas");
        config_free(c);
        diag_free(d);
}

static void test_full_file(void **state)
{
        (void)state;
        const char *y = "kafka:\n"
                        "  brokers: \"k1:9092,k2:9092\"\n"
                        "  group: g\n"
                        "  topics:\n"
                        "    inputs: [a, b]\n"
                        "    alerts: out\n"
                        "    dead_letter: dlq\n"
                        "  properties:\n"
                        "    security.protocol: sasl_ssl\n"
                        "redis:\n"
                        "  url: \"unix:///run/redis.sock?db=2\"\n"
                        "rules:\n"
                        "  dir: /srv/rules\n"
                        "policy:\n"
                        "  floor_lines: {2024: 11000.5, 2022: 10000}\n"
                        "  monitor_factor: 1.5\n"
                        "pipeline:\n"
                        "  batch_max: 64\n"
                        "  poll_timeout: 50ms\n"
                        "  batch_linger: 0ms\n";
        Config *c;
        Diag *d;
        assert_int_equal(load(y, NULL, 0, &c, &d), 0);
        assert_string_equal(c->kafka_brokers, "k1:9092,k2:9092");
        assert_int_equal(c->n_kafka_inputs, 2);
        assert_string_equal(c->kafka_alerts, "out");
        assert_int_equal(c->n_kafka_properties, 1);
        assert_string_equal(c->kafka_properties[0].key, "security.protocol");
        assert_string_equal(c->rules_dir, "/srv/rules");
        assert_int_equal(c->n_floor_lines, 2);
        assert_int_equal(c->floor_lines[0].year, 2022); /* sorted */
        assert_int_equal(c->floor_lines[1].fen, 1100050);
        assert_int_equal(c->monitor_factor, 150);
        assert_int_equal(c->batch_max, 64);
        assert_int_equal(c->poll_ms, 50);
        assert_int_equal(c->batch_linger_ms, 0);
        config_free(c);
        diag_free(d);
}

/* Table of broken files: each must fail and name the place and the key. */
static const struct {
        const char *yaml;
        const char *expect;
} broken[] = {
    {"kafka:\n  brokers: a\n  group: [x\n", "t.yaml:4:1: "},
    {"kafka:\n  brokres: a\n", "t.yaml:2:3: unknown key 'kafka.brokres'"},
    {"nonsense: 1\n", "t.yaml:1:1: unknown key 'nonsense'"},
    {"pipeline:\n  batch_max: many\n", "t.yaml:2:14: pipeline.batch_max: expected an integer"},
    {"pipeline:\n  batch_max: 0\n", "t.yaml:2:14: pipeline.batch_max: must be between 1"},
    {"pipeline:\n  batch_max: \"5\"\n", "pipeline.batch_max: expected an integer"},
    {"redis:\n  url: [a]\n", "t.yaml:2:8: redis.url: expected string, got a list"},
    {"kafka: 5\n", "t.yaml:1:8: kafka: expected a mapping"},
    {"kafka:\n  topics:\n    inputs: []\n", "kafka.topics.inputs: needs between 1"},
    {"kafka:\n  topics:\n    inputs: x\n", "kafka.topics.inputs: expected a list"},
    {"alerts:\n  reminder_after: soon\n",
     "t.yaml:2:19: alerts.reminder_after: expected a duration"},
    {"policy:\n  floor_lines: {1999: 5}\n", "policy.floor_lines: expected a year"},
    {"policy:\n  floor_lines: {2023: 12.345}\n", "policy.floor_lines.2023: expected a positive"},
    {"policy:\n  monitor_factor: 1.234\n", "policy.monitor_factor: expected a number"},
    {"policy:\n  language: fr\n", "policy.language: must be one of zh|en"},
    {"a: &x 1\nb: *x\n", "anchors are not allowed"},
    {"kafka:\n  group: a\n  group: b\n", "t.yaml:3:3: duplicate key 'group'"},
    {"- a\n- b\n", "t.yaml:1:1: expected a mapping at the top"},
    {"---\na: 1\n---\nb: 2\n", "only one YAML document"},
};

static void test_broken(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
                Config *c;
                Diag *d;
                int r = load(broken[i].yaml, NULL, 0, &c, &d);
                if (r != -EINVAL || !diag_has(d, broken[i].expect)) {
                        fprintf(stderr, "case %zu: r=%d, wanted '%s', got:\n", i, r,
                                broken[i].expect);
                        diag_print(d, stderr, "  ");
                        fail();
                }
                assert_null(c);
                diag_free(d);
        }
}

static void test_all_errors_reported(void **state)
{
        (void)state;
        Config *c;
        Diag *d;
        const char *y = "kafka:\n  bogus: 1\npipeline:\n  batch_max: x\n  poll_timeout: y\n";
        assert_int_equal(load(y, NULL, 0, &c, &d), -EINVAL);
        assert_int_equal(diag_count(d), 3);
        assert_true(diag_has(d, "t.yaml:2:3:"));
        assert_true(diag_has(d, "t.yaml:4:14:"));
        assert_true(diag_has(d, "t.yaml:5:17:"));
        diag_free(d);
}

static void test_set_overrides(void **state)
{
        (void)state;
        char *sets[] = {
            "kafka.brokers=127.0.0.1:1234",          "kafka.topics.inputs=[x, y, z]",
            "kafka.properties.fetch.wait.max.ms=10", "pipeline.batch_max=9",
            "policy.floor_lines={2025: 12000}",
        };
        Config *c;
        Diag *d;
        assert_int_equal(
            load("kafka:\n  brokers: file:1\npipeline:\n  batch_max: 3\n", sets, 5, &c, &d), 0);
        assert_string_equal(c->kafka_brokers, "127.0.0.1:1234");
        assert_int_equal(c->n_kafka_inputs, 3);
        assert_string_equal(c->kafka_inputs[2], "z");
        assert_int_equal(c->n_kafka_properties, 1);
        assert_string_equal(c->kafka_properties[0].key, "fetch.wait.max.ms");
        assert_string_equal(c->kafka_properties[0].value, "10");
        assert_int_equal(c->batch_max, 9);
        assert_int_equal(c->floor_lines[0].year, 2025);
        config_free(c);
        diag_free(d);

        char *bad[] = {"nope.key=1", "pipeline.batch_max=-4", "novalue"};
        assert_int_equal(load("", bad, 3, &c, &d), -EINVAL);
        assert_true(diag_has(d, "unknown key 'nope.key'"));
        assert_true(diag_has(d, "--set pipeline.batch_max"));
        assert_true(diag_has(d, "expected KEY=VALUE"));
        diag_free(d);
}

static void test_parsers(void **state)
{
        (void)state;
        int64_t v;
        assert_int_equal(config_parse_duration("250ms", &v), 0);
        assert_int_equal(v, 250);
        assert_int_equal(config_parse_duration("30d", &v), 0);
        assert_int_equal(v, 30LL * 86400000);
        assert_int_equal(config_parse_duration("90", &v), 0);
        assert_int_equal(v, 90000);
        assert_int_equal(config_parse_duration("-1s", &v), -EINVAL);
        assert_int_equal(config_parse_duration("1w", &v), -EINVAL);
        assert_int_equal(config_parse_duration("99999999999999999999d", &v), -EINVAL);
        assert_int_equal(config_parse_fixed2("10000", &v), 0);
        assert_int_equal(v, 1000000);
        assert_int_equal(config_parse_fixed2("0.5", &v), 0);
        assert_int_equal(v, 50);
        assert_int_equal(config_parse_fixed2("0.05", &v), 0);
        assert_int_equal(v, 5);
        assert_int_equal(config_parse_fixed2("1.234", &v), -EINVAL);
        assert_int_equal(config_parse_fixed2("1.", &v), -EINVAL);
        assert_int_equal(config_parse_fixed2("-1", &v), -EINVAL);
        assert_int_equal(config_parse_fixed2("", &v), -EINVAL);
        assert_int_equal(config_parse_fixed2("99999999999999999", &v), -ERANGE);
}

static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(fwrite(text, 1, len, f), len);
        fclose(f);
}

/* No diagnostic quotes the secret. */
static bool diag_quotes(const Diag *d, const char *secret)
{
        return diag_has(d, secret);
}

/* redis.password_file and kafka.sasl_password_file: the first line of the
 * file, relative to the config's folder; every way the file can be wrong
 * is an error at the key's file:line:col that never quotes the content. */
static void test_secret_files(void **state)
{
        (void)state;
        char dir[] = "/tmp/hearth-config-test.XXXXXX";
        char cfg[600], text[1200];
        Config *c;
        Diag *d;
        assert_non_null(mkdtemp(dir));
        snprintf(cfg, sizeof(cfg), "%s/t.yaml", dir);
        write_file(dir, "pw", "S3cretPW\nsecond line S3cretPW2\n", 27);
        write_file(dir, "crlf", "S3cretPW\r\n", 10);
        write_file(dir, "empty", "", 0);
        write_file(dir, "blank", "\nS3cretPW\n", 10);
        write_file(dir, "nul", "S3cret\0PW\n", 10);
        char big[5000];
        memset(big, 'x', sizeof(big));
        write_file(dir, "big", big, sizeof(big));
        char sub[600];
        snprintf(sub, sizeof(sub), "%s/sub", dir);
        assert_int_equal(mkdir(sub, 0700), 0);

        snprintf(text, sizeof(text),
                 "redis:\n  password_file: pw\nkafka:\n  sasl_password_file: %s/crlf\n", dir);
        d = diag_new();
        assert_int_equal(config_load_buffer(text, strlen(text), cfg, NULL, 0, &c, d), 0);
        assert_string_equal(c->redis_password.value, "S3cretPW");
        snprintf(text, sizeof(text), "%s/pw", dir);
        assert_string_equal(c->redis_password.path, text);
        assert_string_equal(c->kafka_sasl_password.value, "S3cretPW");
        config_free(c);
        diag_free(d);

        /* Not set: nothing read. */
        assert_int_equal(load("", NULL, 0, &c, &d), 0);
        assert_null(c->redis_password.path);
        assert_null(c->redis_password.value);
        assert_null(c->kafka_sasl_password.value);
        config_free(c);
        diag_free(d);

        static const struct {
                const char *file, *why;
        } bad[] = {
            {"missing", "No such file or directory"},
            {"empty", "its first line is empty"},
            {"blank", "its first line is empty"},
            {"nul", "holds a NUL byte"},
            {"big", "larger than 4 KiB"},
            {"sub", "not a regular file"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                snprintf(text, sizeof(text), "redis:\n  url: redis://h/0\n  password_file: %s\n",
                         bad[i].file);
                d = diag_new();
                assert_int_equal(config_load_buffer(text, strlen(text), cfg, NULL, 0, &c, d),
                                 -EINVAL);
                char want[700];
                snprintf(want, sizeof(want), "t.yaml:3:18: redis.password_file: %s/%s: %s", dir,
                         bad[i].file, bad[i].why);
                if (!diag_has(d, want))
                        fail_msg("%s: got '%s'", bad[i].file, diag_get(d, 0));
                assert_false(diag_quotes(d, "S3cret"));
                diag_free(d);
        }

        /* sasl.password from a file and in kafka.properties: keep one. */
        snprintf(text, sizeof(text),
                 "kafka:\n  sasl_password_file: pw\n  properties:\n    sasl.password: "
                 "S3cretPW\n");
        d = diag_new();
        assert_int_equal(config_load_buffer(text, strlen(text), cfg, NULL, 0, &c, d), -EINVAL);
        assert_true(diag_has(d, "are both set: keep one"));
        assert_false(diag_quotes(d, "S3cret"));
        diag_free(d);

        /* --set: the file key is given like any other. */
        char set[700];
        snprintf(set, sizeof(set), "redis.password_file=%s/crlf", dir);
        char *sets[] = {set};
        assert_int_equal(load("", sets, 1, &c, &d), 0);
        assert_string_equal(c->redis_password.value, "S3cretPW");
        config_free(c);
        diag_free(d);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                snprintf(text, sizeof(text), "%s/%s", dir, bad[i].file);
                unlink(text);
        }
        snprintf(text, sizeof(text), "%s/pw", dir);
        unlink(text);
        snprintf(text, sizeof(text), "%s/crlf", dir);
        unlink(text);
        rmdir(sub);
        rmdir(dir);
}

/* Error messages never quote the value of a key that names a secret, nor a
 * URL's password. */
static void test_secrets_not_echoed(void **state)
{
        (void)state;
        Config *c;
        Diag *d;
        char *sets[] = {
            "redis.url:redis://:S3cretPW@h/0",
            "kafka.properties.sasl.password:S3cretPW",
            "kafka.properties.sasl.password=[S3cretPW]",
        };
        assert_int_equal(
            load("kafka:\n  properties:\n    ssl.key.password: [S3cretPW]\n", sets, 3, &c, &d),
            -EINVAL);
        assert_int_equal(diag_count(d), 4);
        for (unsigned i = 0; i < diag_count(d); i++)
                if (strstr(diag_get(d, i), "S3cret"))
                        fail_msg("quotes the secret: %s", diag_get(d, i));
        assert_true(diag_has(d, "'redis.url:redis://:***@h/0'"));
        assert_true(diag_has(d, "not shown: it names a secret"));
        diag_free(d);
}

static void test_metrics_towns(void **state)
{
        (void)state;
        Config *c;
        Diag *d;
        assert_int_equal(load("", NULL, 0, &c, &d), 0);
        assert_int_equal(c->n_metrics_towns, 0);
        config_free(c);
        diag_free(d);
        assert_int_equal(load("metrics:\n  towns: [温溪镇, 船寮镇]\n", NULL, 0, &c, &d), 0);
        assert_int_equal(c->n_metrics_towns, 2);
        assert_string_equal(c->metrics_towns[1], "船寮镇");
        config_free(c);
        diag_free(d);
        char *sets[] = {"metrics.towns=[]"};
        assert_int_equal(load("metrics:\n  towns: [温溪镇]\n", sets, 1, &c, &d), 0);
        assert_int_equal(c->n_metrics_towns, 0);
        config_free(c);
        diag_free(d);
        assert_int_equal(load("metrics:\n  towns: [\"\"]\n", NULL, 0, &c, &d), -EINVAL);
        assert_true(diag_has(d, "metrics.towns[0]: expected a non-empty string"));
        diag_free(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_defaults),      cmocka_unit_test(test_full_file),
            cmocka_unit_test(test_broken),        cmocka_unit_test(test_all_errors_reported),
            cmocka_unit_test(test_set_overrides), cmocka_unit_test(test_parsers),
            cmocka_unit_test(test_secret_files),  cmocka_unit_test(test_secrets_not_echoed),
            cmocka_unit_test(test_metrics_towns),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
