/* Unit tests of the rules (daemon/facts.c, daemon/rules.c,
 * daemon/ruletest.c): loading the shipped rules; a broken rule file that
 * must report every mistake at its file:line:col; the facts of a
 * household; every shipped rule on small documents (firing and just not
 * firing); runtime errors; config overrides; and the shipped rule tests
 * (rules/tests) through the runner, so `make test` runs them. Run from the
 * repository root. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "event.h"
#include "facts.h"
#include "household.h"
#include "rules.h"
#include "ruletest.h"

#include "shipped_rules.h"

#define RULES_DIR "rules"
#define TESTS_DIR "rules/tests"
#define SCHEMAS_DIR "schemas"

static bool diag_has(const Diag *d, const char *needle)
{
        for (unsigned i = 0; i < diag_count(d) && i < DIAG_MAX; i++)
                if (strstr(diag_get(d, i), needle))
                        return true;
        return false;
}

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

static int32_t day(const char *s)
{
        int32_t d;
        assert_int_equal(date_parse(s, &d), 0);
        return d;
}

/* --- loading ------------------------------------------------------------ */

static void test_load_shipped(void **state)
{
        (void)state;
        Diag *d = diag_new();
        RuleSet *rs = NULL;
        int r = rules_load_dir(RULES_DIR, NULL, &rs, d);
        diag_dump(d);
        assert_int_equal(r, 0);
        assert_int_equal(diag_count(d), 0);
        assert_int_equal(rules_count(rs), ELEMENTSOF(shipped));
        for (size_t i = 0; i < ELEMENTSOF(shipped); i++) {
                bool found = false;
                for (size_t k = 0; k < rules_count(rs); k++)
                        found = found || streq(rules_id(rs, k), shipped[i]);
                if (!found)
                        fail_msg("shipped rule %s is missing", shipped[i]);
        }
        int64_t v;
        assert_int_equal(rules_threshold(rs, "major_out_of_pocket", &v), 0);
        assert_int_equal(v, 2000000);
        assert_int_equal(rules_threshold(rs, "nope", &v), -ENOENT);
        assert_null(rules_id(rs, rules_count(rs)));
        assert_int_equal(rules_severity(rs, rules_count(rs)), -EINVAL);
        assert_null(rules_free(rs));
        assert_null(rules_free(NULL));
        diag_free(d);
}

/* Every mistake of this file must be reported, each at its place. */
static const char broken[] = "thresholds:\n"                                              /* 1 */
                             "  big: 100\n"                                               /* 2 */
                             "  bad: lots\n"                                              /* 3 */
                             "rules:\n"                                                   /* 4 */
                             "  - id: good_one\n"                                         /* 5 */
                             "    category: need\n"                                       /* 6 */
                             "    severity: yellow\n"                                     /* 7 */
                             "    when: open_needs > threshold.big\n"                     /* 8 */
                             "    evidence: {n: open_needs}\n"                            /* 9 */
                             "    message: {zh: \"有{n}项\", en: \"{n} needs\"}\n"        /* 10 */
                             "  - id: bad_key\n"                                          /* 11 */
                             "    category: need\n"                                       /* 12 */
                             "    severity: yellow\n"                                     /* 13 */
                             "    colour: red\n"                                          /* 14 */
                             "    when: open_needs > 0\n"                                 /* 15 */
                             "    message: {zh: x, en: y}\n"                              /* 16 */
                             "  - id: bad_severity\n"                                     /* 17 */
                             "    category: need\n"                                       /* 18 */
                             "    severity: orange\n"                                     /* 19 */
                             "    when: open_needs > 0\n"                                 /* 20 */
                             "    message: {zh: x, en: y}\n"                              /* 21 */
                             "  - id: type_error\n"                                       /* 22 */
                             "    category: illness\n"                                    /* 23 */
                             "    severity: red\n"                                        /* 24 */
                             "    when: medical_12m + \"abc\" > 0\n"                      /* 25 */
                             "    message: {zh: x, en: y}\n"                              /* 26 */
                             "  - id: unknown_var\n"                                      /* 27 */
                             "    category: illness\n"                                    /* 28 */
                             "    severity: red\n"                                        /* 29 */
                             "    when: |\n"                                              /* 30 */
                             "      medical_12m > 0\n"                                    /* 31 */
                             "        and nosuch_var > 3\n"                               /* 32 */
                             "    message: {zh: x, en: y}\n"                              /* 33 */
                             "  - id: placeholder\n"                                      /* 34 */
                             "    category: illness\n"                                    /* 35 */
                             "    severity: red\n"                                        /* 36 */
                             "    when: medical_12m > 0\n"                                /* 37 */
                             "    evidence: {m: medical_12m}\n"                           /* 38 */
                             "    message: {zh: \"医疗{m}元，{missing}\", en: \"{m}\"}\n" /* 39 */
                             "  - id: good_one\n"                                         /* 40 */
                             "    category: need\n"                                       /* 41 */
                             "    severity: yellow\n"                                     /* 42 */
                             "    when: open_needs > 0\n"                                 /* 43 */
                             "    message: {zh: x, en: y}\n"                              /* 44 */
                             "  - id: folded\n"                                           /* 45 */
                             "    category: sadness\n"                                    /* 46 */
                             "    severity: yellow\n"                                     /* 47 */
                             "    when: >-\n"                                             /* 48 */
                             "      open_needs > 0\n"                                     /* 49 */
                             "      and open_needs < \"x\"\n"                             /* 50 */
                             "    message: {zh: x}\n"                                     /* 51 */
                             "  - id: quoted\n"                                           /* 52 */
                             "    category: need\n"                                       /* 53 */
                             "    severity: yellow\n"                                     /* 54 */
                             "    when: \"open_needs >> 0\"\n"                            /* 55 */
                             "    evidence: {when: open_needs + true}\n"                  /* 56 */
                             "    respond_within: soon\n"                                 /* 57 */
                             "    message: {zh: \"{when\", en: \"x}\"}\n"                 /* 58 */
                             "  - id: Bad-Id\n"                                           /* 59 */
                             "    category: need\n"                                       /* 60 */
                             "    severity: yellow\n"                                     /* 61 */
                             "    message: {zh: x, en: y}\n"                              /* 62 */
                             "extra: 1\n";                                                /* 63 */

