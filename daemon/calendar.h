/* Calendar dates and RFC 3339 times: the one parser and formatter behind the
 * event decoder, the rule expressions and the schema formats. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12,
 * d 1..31; a day past the month's end counts on into the next month). */
int64_t calendar_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The proleptic Gregorian date of day z (days since 1970-01-01). */
void calendar_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* Parses s[0..n) as exactly "YYYY-MM-DD" (RFC 3339 full-date: years
 * 0000..9999, a real calendar day). Returns 0 and the day number in *days,
 * or -EINVAL (trailing text too), leaving *days alone. */
int calendar_date_parse(const char *s, size_t n, int32_t *days);

/* Parses s[0..n) as exactly an RFC 3339 date-time: a full-date, 'T' (or 't'),
 * HH:MM:SS, an optional fraction, then 'Z' (or 'z') or an offset +HH:MM /
 * -HH:MM; a leap second (:60) only at 23:59 UTC. Returns 0 with the date as
 * written (the local date) in *date and the instant in *ms (whole seconds
 * since 1970-01-01 UTC, in ms: the fraction is dropped), either of which may
 * be NULL; or -EINVAL (trailing text too), leaving both alone. */
int calendar_time_parse(const char *s, size_t n, int32_t *date, int64_t *ms);

/* Writes the date of days as "YYYY-MM-DD" to buf[0..len) (11 bytes hold it). */
void calendar_date_format(int32_t days, char *buf, size_t len);

/* The year and the month (1..12) of days. */
int calendar_year(int32_t days);
int calendar_month(int32_t days);
