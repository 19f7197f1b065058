/* hload: a reproducible population of households for previews, their
 * events, and their state written to Redis the way hearthd writes it.
 *
 *   hload -H HOUSEHOLDS [-s SEED] [-c CONFIG] [-o EVENTS] [-t TOWNS] [-r REDIS_URL]
 *         [-j JOBS] [-p PREFIX]
 *
 * Households spread over 5 towns of 4 villages, with 1 to 5 members, last
 * year's income around the floor line, and a reproducible mix of medical
 * claims, schooling and disability costs, disasters, needs and visits in
 * the first quarter of 2026.
 *   -o EVENTS  writes their events, "household<TAB>CloudEvent" lines, for
 *              hearthctl replay (each household's events in order)
 *   -t TOWNS   writes "household<TAB>town<TAB>village" lines
 *   -r URL     applies each household's events with the household step that
 *              hearthd, replay and the rule tests share (step.c: decoder,
 *              state, the config's rules, lifecycle) and commits its document
 *              with the commit script (store.c), as hearthd does; no outbox,
 *              no Kafka. The households must not exist yet.
 *   -j JOBS    processes for -r (households split by index)
 * Prints what it did and the rate on stderr. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "calendar.h"
#include "clock.h"
#include "config.h"
#include "evaluate.h"
#include "event.h"
#include "household.h"
#include "lifecycle.h"
#include "redis.h"
#include "schema.h"
#include "step.h"
#include "store.h"

#define BATCH 256

static const char *const towns[5] = {"温溪镇", "鹤城街道", "船寮镇", "油竹街道", "仁庄镇"};
static const char *const villages[4] = {"东岸村", "西山村", "南坑村", "北溪村"};

static uint64_t mix(uint64_t z)
{
        z += 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

typedef struct {
        uint64_t s;
} Rng;

static uint64_t rnd(Rng *r, uint64_t n)
{
        r->s = mix(r->s);
        return n ? r->s % n : r->s;
}

static void yuan(char *buf, size_t len, int64_t fen)
{
        snprintf(buf, len, "%" PRId64 ".%02" PRId64, fen / 100, fen % 100);
}

/* The events of household h, as CloudEvent texts (a JSON array). */
static json_t *household_events(uint64_t seed, long h, const char *prefix, char *id, size_t idlen,
                                int *town, int *village)
{
        Rng r = {mix(seed ^ (uint64_t)h * 0x100000001b3ULL)};
        json_t *out = json_array();
        char buf[2048], a[32], b[32], c[32];
        snprintf(id, idlen, "%s%07ld", prefix, h);
        *town = (int)rnd(&r, 5);
        *village = (int)rnd(&r, 4);
        int members = 1 + (int)rnd(&r, 5);
        /* Per person between 6000 and 20000 yuan: some below the line of
         * 10000, some near it. */
        int64_t income = members * (600000 + (int64_t)rnd(&r, 1400000));
        char mem[1024] = "";
        size_t off = 0;
        for (int m = 0; m < members; m++)
                off += (size_t)snprintf(
                    mem + off, sizeof(mem) - off,
                    "%s{\"id\":\"m%d\",\"labor\":\"%s\",\"disability_grade\":%d,"
                    "\"serious_illness\":%s,\"incapacitated\":false,\"student\":%s}",
                    m ? "," : "", m + 1,
                    m == 0   ? "full"
                    : m == 1 ? "partial"
                             : "none",
                    rnd(&r, 20) == 0 ? 2 : 0, rnd(&r, 25) == 0 ? "true" : "false",
                    m >= 2 ? "true" : "false");
        yuan(a, sizeof(a), income);
        snprintf(buf, sizeof(buf),
                 "{\"specversion\":\"1.0\",\"id\":\"reg-%s\",\"source\":\"hload/civil\","
                 "\"type\":\"household.registered\",\"time\":\"2026-01-05T09:00:00+08:00\","
                 "\"subject\":\"%s\",\"data\":{\"town\":\"%s\",\"village\":\"%s\",\"cadre\":"
                 "{\"id\":\"C%03d\"},\"members\":[%s],\"status\":\"low_income\","
                 "\"income_last_year\":{\"year\":2025,\"disposable\":%s}}}",
                 id, id, towns[*town], villages[*village], *town * 4 + *village, mem, a);
        json_array_append_new(out, json_string(buf));
        int day = 6;
        int n = (int)rnd(&r, 4);
        for (int e = 0; e < n; e++) {
                day += 1 + (int)rnd(&r, 20);
                char date[16];
                snprintf(date, sizeof(date), "2026-%02d-%02d", 1 + (day - 1) / 28,
                         1 + (day - 1) % 28);
                uint64_t kind = rnd(&r, 100);
                int len = 0;
                const char *hdr = "{\"specversion\":\"1.0\",\"id\":\"%s-%d\",\"source\":\"hload/"
                                  "%s\",\"type\":\"%s\",\"time\":\"%sT09:00:00+08:00\","
                                  "\"subject\":\"%s\",\"data\":";
                char head[512];
                if (kind < 40) {
                        /* Out of pocket up to 1.3 x last year's income. */
                        int64_t oop = (int64_t)rnd(&r, (uint64_t)(income * 13 / 10));
                        int64_t fund = (int64_t)rnd(&r, 3000000);
                        yuan(a, sizeof(a), oop + fund);
                        yuan(b, sizeof(b), fund);
                        yuan(c, sizeof(c), oop);
                        snprintf(head, sizeof(head), hdr, id, e, "medical", "medical.claim.settled",
                                 date, id);
                        len = snprintf(buf, sizeof(buf),
                                       "%s{\"claim_id\":\"c%d\",\"member_id\":\"m1\",\"kind\":"
                                       "\"inpatient\",\"major_disease\":%s,\"total\":%s,"
                                       "\"fund_paid\":%s,\"out_of_pocket\":%s,\"settled_on\":"
                                       "\"%s\"}}",
                                       head, e, rnd(&r, 4) == 0 ? "true" : "false", a, b, c, date);
                } else if (kind < 55) {
                        yuan(a, sizeof(a), (int64_t)rnd(&r, (uint64_t)income));
                        snprintf(head, sizeof(head), hdr, id, e, "app", "expense.reported", date,
                                 id);
                        len = snprintf(buf, sizeof(buf),
                                       "%s{\"category\":\"%s\",\"amount\":%s,\"incurred_on\":"
                                       "\"%s\"}}",
                                       head, rnd(&r, 2) ? "education" : "disability", a, date);
                } else if (kind < 65) {
                        static const char *const damage[] = {"none", "minor", "moderate", "severe"};
                        yuan(a, sizeof(a), (int64_t)rnd(&r, 2000000));
                        yuan(b, sizeof(b), (int64_t)rnd(&r, (uint64_t)income / 2));
                        snprintf(head, sizeof(head), hdr, id, e, "disaster",
                                 "disaster.loss.reported", date, id);
                        len = snprintf(buf, sizeof(buf),
                                       "%s{\"disaster\":\"flood\",\"occurred_on\":\"%s\","
                                       "\"house_damage\":\"%s\",\"property_loss\":%s,"
                                       "\"income_loss\":%s,\"injured\":%d,\"deaths\":0}}",
                                       head, date, damage[rnd(&r, 4)], a, b, (int)rnd(&r, 3) / 2);
                } else if (kind < 85) {
                        snprintf(head, sizeof(head), hdr, id, e, "app", "need.reported", date, id);
                        len = snprintf(buf, sizeof(buf),
                                       "%s{\"need_id\":\"n%d\",\"channel\":\"self\",\"category\":"
                                       "\"medical\",\"urgent\":%s}}",
                                       head, e, rnd(&r, 5) == 0 ? "true" : "false");
                } else {
                        static const char *const ck[] = {"ok", "ok", "ok", "ok", "risk"};
                        snprintf(head, sizeof(head), hdr, id, e, "app", "visit.recorded", date, id);
                        len = snprintf(buf, sizeof(buf),
                                       "%s{\"cadre_id\":\"C001\",\"visited_on\":\"%s\",\"checks\":"
                                       "{\"food_clothing\":\"ok\",\"education\":\"ok\","
                                       "\"medical\":\"%s\",\"housing\":\"%s\",\"drinking_water\":"
                                       "\"%s\"}}}",
                                       head, date, ck[rnd(&r, 5)], ck[rnd(&r, 5)], ck[rnd(&r, 5)]);
                }
                if (len > 0 && (size_t)len < sizeof(buf))
                        json_array_append_new(out, json_string(buf));
        }
        return out;
}

