/* The cluster mode of redis.c and redis_cluster.c against a real Redis
 * Cluster: three masters without replicas, started for this test on free
 * loopback ports in a temporary folder (nothing saved), the cluster built by
 * hand (CLUSTER ADDSLOTSRANGE, SET-CONFIG-EPOCH, MEET). The tests route a
 * pipeline by hash slot, move a slot behind the client's back (MOVED),
 * migrate half a slot (ASK with ASKING), split a multi-key command across a
 * migration (TRYAGAIN), load a script on every master, WAIT without
 * replicas, address the masters for SCAN, and break the cluster
 * (CLUSTERDOWN, run last; the cluster is mended afterwards). Every check
 * reads back from a node itself, through a plain (non-cluster) connection
 * that follows no redirection. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cluster.h"
#include "redis.h"

#define N_NODES 3
/* redis_cluster.c's MAX_REDIRECTS and TRYAGAIN_SLEEP_MS: a command that
 * keeps getting TRYAGAIN is sent 1 + 16 times, 50 ms apart. */
#define MAX_REDIRECTS 16
#define TRYAGAIN_SLEEP_MS 50

typedef struct {
        pid_t pid;
        int port, bus;
        char dir[96];
        char id[48];
        Redis *direct; /* plain connection: what this node itself holds */
} Node;

static Node nodes[N_NODES];
static char cluster_dir[64];

/* --- nodes -------------------------------------------------------------------- */

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

/* n distinct free loopback ports: all bound to port 0 at once (so the
 * kernel hands out different ones), then released for redis-server. Another
 * process may take one meanwhile; start_node() then retries. */
static int free_ports(int *ports, int n)
{
        int fds[4], ret = -1, i;
        for (i = 0; i < n; i++) {
                struct sockaddr_in sa = {.sin_family = AF_INET,
                                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
                socklen_t len = sizeof(sa);
                fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fds[i] < 0)
                        goto done;
                if (bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
                    getsockname(fds[i], (struct sockaddr *)&sa, &len) < 0) {
                        i++;
                        goto done;
                }
                ports[i] = ntohs(sa.sin_port);
        }
        ret = 0;
done:
        while (i-- > 0)
                if (fds[i] >= 0)
                        close(fds[i]);
        return ret;
}

/* A command on node i through its plain connection: a MOVED or ASK comes
 * back as it is. Caller frees; NULL on an I/O error. */
static redisReply *node_cmd(int i, const char *fmt, ...)
{
        redisContext *c = redis_ctx(nodes[i].direct);
        if (!c)
                return NULL;
        va_list ap;
        va_start(ap, fmt);
        redisReply *rep = redisvCommand(c, fmt, ap);
        va_end(ap);
        return rep;
}

/* A command on node i that must not fail: 0, or -1 with the reason on
 * stderr (cmocka prints it beside the failed assertion). */
static int node_run(int i, const char *fmt, ...)
{
        redisContext *c = redis_ctx(nodes[i].direct);
        if (!c)
                return -1;
        va_list ap;
        va_start(ap, fmt);
        redisReply *rep = redisvCommand(c, fmt, ap);
        va_end(ap);
        int ret = rep && rep->type != REDIS_REPLY_ERROR ? 0 : -1;
        if (ret < 0)
                fprintf(stderr, "# node %d (%d): '%s': %s\n", i, nodes[i].port, fmt,
                        rep ? rep->str : c->errstr);
        if (rep)
                freeReplyObject(rep);
        return ret;
}

/* Starts node i in its own folder and connects its plain connection. Up
 * to 5 attempts, each on fresh ports: a port taken between free_ports()
 * and the bind makes redis-server exit at once. */
