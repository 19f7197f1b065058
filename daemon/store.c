#include "store.h"
#include "store_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include "arena.h"
#include "clock.h"
#include "event.h"
#include "household.h"
#include "jsonfast.h"
#include "macro.h"
#include "rcmd.h"
#include "record.h"

/* The commit script. KEYS: the household's record (record.h), its outbox
 * (one slot). ARGV: the version the record must have, the new record
 * (which carries version + 1), then (id, value)* outbox entries. The
 * record is a compare-and-set on its version: every check (applied offsets,
 * dedup ids) was made by hearthd on the record it read, so an unchanged
 * version proves they still hold. Reads and type checks come first: a Lua
 * error does not roll back earlier writes. */
static const char commit_lua[] =
    "local h, outbox = KEYS[1], KEYS[2]\n"
    "local cur = redis.call('GETRANGE', h, 0, 11)\n"
    "redis.call('HLEN', outbox)\n"
    "local v = 0\n"
    "if cur ~= '' then v = tonumber(cur) end\n"
    "if v == nil then return {'FORMAT', 'not a household record'} end\n"
    "if v ~= tonumber(ARGV[1]) then return {'VERSION', tostring(v)} end\n"
    "redis.call('SET', h, ARGV[2])\n"
    "for i = 3, #ARGV, 2 do redis.call('HSET', outbox, ARGV[i], ARGV[i + 1]) end\n"
    "return {'OK', tostring(v + 1)}\n";

/* KEYS: attempts hash. ARGV: (tp, offset)*. Returns the counts. */
static const char attempts_lua[] =
    "local out = {}\n"
    "for i = 1, #ARGV, 2 do\n"
    "  local v = redis.call('HGET', KEYS[1], ARGV[i])\n"
    "  local n = 1\n"
    "  if v then\n"
    "    local off, c = string.match(v, '^(%d+):(%d+)$')\n"
    "    if off == ARGV[i + 1] then n = tonumber(c) + 1 end\n"
    "  end\n"
    "  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1] .. ':' .. n)\n"
    "  out[#out + 1] = n\n"
    "end\n"
    "return out\n";

bool store_fresh(const Store *s)
{
        return s->fresh;
}

Store *store_new(Redis *redis, const char *prefix, const char *group, int64_t dedup_window_ms)
{
        Store *s = calloc(1, sizeof(Store));
        if (!s)
                return NULL;
        s->redis = redis;
        s->prefix = strdup(prefix);
        s->group = strdup(group);
        s->dedup_window_ms = dedup_window_ms;
        s->dedup_max = 10000;
        s->ledger_max = HOUSEHOLD_LEDGER_MAX;
        s->codec = record_codec_new();
        if (!s->prefix || !s->group || !s->codec)
                return store_free(s);
        return s;
}

Store *store_free(Store *s)
{
        if (!s)
                return NULL;
        free(s->prefix);
        free(s->group);
        record_codec_free(s->codec);
        free(s);
        return NULL;
}

void store_set_wait(Store *s, int replicas, int64_t timeout_ms)
{
        s->wait_replicas = replicas;
        s->wait_timeout_ms = timeout_ms;
}

void store_set_limits(Store *s, int64_t dedup_max, int64_t ledger_max)
{
        if (dedup_max > 0)
                s->dedup_max = dedup_max;
        if (ledger_max > 0)
                s->ledger_max = ledger_max;
}

const char *store_errstr(Store *s)
{
        return s->err[0] ? s->err : redis_errstr(s->redis);
}

int store_io_error(Store *s, const char *what)
{
        snprintf(s->err, sizeof(s->err), "%s: %s", what, redis_errstr(s->redis));
        return -EIO;
}

/* An unexpected reply to what: s->err says which; -EIO (the caller drops
 * the link and tries again). */
