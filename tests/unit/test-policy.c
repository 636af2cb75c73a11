/* SPDX-License-Identifier: MIT */
#include "policy.h"
#include "test.h"

#define DAY ((time_t) 24 * 60 * 60)
#define T0 ((time_t) 1767225600) /* 2026-01-01T00:00:00Z */

TEST(ninety_days) {
        time_t nb = T0, na = T0 + 90 * DAY, start = policy_renewal_start(nb, na);

        CHECK_INT(start, na - 30 * DAY);
        CHECK(!policy_renewal_due(nb, na, nb));
        CHECK(!policy_renewal_due(nb, na, start - 1));
        CHECK(policy_renewal_due(nb, na, start));
        CHECK(policy_renewal_due(nb, na, start + 1));
        CHECK(policy_renewal_due(nb, na, na));
        CHECK(policy_renewal_due(nb, na, na + 365 * DAY)); /* expired */
}

TEST(forty_five_days) {
        time_t nb = T0, na = T0 + 45 * DAY;

        CHECK_INT(policy_renewal_start(nb, na), na - 15 * DAY);
        CHECK(!policy_renewal_due(nb, na, na - 15 * DAY - 1));
        CHECK(policy_renewal_due(nb, na, na - 15 * DAY));
}

TEST(six_days) {
        /* short-lived: half the lifetime */
        time_t nb = T0, na = T0 + 6 * DAY;

        CHECK_INT(policy_renewal_start(nb, na), na - 3 * DAY);
        CHECK(!policy_renewal_due(nb, na, nb + 3 * DAY - 1));
        CHECK(policy_renewal_due(nb, na, nb + 3 * DAY));
}

TEST(ten_day_boundary) {
        /* 10 days exactly is not short: a third; one second less is: a half. */
        time_t nb = T0, na = T0 + 10 * DAY;

        CHECK_INT(policy_renewal_start(nb, na), na - 10 * DAY / 3);
        CHECK_INT(policy_renewal_start(nb + 1, na), na - (10 * DAY - 1) / 2);
        CHECK(policy_renewal_start(nb + 1, na) < policy_renewal_start(nb, na));
}

TEST(odd_lifetimes) {
        /* one second, and lifetimes not divisible by 3 or 2 */
        CHECK_INT(policy_renewal_start(T0, T0 + 1), T0 + 1);
        CHECK(policy_renewal_due(T0, T0 + 1, T0 + 1));
        CHECK(!policy_renewal_due(T0, T0 + 1, T0));
        CHECK_INT(policy_renewal_start(T0, T0 + 3), T0 + 2);
        CHECK_INT(policy_renewal_start(T0, T0 + 90 * DAY + 2), T0 + 90 * DAY + 2 - 30 * DAY);
        CHECK_INT(policy_renewal_start(T0, T0 + 397 * DAY), T0 + 397 * DAY - (397 * DAY) / 3);
        /* the start is always inside the validity */
        for (time_t l = 1; l < 400 * DAY; l = l * 3 + 1) {
                time_t s = policy_renewal_start(T0, T0 + l);
                CHECK(s > T0 || l == 1);
                CHECK(s <= T0 + l);
        }
}

TEST(inverted_validity) {
        /* not_after <= not_before: due now, whatever now is */
        CHECK(policy_renewal_due(T0, T0, T0 - 100 * DAY));
        CHECK(policy_renewal_due(T0 + DAY, T0, T0 - 100 * DAY));
        CHECK(policy_renewal_due(T0 + DAY, T0, 0));
        CHECK(policy_renewal_start(T0 + DAY, T0) <= 0);
        CHECK(policy_renewal_start(T0, T0) <= 0);
        CHECK(policy_renewal_start(-5, -10) <= -10);
}

TEST(extremes) {
        /* no overflow at the ends of time_t */
        time_t lo = (time_t) INT64_MIN, hi = (time_t) INT64_MAX;
        time_t s = policy_renewal_start(lo, hi);

        CHECK(s > lo && s < hi);
        CHECK(s > 0); /* a third of the lifetime before the end is past the middle */
        CHECK(!policy_renewal_due(lo, hi, 0));
        CHECK(policy_renewal_due(lo, hi, hi));
        CHECK(policy_renewal_due(hi, lo, lo));
}

TEST_MAIN(T(ninety_days), T(forty_five_days), T(six_days), T(ten_day_boundary), T(odd_lifetimes),
          T(inverted_validity), T(extremes))
