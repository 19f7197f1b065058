#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include "escape.h"

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
        char msg[2048], buf[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        int n = snprintf(buf, sizeof(buf), "<%d>", level);
        /* One message, one line: a newline or ESC from input (a field name
         * in a dead-letter reason, a broker's error text) is shown
         * escaped, so it can neither forge a journal entry at another
         * priority nor drive the terminal of whoever reads the log. */
        escape_str(msg, buf + n, sizeof(buf) - (size_t)n - 1);
        size_t len = strlen(buf);
        buf[len++] = '\n';
        /* One write so that lines of concurrent threads never interleave. */
        ssize_t w = write(STDERR_FILENO, buf, len);
        (void)w;
        return err ? -abs(err) : 0;
}

/* Call sites seen, with their window: a small fixed table, enough for the
 * handful of places that can repeat (broker and Redis errors). */
static struct {
        const void *site;
        int64_t window_start;
        unsigned count, suppressed;
} limits[32];
/* librdkafka logs from its own threads. */
static pthread_mutex_t limits_lock = PTHREAD_MUTEX_INITIALIZER;

static bool ratelimit_locked(const void *site, unsigned *suppressed);

bool log_ratelimit_pass(const void *site, unsigned *suppressed)
{
        pthread_mutex_lock(&limits_lock);
        bool pass = ratelimit_locked(site, suppressed);
        pthread_mutex_unlock(&limits_lock);
        return pass;
}

static bool ratelimit_locked(const void *site, unsigned *suppressed)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        size_t i, free_slot = ELEMENTSOF(limits);
        for (i = 0; i < ELEMENTSOF(limits); i++) {
                if (limits[i].site == site)
                        break;
                if (!limits[i].site && free_slot == ELEMENTSOF(limits))
                        free_slot = i;
        }
        if (i == ELEMENTSOF(limits)) {
                if (free_slot == ELEMENTSOF(limits))
                        return true; /* table full: never lose a message */
                i = free_slot;
                limits[i].site = site;
                limits[i].window_start = now;
        }
        if (now - limits[i].window_start >= LOG_INTERVAL_MS) {
                *suppressed = limits[i].suppressed;
                limits[i].window_start = now;
                limits[i].count = 0;
                limits[i].suppressed = 0;
        }
        if (limits[i].count >= LOG_BURST) {
                limits[i].suppressed++;
                return false;
        }
        limits[i].count++;
        return true;
}
