/* SPDX-License-Identifier: MIT */
#include "macro.h"
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

#define HOUR ((time_t) 60 * 60)
#define MID (UINT64_C(1) << 63) /* u = 1/2 */
#define USEC UINT64_C(1000000)

TEST(random_range) {
        CHECK(policy_random_range(0, 0) == 0);
        CHECK(policy_random_range(UINT64_MAX, 0) == 0);
        CHECK(policy_random_range(UINT64_MAX, 1) == 0);
        CHECK(policy_random_range(0, 1000) == 0);
        CHECK(policy_random_range(UINT64_MAX, 1000) == 999);
        CHECK(policy_random_range(MID, 1000) == 500);
        CHECK(policy_random_range(MID, 1001) == 500);
        CHECK(policy_random_range(UINT64_C(1) << 62, 1000) == 250);
        CHECK(policy_random_range(UINT64_MAX, UINT64_MAX) == UINT64_MAX - 1);
        CHECK(policy_random_range(MID, UINT64_MAX) == (UINT64_C(1) << 63) - 1);
        CHECK(policy_random_range(UINT64_MAX, UINT64_C(1) << 32) == UINT32_MAX);
        CHECK(policy_random_range(UINT64_C(0xC000000000000000), UINT64_MAX) == UINT64_C(13835058055282163711));
        /* always below n, and growing with random */
        for (uint64_t n = 1; n < UINT64_MAX / 7; n = n * 7 + 3) {
                uint64_t prev = 0;
                for (uint64_t r = 0; r < UINT64_MAX / 5; r = r * 5 + 1) {
                        uint64_t v = policy_random_range(r, n);
                        CHECK(v < n);
                        CHECK(v >= prev);
                        prev = v;
                }
        }
}

TEST(emergency_time) {
        CHECK_INT(policy_emergency_time(T0, T0 + 90 * DAY), T0 + 75 * DAY);
        CHECK_INT(policy_emergency_time(T0, T0 + 45 * DAY), T0 + 45 * DAY - 7 * DAY - DAY / 2);
        CHECK_INT(policy_emergency_time(T0, T0 + 6 * DAY), T0 + 5 * DAY);
        CHECK_INT(policy_emergency_time(T0, T0 + 1), T0 + 1);
        CHECK(policy_emergency_time(T0, T0) <= 0);
        CHECK(policy_emergency_time(T0 + DAY, T0) <= 0);
        /* after the lifetime rule's start */
        for (time_t l = 1; l < 400 * DAY; l = l * 3 + 1)
                CHECK(policy_emergency_time(T0, T0 + l) >= policy_renewal_start(T0, T0 + l));
}

/* The lifetime rule for a certificate of the given lifetime issued at T0, with no ARI. */
static time_t no_ari(time_t lifetime, uint64_t random) {
        PolicyInput in = { .not_before = T0, .not_after = T0 + lifetime };
        return policy_renewal_time(&in, T0, random);
}

