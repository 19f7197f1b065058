/* Where each input partition stands: the offset after the last message done,
 * held back by dead letters whose delivery is not confirmed yet, and the
 * position last written to Redis (the truth) and stored in Kafka (a hint). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POSITIONS_TP_LEN 300

typedef struct {
        char tp[POSITIONS_TP_LEN]; /* "topic/partition" */
        char *topic;
        int32_t partition;
        int64_t processed_end; /* offset after the last message done; -1: none yet */
        int64_t *holds;        /* offsets of dead letters not yet confirmed */
        size_t n_holds, cap_holds;
        int64_t recorded; /* last position written to Redis; -1: none */
        bool assigned;
} Track;

typedef struct Positions Positions;

Positions *positions_new(void);
Positions *positions_free(Positions *ps);

/* The partition's track; created when create is set (NULL on memory
 * failure or, without create, when unknown). */
Track *positions_get(Positions *ps, const char *topic, int32_t partition, bool create);
size_t positions_count(const Positions *ps);
Track *positions_at(Positions *ps, size_t i);

/* The message at offset is done (applied, a duplicate, or dead-lettered). */
void track_done(Track *t, int64_t offset);
/* A dead letter of offset is on its way: the position does not pass it
 * until track_release(). 0 or -ENOMEM. */
int track_hold(Track *t, int64_t offset);
void track_release(Track *t, int64_t offset);
/* Where the partition may be recorded: processed_end, or the lowest
 * held offset before it; -1 when nothing is done yet. */
int64_t track_position(const Track *t);
/* Where this instance's own work on the partition ends: the larger of
 * what it recorded and what it processed; -1 when neither. */
int64_t track_resume(const Track *t);
/* Forgets what was done (a seek, an assignment or a revocation). */
void track_reset(Track *t, int64_t recorded);

/* The tracks whose position moved since it was last recorded: fills tps,
 * pos and which (each of positions_count() entries); returns how many. */
size_t positions_moved(Positions *ps, const char **tps, int64_t *pos, Track **which);