static int store_reply_error(Store *s, const char *what, const redisReply *r)
{
        snprintf(s->err, sizeof(s->err), "%s: %s", what,
                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        return -EIO;
}

/* store_impl.h */
int store_format_set(Store *s)
{
        _cleanup_(freeReplyObjectp) redisReply *f =
            redis_command(s->redis, "SET %s:format %d", s->prefix, STORE_FORMAT);
        if (!f)
                return store_io_error(s, "SET format");
        return f->type == REDIS_REPLY_ERROR ? store_reply_error(s, "SET format", f) : 0;
}

/* store_impl.h */
void store_pending_key(char *buf, size_t len, const Store *s, unsigned shard)
{
        snprintf(buf, len, "%s:pending:{%u}", s->prefix, shard);
}

int store_format_check(Store *s)
{
        _cleanup_(freeReplyObjectp) redisReply *f =
            redis_command(s->redis, "GET %s:format", s->prefix);
        if (!f)
                return store_io_error(s, "GET format");
        if (f->type == REDIS_REPLY_ERROR)
                return store_reply_error(s, "GET format", f);
        long v = f->type == REDIS_REPLY_STRING ? strtol(f->str, NULL, 10) : 0;
        if (v == STORE_FORMAT)
                return 0;
        if (v == STORE_FORMAT_RECORD) {
                /* Readable as it is; from now on a format 2 hearth must
                 * not start on it (store.h). */
                return store_format_set(s);
        }
        if (v > STORE_FORMAT) {
                snprintf(s->err, sizeof(s->err),
                         "%s:format is %ld, this hearth reads up to %d: Redis holds household "
                         "state written by a newer hearth",
                         s->prefix, v, STORE_FORMAT);
                return -EPROTO;
        }
        snprintf(s->err, sizeof(s->err),
                 "%s:format is %s, this hearth needs %d: Redis holds household state in the "
                 "layout of an older hearth; stop every hearthd and run `hearthctl migrate` once",
                 s->prefix, f->type == REDIS_REPLY_STRING ? f->str : "missing", STORE_FORMAT);
        return -EPROTO;
}

int store_prepare(Store *s)
{
        s->err[0] = 0;
        _cleanup_(freeReplyObjectp) redisReply *r =
            redis_command(s->redis, "SCRIPT LOAD %s", commit_lua);
        if (!r)
                return store_io_error(s, "SCRIPT LOAD");
        if (r->type != REDIS_REPLY_STRING || r->len != 40)
                return store_reply_error(s, "SCRIPT LOAD", r);
        memcpy(s->sha, r->str, 40);
        s->sha[40] = 0;

        /* The epoch key: set once. If it is gone while positions exist,
         * Redis lost our state (FLUSHALL, a wrong instance): stop rather
         * than raise alerts from an empty state. */
        _cleanup_(freeReplyObjectp) redisReply *e =
            redis_command(s->redis, "EXISTS %s:epoch", s->prefix);
        if (!e)
                return store_io_error(s, "EXISTS epoch");
        /* An error reply (LOADING, a replica that lost its master) says
         * nothing about the state: not "absent". */
        if (e->type != REDIS_REPLY_INTEGER)
                return store_reply_error(s, "EXISTS epoch", e);
        if (e->integer == 1)
                return store_format_check(s);
        _cleanup_(freeReplyObjectp) redisReply *p =
            redis_command(s->redis, "EXISTS %s:pos:{%s}", s->prefix, s->group);
        if (!p)
                return store_io_error(s, "EXISTS positions");
        if (p->type != REDIS_REPLY_INTEGER)
                return store_reply_error(s, "EXISTS positions", p);
        if (p->integer == 1) {
                snprintf(s->err, sizeof(s->err),
                         "%s:epoch is missing but positions exist: Redis lost hearth's state",
                         s->prefix);
                return -ESTALE;
        }
        int fr = store_format_set(s);
        if (fr < 0)
                return fr;
        _cleanup_(freeReplyObjectp) redisReply *set =
            redis_command(s->redis, "SET %s:epoch %lld NX", s->prefix, (long long)time(NULL));
        if (!set)
                return store_io_error(s, "SET epoch");
        if (set->type == REDIS_REPLY_ERROR)
                return store_reply_error(s, "SET epoch", set);
        s->fresh = true;
        return 0;
}

void store_key(char *buf, size_t len, const Store *s, const char *household, const char *what)
{
        snprintf(buf, len, "%s:{%s}:%s", s->prefix, household, what);
}

int store_get_reply(Store *s, redisReply **rep)
{
        if (s->deferred && store_deferred_read(s) == -EIO)
                return -EIO;
        if (redis_get_reply(s->redis, rep) < 0) {
                snprintf(s->err, sizeof(s->err), "%s", redis_errstr(s->redis));
                return -EIO;
        }
        return 0;
}

/* store_impl.h */
int store_cmd_append(Store *s, RCmd *c)
{
        int r = c->err;
        if (r == 0)
                redis_append(s->redis, (int)c->argc, c->argv, c->lens);
        else {
                snprintf(s->err, sizeof(s->err), "building a Redis command: %s", strerror(-r));
                redis_disconnect(s->redis);
        }
        rcmd_done(c);
        return r;
}

/* Runs c and frees it: the reply, or NULL with the reason in s->err. */
static redisReply *cmd_run(Store *s, RCmd *c, const char *what)
{
        redisReply *r = NULL;
        if (c->err)
                snprintf(s->err, sizeof(s->err), "%s: %s", what, strerror(-c->err));
        else if (!(r = redis_command_argv(s->redis, (int)c->argc, c->argv, c->lens)))
                store_io_error(s, what);
        rcmd_done(c);
        return r;
}

static void push_key(RCmd *c, const Store *s, const char *household, const char *what)
{
        const char *const parts[] = {s->prefix, ":{", household, "}:", what};
        rcmd_push_cat(c, ELEMENTSOF(parts), parts);
}

/* Queues the GET of one household's record. */
static int read_send(Store *s, const StoreRead *r)
{
        RCmd c;
        rcmd_init(&c, 2);
        rcmd_push_str(&c, "GET");
        push_key(&c, s, r->household, "h");
        return store_cmd_append(s, &c);
}

/* Fills r from its record (NULL: none). */
static void read_state(Store *s, StoreRead *r, const char *val, size_t len)
{
        for (size_t j = 0; j < r->n_tps; j++)
                r->applied[j] = -1;
        for (size_t j = 0; j < r->n_seen; j++)
                r->seen_found[j] = false;
        if (!val)
                return;
        char why[160];
        int e = r->history ? record_decode(s->codec, val, len, &r->rec, why, sizeof(why))
                           : record_decode_recent(s->codec, val, len, &r->rec, why, sizeof(why));
        if (e < 0) {
                r->err = e == -ENOMEM ? -ENOMEM : -EINVAL;
                snprintf(r->errmsg, sizeof(r->errmsg), "redis: %s", why);
                return;
        }
        if (r->history)
                record_bound(&r->rec, (size_t)s->ledger_max, STORE_TIMELINE_MAX);
        r->version = r->rec.version;
        json_error_t je;
        r->doc = jsonfast_load(r->rec.doc.s, r->rec.doc.len, &je);
        household_loaded(r->doc);
        if (!r->doc) {
                r->err = -EINVAL;
                snprintf(r->errmsg, sizeof(r->errmsg), "redis: household document is not JSON: %s",
                         je.text);
                return;
        }
        for (size_t j = 0; j < r->n_tps; j++)
                r->applied[j] = record_applied(&r->rec, r->tps[j]);
        for (size_t j = 0; j < r->n_seen; j++)
                r->seen_found[j] = record_seen(&r->rec, strtoull(r->seen[j], NULL, 16));
}

/* Reads one household's reply (read_send()) into r. -EIO. */
static int read_receive(Store *s, StoreRead *r)
{
        redisReply *rep;
        r->err = 0;
        r->version = 0;
        r->doc = NULL;
        r->rec = (Record){0};
        if (store_get_reply(s, &rep) < 0)
                return -EIO;
        if (rep->type == REDIS_REPLY_ERROR) {
                r->err = -EINVAL;
                snprintf(r->errmsg, sizeof(r->errmsg), "redis: %s", rep->str);
        } else
                read_state(s, r, rep->type == REDIS_REPLY_STRING ? rep->str : NULL, rep->len);
        freeReplyObject(rep);
        if (r->err) {
                json_decref(r->doc);
                r->doc = NULL;
                record_done(&r->rec);
        }
        return 0;
}

void store_read_done(StoreRead *r)
{
        arena_decref(r->doc);
        r->doc = NULL;
        record_done(&r->rec);
}

int store_read(Store *s, StoreRead *reads, size_t n)
{
        if (!redis_connected(s->redis)) {
                snprintf(s->err, sizeof(s->err), "not connected");
                return -EIO;
        }
        RCmd c;
        rcmd_init(&c, 2);
        rcmd_push_str(&c, "EXISTS");
        rcmd_push_fmt(&c, "%s:epoch", s->prefix);
        int r = store_cmd_append(s, &c);
        for (size_t i = 0; r == 0 && i < n; i++)
                r = read_send(s, &reads[i]);
        if (r < 0)
                return r; /* the link was dropped: nothing half sent stays queued */
        redisReply *rep;
        if (store_get_reply(s, &rep) < 0)
                return -EIO;
        int ret = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1 ? 0 : -ESTALE;
        freeReplyObject(rep);
        for (size_t i = 0; i < n; i++)
                if (read_receive(s, &reads[i]) < 0)
                        return -EIO;
        return ret;
}

/* store_impl.h */
unsigned store_shard_of(const char *household)
{
        unsigned h = 2166136261u;
        for (const unsigned char *p = (const unsigned char *)household; *p; p++)
                h = (h ^ *p) * 16777619u;
        return h % STORE_PENDING_SHARDS;
}

/* The new record of one commit, or NULL (memory). */
static char *commit_record(Store *s, const StoreCommit *c, int64_t now_ms, size_t *len)
{
        _cleanup_free_ uint64_t *seen = calloc(c->n_seen ? c->n_seen : 1, sizeof(uint64_t));
        if (!seen)
                return NULL;
        for (size_t i = 0; i < c->n_seen; i++)
                seen[i] = strtoull(c->seen[i], NULL, 16);
        RecordChange ch = {.version = c->expected_version + 1,
                           .doc = c->doc,
                           .off_tps = c->off_fields,
                           .offsets = c->offsets,
                           .n_off = c->n_off,
                           .seen = seen,
                           .n_seen = c->n_seen,
                           .ledger = c->ledger,
                           .n_ledger = c->n_ledger,
                           .timeline = c->timeline,
                           .n_timeline = c->n_timeline,
                           .erase = c->erase,
                           .now_ms = now_ms,
                           .dedup_window_ms = s->dedup_window_ms,
                           .dedup_max = (size_t)s->dedup_max,
                           .ledger_max = (size_t)s->ledger_max,
                           .timeline_max = STORE_TIMELINE_MAX};
        char *v = NULL;
        return record_encode(s->codec, c->prev, &ch, &v, len) == 0 ? v : NULL;
}

/* Appends the EVALSHA of one commit (commit_lua's KEYS and ARGV). */
static int append_commit(Store *s, const StoreCommit *c, int64_t now_ms)
{
        size_t vlen = 0;
        _cleanup_free_ char *val = commit_record(s, c, now_ms, &vlen);
        RCmd cmd;
        rcmd_init(&cmd, 3 + 2 + 2 + 2 * c->n_outbox);
        if (!val)
                cmd.err = -ENOMEM;
        rcmd_push_str(&cmd, "EVALSHA");
        rcmd_push_str(&cmd, s->sha);
        rcmd_push_str(&cmd, "2");
        push_key(&cmd, s, c->household, "h");
        push_key(&cmd, s, c->household, "outbox");
        rcmd_push_int(&cmd, c->expected_version);
        rcmd_push_len(&cmd, val ? val : "", vlen);
        for (size_t i = 0; i < c->n_outbox; i++) {
                rcmd_push_str(&cmd, c->outbox_ids[i]);
                rcmd_push_str(&cmd, c->outbox_vals[i]);
        }
        return store_cmd_append(s, &cmd);
}

/* Writes what is queued for Redis once it passes this many bytes. */
#define STORE_SEND_CHUNK (64 * 1024)
/* ... or, near the end of the commits sent before a wait, once it passes
 * this much per commit still to come (store_commit_send()). */
#define STORE_SEND_PER_LEFT 1024

/* The queue's size that is worth a write with left commits still to come.
 * Why: the caller waits for the replies after the last commit, and Redis
 * then still runs everything in the last write: with 64 KiB writes to the
 * end, about fifty commits, 1.4 ms per batch of make bench's load (a
 * throw-away build timed the wait). Writes that shrink with the commits
 * left keep the last one to a commit or two, for a handful more writes per
 * batch; flushing every 16 KiB throughout had cost Redis 18 % more CPU. */
static size_t send_chunk(size_t left)
{
        return left < STORE_SEND_CHUNK / STORE_SEND_PER_LEFT ? (left + 1) * STORE_SEND_PER_LEFT
                                                             : STORE_SEND_CHUNK;
}

void store_commit_send(Store *s, const StoreCommit *c, int64_t now_ms, size_t left)
{
        if (!redis_connected(s->redis))
                return; /* the missing replies are read as an I/O error */
        /* The pending index and the due-time hint are written before the
         * commit that needs them, on the same connection: Redis applies them
         * in this order, so a crash in between leaves a stale hint, never a
         * lost output or timer. */
        if (c->n_outbox) {
                char pk[200];
                store_pending_key(pk, sizeof(pk), s, store_shard_of(c->household));
                const char *argv[3] = {"SADD", pk, c->household};
                redis_append(s->redis, 3, argv, NULL);
        }
        if (c->timer_due > 0) {
                char tk[200], due[24];
                snprintf(tk, sizeof(tk), "%s:timers", s->prefix);
                snprintf(due, sizeof(due), "%" PRId64, c->timer_due);
                const char *argv[4] = {"ZADD", tk, due, c->household};
                redis_append(s->redis, 4, argv, NULL);
        }
        s->send_ms = now_ms;
        /* On a cluster the hints live on other masters than the household:
         * no order holds between connections, so the commits go once every
         * hint is acknowledged (store_commit_wait). */
        if (redis_is_cluster(s->redis))
                return;
        if (append_commit(s, c, now_ms) < 0)
                return; /* the link was dropped: store_commit_wait() reads an I/O error */
        redis_flush(s->redis, send_chunk(left));
}

/* Reads the replies of a commit's hints; -EIO. */
static int hints_read(Store *s, const StoreCommit *c)
{
        size_t before = (c->n_outbox ? 1 : 0) + (c->timer_due > 0 ? 1 : 0);
        for (size_t k = 0; k < before; k++) {
                redisReply *rep;
                if (store_get_reply(s, &rep) < 0)
                        return -EIO;
                bool bad = rep->type == REDIS_REPLY_ERROR;
                if (bad)
                        snprintf(s->err, sizeof(s->err), "hint: %s", rep->str);
                freeReplyObject(rep);
                /* One Redis: as before, the commit's own reply decides. */
                if (bad && redis_is_cluster(s->redis))
                        return -EIO;
        }
        return 0;
}

/* Cluster mode: every hint read, then the commits sent. */
static int cluster_commits_send(Store *s, StoreCommit *commits, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (hints_read(s, &commits[i]) < 0)
                        return -EIO;
        for (size_t i = 0; i < n; i++) {
                if (append_commit(s, &commits[i], s->send_ms) < 0)
                        return -EIO;
                redis_flush(s->redis, send_chunk(n - i - 1));
        }
        return 0;
}

/* An error that says "not now" rather than "never": a master without its
 * replicas (min-replicas-to-write), loading its data, busy in a script, a
 * replica that lost its master, a demoted master. */
static bool transient(const char *err)
{
        static const char *const now[] = {"NOREPLICAS", "LOADING", "BUSY", "MASTERDOWN",
                                          "READONLY"};
        for (size_t i = 0; i < ELEMENTSOF(now); i++)
                if (strncmp(err, now[i], strlen(now[i])) == 0)
                        return true;
        return false;
}

int store_commit_wait(Store *s, StoreCommit *commits, size_t n)
{
        redisReply *rep;
        bool noscript = false;
        bool cluster = redis_is_cluster(s->redis);
        if (cluster && cluster_commits_send(s, commits, n) < 0) {
                /* Replies may be left unread: start afresh. */
                redis_disconnect(s->redis);
                return -EIO;
        }
        for (size_t i = 0; i < n; i++) {
                StoreCommit *c = &commits[i];
                if (!cluster && hints_read(s, c) < 0)
                        return -EIO;
                if (store_get_reply(s, &rep) < 0)
                        return -EIO;
                c->result = -EIO;
                if (rep->type == REDIS_REPLY_ERROR && transient(rep->str)) {
                        /* Nothing was written: the batch is tried again
                         * after a reconnect, never dead-lettered. */
                        snprintf(s->err, sizeof(s->err), "commit: %s", rep->str);
                        freeReplyObject(rep);
                        redis_disconnect(s->redis);
                        return -EIO;
                }
                if (rep->type == REDIS_REPLY_ERROR) {
                        if (strncmp(rep->str, "NOSCRIPT", 8) == 0) {
                                noscript = true;
                                c->result = -ENOEXEC;
                        } else
                                c->result = -EINVAL;
                        snprintf(c->errmsg, sizeof(c->errmsg), "redis: %s", rep->str);
                } else if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
                           rep->element[0]->type == REDIS_REPLY_STRING) {
                        const char *st = rep->element[0]->str;
                        const char *arg =
                            rep->element[1]->type == REDIS_REPLY_STRING ? rep->element[1]->str : "";
                        if (streq(st, "OK")) {
                                c->result = 0;
                                c->new_version = strtoll(arg, NULL, 10);
                        } else if (streq(st, "VERSION")) {
                                c->result = -ESTALE;
                        } else if (streq(st, "FORMAT")) {
                                c->result = -EINVAL;
                                snprintf(c->errmsg, sizeof(c->errmsg), "redis: %s", arg);
                        } else {
                                c->result = -EALREADY;
                                snprintf(c->errmsg, sizeof(c->errmsg), "%s %s", st, arg);
                        }
                }
                freeReplyObject(rep);
        }
        if (noscript) {
                /* SCRIPT FLUSH or a restarted Redis: load again; the caller
                 * retries those commits (result -ENOEXEC). */
                int r = store_prepare(s);
                if (r < 0)
                        return r;
                snprintf(s->err, sizeof(s->err), "NOSCRIPT: the commit script was reloaded");
        }
        return 0;
}

