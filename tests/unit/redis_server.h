/* A real redis-server for a unit test: started on a unix socket in a
 * temporary folder (nothing saved), stopped and removed at the end. Used as
 * a cmocka group setup and teardown; redis_server_url is its URL. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "redis.h"

static char redis_server_dir[64], redis_server_url[128];
static pid_t redis_server_pid = -1;

static int redis_server_start(void **state)
{
        (void)state;
        char sock[96], log[96];
        snprintf(redis_server_dir, sizeof(redis_server_dir), "/tmp/test_redis.XXXXXX");
        if (!mkdtemp(redis_server_dir))
                return -1;
        snprintf(sock, sizeof(sock), "%s/redis.sock", redis_server_dir);
        snprintf(log, sizeof(log), "%s/redis.log", redis_server_dir);
        snprintf(redis_server_url, sizeof(redis_server_url), "unix://%s", sock);
        redis_server_pid = fork();
        if (redis_server_pid < 0)
                return -1;
        if (redis_server_pid == 0) {
                execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock, "--dir",
                       redis_server_dir, "--save", "", "--appendonly", "no", "--logfile", log,
                       (char *)NULL);
                _exit(127);
        }
        /* Up to 10 s for the socket to answer PING. */
        char err[256];
        Redis *r = redis_new(redis_server_url, NULL, 1000, 5000, err, sizeof(err));
        for (int i = 0; r && i < 200 && redis_connect(r) < 0; i++)
                usleep(50 * 1000);
        bool up = r && redis_connected(r);
        redis_free(r);
        if (!up)
                fprintf(stderr, "# redis-server did not answer on %s\n", sock);
        return up ? 0 : -1;
}

static int redis_server_stop(void **state)
{
        (void)state;
        if (redis_server_pid > 0) {
                kill(redis_server_pid, SIGTERM);
                waitpid(redis_server_pid, NULL, 0);
        }
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", redis_server_dir);
        return system(cmd) == 0 ? 0 : -1;
}