TEST(renewal_time_without_ari) {
        /* 90 days: 30 days before expiry, minus up to a day of jitter */
        CHECK_INT(no_ari(90 * DAY, 0), T0 + 60 * DAY);
        CHECK_INT(no_ari(90 * DAY, MID), T0 + 60 * DAY - DAY / 2);
        CHECK_INT(no_ari(90 * DAY, UINT64_MAX), T0 + 60 * DAY - DAY + 1);
        /* 45 days: 15 days before, a twentieth is more than a day: a day */
        CHECK_INT(no_ari(45 * DAY, 0), T0 + 30 * DAY);
        CHECK_INT(no_ari(45 * DAY, UINT64_MAX), T0 + 30 * DAY - DAY + 1);
        /* 6 days: half-life, jitter up to a twentieth of the lifetime (7.2 h) */
        CHECK_INT(no_ari(6 * DAY, 0), T0 + 3 * DAY);
        CHECK_INT(no_ari(6 * DAY, MID), T0 + 3 * DAY - 6 * DAY / 40);
        CHECK_INT(no_ari(6 * DAY, UINT64_MAX), T0 + 3 * DAY - 6 * DAY / 20 + 1);
        /* under 20 s there is nothing to jitter */
        CHECK_INT(no_ari(19, UINT64_MAX), T0 + 19 - 9);
        CHECK_INT(no_ari(1, UINT64_MAX), T0 + 1);

        /* a failed ARI (have_ari false) ignores whatever window is left in the input */
        PolicyInput in = {
                .not_before = T0, .not_after = T0 + 90 * DAY,
                .have_ari = false, .ari_start = T0 + DAY, .ari_end = T0 + 2 * DAY,
        };
        CHECK_INT(policy_renewal_time(&in, T0, 0), T0 + 60 * DAY);
        /* as does a window that is not one */
        in.have_ari = true;
        in.ari_start = in.ari_end = T0 + DAY;
        CHECK_INT(policy_renewal_time(&in, T0, 0), T0 + 60 * DAY);
        in.ari_end = T0;
        CHECK_INT(policy_renewal_time(&in, T0, 0), T0 + 60 * DAY);

        /* now does not matter without ARI */
        in = (PolicyInput) { .not_before = T0, .not_after = T0 + 90 * DAY };
        CHECK_INT(policy_renewal_time(&in, T0 + 80 * DAY, 0), T0 + 60 * DAY);
        CHECK_INT(policy_renewal_time(&in, T0 - 365 * DAY, 0), T0 + 60 * DAY);

        /* bounds for every lifetime: not before not_before, not after the lifetime rule */
        for (time_t l = 1; l < 800 * DAY; l = l * 2 + 1)
                for (uint64_t r = 0; r < UINT64_MAX / 3; r = r * 3 + 1) {
                        time_t t = no_ari(l, r);
                        CHECK(t >= T0);
                        CHECK(t <= policy_renewal_start(T0, T0 + l));
                        CHECK(t <= policy_emergency_time(T0, T0 + l));
                        CHECK(policy_renewal_start(T0, T0 + l) - t < DAY);
                }
}

TEST(renewal_time_jitter_spreads) {
        /* certificates issued together are spread over the jitter range */
        time_t lo = no_ari(90 * DAY, 0), hi = lo;
        uint64_t r = 0x9e3779b97f4a7c15;

        for (int i = 0; i < 1000; i++) {
                time_t t;
                r = r * 6364136223846793005ULL + 1442695040888963407ULL;
                t = no_ari(90 * DAY, r);
                lo = t < lo ? t : lo;
                hi = t > hi ? t : hi;
        }
        CHECK(hi - lo > DAY * 9 / 10);
        CHECK(hi - lo < DAY);
}

TEST(renewal_time_with_ari) {
        time_t nb = T0, na = T0 + 90 * DAY;
        PolicyInput in = {
                .not_before = nb, .not_after = na,
                .have_ari = true, .ari_start = nb + 55 * DAY, .ari_end = nb + 57 * DAY,
        };

        /* a window in the future: uniformly inside it */
        CHECK_INT(policy_renewal_time(&in, nb, 0), nb + 55 * DAY);
        CHECK_INT(policy_renewal_time(&in, nb, MID), nb + 56 * DAY);
        CHECK_INT(policy_renewal_time(&in, nb, UINT64_MAX), nb + 57 * DAY - 1);
        /* the window may be after the lifetime rule's start: ARI wins up to the emergency point */
        in.ari_start = nb + 70 * DAY;
        in.ari_end = nb + 72 * DAY;
        CHECK_INT(policy_renewal_time(&in, nb, 0), nb + 70 * DAY);
        CHECK_INT(policy_renewal_time(&in, nb, UINT64_MAX), nb + 72 * DAY - 1);
        /* a one-second window */
        in.ari_end = in.ari_start + 1;
        CHECK_INT(policy_renewal_time(&in, nb, UINT64_MAX), nb + 70 * DAY);

        /* a window entirely in the past: now */
        in.ari_start = nb + 10 * DAY;
        in.ari_end = nb + 11 * DAY;
        CHECK_INT(policy_renewal_time(&in, nb + 20 * DAY, 0), nb + 20 * DAY);
        CHECK_INT(policy_renewal_time(&in, nb + 20 * DAY, UINT64_MAX), nb + 20 * DAY);
        CHECK_INT(policy_renewal_time(&in, nb + 11 * DAY, UINT64_MAX), nb + 11 * DAY); /* end is exclusive */
        /* partly past: a point in the window, which may be past (renew at once) */
        CHECK_INT(policy_renewal_time(&in, nb + 10 * DAY + HOUR, 0), nb + 10 * DAY);
        CHECK_INT(policy_renewal_time(&in, nb + 10 * DAY + HOUR, UINT64_MAX), nb + 11 * DAY - 1);
        /* a past window while the certificate is past its emergency point: still at once */
        CHECK_INT(policy_renewal_time(&in, nb + 80 * DAY, 0), nb + 75 * DAY);
        /* a window before the certificate was even issued (a CA asking for a replacement) */
        in.ari_start = nb - 2 * DAY;
        in.ari_end = nb - DAY;
        CHECK_INT(policy_renewal_time(&in, nb, 0), nb);
}

