/* hearthctl: the operator's tool. Verbs read the same config as hearthd
 * (for Redis, rules and schemas) and share hearthd's modules. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "clock.h"
#include "config.h"
#include "ctl_verbs.h"
#include "escape.h"
#include "evaluate.h"
#include "event.h"
#include "lifecycle.h"
#include "schema.h"
#include "household.h"
#include "money.h"
#include "outcome.h"
#include "preview.h"
#include "redact.h"
#include "redis.h"
#include "ruletest.h"
#include "step.h"
#include "store.h"

#define EXIT_USAGE 2

typedef struct {
        const char *format; /* benefits: text, json, html; preview: text, json, csv */
        const char *rules;  /* preview: the candidate rules folder */
        const char *by;     /* preview: town or village */
        int year;           /* benefits: 0 = all */
        const char *config_path;
        char **sets;
        size_t n_sets;
        const char *redis_url;
        bool json;
} CtlArgs;

static void help(void)
{
        printf("Usage: hearthctl [OPTIONS] COMMAND [ARGS]\n"
               "\n"
               "The operator's tool for hearth.\n"
               "\n"
               "Commands:\n"
               "  household ID         a household's state, sums and recent events\n"
               "  benefits ID [--period YYYY-MM|YYYY-Qn|YYYY] [--year Y]\n"
               "              [--format text|json|html]\n"
               "                       the household's benefits statement (幸福清单, REQ-13)\n"
               "                       for the period (default: the latest that ended), the\n"
               "                       one hearthd publishes; json: its data as published\n"
               "  replay FILE          run a file of events (one CloudEvent per line, or\n"
               "                       KEY<TAB>EVENT) through the rules offline, no Kafka or\n"
               "                       Redis, and print the codes and alerts they produce\n"
               "  stats                supervision figures (REQ-14) and open alerts\n"
               "  report --by rule     per rule: alerts raised, how they ended (with help, by\n"
               "                       data, refused, reopened, false alarm) and the median\n"
               "                       time to elimination\n"
               "  report --by town|cadre|department [--from D] [--to D]\n"
               "              [--format text|json|csv|html]\n"
               "                       supervision (REQ-14) per group: alerts by colour and\n"
               "                       category, time to acknowledge and to eliminate (median,\n"
               "                       p90), escalations, overdue department answers, visits\n"
               "                       done vs due, satisfaction, key monitoring, candidates,\n"
               "                       refused resolutions; and the missed-monitoring audit\n"
               "  preview --rules DIR [--by town|village] [--format text|json|csv]\n"
               "                       what DIR's rules would change: every household's\n"
               "                       current state in Redis (read only) under the config's\n"
               "                       rules and under DIR's; households that would change\n"
               "                       colour per town or village, the rules that cause it,\n"
               "                       examples, and the rate\n"
               "  forget ID            erase the household's personal data now (right to\n"
               "                       erasure): it leaves monitoring; an audit line records\n"
               "                       when and by which uid, without personal data\n"
               "  test-rules [DIR]     run the rule tests in DIR/tests against DIR's rules\n"
               "                       (default: the config's rules.dir), like promtool\n"
               "  help                 this text\n"
               "\n"
               "Options:\n"
               "  -c, --config FILE    hearthd's config (default /etc/hearth/hearth.yaml)\n"
               "  -s, --set KEY=VALUE  override a config key\n"
               "  -r, --redis URL      Redis to read (overrides redis.url)\n"
               "  -j, --json           print JSON for scripts\n"
               "\n"
               "Exit status: 0 success, 1 failure, 2 usage error, 3 not found.\n");
}

/* Escaped copies of strings from input for the text output (escape.h):
 * a town named "\x1b[2J" prints as that text and clears no screen. A ring
 * of buffers, enough for every string of one printf. JSON output needs
 * none: jansson writes controls as \u001b. */
typedef struct {
        char buf[8][2048];
        unsigned next;
} Esc;

/* s escaped into the next buffer of e; NULL stays NULL (for ?:). */
static const char *esc(Esc *e, const char *s)
{
        char *b = e->buf[e->next++ % ELEMENTSOF(e->buf)];
        return s ? escape_str(s, b, sizeof(e->buf[0])) : NULL;
}

