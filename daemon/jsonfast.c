/* JSON text hearth wrote itself, read and written without jansson's
 * per-character stream (jsonfast.h). A recursive descent over the bytes
 * that builds jansson values directly, and a dumper into one growing
 * buffer. */
#include "jsonfast.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "macro.h"
#include "realfmt.h"

#define MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

typedef struct {
        const unsigned char *s, *p, *end;
        json_error_t *err;
        size_t flags;
        int depth;
        bool failed;
} Parser;

_printf_(2, 3) static void fail(Parser *ps, const char *fmt, ...)
{
        if (ps->failed)
                return;
        ps->failed = true;
        if (!ps->err)
                return;
        json_error_t *e = ps->err;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->text, sizeof(e->text), fmt, ap);
        va_end(ap);
        snprintf(e->source, sizeof(e->source), "<buffer>");
        size_t pos = (size_t)(ps->p - ps->s);
        int line = 1, column = 0;
        for (const unsigned char *q = ps->s; q < ps->p; q++) {
                if (*q == '\n') {
                        line++;
                        column = 0;
                } else if ((*q & 0xC0) != 0x80) {
                        column++;
                }
        }
        e->line = line;
        e->column = column;
        e->position = (int)pos;
}

static void skip_ws(Parser *ps)
{
        while (ps->p < ps->end &&
               (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
                ps->p++;
}

/* Length of the valid UTF-8 sequence at p (first byte >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
        unsigned c = p[0];
        size_t n;
        uint32_t v;
        if (c >= 0xC2 && c <= 0xDF) {
                n = 2;
                v = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
                n = 3;
                v = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
                n = 4;
                v = c & 0x07;
        } else {
                return 0;
        }
        if ((size_t)(end - p) < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
                v = (v << 6) | (p[i] & 0x3F);
        }
        if ((n == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) ||
            (n == 4 && (v < 0x10000 || v > 0x10FFFF)))
                return 0;
        return n;
}

/* What a byte can be inside a JSON string, for plain_run(): PLAIN, ASCII
 * that stands for itself; LEAD3, E1..EC and EE..EF, which begin a valid
 * three-byte sequence with any two continuation bytes (E0 and ED limit
 * the second: overlong forms, surrogates); HIGH, any other byte >= 0x80
 * (utf8_len() decides); 0, a quote, a backslash or a control character. */
enum { PLAIN = 1, LEAD3 = 2, HIGH = 4 };
#define P PLAIN
#define L LEAD3
#define H HIGH
static const unsigned char byte_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    P, P, 0, P, P, P, P, P, P, P, P, P, P, P, P, P, /* 0x20 */
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, /* 0x30 */
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, /* 0x40 */
    P, P, P, P, P, P, P, P, P, P, P, P, 0, P, P, P, /* 0x50 */
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, /* 0x60 */
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, /* 0x70 */
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, /* 0x80 */
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, /* 0x90 */
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, /* 0xA0 */
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, /* 0xB0 */
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, /* 0xC0 */
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, /* 0xD0 */
    H, L, L, L, L, L, L, L, L, L, L, L, L, H, L, L, /* 0xE0 */
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, /* 0xF0 */
};
#undef P
#undef L
#undef H

/* The first byte at or after p (up to end) that a JSON string cannot hold
 * as it is: a quote, a backslash, a control character or a byte that does
 * not begin a valid UTF-8 sequence; or end. */
static inline const unsigned char *plain_run(const unsigned char *p, const unsigned char *end)
{
        for (;;) {
                while (end - p >= 4 && (byte_class[p[0]] & byte_class[p[1]] & byte_class[p[2]] &
                                        byte_class[p[3]]) == PLAIN)
                        p += 4;
                while (p < end && byte_class[*p] == PLAIN)
                        p++;
                if (p >= end)
                        return p;
                unsigned k = byte_class[*p];
                if (!k)
                        return p;
                if (k == LEAD3 && end - p >= 3 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
                        p += 3;
                        continue;
                }
                size_t n = utf8_len(p, end);
                if (!n)
                        return p;
                p += n;
        }
}

static int hex4(const unsigned char *p, const unsigned char *end, uint32_t *out)
{
        if (end - p < 4)
                return -1;
        uint32_t v = 0;
        for (int i = 0; i < 4; i++) {
                unsigned c = p[i];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= c - '0';
                else if (c >= 'a' && c <= 'f')
                        v |= c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                        v |= c - 'A' + 10;
                else
                        return -1;
        }
        *out = v;
        return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
        if (cp < 0x80) {
                o[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char)(0xC0 | (cp >> 6));
                o[1] = (char)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (char)(0xE0 | (cp >> 12));
                o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                o[2] = (char)(0x80 | (cp & 0x3F));
                return 3;
        }
        o[0] = (char)(0xF0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
}

/* A string at ps->p (just after its opening quote). Its text is in
 * out and len: pointing into the input when it has no escape, else into
 * buf (malloc'ed, the caller frees it). 0 or -1. */
static int scan_string(Parser *ps, const char **out, size_t *len, char **buf)
{
        const unsigned char *start = ps->p, *p = ps->p, *end = ps->end;
        p = plain_run(p, end);
        if (p < end) {
                unsigned c = *p;
                if (c == '"') {
                        *out = (const char *)start;
                        *len = (size_t)(p - start);
                        ps->p = p + 1;
                        return 0;
                }
                if (c < 0x20) {
                        ps->p = p;
                        fail(ps, "control character 0x%x", c);
                        return -1;
                }
                if (c != '\\') {
                        ps->p = p;
                        fail(ps, "unable to decode byte 0x%x", c);
                        return -1;
                }
        }
        if (p >= end) {
                ps->p = p;
                fail(ps, "premature end of input");
                return -1;
        }
        /* Escapes: the decoded text is never longer than the raw one. */
        const unsigned char *q = p;
        while (q < end && *q != '"') {
                if (*q == '\\' && q + 1 < end)
                        q++;
                q++;
        }
        char *o = malloc((size_t)(q - start) + 1);
        if (!o) {
                fail(ps, "out of memory");
                return -1;
        }
        size_t k = (size_t)(p - start);
        memcpy(o, start, k);
        while (p < end) {
                unsigned c = *p;
                if (c == '"') {
                        *out = o;
                        *len = k;
                        *buf = o;
                        ps->p = p + 1;
                        return 0;
                }
                if (c < 0x20) {
                        ps->p = p;
                        fail(ps, "control character 0x%x", c);
                        goto bad;
                }
                if (c >= 0x80) {
                        size_t n = utf8_len(p, end);
                        if (!n) {
                                ps->p = p;
                                fail(ps, "unable to decode byte 0x%x", c);
                                goto bad;
                        }
                        memcpy(o + k, p, n);
                        k += n;
                        p += n;
                        continue;
                }
                if (c != '\\') {
                        o[k++] = (char)c;
                        p++;
                        continue;
                }
                if (p + 1 >= end)
                        break;
                ps->p = p;
                switch (p[1]) {
                case '"':
                case '\\':
                case '/':
                        o[k++] = (char)p[1];
                        break;
                case 'b':
                        o[k++] = '\b';
                        break;
                case 'f':
                        o[k++] = '\f';
                        break;
                case 'n':
                        o[k++] = '\n';
                        break;
                case 'r':
                        o[k++] = '\r';
                        break;
                case 't':
                        o[k++] = '\t';
                        break;
                case 'u': {
                        uint32_t cp, lo;
                        if (hex4(p + 2, end, &cp) < 0) {
                                fail(ps, "invalid escape");
                                goto bad;
                        }
                        p += 6;
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
                                    hex4(p + 2, end, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF) {
                                        fail(ps, "invalid Unicode '\\u%04X'", (unsigned)cp);
                                        goto bad;
                                }
                                p += 6;
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                                fail(ps, "invalid Unicode '\\u%04X'", (unsigned)cp);
                                goto bad;
                        } else if (cp == 0) {
                                fail(ps, "\\u0000 is not allowed without JSON_ALLOW_NUL");
                                goto bad;
                        }
                        k += put_utf8(o + k, cp);
                        continue;
                }
                default:
                        fail(ps, "invalid escape");
                        goto bad;
                }
                p += 2;
        }
        ps->p = p;
        fail(ps, "premature end of input");
bad:
        free(o);
        return -1;
}

static json_t *parse_number(Parser *ps)
{
        const unsigned char *start = ps->p, *p = ps->p, *end = ps->end;
        bool neg = false;
        if (p < end && *p == '-') {
                neg = true;
                p++;
        }
        if (p >= end || *p < '0' || *p > '9') {
                fail(ps, "invalid token");
                return NULL;
        }
        if (*p == '0') {
                p++;
                if (p < end && *p >= '0' && *p <= '9') {
                        ps->p = p;
                        fail(ps, "invalid token");
                        return NULL;
                }
        } else {
                while (p < end && *p >= '0' && *p <= '9')
                        p++;
        }
        bool real = false;
        if (p < end && *p == '.') {
                real = true;
                p++;
                if (p >= end || *p < '0' || *p > '9') {
                        ps->p = p;
                        fail(ps, "invalid token");
                        return NULL;
                }
                while (p < end && *p >= '0' && *p <= '9')
                        p++;
        }
        if (p < end && (*p == 'e' || *p == 'E')) {
                real = true;
                p++;
                if (p < end && (*p == '+' || *p == '-'))
                        p++;
                if (p >= end || *p < '0' || *p > '9') {
                        ps->p = p;
                        fail(ps, "invalid token");
                        return NULL;
                }
                while (p < end && *p >= '0' && *p <= '9')
                        p++;
        }
        ps->p = p;
        if (!real) {
                /* json_int_t is long long: at most 9223372036854775807, and
                 * one more when negative. */
                uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
                for (const unsigned char *d = start + neg; d < p; d++) {
                        unsigned digit = *d - '0';
                        if (v > (limit - digit) / 10) {
                                ps->p = start;
                                fail(ps, neg ? "too big negative integer" : "too big integer");
                                return NULL;
                        }
                        v = v * 10 + digit;
                }
                json_int_t i = neg ? (json_int_t)(0 - v) : (json_int_t)v;
                json_t *j = json_integer(i);
                if (!j)
                        fail(ps, "out of memory");
                return j;
        }
        size_t n = (size_t)(p - start);
        char small[64];
        char *txt = n < sizeof(small) ? small : malloc(n + 1);
        if (!txt) {
                fail(ps, "out of memory");
                return NULL;
        }
        memcpy(txt, start, n);
        txt[n] = '\0';
        errno = 0;
        char *stop;
        double d = strtod(txt, &stop);
        bool overflow = errno == ERANGE && isinf(d);
        /* hearth never calls setlocale(): strtod reads '.' (a locale with
         * another decimal point would stop early, refused here). */
        bool whole = stop == txt + n;
        if (txt != small)
                free(txt);
        if (!whole) {
                ps->p = start;
                fail(ps, "invalid real number");
                return NULL;
        }
        if (overflow) {
                ps->p = start;
                fail(ps, "real number overflow");
                return NULL;
        }
        json_t *j = json_real(d);
        if (!j)
                fail(ps, "out of memory");
        return j;
}

static bool literal(Parser *ps, const char *word, size_t n)
{
        if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
                fail(ps, "invalid token");
                return false;
        }
        ps->p += n;
        return true;
}