TEST(renewal_time_emergency) {
        /* ARI suggesting a window after the emergency point: the emergency point wins */
        PolicyInput in = {
                .not_before = T0, .not_after = T0 + 90 * DAY,
                .have_ari = true, .ari_start = T0 + 80 * DAY, .ari_end = T0 + 85 * DAY,
        };
        CHECK_INT(policy_renewal_time(&in, T0, 0), T0 + 75 * DAY);
        CHECK_INT(policy_renewal_time(&in, T0, UINT64_MAX), T0 + 75 * DAY);
        /* straddling it: before it the window's point, after it the emergency point */
        in.ari_start = T0 + 74 * DAY;
        in.ari_end = T0 + 76 * DAY;
        CHECK_INT(policy_renewal_time(&in, T0, 0), T0 + 74 * DAY);
        CHECK_INT(policy_renewal_time(&in, T0, MID), T0 + 75 * DAY);
        CHECK_INT(policy_renewal_time(&in, T0, UINT64_MAX), T0 + 75 * DAY);
        /* a window after expiry */
        in.ari_start = T0 + 100 * DAY;
        in.ari_end = T0 + 200 * DAY;
        CHECK_INT(policy_renewal_time(&in, T0, MID), T0 + 75 * DAY);

        /* 6 days: the emergency point is at 1 day left */
        in = (PolicyInput) {
                .not_before = T0, .not_after = T0 + 6 * DAY,
                .have_ari = true, .ari_start = T0 + 5 * DAY + HOUR, .ari_end = T0 + 6 * DAY,
        };
        CHECK_INT(policy_renewal_time(&in, T0, 0), T0 + 5 * DAY);
        /* 45 days: at 7.5 days left */
        in = (PolicyInput) {
                .not_before = T0, .not_after = T0 + 45 * DAY,
                .have_ari = true, .ari_start = T0 + 40 * DAY, .ari_end = T0 + 41 * DAY,
        };
        CHECK_INT(policy_renewal_time(&in, T0, 0), T0 + 45 * DAY - 7 * DAY - DAY / 2);

        /* whatever the window and random, never after the emergency point */
        for (time_t s = T0 - 10 * DAY; s < T0 + 120 * DAY; s += 7 * DAY + 1234)
                for (uint64_t r = 0; r < UINT64_MAX / 3; r = r * 3 + 1) {
                        in = (PolicyInput) {
                                .not_before = T0, .not_after = T0 + 90 * DAY,
                                .have_ari = true, .ari_start = s, .ari_end = s + 3 * DAY,
                        };
                        CHECK(policy_renewal_time(&in, T0, r) <= T0 + 75 * DAY);
                }
}

