/* Logging to stderr with syslog priority prefixes ("<3>"), which journald
 * turns into the entry's priority. Modules below daemon.c return errors;
 * the layer that decides logs once. Personal data never goes to a log. */
#pragma once

#include <stdbool.h>
#include <syslog.h>
#include "macro.h"

/* Sets the highest priority that is printed (LOG_DEBUG prints all). */
void log_set_max_level(int level);
int log_get_max_level(void);
/* Parses "error", "warning", "notice", "info", "debug"; -EINVAL otherwise. */
int log_level_from_string(const char *s);

/* Prints "<prio>message\n" to stderr in one write. Returns -abs(err) when err
 * is non-zero, 0 otherwise, so callers can `return log_error_errno(r, ...)`. */
int log_internal(int level, int err, const char *fmt, ...) _printf_(3, 4);

#define log_full_errno(level, err, ...)                                                            \
        ({                                                                                         \
                int _l = (level), _e = (err);                                                      \
                _l <= log_get_max_level() ? log_internal(_l, _e, __VA_ARGS__)                      \
                                          : (_e ? -abs(_e) : 0);                                   \
        })
/* Rate limiting of repeated messages: at most LOG_BURST lines per call
 * site every LOG_INTERVAL_MS; the next line after a quiet window says how
 * many were suppressed. */
#define LOG_BURST 5
#define LOG_INTERVAL_MS 10000
bool log_ratelimit_pass(const void *site, unsigned *suppressed);
#define log_ratelimited(level, ...)                                                                \
        do {                                                                                       \
                static const char _site;                                                           \
                unsigned _supp = 0;                                                                \
                if (log_ratelimit_pass(&_site, &_supp)) {                                          \
                        if (_supp)                                                                 \
                                log_full_errno(level, 0, "(%u similar messages suppressed)",       \
                                               _supp);                                             \
                        log_full_errno(level, 0, __VA_ARGS__);                                     \
                }                                                                                  \
        } while (0)

#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
