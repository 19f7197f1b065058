/* hearthctl verbs kept outside hearthctl.c: benefits (REQ-13) and report (REQ-14). */
#pragma once

#include <stdbool.h>
#include "config.h"
#include "redis.h"
#include "store.h"

#define CTL_EXIT_USAGE 2
#define CTL_EXIT_NOT_FOUND 3

/* The options hearthctl's main loop parsed before the verb's own. */
typedef struct {
        const char *format;    /* --format, or NULL */
        bool json;             /* --json */
        const char *by;        /* --by, or NULL */
        int year;              /* --year, or 0 */
        const char *redis_url; /* --redis, or NULL (redis.url) */
} CtlVerbArgs;

/* Connects to the config's (or --redis) Redis; NULL after printing why.
 * The caller frees both with store_free() and redis_free(). */
Store *ctl_verb_store(const CtlVerbArgs *a, const Config *cfg, Redis **redis);

/* benefits ID [--period YYYY-MM|YYYY-Qn|YYYY] [--year Y] [--format text|json|html]:
 * the household's benefits statement (statement.h), the very one hearthd
 * publishes for that period. args: the verb's arguments (borrowed).
 * Returns an exit status. */
int ctl_benefits(const CtlVerbArgs *a, const Config *cfg, int argc, char **args);

/* report --by rule|town|cadre|department [--from DATE --to DATE]
 * [--format text|json|csv|html]: supervision figures (REQ-14). Returns an
 * exit status. */
int ctl_report(const CtlVerbArgs *a, const Config *cfg, int argc, char **args);
