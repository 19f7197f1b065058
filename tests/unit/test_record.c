/* The household record (record.c): a round trip keeps every section, the
 * bounds keep the newest, and a damaged or foreign value is an error that
 * says so, never a crash or a wrong state. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zstd.h>
#include "record.h"
#include "record_dict.h"

static RecordChange change(int64_t version, const char *doc)
{
        return (RecordChange){.version = version,
                              .doc = doc,
                              .now_ms = 1000,
                              .dedup_window_ms = 10000,
                              .dedup_max = 100,
                              .ledger_max = 100,
                              .timeline_max = 50};
}

static void roundtrip(RecordCodec *c, const Record *prev, const RecordChange *ch, Record *out)
{
        char *v = NULL, err[160];
        size_t len = 0;
        assert_int_equal(record_encode(c, prev, ch, &v, &len), 0);
        assert_true(len > RECORD_HEADER);
        assert_int_equal(record_decode(c, v, len, out, err, sizeof(err)), 0);
        free(v);
}

static void test_roundtrip(void **state)
{
        (void)state;
        RecordCodec *c = record_codec_new();
        assert_non_null(c);
        const char *tps[] = {"medical-insurance.events/7", "civil-affairs.events/0"};
        const int64_t offs[] = {123456789012LL, 0};
        const uint64_t seen[] = {0x0123456789abcdefULL, 0xffffffffffffffffULL};
        const char *ledger[] = {"{\"amount\":1}", "{\"amount\":2}"};
        const char *tl[] = {"{\"i\":1}", "{\"i\":2}"};
        RecordChange ch = change(1, "{\"registered\":true,\"town\":\"温溪镇\"}");
        ch.off_tps = tps;
        ch.offsets = offs;
        ch.n_off = 2;
        ch.seen = seen;
        ch.n_seen = 2;
        ch.ledger = ledger;
        ch.n_ledger = 2;
        ch.timeline = tl;
        ch.n_timeline = 2;
        Record r;
        roundtrip(c, NULL, &ch, &r);
        assert_int_equal(r.version, 1);
        assert_int_equal(r.doc.len, strlen(ch.doc));
        assert_memory_equal(r.doc.s, ch.doc, r.doc.len);
        assert_int_equal(record_applied(&r, "medical-insurance.events/7"), 123456789012LL);
        assert_int_equal(record_applied(&r, "civil-affairs.events/0"), 0);
        assert_int_equal(record_applied(&r, "civil-affairs.events/1"), -1);
        assert_true(record_seen(&r, 0xffffffffffffffffULL));
        assert_false(record_seen(&r, 1));
        assert_int_equal(r.n_ledger, 2);
        assert_memory_equal(r.ledger[1].s, "{\"amount\":2}", r.ledger[1].len);
        /* The timeline is newest first. */
        assert_memory_equal(r.timeline[0].s, "{\"i\":2}", r.timeline[0].len);

        /* The next commit: one partition moves, one id joins, the window
         * forgets the ids of the first commit, entries append. */
        const char *tps2[] = {"civil-affairs.events/0"};
        const int64_t offs2[] = {5};
        const uint64_t seen2[] = {42};
        const char *tl2[] = {"{\"i\":3}"};
        RecordChange ch2 = change(2, "{}");
        ch2.off_tps = tps2;
        ch2.offsets = offs2;
        ch2.n_off = 1;
        ch2.seen = seen2;
        ch2.n_seen = 1;
        ch2.now_ms = 1000 + 10001;
        ch2.timeline = tl2;
        ch2.n_timeline = 1;
        Record r2;
        roundtrip(c, &r, &ch2, &r2);
        assert_int_equal(r2.version, 2);
        assert_int_equal(r2.n_off, 2);
        assert_int_equal(record_applied(&r2, "civil-affairs.events/0"), 5);
        assert_int_equal(record_applied(&r2, "medical-insurance.events/7"), 123456789012LL);
        assert_int_equal(r2.n_seen, 1);
        assert_true(record_seen(&r2, 42));
        assert_int_equal(r2.n_ledger, 2);
        assert_int_equal(r2.n_timeline, 3);
        assert_memory_equal(r2.timeline[0].s, "{\"i\":3}", r2.timeline[0].len);
        record_done(&r2);
        record_done(&r);
        record_codec_free(c);
}

