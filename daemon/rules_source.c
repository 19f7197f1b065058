/* Rule files as the loader reads them: their text, the start of each line,
 * and file:line:col positions of YAML scalars and expression errors. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "rules_impl.h"

/* --- source positions ----------------------------------------------------- */

void rules_source_done(Source *s)
{
        free(s->path);
        free(s->buf);
        free(s->lines);
        ytree_free(s->root);
        *s = (Source){0};
}

/* Indexes line starts: "\n", "\r\n" and a lone "\r" end a line, as in
 * libyaml. */
int rules_source_index(Source *s)
{
        size_t cap = 64, n = 0;
        size_t *lines = malloc(cap * sizeof(size_t));
        if (!lines)
                return -ENOMEM;
        lines[n++] = 0;
        for (size_t i = 0; i < s->len; i++) {
                if (s->buf[i] == '\r' && i + 1 < s->len && s->buf[i + 1] == '\n')
                        continue;
                if (s->buf[i] != '\n' && s->buf[i] != '\r')
                        continue;
                if (n == cap) {
                        size_t *nl = realloc(lines, 2 * cap * sizeof(size_t));
                        if (!nl) {
                                free(lines);
                                return -ENOMEM;
                        }
                        lines = nl;
                        cap *= 2;
                }
                lines[n++] = i + 1;
        }
        s->lines = lines;
        s->n_lines = n;
        return 0;
}

static size_t line_end(const Source *s, size_t line0)
{
        size_t e = line0 + 1 < s->n_lines ? s->lines[line0 + 1] : s->len;
        while (e > s->lines[line0] && (s->buf[e - 1] == '\n' || s->buf[e - 1] == '\r'))
                e--;
        return e;
}

/* Byte offset of a 1-based line:col whose columns count characters, as
 * libyaml's marks do. */
static size_t source_offset(const Source *s, unsigned line, unsigned col)
{
        if (line == 0 || line > s->n_lines)
                return s->len;
        size_t p = s->lines[line - 1], end = line_end(s, line - 1);
        for (unsigned c = 1; c < col && p < end; c++)
                for (p++; p < end && utf8_cont(s->buf[p]); p++)
                        ;
        return p;
}

/* The 1-based line:col (columns in characters) of byte offset off. */
static void source_pos(const Source *s, size_t off, unsigned *line, unsigned *col)
{
        size_t lo = 0, hi = s->n_lines;
        while (hi - lo > 1) {
                size_t mid = (lo + hi) / 2;
                if (s->lines[mid] <= off)
                        lo = mid;
                else
                        hi = mid;
        }
        unsigned c = 1;
        for (size_t p = s->lines[lo]; p < off && p < s->len; p++)
                if (!utf8_cont(s->buf[p]))
                        c++;
        *line = (unsigned)lo + 1;
        *col = c;
}

/* Where byte t of the value of scalar n is in the file. Works for every
 * scalar style: the value's non-blank bytes appear in the source in the
 * same order (folding and block indentation only change blanks), so they
 * are matched one by one from the start of the scalar's text. A position
 * on a blank or at the end is placed after the last matched byte. Falls
 * back to the scalar's own position if the text cannot be matched (an
 * escape like "\u00e9"). */
void rules_scalar_pos(const Source *s, const YNode *n, size_t t, unsigned *line, unsigned *col)
{
        size_t st = source_offset(s, n->line, n->col);
        if (st < s->len && (s->buf[st] == '|' || s->buf[st] == '>')) {
                while (st < s->len && s->buf[st] != '\n' && s->buf[st] != '\r')
                        st++;
                while (st < s->len && (s->buf[st] == '\n' || s->buf[st] == '\r'))
                        st++;
        } else if (st < s->len && (s->buf[st] == '"' || s->buf[st] == '\''))
                st++;
        if (t > n->len)
                t = n->len;

        size_t limit = st + 4 * n->len + 1024, j = st, last_i = SIZE_MAX, last_j = st;
        if (limit > s->len)
                limit = s->len;
        for (size_t i = 0; i <= t && i < n->len; i++) {
                char c = n->scalar[i];
                if (isspace((unsigned char)c))
                        continue;
                while (j < limit && s->buf[j] != c)
                        j++;
                if (j >= limit) {
                        *line = n->line;
                        *col = n->col;
                        return;
                }
                if (i == t) {
                        source_pos(s, j, line, col);
                        return;
                }
                last_i = i;
                last_j = j++;
        }
        size_t p = last_i == SIZE_MAX ? st : last_j + 1;
        size_t want = last_i == SIZE_MAX ? t : t - last_i - 1;
        /* Stay on the line of the last matched byte. */
        for (size_t k = 0; k < want && p < s->len && s->buf[p] != '\n' && s->buf[p] != '\r'; k++)
                p++;
        source_pos(s, p, line, col);
}

/* Byte offset in src of a 1-based line:col of an expression error (columns
 * count bytes there). */
size_t rules_expr_offset(const char *src, size_t len, unsigned line, unsigned col)
{
        size_t t = 0;
        for (unsigned l = 1; t < len && l < line; t++)
                if (src[t] == '\n')
                        l++;
        if (col > 0)
                t += col - 1;
        return t > len ? len : t;
}

/* Reads path whole (at most RULES_MAX_FILE_BYTES) into s->buf. */
int rules_source_read(const char *path, Source *s, Diag *diag)
{
        return fsutil_read_file(path, RULES_MAX_FILE_BYTES, &s->buf, &s->len, diag);
}
