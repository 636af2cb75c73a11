/* SPDX-License-Identifier: MIT */
#pragma once

/* NULL-terminated string arrays. strv_free() is declared in macro.h. */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

size_t strv_length(char *const *l);
static inline bool strv_isempty(char *const *l) {
        return !l || !*l;
}
/* Append a copy of s; returns 0 or -ENOMEM. */
int strv_extend(char ***l, const char *s);
/* Append s itself, taking ownership (freed on failure too). */
int strv_consume(char ***l, char *s);
bool strv_contains(char *const *l, const char *s);
char **strv_copy(char *const *l);
/* Remove (and free) every entry equal to s; returns l. */
char **strv_remove(char **l, const char *s);
/* Join with separator; NULL on ENOMEM. */
char *strv_join(char *const *l, const char *sep);
/* Split on runs of whitespace; returns 0 or -ENOMEM. An empty string gives an empty list. */
int strv_split_whitespace(const char *s, char ***ret);
/* Same members, in any order (as sets: meant for lists without duplicates). */
bool strv_equal_unordered(char *const *a, char *const *b);
