/* Validating a JSON instance against compiled schema nodes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "schema_impl.h"

#define VALIDATE_MAX_DEPTH 128  /* instance nesting followed by validation */
#define VALIDATE_MAX_CALLS 1024 /* node visits on the stack at once */
#define UNIQUE_PAIRWISE_MAX 32  /* uniqueItems: above this, hash and sort */

/* ---- validation ----------------------------------------------------------- */

typedef struct PathSeg {
        const char *key; /* NULL: an array index */
        size_t len;      /* key length, or the index */
} PathSeg;

typedef struct Ctx {
        Out err;
        const char *root;
        unsigned quiet; /* > 0 inside anyOf, oneOf, not, if: no messages */
        unsigned depth; /* entries of path in use */
        unsigned calls;
        PathSeg path[VALIDATE_MAX_DEPTH];
} Ctx;

/* Dotted names for identifier-like keys, ["..."] for the rest. */
static bool key_is_plain(const char *k, size_t len)
{
        if (len == 0 || (k[0] >= '0' && k[0] <= '9') || k[0] == '-')
                return false;
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char)k[i];

                if (!(ch >= 0x80 || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '$'))
                        return false;
        }
        return true;
}

static void out_path(Ctx *x)
{
        Out *o = &x->err;

        schema_out_str(o, x->root);
        for (unsigned i = 0; i < x->depth; i++) {
                const PathSeg *p = &x->path[i];

                if (!p->key)
                        schema_out_printf(o, "[%zu]", p->len);
                else if (key_is_plain(p->key, p->len)) {
                        if (o->len > 0)
                                schema_out_str(o, ".");
                        schema_out_write(o, p->key, p->len);
                } else {
                        schema_out_str(o, "[\"");
                        schema_out_escaped(o, p->key, p->len, '"');
                        schema_out_str(o, "\"]");
                }
        }
}

static void vmessage(Ctx *x, const char *fmt, va_list ap)
{
        out_path(x);
        if (x->err.len > 0)
                schema_out_str(&x->err, ": ");
        schema_out_vprintf(&x->err, fmt, ap);
}

/* Reports an assertion failure at the current path, unless quiet. Returns
 * -EINVAL. */
