/* hearthctl replay: a file of events through the daemon's decoder, state
 * code, rules and lifecycle, in memory, without Kafka or Redis. */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "diag.h"
#include "evaluate.h"
#include "event.h"
#include "household.h"
#include "lifecycle.h"
#include "rules.h"
#include "schema.h"
#include "step.h"

/* One replay: what every line needs, and the counts so far. */
typedef struct {
        const CtlArgs *a;
        const char *file;
        EventDecoder *dec;
        const LifecyclePolicy *pol;
        const StepContext *step;
        json_t *households; /* subject -> document */
        json_t *codes;      /* subject -> final code */
        Esc *E;
        int64_t clock; /* the latest event time so far */
        unsigned lineno, bad, n_events;
} Replay;

/* Wall ms of an RFC 3339 time ("2026-03-02T08:00:00+08:00"); 0 if bad. */
static int64_t rfc3339_ms(const char *s)
{
        int64_t ms;
        if (!s || calendar_time_parse(s, strlen(s), NULL, &ms) < 0)
                return 0;
        return ms;
}

/* Prints the outputs of one event of household subject: CloudEvents with
 * --json, else a line each with the rules and their messages. */
static void print_outputs(const Replay *R, const char *subject, const json_t *outputs)
{
        Esc *E = R->E;
        size_t i;
        json_t *o;
        json_array_foreach (outputs, i, o) {
                const json_t *data = json_object_get(o, "data");
                if (R->a->json) {
                        char *ce = lifecycle_render(o, subject);
                        printf("%s\n", ce ? ce : "null");
                        free(ce);
                        continue;
                }
                printf("%s  %-12s %-20s %-7s", esc_get(E, o, "time") ?: "-", esc(E, subject),
                       esc_get(E, o, "type") ?: "-", esc_get(E, data, "code") ?: "-");
                size_t j;
                json_t *r;
                json_array_foreach (json_object_get(data, "reasons"), j, r)
                        printf(" %s", esc_get(E, r, "rule") ?: "-");
                printf("\n");
                json_array_foreach (json_object_get(data, "reasons"), j, r)
                        printf("      %s\n", esc_get(E, r, "message") ?: "");
        }
}

/* Replays line (len bytes, R->lineno): an event, or KEY<TAB>EVENT; blank
 * lines and # comments are skipped, what does not decode is a dead letter. */
static void replay_line(Replay *R, char *line, ssize_t len)
{
        Esc *E = R->E;
        char err[1024];
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                line[--len] = 0;
        char *json_text = line;
        char *tab = strchr(line, '\t');
        if (tab && line[0] != '{')
                json_text = tab + 1;
        if (!*json_text || *json_text == '#')
                return;
        json_error_t je;
        json_t *root = json_loads(json_text, JSON_REJECT_DUPLICATES, &je);
        Event ev;
        if (!root) {
                printf("%s:%u: dead letter: not JSON: %s\n", esc(E, R->file), R->lineno,
                       esc(E, je.text));
                R->bad++;
                return;
        }
        if (event_from_json(R->dec, root, &ev, err, sizeof(err)) < 0) {
                printf("%s:%u: dead letter: %s\n", esc(E, R->file), R->lineno, esc(E, err));
                R->bad++;
                return;
        }
        R->n_events++;
        int64_t t = rfc3339_ms(json_string_value(json_object_get(ev.root, "time")));
        if (!t && ev.date)
                t = (int64_t)ev.date * 86400000LL;
        if (t > R->clock)
                R->clock = t;
        json_t *doc = json_object_get(R->households, ev.subject);
        if (!doc) {
                doc = household_new();
                json_object_set_new(R->households, ev.subject, doc);
        }
        json_t *outputs = json_array();
        /* Timers due by this event's time fire first, as they would
         * have in the daemon. */
        lifecycle_timers(doc, ev.subject, R->clock, R->pol, outputs);
        StepNotes notes;
        if (step_event(R->step, doc, ev.subject, &ev, R->clock, NULL, outputs, &notes) < 0) {
                printf("%s:%u: dead letter: limit reached for household %s\n", esc(E, R->file),
                       R->lineno, esc(E, ev.subject));
                json_decref(outputs);
                event_done(&ev);
                return;
        }
        if (notes.lifecycle & LIFECYCLE_RESOLUTION_REFUSED && !R->a->json)
                printf("%s:%u: alert.resolved refused for household %s: no help recorded "
                       "since the alert was raised; the alert stays open\n",
                       esc(E, R->file), R->lineno, esc(E, ev.subject));
        print_outputs(R, ev.subject, outputs);
        json_decref(outputs);
        const json_t *evj = json_object_get(doc, "eval");
        /* "s": a default made here would be one reference too many. */
        json_object_set_new(R->codes, ev.subject,
                            json_pack("{s:s, s:b}", "code",
                                      json_string_value(json_object_get(evj, "code")) ?: "green",
                                      "monitored",
                                      json_is_true(json_object_get(evj, "monitored"))));
        event_done(&ev);
}

