/* The supervision report (REQ-14): per town, cadre or department, from the
 * household documents, what was warned, how fast cadres and departments
 * answered, what was resolved, how satisfied households were; and the audit
 * of missed monitoring (a household whose data meets a rule while no alert
 * is open). Pure: households are added one document at a time (hearthctl
 * report reads them from Redis, read only); nothing is written anywhere.
 *
 * Seed §五(二): "对弄虚作假、失职失责，造成应纳入监测帮扶而未纳入……的，严肃处理，
 * 追究问责" (the audit); §三(三): "通过警讯快速提交、后台及时受理、部门限时答复、
 * 农户满意度评价闭环，做到全流程监管" (the figures).
 *
 * What the documents keep bounds what the report sees: the open alert and
 * the last LIFECYCLE_MAX_CLOSED closed alerts of each household (lifecycle.h:
 * peak colour, categories, acknowledged_ms, escalated_ms, refused, ended,
 * satisfaction, departments), the last HOUSEHOLD_MAX_VISITS visit dates,
 * monitoring and candidate. Alerts count when raised within [from, to]. */
#pragma once

#include <jansson.h>
#include <stdint.h>
#include "rules.h"

#define REPORT_MAX_GROUPS 10000 /* the rest count under "(other)" */
#define REPORT_MAX_MISSED 1000  /* household ids listed by the audit (all are counted) */

typedef enum { REPORT_BY_TOWN, REPORT_BY_CADRE, REPORT_BY_DEPARTMENT } ReportBy;

typedef struct {
        ReportBy by;
        int64_t from_ms, to_ms;    /* alerts raised and visits done within */
        int64_t now_ms;            /* overdue answers: answer_by before now with no answer */
        int64_t visit_interval_ms; /* visits due: one per interval of registration in range */
        const RuleSet *rules;      /* the audit's current rules (borrowed; NULL: no audit) */
        const ExprFloorLine *lines;
        size_t n_lines;
} ReportOptions;

typedef struct Report Report;

/* Borrows o's rule set and lines for the life of the Report. NULL on
 * memory failure. */
Report *report_new(const ReportOptions *o);
Report *report_free(Report *r);

/* Adds one household's document (borrowed). 0, -ENOMEM. */
int report_add(Report *r, const char *household, const json_t *doc);

/* The report: {by, from, to, households, groups: [{name, households,
 * alerts: {raised, yellow, red, by_category {..}}, acknowledge_seconds
 * {count, median, p90}, eliminate_seconds {count, median, p90},
 * escalations, department_answers {routed, answered, overdue, seconds
 * {count, median, p90}}, visits {done, due}, satisfaction {count, mean},
 * monitored, candidates {identified, registered}, refused}], total {...},
 * missed {count, households [...]}}. New reference, NULL on memory
 * failure. */
json_t *report_json(const Report *r);

/* Wall ms of an RFC 3339 time ("2026-03-02T08:00:00+08:00"); 0 if bad. */
int64_t report_time_ms(const char *s);
