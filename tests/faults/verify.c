/* fverify: the fault matrix's verifier (tests/faults/README.md).
 *
 *   fverify -g GENDIR -s STATE -a ALERTS -q DLQ -i INPUTS -T THRESHOLD_FEN
 *           [-D] [-S] [-x HOUSEHOLD]...
 *
 * GENDIR/log.tsv  the generator's ground truth (fgen.c), GENDIR/bad.txt the
 *                 payloads of its bad messages
 * STATE           hearthctl household --json of each household, one a line
 * ALERTS          the alert topic from the start, one payload a line
 * DLQ             the dead-letter topic from the start, "headers<TAB>payload"
 * INPUTS          the input topics from the start, "topic<TAB>partition<TAB>offset<TAB>payload"
 * -D              duplicate alert ids are allowed (still counted)
 * -S              subset mode (Redis state lost on purpose): only alerts that
 *                 the model does not have count (spurious); no money, no loss
 * -R              Redis lost its last writes (F9): an id delivered again with
 *                 other figures is allowed when it is the same transition
 *                 (type, code, previous code, rules), counted apart
 * -x H            household H was broken on purpose after its registration:
 *                 every later event of it must be dead-lettered
 *
 * The reference model is written here, apart from hearthd: the test rules of
 * tests/faults/rules/faults.yaml (red when out-of-pocket medical > T, yellow
 * while a need is open) and the alert lifecycle of CONTRACT.md (raised on
 * leaving green, changed when the code or the set of rules changes,
 * eliminated on returning to green), over the events deduplicated by
 * source+id in the order each household receives them. It prints
 *   RESULT events lost money missing spurious dup_ids diff_payloads ok|FAIL
 * and NOTE lines explaining every failure; exit status 0 or 1. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- a string -> index hash map -------------------------------------------- */
typedef struct {
        char **keys;
        long *vals;
        size_t cap, n;
} Map;

static uint64_t hash(const char *s, size_t len)
{
        uint64_t h = 1469598103934665603ULL;
        for (size_t i = 0; i < len; i++)
                h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
        return h;
}

static void *xcalloc(size_t n, size_t sz)
{
        void *p = calloc(n ? n : 1, sz);
        if (!p) {
                fprintf(stderr, "fverify: out of memory\n");
                exit(2);
        }
        return p;
}

static char *xstrdup(const char *s)
{
        char *d = strdup(s);
        if (!d) {
                fprintf(stderr, "fverify: out of memory\n");
                exit(2);
        }
        return d;
}

static long *map_slot(Map *m, const char *k, bool create)
{
        if (create && (m->n + 1) * 2 > m->cap) {
                Map b = {.cap = m->cap ? m->cap * 2 : 1024};
                b.keys = xcalloc(b.cap, sizeof(char *));
                b.vals = xcalloc(b.cap, sizeof(long));
                for (size_t i = 0; i < m->cap; i++)
                        if (m->keys[i]) {
                                size_t j = hash(m->keys[i], strlen(m->keys[i])) & (b.cap - 1);
                                while (b.keys[j])
                                        j = (j + 1) & (b.cap - 1);
                                b.keys[j] = m->keys[i];
                                b.vals[j] = m->vals[i];
                                b.n++;
                        }
                free(m->keys);
                free(m->vals);
                *m = b;
        }
        if (!m->cap)
                return NULL;
        size_t j = hash(k, strlen(k)) & (m->cap - 1);
        while (m->keys[j]) {
                if (strcmp(m->keys[j], k) == 0)
                        return &m->vals[j];
                j = (j + 1) & (m->cap - 1);
        }
        if (!create)
                return NULL;
        m->keys[j] = xstrdup(k);
        m->vals[j] = -1;
        m->n++;
        return &m->vals[j];
}

static long map_get(Map *m, const char *k)
{
        long *v = map_slot(m, k, false);
        return v ? *v : -1;
}

/* --- input -------------------------------------------------------------- */
static char *read_line(FILE *f, char **buf, size_t *cap)
{
        ssize_t n = getline(buf, cap, f);
        if (n < 0)
                return NULL;
        if (n > 0 && (*buf)[n - 1] == '\n')
                (*buf)[n - 1] = 0;
        return *buf;
}