static json_t *parse_value(Parser *ps);

/* Consumes the opening character of a container; true when it is empty
 * (its closing character consumed too). */
static bool open_empty(Parser *ps, char close)
{
        ps->p++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == close) {
                ps->p++;
                return true;
        }
        return false;
}

/* After a member or an element: 1 at ',' (more follow), 0 at the closing
 * character (consumed), -1 on anything else (failed). */
static int next_member(Parser *ps, char close)
{
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                return 1;
        }
        if (ps->p < ps->end && *ps->p == close) {
                ps->p++;
                return 0;
        }
        fail(ps, ps->p >= ps->end ? "premature end of input"
                 : close == '}'   ? "'}' expected"
                                  : "']' expected");
        return -1;
}

static json_t *parse_object(Parser *ps)
{
        json_t *obj = json_object();
        if (!obj) {
                fail(ps, "out of memory");
                return NULL;
        }
        if (open_empty(ps, '}'))
                return obj;
        for (;;) {
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != '"') {
                        fail(ps, ps->p >= ps->end ? "premature end of input"
                                                  : "string or '}' expected");
                        goto bad;
                }
                ps->p++;
                const char *key;
                size_t klen;
                char *kbuf = NULL;
                if (scan_string(ps, &key, &klen, &kbuf) < 0)
                        goto bad;
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') {
                        free(kbuf);
                        fail(ps, "':' expected");
                        goto bad;
                }
                ps->p++;
                if ((ps->flags & JSON_REJECT_DUPLICATES) && json_object_getn(obj, key, klen)) {
                        free(kbuf);
                        fail(ps, "duplicate object key");
                        goto bad;
                }
                json_t *v = parse_value(ps);
                if (!v) {
                        free(kbuf);
                        goto bad;
                }
                int r = json_object_setn_new_nocheck(obj, key, klen, v);
                free(kbuf);
                if (r < 0) {
                        fail(ps, "out of memory");
                        goto bad;
                }
                int more = next_member(ps, '}');
                if (more == 0)
                        return obj;
                if (more < 0)
                        goto bad;
        }