/* Wall ms of "YYYY-MM-DDTHH:MM:SS+08:00". */
static int64_t time_ms(const char *t)
{
        int32_t d;
        int hh = 9;
        if (!t || calendar_time_parse(t, strlen(t), &d, NULL) < 0)
                return 0;
        sscanf(t + 11, "%2d", &hh);
        return ((int64_t)d * 86400 + (hh - 8) * 3600) * 1000;
}

typedef struct {
        uint64_t seed;
        long households;
        const char *prefix;
        const Config *cfg;
        const EventDecoder *dec;
        const RuleSet *rules;
        const ExprFloorLine *lines;
} Job;

/* Applies and commits households k, k + jobs, ... Returns 0 or 1. */
static int load(const Job *j, int k, int jobs)
{
        char err[256] = "bad URL";
        Redis *redis = redis_new(j->cfg->redis_url, j->cfg->redis_password.value, 5000, 30000, err,
                                 sizeof(err));
        if (redis && j->cfg->redis_cluster[0] &&
            redis_set_cluster(redis, j->cfg->redis_cluster, err, sizeof(err)) < 0)
                redis = redis_free(redis);
        if (!redis || redis_connect(redis) < 0) {
                fprintf(stderr, "hload: redis: %s\n", redis ? redis_errstr(redis) : err);
                return 1;
        }
        Store *store = store_new(redis, j->cfg->redis_prefix, j->cfg->kafka_group, 0);
        if (!store || store_prepare(store) < 0) {
                fprintf(stderr, "hload: redis: %s\n", store_errstr(store));
                return 1;
        }
        LifecyclePolicy pol = lifecycle_policy(j->cfg);
        pol.candidate_grace_ms = 0;
        EvaluateRules ev = {j->rules, j->lines, j->cfg->n_floor_lines};
        StepContext sc = {evaluate_with, &ev, j->dec, &pol, false, NULL};
        StoreCommit commits[BATCH];
        char *texts[BATCH];
        char ids[BATCH][32];
        size_t n = 0;
        int ret = 0;
        for (long h = k; h < j->households && ret == 0; h += jobs) {
                int town, village;
                json_t *evs = household_events(j->seed, h, j->prefix, ids[n], sizeof(ids[n]), &town,
                                               &village);
                json_t *doc = household_new();
                size_t i;
                json_t *e;
                json_array_foreach (evs, i, e) {
                        char err[512];
                        Event event;
                        json_t *root = json_loads(json_string_value(e), 0, NULL);
                        if (!root || event_from_json(j->dec, root, &event, err, sizeof(err)) < 0) {
                                fprintf(stderr, "hload: %s: %s\n", ids[n], err);
                                ret = 1;
                                break;
                        }
                        json_t *outputs = json_array();
                        int64_t now = time_ms(json_string_value(json_object_get(root, "time")));
                        step_event(&sc, doc, ids[n], &event, now, NULL, outputs, NULL);
                        json_decref(outputs);
                        event_done(&event);
                }
                json_decref(evs);
                texts[n] = household_dump(doc);
                json_decref(doc);
                commits[n] = (StoreCommit){.household = ids[n], .doc = texts[n]};
                n++;
                if (n == BATCH || h + jobs >= j->households) {
                        if (store_commit(store, commits, n, clock_wall_ms()) < 0)
                                ret = 1;
                        for (size_t c = 0; c < n; c++) {
                                if (commits[c].result < 0 && ret == 0) {
                                        fprintf(stderr, "hload: %s: %s\n", commits[c].household,
                                                commits[c].errmsg);
                                        ret = 1;
                                }
                                free(texts[c]);
                        }
                        n = 0;
                }
        }
        for (size_t c = 0; c < n; c++)
                free(texts[c]);
        store_free(store);
        redis_free(redis);
        return ret;
}

