#include "redact.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

bool redact_key_is_secret(const char *key)
{
        static const char *const words[] = {"password", "secret"};
        size_t l = key ? strlen(key) : 0;
        /* redis.password_file names a file: its content is the secret. */
        if (!key || (l >= 5 && strcmp(key + l - 5, "_file") == 0))
                return false;
        for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
                for (const char *p = key; *p; p++)
                        if (strncasecmp(p, words[w], strlen(words[w])) == 0)
                                return true;
        return false;
}

static bool scheme_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '+' || c == '-' || c == '.';
}

static bool url_end(char c)
{
        return c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\'' ||
               c == '"' || c == '`';
}

size_t redact_url_password(const char *s, size_t *off)
{
        const char *p = s;
        while (s && (p = strstr(p, "://"))) {
                const char *scheme = p;
                while (scheme > s && scheme_char(scheme[-1]))
                        scheme--;
                const char *start = p + 3, *end = start;
                if (scheme == p) { /* "://" without a scheme */
                        p = start;
                        continue;
                }
                /* A URL that is the whole text keeps every character. */
                if (scheme == s)
                        end = start + strlen(start);
                else
                        while (!url_end(*end))
                                end++;
                const char *at = NULL;
                for (const char *q = start; q < end; q++)
                        if (*q == '@')
                                at = q;
                if (at) {
                        const char *colon = memchr(start, ':', (size_t)(at - start));
                        const char *pw = colon ? colon + 1 : start;
                        if (at > pw) {
                                *off = (size_t)(pw - s);
                                return (size_t)(at - pw);
                        }
                }
                p = end;
        }
        return 0;
}

/* Appends n bytes of src at *o in buf (len bytes, room kept for the NUL). */
static void put(char *buf, size_t len, size_t *o, const char *src, size_t n)
{
        if (*o + 1 >= len)
                return;
        if (n > len - 1 - *o)
                n = len - 1 - *o;
        memcpy(buf + *o, src, n);
        *o += n;
}

const char *redact_url(const char *text, char *buf, size_t len)
{
        size_t o = 0;
        if (!buf || len == 0)
                return "";
        if (!text)
                text = "(null)";
        for (;;) {
                size_t off, n = redact_url_password(text, &off);
                if (!n) {
                        put(buf, len, &o, text, strlen(text));
                        break;
                }
                put(buf, len, &o, text, off);
                put(buf, len, &o, REDACTED, strlen(REDACTED));
                text += off + n;
        }
        buf[o] = '\0';
        return buf;
}

const char *redact_secret(const char *text, const char *secret, char *buf, size_t len)
{
        size_t o = 0, sl = secret ? strlen(secret) : 0;
        if (!buf || len == 0)
                return "";
        if (!text)
                text = "(null)";
        for (const char *hit; sl && (hit = strstr(text, secret)); text = hit + sl) {
                put(buf, len, &o, text, (size_t)(hit - text));
                put(buf, len, &o, REDACTED, strlen(REDACTED));
        }
        put(buf, len, &o, text, strlen(text));
        buf[o] = '\0';
        return buf;
}

/* Overwrites every URL password in s with '*'. */
static bool stars_in_urls(char *s)
{
        bool hid = false;
        size_t off, n;
        while ((n = redact_url_password(s, &off))) {
                memset(s + off, '*', n);
                /* The stars hold no '@' now: go on after them. */
                s += off + n;
                hid = true;
        }
        return hid;
}

bool redact_argument(char *arg)
{
        if (!arg)
                return false;
        char *eq = strchr(arg, '=');
        char *url = strstr(arg, "://");
        if (eq && (!url || eq < url)) {
                char key[256];
                snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
                if (redact_key_is_secret(key) && eq[1]) {
                        memset(eq + 1, '*', strlen(eq + 1));
                        return true;
                }
                return stars_in_urls(eq + 1);
        }
        return stars_in_urls(arg);
}