TEST(renewal_time_degenerate) {
        PolicyInput in = { .not_before = T0, .not_after = T0 };

        /* an empty or inverted validity: due at once, ARI or not */
        CHECK(policy_renewal_time(&in, T0, UINT64_MAX) <= 0);
        in.not_before = T0 + DAY;
        CHECK(policy_renewal_time(&in, T0, 0) <= 0);
        in.have_ari = true;
        in.ari_start = T0 + 10 * DAY;
        in.ari_end = T0 + 11 * DAY;
        CHECK(policy_renewal_time(&in, T0, 0) <= 0);
}

TEST(renewal_time_extremes) {
        /* the widest validity and window time_t allows: no overflow anywhere */
        time_t lo = (time_t) INT64_MIN, hi = (time_t) INT64_MAX;
        time_t emergency = policy_emergency_time(lo, hi);
        PolicyInput in = { .not_before = lo, .not_after = hi, .have_ari = true, .ari_start = lo, .ari_end = hi };

        CHECK_INT(emergency, INT64_C(6148914691236517205));
        CHECK_INT(policy_renewal_time(&in, 0, 0), lo);
        CHECK_INT(policy_renewal_time(&in, 0, MID), -1);
        /* an offset above INT64_MAX from ari_start */
        CHECK_INT(policy_renewal_time(&in, 0, UINT64_C(0xC000000000000000)), (INT64_C(1) << 62) - 1);
        CHECK_INT(policy_renewal_time(&in, 0, UINT64_MAX), emergency);
        CHECK_INT(policy_renewal_time(&in, hi, 0), emergency); /* window over: now, capped */

        in.have_ari = false;
        CHECK(policy_renewal_time(&in, 0, 0) == policy_renewal_start(lo, hi));
        CHECK_INT(policy_renewal_time(&in, 0, UINT64_MAX), policy_renewal_start(lo, hi) - (DAY - 1));

        in = (PolicyInput) { .not_before = hi - 90 * DAY, .not_after = hi, .have_ari = true,
                             .ari_start = hi - 1, .ari_end = hi };
        CHECK_INT(policy_renewal_time(&in, lo, UINT64_MAX), hi - 15 * DAY);
        in = (PolicyInput) { .not_before = lo, .not_after = lo + 90 * DAY };
        CHECK_INT(policy_renewal_time(&in, hi, UINT64_MAX), lo + 60 * DAY - (DAY - 1));
}

TEST(backoff_sequence) {
        /* random = 2^63 is the middle of the ±10 % range: the base exactly */
        static const uint64_t base_sec[] = {
                0, 60, 600, 6000, 60000, 86400, 86400, 86400, 86400, 86400, 86400, 86400, 86400,
        };

        for (unsigned f = 0; f < ELEMENTSOF(base_sec); f++) {
                CHECK_INT(policy_backoff_usec(f, MID), base_sec[f] * USEC);
                /* random 0 is the bottom (−10 %), UINT64_MAX the top (+10 %) */
                CHECK_INT(policy_backoff_usec(f, 0), base_sec[f] * USEC / 10 * 9);
                CHECK_INT(policy_backoff_usec(f, UINT64_MAX), base_sec[f] * USEC / 10 * 11);
        }
        /* failures well beyond 10: still a day, no overflow */
        CHECK_INT(policy_backoff_usec(11, MID), 86400 * USEC);
        CHECK_INT(policy_backoff_usec(64, MID), 86400 * USEC);
        CHECK_INT(policy_backoff_usec(1000, MID), 86400 * USEC);
        CHECK_INT(policy_backoff_usec(UINT32_MAX, MID), 86400 * USEC);
        CHECK_INT(policy_backoff_usec(UINT32_MAX, UINT64_MAX), 95040 * USEC);

        /* any random stays within ±10 % */
        for (unsigned f = 1; f < 8; f++)
                for (uint64_t r = 0; r < UINT64_MAX / 3; r = r * 3 + 1) {
                        uint64_t b = base_sec[f] * USEC, d = policy_backoff_usec(f, r);
                        CHECK(d >= b - b / 10 && d <= b + b / 10);
                }
}