static void test_bounds(void **state)
{
        (void)state;
        RecordCodec *c = record_codec_new();
        uint64_t seen[10];
        const char *ledger[10];
        char texts[10][16];
        for (int i = 0; i < 10; i++) {
                seen[i] = (uint64_t)i;
                snprintf(texts[i], sizeof(texts[i]), "{\"i\":%d}", i);
                ledger[i] = texts[i];
        }
        RecordChange ch = change(1, "{}");
        ch.seen = seen;
        ch.n_seen = 10;
        ch.ledger = ledger;
        ch.n_ledger = 10;
        ch.timeline = ledger;
        ch.n_timeline = 10;
        ch.dedup_max = 4;
        ch.ledger_max = 3;
        ch.timeline_max = 2;
        Record r;
        roundtrip(c, NULL, &ch, &r);
        /* The newest of each. */
        assert_int_equal(r.n_seen, 4);
        assert_false(record_seen(&r, 5));
        assert_true(record_seen(&r, 6));
        assert_int_equal(r.n_ledger, 3);
        assert_memory_equal(r.ledger[0].s, "{\"i\":7}", r.ledger[0].len);
        assert_int_equal(r.n_timeline, 2);
        assert_memory_equal(r.timeline[0].s, "{\"i\":9}", r.timeline[0].len);
        /* Erasure drops the ledger and the timeline, keeps dedup. */
        RecordChange er = change(2, "{}");
        er.erase = true;
        er.dedup_max = 4;
        er.timeline = ledger;
        er.n_timeline = 1;
        Record e;
        roundtrip(c, &r, &er, &e);
        assert_int_equal(e.n_ledger + e.n_timeline, 0);
        assert_int_equal(e.n_seen, 4);
        record_done(&e);
        record_done(&r);
        record_codec_free(c);
}

static void test_damaged(void **state)
{
        (void)state;
        RecordCodec *c = record_codec_new();
        char err[160];
        Record r;
        /* Not a record at all, or the older layout's document. */
        assert_int_equal(record_decode(c, "{\"n\":1}", 7, &r, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "not a household record"));
        assert_int_equal(record_decode(c, "000000000001zjunk", 17, &r, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "household record"));
        /* Every truncation of a good record fails cleanly. */
        RecordChange ch = change(3, "{\"a\":[1,2,3]}");
        char *v = NULL;
        size_t len = 0;
        assert_int_equal(record_encode(c, NULL, &ch, &v, &len), 0);
        for (size_t cut = 0; cut < len; cut++)
                assert_int_equal(record_decode(c, v, cut, &r, err, sizeof(err)), -EINVAL);
        /* A flipped byte in the frame: an error or (if zstd cannot tell) a
         * body that parses; never a crash (ASan watches). */
        for (size_t i = RECORD_HEADER; i < len; i++) {
                v[i] ^= 0x5a;
                if (record_decode(c, v, len, &r, err, sizeof(err)) == 0)
                        record_done(&r);
                v[i] ^= 0x5a;
        }
        free(v);
        /* A frame made with another dictionary (hearth's with another id,
         * as a newer hearth would add): named as such. */
        unsigned char *other = malloc(sizeof(record_dict_1));
        assert_non_null(other);
        memcpy(other, record_dict_1, sizeof(record_dict_1));
        other[4] ^= 0x01;
        const char body[] = {1, 2, '{', '}', 0, 0, 0, 0};
        char z[512 + RECORD_HEADER];
        memcpy(z, "000000000001z", RECORD_HEADER);
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        size_t zn = ZSTD_compress_usingDict(cc, z + RECORD_HEADER, 512, body, sizeof(body), other,
                                            sizeof(record_dict_1), 1);
        ZSTD_freeCCtx(cc);
        free(other);
        assert_false(ZSTD_isError(zn));
        assert_int_equal(record_decode(c, z, RECORD_HEADER + zn, &r, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "unknown dictionary"));
        /* The same body with hearth's dictionary decodes. */
        cc = ZSTD_createCCtx();
        zn = ZSTD_compress_usingDict(cc, z + RECORD_HEADER, 512, body, sizeof(body), record_dict_1,
                                     sizeof(record_dict_1), 1);
        ZSTD_freeCCtx(cc);
        assert_int_equal(record_decode(c, z, RECORD_HEADER + zn, &r, err, sizeof(err)), 0);
        assert_memory_equal(r.doc.s, "{}", 2);
        record_done(&r);
        record_codec_free(c);
}

