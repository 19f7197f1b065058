/* The JSON Schema keywords: one compiler per keyword of the supported
 * vocabulary, and the node compiler that dispatches to them. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "schema_impl.h"

/* ---- keyword compilers ---------------------------------------------------
 * Each gets the node, the keyword's value and the node's depth; the pointer
 * already names the keyword. */

typedef int (*KeywordFn)(Compiler *c, Node *n, json_t *v, unsigned depth);

static int compile_child(Compiler *c, json_t *v, unsigned depth, Node **ret)
{
        return schema_compile_node(c, v, depth + 1, ret);
}

static int compile_at_index(Compiler *c, json_t *v, size_t i, unsigned depth, Node **ret)
{
        size_t saved = schema_ptr_push_index(c, i);
        int r = compile_child(c, v, depth, ret);

        schema_ptr_pop(c, saved);
        return r;
}

/* A non-empty array of schemas (allOf, anyOf, oneOf, prefixItems). */
static int kw_schema_array(Compiler *c, json_t *v, unsigned depth, NodeList *list)
{
        json_t *e;
        size_t i;

        if (!json_is_array(v) || json_array_size(v) == 0)
                return schema_cerr(c, "must be a non-empty array of schemas");
        list->v = calloc(json_array_size(v), sizeof(Node *));
        if (!list->v)
                return schema_cerr_nomem(c);
        json_array_foreach (v, i, e) {
                int r = compile_at_index(c, e, i, depth, &list->v[i]);

                if (r < 0)
                        return r;
                list->n++;
        }
        return 0;
}

/* An object of schemas (properties, $defs): fills list and an index object
 * mapping each name to its position. */
static int kw_schema_map(Compiler *c, json_t *v, unsigned depth, json_t **index, NodeList *list)
{
        if (!json_is_object(v))
                return schema_cerr(c, "must be an object of schemas");
        *index = json_object();
        list->v = calloc(json_object_size(v) + 1, sizeof(Node *));
        if (!*index || !list->v)
                return schema_cerr_nomem(c);
        for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
                const char *key = json_object_iter_key(it);
                size_t len = json_object_iter_key_len(it);
                size_t saved = schema_ptr_push(c, key, len);
                int r = compile_child(c, json_object_iter_value(it), depth, &list->v[list->n]);

                schema_ptr_pop(c, saved);
                if (r < 0)
                        return r;
                if (json_object_setn_new(*index, key, len, json_integer((json_int_t)list->n)) < 0)
                        return schema_cerr_nomem(c);
                list->n++;
        }
        return 0;
}

static int kw_root_only(Compiler *c, unsigned depth)
{
        return depth == 0 ? 0 : schema_cerr(c, "only supported at the document root");
}

static int kw_dialect(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        const char *s = json_string_value(v);

        (void)n;
        if (kw_root_only(c, depth) < 0)
                return -EINVAL;
        if (!s)
                return schema_cerr(c, "must be a string");
        if (!streq(s, DIALECT_2020_12) && !streq(s, DIALECT_2020_12 "#"))
                return schema_cerr(c, "unsupported dialect '%s' (only " DIALECT_2020_12 ")", s);
        return 0;
}

static int kw_id(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        const char *s = json_string_value(v), *hash;

        (void)n;
        /* A nested $id would change what "#" means below it: refused. */
        if (kw_root_only(c, depth) < 0)
                return -EINVAL;
        if (!s)
                return schema_cerr(c, "must be a string");
        hash = strchr(s, '#');
        if (hash && hash[1])
                return schema_cerr(c, "$id with a fragment is not supported");
        return 0;
}

static int kw_annotation_string(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        (void)n, (void)depth;
        return json_is_string(v) ? 0 : schema_cerr(c, "must be a string");
}

static int kw_examples(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        (void)n, (void)depth;
        return json_is_array(v) ? 0 : schema_cerr(c, "must be an array");
}

static int kw_default(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        (void)c, (void)n, (void)v, (void)depth;
        return 0;
}

