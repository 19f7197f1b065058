/* Per-rule outcomes of alerts: the notes of a household step, their
 * counters, and the report read back from them. */
#include "outcome.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "lifecycle.h"
#include "macro.h"

static const char *const names[N_OUTCOMES] = {
    [OUTCOME_RAISED] = "raised",
    [OUTCOME_ELIMINATED_WITH_HELP] = "eliminated_with_help",
    [OUTCOME_CLEARED_BY_DATA] = "cleared_by_data",
    [OUTCOME_RESOLUTION_REFUSED] = "resolution_refused",
    [OUTCOME_REOPENED] = "reopened",
    [OUTCOME_FALSE_ALARM] = "false_alarm",
    [OUTCOME_REPORTED_HELPED] = "reported_helped",
    [OUTCOME_REPORTED_OTHER] = "reported_other",
    [OUTCOME_REMOVED] = "removed",
};

/* Upper bounds (seconds) of the time-to-elimination histogram: minutes
 * for a figure corrected at once, hours for urgent help, days to a year
 * for the rest. */
static const int64_t bounds[] = {
    60,         300,        900,        1800,       3600,        4 * 3600,
    12 * 3600,  86400,      2 * 86400,  3 * 86400,  5 * 86400,   7 * 86400,
    14 * 86400, 30 * 86400, 60 * 86400, 90 * 86400, 180 * 86400, 365 * 86400,
};

const char *outcome_name(Outcome o)
{
        return (unsigned)o < N_OUTCOMES ? names[o] : "invalid";
}

int outcome_from_name(const char *s)
{
        for (int i = 0; s && i < N_OUTCOMES; i++)
                if (streq(names[i], s))
                        return i;
        return -EINVAL;
}

void outcome_before(const json_t *doc, OutcomeBefore *b)
{
        const json_t *alert = json_object_get(doc, "alert");
        *b = (OutcomeBefore){0};
        str_copy(b->alert, sizeof(b->alert), json_string_value(json_object_get(alert, "id")) ?: "");
        const json_t *rules = json_object_get(alert, "rules");
        b->rules = rules ? json_deep_copy(rules) : json_array();
}

void outcome_before_done(OutcomeBefore *b)
{
        json_decref(b->rules);
        *b = (OutcomeBefore){0};
}

static bool has(const json_t *arr, const char *rule)
{
        size_t i;
        json_t *v;
        json_array_foreach (arr, i, v)
                if (streq_ptr(json_string_value(v), rule))
                        return true;
        return false;
}

static void note(Outcomes *out, const char *rule, Outcome o, int64_t seconds)
{
        if (!rule || streq(rule, OUTCOME_NOT_A_RULE))
                return;
        if (out->n >= OUTCOME_MAX_NOTES) {
                out->dropped++;
                return;
        }
        OutcomeNote *n = &out->notes[out->n++];
        str_copy(n->rule, sizeof(n->rule), rule);
        n->outcome = o;
        n->seconds = seconds;
}

static void note_all(Outcomes *out, const json_t *rules, Outcome o, int64_t seconds)
{
        size_t i;
        json_t *v;
        json_array_foreach (rules, i, v)
                note(out, json_string_value(v), o, seconds);
}

/* The alert named id in doc, open or closed (newest first). */
static const json_t *alert_named(const json_t *doc, const char *id)
{
        const json_t *a = json_object_get(doc, "alert");
        if (id && streq_ptr(json_string_value(json_object_get(a, "id")), id))
                return a;
        const json_t *closed = json_object_get(doc, "closed");
        for (size_t i = json_array_size(closed); id && i-- > 0;) {
                a = json_array_get(closed, i);
                if (streq_ptr(json_string_value(json_object_get(a, "id")), id))
                        return a;
        }
        return NULL;
}

