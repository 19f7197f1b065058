/* Private to the metrics module: the registry's state, shared by
 * metrics.c (the registry) and metrics_http.c (its HTTP endpoint). No other
 * file includes this. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include "metrics.h"

typedef struct Family Family;
struct MHD_Daemon;

struct Metrics {
        pthread_mutex_t lock; /* guards everything below but httpd and port */
        Family **families;    /* sorted by name */
        size_t n_families, cap_families;
        Family *dropped; /* hearth_metrics_dropped_series_total */
        bool kafka_ok, redis_ok;

        /* Touched only by the thread that calls serve/stop/free. */
        struct MHD_Daemon *httpd;
        int port;
};
