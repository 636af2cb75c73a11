/* SPDX-License-Identifier: MIT */
/* Times, durations and daemon text as renewctl prints them. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "macro.h"

#define SEC_PER_MIN  INT64_C(60)
#define SEC_PER_HOUR INT64_C(3600)
#define SEC_PER_DAY  INT64_C(86400)

/* The amount of d (seconds, >= 0) in its unit: "45 days", "3 h", "12 min", "54 s", or ""
 * for no time at all. */
static void format_amount(int64_t d, char buf[static FORMAT_TIME_MAX]) {
        if (d >= 2 * SEC_PER_DAY)
                snprintf(buf, FORMAT_TIME_MAX, "%" PRId64 " days", d / SEC_PER_DAY);
        else if (d >= 2 * SEC_PER_HOUR)
                snprintf(buf, FORMAT_TIME_MAX, "%" PRId64 " h", d / SEC_PER_HOUR);
        else if (d >= SEC_PER_MIN)
                snprintf(buf, FORMAT_TIME_MAX, "%" PRId64 " min", d / SEC_PER_MIN);
        else if (d > 0)
                snprintf(buf, FORMAT_TIME_MAX, "%" PRId64 " s", d);
        else
                buf[0] = '\0';
}

char *format_relative(time_t t, time_t now, char buf[static FORMAT_TIME_MAX]) {
        char amount[FORMAT_TIME_MAX];
        int64_t d;

        if (__builtin_sub_overflow((int64_t) t, (int64_t) now, &d))
                d = t > now ? INT64_MAX : -INT64_MAX;
        if (d == INT64_MIN)
                d = -INT64_MAX;

        format_amount(d < 0 ? -d : d, amount);
        if (amount[0] == '\0')
                snprintf(buf, FORMAT_TIME_MAX, "now");
        else if (d > 0)
                snprintf(buf, FORMAT_TIME_MAX, "in %s", amount);
        else
                snprintf(buf, FORMAT_TIME_MAX, "%s ago", amount);
        return buf;
}

/* The date, and with_time the time and zone, of t in local time; "@SECONDS" if t is out of
 * the calendar's range. */
static char *format_local(time_t t, bool with_time, char buf[static FORMAT_TIME_MAX]) {
        struct tm tm;
        size_t n = 0;

        if (localtime_r(&t, &tm))
                n = with_time ? strftime(buf, FORMAT_TIME_MAX, "%Y-%m-%d %H:%M:%S %Z", &tm)
                              : strftime(buf, FORMAT_TIME_MAX, "%Y-%m-%d", &tm);
        if (n == 0)
                snprintf(buf, FORMAT_TIME_MAX, "@%" PRId64, (int64_t) t);
        return buf;
}

char *format_date(time_t t, char buf[static FORMAT_TIME_MAX]) {
        return format_local(t, false, buf);
}

char *format_timestamp(time_t t, char buf[static FORMAT_TIME_MAX]) {
        return format_local(t, true, buf);
}

char *format_duration(int64_t sec, char buf[static FORMAT_TIME_MAX]) {
        if (sec < 0)
                sec = 0;
        if (sec >= SEC_PER_DAY)
                snprintf(buf, FORMAT_TIME_MAX, "%" PRId64 " day%s %" PRId64 " h", sec / SEC_PER_DAY,
                         sec / SEC_PER_DAY == 1 ? "" : "s", sec % SEC_PER_DAY / SEC_PER_HOUR);
        else if (sec >= SEC_PER_HOUR)
                snprintf(buf, FORMAT_TIME_MAX, "%" PRId64 " h %" PRId64 " min", sec / SEC_PER_HOUR,
                         sec % SEC_PER_HOUR / SEC_PER_MIN);
        else if (sec >= SEC_PER_MIN)
                snprintf(buf, FORMAT_TIME_MAX, "%" PRId64 " min", sec / SEC_PER_MIN);
        else
                snprintf(buf, FORMAT_TIME_MAX, "%" PRId64 " s", sec);
        return buf;
}

char *text_sanitize(const char *s) {
        char *copy = strdup(strempty(s));

        if (!copy)
                return NULL;
        for (char *p = copy; *p; p++)
                if ((unsigned char) *p < 0x20 || (unsigned char) *p == 0x7f)
                        *p = ' ';
        return copy;
}

static bool utf8_is_continuation(unsigned char c) {
        return (c & 0xc0) == 0x80;
}

size_t text_width(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                if (!utf8_is_continuation((unsigned char) *s))
                        n++;
        return n;
}

void text_truncate(char *s, size_t width) {
        size_t chars = 0;
        char *cut = NULL;

        if (width < 4)
                width = 4;
        if (text_width(s) <= width)
                return;
        /* Keep width-3 characters: stop at the start of the one after them. */
        for (char *p = s; *p; p++) {
                if (utf8_is_continuation((unsigned char) *p))
                        continue;
                if (chars == width - 3) {
                        cut = p;
                        break;
                }
                chars++;
        }
        if (cut)
                strcpy(cut, "...");
}