static FILE *xopen(const char *path)
{
        FILE *f = fopen(path, "re");
        if (!f) {
                fprintf(stderr, "fverify: %s: %s\n", path, strerror(errno));
                exit(2);
        }
        return f;
}

static int split(char *s, char **f, int max)
{
        int n = 0;
        f[n++] = s;
        for (char *p = s; *p && n < max; p++)
                if (*p == '\t') {
                        *p = 0;
                        f[n++] = p + 1;
                }
        return n;
}

enum { B_RELIEF, B_MEDICAL, B_FUND, B_EDU, B_DIS, N_BUCKETS };
static const char *bucket_names[N_BUCKETS] = {"relief", "medical", "fund_paid", "education",
                                              "disability"};

typedef struct {
        int topic_rank[3]; /* unused */
        char *topic;
        char *key; /* source \x1f id */
        int64_t fen[N_BUCKETS];
        char need_op; /* 'R', 'S' or 0 */
        char *need_id;
        bool registration;
} Ev;

typedef struct {
        char *id;
        Ev *evs;
        size_t n, cap;
        /* results */
        int64_t sums[N_BUCKETS];
        bool overflow;
        long open_needs;
        int final_code;
        char **expected; /* alert tuples */
        size_t n_expected;
        bool ambiguous;
        bool excluded;
        /* observed */
        char **observed;
        size_t n_observed, cap_observed;
        long dlq_valid;
        bool in_state;
        json_t *state;
} House;

static House *houses;
static size_t n_houses, cap_houses;
static Map house_map;

static House *house_get(const char *id, bool create)
{
        long i = map_get(&house_map, id);
        if (i >= 0)
                return &houses[i];
        if (!create)
                return NULL;
        if (n_houses == cap_houses) {
                cap_houses = cap_houses ? cap_houses * 2 : 256;
                houses = realloc(houses, cap_houses * sizeof(House));
                if (!houses)
                        exit(2);
        }
        House *h = &houses[n_houses];
        memset(h, 0, sizeof(*h));
        h->id = xstrdup(id);
        *map_slot(&house_map, id, true) = (long)n_houses++;
        return h;
}

static int n_notes;
static void note(const char *fmt, ...)
{
        va_list ap;
        n_notes++;
        if (n_notes > 40)
                return;
        va_start(ap, fmt);
        fputs("NOTE ", stdout);
        vprintf(fmt, ap);
        fputc('\n', stdout);
        va_end(ap);
}

/* A NOTE that explains without counting as a problem. */
static void note_info(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("NOTE ", stdout);
        vprintf(fmt, ap);
        fputc('\n', stdout);
        va_end(ap);
}

/* --- the reference model ------------------------------------------------ */
static int64_t threshold_fen = -1;
static const char *code_names[] = {"green", "yellow", "red"};

