/* Fuzz target: the config loader (config_load_buffer) and its value parsers.
 *
 * Input: a config file; after a NUL byte, "--set" overrides, one per line.
 * Oracles:
 * - never crashes; YAML aliases and deep nesting are refused (ytree);
 * - a refusal has diagnostics, an acceptance has none;
 * - an accepted config loads twice identically, and every value is within
 *   its key's documented range (floor lines sorted by year, monitor_factor
 *   1..10, language zh|en, paths absolute);
 * - config_parse_fixed2 and config_parse_duration, on the first line, give
 *   values that print back and parse to the same value. */
#include <errno.h>
#include <stdint.h>

#include "config.h"
#include "diag.h"
#include "fuzz_util.h"
#include "money.h"

#define PATH "fuzz.yaml" /* in the current folder, so that its dir resolves */

static char *dump(const Config *c)
{
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);
        if (!f)
                abort();
        fprintf(f, "%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s\n", c->path, c->dir, c->kafka_brokers,
                c->kafka_group, c->kafka_alerts, c->kafka_dead_letter, c->redis_url,
                c->redis_prefix, c->rules_dir, c->schemas_dir, c->language, c->log_level);
        fprintf(f, "%s\n", c->metrics_listen ? c->metrics_listen : "(null)");
        for (size_t i = 0; i < c->n_kafka_inputs; i++)
                fprintf(f, "in %s\n", c->kafka_inputs[i]);
        for (size_t i = 0; i < c->n_kafka_properties; i++)
                fprintf(f, "prop %s=%s\n", c->kafka_properties[i].key,
                        c->kafka_properties[i].value);
        for (size_t i = 0; i < c->n_thresholds; i++)
                fprintf(f, "th %s=%s\n", c->thresholds[i].key, c->thresholds[i].value);
        for (size_t i = 0; i < c->n_floor_lines; i++)
                fprintf(f, "line %d=%lld\n", c->floor_lines[i].year,
                        (long long)c->floor_lines[i].fen);
        const int64_t v[] = {c->redis_connect_timeout_ms,
                             c->redis_command_timeout_ms,
                             c->redis_retry_budget_ms,
                             c->monitor_factor,
                             c->respond_within_red_ms,
                             c->respond_within_yellow_ms,
                             c->reminder_after_ms,
                             c->visit_interval_ms,
                             c->timer_check_interval_ms,
                             c->batch_max,
                             c->poll_ms,
                             c->max_message_bytes,
                             c->dedup_window_ms,
                             c->outbox_max_pending,
                             c->max_attempts,
                             c->status_interval_ms};
        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
                fprintf(f, "%lld ", (long long)v[i]);
        fclose(f);
        return s;
}

static void check_config(const Config *c)
{
        ORACLE(c->language && (strcmp(c->language, "zh") == 0 || strcmp(c->language, "en") == 0),
               "language %s", c->language ? c->language : "(null)");
        ORACLE(c->monitor_factor >= 100 && c->monitor_factor <= 1000, "monitor_factor %lld",
               (long long)c->monitor_factor);
        for (size_t i = 1; i < c->n_floor_lines; i++)
                ORACLE(c->floor_lines[i - 1].year < c->floor_lines[i].year,
                       "floor lines not sorted");
        ORACLE(c->rules_dir && c->rules_dir[0] == '/' && c->schemas_dir && c->schemas_dir[0] == '/',
               "relative paths left: %s %s", c->rules_dir, c->schemas_dir);
        ORACLE(c->batch_max >= 1 && c->poll_ms >= 1 && c->poll_ms <= 1000 &&
                   c->max_message_bytes >= 1024 && c->max_attempts >= 1,
               "pipeline values out of range");
}

static void check_parsers(const char *line)
{
        int64_t x, y, ms, ms2;
        if (config_parse_fixed2(line, &x) == 0) {
                char b[64];
                ORACLE(x >= 0 && x <= 100000000000000000LL, "fixed2 %s = %lld", line, (long long)x);
                money_format(x, b, sizeof(b));
                ORACLE(config_parse_fixed2(b, &y) == 0 && y == x, "fixed2 %s -> %lld -> %s", line,
                       (long long)x, b);
        }
        if (config_parse_duration(line, &ms) == 0) {
                char b[64];
                ORACLE(ms >= 0, "duration %s = %lld ms", line, (long long)ms);
                snprintf(b, sizeof(b), "%lldms", (long long)ms);
                ORACLE(config_parse_duration(b, &ms2) == 0 && ms2 == ms,
                       "duration %s -> %lld -> %s", line, (long long)ms, b);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *nul = memchr(data, 0, size);
        size_t clen = nul ? (size_t)(nul - data) : size;
        char *sets_text = nul ? fuzz_strndup(nul + 1, size - clen - 1) : NULL;
        char *sets[8];
        size_t n_sets = 0;
        for (char *line = sets_text; line && n_sets < ELEMENTSOF(sets);) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                sets[n_sets++] = line;
                line = nl ? nl + 1 : NULL;
        }

        Diag *d = diag_new(), *d2 = diag_new();
        Config *c = NULL, *c2 = NULL;
        if (!d || !d2)
                abort();
        int r = config_load_buffer((const char *)data, clen, PATH, sets, n_sets, &c, d);
        ORACLE((r == 0) == (c != NULL), "returned %d and %p", r, (void *)c);
        if (r < 0) {
                ORACLE(diag_count(d) > 0, "refused (%d) without a diagnostic", r);
        } else {
                ORACLE(diag_count(d) == 0, "accepted with a diagnostic: %s", diag_get(d, 0));
                check_config(c);
                ORACLE(config_load_buffer((const char *)data, clen, PATH, sets, n_sets, &c2, d2) ==
                           0,
                       "loads once, not twice");
                char *a = dump(c), *b = dump(c2);
                ORACLE(strcmp(a, b) == 0, "loads differently:\n%s\n%s", a, b);
                free(a);
                free(b);
        }

        char *first = fuzz_strndup(data, clen);
        first[strcspn(first, "\n")] = '\0';
        check_parsers(first);

        free(first);
        config_free(c2);
        config_free(c);
        diag_free(d2);
        diag_free(d);
        free(sets_text);
        return 0;
}