/* A string member of a JSON object, escaped. */
static const char *esc_get(Esc *e, const json_t *o, const char *key)
{
        return esc(e, json_string_value(json_object_get(o, key)));
}

static const char *const buckets[] = {
    "medical",       "fund_paid",     "education",     "disability",       "other",
    "disaster_loss", "accident_loss", "property_loss", "accident_medical", "relief",
};

/* The 12-month sums ending at the household's latest event date. */
static json_t *sums_json(const json_t *doc)
{
        json_t *o = json_object();
        int32_t latest = 0;
        const char *ls = json_string_value(json_object_get(doc, "latest"));
        if (!ls || date_parse(ls, &latest) < 0)
                return o;
        for (size_t i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++)
                json_object_set_new(o, buckets[i],
                                    json_integer(household_sum_12m(doc, buckets[i], latest)));
        return o;
}

/* Connects to the config's (or --redis) Redis; NULL after printing why. */
static Store *ctl_store(const CtlArgs *a, const Config *cfg, Redis **redis)
{
        const char *url = a->redis_url ? a->redis_url : cfg->redis_url;
        char err[512];
        /* redis.password_file applies to --redis too: no password needs to
         * be on hearthctl's command line. */
        *redis = redis_new(url, cfg->redis_password.value, cfg->redis_connect_timeout_ms,
                           cfg->redis_command_timeout_ms, err, sizeof(err));
        if (!*redis) {
                fprintf(stderr, "hearthctl: %s: %s\n", a->redis_url ? "--redis" : "redis.url", err);
                return NULL;
        }
        if (redis_connect(*redis) < 0) {
                fprintf(stderr, "hearthctl: redis %s: %s\n", redis_target(*redis),
                        redis_errstr(*redis));
                *redis = redis_free(*redis);
                return NULL;
        }
        return store_new(*redis, cfg->redis_prefix, cfg->kafka_group, cfg->dedup_window_ms);
}