static int start_node(int i)
{
        Node *n = &nodes[i];
        char log[128], conf[128], url[64], err[256];
        snprintf(n->dir, sizeof(n->dir), "%s/n%d", cluster_dir, i);
        snprintf(log, sizeof(log), "%s/redis.log", n->dir);
        snprintf(conf, sizeof(conf), "%s/nodes.conf", n->dir);
        if (mkdir(n->dir, 0700) < 0)
                return -1;
        for (int attempt = 0; attempt < 5; attempt++) {
                int p[2];
                if (free_ports(p, 2) < 0)
                        return -1;
                n->port = p[0];
                n->bus = p[1];
                /* A failed attempt may have written nodes.conf already. */
                unlink(conf);
                char port[16], bus[16];
                snprintf(port, sizeof(port), "%d", n->port);
                snprintf(bus, sizeof(bus), "%d", n->bus);
                n->pid = fork();
                if (n->pid < 0)
                        return -1;
                if (n->pid == 0) {
                        /* No node outlives a crashed test binary. */
                        prctl(PR_SET_PDEATHSIG, SIGTERM);
                        execlp("redis-server", "redis-server", "--port", port, "--cluster-port",
                               bus, "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                               "--cluster-config-file", "nodes.conf", "--cluster-node-timeout",
                               "5000", "--save", "", "--appendonly", "no", "--dir", n->dir,
                               "--logfile", log, (char *)NULL);
                        _exit(127);
                }
                snprintf(url, sizeof(url), "redis://127.0.0.1:%d", n->port);
                n->direct = redis_new(url, NULL, 1000, 5000, err, sizeof(err));
                if (!n->direct)
                        return -1;
                /* Up to 10 s for the node to answer PING. */
                for (int k = 0; k < 200; k++) {
                        if (redis_connect(n->direct) == 0)
                                return 0;
                        if (waitpid(n->pid, NULL, WNOHANG) == n->pid)
                                break;
                        sleep_ms(50);
                }
                n->direct = redis_free(n->direct);
                if (waitpid(n->pid, NULL, WNOHANG) == 0) {
                        kill(n->pid, SIGTERM);
                        waitpid(n->pid, NULL, 0);
                }
                n->pid = -1;
                fprintf(stderr, "# redis-server on port %d did not answer (see %s), retrying\n",
                        n->port, log);
        }
        return -1;
}

/* Whether CLUSTER INFO of node i says cluster_state:<state>. */
static bool node_state_is(int i, const char *state)
{
        char want[32];
        snprintf(want, sizeof(want), "cluster_state:%s\r", state);
        redisReply *rep = node_cmd(i, "CLUSTER INFO");
        bool ok = rep && rep->type == REDIS_REPLY_STRING && strstr(rep->str, want);
        if (rep)
                freeReplyObject(rep);
        return ok;
}

/* Waits up to timeout_ms for every node to report cluster_state:<state>. */
static int wait_state(const char *state, int64_t timeout_ms)
{
        int64_t end = now_ms() + timeout_ms;
        do {
                bool all = true;
                for (int i = 0; i < N_NODES && all; i++)
                        all = node_state_is(i, state);
                if (all)
                        return 0;
                sleep_ms(50);
        } while (now_ms() < end);
        fprintf(stderr, "# the cluster did not reach cluster_state:%s in %lld ms\n", state,
                (long long)timeout_ms);
        return -1;
}

static int nodes_stop(void **state)
{
        (void)state;
        for (int i = 0; i < N_NODES; i++) {
                nodes[i].direct = redis_free(nodes[i].direct);
                if (nodes[i].pid > 0) {
                        kill(nodes[i].pid, SIGTERM);
                        waitpid(nodes[i].pid, NULL, 0);
                        nodes[i].pid = -1;
                }
        }
        if (!cluster_dir[0])
                return 0;
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cluster_dir);
        return system(cmd) == 0 ? 0 : -1;
}

/* Three masters of a third of the slots each. Distinct config epochs before
 * MEET (as redis-cli --cluster create does), so that no epoch collision has
 * to be resolved while the tests move slots. */
static int nodes_start(void **state)
{
        static const int ranges[N_NODES][2] = {{0, 5460}, {5461, 10922}, {10923, 16383}};
        for (int i = 0; i < N_NODES; i++)
                nodes[i].pid = -1;
        snprintf(cluster_dir, sizeof(cluster_dir), "/tmp/test_redis_cluster.XXXXXX");
        if (!mkdtemp(cluster_dir)) {
                cluster_dir[0] = 0;
                return -1;
        }
        for (int i = 0; i < N_NODES; i++) {
                if (start_node(i) < 0)
                        goto fail;
                redisReply *rep = node_cmd(i, "CLUSTER MYID");
                if (!rep || rep->type != REDIS_REPLY_STRING) {
                        if (rep)
                                freeReplyObject(rep);
                        goto fail;
                }
                snprintf(nodes[i].id, sizeof(nodes[i].id), "%s", rep->str);
                freeReplyObject(rep);
                if (node_run(i, "CLUSTER SET-CONFIG-EPOCH %d", i + 1) < 0 ||
                    node_run(i, "CLUSTER ADDSLOTSRANGE %d %d", ranges[i][0], ranges[i][1]) < 0)
                        goto fail;
        }
        for (int i = 1; i < N_NODES; i++)
                if (node_run(0, "CLUSTER MEET 127.0.0.1 %d %d", nodes[i].port, nodes[i].bus) < 0)
                        goto fail;
        /* A master waits 2 s after its start before it turns ok. */
        if (wait_state("ok", 15000) < 0)
                goto fail;
        return 0;
fail:
        nodes_stop(state);
        return -1;
}

