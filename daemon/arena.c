/* The batch arena for jansson's values (arena.h). The sanitizer build
 * poisons what a scope handed out when the scope ends. */
#include "arena.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ALIGN 16u

static char *base;
static size_t top, peak;
/* The scope took memory from malloc: a tree of the region may now hold
 * values from malloc, so arena_decref() walks trees again. */
static bool spilled;
static _Thread_local unsigned depth;
static _Thread_local bool suspended;

static inline bool in_arena(const void *p)
{
        return base && (const char *)p >= base && (const char *)p < base + ARENA_REGION_BYTES;
}

static void *arena_malloc(size_t n)
{
        if (depth && !suspended && base) {
                size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
                if (need >= n && need <= ARENA_REGION_BYTES - top) {
                        void *p = base + top;
                        top += need;
                        UNPOISON(p, n);
                        return p;
                }
                spilled = true;
        }
        return malloc(n);
}

static void arena_free(void *p)
{
        if (!in_arena(p))
                free(p);
}

void arena_install(void)
{
        if (base)
                return;
        void *m = mmap(NULL, ARENA_REGION_BYTES, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
                return; /* jansson keeps malloc: slower, not wrong */
        base = m;
        json_set_alloc_funcs(arena_malloc, arena_free);
}

void arena_enter(void)
{
        depth++;
}

void arena_leave(void)
{
        if (!depth || --depth || !base)
                return;
        if (top > peak)
                peak = top;
        POISON(base, top);
        top = 0;
        spilled = false;
}

void arena_decref(json_t *v)
{
        if (v && (spilled || !in_arena(v)))
                json_decref(v);
}

char *arena_json_dumps(const json_t *v, size_t flags)
{
        bool was = suspended;
        suspended = true;
        char *s = json_dumps(v, flags);
        suspended = was;
        return s;
}

size_t arena_used(void)
{
        return top;
}

size_t arena_peak(void)
{
        return peak > top ? peak : top;
}

void arena_shutdown(void)
{
        if (!base || depth)
                return;
        json_set_alloc_funcs(malloc, free);
        munmap(base, ARENA_REGION_BYTES);
        base = NULL;
}
