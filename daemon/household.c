#include "household.h"

#include <errno.h>
#include <stdio.h>
#include "jsonfast.h"
#include "macro.h"
#include "money.h"

json_t *household_new(void)
{
        return json_pack("{s:b, s:i}", "registered", 0, "events", 0);
}

char *household_dump(const json_t *doc)
{
        const json_t *alert = json_object_get(doc, "alert");
        const json_t *reasons = json_object_get(alert, "reasons");
        if (!reasons || reasons != json_object_get(json_object_get(doc, "eval"), "reasons"))
                return jsonfast_dump(doc);
        /* Written as "eval" without changing doc: a dump only reads. */
        return jsonfast_dump_replacing(doc, alert, "reasons", "\"eval\"");
}

void household_loaded(json_t *doc)
{
        json_t *alert = json_object_get(doc, "alert");
        json_t *reasons = json_object_get(json_object_get(doc, "eval"), "reasons");
        if (!json_is_string(json_object_get(alert, "reasons")))
                return;
        if (json_is_array(reasons))
                json_object_set(alert, "reasons", reasons);
        else
                json_object_set_new(alert, "reasons", json_array());
}

bool household_registered(const json_t *doc)
{
        return json_is_true(json_object_get(doc, "registered"));
}

int32_t household_latest(const json_t *doc)
{
        int32_t d = 0;
        const char *s = json_string_value(json_object_get(doc, "latest"));
        if (!s || date_parse(s, &d) < 0)
                return 0;
        return d;
}

int32_t household_eval_date(const json_t *doc, const Event *ev)
{
        int32_t latest = household_latest(doc);
        int32_t d = ev ? ev->date : 0;
        return latest > d ? latest : d;
}

size_t household_size(const json_t *doc)
{
        return json_array_size(json_object_get(json_object_get(doc, "profile"), "members"));
}

/* The object doc[key], created when missing. Borrowed. */
static json_t *obj_child(json_t *doc, const char *key)
{
        json_t *o = json_object_get(doc, key);
        if (!json_is_object(o)) {
                o = json_object();
                json_object_set_new(doc, key, o);
        }
        return o;
}

static json_t *arr_child(json_t *doc, const char *key)
{
        json_t *a = json_object_get(doc, key);
        if (!json_is_array(a)) {
                a = json_array();
                json_object_set_new(doc, key, a);
        }
        return a;
}

/* Month index of a date: year*12 + month-1. */
static int month_index(int32_t days)
{
        return date_year(days) * 12 + date_month(days) - 1;
}

/* "YYYY-MM" of a month index (snprintf's "%04d-%02d"; by hand for the
 * years 0..9999 every date here has: a bucket is written per event). */
static void month_key(int idx, char *buf, size_t len)
{
        int y = idx / 12, m = idx % 12 + 1;
        if (idx < 0 || y > 9999 || len < 8) {
                snprintf(buf, len, "%04d-%02d", y, m);
                return;
        }
        buf[0] = (char)('0' + y / 1000);
        buf[1] = (char)('0' + y / 100 % 10);
        buf[2] = (char)('0' + y / 10 % 10);
        buf[3] = (char)('0' + y % 10);
        buf[4] = '-';
        buf[5] = (char)('0' + m / 10);
        buf[6] = (char)('0' + m % 10);
        buf[7] = '\0';
}

/* "YYYY-MM" to its month index, -1 if malformed. Called for every month
 * bucket of every evaluation: digits by hand, no formatting. */
static int month_key_parse(const char *k)
{
        for (int i = 0; i < 7; i++)
                if (i == 4 ? k[i] != '-' : (k[i] < '0' || k[i] > '9'))
                        return -1;
        if (k[7])
                return -1;
        int year = (k[0] - '0') * 1000 + (k[1] - '0') * 100 + (k[2] - '0') * 10 + (k[3] - '0');
        int month = (k[5] - '0') * 10 + (k[6] - '0');
        if (year < 1 || month < 1 || month > 12)
                return -1;
        return year * 12 + month - 1;
}

/* Adds fen to months.<month of date>.<bucket>. */
static void bucket_add(json_t *doc, int32_t date, const char *bucket, int64_t fen)
{
        if (fen == 0)
                return;
        char mk[16];
        month_key(month_index(date), mk, sizeof(mk));
        json_t *m = obj_child(obj_child(doc, "months"), mk);
        json_t *cur = json_object_get(m, bucket);
        int64_t v = money_add(json_is_integer(cur) ? json_integer_value(cur) : 0, fen);
        json_object_set_new(m, bucket, json_integer(v));
}

