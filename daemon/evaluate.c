#include "evaluate.h"

json_t *evaluate_json(const RuleSet *rs, const json_t *doc, int32_t today,
                      const ExprFloorLine *lines, size_t n_lines, RulesResult *res)
{
        RulesResult local = {0};
        RulesResult *r = res ? res : &local;
        *r = (RulesResult){0};
        if (!rs || rules_eval(rs, doc, today, lines, n_lines, r) < 0) {
                rules_result_done(r);
                return NULL;
        }
        json_t *reasons = json_array();
        for (size_t i = 0; reasons && i < r->n_reasons; i++) {
                const RulesReason *x = &r->reasons[i];
                json_array_append_new(
                    reasons,
                    json_pack("{s:s, s:s, s:s, s:s, s:O, s:s, s:I, s:b}", "rule", x->rule,
                              "category", x->category, "severity",
                              rules_severity_to_string(x->severity), "message", x->message,
                              "evidence", x->evidence, "to_clear", x->to_clear, "respond_within_ms",
                              (json_int_t)x->respond_within_ms, "monitor", x->monitor));
        }
        json_t *e =
            reasons ? json_pack("{s:b, s:o}", "monitored", r->monitored, "reasons", reasons) : NULL;
        if (!res)
                rules_result_done(&local);
        return e;
}

json_t *evaluate_with(const json_t *doc, int32_t today, void *userdata)
{
        const EvaluateRules *e = userdata;
        return evaluate_json(e->rules, doc, today, e->lines, e->n_lines, NULL);
}
