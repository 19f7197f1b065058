/* One household's stored record: encoding and decoding (record.h). */
#include "record.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* For ZSTD_c_forceAttachDict, a speed hint (record_codec_new). */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include "macro.h"
#include "jsonfast.h"
#include "record_dict.h"

#define BODY_FORMAT 1
/* Fast, and with the dictionary within a few percent of level 3. */
#define RECORD_LEVEL 1

struct RecordCodec {
        ZSTD_CCtx *cctx;
        ZSTD_DCtx *dctx;
        ZSTD_CDict *cdict;
        ZSTD_DDict *ddict;
};

RecordCodec *record_codec_new(void)
{
        RecordCodec *c = calloc(1, sizeof(RecordCodec));
        if (!c)
                return NULL;
        c->cctx = ZSTD_createCCtx();
        c->dctx = ZSTD_createDCtx();
        c->cdict = ZSTD_createCDict(record_dict_1, sizeof(record_dict_1), RECORD_LEVEL);
        c->ddict = ZSTD_createDDict(record_dict_1, sizeof(record_dict_1));
        if (!c->cctx || !c->dctx || !c->cdict || !c->ddict ||
            ZSTD_isError(ZSTD_CCtx_refCDict(c->cctx, c->cdict)))
                return record_codec_free(c);
        /* Why attach: for inputs beyond a few KiB zstd copies the
         * dictionary's tables into the context for each record; attached,
         * they are only read. Measured at level 1 with this dictionary
         * (alternating runs, one core): a 14 KB body (a household after 30
         * events) 15.5 -> 13.5 us, a 9 KB body 12.7 -> 9.8 us, frames 2-6
         * bytes smaller. Same frame format; a library that refuses the hint
         * only copies. */
        (void)ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_forceAttachDict, ZSTD_dictForceAttach);
        return c;
}

RecordCodec *record_codec_free(RecordCodec *c)
{
        if (!c)
                return NULL;
        ZSTD_freeCCtx(c->cctx);
        ZSTD_freeDCtx(c->dctx);
        ZSTD_freeCDict(c->cdict);
        ZSTD_freeDDict(c->ddict);
        free(c);
        return NULL;
}

/* --- the body: a byte buffer and a reader ---------------------------------- */

typedef struct {
        char *p;
        size_t len, cap;
        bool oom;
} Buf;

static void buf_room(Buf *b, size_t n)
{
        if (b->oom || b->len + n <= b->cap)
                return;
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
                cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
                b->oom = true;
                return;
        }
        b->p = p;
        b->cap = cap;
}

static void buf_put(Buf *b, const void *s, size_t n)
{
        buf_room(b, n);
        if (b->oom)
                return;
        memcpy(b->p + b->len, s, n);
        b->len += n;
}

static void buf_varint(Buf *b, uint64_t v)
{
        unsigned char tmp[10];
        size_t n = 0;
        do {
                tmp[n] = (unsigned char)(v & 0x7f);
                v >>= 7;
                if (v)
                        tmp[n] |= 0x80;
                n++;
        } while (v);
        buf_put(b, tmp, n);
}

static void buf_text(Buf *b, const char *s, size_t len)
{
        buf_varint(b, len);
        buf_put(b, s, len);
}

typedef struct {
        const unsigned char *p, *end;
        bool bad;
} Reader;

static uint64_t rd_varint(Reader *r)
{
        uint64_t v = 0;
        for (unsigned shift = 0; shift < 64; shift += 7) {
                if (r->p >= r->end)
                        break;
                unsigned char c = *r->p++;
                v |= (uint64_t)(c & 0x7f) << shift;
                if (!(c & 0x80))
                        return v;
        }
        r->bad = true;
        return 0;
}

static RecordText rd_text(Reader *r)
{
        uint64_t n = rd_varint(r);
        RecordText t = {"", 0};
        if (r->bad || n > (uint64_t)(r->end - r->p)) {
                r->bad = true;
                return t;
        }
        t.s = (const char *)r->p;
        t.len = (size_t)n;
        r->p += n;
        return t;
}

/* A count of entries each at least min bytes long: at most what is left. */
static size_t rd_count(Reader *r, size_t min)
{
        uint64_t n = rd_varint(r);
        if (r->bad || n > (uint64_t)(r->end - r->p) / min) {
                r->bad = true;
                return 0;
        }
        return (size_t)n;
}

static RecordText *rd_texts(Reader *r, size_t *n)
{
        *n = rd_count(r, 1);
        RecordText *t = calloc(*n ? *n : 1, sizeof(RecordText));
        for (size_t i = 0; t && i < *n && !r->bad; i++)
                t[i] = rd_text(r);
        return t;
}

/* --- decode ---------------------------------------------------------------- */