/* replay FILE: the events through the same decoder, state code, rules and
 * lifecycle as hearthd, in memory; the clock is each event's time. */
int ctl_replay(const CtlArgs *a, const Config *cfg, const char *file)
{
        char err[1024];
        SchemaSet *schemas = NULL;
        RuleSet *rules = NULL;
        EventDecoder *dec = NULL;
        Diag *d = diag_new();
        int ret = EXIT_FAILURE;
        FILE *f = streq(file, "-") ? stdin : fopen(file, "re");
        json_t *households = json_object(), *codes = json_object();
        ExprFloorLine *lines = calloc(cfg->n_floor_lines + 1, sizeof(ExprFloorLine));
        Esc e_ = {0}, *E = &e_;
        if (!f) {
                fprintf(stderr, "hearthctl: %s: %s\n", esc(E, file), strerror(errno));
                goto out;
        }
        if (schema_set_load_dir(cfg->schemas_dir, &schemas, err, sizeof(err)) < 0) {
                fprintf(stderr, "hearthctl: %s\n", err);
                goto out;
        }
        if (rules_load_dir(cfg->rules_dir, cfg, &rules, d) < 0) {
                diag_print(d, stderr, "hearthctl: ");
                goto out;
        }
        dec = event_decoder_new(schemas, (size_t)cfg->max_message_bytes);
        if (!dec || !lines)
                goto out;
        rules_floor_lines(cfg, lines, cfg->n_floor_lines);
        LifecyclePolicy pol = lifecycle_policy(cfg);
        pol.candidate_grace_ms = 0; /* events in file order: no registration in flight */
        EvaluateRules re = {rules, lines, cfg->n_floor_lines};
        StepContext step = {evaluate_with, &re, dec, &pol, false, NULL};
        Replay R = {.a = a,
                    .file = file,
                    .dec = dec,
                    .pol = &pol,
                    .step = &step,
                    .households = households,
                    .codes = codes,
                    .E = E};
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while ((len = getline(&line, &cap, f)) >= 0) {
                R.lineno++;
                replay_line(&R, line, len);
        }
        free(line);
        if (!a->json) {
                printf("final codes:\n");
                const char *k;
                json_t *v;
                json_object_foreach (codes, k, v)
                        printf("  %-12s %s%s\n", esc(E, k), esc_get(E, v, "code") ?: "-",
                               json_is_true(json_object_get(v, "monitored")) ? " (key monitoring)"
                                                                             : "");
                printf("%u events replayed, %u dead letters\n", R.n_events, R.bad);
        }
        ret = EXIT_SUCCESS;
out:
        if (f && f != stdin)
                fclose(f);
        json_decref(households);
        json_decref(codes);
        free(lines);
        event_decoder_free(dec);
        rules_free(rules);
        schema_set_free(schemas);
        diag_free(d);
        return ret;
}
