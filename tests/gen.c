/* gen: writes a reproducible load of input events and its ground truth.
 *
 *   gen -H HOUSEHOLDS -n EVENTS [-s SEED] [-d DUP_PERMILLE] [-b BAD_PERMILLE]
 *       [-p PREFIX] -o DIR
 *
 * DIR/registrations.txt  one household.registered per household
 * DIR/<topic>.txt        "key<TAB>json" lines per input topic
 * DIR/truth.tsv          household, relief, medical, fund_paid, education,
 *                        disability (fen), events applied (registration included)
 * DIR/summary.txt        events, duplicates, bad messages, totals
 *
 * Every event has a unique source+id, except duplicates, which re-send an
 * earlier event (same source+id, sometimes on another topic) and must count
 * once. Bad messages are malformed and must be dead-lettered. Amounts are
 * random fen; all dates fall in one month, so everything is in the 12-month
 * window. The truth is computed here, independently of hearthd. */
#define GENUTIL_PROG "gen"
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "genutil.h"

typedef struct {
        int64_t relief, medical, fund, education, disability;
        int64_t events;
} Truth;

static const char *topics[] = {"civil-affairs.events", "medical-insurance.events",
                               "household.reports", "disaster.events"};

int main(int argc, char **argv)
{
        long households = 100, events = 1000, dup = 50, bad = 0;
        const char *dir = NULL, *prefix = "HG";
        int c;
        rng_state = 42;
        while ((c = getopt(argc, argv, "H:n:s:d:b:p:o:")) >= 0) {
                switch (c) {
                default:
                        if (common_opt(c, optarg, &households, &events, &dup, &bad, &prefix, &dir))
                                break;
                        fprintf(stderr, "usage: gen -H N -n N [-s SEED] [-d PERMILLE] [-b "
                                        "PERMILLE] [-p PREFIX] -o DIR\n");
                        return 2;
                }
        }
        if (!dir || households < 1) {
                fprintf(stderr, "gen: -o DIR and -H >= 1 are required\n");
                return 2;
        }
        mkdir(dir, 0755);
        Truth *t = calloc((size_t)households, sizeof(Truth));
        /* Remember sent lines to re-send duplicates: keep the last 1000. */
        enum { KEEP = 1000 };
        char **sent = calloc(KEEP, sizeof(char *));
        int *sent_topic = calloc(KEEP, sizeof(int));
        long n_sent = 0, n_dup = 0, n_bad = 0;
        if (!t || !sent || !sent_topic)
                return 1;

        FILE *reg = open_out_at(dir, "registrations.txt");
        for (long h = 0; h < households; h++) {
                fprintf(reg,
                        "%s%06ld\t{\"specversion\":\"1.0\",\"id\":\"reg-%ld\",\"source\":\"gen/"
                        "civil\",\"type\":\"household.registered\",\"time\":\"2026-01-05T09:00:"
                        "00+08:00\",\"subject\":\"%s%06ld\",\"data\":{\"town\":\"温溪镇\","
                        "\"village\":\"东岸村\",\"cadre\":{\"id\":\"C%03ld\"},\"members\":[{"
                        "\"id\":\"m1\",\"labor\":\"full\",\"disability_grade\":0,\"serious_"
                        "illness\":false,\"incapacitated\":false,\"student\":false},{\"id\":"
                        "\"m2\",\"labor\":\"none\",\"disability_grade\":0,\"serious_illness\":"
                        "false,\"incapacitated\":false,\"student\":true}],\"status\":\"low_"
                        "income\",\"income_last_year\":{\"year\":2025,\"disposable\":"
                        "90000000}}}\n",
                        prefix, h, h, prefix, h, h % 50);
                t[h].events = 1;
        }
        fclose(reg);

        FILE *out[4];
        for (int i = 0; i < 4; i++) {
                char name[64];
                snprintf(name, sizeof(name), "%s.txt", topics[i]);
                out[i] = open_out_at(dir, name);
        }
        for (long e = 0; e < events; e++) {
                long h = (long)(rnd() % (uint64_t)households);
                char line[2048], a1[32], a2[32];
                int topic;
                uint64_t kind = rnd() % 3;
                int64_t fen = (int64_t)(rnd() % 5000000); /* up to 50,000 yuan */
                int day = 1 + (int)(rnd() % 28);
                if ((long)(rnd() % 1000) < bad) {
                        /* Malformed: alternately not JSON, bad money, bad id. */
                        static const char *bad_values[] = {
                            "{not json",
                            "{\"specversion\":\"1.0\",\"id\":\"b\",\"source\":\"gen\","
                            "\"type\":\"civil.relief.paid\",\"subject\":\"%s%06ld\",\"data\":"
                            "{\"kind\":\"other\",\"amount\":1.005,\"paid_on\":\"2026-03-01\"}}",
                            "{\"specversion\":\"1.0\",\"id\":\"b\",\"source\":\"gen\","
                            "\"type\":\"nope\",\"subject\":\"%s%06ld\",\"data\":{}}",
                        };
                        char v[512];
                        snprintf(v, sizeof(v), bad_values[n_bad % 3], prefix, h);
                        fprintf(out[2], "%s%06ld\t%s\n", prefix, h, v);
                        n_bad++;
                        continue;
                }
                if (n_sent > 0 && (long)(rnd() % 1000) < dup) {
                        long i = (long)(rnd() % (uint64_t)(n_sent < KEEP ? n_sent : KEEP));
                        int to = (rnd() % 4 == 0) ? (int)(rnd() % 4) : sent_topic[i];
                        fputs(sent[i], out[to]);
                        n_dup++;
                        continue;
                }
                if (kind == 0) {
                        yuan(a1, sizeof(a1), fen);
                        snprintf(line, sizeof(line),
                                 "%s%06ld\t{\"specversion\":\"1.0\",\"id\":\"r-%ld\",\"source\":"
                                 "\"gen/civil\",\"type\":\"civil.relief.paid\",\"subject\":"
                                 "\"%s%06ld\",\"data\":{\"kind\":\"temporary_relief\","
                                 "\"amount\":%s,\"paid_on\":\"2026-03-%02d\"}}\n",
                                 prefix, h, e, prefix, h, a1, day);
                        t[h].relief += fen;
                        topic = 0;
                } else if (kind == 1) {
                        int64_t fund = (int64_t)(rnd() % 5000000);
                        yuan(a1, sizeof(a1), fen);
                        yuan(a2, sizeof(a2), fund);
                        char tot[32];
                        yuan(tot, sizeof(tot), fen + fund);
                        snprintf(line, sizeof(line),
                                 "%s%06ld\t{\"specversion\":\"1.0\",\"id\":\"c-%ld\",\"source\":"
                                 "\"gen/medical\",\"type\":\"medical.claim.settled\","
                                 "\"subject\":\"%s%06ld\",\"data\":{\"claim_id\":\"c%ld\","
                                 "\"member_id\":\"m1\",\"kind\":\"outpatient\",\"major_"
                                 "disease\":false,\"total\":%s,\"fund_paid\":%s,\"out_of_"
                                 "pocket\":%s,\"settled_on\":\"2026-03-%02d\"}}\n",
                                 prefix, h, e, prefix, h, e, tot, a2, a1, day);
                        t[h].medical += fen;
                        t[h].fund += fund;
                        topic = 1;
                } else {
                        bool edu = rnd() % 2;
                        yuan(a1, sizeof(a1), fen);
                        snprintf(line, sizeof(line),
                                 "%s%06ld\t{\"specversion\":\"1.0\",\"id\":\"x-%ld\",\"source\":"
                                 "\"gen/app\",\"type\":\"expense.reported\",\"subject\":"
                                 "\"%s%06ld\",\"data\":{\"category\":\"%s\",\"amount\":%s,"
                                 "\"incurred_on\":\"2026-03-%02d\"}}\n",
                                 prefix, h, e, prefix, h, edu ? "education" : "disability", a1,
                                 day);
                        if (edu)
                                t[h].education += fen;
                        else
                                t[h].disability += fen;
                        topic = 2;
                }
                t[h].events++;
                fputs(line, out[topic]);
                long slot = n_sent % KEEP;
                free(sent[slot]);
                sent[slot] = strdup(line);
                sent_topic[slot] = topic;
                n_sent++;
        }
        for (int i = 0; i < 4; i++)
                fclose(out[i]);

        FILE *tf = open_out_at(dir, "truth.tsv");
        Truth sum = {0};
        for (long h = 0; h < households; h++) {
                fprintf(tf,
                        "%s%06ld\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64
                        "\t%" PRId64 "\n",
                        prefix, h, t[h].relief, t[h].medical, t[h].fund, t[h].education,
                        t[h].disability, t[h].events);
                sum.relief += t[h].relief;
                sum.medical += t[h].medical;
                sum.events += t[h].events;
        }
        fclose(tf);
        FILE *sf = open_out_at(dir, "summary.txt");
        fprintf(sf, "events %ld\nunique %" PRId64 "\nduplicates %ld\nbad %ld\n", events,
                sum.events - households, n_dup, n_bad);
        fclose(sf);
        for (long i = 0; i < KEEP; i++)
                free(sent[i]);
        free(sent);
        free(sent_topic);
        free(t);
        return 0;
}
