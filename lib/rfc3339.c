/* SPDX-License-Identifier: MIT */
/* RFC 3339 date-time parsing. Strict on the grammar (a CA that sends something else has a
 * bug worth noticing), locale-independent, and converted with timegm(): the fields are
 * checked first, because timegm() quietly normalises 30 February into 2 March. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "rfc3339.h"

/* Read exactly n decimal digits. */
static bool read_digits(const char **p, unsigned n, int *ret) {
        int v = 0;

        for (unsigned i = 0; i < n; i++) {
                char c = (*p)[i];

                if (c < '0' || c > '9')
                        return false;
                v = v * 10 + (c - '0');
        }
        *p += n;
        *ret = v;
        return true;
}

static bool read_char(const char **p, char c) {
        if (**p != c)
                return false;
        (*p)++;
        return true;
}

static int days_in_month(int year, int month) {
        static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

        return month == 2 && leap ? 29 : mdays[month - 1];
}

int rfc3339_parse(const char *s, time_t *ret) {
        int year, month, mday, hour, minute, second, off_hour = 0, off_minute = 0, saved_errno;
        bool overflow;
        const char *p = s;
        struct tm tm = {};
        int64_t offset;
        time_t t;

        if (!s || !ret)
                return -EINVAL;

        /* full-date "T" partial-time */
        if (!read_digits(&p, 4, &year) || !read_char(&p, '-') || !read_digits(&p, 2, &month) ||
            !read_char(&p, '-') || !read_digits(&p, 2, &mday))
                return -EINVAL;
        if (!read_char(&p, 'T') && !read_char(&p, 't'))
                return -EINVAL;
        if (!read_digits(&p, 2, &hour) || !read_char(&p, ':') || !read_digits(&p, 2, &minute) ||
            !read_char(&p, ':') || !read_digits(&p, 2, &second))
                return -EINVAL;

        /* time-secfrac = "." 1*DIGIT */
        if (read_char(&p, '.')) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                while (*p >= '0' && *p <= '9')
                        p++;
        }

        /* time-offset = "Z" / ("+" / "-") time-hour ":" time-minute */
        if (!read_char(&p, 'Z') && !read_char(&p, 'z')) {
                char sign = *p;

                if (sign != '+' && sign != '-')
                        return -EINVAL;
                p++;
                if (!read_digits(&p, 2, &off_hour) || !read_char(&p, ':') ||
                    !read_digits(&p, 2, &off_minute))
                        return -EINVAL;
                if (off_hour > 23 || off_minute > 59)
                        return -EINVAL;
                if (sign == '-') {
                        off_hour = -off_hour;
                        off_minute = -off_minute;
                }
        }
        if (*p != 0)
                return -EINVAL;

        if (month < 1 || month > 12 || mday < 1 || mday > days_in_month(year, month) || hour > 23 ||
            minute > 59 || second > 60)
                return -EINVAL;

        tm = (struct tm) {
                .tm_year = year - 1900,
                .tm_mon = month - 1,
                .tm_mday = mday,
                .tm_hour = hour,
                .tm_min = minute,
                .tm_sec = second == 60 ? 59 : second,
        };

        /* timegm() returns -1 both for 1969-12-31T23:59:59Z and on overflow; only the
         * latter sets errno. The caller's errno is given back either way. */
        saved_errno = errno;
        errno = 0;
        t = timegm(&tm);
        overflow = t == (time_t) -1 && errno != 0;
        errno = saved_errno;
        if (overflow)
                return -ERANGE;

        /* The text gives local time = UTC + offset. */
        offset = (int64_t) off_hour * 3600 + (int64_t) off_minute * 60;
        if (__builtin_sub_overflow(t, offset, &t))
                return -ERANGE;

        *ret = t;
        return 0;
}