static int cmd_household(const CtlArgs *a, const Config *cfg, const char *id)
{
        Esc e_ = {0}, *E = &e_;
        if (!household_id_valid(id, strlen(id))) {
                fprintf(stderr, "hearthctl: '%s' is not a household id (1-64 of A-Z a-z 0-9 _ -)\n",
                        esc(E, id));
                return EXIT_USAGE;
        }
        Redis *redis = NULL;
        int ret = EXIT_FAILURE;
        Store *store = ctl_store(a, cfg, &redis);
        if (!store)
                goto out;
        json_t *doc = NULL, *ledger = NULL, *timeline = NULL;
        int64_t version = 0;
        int r = store_household_dump(store, id, &doc, &version, &ledger, &timeline);
        if (r == -ENOENT) {
                fprintf(stderr, "hearthctl: household %s: no state\n", id);
                ret = 3;
                goto out;
        }
        if (r < 0) {
                fprintf(stderr, "hearthctl: household %s: %s\n", id, store_errstr(store));
                goto out;
        }
        json_t *sums = sums_json(doc);
        json_int_t ledger_total = 0;
        size_t i;
        json_t *e;
        json_array_foreach (ledger, i, e)
                ledger_total += json_integer_value(json_object_get(e, "amount"));
        if (a->json) {
                json_t *out =
                    json_pack("{s:s, s:I, s:O, s:O, s:I, s:O, s:O}", "household", id, "version",
                              (json_int_t)version, "state", doc, "sums_12m", sums, "ledger_total",
                              ledger_total, "ledger", ledger, "timeline", timeline);
                json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
                printf("\n");
                json_decref(out);
        } else {
                const json_t *prof = json_object_get(doc, "profile");
                printf("household %s (version %" PRId64 ")\n", id, version);
                printf("  registered: %s%s\n",
                       json_is_true(json_object_get(doc, "registered")) ? "yes" : "no",
                       json_is_true(json_object_get(doc, "removed")) ? " (removed)" : "");
                if (prof)
                        printf("  town/village: %s / %s, members: %zu, status: %s\n",
                               esc_get(E, prof, "town") ?: "-", esc_get(E, prof, "village") ?: "-",
                               household_size(doc), esc_get(E, prof, "status") ?: "-");
                const json_t *ev = json_object_get(doc, "eval");
                printf("  code: %s%s\n", esc_get(E, ev, "code") ?: "green",
                       json_is_true(json_object_get(ev, "monitored")) ? ", under key monitoring"
                                                                      : "");
                size_t ri;
                json_t *reason;
                json_array_foreach (json_object_get(ev, "reasons"), ri, reason) {
                        printf("    - %s [%s, %s]: %s\n", esc_get(E, reason, "severity") ?: "-",
                               esc_get(E, reason, "rule") ?: "-",
                               esc_get(E, reason, "category") ?: "-",
                               esc_get(E, reason, "message") ?: "");
                        const char *tc = esc_get(E, reason, "to_clear");
                        if (tc)
                                printf("      to clear: %s\n", tc);
                }
                const json_t *alert = json_object_get(doc, "alert");
                if (alert) {
                        char t[40];
                        lifecycle_format_time(
                            json_integer_value(json_object_get(alert, "respond_by_ms")), t,
                            sizeof(t));
                        printf("  open alert %s: %s, respond by %s, %s\n",
                               esc_get(E, alert, "id") ?: "-", esc_get(E, alert, "code") ?: "-", t,
                               json_object_get(alert, "acknowledged_ms") ? "acknowledged"
                                                                         : "not acknowledged");
                } else
                        printf("  open alert: none\n");
                const json_t *mon = json_object_get(doc, "monitoring");
                if (mon) {
                        char t[40];
                        lifecycle_format_time(json_integer_value(json_object_get(mon, "since_ms")),
                                              t, sizeof(t));
                        printf("  key monitoring since %s\n", t);
                }
                const json_t *ref = json_object_get(doc, "refusals");
                if (ref) {
                        char t[40];
                        lifecycle_format_time(json_integer_value(json_object_get(ref, "last_ms")),
                                              t, sizeof(t));
                        printf("  alert.resolved refused %" JSON_INTEGER_FORMAT
                               " time(s) (no help recorded since the alert was raised); "
                               "latest %s by %s for alert %s\n",
                               json_integer_value(json_object_get(ref, "n")), t,
                               esc_get(E, ref, "last_by") ?: "-", esc_get(E, ref, "alert") ?: "-");
                }
                const json_t *cand = json_object_get(doc, "candidate");
                if (cand && !household_registered(doc))
                        printf("  not registered: reported to the county as a candidate "
                               "(household.candidate.identified %s)\n",
                               esc_get(E, cand, "id") ?: "-");
                printf("  events applied: %" JSON_INTEGER_FORMAT ", latest event date: %s\n",
                       json_integer_value(json_object_get(doc, "events")),
                       esc_get(E, doc, "latest") ?: "-");
                printf("  12-month sums (yuan):\n");
                const char *k;
                json_t *v;
                json_object_foreach (sums, k, v) {
                        char buf[32];
                        money_format(json_integer_value(v), buf, sizeof(buf));
                        printf("    %-18s %s\n", k, buf);
                }
                printf("  open needs: %zu\n", json_object_size(json_object_get(doc, "needs")));
                printf("  pending (before registration): %zu\n",
                       json_array_size(json_object_get(doc, "pending")));
                char buf[32];
                money_format(ledger_total, buf, sizeof(buf));
                printf("  benefits received: %zu entries, %s yuan\n", json_array_size(ledger), buf);
                printf("  recent events:\n");
                json_array_foreach (timeline, i, e) {
                        if (i >= 10)
                                break;
                        printf("    %s  %s\n", esc_get(E, e, "date") ?: "",
                               esc_get(E, e, "type") ?: "");
                }
        }
        json_decref(sums);
        json_decref(doc);
        json_decref(ledger);
        json_decref(timeline);
        ret = EXIT_SUCCESS;
out:
        store_free(store);
        redis_free(redis);
        return ret;
}

/* forget ID: a right-to-erasure request. The household's personal data
 * goes at once (what dedup and the counts need stays, as after
 * retention.removed) and it leaves monitoring; an audit line without
 * personal data records who did it and when. */
