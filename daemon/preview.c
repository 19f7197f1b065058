/* hearthctl preview: a candidate rule set against every household's state,
 * aggregated by town or village. */
#include "preview.h"
#include "escape.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "clock.h"
#include "facts.h"
#include "jsonfast.h"
#include "household.h"
#include "macro.h"

#define GROUP_SLOTS 32768 /* open addressing, > 2 x PREVIEW_MAX_GROUPS */
#define OTHER "(other)"
#define MAX_WORKERS 8
#define CAUSE_WORDS ((2 * RULES_MAX + 63) / 64)

static const char *const colours[] = {"green", "yellow", "red"};

/* What one household's evaluation found: computed on a worker thread
 * (assess()), counted on the main one (tally()). */
typedef struct {
        bool skipped, stale, unreadable;
        int from, to;
        char group[300];
        uint64_t started[CAUSE_WORDS], stopped[CAUSE_WORDS]; /* bits of rule id indexes */
} Assessment;

/* A thread's scratch space: the facts and which rules fire. */
typedef struct {
        Facts *facts;
        bool *firing[2];
} Worker;

/* The households that moved from one colour to another in a group. */
typedef struct {
        size_t n;
        size_t *causes; /* n_causes counters, allocated on the first move */
        char examples[PREVIEW_EXAMPLES][65];
        size_t n_examples;
} Move;

typedef struct {
        char *name;
        size_t households;
        Move moves[3][3];
} Group;

struct Preview {
        const RuleSet *rs[2]; /* current, candidate */
        const ExprFloorLine *lines;
        size_t n_lines;
        PreviewBy by;
        /* Causes: every rule id of both sets, twice ("+": starts firing under
         * the candidate, "-": stops). cause_of[s][i]: the id index of rule i
         * of set s. */
        char **ids;
        size_t n_ids;
        size_t *cause_of[2];
        Group **groups; /* hash slots */
        size_t n_groups;
        Group total;
        size_t households, skipped, stale, unreadable, pages;
        int64_t us;
        uint64_t *seen; /* hashes of the ids read (SCAN may return one twice) */
        size_t n_seen, cap_seen;
};

static void group_done(Group *g)
{
        free(g->name);
        for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                        free(g->moves[a][b].causes);
}

Preview *preview_free(Preview *p)
{
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_ids; i++)
                free(p->ids[i]);
        free(p->ids);
        for (int s = 0; s < 2; s++)
                free(p->cause_of[s]);
        for (size_t i = 0; p->groups && i < GROUP_SLOTS; i++)
                if (p->groups[i]) {
                        group_done(p->groups[i]);
                        free(p->groups[i]);
                }
        free(p->groups);
        group_done(&p->total);
        free(p->seen);
        free(p);
        return NULL;
}

static int id_index(Preview *p, const char *id)
{
        for (size_t i = 0; i < p->n_ids; i++)
                if (streq(p->ids[i], id))
                        return (int)i;
        char *c = strdup(id);
        if (!c)
                return -ENOMEM;
        p->ids[p->n_ids] = c;
        return (int)p->n_ids++;
}

Preview *preview_new(const RuleSet *current, const RuleSet *candidate, const ExprFloorLine *lines,
                     size_t n_lines, PreviewBy by)
{
        if (!current || !candidate)
                return NULL;
        Preview *p = calloc(1, sizeof(Preview));
        if (!p)
                return NULL;
        *p = (Preview){.rs = {current, candidate}, .lines = lines, .n_lines = n_lines, .by = by};
        size_t n = rules_count(current) + rules_count(candidate);
        p->ids = calloc(n + 1, sizeof(char *));
        p->groups = calloc(GROUP_SLOTS, sizeof(Group *));
        p->total.name = strdup("all");
        if (!p->ids || !p->groups || !p->total.name)
                return preview_free(p);
        for (int s = 0; s < 2; s++) {
                size_t k = rules_count(p->rs[s]);
                p->cause_of[s] = calloc(k + 1, sizeof(size_t));
                if (!p->cause_of[s])
                        return preview_free(p);
                for (size_t i = 0; i < k; i++) {
                        int x = id_index(p, rules_id(p->rs[s], i));
                        if (x < 0)
                                return preview_free(p);
                        p->cause_of[s][i] = (size_t)x;
                }
        }
        return p;
}

