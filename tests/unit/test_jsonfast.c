/* Unit tests of jsonfast.c against jansson itself: every text is parsed by
 * both jsonfast_load() and json_loadb(s, len, 0) (jsonfast_loadf() and
 * json_loadb() with the same flags), which must agree on acceptance and on
 * the value (json_equal), and every value is written by both
 * jsonfast_dump() and json_dumps(JSON_COMPACT), which must give the same
 * bytes. The expected verdicts are also written down, so that a change in
 * either parser fails here. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "jsonfast.h"
#include "macro.h"

/* A text with its length (it may hold NUL bytes), the verdict both parsers
 * must give and, for some accepted texts, the exact compact dump. */
typedef struct {
        const char *text;
        size_t len;
        bool ok;
        const char *dump;
} Case;

#define ACCEPT(s)                                                                                  \
        {                                                                                          \
                s, sizeof(s) - 1, true, NULL                                                       \
        }
#define ACCEPT_AS(s, d)                                                                            \
        {                                                                                          \
                s, sizeof(s) - 1, true, d                                                          \
        }
#define REJECT(s)                                                                                  \
        {                                                                                          \
                s, sizeof(s) - 1, false, NULL                                                      \
        }

/* s[0..len) for a failure message: printable ASCII kept, the rest \xNN,
 * cut to fit. */
static const char *shown(const char *s, size_t len, char *buf, size_t size)
{
        size_t k = 0;
        for (size_t i = 0; i < len && k + 8 < size; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c >= 0x20 && c < 0x7f && c != '\\')
                        buf[k++] = (char)c;
                else
                        k += (size_t)snprintf(buf + k, size - k, "\\x%02x", c);
        }
        if (k + 8 >= size)
                k += (size_t)snprintf(buf + k, size - k, "...");
        buf[k] = '\0';
        return buf;
}

/* jsonfast_dump(v) is json_dumps(v, JSON_COMPACT), byte for byte (both
 * NULL included). The dump, or NULL; free() it. */
static char *dump_same(const json_t *v, const char *what)
{
        char *want = json_dumps(v, JSON_COMPACT);
        char *got = jsonfast_dump(v);
        if (!streq_ptr(want, got))
                fail_msg("%s: jsonfast_dump gives %.200s, json_dumps %.200s", what,
                         got ? got : "NULL", want ? want : "NULL");
        free(got);
        /* And at each precision of reals, as JSON_REAL_PRECISION. */
        for (int prec = 1; prec <= 17; prec++) {
                _cleanup_free_ char *pw = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(prec));
                _cleanup_free_ char *pg = jsonfast_dump_precision(v, prec);
                if (!streq_ptr(pw, pg))
                        fail_msg("%s: at precision %d jsonfast_dump_precision gives %.200s, "
                                 "json_dumps %.200s",
                                 what, prec, pg ? pg : "NULL", pw ? pw : "NULL");
        }
        return want;
}

/* Both parsers on one text with these flags: same verdict as each other
 * and as expected; accepted, the same value and the same dump, and the
 * dump parses back to the same value and dumps to itself; refused, a
 * message, and err may be NULL. */
static void check_textf(const char *s, size_t len, size_t flags, bool ok, const char *dump,
                        const char *what)
{
        char show[200];
        json_error_t ej, ef;
        json_t *j = json_loadb(s, len, flags, &ej);
        memset(&ef, 0, sizeof(ef));
        json_t *f = flags ? jsonfast_loadf(s, len, flags, &ef) : jsonfast_load(s, len, &ef);

        if (!j != !f)
                fail_msg("%s %s: json_loadb %s (%s), jsonfast %s (%s)", what,
                         shown(s, len, show, sizeof(show)), j ? "accepts" : "refuses",
                         j ? "" : ej.text, f ? "accepts" : "refuses", f ? "" : ef.text);
        if (!!j != ok)
                fail_msg("%s %s: both %s, expected %s (jansson: %s)", what,
                         shown(s, len, show, sizeof(show)), j ? "accept" : "refuse",
                         ok ? "acceptance" : "refusal", j ? "-" : ej.text);
        if (!j) {
                if (ef.text[0] == '\0')
                        fail_msg("%s %s: refused without a message", what,
                                 shown(s, len, show, sizeof(show)));
                assert_null(jsonfast_loadf(s, len, flags, NULL));
                return;
        }
        if (!json_equal(j, f))
                fail_msg("%s %s: the values differ", what, shown(s, len, show, sizeof(show)));
        if (!json_is_object(j) && !json_is_array(j)) {
                /* JSON_DECODE_ANY: a scalar, which neither dumper writes. */
                assert_null(dump_same(j, what));
                assert_null(dump_same(f, what));
                json_decref(j);
                json_decref(f);
                return;
        }

        _cleanup_free_ char *dj = dump_same(j, what);
        _cleanup_free_ char *df = dump_same(f, what);
        assert_non_null(dj);
        assert_string_equal(dj, df);
        if (dump && strcmp(dj, dump) != 0)
                fail_msg("%s %s: dumps as %s, expected %s", what, shown(s, len, show, sizeof(show)),
                         dj, dump);

        /* What the dumper wrote reads back as the same value and is a fixed
         * point. */
        json_t *back = jsonfast_load(df, strlen(df), NULL);
        if (!back || !json_equal(back, j))
                fail_msg("%s: its dump %.200s does not read back", what, df);
        _cleanup_free_ char *again = jsonfast_dump(back);
        assert_non_null(again);
        assert_string_equal(again, df);
        json_decref(back);
        json_decref(j);
        json_decref(f);
}

