/* JSON values for the schema code: bounded UTF-8 safe message text, exact
 * numbers, instance types and deep equality. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_impl.h"

/* ---- bounded, UTF-8 safe text output ------------------------------------ */

void schema_out_init(Out *o, char *buf, size_t size)
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

void schema_out_write(Out *o, const char *s, size_t n)
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

void schema_out_str(Out *o, const char *s)
{
        schema_out_write(o, s, strlen(s));
}

void schema_out_vprintf(Out *o, const char *fmt, va_list ap)
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

_printf_(2, 3) void schema_out_printf(Out *o, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        schema_out_vprintf(o, fmt, ap);
        va_end(ap);
}

/* Writes s[0..n) with control characters, backslash and quote escaped, so a
 * name from a document cannot break the one-line message. */
void schema_out_escaped(Out *o, const char *s, size_t n, char quote)
{
        size_t run = 0;

        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)s[i];

                if (ch >= 0x20 && ch != 0x7F && ch != '\\' && ch != (unsigned char)quote)
                        continue;
                schema_out_write(o, s + run, i - run);
                if (ch == '\\' || ch == (unsigned char)quote)
                        schema_out_printf(o, "\\%c", ch);
                else
                        schema_out_printf(o, "\\u%04x", ch);
                run = i + 1;
        }
        schema_out_write(o, s + run, n - run);
}

/* ---- numbers -------------------------------------------------------------- */

Num schema_num_of(const json_t *v)
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
int schema_num_cmp(Num a, Num b)
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
void schema_out_num(Out *o, Num n)
{
        char buf[64];

        if (n.is_int) {
                schema_out_printf(o, "%" JSON_INTEGER_FORMAT, n.i);
                return;
        }
        for (int prec = 15; prec <= 17; prec++) {
                snprintf(buf, sizeof(buf), "%.*g", prec, n.d);
                if (strtod(buf, NULL) == n.d)
                        break;
        }
        schema_out_str(o, buf);
}

/* Whether x is a multiple of m (m > 0). Integers are exact; otherwise the
 * quotient is checked for being whole within its rounding error, so that
 * 19.99 is a multiple of 0.01 although neither is exact in binary. */
bool schema_num_multiple_of(Num x, Num m)
{
        if (x.is_int && m.is_int)
                return x.i % m.i == 0;
        double q = num_double(x) / num_double(m);

        if (!isfinite(q))
                return false;
        return fabs(q - nearbyint(q)) <= fmax(fabs(q), 1.0) * 4 * DBL_EPSILON;
}

/* ---- instance types and deep equality ------------------------------------ */

static const struct {
        const char *name;
        unsigned bit;
} type_names[] = {
    {"null", T_NULL},     {"boolean", T_BOOLEAN}, {"object", T_OBJECT}, {"array", T_ARRAY},
    {"number", T_NUMBER}, {"integer", T_INTEGER}, {"string", T_STRING},
};

/* Type bits an instance satisfies: an integer is a number, a whole real is an
 * integer. jansson never holds NaN or infinity. */
unsigned schema_type_bits(const json_t *v)
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

const char *schema_type_name_of(const json_t *v)
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
int schema_deep_equal(const json_t *a, const json_t *b, unsigned depth)
{
        bool an = json_is_number(a), bn = json_is_number(b);

        if (an || bn)
                return an && bn && schema_num_cmp(schema_num_of(a), schema_num_of(b)) == 0;
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
                        int r = schema_deep_equal(json_array_get(a, i), json_array_get(b, i),
                                                  depth - 1);

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
                        r = schema_deep_equal(json_object_iter_value(it), vb, depth - 1);
                        if (r <= 0)
                                return r;
                }
                return 1;
        }
        default:
                return 1; /* true, false, null: same type is equal */
        }
}

/* A hash consistent with schema_deep_equal (equal values hash equally), for
 * uniqueItems on long arrays. Returns 0, or -ELOOP past depth. */
int schema_deep_hash(const json_t *v, unsigned depth, uint64_t *ret)
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
                        int r = schema_deep_hash(json_array_get(v, i), depth - 1, &e);

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
                        int r = schema_deep_hash(json_object_iter_value(it), depth - 1, &e);

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

bool schema_value_depth_ok(const json_t *v, unsigned depth)
{
        if (json_is_array(v)) {
                if (json_array_size(v) > 0 && depth == 0)
                        return false;
                for (size_t i = 0; i < json_array_size(v); i++)
                        if (!schema_value_depth_ok(json_array_get(v, i), depth - 1))
                                return false;
        } else if (json_is_object(v)) {
                json_t *o = (json_t *)v;

                if (json_object_size(v) > 0 && depth == 0)
                        return false;
                for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it))
                        if (!schema_value_depth_ok(json_object_iter_value(it), depth - 1))
                                return false;
        }
        return true;
}

int schema_type_bit(const char *name, unsigned *bit)
{
        for (size_t i = 0; i < ELEMENTSOF(type_names); i++)
                if (streq(name, type_names[i].name)) {
                        *bit = type_names[i].bit;
                        return 0;
                }
        return -EINVAL;
}

void schema_out_types(Out *o, unsigned types)
{
        unsigned left = (unsigned)__builtin_popcount(types);

        for (size_t i = 0; i < ELEMENTSOF(type_names); i++) {
                if (!(types & type_names[i].bit))
                        continue;
                schema_out_str(o, type_names[i].name);
                left--;
                schema_out_str(o, left > 1 ? ", " : left == 1 ? " or " : "");
        }
}
