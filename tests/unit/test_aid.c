/* Unit tests of social aid matching (daemon/aid.c, REQ-12) and of the
 * department routing it uses (daemon/departments.c): the order in which
 * offers are tried, which offers fit a household, the priority of waiting
 * households, what a household waits for, the stable match id, a
 * proposal's record and output, an answer's record; departments' parsing,
 * routing, answers and deadlines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "aid.h"
#include "config.h"
#include "departments.h"
#include "diag.h"
#include "macro.h"

static int32_t day(const char *s)
{
        int32_t d = 0;
        assert_int_equal(date_parse(s, &d), 0);
        return d;
}

static AidOffer offer(const char *id, const char *town, const char *until, int64_t cap,
                      int64_t taken)
{
        return (AidOffer){.id = id,
                          .category = "education",
                          .town = town,
                          .valid_until = day(until),
                          .capacity = cap,
                          .taken = taken};
}

/* Own town before county-wide, then earlier valid_until, then offer id;
 * another town's offer sorts with the county-wide ones (it never fits). */
static void test_order(void **state)
{
        (void)state;
        AidOffer o[] = {
            offer("OF-C", NULL, "2026-06-30", 5, 0),
            offer("OF-B", "温溪镇", "2026-12-31", 5, 0),
            offer("OF-A", "温溪镇", "2026-12-31", 5, 0),
            offer("OF-D", "", "2026-05-01", 5, 0),
            offer("OF-E", "温溪镇", "2026-07-01", 5, 0),
        };
        aid_order(o, ELEMENTSOF(o), "温溪镇");
        const char *want[] = {"OF-E", "OF-A", "OF-B", "OF-D", "OF-C"};
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                assert_string_equal(o[i].id, want[i]);
        /* A place the household already holds comes first (a retried
         * proposal keeps its offer). */
        o[4].mine = true; /* OF-C */
        aid_order(o, ELEMENTSOF(o), "温溪镇");
        assert_string_equal(o[0].id, "OF-C");
        assert_string_equal(o[1].id, "OF-E");
        /* Another household's town: the county-wide ones first. */
        o[0].mine = false;
        aid_order(o, ELEMENTSOF(o), "船寮镇");
        assert_string_equal(o[0].id, "OF-D");
        assert_string_equal(o[1].id, "OF-C");
        assert_string_equal(o[2].id, "OF-E");
}

static json_t *household(const char *town)
{
        return json_pack("{s:b, s:{s:s, s:s, s:{s:s}}, s:{}}", "registered", 1, "profile", "town",
                         town, "village", "东岸村", "cadre", "id", "C1", "needs");
}

static void test_fits(void **state)
{
        (void)state;
        json_t *doc = household("温溪镇");
        AidWant w = {.category = "education", .need_id = "N1"};
        int32_t today = day("2026-03-10");
        AidOffer o = offer("OF1", "温溪镇", "2026-12-31", 3, 2);
        assert_true(aid_offer_fits(&o, &w, doc, today));
        o.town = NULL; /* county-wide */
        assert_true(aid_offer_fits(&o, &w, doc, today));
        o.town = "船寮镇"; /* another town */
        assert_false(aid_offer_fits(&o, &w, doc, today));
        o.town = "温溪镇";
        o.taken = 3; /* full */
        assert_false(aid_offer_fits(&o, &w, doc, today));
        o.mine = true; /* full, but one of the places is this household's */
        assert_true(aid_offer_fits(&o, &w, doc, today));
        o = offer("OF1", "温溪镇", "2026-03-09", 3, 0); /* expired */
        assert_false(aid_offer_fits(&o, &w, doc, today));
        o = offer("OF1", "温溪镇", "2026-12-31", 3, 0);
        o.category = "medical"; /* another category */
        assert_false(aid_offer_fits(&o, &w, doc, today));
        /* Once proposed (even declined): never again to this household. */
        o.category = "education";
        json_t *out = json_array();
        aid_propose(doc, "H1", &o, NULL, &w, "county-education", 1000, out);
        assert_false(aid_offer_fits(&o, &w, doc, today));
        json_decref(out);
        json_decref(doc);
}

static void test_priority(void **state)
{
        (void)state;
        AidWant red_new = {.red = true, .since_ms = 2000000000000LL};
        AidWant red_old = {.red = true, .since_ms = 1000000000000LL};
        AidWant yellow_old = {.red = false, .since_ms = 1};
        AidWant yellow_new = {.red = false, .since_ms = 2000000000000LL};
        assert_true(aid_priority(&red_old) < aid_priority(&red_new));
        assert_true(aid_priority(&red_new) < aid_priority(&yellow_old));
        assert_true(aid_priority(&yellow_old) < aid_priority(&yellow_new));
        /* Exact in a double: a millisecond apart still sorts. */
        AidWant y2 = yellow_new;
        y2.since_ms++;
        assert_true(aid_priority(&yellow_new) < aid_priority(&y2));
}

