/* Cluster mode of a Redis connection (redis.cluster): one plain connection
 * per master, commands routed by their key's slot (cluster.c), the replies
 * of a pipeline read back in the order the commands were appended, MOVED
 * and ASK followed, TRYAGAIN retried. Anything the cluster cannot answer
 * now (CLUSTERDOWN, a master gone, too many redirections) drops every
 * connection and reads as an I/O error: the caller retries its batch after
 * redis_connect(), which asks for the slot map again. That is the path a
 * failover takes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cluster.h"
#include "redis_impl.h"

#define MAX_REDIRECTS 16
#define TRYAGAIN_SLEEP_MS 50

/* One appended command whose reply is unread: where it went, and a copy of
 * its arguments to send again when the reply is a redirection. */
typedef struct {
        int node;
        int argc;
        char **argv;
        size_t *lens;
} Pending;

struct RedisCluster {
        ClusterMap map;
        Redis *conn[CLUSTER_MAX_NODES]; /* pipelined, one per node of the map */
        Redis *side[CLUSTER_MAX_NODES]; /* redirections while conn has replies pending */
        ClusterNode seeds[CLUSTER_MAX_NODES];
        size_t n_seeds;
        Pending *fifo;
        size_t head, len, cap;
        char **scripts; /* bodies of SCRIPT LOAD, loaded on every node that joins */
        size_t n_scripts;
        bool connected;
        bool stale; /* a MOVED was seen: ask for the map before the next pipeline */
};

/* host:port, the port after the last ':'. -EINVAL. */
static int parse_node(const char *s, size_t len, ClusterNode *n)
{
        const char *colon = NULL;
        for (size_t i = 0; i < len; i++)
                if (s[i] == ':')
                        colon = s + i;
        if (!colon || colon == s || (size_t)(colon - s) >= sizeof(n->host))
                return -EINVAL;
        char port[8];
        size_t plen = len - (size_t)(colon - s) - 1;
        if (plen == 0 || plen >= sizeof(port))
                return -EINVAL;
        memcpy(port, colon + 1, plen);
        port[plen] = 0;
        char *end;
        long p = strtol(port, &end, 10);
        if (*end || p < 1 || p > 65535)
                return -EINVAL;
        memcpy(n->host, s, (size_t)(colon - s));
        n->host[colon - s] = 0;
        n->port = (int)p;
        return 0;
}

int rcluster_new(Redis *r, const char *seeds, char *err, size_t errlen)
{
        RedisCluster *cl = calloc(1, sizeof(RedisCluster));
        if (!cl) {
                snprintf(err, errlen, "out of memory");
                return -ENOMEM;
        }
        snprintf(cl->seeds[0].host, sizeof(cl->seeds[0].host), "%s", r->url.host);
        cl->seeds[0].port = r->url.port;
        cl->n_seeds = 1;
        const char *p = seeds;
        while (*p) {
                size_t n = strcspn(p, ", ");
                if (n > 0) {
                        if (cl->n_seeds == CLUSTER_MAX_NODES ||
                            parse_node(p, n, &cl->seeds[cl->n_seeds]) < 0) {
                                snprintf(err, errlen,
                                         "redis.cluster: '%.*s' is not host:port (at most %d "
                                         "nodes, comma-separated)",
                                         (int)(n > 100 ? 100 : n), p, CLUSTER_MAX_NODES);
                                free(cl);
                                return -EINVAL;
                        }
                        cl->n_seeds++;
                }
                p += n;
                p += strspn(p, ", ");
        }
        for (size_t i = 0; i < CLUSTER_SLOTS; i++)
                cl->map.owner[i] = -1;
        r->cl = cl;
        return 0;
}

static void pending_free(Pending *p)
{
        for (int i = 0; i < p->argc; i++)
                free(p->argv[i]);
        free(p->argv);
        free(p->lens);
        *p = (Pending){0};
}

static void fifo_clear(RedisCluster *cl)
{
        for (size_t i = 0; i < cl->len; i++)
                pending_free(&cl->fifo[(cl->head + i) % cl->cap]);
        cl->head = cl->len = 0;
}

void rcluster_disconnect(Redis *r)
{
        RedisCluster *cl = r->cl;
        fifo_clear(cl);
        for (size_t i = 0; i < CLUSTER_MAX_NODES; i++) {
                cl->conn[i] = redis_free(cl->conn[i]);
                cl->side[i] = redis_free(cl->side[i]);
        }
        cl->connected = false;
}

