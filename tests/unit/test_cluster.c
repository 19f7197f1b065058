/* Redis Cluster routing (cluster.c): the spec's CRC16 and hash tag examples,
 * slots checked against a real server, the key of each kind of command, the
 * redirections as Redis sends them, and the slot map read from CLUSTER SLOTS
 * replies fed as RESP bytes to hiredis's own reader. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>
#include "cluster.h"
#include "macro.h"

/* --- replies from RESP bytes ---------------------------------------------------- */

static redisReply *resp(const char *bytes, size_t len)
{
        redisReader *rd = redisReaderCreate();
        assert_non_null(rd);
        assert_int_equal(redisReaderFeed(rd, bytes, len), REDIS_OK);
        void *rep = NULL;
        assert_int_equal(redisReaderGetReply(rd, &rep), REDIS_OK);
        assert_non_null(rep);
        /* One whole reply, nothing left over: the fixture is well formed. */
        void *more = NULL;
        assert_int_equal(redisReaderGetReply(rd, &more), REDIS_OK);
        assert_null(more);
        redisReaderFree(rd);
        return rep;
}

typedef struct {
        char buf[16384];
        size_t len;
} Out;

_printf_(2, 3) static void put(Out *o, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, sizeof(o->buf) - o->len, fmt, ap);
        va_end(ap);
        assert_true(n >= 0 && (size_t)n < sizeof(o->buf) - o->len);
        o->len += (size_t)n;
}

/* A Redis 7 node entry: [host, port, id, metadata]; host NULL sends nil. */
static void put_node(Out *o, const char *host, int port, const char *id)
{
        put(o, "*4\r\n");
        if (host)
                put(o, "$%zu\r\n%s\r\n", strlen(host), host);
        else
                put(o, "$-1\r\n");
        put(o, ":%d\r\n$%zu\r\n%s\r\n*0\r\n", port, strlen(id), id);
}

static redisReply *out_reply(const Out *o)
{
        return resp(o->buf, o->len);
}

static redisReply *error_reply(const char *text)
{
        char b[512];
        int n = snprintf(b, sizeof(b), "-%s\r\n", text);
        assert_true(n > 0 && (size_t)n < sizeof(b));
        redisReply *rep = resp(b, (size_t)n);
        assert_int_equal(rep->type, REDIS_REPLY_ERROR);
        return rep;
}

/* --- slots -------------------------------------------------------------------- */

static void test_crc16(void **state)
{
        (void)state;
        /* The spec's check value for XMODEM. */
        assert_int_equal(cluster_crc16("123456789", 9), 0x31C3);
        assert_int_equal(cluster_crc16("", 0), 0);
        /* Only len bytes count. */
        assert_int_equal(cluster_crc16("123456789xyz", 9), 0x31C3);
}

static unsigned slot_of(const char *key)
{
        return cluster_key_slot(key, strlen(key));
}

