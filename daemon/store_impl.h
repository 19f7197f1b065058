/* What store.c and its companions (store_*.c) share: the Store object and the
 * helpers every Redis command of the store goes through. */
#pragma once

#include "rcmd.h"
#include "record.h"
#include "store.h"

struct Store {
        Redis *redis;
        char *prefix;
        char *group;
        int64_t dedup_window_ms;
        int64_t dedup_max;
        int64_t ledger_max;
        RecordCodec *codec;
        char sha[41];
        char err[256];
        bool fresh;        /* this process created the epoch: Redis held no hearth state */
        int64_t send_ms;   /* the clock of the commits being sent */
        int wait_replicas; /* cluster: WAIT before positions move */
        int64_t wait_timeout_ms;
        int64_t wait_failed_ms; /* monotonic ms of the last WAIT that fell short */
        bool defer;             /* counters and open-alert sets: replies read later */
        size_t deferred;        /* replies of those still to read, before any other */
};

/* Reads the next reply (the deferred ones first); 0, or -EIO with s->err. */
int store_get_reply(Store *s, redisReply **rep);
/* Reads the replies of the deferred commands, in order: 0, -EINVAL (one
 * was an error, named in s->err), -EIO. */
int store_deferred_read(Store *s);
/* Sets s->err to "what: <Redis's error>"; returns -EIO. */
int store_io_error(Store *s, const char *what);
/* "<prefix>:{<household>}:<what>" into buf. */
void store_key(char *buf, size_t len, const Store *s, const char *household, const char *what);
/* Reads n pipelined replies; counts[i] the integer of each (-1 otherwise)
 * when counts is not NULL. 0 or -EIO. */
int store_drain_replies(Store *s, size_t n, int64_t *counts);
/* Queues c on the pipeline and frees it. A command that could not be
 * built is not queued and the link is dropped, so the pipeline is never
 * short of a reply: the caller's next read fails. Returns c->err. */
int store_cmd_append(Store *s, RCmd *c);
/* The shard of the pending-outbox index a household belongs to. */
unsigned store_shard_of(const char *household);
/* "<prefix>:pending:{<shard>}": one set of the pending-outbox index. */
void store_pending_key(char *buf, size_t len, const Store *s, unsigned shard);
/* Sets <p>:format to STORE_FORMAT: 0, or -EIO with s->err. */
int store_format_set(Store *s);
