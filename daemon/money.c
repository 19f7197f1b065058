#include "money.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

int money_from_json(const json_t *v, int64_t *fen, const char **err)
{
        if (json_is_integer(v)) {
                json_int_t y = json_integer_value(v);
                if (y < 0) {
                        *err = "negative amount";
                        return -EINVAL;
                }
                if (y > MONEY_MAX_YUAN) {
                        *err = "amount too large";
                        return -EINVAL;
                }
                *fen = (int64_t)y * 100;
                return 0;
        }
        if (!json_is_real(v)) {
                *err = "amount is not a number";
                return -EINVAL;
        }
        double d = json_real_value(v);
        if (!isfinite(d)) {
                *err = "amount is not finite";
                return -EINVAL;
        }
        if (d < 0) {
                *err = "negative amount";
                return -EINVAL;
        }
        if (d > (double)MONEY_MAX_YUAN) {
                *err = "amount too large";
                return -EINVAL;
        }
        /* Why this is exact: n < 2^53, so (double)n is exact and n / 100.0
         * is the correctly rounded double of the decimal n/100, which is what
         * the JSON parser produced for a 2-decimal literal. A literal with
         * more decimals parses to another double at these magnitudes. */
        long long n = llround(d * 100.0);
        if ((double)n / 100.0 != d) {
                *err = "amount has more than 2 decimals";
                return -EINVAL;
        }
        *fen = n;
        return 0;
}

json_t *money_to_json(int64_t fen)
{
        if (fen % 100 == 0)
                return json_integer(fen / 100);
        return json_real((double)fen / 100.0);
}

int money_format(int64_t fen, char *buf, size_t len)
{
        const char *sign = fen < 0 ? "-" : "";
        uint64_t a = fen < 0 ? (uint64_t)(-(fen + 1)) + 1 : (uint64_t)fen;
        uint64_t whole = a / 100, frac = a % 100;
        if (frac == 0)
                return snprintf(buf, len, "%s%llu", sign, (unsigned long long)whole);
        if (frac % 10 == 0)
                return snprintf(buf, len, "%s%llu.%llu", sign, (unsigned long long)whole,
                                (unsigned long long)(frac / 10));
        return snprintf(buf, len, "%s%llu.%02llu", sign, (unsigned long long)whole,
                        (unsigned long long)frac);
}

int64_t money_add(int64_t a, int64_t b)
{
        const int64_t cap = MONEY_SUM_CAP;
        int64_t s;
        /* Overflow only happens with both operands of one sign: saturate to
         * that side (two large negatives used to give +cap). */
        if (__builtin_add_overflow(a, b, &s))
                return a < 0 ? -cap : cap;
        if (s > cap)
                return cap;
        if (s < -cap)
                return -cap;
        return s;
}
