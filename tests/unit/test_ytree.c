/* Unit tests of ytree.c: the tree of a YAML document with 1-based
 * line:col for every node, plain and quoted scalars, lookups, null
 * spellings; refusals with file:line:col (duplicate keys, non-scalar keys,
 * anchors, aliases, several documents, syntax errors) and the bounds on
 * depth, node count, scalar size and file size. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ytree.h"

/* Parses text; returns the root and the result in *r. */
static YNode *parse(const char *text, Diag *d, int *r)
{
        YNode *root = (YNode *)&root; /* must be reset */
        *r = ytree_parse(text, strlen(text), "t.yaml", &root, d);
        return root;
}

static void test_tree(void **state)
{
        (void)state;
        Diag *d = diag_new();
        int r;
        YNode *root = parse("name: income\n"
                            "when: |\n"
                            "  income < 100\n"
                            "list:\n"
                            "  - 'quoted'\n"
                            "  - \"2\"\n"
                            "  - 3\n"
                            "nested: {a: [x, y], b: ~}\n"
                            "中文: 值\n",
                            d, &r);
        assert_int_equal(r, 0);
        assert_int_equal(diag_count(d), 0);
        assert_non_null(root);
        assert_int_equal(root->type, YNODE_MAP);
        assert_int_equal(root->n, 5);
        assert_int_equal(root->line, 1);
        assert_int_equal(root->col, 1);

        YNode *name = ynode_get(root, "name");
        assert_string_equal(name->scalar, "income");
        assert_true(name->plain);
        assert_int_equal(name->line, 1);
        assert_int_equal(name->col, 7);
        /* The key's own position too. */
        assert_int_equal(ynode_key(root, 1)->line, 2);
        assert_string_equal(ynode_key(root, 1)->scalar, "when");
        /* A block scalar keeps its newline, is not plain. */
        YNode *when = ynode_get(root, "when");
        assert_string_equal(when->scalar, "income < 100\n");
        assert_int_equal(when->len, 13);
        assert_false(when->plain);

        YNode *list = ynode_get(root, "list");
        assert_int_equal(list->type, YNODE_SEQ);
        assert_int_equal(list->n, 3);
        assert_string_equal(list->items[0]->scalar, "quoted");
        assert_false(list->items[0]->plain);
        assert_false(list->items[1]->plain);
        assert_true(list->items[2]->plain);
        assert_int_equal(list->items[2]->line, 7);
        assert_int_equal(list->items[2]->col, 5);

        YNode *nested = ynode_get(root, "nested");
        assert_int_equal(nested->type, YNODE_MAP);
        assert_int_equal(ynode_get(nested, "a")->n, 2);
        assert_string_equal(ynode_get(nested, "a")->items[1]->scalar, "y");
        assert_true(ynode_is_null(ynode_get(nested, "b")));
        assert_string_equal(ynode_get(root, "中文")->scalar, "值");

        /* Lookups that find nothing. */
        assert_null(ynode_get(root, "missing"));
        assert_null(ynode_get(list, "name"));
        assert_null(ynode_get(NULL, "name"));
        assert_string_equal(ynode_type_name(root), "a mapping");
        assert_string_equal(ynode_type_name(list), "a list");
        assert_string_equal(ynode_type_name(name), "a scalar");
        assert_string_equal(ynode_type_name(NULL), "nothing");
        assert_null(ytree_free(root));

        /* An empty document: no root, no error. */
        root = parse("", d, &r);
        assert_int_equal(r, 0);
        assert_null(root);
        root = parse("# only a comment\n---\n", d, &r);
        assert_int_equal(r, 0);
        assert_true(root == NULL || ynode_is_null(root));
        ytree_free(root);
        assert_int_equal(diag_count(d), 0);
        diag_free(d);
}

static void test_null(void **state)
{
        (void)state;
        static const struct {
                const char *text;
                bool null;
        } cases[] = {
            {"k: null", true},    {"k: ~", true},       {"k: Null", true},  {"k: NULL", true},
            {"k:", true},         {"k: 'null'", false}, {"k: \"\"", false}, {"k: nul", false},
            {"k: [null]", false}, {"k: 0", false},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int r;
                YNode *root = parse(cases[i].text, NULL, &r);
                assert_int_equal(r, 0);
                if (ynode_is_null(ynode_get(root, "k")) != cases[i].null)
                        fail_msg("%s: null is %d", cases[i].text, !cases[i].null);
                ytree_free(root);
        }
        assert_true(ynode_is_null(NULL));
}

static void test_refused(void **state)
{
        (void)state;
        static const struct {
                const char *text, *msg; /* msg: the first diagnostic, whole */
        } cases[] = {
            {"a: 1\nb: 2\na: 3\n", "t.yaml:3:1: duplicate key 'a'"},
            {"? [x]\n: 1\n", "t.yaml:1:3: mapping keys must be scalars"},
            {"a: &x 1\n", "t.yaml:1:4: YAML anchors are not allowed"},
            {"a: &x [1]\nb: *x\n", "t.yaml:1:4: YAML anchors are not allowed"},
            {"a: [1, *x]\n", "t.yaml:1:8: YAML aliases are not allowed"},
            {"a: 1\n---\nb: 2\n", "t.yaml:2:1: only one YAML document allowed"},
            {"a: [1, 2\n", NULL},
            {"a: 'open\n", NULL},
            {"\ta: 1\n", NULL},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                Diag *d = diag_new();
                int r;
                YNode *root = parse(cases[i].text, d, &r);
                if (r != -EINVAL || root != NULL || diag_count(d) == 0)
                        fail_msg("%s: accepted (%d)", cases[i].text, r);
                /* Every message says where: t.yaml:line:col. */
                unsigned line, col;
                if (sscanf(diag_get(d, 0), "t.yaml:%u:%u: ", &line, &col) != 2 || line == 0 ||
                    col == 0)
                        fail_msg("%s: '%s' has no position", cases[i].text, diag_get(d, 0));
                if (cases[i].msg && strcmp(diag_get(d, 0), cases[i].msg) != 0)
                        fail_msg("%s: '%s', expected '%s'", cases[i].text, diag_get(d, 0),
                                 cases[i].msg);
                diag_free(d);
        }
}