static int cmd_forget(const CtlArgs *a, const Config *cfg, const char *id)
{
        if (!household_id_valid(id, strlen(id))) {
                fprintf(stderr, "hearthctl: '%s' is not a household id\n", id);
                return EXIT_USAGE;
        }
        Redis *redis = NULL;
        Store *store = ctl_store(a, cfg, &redis);
        if (!store)
                return EXIT_FAILURE;
        int ret = EXIT_FAILURE;
        if (store_prepare(store) < 0) {
                fprintf(stderr, "hearthctl: redis: %s\n", store_errstr(store));
                store_free(store);
                redis_free(redis);
                return EXIT_FAILURE;
        }
        for (int attempt = 0; attempt < 10; attempt++) {
                json_t *doc = NULL, *ledger = NULL, *timeline = NULL;
                int64_t version = 0;
                int r = store_household_dump(store, id, &doc, &version, &ledger, &timeline);
                json_decref(ledger);
                json_decref(timeline);
                if (r == -ENOENT) {
                        fprintf(stderr, "hearthctl: household %s: no state\n", id);
                        ret = 3;
                        break;
                }
                if (r < 0) {
                        fprintf(stderr, "hearthctl: household %s: %s\n", id, store_errstr(store));
                        break;
                }
                int64_t now = clock_wall_ms();
                json_object_set_new(doc, "removed", json_true());
                if (!json_object_get(doc, "removed_ms"))
                        json_object_set_new(doc, "removed_ms", json_integer(now));
                household_erase(doc, now);
                char *text = household_dump(doc);
                json_decref(doc);
                StoreCommit c = {
                    .household = id, .expected_version = version, .doc = text, .erase = true};
                r = text ? store_commit(store, &c, 1, now) : -ENOMEM;
                free(text);
                if (r < 0) {
                        fprintf(stderr, "hearthctl: household %s: %s\n", id, store_errstr(store));
                        break;
                }
                if (c.result == -ESTALE)
                        continue; /* hearthd changed it meanwhile: read again */
                if (c.result < 0) {
                        fprintf(stderr, "hearthctl: household %s: %s\n", id, c.errmsg);
                        break;
                }
                store_open_alert_set(store, id, NULL);
                char t[40], line[256];
                lifecycle_format_time(now, t, sizeof(t));
                snprintf(line, sizeof(line),
                         "{\"at\":\"%s\",\"action\":\"forget\",\"household\":\"%s\","
                         "\"uid\":%u}",
                         t, id, (unsigned)getuid());
                if (store_audit(store, line) < 0)
                        fprintf(stderr, "hearthctl: audit line not written: %s\n",
                                store_errstr(store));
                printf("household %s: personal data erased at %s; it left monitoring (audit: %s)\n",
                       id, t, line);
                ret = EXIT_SUCCESS;
                break;
        }
        store_free(store);
        redis_free(redis);
        return ret;
}

/* stats: the supervision figures (REQ-14) and open alerts. */
static int cmd_stats(const CtlArgs *a, const Config *cfg)
{
        Redis *redis = NULL;
        Store *store = ctl_store(a, cfg, &redis);
        if (!store)
                return EXIT_FAILURE;
        int64_t red = 0, yellow = 0;
        json_t *st = store_stats_get(store);
        json_t *pending = store_pending_list(store);
        int ret = EXIT_FAILURE;
        Esc e_ = {0}, *E = &e_;
        if (!st || !pending || store_open_counts(store, &red, &yellow) < 0) {
                fprintf(stderr, "hearthctl: stats: %s\n", store_errstr(store));
                goto out;
        }
        if (a->json) {
                json_t *out =
                    json_pack("{s:{s:I, s:I}, s:I, s:O}", "open_alerts", "red", (json_int_t)red,
                              "yellow", (json_int_t)yellow, "households_with_undelivered_outputs",
                              (json_int_t)json_array_size(pending), "counters", st);
                json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
                printf("\n");
                json_decref(out);
        } else {
                printf("open alerts: %" PRId64 " red, %" PRId64 " yellow\n", red, yellow);
                printf("households with undelivered outputs: %zu\n", json_array_size(pending));
                printf("outputs delivered (type:colour[:town] count):\n");
                const char *k;
                json_t *v;
                json_object_foreach (st, k, v)
                        printf("  %-60s %" JSON_INTEGER_FORMAT "\n", esc(E, k),
                               json_integer_value(v));
        }
        ret = EXIT_SUCCESS;
out:
        json_decref(st);
        json_decref(pending);
        store_free(store);
        redis_free(redis);
        return ret;
}

