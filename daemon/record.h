/* One household's stored record: every piece of its state in one Redis
 * string, so that a household costs one key. The value is the version as
 * 12 ASCII digits (the commit script compares it with GETRANGE 0 11, never
 * decoding the rest), the letter 'z', then one zstd frame (compressed with
 * hearth's dictionary, record_dict.h) of the body, then (format 2) the
 * history frame, when there is one:
 *
 *   body: u8 format (1 or 2), doc (varint length, JSON text),
 *   offsets (varint n; n times: varint length, "topic/partition", varint
 *   last applied offset), dedup ids (varint n; n times: 8 bytes of the
 *   source+id hash, little-endian, varint milliseconds when seen; oldest
 *   first), ledger (varint n; n times: varint length, JSON text; oldest
 *   first), timeline (the same; newest first), and in format 2 only: the
 *   history frame's length in bytes (varint; 0: none).
 *   history frame: a zstd frame (the same dictionary) of u8 3, ledger,
 *   timeline (as above): the entries before the body's.
 *
 * Why two frames: a commit adds a few ledger and timeline entries, and the
 * lists hold up to RECORD_RECENT_MAX of them in the body; the older ones
 * are compressed once into the history frame and copied as they are by
 * the commits after, until the body's exceed RECORD_RECENT_MAX and the
 * next commit writes the history frame again (with the bounds applied).
 * So an event's commit costs the same whether the household has 5 or 500
 * entries, and the commit path reads the body only (record_decode_recent).
 * A format 1 value (one frame) is read as before and written as format 2
 * by its next commit.
 *
 * Pure code (no I/O): store.c reads and writes the values. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_VERSION_DIGITS 12
#define RECORD_HEADER (RECORD_VERSION_DIGITS + 1)
/* A body larger than this is refused as damaged, not allocated. */
#define RECORD_BODY_MAX (256u * 1024 * 1024)
/* Ledger and timeline entries kept in the body before a commit writes them
 * into the history frame. The stored lists hold at most their bound plus
 * these; readers see the bounds (record_bound()). */
#define RECORD_RECENT_MAX 8

typedef struct {
        const char *s;
        size_t len;
} RecordText;

typedef struct {
        uint64_t hash;
        int64_t ms;
} RecordSeen;

typedef struct {
        int64_t version;
        char *body; /* the decompressed body; the texts below point into it */
        RecordText doc;
        RecordText *off_tps;
        int64_t *offsets;
        size_t n_off;
        RecordSeen *seen;
        size_t n_seen;
        RecordText *ledger;
        size_t n_ledger;
        RecordText *timeline; /* newest first */
        size_t n_timeline;
        /* The history frame as stored (NULL: none; in body's allocation,
         * after the body), kept for the next commit to copy, and its body
         * when the lists include it. */
        char *hist;
        size_t hist_len;
        char *hist_body;
        /* The body's entries: the last of ledger[], the first of
         * timeline[]. */
        size_t n_recent_ledger, n_recent_timeline;
        bool partial; /* the lists hold the body's entries only */
} Record;

/* What one commit changes. */
typedef struct {
        int64_t version; /* the new version */
        const char *doc;
        const char *const *off_tps;
        const int64_t *offsets;
        size_t n_off;
        const uint64_t *seen;
        size_t n_seen;
        const char *const *ledger; /* appended, in order */
        size_t n_ledger;
        const char *const *timeline; /* in the order they happened (the last is newest) */
        size_t n_timeline;
        bool erase;              /* drop the ledger and the timeline */
        int64_t now_ms;          /* the time new dedup ids are seen */
        int64_t dedup_window_ms; /* ids older than now - window are forgotten */
        size_t dedup_max;        /* then the oldest beyond this many */
        size_t ledger_max;       /* the newest entries kept */
        size_t timeline_max;     /* the newest entries kept */
} RecordChange;

typedef struct RecordCodec RecordCodec;

/* The compression contexts (with the dictionary digested once). NULL on
 * memory failure. */
RecordCodec *record_codec_new(void);
RecordCodec *record_codec_free(RecordCodec *c);

/* Decodes a stored value into r (record_done() frees it). 0, or -EINVAL
 * with the reason in err (a damaged value, an unknown dictionary), -ENOMEM. */
int record_decode(RecordCodec *c, const char *val, size_t len, Record *r, char *err, size_t errlen);
/* The same without decompressing the history frame: r's ledger and
 * timeline hold the body's entries only (r->partial), which is all a
 * commit needs (record_encode() copies the frame or reads it itself). */
int record_decode_recent(RecordCodec *c, const char *val, size_t len, Record *r, char *err,
                         size_t errlen);
void record_done(Record *r);
/* The lists as a reader sees them: the newest ledger_max ledger and
 * timeline_max timeline entries. The stored lists hold up to
 * RECORD_RECENT_MAX more between the commits that apply the bounds. */
void record_bound(Record *r, size_t ledger_max, size_t timeline_max);

/* Encodes prev (NULL: a new household) with ch applied into a new value
 * in *out (malloc'd, *out_len bytes), always in format 2. 0 or -ENOMEM,
 * -EINVAL. A history frame of prev that cannot be decompressed when it is
 * due to be written again is copied as it is instead (the body keeps the
 * newer entries): a damaged frame never stops a household's commits. */
int record_encode(RecordCodec *c, const Record *prev, const RecordChange *ch, char **out,
                  size_t *out_len);

/* The last applied offset of tp, or -1. */
int64_t record_applied(const Record *r, const char *tp);
/* True when the dedup hash is remembered. */
bool record_seen(const Record *r, uint64_t hash);
/* A list of the record (ledger, timeline) as a JSON array: each entry
 * parsed, or as a string when it is not JSON. NULL on memory failure. */
json_t *record_list_json(const RecordText *t, size_t n);
