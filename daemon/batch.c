/* One batch of input messages: decode, group by household, read the
 * households in one round trip, apply the events (pure code), commit each
 * household in one atomic script (the record's version compared before
 * anything is written: offsets and seen ids were checked on the record
 * read), then produce the outputs. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include "aid.h"
#include "aidstore.h"
#include "arena.h"
#include "clock.h"
#include "household.h"
#include "jsonfast.h"
#include "log.h"
#include "pipeline_impl.h"
#include "testhooks.h"

#define MAX_RETRIES 5
#define EVENT_CLOCK_MAX_AGE_MS (24LL * 3600 * 1000)

typedef struct {
        const char *household;
        size_t *items; /* indexes into the batch, in arrival order */
        size_t n;
        bool retry;
} Group;

/* The reads, commits and their storage of one pass over the groups. */
typedef struct {
        StoreRead *reads;
        GroupCommit *gcs;
        StoreCommit *commits;
        size_t *commit_group;
        size_t *work;
        size_t *aid_work; /* groups whose aid check runs before their commit */
        size_t n_work, n_commits, n_aid;
} Pass;

static int cmp_household(const void *a, const void *b, void *ctx)
{
        const Item *items = ctx;
        size_t x = *(const size_t *)a, y = *(const size_t *)b;
        int c = strcmp(items[x].ev.subject, items[y].ev.subject);
        if (c)
                return c;
        return (x > y) - (x < y);
}

/* The optional allow-list sources.allow: may ev's source send its type?
 * If not, writes the dead-letter reason into err. */
static bool source_allowed(const Config *cfg, const Event *ev, char *err, size_t len)
{
        const char *type = event_type_name(ev->type);
        for (size_t i = 0; i < cfg->n_sources_allow; i++) {
                if (!streq(cfg->sources_allow[i].key, type))
                        continue;
                const char *list = cfg->sources_allow[i].value;
                while (list && *list) {
                        size_t n = strcspn(list, ",");
                        while (n > 0 && list[0] == ' ') {
                                list++;
                                n--;
                        }
                        if (n > 0 && strncmp(ev->source, list, n) == 0)
                                return true;
                        list += n + (list[n] == ',');
                }
                snprintf(err, len, "source: '%.200s' may not send %s (sources.allow)", ev->source,
                         type);
                return false;
        }
        return true;
}

/* The clock of the transitions an input event causes: its Kafka timestamp
 * (when it entered the feed) when that lies within the last day, else now.
 * The same message processed again (after a crash, or after Redis lost its
 * last writes) then yields byte-identical output events (CONTRACT.md). */
static int64_t event_clock(const rd_kafka_message_t *m, int64_t now)
{
        rd_kafka_timestamp_type_t type;
        int64_t ts = rd_kafka_message_timestamp(m, &type);
        if (type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || ts > now ||
            now - ts > EVENT_CLOCK_MAX_AGE_MS)
                return now;
        return ts;
}

/* Notes an applied item in the commit: its seen id and its partition's
 * highest offset. */
static void commit_note(GroupCommit *gc, Item *it, size_t index)
{
        gc->seen[gc->c.n_seen++] = it->seen;
        gc->applied[gc->n_applied++] = index;
        size_t j;
        for (j = 0; j < gc->c.n_off; j++)
                if (streq(gc->off_fields[j], it->tp))
                        break;
        if (j == gc->c.n_off) {
                gc->off_fields[j] = it->tp;
                gc->c.n_off++;
        }
        if (it->m->offset > gc->offsets[j])
                gc->offsets[j] = it->m->offset;
}

/* Already applied: an older position was re-read, or a duplicate by
 * source+id (in Redis or earlier in this batch). */
static bool is_duplicate(const Item *it, const StoreRead *rd, size_t k, const GroupCommit *gc)
{
        bool dup = rd->applied[k] >= 0 && it->m->offset <= rd->applied[k];
        dup = dup || rd->seen_found[k];
        for (size_t j = 0; j < gc->c.n_seen && !dup; j++)
                dup = streq(gc->seen[j], it->seen);
        return dup;
}