static void check_text(const char *s, size_t len, bool ok, const char *dump, const char *what)
{
        check_textf(s, len, 0, ok, dump, what);
}

static void check_cases(const Case *cases, size_t n, size_t flags, const char *what)
{
        for (size_t i = 0; i < n; i++) {
                char name[64];
                snprintf(name, sizeof(name), "%s case %zu", what, i);
                check_textf(cases[i].text, cases[i].len, flags, cases[i].ok, cases[i].dump, name);
        }
}

/* n levels of the open and close strings around the leaf. */
static char *nested(size_t n, const char *open, const char *leaf, const char *close)
{
        size_t lo = strlen(open), ll = strlen(leaf), lc = strlen(close);
        char *s = malloc(n * (lo + lc) + ll + 1);
        assert_non_null(s);
        char *p = s;
        for (size_t i = 0; i < n; i++, p += lo)
                memcpy(p, open, lo);
        memcpy(p, leaf, ll);
        p += ll;
        for (size_t i = 0; i < n; i++, p += lc)
                memcpy(p, close, lc);
        *p = '\0';
        return s;
}

/* Documents of the kind hearth writes, and the corners of the grammar. */
static const Case documents[] = {
    ACCEPT_AS(
        "{\"household\":\"H1\",\"town\":\"温溪镇\",\"members\":[{\"name\":\"张三\",\"age\":67,"
        "\"disabled\":false,\"note\":null},{\"name\":\"李四\",\"age\":8,\"school\":true}],"
        "\"income\":{\"monthly\":1234.5,\"currency\":\"CNY\"},\"tags\":[],\"extra\":{}}",
        "{\"household\":\"H1\",\"town\":\"温溪镇\",\"members\":[{\"name\":\"张三\",\"age\":67,"
        "\"disabled\":false,\"note\":null},{\"name\":\"李四\",\"age\":8,\"school\":true}],"
        "\"income\":{\"monthly\":1234.5,\"currency\":\"CNY\"},\"tags\":[],\"extra\":{}}"),
    ACCEPT_AS("[[[[]]],{},{\"a\":{\"b\":{\"c\":[1,[2,[3,{\"d\":[]}]]]}}},[{}]]",
              "[[[[]]],{},{\"a\":{\"b\":{\"c\":[1,[2,[3,{\"d\":[]}]]]}}},[{}]]"),
    ACCEPT_AS("{}", "{}"),
    ACCEPT_AS("[]", "[]"),
    ACCEPT_AS(" \t\r\n{ \"a\" :\t[ 1 ,\r\n2 ] , \"b\":{ } } \n\t", "{\"a\":[1,2],\"b\":{}}"),
    ACCEPT_AS("[true,false,null]", "[true,false,null]"),
    /* Escapes: \/ reads as '/' and is written plainly. */
    ACCEPT_AS("[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"]", "[\"\\\" \\\\ / \\b \\f \\n \\r \\t\"]"),
    ACCEPT_AS("{\"k\\\"ey\\n\":1,\"中\":\"文\",\"\":\"\"}",
              "{\"k\\\"ey\\n\":1,\"中\":\"文\",\"\":\"\"}"),
    /* \uXXXX, a surrogate pair, either case of hex digits. */
    ACCEPT_AS("[\"\\u00e9\\u4E2D\\u6587\\uD83D\\uDE00\\ud83c\\udfe0\\u0041\\u007e\"]",
              "[\"é中文\xf0\x9f\x98\x80\xf0\x9f\x8f\xa0"
              "A~\"]"),
    ACCEPT_AS("[\"\\uDBFF\\uDFFF\\uD800\\uDC00\"]", "[\"\xf4\x8f\xbf\xbf\xf0\x90\x80\x80\"]"),
    /* Controls come back as \u00XX in upper case, except the five with
     * short escapes; DEL is not a control to JSON. */
    ACCEPT_AS("[\"\\u0001\\u001f\\u001F\\u000b\\u0008\\u000c\\u000a\\u000d\\u0009\\u007f\"]",
              "[\"\\u0001\\u001F\\u001F\\u000B\\b\\f\\n\\r\\t\x7f\"]"),
    ACCEPT_AS("{\"\\u001b[2J\":\"\\u00ff\"}", "{\"\\u001B[2J\":\"ÿ\"}"),
    /* Raw UTF-8 of every length, at the edges of what is valid. */
    ACCEPT_AS("[\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80"
              "\xf4\x8f\xbf\xbf\"]",
              "[\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80"
              "\xf4\x8f\xbf\xbf\"]"),
    /* Integers at the ends of json_int_t; -0 is the integer 0. */
    ACCEPT_AS("[9223372036854775807,-9223372036854775808,0,-0,1,-1,1234567890123]",
              "[9223372036854775807,-9223372036854775808,0,0,1,-1,1234567890123]"),
    /* Reals as %.17g with ".0" added and the exponent's '+' and leading
     * zeros dropped. 1e-400 underflows to 0, which jansson accepts. */
    ACCEPT_AS("[0.1,1e300,-0.0,1.5e-7,100.0,1E5,2.5e+3,1e-400,-1e-400]",
              "[0.10000000000000001,1.0000000000000001e300,-0.0,1.4999999999999999e-7,100.0,"
              "100000.0,2500.0,0.0,-0.0]"),
    ACCEPT("[5e-324,2.2250738585072014e-308,1.7976931348623157e308,-1.7976931348623157e308,"
           "0.5,3.141592653589793,1e16,1e17,1e21,123456789012345678901234567890.0,1e-5,1e-4]"),
    ACCEPT("{\"a\":0e0,\"b\":0E-0,\"c\":-0.0e+00,\"d\":12.340e1,\"e\":9007199254740993.0}"),
    /* Longer than the parser's small number buffer (64 bytes). */
    ACCEPT("[1.000000000000000000000000000000000000000000000000000000000000000000000000001,"
           "-123456789012345678901234567890123456789012345678901234567890123456789.5e-10]"),
    /* A long string with an escape at its end, one starting with one. */
    ACCEPT("[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa温溪\\n\","
           "\"\\n温溪aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]"),
    /* Duplicate keys: the later value wins, in the earlier key's place. */
    ACCEPT_AS("{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":3,\"b\":2}"),
    ACCEPT_AS("{\"a\":{\"x\":1},\"b\":null,\"a\":[2],\"a\":\"s\"}", "{\"a\":\"s\",\"b\":null}"),
    ACCEPT_AS("[{\"k\":1,\"k\":{\"k\":2,\"k\":3}}]", "[{\"k\":{\"k\":3}}]"),
    ACCEPT_AS("{\"\\u0041\":1,\"A\":2}", "{\"A\":2}"),
};