/* A value's history frame: what follows the body's frame. */
static const char *hist_part(const char *v, size_t len, size_t *n)
{
        size_t body = ZSTD_findFrameCompressedSize(v + RECORD_HEADER, len - RECORD_HEADER);
        assert_false(ZSTD_isError(body));
        *n = len - RECORD_HEADER - body;
        return v + RECORD_HEADER + body;
}

/* Commit i of a household's history: one ledger entry {"paid":i} and one
 * timeline entry {"event":i} (written into paid and event, 24 bytes each,
 * and pointed to by led[0] and tl[0]), bounds 30 and 25. */
static RecordChange entry_change(int i, char *paid, char *event, const char **led, const char **tl)
{
        snprintf(paid, 24, "{\"paid\":%d}", i);
        snprintf(event, 24, "{\"event\":%d}", i);
        led[0] = paid;
        tl[0] = event;
        RecordChange ch = change(i + 1, "{\"n\":1}");
        ch.ledger = led;
        ch.n_ledger = 1;
        ch.timeline = tl;
        ch.n_timeline = 1;
        ch.ledger_max = 30;
        ch.timeline_max = 25;
        return ch;
}

/* Commits as hearthd makes them (the previous record read without its
 * history): the body never holds more than RECORD_RECENT_MAX entries, the
 * history frame is copied byte for byte between rewrites, and the whole
 * record reads back every entry kept, in order, within the bounds. */
