/* bgen: the benchmark's load generator (tests/bench/README.md).
 *
 *   bgen reg    -H HOUSEHOLDS [-S FIRST] [-n COUNT] [options]   household.registered
 *   bgen events -H HOUSEHOLDS -n EVENTS [-S FIRST] [options]    a year of feeds
 *   bgen plan   ... (reg or events options)                     only the sizes
 *
 * Output: -b BROKERS produces directly with librdkafka (key = household id,
 * murmur2 partitioner, as Java producers); -o DIR writes DIR/<topic>.txt as
 * "key<TAB>json" lines instead. Neither: nothing is written (plan). The
 * summary goes to stdout as key=value lines.
 *
 * Every event is a pure function of (seed, index): the same seed gives the
 * same load, a run can be split into chunks with -S/-n, and a duplicate is
 * simply an earlier index generated again (same source+id, same topic).
 *
 * Options: -s SEED (1), -y EVENTS_PER_YEAR (dates: the events of one year of
 * feeds; default -S + -n), -D START_DATE (the year's first day, YYYY-MM-DD;
 * 2026-01-01), -d DUP_PPM (10000 = 1 %), -x BAD_PPM (1000 =
 * 0.1 %), -r RATE (messages/s, paced; default as fast as possible), -l
 * LINGER_MS, -L SENDLOG (binary SendRecords of every valid event, for blat),
 * -R RANGES (the offsets delivered: "topic partition first last"), -T
 * TOPIC_PREFIX (produce to PREFIX<topic>: the latency floor's topics), -q.
 * linger.ms is 200 at full speed (big batches: the backlog a consumer
 * catches up on) and librdkafka's default 5 when paced. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bcommon.h"

enum {
        T_REG,
        T_MEDICAL,
        T_VISIT,
        T_RELIEF,
        T_NEED,
        T_NEED_RESOLVED,
        T_EXPENSE,
        T_DISASTER,
        T_ACCIDENT,
        T_INCOME,
        T_ASSIST,
        T_MALFORMED,
        T_N
};
static const char *const type_names[T_N] = {"household.registered",
                                            "medical.claim.settled",
                                            "visit.recorded",
                                            "civil.relief.paid",
                                            "need.reported",
                                            "need.resolved",
                                            "expense.reported",
                                            "disaster.loss.reported",
                                            "accident.reported",
                                            "civil.income.verified",
                                            "civil.assistance.changed",
                                            "malformed"};

#define N_TOPICS 4
static const char *const topics[N_TOPICS] = {"civil-affairs.events", "medical-insurance.events",
                                             "disaster.events", "household.reports"};
static const int type_topic[T_N] = {0, 1, 3, 0, 3, 3, 3, 2, 2, 0, 0, 3};

/* The mix of a year of feeds, per 10,000 valid events (see README.md). */
static const int mix[][2] = {
    {T_MEDICAL, 4200},      {T_VISIT, 2400},  {T_RELIEF, 1600},  {T_NEED, 250},
    {T_NEED_RESOLVED, 220}, {T_EXPENSE, 500}, {T_DISASTER, 200}, {T_ACCIDENT, 100},
    {T_INCOME, 250},        {T_ASSIST, 280},
};

typedef struct {
        uint64_t seed;
        long households;
        long year_events;
        long dup_ppm, bad_ppm;
} Gen;

typedef struct {
        uint64_t s;
} Rng;

