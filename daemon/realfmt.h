/* A real's "%.<p>g" text for the common case, without printf: jsonfast's
 * dumps write amounts in yuan, their sums and ratios for every event. */
#pragma once

#include <stddef.h>

/* "%.<p>g" of d (p 1..17) into b (room for 40), exactly as glibc writes
 * it, when glibc writes it in fixed notation and |d| < 2^53; its length,
 * or 0 when it leaves d to printf. */
size_t real_fixed_g(char *b, double d, int p);
