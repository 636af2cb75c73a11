/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "nonce.h"
#include "test.h"

/* Pop one nonce and compare it with expected; false if the pool was empty. */
static bool pop_is(NoncePool *p, const char *expected) {
        _cleanup_free_ char *n = NULL;

        if (nonce_pool_pop(p, &n) < 0)
                return false;
        if (!streq(n, expected)) {
                fprintf(stderr, "popped \"%s\", expected \"%s\"\n", n, expected);
                return false;
        }
        return true;
}

TEST(empty) {
        NoncePool p = {};
        char *n = (char *) 0x1;

        CHECK_INT(nonce_pool_pop(&p, &n), -ENODATA);
        CHECK(n == (char *) 0x1);
        nonce_pool_clear(&p);
        CHECK_INT(p.n, 0);
}

TEST(newest_first) {
        NoncePool p = {};

        CHECK_INT(nonce_pool_push(&p, "oFvnlFP1wIhRlYS2jTaXbA"), 0);
        CHECK_INT(nonce_pool_push(&p, "MYAuvOpaoIiywTezizk5vw"), 0);
        CHECK_INT(nonce_pool_push(&p, "A-_z09"), 0);
        CHECK_INT(p.n, 3);
        CHECK(pop_is(&p, "A-_z09"));
        CHECK(pop_is(&p, "MYAuvOpaoIiywTezizk5vw"));

        /* Pushing between pops keeps LIFO order. */
        CHECK_INT(nonce_pool_push(&p, "Zm9v"), 0);
        CHECK(pop_is(&p, "Zm9v"));
        CHECK(pop_is(&p, "oFvnlFP1wIhRlYS2jTaXbA"));

        char *n = (char *) 0x1;
        CHECK_INT(nonce_pool_pop(&p, &n), -ENODATA);
        CHECK(n == (char *) 0x1);

        /* The same value twice is kept twice: de-duplication is the server's business. */
        CHECK_INT(nonce_pool_push(&p, "abc"), 0);
        CHECK_INT(nonce_pool_push(&p, "abc"), 0);
        CHECK(pop_is(&p, "abc"));
        CHECK(pop_is(&p, "abc"));
        CHECK_INT(p.n, 0);
}

TEST(popped_copy_is_owned) {
        NoncePool p = {};
        char buf[] = "bm9uY2U";
        char *n = NULL;

        /* The pool keeps a copy, not the caller's buffer. */
        CHECK_INT(nonce_pool_push(&p, buf), 0);
        buf[0] = 'X';
        REQUIRE(nonce_pool_pop(&p, &n) == 0);
        CHECK_STR(n, "bm9uY2U");
        CHECK(n != buf);
        free(n);
}

TEST(invalid_refused) {
        NoncePool p = {};
        char long_nonce[NONCE_MAX_LEN + 2];
        static const char *const bad[] = {
                "",
                "abc=",
                "abc==",
                "a/b",
                "a+b",
                "a b",
                " abc",
                "abc ",
                "abc\t",
                "abc\r\n",
                "a.b",
                "a:b",
                "a\"b",
                "a,b",
                "\xc3\xa9t\xc3\xa9",
                "\x7f",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = nonce_pool_push(&p, bad[i]);
                if (r != -EBADMSG)
                        fprintf(stderr, "\"%s\": %d\n", bad[i], r);
                CHECK_INT(r, -EBADMSG);
        }
        CHECK_INT(nonce_pool_push(&p, NULL), -EBADMSG);

        /* Exactly NONCE_MAX_LEN is fine, one more is not. */
        memset(long_nonce, 'A', NONCE_MAX_LEN + 1);
        long_nonce[NONCE_MAX_LEN + 1] = 0;
        CHECK_INT(nonce_pool_push(&p, long_nonce), -EBADMSG);
        CHECK_INT(p.n, 0);
        long_nonce[NONCE_MAX_LEN] = 0;
        CHECK_INT(nonce_pool_push(&p, long_nonce), 0);
        CHECK_INT(p.n, 1);
        CHECK(pop_is(&p, long_nonce));

        CHECK_INT(p.n, 0);
        for (size_t i = 0; i < NONCE_POOL_MAX; i++)
                CHECK(p.nonces[i] == NULL);
}

TEST(overflow_drops_oldest) {
        NoncePool p = {};
        char name[32];

        /* Push twice the capacity plus a few: only the newest NONCE_POOL_MAX remain. */
        const int total = 2 * NONCE_POOL_MAX + 3;
        for (int i = 0; i < total; i++) {
                snprintf(name, sizeof name, "nonce%d", i);
                CHECK_INT(nonce_pool_push(&p, name), 0);
                CHECK((int) p.n == (i + 1 < NONCE_POOL_MAX ? i + 1 : NONCE_POOL_MAX));
        }
        CHECK_INT(p.n, NONCE_POOL_MAX);
        for (int i = total - 1; i >= total - NONCE_POOL_MAX; i--) {
                snprintf(name, sizeof name, "nonce%d", i);
                CHECK(pop_is(&p, name));
        }
        char *n = NULL;
        CHECK_INT(nonce_pool_pop(&p, &n), -ENODATA);
        CHECK(n == NULL);
}

TEST(clear) {
        NoncePool p = {};

        /* Fill beyond capacity, pop some, clear the rest: valgrind sees no leak. */
        for (int i = 0; i < NONCE_POOL_MAX + 5; i++)
                CHECK_INT(nonce_pool_push(&p, "bm9uY2U"), 0);
        CHECK(pop_is(&p, "bm9uY2U"));
        nonce_pool_clear(&p);
        CHECK_INT(p.n, 0);
        char *n = NULL;
        CHECK_INT(nonce_pool_pop(&p, &n), -ENODATA);

        /* Usable again after clear, and clear twice is harmless. */
        CHECK_INT(nonce_pool_push(&p, "YWdhaW4"), 0);
        CHECK(pop_is(&p, "YWdhaW4"));
        CHECK_INT(nonce_pool_push(&p, "bGVmdA"), 0);
        nonce_pool_clear(&p);
        nonce_pool_clear(&p);
        CHECK_INT(p.n, 0);
}

TEST_MAIN(T(empty), T(newest_first), T(popped_copy_is_owned), T(invalid_refused), T(overflow_drops_oldest),
          T(clear))
