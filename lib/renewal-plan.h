/* SPDX-License-Identifier: MIT */
#pragma once

/* When the daemon renews a certificate next: the policy (lib/policy.h) applied to what is
 * known of the live certificate and to the persisted state (lib/certstate.h). A pure
 * function of its inputs, the clock included, so a restart — state loaded from disk —
 * gives the same answer as the run before it. */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "certstate.h"

typedef struct RenewalPlanInput {
        bool have_cert;          /* a live certificate exists */
        bool domains_match;      /* and names what the configuration asks for */
        bool force;              /* renewal asked for by hand */
        time_t not_before, not_after;
        const char *cert_id;     /* ARI certID of the live certificate, or NULL */
} RenewalPlanInput;

/* The time to renew at (in the past means now):
 *   - now, for a missing certificate, changed names or a forced renewal;
 *   - else policy_renewal_time() with the persisted ARI window if it belongs to this very
 *     certificate (state->ari_cert_id equals cert_id), else the lifetime rule;
 *   - but after failures never before state->next_attempt (the backoff), which a restart
 *     therefore keeps.
 * seed: a stable random value for the certificate (the same across restarts). */
time_t renewal_plan(const RenewalPlanInput *in, const CertState *state, time_t now, uint64_t seed);
