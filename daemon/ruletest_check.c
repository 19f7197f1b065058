/* Checking the structure of a rule test file before it runs: every mistake
 * reported at file:line:col. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "event.h"
#include "macro.h"
#include "rules.h"
#include "ruletest_impl.h"

/* --- checking the structure of a test file --------------------------- */

static bool keys_ok(const YNode *map, const char *const *keys, size_t n, const char *what,
                    const char *file, Diag *d)
{
        bool ok = true;
        for (size_t i = 0; i < map->n; i++) {
                const YNode *k = ynode_key(map, i);
                bool known = false;
                for (size_t j = 0; k->type == YNODE_SCALAR && j < n; j++)
                        known = known || streq(k->scalar, keys[j]);
                if (!known) {
                        diag_add(d, file, k->line, k->col, "%s: unknown key '%s'", what,
                                 k->type == YNODE_SCALAR ? k->scalar : "?");
                        ok = false;
                }
        }
        return ok;
}

static void check_date(const YNode *n, const char *what, const char *file, Diag *d)
{
        int32_t days;
        if (!is_scalar(n) || date_parse(n->scalar, &days) < 0)
                diag_add(d, file, n->line, n->col, "%s: expected a date YYYY-MM-DD", what);
}

static void check_config(const YNode *c, const char *file, Diag *d)
{
        static const char *const keys[] = {"floor_lines", "monitor_factor", "thresholds",
                                           "language"};
        int64_t x;

        if (c->type != YNODE_MAP) {
                diag_add(d, file, c->line, c->col, "config: expected a mapping");
                return;
        }
        keys_ok(c, keys, ELEMENTSOF(keys), "config", file, d);
        const YNode *fl = ynode_get(c, "floor_lines");
        if (fl && fl->type != YNODE_MAP)
                diag_add(d, file, fl->line, fl->col, "config.floor_lines: expected year: yuan");
        for (size_t i = 0; fl && fl->type == YNODE_MAP && i < fl->n; i++) {
                const YNode *k = ynode_key(fl, i), *v = ynode_value(fl, i);
                char *end;
                long y = is_scalar(k) ? strtol(k->scalar, &end, 10) : -1;
                if (!is_scalar(k) || *end || y < 1900 || y > 9999)
                        diag_add(d, file, k->line, k->col, "config.floor_lines: bad year");
                if (!is_scalar(v) || config_parse_fixed2(v->scalar, &x) < 0)
                        diag_add(d, file, v->line, v->col, "config.floor_lines: bad amount");
        }
        const YNode *mf = ynode_get(c, "monitor_factor");
        if (mf && (!is_scalar(mf) || config_parse_fixed2(mf->scalar, &x) < 0))
                diag_add(d, file, mf->line, mf->col, "config.monitor_factor: expected a number");
        const YNode *th = ynode_get(c, "thresholds");
        if (th && th->type != YNODE_MAP)
                diag_add(d, file, th->line, th->col, "config.thresholds: expected name: number");
        for (size_t i = 0; th && th->type == YNODE_MAP && i < th->n; i++)
                if (!is_scalar(ynode_key(th, i)) || !is_scalar(ynode_value(th, i)))
                        diag_add(d, file, ynode_key(th, i)->line, ynode_key(th, i)->col,
                                 "config.thresholds: expected name: number");
        const YNode *lang = ynode_get(c, "language");
        if (lang &&
            (!is_scalar(lang) || (!streq(lang->scalar, "zh") && !streq(lang->scalar, "en"))))
                diag_add(d, file, lang->line, lang->col, "config.language: zh or en");
}

static void check_expect(const YNode *e, const char *file, Diag *d)
{
        static const char *const keys[] = {"code",   "reasons", "monitored", "messages",
                                           "errors", "outputs", "alert",     "refused"};
        if (e->type != YNODE_MAP) {
                diag_add(d, file, e->line, e->col, "expect: expected a mapping");
                return;
        }
        keys_ok(e, keys, ELEMENTSOF(keys), "expect", file, d);
        const YNode *code = ynode_get(e, "code");
        if (code && (!is_scalar(code) || rules_code_from_string(code->scalar) < 0))
                diag_add(d, file, code->line, code->col, "expect.code: green, yellow or red");
        const YNode *mon = ynode_get(e, "monitored");
        if (mon &&
            (!is_scalar(mon) || (!streq(mon->scalar, "true") && !streq(mon->scalar, "false"))))
                diag_add(d, file, mon->line, mon->col, "expect.monitored: true or false");
        const YNode *alert = ynode_get(e, "alert");
        if (alert &&
            (!is_scalar(alert) || (!streq(alert->scalar, "open") && !streq(alert->scalar, "none"))))
                diag_add(d, file, alert->line, alert->col, "expect.alert: open or none");
        const YNode *ref = ynode_get(e, "refused");
        if (ref &&
            (!is_scalar(ref) || (!streq(ref->scalar, "true") && !streq(ref->scalar, "false"))))
                diag_add(d, file, ref->line, ref->col, "expect.refused: true or false");
        static const char *const lists[] = {"reasons", "errors", "outputs"};
        for (size_t l = 0; l < ELEMENTSOF(lists); l++) {
                const YNode *s = ynode_get(e, lists[l]);
                if (!s)
                        continue;
                bool ok = s->type == YNODE_SEQ;
                for (size_t i = 0; ok && i < s->n; i++)
                        ok = is_scalar(s->items[i]);
                if (!ok)
                        diag_add(d, file, s->line, s->col, "expect.%s: expected a list of %s",
                                 lists[l], l == 2 ? "output event types" : "rule ids");
        }
        const YNode *m = ynode_get(e, "messages");
        if (m && m->type != YNODE_MAP)
                diag_add(d, file, m->line, m->col, "expect.messages: expected rule id: [texts]");
        for (size_t i = 0; m && m->type == YNODE_MAP && i < m->n; i++) {
                const YNode *v = ynode_value(m, i);
                bool ok = is_scalar(v) || v->type == YNODE_SEQ;
                for (size_t k = 0; ok && v->type == YNODE_SEQ && k < v->n; k++)
                        ok = is_scalar(v->items[k]);
                if (!ok)
                        diag_add(d, file, v->line, v->col,
                                 "expect.messages: expected a text or a list of texts");
        }
}

