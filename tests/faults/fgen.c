/* fgen: the fault matrix's load generator (tests/faults/README.md).
 *
 *   fgen -H HOUSEHOLDS -n EVENTS [-s SEED] [-d DUP_PERMILLE] [-b BAD_PERMILLE]
 *        [-T THRESHOLD_YUAN] [-p PREFIX] [-E] [-M] -o DIR
 *
 * Like tests/gen.c (relief, claims, expenses with a 900,000 yuan income), plus
 * events that fire the test rules of tests/faults/rules/ deterministically:
 * households fall into four classes by number (h % 4):
 *   0 green   money events only, out-of-pocket medical kept under T/2
 *   1 yellow  green's money plus need.reported / need.resolved (household.reports)
 *   2 red     big medical amounts on two topics: crosses T once, in any order
 *   3 mixed   needs and medical expenses, all on household.reports (one
 *             partition per household, so the order of its rule inputs is
 *             the order written here); its claims carry no out-of-pocket
 * Duplicates re-send an earlier line (same source+id); a line of
 * household.reports is re-sent there only (after its original), other lines
 * sometimes on another topic.
 *
 * DIR/registrations.txt   household.registered, one per household (civil-affairs.events)
 * DIR/<topic>.txt         "key<TAB>json" lines per input topic
 * DIR/log.tsv             the ground truth, one line per message written, in order:
 *   topic household source id type valid relief medical fund_paid education disability need
 *   (fen; need is R:<need_id>, S:<need_id> or -; valid 0 for a bad message)
 * DIR/bad.txt             the exact payload of every bad message, one a line
 * DIR/summary.txt         counts
 * -E adds the money edge cases of row F15 (0, -1, 2^53+1, 2^63-1, the
 *    largest amount, a sum past the daemon's saturation cap, 12.345, 1e2, 0.07).
 * -M makes the bad messages those of row F25 (bad UTF-8, truncated, deep
 *    nesting, huge arrays and strings, duplicate keys, bad envelope, schema
 *    violations, null key, null value); null keys/values go to DIR/null.txt
 *    (produced with kcat -Z). */
#define GENUTIL_PROG "fgen"
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../genutil.h"

static const char *dir;

static FILE *open_out(const char *name)
{
        return open_out_at(dir, name);
}

enum { T_CIVIL, T_MEDICAL, T_REPORTS, T_DISASTER, N_TOPICS };
static const char *topics[N_TOPICS] = {"civil-affairs.events", "medical-insurance.events",
                                       "household.reports", "disaster.events"};
static FILE *out[N_TOPICS], *logf, *badf, *nullf;
static const char *prefix = "HF";

typedef struct {
        int64_t medical;
        int open[4]; /* open need numbers, 0 = free slot */
        int n_needs;
} House;

/* One valid event: the line to the topic file, the truth to the log. */
typedef struct {
        int topic;
        char line[2048];
        char log[512];
} Sent;

static void emit(const Sent *s)
{
        fputs(s->line, out[s->topic]);
        fputs(s->log, logf);
}

static void logline(Sent *s, long h, const char *src, const char *id, const char *type,
                    int64_t relief, int64_t medical, int64_t fund, int64_t edu, int64_t dis,
                    const char *need)
{
        snprintf(s->log, sizeof(s->log),
                 "%s\t%s%06ld\t%s\t%s\t%s\t1\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64
                 "\t%" PRId64 "\t%s\n",
                 topics[s->topic], prefix, h, src, id, type, relief, medical, fund, edu, dis, need);
}

static void bad_line(int topic, const char *key, const char *payload)
{
        fprintf(out[topic], "%s\t%s\n", key, payload);
        fprintf(badf, "%s\n", payload);
        fprintf(logf, "%s\t%s\t-\t-\t-\t0\t0\t0\t0\t0\t0\t-\n", topics[topic], key);
}