static void test_documents(void **state)
{
        (void)state;
        check_cases(documents, ELEMENTSOF(documents), 0, "document");
}

/* What jansson refuses, jsonfast refuses too. */
static const Case refused[] = {
    /* Nothing, or not an object or array at the top. */
    REJECT(""),
    REJECT(" \t\r\n "),
    REJECT("1"),
    REJECT("-1.5"),
    REJECT("\"a\""),
    REJECT("true"),
    REJECT("null"),
    REJECT("]"),
    REJECT("\xef\xbb\xbf[]"), /* a byte-order mark */
    /* Something after the value. */
    REJECT("{} x"),
    REJECT("[] []"),
    REJECT("[1]]"),
    REJECT("{}}"),
    REJECT("[1],"),
    REJECT("{\"a\":1}\"b\""),
    /* Commas and colons. */
    REJECT("[1,]"),
    REJECT("{\"a\":1,}"),
    REJECT("[,1]"),
    REJECT("{,}"),
    REJECT("[1,,2]"),
    REJECT("[1 2]"),
    REJECT("{\"a\" 1}"),
    REJECT("{\"a\":1 \"b\":2}"),
    REJECT("{\"a\"::1}"),
    REJECT("{1:2}"),
    REJECT("{a:1}"),
    REJECT("{\"a\"}"),
    REJECT("[\"a\":1]"),
    /* Numbers. */
    REJECT("[01]"),
    REJECT("[-01]"),
    REJECT("[00]"),
    REJECT("[-]"),
    REJECT("[1.]"),
    REJECT("[1.e5]"),
    REJECT("[1e]"),
    REJECT("[1e+]"),
    REJECT("[1E-]"),
    REJECT("[+1]"),
    REJECT("[.5]"),
    REJECT("[-.5]"),
    REJECT("[0x10]"),
    REJECT("[1x]"),
    REJECT("[1.5.2]"),
    REJECT("[Infinity]"),
    REJECT("[-Infinity]"),
    REJECT("[NaN]"),
    REJECT("[- 1]"),
    /* Integers that do not fit json_int_t, reals that overflow. */
    REJECT("[9223372036854775808]"),
    REJECT("[-9223372036854775809]"),
    REJECT("[18446744073709551616]"),
    REJECT("{\"a\":99999999999999999999}"),
    REJECT("[1e400]"),
    REJECT("[-1e400]"),
    REJECT("[1.8e308]"),
    REJECT("[0.1e310]"),
    /* Literals. */
    REJECT("[tru]"),
    REJECT("[truex]"),
    REJECT("[True]"),
    REJECT("[nul]"),
    REJECT("[null1]"),
    REJECT("[fals]"),
    REJECT("[undefined]"),
    /* Escapes. */
    REJECT("[\"\\x41\"]"),
    REJECT("[\"\\a\"]"),
    REJECT("[\"\\'\"]"),
    REJECT("[\"\\U0041\"]"),
    REJECT("[\"\\u12\"]"),
    REJECT("[\"\\u12G4\"]"),
    REJECT("[\"\\u 123\"]"),
    REJECT("[\"\\"),
    REJECT("[\"\\u00"),
    REJECT("[\"\\0\"]"),
    /* \u0000 (as a value and as a key). */
    REJECT("[\"\\u0000\"]"),
    REJECT("[\"a\\u0000b\"]"),
    REJECT("{\"\\u0000\":1}"),
    REJECT("{\"a\\u0000\":1}"),
    /* Lone or misordered surrogates. */
    REJECT("[\"\\uD800\"]"),
    REJECT("[\"\\uDBFF x\"]"),
    REJECT("[\"\\ud800\\n\"]"),
    REJECT("[\"\\uD800\\u0041\"]"),
    REJECT("[\"\\uD800\\uD800\"]"),
    REJECT("[\"\\uD800\\uE000\"]"),
    REJECT("[\"\\uDC00\"]"),
    REJECT("[\"\\uDFFF\"]"),
    REJECT("[\"\\uDC00\\uD800\"]"),
    REJECT("{\"\\uD83D\":1}"),
    REJECT("[\"\\uD83D\\u"),
    /* Invalid UTF-8 in strings: overlong, surrogates, past U+10FFFF,
     * stray continuation bytes, sequences cut short. */
    REJECT("[\"\xc0\x80\"]"),
    REJECT("[\"\xc1\xbf\"]"),
    REJECT("[\"\xe0\x80\x80\"]"),
    REJECT("[\"\xe0\x9f\xbf\"]"),
    REJECT("[\"\xf0\x80\x80\x80\"]"),
    REJECT("[\"\xf0\x8f\xbf\xbf\"]"),
    REJECT("[\"\xed\xa0\x80\"]"),
    REJECT("[\"\xed\xbf\xbf\"]"),
    REJECT("[\"\xf4\x90\x80\x80\"]"),
    REJECT("[\"\xf5\x80\x80\x80\"]"),
    REJECT("[\"\xf8\x88\x80\x80\x80\"]"),
    REJECT("[\"\xff\"]"),
    REJECT("[\"\xfe\"]"),
    REJECT("[\"\x80\"]"),
    REJECT("[\"a\xbf\"]"),
    REJECT("[\"\xc3\"]"),
    REJECT("[\"\xc3"),
    REJECT("[\"\xe4\xb8\"]"),
    REJECT("[\"\xe4\xb8"),
    REJECT("[\"\xf0\x9f\x98\"]"),
    REJECT("[\"\xf0\x9f\x98"),
    REJECT("[\"\xe4\"]\xb8\xad"),
    REJECT("{\"\xc0\x80\":1}"),
    REJECT("[\"\\n\xc0\x80\"]"), /* after an escape */
    /* ... and between tokens. */
    REJECT("[1,\xc3\xa9]"),
    REJECT("[\xc2\xa0]"),
    REJECT("[]\xc3\xa9"),
    /* Raw control characters in strings (and keys). */
    REJECT("[\"a\tb\"]"),
    REJECT("[\"a\nb\"]"),
    REJECT("[\"a\rb\"]"),
    REJECT("[\"\x01\"]"),
    REJECT("[\"\x1f\"]"),
    REJECT("[\"\\n\x1f\"]"),
    REJECT("{\"a\x01\":1}"),
    /* Unterminated. */
    REJECT("[\"abc"),
    REJECT("[\"abc\\\"]"),
    REJECT("[\"abc\\\"]\""),
    REJECT("{\"a\":1"),
    REJECT("{\"a\":"),
    REJECT("{\"a\""),
    REJECT("{\"a"),
    REJECT("{"),
    REJECT("["),
    REJECT("[1,2"),
    REJECT("[1,"),
    REJECT("[[]"),
    REJECT("[{]}"),
    REJECT("[tr"),
    REJECT("[-"),
    REJECT("[1e"),
    /* A NUL byte in the middle (but see test_nul_after_token). */
    REJECT("\0[]"),
    REJECT("[]\0"),
    REJECT("[\0]"),
    REJECT("[1,\0 2]"),
    REJECT("[1\0\0]"),
    REJECT("[tr\0ue]"),
    REJECT("[\"a\0b\"]"),
    REJECT("{\"a\0\":1}"),
    REJECT("{\"a\"\0:1}"),
    REJECT("{\"a\":\0 1}"),
};

