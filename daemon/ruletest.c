/* The rule tests (hearthctl test-rules): each case's events run through the
 * daemon's steps and rules, its expectations checked; TAP lines and rule
 * coverage. */
#include "ruletest.h"
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include "evaluate.h"
#include "event.h"
#include "household.h"
#include "lifecycle.h"
#include "step.h"
#include "rules.h"
#include "schema.h"
#include "ruletest_impl.h"
#include "ytree.h"

#define RULETEST_MAX_FILES 200
#define RULETEST_SUBJECT "HTEST0001"
#define RULETEST_DEFAULT_DATE "2026-01-01"
#define RULETEST_MAX_EVENT_BYTES (1 << 20)

typedef struct {
        FILE *out;
        const Config *base;
        const char *rules_dir;
        const EventDecoder *dec;
        const RuleSet *rs; /* rules under the base config */
        bool *expected;    /* per rule of rs: some step expects it to fire */
        bool *silent;     /* per rule: a case that names it, or where it fires, expects it silent */
        bool *case_fired; /* per rule, during one case: some step expects it to fire */
        bool *case_silent; /* per rule, during one case: some step expects it silent */
        unsigned n;        /* TAP lines so far */
        unsigned failed;
} Runner;

/* --- YAML to JSON ---------------------------------------------------------- */

