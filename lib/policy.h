/* SPDX-License-Identifier: MIT */
#pragma once

/* When to renew: pure functions of their inputs, the clock included. */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* The start of the renewal window of a certificate valid from not_before to not_after:
 * when one third of the lifetime remains, or one half for lifetimes under 10 days. */
time_t policy_renewal_start(time_t not_before, time_t not_after);

/* True if a certificate with this validity is due for renewal at now. */
bool policy_renewal_due(time_t not_before, time_t not_after, time_t now);
