/* Unit tests of calendar.c: exact dates and RFC 3339 times (no trailing
 * text), the instant of a time, formatting, and day arithmetic over every
 * day of years 0000..9999. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "macro.h"

#define DAY_MS (86400LL * 1000)

static void test_date_parse(void **state)
{
        (void)state;
        static const struct {
                const char *s;
                int32_t days;
                bool ok;
        } cases[] = {
            {"1970-01-01", 0, true},
            {"1969-12-31", -1, true},
            {"2000-02-29", 11016, true},
            {"2024-02-29", 19782, true},
            {"2026-03-02", 20514, true},
            {"9999-12-31", 2932896, true},
            {"0000-02-29", -719469, true}, /* year 0 is a leap year */
            {"0000-01-01", -719528, true},
            /* trailing text, even a time or a space */
            {"2026-03-02T08:00:00+08:00", 0, false},
            {"2026-03-02 ", 0, false},
            {"2026-03-020", 0, false},
            {"2026-03-02Z", 0, false},
            /* too short, wrong separators, not digits */
            {"2026-03-2", 0, false},
            {"26-03-02", 0, false},
            {"2026/03/02", 0, false},
            {"2026-03- 2", 0, false},
            {"+026-03-02", 0, false},
            {"", 0, false},
            /* not a calendar day */
            {"2023-02-29", 0, false},
            {"1900-02-29", 0, false},
            {"2024-04-31", 0, false},
            {"2024-13-01", 0, false},
            {"2024-00-10", 0, false},
            {"2024-01-00", 0, false},
            {"2024-01-32", 0, false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int32_t d = 12345;
                int r = calendar_date_parse(cases[i].s, strlen(cases[i].s), &d);
                if (cases[i].ok && (r != 0 || d != cases[i].days))
                        fail_msg("%s: r=%d days=%d, want %d", cases[i].s, r, d, cases[i].days);
                if (!cases[i].ok && (r != -EINVAL || d != 12345))
                        fail_msg("%s: r=%d days=%d, want -EINVAL", cases[i].s, r, d);
        }
        /* The length counts, not a NUL: a date followed by a NUL and more. */
        int32_t d = 7;
        assert_int_equal(calendar_date_parse("2026-03-02\0x", 12, &d), -EINVAL);
        assert_int_equal(d, 7);
        assert_int_equal(calendar_date_parse("2026-03-02xyz", 10, &d), 0);
        assert_int_equal(d, 20514);
}

static void test_time_parse(void **state)
{
        (void)state;
        static const struct {
                const char *s;
                bool ok;
                int32_t date; /* the date as written */
                int64_t ms;   /* the instant */
        } cases[] = {
            {"2026-03-02T08:00:00+08:00", true, 20514, 20514 * DAY_MS},
            {"2026-03-02T08:00:00Z", true, 20514, 20514 * DAY_MS + 8 * 3600000},
            {"2026-03-02t08:00:00z", true, 20514, 20514 * DAY_MS + 8 * 3600000},
            /* local date and UTC day differ */
            {"2026-03-02T00:30:00+08:00", true, 20514, 20514 * DAY_MS - 7 * 3600000 - 1800000},
            {"2026-03-02T23:00:00-05:30", true, 20514, 20515 * DAY_MS + 4 * 3600000 + 1800000},
            /* the fraction is dropped */
            {"2026-03-02T08:00:01.999+08:00", true, 20514, 20514 * DAY_MS + 1000},
            {"2026-03-02T08:00:01.5Z", true, 20514, 20514 * DAY_MS + 8 * 3600000 + 1000},
            /* a leap second only at 23:59 UTC; it counts as the next second */
            {"2016-12-31T23:59:60Z", true, 17166, 17167 * DAY_MS},
            {"2017-01-01T07:59:60+08:00", true, 17167, 17167 * DAY_MS},
            {"2016-12-31T23:58:60Z", false, 0, 0},
            {"2016-12-31T23:59:60+08:00", false, 0, 0},
            /* trailing text */
            {"2026-03-02T08:00:00+08:00 ", false, 0, 0},
            {"2026-03-02T08:00:00+08:00x", false, 0, 0},
            {"2026-03-02T08:00:00Zz", false, 0, 0},
            {"2026-03-02T08:00:00+08:000", false, 0, 0},
            /* no offset, or a bad one */
            {"2026-03-02T08:00:00", false, 0, 0},
            {"2026-03-02T08:00:00+0800", false, 0, 0},
            {"2026-03-02T08:00:00+24:00", false, 0, 0},
            {"2026-03-02T08:00:00+08:60", false, 0, 0},
            {"2026-03-02T08:00:00+8:00", false, 0, 0},
            /* bad date or clock */
            {"2026-02-30T08:00:00+08:00", false, 0, 0},
            {"2026-03-02 08:00:00+08:00", false, 0, 0},
            {"2026-03-02T24:00:00+08:00", false, 0, 0},
            {"2026-03-02T08:60:00+08:00", false, 0, 0},
            {"2026-03-02T08:00:61+08:00", false, 0, 0},
            {"2026-03-02T8:00:00+08:00", false, 0, 0},
            {"2026-03-02T08:00:00.+08:00", false, 0, 0},
            {"2026-03-02", false, 0, 0},
            {"", false, 0, 0},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int32_t date = 12345;
                int64_t ms = 6789;
                int r = calendar_time_parse(cases[i].s, strlen(cases[i].s), &date, &ms);
                if (cases[i].ok && (r != 0 || date != cases[i].date || ms != cases[i].ms))
                        fail_msg("%s: r=%d date=%d ms=%lld, want %d %lld", cases[i].s, r, date,
                                 (long long)ms, cases[i].date, (long long)cases[i].ms);
                if (!cases[i].ok && (r != -EINVAL || date != 12345 || ms != 6789))
                        fail_msg("%s: r=%d date=%d ms=%lld, want -EINVAL", cases[i].s, r, date,
                                 (long long)ms);
                /* Either output may be left out. */
                assert_int_equal(calendar_time_parse(cases[i].s, strlen(cases[i].s), NULL, NULL),
                                 cases[i].ok ? 0 : -EINVAL);
        }
}