/* A plain scalar that is a JSON number: -?digits[.digits][e[+-]digits]. */
static bool json_number_text(const char *s, bool *integer)
{
        const char *p = s;
        *integer = true;
        if (*p == '-')
                p++;
        if (*p < '0' || *p > '9')
                return false;
        while (*p >= '0' && *p <= '9')
                p++;
        if (*p == '.') {
                *integer = false;
                p++;
                if (*p < '0' || *p > '9')
                        return false;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        if (*p == 'e' || *p == 'E') {
                *integer = false;
                p++;
                if (*p == '+' || *p == '-')
                        p++;
                if (*p < '0' || *p > '9')
                        return false;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        return *p == '\0';
}

/* The JSON value of a YAML node: plain scalars null, true, false and
 * numbers are typed, everything else is a string. New reference, NULL on
 * memory failure. */
static json_t *yaml_to_json(const YNode *n)
{
        bool integer;

        switch (n->type) {
        case YNODE_SCALAR:
                if (!n->plain)
                        return json_stringn(n->scalar, n->len);
                if (ynode_is_null(n))
                        return json_null();
                if (streq(n->scalar, "true") || streq(n->scalar, "false"))
                        return json_boolean(streq(n->scalar, "true"));
                if (json_number_text(n->scalar, &integer)) {
                        errno = 0;
                        if (integer) {
                                long long v = strtoll(n->scalar, NULL, 10);
                                if (errno == 0)
                                        return json_integer(v);
                        }
                        return json_real(strtod(n->scalar, NULL));
                }
                return json_stringn(n->scalar, n->len);
        case YNODE_SEQ: {
                json_t *a = json_array();
                for (size_t i = 0; a && i < n->n; i++)
                        if (json_array_append_new(a, yaml_to_json(n->items[i])) < 0) {
                                json_decref(a);
                                return NULL;
                        }
                return a;
        }
        case YNODE_MAP: {
                json_t *o = json_object();
                for (size_t i = 0; o && i < n->n; i++) {
                        const YNode *k = ynode_key(n, i);
                        if (k->type != YNODE_SCALAR ||
                            json_object_set_new(o, k->scalar, yaml_to_json(ynode_value(n, i))) <
                                0) {
                                json_decref(o);
                                return NULL;
                        }
                }
                return o;
        }
        }
        return NULL;
}

/* --- running -------------------------------------------------------------- */

/* The config of a case: base with the overrides of the file and the case.
 * Arrays are owned by the CaseConfig; strings are borrowed from base and the
 * YAML trees. */
typedef struct {
        Config c;
        ConfigFloorLine *lines;
        ConfigPair *pairs;
        bool changed; /* rules must be loaded for this config */
} CaseConfig;

static void case_config_done(CaseConfig *cc)
{
        free(cc->lines);
        free(cc->pairs);
}

static int cmp_line(const void *a, const void *b)
{
        const ConfigFloorLine *x = a, *y = b;
        return (x->year > y->year) - (x->year < y->year);
}

static int config_apply(CaseConfig *cc, const YNode *o)
{
        if (!o)
                return 0;
        const YNode *fl = ynode_get(o, "floor_lines");
        if (fl) {
                ConfigFloorLine *lines = calloc(fl->n + 1, sizeof(ConfigFloorLine));
                if (!lines)
                        return -ENOMEM;
                for (size_t i = 0; i < fl->n; i++) {
                        lines[i].year = (int)strtol(ynode_key(fl, i)->scalar, NULL, 10);
                        config_parse_fixed2(ynode_value(fl, i)->scalar, &lines[i].fen);
                }
                qsort(lines, fl->n, sizeof(ConfigFloorLine), cmp_line);
                free(cc->lines);
                cc->lines = lines;
                cc->c.floor_lines = lines;
                cc->c.n_floor_lines = fl->n;
        }
        const YNode *mf = ynode_get(o, "monitor_factor");
        if (mf) {
                config_parse_fixed2(mf->scalar, &cc->c.monitor_factor);
                cc->changed = true;
        }
        const YNode *lang = ynode_get(o, "language");
        if (lang) {
                cc->c.language = lang->scalar;
                cc->changed = true;
        }
        const YNode *th = ynode_get(o, "thresholds");
        if (th && th->n > 0) {
                size_t n = cc->c.n_thresholds;
                ConfigPair *p = calloc(n + th->n, sizeof(ConfigPair));
                if (!p)
                        return -ENOMEM;
                if (n > 0)
                        memcpy(p, cc->c.thresholds, n * sizeof(ConfigPair));
                for (size_t i = 0; i < th->n; i++) {
                        ConfigPair np = {ynode_key(th, i)->scalar, ynode_value(th, i)->scalar};
                        size_t k = 0;
                        while (k < n && !streq(p[k].key, np.key))
                                k++;
                        p[k] = np;
                        if (k == n)
                                n++;
                }
                free(cc->pairs);
                cc->pairs = p;
                cc->c.thresholds = p;
                cc->c.n_thresholds = n;
                cc->changed = true;
        }
        return 0;
}

/* A CloudEvent around data for the runner: the given envelope fields or
 * generated ones. New reference. */
static json_t *envelope(const YNode *ev, json_t *data, const char *type, const char *id,
                        int32_t now)
{
        char time[40], date[16];
        const YNode *t = ev ? ynode_get(ev, "time") : NULL;
        const YNode *i = ev ? ynode_get(ev, "id") : NULL;
        const YNode *s = ev ? ynode_get(ev, "source") : NULL;

        date_format(now, date, sizeof(date));
        snprintf(time, sizeof(time), "%sT09:00:00+08:00", date);
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "specversion", "1.0", "id",
                         is_scalar(i) ? i->scalar : id, "source", is_scalar(s) ? s->scalar : "test",
                         "type", type, "subject", RULETEST_SUBJECT, "time",
                         is_scalar(t) ? t->scalar : time, "datacontenttype", "application/json",
                         "data", data);
}

/* The wall clock of a step on day d: 09:00 China Standard Time. */
static int64_t day_clock(int32_t d)
{
        return (int64_t)d * 86400000LL + 3600000LL;
}

/* Decodes and applies one event through the household step (step.c),
 * appending its outputs; on failure writes why into why. */
static int apply_event(Runner *R, const StepContext *sc, json_t *doc, json_t *root, int32_t now,
                       json_t *outputs, int *flags, int32_t *date, char *why, size_t len)
{
        Event ev;
        char err[512];
        if (!root) {
                snprintf(why, len, "out of memory");
                return -ENOMEM;
        }
        /* alert_id: $alert names the household's open (else latest closed)
         * alert, whose id a test cannot know in advance. */
        json_t *data = json_object_get(root, "data");
        if (streq_ptr(json_string_value(json_object_get(data, "alert_id")), "$alert")) {
                const json_t *a = json_object_get(doc, "alert");
                if (!a)
                        a = json_array_get(json_object_get(doc, "closed"),
                                           json_array_size(json_object_get(doc, "closed")) - 1);
                const char *aid = json_string_value(json_object_get(a, "id"));
                json_object_set_new(data, "alert_id", json_string(aid ? aid : "a-none"));
        }
        if (event_from_json(R->dec, root, &ev, err, sizeof(err)) < 0) {
                event_done(&ev);
                snprintf(why, len, "event does not decode: %s", err);
                return -EINVAL;
        }
        StepNotes notes;
        int32_t at = ev.date > now ? ev.date : now;
        /* Timers due by then fire first, as in the daemon. */
        if (outputs)
                lifecycle_timers(doc, RULETEST_SUBJECT, day_clock(at), sc->policy, outputs);
        int r = step_event(sc, doc, RULETEST_SUBJECT, &ev, day_clock(at), NULL, outputs, &notes);
        if (r < 0)
                snprintf(why, len, "household_apply: %s", strerror(-r));
        *flags = notes.lifecycle;
        *date = ev.date;
        event_done(&ev);
        return r;
}

/* "[a, b]" into buf. */
static void list_ids(const char *const *ids, size_t n, char *buf, size_t len)
{
        size_t k = (size_t)snprintf(buf, len, "[");
        for (size_t i = 0; i < n && k < len; i++)
                k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "", ids[i]);
        if (k < len)
                snprintf(buf + k, len - k, "]");
}

