/* Due timers: reminders, escalations, overdue visits, the end of key
 * monitoring, erasure after retention, and candidates whose grace passed.
 * Each household due is read, stepped and committed like a batch's. */
#include <errno.h>
#include "arena.h"
#include "household.h"
#include "log.h"
#include "pipeline_impl.h"
#include "statement_fire.h"
#include "testhooks.h"

/* Fires the timers of one household read (seen: its due time in the
 * index when it was picked); 1 when there is a commit to send, 0 when
 * nothing fired (*mv: the due time to put back), -ENOMEM. The index is
 * changed only where it still holds seen (store_timer_moves()): an event's
 * commit on another instance may have written a sooner due time
 * meanwhile, and putting back the one of the state read here would delay
 * that household's reminder or escalation until then, or lose it. */
static int timer_prepare(Pipeline *p, const StoreRead *rd, const char *seen, GroupCommit *gc,
                         StoreTimerMove *mv, int64_t now_ms)
{
        const char *h = rd->household;
        *mv = (StoreTimerMove){h, seen, 0};
        if (rd->err || !rd->doc)
                return 0;
        gc->doc = json_incref(rd->doc);
        gc->outputs = json_array();
        bool erased = household_erased(gc->doc);
        int fired = lifecycle_timers(gc->doc, h, now_ms, &p->policy, gc->outputs);
        int r = statement_fire(&rd->rec, &p->policy, gc->doc, h, now_ms, gc->outputs);
        if (r < 0)
                return r;
        fired += r;
        r = p->aid ? aidstore_household(p->aid, gc->doc, h, now_ms, gc->outputs) : 0;
        if (r < 0)
                return r;
        fired += r;
        if (!erased && household_erased(gc->doc)) {
                log_notice("household %s: personal data erased after retention.removed", h);
                fired++;
        }
        if (!household_registered(gc->doc)) {
                StepContext sc = pipeline_step_context(p, true);
                fired += step_candidate(&sc, gc->doc, h, now_ms, gc->outputs);
        }
        int64_t next = lifecycle_next_due(gc->doc);
        if (fired == 0) {
                /* A stale hint: put the real due time back. */
                mv->due_ms = next;
                return 0;
        }
        gc->doc_text = household_dump(gc->doc);
        if (!gc->doc_text || !outbox_prepare(gc, h, now_ms))
                return -ENOMEM;
        gc->c.household = h;
        gc->c.prev = &rd->rec;
        gc->c.expected_version = rd->version;
        gc->c.doc = gc->doc_text;
        gc->c.timer_due = next;
        gc->c.erase = household_erased(gc->doc);
        return 1;
}

static int timers_run(Pipeline *p, int64_t now_ms, size_t max);

/* The jansson values of the slice live in the batch arena (arena.h). */
int pipeline_timers(Pipeline *p, int64_t now_ms, size_t max)
{
        arena_enter();
        int r = timers_run(p, now_ms, max);
        arena_leave();
        return r;
}

static int timers_run(Pipeline *p, int64_t now_ms, size_t max)
{
        json_t *seen = NULL;
        json_t *due = store_timers_due(p->store, now_ms, max, &seen);
        if (!due)
                return -EIO;
        size_t n = json_array_size(due);
        int ret = 0;
        StoreRead *reads = calloc(n ? n : 1, sizeof(StoreRead));
        GroupCommit *gcs = calloc(n ? n : 1, sizeof(GroupCommit));
        StoreCommit *commits = calloc(n ? n : 1, sizeof(StoreCommit));
        size_t *which = calloc(n ? n : 1, sizeof(size_t));
        StoreTimerMove *moves = calloc(n ? n : 1, sizeof(StoreTimerMove));
        size_t n_commits = 0, n_moves = 0;
        if (!reads || !gcs || !commits || !which || !moves) {
                ret = -ENOMEM;
                goto out;
        }
        /* The whole ledger: a benefits statement (statement_fire) lists it. */
        for (size_t i = 0; i < n; i++) {
                reads[i].household = json_string_value(json_array_get(due, i));
                reads[i].history = true;
        }
        if (n && (ret = store_read(p->store, reads, n)) < 0)
                goto out;
        if (n)
                pause_point("timers_read");
        for (size_t i = 0; i < n; i++) {
                int r = timer_prepare(p, &reads[i], json_string_value(json_array_get(seen, i)),
                                      &gcs[i], &moves[n_moves], now_ms);
                if (r < 0) {
                        ret = r;
                        goto out;
                }
                if (r == 1) {
                        commits[n_commits] = gcs[i].c;
                        which[n_commits++] = i;
                } else
                        n_moves++;
        }
        if (n_commits && (ret = store_commit(p->store, commits, n_commits, now_ms)) < 0)
                goto out;
        for (size_t c = 0; c < n_commits; c++) {
                size_t i = which[c];
                if (commits[c].result == -ESTALE && commits[c].timer_due > 0) {
                        /* Lost to a commit of another instance, after this
                         * one's hint (written first) put the due time of
                         * the state read here in the index, maybe over a
                         * sooner one of the state that won: brought forward
                         * to now, the next round reads it again. */
                        store_timer_soon(p->store, reads[i].household, now_ms);
                        continue;
                }
                if (commits[c].result != 0)
                        continue; /* someone else changed it: next round sees it */
                p->stats.timers_fired++;
                outputs_send(p, reads[i].household, &gcs[i], now_ms, "before_produce_timer");
                /* Nothing due any more: out of the index, unless a
                 * newer commit put a due time there since. */
                if (commits[c].timer_due <= 0)
                        moves[n_moves++] = (StoreTimerMove){
                            reads[i].household, json_string_value(json_array_get(seen, i)), 0};
        }
        /* All of the round's index changes in one round trip. One that
         * fails leaves the index as it was: the household is picked and
         * read again, never lost. */
        if (n_moves && store_timer_moves(p->store, moves, n_moves, NULL) < 0)
                log_warning("redis: due-time index not updated (%s); those households are read "
                            "again",
                            store_errstr(p->store));
        ret = (int)n;
out:
        for (size_t i = 0; reads && gcs && i < n; i++) {
                store_read_done(&reads[i]);
                group_commit_done(&gcs[i]);
        }
        free(reads);
        free(gcs);
        free(commits);
        free(which);
        free(moves);
        json_decref(due);
        json_decref(seen);
        return ret;
}