int store_commit(Store *s, StoreCommit *commits, size_t n, int64_t now_ms)
{
        if (!redis_connected(s->redis)) {
                snprintf(s->err, sizeof(s->err), "not connected");
                return -EIO;
        }
        for (size_t i = 0; i < n; i++)
                store_commit_send(s, &commits[i], now_ms, n - i - 1);
        return store_commit_wait(s, commits, n);
}

json_t *store_timers_due(Store *s, int64_t now_ms, size_t max, json_t **scores)
{
        *scores = NULL;
        _cleanup_(freeReplyObjectp) redisReply *r =
            redis_command(s->redis, "ZRANGEBYSCORE %s:timers -inf %lld WITHSCORES LIMIT 0 %lld",
                          s->prefix, (long long)now_ms, (long long)max);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements % 2)
                return NULL;
        json_t *a = json_array(), *sc = json_array();
        bool ok = a && sc;
        for (size_t i = 0; ok && i + 1 < r->elements; i += 2) {
                const redisReply *m = r->element[i], *v = r->element[i + 1];
                ok = m->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
                     json_array_append_new(a, json_stringn(m->str, m->len)) == 0 &&
                     json_array_append_new(sc, json_stringn(v->str, v->len)) == 0;
        }
        if (!ok) {
                json_decref(a);
                json_decref(sc);
                return NULL;
        }
        *scores = sc;
        return a;
}

