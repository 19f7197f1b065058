/* Sets of compiled JSON schemas, one per file of a directory.
 *
 * The schema module (JSON Schema, a 2020-12 subset) in files of one concern:
 * schema_compile.c and schema_keywords.c compile a document, schema_regex.c
 * translates its patterns, schema_validate.c validates (formats through
 * calendar.c), schema_value.c holds the shared value and message helpers
 * (structures in schema_impl.h).
 *
 * Compile walks the document once and turns each schema object into a Node:
 * a bit set of the assertions present plus their operands, child nodes for
 * the applicators. Every node is also kept in one array owned by the Schema,
 * which makes freeing and the $ref checks simple (refs make the node graph
 * cyclic). Validation follows the nodes and touches no keyword name.
 *
 * Limits: schema nesting (SCHEMA_MAX_DEPTH), node count, chains of in-place
 * applicators ($ref, allOf, anyOf, oneOf, not, if/then/else) that never
 * descend into the instance (a cycle of them is refused: it would never end),
 * instance nesting during validation (VALIDATE_MAX_DEPTH) and total recursion
 * (VALIDATE_MAX_CALLS). Exceeding a limit during validation is an error that
 * no `not` or `anyOf` can turn into a success. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema_impl.h"

#define SET_MAX_FILES 4096
#define SET_MAX_FILE_SIZE (4 << 20)

/* ---- sets of schemas from a directory ---------------------------------- */

typedef struct SchemaEntry {
        char *name;
        Schema *schema;
} SchemaEntry;

struct SchemaSet {
        SchemaEntry *entries; /* sorted by name */
        size_t n;
};

SchemaSet *schema_set_free(SchemaSet *set)
{
        if (!set)
                return NULL;
        for (size_t i = 0; i < set->n; i++) {
                free(set->entries[i].name);
                schema_free(set->entries[i].schema);
        }
        free(set->entries);
        free(set);
        return NULL;
}

static int entry_cmp(const void *a, const void *b)
{
        return strcmp(((const SchemaEntry *)a)->name, ((const SchemaEntry *)b)->name);
}

const Schema *schema_set_get(const SchemaSet *set, const char *name)
{
        SchemaEntry key = {.name = (char *)name}, *e;

        if (!set || !name || set->n == 0)
                return NULL;
        e = bsearch(&key, set->entries, set->n, sizeof(key), entry_cmp);
        return e ? e->schema : NULL;
}

size_t schema_set_count(const SchemaSet *set)
{
        return set ? set->n : 0;
}

static void closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

/* Reads and compiles dir/name (dfd is dir) into *ret. Errors go to o,
 * prefixed with the file's path. */
static int load_one(int dfd, const char *dir, const char *name, Schema **ret, Out *o)
{
        __attribute__((cleanup(closep))) int fd = -1;
        json_auto_t *doc = NULL;
        json_error_t jerr;
        struct stat st;
        char msg[256];

        fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                int e = errno;

                schema_out_printf(o, "%s/%s: %s", dir, name, strerror(e));
                return -e;
        }
        if (fstat(fd, &st) < 0) {
                int e = errno;

                schema_out_printf(o, "%s/%s: %s", dir, name, strerror(e));
                return -e;
        }
        if (!S_ISREG(st.st_mode)) {
                schema_out_printf(o, "%s/%s: not a regular file", dir, name);
                return -EINVAL;
        }
        if (st.st_size > SET_MAX_FILE_SIZE) {
                schema_out_printf(o, "%s/%s: larger than %d bytes", dir, name, SET_MAX_FILE_SIZE);
                return -EFBIG;
        }
        doc = json_loadfd(fd, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
        if (!doc) {
                schema_out_printf(o, "%s/%s:%d:%d: %s", dir, name, jerr.line, jerr.column,
                                  jerr.text);
                return -EINVAL;
        }
        *ret = schema_compile(doc, msg, sizeof(msg));
        if (!*ret) {
                int r = errno == ENOMEM ? -ENOMEM : -EINVAL;
                schema_out_printf(o, "%s/%s: %s", dir, name, msg);
                return r;
        }
        return 0;
}

static bool is_schema_file(const char *name)
{
        size_t len = strlen(name);

        return name[0] != '.' && len > 5 && streq(name + len - 5, ".json");
}

int schema_set_load_dir(const char *dir, SchemaSet **ret, char *err, size_t errlen)
{
        __attribute__((cleanup(closedirp))) DIR *d = NULL;
        SchemaSet *set = NULL;
        struct dirent *de;
        size_t cap = 0, failed = 0;
        int dfd, r = 0, first = 0;
        Out o;

        schema_out_init(&o, err, errlen);
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                r = -errno;
                schema_out_printf(&o, "%s: %s", dir, strerror(-r));
                return r;
        }
        d = fdopendir(dfd);
        if (!d) {
                r = -errno;
                close(dfd);
                schema_out_printf(&o, "%s: %s", dir, strerror(-r));
                return r;
        }
        set = calloc(1, sizeof(*set));
        if (!set)
                goto nomem;
        /* Collect names first: sorted, so errors and lookups are stable. */
        while ((errno = 0, de = readdir(d))) {
                if (!is_schema_file(de->d_name))
                        continue;
                if (set->n >= SET_MAX_FILES) {
                        schema_out_printf(&o, "%s: more than %d schema files", dir, SET_MAX_FILES);
                        r = -E2BIG;
                        goto fail;
                }
                if (set->n == cap) {
                        size_t ncap = cap ? cap * 2 : 16;
                        SchemaEntry *v = realloc(set->entries, ncap * sizeof(*v));

                        if (!v)
                                goto nomem;
                        set->entries = v;
                        cap = ncap;
                }
                set->entries[set->n] = (SchemaEntry){.name = strdup(de->d_name)};
                if (!set->entries[set->n].name)
                        goto nomem;
                set->n++;
        }
        if (errno != 0) {
                r = -errno;
                schema_out_printf(&o, "%s: %s", dir, strerror(-r));
                goto fail;
        }
        if (set->n == 0) {
                schema_out_printf(&o, "%s: no *.json schema files", dir);
                r = -ENOENT;
                goto fail;
        }
        qsort(set->entries, set->n, sizeof(set->entries[0]), entry_cmp);
        /* Compile them all, to count every bad file, but report the first. */
        for (size_t i = 0; i < set->n; i++) {
                char b[512];
                Out one;
                SchemaEntry *e = &set->entries[i];

                schema_out_init(&one, b, sizeof(b));
                r = load_one(dirfd(d), dir, e->name, &e->schema, &one);
                if (r < 0 && failed++ == 0) {
                        schema_out_str(&o, b);
                        first = r;
                }
                e->name[strlen(e->name) - 5] = '\0'; /* strip ".json" */
        }
        if (failed > 0) {
                if (failed > 1)
                        schema_out_printf(&o, " (and %zu more bad schema files)", failed - 1);
                r = first;
                goto fail;
        }
        /* Without ".json" the order can change ("a-b" < "a.json" but "a" <
         * "a-b"): sort again for schema_set_get(). */
        qsort(set->entries, set->n, sizeof(set->entries[0]), entry_cmp);
        *ret = set;
        return 0;
nomem:
        schema_out_init(&o, err, errlen);
        schema_out_str(&o, "out of memory");
        r = -ENOMEM;
fail:
        schema_set_free(set);
        return r;
}
