/* SPDX-License-Identifier: MIT */
/* When to renew (DESIGN.md "Scheduling"): when a third of the lifetime remains, or half
 * of it for short-lived certificates, whose renewals must not come so late that a
 * single failed attempt lets them expire; inside the CA's ARI window when there is one,
 * but never past the emergency point; with backoff after failures and warnings that grow
 * louder as expiry nears. Randomness comes in as an argument, like the clock. */

#include <stdint.h>

#include "macro.h"
#include "policy.h"

/* The arithmetic below relies on time_t being int64_t-sized and signed. */
_Static_assert(sizeof(time_t) == sizeof(int64_t) && (time_t) -1 < 0, "time_t must be a signed 64-bit integer");
#define TIME_T_MAX ((time_t) INT64_MAX)

#define DAY_SEC ((uint64_t) 24 * 60 * 60)

/* Below this lifetime the window opens at half-life rather than with a third left. */
#define SHORT_LIFETIME ((uint64_t) 10 * DAY_SEC)

/* Without ARI, jitter is up to a JITTER_DIVISOR-th of the lifetime, at most JITTER_MAX. */
#define JITTER_DIVISOR 20
#define JITTER_MAX DAY_SEC

/* The emergency point and the ERR level: a sixth of the lifetime left. */
#define EMERGENCY_DIVISOR 6

/* The exact difference b − a of two time_t values with a <= b. Any two fit in a uint64_t,
 * and the wrap-around of unsigned arithmetic makes the subtraction exact. */
static uint64_t time_diff(time_t a, time_t b) {
        return (uint64_t) b - (uint64_t) a;
}

/* t + d, for callers that know the result fits in a time_t. d may exceed INT64_MAX (when
 * t is negative), so it is added in pieces that each fit. */
static time_t time_add_fitting(time_t t, uint64_t d) {
        while (d > (uint64_t) INT64_MAX) {
                t += (time_t) INT64_MAX;
                d -= (uint64_t) INT64_MAX;
        }
        return t + (time_t) d;
}

/* t − d, for callers that know the result fits in a time_t. */
static time_t time_sub_fitting(time_t t, uint64_t d) {
        while (d > (uint64_t) INT64_MAX) {
                t -= (time_t) INT64_MAX;
                d -= (uint64_t) INT64_MAX;
        }
        return t - (time_t) d;
}

/* t + d, or TIME_T_MAX if that does not fit. INT64_MAX − t is in [0, 2^64) for any t,
 * so its uint64_t computation is exact. */
static time_t time_add_saturating(time_t t, uint64_t d) {
        if (d > (uint64_t) INT64_MAX - (uint64_t) t)
                return TIME_T_MAX;
        return time_add_fitting(t, d);
}

time_t policy_renewal_start(time_t not_before, time_t not_after) {
        uint64_t lifetime, remaining;

        /* An empty or inverted validity is not a certificate to keep: renew at once. */
        if (not_after <= not_before)
                return not_after < 0 ? not_after : 0;

        lifetime = time_diff(not_before, not_after);
        remaining = lifetime < SHORT_LIFETIME ? lifetime / 2 : lifetime / 3;

        /* remaining <= lifetime / 2 < 2^63, and not_after - remaining >= not_before. */
        return not_after - (time_t) remaining;
}

bool policy_renewal_due(time_t not_before, time_t not_after, time_t now) {
        if (not_after <= not_before)
                return true;
        return now >= policy_renewal_start(not_before, not_after);
}

uint64_t policy_random_range(uint64_t random, uint64_t n) {
        /* The high half of the 128-bit product random · n, from 32-bit halves; no partial
         * sum can overflow (the largest, cross, is at most 2^64 − 1). */
        uint64_t r_lo = random & UINT32_MAX, r_hi = random >> 32;
        uint64_t n_lo = n & UINT32_MAX, n_hi = n >> 32;
        uint64_t lo_lo = r_lo * n_lo, hi_lo = r_hi * n_lo, lo_hi = r_lo * n_hi, hi_hi = r_hi * n_hi;
        uint64_t cross = (lo_lo >> 32) + (hi_lo & UINT32_MAX) + lo_hi;

        return hi_hi + (hi_lo >> 32) + (cross >> 32);
}

time_t policy_emergency_time(time_t not_before, time_t not_after) {
        if (not_after <= not_before)
                return policy_renewal_start(not_before, not_after);

        /* lifetime / 6 < 2^62, and not_after minus it stays above not_before. */
        return not_after - (time_t) (time_diff(not_before, not_after) / EMERGENCY_DIVISOR);
}