bad:
        json_decref(obj);
        return NULL;
}

static json_t *parse_array(Parser *ps)
{
        json_t *arr = json_array();
        if (!arr) {
                fail(ps, "out of memory");
                return NULL;
        }
        if (open_empty(ps, ']'))
                return arr;
        for (;;) {
                json_t *v = parse_value(ps);
                if (!v)
                        goto bad;
                if (json_array_append_new(arr, v) < 0) {
                        fail(ps, "out of memory");
                        goto bad;
                }
                int more = next_member(ps, ']');
                if (more == 0)
                        return arr;
                if (more < 0)
                        goto bad;
        }
bad:
        json_decref(arr);
        return NULL;
}

static json_t *parse_token(Parser *ps)
{
        skip_ws(ps);
        if (ps->p >= ps->end) {
                fail(ps, "premature end of input");
                return NULL;
        }
        switch (*ps->p) {
        case '{':
                return parse_object(ps);
        case '[':
                return parse_array(ps);
        case '"': {
                ps->p++;
                const char *s;
                size_t n;
                char *buf = NULL;
                if (scan_string(ps, &s, &n, &buf) < 0)
                        return NULL;
                json_t *v = json_stringn_nocheck(s, n);
                free(buf);
                if (!v)
                        fail(ps, "out of memory");
                return v;
        }
        case 't':
                return literal(ps, "true", 4) ? json_true() : NULL;
        case 'f':
                return literal(ps, "false", 5) ? json_false() : NULL;
        case 'n':
                return literal(ps, "null", 4) ? json_null() : NULL;
        default:
                if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
                        return parse_number(ps);
                fail(ps, "invalid token");
                return NULL;
        }
}

