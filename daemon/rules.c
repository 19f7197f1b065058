/* Loading rule files: thresholds and rules from YAML compiled into a RuleSet,
 * every mistake reported at file:line:col. */
#include "rules.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "event.h"
#include "facts.h"
#include "household.h"
#include "fsutil.h"
#include "rules_impl.h"
#include "ytree.h"

static const char *const categories[] = {
    "illness",  "disability",  "education", "disaster",
    "accident", "income_drop", "guarantee", "need",
};

static const char *const severities[] = {
    [RULES_SEV_YELLOW] = "yellow",
    [RULES_SEV_RED] = "red",
    [RULES_SEV_MONITOR] = "monitor",
};

static const char *const codes[] = {
    [RULES_GREEN] = "green",
    [RULES_YELLOW] = "yellow",
    [RULES_RED] = "red",
};

/* Message languages, in the order of Rule.msg[]. */
static const char *const languages[] = {"zh", "en"};

const char *rules_code_to_string(RulesCode c)
{
        return (unsigned)c < ELEMENTSOF(codes) ? codes[c] : "invalid";
}

int rules_code_from_string(const char *s)
{
        for (size_t i = 0; s && i < ELEMENTSOF(codes); i++)
                if (streq(codes[i], s))
                        return (int)i;
        return -EINVAL;
}

const char *rules_severity_to_string(RulesSeverity s)
{
        return (unsigned)s < ELEMENTSOF(severities) ? severities[s] : "invalid";
}

static void rule_done(Rule *r)
{
        free(r->id);
        expr_free(r->when);
        for (size_t i = 0; i < r->n_evidence; i++)
                expr_free(r->evidence[i].expr);
        free(r->evidence);
        for (size_t l = 0; l < N_LANG; l++) {
                free(r->msg[l].text);
                free(r->msg[l].pieces);
        }
        free(r->description);
        *r = (Rule){0};
}

RuleSet *rules_free(RuleSet *rs)
{
        if (!rs)
                return NULL;
        for (size_t i = 0; i < rs->n_rules; i++)
                rule_done(&rs->rules[i]);
        free(rs->rules);
        for (size_t i = 0; i < rs->n_thresholds; i++) {
                free(rs->thresholds[i].name);
                free(rs->thresholds[i].file);
        }
        free(rs->thresholds);
        free(rs->threshold_values);
        clear_set_free(rs->clear);
        facts_symbols_free(rs->symbols);
        free(rs);
        return NULL;
}

size_t rules_count(const RuleSet *rs)
{
        return rs ? rs->n_rules : 0;
}

const char *rules_id(const RuleSet *rs, size_t i)
{
        return rs && i < rs->n_rules ? rs->rules[i].id : NULL;
}

int rules_severity(const RuleSet *rs, size_t i)
{
        return rs && i < rs->n_rules ? (int)rs->rules[i].severity : -EINVAL;
}

int rules_threshold(const RuleSet *rs, const char *name, int64_t *ret)
{
        for (size_t i = 0; rs && name && i < rs->n_thresholds; i++)
                if (streq(rs->thresholds[i].name, name)) {
                        *ret = rs->thresholds[i].value;
                        return 0;
                }
        return -ENOENT;
}

void rules_floor_lines(const Config *cfg, ExprFloorLine *lines, size_t n)
{
        for (size_t i = 0; cfg && i < n && i < cfg->n_floor_lines; i++)
                lines[i] = (ExprFloorLine){cfg->floor_lines[i].year, cfg->floor_lines[i].fen};
}

/* --- loading ---------------------------------------------------------- */

typedef struct {
        Diag *diag;
        const Config *cfg;
        RuleSet *rs;
        size_t cap_rules;
        bool too_many; /* RULES_MAX reported once */
        /* where each rule id was first defined, parallel to rs->rules */
        struct {
                const char *file;
                unsigned line, col;
        } * where;
} Loader;

#define ERR(L, src, node, ...)                                                                     \
        diag_add((L)->diag, (src)->path, (node) ? (node)->line : 0, (node) ? (node)->col : 0,      \
                 __VA_ARGS__)

static bool name_valid(const char *s, size_t max, bool dots)
{
        size_t n = strlen(s);
        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                          (dots && (c == '.' || c == '-'));
                if (!ok)
                        return false;
        }
        /* Evidence and threshold names are expression identifiers. */
        return dots || !(s[0] >= '0' && s[0] <= '9');
}

