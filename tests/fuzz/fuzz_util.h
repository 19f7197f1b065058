/* Helpers shared by the fuzz targets: the oracle macro, the repository root,
 * an independent strict JSON (RFC 8259) recogniser that also records where
 * each number literal sits, and exact decimal comparison of a literal with
 * an amount in fen. Header-only: each target is one translation unit. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "schema.h"

/* An oracle violation: say which, then trap so that libFuzzer keeps the input
 * as a crash (and the corpus replay of make test fails on it). */
#define ORACLE(cond, ...)                                                                          \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "oracle violated (%s:%d): %s: ", __FILE__, __LINE__,       \
                                #cond);                                                            \
                        fprintf(stderr, __VA_ARGS__);                                              \
                        fputc('\n', stderr);                                                       \
                        __builtin_trap();                                                          \
                }                                                                                  \
        } while (0)

/* rel under $HEARTH_ROOT, else under the current folder (make runs the
 * targets from the repository root). */
static inline void fuzz_path(const char *rel, char *buf, size_t len)
{
        const char *root = getenv("HEARTH_ROOT");
        snprintf(buf, len, "%s/%s", root && *root ? root : ".", rel);
}

/* The shipped schemas (schemas/ as fuzz_path finds it); aborts with a
 * message starting with prog when they cannot be loaded. */
static inline SchemaSet *fuzz_load_schemas(const char *prog)
{
        char dir[4096], err[512];
        SchemaSet *set = NULL;
        fuzz_path("schemas", dir, sizeof(dir));
        if (schema_set_load_dir(dir, &set, err, sizeof(err)) < 0) {
                fprintf(stderr, "%s: %s (run from the repository root or set HEARTH_ROOT)\n", prog,
                        err);
                abort();
        }
        return set;
}

/* A copy of data with a NUL after it (data need not be terminated). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);
        if (!s)
                abort();
        memcpy(s, data, size);
        s[size] = '\0';
        return s;
}

/* True when s[0..n) is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
static inline bool fuzz_utf8_valid(const unsigned char *s, size_t n)
{
        size_t i = 0;
        while (i < n) {
                unsigned char c = s[i];
                size_t k;
                uint32_t cp;
                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xC2 && c <= 0xDF)
                        k = 1, cp = c & 0x1F;
                else if (c >= 0xE0 && c <= 0xEF)
                        k = 2, cp = c & 0x0F;
                else if (c >= 0xF0 && c <= 0xF4)
                        k = 3, cp = c & 0x07;
                else
                        return false;
                if (i + k >= n)
                        return false;
                for (size_t j = 1; j <= k; j++) {
                        if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
                                return false;
                        cp = cp << 6 | (s[i + j] & 0x3F);
                }
                if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10FFFF ||
                    (cp >= 0xD800 && cp <= 0xDFFF))
                        return false;
                i += k + 1;
        }
        return true;
}

/* ---- strict JSON ---------------------------------------------------------- */

#define FJ_MAX_PATH 6
#define FJ_MAX_KEY 64
#define FJ_MAX_NUMBERS 256

typedef struct {
        bool is_index;
        size_t index;
        char key[FJ_MAX_KEY + 1];
} FjComp;

/* A number literal and the path of object keys / array indexes to it. */
typedef struct {
        unsigned n;
        FjComp comp[FJ_MAX_PATH];
        const char *text;
        size_t len;
} FjNumber;

typedef struct {
        const unsigned char *s;
        size_t n, i;
        unsigned depth;
        FjComp path[FJ_MAX_PATH];
        unsigned plen;     /* components in path (capped) */
        unsigned real_len; /* real nesting */
        bool path_exact;   /* every component of the real path is in path */
        FjNumber nums[FJ_MAX_NUMBERS];
        size_t n_nums;
} Fj;

static bool fj_value(Fj *j);

