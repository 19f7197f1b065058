/* Redis Cluster client routing: slots, command keys, redirections, the slot map (cluster.h). */
#include "cluster.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "macro.h"

/* --- slots ------------------------------------------------------------------ */

/* Bit by bit rather than the spec's 256-entry table: keys are a few dozen
 * bytes, so the table would save well under a microsecond a command. */
uint16_t cluster_crc16(const char *buf, size_t len)
{
        uint16_t crc = 0;
        for (size_t i = 0; i < len; i++) {
                crc ^= (uint16_t)((unsigned char)buf[i] << 8);
                for (int bit = 0; bit < 8; bit++)
                        crc =
                            (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
        }
        return crc;
}

unsigned cluster_key_slot(const char *key, size_t len)
{
        const char *open = memchr(key, '{', len);
        if (open) {
                size_t from = (size_t)(open - key) + 1;
                const char *close = memchr(key + from, '}', len - from);
                /* "{}" is no tag: the spec hashes the whole key then, so that
                 * "foo{}{bar}" is not "bar"'s slot. */
                if (close && close > key + from)
                        return cluster_crc16(key + from, (size_t)(close - (key + from))) &
                               (CLUSTER_SLOTS - 1);
        }
        return cluster_crc16(key, len) & (CLUSTER_SLOTS - 1);
}

/* --- command keys ------------------------------------------------------------- */

/* Digits only (no sign, no space), at most max. */
static int parse_uint(const char *s, size_t len, unsigned long max, unsigned long *ret)
{
        unsigned long v = 0;
        if (len == 0)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned long)(s[i] - '0');
                if (v > max)
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

typedef enum {
        KEY_NONE,    /* the command has no key */
        KEY_AT,      /* argv[pos] */
        KEY_NUMKEYS, /* numkeys at argv[pos]; the first key follows it */
        KEY_STREAMS, /* the argument after STREAMS, searched from argv[pos] */
} KeyRule;

/* The commands whose key is not argv[1]. Any command missing here is routed
 * by argv[1], so a keyless command missing here would be sent to the node of
 * whatever its first argument hashes to: harmless (it runs anywhere), only
 * not spread. */
static const struct {
        const char *name;
        KeyRule rule;
        int pos;
} commands[] = {
    {"ACL", KEY_NONE, 0},
    {"ASKING", KEY_NONE, 0},
    {"AUTH", KEY_NONE, 0},
    {"BGREWRITEAOF", KEY_NONE, 0},
    {"BGSAVE", KEY_NONE, 0},
    {"BITOP", KEY_AT, 2},
    {"BLMPOP", KEY_NUMKEYS, 2},
    {"BZMPOP", KEY_NUMKEYS, 2},
    {"CLIENT", KEY_NONE, 0},
    {"CLUSTER", KEY_NONE, 0},
    {"COMMAND", KEY_NONE, 0},
    {"CONFIG", KEY_NONE, 0},
    {"DBSIZE", KEY_NONE, 0},
    {"DEBUG", KEY_NONE, 0},
    {"DISCARD", KEY_NONE, 0},
    {"ECHO", KEY_NONE, 0},
    {"EVAL", KEY_NUMKEYS, 2},
    {"EVAL_RO", KEY_NUMKEYS, 2},
    {"EVALSHA", KEY_NUMKEYS, 2},
    {"EVALSHA_RO", KEY_NUMKEYS, 2},
    {"EXEC", KEY_NONE, 0},
    {"FAILOVER", KEY_NONE, 0},
    {"FCALL", KEY_NUMKEYS, 2},
    {"FCALL_RO", KEY_NUMKEYS, 2},
    {"FLUSHALL", KEY_NONE, 0},
    {"FLUSHDB", KEY_NONE, 0},
    {"FUNCTION", KEY_NONE, 0},
    {"HELLO", KEY_NONE, 0},
    {"INFO", KEY_NONE, 0},
    {"KEYS", KEY_NONE, 0},
    {"LASTSAVE", KEY_NONE, 0},
    {"LATENCY", KEY_NONE, 0},
    {"LMPOP", KEY_NUMKEYS, 1},
    {"MEMORY", KEY_AT, 2},
    {"MODULE", KEY_NONE, 0},
    {"MONITOR", KEY_NONE, 0},
    {"MULTI", KEY_NONE, 0},
    {"OBJECT", KEY_AT, 2},
    {"PING", KEY_NONE, 0},
    {"PSUBSCRIBE", KEY_NONE, 0},
    /* Cluster-wide: every node forwards a PUBLISH, so its channel is no key. */
    {"PUBLISH", KEY_NONE, 0},
    {"PUBSUB", KEY_NONE, 0},
    {"PUNSUBSCRIBE", KEY_NONE, 0},
    {"QUIT", KEY_NONE, 0},
    {"RANDOMKEY", KEY_NONE, 0},
    {"READONLY", KEY_NONE, 0},
    {"READWRITE", KEY_NONE, 0},
    {"REPLICAOF", KEY_NONE, 0},
    {"RESET", KEY_NONE, 0},
    {"ROLE", KEY_NONE, 0},
    {"SAVE", KEY_NONE, 0},
    {"SCAN", KEY_NONE, 0},
    {"SCRIPT", KEY_NONE, 0},
    {"SELECT", KEY_NONE, 0},
    {"SHUTDOWN", KEY_NONE, 0},
    {"SINTERCARD", KEY_NUMKEYS, 1},
    {"SLAVEOF", KEY_NONE, 0},
    {"SLOWLOG", KEY_NONE, 0},
    {"SUBSCRIBE", KEY_NONE, 0},
    {"SWAPDB", KEY_NONE, 0},
    {"TIME", KEY_NONE, 0},
    {"UNSUBSCRIBE", KEY_NONE, 0},
    {"UNWATCH", KEY_NONE, 0},
    {"WAIT", KEY_NONE, 0},
    {"WAITAOF", KEY_NONE, 0},
    {"XGROUP", KEY_AT, 2},
    {"XINFO", KEY_AT, 2},
    {"XREAD", KEY_STREAMS, 1},
    /* After "GROUP <group> <consumer>", so a group named "streams" is no marker. */
    {"XREADGROUP", KEY_STREAMS, 4},
    {"ZDIFF", KEY_NUMKEYS, 1},
    {"ZINTER", KEY_NUMKEYS, 1},
    {"ZINTERCARD", KEY_NUMKEYS, 1},
    {"ZMPOP", KEY_NUMKEYS, 1},
    {"ZUNION", KEY_NUMKEYS, 1},
};

static size_t arg_len(const char **argv, const size_t *lens, int i)
{
        return lens ? lens[i] : strlen(argv[i]);
}

static bool arg_is(const char **argv, const size_t *lens, int i, const char *word)
{
        size_t n = strlen(word);
        return arg_len(argv, lens, i) == n && strncasecmp(argv[i], word, n) == 0;
}

int cluster_command_key(int argc, const char **argv, const size_t *lens)
{
        if (argc < 1)
                return -1;
        KeyRule rule = KEY_AT;
        int pos = 1;
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (arg_is(argv, lens, 0, commands[i].name)) {
                        rule = commands[i].rule;
                        pos = commands[i].pos;
                        break;
                }

        unsigned long numkeys;
        switch (rule) {
        case KEY_NONE:
                return -1;
        case KEY_AT:
                return pos < argc ? pos : -1;
        case KEY_NUMKEYS:
                /* numkeys 0 (EVALSHA of a script that takes no key) runs on
                 * any node; a bad numkeys is refused by any node as well. */
                if (pos + 1 >= argc)
                        return -1;
                if (parse_uint(argv[pos], arg_len(argv, lens, pos), INT_MAX, &numkeys) < 0)
                        return -1;
                return numkeys > 0 ? pos + 1 : -1;
        case KEY_STREAMS:
                for (int i = pos; i + 1 < argc; i++)
                        if (arg_is(argv, lens, i, "STREAMS"))
                                return i + 1;
                return -1;
        }
        return -1;
}

/* --- redirections ------------------------------------------------------------- */

static bool word_is(const char *s, size_t len, const char *word)
{
        size_t n = strlen(word);
        return len == n && memcmp(s, word, n) == 0;
}

/* "<slot> <host>:<port>", the rest of a MOVED or ASK. false when malformed. */
static bool parse_redirect(const char *s, size_t len, ClusterRedirect *r)
{
        const char *sp = memchr(s, ' ', len);
        unsigned long slot, port;
        if (!sp || parse_uint(s, (size_t)(sp - s), CLUSTER_SLOTS - 1, &slot) < 0)
                return false;
        const char *addr = sp + 1;
        size_t alen = len - (size_t)(addr - s);
        /* The last ':' ends the host: an IPv6 address is sent without brackets. */
        const char *colon = NULL;
        for (size_t i = alen; i > 0; i--)
                if (addr[i - 1] == ':') {
                        colon = addr + i - 1;
                        break;
                }
        if (!colon)
                return false;
        size_t hlen = (size_t)(colon - addr);
        const char *p = colon + 1;
        if (parse_uint(p, alen - hlen - 1, 65535, &port) < 0 || port == 0)
                return false;
        if (hlen >= sizeof(r->host) || memchr(addr, '\0', hlen))
                return false;
        /* "?" is how Redis 7 says it has no hostname to give: as unknown as "". */
        if (!word_is(addr, hlen, "?")) {
                memcpy(r->host, addr, hlen);
                r->host[hlen] = '\0';
        }
        r->slot = (unsigned)slot;
        r->port = (int)port;
        return true;
}

ClusterReplyKind cluster_reply_classify(const redisReply *rep, ClusterRedirect *out)
{
        ClusterRedirect r = {.kind = CLUSTER_REPLY_OK};
        if (rep && rep->type == REDIS_REPLY_ERROR && rep->str) {
                const char *s = rep->str;
                const char *sp = memchr(s, ' ', rep->len);
                size_t wlen = sp ? (size_t)(sp - s) : rep->len;
                const char *rest = sp ? sp + 1 : s + rep->len;
                size_t rlen = rep->len - (size_t)(rest - s);

                if (word_is(s, wlen, "MOVED") || word_is(s, wlen, "ASK")) {
                        if (parse_redirect(rest, rlen, &r))
                                r.kind = s[0] == 'M' ? CLUSTER_REPLY_MOVED : CLUSTER_REPLY_ASK;
                        else
                                r = (ClusterRedirect){.kind = CLUSTER_REPLY_CLUSTERDOWN};
                } else if (word_is(s, wlen, "TRYAGAIN"))
                        r.kind = CLUSTER_REPLY_TRYAGAIN;
                else if (word_is(s, wlen, "CLUSTERDOWN"))
                        r.kind = CLUSTER_REPLY_CLUSTERDOWN;
        }
        if (out)
                *out = r;
        return r.kind;
}

/* --- the slot map ------------------------------------------------------------- */

void cluster_map_reset(ClusterMap *map)
{
        map->n_nodes = 0;
        for (size_t s = 0; s < CLUSTER_SLOTS; s++)
                map->owner[s] = -1;
}

int cluster_map_node(ClusterMap *map, const char *host, int port)
{
        if (!host || strlen(host) >= sizeof(map->nodes[0].host) || port < 1 || port > 65535)
                return -EINVAL;
        for (size_t i = 0; i < map->n_nodes; i++)
                if (map->nodes[i].port == port && streq(map->nodes[i].host, host))
                        return (int)i;
        if (map->n_nodes >= CLUSTER_MAX_NODES)
                return -ENOSPC;
        ClusterNode *n = &map->nodes[map->n_nodes];
        snprintf(n->host, sizeof(n->host), "%s", host);
        n->port = port;
        return (int)map->n_nodes++;
}

size_t cluster_map_covered(const ClusterMap *map)
{
        size_t n = 0;
        for (size_t s = 0; s < CLUSTER_SLOTS; s++)
                n += map->owner[s] >= 0;
        return n;
}

_printf_(4, 5) static int map_fail(ClusterMap *map, char *err, size_t errlen, const char *fmt, ...)
{
        cluster_map_reset(map);
        if (err && errlen > 0) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(err, errlen, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

int cluster_map_from_slots(ClusterMap *map, const redisReply *rep, const char *fallback_host,
                           char *err, size_t errlen)
{
        cluster_map_reset(map);
        if (!rep || rep->type != REDIS_REPLY_ARRAY)
                return map_fail(map, err, errlen, "CLUSTER SLOTS: the reply is not an array");

        for (size_t i = 0; i < rep->elements; i++) {
                const redisReply *e = rep->element[i];
                if (!e || e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
                    e->element[0]->type != REDIS_REPLY_INTEGER ||
                    e->element[1]->type != REDIS_REPLY_INTEGER)
                        return map_fail(map, err, errlen,
                                        "CLUSTER SLOTS: entry %zu is not [start, end, master, ...]",
                                        i + 1);
                long long start = e->element[0]->integer, end = e->element[1]->integer;
                if (start < 0 || end >= CLUSTER_SLOTS || start > end)
                        return map_fail(map, err, errlen,
                                        "CLUSTER SLOTS: entry %zu: slot range %lld-%lld is out of "
                                        "bounds 0-%d",
                                        i + 1, start, end, CLUSTER_SLOTS - 1);

                /* [host, port, id, metadata...]: Redis 7 added the metadata,
                 * later versions may add more, so only the first two count. */
                const redisReply *m = e->element[2];
                if (m->type != REDIS_REPLY_ARRAY || m->elements < 2 ||
                    (m->element[0]->type != REDIS_REPLY_STRING &&
                     m->element[0]->type != REDIS_REPLY_NIL) ||
                    m->element[1]->type != REDIS_REPLY_INTEGER)
                        return map_fail(map, err, errlen,
                                        "CLUSTER SLOTS: entry %zu: the master is not [host, port, "
                                        "...]",
                                        i + 1);
                const redisReply *h = m->element[0];
                long long port = m->element[1]->integer;
                if (port < 1 || port > 65535)
                        return map_fail(map, err, errlen,
                                        "CLUSTER SLOTS: entry %zu: master port %lld is not in "
                                        "1..65535",
                                        i + 1, port);

                /* nil (unknown-endpoint), "" (a node that does not know its
                 * own address yet), "?" (hostname wanted but unset): the
                 * client is to use the address it asked, with this port. */
                const char *host = h->type == REDIS_REPLY_STRING ? h->str : "";
                size_t hlen = h->type == REDIS_REPLY_STRING ? h->len : 0;
                if (hlen == 0 || word_is(host, hlen, "?")) {
                        if (!fallback_host || !*fallback_host)
                                return map_fail(map, err, errlen,
                                                "CLUSTER SLOTS: entry %zu: the master has an "
                                                "unknown endpoint and no fallback host is given",
                                                i + 1);
                        host = fallback_host;
                        hlen = strlen(host);
                } else if (memchr(host, '\0', hlen))
                        return map_fail(map, err, errlen,
                                        "CLUSTER SLOTS: entry %zu: the master host holds a NUL "
                                        "byte",
                                        i + 1);
                if (hlen >= sizeof(map->nodes[0].host))
                        return map_fail(map, err, errlen,
                                        "CLUSTER SLOTS: entry %zu: the master host is longer than "
                                        "%zu bytes",
                                        i + 1, sizeof(map->nodes[0].host) - 1);

                int idx = cluster_map_node(map, host, (int)port);
                if (idx == -ENOSPC)
                        return map_fail(map, err, errlen, "CLUSTER SLOTS: more than %d masters",
                                        CLUSTER_MAX_NODES);
                if (idx < 0)
                        return map_fail(map, err, errlen,
                                        "CLUSTER SLOTS: entry %zu: a bad master address", i + 1);
                /* A node has one owner per slot in its table: two ranges
                 * over one slot mean a reply not to be trusted at all. */
                for (long long s = start; s <= end; s++) {
                        if (map->owner[s] >= 0)
                                return map_fail(map, err, errlen,
                                                "CLUSTER SLOTS: entry %zu: slot %lld is in two "
                                                "ranges",
                                                i + 1, s);
                        map->owner[s] = (int16_t)idx;
                }
        }
        return 0;
}
