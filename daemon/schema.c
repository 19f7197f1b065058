/* JSON Schema (2020-12 subset) compiler and validator.
 *
 * Compile walks the document once and turns each schema object into a Node:
 * a bit set of the assertions present plus their operands, child nodes for
 * the applicators. Every node is also kept in one array owned by the Schema,
 * which makes freeing and the $ref checks simple (refs make the node graph
 * cyclic). Validation follows the nodes and touches no keyword name.
 *
 * Limits: schema nesting (SCHEMA_MAX_DEPTH), node count, chains of in-place
 * applicators ($ref, allOf, anyOf, oneOf, not, if/then/else) that never
 * descend into the instance (a cycle of them is refused: it would never end),
 * instance nesting during validation (VALIDATE_MAX_DEPTH) and total recursion
 * (VALIDATE_MAX_CALLS). Exceeding a limit during validation is an error that
 * no `not` or `anyOf` can turn into a success. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "schema.h"

#define SCHEMA_MAX_DEPTH 64     /* nesting of subschemas in a document */
#define SCHEMA_MAX_NODES 65536  /* subschemas in a document */
#define SCHEMA_MAX_INPLACE 64   /* longest chain of in-place applicators */
#define VALUE_MAX_DEPTH 64      /* nesting of const and enum values */
#define VALIDATE_MAX_DEPTH 128  /* instance nesting followed by validation */
#define VALIDATE_MAX_CALLS 1024 /* node visits on the stack at once */
#define UNIQUE_PAIRWISE_MAX 32  /* uniqueItems: above this, hash and sort */
#define PTR_MAX 512             /* JSON pointer text in compile errors */
#define TEXT_MAX 256            /* enum and const renderings in messages */
#define SET_MAX_FILES 4096
#define SET_MAX_FILE_SIZE (4 << 20)

#define DIALECT_2020_12 "https://json-schema.org/draft/2020-12/schema"

/* ---- bounded, UTF-8 safe text output ------------------------------------ */

typedef struct Out {
        char *buf;
        size_t size;
        size_t len;
        bool full; /* truncated once: later writes are dropped */
} Out;

static void out_init(Out *o, char *buf, size_t size)
{
        *o = (Out){.buf = buf, .size = buf ? size : 0};
        if (o->size > 0)
                buf[0] = '\0';
}

/* After truncation, cut a partial UTF-8 sequence off the end, so messages
 * stay valid UTF-8 (they end up in Kafka headers and logs). */
static void out_truncated(Out *o)
{
        size_t i = o->len;

        o->full = true;
        while (i > 0 && ((unsigned char)o->buf[i - 1] & 0xC0) == 0x80)
                i--;
        if (i > 0) {
                unsigned char lead = (unsigned char)o->buf[i - 1];
                size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;

                if (o->len - (i - 1) < need)
                        o->len = i - 1;
        }
        o->buf[o->len] = '\0';
}

static void out_write(Out *o, const char *s, size_t n)
{
        if (o->size == 0 || o->full)
                return;
        size_t room = o->size - 1 - o->len;
        bool cut = n > room;

        if (cut)
                n = room;
        memcpy(o->buf + o->len, s, n);
        o->len += n;
        o->buf[o->len] = '\0';
        if (cut)
                out_truncated(o);
}

static void out_str(Out *o, const char *s)
{
        out_write(o, s, strlen(s));
}

static void out_vprintf(Out *o, const char *fmt, va_list ap)
{
        if (o->size == 0 || o->full)
                return;
        size_t room = o->size - o->len;
        int r = vsnprintf(o->buf + o->len, room, fmt, ap);

        if (r < 0) {
                o->buf[o->len] = '\0';
                return;
        }
        if ((size_t)r >= room) {
                o->len = o->size - 1;
                out_truncated(o);
        } else
                o->len += (size_t)r;
}

_printf_(2, 3) static void out_printf(Out *o, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        out_vprintf(o, fmt, ap);
        va_end(ap);
}

/* Writes s[0..n) with control characters, backslash and quote escaped, so a
 * name from a document cannot break the one-line message. */
static void out_escaped(Out *o, const char *s, size_t n, char quote)
{
        size_t run = 0;

        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)s[i];

                if (ch >= 0x20 && ch != 0x7F && ch != '\\' && ch != (unsigned char)quote)
                        continue;
                out_write(o, s + run, i - run);
                if (ch == '\\' || ch == (unsigned char)quote)
                        out_printf(o, "\\%c", ch);
                else
                        out_printf(o, "\\u%04x", ch);
                run = i + 1;
        }
        out_write(o, s + run, n - run);
}

/* ---- numbers -------------------------------------------------------------- */

/* A JSON number kept exactly as jansson holds it. */
typedef struct Num {
        bool is_int;
        json_int_t i;
        double d;
} Num;

static Num num_of(const json_t *v)
{
        if (json_is_integer(v))
                return (Num){.is_int = true, .i = json_integer_value(v)};
        return (Num){.d = json_real_value(v)};
}

static double num_double(Num n)
{
        return n.is_int ? (double)n.i : n.d;
}

/* Compares an integer with a finite double without rounding the integer. */
static int cmp_int_real(json_int_t i, double d)
{
        if (d >= 9223372036854775808.0)
                return -1;
        if (d < -9223372036854775808.0)
                return 1;
        double t = trunc(d);
        json_int_t ti = (json_int_t)t;

        if (i != ti)
                return i < ti ? -1 : 1;
        return d > t ? -1 : d < t ? 1 : 0;
}

/* Returns <0, 0, >0 as a <, ==, > b; 1 == 1.0. */
static int num_cmp(Num a, Num b)
{
        if (a.is_int && b.is_int)
                return a.i < b.i ? -1 : a.i > b.i;
        if (a.is_int)
                return cmp_int_real(a.i, b.d);
        if (b.is_int)
                return -cmp_int_real(b.i, a.d);
        return a.d < b.d ? -1 : a.d > b.d;
}

/* Writes n in its shortest round-tripping form ("0.01", not 0.0100000...). */
static void out_num(Out *o, Num n)
{
        char buf[64];

        if (n.is_int) {
                out_printf(o, "%" JSON_INTEGER_FORMAT, n.i);
                return;
        }
        for (int prec = 15; prec <= 17; prec++) {
                snprintf(buf, sizeof(buf), "%.*g", prec, n.d);
                if (strtod(buf, NULL) == n.d)
                        break;
        }
        out_str(o, buf);
}

/* Whether x is a multiple of m (m > 0). Integers are exact; otherwise the
 * quotient is checked for being whole within its rounding error, so that
 * 19.99 is a multiple of 0.01 although neither is exact in binary. */
static bool num_multiple_of(Num x, Num m)
{
        if (x.is_int && m.is_int)
                return x.i % m.i == 0;
        double q = num_double(x) / num_double(m);

        if (!isfinite(q))
                return false;
        return fabs(q - nearbyint(q)) <= fmax(fabs(q), 1.0) * 4 * DBL_EPSILON;
}

/* ---- instance types and deep equality ------------------------------------ */

enum {
        T_NULL = 1 << 0,
        T_BOOLEAN = 1 << 1,
        T_OBJECT = 1 << 2,
        T_ARRAY = 1 << 3,
        T_NUMBER = 1 << 4,
        T_INTEGER = 1 << 5,
        T_STRING = 1 << 6,
};

static const struct {
        const char *name;
        unsigned bit;
} type_names[] = {
    {"null", T_NULL},     {"boolean", T_BOOLEAN}, {"object", T_OBJECT}, {"array", T_ARRAY},
    {"number", T_NUMBER}, {"integer", T_INTEGER}, {"string", T_STRING},
};

/* Type bits an instance satisfies: an integer is a number, a whole real is an
 * integer. jansson never holds NaN or infinity. */
static unsigned type_bits(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return T_OBJECT;
        case JSON_ARRAY:
                return T_ARRAY;
        case JSON_STRING:
                return T_STRING;
        case JSON_INTEGER:
                return T_INTEGER | T_NUMBER;
        case JSON_REAL: {
                double d = json_real_value(v);

                return T_NUMBER | (d == trunc(d) ? T_INTEGER : 0);
        }
        case JSON_TRUE:
        case JSON_FALSE:
                return T_BOOLEAN;
        case JSON_NULL:
                return T_NULL;
        }
        return 0;
}

static const char *type_name_of(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "object";
        case JSON_ARRAY:
                return "array";
        case JSON_STRING:
                return "string";
        case JSON_INTEGER:
                return "integer";
        case JSON_REAL:
                return "number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "boolean";
        case JSON_NULL:
                return "null";
        }
        return "?";
}

