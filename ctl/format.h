/* SPDX-License-Identifier: MIT */
#pragma once

/* How renewctl shows values to people: times absolute and relative to now, durations, and
 * text from the daemon made safe for a terminal. Pure functions (now is an argument), so
 * the output does not depend on when a test runs. */

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define FORMAT_TIME_MAX 64

/* "in 45 days", "3 h ago", "in 12 min", "now". Differences round towards zero, in days
 * from two days on, hours from two hours on, else minutes; under a minute is "now". */
char *format_relative(time_t t, time_t now, char buf[static FORMAT_TIME_MAX]);

/* "2025-07-01" in local time. */
char *format_date(time_t t, char buf[static FORMAT_TIME_MAX]);

/* "2025-07-01 12:00:00 UTC" in local time with the zone's abbreviation. */
char *format_timestamp(time_t t, char buf[static FORMAT_TIME_MAX]);

/* "3 days 4 h", "5 h 12 min", "7 min", "40 s": an uptime in its two largest units. */
char *format_duration(int64_t sec, char buf[static FORMAT_TIME_MAX]);

/* A copy of s with every ASCII control character (newlines, escapes, DEL) replaced by a
 * space, so text from the daemon cannot move the cursor or forge lines. NULL on ENOMEM. */
char *text_sanitize(const char *s);

/* The number of characters (UTF-8 code points) in s: the width on a terminal for the
 * names and messages renewctl shows. */
size_t text_width(const char *s);

/* Cut s in place to at most width characters, ending with "..." when anything was cut.
 * Never splits a UTF-8 sequence. width below 4 is taken as 4. */
void text_truncate(char *s, size_t width);