static void preview_progress(size_t done, void *u)
{
        int64_t *t0 = u;
        double s = (double)(clock_mono_ms() - *t0) / 1000.0;
        fprintf(stderr, "\rpreview: %zu households read, %.0f/s ", done, s > 0 ? done / s : 0);
}

/* preview --rules DIR: the candidate rules against the config's, over every
 * household's state in Redis; reads only (SCAN, HGET). */
static int cmd_preview(const CtlArgs *a, const Config *cfg)
{
        const char *format = a->format ? a->format : a->json ? "json" : "text";
        const char *by = a->by ? a->by : "town";
        if (!streq(format, "text") && !streq(format, "json") && !streq(format, "csv")) {
                fprintf(stderr, "hearthctl: --format must be text, json or csv\n");
                return EXIT_USAGE;
        }
        if (!streq(by, "town") && !streq(by, "village")) {
                fprintf(stderr, "hearthctl: --by must be town or village\n");
                return EXIT_USAGE;
        }
        Diag *d = diag_new();
        RuleSet *current = NULL, *candidate = NULL;
        Redis *redis = NULL;
        Store *store = NULL;
        Preview *p = NULL;
        int ret = EXIT_FAILURE;
        ExprFloorLine *lines = calloc(cfg->n_floor_lines + 1, sizeof(ExprFloorLine));
        if (!d || !lines)
                goto out;
        if (rules_load_dir(cfg->rules_dir, cfg, &current, d) < 0 ||
            rules_load_dir(a->rules, cfg, &candidate, d) < 0) {
                diag_print(d, stderr, "hearthctl: ");
                goto out;
        }
        rules_floor_lines(cfg, lines, cfg->n_floor_lines);
        p = preview_new(current, candidate, lines, cfg->n_floor_lines,
                        streq(by, "village") ? PREVIEW_BY_VILLAGE : PREVIEW_BY_TOWN);
        if (!p || !(store = ctl_store(a, cfg, &redis)))
                goto out;
        int64_t t0 = clock_mono_ms();
        int r = preview_run(p, store, (int32_t)(clock_wall_ms() / 86400000LL),
                            isatty(STDERR_FILENO) ? preview_progress : NULL, &t0);
        if (isatty(STDERR_FILENO))
                fprintf(stderr, "\n");
        if (r < 0) {
                fprintf(stderr, "hearthctl: preview: %s\n", store_errstr(store));
                goto out;
        }
        if (streq(format, "json")) {
                json_t *j = preview_json(p);
                json_object_set_new(j, "current", json_string(cfg->rules_dir));
                json_object_set_new(j, "candidate", json_string(a->rules));
                json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
                printf("\n");
                json_decref(j);
        } else if (streq(format, "csv")) {
                preview_write_csv(p, stdout);
        } else {
                printf("preview of the rules in %s against %s (by %s)\n", a->rules, cfg->rules_dir,
                       by);
                preview_write_text(p, stdout);
        }
        ret = EXIT_SUCCESS;
out:
        preview_free(p);
        store_free(store);
        redis_free(redis);
        rules_free(current);
        rules_free(candidate);
        free(lines);
        diag_free(d);
        return ret;
}

/* Wall ms of an RFC 3339 time ("2026-03-02T08:00:00+08:00"); 0 if bad. */
static int64_t rfc3339_ms(const char *s)
{
        int32_t days;
        int hh, mm, ss, n = 0;
        if (!s || strlen(s) < 20 || date_parse(s, &days) < 0 ||
            sscanf(s + 10, "T%2d:%2d:%2d%n", &hh, &mm, &ss, &n) != 3)
                return 0;
        const char *p = s + 10 + n;
        if (*p == '.')
                for (p++; *p >= '0' && *p <= '9'; p++)
                        ;
        int64_t off = 0;
        if (*p == '+' || *p == '-') {
                int oh, om;
                if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
                        return 0;
                off = (*p == '-' ? -1 : 1) * ((int64_t)oh * 3600 + om * 60);
        }
        return ((int64_t)days * 86400 + hh * 3600 + mm * 60 + ss - off) * 1000;
}