static void test_history(void **state)
{
        (void)state;
        RecordCodec *c = record_codec_new();
        char *v = NULL, err[160], texts[2][40][24];
        size_t len = 0, copies = 0, rewrites = 0;
        Record prev = {0};
        bool have = false;
        for (int i = 0; i < 40; i++) {
                const char *led[1], *tl[1];
                RecordChange ch = entry_change(i, texts[0][i], texts[1][i], led, tl);
                char *nv = NULL;
                size_t nlen = 0;
                assert_int_equal(record_encode(c, have ? &prev : NULL, &ch, &nv, &nlen), 0);
                if (have) {
                        size_t a, b;
                        const char *ha = hist_part(v, len, &a), *hb = hist_part(nv, nlen, &b);
                        if (a && a == b && memcmp(ha, hb, a) == 0)
                                copies++;
                        else if (b)
                                rewrites++;
                        record_done(&prev);
                }
                free(v);
                v = nv;
                len = nlen;
                assert_int_equal(record_decode_recent(c, v, len, &prev, err, sizeof(err)), 0);
                have = true;
                assert_true(prev.n_ledger + prev.n_timeline <= RECORD_RECENT_MAX);
                assert_int_equal(prev.n_recent_ledger, prev.n_ledger);
        }
        /* 80 entries, 8 a body: a rewrite every 4 commits, copies between. */
        assert_true(rewrites >= 8 && rewrites <= 10);
        assert_true(copies >= 25);
        assert_true(prev.partial);
        /* The whole record: the bounds applied at the last rewrite, plus
         * the body's entries since. */
        Record all;
        assert_int_equal(record_decode(c, v, len, &all, err, sizeof(err)), 0);
        assert_false(all.partial);
        assert_true(all.n_ledger >= 30 && all.n_ledger <= 30 + RECORD_RECENT_MAX);
        assert_true(all.n_timeline >= 25 && all.n_timeline <= 25 + RECORD_RECENT_MAX);
        for (size_t i = 0; i < all.n_ledger; i++) {
                const char *want = texts[0][40 - all.n_ledger + i];
                assert_int_equal(all.ledger[i].len, strlen(want));
                assert_memory_equal(all.ledger[i].s, want, all.ledger[i].len);
        }
        for (size_t i = 0; i < all.n_timeline; i++) {
                const char *want = texts[1][39 - i];
                assert_int_equal(all.timeline[i].len, strlen(want));
                assert_memory_equal(all.timeline[i].s, want, all.timeline[i].len);
        }
        /* Encoding from the whole record gives the same lists as from the
         * body alone. */
        const char *tl[] = {"{\"event\":40}"};
        RecordChange ch = change(41, "{}");
        ch.timeline = tl;
        ch.n_timeline = 1;
        ch.ledger_max = 30;
        ch.timeline_max = 25;
        char *v1 = NULL, *v2 = NULL;
        size_t l1 = 0, l2 = 0;
        assert_int_equal(record_encode(c, &prev, &ch, &v1, &l1), 0);
        assert_int_equal(record_encode(c, &all, &ch, &v2, &l2), 0);
        Record r1, r2;
        assert_int_equal(record_decode(c, v1, l1, &r1, err, sizeof(err)), 0);
        assert_int_equal(record_decode(c, v2, l2, &r2, err, sizeof(err)), 0);
        assert_int_equal(r1.n_ledger, r2.n_ledger);
        assert_int_equal(r1.n_timeline, r2.n_timeline);
        for (size_t i = 0; i < r1.n_timeline; i++)
                assert_memory_equal(r1.timeline[i].s, r2.timeline[i].s, r1.timeline[i].len);
        assert_memory_equal(r1.timeline[0].s, "{\"event\":40}", r1.timeline[0].len);
        /* Every cut of a value with a history frame fails, the seam
         * between the frames included. */
        Record cut;
        for (size_t n = 0; n < len; n++)
                assert_int_equal(record_decode(c, v, n, &cut, err, sizeof(err)), -EINVAL);
        /* Nor does a byte after the history frame pass. */
        char *longer = malloc(len + 1);
        assert_non_null(longer);
        memcpy(longer, v, len);
        longer[len] = 0;
        assert_int_equal(record_decode(c, longer, len + 1, &cut, err, sizeof(err)), -EINVAL);
        assert_int_equal(record_decode_recent(c, longer, len + 1, &cut, err, sizeof(err)), -EINVAL);
        free(longer);
        /* Erasure drops the history frame too. */
        RecordChange er = change(42, "{}");
        er.erase = true;
        char *ve = NULL;
        size_t le = 0, hn = 0;
        assert_int_equal(record_encode(c, &prev, &er, &ve, &le), 0);
        hist_part(ve, le, &hn);
        assert_int_equal(hn, 0);
        Record e;
        assert_int_equal(record_decode(c, ve, le, &e, err, sizeof(err)), 0);
        assert_int_equal(e.n_ledger + e.n_timeline, 0);
        record_done(&e);
        free(ve);
        record_done(&r1);
        record_done(&r2);
        free(v1);
        free(v2);
        record_done(&all);
        record_done(&prev);
        free(v);
        record_codec_free(c);
}

/* A reader sees the bounds exactly (record_bound), though the stored
 * lists hold the body's entries beyond them until the next rewrite; and
 * a commit from the bounded record keeps the same lists. */
