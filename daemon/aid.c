/* Social aid matching (REQ-12), pure: wants, priority, offer order, match records, proposals. */
#include "aid.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "departments.h"
#include "household.h"
#include "lifecycle.h"
#include "macro.h"

#define DAY_MS (24LL * 3600 * 1000)

/* Alert reason category -> the offer categories that help with it. */
static const struct {
        const char *reason, *offer;
} reason_offers[] = {
    {"illness", "medical"},
    {"accident", "medical"},
    {"disability", "disability"},
    {"education", "education"},
    {"disaster", "housing"},
    {"income_drop", "employment"},
    {"income_drop", "produce_purchase"},
    {"guarantee", "food_clothing"},
};

static json_t *aid_of(json_t *doc)
{
        json_t *a = json_object_get(doc, "aid");
        if (!a) {
                a = json_object();
                json_object_set_new(doc, "aid", a);
        }
        return a;
}

/* A match of the household for category still open or accepted. */
static bool covered(const json_t *doc, const char *category)
{
        const char *k;
        json_t *m;
        json_object_foreach ((json_t *)json_object_get(json_object_get(doc, "aid"), "matches"), k,
                             m) {
                const char *st = json_string_value(json_object_get(m, "state"));
                if (streq_ptr(json_string_value(json_object_get(m, "category")), category) &&
                    !streq_ptr(st, "declined"))
                        return true;
        }
        return false;
}

static bool listed(const AidWant *w, size_t n, const char *category)
{
        for (size_t i = 0; i < n; i++)
                if (streq(w[i].category, category))
                        return true;
        return false;
}

static int cmp_want(const void *a, const void *b)
{
        const AidWant *x = a, *y = b;
        if (x->since_ms != y->since_ms)
                return x->since_ms < y->since_ms ? -1 : 1;
        return strcmp(x->category, y->category);
}

size_t aid_wants(const json_t *doc, AidWant *wants, size_t max)
{
        size_t n = 0;
        if (!household_registered(doc) || json_is_true(json_object_get(doc, "removed")))
                return 0;
        const json_t *alert = json_object_get(doc, "alert");
        bool red = streq_ptr(json_string_value(json_object_get(alert, "code")), "red");
        const char *id;
        json_t *need;
        json_object_foreach ((json_t *)json_object_get(doc, "needs"), id, need) {
                const char *cat = json_string_value(json_object_get(need, "category"));
                int64_t since = 0;
                if (!cat || n >= max || listed(wants, n, cat) || covered(doc, cat))
                        continue;
                departments_parse_time(json_string_value(json_object_get(need, "reported_on")),
                                       &since);
                AidWant *w = &wants[n++];
                *w = (AidWant){.red = red, .since_ms = since};
                str_copy(w->category, sizeof(w->category), cat);
                str_copy(w->need_id, sizeof(w->need_id), id);
        }
        qsort(wants, n, sizeof(AidWant), cmp_want);
        size_t i;
        json_t *r;
        json_array_foreach (json_object_get(alert, "reasons"), i, r) {
                const char *sev = json_string_value(json_object_get(r, "severity"));
                const char *cat = json_string_value(json_object_get(r, "category"));
                if (!streq_ptr(sev, "yellow") && !streq_ptr(sev, "red"))
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(reason_offers); k++) {
                        const char *oc = reason_offers[k].offer;
                        if (!streq_ptr(cat, reason_offers[k].reason) || n >= max ||
                            listed(wants, n, oc) || covered(doc, oc))
                                continue;
                        AidWant *w = &wants[n++];
                        *w = (AidWant){.red = red,
                                       .since_ms =
                                           json_integer_value(json_object_get(alert, "raised_ms"))};
                        str_copy(w->category, sizeof(w->category), oc);
                }
        }
        return n;
}