void household_sums_12m(const json_t *doc, int32_t date, const char *const *buckets, size_t n,
                        int64_t *sums)
{
        const json_t *months = json_object_get(doc, "months");
        int end = month_index(date);
        const char *k, *b;
        json_t *m, *v;
        for (size_t i = 0; i < n; i++)
                sums[i] = 0;
        /* One pass over the months and each month's few entries: every
         * bucket gets its values in month order, as one lookup per bucket
         * and month would add them. */
        json_object_foreach ((json_t *)months, k, m) {
                int idx = month_key_parse(k);
                if (idx < 0 || idx > end || idx <= end - HOUSEHOLD_WINDOW_MONTHS)
                        continue;
                json_object_foreach (m, b, v) {
                        if (!json_is_integer(v))
                                continue;
                        for (size_t i = 0; i < n; i++)
                                if (buckets[i][0] == b[0] && streq(buckets[i], b)) {
                                        sums[i] = money_add(sums[i], json_integer_value(v));
                                        break;
                                }
                }
        }
}

int64_t household_sum_12m(const json_t *doc, const char *bucket, int32_t date)
{
        int64_t sum;
        household_sums_12m(doc, date, &bucket, 1, &sum);
        return sum;
}

/* Drops months and incidents that fell out of every window, relative to the
 * latest event date, so the document stays bounded. */
static void age_out(json_t *doc, int32_t latest)
{
        int end = month_index(latest);
        json_t *months = json_object_get(doc, "months");
        const char *k;
        json_t *m;
        void *tmp;
        json_object_foreach_safe (months, tmp, k, m) {
                int idx = month_key_parse(k);
                if (idx < 0 || idx <= end - HOUSEHOLD_WINDOW_MONTHS - 1)
                        json_object_del(months, k);
        }
        json_t *inc = json_object_get(doc, "incidents");
        for (size_t i = 0; i < json_array_size(inc);) {
                int32_t d;
                const char *ds = json_string_value(json_object_get(json_array_get(inc, i), "date"));
                if (!ds || date_parse(ds, &d) < 0 || d < latest - 366)
                        json_array_remove(inc, i);
                else
                        i++;
        }
        while (json_array_size(inc) > HOUSEHOLD_MAX_INCIDENTS)
                json_array_remove(inc, 0);
}

static json_t *fen_json(const Event *ev, const char *field)
{
        return json_integer(event_fen(ev, field));
}

/* One entry of the ledger list: what the benefits statement (statement.c)
 * reads back. type tells a programme grant from a measure of the same kind;
 * payer is the relief's payer or the department that applied a measure. */
static void ledger_entry(HouseholdEffects *fx, const Event *ev, const char *date, const char *kind,
                         int64_t fen)
{
        if (!fx || !fx->ledger)
                return;
        json_t *e =
            JSONFAST_OBJECT(JF_STR("date", date), JF_STR("kind", kind), JF_INT("amount", fen),
                            JF_STR("event", ev->id), JF_STR("source", ev->source),
                            JF_STR("type", event_type_name(ev->type)));
        const char *payer = ev->type == EV_RELIEF_PAID       ? event_str(ev, "payer")
                            : ev->type == EV_MEASURE_APPLIED ? event_str(ev, "by")
                                                             : NULL;
        if (e && payer)
                json_object_set_new(e, "payer", json_string(payer));
        if (e && ev->type == EV_ASSISTANCE_CHANGED)
                json_object_set_new(e, "action", json_string(event_str(ev, "action")));
        json_array_append_new(fx->ledger, e);
}

static void ledger_add(json_t *doc, HouseholdEffects *fx, const Event *ev, const char *date,
                       const char *kind, int64_t fen)
{
        if (fen <= 0)
                return;
        /* Yearly totals in the document: the ledger list is capped. */
        char year[8];
        if (date && strlen(date) >= 4) {
                snprintf(year, sizeof(year), "%.4s", date);
                json_t *t = obj_child(doc, "benefit_totals");
                json_t *cur = json_object_get(t, year);
                json_object_set_new(t, year,
                                    json_integer(money_add(
                                        json_is_integer(cur) ? json_integer_value(cur) : 0, fen)));
                if (ev->type != EV_ASSISTANCE_CHANGED) {
                        /* Payments alone (a grant counts per month in a
                         * statement): what statements add for entries the
                         * capped ledger list lost. */
                        t = obj_child(doc, "benefit_payments");
                        cur = json_object_get(t, year);
                        json_object_set_new(t, year,
                                            json_integer(money_add(json_integer_value(cur), fen)));
                }
        }
        ledger_entry(fx, ev, date, kind, fen);
}