TEST(next_attempt) {
        const time_t now = T0 + 12345;

        /* no failure, no Retry-After: now */
        CHECK_INT(policy_next_attempt(0, now, false, 0, false, MID), now);
        /* the backoff alone */
        CHECK_INT(policy_next_attempt(1, now, false, 0, false, MID), now + 60);
        CHECK_INT(policy_next_attempt(1, now, false, 0, false, 0), now + 54);
        CHECK_INT(policy_next_attempt(1, now, false, 0, false, UINT64_MAX), now + 66);
        CHECK_INT(policy_next_attempt(2, now, false, 0, false, MID), now + 600);
        CHECK_INT(policy_next_attempt(3, now, false, 0, false, MID), now + 6000);
        CHECK_INT(policy_next_attempt(4, now, false, 0, false, MID), now + 60000);
        CHECK_INT(policy_next_attempt(5, now, false, 0, false, MID), now + DAY);
        CHECK_INT(policy_next_attempt(50, now, false, 0, false, MID), now + DAY);
        /* a backoff that is not whole seconds rounds up: 60.000001 s → 61 s */
        CHECK_INT(policy_backoff_usec(1, UINT64_C(0x800000b2f4fb1000)), 60 * USEC + 1);
        CHECK_INT(policy_next_attempt(1, now, false, 0, false, UINT64_C(0x800000b2f4fb1000)), now + 61);

        /* Retry-After: the later of it and the backoff */
        CHECK_INT(policy_next_attempt(1, now, true, 3600, false, MID), now + 3600);
        CHECK_INT(policy_next_attempt(3, now, true, 10, false, MID), now + 6000);
        CHECK_INT(policy_next_attempt(0, now, true, 10, false, MID), now + 10);
        CHECK_INT(policy_next_attempt(0, now, true, 0, false, MID), now);
        /* capped at 7 days */
        CHECK_INT(policy_next_attempt(1, now, true, 7 * DAY, false, MID), now + 7 * DAY);
        CHECK_INT(policy_next_attempt(1, now, true, 7 * DAY + 1, false, MID), now + 7 * DAY);
        CHECK_INT(policy_next_attempt(1, now, true, 30 * DAY, false, MID), now + 7 * DAY);
        CHECK_INT(policy_next_attempt(1, now, true, UINT64_MAX, false, MID), now + 7 * DAY);

        /* rateLimited without Retry-After: at least the 3rd step, 100 min ± 10 %, never under an hour */
        CHECK_INT(policy_next_attempt(0, now, false, 0, true, MID), now + 6000);
        CHECK_INT(policy_next_attempt(1, now, false, 0, true, MID), now + 6000);
        CHECK_INT(policy_next_attempt(1, now, false, 0, true, 0), now + 5400);
        CHECK_INT(policy_next_attempt(4, now, false, 0, true, MID), now + 60000);
        CHECK_INT(policy_next_attempt(9, now, false, 0, true, MID), now + DAY);
        for (uint64_t r = 0; r < UINT64_MAX / 3; r = r * 3 + 1)
                CHECK(policy_next_attempt(1, now, false, 0, true, r) >= now + HOUR);
        /* rateLimited with Retry-After: the server says when it lifts */
        CHECK_INT(policy_next_attempt(1, now, true, 120, true, MID), now + 120);
        CHECK_INT(policy_next_attempt(1, now, true, 5 * HOUR, true, MID), now + 5 * HOUR);

        /* saturates at the end of time */
        CHECK_INT(policy_next_attempt(5, (time_t) INT64_MAX - 10, false, 0, false, MID), INT64_MAX);
        CHECK_INT(policy_next_attempt(1, (time_t) INT64_MAX, true, UINT64_MAX, true, UINT64_MAX), INT64_MAX);
        CHECK_INT(policy_next_attempt(5, (time_t) INT64_MIN, false, 0, false, MID), INT64_MIN + DAY);
}

