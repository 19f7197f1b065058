/* Redis Cluster client routing, as the cluster specification describes it:
 * a key's hash slot (CRC16 with hash tags), the key a command is routed by,
 * what a MOVED/ASK/TRYAGAIN/CLUSTERDOWN reply asks of the client, and the
 * slot -> master map read from CLUSTER SLOTS.
 *
 * Pure code (no I/O, no sockets, no allocation): the connection layer sends
 * the commands, follows the redirections and owns the connections per node. */
#pragma once

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#define CLUSTER_SLOTS 16384
#define CLUSTER_MAX_NODES 64

/* CRC16 (XMODEM, poly 0x1021, init 0, no reflection), as the spec's
 * appendix: "123456789" gives 0x31C3. */
uint16_t cluster_crc16(const char *buf, size_t len);

/* The key's slot (0..16383). With a hash tag (the part between the first
 * '{' and the next '}' when non-empty) only the tag is hashed, so
 * "{user1000}.following" and "{user1000}.followers" share a slot. key may
 * hold any bytes; len is its length. */
unsigned cluster_key_slot(const char *key, size_t len);

/* The index in argv of the key the command is routed by, or -1 for a command
 * without one (PING, SCRIPT, INFO, SCAN, MULTI, EXEC, WAIT, CLUSTER, ASKING,
 * READONLY, AUTH, SELECT, DBSIZE, PUBLISH, ...), for a command too short to
 * name its key, and for argc < 1.
 *
 * EVAL, EVALSHA (and EVAL_RO, EVALSHA_RO, FCALL, FCALL_RO): argv[3] when
 * numkeys (argv[2]) > 0, else -1. The few commands whose first key is not
 * argv[1] name it where it is: OBJECT/MEMORY/XINFO/XGROUP <sub> key and
 * BITOP <op> key (argv[2]), XREAD/XREADGROUP (the first key after STREAMS),
 * ZUNION/ZINTER/ZDIFF/SINTERCARD/ZINTERCARD/LMPOP/ZMPOP numkeys key and
 * BLMPOP/BZMPOP timeout numkeys key. Every other command: argv[1] when
 * argc > 1. Command names compare case-insensitively. lens may be NULL
 * (then every argv[i] is a C string), as with hiredis's argvlen. */
int cluster_command_key(int argc, const char **argv, const size_t *lens);

typedef enum {
        CLUSTER_REPLY_OK, /* anything that is not a cluster redirection */
        CLUSTER_REPLY_MOVED,
        CLUSTER_REPLY_ASK,
        CLUSTER_REPLY_TRYAGAIN,
        CLUSTER_REPLY_CLUSTERDOWN,
} ClusterReplyKind;

typedef struct {
        ClusterReplyKind kind;
        unsigned slot; /* MOVED, ASK */
        char host[256];
        int port; /* MOVED, ASK */
} ClusterRedirect;

/* Classifies a reply (borrowed; NULL allowed). The error replies
 * "MOVED <slot> <host>:<port>" and "ASK <slot> <host>:<port>" fill out (when
 * not NULL) with the slot and the address; the address splits at the LAST
 * ':' so an IPv6 host ("MOVED 1 ::1:7000") stays whole. An unknown endpoint
 * (Redis 7 sends "MOVED 3999 :6381" with cluster-preferred-endpoint-type
 * unknown-endpoint, "?:6381" for a hostname it does not know) leaves host
 * empty: the caller fills in the address it sent the command to.
 * "TRYAGAIN ..." and "CLUSTERDOWN ..." are their kinds. A malformed MOVED or
 * ASK (a slot not in 0..16383, no port, a port not in 1..65535, a host of
 * 256 bytes or more) is CLUSTER_REPLY_CLUSTERDOWN, so that the caller
 * refreshes its map rather than follow it. Everything else (NULL, a reply
 * that is not an error, any other error) is CLUSTER_REPLY_OK. out->kind is
 * always the returned kind; the other fields are zero unless it is MOVED or
 * ASK. */
ClusterReplyKind cluster_reply_classify(const redisReply *rep, ClusterRedirect *out);

typedef struct {
        char host[256];
        int port;
} ClusterNode;

typedef struct {
        ClusterNode nodes[CLUSTER_MAX_NODES]; /* masters only */
        size_t n_nodes;
        int16_t owner[CLUSTER_SLOTS]; /* index into nodes, -1: no owner */
} ClusterMap;

/* Empties map: no node, every slot without an owner. A map must be reset
 * (or filled by cluster_map_from_slots) before cluster_map_node. */
void cluster_map_reset(ClusterMap *map);

/* Resets map, then fills it from a CLUSTER SLOTS reply (borrowed): an array
 * of [start, end, [host, port, id, ...], replicas...]. Only the master (the
 * first node of each range) goes in nodes, once however many ranges it
 * serves; an unknown endpoint (a nil, "" or "?" host) is replaced by
 * fallback_host, the address the reply came from. Slots no range covers
 * stay -1. 0, or -EINVAL with a reason in err (a malformed reply, a slot
 * range out of bounds or overlapping another, more than CLUSTER_MAX_NODES
 * masters, an unknown endpoint with no fallback_host); after a failure map
 * is reset, so build into a spare map to keep the old one. */
int cluster_map_from_slots(ClusterMap *map, const redisReply *rep, const char *fallback_host,
                           char *err, size_t errlen);

/* The index of host:port in map->nodes, adding it when missing (as after a
 * MOVED to a node the map does not know). -ENOSPC when the map is full,
 * -EINVAL for a host of 256 bytes or more or a port not in 1..65535. */
int cluster_map_node(ClusterMap *map, const char *host, int port);

/* The number of slots with an owner. */
size_t cluster_map_covered(const ClusterMap *map);
