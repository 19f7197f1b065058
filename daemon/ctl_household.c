/* hearthctl household and forget: one household's state in Redis, shown or
 * erased. */
#include "ctl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "event.h"
#include "household.h"
#include "lifecycle.h"
#include "money.h"
#include "rules.h"

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

/* hearthd stores its evaluation without the reasons' texts (message,
 * to_clear: it writes them into the outputs that carry reasons, the only
 * place they are published): the texts of each stored reason, written
 * again by the config's rules at the household's latest date, as hearthd
 * evaluated it. A rule that does not fire there (the rules changed since)
 * is shown without; rules that do not load leave every reason without
 * (said on stderr), and the command goes on. */
static void explain_stored(const Config *cfg, json_t *doc)
{
        json_t *reasons = json_object_get(json_object_get(doc, "eval"), "reasons");
        size_t n = json_array_size(reasons), k = 0, i;
        json_t *r;
        const char **names = calloc(n + 1, sizeof(char *));
        json_t **which = calloc(n + 1, sizeof(json_t *));
        char **messages = calloc(n + 1, sizeof(char *));
        char **texts = calloc(n + 1, sizeof(char *));
        Diag *d = diag_new();
        RuleSet *rs = NULL;
        ExprFloorLine *lines = calloc(cfg->n_floor_lines + 1, sizeof(ExprFloorLine));
        if (!names || !which || !messages || !texts || !d || !lines)
                goto out;
        json_array_foreach (reasons, i, r)
                if (!json_object_get(r, "message") || !json_object_get(r, "to_clear")) {
                        which[k] = r;
                        names[k++] = json_string_value(json_object_get(r, "rule"));
                }
        if (!k)
                goto out;
        if (rules_load_dir(cfg->rules_dir, cfg, &rs, d) < 0) {
                /* Said, not fatal: the state itself is shown. */
                fprintf(stderr, "hearthctl: the reasons' messages and what clears them are "
                                "written from the rules, which did not load:\n");
                diag_print(d, stderr, "hearthctl: ");
                goto out;
        }
        rules_floor_lines(cfg, lines, cfg->n_floor_lines);
        if (rules_explain_set(rs, doc, household_latest(doc), lines, cfg->n_floor_lines, names, k,
                              messages, texts) < 0)
                goto out;
        for (i = 0; i < k; i++) {
                if (messages[i] && !json_object_get(which[i], "message"))
                        json_object_set_new(which[i], "message", json_string(messages[i]));
                if (texts[i] && !json_object_get(which[i], "to_clear"))
                        json_object_set_new(which[i], "to_clear", json_string(texts[i]));
        }
out:
        for (i = 0; messages && texts && i < k; i++) {
                free(messages[i]);
                free(texts[i]);
        }
        free(names);
        free(which);
        free(messages);
        free(texts);
        free(lines);
        rules_free(rs);
        diag_free(d);
}

/* The text form of household: registration, code and reasons, the open
 * alert, key monitoring, refusals and candidacy. */
static void print_state(Esc *E, const char *id, int64_t version, const json_t *doc)
{
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
               json_is_true(json_object_get(ev, "monitored")) ? ", under key monitoring" : "");
        size_t ri;
        json_t *reason;
        json_array_foreach (json_object_get(ev, "reasons"), ri, reason) {
                printf("    - %s [%s, %s]: %s\n", esc_get(E, reason, "severity") ?: "-",
                       esc_get(E, reason, "rule") ?: "-", esc_get(E, reason, "category") ?: "-",
                       esc_get(E, reason, "message") ?: "");
                const char *tc = esc_get(E, reason, "to_clear");
                if (tc)
                        printf("      to clear: %s\n", tc);
        }
        const json_t *alert = json_object_get(doc, "alert");
        if (alert) {
                char t[40];
                lifecycle_format_time(json_integer_value(json_object_get(alert, "respond_by_ms")),
                                      t, sizeof(t));
                printf("  open alert %s: %s, respond by %s, %s\n", esc_get(E, alert, "id") ?: "-",
                       esc_get(E, alert, "code") ?: "-", t,
                       json_object_get(alert, "acknowledged_ms") ? "acknowledged"
                                                                 : "not acknowledged");
        } else
                printf("  open alert: none\n");
        const json_t *mon = json_object_get(doc, "monitoring");
        if (mon) {
                char t[40];
                lifecycle_format_time(json_integer_value(json_object_get(mon, "since_ms")), t,
                                      sizeof(t));
                printf("  key monitoring since %s\n", t);
        }
        const json_t *ref = json_object_get(doc, "refusals");
        if (ref) {
                char t[40];
                lifecycle_format_time(json_integer_value(json_object_get(ref, "last_ms")), t,
                                      sizeof(t));
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
}