/* replay FILE: the events through the same decoder, state code, rules and
 * lifecycle as hearthd, in memory; the clock is each event's time. */
static int cmd_replay(const CtlArgs *a, const Config *cfg, const char *file)
{
        char err[1024];
        SchemaSet *schemas = NULL;
        RuleSet *rules = NULL;
        EventDecoder *dec = NULL;
        Diag *d = diag_new();
        int ret = EXIT_FAILURE;
        FILE *f = streq(file, "-") ? stdin : fopen(file, "re");
        json_t *households = json_object(), *codes = json_object();
        ExprFloorLine *lines = calloc(cfg->n_floor_lines + 1, sizeof(ExprFloorLine));
        Esc e_ = {0}, *E = &e_;
        if (!f) {
                fprintf(stderr, "hearthctl: %s: %s\n", esc(E, file), strerror(errno));
                goto out;
        }
        if (schema_set_load_dir(cfg->schemas_dir, &schemas, err, sizeof(err)) < 0) {
                fprintf(stderr, "hearthctl: %s\n", err);
                goto out;
        }
        if (rules_load_dir(cfg->rules_dir, cfg, &rules, d) < 0) {
                diag_print(d, stderr, "hearthctl: ");
                goto out;
        }
        dec = event_decoder_new(schemas, (size_t)cfg->max_message_bytes);
        if (!dec || !lines)
                goto out;
        rules_floor_lines(cfg, lines, cfg->n_floor_lines);
        LifecyclePolicy pol = lifecycle_policy(cfg);
        pol.candidate_grace_ms = 0; /* events in file order: no registration in flight */
        EvaluateRules re = {rules, lines, cfg->n_floor_lines};
        StepContext step = {evaluate_with, &re, dec, &pol, false};
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        unsigned lineno = 0, bad = 0, n_events = 0;
        int64_t clock = 0;
        while ((len = getline(&line, &cap, f)) >= 0) {
                lineno++;
                while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                        line[--len] = 0;
                char *json_text = line;
                char *tab = strchr(line, '\t');
                if (tab && line[0] != '{')
                        json_text = tab + 1;
                if (!*json_text || *json_text == '#')
                        continue;
                json_error_t je;
                json_t *root = json_loads(json_text, JSON_REJECT_DUPLICATES, &je);
                Event ev;
                if (!root) {
                        printf("%s:%u: dead letter: not JSON: %s\n", esc(E, file), lineno,
                               esc(E, je.text));
                        bad++;
                        continue;
                }
                if (event_from_json(dec, root, &ev, err, sizeof(err)) < 0) {
                        printf("%s:%u: dead letter: %s\n", esc(E, file), lineno, esc(E, err));
                        bad++;
                        continue;
                }
                n_events++;
                int64_t t = rfc3339_ms(json_string_value(json_object_get(ev.root, "time")));
                if (!t && ev.date)
                        t = (int64_t)ev.date * 86400000LL;
                if (t > clock)
                        clock = t;
                json_t *doc = json_object_get(households, ev.subject);
                if (!doc) {
                        doc = household_new();
                        json_object_set_new(households, ev.subject, doc);
                }
                json_t *outputs = json_array();
                /* Timers due by this event's time fire first, as they would
                 * have in the daemon. */
                lifecycle_timers(doc, ev.subject, clock, &pol, outputs);
                StepNotes notes;
                if (step_event(&step, doc, ev.subject, &ev, clock, NULL, outputs, &notes) < 0) {
                        printf("%s:%u: dead letter: limit reached for household %s\n", esc(E, file),
                               lineno, esc(E, ev.subject));
                        json_decref(outputs);
                        event_done(&ev);
                        continue;
                }
                if (notes.lifecycle & LIFECYCLE_RESOLUTION_REFUSED && !a->json)
                        printf("%s:%u: alert.resolved refused for household %s: no help recorded "
                               "since the alert was raised; the alert stays open\n",
                               esc(E, file), lineno, esc(E, ev.subject));
                size_t i;
                json_t *o;
                json_array_foreach (outputs, i, o) {
                        const json_t *data = json_object_get(o, "data");
                        if (a->json) {
                                char *ce = lifecycle_render(o, ev.subject);
                                printf("%s\n", ce ? ce : "null");
                                free(ce);
                                continue;
                        }
                        printf("%s  %-12s %-20s %-7s", esc_get(E, o, "time") ?: "-",
                               esc(E, ev.subject), esc_get(E, o, "type") ?: "-",
                               esc_get(E, data, "code") ?: "-");
                        size_t j;
                        json_t *r;
                        json_array_foreach (json_object_get(data, "reasons"), j, r)
                                printf(" %s", esc_get(E, r, "rule") ?: "-");
                        printf("\n");
                        json_array_foreach (json_object_get(data, "reasons"), j, r)
                                printf("      %s\n", esc_get(E, r, "message") ?: "");
                }
                json_decref(outputs);
                const json_t *evj = json_object_get(doc, "eval");
                /* "s": a default made here would be one reference too many. */
                json_object_set_new(
                    codes, ev.subject,
                    json_pack("{s:s, s:b}", "code",
                              json_string_value(json_object_get(evj, "code")) ?: "green",
                              "monitored", json_is_true(json_object_get(evj, "monitored"))));
                event_done(&ev);
        }
        free(line);
        if (!a->json) {
                printf("final codes:\n");
                const char *k;
                json_t *v;
                json_object_foreach (codes, k, v)
                        printf("  %-12s %s%s\n", esc(E, k), esc_get(E, v, "code") ?: "-",
                               json_is_true(json_object_get(v, "monitored")) ? " (key monitoring)"
                                                                             : "");
                printf("%u events replayed, %u dead letters\n", n_events, bad);
        }
        ret = EXIT_SUCCESS;
out:
        if (f && f != stdin)
                fclose(f);
        json_decref(households);
        json_decref(codes);
        free(lines);
        event_decoder_free(dec);
        rules_free(rules);
        schema_set_free(schemas);
        diag_free(d);
        return ret;
}

