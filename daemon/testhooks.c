/* The crash tests' hooks (testhooks.h); empty in a release build. */
#include "testhooks.h"

#ifdef HEARTH_TEST_HOOKS
#include <signal.h>
#include <stdlib.h>
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
#else
typedef int testhooks_release_build;
#endif
