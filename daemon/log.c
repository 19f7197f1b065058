#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

/* The one piece of process-wide state: the level, set once from the
 * command line or config before anything else runs. */
static int max_level = LOG_INFO;

void log_set_max_level(int level)
{
        max_level = level;
}

int log_get_max_level(void)
{
        return max_level;
}

int log_level_from_string(const char *s)
{
        static const struct {
                const char *name;
                int level;
        } table[] = {
            {"error", LOG_ERR}, {"warning", LOG_WARNING}, {"notice", LOG_NOTICE},
            {"info", LOG_INFO}, {"debug", LOG_DEBUG},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(s, table[i].name))
                        return table[i].level;
        return -EINVAL;
}

int log_internal(int level, int err, const char *fmt, ...)
{
        char buf[2048];
        int n = snprintf(buf, sizeof(buf), "<%d>", level);
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
        va_end(ap);
        size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
        if (len > sizeof(buf) - 2)
                len = sizeof(buf) - 2;
        buf[len++] = '\n';
        /* One write so that lines of concurrent threads never interleave. */
        ssize_t w = write(STDERR_FILENO, buf, len);
        (void)w;
        return err ? -abs(err) : 0;
}