void rcluster_free(Redis *r)
{
        RedisCluster *cl = r->cl;
        rcluster_disconnect(r);
        free(cl->fifo);
        for (size_t i = 0; i < cl->n_scripts; i++)
                free(cl->scripts[i]);
        free(cl->scripts);
        free(cl);
        r->cl = NULL;
}

bool rcluster_connected(const Redis *r)
{
        return r->cl->connected;
}

/* Drops every connection and says why; -EIO. */
static int fail(Redis *r, const char *fmt, const char *what, const char *why)
{
        char buf[sizeof(r->err)];
        snprintf(buf, sizeof(buf), fmt, what, why);
        rcluster_disconnect(r);
        memcpy(r->err, buf, sizeof(buf));
        return -EIO;
}

/* SCRIPT LOAD of every remembered script on a fresh connection. */
static int load_scripts(RedisCluster *cl, Redis *c)
{
        for (size_t i = 0; i < cl->n_scripts; i++) {
                redisReply *rep = redis_command(c, "SCRIPT LOAD %s", cl->scripts[i]);
                bool ok = rep && rep->type == REDIS_REPLY_STRING;
                if (rep && !ok)
                        snprintf(c->err, sizeof(c->err), "SCRIPT LOAD: %s", rep->str);
                if (rep)
                        freeReplyObject(rep);
                if (!ok)
                        return -EIO;
        }
        return 0;
}

/* A connected Redis to node i of the map (conn or side), made on first use. */
static Redis *node_link(Redis *r, Redis **slot, size_t i)
{
        RedisCluster *cl = r->cl;
        if (*slot && redis_connected(*slot))
                return *slot;
        *slot = redis_free(*slot);
        Redis *c = redis_new_like(r, cl->map.nodes[i].host, cl->map.nodes[i].port);
        if (!c) {
                snprintf(r->err, sizeof(r->err), "out of memory");
                return NULL;
        }
        if (redis_connect(c) < 0 || load_scripts(cl, c) < 0) {
                snprintf(r->err, sizeof(r->err), "%s: %s", c->target, redis_errstr(c));
                redis_free(c);
                return NULL;
        }
        return *slot = c;
}

/* Rebuilds the slot map from CLUSTER SLOTS of node c (at host): node
 * indexes already known keep their place, so connections stay valid. */
static int map_refresh(Redis *r, Redis *c, const char *host)
{
        RedisCluster *cl = r->cl;
        redisReply *rep = redis_command(c, "CLUSTER SLOTS");
        if (!rep) {
                snprintf(r->err, sizeof(r->err), "CLUSTER SLOTS at %s: %s", c->target,
                         redis_errstr(c));
                return -EIO;
        }
        static ClusterMap fresh; /* 33 KiB: not on the stack; one thread */
        char why[200];
        int ret = cluster_map_from_slots(&fresh, rep, host, why, sizeof(why));
        freeReplyObject(rep);
        if (ret < 0) {
                snprintf(r->err, sizeof(r->err), "CLUSTER SLOTS at %s: %s", c->target, why);
                return ret;
        }
        size_t covered = cluster_map_covered(&fresh);
        if (covered < CLUSTER_SLOTS) {
                snprintf(r->err, sizeof(r->err),
                         "%s: the cluster serves %zu of %d slots (a master down, or "
                         "cluster-require-full-coverage no)",
                         c->target, covered, CLUSTER_SLOTS);
                return -EIO;
        }
        int idx[CLUSTER_MAX_NODES];
        for (size_t i = 0; i < fresh.n_nodes; i++) {
                idx[i] = cluster_map_node(&cl->map, fresh.nodes[i].host, fresh.nodes[i].port);
                if (idx[i] < 0) {
                        snprintf(r->err, sizeof(r->err), "more than %d cluster nodes seen",
                                 CLUSTER_MAX_NODES);
                        return -EIO;
                }
        }
        for (size_t s = 0; s < CLUSTER_SLOTS; s++)
                cl->map.owner[s] = (int16_t)idx[fresh.owner[s]];
        cl->stale = false;
        return 0;
}

