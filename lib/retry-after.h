/* SPDX-License-Identifier: MIT */
#pragma once

/* Retry-After (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date in any of the three
 * formats (IMF-fixdate, RFC 850, asctime). */

#include <stdint.h>
#include <time.h>

/* The delay in seconds from now that value asks for (0 for a date in the past), capped
 * at RETRY_AFTER_MAX. -EINVAL if the value is neither form. */
int retry_after_parse(const char *value, time_t now, uint64_t *ret_seconds);

#define RETRY_AFTER_MAX (30ULL * 24 * 3600)

/* Parse an HTTP-date into a time_t (UTC). -EINVAL if malformed. */
int http_date_parse(const char *s, time_t *ret);