static void incident_add(json_t *doc, json_t *inc)
{
        json_array_append_new(arr_child(doc, "incidents"), inc);
}

static void apply_registered(json_t *doc, const Event *ev)
{
        json_t *p = json_deep_copy(ev->data);
        json_t *inc = json_object_get(p, "income_last_year");
        if (inc)
                json_object_set_new(inc, "disposable", fen_json(ev, "income_last_year.disposable"));
        json_object_set_new(doc, "profile", p);
        json_object_set_new(doc, "registered", json_true());
        json_object_set_new(doc, "removed", json_false());
        /* Registered again after a removal: a household like any other. */
        json_object_del(doc, "removed_ms");
        json_object_del(doc, "erase_due_ms");
        json_object_del(doc, "erased_ms");
}

static void apply_assistance(json_t *doc, const Event *ev, HouseholdEffects *fx)
{
        const char *program = event_str(ev, "program");
        const char *action = event_str(ev, "action");
        const char *eff = event_str(ev, "effective");
        json_t *p = obj_child(obj_child(doc, "programs"), program);
        json_object_set_new(p, "state", json_string(action));
        json_object_set_new(p, "effective", json_string(eff));
        if (json_object_get(ev->data, "monthly_amount"))
                json_object_set_new(p, "monthly", fen_json(ev, "monthly_amount"));
        if (streq(action, "exited")) {
                /* One-year gradual exit period (渐退期) from the effective date. */
                int32_t d;
                char until[32];
                if (date_parse(eff, &d) == 0) {
                        int y = date_year(d) + 1;
                        snprintf(until, sizeof(until), "%04d%s", y, eff + 4);
                        if (date_parse(until, &d) < 0) /* Feb 29 -> Feb 28 */
                                snprintf(until, sizeof(until), "%04d-02-28", y);
                        json_object_set_new(p, "exit_until", json_string(until));
                }
        } else
                json_object_del(p, "exit_until");
        if (streq(action, "granted"))
                ledger_add(doc, fx, ev, eff, program, event_fen(ev, "monthly_amount"));
        else /* the end of the months a statement counts (statement.c) */
                ledger_entry(fx, ev, eff, program, 0);
        /* The profile's status follows the programme the household is in. */
        json_t *prof = json_object_get(doc, "profile");
        if (prof && streq(action, "granted"))
                json_object_set_new(prof, "status", json_string(program));
}

static void apply_claim(json_t *doc, const Event *ev, HouseholdEffects *fx)
{
        bucket_add(doc, ev->date, "medical", event_fen(ev, "out_of_pocket"));
        bucket_add(doc, ev->date, "fund_paid", event_fen(ev, "fund_paid"));
        /* Only what the claims rows of the rules read (facts.c): the claim
         * and member ids are found through the event id and source kept in
         * the ledger and the timeline. */
        incident_add(doc, JSONFAST_OBJECT(JF_STR("kind", "claim"),
                                          JF_STR("date", event_str(ev, "settled_on")),
                                          JF_STR("claim_kind", event_str(ev, "kind")),
                                          JF_BOOL("major_disease", event_bool(ev, "major_disease")),
                                          JF_INT("out_of_pocket", event_fen(ev, "out_of_pocket")),
                                          JF_INT("total", event_fen(ev, "total"))));
        ledger_add(doc, fx, ev, event_str(ev, "settled_on"), "medical_insurance",
                   event_fen(ev, "fund_paid"));
}

static void apply_disaster(json_t *doc, const Event *ev)
{
        bucket_add(doc, ev->date, "disaster_loss", event_fen(ev, "income_loss"));
        bucket_add(doc, ev->date, "property_loss", event_fen(ev, "property_loss"));
        incident_add(doc, JSONFAST_OBJECT(JF_STR("kind", "disaster"),
                                          JF_STR("date", event_str(ev, "occurred_on")),
                                          JF_STR("disaster", event_str(ev, "disaster")),
                                          JF_STR("house_damage", event_str(ev, "house_damage")),
                                          JF_INT("deaths", event_int(ev, "deaths")),
                                          JF_INT("injured", event_int(ev, "injured")),
                                          JF_INT("income_loss", event_fen(ev, "income_loss")),
                                          JF_INT("property_loss", event_fen(ev, "property_loss"))));
}

