/* SPDX-License-Identifier: MIT */
#pragma once

/* RFC 3339 timestamps, as ACME uses them (order expiry, ARI windows). */

#include <time.h>

/* Parse an RFC 3339 §5.6 date-time, "YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)", into seconds
 * since the epoch (UTC). 'T' and 'Z' may be lower case (§5.6, note). Fractional seconds
 * of any length are accepted and dropped (the time is rounded down to the second). A leap
 * second (":60") is read as the second before it, since time_t has no leap seconds.
 * "-00:00" (offset unknown) is read as UTC. Everything else is refused with -EINVAL: a
 * missing or malformed offset, a space for 'T', dates that do not exist ("2025-02-30",
 * "2025-13-01"), out-of-range fields, trailing text. -ERANGE if the time does not fit in
 * a time_t. *ret is untouched on failure. */
int rfc3339_parse(const char *s, time_t *ret);
