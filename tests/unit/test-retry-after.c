/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <time.h>

#include "macro.h"
#include "retry-after.h"
#include "test.h"

/* 1994-11-06T08:49:37Z, the example date of RFC 9110. */
#define T_1994 ((time_t) 784111777)

/* Parse value with `now`, expecting success; returns the seconds (UINT64_MAX on failure,
 * which every check below would notice). */
static uint64_t parse_ok(const char *value, time_t now) {
        uint64_t s = UINT64_MAX;
        int r = retry_after_parse(value, now, &s);
        if (r != 0) {
                fprintf(stderr, "retry_after_parse(\"%s\") = %d\n", value, r);
                return UINT64_MAX;
        }
        return s;
}

TEST(delay_seconds) {
        CHECK_INT(parse_ok("0", T_1994), 0);
        CHECK_INT(parse_ok("1", T_1994), 1);
        CHECK_INT(parse_ok("120", T_1994), 120);
        CHECK_INT(parse_ok("000120", T_1994), 120);
        /* `now` plays no part for delay-seconds. */
        CHECK_INT(parse_ok("120", 0), 120);
        CHECK_INT(parse_ok("3600", (time_t) 4102444800), 3600);
        /* Right at and around the cap. */
        CHECK_INT(parse_ok("2591999", 0), RETRY_AFTER_MAX - 1);
        CHECK_INT(parse_ok("2592000", 0), RETRY_AFTER_MAX);
        CHECK_INT(parse_ok("2592001", 0), RETRY_AFTER_MAX);
}

TEST(delay_seconds_huge) {
        /* Far beyond 64 bits: no overflow, just the cap. */
        CHECK_INT(parse_ok("99999999999999999999999999999999999999999", 0), RETRY_AFTER_MAX);
        CHECK_INT(parse_ok("18446744073709551616", 0), RETRY_AFTER_MAX);
        CHECK_INT(parse_ok("18446744073709551615", 0), RETRY_AFTER_MAX);
        CHECK_INT(parse_ok("4294967296", 0), RETRY_AFTER_MAX);
        CHECK_INT(parse_ok("31536000", 0), RETRY_AFTER_MAX);
}

TEST(delay_seconds_whitespace) {
        CHECK_INT(parse_ok(" 120", 0), 120);
        CHECK_INT(parse_ok("120 ", 0), 120);
        CHECK_INT(parse_ok("  \t120\t  ", 0), 120);
        CHECK_INT(parse_ok("\t0\t", 0), 0);
}

TEST(imf_fixdate) {
        time_t t = 0;

        CHECK_INT(http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
        CHECK_INT(t, T_1994);
        CHECK_INT(http_date_parse("Thu, 01 Jan 1970 00:00:00 GMT", &t), 0);
        CHECK_INT(t, 0);
        CHECK_INT(http_date_parse("Tue, 29 Feb 2000 00:00:00 GMT", &t), 0);
        CHECK_INT(t, 951782400);
        CHECK_INT(http_date_parse("Thu, 31 Dec 2037 23:59:59 GMT", &t), 0);
        CHECK_INT(t, 2145916799);

        CHECK_INT(parse_ok("Sun, 06 Nov 1994 08:49:37 GMT", T_1994), 0);
        CHECK_INT(parse_ok("Sun, 06 Nov 1994 08:49:37 GMT", T_1994 - 1), 1);
        CHECK_INT(parse_ok("Sun, 06 Nov 1994 08:49:37 GMT", T_1994 - 3600), 3600);
        CHECK_INT(parse_ok("Sun, 06 Nov 1994 08:51:37 GMT", T_1994), 120);
        CHECK_INT(parse_ok("Mon, 07 Nov 1994 08:49:37 GMT", T_1994), 86400);
        /* Leading whitespace is skipped for dates as well. */
        CHECK_INT(parse_ok("  Sun, 06 Nov 1994 08:51:37 GMT", T_1994), 120);
}

TEST(rfc850) {
        time_t t = 0;

        CHECK_INT(http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t), 0);
        CHECK_INT(t, T_1994);
        CHECK_INT(parse_ok("Sunday, 06-Nov-94 08:49:37 GMT", T_1994 - 60), 60);
        CHECK_INT(parse_ok("Sunday, 06-Nov-94 08:49:37 GMT", T_1994 + 60), 0);
        /* Two-digit years below 70 are this century. */
        CHECK_INT(http_date_parse("Tuesday, 29-Feb-00 00:00:00 GMT", &t), 0);
        CHECK_INT(t, 951782400);
        CHECK_INT(http_date_parse("Thursday, 01-Jan-70 00:00:00 GMT", &t), 0);
        CHECK_INT(t, 0);
        /* Every long weekday name is known. */
        CHECK_INT(http_date_parse("Monday, 06-Nov-94 08:49:37 GMT", &t), 0);
        CHECK_INT(http_date_parse("Wednesday, 06-Nov-94 08:49:37 GMT", &t), 0);
        CHECK_INT(http_date_parse("Saturday, 06-Nov-94 08:49:37 GMT", &t), 0);
        CHECK_INT(t, T_1994);
}

TEST(asctime) {
        time_t t = 0;

        CHECK_INT(http_date_parse("Sun Nov  6 08:49:37 1994", &t), 0);
        CHECK_INT(t, T_1994);
        CHECK_INT(http_date_parse("Sun Nov 16 08:49:37 1994", &t), 0);
        CHECK_INT(t, T_1994 + 10 * 86400);
        CHECK_INT(parse_ok("Sun Nov  6 08:49:37 1994", T_1994 - 7), 7);
        CHECK_INT(parse_ok("Sun Nov  6 08:49:37 1994", T_1994 + 7), 0);
}

