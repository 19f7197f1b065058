/* A YAML document as a tree of nodes that remember where they came from.
 * Used by the config loader and the rule loader so that checks made after
 * parsing still point at file:line:col. Anchors and aliases are refused
 * (no alias bombs), and depth, node count and scalar size are bounded. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include "diag.h"

typedef enum { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP } YNodeType;

typedef struct YNode YNode;
struct YNode {
        YNodeType type;
        unsigned line, col; /* 1-based */
        char *scalar;       /* YNODE_SCALAR: NUL-terminated text */
        size_t len;         /* scalar length in bytes */
        bool plain;         /* scalar written without quotes (so `null`, `123` are typed) */
        size_t n;           /* items of a sequence, pairs of a map */
        YNode **items;      /* YNODE_SEQ: n items; YNODE_MAP: 2n (key, value, key, value...) */
};

#define YTREE_MAX_DEPTH 64
#define YTREE_MAX_NODES 100000
#define YTREE_MAX_SCALAR (64 * 1024)
#define YTREE_MAX_FILE_BYTES (4 * 1024 * 1024) /* ytree_parse_file() */

/* Parses one YAML document from buf (borrowed). file names the source in
 * diagnostics. On success *ret is the root (NULL for an empty document) and
 * 0 is returned; the caller frees it with ytree_free(). On failure every
 * problem found is added to diag and -EINVAL is returned. Duplicate keys in a
 * mapping are errors. */
int ytree_parse(const char *buf, size_t len, const char *file, YNode **ret, Diag *diag);
/* Reads the file and parses it; -errno if it cannot be read (added to diag). */
int ytree_parse_file(const char *path, YNode **ret, Diag *diag);
YNode *ytree_free(YNode *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(YNode *, ytree_free);

/* The value of key in a mapping, or NULL. */
YNode *ynode_get(const YNode *map, const char *key);
static inline YNode *ynode_key(const YNode *map, size_t i)
{
        return map->items[2 * i];
}
static inline YNode *ynode_value(const YNode *map, size_t i)
{
        return map->items[2 * i + 1];
}
const char *ynode_type_name(const YNode *n);
/* True for a plain scalar spelled null, ~ or empty. */
bool ynode_is_null(const YNode *n);
