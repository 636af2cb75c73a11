/* SPDX-License-Identifier: MIT */
/* Daemon mode: one timer per certificate. It fires at the earlier of two moments: when the
 * certificate is to be renewed (policy_renewal_time(), or later after failures), and when
 * the CA's renewal information (RFC 9773) is to be asked again. Nothing polls: between
 * those moments the daemon makes no system calls for the certificate. */

#include <time.h>

#include "ari.h"
#include "log.h"
#include "manager.h"
#include "policy.h"
#include "renewal.h"
#include "report.h"
#include "renewal-plan.h"

#define ARI_RETRY_ON_ERROR_SEC 3600

static void ari_poll(ManagedCert *mc);
static void on_ari_ready(AcmeClient *client, int error, void *userdata);

/* ARI applies to a certificate whose live certificate is what the config asks for, has
 * an AKI (so a certID) and whose CA is not known to lack renewalInfo. */
static bool ari_wanted(ManagedCert *mc) {
        ManagerCa *ca = NULL;

        if (!mc->have_cert || !mc->domains_match || !mc->cert_id)
                return false;
        if (manager_get_ca(mc->manager, mc->config->ca, &ca) < 0)
                return false;
        return !ca->ari_unsupported;
}

/* The seed of the certificate's random point: the same certificate gets the same moment
 * after a restart, and certificates issued together are spread. */
static uint64_t cert_seed(ManagedCert *mc) {
        return stable_random(mc->cert_id ? mc->cert_id : mc->serial ? mc->serial : mc->config->name);
}

/* The live version's deployment failed and is to be retried (not a new order). */
static bool deploy_wanted(ManagedCert *mc) {
        return mc->state.deploy_pending && mc->have_cert && mc->domains_match;
}

static int on_cert_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        ManagedCert *mc = userdata;
        time_t now = time(NULL);
        bool busy = false;

        if (ari_wanted(mc) && mc->state.ari_next_poll <= now && !mc->ari_req && !mc->ari_waiting_ready) {
                ari_poll(mc);
                busy = true;
        }
        if (mc->next_renewal > now && deploy_wanted(mc) && mc->state.next_attempt <= now) {
                log_cert_errno(LOG_INFO, 0, mc->config->name, NULL, "Deploying again (the last deployment failed).");
                manager_deploy(mc);
                return 0;
        }
        if (mc->next_renewal <= now) {
                const char *why = managed_cert_urgent_reason(mc);
                log_cert_errno(LOG_INFO, 0, mc->config->name, NULL, "Renewing (%s).",
                               why ? why : mc->state.consecutive_failures > 0 ? "retrying after a failure" : "due");
                manager_enqueue(mc->manager, mc);
                return 0;
        }
        if (!busy)
                schedule_cert(mc);
        return 0;
}

void schedule_cert(ManagedCert *mc) {
        time_t now = time(NULL), renew_at, wake;
        int k;

        if (mc->renewal || mc->queued || mc->deployment || mc->manager->stopping)
                return;

        RenewalPlanInput in = {
                .have_cert = mc->have_cert,
                .domains_match = mc->domains_match,
                .force = mc->force,
                .not_before = mc->not_before,
                .not_after = mc->not_after,
                .cert_id = mc->cert_id,
        };
        renew_at = renewal_plan(&in, &mc->state, now, cert_seed(mc));
        mc->next_renewal = renew_at;
        mc->state.scheduled = renew_at;

        wake = renew_at;
        if (!mc->ari_req && !mc->ari_waiting_ready && ari_wanted(mc) && mc->state.ari_next_poll < wake)
                wake = mc->state.ari_next_poll;
        if (deploy_wanted(mc) && mc->state.next_attempt < wake)
                wake = mc->state.next_attempt;
        if (wake < now)
                wake = now;

        uint64_t when = (uint64_t) wake * USEC_PER_SEC;
        /* Coalesce far-off wake-ups to the second; one due now should not wait for that. */
        uint64_t accuracy = wake <= now ? USEC_PER_MSEC : USEC_PER_SEC;
        if (mc->timer) {
                k = sd_event_source_set_time(mc->timer, when);
                if (k >= 0)
                        k = sd_event_source_set_time_accuracy(mc->timer, accuracy);
                if (k >= 0)
                        k = sd_event_source_set_enabled(mc->timer, SD_EVENT_ONESHOT);
        } else {
                /* Wall-clock time: certificates expire by the calendar, also across suspend. */
                k = sd_event_add_time(mc->manager->event, &mc->timer, CLOCK_REALTIME, when, accuracy, on_cert_timer, mc);
                if (k >= 0)
                        (void) sd_event_source_set_description(mc->timer, "cert-timer");
        }
        if (k < 0) {
                log_cert_errno(LOG_ERR, k, mc->config->name, NULL, "Failed to arm the renewal timer: %m");
                return;
        }

        char a[64];
        format_time(renew_at, a, sizeof a);
        log_cert_errno(LOG_DEBUG, 0, mc->config->name, NULL, "Next renewal at %s.", a);
}

