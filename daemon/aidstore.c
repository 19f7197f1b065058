/* Social aid offers in Redis (REQ-12): offer events once, atomic capacity, a household's matching.
 */
#include "aidstore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aid.h"
#include "arena.h"
#include "departments.h"
#include "household.h"
#include "lifecycle.h"
#include "macro.h"

#define DAY_MS (24LL * 3600 * 1000)
#define CST_MS (8LL * 3600 * 1000)

/* Categories found without an open offer at one instant: a batch's aid
 * checks share their now, so a category is asked once per batch, not once
 * per household (a household waits in the category's index either way,
 * and an offer registered later wakes it). */
#define EMPTY_MEMO 16

struct AidStore {
        Redis *redis;
        Store *store;
        char *prefix;
        const ConfigDepartment *departments;
        size_t n_departments;
        int64_t empty_now; /* the instant the memo holds */
        size_t n_empty;
        char empty[EMPTY_MEMO][24];
        bool defer;    /* aidstore_defer(): waiting index writes are queued */
        size_t queued; /* their replies not read yet */
};

void aidstore_defer(AidStore *a, bool on)
{
        a->defer = on && !redis_is_cluster(a->redis);
}

int aidstore_flush(AidStore *a)
{
        int r = 0;
        for (; a->queued > 0; a->queued--) {
                redisReply *rep;
                if (redis_get_reply(a->redis, &rep) < 0)
                        r = -EIO; /* disconnected: the other replies are gone too */
                else
                        freeReplyObject(rep); /* an error reply: as redis_command()'s, ignored */
        }
        return r;
}

/* A write of the waiting index: queued when deferred, else sent and
 * answered. 0 or -EIO. */
static int waiting_cmd(AidStore *a, const char *cmd, const char *category, const char *score,
                       const char *household)
{
        char key[256];
        snprintf(key, sizeof(key), "%s:aid:waiting:%s", a->prefix, category);
        const char *argv[4] = {cmd, key, score ? score : household, household};
        int argc = score ? 4 : 3;
        size_t lens[4];
        for (int i = 0; i < argc; i++)
                lens[i] = strlen(argv[i]);
        if (a->defer) {
                redis_append(a->redis, argc, argv, lens);
                a->queued++;
                return 0;
        }
        _cleanup_(freeReplyObjectp) redisReply *r = redis_command_argv(a->redis, argc, argv, lens);
        return r ? 0 : -EIO;
}

static bool memo_empty(AidStore *a, const char *category, int64_t now)
{
        if (now != a->empty_now) {
                a->empty_now = now;
                a->n_empty = 0;
        }
        for (size_t i = 0; i < a->n_empty; i++)
                if (streq(a->empty[i], category))
                        return true;
        return false;
}

static void memo_note_empty(AidStore *a, const char *category)
{
        if (a->n_empty < EMPTY_MEMO && strlen(category) < sizeof(a->empty[0]))
                snprintf(a->empty[a->n_empty++], sizeof(a->empty[0]), "%s", category);
}

/* KEYS offer, reserved, used; ARGV seen, category, town, capacity,
 * valid_until, provider, expire_ms, now, max events. 1 applied, 0 seen
 * before, -2 already expired, -3 too many events for one offer. */
static const char REGISTER_LUA[] =
    "if redis.call('HEXISTS', KEYS[1], 'seen:'..ARGV[1]) == 1 then return 0 end\n"
    "if tonumber(ARGV[7]) <= tonumber(ARGV[8]) then return -2 end\n"
    "if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[9]) + 8 then return -3 end\n"
    "redis.call('HSET', KEYS[1], 'seen:'..ARGV[1], '1', 'category', ARGV[2], 'town', ARGV[3],\n"
    "  'capacity', ARGV[4], 'valid_until', ARGV[5], 'provider', ARGV[6], 'expire_ms', ARGV[7],\n"
    "  'withdrawn', '0')\n"
    "for i = 1, 3 do redis.call('PEXPIREAT', KEYS[i], ARGV[7]) end\n"
    "return 1\n";

