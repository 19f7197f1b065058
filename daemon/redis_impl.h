/* What redis.c and redis_cluster.c share: the connection object, and the
 * cluster mode's entry points redis.c dispatches to when redis.cluster is
 * set. A cluster keeps one Redis object (a plain connection) per master. */
#pragma once

#include "redis.h"

typedef struct RedisCluster RedisCluster;

struct Redis {
        RedisUrl url;
        int64_t connect_timeout_ms, command_timeout_ms;
        redisContext *ctx;
        size_t unread; /* replies of appended commands not read yet */
        char err[256];
        char target[300];
        RedisCluster *cl; /* cluster mode; NULL for one Redis */
        char *resp;       /* redis_append()'s formatting, kept between calls */
        size_t resp_cap;
};

/* A plain connection to host:port with tmpl's credentials and timeouts,
 * db 0. NULL on memory failure. */
Redis *redis_new_like(const Redis *tmpl, const char *host, int port);

/* Cluster mode (redis_cluster.c): the same contracts as the functions of
 * redis.h they stand for; errors go to r->err. */
int rcluster_new(Redis *r, const char *seeds, char *err, size_t errlen);
void rcluster_free(Redis *r);
int rcluster_connect(Redis *r);
void rcluster_disconnect(Redis *r);
bool rcluster_connected(const Redis *r);
void rcluster_append(Redis *r, int argc, const char **argv, const size_t *lens);
int rcluster_get_reply(Redis *r, redisReply **rep);
redisReply *rcluster_command_argv(Redis *r, int argc, const char **argv, const size_t *lens);
void rcluster_flush(Redis *r, size_t min_bytes);
size_t rcluster_node_count(const Redis *r);
redisReply *rcluster_command_node(Redis *r, size_t node, int argc, const char **argv,
                                  const size_t *lens);
int rcluster_wait(Redis *r, const char *prefix, int replicas, int64_t timeout_ms);
