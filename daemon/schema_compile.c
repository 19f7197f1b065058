/* Compiling a JSON Schema document into nodes: the compiler's error and
 * pointer, node allocation, regexes, $ref resolution and the in-place chain
 * checks. The keywords themselves are in schema_keywords.c. */
#include <errno.h>
#include <locale.h>
#include <regex.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_impl.h"
#include "schema_regex.h"

_printf_(2, 3) int schema_cerr(Compiler *c, const char *fmt, ...)
{
        va_list ap;

        schema_out_printf(&c->err, "#%s: ", c->ptr);
        va_start(ap, fmt);
        schema_out_vprintf(&c->err, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

int schema_cerr_nomem(Compiler *c)
{
        schema_out_str(&c->err, "out of memory");
        c->nomem = true;
        return -ENOMEM;
}

/* Appends "/key" (escaped per RFC 6901) to the pointer. Returns the length
 * to give schema_ptr_pop(). A pointer too long for the buffer ends in "/...". */
size_t schema_ptr_push(Compiler *c, const char *key, size_t len)
{
        size_t saved = c->ptr_len;
        Out o = {.buf = c->ptr, .size = sizeof(c->ptr), .len = c->ptr_len};

        if (c->ptr_len + 5 >= sizeof(c->ptr))
                return saved;
        schema_out_write(&o, "/", 1);
        for (size_t i = 0; i < len && !o.full; i++) {
                if (o.len + 5 >= sizeof(c->ptr)) {
                        schema_out_str(&o, "...");
                        break;
                }
                if (key[i] == '~')
                        schema_out_write(&o, "~0", 2);
                else if (key[i] == '/')
                        schema_out_write(&o, "~1", 2);
                else
                        schema_out_write(&o, key + i, 1);
        }
        c->ptr_len = o.len;
        return saved;
}

size_t schema_ptr_push_index(Compiler *c, size_t i)
{
        char b[24];

        snprintf(b, sizeof(b), "%zu", i);
        return schema_ptr_push(c, b, strlen(b));
}

void schema_ptr_pop(Compiler *c, size_t saved)
{
        c->ptr_len = saved;
        c->ptr[saved] = '\0';
}

/* Points errors at a node compiled earlier (for $ref checks). */
static void ptr_set(Compiler *c, const char *where)
{
        Out o;

        schema_out_init(&o, c->ptr, sizeof(c->ptr));
        schema_out_str(&o, where);
        c->ptr_len = o.len;
}

static void regex_done(Regex *rx)
{
        if (rx->compiled)
                regfree(&rx->re);
        free(rx->source);
}

static Node *node_free(Node *n)
{
        if (!n)
                return NULL;
        json_decref(n->const_value);
        json_decref(n->enum_values);
        json_decref(n->required);
        json_decref(n->prop_index);
        json_decref(n->defs_index);
        free(n->const_text);
        free(n->enum_text);
        regex_done(&n->pattern);
        free(n->prefix_items.v);
        free(n->props.v);
        for (size_t i = 0; i < n->n_pattern_props; i++)
                regex_done(&n->pattern_props[i].rx);
        free(n->pattern_props);
        free(n->defs.v);
        free(n->ref_text);
        free(n->all_of.v);
        free(n->any_of.v);
        free(n->one_of.v);
        free(n->where);
        free(n);
        return NULL;
}

Schema *schema_free(Schema *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_nodes; i++)
                node_free(s->nodes[i]);
        free(s->nodes);
        free(s);
        return NULL;
}

/* Allocates a node at the current pointer, owned by the schema. */
int schema_node_new(Compiler *c, Node **ret)
{
        Schema *s = c->schema;
        _cleanup_free_ Node *n = NULL;

        if (s->n_nodes >= SCHEMA_MAX_NODES)
                return schema_cerr(c, "more than %d subschemas", SCHEMA_MAX_NODES);
        if (s->n_nodes == s->cap_nodes) {
                size_t cap = s->cap_nodes ? s->cap_nodes * 2 : 16;
                Node **v = realloc(s->nodes, cap * sizeof(*v));

                if (!v)
                        return schema_cerr_nomem(c);
                s->nodes = v;
                s->cap_nodes = cap;
        }
        n = calloc(1, sizeof(*n));
        if (!n)
                return schema_cerr_nomem(c);
        n->where = strdup(c->ptr);
        if (!n->where)
                return schema_cerr_nomem(c);
        *ret = n;
        s->nodes[s->n_nodes++] = TAKE_PTR(n);
        return 0;
}

/* Every compiled pattern gets a new id, never reused (0: none), so that a
 * memo entry can never answer for a later pattern at the same address. */
static atomic_uint_fast64_t regex_ids;

static bool run_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
}

