/* SPDX-License-Identifier: MIT */
#pragma once

/* When to renew, when to retry, how loudly to warn: pure functions of their inputs, the
 * clock and randomness included. Callers pass now and a 64-bit random value, so the same
 * inputs always give the same answer and tests need neither a clock nor a seed.
 *
 * How a random value becomes a choice (policy_random_range()): it is read as the fraction
 * u = random / 2^64 of [0, 1), and a choice among n values is floor(u * n). random = 0
 * gives the lowest choice, UINT64_MAX the highest, 2^63 the middle one.
 *
 * Times are time_t seconds and every function is safe across the whole time_t range:
 * differences are taken in uint64_t (where any two time_t values fit), results are
 * computed only where they provably fit, and sums that could overflow saturate. */

#include <stdbool.h>
#include <stddef.h>
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

/* floor(random * n / 2^64): a value in [0, n) (0 when n is 0) that grows with random. */
uint64_t policy_random_range(uint64_t random, uint64_t n);

/* The emergency point: when one sixth of the lifetime remains (15 days for 90-day
 * certificates, 1 day for 6-day ones). From there on a certificate renews whatever the
 * CA's renewal information says, and failures are errors (policy_expiry_level()). An
 * empty or inverted validity gives the same as policy_renewal_start(). */
time_t policy_emergency_time(time_t not_before, time_t not_after);

typedef struct PolicyInput {
        time_t not_before, not_after;   /* of the current certificate */
        bool have_ari;                  /* a valid ARI window is known (false if ARI failed) */
        time_t ari_start, ari_end;      /* the suggested window [start, end) */
} PolicyInput;

/* When to renew the certificate in. The result may lie in the past: callers renew at once
 * then. Pass the same random for the same certificate (e.g. one drawn and kept when the
 * certificate is installed), so that the time does not move each time it is computed.
 *
 * With ARI: a point uniformly in [ari_start, ari_end) (random 0 → ari_start, UINT64_MAX →
 * ari_end - 1). A window that has entirely passed (ari_end <= now) gives now. A window with
 * ari_end <= ari_start is no window: the lifetime rule applies.
 *
 * Without ARI: policy_renewal_start() minus a jitter uniformly in [0, J), with J one
 * twentieth of the lifetime but at most one day (1 day for 90- and 45-day certificates,
 * 7.2 h for 6-day ones); random 0 means no jitter. Jitter only ever makes renewal earlier,
 * so the lifetime rule's margin is kept, and spreads certificates issued together over
 * up to a day. The result is never before not_before.
 *
 * In every case the result is no later than policy_emergency_time(): a certificate close
 * to expiry renews regardless of ARI. An empty or inverted validity gives
 * policy_renewal_start() (due at once). */
time_t policy_renewal_time(const PolicyInput *in, time_t now, uint64_t random);

/* Backoff after failed attempts. */
#define POLICY_BACKOFF_FIRST_SEC ((uint64_t) 60)                /* after the 1st failure */
#define POLICY_BACKOFF_MAX_SEC ((uint64_t) 24 * 3600)           /* at most once a day */
#define POLICY_RETRY_AFTER_MAX_SEC ((uint64_t) 7 * 24 * 3600)   /* longest Retry-After kept */
#define POLICY_RATE_LIMITED_MIN_FAILURES 3U                     /* see policy_next_attempt() */

/* The delay before the next attempt after consecutive_failures failures in a row, in
 * microseconds: 0 without failures; else a base of 1 min after the first, ×10 for each
 * further one, capped at 1 day (1 min, 10 min, 100 min, 1000 min, then 1 day for the
 * 5th failure and every one after), with a jitter of ±10 % of the base:
 *     base − base/10 + policy_random_range(random, 2·(base/10) + 1)
 * random 0 gives exactly 90 % of the base, 2^63 exactly the base, UINT64_MAX exactly
 * 110 %. */
uint64_t policy_backoff_usec(unsigned consecutive_failures, uint64_t random);

/* When to attempt again after failures failures in a row at now: the later of the backoff
 * (policy_backoff_usec(), rounded up to whole seconds) and the server's Retry-After if it
 * sent one (have_retry_after), which is honoured up to POLICY_RETRY_AFTER_MAX_SEC (7 days)
 * so a bogus value cannot silence a certificate for good. A rateLimited problem without a
 * Retry-After counts as at least POLICY_RATE_LIMITED_MIN_FAILURES failures: at least
 * 100 min ± 10 % (never less than 90 min), as a rate limit does not lift in a minute; with
 * a Retry-After, the server knows when it lifts and the usual rule applies. With no failure
 * and no Retry-After the answer is now. Saturates at the largest time_t. The expiry is not
 * looked at: a certificate near its end is the caller's to escalate. */
time_t policy_next_attempt(unsigned failures, time_t now, bool have_retry_after, uint64_t retry_after_sec,
                           bool rate_limited, uint64_t random);

/* How loudly to report a certificate that is not renewed yet (e.g. after a failed
 * attempt), from the share of its lifetime L that remains at now, r = not_after − now:
 *
 *     r > L/2                      POLICY_LEVEL_INFO     not due yet
 *     L/3 < r ≤ L/2                POLICY_LEVEL_NOTICE   early (an ARI window, a short-lived
 *                                                        certificate's window)
 *     L/6 < r ≤ L/3                POLICY_LEVEL_WARNING  a normal renewal is failing
 *     1 day < r ≤ L/6              POLICY_LEVEL_ERR      past the emergency point
 *     r ≤ 1 day, expired,          POLICY_LEVEL_CRIT     about to lapse, or unusable
 *     or not_after ≤ not_before
 *
 * Fractions round down (r ≤ floor(L/3), …). Where rows overlap the louder one wins, so a
 * 6-day certificate goes from WARNING (2 days left) straight to CRIT (1 day left).
 * The levels are ordered: a later one is louder. */
typedef enum PolicyLevel {
        POLICY_LEVEL_INFO,
        POLICY_LEVEL_NOTICE,
        POLICY_LEVEL_WARNING,
        POLICY_LEVEL_ERR,
        POLICY_LEVEL_CRIT,
} PolicyLevel;

PolicyLevel policy_expiry_level(time_t not_before, time_t not_after, time_t now);

/* Whether on_failure runs after a failed attempt. It runs at the first failure of a streak
 * (notified == 0), and again each time the days left fall to or below a threshold lower
 * than the one last notified. thresholds: n day counts, any order. days_left: whole days
 * until expiry (negative once expired; use POLICY_NO_EXPIRY when there is no certificate).
 * Returns the level to remember as notified (the smallest threshold ≥ days_left, or
 * POLICY_NOTIFY_ABOVE when days_left is above them all) if the hook is to run, else 0. */
#define POLICY_NOTIFY_ABOVE 100000U
#define POLICY_NO_EXPIRY INT64_MIN
unsigned policy_failure_notify(unsigned notified, int64_t days_left, const unsigned *thresholds, size_t n);
