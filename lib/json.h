/* SPDX-License-Identifier: MIT */
#pragma once

/* Typed access to cJSON objects that fails cleanly on missing members and wrong types.
 * Getters return 0, -ENOENT when the member is absent (or JSON null), -EBADMSG when it has
 * the wrong type or an out-of-range value (or obj itself is not an object), -EINVAL for NULL
 * arguments. Returned pointers borrow from the object. */

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(cJSON *, cJSON_Delete);
#define _cleanup_json_ _cleanup_(cJSON_Deletep)

/* Parse exactly len bytes (no NUL needed; embedded NULs or trailing garbage are -EBADMSG).
 * The top level must be an object. Refuses input longer than 16 MiB (-E2BIG). Stricter than
 * cJSON alone: the text must be valid UTF-8, and strings may not hold raw control
 * characters or a \u0000 escape (which cJSON would silently truncate at). Nesting deeper
 * than cJSON's limit (1000) is -EBADMSG. Duplicate member names are not detected; the
 * getters see the first. */
int json_parse_object(const char *buf, size_t len, cJSON **ret);

int json_get_string(const cJSON *obj, const char *key, const char **ret);
int json_get_bool(const cJSON *obj, const char *key, bool *ret);
/* An integral number that fits in int64_t. cJSON stores numbers as doubles, so only
 * magnitudes up to 2^53 (where every integer is exact) are accepted; larger ones, fractions
 * and non-numbers are -EBADMSG. */
int json_get_int64(const cJSON *obj, const char *key, int64_t *ret);
int json_get_object(const cJSON *obj, const char *key, const cJSON **ret);
int json_get_array(const cJSON *obj, const char *key, const cJSON **ret);
/* An array of strings, copied into a NULL-terminated strv (free with strv_free()).
 * Any non-string element is -EBADMSG. */
int json_get_strv(const cJSON *obj, const char *key, char ***ret);

/* Serialise without whitespace. Returns NULL on ENOMEM. */
char *json_print(const cJSON *obj);
