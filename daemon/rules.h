/* The rule set: YAML rule files compiled once at load into an immutable
 * RuleSet, and the evaluation of a household against it (a pure function
 * of the household document and the event date).
 *
 * A rule file (rules/README.md has the full reference):
 *   thresholds:                 # optional: name -> number, the defaults
 *     major_out_of_pocket: 20000    # that config policy.thresholds overrides
 *   rules:
 *     - id: major_disease_claim     # [a-z0-9_.-], unique over all files
 *       category: illness           # illness|disability|education|disaster|
 *                                   # accident|income_drop|guarantee|need
 *       severity: red               # yellow|red|monitor
 *       when: any(claims, claim.major_disease and ...)      # bool
 *       evidence: {out_of_pocket: major_disease_12m}        # name -> expr
 *       message:
 *         zh: "近12个月大病医疗自付{out_of_pocket}元"
 *         en: "Major-disease costs of {out_of_pocket} yuan in 12 months"
 *       monitor: true               # optional: firing also means key monitoring
 *       respond_within: 24h         # optional; 0 = the config default
 *       description: ...            # optional
 *
 * Loading reports every problem of every file as file:line:col (expression
 * errors point inside the YAML scalar) and then fails once, so a reload
 * with a broken file keeps the old set running. A RuleSet is never changed
 * after load: several threads may evaluate it at once. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "clear.h"
#include "config.h"
#include "diag.h"
#include "expr.h"
#include "macro.h"

#define RULES_MAX 500                  /* rules over all files */
#define RULES_MAX_FILES 100            /* *.yaml files in the folder */
#define RULES_MAX_FILE_BYTES (1 << 20) /* one rule file */
#define RULES_MAX_ID 64                /* bytes of a rule id */
#define RULES_MAX_EVIDENCE 16          /* evidence entries of a rule */
#define RULES_MAX_MESSAGE 1024         /* bytes of a message template */
#define RULES_MAX_DESCRIPTION 4096     /* bytes of a description */
#define RULES_MAX_RENDERED 4096        /* bytes of a rendered message */
/* respond_within: urgent, i.e. the config's alerts.respond_within.urgent. */
#define RULES_RESPOND_URGENT (-1)

typedef enum { RULES_GREEN, RULES_YELLOW, RULES_RED } RulesCode;
typedef enum { RULES_SEV_YELLOW, RULES_SEV_RED, RULES_SEV_MONITOR } RulesSeverity;

/* "green", "yellow", "red"; and back (-EINVAL for anything else). */
const char *rules_code_to_string(RulesCode c);
int rules_code_from_string(const char *s);
/* "yellow", "red", "monitor". */
const char *rules_severity_to_string(RulesSeverity s);

/* One firing rule. Owns its strings and evidence, so it outlives the
 * RuleSet it came from (a reload may free that meanwhile). */
typedef struct {
        char *rule;
        const char *category; /* static string */
        RulesSeverity severity;
        char *message;    /* in the configured language, figures filled in */
        char *to_clear;   /* the same language: what would turn it off (clear.h) */
        json_t *evidence; /* object: name -> yuan number, "YYYY-MM-DD", string, bool, null */
        int64_t respond_within_ms; /* 0: the config default of its colour;
                                    * RULES_RESPOND_URGENT: the config's urgent limit */
        bool monitor; /* it puts the household under key monitoring (severity monitor, or
                       * `monitor: true` on a yellow or red rule) */
} RulesReason;

/* A runtime error of one expression: the rule did not fire (`when`) or
 * fired with that figure null ("unknown" in the message) (evidence). */
typedef struct {
        char *rule;
        char *what; /* "when" or "evidence.<name>" */
        int error;  /* EXPR_ERR_*: see expr_strerror() */
} RulesError;

typedef struct {
        RulesCode code;       /* highest severity of the firing yellow and red rules */
        bool monitored;       /* some monitor rule fires (key monitoring) */
        RulesReason *reasons; /* firing rules in rule order, monitor ones included */
        size_t n_reasons;
        RulesError *errors;
        size_t n_errors;
} RulesResult;

typedef struct RuleSet RuleSet;

/* Loads every *.yaml file of dir (names not starting with '.', in name
 * order) into one rule set. cfg (borrowed during the call; may be NULL for
 * the defaults) gives the language, monitor_factor and the threshold
 * overrides; a config threshold no rule file defines is an error. On
 * success stores the set in *ret (free with rules_free()) and returns 0;
 * otherwise adds every problem to diag and returns -EINVAL (or another
 * negative errno when dir cannot be read). */
