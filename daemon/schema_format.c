/* The JSON Schema "format" assertions: RFC 3339 date and date-time. */
#include <stdbool.h>
#include <stddef.h>

#include "schema_impl.h"

/* ---- formats ---------------------------------------------------------- */

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

/* "YYYY-MM-DD" (RFC 3339 full-date) at s, with a real calendar day. */
static bool is_full_date(const char *s)
{
        unsigned y, m, d;

        if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' ||
            !digits(s + 8, 2, &d))
                return false;
        return m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

bool schema_is_date(const char *s, size_t len)
{
        return len == 10 && is_full_date(s);
}

/* RFC 3339 date-time: full-date "T" HH:MM:SS[.frac] then "Z" or +HH:MM /
 * -HH:MM (the offset is mandatory). A leap second (:60) is accepted only at
 * 23:59 UTC. */
bool schema_is_date_time(const char *s, size_t len)
{
        unsigned hh, mm, ss, oh = 0, om = 0;
        size_t p = 19;
        int sign = 0;

        if (len < 20 || !is_full_date(s) || (s[10] != 'T' && s[10] != 't'))
                return false;
        if (!digits(s + 11, 2, &hh) || s[13] != ':' || !digits(s + 14, 2, &mm) || s[16] != ':' ||
            !digits(s + 17, 2, &ss))
                return false;
        if (hh > 23 || mm > 59 || ss > 60)
                return false;
        if (s[p] == '.') {
                size_t start = ++p;

                while (p < len && s[p] >= '0' && s[p] <= '9')
                        p++;
                if (p == start)
                        return false;
        }
        if (p < len && (s[p] == 'Z' || s[p] == 'z'))
                p++;
        else if (p < len && (s[p] == '+' || s[p] == '-')) {
                sign = s[p] == '+' ? 1 : -1;
                if (len - p < 6 || !digits(s + p + 1, 2, &oh) || s[p + 3] != ':' ||
                    !digits(s + p + 4, 2, &om) || oh > 23 || om > 59)
                        return false;
                p += 6;
        } else
                return false;
        if (p != len)
                return false;
        if (ss == 60) {
                int utc = ((int)(hh * 60 + mm) - sign * (int)(oh * 60 + om) + 2 * 1440) % 1440;

                return utc == 23 * 60 + 59;
        }
        return true;
}
