/* Text that came from input, shown on a terminal or written to the log:
 * every byte that could move the cursor, recolour the screen or start a
 * new line is written escaped, so a town name with ESC [2J clears nothing
 * and a free-text field cannot forge a line. C0 controls (newline and tab
 * included), DEL and bytes that are not UTF-8 become \xNN; C1 controls
 * (U+0080..U+009F, which some terminals read as ESC sequences) become
 * \u00NN. Everything else, Chinese included, is kept as is. */
#pragma once

#include <stddef.h>
#include <stdio.h>

/* Writes s (NULL: nothing) to f, escaped. */
void escape_fputs(const char *s, FILE *f);

/* Writes s (NULL: "") escaped into buf (len bytes, always terminated) and
 * returns buf, so it can be a printf argument. Text that does not fit is
 * cut at a character boundary and ends in "...". */
const char *escape_str(const char *s, char *buf, size_t len);

/* Writes s (NULL: nothing) to f as HTML text: <>&" as entities, controls
 * escaped as above. */
void escape_html(FILE *f, const char *s);
/* Writes s as one CSV field, quoted when it needs to be (RFC 4180). */
void escape_csv(FILE *f, const char *s);
