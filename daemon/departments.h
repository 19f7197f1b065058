/* County departments and their answer deadlines (部门限时答复, REQ-9): the
 * config key `departments`, the routing of an alert's reasons to the
 * departments that answer for their categories, department.answered, and
 * which departments missed their deadline. Pure: edits the alert object of
 * a household document; lifecycle.c emits the outputs.
 *
 * Stored on the open alert (doc.alert) and kept on its closed record:
 *   departments  [ {id, answer_by (RFC 3339), answer?, answered_at?, by?, escalated_at?} ]
 * (hearthctl's supervision report reads exactly this shape). */
#pragma once

#include <jansson.h>
#include <stdint.h>
#include "config.h"
#include "diag.h"
#include "event.h"
#include "ytree.h"

#define DEPARTMENTS_MAX 64            /* departments in the config */
#define DEPARTMENTS_MAX_CATEGORIES 32 /* categories of one department */

/* The categories a department may list: the reason categories of
 * CONTRACT.md and the need/offer categories (need.reported, aid offers). */
extern const char *const departments_categories[];

/* The built-in default of the key (YAML flow text), the same list as
 * deploy/hearth.example.yaml. Why the figures: README "Departments". */
#define DEPARTMENTS_DEFAULT                                                                         \
        "[{id: county-medical-security, name: 县医疗保障局, categories: [illness, medical], " \
        "answer_within: 3d}, "                                                                      \
        "{id: county-education, name: 县教育局, categories: [education], answer_within: 3d}, "  \
        "{id: county-housing, name: 县住房和城乡建设局, categories: [housing], "           \
        "answer_within: 3d}, "                                                                      \
        "{id: county-emergency, name: 县应急管理局, categories: [disaster, accident], "       \
        "answer_within: 1d}, "                                                                      \
        "{id: county-civil-affairs, name: 县民政局, categories: [income_drop, guarantee, "      \
        "food_clothing, other], answer_within: 3d}, "                                               \
        "{id: county-hrss, name: 县人力资源和社会保障局, categories: [employment], "     \
        "answer_within: 3d}, "                                                                      \
        "{id: county-water, name: 县水利局, categories: [water], answer_within: 3d}, "          \
        "{id: county-disabled-persons, name: 县残疾人联合会, categories: [disability], "     \
        "answer_within: 3d}, "                                                                      \
        "{id: county-agriculture, name: 县农业农村局, categories: [produce_purchase], "       \
        "answer_within: 3d}]"

/* Parses the key's value v (borrowed) into a new array *ret of *n
 * departments; every problem goes to d as file:line:col. -EINVAL or
 * -ENOMEM. */
int departments_config_parse(const YNode *v, const char *key, const char *file, Diag *d,
                             ConfigDepartment **ret, size_t *n);
void departments_config_free(ConfigDepartment *list, size_t n);

/* The first department (config order) that lists category, or NULL. */
const ConfigDepartment *departments_for(const ConfigDepartment *list, size_t n,
                                        const char *category);

/* Adds to alert.departments every department that the yellow or red
 * reasons (borrowed) route to by category (a reason of category `need`:
 * by the category of each open need in doc.needs) and that is not there
 * yet, with answer_by = now + its answer_within. Entries already there
 * keep their deadline and answer. */
void departments_route(const json_t *doc, json_t *alert, const json_t *reasons, int64_t now,
                       const ConfigDepartment *list, size_t n);

/* alert.departments as subscribers see it: [ {id, name?, answer_by} ]
 * (new reference). */
json_t *departments_public(const json_t *alert, const ConfigDepartment *list, size_t n);

/* department.answered (borrowed) for alert (open or closed): records
 * answer, answered_at, by. A department the alert was not routed to is
 * added with answer_by = answered_at (it had no deadline). */
void departments_answer(json_t *alert, const Event *ev, int64_t now);

/* The departments of alert whose answer_by passed at now without an
 * answer and that were not escalated yet: marks each escalated_at = now
 * and returns [ {id, overdue_by (seconds)} ] (new reference; empty array
 * when none). */
json_t *departments_overdue(json_t *alert, int64_t now);

/* The earliest answer_by (wall ms) of alert's departments still waiting
 * (no answer, not escalated); 0 if none. */
int64_t departments_next_due(const json_t *alert);

/* Parses an RFC 3339 time with seconds and an offset (Z or ±HH:MM), as
 * lifecycle_format_time() writes, into wall ms. -EINVAL. */
int departments_parse_time(const char *s, int64_t *ms);