static int lookup(const char *const *names, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (streq(names[i], s))
                        return (int)i;
        return -1;
}

/* Reads the `thresholds:` map of a file into the loader's set. */
static void load_thresholds(Loader *L, const Source *src, const YNode *map)
{
        RuleSet *rs = L->rs;

        if (map->type != YNODE_MAP) {
                ERR(L, src, map, "thresholds: expected a mapping of name: number");
                return;
        }
        for (size_t i = 0; i < map->n; i++) {
                const YNode *k = ynode_key(map, i), *v = ynode_value(map, i);
                int64_t x;
                if (k->type != YNODE_SCALAR ||
                    !name_valid(k->scalar, FACTS_MAX_THRESHOLD_NAME, false)) {
                        ERR(L, src, k,
                            "thresholds: a name is 1 to %d characters of a-z, 0-9 and _, "
                            "not starting with a digit",
                            FACTS_MAX_THRESHOLD_NAME);
                        continue;
                }
                if (v->type != YNODE_SCALAR || config_parse_fixed2(v->scalar, &x) < 0) {
                        ERR(L, src, v,
                            "thresholds.%s: expected a number (at most 2 decimals, not "
                            "negative)",
                            k->scalar);
                        continue;
                }
                const Threshold *dup = NULL;
                for (size_t t = 0; t < rs->n_thresholds; t++)
                        if (streq(rs->thresholds[t].name, k->scalar))
                                dup = &rs->thresholds[t];
                if (dup) {
                        ERR(L, src, k, "thresholds.%s: already defined at %s:%u:%u", k->scalar,
                            dup->file, dup->line, dup->col);
                        continue;
                }
                if (rs->n_thresholds >= FACTS_MAX_THRESHOLDS) {
                        ERR(L, src, k, "thresholds: more than %d thresholds", FACTS_MAX_THRESHOLDS);
                        return;
                }
                Threshold *nt = realloc(rs->thresholds, (rs->n_thresholds + 1) * sizeof(Threshold));
                if (!nt) {
                        ERR(L, src, k, "out of memory");
                        return;
                }
                rs->thresholds = nt;
                Threshold *t = &nt[rs->n_thresholds];
                *t = (Threshold){strdup(k->scalar), x, strdup(src->path), k->line, k->col};
                if (!t->name || !t->file) {
                        free(t->name);
                        free(t->file);
                        ERR(L, src, k, "out of memory");
                        return;
                }
                rs->n_thresholds++;
        }
}

/* Applies config policy.thresholds over the files' defaults. */
static void apply_config_thresholds(Loader *L)
{
        const Config *cfg = L->cfg;
        const char *file = cfg && cfg->path ? cfg->path : "config";

        for (size_t i = 0; cfg && i < cfg->n_thresholds; i++) {
                const ConfigPair *p = &cfg->thresholds[i];
                Threshold *t = NULL;
                int64_t x;
                for (size_t k = 0; k < L->rs->n_thresholds; k++)
                        if (streq(L->rs->thresholds[k].name, p->key))
                                t = &L->rs->thresholds[k];
                if (!t) {
                        diag_add(L->diag, file, 0, 0,
                                 "policy.thresholds.%s: no rule file defines this threshold",
                                 p->key);
                        continue;
                }
                if (!p->value || config_parse_fixed2(p->value, &x) < 0) {
                        diag_add(L->diag, file, 0, 0,
                                 "policy.thresholds.%s: expected a number with at most 2 "
                                 "decimals, got '%s'",
                                 p->key, p->value ? p->value : "");
                        continue;
                }
                t->value = x;
        }
}

/* Compiles the expression in scalar n; on error reports it inside the
 * scalar, prefixed with what ("rule x: when"). want < 0: any type (tried in
 * turn; the number attempt's error is reported when none fits). */
static Expr *compile_at(Loader *L, const Source *src, const YNode *n, int want, const char *what)
{
        if (n->type != YNODE_SCALAR || ynode_is_null(n)) {
                ERR(L, src, n, "%s: expected an expression (a string)", what);
                return NULL;
        }
        const ExprSymbols *sym = facts_symbols_get(L->rs->symbols);
        ExprError err, first = {0};
        Expr *e = NULL;
        if (want >= 0)
                e = expr_compile(n->scalar, sym, (ExprType)want, &first);
        else {
                static const ExprType order[] = {EXPR_NUMBER, EXPR_DATE, EXPR_STRING, EXPR_BOOL};
                for (size_t i = 0; !e && i < ELEMENTSOF(order); i++) {
                        e = expr_compile(n->scalar, sym, order[i], i == 0 ? &first : &err);
                        if (!e && first.code == -ENOMEM)
                                break;
                }
        }
        if (e)
                return e;
        unsigned line, col;
        rules_scalar_pos(src, n, rules_expr_offset(n->scalar, n->len, first.line, first.col), &line,
                         &col);
        diag_add(L->diag, src->path, line, col, "%s: %s", what, first.msg);
        return NULL;
}

