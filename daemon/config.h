/* hearthd's configuration: one table of keys (type, default, validator,
 * whether a reload may change it), loaded from YAML, overridden by
 * `--set dotted.key=value`. Relative paths resolve against the folder of the
 * config file. Every error is reported as file:line:col and all errors of a
 * file are reported before the load fails. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "diag.h"

typedef struct {
        char *key;
        char *value;
} ConfigPair;

typedef struct {
        int year;
        int64_t fen;
} ConfigFloorLine;

/* A county department that answers alerts in time (限时答复, REQ-9) and
 * receives social aid matches (REQ-12): departments.c parses them. */
typedef struct ConfigDepartment {
        char *id;          /* 1..64 of A-Z a-z 0-9 _ - */
        char *name;        /* Chinese name, e.g. 县民政局 */
        char **categories; /* reason categories and need/offer categories it answers for */
        size_t n_categories;
        int64_t answer_within_ms; /* answer deadline from when an alert reaches it */
} ConfigDepartment;

/* A secret kept in a file of its own (redis.password_file,
 * kafka.sasl_password_file), so that it is on no command line and the
 * config itself holds none. The file is read when the config loads. */
typedef struct {
        char *path;  /* absolute; NULL when the key is not set */
        char *value; /* the file's first line; never printed */
} ConfigSecret;

typedef struct Config {
        char *path; /* the config file as given */
        char *dir;  /* its folder, absolute */

        /* kafka (CONTRACT.md fixed keys) */
        char *kafka_brokers;
        char *kafka_group;
        char **kafka_inputs;
        size_t n_kafka_inputs;
        char *kafka_alerts;
        char *kafka_dead_letter;
        ConfigPair *kafka_properties; /* librdkafka pass-through, both clients */
        size_t n_kafka_properties;
        ConfigSecret kafka_sasl_password; /* librdkafka's sasl.password */

        /* redis */
        char *redis_url;
        ConfigSecret redis_password; /* AUTH, instead of a password in redis_url */
        char *redis_prefix;
        int64_t redis_connect_timeout_ms;
        int64_t redis_command_timeout_ms;
        char *redis_cluster;         /* seed nodes; "" for one Redis */
        int64_t redis_wait_replicas; /* cluster: WAIT this many before positions move */
        int64_t redis_wait_timeout_ms;
        int64_t redis_retry_budget_ms;

        /* files */
        char *rules_dir;
        char *schemas_dir;

        /* policy (REQ-2) */
        ConfigFloorLine *floor_lines; /* sorted by year */
        size_t n_floor_lines;
        int64_t monitor_factor; /* ×100 fixed point: 120 = 1.2 */
        ConfigPair *thresholds; /* name -> number text (yuan or plain) */
        size_t n_thresholds;
        char *language;            /* "zh" or "en" */
        ConfigPair *sources_allow; /* event type -> comma-separated source prefixes */
        size_t n_sources_allow;
        ConfigDepartment *departments; /* REQ-9, REQ-12 (departments.h) */
        size_t n_departments;

        /* lifecycle and timers */
        int64_t respond_within_red_ms;
        int64_t respond_within_yellow_ms;
        int64_t respond_within_urgent_ms; /* rules with respond_within: urgent */
        int64_t candidate_grace_ms;       /* household.candidate.identified after this */
        int64_t retention_removed_ms;     /* personal data of a removed household */
        int64_t dedup_max;                /* source+id pairs remembered per household */
        char *benefits_period;            /* "monthly" or "quarterly" (REQ-13) */
        int64_t benefits_delay_ms;        /* statement sent this long after its period */
        int64_t reminder_after_ms;
        int64_t visit_interval_ms;
        int64_t timer_check_interval_ms;

        /* pipeline */
        int64_t batch_max;
        int64_t poll_ms;
        int64_t batch_linger_ms;
        int64_t max_message_bytes;
        int64_t dedup_window_ms;
        int64_t outbox_max_pending;
        int64_t max_attempts;

        /* operations */
        char *metrics_listen;
        char **metrics_towns; /* town label values of hearth_alerts_total */
        size_t n_metrics_towns;
        char *log_level;
        int64_t status_interval_ms;
} Config;

/* Loads the config from buf (borrowed); path names the file in diagnostics
 * and anchors relative paths. sets are "key=value" overrides applied after
 * the file. On success *ret is the config (free with config_free()); on
 * failure -EINVAL and every problem is in diag. */
int config_load_buffer(const char *buf, size_t len, const char *path, char *const *sets,
                       size_t n_sets, Config **ret, Diag *diag);
/* Same, reading path: a regular file of at most CONFIG_MAX_FILE_BYTES. */
#define CONFIG_MAX_FILE_BYTES (1024 * 1024)
int config_load(const char *path, char *const *sets, size_t n_sets, Config **ret, Diag *diag);
Config *config_free(Config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);

/* Lists every key with its type, default and whether a reload may change it
 * (for `hearthd --help-config`). */
void config_dump_keys(FILE *f);

/* The years from the first configured floor line up to `through` that
 * have no line of their own (they use the latest earlier line), written
 * as "2023, 2024 (2022's line, 10000 yuan)" into buf. Returns how many such
 * years there are (0: every year has its line, buf empty). */
int config_floor_line_gaps(const Config *c, int through, char *buf, size_t len);

/* Parses a duration like "250ms", "90s", "15m", "24h", "30d" into ms. */
int config_parse_duration(const char *s, int64_t *ret_ms);
/* Parses a decimal with at most 2 decimals ("10000", "1.2", "0.05") into
 * ×100 fixed point. -EINVAL on syntax, -ERANGE beyond 10^15. */
int config_parse_fixed2(const char *s, int64_t *ret);
