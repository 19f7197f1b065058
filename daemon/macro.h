/* Small helpers shared by every module: cleanup attributes, ownership
 * hand-off, array sizes. Nothing here allocates or logs. */
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define UNUSED __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Hand ownership on: returns the pointer and leaves NULL behind, so the
 * cleanup attribute of the old owner does nothing. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _tp_ = (p);                                                          \
                (p) = NULL;                                                                        \
                _tp_;                                                                              \
        })

/* Declares a cleanup function `name##p` that calls `func` on a pointer
 * variable if it is not NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                    \
        static inline void func##p(type *p)                                                        \
        {                                                                                          \
                if (*p)                                                                            \
                        func(*p);                                                                  \
        }

/* Writes m's decimal digits so that they end just before end (room for 20
 * is enough); returns where they start. Without printf, for the hot path. */
static inline char *digits_before(char *end, uint64_t m)
{
        do {
                *--end = (char)('0' + m % 10);
                m /= 10;
        } while (m);
        return end;
}

/* The same for a signed v ("-" before the magnitude, which is taken as
 * unsigned so that INT64_MIN is right too); room for 21. */
static inline char *int_before(char *end, int64_t v)
{
        char *p = digits_before(end, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
        if (v < 0)
                *--p = '-';
        return p;
}

/* snprintf(buf, len, "%s/%d", topic, partition), without printf: the hot
 * path names a message's partition this way for every message. */
static inline void tp_format(char *buf, size_t len, const char *topic, int partition)
{
        char d[24], *end = d + sizeof(d);
        char *p = int_before(end, partition);
        size_t k = 0;
        if (len == 0)
                return;
        for (; *topic && k + 1 < len; topic++)
                buf[k++] = *topic;
        if (k + 1 < len)
                buf[k++] = '/';
        for (; p < end && k + 1 < len; p++)
                buf[k++] = *p;
        buf[k] = '\0';
}

/* snprintf(buf, 17, "%016" PRIx64, v), without printf. */
static inline void hex16_format(char buf[17], uint64_t v)
{
        for (int i = 15; i >= 0; i--, v >>= 4)
                buf[i] = "0123456789abcdef"[v & 15];
        buf[16] = '\0';
}

/* snprintf(dst, len, "%s", src), without printf: src cut to len - 1
 * bytes; NULL copied as glibc prints it, "(null)". */
static inline void str_copy(char *dst, size_t len, const char *src)
{
        if (len == 0)
                return;
        if (!src)
                src = "(null)";
        size_t n = strnlen(src, len - 1);
        memcpy(dst, src, n);
        dst[n] = '\0';
}

static inline int streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}
#define streq(a, b) (strcmp((a), (b)) == 0)
