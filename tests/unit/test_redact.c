/* Unit tests of redact.c: URL passwords, secret key names, command-line
 * arguments scrubbed in place. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "redact.h"

static void test_urls(void **state)
{
        (void)state;
        static const struct {
                const char *in, *out;
        } cases[] = {
            {"redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"},
            {"redis://:S3cretPW@host:6379/0", "redis://:***@host:6379/0"},
            {"rediss://:S3cretPW@host", "rediss://:***@host"},
            {"redis://hearth:S3cretPW@h/1", "redis://hearth:***@h/1"},
            {"redis://S3cretPW@h",
             "redis://***@h"},                      /* redis-cli: a bare userinfo is the password */
            {"redis://user:@h", "redis://user:@h"}, /* an empty password: nothing to hide */
            {"unix://:S3cretPW@/run/redis.sock?db=2", "unix://:***@/run/redis.sock?db=2"},
            /* The URL is the whole text: any character may be in the password. */
            {"redis://:p@ss w/rd:x@host:1/0", "redis://:***@host:1/0"},
            /* Inside free text a URL ends at a quote or white space. */
            {"redis.url: cannot use 'rediss://:S3cretPW@host:6380/0' (TLS)",
             "redis.url: cannot use 'rediss://:***@host:6380/0' (TLS)"},
            {"a redis://:x@h and b http://u:y@k/z", "a redis://:***@h and b http://u:***@k/z"},
            {"no url here: mail@example.org", "no url here: mail@example.org"},
            {"://:x@h", "://:x@h"},
            {"", ""},
        };
        char buf[256];
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                redact_url(cases[i].in, buf, sizeof(buf));
                if (strcmp(buf, cases[i].out) != 0)
                        fail_msg("redact_url(\"%s\") = \"%s\", expected \"%s\"", cases[i].in, buf,
                                 cases[i].out);
        }
        assert_string_equal(redact_url(NULL, buf, sizeof(buf)), "(null)");
        /* A small buffer cuts, never overflows, and never shows the password. */
        char small[12];
        redact_url("redis://:S3cretPW@host", small, sizeof(small));
        assert_string_equal(small, "redis://:**");
        size_t off = 0;
        assert_int_equal(redact_url_password("x redis://u:pw@h", &off), 2);
        assert_int_equal(off, 12);
}

static void test_secret_keys(void **state)
{
        (void)state;
        assert_true(redact_key_is_secret("sasl.password"));
        assert_true(redact_key_is_secret("ssl.key.password"));
        assert_true(redact_key_is_secret("sasl.oauthbearer.client.secret"));
        assert_true(redact_key_is_secret("kafka.properties.SASL.PASSWORD"));
        assert_true(redact_key_is_secret("redis.password"));
        assert_false(redact_key_is_secret("redis.password_file"));
        assert_false(redact_key_is_secret("kafka.sasl_password_file"));
        assert_false(redact_key_is_secret("sasl.username"));
        assert_false(redact_key_is_secret("redis.url"));
        assert_false(redact_key_is_secret(NULL));
        char buf[128];
        assert_string_equal(redact_secret("Invalid value \"hunter2\" for sasl.password", "hunter2",
                                          buf, sizeof(buf)),
                            "Invalid value \"***\" for sasl.password");
        assert_string_equal(redact_secret("a x b x", "x", buf, sizeof(buf)), "a *** b ***");
        assert_string_equal(redact_secret("nothing", "", buf, sizeof(buf)), "nothing");
        assert_string_equal(redact_secret("nothing", NULL, buf, sizeof(buf)), "nothing");
}

static void test_arguments(void **state)
{
        (void)state;
        static const struct {
                const char *in, *out;
                bool hid;
        } cases[] = {
            {"redis.url=redis://:S3cret@h:1/0", "redis.url=redis://:******@h:1/0", true},
            {"redis.url=redis://u:S3cret@h", "redis.url=redis://u:******@h", true},
            {"kafka.properties.sasl.password=S3cret", "kafka.properties.sasl.password=******",
             true},
            {"redis.password_file=/etc/hearth/redis.password",
             "redis.password_file=/etc/hearth/redis.password", false},
            {"redis://:S3cret@h", "redis://:******@h", true},
            /* A URL at the start runs to the end: more is hidden, never less. */
            {"redis://:a@h redis://:b@k", "redis://:**************@k", true},
            {"x=a redis://:a@h b redis://:b@k", "x=a redis://:*@h b redis://:*@k", true},
            {"kafka.brokers=k1:9092", "kafka.brokers=k1:9092", false},
            {"pipeline.batch_max=5", "pipeline.batch_max=5", false},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char arg[128];
                snprintf(arg, sizeof(arg), "%s", cases[i].in);
                bool hid = redact_argument(arg);
                if (strcmp(arg, cases[i].out) != 0 || hid != cases[i].hid)
                        fail_msg("redact_argument(\"%s\") = \"%s\" (%d)", cases[i].in, arg, hid);
        }
        assert_false(redact_argument(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_urls),
            cmocka_unit_test(test_secret_keys),
            cmocka_unit_test(test_arguments),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