static void test_broken_file(void **state)
{
        (void)state;
        static const char *const want[] = {
            "r/bad.yaml:3:8: thresholds.bad: expected a number",
            "r/bad.yaml:14:5: rule bad_key: unknown key 'colour'",
            "r/bad.yaml:19:15: rule bad_severity: severity: unknown severity",
            "r/bad.yaml:25:23: rule type_error: when: '+' needs numbers, got string",
            "r/bad.yaml:32:13: rule unknown_var: when: unknown variable 'nosuch_var'",
            "r/bad.yaml:39:27: rule placeholder: message.zh: unknown placeholder {missing}",
            "r/bad.yaml:40:9: rule good_one: duplicate id (first defined at r/bad.yaml:5:9)",
            "r/bad.yaml:46:15: rule folded: category: unknown category",
            "r/bad.yaml:50:22: rule folded: when: '<' needs two numbers or two dates",
            "r/bad.yaml:51:14: rule folded: message.en is missing",
            "r/bad.yaml:55:24: rule quoted: when: expected a value, got '>'",
            "r/bad.yaml:56:33: rule quoted: evidence.when: '+' needs numbers",
            "r/bad.yaml:57:21: rule quoted: respond_within: expected a duration",
            "r/bad.yaml:58:20: rule quoted: message.zh: '{' without '}'",
            "r/bad.yaml:58:34: rule quoted: message.en: '}' without '{'",
            "r/bad.yaml:59:9: rules[9]: id: 1 to 64 characters",
            "r/bad.yaml:59:5: rule rules[9]: when is missing",
            "r/bad.yaml:63:1: unknown key 'extra'",
        };
        Diag *d = diag_new();
        RuleSet *rs = (RuleSet *)d; /* must be reset to NULL */
        int r = rules_load_buffer(broken, strlen(broken), "r/bad.yaml", NULL, &rs, d);
        diag_dump(d);
        assert_int_equal(r, -EINVAL);
        assert_null(rs);
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                if (!diag_has(d, want[i]))
                        fail_msg("missing diagnostic: %s", want[i]);
        assert_int_equal(diag_count(d), ELEMENTSOF(want));
        diag_free(d);
}

static void test_load_errors(void **state)
{
        (void)state;
        static const struct {
                const char *yaml;
                const char *want;
        } cases[] = {
            {"- a\n", "f.yaml:1:1: expected a mapping with rules:"},
            {"rules: 3\n", "f.yaml:1:8: rules: expected a list of rules"},
            {"rules: [3]\n", "f.yaml:1:9: rules[0]: expected a mapping"},
            {"rules:\n  - {id: x}\n", "f.yaml:2:5: rule x: category: missing"},
            {"rules:\n  - {id: x}\n", "f.yaml:2:5: rule x: message is missing"},
            {"rules:\n  - {id: x, category: need, severity: red, when: \"1\", message: {zh: a, "
             "en: b}}\n",
             "f.yaml:2:51: rule x: when: expression is a number, expected a bool"},
            {"rules:\n  - {id: x, category: need, severity: red, when: true, message: {zh: a, "
             "en: b, fr: c}}\n",
             "f.yaml:2:80: rule x: message: unknown language 'fr'"},
            {"rules:\n  - {id: x, category: need, severity: red, when: true, message: {zh: a, "
             "en: b}, evidence: {1x: today}}\n",
             "f.yaml:2:92: rule x: evidence: a name is 1 to 32 characters"},
            {"rules:\n  - {id: x, category: need, severity: red, when: , message: {zh: a, "
             "en: b}}\n",
             "rule x: when: expected an expression"},
            {"thresholds: {Big: 1}\n", "f.yaml:1:14: thresholds: a name is"},
            {"thresholds: [1]\n", "f.yaml:1:13: thresholds: expected a mapping"},
            {"rules:\n  - id: x\n    id: y\n", "duplicate"},
            {"rules: [\n", "f.yaml:2:1:"},
            {"a: &x 1\nb: *x\n", "anchors are not allowed"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Diag *d = diag_new();
                RuleSet *rs = NULL;
                int r =
                    rules_load_buffer(cases[i].yaml, strlen(cases[i].yaml), "f.yaml", NULL, &rs, d);
                if (r != -EINVAL || !diag_has(d, cases[i].want)) {
                        diag_dump(d);
                        fail_msg("case %zu: r=%d, wanted '%s'", i, r, cases[i].want);
                }
                assert_null(rs);
                diag_free(d);
        }
}

static void test_load_good_buffer(void **state)
{
        (void)state;
        const char *y = "# an empty rule list is allowed in a file\n"
                        "thresholds: {x: 1.5}\n"
                        "rules:\n"
                        "  - id: a.b-c_1\n"
                        "    category: need\n"
                        "    severity: monitor\n"
                        "    when: open_needs >= threshold.x\n"
                        "    evidence: {n: open_needs, d: today, s: status, b: registered}\n"
                        "    respond_within: 3d\n"
                        "    description: test\n"
                        "    message: {zh: \"{{n}}={n} {d} {s} {b}\", en: \"}}{n}{{\"}\n";
        Diag *d = diag_new();
        RuleSet *rs = NULL;
        int r = rules_load_buffer(y, strlen(y), "g.yaml", NULL, &rs, d);
        diag_dump(d);
        assert_int_equal(r, 0);
        assert_int_equal(rules_count(rs), 1);
        assert_string_equal(rules_id(rs, 0), "a.b-c_1");
        assert_int_equal(rules_severity(rs, 0), RULES_SEV_MONITOR);

        json_t *doc = json_loads("{\"registered\": true, \"profile\": {\"status\": \"marginal\", "
                                 "\"members\": [{}]}, \"needs\": {\"a\": {}, \"b\": {}}}",
                                 0, NULL);
        assert_non_null(doc);
        RulesResult res;
        assert_int_equal(rules_eval(rs, doc, day("2026-03-02"), NULL, 0, &res), 0);
        assert_int_equal(res.code, RULES_GREEN);
        assert_true(res.monitored);
        assert_int_equal(res.n_reasons, 1);
        assert_string_equal(res.reasons[0].message, "{n}=2 2026-03-02 marginal true");
        assert_int_equal(res.reasons[0].respond_within_ms, 3LL * 24 * 3600 * 1000);
        assert_string_equal(res.reasons[0].category, "need");
        rules_result_done(&res);
        assert_null(res.reasons);
        json_decref(doc);
        rules_free(rs);
        diag_free(d);

        /* An empty file has no rules and is not an error in a buffer. */
        d = diag_new();
        assert_int_equal(rules_load_buffer("", 0, "e.yaml", NULL, &rs, d), 0);
        assert_int_equal(rules_count(rs), 0);
        rules_free(rs);
        diag_free(d);
}

static void write_file(const char *dir, const char *name, const char *text)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void remove_file(const char *dir, const char *name)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        unlink(path);
}

/* A folder of files: all errors of all files, ids unique across files,
 * thresholds shared across files, name order. */