void outcome_after(const OutcomeBefore *b, const json_t *doc, const Event *ev, int flags,
                   const json_t *outputs, Outcomes *out)
{
        size_t i;
        json_t *o;
        json_t *raised = json_array();
        json_array_foreach (outputs, i, o) {
                const char *type = json_string_value(json_object_get(o, "type"));
                const json_t *data = json_object_get(o, "data");
                const char *id = json_string_value(json_object_get(data, "alert_id"));
                if (streq_ptr(type, "risk.alert.raised") || streq_ptr(type, "risk.alert.changed")) {
                        /* The rules new to this alert. */
                        bool same = streq_ptr(id, b->alert);
                        size_t k;
                        json_t *r;
                        json_array_foreach (json_object_get(data, "reasons"), k, r) {
                                const char *rule = json_string_value(json_object_get(r, "rule"));
                                const char *sev = json_string_value(json_object_get(r, "severity"));
                                if (!rule || streq_ptr(sev, "monitor") ||
                                    (same && has(b->rules, rule)) || has(raised, rule))
                                        continue;
                                json_array_append_new(raised, json_string(rule));
                                note(out, rule, OUTCOME_RAISED, -1);
                        }
                } else if (streq_ptr(type, "risk.eliminated")) {
                        const json_t *a = alert_named(doc, id);
                        bool helped = json_array_size(json_object_get(data, "measures")) > 0;
                        note_all(out, json_object_get(a, "rules"),
                                 helped ? OUTCOME_ELIMINATED_WITH_HELP : OUTCOME_CLEARED_BY_DATA,
                                 json_integer_value(json_object_get(data, "open_for")));
                }
        }
        json_decref(raised);
        if (flags & LIFECYCLE_ALERT_CLOSED)
                note_all(out, json_object_get(alert_named(doc, b->alert), "rules"), OUTCOME_REMOVED,
                         -1);
        if (flags & LIFECYCLE_RESOLUTION_REFUSED)
                note_all(out, b->rules, OUTCOME_RESOLUTION_REFUSED, -1);
        if (!ev)
                return;
        const char *id = event_str(ev, "alert_id");
        if (ev->type == EV_SATISFACTION_RATED && event_int(ev, "score") <= 2) {
                const json_t *a = json_object_get(doc, "alert");
                if (json_object_get(a, "reopen") &&
                    streq_ptr(json_string_value(json_object_get(a, "id")), id))
                        note_all(out, json_object_get(a, "rules"), OUTCOME_REOPENED, -1);
        }
        const char *reported = ev->type == EV_ALERT_RESOLVED ? event_str(ev, "outcome") : NULL;
        if (reported) {
                Outcome k = streq(reported, "false_alarm") ? OUTCOME_FALSE_ALARM
                            : streq(reported, "helped")    ? OUTCOME_REPORTED_HELPED
                                                           : OUTCOME_REPORTED_OTHER;
                note_all(out, json_object_get(alert_named(doc, id), "rules"), k, -1);
        }
}

size_t outcome_fields(const OutcomeNote *n, char (*fields)[OUTCOME_FIELD], int64_t *by, size_t max)
{
        size_t k = 0;
        if (k < max) {
                snprintf(fields[k], OUTCOME_FIELD, "%s|%s", n->rule, outcome_name(n->outcome));
                by[k++] = 1;
        }
        bool elim =
            n->outcome == OUTCOME_ELIMINATED_WITH_HELP || n->outcome == OUTCOME_CLEARED_BY_DATA;
        if (!elim || n->seconds < 0 || k + 3 > max)
                return k;
        snprintf(fields[k], OUTCOME_FIELD, "%s|elim_n", n->rule);
        by[k++] = 1;
        snprintf(fields[k], OUTCOME_FIELD, "%s|elim_seconds", n->rule);
        by[k++] = n->seconds;
        size_t b = 0;
        while (b < ELEMENTSOF(bounds) && n->seconds > bounds[b])
                b++;
        if (b < ELEMENTSOF(bounds))
                snprintf(fields[k], OUTCOME_FIELD, "%s|elim_le_%" PRId64, n->rule, bounds[b]);
        else
                snprintf(fields[k], OUTCOME_FIELD, "%s|elim_le_inf", n->rule);
        by[k++] = 1;
        return k;
}

/* The median of a rule's histogram, interpolated within its bucket;
 * -1 beyond the last bound, -2 with no eliminations. */
static double median(const json_t *hash, const char *rule)
{
        char f[OUTCOME_FIELD];
        int64_t counts[ELEMENTSOF(bounds) + 1], total = 0;
        for (size_t b = 0; b <= ELEMENTSOF(bounds); b++) {
                if (b < ELEMENTSOF(bounds))
                        snprintf(f, sizeof(f), "%s|elim_le_%" PRId64, rule, bounds[b]);
                else
                        snprintf(f, sizeof(f), "%s|elim_le_inf", rule);
                counts[b] = json_integer_value(json_object_get(hash, f));
                total += counts[b];
        }
        if (total == 0)
                return -2;
        double half = (double)total / 2, cum = 0;
        for (size_t b = 0; b < ELEMENTSOF(bounds); b++) {
                if (counts[b] && cum + (double)counts[b] >= half) {
                        double lo = b ? (double)bounds[b - 1] : 0, hi = (double)bounds[b];
                        return lo + (hi - lo) * (half - cum) / (double)counts[b];
                }
                cum += (double)counts[b];
        }
        return -1;
}

