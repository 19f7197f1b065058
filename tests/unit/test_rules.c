/* Unit tests of loading rules (daemon/rules.c) and of the rule test runner. */
/* Loading the shipped rules; a broken rule file that must report every
 * mistake at its file:line:col; load errors, folders and bounds; config
 * overrides of the thresholds; and the shipped rule tests (rules/tests)
 * through the runner (daemon/ruletest.c), so `make test` runs them. Run
 * from the repository root. Facts and evaluation are in test_rules_eval.c,
 * the shared helpers in rules_fixture.h. */
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
#include "rules.h"
#include "ruletest.h"

#include "rules_fixture.h"

#define TESTS_DIR "rules/tests"
#define SCHEMAS_DIR "schemas"

static bool diag_has(const Diag *d, const char *needle)
{
        for (unsigned i = 0; i < diag_count(d) && i < DIAG_MAX; i++)
                if (strstr(diag_get(d, i), needle))
                        return true;
        return false;
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
            cmocka_unit_test(test_load_shipped),       cmocka_unit_test(test_broken_file),
            cmocka_unit_test(test_load_errors),        cmocka_unit_test(test_load_good_buffer),
            cmocka_unit_test(test_load_dir),           cmocka_unit_test(test_bounds),
            cmocka_unit_test(test_config_thresholds),  cmocka_unit_test(test_shipped_rule_tests),
            cmocka_unit_test(test_rule_test_failures),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