/* jansson counts every value against its depth, a scalar as well as an
 * object or array: a number inside 2048 arrays is level 2049. */
static json_t *parse_value(Parser *ps)
{
        if (++ps->depth > MAX_DEPTH) {
                skip_ws(ps);
                fail(ps, "maximum parsing depth reached");
                return NULL;
        }
        json_t *v = parse_token(ps);
        ps->depth--;
        return v;
}

json_t *jsonfast_loadf(const char *s, size_t len, size_t flags, json_error_t *err)
{
        Parser ps = {.s = (const unsigned char *)s,
                     .p = (const unsigned char *)s,
                     .end = (const unsigned char *)s + len,
                     .err = err,
                     .flags = flags};
        if (err)
                memset(err, 0, sizeof(*err));
        if (flags & ~(size_t)(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)) {
                fail(&ps, "unsupported flags");
                return NULL;
        }
        skip_ws(&ps);
        if (!(flags & JSON_DECODE_ANY) && (ps.p >= ps.end || (*ps.p != '{' && *ps.p != '['))) {
                fail(&ps, ps.p >= ps.end ? "'[' or '{' expected near end of file"
                                         : "'[' or '{' expected");
                return NULL;
        }
        json_t *v = parse_value(&ps);
        if (!v)
                return NULL;
        skip_ws(&ps);
        if (ps.p != ps.end) {
                fail(&ps, "end of file expected");
                json_decref(v);
                return NULL;
        }
        return v;
}

