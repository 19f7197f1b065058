/* What the tests of the household step share (test_outcome.c,
 * test_step_explain.c): the default config, the repository's schemas and
 * shipped rules, and one event stepped from its type, date and data. Run
 * from the repository root. */
#pragma once

#include <stdio.h>

#include "config.h"
#include "diag.h"
#include "event.h"
#include "lifecycle.h"
#include "rules.h"
#include "schema.h"
#include "step.h"

typedef struct {
        Config *cfg;
        SchemaSet *schemas;
        EventDecoder *dec;
        RuleSet *rules;
        LifecyclePolicy pol; /* no candidate grace: events in order */
        ExprFloorLine lines[1];
} StepWorld;

static void step_world_load(StepWorld *w)
{
        char err[512];
        Diag *d = diag_new();
        assert_int_equal(config_load_buffer("", 0, "./defaults", NULL, 0, &w->cfg, d), 0);
        assert_int_equal(schema_set_load_dir("schemas", &w->schemas, err, sizeof(err)), 0);
        assert_int_equal(rules_load_dir("rules", w->cfg, &w->rules, d), 0);
        diag_free(d);
        w->dec = event_decoder_new(w->schemas, 1 << 20);
        w->pol = lifecycle_policy(w->cfg);
        w->pol.candidate_grace_ms = 0;
        rules_floor_lines(w->cfg, w->lines, 1);
}

static void step_world_free(StepWorld *w)
{
        event_decoder_free(w->dec);
        rules_free(w->rules);
        schema_set_free(w->schemas);
        config_free(w->cfg);
}

/* Steps the event "t-<n>" of type on household at 09:00 of date (its data
 * JSON text) through sc on doc at 01:00 UTC that day; the outputs (new).
 * notes may be NULL. */
static json_t *step_world_event(const StepWorld *w, const StepContext *sc, json_t *doc,
                                const char *household, int n, const char *type, const char *date,
                                const char *data, StepNotes *notes)
{
        char text[4096], err[512];
        snprintf(text, sizeof(text),
                 "{\"specversion\":\"1.0\",\"id\":\"t-%d\",\"source\":\"test\",\"type\":\"%s\","
                 "\"time\":\"%sT09:00:00+08:00\",\"subject\":\"%s\",\"data\":%s}",
                 n, type, date, household, data);
        json_t *root = json_loads(text, 0, NULL);
        assert_non_null(root);
        Event ev;
        if (event_from_json(w->dec, root, &ev, err, sizeof(err)) < 0)
                fail_msg("%s: %s", type, err);
        int32_t day;
        assert_int_equal(date_parse(date, &day), 0);
        json_t *outputs = json_array();
        assert_int_equal(step_event(sc, doc, household, &ev, (int64_t)day * 86400000 + 3600000,
                                    NULL, outputs, notes),
                         0);
        event_done(&ev);
        return outputs;
}