static void apply_accident(json_t *doc, const Event *ev)
{
        bucket_add(doc, ev->date, "accident_loss", event_fen(ev, "income_loss"));
        bucket_add(doc, ev->date, "accident_medical", event_fen(ev, "medical_cost"));
        incident_add(doc, JSONFAST_OBJECT(JF_STR("kind", "accident"),
                                          JF_STR("date", event_str(ev, "occurred_on")),
                                          JF_STR("member_id", event_str(ev, "member_id")),
                                          JF_STR("accident_kind", event_str(ev, "kind")),
                                          JF_BOOL("labor_lost", event_bool(ev, "labor_lost")),
                                          JF_INT("income_loss", event_fen(ev, "income_loss")),
                                          JF_INT("medical_cost", event_fen(ev, "medical_cost"))));
}

static int apply_need(json_t *doc, const Event *ev)
{
        json_t *needs = obj_child(doc, "needs");
        const char *id = event_str(ev, "need_id");
        if (!json_object_get(needs, id) && json_object_size(needs) >= HOUSEHOLD_MAX_NEEDS)
                return -ENOSPC;
        json_object_set_new(needs, id,
                            json_pack("{s:s, s:s, s:b, s:s}", "category", event_str(ev, "category"),
                                      "channel", event_str(ev, "channel"), "urgent",
                                      event_bool(ev, "urgent"), "reported_on",
                                      json_string_value(json_object_get(ev->root, "time")) ?: ""));
        return 0;
}

/* The dates of the latest visits (visits done, report.h), each once. */
static void visit_note(json_t *doc, const char *date)
{
        json_t *v = arr_child(doc, "visits");
        size_t i;
        json_t *d;
        json_array_foreach (v, i, d)
                if (streq_ptr(json_string_value(d), date))
                        return;
        json_array_append_new(v, json_string(date));
        while (json_array_size(v) > HOUSEHOLD_MAX_VISITS)
                json_array_remove(v, 0);
}

static void apply_visit(json_t *doc, const Event *ev)
{
        json_t *prev = json_object_get(doc, "last_visit");
        const char *pd = json_string_value(json_object_get(prev, "date"));
        const char *d = event_str(ev, "visited_on");
        visit_note(doc, d);
        /* A late-arriving older visit does not replace a newer one. */
        if (pd && d && strcmp(pd, d) > 0)
                return;
        json_object_set_new(doc, "last_visit",
                            json_pack("{s:s, s:s, s:O}", "date", d, "cadre_id",
                                      event_str(ev, "cadre_id"), "checks",
                                      json_object_get(ev->data, "checks")));
}

static void apply_measure(json_t *doc, const Event *ev, HouseholdEffects *fx)
{
        json_t *m = json_pack("{s:s, s:s, s:s}", "measure", event_str(ev, "measure"), "by",
                              event_str(ev, "by"), "applied_on", event_str(ev, "applied_on"));
        if (json_object_get(ev->data, "amount"))
                json_object_set_new(m, "amount", fen_json(ev, "amount"));
        if (event_str(ev, "alert_id"))
                json_object_set_new(m, "alert_id", json_string(event_str(ev, "alert_id")));
        json_t *arr = arr_child(doc, "measures");
        json_array_append_new(arr, m);
        while (json_array_size(arr) > HOUSEHOLD_MAX_MEASURES)
                json_array_remove(arr, 0);
        ledger_add(doc, fx, ev, event_str(ev, "applied_on"), event_str(ev, "measure"),
                   event_fen(ev, "amount"));
}

static void timeline_add(HouseholdEffects *fx, const Event *ev)
{
        if (!fx || !fx->timeline)
                return;
        char date[16] = "";
        if (ev->date)
                date_format(ev->date, date, sizeof(date));
        json_array_append_new(
            fx->timeline,
            JSONFAST_OBJECT(JF_STR("date", date), JF_STR("type", event_type_name(ev->type)),
                            JF_STR("event", ev->id), JF_STR("source", ev->source)));
}

