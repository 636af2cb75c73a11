/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "certstate.h"
#include "policy.h"
#include "renewal-plan.h"
#include "test.h"

#define DAY 86400
#define T0 ((time_t) 1767225600) /* 2026-01-01 */

static RenewalPlanInput cert90(void) {
        return (RenewalPlanInput) {
                .have_cert = true,
                .domains_match = true,
                .not_before = T0,
                .not_after = T0 + 90 * DAY,
                .cert_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
        };
}

TEST(missing_changed_forced_are_now) {
        CertState s = {};
        RenewalPlanInput in = cert90();

        in.have_cert = false;
        CHECK_INT(renewal_plan(&in, &s, T0 + DAY, 0), T0 + DAY);
        in = cert90();
        in.domains_match = false;
        CHECK_INT(renewal_plan(&in, &s, T0 + DAY, 0), T0 + DAY);
        in = cert90();
        in.force = true;
        CHECK_INT(renewal_plan(&in, &s, T0 + DAY, 0), T0 + DAY);
}

TEST(lifetime_rule_without_ari) {
        CertState s = {};
        RenewalPlanInput in = cert90();

        /* seed 0: no jitter, exactly when a third of 90 days remains. */
        CHECK_INT(renewal_plan(&in, &s, T0 + DAY, 0), T0 + 60 * DAY);
        /* Any seed: within a day before that. */
        time_t t = renewal_plan(&in, &s, T0 + DAY, UINT64_MAX);
        CHECK(t <= T0 + 60 * DAY && t > T0 + 59 * DAY);
}

TEST(ari_window_only_for_its_certificate) {
        CertState s = {
                .have_ari = true,
                .ari_start = T0 + 40 * DAY,
                .ari_end = T0 + 41 * DAY,
                .ari_cert_id = (char *) "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
        };
        RenewalPlanInput in = cert90();

        CHECK_INT(renewal_plan(&in, &s, T0 + DAY, 0), T0 + 40 * DAY);
        time_t t = renewal_plan(&in, &s, T0 + DAY, UINT64_MAX);
        CHECK(t >= T0 + 40 * DAY && t < T0 + 41 * DAY);

        /* The window of the certificate that was replaced does not apply. */
        in.cert_id = "other.AQ";
        CHECK_INT(renewal_plan(&in, &s, T0 + DAY, 0), T0 + 60 * DAY);
        in.cert_id = NULL;
        CHECK_INT(renewal_plan(&in, &s, T0 + DAY, 0), T0 + 60 * DAY);
}

TEST(backoff_holds) {
        CertState s = { .consecutive_failures = 2, .next_attempt = T0 + 61 * DAY };
        RenewalPlanInput in = cert90();

        /* Due at day 60, but the backoff says not before day 61. */
        CHECK_INT(renewal_plan(&in, &s, T0 + 60 * DAY, 0), T0 + 61 * DAY);
        /* A backoff that ended earlier does not delay. */
        s.next_attempt = T0 + 10 * DAY;
        CHECK_INT(renewal_plan(&in, &s, T0 + 60 * DAY, 0), T0 + 60 * DAY);
        /* A missing certificate waits for the backoff too: no hammering. */
        s.next_attempt = T0 + 2 * DAY;
        in.have_cert = false;
        CHECK_INT(renewal_plan(&in, &s, T0 + DAY, 0), T0 + 2 * DAY);
}

/* A failure recorded and saved by one run is honoured by the next: the plan made from the
 * state read back from disk equals the plan before the "restart". */
TEST(restart_with_persisted_state) {
        char dir[] = "/tmp/renewd-test-plan-XXXXXX";
        CertState before = {}, after = {};
        RenewalPlanInput in = cert90();
        time_t now = T0 + 60 * DAY;
        int fd;

        REQUIRE(mkdtemp(dir));
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        REQUIRE(fd >= 0);

        time_t next = policy_next_attempt(1, now, false, 0, false, 1ULL << 63);
        CHECK_INT(next, now + 60);
        CHECK_INT(cert_state_record_failure(&before, now, "connection refused", next), 0);
        before.have_ari = true;
        before.ari_start = T0 + 59 * DAY;
        before.ari_end = T0 + 62 * DAY;
        before.ari_cert_id = strdup(in.cert_id);
        CHECK_INT(cert_state_save(fd, "example", &before), 0);

        CHECK_INT(cert_state_load(fd, "example", &after), 0);
        CHECK_INT(after.consecutive_failures, 1);
        CHECK_INT(after.next_attempt, now + 60);
        CHECK_STR(after.last_error, "connection refused");
        for (uint64_t seed = 0; seed < 5; seed++) {
                uint64_t sd = seed * 0x3333333333333333ULL;
                CHECK_INT(renewal_plan(&in, &after, now, sd), renewal_plan(&in, &before, now, sd));
                CHECK(renewal_plan(&in, &after, now, sd) >= now + 60);
        }

        /* Success clears the backoff and the old certificate's window. */
        cert_state_record_success(&after, now + 60);
        CHECK_INT(renewal_plan(&in, &after, now, 0), T0 + 60 * DAY);

        cert_state_done(&before);
        cert_state_done(&after);
        CHECK_INT(cert_state_remove(fd, "example"), 1);
        CHECK_INT(unlinkat(fd, "status", AT_REMOVEDIR), 0);
        close(fd);
        CHECK_INT(rmdir(dir), 0);
}

TEST_MAIN(T(missing_changed_forced_are_now), T(lifetime_rule_without_ari), T(ari_window_only_for_its_certificate),
          T(backoff_holds), T(restart_with_persisted_state))