/* KEYS: the due-time index. ARGV: household, the score seen, the new due
 * time (0: remove). Numbers compared, not texts. */
static const char timer_move_lua[] =
    "local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])\n"
    "if not cur or tonumber(cur) ~= tonumber(ARGV[2]) then return 0 end\n"
    "if tonumber(ARGV[3]) > 0 then redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])\n"
    "else redis.call('ZREM', KEYS[1], ARGV[1]) end\n"
    "return 1\n";

int store_timer_moves(Store *s, const StoreTimerMove *m, size_t n, int *moved)
{
        for (size_t i = 0; i < n; i++)
                if (!m[i].seen)
                        return -EINVAL; /* nothing written: the next pick has a score */
        if (!redis_connected(s->redis)) {
                snprintf(s->err, sizeof(s->err), "timers: not connected");
                return -EIO;
        }
        for (size_t i = 0; i < n; i++) {
                RCmd c;
                rcmd_init(&c, 7);
                rcmd_push_str(&c, "EVAL");
                rcmd_push_str(&c, timer_move_lua);
                rcmd_push_str(&c, "1");
                rcmd_push_fmt(&c, "%s:timers", s->prefix);
                rcmd_push_str(&c, m[i].household);
                rcmd_push_str(&c, m[i].seen);
                rcmd_push_int(&c, m[i].due_ms > 0 ? m[i].due_ms : 0);
                if (store_cmd_append(s, &c) < 0)
                        return -EIO; /* dropped the link: the replies go with it */
        }
        int ret = 0;
        for (size_t i = 0; i < n; i++) {
                redisReply *r;
                if (store_get_reply(s, &r) < 0)
                        return -EIO;
                if (r->type != REDIS_REPLY_INTEGER && ret == 0)
                        ret = store_reply_error(s, "timers", r);
                if (moved)
                        moved[i] = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
                freeReplyObject(r);
        }
        return ret;
}

