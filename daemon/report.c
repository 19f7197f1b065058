/* The supervision report (REQ-14): figures per town, cadre or department from household documents,
 * and the missed-monitoring audit. */
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "evaluate.h"
#include "event.h"
#include "household.h"
#include "macro.h"

#define DAY_MS (24LL * 3600 * 1000)
#define CST_MS (8LL * 3600 * 1000)

typedef struct {
        int64_t *v;
        size_t n, cap;
} Samples;

typedef struct {
        char name[132];
        int64_t households, raised, yellow, red, escalations, refused, monitored;
        int64_t routed, answered, overdue, visits_done, visits_due, sat_n, sat_sum;
        int64_t candidates, candidates_registered, missed;
        json_t *categories; /* category -> count */
        Samples ack, elim, answer;
} Group;

struct Report {
        ReportOptions o;
        Group **groups;
        size_t n_groups, cap_groups;
        json_t *index; /* name -> group number */
        Group total;
        json_t *missed; /* household ids, at most REPORT_MAX_MISSED */
        int64_t households;
};

static int samples_add(Samples *s, int64_t v)
{
        if (s->n == s->cap) {
                size_t cap = s->cap ? 2 * s->cap : 16;
                int64_t *nv = realloc(s->v, cap * sizeof(int64_t));
                if (!nv)
                        return -ENOMEM;
                s->v = nv;
                s->cap = cap;
        }
        s->v[s->n++] = v;
        return 0;
}

static void group_free(Group *g)
{
        if (!g)
                return;
        json_decref(g->categories);
        free(g->ack.v);
        free(g->elim.v);
        free(g->answer.v);
        free(g);
}

Report *report_new(const ReportOptions *o)
{
        Report *r = calloc(1, sizeof(Report));
        if (!r)
                return NULL;
        r->o = *o;
        r->index = json_object();
        r->missed = json_array();
        r->total.categories = json_object();
        snprintf(r->total.name, sizeof(r->total.name), "(total)");
        if (!r->index || !r->missed || !r->total.categories)
                return report_free(r);
        return r;
}

Report *report_free(Report *r)
{
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_groups; i++)
                group_free(r->groups[i]);
        free(r->groups);
        json_decref(r->index);
        json_decref(r->missed);
        json_decref(r->total.categories);
        free(r->total.ack.v);
        free(r->total.elim.v);
        free(r->total.answer.v);
        free(r);
        return NULL;
}

static Group *group_of(Report *r, const char *name)
{
        if (!name || !*name)
                name = "-";
        const json_t *i = json_object_get(r->index, name);
        if (i)
                return r->groups[json_integer_value(i)];
        if (r->n_groups >= REPORT_MAX_GROUPS && !streq(name, "(other)"))
                return group_of(r, "(other)");
        if (r->n_groups == r->cap_groups) {
                size_t cap = r->cap_groups ? 2 * r->cap_groups : 64;
                Group **ng = realloc(r->groups, cap * sizeof(Group *));
                if (!ng)
                        return NULL;
                r->groups = ng;
                r->cap_groups = cap;
        }
        Group *g = calloc(1, sizeof(Group));
        if (!g || !(g->categories = json_object())) {
                free(g);
                return NULL;
        }
        snprintf(g->name, sizeof(g->name), "%s", name);
        json_object_set_new(r->index, name, json_integer((json_int_t)r->n_groups));
        r->groups[r->n_groups++] = g;
        return g;
}