static uint64_t fnv(const char *s)
{
        uint64_t h = 1469598103934665603ULL;
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

/* Whether the household was read already (SCAN may return a key twice):
 * 64-bit hashes in an open-addressing set, 16 bytes a household. */
static int seen_before(Preview *p, const char *household)
{
        uint64_t h = fnv(household) | 1; /* 0 marks a free slot */
        if (2 * (p->n_seen + 1) > p->cap_seen) {
                size_t cap = p->cap_seen ? 2 * p->cap_seen : 4096;
                uint64_t *ns = calloc(cap, sizeof(uint64_t));
                if (!ns)
                        return -ENOMEM;
                for (size_t i = 0; i < p->cap_seen; i++) {
                        if (!p->seen[i])
                                continue;
                        size_t j = p->seen[i] & (cap - 1);
                        while (ns[j])
                                j = (j + 1) & (cap - 1);
                        ns[j] = p->seen[i];
                }
                free(p->seen);
                p->seen = ns;
                p->cap_seen = cap;
        }
        size_t j = h & (p->cap_seen - 1);
        while (p->seen[j]) {
                if (p->seen[j] == h)
                        return 1;
                j = (j + 1) & (p->cap_seen - 1);
        }
        p->seen[j] = h;
        p->n_seen++;
        return 0;
}

/* The group named `group`, created on first use. */
static Group *group_of(Preview *p, const char *group)
{
        char name[300];
        snprintf(name, sizeof(name), "%s", group);
        size_t j = fnv(name) & (GROUP_SLOTS - 1);
        while (p->groups[j]) {
                if (streq(p->groups[j]->name, name))
                        return p->groups[j];
                j = (j + 1) & (GROUP_SLOTS - 1);
        }
        if (p->n_groups >= PREVIEW_MAX_GROUPS && !streq(name, OTHER)) {
                /* Bounded: further groups count together. */
                snprintf(name, sizeof(name), "%s", OTHER);
                j = fnv(name) & (GROUP_SLOTS - 1);
                while (p->groups[j]) {
                        if (streq(p->groups[j]->name, name))
                                return p->groups[j];
                        j = (j + 1) & (GROUP_SLOTS - 1);
                }
        }
        Group *g = calloc(1, sizeof(Group));
        if (!g || !(g->name = strdup(name))) {
                free(g);
                return NULL;
        }
        p->groups[j] = g;
        p->n_groups++;
        return g;
}

static int rank(const char *code)
{
        for (int i = 0; i < 3; i++)
                if (streq_ptr(code, colours[i]))
                        return i;
        return 0;
}

/* The colour of doc under rule set s, as hearthd's lifecycle gives it
 * (lifecycle.c active_reasons()): firing rules, less those an accepted
 * alert.resolved suppressed with the same evidence, and at least yellow
 * while a low score keeps the alert reopened. Leaves w->firing[s] with the
 * rules that count. */
static int colour(const Preview *p, Worker *w, int s, const json_t *doc, int32_t today)
{
        const RuleSet *rs = p->rs[s];
        bool *firing = w->firing[s];
        RulesCode code;
        bool monitored;
        if (rules_fire(rs, w->facts, doc, today, p->lines, p->n_lines, firing, &code, &monitored) <
            0)
                return -EINVAL;
        const json_t *sup = json_object_get(doc, "suppressed");
        bool any = false;
        for (size_t i = 0; i < rules_count(rs) && json_object_size(sup); i++)
                any = any || (firing[i] && json_object_get(sup, rules_id(rs, i)));
        if (any) {
                /* Rare: the evidence decides, so evaluate in full. */
                RulesResult r;
                if (rules_eval(rs, doc, today, p->lines, p->n_lines, &r) < 0) {
                        rules_result_done(&r);
                        return -ENOMEM;
                }
                for (size_t k = 0; k < r.n_reasons; k++) {
                        const json_t *e = json_object_get(sup, r.reasons[k].rule);
                        if (!e || !json_equal(e, r.reasons[k].evidence))
                                continue;
                        for (size_t i = 0; i < rules_count(rs); i++)
                                if (streq(rules_id(rs, i), r.reasons[k].rule))
                                        firing[i] = false;
                }
                rules_result_done(&r);
        }
        int c = 0;
        for (size_t i = 0; i < rules_count(rs); i++) {
                int sev = rules_severity(rs, i);
                if (!firing[i] || sev == RULES_SEV_MONITOR)
                        continue;
                if (sev == RULES_SEV_RED)
                        c = 2;
                else if (c < 1)
                        c = 1;
        }
        if (json_object_get(json_object_get(doc, "alert"), "reopen") && c < 1)
                c = 1;
        return c;
}

static bool bit(const uint64_t *v, size_t i)
{
        return (v[i / 64] >> (i % 64)) & 1;
}

static int move_add(Preview *p, Move *m, const char *household, const Assessment *a)
{
        if (!m->causes && !(m->causes = calloc(2 * p->n_ids + 1, sizeof(size_t))))
                return -ENOMEM;
        m->n++;
        for (size_t i = 0; i < p->n_ids; i++) {
                m->causes[2 * i] += bit(a->started, i);
                m->causes[2 * i + 1] += bit(a->stopped, i);
        }
        if (m->n_examples < PREVIEW_EXAMPLES)
                snprintf(m->examples[m->n_examples++], sizeof(m->examples[0]), "%s", household);
        return 0;
}

/* Both colours of one household and what differs: pure with respect to p,
 * so that workers run it at once. */
static int assess(const Preview *p, Worker *w, const json_t *doc, int32_t today, Assessment *a)
{
        memset(a, 0, sizeof(*a));
        if (!household_registered(doc) || json_is_true(json_object_get(doc, "removed"))) {
                a->skipped = true;
                return 0;
        }
        int32_t day = household_latest(doc);
        if (!day)
                day = today;
        a->from = colour(p, w, 0, doc, day);
        a->to = colour(p, w, 1, doc, day);
        if (a->from < 0 || a->to < 0)
                return -ENOMEM;
        const json_t *prof = json_object_get(doc, "profile");
        const char *town = json_string_value(json_object_get(prof, "town"));
        const char *village = json_string_value(json_object_get(prof, "village"));
        if (p->by == PREVIEW_BY_VILLAGE)
                snprintf(a->group, sizeof(a->group), "%s/%s", town ? town : "-",
                         village ? village : "-");
        else
                snprintf(a->group, sizeof(a->group), "%s", town ? town : "-");
        const char *stored =
            json_string_value(json_object_get(json_object_get(doc, "eval"), "code"));
        a->stale = stored && rank(stored) != a->from;
        if (a->from == a->to)
                return 0;
        /* The colour-giving rules whose firing differs between the sets. */
        for (int s = 0; s < 2; s++)
                for (size_t i = 0; i < rules_count(p->rs[s]); i++)
                        if (w->firing[s][i] && rules_severity(p->rs[s], i) != RULES_SEV_MONITOR) {
                                size_t c = p->cause_of[s][i];
                                (s ? a->started : a->stopped)[c / 64] |= 1ULL << (c % 64);
                        }
        for (size_t k = 0; k < CAUSE_WORDS; k++) {
                uint64_t both = a->started[k] & a->stopped[k];
                a->started[k] &= ~both;
                a->stopped[k] &= ~both;
        }
        return 0;
}

/* Counts an assessment (main thread). */
static int tally(Preview *p, const char *household, const Assessment *a)
{
        if (a->unreadable) {
                p->unreadable++;
                return 0;
        }
        if (a->skipped) {
                p->skipped++;
                return 0;
        }
        Group *g = group_of(p, a->group);
        if (!g)
                return -ENOMEM;
        p->households++;
        g->households++;
        p->total.households++;
        p->stale += a->stale;
        if (a->from == a->to)
                return 0;
        if (move_add(p, &g->moves[a->from][a->to], household, a) < 0 ||
            move_add(p, &p->total.moves[a->from][a->to], household, a) < 0)
                return -ENOMEM;
        return 0;
}

static Worker *worker_done(Worker *w)
{
        facts_free(w->facts);
        free(w->firing[0]);
        free(w->firing[1]);
        *w = (Worker){0};
        return NULL;
}

static int worker_init(const Preview *p, Worker *w)
{
        *w = (Worker){.facts = facts_new(),
                      .firing = {calloc(rules_count(p->rs[0]) + 1, sizeof(bool)),
                                 calloc(rules_count(p->rs[1]) + 1, sizeof(bool))}};
        if (!w->facts || !w->firing[0] || !w->firing[1]) {
                worker_done(w);
                return -ENOMEM;
        }
        return 0;
}

int preview_add(Preview *p, const char *household, const json_t *doc, int32_t today)
{
        Worker w;
        Assessment *a = malloc(sizeof(Assessment));
        int r = a ? worker_init(p, &w) : -ENOMEM;
        if (r == 0) {
                r = assess(p, &w, doc, today, a);
                if (r == 0)
                        r = tally(p, household, a);
                worker_done(&w);
        }
        free(a);
        return r;
}

/* One page's documents, parsed and assessed by nth threads: thread t
 * takes documents t, t + nth, ... */
typedef struct {
        const Preview *p;
        Worker w;
        char **texts;
        size_t *lens;
        size_t n, t, nth;
        int32_t today;
        Assessment *out;
        int r;
} Slice;

static void *slice_run(void *u)
{
        Slice *sl = u;
        for (size_t i = sl->t; i < sl->n && sl->r == 0; i += sl->nth) {
                if (!sl->texts[i])
                        continue; /* no state (gone since the SCAN): not counted */
                json_t *doc = jsonfast_load(sl->texts[i], sl->lens[i], NULL);
                if (!doc) {
                        sl->out[i] = (Assessment){.unreadable = true};
                        continue;
                }
                sl->r = assess(sl->p, &sl->w, doc, sl->today, &sl->out[i]);
                json_decref(doc);
        }
        return NULL;
}

static size_t n_workers(void)
{
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        return n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : (size_t)n;
}

int preview_run(Preview *p, Store *s, int32_t today, void (*progress)(size_t done, void *u),
                void *u)
{
        uint64_t cursor = 0;
        int64_t t0 = clock_mono_us();
        size_t nth = n_workers();
        Slice sl[MAX_WORKERS] = {0};
        int r = 0;
        /* jansson seeds its hash function on first use: before the threads. */
        json_object_seed(0);
        for (size_t t = 0; t < nth && r == 0; t++)
                r = worker_init(p, &sl[t].w);
        while (r == 0) {
                json_t *ids = NULL;
                if ((r = store_scan_households(s, &cursor, PREVIEW_PAGE, &ids)) < 0)
                        break;
                size_t n = json_array_size(ids);
                const char **hs = calloc(n + 1, sizeof(char *));
                char **texts = calloc(n + 1, sizeof(char *));
                size_t *lens = calloc(n + 1, sizeof(size_t));
                Assessment *out = calloc(n + 1, sizeof(Assessment));
                size_t k = 0;
                if (!hs || !texts || !lens || !out)
                        r = -ENOMEM;
                for (size_t i = 0; r == 0 && i < n; i++) {
                        const char *h = json_string_value(json_array_get(ids, i));
                        int seen = seen_before(p, h);
                        if (seen < 0)
                                r = seen;
                        else if (!seen)
                                hs[k++] = h;
                }
                if (r == 0 && k > 0)
                        r = store_docs_get(s, hs, k, texts, lens);
                if (r == -EINVAL)
                        r = 0; /* an unreadable key: the others count */
                pthread_t th[MAX_WORKERS];
                bool started[MAX_WORKERS] = {false};
                for (size_t t = 0; r == 0 && t < nth; t++) {
                        sl[t] = (Slice){p, sl[t].w, texts, lens, k, t, nth, today, out, 0};
                        started[t] = t > 0 && pthread_create(&th[t], NULL, slice_run, &sl[t]) == 0;
                }
                if (r == 0)
                        slice_run(&sl[0]);
                for (size_t t = 1; r == 0 && t < nth; t++) {
                        if (started[t])
                                pthread_join(th[t], NULL);
                        else
                                slice_run(&sl[t]); /* no thread: do its share here */
                }
                for (size_t t = 0; r == 0 && t < nth; t++)
                        r = sl[t].r;
                for (size_t i = 0; i < k; i++) {
                        if (r == 0 && texts[i])
                                r = tally(p, hs[i], &out[i]);
                        free(texts[i]);
                }
                free(hs);
                free(texts);
                free(lens);
                free(out);
                json_decref(ids);
                p->pages++;
                if (r == 0 && progress)
                        progress(p->households + p->skipped, u);
                if (cursor == 0)
                        break;
        }
        for (size_t t = 0; t < nth; t++)
                worker_done(&sl[t].w);
        p->us = clock_mono_us() - t0;
        return r;
}

/* --- the report ---------------------------------------------------------- */

static int cmp_group(const void *a, const void *b)
{
        return strcmp((*(Group *const *)a)->name, (*(Group *const *)b)->name);
}

/* The groups in name order (array of n borrowed pointers; free it). */
static Group **sorted_groups(const Preview *p)
{
        Group **v = calloc(p->n_groups + 1, sizeof(Group *));
        size_t n = 0;
        for (size_t i = 0; v && i < GROUP_SLOTS; i++)
                if (p->groups[i])
                        v[n++] = p->groups[i];
        if (v)
                qsort(v, n, sizeof(Group *), cmp_group);
        return v;
}

/* The causes of a move, most frequent first: {"+rule": n}. */
static json_t *causes_json(const Preview *p, const Move *m)
{
        json_t *o = json_object();
        size_t *order = calloc(2 * p->n_ids + 1, sizeof(size_t));
        size_t n = 0;
        for (size_t i = 0; order && m->causes && i < 2 * p->n_ids; i++)
                if (m->causes[i])
                        order[n++] = i;
        /* Insertion sort: a handful of causes. */
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && m->causes[order[j]] > m->causes[order[j - 1]]; j--) {
                        size_t t = order[j];
                        order[j] = order[j - 1];
                        order[j - 1] = t;
                }
        for (size_t i = 0; o && i < n; i++) {
                char k[RULES_MAX_ID + 2];
                snprintf(k, sizeof(k), "%c%s", order[i] % 2 ? '-' : '+', p->ids[order[i] / 2]);
                json_object_set_new(o, k, json_integer((json_int_t)m->causes[order[i]]));
        }
        free(order);
        return o;
}

