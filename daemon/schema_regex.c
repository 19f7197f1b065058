/* Translation of ECMA-262 regexes (JSON Schema "pattern") to POSIX EREs. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_impl.h"
#include "schema_regex.h"

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

        schema_out_init(&o, t->msg, t->msglen);
        va_start(ap, fmt);
        schema_out_vprintf(&o, fmt, ap);
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

/* An escape outside a class (t->pos after the backslash): a class escape
 * or one literal character. */
static int rx_escape_atom(Rx *t)
{
        char cls;
        uint32_t cp;
        int r;

        r = rx_escape(t, false, &cls, &cp);
        if (r < 0)
                return r;
        if (cls) {
                CpSet s = {.n = 0};

                r = cpset_add_class(&s, cls);
                return r < 0 ? r : rx_emit_set(t, &s);
        }
        return rx_emit_literal(t, cp);
}

/* Opens a group at t->pos ('('): capturing and "(?:" alike. */
static int rx_group_open(Rx *t)
{
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
        return rx_emit_str(t, "(");
}

/* A '{' at t->pos: a counted repeat, or a literal brace (ECMA Annex B). */
static int rx_counted(Rx *t)
{
        unsigned long min, max;
        bool bounded;
        char q[40];

        if (!rx_braces(t, &min, &max, &bounded)) {
                t->pos++;
                return rx_emit_literal(t, '{');
        }
        if (bounded && min > max)
                return rx_fail(t, "numbers out of order in {} quantifier");
        if (min > RX_MAX_REPEAT || (bounded && max > RX_MAX_REPEAT))
                return rx_fail(t, "repeat count above %d is not supported", RX_MAX_REPEAT);
        if (!bounded)
                snprintf(q, sizeof(q), "{%lu,}", min);
        else if (min == max)
                snprintf(q, sizeof(q), "{%lu}", min);
        else
                snprintf(q, sizeof(q), "{%lu,%lu}", min, max);
        return rx_quantifier(t, q, bounded ? max : min + 1);
}

/* Translates t->src into t->out. Returns 0, -EINVAL with t->msg, -ENOMEM. */
static int rx_translate(Rx *t)
{
        int r = 0;

        while (r >= 0 && t->pos < t->len) {
                char c = t->src[t->pos];

                switch (c) {
                case '\\':
                        t->pos++;
                        r = rx_escape_atom(t);
                        break;
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
                        r = rx_group_open(t);
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
                        r = rx_counted(t);
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

int schema_regex_translate(const char *src, size_t len, char **ret, char *msg, size_t msglen)
{
        Rx t = {.src = src, .len = len, .msg = msg, .msglen = msglen};
        int r;

        r = rx_translate(&t);
        if (r < 0) {
                free(t.out);
                return r;
        }
        *ret = t.out;
        return 0;
}
