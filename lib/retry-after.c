/* SPDX-License-Identifier: MIT */
/* Retry-After and HTTP-date parsing, locale-independent (no strptime %a/%b). */

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "macro.h"
#include "retry-after.h"

static const char *const months[12] = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static const char *const wdays[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const wdays_long[7] = {
        "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};

/* Read exactly `digits` decimal digits (or 1..digits when min < digits). */
static bool read_num(const char **p, int min, int max_digits, int *ret) {
        int v = 0, n = 0;

        while (n < max_digits && isdigit((unsigned char) **p)) {
                v = v * 10 + (**p - '0');
                (*p)++;
                n++;
        }
        if (n < min)
                return false;
        *ret = v;
        return true;
}

static bool expect(const char **p, const char *lit) {
        size_t n = strlen(lit);
        if (strncmp(*p, lit, n) != 0)
                return false;
        *p += n;
        return true;
}

static bool read_month(const char **p, int *ret) {
        for (int i = 0; i < 12; i++)
                if (strncmp(*p, months[i], 3) == 0) {
                        *p += 3;
                        *ret = i;
                        return true;
                }
        return false;
}

static bool read_time(const char **p, struct tm *tm) {
        return read_num(p, 2, 2, &tm->tm_hour) && expect(p, ":") && read_num(p, 2, 2, &tm->tm_min) &&
               expect(p, ":") && read_num(p, 2, 2, &tm->tm_sec);
}

static bool tm_valid(const struct tm *tm) {
        static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int year = tm->tm_year + 1900;
        bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

        /* 29 February only in leap years: timegm() would silently make it 1 March. */
        if (tm->tm_mon == 1 && tm->tm_mday == 29 && !leap)
                return false;
        return tm->tm_mday >= 1 && tm->tm_mday <= mdays[tm->tm_mon] && tm->tm_hour <= 23 &&
               tm->tm_min <= 59 && tm->tm_sec <= 60;
}

int http_date_parse(const char *s, time_t *ret) {
        struct tm tm = {};
        const char *p = s;
        int wday = -1;

        for (int i = 0; i < 7 && wday < 0; i++)
                if (expect(&p, wdays_long[i]))
                        wday = i + 7; /* marks RFC 850 */
        for (int i = 0; i < 7 && wday < 0; i++)
                if (expect(&p, wdays[i]))
                        wday = i;
        if (wday < 0)
                return -EINVAL;

        if (wday >= 7) {
                /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
                int yy;
                if (!expect(&p, ", ") || !read_num(&p, 2, 2, &tm.tm_mday) || !expect(&p, "-") ||
                    !read_month(&p, &tm.tm_mon) || !expect(&p, "-") || !read_num(&p, 2, 2, &yy) ||
                    !expect(&p, " ") || !read_time(&p, &tm) || !expect(&p, " GMT"))
                        return -EINVAL;
                /* RFC 9110: a two-digit year more than 50 years in the future is in the past
                 * century; 70..99 → 19xx is a good enough reading today. */
                tm.tm_year = yy < 70 ? yy + 100 : yy;
        } else if (expect(&p, ", ")) {
                /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
                int year;
                if (!read_num(&p, 2, 2, &tm.tm_mday) || !expect(&p, " ") || !read_month(&p, &tm.tm_mon) ||
                    !expect(&p, " ") || !read_num(&p, 4, 4, &year) || !expect(&p, " ") || !read_time(&p, &tm) ||
                    !expect(&p, " GMT"))
                        return -EINVAL;
                tm.tm_year = year - 1900;
        } else {
                /* asctime: Sun Nov  6 08:49:37 1994 */
                int year;
                if (!expect(&p, " ") || !read_month(&p, &tm.tm_mon) || !expect(&p, " "))
                        return -EINVAL;
                if (*p == ' ')
                        p++;
                if (!read_num(&p, 1, 2, &tm.tm_mday) || !expect(&p, " ") || !read_time(&p, &tm) ||
                    !expect(&p, " ") || !read_num(&p, 4, 4, &year))
                        return -EINVAL;
                tm.tm_year = year - 1900;
        }
        if (*p != 0 || !tm_valid(&tm))
                return -EINVAL;

        time_t t = timegm(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        *ret = t;
        return 0;
}

int retry_after_parse(const char *value, time_t now, uint64_t *ret_seconds) {
        const char *p = value;
        uint64_t v = 0;

        if (!value)
                return -EINVAL;
        while (*p == ' ' || *p == '\t')
                p++;

        if (isdigit((unsigned char) *p)) {
                for (; isdigit((unsigned char) *p); p++) {
                        if (v < RETRY_AFTER_MAX)
                                v = v * 10 + (uint64_t) (*p - '0');
                }
                while (*p == ' ' || *p == '\t')
                        p++;
                if (*p != 0)
                        return -EINVAL;
                *ret_seconds = v < RETRY_AFTER_MAX ? v : RETRY_AFTER_MAX;
                return 0;
        }

        time_t t;
        int r = http_date_parse(p, &t);
        if (r < 0)
                return r;
        if (t <= now)
                v = 0;
        else
                v = (uint64_t) (t - now);
        *ret_seconds = v < RETRY_AFTER_MAX ? v : RETRY_AFTER_MAX;
        return 0;
}