/* KEYS offer; ARGV seen. 1 withdrawn, 0 seen before, -1 no such offer. */
static const char WITHDRAW_LUA[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end\n"
    "if redis.call('HEXISTS', KEYS[1], 'seen:'..ARGV[1]) == 1 then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'seen:'..ARGV[1], '1', 'withdrawn', '1')\n"
    "return 1\n";

/* KEYS offer, reserved, used; ARGV household, now. The one place where a
 * place is taken: reserved + used never exceed capacity. 2 held already,
 * 1 reserved now, 0 full, -1 gone, withdrawn or expired. */
static const char RESERVE_LUA[] =
    "if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 or\n"
    "   redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return 2 end\n"
    "local o = redis.call('HMGET', KEYS[1], 'capacity', 'withdrawn', 'expire_ms')\n"
    "if not o[1] or o[2] == '1' or tonumber(o[3]) <= tonumber(ARGV[2]) then return -1 end\n"
    "if redis.call('SCARD', KEYS[2]) + redis.call('SCARD', KEYS[3]) >= tonumber(o[1]) then\n"
    "  return 0 end\n"
    "redis.call('SADD', KEYS[2], ARGV[1])\n"
    "redis.call('PEXPIREAT', KEYS[2], o[3])\n"
    "return 1\n";

/* KEYS offer, reserved, used; ARGV household. Acceptance: the reserved
 * place becomes used (a place given back meanwhile is taken again only if
 * one is free). 1 used, 0 full or gone. */
static const char USE_LUA[] =
    "if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return 1 end\n"
    "local o = redis.call('HMGET', KEYS[1], 'capacity', 'expire_ms')\n"
    "if not o[1] then return 0 end\n"
    "if redis.call('SREM', KEYS[2], ARGV[1]) == 0 and\n"
    "   redis.call('SCARD', KEYS[2]) + redis.call('SCARD', KEYS[3]) >= tonumber(o[1]) then\n"
    "  return 0 end\n"
    "redis.call('SADD', KEYS[3], ARGV[1])\n"
    "redis.call('PEXPIREAT', KEYS[3], o[2])\n"
    "return 1\n";

/* KEYS offer, reserved, used; ARGV household, now. {category, town,
 * capacity, valid_until, provider, taken, mine} or false when the offer is
 * gone, withdrawn or expired. */
static const char READ_LUA[] =
    "local o = redis.call('HMGET', KEYS[1], 'category', 'town', 'capacity', 'valid_until',\n"
    "  'provider', 'withdrawn', 'expire_ms')\n"
    "if not o[1] or o[6] == '1' or tonumber(o[7]) <= tonumber(ARGV[2]) then return false end\n"
    "local mine = redis.call('SISMEMBER', KEYS[2], ARGV[1]) + redis.call('SISMEMBER', KEYS[3],\n"
    "  ARGV[1])\n"
    "return {o[1], o[2], o[3], o[4], o[5],\n"
    "  redis.call('SCARD', KEYS[2]) + redis.call('SCARD', KEYS[3]), mine}\n";

AidStore *aidstore_new(Redis *redis, Store *store, const char *prefix,
                       const ConfigDepartment *departments, size_t n_departments)
{
        AidStore *a = calloc(1, sizeof(AidStore));
        if (!a || !(a->prefix = strdup(prefix))) {
                free(a);
                return NULL;
        }
        a->redis = redis;
        a->store = store;
        a->departments = departments;
        a->n_departments = n_departments;
        return a;
}

AidStore *aidstore_free(AidStore *a)
{
        if (a) {
                free(a->prefix);
                free(a);
        }
        return NULL;
}

bool aidstore_handles(const Event *ev)
{
        return ev->type == EV_AID_OFFER_REGISTERED || ev->type == EV_AID_OFFER_WITHDRAWN;
}

/* The offer's three keys. */
static void offer_keys(const AidStore *a, const char *offer, char k[3][200])
{
        snprintf(k[0], 200, "%s:{%s}:offer", a->prefix, offer);
        snprintf(k[1], 200, "%s:{%s}:offer:r", a->prefix, offer);
        snprintf(k[2], 200, "%s:{%s}:offer:u", a->prefix, offer);
}

/* EVAL script over the offer's keys with args; the reply (caller frees)
 * or NULL on an I/O error or a Redis error. */
static redisReply *offer_eval(AidStore *a, const char *script, const char *offer, const char **args,
                              int n_args)
{
        char k[3][200];
        const char *argv[16];
        int argc = 0;
        offer_keys(a, offer, k);
        argv[argc++] = "EVAL";
        argv[argc++] = script;
        argv[argc++] = "3";
        for (int i = 0; i < 3; i++)
                argv[argc++] = k[i];
        for (int i = 0; i < n_args && argc < 16; i++)
                argv[argc++] = args[i];
        redisReply *r = redis_command_argv(a->redis, argc, argv, NULL);
        if (r && r->type == REDIS_REPLY_ERROR) {
                freeReplyObject(r);
                return NULL;
        }
        return r;
}

static long long reply_int(const redisReply *r)
{
        return r && r->type == REDIS_REPLY_INTEGER ? r->integer : -100;
}

/* Wakes the households waiting for category: due times now, now+1... in
 * priority order, so that the timer path serves them in that order. */
static int poke(AidStore *a, const char *category, int64_t now)
{
        _cleanup_(freeReplyObjectp) redisReply *r = redis_command(
            a->redis, "ZRANGE %s:aid:waiting:%s 0 %d", a->prefix, category, AIDSTORE_POKE_MAX - 1);
        if (!r)
                return -EIO;
        for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
                if (store_timer_set(a->store, r->element[i]->str, now + (int64_t)i) < 0)
                        return -EIO;
        return 0;
}

/* End of the valid_until day in China time, wall ms. */
static int64_t expiry_of(const char *valid_until)
{
        int32_t d;
        if (!valid_until || date_parse(valid_until, &d) < 0)
                return 0;
        return (int64_t)(d + 1) * DAY_MS - CST_MS;
}

static int offer_register(AidStore *a, const Event *ev, const char *seen, int64_t now, char *err,
                          size_t errlen)
{
        const char *offer = ev->subject, *cat = event_str(ev, "category");
        char cap[24], exp[24], nows[24], maxev[24];
        int64_t expire = expiry_of(event_str(ev, "valid_until"));
        _cleanup_free_ char *provider =
            arena_json_dumps(json_object_get(ev->data, "provider"), JSON_COMPACT);
        snprintf(cap, sizeof(cap), "%" PRId64, event_int(ev, "capacity"));
        snprintf(exp, sizeof(exp), "%" PRId64, expire);
        snprintf(nows, sizeof(nows), "%" PRId64, now);
        snprintf(maxev, sizeof(maxev), "%d", AIDSTORE_MAX_EVENTS);
        /* The bound on active offers (expired ones leave the count). */
        _cleanup_(freeReplyObjectp) redisReply *c1 = redis_command(
            a->redis, "ZREMRANGEBYSCORE %s:aid:offers -inf %lld", a->prefix, (long long)now);
        _cleanup_(freeReplyObjectp) redisReply *c2 =
            redis_command(a->redis, "ZCARD %s:aid:offers", a->prefix);
        _cleanup_(freeReplyObjectp) redisReply *c3 =
            redis_command(a->redis, "ZSCORE %s:aid:offers %s", a->prefix, offer);
        if (!c1 || !c2 || !c3)
                return -EIO;
        if (c3->type == REDIS_REPLY_NIL && reply_int(c2) >= AIDSTORE_MAX_OFFERS) {
                snprintf(err, errlen, "subject: %d aid offers are active already (the bound)",
                         AIDSTORE_MAX_OFFERS);
                return -ENOSPC;
        }
        const char *args[9] = {seen,
                               cat,
                               event_str(ev, "town") ?: "",
                               cap,
                               event_str(ev, "valid_until"),
                               provider ? provider : "null",
                               exp,
                               nows,
                               maxev};
        _cleanup_(freeReplyObjectp) redisReply *r = offer_eval(a, REGISTER_LUA, offer, args, 9);
        long long res = reply_int(r);
        if (!r)
                return -EIO;
        if (res == -2) {
                snprintf(err, errlen, "data.valid_until: the offer has expired already");
                return -EINVAL;
        }
        if (res == -3) {
                snprintf(err, errlen, "subject: more than %d events for one aid offer",
                         AIDSTORE_MAX_EVENTS);
                return -ENOSPC;
        }
        /* The indexes are hints, written again on a redelivery. */
        _cleanup_(freeReplyObjectp) redisReply *z1 = redis_command(
            a->redis, "ZADD %s:aid:offers %lld %s", a->prefix, (long long)expire, offer);
        _cleanup_(freeReplyObjectp) redisReply *z2 = redis_command(
            a->redis, "ZADD %s:aid:cat:%s %lld %s", a->prefix, cat, (long long)expire, offer);
        if (!z1 || !z2)
                return -EIO;
        return poke(a, cat, now);
}

int aidstore_offer_apply(AidStore *a, const Event *ev, int64_t now, char *err, size_t errlen)
{
        a->n_empty = 0; /* a category may have an offer from now on */
        char seen[17];
        hex16_format(seen, event_dedup_hash(ev->source, ev->id));
        if (ev->type == EV_AID_OFFER_REGISTERED)
                return offer_register(a, ev, seen, now, err, errlen);
        const char *args[1] = {seen};
        _cleanup_(freeReplyObjectp) redisReply *r =
            offer_eval(a, WITHDRAW_LUA, ev->subject, args, 1);
        if (!r)
                return -EIO;
        _cleanup_(freeReplyObjectp) redisReply *h =
            redis_command(a->redis, "HGET %s:{%s}:offer category", a->prefix, ev->subject);
        if (!h)
                return -EIO;
        if (h->type == REDIS_REPLY_STRING) {
                _cleanup_(freeReplyObjectp) redisReply *z = redis_command(
                    a->redis, "ZREM %s:aid:cat:%s %s", a->prefix, h->str, ev->subject);
                if (!z)
                        return -EIO;
        }
        _cleanup_(freeReplyObjectp) redisReply *z =
            redis_command(a->redis, "ZREM %s:aid:offers %s", a->prefix, ev->subject);
        return z ? 0 : -EIO;
}

/* The offers of one category as matching sees them for household: fills
 * offers (strings owned by *keep, a JSON array the caller frees). */
static int offers_load(AidStore *a, const char *category, const char *household, int64_t now,
                       AidOffer *offers, size_t max, size_t *n, json_t *keep)
{
        char nows[24];
        snprintf(nows, sizeof(nows), "%" PRId64, now);
        *n = 0;
        if (memo_empty(a, category, now))
                return 0;
        if (aidstore_flush(a) < 0)
                return -EIO;
        _cleanup_(freeReplyObjectp) redisReply *ids =
            redis_command(a->redis, "ZRANGEBYSCORE %s:aid:cat:%s (%lld +inf LIMIT 0 %d", a->prefix,
                          category, (long long)now, AIDSTORE_CATEGORY_READ);
        if (!ids)
                return -EIO;
        if (ids->type == REDIS_REPLY_ARRAY && ids->elements == 0)
                memo_note_empty(a, category);
        for (size_t i = 0; ids->type == REDIS_REPLY_ARRAY && i < ids->elements && *n < max; i++) {
                const char *args[2] = {household, nows};
                _cleanup_(freeReplyObjectp) redisReply *r =
                    offer_eval(a, READ_LUA, ids->element[i]->str, args, 2);
                if (!r)
                        return -EIO;
                if (r->type != REDIS_REPLY_ARRAY || r->elements != 7)
                        continue;
                int32_t until = 0;
                if (date_parse(r->element[3]->str ?: "", &until) < 0)
                        continue;
                json_error_t je;
                json_t *o = json_pack(
                    "{s:s, s:s, s:s, s:o}", "id", ids->element[i]->str, "category",
                    r->element[0]->str ?: "", "town", r->element[1]->str ?: "", "provider",
                    json_loads(r->element[4]->str ?: "null", JSON_DECODE_ANY, &je) ?: json_null());
                if (!o)
                        return -ENOMEM;
                json_array_append_new(keep, o);
                offers[(*n)++] =
                    (AidOffer){.id = json_string_value(json_object_get(o, "id")),
                               .category = json_string_value(json_object_get(o, "category")),
                               .town = json_string_value(json_object_get(o, "town")),
                               .valid_until = until,
                               .capacity = strtoll(r->element[2]->str ?: "0", NULL, 10),
                               .taken = r->element[5]->integer,
                               .mine = r->element[6]->integer > 0};
        }
        return 0;
}

/* Moves the capacity of answered matches (accepted: used; declined, or
 * withdrawn when the household left monitoring: given back and the
 * waiting households woken). Returns changes or -EIO. */
static int sync_answers(AidStore *a, json_t *doc, const char *household, int64_t now)
{
        int changes = 0;
        const char *mid;
        json_t *m;
        json_object_foreach (json_object_get(json_object_get(doc, "aid"), "matches"), mid, m) {
                const char *st = json_string_value(json_object_get(m, "state"));
                const char *offer = json_string_value(json_object_get(m, "offer_id"));
                if (json_is_true(json_object_get(m, "synced")) || streq_ptr(st, "proposed") ||
                    !offer)
                        continue;
                if (aidstore_flush(a) < 0)
                        return -EIO;
                const char *args[1] = {household};
                if (streq_ptr(st, "accepted")) {
                        _cleanup_(freeReplyObjectp) redisReply *r =
                            offer_eval(a, USE_LUA, offer, args, 1);
                        if (!r)
                                return -EIO;
                } else {
                        _cleanup_(freeReplyObjectp) redisReply *r = redis_command(
                            a->redis, "SREM %s:{%s}:offer:r %s", a->prefix, offer, household);
                        if (!r ||
                            poke(a, json_string_value(json_object_get(m, "category")), now) < 0)
                                return -EIO;
                }
                json_object_set_new(m, "synced", json_true());
                changes++;
        }
        return changes;
}

/* Tries the fitting offers for want w in order; 1 when one was proposed,
 * 0 when none had a place, -EIO. */
static int match_want(AidStore *a, json_t *doc, const char *household, const AidWant *w,
                      int64_t now, json_t *outputs)
{
        AidOffer offers[AIDSTORE_CATEGORY_READ];
        size_t n = 0, k = 0;
        json_t *keep = json_array();
        int r = offers_load(a, w->category, household, now, offers, ELEMENTSOF(offers), &n, keep);
        int32_t today = (int32_t)((now + CST_MS) / DAY_MS);
        for (size_t i = 0; r == 0 && i < n; i++)
                if (aid_offer_fits(&offers[i], w, doc, today))
                        offers[k++] = offers[i];
        aid_order(offers, k,
                  json_string_value(json_object_get(json_object_get(doc, "profile"), "town")));
        char nows[24];
        snprintf(nows, sizeof(nows), "%" PRId64, now);
        for (size_t i = 0; r == 0 && i < k; i++) {
                const char *args[2] = {household, nows};
                _cleanup_(freeReplyObjectp) redisReply *rep =
                    offer_eval(a, RESERVE_LUA, offers[i].id, args, 2);
                if (!rep) {
                        r = -EIO;
                        break;
                }
                if (reply_int(rep) < 1)
                        continue;
                const ConfigDepartment *dep =
                    departments_for(a->departments, a->n_departments, w->category);
                if (!dep)
                        dep = departments_for(a->departments, a->n_departments, "other");
                json_t *prov = NULL;
                size_t j;
                json_t *o;
                json_array_foreach (keep, j, o)
                        if (streq_ptr(json_string_value(json_object_get(o, "id")), offers[i].id))
                                prov = json_object_get(o, "provider");
                aid_propose(doc, household, &offers[i], prov, w, dep ? dep->id : NULL, now,
                            outputs);
                r = 1;
                break;
        }
        json_decref(keep);
        return r;
}

/* Keeps the waiting index: the household in each category of want it has
 * no match for, out of the others. Returns 1 when doc.aid.waiting changed. */
static int waiting_set(AidStore *a, json_t *doc, const char *household, json_t *now_waiting,
                       const AidWant *wants, size_t n)
{
        json_t *aid = json_object_get(doc, "aid");
        json_t *before = json_object_get(aid, "waiting");
        size_t i, j;
        for (i = 0; i < json_array_size(before); i++) {
                bool still = false;
                for (j = 0; j < json_array_size(now_waiting); j++)
                        still = still || json_equal(json_array_get(before, i),
                                                    json_array_get(now_waiting, j));
                if (!still &&
                    waiting_cmd(a, "ZREM", json_string_value(json_array_get(before, i)) ?: "", NULL,
                                household) < 0)
                        return -EIO;
        }
        for (i = 0; i < n; i++) {
                bool waits = false;
                for (j = 0; j < json_array_size(now_waiting); j++)
                        waits =
                            waits || streq_ptr(json_string_value(json_array_get(now_waiting, j)),
                                               wants[i].category);
                if (!waits)
                        continue;
                char score[32];
                snprintf(score, sizeof(score), "%.0f", aid_priority(&wants[i]));
                if (waiting_cmd(a, "ZADD", wants[i].category, score, household) < 0)
                        return -EIO;
        }
        if ((before && json_equal(before, now_waiting)) ||
            (!before && json_array_size(now_waiting) == 0))
                return 0;
        json_object_set(aid, "waiting", now_waiting);
        return 1;
}

int aidstore_household(AidStore *a, json_t *doc, const char *household, int64_t now,
                       json_t *outputs)
{
        json_t *aid = json_object_get(doc, "aid");
        int64_t due = aid_next_due(doc);
        if (!aid || (!(due && due <= now) && json_array_size(json_object_get(aid, "waiting")) == 0))
                return 0;
        int changes = 0, r;
        if (due) {
                json_object_del(aid, "due_ms");
                changes++;
        }
        if ((r = sync_answers(a, doc, household, now)) < 0)
                return r;
        changes += r;
        AidWant wants[16];
        size_t n = aid_wants(doc, wants, ELEMENTSOF(wants));
        json_t *waiting = json_array();
        for (size_t i = 0; i < n; i++) {
                if (json_object_size(json_object_get(aid, "matches")) >= AID_MAX_MATCHES)
                        r = 0;
                else
                        r = match_want(a, doc, household, &wants[i], now, outputs);
                if (r < 0)
                        break;
                if (r > 0)
                        changes++;
                else
                        json_array_append_new(waiting, json_string(wants[i].category));
        }
        if (r >= 0)
                r = waiting_set(a, doc, household, waiting, wants, n);
        json_decref(waiting);
        return r < 0 ? r : changes + r;
}
