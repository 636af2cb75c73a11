/* SPDX-License-Identifier: MIT */
#pragma once

/* Typed access to cJSON objects that fails cleanly on missing members and wrong types.
 * Getters return 0, -ENOENT when the member is absent (or JSON null), -EBADMSG when it has
 * the wrong type or an out-of-range value. Returned pointers borrow from the object. */

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(cJSON *, cJSON_Delete);
#define _cleanup_json_ _cleanup_(cJSON_Deletep)

/* Parse exactly len bytes (no NUL needed; embedded NULs or trailing garbage are -EBADMSG).
 * The top level must be an object. Refuses input longer than 16 MiB (-E2BIG). */
int json_parse_object(const char *buf, size_t len, cJSON **ret);

int json_get_string(const cJSON *obj, const char *key, const char **ret);
int json_get_bool(const cJSON *obj, const char *key, bool *ret);
/* An integral number that fits in int64_t. */
int json_get_int64(const cJSON *obj, const char *key, int64_t *ret);
int json_get_object(const cJSON *obj, const char *key, const cJSON **ret);
int json_get_array(const cJSON *obj, const char *key, const cJSON **ret);
/* An array of strings, copied into a NULL-terminated strv (free with strv_free()).
 * Any non-string element is -EBADMSG. */
int json_get_strv(const cJSON *obj, const char *key, char ***ret);

/* Serialise without whitespace. Returns NULL on ENOMEM. */
char *json_print(const cJSON *obj);
