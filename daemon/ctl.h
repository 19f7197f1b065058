/* What hearthctl's commands share: the parsed arguments, escaping of input
 * for the text output, the Redis connection; and the commands that live
 * outside hearthctl.c (ctl_*.c). Each command returns the exit status. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "escape.h"
#include "macro.h"
#include "redis.h"
#include "store.h"

#define EXIT_USAGE 2
#define EXIT_NOT_FOUND 3

typedef struct {
        const char *format; /* benefits: text, json, html; preview: text, json, csv */
        const char *rules;  /* preview: the candidate rules folder */
        const char *by;     /* preview: town or village */
        int year;           /* benefits: 0 = all */
        const char *config_path;
        char **sets;
        size_t n_sets;
        const char *redis_url;
        bool json;
} CtlArgs;

/* Escaped copies of strings from input for the text output (escape.h):
 * a town named "\x1b[2J" prints as that text and clears no screen. A ring
 * of buffers, enough for every string of one printf. JSON output needs
 * none: jansson writes controls as \u001b. */
typedef struct {
        char buf[8][2048];
        unsigned next;
} Esc;

/* s escaped into the next buffer of e; NULL stays NULL (for ?:). */
static inline const char *esc(Esc *e, const char *s)
{
        char *b = e->buf[e->next++ % ELEMENTSOF(e->buf)];
        return s ? escape_str(s, b, sizeof(e->buf[0])) : NULL;
}

/* A string member of a JSON object, escaped. */
static inline const char *esc_get(Esc *e, const json_t *o, const char *key)
{
        return esc(e, json_string_value(json_object_get(o, key)));
}

/* Connects to the config's (or --redis) Redis; NULL after printing why.
 * The caller frees the store, then *redis. */
Store *ctl_store(const CtlArgs *a, const Config *cfg, Redis **redis);

/* household ID: the household's state, sums and recent events. */
int ctl_household(const CtlArgs *a, const Config *cfg, const char *id);
/* forget ID: erase the household's personal data now (right to erasure). */
int ctl_forget(const CtlArgs *a, const Config *cfg, const char *id);
/* migrate: household state of the older layout into records (store_migrate()). */
int ctl_migrate(const CtlArgs *a, const Config *cfg);
/* stats: the supervision figures (REQ-14) and open alerts. */
int ctl_stats(const CtlArgs *a, const Config *cfg);
/* preview --rules DIR: what the candidate rules would change. */
int ctl_preview(const CtlArgs *a, const Config *cfg);
/* replay FILE: a file of events through the rules offline. */
int ctl_replay(const CtlArgs *a, const Config *cfg, const char *file);
/* test-rules [DIR]: the rule tests of DIR/tests (NULL: the config's rules). */
int ctl_test_rules(const Config *cfg, const char *dir);
/* benefits ID [--period YYYY-MM|YYYY-Qn|YYYY] [--year Y] [--format text|json|html]:
 * the household's benefits statement (statement.h), the very one hearthd
 * publishes for that period. args: the verb's arguments (borrowed). */
int ctl_benefits(const CtlArgs *a, const Config *cfg, int argc, char **args);
/* report --by rule|town|cadre|department [--from DATE --to DATE]
 * [--format text|json|csv|html]: supervision figures (REQ-14). */
int ctl_report(const CtlArgs *a, const Config *cfg, int argc, char **args);