static void fj_ws(Fj *j)
{
        while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' ||
                               j->s[j->i] == '\r'))
                j->i++;
}

static int fj_hex(unsigned char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* A string at j->i ('"'); decodes it into key (when not NULL) if it fits:
 * *fits tells. Lone surrogate escapes are grammatical in RFC 8259. */
static bool fj_string(Fj *j, char *key, bool *fits)
{
        size_t o = 0;
        bool ok_key = true;
        j->i++;
        for (;;) {
                if (j->i >= j->n)
                        return false;
                unsigned char c = j->s[j->i];
                if (c == '"') {
                        j->i++;
                        break;
                }
                if (c < 0x20)
                        return false;
                if (c == '\\') {
                        if (j->i + 1 >= j->n)
                                return false;
                        unsigned char e = j->s[j->i + 1];
                        char out = 0;
                        switch (e) {
                        case '"':
                        case '\\':
                        case '/':
                                out = (char)e;
                                break;
                        case 'b':
                                out = '\b';
                                break;
                        case 'f':
                                out = '\f';
                                break;
                        case 'n':
                                out = '\n';
                                break;
                        case 'r':
                                out = '\r';
                                break;
                        case 't':
                                out = '\t';
                                break;
                        case 'u': {
                                if (j->i + 6 > j->n)
                                        return false;
                                unsigned v = 0;
                                for (int k = 2; k < 6; k++) {
                                        int h = fj_hex(j->s[j->i + k]);
                                        if (h < 0)
                                                return false;
                                        v = v * 16 + (unsigned)h;
                                }
                                j->i += 6;
                                /* Keys we look up are ASCII: anything else just
                                 * makes the key unmatchable. */
                                if (v == 0 || v >= 0x80)
                                        ok_key = false;
                                else if (key && o < FJ_MAX_KEY)
                                        key[o++] = (char)v;
                                else
                                        ok_key = false;
                                continue;
                        }
                        default:
                                return false;
                        }
                        j->i += 2;
                        if (key && o < FJ_MAX_KEY)
                                key[o++] = out;
                        else
                                ok_key = false;
                        continue;
                }
                /* One UTF-8 sequence. */
                size_t k = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
                if (k > 0) {
                        if (j->i + k >= j->n || !fuzz_utf8_valid(j->s + j->i, k + 1))
                                return false;
                }
                for (size_t m = 0; m <= k; m++) {
                        if (key && o < FJ_MAX_KEY)
                                key[o++] = (char)j->s[j->i + m];
                        else
                                ok_key = false;
                }
                j->i += k + 1;
        }
        if (key)
                key[o] = '\0';
        if (fits)
                *fits = ok_key;
        return true;
}

static bool fj_digits(Fj *j)
{
        size_t st = j->i;
        while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
                j->i++;
        return j->i > st;
}

static bool fj_number(Fj *j)
{
        size_t st = j->i;
        if (j->s[j->i] == '-')
                j->i++;
        if (j->i >= j->n)
                return false;
        if (j->s[j->i] == '0')
                j->i++;
        else if (!fj_digits(j))
                return false;
        if (j->i < j->n && j->s[j->i] == '.') {
                j->i++;
                if (!fj_digits(j))
                        return false;
        }
        if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
                j->i++;
                if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-'))
                        j->i++;
                if (!fj_digits(j))
                        return false;
        }
        if (j->path_exact && j->n_nums < FJ_MAX_NUMBERS) {
                FjNumber *num = &j->nums[j->n_nums++];
                num->n = j->plen;
                memcpy(num->comp, j->path, sizeof(num->comp));
                num->text = (const char *)j->s + st;
                num->len = j->i - st;
        }
        return true;
}

static bool fj_literal(Fj *j, const char *word)
{
        size_t l = strlen(word);
        if (j->n - j->i < l || memcmp(j->s + j->i, word, l) != 0)
                return false;
        j->i += l;
        return true;
}