int store_timer_move(Store *s, const char *household, const char *seen, int64_t due_ms)
{
        int moved = 0;
        int r = store_timer_moves(s, &(StoreTimerMove){household, seen, due_ms}, 1, &moved);
        return r < 0 ? r : moved;
}

int store_timer_soon(Store *s, const char *household, int64_t now_ms)
{
        _cleanup_(freeReplyObjectp) redisReply *r = redis_command(
            s->redis, "ZADD %s:timers LT %lld %s", s->prefix, (long long)now_ms, household);
        if (!r)
                return store_io_error(s, "timers");
        return r->type == REDIS_REPLY_ERROR ? store_reply_error(s, "timers", r) : 0;
}

int store_timer_set(Store *s, const char *household, int64_t due_ms)
{
        _cleanup_(freeReplyObjectp) redisReply *r =
            due_ms > 0 ? redis_command(s->redis, "ZADD %s:timers %lld %s", s->prefix,
                                       (long long)due_ms, household)
                       : redis_command(s->redis, "ZREM %s:timers %s", s->prefix, household);
        return r ? 0 : store_io_error(s, "timers");
}

int store_attempts(Store *s, const char **tps, const int64_t *offsets, size_t n, int64_t *counts)
{
        return store_attempts_and_peek(s, tps, offsets, n, counts, NULL, NULL);
}

