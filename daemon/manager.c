/* SPDX-License-Identifier: MIT */
/* The manager: CAs and their accounts, the certificates, the renewal queue, and the
 * --once pass. */

#include <openssl/evp.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

#include "ari.h"
#include "challenge-journal.h"
#include "challenge.h"
#include "deploy.h"
#include "report.h"
#include "control.h"
#include "json.h"
#include "key.h"
#include "log.h"
#include "manager.h"
#include "policy.h"
#include "renewal.h"
#include "renewd-config.h"
#include "ssl-util.h"
#include "strv.h"
#include "x509.h"

uint64_t random_u64(void) {
        uint64_t v = 0;
        if (getrandom(&v, sizeof v, GRND_NONBLOCK) != sizeof v)
                v = (uint64_t) time(NULL) * 0x9e3779b97f4a7c15ULL ^ (uint64_t) getpid();
        return v;
}

uint64_t stable_random(const char *text) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        uint64_t v = 0;

        if (EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL) != 1 || len < sizeof v)
                return random_u64();
        memcpy(&v, md, sizeof v);
        return v;
}

void format_time(time_t t, char *buf, size_t size) {
        struct tm tm;
        if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
                snprintf(buf, size, "@%lld", (long long) t);
}

static void managed_cert_done(ManagedCert *mc) {
        schedule_cert_done(mc);
        renewal_free(mc->renewal);
        if (mc->deployment) {
                deployment_free(mc->deployment);
                mc->manager->n_deployments--;
        }
        cert_state_done(&mc->state);
        free(mc->serial);
        free(mc->cert_id);
        *mc = (ManagedCert) {};
}

static void manager_free_certs(Manager *m) {
        for (size_t i = 0; i < m->n_certs; i++)
                managed_cert_done(&m->certs[i]);
        m->certs = mfree(m->certs);
        m->n_certs = 0;
        m->queue = mfree(m->queue);
        m->n_queue = 0;
}

static void manager_free_cas(Manager *m) {
        for (size_t i = 0; i < m->n_cas; i++) {
                acme_client_free(m->cas[i].client);
                free(m->cas[i].saved_account_url);
        }
        m->cas = mfree(m->cas);
        m->n_cas = 0;
}

static int manager_setup_cas(Manager *m) {
        m->cas = calloc(m->config->n_cas ? m->config->n_cas : 1, sizeof(ManagerCa));
        if (!m->cas)
                return -ENOMEM;
        m->n_cas = m->config->n_cas;
        for (size_t i = 0; i < m->config->n_cas; i++)
                m->cas[i].config = &m->config->cas[i];
        return 0;
}

void manager_replace_config(Manager *m, Config *config) {
        manager_free_certs(m);
        manager_free_cas(m);
        config_free(m->config);
        m->config = config;
        if (manager_setup_cas(m) < 0)
                log_oom();
        manager_challenges_reset(m);
}

int manager_new(const char *config_path, Config *config, bool once, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int k;

        m = calloc(1, sizeof *m);
        if (!m) {
                config_free(config);
                return log_oom();
        }
        m->config = config;
        m->once = once;
        m->http_fd = -1;
        m->start_time = time(NULL);
        m->config_path = strdup(config_path);
        if (!m->config_path)
                return log_oom();

        k = sd_event_default(&m->event);
        if (k < 0)
                return log_error_errno(k, "Failed to allocate the event loop: %m");
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &m->started_usec);

        k = store_open(config->state_dir, &m->store);
        if (k < 0)
                return log_error_errno(k, "Failed to open the state directory %s: %m", config->state_dir);

        k = http_client_new(m->event, "renewd/" RENEWD_VERSION, &m->http);
        if (k < 0)
                return log_error_errno(k, "Failed to set up the HTTP client: %m");

        if (manager_setup_cas(m) < 0)
                return log_oom();

        /* Challenge files left by a previous run that was killed. */
        k = challenge_journal_sweep(store_dir_fd(m->store));
        if (k < 0)
                log_warning_errno(k, "Failed to read the journal of challenge files: %m");
        else if (k > 0)
                log_notice("Removed %d challenge file%s left behind by an earlier run.", k, k == 1 ? "" : "s");

        *ret = TAKE_PTR(m);
        return 0;
}