/* Which nodes own slots now (a former master holds a replica's copy). */
static size_t serving(const RedisCluster *cl, int *which)
{
        bool owns[CLUSTER_MAX_NODES] = {false};
        for (size_t s = 0; s < CLUSTER_SLOTS; s++)
                if (cl->map.owner[s] >= 0)
                        owns[cl->map.owner[s]] = true;
        size_t n = 0;
        for (size_t i = 0; i < cl->map.n_nodes; i++)
                if (owns[i])
                        which[n++] = (int)i;
        return n;
}

int rcluster_connect(Redis *r)
{
        RedisCluster *cl = r->cl;
        rcluster_disconnect(r);
        /* Ask the masters last known first (a seed may be a dead master),
         * then the configured seeds. */
        ClusterNode ask[2 * CLUSTER_MAX_NODES];
        size_t n_ask = 0;
        for (size_t i = 0; i < cl->map.n_nodes; i++)
                ask[n_ask++] = cl->map.nodes[i];
        for (size_t i = 0; i < cl->n_seeds; i++)
                ask[n_ask++] = cl->seeds[i];
        int ret = -EIO;
        char last[sizeof(r->err)] = "no seed node answered";
        for (size_t i = 0; i < n_ask; i++) {
                Redis *c = redis_new_like(r, ask[i].host, ask[i].port);
                if (!c)
                        return -ENOMEM;
                if (redis_connect(c) < 0) {
                        snprintf(last, sizeof(last), "%s: %s", c->target, redis_errstr(c));
                        ret = -ECONNREFUSED;
                } else if ((ret = map_refresh(r, c, ask[i].host)) < 0) {
                        memcpy(last, r->err, sizeof(last));
                }
                redis_free(c);
                if (ret == 0)
                        break;
        }
        if (ret < 0) {
                memcpy(r->err, last, sizeof(last));
                return ret;
        }
        /* Connect every master that owns slots. */
        int which[CLUSTER_MAX_NODES];
        size_t n_serving = serving(cl, which);
        for (size_t k = 0; k < n_serving; k++)
                if (!node_link(r, &cl->conn[which[k]], (size_t)which[k])) {
                        char why[sizeof(r->err)];
                        memcpy(why, r->err, sizeof(why));
                        rcluster_disconnect(r);
                        memcpy(r->err, why, sizeof(why));
                        return -ECONNREFUSED;
                }
        cl->connected = true;
        r->err[0] = 0;
        return 0;
}

/* The node a command goes to: its key's slot owner, or the first master
 * for a command without a key. -1 when no node owns the slot. */
static int route(const RedisCluster *cl, int argc, const char **argv, const size_t *lens)
{
        int k = cluster_command_key(argc, argv, lens);
        if (k < 0) {
                for (size_t s = 0; s < CLUSTER_SLOTS; s++)
                        if (cl->map.owner[s] >= 0)
                                return cl->map.owner[s];
                return -1;
        }
        size_t klen = lens ? lens[k] : strlen(argv[k]);
        return cl->map.owner[cluster_key_slot(argv[k], klen)];
}

static int fifo_push(RedisCluster *cl, int node, int argc, const char **argv, const size_t *lens)
{
        if (cl->len == cl->cap) {
                size_t cap = cl->cap ? 2 * cl->cap : 256;
                Pending *f = calloc(cap, sizeof(Pending));
                if (!f)
                        return -ENOMEM;
                for (size_t i = 0; i < cl->len; i++)
                        f[i] = cl->fifo[(cl->head + i) % cl->cap];
                free(cl->fifo);
                cl->fifo = f;
                cl->cap = cap;
                cl->head = 0;
        }
        Pending p = {.node = node, .argc = argc};
        p.argv = calloc((size_t)argc, sizeof(char *));
        p.lens = calloc((size_t)argc, sizeof(size_t));
        if (!p.argv || !p.lens) {
                pending_free(&p);
                return -ENOMEM;
        }
        for (int i = 0; i < argc; i++) {
                p.lens[i] = lens ? lens[i] : strlen(argv[i]);
                if (!(p.argv[i] = malloc(p.lens[i] + 1))) {
                        pending_free(&p);
                        return -ENOMEM;
                }
                memcpy(p.argv[i], argv[i], p.lens[i]);
                p.argv[i][p.lens[i]] = 0;
        }
        cl->fifo[(cl->head + cl->len++) % cl->cap] = p;
        return 0;
}