double aid_priority(const AidWant *w)
{
        /* Wall ms stay below 2^45 until the year 3084: red households sort
         * wholly before yellow ones, and the sum is exact in a double. */
        return (w->red ? 0.0 : 35184372088832.0) + (double)(w->since_ms > 0 ? w->since_ms : 0);
}

/* <0 when x is tried before y for a household in town. */
static int cmp_offer(const AidOffer *x, const AidOffer *y, const char *town)
{
        if (x->mine != y->mine)
                return x->mine ? -1 : 1;
        bool xs = x->town && *x->town && streq_ptr(x->town, town);
        bool ys = y->town && *y->town && streq_ptr(y->town, town);
        if (xs != ys)
                return xs ? -1 : 1;
        if (x->valid_until != y->valid_until)
                return x->valid_until < y->valid_until ? -1 : 1;
        return strcmp(x->id, y->id);
}

void aid_order(AidOffer *offers, size_t n, const char *town)
{
        /* Insertion sort: a few hundred offers at most
         * (AIDSTORE_CATEGORY_READ), and qsort has no context argument. */
        for (size_t i = 1; i < n; i++) {
                AidOffer o = offers[i];
                size_t j = i;
                for (; j > 0 && cmp_offer(&o, &offers[j - 1], town) < 0; j--)
                        offers[j] = offers[j - 1];
                offers[j] = o;
        }
}

static bool matched_before(const json_t *doc, const char *offer)
{
        const char *k;
        json_t *m;
        json_object_foreach ((json_t *)json_object_get(json_object_get(doc, "aid"), "matches"), k,
                             m)
                if (streq_ptr(json_string_value(json_object_get(m, "offer_id")), offer))
                        return true;
        return false;
}

bool aid_offer_fits(const AidOffer *o, const AidWant *w, const json_t *doc, int32_t today)
{
        const char *town =
            json_string_value(json_object_get(json_object_get(doc, "profile"), "town"));
        if (!streq_ptr(o->category, w->category) || o->valid_until < today)
                return false;
        if (o->town && *o->town && !streq_ptr(o->town, town))
                return false;
        if (!o->mine && o->taken >= o->capacity)
                return false;
        return !matched_before(doc, o->id);
}

void aid_match_id(const char *offer, const char *household, char *buf, size_t len)
{
        uint64_t h = 1469598103934665603ULL;
        for (const unsigned char *p = (const unsigned char *)offer; *p; p++)
                h = (h ^ *p) * 1099511628211ULL;
        h = (h ^ 0) * 1099511628211ULL;
        for (const unsigned char *p = (const unsigned char *)household; *p; p++)
                h = (h ^ *p) * 1099511628211ULL;
        snprintf(buf, len, "am-%016" PRIx64, h);
}

static json_t *why_of(const AidOffer *o, const AidWant *w, const char *town)
{
        char until[16], buf[600];
        date_format(o->valid_until, until, sizeof(until));
        bool local = o->town && *o->town;
        snprintf(buf, sizeof(buf),
                 "%s %s (%s) matches offer %s (%s, %s, %" PRId64 " of %" PRId64
                 " places taken before it, valid until %s); tried in order: places already held, "
                 "the household's town (%s) before county-wide, earlier valid_until, offer id; "
                 "households: red before yellow, oldest first",
                 w->red ? "red" : "yellow", *w->need_id ? "open need" : "alert reason", w->category,
                 o->id, o->category, local ? o->town : "county-wide",
                 o->mine ? o->taken - 1 : o->taken, o->capacity, until, town ? town : "-");
        return json_string(buf);
}