/* counts[i] of an HMGET reply of "<offset>:<count>" fields, 0 for another
 * offset or none. -EIO when the reply is not one. */
static int peek_counts(const redisReply *r, const int64_t *offsets, size_t n, int64_t *counts)
{
        if (r->type != REDIS_REPLY_ARRAY || r->elements != n)
                return -EIO;
        for (size_t i = 0; i < n; i++) {
                long long off = -1, c = 0;
                counts[i] = 0;
                if (r->element[i]->type == REDIS_REPLY_STRING &&
                    sscanf(r->element[i]->str, "%lld:%lld", &off, &c) == 2 && off == offsets[i])
                        counts[i] = c;
        }
        return 0;
}

/* counts[i] of the attempts script's reply; -EIO when it is not one. */
static int attempt_counts(Store *s, const redisReply *r, size_t n, int64_t *counts)
{
        if (r->type != REDIS_REPLY_ARRAY || r->elements != n)
                return store_reply_error(s, "attempts", r);
        for (size_t i = 0; i < n; i++)
                counts[i] = r->element[i]->integer;
        return 0;
}

int store_attempts_and_peek(Store *s, const char **tps, const int64_t *offsets, size_t n,
                            int64_t *counts, const char **peek, int64_t *peeked)
{
        if (n == 0)
                return 0;
        RCmd c;
        rcmd_init(&c, 4 + 2 * n);
        rcmd_push_str(&c, "EVAL");
        rcmd_push_str(&c, attempts_lua);
        rcmd_push_str(&c, "1");
        rcmd_push_fmt(&c, "%s:attempts", s->prefix);
        for (size_t i = 0; i < n; i++) {
                rcmd_push_str(&c, tps[i]);
                rcmd_push_int(&c, offsets[i]);
        }
        /* The peek rides in the same round trip. */
        RCmd h;
        if (peek) {
                rcmd_init(&h, 2 + n);
                rcmd_push_str(&h, "HMGET");
                rcmd_push_fmt(&h, "%s:attempts", s->prefix);
                for (size_t i = 0; i < n; i++)
                        rcmd_push_str(&h, peek[i]);
        }
        /* A command that cannot be built drops the link (cmd_append): the
         * reads below fail. */
        store_cmd_append(s, &c);
        if (peek)
                store_cmd_append(s, &h);
        _cleanup_(freeReplyObjectp) redisReply *r = NULL;
        _cleanup_(freeReplyObjectp) redisReply *p = NULL;
        if (store_get_reply(s, &r) < 0 || (peek && store_get_reply(s, &p) < 0))
                return -EIO;
        if (attempt_counts(s, r, n, counts) < 0)
                return -EIO;
        if (peek && peek_counts(p, offsets, n, peeked) < 0)
                memset(peeked, 0, n * sizeof(int64_t));
        return 0;
}