static void test_refused(void **state)
{
        (void)state;
        check_cases(refused, ELEMENTSOF(refused), 0, "refused");
}

/* jsonfast_loadf() with the two flags it takes, as json_loadb() with them:
 * JSON_REJECT_DUPLICATES refuses a key twice in one object (the same key
 * however escaped), JSON_DECODE_ANY takes any value at the top. */
static const Case no_duplicates[] = {
    REJECT("{\"a\":1,\"a\":2}"),
    REJECT("{\"a\":1,\"b\":2,\"a\":1}"),
    REJECT("{\"a\":1,\"\\u0061\":2}"),
    REJECT("{\"\":1,\"\":2}"),
    REJECT("{\"温\":1,\"\\u6e29\":2}"),
    REJECT("[{\"x\":{\"a\":1,\"a\":[]}}]"),
    ACCEPT_AS("{\"a\":{\"b\":1},\"c\":{\"b\":2}}", "{\"a\":{\"b\":1},\"c\":{\"b\":2}}"),
    ACCEPT_AS("[{\"a\":1},{\"a\":1}]", "[{\"a\":1},{\"a\":1}]"),
    ACCEPT_AS("{\"a\":1,\"A\":2,\"a \":3}", "{\"a\":1,\"A\":2,\"a \":3}"),
    REJECT("{\"a\":1,}"),
    REJECT("[1,]"),
};

static const Case any_value[] = {
    ACCEPT("1"),
    ACCEPT(" -0.5e3 "),
    ACCEPT("-9223372036854775808"),
    ACCEPT("\"温溪镇\""),
    ACCEPT("\"\\uD83D\\uDE00\\n\""),
    ACCEPT("true"),
    ACCEPT("false"),
    ACCEPT("\tnull\n"),
    ACCEPT_AS("{\"a\":1,\"a\":2}", "{\"a\":2}"),
    ACCEPT_AS("[1]", "[1]"),
    REJECT(""),
    REJECT("  "),
    REJECT("1 2"),
    REJECT("01"),
    REJECT("-"),
    REJECT("1."),
    REJECT("+1"),
    REJECT("9223372036854775808"),
    REJECT("1e400"),
    REJECT("\"a"),
    REJECT("\"\\u0000\""),
    REJECT("\"\\uDC00\""),
    REJECT("\"\xc0\x80\""),
    REJECT("tru"),
    REJECT("nulls"),
    REJECT("1,"),
    REJECT("\"a\":1"),
    REJECT("]"),
};

