/* Household state in Redis. Every key of a household shares the hash tag
 * {<household-id>} so that each atomic step touches one slot:
 *   <p>:{H}:h         STRING the household's record (record.h): its version, document,
 *                           last applied offset of each partition, dedup ids (bounded by the
 *                           dedup window and a count), ledger (benefits, REQ-13, oldest
 *                           first, the latest HOUSEHOLD_LEDGER_MAX; yearly totals are in the
 *                           document) and timeline (recent events, newest first,
 *                           STORE_TIMELINE_MAX); each list holds up to RECORD_RECENT_MAX
 *                           more between the commits that write its history frame (reads
 *                           show the bounds)
 *   <p>:{H}:outbox    HASH  output event id -> "<ms> <CloudEvent JSON>"
 * and outside any household:
 *   <p>:pending:{N}   SET   households with outbox entries (16 shards)
 *   <p>:pos:{group}   HASH  <topic>/<partition> -> next offset to read
 *   <p>:epoch         STRING set once; its absence means the state was lost
 *   <p>:timers        ZSET  household -> next due time (wall ms), a hint
 *   <p>:open:<code>   SET   households with an open alert of that colour
 *   <p>:stats         HASH  supervision counters (REQ-14), counted once per delivered output
 *   <p>:rule_outcomes HASH  per-rule outcomes of alerts (outcome.h): "<rule>|<outcome>" and
 *                           the time-to-elimination histogram, counted after each commit
 *   <p>:audit         LIST  operators' erasures (hearthctl forget): time, household id, who
 * The commit script checks before it writes (the record's version, key
 * types), so a failed check or a wrong-typed key leaves nothing half
 * written; the offsets and dedup ids were checked on the record read, which
 * an unchanged version proves current. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "record.h"
#include "redis.h"

#define STORE_PENDING_SHARDS 16
#define STORE_TIMELINE_MAX 50
/* The layout of household state in Redis (record.h), kept in <p>:format.
 * 2: one record per household (2026-12-06); before it, a hash, a sorted
 * set and two lists per household (`hearthctl migrate` converts).
 * 3: records may hold a history frame (record.h, body format 2; 2026-12-07),
 * which a hearth of format 2 cannot read. Format 2 Redis needs no
 * conversion (its records are read as they are and rewritten by their next
 * commit): store_prepare() sets 3, so that an older hearthd started on it
 * afterwards refuses to start rather than refuse every household. */
#define STORE_FORMAT 3
#define STORE_FORMAT_RECORD 2 /* the first format with one record per household */

typedef struct Store Store;

/* Borrows redis. NULL on memory failure. */
Store *store_new(Redis *redis, const char *prefix, const char *group, int64_t dedup_window_ms);
Store *store_free(Store *s);
/* Per-household bounds the commit keeps: source+id pairs remembered
 * (default 10000, the oldest go first) and ledger entries (default
 * HOUSEHOLD_LEDGER_MAX). */
void store_set_limits(Store *s, int64_t dedup_max, int64_t ledger_max);
/* Cluster mode: store_positions_set() first waits until replicas replicas
 * hold every write sent (redis.wait_replicas, redis.wait_timeout); a
 * failover then never loses a write the positions cover. */
void store_set_wait(Store *s, int replicas, int64_t timeout_ms);

/* After every (re)connect: loads the script and checks the epoch key.
 * Returns 0; -ESTALE when the epoch is missing though Redis holds positions
 * (state lost: stop); -EPROTO when it holds household state of an older
 * layout (store_format_check()); -EIO on a connection error. */
int store_prepare(Store *s);
/* -EPROTO (with the words in store_errstr()) unless <p>:format is
 * STORE_FORMAT, or STORE_FORMAT_RECORD (then set to STORE_FORMAT). */
int store_format_check(Store *s);
/* Converts every household of the older layout (before STORE_FORMAT_RECORD)
 * into a record, then sets <p>:format. For hearthctl migrate, with every
 * hearthd stopped. *done counts the households converted. */
int store_migrate(Store *s, size_t *done);

/* True when store_prepare() found no hearth state and created the epoch
 * (a first start, or a Redis that lost everything). */
bool store_fresh(const Store *s);

/* One household to read. */
typedef struct {
        const char *household; /* in */
        const char **tps;      /* in: "topic/partition" whose applied offset to read */
        size_t n_tps;
        const char **seen; /* in: dedup hashes (hex) to look up */
        size_t n_seen;
        bool history;     /* in: rec's ledger and timeline complete (record_decode) rather
                             than the recent entries only (record_decode_recent) */
        int64_t version;  /* out: 0 when the household has no state */
        json_t *doc;      /* out: owned by the caller, NULL when none */
        int64_t *applied; /* out: n_tps offsets, -1 when none (caller allocates) */
        bool *seen_found; /* out: n_seen (caller allocates) */
        Record rec;       /* out: the record read, for the commit (StoreCommit.prev) */
        int err;          /* out: 0, or -EINVAL for a bad key (wrong type, bad JSON) */
        char errmsg[200];
} StoreRead;