/* Parses template n into t, checking each {name} against the evidence. */
static int parse_template(Loader *L, const Source *src, const YNode *n, const Rule *r,
                          const char *lang, Template *t)
{
        if (n->type != YNODE_SCALAR || n->len == 0) {
                ERR(L, src, n, "rule %s: message.%s: expected a text", r->id, lang);
                return -EINVAL;
        }
        if (strlen(n->scalar) != n->len) {
                ERR(L, src, n, "rule %s: message.%s: contains a NUL character", r->id, lang);
                return -EINVAL;
        }
        if (n->len > RULES_MAX_MESSAGE) {
                ERR(L, src, n, "rule %s: message.%s: longer than %d bytes", r->id, lang,
                    RULES_MAX_MESSAGE);
                return -EINVAL;
        }
        /* Each byte starts at most one piece. */
        t->pieces = calloc(n->len + 1, sizeof(Piece));
        t->text = strdup(n->scalar);
        if (!t->pieces || !t->text) {
                ERR(L, src, n, "out of memory");
                return -ENOMEM;
        }
        const char *s = t->text;
        size_t i = 0, lit = 0;
        int r_ = 0;
#define FLUSH(upto)                                                                                \
        do {                                                                                       \
                if ((upto) > lit)                                                                  \
                        t->pieces[t->n_pieces++] = (Piece){lit, (upto)-lit, -1};                   \
        } while (0)
        while (i < n->len) {
                unsigned line, col;
                if ((s[i] == '{' && s[i + 1] == '{') || (s[i] == '}' && s[i + 1] == '}')) {
                        /* An escaped brace: keep one of the two. */
                        FLUSH(i + 1);
                        i += 2;
                        lit = i;
                        continue;
                }
                if (s[i] == '}') {
                        rules_scalar_pos(src, n, i, &line, &col);
                        diag_add(L->diag, src->path, line, col,
                                 "rule %s: message.%s: '}' without '{' (write '}}' for a brace)",
                                 r->id, lang);
                        r_ = -EINVAL;
                        i++;
                        continue;
                }
                if (s[i] != '{') {
                        i++;
                        continue;
                }
                const char *close = strchr(s + i, '}');
                if (!close) {
                        rules_scalar_pos(src, n, i, &line, &col);
                        diag_add(L->diag, src->path, line, col,
                                 "rule %s: message.%s: '{' without '}' (write '{{' for a brace)",
                                 r->id, lang);
                        r_ = -EINVAL;
                        break;
                }
                size_t nlen = (size_t)(close - (s + i)) - 1;
                int found = -1;
                for (size_t e = 0; e < r->n_evidence; e++)
                        if (strlen(r->evidence[e].name) == nlen &&
                            strncmp(r->evidence[e].name, s + i + 1, nlen) == 0)
                                found = (int)e;
                if (found < 0) {
                        rules_scalar_pos(src, n, i, &line, &col);
                        diag_add(L->diag, src->path, line, col,
                                 "rule %s: message.%s: unknown placeholder {%.*s}: not an "
                                 "evidence name",
                                 r->id, lang, (int)(nlen > 64 ? 64 : nlen), s + i + 1);
                        r_ = -EINVAL;
                } else {
                        FLUSH(i);
                        t->pieces[t->n_pieces++] = (Piece){0, 0, found};
                }
                i += nlen + 2;
                lit = i;
        }
        FLUSH(n->len);
#undef FLUSH
        return r_;
}

static const char *const rule_keys[] = {
    "id",      "category",       "severity",    "when",    "evidence",
    "message", "respond_within", "description", "monitor",
};

/* Where the rule with this id was defined, or NULL. */
static int find_rule(const Loader *L, const char *id)
{
        for (size_t i = 0; i < L->rs->n_rules; i++)
                if (streq(L->rs->rules[i].id, id))
                        return (int)i;
        return -1;
}