static int kw_type(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        unsigned bit;
        json_t *e;
        size_t i;

        (void)depth;
        if (json_is_string(v)) {
                if (schema_type_bit(json_string_value(v), &bit) < 0)
                        return schema_cerr(c, "unknown type '%s'", json_string_value(v));
                n->types = bit;
        } else if (json_is_array(v) && json_array_size(v) > 0) {
                json_array_foreach (v, i, e) {
                        if (!json_is_string(e))
                                return schema_cerr(c, "must be a type name or an array of them");
                        if (schema_type_bit(json_string_value(e), &bit) < 0)
                                return schema_cerr(c, "unknown type '%s'", json_string_value(e));
                        if (n->types & bit)
                                return schema_cerr(c, "type '%s' listed twice",
                                                   json_string_value(e));
                        n->types |= bit;
                }
        } else
                return schema_cerr(c, "must be a type name or a non-empty array of them");
        n->has |= K_TYPE;
        return 0;
}

/* Renders v for a message: strings bare, anything else as compact JSON. */
static void out_value(Out *o, const json_t *v, bool quote_strings)
{
        if (json_is_string(v) && !quote_strings) {
                schema_out_escaped(o, json_string_value(v), json_string_length(v), 0);
                return;
        }
        _cleanup_free_ char *s = arena_json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

        schema_out_str(o, s ? s : "?");
}

static int kw_const(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        char text[TEXT_MAX];
        Out o;

        (void)depth;
        if (!schema_value_depth_ok(v, VALUE_MAX_DEPTH))
                return schema_cerr(c, "value nested deeper than %d levels", VALUE_MAX_DEPTH);
        schema_out_init(&o, text, sizeof(text));
        schema_out_str(&o, "must equal ");
        out_value(&o, v, true);
        n->const_value = json_deep_copy(v);
        n->const_text = strdup(text);
        if (!n->const_value || !n->const_text)
                return schema_cerr_nomem(c);
        n->has |= K_CONST;
        return 0;
}

static int kw_enum(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        char text[TEXT_MAX];
        json_t *e;
        size_t i;
        Out o;

        (void)depth;
        if (!json_is_array(v) || json_array_size(v) == 0)
                return schema_cerr(c, "must be a non-empty array");
        if (!schema_value_depth_ok(v, VALUE_MAX_DEPTH))
                return schema_cerr(c, "value nested deeper than %d levels", VALUE_MAX_DEPTH);
        schema_out_init(&o, text, sizeof(text));
        schema_out_str(&o, "must be one of ");
        json_array_foreach (v, i, e) {
                if (i > 0)
                        schema_out_str(&o, ", ");
                out_value(&o, e, false);
        }
        n->enum_values = json_deep_copy(v);
        n->enum_text = strdup(text);
        if (!n->enum_values || !n->enum_text)
                return schema_cerr_nomem(c);
        n->has |= K_ENUM;
        return 0;
}

static int kw_number(Compiler *c, json_t *v, Num *ret)
{
        if (!json_is_number(v))
                return schema_cerr(c, "must be a number");
        *ret = schema_num_of(v);
        return 0;
}

static int kw_minimum(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        (void)depth;
        n->has |= K_MINIMUM;
        return kw_number(c, v, &n->minimum);
}

static int kw_maximum(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        (void)depth;
        n->has |= K_MAXIMUM;
        return kw_number(c, v, &n->maximum);
}

static int kw_xminimum(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        (void)depth;
        n->has |= K_XMINIMUM;
        return kw_number(c, v, &n->xminimum);
}

static int kw_xmaximum(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        (void)depth;
        n->has |= K_XMAXIMUM;
        return kw_number(c, v, &n->xmaximum);
}

static int kw_multiple_of(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        (void)depth;
        if (!json_is_number(v) || json_number_value(v) <= 0)
                return schema_cerr(c, "must be a number above 0");
        n->multiple_of = schema_num_of(v);
        n->has |= K_MULTIPLE;
        return 0;
}

/* A count: a non-negative integer (2020-12 accepts 2.0 too). */
static int kw_count(Compiler *c, json_t *v, size_t *ret)
{
        if (json_is_integer(v) && json_integer_value(v) >= 0)
                *ret = (size_t)json_integer_value(v);
        else if (json_is_real(v) && json_real_value(v) >= 0 &&
                 json_real_value(v) == trunc(json_real_value(v)))
                *ret = json_real_value(v) >= 0x1p63 ? SIZE_MAX : (size_t)json_real_value(v);
        else
                return schema_cerr(c, "must be a non-negative integer");
        return 0;
}