static void test_bound(void **state)
{
        (void)state;
        RecordCodec *c = record_codec_new();
        char *v = NULL, err[160], texts[2][36][24];
        size_t len = 0;
        for (int i = 0; i < 36; i++) {
                const char *led[1], *tl[1];
                RecordChange ch = entry_change(i, texts[0][i], texts[1][i], led, tl);
                Record prev;
                if (v)
                        assert_int_equal(record_decode_recent(c, v, len, &prev, err, sizeof(err)),
                                         0);
                char *nv = NULL;
                assert_int_equal(record_encode(c, v ? &prev : NULL, &ch, &nv, &len), 0);
                if (v)
                        record_done(&prev);
                free(v);
                v = nv;
        }
        Record all;
        assert_int_equal(record_decode(c, v, len, &all, err, sizeof(err)), 0);
        /* The last rewrite bounded the history; the body holds one more. */
        assert_int_equal(all.n_ledger, 31);
        assert_int_equal(all.n_timeline, 26);
        record_bound(&all, 30, 25);
        assert_int_equal(all.n_ledger, 30);
        assert_int_equal(all.n_timeline, 25);
        assert_true(all.n_recent_ledger <= all.n_ledger);
        assert_true(all.n_recent_timeline <= all.n_timeline);
        for (size_t i = 0; i < 30; i++)
                assert_memory_equal(all.ledger[i].s, texts[0][6 + i], all.ledger[i].len);
        for (size_t i = 0; i < 25; i++)
                assert_memory_equal(all.timeline[i].s, texts[1][35 - i], all.timeline[i].len);
        /* Bounds above the counts change nothing. */
        record_bound(&all, 1000, 50);
        assert_int_equal(all.n_ledger, 30);
        assert_int_equal(all.n_timeline, 25);
        /* The next commit from the bounded record: the newest 30 and 25. */
        RecordChange ch = change(37, "{}");
        ch.ledger_max = 30;
        ch.timeline_max = 25;
        char *nv = NULL;
        size_t nlen = 0;
        assert_int_equal(record_encode(c, &all, &ch, &nv, &nlen), 0);
        Record next;
        assert_int_equal(record_decode(c, nv, nlen, &next, err, sizeof(err)), 0);
        record_bound(&next, 30, 25);
        assert_int_equal(next.n_ledger, 30);
        assert_int_equal(next.n_timeline, 25);
        assert_memory_equal(next.ledger[29].s, texts[0][35], next.ledger[29].len);
        assert_memory_equal(next.ledger[0].s, texts[0][6], next.ledger[0].len);
        assert_memory_equal(next.timeline[0].s, texts[1][35], next.timeline[0].len);
        record_done(&next);
        free(nv);
        record_done(&all);
        free(v);
        record_codec_free(c);
}

/* A value written before the history frame (body format 1, one frame)
 * reads as before, and its next commit keeps every entry. */
