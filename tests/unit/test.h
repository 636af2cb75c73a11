/* SPDX-License-Identifier: MIT */
#pragma once

/* A minimal test harness: each test is a function; TEST_MAIN runs them all and exits
 * non-zero if any check failed. Checks report file:line and the failing expression. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

typedef struct TestCase {
        const char *name;
        void (*func)(void);
} TestCase;

extern int test_failures;

#define CHECK(expr)                                                                   \
        do {                                                                          \
                if (!(expr)) {                                                        \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        test_failures++;                                              \
                }                                                                     \
        } while (0)

#define CHECK_INT(a, b)                                                               \
        do {                                                                          \
                long long _a = (long long) (a), _b = (long long) (b);                 \
                if (_a != _b) {                                                       \
                        fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, \
                                #a, #b, _a, _b);                                      \
                        test_failures++;                                              \
                }                                                                     \
        } while (0)

#define CHECK_STR(a, b)                                                               \
        do {                                                                          \
                const char *_a = (a), *_b = (b);                                      \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                              \
                        fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, \
                                __LINE__, #a, #b, _a ? _a : "(null)", _b ? _b : "(null)"); \
                        test_failures++;                                              \
                }                                                                     \
        } while (0)

/* Abort the current test if a precondition fails (later checks would be noise). */
#define REQUIRE(expr)                                                                 \
        do {                                                                          \
                if (!(expr)) {                                                        \
                        fprintf(stderr, "%s:%d: requirement failed: %s\n", __FILE__, __LINE__, #expr); \
                        test_failures++;                                              \
                        return;                                                       \
                }                                                                     \
        } while (0)

#define TEST(n) static void test_##n(void)
#define T(n) { #n, test_##n }

#define TEST_MAIN(...)                                                                \
        int test_failures = 0;                                                        \
        int main(void) {                                                              \
                static const TestCase tests[] = { __VA_ARGS__ };                      \
                int failed = 0;                                                       \
                for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {       \
                        int before = test_failures;                                   \
                        tests[i].func();                                              \
                        bool ok = test_failures == before;                            \
                        printf("%s %s\n", ok ? "ok  " : "FAIL", tests[i].name);       \
                        failed += !ok;                                                \
                }                                                                     \
                printf("%zu passed, %d failed\n", sizeof(tests) / sizeof(tests[0]) - failed, failed); \
                return failed ? 1 : 0;                                                \
        }

/* Create a fresh directory /tmp/<test program>-XXXXXX. Returns its path (free it) or NULL
 * with errno set. */
char *test_tmpdir(void);
/* "a/b", allocated; NULL on ENOMEM. */
char *test_path_join(const char *a, const char *b);
/* A whole small file (at most 64 KiB are read) as a NUL-terminated string; NULL if it
 * cannot be read. */
char *test_read_file(const char *path);

/* Remove dir_fd/path (AT_FDCWD allowed) and everything below it, without following
 * symlinks. Returns 0, or the negative errno of the first entry that could not be
 * removed (the rest are still tried). */
int test_rm_rf(int dir_fd, const char *path);

/* For _cleanup_(): remove the tree *path names, if any, and free the name. */
void test_tmpdir_freep(char **path);

/* A temporary directory with a state dir "state" in it, opened as a Store. */
typedef struct Store Store;
typedef struct TestStore {
        char *tmp;
        char state[128];
        Store *store;
        int fd; /* the state dir */
} TestStore;
/* Set it up; false if anything failed (what did is left for test_store_done()). */
bool test_store_setup(TestStore *f);
/* Close the store and remove the directory. */
void test_store_done(TestStore *f);
