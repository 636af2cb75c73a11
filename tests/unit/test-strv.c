/* SPDX-License-Identifier: MIT */
#include "strv.h"
#include "test.h"

TEST(extend_length_contains) {
        _cleanup_strv_free_ char **l = NULL;

        CHECK_INT(strv_length(l), 0);
        CHECK(strv_isempty(l));
        CHECK(!strv_contains(l, "a"));
        CHECK_INT(strv_extend(&l, "a"), 0);
        CHECK_INT(strv_extend(&l, "b"), 0);
        CHECK_INT(strv_length(l), 2);
        CHECK(!strv_isempty(l));
        CHECK(strv_contains(l, "a"));
        CHECK(strv_contains(l, "b"));
        CHECK(!strv_contains(l, "c"));
        CHECK(l[2] == NULL);
}

TEST(consume_null_is_enomem) {
        _cleanup_strv_free_ char **l = NULL;

        CHECK_INT(strv_consume(&l, NULL), -ENOMEM);
        CHECK(l == NULL);
        CHECK_INT(strv_consume(&l, strdup("x")), 0);
        CHECK_STR(l[0], "x");
}

TEST(copy_and_join) {
        _cleanup_strv_free_ char **l = NULL, **c = NULL, **empty = NULL;
        _cleanup_free_ char *j = NULL, *je = NULL;

        CHECK_INT(strv_extend(&l, "one"), 0);
        CHECK_INT(strv_extend(&l, "two"), 0);
        CHECK_INT(strv_extend(&l, "three"), 0);
        c = strv_copy(l);
        REQUIRE(c);
        CHECK(c != l && c[0] != l[0]);
        CHECK_INT(strv_length(c), 3);
        j = strv_join(c, ", ");
        CHECK_STR(j, "one, two, three");

        empty = strv_copy(NULL);
        REQUIRE(empty);
        CHECK_INT(strv_length(empty), 0);
        je = strv_join(empty, ",");
        CHECK_STR(je, "");
}

TEST(split_whitespace) {
        _cleanup_strv_free_ char **l = NULL, **e = NULL, **s = NULL;

        CHECK_INT(strv_split_whitespace("  a.test\tb.test \n c ", &l), 0);
        REQUIRE(strv_length(l) == 3);
        CHECK_STR(l[0], "a.test");
        CHECK_STR(l[1], "b.test");
        CHECK_STR(l[2], "c");

        CHECK_INT(strv_split_whitespace("", &e), 0);
        REQUIRE(e);
        CHECK_INT(strv_length(e), 0);

        CHECK_INT(strv_split_whitespace("   \t ", &s), 0);
        REQUIRE(s);
        CHECK_INT(strv_length(s), 0);
}

TEST(equal_unordered) {
        _cleanup_strv_free_ char **a = NULL, **b = NULL, **c = NULL, **d = NULL;

        CHECK_INT(strv_split_whitespace("x y z", &a), 0);
        CHECK_INT(strv_split_whitespace("z x y", &b), 0);
        CHECK_INT(strv_split_whitespace("x y", &c), 0);
        CHECK_INT(strv_split_whitespace("x y w", &d), 0);
        CHECK(strv_equal_unordered(a, b));
        CHECK(strv_equal_unordered(b, a));
        CHECK(!strv_equal_unordered(a, c));
        CHECK(!strv_equal_unordered(a, d));
        CHECK(strv_equal_unordered(NULL, NULL));
        CHECK(!strv_equal_unordered(a, NULL));
}

TEST(free_returns_null) {
        char **l = NULL;

        CHECK(strv_free(NULL) == NULL);
        CHECK_INT(strv_extend(&l, "a"), 0);
        l = strv_free(l);
        CHECK(l == NULL);
}

TEST_MAIN(T(extend_length_contains), T(consume_null_is_enomem), T(copy_and_join), T(split_whitespace),
          T(equal_unordered), T(free_returns_null))