/* HMGET of fields in the hash <p>:<what>: the reply, or NULL (an I/O
 * error, or the command could not be built: *err says which). */
static redisReply *hmget(Store *s, const char *what, const char **fields, size_t n, int *err)
{
        RCmd c;
        rcmd_init(&c, 2 + n);
        rcmd_push_str(&c, "HMGET");
        rcmd_push_fmt(&c, "%s:%s", s->prefix, what);
        for (size_t i = 0; i < n; i++)
                rcmd_push_str(&c, fields[i]);
        *err = c.err ? c.err : -EIO;
        return cmd_run(s, &c, "HMGET");
}

int store_attempts_peek(Store *s, const char **tps, const int64_t *offsets, size_t n,
                        int64_t *counts)
{
        if (n == 0)
                return 0;
        int err;
        _cleanup_(freeReplyObjectp) redisReply *r = hmget(s, "attempts", tps, n, &err);
        if (!r)
                return err;
        return peek_counts(r, offsets, n, counts);
}

int store_positions_get(Store *s, const char **tps, size_t n, int64_t *ret)
{
        char what[200];
        int err;
        snprintf(what, sizeof(what), "pos:{%s}", s->group);
        _cleanup_(freeReplyObjectp) redisReply *r = hmget(s, what, tps, n, &err);
        if (!r)
                return err;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != n)
                return -EIO;
        for (size_t i = 0; i < n; i++)
                ret[i] = r->element[i]->type == REDIS_REPLY_STRING
                             ? strtoll(r->element[i]->str, NULL, 10)
                             : -1;
        return 0;
}

