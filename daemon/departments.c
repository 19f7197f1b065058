/* Departments that answer alerts in time (部门限时答复, REQ-9): config, routing, answers,
 * deadlines. */
#include "departments.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lifecycle.h"
#include "macro.h"

#define DAY_MS (24LL * 3600 * 1000)

const char *const departments_categories[] = {
    /* reason categories (CONTRACT.md) */
    "illness", "disability", "education", "disaster", "accident", "income_drop", "guarantee",
    "need",
    /* need and aid offer categories */
    "medical", "housing", "water", "food_clothing", "employment", "produce_purchase", "other",
    NULL};

static bool category_known(const char *s)
{
        for (size_t i = 0; departments_categories[i]; i++)
                if (streq(departments_categories[i], s))
                        return true;
        return false;
}

static bool id_valid(const char *s)
{
        return s && household_id_valid(s, strlen(s));
}

void departments_config_free(ConfigDepartment *list, size_t n)
{
        for (size_t i = 0; list && i < n; i++) {
                free(list[i].id);
                free(list[i].name);
                for (size_t k = 0; k < list[i].n_categories; k++)
                        free(list[i].categories[k]);
                free(list[i].categories);
        }
        free(list);
}

/* Checks and copies one department's mapping into dep. Returns the number
 * of errors added to d (or -ENOMEM). */
static int department_parse(const YNode *m, const char *key, size_t i, const char *file, Diag *d,
                            ConfigDepartment *dep)
{
        int errors = 0;
        if (m->type != YNODE_MAP) {
                diag_add(d, file, m->line, m->col, "%s[%zu]: expected a mapping, got %s", key, i,
                         ynode_type_name(m));
                return 1;
        }
        for (size_t k = 0; k < m->n; k++) {
                const char *name = ynode_key(m, k)->scalar;
                if (!streq(name, "id") && !streq(name, "name") && !streq(name, "categories") &&
                    !streq(name, "answer_within")) {
                        diag_add(d, file, ynode_key(m, k)->line, ynode_key(m, k)->col,
                                 "%s[%zu]: unknown key '%s' (id, name, categories, answer_within)",
                                 key, i, name);
                        errors++;
                }
        }
        const YNode *id = ynode_get(m, "id"), *nm = ynode_get(m, "name"),
                    *cats = ynode_get(m, "categories"), *aw = ynode_get(m, "answer_within");
        if (!id || id->type != YNODE_SCALAR || !id_valid(id->scalar)) {
                diag_add(d, file, id ? id->line : m->line, id ? id->col : m->col,
                         "%s[%zu].id: expected 1 to 64 of A-Z a-z 0-9 _ -", key, i);
                errors++;
        }
        if (!nm || nm->type != YNODE_SCALAR || nm->len == 0 || nm->len > 128) {
                diag_add(d, file, nm ? nm->line : m->line, nm ? nm->col : m->col,
                         "%s[%zu].name: expected the department's name (1 to 128 bytes)", key, i);
                errors++;
        }
        if (!cats || cats->type != YNODE_SEQ || cats->n == 0 ||
            cats->n > DEPARTMENTS_MAX_CATEGORIES) {
                diag_add(d, file, cats ? cats->line : m->line, cats ? cats->col : m->col,
                         "%s[%zu].categories: expected a list of 1 to %d categories", key, i,
                         DEPARTMENTS_MAX_CATEGORIES);
                errors++;
                cats = NULL;
        }
        for (size_t k = 0; cats && k < cats->n; k++) {
                const YNode *c = cats->items[k];
                if (c->type != YNODE_SCALAR || !category_known(c->scalar)) {
                        diag_add(d, file, c->line, c->col,
                                 "%s[%zu].categories[%zu]: unknown category '%s' (illness, "
                                 "disability, education, disaster, accident, income_drop, "
                                 "guarantee, need, medical, housing, water, food_clothing, "
                                 "employment, produce_purchase, other)",
                                 key, i, k, c->type == YNODE_SCALAR ? c->scalar : "?");
                        errors++;
                }
        }
        int64_t ms = 0;
        if (!aw || aw->type != YNODE_SCALAR || config_parse_duration(aw->scalar, &ms) < 0 ||
            ms < 1000 || ms > 365 * DAY_MS) {
                diag_add(d, file, aw ? aw->line : m->line, aw ? aw->col : m->col,
                         "%s[%zu].answer_within: expected a duration between 1s and 365d, "
                         "like 3d",
                         key, i);
                errors++;
        }
        if (errors)
                return errors;
        dep->id = strdup(id->scalar);
        dep->name = strdup(nm->scalar);
        dep->categories = calloc(cats->n, sizeof(char *));
        dep->answer_within_ms = ms;
        if (!dep->id || !dep->name || !dep->categories)
                return -ENOMEM;
        for (size_t k = 0; k < cats->n; k++) {
                if (!(dep->categories[k] = strdup(cats->items[k]->scalar)))
                        return -ENOMEM;
                dep->n_categories++;
        }
        return 0;
}

