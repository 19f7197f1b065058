#include "strset.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Deleted slots keep a tombstone so that probing chains stay intact. */
static char tombstone;

struct StrSet {
        char **slots;
        size_t cap, used, live;
};

StrSet *strset_new(void)
{
        StrSet *s = calloc(1, sizeof(StrSet));
        if (!s)
                return NULL;
        s->cap = 64;
        s->slots = calloc(s->cap, sizeof(char *));
        if (!s->slots) {
                free(s);
                return NULL;
        }
        return s;
}

StrSet *strset_free(StrSet *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->cap; i++)
                if (s->slots[i] && s->slots[i] != &tombstone)
                        free(s->slots[i]);
        free(s->slots);
        free(s);
        return NULL;
}

static uint64_t hash(const char *k)
{
        uint64_t h = 1469598103934665603ULL;
        for (; *k; k++)
                h = (h ^ (unsigned char)*k) * 1099511628211ULL;
        return h;
}

/* The slot holding key, or the first free one on its chain. */
static size_t find(const StrSet *s, const char *key, bool *found)
{
        size_t i = hash(key) & (s->cap - 1), first_free = SIZE_MAX;
        for (size_t n = 0; n < s->cap; n++, i = (i + 1) & (s->cap - 1)) {
                char *e = s->slots[i];
                if (!e) {
                        *found = false;
                        return first_free != SIZE_MAX ? first_free : i;
                }
                if (e == &tombstone) {
                        if (first_free == SIZE_MAX)
                                first_free = i;
                } else if (strcmp(e, key) == 0) {
                        *found = true;
                        return i;
                }
        }
        *found = false;
        return first_free;
}

static int grow(StrSet *s)
{
        size_t ncap = s->live * 4 > s->cap ? s->cap * 2 : s->cap;
        char **old = s->slots;
        size_t ocap = s->cap;
        char **slots = calloc(ncap, sizeof(char *));
        if (!slots)
                return -ENOMEM;
        s->slots = slots;
        s->cap = ncap;
        s->used = s->live = 0;
        for (size_t i = 0; i < ocap; i++)
                if (old[i] && old[i] != &tombstone) {
                        bool f;
                        size_t j = find(s, old[i], &f);
                        s->slots[j] = old[i];
                        s->used++;
                        s->live++;
                }
        free(old);
        return 0;
}

int strset_add(StrSet *s, const char *key)
{
        if ((s->used + 1) * 2 > s->cap && grow(s) < 0)
                return -ENOMEM;
        bool found;
        size_t i = find(s, key, &found);
        if (found)
                return 0;
        char *k = strdup(key);
        if (!k)
                return -ENOMEM;
        if (!s->slots[i])
                s->used++;
        s->slots[i] = k;
        s->live++;
        return 0;
}

bool strset_contains(const StrSet *s, const char *key)
{
        bool found;
        find(s, key, &found);
        return found;
}

void strset_remove(StrSet *s, const char *key)
{
        bool found;
        size_t i = find(s, key, &found);
        if (!found)
                return;
        free(s->slots[i]);
        s->slots[i] = &tombstone;
        s->live--;
}

size_t strset_size(const StrSet *s)
{
        return s->live;
}