static int parse_evidence(Loader *L, const Source *src, const YNode *ev, Rule *r)
{
        int ret = 0;
        char what[128];

        if (ev->type != YNODE_MAP) {
                ERR(L, src, ev, "rule %s: evidence: expected a mapping of name: expression", r->id);
                return -EINVAL;
        }
        if (ev->n > RULES_MAX_EVIDENCE) {
                ERR(L, src, ev, "rule %s: evidence: more than %d entries", r->id,
                    RULES_MAX_EVIDENCE);
                return -EINVAL;
        }
        r->evidence = calloc(ev->n + 1, sizeof(Evidence));
        if (!r->evidence) {
                ERR(L, src, ev, "out of memory");
                return -ENOMEM;
        }
        for (size_t i = 0; i < ev->n; i++) {
                const YNode *k = ynode_key(ev, i), *v = ynode_value(ev, i);
                if (k->type != YNODE_SCALAR || !name_valid(k->scalar, EVIDENCE_MAX_NAME, false)) {
                        ERR(L, src, k,
                            "rule %s: evidence: a name is 1 to %d characters of a-z, 0-9 and _, "
                            "not starting with a digit",
                            r->id, EVIDENCE_MAX_NAME);
                        ret = -EINVAL;
                        continue;
                }
                snprintf(what, sizeof(what), "rule %s: evidence.%s", r->id, k->scalar);
                Expr *e = compile_at(L, src, v, -1, what);
                if (!e)
                        ret = -EINVAL;
                Evidence *out = &r->evidence[r->n_evidence++];
                snprintf(out->name, sizeof(out->name), "%s", k->scalar);
                out->expr = e;
        }
        return ret;
}

static int parse_message(Loader *L, const Source *src, const YNode *m, Rule *r)
{
        int ret = 0;

        if (m->type != YNODE_MAP) {
                ERR(L, src, m, "rule %s: message: expected a mapping with zh and en", r->id);
                return -EINVAL;
        }
        for (size_t i = 0; i < m->n; i++) {
                const YNode *k = ynode_key(m, i);
                if (k->type != YNODE_SCALAR || lookup(languages, N_LANG, k->scalar) < 0) {
                        ERR(L, src, k, "rule %s: message: unknown language '%s' (zh, en)", r->id,
                            k->type == YNODE_SCALAR ? k->scalar : "?");
                        ret = -EINVAL;
                }
        }
        for (size_t l = 0; l < N_LANG; l++) {
                const YNode *t = ynode_get(m, languages[l]);
                if (!t) {
                        ERR(L, src, m, "rule %s: message.%s is missing", r->id, languages[l]);
                        ret = -EINVAL;
                        continue;
                }
                if (parse_template(L, src, t, r, languages[l], &r->msg[l]) < 0)
                        ret = -EINVAL;
        }
        return ret;
}

/* Checks the id of rule n and writes the rule's name for messages (its id,
 * or "rules[idx]") to label. Sets *id to the id node, if any. Returns true
 * when the id is missing, malformed or a duplicate (reported). */
static bool rule_label(Loader *L, const Source *src, const YNode *n, size_t idx, char *label,
                       size_t size, const YNode **id_ret)
{
        const YNode *id = ynode_get(n, "id");
        bool bad = false;

        *id_ret = id;
        if (!id) {
                ERR(L, src, n, "rules[%zu]: id is missing", idx);
                bad = true;
                snprintf(label, size, "rules[%zu]", idx);
        } else if (id->type != YNODE_SCALAR || !name_valid(id->scalar, RULES_MAX_ID, true)) {
                ERR(L, src, id, "rules[%zu]: id: 1 to %d characters of a-z, 0-9, _, . and -", idx,
                    RULES_MAX_ID);
                bad = true;
                snprintf(label, size, "rules[%zu]", idx);
        } else {
                snprintf(label, size, "%s", id->scalar);
                int prev = find_rule(L, id->scalar);
                if (prev >= 0) {
                        ERR(L, src, id, "rule %s: duplicate id (first defined at %s:%u:%u)",
                            id->scalar, L->where[prev].file, L->where[prev].line,
                            L->where[prev].col);
                        bad = true;
                }
        }
        for (size_t i = 0; i < n->n; i++) {
                const YNode *k = ynode_key(n, i);
                if (k->type != YNODE_SCALAR ||
                    lookup(rule_keys, ELEMENTSOF(rule_keys), k->scalar) < 0) {
                        ERR(L, src, k,
                            "rule %s: unknown key '%s' (id, category, severity, when, evidence, "
                            "message, respond_within, description, monitor)",
                            label, k->type == YNODE_SCALAR ? k->scalar : "?");
                        bad = true;
                }
        }
        return bad;
}