/* --- what a node holds ---------------------------------------------------------- */

/* The slot of key as node 0 computes it (CLUSTER KEYSLOT). */
static unsigned keyslot(const char *key)
{
        redisReply *rep = node_cmd(0, "CLUSTER KEYSLOT %s", key);
        assert_non_null(rep);
        assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
        unsigned slot = (unsigned)rep->integer;
        freeReplyObject(rep);
        return slot;
}

/* The node that node via says owns slot (CLUSTER SLOTS), or -1. */
static int slot_owner(int via, unsigned slot)
{
        redisReply *rep = node_cmd(via, "CLUSTER SLOTS");
        assert_non_null(rep);
        assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
        int owner = -1;
        for (size_t k = 0; k < rep->elements; k++) {
                redisReply *range = rep->element[k];
                assert_true(range->elements >= 3);
                if (slot < (unsigned)range->element[0]->integer ||
                    slot > (unsigned)range->element[1]->integer)
                        continue;
                int port = (int)range->element[2]->element[1]->integer;
                for (int i = 0; i < N_NODES; i++)
                        if (nodes[i].port == port)
                                owner = i;
        }
        freeReplyObject(rep);
        return owner;
}

/* Whether node i holds key. CLUSTER GETKEYSINSLOT reads the node's own
 * keyspace: EXISTS would be answered MOVED by a node not owning the slot. */
static bool node_holds(int i, const char *key)
{
        redisReply *rep = node_cmd(i, "CLUSTER GETKEYSINSLOT %u 1000", keyslot(key));
        assert_non_null(rep);
        assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
        bool found = false;
        for (size_t k = 0; k < rep->elements; k++)
                found = found || strcmp(rep->element[k]->str, key) == 0;
        freeReplyObject(rep);
        return found;
}

/* Asserts that node i, asked directly, holds key with value want. */
static void assert_node_value(int i, const char *key, const char *want)
{
        redisReply *rep = node_cmd(i, "GET %s", key);
        assert_non_null(rep);
        if (rep->type != REDIS_REPLY_STRING)
                fail_msg("GET %s on node %d: type %d %s", key, i, rep->type,
                         rep->type == REDIS_REPLY_ERROR ? rep->str : "");
        assert_string_equal(rep->str, want);
        freeReplyObject(rep);
}

/* Asserts that node i answers GET key with a redirection starting with
 * prefix ("MOVED", "ASK"): the client has to follow it. */
static void assert_node_redirects(int i, const char *key, const char *prefix)
{
        redisReply *rep = node_cmd(i, "GET %s", key);
        assert_non_null(rep);
        assert_int_equal(rep->type, REDIS_REPLY_ERROR);
        if (strncmp(rep->str, prefix, strlen(prefix)) != 0)
                fail_msg("GET %s on node %d: '%s', expected %s", key, i, rep->str, prefix);
        freeReplyObject(rep);
}

/* A key whose slot node i owns: "{<prefix><n>}k" for the first n that fits. */
static void key_on(int i, const char *prefix, char *key, size_t len)
{
        for (int n = 0; n < 1000; n++) {
                snprintf(key, len, "{%s%d}k", prefix, n);
                if (slot_owner(0, keyslot(key)) == i)
                        return;
        }
        fail_msg("no key of node %d found", i);
}

/* --- moving slots by hand, as redis-cli --cluster reshard does ------------------- */

/* Starts moving slot from a to b: b importing first, so that no client is
 * sent by a's ASK to a node that would bounce it back. */
static void slot_migrating(unsigned slot, int a, int b)
{
        assert_int_equal(node_run(b, "CLUSTER SETSLOT %u IMPORTING %s", slot, nodes[a].id), 0);
        assert_int_equal(node_run(a, "CLUSTER SETSLOT %u MIGRATING %s", slot, nodes[b].id), 0);
}

static void migrate_key(int a, int b, const char *key)
{
        assert_int_equal(
            node_run(a, "MIGRATE 127.0.0.1 %d %s 0 5000 KEYS %s", nodes[b].port, "", key), 0);
}

/* Ends a move: slot belongs to b on every node, b first (it bumps its
 * config epoch, so the gossip agrees with what the others are told). The
 * caller has migrated every key of the slot. */
static void slot_assign(unsigned slot, int b)
{
        assert_int_equal(node_run(b, "CLUSTER SETSLOT %u NODE %s", slot, nodes[b].id), 0);
        for (int i = 0; i < N_NODES; i++)
                if (i != b)
                        assert_int_equal(
                            node_run(i, "CLUSTER SETSLOT %u NODE %s", slot, nodes[b].id), 0);
        for (int i = 0; i < N_NODES; i++)
                assert_int_equal(slot_owner(i, slot), b);
}

