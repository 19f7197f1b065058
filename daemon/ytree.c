/* YAML documents read with libyaml into a small tree of nodes that keep
 * their file positions, bounded in size and depth. */
#include "ytree.h"

#include <errno.h>
#include <stdio.h>
#include <yaml.h>
#include "fsutil.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(yaml_parser_t *, yaml_parser_delete);

typedef struct {
        yaml_parser_t parser;
        const char *file;
        Diag *diag;
        size_t nodes;
        int failed;
} Ctx;

/* libyaml marks are 0-based; every diagnostic is 1-based. This is the one
 * place that converts. */
static void mark_to_pos(yaml_mark_t m, unsigned *line, unsigned *col)
{
        *line = (unsigned)m.line + 1;
        *col = (unsigned)m.column + 1;
}

YNode *ytree_free(YNode *n)
{
        if (!n)
                return NULL;
        size_t cnt = n->type == YNODE_MAP ? 2 * n->n : n->n;
        for (size_t i = 0; i < cnt; i++)
                ytree_free(n->items[i]);
        free(n->items);
        free(n->scalar);
        free(n);
        return NULL;
}

/* Appends child as item number cnt (counting keys and values of a map).
 * The array doubles when cnt reaches a power of two (4, 8, 16...): growing
 * it by one item at a time made long lists quadratic. */
static int node_append(YNode *parent, size_t cnt, YNode *child)
{
        if (cnt == 0 || (cnt >= 4 && (cnt & (cnt - 1)) == 0)) {
                size_t cap = cnt ? 2 * cnt : 4;
                YNode **items = realloc(parent->items, cap * sizeof(YNode *));
                if (!items)
                        return -ENOMEM;
                parent->items = items;
        }
        parent->items[cnt] = child;
        return 0;
}

static void ctx_error(Ctx *c, yaml_mark_t m, const char *msg, const char *arg)
{
        unsigned line, col;
        mark_to_pos(m, &line, &col);
        diag_add(c->diag, c->file, line, col, "%s%s", msg, arg ? arg : "");
        c->failed = 1;
}

/* Refuses what hearth's YAML may not hold at event ev: more than
 * YTREE_MAX_NODES nodes, nesting deeper than YTREE_MAX_DEPTH, aliases and
 * anchors. Returns false after adding a diagnostic. */
static bool node_allowed(Ctx *c, const yaml_event_t *ev, unsigned depth)
{
        if (++c->nodes > YTREE_MAX_NODES) {
                ctx_error(c, ev->start_mark, "too many YAML nodes", NULL);
                return false;
        }
        if (depth > YTREE_MAX_DEPTH) {
                ctx_error(c, ev->start_mark, "YAML nested too deeply", NULL);
                return false;
        }
        if (ev->type == YAML_ALIAS_EVENT) {
                ctx_error(c, ev->start_mark, "YAML aliases are not allowed", NULL);
                return false;
        }
        const yaml_char_t *anchor =
            ev->type == YAML_SCALAR_EVENT           ? ev->data.scalar.anchor
            : ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor
            : ev->type == YAML_MAPPING_START_EVENT  ? ev->data.mapping_start.anchor
                                                    : NULL;
        if (anchor) {
                ctx_error(c, ev->start_mark, "YAML anchors are not allowed", NULL);
                return false;
        }
        return true;
}

/* Checks key, the newest key of map n (not yet counted in n->n): a scalar,
 * and not one of the earlier keys. Problems are diagnostics. */
static void check_key(Ctx *c, const YNode *n, const YNode *key)
{
        if (key->type != YNODE_SCALAR) {
                diag_add(c->diag, c->file, key->line, key->col, "mapping keys must be scalars");
                c->failed = 1;
                return;
        }
        /* Skip earlier keys that are not scalars (already an error): their
         * scalar is NULL (found by tests/fuzz/fuzz_rules.c). */
        for (size_t i = 0; i < n->n; i++)
                if (ynode_key(n, i)->type == YNODE_SCALAR &&
                    streq(ynode_key(n, i)->scalar, key->scalar)) {
                        diag_add(c->diag, c->file, key->line, key->col, "duplicate key '%s'",
                                 key->scalar);
                        c->failed = 1;
                }
}

static YNode *parse_node(Ctx *c, yaml_event_t *ev, unsigned depth);

/* Parses the items of the sequence or mapping n that started with event ev,
 * up to its end event. Returns 0, or -1 after adding a diagnostic (n then
 * holds only complete items: the caller frees it). */