/* Frees what store_read() put in r (its doc and record). */
void store_read_done(StoreRead *r);

/* Reads n households in one round trip. -EIO when Redis failed (nothing
 * read), -ESTALE when the epoch key vanished (state lost). Per-household
 * problems are in reads[i].err. */
int store_read(Store *s, StoreRead *reads, size_t n);

/* One household's commit. */
typedef struct {
        const char *household;
        const Record *prev; /* the record read (StoreRead.rec), kept and extended */
        int64_t expected_version;
        const char *doc;
        const char **off_fields; /* "topic/partition" */
        const int64_t *offsets;  /* last applied offset for each */
        size_t n_off;
        const char **seen;
        size_t n_seen;
        const char **outbox_ids, **outbox_vals;
        size_t n_outbox;
        const char **ledger;
        size_t n_ledger;
        const char **timeline;
        size_t n_timeline;
        int64_t timer_due; /* >0: add to the due-time index before the commit */
        bool erase;        /* delete the ledger and timeline lists (personal data erased) */
        int result; /* out: 0 ok; -ESTALE version changed; -EALREADY applied before; -EINVAL key
                       error */
        int64_t new_version;
        char errmsg[200];
} StoreCommit;

/* Commits n households in one round trip, adding those with outbox entries
 * to the pending index first. -EIO when Redis failed: some commits may have
 * happened; the caller re-reads (the version tells). */
int store_commit(Store *s, StoreCommit *commits, size_t n, int64_t now_ms);
/* The same in two halves, so that Redis runs the first commits while the
 * caller still prepares the next: store_commit_send() queues one commit's
 * commands (its pending-index SADD and timer ZADD first) and writes the
 * queue to Redis once it is large, or, with left (at most) more commits to
 * send before the wait, once it is a fair share of what is left, so the
 * wait does not find a large last write still running; store_commit_wait()
 * reads the replies of the n commits sent since the last wait, in order,
 * like store_commit(). */
void store_commit_send(Store *s, const StoreCommit *c, int64_t now_ms, size_t left);
int store_commit_wait(Store *s, StoreCommit *commits, size_t n);

/* The due-time index <p>:timers (a hint: the household's state is the
 * truth). Households due at or before now_ms, at most max, as a JSON array
 * of strings (new reference), or NULL on error; *scores gets each one's due
 * time in the index as Redis wrote it (an array of strings, new reference;
 * NULL on error), for store_timer_move(). */
json_t *store_timers_due(Store *s, int64_t now_ms, size_t max, json_t **scores);
/* Sets the household's next due time in the index (0 removes it). */
int store_timer_set(Store *s, const char *household, int64_t due_ms);
/* Sets it (0 removes it) only if the index still holds the due time seen
 * (store_timers_due()'s score): a commit of another instance may have
 * written a newer one meanwhile, from a newer state, and the timer path
 * must not put back one from the state it read. 1 moved, 0 left, -EIO;
 * -EINVAL (nothing written) without seen. */
int store_timer_move(Store *s, const char *household, const char *seen, int64_t due_ms);
typedef struct {
        const char *household;
        const char *seen; /* its score when picked (store_timers_due()) */
        int64_t due_ms;   /* the due time to set; 0 removes it */
} StoreTimerMove;
/* store_timer_move() of n households in one round trip; moved[i] (moved
 * may be NULL) says which applied. 0; -EIO (s->err: the first error reply,
 * or the link); -EINVAL (nothing written) when one has no seen. */
int store_timer_moves(Store *s, const StoreTimerMove *m, size_t n, int *moved);
/* Brings the household's due time in the index forward to now_ms, never
 * later (ZADD LT; added when missing): the next pick reads it again and
 * puts its real due time back. For a commit that lost to another one after
 * its hint was written from the state it read. 0 or -EIO. */
int store_timer_soon(Store *s, const char *household, int64_t now_ms);

/* Poison-message guard: counts the attempts at processing a batch that
 * starts at offsets[i] of partition tps[i] (hash <p>:attempts, one field per
 * partition: "<offset>:<count>"). counts[i] receives 1 for a new start
 * offset, or one more than last time when the same offset starts again
 * (hearthd died while processing it). */
int store_attempts(Store *s, const char **tps, const int64_t *offsets, size_t n, int64_t *counts);
/* Reads the same counts without counting: 0 where the field names another
 * offset or none. */
int store_attempts_peek(Store *s, const char **tps, const int64_t *offsets, size_t n,
                        int64_t *counts);
/* Both in one round trip: counts the attempts of tps (as store_attempts)
 * and peeks at the fields peek[i] for the same offsets (as
 * store_attempts_peek, into peeked; zeros if that reply is not readable).
 * peek NULL: store_attempts. */
int store_attempts_and_peek(Store *s, const char **tps, const int64_t *offsets, size_t n,
                            int64_t *counts, const char **peek, int64_t *peeked);

/* Per-partition resume positions. */
int store_positions_get(Store *s, const char **tps, size_t n, int64_t *ret);
int store_positions_set(Store *s, const char **tps, const int64_t *offsets, size_t n);