/* Applies the group's new events to its document. 0, -EAGAIN (a dead
 * letter could not be produced), -ENOMEM. */
static int group_apply(Pipeline *p, Item *items, Group *g, StoreRead *rd, GroupCommit *gc,
                       int64_t now)
{
        HouseholdEffects fx = {gc->ledger, gc->timeline, 0};
        for (size_t k = 0; k < g->n; k++) {
                Item *it = &items[g->items[k]];
                if (it->state != ITEM_NEW)
                        continue;
                if (is_duplicate(it, rd, k, gc)) {
                        it->state = ITEM_DONE;
                        p->stats.duplicates++;
                        continue;
                }
                int r = supervised_step(p, gc->doc, g->household, &it->ev, event_clock(it->m, now),
                                        &fx, gc->outputs, gc->outcomes);
                if (r == -ENOSPC) {
                        r = dead_letter(p, it,
                                        it->ev.type == EV_NEED_REPORTED
                                            ? "data.need_id: too many open needs"
                                            : "subject: the household is not registered and the "
                                              "events kept for it reached their limit (200 "
                                              "events or 64 KiB)");
                        if (r < 0)
                                return r;
                        continue;
                }
                if (r < 0)
                        return r; /* out of memory: nothing committed, tried again */
                if (r & LIFECYCLE_ALERT_CLOSED)
                        gc->alert_closed = true;
                commit_note(gc, it, g->items[k]);
        }
        return 0;
}

/* Fills the commit's texts (document, ledger, timeline) and fields. */
static bool commit_fill(GroupCommit *gc, const char *household, const StoreRead *rd)
{
        gc->c.timer_due = lifecycle_next_due(gc->doc);
        gc->c.erase = household_erased(gc->doc);
        gc->doc_text = household_dump(gc->doc);
        gc->ledger_s = calloc(json_array_size(gc->ledger) + 1, sizeof(char *));
        gc->timeline_s = calloc(json_array_size(gc->timeline) + 1, sizeof(char *));
        if (!gc->doc_text || !gc->ledger_s || !gc->timeline_s)
                return false;
        size_t i;
        json_t *e;
        json_array_foreach (gc->ledger, i, e)
                if (!(gc->ledger_s[gc->c.n_ledger++] = jsonfast_dump(e)))
                        return false;
        json_array_foreach (gc->timeline, i, e)
                if (!(gc->timeline_s[gc->c.n_timeline++] = jsonfast_dump(e)))
                        return false;
        gc->c.household = household;
        gc->c.prev = &rd->rec;
        gc->c.expected_version = rd->version;
        gc->c.doc = gc->doc_text;
        gc->c.off_fields = gc->off_fields;
        gc->c.offsets = gc->offsets;
        gc->c.seen = gc->seen;
        gc->c.ledger = gc->ledger_s;
        gc->c.timeline = gc->timeline_s;
        return true;
}

/* Applies one group's events. 1 when there is a commit to finish
 * (group_finish()), 0 when nothing was applied (or memory failed: the
 * items stay new and the batch is tried again), -EAGAIN. */
static int group_prepare(Pipeline *p, Item *items, Group *g, StoreRead *rd, GroupCommit *gc,
                         int64_t now)
{
        *gc = (GroupCommit){0};
        gc->outputs = json_array();
        gc->outcomes = json_array();
        gc->doc = rd->doc ? json_incref(rd->doc) : household_new();
        gc->ledger = json_array();
        gc->timeline = json_array();
        gc->off_fields = calloc(g->n, sizeof(char *));
        gc->offsets = calloc(g->n, sizeof(int64_t));
        gc->seen = calloc(g->n, sizeof(char *));
        gc->applied = calloc(g->n, sizeof(size_t));
        if (!gc->doc || !gc->ledger || !gc->timeline || !gc->off_fields || !gc->offsets ||
            !gc->seen || !gc->applied)
                return 0;
        int r = group_apply(p, items, g, rd, gc, now);
        if (r == -EAGAIN)
                return r;
        if (r < 0 || !gc->n_applied)
                return 0;
        /* After the whole group: a registration among its events counts. */
        StepContext sc = pipeline_step_context(p, true);
        step_candidate(&sc, gc->doc, g->household,
                       event_clock(items[gc->applied[gc->n_applied - 1]].m, now), gc->outputs);
        return 1;
}