static void test_key_slot(void **state)
{
        (void)state;
        /* Every figure checked with CLUSTER KEYSLOT on redis-server 7.0.15
         * started with --cluster-enabled yes. */
        static const struct {
                const char *key;
                unsigned slot;
        } known[] = {
            {"foo", 12182},
            {"bar", 5061},
            {"hello", 866},
            {"somekey", 11058},
            {"123456789", 12739}, /* 0x31C3 & 0x3FFF */
            {"foo{hash_tag}", 2515},
            {"{user1000}.following", 3443},
            {"{user1000}.followers", 3443},
            {"foo{}{bar}", 8363},
            {"foo{{bar}}", 4015},
            {"foo{bar}{zap}", 5061},
            {"{bar", 4015},
            {"{}", 15257},
            {"{", 4092},
            {"}", 12090},
            {"a{b", 13340},
            {"t:{H1}:h", 8727},
            {"", 0},
        };
        for (size_t i = 0; i < ELEMENTSOF(known); i++) {
                unsigned got = slot_of(known[i].key);
                if (got != known[i].slot)
                        fail_msg("slot of \"%s\": %u, want %u", known[i].key, got, known[i].slot);
        }

        /* The spec's hash tag examples, as relations. */
        assert_int_equal(slot_of("{user1000}.following"), slot_of("{user1000}.followers"));
        assert_int_equal(slot_of("foo{}{bar}"),
                         cluster_crc16("foo{}{bar}", strlen("foo{}{bar}")) & 0x3FFF);
        assert_int_equal(slot_of("foo{{bar}}"), slot_of("{bar"));
        assert_int_equal(slot_of("foo{bar}{zap}"), slot_of("bar"));
        assert_int_not_equal(slot_of("foo{bar}{zap}"), slot_of("zap"));

        /* Keys are bytes: a NUL does not end the key, and only len counts. */
        assert_int_equal(cluster_key_slot("x\0{bar}", 7), slot_of("bar"));
        assert_int_equal(cluster_key_slot("foo{bar}", 3), slot_of("foo"));
        /* A '}' beyond len closes nothing. */
        assert_int_equal(cluster_key_slot("a{b}", 3), slot_of("a{b"));
}

/* --- command keys --------------------------------------------------------------- */