static bool in_list(const char *const *ids, size_t n, const char *id)
{
        for (size_t i = 0; i < n; i++)
                if (streq(ids[i], id))
                        return true;
        return false;
}

static void mark_expected(Runner *R, const char *id)
{
        for (size_t i = 0; i < rules_count(R->rs); i++)
                if (streq(rules_id(R->rs, i), id))
                        R->expected[i] = R->case_fired[i] = true;
}

/* A step that lists every firing rule expects the others silent. */
static void mark_silent(Runner *R, const YNode *reasons)
{
        for (size_t i = 0; i < rules_count(R->rs); i++) {
                bool listed = false;
                for (size_t k = 0; k < reasons->n; k++)
                        listed = listed || streq(reasons->items[k]->scalar, rules_id(R->rs, i));
                if (!listed)
                        R->case_silent[i] = true;
        }
}

/* After a case: a rule it expects silent counts as covered when the case
 * also expects it to fire (it starts or stops) or names it (a threshold just
 * missed), not merely because some unrelated case leaves it out. */
static void case_coverage(Runner *R, const char *name)
{
        for (size_t i = 0; i < rules_count(R->rs); i++) {
                if (R->case_silent[i] && (R->case_fired[i] || strstr(name, rules_id(R->rs, i))))
                        R->silent[i] = true;
                R->case_fired[i] = R->case_silent[i] = false;
        }
}

/* Compares the outputs of a step (their types) and the alert with expect. */
static bool expect_lifecycle(const YNode *e, const json_t *doc, const json_t *outputs, int flags,
                             char *why, size_t len)
{
        const YNode *outs = ynode_get(e, "outputs");
        if (outs) {
                bool ok = json_array_size(outputs) == outs->n;
                for (size_t i = 0; ok && i < outs->n; i++)
                        ok = streq_ptr(
                            json_string_value(json_object_get(json_array_get(outputs, i), "type")),
                            outs->items[i]->scalar);
                if (!ok) {
                        size_t k = (size_t)snprintf(why, len, "expected outputs [");
                        for (size_t i = 0; i < outs->n && k < len; i++)
                                k += (size_t)snprintf(why + k, len - k, "%s%s", i ? ", " : "",
                                                      outs->items[i]->scalar);
                        if (k < len)
                                k += (size_t)snprintf(why + k, len - k, "], got [");
                        size_t i;
                        json_t *o;
                        json_array_foreach (outputs, i, o)
                                if (k < len)
                                        k += (size_t)snprintf(
                                            why + k, len - k, "%s%s", i ? ", " : "",
                                            json_string_value(json_object_get(o, "type")));
                        if (k < len)
                                snprintf(why + k, len - k, "]");
                        return false;
                }
        }
        const YNode *alert = ynode_get(e, "alert");
        if (alert && streq(alert->scalar, "open") != (json_object_get(doc, "alert") != NULL)) {
                snprintf(why, len, "expected alert %s, but it is %s", alert->scalar,
                         json_object_get(doc, "alert") ? "open" : "not open");
                return false;
        }
        const YNode *ref = ynode_get(e, "refused");
        if (ref && streq(ref->scalar, "true") != !!(flags & LIFECYCLE_RESOLUTION_REFUSED)) {
                snprintf(why, len, "expected the resolution %s",
                         streq(ref->scalar, "true") ? "refused" : "not refused");
                return false;
        }
        return true;
}

