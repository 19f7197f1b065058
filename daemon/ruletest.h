/* Rule tests, as `promtool test rules` does for Prometheus: YAML files of
 * cases, each a household and a list of events with the codes and reasons
 * expected after each. The events go through the real decoder (schemas)
 * and household_apply(), and the rules through rules_eval(), so a passing
 * test exercises exactly what hearthd runs.
 *
 * A test file (rules/README.md has the full reference):
 *   household: {...}            # optional default household for the cases
 *   config: {...}               # optional default config overrides
 *   cases:
 *     - name: medical costs above last year's income
 *       date: 2026-01-05        # registration date (default 2026-01-01)
 *       config:                 # optional overrides of the base config
 *         floor_lines: {2022: 10000, 2026: 11000}
 *         monitor_factor: 1.2
 *         thresholds: {major_out_of_pocket: 30000}
 *         language: en
 *       household: {...}        # data of household.registered, merged
 *                               # key by key over the file's default
 *       steps:
 *         - event: {type: medical.claim.settled, data: {...}, id?, time?, source?}
 *           expect:
 *             code: red
 *             reasons: [rigid_expenditure_illness, special_members]
 *             monitored: true
 *             messages: {rigid_expenditure_illness: ["45000", "36000"]}
 *             errors: []         # rules with a runtime error (default: none)
 *         - date: 2027-03-01    # a step without event: evaluate at a date
 *           expect: {code: green}
 * The envelope of each event is filled in: specversion, a generated id,
 * source "test", subject "HTEST0001", and time (the latest date so far at
 * 09:00+08:00) unless given. Rules are evaluated at the event's date. */
#pragma once

#include <stdio.h>
#include "config.h"

/* Runs every *.yaml file of tests_dir (name order) against the rules of
 * rules_dir and the schemas of schemas_dir, with base (borrowed; NULL for
 * the defaults) as the config the cases override. Prints one TAP line per
 * case to out ("ok 3 - income.yaml: near the line" or "not ok 4 -
 * income.yaml: below: step 2: expected red [income_below_line], got green
 * []"), then a coverage line (every rule must be expected to fire by some
 * case), the plan and a summary line. Returns the number of failed lines
 * (cases and coverage), or a negative errno when the rules, schemas or a
 * test file cannot be loaded (the diagnostics are printed to out). */
int ruletest_run_dir(const char *tests_dir, const char *rules_dir, const char *schemas_dir,
                     const Config *base, FILE *out);