static int topic_rank(const char *topic, int order)
{
        static const char *ranks[] = {"household.reports", "medical-insurance.events",
                                      "civil-affairs.events", "disaster.events"};
        int r = 4;
        for (int i = 0; i < 4; i++)
                if (strcmp(topic, ranks[i]) == 0)
                        r = i;
        return order == 1 ? r : 4 - r;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The alert tuples of a household for one order of its events:
 * "type|code|previous_code|rules". order 0: as logged; 1 and 2: topic by
 * topic (each topic's own order kept), in two opposite topic orders. */
static char **model_alerts(House *h, int order, size_t *n_out, int *final_code, long *open_out)
{
        size_t n = h->n;
        size_t *idx = xcalloc(n, sizeof(size_t));
        for (size_t i = 0; i < n; i++)
                idx[i] = i;
        if (order) {
                /* stable insertion sort by topic rank, registration first */
                for (size_t i = 1; i < n; i++) {
                        size_t v = idx[i], j = i;
                        int rv = h->evs[v].registration ? -1 : topic_rank(h->evs[v].topic, order);
                        while (j > 0) {
                                size_t u = idx[j - 1];
                                int ru = h->evs[u].registration ? -1
                                                                : topic_rank(h->evs[u].topic, order);
                                if (ru <= rv)
                                        break;
                                idx[j] = u;
                                j--;
                        }
                        idx[j] = v;
                }
        }
        char **out = xcalloc(n * 2 + 1, sizeof(char *));
        size_t n_out_ = 0;
        bool registered = false, open = false;
        int code_now = 0;
        char rules_now[128] = "";
        int64_t medical = 0;
        Map needs = {0};
        long open_needs = 0;
        for (size_t k = 0; k < n; k++) {
                Ev *e = &h->evs[idx[k]];
                if (e->registration)
                        registered = true;
                medical += e->fen[B_MEDICAL];
                if (e->need_op == 'R') {
                        long *v = map_slot(&needs, e->need_id, true);
                        if (*v != 1) {
                                *v = 1;
                                open_needs++;
                        }
                } else if (e->need_op == 'S') {
                        long *v = map_slot(&needs, e->need_id, false);
                        if (v && *v == 1) {
                                *v = 0;
                                open_needs--;
                        }
                }
                if (!registered)
                        continue;
                bool red = medical > threshold_fen;
                bool yellow = open_needs > 0;
                int code = red ? 2 : yellow ? 1 : 0;
                char rules[128];
                snprintf(rules, sizeof(rules), "%s%s%s", red ? "faults_medical_red" : "",
                         red && yellow ? "," : "", yellow ? "faults_open_need" : "");
                char t[256];
                if (!open) {
                        if (code) {
                                snprintf(t, sizeof(t), "risk.alert.raised|%s|green|%s",
                                         code_names[code], rules);
                                out[n_out_++] = xstrdup(t);
                                open = true;
                        }
                } else if (!code) {
                        snprintf(t, sizeof(t), "risk.eliminated||%s|", code_names[code_now]);
                        out[n_out_++] = xstrdup(t);
                        open = false;
                } else if (code != code_now || strcmp(rules, rules_now) != 0) {
                        snprintf(t, sizeof(t), "risk.alert.changed|%s|%s|%s", code_names[code],
                                 code_names[code_now], rules);
                        out[n_out_++] = xstrdup(t);
                }
                code_now = open ? code : 0;
                snprintf(rules_now, sizeof(rules_now), "%s", rules);
        }
        for (size_t i = 0; i < needs.cap; i++)
                free(needs.keys[i]);
        free(needs.keys);
        free(needs.vals);
        free(idx);
        *n_out = n_out_;
        *final_code = open ? code_now : 0;
        *open_out = open_needs;
        qsort(out, n_out_, sizeof(char *), cmp_str);
        return out;
}

static bool same_list(char **a, size_t na, char **b, size_t nb)
{
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (strcmp(a[i], b[i]) != 0)
                        return false;
        return true;
}

static void free_list(char **a, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(a[i]);
        free(a);
}

/* --- main --------------------------------------------------------------- */
static int64_t json_fen(const json_t *o, const char *k)
{
        const json_t *v = json_object_get(o, k);
        return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static int64_t sat_add(int64_t a, int64_t b)
{
        int64_t s;
        if (__builtin_add_overflow(a, b, &s))
                return INT64_MAX;
        return s;
}

static int64_t absdiff(int64_t a, int64_t b)
{
        int64_t d;
        if (__builtin_sub_overflow(a, b, &d))
                return INT64_MAX;
        if (d == INT64_MIN)
                return INT64_MAX;
        return d < 0 ? -d : d;
}

/* The rule ids of an output's reasons, sorted and joined. */
static void rules_of(const json_t *data, char *buf, size_t len)
{
        const char *r[32];
        size_t n = 0, i, off = 0;
        json_t *x;
        json_array_foreach (json_object_get(data, "reasons"), i, x)
                if (n < 32 && json_string_value(json_object_get(x, "rule")))
                        r[n++] = json_string_value(json_object_get(x, "rule"));
        for (i = 1; i < n; i++)
                for (size_t j = i; j > 0 && strcmp(r[j - 1], r[j]) > 0; j--) {
                        const char *t = r[j];
                        r[j] = r[j - 1];
                        r[j - 1] = t;
                }
        buf[0] = 0;
        for (i = 0; i < n && off < len; i++)
                off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "", r[i]);
}

/* Two payloads of one id: the same transition (type, code, previous code,
 * rules)? what: the fields of data that differ. */
static bool same_transition(const char *a, const char *b, char *what, size_t len)
{
        json_t *ja = json_loads(a, 0, NULL), *jb = json_loads(b, 0, NULL);
        bool same = false;
        size_t off = 0;
        what[0] = 0;
        if (ja && jb) {
                const json_t *da = json_object_get(ja, "data"), *db = json_object_get(jb, "data");
                const char *k;
                json_t *v;
                json_object_foreach ((json_t *)da, k, v)
                        if (!json_equal(v, json_object_get(db, k)) && off < len)
                                off += (size_t)snprintf(what + off, len - off, "%s%s",
                                                        off ? "," : "differ: ", k);
                if (!json_equal(json_object_get(ja, "time"), json_object_get(jb, "time")) &&
                    off < len)
                        off += (size_t)snprintf(what + off, len - off, "%stime",
                                                off ? "," : "differ: ");
                char ra[512], rb[512];
                rules_of(da, ra, sizeof(ra));
                rules_of(db, rb, sizeof(rb));
                /* A field absent from both (risk.eliminated has no code) is
                 * the same; json_equal() says no to two NULLs. */
#define SAME_FIELD(x, y) ((!(x) && !(y)) || json_equal((x), (y)))
                same = SAME_FIELD(json_object_get(ja, "type"), json_object_get(jb, "type")) &&
                       SAME_FIELD(json_object_get(da, "code"), json_object_get(db, "code")) &&
                       SAME_FIELD(json_object_get(da, "previous_code"),
                                  json_object_get(db, "previous_code")) &&
                       strcmp(ra, rb) == 0;
#undef SAME_FIELD
        }
        json_decref(ja);
        json_decref(jb);
        return same;
}

int main(int argc, char **argv)
{
        const char *gen = NULL, *state = NULL, *alerts = NULL, *dlq = NULL, *inputs = NULL;
        bool allow_dups = false, subset = false, refigure_ok = false;
        const char *excluded[64];
        int n_excluded = 0;
        int c;
        while ((c = getopt(argc, argv, "g:s:a:q:i:T:DSRx:")) >= 0) {
                switch (c) {
                case 'g':
                        gen = optarg;
                        break;
                case 's':
                        state = optarg;
                        break;
                case 'a':
                        alerts = optarg;
                        break;
                case 'q':
                        dlq = optarg;
                        break;
                case 'i':
                        inputs = optarg;
                        break;
                case 'T':
                        threshold_fen = strtoll(optarg, NULL, 10);
                        break;
                case 'D':
                        allow_dups = true;
                        break;
                case 'S':
                        subset = true;
                        break;
                case 'R':
                        refigure_ok = true;
                        break;
                case 'x':
                        if (n_excluded < 64)
                                excluded[n_excluded++] = optarg;
                        break;
                default:
                        fprintf(stderr, "usage: fverify -g GENDIR -s STATE -a ALERTS -q DLQ -i "
                                        "INPUTS -T FEN [-D] [-S] [-R] [-x HOUSEHOLD]...\n");
                        return 2;
                }
        }
        if (!gen || !state || !alerts || !dlq || !inputs || threshold_fen < 0) {
                fprintf(stderr, "fverify: -g -s -a -q -i -T are required\n");
                return 2;
        }
        char path[4096], *buf = NULL;
        size_t cap = 0;
        long messages = 0;

        /* 1. Ground truth: unique valid events per household, in log order. */
        Map seen = {0};
        snprintf(path, sizeof(path), "%s/log.tsv", gen);
        FILE *f = xopen(path);
        while (read_line(f, &buf, &cap)) {
                char *fl[12];
                if (split(buf, fl, 12) != 12) {
                        fprintf(stderr, "fverify: bad log line\n");
                        return 2;
                }
                messages++;
                if (strcmp(fl[5], "1") != 0)
                        continue;
                char key[512];
                snprintf(key, sizeof(key), "%s\x1f%s", fl[2], fl[3]);
                long *s = map_slot(&seen, key, true);
                if (*s >= 0)
                        continue; /* a duplicate by source+id: counts once */
                *s = 1;
                House *h = house_get(fl[1], true);
                if (h->n == h->cap) {
                        h->cap = h->cap ? h->cap * 2 : 16;
                        h->evs = realloc(h->evs, h->cap * sizeof(Ev));
                        if (!h->evs)
                                return 2;
                }
                Ev *e = &h->evs[h->n++];
                memset(e, 0, sizeof(*e));
                e->topic = xstrdup(fl[0]);
                e->key = xstrdup(key);
                e->registration = strcmp(fl[4], "household.registered") == 0;
                for (int b = 0; b < N_BUCKETS; b++) {
                        e->fen[b] = strtoll(fl[6 + b], NULL, 10);
                        if (__builtin_add_overflow(h->sums[b], e->fen[b], &h->sums[b]))
                                h->overflow = true;
                }
                if (fl[11][0] == 'R' || fl[11][0] == 'S') {
                        e->need_op = fl[11][0];
                        e->need_id = xstrdup(fl[11] + 2);
                }
        }
        fclose(f);
        for (int i = 0; i < n_excluded; i++) {
                House *h = house_get(excluded[i], false);
                if (h)
                        h->excluded = true;
        }
        /* The expected alerts, checked to be independent of how the topics interleave. */
        long ambiguous = 0;
        for (size_t i = 0; i < n_houses; i++) {
                House *h = &houses[i];
                int fc[3];
                long on[3];
                size_t nn[3];
                char **l[3];
                for (int o = 0; o < 3; o++)
                        l[o] = model_alerts(h, o, &nn[o], &fc[o], &on[o]);
                h->expected = l[0];
                h->n_expected = nn[0];
                h->final_code = fc[0];
                h->open_needs = on[0];
                if (!same_list(l[0], nn[0], l[1], nn[1]) || !same_list(l[0], nn[0], l[2], nn[2]) ||
                    fc[0] != fc[1] || fc[0] != fc[2]) {
                        h->ambiguous = true;
                        ambiguous++;
                }
                free_list(l[1], nn[1]);
                free_list(l[2], nn[2]);
        }
        if (ambiguous)
                note("model: the alerts of %ld household(s) depend on how topics interleave "
                     "(a generator problem); their alerts are not compared",
                     ambiguous);

        /* 2. Bad payloads, and the input topics as stored. */
        Map bad = {0};
        long n_bad_lines = 0;
        snprintf(path, sizeof(path), "%s/bad.txt", gen);
        f = xopen(path);
        while (read_line(f, &buf, &cap)) {
                *map_slot(&bad, buf, true) = 1;
                n_bad_lines++;
        }
        fclose(f);
        Map coord = {0}; /* "topic/p/o" -> index in payloads */
        char **payloads = NULL;
        size_t n_payloads = 0, cap_payloads = 0;
        long expected_bad = 0;
        f = xopen(inputs);
        while (read_line(f, &buf, &cap)) {
                char *fl[4];
                if (split(buf, fl, 4) != 4)
                        continue;
                char k[512];
                snprintf(k, sizeof(k), "%s/%s/%s", fl[0], fl[1], fl[2]);
                if (n_payloads == cap_payloads) {
                        cap_payloads = cap_payloads ? cap_payloads * 2 : 4096;
                        payloads = realloc(payloads, cap_payloads * sizeof(char *));
                        if (!payloads)
                                return 2;
                }
                payloads[n_payloads] = xstrdup(fl[3]);
                *map_slot(&coord, k, true) = (long)n_payloads++;
                if (map_get(&bad, fl[3]) == 1)
                        expected_bad++;
        }
        fclose(f);

        /* 3. Dead letters. */
        Map dl_coord = {0}, dl_valid = {0};
        long dlq_bad = 0, dlq_msgs = 0, dlq_changed = 0, dlq_unknown = 0;
        f = xopen(dlq);
        while (read_line(f, &buf, &cap)) {
                dlq_msgs++;
                char *tab = strchr(buf, '\t');
                if (!tab)
                        continue;
                *tab = 0;
                const char *hdr = buf, *payload = tab + 1;
                const char *pt = strstr(hdr, "hearth.topic="), *pp = strstr(hdr, "hearth.partition="),
                           *po = strstr(hdr, "hearth.offset=");
                if (!pt || !pp || !po) {
                        note("dead letter without hearth.topic/partition/offset headers");
                        dlq_unknown++;
                        continue;
                }
                pt += strlen("hearth.topic=");
                size_t tl = strcspn(pt, ",");
                char k[512];
                snprintf(k, sizeof(k), "%.*s/%ld/%ld", (int)tl, pt,
                         strtol(pp + strlen("hearth.partition="), NULL, 10),
                         strtol(po + strlen("hearth.offset="), NULL, 10));
                long *s = map_slot(&dl_coord, k, true);
                if (*s >= 0)
                        continue; /* the same message dead-lettered again */
                *s = 1;
                long pi = map_get(&coord, k);
                if (pi < 0) {
                        note("dead letter names %s, which is not an input message", k);
                        dlq_unknown++;
                        continue;
                }
                if (strcmp(payloads[pi], payload) != 0)
                        dlq_changed++;
                if (map_get(&bad, payloads[pi]) == 1) {
                        dlq_bad++;
                        continue;
                }
                /* A valid event dead-lettered. */
                json_t *ev = json_loads(payloads[pi], 0, NULL);
                const char *src = json_string_value(json_object_get(ev, "source"));
                const char *id = json_string_value(json_object_get(ev, "id"));
                const char *sub = json_string_value(json_object_get(ev, "subject"));
                char key[512];
                snprintf(key, sizeof(key), "%s\x1f%s", src ? src : "", id ? id : "");
                House *h = sub ? house_get(sub, false) : NULL;
                long *v = map_slot(&dl_valid, key, true);
                if (*v < 0 && h) {
                        *v = 1;
                        h->dlq_valid++;
                        if (!h->excluded && !subset)
                                note("valid event %s/%s of %s dead-lettered (%s)", src, id, sub,
                                     hdr);
                }
                json_decref(ev);
        }
        fclose(f);
        if (dlq_changed)
                note("%ld dead letter(s) differ from the input message (must be copied unchanged)",
                     dlq_changed);

        /* 4. Redis state. */
        f = xopen(state);
        while (read_line(f, &buf, &cap)) {
                json_t *o = json_loads(buf, 0, NULL);
                const char *id = json_string_value(json_object_get(o, "household"));
                House *h = id ? house_get(id, false) : NULL;
                if (!h) {
                        json_decref(o);
                        continue;
                }
                /* hearthctl household --json: the figures the model predicts */
                const json_t *st = json_object_get(o, "state"), *sums = json_object_get(o, "sums_12m");
                json_t *fig = json_object();
                json_object_set(fig, "events", json_object_get(st, "events"));
                for (int b = 0; b < N_BUCKETS; b++)
                        json_object_set(fig, bucket_names[b], json_object_get(sums, bucket_names[b]));
                json_object_set_new(fig, "needs",
                                    json_integer((json_int_t)json_object_size(json_object_get(st, "needs"))));
                const json_t *code = json_object_get(json_object_get(st, "alert"), "code");
                if (json_is_string(code))
                        json_object_set(fig, "code", (json_t *)code);
                json_decref(o);
                h->in_state = true;
                h->state = fig;
        }
        fclose(f);

        /* 5. Alerts. */
        Map ids = {0}; /* id -> index into first payloads */
        char **first = NULL;
        size_t n_first = 0, cap_first = 0;
        long dup_ids = 0, diff_payloads = 0, alert_msgs = 0, refigured = 0;
        Map diff_seen = {0};
        f = xopen(alerts);
        while (read_line(f, &buf, &cap)) {
                if (!*buf)
                        continue;
                alert_msgs++;
                json_t *o = json_loads(buf, 0, NULL);
                const char *id = json_string_value(json_object_get(o, "id"));
                if (!o || !id) {
                        note("alert that is not a CloudEvent: %.80s", buf);
                        json_decref(o);
                        continue;
                }
                long *s = map_slot(&ids, id, true);
                if (*s >= 0) {
                        dup_ids++;
                        if (strcmp(first[*s], buf) != 0) {
                                long *d = map_slot(&diff_seen, id, true);
                                if (*d < 0) {
                                        *d = 1;
                                        char what[256];
                                        if (refigure_ok && same_transition(first[*s], buf, what,
                                                                           sizeof(what))) {
                                                refigured++;
                                                note_info("alert id %s re-emitted with other "
                                                          "figures (same transition; %s)",
                                                          id, what);
                                        } else {
                                                diff_payloads++;
                                                note("alert id %s delivered with different "
                                                     "payloads (%s)",
                                                     id, what);
                                        }
                                }
                        }
                        json_decref(o);
                        continue;
                }
                if (n_first == cap_first) {
                        cap_first = cap_first ? cap_first * 2 : 1024;
                        first = realloc(first, cap_first * sizeof(char *));
                        if (!first)
                                return 2;
                }
                first[n_first] = xstrdup(buf);
                *s = (long)n_first++;
                const char *type = json_string_value(json_object_get(o, "type"));
                const char *sub = json_string_value(json_object_get(o, "subject"));
                const json_t *data = json_object_get(o, "data");
                const char *code = json_string_value(json_object_get(data, "code"));
                const char *prev = json_string_value(json_object_get(data, "previous_code"));
                char *rules[8];
                size_t nr = 0, i;
                json_t *r;
                json_array_foreach(json_object_get(data, "reasons"), i, r)
                {
                        const char *rule = json_string_value(json_object_get(r, "rule"));
                        if (nr < 8)
                                rules[nr++] = (char *)(rule ? rule : "?");
                }
                qsort(rules, nr, sizeof(char *), cmp_str);
                char t[512];
                int off = snprintf(t, sizeof(t), "%s|%s|%s|", type ? type : "?",
                                   code && strcmp(type ? type : "", "risk.eliminated") ? code : "",
                                   prev ? prev : "");
                for (size_t j = 0; j < nr && off < (int)sizeof(t); j++)
                        off += snprintf(t + off, sizeof(t) - (size_t)off, "%s%s", j ? "," : "",
                                        rules[j]);
                House *h = sub ? house_get(sub, false) : NULL;
                if (!h) {
                        note("alert %s for unknown household %s", id, sub ? sub : "?");
                        h = house_get(sub ? sub : "?", true);
                }
                if (h->n_observed == h->cap_observed) {
                        h->cap_observed = h->cap_observed ? h->cap_observed * 2 : 8;
                        h->observed = realloc(h->observed, h->cap_observed * sizeof(char *));
                        if (!h->observed)
                                return 2;
                }
                h->observed[h->n_observed++] = xstrdup(t);
                json_decref(o);
        }
        fclose(f);

        /* 6. Compare. */
        long lost = 0, extra = 0, missing = 0, spurious = 0, code_bad = 0, needs_bad = 0;
        int64_t money = 0;
        for (size_t i = 0; i < n_houses; i++) {
                House *h = &houses[i];
                qsort(h->observed, h->n_observed, sizeof(char *), cmp_str);
                /* alerts: multiset difference */
                if (!h->ambiguous && !h->excluded) {
                        size_t a = 0, b = 0;
                        while (a < h->n_expected || b < h->n_observed) {
                                int c2 = a == h->n_expected    ? 1
                                         : b == h->n_observed ? -1
                                                              : strcmp(h->expected[a], h->observed[b]);
                                if (c2 == 0) {
                                        a++;
                                        b++;
                                } else if (c2 < 0) {
                                        if (!subset) {
                                                missing++;
                                                note("missing alert of %s: %s", h->id,
                                                     h->expected[a]);
                                        }
                                        a++;
                                } else {
                                        spurious++;
                                        note("spurious alert of %s: %s", h->id, h->observed[b]);
                                        b++;
                                }
                        }
                }
                if (subset)
                        continue;
                long n_model = (long)h->n;
                if (h->excluded) {
                        long want = n_model - 1; /* all but the registration */
                        if (h->dlq_valid < want) {
                                lost += want - h->dlq_valid;
                                note("%s (broken on purpose): %ld of %ld later events "
                                     "dead-lettered",
                                     h->id, h->dlq_valid, want);
                        }
                        continue;
                }
                if (h->overflow)
                        note("model: %s's exact sums overflow int64", h->id);
                long applied = h->in_state ? (long)json_fen(h->state, "events") : 0;
                if (!h->in_state && n_model)
                        note("household %s missing from the Redis dump", h->id);
                long d = n_model - applied - h->dlq_valid;
                if (d > 0) {
                        lost += d;
                        note("%s: %ld events expected, %ld applied, %ld dead-lettered", h->id,
                             n_model, applied, h->dlq_valid);
                } else if (d < 0) {
                        extra += -d;
                        note("%s: %ld events expected, %ld applied, %ld dead-lettered (counted "
                             "twice)",
                             h->id, n_model, applied, h->dlq_valid);
                }
                int64_t hd = 0;
                for (int b = 0; b < N_BUCKETS; b++) {
                        int64_t got = h->in_state ? json_fen(h->state, bucket_names[b]) : 0;
                        hd = sat_add(hd, absdiff(got, h->sums[b]));
                        if (got != h->sums[b])
                                note("%s %s: redis %" PRId64 " fen, model %" PRId64 " fen", h->id,
                                     bucket_names[b], got, h->sums[b]);
                }
                money = sat_add(money, hd);
                if (h->in_state && !h->ambiguous) {
                        const char *code =
                            json_string_value(json_object_get(h->state, "code"));
                        const char *want = h->final_code ? code_names[h->final_code] : NULL;
                        if ((code == NULL) != (want == NULL) ||
                            (code && want && strcmp(code, want) != 0)) {
                                code_bad++;
                                note("%s: final code %s in Redis, model %s", h->id,
                                     code ? code : "none", want ? want : "none");
                        }
                        long nd = (long)json_fen(h->state, "needs");
                        if (nd != h->open_needs) {
                                needs_bad++;
                                note("%s: %ld open needs in Redis, model %ld", h->id, nd,
                                     h->open_needs);
                        }
                }
        }
        long lost_bad = 0;
        if (!subset) {
                if (expected_bad != n_bad_lines)
                        note("%ld bad messages generated, %ld found in the input topics",
                             n_bad_lines, expected_bad);
                lost_bad = n_bad_lines - dlq_bad;
                if (lost_bad > 0) {
                        lost += lost_bad;
                        note("%ld bad message(s) not dead-lettered", lost_bad);
                }
        }
        bool ok = lost == 0 && extra == 0 && money == 0 && missing == 0 && spurious == 0 &&
                  diff_payloads == 0 && (allow_dups || dup_ids == 0) && code_bad == 0 &&
                  needs_bad == 0 && dlq_changed == 0 && dlq_unknown == 0 && ambiguous == 0;
        if (!subset) {
                long valid_dlq = 0;
                for (size_t i = 0; i < n_houses; i++)
                        if (!houses[i].excluded)
                                valid_dlq += houses[i].dlq_valid;
                if (valid_dlq)
                        ok = false;
        }
        if (dup_ids && !allow_dups)
                note("%ld duplicate alert id(s) where the row allows none", dup_ids);
        printf("STATS messages=%ld households=%zu alerts=%ld unique_alerts=%zu dead_letters=%ld "
               "bad_expected=%ld bad_dead_lettered=%ld extra=%ld code_mismatch=%ld "
               "needs_mismatch=%ld refigured=%ld notes=%d\n",
               messages, n_houses, alert_msgs, n_first, dlq_msgs, n_bad_lines, dlq_bad, extra,
               code_bad, needs_bad, refigured, n_notes);
        printf("RESULT %ld %ld %" PRId64 " %ld %ld %ld %ld %s\n", messages, lost, money, missing,
               spurious, dup_ids, diff_payloads, ok ? "ok" : "FAIL");
        return ok ? 0 : 1;
}
