/* Unit tests of daemon/preview.c without Redis: the colour a household has
 * under each rule set as the lifecycle gives it (a resolution's suppressed
 * rule does not count while its evidence is the same; a reopened alert is
 * at least yellow), households skipped, the causes and examples of each
 * change, the groups by town and by village, JSON and CSV. Run from the
 * repository root. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "event.h"
#include "preview.h"
#include "rules.h"

static const ExprFloorLine lines[] = {{2022, 1000000}};

/* A registered household of 3 with 45000 yuan last year, medical costs of
 * `medical` fen in March 2026, in town/village. */
static json_t *household(const char *town, const char *village, long medical)
{
        json_t *d = json_pack(
            "{s:b, s:s, s:{s:s, s:s, s:{s:i, s:i}, s:[{s:s}, {s:s}, {s:s}]}, s:{s:{s:i}}}",
            "registered", 1, "latest", "2026-03-02", "profile", "town", town, "village", village,
            "income_last_year", "year", 2025, "disposable", 4500000, "members", "id", "m1", "id",
            "m2", "id", "m3", "months", "2026-03", "medical", (int)medical);
        assert_non_null(d);
        return d;
}

static RuleSet *load(const char *yaml)
{
        Config *cfg = NULL;
        Diag *d = diag_new();
        assert_int_equal(config_load_buffer(yaml, strlen(yaml), "/etc/h.yaml", NULL, 0, &cfg, d),
                         0);
        RuleSet *rs = NULL;
        assert_int_equal(rules_load_dir("rules", cfg, &rs, d), 0);
        config_free(cfg);
        diag_free(d);
        return rs;
}

static void test_preview(void **state)
{
        (void)state;
        RuleSet *cur = load("");
        RuleSet *cand = load("policy:\n  thresholds:\n    rigid_ratio: 0.8\n");
        Preview *p = preview_new(cur, cand, lines, 1, PREVIEW_BY_TOWN);
        assert_non_null(p);
        int32_t today;
        assert_int_equal(date_parse("2026-03-02", &today), 0);

        /* 40000 of costs: over 0.8 x 45000 = 36000, not over 45000. */
        json_t *a = household("温溪镇", "东岸村", 4000000);
        json_t *b = household("温溪镇", "西山村", 4000000);
        json_t *c = household("鹤城街道", "南坑村", 3000000); /* below both */
        /* Resolved with help: the candidate's reason has the same evidence. */
        json_t *s = household("温溪镇", "东岸村", 4000000);
        RulesResult r;
        assert_int_equal(rules_eval(cand, s, today, lines, 1, &r), 0);
        assert_int_equal(r.n_reasons, 1);
        json_object_set_new(s, "suppressed",
                            json_pack("{s:O}", r.reasons[0].rule, r.reasons[0].evidence));
        rules_result_done(&r);
        /* A low score reopened its alert: yellow under both, red under the
         * candidate. */
        json_t *o = household("鹤城街道", "南坑村", 4000000);
        json_object_set_new(o, "alert", json_pack("{s:{s:s}}", "reopen", "rule", "x"));
        json_t *u = household("鹤城街道", "南坑村", 4000000);
        json_object_set_new(u, "registered", json_false());
        json_object_set_new(a, "eval", json_pack("{s:s}", "code", "red")); /* stale */

        assert_int_equal(preview_add(p, "A", a, today), 0);
        assert_int_equal(preview_add(p, "B", b, today), 0);
        assert_int_equal(preview_add(p, "C", c, today), 0);
        assert_int_equal(preview_add(p, "S", s, today), 0);
        assert_int_equal(preview_add(p, "O", o, today), 0);
        assert_int_equal(preview_add(p, "U", u, today), 0);

        json_t *j = preview_json(p);
        char *text = json_dumps(j, JSON_COMPACT);
        printf("# %s\n", text);
        free(text);
        assert_int_equal(json_integer_value(json_object_get(j, "households")), 5);
        assert_int_equal(json_integer_value(json_object_get(j, "skipped")), 1);
        assert_int_equal(json_integer_value(json_object_get(j, "stale")), 1);
        json_t *total = json_object_get(j, "total");
        json_t *moves = json_object_get(total, "moves");
        assert_int_equal(json_array_size(moves), 2);
        json_t *g2r = json_array_get(moves, 0), *y2r = json_array_get(moves, 1);
        assert_string_equal(json_string_value(json_object_get(g2r, "from")), "green");
        assert_string_equal(json_string_value(json_object_get(g2r, "to")), "red");
        assert_int_equal(json_integer_value(json_object_get(g2r, "households")), 2); /* A, B */
        assert_int_equal(json_integer_value(json_object_get(json_object_get(g2r, "causes"),
                                                            "+rigid_expenditure_illness")),
                         2);
        assert_int_equal(json_array_size(json_object_get(g2r, "examples")), 2);
        assert_string_equal(json_string_value(json_object_get(y2r, "from")), "yellow");
        assert_int_equal(json_integer_value(json_object_get(y2r, "households")), 1); /* O */
        assert_string_equal(json_string_value(json_array_get(json_object_get(y2r, "examples"), 0)),
                            "O");
        /* Groups by town, in name order. */
        json_t *groups = json_object_get(j, "groups");
        assert_int_equal(json_array_size(groups), 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(groups, 0), "name")),
                            "温溪镇");
        assert_int_equal(
            json_integer_value(json_object_get(json_array_get(groups, 0), "households")), 3);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(groups, 0), "changed")),
                         2);
        json_decref(j);

        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        preview_write_csv(p, f);
        fclose(f);
        printf("# %s", buf);
        assert_non_null(strstr(buf, "group,from,to,households,causes,examples\n"));
        assert_non_null(strstr(buf, "温溪镇,green,red,2,+rigid_expenditure_illness:2,A B\n"));
        assert_non_null(strstr(buf, "all,yellow,red,1,+rigid_expenditure_illness:1,O\n"));
        free(buf);
        f = open_memstream(&buf, &len);
        preview_write_text(p, f);
        fclose(f);
        assert_non_null(strstr(buf, "all: 5 households, 3 would change colour"));
        free(buf);
        preview_free(p);

        /* By village. */
        p = preview_new(cur, cand, lines, 1, PREVIEW_BY_VILLAGE);
        assert_int_equal(preview_add(p, "A", a, today), 0);
        assert_int_equal(preview_add(p, "B", b, today), 0);
        j = preview_json(p);
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(json_object_get(j, "groups"), 0), "name")),
                            "温溪镇/东岸村");
        json_decref(j);
        preview_free(p);

        json_decref(a);
        json_decref(b);
        json_decref(c);
        json_decref(s);
        json_decref(o);
        json_decref(u);
        rules_free(cur);
        rules_free(cand);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_preview),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