static uint64_t next(Rng *r)
{
        /* splitmix64 */
        uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static Rng rng_at(const Gen *g, uint64_t stream, uint64_t idx)
{
        Rng r = {g->seed * 0xd1b54a32d192ed03ULL ^ (stream << 58) ^ (idx * 0x9e3779b97f4a7c15ULL)};
        next(&r);
        return r;
}

static long below(Rng *r, long n)
{
        return n > 0 ? (long)(next(r) % (uint64_t)n) : 0;
}

/* --- text -------------------------------------------------------------- */

typedef struct {
        char p[8192];
        size_t len;
} Buf;

__attribute__((format(printf, 2, 3))) static void ap(Buf *b, const char *fmt, ...)
{
        va_list va;
        va_start(va, fmt);
        int n = vsnprintf(b->p + b->len, sizeof(b->p) - b->len, fmt, va);
        va_end(va);
        if (n > 0)
                b->len += (size_t)n < sizeof(b->p) - b->len ? (size_t)n : sizeof(b->p) - b->len - 1;
}

/* yuan with at most 2 decimals from fen */
static void ap_yuan(Buf *b, int64_t fen)
{
        if (fen % 100 == 0)
                ap(b, "%" PRId64, fen / 100);
        else if (fen % 10 == 0)
                ap(b, "%" PRId64 ".%" PRId64, fen / 100, (fen % 100) / 10);
        else
                ap(b, "%" PRId64 ".%02" PRId64, fen / 100, fen % 100);
}

static void hh_id(char *buf, size_t len, long h)
{
        snprintf(buf, len, "%s%0*ld", BENCH_HH_PREFIX, BENCH_HH_DIGITS, h);
}

/* Days since 1970-01-01 of a civil date and back (H. Hinnant's algorithms). */
static long days_from_civil(long y, long m, long d)
{
        y -= m <= 2;
        long era = (y >= 0 ? y : y - 399) / 400;
        long yoe = y - era * 400;
        long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

/* The first day of the year of feeds (-D), in days since 1970-01-01. */
static long start_day;

/* A date "YYYY-MM-DD" for day d of the feeds (0 = the -D date). */
static void date_of(char *buf, size_t len, long d)
{
        long z = start_day + d + 719468;
        long era = (z >= 0 ? z : z - 146096) / 146097;
        long doe = z - era * 146097;
        long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        long day = doy - (153 * mp + 2) / 5 + 1;
        long m = mp < 10 ? mp + 3 : mp - 9;
        long y = yoe + era * 400 + (m <= 2);
        snprintf(buf, len, "%04ld-%02ld-%02ld", y, m, day);
}

static const char *const towns[] = {"温溪镇", "船寮镇", "海口镇", "腊口镇", "高湖镇",
                                    "北山镇", "仁庄镇", "章村乡", "万山乡", "阜山乡"};
static const char *const villages[] = {"东岸村", "西坑村", "下村",   "岭根村", "石门村",
                                       "黄垟村", "后山村", "溪口村", "新桥村", "大坪村"};
static const char *const surnames[] = {"陈", "王", "张", "刘", "吴", "叶", "周", "徐", "潘", "林"};
static const char *const given[] = {"丽华", "建国", "秀英", "志强", "美玲",
                                    "海军", "小芳", "伟民", "玉兰", "国平"};
static const char *const need_texts[] = {
    "孩子下学期读高职，学费和住宿费一时凑不齐。", "老房子漏雨，墙体开裂，担心住房安全。",
    "户主住院后需长期服药，自付费用较高。",       "自来水管冻裂，饮水困难，请求帮助维修。",
    "家中劳动力外出务工受伤，希望介绍就近就业。", "冬季衣被不足，请求临时救助。",
};
static const char *const need_cats[] = {"education", "housing",    "medical",
                                        "water",     "employment", "food_clothing"};
static const char *const channels[] = {"self", "cadre", "hotline", "media", "petition"};
static const char *const visit_notes[] = {
    "家庭情况稳定，按时领取低保金。",
    "户主病情好转，已能从事轻体力劳动。",
    "子女在校表现良好，已落实教育资助。",
    "房屋已完成危房改造。",
    "提醒按时参加医保续缴。",
    "",
};
static const char *const resolutions[] = {
    "已落实临时救助2000元。",     "已联系镇卫生院上门随访并申请医疗救助。",
    "已纳入危房改造计划。",       "已安排公益性岗位。",
    "已完成维修，恢复正常供水。",
};
static const char *const payers[] = {"青田县民政局", "温溪镇人民政府", "县慈善总会"};
static const char *const statuses[] = {"low_income", "minimum_living", "marginal",
                                       "extreme_poverty", "none"};
static const int status_w[] = {30, 20, 25, 5, 20};

#define N_OF(a) ((long)(sizeof(a) / sizeof((a)[0])))

/* --- the households ------------------------------------------------------ */

typedef struct {
        int members;
        int64_t income_fen; /* last year's household disposable income */
} Profile;

static Profile profile(const Gen *g, long h)
{
        Rng r = rng_at(g, 1, (uint64_t)h);
        Profile p;
        p.members = 1 + (int)below(&r, 5);
        /* per capita 8,000..40,000 yuan */
        p.income_fen = (int64_t)p.members * (800000 + below(&r, 3200000));
        return p;
}

static long pick_household(const Gen *g, Rng *r)
{
        /* 80 % spread evenly, 20 % on a "hot" tenth (households with many
         * claims, visits and needs): keys spread but not uniform. */
        if (g->households >= 10 && below(r, 100) < 20)
                return below(r, g->households / 10) * 10;
        return below(r, g->households);
}

static void envelope(Buf *b, const char *id, const char *source, int type, long day, Rng *r,
                     const char *hid)
{
        char date[16];
        date_of(date, sizeof(date), day);
        ap(b,
           "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"%s\",\"type\":\"%s\","
           "\"time\":\"%sT%02ld:%02ld:%02ld+08:00\",\"subject\":\"%s\","
           "\"datacontenttype\":\"application/json\",",
           id, source, type_names[type], date, 8 + below(r, 10), below(r, 60), below(r, 60), hid);
        /* The medical-insurance feed names its schema and partition key,
         * as its sample in tests/fixtures does. */
        if (type == T_MEDICAL)
                ap(b,
                   "\"dataschema\":\"https://hearth.invalid/schemas/medical.claim.settled.json\","
                   "\"partitionkey\":\"%s\",",
                   hid);
        ap(b, "\"data\":");
}

/* household.registered of household h. */
static void gen_registration(const Gen *g, long h, Buf *b, int *topic)
{
        Profile p = profile(g, h);
        Rng r = rng_at(g, 2, (uint64_t)h);
        char hid[32], id[48];
        hh_id(hid, sizeof(hid), h);
        snprintf(id, sizeof(id), "mz-reg-%s", hid);
        envelope(b, id, "civil-affairs/qingtian", T_REG, -1 - below(&r, 20), &r, hid);
        long cadre = h / 120;
        ap(b,
           "{\"town\":\"%s\",\"village\":\"%s\",\"cadre\":{\"id\":\"C331121-%05ld\","
           "\"name\":\"%s%s\",\"phone\":\"139%08ld\"},\"members\":[",
           towns[(h / 1200) % N_OF(towns)], villages[(h / 120) % N_OF(villages)], cadre,
           surnames[cadre % N_OF(surnames)], given[(cadre / 10) % N_OF(given)],
           (cadre * 7919) % 100000000);
        static const char *const rel[] = {"户主", "配偶", "子女", "母亲", "父亲"};
        static const char *const labor[] = {"full", "partial", "none"};
        for (int m = 0; m < p.members; m++) {
                long birth = m < 2    ? 1955 + below(&r, 35)
                             : m == 2 ? 2005 + below(&r, 15)
                                      : 1935 + below(&r, 20);
                bool student = m == 2 && birth >= 2008;
                long grade = below(&r, 100) < 6 ? 1 + below(&r, 4) : 0;
                ap(b,
                   "%s{\"id\":\"%s-%02d\",\"relation\":\"%s\",\"birth_year\":%ld,"
                   "\"labor\":\"%s\",\"disability_grade\":%ld,\"serious_illness\":%s,"
                   "\"incapacitated\":%s,\"student\":%s}",
                   m ? "," : "", hid, m + 1, rel[m], birth, m < 2 ? labor[below(&r, 2)] : "none",
                   grade, below(&r, 100) < 5 ? "true" : "false",
                   below(&r, 100) < 3 ? "true" : "false", student ? "true" : "false");
        }
        long s = below(&r, 100), k = 0;
        while (s >= status_w[k]) {
                s -= status_w[k];
                k++;
        }
        ap(b,
           "],\"status\":\"%s\",\"income_last_year\":{\"year\":2025,\"disposable\":", statuses[k]);
        ap_yuan(b, p.income_fen);
        ap(b, "}}}");
        *topic = 0;
}

/* The type of event e without generating it: T_MALFORMED, -1 for a
 * duplicate, or a type. Its first draws are always these. */
static int kind_of(const Gen *g, long e, Rng *r)
{
        long u = below(r, 1000000);
        if (u < g->bad_ppm)
                return T_MALFORMED;
        if (e > 0 && u < g->bad_ppm + g->dup_ppm)
                return -1;
        long w = below(r, 10000);
        for (size_t i = 0; i < sizeof(mix) / sizeof(mix[0]); i++) {
                if (w < mix[i][1])
                        return mix[i][0];
                w -= mix[i][1];
        }
        return T_MEDICAL;
}

static void member_id(Buf *b, const char *hid, int members, Rng *r)
{
        ap(b, "\"member_id\":\"%s-%02ld\"", hid, 1 + below(r, members));
}

/* Event e: its JSON in b, its topic, household and type. */
static void gen_event(const Gen *g, long e, Buf *b, int *topic, long *household, int *type)
{
        Rng r = rng_at(g, 3, (uint64_t)e);
        int kind = kind_of(g, e, &r);
        if (kind < 0) {
                /* A duplicate: an earlier event sent again, mostly soon after,
                 * sometimes much later (a replayed feed). */
                long back = below(&r, 100) < 90 ? 5000 : 200000;
                long k = e - 1 - below(&r, e < back ? e : back);
                gen_event(g, k, b, topic, household, type);
                return;
        }
        long h = pick_household(g, &r);
        long day = (long)((double)e * 365.0 / (double)g->year_events);
        char hid[32], id[64], date[16];
        Profile p;
        if (kind == T_NEED_RESOLVED) {
                /* Resolve a need reported earlier: search back from a random
                 * distance for a need.reported; none: report one instead. */
                long from = e - 1 - below(&r, 30000), found = -1;
                for (long k = from; k >= 0 && k > from - 5000; k--) {
                        Rng rk = rng_at(g, 3, (uint64_t)k);
                        if (kind_of(g, k, &rk) == T_NEED) {
                                found = k;
                                h = pick_household(g, &rk);
                                break;
                        }
                }
                if (found < 0)
                        kind = T_NEED;
                else
                        snprintf(id, sizeof(id), "N%09ld", found);
        }
        hh_id(hid, sizeof(hid), h);
        p = profile(g, h);
        *household = h;
        *type = kind;
        *topic = type_topic[kind];
        date_of(date, sizeof(date), day - below(&r, 3));
        switch (kind) {
        case T_MALFORMED: {
                long v = below(&r, 6);
                char bid[32];
                snprintf(bid, sizeof(bid), "bad-%09ld", e);
                *topic = (int)below(&r, N_TOPICS);
                if (v == 0) {
                        /* not JSON: cut in the middle */
                        envelope(b, bid, "app/zheliban", T_RELIEF, day, &r, hid);
                        b->len /= 2;
                        b->p[b->len] = 0;
                } else if (v == 1) {
                        envelope(b, bid, "civil-affairs/qingtian", T_RELIEF, day, &r, hid);
                        ap(b, "{\"kind\":\"other\",\"amount\":120.005,\"paid_on\":\"%s\"}}", date);
                } else if (v == 2) {
                        envelope(b, bid, "app/zheliban", T_RELIEF, day, &r, hid);
                        b->len = 0;
                        ap(b,
                           "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"app/zheliban\","
                           "\"type\":\"civil.relief.payed\",\"subject\":\"%s\",\"data\":{}}",
                           bid, hid);
                } else if (v == 3) {
                        envelope(b, bid, "civil-affairs/qingtian", T_RELIEF, day, &r, "H33-?1");
                        ap(b, "{\"kind\":\"other\",\"amount\":120,\"paid_on\":\"%s\"}}", date);
                } else if (v == 4) {
                        envelope(b, bid, "medical-insurance/lishui", T_MEDICAL, day, &r, hid);
                        ap(b,
                           "{\"claim_id\":\"YB%s\",\"member_id\":\"%s-01\",\"kind\":\"outpatient\","
                           "\"major_disease\":false,\"total\":300,\"fund_paid\":200,"
                           "\"out_of_pocket\":100}}",
                           bid, hid);
                } else {
                        envelope(b, bid, "app/zhezhengding", T_EXPENSE, day, &r, hid);
                        ap(b,
                           "{\"category\":\"education\",\"amount\":-500,\"incurred_on\":\"%s\"}}",
                           date);
                }
                return;
        }
        case T_MEDICAL: {
                snprintf(id, sizeof(id), "yb-2026%09ld", e);
                envelope(b, id, "medical-insurance/lishui", kind, day, &r, hid);
                static const char *const kinds[] = {"outpatient", "inpatient", "chronic"};
                long k = below(&r, 100) < 70 ? 0 : below(&r, 100) < 60 ? 1 : 2;
                bool major = below(&r, 100) < (k == 1 ? 8 : 1);
                int64_t total = k == 0   ? 2000 + below(&r, 200000)
                                : k == 1 ? 500000 + below(&r, major ? 20000000 : 4000000)
                                         : 50000 + below(&r, 800000);
                int64_t oop = total * (15 + below(&r, 40)) / 100;
                ap(b, "{\"claim_id\":\"YB2026%09ld\",", e);
                member_id(b, hid, p.members, &r);
                ap(b, ",\"kind\":\"%s\",\"major_disease\":%s,\"total\":", kinds[k],
                   major ? "true" : "false");
                ap_yuan(b, total);
                ap(b, ",\"fund_paid\":");
                ap_yuan(b, total - oop);
                ap(b, ",\"out_of_pocket\":");
                ap_yuan(b, oop);
                ap(b, ",\"settled_on\":\"%s\"}}", date);
                break;
        }
        case T_VISIT: {
                snprintf(id, sizeof(id), "zzd-v-%09ld", e);
                envelope(b, id, "app/zhezhengding", kind, day, &r, hid);
                static const char *const checks[] = {"food_clothing", "education", "medical",
                                                     "housing", "drinking_water"};
                ap(b, "{\"cadre_id\":\"C331121-%05ld\",\"visited_on\":\"%s\",\"checks\":{", h / 120,
                   date);
                long risky = below(&r, 100) < 3 ? below(&r, 5) : -1;
                for (long c = 0; c < 5; c++)
                        ap(b, "%s\"%s\":\"%s\"", c ? "," : "", checks[c],
                           c == risky ? "risk" : "ok");
                const char *note = visit_notes[below(&r, N_OF(visit_notes))];
                ap(b, "}%s%s%s}}", *note ? ",\"notes\":\"" : "", note, *note ? "\"" : "");
                break;
        }
        case T_RELIEF: {
                static const char *const kinds[] = {"temporary_relief", "condolence", "subsidy",
                                                    "other"};
                snprintf(id, sizeof(id), "mz-p-%09ld", e);
                envelope(b, id, "civil-affairs/qingtian", kind, day, &r, hid);
                ap(b, "{\"kind\":\"%s\",\"amount\":", kinds[below(&r, 4)]);
                ap_yuan(b, 20000 + below(&r, 50) * 10000);
                ap(b, ",\"paid_on\":\"%s\",\"payer\":\"%s\"}}", date,
                   payers[below(&r, N_OF(payers))]);
                break;
        }
        case T_NEED: {
                snprintf(id, sizeof(id), "zlb-n-%09ld", e);
                envelope(b, id, "app/zheliban", kind, day, &r, hid);
                long t = below(&r, N_OF(need_texts));
                ap(b,
                   "{\"need_id\":\"N%09ld\",\"channel\":\"%s\",\"category\":\"%s\","
                   "\"text\":\"%s\",\"urgent\":%s}}",
                   e, channels[below(&r, N_OF(channels))], need_cats[t], need_texts[t],
                   below(&r, 100) < 20 ? "true" : "false");
                break;
        }
        case T_NEED_RESOLVED: {
                char nid[32];
                snprintf(nid, sizeof(nid), "%s", id);
                snprintf(id, sizeof(id), "zzd-r-%09ld", e);
                envelope(b, id, "app/zhezhengding", kind, day, &r, hid);
                ap(b, "{\"need_id\":\"%s\",\"resolution\":\"%s\"}}", nid,
                   resolutions[below(&r, N_OF(resolutions))]);
                break;
        }
        case T_EXPENSE: {
                static const char *const cats[] = {"education", "disability", "medical", "other"};
                snprintf(id, sizeof(id), "zzd-x-%09ld", e);
                envelope(b, id, "app/zhezhengding", kind, day, &r, hid);
                ap(b, "{\"category\":\"%s\",\"amount\":", cats[below(&r, 4)]);
                ap_yuan(b, 5000 + below(&r, 800000));
                ap(b, ",\"incurred_on\":\"%s\"}}", date);
                break;
        }
        case T_DISASTER: {
                static const char *const dis[] = {"flood", "typhoon", "landslide",
                                                  "fire",  "drought", "other"};
                static const char *const dmg[] = {"none", "minor", "moderate", "severe",
                                                  "collapsed"};
                static const int dmg_w[] = {50, 30, 15, 4, 1};
                long s = below(&r, 100), k = 0;
                while (s >= dmg_w[k]) {
                        s -= dmg_w[k];
                        k++;
                }
                snprintf(id, sizeof(id), "yj-d-%09ld", e);
                envelope(b, id, "emergency/qingtian", kind, day, &r, hid);
                ap(b,
                   "{\"disaster\":\"%s\",\"occurred_on\":\"%s\",\"house_damage\":\"%s\","
                   "\"property_loss\":",
                   dis[below(&r, N_OF(dis))], date, dmg[k]);
                ap_yuan(b, below(&r, 100) * 100000 * (k + 1));
                ap(b, ",\"income_loss\":");
                ap_yuan(b, below(&r, 100) < 8 ? 1000000 + below(&r, 2000000) : below(&r, 500000));
                ap(b, ",\"injured\":%d,\"deaths\":%d}}", below(&r, 100) < 10 ? 1 : 0,
                   below(&r, 1000) < 5 ? 1 : 0);
                break;
        }
        case T_ACCIDENT: {
                static const char *const kinds[] = {"traffic", "work", "other"};
                snprintf(id, sizeof(id), "yj-a-%09ld", e);
                envelope(b, id, "emergency/qingtian", kind, day, &r, hid);
                ap(b, "{");
                member_id(b, hid, p.members, &r);
                ap(b,
                   ",\"kind\":\"%s\",\"occurred_on\":\"%s\",\"medical_cost\":", kinds[below(&r, 3)],
                   date);
                ap_yuan(b, 50000 + below(&r, 3000000));
                ap(b,
                   ",\"labor_lost\":%s,\"income_loss\":", below(&r, 100) < 15 ? "true" : "false");
                ap_yuan(b, below(&r, 100) < 10 ? 1000000 + below(&r, 2000000) : below(&r, 800000));
                ap(b, "}}");
                break;
        }
        case T_INCOME: {
                snprintf(id, sizeof(id), "mz-i-%09ld", e);
                envelope(b, id, "civil-affairs/qingtian", kind, day, &r, hid);
                ap(b, "{\"year\":2025,\"disposable\":");
                ap_yuan(b, p.income_fen * (70 + below(&r, 50)) / 100);
                ap(b, "}}");
                break;
        }
        case T_ASSIST: {
                static const char *const prog[] = {"minimum_living", "marginal", "extreme_poverty"};
                static const char *const act[] = {"granted", "granted", "revoked", "exited"};
                snprintf(id, sizeof(id), "mz-a-%09ld", e);
                envelope(b, id, "civil-affairs/qingtian", kind, day, &r, hid);
                ap(b,
                   "{\"program\":\"%s\",\"action\":\"%s\",\"monthly_amount\":", prog[below(&r, 3)],
                   act[below(&r, 4)]);
                ap_yuan(b, 50000 + below(&r, 100) * 1000);
                ap(b, ",\"effective\":\"%s\"}}", date);
                break;
        }
        }
}

/* --- output -------------------------------------------------------------- */

#define MAX_PARTS 4096

typedef struct {
        rd_kafka_t *rk;
        rd_kafka_topic_t *rkt[N_TOPICS];
        FILE *files[N_TOPICS];
        FILE *sendlog;
        uint64_t msgs[N_TOPICS], bytes[N_TOPICS], by_type[T_N], dups;
        uint64_t delivered, failed;
        int64_t first[N_TOPICS][MAX_PARTS], last[N_TOPICS][MAX_PARTS];
        const char *last_error;
} Sink;

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        (void)rk;
        Sink *s = opaque;
        if (m->err) {
                s->failed++;
                s->last_error = rd_kafka_err2str(m->err);
                return;
        }
        s->delivered++;
        const char *t = rd_kafka_topic_name(m->rkt);
        for (int i = 0; i < N_TOPICS; i++)
                if (!strcmp(t, topics[i]) && m->partition >= 0 && m->partition < MAX_PARTS) {
                        int64_t *f = &s->first[i][m->partition], *l = &s->last[i][m->partition];
                        if (*f < 0 || m->offset < *f)
                                *f = m->offset;
                        if (m->offset > *l)
                                *l = m->offset;
                }
}

static int kconf(rd_kafka_conf_t *c, const char *k, const char *v)
{
        char e[512];
        if (rd_kafka_conf_set(c, k, v, e, sizeof(e)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "bgen: %s=%s: %s\n", k, v, e);
                return -1;
        }
        return 0;
}

/* -T: a prefix for the topics' names (the latency floor's own topics). */
static const char *topic_prefix = "";

static int sink_kafka(Sink *s, const char *brokers, long linger_ms)
{
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        char linger[24];
        snprintf(linger, sizeof(linger), "%ld", linger_ms);
        if (kconf(c, "bootstrap.servers", brokers) < 0 || kconf(c, "linger.ms", linger) < 0 ||
            kconf(c, "batch.num.messages", "10000") < 0 || kconf(c, "batch.size", "1000000") < 0 ||
            kconf(c, "queue.buffering.max.messages", "2000000") < 0 ||
            kconf(c, "queue.buffering.max.kbytes", "2000000") < 0 ||
            kconf(c, "message.timeout.ms", "120000") < 0 ||
            kconf(c, "partitioner", "murmur2_random") < 0)
                return -1;
        rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
        rd_kafka_conf_set_opaque(c, s);
        char e[512];
        s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof(e));
        if (!s->rk) {
                fprintf(stderr, "bgen: producer: %s\n", e);
                return -1;
        }
        for (int i = 0; i < N_TOPICS; i++) {
                char name[256];
                snprintf(name, sizeof(name), "%s%s", topic_prefix, topics[i]);
                s->rkt[i] = rd_kafka_topic_new(s->rk, name, NULL);
        }
        return 0;
}

