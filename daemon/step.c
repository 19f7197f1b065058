#include "step.h"

#include <stdlib.h>
#include <string.h>

#include "aid.h"
#include "macro.h"
#include "statement.h"

#define DAY_MS (24LL * 3600 * 1000)

static json_t *evaluate(const StepContext *c, const json_t *doc, int32_t today)
{
        json_t *e = c->eval ? c->eval(doc, today, c->eval_userdata) : NULL;
        return e ? e : json_pack("{s:b, s:[]}", "monitored", 0, "reasons");
}

/* Whether reason r still needs its texts (message, to_clear): the lean
 * evaluation leaves them out, the lifecycle puts null in an output. */
static bool untold(const json_t *r)
{
        return !json_is_string(json_object_get(r, "message")) ||
               !json_is_string(json_object_get(r, "to_clear"));
}

/* A reason's texts where its rule could not be explained (it does not
 * fire on a second look, or memory failed): never expected, but an output
 * always has both. */
static const char *fallback_message(bool english)
{
        return english ? "a rule holds (its figures could not be written)"
                       : "规则成立（数字未能写出）";
}

/* Writes the texts (message, to_clear) into each of the n reasons
 * (objects) that lack one, as c->explain gives them for doc at today;
 * where it gives none, the reason is left for the fallbacks. */
static void explain_reasons(const StepContext *c, const json_t *doc, int32_t today,
                            json_t *const *reasons, size_t n)
{
        const char **rules = calloc(n, sizeof(char *));
        char **messages = calloc(n, sizeof(char *));
        char **texts = calloc(n, sizeof(char *));
        if (rules && messages && texts) {
                for (size_t i = 0; i < n; i++)
                        rules[i] = json_string_value(json_object_get(reasons[i], "rule"));
                if (c->explain(doc, today, rules, n, messages, texts, c->eval_userdata) == 0)
                        for (size_t i = 0; i < n; i++) {
                                if (messages[i] &&
                                    !json_is_string(json_object_get(reasons[i], "message")))
                                        json_object_set_new(reasons[i], "message",
                                                            json_string(messages[i]));
                                if (texts[i] &&
                                    !json_is_string(json_object_get(reasons[i], "to_clear")))
                                        json_object_set_new(reasons[i], "to_clear",
                                                            json_string(texts[i]));
                                free(messages[i]);
                                free(texts[i]);
                        }
        }
        free(rules);
        free(messages);
        free(texts);
}

/* Calls fn on each reason without its texts (untold()) in reasons (an
 * array) and in the data of outputs[first..). */
static void each_untold(json_t *reasons, json_t *outputs, size_t first,
                        void (*fn)(json_t *r, void *u), void *u)
{
        size_t i;
        json_t *r;
        for (size_t o = first; o <= json_array_size(outputs); o++) {
                json_t *arr =
                    o < json_array_size(outputs)
                        ? json_object_get(json_object_get(json_array_get(outputs, o), "data"),
                                          "reasons")
                        : reasons;
                json_array_foreach (arr, i, r)
                        if (untold(r))
                                fn(r, u);
        }
}

typedef struct {
        json_t **list; /* NULL: count only */
        size_t n;
} Untold;

static void untold_add(json_t *r, void *u)
{
        Untold *t = u;
        if (t->list)
                t->list[t->n] = r;
        t->n++;
}

static void untold_fallback(json_t *r, void *u)
{
        bool english = *(const bool *)u;
        if (!json_is_string(json_object_get(r, "message")))
                json_object_set_new(r, "message", json_string(fallback_message(english)));
        if (!json_is_string(json_object_get(r, "to_clear")))
                json_object_set_new(r, "to_clear",
                                    json_string(lifecycle_to_clear_fallback(english)));
}

/* The texts of the reasons without them in reasons (an array) and in the
 * data of outputs[first..) (explain_reasons()); a reason still without
 * (no memory for the list) gets the fallbacks. */
static void explain_all(const StepContext *c, const json_t *doc, int32_t today, json_t *reasons,
                        json_t *outputs, size_t first)
{
        Untold t = {NULL, 0};
        each_untold(reasons, outputs, first, untold_add, &t);
        if (!t.n)
                return; /* most events: every reason published has its texts */
        if ((t.list = calloc(t.n, sizeof(json_t *)))) {
                t.n = 0;
                each_untold(reasons, outputs, first, untold_add, &t);
                explain_reasons(c, doc, today, t.list, t.n);
        }
        free(t.list);
        bool english = c->policy && c->policy->english;
        each_untold(reasons, outputs, first, untold_fallback, &english);
}