static json_t *group_json(const Preview *p, const Group *g)
{
        json_t *moves = json_array();
        size_t changed = 0;
        for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++) {
                        const Move *m = &g->moves[a][b];
                        if (a == b || !m->n)
                                continue;
                        changed += m->n;
                        json_t *ex = json_array();
                        for (size_t i = 0; i < m->n_examples; i++)
                                json_array_append_new(ex, json_string(m->examples[i]));
                        json_array_append_new(
                            moves, json_pack("{s:s, s:s, s:I, s:o, s:o}", "from", colours[a], "to",
                                             colours[b], "households", (json_int_t)m->n, "causes",
                                             causes_json(p, m), "examples", ex));
                }
        return json_pack("{s:s, s:I, s:I, s:o}", "name", g->name, "households",
                         (json_int_t)g->households, "changed", (json_int_t)changed, "moves", moves);
}

static double rate(const Preview *p)
{
        double s = (double)p->us / 1e6;
        return s > 0 ? (double)(p->households + p->skipped) / s : 0;
}

json_t *preview_json(const Preview *p)
{
        json_t *groups = json_array();
        Group **v = sorted_groups(p);
        for (size_t i = 0; v && i < p->n_groups; i++)
                json_array_append_new(groups, group_json(p, v[i]));
        free(v);
        return json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:f, s:o, s:o}", "by",
                         p->by == PREVIEW_BY_VILLAGE ? "village" : "town", "households",
                         (json_int_t)p->households, "skipped", (json_int_t)p->skipped, "stale",
                         (json_int_t)p->stale, "unreadable", (json_int_t)p->unreadable, "seconds",
                         (double)p->us / 1e6, "rate", rate(p), "groups", groups, "total",
                         group_json(p, &p->total));
}

