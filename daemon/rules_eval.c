/* Evaluation of a rule set over a household document: which rules fire,
 * their reasons (messages, evidence, what would clear them), and a lean
 * pass that only tells which rules fire, for previews over many
 * households. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "household.h"
#include "rules_impl.h"

/* --- evaluation --------------------------------------------------------- */

/* Appends text to buf (size cap, used *len), cutting at a UTF-8 character
 * boundary when full, so the message stays valid UTF-8 for JSON. */
static void append(char *buf, size_t cap, size_t *len, const char *text, size_t n)
{
        if (*len + 1 >= cap)
                return;
        if (n > cap - 1 - *len) {
                n = cap - 1 - *len;
                while (n > 0 && utf8_cont(text[n]))
                        n--;
        }
        memcpy(buf + *len, text, n);
        *len += n;
        buf[*len] = '\0';
}

static char *render(const Template *t, const ExprValue *vals, int lang)
{
        char out[RULES_MAX_RENDERED], fig[512];
        size_t len = 0;

        out[0] = '\0';
        for (size_t i = 0; i < t->n_pieces; i++) {
                const Piece *p = &t->pieces[i];
                if (p->evidence < 0) {
                        append(out, sizeof(out), &len, t->text + p->off, p->len);
                        continue;
                }
                const ExprValue *v = &vals[p->evidence];
                size_t k;
                if (v->absent)
                        k = (size_t)snprintf(fig, sizeof(fig), "%s",
                                             lang == LANG_ZH ? "未知" : "unknown");
                else
                        k = expr_value_format(v, fig, sizeof(fig));
                append(out, sizeof(out), &len, fig, k < sizeof(fig) ? k : strlen(fig));
        }
        return strdup(out);
}

static int add_error(RulesResult *out, const char *rule, const char *what, int error)
{
        RulesError *ne = realloc(out->errors, (out->n_errors + 1) * sizeof(RulesError));
        if (!ne)
                return -ENOMEM;
        out->errors = ne;
        RulesError *e = &ne[out->n_errors];
        *e = (RulesError){strdup(rule), strdup(what), error};
        if (!e->rule || !e->what) {
                free(e->rule);
                free(e->what);
                return -ENOMEM;
        }
        out->n_errors++;
        return 0;
}

/* One figure of a firing rule's evidence into *v; on a runtime error
 * (returned) the figure is unknown: the condition held, so the rule still
 * fires (a missed warning is worse). */
static int evidence_value(const Evidence *e, const ExprEnv *env, ExprValue *v)
{
        int r = expr_eval(e->expr, env, v);
        if (r < 0)
                *v = (ExprValue){.type = expr_type(e->expr), .absent = true};
        return r;
}

/* Evaluates the evidence of a firing rule and appends its reason, with
 * what would turn it off (firing: which rules hold). */
static int add_reason(const RuleSet *rs, size_t ri, const ExprEnv *env, const bool *firing,
                      bool explain, RulesResult *out)
{
        const Rule *rule = &rs->rules[ri];
        ExprValue vals[RULES_MAX_EVIDENCE];
        char what[EVIDENCE_MAX_NAME + 16];
        int r;

        json_t *evidence = json_object();
        if (!evidence)
                return -ENOMEM;
        for (size_t i = 0; i < rule->n_evidence; i++) {
                const Evidence *e = &rule->evidence[i];
                if ((r = evidence_value(e, env, &vals[i])) < 0) {
                        snprintf(what, sizeof(what), "evidence.%s", e->name);
                        if (add_error(out, rule->id, what, r) < 0)
                                goto nomem;
                }
                json_t *j = facts_value_to_json(&vals[i]);
                /* Evidence names are a-z, 0-9 and _ (rules.c): no check. */
                if (!j || json_object_set_new_nocheck(evidence, e->name, j) < 0)
                        goto nomem;
        }
        char clear[CLEAR_MAX_TEXT];
        if (explain && clear_explain(rs->clear, ri, firing, env, rs->lang == LANG_EN, NULL, 0, NULL,
                                     clear, sizeof(clear)) < 0)
                goto nomem;
        RulesReason *nr = realloc(out->reasons, (out->n_reasons + 1) * sizeof(RulesReason));
        if (!nr)
                goto nomem;
        out->reasons = nr;
        RulesReason *x = &nr[out->n_reasons];
        *x = (RulesReason){
            .rule = strdup(rule->id),
            .category = rule->category,
            .severity = rule->severity,
            .message = explain ? render(&rule->msg[rs->lang], vals, rs->lang) : NULL,
            .to_clear = explain ? strdup(clear) : NULL,
            .evidence = evidence,
            .respond_within_ms = rule->respond_within_ms,
            .monitor = rule->monitor || rule->severity == RULES_SEV_MONITOR,
        };
        if (!x->rule || (explain && (!x->message || !x->to_clear))) {
                free(x->rule);
                free(x->message);
                free(x->to_clear);
                goto nomem;
        }
        out->n_reasons++;
        return 0;
nomem:
        json_decref(evidence);
        return -ENOMEM;
}

