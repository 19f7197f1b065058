#include "evaluate.h"

#include "jsonfast.h"

static json_t *evaluate_run(const RuleSet *rs, const json_t *doc, int32_t today,
                            const ExprFloorLine *lines, size_t n_lines, bool explain,
                            RulesResult *res);

json_t *evaluate_json(const RuleSet *rs, const json_t *doc, int32_t today,
                      const ExprFloorLine *lines, size_t n_lines, RulesResult *res)
{
        return evaluate_run(rs, doc, today, lines, n_lines, true, res);
}

json_t *evaluate_json_lean(const RuleSet *rs, const json_t *doc, int32_t today,
                           const ExprFloorLine *lines, size_t n_lines, RulesResult *res)
{
        return evaluate_run(rs, doc, today, lines, n_lines, false, res);
}

static json_t *evaluate_run(const RuleSet *rs, const json_t *doc, int32_t today,
                            const ExprFloorLine *lines, size_t n_lines, bool explain,
                            RulesResult *res)
{
        RulesResult local = {0};
        RulesResult *r = res ? res : &local;
        *r = (RulesResult){0};
        if (!rs || (explain ? rules_eval(rs, doc, today, lines, n_lines, r)
                            : rules_eval_lean(rs, doc, today, lines, n_lines, r)) < 0) {
                rules_result_done(r);
                return NULL;
        }
        json_t *reasons = json_array();
        for (size_t i = 0; reasons && i < r->n_reasons; i++) {
                const RulesReason *x = &r->reasons[i];
                /* Built field by field (json_pack's format walk was a twentieth
                 * of an evaluation), with json_pack's outcome: the texts are
                 * checked as UTF-8 (jsonfast_string(): json_string()'s check,
                 * at half its cost on these texts), and a reason that
                 * cannot be made is left out as json_pack's NULL was. */
                const char *sev = rules_severity_to_string(x->severity);
                json_t *o = json_object();
                if (!o || json_object_set_new_nocheck(o, "rule", jsonfast_string(x->rule)) < 0 ||
                    json_object_set_new_nocheck(o, "category", jsonfast_string(x->category)) < 0 ||
                    json_object_set_new_nocheck(o, "severity", jsonfast_string(sev)) < 0 ||
                    (x->message &&
                     json_object_set_new_nocheck(o, "message", jsonfast_string(x->message)) < 0) ||
                    !x->evidence || json_object_set_nocheck(o, "evidence", x->evidence) < 0 ||
                    (x->to_clear && json_object_set_new_nocheck(
                                        o, "to_clear", jsonfast_string(x->to_clear)) < 0) ||
                    /* The lean (stored) form leaves out what readers take
                     * as absent anyway (lifecycle.c: get_ms(), json_is_true()). */
                    ((explain || x->respond_within_ms) &&
                     json_object_set_new_nocheck(o, "respond_within_ms",
                                                 json_integer(x->respond_within_ms)) < 0) ||
                    ((explain || x->monitor) &&
                     json_object_set_new_nocheck(o, "monitor", json_boolean(x->monitor)) < 0)) {
                        json_decref(o);
                        continue;
                }
                json_array_append_new(reasons, o);
        }
        /* json_pack("{s:b, s:o}") without its format walk: reasons is
         * taken (released on failure). */
        json_t *e = reasons ? json_object() : NULL;
        if (e && json_object_set_new_nocheck(e, "monitored", json_boolean(r->monitored)) < 0) {
                json_decref(e);
                e = NULL;
        }
        if (!e) {
                json_decref(reasons);
        } else if (json_object_set_new_nocheck(e, "reasons", reasons) < 0) {
                json_decref(e);
                e = NULL;
        }
        if (!res)
                rules_result_done(&local);
        return e;
}

json_t *evaluate_with(const json_t *doc, int32_t today, void *userdata)
{
        const EvaluateRules *e = userdata;
        return evaluate_json(e->rules, doc, today, e->lines, e->n_lines, NULL);
}
