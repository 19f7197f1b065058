#include "escape.h"

#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when s starts with
 * a byte that is not UTF-8 (a stray continuation, an overlong form, a
 * surrogate, beyond U+10FFFF, or cut short). */
static size_t utf8_len(const unsigned char *s)
{
        unsigned char c = s[0];
        size_t n;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf)
                n = 2;
        else if (c >= 0xe0 && c <= 0xef) {
                n = 3;
                lo = c == 0xe0 ? 0xa0 : 0x80;
                hi = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
                n = 4;
                lo = c == 0xf0 ? 0x90 : 0x80;
                hi = c == 0xf4 ? 0x8f : 0xbf;
        } else
                return 0;
        if (s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if (s[i] < 0x80 || s[i] > 0xbf)
                        return 0;
        return n;
}

/* The text that shows the character at *s, advancing *s past it: the
 * character itself (out = s, *n its length) or an escape written to esc. */
static const char *next(const unsigned char **s, char esc[8], size_t *n)
{
        const unsigned char *p = *s;
        size_t l = p[0] >= 0x80 ? utf8_len(p) : 1;
        if (l == 0 || p[0] < 0x20 || p[0] == 0x7f) {
                snprintf(esc, 8, "\\x%02x", p[0]);
                *n = 4;
                *s = p + 1;
                return esc;
        }
        *s = p + l;
        if (l == 2 && p[0] == 0xc2 && p[1] <= 0x9f) {
                snprintf(esc, 8, "\\u%04x", p[1]);
                *n = 6;
                return esc;
        }
        *n = l;
        return (const char *)p;
}

void escape_fputs(const char *s, FILE *f)
{
        const unsigned char *p = (const unsigned char *)s;
        char esc[8];
        size_t n;
        while (p && *p) {
                const char *t = next(&p, esc, &n);
                fwrite(t, 1, n, f);
        }
}

const char *escape_str(const char *s, char *buf, size_t len)
{
        const unsigned char *p = (const unsigned char *)(s ? s : "");
        size_t o = 0, n;
        char esc[8];
        if (!buf || len == 0)
                return "";
        while (*p) {
                const unsigned char *at = p;
                const char *t = next(&p, esc, &n);
                if (n > len - 1 - o) {
                        p = at;
                        break;
                }
                memcpy(buf + o, t, n);
                o += n;
        }
        if (*p) {
                /* Cut: whole characters go until "..." fits. */
                size_t dots = len - 1 < 3 ? len - 1 : 3;
                while (o > len - 1 - dots) {
                        o--;
                        while (o > 0 && ((unsigned char)buf[o] & 0xc0) == 0x80)
                                o--;
                }
                memcpy(buf + o, "...", dots);
                o += dots;
        }
        buf[o] = '\0';
        return buf;
}

void escape_html(FILE *f, const char *s)
{
        for (; s && *s; s++) {
                switch (*s) {
                case '<':
                        fputs("&lt;", f);
                        break;
                case '>':
                        fputs("&gt;", f);
                        break;
                case '&':
                        fputs("&amp;", f);
                        break;
                case '"':
                        fputs("&quot;", f);
                        break;
                default:
                        /* Controls are not text in HTML either. */
                        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
                                char one[2] = {*s, 0};
                                escape_fputs(one, f);
                        } else
                                fputc(*s, f);
                }
        }
}

void escape_csv(FILE *f, const char *s)
{
        if (!strpbrk(s, ",\"\n\r")) {
                fputs(s, f);
                return;
        }
        fputc('"', f);
        for (; *s; s++) {
                if (*s == '"')
                        fputc('"', f);
                fputc(*s, f);
        }
        fputc('"', f);
}
