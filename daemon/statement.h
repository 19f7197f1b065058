/* The benefits statement (幸福清单, REQ-13): what a household received in a
 * period, built from its ledger, and when hearthd sends it. Pure: hearthd's
 * timers and `hearthctl benefits` build the very same statement.
 *
 * Seed §五(三): "归集低收入农户获得的保障救助、资助补贴、产业项目、慰问金等内容
 * 形成“幸福清单”，通过建立线上随时查询、短信定期推送、线下纸质送达相结合的机制".
 * 线上随时查询 is `hearthctl benefits`, 短信定期推送 the benefits.statement
 * output (the SMS service subscribes), 线下纸质送达 its printable HTML. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "lifecycle.h"

/* A period of whole calendar months (China Standard Time), both ends
 * included. id: "2026-11" (a month), "2026-Q4" (a quarter), "2026" (a year). */
typedef struct {
        int32_t from, to; /* days since 1970-01-01 */
        char id[16];
} StatementPeriod;

/* Parses "YYYY-MM", "YYYY-Qn" or "YYYY". 0 or -EINVAL. */
int statement_period_parse(const char *s, StatementPeriod *p);
/* The period of `months` (1 or 3) that holds day. */
void statement_period_of(int32_t day, int months, StatementPeriod *p);
/* The latest period of `months` whose statement is due at now_ms (it
 * ended at least delay_ms ago). */
void statement_period_latest(int64_t now_ms, int months, int64_t delay_ms, StatementPeriod *p);
/* Wall ms at which the period ends (midnight after its last day, +08:00). */
int64_t statement_period_end_ms(const StatementPeriod *p);

/* The statement of household for period p (data of benefits.statement):
 * {household_id, contact_phone, period {from, to}, items [{kind, label,
 * amount, date, payer?}], period_total, year_total}. doc and ledger (the
 * household's ledger list, oldest first) are borrowed. Items: each ledger
 * payment dated in the period, and each month of the period at whose end
 * a programme (低保, 低保边缘, 特困) was granted, at its monthly amount.
 * year_total sums the items of the period's year up to the period's end.
 * New reference, NULL on memory failure. */
json_t *statement_build(const json_t *doc, const json_t *ledger, const char *household,
                        const StatementPeriod *p);

/* The CloudEvents id of household's statement for p: "s-<hash>:<id>". */
void statement_event_id(const char *household, const StatementPeriod *p, char *buf, size_t len);

/* Keeps doc's schedule: a registered household with a contact_phone gets
 * statement.due_ms (its first statement is the latest period already due,
 * then one per period); otherwise no due time. now_ms is wall time. */
void statement_schedule(json_t *doc, int64_t now_ms, const LifecyclePolicy *pol);
/* Whether doc's statement is due at now_ms (the caller then reads the
 * household's ledger and calls statement_timer()). */
bool statement_due(const json_t *doc, int64_t now_ms);
/* Appends the due statement to outputs ({id, type, time, data}; time is the
 * period's end, so a statement built again is byte-identical) and moves
 * the schedule to the next period. Returns 1 when it appended, else 0. */
int statement_timer(json_t *doc, const json_t *ledger, const char *household, int64_t now_ms,
                    const LifecyclePolicy *pol, json_t *outputs);