static void test_load_dir(void **state)
{
        (void)state;
        char dir[] = "/tmp/test_rules.XXXXXX", path[512];
        assert_non_null(mkdtemp(dir));
        static const struct {
                const char *name, *text;
        } files[] = {
            {"b.yaml", "rules:\n  - {id: two, category: need, severity: red, when: nope, "
                       "message: {zh: a, en: b}}\n"},
            {"a.yaml", "thresholds: {t: 5}\nrules:\n  - {id: one, category: need, severity: red, "
                       "when: open_needs > 0, message: {zh: a, en: b}}\n"},
            {"c.yaml", "rules:\n  - {id: one, category: need, severity: red, when: open_needs > "
                       "threshold.t, message: {zh: a, en: b}}\n"},
            {".hidden.yaml", "garbage: ["},
            {"notes.txt", "not a rule file"},
        };
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                write_file(dir, files[i].name, files[i].text);
        Diag *d = diag_new();
        RuleSet *rs = NULL;
        assert_int_equal(rules_load_dir(dir, NULL, &rs, d), -EINVAL);
        diag_dump(d);
        assert_int_equal(diag_count(d), 2);
        snprintf(path, sizeof(path), "%s/b.yaml:2:52: rule two: when: unknown variable 'nope'",
                 dir);
        assert_true(diag_has(d, path));
        snprintf(path, sizeof(path),
                 "%s/c.yaml:2:10: rule one: duplicate id (first defined at %s/a.yaml:3:10)", dir,
                 dir);
        assert_true(diag_has(d, path));
        diag_free(d);

        /* Without b and c it loads, in name order, 0.yaml using a threshold
         * that a.yaml defines. */
        remove_file(dir, "b.yaml");
        remove_file(dir, "c.yaml");
        write_file(dir, "0.yaml",
                   "rules:\n  - {id: zero, category: need, severity: red, when: open_needs > "
                   "threshold.t, message: {zh: a, en: b}}\n");
        d = diag_new();
        assert_int_equal(rules_load_dir(dir, NULL, &rs, d), 0);
        diag_dump(d);
        assert_int_equal(rules_count(rs), 2);
        assert_string_equal(rules_id(rs, 0), "zero");
        assert_string_equal(rules_id(rs, 1), "one");
        rules_free(rs);
        diag_free(d);

        /* No rule file at all is an error, and so is a missing folder. */
        remove_file(dir, "0.yaml");
        remove_file(dir, "a.yaml");
        d = diag_new();
        assert_int_equal(rules_load_dir(dir, NULL, &rs, d), -ENOENT);
        assert_true(diag_has(d, "no rule files"));
        diag_free(d);
        remove_file(dir, ".hidden.yaml");
        remove_file(dir, "notes.txt");
        assert_int_equal(rmdir(dir), 0);
        d = diag_new();
        assert_int_equal(rules_load_dir(dir, NULL, &rs, d), -ENOENT);
        assert_true(diag_has(d, "cannot open rules folder"));
        diag_free(d);
}

static void test_bounds(void **state)
{
        (void)state;
        /* More than RULES_MAX rules. */
        size_t cap = 200 * (RULES_MAX + 2);
        char *y = malloc(cap);
        assert_non_null(y);
        size_t k = (size_t)snprintf(y, cap, "rules:\n");
        for (int i = 0; i < RULES_MAX + 1; i++)
                k += (size_t)snprintf(y + k, cap - k,
                                      "  - {id: r%d, category: need, severity: red, when: true, "
                                      "message: {zh: a, en: b}}\n",
                                      i);
        Diag *d = diag_new();
        RuleSet *rs = NULL;
        assert_int_equal(rules_load_buffer(y, k, "big.yaml", NULL, &rs, d), -EINVAL);
        assert_true(diag_has(d, "more than 500 rules"));
        assert_int_equal(diag_count(d), 1);
        diag_free(d);

        /* A message longer than RULES_MAX_MESSAGE. */
        k = (size_t)snprintf(y, cap,
                             "rules:\n  - {id: r, category: need, severity: red, when: "
                             "true, message: {zh: a, en: \"");
        for (int i = 0; i < RULES_MAX_MESSAGE + 1; i++)
                y[k++] = 'x';
        k += (size_t)snprintf(y + k, cap - k, "\"}}\n");
        d = diag_new();
        assert_int_equal(rules_load_buffer(y, k, "long.yaml", NULL, &rs, d), -EINVAL);
        assert_true(diag_has(d, "message.en: longer than 1024 bytes"));
        diag_free(d);
        free(y);

        /* A file larger than RULES_MAX_FILE_BYTES. */
        d = diag_new();
        assert_int_equal(rules_load_buffer("", RULES_MAX_FILE_BYTES + 1, "huge.yaml", NULL, &rs, d),
                         -EFBIG);
        diag_free(d);
        assert_int_equal(rules_load_buffer(NULL, 0, "x", NULL, &rs, NULL), -EINVAL);
}

/* --- facts --------------------------------------------------------------- */

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

static void assert_num(const Facts *f, const char *name, int64_t want)
{
        const ExprValue *v = facts_get(f, name);
        assert_non_null(v);
        if (v->absent || v->type != EXPR_NUMBER || v->num != want)
                fail_msg("%s: wanted %lld, got %s%lld", name, (long long)want,
                         v->absent ? "absent " : "", (long long)v->num);
}

static void assert_absent(const Facts *f, const char *name)
{
        const ExprValue *v = facts_get(f, name);
        assert_non_null(v);
        if (!v->absent)
                fail_msg("%s: wanted absent", name);
}