int64_t report_time_ms(const char *s)
{
        int32_t days;
        int hh, mm, ss, n = 0;
        char date[11];
        /* The date alone: date_parse() refuses trailing text on main (calendar.h,
         * whose calendar_time_parse() can replace this function after the merge). */
        if (s)
                snprintf(date, sizeof(date), "%s", s);
        if (!s || strlen(s) < 20 || date_parse(date, &days) < 0 ||
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

static int64_t ms_of(const json_t *o, const char *k)
{
        const json_t *v = json_object_get(o, k);
        return json_is_integer(v) ? json_integer_value(v) : 0;
}

static bool in_range(const Report *r, int64_t ms)
{
        return ms >= r->o.from_ms && ms < r->o.to_ms;
}

/* The figures of one department answer (REQ-9 限时答复) into g. */
static int department_add(const Report *r, Group *g, const json_t *d, int64_t raised)
{
        int64_t by = report_time_ms(json_string_value(json_object_get(d, "answer_by")));
        int64_t at = report_time_ms(json_string_value(json_object_get(d, "answered_at")));
        g->routed++;
        if (at) {
                g->answered++;
                if (samples_add(&g->answer, (at > raised ? at - raised : 0) / 1000) < 0)
                        return -ENOMEM;
        }
        if (by && (at ? at > by : r->o.now_ms > by))
                g->overdue++;
        return 0;
}

static void count_category(Group *g, const char *c)
{
        json_object_set_new(
            g->categories, c,
            json_integer(json_integer_value(json_object_get(g->categories, c)) + 1));
}

/* One alert (open or closed record) raised in range into g. */
static int alert_add(const Report *r, Group *g, const json_t *a, bool open)
{
        int64_t raised = ms_of(a, "raised_ms");
        const char *peak = json_string_value(json_object_get(a, "peak"));
        if (!peak)
                peak = json_string_value(json_object_get(a, "code"));
        g->raised++;
        g->yellow += streq_ptr(peak, "yellow");
        g->red += streq_ptr(peak, "red");
        size_t i;
        json_t *c;
        json_array_foreach (json_object_get(a, "categories"), i, c)
                if (json_is_string(c))
                        count_category(g, json_string_value(c));
        int64_t ack = ms_of(a, "acknowledged_ms");
        if (ack && samples_add(&g->ack, (ack > raised ? ack - raised : 0) / 1000) < 0)
                return -ENOMEM;
        g->escalations += ms_of(a, "escalated_ms") != 0;
        g->refused += ms_of(a, "refused");
        int64_t closed = ms_of(a, "closed_ms");
        if (!open && closed &&
            !streq_ptr(json_string_value(json_object_get(a, "ended")), "removed") &&
            samples_add(&g->elim, (closed > raised ? closed - raised : 0) / 1000) < 0)
                return -ENOMEM;
        const json_t *sat = json_object_get(a, "satisfaction");
        if (json_is_integer(sat)) {
                g->sat_n++;
                g->sat_sum += json_integer_value(sat);
        }
        json_t *d;
        if (r->o.by != REPORT_BY_DEPARTMENT)
                json_array_foreach (json_object_get(a, "departments"), i, d)
                        if (department_add(r, g, d, raised) < 0)
                                return -ENOMEM;
        return 0;
}

/* The alerts of doc raised in range: the open one and the closed records,
 * each (id, raised_ms) once (a reopened alert is closed again under its
 * id). Into the household's group, or each department's. */
static int alerts_add(Report *r, Group *g, const json_t *doc)
{
        const json_t *closed = json_object_get(doc, "closed");
        const json_t *open = json_object_get(doc, "alert");
        size_t n = json_array_size(closed);
        for (size_t i = 0; i <= n; i++) {
                const json_t *a = i < n ? json_array_get(closed, i) : open;
                if (!a || !in_range(r, ms_of(a, "raised_ms")))
                        continue;
                bool dup = false;
                for (size_t k = i + 1; k < n && !dup; k++) {
                        const json_t *b = json_array_get(closed, k);
                        dup = json_equal(json_object_get(a, "id"), json_object_get(b, "id")) &&
                              ms_of(a, "raised_ms") == ms_of(b, "raised_ms");
                }
                if (i < n && open &&
                    json_equal(json_object_get(a, "id"), json_object_get(open, "id")) &&
                    ms_of(a, "raised_ms") == ms_of(open, "raised_ms"))
                        dup = true;
                if (dup)
                        continue;
                if (r->o.by != REPORT_BY_DEPARTMENT) {
                        if (alert_add(r, g, a, i == n) < 0 ||
                            alert_add(r, &r->total, a, i == n) < 0)
                                return -ENOMEM;
                        continue;
                }
                size_t k;
                json_t *d;
                json_array_foreach (json_object_get(a, "departments"), k, d) {
                        Group *dg = group_of(r, json_string_value(json_object_get(d, "id")));
                        int64_t raised = ms_of(a, "raised_ms");
                        if (!dg || alert_add(r, dg, a, i == n) < 0 ||
                            department_add(r, dg, d, raised) < 0 ||
                            department_add(r, &r->total, d, raised) < 0)
                                return -ENOMEM;
                }
                if (alert_add(r, &r->total, a, i == n) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Midnight (+08:00) of a YYYY-MM-DD date, wall ms. */
static int64_t date_ms(const char *s)
{
        int32_t d;
        return s && date_parse(s, &d) == 0 ? (int64_t)d * DAY_MS - CST_MS : 0;
}

static void visits_add(const Report *r, Group *g, const json_t *doc)
{
        size_t i;
        json_t *v;
        int64_t done = 0;
        json_array_foreach (json_object_get(doc, "visits"), i, v)
                done += in_range(r, date_ms(json_string_value(v)));
        /* One visit due per interval the household was registered within
         * the range (一户一策一干部: 每月一联系走访). */
        int64_t start = ms_of(doc, "registered_ms");
        start = start > r->o.from_ms ? start : r->o.from_ms;
        int64_t end = r->o.to_ms < r->o.now_ms ? r->o.to_ms : r->o.now_ms;
        int64_t due =
            end > start && r->o.visit_interval_ms > 0 ? (end - start) / r->o.visit_interval_ms : 0;
        g->visits_done += done;
        g->visits_due += due;
}

static int rank(const char *s)
{
        return streq_ptr(s, "red") ? 2 : streq_ptr(s, "yellow") ? 1 : 0;
}

/* The audit (seed §五(二) 应纳入监测帮扶而未纳入): the colour the current
 * rules give doc, as hearthd's lifecycle does (suppressed reasons with the
 * same evidence do not count), when no alert is open. */
static bool missed(const Report *r, const json_t *doc)
{
        const json_t *open = json_object_get(doc, "alert");
        if (!r->o.rules || (open && !json_is_true(json_object_get(open, "reopening"))))
                return false;
        int32_t day = household_latest(doc);
        if (!day)
                day = (int32_t)(r->o.now_ms / DAY_MS);
        json_t *e = evaluate_json(r->o.rules, doc, day, r->o.lines, r->o.n_lines, NULL);
        const json_t *sup = json_object_get(doc, "suppressed");
        int code = 0;
        size_t i;
        json_t *reason;
        json_array_foreach (json_object_get(e, "reasons"), i, reason) {
                const char *rule = json_string_value(json_object_get(reason, "rule"));
                const json_t *s = rule ? json_object_get(sup, rule) : NULL;
                if (s && json_equal(s, json_object_get(reason, "evidence")))
                        continue;
                int c = rank(json_string_value(json_object_get(reason, "severity")));
                code = c > code ? c : code;
        }
        json_decref(e);
        return code > 0;
}

int report_add(Report *r, const char *household, const json_t *doc)
{
        bool registered = household_registered(doc);
        bool live = registered && !json_is_true(json_object_get(doc, "removed"));
        const json_t *cand = json_object_get(doc, "candidate");
        if (!live && !cand)
                return 0;
        const json_t *prof = json_object_get(doc, "profile");
        const char *name =
            r->o.by == REPORT_BY_CADRE
                ? json_string_value(json_object_get(json_object_get(prof, "cadre"), "id"))
                : json_string_value(json_object_get(prof, "town"));
        Group *g = r->o.by == REPORT_BY_DEPARTMENT ? &r->total : group_of(r, name);
        if (!g)
                return -ENOMEM;
        Group *groups[2] = {g, g == &r->total ? NULL : &r->total};
        bool miss = live && missed(r, doc);
        for (size_t k = 0; k < 2 && groups[k]; k++) {
                Group *x = groups[k];
                if (cand && in_range(r, ms_of(cand, "at_ms"))) {
                        x->candidates++;
                        x->candidates_registered += registered;
                }
                if (!live)
                        continue;
                x->households++;
                x->monitored += json_object_get(doc, "monitoring") != NULL;
                visits_add(r, x, doc);
                x->missed += miss;
        }
        if (miss && json_array_size(r->missed) < REPORT_MAX_MISSED)
                json_array_append_new(r->missed, json_string(household));
        return live ? alerts_add(r, g == &r->total ? NULL : g, doc) : 0;
}

static int cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return (x > y) - (x < y);
}

/* {count, median, p90} in seconds: nearest rank (the ceil(p*n)-th
 * smallest), null when there is none. Sorts s. */
static json_t *quantiles(Samples *s)
{
        if (!s->n)
                return json_pack("{s:i, s:n, s:n}", "count", 0, "median", "p90");
        qsort(s->v, s->n, sizeof(int64_t), cmp_i64);
        size_t m = (s->n + 1) / 2, p = (9 * s->n + 9) / 10;
        return json_pack("{s:I, s:I, s:I}", "count", (json_int_t)s->n, "median",
                         (json_int_t)s->v[m - 1], "p90", (json_int_t)s->v[p - 1]);
}

static json_t *group_json(Group *g)
{
        json_t *sat = g->sat_n ? json_real((double)g->sat_sum / (double)g->sat_n) : json_null();
        return json_pack(
            "{s:s, s:I, s:{s:I, s:I, s:I, s:O}, s:o, s:o, s:I, s:{s:I, s:I, s:I, s:o},"
            " s:{s:I, s:I}, s:{s:I, s:o}, s:I, s:{s:I, s:I}, s:I, s:I}",
            "name", g->name, "households", (json_int_t)g->households, "alerts", "raised",
            (json_int_t)g->raised, "yellow", (json_int_t)g->yellow, "red", (json_int_t)g->red,
            "by_category", g->categories, "acknowledge_seconds", quantiles(&g->ack),
            "eliminate_seconds", quantiles(&g->elim), "escalations", (json_int_t)g->escalations,
            "department_answers", "routed", (json_int_t)g->routed, "answered",
            (json_int_t)g->answered, "overdue", (json_int_t)g->overdue, "seconds",
            quantiles(&g->answer), "visits", "done", (json_int_t)g->visits_done, "due",
            (json_int_t)g->visits_due, "satisfaction", "count", (json_int_t)g->sat_n, "mean", sat,
            "monitored", (json_int_t)g->monitored, "candidates", "identified",
            (json_int_t)g->candidates, "registered", (json_int_t)g->candidates_registered,
            "refused", (json_int_t)g->refused, "missed", (json_int_t)g->missed);
}

static int cmp_group(const void *a, const void *b)
{
        return strcmp((*(Group *const *)a)->name, (*(Group *const *)b)->name);
}

json_t *report_json(const Report *r)
{
        static const char *const bys[] = {"town", "cadre", "department"};
        char from[16], to[16];
        date_format((int32_t)((r->o.from_ms + CST_MS) / DAY_MS), from, sizeof(from));
        date_format((int32_t)((r->o.to_ms + CST_MS) / DAY_MS) - 1, to, sizeof(to));
        json_t *groups = json_array();
        Group **sorted = calloc(r->n_groups + 1, sizeof(Group *));
        if (!groups || !sorted) {
                json_decref(groups);
                free(sorted);
                return NULL;
        }
        if (r->n_groups)
                memcpy(sorted, r->groups, r->n_groups * sizeof(Group *));
        qsort(sorted, r->n_groups, sizeof(Group *), cmp_group);
        for (size_t i = 0; i < r->n_groups; i++)
                json_array_append_new(groups, group_json(sorted[i]));
        free(sorted);
        Group *total = (Group *)&r->total;
        return json_pack("{s:s, s:s, s:s, s:o, s:o, s:{s:I, s:O}}", "by", bys[r->o.by], "from",
                         r->o.from_ms <= 0 ? "" : from, "to", to, "groups", groups, "total",
                         group_json(total), "missed", "count", (json_int_t)total->missed,
                         "households", r->missed);
}
