/* SPDX-License-Identifier: MIT */
#pragma once

/* When to renew: pure functions of their inputs, the clock included. */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* The start of the renewal window of a certificate valid from not_before to not_after:
 * when one third of the lifetime remains, or one half for lifetimes under 10 days (so a
 * 90-day certificate renews 30 days before expiry, a 6-day one 3 days before). A validity
 * with not_after <= not_before is due at once: the start returned is then the epoch (or
 * not_after, if that is earlier), before any real "now". */
time_t policy_renewal_start(time_t not_before, time_t not_after);

/* True if a certificate with this validity is due for renewal at now: now is at or past
 * policy_renewal_start(), or the validity is empty or inverted. */
bool policy_renewal_due(time_t not_before, time_t not_after, time_t now);