TEST(past_and_future) {
        /* Past dates: 0, however far back. */
        CHECK_INT(parse_ok("Thu, 01 Jan 1970 00:00:00 GMT", T_1994), 0);
        CHECK_INT(parse_ok("Sun, 06 Nov 1994 08:49:36 GMT", T_1994), 0);
        /* Future dates: the exact difference, capped. */
        CHECK_INT(parse_ok("Sun, 06 Nov 1994 08:49:38 GMT", T_1994), 1);
        CHECK_INT(parse_ok("Tue, 06 Dec 1994 08:49:36 GMT", T_1994), RETRY_AFTER_MAX - 1);
        CHECK_INT(parse_ok("Tue, 06 Dec 1994 08:49:37 GMT", T_1994), RETRY_AFTER_MAX);
        CHECK_INT(parse_ok("Fri, 31 Dec 9999 23:59:59 GMT", T_1994), RETRY_AFTER_MAX);
        CHECK_INT(parse_ok("Sun, 06 Nov 1994 08:49:37 GMT", 0), RETRY_AFTER_MAX);
}

TEST(leap_years) {
        time_t t = 0;

        CHECK_INT(http_date_parse("Thu, 29 Feb 1996 12:00:00 GMT", &t), 0);
        CHECK_INT(t, 825595200);
        /* No 29 February outside leap years (1900 and 2100 are not leap years). */
        CHECK_INT(http_date_parse("Wed, 29 Feb 1995 12:00:00 GMT", &t), -EINVAL);
        CHECK_INT(http_date_parse("Thu, 29 Feb 1900 12:00:00 GMT", &t), -EINVAL);
        CHECK_INT(http_date_parse("Mon, 29 Feb 2100 12:00:00 GMT", &t), -EINVAL);
        CHECK_INT(http_date_parse("Wednesday, 29-Feb-95 12:00:00 GMT", &t), -EINVAL);
        CHECK_INT(http_date_parse("Wed Feb 29 12:00:00 1995", &t), -EINVAL);
        CHECK_INT(http_date_parse("Mon, 30 Feb 2000 12:00:00 GMT", &t), -EINVAL);
        CHECK_INT(t, 825595200);
}

TEST(garbage) {
        static const char *const bad[] = {
                "",
                " ",
                "abc",
                "-5",
                "+5",
                "1.5",
                "1e3",
                "0x10",
                "12 34",
                "120s",
                "Sun, 32 Nov 1994 08:49:37 GMT",
                "Sun, 31 Nov 1994 08:49:37 GMT",
                "Sun, 00 Nov 1994 08:49:37 GMT",
                "Sun, 06 Nov 1994 25:00:00 GMT",
                "Sun, 06 Nov 1994 24:00:00 GMT",
                "Sun, 06 Nov 1994 08:60:00 GMT",
                "Sun, 06 Nov 1994 08:49:61 GMT",
                "Sun, 06 Nov 1994 08:49:37",
                "Sun, 06 Nov 1994 08:49:37 ",
                "Sun, 06 Nov 1994 08:49:37 UTC",
                "Sun, 06 Nov 1994 08:49:37 gmt",
                "Sun, 06 Nov 1994 08:49:37 GMT ",
                "Sun, 06 Nov 1994 08:49:37 GMTx",
                "Sun, 06 Nov 1994 08:49:37 GMT; junk",
                "Sun, 6 Nov 1994 08:49:37 GMT",
                "Sun, 06 Nov 94 08:49:37 GMT",
                "Sun, 06 Foo 1994 08:49:37 GMT",
                "Sun, 06 nov 1994 08:49:37 GMT",
                "Sun, 06 Nov 1994 8:49:37 GMT",
                "Sun, 06 Nov 1994 08:49 GMT",
                "Sun,06 Nov 1994 08:49:37 GMT",
                "Sun 06 Nov 1994 08:49:37 GMT",
                "Xyz, 06 Nov 1994 08:49:37 GMT",
                "sun, 06 Nov 1994 08:49:37 GMT",
                "Sunday, 06-Nov-1994 08:49:37 GMT",
                "Sunday, 06 Nov 94 08:49:37 GMT",
                "Sunday, 06-Nov-94 08:49:37",
                "Sunday, 06-Nov-94 08:49:37 GMT junk",
                "Sunday, 32-Nov-94 08:49:37 GMT",
                "Sun Nov  6 08:49:37 94",
                "Sun Nov  6 08:49:37 1994 GMT",
                "Sun Nov  6 08:49:37 1994 ",
                "Sun Nov  6 25:49:37 1994",
                "Sun Nov 31 08:49:37 1994",
                "Sun Nov    6 08:49:37 1994",
                "Sun",
                "Sunday",
                "Sun,",
                "Sun, 06",
                "Sun, 06 Nov 1994 08:49:3",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                uint64_t s = 4242;
                time_t t = 4242;
                int r = retry_after_parse(bad[i], T_1994, &s);
                if (r != -EINVAL)
                        fprintf(stderr, "\"%s\": %d\n", bad[i], r);
                CHECK_INT(r, -EINVAL);
                CHECK_INT(s, 4242); /* untouched on failure */
                if (bad[i][0] != ' ' && bad[i][0] != 0 && (bad[i][0] < '0' || bad[i][0] > '9')) {
                        CHECK_INT(http_date_parse(bad[i], &t), -EINVAL);
                        CHECK_INT(t, 4242);
                }
        }

        uint64_t s = 4242;
        CHECK_INT(retry_after_parse(NULL, 0, &s), -EINVAL);
        CHECK_INT(s, 4242);
}

TEST_MAIN(T(delay_seconds), T(delay_seconds_huge), T(delay_seconds_whitespace), T(imf_fixdate), T(rfc850),
          T(asctime), T(past_and_future), T(leap_years), T(garbage))
