/* Hooks for the crash tests, compiled only into the test build (make test
 * builds with -DHEARTH_TEST_HOOKS); in a release build they are nothing. */
#pragma once

#ifdef HEARTH_TEST_HOOKS
/* HEARTH_CRASH_POINT=name: SIGKILL when the daemon reaches that point. */
void crash_point(const char *name);
/* HEARTH_CRASH_SUBJECT=id: SIGKILL on an event of that household (a
 * poison message). */
void crash_subject(const char *subject);
/* HEARTH_PAUSE_POINT=name:ms: sleep that long each time the daemon reaches
 * that point, with a log line before and after (a race test writes to
 * Redis meanwhile, as another instance would). */
void pause_point(const char *name);
#else
#define crash_point(name) ((void)(name))
#define crash_subject(subject) ((void)(subject))
#define pause_point(name) ((void)(name))
#endif
