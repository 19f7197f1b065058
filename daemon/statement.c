/* The benefits statement (幸福清单, REQ-13): its items from the ledger, its periods, its timer. */
#include "statement.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "event.h"
#include "household.h"
#include "macro.h"
#include "money.h"

#define DAY_MS (24LL * 3600 * 1000)
#define CST_MS (8LL * 3600 * 1000)
#define STATEMENT_TYPE "benefits.statement"

/* Programmes paid monthly while granted (civil.assistance.changed). */
static const char *const programs[] = {"minimum_living", "marginal", "extreme_poverty"};

static int32_t ymd(int y, int m, int d)
{
        char s[16];
        int32_t days = 0;
        snprintf(s, sizeof(s), "%04d-%02d-%02d", y, m, d);
        return date_parse(s, &days) == 0 ? days : 0;
}

/* The first day of the month after the month holding day. */
static int32_t next_month(int32_t day)
{
        int y = date_year(day), m = date_month(day);
        return m == 12 ? ymd(y + 1, 1, 1) : ymd(y, m + 1, 1);
}

static int32_t day_of_ms(int64_t ms)
{
        int64_t local = ms + CST_MS;
        return (int32_t)(local >= 0 ? local / DAY_MS : (local - DAY_MS + 1) / DAY_MS);
}

void statement_period_of(int32_t day, int months, StatementPeriod *p)
{
        int y = date_year(day), m = date_month(day);
        if (months == 3) {
                int q = (m - 1) / 3;
                p->from = ymd(y, 3 * q + 1, 1);
                p->to = (q == 3 ? ymd(y + 1, 1, 1) : ymd(y, 3 * q + 4, 1)) - 1;
                snprintf(p->id, sizeof(p->id), "%04d-Q%d", y, q + 1);
        } else {
                p->from = ymd(y, m, 1);
                p->to = next_month(day) - 1;
                snprintf(p->id, sizeof(p->id), "%04d-%02d", y, m);
        }
}

int statement_period_parse(const char *s, StatementPeriod *p)
{
        char *end;
        long y = strtol(s, &end, 10);
        if (end != s + 4 || y < 1970 || y > 9999)
                return -EINVAL;
        if (!*end) {
                p->from = ymd((int)y, 1, 1);
                p->to = ymd((int)y + 1, 1, 1) - 1;
                snprintf(p->id, sizeof(p->id), "%04ld", y);
                return 0;
        }
        if (end[0] == '-' && end[1] == 'Q' && end[2] >= '1' && end[2] <= '4' && !end[3]) {
                statement_period_of(ymd((int)y, 3 * (end[2] - '1') + 1, 1), 3, p);
                return 0;
        }
        if (end[0] == '-' && end[1] >= '0' && end[1] <= '1' && end[2] >= '0' && end[2] <= '9' &&
            !end[3]) {
                int m = (end[1] - '0') * 10 + (end[2] - '0');
                if (m < 1 || m > 12)
                        return -EINVAL;
                statement_period_of(ymd((int)y, m, 1), 1, p);
                return 0;
        }
        return -EINVAL;
}

int64_t statement_period_end_ms(const StatementPeriod *p)
{
        return (int64_t)(p->to + 1) * DAY_MS - CST_MS;
}

void statement_period_latest(int64_t now_ms, int months, int64_t delay_ms, StatementPeriod *p)
{
        StatementPeriod cur;
        statement_period_of(day_of_ms(now_ms - delay_ms), months, &cur);
        statement_period_of(cur.from - 1, months, p);
}

void statement_event_id(const char *household, const StatementPeriod *p, char *buf, size_t len)
{
        uint64_t h = 1469598103934665603ULL;
        for (const unsigned char *c = (const unsigned char *)household; *c; c++)
                h = (h ^ *c) * 1099511628211ULL;
        for (const unsigned char *c = (const unsigned char *)"/statement"; *c; c++)
                h = (h ^ *c) * 1099511628211ULL;
        snprintf(buf, len, "s-%016" PRIx64 ":%s", h, p->id);
}

static bool is_program(const char *kind)
{
        for (size_t i = 0; kind && i < ELEMENTSOF(programs); i++)
                if (streq(kind, programs[i]))
                        return true;
        return false;
}

static const char *str_of(const json_t *o, const char *k)
{
        return json_string_value(json_object_get(o, k));
}

static int32_t date_of(const json_t *o, const char *k)
{
        int32_t d = 0;
        const char *s = str_of(o, k);
        return s && date_parse(s, &d) == 0 ? d : 0;
}