static void test_flags(void **state)
{
        (void)state;
        check_cases(no_duplicates, ELEMENTSOF(no_duplicates), JSON_REJECT_DUPLICATES,
                    "JSON_REJECT_DUPLICATES");
        check_cases(any_value, ELEMENTSOF(any_value), JSON_DECODE_ANY, "JSON_DECODE_ANY");
        check_cases(no_duplicates + 1, 5, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, "both flags");
        check_cases(any_value, 8, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, "both flags");
        check_cases(documents, ELEMENTSOF(documents) - 4, JSON_REJECT_DUPLICATES, "documents");
        /* Not the top-level scalars (the first seven). */
        check_cases(refused + 7, ELEMENTSOF(refused) - 7, JSON_DECODE_ANY, "refused, any");

        /* The scalar at the top is a level too. */
        _cleanup_free_ char *deep = nested(2047, "[", "1", "]");
        check_textf(deep, strlen(deep), JSON_DECODE_ANY, true, NULL, "2048 levels, any");
        _cleanup_free_ char *deeper = nested(2048, "[", "1", "]");
        check_textf(deeper, strlen(deeper), JSON_DECODE_ANY, false, NULL, "2049 levels, any");

        /* Other flags are refused, with a message, whatever the text. */
        static const size_t others[] = {JSON_DISABLE_EOF_CHECK, JSON_DECODE_INT_AS_REAL,
                                        JSON_ALLOW_NUL, JSON_ALLOW_NUL | JSON_DECODE_ANY};
        for (size_t i = 0; i < ELEMENTSOF(others); i++) {
                json_error_t err;
                assert_null(jsonfast_loadf("[1]", 3, others[i], &err));
                assert_string_equal(err.text, "unsupported flags");
                assert_null(jsonfast_loadf("[1]", 3, others[i], NULL));
        }
}

/* jansson drops one NUL byte right after a number or a literal (its lexer
 * puts the byte after a token back into the stream's buffer, where a NUL
 * reads as "empty"), so it accepts "[1<NUL>]" as [1]. That is jansson's bug, not JSON (the fuzz
 * README lists it as event.c's NUL finding); jsonfast refuses such text,
 * which hearth never writes. Pinned here so that a change on either side
 * shows. */
static void test_nul_after_token(void **state)
{
        (void)state;
        static const struct {
                const char *text;
                size_t len, flags;
        } quirks[] = {
#define QUIRK(s, flags) {s, sizeof(s) - 1, flags}
            QUIRK("[1\0]", 0),
            QUIRK("[-0\0]", 0),
            QUIRK("[true\0]", 0),
            QUIRK("[null\0,false\0]", 0),
            QUIRK("{\"a\":1.5e3\0}", 0),
            QUIRK("{\"a\":1\0,\"b\":2}", JSON_REJECT_DUPLICATES),
            QUIRK("1\0 ", JSON_DECODE_ANY),
            QUIRK("false\0", JSON_DECODE_ANY),
#undef QUIRK
        };
        for (size_t i = 0; i < ELEMENTSOF(quirks); i++) {
                const __typeof__(quirks[0]) *c = &quirks[i];
                json_error_t err;
                json_t *j = json_loadb(c->text, c->len, c->flags, NULL);
                assert_non_null(j);
                assert_null(jsonfast_loadf(c->text, c->len, c->flags, &err));
                assert_true(err.text[0] != '\0');

                /* Without its NUL bytes the text reads as jansson read it. */
                char strict[64];
                size_t n = 0;
                for (size_t k = 0; k < c->len; k++)
                        if (c->text[k] != '\0')
                                strict[n++] = c->text[k];
                json_t *f = jsonfast_loadf(strict, n, c->flags, NULL);
                assert_non_null(f);
                assert_true(json_equal(f, j));
                json_decref(f);
                json_decref(j);
        }
}

/* jansson counts every value against its 2048 levels, a scalar as well as
 * an array or an object: 2048 arrays may be empty, but a number inside
 * them is level 2049. */
static void test_depth(void **state)
{
        (void)state;
        static const struct {
                size_t n;
                const char *open, *leaf, *close;
                bool ok;
        } cases[] = {
            {2048, "[", "", "]", true},
            {2049, "[", "", "]", false},
            {2047, "[", "1", "]", true},
            {2048, "[", "1", "]", false},
            {2047, "[", "\"s\"", "]", true},
            {2048, "[", "\"s\"", "]", false},
            {2048, "[", "null", "]", false},
            {2047, "[", "{}", "]", true},
            {2048, "[", "{}", "]", false},
            {2047, "{\"a\":", "{}", "}", true},
            {2048, "{\"a\":", "{}", "}", false},
            {2047, "{\"a\":", "true", "}", true},
            {2046, "{\"a\":", "{\"b\":1}", "}", true},
            {2047, "{\"a\":", "{\"b\":1}", "}", false},
            {1023, "[{\"k\":", "[]", "}]", true},
            {1023, "[{\"k\":", "[0]", "}]", true},
            {1024, "[{\"k\":", "[]", "}]", false},
            {2047, "[", "[1,[]]", "]", false},
            {2047, "[1,", "[]", "]", true},
            {100000, "[", "", "]", false},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char name[64];
                snprintf(name, sizeof(name), "depth case %zu (%zu levels)", i, cases[i].n);
                _cleanup_free_ char *s =
                    nested(cases[i].n, cases[i].open, cases[i].leaf, cases[i].close);
                check_text(s, strlen(s), cases[i].ok, NULL, name);
        }
}