/* Compares a result with a step's expect; on a mismatch writes it into why
 * and returns false. */
static bool expect_ok(Runner *R, const YNode *e, const RulesResult *res, char *why, size_t len)
{
        const char *got[RULES_MAX], *want[RULES_MAX];
        size_t n_got = 0, n_want = 0;
        bool ok = true;

        for (size_t i = 0; i < res->n_reasons; i++)
                got[n_got++] = res->reasons[i].rule;
        const YNode *code = ynode_get(e, "code");
        const YNode *reasons = ynode_get(e, "reasons");
        const YNode *mon = ynode_get(e, "monitored");
        if (code && rules_code_from_string(code->scalar) != (int)res->code)
                ok = false;
        if (mon && streq(mon->scalar, "true") != res->monitored)
                ok = false;
        for (size_t i = 0; reasons && i < reasons->n && n_want < RULES_MAX; i++) {
                want[n_want++] = reasons->items[i]->scalar;
                mark_expected(R, reasons->items[i]->scalar);
                if (!in_list(got, n_got, reasons->items[i]->scalar))
                        ok = false;
        }
        for (size_t i = 0; reasons && i < n_got; i++)
                if (!in_list(want, n_want, got[i]))
                        ok = false;
        if (reasons)
                mark_silent(R, reasons);
        if (!ok) {
                char w[2048], g[2048];
                list_ids(want, n_want, w, sizeof(w));
                list_ids(got, n_got, g, sizeof(g));
                snprintf(why, len, "expected %s %s%s, got %s %s%s",
                         code ? code->scalar : "any code", reasons ? w : "[any reasons]",
                         !mon                         ? ""
                         : streq(mon->scalar, "true") ? " monitored"
                                                      : " not monitored",
                         rules_code_to_string(res->code), g,
                         res->monitored ? " monitored" : " not monitored");
                return false;
        }

        const YNode *msgs = ynode_get(e, "messages");
        for (size_t i = 0; msgs && i < msgs->n; i++) {
                const char *id = ynode_key(msgs, i)->scalar;
                const YNode *v = ynode_value(msgs, i);
                const RulesReason *x = NULL;
                for (size_t k = 0; k < res->n_reasons; k++)
                        if (streq(res->reasons[k].rule, id))
                                x = &res->reasons[k];
                if (!x) {
                        snprintf(why, len, "messages.%s: the rule did not fire", id);
                        return false;
                }
                size_t n = v->type == YNODE_SEQ ? v->n : 1;
                for (size_t k = 0; k < n; k++) {
                        const char *needle = v->type == YNODE_SEQ ? v->items[k]->scalar : v->scalar;
                        if (!strstr(x->message, needle)) {
                                snprintf(why, len, "message of %s lacks \"%s\": %s", id, needle,
                                         x->message);
                                return false;
                        }
                }
        }

        const YNode *errs = ynode_get(e, "errors");
        for (size_t i = 0; i < res->n_errors; i++) {
                bool allowed = false;
                for (size_t k = 0; errs && k < errs->n; k++)
                        allowed = allowed || streq(errs->items[k]->scalar, res->errors[i].rule);
                if (!allowed) {
                        snprintf(why, len, "rule %s: %s: %s", res->errors[i].rule,
                                 res->errors[i].what, expr_strerror(res->errors[i].error));
                        return false;
                }
        }
        for (size_t k = 0; errs && k < errs->n; k++) {
                bool seen = false;
                for (size_t i = 0; i < res->n_errors; i++)
                        seen = seen || streq(errs->items[k]->scalar, res->errors[i].rule);
                if (!seen) {
                        snprintf(why, len, "expected a runtime error in rule %s",
                                 errs->items[k]->scalar);
                        return false;
                }
        }
        return true;
}