/* --- the cluster connection under test ------------------------------------------- */

typedef struct {
        Redis *r, *r2; /* r2: a map still stale after r has followed a MOVED */
} Fixture;

/* A cluster connection to the three nodes, connected (the slot map read).
 * NULL with the reason on stderr. Caller frees with redis_free(). */
static Redis *cluster_open(void)
{
        char url[64], seeds[64], err[256];
        snprintf(url, sizeof(url), "redis://127.0.0.1:%d", nodes[0].port);
        snprintf(seeds, sizeof(seeds), "127.0.0.1:%d,127.0.0.1:%d", nodes[1].port, nodes[2].port);
        Redis *r = redis_new(url, NULL, 1000, 5000, err, sizeof(err));
        if (!r || redis_set_cluster(r, seeds, err, sizeof(err)) < 0) {
                fprintf(stderr, "# %s\n", err);
                return redis_free(r);
        }
        if (redis_connect(r) < 0) {
                fprintf(stderr, "# connect: %s\n", redis_errstr(r));
                return redis_free(r);
        }
        return r;
}

static int setup(void **state)
{
        Fixture *f = calloc(1, sizeof(Fixture));
        if (!f)
                return -1;
        *state = f;
        f->r = cluster_open();
        f->r2 = cluster_open();
        return f->r && f->r2 ? 0 : -1;
}

static int teardown(void **state)
{
        Fixture *f = *state;
        if (!f)
                return 0;
        redis_free(f->r);
        redis_free(f->r2);
        free(f);
        return 0;
}

/* Asserts that rep, the reply of a command through cluster connection r,
 * is a string or status equal to want; frees it. */
static void assert_reply(Redis *r, redisReply *rep, const char *want)
{
        if (!rep)
                fail_msg("NULL reply, expected '%s' (%s)", want, redis_errstr(r));
        if (rep->type != REDIS_REPLY_STRING && rep->type != REDIS_REPLY_STATUS)
                fail_msg("reply of type %d '%s', expected '%s'", rep->type,
                         rep->type == REDIS_REPLY_ERROR ? rep->str : "", want);
        assert_string_equal(rep->str, want);
        freeReplyObject(rep);
}

/* The next pipelined reply of r, asserted as by assert_reply(). */
static void assert_next_reply(Redis *r, const char *want)
{
        redisReply *rep = NULL;
        if (redis_get_reply(r, &rep) < 0)
                fail_msg("redis_get_reply: %s, expected '%s'", redis_errstr(r), want);
        assert_reply(r, rep, want);
}

/* How many calls of command (lower case) node i refused so far: a MOVED,
 * ASK or TRYAGAIN counts as rejected_calls in INFO commandstats. This
 * tells that a redirection happened, and how many times. */
static long long rejected_calls(int i, const char *command)
{
        char stat[64];
        snprintf(stat, sizeof(stat), "cmdstat_%s:", command);
        redisReply *rep = node_cmd(i, "INFO commandstats");
        assert_non_null(rep);
        assert_int_equal(rep->type, REDIS_REPLY_STRING);
        long long n = 0;
        const char *p = strstr(rep->str, stat);
        const char *eol = p ? strchr(p, '\n') : NULL;
        const char *q = p ? strstr(p, "rejected_calls=") : NULL;
        if (q && (!eol || q < eol))
                n = strtoll(q + strlen("rejected_calls="), NULL, 10);
        freeReplyObject(rep);
        return n;
}

static void append(Redis *r, const char *a0, const char *a1, const char *a2)
{
        const char *argv[3] = {a0, a1, a2};
        redis_append(r, a2 ? 3 : 2, argv, NULL);
}

/* --- tests ---------------------------------------------------------------------- */

/* 200 keys of different hash tags, pipelined: each goes straight to the
 * master that owns its slot (as the nodes compute it; none is redirected),
 * every master gets some, and the replies of a pipeline spread over three
 * connections come back in the order of the commands. */
