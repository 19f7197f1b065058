/* Calendar dates and RFC 3339 times: parsing, formatting, day arithmetic. */
#include "calendar.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * algorithm: exact for every year, no tables). */
int64_t calendar_days_from_civil(int64_t y, unsigned m, unsigned d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned)(y - era * 400);
        unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

void calendar_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned)(z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        *d = doy - (153 * mp + 2) / 5 + 1;
        *m = mp < 10 ? mp + 3 : mp - 9;
        *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Reads n decimal digits at s into *ret. */
static bool digits(const char *s, size_t n, unsigned *ret)
{
        unsigned v = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        *ret = v;
        return true;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
        static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

        return m == 2 && leap ? 29 : days[m - 1];
}

/* "YYYY-MM-DD" at s[0..10) (the caller checked there are 10 bytes), with a
 * real calendar day. */
static int full_date(const char *s, int32_t *days)
{
        unsigned y, m, d;

        if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' ||
            !digits(s + 8, 2, &d))
                return -EINVAL;
        if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
                return -EINVAL;
        *days = (int32_t)calendar_days_from_civil(y, m, d);
        return 0;
}

int calendar_date_parse(const char *s, size_t n, int32_t *days)
{
        if (n != 10)
                return -EINVAL;
        return full_date(s, days);
}

/* The offset at s[p..n): 'Z', 'z' or +HH:MM / -HH:MM. Sets *off_min (east
 * of UTC) and *p past it. */
static int offset_parse(const char *s, size_t n, size_t *p, int *off_min)
{
        unsigned oh, om;

        if (*p < n && (s[*p] == 'Z' || s[*p] == 'z')) {
                *off_min = 0;
                *p += 1;
                return 0;
        }
        if (*p >= n || (s[*p] != '+' && s[*p] != '-'))
                return -EINVAL;
        if (n - *p < 6 || !digits(s + *p + 1, 2, &oh) || s[*p + 3] != ':' ||
            !digits(s + *p + 4, 2, &om) || oh > 23 || om > 59)
                return -EINVAL;
        *off_min = (s[*p] == '+' ? 1 : -1) * (int)(oh * 60 + om);
        *p += 6;
        return 0;
}

int calendar_time_parse(const char *s, size_t n, int32_t *date, int64_t *ms)
{
        unsigned hh, mm, ss;
        size_t p = 19;
        int32_t days;
        int off;

        if (n < 20 || full_date(s, &days) < 0 || (s[10] != 'T' && s[10] != 't'))
                return -EINVAL;
        if (!digits(s + 11, 2, &hh) || s[13] != ':' || !digits(s + 14, 2, &mm) || s[16] != ':' ||
            !digits(s + 17, 2, &ss))
                return -EINVAL;
        if (hh > 23 || mm > 59 || ss > 60)
                return -EINVAL;
        if (s[p] == '.') {
                size_t start = ++p;

                while (p < n && s[p] >= '0' && s[p] <= '9')
                        p++;
                if (p == start)
                        return -EINVAL;
        }
        if (offset_parse(s, n, &p, &off) < 0 || p != n)
                return -EINVAL;
        /* A leap second exists only at the end of a UTC day. */
        if (ss == 60 && ((int)(hh * 60 + mm) - off + 2 * 1440) % 1440 != 23 * 60 + 59)
                return -EINVAL;
        if (date)
                *date = days;
        if (ms)
                *ms = ((int64_t)days * 86400 + hh * 3600 + mm * 60 + ss - (int64_t)off * 60) * 1000;
        return 0;
}

void calendar_date_format(int32_t days, char *buf, size_t len)
{
        int64_t y;
        unsigned m, d;

        calendar_civil_from_days(days, &y, &m, &d);
        if (y >= 0 && y <= 9999 && len >= 11) {
                /* Every date of the feeds: digits by hand (dates are written
                 * for every event, timeline entry and alert time). */
                unsigned yy = (unsigned)y;
                char t[11] = {(char)('0' + yy / 1000),
                              (char)('0' + yy / 100 % 10),
                              (char)('0' + yy / 10 % 10),
                              (char)('0' + yy % 10),
                              '-',
                              (char)('0' + m / 10),
                              (char)('0' + m % 10),
                              '-',
                              (char)('0' + d / 10),
                              (char)('0' + d % 10),
                              '\0'};
                memcpy(buf, t, sizeof(t));
                return;
        }
        snprintf(buf, len, "%04" PRId64 "-%02u-%02u", y, m, d);
}

int calendar_year(int32_t days)
{
        int64_t y;
        unsigned m, d;

        calendar_civil_from_days(days, &y, &m, &d);
        return (int)y;
}

int calendar_month(int32_t days)
{
        int64_t y;
        unsigned m, d;

        calendar_civil_from_days(days, &y, &m, &d);
        return (int)m;
}
