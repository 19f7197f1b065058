/* The compiled rule set's structures, shared by rules.c (loading) and
 * rules_eval.c (evaluation) only: everyone else goes through rules.h. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "clear.h"
#include "diag.h"
#include "expr.h"
#include "facts.h"
#include "rules.h"
#include "ytree.h"

#define EVIDENCE_MAX_NAME 32

/* Message languages, in the order of Rule.msg[]. */
enum { LANG_ZH, LANG_EN, N_LANG };

static inline bool utf8_cont(char c)
{
        return ((unsigned char)c & 0xC0) == 0x80;
}

/* --- the compiled rule set ---------------------------------------------- */

/* A message template is a list of pieces: literal bytes of text, or the
 * value of one evidence entry. */
typedef struct {
        size_t off, len; /* literal: text[off..off+len) */
        int evidence;    /* placeholder: evidence index; -1 for a literal */
} Piece;

typedef struct {
        char *text;
        Piece *pieces;
        size_t n_pieces;
} Template;

typedef struct {
        char name[EVIDENCE_MAX_NAME + 1];
        Expr *expr;
} Evidence;

typedef struct {
        char *id;
        const char *category;
        RulesSeverity severity;
        Expr *when;
        Evidence *evidence;
        size_t n_evidence;
        Template msg[N_LANG];
        int64_t respond_within_ms;
        bool monitor; /* a firing yellow or red rule also means key monitoring */
        char *description;
} Rule;

typedef struct {
        char *name;
        int64_t value; /* ×100 */
        char *file;    /* where it is defined, for duplicate errors */
        unsigned line, col;
} Threshold;

struct RuleSet {
        Rule *rules;
        size_t n_rules;
        Threshold *thresholds;
        size_t n_thresholds;
        int64_t *threshold_values; /* in symbol order, for facts_fill() */
        FactsSymbols *symbols;
        int64_t monitor_factor;
        int lang;
        ClearSet *clear; /* what turns each rule off (to_clear) */
};

/* --- rule files (rules_source.c) ----------------------------------------- */

/* One rule file being loaded: its text (NUL-terminated), where each line
 * starts, and its tree. */
typedef struct {
        char *path;
        char *buf;
        size_t len;
        size_t *lines;
        size_t n_lines;
        YNode *root;
        bool parsed;
} Source;

/* Frees what s holds and zeroes it. */
void rules_source_done(Source *s);
/* Indexes line starts: "\n", "\r\n" and a lone "\r" end a line, as in
 * libyaml. 0 or -ENOMEM. */
int rules_source_index(Source *s);
/* Sets *line:*col (1-based) to where byte t of the value of scalar n is in
 * the file (falls back to n's own position). */
void rules_scalar_pos(const Source *s, const YNode *n, size_t t, unsigned *line, unsigned *col);
/* Byte offset in src of a 1-based line:col of an expression error (columns
 * count bytes there). */
size_t rules_expr_offset(const char *src, size_t len, unsigned line, unsigned col);
/* Reads path whole (at most RULES_MAX_FILE_BYTES) into s->buf; problems go
 * to diag. 0 or a negative errno. */
int rules_source_read(const char *path, Source *s, Diag *diag);