static void test_routing(void **state)
{
        Fixture *f = *state;
        enum { N = 200 };
        char keys[N][32], vals[N][32];
        long long rejected[N_NODES];
        for (int j = 0; j < N_NODES; j++)
                rejected[j] = rejected_calls(j, "set") + rejected_calls(j, "get");
        for (int i = 0; i < N; i++) {
                snprintf(keys[i], sizeof(keys[i]), "{route%d}k", i);
                snprintf(vals[i], sizeof(vals[i]), "v%d", i);
                append(f->r, "SET", keys[i], vals[i]);
        }
        for (int i = 0; i < N; i++)
                assert_next_reply(f->r, "OK");
        for (int i = 0; i < N; i++)
                append(f->r, "GET", keys[i], NULL);
        for (int i = 0; i < N; i++)
                assert_next_reply(f->r, vals[i]);

        int per_node[N_NODES] = {0};
        for (int i = 0; i < N; i++) {
                unsigned slot = keyslot(keys[i]);
                assert_int_equal(cluster_key_slot(keys[i], strlen(keys[i])), slot);
                int owner = slot_owner(0, slot);
                assert_true(owner >= 0);
                assert_node_value(owner, keys[i], vals[i]);
                for (int j = 0; j < N_NODES; j++)
                        if (j != owner)
                                assert_false(node_holds(j, keys[i]));
                per_node[owner]++;
        }
        for (int j = 0; j < N_NODES; j++)
                if (per_node[j] == 0)
                        fail_msg("node %d got none of %d keys", j, N);
        /* Each command went to its owner at once: a MOVED followed would
         * land the keys right as well, but a node would have refused it. */
        for (int j = 0; j < N_NODES; j++)
                assert_int_equal(rejected_calls(j, "set") + rejected_calls(j, "get") - rejected[j],
                                 0);
        assert_true(redis_connected(f->r));
}

/* A slot moves from a to b after both cluster connections read the map:
 * a answers MOVED, which the connection follows (synchronous on r,
 * pipelined on r2, whose map is still stale when the batch is queued). */
static void test_moved(void **state)
{
        Fixture *f = *state;
        const char *key = "{moved}k", *other = "{moved}n", *elsewhere = "{moved-not}k";
        assert_reply(f->r, redis_command(f->r, "SET %s %s", key, "before"), "OK");
        assert_reply(f->r, redis_command(f->r, "SET %s %s", elsewhere, "e"), "OK");
        unsigned slot = keyslot(key);
        assert_int_not_equal(keyslot(elsewhere), slot);
        int a = slot_owner(0, slot), b = (a + 1) % N_NODES;
        assert_true(a >= 0);
        assert_node_value(a, key, "before");

        slot_migrating(slot, a, b);
        migrate_key(a, b, key);
        slot_assign(slot, b);
        /* The connections' maps still say a, and a now says MOVED. */
        assert_node_redirects(a, key, "MOVED");

        long long gets = rejected_calls(a, "get"), sets = rejected_calls(a, "set");
        assert_reply(f->r, redis_command(f->r, "GET %s", key), "before");
        assert_true(redis_connected(f->r));
        assert_int_equal(rejected_calls(a, "get") - gets, 1);
        /* After the MOVED, r reads the map again and goes to b at once. */
        assert_reply(f->r, redis_command(f->r, "GET %s", key), "before");
        assert_int_equal(rejected_calls(a, "get") - gets, 1);

        /* r2 queues the whole batch by its stale map, the slot's commands
         * to a; each is answered MOVED and sent again to b while the
         * replies keep the order of the commands. */
        append(f->r2, "SET", key, "after");
        append(f->r2, "GET", elsewhere, NULL);
        append(f->r2, "SET", other, "new");
        append(f->r2, "GET", key, NULL);
        append(f->r2, "GET", other, NULL);
        assert_next_reply(f->r2, "OK");
        assert_next_reply(f->r2, "e");
        assert_next_reply(f->r2, "OK");
        assert_next_reply(f->r2, "after");
        assert_next_reply(f->r2, "new");
        assert_true(redis_connected(f->r2));
        assert_int_equal(rejected_calls(a, "set") - sets, 2);
        assert_int_equal(rejected_calls(a, "get") - gets, 1 + 2);

        assert_true(node_holds(b, key));
        assert_false(node_holds(a, key));
        assert_node_value(b, key, "after");
        assert_node_value(b, other, "new");
        assert_false(node_holds(a, other));
}

/* Half a slot migrated from a to b: a answers ASK for the keys it no longer
 * has, and b serves them only after ASKING (without, it answers MOVED back
 * to a). A new key of the slot is created where Redis puts it: on b. */
