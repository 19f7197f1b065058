/* Unit tests of the partition positions (positions.h): a partition is
 * recorded only up to the first message that is not done, and a dead letter
 * not yet confirmed holds the position before its message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "positions.h"

static void test_nothing_done(void **state)
{
        (void)state;
        Positions *ps = positions_new();
        assert_non_null(ps);
        Track *t = positions_get(ps, "household.reports", 3, true);
        assert_non_null(t);
        assert_string_equal(t->tp, "household.reports/3");
        assert_int_equal(track_position(t), -1);
        const char *tps[1];
        int64_t pos[1];
        Track *which[1];
        assert_int_equal(positions_moved(ps, tps, pos, which), 0);
        assert_null(positions_get(ps, "household.reports", 4, false));
        positions_free(ps);
}

static void test_done_moves(void **state)
{
        (void)state;
        Positions *ps = positions_new();
        Track *t = positions_get(ps, "a", 0, true);
        track_done(t, 7);
        track_done(t, 5); /* an earlier offset never moves it back */
        assert_int_equal(track_position(t), 8);
        const char *tps[1];
        int64_t pos[1];
        Track *which[1];
        assert_int_equal(positions_moved(ps, tps, pos, which), 1);
        assert_string_equal(tps[0], "a/0");
        assert_int_equal(pos[0], 8);
        assert_ptr_equal(which[0], t);
        t->recorded = 8;
        assert_int_equal(positions_moved(ps, tps, pos, which), 0);
        positions_free(ps);
}

/* The dead letter of offset 3 is produced, later messages are done: the
 * position stays at 3 until the broker confirmed it. */
static void test_hold_keeps_position(void **state)
{
        (void)state;
        Positions *ps = positions_new();
        Track *t = positions_get(ps, "a", 1, true);
        track_done(t, 2);
        assert_int_equal(track_hold(t, 3), 0);
        track_done(t, 3);
        track_done(t, 9);
        assert_int_equal(track_position(t), 3);
        assert_int_equal(track_hold(t, 5), 0);
        track_release(t, 3);
        assert_int_equal(track_position(t), 5);
        track_release(t, 5);
        assert_int_equal(track_position(t), 10);
        track_release(t, 42); /* unknown: nothing happens */
        assert_int_equal(track_position(t), 10);
        positions_free(ps);
}

/* Many holds (the array grows) and a reset (assignment, seek) forgets them. */
static void test_many_holds_and_reset(void **state)
{
        (void)state;
        Positions *ps = positions_new();
        Track *t = positions_get(ps, "a", 2, true);
        for (int64_t o = 100; o < 200; o++) {
                assert_int_equal(track_hold(t, o), 0);
                track_done(t, o);
        }
        assert_int_equal(track_position(t), 100);
        for (int64_t o = 100; o < 150; o++)
                track_release(t, o);
        assert_int_equal(track_position(t), 150);
        track_reset(t, 120);
        assert_int_equal(t->recorded, 120);
        assert_int_equal(track_position(t), -1);
        assert_int_equal(t->n_holds, 0);
        positions_free(ps);
}

/* Tracks keep their address while more are added (callers hold them). */
static void test_tracks_stay_put(void **state)
{
        (void)state;
        Positions *ps = positions_new();
        Track *first = positions_get(ps, "t", 0, true);
        for (int i = 1; i < 200; i++)
                assert_non_null(positions_get(ps, "t", i, true));
        assert_ptr_equal(positions_get(ps, "t", 0, false), first);
        assert_int_equal(positions_count(ps), 200);
        assert_ptr_equal(positions_at(ps, 0), first);
        assert_null(positions_at(ps, 200));
        /* Same partition number, other topic: another track. */
        assert_ptr_not_equal(positions_get(ps, "u", 0, true), first);
        positions_free(ps);
}

/* A partition's name, a copied text and a dedup hash as the hot path
 * writes them (macro.h), byte for byte what snprintf writes, cut where it
 * cuts. */
static void test_formats_as_snprintf(void **state)
{
        (void)state;
        char longname[300];
        memset(longname, 'x', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        const char *topics[] = {"", "a", "hearth.medical.claims", longname};
        const int parts[] = {0, 7, 15, 123456, -1, INT_MIN, INT_MAX};
        for (size_t t = 0; t < ELEMENTSOF(topics); t++)
                for (size_t p = 0; p < ELEMENTSOF(parts); p++)
                        for (size_t len = 0; len <= 320; len += len < 40 ? 1 : 70) {
                                char want[330], got[330];
                                memset(want, '#', sizeof(want));
                                memset(got, '#', sizeof(got));
                                snprintf(want, len, "%s/%d", topics[t], parts[p]);
                                tp_format(got, len, topics[t], parts[p]);
                                assert_memory_equal(want, got, sizeof(want));
                        }
        for (size_t t = 0; t < ELEMENTSOF(topics); t++)
                for (size_t len = 0; len <= 320; len += len < 40 ? 1 : 70) {
                        char want[330], got[330];
                        memset(want, '#', sizeof(want));
                        memset(got, '#', sizeof(got));
                        snprintf(want, len, "%s", topics[t]);
                        str_copy(got, len, topics[t]);
                        assert_memory_equal(want, got, sizeof(want));
                }
        char null[16], cut[4];
        str_copy(null, sizeof(null), NULL); /* glibc's snprintf prints "(null)" */
        assert_string_equal(null, "(null)");
        str_copy(cut, sizeof(cut), NULL);
        assert_string_equal(cut, "(nu");
        const uint64_t vals[] = {0, 1, 0xabcdef, UINT64_MAX, 0x0123456789abcdefULL};
        for (size_t i = 0; i < ELEMENTSOF(vals); i++) {
                char want[17], got[17];
                snprintf(want, sizeof(want), "%016" PRIx64, vals[i]);
                hex16_format(got, vals[i]);
                assert_string_equal(want, got);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_nothing_done),        cmocka_unit_test(test_done_moves),
            cmocka_unit_test(test_hold_keeps_position), cmocka_unit_test(test_many_holds_and_reset),
            cmocka_unit_test(test_tracks_stay_put),     cmocka_unit_test(test_formats_as_snprintf),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