static void test_wants(void **state)
{
        (void)state;
        json_t *doc = household("温溪镇");
        json_t *needs = json_object_get(doc, "needs");
        json_object_set_new(needs, "N2",
                            json_pack("{s:s, s:s}", "category", "medical", "reported_on",
                                      "2026-03-11T09:00:00+08:00"));
        json_object_set_new(needs, "N1",
                            json_pack("{s:s, s:s}", "category", "education", "reported_on",
                                      "2026-03-10T09:00:00+08:00"));
        json_object_set_new(doc, "alert",
                            json_pack("{s:s, s:I, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}", "code",
                                      "red", "raised_ms", (json_int_t)5, "reasons", "category",
                                      "disaster", "severity", "red", "category", "illness",
                                      "severity", "red", "category", "income_drop", "severity",
                                      "monitor"));
        AidWant w[8];
        size_t n = aid_wants(doc, w, ELEMENTSOF(w));
        /* Needs oldest first, then reasons: disaster -> housing, illness ->
         * medical (already asked by N2); a monitor reason asks nothing. */
        assert_int_equal(n, 3);
        assert_string_equal(w[0].category, "education");
        assert_string_equal(w[0].need_id, "N1");
        assert_true(w[0].red);
        assert_string_equal(w[1].category, "medical");
        assert_string_equal(w[2].category, "housing");
        assert_string_equal(w[2].need_id, "");
        assert_int_equal(w[2].since_ms, 5);
        /* A proposed match covers its category. */
        AidOffer o = offer("OF1", NULL, "2026-12-31", 3, 0);
        json_t *out = json_array();
        aid_propose(doc, "H1", &o, NULL, &w[0], "county-education", 1000, out);
        assert_int_equal(aid_wants(doc, w, ELEMENTSOF(w)), 2);
        json_decref(out);
        /* Not registered or removed: waits for nothing. */
        json_object_set_new(doc, "removed", json_true());
        assert_int_equal(aid_wants(doc, w, ELEMENTSOF(w)), 0);
        json_decref(doc);
}

static void test_propose_and_answer(void **state)
{
        (void)state;
        json_t *doc = household("温溪镇");
        char a[40], b[40], c[40];
        aid_match_id("OF1", "H1", a, sizeof(a));
        aid_match_id("OF1", "H1", b, sizeof(b));
        aid_match_id("OF1", "H2", c, sizeof(c));
        assert_string_equal(a, b);
        assert_string_not_equal(a, c);
        assert_int_equal(strlen(a), 19);
        AidOffer o = offer("OF1", "温溪镇", "2026-12-31", 3, 1);
        AidWant w = {.category = "education", .need_id = "N1", .red = false};
        json_t *prov =
            json_pack("{s:s, s:s, s:s}", "id", "ORG-1", "name", "慈善总会", "kind", "organisation");
        json_t *out = json_array();
        aid_propose(doc, "H1", &o, prov, &w, "county-education", 1000, out);
        json_t *p = json_array_get(out, 0);
        json_t *d = json_object_get(p, "data");
        assert_string_equal(json_string_value(json_object_get(p, "type")), "aid.match.proposed");
        assert_string_equal(json_string_value(json_object_get(d, "match_id")), a);
        assert_string_equal(json_string_value(json_object_get(d, "department")),
                            "county-education");
        assert_string_equal(json_string_value(json_object_get(d, "need_id")), "N1");
        assert_non_null(strstr(json_string_value(json_object_get(d, "why")), "1 of 3"));
        json_t *m = json_object_get(json_object_get(json_object_get(doc, "aid"), "matches"), a);
        assert_string_equal(json_string_value(json_object_get(m, "state")), "proposed");

        /* An answer records the first decision and asks for a check now. */
        json_t *root = json_pack("{s:s, s:s, s:s, s:{s:s, s:b, s:s}}", "id", "x", "source", "t",
                                 "type", "aid.match.answered", "data", "match_id", a, "accepted", 0,
                                 "by", "county-education");
        Event ev = {
            .type = EV_AID_MATCH_ANSWERED, .root = root, .data = json_object_get(root, "data")};
        aid_household_step(doc, &ev, 4242);
        assert_string_equal(json_string_value(json_object_get(m, "state")), "declined");
        assert_int_equal(aid_next_due(doc), 4242);
        json_object_set_new(ev.data, "accepted", json_true());
        aid_household_step(doc, &ev, 5000);
        assert_string_equal(json_string_value(json_object_get(m, "state")), "declined");

        /* A removed household gives back the places its proposals hold. */
        AidOffer o2 = offer("OF2", NULL, "2026-12-31", 3, 0);
        aid_propose(doc, "H1", &o2, prov, &w, "county-education", 6000, out);
        aid_match_id("OF2", "H1", b, sizeof(b));
        json_t *m2 = json_object_get(json_object_get(json_object_get(doc, "aid"), "matches"), b);
        json_object_del(json_object_get(doc, "aid"), "due_ms");
        json_object_set_new(doc, "removed", json_true());
        aid_household_step(doc, NULL, 7000);
        assert_string_equal(json_string_value(json_object_get(m2, "state")), "withdrawn");
        assert_string_equal(json_string_value(json_object_get(m, "state")), "declined");
        assert_int_equal(aid_next_due(doc), 7000);
        json_decref(root);
        json_decref(prov);
        json_decref(out);
        json_decref(doc);
}