static void write_group_text(const Preview *p, const Group *g, FILE *f)
{
        json_t *j = group_json(p, g);
        fprintf(f, "%s: %zu households, %" JSON_INTEGER_FORMAT " would change colour\n", g->name,
                g->households, json_integer_value(json_object_get(j, "changed")));
        size_t i;
        json_t *m;
        json_array_foreach (json_object_get(j, "moves"), i, m) {
                fprintf(f, "  %-6s -> %-6s %7" JSON_INTEGER_FORMAT "  ",
                        json_string_value(json_object_get(m, "from")),
                        json_string_value(json_object_get(m, "to")),
                        json_integer_value(json_object_get(m, "households")));
                const char *k;
                json_t *v;
                int first = 1;
                json_object_foreach (json_object_get(m, "causes"), k, v) {
                        fprintf(f, "%s%s %" JSON_INTEGER_FORMAT, first ? "" : ", ", k,
                                json_integer_value(v));
                        first = 0;
                }
                fprintf(f, "%s  e.g.", first ? "(no rule: suppressed or reopened)" : "");
                size_t e;
                json_t *x;
                json_array_foreach (json_object_get(m, "examples"), e, x)
                        fprintf(f, " %s", json_string_value(x));
                fprintf(f, "\n");
        }
        json_decref(j);
}

