#include "notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include "macro.h"

struct Notify {
        uint64_t watchdog_usec;
        int64_t last_ping_ms;
};

Notify *notify_new(void)
{
        Notify *n = calloc(1, sizeof(Notify));
        if (!n)
                return NULL;
        uint64_t usec = 0;
        /* unset_environment=0: the test harness and children may read it too. */
        if (sd_watchdog_enabled(0, &usec) > 0)
                n->watchdog_usec = usec;
        n->last_ping_ms = -1;
        return n;
}

Notify *notify_free(Notify *n)
{
        free(n);
        return NULL;
}

void notify_ready(Notify *n)
{
        (void)n;
        sd_notify(0, "READY=1\nSTATUS=processing events");
}

void notify_reloading(Notify *n)
{
        (void)n;
        /* MONOTONIC_USEC lets newer systemd versions (Type=notify-reload) see
         * when the reload began; older ones ignore it. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
                   (unsigned long long)ts.tv_sec * 1000000ULL +
                       (unsigned long long)ts.tv_nsec / 1000);
}

void notify_stopping(Notify *n)
{
        (void)n;
        sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

void notify_status(Notify *n, const char *status)
{
        (void)n;
        sd_notifyf(0, "STATUS=%s", status);
}

void notify_watchdog(Notify *n, int64_t now_ms)
{
        if (!n || !n->watchdog_usec)
                return;
        int64_t half = (int64_t)(n->watchdog_usec / 2000);
        if (n->last_ping_ms >= 0 && now_ms - n->last_ping_ms < half)
                return;
        sd_notify(0, "WATCHDOG=1");
        n->last_ping_ms = now_ms;
}