void manager_renewal_event(Manager *m, const char *name, const char *event, const char *detail) {
        control_renewal_event(m->control, name, event, detail);
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        m->control = control_server_free(m->control);
        m->exiting = true; /* abandoned orders leave DNS records: no hooks now */
        /* Certificates first: freeing a renewal abandons its order and removes its
         * challenge files. */
        manager_free_certs(m);
        manager_challenges_done(m);
        manager_reloads_done(m);
        manager_reports_done(m);
        safe_close(m->http_fd);
        manager_free_cas(m);
        sd_event_source_disable_unref(m->reload_timer);
        sd_event_source_disable_unref(m->certs_watch);
        sd_event_source_disable_unref(m->live_watch);
        http_client_free(m->http);
        store_free(m->store);
        sd_event_unref(m->event);
        config_free(m->config);
        config_free(m->pending_config);
        free(m->config_path);
        free(m);
        return NULL;
}

/* account.json: {"url": …, "directory": …}. The URL is only trusted for the same
 * directory: pointing a CA name at another server must not reuse a foreign account URL. */
static int load_account_url(Manager *m, const CaConfig *ca, char **ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ cJSON *j = NULL;
        const char *url, *dir;
        int k;

        k = store_load_account_json(m->store, ca->name, &text);
        if (k < 0)
                return k;
        k = json_parse_object(text, strlen(text), &j);
        if (k < 0)
                return k;
        if (json_get_string(j, "url", &url) < 0 || json_get_string(j, "directory", &dir) < 0)
                return -EBADMSG;
        if (!streq(dir, ca->directory))
                return -ENOENT;
        *ret = strdup(url);
        return *ret ? 0 : -ENOMEM;
}

int manager_get_ca(Manager *m, const char *name, ManagerCa **ret) {
        ManagerCa *ca = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        bool key_is_new = false;
        int k;

        for (size_t i = 0; i < m->n_cas; i++)
                if (streq(m->cas[i].config->name, name))
                        ca = &m->cas[i];
        if (!ca)
                return -ENOENT;
        if (ca->client) {
                *ret = ca;
                return 0;
        }

        k = store_load_account_key(m->store, name, &key);
        if (k == -ENOENT) {
                k = key_generate(KEY_EC256, &key);
                if (k < 0)
                        return log_error_errno(k, "Failed to generate an account key for CA %s: %m", name);
                k = store_save_account_key(m->store, name, key);
                if (k < 0)
                        return log_error_errno(k, "Failed to save the account key for CA %s: %m", name);
                key_is_new = true;
                log_info("Created a new account key for CA %s.", name);
        } else if (k < 0)
                return log_error_errno(k, "Failed to load the account key of CA %s: %m", name);

        if (!key_is_new) {
                k = load_account_url(m, ca->config, &ca->saved_account_url);
                if (k < 0 && k != -ENOENT)
                        log_warning_errno(k, "Ignoring the unreadable account.json of CA %s: %m", name);
        }

        AcmeClientConfig cfg = {
                .name = name,
                .directory_url = ca->config->directory,
                .ca_file = ca->config->trust,
                .allow_http = ca->config->allow_http,
                .contact = ca->config->contact,
                .accept_terms = ca->config->accept_terms,
                .eab_kid = ca->config->eab_kid,
                .eab_hmac_key = ca->config->eab_hmac_key,
        };
        k = acme_client_new(m->event, m->http, &cfg, key, ca->saved_account_url, key_is_new, &ca->client);
        if (k < 0)
                return log_error_errno(k, "Failed to set up the ACME client for CA %s: %m", name);
        *ret = ca;
        return 0;
}

void manager_ca_account_ready(Manager *m, ManagerCa *ca) {
        const char *url = acme_client_account_url(ca->client);
        _cleanup_json_ cJSON *j = NULL;
        _cleanup_free_ char *text = NULL;
        int k;

        if (!url || streq_ptr(url, ca->saved_account_url))
                return;

        j = cJSON_CreateObject();
        if (!j || !cJSON_AddStringToObject(j, "url", url) ||
            !cJSON_AddStringToObject(j, "directory", ca->config->directory) || !(text = json_print(j))) {
                log_oom();
                return;
        }
        k = store_save_account_json(m->store, ca->config->name, text);
        if (k < 0) {
                log_warning_errno(k, "Failed to save the account of CA %s (it will be looked up again next time): %m",
                                  ca->config->name);
                return;
        }
        free(ca->saved_account_url);
        ca->saved_account_url = strdup(url);
        log_info("Using account %s at CA %s.", url, ca->config->name);
}