/* Enters one level of the path; returns the previous exactness. */
static bool fj_push(Fj *j, const FjComp *c, bool exact)
{
        bool was = j->path_exact;
        if (j->real_len < FJ_MAX_PATH)
                j->path[j->plen++] = *c;
        else
                exact = false;
        j->real_len++;
        j->path_exact = was && exact;
        return was;
}

static void fj_pop(Fj *j, bool was)
{
        if (j->real_len-- <= FJ_MAX_PATH)
                j->plen--;
        j->path_exact = was;
}

/* A member's value (or an array's item) under path component k, then ','
 * (0: another follows) or close (1: the container ends); -1 if malformed. */
static int fj_item(Fj *j, FjComp *k, bool fits, char close)
{
        bool was = fj_push(j, k, fits);
        bool v = fj_value(j);
        fj_pop(j, was);
        if (!v)
                return -1;
        fj_ws(j);
        if (j->i < j->n && j->s[j->i] == ',') {
                j->i++;
                return 0;
        }
        if (j->i < j->n && j->s[j->i] == close) {
                j->i++;
                return 1;
        }
        return -1;
}

static bool fj_value(Fj *j)
{
        if (j->i >= j->n || ++j->depth > 10000)
                return false;
        bool ok = false;
        unsigned char c = j->s[j->i];
        if (c == '{') {
                j->i++;
                fj_ws(j);
                if (j->i < j->n && j->s[j->i] == '}') {
                        j->i++;
                        ok = true;
                        goto out;
                }
                for (;;) {
                        FjComp k = {0};
                        bool fits = false;
                        fj_ws(j);
                        if (j->i >= j->n || j->s[j->i] != '"' || !fj_string(j, k.key, &fits))
                                goto out;
                        fj_ws(j);
                        if (j->i >= j->n || j->s[j->i] != ':')
                                goto out;
                        j->i++;
                        fj_ws(j);
                        int r = fj_item(j, &k, fits, '}');
                        if (r == 0)
                                continue;
                        ok = r > 0;
                        goto out;
                }
        } else if (c == '[') {
                j->i++;
                fj_ws(j);
                if (j->i < j->n && j->s[j->i] == ']') {
                        j->i++;
                        ok = true;
                        goto out;
                }
                for (size_t idx = 0;; idx++) {
                        FjComp k = {.is_index = true, .index = idx};
                        fj_ws(j);
                        int r = fj_item(j, &k, true, ']');
                        if (r == 0)
                                continue;
                        ok = r > 0;
                        goto out;
                }
        } else if (c == '"')
                ok = fj_string(j, NULL, NULL);
        else if (c == '-' || (c >= '0' && c <= '9'))
                ok = fj_number(j);
        else
                ok = fj_literal(j, "true") || fj_literal(j, "false") || fj_literal(j, "null");
out:
        j->depth--;
        return ok;
}

/* Recognises exactly one RFC 8259 JSON text (any value, surrounded by
 * whitespace), in UTF-8. Fills j (whose nums then point into s). */
static inline bool fj_parse(Fj *j, const uint8_t *s, size_t n)
{
        memset(j, 0, sizeof(*j));
        j->s = s;
        j->n = n;
        j->path_exact = true;
        fj_ws(j);
        if (!fj_value(j))
                return false;
        fj_ws(j);
        return j->i == j->n;
}

/* ---- exact decimals ------------------------------------------------------- */

/* Splits the number literal text (len bytes) as
 * value = (*neg ? -1 : 1) x digits x 10^*exp: its significant digits, leading
 * zeros dropped, go to digits (at least len bytes), *ndp of them. */