/* The commit of a group applied: its outbox and texts. 1, or 0 when
 * memory failed (the items stay new). */
static int group_finish(GroupCommit *gc, const char *household, const StoreRead *rd, int64_t now)
{
        return outbox_prepare(gc, household, now) && commit_fill(gc, household, rd);
}

/* Did the group's events make its aid check due (aid.h: a want changed, a
 * match was answered)? The check then runs in this pass, before the
 * commit, instead of as a timer a moment later: that would read, decode,
 * commit the household again and move it twice in the timer index, for
 * a quarter of the events in the bench's load. */
static bool aid_due(const Pipeline *p, const GroupCommit *gc, int64_t now)
{
        int64_t due = aid_next_due(gc->doc);
        return p->aid && due > 0 && due <= now;
}

static void pass_done(Pass *ps)
{
        for (size_t w = 0; ps->reads && ps->gcs && w < ps->n_work; w++) {
                store_read_done(&ps->reads[w]);
                free(ps->reads[w].tps);
                free(ps->reads[w].seen);
                free(ps->reads[w].applied);
                free(ps->reads[w].seen_found);
                group_commit_done(&ps->gcs[w]);
        }
        free(ps->reads);
        free(ps->gcs);
        free(ps->commits);
        free(ps->commit_group);
        free(ps->work);
        free(ps->aid_work);
}

/* The reads of the groups marked for work. 0 or -ENOMEM. */
static int pass_reads(Pass *ps, Item *items, Group *groups, size_t n_groups)
{
        for (size_t i = 0; i < n_groups; i++) {
                Group *g = &groups[i];
                if (!g->retry)
                        continue;
                g->retry = false;
                StoreRead *r = &ps->reads[ps->n_work];
                r->household = g->household;
                r->tps = calloc(g->n, sizeof(char *));
                r->seen = calloc(g->n, sizeof(char *));
                r->applied = calloc(g->n, sizeof(int64_t));
                r->seen_found = calloc(g->n, sizeof(bool));
                ps->work[ps->n_work++] = i;
                if (!r->tps || !r->seen || !r->applied || !r->seen_found)
                        return -ENOMEM;
                for (size_t k = 0; k < g->n; k++) {
                        r->tps[k] = items[g->items[k]].tp;
                        r->seen[k] = items[g->items[k]].seen;
                }
                r->n_tps = r->n_seen = g->n;
        }
        return 0;
}

