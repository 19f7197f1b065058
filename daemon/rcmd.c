/* Redis command arguments built one by one, bounded (rcmd.h). */
#include "rcmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

/* Copies live in chunks that never move, so argv may point into them. */
struct RCmdChunk {
        RCmdChunk *next;
        size_t used, cap;
        char text[];
};

#define RCMD_CHUNK 1024

int rcmd_init(RCmd *c, size_t cap)
{
        *c = (RCmd){.cap = cap};
        c->argv = calloc(cap ? cap : 1, sizeof(*c->argv));
        c->lens = calloc(cap ? cap : 1, sizeof(*c->lens));
        if (!c->argv || !c->lens)
                c->err = -ENOMEM;
        return c->err;
}

void rcmd_done(RCmd *c)
{
        free(c->argv);
        free(c->lens);
        for (RCmdChunk *k = c->chunks, *next; k; k = next) {
                next = k->next;
                free(k);
        }
        *c = (RCmd){0};
}

void rcmd_push_len(RCmd *c, const char *s, size_t len)
{
        if (c->err)
                return;
        if (c->argc >= c->cap) {
                c->err = -E2BIG;
                return;
        }
        c->argv[c->argc] = s;
        c->lens[c->argc++] = len;
}

void rcmd_push_str(RCmd *c, const char *s)
{
        rcmd_push_len(c, s, strlen(s));
}

/* Room for len + 1 bytes in the newest chunk, or in a new one. */
static char *room(RCmd *c, size_t len)
{
        RCmdChunk *k = c->chunks;
        if (!k || k->cap - k->used < len + 1) {
                size_t cap = len + 1 > RCMD_CHUNK ? len + 1 : RCMD_CHUNK;
                k = malloc(sizeof(*k) + cap);
                if (!k) {
                        c->err = -ENOMEM;
                        return NULL;
                }
                *k = (RCmdChunk){.next = c->chunks, .cap = cap};
                c->chunks = k;
        }
        return k->text + k->used;
}

/* Ends the argument of len bytes written at p (from room()) and pushes it. */
static void push_written(RCmd *c, char *p, size_t len)
{
        p[len] = '\0';
        c->chunks->used += len + 1;
        rcmd_push_len(c, p, len);
}

static void push_vfmt(RCmd *c, const char *fmt, va_list ap)
{
        va_list aq;
        va_copy(aq, ap);
        int len = vsnprintf(NULL, 0, fmt, aq);
        va_end(aq);
        if (c->err)
                return;
        if (len < 0) {
                c->err = -EINVAL;
                return;
        }
        char *p = room(c, (size_t)len);
        if (!p)
                return;
        vsnprintf(p, (size_t)len + 1, fmt, ap);
        push_written(c, p, (size_t)len);
}

void rcmd_push_fmt(RCmd *c, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        push_vfmt(c, fmt, ap);
        va_end(ap);
}

void rcmd_push_cat(RCmd *c, size_t n, const char *const *parts)
{
        if (c->err)
                return;
        size_t len = 0, l[8];
        if (n > ELEMENTSOF(l)) {
                c->err = -EINVAL;
                return;
        }
        for (size_t i = 0; i < n; i++)
                len += l[i] = strlen(parts[i]);
        char *p = room(c, len);
        if (!p)
                return;
        for (size_t i = 0, at = 0; i < n; at += l[i], i++)
                memcpy(p + at, parts[i], l[i]);
        push_written(c, p, len);
}

void rcmd_push_int(RCmd *c, int64_t v)
{
        /* Without printf: every commit pushes its version. */
        char d[24], *end = d + sizeof(d);
        char *s = int_before(end, v);
        size_t len = (size_t)(end - s);
        char *p = c->err ? NULL : room(c, len);
        if (!p)
                return;
        memcpy(p, s, len);
        push_written(c, p, len);
}