static void relief(Sent *s, long h, const char *id, int64_t fen, int day)
{
        char a[48];
        yuan(a, sizeof(a), fen);
        s->topic = T_CIVIL;
        snprintf(s->line, sizeof(s->line),
                 "%s%06ld\t{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"fgen/civil\","
                 "\"type\":\"civil.relief.paid\",\"time\":\"2026-03-%02dT09:00:00+08:00\","
                 "\"subject\":\"%s%06ld\",\"data\":{\"kind\":\"temporary_relief\",\"amount\":%s,"
                 "\"paid_on\":\"2026-03-%02d\"}}\n",
                 prefix, h, id, day, prefix, h, a, day);
        logline(s, h, "fgen/civil", id, "civil.relief.paid", fen, 0, 0, 0, 0, "-");
}

/* Bad messages of the F25 kind: every one invalid for its own reason. */
static void malformed(long n, long h, int day)
{
        char key[80], *p;
        snprintf(key, sizeof(key), "%s%06ld", prefix, h);
        char head[512];
        snprintf(head, sizeof(head),
                 "{\"specversion\":\"1.0\",\"id\":\"bad-%ld\",\"source\":\"fgen/bad\","
                 "\"time\":\"2026-03-%02dT09:00:00+08:00\",\"subject\":\"%s\",",
                 n, day, key);
        static char big[300000];
        int kind = (int)(n % 12);
        /* The heaviest kinds (200 KB) only rarely: the mock keeps 5 MiB a partition. */
        if ((kind == 3 || kind == 4 || kind == 5) && n % 120 >= 12)
                kind = 6 + (int)(n % 6);
        switch (kind) {
        case 0: /* bad UTF-8 in a string */
                snprintf(big, sizeof(big),
                         "%s\"type\":\"need.reported\",\"data\":{\"need_id\":\"n\xff\xfe%ld\","
                         "\"channel\":\"self\",\"category\":\"other\",\"urgent\":false}}",
                         head, n);
                break;
        case 1: /* truncated */
                snprintf(big, sizeof(big),
                         "%s\"type\":\"civil.relief.paid\",\"data\":{\"kind\":\"other\",\"amo",
                         head);
                break;
        case 2: /* duplicate keys */
                snprintf(big, sizeof(big),
                         "%s\"type\":\"civil.relief.paid\",\"data\":{\"kind\":\"other\","
                         "\"amount\":1,\"amount\":2,\"paid_on\":\"2026-03-%02d\"}}",
                         head, day);
                break;
        case 3: /* nesting 10^5 deep */
                p = big;
                for (int i = 0; i < 100000; i++)
                        *p++ = '[';
                for (int i = 0; i < 100000; i++)
                        *p++ = ']';
                *p = 0;
                break;
        case 4: /* a huge array in data (200 KB, under the size limit) */
                p = big + snprintf(big, sizeof(big),
                                   "%s\"type\":\"need.resolved\",\"data\":{\"need_id\":\"x\","
                                   "\"extra\":[0",
                                   head);
                for (int i = 0; i < 100000; i++) {
                        *p++ = ',';
                        *p++ = '1';
                }
                memcpy(p, "]}}", 4);
                break;
        case 5: /* a huge string (290 KB: over pipeline.max_message_bytes) */
                p = big + snprintf(big, sizeof(big),
                                   "%s\"type\":\"need.resolved\",\"data\":{\"need_id\":\"x\","
                                   "\"resolution\":\"",
                                   head);
                memset(p, 'a', 290000);
                p += 290000;
                memcpy(p, "\"}}", 4);
                break;
        case 6: /* bad envelope: no specversion */
                snprintf(big, sizeof(big),
                         "{\"id\":\"bad-%ld\",\"source\":\"fgen/bad\",\"type\":\"need.resolved\","
                         "\"subject\":\"%s\",\"data\":{\"need_id\":\"x\"}}",
                         n, key);
                break;
        case 7: /* schema violation: enum */
                snprintf(big, sizeof(big),
                         "%s\"type\":\"civil.relief.paid\",\"data\":{\"kind\":\"bribe\","
                         "\"amount\":1,\"paid_on\":\"2026-03-%02d\"}}",
                         head, day);
                break;
        case 8: /* schema violation: missing field */
                snprintf(big, sizeof(big),
                         "%s\"type\":\"expense.reported\",\"data\":{\"category\":\"medical\","
                         "\"incurred_on\":\"2026-03-%02d\"}}",
                         head, day);
                break;
        case 9: /* unknown type */
                snprintf(big, sizeof(big), "%s\"type\":\"nope\",\"data\":{}}", head);
                break;
        case 10: /* null key (produced with kcat -Z) */
                snprintf(big, sizeof(big),
                         "%s\"type\":\"need.resolved\",\"data\":{\"need_id\":\"x\"}}", head);
                fprintf(nullf, "\t%s\n", big);
                fprintf(badf, "%s\n", big);
                fprintf(logf, "%s\t-\t-\t-\t-\t0\t0\t0\t0\t0\t0\t-\n", topics[T_REPORTS]);
                return;
        default: /* null value */
                fprintf(nullf, "%s\t\n", key);
                fprintf(badf, "\n");
                fprintf(logf, "%s\t%s\t-\t-\t-\t0\t0\t0\t0\t0\t0\t-\n", topics[T_REPORTS], key);
                return;
        }
        bad_line((int)(n % N_TOPICS), key, big);
}