static int parse_body(Record *rec, size_t len)
{
        Reader r = {(const unsigned char *)rec->body, (const unsigned char *)rec->body + len,
                    false};
        if (len < 1 || *r.p++ != BODY_FORMAT)
                return -EINVAL;
        rec->doc = rd_text(&r);
        rec->n_off = rd_count(&r, 2);
        rec->off_tps = calloc(rec->n_off ? rec->n_off : 1, sizeof(RecordText));
        rec->offsets = calloc(rec->n_off ? rec->n_off : 1, sizeof(int64_t));
        if (!rec->off_tps || !rec->offsets)
                return -ENOMEM;
        for (size_t i = 0; i < rec->n_off && !r.bad; i++) {
                rec->off_tps[i] = rd_text(&r);
                rec->offsets[i] = (int64_t)rd_varint(&r);
        }
        rec->n_seen = rd_count(&r, 9);
        rec->seen = calloc(rec->n_seen ? rec->n_seen : 1, sizeof(RecordSeen));
        if (!rec->seen)
                return -ENOMEM;
        for (size_t i = 0; i < rec->n_seen && !r.bad; i++) {
                if (r.end - r.p < 8) {
                        r.bad = true; /* the times before took what the count allowed for */
                        break;
                }
                uint64_t h = 0;
                for (int k = 0; k < 8; k++)
                        h |= (uint64_t)r.p[k] << (8 * k);
                r.p += 8;
                rec->seen[i] = (RecordSeen){h, (int64_t)rd_varint(&r)};
        }
        if (!(rec->ledger = rd_texts(&r, &rec->n_ledger)) ||
            !(rec->timeline = rd_texts(&r, &rec->n_timeline)))
                return -ENOMEM;
        return r.bad || r.p != r.end ? -EINVAL : 0;
}

int record_decode(RecordCodec *c, const char *val, size_t len, Record *rec, char *err,
                  size_t errlen)
{
        *rec = (Record){0};
        char digits[RECORD_VERSION_DIGITS + 1];
        if (len < RECORD_HEADER || val[RECORD_VERSION_DIGITS] != 'z') {
                snprintf(err, errlen, "not a household record (no version header)");
                return -EINVAL;
        }
        memcpy(digits, val, RECORD_VERSION_DIGITS);
        digits[RECORD_VERSION_DIGITS] = 0;
        char *end = digits + strspn(digits, "0123456789");
        rec->version = strtoll(digits, NULL, 10);
        const char *z = val + RECORD_HEADER;
        size_t zlen = len - RECORD_HEADER;
        unsigned long long size = ZSTD_getFrameContentSize(z, zlen);
        if (*end || size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
            size > RECORD_BODY_MAX) {
                snprintf(err, errlen, "household record: damaged header or frame");
                return -EINVAL;
        }
        unsigned dict = ZSTD_getDictID_fromFrame(z, zlen);
        if (dict != 0 && dict != RECORD_DICT_1_ID) {
                snprintf(err, errlen, "household record: unknown dictionary %u (a newer hearth?)",
                         dict);
                return -EINVAL;
        }
        if (!(rec->body = malloc(size ? size : 1)))
                return -ENOMEM;
        size_t got = dict ? ZSTD_decompress_usingDDict(c->dctx, rec->body, size, z, zlen, c->ddict)
                          : ZSTD_decompressDCtx(c->dctx, rec->body, size, z, zlen);
        int r = ZSTD_isError(got) || got != size ? -EINVAL : parse_body(rec, got);
        if (r < 0) {
                snprintf(err, errlen, "household record: %s",
                         ZSTD_isError(got) ? ZSTD_getErrorName(got)
                         : r == -ENOMEM    ? "out of memory"
                                           : "damaged body");
                record_done(rec);
        }
        return r;
}

void record_done(Record *r)
{
        if (!r)
                return;
        free(r->body);
        free(r->off_tps);
        free(r->offsets);
        free(r->seen);
        free(r->ledger);
        free(r->timeline);
        *r = (Record){0};
}

int64_t record_applied(const Record *r, const char *tp)
{
        size_t n = strlen(tp);
        for (size_t i = 0; r && i < r->n_off; i++)
                if (r->off_tps[i].len == n && memcmp(r->off_tps[i].s, tp, n) == 0)
                        return r->offsets[i];
        return -1;
}

bool record_seen(const Record *r, uint64_t hash)
{
        for (size_t i = 0; r && i < r->n_seen; i++)
                if (r->seen[i].hash == hash)
                        return true;
        return false;
}