static void test_departments(void **state)
{
        (void)state;
        Config *cfg = NULL;
        Diag *d = diag_new();
        const char *yaml = "departments:\n"
                           "  - {id: d-med, name: 医保局, categories: [illness, medical], "
                           "answer_within: 3d}\n"
                           "  - {id: d-edu, name: 教育局, categories: [education], "
                           "answer_within: 1h}\n";
        assert_int_equal(config_load_buffer(yaml, strlen(yaml), "t.yaml", NULL, 0, &cfg, d), 0);
        assert_int_equal(cfg->n_departments, 2);
        assert_int_equal(cfg->departments[0].answer_within_ms, 3 * 24 * 3600 * 1000LL);
        assert_ptr_equal(departments_for(cfg->departments, 2, "education"), &cfg->departments[1]);
        assert_null(departments_for(cfg->departments, 2, "housing"));

        /* An illness reason and an open need of category education. */
        json_t *doc = json_pack("{s:{s:{s:s}}}", "needs", "N1", "category", "education");
        json_t *alert = json_object();
        json_t *reasons = json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "category", "illness",
                                    "severity", "red", "category", "need", "severity", "yellow",
                                    "category", "disaster", "severity", "monitor");
        int64_t t0 = 1772000000000LL; /* a wall time */
        departments_route(doc, alert, reasons, t0, cfg->departments, 2);
        json_t *deps = json_object_get(alert, "departments");
        assert_int_equal(json_array_size(deps), 2);
        int64_t by;
        assert_int_equal(
            departments_parse_time(
                json_string_value(json_object_get(json_array_get(deps, 1), "answer_by")), &by),
            0);
        assert_int_equal(by, t0 / 1000 * 1000 + 3600 * 1000); /* d-edu: 1h */
        /* Routing again later keeps the deadlines. */
        departments_route(doc, alert, reasons, t0 + 99999, cfg->departments, 2);
        assert_int_equal(json_array_size(deps), 2);
        assert_int_equal(departments_next_due(alert), by);
        /* Overdue once: the education office at by. */
        json_t *late = departments_overdue(alert, by + 5000);
        assert_int_equal(json_array_size(late), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(late, 0), "id")),
                            "d-edu");
        json_decref(late);
        late = departments_overdue(alert, by + 9000);
        assert_int_equal(json_array_size(late), 0);
        json_decref(late);
        assert_int_not_equal(departments_next_due(alert), by); /* the other one: 3d */
        assert_int_equal(departments_parse_time("2026-03-10T09:00:00+08:00", &by), 0);
        assert_int_equal(departments_parse_time("2026-03-10T01:00:00Z", &t0), 0);
        assert_int_equal(by, t0);
        assert_int_equal(departments_parse_time("2026-03-10 01:00:00Z", &t0), -EINVAL);
        json_decref(reasons);
        json_decref(alert);
        json_decref(doc);
        config_free(cfg);

        /* Every problem reported with its place. */
        const char *bad = "departments:\n"
                          "  - {id: a, name: x, categories: [nope], answer_within: 3d}\n"
                          "  - {id: a, name: y, categories: [need], answer_within: soon}\n";
        assert_int_equal(config_load_buffer(bad, strlen(bad), "b.yaml", NULL, 0, &cfg, d), -EINVAL);
        assert_true(diag_count(d) >= 2);
        assert_non_null(strstr(diag_get(d, 0), "b.yaml:2:"));
        diag_free(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_order),
            cmocka_unit_test(test_fits),
            cmocka_unit_test(test_priority),
            cmocka_unit_test(test_wants),
            cmocka_unit_test(test_propose_and_answer),
            cmocka_unit_test(test_departments),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