static int key_of(const char *line)
{
        char copy[256];
        const char *argv[16];
        int argc = 0;
        snprintf(copy, sizeof(copy), "%s", line);
        for (char *save = NULL, *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
                argv[argc++] = t;
        return cluster_command_key(argc, argv, NULL);
}

static void test_command_key(void **state)
{
        (void)state;
        static const struct {
                const char *line;
                int key;
        } cases[] = {
            {"GET h:1", 1},
            {"SET h:1 v EX 10", 1},
            {"get h:1", 1},
            {"set h:1 v", 1},
            {"HGETALL h:1", 1},
            {"GET", -1},
            {"EVALSHA 0123abcd 1 h:1 arg", 3},
            {"EVALSHA 0123abcd 2 h:1 h:2", 3},
            {"evalsha 0123abcd 1 h:1", 3},
            {"EVALSHA 0123abcd 0 arg", -1},
            {"EVALSHA 0123abcd 0", -1},
            {"EVAL script", -1},
            {"EVAL script 1 h:1", 3},
            {"eval script 0", -1},
            /* A numkeys no server accepts is no key. */
            {"EVAL script x h:1", -1},
            {"EVAL script -1 h:1", -1},
            {"EVAL script 1", -1},
            {"FCALL f 1 h:1", 3},
            {"PING", -1},
            {"ping hello", -1},
            {"SCRIPT LOAD return", -1},
            {"script load return", -1},
            {"INFO keyspace", -1},
            {"SCAN 0 MATCH h:*", -1},
            {"MULTI", -1},
            {"EXEC", -1},
            {"WAIT 1 100", -1},
            {"CLUSTER SLOTS", -1},
            {"ASKING", -1},
            {"READONLY", -1},
            {"AUTH hearth secret", -1},
            {"SELECT 0", -1},
            {"DBSIZE", -1},
            {"PUBLISH ch msg", -1},
            {"OBJECT ENCODING h:1", 2},
            {"MEMORY STATS", -1},
            {"BITOP AND dst a b", 2},
            {"ZUNION 2 a b", 2},
            {"BLMPOP 0 1 l LEFT", 3},
            {"XREAD COUNT 2 STREAMS s1 s2 0 0", 4},
            {"XREADGROUP GROUP streams c STREAMS s1 >", 5},
            {"XREAD COUNT 2", -1},
            /* The prefix of a listed name is no match. */
            {"EVALX a 1 b", 1},
            {"PINGX a", 1},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int got = key_of(cases[i].line);
                if (got != cases[i].key)
                        fail_msg("key of \"%s\": %d, want %d", cases[i].line, got, cases[i].key);
        }

        /* With lengths: the name is the first lens[0] bytes. */
        const char *argv[] = {"EVALSHAxx", "sha", "1xx", "h:1"};
        const size_t lens[] = {7, 3, 1, 3};
        assert_int_equal(cluster_command_key(4, argv, lens), 3);
        const size_t lens0[] = {9, 3, 1, 3};
        assert_int_equal(cluster_command_key(4, argv, lens0), 1);
        assert_int_equal(cluster_command_key(0, argv, lens), -1);
}

/* --- redirections --------------------------------------------------------------- */

static void test_classify(void **state)
{
        (void)state;
        static const struct {
                const char *error;
                ClusterReplyKind kind;
                unsigned slot;
                const char *host;
                int port;
        } cases[] = {
            {"MOVED 3999 127.0.0.1:6381", CLUSTER_REPLY_MOVED, 3999, "127.0.0.1", 6381},
            {"ASK 3999 127.0.0.1:6381", CLUSTER_REPLY_ASK, 3999, "127.0.0.1", 6381},
            {"MOVED 12182 redis-2.example:6379", CLUSTER_REPLY_MOVED, 12182, "redis-2.example",
             6379},
            {"MOVED 1 ::1:7000", CLUSTER_REPLY_MOVED, 1, "::1", 7000},
            {"ASK 16383 fe80::1:2:65535", CLUSTER_REPLY_ASK, 16383, "fe80::1:2", 65535},
            {"MOVED 0 :6381", CLUSTER_REPLY_MOVED, 0, "", 6381},
            {"MOVED 3999 ?:6381", CLUSTER_REPLY_MOVED, 3999, "", 6381},
            {"TRYAGAIN Multiple keys request during rehashing of slot", CLUSTER_REPLY_TRYAGAIN, 0,
             "", 0},
            {"TRYAGAIN", CLUSTER_REPLY_TRYAGAIN, 0, "", 0},
            {"CLUSTERDOWN Hash slot not served", CLUSTER_REPLY_CLUSTERDOWN, 0, "", 0},
            {"CLUSTERDOWN The cluster is down", CLUSTER_REPLY_CLUSTERDOWN, 0, "", 0},
            {"ERR unknown command 'FOO'", CLUSTER_REPLY_OK, 0, "", 0},
            {"NOSCRIPT No matching script", CLUSTER_REPLY_OK, 0, "", 0},
            {"CROSSSLOT Keys in request don't hash to the same slot", CLUSTER_REPLY_OK, 0, "", 0},
            {"MOVEDX 1 a:1", CLUSTER_REPLY_OK, 0, "", 0},
            {"moved 1 a:1", CLUSTER_REPLY_OK, 0, "", 0},
            /* Malformed: the caller refreshes its map rather than follow. */
            {"MOVED 16384 127.0.0.1:6381", CLUSTER_REPLY_CLUSTERDOWN, 0, "", 0},
            {"MOVED 99999999999999999999 a:1", CLUSTER_REPLY_CLUSTERDOWN, 0, "", 0},
            {"MOVED -1 a:1", CLUSTER_REPLY_CLUSTERDOWN, 0, "", 0},
            {"MOVED x a:1", CLUSTER_REPLY_CLUSTERDOWN, 0, "", 0},
            {"MOVED 3999 127.0.0.1", CLUSTER_REPLY_CLUSTERDOWN, 0, "", 0},
            {"MOVED 3999 127.0.0.1:", CLUSTER_REPLY_CLUSTERDOWN, 0, "", 0},
            {"MOVED 3999 127.0.0.1:0", CLUSTER_REPLY_CLUSTERDOWN, 0, "", 0},
            {"MOVED 3999 127.0.0.1:65536", CLUSTER_REPLY_CLUSTERDOWN, 0, "", 0},
            {"MOVED 3999 127.0.0.1:63a", CLUSTER_REPLY_CLUSTERDOWN, 0, "", 0},
            {"MOVED 3999 127.0.0.1:6381 extra", CLUSTER_REPLY_CLUSTERDOWN, 0, "", 0},
            {"MOVED 3999", CLUSTER_REPLY_CLUSTERDOWN, 0, "", 0},
            {"MOVED", CLUSTER_REPLY_CLUSTERDOWN, 0, "", 0},
            {"ASK  3999 a:1", CLUSTER_REPLY_CLUSTERDOWN, 0, "", 0},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                redisReply *rep = error_reply(cases[i].error);
                ClusterRedirect r;
                memset(&r, 0x5a, sizeof(r));
                ClusterReplyKind kind = cluster_reply_classify(rep, &r);
                if (kind != cases[i].kind || r.kind != kind || r.slot != cases[i].slot ||
                    r.port != cases[i].port || !streq(r.host, cases[i].host))
                        fail_msg("\"%s\": kind %d slot %u %s:%d, want kind %d slot %u %s:%d",
                                 cases[i].error, kind, r.slot, r.host, r.port, cases[i].kind,
                                 cases[i].slot, cases[i].host, cases[i].port);
                freeReplyObject(rep);
        }

        /* A host of 255 bytes fits; 256 does not. */
        char text[400], host[300];
        memset(host, 'h', 256);
        host[255] = '\0';
        snprintf(text, sizeof(text), "ASK 7 %s:7000", host);
        redisReply *rep = error_reply(text);
        ClusterRedirect r;
        assert_int_equal(cluster_reply_classify(rep, &r), CLUSTER_REPLY_ASK);
        assert_string_equal(r.host, host);
        freeReplyObject(rep);
        host[255] = 'h';
        host[256] = '\0';
        snprintf(text, sizeof(text), "ASK 7 %s:7000", host);
        rep = error_reply(text);
        assert_int_equal(cluster_reply_classify(rep, &r), CLUSTER_REPLY_CLUSTERDOWN);
        assert_string_equal(r.host, "");
        freeReplyObject(rep);

        /* Not errors: a MOVED in a string or status is data, not a redirection. */
        assert_int_equal(cluster_reply_classify(NULL, &r), CLUSTER_REPLY_OK);
        assert_int_equal(r.kind, CLUSTER_REPLY_OK);
        static const char *plain[] = {
            "+OK\r\n", "+MOVED 1 a:1\r\n", "$11\r\nMOVED 1 a:1\r\n",
            ":1\r\n",  "$-1\r\n",          "*1\r\n-MOVED 1 a:1\r\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(plain); i++) {
                rep = resp(plain[i], strlen(plain[i]));
                assert_int_equal(cluster_reply_classify(rep, &r), CLUSTER_REPLY_OK);
                assert_int_equal(cluster_reply_classify(rep, NULL), CLUSTER_REPLY_OK);
                freeReplyObject(rep);
        }
        /* out may be NULL. */
        rep = error_reply("MOVED 5 a:1");
        assert_int_equal(cluster_reply_classify(rep, NULL), CLUSTER_REPLY_MOVED);
        freeReplyObject(rep);
}

/* --- the slot map ----------------------------------------------------------------- */

static ClusterMap *map_new(void)
{
        ClusterMap *m = malloc(sizeof(*m));
        assert_non_null(m);
        /* Garbage, so a test sees what from_slots / reset really set. */
        memset(m, 0x7b, sizeof(*m));
        return m;
}

/* Three masters, each with replicas; the second master's host is "", the
 * third's range is split in two around the second's. */
static void test_map_three_masters(void **state)
{
        (void)state;
        Out o = {0};
        put(&o, "*4\r\n");
        put(&o, "*4\r\n:0\r\n:5460\r\n");
        put_node(&o, "10.0.0.1", 7000, "aaaa");
        put_node(&o, "10.0.0.4", 7003, "dddd");
        put(&o, "*5\r\n:5461\r\n:10922\r\n");
        put_node(&o, "", 7001, "bbbb");
        put_node(&o, "10.0.0.5", 7004, "eeee");
        put_node(&o, "10.0.0.6", 7005, "ffff");
        put(&o, "*4\r\n:10923\r\n:16000\r\n");
        put_node(&o, "10.0.0.3", 7002, "cccc");
        put_node(&o, "10.0.0.7", 7006, "gggg");
        put(&o, "*3\r\n:16001\r\n:16383\r\n");
        put_node(&o, "10.0.0.3", 7002, "cccc");
        redisReply *rep = out_reply(&o);

        ClusterMap *m = map_new();
        char err[200] = "";
        assert_int_equal(cluster_map_from_slots(m, rep, "seed.example", err, sizeof(err)), 0);
        assert_string_equal(err, "");
        assert_int_equal(m->n_nodes, 3);
        assert_string_equal(m->nodes[0].host, "10.0.0.1");
        assert_int_equal(m->nodes[0].port, 7000);
        assert_string_equal(m->nodes[1].host, "seed.example");
        assert_int_equal(m->nodes[1].port, 7001);
        assert_string_equal(m->nodes[2].host, "10.0.0.3");
        assert_int_equal(m->nodes[2].port, 7002);
        assert_int_equal(cluster_map_covered(m), CLUSTER_SLOTS);

        static const struct {
                unsigned slot;
                int owner;
        } owners[] = {
            {0, 0},     {5460, 0},  {5461, 1},  {10922, 1}, {10923, 2},
            {16000, 2}, {16001, 2}, {16383, 2}, {866, 0}, /* hello */
            {12182, 2},                                   /* foo */
        };
        for (size_t i = 0; i < ELEMENTSOF(owners); i++)
                assert_int_equal(m->owner[owners[i].slot], owners[i].owner);
        /* The route of a key: its slot's master. */
        assert_string_equal(m->nodes[m->owner[slot_of("foo")]].host, "10.0.0.3");
        assert_int_equal(m->nodes[m->owner[slot_of("bar")]].port, 7000);
        assert_string_equal(m->nodes[m->owner[slot_of("foo{}{bar}")]].host, "seed.example");

        /* A MOVED to a master the map knows finds it; a new one joins. */
        assert_int_equal(cluster_map_node(m, "10.0.0.3", 7002), 2);
        assert_int_equal(cluster_map_node(m, "10.0.0.3", 7009), 3);
        assert_int_equal(m->n_nodes, 4);
        freeReplyObject(rep);
        free(m);
}

/* The shape redis-server 7.0 sends with cluster-preferred-endpoint-type
 * unknown-endpoint (captured, the port changed from 0): a nil host and the
 * metadata as a flat array. Also "?" for a hostname it does not have. */
static void test_map_unknown_endpoint(void **state)
{
        (void)state;
        static const char bytes[] = "*2\r\n"
                                    "*3\r\n:0\r\n:99\r\n*4\r\n$-1\r\n:7000\r\n"
                                    "$40\r\n3654b7bd4340f7091be44defad330e956a7ea7c2\r\n"
                                    "*2\r\n$2\r\nip\r\n$0\r\n\r\n"
                                    "*3\r\n:200\r\n:300\r\n*3\r\n$1\r\n?\r\n:7001\r\n"
                                    "$40\r\n0000000000000000000000000000000000000001\r\n";
        redisReply *rep = resp(bytes, sizeof(bytes) - 1);
        ClusterMap *m = map_new();
        char err[200] = "";
        assert_int_equal(cluster_map_from_slots(m, rep, "10.1.2.3", err, sizeof(err)), 0);
        assert_int_equal(m->n_nodes, 2);
        assert_string_equal(m->nodes[0].host, "10.1.2.3");
        assert_int_equal(m->nodes[0].port, 7000);
        assert_string_equal(m->nodes[1].host, "10.1.2.3");
        assert_int_equal(m->nodes[1].port, 7001);

        /* Partial coverage: 0-99 and 200-300, nothing else. */
        assert_int_equal(cluster_map_covered(m), 100 + 101);
        assert_int_equal(m->owner[0], 0);
        assert_int_equal(m->owner[99], 0);
        assert_int_equal(m->owner[100], -1);
        assert_int_equal(m->owner[199], -1);
        assert_int_equal(m->owner[200], 1);
        assert_int_equal(m->owner[300], 1);
        assert_int_equal(m->owner[301], -1);
        assert_int_equal(m->owner[16383], -1);

        /* Without a fallback the unknown endpoint is an error, not a node "". */
        assert_int_equal(cluster_map_from_slots(m, rep, NULL, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "unknown endpoint"));
        assert_int_equal(m->n_nodes, 0);
        assert_int_equal(cluster_map_covered(m), 0);
        freeReplyObject(rep);

        /* A cluster with no slot assigned yet: an empty map, no error. */
        rep = resp("*0\r\n", 4);
        assert_int_equal(cluster_map_from_slots(m, rep, NULL, err, sizeof(err)), 0);
        assert_int_equal(m->n_nodes, 0);
        assert_int_equal(cluster_map_covered(m), 0);
        freeReplyObject(rep);
        free(m);
}

/* A case of RESP bytes, the length from the literal: one case holds a NUL. */
/* clang-format off */
#define CASE(bytes, reason) {bytes, sizeof(bytes) - 1, reason}
/* clang-format on */

static void test_map_malformed(void **state)
{
        (void)state;
        static const struct {
                const char *bytes;
                size_t len;
                const char *reason;
        } cases[] = {
            CASE("-ERR This instance has cluster support disabled\r\n", "not an array"),
            CASE("$5\r\nslots\r\n", "not an array"),
            CASE("*1\r\n:1\r\n", "entry 1 is not"),
            CASE("*1\r\n*2\r\n:0\r\n:10\r\n", "entry 1 is not"),
            CASE("*1\r\n*3\r\n$1\r\n0\r\n:10\r\n*2\r\n$1\r\na\r\n:1\r\n", "entry 1 is not"),
            CASE("*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\na\r\n:1\r\n", "0-16384 is out of bounds"),
            CASE("*1\r\n*3\r\n:-1\r\n:5\r\n*2\r\n$1\r\na\r\n:1\r\n", "out of bounds"),
            CASE("*1\r\n*3\r\n:9\r\n:5\r\n*2\r\n$1\r\na\r\n:1\r\n", "9-5 is out of bounds"),
            CASE("*1\r\n*3\r\n:0\r\n:5\r\n$1\r\na\r\n", "master is not"),
            CASE("*1\r\n*3\r\n:0\r\n:5\r\n*1\r\n$1\r\na\r\n", "master is not"),
            CASE("*1\r\n*3\r\n:0\r\n:5\r\n*2\r\n:1\r\n:1\r\n", "master is not"),
            CASE("*1\r\n*3\r\n:0\r\n:5\r\n*2\r\n$1\r\na\r\n$4\r\n7000\r\n", "master is not"),
            CASE("*1\r\n*3\r\n:0\r\n:5\r\n*2\r\n$1\r\na\r\n:0\r\n", "port 0 is not"),
            CASE("*1\r\n*3\r\n:0\r\n:5\r\n*2\r\n$1\r\na\r\n:65536\r\n", "port 65536 is not"),
            CASE("*1\r\n*3\r\n:0\r\n:5\r\n*2\r\n$3\r\na\0b\r\n:1\r\n", "NUL"),
            /* A valid first entry, then an overlap: nothing of it stays. */
            CASE("*2\r\n*3\r\n:0\r\n:5\r\n*2\r\n$1\r\na\r\n:1\r\n"
                 "*3\r\n:5\r\n:9\r\n*2\r\n$1\r\nb\r\n:1\r\n",
                 "entry 2: slot 5 is in two ranges"),
        };
        ClusterMap *m = map_new();
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                redisReply *rep = resp(cases[i].bytes, cases[i].len);
                char err[200] = "";
                memset(m, 0x7b, sizeof(*m));
                int r = cluster_map_from_slots(m, rep, "seed", err, sizeof(err));
                if (r != -EINVAL || !strstr(err, cases[i].reason))
                        fail_msg("case %zu: %d \"%s\", want -EINVAL \"%s\"", i, r, err,
                                 cases[i].reason);
                assert_int_equal(m->n_nodes, 0);
                assert_int_equal(cluster_map_covered(m), 0);
                freeReplyObject(rep);
        }

        /* A host of 256 bytes does not fit. */
        Out o = {0};
        char host[257];
        memset(host, 'h', 256);
        host[256] = '\0';
        put(&o, "*1\r\n*3\r\n:0\r\n:5\r\n");
        put_node(&o, host, 7000, "x");
        redisReply *rep = out_reply(&o);
        char err[200] = "";
        assert_int_equal(cluster_map_from_slots(m, rep, "seed", err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "longer than 255 bytes"));
        freeReplyObject(rep);

        /* A NULL reply, and err may be NULL. */
        assert_int_equal(cluster_map_from_slots(m, NULL, "seed", NULL, 0), -EINVAL);
        free(m);
}