/* JSON Schema equality: numbers by value (1 == 1.0), objects regardless of
 * key order. Returns 1 equal, 0 not, -ELOOP when nesting exceeds depth. */
static int deep_equal(const json_t *a, const json_t *b, unsigned depth)
{
        bool an = json_is_number(a), bn = json_is_number(b);

        if (an || bn)
                return an && bn && num_cmp(num_of(a), num_of(b)) == 0;
        if (json_typeof(a) != json_typeof(b))
                return 0;
        switch (json_typeof(a)) {
        case JSON_STRING:
                return json_string_length(a) == json_string_length(b) &&
                       memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) ==
                           0;
        case JSON_ARRAY: {
                size_t n = json_array_size(a);

                if (n != json_array_size(b))
                        return 0;
                if (n > 0 && depth == 0)
                        return -ELOOP;
                for (size_t i = 0; i < n; i++) {
                        int r = deep_equal(json_array_get(a, i), json_array_get(b, i), depth - 1);

                        if (r <= 0)
                                return r;
                }
                return 1;
        }
        case JSON_OBJECT: {
                json_t *oa = (json_t *)a; /* iteration does not modify */

                if (json_object_size(a) != json_object_size(b))
                        return 0;
                if (json_object_size(a) > 0 && depth == 0)
                        return -ELOOP;
                for (void *it = json_object_iter(oa); it; it = json_object_iter_next(oa, it)) {
                        const json_t *vb = json_object_getn(b, json_object_iter_key(it),
                                                            json_object_iter_key_len(it));
                        int r;

                        if (!vb)
                                return 0;
                        r = deep_equal(json_object_iter_value(it), vb, depth - 1);
                        if (r <= 0)
                                return r;
                }
                return 1;
        }
        default:
                return 1; /* true, false, null: same type is equal */
        }
}

/* A hash consistent with deep_equal (equal values hash equally), for
 * uniqueItems on long arrays. Returns 0, or -ELOOP past depth. */
static int deep_hash(const json_t *v, unsigned depth, uint64_t *ret)
{
        const uint64_t prime = 0x100000001b3ULL;
        uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)json_typeof(v);

        switch (json_typeof(v)) {
        case JSON_INTEGER:
        case JSON_REAL: {
                double d = json_is_real(v) ? json_real_value(v) : 0;
                uint64_t bits;

                /* Whole reals in range hash as the integer they equal. */
                if (json_is_integer(v))
                        bits = (uint64_t)json_integer_value(v);
                else if (d == trunc(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
                        bits = (uint64_t)(json_int_t)d;
                else
                        memcpy(&bits, &d, sizeof(bits));
                h = (0xcbf29ce484222325ULL ^ bits) * prime;
                break;
        }
        case JSON_STRING: {
                const unsigned char *s = (const unsigned char *)json_string_value(v);

                for (size_t i = 0, n = json_string_length(v); i < n; i++)
                        h = (h ^ s[i]) * prime;
                break;
        }
        case JSON_ARRAY:
                if (json_array_size(v) > 0 && depth == 0)
                        return -ELOOP;
                for (size_t i = 0; i < json_array_size(v); i++) {
                        uint64_t e;
                        int r = deep_hash(json_array_get(v, i), depth - 1, &e);

                        if (r < 0)
                                return r;
                        h = (h ^ e) * prime;
                }
                break;
        case JSON_OBJECT: {
                json_t *o = (json_t *)v;
                uint64_t sum = 0;

                if (json_object_size(v) > 0 && depth == 0)
                        return -ELOOP;
                /* Order-independent: sum of per-member hashes. */
                for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
                        const unsigned char *k = (const unsigned char *)json_object_iter_key(it);
                        uint64_t kh = 0xcbf29ce484222325ULL, e;
                        int r = deep_hash(json_object_iter_value(it), depth - 1, &e);

                        if (r < 0)
                                return r;
                        for (size_t i = 0, n = json_object_iter_key_len(it); i < n; i++)
                                kh = (kh ^ k[i]) * prime;
                        sum += (kh ^ e) * prime;
                }
                h ^= sum;
                break;
        }
        default:
                break;
        }
        *ret = h;
        return 0;
}

static bool value_depth_ok(const json_t *v, unsigned depth)
{
        if (json_is_array(v)) {
                if (json_array_size(v) > 0 && depth == 0)
                        return false;
                for (size_t i = 0; i < json_array_size(v); i++)
                        if (!value_depth_ok(json_array_get(v, i), depth - 1))
                                return false;
        } else if (json_is_object(v)) {
                json_t *o = (json_t *)v;

                if (json_object_size(v) > 0 && depth == 0)
                        return false;
                for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it))
                        if (!value_depth_ok(json_object_iter_value(it), depth - 1))
                                return false;
        }
        return true;
}

/* ---- ECMA-262 regex to POSIX ERE ------------------------------------------
 *
 * Patterns are translated for regcomp(REG_EXTENDED | REG_NOSUB) in the C
 * locale, where the ERE works on bytes. To keep ECMA's per-character
 * semantics on UTF-8 text, every construct that can match a non-ASCII code
 * point (".", "\S", "[^a-z]", "[\u4e00-\u9fa5]", a literal "日") becomes a
 * group of byte sequences, so that quantifiers and anchors count characters.
 * Only the existence of a match matters (no captures), so non-capturing and
 * lazy forms translate to their plain ones. Anything else ECMA-only
 * (backreferences, lookaround, \b, named groups, \p) is refused. */

#define RX_MAX_TEXT 65536  /* translated pattern bytes */
#define RX_MAX_COST 65536  /* translated bytes after expanding counted repeats */
#define RX_MAX_GROUPS 32   /* group nesting */
#define RX_MAX_REPEAT 1000 /* bound of {n,m} */
#define CPSET_MAX 256
#define CP_MAX 0x10FFFFu

typedef struct CpRange {
        uint32_t lo, hi;
} CpRange;

/* A set of code points as ranges; cpset_normalize() sorts and merges. */
typedef struct CpSet {
        CpRange r[CPSET_MAX];
        size_t n;
} CpSet;

typedef struct Rx {
        const char *src;
        size_t len, pos;
        char *out;
        size_t out_len, out_cap;
        char *msg;
        size_t msglen;
        unsigned groups;                /* open groups */
        size_t cost[RX_MAX_GROUPS + 1]; /* expanded size of each open group */
        size_t last;                    /* expanded size of the last atom; 0: none */
} Rx;

_printf_(2, 3) static int rx_fail(Rx *t, const char *fmt, ...)
{
        Out o;
        va_list ap;

        out_init(&o, t->msg, t->msglen);
        va_start(ap, fmt);
        out_vprintf(&o, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static int rx_emit(Rx *t, const char *s, size_t n)
{
        if (t->out_len + n + 1 > RX_MAX_TEXT)
                return rx_fail(t, "pattern too long after translation");
        if (t->out_len + n + 1 > t->out_cap) {
                size_t cap = t->out_cap ? t->out_cap : 64;
                char *p;

                while (cap < t->out_len + n + 1)
                        cap *= 2;
                p = realloc(t->out, cap);
                if (!p)
                        return -ENOMEM;
                t->out = p;
                t->out_cap = cap;
        }
        memcpy(t->out + t->out_len, s, n);
        t->out_len += n;
        t->out[t->out_len] = '\0';
        return 0;
}

static int rx_emit_str(Rx *t, const char *s)
{
        return rx_emit(t, s, strlen(s));
}

static int rx_emit_byte(Rx *t, uint32_t b)
{
        char c = (char)b;

        return rx_emit(t, &c, 1);
}

/* Adds size to the current group's expanded cost and checks the bound. */
static int rx_cost(Rx *t, size_t size)
{
        t->cost[t->groups] += size;
        if (t->cost[t->groups] > RX_MAX_COST)
                return rx_fail(t, "pattern too complex after translation (bound lengths with "
                                  "minLength/maxLength)");
        return 0;
}

/* Decodes one UTF-8 code point at s[*pos] (jansson strings are valid UTF-8;
 * anything else is refused). */
static int utf8_decode(const char *s, size_t len, size_t *pos, uint32_t *ret)
{
        const unsigned char *p = (const unsigned char *)s + *pos;
        size_t left = len - *pos, n;
        uint32_t cp;

        if (left == 0)
                return -EINVAL;
        if (p[0] < 0x80) {
                *ret = p[0];
                *pos += 1;
                return 0;
        }
        if (p[0] >= 0xF0 && p[0] <= 0xF4)
                n = 4, cp = p[0] & 0x07;
        else if (p[0] >= 0xE0)
                n = 3, cp = p[0] & 0x0F;
        else if (p[0] >= 0xC2)
                n = 2, cp = p[0] & 0x1F;
        else
                return -EINVAL;
        if (p[0] > 0xF4 || left < n)
                return -EINVAL;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xC0) != 0x80)
                        return -EINVAL;
                cp = (cp << 6) | (p[i] & 0x3F);
        }
        *ret = cp;
        *pos += n;
        return 0;
}