/* Adds rule i's colour and key monitoring to a code and flag. */
static void merge(const Rule *rule, RulesCode *code, bool *monitored)
{
        if (rule->monitor)
                *monitored = true;
        switch (rule->severity) {
        case RULES_SEV_RED:
                *code = RULES_RED;
                break;
        case RULES_SEV_YELLOW:
                if (*code < RULES_YELLOW)
                        *code = RULES_YELLOW;
                break;
        case RULES_SEV_MONITOR:
                *monitored = true;
                break;
        }
}

static int eval_run(const RuleSet *rs, const json_t *doc, int32_t today, const ExprFloorLine *lines,
                    size_t n_lines, bool explain, RulesResult *out);

int rules_eval(const RuleSet *rs, const json_t *doc, int32_t today, const ExprFloorLine *lines,
               size_t n_lines, RulesResult *out)
{
        return eval_run(rs, doc, today, lines, n_lines, true, out);
}

int rules_eval_lean(const RuleSet *rs, const json_t *doc, int32_t today, const ExprFloorLine *lines,
                    size_t n_lines, RulesResult *out)
{
        return eval_run(rs, doc, today, lines, n_lines, false, out);
}

static int eval_run(const RuleSet *rs, const json_t *doc, int32_t today, const ExprFloorLine *lines,
                    size_t n_lines, bool explain, RulesResult *out)
{
        if (!out)
                return -EINVAL;
        *out = (RulesResult){.code = RULES_GREEN};
        if (!rs || !doc || (n_lines > 0 && !lines))
                return -EINVAL;
        if (!household_registered(doc))
                return 0;

        _cleanup_(facts_freep) Facts *f = facts_new();
        _cleanup_free_ bool *firing = calloc(rs->n_rules + 1, sizeof(bool));
        if (!f || !firing)
                return -ENOMEM;
        int r =
            facts_fill(f, doc, today, rs->monitor_factor, rs->threshold_values, rs->n_thresholds);
        if (r < 0)
                return r;
        ExprEnv env;
        facts_env(f, lines, n_lines, &env);

        /* Which rules hold first: what clears one rule must not fire another. */
        for (size_t i = 0; i < rs->n_rules; i++) {
                const Rule *rule = &rs->rules[i];
                ExprValue w;
                if ((r = expr_eval(rule->when, &env, &w)) < 0) {
                        if (add_error(out, rule->id, "when", r) < 0)
                                return -ENOMEM;
                        continue;
                }
                firing[i] = expr_value_true(&w);
        }
        for (size_t i = 0; i < rs->n_rules; i++) {
                if (!firing[i])
                        continue;
                if (add_reason(rs, i, &env, firing, explain, out) < 0)
                        return -ENOMEM;
                merge(&rs->rules[i], &out->code, &out->monitored);
        }
        return 0;
}

/* Which rules hold for a document, with the facts they were read from
 * (fired_run(), released by fired_done()). */
typedef struct {
        Facts *f;
        bool *firing;
        ExprEnv env;
} Fired;

static void fired_done(Fired *x)
{
        facts_free(x->f);
        free(x->firing);
}

/* rules_fire() into *x (released by fired_done() also after a failure). 0,
 * -EINVAL, -ENOMEM. */
static int fired_run(const RuleSet *rs, const json_t *doc, int32_t today,
                     const ExprFloorLine *lines, size_t n_lines, Fired *x)
{
        *x = (Fired){facts_new(), calloc(rs->n_rules + 1, sizeof(bool)), {0}};
        if (!x->f || !x->firing)
                return -ENOMEM;
        RulesCode code;
        bool monitored;
        int r = rules_fire(rs, x->f, doc, today, lines, n_lines, x->firing, &code, &monitored);
        if (r < 0)
                return r;
        facts_env(x->f, lines, n_lines, &x->env);
        return 0;
}

int rules_explain(const RuleSet *rs, const json_t *doc, int32_t today, const ExprFloorLine *lines,
                  size_t n_lines, const char *rule, ClearOption *opts, size_t max, size_t *n_opts,
                  char *text, size_t len)
{
        if (!rs || !doc || !rule || !text || len == 0 || (n_lines > 0 && !lines))
                return -EINVAL;
        _cleanup_(fired_done) Fired x;
        int r = fired_run(rs, doc, today, lines, n_lines, &x);
        if (r < 0)
                return r;
        for (size_t i = 0; i < rs->n_rules; i++)
                if (streq(rs->rules[i].id, rule))
                        return x.firing[i] ? clear_explain(rs->clear, i, x.firing, &x.env,
                                                           rs->lang == LANG_EN, opts, max, n_opts,
                                                           text, len)
                                           : -ENOENT;
        return -ENOENT;
}

