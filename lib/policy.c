/* SPDX-License-Identifier: MIT */
/* When to renew (DESIGN.md "Scheduling"): when a third of the lifetime remains, or half
 * of it for short-lived certificates, whose renewals must not come so late that a
 * single failed attempt lets them expire. ARI windows and jitter are the caller's. */

#include <stdint.h>

#include "policy.h"

/* Below this lifetime the window opens at half-life rather than with a third left. */
#define SHORT_LIFETIME ((uint64_t) 10 * 24 * 60 * 60)

time_t policy_renewal_start(time_t not_before, time_t not_after) {
        uint64_t lifetime, remaining;

        /* An empty or inverted validity is not a certificate to keep: renew at once. */
        if (not_after <= not_before)
                return not_after < 0 ? not_after : 0;

        /* The difference of two time_t may not fit in one; it does fit in a uint64_t. */
        lifetime = (uint64_t) not_after - (uint64_t) not_before;
        remaining = lifetime < SHORT_LIFETIME ? lifetime / 2 : lifetime / 3;

        /* remaining <= lifetime / 2 < 2^63, and not_after - remaining >= not_before. */
        return not_after - (time_t) remaining;
}

bool policy_renewal_due(time_t not_before, time_t not_after, time_t now) {
        if (not_after <= not_before)
                return true;
        return now >= policy_renewal_start(not_before, not_after);
}
