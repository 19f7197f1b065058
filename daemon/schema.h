/* JSON Schema validation (a 2020-12 subset) over jansson values.
 *
 * A schema is compiled once: keywords become a struct per schema node, local
 * $refs are resolved, regexes are translated to POSIX and compiled. A schema
 * that uses anything outside the supported subset (another keyword, another
 * format, a remote or anchor $ref, a regex construct with no POSIX
 * translation) is refused with "<JSON pointer>: <message>", never silently
 * half-checked. Validation is then pure: no allocation on the valid path, no
 * logging, bounded recursion; it reports the first error with the instance
 * path ("data.members[0].labor: must be one of full, partial, none"). */
#pragma once

#include <jansson.h>
#include <stddef.h>

typedef struct Schema Schema;
typedef struct SchemaSet SchemaSet;

/* Compiles the schema document doc (borrowed: the Schema copies what it keeps,
 * so doc may be changed or freed afterwards). Returns a Schema the caller
 * frees with schema_free(), or NULL with "<pointer>: <message>" in err
 * (e.g. "#/properties/x/contains: unsupported keyword 'contains'"). err may
 * be NULL when errlen is 0; errno is then ENOMEM when memory failed, else
 * EINVAL. */
Schema *schema_compile(json_t *doc, char *err, size_t errlen);

/* Frees s; accepts NULL. Returns NULL. */
Schema *schema_free(Schema *s);

/* Validates instance (borrowed) against s. Returns 0 when valid, -EINVAL when
 * not, with the first error in err as "<path>: <message>", where the path is
 * dotted with [i] for array indexes and starts with root ("data", or "" or
 * NULL for none: then an error at the top is just "<message>"). Another
 * negative errno (-ENOMEM) means validation could not run. Thread-safe: s is
 * not modified. */
int schema_validate(const Schema *s, const json_t *instance, const char *root, char *err,
                    size_t errlen);

/* Loads and compiles every "*.json" file of dir (not starting with '.'),
 * keyed by the file name without ".json" ("medical.claim.settled"). On
 * success stores a set the caller frees with schema_set_free() in *ret.
 * Fails when a file cannot be read, parsed or compiled, or when dir holds no
 * schema: err names the first bad file ("dir/x.json:3:7: ..." or
 * "dir/x.json: #/type: ...") and how many other files failed. */
int schema_set_load_dir(const char *dir, SchemaSet **ret, char *err, size_t errlen);

/* Returns the schema named name (borrowed from set), or NULL. */
const Schema *schema_set_get(const SchemaSet *set, const char *name);

/* Number of schemas in set (0 for NULL). */
size_t schema_set_count(const SchemaSet *set);

/* Frees set and its schemas; accepts NULL. Returns NULL. */
SchemaSet *schema_set_free(SchemaSet *set);