/* One case being run: what its registration and steps need. */
typedef struct {
        Runner *R;
        const StepContext *sc;
        const LifecyclePolicy *pol;
        const RuleSet *rs;
        const ExprFloorLine *lines;
        size_t n_lines;
        json_t *doc;
        unsigned case_no;
        int32_t now; /* the case's date: the latest step date so far */
} CaseRun;

/* Registers the case's household: the file's household keys with the
 * case's over them; none when the case says registered: false. Returns
 * false after writing why. */
static bool register_household(CaseRun *k, const YNode *root, const YNode *c, char *why, size_t len)
{
        char id[64];
        int32_t d;
        int flags = 0;

        json_t *data = json_object();
        const YNode *fh = ynode_get(root, "household"), *ch = ynode_get(c, "household");
        json_t *a = fh ? yaml_to_json(fh) : json_object(),
               *b = ch ? yaml_to_json(ch) : json_object();
        if (!data || !a || !b || json_object_update(data, a) < 0 ||
            json_object_update(data, b) < 0) {
                json_decref(a);
                json_decref(b);
                json_decref(data);
                snprintf(why, len, "out of memory");
                return false;
        }
        json_decref(a);
        json_decref(b);
        snprintf(id, sizeof(id), "test-%u-0", k->case_no);
        const YNode *reg = ynode_get(c, "registered");
        if (reg && streq(reg->scalar, "false"))
                json_decref(data);
        else if (apply_event(k->R, k->sc, k->doc,
                             envelope(NULL, data, "household.registered", id, k->now), k->now, NULL,
                             &flags, &d, why, len) < 0) {
                size_t n = strlen(why);
                snprintf(why + n, len - n, " (the household)");
                return false;
        }
        return true;
}

/* Runs step i (s) of the case: its event, or the timers due by its date;
 * then checks its expect. Returns false after writing why. */
static bool run_step(CaseRun *k, const YNode *s, size_t i, char *why, size_t len)
{
        const YNode *ev = ynode_get(s, "event");
        int32_t at = k->now;
        char step_why[1024], id[64];
        int flags = 0, r;
        _cleanup_(json_decrefp) json_t *outputs = json_array();

        if (ev) {
                const YNode *dn = ynode_get(ev, "data");
                json_t *ed = dn ? yaml_to_json(dn) : json_object();
                snprintf(id, sizeof(id), "test-%u-%zu", k->case_no, i + 1);
                r = apply_event(k->R, k->sc, k->doc,
                                ed ? envelope(ev, ed, ynode_get(ev, "type")->scalar, id, k->now)
                                   : NULL,
                                k->now, outputs, &flags, &at, step_why, sizeof(step_why));
                if (r < 0) {
                        snprintf(why, len, "step %zu: %s", i + 1, step_why);
                        return false;
                }
                if (at == 0)
                        at = k->now;
        } else if (ynode_get(s, "date")) {
                date_parse(ynode_get(s, "date")->scalar, &at);
                lifecycle_timers(k->doc, RULETEST_SUBJECT, day_clock(at), k->pol, outputs);
        }
        if (at > k->now)
                k->now = at;

        const YNode *e = ynode_get(s, "expect");
        if (!e)
                return true;
        RulesResult res;
        /* The daemon's evaluation date: never before the household's
         * latest event (household_eval_date). */
        if (household_latest(k->doc) > at)
                at = household_latest(k->doc);
        r = rules_eval(k->rs, k->doc, at, k->lines, k->n_lines, &res);
        if (r < 0) {
                rules_result_done(&res);
                snprintf(why, len, "step %zu: rules_eval: %s", i + 1, strerror(-r));
                return false;
        }
        bool good = expect_ok(k->R, e, &res, step_why, sizeof(step_why)) &&
                    expect_lifecycle(e, k->doc, outputs, flags, step_why, sizeof(step_why));
        rules_result_done(&res);
        if (!good) {
                snprintf(why, len, "step %zu: %s", i + 1, step_why);
                return false;
        }
        return true;
}

