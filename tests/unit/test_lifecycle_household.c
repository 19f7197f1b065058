/* Unit tests of a household's own timers: overdue visits, removal, the next due time. */
/* The alert lifecycle (lifecycle.h) outside an alert: overdue visits,
 * removed households (erased after retention.removed or at once),
 * unregistered documents, and the earliest timer. The fixture is in
 * lifecycle_fixture.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "household.h"
#include "lifecycle.h"
#include "macro.h"

#include "lifecycle_fixture.h"

/* ---- visits, removal, next due ------------------------------------------ */

static void test_visit_timers(void **state)
{
        (void)state;
        Fx f;
        fx_init(&f, "H10");
        assert_int_equal(num(f.doc, "visit_due_ms"), T0 + 31 * DAY);
        assert_int_equal(lifecycle_next_due(f.doc), T0 + 31 * DAY);

        f.now = T0 + 31 * DAY - 1;
        assert_int_equal(tick(&f), 0);
        f.now = T0 + 31 * DAY;
        assert_int_equal(tick(&f), 1);
        const json_t *o = last(&f, 0, "visit.overdue");
        const json_t *d = data(o);
        assert_true(json_is_null(json_object_get(d, "last_visit")));
        assert_string_equal(str(json_object_get(d, "cadre"), "id"), "C1");
        assert_int_equal(json_object_size(d), 3);
        /* Next reminder one interval later. */
        assert_int_equal(tick(&f), 0);
        assert_int_equal(lifecycle_next_due(f.doc), T0 + 62 * DAY);

        /* A visit moves the due date: its day + 1 + interval. */
        f.now = T0 + 40 * DAY; /* 2026-04-11 */
        assert_int_equal(step(&f, GREEN(), "visit.recorded",
                              "{\"cadre_id\":\"C1\",\"visited_on\":\"2026-04-10\",\"checks\":{"
                              "\"food_clothing\":\"ok\",\"education\":\"ok\",\"medical\":\"ok\","
                              "\"housing\":\"ok\",\"drinking_water\":\"ok\"}}"),
                         0);
        /* 2026-04-11T00:00+08:00 + 31 days = 2026-05-12T00:00+08:00 */
        const int64_t due = T0 + 40 * DAY - 8 * HOUR + 31 * DAY;
        assert_int_equal(lifecycle_next_due(f.doc), due);
        f.now = due - 1;
        assert_int_equal(tick(&f), 0);
        f.now = due + 5 * DAY;
        assert_int_equal(tick(&f), 1);
        const json_t *o2 = last(&f, 0, "visit.overdue");
        assert_string_equal(str(data(o2), "last_visit"), "2026-04-10");
        assert_string_not_equal(str(o2, "id"), str(json_array_get(f.out, 0), "id"));
        assert_int_equal(lifecycle_next_due(f.doc), due + 31 * DAY);

        /* Timers ran long after (downtime): the next one is an interval from now. */
        f.now = due + 200 * DAY;
        assert_int_equal(tick(&f), 1);
        assert_int_equal(lifecycle_next_due(f.doc), f.now + 31 * DAY);
        expect_unique_ids(f.out);
        fx_done(&f);
}

static void test_removed(void **state)
{
        (void)state;
        Fx f;
        fx_init(&f, "H11");
        raise_red(&f, "{\"a\":1}");
        f.now += HOUR;
        assert_int_equal(step(&f, eval_of(true, RED_ILLNESS("{\"a\":1}"), NULL),
                              "household.removed", "{\"reason\":\"moved\"}"),
                         0);
        assert_null(json_object_get(f.doc, "alert"));
        assert_true(f.flags & LIFECYCLE_ALERT_CLOSED);
        assert_int_equal(json_array_size(json_object_get(f.doc, "closed")), 1);
        /* The personal data stays for retention.removed, then goes. */
        assert_int_equal(lifecycle_next_due(f.doc), f.now + 30 * DAY);
        assert_non_null(json_object_get(f.doc, "profile"));
        f.now += 100 * DAY;
        assert_int_equal(tick(&f), 0);
        assert_true(household_erased(f.doc));
        assert_null(json_object_get(f.doc, "profile"));
        assert_null(json_object_get(f.doc, "closed"));
        assert_null(json_object_get(f.doc, "months"));
        assert_true(json_is_true(json_object_get(f.doc, "removed")));
        assert_int_equal(lifecycle_next_due(f.doc), 0);
        assert_int_equal(step(&f, eval_of(true, RED_DISASTER("{\"d\":9}"), NULL), NULL, NULL), 0);
        assert_null(json_object_get(f.doc, "alert"));
        /* Raised, then key monitoring started; removal ends both quietly. */
        assert_int_equal(json_array_size(f.out), 2);
        assert_int_equal(alert_outputs(f.out, 0), 1);
        assert_null(json_object_get(f.doc, "monitoring"));
        fx_done(&f);
}

