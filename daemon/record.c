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

/* The body's first byte: 1 (one frame), 2 (the history frame's length
 * at the end); the history frame's body starts with HIST_FORMAT. */
#define BODY_FORMAT_1 1
#define BODY_FORMAT 2
#define HIST_FORMAT 3
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

/* The body (format 1 or 2) in rec->body; *hist_len the history frame's
 * length it declares (0 in format 1). */
static int parse_body(Record *rec, size_t len, uint64_t *hist_len)
{
        Reader r = {(const unsigned char *)rec->body, (const unsigned char *)rec->body + len,
                    false};
        if (len < 1 || (*r.p != BODY_FORMAT && *r.p != BODY_FORMAT_1))
                return -EINVAL;
        bool format_2 = *r.p++ == BODY_FORMAT;
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
        rec->n_recent_ledger = rec->n_ledger;
        rec->n_recent_timeline = rec->n_timeline;
        *hist_len = format_2 ? rd_varint(&r) : 0;
        return r.bad || r.p != r.end ? -EINVAL : 0;
}

/* Decompresses one frame z (zlen bytes, exactly one frame) into a new
 * buffer *out of *size bytes, with extra bytes of room after them. 0,
 * -EINVAL with the reason in err, -ENOMEM. */
static int frame_decompress(RecordCodec *c, const char *z, size_t zlen, size_t extra, char **out,
                            size_t *size, char *err, size_t errlen)
{
        *out = NULL;
        unsigned long long n = ZSTD_getFrameContentSize(z, zlen);
        if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n > RECORD_BODY_MAX) {
                snprintf(err, errlen, "household record: damaged header or frame");
                return -EINVAL;
        }
        unsigned dict = ZSTD_getDictID_fromFrame(z, zlen);
        if (dict != 0 && dict != RECORD_DICT_1_ID) {
                snprintf(err, errlen, "household record: unknown dictionary %u (a newer hearth?)",
                         dict);
                return -EINVAL;
        }
        if (!(*out = malloc(n + extra + 1)))
                return -ENOMEM;
        size_t got = dict ? ZSTD_decompress_usingDDict(c->dctx, *out, n, z, zlen, c->ddict)
                          : ZSTD_decompressDCtx(c->dctx, *out, n, z, zlen);
        if (ZSTD_isError(got) || got != n) {
                snprintf(err, errlen, "household record: %s",
                         ZSTD_isError(got) ? ZSTD_getErrorName(got) : "damaged body");
                free(*out);
                *out = NULL;
                return -EINVAL;
        }
        *size = (size_t)n;
        return 0;
}

/* The history frame's lists (hist, in hist_body once decompressed). */
typedef struct {
        char *body;
        RecordText *ledger, *timeline;
        size_t n_ledger, n_timeline;
} Hist;

static void hist_done(Hist *h)
{
        free(h->body);
        free(h->ledger);
        free(h->timeline);
        *h = (Hist){0};
}

static int hist_decode(RecordCodec *c, const char *z, size_t zlen, Hist *h, char *err,
                       size_t errlen)
{
        *h = (Hist){0};
        size_t len = 0;
        int r = frame_decompress(c, z, zlen, 0, &h->body, &len, err, errlen);
        if (r < 0)
                return r;
        Reader rd = {(const unsigned char *)h->body, (const unsigned char *)h->body + len, false};
        if (len < 1 || *rd.p++ != HIST_FORMAT)
                rd.bad = true;
        else if (!(h->ledger = rd_texts(&rd, &h->n_ledger)) ||
                 !(h->timeline = rd_texts(&rd, &h->n_timeline)))
                r = -ENOMEM;
        if (!r && (rd.bad || rd.p != rd.end)) {
                snprintf(err, errlen, "household record: damaged history");
                r = -EINVAL;
        }
        if (r < 0)
                hist_done(h);
        return r;
}