static void test_facts(void **state)
{
        (void)state;
        json_t *doc = doc_with(
            "{\"incomes\": {\"2024\": 2000000, \"2025\": 3000000, \"x\": 5},"
            " \"months\": {\"2026-03\": {\"medical\": 4500000, \"education\": 100,"
            "  \"disability\": 200, \"disaster_loss\": 300, \"accident_loss\": 400,"
            "  \"relief\": 50000, \"other\": 7},"
            "  \"2025-03\": {\"medical\": 99999900}},"
            " \"programs\": {\"minimum_living\": {\"state\": \"exited\", \"exit_until\": "
            "\"2026-12-31\"}, \"marginal\": {\"state\": \"granted\"}},"
            " \"needs\": {\"n1\": {\"category\": \"housing\", \"channel\": \"self\", "
            "\"urgent\": true, \"reported_on\": \"2026-03-01T08:00:00+08:00\"},"
            "  \"n2\": {\"category\": \"water\", \"channel\": \"cadre\", \"urgent\": false}},"
            " \"last_visit\": {\"date\": \"2026-02-03\", \"checks\": {\"food_clothing\": "
            "\"ok\", \"education\": \"ok\", \"medical\": \"risk\", \"housing\": \"risk\", "
            "\"drinking_water\": \"ok\"}},"
            " \"incidents\": ["
            "  {\"kind\": \"accident\", \"date\": \"2026-03-01\", \"member_id\": \"m2\","
            "   \"labor_lost\": true, \"income_loss\": 100, \"medical_cost\": 5},"
            "  {\"kind\": \"accident\", \"date\": \"2026-03-03\", \"member_id\": \"m1\"},"
            "  {\"kind\": \"claim\", \"date\": \"2025-03-02\", \"major_disease\": true,"
            "   \"out_of_pocket\": 100},"
            "  {\"kind\": \"claim\", \"date\": \"2025-03-01\", \"major_disease\": true,"
            "   \"out_of_pocket\": 1000},"
            "  {\"kind\": \"claim\", \"date\": \"2026-03-02\", \"major_disease\": false,"
            "   \"out_of_pocket\": 10},"
            "  {\"kind\": \"disaster\", \"date\": \"bad\"}, {\"kind\": 3}, 7]}");
        Facts *f = facts_new();
        assert_non_null(f);
        int64_t th[2] = {123, 456};
        assert_int_equal(facts_fill(f, doc, day("2026-03-02"), 120, th, 2), 0);
        assert_num(f, "household_size", 300);
        assert_num(f, "income_last_year", 3600000);
        assert_num(f, "income_last_year_year", 202500);
        assert_num(f, "income_verified", 3000000);
        assert_num(f, "income_verified_year", 202500);
        assert_num(f, "income", 3000000);       /* verified of the same year wins */
        assert_num(f, "prior_income", 3000000); /* verified of last year wins */
        assert_num(f, "prior_income_year", 202500);
        assert_num(f, "medical_12m", 4500000);
        assert_num(f, "illness_12m", 4500000); /* the accidents carry no medical_12m months */
        assert_num(f, "rigid_12m", 4500300);
        assert_num(f, "income_loss_12m", 700);
        assert_num(f, "relief_12m", 50000);
        assert_num(f, "other_expense_12m", 7);
        assert_num(f, "major_disease_12m", 100); /* 365 days back counts, 366 does not */
        assert_num(f, "open_needs", 200);
        assert_num(f, "urgent_needs", 100);
        assert_num(f, "last_visit.risk_count", 200);
        assert_num(f, "monitor_factor", 120);
        assert_true(facts_get(f, "in_gradual_exit")->b);
        assert_string_equal(facts_get(f, "minimum_living")->s, "exited");
        assert_string_equal(facts_get(f, "marginal")->s, "granted");
        assert_absent(f, "extreme_poverty");
        assert_string_equal(facts_get(f, "last_visit.medical")->s, "risk");
        assert_null(facts_get(f, "no_such_variable"));

        /* Collections through the expression language itself. */
        FactsSymbols *sym = facts_symbols_new((const char *const[]){"a", "b"}, 2);
        assert_non_null(sym);
        ExprEnv env;
        ExprFloorLine lines[] = {{2022, 1000000}};
        facts_env(f, lines, 1, &env);
        static const struct {
                const char *src;
                ExprType type;
                int64_t want; /* number ×100, or bool 0/1, or date */
        } checks[] = {
            {"count(accidents, accident.member_labor == \"partial\")", EXPR_NUMBER, 100},
            /* the accident of 2026-03-03 is after today: not counted */
            {"count(accidents, true)", EXPR_NUMBER, 100},
            {"sum(claims, claim.out_of_pocket)", EXPR_NUMBER, 110},
            {"count(needs, need.reported_on == date(\"2026-03-01\"))", EXPR_NUMBER, 100},
            {"sum(members, coalesce(member.age, 0))", EXPR_NUMBER, 5100},
            {"count(members, member.student)", EXPR_NUMBER, 100},
            {"threshold.a + threshold.b", EXPR_NUMBER, 579},
            {"per_capita(income) < floor_line(year(today))", EXPR_BOOL, 0},
            {"present(last_visit.date) and town == \"温溪镇\"", EXPR_BOOL, 1},
            {"gradual_exit_until", EXPR_DATE, 0},
        };
        for (size_t i = 0; i < ELEMENTSOF(checks); i++) {
                ExprError err;
                Expr *e = expr_compile(checks[i].src, facts_symbols_get(sym), checks[i].type, &err);
                if (!e)
                        fail_msg("%s: %s", checks[i].src, err.msg);
                ExprValue v;
                assert_int_equal(expr_eval(e, &env, &v), 0);
                assert_false(v.absent);
                if (checks[i].type == EXPR_NUMBER && v.num != checks[i].want)
                        fail_msg("%s: wanted %lld, got %lld", checks[i].src,
                                 (long long)checks[i].want, (long long)v.num);
                if (checks[i].type == EXPR_BOOL && v.b != (checks[i].want != 0))
                        fail_msg("%s: wanted %lld", checks[i].src, (long long)checks[i].want);
                if (checks[i].type == EXPR_DATE)
                        assert_int_equal(v.date, day("2026-12-31"));
                expr_free(e);
        }

        json_t *j = facts_to_json(f);
        assert_non_null(j);
        assert_int_equal(json_integer_value(json_object_get(j, "medical_12m")), 45000);
        assert_true(json_is_null(json_object_get(j, "extreme_poverty")));
        assert_int_equal(json_array_size(json_object_get(j, "accidents")), 1);
        json_decref(j);

        /* An older verification does not replace last year's figure; an
         * empty document has zero sums and absent figures. */
        json_decref(doc);
        doc = doc_with("{\"incomes\": {\"2023\": 10}}");
        assert_int_equal(facts_fill(f, doc, day("2026-03-02"), 120, NULL, 0), 0);
        assert_num(f, "income", 3600000);
        assert_num(f, "income_verified", 10);
        assert_num(f, "prior_income", 3600000);
        assert_num(f, "prior_income_year", 202500);
        json_decref(doc);
        /* Accidents' medical costs are illness costs; the register's 2025
         * is nearer to last year (2026 at 2027-03-02) than a 2024
         * verification, a 2026 verification nearer still. */
        doc = doc_with("{\"incomes\": {\"2024\": 10},"
                       " \"months\": {\"2027-03\": {\"medical\": 100, \"accident_medical\": 20,"
                       " \"education\": 3, \"disability\": 4}}}");
        assert_int_equal(facts_fill(f, doc, day("2027-03-02"), 120, NULL, 0), 0);
        assert_num(f, "prior_income", 3600000);
        assert_num(f, "prior_income_year", 202500);
        assert_num(f, "illness_12m", 120);
        assert_num(f, "rigid_12m", 127);
        json_decref(doc);
        doc = doc_with("{\"incomes\": {\"2026\": 10, \"2027\": 20}}");
        assert_int_equal(facts_fill(f, doc, day("2027-03-02"), 120, NULL, 0), 0);
        assert_num(f, "prior_income", 10);
        assert_num(f, "prior_income_year", 202600);
        json_decref(doc);
        doc = json_object();
        assert_int_equal(facts_fill(f, doc, day("2026-03-02"), 120, NULL, 0), 0);
        assert_num(f, "household_size", 0);
        assert_num(f, "rigid_12m", 0);
        assert_absent(f, "income");
        assert_absent(f, "prior_income");
        assert_absent(f, "last_visit.date");
        assert_absent(f, "last_visit.risk_count");
        assert_absent(f, "gradual_exit_until");
        assert_false(facts_get(f, "in_gradual_exit")->b);
        assert_int_equal(facts_fill(f, doc, 0, 120, th, FACTS_MAX_THRESHOLDS + 1), -EINVAL);
        json_decref(doc);

        assert_null(facts_symbols_new(NULL, FACTS_MAX_THRESHOLDS + 1));
        facts_symbols_free(sym);
        assert_null(facts_free(f));
}