TEST(expiry_levels) {
        /* 90 days: INFO > 45 d ≥ NOTICE > 30 d ≥ WARNING > 15 d ≥ ERR > 1 d ≥ CRIT */
        time_t nb = T0, na = T0 + 90 * DAY;

        CHECK_INT(policy_expiry_level(nb, na, nb - DAY), POLICY_LEVEL_INFO); /* not yet valid */
        CHECK_INT(policy_expiry_level(nb, na, nb), POLICY_LEVEL_INFO);
        CHECK_INT(policy_expiry_level(nb, na, na - 45 * DAY - 1), POLICY_LEVEL_INFO);
        CHECK_INT(policy_expiry_level(nb, na, na - 45 * DAY), POLICY_LEVEL_NOTICE);
        CHECK_INT(policy_expiry_level(nb, na, na - 30 * DAY - 1), POLICY_LEVEL_NOTICE);
        CHECK_INT(policy_expiry_level(nb, na, na - 30 * DAY), POLICY_LEVEL_WARNING);
        CHECK_INT(policy_expiry_level(nb, na, na - 15 * DAY - 1), POLICY_LEVEL_WARNING);
        CHECK_INT(policy_expiry_level(nb, na, na - 15 * DAY), POLICY_LEVEL_ERR);
        CHECK_INT(policy_expiry_level(nb, na, na - DAY - 1), POLICY_LEVEL_ERR);
        CHECK_INT(policy_expiry_level(nb, na, na - DAY), POLICY_LEVEL_CRIT);
        CHECK_INT(policy_expiry_level(nb, na, na - 1), POLICY_LEVEL_CRIT);
        CHECK_INT(policy_expiry_level(nb, na, na), POLICY_LEVEL_CRIT);
        CHECK_INT(policy_expiry_level(nb, na, na + 365 * DAY), POLICY_LEVEL_CRIT);

        /* 45 days: 22.5 d, 15 d, 7.5 d, 1 d */
        na = T0 + 45 * DAY;
        CHECK_INT(policy_expiry_level(nb, na, na - 45 * DAY / 2 - 1), POLICY_LEVEL_INFO);
        CHECK_INT(policy_expiry_level(nb, na, na - 45 * DAY / 2), POLICY_LEVEL_NOTICE);
        CHECK_INT(policy_expiry_level(nb, na, na - 15 * DAY), POLICY_LEVEL_WARNING);
        CHECK_INT(policy_expiry_level(nb, na, na - 45 * DAY / 6 - 1), POLICY_LEVEL_WARNING);
        CHECK_INT(policy_expiry_level(nb, na, na - 45 * DAY / 6), POLICY_LEVEL_ERR);
        CHECK_INT(policy_expiry_level(nb, na, na - DAY), POLICY_LEVEL_CRIT);

        /* 6 days: 3 d, 2 d, then the day-left rule overtakes the sixth */
        na = T0 + 6 * DAY;
        CHECK_INT(policy_expiry_level(nb, na, na - 3 * DAY - 1), POLICY_LEVEL_INFO);
        CHECK_INT(policy_expiry_level(nb, na, na - 3 * DAY), POLICY_LEVEL_NOTICE);
        CHECK_INT(policy_expiry_level(nb, na, na - 2 * DAY - 1), POLICY_LEVEL_NOTICE);
        CHECK_INT(policy_expiry_level(nb, na, na - 2 * DAY), POLICY_LEVEL_WARNING);
        CHECK_INT(policy_expiry_level(nb, na, na - DAY - 1), POLICY_LEVEL_WARNING);
        CHECK_INT(policy_expiry_level(nb, na, na - DAY), POLICY_LEVEL_CRIT);

        /* a short validity is critical as a whole */
        CHECK_INT(policy_expiry_level(T0, T0 + HOUR, T0), POLICY_LEVEL_CRIT);
        /* empty or inverted: unusable */
        CHECK_INT(policy_expiry_level(T0, T0, T0 - DAY), POLICY_LEVEL_CRIT);
        CHECK_INT(policy_expiry_level(T0 + DAY, T0, T0 - DAY), POLICY_LEVEL_CRIT);

        /* the ends of time */
        CHECK_INT(policy_expiry_level((time_t) INT64_MIN, (time_t) INT64_MAX, (time_t) INT64_MIN), POLICY_LEVEL_INFO);
        CHECK_INT(policy_expiry_level((time_t) INT64_MIN, (time_t) INT64_MAX, 0), POLICY_LEVEL_NOTICE);
        CHECK_INT(policy_expiry_level((time_t) INT64_MIN, (time_t) INT64_MAX, (time_t) INT64_MAX), POLICY_LEVEL_CRIT);

        /* louder as time passes, for each lifetime */
        for (time_t l = 2 * HOUR; l < 400 * DAY; l = l * 2 + 1) {
                PolicyLevel prev = POLICY_LEVEL_INFO;
                for (time_t now = T0 - DAY; now <= T0 + l + DAY; now += l / 97 + 1) {
                        PolicyLevel v = policy_expiry_level(T0, T0 + l, now);
                        CHECK(v >= prev);
                        prev = v;
                }
                CHECK_INT(prev, POLICY_LEVEL_CRIT);
        }
}


