/* One household's stored record: every piece of its state in one Redis
 * string, so that a household costs one key. The value is the version as
 * 12 ASCII digits (the commit script compares it with GETRANGE 0 11, never
 * decoding the rest), the letter 'z', then one zstd frame (compressed with
 * hearth's dictionary, record_dict.h) of the body:
 *
 *   u8 1 (body format), doc (varint length, JSON text),
 *   offsets (varint n; n times: varint length, "topic/partition", varint
 *   last applied offset), dedup ids (varint n; n times: 8 bytes of the
 *   source+id hash, little-endian, varint milliseconds when seen; oldest
 *   first), ledger (varint n; n times: varint length, JSON text; oldest
 *   first), timeline (the same; newest first).
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
void record_done(Record *r);

/* Encodes prev (NULL: a new household) with ch applied into a new value
 * in *out (malloc'd, *out_len bytes). 0 or -ENOMEM, -EINVAL. */
int record_encode(RecordCodec *c, const Record *prev, const RecordChange *ch, char **out,
                  size_t *out_len);

/* The last applied offset of tp, or -1. */
int64_t record_applied(const Record *r, const char *tp);
/* True when the dedup hash is remembered. */
bool record_seen(const Record *r, uint64_t hash);
/* A list of the record (ledger, timeline) as a JSON array: each entry
 * parsed, or as a string when it is not JSON. NULL on memory failure. */
json_t *record_list_json(const RecordText *t, size_t n);