/* Rule i's texts (it fires in x) into messages[k] (when messages) and
 * texts[k]. 0 or -ENOMEM. */
static int explain_one(const RuleSet *rs, size_t i, const Fired *x, size_t k, char **messages,
                       char **texts)
{
        const Rule *rule = &rs->rules[i];
        char clear[CLEAR_MAX_TEXT];
        if (clear_explain(rs->clear, i, x->firing, &x->env, rs->lang == LANG_EN, NULL, 0, NULL,
                          clear, sizeof(clear)) < 0 ||
            !(texts[k] = strdup(clear)))
                return -ENOMEM;
        if (!messages)
                return 0;
        /* The message's figures as add_reason() has them. */
        ExprValue vals[RULES_MAX_EVIDENCE];
        for (size_t e = 0; e < rule->n_evidence; e++)
                (void)evidence_value(&rule->evidence[e], &x->env, &vals[e]);
        return (messages[k] = render(&rule->msg[rs->lang], vals, rs->lang)) ? 0 : -ENOMEM;
}

int rules_explain_set(const RuleSet *rs, const json_t *doc, int32_t today,
                      const ExprFloorLine *lines, size_t n_lines, const char *const *rules,
                      size_t n, char **messages, char **texts)
{
        if (!texts || (n > 0 && !rules))
                return -EINVAL;
        for (size_t k = 0; k < n; k++) {
                texts[k] = NULL;
                if (messages)
                        messages[k] = NULL;
        }
        if (!rs || !doc || (n_lines > 0 && !lines))
                return -EINVAL;
        _cleanup_(fired_done) Fired x;
        int r = fired_run(rs, doc, today, lines, n_lines, &x);
        for (size_t k = 0; r == 0 && k < n; k++)
                for (size_t i = 0; rules[k] && i < rs->n_rules; i++)
                        if (x.firing[i] && streq(rs->rules[i].id, rules[k])) {
                                r = explain_one(rs, i, &x, k, messages, texts);
                                break;
                        }
        if (r < 0)
                for (size_t k = 0; k < n; k++) {
                        free(texts[k]);
                        texts[k] = NULL;
                        if (messages) {
                                free(messages[k]);
                                messages[k] = NULL;
                        }
                }
        return r;
}

int rules_fire(const RuleSet *rs, Facts *f, const json_t *doc, int32_t today,
               const ExprFloorLine *lines, size_t n_lines, bool *firing, RulesCode *code,
               bool *monitored)
{
        if (!rs || !f || !doc || !firing || !code || !monitored || (n_lines > 0 && !lines))
                return -EINVAL;
        *code = RULES_GREEN;
        *monitored = false;
        memset(firing, 0, rs->n_rules * sizeof(bool));
        if (!household_registered(doc))
                return 0;
        int r =
            facts_fill(f, doc, today, rs->monitor_factor, rs->threshold_values, rs->n_thresholds);
        if (r < 0)
                return r;
        ExprEnv env;
        facts_env(f, lines, n_lines, &env);
        for (size_t i = 0; i < rs->n_rules; i++) {
                ExprValue w;
                if (expr_eval(rs->rules[i].when, &env, &w) < 0 || !expr_value_true(&w))
                        continue;
                firing[i] = true;
                merge(&rs->rules[i], code, monitored);
        }
        return 0;
}

void rules_result_done(RulesResult *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n_reasons; i++) {
                free(r->reasons[i].rule);
                free(r->reasons[i].message);
                free(r->reasons[i].to_clear);
                json_decref(r->reasons[i].evidence);
        }
        free(r->reasons);
        for (size_t i = 0; i < r->n_errors; i++) {
                free(r->errors[i].rule);
                free(r->errors[i].what);
        }
        free(r->errors);
        *r = (RulesResult){0};
}

json_t *rules_result_reasons_json(const RulesResult *r)
{
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < r->n_reasons; i++) {
                const RulesReason *x = &r->reasons[i];
                json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:O, s:s}", "rule", x->rule, "category",
                                      x->category, "severity",
                                      rules_severity_to_string(x->severity), "message", x->message,
                                      "evidence", x->evidence, "to_clear", x->to_clear);
                if (!o || json_array_append_new(arr, o) < 0) {
                        json_decref(arr);
                        return NULL;
                }
        }
        return arr;
}