/* Reads the map again once no reply is pending, after a MOVED. */
static void refresh_if_stale(Redis *r)
{
        RedisCluster *cl = r->cl;
        if (!cl->stale || cl->len)
                return;
        for (size_t i = 0; i < cl->map.n_nodes; i++)
                if (cl->conn[i] && redis_connected(cl->conn[i])) {
                        if (map_refresh(r, cl->conn[i], cl->map.nodes[i].host) == 0)
                                return;
                }
        cl->stale = false; /* the MOVED entries keep routing right meanwhile */
}

void rcluster_append(Redis *r, int argc, const char **argv, const size_t *lens)
{
        RedisCluster *cl = r->cl;
        if (!cl->connected)
                return;      /* the missing reply is read as an I/O error */
        refresh_if_stale(r); /* at the start of a pipeline only */
        int n = route(cl, argc, argv, lens);
        Redis *c = n >= 0 ? node_link(r, &cl->conn[n], (size_t)n) : NULL;
        if (!c || fifo_push(cl, n, argc, argv, lens) < 0) {
                fail(r, "%s%s",
                     "cannot queue a command: ", n < 0 ? "no master owns its slot" : r->err);
                return;
        }
        redis_append(c, argc, argv, lens);
}

static void sleep_ms(long ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

/* Sends a command again where a redirection says, on the side connection
 * of that node (its pipelined connection may have replies pending). */
static redisReply *resend(Redis *r, int node, bool asking, int argc, const char **argv,
                          const size_t *lens)
{
        RedisCluster *cl = r->cl;
        Redis *c = node_link(r, &cl->side[node], (size_t)node);
        if (!c)
                return NULL;
        if (!asking)
                return redis_command_argv(c, argc, argv, lens);
        const char *ask[1] = {"ASKING"};
        redis_append(c, 1, ask, NULL);
        redis_append(c, argc, argv, lens);
        redisReply *a = NULL, *rep = NULL;
        if (redis_get_reply(c, &a) < 0 || redis_get_reply(c, &rep) < 0) {
                if (a)
                        freeReplyObject(a);
                snprintf(r->err, sizeof(r->err), "%s: %s", c->target, redis_errstr(c));
                return NULL;
        }
        freeReplyObject(a);
        return rep;
}

/* Follows the redirections of rep (from node from); the final reply, or
 * NULL with every connection dropped and the reason in r->err. */
static redisReply *follow(Redis *r, int from, redisReply *rep, int argc, const char **argv,
                          const size_t *lens)
{
        RedisCluster *cl = r->cl;
        int node = from;
        bool asking = false;
        for (int tries = 0; tries < MAX_REDIRECTS; tries++) {
                ClusterRedirect rd;
                ClusterReplyKind kind = cluster_reply_classify(rep, &rd);
                if (kind == CLUSTER_REPLY_OK)
                        return rep;
                if (kind == CLUSTER_REPLY_CLUSTERDOWN) {
                        fail(r, "%s%s", "the cluster is down: ", rep->str);
                        freeReplyObject(rep);
                        return NULL;
                }
                freeReplyObject(rep);
                if (kind == CLUSTER_REPLY_TRYAGAIN) {
                        /* A multi-key command on a slot being migrated. */
                        sleep_ms(TRYAGAIN_SLEEP_MS);
                } else {
                        if (!rd.host[0])
                                snprintf(rd.host, sizeof(rd.host), "%s", cl->map.nodes[node].host);
                        int n = cluster_map_node(&cl->map, rd.host, rd.port);
                        if (n < 0) {
                                fail(r, "%s%s", "too many cluster nodes", "");
                                return NULL;
                        }
                        asking = kind == CLUSTER_REPLY_ASK;
                        if (!asking) {
                                cl->map.owner[rd.slot] = (int16_t)n;
                                cl->stale = true;
                        }
                        node = n;
                }
                if (!(rep = resend(r, node, asking, argc, argv, lens))) {
                        char why[sizeof(r->err)];
                        memcpy(why, r->err, sizeof(why));
                        fail(r, "%s%s", "redirection: ", why);
                        return NULL;
                }
        }
        freeReplyObject(rep);
        fail(r, "%s%s", "too many redirections", "");
        return NULL;
}

int rcluster_get_reply(Redis *r, redisReply **rep)
{
        RedisCluster *cl = r->cl;
        if (!cl->connected || !cl->len) {
                if (!cl->connected && !r->err[0])
                        snprintf(r->err, sizeof(r->err), "connection lost");
                return -EIO;
        }
        Pending p = cl->fifo[cl->head];
        cl->head = (cl->head + 1) % cl->cap;
        cl->len--;
        redisReply *x = NULL;
        if (redis_get_reply(cl->conn[p.node], &x) < 0) {
                fail(r, "%s: %s", cl->conn[p.node]->target, redis_errstr(cl->conn[p.node]));
                pending_free(&p);
                return -EIO;
        }
        x = follow(r, p.node, x, p.argc, (const char **)p.argv, p.lens);
        pending_free(&p);
        if (!x)
                return -EIO;
        *rep = x;
        return 0;
}

/* SCRIPT LOAD: remembered, and run on every connected master. */
static redisReply *script_load(Redis *r, int argc, const char **argv, const size_t *lens)
{
        RedisCluster *cl = r->cl;
        size_t blen = lens ? lens[2] : strlen(argv[2]);
        redisReply *first = NULL;
        bool loaded = true;
        for (size_t i = 0; i < cl->map.n_nodes; i++) {
                if (!cl->conn[i])
                        continue;
                redisReply *rep = redis_command_argv(cl->conn[i], argc, argv, lens);
                if (!rep) {
                        fail(r, "%s: %s", cl->conn[i]->target, redis_errstr(cl->conn[i]));
                        if (first)
                                freeReplyObject(first);
                        return NULL;
                }
                loaded = loaded && rep->type == REDIS_REPLY_STRING;
                if (!first ||
                    (rep->type == REDIS_REPLY_ERROR && first->type != REDIS_REPLY_ERROR)) {
                        if (first)
                                freeReplyObject(first);
                        first = rep;
                } else
                        freeReplyObject(rep);
        }
        if (!first) {
                snprintf(r->err, sizeof(r->err), "no master connected");
                return NULL;
        }
        bool known = false;
        for (size_t i = 0; i < cl->n_scripts && !known; i++)
                known =
                    strlen(cl->scripts[i]) == blen && memcmp(cl->scripts[i], argv[2], blen) == 0;
        if (loaded && !known) {
                char **s = realloc(cl->scripts, (cl->n_scripts + 1) * sizeof(char *));
                if (s)
                        cl->scripts = s;
                if (!s || !(s[cl->n_scripts] = strndup(argv[2], blen))) {
                        freeReplyObject(first);
                        snprintf(r->err, sizeof(r->err), "out of memory");
                        return NULL;
                }
                cl->n_scripts++;
        }
        return first;
}

static bool is_script_load(int argc, const char **argv)
{
        return argc == 3 && strcasecmp(argv[0], "SCRIPT") == 0 && strcasecmp(argv[1], "LOAD") == 0;
}

redisReply *rcluster_command_argv(Redis *r, int argc, const char **argv, const size_t *lens)
{
        RedisCluster *cl = r->cl;
        if (!cl->connected) {
                snprintf(r->err, sizeof(r->err), "not connected");
                return NULL;
        }
        if (cl->len) {
                snprintf(r->err, sizeof(r->err), "%zu pipelined replies not read yet", cl->len);
                return NULL;
        }
        refresh_if_stale(r);
        if (is_script_load(argc, argv))
                return script_load(r, argc, argv, lens);
        int n = route(cl, argc, argv, lens);
        Redis *c = n >= 0 ? node_link(r, &cl->conn[n], (size_t)n) : NULL;
        if (!c) {
                fail(r, "%s%s", "no master for the command: ", n < 0 ? "slot not served" : r->err);
                return NULL;
        }
        redisReply *rep = redis_command_argv(c, argc, argv, lens);
        if (!rep) {
                fail(r, "%s: %s", c->target, redis_errstr(c));
                return NULL;
        }
        return follow(r, n, rep, argc, argv, lens);
}

void rcluster_flush(Redis *r, size_t min_bytes)
{
        RedisCluster *cl = r->cl;
        for (size_t i = 0; i < cl->map.n_nodes; i++) {
                if (!cl->conn[i] || !redis_connected(cl->conn[i]))
                        continue;
                redis_flush(cl->conn[i], min_bytes);
                if (!redis_connected(cl->conn[i])) {
                        fail(r, "%s: %s", cl->conn[i]->target, redis_errstr(cl->conn[i]));
                        return;
                }
        }
}

size_t rcluster_node_count(const Redis *r)
{
        int which[CLUSTER_MAX_NODES];
        return serving(r->cl, which);
}

redisReply *rcluster_command_node(Redis *r, size_t node, int argc, const char **argv,
                                  const size_t *lens)
{
        RedisCluster *cl = r->cl;
        int which[CLUSTER_MAX_NODES];
        size_t n = serving(cl, which);
        if (!cl->connected || node >= n) {
                snprintf(r->err, sizeof(r->err), "not connected");
                return NULL;
        }
        node = (size_t)which[node];
        Redis *c = node_link(r, &cl->conn[node], node);
        redisReply *rep = c ? redis_command_argv(c, argc, argv, lens) : NULL;
        if (!rep)
                fail(r, "%s: %s", cl->map.nodes[node].host, c ? redis_errstr(c) : r->err);
        return rep;
}

/* A key of the form <prefix>:wait:{wN} whose slot master i owns. */
static bool probe_key(const RedisCluster *cl, int i, const char *prefix, char *buf, size_t len)
{
        for (unsigned n = 0; n < 100000; n++) {
                char tag[16];
                int tl = snprintf(tag, sizeof(tag), "w%u", n);
                if (cl->map.owner[cluster_key_slot(tag, (size_t)tl)] == i) {
                        snprintf(buf, len, "%s:wait:{%s}", prefix, tag);
                        return true;
                }
        }
        return false;
}

int rcluster_wait(Redis *r, const char *prefix, int replicas, int64_t timeout_ms)
{
        RedisCluster *cl = r->cl;
        if (!cl->connected)
                return -EIO;
        if (cl->len) {
                snprintf(r->err, sizeof(r->err), "%zu pipelined replies not read yet", cl->len);
                return -EBUSY;
        }
        /* WAIT counts the replicas holding this connection's last write.
         * A write of our own on each master first: its replication stream
         * is one ordered log, so a replica that has the probe has every
         * earlier write of that master, whichever connection (a redirect's,
         * one dropped since) sent it. */
        char n[16], t[24], key[300];
        snprintf(n, sizeof(n), "%d", replicas);
        snprintf(t, sizeof(t), "%lld", (long long)timeout_ms);
        const char *wait[3] = {"WAIT", n, t};
        int which[CLUSTER_MAX_NODES];
        size_t n_serving = serving(cl, which);
        Redis *sent[CLUSTER_MAX_NODES];
        for (size_t k = 0; k < n_serving; k++) {
                Redis *c = node_link(r, &cl->conn[which[k]], (size_t)which[k]);
                if (!c || !probe_key(cl, which[k], prefix, key, sizeof(key)))
                        return fail(r, "%s%s", "WAIT: ", c ? "no probe key" : r->err);
                const char *set[3] = {"SET", key, "1"};
                redis_append(c, 3, set, NULL);
                redis_append(c, 3, wait, NULL);
                sent[k] = c;
        }
        int ret = 0;
        for (size_t k = 0; k < n_serving; k++) {
                redisReply *w = NULL, *rep = NULL;
                if (redis_get_reply(sent[k], &w) < 0 || redis_get_reply(sent[k], &rep) < 0) {
                        if (w)
                                freeReplyObject(w);
                        return fail(r, "WAIT at %s: %s", sent[k]->target, redis_errstr(sent[k]));
                }
                bool ok = w->type != REDIS_REPLY_ERROR && rep->type == REDIS_REPLY_INTEGER &&
                          rep->integer >= replicas;
                if (!ok && ret == 0) {
                        const redisReply *e = w->type == REDIS_REPLY_ERROR ? w : rep;
                        if (e->type == REDIS_REPLY_ERROR)
                                snprintf(r->err, sizeof(r->err), "WAIT at %s: %s", sent[k]->target,
                                         e->str);
                        else
                                snprintf(r->err, sizeof(r->err),
                                         "WAIT at %s: %lld of %d replicas acknowledged in %lld ms",
                                         sent[k]->target,
                                         rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1LL,
                                         replicas, (long long)timeout_ms);
                }
                if (!ok)
                        ret = -EAGAIN;
                freeReplyObject(w);
                freeReplyObject(rep);
        }
        return ret;
}