/* Dead-letters the new items of a group. 0 or dead_letter()'s error. */
static int group_dead_letter(Pipeline *p, Item *items, const size_t *idx, size_t n, const char *why)
{
        for (size_t k = 0; k < n; k++)
                if (items[idx[k]].state == ITEM_NEW) {
                        int r = dead_letter(p, &items[idx[k]], why);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int pass_results_run(Pipeline *p, Pass *ps, Item *items, Group *groups, int64_t now);

/* The open-alert sets and counters of the pass go in one round trip after
 * its outputs are produced (store_defer()). */
static int pass_results(Pipeline *p, Pass *ps, Item *items, Group *groups, int64_t now)
{
        store_defer(p->store, true);
        int r = pass_results_run(p, ps, items, groups, now);
        store_defer(p->store, false);
        return r;
}

/* What became of each commit: done, raced (read again), or refused. */
static int pass_results_run(Pipeline *p, Pass *ps, Item *items, Group *groups, int64_t now)
{
        for (size_t c = 0; c < ps->n_commits; c++) {
                size_t w = ps->commit_group[c];
                Group *g = &groups[ps->work[w]];
                GroupCommit *gc = &ps->gcs[w];
                int result = ps->commits[c].result;
                if (result == 0) {
                        p->stats.commits++;
                        for (size_t k = 0; k < gc->n_applied; k++) {
                                items[gc->applied[k]].state = ITEM_DONE;
                                p->stats.applied++;
                        }
                        outputs_send(p, g->household, gc, now, "before_produce");
                        inputs_count(p, items, gc);
                        outcomes_count(p, gc);
                } else if (result == -ESTALE || result == -EALREADY || result == -ENOEXEC) {
                        /* Someone changed the household meanwhile (another
                         * instance, a zombie) or the script was flushed:
                         * read again and redo; the checks make it safe. */
                        p->stats.conflicts++;
                        g->retry = true;
                        if (result == -ENOEXEC)
                                log_ratelimited(LOG_NOTICE,
                                                "redis: the commit script was flushed (NOSCRIPT); "
                                                "reloaded it, retrying the commit");
                } else {
                        int r = group_dead_letter(p, items, gc->applied, gc->n_applied,
                                                  ps->commits[c].errmsg);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* Waits for the commits from the first on; 0 or store_commit_wait()'s error. */
static int pass_wait(Pipeline *p, Pass *ps, size_t first)
{
        if (ps->n_commits <= first)
                return 0;
        int64_t t1 = clock_mono_us();
        int ret = store_commit_wait(p->store, ps->commits + first, ps->n_commits - first);
        metric_observe(p, "hearth_redis_roundtrip_seconds", (double)(clock_mono_us() - t1) / 1e6);
        return ret;
}

/* Finishes the commit of group w (applied) and sends it; at most left
 * more follow before the pass waits for them. */
static void pass_send(Pipeline *p, Pass *ps, Group *groups, size_t w, int64_t now, size_t left)
{
        GroupCommit *gc = &ps->gcs[w];
        if (!group_finish(gc, groups[ps->work[w]].household, &ps->reads[w], now))
                return;
        ps->commits[ps->n_commits] = gc->c;
        /* Sent now: Redis runs it while the next household is prepared
         * (perf: a strict read-prepare-commit sequence left Redis idle half
         * of each batch). */
        store_commit_send(p->store, &ps->commits[ps->n_commits], now, left);
        ps->commit_group[ps->n_commits++] = w;
}

/* The aid checks of the pass (aid_due()), once no reply is outstanding on
 * the connection (aidstore.c asks Redis and waits for each answer), then
 * their commits. A check that fails (-EIO) goes into *failed, and its
 * group and those after it are not committed: their items stay new and
 * are tried again with the batch, the commits before stand. Returns 0,
 * or the commits' store_commit_wait() error (their results unknown). */
static int pass_aid(Pipeline *p, Pass *ps, Group *groups, int64_t now, int *failed)
{
        size_t first = ps->n_commits, done = 0;
        aidstore_defer(p->aid, true);
        for (; done < ps->n_aid; done++) {
                size_t w = ps->aid_work[done];
                int r = aidstore_household(p->aid, ps->gcs[w].doc, groups[ps->work[w]].household,
                                           now, ps->gcs[w].outputs);
                if (r < 0) {
                        *failed = r;
                        break;
                }
        }
        /* The queued writes of the waiting index, answered in one round
         * trip before the commits that record them. */
        int r = aidstore_flush(p->aid);
        aidstore_defer(p->aid, false);
        if (r < 0) {
                *failed = r;
                done = 0;
        }
        for (size_t a = 0; a < done; a++)
                pass_send(p, ps, groups, ps->aid_work[a], now, done - a - 1);
        return pass_wait(p, ps, first);
}

/* Reads, applies and commits the groups marked for work; sets retry on
 * those that lost a race. Returns -EIO/-ESTALE from Redis, -EAGAIN. */
static int process_groups(Pipeline *p, Item *items, Group *groups, size_t n_groups, int64_t now)
{
        Pass ps = {.reads = calloc(n_groups, sizeof(StoreRead)),
                   .gcs = calloc(n_groups, sizeof(GroupCommit)),
                   .commits = calloc(n_groups, sizeof(StoreCommit)),
                   .commit_group = calloc(n_groups, sizeof(size_t)),
                   .work = calloc(n_groups, sizeof(size_t)),
                   .aid_work = calloc(n_groups, sizeof(size_t))};
        int ret = -ENOMEM;
        if (!ps.reads || !ps.gcs || !ps.commits || !ps.commit_group || !ps.work || !ps.aid_work ||
            pass_reads(&ps, items, groups, n_groups) < 0)
                goto out;
        ret = 0;
        if (!ps.n_work)
                goto out;
        int64_t t0 = clock_mono_us();
        ret = store_read(p->store, ps.reads, ps.n_work);
        metric_observe(p, "hearth_redis_roundtrip_seconds", (double)(clock_mono_us() - t0) / 1e6);
        if (ret < 0)
                goto out;
        int stopped = 0; /* a dead letter the producer could not take */
        for (size_t w = 0; w < ps.n_work && !stopped; w++) {
                Group *g = &groups[ps.work[w]];
                /* A key of the wrong type or a broken document: this
                 * household's events cannot be applied; others flow. */
                int r = ps.reads[w].err
                            ? group_dead_letter(p, items, g->items, g->n, ps.reads[w].errmsg)
                            : group_prepare(p, items, g, &ps.reads[w], &ps.gcs[w], now);
                if (r < 0) {
                        /* The commits sent already are finished first. */
                        stopped = r;
                        continue;
                }
                if (r == 1 && !ps.reads[w].err) {
                        if (aid_due(p, &ps.gcs[w], now))
                                ps.aid_work[ps.n_aid++] = w;
                        else
                                pass_send(p, &ps, groups, w, now, ps.n_work - w - 1);
                }
        }
        if ((ret = pass_wait(p, &ps, 0)) < 0)
                goto out;
        /* An aid check that failed is reported once the commits that went
         * through are finished. */
        if (ps.n_aid && !stopped && (ret = pass_aid(p, &ps, groups, now, &stopped)) < 0)
                goto out;
        if (ps.n_commits)
                crash_point("after_commit");
        ret = pass_results(p, &ps, items, groups, now);
        if (ret == 0)
                ret = stopped;
out:
        pass_done(&ps);
        return ret;
}

/* The message's headers (borrowed from it) into hdrs, at most max of them.
 * Why max: a message with more headers than the decoder allows needs only
 * one more than the limit to be refused. */
static size_t message_headers(rd_kafka_message_t *m, EventHeader *hdrs, size_t max)
{
        rd_kafka_headers_t *h;
        if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR)
                return 0;
        size_t n = 0;
        const char *name;
        const void *value;
        size_t len;
        while (n < max &&
               rd_kafka_header_get_all(h, n, &name, &value, &len) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                hdrs[n++] = (EventHeader){name, value, value ? len : 0};
        }
        return n;
}

/* Decodes the batch; invalid messages go to the dead-letter topic. Fills
 * order with the valid items; returns how many, or a negative errno. */
static ssize_t batch_decode(Pipeline *p, rd_kafka_message_t **msgs, size_t n, Item *items,
                            size_t *order, int64_t now_ms)
{
        size_t n_valid = 0;
        for (size_t i = 0; i < n; i++) {
                Item *it = &items[i];
                char err[512];
                it->m = msgs[i];
                tp_format(it->tp, sizeof(it->tp), rd_kafka_topic_name(msgs[i]->rkt),
                          (int)msgs[i]->partition);
                if (!positions_get(p->positions, rd_kafka_topic_name(msgs[i]->rkt),
                                   msgs[i]->partition, true))
                        return -ENOMEM;
                EventHeader hdrs[EVENT_MAX_HEADERS + 1];
                EventMessage em = {.key = msgs[i]->key,
                                   .keylen = msgs[i]->key_len,
                                   .headers = hdrs,
                                   .n_headers = message_headers(msgs[i], hdrs, ELEMENTSOF(hdrs)),
                                   .value = msgs[i]->payload,
                                   .len = msgs[i]->len};
                if (event_decode_message(p->dec, &em, &it->ev, err, sizeof(err)) < 0 ||
                    !source_allowed(p->cfg, &it->ev, err, sizeof(err))) {
                        int r = dead_letter(p, it, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                crash_subject(it->ev.subject);
                if (p->aid && aidstore_handles(&it->ev)) {
                        /* An aid offer is no household: aidstore.c applies it once. */
                        int r = aidstore_offer_apply(p->aid, &it->ev, now_ms, err, sizeof(err));
                        if (r == -EIO)
                                return r;
                        if (r < 0 && (r = dead_letter(p, it, err)) < 0)
                                return r;
                        if (it->state == ITEM_NEW)
                                it->state = ITEM_DONE;
                        continue;
                }
                hex16_format(it->seen, event_dedup_hash(it->ev.source, it->ev.id));
                order[n_valid++] = i;
        }
        return (ssize_t)n_valid;
}

/* Groups the valid items by household, in arrival order within each. */
static size_t batch_group(Item *items, size_t *order, size_t n_valid, Group *groups)
{
        size_t n_groups = 0;
        qsort_r(order, n_valid, sizeof(size_t), cmp_household, items);
        for (size_t k = 0; k < n_valid; k++) {
                const char *h = items[order[k]].ev.subject;
                if (!n_groups || !streq(groups[n_groups - 1].household, h))
                        groups[n_groups++] =
                            (Group){.household = h, .items = &order[k], .retry = true};
                groups[n_groups - 1].n++;
        }
        return n_groups;
}

/* Every item done or dead: the positions move, the counts go on. */
static int batch_finish(Pipeline *p, rd_kafka_message_t **msgs, size_t n, const Item *items,
                        int64_t started)
{
        for (size_t i = 0; i < n; i++) {
                if (items[i].state == ITEM_NEW)
                        return -EIO; /* cannot happen: every item ends done or dead */
                if (items[i].state != ITEM_DONE)
                        continue;
                Track *t = positions_get(p->positions, rd_kafka_topic_name(msgs[i]->rkt),
                                         msgs[i]->partition, false);
                if (t)
                        track_done(t, msgs[i]->offset);
                metric_count(p, "hearth_events_total", 1, "topic",
                             rd_kafka_topic_name(msgs[i]->rkt), "type",
                             event_type_name(items[i].ev.type), NULL);
        }
        double secs = (double)(clock_mono_us() - started) / 1e6;
        for (size_t i = 0; i < n; i++)
                metric_observe(p, "hearth_event_processing_seconds", secs);
        p->stats.consumed += n;
        return 0;
}

static int process(Pipeline *p, rd_kafka_message_t **msgs, size_t n, int64_t now_ms);

/* Every jansson value of the batch lives and dies in the batch arena
 * (arena.h): the events decoded, the documents read, stepped, dumped and
 * freed, the outputs rendered. What outlives the batch is copied out
 * (texts from malloc, counters, positions). */
int pipeline_process(Pipeline *p, rd_kafka_message_t **msgs, size_t n, int64_t now_ms)
{
        arena_enter();
        int r = process(p, msgs, n, now_ms);
        arena_leave();
        return r;
}

static int process(Pipeline *p, rd_kafka_message_t **msgs, size_t n, int64_t now_ms)
{
        int64_t started = clock_mono_us();
        if (p->state_lost)
                return -ESTALE;
        Item *items = calloc(n ? n : 1, sizeof(Item));
        size_t *order = calloc(n ? n : 1, sizeof(size_t));
        Group *groups = calloc(n ? n : 1, sizeof(Group));
        int ret = -ENOMEM;
        if (!items || !order || !groups)
                goto out;
        ssize_t n_valid = batch_decode(p, msgs, n, items, order, now_ms);
        if (n_valid < 0) {
                ret = (int)n_valid;
                goto out;
        }
        size_t n_groups = batch_group(items, order, (size_t)n_valid, groups);
        for (int attempt = 0;; attempt++) {
                ret = process_groups(p, items, groups, n_groups, now_ms);
                if (ret < 0)
                        goto out;
                bool again = false;
                for (size_t g = 0; g < n_groups; g++)
                        again = again || groups[g].retry;
                if (!again)
                        break;
                if (attempt >= MAX_RETRIES) {
                        /* Persistent races: treat like a Redis failure, the
                         * caller retries the batch later. */
                        ret = -EIO;
                        goto out;
                }
        }
        ret = batch_finish(p, msgs, n, items, started);
out:
        for (size_t i = 0; items && i < n; i++)
                event_done(&items[i].ev);
        free(items);
        free(order);
        free(groups);
        return ret;
}