/* Outbox: deletes n delivered entries in one round trip; deleted[i] is 1
 * when entry i was deleted, 0 when it was already gone (another delivery
 * got there first). -EIO when Redis failed: some may be deleted, and are 0
 * when deleted again. */
int store_outbox_delete_many(Store *s, const char *const *households, const char *const *ids,
                             size_t n, int *deleted);

/* The relay's claim before it re-sends outbox entries, in one round trip:
 * the entries first[h]..first[h + 1] - 1 of ids belong to households[h];
 * entry i is claimed (claimed[i] = 1) when its value in Redis still carries
 * the write time ms[i], which becomes now_ms. So two instances' relays that
 * read the same stranded entry do not both send it: the second finds it
 * claimed (a new time, too young to relay) and leaves it. An entry gone
 * (delivered meanwhile) or not in a hash is not claimed. -EIO. */
int store_outbox_claim(Store *s, const char *const *households, size_t n_households,
                       const size_t *first, const char *const *ids, const int64_t *ms,
                       int64_t now_ms, int *claimed);

/* Deferred mode (the pipeline, around a pass's results and a drain of
 * deliveries): store_open_alert_set(), store_stats_incr() and
 * store_outcomes_incr() queue their commands and return 0 at once, so the
 * outputs of a batch go to Kafka without a Redis round trip each; their
 * replies are read by store_deferred_wait(), or before the next reply the
 * store reads. Turning it off waits for them. */
void store_defer(Store *s, bool on);
/* Sends what deferred mode queued and reads its replies: 0; -EINVAL when
 * Redis refused one (s->err says which; the counters are figures, nothing
 * is lost); -EIO. */
int store_deferred_wait(Store *s);
/* Writes what deferred mode queued, without waiting for the replies (Redis
 * applies it even if this process dies next). */
void store_deferred_send(Store *s);

/* Open alerts by colour (sets <p>:open:red and <p>:open:yellow, kept
 * idempotently after each transition): code NULL means none open. */
int store_open_alert_set(Store *s, const char *household, const char *code);
int store_open_counts(Store *s, int64_t *red, int64_t *yellow);
/* Supervision figures (REQ-14) in the hash <p>:stats: adds by to each field. */
int store_stats_incr(Store *s, const char *const *fields, size_t n, int64_t by);
/* Per-rule outcomes (outcome.h): adds by[i] to each field of
 * <p>:rule_outcomes, in one round trip. 0, -EIO, -EINVAL (a Redis error). */
int store_outcomes_incr(Store *s, const char *const *fields, const int64_t *by, size_t n);
/* The whole <p>:rule_outcomes hash as a JSON object of integers, or NULL. */
json_t *store_outcomes_get(Store *s);
/* The whole stats hash as a JSON object of integers, or NULL. */
json_t *store_stats_get(Store *s);
/* Households listed in the pending index (every shard). Returns a JSON
 * array of strings (new reference) or NULL on error. */
json_t *store_pending_list(Store *s);
/* Outbox entries of n households in one round trip: a JSON array of n
 * objects id -> value (null for a key that is not a hash), or NULL on an
 * I/O error. */
json_t *store_outbox_get_many(Store *s, const char *const *households, size_t n);
/* Removes households whose outbox is empty from the pending index, in two
 * round trips; puts back any that got an entry meanwhile. */
int store_pending_prune_many(Store *s, const char *const *households, size_t n);

/* Appends one line (no personal data) to the audit list <p>:audit, of which
 * the latest STORE_AUDIT_MAX are kept. */
#define STORE_AUDIT_MAX 10000
int store_audit(Store *s, const char *line);

/* Read-only, for previews over every household (hearthctl preview): one
 * SCAN page over the state keys <p>:{*}:h. *cursor is 0 to start and 0
 * again after the last page; *ids receives the household ids of the page
 * (a new JSON array of strings; a household may come twice, as SCAN
 * promises). -EIO, -EINVAL (a SCAN error), -ENOMEM. */
int store_scan_households(Store *s, uint64_t *cursor, size_t count, json_t **ids);
/* Read-only: the documents of n households in one round trip (pipelined
 * HGET), as JSON text: docs[i] (malloc'ed, NUL-terminated, lens[i] bytes;
 * the caller frees it) or NULL for a household with no state. -EIO
 * (nothing returned), -EINVAL when Redis answered an error to some (the
 * others are read). */
int store_docs_get(Store *s, const char *const *households, size_t n, char **docs, size_t *lens);

/* For hearthctl: the household's document, ledger and timeline. */
typedef struct {
        int64_t version;
        json_t *doc, *ledger, *timeline;
        json_t *offsets;  /* {"topic/partition": last applied offset} */
        size_t dedup_ids; /* source+id hashes remembered */
} StoreDump;
/* 0, -ENOENT (no such household), -EIO, -EINVAL (s's error says why).
 * store_dump_done() frees d. */
int store_household_dump(Store *s, const char *household, StoreDump *d);
void store_dump_done(StoreDump *d);
const char *store_errstr(Store *s);
