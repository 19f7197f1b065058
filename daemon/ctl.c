/* hearthctl's connection to Redis, shared by its commands. */
#include "ctl.h"

#include <stdio.h>

#define CTL_COMMAND_TIMEOUT_MIN_MS 10000

/* Connects to the config's (or --redis) Redis; NULL after printing why. */
Store *ctl_store(const CtlArgs *a, const Config *cfg, Redis **redis)
{
        const char *url = a->redis_url ? a->redis_url : cfg->redis_url;
        char err[512];
        /* redis.password_file applies to --redis too: no password needs to
         * be on hearthctl's command line. */
        /* An offline tool that scans every household may wait longer on
         * one command than the daemon's loop (redis.command_timeout). */
        int64_t timeout_ms = cfg->redis_command_timeout_ms;
        if (timeout_ms < CTL_COMMAND_TIMEOUT_MIN_MS)
                timeout_ms = CTL_COMMAND_TIMEOUT_MIN_MS;
        *redis = redis_new(url, cfg->redis_password.value, cfg->redis_connect_timeout_ms,
                           timeout_ms, err, sizeof(err));
        if (!*redis) {
                fprintf(stderr, "hearthctl: %s: %s\n", a->redis_url ? "--redis" : "redis.url", err);
                return NULL;
        }
        if (cfg->redis_cluster[0] &&
            redis_set_cluster(*redis, cfg->redis_cluster, err, sizeof(err)) < 0) {
                fprintf(stderr, "hearthctl: %s\n", err);
                *redis = redis_free(*redis);
                return NULL;
        }
        if (redis_connect(*redis) < 0) {
                fprintf(stderr, "hearthctl: redis %s: %s\n", redis_target(*redis),
                        redis_errstr(*redis));
                *redis = redis_free(*redis);
                return NULL;
        }
        return store_new(*redis, cfg->redis_prefix, cfg->kafka_group, cfg->dedup_window_ms);
}