void aid_propose(json_t *doc, const char *household, const AidOffer *o, const json_t *provider,
                 const AidWant *w, const char *department, int64_t now, json_t *outputs)
{
        char mid[40], id[64], t[40];
        const json_t *profile = json_object_get(doc, "profile");
        const char *town = json_string_value(json_object_get(profile, "town"));
        aid_match_id(o->id, household, mid, sizeof(mid));
        json_t *aid = aid_of(doc);
        json_t *matches = json_object_get(aid, "matches");
        if (!matches) {
                matches = json_object();
                json_object_set_new(aid, "matches", matches);
        }
        json_t *m = json_pack("{s:s, s:s, s:s}", "offer_id", o->id, "category", o->category,
                              "state", "proposed");
        if (m && *w->need_id)
                json_object_set_new(m, "need_id", json_string(w->need_id));
        json_object_set_new(matches, mid, m);
        const json_t *cadre = json_object_get(profile, "cadre");
        json_t *data =
            json_pack("{s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:s, s:o, s:o}", "match_id", mid,
                      "offer_id", o->id, "household_id", household, "category", o->category,
                      "provider", provider ? provider : json_null(), "department",
                      department ? department : "", "town", town ? town : "", "village",
                      json_string_value(json_object_get(profile, "village")) ?: "", "cadre",
                      cadre ? json_deep_copy(cadre) : json_object(), "why", why_of(o, w, town));
        if (data && *w->need_id)
                json_object_set_new(data, "need_id", json_string(w->need_id));
        snprintf(id, sizeof(id), "%s:proposed", mid);
        lifecycle_format_time(now, t, sizeof(t));
        json_array_append_new(outputs, json_pack("{s:s, s:s, s:s, s:o}", "id", id, "type",
                                                 "aid.match.proposed", "time", t, "data", data));
}

/* The categories of wants joined, to notice a change. */
static void signature(const AidWant *w, size_t n, char *buf, size_t len)
{
        size_t off = 0;
        buf[0] = 0;
        for (size_t i = 0; i < n; i++) {
                int k = snprintf(buf + off, len - off, "%s/%s,", w[i].category, w[i].need_id);
                if (k < 0 || (size_t)k >= len - off)
                        break;
                off += (size_t)k;
        }
}

void aid_household_step(json_t *doc, const Event *ev, int64_t now)
{
        bool due = false;
        if (ev && ev->type == EV_AID_MATCH_ANSWERED) {
                json_t *m = json_object_get(json_object_get(json_object_get(doc, "aid"), "matches"),
                                            event_str(ev, "match_id"));
                const char *st = json_string_value(json_object_get(m, "state"));
                /* The first answer counts: capacity moved on it. */
                if (m && streq_ptr(st, "proposed")) {
                        json_object_set_new(
                            m, "state",
                            json_string(event_bool(ev, "accepted") ? "accepted" : "declined"));
                        json_object_set_new(m, "by", json_string(event_str(ev, "by") ?: ""));
                        json_object_del(m, "synced");
                        due = true;
                }
        }
        if (!household_registered(doc) || json_is_true(json_object_get(doc, "removed"))) {
                /* Out of monitoring: the places it holds go back. */
                const char *k;
                json_t *m;
                json_object_foreach (json_object_get(json_object_get(doc, "aid"), "matches"), k,
                                     m) {
                        if (!streq_ptr(json_string_value(json_object_get(m, "state")), "proposed"))
                                continue;
                        json_object_set_new(m, "state", json_string("withdrawn"));
                        json_object_del(m, "synced");
                        due = true;
                }
        }
        AidWant wants[16];
        char sig[1024];
        size_t n = aid_wants(doc, wants, ELEMENTSOF(wants));
        signature(wants, n, sig, sizeof(sig));
        json_t *aid = json_object_get(doc, "aid");
        if (!streq_ptr(json_string_value(json_object_get(aid, "sig")), sig)) {
                due = due || n > 0 || json_array_size(json_object_get(aid, "waiting")) > 0;
                if (n > 0 || aid)
                        json_object_set_new(aid_of(doc), "sig", json_string(sig));
        }
        if (due)
                json_object_set_new(aid_of(doc), "due_ms", json_integer(now));
}

int64_t aid_next_due(const json_t *doc)
{
        return json_integer_value(json_object_get(json_object_get(doc, "aid"), "due_ms"));
}
