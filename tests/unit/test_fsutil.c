/* Unit tests of fsutil.c: whole-file reads within a size limit (content,
 * limits, what is not a regular file, the messages) and sorted folder
 * listings (order, suffix, hidden files, the count limit). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "diag.h"
#include "fsutil.h"

typedef struct {
        char dir[64];
} Tmp;

static int setup(void **state)
{
        Tmp *t = calloc(1, sizeof(Tmp));
        if (!t)
                return -1;
        snprintf(t->dir, sizeof(t->dir), "/tmp/test_fsutil.XXXXXX");
        if (!mkdtemp(t->dir))
                return -1;
        *state = t;
        return 0;
}

static int teardown(void **state)
{
        Tmp *t = *state;
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
        int r = system(cmd);
        free(t);
        return r == 0 ? 0 : -1;
}

/* Writes len bytes of text to dir/name; returns the path (static). */
static const char *put(const Tmp *t, const char *name, const char *text, size_t len)
{
        static char path[256];
        snprintf(path, sizeof(path), "%s/%s", t->dir, name);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fwrite(text, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
        return path;
}

static void test_read_content(void **state)
{
        const Tmp *t = *state;
        char *buf = NULL;
        size_t len = 99;

        /* Every byte, a NUL inside included, and a NUL after the end. */
        const char *p = put(t, "a.txt", "one\0two\n", 8);
        assert_int_equal(fsutil_read_file(p, 100, &buf, &len, NULL), 0);
        assert_int_equal(len, 8);
        assert_memory_equal(buf, "one\0two\n", 9);
        free(buf);

        p = put(t, "empty", "", 0);
        assert_int_equal(fsutil_read_file(p, 100, &buf, &len, NULL), 0);
        assert_int_equal(len, 0);
        assert_string_equal(buf, "");
        free(buf);

        /* Exactly max bytes is allowed; len may be NULL. */
        p = put(t, "max", "12345", 5);
        assert_int_equal(fsutil_read_file(p, 5, &buf, NULL, NULL), 0);
        assert_string_equal(buf, "12345");
        free(buf);
}

static void test_read_refused(void **state)
{
        const Tmp *t = *state;
        char *buf = (char *)"untouched", path[256];
        size_t len = 99;
        Diag *d = diag_new();
        assert_non_null(d);

        /* One byte over the limit. */
        const char *p = put(t, "big", "123456", 6);
        assert_int_equal(fsutil_read_file(p, 5, &buf, &len, d), -EFBIG);
        assert_null(buf);
        assert_int_equal(len, 0);
        assert_int_equal(diag_count(d), 1);
        char want[300];
        snprintf(want, sizeof(want), "%s: larger than 5 bytes", p);
        assert_string_equal(diag_get(d, 0), want);

        /* Limits in KiB and MiB are said so. */
        char *kib = malloc(2 * 1024 * 1024 + 1);
        assert_non_null(kib);
        memset(kib, 'x', 2 * 1024 * 1024 + 1);
        p = put(t, "big2", kib, 2 * 1024 * 1024 + 1);
        free(kib);
        assert_int_equal(fsutil_read_file(p, 2 * 1024 * 1024, &buf, NULL, d), -EFBIG);
        assert_int_equal(fsutil_read_file(p, 4096, &buf, NULL, d), -EFBIG);
        assert_non_null(strstr(diag_get(d, 1), ": larger than 2 MiB"));
        assert_non_null(strstr(diag_get(d, 2), ": larger than 4 KiB"));
        /* Without a Diag: the same answer, no message. */
        assert_int_equal(fsutil_read_file(p, 4096, &buf, NULL, NULL), -EFBIG);
        assert_int_equal(diag_count(d), 3);

        /* A missing file. */
        snprintf(path, sizeof(path), "%s/missing", t->dir);
        assert_int_equal(fsutil_read_file(path, 100, &buf, NULL, d), -ENOENT);
        snprintf(want, sizeof(want), "%s: cannot open: %s", path, strerror(ENOENT));
        assert_string_equal(diag_get(d, 3), want);

        /* A folder and a FIFO (which must not block) are not regular files. */
        assert_int_equal(fsutil_read_file(t->dir, 100, &buf, NULL, d), -EINVAL);
        snprintf(want, sizeof(want), "%s: not a regular file", t->dir);
        assert_string_equal(diag_get(d, 4), want);
        snprintf(path, sizeof(path), "%s/fifo", t->dir);
        assert_int_equal(mkfifo(path, 0600), 0);
        assert_int_equal(fsutil_read_file(path, 100, &buf, NULL, d), -EINVAL);
        assert_null(buf);
        assert_int_equal(diag_count(d), 6);
        diag_free(d);
}

static void test_list(void **state)
{
        const Tmp *t = *state;
        char **names = NULL, sub[256];
        size_t n = 99;

        /* An empty folder: no names, not an error. */
        snprintf(sub, sizeof(sub), "%s/rules", t->dir);
        assert_int_equal(mkdir(sub, 0700), 0);
        assert_int_equal(fsutil_list(sub, ".yaml", 10, &names, &n), 0);
        assert_int_equal(n, 0);
        fsutil_names_free(names, n);

        static const char *files[] = {"b.yaml", "a.yaml",  "B.yaml", ".hidden.yaml", ".yaml",
                                      "c.yml",  "a.yaml~", "yaml",   "z-1.yaml",     "z.yaml"};
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                char name[300];
                snprintf(name, sizeof(name), "rules/%s", files[i]);
                put(t, name, "x", 1);
        }
        assert_int_equal(fsutil_list(sub, ".yaml", 10, &names, &n), 0);
        /* strcmp order: upper case first, '-' before '.'. */
        static const char *want[] = {"B.yaml", "a.yaml", "b.yaml", "z-1.yaml", "z.yaml"};
        assert_int_equal(n, sizeof(want) / sizeof(want[0]));
        for (size_t i = 0; i < n; i++)
                assert_string_equal(names[i], want[i]);
        assert_null(fsutil_names_free(names, n));

        /* Five match: a limit of five is enough, four is not. */
        assert_int_equal(fsutil_list(sub, ".yaml", 5, &names, &n), 0);
        fsutil_names_free(names, n);
        names = (char **)sub;
        assert_int_equal(fsutil_list(sub, ".yaml", 4, &names, &n), -E2BIG);
        assert_null(names);
        assert_int_equal(n, 0);

        /* Another suffix; a missing folder; a file instead of a folder. */
        assert_int_equal(fsutil_list(sub, ".yml", 10, &names, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(names[0], "c.yml");
        fsutil_names_free(names, n);
        snprintf(sub, sizeof(sub), "%s/none", t->dir);
        assert_int_equal(fsutil_list(sub, ".yaml", 10, &names, &n), -ENOENT);
        snprintf(sub, sizeof(sub), "%s/rules/a.yaml", t->dir);
        assert_int_equal(fsutil_list(sub, ".yaml", 10, &names, &n), -ENOTDIR);
        assert_null(fsutil_names_free(NULL, 0));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_read_content, setup, teardown),
            cmocka_unit_test_setup_teardown(test_read_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