static int apply_one(json_t *doc, const Event *ev, HouseholdEffects *fx)
{
        int r = 0;
        switch (ev->type) {
        case EV_HOUSEHOLD_REGISTERED:
                apply_registered(doc, ev);
                break;
        case EV_HOUSEHOLD_REMOVED:
                json_object_set_new(doc, "removed", json_true());
                break;
        case EV_ASSISTANCE_CHANGED:
                apply_assistance(doc, ev, fx);
                break;
        case EV_RELIEF_PAID:
                bucket_add(doc, ev->date, "relief", event_fen(ev, "amount"));
                ledger_add(doc, fx, ev, event_str(ev, "paid_on"), event_str(ev, "kind"),
                           event_fen(ev, "amount"));
                break;
        case EV_INCOME_VERIFIED: {
                char y[16];
                snprintf(y, sizeof(y), "%lld", (long long)event_int(ev, "year"));
                json_object_set_new(obj_child(doc, "incomes"), y, fen_json(ev, "disposable"));
                break;
        }
        case EV_CLAIM_SETTLED:
                apply_claim(doc, ev, fx);
                break;
        case EV_DISASTER_REPORTED:
                apply_disaster(doc, ev);
                break;
        case EV_ACCIDENT_REPORTED:
                apply_accident(doc, ev);
                break;
        case EV_NEED_REPORTED:
                r = apply_need(doc, ev);
                break;
        case EV_NEED_RESOLVED:
                json_object_del(obj_child(doc, "needs"), event_str(ev, "need_id"));
                break;
        case EV_EXPENSE_REPORTED: {
                const char *cat = event_str(ev, "category");
                bucket_add(doc, ev->date, streq(cat, "medical") ? "medical" : cat,
                           event_fen(ev, "amount"));
                break;
        }
        case EV_VISIT_RECORDED:
                apply_visit(doc, ev);
                break;
        case EV_MEASURE_APPLIED:
                apply_measure(doc, ev, fx);
                break;
        case EV_ALERT_ACKNOWLEDGED:
        case EV_ALERT_RESOLVED:
        case EV_SATISFACTION_RATED:
        case EV_DEPARTMENT_ANSWERED:
        case EV_AID_OFFER_REGISTERED: /* aidstore.c: offers are not households */
        case EV_AID_OFFER_WITHDRAWN:
        case EV_AID_MATCH_ANSWERED: /* aid.c */
                /* The alert lifecycle handles these (lifecycle.c). */
                break;
        case _EV_MAX:
                return -EINVAL;
        }
        if (r < 0)
                return r;
        if (ev->date) {
                const char *ls = json_string_value(json_object_get(doc, "latest"));
                int32_t latest = 0;
                if (!ls || date_parse(ls, &latest) < 0 || ev->date > latest) {
                        char buf[16];
                        date_format(ev->date, buf, sizeof(buf));
                        json_object_set_new(doc, "latest", json_string(buf));
                        latest = ev->date;
                }
                age_out(doc, latest);
        }
        json_t *n = json_object_get(doc, "events");
        json_object_set_new(doc, "events", json_integer(json_integer_value(n) + 1));
        timeline_add(fx, ev);
        return 0;
}

/* Data fields holding free text: never kept for an unregistered household
 * (hearth does not keep them for registered ones either). */
static const char *const free_text[] = {"text", "notes", "note", "resolution", "comment"};

/* The form of ev kept in pending[]: the envelope attributes hearth reads and
 * the data without free text. New reference. */
static json_t *pending_form(const Event *ev)
{
        json_t *data = json_deep_copy(ev->data);
        for (size_t i = 0; data && i < ELEMENTSOF(free_text); i++)
                json_object_del(data, free_text[i]);
        json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "specversion", "1.0", "id", ev->id,
                              "source", ev->source, "type", event_type_name(ev->type), "subject",
                              ev->subject, "data", data ? data : json_object());
        const json_t *t = json_object_get(ev->root, "time");
        if (p && json_is_string(t))
                json_object_set(p, "time", (json_t *)t);
        return p;
}

/* Drops pending events older than HOUSEHOLD_PENDING_MAX_AGE_DAYS before
 * the latest pending date (they would count in no window). */
static size_t pending_age_out(json_t *pending, int32_t latest)
{
        size_t dropped = 0;
        for (size_t i = 0; i < json_array_size(pending);) {
                const char *t =
                    json_string_value(json_object_get(json_array_get(pending, i), "time"));
                char d[11];
                int32_t day;
                if (t && strlen(t) >= 10) {
                        memcpy(d, t, 10);
                        d[10] = 0;
                        if (date_parse(d, &day) == 0 &&
                            day < latest - HOUSEHOLD_PENDING_MAX_AGE_DAYS) {
                                json_array_remove(pending, i);
                                dropped++;
                                continue;
                        }
                }
                i++;
        }
        return dropped;
}

/* The compact size of a JSON value, counted without building the text. */
static size_t json_size(const json_t *v)
{
        return json_dumpb(v, NULL, 0, JSON_COMPACT);
}