/* Values made in code, which no text gives: NUL bytes in strings and
 * keys, every control character, text that is not UTF-8, reals and
 * integers at their edges, keys whose order deletion changed, scalars at
 * the top, cycles. */
static void test_dump_values(void **state)
{
        (void)state;
        json_t *a = json_array();
        assert_non_null(a);
        json_array_append_new(a, json_stringn("a\0b", 3));
        char controls[33];
        for (int c = 1; c < 32; c++)
                controls[c - 1] = (char)c;
        controls[31] = 0x7f;
        controls[32] = '\0';
        json_array_append_new(a, json_string(controls));
        json_array_append_new(a, json_integer(INT64_MIN));
        json_array_append_new(a, json_integer(INT64_MAX));
        static const double reals[] = {0.0,
                                       -0.0,
                                       0.1,
                                       1.0 / 3,
                                       2.0 / 3,
                                       1e-7,
                                       1e15,
                                       1e16,
                                       1e17,
                                       1e22,
                                       1e23,
                                       DBL_MIN,
                                       DBL_MAX,
                                       -DBL_MAX,
                                       5e-324,
                                       4.35,
                                       0.3,
                                       9007199254740993.0,
                                       123456789.125,
                                       1e-300,
                                       -1.5e-300,
                                       565000.0,
                                       -3.0,
                                       9007199254740991.0,
                                       9007199254740992.0,
                                       -9007199254740991.0,
                                       1e14,
                                       -1e15};
        for (size_t i = 0; i < ELEMENTSOF(reals); i++)
                json_array_append_new(a, json_real(reals[i]));
        json_t *o = json_object();
        json_object_setn_new(o, "k\0ey", 4, json_true());
        for (int i = 0; i < 100; i++) {
                char k[16];
                snprintf(k, sizeof(k), "key%d", (i * 37) % 100);
                json_object_set_new(o, k, json_integer(i));
        }
        for (int i = 0; i < 100; i += 3) {
                char k[16];
                snprintf(k, sizeof(k), "key%d", i);
                json_object_del(o, k);
        }
        json_object_set_new(o, "key0", json_string("back, last"));
        json_array_append_new(a, o);

        _cleanup_free_ char *d = dump_same(a, "values");
        assert_non_null(d);
        assert_non_null(strstr(d, "[\"a\\u0000b\",\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006"
                                  "\\u0007\\b\\t\\n\\u000B\\f\\r\\u000E"));
        assert_non_null(strstr(d, "\\u001E\\u001F\x7f\",-9223372036854775808,"
                                  "9223372036854775807,0.0,-0.0,0.10000000000000001,"));
        assert_non_null(strstr(d, "{\"k\\u0000ey\":true,"));
        /* Alerts' precision: amounts in yuan read as written. */
        _cleanup_free_ char *d15 = jsonfast_dump_precision(a, 15);
        assert_non_null(d15);
        assert_non_null(strstr(d15, ",0.0,-0.0,0.1,0.333333333333333,"));
        assert_non_null(strstr(d15, ",4.35,0.3,9.00719925474099e15,"));
        assert_null(jsonfast_dump_precision(a, 0));
        assert_null(jsonfast_dump_precision(a, 18));
        json_decref(a);

        /* Text that is not UTF-8 (only _nocheck makes it): no dump, as
         * json_dumps gives none. */
        static const char *const bad[] = {"\xff", "a\xc3", "\xed\xa0\x80", "\xc0\x80", "ok\x80"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                a = json_array();
                json_array_append_new(a, json_string_nocheck(bad[i]));
                assert_null(dump_same(a, "a string that is not UTF-8"));
                json_decref(a);
        }

        /* A key that is not UTF-8: no dump either. (json_dumps ignores the
         * failure of a key and writes {":1}, a text no parser takes.) */
        json_t *k = json_object();
        json_object_set_new_nocheck(k, "a\xff", json_integer(1));
        assert_null(jsonfast_dump(k));
        json_decref(k);

        /* Only objects and arrays, as json_dumps without JSON_ENCODE_ANY. */
        json_t *scalars[] = {json_integer(1), json_real(0.5), json_string("s"), json_true(),
                             json_null()};
        for (size_t i = 0; i < ELEMENTSOF(scalars); i++) {
                assert_null(jsonfast_dump(scalars[i]));
                json_decref(scalars[i]);
        }
        assert_null(jsonfast_dump(NULL));

        /* A cycle: json_dumps sees it, jsonfast stops at its depth bound. */
        json_t *x = json_array(), *y = json_array();
        json_array_append(x, y);
        json_array_append(y, x);
        assert_null(dump_same(x, "a cycle"));
        json_array_clear(y);
        json_decref(y);
        json_decref(x);
}

/* The deepest values a text can give dump as jansson dumps them. Deeper
 * values made in code are refused (jsonfast.h: NULL past 2048 levels),
 * where json_dumps, which has no depth bound, would write them. */
static void test_dump_depth(void **state)
{
        (void)state;
        json_t *v = json_array();
        for (int i = 1; i < 2048; i++) {
                json_t *up = i % 2 ? json_array() : json_object();
                if (json_is_array(up))
                        json_array_append_new(up, v);
                else
                        json_object_set_new(up, "k", v);
                v = up;
        }
        _cleanup_free_ char *d = dump_same(v, "2048 levels");
        assert_non_null(d);
        json_t *deeper = json_array();
        json_array_append_new(deeper, v);
        _cleanup_free_ char *none = jsonfast_dump(deeper);
        assert_null(none);
        _cleanup_free_ char *jansson = json_dumps(deeper, JSON_COMPACT);
        assert_non_null(jansson);
        json_decref(deeper);
}

