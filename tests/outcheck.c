/* outcheck: validates output CloudEvents read from stdin against the repository's schemas/out. */
/* Usage: build/outcheck SCHEMAS_DIR < lines
 * Each line is a CloudEvent as JSON, or kcat's "key<TAB>headers<TAB>value"
 * (the last field is taken). Every event's data is validated with hearth's
 * own validator (daemon/schema.c) against SCHEMAS_DIR/out/<type>.json, and
 * its dataschema must be that schema's $id. Prints one line per invalid
 * event and a count; exits 0 when all are valid, 1 otherwise, 2 on usage
 * or load errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lifecycle.h"
#include "schema.h"

int main(int argc, char **argv)
{
        char err[512], dir[1024];
        if (argc != 2) {
                fprintf(stderr, "usage: outcheck SCHEMAS_DIR < events\n");
                return 2;
        }
        snprintf(dir, sizeof(dir), "%s/out", argv[1]);
        SchemaSet *set = NULL;
        if (schema_set_load_dir(dir, &set, err, sizeof(err)) < 0) {
                fprintf(stderr, "outcheck: %s\n", err);
                return 2;
        }
        char *line = NULL;
        size_t cap = 0, n = 0, bad = 0;
        ssize_t len;
        while ((len = getline(&line, &cap, stdin)) > 0) {
                char *v = strrchr(line, '\t');
                v = v ? v + 1 : line;
                if (!*v || *v == '\n')
                        continue;
                n++;
                json_error_t je;
                json_t *ce = json_loads(v, 0, &je);
                const char *type = json_string_value(json_object_get(ce, "type"));
                const Schema *s = type ? schema_set_get(set, type) : NULL;
                char want[512];
                snprintf(want, sizeof(want), "%s%s.json", LIFECYCLE_DATASCHEMA_PREFIX,
                         type ? type : "");
                const char *ds = json_string_value(json_object_get(ce, "dataschema"));
                if (!s) {
                        printf("event %zu: %s\n", n, type ? "no schema for its type" : "no type");
                        bad++;
                } else if (!ds || strcmp(ds, want) != 0) {
                        printf("event %zu (%s): dataschema is not %s\n", n, type, want);
                        bad++;
                } else if (schema_validate(s, json_object_get(ce, "data"), "data", err,
                                           sizeof(err)) != 0) {
                        printf("event %zu (%s): %s\n", n, type, err);
                        bad++;
                }
                json_decref(ce);
        }
        free(line);
        schema_set_free(set);
        printf("%zu events, %zu invalid\n", n, bad);
        return bad ? 1 : 0;
}