/* The README documents every variable and collection field. */
static void test_readme_documents_variables(void **state)
{
        (void)state;
        FILE *f = fopen(RULES_DIR "/README.md", "r");
        assert_non_null(f);
        static char text[256 * 1024];
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        text[n] = '\0';
        char buf[128], quoted[160];
        FactsHelp h;
        for (size_t i = 0; facts_help(i, buf, sizeof(buf), &h) == 0; i++) {
                /* Fields are documented as `field` under their collection. */
                const char *name = strchr(h.name, '.') && strncmp(h.name, "last_visit.", 11) != 0
                                       ? strchr(h.name, '.') + 1
                                       : h.name;
                snprintf(quoted, sizeof(quoted), "`%s`", name);
                if (!strstr(text, quoted))
                        fail_msg("rules/README.md does not document %s", h.name);
        }
        for (size_t i = 0; i < ELEMENTSOF(shipped); i++) {
                snprintf(quoted, sizeof(quoted), "`%s`", shipped[i]);
                if (!strstr(text, quoted))
                        fail_msg("rules/README.md does not list rule %s", shipped[i]);
        }
}

/* --- every shipped rule on small documents ------------------------------ */

typedef struct {
        const char *name;
        const char *patch; /* merged into base_doc */
        const char *date;
        const char *code;
        const char *reasons; /* space-separated ids, in rule order */
        bool monitored;
        const char *figures[4]; /* must appear in the message of the first reason */
} EvalCase;

/* base_doc: 3 members, 36000 last year (12000 per person = the watch line). */
static const EvalCase eval_cases[] = {
    {"plain household", NULL, "2026-03-02", "green", "", false, {NULL}},
    {"income_below_line and income_cut_by_disaster fire",
     "{\"months\": {\"2026-03\": {\"disaster_loss\": 600001}}}",
     "2026-03-02",
     "red",
     "income_below_line income_cut_by_disaster income_near_line",
     true,
     {"6000.01", "9999.99", "10000"}},
    {"income_below_line fires without a loss",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 2999997}}}",
     "2026-03-02",
     "yellow",
     "income_below_line income_near_line",
     true,
     {"29999.97", "9999.99", "10000"}},
    {"income_below_line fires with a verified income of last year",
     "{\"incomes\": {\"2025\": 2999997}}",
     "2026-03-02",
     "yellow",
     "income_below_line income_near_line",
     true,
     {"29999.97", "9999.99", "10000"}},
    {"income_cut_by_disaster just not (already below, loss under 20%)",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 2700000}},"
     " \"months\": {\"2026-03\": {\"accident_loss\": 539999}}}",
     "2026-03-02",
     "yellow",
     "income_below_line income_near_line",
     true,
     {"27000", "5399.99", "7200"}},
    {"income_cut_by_disaster fires (already below, loss of 20%)",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 2700000}},"
     " \"months\": {\"2026-03\": {\"accident_loss\": 540000}}}",
     "2026-03-02",
     "red",
     "income_below_line income_cut_by_disaster income_near_line",
     true,
     {"27000", "5400", "7200"}},
    {"income_below_line just not",
     "{\"months\": {\"2026-03\": {\"accident_loss\": 600000}}}",
     "2026-03-02",
     "green",
     "income_near_line",
     true,
     {"10000", "12000"}},
    {"income_near_line fires",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 3599997}}}",
     "2026-03-02",
     "green",
     "income_near_line",
     true,
     {"11999.99", "12000", "1.2"}},
    {"rigid illness fires",
     "{\"months\": {\"2026-03\": {\"medical\": 4500000}}}",
     "2026-03-02",
     "red",
     "rigid_expenditure_illness",
     false,
     {"45000", "36000"}},
    {"rigid illness just not",
     "{\"months\": {\"2026-03\": {\"medical\": 3600000}}}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"rigid illness counts accident medical costs",
     "{\"months\": {\"2026-03\": {\"medical\": 1600001, \"accident_medical\": 2000000}}}",
     "2026-03-02",
     "red",
     "rigid_expenditure_illness",
     false,
     {"36000.01", "16000.01", "20000"}},
    {"rigid illness against the verified income of last year",
     "{\"incomes\": {\"2025\": 4500000}, \"months\": {\"2026-03\": {\"medical\": 4500001}}}",
     "2026-03-02",
     "red",
     "rigid_expenditure_illness",
     false,
     {"45000.01", "45000"}},
    {"rigid illness just not (the verified income of last year wins over the register's)",
     "{\"incomes\": {\"2025\": 4500000}, \"months\": {\"2026-03\": {\"medical\": 4000000}}}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"rigid disability fires (yellow, key monitoring)",
     "{\"months\": {\"2026-03\": {\"medical\": 1000000, \"disability\": 2600001}}}",
     "2026-03-02",
     "yellow",
     "rigid_expenditure_disability",
     true,
     {"36000.01", "26000.01", "36000"}},
    {"rigid education fires (yellow, key monitoring)",
     "{\"months\": {\"2026-03\": {\"disability\": 1000000, \"education\": 2600001}}}",
     "2026-03-02",
     "yellow",
     "rigid_expenditure_education",
     true,
     {"36000.01", "26000.01", "36000"}},
    {"rigid education tie goes to disability",
     "{\"months\": {\"2026-03\": {\"disability\": 1800001, \"education\": 1800001}}}",
     "2026-03-02",
     "yellow",
     "rigid_expenditure_disability",
     true,
     {NULL}},
    {"major_disease_claim fires",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"claim\", \"date\": \"2026-03-01\", \"major_disease\": true, \"out_of_pocket\": 2000000}]}",
     "2026-03-02",
     "red",
     "major_disease_claim",
     false,
     {"1", "20000"}},
    {"major_disease_claim just not",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"claim\", \"date\": \"2026-03-01\", \"major_disease\": true, \"out_of_pocket\": 1999999}]}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"disaster_severe fires",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"disaster\", \"date\": \"2026-03-01\", \"house_damage\": \"collapsed\", \"deaths\": 0, "
     "\"injured\": 2, \"income_loss\": 0, \"property_loss\": 0}]}",
     "2026-03-02",
     "red",
     "disaster_severe disaster_damage",
     false,
     {"1", "2"}},
    {"disaster_severe just not (moderate damage is disaster_damage)",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"disaster\", \"date\": \"2026-03-01\", \"house_damage\": \"moderate\", \"deaths\": 0, "
     "\"injured\": 1, \"income_loss\": 999999, \"property_loss\": 4499999}]}",
     "2026-03-02",
     "yellow",
     "disaster_damage",
     false,
     {"1"}},
    {"disaster_severe fires by property loss of half a year's income",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"disaster\", \"date\": \"2026-03-01\", \"house_damage\": \"none\", \"deaths\": 0, "
     "\"injured\": 0, \"income_loss\": 0, \"property_loss\": 4500000}],"
     " \"months\": {\"2026-03\": {\"property_loss\": 4500000}}}",
     "2026-03-02",
     "red",
     "disaster_severe disaster_damage",
     false,
     {"45000", "90000"}},
    {"disaster_damage just not",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"disaster\", \"date\": \"2026-03-01\", \"house_damage\": \"minor\", \"deaths\": 0, "
     "\"injured\": 0, \"income_loss\": 0, \"property_loss\": 499999}]}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"accident_labor fires",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"accident\", \"date\": \"2026-03-01\", \"member_id\": \"m1\", \"labor_lost\": true, "
     "\"income_loss\": 0}], \"months\": {\"2026-03\": {\"accident_medical\": 800000}}}",
     "2026-03-02",
     "red",
     "accident_labor",
     false,
     {"1", "8000"}},
    {"accident_labor fires by medical costs",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"accident\", \"date\": \"2026-03-01\", \"member_id\": \"m3\", \"labor_lost\": false, "
     "\"income_loss\": 0, \"medical_cost\": 2000000}], \"months\": {\"2026-03\": "
     "{\"accident_medical\": 2000000}}}",
     "2026-03-02",
     "red",
     "accident_labor",
     false,
     {"1", "20000"}},
    {"accident_labor just not (medical costs)",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"accident\", \"date\": \"2026-03-01\", \"member_id\": \"m3\", \"labor_lost\": false, "
     "\"income_loss\": 0, \"medical_cost\": 1999999}]}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"accident_labor just not (member did not work)",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 9000000}}, \"incidents\": [{\"kind\": "
     "\"accident\", \"date\": \"2026-03-01\", \"member_id\": \"m3\", \"labor_lost\": true, "
     "\"income_loss\": 999999}]}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"open_need fires",
     "{\"needs\": {\"n1\": {\"urgent\": false}, \"n2\": {\"urgent\": true}}}",
     "2026-03-02",
     "yellow",
     "open_need urgent_need",
     false,
     {"2", "1"}},
    {"urgent_need fires, open_need just not",
     "{\"needs\": {\"n1\": {\"urgent\": true}}}",
     "2026-03-02",
     "yellow",
     "urgent_need",
     false,
     {"1"}},
    {"visit_guarantee_risk fires",
     "{\"last_visit\": {\"date\": \"2026-02-03\", \"checks\": {\"food_clothing\": \"ok\", "
     "\"education\": \"ok\", \"medical\": \"ok\", \"housing\": \"risk\", \"drinking_water\": "
     "\"ok\"}}}",
     "2026-03-02",
     "yellow",
     "visit_guarantee_risk",
     false,
     {"2026-02-03", "1"}},
    {"visit_guarantee_risk just not",
     "{\"last_visit\": {\"date\": \"2026-02-03\", \"checks\": {\"food_clothing\": \"ok\", "
     "\"education\": \"ok\", \"medical\": \"ok\", \"housing\": \"ok\", \"drinking_water\": "
     "\"ok\"}}}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"special_members fires",
     "{\"profile\": {\"members\": [{\"id\": \"m1\", \"disability_grade\": 2}]}}",
     "2026-03-02",
     "green",
     "special_members",
     true,
     {"1"}},
    {"special_members just not",
     "{\"profile\": {\"income_last_year\": {\"disposable\": 1200000}, \"members\": [{\"id\": "
     "\"m1\", \"disability_grade\": 3, \"serious_illness\": false, \"incapacitated\": false}]}}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"gradual_exit fires",
     "{\"programs\": {\"marginal\": {\"state\": \"exited\", \"exit_until\": \"2026-03-02\"}}}",
     "2026-03-02",
     "green",
     "gradual_exit",
     true,
     {"2026-03-02"}},
    {"gradual_exit just not",
     "{\"programs\": {\"marginal\": {\"state\": \"exited\", \"exit_until\": \"2026-03-01\"}}}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
    {"not registered is green",
     "{\"registered\": false, \"needs\": {\"n1\": {}}}",
     "2026-03-02",
     "green",
     "",
     false,
     {NULL}},
};

