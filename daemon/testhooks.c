/* The crash tests' hooks (testhooks.h); empty in a release build. */
#include "testhooks.h"

#ifdef HEARTH_TEST_HOOKS
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "macro.h"

void crash_point(const char *name)
{
        const char *want = getenv("HEARTH_CRASH_POINT");
        if (want && streq(want, name)) {
                log_warning("crash point %s reached: SIGKILL (test build)", name);
                raise(SIGKILL);
        }
}

void crash_subject(const char *subject)
{
        const char *poison = getenv("HEARTH_CRASH_SUBJECT");
        if (poison && streq(poison, subject)) {
                log_warning("crash subject %s reached: SIGKILL (test build)", poison);
                raise(SIGKILL);
        }
}
void pause_point(const char *name)
{
        const char *want = getenv("HEARTH_PAUSE_POINT");
        size_t n = strlen(name);
        if (!want || strncmp(want, name, n) != 0 || want[n] != ':')
                return;
        long ms = strtol(want + n + 1, NULL, 10);
        if (ms < 0)
                ms = 0;
        log_warning("pause point %s reached: sleeping %ld ms (test build)", name, ms);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
        }
        log_warning("pause point %s: resumed (test build)", name);
}
#else
typedef int testhooks_release_build;
#endif