/* Runs one case; returns true when it passes, else writes why. */
static bool run_case(Runner *R, const TestFile *f, const YNode *c, unsigned case_no, char *why,
                     size_t len)
{
        const YNode *root = f->root;
        CaseConfig cc = {.c = *R->base};
        _cleanup_(rules_freep) RuleSet *own = NULL;
        const RuleSet *rs = R->rs;
        json_t *doc = NULL;
        ExprFloorLine *lines = NULL;
        bool ok = false;

        if (config_apply(&cc, ynode_get(root, "config")) < 0 ||
            config_apply(&cc, ynode_get(c, "config")) < 0) {
                snprintf(why, len, "out of memory");
                goto out;
        }
        if (cc.changed) {
                _cleanup_(diag_freep) Diag *d = diag_new();
                if (rules_load_dir(R->rules_dir, &cc.c, &own, d) < 0) {
                        snprintf(why, len, "rules do not load with this config: %s",
                                 diag_count(d) ? diag_get(d, 0) : "out of memory");
                        goto out;
                }
                rs = own;
        }
        if (!(lines = calloc(cc.c.n_floor_lines + 1, sizeof(ExprFloorLine)))) {
                snprintf(why, len, "out of memory");
                goto out;
        }
        rules_floor_lines(&cc.c, lines, cc.c.n_floor_lines);

        int32_t now;
        const YNode *date = ynode_get(c, "date");
        date_parse(date ? date->scalar : RULETEST_DEFAULT_DATE, &now);

        doc = household_new();
        if (!doc) {
                snprintf(why, len, "out of memory");
                goto out;
        }
        LifecyclePolicy pol = lifecycle_policy(&cc.c);
        pol.candidate_grace_ms = 0; /* events in order: no registration in flight */
        EvaluateRules ce = {rs, lines, cc.c.n_floor_lines};
        StepContext sc = {evaluate_with, &ce, R->dec, &pol, false, NULL};
        CaseRun k = {.R = R,
                     .sc = &sc,
                     .pol = &pol,
                     .rs = rs,
                     .lines = lines,
                     .n_lines = cc.c.n_floor_lines,
                     .doc = doc,
                     .case_no = case_no,
                     .now = now};
        /* Registration: the file's household with the case's keys over it. */
        if (!register_household(&k, root, c, why, len))
                goto out;
        const YNode *steps = ynode_get(c, "steps");
        for (size_t i = 0; i < steps->n; i++)
                if (!run_step(&k, steps->items[i], i, why, len))
                        goto out;
        ok = true;
out:
        free(lines);
        json_decref(doc);
        case_config_done(&cc);
        return ok;
}

static void run_file(Runner *R, const TestFile *f, unsigned *case_no)
{
        const YNode *cases = ynode_get(f->root, "cases");
        char why[2048];

        for (size_t i = 0; i < cases->n; i++) {
                const YNode *c = cases->items[i];
                const char *name = ynode_get(c, "name")->scalar;
                why[0] = '\0';
                bool ok = run_case(R, f, c, ++*case_no, why, sizeof(why));
                case_coverage(R, name);
                R->n++;
                if (ok)
                        fprintf(R->out, "ok %u - %s: %s\n", R->n, f->name, name);
                else {
                        R->failed++;
                        fprintf(R->out, "not ok %u - %s: %s: %s\n", R->n, f->name, name, why);
                }
        }
}

/* One coverage TAP line: ok when covered[i] holds for every rule, else the
 * rules that lack it. */
static void coverage_line(Runner *R, const bool *covered, const char *ok, const char *missing_what)
{
        char missing[2048];
        size_t k = 0, n = 0;

        missing[0] = '\0';
        for (size_t i = 0; i < rules_count(R->rs); i++) {
                if (covered[i])
                        continue;
                if (k < sizeof(missing))
                        k += (size_t)snprintf(missing + k, sizeof(missing) - k, "%s%s",
                                              n ? ", " : "", rules_id(R->rs, i));
                n++;
        }
        R->n++;
        if (n == 0) {
                fprintf(R->out, "ok %u - coverage: %s\n", R->n, ok);
        } else {
                R->failed++;
                fprintf(R->out, "not ok %u - coverage: %s: %s\n", R->n, missing_what, missing);
        }
}

static void coverage(Runner *R)
{
        coverage_line(R, R->silent,
                      "every rule is expected silent by a case that names it or where it fires",
                      "no case that names them or where they fire expects these rules silent");
        coverage_line(R, R->expected, "every rule is expected to fire by some case",
                      "no case expects these rules to fire");
}

