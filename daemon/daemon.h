/* hearthd's life: load, connect, loop, drain, tear down. daemon.c owns
 * every handle; nothing below it exits the process. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct {
        const char *config_path;
        char **sets; /* "key=value" overrides, borrowed */
        size_t n_sets;
} DaemonArgs;

/* `hearthd --check`: loads and validates the config, every rule and every
 * schema; prints each problem as file:line:col. Returns 0 when all is well,
 * -EINVAL otherwise. */
int daemon_check(const DaemonArgs *args);

/* Runs until SIGTERM/SIGINT (returns 0 after a clean drain) or a fatal
 * error (returns a negative errno; main exits non-zero so that systemd
 * restarts the service). */
int daemon_run(const DaemonArgs *args);