int departments_config_parse(const YNode *v, const char *key, const char *file, Diag *d,
                             ConfigDepartment **ret, size_t *n)
{
        if (!v || (v->type != YNODE_SEQ && !ynode_is_null(v))) {
                diag_add(d, file, v ? v->line : 0, v ? v->col : 0, "%s: expected a list, got %s",
                         key, ynode_type_name(v));
                return -EINVAL;
        }
        size_t count = v->type == YNODE_SEQ ? v->n : 0;
        if (count > DEPARTMENTS_MAX) {
                diag_add(d, file, v->line, v->col, "%s: at most %d departments", key,
                         DEPARTMENTS_MAX);
                return -EINVAL;
        }
        ConfigDepartment *list = calloc(count ? count : 1, sizeof(ConfigDepartment));
        if (!list)
                return -ENOMEM;
        int errors = 0;
        for (size_t i = 0; i < count; i++) {
                int r = department_parse(v->items[i], key, i, file, d, &list[i]);
                if (r < 0) {
                        departments_config_free(list, count);
                        return r;
                }
                errors += r;
                for (size_t j = 0; r == 0 && j < i; j++)
                        if (list[j].id && streq(list[j].id, list[i].id)) {
                                diag_add(d, file, v->items[i]->line, v->items[i]->col,
                                         "%s[%zu].id: '%s' appears twice", key, i, list[i].id);
                                errors++;
                        }
        }
        if (errors) {
                departments_config_free(list, count);
                return -EINVAL;
        }
        *ret = list;
        *n = count;
        return 0;
}

static bool lists(const ConfigDepartment *dep, const char *category)
{
        for (size_t k = 0; category && k < dep->n_categories; k++)
                if (streq(dep->categories[k], category))
                        return true;
        return false;
}

const ConfigDepartment *departments_for(const ConfigDepartment *list, size_t n,
                                        const char *category)
{
        for (size_t i = 0; i < n; i++)
                if (lists(&list[i], category))
                        return &list[i];
        return NULL;
}

static json_t *entry_of(json_t *alert, const char *id)
{
        size_t i;
        json_t *e;
        json_array_foreach (json_object_get(alert, "departments"), i, e)
                if (streq_ptr(json_string_value(json_object_get(e, "id")), id))
                        return e;
        return NULL;
}

static json_t *departments_of(json_t *alert)
{
        json_t *a = json_object_get(alert, "departments");
        if (!a) {
                a = json_array();
                json_object_set_new(alert, "departments", a);
        }
        return a;
}

/* Adds every department listing category (not there yet). */
static void route_category(json_t *alert, const char *category, int64_t now,
                           const ConfigDepartment *list, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (!lists(&list[i], category) || entry_of(alert, list[i].id))
                        continue;
                char by[40];
                lifecycle_format_time(now + list[i].answer_within_ms, by, sizeof(by));
                json_array_append_new(departments_of(alert),
                                      json_pack("{s:s, s:s}", "id", list[i].id, "answer_by", by));
        }
}

void departments_route(const json_t *doc, json_t *alert, const json_t *reasons, int64_t now,
                       const ConfigDepartment *list, size_t n)
{
        size_t i;
        json_t *r;
        json_array_foreach (reasons, i, r) {
                const char *sev = json_string_value(json_object_get(r, "severity"));
                if (!streq_ptr(sev, "yellow") && !streq_ptr(sev, "red"))
                        continue; /* key monitoring asks no department */
                const char *cat = json_string_value(json_object_get(r, "category"));
                route_category(alert, cat, now, list, n);
                if (!streq_ptr(cat, "need"))
                        continue;
                /* An open need goes to the department of its own category. */
                const char *nid;
                json_t *need;
                json_object_foreach ((json_t *)json_object_get(doc, "needs"), nid, need)
                        route_category(alert, json_string_value(json_object_get(need, "category")),
                                       now, list, n);
        }
}

