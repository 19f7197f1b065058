/* Where each input partition stands (positions.h): pure bookkeeping, no I/O. */
#include "positions.h"

#include <errno.h>
#include <stdio.h>
#include "macro.h"

/* Each track on the heap of its own: a pointer handed out stays valid
 * while more tracks are added. */
struct Positions {
        Track **tracks;
        size_t n, cap;
};

Positions *positions_new(void)
{
        return calloc(1, sizeof(Positions));
}

Positions *positions_free(Positions *ps)
{
        if (!ps)
                return NULL;
        for (size_t i = 0; i < ps->n; i++) {
                free(ps->tracks[i]->topic);
                free(ps->tracks[i]->holds);
                free(ps->tracks[i]);
        }
        free(ps->tracks);
        free(ps);
        return NULL;
}

size_t positions_count(const Positions *ps)
{
        return ps->n;
}

Track *positions_at(Positions *ps, size_t i)
{
        return i < ps->n ? ps->tracks[i] : NULL;
}

Track *positions_get(Positions *ps, const char *topic, int32_t partition, bool create)
{
        for (size_t i = 0; i < ps->n; i++)
                if (ps->tracks[i]->partition == partition && streq(ps->tracks[i]->topic, topic))
                        return ps->tracks[i];
        if (!create)
                return NULL;
        if (ps->n == ps->cap) {
                size_t cap = ps->cap ? 2 * ps->cap : 16;
                Track **t = realloc(ps->tracks, cap * sizeof(Track *));
                if (!t)
                        return NULL;
                ps->tracks = t;
                ps->cap = cap;
        }
        Track *t = calloc(1, sizeof(Track));
        if (!t)
                return NULL;
        *t = (Track){.partition = partition, .processed_end = -1, .recorded = -1};
        t->topic = strdup(topic);
        if (!t->topic) {
                free(t);
                return NULL;
        }
        ps->tracks[ps->n] = t;
        tp_format(t->tp, sizeof(t->tp), topic, (int)partition);
        ps->n++;
        return t;
}

void track_done(Track *t, int64_t offset)
{
        if (offset + 1 > t->processed_end)
                t->processed_end = offset + 1;
}

int track_hold(Track *t, int64_t offset)
{
        if (t->n_holds == t->cap_holds) {
                size_t cap = t->cap_holds ? t->cap_holds * 2 : 8;
                int64_t *h = realloc(t->holds, cap * sizeof(int64_t));
                if (!h)
                        return -ENOMEM;
                t->holds = h;
                t->cap_holds = cap;
        }
        t->holds[t->n_holds++] = offset;
        return 0;
}

void track_release(Track *t, int64_t offset)
{
        for (size_t i = 0; i < t->n_holds; i++)
                if (t->holds[i] == offset) {
                        t->holds[i] = t->holds[--t->n_holds];
                        return;
                }
}

int64_t track_position(const Track *t)
{
        int64_t pos = t->processed_end;
        for (size_t i = 0; i < t->n_holds; i++)
                if (t->holds[i] < pos)
                        pos = t->holds[i];
        return pos;
}

int64_t track_resume(const Track *t)
{
        return t->recorded > t->processed_end ? t->recorded : t->processed_end;
}

void track_reset(Track *t, int64_t recorded)
{
        t->processed_end = -1;
        t->n_holds = 0;
        t->recorded = recorded;
}

size_t positions_moved(Positions *ps, const char **tps, int64_t *pos, Track **which)
{
        size_t n = 0;
        for (size_t i = 0; i < ps->n; i++) {
                Track *t = ps->tracks[i];
                int64_t at = track_position(t);
                if (at < 0 || at == t->recorded)
                        continue;
                tps[n] = t->tp;
                pos[n] = at;
                which[n++] = t;
        }
        return n;
}
