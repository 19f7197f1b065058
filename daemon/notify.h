/* The service manager protocol (sd_notify): READY=1, STATUS=, WATCHDOG=1,
 * RELOADING=1, STOPPING=1. Without $NOTIFY_SOCKET every call does nothing. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct Notify Notify;

/* Reads $NOTIFY_SOCKET and $WATCHDOG_USEC. NULL only on memory failure. */
Notify *notify_new(void);
Notify *notify_free(Notify *n);

void notify_ready(Notify *n);
void notify_reloading(Notify *n);
void notify_stopping(Notify *n);
void notify_status(Notify *n, const char *status);
/* Sends WATCHDOG=1 if a watchdog is configured and half its interval has
 * passed since the last ping; now_ms is a monotonic clock. */
void notify_watchdog(Notify *n, int64_t now_ms);