/* 64 masters fit; the 65th is refused, by the map and by the reader. */
static void test_map_full(void **state)
{
        (void)state;
        Out o = {0};
        put(&o, "*%d\r\n", CLUSTER_MAX_NODES + 1);
        for (int i = 0; i <= CLUSTER_MAX_NODES; i++) {
                put(&o, "*3\r\n:%d\r\n:%d\r\n", i * 10, i * 10 + 9);
                char host[32];
                snprintf(host, sizeof(host), "10.0.1.%d", i);
                put_node(&o, host, 7000, "id");
        }
        redisReply *rep = out_reply(&o);
        ClusterMap *m = map_new();
        char err[200] = "";
        assert_int_equal(cluster_map_from_slots(m, rep, "seed", err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "more than 64 masters"));
        assert_int_equal(cluster_map_covered(m), 0);

        /* One range fewer: every master fits. */
        rep->elements--;
        assert_int_equal(cluster_map_from_slots(m, rep, "seed", err, sizeof(err)), 0);
        rep->elements++;
        assert_int_equal(m->n_nodes, CLUSTER_MAX_NODES);
        assert_int_equal(cluster_map_covered(m), CLUSTER_MAX_NODES * 10);
        assert_int_equal(m->owner[639], 63);
        assert_int_equal(m->owner[640], -1);
        assert_int_equal(cluster_map_node(m, "10.0.1.63", 7000), 63);
        assert_int_equal(cluster_map_node(m, "10.0.1.64", 7000), -ENOSPC);
        assert_int_equal(m->n_nodes, CLUSTER_MAX_NODES);
        freeReplyObject(rep);

        cluster_map_reset(m);
        assert_int_equal(m->n_nodes, 0);
        assert_int_equal(cluster_map_covered(m), 0);
        assert_int_equal(cluster_map_node(m, "a", 1), 0);
        assert_int_equal(cluster_map_node(m, "a", 2), 1);
        assert_int_equal(cluster_map_node(m, "a", 1), 0);
        assert_int_equal(cluster_map_node(m, "a", 0), -EINVAL);
        assert_int_equal(cluster_map_node(m, "a", 65536), -EINVAL);
        assert_int_equal(cluster_map_node(m, NULL, 1), -EINVAL);
        char host[257];
        memset(host, 'h', 256);
        host[256] = '\0';
        assert_int_equal(cluster_map_node(m, host, 1), -EINVAL);
        host[255] = '\0';
        assert_int_equal(cluster_map_node(m, host, 1), 2);
        free(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_crc16),
            cmocka_unit_test(test_key_slot),
            cmocka_unit_test(test_command_key),
            cmocka_unit_test(test_classify),
            cmocka_unit_test(test_map_three_masters),
            cmocka_unit_test(test_map_unknown_endpoint),
            cmocka_unit_test(test_map_malformed),
            cmocka_unit_test(test_map_full),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
