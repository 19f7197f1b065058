/* One Redis connection: URL parsing, connect with timeouts, keepalive, AUTH,
 * SELECT, reconnect. hiredis 0.14 drops the command timeout and keepalive on
 * redisReconnect, so every (re)connect goes through redis_connect() which sets
 * them again. Higher layers (store.c) build their commands on top. */
#pragma once

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(redisReply *, freeReplyObject);

typedef struct {
        char *host; /* NULL for a unix socket */
        int port;
        char *path; /* unix socket */
        char *user;
        char *password;
        bool bare; /* userinfo without ':' ("pw@"): read as the password */
        int db;
} RedisUrl;

/* Parses redis://[[user]:password@]host[:port][/db] and
 * unix://[[user]:password@]/path/to/sock[?db=N]. A userinfo without ':' is
 * the password, as redis-cli reads it. -EINVAL on a bad URL. The caller
 * frees with redis_url_done(). */
int redis_url_parse(const char *url, RedisUrl *ret);
void redis_url_done(RedisUrl *u);

typedef struct Redis Redis;

/* Borrows nothing. password (NULL: none) is the content of
 * redis.password_file: AUTH sends it instead of a password in the URL,
 * and a bare userinfo (redis://hearth@host) then names the ACL user; a URL
 * that holds a password as well is refused. NULL on memory failure or a
 * bad URL, with a reason in err that never quotes a password. */
Redis *redis_new(const char *url, const char *password, int64_t connect_timeout_ms,
                 int64_t command_timeout_ms, char *err, size_t errlen);
Redis *redis_free(Redis *r);

/* (Re)connects: TCP/unix connect, timeouts, keepalive, AUTH, SELECT, PING.
 * 0 on success; negative errno with a message in redis_errstr(). */
int redis_connect(Redis *r);
bool redis_connected(const Redis *r);
/* Marks the connection broken (after an I/O error or timeout); the next
 * redis_connect() starts afresh. */
void redis_disconnect(Redis *r);
/* The live context, or NULL when disconnected. Borrowed. */
redisContext *redis_ctx(Redis *r);
const char *redis_errstr(const Redis *r);
/* A printable target ("127.0.0.1:6379/0"), without credentials. */
const char *redis_target(const Redis *r);

/* Runs one command; on an I/O error disconnects and returns NULL. A reply
 * of type REDIS_REPLY_ERROR is returned as is. Caller frees the reply. */
redisReply *redis_command(Redis *r, const char *fmt, ...);
redisReply *redis_command_argv(Redis *r, int argc, const char **argv, const size_t *lens);
/* PING: 0, or -EIO (an I/O error also disconnects). */
int redis_ping(Redis *r);

/* Pipelining: redis_append() queues a command (sent with the next write or
 * read; lens NULL: each argument's strlen; a command it cannot queue drops
 * the link, so the next read fails at once), redis_get_reply() reads the
 * next reply (on an I/O error it disconnects and returns -EIO). While
 * replies are unread, redis_command() refuses with NULL and a message,
 * without disconnecting: its reply would be another command's. */
void redis_append(Redis *r, int argc, const char **argv, const size_t *lens);
int redis_get_reply(Redis *r, redisReply **rep);

/* Cluster mode (redis.cluster): seeds is "host:port[,host:port...]", the
 * nodes first asked for the slot map (redis_new()'s URL is one more, and
 * gives the credentials; its db must be 0). Every command then goes to the
 * master owning its key's slot (the first key; a hash tag decides), pipelined
 * per master, following MOVED and ASK and retrying TRYAGAIN; CLUSTERDOWN or
 * a lost master reads as an I/O error, and the next redis_connect() asks for
 * the map again. SCRIPT LOAD goes to every master (and to any joining one).
 * 0, or -EINVAL with a reason in err. */
int redis_set_cluster(Redis *r, const char *seeds, char *err, size_t errlen);
bool redis_is_cluster(const Redis *r);
/* Writes what is queued for any connection past min_bytes (a long pipeline
 * goes out while it is built). */
void redis_flush(Redis *r, size_t min_bytes);
/* Nodes for commands that no key routes (SCAN): 1 for one Redis, the
 * masters of a cluster. redis_command_node() runs one on node i. */
size_t redis_node_count(const Redis *r);
redisReply *redis_command_node(Redis *r, size_t node, int argc, const char **argv,
                               const size_t *lens);
/* Cluster mode: WAIT until replicas replicas hold every write each master
 * has taken so far (asynchronous replication: a failover may lose writes
 * not yet replicated). A probe key "<prefix>:wait:{wN}" is written on each
 * master first, so writes of connections dropped since are covered too. 0;
 * -EAGAIN when some master had fewer within timeout_ms (which, in
 * redis_errstr()); -EIO. One Redis, or replicas <= 0: 0 at once. */
int redis_wait_replicas(Redis *r, const char *prefix, int replicas, int64_t timeout_ms);