int main(int argc, char **argv)
{
        long households = 100, events = 1000, dup = 0, bad = 0, threshold = 100000;
        bool edge = false, f25 = false;
        int c;
        rng_state = 42;
        while ((c = getopt(argc, argv, "H:n:s:d:b:T:p:o:EM")) >= 0) {
                switch (c) {
                case 'T':
                        threshold = parse_long(optarg, "threshold");
                        break;
                case 'E':
                        edge = true;
                        break;
                case 'M':
                        f25 = true;
                        break;
                default:
                        if (common_opt(c, optarg, &households, &events, &dup, &bad, &prefix, &dir))
                                break;
                        fprintf(stderr, "usage: fgen -H N -n N [-s SEED] [-d PERMILLE] [-b PERMILLE] "
                                        "[-T YUAN] [-p PREFIX] [-E] [-M] -o DIR\n");
                        return 2;
                }
        }
        if (!dir || households < 4) {
                fprintf(stderr, "fgen: -o DIR and -H >= 4 are required\n");
                return 2;
        }
        mkdir(dir, 0755);
        const int64_t T = (int64_t)threshold * 100;
        House *hs = calloc((size_t)households, sizeof(House));
        enum { KEEP = 1000 };
        Sent *sent = calloc(KEEP, sizeof(Sent));
        long n_sent = 0, n_dup = 0, n_bad = 0, n_need = 0;
        if (!hs || !sent)
                return 1;
        logf = open_out("log.tsv");
        badf = open_out("bad.txt");
        nullf = open_out("null.txt");

        FILE *reg = open_out("registrations.txt");
        for (long h = 0; h < households; h++) {
                fprintf(reg,
                        "%s%06ld\t{\"specversion\":\"1.0\",\"id\":\"reg-%ld\",\"source\":\"fgen/"
                        "civil\",\"type\":\"household.registered\",\"time\":\"2026-01-05T09:00:"
                        "00+08:00\",\"subject\":\"%s%06ld\",\"data\":{\"town\":\"温溪镇\","
                        "\"village\":\"东岸村\",\"cadre\":{\"id\":\"C%03ld\"},\"members\":[{"
                        "\"id\":\"m1\",\"labor\":\"full\",\"disability_grade\":0,\"serious_"
                        "illness\":false,\"incapacitated\":false,\"student\":false},{\"id\":"
                        "\"m2\",\"labor\":\"none\",\"disability_grade\":0,\"serious_illness\":"
                        "false,\"incapacitated\":false,\"student\":true}],\"status\":\"low_"
                        "income\",\"income_last_year\":{\"year\":2025,\"disposable\":"
                        "900000}}}\n",
                        prefix, h, h, prefix, h, h % 50);
                fprintf(logf,
                        "civil-affairs.events\t%s%06ld\tfgen/civil\treg-%ld\thousehold.registered"
                        "\t1\t0\t0\t0\t0\t0\t-\n",
                        prefix, h, h);
        }
        fclose(reg);
        /* The registrations are produced (and applied) first; the load's log follows. */
        for (int i = 0; i < N_TOPICS; i++) {
                char name[64];
                snprintf(name, sizeof(name), "%s.txt", topics[i]);
                out[i] = open_out(name);
        }
        for (long e = 0; e < events; e++) {
                long h = (long)(rnd() % (uint64_t)households);
                int cls = (int)(h % 4);
                House *H = &hs[h];
                Sent s;
                char id[64], a1[48], a2[48], tot[48];
                int day = 1 + (int)(rnd() % 28);
                int64_t fen = (int64_t)(rnd() % 5000000); /* up to 50,000 yuan */
                if ((long)(rnd() % 1000) < bad) {
                        if (f25) {
                                malformed(n_bad, h, day);
                        } else {
                                static const char *bad_values[] = {
                                    "{not json %ld",
                                    "{\"specversion\":\"1.0\",\"id\":\"b%ld\",\"source\":\"fgen\","
                                    "\"type\":\"civil.relief.paid\",\"subject\":\"%s%06ld\","
                                    "\"data\":{\"kind\":\"other\",\"amount\":1.005,\"paid_on\":"
                                    "\"2026-03-01\"}}",
                                    "{\"specversion\":\"1.0\",\"id\":\"b%ld\",\"source\":\"fgen\","
                                    "\"type\":\"nope\",\"subject\":\"%s%06ld\",\"data\":{}}",
                                };
                                char v[512], key[80];
                                snprintf(v, sizeof(v), bad_values[n_bad % 3], n_bad, prefix, h);
                                snprintf(key, sizeof(key), "%s%06ld", prefix, h);
                                bad_line((int)(n_bad % N_TOPICS), key, v);
                        }
                        n_bad++;
                        continue;
                }
                if (n_sent > 0 && (long)(rnd() % 1000) < dup) {
                        Sent d = sent[(long)(rnd() % (uint64_t)(n_sent < KEEP ? n_sent : KEEP))];
                        if (d.topic != T_REPORTS && rnd() % 4 == 0) {
                                int to = (int)(rnd() % N_TOPICS);
                                d.topic = to;
                                /* the log names the topic it was really sent to */
                                char *tab = strchr(d.log, '\t');
                                char rest[512];
                                snprintf(rest, sizeof(rest), "%s", tab);
                                snprintf(d.log, sizeof(d.log), "%s%s", topics[to], rest);
                        }
                        emit(&d);
                        n_dup++;
                        continue;
                }
                /* What this event is. */
                uint64_t k = rnd() % 10;
                bool needs = cls == 1 || cls == 3;
                int64_t cap = (cls == 0 || cls == 1) ? T / 2 - H->medical : INT64_MAX;
                if (needs && k >= 7) {
                        /* need.reported or need.resolved, on household.reports */
                        int slot = -1, open = 0;
                        for (int i = 0; i < 4; i++)
                                if (H->open[i])
                                        open++;
                                else if (slot < 0)
                                        slot = i;
                        bool report = open == 0 || (open < 4 && rnd() % 2);
                        char need[32];
                        s.topic = T_REPORTS;
                        if (report) {
                                int nid = ++H->n_needs;
                                H->open[slot] = nid;
                                snprintf(id, sizeof(id), "n-%ld", e);
                                snprintf(need, sizeof(need), "R:N%d", nid);
                                snprintf(s.line, sizeof(s.line),
                                         "%s%06ld\t{\"specversion\":\"1.0\",\"id\":\"%s\","
                                         "\"source\":\"fgen/app\",\"type\":\"need.reported\","
                                         "\"time\":\"2026-03-%02dT09:00:00+08:00\",\"subject\":"
                                         "\"%s%06ld\",\"data\":{\"need_id\":\"N%d\",\"channel\":"
                                         "\"self\",\"category\":\"medical\",\"urgent\":%s}}\n",
                                         prefix, h, id, day, prefix, h, nid,
                                         rnd() % 2 ? "true" : "false");
                                logline(&s, h, "fgen/app", id, "need.reported", 0, 0, 0, 0, 0,
                                        need);
                        } else {
                                int which = (int)(rnd() % (uint64_t)open), i;
                                for (i = 0; i < 4; i++)
                                        if (H->open[i] && which-- == 0)
                                                break;
                                int nid = H->open[i];
                                H->open[i] = 0;
                                snprintf(id, sizeof(id), "s-%ld", e);
                                snprintf(need, sizeof(need), "S:N%d", nid);
                                snprintf(s.line, sizeof(s.line),
                                         "%s%06ld\t{\"specversion\":\"1.0\",\"id\":\"%s\","
                                         "\"source\":\"fgen/app\",\"type\":\"need.resolved\","
                                         "\"time\":\"2026-03-%02dT09:00:00+08:00\",\"subject\":"
                                         "\"%s%06ld\",\"data\":{\"need_id\":\"N%d\"}}\n",
                                         prefix, h, id, day, prefix, h, nid);
                                logline(&s, h, "fgen/app", id, "need.resolved", 0, 0, 0, 0, 0,
                                        need);
                        }
                        n_need++;
                } else if (k < 3) {
                        snprintf(id, sizeof(id), "r-%ld", e);
                        relief(&s, h, id, fen, day);
                } else if (k < 5) {
                        int64_t fund = (int64_t)(rnd() % 5000000);
                        int64_t oop = cls == 3 ? 0 : fen;
                        if (oop > cap)
                                oop = cap > 0 ? cap : 0;
                        H->medical += oop;
                        yuan(a1, sizeof(a1), oop);
                        yuan(a2, sizeof(a2), fund);
                        yuan(tot, sizeof(tot), oop + fund);
                        snprintf(id, sizeof(id), "c-%ld", e);
                        s.topic = T_MEDICAL;
                        snprintf(s.line, sizeof(s.line),
                                 "%s%06ld\t{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":"
                                 "\"fgen/medical\",\"type\":\"medical.claim.settled\",\"time\":"
                                 "\"2026-03-%02dT09:00:00+08:00\",\"subject\":\"%s%06ld\",\"data\":"
                                 "{\"claim_id\":\"c%ld\",\"member_id\":\"m1\",\"kind\":"
                                 "\"outpatient\",\"major_disease\":false,\"total\":%s,\"fund_"
                                 "paid\":%s,\"out_of_pocket\":%s,\"settled_on\":\"2026-03-%02d\"}}\n",
                                 prefix, h, id, day, prefix, h, e, tot, a2, a1, day);
                        logline(&s, h, "fgen/medical", id, "medical.claim.settled", 0, oop, fund,
                                0, 0, "-");
                } else {
                        static const char *cats[] = {"education", "disability", "medical"};
                        int cat = (int)(rnd() % 3);
                        if (cat == 2 && fen > cap)
                                fen = cap > 0 ? cap : 0;
                        if (cat == 2)
                                H->medical += fen;
                        yuan(a1, sizeof(a1), fen);
                        snprintf(id, sizeof(id), "x-%ld", e);
                        s.topic = T_REPORTS;
                        snprintf(s.line, sizeof(s.line),
                                 "%s%06ld\t{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":"
                                 "\"fgen/app\",\"type\":\"expense.reported\",\"time\":\"2026-03-"
                                 "%02dT09:00:00+08:00\",\"subject\":\"%s%06ld\",\"data\":{"
                                 "\"category\":\"%s\",\"amount\":%s,\"incurred_on\":\"2026-03-%02d\"}}\n",
                                 prefix, h, id, day, prefix, h, cats[cat], a1, day);
                        logline(&s, h, "fgen/app", id, "expense.reported", 0,
                                cat == 2 ? fen : 0, 0, cat == 0 ? fen : 0, cat == 1 ? fen : 0,
                                "-");
                }
                emit(&s);
                sent[n_sent % KEEP] = s;
                n_sent++;
        }
        long n_edge = 0;
        if (edge) {
                /* F15: amounts as written, and whether they are valid (the
                 * schema's money: >= 0, at most 2 decimals, at most 1e11 yuan). */
                static const struct {
                        const char *text;
                        int64_t fen; /* -1: invalid */
                } cases[] = {
                    {"0", 0},
                    {"-1", -1},
                    {"9007199254740993", -1}, /* 2^53+1 yuan: over the maximum */
                    {"90071992547409.93", -1}, /* 2^53+1 fen as yuan: over the maximum */
                    {"9223372036854775807", -1}, /* 2^63-1 */
                    {"100000000000", 10000000000000LL}, /* the largest amount */
                    {"100000000000.01", -1},
                    {"99999999999.99", 9999999999999LL},
                    {"12.345", -1},
                    {"1e2", 10000},
                    {"1.5e1", 1500},
                    {"0.07", 7},
                    {"0.1", 10},
                    {"21474836.47", 2147483647},
                    {"0.000", 0},
                    {"1.10", 110},
                };
                for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                        long h = (long)i % households;
                        char line[1024];
                        snprintf(line, sizeof(line),
                                 "{\"specversion\":\"1.0\",\"id\":\"edge-%zu\",\"source\":"
                                 "\"fgen/edge\",\"type\":\"civil.relief.paid\",\"time\":"
                                 "\"2026-03-20T09:00:00+08:00\",\"subject\":\"%s%06ld\",\"data\":{"
                                 "\"kind\":\"other\",\"amount\":%s,\"paid_on\":\"2026-03-20\"}}",
                                 i, prefix, h, cases[i].text);
                        if (cases[i].fen < 0) {
                                char key[80];
                                snprintf(key, sizeof(key), "%s%06ld", prefix, h);
                                /* bad_line writes to the topic file and the log */
                                fprintf(out[T_CIVIL], "%s\t%s\n", key, line);
                                fprintf(badf, "%s\n", line);
                                fprintf(logf, "%s\t%s\t-\t-\t-\t0\t0\t0\t0\t0\t0\t-\n",
                                        topics[T_CIVIL], key);
                                n_bad++;
                        } else {
                                fprintf(out[T_CIVIL], "%s%06ld\t%s\n", prefix, h, line);
                                fprintf(logf,
                                        "%s\t%s%06ld\tfgen/edge\tedge-%zu\tcivil.relief.paid\t1\t%" PRId64
                                        "\t0\t0\t0\t0\t-\n",
                                        topics[T_CIVIL], prefix, h, i, cases[i].fen);
                        }
                        n_edge++;
                }
                /* A sum past hearthd's saturation cap (1e16 fen, money_add):
                 * 1001 of the largest amounts to one household (exact int64: 1.001e16 fen). */
                long h = 4 % households;
                for (int i = 0; i < 1001; i++) {
                        Sent s;
                        char id[64];
                        snprintf(id, sizeof(id), "sum-%d", i);
                        relief(&s, h, id, 10000000000000LL, 20);
                        emit(&s);
                        n_edge++;
                }
        }
        for (int i = 0; i < N_TOPICS; i++)
                fclose(out[i]);
        fclose(logf);
        fclose(badf);
        fclose(nullf);
        FILE *sf = open_out("summary.txt");
        fprintf(sf, "households %ld\nevents %ld\nduplicates %ld\nbad %ld\nneeds %ld\nedge %ld\n",
                households, events, n_dup, n_bad, n_need, n_edge);
        fclose(sf);
        free(hs);
        free(sent);
        return 0;
}