/* Parses category, severity and monitor of rule n into r. Returns true when
 * one is wrong (reported). */
static bool parse_kind(Loader *L, const Source *src, const YNode *n, Rule *r)
{
        bool bad = false;

        const YNode *cat = ynode_get(n, "category");
        int c = cat && cat->type == YNODE_SCALAR
                    ? lookup(categories, ELEMENTSOF(categories), cat->scalar)
                    : -1;
        if (c < 0) {
                ERR(L, src, cat ? cat : n,
                    "rule %s: category: %s (illness, disability, education, disaster, accident, "
                    "income_drop, guarantee, need)",
                    r->id, cat ? "unknown category" : "missing");
                bad = true;
        } else
                r->category = categories[c];

        const YNode *sev = ynode_get(n, "severity");
        int s = sev && sev->type == YNODE_SCALAR
                    ? lookup(severities, ELEMENTSOF(severities), sev->scalar)
                    : -1;
        if (s < 0) {
                ERR(L, src, sev ? sev : n, "rule %s: severity: %s (yellow, red, monitor)", r->id,
                    sev ? "unknown severity" : "missing");
                bad = true;
        } else
                r->severity = (RulesSeverity)s;

        const YNode *mon = ynode_get(n, "monitor");
        if (mon) {
                if (mon->type != YNODE_SCALAR ||
                    (!streq(mon->scalar, "true") && !streq(mon->scalar, "false"))) {
                        ERR(L, src, mon, "rule %s: monitor: true or false", r->id);
                        bad = true;
                } else
                        r->monitor = streq(mon->scalar, "true");
        }
        return bad;
}

/* Parses when, evidence and message of rule n into r. Returns true when one
 * is wrong (reported). */
static bool parse_logic(Loader *L, const Source *src, const YNode *n, Rule *r)
{
        bool bad = false;
        char what[128];

        const YNode *when = ynode_get(n, "when");
        snprintf(what, sizeof(what), "rule %s: when", r->id);
        if (!when) {
                ERR(L, src, n, "%s is missing", what);
                bad = true;
        } else if (!(r->when = compile_at(L, src, when, EXPR_BOOL, what)))
                bad = true;

        const YNode *ev = ynode_get(n, "evidence");
        if (ev && !ynode_is_null(ev) && parse_evidence(L, src, ev, r) < 0)
                bad = true;

        const YNode *msg = ynode_get(n, "message");
        if (!msg) {
                ERR(L, src, n, "rule %s: message is missing", r->id);
                bad = true;
        } else if (parse_message(L, src, msg, r) < 0)
                bad = true;
        return bad;
}

/* Parses the optional respond_within and description of rule n into r.
 * Returns true when one is wrong (reported). */
static bool parse_extras(Loader *L, const Source *src, const YNode *n, Rule *r)
{
        bool bad = false;

        const YNode *rw = ynode_get(n, "respond_within");
        if (rw) {
                int64_t ms = 0;
                if (rw->type == YNODE_SCALAR && streq(rw->scalar, "urgent"))
                        ms = RULES_RESPOND_URGENT; /* the config's alerts.respond_within.urgent */
                else if (rw->type != YNODE_SCALAR || config_parse_duration(rw->scalar, &ms) < 0 ||
                         ms <= 0 || ms > 366LL * 24 * 3600 * 1000) {
                        ERR(L, src, rw,
                            "rule %s: respond_within: expected a duration like 24h or 3d "
                            "(at most 366d), or urgent",
                            r->id);
                        bad = true;
                }
                r->respond_within_ms = ms;
        }

        const YNode *desc = ynode_get(n, "description");
        if (desc) {
                if (desc->type != YNODE_SCALAR || desc->len > RULES_MAX_DESCRIPTION) {
                        ERR(L, src, desc,
                            "rule %s: description: expected a text of at most %d "
                            "bytes",
                            r->id, RULES_MAX_DESCRIPTION);
                        bad = true;
                } else if (!(r->description = strdup(desc->scalar))) {
                        ERR(L, src, desc, "out of memory");
                        bad = true;
                }
        }
        return bad;
}