/* A programme change of the ledger: a grant (with its monthly amount) or
 * its end (revoked, exited). Entries written before ledger entries had a
 * type are grants when their kind is a programme. */
static bool is_change(const json_t *e)
{
        const char *type = str_of(e, "type");
        if (type)
                return streq(type, "civil.assistance.changed");
        return is_program(str_of(e, "kind"));
}

/* The programme change in force at the end of day `at`: the latest change
 * of program dated at or before it (ties: the later in the ledger), or the
 * document's current state when the ledger no longer holds it. */
static void program_at(const json_t *doc, const json_t *ledger, const char *program, int32_t at,
                       const char **action, int64_t *monthly, int32_t *since)
{
        *action = NULL;
        *monthly = 0;
        *since = 0;
        size_t i;
        json_t *e;
        json_array_foreach (ledger, i, e) {
                int32_t d = date_of(e, "date");
                if (!is_change(e) || !streq_ptr(str_of(e, "kind"), program) || !d || d > at ||
                    d < *since)
                        continue;
                *since = d;
                *action = str_of(e, "action") ?: "granted";
                *monthly = json_integer_value(json_object_get(e, "amount"));
        }
        /* The ledger keeps the latest entries only: the document's state
         * stands in for a change the ledger lost (or never had). */
        const json_t *st = json_object_get(json_object_get(doc, "programs"), program);
        int32_t d = date_of(st, "effective");
        if (st && d && d <= at && d > *since) {
                *since = d;
                *action = str_of(st, "state");
                *monthly = json_integer_value(json_object_get(st, "monthly"));
        }
}

typedef struct {
        int32_t day;
        size_t order;
        int64_t fen;
        json_t *item;
} Item;

static int item_cmp(const void *a, const void *b)
{
        const Item *x = a, *y = b;
        if (x->day != y->day)
                return x->day < y->day ? -1 : 1;
        return (x->order > y->order) - (x->order < y->order);
}

static json_t *item_new(const char *kind, int64_t fen, int32_t day, const char *payer)
{
        char date[16];
        date_format(day, date, sizeof(date));
        json_t *it =
            json_pack("{s:s, s:s, s:o, s:s}", "kind", kind, "label", household_benefit_label(kind),
                      "amount", money_to_json(fen), "date", date);
        if (it && payer && *payer)
                json_object_set_new(it, "payer", json_string(payer));
        return it;
}

/* The items dated from..to (days, inclusive), by date then ledger order,
 * as a new array; *total receives their sum in fen. */
static json_t *items_between(const json_t *doc, const json_t *ledger, int32_t from, int32_t to,
                             int64_t *total)
{
        size_t cap = json_array_size(ledger) + ELEMENTSOF(programs) * 13 + 1, n = 0, i;
        Item *v = calloc(cap, sizeof(Item));
        json_t *out = json_array();
        *total = 0;
        if (!v || !out) {
                free(v);
                json_decref(out);
                return NULL;
        }
        json_t *e;
        json_array_foreach (ledger, i, e) {
                int32_t d = date_of(e, "date");
                int64_t fen = json_integer_value(json_object_get(e, "amount"));
                if (is_change(e) || fen <= 0 || d < from || d > to)
                        continue;
                v[n++] = (Item){d, i, fen,
                                item_new(str_of(e, "kind") ?: "other", fen, d, str_of(e, "payer"))};
        }
        /* One item per month at whose end a programme was granted (seed
         * §四(二): 最低生活保障户、最低生活保障边缘户以及特困人员供养). */
        for (size_t k = 0; k < ELEMENTSOF(programs); k++) {
                for (int32_t m = from; m <= to && n < cap; m = next_month(m)) {
                        int32_t end = next_month(m) - 1;
                        const char *action;
                        int64_t monthly;
                        int32_t since;
                        program_at(doc, ledger, programs[k], end > to ? to : end, &action, &monthly,
                                   &since);
                        if (!streq_ptr(action, "granted") || monthly <= 0)
                                continue;
                        int32_t d = since > m ? since : m;
                        v[n++] = (Item){d, json_array_size(ledger) + k, monthly,
                                        item_new(programs[k], monthly, d, NULL)};
                }
        }
        qsort(v, n, sizeof(Item), item_cmp);
        for (i = 0; i < n; i++) {
                *total = money_add(*total, v[i].fen);
                json_array_append_new(out, v[i].item);
        }
        free(v);
        return out;
}

/* What the ledger list lost of year's payments (it keeps the latest
 * entries only): the document's yearly sum of payments (household.h
 * benefit_payments) less the payments the list still holds. Programme
 * months come from the list and the document's programme state. */
