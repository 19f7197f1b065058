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

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_roundtrip),
            cmocka_unit_test(test_bounds),
            cmocka_unit_test(test_damaged),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