/* A count of a quantifier: digits, at most 9999. */
static bool run_count(const char **p, const char *end, size_t *n)
{
        const char *s = *p;
        *n = 0;
        while (s < end && *s >= '0' && *s <= '9' && s - *p < 4)
                *n = *n * 10 + (size_t)(*s++ - '0');
        if (s == *p || (s < end && *s >= '0' && *s <= '9'))
                return false;
        *p = s;
        return true;
}

/* Whether src is exactly ^[items]q$ with items letters, digits, _, ranges
 * of those (a-z, A-Z, 0-9 within one kind) and - first or last, and q one
 * of {m,n} {m} + * or none: then a string matches when its length is in
 * [min, max] and each byte is in the class (ECMA: ^ and $ without the m
 * flag are the ends of the input, and a character outside ASCII is in no
 * such class). Anything else is left to regexec. */
static bool run_parse(const char *src, size_t len, Regex *rx)
{
        const char *p = src, *end = src + len;
        memset(rx->run_set, 0, sizeof(rx->run_set));
        if (len < 5 || *p++ != '^' || *p++ != '[' || end[-1] != '$')
                return false;
        end--;
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close || close == p)
                return false;
        for (const char *q = p; q < close; q++) {
                unsigned char lo = (unsigned char)*q, hi = lo;
                if (*q == '-' && (q == p || q + 1 == close)) {
                        /* literal */
                } else if (!run_char(*q)) {
                        return false;
                } else if (q + 2 < close && q[1] == '-') {
                        hi = (unsigned char)q[2];
                        bool same = (lo >= 'a' && hi <= 'z') || (lo >= 'A' && hi <= 'Z') ||
                                    (lo >= '0' && hi <= '9');
                        if (!run_char(q[2]) || hi < lo || !same)
                                return false;
                        q += 2;
                }
                for (unsigned c = lo; c <= hi; c++)
                        rx->run_set[c / 8] |= (uint8_t)(1u << (c % 8));
        }
        p = close + 1;
        if (p == end) {
                rx->run_min = rx->run_max = 1;
        } else if (*p == '+' && p + 1 == end) {
                rx->run_min = 1;
                rx->run_max = SIZE_MAX;
        } else if (*p == '*' && p + 1 == end) {
                rx->run_min = 0;
                rx->run_max = SIZE_MAX;
        } else if (*p == '{') {
                p++;
                if (!run_count(&p, end, &rx->run_min))
                        return false;
                rx->run_max = rx->run_min;
                if (p < end && *p == ',') {
                        p++;
                        if (!run_count(&p, end, &rx->run_max) || rx->run_max < rx->run_min)
                                return false;
                }
                if (p + 1 != end || *p != '}')
                        return false;
        } else {
                return false;
        }
        return true;
}

/* Compiles regex source (an ECMA pattern) into rx, in the C locale so that
 * the translated byte classes mean bytes whatever the process locale. */
int schema_regex_compile(Compiler *c, const char *src, size_t len, Regex *rx)
{
        char msg[160] = "";
        char *ere = NULL;
        locale_t old;
        int r;

        r = schema_regex_translate(src, len, &ere, msg, sizeof(msg));
        if (r == -ENOMEM)
                return schema_cerr_nomem(c);
        if (r < 0)
                return schema_cerr(c, "unsupported regex: %s", msg);
        old = uselocale(c->c_locale);
        r = regcomp(&rx->re, ere, REG_EXTENDED | REG_NOSUB);
        uselocale(old);
        free(ere);
        if (r != 0) {
                char b[128];

                regerror(r, &rx->re, b, sizeof(b));
                return r == REG_ESPACE ? schema_cerr_nomem(c)
                                       : schema_cerr(c, "unsupported regex: %s", b);
        }
        rx->compiled = true;
        /* regcomp still checks and holds it: the run is a faster answer to
         * the same question (test_schema compares the two). */
        rx->run = run_parse(src, len, rx);
        rx->id = atomic_fetch_add(&regex_ids, 1) + 1;
        rx->source = strndup(src, len);
        if (!rx->source)
                return schema_cerr_nomem(c);
        return 0;
}

/* The answers for short strings are remembered, per thread (preview
 * validates on several): the strings a schema's patterns meet mostly repeat
 * (the envelope's attribute names, checked against patternProperties for
 * every event), and glibc's regexec costs microseconds a call. A slot holds
 * one (pattern id, string) pair; a collision replaces it. */