/* 应纳尽纳: a household the registers do not know yet whose events would
 * make a registered household red is reported to the county, once. The
 * rules see what its pending events show, with no profile. */
bool step_candidate(const StepContext *c, json_t *doc, const char *household, int64_t now,
                    json_t *outputs)
{
        if (household_registered(doc) || json_object_get(doc, "candidate") || !c->dec)
                return false;
        json_t *hyp = household_hypothetical(doc, c->dec);
        if (!hyp)
                return false;
        int32_t today = household_latest(hyp);
        if (!today)
                today = (int32_t)(now / DAY_MS);
        json_t *eval = evaluate(c, hyp, today);
        bool red = false;
        size_t i;
        json_t *r;
        json_array_foreach (json_object_get(eval, "reasons"), i, r)
                red = red || streq_ptr(json_string_value(json_object_get(r, "severity")), "red");
        bool sent = false;
        int64_t grace = c->policy ? c->policy->candidate_grace_ms : 0;
        json_int_t due = json_integer_value(json_object_get(doc, "candidate_due_ms"));
        if (!red) {
                json_object_del(doc, "candidate_due_ms");
        } else if (grace > 0 && !due) {
                /* Its registration may be on its way on another topic. */
                json_object_set_new(doc, "candidate_due_ms", json_integer(now + grace));
        } else if (grace <= 0 || now >= due) {
                if (c->explain)
                        explain_all(c, hyp, today, json_object_get(eval, "reasons"), NULL, 0);
                sent = lifecycle_candidate(doc, household, eval, now, outputs) > 0;
        }
        json_decref(eval);
        json_decref(hyp);
        return sent;
}

int step_event(const StepContext *c, json_t *doc, const char *household, const Event *ev,
               int64_t now, HouseholdEffects *fx, json_t *outputs, StepNotes *notes)
{
        StepNotes local;
        if (!notes)
                notes = &local;
        *notes = (StepNotes){.acknowledge_ms = -1};
        int r = household_apply(doc, ev, c->dec, fx);
        if (r < 0)
                return r;
        if (!household_registered(doc)) {
                if (!c->defer_candidate)
                        notes->candidate = step_candidate(c, doc, household, now, outputs);
                return 0;
        }
        int32_t today = household_eval_date(doc, ev);
        if (!today)
                today = (int32_t)(now / DAY_MS);
        json_t *eval = evaluate(c, doc, today);
        /* Feeds' timestamps need not be in order: time never runs back
         * within a household's alert. */
        const json_t *open = json_object_get(doc, "alert");
        int64_t floor_ms = (int64_t)json_integer_value(json_object_get(open, "raised_ms"));
        int64_t ack_ms = (int64_t)json_integer_value(json_object_get(open, "acknowledged_ms"));
        if (ack_ms > floor_ms)
                floor_ms = ack_ms;
        if (now < floor_ms)
                now = floor_ms;
        bool acked = json_object_get(open, "acknowledged_ms") != NULL;
        OutcomeBefore before;
        outcome_before(doc, &before);
        size_t first = json_array_size(outputs);
        const LifecyclePolicy *pol = c->policy;
        LifecyclePolicy later;
        if (pol && c->explain) {
                later = *pol;
                later.texts_later = true;
                pol = &later;
        }
        notes->lifecycle = lifecycle_step(doc, household, ev, eval, now, pol, outputs);
        json_decref(eval);
        /* The lifecycle leaves the facts the rules read as they were. */
        if (c->explain)
                explain_all(c, doc, today, NULL, outputs, first);
        if (c->policy)
                statement_schedule(doc, now, c->policy);
        /* Social aid (REQ-12): what it waits for changed, or a match was answered. */
        aid_household_step(doc, ev, now);
        /* Only this step's outputs: the caller's array may hold earlier ones. */
        json_t *mine = json_array();
        for (size_t i = first; mine && i < json_array_size(outputs); i++)
                json_array_append(mine, json_array_get(outputs, i));
        outcome_after(&before, doc, ev, notes->lifecycle, mine, &notes->outcomes);
        json_decref(mine);
        outcome_before_done(&before);
        const json_t *alert = json_object_get(doc, "alert");
        const json_t *ack = json_object_get(alert, "acknowledged_ms");
        if (!acked && ack)
                notes->acknowledge_ms = json_integer_value(ack) -
                                        json_integer_value(json_object_get(alert, "raised_ms"));
        return 0;
}
