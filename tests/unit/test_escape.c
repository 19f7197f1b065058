/* Unit tests of escape.c: controls, DEL, C1 and bytes that are not UTF-8
 * are shown escaped; Chinese and plain text are kept. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "escape.h"

static const struct {
        const char *in, *out;
} cases[] = {
    {"温溪镇", "温溪镇"},
    {"plain text, 100% ok", "plain text, 100% ok"},
    {"\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"},
    {"line\nforged line", "line\\x0aforged line"},
    {"tab\there\r", "tab\\x09here\\x0d"},
    {"del\x7f", "del\\x7f"},
    {"bell\a", "bell\\x07"},
    {"c1 \xc2\x9b"
     "31m",
     "c1 \\u009b31m"},                            /* U+009B, CSI on some terminals */
    {"nbsp\xc2\xa0ok", "nbsp\xc2\xa0ok"},         /* U+00A0 is printable */
    {"bad \xff\xfe", "bad \\xff\\xfe"},           /* not UTF-8 */
    {"cut \xe6\xb8", "cut \\xe6\\xb8"},           /* a sequence cut short */
    {"overlong \xc0\xaf", "overlong \\xc0\\xaf"}, /* overlong '/' */
    {"surrogate \xed\xa0\x80", "surrogate \\xed\\xa0\\x80"},
    {"emoji \xf0\x9f\x98\x80", "emoji \xf0\x9f\x98\x80"},
    {"", ""},
};

static void test_escape_str(void **state)
{
        (void)state;
        char buf[128];
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                escape_str(cases[i].in, buf, sizeof(buf));
                if (strcmp(buf, cases[i].out) != 0)
                        fail_msg("case %zu: got \"%s\", expected \"%s\"", i, buf, cases[i].out);
        }
        assert_string_equal(escape_str(NULL, buf, sizeof(buf)), "");
}

static void test_escape_fputs(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *text = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&text, &len);
                assert_non_null(f);
                escape_fputs(cases[i].in, f);
                escape_fputs(NULL, f);
                fclose(f);
                if (strcmp(text, cases[i].out) != 0)
                        fail_msg("case %zu: got \"%s\", expected \"%s\"", i, text, cases[i].out);
                free(text);
        }
}

/* Text that does not fit is cut at a character boundary, ends in "...",
 * and never holds half an escape's control byte or half a character. */
static void test_cut(void **state)
{
        (void)state;
        char buf[10];
        assert_string_equal(escape_str("abcdefghijkl", buf, sizeof(buf)), "abcdef...");
        assert_string_equal(escape_str("abcdefghi", buf, sizeof(buf)), "abcdefghi");
        assert_string_equal(escape_str("温溪镇温溪镇", buf, sizeof(buf)), "温溪...");
        assert_string_equal(escape_str("\x1b\x1b\x1b", buf, sizeof(buf)), "\\x1b\\x...");
        char tiny[3];
        assert_string_equal(escape_str("abc", tiny, sizeof(tiny)), "..");
        char one[1];
        assert_string_equal(escape_str("abc", one, sizeof(one)), "");
        for (size_t len = 1; len < 40; len++) {
                char *b = malloc(len);
                assert_non_null(b);
                escape_str("温\x1b溪\n镇 \xff and more text", b, len);
                assert_true(strlen(b) < len);
                for (const char *p = b; *p; p++)
                        assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
                free(b);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_escape_str),
            cmocka_unit_test(test_escape_fputs),
            cmocka_unit_test(test_cut),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