/* The text form of household: events, 12-month sums, needs, pending
 * events, benefits and the recent events. */
static void print_figures(Esc *E, const json_t *doc, json_t *sums, const json_t *ledger,
                          json_int_t ledger_total, const json_t *timeline)
{
        size_t i;
        json_t *e;

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
                printf("    %s  %s\n", esc_get(E, e, "date") ?: "", esc_get(E, e, "type") ?: "");
        }
}

int ctl_household(const CtlArgs *a, const Config *cfg, const char *id)
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
        StoreDump d;
        int r = store_household_dump(store, id, &d);
        json_t *doc = d.doc, *ledger = d.ledger, *timeline = d.timeline;
        int64_t version = d.version;
        if (r == -ENOENT) {
                fprintf(stderr, "hearthctl: household %s: no state\n", id);
                ret = 3;
                goto out;
        }
        if (r < 0) {
                fprintf(stderr, "hearthctl: household %s: %s\n", id, store_errstr(store));
                goto out;
        }
        explain_stored(cfg, doc);
        json_t *sums = sums_json(doc);
        json_int_t ledger_total = 0;
        size_t i;
        json_t *e;
        json_array_foreach (ledger, i, e)
                ledger_total += json_integer_value(json_object_get(e, "amount"));
        if (a->json) {
                json_t *out =
                    json_pack("{s:s, s:I, s:O, s:O, s:I, s:O, s:O, s:O, s:I}", "household", id,
                              "version", (json_int_t)version, "state", doc, "sums_12m", sums,
                              "ledger_total", ledger_total, "ledger", ledger, "timeline", timeline,
                              "applied_offsets", d.offsets, "dedup_ids", (json_int_t)d.dedup_ids);
                json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
                printf("\n");
                json_decref(out);
        } else {
                print_state(E, id, version, doc);
                print_figures(E, doc, sums, ledger, ledger_total, timeline);
        }
        json_decref(sums);
        store_dump_done(&d);
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
int ctl_forget(const CtlArgs *a, const Config *cfg, const char *id)
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
                StoreRead rd = {.household = id};
                int r = store_read(store, &rd, 1);
                if (r < 0 || rd.err) {
                        fprintf(stderr, "hearthctl: household %s: %s\n", id,
                                r < 0 ? store_errstr(store) : rd.errmsg);
                        store_read_done(&rd);
                        break;
                }
                if (!rd.doc) {
                        fprintf(stderr, "hearthctl: household %s: no state\n", id);
                        ret = 3;
                        break;
                }
                json_t *doc = json_incref(rd.doc);
                int64_t now = clock_wall_ms();
                json_object_set_new(doc, "removed", json_true());
                if (!json_object_get(doc, "removed_ms"))
                        json_object_set_new(doc, "removed_ms", json_integer(now));
                household_erase(doc, now);
                char *text = household_dump(doc);
                json_decref(doc);
                StoreCommit c = {.household = id,
                                 .prev = &rd.rec,
                                 .expected_version = rd.version,
                                 .doc = text,
                                 .erase = true};
                r = text ? store_commit(store, &c, 1, now) : -ENOMEM;
                free(text);
                store_read_done(&rd);
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

int ctl_migrate(const CtlArgs *a, const Config *cfg)
{
        Redis *redis = NULL;
        Store *store = ctl_store(a, cfg, &redis);
        if (!store)
                return EXIT_FAILURE;
        size_t done = 0;
        int r = store_migrate(store, &done);
        if (r < 0)
                fprintf(stderr, "hearthctl: migrate: %s (%zu households converted before it)\n",
                        store_errstr(store), done);
        else
                printf("migrate: %zu households converted; Redis holds format %d\n", done,
                       STORE_FORMAT);
        store_free(store);
        redis_free(redis);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