static void test_ask(void **state)
{
        Fixture *f = *state;
        const char *keys[] = {"{ask}1", "{ask}2", "{ask}3", "{ask}4"};
        const char *vals[] = {"v1", "v2", "v3", "v4"};
        for (int i = 0; i < 4; i++)
                assert_reply(f->r, redis_command(f->r, "SET %s %s", keys[i], vals[i]), "OK");
        unsigned slot = keyslot(keys[0]);
        int a = slot_owner(0, slot), b = (a + 2) % N_NODES;
        assert_true(a >= 0);

        slot_migrating(slot, a, b);
        migrate_key(a, b, keys[0]);
        migrate_key(a, b, keys[1]);
        assert_node_redirects(a, keys[0], "ASK");
        assert_node_redirects(b, keys[0], "MOVED");
        assert_node_value(a, keys[2], "v3");

        assert_reply(f->r, redis_command(f->r, "GET %s", keys[0]), "v1");
        assert_reply(f->r, redis_command(f->r, "GET %s", keys[2]), "v3");
        append(f->r, "GET", keys[1], NULL);
        append(f->r, "GET", keys[3], NULL);
        append(f->r, "GET", keys[0], NULL);
        assert_next_reply(f->r, "v2");
        assert_next_reply(f->r, "v4");
        assert_next_reply(f->r, "v1");
        /* An ASK changes no map: the slot is still a's. */
        assert_int_equal(slot_owner(a, slot), a);

        assert_reply(f->r, redis_command(f->r, "SET %s %s", "{ask}new", "n"), "OK");
        assert_true(node_holds(b, "{ask}new"));
        assert_false(node_holds(a, "{ask}new"));
        assert_true(redis_connected(f->r));

        /* Finish the move, so that later tests see a stable cluster. */
        migrate_key(a, b, keys[2]);
        migrate_key(a, b, keys[3]);
        slot_assign(slot, b);
        assert_reply(f->r, redis_command(f->r, "GET %s", keys[3]), "v4");
        assert_node_value(b, "{ask}new", "n");
}

/* The EVAL of the TRYAGAIN test: both keys, or an error. */
static const char tryagain_script[] =
    "return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}";

/* Finishes the TRYAGAIN test's migration in a child process, 150 ms in,
 * through the plain connections (the parent leaves them alone until it
 * has reaped the child). */
static pid_t finish_later(unsigned slot, int a, int b, const char *key)
{
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid > 0)
                return pid;
        sleep_ms(150);
        int ret = node_run(a, "MIGRATE 127.0.0.1 %d %s 0 5000 KEYS %s", nodes[b].port, "", key);
        /* b first, as slot_assign() does (no cmocka assert in a child). */
        if (ret == 0)
                ret = node_run(b, "CLUSTER SETSLOT %u NODE %s", slot, nodes[b].id);
        for (int i = 0; i < N_NODES && ret == 0; i++)
                if (i != b)
                        ret = node_run(i, "CLUSTER SETSLOT %u NODE %s", slot, nodes[b].id);
        _exit(ret == 0 ? 0 : 1);
}

/* An EVAL of two keys of a slot being migrated, one still on a and one
 * on b already: a answers TRYAGAIN. Asserted:
 * 1. while the split lasts, the connection retries 16 times 50 ms apart
 *    (a counts 17 rejected EVALs) and then fails cleanly: NULL, a reason
 *    naming the redirections, every connection dropped;
 * 2. when the migration ends 150 ms into the retries (a child process
 *    moves the last key and assigns the slot), the same EVAL returns both
 *    values. The 650 ms left of the retry budget is the margin. */
static void test_tryagain(void **state)
{
        Fixture *f = *state;
        const char *ka = "{try}a", *kb = "{try}b";
        assert_reply(f->r, redis_command(f->r, "SET %s %s", ka, "A"), "OK");
        assert_reply(f->r, redis_command(f->r, "SET %s %s", kb, "B"), "OK");
        unsigned slot = keyslot(ka);
        int a = slot_owner(0, slot), b = (a + 1) % N_NODES;
        assert_true(a >= 0);
        slot_migrating(slot, a, b);
        migrate_key(a, b, kb);

        redisReply *rep = node_cmd(a, "EVAL %s 2 %s %s", tryagain_script, ka, kb);
        assert_non_null(rep);
        assert_int_equal(rep->type, REDIS_REPLY_ERROR);
        assert_int_equal(strncmp(rep->str, "TRYAGAIN ", 9), 0);
        freeReplyObject(rep);

        long long before = rejected_calls(a, "eval");
        int64_t t0 = now_ms();
        rep = redis_command(f->r, "EVAL %s 2 %s %s", tryagain_script, ka, kb);
        int64_t took = now_ms() - t0;
        if (rep)
                fail_msg("EVAL during the split: type %d '%s', expected NULL", rep->type,
                         rep->type == REDIS_REPLY_ERROR ? rep->str : "");
        assert_non_null(strstr(redis_errstr(f->r), "redirections"));
        assert_false(redis_connected(f->r));
        assert_true(took >= MAX_REDIRECTS * TRYAGAIN_SLEEP_MS);
        assert_int_equal(rejected_calls(a, "eval") - before, 1 + MAX_REDIRECTS);

        assert_int_equal(redis_connect(f->r), 0);
        pid_t child = finish_later(slot, a, b, ka);
        rep = redis_command(f->r, "EVAL %s 2 %s %s", tryagain_script, ka, kb);
        int status = -1;
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (!rep)
                fail_msg("EVAL while the migration ends: NULL (%s)", redis_errstr(f->r));
        assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
        assert_int_equal(rep->elements, 2);
        assert_string_equal(rep->element[0]->str, "A");
        assert_string_equal(rep->element[1]->str, "B");
        freeReplyObject(rep);
        assert_true(redis_connected(f->r));
        for (int i = 0; i < N_NODES; i++)
                assert_int_equal(slot_owner(i, slot), b);
        assert_true(node_holds(b, ka) && node_holds(b, kb));
        assert_false(node_holds(a, ka) || node_holds(a, kb));
}

