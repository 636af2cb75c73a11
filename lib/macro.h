/* SPDX-License-Identifier: MIT */
#pragma once

/* Small helpers used everywhere: cleanup attributes, ownership transfer, sizes.
 * Conventions (see docs/HACKING.md):
 *   - functions return 0 (or a positive result) on success, a negative errno on failure;
 *   - outputs go through ret_* pointers and are left untouched on failure;
 *   - destructors accept NULL and return NULL. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Hand ownership of a pointer out of a cleanup variable. */
#define TAKE_PTR(p)                         \
        ({                                  \
                __typeof__(p) _ptr_ = (p);  \
                (p) = NULL;                 \
                _ptr_;                      \
        })

#define TAKE_FD(fd)                         \
        ({                                  \
                int _fd_ = (fd);            \
                (fd) = -EBADF;              \
                _fd_;                       \
        })

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}
static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Declare "static inline void funcp(type *p)" calling func(*p) when non-NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                 \
        static inline void func##p(type *p) {                  \
                if (*p)                                        \
                        (void) func(*p);                       \
        }

/* A NULL-terminated array of strings. */
char **strv_free(char **l); /* returns NULL */
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}
static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}
static inline const char *strna(const char *s) {
        return s ? s : "n/a";
}
static inline const char *strempty(const char *s) {
        return s ? s : "";
}
static inline bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}
static inline bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && memcmp(s + a - b, suffix, b) == 0;
}
static inline bool isempty(const char *s) {
        return !s || !*s;
}

/* Return -errno, never 0, for use right after a failed libc call. */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

#define RET_NERRNO(expr)                        \
        ({                                      \
                int _r_ = (expr);               \
                _r_ < 0 ? negative_errno() : _r_; \
        })

#define USEC_PER_SEC  ((uint64_t) 1000000ULL)
#define USEC_PER_MSEC ((uint64_t) 1000ULL)
#define NSEC_PER_USEC ((uint64_t) 1000ULL)