/* Lists tests_dir/<*.yaml> in name order into files. */
static int list_files(const char *dir, TestFile *files, size_t *n, FILE *out)
{
        char **names = NULL;
        size_t k = 0;
        int r = fsutil_list(dir, ".yaml", RULETEST_MAX_FILES, &names, &k);
        if (r == -E2BIG)
                fprintf(out, "# %s: more than %d test files\n", dir, RULETEST_MAX_FILES);
        else if (r < 0 && r != -ENOMEM)
                fprintf(out, "# %s: cannot open: %s\n", dir, strerror(-r));
        for (size_t i = 0; i < k; i++) {
                if (r == 0 && asprintf(&files[i].path, "%s/%s", dir, names[i]) < 0) {
                        files[i].path = NULL;
                        r = -ENOMEM;
                }
                if (files[i].path)
                        files[i].name = strrchr(files[i].path, '/') + 1;
        }
        fsutil_names_free(names, k);
        *n = k;
        return r;
}

int ruletest_run_dir(const char *tests_dir, const char *rules_dir, const char *schemas_dir,
                     const Config *base, FILE *out)
{
        TestFile files[RULETEST_MAX_FILES] = {0};
        size_t n_files = 0;
        _cleanup_(diag_freep) Diag *d = diag_new();
        _cleanup_(config_freep) Config *defaults = NULL;
        _cleanup_(rules_freep) RuleSet *rs = NULL;
        SchemaSet *schemas = NULL;
        EventDecoder *dec = NULL;
        Runner R = {.out = out, .rules_dir = rules_dir};
        char err[512];
        int r;

        if (!d)
                return -ENOMEM;
        if (!base) {
                if ((r = config_load_buffer("", 0, "ruletest", NULL, 0, &defaults, d)) < 0)
                        goto diag_out;
                base = defaults;
        }
        R.base = base;
        if ((r = rules_load_dir(rules_dir, base, &rs, d)) < 0)
                goto diag_out;
        R.rs = rs;
        if ((r = schema_set_load_dir(schemas_dir, &schemas, err, sizeof(err))) < 0) {
                fprintf(out, "# %s\n", err);
                goto out;
        }
        if (!(dec = event_decoder_new(schemas, RULETEST_MAX_EVENT_BYTES))) {
                fprintf(out, "# %s: not every input event type has a schema\n", schemas_dir);
                r = -EINVAL;
                goto out;
        }
        R.dec = dec;
        if ((r = list_files(tests_dir, files, &n_files, out)) < 0)
                goto out;
        for (size_t i = 0; i < n_files; i++) {
                if (ytree_parse_file(files[i].path, &files[i].root, d) < 0)
                        continue;
                ruletest_check_file(&files[i], d);
        }
        if (diag_count(d) > 0) {
                r = -EINVAL;
                goto diag_out;
        }
        if (!(R.expected = calloc(rules_count(rs) + 1, sizeof(bool))) ||
            !(R.silent = calloc(rules_count(rs) + 1, sizeof(bool))) ||
            !(R.case_fired = calloc(rules_count(rs) + 1, sizeof(bool))) ||
            !(R.case_silent = calloc(rules_count(rs) + 1, sizeof(bool)))) {
                r = -ENOMEM;
                goto out;
        }
        unsigned case_no = 0;
        for (size_t i = 0; i < n_files; i++)
                run_file(&R, &files[i], &case_no);
        coverage(&R);
        fprintf(out, "1..%u\n", R.n);
        fprintf(out, "# %u rule tests in %zu files: %u passed, %u failed\n", R.n, n_files,
                R.n - R.failed, R.failed);
        r = (int)R.failed;
        goto out;
diag_out:
        diag_print(d, out, "# ");
        fprintf(out, "# %u error%s\n", diag_count(d), diag_count(d) == 1 ? "" : "s");
out:
        free(R.expected);
        free(R.silent);
        free(R.case_fired);
        free(R.case_silent);
        for (size_t i = 0; i < n_files; i++) {
                free(files[i].path);
                ytree_free(files[i].root);
        }
        event_decoder_free(dec);
        schema_set_free(schemas);
        return r;
}
