/* The rule tests' shared helpers: diagnostics, configs, dates, household documents. */
/* Shared by test_rules.c (loading, config, the runner) and
 * test_rules_eval.c (facts and evaluation). Run from the repository root. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "event.h"
#include "rules.h"

#include "shipped_rules.h"

#define RULES_DIR "rules"

static void diag_dump(const Diag *d)
{
        for (unsigned i = 0; i < diag_count(d) && i < DIAG_MAX; i++)
                printf("# %s\n", diag_get(d, i));
}

/* A config from YAML text (the real loader, so defaults are the real ones). */
static Config *config_from(const char *yaml)
{
        Config *c = NULL;
        Diag *d = diag_new();
        int r = config_load_buffer(yaml, strlen(yaml), "/etc/hearth/hearth.yaml", NULL, 0, &c, d);
        if (r < 0)
                diag_dump(d);
        assert_int_equal(r, 0);
        diag_free(d);
        return c;
}

/* The day number of a YYYY-MM-DD date. */
static int32_t day(const char *s)
{
        int32_t d;
        assert_int_equal(date_parse(s, &d), 0);
        return d;
}

/* base_doc with the JSON text patch (NULL: none) merged into it. */
static json_t *doc_with(const char *patch)
{
        json_t *doc = json_loads(base_doc, 0, NULL);
        assert_non_null(doc);
        if (patch) {
                json_error_t e;
                json_t *p = json_loads(patch, 0, &e);
                if (!p)
                        fail_msg("bad patch: %s: %s", e.text, patch);
                assert_int_equal(json_object_update_recursive(doc, p), 0);
                json_decref(p);
        }
        return doc;
}