/* retention.removed 0: the personal data goes with the removal itself. */
static void test_removed_erase_at_once(void **state)
{
        (void)state;
        LifecyclePolicy pol = policy;
        pol.removed_retention_ms = 0;
        json_t *doc = household_new(), *out = json_array();
        json_object_set_new(doc, "registered", json_true());
        json_object_set_new(doc, "removed", json_true());
        json_object_set_new(doc, "profile", json_pack("{s:s}", "town", "Wenxi"));
        json_object_set_new(doc, "alerts_n", json_integer(3));
        json_t *green = GREEN();
        int flags = lifecycle_step(doc, "H11b", NULL, green, T0, &pol, out);
        json_decref(green);
        assert_true(flags & LIFECYCLE_ERASED);
        assert_true(household_erased(doc));
        assert_null(json_object_get(doc, "profile"));
        assert_int_equal(json_integer_value(json_object_get(doc, "alerts_n")), 3);
        assert_int_equal(json_array_size(out), 0);
        json_decref(doc);
        json_decref(out);
}

/* An unregistered document: no timers, no alerts. */
static void test_unregistered(void **state)
{
        (void)state;
        Fx f = {.id = "H12", .doc = household_new(), .out = json_array(), .now = T0};
        assert_int_equal(step(&f, eval_of(true, RED_ILLNESS("{\"a\":1}"), NULL), NULL, NULL), 0);
        assert_null(json_object_get(f.doc, "alert"));
        assert_int_equal(lifecycle_next_due(f.doc), 0);
        f.now += 40 * DAY;
        assert_int_equal(tick(&f), 0);
        fx_done(&f);
}

static void test_next_due(void **state)
{
        (void)state;
        static const struct {
                int64_t reminder, escalate, visit, want;
                bool registered, removed;
        } cases[] = {
            {0, 0, 0, 0, true, false},         {0, 0, 500, 500, true, false},
            {300, 400, 500, 300, true, false}, {600, 400, 500, 400, true, false},
            {600, 700, 500, 500, true, false}, {0, 700, 900, 700, true, false},
            {800, 0, 900, 800, true, false},   {300, 400, 500, 0, false, false},
            {300, 400, 500, 0, true, true},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_auto_t *doc = json_pack("{s:b, s:b}", "registered", cases[i].registered,
                                             "removed", cases[i].removed);
                json_t *alert = json_object();
                if (cases[i].reminder)
                        json_object_set_new(alert, "reminder_ms", json_integer(cases[i].reminder));
                if (cases[i].escalate)
                        json_object_set_new(alert, "escalate_ms", json_integer(cases[i].escalate));
                json_object_set_new(doc, "alert", alert);
                if (cases[i].visit)
                        json_object_set_new(doc, "visit_due_ms", json_integer(cases[i].visit));
                print_message("# case %zu\n", i);
                assert_int_equal(lifecycle_next_due(doc), cases[i].want);
        }
        assert_int_equal(lifecycle_next_due(NULL), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_visit_timers),
            cmocka_unit_test(test_removed),
            cmocka_unit_test(test_removed_erase_at_once),
            cmocka_unit_test(test_unregistered),
            cmocka_unit_test(test_next_due),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
