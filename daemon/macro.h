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

static inline int streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}
#define streq(a, b) (strcmp((a), (b)) == 0)