static void check_eval(const RuleSet *rs, const EvalCase *c, bool english)
{
        json_t *doc = doc_with(c->patch);
        ExprFloorLine lines[] = {{2022, 1000000}};
        RulesResult res;
        char got[1024] = "";
        size_t k = 0;

        assert_int_equal(rules_eval(rs, doc, day(c->date), lines, 1, &res), 0);
        for (size_t i = 0; i < res.n_reasons; i++)
                k += (size_t)snprintf(got + k, sizeof(got) - k, "%s%s", i ? " " : "",
                                      res.reasons[i].rule);
        if (!streq(rules_code_to_string(res.code), c->code) || !streq(got, c->reasons) ||
            res.monitored != c->monitored)
                fail_msg("%s: wanted %s [%s]%s, got %s [%s]%s", c->name, c->code, c->reasons,
                         c->monitored ? " monitored" : "", rules_code_to_string(res.code), got,
                         res.monitored ? " monitored" : "");
        if (res.n_errors > 0)
                fail_msg("%s: runtime error in %s: %s", c->name, res.errors[0].rule,
                         expr_strerror(res.errors[0].error));
        for (size_t i = 0; i < ELEMENTSOF(c->figures) && c->figures[i]; i++)
                if (!strstr(res.reasons[0].message, c->figures[i]))
                        fail_msg("%s: the %s message of %s lacks %s: %s", c->name,
                                 english ? "en" : "zh", res.reasons[0].rule, c->figures[i],
                                 res.reasons[0].message);
        rules_result_done(&res);
        json_decref(doc);
}

static void test_eval_shipped(void **state)
{
        (void)state;
        Config *en = config_from("policy:\n  language: en\n");
        RuleSet *zh_rs = NULL, *en_rs = NULL;
        Diag *d = diag_new();
        assert_int_equal(rules_load_dir(RULES_DIR, NULL, &zh_rs, d), 0);
        assert_int_equal(rules_load_dir(RULES_DIR, en, &en_rs, d), 0);
        /* Every shipped rule fires in some case and misses in another. */
        bool fires[ELEMENTSOF(shipped)] = {0};
        for (size_t i = 0; i < ELEMENTSOF(eval_cases); i++) {
                check_eval(zh_rs, &eval_cases[i], false);
                check_eval(en_rs, &eval_cases[i], true);
                for (size_t s = 0; s < ELEMENTSOF(shipped); s++)
                        if (strstr(eval_cases[i].reasons, shipped[s]))
                                fires[s] = true;
        }
        for (size_t s = 0; s < ELEMENTSOF(shipped); s++)
                if (!fires[s])
                        fail_msg("no case fires %s", shipped[s]);
        rules_free(zh_rs);
        rules_free(en_rs);
        config_free(en);
        diag_free(d);
}