static inline void decimal_split(const char *text, size_t len, char *digits, size_t *ndp,
                                 long *expp, bool *negp)
{
        size_t nd = 0, i = 0;
        long exp = 0;
        bool neg = false;

        if (i < len && text[i] == '-')
                neg = true, i++;
        for (; i < len && text[i] >= '0' && text[i] <= '9'; i++)
                if (text[i] != '0' || nd > 0)
                        digits[nd++] = text[i];
        if (i < len && text[i] == '.')
                for (i++; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
                        exp--;
                        if (text[i] != '0' || nd > 0)
                                digits[nd++] = text[i];
                }
        if (i < len && (text[i] == 'e' || text[i] == 'E')) {
                bool eneg = false;
                long e = 0;
                i++;
                if (i < len && (text[i] == '+' || text[i] == '-'))
                        eneg = text[i++] == '-';
                for (; i < len && text[i] >= '0' && text[i] <= '9'; i++)
                        if (e < 1000000)
                                e = e * 10 + (text[i] - '0');
                exp += eneg ? -e : e;
        }
        *ndp = nd;
        *expp = exp;
        *negp = neg;
}

/* True when the JSON number literal text[0..len) is exactly fen / 100. */
static inline bool decimal_is_fen(const char *text, size_t len, int64_t fen)
{
        char *digits = malloc(len + 1); /* significant digits, leading zeros dropped */
        size_t nd = 0;
        long exp = 0;
        bool neg = false, eq = false;

        if (!digits)
                abort();
        decimal_split(text, len, digits, &nd, &exp, &neg);
        /* value = digits x 10^exp, so fen = digits x 10^(exp + 2). */
        long k = exp + 2;
        while (nd > 0 && digits[nd - 1] == '0')
                nd--, k++;
        if (nd == 0)
                eq = fen == 0;
        else if (!neg && k >= 0 && (long)nd + k <= 19) {
                char want[32];
                snprintf(want, sizeof(want), "%lld", (long long)fen);
                eq = strlen(want) == nd + (size_t)k;
                for (size_t m = 0; eq && m < nd + (size_t)k; m++)
                        eq = want[m] == (m < nd ? digits[m] : '0');
        }
        free(digits);
        return eq;
}

/* True when the literal names the amount fen / 100 as a rendering of a
 * double can: at most 17 significant digits (any double prints in 17), and
 * rounded to 15 significant digits (DBL_DIG; a tie is not a rendering) it is
 * exactly fen / 100. So 12.339999999999999 names 1234 fen, while 12.345,
 * 12.3400000000000000001 and 1e-400 name no amount of fen. */
static inline bool decimal_names_fen(const char *text, size_t len, int64_t fen)
{
        char *d = malloc(len + 2);
        size_t nd = 0;
        long exp = 0;
        bool neg = false, ok = false;

        if (!d)
                abort();
        decimal_split(text, len, d, &nd, &exp, &neg);
        while (nd > 0 && d[nd - 1] == '0')
                nd--, exp++;
        if (nd == 0) {
                free(d);
                return fen == 0;
        }
        if (nd > 17 || neg) {
                free(d);
                return false;
        }
        if (nd > 15) {
                /* Round half up at 15 digits; a tie is refused. */
                bool tie = d[15] == '5' && (nd == 16 || d[16] == '0');
                bool up = d[15] >= '5';
                exp += (long)(nd - 15);
                nd = 15;
                if (tie) {
                        free(d);
                        return false;
                }
                for (size_t k = nd; up && k-- > 0;) {
                        if (d[k] == '9')
                                d[k] = '0';
                        else {
                                d[k]++;
                                up = false;
                        }
                }
                if (up) { /* 999...9 rounded up to 1000...0 */
                        memmove(d + 1, d, nd);
                        d[0] = '1';
                        nd++;
                }
                while (nd > 0 && d[nd - 1] == '0')
                        nd--, exp++;
        }
        d[nd] = '\0';
        char buf[64];
        snprintf(buf, sizeof(buf), "%.*se%ld", (int)nd, d, exp);
        ok = decimal_is_fen(buf, strlen(buf), fen);
        free(d);
        return ok;
}