static int64_t ledger_lost(const json_t *doc, const json_t *ledger, int year)
{
        char y[8];
        snprintf(y, sizeof(y), "%04d", year);
        const json_t *pay = json_object_get(json_object_get(doc, "benefit_payments"), y);
        int64_t total = json_integer_value(pay);
        size_t i;
        json_t *e;
        json_array_foreach (ledger, i, e) {
                int32_t d = date_of(e, "date");
                int64_t fen = json_integer_value(json_object_get(e, "amount"));
                if (d && date_year(d) == year && fen > 0 && !is_change(e))
                        total -= fen;
        }
        return total > 0 ? total : 0;
}

json_t *statement_build(const json_t *doc, const json_t *ledger, const char *household,
                        const StatementPeriod *p)
{
        char from[16], to[16];
        date_format(p->from, from, sizeof(from));
        date_format(p->to, to, sizeof(to));
        int64_t period_total = 0, year_total = 0;
        json_t *items = items_between(doc, ledger, p->from, p->to, &period_total);
        json_t *year = items_between(doc, ledger, ymd(date_year(p->to), 1, 1), p->to, &year_total);
        json_decref(year);
        year_total = money_add(year_total, ledger_lost(doc, ledger, date_year(p->to)));
        if (!items)
                return NULL;
        const char *phone = str_of(json_object_get(doc, "profile"), "contact_phone");
        return json_pack("{s:s, s:s, s:{s:s, s:s}, s:o, s:o, s:o}", "household_id", household,
                         "contact_phone", phone ?: "", "period", "from", from, "to", to, "items",
                         items, "period_total", money_to_json(period_total), "year_total",
                         money_to_json(year_total));
}

/* Registered, not removed, with a number to send the statement to. */
static bool statement_wanted(const json_t *doc)
{
        const char *phone = str_of(json_object_get(doc, "profile"), "contact_phone");
        return json_is_true(json_object_get(doc, "registered")) &&
               !json_is_true(json_object_get(doc, "removed")) && phone && *phone;
}

void statement_schedule(json_t *doc, int64_t now, const LifecyclePolicy *pol)
{
        json_t *st = json_object_get(doc, "statement");
        if (!statement_wanted(doc)) {
                json_object_del(st, "due_ms");
                return;
        }
        if (json_object_get(st, "due_ms"))
                return;
        int months = pol->statement_months == 3 ? 3 : 1;
        StatementPeriod p, last;
        statement_period_latest(now, months, pol->statement_delay_ms, &p);
        /* A phone given again later: no period twice. */
        const char *l = str_of(st, "last");
        if (l && statement_period_parse(l, &last) == 0 && last.to >= p.from)
                statement_period_of(last.to + 1, months, &p);
        if (!st) {
                st = json_object();
                json_object_set_new(doc, "statement", st);
        }
        json_object_set_new(st, "period", json_string(p.id));
        json_object_set_new(st, "due_ms",
                            json_integer(statement_period_end_ms(&p) + pol->statement_delay_ms));
}

bool statement_due(const json_t *doc, int64_t now)
{
        const json_t *due = json_object_get(json_object_get(doc, "statement"), "due_ms");
        return statement_wanted(doc) && json_is_integer(due) && now >= json_integer_value(due);
}

int statement_timer(json_t *doc, const json_t *ledger, const char *household, int64_t now,
                    const LifecyclePolicy *pol, json_t *outputs)
{
        if (!statement_due(doc, now))
                return 0;
        json_t *st = json_object_get(doc, "statement");
        int months = pol->statement_months == 3 ? 3 : 1;
        StatementPeriod p;
        if (statement_period_parse(str_of(st, "period") ?: "", &p) < 0) {
                json_object_del(st, "due_ms");
                statement_schedule(doc, now, pol);
                return 0;
        }
        /* benefits.period may have changed since it was scheduled. */
        statement_period_of(p.from, months, &p);
        json_t *data = statement_build(doc, ledger, household, &p);
        char id[120], time[40];
        statement_event_id(household, &p, id, sizeof(id));
        lifecycle_format_time(statement_period_end_ms(&p), time, sizeof(time));
        if (!data)
                return 0;
        json_array_append_new(outputs, json_pack("{s:s, s:s, s:s, s:o}", "id", id, "type",
                                                 STATEMENT_TYPE, "time", time, "data", data));
        json_object_set_new(st, "last", json_string(p.id));
        statement_period_of(p.to + 1, months, &p);
        json_object_set_new(st, "period", json_string(p.id));
        json_object_set_new(st, "due_ms",
                            json_integer(statement_period_end_ms(&p) + pol->statement_delay_ms));
        return 1;
}