/* A small deterministic generator (xorshift64*) of values of every kind. */
static uint64_t rnd(uint64_t *s)
{
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        return *s * 2685821657736338717ULL;
}

static json_t *random_value(uint64_t *s, int depth)
{
        static const char *const pieces[] = {"a",
                                             "Z",
                                             " ",
                                             "温",
                                             "溪镇",
                                             "\"",
                                             "\\",
                                             "/",
                                             "\n",
                                             "\t",
                                             "\x01",
                                             "\x1f",
                                             "\x7f",
                                             "é",
                                             "\xf0\x9f\x98\x80",
                                             "\xef\xbf\xbf",
                                             "key",
                                             "\xc2\x80",
                                             "\\u0041",
                                             "0"};
        unsigned kind = (unsigned)(rnd(s) % (depth < 6 ? 9 : 7));
        switch (kind) {
        case 0:
                return json_null();
        case 1:
                return json_boolean(rnd(s) & 1);
        case 2:
                return json_integer((json_int_t)rnd(s) >> (rnd(s) % 64));
        case 3: {
                double d;
                do {
                        uint64_t bits = rnd(s);
                        memcpy(&d, &bits, sizeof(d));
                } while (!isfinite(d));
                return json_real(rnd(s) & 1 ? d : (double)(int64_t)(rnd(s) % 2000000) / 100);
        }
        case 4:
        case 5:
        case 6: {
                char buf[256] = "";
                size_t n = rnd(s) % 12, len = 0;
                for (size_t i = 0; i < n; i++) {
                        const char *p = pieces[rnd(s) % ELEMENTSOF(pieces)];
                        size_t pl = strlen(p);
                        memcpy(buf + len, p, pl);
                        len += pl;
                }
                return json_stringn(buf, len);
        }
        case 7: {
                json_t *a = json_array();
                size_t n = rnd(s) % 6;
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(a, random_value(s, depth + 1));
                return a;
        }
        default: {
                json_t *o = json_object();
                size_t n = rnd(s) % 6;
                for (size_t i = 0; i < n; i++) {
                        /* Few distinct keys, so that some are set twice. */
                        char key[64];
                        snprintf(key, sizeof(key), "%s%u", pieces[rnd(s) % ELEMENTSOF(pieces)],
                                 (unsigned)(rnd(s) % 4));
                        json_object_set_new(o, key, random_value(s, depth + 1));
                }
                return o;
        }
        }
}

/* Strings are scanned eight ASCII bytes at a time and three-byte UTF-8
 * sequences without a full decode: each piece below, valid or not, at
 * every offset against those eight-byte windows and with text after it,
 * is read as json_loadb reads it (check_text) and, held by a string
 * created unchecked, dumped as json_dumps dumps it (or refused alike). */
static void test_string_windows(void **state)
{
        (void)state;
        static const struct {
                const char *s;
                bool ok; /* in a JSON string, as raw bytes */
        } pieces[] = {
            {"\"", false},
            {"\\", false},
            {"\x01", false},
            {"\x1f", false},
            {"\x7f", true},
            {" ", true},
            {"~", true},
            {"\x80", false},
            {"\xc3\xa9", true},
            {"\xc3", false},
            {"\xe4\xb8\xad", true},
            {"\xe4\xb8", false},
            {"\xe4\x41\x41", false},
            {"\xe1\x80\x80", true},
            {"\xec\xbf\xbf", true},
            {"\xe0\xa0\x80", true},
            {"\xe0\x9f\xbf", false},
            {"\xed\x9f\xbf", true},
            {"\xed\xa0\x80", false},
            {"\xee\x80\x80", true},
            {"\xef\xbf\xbf", true},
            {"\xef\xbf\x3f", false},
            {"\xf0\x9f\x98\x80", true},
            {"\xf4\x90\x80\x80", false},
            {"\xf5\x80\x80\x80", false},
            {"\xff", false},
            {"\xc2\x80", true},
        };
        static const size_t after[] = {0, 1, 2, 7, 8, 9, 16};
        assert_null(jsonfast_string(NULL));
        for (size_t i = 0; i < ELEMENTSOF(pieces); i++)
                for (size_t before = 0; before <= 17; before++)
                        for (size_t a = 0; a < ELEMENTSOF(after); a++) {
                                char body[65], text[80], name[96];
                                size_t pl = strlen(pieces[i].s), n = 0;
                                memset(body, 'a', before);
                                n = before;
                                memcpy(body + n, pieces[i].s, pl);
                                n += pl;
                                memset(body + n, 'z', after[a]);
                                n += after[a];
                                int tl = snprintf(text, sizeof(text), "[\"%.*s\"]", (int)n, body);
                                snprintf(name, sizeof(name), "piece %zu at %zu, %zu after", i,
                                         before, after[a]);
                                check_text(text, (size_t)tl, pieces[i].ok, NULL, name);
                                /* ASCII pieces (", \\, controls) are
                                 * dumped escaped: both dumpers take them. */
                                json_t *v = json_pack("[o]", json_stringn_nocheck(body, n));
                                assert_non_null(v);
                                char *d = dump_same(v, name);
                                bool dumped = pieces[i].ok || (unsigned char)pieces[i].s[0] < 0x80;
                                if (!d != !dumped)
                                        fail_msg("%s: %s", name, d ? "dumped" : "not dumped");
                                free(d);
                                json_decref(v);
                                /* jsonfast_string() checks as json_string(). */
                                body[n] = '\0';
                                json_t *js = json_string(body), *fs = jsonfast_string(body);
                                if (!js != !fs || (js && !json_equal(js, fs)))
                                        fail_msg("%s: json_string %s, jsonfast_string %s", name,
                                                 js ? "takes it" : "refuses",
                                                 fs ? "takes it" : "refuses");
                                json_decref(js);
                                json_decref(fs);
                        }
}