/* The output reasons: CONTRACT.md's shape, money as yuan numbers. */
static void test_reasons_json(void **state)
{
        (void)state;
        RuleSet *rs = NULL;
        assert_int_equal(rules_load_dir(RULES_DIR, NULL, &rs, NULL), 0);
        json_t *doc = doc_with("{\"months\": {\"2026-03\": {\"medical\": 4500050}}}");
        ExprFloorLine lines[] = {{2022, 1000000}};
        RulesResult res;
        assert_int_equal(rules_eval(rs, doc, day("2026-03-02"), lines, 1, &res), 0);
        assert_int_equal(res.code, RULES_RED);
        assert_int_equal(res.n_reasons, 1);
        assert_string_equal(
            res.reasons[0].message,
            "近12个月刚性支出45000.5元（医疗自付45000.5元，意外医疗0元），超过2025年"
            "家庭可支配收入36000元");
        json_t *arr = rules_result_reasons_json(&res);
        assert_non_null(arr);
        json_t *r0 = json_array_get(arr, 0);
        assert_string_equal(json_string_value(json_object_get(r0, "rule")),
                            "rigid_expenditure_illness");
        assert_string_equal(json_string_value(json_object_get(r0, "category")), "illness");
        assert_string_equal(json_string_value(json_object_get(r0, "severity")), "red");
        json_t *ev = json_object_get(r0, "evidence");
        assert_true(json_is_real(json_object_get(ev, "rigid")));
        assert_true(json_real_value(json_object_get(ev, "rigid")) == 45000.5);
        assert_int_equal(json_integer_value(json_object_get(ev, "income")), 36000);
        assert_int_equal(json_integer_value(json_object_get(ev, "income_year")), 2025);
        assert_int_equal(json_integer_value(json_object_get(ev, "education")), 0);
        json_decref(arr);
        rules_result_done(&res);
        rules_result_done(&res); /* twice is harmless */
        json_decref(doc);
        rules_free(rs);
}

/* --- runtime errors -------------------------------------------------------- */

static void test_runtime_errors(void **state)
{
        (void)state;
        const char *y =
            "rules:\n"
            "  - {id: div, category: need, severity: red, when: medical_12m / open_needs > 0,"
            " message: {zh: a, en: a}}\n"
            "  - {id: line, category: need, severity: red,"
            " when: floor_line(year(today)) > 0, message: {zh: a, en: a}}\n"
            "  - {id: over, category: need, severity: red,"
            " when: 90000000000000000 * 90000000000000000 > 0, message: {zh: a, en: a}}\n"
            "  - {id: percap, category: need, severity: red,"
            " when: per_capita(10) > 0, message: {zh: a, en: a}}\n"
            "  - {id: ev, category: need, severity: yellow, when: true,"
            " evidence: {x: 1 / open_needs, y: income},"
            " message: {zh: \"x={x} y={y}\", en: \"x={x} y={y}\"}}\n";
        RuleSet *rs = NULL;
        Diag *d = diag_new();
        int r = rules_load_buffer(y, strlen(y), "rt.yaml", NULL, &rs, d);
        diag_dump(d);
        assert_int_equal(r, 0);
        /* No floor lines, no members, no needs. */
        json_t *doc = json_loads("{\"registered\": true}", 0, NULL);
        RulesResult res;
        assert_int_equal(rules_eval(rs, doc, day("2026-03-02"), NULL, 0, &res), 0);
        assert_int_equal(res.code, RULES_YELLOW);
        assert_int_equal(res.n_reasons, 1);
        assert_string_equal(res.reasons[0].rule, "ev");
        assert_string_equal(res.reasons[0].message, "x=未知 y=未知");
        assert_true(json_is_null(json_object_get(res.reasons[0].evidence, "x")));
        assert_int_equal(res.n_errors, 5);
        static const struct {
                const char *rule, *what;
                int error;
        } want[] = {
            {"div", "when", EXPR_ERR_DIV_ZERO},      {"line", "when", EXPR_ERR_NO_LINE},
            {"over", "when", EXPR_ERR_OVERFLOW},     {"percap", "when", EXPR_ERR_DIV_ZERO},
            {"ev", "evidence.x", EXPR_ERR_DIV_ZERO},
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                assert_string_equal(res.errors[i].rule, want[i].rule);
                assert_string_equal(res.errors[i].what, want[i].what);
                assert_int_equal(res.errors[i].error, want[i].error);
        }
        rules_result_done(&res);
        json_decref(doc);

        /* A malformed document (wrong types everywhere) is absent data, not
         * a crash. */
        doc = json_loads("{\"registered\": true, \"profile\": {\"members\": [1, \"x\", {\"labor\": "
                         "3, \"disability_grade\": \"a\", \"birth_year\": 99999999999999999}],"
                         " \"income_last_year\": {\"year\": \"x\", \"disposable\": 1.5}},"
                         " \"months\": [1], \"needs\": [], \"incidents\": {}, \"incomes\": {\"99999"
                         "999999\": 1}, \"last_visit\": 5, \"programs\": {\"marginal\": 1}}",
                         0, NULL);
        assert_non_null(doc);
        assert_int_equal(rules_eval(rs, doc, day("2026-03-02"), NULL, 0, &res), 0);
        rules_result_done(&res);
        assert_int_equal(rules_eval(rs, doc, 0, NULL, 0, NULL), -EINVAL);
        assert_int_equal(rules_eval(NULL, doc, 0, NULL, 0, &res), -EINVAL);
        rules_result_done(&res);
        json_decref(doc);

        /* The shipped rules on the malformed document never crash either. */
        RuleSet *sh = NULL;
        assert_int_equal(rules_load_dir(RULES_DIR, NULL, &sh, NULL), 0);
        doc = json_loads("{\"registered\": true, \"profile\": {\"members\": [{}], "
                         "\"income_last_year\": {\"disposable\": 9223372036854775807}},"
                         " \"incomes\": {\"2025\": -9223372036854775807}}",
                         0, NULL);
        ExprFloorLine lines[] = {{2022, 1000000}};
        assert_int_equal(rules_eval(sh, doc, day("2026-03-02"), lines, 1, &res), 0);
        rules_result_done(&res);
        json_decref(doc);
        rules_free(sh);
        rules_free(rs);
        diag_free(d);
}

/* --- config overrides ------------------------------------------------------ */

