/* Reals written as printf writes them, without printf (realfmt.h). */
#include "realfmt.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

/* "%.<p>g" of d into b (room for 40), exactly as glibc writes it, for the
 * numbers it writes in fixed notation (a decimal exponent X, after rounding
 * to p digits, of -4 <= X < p) below 2^53: amounts in yuan, their sums and
 * ratios. d = m / 2^k exactly (m < 2^53, k <= 70), so its p significant
 * digits are floor(m * 10^s / 2^k) with s = p - 1 - X, rounded half to even
 * on the exact remainder (glibc's printf rounds the exact binary value in
 * the default mode); then %g's fixed form without trailing zeros. Its
 * length, or 0 (nothing decided: printf writes it). */
size_t real_fixed_g(char *b, double d, int p)
{
        if (!isfinite(d) || d == 0 || p < 1 || p > 17)
                return 0;
        int ex;
        double fr = frexp(fabs(d), &ex);
        uint64_t m = (uint64_t)ldexp(fr, 53);
        int k = 53 - ex;
        if (k < 0 || k > 70)
                return 0;
        unsigned __int128 lo = 1; /* 10^(p-1) */
        for (int i = 1; i < p; i++)
                lo *= 10;
        unsigned __int128 hi = lo * 10, f = 0;
        int x = (int)floor(log10(fabs(d)));
        bool found = false;
        for (int tries = 0; tries < 3 && !found; tries++) {
                int sc = p - 1 - x;
                if (sc < 0 || sc > 22)
                        return 0;
                unsigned __int128 n = m;
                for (int i = 0; i < sc; i++)
                        n *= 10;
                f = n >> k;
                if (f >= hi) {
                        x++;
                } else if (f < lo) {
                        x--;
                } else {
                        unsigned __int128 rem = n - (f << k);
                        unsigned __int128 half = k ? (unsigned __int128)1 << (k - 1) : 0;
                        if (k && (rem > half || (rem == half && (f & 1))))
                                f++;
                        if (f == hi) {
                                f = lo;
                                x++;
                        }
                        found = true;
                }
        }
        if (!found || x < -4 || x >= p)
                return 0;
        char dig[20];
        for (int i = p - 1; i >= 0; i--, f /= 10)
                dig[i] = (char)('0' + (int)(f % 10));
        int last = p - 1; /* the last digit kept: trailing zeros of the fraction go */
        while (last > x && last > 0 && dig[last] == '0')
                last--;
        size_t n = 0;
        if (d < 0)
                b[n++] = '-';
        if (x >= 0) {
                for (int i = 0; i <= x; i++)
                        b[n++] = dig[i];
                if (last > x) {
                        b[n++] = '.';
                        for (int i = x + 1; i <= last; i++)
                                b[n++] = dig[i];
                }
        } else {
                b[n++] = '0';
                b[n++] = '.';
                for (int i = 0; i < -x - 1; i++)
                        b[n++] = '0';
                for (int i = 0; i <= last; i++)
                        b[n++] = dig[i];
        }
        b[n] = '\0';
        return n;
}