json_t *departments_public(const json_t *alert, const ConfigDepartment *list, size_t n)
{
        json_t *out = json_array();
        size_t i;
        json_t *e;
        json_array_foreach (json_object_get(alert, "departments"), i, e) {
                json_t *p = json_pack("{s:O, s:O}", "id", json_object_get(e, "id"), "answer_by",
                                      json_object_get(e, "answer_by"));
                for (size_t k = 0; p && k < n; k++)
                        if (streq_ptr(list[k].id, json_string_value(json_object_get(e, "id"))))
                                json_object_set_new(p, "name", json_string(list[k].name));
                if (p)
                        json_array_append_new(out, p);
        }
        return out;
}

void departments_answer(json_t *alert, const Event *ev, int64_t now)
{
        const char *id = event_str(ev, "department");
        char at[40];
        if (!alert || !id)
                return;
        lifecycle_format_time(now, at, sizeof(at));
        json_t *e = entry_of(alert, id);
        if (!e) {
                if (json_array_size(json_object_get(alert, "departments")) >= DEPARTMENTS_MAX)
                        return;
                e = json_pack("{s:s, s:s}", "id", id, "answer_by", at);
                if (!e)
                        return;
                json_array_append_new(departments_of(alert), e);
        }
        json_object_set_new(e, "answer", json_string(event_str(ev, "answer") ?: "other"));
        json_object_set_new(e, "answered_at", json_string(at));
        json_object_set_new(e, "by", json_string(event_str(ev, "by") ?: ""));
}

static int64_t waiting_due(const json_t *e)
{
        int64_t ms;
        if (json_object_get(e, "answer") || json_object_get(e, "escalated_at"))
                return 0;
        if (departments_parse_time(json_string_value(json_object_get(e, "answer_by")), &ms) < 0)
                return 0;
        return ms;
}

json_t *departments_overdue(json_t *alert, int64_t now)
{
        json_t *out = json_array();
        size_t i;
        json_t *e;
        json_array_foreach (json_object_get(alert, "departments"), i, e) {
                int64_t due = waiting_due(e);
                if (!due || now < due)
                        continue;
                char at[40];
                lifecycle_format_time(now, at, sizeof(at));
                json_object_set_new(e, "escalated_at", json_string(at));
                json_array_append_new(out,
                                      json_pack("{s:O, s:I}", "id", json_object_get(e, "id"),
                                                "overdue_by", (json_int_t)((now - due) / 1000)));
        }
        return out;
}

int64_t departments_next_due(const json_t *alert)
{
        int64_t best = 0;
        size_t i;
        json_t *e;
        json_array_foreach (json_object_get(alert, "departments"), i, e) {
                int64_t due = waiting_due(e);
                if (due && (!best || due < best))
                        best = due;
        }
        return best;
}

static int two(const char *s)
{
        if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
                return -1;
        return (s[0] - '0') * 10 + (s[1] - '0');
}

int departments_parse_time(const char *s, int64_t *ms)
{
        char date[11];
        int32_t days;
        if (!s || strlen(s) < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':')
                return -EINVAL;
        memcpy(date, s, 10);
        date[10] = 0;
        int h = two(s + 11), m = two(s + 14), sec = two(s + 17);
        if (date_parse(date, &days) < 0 || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 ||
            sec > 60)
                return -EINVAL;
        const char *z = s + 19;
        if (*z == '.')
                for (z++; *z >= '0' && *z <= '9'; z++)
                        ;
        int64_t off = 0;
        if ((*z == 'Z' || *z == 'z') && !z[1]) {
                off = 0;
        } else if ((*z == '+' || *z == '-') && strlen(z) == 6 && z[3] == ':') {
                int oh = two(z + 1), om = two(z + 4);
                if (oh < 0 || om < 0 || oh > 23 || om > 59)
                        return -EINVAL;
                off = (oh * 60LL + om) * 60000 * (*z == '-' ? -1 : 1);
        } else {
                return -EINVAL;
        }
        *ms = (int64_t)days * DAY_MS + ((h * 60LL + m) * 60 + sec) * 1000 - off;
        return 0;
}