_printf_(2, 3) static int fail(Ctx *x, const char *fmt, ...)
{
        va_list ap;

        if (x->quiet > 0)
                return -EINVAL;
        va_start(ap, fmt);
        vmessage(x, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* Reports an exceeded limit, even when quiet: -ELOOP ends the validation
 * and no applicator turns it into success. */
_printf_(2, 3) static int fail_limit(Ctx *x, const char *fmt, ...)
{
        va_list ap;

        schema_out_init(&x->err, x->err.buf, x->err.size);
        va_start(ap, fmt);
        vmessage(x, fmt, ap);
        va_end(ap);
        return -ELOOP;
}

/* Writes "<message> 'name'" style messages with an escaped name. */
static int fail_name(Ctx *x, const char *what, const char *name, size_t len)
{
        char b[128];
        Out o;

        if (x->quiet > 0)
                return -EINVAL;
        schema_out_init(&o, b, sizeof(b));
        schema_out_escaped(&o, name, len, '\'');
        return fail(x, "%s '%s'", what, b);
}

static int validate(Ctx *x, const Node *n, const json_t *v);

static int validate_at(Ctx *x, const Node *n, const json_t *v, const char *key, size_t len)
{
        int r;

        if (x->depth >= VALIDATE_MAX_DEPTH)
                return fail_limit(x, "nested deeper than %d levels", VALIDATE_MAX_DEPTH);
        x->path[x->depth++] = (PathSeg){key, len};
        r = validate(x, n, v);
        x->depth--;
        return r;
}

static int validate_number(Ctx *x, const Node *n, const json_t *v)
{
        Num num = schema_num_of(v);
        char b[64];
        Out o;

        schema_out_init(&o, b, sizeof(b));
        if ((n->has & K_MINIMUM) && schema_num_cmp(num, n->minimum) < 0)
                return schema_out_num(&o, n->minimum), fail(x, "must be >= %s", b);
        if ((n->has & K_MAXIMUM) && schema_num_cmp(num, n->maximum) > 0)
                return schema_out_num(&o, n->maximum), fail(x, "must be <= %s", b);
        if ((n->has & K_XMINIMUM) && schema_num_cmp(num, n->xminimum) <= 0)
                return schema_out_num(&o, n->xminimum), fail(x, "must be > %s", b);
        if ((n->has & K_XMAXIMUM) && schema_num_cmp(num, n->xmaximum) >= 0)
                return schema_out_num(&o, n->xmaximum), fail(x, "must be < %s", b);
        if ((n->has & K_MULTIPLE) && !schema_num_multiple_of(num, n->multiple_of))
                return schema_out_num(&o, n->multiple_of), fail(x, "must be a multiple of %s", b);
        return 0;
}

static size_t utf8_length(const char *s, size_t len)
{
        size_t n = 0;

        for (size_t i = 0; i < len; i++)
                n += ((unsigned char)s[i] & 0xC0) != 0x80;
        return n;
}

static int validate_string(Ctx *x, const Node *n, const json_t *v)
{
        int32_t day;
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        int r;

        if (n->has & (K_MINLEN | K_MAXLEN)) {
                size_t chars = utf8_length(s, len);

                if ((n->has & K_MINLEN) && chars < n->min_length)
                        return fail(x, "must be at least %zu characters long", n->min_length);
                if ((n->has & K_MAXLEN) && chars > n->max_length)
                        return fail(x, "must be at most %zu characters long", n->max_length);
        }
        if (n->has & K_PATTERN) {
                r = schema_regex_search(&n->pattern, s, len);
                if (r < 0)
                        return r;
                if (r == 0)
                        return fail_name(x, "must match the pattern", n->pattern.source,
                                         strlen(n->pattern.source));
        }
        if (n->format == FORMAT_DATE && calendar_date_parse(s, len, &day) < 0)
                return fail(x, "must be a date (YYYY-MM-DD)");
        if (n->format == FORMAT_DATE_TIME && calendar_time_parse(s, len, NULL, NULL) < 0)
                return fail(x, "must be an RFC 3339 date-time with an offset "
                               "(YYYY-MM-DDThh:mm:ss+08:00)");
        return 0;
}

typedef struct HashedItem {
        uint64_t hash;
        size_t index;
} HashedItem;

static int hashed_item_cmp(const void *a, const void *b)
{
        const HashedItem *x = a, *y = b;

        if (x->hash != y->hash)
                return x->hash < y->hash ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* Finds two equal items of array v: 1 with *i < *j set, 0 if none, or a
 * negative errno. Short arrays compare pairwise; long ones hash and sort. */
static int find_duplicate(Ctx *x, const json_t *v, size_t *i, size_t *j)
{
        size_t n = json_array_size(v);
        unsigned depth = VALIDATE_MAX_DEPTH - x->depth;
        _cleanup_free_ HashedItem *h = NULL;
        int r;

        if (n <= UNIQUE_PAIRWISE_MAX) {
                for (size_t b = 1; b < n; b++)
                        for (size_t a = 0; a < b; a++) {
                                r = schema_deep_equal(json_array_get(v, a), json_array_get(v, b),
                                                      depth);
                                if (r != 0) {
                                        *i = a, *j = b;
                                        return r;
                                }
                        }
                return 0;
        }
        h = malloc(n * sizeof(*h));
        if (!h)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                r = schema_deep_hash(json_array_get(v, k), depth, &h[k].hash);
                if (r < 0)
                        return r;
                h[k].index = k;
        }
        qsort(h, n, sizeof(*h), hashed_item_cmp);
        for (size_t a = 0; a < n; a++)
                for (size_t b = a + 1; b < n && h[b].hash == h[a].hash; b++) {
                        r = schema_deep_equal(json_array_get(v, h[a].index),
                                              json_array_get(v, h[b].index), depth);
                        if (r != 0) {
                                *i = h[a].index, *j = h[b].index;
                                return r;
                        }
                }
        return 0;
}

static int validate_array(Ctx *x, const Node *n, const json_t *v)
{
        size_t size = json_array_size(v), i = 0, j = 0;
        int r;

        if ((n->has & K_MINITEMS) && size < n->min_items)
                return fail(x, "must have at least %zu items", n->min_items);
        if ((n->has & K_MAXITEMS) && size > n->max_items)
                return fail(x, "must have at most %zu items", n->max_items);
        if (n->has & K_ITEMS)
                for (i = 0; i < size; i++) {
                        const Node *item = i < n->prefix_items.n ? n->prefix_items.v[i] : n->items;

                        if (!item)
                                break;
                        r = validate_at(x, item, json_array_get(v, i), NULL, i);
                        if (r < 0)
                                return r;
                }
        if (n->has & K_UNIQUE) {
                r = find_duplicate(x, v, &i, &j);
                if (r == -ELOOP)
                        return fail_limit(x, "nested deeper than %d levels", VALIDATE_MAX_DEPTH);
                if (r < 0)
                        return r;
                if (r > 0)
                        return fail(x, "must not contain duplicate items ([%zu] and [%zu])", i, j);
        }
        return 0;
}

static int validate_object(Ctx *x, const Node *n, const json_t *v)
{
        json_t *o = (json_t *)v; /* iteration does not modify */
        size_t size = json_object_size(v);
        int r;

        if (n->has & K_REQUIRED) {
                json_t *name;
                size_t i;

                json_array_foreach (n->required, i, name)
                        if (!json_object_getn(v, json_string_value(name), json_string_length(name)))
                                return fail_name(x, "missing required property",
                                                 json_string_value(name), json_string_length(name));
        }
        if ((n->has & K_MINPROPS) && size < n->min_props)
                return fail(x, "must have at least %zu properties", n->min_props);
        if ((n->has & K_MAXPROPS) && size > n->max_props)
                return fail(x, "must have at most %zu properties", n->max_props);
        if (!(n->has & K_PROPS))
                return 0;
        /* One pass over the instance: each member meets its properties
         * schema (a hash lookup), the matching patternProperties, and
         * additionalProperties when neither applied. */
        for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
                const char *key = json_object_iter_key(it);
                size_t len = json_object_iter_key_len(it);
                const json_t *val = json_object_iter_value(it);
                bool matched = false;

                if (n->prop_index) {
                        const json_t *idx = json_object_getn(n->prop_index, key, len);

                        if (idx) {
                                matched = true;
                                r = validate_at(x, n->props.v[json_integer_value(idx)], val, key,
                                                len);
                                if (r < 0)
                                        return r;
                        }
                }
                for (size_t p = 0; p < n->n_pattern_props; p++) {
                        r = schema_regex_search(&n->pattern_props[p].rx, key, len);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                continue;
                        matched = true;
                        r = validate_at(x, n->pattern_props[p].node, val, key, len);
                        if (r < 0)
                                return r;
                }
                if (matched || !n->additional)
                        continue;
                if (n->additional->has & K_FALSE)
                        return fail_name(x, "unexpected property", key, len);
                r = validate_at(x, n->additional, val, key, len);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Validates v against each schema of list quietly. Returns the number that
 * matched, stopping once it reaches stop, or a negative errno. Sets *first
 * and *second to the first two matches. */
static int count_matches(Ctx *x, const NodeList *list, const json_t *v, int stop, size_t *first,
                         size_t *second)
{
        int matched = 0;

        x->quiet++;
        for (size_t i = 0; i < list->n && matched < stop; i++) {
                int r = validate(x, list->v[i], v);

                if (r == -EINVAL)
                        continue;
                if (r < 0) {
                        x->quiet--;
                        return r;
                }
                if (matched == 0)
                        *first = i;
                else
                        *second = i;
                matched++;
        }
        x->quiet--;
        return matched;
}

static int validate_applicators(Ctx *x, const Node *n, const json_t *v)
{
        size_t first = 0, second = 0;
        int r;

        if (n->ref) {
                r = validate(x, n->ref, v);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n->all_of.n; i++) {
                r = validate(x, n->all_of.v[i], v);
                if (r < 0)
                        return r;
        }
        if (n->any_of.n > 0) {
                r = count_matches(x, &n->any_of, v, 1, &first, &second);
                if (r < 0)
                        return r;
                if (r == 0)
                        return fail(x, "must match at least one schema of anyOf");
        }
        if (n->one_of.n > 0) {
                r = count_matches(x, &n->one_of, v, 2, &first, &second);
                if (r < 0)
                        return r;
                if (r == 0)
                        return fail(x, "must match exactly one schema of oneOf (matches none)");
                if (r == 2)
                        return fail(x,
                                    "must match exactly one schema of oneOf (matches [%zu] "
                                    "and [%zu])",
                                    first, second);
        }
        if (n->not_schema) {
                x->quiet++;
                r = validate(x, n->not_schema, v);
                x->quiet--;
                if (r == 0)
                        return fail(x, "must not match the schema of not");
                if (r != -EINVAL)
                        return r;
        }
        if (n->if_schema) {
                const Node *branch;

                x->quiet++;
                r = validate(x, n->if_schema, v);
                x->quiet--;
                if (r < 0 && r != -EINVAL)
                        return r;
                branch = r == 0 ? n->then_schema : n->else_schema;
                if (branch) {
                        r = validate(x, branch, v);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* Validates v against node n. 0 valid, -EINVAL invalid (message written
 * unless quiet), -ELOOP over a limit (message written), -ENOMEM. */
static int validate_node(Ctx *x, const Node *n, const json_t *v)
{
        unsigned has = n->has;
        int r;

        if (has == 0)
                return 0;
        if (has & K_FALSE)
                return fail(x, "no value is allowed here");
        if ((has & K_TYPE) && !(schema_type_bits(v) & n->types)) {
                char b[96];
                Out o;

                if (x->quiet > 0)
                        return -EINVAL;
                schema_out_init(&o, b, sizeof(b));
                schema_out_types(&o, n->types);
                return fail(x, "must be %s, not %s", b, schema_type_name_of(v));
        }
        if (has & K_CONST) {
                r = schema_deep_equal(v, n->const_value, VALUE_MAX_DEPTH);
                if (r < 0)
                        return fail_limit(x, "nested deeper than %d levels", VALUE_MAX_DEPTH);
                if (r == 0)
                        return fail(x, "%s", n->const_text);
        }
        if (has & K_ENUM) {
                size_t i;
                json_t *e;
                bool found = false;

                json_array_foreach (n->enum_values, i, e) {
                        r = schema_deep_equal(v, e, VALUE_MAX_DEPTH);
                        if (r < 0)
                                return fail_limit(x, "nested deeper than %d levels",
                                                  VALUE_MAX_DEPTH);
                        if (r > 0) {
                                found = true;
                                break;
                        }
                }
                if (!found)
                        return fail(x, "%s", n->enum_text);
        }
        switch (json_typeof(v)) {
        case JSON_INTEGER:
        case JSON_REAL:
                r = (has & K_NUMBER) ? validate_number(x, n, v) : 0;
                break;
        case JSON_STRING:
                r = (has & K_STRING) ? validate_string(x, n, v) : 0;
                break;
        case JSON_ARRAY:
                r = (has & K_ARRAY) ? validate_array(x, n, v) : 0;
                break;
        case JSON_OBJECT:
                r = (has & K_OBJECT) ? validate_object(x, n, v) : 0;
                break;
        default:
                r = 0;
                break;
        }
        if (r < 0)
                return r;
        return (has & K_APPLY) ? validate_applicators(x, n, v) : 0;
}

static int validate(Ctx *x, const Node *n, const json_t *v)
{
        int r;

        if (x->calls >= VALIDATE_MAX_CALLS)
                return fail_limit(x, "schema recursion deeper than %d", VALIDATE_MAX_CALLS);
        x->calls++;
        r = validate_node(x, n, v);
        x->calls--;
        return r;
}

int schema_validate(const Schema *s, const json_t *instance, const char *root, char *err,
                    size_t errlen)
{
        Ctx x = {.root = root ? root : ""};
        int r;

        schema_out_init(&x.err, err, errlen);
        if (!s || !instance) {
                schema_out_str(&x.err, "no schema or no instance");
                return -EINVAL;
        }
        r = validate(&x, s->root, instance);
        if (r == -ENOMEM && x.err.len == 0)
                schema_out_str(&x.err, "out of memory");
        return r == -ELOOP ? -EINVAL : r;
}