/* Applies the kept events of doc (then drops them), in arrival order. */
static void apply_pending(json_t *doc, const EventDecoder *dec, HouseholdEffects *fx)
{
        json_t *pending = json_incref(json_object_get(doc, "pending"));
        json_object_del(doc, "pending");
        size_t i;
        json_t *raw;
        json_array_foreach (pending, i, raw) {
                Event pe;
                char err[256];
                /* Validated when it arrived; decoding again cannot fail
                 * unless the schemas changed meanwhile. Then it is skipped. */
                if (event_from_json(dec, json_incref(raw), &pe, err, sizeof(err)) < 0)
                        continue;
                apply_one(doc, &pe, fx);
                event_done(&pe);
        }
        json_decref(pending);
}

int household_apply(json_t *doc, const Event *ev, const EventDecoder *dec, HouseholdEffects *fx)
{
        if (json_is_true(json_object_get(doc, "removed")) && ev->type != EV_HOUSEHOLD_REGISTERED) {
                /* Out of monitoring: the event only counts (dedup); nothing
                 * about the household is kept any more. */
                json_t *n = json_object_get(doc, "events");
                json_object_set_new(doc, "events", json_integer(json_integer_value(n) + 1));
                return 0;
        }
        if (!household_registered(doc) && ev->type != EV_HOUSEHOLD_REGISTERED) {
                /* Kept until the household registers, then counted (CONTRACT.md). */
                json_t *pending = arr_child(doc, "pending");
                if (ev->date) {
                        size_t dropped = pending_age_out(pending, ev->date);
                        if (fx)
                                fx->pending_dropped += dropped;
                }
                if (json_array_size(pending) >= HOUSEHOLD_MAX_PENDING)
                        return -ENOSPC;
                json_t *p = pending_form(ev);
                if (!p)
                        return -ENOMEM;
                if (json_size(pending) + json_size(p) + 1 > HOUSEHOLD_MAX_PENDING_BYTES) {
                        json_decref(p);
                        return -ENOSPC;
                }
                json_array_append_new(pending, p);
                return 0;
        }
        int r = apply_one(doc, ev, fx);
        if (r < 0 || ev->type != EV_HOUSEHOLD_REGISTERED)
                return r;
        apply_pending(doc, dec, fx);
        return 0;
}

json_t *household_hypothetical(const json_t *doc, const EventDecoder *dec)
{
        json_t *h = json_deep_copy(doc);
        if (!h)
                return NULL;
        json_object_set_new(h, "registered", json_true());
        apply_pending(h, dec, NULL);
        return h;
}

const char *household_benefit_label(const char *kind)
{
        static const struct {
                const char *kind, *label;
        } labels[] = {
            {"minimum_living", "最低生活保障金"},
            {"marginal", "低保边缘救助"},
            {"extreme_poverty", "特困人员供养金"},
            {"temporary_relief", "临时救助"},
            {"condolence", "慰问金"},
            {"subsidy", "补贴"},
            {"medical_insurance", "医保基金支付"},
            {"medical_assistance", "医疗救助"},
            {"employment", "就业帮扶"},
            {"public_welfare_job", "公益性岗位"},
            {"micro_credit", "小额信贷"},
            {"industry", "产业帮扶"},
            {"skills_training", "技能培训"},
            {"social_aid", "社会帮扶"},
            {"education_aid", "教育资助"},
            {"housing_repair", "危房改造"},
            {"other", "其他帮扶"},
        };
        for (size_t i = 0; kind && i < ELEMENTSOF(labels); i++)
                if (streq(labels[i].kind, kind))
                        return labels[i].label;
        return "其他帮扶";
}

bool household_erased(const json_t *doc)
{
        return json_object_get(doc, "erased_ms") != NULL;
}

void household_erase(json_t *doc, int64_t now_ms)
{
        /* Kept: what dedup, output ids and the counts need. */
        static const char *const keep[] = {"registered", "removed",  "removed_ms",
                                           "events",     "alerts_n", "monitoring_n",
                                           "candidate",  "latest",   "registered_ms"};
        const char *k;
        void *tmp;
        json_t *v;
        json_object_foreach_safe (doc, tmp, k, v) {
                bool kept = false;
                for (size_t i = 0; i < ELEMENTSOF(keep) && !kept; i++)
                        kept = streq(k, keep[i]);
                if (!kept)
                        json_object_del(doc, k);
        }
        json_object_set_new(doc, "erased_ms", json_integer(now_ms));
}