#define KW_COUNT(fn, field, bit)                                                                   \
        static int fn(Compiler *c, Node *n, json_t *v, unsigned depth)                             \
        {                                                                                          \
                (void)depth;                                                                       \
                n->has |= (bit);                                                                   \
                return kw_count(c, v, &n->field);                                                  \
        }
KW_COUNT(kw_min_length, min_length, K_MINLEN)
KW_COUNT(kw_max_length, max_length, K_MAXLEN)
KW_COUNT(kw_min_items, min_items, K_MINITEMS)
KW_COUNT(kw_max_items, max_items, K_MAXITEMS)
KW_COUNT(kw_min_props, min_props, K_MINPROPS)
KW_COUNT(kw_max_props, max_props, K_MAXPROPS)

static int kw_pattern(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        int r;

        (void)depth;
        if (!json_is_string(v))
                return schema_cerr(c, "must be a string");
        r = schema_regex_compile(c, json_string_value(v), json_string_length(v), &n->pattern);
        if (r < 0)
                return r;
        n->has |= K_PATTERN;
        return 0;
}

static int kw_format(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        const char *s = json_string_value(v);

        (void)depth;
        if (!s)
                return schema_cerr(c, "must be a string");
        if (streq(s, "date"))
                n->format = FORMAT_DATE;
        else if (streq(s, "date-time"))
                n->format = FORMAT_DATE_TIME;
        else
                return schema_cerr(c, "unsupported format '%s' (only date, date-time)", s);
        n->has |= K_FORMAT;
        return 0;
}

static int kw_items(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        if (json_is_array(v))
                return schema_cerr(c, "the array form of items is not supported (use prefixItems)");
        n->has |= K_ITEMS;
        return compile_child(c, v, depth, &n->items);
}

static int kw_prefix_items(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        n->has |= K_ITEMS;
        return kw_schema_array(c, v, depth, &n->prefix_items);
}

static int kw_unique(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        (void)depth;
        if (!json_is_boolean(v))
                return schema_cerr(c, "must be a boolean");
        if (json_is_true(v))
                n->has |= K_UNIQUE;
        return 0;
}

static int kw_required(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        json_t *e;
        size_t i;

        (void)depth;
        if (!json_is_array(v))
                return schema_cerr(c, "must be an array of strings");
        json_array_foreach (v, i, e) {
                if (!json_is_string(e))
                        return schema_cerr(c, "must be an array of strings");
                for (size_t j = 0; j < i; j++)
                        if (json_equal(e, json_array_get(v, j)))
                                return schema_cerr(c, "'%s' listed twice", json_string_value(e));
        }
        if (json_array_size(v) == 0)
                return 0;
        n->required = json_deep_copy(v);
        if (!n->required)
                return schema_cerr_nomem(c);
        n->has |= K_REQUIRED;
        return 0;
}

static int kw_properties(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        n->has |= K_PROPS;
        return kw_schema_map(c, v, depth, &n->prop_index, &n->props);
}

