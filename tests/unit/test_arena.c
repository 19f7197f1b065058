/* Unit tests of the batch arena (arena.c): jansson's values made inside a
 * scope come from the region and go with it; values made outside are
 * freed by free() also inside a scope; json_dumps's text from
 * arena_json_dumps() is free()d safely anywhere; scopes nest; what a scope
 * needs beyond the region (ARENA_REGION_BYTES) comes from malloc, and arena_decref()
 * frees it. Under AddressSanitizer (the build that runs these tests), a
 * value read after its scope ended is poisoned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "arena.h"
#include "jsonfast.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

static int setup(void **state)
{
        (void)state;
        arena_install();
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        arena_shutdown();
        return 0;
}

/* A household-like document: objects, arrays, strings, numbers. */
static json_t *document(int i)
{
        return json_pack("{s:i, s:s, s:[{s:s, s:i}, {s:s, s:b}], s:{s:f}}", "events", i, "town",
                         "温溪镇", "members", "id", "H33110000007-01", "birth_year", 1981, "id",
                         "H33110000007-02", "student", 0, "incomes", "2025", 62172.35);
}

static void test_scope_takes_and_releases(void **state)
{
        (void)state;
        assert_int_equal(arena_used(), 0);
        arena_enter();
        json_t *d = document(1);
        assert_non_null(d);
        size_t used = arena_used();
        assert_true(used > 0);
        /* A free inside the scope gives nothing back: the region is only
         * released as a whole. */
        json_decref(d);
        assert_int_equal(arena_used(), used);
        json_t *e = document(2);
        assert_int_equal(json_integer_value(json_object_get(e, "events")), 2);
        assert_true(arena_used() > used);
        json_decref(e);
        arena_leave();
        assert_int_equal(arena_used(), 0);
        assert_true(arena_peak() >= used);
        /* Outside any scope jansson uses malloc: the region stays empty. */
        json_t *f = document(3);
        assert_int_equal(arena_used(), 0);
        json_decref(f);
}

static void test_outside_values_freed_inside(void **state)
{
        (void)state;
        json_t *kept = document(7); /* made outside: malloc */
        arena_enter();
        json_t *inner = document(8);
        /* An outside value holding an inside one would outlive it: the
         * rule forbids it; the other way round is fine. */
        json_object_set(inner, "kept", kept);
        json_decref(inner);
        /* The last reference to the outside value dropped inside the
         * scope: free() takes it (LeakSanitizer would report it otherwise). */
        json_decref(kept);
        arena_leave();
}

static void test_decref(void **state)
{
        (void)state;
        json_t *outside = document(11);
        arena_enter();
        json_t *inside = document(12);
        /* A value of the region: nothing to walk, the scope's end takes it. */
        arena_decref(inside);
        assert_int_equal(json_integer_value(json_object_get(inside, "events")), 12);
        /* A value from malloc: freed as json_decref would (LeakSanitizer
         * reports it otherwise). */
        arena_decref(outside);
        arena_decref(NULL);
        arena_leave();
}

static void test_dumps_text_is_malloced(void **state)
{
        (void)state;
        arena_enter();
        json_t *d = document(4);
        size_t used = arena_used();
        char *s = arena_json_dumps(d, JSON_COMPACT);
        assert_non_null(s);
        assert_int_equal(arena_used(), used); /* not from the region */
        char *fast = jsonfast_dump(d);
        assert_string_equal(s, fast);
        free(fast);
        json_decref(d);
        arena_leave();
        /* Still readable after the scope, and free() takes it. */
        assert_non_null(strstr(s, "\"events\":4"));
        free(s);
}

static void test_nesting(void **state)
{
        (void)state;
        arena_enter();
        json_t *outer = document(5);
        arena_enter();
        json_t *inner = document(6);
        arena_leave();
        /* Only the outermost leave releases: both are still whole. */
        assert_true(arena_used() > 0);
        assert_int_equal(json_integer_value(json_object_get(outer, "events")), 5);
        assert_int_equal(json_integer_value(json_object_get(inner, "events")), 6);
        json_decref(inner);
        json_decref(outer);
        arena_leave();
        assert_int_equal(arena_used(), 0);
}

static void test_large_scope_is_bounded(void **state)
{
        (void)state;
        /* Twice the region in strings in one scope: the region fills, the
         * rest comes from malloc, and every value stays whole. */
        arena_enter();
        json_t *a = json_array();
        static char chunk[4096];
        memset(chunk, 'x', sizeof(chunk) - 1);
        const size_t n = 2 * ARENA_REGION_BYTES / sizeof(chunk);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(json_array_append_new(a, json_string(chunk)), 0);
        assert_true(arena_used() <= ARENA_REGION_BYTES);
        assert_true(arena_used() > ARENA_REGION_BYTES - 1024 * 1024);
        assert_int_equal(json_array_size(a), n);
        assert_string_equal(json_string_value(json_array_get(a, 0)), chunk);
        assert_string_equal(json_string_value(json_array_get(a, n - 1)), chunk);
        /* The array itself is in the region, most of its strings are
         * not: arena_decref() must still free those from malloc
         * (LeakSanitizer reports them otherwise). */
        assert_true(arena_used() > 0);
        arena_decref(a);
        arena_leave();
        assert_int_equal(arena_used(), 0);
        assert_true(arena_peak() <= ARENA_REGION_BYTES);
        /* The region serves the next scope from its start again. */
        arena_enter();
        json_t *d = document(9);
        assert_true(arena_used() < 4096);
        json_decref(d);
        arena_leave();
}

#if defined(__SANITIZE_ADDRESS__)
static void test_use_after_scope_is_poisoned(void **state)
{
        (void)state;
        arena_enter();
        json_t *d = document(10);
        const char *town = json_string_value(json_object_get(d, "town"));
        assert_false(__asan_address_is_poisoned(town));
        arena_leave();
        assert_true(__asan_address_is_poisoned(town));
        assert_true(__asan_address_is_poisoned(d));
}
#endif

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scope_takes_and_releases),
                cmocka_unit_test(test_outside_values_freed_inside),
                cmocka_unit_test(test_decref),
                cmocka_unit_test(test_dumps_text_is_malloced),
                cmocka_unit_test(test_nesting),
                cmocka_unit_test(test_large_scope_is_bounded),
#if defined(__SANITIZE_ADDRESS__)
                cmocka_unit_test(test_use_after_scope_is_poisoned),
#endif
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