#define REGEX_MEMO_SLOTS 64
#define REGEX_MEMO_TEXT 32
typedef struct {
        uint64_t id; /* 0: empty */
        uint8_t len;
        bool match;
        char s[REGEX_MEMO_TEXT];
} RegexMemo;
static _Thread_local RegexMemo regex_memo[REGEX_MEMO_SLOTS];

static RegexMemo *regex_memo_slot(uint64_t id, const char *s, size_t len)
{
        uint64_t h = 1469598103934665603ull ^ id;
        for (size_t i = 0; i < len; i++)
                h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
        return &regex_memo[(h ^ (h >> 29)) % REGEX_MEMO_SLOTS];
}

/* Returns 1 when rx matches somewhere in s[0..len), 0 when not, -ENOMEM. */
int schema_regex_search(const Regex *rx, const char *s, size_t len)
{
        regmatch_t m = {.rm_so = 0, .rm_eo = (regoff_t)len};
        RegexMemo *slot = NULL;
        int r;

        if (len > INT32_MAX)
                return -ENOMEM;
        if (rx->run) {
                if (len < rx->run_min || len > rx->run_max)
                        return 0;
                for (size_t i = 0; i < len; i++) {
                        unsigned char c = (unsigned char)s[i];
                        if (c >= 128 || !(rx->run_set[c / 8] & (1u << (c % 8))))
                                return 0;
                }
                return 1;
        }
        if (rx->id && len <= REGEX_MEMO_TEXT) {
                slot = regex_memo_slot(rx->id, s, len);
                if (slot->id == rx->id && slot->len == len && memcmp(slot->s, s, len) == 0)
                        return slot->match;
        }
        r = regexec(&rx->re, s, 1, &m, REG_STARTEND);
        if (r != 0 && r != REG_NOMATCH)
                return -ENOMEM;
        if (slot) {
                slot->id = rx->id;
                slot->len = (uint8_t)len;
                slot->match = r == 0;
                memcpy(slot->s, s, len);
        }
        return r == 0;
}

/* Decodes %XX escapes of a URI fragment in place; -EINVAL on a bad one. */
static int percent_decode(char *s, size_t *len)
{
        size_t o = 0;

        for (size_t i = 0; i < *len; i++) {
                if (s[i] != '%') {
                        s[o++] = s[i];
                        continue;
                }
                if (i + 2 >= *len)
                        return -EINVAL;
                int h = hex_value(s[i + 1]), l = hex_value(s[i + 2]);

                if (h < 0 || l < 0)
                        return -EINVAL;
                s[o++] = (char)(h * 16 + l);
                i += 2;
        }
        *len = o;
        return 0;
}

/* Unescapes one JSON pointer token (~0 ~1) in place. */
static int pointer_unescape(char *s, size_t *len)
{
        size_t o = 0;

        for (size_t i = 0; i < *len; i++) {
                if (s[i] != '~') {
                        s[o++] = s[i];
                        continue;
                }
                if (i + 1 >= *len || (s[i + 1] != '0' && s[i + 1] != '1'))
                        return -EINVAL;
                s[o++] = s[i + 1] == '0' ? '~' : '/';
                i++;
        }
        *len = o;
        return 0;
}

/* Resolves the $ref of node n: "#" or "#/$defs/name" (nested $defs too),
 * percent-decoded, then unescaped per RFC 6901. */
static int resolve_ref(Compiler *c, Node *n)
{
        const char *ref = n->ref_text;
        _cleanup_free_ char *frag = NULL;
        Node *at = c->schema->root;
        size_t len, pos = 0;

        ptr_set(c, n->where);
        schema_ptr_push(c, "$ref", 4);
        if (ref[0] != '#')
                return schema_cerr(
                    c, "remote $ref '%s' is not supported (only '#' and '#/$defs/...')", ref);
        frag = strdup(ref + 1);
        if (!frag)
                return schema_cerr_nomem(c);
        len = strlen(frag);
        if (percent_decode(frag, &len) < 0)
                return schema_cerr(c, "bad percent-encoding in $ref '%s'", ref);
        if (len > 0 && frag[0] != '/')
                return schema_cerr(c, "anchor $ref '%s' is not supported", ref);
        while (pos < len) {
                size_t start = ++pos, tok;
                json_t *idx;

                while (pos < len && frag[pos] != '/')
                        pos++;
                if (pos - start != 5 || memcmp(frag + start, "$defs", 5) != 0 || pos >= len)
                        return schema_cerr(
                            c, "$ref '%s' is not supported (only '#' and '#/$defs/...')", ref);
                start = ++pos;
                while (pos < len && frag[pos] != '/')
                        pos++;
                tok = pos - start;
                if (pointer_unescape(frag + start, &tok) < 0)
                        return schema_cerr(c, "bad JSON pointer escape in $ref '%s'", ref);
                idx = at->defs_index ? json_object_getn(at->defs_index, frag + start, tok) : NULL;
                if (!idx)
                        return schema_cerr(c, "$ref '%s' points to no schema", ref);
                at = at->defs.v[json_integer_value(idx)];
        }
        n->ref = at;
        return 0;
}

