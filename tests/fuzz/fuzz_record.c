/* Fuzz target: a household's record as read from Redis (record_decode).
 * Redis is hearth's own store, but a damaged AOF, another program's key
 * under hearth's prefix or a record of a newer hearth must give an error,
 * never a crash or a wrong state.
 *
 * Input: the stored value (version header, 'z', zstd frame, history
 * frame). Oracles:
 * - never crashes; a refusal has a message;
 * - a record that decodes encodes again (nothing changed, every bound wide
 *   enough) to a value that decodes to the same version, document, offsets,
 *   dedup ids (with their times), ledger and timeline, in the same order;
 * - encoding is deterministic: the same record twice gives the same bytes;
 * - the commit path's way (record_decode_recent, then encode) keeps the
 *   same lists as encoding from the whole record. */
#include <stdint.h>

#include "fuzz_util.h"
#include "record.h"

static RecordCodec *codec;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        codec = record_codec_new();
        if (!codec)
                abort();
        return 0;
}

static bool texts_equal(const RecordText *a, const RecordText *b, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (a[i].len != b[i].len || memcmp(a[i].s, b[i].s, a[i].len) != 0)
                        return false;
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        Record r;
        char err[160] = "";
        if (record_decode(codec, (const char *)data, size, &r, err, sizeof(err)) < 0) {
                ORACLE(err[0], "a refusal without a message");
                return 0;
        }
        /* The document is text up to its length; the encoder takes a C
         * string, so a document with a NUL byte cannot be written again. */
        if (memchr(r.doc.s, 0, r.doc.len)) {
                record_done(&r);
                return 0;
        }
        char *doc = strndup(r.doc.s, r.doc.len);
        ORACLE(doc, "out of memory");
        /* Every other section is written with its lengths: kept byte for
         * byte. */
        RecordChange ch = {.version = r.version,
                           .doc = doc,
                           .now_ms = INT64_MIN,
                           .dedup_window_ms = 0,
                           .dedup_max = r.n_seen,
                           .ledger_max = r.n_ledger,
                           .timeline_max = r.n_timeline};
        char *v1 = NULL, *v2 = NULL;
        size_t l1 = 0, l2 = 0;
        int e1 = record_encode(codec, &r, &ch, &v1, &l1);
        int e2 = record_encode(codec, &r, &ch, &v2, &l2);
        ORACLE(e1 == e2, "encoding twice: %d then %d", e1, e2);
        if (e1 == 0) {
                ORACLE(l1 == l2 && memcmp(v1, v2, l1) == 0, "encoding is not deterministic");
                Record b;
                int d = record_decode(codec, v1, l1, &b, err, sizeof(err));
                ORACLE(d == 0, "a record written by the encoder does not decode: %s", err);
                ORACLE(b.version == r.version, "version %lld -> %lld", (long long)r.version,
                       (long long)b.version);
                ORACLE(b.doc.len == r.doc.len && memcmp(b.doc.s, r.doc.s, r.doc.len) == 0,
                       "the document changed");
                ORACLE(b.n_off == r.n_off, "offsets %zu -> %zu", r.n_off, b.n_off);
                ORACLE(texts_equal(b.off_tps, r.off_tps, r.n_off), "partitions changed");
                for (size_t i = 0; i < r.n_off; i++)
                        ORACLE(b.offsets[i] == r.offsets[i], "offset %zu changed", i);
                ORACLE(b.n_seen == r.n_seen, "dedup ids %zu -> %zu", r.n_seen, b.n_seen);
                for (size_t i = 0; i < r.n_seen; i++)
                        ORACLE(b.seen[i].hash == r.seen[i].hash && b.seen[i].ms == r.seen[i].ms,
                               "dedup id %zu changed", i);
                ORACLE(b.n_ledger == r.n_ledger && b.n_timeline == r.n_timeline,
                       "ledger %zu -> %zu, timeline %zu -> %zu", r.n_ledger, b.n_ledger,
                       r.n_timeline, b.n_timeline);
                ORACLE(texts_equal(b.ledger, r.ledger, r.n_ledger) &&
                           texts_equal(b.timeline, r.timeline, r.n_timeline),
                       "the ledger or the timeline changed");
                record_done(&b);
                /* As hearthd commits: from the body alone. zstd does not
                 * always decode a damaged frame the same way twice with
                 * one context (its first decode may pass, the next fail;
                 * valid frames are not affected): a body that no longer
                 * decodes must fail the whole decode now too. */
                Record p;
                if (record_decode_recent(codec, (const char *)data, size, &p, err, sizeof(err)) <
                    0) {
                        Record again;
                        d = record_decode(codec, (const char *)data, size, &again, err,
                                          sizeof(err));
                        ORACLE(d < 0, "decodes whole but not its body");
                        goto done;
                }
                char *v3 = NULL;
                size_t l3 = 0;
                ORACLE(record_encode(codec, &p, &ch, &v3, &l3) == 0, "encoding from the body");
                Record q;
                d = record_decode(codec, v3, l3, &q, err, sizeof(err));
                ORACLE(d == 0, "a commit from the body does not decode: %s", err);
                ORACLE(q.n_ledger == r.n_ledger && q.n_timeline == r.n_timeline &&
                           texts_equal(q.ledger, r.ledger, r.n_ledger) &&
                           texts_equal(q.timeline, r.timeline, r.n_timeline),
                       "a commit from the body changed the ledger or the timeline");
                record_done(&q);
                record_done(&p);
                free(v3);
        }
done:
        free(v1);
        free(v2);
        free(doc);
        record_done(&r);
        return 0;
}
