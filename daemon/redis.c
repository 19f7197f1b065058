#include "redis.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include "redact.h"
#include "redis_impl.h"

void redis_url_done(RedisUrl *u)
{
        free(u->host);
        free(u->path);
        free(u->user);
        if (u->password)
                explicit_bzero(u->password, strlen(u->password));
        free(u->password);
        *u = (RedisUrl){0};
}

static int parse_int(const char *s, size_t len, int min, int max, int *ret)
{
        char buf[16];
        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = 0;
        char *end;
        errno = 0;
        long v = strtol(buf, &end, 10);
        if (errno || *end || v < min || v > max)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

int redis_url_parse(const char *url, RedisUrl *ret)
{
        RedisUrl u = {.port = 6379};
        const char *p;
        bool unix_sock;
        if (strncmp(url, "redis://", 8) == 0) {
                p = url + 8;
                unix_sock = false;
        } else if (strncmp(url, "unix://", 7) == 0) {
                p = url + 7;
                unix_sock = true;
        } else
                return -EINVAL;

        /* credentials */
        const char *at = strrchr(p, '@');
        if (at) {
                const char *colon = memchr(p, ':', (size_t)(at - p));
                if (colon) {
                        if (colon > p)
                                u.user = strndup(p, (size_t)(colon - p));
                        u.password = strndup(colon + 1, (size_t)(at - colon - 1));
                } else {
                        u.password = strndup(p, (size_t)(at - p));
                        u.bare = true;
                }
                p = at + 1;
        }
        if (unix_sock) {
                const char *q = strchr(p, '?');
                size_t plen = q ? (size_t)(q - p) : strlen(p);
                if (plen == 0 || p[0] != '/')
                        goto fail;
                u.path = strndup(p, plen);
                if (q) {
                        if (strncmp(q, "?db=", 4) != 0 ||
                            parse_int(q + 4, strlen(q + 4), 0, 1000, &u.db) < 0)
                                goto fail;
                }
        } else {
                const char *slash = strchr(p, '/');
                size_t hlen = slash ? (size_t)(slash - p) : strlen(p);
                const char *colon = memchr(p, ':', hlen);
                size_t namelen = colon ? (size_t)(colon - p) : hlen;
                if (namelen == 0)
                        goto fail;
                u.host = strndup(p, namelen);
                if (colon && parse_int(colon + 1, hlen - namelen - 1, 1, 65535, &u.port) < 0)
                        goto fail;
                if (slash && slash[1] &&
                    parse_int(slash + 1, strlen(slash + 1), 0, 1000, &u.db) < 0)
                        goto fail;
        }
        if ((!u.host && !u.path))
                goto fail;
        *ret = u;
        return 0;
fail:
        redis_url_done(&u);
        return -EINVAL;
}

Redis *redis_new(const char *url, const char *password, int64_t connect_timeout_ms,
                 int64_t command_timeout_ms, char *err, size_t errlen)
{
        char shown[512];
        Redis *r = calloc(1, sizeof(Redis));
        if (!r) {
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        if (redis_url_parse(url, &r->url) < 0) {
                redact_url(url, shown, sizeof(shown));
                if (strncmp(url, "rediss://", 9) == 0)
                        snprintf(err, errlen,
                                 "cannot use '%s': hiredis 0.14 has no TLS; use redis:// through "
                                 "a TLS tunnel (stunnel, spiped) or a unix socket",
                                 shown);
                else
                        snprintf(err, errlen,
                                 "cannot use '%s': expected "
                                 "redis://[[user]:password@]host[:port][/db] or "
                                 "unix://[[user]:password@]/path[?db=N]",
                                 shown);
                free(r);
                return NULL;
        }
        if (password) {
                if (r->url.password && *r->url.password && !r->url.bare) {
                        snprintf(err, errlen,
                                 "the URL holds a password and redis.password_file is set: "
                                 "keep one");
                        return redis_free(r);
                }
                /* With the password from a file, "name@" is the ACL user. */
                if (r->url.bare) {
                        free(r->url.user);
                        r->url.user = TAKE_PTR(r->url.password);
                        r->url.bare = false;
                }
                free(r->url.password);
                r->url.password = strdup(password);
                if (!r->url.password) {
                        snprintf(err, errlen, "out of memory");
                        return redis_free(r);
                }
        }
        r->connect_timeout_ms = connect_timeout_ms;
        r->command_timeout_ms = command_timeout_ms;
        if (r->url.path)
                snprintf(r->target, sizeof(r->target), "unix:%s/%d", r->url.path, r->url.db);
        else
                snprintf(r->target, sizeof(r->target), "%s:%d/%d", r->url.host, r->url.port,
                         r->url.db);
        return r;
}

Redis *redis_new_like(const Redis *tmpl, const char *host, int port)
{
        Redis *r = calloc(1, sizeof(Redis));
        if (!r)
                return NULL;
        r->url = (RedisUrl){.host = strdup(host), .port = port};
        if (tmpl->url.user)
                r->url.user = strdup(tmpl->url.user);
        if (tmpl->url.password)
                r->url.password = strdup(tmpl->url.password);
        if (!r->url.host || (tmpl->url.user && !r->url.user) ||
            (tmpl->url.password && !r->url.password))
                return redis_free(r);
        r->connect_timeout_ms = tmpl->connect_timeout_ms;
        r->command_timeout_ms = tmpl->command_timeout_ms;
        snprintf(r->target, sizeof(r->target), "%s:%d", host, port);
        return r;
}

int redis_set_cluster(Redis *r, const char *seeds, char *err, size_t errlen)
{
        if (!r->url.host || r->url.db != 0) {
                snprintf(err, errlen,
                         "redis.cluster: redis.url must be redis://host:port with db 0 (a "
                         "cluster has one database and no unix socket)");
                return -EINVAL;
        }
        int ret = rcluster_new(r, seeds, err, errlen);
        if (ret == 0)
                snprintf(r->target, sizeof(r->target), "cluster %s:%d,%s", r->url.host, r->url.port,
                         seeds);
        return ret;
}

bool redis_is_cluster(const Redis *r)
{
        return r && r->cl;
}

Redis *redis_free(Redis *r)
{
        if (!r)
                return NULL;
        if (r->cl)
                rcluster_free(r);
        redis_disconnect(r);
        redis_url_done(&r->url);
        free(r->resp);
        free(r);
        return NULL;
}

static struct timeval tv_ms(int64_t ms)
{
        return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

void redis_disconnect(Redis *r)
{
        if (r && r->cl)
                rcluster_disconnect(r);
        if (r && r->ctx) {
                redisFree(r->ctx);
                r->ctx = NULL;
        }
        if (r)
                r->unread = 0;
}

bool redis_connected(const Redis *r)
{
        if (r && r->cl)
                return rcluster_connected(r);
        return r && r->ctx;
}

redisContext *redis_ctx(Redis *r)
{
        return r->ctx;
}

const char *redis_errstr(const Redis *r)
{
        return r->err;
}

const char *redis_target(const Redis *r)
{
        return r->target;
}

/* Runs a setup command on a fresh context; fails on any error reply. */
static int setup_command(Redis *r, int argc, const char **argv)
{
        _cleanup_(freeReplyObjectp) redisReply *rep = redisCommandArgv(r->ctx, argc, argv, NULL);
        if (!rep) {
                snprintf(r->err, sizeof(r->err), "%s: %s", argv[0], r->ctx->errstr);
                return -EIO;
        }
        if (rep->type == REDIS_REPLY_ERROR) {
                /* Never echo AUTH arguments: only the command name. */
                snprintf(r->err, sizeof(r->err), "%s: %s", argv[0], rep->str);
                return -EACCES;
        }
        return 0;
}

int redis_connect(Redis *r)
{
        if (r->cl)
                return rcluster_connect(r);
        redis_disconnect(r);
        struct timeval ct = tv_ms(r->connect_timeout_ms);
        if (r->url.path)
                r->ctx = redisConnectUnixWithTimeout(r->url.path, ct);
        else
                r->ctx = redisConnectWithTimeout(r->url.host, r->url.port, ct);
        if (!r->ctx) {
                snprintf(r->err, sizeof(r->err), "out of memory");
                return -ENOMEM;
        }
        int ret = -ECONNREFUSED;
        if (r->ctx->err) {
                snprintf(r->err, sizeof(r->err), "connect: %s", r->ctx->errstr);
                goto fail;
        }
        /* Keep the reply buffer between batches: freeing and growing a
         * large buffer on every batch costs malloc_consolidate (perf). */
        r->ctx->reader->maxbuf = 0;
        ret = -EIO;
        if (redisSetTimeout(r->ctx, tv_ms(r->command_timeout_ms)) != REDIS_OK) {
                snprintf(r->err, sizeof(r->err), "setting timeout: %s", r->ctx->errstr);
                goto fail;
        }
        if (!r->url.path && redisEnableKeepAlive(r->ctx) != REDIS_OK) {
                snprintf(r->err, sizeof(r->err), "keepalive: %s", r->ctx->errstr);
                goto fail;
        }
        if (r->url.password) {
                const char *argv[3] = {"AUTH"};
                int argc = 1;
                if (r->url.user)
                        argv[argc++] = r->url.user;
                argv[argc++] = r->url.password;
                if ((ret = setup_command(r, argc, argv)) < 0)
                        goto fail;
        }
        if (r->url.db) {
                char db[16];
                snprintf(db, sizeof(db), "%d", r->url.db);
                const char *argv[2] = {"SELECT", db};
                if ((ret = setup_command(r, 2, argv)) < 0)
                        goto fail;
        }
        const char *ping[1] = {"PING"};
        if ((ret = setup_command(r, 1, ping)) < 0)
                goto fail;
        r->err[0] = 0;
        return 0;
fail:
        redis_disconnect(r);
        return ret;
}

/* Writes "<c><n>\r\n" at p; returns the end. */
static char *resp_head(char *p, char c, uint64_t n)
{
        char d[24], *end = d + sizeof(d);
        char *q = digits_before(end, n);
        *p++ = c;
        memcpy(p, q, (size_t)(end - q));
        p += end - q;
        *p++ = '\r';
        *p++ = '\n';
        return p;
}

/* Commands up to this size are formatted in r->resp, kept between calls;
 * larger ones in a buffer of their own. */
#define RESP_KEEP (256u * 1024)

/* The command in RESP, as redisFormatCommandArgv() writes it (lens NULL:
 * each argument's strlen), then queued with redisAppendFormattedCommand():
 * hiredis's own formatting (sdscatfmt per argument, its buffer grown as it
 * goes) was 3 % of hearthd's instructions per event (make
 * bench-callgrind). -ENOMEM. */
static int append_argv(Redis *r, int argc, const char **argv, const size_t *lens)
{
        size_t len = 1 + 20 + 2;
        for (int i = 0; i < argc; i++)
                len += 1 + 20 + 2 + (lens ? lens[i] : strlen(argv[i])) + 2;
        char *buf = r->resp, *own = NULL;
        if (len > RESP_KEEP) {
                if (!(buf = own = malloc(len)))
                        return -ENOMEM;
        } else if (len > r->resp_cap) {
                size_t cap = r->resp_cap ? r->resp_cap : 4096;
                while (cap < len)
                        cap *= 2;
                if (!(buf = realloc(r->resp, cap)))
                        return -ENOMEM;
                r->resp = buf;
                r->resp_cap = cap;
        }
        char *p = resp_head(buf, '*', (uint64_t)argc);
        for (int i = 0; i < argc; i++) {
                size_t n = lens ? lens[i] : strlen(argv[i]);
                p = resp_head(p, '$', n);
                memcpy(p, argv[i], n);
                p += n;
                *p++ = '\r';
                *p++ = '\n';
        }
        int ret =
            redisAppendFormattedCommand(r->ctx, buf, (size_t)(p - buf)) == REDIS_OK ? 0 : -ENOMEM;
        free(own);
        return ret;
}

void redis_append(Redis *r, int argc, const char **argv, const size_t *lens)
{
        if (r->cl) {
                rcluster_append(r, argc, argv, lens);
                return;
        }
        /* Not queued (no link, no memory): the pipeline would be short of a
         * reply, so the link goes and the caller's next read is an I/O
         * error (it retries), not a wait for a reply that never comes. */
        if (!r->ctx)
                return;
        if (append_argv(r, argc, argv, lens) == 0)
                r->unread++;
        else
                redis_disconnect(r);
}

int redis_get_reply(Redis *r, redisReply **rep)
{
        void *p = NULL;
        if (r->cl)
                return rcluster_get_reply(r, rep);
        if (!r->ctx) {
                snprintf(r->err, sizeof(r->err), "connection lost");
                return -EIO;
        }
        if (redisGetReply(r->ctx, &p) != REDIS_OK || !p) {
                snprintf(r->err, sizeof(r->err), "%s",
                         r->ctx->errstr[0] ? r->ctx->errstr : "connection lost");
                redis_disconnect(r);
                return -EIO;
        }
        if (r->unread)
                r->unread--;
        *rep = p;
        return 0;
}

/* A synchronous command is refused while pipelined replies are unread. */
static bool pipeline_busy(Redis *r)
{
        if (!r->unread)
                return false;
        snprintf(r->err, sizeof(r->err), "%zu pipelined replies not read yet", r->unread);
        return true;
}

static redisReply *check_reply(Redis *r, redisReply *rep)
{
        if (!rep) {
                snprintf(r->err, sizeof(r->err), "%s",
                         r->ctx && r->ctx->errstr[0] ? r->ctx->errstr : "connection lost");
                redis_disconnect(r);
        }
        return rep;
}

/* The arguments of a command in the protocol's form (*N $len ...), in
 * place: argv points into cmd, each argument NUL-terminated there. -EINVAL
 * when it is not one. */
static int resp_argv(char *cmd, size_t len, int *argc, const char ***argv, size_t **lens)
{
        char *p = cmd, *end = cmd + len;
        if (p >= end || *p != '*')
                return -EINVAL;
        long n = strtol(p + 1, &p, 10);
        if (n <= 0 || n > 1 << 20 || end - p < 2)
                return -EINVAL;
        p += 2;
        *argv = calloc((size_t)n, sizeof(char *));
        *lens = calloc((size_t)n, sizeof(size_t));
        if (!*argv || !*lens)
                return -ENOMEM;
        for (long i = 0; i < n; i++) {
                if (p >= end || *p != '$')
                        return -EINVAL;
                long l = strtol(p + 1, &p, 10);
                if (l < 0 || end - p < l + 4)
                        return -EINVAL;
                p += 2;
                (*argv)[i] = p;
                (*lens)[i] = (size_t)l;
                p[l] = 0; /* over its \r: each argument a C string too */
                p += l + 2;
        }
        *argc = (int)n;
        return 0;
}

/* redis_command() in cluster mode: formatted, then routed by its key. */
static redisReply *cluster_vcommand(Redis *r, const char *fmt, va_list ap)
{
        char *cmd = NULL;
        int len = redisvFormatCommand(&cmd, fmt, ap);
        if (len < 0) {
                snprintf(r->err, sizeof(r->err), "out of memory");
                return NULL;
        }
        int argc = 0;
        const char **argv = NULL;
        size_t *lens = NULL;
        redisReply *rep = NULL;
        if (resp_argv(cmd, (size_t)len, &argc, &argv, &lens) == 0)
                rep = rcluster_command_argv(r, argc, argv, lens);
        else
                snprintf(r->err, sizeof(r->err), "cannot format the command");
        free(argv);
        free(lens);
        redisFreeCommand(cmd);
        return rep;
}

redisReply *redis_command(Redis *r, const char *fmt, ...)
{
        if (r->cl) {
                va_list ap;
                va_start(ap, fmt);
                redisReply *rep = cluster_vcommand(r, fmt, ap);
                va_end(ap);
                return rep;
        }
        if (!r->ctx) {
                snprintf(r->err, sizeof(r->err), "not connected");
                return NULL;
        }
        if (pipeline_busy(r))
                return NULL;
        va_list ap;
        va_start(ap, fmt);
        redisReply *rep = redisvCommand(r->ctx, fmt, ap);
        va_end(ap);
        return check_reply(r, rep);
}

redisReply *redis_command_argv(Redis *r, int argc, const char **argv, const size_t *lens)
{
        if (r->cl)
                return rcluster_command_argv(r, argc, argv, lens);
        if (!r->ctx) {
                snprintf(r->err, sizeof(r->err), "not connected");
                return NULL;
        }
        if (pipeline_busy(r))
                return NULL;
        return check_reply(r, redisCommandArgv(r->ctx, argc, argv, lens));
}

int redis_ping(Redis *r)
{
        redisReply *rep = redis_command(r, "PING");
        int ret = rep && rep->type != REDIS_REPLY_ERROR ? 0 : -EIO;
        if (rep)
                freeReplyObject(rep);
        return ret;
}

void redis_flush(Redis *r, size_t min_bytes)
{
        if (r->cl) {
                rcluster_flush(r, min_bytes);
                return;
        }
        int done = 0;
        if (r->ctx && r->ctx->obuf && sdslen(r->ctx->obuf) >= min_bytes &&
            redisBufferWrite(r->ctx, &done) != REDIS_OK) {
                snprintf(r->err, sizeof(r->err), "%s",
                         r->ctx->errstr[0] ? r->ctx->errstr : "connection lost");
                redis_disconnect(r);
        }
}

size_t redis_node_count(const Redis *r)
{
        return r->cl ? rcluster_node_count(r) : 1;
}

redisReply *redis_command_node(Redis *r, size_t node, int argc, const char **argv,
                               const size_t *lens)
{
        if (r->cl)
                return rcluster_command_node(r, node, argc, argv, lens);
        return redis_command_argv(r, argc, argv, lens);
}

int redis_wait_replicas(Redis *r, const char *prefix, int replicas, int64_t timeout_ms)
{
        if (!r->cl || replicas <= 0)
                return 0;
        return rcluster_wait(r, prefix, replicas, timeout_ms);
}