json_t *jsonfast_load(const char *s, size_t len, json_error_t *err)
{
        return jsonfast_loadf(s, len, 0, err);
}

/* ---- dump ---- */

typedef struct {
        char *s;
        size_t len, cap;
        bool failed;
        int precision; /* of reals: 17 (jansson's default) or 1..17 */
        /* jsonfast_dump_replacing(): inside this object, this member's
         * value is written as this text. */
        const json_t *sub_in;
        const char *sub_key, *sub_text;
} Out;

/* room()'s slow path: the buffer grown to hold n more bytes. */
static bool grow(Out *o, size_t n)
{
        size_t cap = o->cap ? o->cap : 4096; /* a household document in one go */
        while (cap < o->len + n)
                cap *= 2;
        char *s = realloc(o->s, cap);
        if (!s) {
                o->failed = true;
                return false;
        }
        o->s = s;
        o->cap = cap;
        return true;
}

/* Inline, as put() and putc_(): a dump calls them for every token. */
static inline bool room(Out *o, size_t n)
{
        return o->len + n <= o->cap || grow(o, n);
}

static inline void put(Out *o, const void *s, size_t n)
{
        if (room(o, n)) {
                memcpy(o->s + o->len, s, n);
                o->len += n;
        }
}

static inline void putc_(Out *o, char c)
{
        if (room(o, 1))
                o->s[o->len++] = c;
}

/* As jansson's dump_string without flags: \" \\ \b \f \n \r \t, other
 * controls as \u00XX (upper-case hex), everything else as it is; text that
 * is not UTF-8 fails. */
static void put_string(Out *o, const char *str, size_t len)
{
        const unsigned char *p = (const unsigned char *)str, *end = p + len, *run;
        if (!room(o, len + 2))
                return;
        o->s[o->len++] = '"';
        run = p;
        while ((p = plain_run(p, end)) < end) {
                unsigned c = *p;
                if (c >= 0x80) {
                        o->failed = true;
                        return;
                }
                put(o, run, (size_t)(p - run));
                char esc[8];
                const char *t = esc;
                size_t tn = 2;
                switch (c) {
                case '"':
                        t = "\\\"";
                        break;
                case '\\':
                        t = "\\\\";
                        break;
                case '\b':
                        t = "\\b";
                        break;
                case '\f':
                        t = "\\f";
                        break;
                case '\n':
                        t = "\\n";
                        break;
                case '\r':
                        t = "\\r";
                        break;
                case '\t':
                        t = "\\t";
                        break;
                default:
                        snprintf(esc, sizeof(esc), "\\u%04X", c);
                        tn = 6;
                }
                put(o, t, tn);
                p++;
                run = p;
        }
        put(o, run, (size_t)(p - run));
        putc_(o, '"');
}

/* json_dumps's "%" JSON_INTEGER_FORMAT, without printf: digits written
 * backwards into a buffer (the magnitude as unsigned, so INT64_MIN too). */
static void put_integer(Out *o, json_int_t v)
{
        char b[24];
        char *p = int_before(b + sizeof(b), v);
        put(o, p, (size_t)(b + sizeof(b) - p));
}

/* jansson's jsonp_dtostr at o->precision: "%.<precision>g", ".0" when it
 * would read as an integer, no '+' or leading zeros in the exponent. */
static void put_real(Out *o, double d)
{
        /* A whole number below 2^53 and 10^precision (amounts stored as
         * reals, counts): "%.<precision>g" writes its digits exactly, so
         * write them without printf, then ".0". Not -0.0, which reads
         * "-0.0". Below precision 15, printf decides every number. */
        double below = o->precision >= 16 ? 9007199254740992.0 : o->precision == 15 ? 1e15 : 0;
        if (d > -below && d < below && d == (double)(int64_t)d && (d != 0 || !signbit(d))) {
                put_integer(o, (json_int_t)d);
                put(o, ".0", 2);
                return;
        }
        char b[64];
        size_t fixed = real_fixed_g(b, d, o->precision);
        int n = fixed ? (int)fixed : snprintf(b, sizeof(b), "%.*g", o->precision, d);
        if (n < 0 || (size_t)n >= sizeof(b) - 3) {
                o->failed = true;
                return;
        }
        size_t len = (size_t)n;
        if (!strchr(b, '.') && !strchr(b, 'e')) {
                b[len++] = '.';
                b[len++] = '0';
                b[len] = '\0';
        }
        char *start = strchr(b, 'e');
        if (start) {
                start++;
                char *e = start + 1;
                if (*start == '-')
                        start++;
                while (*e == '0')
                        e++;
                if (e != start) {
                        memmove(start, e, len - (size_t)(e - b) + 1);
                        len -= (size_t)(e - start);
                }
        }
        put(o, b, len);
}