enum { MARK_NONE, MARK_ACTIVE, MARK_DONE };

/* Depth-first walk over the in-place edges ($ref and the applicators that
 * validate the same instance). A cycle would recurse forever at validation
 * time, so it is refused; so is a chain longer than SCHEMA_MAX_INPLACE.
 * n->chain memoizes the longest chain below n. */
static int check_inplace(Compiler *c, Node *n, Node **stack, unsigned depth)
{
        Node *single[] = {n->ref, n->not_schema, n->if_schema, n->then_schema, n->else_schema};
        const NodeList *lists[] = {&n->all_of, &n->any_of, &n->one_of};
        unsigned chain = 0;

        stack[depth] = n;
        n->mark = MARK_ACTIVE;
        n->stack_pos = depth;
        for (size_t l = 0; l <= ELEMENTSOF(lists); l++) {
                size_t count = l < ELEMENTSOF(lists) ? lists[l]->n : ELEMENTSOF(single);
                Node **v = l < ELEMENTSOF(lists) ? lists[l]->v : single;

                for (size_t i = 0; i < count; i++) {
                        Node *m = v[i];
                        int r;

                        if (!m)
                                continue;
                        if (m->mark == MARK_ACTIVE) {
                                /* Blame a $ref on the cycle: there is one. */
                                Node *blame = n;

                                for (unsigned k = m->stack_pos; k <= depth; k++)
                                        if (stack[k]->ref) {
                                                blame = stack[k];
                                                break;
                                        }
                                ptr_set(c, blame->where);
                                return schema_cerr(c, "$ref cycle that never descends into the "
                                                      "instance");
                        }
                        if (m->mark == MARK_NONE) {
                                if (depth + 1 > SCHEMA_MAX_INPLACE) {
                                        ptr_set(c, m->where);
                                        return schema_cerr(c,
                                                           "chain of $ref and applicators longer "
                                                           "than %d",
                                                           SCHEMA_MAX_INPLACE);
                                }
                                r = check_inplace(c, m, stack, depth + 1);
                                if (r < 0)
                                        return r;
                        }
                        if (m->chain + 1 > chain)
                                chain = m->chain + 1;
                }
        }
        if (depth + chain > SCHEMA_MAX_INPLACE) {
                ptr_set(c, n->where);
                return schema_cerr(c, "chain of $ref and applicators longer than %d",
                                   SCHEMA_MAX_INPLACE);
        }
        n->chain = chain;
        n->mark = MARK_DONE;
        return 0;
}

Schema *schema_compile(json_t *doc, char *err, size_t errlen)
{
        Compiler c = {.ptr = ""};
        Node *stack[SCHEMA_MAX_INPLACE + 2];
        Schema *s = NULL;
        int r;

        schema_out_init(&c.err, err, errlen);
        if (!doc) {
                schema_out_str(&c.err, "no schema document");
                return NULL;
        }
        c.c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        s = calloc(1, sizeof(*s));
        if (!s || !c.c_locale) {
                schema_cerr_nomem(&c);
                goto fail;
        }
        c.schema = s;
        r = schema_compile_node(&c, doc, 0, &s->root);
        for (size_t i = 0; r >= 0 && i < s->n_nodes; i++)
                if (s->nodes[i]->ref_text)
                        r = resolve_ref(&c, s->nodes[i]);
        for (size_t i = 0; r >= 0 && i < s->n_nodes; i++)
                if (s->nodes[i]->mark == MARK_NONE)
                        r = check_inplace(&c, s->nodes[i], stack, 0);
        if (r < 0)
                goto fail;
        freelocale(c.c_locale);
        return s;
fail:
        if (c.c_locale)
                freelocale(c.c_locale);
        schema_free(s);
        errno = c.nomem ? ENOMEM : EINVAL;
        return NULL;
}