static int kw_pattern_props(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        if (!json_is_object(v))
                return schema_cerr(c, "must be an object of schemas");
        n->pattern_props = calloc(json_object_size(v) + 1, sizeof(PatternProp));
        if (!n->pattern_props)
                return schema_cerr_nomem(c);
        n->has |= K_PROPS;
        for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
                PatternProp *p = &n->pattern_props[n->n_pattern_props];
                const char *key = json_object_iter_key(it);
                size_t len = json_object_iter_key_len(it);
                size_t saved = schema_ptr_push(c, key, len);
                int r = schema_regex_compile(c, key, len, &p->rx);

                n->n_pattern_props++; /* so that node_free() frees the regex */
                if (r >= 0)
                        r = compile_child(c, json_object_iter_value(it), depth, &p->node);
                schema_ptr_pop(c, saved);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int kw_additional(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        n->has |= K_PROPS;
        return compile_child(c, v, depth, &n->additional);
}

static int kw_defs(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        return kw_schema_map(c, v, depth, &n->defs_index, &n->defs);
}

static int kw_ref(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        (void)depth;
        if (!json_is_string(v))
                return schema_cerr(c, "must be a string");
        n->ref_text = strdup(json_string_value(v));
        if (!n->ref_text)
                return schema_cerr_nomem(c);
        n->has |= K_APPLY;
        return 0; /* resolved once the whole document is compiled */
}

#define KW_LIST(fn, field)                                                                         \
        static int fn(Compiler *c, Node *n, json_t *v, unsigned depth)                             \
        {                                                                                          \
                n->has |= K_APPLY;                                                                 \
                return kw_schema_array(c, v, depth, &n->field);                                    \
        }
KW_LIST(kw_all_of, all_of)
KW_LIST(kw_any_of, any_of)
KW_LIST(kw_one_of, one_of)

#define KW_CHILD(fn, field)                                                                        \
        static int fn(Compiler *c, Node *n, json_t *v, unsigned depth)                             \
        {                                                                                          \
                n->has |= K_APPLY;                                                                 \
                return compile_child(c, v, depth, &n->field);                                      \
        }
KW_CHILD(kw_not, not_schema)
KW_CHILD(kw_if, if_schema)
KW_CHILD(kw_then, then_schema)
KW_CHILD(kw_else, else_schema)

/* The supported vocabulary. Anything else is refused, never ignored. */
static const struct {
        const char *name;
        KeywordFn fn;
} keywords[] = {
    {"$schema", kw_dialect},
    {"$id", kw_id},
    {"$defs", kw_defs},
    {"$ref", kw_ref},
    {"$comment", kw_annotation_string},
    {"title", kw_annotation_string},
    {"description", kw_annotation_string},
    {"examples", kw_examples},
    {"default", kw_default},
    {"type", kw_type},
    {"enum", kw_enum},
    {"const", kw_const},
    {"properties", kw_properties},
    {"required", kw_required},
    {"additionalProperties", kw_additional},
    {"patternProperties", kw_pattern_props},
    {"minProperties", kw_min_props},
    {"maxProperties", kw_max_props},
    {"items", kw_items},
    {"prefixItems", kw_prefix_items},
    {"minItems", kw_min_items},
    {"maxItems", kw_max_items},
    {"uniqueItems", kw_unique},
    {"minimum", kw_minimum},
    {"maximum", kw_maximum},
    {"exclusiveMinimum", kw_xminimum},
    {"exclusiveMaximum", kw_xmaximum},
    {"multipleOf", kw_multiple_of},
    {"minLength", kw_min_length},
    {"maxLength", kw_max_length},
    {"pattern", kw_pattern},
    {"format", kw_format},
    {"allOf", kw_all_of},
    {"anyOf", kw_any_of},
    {"oneOf", kw_one_of},
    {"not", kw_not},
    {"if", kw_if},
    {"then", kw_then},
    {"else", kw_else},
};

/* Compiles the schema v at the current pointer into a new node (owned by the
 * schema) stored in *ret. */
int schema_compile_node(Compiler *c, json_t *v, unsigned depth, Node **ret)
{
        Node *n = NULL;
        int r;

        if (depth > SCHEMA_MAX_DEPTH)
                return schema_cerr(c, "schema nested deeper than %d levels", SCHEMA_MAX_DEPTH);
        if (!json_is_object(v) && !json_is_boolean(v))
                return schema_cerr(c, "a schema must be an object or a boolean");
        r = schema_node_new(c, &n);
        if (r < 0)
                return r;
        *ret = n;
        if (json_is_false(v))
                n->has = K_FALSE;
        if (!json_is_object(v))
                return 0;
        for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
                const char *key = json_object_iter_key(it);
                size_t len = json_object_iter_key_len(it), saved, k;

                for (k = 0; k < ELEMENTSOF(keywords); k++)
                        if (strlen(keywords[k].name) == len &&
                            memcmp(keywords[k].name, key, len) == 0)
                                break;
                saved = schema_ptr_push(c, key, len);
                if (k == ELEMENTSOF(keywords)) {
                        Out name = {0};
                        char b[80];

                        schema_out_init(&name, b, sizeof(b));
                        schema_out_escaped(&name, key, len, '\'');
                        return schema_cerr(c, "unsupported keyword '%s'", b);
                }
                r = keywords[k].fn(c, n, json_object_iter_value(it), depth);
                if (r < 0)
                        return r;
                schema_ptr_pop(c, saved);
        }
        return 0;
}
