/* Test tool: validates hearth's output CloudEvents (JSON lines on stdin) against schemas/out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lifecycle.h"
#include "macro.h"
#include "schema.h"

/* outcheck SCHEMAS_DIR < lines: each line one CloudEvent from hearth.alerts,
 * as JSON or as kcat's "key<TAB>headers<TAB>value" (the last field is
 * taken). Checks the envelope (cloudevent.json), the dataschema attribute
 * and the data against SCHEMAS_DIR/out/<type>.json with hearth's own
 * validator. Prints every failure; exits 1 if there was one (or no event
 * at all), else 0 and "N valid"; 2 on usage or load errors. */
int main(int argc, char **argv)
{
        char err[512], out[512];
        SchemaSet *in = NULL, *outs = NULL;
        if (argc != 2) {
                fprintf(stderr, "usage: outcheck SCHEMAS_DIR < events.jsonl\n");
                return 2;
        }
        snprintf(out, sizeof(out), "%s/out", argv[1]);
        if (schema_set_load_dir(argv[1], &in, err, sizeof(err)) < 0 ||
            schema_set_load_dir(out, &outs, err, sizeof(err)) < 0) {
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
                json_error_t je;
                json_t *ce = json_loads(v, 0, &je);
                const char *type = json_string_value(json_object_get(ce, "type"));
                const Schema *s = type ? schema_set_get(outs, type) : NULL;
                char want[512];
                snprintf(want, sizeof(want), "%s%s.json", LIFECYCLE_DATASCHEMA_PREFIX,
                         type ? type : "?");
                n++;
                if (!s) {
                        printf("line %zu: no output schema for type %s\n", n, type ? type : "?");
                        bad++;
                } else if (schema_validate(schema_set_get(in, "cloudevent"), ce, "", err,
                                           sizeof(err)) != 0 ||
                           schema_validate(s, json_object_get(ce, "data"), "data", err,
                                           sizeof(err)) != 0) {
                        printf("line %zu (%s %s): %s\n", n, type,
                               json_string_value(json_object_get(ce, "id")), err);
                        bad++;
                } else if (!streq_ptr(json_string_value(json_object_get(ce, "dataschema")), want)) {
                        printf("line %zu: dataschema is not %s\n", n, want);
                        bad++;
                }
                json_decref(ce);
        }
        free(line);
        schema_set_free(in);
        schema_set_free(outs);
        if (bad || !n) {
                printf("%zu of %zu output(s) invalid\n", bad, n);
                return 1;
        }
        printf("%zu valid\n", n);
        return 0;
}