/* Makes room for one more rule in the set. Returns true when it cannot:
 * RULES_MAX reached or out of memory (reported). */
static bool rule_room(Loader *L, const Source *src, const YNode *n)
{
        RuleSet *rs = L->rs;

        if (rs->n_rules >= RULES_MAX) {
                if (!L->too_many)
                        ERR(L, src, n, "more than %d rules", RULES_MAX);
                L->too_many = true;
                return true;
        }
        if (rs->n_rules == L->cap_rules) {
                size_t cap = L->cap_rules ? 2 * L->cap_rules : 16;
                Rule *nr = realloc(rs->rules, cap * sizeof(Rule));
                __typeof__(L->where) nw = nr ? realloc(L->where, cap * sizeof(*L->where)) : NULL;
                if (nr)
                        rs->rules = nr;
                if (nw)
                        L->where = nw;
                if (!nr || !nw) {
                        ERR(L, src, n, "out of memory");
                        return true;
                }
                L->cap_rules = cap;
        }
        return false;
}

/* Parses one rule (a mapping) and appends it to the set. Every problem is
 * reported; the rule is kept only if it has none. */
static void load_rule(Loader *L, const Source *src, const YNode *n, size_t idx)
{
        RuleSet *rs = L->rs;
        Rule r = {0};
        bool bad = false;
        const YNode *id;
        char label[RULES_MAX_ID + 32];

        if (n->type != YNODE_MAP) {
                ERR(L, src, n, "rules[%zu]: expected a mapping", idx);
                return;
        }
        bad = rule_label(L, src, n, idx, label, sizeof(label), &id);
        r.id = strdup(label);
        if (!r.id) {
                ERR(L, src, n, "out of memory");
                return;
        }
        /* Each part is parsed (and reported) even when another was wrong. */
        bad |= parse_kind(L, src, n, &r);
        bad |= parse_logic(L, src, n, &r);
        bad |= parse_extras(L, src, n, &r);
        if (!bad)
                bad = rule_room(L, src, n);
        if (bad) {
                rule_done(&r);
                return;
        }
        L->where[rs->n_rules].file = src->path;
        L->where[rs->n_rules].line = id->line;
        L->where[rs->n_rules].col = id->col;
        rs->rules[rs->n_rules++] = r;
}

/* Checks the top level of a parsed file and loads its thresholds. */
static void load_top(Loader *L, Source *src)
{
        const YNode *root = src->root;
        if (!root)
                return;
        if (root->type != YNODE_MAP) {
                ERR(L, src, root, "expected a mapping with rules: (and thresholds:)");
                src->parsed = false;
                return;
        }
        for (size_t i = 0; i < root->n; i++) {
                const YNode *k = ynode_key(root, i);
                if (k->type != YNODE_SCALAR ||
                    (!streq(k->scalar, "rules") && !streq(k->scalar, "thresholds")))
                        ERR(L, src, k, "unknown key '%s' (rules, thresholds)",
                            k->type == YNODE_SCALAR ? k->scalar : "?");
        }
        const YNode *th = ynode_get(root, "thresholds");
        if (th && !ynode_is_null(th))
                load_thresholds(L, src, th);
}

static void load_rules_of(Loader *L, const Source *src)
{
        const YNode *rules = src->root ? ynode_get(src->root, "rules") : NULL;
        if (!rules || ynode_is_null(rules))
                return;
        if (rules->type != YNODE_SEQ) {
                ERR(L, src, rules, "rules: expected a list of rules");
                return;
        }
        for (size_t i = 0; i < rules->n; i++)
                load_rule(L, src, rules->items[i], i);
}

/* What turns each rule off: prepared once per rule set (clear.h). */
static int build_clear(RuleSet *rs)
{
        _cleanup_free_ const Expr **whens = calloc(rs->n_rules + 1, sizeof(Expr *));
        if (!whens)
                return -ENOMEM;
        for (size_t i = 0; i < rs->n_rules; i++)
                whens[i] = rs->rules[i].when;
        rs->clear = clear_set_new(facts_symbols_get(rs->symbols), whens, rs->n_rules);
        return rs->clear ? 0 : -ENOMEM;
}