/* The lists of rec with the history's entries: its ledger before the
 * body's, its timeline after. Takes h's body. */
static int lists_merge(Record *rec, Hist *h)
{
        RecordText *led = calloc(h->n_ledger + rec->n_ledger + 1, sizeof(RecordText));
        RecordText *tl = calloc(h->n_timeline + rec->n_timeline + 1, sizeof(RecordText));
        if (!led || !tl) {
                free(led);
                free(tl);
                return -ENOMEM;
        }
        memcpy(led, h->ledger, h->n_ledger * sizeof(RecordText));
        memcpy(led + h->n_ledger, rec->ledger, rec->n_ledger * sizeof(RecordText));
        memcpy(tl, rec->timeline, rec->n_timeline * sizeof(RecordText));
        memcpy(tl + rec->n_timeline, h->timeline, h->n_timeline * sizeof(RecordText));
        free(rec->ledger);
        free(rec->timeline);
        rec->ledger = led;
        rec->timeline = tl;
        rec->n_ledger += h->n_ledger;
        rec->n_timeline += h->n_timeline;
        rec->hist_body = h->body;
        h->body = NULL;
        hist_done(h);
        return 0;
}

static int decode(RecordCodec *c, const char *val, size_t len, Record *rec, bool history, char *err,
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
        size_t body_z = ZSTD_findFrameCompressedSize(z, zlen);
        if (*end || ZSTD_isError(body_z)) {
                snprintf(err, errlen, "household record: damaged header or frame");
                return -EINVAL;
        }
        size_t size = 0;
        uint64_t hist_len = 0;
        /* Room after the body for the history frame: one allocation. */
        int r = frame_decompress(c, z, body_z, zlen - body_z, &rec->body, &size, err, errlen);
        if (r == 0 && (r = parse_body(rec, size, &hist_len)) < 0)
                snprintf(err, errlen, "household record: %s",
                         r == -ENOMEM ? "out of memory" : "damaged body");
        /* The history frame fills the rest exactly: a value cut at the
         * frames' seam is damaged, not a household without history. */
        if (r == 0 && hist_len != zlen - body_z) {
                snprintf(err, errlen, "household record: damaged body");
                r = -EINVAL;
        }
        const char *hz = z + body_z;
        if (r == 0 && hist_len &&
            (ZSTD_findFrameCompressedSize(hz, hist_len) != hist_len ||
             ZSTD_getFrameContentSize(hz, hist_len) > RECORD_BODY_MAX)) {
                snprintf(err, errlen, "household record: damaged history");
                r = -EINVAL;
        }
        if (r == 0 && hist_len) {
                rec->hist = rec->body + size;
                memcpy(rec->hist, hz, hist_len);
                rec->hist_len = hist_len;
        }
        if (r == 0 && hist_len && history) {
                Hist h;
                if ((r = hist_decode(c, hz, hist_len, &h, err, errlen)) == 0 &&
                    (r = lists_merge(rec, &h)) < 0)
                        hist_done(&h);
        }
        rec->partial = hist_len && !history;
        if (r == -ENOMEM)
                snprintf(err, errlen, "household record: out of memory");
        if (r < 0)
                record_done(rec);
        return r;
}

int record_decode(RecordCodec *c, const char *val, size_t len, Record *rec, char *err,
                  size_t errlen)
{
        return decode(c, val, len, rec, true, err, errlen);
}

int record_decode_recent(RecordCodec *c, const char *val, size_t len, Record *rec, char *err,
                         size_t errlen)
{
        return decode(c, val, len, rec, false, err, errlen);
}