void preview_write_text(const Preview *p, FILE *f)
{
        Group **v = sorted_groups(p);
        for (size_t i = 0; v && i < p->n_groups; i++)
                write_group_text(p, v[i], f);
        free(v);
        write_group_text(p, &p->total, f);
        fprintf(f,
                "%zu households read (%zu not registered or removed, skipped); %zu with a stored "
                "code other than the current rules give\n",
                p->households + p->skipped, p->skipped, p->stale);
        if (p->unreadable)
                fprintf(f, "%zu documents could not be read as JSON (not counted)\n",
                        p->unreadable);
        fprintf(f, "%.2f s, %.0f households/s\n", (double)p->us / 1e6, rate(p));
}

static void write_group_csv(const Preview *p, const Group *g, FILE *f)
{
        json_t *j = group_json(p, g);
        size_t i;
        json_t *m;
        json_array_foreach (json_object_get(j, "moves"), i, m) {
                char causes[2048] = "", examples[512] = "";
                size_t off = 0;
                const char *k;
                json_t *v;
                json_object_foreach (json_object_get(m, "causes"), k, v) {
                        int n = snprintf(causes + off, sizeof(causes) - off,
                                         "%s%s:%" JSON_INTEGER_FORMAT, off ? " " : "", k,
                                         json_integer_value(v));
                        if (n < 0 || (size_t)n >= sizeof(causes) - off)
                                break;
                        off += (size_t)n;
                }
                off = 0;
                size_t e;
                json_t *x;
                json_array_foreach (json_object_get(m, "examples"), e, x) {
                        int n = snprintf(examples + off, sizeof(examples) - off, "%s%s",
                                         off ? " " : "", json_string_value(x));
                        if (n < 0 || (size_t)n >= sizeof(examples) - off)
                                break;
                        off += (size_t)n;
                }
                escape_csv(f, g->name);
                fprintf(f, ",%s,%s,%" JSON_INTEGER_FORMAT ",",
                        json_string_value(json_object_get(m, "from")),
                        json_string_value(json_object_get(m, "to")),
                        json_integer_value(json_object_get(m, "households")));
                escape_csv(f, causes);
                fputc(',', f);
                escape_csv(f, examples);
                fputc('\n', f);
        }
        json_decref(j);
}

void preview_write_csv(const Preview *p, FILE *f)
{
        fprintf(f, "group,from,to,households,causes,examples\n");
        Group **v = sorted_groups(p);
        for (size_t i = 0; v && i < p->n_groups; i++)
                write_group_csv(p, v[i], f);
        free(v);
        write_group_csv(p, &p->total, f);
}
