/* Diagnostics collected while loading a file: every error is kept as
 * "file:line:col: message" (1-based), so a loader reports all of them and
 * fails once. */
#pragma once

#include <stdio.h>
#include "macro.h"

typedef struct Diag Diag;

/* Returns NULL only on memory failure. */
Diag *diag_new(void);
Diag *diag_free(Diag *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Diag *, diag_free);

/* Adds one error. line/col 0 means "not known" and are left out of the
 * text. At most DIAG_MAX errors are kept; later ones are only counted. */
#define DIAG_MAX 100
void diag_add(Diag *d, const char *file, unsigned line, unsigned col, const char *fmt, ...)
    _printf_(5, 6);
unsigned diag_count(const Diag *d);
/* The i-th message (borrowed), i < min(count, DIAG_MAX). */
const char *diag_get(const Diag *d, unsigned i);
/* Prints every message, one per line, prefixed by `prefix` (may be ""). */
void diag_print(const Diag *d, FILE *f, const char *prefix);