/* jsonfast_object() builds what json_pack builds from the same members,
 * member order included (the dumps compare), and fails where it fails: a
 * NULL string, a string that is not UTF-8. */
static void test_object(void **state)
{
        (void)state;
        static const char *const texts[] = {"2026-03-01", "",         "温溪镇",  "a\"b\\c\n",
                                            NULL,         "\xe4\xb8", "\xc0\x80"};
        for (size_t i = 0; i < ELEMENTSOF(texts); i++)
                for (int b = 0; b < 2; b++) {
                        json_int_t n = b ? -((json_int_t)1 << 53) : 12345;
                        json_t *want = json_pack("{s:s, s:I, s:b, s:s}", "kind", "claim", "total",
                                                 n, "major", b, "date", texts[i]);
                        json_t *got =
                            JSONFAST_OBJECT(JF_STR("kind", "claim"), JF_INT("total", n),
                                            JF_BOOL("major", b), JF_STR("date", texts[i]));
                        if (!want != !got)
                                fail_msg("text %zu: json_pack %s, jsonfast_object %s", i,
                                         want ? "builds it" : "fails", got ? "builds it" : "fails");
                        if (want) {
                                _cleanup_free_ char *dw = json_dumps(want, JSON_COMPACT);
                                _cleanup_free_ char *dg = json_dumps(got, JSON_COMPACT);
                                assert_string_equal(dw, dg);
                        }
                        json_decref(want);
                        json_decref(got);
                }
}

/* Reals in printf's fixed notation are written without printf (exact
 * digits from the binary value, ties to even): amounts in fen and yuan,
 * values spread over twenty orders of magnitude, random bit patterns,
 * powers of ten and their neighbours, exact ties at every precision; each
 * as json_dumps writes it at every precision (dump_same). */
static void test_reals_fixed(void **state)
{
        (void)state;
        uint64_t seed = 0x2545f4914f6cdd1dULL;
        for (int i = 0; i < 6000; i++) {
                double d;
                switch (i % 6) {
                case 0:
                        d = (double)(int64_t)(rnd(&seed) % 100000000000ULL) / 100;
                        break;
                case 1:
                        d = exp((double)(rnd(&seed) % 100000) / 100000.0 * 50 - 12);
                        break;
                case 2: {
                        uint64_t b = rnd(&seed);
                        memcpy(&d, &b, sizeof(d));
                        if (!isfinite(d))
                                d = 1.5;
                        break;
                }
                case 3:
                        d = pow(10, (int)(rnd(&seed) % 30) - 8) *
                            (1 + (double)((int)(rnd(&seed) % 3) - 1) * 1e-16);
                        break;
                case 4:
                        d = ((double)(rnd(&seed) % 2000) + 0.5) / pow(10, (int)(rnd(&seed) % 8));
                        break;
                default:
                        d = ldexp((double)(rnd(&seed) % 1000), -(int)(rnd(&seed) % 30));
                        break;
                }
                if (rnd(&seed) & 1)
                        d = -d;
                json_t *a = json_pack("[f]", d);
                char name[64];
                snprintf(name, sizeof(name), "the real %.17g", d);
                free(dump_same(a, name));
                json_decref(a);
        }
}

/* Random documents: json_dumps writes one, both parsers read it (and the
 * pretty-printed form) alike, and both dumpers write it alike. */
static void test_random_roundtrip(void **state)
{
        (void)state;
        uint64_t seed = 0x9e3779b97f4a7c15ULL;
        for (int i = 0; i < 2000; i++) {
                json_t *v = i % 2 ? json_array() : json_object();
                size_t n = 1 + rnd(&seed) % 8;
                for (size_t k = 0; k < n; k++) {
                        char key[16];
                        snprintf(key, sizeof(key), "f%zu", k);
                        if (json_is_array(v))
                                json_array_append_new(v, random_value(&seed, 1));
                        else
                                json_object_set_new(v, key, random_value(&seed, 1));
                }
                char name[64];
                snprintf(name, sizeof(name), "random document %d", i);
                _cleanup_free_ char *text = dump_same(v, name);
                assert_non_null(text);
                check_text(text, strlen(text), true, text, name);
                _cleanup_free_ char *pretty = json_dumps(v, JSON_INDENT(2) | JSON_ENSURE_ASCII);
                check_text(pretty, strlen(pretty), true, text, name);
                json_decref(v);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_documents),      cmocka_unit_test(test_refused),
            cmocka_unit_test(test_flags),          cmocka_unit_test(test_nul_after_token),
            cmocka_unit_test(test_depth),          cmocka_unit_test(test_dump_values),
            cmocka_unit_test(test_dump_depth),     cmocka_unit_test(test_random_roundtrip),
            cmocka_unit_test(test_string_windows), cmocka_unit_test(test_object),
            cmocka_unit_test(test_reals_fixed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