void schedule_cert_done(ManagedCert *mc) {
        mc->timer = sd_event_source_disable_unref(mc->timer);
        mc->ari_req = acme_request_free(mc->ari_req);
        if (mc->ari_waiting_ready) {
                ManagerCa *ca;
                if (manager_get_ca(mc->manager, mc->config->ca, &ca) >= 0)
                        acme_client_ready_cancel(ca->client, on_ari_ready, mc);
                mc->ari_waiting_ready = false;
        }
}

static void ari_failed(ManagedCert *mc, uint64_t retry_sec) {
        mc->state.ari_next_poll = time(NULL) + (time_t) retry_sec;
        schedule_cert(mc);
}

static void on_ari_response(AcmeRequest *req, int error, void *userdata) {
        ManagedCert *mc = userdata;
        _cleanup_(ari_window_done) AriWindow w = {};
        uint64_t ra = ARI_DEFAULT_POLL_SEC;
        time_t now = time(NULL);
        size_t len;
        const char *body;
        int k;

        if (acme_request_retry_after(req, &ra) < 0)
                ra = error < 0 ? ARI_RETRY_ON_ERROR_SEC : ARI_DEFAULT_POLL_SEC;
        ra = ari_clamp_retry_after(ra);

        if (error < 0) {
                log_cert_errno(LOG_NOTICE, error, mc->config->name, NULL,
                               "Renewal information unavailable, the lifetime rule applies: %s",
                               acme_request_error_text(req));
                mc->ari_req = acme_request_free(mc->ari_req);
                ari_failed(mc, ra);
                return;
        }
        body = acme_request_body(req, &len);
        k = ari_parse(body, len, &w);
        mc->ari_req = acme_request_free(mc->ari_req);
        if (k < 0) {
                log_cert_errno(LOG_NOTICE, k, mc->config->name, NULL,
                               "Ignoring invalid renewal information from the CA: %m");
                ari_failed(mc, ra);
                return;
        }

        char a[64], b[64];
        format_time(w.start, a, sizeof a);
        format_time(w.end, b, sizeof b);
        if (!mc->state.have_ari || mc->state.ari_start != w.start || mc->state.ari_end != w.end)
                log_cert_errno(LOG_INFO, 0, mc->config->name, NULL, "The CA suggests renewing between %s and %s%s%s.", a, b,
                               w.explanation_url ? "; see " : "", strempty(w.explanation_url));

        char *id = strdup(mc->cert_id);
        if (!id) {
                log_oom();
                ari_failed(mc, ARI_RETRY_ON_ERROR_SEC);
                return;
        }
        free(mc->state.ari_cert_id);
        mc->state.ari_cert_id = id;
        free(mc->state.ari_explanation_url);
        mc->state.ari_explanation_url = TAKE_PTR(w.explanation_url);
        mc->state.have_ari = true;
        mc->state.ari_start = w.start;
        mc->state.ari_end = w.end;
        mc->state.ari_next_poll = now + (time_t) ra;

        k = cert_state_save(store_dir_fd(mc->manager->store), mc->config->name, &mc->state);
        if (k < 0)
                log_cert_errno(LOG_WARNING, k, mc->config->name, NULL, "Failed to save the renewal window: %m");
        schedule_cert(mc);
        manager_metrics_changed(mc->manager); /* the window is a metric */
}

static void on_ari_ready(AcmeClient *client, int error, void *userdata) {
        ManagedCert *mc = userdata;
        const AcmeDirectory *dir;
        _cleanup_free_ char *url = NULL;
        ManagerCa *ca;
        int k;

        mc->ari_waiting_ready = false;
        if (error < 0) {
                log_cert_errno(LOG_NOTICE, error, mc->config->name, NULL,
                               "Cannot ask the CA for renewal information now: %s", acme_client_error_text(client));
                ari_failed(mc, ARI_RETRY_ON_ERROR_SEC);
                return;
        }
        if (manager_get_ca(mc->manager, mc->config->ca, &ca) >= 0)
                manager_ca_account_ready(mc->manager, ca);
        dir = acme_client_directory(client);
        if (!dir->renewal_info) {
                if (manager_get_ca(mc->manager, mc->config->ca, &ca) >= 0)
                        ca->ari_unsupported = true;
                log_cert_errno(LOG_DEBUG, 0, mc->config->name, NULL, "CA %s offers no renewal information.",
                               mc->config->ca);
                schedule_cert(mc);
                return;
        }
        k = ari_url(dir->renewal_info, mc->cert_id, &url);
        if (k >= 0)
                k = acme_request_get(client, url, on_ari_response, mc, &mc->ari_req);
        if (k < 0) {
                log_cert_errno(LOG_WARNING, k, mc->config->name, NULL, "Failed to ask for renewal information: %m");
                ari_failed(mc, ARI_RETRY_ON_ERROR_SEC);
        }
}

static void ari_poll(ManagedCert *mc) {
        ManagerCa *ca;
        int k;

        k = manager_get_ca(mc->manager, mc->config->ca, &ca);
        if (k >= 0)
                k = acme_client_ready(ca->client, on_ari_ready, mc);
        if (k < 0) {
                log_cert_errno(LOG_WARNING, k, mc->config->name, NULL, "Failed to ask for renewal information: %m");
                ari_failed(mc, ARI_RETRY_ON_ERROR_SEC);
                return;
        }
        mc->ari_waiting_ready = true;
}