void managed_cert_refresh(ManagedCert *mc) {
        Manager *m = mc->manager;
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_strv_free_ char **sans = NULL;
        int k;

        mc->have_cert = false;
        mc->domains_match = false;
        mc->serial = mfree(mc->serial);
        mc->cert_id = mfree(mc->cert_id);

        k = store_load_live(m->store, mc->config->name, &cert, NULL, NULL);
        if (k == -ENOENT)
                return;
        if (k < 0) {
                log_cert_errno(LOG_WARNING, k, mc->config->name, NULL, "The live certificate cannot be read: %m");
                return;
        }
        if (x509_not_before(cert, &mc->not_before) < 0 || x509_not_after(cert, &mc->not_after) < 0) {
                log_cert_errno(LOG_WARNING, 0, mc->config->name, NULL, "The live certificate has unreadable dates.");
                return;
        }
        mc->have_cert = true;
        mc->domains_match = x509_sans(cert, &sans) >= 0 && strv_equal_unordered(sans, mc->config->domains);
        (void) x509_serial_hex(cert, &mc->serial);
        (void) ari_cert_id(cert, &mc->cert_id);
}

const char *managed_cert_urgent_reason(ManagedCert *mc) {
        if (mc->force)
                return "forced";
        if (!mc->have_cert)
                return "no certificate yet";
        if (!mc->domains_match)
                return "domains changed";
        return NULL;
}

ManagedCert *manager_find_cert(Manager *m, const char *name) {
        for (size_t i = 0; i < m->n_certs; i++)
                if (streq(m->certs[i].config->name, name))
                        return &m->certs[i];
        return NULL;
}

int manager_load_certs(Manager *m) {
        manager_free_certs(m);

        m->certs = calloc(m->config->n_certs ? m->config->n_certs : 1, sizeof(ManagedCert));
        m->queue = calloc(m->config->n_certs ? m->config->n_certs : 1, sizeof(ManagedCert *));
        if (!m->certs || !m->queue)
                return log_oom();
        m->n_certs = m->config->n_certs;

        for (size_t i = 0; i < m->n_certs; i++) {
                ManagedCert *mc = &m->certs[i];
                int k;

                mc->manager = m;
                mc->config = &m->config->certs[i];
                k = cert_state_load(store_dir_fd(m->store), mc->config->name, &mc->state);
                if (k < 0 && k != -ENOENT) {
                        log_cert_errno(LOG_WARNING, k, mc->config->name, NULL,
                                       "Ignoring the unreadable saved state (a fresh start for this certificate): %m");
                        cert_state_done(&mc->state);
                }
                managed_cert_refresh(mc);
        }
        return 0;
}

static void manager_dispatch(Manager *m);

/* Record the outcome in the persisted state. */
static void record_outcome(ManagedCert *mc, Renewal *r, int error) {
        Manager *m = mc->manager;
        time_t now = time(NULL);
        int k;

        if (error >= 0) {
                cert_state_record_success(&mc->state, now);
                managed_cert_refresh(mc);
        } else {
                uint64_t ra = 0;
                bool have_ra = renewal_retry_after(r, &ra) >= 0;
                time_t next = policy_next_attempt(mc->state.consecutive_failures + 1, now, have_ra, ra,
                                                  renewal_rate_limited(r), random_u64());
                if (cert_state_record_failure(&mc->state, now, renewal_error_text(r), next) < 0)
                        log_oom();
                report_failure(mc, "renewal-failed");
        }
        k = cert_state_save(store_dir_fd(m->store), mc->config->name, &mc->state);
        if (k < 0)
                log_cert_errno(LOG_WARNING, k, mc->config->name, NULL,
                               "Failed to save the renewal state (a restart may retry early): %m");
}