static size_t utf8_encode(uint32_t cp, unsigned char *b)
{
        if (cp < 0x80) {
                b[0] = (unsigned char)cp;
                return 1;
        }
        if (cp < 0x800) {
                b[0] = (unsigned char)(0xC0 | (cp >> 6));
                b[1] = (unsigned char)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                b[0] = (unsigned char)(0xE0 | (cp >> 12));
                b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                b[2] = (unsigned char)(0x80 | (cp & 0x3F));
                return 3;
        }
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        return 4;
}

static int cpset_add(CpSet *s, uint32_t lo, uint32_t hi)
{
        if (s->n >= CPSET_MAX)
                return -E2BIG;
        s->r[s->n++] = (CpRange){lo, hi};
        return 0;
}

static int cprange_cmp(const void *a, const void *b)
{
        const CpRange *x = a, *y = b;

        return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void cpset_normalize(CpSet *s)
{
        size_t n = 0;

        if (s->n == 0)
                return;
        qsort(s->r, s->n, sizeof(s->r[0]), cprange_cmp);
        for (size_t i = 1; i < s->n; i++) {
                if (s->r[i].lo <= s->r[n].hi + 1) {
                        if (s->r[i].hi > s->r[n].hi)
                                s->r[n].hi = s->r[i].hi;
                } else
                        s->r[++n] = s->r[i];
        }
        s->n = n + 1;
}

static int cpset_negate(CpSet *s)
{
        CpSet neg = {.n = 0};
        uint32_t next = 0;
        int r;

        cpset_normalize(s);
        for (size_t i = 0; i < s->n; i++) {
                if (s->r[i].lo > next) {
                        r = cpset_add(&neg, next, s->r[i].lo - 1);
                        if (r < 0)
                                return r;
                }
                next = s->r[i].hi + 1;
        }
        if (next <= CP_MAX) {
                r = cpset_add(&neg, next, CP_MAX);
                if (r < 0)
                        return r;
        }
        *s = neg;
        return 0;
}

/* Adds the class escape \d \D \w \W \s \S (ECMA definitions) to s. */
static int cpset_add_class(CpSet *s, char which)
{
        static const CpRange digit[] = {{'0', '9'}};
        static const CpRange word[] = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
        static const CpRange space[] = {{0x09, 0x0D},     {0x20, 0x20},     {0xA0, 0xA0},
                                        {0x1680, 0x1680}, {0x2000, 0x200A}, {0x2028, 0x2029},
                                        {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000},
                                        {0xFEFF, 0xFEFF}};
        const CpRange *src;
        size_t n;
        CpSet tmp = {.n = 0};
        int r;

        switch (which) {
        case 'd':
        case 'D':
                src = digit, n = ELEMENTSOF(digit);
                break;
        case 'w':
        case 'W':
                src = word, n = ELEMENTSOF(word);
                break;
        default:
                src = space, n = ELEMENTSOF(space);
                break;
        }
        for (size_t i = 0; i < n; i++)
                tmp.r[tmp.n++] = src[i];
        if (which == 'D' || which == 'W' || which == 'S') {
                r = cpset_negate(&tmp);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < tmp.n; i++) {
                r = cpset_add(s, tmp.r[i].lo, tmp.r[i].hi);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Emits the UTF-8 byte sequences of [lo, hi] (same encoded length, all
 * >= 0x80) as alternatives, splitting until each is a product of byte
 * ranges (the classic utf8-ranges construction). */
static int rx_emit_utf8_range(Rx *t, uint32_t lo, uint32_t hi, bool *first)
{
        static const uint32_t limits[] = {0x7FF, 0xFFFF};
        unsigned char a[4], b[4];
        size_t n;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(limits); i++)
                if (lo <= limits[i] && hi > limits[i]) {
                        r = rx_emit_utf8_range(t, lo, limits[i], first);
                        return r < 0 ? r : rx_emit_utf8_range(t, limits[i] + 1, hi, first);
                }
        n = utf8_encode(lo, a);
        for (size_t i = 1; i < n; i++) {
                uint32_t m = (1u << (6 * i)) - 1;

                if ((lo & ~m) == (hi & ~m))
                        continue;
                if ((lo & m) != 0) {
                        r = rx_emit_utf8_range(t, lo, lo | m, first);
                        return r < 0 ? r : rx_emit_utf8_range(t, (lo | m) + 1, hi, first);
                }
                if ((hi & m) != m) {
                        r = rx_emit_utf8_range(t, lo, (hi & ~m) - 1, first);
                        return r < 0 ? r : rx_emit_utf8_range(t, hi & ~m, hi, first);
                }
        }
        utf8_encode(hi, b);
        if (!*first) {
                r = rx_emit_str(t, "|");
                if (r < 0)
                        return r;
        }
        *first = false;
        for (size_t i = 0; i < n; i++) {
                if (a[i] == b[i])
                        r = rx_emit_byte(t, a[i]);
                else {
                        char br[6] = {'[', (char)a[i], '-', (char)b[i], ']', '\0'};

                        r = rx_emit_str(t, br);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Emits one ASCII character outside a bracket expression, escaped so that
 * it is literal in an ERE. */
static int rx_emit_ascii_literal(Rx *t, unsigned ch)
{
        char b[4] = {0};

        if (ch == '^')
                return rx_emit_str(t, "\\^");
        if (strchr(".[]()*+?{}|$\\", (int)ch)) {
                b[0] = '[', b[1] = (char)ch, b[2] = ']';
                return rx_emit_str(t, b);
        }
        return rx_emit_byte(t, ch);
}

/* Emits the ASCII members (1..127) of a set as a POSIX bracket expression:
 * ']' first, '^' never first, '-' last; POSIX has no escapes inside. */
static int rx_emit_ascii_bracket(Rx *t, const bool in[128], size_t count)
{
        int r;

        if (count == 1)
                for (unsigned c = 1; c < 128; c++)
                        if (in[c])
                                return rx_emit_ascii_literal(t, c);
        r = rx_emit_str(t, "[");
        if (r >= 0 && in[']'])
                r = rx_emit_str(t, "]");
        for (unsigned c = 1; r >= 0 && c < 128; c++) {
                unsigned end = c;

                if (!in[c] || c == ']' || c == '^' || c == '-')
                        continue;
                while (end + 1 < 128 && in[end + 1] && end + 1 != ']' && end + 1 != '^' &&
                       end + 1 != '-')
                        end++;
                if (end - c >= 2) {
                        char b[4] = {(char)c, '-', (char)end, '\0'};

                        r = rx_emit_str(t, b);
                } else
                        for (unsigned k = c; r >= 0 && k <= end; k++)
                                r = rx_emit_byte(t, k);
                c = end;
        }
        /* Only '^' and '-' present: "[-^]", as "[^-]" would negate. */
        if (r >= 0 && in['^'] && in['-'] && count == 2)
                r = rx_emit_str(t, "-^");
        else {
                if (r >= 0 && in['^'])
                        r = rx_emit_str(t, "^");
                if (r >= 0 && in['-'])
                        r = rx_emit_str(t, "-");
        }
        return r < 0 ? r : rx_emit_str(t, "]");
}

/* Emits a code point set as one ERE atom. NUL is left out: it cannot be
 * written in a C pattern (and jansson refuses it in parsed strings). */
static int rx_emit_set(Rx *t, CpSet *s)
{
        bool in[128] = {false}, first = true;
        size_t count = 0, start = t->out_len;
        bool wide = false;
        int r;

        cpset_normalize(s);
        for (size_t i = 0; i < s->n; i++) {
                for (uint32_t c = s->r[i].lo < 1 ? 1 : s->r[i].lo; c <= s->r[i].hi && c < 128; c++)
                        in[c] = true, count++;
                if (s->r[i].hi >= 0x80)
                        wide = true;
        }
        if (count == 0 && !wide)
                return rx_fail(t, "character class matches nothing");
        if (wide) {
                r = rx_emit_str(t, "(");
                if (r < 0)
                        return r;
        }
        if (count > 0) {
                r = rx_emit_ascii_bracket(t, in, count);
                if (r < 0)
                        return r;
                first = false;
        }
        for (size_t i = 0; wide && i < s->n; i++) {
                if (s->r[i].hi < 0x80)
                        continue;
                r = rx_emit_utf8_range(t, s->r[i].lo < 0x80 ? 0x80 : s->r[i].lo, s->r[i].hi,
                                       &first);
                if (r < 0)
                        return r;
        }
        if (wide) {
                r = rx_emit_str(t, ")");
                if (r < 0)
                        return r;
        }
        t->last = t->out_len - start;
        return rx_cost(t, t->last);
}

static int rx_emit_literal(Rx *t, uint32_t cp)
{
        CpSet s = {.n = 1, .r = {{cp, cp}}};

        if (cp == 0)
                return rx_fail(t, "NUL in pattern is not supported");
        return rx_emit_set(t, &s);
}

static int hex_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static int rx_hex(Rx *t, size_t digits, uint32_t *ret)
{
        uint32_t v = 0;

        if (t->len - t->pos < digits)
                return -EINVAL;
        for (size_t i = 0; i < digits; i++) {
                int h = hex_value(t->src[t->pos + i]);

                if (h < 0)
                        return -EINVAL;
                v = v * 16 + (uint32_t)h;
        }
        t->pos += digits;
        *ret = v;
        return 0;
}

/* Parses the escape after a backslash. Sets *cls to d D w W s S for a class
 * escape, or *cp to the character. in_class: inside [...], where \b is a
 * backspace. */
static int rx_escape(Rx *t, bool in_class, char *cls, uint32_t *cp)
{
        char c;

        *cls = 0;
        if (t->pos >= t->len)
                return rx_fail(t, "pattern ends with a backslash");
        c = t->src[t->pos++];
        switch (c) {
        case 'd':
        case 'D':
        case 'w':
        case 'W':
        case 's':
        case 'S':
                *cls = c;
                return 0;
        case 'n':
                *cp = '\n';
                return 0;
        case 'r':
                *cp = '\r';
                return 0;
        case 't':
                *cp = '\t';
                return 0;
        case 'f':
                *cp = '\f';
                return 0;
        case 'v':
                *cp = '\v';
                return 0;
        case 'b':
                if (in_class) {
                        *cp = '\b';
                        return 0;
                }
                return rx_fail(t, "word boundary \\b is not supported");
        case 'x':
                if (rx_hex(t, 2, cp) < 0)
                        return rx_fail(t, "invalid \\x escape");
                return 0;
        case 'u': {
                uint32_t low;

                if (rx_hex(t, 4, cp) < 0)
                        return rx_fail(t, "invalid \\u escape (\\u{...} is not supported)");
                if (*cp >= 0xDC00 && *cp <= 0xDFFF)
                        return rx_fail(t, "lone surrogate in \\u escape");
                if (*cp < 0xD800 || *cp > 0xDBFF)
                        return 0;
                if (t->len - t->pos < 6 || t->src[t->pos] != '\\' || t->src[t->pos + 1] != 'u')
                        return rx_fail(t, "lone surrogate in \\u escape");
                t->pos += 2;
                if (rx_hex(t, 4, &low) < 0 || low < 0xDC00 || low > 0xDFFF)
                        return rx_fail(t, "lone surrogate in \\u escape");
                *cp = 0x10000 + ((*cp - 0xD800) << 10) + (low - 0xDC00);
                return 0;
        }
        default:
                break;
        }
        if (c >= '1' && c <= '9')
                return rx_fail(t, "backreferences are not supported");
        if (c != '\0' && strchr("^$\\.*+?()[]{}|/-", c)) {
                *cp = (unsigned char)c;
                return 0;
        }
        if (c > 0x20 && c < 0x7F)
                return rx_fail(t, "escape \\%c is not supported", c);
        return rx_fail(t, "this escape is not supported");
}

/* Reads one class member character (after '[' and not ']'): an escape or a
 * code point. */
static int rx_class_atom(Rx *t, char *cls, uint32_t *cp)
{
        if (t->src[t->pos] == '\\') {
                t->pos++;
                return rx_escape(t, true, cls, cp);
        }
        *cls = 0;
        if (utf8_decode(t->src, t->len, &t->pos, cp) < 0)
                return rx_fail(t, "invalid UTF-8");
        return 0;
}

/* Parses "[...]" (t->pos after '[') into a set and emits it. */
static int rx_class(Rx *t)
{
        CpSet s = {.n = 0};
        bool negate = false;
        int r;

        if (t->pos < t->len && t->src[t->pos] == '^')
                negate = true, t->pos++;
        if (t->pos < t->len && t->src[t->pos] == ']' && !negate)
                return rx_fail(t, "empty character class [] is not supported");
        while (t->pos < t->len && t->src[t->pos] != ']') {
                char cls, cls2;
                uint32_t lo, hi;

                r = rx_class_atom(t, &cls, &lo);
                if (r < 0)
                        return r;
                if (t->pos + 1 < t->len && t->src[t->pos] == '-' && t->src[t->pos + 1] != ']') {
                        t->pos++;
                        r = rx_class_atom(t, &cls2, &hi);
                        if (r < 0)
                                return r;
                        if (cls || cls2)
                                return rx_fail(t, "range with a class escape is not supported");
                        if (lo > hi)
                                return rx_fail(t, "character class range out of order");
                        r = cpset_add(&s, lo, hi);
                } else if (cls)
                        r = cpset_add_class(&s, cls);
                else
                        r = cpset_add(&s, lo, lo);
                if (r < 0)
                        return rx_fail(t, "character class too large");
        }
        if (t->pos >= t->len)
                return rx_fail(t, "unterminated character class");
        t->pos++;
        if (negate && cpset_negate(&s) < 0)
                return rx_fail(t, "character class too large");
        return rx_emit_set(t, &s);
}

/* Parses "{n}", "{n,}" or "{n,m}" at t->pos ('{'). Returns 1 and advances
 * when it is one, 0 when the brace is a literal (ECMA Annex B). */
static int rx_braces(Rx *t, unsigned long *min, unsigned long *max, bool *bounded)
{
        size_t p = t->pos + 1;
        unsigned long a = 0, b = 0;
        size_t da = 0, db = 0;

        while (p < t->len && t->src[p] >= '0' && t->src[p] <= '9' && da < 9)
                a = a * 10 + (unsigned long)(t->src[p++] - '0'), da++;
        if (da == 0 || p >= t->len)
                return 0;
        *bounded = true;
        if (t->src[p] == ',') {
                p++;
                while (p < t->len && t->src[p] >= '0' && t->src[p] <= '9' && db < 9)
                        b = b * 10 + (unsigned long)(t->src[p++] - '0'), db++;
                if (db == 0)
                        *bounded = false;
        } else
                b = a;
        if (p >= t->len || t->src[p] != '}')
                return 0;
        t->pos = p + 1;
        *min = a;
        *max = b;
        return 1;
}

static int rx_quantifier(Rx *t, const char *text, unsigned long factor)
{
        int r;

        if (t->last == 0)
                return rx_fail(t, "quantifier without anything to repeat");
        r = rx_emit_str(t, text);
        if (r < 0)
                return r;
        /* A counted repeat is expanded by regcomp: count its copies. */
        r = factor > 1 ? rx_cost(t, t->last * (factor - 1)) : 0;
        if (r < 0)
                return r;
        t->last = 0;
        /* Lazy quantifiers match the same strings: drop the '?'. */
        if (t->pos < t->len && t->src[t->pos] == '?')
                t->pos++;
        return 0;
}

/* Translates t->src into t->out. Returns 0, -EINVAL with t->msg, -ENOMEM. */
static int rx_translate(Rx *t)
{
        int r = 0;

        while (r >= 0 && t->pos < t->len) {
                char c = t->src[t->pos];
                unsigned long min, max;
                bool bounded;
                char q[40];

                switch (c) {
                case '\\': {
                        char cls;
                        uint32_t cp;

                        t->pos++;
                        r = rx_escape(t, false, &cls, &cp);
                        if (r < 0)
                                return r;
                        if (cls) {
                                CpSet s = {.n = 0};

                                r = cpset_add_class(&s, cls);
                                r = r < 0 ? r : rx_emit_set(t, &s);
                        } else
                                r = rx_emit_literal(t, cp);
                        break;
                }
                case '.': {
                        /* Any character but the ECMA line terminators. */
                        CpSet s = {.n = 3, .r = {{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}};

                        t->pos++;
                        r = cpset_negate(&s);
                        r = r < 0 ? r : rx_emit_set(t, &s);
                        break;
                }
                case '[':
                        t->pos++;
                        r = rx_class(t);
                        break;
                case '(':
                        if (t->len - t->pos >= 2 && t->src[t->pos + 1] == '?') {
                                if (t->len - t->pos < 3 || t->src[t->pos + 2] != ':')
                                        return rx_fail(t, "lookaround and named groups are not "
                                                          "supported");
                                t->pos += 3;
                        } else
                                t->pos++;
                        if (t->groups >= RX_MAX_GROUPS)
                                return rx_fail(t, "groups nested too deeply");
                        t->cost[++t->groups] = 0;
                        t->last = 0;
                        r = rx_emit_str(t, "(");
                        break;
                case ')':
                        if (t->groups == 0)
                                return rx_fail(t, "unmatched ')'");
                        t->pos++;
                        t->last = t->cost[t->groups--] + 2;
                        r = rx_emit_str(t, ")");
                        r = r < 0 ? r : rx_cost(t, t->last);
                        break;
                case '|':
                case '^':
                case '$':
                        t->pos++;
                        t->last = 0;
                        r = rx_emit(t, &c, 1);
                        r = r < 0 ? r : rx_cost(t, 1);
                        break;
                case '*':
                case '+':
                case '?':
                        t->pos++;
                        r = rx_quantifier(t, c == '*' ? "*" : c == '+' ? "+" : "?", 1);
                        break;
                case '{':
                        if (!rx_braces(t, &min, &max, &bounded)) {
                                t->pos++;
                                r = rx_emit_literal(t, '{');
                                break;
                        }
                        if (bounded && min > max)
                                return rx_fail(t, "numbers out of order in {} quantifier");
                        if (min > RX_MAX_REPEAT || (bounded && max > RX_MAX_REPEAT))
                                return rx_fail(t, "repeat count above %d is not supported",
                                               RX_MAX_REPEAT);
                        if (!bounded)
                                snprintf(q, sizeof(q), "{%lu,}", min);
                        else if (min == max)
                                snprintf(q, sizeof(q), "{%lu}", min);
                        else
                                snprintf(q, sizeof(q), "{%lu,%lu}", min, max);
                        r = rx_quantifier(t, q, bounded ? max : min + 1);
                        break;
                default: {
                        uint32_t cp;

                        if (utf8_decode(t->src, t->len, &t->pos, &cp) < 0)
                                return rx_fail(t, "invalid UTF-8");
                        r = rx_emit_literal(t, cp);
                        break;
                }
                }
        }
        if (r < 0)
                return r;
        if (t->groups > 0)
                return rx_fail(t, "unmatched '('");
        return rx_emit(t, "", 0);
}

/* ---- compiled nodes ----------------------------------------------------- */

typedef struct Regex {
        regex_t re;
        bool compiled;
        char *source; /* the ECMA pattern, for messages */
} Regex;

typedef struct Node Node;

typedef struct PatternProp {
        Regex rx;
        Node *node;
} PatternProp;

typedef enum Format {
        FORMAT_NONE,
        FORMAT_DATE,
        FORMAT_DATE_TIME,
} Format;

/* Assertion bits of Node.has. */
enum {
        K_TYPE = 1u << 0,
        K_CONST = 1u << 1,
        K_ENUM = 1u << 2,
        K_MINIMUM = 1u << 3,
        K_MAXIMUM = 1u << 4,
        K_XMINIMUM = 1u << 5,
        K_XMAXIMUM = 1u << 6,
        K_MULTIPLE = 1u << 7,
        K_MINLEN = 1u << 8,
        K_MAXLEN = 1u << 9,
        K_PATTERN = 1u << 10,
        K_FORMAT = 1u << 11,
        K_MINITEMS = 1u << 12,
        K_MAXITEMS = 1u << 13,
        K_UNIQUE = 1u << 14,
        K_ITEMS = 1u << 15, /* prefixItems or items */
        K_REQUIRED = 1u << 16,
        K_MINPROPS = 1u << 17,
        K_MAXPROPS = 1u << 18,
        K_PROPS = 1u << 19, /* properties, patternProperties or additionalProperties */
        K_APPLY = 1u << 20, /* $ref, allOf, anyOf, oneOf, not, if */
        K_FALSE = 1u << 21, /* the boolean schema false */

        K_NUMBER = K_MINIMUM | K_MAXIMUM | K_XMINIMUM | K_XMAXIMUM | K_MULTIPLE,
        K_STRING = K_MINLEN | K_MAXLEN | K_PATTERN | K_FORMAT,
        K_ARRAY = K_MINITEMS | K_MAXITEMS | K_UNIQUE | K_ITEMS,
        K_OBJECT = K_REQUIRED | K_MINPROPS | K_MAXPROPS | K_PROPS,
};

typedef struct NodeList {
        Node **v;
        size_t n;
} NodeList;

struct Node {
        unsigned has;
        unsigned types;
        json_t *const_value; /* owned copy */
        json_t *enum_values; /* owned copy, an array */
        char *const_text;    /* "must equal ..." */
        char *enum_text;     /* "must be one of ..." */
        Num minimum, maximum, xminimum, xmaximum, multiple_of;
        size_t min_length, max_length, min_items, max_items, min_props, max_props;
        Regex pattern;
        Format format;
        NodeList prefix_items;
        Node *items;
        json_t *required;   /* owned copy, an array of strings */
        json_t *prop_index; /* property name -> index into props */
        NodeList props;
        PatternProp *pattern_props;
        size_t n_pattern_props;
        Node *additional;
        json_t *defs_index; /* $defs name -> index into defs */
        NodeList defs;
        char *ref_text; /* the $ref as written */
        Node *ref;
        NodeList all_of, any_of, one_of;
        Node *not_schema, *if_schema, *then_schema, *else_schema;

        char *where; /* JSON pointer of this node, for compile errors */
        unsigned mark, chain, stack_pos;
};

struct Schema {
        Node *root;
        Node **nodes; /* every node, owned */
        size_t n_nodes, cap_nodes;
};

typedef struct Compiler {
        Schema *schema;
        Out err;
        char ptr[PTR_MAX]; /* JSON pointer of the value being compiled */
        size_t ptr_len;
        locale_t c_locale;
} Compiler;

_printf_(2, 3) static int cerr(Compiler *c, const char *fmt, ...)
{
        va_list ap;

        out_printf(&c->err, "#%s: ", c->ptr);
        va_start(ap, fmt);
        out_vprintf(&c->err, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static int cerr_nomem(Compiler *c)
{
        out_str(&c->err, "out of memory");
        return -ENOMEM;
}

/* Appends "/key" (escaped per RFC 6901) to the pointer. Returns the length
 * to give ptr_pop(). A pointer too long for the buffer ends in "/...". */
static size_t ptr_push(Compiler *c, const char *key, size_t len)
{
        size_t saved = c->ptr_len;
        Out o = {.buf = c->ptr, .size = sizeof(c->ptr), .len = c->ptr_len};

        if (c->ptr_len + 5 >= sizeof(c->ptr))
                return saved;
        out_write(&o, "/", 1);
        for (size_t i = 0; i < len && !o.full; i++) {
                if (o.len + 5 >= sizeof(c->ptr)) {
                        out_str(&o, "...");
                        break;
                }
                if (key[i] == '~')
                        out_write(&o, "~0", 2);
                else if (key[i] == '/')
                        out_write(&o, "~1", 2);
                else
                        out_write(&o, key + i, 1);
        }
        c->ptr_len = o.len;
        return saved;
}

static size_t ptr_push_index(Compiler *c, size_t i)
{
        char b[24];

        snprintf(b, sizeof(b), "%zu", i);
        return ptr_push(c, b, strlen(b));
}

static void ptr_pop(Compiler *c, size_t saved)
{
        c->ptr_len = saved;
        c->ptr[saved] = '\0';
}

/* Points errors at a node compiled earlier (for $ref checks). */
static void ptr_set(Compiler *c, const char *where)
{
        Out o;

        out_init(&o, c->ptr, sizeof(c->ptr));
        out_str(&o, where);
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
static int node_new(Compiler *c, Node **ret)
{
        Schema *s = c->schema;
        _cleanup_free_ Node *n = NULL;

        if (s->n_nodes >= SCHEMA_MAX_NODES)
                return cerr(c, "more than %d subschemas", SCHEMA_MAX_NODES);
        if (s->n_nodes == s->cap_nodes) {
                size_t cap = s->cap_nodes ? s->cap_nodes * 2 : 16;
                Node **v = realloc(s->nodes, cap * sizeof(*v));

                if (!v)
                        return cerr_nomem(c);
                s->nodes = v;
                s->cap_nodes = cap;
        }
        n = calloc(1, sizeof(*n));
        if (!n)
                return cerr_nomem(c);
        n->where = strdup(c->ptr);
        if (!n->where)
                return cerr_nomem(c);
        *ret = n;
        s->nodes[s->n_nodes++] = TAKE_PTR(n);
        return 0;
}

/* Compiles regex source (an ECMA pattern) into rx, in the C locale so that
 * the translated byte classes mean bytes whatever the process locale. */
static int regex_compile(Compiler *c, const char *src, size_t len, Regex *rx)
{
        char msg[160] = "";
        Rx t = {.src = src, .len = len, .msg = msg, .msglen = sizeof(msg)};
        locale_t old;
        int r;

        r = rx_translate(&t);
        if (r == -ENOMEM) {
                free(t.out);
                return cerr_nomem(c);
        }
        if (r < 0) {
                free(t.out);
                return cerr(c, "unsupported regex: %s", msg);
        }
        old = uselocale(c->c_locale);
        r = regcomp(&rx->re, t.out, REG_EXTENDED | REG_NOSUB);
        uselocale(old);
        free(t.out);
        if (r != 0) {
                char b[128];

                regerror(r, &rx->re, b, sizeof(b));
                return r == REG_ESPACE ? cerr_nomem(c) : cerr(c, "unsupported regex: %s", b);
        }
        rx->compiled = true;
        rx->source = strndup(src, len);
        if (!rx->source)
                return cerr_nomem(c);
        return 0;
}

/* Returns 1 when rx matches somewhere in s[0..len), 0 when not, -ENOMEM. */
static int regex_search(const Regex *rx, const char *s, size_t len)
{
        regmatch_t m = {.rm_so = 0, .rm_eo = (regoff_t)len};
        int r;

        if (len > INT32_MAX)
                return -ENOMEM;
        r = regexec(&rx->re, s, 1, &m, REG_STARTEND);
        return r == 0 ? 1 : r == REG_NOMATCH ? 0 : -ENOMEM;
}

/* ---- keyword compilers ---------------------------------------------------
 * Each gets the node, the keyword's value and the node's depth; the pointer
 * already names the keyword. */

typedef int (*KeywordFn)(Compiler *c, Node *n, json_t *v, unsigned depth);

static int compile_node(Compiler *c, json_t *v, unsigned depth, Node **ret);

static int compile_child(Compiler *c, json_t *v, unsigned depth, Node **ret)
{
        return compile_node(c, v, depth + 1, ret);
}

static int compile_at_index(Compiler *c, json_t *v, size_t i, unsigned depth, Node **ret)
{
        size_t saved = ptr_push_index(c, i);
        int r = compile_child(c, v, depth, ret);

        ptr_pop(c, saved);
        return r;
}

/* A non-empty array of schemas (allOf, anyOf, oneOf, prefixItems). */
static int kw_schema_array(Compiler *c, json_t *v, unsigned depth, NodeList *list)
{
        json_t *e;
        size_t i;

        if (!json_is_array(v) || json_array_size(v) == 0)
                return cerr(c, "must be a non-empty array of schemas");
        list->v = calloc(json_array_size(v), sizeof(Node *));
        if (!list->v)
                return cerr_nomem(c);
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
                return cerr(c, "must be an object of schemas");
        *index = json_object();
        list->v = calloc(json_object_size(v) + 1, sizeof(Node *));
        if (!*index || !list->v)
                return cerr_nomem(c);
        for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
                const char *key = json_object_iter_key(it);
                size_t len = json_object_iter_key_len(it);
                size_t saved = ptr_push(c, key, len);
                int r = compile_child(c, json_object_iter_value(it), depth, &list->v[list->n]);

                ptr_pop(c, saved);
                if (r < 0)
                        return r;
                if (json_object_setn_new(*index, key, len, json_integer((json_int_t)list->n)) < 0)
                        return cerr_nomem(c);
                list->n++;
        }
        return 0;
}

static int kw_root_only(Compiler *c, unsigned depth)
{
        return depth == 0 ? 0 : cerr(c, "only supported at the document root");
}

static int kw_dialect(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        const char *s = json_string_value(v);

        (void)n;
        if (kw_root_only(c, depth) < 0)
                return -EINVAL;
        if (!s)
                return cerr(c, "must be a string");
        if (!streq(s, DIALECT_2020_12) && !streq(s, DIALECT_2020_12 "#"))
                return cerr(c, "unsupported dialect '%s' (only " DIALECT_2020_12 ")", s);
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
                return cerr(c, "must be a string");
        hash = strchr(s, '#');
        if (hash && hash[1])
                return cerr(c, "$id with a fragment is not supported");
        return 0;
}

static int kw_annotation_string(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        (void)n, (void)depth;
        return json_is_string(v) ? 0 : cerr(c, "must be a string");
}

static int kw_examples(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        (void)n, (void)depth;
        return json_is_array(v) ? 0 : cerr(c, "must be an array");
}

static int kw_default(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        (void)c, (void)n, (void)v, (void)depth;
        return 0;
}

static int type_bit(const char *name, unsigned *bit)
{
        for (size_t i = 0; i < ELEMENTSOF(type_names); i++)
                if (streq(name, type_names[i].name)) {
                        *bit = type_names[i].bit;
                        return 0;
                }
        return -EINVAL;
}

static int kw_type(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        unsigned bit;
        json_t *e;
        size_t i;

        (void)depth;
        if (json_is_string(v)) {
                if (type_bit(json_string_value(v), &bit) < 0)
                        return cerr(c, "unknown type '%s'", json_string_value(v));
                n->types = bit;
        } else if (json_is_array(v) && json_array_size(v) > 0) {
                json_array_foreach (v, i, e) {
                        if (!json_is_string(e))
                                return cerr(c, "must be a type name or an array of them");
                        if (type_bit(json_string_value(e), &bit) < 0)
                                return cerr(c, "unknown type '%s'", json_string_value(e));
                        if (n->types & bit)
                                return cerr(c, "type '%s' listed twice", json_string_value(e));
                        n->types |= bit;
                }
        } else
                return cerr(c, "must be a type name or a non-empty array of them");
        n->has |= K_TYPE;
        return 0;
}

/* Renders v for a message: strings bare, anything else as compact JSON. */
static void out_value(Out *o, const json_t *v, bool quote_strings)
{
        if (json_is_string(v) && !quote_strings) {
                out_escaped(o, json_string_value(v), json_string_length(v), 0);
                return;
        }
        _cleanup_free_ char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

        out_str(o, s ? s : "?");
}

static int kw_const(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        char text[TEXT_MAX];
        Out o;

        (void)depth;
        if (!value_depth_ok(v, VALUE_MAX_DEPTH))
                return cerr(c, "value nested deeper than %d levels", VALUE_MAX_DEPTH);
        out_init(&o, text, sizeof(text));
        out_str(&o, "must equal ");
        out_value(&o, v, true);
        n->const_value = json_deep_copy(v);
        n->const_text = strdup(text);
        if (!n->const_value || !n->const_text)
                return cerr_nomem(c);
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
                return cerr(c, "must be a non-empty array");
        if (!value_depth_ok(v, VALUE_MAX_DEPTH))
                return cerr(c, "value nested deeper than %d levels", VALUE_MAX_DEPTH);
        out_init(&o, text, sizeof(text));
        out_str(&o, "must be one of ");
        json_array_foreach (v, i, e) {
                if (i > 0)
                        out_str(&o, ", ");
                out_value(&o, e, false);
        }
        n->enum_values = json_deep_copy(v);
        n->enum_text = strdup(text);
        if (!n->enum_values || !n->enum_text)
                return cerr_nomem(c);
        n->has |= K_ENUM;
        return 0;
}

static int kw_number(Compiler *c, json_t *v, Num *ret)
{
        if (!json_is_number(v))
                return cerr(c, "must be a number");
        *ret = num_of(v);
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
                return cerr(c, "must be a number above 0");
        n->multiple_of = num_of(v);
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
                return cerr(c, "must be a non-negative integer");
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
                return cerr(c, "must be a string");
        r = regex_compile(c, json_string_value(v), json_string_length(v), &n->pattern);
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
                return cerr(c, "must be a string");
        if (streq(s, "date"))
                n->format = FORMAT_DATE;
        else if (streq(s, "date-time"))
                n->format = FORMAT_DATE_TIME;
        else
                return cerr(c, "unsupported format '%s' (only date, date-time)", s);
        n->has |= K_FORMAT;
        return 0;
}

static int kw_items(Compiler *c, Node *n, json_t *v, unsigned depth)
{
        if (json_is_array(v))
                return cerr(c, "the array form of items is not supported (use prefixItems)");
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
                return cerr(c, "must be a boolean");
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
                return cerr(c, "must be an array of strings");
        json_array_foreach (v, i, e) {
                if (!json_is_string(e))
                        return cerr(c, "must be an array of strings");
                for (size_t j = 0; j < i; j++)
                        if (json_equal(e, json_array_get(v, j)))
                                return cerr(c, "'%s' listed twice", json_string_value(e));
        }
        if (json_array_size(v) == 0)
                return 0;
        n->required = json_deep_copy(v);
        if (!n->required)
                return cerr_nomem(c);
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
                return cerr(c, "must be an object of schemas");
        n->pattern_props = calloc(json_object_size(v) + 1, sizeof(PatternProp));
        if (!n->pattern_props)
                return cerr_nomem(c);
        n->has |= K_PROPS;
        for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
                PatternProp *p = &n->pattern_props[n->n_pattern_props];
                const char *key = json_object_iter_key(it);
                size_t len = json_object_iter_key_len(it);
                size_t saved = ptr_push(c, key, len);
                int r = regex_compile(c, key, len, &p->rx);

                n->n_pattern_props++; /* so that node_free() frees the regex */
                if (r >= 0)
                        r = compile_child(c, json_object_iter_value(it), depth, &p->node);
                ptr_pop(c, saved);
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
                return cerr(c, "must be a string");
        n->ref_text = strdup(json_string_value(v));
        if (!n->ref_text)
                return cerr_nomem(c);
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
static int compile_node(Compiler *c, json_t *v, unsigned depth, Node **ret)
{
        Node *n = NULL;
        int r;

        if (depth > SCHEMA_MAX_DEPTH)
                return cerr(c, "schema nested deeper than %d levels", SCHEMA_MAX_DEPTH);
        if (!json_is_object(v) && !json_is_boolean(v))
                return cerr(c, "a schema must be an object or a boolean");
        r = node_new(c, &n);
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
                saved = ptr_push(c, key, len);
                if (k == ELEMENTSOF(keywords)) {
                        Out name = {0};
                        char b[80];

                        out_init(&name, b, sizeof(b));
                        out_escaped(&name, key, len, '\'');
                        return cerr(c, "unsupported keyword '%s'", b);
                }
                r = keywords[k].fn(c, n, json_object_iter_value(it), depth);
                if (r < 0)
                        return r;
                ptr_pop(c, saved);
        }
        return 0;
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
        ptr_push(c, "$ref", 4);
        if (ref[0] != '#')
                return cerr(c, "remote $ref '%s' is not supported (only '#' and '#/$defs/...')",
                            ref);
        frag = strdup(ref + 1);
        if (!frag)
                return cerr_nomem(c);
        len = strlen(frag);
        if (percent_decode(frag, &len) < 0)
                return cerr(c, "bad percent-encoding in $ref '%s'", ref);
        if (len > 0 && frag[0] != '/')
                return cerr(c, "anchor $ref '%s' is not supported", ref);
        while (pos < len) {
                size_t start = ++pos, tok;
                json_t *idx;

                while (pos < len && frag[pos] != '/')
                        pos++;
                if (pos - start != 5 || memcmp(frag + start, "$defs", 5) != 0 || pos >= len)
                        return cerr(c, "$ref '%s' is not supported (only '#' and '#/$defs/...')",
                                    ref);
                start = ++pos;
                while (pos < len && frag[pos] != '/')
                        pos++;
                tok = pos - start;
                if (pointer_unescape(frag + start, &tok) < 0)
                        return cerr(c, "bad JSON pointer escape in $ref '%s'", ref);
                idx = at->defs_index ? json_object_getn(at->defs_index, frag + start, tok) : NULL;
                if (!idx)
                        return cerr(c, "$ref '%s' points to no schema", ref);
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
                                return cerr(c, "$ref cycle that never descends into the "
                                               "instance");
                        }
                        if (m->mark == MARK_NONE) {
                                if (depth + 1 > SCHEMA_MAX_INPLACE) {
                                        ptr_set(c, m->where);
                                        return cerr(c,
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
                return cerr(c, "chain of $ref and applicators longer than %d", SCHEMA_MAX_INPLACE);
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

        out_init(&c.err, err, errlen);
        if (!doc) {
                out_str(&c.err, "no schema document");
                return NULL;
        }
        c.c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        s = calloc(1, sizeof(*s));
        if (!s || !c.c_locale) {
                cerr_nomem(&c);
                goto fail;
        }
        c.schema = s;
        r = compile_node(&c, doc, 0, &s->root);
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
        return schema_free(s);
}

/* ---- formats ---------------------------------------------------------- */

static bool digits(const char *s, size_t n, unsigned *ret)
{
        unsigned v = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        *ret = v;
        return true;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
        static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

        return m == 2 && leap ? 29 : days[m - 1];
}

/* "YYYY-MM-DD" (RFC 3339 full-date) at s, with a real calendar day. */
static bool is_full_date(const char *s)
{
        unsigned y, m, d;

        if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' ||
            !digits(s + 8, 2, &d))
                return false;
        return m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

static bool is_date(const char *s, size_t len)
{
        return len == 10 && is_full_date(s);
}

/* RFC 3339 date-time: full-date "T" HH:MM:SS[.frac] then "Z" or +HH:MM /
 * -HH:MM (the offset is mandatory). A leap second (:60) is accepted only at
 * 23:59 UTC. */
static bool is_date_time(const char *s, size_t len)
{
        unsigned hh, mm, ss, oh = 0, om = 0;
        size_t p = 19;
        int sign = 0;

        if (len < 20 || !is_full_date(s) || (s[10] != 'T' && s[10] != 't'))
                return false;
        if (!digits(s + 11, 2, &hh) || s[13] != ':' || !digits(s + 14, 2, &mm) || s[16] != ':' ||
            !digits(s + 17, 2, &ss))
                return false;
        if (hh > 23 || mm > 59 || ss > 60)
                return false;
        if (s[p] == '.') {
                size_t start = ++p;

                while (p < len && s[p] >= '0' && s[p] <= '9')
                        p++;
                if (p == start)
                        return false;
        }
        if (p < len && (s[p] == 'Z' || s[p] == 'z'))
                p++;
        else if (p < len && (s[p] == '+' || s[p] == '-')) {
                sign = s[p] == '+' ? 1 : -1;
                if (len - p < 6 || !digits(s + p + 1, 2, &oh) || s[p + 3] != ':' ||
                    !digits(s + p + 4, 2, &om) || oh > 23 || om > 59)
                        return false;
                p += 6;
        } else
                return false;
        if (p != len)
                return false;
        if (ss == 60) {
                int utc = ((int)(hh * 60 + mm) - sign * (int)(oh * 60 + om) + 2 * 1440) % 1440;

                return utc == 23 * 60 + 59;
        }
        return true;
}

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

        out_str(o, x->root);
        for (unsigned i = 0; i < x->depth; i++) {
                const PathSeg *p = &x->path[i];

                if (!p->key)
                        out_printf(o, "[%zu]", p->len);
                else if (key_is_plain(p->key, p->len)) {
                        if (o->len > 0)
                                out_str(o, ".");
                        out_write(o, p->key, p->len);
                } else {
                        out_str(o, "[\"");
                        out_escaped(o, p->key, p->len, '"');
                        out_str(o, "\"]");
                }
        }
}

static void vmessage(Ctx *x, const char *fmt, va_list ap)
{
        out_path(x);
        if (x->err.len > 0)
                out_str(&x->err, ": ");
        out_vprintf(&x->err, fmt, ap);
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

        out_init(&x->err, x->err.buf, x->err.size);
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
        out_init(&o, b, sizeof(b));
        out_escaped(&o, name, len, '\'');
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
        Num num = num_of(v);
        char b[64];
        Out o;

        out_init(&o, b, sizeof(b));
        if ((n->has & K_MINIMUM) && num_cmp(num, n->minimum) < 0)
                return out_num(&o, n->minimum), fail(x, "must be >= %s", b);
        if ((n->has & K_MAXIMUM) && num_cmp(num, n->maximum) > 0)
                return out_num(&o, n->maximum), fail(x, "must be <= %s", b);
        if ((n->has & K_XMINIMUM) && num_cmp(num, n->xminimum) <= 0)
                return out_num(&o, n->xminimum), fail(x, "must be > %s", b);
        if ((n->has & K_XMAXIMUM) && num_cmp(num, n->xmaximum) >= 0)
                return out_num(&o, n->xmaximum), fail(x, "must be < %s", b);
        if ((n->has & K_MULTIPLE) && !num_multiple_of(num, n->multiple_of))
                return out_num(&o, n->multiple_of), fail(x, "must be a multiple of %s", b);
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
                r = regex_search(&n->pattern, s, len);
                if (r < 0)
                        return r;
                if (r == 0)
                        return fail_name(x, "must match the pattern", n->pattern.source,
                                         strlen(n->pattern.source));
        }
        if (n->format == FORMAT_DATE && !is_date(s, len))
                return fail(x, "must be a date (YYYY-MM-DD)");
        if (n->format == FORMAT_DATE_TIME && !is_date_time(s, len))
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
                                r = deep_equal(json_array_get(v, a), json_array_get(v, b), depth);
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
                r = deep_hash(json_array_get(v, k), depth, &h[k].hash);
                if (r < 0)
                        return r;
                h[k].index = k;
        }
        qsort(h, n, sizeof(*h), hashed_item_cmp);
        for (size_t a = 0; a < n; a++)
                for (size_t b = a + 1; b < n && h[b].hash == h[a].hash; b++) {
                        r = deep_equal(json_array_get(v, h[a].index), json_array_get(v, h[b].index),
                                       depth);
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
                        r = regex_search(&n->pattern_props[p].rx, key, len);
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
        if ((has & K_TYPE) && !(type_bits(v) & n->types)) {
                char b[96];
                Out o;
                unsigned left = (unsigned)__builtin_popcount(n->types);

                if (x->quiet > 0)
                        return -EINVAL;
                out_init(&o, b, sizeof(b));
                for (size_t i = 0; i < ELEMENTSOF(type_names); i++) {
                        if (!(n->types & type_names[i].bit))
                                continue;
                        out_str(&o, type_names[i].name);
                        left--;
                        out_str(&o, left > 1 ? ", " : left == 1 ? " or " : "");
                }
                return fail(x, "must be %s, not %s", b, type_name_of(v));
        }
        if (has & K_CONST) {
                r = deep_equal(v, n->const_value, VALUE_MAX_DEPTH);
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
                        r = deep_equal(v, e, VALUE_MAX_DEPTH);
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

        out_init(&x.err, err, errlen);
        if (!s || !instance) {
                out_str(&x.err, "no schema or no instance");
                return -EINVAL;
        }
        r = validate(&x, s->root, instance);
        if (r == -ENOMEM && x.err.len == 0)
                out_str(&x.err, "out of memory");
        return r == -ELOOP ? -EINVAL : r;
}

/* ---- sets of schemas from a directory ---------------------------------- */

typedef struct SchemaEntry {
        char *name;
        Schema *schema;
} SchemaEntry;

struct SchemaSet {
        SchemaEntry *entries; /* sorted by name */
        size_t n;
};

SchemaSet *schema_set_free(SchemaSet *set)
{
        if (!set)
                return NULL;
        for (size_t i = 0; i < set->n; i++) {
                free(set->entries[i].name);
                schema_free(set->entries[i].schema);
        }
        free(set->entries);
        free(set);
        return NULL;
}

static int entry_cmp(const void *a, const void *b)
{
        return strcmp(((const SchemaEntry *)a)->name, ((const SchemaEntry *)b)->name);
}

const Schema *schema_set_get(const SchemaSet *set, const char *name)
{
        SchemaEntry key = {.name = (char *)name}, *e;

        if (!set || !name || set->n == 0)
                return NULL;
        e = bsearch(&key, set->entries, set->n, sizeof(key), entry_cmp);
        return e ? e->schema : NULL;
}

size_t schema_set_count(const SchemaSet *set)
{
        return set ? set->n : 0;
}

static void closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

/* Reads and compiles dir/name (dfd is dir) into *ret. Errors go to o,
 * prefixed with the file's path. */
static int load_one(int dfd, const char *dir, const char *name, Schema **ret, Out *o)
{
        __attribute__((cleanup(closep))) int fd = -1;
        json_auto_t *doc = NULL;
        json_error_t jerr;
        struct stat st;
        char msg[256];

        fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                int e = errno;

                out_printf(o, "%s/%s: %s", dir, name, strerror(e));
                return -e;
        }
        if (fstat(fd, &st) < 0) {
                int e = errno;

                out_printf(o, "%s/%s: %s", dir, name, strerror(e));
                return -e;
        }
        if (!S_ISREG(st.st_mode)) {
                out_printf(o, "%s/%s: not a regular file", dir, name);
                return -EINVAL;
        }
        if (st.st_size > SET_MAX_FILE_SIZE) {
                out_printf(o, "%s/%s: larger than %d bytes", dir, name, SET_MAX_FILE_SIZE);
                return -EFBIG;
        }
        doc = json_loadfd(fd, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
        if (!doc) {
                out_printf(o, "%s/%s:%d:%d: %s", dir, name, jerr.line, jerr.column, jerr.text);
                return -EINVAL;
        }
        *ret = schema_compile(doc, msg, sizeof(msg));
        if (!*ret) {
                out_printf(o, "%s/%s: %s", dir, name, msg);
                return streq(msg, "out of memory") ? -ENOMEM : -EINVAL;
        }
        return 0;
}

static bool is_schema_file(const char *name)
{
        size_t len = strlen(name);

        return name[0] != '.' && len > 5 && streq(name + len - 5, ".json");
}

int schema_set_load_dir(const char *dir, SchemaSet **ret, char *err, size_t errlen)
{
        __attribute__((cleanup(closedirp))) DIR *d = NULL;
        SchemaSet *set = NULL;
        struct dirent *de;
        size_t cap = 0, failed = 0;
        int dfd, r = 0, first = 0;
        Out o;

        out_init(&o, err, errlen);
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                r = -errno;
                out_printf(&o, "%s: %s", dir, strerror(-r));
                return r;
        }
        d = fdopendir(dfd);
        if (!d) {
                r = -errno;
                close(dfd);
                out_printf(&o, "%s: %s", dir, strerror(-r));
                return r;
        }
        set = calloc(1, sizeof(*set));
        if (!set)
                goto nomem;
        /* Collect names first: sorted, so errors and lookups are stable. */
        while ((errno = 0, de = readdir(d))) {
                if (!is_schema_file(de->d_name))
                        continue;
                if (set->n >= SET_MAX_FILES) {
                        out_printf(&o, "%s: more than %d schema files", dir, SET_MAX_FILES);
                        r = -E2BIG;
                        goto fail;
                }
                if (set->n == cap) {
                        size_t ncap = cap ? cap * 2 : 16;
                        SchemaEntry *v = realloc(set->entries, ncap * sizeof(*v));

                        if (!v)
                                goto nomem;
                        set->entries = v;
                        cap = ncap;
                }
                set->entries[set->n] = (SchemaEntry){.name = strdup(de->d_name)};
                if (!set->entries[set->n].name)
                        goto nomem;
                set->n++;
        }
        if (errno != 0) {
                r = -errno;
                out_printf(&o, "%s: %s", dir, strerror(-r));
                goto fail;
        }
        if (set->n == 0) {
                out_printf(&o, "%s: no *.json schema files", dir);
                r = -ENOENT;
                goto fail;
        }
        qsort(set->entries, set->n, sizeof(set->entries[0]), entry_cmp);
        /* Compile them all, to count every bad file, but report the first. */
        for (size_t i = 0; i < set->n; i++) {
                char b[512];
                Out one;
                SchemaEntry *e = &set->entries[i];

                out_init(&one, b, sizeof(b));
                r = load_one(dirfd(d), dir, e->name, &e->schema, &one);
                if (r < 0 && failed++ == 0) {
                        out_str(&o, b);
                        first = r;
                }
                e->name[strlen(e->name) - 5] = '\0'; /* strip ".json" */
        }
        if (failed > 0) {
                if (failed > 1)
                        out_printf(&o, " (and %zu more bad schema files)", failed - 1);
                r = first;
                goto fail;
        }
        /* Without ".json" the order can change ("a-b" < "a.json" but "a" <
         * "a-b"): sort again for schema_set_get(). */
        qsort(set->entries, set->n, sizeof(set->entries[0]), entry_cmp);
        *ret = set;
        return 0;
nomem:
        out_init(&o, err, errlen);
        out_str(&o, "out of memory");
        r = -ENOMEM;
fail:
        schema_set_free(set);
        return r;
}