/* Loads parsed-or-not sources (their buf set) into a rule set. */
static int load_sources(Source *srcs, size_t n, const Config *cfg, RuleSet **ret, Diag *diag)
{
        _cleanup_(diag_freep) Diag *own = NULL;
        if (!diag && !(diag = own = diag_new()))
                return -ENOMEM;
        unsigned before = diag_count(diag);
        Loader L = {.diag = diag, .cfg = cfg};
        int r = 0;

        *ret = NULL;
        if (!(L.rs = calloc(1, sizeof(RuleSet))))
                return -ENOMEM;
        L.rs->monitor_factor = cfg ? cfg->monitor_factor : 120;
        L.rs->lang = cfg && streq_ptr(cfg->language, "en") ? LANG_EN : LANG_ZH;

        for (size_t i = 0; i < n; i++) {
                Source *s = &srcs[i];
                if (rules_source_index(s) < 0) {
                        r = -ENOMEM;
                        goto out;
                }
                s->parsed = ytree_parse(s->buf, s->len, s->path, &s->root, diag) == 0;
                if (s->parsed)
                        load_top(&L, s);
        }
        apply_config_thresholds(&L);

        const char *names[FACTS_MAX_THRESHOLDS];
        for (size_t i = 0; i < L.rs->n_thresholds; i++)
                names[i] = L.rs->thresholds[i].name;
        L.rs->symbols = facts_symbols_new(names, L.rs->n_thresholds);
        L.rs->threshold_values = calloc(L.rs->n_thresholds + 1, sizeof(int64_t));
        if (!L.rs->symbols || !L.rs->threshold_values) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < L.rs->n_thresholds; i++)
                L.rs->threshold_values[i] = L.rs->thresholds[i].value;

        for (size_t i = 0; i < n; i++)
                if (srcs[i].parsed)
                        load_rules_of(&L, &srcs[i]);

        if (diag_count(diag) > before) {
                r = -EINVAL;
                goto out;
        }
        if (build_clear(L.rs) < 0) {
                r = -ENOMEM;
                goto out;
        }
        *ret = TAKE_PTR(L.rs);
out:
        if (r == -ENOMEM)
                diag_add(diag, NULL, 0, 0, "out of memory");
        free(L.where);
        rules_free(L.rs);
        return r;
}

int rules_load_buffer(const char *buf, size_t len, const char *file, const Config *cfg,
                      RuleSet **ret, Diag *diag)
{
        if (!ret)
                return -EINVAL;
        *ret = NULL;
        if (!buf)
                return -EINVAL;
        if (!file)
                file = "<rules>";
        if (len > RULES_MAX_FILE_BYTES) {
                diag_add(diag, file, 0, 0, "larger than %d bytes", RULES_MAX_FILE_BYTES);
                return -EFBIG;
        }
        Source s = {.path = strdup(file), .buf = malloc(len + 1), .len = len};
        if (!s.path || !s.buf) {
                rules_source_done(&s);
                return -ENOMEM;
        }
        memcpy(s.buf, buf, len);
        s.buf[len] = '\0';
        int r = load_sources(&s, 1, cfg, ret, diag);
        rules_source_done(&s);
        return r;
}

int rules_load_dir(const char *dir, const Config *cfg, RuleSet **ret, Diag *diag)
{
        char **names = NULL;
        size_t n = 0;
        Source srcs[RULES_MAX_FILES] = {0};

        if (!ret || !dir)
                return -EINVAL;
        *ret = NULL;
        int r = fsutil_list(dir, ".yaml", RULES_MAX_FILES, &names, &n);
        if (r == -E2BIG)
                diag_add(diag, dir, 0, 0, "more than %d rule files", RULES_MAX_FILES);
        else if (r < 0 && r != -ENOMEM)
                diag_add(diag, dir, 0, 0, "cannot open rules folder: %s", strerror(-r));
        else if (r == 0 && n == 0) {
                diag_add(diag, dir, 0, 0, "no rule files (*.yaml)");
                r = -ENOENT;
        }
        if (r < 0)
                goto out;
        for (size_t i = 0; i < n; i++) {
                if (asprintf(&srcs[i].path, "%s/%s", dir, names[i]) < 0) {
                        srcs[i].path = NULL;
                        r = -ENOMEM;
                        goto out;
                }
                int k = rules_source_read(srcs[i].path, &srcs[i], diag);
                if (k < 0 && r == 0)
                        r = k;
        }
        if (r < 0)
                goto out;
        r = load_sources(srcs, n, cfg, ret, diag);
out:
        for (size_t i = 0; i < n; i++)
                rules_source_done(&srcs[i]);
        fsutil_names_free(names, n);
        return r;
}
