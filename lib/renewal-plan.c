/* SPDX-License-Identifier: MIT */
#include "macro.h"
#include "policy.h"
#include "renewal-plan.h"

time_t renewal_plan(const RenewalPlanInput *in, const CertState *state, time_t now, uint64_t seed) {
        time_t at;

        if (in->force || !in->have_cert || !in->domains_match)
                at = now;
        else {
                PolicyInput p = {
                        .not_before = in->not_before,
                        .not_after = in->not_after,
                        .have_ari = state->have_ari && in->cert_id && streq_ptr(state->ari_cert_id, in->cert_id),
                        .ari_start = state->ari_start,
                        .ari_end = state->ari_end,
                };
                at = policy_renewal_time(&p, now, seed);
        }
        if (state->consecutive_failures > 0 && state->next_attempt > at)
                at = state->next_attempt;
        return at;
}
