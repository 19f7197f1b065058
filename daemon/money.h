/* Money is integer fen (1 yuan = 100 fen), never floating point. Input and
 * output JSON carry yuan as JSON numbers with at most 2 decimals. */
#pragma once

#include <jansson.h>
#include <stdint.h>

/* Largest amount accepted, in yuan: 100 billion. Far above any household
 * figure, and small enough that a double still tells 2 decimals from 3. */
#define MONEY_MAX_YUAN 100000000000LL
#define MONEY_MAX_FEN (MONEY_MAX_YUAN * 100)

/* Converts a JSON number of yuan to fen exactly. 0 on success; -EINVAL
 * with a reason in err ("more than 2 decimals", "negative", "not a number",
 * "too large") otherwise. */
int money_from_json(const json_t *v, int64_t *fen, const char **err);
/* A JSON number of yuan for fen: an integer when whole, else a real with
 * 1 or 2 decimals that prints back exactly. New reference. */
json_t *money_to_json(int64_t fen);
/* Formats fen as yuan: "45000", "45000.5", "0.01". Returns snprintf's count. */
int money_format(int64_t fen, char *buf, size_t len);
/* Sums saturate here: 10^5 maximal amounts (10^18 fen), far beyond any household, so
 * every realistic sum stays exact to the fen and none overflows. */
#define MONEY_SUM_CAP (MONEY_MAX_FEN * 100000LL)
/* Adds with saturation at MONEY_SUM_CAP so sums never overflow. */
int64_t money_add(int64_t a, int64_t b);