static void on_renewal_done(Renewal *r, int error, void *userdata) {
        ManagedCert *mc = userdata;
        Manager *m = mc->manager;
        const CertConfig *c = mc->config;
        double secs = (double) renewal_duration(r) / 1e6;
        char when[64];

        record_outcome(mc, r, error);
        _cleanup_free_ char *domains = strv_join(c->domains, " ");

        if (error < 0) {
                m->n_failed++;
                m->renewal_failures_total++;
                PolicyLevel level = mc->have_cert ? policy_expiry_level(mc->not_before, mc->not_after, time(NULL))
                                                  : POLICY_LEVEL_ERR;
                static const int prio[] = { LOG_WARNING, LOG_WARNING, LOG_WARNING, LOG_ERR, LOG_CRIT };
                if (m->once)
                        printf("%s: FAILED after %.2fs: %s\n", c->name, secs, renewal_error_text(r));
                format_time(mc->state.next_attempt, when, sizeof when);
                log_cert_errno(prio[level], error, c->name, domains,
                               "Renewal failed (attempt %u; next attempt not before %s): %s",
                               mc->state.consecutive_failures, when, renewal_error_text(r));
                if (mc->have_cert && level >= POLICY_LEVEL_ERR) {
                        format_time(mc->not_after, when, sizeof when);
                        log_cert_errno(prio[level], 0, c->name, domains, "The current certificate expires %s.", when);
                }
        } else {
                m->n_renewed++;
                m->renewals_total++;
                format_time(renewal_not_after(r), when, sizeof when);
                if (m->once)
                        printf("%s: renewed in %.2fs: version %u, serial %s, expires %s\n", c->name, secs,
                               renewal_version(r), strna(renewal_serial(r)), when);
                log_cert_errno(LOG_INFO, 0, c->name, domains, "Renewed in %.2fs: version %u, serial %s, expires %s.",
                               secs, renewal_version(r), strna(renewal_serial(r)), when);
        }
        if (m->once)
                fflush(stdout);

        mc->renewal = renewal_free(r);
        mc->force = false;
        manager_renewal_event(m, c->name, error < 0 ? "failed" : "installed", error < 0 ? mc->state.last_error : NULL);
        /* Before the slot is given back, so that reloads wait for this deployment. */
        if (error >= 0 && deployment_wanted(c))
                manager_deploy(mc);
        m->n_active--;
        if (!m->once && !m->stopping)
                schedule_cert(mc);
        manager_dispatch(m);
        manager_state_changed(m);
}

void manager_state_changed(Manager *m) {
        if (m->once)
                return; /* --once writes metrics_file once, at the end */
        manager_notify_status(m);
        manager_metrics_changed(m);
}

static void on_deployment_done(Deployment *d, int error, void *userdata) {
        ManagedCert *mc = userdata;
        Manager *m = mc->manager;
        const CertConfig *c = mc->config;
        time_t now = time(NULL);
        int k;

        if (error < 0) {
                _cleanup_free_ char *text = NULL;
                time_t next = policy_next_attempt(mc->state.consecutive_failures + 1, now, false, 0, false, random_u64());
                char when[64];

                if (asprintf(&text, "deployed with errors: %s", deployment_error_text(d)) < 0)
                        text = NULL;
                mc->state.deploy_pending = true;
                if (cert_state_record_failure(&mc->state, now, text ? text : "deployed with errors", next) < 0)
                        log_oom();
                format_time(next, when, sizeof when);
                log_cert_errno(LOG_ERR, error, c->name, NULL,
                               "The new certificate is live but deploying it failed (attempt %u; again not before %s): %s",
                               mc->state.consecutive_failures, when, deployment_error_text(d));
                if (m->once)
                        printf("%s: deployed with errors: %s\n", c->name, deployment_error_text(d));
                report_failure(mc, "deploy-failed");
                m->n_deploy_failed++;
        } else {
                if (mc->state.deploy_pending)
                        cert_state_record_deployed(&mc->state);
                log_cert_errno(LOG_INFO, 0, c->name, NULL, "Deployed.");
                if (m->once)
                        printf("%s: deployed\n", c->name);
        }
        if (m->once)
                fflush(stdout);
        k = cert_state_save(store_dir_fd(m->store), c->name, &mc->state);
        if (k < 0)
                log_cert_errno(LOG_WARNING, k, c->name, NULL, "Failed to save the renewal state: %m");

        mc->deployment = deployment_free(d);
        m->n_deployments--;
        manager_renewal_event(m, c->name, error < 0 ? "deploy-failed" : "deployed", error < 0 ? mc->state.last_error : NULL);
        if (!m->once && !m->stopping)
                schedule_cert(mc);
        manager_check_idle(m);
        manager_state_changed(m);
}

void manager_deploy(ManagedCert *mc) {
        Manager *m = mc->manager;
        int k;

        if (mc->deployment)
                return;
        k = deployment_start(m, mc->config, on_deployment_done, mc, &mc->deployment);
        if (k < 0) {
                log_cert_errno(LOG_ERR, k, mc->config->name, NULL, "Failed to start deploying: %m");
                return;
        }
        m->n_deployments++;
}

/* Start queued renewals while there is room. In --once mode, stop the loop when all are
 * done; in daemon mode, apply a reload that waited for the renewals to finish. */