static void test_config_thresholds(void **state)
{
        (void)state;
        Config *c = config_from("policy:\n  thresholds:\n    major_out_of_pocket: 30000\n"
                                "    rigid_ratio: 1.25\n  monitor_factor: 1.5\n");
        RuleSet *rs = NULL;
        Diag *d = diag_new();
        assert_int_equal(rules_load_dir(RULES_DIR, c, &rs, d), 0);
        int64_t v;
        assert_int_equal(rules_threshold(rs, "major_out_of_pocket", &v), 0);
        assert_int_equal(v, 3000000);
        assert_int_equal(rules_threshold(rs, "rigid_ratio", &v), 0);
        assert_int_equal(v, 125);
        assert_int_equal(rules_threshold(rs, "disaster_income_loss", &v), 0);
        assert_int_equal(v, 1000000);

        /* A 25000 major claim is below the configured 30000, and 20000 per
         * person is above the watch line 10000 x 1.5; 14000 is below it. */
        json_t *doc = doc_with("{\"profile\": {\"income_last_year\": {\"disposable\": 6000000}},"
                               " \"incidents\": [{\"kind\": \"claim\", \"date\": \"2026-03-01\","
                               " \"major_disease\": true, \"out_of_pocket\": 2500000}]}");
        ExprFloorLine lines[] = {{2022, 1000000}};
        RulesResult res;
        assert_int_equal(rules_eval(rs, doc, day("2026-03-02"), lines, 1, &res), 0);
        assert_int_equal(res.code, RULES_GREEN);
        assert_int_equal(res.n_reasons, 0);
        rules_result_done(&res);
        json_decref(doc);
        doc = doc_with("{\"profile\": {\"income_last_year\": {\"disposable\": 4200000}}}");
        assert_int_equal(rules_eval(rs, doc, day("2026-03-02"), lines, 1, &res), 0);
        assert_true(res.monitored);
        assert_int_equal(res.n_reasons, 1);
        assert_non_null(strstr(res.reasons[0].message, "15000"));
        rules_result_done(&res);
        json_decref(doc);
        rules_free(rs);
        config_free(c);

        /* A threshold no rule defines, and a bad number, are errors. */
        c = config_from("policy:\n  thresholds:\n    major_out_of_pocke: 30000\n"
                        "    rigid_ratio: lots\n");
        assert_int_equal(rules_load_dir(RULES_DIR, c, &rs, d), -EINVAL);
        diag_dump(d);
        assert_null(rs);
        assert_true(diag_has(d, "/etc/hearth/hearth.yaml: policy.thresholds.major_out_of_pocke: "
                                "no rule file defines this threshold"));
        assert_true(diag_has(d, "policy.thresholds.rigid_ratio: expected a number"));
        assert_int_equal(diag_count(d), 2);
        config_free(c);
        diag_free(d);
}

/* --- the rule test runner -------------------------------------------------- */

/* Runs the runner into a string; returns its result. */
static int run_ruletest(const char *tests, const char *rules, const Config *cfg, char **text)
{
        size_t len;
        FILE *out = open_memstream(text, &len);
        assert_non_null(out);
        int r = ruletest_run_dir(tests, rules, SCHEMAS_DIR, cfg, out);
        fclose(out);
        /* Indented, so TAP readers of this binary do not count its lines. */
        for (char *line = *text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
                nl = strchr(line, '\n');
                printf("#   %.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
        }
        return r;
}

static void test_shipped_rule_tests(void **state)
{
        (void)state;
        char *text = NULL;
        int r = run_ruletest(TESTS_DIR, RULES_DIR, NULL, &text);
        assert_int_equal(r, 0);
        assert_non_null(strstr(text, "- coverage: every rule is expected to fire"));
        assert_null(strstr(text, "not ok"));
        free(text);
}

static void test_rule_test_failures(void **state)
{
        (void)state;
        char dir[] = "/tmp/test_ruletest.XXXXXX";
        assert_non_null(mkdtemp(dir));
        const char *hh = "household:\n"
                         "  town: t\n  village: v\n  cadre: {id: c}\n  status: low_income\n"
                         "  income_last_year: {year: 2025, disposable: 36000}\n"
                         "  members:\n"
                         "    - {id: m1, labor: full, disability_grade: 0, serious_illness: false,"
                         " incapacitated: false, student: false}\n";
        char text[4096];
        snprintf(text, sizeof(text),
                 "%scases:\n"
                 "  - name: wrong expectation\n"
                 "    steps:\n"
                 "      - expect: {code: green}\n"
                 "      - event:\n"
                 "          type: expense.reported\n"
                 "          data: {category: medical, amount: 45000, incurred_on: 2026-01-02}\n"
                 "        expect: {code: yellow, reasons: [open_need]}\n"
                 "  - name: right expectation\n"
                 "    steps:\n"
                 "      - event: {type: need.reported, data: {need_id: n, channel: self,"
                 " category: water, urgent: false}}\n"
                 "        expect: {code: yellow, reasons: [open_need], monitored: false}\n"
                 "  - name: message lacks a figure\n"
                 "    steps:\n"
                 "      - event: {type: need.reported, data: {need_id: n, channel: self,"
                 " category: water, urgent: false}}\n"
                 "        expect: {messages: {open_need: [\"99项\"]}}\n"
                 "  - name: an event that does not decode\n"
                 "    steps:\n"
                 "      - event: {type: need.reported, data: {need_id: n}}\n",
                 hh);
        write_file(dir, "t.yaml", text);
        char *out = NULL;
        int r = run_ruletest(dir, RULES_DIR, NULL, &out);
        assert_int_equal(r, 5); /* 3 cases and the two coverage lines */
        assert_non_null(strstr(out, "not ok 1 - t.yaml: wrong expectation: step 2: expected "
                                    "yellow [open_need], got red [rigid_expenditure_illness] not "
                                    "monitored\n"));
        assert_non_null(strstr(out, "ok 2 - t.yaml: right expectation\n"));
        assert_non_null(strstr(out, "not ok 3 - t.yaml: message lacks a figure: step 1: message "
                                    "of open_need lacks \"99项\""));
        assert_non_null(strstr(out, "not ok 4 - t.yaml: an event that does not decode: step 1: "
                                    "event does not decode: data"));
        assert_non_null(strstr(out, "not ok 5 - coverage: no case that names them or where they "
                                    "fire expects these rules silent: "));
        assert_non_null(strstr(out, "not ok 6 - coverage: no case expects these rules to fire: "));
        assert_non_null(strstr(out, "income_below_line"));
        assert_non_null(strstr(out, "1..6\n"));
        assert_non_null(strstr(out, "# 6 rule tests in 1 files: 1 passed, 5 failed\n"));
        free(out);

        /* A malformed test file is a load error with file:line:col. */
        write_file(dir, "t.yaml",
                   "cases:\n  - name: x\n    steps:\n      - expect: {code: "
                   "blue, reasons: nope}\n        colour: 1\n");
        r = run_ruletest(dir, RULES_DIR, NULL, &out);
        assert_int_equal(r, -EINVAL);
        assert_non_null(strstr(out, "t.yaml:4:24: expect.code: green, yellow or red"));
        assert_non_null(strstr(out, "t.yaml:4:39: expect.reasons: expected a list"));
        assert_non_null(strstr(out, "t.yaml:5:9: step: unknown key 'colour'"));
        free(out);

        /* Broken rules are a load error too. */
        r = run_ruletest(dir, "/nonexistent", NULL, &out);
        assert_true(r < 0);
        free(out);
        remove_file(dir, "t.yaml");
        assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_load_shipped),
            cmocka_unit_test(test_broken_file),
            cmocka_unit_test(test_load_errors),
            cmocka_unit_test(test_load_good_buffer),
            cmocka_unit_test(test_load_dir),
            cmocka_unit_test(test_bounds),
            cmocka_unit_test(test_facts),
            cmocka_unit_test(test_readme_documents_variables),
            cmocka_unit_test(test_eval_shipped),
            cmocka_unit_test(test_reasons_json),
            cmocka_unit_test(test_runtime_errors),
            cmocka_unit_test(test_config_thresholds),
            cmocka_unit_test(test_shipped_rule_tests),
            cmocka_unit_test(test_rule_test_failures),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