static int sink_files(Sink *s, const char *dir)
{
        mkdir(dir, 0755);
        for (int i = 0; i < N_TOPICS; i++) {
                char path[4096];
                snprintf(path, sizeof(path), "%s/%s.txt", dir, topics[i]);
                s->files[i] = fopen(path, "ae");
                if (!s->files[i]) {
                        fprintf(stderr, "bgen: %s: %s\n", path, strerror(errno));
                        return -1;
                }
        }
        return 0;
}

static int sink_put(Sink *s, int topic, const char *key, const Buf *b)
{
        size_t kl = strlen(key);
        s->msgs[topic]++;
        s->bytes[topic] += kl + b->len;
        if (s->files[topic]) {
                fprintf(s->files[topic], "%s\t%s\n", key, b->p);
                return 0;
        }
        if (!s->rk)
                return 0;
        for (;;) {
                rd_kafka_resp_err_t r =
                    rd_kafka_producev(s->rk, RD_KAFKA_V_RKT(s->rkt[topic]), RD_KAFKA_V_KEY(key, kl),
                                      RD_KAFKA_V_VALUE((void *)b->p, b->len),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (r == RD_KAFKA_RESP_ERR_NO_ERROR)
                        return 0;
                if (r != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                        fprintf(stderr, "bgen: produce: %s\n", rd_kafka_err2str(r));
                        return -1;
                }
                rd_kafka_poll(s->rk, 10);
        }
}

static void sleep_us(int64_t us)
{
        struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
        nanosleep(&ts, NULL);
}

static void usage(void)
{
        fprintf(stderr, "usage: bgen reg|events|plan -H HOUSEHOLDS [-n COUNT] [-S FIRST] [-s SEED] "
                        "[-y EVENTS_PER_YEAR] [-D START_DATE] [-d DUP_PPM] [-x BAD_PPM] "
                        "[-b BROKERS | -o DIR] [-r RATE] "
                        "[-l LINGER_MS] [-L SENDLOG] [-R RANGES] [-T TOPIC_PREFIX] [-q]\n");
        exit(2);
}

int main(int argc, char **argv)
{
        if (argc < 2)
                usage();
        const char *mode = argv[1];
        bool reg = !strcmp(mode, "reg"), plan = !strcmp(mode, "plan");
        if (!reg && !plan && strcmp(mode, "events"))
                usage();
        Gen g = {.seed = 1, .dup_ppm = 10000, .bad_ppm = 1000};
        long count = -1, first = 0, rate = 0, linger = -1;
        const char *brokers = NULL, *dir = NULL, *sendlog = NULL, *ranges = NULL;
        bool quiet = false, plan_reg = false;
        int c;
        optind = 2;
        start_day = days_from_civil(2026, 1, 1);
        while ((c = getopt(argc, argv, "H:n:S:s:y:d:x:b:o:r:l:L:R:D:T:qg")) >= 0) {
                switch (c) {
                case 'D': {
                        int y, m, d;
                        if (sscanf(optarg, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 ||
                            d < 1 || d > 31)
                                usage();
                        start_day = days_from_civil(y, m, d);
                        break;
                }
                case 'H':
                        g.households = (long)bench_parse(optarg, "households");
                        break;
                case 'n':
                        count = (long)bench_parse(optarg, "count");
                        break;
                case 'S':
                        first = (long)bench_parse(optarg, "first index");
                        break;
                case 's':
                        g.seed = (uint64_t)bench_parse(optarg, "seed");
                        break;
                case 'y':
                        g.year_events = (long)bench_parse(optarg, "events per year");
                        break;
                case 'd':
                        g.dup_ppm = (long)bench_parse(optarg, "duplicates ppm");
                        break;
                case 'x':
                        g.bad_ppm = (long)bench_parse(optarg, "malformed ppm");
                        break;
                case 'b':
                        brokers = optarg;
                        break;
                case 'o':
                        dir = optarg;
                        break;
                case 'r':
                        rate = (long)bench_parse(optarg, "rate");
                        break;
                case 'l':
                        linger = (long)bench_parse(optarg, "linger");
                        break;
                case 'L':
                        sendlog = optarg;
                        break;
                case 'R':
                        ranges = optarg;
                        break;
                case 'T':
                        topic_prefix = optarg;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'g':
                        plan_reg = true; /* plan: registrations */
                        break;
                default:
                        usage();
                }
        }
        if (g.households < 1 || g.households > 9999999)
                usage();
        if (plan)
                reg = plan_reg;
        if (count < 0)
                count = reg ? g.households - first : 0;
        if (!g.year_events)
                g.year_events = first + count > 0 ? first + count : 1;
        if (linger < 0)
                linger = rate ? 5 : 200; /* paced: librdkafka's default */

        static Sink s;
        memset(s.first, 0xff, sizeof(s.first));
        memset(s.last, 0xff, sizeof(s.last));
        if (!plan && brokers && sink_kafka(&s, brokers, linger) < 0)
                return 1;
        if (!plan && !brokers && dir && sink_files(&s, dir) < 0)
                return 1;
        if (sendlog && !(s.sendlog = fopen(sendlog, "we"))) {
                fprintf(stderr, "bgen: %s: %s\n", sendlog, strerror(errno));
                return 1;
        }
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);

        int64_t t0 = bench_now_us(), first_send = 0, last_send = 0;
        Buf b;
        for (long i = 0; i < count && !stop; i++) {
                long idx = first + i, h = 0;
                int topic = 0, type = T_REG;
                b.len = 0;
                b.p[0] = 0;
                if (reg) {
                        if (idx >= g.households)
                                break;
                        gen_registration(&g, idx, &b, &topic);
                        h = idx;
                } else {
                        Rng r = rng_at(&g, 3, (uint64_t)idx);
                        if (kind_of(&g, idx, &r) < 0)
                                s.dups++;
                        gen_event(&g, idx, &b, &topic, &h, &type);
                }
                s.by_type[type]++;
                char key[32];
                hh_id(key, sizeof(key), h);
                if (rate) {
                        int64_t due = t0 + (int64_t)((double)i * 1e6 / (double)rate);
                        for (int64_t now = bench_now_us(); now < due && !stop;
                             now = bench_now_us()) {
                                if (s.rk)
                                        rd_kafka_poll(s.rk, 0);
                                sleep_us(due - now > 1000 ? 1000 : due - now);
                        }
                }
                int64_t sent = bench_now_us();
                if (!first_send)
                        first_send = sent;
                last_send = sent;
                if (sink_put(&s, topic, key, &b) < 0)
                        return 1;
                if (s.sendlog && type != T_MALFORMED) {
                        SendRecord rec = {(uint32_t)h, (uint32_t)type, sent};
                        fwrite(&rec, sizeof(rec), 1, s.sendlog);
                }
                if (s.rk && (i & 1023) == 0)
                        rd_kafka_poll(s.rk, 0);
        }
        int64_t produced = bench_now_us();
        if (s.rk) {
                while (rd_kafka_outq_len(s.rk) > 0 && !stop)
                        rd_kafka_flush(s.rk, 1000);
        }
        int64_t flushed = bench_now_us();
        for (int i = 0; i < N_TOPICS; i++)
                if (s.files[i])
                        fclose(s.files[i]);
        if (s.sendlog)
                fclose(s.sendlog);
        if (ranges && s.rk) {
                FILE *f = fopen(ranges, "we");
                if (!f) {
                        fprintf(stderr, "bgen: %s: %s\n", ranges, strerror(errno));
                        return 1;
                }
                for (int t = 0; t < N_TOPICS; t++)
                        for (int p = 0; p < MAX_PARTS; p++)
                                if (s.first[t][p] >= 0)
                                        fprintf(f, "%s %d %" PRId64 " %" PRId64 "\n", topics[t], p,
                                                s.first[t][p], s.last[t][p]);
                fclose(f);
        }
        uint64_t msgs = 0, bytes = 0;
        for (int i = 0; i < N_TOPICS; i++) {
                msgs += s.msgs[i];
                bytes += s.bytes[i];
        }
        if (!quiet) {
                printf("mode=%s\nhouseholds=%ld\nfirst=%ld\nmessages=%" PRIu64 "\nbytes=%" PRIu64
                       "\navg_bytes=%.0f\nduplicates=%" PRIu64 "\nmalformed=%" PRIu64 "\n",
                       reg ? "reg" : "events", g.households, first, msgs, bytes,
                       msgs ? (double)bytes / (double)msgs : 0.0, s.dups, s.by_type[T_MALFORMED]);
                for (int i = 0; i < N_TOPICS; i++)
                        printf("topic.%s.messages=%" PRIu64 "\ntopic.%s.bytes=%" PRIu64 "\n",
                               topics[i], s.msgs[i], topics[i], s.bytes[i]);
                for (int i = 0; i < T_N; i++)
                        if (s.by_type[i])
                                printf("type.%s=%" PRIu64 "\n", type_names[i], s.by_type[i]);
                printf("first_send_us=%" PRId64 "\nlast_send_us=%" PRId64
                       "\nproduce_seconds=%.3f\nflush_seconds=%.3f\n",
                       first_send, last_send, (double)(produced - t0) / 1e6,
                       (double)(flushed - t0) / 1e6);
                if (s.rk)
                        printf("delivered=%" PRIu64 "\nfailed=%" PRIu64 "\n", s.delivered,
                               s.failed);
        }
        if (s.rk) {
                for (int i = 0; i < N_TOPICS; i++)
                        rd_kafka_topic_destroy(s.rkt[i]);
                rd_kafka_destroy(s.rk);
                if (s.failed || s.delivered != msgs) {
                        fprintf(stderr, "bgen: %" PRIu64 " of %" PRIu64 " not delivered (%s)\n",
                                msgs - s.delivered, msgs, s.last_error ? s.last_error : "stopped");
                        return 1;
                }
        }
        return stop ? 1 : 0;
}