int store_positions_set(Store *s, const char **tps, const int64_t *offsets, size_t n)
{
        if (n == 0)
                return 0;
        /* After a WAIT that fell short, not again within its timeout: the
         * loop would spend its time waiting (positions move every 200 ms). */
        int64_t now = clock_mono_us() / 1000;
        if (s->wait_failed_ms && now - s->wait_failed_ms < s->wait_timeout_ms)
                return -EAGAIN;
        int w = redis_wait_replicas(s->redis, s->prefix, s->wait_replicas, s->wait_timeout_ms);
        s->wait_failed_ms = w == -EAGAIN ? now : 0;
        if (w < 0) {
                snprintf(s->err, sizeof(s->err), "positions kept: %s", redis_errstr(s->redis));
                return w;
        }
        RCmd c;
        rcmd_init(&c, 2 + 2 * n);
        rcmd_push_str(&c, "HSET");
        rcmd_push_fmt(&c, "%s:pos:{%s}", s->prefix, s->group);
        for (size_t i = 0; i < n; i++) {
                rcmd_push_str(&c, tps[i]);
                rcmd_push_int(&c, offsets[i]);
        }
        int built = c.err;
        _cleanup_(freeReplyObjectp) redisReply *r = cmd_run(s, &c, "HSET positions");
        if (!r)
                return built ? built : -EIO;
        return r->type == REDIS_REPLY_ERROR ? -EIO : 0;
}

/* Reads and frees the next n replies; counts[i] = the integer of reply i
 * (-1 when not an integer). counts may be NULL. */
int store_drain_replies(Store *s, size_t n, int64_t *counts)
{
        for (size_t i = 0; i < n; i++) {
                redisReply *r;
                if (store_get_reply(s, &r) < 0)
                        return -EIO;
                if (counts)
                        counts[i] = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
                freeReplyObject(r);
        }
        return 0;
}

/* GETs one household's record into rec: 0, -ENOENT (none), -EIO, -EINVAL. */
static int record_get(Store *s, const char *household, Record *rec)
{
        char k[300];
        store_key(k, sizeof(k), s, household, "h");
        _cleanup_(freeReplyObjectp) redisReply *h = redis_command(s->redis, "GET %s", k);
        if (!h)
                return store_io_error(s, "GET");
        if (h->type == REDIS_REPLY_NIL)
                return -ENOENT;
        if (h->type != REDIS_REPLY_STRING) {
                snprintf(s->err, sizeof(s->err), "%s: %s", k,
                         h->type == REDIS_REPLY_ERROR ? h->str : "unexpected reply");
                return -EINVAL;
        }
        char why[160];
        int r = record_decode(s->codec, h->str, h->len, rec, why, sizeof(why));
        if (r < 0)
                snprintf(s->err, sizeof(s->err), "%s: %s", k, why);
        else
                record_bound(rec, (size_t)s->ledger_max, STORE_TIMELINE_MAX);
        return r;
}

int store_household_dump(Store *s, const char *household, StoreDump *d)
{
        *d = (StoreDump){0};
        Record rec;
        int r = record_get(s, household, &rec);
        if (r < 0)
                return r;
        d->version = rec.version;
        d->doc = jsonfast_load(rec.doc.s, rec.doc.len, NULL);
        household_loaded(d->doc);
        d->ledger = record_list_json(rec.ledger, rec.n_ledger);
        d->timeline = record_list_json(rec.timeline, rec.n_timeline);
        d->dedup_ids = rec.n_seen;
        d->offsets = json_object();
        for (size_t i = 0; d->offsets && i < rec.n_off; i++) {
                char tp[300];
                snprintf(tp, sizeof(tp), "%.*s", (int)rec.off_tps[i].len, rec.off_tps[i].s);
                json_object_set_new(d->offsets, tp, json_integer(rec.offsets[i]));
        }
        record_done(&rec);
        if (!d->doc || !d->ledger || !d->timeline || !d->offsets) {
                store_dump_done(d);
                return -EINVAL;
        }
        return 0;
}

void store_dump_done(StoreDump *d)
{
        json_decref(d->doc);
        json_decref(d->ledger);
        json_decref(d->timeline);
        json_decref(d->offsets);
        *d = (StoreDump){0};
}

int store_audit(Store *s, const char *line)
{
        _cleanup_(freeReplyObjectp) redisReply *r =
            redis_command(s->redis, "RPUSH %s:audit %s", s->prefix, line);
        if (!r || r->type == REDIS_REPLY_ERROR)
                return r ? -EINVAL : store_io_error(s, "RPUSH audit");
        _cleanup_(freeReplyObjectp) redisReply *t =
            redis_command(s->redis, "LTRIM %s:audit -%d -1", s->prefix, STORE_AUDIT_MAX);
        return t ? 0 : store_io_error(s, "LTRIM audit");
}
