#include "diag.h"

#include <stdarg.h>

struct Diag {
        char *msgs[DIAG_MAX];
        unsigned n;
};

Diag *diag_new(void)
{
        return calloc(1, sizeof(Diag));
}

Diag *diag_free(Diag *d)
{
        if (!d)
                return NULL;
        for (unsigned i = 0; i < d->n && i < DIAG_MAX; i++)
                free(d->msgs[i]);
        free(d);
        return NULL;
}

void diag_add(Diag *d, const char *file, unsigned line, unsigned col, const char *fmt, ...)
{
        if (!d)
                return;
        if (d->n >= DIAG_MAX) {
                d->n++;
                return;
        }
        char loc[512], msg[1024];
        if (line > 0)
                snprintf(loc, sizeof(loc), "%s:%u:%u: ", file ? file : "<input>", line, col);
        else
                snprintf(loc, sizeof(loc), "%s: ", file ? file : "<input>");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        /* One line per diagnostic: messages quote keys, placeholders and
         * tokens from the file, and a quoted newline split one in two
         * (found by tests/fuzz/fuzz_rules.c). */
        for (char *p = msg; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = '?';
        char *s = NULL;
        if (asprintf(&s, "%s%s", loc, msg) < 0)
                s = NULL;
        d->msgs[d->n++] = s;
}

unsigned diag_count(const Diag *d)
{
        return d ? d->n : 0;
}

const char *diag_get(const Diag *d, unsigned i)
{
        if (!d || i >= d->n || i >= DIAG_MAX)
                return NULL;
        return d->msgs[i] ? d->msgs[i] : "(out of memory)";
}

void diag_print(const Diag *d, FILE *f, const char *prefix)
{
        unsigned n = diag_count(d);
        for (unsigned i = 0; i < n && i < DIAG_MAX; i++)
                fprintf(f, "%s%s\n", prefix, diag_get(d, i));
        if (n > DIAG_MAX)
                fprintf(f, "%s... and %u more errors\n", prefix, n - DIAG_MAX);
}