/* SCRIPT LOAD through the cluster connection reaches every master, EVALSHA
 * then runs on whichever master a key routes to, and a reconnect loads
 * the script again on masters that lost it (SCRIPT FLUSH here; a
 * restarted master in real life). */
static void test_script_load(void **state)
{
        Fixture *f = *state;
        static const char body[] = "redis.call('SET', KEYS[1], ARGV[1]) return ARGV[1]";
        for (int i = 0; i < N_NODES; i++)
                assert_int_equal(node_run(i, "SCRIPT FLUSH"), 0);
        redisReply *rep = redis_command(f->r, "SCRIPT LOAD %s", body);
        assert_non_null(rep);
        assert_int_equal(rep->type, REDIS_REPLY_STRING);
        assert_int_equal(rep->len, 40);
        char sha[41];
        snprintf(sha, sizeof(sha), "%s", rep->str);
        freeReplyObject(rep);

        for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < N_NODES; i++) {
                        rep = node_cmd(i, "SCRIPT EXISTS %s", sha);
                        assert_non_null(rep);
                        assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
                        if (rep->element[0]->integer != 1)
                                fail_msg("pass %d: node %d does not have the script", pass, i);
                        freeReplyObject(rep);
                }
                for (int i = 0; i < N_NODES; i++) {
                        char key[32], val[16];
                        key_on(i, "script", key, sizeof(key));
                        snprintf(val, sizeof(val), "p%dn%d", pass, i);
                        assert_reply(f->r, redis_command(f->r, "EVALSHA %s 1 %s %s", sha, key, val),
                                     val);
                        assert_node_value(i, key, val);
                }
                for (int i = 0; i < N_NODES; i++)
                        assert_int_equal(node_run(i, "SCRIPT FLUSH"), 0);
                assert_int_equal(redis_connect(f->r), 0);
        }
}

/* A script Redis refuses (a syntax error): SCRIPT LOAD through the cluster
 * connection returns Redis's error, and the connection keeps working,
 * reconnects included: a refused script must not be loaded again on
 * every new link. */
static void test_script_load_refused(void **state)
{
        Fixture *f = *state;
        redisReply *rep = redis_command(f->r, "SCRIPT LOAD %s", "this is not lua(");
        assert_non_null(rep);
        assert_int_equal(rep->type, REDIS_REPLY_ERROR);
        freeReplyObject(rep);
        assert_true(redis_connected(f->r));
        assert_reply(f->r, redis_command(f->r, "SET %s %s", "{refused}k", "r"), "OK");
        redis_disconnect(f->r);
        if (redis_connect(f->r) < 0)
                fail_msg("reconnect after a refused SCRIPT LOAD: %s", redis_errstr(f->r));
        assert_reply(f->r, redis_command(f->r, "GET %s", "{refused}k"), "r");
}

/* No replica anywhere: WAIT 1 times out on every master, which
 * redis_wait_replicas() reports as -EAGAIN naming one; 0 replicas asks
 * nothing. */
static void test_wait_replicas(void **state)
{
        Fixture *f = *state;
        assert_reply(f->r, redis_command(f->r, "SET %s %s", "{wait}k", "w"), "OK");
        assert_int_equal(redis_wait_replicas(f->r, "t", 0, 100), 0);
        int64_t t0 = now_ms();
        assert_int_equal(redis_wait_replicas(f->r, "t", 1, 100), -EAGAIN);
        assert_true(now_ms() - t0 >= 100);
        const char *why = redis_errstr(f->r);
        if (!strstr(why, "0 of 1 replicas"))
                fail_msg("unexpected reason: '%s'", why);
        /* Every master is asked (after a probe write of its own): the
         * message names the first that fell short. */
        bool named = false;
        for (size_t k = 0; k < N_NODES; k++) {
                char at[48];
                snprintf(at, sizeof(at), "WAIT at 127.0.0.1:%d:", nodes[k].port);
                named = named || strstr(why, at);
        }
        assert_true(named);
        /* The probe keys: one per master, each on its owner. */
        for (int k = 0; k < N_NODES; k++) {
                redisReply *rep = node_cmd(k, "KEYS t:wait:*");
                assert_non_null(rep);
                assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
                assert_int_equal(rep->elements, 1);
                freeReplyObject(rep);
        }
        assert_true(redis_connected(f->r));
        /* The write stays unacknowledged: asked again, the same answer. */
        assert_int_equal(redis_wait_replicas(f->r, "t", 1, 50), -EAGAIN);
}

