/* The one evaluation both front ends use (hearthd's pipeline and
 * hearthctl replay): the rules of a household at a date, as the JSON the
 * lifecycle takes. */
#pragma once

#include <jansson.h>
#include "rules.h"

/* Evaluates rs for doc at today (days). Returns a new
 * {monitored, reasons: [{rule, category, severity, message, evidence,
 * to_clear, respond_within_ms, monitor}]} or NULL on failure; if res is not NULL it receives
 * the full result (the caller calls rules_result_done()). */
json_t *evaluate_json(const RuleSet *rs, const json_t *doc, int32_t today,
                      const ExprFloorLine *lines, size_t n_lines, RulesResult *res);

/* evaluate_json() whose reasons have no message or to_clear
 * (rules_eval_lean()), nor respond_within_ms when 0 or monitor when false
 * (absent reads the same): hearthd's, which stores it and writes the texts
 * of its outputs' reasons afterwards (StepContext.explain,
 * rules_explain_set()). */
json_t *evaluate_json_lean(const RuleSet *rs, const json_t *doc, int32_t today,
                           const ExprFloorLine *lines, size_t n_lines, RulesResult *res);

/* A rule set with its floor lines (all borrowed), for evaluate_with(). */
typedef struct {
        const RuleSet *rules;
        const ExprFloorLine *lines;
        size_t n_lines;
} EvaluateRules;

/* evaluate_json() of the EvaluateRules userdata points at: the evaluator
 * (StepEvalFn) of the front ends whose rules do not change under them
 * (hearthctl replay, the rule tests, the test loader). */
json_t *evaluate_with(const json_t *doc, int32_t today, void *userdata);