/* test-rules [DIR]: the rule tests of DIR/tests against DIR's rules. */
static int cmd_test_rules(const Config *cfg, const char *dir)
{
        const char *rules_dir = dir ? dir : cfg->rules_dir;
        char tests[4096];
        snprintf(tests, sizeof(tests), "%s/tests", rules_dir);
        int r = ruletest_run_dir(tests, rules_dir, cfg->schemas_dir, cfg, stdout);
        if (r < 0) {
                fprintf(stderr, "hearthctl: test-rules %s: %s\n", rules_dir, strerror(-r));
                return EXIT_FAILURE;
        }
        return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"config", required_argument, NULL, 'c'}, {"set", required_argument, NULL, 's'},
            {"redis", required_argument, NULL, 'r'},  {"json", no_argument, NULL, 'j'},
            {"help", no_argument, NULL, 'h'},         {},
        };
        /* No fastbins, as in hearthd (main.c): preview frees a page of
         * documents at a time, and malloc_consolidate was 12% of its CPU. */
        mallopt(M_MXFAST, 0);
        CtlArgs a = {.config_path = "/etc/hearth/hearth.yaml"};
        char **sets = calloc((size_t)argc, sizeof(char *));
        char *redis_url = NULL;
        int c, ret = EXIT_USAGE;
        bool config_given = false;
        if (!sets)
                return EXIT_FAILURE;
        a.sets = sets;
        /* "+": stop at the verb, so verbs may take their own options. */
        while ((c = getopt_long(argc, argv, "+c:s:r:jh", opts, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        a.config_path = optarg;
                        config_given = true;
                        break;
                case 's':
                        /* Copies, then the passwords leave what ps shows. */
                        if (!(sets[a.n_sets++] = strdup(optarg)))
                                goto out;
                        redact_argument(optarg);
                        break;
                case 'r':
                        free(redis_url);
                        if (!(redis_url = strdup(optarg)))
                                goto out;
                        a.redis_url = redis_url;
                        redact_argument(optarg);
                        break;
                case 'j':
                        a.json = true;
                        break;
                case 'h':
                        help();
                        ret = EXIT_SUCCESS;
                        goto out;
                default:
                        fprintf(stderr, "Try 'hearthctl help'.\n");
                        goto out;
                }
        }
        if (optind >= argc || strcmp(argv[optind], "help") == 0) {
                help();
                ret = optind >= argc ? EXIT_USAGE : EXIT_SUCCESS;
                goto out;
        }
        const char *verb = argv[optind++];
        /* Verb options after the verb (household ID --json). */
        int rest = 0;
        char **args = calloc((size_t)argc, sizeof(char *));
        if (!args)
                goto out;
        for (int i = optind; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
                        a.json = true;
                } else if ((strcmp(argv[i], "--rules") == 0 || strcmp(argv[i], "--by") == 0) &&
                           i + 1 < argc) {
                        if (argv[i][2] == 'r')
                                a.rules = argv[i + 1];
                        else
                                a.by = argv[i + 1];
                        i++;
                } else if ((strcmp(argv[i], "--year") == 0 || strcmp(argv[i], "--format") == 0) &&
                           i + 1 < argc) {
                        if (argv[i][2] == 'y') {
                                char *end;
                                long y = strtol(argv[i + 1], &end, 10);
                                if (*end || y < 2000 || y > 2100) {
                                        fprintf(stderr, "hearthctl: --year: expected 2000..2100\n");
                                        free(args);
                                        goto out;
                                }
                                a.year = (int)y;
                        } else
                                a.format = argv[i + 1];
                        i++;
                } else
                        args[rest++] = argv[i];
        }
        Config *cfg = NULL;
        Diag *d = diag_new();
        /* Without a config file, hearthd's defaults apply (plus --set). */
        int r = config_given || access(a.config_path, R_OK) == 0
                    ? config_load(a.config_path, a.sets, a.n_sets, &cfg, d)
                    : config_load_buffer("", 0, "./defaults", a.sets, a.n_sets, &cfg, d);
        if (r < 0) {
                diag_print(d, stderr, "hearthctl: ");
                diag_free(d);
                free(args);
                ret = EXIT_FAILURE;
                goto out;
        }
        diag_free(d);
        if (strcmp(verb, "household") == 0) {
                if (rest != 1) {
                        fprintf(stderr, "Usage: hearthctl household ID [--json]\n");
                        ret = EXIT_USAGE;
                } else
                        ret = cmd_household(&a, cfg, args[0]);
        } else if (strcmp(verb, "benefits") == 0) {
                CtlVerbArgs va = {a.format, a.json, a.by, a.year, a.redis_url};
                ret = ctl_benefits(&va, cfg, rest, args);
        } else if (strcmp(verb, "forget") == 0) {
                if (rest != 1) {
                        fprintf(stderr, "Usage: hearthctl forget ID\n");
                        ret = EXIT_USAGE;
                } else
                        ret = cmd_forget(&a, cfg, args[0]);
        } else if (strcmp(verb, "stats") == 0) {
                ret = cmd_stats(&a, cfg);
        } else if (strcmp(verb, "report") == 0) {
                CtlVerbArgs va = {a.format, a.json, a.by, a.year, a.redis_url};
                ret = ctl_report(&va, cfg, rest, args);
        } else if (strcmp(verb, "preview") == 0) {
                if (rest != 0 || !a.rules) {
                        fprintf(stderr, "Usage: hearthctl preview --rules DIR [--by town|village] "
                                        "[--format text|json|csv]\n");
                        ret = EXIT_USAGE;
                } else
                        ret = cmd_preview(&a, cfg);
        } else if (strcmp(verb, "replay") == 0) {
                if (rest != 1) {
                        fprintf(stderr, "Usage: hearthctl replay FILE [--json]\n");
                        ret = EXIT_USAGE;
                } else
                        ret = cmd_replay(&a, cfg, args[0]);
        } else if (strcmp(verb, "test-rules") == 0) {
                ret = cmd_test_rules(cfg, rest ? args[0] : NULL);
        } else {
                fprintf(stderr, "hearthctl: unknown command '%s'\nTry 'hearthctl help'.\n", verb);
                ret = EXIT_USAGE;
        }
        config_free(cfg);
        free(args);
out:
        for (size_t i = 0; i < a.n_sets; i++)
                free(sets[i]);
        free(sets);
        free(redis_url);
        return ret;
}