/* The masters for SCAN: one per node, each reached once. */
static void test_nodes(void **state)
{
        Fixture *f = *state;
        assert_int_equal(redis_node_count(f->r), N_NODES);
        bool seen[N_NODES] = {false};
        for (size_t k = 0; k < N_NODES; k++) {
                const char *argv[2] = {"CLUSTER", "MYID"};
                redisReply *rep = redis_command_node(f->r, k, 2, argv, NULL);
                assert_non_null(rep);
                assert_int_equal(rep->type, REDIS_REPLY_STRING);
                int i = -1;
                for (int j = 0; j < N_NODES; j++)
                        if (strcmp(nodes[j].id, rep->str) == 0)
                                i = j;
                freeReplyObject(rep);
                assert_true(i >= 0);
                assert_false(seen[i]);
                seen[i] = true;
                /* SCAN on it sees that node's keys: its DBSIZE of them. */
                const char *dbsize[1] = {"DBSIZE"};
                rep = redis_command_node(f->r, k, 1, dbsize, NULL);
                assert_non_null(rep);
                redisReply *direct = node_cmd(i, "DBSIZE");
                assert_non_null(direct);
                assert_int_equal(rep->integer, direct->integer);
                freeReplyObject(direct);
                freeReplyObject(rep);
        }
        assert_int_equal(redis_node_count(f->r), N_NODES);
}

/* A slot unassigned on every node: the cluster turns fail, a command reads
 * as CLUSTERDOWN, which drops every connection; a reconnect refuses a map
 * with a hole. Then the slot is given back and the connection works. */
static void test_clusterdown(void **state)
{
        Fixture *f = *state;
        const char *key = "{down}k";
        assert_reply(f->r, redis_command(f->r, "SET %s %s", key, "d"), "OK");
        unsigned slot = keyslot(key);
        int a = slot_owner(0, slot);
        assert_true(a >= 0);
        /* DELSLOTS drops the owner's claim, not the key: it stays on a. */
        for (int i = 0; i < N_NODES; i++)
                assert_int_equal(node_run((a + i) % N_NODES, "CLUSTER DELSLOTS %u", slot), 0);
        assert_int_equal(wait_state("fail", 5000), 0);

        redisReply *rep = redis_command(f->r, "GET %s", key);
        if (rep)
                fail_msg("GET on a failed cluster: type %d '%s', expected NULL", rep->type,
                         rep->type == REDIS_REPLY_ERROR ? rep->str : "");
        assert_false(redis_connected(f->r));
        const char *why = redis_errstr(f->r);
        if (!strstr(why, "cluster is down") || !strstr(why, "CLUSTERDOWN"))
                fail_msg("unexpected reason: '%s'", why);
        assert_int_equal(redis_connect(f->r), -EIO);
        assert_false(redis_connected(f->r));
        if (!strstr(redis_errstr(f->r), "16383 of 16384"))
                fail_msg("unexpected reason: '%s'", redis_errstr(f->r));

        assert_int_equal(node_run(a, "CLUSTER ADDSLOTS %u", slot), 0);
        for (int i = 0; i < N_NODES; i++)
                if (i != a)
                        assert_int_equal(
                            node_run(i, "CLUSTER SETSLOT %u NODE %s", slot, nodes[a].id), 0);
        assert_int_equal(wait_state("ok", 10000), 0);
        assert_int_equal(redis_connect(f->r), 0);
        assert_reply(f->r, redis_command(f->r, "GET %s", key), "d");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_routing, setup, teardown),
            cmocka_unit_test_setup_teardown(test_moved, setup, teardown),
            cmocka_unit_test_setup_teardown(test_ask, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tryagain, setup, teardown),
            cmocka_unit_test_setup_teardown(test_script_load, setup, teardown),
            cmocka_unit_test_setup_teardown(test_script_load_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(test_wait_replicas, setup, teardown),
            cmocka_unit_test_setup_teardown(test_nodes, setup, teardown),
            /* Last: it breaks the cluster (and mends it). */
            cmocka_unit_test_setup_teardown(test_clusterdown, setup, teardown),
        };
        return cmocka_run_group_tests(tests, nodes_start, nodes_stop);
}