static void put_value(Out *o, const json_t *v, int depth)
{
        if (o->failed)
                return;
        if (depth > MAX_DEPTH) {
                o->failed = true;
                return;
        }
        switch (json_typeof(v)) {
        case JSON_OBJECT: {
                putc_(o, '{');
                bool first = true;
                for (void *it = json_object_iter((json_t *)v); it;
                     it = json_object_iter_next((json_t *)v, it)) {
                        if (!first)
                                putc_(o, ',');
                        first = false;
                        const char *key = json_object_iter_key(it);
                        put_string(o, key, json_object_iter_key_len(it));
                        putc_(o, ':');
                        if (v == o->sub_in && streq(key, o->sub_key))
                                put(o, o->sub_text, strlen(o->sub_text));
                        else
                                put_value(o, json_object_iter_value(it), depth + 1);
                        if (o->failed)
                                return;
                }
                putc_(o, '}');
                return;
        }
        case JSON_ARRAY: {
                putc_(o, '[');
                size_t n = json_array_size(v);
                for (size_t i = 0; i < n; i++) {
                        if (i)
                                putc_(o, ',');
                        put_value(o, json_array_get(v, i), depth + 1);
                        if (o->failed)
                                return;
                }
                putc_(o, ']');
                return;
        }
        case JSON_STRING:
                put_string(o, json_string_value(v), json_string_length(v));
                return;
        case JSON_INTEGER:
                put_integer(o, json_integer_value(v));
                return;
        case JSON_REAL:
                put_real(o, json_real_value(v));
                return;
        case JSON_TRUE:
                put(o, "true", 4);
                return;
        case JSON_FALSE:
                put(o, "false", 5);
                return;
        case JSON_NULL:
                put(o, "null", 4);
                return;
        }
}

static char *dump(const json_t *v, int precision, const json_t *in, const char *key,
                  const char *text)
{
        if (!json_is_object(v) && !json_is_array(v))
                return NULL;
        Out o = {.precision = precision,
                 .sub_in = in && key && text ? in : NULL,
                 .sub_key = key,
                 .sub_text = text};
        put_value(&o, v, 1);
        putc_(&o, '\0');
        if (o.failed) {
                free(o.s);
                return NULL;
        }
        return o.s;
}

json_t *jsonfast_string(const char *s)
{
        if (!s)
                return NULL;
        size_t len = strlen(s);
        const unsigned char *p = (const unsigned char *)s, *end = p + len;
        /* Quotes, backslashes and controls are text like any other here. */
        while ((p = plain_run(p, end)) < end)
                if (*p++ >= 0x80)
                        return NULL;
        return json_stringn_nocheck(s, len);
}

json_t *jsonfast_object(const JsonfastMember *m, size_t n)
{
        json_t *o = json_object();
        for (size_t i = 0; o && i < n; i++) {
                json_t *v = m[i].type == 's'   ? jsonfast_string(m[i].s)
                            : m[i].type == 'I' ? json_integer(m[i].n)
                            : m[i].type == 'b' ? json_boolean(m[i].n)
                                               : NULL;
                if (json_object_set_new_nocheck(o, m[i].key, v) < 0) {
                        json_decref(o);
                        return NULL;
                }
        }
        return o;
}

char *jsonfast_dump(const json_t *v)
{
        return dump(v, 17, NULL, NULL, NULL);
}

char *jsonfast_dump_precision(const json_t *v, int precision)
{
        if (precision < 1 || precision > 17)
                return NULL;
        return dump(v, precision, NULL, NULL, NULL);
}

char *jsonfast_dump_replacing(const json_t *v, const json_t *in, const char *key, const char *text)
{
        return dump(v, 17, in, key, text);
}