static int parse_items(Ctx *c, yaml_event_t *ev, YNode *n, unsigned depth)
{
        bool map = ev->type == YAML_MAPPING_START_EVENT;
        yaml_event_type_t end = map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
        bool is_value = false;
        size_t total = 0;

        for (;;) {
                yaml_event_t e;
                if (!yaml_parser_parse(&c->parser, &e)) {
                        ctx_error(c, c->parser.problem_mark,
                                  c->parser.problem ? c->parser.problem : "YAML syntax error",
                                  NULL);
                        /* A key whose value never came is not counted in n->n. */
                        if (map && is_value)
                                ytree_free(n->items[total - 1]);
                        return -1;
                }
                if (e.type == end) {
                        yaml_event_delete(&e);
                        break;
                }
                YNode *child = parse_node(c, &e, depth + 1);
                yaml_event_delete(&e);
                if (!child) {
                        /* A key whose value failed is not counted in n->n. */
                        if (map && is_value)
                                ytree_free(n->items[total - 1]);
                        return -1;
                }
                if (node_append(n, total++, child) < 0) {
                        ytree_free(child);
                        if (map && is_value)
                                ytree_free(n->items[total - 2]);
                        ctx_error(c, ev->start_mark, "out of memory", NULL);
                        return -1;
                }
                if (!map) {
                        n->n++;
                        continue;
                }
                /* In a map, items alternate key, value. Count a pair once the
                 * value is in; check keys as they arrive. */
                if (!is_value)
                        check_key(c, n, child);
                else
                        n->n++;
                is_value = !is_value;
        }
        return 0;
}

/* Parses the node that starts with event ev (already taken from the parser).
 * Returns the node, or NULL after adding a diagnostic. */
static YNode *parse_node(Ctx *c, yaml_event_t *ev, unsigned depth)
{
        if (!node_allowed(c, ev, depth))
                return NULL;

        YNode *n = calloc(1, sizeof(YNode));
        if (!n) {
                ctx_error(c, ev->start_mark, "out of memory", NULL);
                return NULL;
        }
        mark_to_pos(ev->start_mark, &n->line, &n->col);

        if (ev->type == YAML_SCALAR_EVENT) {
                n->type = YNODE_SCALAR;
                if (ev->data.scalar.length > YTREE_MAX_SCALAR) {
                        ctx_error(c, ev->start_mark, "YAML scalar too long", NULL);
                        return ytree_free(n);
                }
                n->scalar = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
                n->len = ev->data.scalar.length;
                n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                if (!n->scalar) {
                        ctx_error(c, ev->start_mark, "out of memory", NULL);
                        return ytree_free(n);
                }
                return n;
        }
        if (ev->type != YAML_SEQUENCE_START_EVENT && ev->type != YAML_MAPPING_START_EVENT) {
                ctx_error(c, ev->start_mark, "unexpected YAML event", NULL);
                return ytree_free(n);
        }
        n->type = ev->type == YAML_MAPPING_START_EVENT ? YNODE_MAP : YNODE_SEQ;
        if (parse_items(c, ev, n, depth) < 0)
                return ytree_free(n);
        return n;
}

int ytree_parse(const char *buf, size_t len, const char *file, YNode **ret, Diag *diag)
{
        Ctx c = {.file = file, .diag = diag};
        YNode *root = NULL;
        bool in_doc = false;

        *ret = NULL;
        if (!yaml_parser_initialize(&c.parser))
                return -ENOMEM;
        _cleanup_(yaml_parser_deletep) yaml_parser_t *p = &c.parser;
        yaml_parser_set_input_string(p, (const unsigned char *)buf, len);

        for (;;) {
                yaml_event_t e;
                if (!yaml_parser_parse(p, &e)) {
                        ctx_error(&c, p->problem_mark,
                                  p->problem ? p->problem : "YAML syntax error", NULL);
                        break;
                }
                yaml_event_type_t t = e.type;
                if (t == YAML_STREAM_END_EVENT) {
                        yaml_event_delete(&e);
                        break;
                }
                if (t == YAML_DOCUMENT_START_EVENT) {
                        if (in_doc || root) {
                                ctx_error(&c, e.start_mark, "only one YAML document allowed", NULL);
                                yaml_event_delete(&e);
                                break;
                        }
                        in_doc = true;
                } else if (t == YAML_DOCUMENT_END_EVENT) {
                        in_doc = false;
                } else if (t != YAML_STREAM_START_EVENT) {
                        YNode *n = parse_node(&c, &e, 1);
                        if (n)
                                root = n;
                        if (!n || c.failed) {
                                yaml_event_delete(&e);
                                break;
                        }
                }
                yaml_event_delete(&e);
        }
        if (c.failed) {
                ytree_free(root);
                return -EINVAL;
        }
        *ret = root;
        return 0;
}

int ytree_parse_file(const char *path, YNode **ret, Diag *diag)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;

        *ret = NULL;
        int r = fsutil_read_file(path, YTREE_MAX_FILE_BYTES, &buf, &len, diag);
        if (r < 0)
                return r;
        return ytree_parse(buf, len, path, ret, diag);
}

YNode *ynode_get(const YNode *map, const char *key)
{
        if (!map || map->type != YNODE_MAP)
                return NULL;
        for (size_t i = 0; i < map->n; i++)
                if (streq(ynode_key(map, i)->scalar, key))
                        return ynode_value(map, i);
        return NULL;
}

const char *ynode_type_name(const YNode *n)
{
        if (!n)
                return "nothing";
        switch (n->type) {
        case YNODE_SCALAR:
                return "a scalar";
        case YNODE_SEQ:
                return "a list";
        case YNODE_MAP:
                return "a mapping";
        }
        return "?";
}

bool ynode_is_null(const YNode *n)
{
        if (!n)
                return true;
        return n->type == YNODE_SCALAR && n->plain &&
               (n->len == 0 || streq(n->scalar, "null") || streq(n->scalar, "~") ||
                streq(n->scalar, "Null") || streq(n->scalar, "NULL"));
}
