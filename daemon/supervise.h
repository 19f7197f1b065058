/* Supervision metrics by town (REQ-14): the figures of `hearthctl report
 * --by town` as Prometheus series, the town held to metrics.towns (others
 * count as town="other") so that input cannot grow the families:
 *
 *   hearth_town_supervision_total{town,figure}   counter   figure: raised_yellow, raised_red,
 *                                                          acknowledged, escalated, eliminated,
 *                                                          refused, rated, rating_points,
 *                                                          visited, monitoring_started
 *   hearth_town_time_to_acknowledge_seconds{town} histogram
 *   hearth_town_time_to_eliminate_seconds{town}   histogram
 *
 * (towns + 1) x 10 series: metrics.towns up to 199 towns stays within the
 * per-family bound. Outputs, ratings and visits are counted after the
 * commit, as the other supervision figures: a crash in between undercounts,
 * a redelivered event never counts twice. */
#pragma once

#include <jansson.h>
#include "event.h"
#include "metrics.h"

/* Declares the families and holds their town to towns[0..n) (n = 0: any
 * town, bounded by the per-family series limit). 0 or a negative errno. */
int supervise_declare(Metrics *m, char *const *towns, size_t n);

/* The output events of a committed household (doc, outputs borrowed;
 * m may be NULL). */
void supervise_outputs(Metrics *m, const json_t *doc, const json_t *outputs);
/* One committed input event of the household. */
void supervise_input(Metrics *m, const json_t *doc, const Event *ev);
/* An alert acknowledged after_ms after it was raised, and an
 * alert.resolved refused for lack of help: counted at the step, as
 * hearth_time_to_acknowledge_seconds (the alert may be gone by the commit). */
void supervise_acknowledged(Metrics *m, const json_t *doc, int64_t after_ms);
void supervise_refused(Metrics *m, const json_t *doc);