json_t *record_list_json(const RecordText *t, size_t n)
{
        json_t *a = json_array();
        for (size_t j = 0; a && j < n; j++) {
                json_t *e = jsonfast_load(t[j].s, t[j].len, NULL);
                if (json_array_append_new(a, e ? e : json_stringn(t[j].s, t[j].len)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

/* --- encode ---------------------------------------------------------------- */

static void put_offsets(Buf *b, const Record *prev, const RecordChange *ch)
{
        size_t n_prev = prev ? prev->n_off : 0, n = ch->n_off;
        /* Partitions of the change not in prev are new fields. */
        for (size_t i = 0; i < ch->n_off; i++)
                if (prev && record_applied(prev, ch->off_tps[i]) >= 0)
                        n--;
        buf_varint(b, n_prev + n);
        for (size_t i = 0; i < n_prev; i++) {
                int64_t off = prev->offsets[i];
                for (size_t j = 0; j < ch->n_off; j++)
                        if (strlen(ch->off_tps[j]) == prev->off_tps[i].len &&
                            memcmp(ch->off_tps[j], prev->off_tps[i].s, prev->off_tps[i].len) == 0)
                                off = ch->offsets[j];
                buf_text(b, prev->off_tps[i].s, prev->off_tps[i].len);
                buf_varint(b, (uint64_t)off);
        }
        for (size_t j = 0; j < ch->n_off; j++)
                if (!prev || record_applied(prev, ch->off_tps[j]) < 0) {
                        buf_text(b, ch->off_tps[j], strlen(ch->off_tps[j]));
                        buf_varint(b, (uint64_t)ch->offsets[j]);
                }
}

static void put_seen_one(Buf *b, uint64_t h, int64_t ms)
{
        unsigned char raw[8];
        for (int k = 0; k < 8; k++)
                raw[k] = (unsigned char)(h >> (8 * k));
        buf_put(b, raw, 8);
        buf_varint(b, (uint64_t)ms);
}

/* The remembered ids within the window, then the new ones, at most
 * dedup_max (the oldest go first). */
static void put_seen(Buf *b, const Record *prev, const RecordChange *ch)
{
        size_t n_prev = prev ? prev->n_seen : 0, first = 0;
        int64_t oldest = ch->now_ms - ch->dedup_window_ms;
        while (first < n_prev && prev->seen[first].ms < oldest)
                first++;
        size_t total = n_prev - first + ch->n_seen;
        size_t skip = total > ch->dedup_max ? total - ch->dedup_max : 0;
        buf_varint(b, total - skip);
        for (size_t i = skip; i < total; i++) {
                if (first + i < n_prev)
                        put_seen_one(b, prev->seen[first + i].hash, prev->seen[first + i].ms);
                else
                        put_seen_one(b, ch->seen[first + i - n_prev], ch->now_ms);
        }
}

/* The ledger: prev's entries then the new ones, the newest ledger_max. */
static void put_ledger(Buf *b, const Record *prev, const RecordChange *ch)
{
        size_t n_prev = prev && !ch->erase ? prev->n_ledger : 0;
        size_t n_new = ch->erase ? 0 : ch->n_ledger, total = n_prev + n_new;
        size_t skip = total > ch->ledger_max ? total - ch->ledger_max : 0;
        buf_varint(b, total - skip);
        for (size_t i = skip; i < total; i++) {
                if (i < n_prev)
                        buf_text(b, prev->ledger[i].s, prev->ledger[i].len);
                else
                        buf_text(b, ch->ledger[i - n_prev], strlen(ch->ledger[i - n_prev]));
        }
}

/* The timeline, newest first: the new entries (the last first), then
 * prev's, at most timeline_max. */
static void put_timeline(Buf *b, const Record *prev, const RecordChange *ch)
{
        size_t n_prev = prev && !ch->erase ? prev->n_timeline : 0;
        size_t n_new = ch->erase ? 0 : ch->n_timeline, total = n_prev + n_new;
        if (total > ch->timeline_max)
                total = ch->timeline_max;
        buf_varint(b, total);
        for (size_t i = 0; i < total; i++) {
                if (i < n_new) {
                        const char *t = ch->timeline[n_new - 1 - i];
                        buf_text(b, t, strlen(t));
                } else
                        buf_text(b, prev->timeline[i - n_new].s, prev->timeline[i - n_new].len);
        }
}

int record_encode(RecordCodec *c, const Record *prev, const RecordChange *ch, char **out,
                  size_t *out_len)
{
        *out = NULL;
        if (ch->version < 0 || ch->version >= 1000000000000LL)
                return -EINVAL;
        Buf b = {0};
        unsigned char format = BODY_FORMAT;
        buf_put(&b, &format, 1);
        buf_text(&b, ch->doc, strlen(ch->doc));
        put_offsets(&b, prev, ch);
        put_seen(&b, prev, ch);
        put_ledger(&b, prev, ch);
        put_timeline(&b, prev, ch);
        if (b.oom) {
                free(b.p);
                return -ENOMEM;
        }
        size_t cap = RECORD_HEADER + ZSTD_compressBound(b.len);
        char *v = malloc(cap);
        if (!v) {
                free(b.p);
                return -ENOMEM;
        }
        snprintf(v, RECORD_HEADER + 1, "%0*" PRId64 "z", RECORD_VERSION_DIGITS, ch->version);
        size_t z = ZSTD_compress2(c->cctx, v + RECORD_HEADER, cap - RECORD_HEADER, b.p, b.len);
        free(b.p);
        if (ZSTD_isError(z)) {
                free(v);
                return -ENOMEM;
        }
        *out = v;
        *out_len = RECORD_HEADER + z;
        return 0;
}