time_t policy_renewal_time(const PolicyInput *in, time_t now, uint64_t random) {
        uint64_t lifetime, jitter_max;
        time_t t, emergency;

        if (in->not_after <= in->not_before)
                return policy_renewal_start(in->not_before, in->not_after);

        lifetime = time_diff(in->not_before, in->not_after);
        emergency = policy_emergency_time(in->not_before, in->not_after);

        if (in->have_ari && in->ari_end > in->ari_start) {
                if (in->ari_end <= now)
                        t = now;
                else
                        /* The offset is below end − start, so the sum is below ari_end. */
                        t = time_add_fitting(in->ari_start,
                                             policy_random_range(random, time_diff(in->ari_start, in->ari_end)));
        } else {
                jitter_max = lifetime / JITTER_DIVISOR;
                if (jitter_max > JITTER_MAX)
                        jitter_max = JITTER_MAX;

                /* The start is at least lifetime / 2 after not_before and the jitter below
                 * lifetime / 20, so this stays after not_before; the check is for clarity. */
                t = time_sub_fitting(policy_renewal_start(in->not_before, in->not_after),
                                     policy_random_range(random, jitter_max));
                if (t < in->not_before)
                        t = in->not_before;
        }

        return t < emergency ? t : emergency;
}

uint64_t policy_backoff_usec(unsigned consecutive_failures, uint64_t random) {
        uint64_t base = POLICY_BACKOFF_FIRST_SEC * USEC_PER_SEC, spread;

        if (consecutive_failures == 0)
                return 0;

        /* Stop multiplying once capped, so any number of failures is safe. */
        for (unsigned i = 1; i < consecutive_failures && base < POLICY_BACKOFF_MAX_SEC * USEC_PER_SEC; i++)
                base *= 10;
        if (base > POLICY_BACKOFF_MAX_SEC * USEC_PER_SEC)
                base = POLICY_BACKOFF_MAX_SEC * USEC_PER_SEC;

        spread = base / 10;
        return base - spread + policy_random_range(random, 2 * spread + 1);
}

time_t policy_next_attempt(unsigned failures, time_t now, bool have_retry_after, uint64_t retry_after_sec,
                           bool rate_limited, uint64_t random) {
        uint64_t usec, delay;

        if (rate_limited && !have_retry_after && failures < POLICY_RATE_LIMITED_MIN_FAILURES)
                failures = POLICY_RATE_LIMITED_MIN_FAILURES;

        usec = policy_backoff_usec(failures, random);
        delay = usec / USEC_PER_SEC + (usec % USEC_PER_SEC != 0);

        if (have_retry_after) {
                if (retry_after_sec > POLICY_RETRY_AFTER_MAX_SEC)
                        retry_after_sec = POLICY_RETRY_AFTER_MAX_SEC;
                if (retry_after_sec > delay)
                        delay = retry_after_sec;
        }

        return time_add_saturating(now, delay);
}

PolicyLevel policy_expiry_level(time_t not_before, time_t not_after, time_t now) {
        uint64_t lifetime, remaining;

        if (not_after <= not_before || now >= not_after)
                return POLICY_LEVEL_CRIT;

        lifetime = time_diff(not_before, not_after);
        remaining = time_diff(now, not_after);

        if (remaining <= DAY_SEC)
                return POLICY_LEVEL_CRIT;
        if (remaining <= lifetime / EMERGENCY_DIVISOR)
                return POLICY_LEVEL_ERR;
        if (remaining <= lifetime / 3)
                return POLICY_LEVEL_WARNING;
        if (remaining <= lifetime / 2)
                return POLICY_LEVEL_NOTICE;
        return POLICY_LEVEL_INFO;
}

unsigned policy_failure_notify(unsigned notified, int64_t days_left, const unsigned *thresholds, size_t n) {
        unsigned level = POLICY_NOTIFY_ABOVE;

        /* No certificate at all is as urgent as it gets: the lowest threshold, or 1. */
        if (days_left == POLICY_NO_EXPIRY)
                days_left = -1;
        for (size_t i = 0; i < n; i++)
                if (thresholds[i] > 0 && days_left <= (int64_t) thresholds[i] && thresholds[i] < level)
                        level = thresholds[i];
        if (level == POLICY_NOTIFY_ABOVE && days_left < 0)
                level = 1; /* expired or missing with no threshold: still louder than "above" */
        if (notified == 0 || level < notified)
                return level;
        return 0;
}