static void check_step(const YNode *s, const char *file, Diag *d)
{
        static const char *const keys[] = {"event", "date", "expect"};
        static const char *const ev_keys[] = {"type", "data", "id", "time", "source"};
        if (s->type != YNODE_MAP) {
                diag_add(d, file, s->line, s->col, "steps: expected a mapping");
                return;
        }
        keys_ok(s, keys, ELEMENTSOF(keys), "step", file, d);
        const YNode *ev = ynode_get(s, "event");
        if (ev) {
                if (ev->type != YNODE_MAP) {
                        diag_add(d, file, ev->line, ev->col, "event: expected a mapping");
                } else {
                        keys_ok(ev, ev_keys, ELEMENTSOF(ev_keys), "event", file, d);
                        const YNode *t = ynode_get(ev, "type");
                        if (!is_scalar(t) || event_type_from_name(t->scalar) < 0)
                                diag_add(d, file, t ? t->line : ev->line, t ? t->col : ev->col,
                                         "event.type: missing or not an input event type");
                        const YNode *data = ynode_get(ev, "data");
                        if (data && data->type != YNODE_MAP)
                                diag_add(d, file, data->line, data->col,
                                         "event.data: expected a mapping");
                }
        }
        const YNode *date = ynode_get(s, "date");
        if (date)
                check_date(date, "step.date", file, d);
        const YNode *e = ynode_get(s, "expect");
        if (e)
                check_expect(e, file, d);
}

static void check_case(const YNode *c, const char *file, Diag *d)
{
        static const char *const keys[] = {"name",      "date",       "config",
                                           "household", "registered", "steps"};
        if (c->type != YNODE_MAP) {
                diag_add(d, file, c->line, c->col, "cases: expected a mapping");
                return;
        }
        keys_ok(c, keys, ELEMENTSOF(keys), "case", file, d);
        const YNode *name = ynode_get(c, "name");
        if (!is_scalar(name))
                diag_add(d, file, c->line, c->col, "case: name (a text) is missing");
        const YNode *date = ynode_get(c, "date");
        if (date)
                check_date(date, "case.date", file, d);
        const YNode *cfg = ynode_get(c, "config");
        if (cfg)
                check_config(cfg, file, d);
        const YNode *hh = ynode_get(c, "household");
        if (hh && hh->type != YNODE_MAP)
                diag_add(d, file, hh->line, hh->col, "household: expected a mapping");
        const YNode *reg = ynode_get(c, "registered");
        if (reg &&
            (!is_scalar(reg) || (!streq(reg->scalar, "true") && !streq(reg->scalar, "false"))))
                diag_add(d, file, reg->line, reg->col, "case.registered: true or false");
        const YNode *steps = ynode_get(c, "steps");
        if (!steps || steps->type != YNODE_SEQ) {
                diag_add(d, file, steps ? steps->line : c->line, steps ? steps->col : c->col,
                         "case: steps (a list) is missing");
                return;
        }
        for (size_t i = 0; i < steps->n; i++)
                check_step(steps->items[i], file, d);
}

void ruletest_check_file(const TestFile *f, Diag *d)
{
        static const char *const keys[] = {"cases", "household", "config"};
        const YNode *root = f->root;
        if (!root || root->type != YNODE_MAP) {
                diag_add(d, f->path, root ? root->line : 0, root ? root->col : 0,
                         "expected a mapping with cases:");
                return;
        }
        keys_ok(root, keys, ELEMENTSOF(keys), "test file", f->path, d);
        const YNode *hh = ynode_get(root, "household");
        if (hh && hh->type != YNODE_MAP)
                diag_add(d, f->path, hh->line, hh->col, "household: expected a mapping");
        const YNode *cfg = ynode_get(root, "config");
        if (cfg)
                check_config(cfg, f->path, d);
        const YNode *cases = ynode_get(root, "cases");
        if (!cases || cases->type != YNODE_SEQ) {
                diag_add(d, f->path, root->line, root->col, "cases (a list) is missing");
                return;
        }
        for (size_t i = 0; i < cases->n; i++)
                check_case(cases->items[i], f->path, d);
}