int rules_load_dir(const char *dir, const Config *cfg, RuleSet **ret, Diag *diag);

/* Same for one file's text buf (borrowed, len bytes, need not be NUL
 * terminated); file names it in diagnostics. For tests and fuzzers. */
int rules_load_buffer(const char *buf, size_t len, const char *file, const Config *cfg,
                      RuleSet **ret, Diag *diag);

RuleSet *rules_free(RuleSet *rs);
DEFINE_TRIVIAL_CLEANUP_FUNC(RuleSet *, rules_free);

size_t rules_count(const RuleSet *rs);
/* The id of rule i < rules_count() (borrowed), or NULL. */
const char *rules_id(const RuleSet *rs, size_t i);
/* The severity of rule i, or -EINVAL. */
int rules_severity(const RuleSet *rs, size_t i);
/* The value (×100) of threshold name after config overrides: 0, or
 * -ENOENT when no rule file defines it. */
int rules_threshold(const RuleSet *rs, const char *name, int64_t *ret);

/* Evaluates every rule for the household document doc (borrowed) at date
 * today (days since 1970; rules evaluate on event time) with the floor
 * lines (borrowed, sorted by year). Fills *out, which the caller releases
 * with rules_result_done() (also after a failure). A household that is not
 * registered is green with no reasons (nothing is known of it yet); a
 * removed one is evaluated as usual: suppressing its alerts is the
 * caller's decision. A runtime error of an expression never stops the
 * evaluation: it is listed in out->errors. Returns 0, -EINVAL for NULL
 * arguments, -ENOMEM. */
int rules_eval(const RuleSet *rs, const json_t *doc, int32_t today, const ExprFloorLine *lines,
               size_t n_lines, RulesResult *out);

/* rules_eval() without the reasons' texts: message and to_clear are NULL
 * in every reason. Why: hearthd publishes them only in the outputs that
 * carry reasons (a few events in a hundred) and writes them then
 * (rules_explain_set()); what would clear a reason was a tenth of an
 * event's instructions, and both texts a tenth of a stored document. */
int rules_eval_lean(const RuleSet *rs, const json_t *doc, int32_t today, const ExprFloorLine *lines,
                    size_t n_lines, RulesResult *out);

/* The texts of the rules named rules[0..n) for doc at today, as
 * rules_eval() writes them into a reason: messages[i] (messages may be
 * NULL) and texts[i] (to_clear), malloc'd (the caller frees), for a rule
 * that fires; NULL for one that does not or that no rule has. One
 * evaluation of the rules for all n. Returns 0, -EINVAL, -ENOMEM (all
 * NULL). */
int rules_explain_set(const RuleSet *rs, const json_t *doc, int32_t today,
                      const ExprFloorLine *lines, size_t n_lines, const char *const *rules,
                      size_t n, char **messages, char **texts);

/* Frees what r holds and zeroes it; accepts a zeroed result. */
void rules_result_done(RulesResult *r);

/* Which rules hold for doc at today, and the code and key monitoring they
 * give, without reasons: no messages, evidence or to_clear, so that a
 * preview over every household stays fast. f (reused across calls) holds
 * the facts afterwards; firing has rules_count() entries. A household that
 * is not registered is green. A runtime error counts as not firing. 0, or
 * -EINVAL. */
struct Facts;
int rules_fire(const RuleSet *rs, struct Facts *f, const json_t *doc, int32_t today,
               const ExprFloorLine *lines, size_t n_lines, bool *firing, RulesCode *code,
               bool *monitored);

/* What would turn rule `rule` off for doc at today (clear.h): the options
 * into opts[0..max) and *n_opts, the sentence into text. -ENOENT when the
 * rule does not exist or does not fire; -EINVAL, -ENOMEM. */
int rules_explain(const RuleSet *rs, const json_t *doc, int32_t today, const ExprFloorLine *lines,
                  size_t n_lines, const char *rule, ClearOption *opts, size_t max, size_t *n_opts,
                  char *text, size_t len);

/* The reasons as the output events carry them (CONTRACT.md):
 * [{rule, category, severity, message, evidence, to_clear}], severity
 * included so monitor reasons can be told apart. New reference, NULL on
 * memory failure. */
json_t *rules_result_reasons_json(const RulesResult *r);

/* Converts config floor lines to the expression type (lines must hold n). */
void rules_floor_lines(const Config *cfg, ExprFloorLine *lines, size_t n);
