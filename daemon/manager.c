/* SPDX-License-Identifier: MIT */
/* The manager: CAs and their accounts, and the --once pass over all certificates. */

#include <stdio.h>
#include <time.h>

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

#define ACCOUNT_JSON_MAX (64 * 1024)

int manager_new(Config *config, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int k;

        m = calloc(1, sizeof *m);
        if (!m) {
                config_free(config);
                return log_oom();
        }
        m->config = config;

        k = sd_event_default(&m->event);
        if (k < 0)
                return log_error_errno(k, "Failed to allocate the event loop: %m");

        k = store_open(config->state_dir, &m->store);
        if (k < 0)
                return log_error_errno(k, "Failed to open the state directory %s: %m", config->state_dir);

        k = http_client_new(m->event, "renewd/" RENEWD_VERSION, &m->http);
        if (k < 0)
                return log_error_errno(k, "Failed to set up the HTTP client: %m");

        m->cas = calloc(config->n_cas ? config->n_cas : 1, sizeof(ManagerCa));
        if (!m->cas)
                return log_oom();
        m->n_cas = config->n_cas;
        for (size_t i = 0; i < config->n_cas; i++)
                m->cas[i].config = &config->cas[i];

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; m->active && i < m->config->max_parallel; i++)
                renewal_free(m->active[i]);
        free(m->active);
        free(m->queue);
        for (size_t i = 0; i < m->n_cas; i++) {
                acme_client_free(m->cas[i].client);
                free(m->cas[i].saved_account_url);
        }
        free(m->cas);
        http_client_free(m->http);
        store_free(m->store);
        sd_event_unref(m->event);
        config_free(m->config);
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

static void format_time(time_t t, char *buf, size_t size) {
        struct tm tm;
        if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
                snprintf(buf, size, "@%lld", (long long) t);
}

/* Why a certificate needs renewing now, or NULL if it does not (then *ret_not_after and
 * *ret_start say when it will). */
static const char *renewal_reason(Manager *m, const CertConfig *c, time_t now, time_t *ret_not_after,
                                  time_t *ret_start) {
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_strv_free_ char **sans = NULL;
        time_t nb, na;
        int k;

        k = store_load_live(m->store, c->name, &cert, NULL, NULL);
        if (k == -ENOENT)
                return "no certificate yet";
        if (k < 0) {
                log_warning_errno(k, "%s: the live certificate cannot be read, renewing: %m", c->name);
                return "live certificate unreadable";
        }
        if (x509_not_before(cert, &nb) < 0 || x509_not_after(cert, &na) < 0)
                return "live certificate has unreadable dates";
        if (x509_sans(cert, &sans) < 0 || !strv_equal_unordered(sans, c->domains))
                return "domains changed";
        if (policy_renewal_due(nb, na, now))
                return now >= na ? "expired" : "due";
        *ret_not_after = na;
        *ret_start = policy_renewal_start(nb, na);
        return NULL;
}

static void start_next(Manager *m);

static void on_renewal_done(Renewal *r, int error, void *userdata) {
        Manager *m = userdata;
        const CertConfig *c = renewal_cert(r);
        double secs = (double) renewal_duration(r) / 1e6;

        if (error < 0) {
                m->n_failed++;
                printf("%s: FAILED after %.2fs: %s\n", c->name, secs, renewal_error_text(r));
                log_error_errno(error, "%s: renewal failed: %s", c->name, renewal_error_text(r));
        } else {
                char when[64];
                format_time(renewal_not_after(r), when, sizeof when);
                m->n_renewed++;
                printf("%s: renewed in %.2fs: version %u, serial %s, expires %s\n", c->name, secs, renewal_version(r),
                       strna(renewal_serial(r)), when);
        }
        fflush(stdout);

        for (size_t i = 0; i < m->config->max_parallel; i++)
                if (m->active[i] == r)
                        m->active[i] = NULL;
        renewal_free(r);
        m->n_active--;
        start_next(m);
}

/* Start queued renewals while there is room; exit the loop when all are done. */
static void start_next(Manager *m) {
        while (m->n_active < m->config->max_parallel && m->next_queued < m->n_queue) {
                const CertConfig *c = m->queue[m->next_queued++];
                size_t slot = 0;
                int k;

                while (m->active[slot])
                        slot++;
                k = renewal_start(m, c, on_renewal_done, m, &m->active[slot]);
                if (k < 0) {
                        m->n_failed++;
                        printf("%s: FAILED: %s\n", c->name, strerror(-k));
                        continue;
                }
                m->n_active++;
        }
        if (m->n_active == 0 && m->next_queued == m->n_queue)
                (void) sd_event_exit(m->event, 0);
}

int manager_run_once(Manager *m) {
        time_t now = time(NULL);
        int k;

        m->queue = calloc(m->config->n_certs + 1, sizeof(*m->queue));
        m->active = calloc(m->config->max_parallel, sizeof(*m->active));
        if (!m->queue || !m->active)
                return log_oom();

        for (size_t i = 0; i < m->config->n_certs; i++) {
                const CertConfig *c = &m->config->certs[i];
                time_t na = 0, start = 0;
                const char *why = renewal_reason(m, c, now, &na, &start);

                if (!why) {
                        char a[64], b[64];
                        format_time(na, a, sizeof a);
                        format_time(start, b, sizeof b);
                        m->n_current++;
                        printf("%s: valid until %s, not due before %s\n", c->name, a, b);
                        continue;
                }
                log_info("%s: renewing (%s).", c->name, why);
                m->queue[m->n_queue++] = c;
        }
        fflush(stdout);

        if (m->n_queue == 0)
                return 0;

        start_next(m);
        k = sd_event_loop(m->event);
        if (k < 0)
                return log_error_errno(k, "Event loop failed: %m");

        log_debug("%u renewed, %u failed, %u current; %ld connection(s) opened", m->n_renewed, m->n_failed,
                  m->n_current, http_client_connects(m->http));
        return m->n_failed > 0 ? -EIO : 0;
}
