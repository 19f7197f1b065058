/* hearthctl's rule commands: preview of candidate rules over the households
 * in Redis, and the rule tests. */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "preview.h"
#include "rules.h"
#include "ruletest.h"

static void preview_progress(size_t done, void *u)
{
        int64_t *t0 = u;
        double s = (double)(clock_mono_ms() - *t0) / 1000.0;
        fprintf(stderr, "\rpreview: %zu households read, %.0f/s ", done, s > 0 ? done / s : 0);
}

/* preview --rules DIR: the candidate rules against the config's, over every
 * household's state in Redis; reads only (SCAN, GET). */
int ctl_preview(const CtlArgs *a, const Config *cfg)
{
        const char *format = a->format ? a->format : a->json ? "json" : "text";
        const char *by = a->by ? a->by : "town";
        if (!streq(format, "text") && !streq(format, "json") && !streq(format, "csv")) {
                fprintf(stderr, "hearthctl: --format must be text, json or csv\n");
                return EXIT_USAGE;
        }
        if (!streq(by, "town") && !streq(by, "village")) {
                fprintf(stderr, "hearthctl: --by must be town or village\n");
                return EXIT_USAGE;
        }
        Diag *d = diag_new();
        RuleSet *current = NULL, *candidate = NULL;
        Redis *redis = NULL;
        Store *store = NULL;
        Preview *p = NULL;
        int ret = EXIT_FAILURE;
        ExprFloorLine *lines = calloc(cfg->n_floor_lines + 1, sizeof(ExprFloorLine));
        if (!d || !lines)
                goto out;
        if (rules_load_dir(cfg->rules_dir, cfg, &current, d) < 0 ||
            rules_load_dir(a->rules, cfg, &candidate, d) < 0) {
                diag_print(d, stderr, "hearthctl: ");
                goto out;
        }
        rules_floor_lines(cfg, lines, cfg->n_floor_lines);
        p = preview_new(current, candidate, lines, cfg->n_floor_lines,
                        streq(by, "village") ? PREVIEW_BY_VILLAGE : PREVIEW_BY_TOWN);
        if (!p || !(store = ctl_store(a, cfg, &redis)))
                goto out;
        int64_t t0 = clock_mono_ms();
        int r = preview_run(p, store, (int32_t)(clock_wall_ms() / 86400000LL),
                            isatty(STDERR_FILENO) ? preview_progress : NULL, &t0);
        if (isatty(STDERR_FILENO))
                fprintf(stderr, "\n");
        if (r < 0) {
                fprintf(stderr, "hearthctl: preview: %s\n", store_errstr(store));
                goto out;
        }
        if (streq(format, "json")) {
                json_t *j = preview_json(p);
                json_object_set_new(j, "current", json_string(cfg->rules_dir));
                json_object_set_new(j, "candidate", json_string(a->rules));
                json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
                printf("\n");
                json_decref(j);
        } else if (streq(format, "csv")) {
                preview_write_csv(p, stdout);
        } else {
                printf("preview of the rules in %s against %s (by %s)\n", a->rules, cfg->rules_dir,
                       by);
                preview_write_text(p, stdout);
        }
        ret = EXIT_SUCCESS;
out:
        preview_free(p);
        store_free(store);
        redis_free(redis);
        rules_free(current);
        rules_free(candidate);
        free(lines);
        diag_free(d);
        return ret;
}

/* test-rules [DIR]: the rule tests of DIR/tests against DIR's rules. */
int ctl_test_rules(const Config *cfg, const char *dir)
{
        const char *rules_dir = dir ? dir : cfg->rules_dir;
        char tests[4096];
        snprintf(tests, sizeof(tests), "%s/tests", rules_dir);
        int r = ruletest_run_dir(tests, rules_dir, cfg->schemas_dir, cfg, stdout);
        if (r < 0) {
                fprintf(stderr, "hearthctl: test-rules %s: %s\n", rules_dir, strerror(-r));
                return EXIT_FAILURE;
        }
        return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