/* Every day of years 0000..9999: format and parse round trip, year and
 * month agree with the text, days follow each other, and the civil
 * conversions are inverse. */
static void test_every_day(void **state)
{
        (void)state;
        char prev[16] = "", buf[16];
        int32_t first = 0, last = 0;

        assert_int_equal(calendar_date_parse("0000-01-01", 10, &first), 0);
        assert_int_equal(calendar_date_parse("9999-12-31", 10, &last), 0);
        for (int32_t d = first; d <= last; d++) {
                int32_t back = -1;
                int64_t y;
                unsigned m, dd;

                calendar_date_format(d, buf, sizeof(buf));
                if (strlen(buf) != 10 || calendar_date_parse(buf, 10, &back) != 0 || back != d)
                        fail_msg("%d -> %s -> %d", d, buf, back);
                int ty = (buf[0] - '0') * 1000 + (buf[1] - '0') * 100 + (buf[2] - '0') * 10 +
                         (buf[3] - '0');
                int tm = (buf[5] - '0') * 10 + (buf[6] - '0');
                if (calendar_year(d) != ty || calendar_month(d) != tm)
                        fail_msg("%s: year %d month %d", buf, calendar_year(d), calendar_month(d));
                calendar_civil_from_days(d, &y, &m, &dd);
                if (calendar_days_from_civil(y, m, dd) != d)
                        fail_msg("%s: civil conversions disagree", buf);
                if (strcmp(prev, buf) >= 0)
                        fail_msg("%s does not follow %s", buf, prev);
                memcpy(prev, buf, sizeof(prev));
        }
        assert_string_equal(buf, "9999-12-31");
        calendar_date_format(0, buf, sizeof(buf));
        assert_string_equal(buf, "1970-01-01");
        calendar_date_format(-1, buf, sizeof(buf));
        assert_string_equal(buf, "1969-12-31");
        /* Beyond four-digit years, and into a short buffer, as snprintf. */
        calendar_date_format(last + 1, buf, sizeof(buf));
        assert_string_equal(buf, "10000-01-01");
        calendar_date_format(first - 1, buf, sizeof(buf));
        assert_string_equal(buf, "-001-12-31");
        calendar_date_format(0, buf, 5);
        assert_string_equal(buf, "1970");
        /* A day past the month's end counts on into the next month. */
        assert_int_equal(calendar_days_from_civil(2023, 2, 29),
                         calendar_days_from_civil(2023, 3, 1));
}

/* The date of a time is the date of its first ten characters (years
 * 0000..9999). */
static void test_time_date_agrees(void **state)
{
        (void)state;
        char t[40];

        for (int32_t d = -719528; d <= 2932896; d += 997) {
                int32_t a = 0, b = 1;

                calendar_date_format(d, t, sizeof(t));
                memcpy(t + 10, "T12:34:56+08:00", 16);
                assert_int_equal(calendar_time_parse(t, strlen(t), &a, NULL), 0);
                assert_int_equal(calendar_date_parse(t, 10, &b), 0);
                assert_int_equal(a, b);
                assert_int_equal(a, d);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_date_parse),
            cmocka_unit_test(test_time_parse),
            cmocka_unit_test(test_every_day),
            cmocka_unit_test(test_time_date_agrees),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