static void test_format_1(void **state)
{
        (void)state;
        RecordCodec *c = record_codec_new();
        /* format 1, doc "{}", no offsets, no ids, 2 ledger, 10 timeline */
        unsigned char body[256];
        size_t n = 0;
        body[n++] = 1;
        body[n++] = 2;
        body[n++] = '{';
        body[n++] = '}';
        body[n++] = 0;
        body[n++] = 0;
        body[n++] = 2;
        for (int i = 0; i < 2; i++) {
                body[n++] = 7;
                memcpy(body + n, i ? "{\"l\":1}" : "{\"l\":0}", 7);
                n += 7;
        }
        body[n++] = 10;
        for (int i = 9; i >= 0; i--) {
                body[n++] = 7;
                snprintf((char *)body + n, 8, "{\"t\":%d}", i);
                n += 7;
        }
        char z[512 + RECORD_HEADER];
        memcpy(z, "000000000005z", RECORD_HEADER);
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        size_t zn = ZSTD_compress_usingDict(cc, z + RECORD_HEADER, 512, body, n, record_dict_1,
                                            sizeof(record_dict_1), 1);
        ZSTD_freeCCtx(cc);
        assert_false(ZSTD_isError(zn));
        char err[160];
        Record r, whole;
        assert_int_equal(record_decode(c, z, RECORD_HEADER + zn, &whole, err, sizeof(err)), 0);
        assert_int_equal(whole.n_timeline, 10);
        assert_int_equal(record_decode_recent(c, z, RECORD_HEADER + zn, &r, err, sizeof(err)), 0);
        assert_false(r.partial);
        assert_int_equal(r.version, 5);
        assert_int_equal(r.n_ledger, 2);
        assert_int_equal(r.n_timeline, 10);
        const char *tl[] = {"{\"t\":10}"};
        RecordChange ch = change(6, "{}");
        ch.timeline = tl;
        ch.n_timeline = 1;
        Record next;
        roundtrip(c, &r, &ch, &next);
        assert_int_equal(next.version, 6);
        assert_int_equal(next.n_ledger, 2);
        assert_int_equal(next.n_timeline, 11);
        assert_memory_equal(next.timeline[0].s, "{\"t\":10}", 8);
        assert_memory_equal(next.timeline[10].s, "{\"t\":0}", 7);
        assert_memory_equal(next.ledger[1].s, "{\"l\":1}", 7);
        record_done(&next);
        record_done(&r);
        record_done(&whole);
        record_codec_free(c);
}

/* A history frame that passes the header checks but does not decompress:
 * the whole record is refused with a reason, and a commit (which needs
 * only the body) goes on, copying the frame rather than losing it. */
static void test_damaged_history(void **state)
{
        (void)state;
        RecordCodec *c = record_codec_new();
        char texts[12][16], err[160];
        const char *tl[12];
        for (int i = 0; i < 12; i++) {
                snprintf(texts[i], sizeof(texts[i]), "{\"e\":%d}", i);
                tl[i] = texts[i];
        }
        RecordChange ch = change(1, "{}");
        ch.timeline = tl;
        ch.n_timeline = 12;
        char *v = NULL;
        size_t len = 0, hn = 0;
        assert_int_equal(record_encode(c, NULL, &ch, &v, &len), 0);
        char *h = (char *)hist_part(v, len, &hn);
        assert_true(hn > 12);
        h[hn - 2] ^= 0x5a; /* inside the compressed block */
        Record whole, r;
        int d = record_decode(c, v, len, &whole, err, sizeof(err));
        if (d == 0) {
                /* zstd could not tell: then the bytes decoded, and nothing
                 * below applies. */
                record_done(&whole);
                free(v);
                record_codec_free(c);
                skip();
        }
        assert_int_equal(d, -EINVAL);
        assert_non_null(strstr(err, "household record"));
        assert_int_equal(record_decode_recent(c, v, len, &r, err, sizeof(err)), 0);
        RecordChange next = change(2, "{}");
        next.timeline = tl;
        next.n_timeline = 9; /* beyond RECORD_RECENT_MAX: a rewrite is due */
        char *v2 = NULL;
        size_t l2 = 0, hn2 = 0;
        assert_int_equal(record_encode(c, &r, &next, &v2, &l2), 0);
        const char *h2 = hist_part(v2, l2, &hn2);
        assert_int_equal(hn2, hn);
        assert_memory_equal(h2, h, hn);
        Record r2;
        assert_int_equal(record_decode_recent(c, v2, l2, &r2, err, sizeof(err)), 0);
        assert_int_equal(r2.n_timeline, 9);
        record_done(&r2);
        record_done(&r);
        free(v2);
        free(v);
        record_codec_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_bounds),
            cmocka_unit_test(test_damaged),   cmocka_unit_test(test_history),
            cmocka_unit_test(test_format_1),  cmocka_unit_test(test_damaged_history),
            cmocka_unit_test(test_bound),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