static void manager_dispatch(Manager *m) {
        /* A reload waiting for the renewals in flight starts nothing new. */
        while (!m->stopping && !m->pending_config && m->n_active < m->config->max_parallel && m->n_queue > 0) {
                ManagedCert *mc = m->queue[0];
                int k;

                memmove(m->queue, m->queue + 1, sizeof(ManagedCert *) * --m->n_queue);
                mc->queued = false;
                k = renewal_start(m, mc->config, mc->have_cert ? mc->cert_id : NULL, on_renewal_done, mc, &mc->renewal);
                if (k < 0) {
                        log_cert_errno(LOG_ERR, k, mc->config->name, NULL, "Failed to start the renewal: %m");
                        m->n_failed++;
                        if (m->once)
                                printf("%s: FAILED: %s\n", mc->config->name, strerror(-k));
                        continue;
                }
                m->n_active++;
        }
        manager_check_idle(m);
}

void manager_abandon_renewals(Manager *m) {
        m->n_queue = 0;
        for (size_t i = 0; i < m->n_certs; i++) {
                ManagedCert *mc = &m->certs[i];
                mc->queued = false;
                if (!mc->renewal)
                        continue;
                mc->renewal = renewal_free(mc->renewal); /* the order cleans up its challenges */
                m->n_active--;
        }
}

void manager_check_idle(Manager *m) {
        /* A stopping daemon ends once the DNS records of abandoned orders are removed. */
        if (!m->once && m->stopping && !manager_challenges_busy(m)) {
                (void) sd_event_exit(m->event, 0);
                return;
        }
        /* A reload waits until no renewal or deployment uses the running configuration. */
        if (!m->once && m->pending_config && m->n_active == 0 && m->n_queue == 0 && m->n_deployments == 0)
                manager_apply_pending_config(m);
        manager_reloads_maybe_flush(m);
        /* --once ends when nothing is left to do: DNS records removed, deployments,
         * reloads and on_failure hooks included. */
        if (m->once && m->n_active == 0 && m->n_queue == 0 && m->n_deployments == 0 && !manager_challenges_busy(m) &&
            !manager_reloads_busy(m) && !manager_reports_busy(m))
                (void) sd_event_exit(m->event, 0);
}

void manager_enqueue(Manager *m, ManagedCert *mc) {
        /* A deployment in flight finishes first; its end reschedules (force included). */
        if (mc->queued || mc->renewal || mc->deployment)
                return;
        mc->queued = true;
        m->queue[m->n_queue++] = mc;
        manager_renewal_event(m, mc->config->name, "queued", NULL);
        manager_dispatch(m);
        if (!m->once)
                manager_metrics_changed(m); /* renewing = 1 */
}

int manager_run_once(Manager *m) {
        time_t now = time(NULL);
        int k;

        k = manager_load_certs(m);
        if (k < 0)
                return k;

        for (size_t i = 0; i < m->n_certs; i++) {
                ManagedCert *mc = &m->certs[i];
                const char *why = managed_cert_urgent_reason(mc);

                if (!why && policy_renewal_due(mc->not_before, mc->not_after, now))
                        why = now >= mc->not_after ? "expired" : "due";
                if (!why && mc->state.deploy_pending && mc->have_cert) {
                        log_cert_errno(LOG_INFO, 0, mc->config->name, NULL, "Deploying again (the last deployment failed).");
                        manager_deploy(mc);
                        continue;
                }
                if (!why) {
                        char a[64], b[64];
                        format_time(mc->not_after, a, sizeof a);
                        format_time(policy_renewal_start(mc->not_before, mc->not_after), b, sizeof b);
                        m->n_current++;
                        printf("%s: valid until %s, not due before %s\n", mc->config->name, a, b);
                        continue;
                }
                log_cert_errno(LOG_INFO, 0, mc->config->name, NULL, "Renewing (%s).", why);
                manager_enqueue(m, mc);
        }
        fflush(stdout);

        if (m->n_active > 0 || m->n_queue > 0 || m->n_deployments > 0) {
                k = sd_event_loop(m->event);
                if (k < 0)
                        return log_error_errno(k, "Event loop failed: %m");
        }
        manager_write_metrics(m);

        log_debug("%u renewed, %u failed, %u current; %ld connection(s) opened", m->n_renewed, m->n_failed,
                  m->n_current, http_client_connects(m->http));
        return m->n_failed > 0 || m->n_deploy_failed > 0 ? -EIO : 0;
}
