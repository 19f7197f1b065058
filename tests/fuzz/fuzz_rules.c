/* Fuzz target: the rule loader (rules_load_buffer) on one rule file, with
 * the YAML tree under it (ytree_parse) and rule evaluation (rules_eval).
 *
 * Oracles:
 * - never crashes, and loading ends in bounded time (-timeout);
 * - YAML alias bombs and deep nesting are refused: a file whose event stream
 *   (read independently with libyaml) has an alias, an anchor or a node
 *   nested deeper than YTREE_MAX_DEPTH does not load;
 * - a refusal has diagnostics, each "fuzz.yaml:<line>:<col>: ..." or
 *   "fuzz.yaml: ..."; an acceptance has none;
 * - an accepted file loads twice identically: same rule ids, severities,
 *   thresholds, and the same evaluation of two households;
 * - an accepted file round-trips: its tree emitted again as YAML parses to
 *   the same tree and loads to the same rule set. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <yaml.h>

#include "diag.h"
#include "event.h"
#include "expr.h"
#include "fuzz_util.h"
#include "rules.h"
#include "ytree.h"

#define FILE_NAME "fuzz.yaml"

static json_t *docs[2];
static int32_t today;
static const ExprFloorLine lines[] = {{2024, 900000}, {2026, 1000000}};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        /* The household of tests/unit/test_rules_eval.c: 3 members, 36000 yuan
         * last year; the second also lost 6000.01 yuan to a disaster. */
        static const char base[] =
            "{\"registered\": true, \"removed\": false,"
            " \"profile\": {\"town\": \"温溪镇\", \"village\": \"东岸村\", \"status\": "
            "\"low_income\","
            "  \"income_last_year\": {\"year\": 2025, \"disposable\": 3600000},"
            "  \"members\": ["
            "   {\"id\": \"m1\", \"labor\": \"full\", \"birth_year\": 1975, \"disability_grade\": "
            "0,"
            "    \"serious_illness\": false, \"incapacitated\": false, \"student\": false},"
            "   {\"id\": \"m2\", \"labor\": \"partial\", \"disability_grade\": 0,"
            "    \"serious_illness\": false, \"incapacitated\": false, \"student\": false},"
            "   {\"id\": \"m3\", \"labor\": \"none\", \"disability_grade\": 0,"
            "    \"serious_illness\": false, \"incapacitated\": false, \"student\": true}]}}";
        docs[0] = json_loads(base, 0, NULL);
        docs[1] = json_loads(base, 0, NULL);
        json_t *patch = json_loads("{\"months\": {\"2026-03\": {\"disaster_loss\": 600001, "
                                   "\"medical\": 4500000}}}",
                                   0, NULL);
        if (!docs[0] || !docs[1] || !patch || json_object_update(docs[1], patch) < 0 ||
            date_parse("2026-03-02", &today) < 0)
                abort();
        json_decref(patch);
        return 0;
}

/* ---- independent YAML scan ----------------------------------------------- */

typedef struct {
        bool alias, anchor;
        unsigned max_depth;
} Scan;

static void yaml_scan(const uint8_t *data, size_t size, Scan *s)
{
        yaml_parser_t p;
        unsigned depth = 0;
        *s = (Scan){0};
        if (!yaml_parser_initialize(&p))
                abort();
        yaml_parser_set_input_string(&p, data, size);
        for (;;) {
                yaml_event_t e;
                if (!yaml_parser_parse(&p, &e))
                        break;
                yaml_event_type_t t = e.type;
                if (t == YAML_ALIAS_EVENT)
                        s->alias = true;
                if ((t == YAML_SCALAR_EVENT && e.data.scalar.anchor) ||
                    (t == YAML_SEQUENCE_START_EVENT && e.data.sequence_start.anchor) ||
                    (t == YAML_MAPPING_START_EVENT && e.data.mapping_start.anchor))
                        s->anchor = true;
                if (t == YAML_SCALAR_EVENT || t == YAML_ALIAS_EVENT ||
                    t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT)
                        if (depth + 1 > s->max_depth)
                                s->max_depth = depth + 1;
                if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT)
                        depth++;
                if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT)
                        depth--;
                yaml_event_delete(&e);
                if (t == YAML_STREAM_END_EVENT)
                        break;
        }
        yaml_parser_delete(&p);
}

/* ---- the tree emitted again ---------------------------------------------- */

typedef struct {
        char *buf;
        size_t len, cap;
} Buf;