void record_bound(Record *r, size_t ledger_max, size_t timeline_max)
{
        if (r->n_ledger > ledger_max) {
                size_t skip = r->n_ledger - ledger_max;
                memmove(r->ledger, r->ledger + skip, ledger_max * sizeof(RecordText));
                r->n_ledger = ledger_max;
        }
        if (r->n_recent_ledger > r->n_ledger)
                r->n_recent_ledger = r->n_ledger;
        if (r->n_timeline > timeline_max)
                r->n_timeline = timeline_max;
        if (r->n_recent_timeline > r->n_timeline)
                r->n_recent_timeline = r->n_timeline;
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
        free(r->hist_body);
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

/* The lists of a commit, each in parts: the entries of prev's history,
 * prev's recent ones, the change's. */
typedef struct {
        const RecordText *hist_ledger, *hist_timeline; /* prev's history */
        size_t n_hist_ledger, n_hist_timeline;
        const RecordText *ledger, *timeline; /* prev's recent entries */
        size_t n_ledger, n_timeline;
        const char *const *new_ledger, *const *new_timeline; /* the change's */
        size_t n_new_ledger, n_new_timeline;
} Lists;

/* The ledger, oldest first: the history's, prev's recent, the new ones;
 * with all, the newest max of them, else the recent and new ones. */
static void put_ledger(Buf *b, const Lists *l, bool all, size_t max)
{
        size_t n_hist = all ? l->n_hist_ledger : 0;
        size_t total = n_hist + l->n_ledger + l->n_new_ledger;
        size_t skip = all && total > max ? total - max : 0;
        buf_varint(b, total - skip);
        for (size_t i = skip; i < total; i++) {
                if (i < n_hist)
                        buf_text(b, l->hist_ledger[i].s, l->hist_ledger[i].len);
                else if (i < n_hist + l->n_ledger)
                        buf_text(b, l->ledger[i - n_hist].s, l->ledger[i - n_hist].len);
                else {
                        const char *t = l->new_ledger[i - n_hist - l->n_ledger];
                        buf_text(b, t, strlen(t));
                }
        }
}

/* The timeline, newest first: the new entries (the last first), prev's
 * recent, with all the history's; with all at most max. */
static void put_timeline(Buf *b, const Lists *l, bool all, size_t max)
{
        size_t n_new = l->n_new_timeline, n_rec = l->n_timeline;
        size_t total = n_new + n_rec + (all ? l->n_hist_timeline : 0);
        if (all && total > max)
                total = max;
        buf_varint(b, total);
        for (size_t i = 0; i < total; i++) {
                if (i < n_new) {
                        const char *t = l->new_timeline[n_new - 1 - i];
                        buf_text(b, t, strlen(t));
                } else if (i < n_new + n_rec)
                        buf_text(b, l->timeline[i - n_new].s, l->timeline[i - n_new].len);
                else
                        buf_text(b, l->hist_timeline[i - n_new - n_rec].s,
                                 l->hist_timeline[i - n_new - n_rec].len);
        }
}

/* Compresses b into v + at (room for ZSTD_compressBound); its size, or 0
 * on error. */
static size_t compress_into(RecordCodec *c, char *v, size_t at, size_t cap, const Buf *b)
{
        size_t z = ZSTD_compress2(c->cctx, v + at, cap - at, b->p, b->len);
        return ZSTD_isError(z) ? 0 : z;
}

int record_encode(RecordCodec *c, const Record *prev, const RecordChange *ch, char **out,
                  size_t *out_len)
{
        *out = NULL;
        if (ch->version < 0 || ch->version >= 1000000000000LL)
                return -EINVAL;
        bool keep = prev && !ch->erase;
        Lists l = {0};
        if (!ch->erase) {
                l.new_ledger = ch->ledger;
                l.n_new_ledger = ch->n_ledger;
                l.new_timeline = ch->timeline;
                l.n_new_timeline = ch->n_timeline;
        }
        if (keep) {
                l.n_ledger = prev->n_recent_ledger;
                l.ledger = prev->ledger + (prev->n_ledger - prev->n_recent_ledger);
                l.n_timeline = prev->n_recent_timeline;
                l.timeline = prev->timeline;
                if (!prev->partial) {
                        l.hist_ledger = prev->ledger;
                        l.n_hist_ledger = prev->n_ledger - prev->n_recent_ledger;
                        l.hist_timeline = prev->timeline + prev->n_recent_timeline;
                        l.n_hist_timeline = prev->n_timeline - prev->n_recent_timeline;
                }
        }
        /* The history frame is written again when the body's entries would
         * exceed RECORD_RECENT_MAX, else prev's is copied. */
        bool rewrite =
            l.n_ledger + l.n_timeline + l.n_new_ledger + l.n_new_timeline > RECORD_RECENT_MAX;
        /* Older entries without a frame to copy (a Record built by hand, as
         * hearthctl migrate does): written. */
        if (keep && !prev->hist && l.n_hist_ledger + l.n_hist_timeline)
                rewrite = true;
        Hist h = {0};
        char err[64];
        if (rewrite && keep && prev->partial && prev->hist) {
                if (hist_decode(c, prev->hist, prev->hist_len, &h, err, sizeof(err)) == 0) {
                        l.hist_ledger = h.ledger;
                        l.n_hist_ledger = h.n_ledger;
                        l.hist_timeline = h.timeline;
                        l.n_hist_timeline = h.n_timeline;
                } else
                        rewrite = false; /* damaged: copied, never lost here */
        }
        Buf hb = {0};
        if (rewrite) {
                unsigned char format = HIST_FORMAT;
                buf_put(&hb, &format, 1);
                put_ledger(&hb, &l, true, ch->ledger_max);
                put_timeline(&hb, &l, true, ch->timeline_max);
        }
        Buf b = {0};
        unsigned char format = BODY_FORMAT;
        buf_put(&b, &format, 1);
        buf_text(&b, ch->doc, strlen(ch->doc));
        put_offsets(&b, prev, ch);
        put_seen(&b, prev, ch);
        Lists none = {0};
        put_ledger(&b, rewrite ? &none : &l, false, 0);
        put_timeline(&b, rewrite ? &none : &l, false, 0);
        hist_done(&h);
        /* An empty history (erased, or bounds of 0) is no frame. */
        bool hist_empty = rewrite && hb.len == 3;
        size_t copy_len = !rewrite && keep && prev->hist ? prev->hist_len : 0;
        size_t cap = RECORD_HEADER + ZSTD_compressBound(b.len + 10) +
                     (rewrite ? ZSTD_compressBound(hb.len) : copy_len);
        char *v = hb.oom || b.oom ? NULL : malloc(cap);
        int ret = v ? 0 : -ENOMEM;
        size_t hist_z = copy_len, body_z = 0;
        char *hz = NULL;
        if (!ret && rewrite && !hist_empty) {
                /* Compressed first: the body ends with its length. */
                if (!(hz = malloc(ZSTD_compressBound(hb.len))))
                        ret = -ENOMEM;
                else if (!(hist_z = compress_into(c, hz, 0, ZSTD_compressBound(hb.len), &hb)))
                        ret = -ENOMEM;
        }
        if (!ret) {
                /* Before the body: snprintf's NUL lands where the frame goes. */
                snprintf(v, RECORD_HEADER + 1, "%0*" PRId64 "z", RECORD_VERSION_DIGITS,
                         ch->version);
                buf_varint(&b, hist_z);
                if (b.oom || !(body_z = compress_into(c, v, RECORD_HEADER, cap, &b)))
                        ret = -ENOMEM;
        }
        if (!ret) {
                if (hz)
                        memcpy(v + RECORD_HEADER + body_z, hz, hist_z);
                else if (copy_len)
                        memcpy(v + RECORD_HEADER + body_z, prev->hist, copy_len);
        }
        free(hz);
        free(hb.p);
        free(b.p);
        if (ret < 0) {
                free(v);
                return ret;
        }
        *out = v;
        *out_len = RECORD_HEADER + body_z + hist_z;
        return 0;
}