/* A text of n nested flow sequences: [[[...]]]. */
static char *nested(size_t n)
{
        char *s = malloc(2 * n + 1);
        assert_non_null(s);
        memset(s, '[', n);
        memset(s + n, ']', n);
        s[2 * n] = '\0';
        return s;
}

static void test_bounds(void **state)
{
        (void)state;
        int r;
        Diag *d = diag_new();
        /* Depth: YTREE_MAX_DEPTH levels are fine, one more is not. */
        char *s = nested(YTREE_MAX_DEPTH);
        YNode *root = parse(s, d, &r);
        free(s);
        assert_int_equal(r, 0);
        ytree_free(root);
        s = nested(YTREE_MAX_DEPTH + 1);
        root = parse(s, d, &r);
        free(s);
        assert_int_equal(r, -EINVAL);
        assert_null(root);
        assert_non_null(strstr(diag_get(d, 0), "YAML nested too deeply"));

        /* A scalar of YTREE_MAX_SCALAR bytes, and one byte more. */
        size_t len = YTREE_MAX_SCALAR + 4;
        s = malloc(len + 2);
        assert_non_null(s);
        memcpy(s, "k: ", 3);
        memset(s + 3, 'x', YTREE_MAX_SCALAR);
        s[3 + YTREE_MAX_SCALAR] = '\0';
        root = parse(s, d, &r);
        assert_int_equal(r, 0);
        assert_int_equal(ynode_get(root, "k")->len, YTREE_MAX_SCALAR);
        ytree_free(root);
        s[3 + YTREE_MAX_SCALAR] = 'x';
        s[4 + YTREE_MAX_SCALAR] = '\0';
        root = parse(s, d, &r);
        free(s);
        assert_int_equal(r, -EINVAL);
        assert_non_null(strstr(diag_get(d, 1), "t.yaml:1:4: YAML scalar too long"));

        /* YTREE_MAX_NODES nodes: a list of 271 lists of 368 scalars
         * (1 + 271 * 369 = 100000; short lists, as growing one list is
         * quadratic), then one scalar more. */
        _Static_assert(1 + 271 * 369 == YTREE_MAX_NODES, "271 x 368");
        size_t cap = 2 + 271 * (2 + 2 * 368) + 4, off = 0;
        s = malloc(cap);
        assert_non_null(s);
        s[off++] = '[';
        for (size_t i = 0; i < 271; i++) {
                s[off++] = '[';
                for (size_t k = 0; k < 368; k++)
                        memcpy(s + off + 2 * k, "0,", 2);
                off += 2 * 368;
                memcpy(s + off - 1, "],", 2); /* over the last comma */
                off++;
        }
        memcpy(s + off - 1, "]", 2);
        root = parse(s, d, &r);
        assert_int_equal(r, 0);
        assert_int_equal(root->n, 271);
        assert_int_equal(root->items[270]->n, 368);
        ytree_free(root);
        memcpy(s + off - 1, ",0]", 4);
        root = parse(s, d, &r);
        free(s);
        assert_int_equal(r, -EINVAL);
        assert_non_null(strstr(diag_get(d, 2), "too many YAML nodes"));
        assert_int_equal(diag_count(d), 3);
        diag_free(d);
}

static void test_file(void **state)
{
        (void)state;
        char path[] = "/tmp/test_ytree.XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        const char *text = "a: 1\nb: [2, 3]\n";
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        Diag *d = diag_new();
        YNode *root = NULL;
        assert_int_equal(ytree_parse_file(path, &root, d), 0);
        assert_int_equal(ynode_get(root, "b")->n, 2);
        ytree_free(root);

        /* Errors name the file given. */
        fd = open(path, O_WRONLY | O_APPEND);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "a: 4\n", 5), 5);
        close(fd);
        assert_int_equal(ytree_parse_file(path, &root, d), -EINVAL);
        char want[300];
        snprintf(want, sizeof(want), "%s:3:1: duplicate key 'a'", path);
        assert_string_equal(diag_get(d, 0), want);

        /* Larger than YTREE_MAX_FILE_BYTES: refused before parsing. */
        assert_int_equal(truncate(path, YTREE_MAX_FILE_BYTES + 1), 0);
        assert_int_equal(ytree_parse_file(path, &root, d), -EFBIG);
        assert_null(root);
        assert_non_null(strstr(diag_get(d, 1), ": larger than 4 MiB"));
        unlink(path);
        assert_int_equal(ytree_parse_file(path, &root, d), -ENOENT);
        assert_non_null(strstr(diag_get(d, 2), ": cannot open: "));
        assert_int_equal(ytree_parse_file("/tmp", &root, d), -EINVAL);
        diag_free(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_tree),    cmocka_unit_test(test_null),
            cmocka_unit_test(test_refused), cmocka_unit_test(test_bounds),
            cmocka_unit_test(test_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
