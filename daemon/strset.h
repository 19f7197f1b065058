/* A small set of strings (open addressing, FNV-1a), for the outbox entries
 * in flight. Not thread-safe; owned by one module. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct StrSet StrSet;

StrSet *strset_new(void);
StrSet *strset_free(StrSet *s);
/* Adds a copy of key; 0, or -ENOMEM. Adding a present key does nothing. */
int strset_add(StrSet *s, const char *key);
bool strset_contains(const StrSet *s, const char *key);
void strset_remove(StrSet *s, const char *key);
size_t strset_size(const StrSet *s);