TEST(failure_notify) {
        const unsigned th[] = { 14, 7, 3, 1 };
        /* first failure of a streak: always, at the level of the days left */
        CHECK_INT(policy_failure_notify(0, 40, th, 4), POLICY_NOTIFY_ABOVE);
        CHECK_INT(policy_failure_notify(0, 10, th, 4), 14);
        CHECK_INT(policy_failure_notify(0, 2, th, 4), 3);
        /* again only when a lower threshold is reached */
        CHECK_INT(policy_failure_notify(POLICY_NOTIFY_ABOVE, 30, th, 4), 0);
        CHECK_INT(policy_failure_notify(POLICY_NOTIFY_ABOVE, 14, th, 4), 14);
        CHECK_INT(policy_failure_notify(14, 12, th, 4), 0);
        CHECK_INT(policy_failure_notify(14, 7, th, 4), 7);
        CHECK_INT(policy_failure_notify(7, 6, th, 4), 0);
        CHECK_INT(policy_failure_notify(7, 0, th, 4), 1);
        CHECK_INT(policy_failure_notify(1, -3, th, 4), 0);
        /* a jump over several thresholds runs once, at the lowest */
        CHECK_INT(policy_failure_notify(POLICY_NOTIFY_ABOVE, 2, th, 4), 3);
        /* no certificate: as urgent as expired */
        CHECK_INT(policy_failure_notify(0, POLICY_NO_EXPIRY, th, 4), 1);
        CHECK_INT(policy_failure_notify(1, POLICY_NO_EXPIRY, th, 4), 0);
        /* no thresholds: the first failure only, and once more when expired */
        CHECK_INT(policy_failure_notify(0, 50, NULL, 0), POLICY_NOTIFY_ABOVE);
        CHECK_INT(policy_failure_notify(POLICY_NOTIFY_ABOVE, 5, NULL, 0), 0);
        CHECK_INT(policy_failure_notify(POLICY_NOTIFY_ABOVE, -1, NULL, 0), 1);
        /* thresholds in any order */
        const unsigned un[] = { 3, 30, 10 };
        CHECK_INT(policy_failure_notify(30, 9, un, 3), 10);
}

TEST_MAIN(T(failure_notify), T(ninety_days), T(forty_five_days), T(six_days), T(ten_day_boundary), T(odd_lifetimes),
          T(inverted_validity), T(extremes), T(random_range), T(emergency_time), T(renewal_time_without_ari),
          T(renewal_time_jitter_spreads), T(renewal_time_with_ari), T(renewal_time_emergency),
          T(renewal_time_degenerate), T(renewal_time_extremes), T(backoff_sequence), T(next_attempt),
          T(expiry_levels))