int main(int argc, char **argv)
{
        long households = 1000, jobs = 1;
        uint64_t seed = 42;
        const char *config = NULL, *events = NULL, *townsf = NULL, *url = NULL, *prefix = "HL";
        int c;
        while ((c = getopt(argc, argv, "H:s:c:o:t:r:j:p:")) >= 0) {
                switch (c) {
                case 'H':
                        households = strtol(optarg, NULL, 10);
                        break;
                case 's':
                        seed = strtoull(optarg, NULL, 10);
                        break;
                case 'c':
                        config = optarg;
                        break;
                case 'o':
                        events = optarg;
                        break;
                case 't':
                        townsf = optarg;
                        break;
                case 'r':
                        url = optarg;
                        break;
                case 'j':
                        jobs = strtol(optarg, NULL, 10);
                        break;
                case 'p':
                        prefix = optarg;
                        break;
                default:
                        fprintf(stderr, "usage: hload -H N [-s SEED] [-c CONFIG] [-o EVENTS] "
                                        "[-t TOWNS] [-r REDIS_URL] [-j JOBS] [-p PREFIX]\n");
                        return 2;
                }
        }
        if (households < 1 || jobs < 1 || jobs > 64) {
                fprintf(stderr, "hload: -H >= 1 and 1 <= -j <= 64\n");
                return 2;
        }
        int64_t t0 = clock_mono_ms();
        if (events || townsf) {
                FILE *fe = events ? fopen(events, "we") : NULL;
                FILE *ft = townsf ? fopen(townsf, "we") : NULL;
                if ((events && !fe) || (townsf && !ft)) {
                        fprintf(stderr, "hload: %s\n", strerror(errno));
                        return 1;
                }
                for (long h = 0; h < households; h++) {
                        char id[32];
                        int town, village;
                        json_t *evs =
                            household_events(seed, h, prefix, id, sizeof(id), &town, &village);
                        size_t i;
                        json_t *e;
                        json_array_foreach (evs, i, e)
                                if (fe)
                                        fprintf(fe, "%s\t%s\n", id, json_string_value(e));
                        if (ft)
                                fprintf(ft, "%s\t%s\t%s\n", id, towns[town], villages[village]);
                        json_decref(evs);
                }
                if (fe)
                        fclose(fe);
                if (ft)
                        fclose(ft);
        }
        if (!url)
                return 0;
        Config *cfg = NULL;
        Diag *d = diag_new();
        char *set[1];
        char seturl[600];
        snprintf(seturl, sizeof(seturl), "redis.url=%s", url);
        set[0] = seturl;
        int r = config ? config_load(config, set, 1, &cfg, d)
                       : config_load_buffer("", 0, "./defaults", set, 1, &cfg, d);
        SchemaSet *schemas = NULL;
        RuleSet *rules = NULL;
        char err[1024];
        if (r < 0 || schema_set_load_dir(cfg->schemas_dir, &schemas, err, sizeof(err)) < 0 ||
            rules_load_dir(cfg->rules_dir, cfg, &rules, d) < 0) {
                diag_print(d, stderr, "hload: ");
                return 1;
        }
        EventDecoder *dec = event_decoder_new(schemas, (size_t)cfg->max_message_bytes);
        ExprFloorLine *lines = calloc(cfg->n_floor_lines + 1, sizeof(ExprFloorLine));
        rules_floor_lines(cfg, lines, cfg->n_floor_lines);
        Job job = {seed, households, prefix, cfg, dec, rules, lines};
        int ret = 0;
        if (jobs == 1) {
                ret = load(&job, 0, 1);
        } else {
                for (long k = 0; k < jobs; k++)
                        if (fork() == 0)
                                _exit(load(&job, (int)k, (int)jobs));
                int st;
                while (wait(&st) > 0)
                        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                                ret = 1;
        }
        double s = (double)(clock_mono_ms() - t0) / 1000.0;
        fprintf(stderr, "hload: %ld households in %.1f s (%.0f/s)%s\n", households, s,
                s > 0 ? households / s : 0, ret ? ", with errors" : "");
        free(lines);
        event_decoder_free(dec);
        rules_free(rules);
        schema_set_free(schemas);
        config_free(cfg);
        diag_free(d);
        return ret;
}