static json_t *row(const json_t *hash, const char *rule)
{
        char f[OUTCOME_FIELD];
        json_t *r = json_pack("{s:s}", "rule", rule);
        for (int o = 0; r && o < N_OUTCOMES; o++) {
                snprintf(f, sizeof(f), "%s|%s", rule, names[o]);
                json_object_set_new(r, names[o],
                                    json_integer(json_integer_value(json_object_get(hash, f))));
        }
        snprintf(f, sizeof(f), "%s|elim_n", rule);
        json_int_t n = json_integer_value(json_object_get(hash, f));
        snprintf(f, sizeof(f), "%s|elim_seconds", rule);
        json_int_t sum = json_integer_value(json_object_get(hash, f));
        double m = median(hash, rule);
        json_object_set_new(r, "eliminated", json_integer(n));
        json_object_set_new(r, "mean_seconds", n ? json_integer(sum / n) : json_null());
        json_object_set_new(r, "median_seconds",
                            m == -2 ? json_null() : json_integer((json_int_t)(m < 0 ? -1 : m)));
        return r;
}

json_t *outcome_report(const json_t *hash, const char *const *rules, size_t n)
{
        json_t *out = json_array(), *named = json_object();
        if (!out || !named) {
                json_decref(out);
                json_decref(named);
                return NULL;
        }
        for (size_t i = 0; i < n; i++) {
                json_array_append_new(out, row(hash, rules[i]));
                json_object_set_new(named, rules[i], json_true());
        }
        /* Rules no longer in the rule set that still have counts. */
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)hash, k, v) {
                const char *bar = strchr(k, '|');
                char rule[RULES_MAX_ID + 1];
                if (!bar || (size_t)(bar - k) > RULES_MAX_ID)
                        continue;
                snprintf(rule, sizeof(rule), "%.*s", (int)(bar - k), k);
                if (json_object_get(named, rule))
                        continue;
                json_object_set_new(named, rule, json_true());
                json_array_append_new(out, row(hash, rule));
        }
        json_decref(named);
        return out;
}

/* "40s", "12m", "5.0h", "2.3d", ">365d", "-". */
static void duration(const json_t *v, char *buf, size_t len)
{
        if (!json_is_integer(v)) {
                snprintf(buf, len, "-");
                return;
        }
        json_int_t s = json_integer_value(v);
        if (s < 0)
                snprintf(buf, len, ">%" PRId64 "d", bounds[ELEMENTSOF(bounds) - 1] / 86400);
        else if (s < 60)
                snprintf(buf, len, "%" JSON_INTEGER_FORMAT "s", s);
        else if (s < 3600)
                snprintf(buf, len, "%.0fm", (double)s / 60);
        else if (s < 86400)
                snprintf(buf, len, "%.1fh", (double)s / 3600);
        else
                snprintf(buf, len, "%.1fd", (double)s / 86400);
}

void outcome_write_text(const json_t *report, FILE *f)
{
        static const char *const cols[] = {
            "raised",   "eliminated_with_help", "cleared_by_data", "resolution_refused",
            "reopened", "false_alarm",          "reported_helped", "reported_other",
            "removed"};
        static const char *const heads[] = {"raised",   "helped",    "by data",
                                            "refused",  "reopened",  "false",
                                            "rep.help", "rep.other", "removed"};
        fprintf(f, "%-30s", "rule");
        for (size_t c = 0; c < ELEMENTSOF(heads); c++)
                fprintf(f, " %9s", heads[c]);
        fprintf(f, " %12s\n", "median elim.");
        size_t i;
        json_t *r;
        json_array_foreach (report, i, r) {
                char med[32];
                fprintf(f, "%-30s", json_string_value(json_object_get(r, "rule")));
                for (size_t c = 0; c < ELEMENTSOF(cols); c++)
                        fprintf(f, " %9" JSON_INTEGER_FORMAT,
                                json_integer_value(json_object_get(r, cols[c])));
                duration(json_object_get(r, "median_seconds"), med, sizeof(med));
                fprintf(f, " %12s\n", med);
        }
        fprintf(f, "helped, by data: risk.eliminated with / without help recorded; refused: "
                   "alert.resolved without help; false, rep.help, rep.other: alert.resolved "
                   "outcome; median elim.: raised to risk.eliminated (from a histogram)\n");
}