static int buf_write(void *data, unsigned char *b, size_t n)
{
        Buf *o = data;
        if (o->len + n + 1 > o->cap) {
                size_t cap = (o->len + n + 1) * 2;
                char *nb = realloc(o->buf, cap);
                if (!nb)
                        abort();
                o->buf = nb;
                o->cap = cap;
        }
        memcpy(o->buf + o->len, b, n);
        o->len += n;
        o->buf[o->len] = '\0';
        return 1;
}

static bool emit_node(yaml_emitter_t *em, const YNode *n)
{
        yaml_event_t e;
        switch (n->type) {
        case YNODE_SCALAR:
                yaml_scalar_event_initialize(
                    &e, NULL, NULL, (yaml_char_t *)n->scalar, (int)n->len, 1, 1,
                    n->plain ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
                return yaml_emitter_emit(em, &e);
        case YNODE_SEQ:
                yaml_sequence_start_event_initialize(&e, NULL, NULL, 1, YAML_ANY_SEQUENCE_STYLE);
                if (!yaml_emitter_emit(em, &e))
                        return false;
                for (size_t i = 0; i < n->n; i++)
                        if (!emit_node(em, n->items[i]))
                                return false;
                yaml_sequence_end_event_initialize(&e);
                return yaml_emitter_emit(em, &e);
        case YNODE_MAP:
                yaml_mapping_start_event_initialize(&e, NULL, NULL, 1, YAML_ANY_MAPPING_STYLE);
                if (!yaml_emitter_emit(em, &e))
                        return false;
                for (size_t i = 0; i < 2 * n->n; i++)
                        if (!emit_node(em, n->items[i]))
                                return false;
                yaml_mapping_end_event_initialize(&e);
                return yaml_emitter_emit(em, &e);
        }
        return false;
}

/* The YAML text of tree root (NULL: an empty document), or NULL when the
 * emitter refuses it. */
static char *emit(const YNode *root, size_t *len)
{
        yaml_emitter_t em;
        yaml_event_t e;
        Buf o = {0};
        bool ok;
        if (!yaml_emitter_initialize(&em))
                abort();
        yaml_emitter_set_output(&em, buf_write, &o);
        yaml_emitter_set_unicode(&em, 1);
        yaml_emitter_set_width(&em, -1);
        yaml_stream_start_event_initialize(&e, YAML_UTF8_ENCODING);
        ok = yaml_emitter_emit(&em, &e);
        if (ok && root) {
                yaml_document_start_event_initialize(&e, NULL, NULL, NULL, 1);
                ok = yaml_emitter_emit(&em, &e) && emit_node(&em, root);
                yaml_document_end_event_initialize(&e, 1);
                ok = ok && yaml_emitter_emit(&em, &e);
        }
        yaml_stream_end_event_initialize(&e);
        ok = ok && yaml_emitter_emit(&em, &e) && yaml_emitter_flush(&em);
        yaml_emitter_delete(&em);
        if (!ok) {
                free(o.buf);
                return NULL;
        }
        *len = o.len;
        return o.buf ? o.buf : strdup("");
}

static bool tree_equal(const YNode *a, const YNode *b)
{
        if (!a || !b)
                return a == b;
        if (a->type != b->type || a->n != b->n)
                return false;
        if (a->type == YNODE_SCALAR)
                return a->len == b->len && a->plain == b->plain &&
                       memcmp(a->scalar, b->scalar, a->len) == 0;
        size_t cnt = a->type == YNODE_MAP ? 2 * a->n : a->n;
        for (size_t i = 0; i < cnt; i++)
                if (!tree_equal(a->items[i], b->items[i]))
                        return false;
        return true;
}

/* ---- rule sets --------------------------------------------------------- */

static void check_diag(const Diag *d, int r)
{
        unsigned n = diag_count(d);
        if (r == 0) {
                ORACLE(n == 0, "accepted with %u diagnostics: %s", n, diag_get(d, 0));
                return;
        }
        ORACLE(n > 0, "refused (%d) without a diagnostic", r);
        for (unsigned i = 0; i < n && i < DIAG_MAX; i++) {
                const char *m = diag_get(d, i);
                ORACLE(strncmp(m, FILE_NAME ":", strlen(FILE_NAME) + 1) == 0 ||
                           strcmp(m, "<input>: out of memory") == 0,
                       "diagnostic without the file: %s", m);
                ORACLE(!strchr(m, '\n'), "diagnostic of two lines: %s", m);
        }
}

static json_t *evaluate(const RuleSet *rs, const json_t *doc)
{
        RulesResult res = {0};
        int r = rules_eval(rs, doc, today, lines, ELEMENTSOF(lines), &res);
        ORACLE(r == 0, "rules_eval returned %d", r);
        json_t *j = json_pack("{s:s, s:b, s:o, s:I}", "code", rules_code_to_string(res.code),
                              "monitored", res.monitored, "reasons",
                              rules_result_reasons_json(&res), "errors", (json_int_t)res.n_errors);
        ORACLE(j, "result to JSON");
        for (size_t i = 0; i < res.n_errors; i++)
                ORACLE(res.errors[i].rule && res.errors[i].what, "error without a rule");
        rules_result_done(&res);
        return j;
}

/* Both sets have the same rules and thresholds and evaluate alike. */
static void check_same_set(const RuleSet *a, const RuleSet *b, const YNode *root, const char *what)
{
        ORACLE(rules_count(a) == rules_count(b), "%s: %zu rules, then %zu", what, rules_count(a),
               rules_count(b));
        for (size_t i = 0; i < rules_count(a); i++) {
                ORACLE(strcmp(rules_id(a, i), rules_id(b, i)) == 0, "%s: rule %zu id", what, i);
                ORACLE(rules_severity(a, i) == rules_severity(b, i), "%s: severity", what);
        }
        const YNode *th = ynode_get(root, "thresholds");
        for (size_t i = 0; th && th->type == YNODE_MAP && i < th->n; i++) {
                const char *name = ynode_key(th, i)->scalar;
                int64_t x = -1, y = -2;
                ORACLE(rules_threshold(a, name, &x) == 0 && rules_threshold(b, name, &y) == 0 &&
                           x == y,
                       "%s: threshold %s", what, name);
        }
        for (size_t d = 0; d < ELEMENTSOF(docs); d++) {
                json_t *ra = evaluate(a, docs[d]), *rb = evaluate(b, docs[d]);
                ORACLE(json_equal(ra, rb), "%s: evaluations differ", what);
                json_decref(ra);
                json_decref(rb);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        Scan scan;
        RuleSet *rs = NULL;
        Diag *d = diag_new();
        if (!d)
                abort();

        int r = rules_load_buffer((const char *)data, size, FILE_NAME, NULL, &rs, d);
        ORACLE((r == 0) == (rs != NULL), "rules_load_buffer returned %d and %p", r, (void *)rs);
        check_diag(d, r);
        if (getenv("FUZZ_VERBOSE"))
                fprintf(stderr, "fuzz_rules: %d, %zu rules%s%s\n", r, rules_count(rs),
                        r < 0 ? ": " : "", r < 0 ? diag_get(d, 0) : "");

        yaml_scan(data, size, &scan);
        if (scan.alias || scan.anchor || scan.max_depth > YTREE_MAX_DEPTH)
                ORACLE(r < 0, "accepted a file with %s",
                       scan.alias    ? "an alias"
                       : scan.anchor ? "an anchor"
                                     : "deep nesting");
        if (r < 0) {
                diag_free(d);
                return 0;
        }

        /* Loads twice identically. */
        YNode *root = NULL;
        ORACLE(ytree_parse((const char *)data, size, FILE_NAME, &root, d) == 0,
               "loads, but its YAML does not parse");
        RuleSet *rs2 = NULL;
        ORACLE(rules_load_buffer((const char *)data, size, FILE_NAME, NULL, &rs2, d) == 0,
               "loads once, not twice");
        check_same_set(rs, rs2, root, "loaded twice");
        rules_free(rs2);

        /* Round trip through the tree emitted again. */
        size_t len = 0;
        char *text = emit(root, &len);
        YNode *root2 = NULL;
        Diag *d2 = diag_new();
        if (text && ytree_parse(text, len, FILE_NAME, &root2, d2) == 0 && tree_equal(root, root2)) {
                rs2 = NULL;
                r = rules_load_buffer(text, len, FILE_NAME, NULL, &rs2, d2);
                ORACLE(r == 0, "the emitted tree does not load: %s\n%s", diag_get(d2, 0), text);
                check_same_set(rs, rs2, root, "emitted again");
                rules_free(rs2);
        }
        ytree_free(root2);
        diag_free(d2);
        free(text);
        ytree_free(root);
        rules_free(rs);
        diag_free(d);
        return 0;
}
